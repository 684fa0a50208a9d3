"""POST /v1/messages and /v1/messages/count_tokens: the request pipeline, top to bottom.

authenticate → parse JSON → (the reply memo, for a request answered purely before) → resume a
message thread (`threads`) → validate → decide (scenario step and reply, or the fallback:
`decision`) → admit (prompt cache and rate limits: `admission`) → render (message and usage;
cache diagnostics: `diagnostics`; a threaded conversation is held) → plan (events, schedule, the
fault's cut: `rendering`, `plan`) → send (`stream`). Each step takes and returns a value; the
journal entry records the decision once, and the memo keeps it beside the reply it produced.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import replace
from functools import partial
from types import MappingProxyType
from typing import Any, NamedTuple

from aiohttp import web

from mockbay import logs
from mockbay.config import MAX_BODY_BYTES
from mockbay.context_edits import manage
from mockbay.files.sources import check_file_sources
from mockbay.journal import OFFSETS_BYTES_PER_EVENT, Exchange, replayed_headers
from mockbay.platforms import ANTHROPIC, NAMED_BY_REQUEST_ID
from mockbay.render.events import message_json
from mockbay.render.usage import FALLBACK_CREDIT
from mockbay.scenario.model import Reply
from mockbay.server import diagnostics, fallbacks, provenance, threads
from mockbay.server.admission import admit, settle
from mockbay.server.auth import authenticate, require_version
from mockbay.server.decision import Decision, decide
from mockbay.server.memo import Memoized, MemoKey, is_pure, memo_key, remember
from mockbay.server.plan import Plan
from mockbay.server.rendering import plan, render, timing_levels
from mockbay.server.responses import JsonReply, caller_headers, dumps, json_body_response, json_response
from mockbay.server.stream import connected, fault_error, send_json, send_stream
from mockbay.server.upload import BODY_FAULTS, decoded, refuse_declared, too_large, unreadable
from mockbay.skills.sources import resolve_skills
from mockbay.state import ServerState
from mockbay.timing import effective_timing
from mockbay.usage.estimate import estimate_input_tokens
from mockbay.wire.framing import SSE, Framing
from mockbay.wire.jsonbody import parse_body, parsed_size
from mockbay.wire.request import MessagesRequest, Origin
from mockbay.wire.validate import validate_count_tokens, validate_messages

SESSION_HEADER = "x-mockbay-session"
SCENARIO_HEADER = "x-mockbay-scenario"
NO_HEADERS: Mapping[str, str] = MappingProxyType({})

# What the steps between the route and `app._answer` return: the reply, or a stream's writer still
# running. They hand the writer up unawaited, so their frames are gone while it streams (~1 KB an
# open stream, tracemalloc); `_answer` awaits it inside its error handling, as they did.
Answer = web.StreamResponse | asyncio.Task[web.StreamResponse]


class Inbound(NamedTuple):
    """A request in first-party form, whichever wire it came in on (the platform adapters
    translate theirs): body bytes (and, from an adapter, the body it parsed), lower-cased
    headers, the caller's identity (rate-limit bucket, organisation id), and how the reply goes
    back. A named tuple: one is made per request."""

    raw: bytes
    headers: dict[str, str]
    caller: str
    platform: str = ANTHROPIC
    framing: Framing = SSE
    session: str = ""  # when no x-mockbay-session header names one
    reply_headers: Mapping[str, str] = NO_HEADERS
    parsed: dict[str, Any] | None = None  # `raw` as an adapter parsed it: not parsed again


def refuse_declared_oversize(headers: Mapping[str, str]) -> None:
    """Refuse a body whose declared length is over the limit before reading it, as upstream's
    edge proxy does: before authentication."""
    refuse_declared(headers, MAX_BODY_BYTES)


async def read_body(request: web.Request) -> bytes:
    """The body, decoded as its `Content-Encoding` says; one over the limit, as sent or once
    decoded, is a 413, one whose chunking or coding is broken a 400."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large() from None
    except BODY_FAULTS as exc:
        raise unreadable(exc) from None
    return decoded(raw, request.headers, MAX_BODY_BYTES)


def _journal_body(
    state: ServerState, exchange: Exchange, raw: bytes, parsed: dict[str, Any] | None, weight: int
) -> Any:
    """Parse the body into the exchange (unless a platform adapter has: `parsed`), and charge the
    journal's byte cap its `weight` (`parsed_size(raw)`, which the memo charges too)."""
    exchange.body = parse_body(raw) if parsed is None else parsed
    state.journal.charge(exchange, weight)
    return exchange.body


async def count_tokens(
    request: web.Request, state: ServerState, exchange: Exchange, headers: dict[str, str]
) -> web.StreamResponse:
    authenticate(headers, state.config)
    require_version(headers, state.config)
    return await count_body(state, exchange, await read_body(request), headers, None)


def _strict(state: ServerState) -> bool:
    """Whether requests meet the SDK-generated schema (`--validation strict`) or only the classic rules."""
    return state.config.validation == "strict"


