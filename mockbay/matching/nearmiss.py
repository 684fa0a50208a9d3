"""Near misses: for a scenario that did not answer, where it failed first and how far off it was.

Distance is the fraction of conditions that failed at the level where the scenario stopped: a
rule's or turn's `when` gives (0, 1]; a failed `match:` adds 1, so a scenario whose `match`
held always ranks nearer than one whose `match` failed. Pure.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from dataclasses import dataclass

from mockbay.errors import SourceMark
from mockbay.matching.checks import Compiled
from mockbay.matching.compile import Plan
from mockbay.matching.facts import Facts
from mockbay.scenario.model import NO_MARK, Step

KEEP = 3  # near misses reported per miss
MATCH_PENALTY = 1.0


@dataclass(frozen=True, slots=True, eq=False)
class NearMiss:
    """A scenario that did not answer: the first condition it failed, in scenario syntax."""

    scenario: str
    file: str  # where the failing part is written: `path:line:col`
    where: str  # "match", "rules[1].when", "turns[2].when", "turns[2]"
    failed: str
    distance: float


def _file(*marks: SourceMark) -> str:
    """The most specific mark the loader recorded."""
    return str(next((mark for mark in marks if mark != NO_MARK), NO_MARK))


def _when_miss(plan: Plan, step: Step, when: Compiled | None, facts: Facts) -> NearMiss | None:
    if when is None:
        return None
    failures, first = when.score(facts)
    if first is None:
        return None
    file = _file(when.mark, step.mark, plan.scenario.mark)
    return NearMiss(plan.scenario.name, file, f"{step.label}.when", first, failures / len(when.checks))


def _step_misses(plan: Plan, facts: Facts) -> Iterable[NearMiss]:
    for step, when in plan.rules:
        if (miss := _when_miss(plan, step, when, facts)) is not None:
            yield miss
    turn = facts.request.turn
    if turn < len(plan.turns):
        step, when = plan.turns[turn]
        if (miss := _when_miss(plan, step, when, facts)) is not None:
            yield miss
    elif plan.turns:
        failed = f"turn: request has {turn} assistant messages; scenario has {len(plan.turns)} turns"
        yield NearMiss(plan.scenario.name, _file(plan.scenario.mark), f"turns[{turn}]", failed, 1.0)


def near_miss(plan: Plan, facts: Facts, *, consult_match: bool) -> NearMiss:
    """Why `plan` does not answer; call it only for a scenario that did not."""
    scenario = plan.scenario
    if consult_match and plan.match is not None:
        failures, first = plan.match.score(facts)
        if first is not None:
            distance = MATCH_PENALTY + failures / len(plan.match.checks)
            return NearMiss(scenario.name, _file(plan.match.mark, scenario.mark), "match", first, distance)
    # min() keeps the first of equals: an earlier rule wins a tie, as it would be tried first.
    misses = list(_step_misses(plan, facts))
    if not misses:
        return NearMiss(
            scenario.name, _file(scenario.mark), "scenario", "scenario has no rules or turns", 1.0
        )
    return min(misses, key=lambda miss: miss.distance)


def nearest(misses: Iterable[NearMiss]) -> tuple[NearMiss, ...]:
    return tuple(heapq.nsmallest(KEEP, misses, key=lambda miss: (miss.distance, miss.scenario)))
