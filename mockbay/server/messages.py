"""POST /v1/messages and /v1/messages/count_tokens: the request pipeline, top to bottom.

authenticate → parse JSON → (the reply memo, for a request answered purely before) → validate →
select a scenario step → pick the reply (sequences) → prompt accounting (estimate or simulated
cache) → rate limits → error reply or render → usage → events → schedule → send. The journal
entry is filled along the way.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from aiohttp import web

from mockbay import logs
from mockbay.config import MAX_BODY_BYTES
from mockbay.errors import ApiError
from mockbay.fallback import generate_reply, strict_message
from mockbay.files.sources import FILE_ID_KEY, check_file_sources
from mockbay.fingerprint import fingerprint
from mockbay.journal import Exchange
from mockbay.matching import Miss
from mockbay.render.content import RenderedMessage, render_message
from mockbay.render.events import build_events, message_json
from mockbay.render.usage import build_usage
from mockbay.scenario.model import Reply, Scenario, Step, Timing
from mockbay.server import provenance
from mockbay.server.auth import authenticate, require_version
from mockbay.server.memo import MemoKey, is_pure, memo_key, remember, replay
from mockbay.server.protocol import CLIENT_FAULTS
from mockbay.server.responses import dumps, json_body_response, json_response, organization_id
from mockbay.server.stream import Plan, fault_error, send_json, send_stream
from mockbay.server.upload import refuse_declared, too_large, unreadable
from mockbay.state import ServerState
from mockbay.structured import output_schema, reply_problem
from mockbay.timing import (
    EffectiveTiming,
    Scheduled,
    effective_timing,
    encode_schedule,
    make_splitter,
    recorded_fault_offset,
    schedule,
)
from mockbay.usage.cache import CacheOutcome, CachePlan
from mockbay.usage.estimate import estimate_input_tokens
from mockbay.wire.errors import pair_for
from mockbay.wire.framing import SSE, Framing
from mockbay.wire.jsonbody import parse_body, parsed_size
from mockbay.wire.request import MessagesRequest
from mockbay.wire.validate import validate_count_tokens, validate_messages

SESSION_HEADER = "x-mockbay-session"
SCENARIO_HEADER = "x-mockbay-scenario"


@dataclass(frozen=True, slots=True, kw_only=True)
class Inbound:
    """A request in first-party form, whichever wire it came in on (the platform adapters
    translate theirs): body bytes, lower-cased headers, the caller's identity (rate-limit bucket,
    organisation id), and how the reply goes back."""

    raw: bytes
    headers: dict[str, str]
    caller: str
    platform: str = "anthropic"
    framing: Framing = SSE
    session: str = ""  # when no x-mockbay-session header names one
    reply_headers: Mapping[str, str] = field(default_factory=dict)


def refuse_declared_oversize(request: web.Request) -> None:
    """Refuse a body whose declared length is over the limit before reading it, as upstream's
    edge proxy does: before authentication."""
    refuse_declared(request, MAX_BODY_BYTES)


async def read_body(request: web.Request) -> bytes:
    """The raw body; a chunked or compressed body that grows over the limit is the same 413, one
    whose chunking or compression is broken a 400."""
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise too_large() from None
    except CLIENT_FAULTS as exc:
        raise unreadable(exc) from None


def _journal_body(state: ServerState, exchange: Exchange, raw: bytes) -> Any:
    """Parse the body into the exchange, and weigh it against the journal's byte cap."""
    exchange.body = parse_body(raw)
    state.journal.charge(exchange, parsed_size(raw))
    return exchange.body


async def count_tokens(
    request: web.Request, state: ServerState, exchange: Exchange, headers: dict[str, str]
) -> web.StreamResponse:
    authenticate(headers, state.config)
    require_version(headers, state.config)
    return count_body(state, exchange, await read_body(request), headers)


def _strict(state: ServerState) -> bool:
    """Whether requests meet the SDK-generated schema (`--validation strict`) or only the classic rules."""
    return state.config.validation == "strict"


