"""`file_id` references in a Messages body, checked against the file store as upstream does.

An image or document `source: {type: file, file_id}` and a `container_upload` block name a
file by id, in a message's content or nested in a tool_result's content. An id the store does
not hold is a 404 `not_found_error` (docs/wire-notes.md, Files).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mockbay.errors import ApiError

if TYPE_CHECKING:
    from mockbay.store import StateStore

FILE_ID_KEY = b'"file_id"'  # a body without these bytes names no file: the reply memo may answer it


def file_ids(body: Any) -> Iterator[str]:
    """Every file id the body's messages name, in order."""
    messages = body.get("messages") if isinstance(body, dict) else None
    for message in messages if isinstance(messages, list) else ():
        if isinstance(message, dict):
            yield from _in_content(message.get("content"))


def _in_content(content: Any) -> Iterator[str]:
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        source = block.get("source")
        if block.get("type") == "container_upload":
            source = block
        elif not (isinstance(source, dict) and source.get("type") == "file"):
            yield from _in_content(block.get("content"))  # a tool_result's blocks
            continue
        file_id = source.get("file_id") if isinstance(source, dict) else None
        if isinstance(file_id, str):
            yield file_id


async def check_file_sources(store: StateStore, body: Any) -> None:
    for file_id in file_ids(body):
        if await store.file_get(file_id) is None:
            raise ApiError(404, "not_found_error", f"File not found: {file_id}")
