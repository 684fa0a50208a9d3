"""Message threads (the `message-threads-2026-08-12` beta): conversations the server holds.

A request with `thread: {type: "create"}` asks the server to hold its conversation under the
reply's `id`; one with `{type: "continue", previous_message_id: ID}` sends only the new turn's
messages (none, to resume a `pause_turn`), and the server puts the conversation held under ID
before them, with the `system` and `tools` the thread was created with, which a continue may
not send again. The SDK's tool runners thread their requests by default (docs/wire-notes.md).

`resume` turns a continue into the whole conversation before validation, so everything after it
(matching, the token estimate, the prompt cache, the reply's id) sees what an unthreaded request
of the same conversation would send, and answers alike. `hold` keeps the conversation and the
reply once rendered: the messages without their `cache_control`, since each marked the turn that
sent it first (as the SDK drops them when it sends a history itself), in the state store, capped
by `--threads-max` and `--threads-max-mb`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from mockbay.errors import ApiError
from mockbay.store import StateStore

THREAD = "thread"
CONTINUE = "continue"
# Request fields the thread keeps from its create; a continue that sends one again is refused.
CREATE_ONLY = ("system", "tools")
# Keys under which a block holds other blocks (a tool_result's content, a document's source).
_HOLDING_BLOCKS = ("content", "source")


def threaded(body: Mapping[str, Any]) -> bool:
    """Whether the request asks the server to hold its conversation (create or continue)."""
    return body.get(THREAD) is not None


async def resume(store: StateStore, body: Any) -> Any:
    """The request as the whole conversation: a continue's messages after the held ones, with
    the thread's `system` and `tools`; any other body as it is. A `thread` the schema refuses
    is left for validation to name."""
    thread = body.get(THREAD) if isinstance(body, dict) else None
    if not isinstance(thread, dict) or thread.get("type") != CONTINUE:
        return body
    previous = thread.get("previous_message_id")
    messages = body.get("messages")
    if not isinstance(previous, str) or not isinstance(messages, list):
        return body
    repeated = [field for field in CREATE_ONLY if body.get(field) is not None]
    if repeated:
        raise ApiError(
            400,
            "invalid_request_error",
            f"{repeated[0]}: cannot be sent when continuing a thread; the thread keeps the "
            f"`{repeated[0]}` it was created with",
        )
    held = await store.thread_get(previous)
    if held is None:
        raise ApiError(
            400,
            "invalid_request_error",
            f"thread.previous_message_id: no thread holds a message with id '{previous}'",
            error_code="thread_not_found",
        )
    conversation = json.loads(held)
    return {**body, **conversation["fields"], "messages": [*conversation["messages"], *messages]}


async def hold(store: StateStore, body: Mapping[str, Any], reply_id: str, content: list[Any]) -> None:
    """Keep the conversation of a threaded request (`body` as `resume` made it) and its reply's
    content blocks (JSON) under the reply's id, for the next turn to continue. The recorder holds
    upstream's replies the same way (`record/proxy.py`)."""
    fields = {field: body[field] for field in CREATE_ONLY if body.get(field) is not None}
    answer = {"role": "assistant", "content": content}
    held = {"fields": fields, "messages": [_unmarked(message) for message in [*body["messages"], answer]]}
    await store.thread_put(reply_id, json.dumps(held, separators=(",", ":")))


def _unmarked(value: Any) -> Any:
    """A message or block without the `cache_control` of any block in it, however deep; only the
    keys that hold blocks are followed, so a tool's `input` stays as it is."""
    if isinstance(value, dict):
        return {
            key: _unmarked(item) if key in _HOLDING_BLOCKS else item
            for key, item in value.items()
            if key != "cache_control"
        }
    if isinstance(value, list):
        return [_unmarked(item) for item in value]
    return value
