"""The step after admission: the reply rendered for one request, then planned in time.

`render` gives the message (as upstream's context edits shape it: `managed`), its usage and the
warnings a client may trip on; `plan` gives what is sent and when: a stream's encoded events cut
by the reply's fault, or, for a JSON reply, when generation would end. Ids, generated text and
timing jitter all derive from the seed and the request's fingerprint, so the same request gets
the same bytes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from mockbay.render.content import RenderedMessage, render_message
from mockbay.render.events import build_events
from mockbay.render.usage import ITERATIONS, build_usage, without_omitted
from mockbay.scenario.model import Scenario, Timing
from mockbay.server.admission import Admission
from mockbay.server.decision import Decision
from mockbay.server.fallbacks import iterations
from mockbay.server.managed import compaction_usage, managed_reply
from mockbay.server.plan import Plan, json_plan, stream_plan
from mockbay.state import ServerState
from mockbay.structured import input_problems, output_schema, reply_problem, unoffered_calls
from mockbay.timing import EffectiveTiming, encode_schedule, make_splitter, schedule, server_timing
from mockbay.wire.framing import Framing
from mockbay.wire.request import FORCED_TOOL_CHOICES, MessagesRequest


@dataclass(frozen=True, slots=True, eq=False)
class Rendered:
    """A reply rendered for one request: the message, its usage, what seeds its timing, warnings."""

    message: RenderedMessage
    usage: dict[str, Any]
    timing_seed: str
    warnings: tuple[str, ...] = ()


def render(
    state: ServerState, parsed: MessagesRequest, decision: Decision, admission: Admission, request_id: str
) -> Rendered:
    """The message and its usage, with the structured-output check of a finished answer."""
    scenario, context = decision.scenario, decision.context
    reply = managed_reply(decision.reply, context)
    seed = scenario.seed if scenario is not None and scenario.seed is not None else state.config.seed
    fp = parsed.fingerprint
    message = render_message(
        reply, parsed, seed=seed, fingerprint=fp, request_id=request_id, input_tokens=admission.whole_prompt
    )
    usage = build_usage(
        admission.prompt,
        message.output_tokens,
        reply.usage,
        server_tool_use=message.server_tool_use,
        body=parsed.body,
    )
    if decision.attempts:
        usage[ITERATIONS] = iterations(decision.attempts, message, usage)
    if context is not None and context.compacted is not None:
        usage = compaction_usage(usage, message, context.compacted)
    usage = without_omitted(usage, reply.usage)
    return Rendered(message, usage, f"{seed}:{fp}:timing", _warnings(parsed, decision, message))


def _warnings(parsed: MessagesRequest, decision: Decision, message: RenderedMessage) -> tuple[str, ...]:
    """A finished answer to a request with output_config.format must be JSON valid for its schema,
    the generated call of a forced tool input valid for the tool's, and every call a tool the
    request offers; one that is not is served as it is, with a warning."""
    problems: list[str | None] = [*unoffered_calls(message.blocks, parsed.tool_names)]
    schema = output_schema(parsed.body)
    if schema is not None and message.stop_reason == "end_turn":
        problems.append(reply_problem(message.blocks, schema))
    if decision.scenario is None and parsed.tool_choice in FORCED_TOOL_CHOICES:
        problems += input_problems(message.blocks, parsed.body)
    return tuple(p for p in problems if p is not None)


def timing_levels(state: ServerState, scenario: Scenario | None, decision: Decision) -> list[Timing | None]:
    """Server, scenario and reply timing, least specific first."""
    return [server_timing(state.config.timing), scenario.timing if scenario else None, decision.reply.timing]


def plan(
    parsed: MessagesRequest,
    decision: Decision,
    rendered: Rendered,
    timing: EffectiveTiming,
    framing: Framing,
) -> Plan:
    """The events (none for an instant JSON reply), scheduled and encoded, cut by the fault."""
    reply = decision.reply
    if not parsed.stream and timing.mode == "instant":
        return json_plan((), reply.fault)
    rng = random.Random(rendered.timing_seed)
    planned = build_events(rendered.message, rendered.usage, make_splitter(timing, rng))
    events = encode_schedule(schedule(planned, timing, rng, reply.recorded), framing.event)
    if not parsed.stream:
        return json_plan(events, reply.fault)
    recorded = reply.recorded if timing.mode == "recorded" else None
    return stream_plan(events, reply.fault, recorded, framing)