async def count_body(
    state: ServerState, exchange: Exchange, raw: bytes, headers: dict[str, str], parsed: dict[str, Any] | None
) -> web.Response:
    """count_tokens once authenticated, for every wire that has it: validated as a create is, the
    files it names included. `parsed`: the body an adapter parsed from `raw` and translated."""
    body = _journal_body(state, exchange, raw, parsed, parsed_size(raw))
    counted = validate_count_tokens(body, headers, strict=_strict(state))
    await check_file_sources(state.store, counted.file_ids)
    return json_response(counted_tokens(body))


def counted_tokens(body: dict[str, Any]) -> dict[str, Any]:
    """count_tokens' answer: the prompt as the clearing edits leave it (a compaction runs only
    when a reply is sampled), and, for a request with `context_management`, the count before
    them (`original_input_tokens`, the SDK's `BetaCountTokensContextManagementResponse`)."""
    managed = manage(body, compacting=False)
    counted: dict[str, Any] = {"input_tokens": estimate_input_tokens(managed.prompt)}
    if body.get("context_management") is not None:
        cleared = sum(entry["cleared_input_tokens"] for entry in managed.applied)
        counted["context_management"] = {"original_input_tokens": counted["input_tokens"] + cleared}
    return counted


async def create_message(
    request: web.Request, state: ServerState, exchange: Exchange, pinned: str | None, headers: dict[str, str]
) -> Answer:
    api_key = authenticate(headers, state.config)
    require_version(headers, state.config)
    inbound = Inbound(raw=await read_body(request), headers=headers, caller=api_key)
    return await answer_message(request, state, exchange, pinned, inbound)


async def answer_message(
    request: web.Request, state: ServerState, exchange: Exchange, pinned: str | None, inbound: Inbound
) -> Answer:
    """The pipeline's answer as aiohttp's handler sends it."""
    answer = await pipeline(request, state, exchange, pinned, inbound)
    return json_body_response(*answer) if isinstance(answer, JsonReply) else answer


async def pipeline(
    request: web.Request | None, state: ServerState, exchange: Exchange, pinned: str | None, inbound: Inbound
) -> Answer | JsonReply:
    """Answer from the reply memo when this exact request was answered purely before, else compute.
    `request` is None when the protocol answers inline (`inline`): never a stream, never a wait."""
    headers = inbound.headers
    pinned = pinned or headers.get(SCENARIO_HEADER) or None
    response_headers = begin_answer(exchange, inbound)
    key, memoized = recall(state, inbound, pinned)
    if memoized is not None:
        memoized.replay(exchange)
        response_headers.update(memoized.headers)
        if memoized.plan is None:
            return JsonReply(memoized.body, response_headers)
        exchange.stream = True
        return _send_stream(connected(request), state, memoized.plan, response_headers, exchange)
    weight = parsed_size(inbound.raw)
    body = await threads.resume(
        state.store, _journal_body(state, exchange, inbound.raw, inbound.parsed, weight)
    )
    parsed = await _validated(state, exchange, body, headers, pinned)
    exchange.stream = parsed.stream
    decision = await decide(state, parsed, exchange)
    if fallbacks.falls_back(parsed.body, decision):
        decision = await fallbacks.fall_back(
            parsed, decision, partial(_attempt, state, exchange, headers, pinned)
        )
    response_headers.update(provenance.headers(exchange))
    admission = await admit(state, parsed, decision, inbound.caller, response_headers)
    rendered = render(state, parsed, decision, admission, exchange.request_id)
    diagnosed = diagnostics.asked(parsed)
    if diagnosed:
        await diagnostics.attach(state.store, parsed, rendered.message)
    await settle(state, admission, rendered.usage["output_tokens"])
    _warn(exchange, rendered.warnings)
    timing = effective_timing(parsed.model, timing_levels(state, decision.scenario, decision))
    planned = plan(parsed, decision, rendered, timing, inbound.framing)
    reply_headers = {**admission.limit_headers, **rendered.message.extra_headers}
    response_headers.update(reply_headers)
    threaded = threads.threaded(parsed.body)
    pure = is_pure(
        decision,
        stream=parsed.stream,
        timing_mode=timing.mode,
        limited=admission.limited,
        cache_mode=admission.cache_mode,
        names_stored=bool(parsed.file_ids or parsed.custom_skills),
        threaded=threaded,
        diagnosed=diagnosed,
    )
    if threaded:
        reply = rendered.message
        await threads.hold(state.store, parsed.body, reply.id, [block.to_json() for block in reply.blocks])
    body = b"" if parsed.stream else dumps(message_json(rendered.message, rendered.usage))
    if pure:  # its headers as a replay adds them: provenance, then the reply's own
        replayed = replayed_headers(reply_headers) if reply_headers else {}  # none among provenance's
        reply_headers = {**provenance.headers(exchange), **reply_headers}
        memo_plan = planned if parsed.stream else None
        remember(
            state,
            key,
            decision,
            exchange.body,
            reply_headers,
            rendered.warnings,
            replayed=replayed,
            body_weight=weight,
            body=body,
            plan=memo_plan,
        )
    if parsed.stream:
        return _send_stream(connected(request), state, planned, response_headers, exchange)
    return await send_json(request, planned, body, response_headers, exchange, state.config.max_stall_seconds)