def count_body(state: ServerState, exchange: Exchange, raw: bytes, headers: dict[str, str]) -> web.Response:
    """count_tokens once authenticated, for every wire that has it."""
    body = _journal_body(state, exchange, raw)
    validate_count_tokens(body, headers, strict=_strict(state))
    return json_response({"input_tokens": estimate_input_tokens(body)})


async def create_message(
    request: web.Request, state: ServerState, exchange: Exchange, pinned: str | None, headers: dict[str, str]
) -> web.StreamResponse:
    api_key = authenticate(headers, state.config)
    require_version(headers, state.config)
    inbound = Inbound(raw=await read_body(request), headers=headers, caller=api_key)
    return await answer_message(request, state, exchange, pinned, inbound)


async def answer_message(
    request: web.Request, state: ServerState, exchange: Exchange, pinned: str | None, inbound: Inbound
) -> web.StreamResponse:
    """Answer from the reply memo when this exact request was answered purely before, else compute."""
    raw, headers, api_key, framing = inbound.raw, inbound.headers, inbound.caller, inbound.framing
    pinned = pinned or headers.get(SCENARIO_HEADER) or None
    exchange.session = headers.get(SESSION_HEADER, "") or inbound.session
    exchange.platform = inbound.platform
    response_headers = {
        "request-id": exchange.request_id,
        "anthropic-organization-id": organization_id(api_key),
        **inbound.reply_headers,
    }
    key = memo_key(state, raw, headers, pinned, inbound.platform)
    # debug logs explain every selection, so they bypass the memo that would skip it; a body naming
    # a file is checked again, as the file may be gone since
    memoized = None if logs.debug_enabled() or FILE_ID_KEY in raw else state.memo.get(key)
    if memoized is not None:
        replay(memoized, exchange)
        response_headers.update(memoized.headers)  # the reply's own, then its provenance
        if memoized.events is None:
            return json_body_response(memoized.body, response_headers)
        exchange.stream = True
        plan = Plan(
            memoized.events,
            None,
            exchange.request_id,
            state.config.max_stall_seconds,
            framing=framing,
            planned_ms=memoized.planned_ms,
        )
        return await _send_stream(request, state, plan, response_headers, exchange)
    parsed = replace(
        validate_messages(_journal_body(state, exchange, raw), headers, strict=_strict(state)),
        session=exchange.session,
        pinned=pinned,
        platform=inbound.platform,
    )
    await check_file_sources(state.store, exchange.body)
    exchange.stream = parsed.stream
    scenario, reply = await _choose_reply(state, parsed, exchange)
    response_headers.update(provenance.headers(exchange))
    return await _answer(request, state, exchange, parsed, scenario, reply, inbound, response_headers, key)


@dataclass(frozen=True, slots=True)
class Rendered:
    """A reply rendered for one request: the message, its usage, and what timing and the memo read."""

    message: RenderedMessage
    usage: dict[str, Any]
    seed: int
    fingerprint: str
    limited: bool


