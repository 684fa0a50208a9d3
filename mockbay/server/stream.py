"""Send a scheduled reply: SSE events at their deadlines, or JSON when generation would end; faults.

Each event leaves at `start + offset` by the loop clock; when the loop falls behind, every event
already due goes out in one write. The plan arrives cut by its fault (`plan`); the fault then
acts (docs/scenario-contract.md §5): an `event: error`, an abrupt close (the client sees a
transport error, not a clean end), or a stall that sends nothing.
"""

from __future__ import annotations

import asyncio
import math

from aiohttp import web

from mockbay.errors import ApiError
from mockbay.journal import Exchange, Offsets
from mockbay.scenario.model import Fault
from mockbay.server.plan import Plan
from mockbay.server.responses import NOT_SENT, JsonReply
from mockbay.timing import Scheduled
from mockbay.wire.errors import default_message, pair_for

STALL_POLL_S = 0.25


def fault_error(fault: Fault) -> ApiError:
    """The error a fault reports: its own `error:` or upstream's overload."""
    spec = fault.error
    status, error_type = pair_for(spec.status if spec else None, spec.type if spec else "overloaded_error")
    message = spec.message if spec else default_message(status, error_type)
    return ApiError(status, error_type, message, error_code=spec.error_code if spec else None)


async def send_stream(
    request: web.Request, plan: Plan, headers: dict[str, str], exchange: Exchange, max_stall_s: float
) -> web.StreamResponse:
    """Write the plan's events at their deadlines, then apply its fault, if any."""
    response = web.StreamResponse(status=200, headers=headers)
    response.headers.setdefault("content-type", plan.framing.content_type)  # a scenario's own wins
    response.headers.setdefault("cache-control", "no-cache")
    exchange.status = 200
    await response.prepare(request)
    loop = asyncio.get_running_loop()
    start = exchange.arrived or loop.time()
    due = plan.due
    exchange.planned_offsets_ms = Offsets(plan.planned_micros)
    exchange.sent_events = due
    observed = exchange.observed_offsets_ms
    position, count = 0, len(due)
    while position < count:
        wait = start + due[position].offset - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        now = loop.time()
        first = position
        position += 1  # due now: it was waited for
        while position < count and start + due[position].offset <= now:
            position += 1
        observed_micros = round((now - start) * 1_000_000)
        if position - first == 1:  # the usual case: the shared bytes as they are, nothing copied
            observed.record(observed_micros)
            await response.write(due[first].data)
        else:
            observed.record(observed_micros, position - first)
            await response.write(b"".join([event.data for event in due[first:position]]))
    fault = plan.fault
    if fault is not None:
        exchange.fault = fault.kind
        await _sleep_until(loop, start + plan.fault_at_s)
        if fault.kind != "error_event":
            await _stall_or_drop(request, fault, max_stall_s)
            return response
        sent = plan.framing.error(fault_error(fault), exchange.request_id)
        exchange.sent_events = (*due, Scheduled(plan.fault_at_s, sent, True))
        await response.write(sent)
    await response.write_eof()
    return response


async def send_json(
    request: web.Request | None,
    plan: Plan,
    body: bytes,
    headers: dict[str, str],
    exchange: Exchange,
    max_stall_s: float,
) -> web.Response | JsonReply:
    """A JSON reply sent when its stream would have ended; faults act as upstream would fail it.
    `request` is None when the protocol answers inline, which it does only where no reply waits or
    faults (`ServerState.never_waits`)."""
    loop = asyncio.get_running_loop()
    start = exchange.arrived or loop.time()
    fault = plan.fault
    if fault is not None:
        exchange.fault = fault.kind
        await _sleep_until(loop, start + plan.fault_at_s)
        if fault.kind == "error_event":
            raise fault_error(fault)
        await _stall_or_drop(connected(request), fault, max_stall_s)
        return web.Response(status=NOT_SENT)  # never written: the transport is gone
    await _sleep_until(loop, start + plan.end_s)
    return JsonReply(body, headers)


def connected(request: web.Request | None) -> web.Request:
    """The aiohttp request a stream or a stall writes through; an inline answer has none."""
    if request is None:
        raise RuntimeError("an inline answer cannot stream, stall or drop the connection")
    return request


async def _sleep_until(loop: asyncio.AbstractEventLoop, deadline: float) -> None:
    wait = deadline - loop.time()
    if wait > 0:
        await asyncio.sleep(wait)


async def until_client_leaves(request: web.Request, max_seconds: float = math.inf) -> None:
    """Return once the client has closed its connection (or after `max_seconds`). Polled: aiohttp
    tells a handler of a lost connection only by cancelling it (`handler_cancellation`), which
    would cancel every handler of the app at any await, not just the one waiting here."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + max_seconds
    while loop.time() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(STALL_POLL_S)


async def _stall_or_drop(request: web.Request, fault: Fault, max_stall_s: float) -> None:
    """A stall sends nothing until the client gives up (or the server's stall cap passes); both then
    close the socket abruptly, so the client sees a transport error rather than a clean end.
    aiohttp writes nothing more after that."""
    if fault.kind == "stall":
        await until_client_leaves(request, max_stall_s)
    transport = request.transport
    if transport is not None:
        transport.abort()
