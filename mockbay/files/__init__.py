"""The Files API's in-memory side: stored files and the `file_id` sources of Messages requests."""