async def _render(
    state: ServerState,
    exchange: Exchange,
    parsed: MessagesRequest,
    scenario: Scenario | None,
    reply: Reply,
    caller: str,
    response_headers: dict[str, str],
) -> Rendered:
    """Rate limits and the prompt cache, then the message and its usage; an error reply raises."""
    seed = scenario.seed if scenario is not None and scenario.seed is not None else state.config.seed
    limits = (scenario.limits if scenario is not None else None) or state.config.rate_limits
    bucket = f"{caller}\x1f{scenario.name if scenario and scenario.limits else '*'}"
    if reply.error is not None:
        if limits is not None:
            response_headers.update(
                await state.store.admit(bucket, limits, estimate_input_tokens(parsed.body))
            )
        status, error_type = pair_for(reply.error.status, reply.error.type)
        raise ApiError(status, error_type, reply.error.message, {**response_headers, **dict(reply.headers)})

    cache_plan = await _cache_plan(state, parsed, scenario)
    prompt = cache_plan.outcome
    if limits is not None:
        charged = prompt.input_tokens + prompt.ephemeral_5m_input_tokens + prompt.ephemeral_1h_input_tokens
        response_headers.update(await state.store.admit(bucket, limits, charged))
    if cache_plan.refresh or cache_plan.writes:  # only once admitted: a refused request writes nothing
        await state.store.cache_commit(cache_plan)
    fp = fingerprint(parsed.body)
    whole_prompt = prompt.input_tokens + prompt.cache_read_input_tokens + prompt.cache_creation_input_tokens
    message = render_message(
        reply, parsed, seed=seed, fingerprint=fp, request_id=exchange.request_id, input_tokens=whole_prompt
    )
    usage = build_usage(
        prompt, message.output_tokens, reply.usage, server_tool_use=message.server_tool_use, body=parsed.body
    )
    _check_structured(exchange, parsed, message)
    if limits is not None:
        await state.store.settle(bucket, limits, usage["output_tokens"])
    return Rendered(message, usage, seed, fp, limits is not None)


def _check_structured(exchange: Exchange, parsed: MessagesRequest, message: RenderedMessage) -> None:
    """A finished answer to a request with output_config.format must be JSON valid for its schema;
    one that is not is served as scripted, with a warning in the journal and the log."""
    schema = output_schema(parsed.body)
    if schema is None or message.stop_reason != "end_turn":
        return
    problem = reply_problem(message.blocks, schema)
    if problem is not None:
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
    parsed = replace(
        validate_messages(body, headers, strict=_strict(state)), session=exchange.session, pinned=pinned
    )
    await check_file_sources(state.store, body)
    scenario, reply = await _choose_reply(state, parsed, exchange)
    if reply.batch_result is not None:
        return reply, None
    rendered = await _render(state, exchange, parsed, scenario, reply, caller, {})
    if reply.fault is not None:
        exchange.fault = reply.fault.kind
        raise fault_error(reply.fault)
    return reply, message_json(rendered.message, rendered.usage)


async def _answer(
    request: web.Request,
    state: ServerState,
    exchange: Exchange,
    parsed: MessagesRequest,
    scenario: Scenario | None,
    reply: Reply,
    inbound: Inbound,
    response_headers: dict[str, str],
    key: MemoKey,
) -> web.StreamResponse:
    """The full pipeline: limits and cache, render, usage, timing, then JSON or a stream."""
    rendered = await _render(state, exchange, parsed, scenario, reply, inbound.caller, response_headers)
    message, usage = rendered.message, rendered.usage
    timing = effective_timing(parsed.model, _timing_levels(state, scenario, reply))
    pure = is_pure(
        reply,
        stream=parsed.stream,
        timing_mode=timing.mode,
        limited=rendered.limited,
        cache_mode=_cache_mode(state, scenario),
        sequenced=exchange.reply_index is not None,
    )
    if pure and not parsed.stream:
        body = dumps(message_json(message, usage))
        remember(state, key, message.extra_headers, exchange, body=body)
        return json_body_response(body, {**response_headers, **message.extra_headers})
    response_headers.update(message.extra_headers)
    seed_material = f"{rendered.seed}:{rendered.fingerprint}:timing"
    plan = _plan(state, exchange, parsed, reply, timing, message, usage, seed_material, inbound.framing)
    if parsed.stream:
        if pure:
            remember(state, key, message.extra_headers, exchange, events=tuple(plan.events))
        return await _send_stream(request, state, plan, response_headers, exchange)
    return await send_json(request, plan, message_json(message, usage), response_headers, exchange)


async def _send_stream(
    request: web.Request, state: ServerState, plan: Plan, headers: dict[str, str], exchange: Exchange
) -> web.StreamResponse:
    """Send the stream; the journal keeps its events (the inspector, save as scenario), so they are
    weighed against its byte cap before the first one leaves (a memoised stream's are shared, and
    charged anyway)."""
    state.journal.charge(exchange, sum(len(event.data) for event in plan.events))
    return await send_stream(request, plan, headers, exchange)


