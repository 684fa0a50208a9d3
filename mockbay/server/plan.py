"""What a reply sends and when, its fault already applied: the writers in `stream` only write.

A stream's plan is its encoded events cut where the fault strikes (`after_events` counts events
but not pings, `after_ms` is a time), with the moment the fault acts: a recording's own time for
it when it has one, else `after_ms`, else the last event sent. A trigger at or past the final
`message_delta` cuts just before it: a failed stream never tells how its message ended (no
`stop_reason`, no `message_stop`), and upstream sends nothing after a `message_stop`.
A JSON reply's plan keeps the events only for when generation would end; its fault acts at
`after_ms` (docs/scenario-contract.md §5).
A plan depends on the request alone (no request id, no server option), so a memoised stream
shares its plan, events and planned offsets, with every replay.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass

from mockbay.journal import packed_micros
from mockbay.scenario.model import Fault, Recorded
from mockbay.timing import Scheduled, recorded_fault_offset
from mockbay.wire.framing import SSE, Framing

# A JSON reply's plan sends no events, so it plans no offsets: one empty array serves them all, as
# nothing writes a plan's offsets (`Offsets` copies them before its first write).
NO_OFFSETS = packed_micros(())


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """Events to send (cut by the fault), their offsets in microseconds for the journal, and the fault."""

    due: tuple[Scheduled, ...]
    planned_micros: array[int]  # packed: journaled exchanges share it (`Offsets`), never write it
    fault: Fault | None = None
    fault_at_s: float = 0.0  # when the fault acts, from the start of the answer
    end_s: float = 0.0  # when generation would end: a JSON reply is sent then
    framing: Framing = SSE  # how the events were encoded, and how an error_event fault is
    due_bytes: int = 0  # the events' encoded size, which the journal is charged for each stream


def offset_ms(event: Scheduled) -> float:
    return round(event.offset * 1000, 3)


def stream_plan(
    events: tuple[Scheduled, ...], fault: Fault | None, recorded: Recorded | None, framing: Framing
) -> Plan:
    """The events sent before the fault, and when the fault acts."""
    cut = _cut_index(events, fault)
    due = events[:cut]
    fault_at = 0.0
    if fault is not None:
        from_recording = recorded_fault_offset(recorded, fault.after_events) if recorded else None
        if from_recording is not None:
            fault_at = from_recording
        elif fault.after_ms is not None:
            fault_at = fault.after_ms / 1000
        elif due:
            fault_at = due[-1].offset
    planned = packed_micros(offset_ms(event) for event in due)
    size = sum(len(event.data) for event in due)
    return Plan(due, planned, fault, fault_at, framing=framing, due_bytes=size)


def json_plan(events: Sequence[Scheduled], fault: Fault | None) -> Plan:
    """A JSON reply: sent when its stream would have ended, or failed at the fault's `after_ms`."""
    fault_at = (fault.after_ms or 0) / 1000 if fault is not None else 0.0
    return Plan((), NO_OFFSETS, fault, fault_at, end_s=events[-1].offset if events else 0.0)


def _cut_index(events: Sequence[Scheduled], fault: Fault | None) -> int:
    """How many planned events are sent before the fault (pings do not count toward after_events),
    at most those before the final `message_delta`."""
    if fault is None:
        return len(events)
    last = _final_delta_index(events)
    if fault.after_ms is not None:
        return min(last, sum(1 for event in events if event.offset * 1000 < fault.after_ms))
    wanted = fault.after_events or 0
    counted = 0
    for index, event in enumerate(events[:last]):
        if counted == wanted:
            return index
        counted += event.counted
    return last


def _final_delta_index(events: Sequence[Scheduled]) -> int:
    """Where the final `message_delta` is: every stream ends with it and `message_stop`, the last two
    events that are not pings (render/events.py)."""
    ends = (index for index in range(len(events) - 1, -1, -1) if events[index].counted)
    next(ends, None)  # message_stop
    return next(ends, 0)
