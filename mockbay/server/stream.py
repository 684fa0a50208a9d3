"""Send a scheduled reply: SSE events at their deadlines, or JSON when generation would end; faults.

Each event leaves at `start + offset` by the loop clock; when the loop falls behind, every event
already due goes out in one write. Faults (docs/scenario-contract.md §5) cut the plan: an `event: error`, an
abrupt close (the client sees a transport error, not a clean end), or a stall that sends nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass

from aiohttp import web

from mockbay.errors import ApiError
from mockbay.journal import Exchange
from mockbay.scenario.model import Fault
from mockbay.server.responses import NOT_SENT, dumps
from mockbay.timing import Scheduled
from mockbay.wire.errors import default_message, pair_for
from mockbay.wire.framing import SSE, Framing

STALL_POLL_S = 0.25


@dataclass(frozen=True, slots=True)
class Plan:
    """What to send and when, plus the fault that cuts it."""

    events: Sequence[Scheduled]
    fault: Fault | None
    request_id: str
    max_stall_s: float
    fault_offset_s: float | None = None  # a recording's own time for the fault, when it has one
    framing: Framing = SSE  # how the events were encoded, and how an error_event fault is
    planned_ms: Sequence[float] = ()  # the events' offsets in ms when known beforehand (a memoised stream)


def fault_error(fault: Fault) -> ApiError:
    """The error a fault reports: its own `error:` or upstream's overload."""
    spec = fault.error
    status, error_type = pair_for(spec.status if spec else None, spec.type if spec else "overloaded_error")
    message = spec.message if spec else default_message(status, error_type)
    return ApiError(status, error_type, message)


def _cut_index(plan: Plan) -> int:
    """How many planned events are sent before the fault (pings do not count toward after_events)."""
    fault = plan.fault
    if fault is None:
        return len(plan.events)
    if fault.after_ms is not None:
        return sum(1 for event in plan.events if event.offset * 1000 < fault.after_ms)
    wanted = fault.after_events or 0
    counted = 0
    for index, event in enumerate(plan.events):
        if counted == wanted:
            return index
        counted += event.counted
    return len(plan.events)


def planned_ms(plan: Plan, cut: int) -> list[float]:
    """The journal's planned offsets of the events sent; a memoised stream's are shared floats,
    so a replayed stream's entry holds only the list (8 bytes an event, not 32)."""
    if plan.planned_ms and cut == len(plan.events):
        return list(plan.planned_ms)
    return [offset_ms(event) for event in plan.events[:cut]]


def offset_ms(event: Scheduled) -> float:
    return round(event.offset * 1000, 3)


def _fault_offset(plan: Plan, cut: int) -> float:
    fault = plan.fault
    if plan.fault_offset_s is not None:
        return plan.fault_offset_s
    if fault is not None and fault.after_ms is not None:
        return fault.after_ms / 1000
    return plan.events[cut - 1].offset if cut else 0.0


async def send_stream(
    request: web.Request, plan: Plan, headers: dict[str, str], exchange: Exchange
) -> web.StreamResponse:
    """Write the stream's events at their deadlines, then apply the fault, if any."""
    response = web.StreamResponse(status=200, headers=headers)
    response.headers["content-type"] = plan.framing.content_type
    response.headers["cache-control"] = "no-cache"
    exchange.status = 200
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    start = loop.time()
    cut = _cut_index(plan)
    due = plan.events[:cut]
    exchange.planned_offsets_ms = planned_ms(plan, cut)
    exchange.sent_events = due
    position = 0
    while position < len(due):
        wait = start + due[position].offset - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        now = loop.time()
        first = position
        while position < len(due) and start + due[position].offset <= now:
            position += 1
        observed = round((loop.time() - start) * 1000, 3)
        exchange.observed_offsets_ms.extend([observed] * (position - first))
        await response.write(b"".join(event.data for event in due[first:position]))
    fault = plan.fault
    if fault is not None:
        exchange.fault = fault.kind
        await _sleep_until(loop, start + _fault_offset(plan, cut))
        if fault.kind != "error_event":
            await _stall_or_drop(request, fault, plan.max_stall_s)
            return response
        sent = plan.framing.error(fault_error(fault), plan.request_id)
        exchange.sent_events = (*due, Scheduled(_fault_offset(plan, cut), sent, True))
        await response.write(sent)
    await response.write_eof()
    return response


async def send_json(
    request: web.Request, plan: Plan, body: dict[str, object], headers: dict[str, str], exchange: Exchange
) -> web.Response:
    """A JSON reply sent when its stream would have ended; faults act as upstream would fail it."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    fault = plan.fault
    if fault is not None:
        exchange.fault = fault.kind
        await _sleep_until(loop, start + (fault.after_ms or 0) / 1000)
        if fault.kind == "error_event":
            raise fault_error(fault)
        await _stall_or_drop(request, fault, plan.max_stall_s)
        return web.Response(status=NOT_SENT)  # never written: the transport is gone
    if plan.events:
        await _sleep_until(loop, start + plan.events[-1].offset)
    response = web.Response(body=dumps(body), status=200, headers=headers)
    response.content_type = "application/json"
    return response


async def _sleep_until(loop: asyncio.AbstractEventLoop, deadline: float) -> None:
    wait = deadline - loop.time()
    if wait > 0:
        await asyncio.sleep(wait)


async def _stall(request: web.Request, max_seconds: float) -> None:
    """Send nothing until the client gives up (or the server's stall cap passes)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    while loop.time() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(STALL_POLL_S)


async def _stall_or_drop(request: web.Request, fault: Fault, max_stall_s: float) -> None:
    """A stall sends nothing until the client gives up; both then close the socket abruptly, so the
    client sees a transport error rather than a clean end. aiohttp writes nothing more after that."""
    if fault.kind == "stall":
        await _stall(request, max_stall_s)
    transport = request.transport
    if transport is not None:
        transport.abort()