def _plan(
    state: ServerState,
    exchange: Exchange,
    parsed: MessagesRequest,
    reply: Reply,
    timing: EffectiveTiming,
    message: RenderedMessage,
    usage: dict[str, Any],
    seed_material: str,
    framing: Framing,
) -> Plan:
    """Encoded events and their offsets (none for an instant JSON reply), and the fault that cuts them."""
    events: tuple[Scheduled, ...] = ()
    if parsed.stream or timing.mode != "instant":
        rng = random.Random(seed_material)
        planned = build_events(message, usage, make_splitter(timing, rng))
        events = encode_schedule(schedule(planned, timing, rng, reply.recorded), framing.event)
    return Plan(
        events=events,
        fault=reply.fault,
        request_id=exchange.request_id,
        max_stall_s=state.config.max_stall_seconds,
        fault_offset_s=(
            recorded_fault_offset(reply.recorded, reply.fault.after_events)
            if timing.mode == "recorded" and reply.fault is not None
            else None
        ),
        framing=framing,
    )


def _timing_levels(state: ServerState, scenario: Scenario | None, reply: Reply) -> list[Timing | None]:
    server = Timing(mode=state.config.timing)
    return [server, scenario.timing if scenario else None, reply.timing]


async def _choose_reply(
    state: ServerState, parsed: MessagesRequest, exchange: Exchange
) -> tuple[Scenario | None, Reply]:
    """The scenario step that answers, or the fallback (strict 400 or a generated reply)."""
    loose = state.config.fingerprints == "loose"
    outcome = state.selector.select(parsed, loose_fingerprints=loose)
    if logs.debug_enabled():
        logs.log_candidates(exchange, state.selector.explain(parsed, loose_fingerprints=loose))
    if isinstance(outcome, Miss):
        exchange.missed = True
        exchange.near_misses = [
            {"scenario": n.scenario, "file": n.file, "where": n.where, "failed": n.failed}
            for n in outcome.near
        ]
        if state.config.fallback == "strict" or outcome.unknown_pin is not None:
            raise ApiError(400, "invalid_request_error", strict_message(parsed, outcome))
        exchange.generated = True
        return None, generate_reply(parsed, state.config.seed)
    scenario, step = outcome.scenario, outcome.step
    exchange.matched, exchange.scenario, exchange.step = True, scenario.name, step.label
    if step.kind == "rule":
        exchange.rule = step.index
    else:
        exchange.turn = step.index
    return scenario, await _sequence_reply(state, parsed.session, scenario, step, exchange)


async def _sequence_reply(
    state: ServerState, session: str, scenario: Scenario, step: Step, exchange: Exchange
) -> Reply:
    """A step's single reply, or the next of its `replies:` for this session (then: ...)."""
    if step.reply is not None:
        return step.reply
    position = await state.store.advance((session, scenario.name, step.label))
    count = len(step.replies)
    if position >= count:
        if step.then == "error":
            raise ApiError(
                400,
                "invalid_request_error",
                f"mockbay: scenario {scenario.name!r} {step.label} has served all {count} of its replies "
                f"(then: error); reset the session to start again",
            )
        position = position % count if step.then == "cycle" else count - 1
    exchange.reply_index = position
    return step.replies[position]


def _cache_mode(state: ServerState, scenario: Scenario | None) -> str:
    return (scenario.cache if scenario is not None else None) or state.config.cache


async def _cache_plan(state: ServerState, parsed: MessagesRequest, scenario: Scenario | None) -> CachePlan:
    """With `cache: simulate`, how the prompt splits into fresh, read and written tokens; else all fresh."""
    if _cache_mode(state, scenario) != "simulate":
        return CachePlan(outcome=CacheOutcome(input_tokens=estimate_input_tokens(parsed.body)))
    scope = f"session:{parsed.session}" if parsed.session else "global"
    return await state.store.cache_plan(scope, parsed.body, parsed.model)
