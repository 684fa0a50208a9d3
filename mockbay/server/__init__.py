"""Everything aiohttp: the application, its handlers, the stream writer and MockServer."""
