"""The load generator's ceiling: a raw asyncio protocol that answers every request with fixed bytes.

No HTTP parsing beyond counting header terminators (the benchmark body holds no blank line), no
framework, no per-request objects: far cheaper per request than any aiohttp server, so wrk's
rate against it shows how much headroom wrk has over the figures measured against real servers.
It answers with the same JSON body as the baseline, so wrk reads the same bytes per reply.

Run: `python bench/ceiling.py --port N --payload FILE`; prints `ceiling listening on ...`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from pathlib import Path

from common import HOST


class Static(asyncio.Protocol):
    """Writes one canned response per `\\r\\n\\r\\n` seen, carrying a split terminator across reads."""

    def __init__(self, response: bytes) -> None:
        self.response = response
        self.transport: asyncio.Transport | None = None
        self.tail = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        buf = self.tail + data
        self.tail = buf[-3:]
        count = buf.count(b"\r\n\r\n")
        if count and self.transport is not None:
            self.transport.write(self.response * count)


async def serve(port: int, body: bytes) -> None:
    """Serve until SIGTERM or SIGINT."""
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    response = head.encode() + body
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Static(response), HOST, port)
    print(f"ceiling listening on http://{HOST}:{port}", flush=True)
    stopping = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await stopping.wait()
    server.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--payload", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(serve(args.port, json.loads(args.payload.read_text())["json"].encode()))


if __name__ == "__main__":
    main()