def begin_answer(exchange: Exchange, inbound: Inbound) -> dict[str, str]:
    """Journal the request's session and wire; the headers every answer to it carries: the
    identity headers on the wires that speak them (`NAMED_BY_REQUEST_ID`), then the wire's own."""
    exchange.session = inbound.headers.get(SESSION_HEADER, "") or inbound.session
    exchange.platform = inbound.platform
    if inbound.platform not in NAMED_BY_REQUEST_ID:
        return dict(inbound.reply_headers)
    return {
        "request-id": exchange.request_id,
        **caller_headers(inbound.headers, inbound.caller),
        **inbound.reply_headers,
    }


def recall(state: ServerState, inbound: Inbound, pinned: str | None) -> tuple[MemoKey, Memoized | None]:
    """The request's memo key, and the pure reply computed for it before if the memo keeps one.
    Debug logs explain every selection, so they bypass the memo that would skip it."""
    key = memo_key(state, inbound.raw, inbound.headers, pinned, inbound.platform)
    return key, None if logs.debug_enabled() else state.memo.get(key)


async def _validated(
    state: ServerState, exchange: Exchange, body: Any, headers: dict[str, str], pinned: str | None
) -> MessagesRequest:
    """The body validated (strict or lenient), with where it came from; files and custom skills it
    names must exist, and the skills it loads are resolved to their versions."""
    origin = Origin(exchange.session, pinned, exchange.platform)
    parsed = validate_messages(body, headers, strict=_strict(state), origin=origin)
    await check_file_sources(state.store, parsed.file_ids)
    if not parsed.container_skills:
        return parsed
    return replace(parsed, skill_versions=await resolve_skills(state.store, parsed.container_skills))


async def _attempt(
    state: ServerState, exchange: Exchange, headers: dict[str, str], pinned: str | None, body: dict[str, Any]
) -> tuple[MessagesRequest, Decision]:
    """One server-side fallback attempt: its request validated as one to its model, then decided."""
    parsed = await _validated(state, exchange, body, headers, pinned)
    return parsed, await decide(state, parsed, exchange)


def _warn(exchange: Exchange, warnings: tuple[str, ...]) -> None:
    """What in the answer a client may trip on, in the journal and the log."""
    for problem in warnings:
        exchange.warnings.append(problem)
        logs.log.warning("%s: %s", exchange.request_id, problem, extra={logs.EXCHANGE: exchange})


async def answer_in_batch(
    state: ServerState,
    exchange: Exchange,
    body: Any,
    headers: dict[str, str],
    pinned: str | None,
    caller: str,
) -> tuple[Reply, dict[str, Any] | None]:
    """One request of a Message Batch, through the same steps as a non-streamed POST /v1/messages:
    the reply chosen and, unless it scripts a batch outcome, the message JSON. Errors raise ApiError;
    a fault is the error it would report."""
    exchange.body = body
    parsed = await _validated(state, exchange, body, headers, pinned)
    decision = await decide(state, parsed, exchange)
    reply = decision.reply
    if reply.batch_result is not None:
        return reply, None
    admission = await admit(state, parsed, decision, caller, {})
    rendered = render(state, parsed, decision, admission, exchange.request_id)
    if diagnostics.asked(parsed):
        await diagnostics.attach(state.store, parsed, rendered.message)
    await settle(state, admission, rendered.usage["output_tokens"])
    _warn(exchange, rendered.warnings)
    if reply.fault is not None:
        exchange.fault = reply.fault.kind
        raise fault_error(reply.fault)
    # A batch item accepts a fallback_credit_token and ignores it: its usage reports no outcome.
    usage = {key: value for key, value in rendered.usage.items() if key != FALLBACK_CREDIT}
    return reply, message_json(rendered.message, usage)


def _send_stream(
    request: web.Request, state: ServerState, planned: Plan, headers: dict[str, str], exchange: Exchange
) -> asyncio.Task[web.StreamResponse]:
    """The stream's writer, for the caller to await; the journal keeps its events (the inspector,
    save as scenario) and their planned and observed offsets, so they are weighed against its byte
    cap before the first one leaves (a memoised stream's events are shared, and charged anyway).

    The writer runs as a task of its own: each of its wake-ups (one per event) then resumes its own
    frame, not the handler's around it, which waits once for the task's end (their resumes took 4%
    of py-spy's samples at 400 streams). It is returned unawaited up to `app._answer`
    (see `Answer`), whose awaiting keeps the handler's contract: its result, its exception, and
    its cancellation with the handler's."""
    state.journal.charge(exchange, planned.due_bytes + len(planned.due) * OFFSETS_BYTES_PER_EVENT)
    return asyncio.ensure_future(
        send_stream(request, planned, headers, exchange, state.config.max_stall_seconds)
    )
