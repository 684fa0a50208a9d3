"""Compile scenarios once per `Selector`: each `match:`/`when:` into checks in the key order of
docs/scenario-contract.md §3.

A request then only runs checks; `Plan.answer` is the in-scenario order of that section (rules
in file order, then turn N). Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

from mockbay.matching.checks import (
    AnyMessageCheck,
    BodyCheck,
    Check,
    Compiled,
    FingerprintCheck,
    FlagCheck,
    HasBlockCheck,
    HeaderCheck,
    NotCheck,
    TextCheck,
    ToolChoiceCheck,
    ToolResultCheck,
    ToolsCheck,
    TurnCheck,
)
from mockbay.matching.facts import Facts
from mockbay.scenario.model import Conditions, Scenario, Step
from mockbay.structured import output_schema
from mockbay.wire.request import MessagesRequest

# Request lookups per key, built once: compiling 10,000 scenarios must stay cheap.
_TEXT_KEYS = (
    ("model", attrgetter("model")),
    ("system", attrgetter("system_text")),
    ("last_user", attrgetter("last_user_text")),
)
_FLAG_KEYS = (
    ("thinking", attrgetter("thinking")),
    ("stream", attrgetter("stream")),
    ("platform", attrgetter("platform")),
    ("output_format", lambda request: output_schema(request.body) is not None),
)
_METADATA = attrgetter("metadata_user_id")


def compile_conditions(conditions: Conditions) -> Compiled:
    c = conditions
    checks: list[Check] = []
    for key, lookup in _TEXT_KEYS:
        text_matcher = getattr(c, key)
        if text_matcher is not None:
            checks.append(TextCheck(key, lookup, text_matcher))
    if c.any_message is not None:
        checks.append(AnyMessageCheck(c.any_message))
    if c.tool_result is not None:
        checks.append(ToolResultCheck(c.tool_result))
    if c.tools is not None:
        checks.append(ToolsCheck(c.tools))
    if c.tool_choice is not None:
        checks.append(ToolChoiceCheck(c.tool_choice))
    if c.has_block is not None:
        checks.append(HasBlockCheck(c.has_block))
    for key, flag in _FLAG_KEYS:
        if (value := getattr(c, key)) is not None:
            checks.append(FlagCheck(key, flag, value))
    checks.extend(HeaderCheck(name.lower(), matcher) for name, matcher in c.header)
    if c.metadata is not None:
        checks.append(TextCheck("metadata", _METADATA, c.metadata))
    if c.turn is not None:
        checks.append(TurnCheck(c.turn))
    checks.extend(BodyCheck(entry) for entry in c.body)
    if c.fingerprint is not None:
        # loose replay relaxes a fingerprint only beside a condition that still tells requests apart
        # (a turn number alone does not): an entry whose text was scrubbed away stays exact
        distinct = any(not isinstance(check, TurnCheck) for check in checks)
        checks.append(FingerprintCheck(c.fingerprint, loosenable=distinct))
    if c.not_ is not None:
        checks.append(NotCheck(compile_conditions(c.not_)))
    return Compiled(tuple(checks), c.mark)


def compile_optional(conditions: Conditions | None) -> Compiled | None:
    return None if conditions is None else compile_conditions(conditions)


def evaluate(conditions: Conditions, request: MessagesRequest) -> str | None:
    """The first failed condition of `conditions` for `request` in scenario syntax, or None if all hold."""
    return compile_conditions(conditions).first_failure(Facts(request))


@dataclass(frozen=True, slots=True, eq=False)
class Plan:
    """A scenario with its conditions compiled, once per selector."""

    scenario: Scenario
    match: Compiled | None
    rules: tuple[tuple[Step, Compiled | None], ...]
    turns: tuple[tuple[Step, Compiled | None], ...]

    def answer(self, facts: Facts) -> Step | None:
        """Rules in file order first, then turn N for a request with N assistant messages."""
        for step, when in self.rules:
            if when is None or when.first_failure(facts) is None:
                return step
        turn = facts.request.turn
        if turn < len(self.turns):
            step, when = self.turns[turn]
            if when is None or when.first_failure(facts) is None:
                return step
        return None


def compile_scenario(scenario: Scenario) -> Plan:
    return Plan(
        scenario=scenario,
        match=compile_optional(scenario.match),
        rules=tuple((step, compile_optional(step.when)) for step in scenario.rules),
        turns=tuple((step, compile_optional(step.when)) for step in scenario.turns),
    )
