"""AWS event-stream framing, the binary stream of Bedrock's invoke-with-response-stream.

A message is a prelude (total length, headers length, CRC32 of those 8 bytes), string headers,
a payload and the CRC32 of everything before it; integers are unsigned big-endian
(docs/cloud-platforms.md, "The event-stream frame"). Each Anthropic stream event travels as a
`chunk` event whose payload is `{"bytes": base64(event JSON)}`; a mid-stream error is an
`exception` message. Written here because botocore only decodes this framing and the AWS
encoder (smithy-aws-event-stream) needs Python 3.12; botocore's own parser checks it in the tests.
"""

from __future__ import annotations

import base64
import json
import struct
import zlib
from typing import Any

STRING_TYPE = 7
PRELUDE_LENGTH = 12  # total length, headers length, prelude CRC
CRC_LENGTH = 4
CHUNK_HEADERS = {":event-type": "chunk", ":content-type": "application/json", ":message-type": "event"}


def _header(name: str, value: str) -> bytes:
    encoded_name, encoded_value = name.encode(), value.encode()
    return (
        struct.pack("!B", len(encoded_name))
        + encoded_name
        + struct.pack("!BH", STRING_TYPE, len(encoded_value))
        + encoded_value
    )


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message with string headers."""
    header_bytes = b"".join(_header(name, value) for name, value in headers.items())
    total = PRELUDE_LENGTH + len(header_bytes) + len(payload) + CRC_LENGTH
    prelude = struct.pack("!II", total, len(header_bytes))
    message = prelude + struct.pack("!I", zlib.crc32(prelude)) + header_bytes + payload
    return message + struct.pack("!I", zlib.crc32(message))


def chunk(event: dict[str, Any]) -> bytes:
    """One Anthropic stream event as Bedrock sends it: a `chunk` with the event's JSON in base64."""
    raw = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    payload = json.dumps({"bytes": base64.b64encode(raw).decode("ascii")})
    return frame(CHUNK_HEADERS, payload.encode())


def exception(exception_type: str, message: str) -> bytes:
    """A mid-stream error: `:message-type exception` named by `:exception-type` (camel-cased)."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return frame(headers, json.dumps({"message": message}, ensure_ascii=False).encode())


class FrameReader:
    """Complete event-stream messages out of arbitrary byte chunks: (string headers, payload) each.

    For the recorder, which reads what a Bedrock upstream sent; CRCs are not checked (the client
    behind the recorder checks them) and headers of other types than string are skipped.
    """

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[tuple[dict[str, str], bytes]]:
        self._buffer += data
        messages = []
        while len(self._buffer) >= PRELUDE_LENGTH:
            total, headers_length = struct.unpack("!II", self._buffer[:8])
            if total < PRELUDE_LENGTH + headers_length + CRC_LENGTH:
                raise ValueError(f"not an event-stream message: total length {total}")
            if len(self._buffer) < total:
                break
            message, self._buffer = self._buffer[:total], self._buffer[total:]
            headers_end = PRELUDE_LENGTH + headers_length
            messages.append((_headers(message[PRELUDE_LENGTH:headers_end]), message[headers_end:-CRC_LENGTH]))
        return messages


# value sizes of the fixed-width header types (bool true/false, int8/16/32/64, timestamp, UUID)
_FIXED_SIZES = {0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16}


def _headers(raw: bytes) -> dict[str, str]:
    headers, at = {}, 0
    while at < len(raw):
        name_length = raw[at]
        name = raw[at + 1 : at + 1 + name_length].decode()
        kind, at = raw[at + 1 + name_length], at + 2 + name_length
        if kind in _FIXED_SIZES:
            at += _FIXED_SIZES[kind]
            continue
        (length,) = struct.unpack("!H", raw[at : at + 2])
        value, at = raw[at + 2 : at + 2 + length], at + 2 + length
        if kind == STRING_TYPE:
            headers[name] = value.decode()
    return headers
