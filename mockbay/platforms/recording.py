"""What `mockbay record` needs to know of the cloud wires: which requests are messages (in
first-party form, as the replaying server will match them), and the events of a Bedrock stream.

Bedrock is recordable with a Bedrock API key (Bearer), which the proxy forwards as it is; a SigV4
signature covers the upstream's host name and fails behind a proxy (docs/cloud-platforms.md).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from mockbay.errors import ApiError
from mockbay.platforms import ANTHROPIC, BEDROCK, VERTEX, bedrock, vertex
from mockbay.wire.eventstream import FrameReader

# a mid-stream exception frame as the Anthropic error type that replays as the same frame
EXCEPTION_ERRORS = {
    "throttlingException": "rate_limit_error",
    "serviceUnavailableException": "overloaded_error",
    "validationException": "invalid_request_error",
    "modelTimeoutException": "timeout_error",
}


def recordable_body(raw_path: str, raw: bytes) -> dict[str, Any] | None:
    """A Bedrock or Vertex messages request in first-party form, or None for anything else
    (count-tokens, a body the platform would refuse). Takes the raw path: an ARN keeps its `%2F`."""
    path = raw_path.partition("?")[0]
    found = bedrock.ROUTE.search(path)
    if found is None:
        return vertex.recordable_body(path, raw)
    try:
        return bedrock.first_party(found, raw, {})[0]
    except ApiError:
        return None


def platform_of(raw_path: str) -> str:
    """The wire a recorded request came in on: a replay answers its errors in that wire's shape."""
    path = raw_path.partition("?")[0]
    if bedrock.ROUTE.search(path):
        return BEDROCK
    return VERTEX if vertex.ROUTE.search(path) else ANTHROPIC


class EventStreamSplitter:
    """Anthropic stream events out of a Bedrock event-stream, chunk by chunk; an exception frame
    becomes the `error` event a first-party stream would carry."""

    def __init__(self) -> None:
        self._reader = FrameReader()

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        try:
            return [_event(headers, payload) for headers, payload in self._reader.feed(chunk)]
        except (ValueError, KeyError, TypeError):  # not Bedrock's framing: passed on, not recorded
            return []

    def flush(self) -> list[dict[str, Any]]:
        return []


def _event(headers: dict[str, str], payload: bytes) -> dict[str, Any]:
    if headers.get(":message-type") == "exception":
        error = EXCEPTION_ERRORS.get(headers.get(":exception-type", ""), "api_error")
        return {"type": "error", "error": {"type": error, "message": json.loads(payload)["message"]}}
    event: dict[str, Any] = json.loads(base64.b64decode(json.loads(payload)["bytes"]))
    return event
