"""The first step after validation: which scenario step answers a request, and with which reply.

A `Decision` is the frozen record of it (WireMock's stub mapping on its ServeEvent): the scenario
and step, the reply and its place in a `replies:` sequence, or the generate fallback with the
near misses that explain why no scenario answered. The journal copies it once (`record`); the
reply memo keeps it beside the reply it produced, so a replay journals the same findings.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from mockbay import logs
from mockbay.blocks.compaction import Compaction
from mockbay.context_edits import Managed, edited
from mockbay.errors import ApiError
from mockbay.fallback import generate_reply, strict_message
from mockbay.journal import Exchange
from mockbay.matching import Miss, NearMiss
from mockbay.matching.selector import Selection
from mockbay.scenario.model import Reply, Scenario, Step
from mockbay.server.managed import paused_reply
from mockbay.state import ServerState
from mockbay.summarize import compaction_reply
from mockbay.wire.compaction import is_compaction_request
from mockbay.wire.request import MessagesRequest


@dataclass(frozen=True, slots=True, eq=False)
class Decision:
    """Who answers: a scenario step and its reply, or (no scenario) the generated reply."""

    reply: Reply
    scenario: Scenario | None = None
    step: Step | None = None
    reply_index: int | None = None  # the position in the step's `replies:`, for a sequence
    near_misses: tuple[dict[str, Any], ...] = ()  # the journal's JSON of each, when none answered
    compaction: bool = False  # a compaction (request, or paused edit) answered by mockbay's summary
    attempts: tuple[str, ...] = ()  # server-side fallbacks: the model of each attempt (`server.fallbacks`)
    context: Managed | None = (
        None  # the context as upstream edits it (None: as sent, or a compaction request)
    )

    @property
    def sequenced(self) -> bool:
        """Whether the reply depends on how many came before it (a `replies:` sequence)."""
        return self.reply_index is not None

    def record(self, exchange: Exchange) -> None:
        """Copy the decision into the journal entry: matched step, or generated with near misses."""
        scenario, step = self.scenario, self.step
        if self.compaction:
            exchange.generated = True
            return
        if scenario is None or step is None:
            exchange.missed = exchange.generated = True
            exchange.near_misses = list(self.near_misses)
            return
        exchange.matched, exchange.scenario, exchange.step = True, scenario.name, step.label
        if step.kind == "rule":
            exchange.rule = step.index
        else:
            exchange.turn = step.index
        exchange.reply_index = self.reply_index


def near_miss_json(near: tuple[NearMiss, ...]) -> tuple[dict[str, Any], ...]:
    return tuple({"scenario": n.scenario, "file": n.file, "where": n.where, "failed": n.failed} for n in near)


async def decide(state: ServerState, parsed: MessagesRequest, exchange: Exchange) -> Decision:
    """The scenario step that answers, or the fallback (a generated reply), recorded in the journal
    entry; a refusal (the strict fallback's 400, a spent `then: error` sequence) journals what was
    found before it raises, so a test that reads the journal sees why. A compaction request is
    answered by a step whose reply is a summary (`_summarizes`), else by mockbay's
    (`mockbay.summarize`), whatever the fallback; so is a request whose `compact_20260112` edit
    pauses after compacting, without advancing a `replies:` sequence."""
    loose = state.config.fingerprints == "loose"
    outcome = state.selector.select(parsed, loose_fingerprints=loose)
    if logs.debug_enabled():
        logs.log_candidates(exchange, state.selector.explain(parsed, loose_fingerprints=loose))
    compacting = is_compaction_request(parsed.body)
    context = None if compacting else edited(parsed.body)
    compacted = context.compacted if context is not None else None
    if compacting and not _summarizes(outcome):
        decision = Decision(compaction_reply(parsed.body), compaction=True)
    elif compacted is not None and compacted.pause and not _summarizes(outcome):
        decision = Decision(paused_reply(compacted), compaction=True)
    elif isinstance(outcome, Miss):
        near = near_miss_json(outcome.near)
        if state.config.fallback == "strict" or outcome.unknown_pin is not None:
            exchange.missed, exchange.near_misses = True, list(near)
            raise ApiError(400, "invalid_request_error", strict_message(parsed, outcome))
        decision = Decision(generate_reply(parsed, state.config.seed), near_misses=near)
    elif outcome.step.reply is not None:
        decision = Decision(outcome.step.reply, outcome.scenario, outcome.step)
    else:
        decision = await _in_sequence(state, parsed.session, outcome.scenario, outcome.step, exchange)
    if context is not None:
        decision = replace(decision, context=context)
    decision.record(exchange)
    return decision


def _summarizes(outcome: Selection | Miss) -> bool:
    """Whether the chosen step answers a compaction request as upstream does: one reply of
    `compaction` blocks alone (a recording's, or a rule that scripts the summary). Any other
    reply is passed over, and a `replies:` sequence is not advanced for it."""
    if isinstance(outcome, Miss) or outcome.step.reply is None:
        return False
    content = outcome.step.reply.content
    return bool(content) and all(block.type == Compaction.TYPE for block in content)


async def _in_sequence(
    state: ServerState, session: str, scenario: Scenario, step: Step, exchange: Exchange
) -> Decision:
    """The step's next reply for this session, after its `then:` once all are served."""
    position = await state.store.advance((session, scenario.name, step.label))
    count = len(step.replies)
    if position >= count:
        if step.then == "error":
            Decision(step.replies[-1], scenario, step).record(exchange)
            raise ApiError(
                400,
                "invalid_request_error",
                f"mockbay: scenario {scenario.name!r} {step.label} has served all {count} of its "
                f"replies (then: error); reset the session to start again",
            )
        position = position % count if step.then == "cycle" else count - 1
    return Decision(step.replies[position], scenario, step, reply_index=position)
