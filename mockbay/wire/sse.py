"""SSE framing (docs/wire.md §5.1): encode one event; parse a byte stream back into events.

Every event has an `event:` line and one `data:` line of compact JSON, ended by a blank line.
The parser is for tests and recording; it follows the SDK decoders (comments, CRLF, joined data).
"""

from __future__ import annotations

import json
from typing import Any

from mockbay.jsontext import compact


def encode_event(data: dict[str, Any]) -> bytes:
    """`event: <type>` + `data: <json>` + blank line; the event name repeats the JSON `type`."""
    payload = compact(data)
    return f"event: {data['type']}\ndata: {payload}\n\n".encode()


def parse_events(raw: bytes) -> list[tuple[str | None, dict[str, Any]]]:
    """(event name, parsed data) for every complete event in `raw`."""
    events: list[tuple[str | None, dict[str, Any]]] = []
    name: str | None = None
    data_lines: list[str] = []
    text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    for line in text.split("\n"):
        if line == "":
            if data_lines:
                events.append((name, json.loads("\n".join(data_lines))))
            name, data_lines = None, []
        elif line.startswith(":"):
            continue
        else:
            key, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if key == "event":
                name = value
            elif key == "data":
                data_lines.append(value)
    return events
