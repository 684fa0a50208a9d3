"""`mockbay record`: proxy to a real upstream and write what it answered as scenario files.

`scrub` removes credentials, `exchange` turns one exchange into a scenario reply, `writer` lays
replies out as readable YAML. Nothing here is imported by the server.
"""

from __future__ import annotations

from mockbay.record.exchange import Exchange, TimedEvent, reply_for
from mockbay.record.scrub import MARKER, Scrubber
from mockbay.record.writer import FORMAT_VERSION, Recording, group_name, write_atomic

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
