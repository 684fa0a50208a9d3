"""A stable hash of a normalised request, shared by matching and recording.

Stable across what does not change the answer: key order, whitespace, the `stream` flag (the
same reply is served as JSON or SSE), `metadata` (per-user ids) and every HTTP header. Assistant
content blocks keep only the fields mockbay renders: a real reply's `citations: null` or
`caller` come back from the client on the next turn when recording, but not when replaying.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

IGNORED_FIELDS = frozenset({"stream", "metadata"})
RENDERED_BLOCK_FIELDS = frozenset(
    {"type", "text", "thinking", "signature", "data", "id", "name", "input", "cache_control"}
)


def fingerprint(body: dict[str, Any]) -> str:
    """16 hex characters identifying the request's content."""
    normalised = {k: v for k, v in body.items() if k not in IGNORED_FIELDS}
    messages = normalised.get("messages")
    if isinstance(messages, list):
        normalised["messages"] = [_message(m) for m in messages]
    canonical = json.dumps(normalised, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _message(message: Any) -> Any:
    if not isinstance(message, dict) or message.get("role") != "assistant":
        return message
    content = message.get("content")
    if not isinstance(content, list):
        return message
    blocks = [
        {k: v for k, v in b.items() if k in RENDERED_BLOCK_FIELDS and v is not None}
        if isinstance(b, dict)
        else b
        for b in content
    ]
    return {**message, "content": blocks}
