"""`mockbay record`: proxy to a real upstream and write what it answered as scenario files.

`scrub` removes credentials, `exchange` turns one exchange into a scenario reply, `writer` lays
replies out as readable YAML. Nothing here is imported by the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mockbay.record.exchange import Exchange, TimedEvent, reply_for
    from mockbay.record.scrub import MARKER, Scrubber
    from mockbay.record.writer import FORMAT_VERSION, Recording, group_name, write_atomic

# Loaded on first use (PEP 562): `mockbay serve` imports `record.cli` to list the subcommand's
# options, and must not pay for the recorder's modules before its first reply.
_HOMES = {
    "Exchange": "exchange",
    "TimedEvent": "exchange",
    "reply_for": "exchange",
    "MARKER": "scrub",
    "Scrubber": "scrub",
    "FORMAT_VERSION": "writer",
    "Recording": "writer",
    "group_name": "writer",
    "write_atomic": "writer",
}

__all__ = [
    "FORMAT_VERSION",
    "MARKER",
    "Exchange",
    "Recording",
    "Scrubber",
    "TimedEvent",
    "group_name",
    "reply_for",
    "write_atomic",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"mockbay.record.{home}"), name)
