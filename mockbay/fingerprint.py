"""A stable hash of a normalised request, shared by matching and recording.

Stable across what does not change the answer: key order, whitespace, the `stream` flag (the
same reply is served as JSON or SSE), `metadata` (per-user ids) and every HTTP header. An
assistant content block keeps the fields its kind names (`BlockKind.FINGERPRINTED`) and no
null: a real reply's `citations: null` or `caller` come back from the client on the next turn
when recording, but not always when replaying. A block of a kind mockbay has no class for keeps
every field.
"""

from __future__ import annotations

import hashlib
from typing import Any

from mockbay.blocks import KINDS
from mockbay.jsontext import canonical

# `thread` too: a continued thread is fingerprinted as its whole conversation (server/threads.py),
# so it answers as the same conversation sent unthreaded does.
IGNORED_FIELDS = frozenset({"stream", "metadata", "thread"})
DIGITS = 16  # hex digits kept of the SHA-256: enough to tell a recording's requests apart
PATTERN = f"[0-9a-f]{{{DIGITS}}}"  # every fingerprint made here; a `fingerprint:` condition too


def fingerprint(body: dict[str, Any]) -> str:
    """`DIGITS` lowercase hex characters identifying the request's content."""
    normalised = {k: v for k, v in body.items() if k not in IGNORED_FIELDS}
    messages = normalised.get("messages")
    if isinstance(messages, list):
        normalised["messages"] = [_message(m) for m in messages]
    return hashlib.sha256(canonical(normalised).encode()).hexdigest()[:DIGITS]


def _message(message: Any) -> Any:
    if not isinstance(message, dict) or message.get("role") != "assistant":
        return message
    content = message.get("content")
    if not isinstance(content, list):
        return message
    return {**message, "content": [_block(b) for b in content]}


def _block(block: Any) -> Any:
    if not isinstance(block, dict):
        return block
    kind = KINDS.get(str(block.get("type")))
    kept = kind.FINGERPRINTED if kind is not None else None
    return {k: v for k, v in block.items() if v is not None and (kept is None or k in kept)}
