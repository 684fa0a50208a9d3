"""How a stream's events are framed on the wire: first-party SSE, or Bedrock's AWS event-stream.

The pipeline plans the same events for every platform; only this last step differs, so the
framing travels with the plan (and with a memoised stream, whose events are stored encoded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mockbay.errors import ApiError
from mockbay.wire.errors import error_body
from mockbay.wire.sse import encode_event


@dataclass(frozen=True, slots=True, eq=False)
class Framing:
    """The stream's content type, how one event is encoded, and how a mid-stream error is."""

    content_type: str
    event: Callable[[dict[str, Any]], bytes]
    error: Callable[[ApiError, str], bytes]  # (error, request id) -> the bytes that end the stream


def _sse_error(error: ApiError, request_id: str) -> bytes:
    return encode_event(error_body(error.type, error.message, request_id, error.error_code))


SSE = Framing("text/event-stream; charset=utf-8", encode_event, _sse_error)
