"""`file_id` references in a Messages body, checked against the file store as upstream does.

An image or document `source: {type: file, file_id}` and a `container_upload` block name a
file by id, in a message's content or nested in a tool_result's content (`MessagesRequest.file_ids`).
An id the store does not hold is a 404 `not_found_error` (docs/wire-notes.md, Files).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from mockbay.errors import ApiError

if TYPE_CHECKING:
    from mockbay.store import StateStore


async def check_file_sources(store: StateStore, file_ids: Iterable[str]) -> None:
    for file_id in file_ids:
        if await store.file_get(file_id) is None:
            raise ApiError(404, "not_found_error", f"File not found: {file_id}")
