"""`Selector`: which scenario and which rule or turn answers a request (docs/scenario-contract.md §2-3).

Built once per registry; conditions are compiled and the candidate index filled up front, so a
request costs about the same with one scenario loaded or ten thousand. On a miss it scores a
bounded number of scenarios for near misses. Pure: no I/O, no aiohttp.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from itertools import chain, islice

from mockbay.matching.compile import Plan, compile_scenario
from mockbay.matching.facts import Facts
from mockbay.matching.index import CandidateIndex
from mockbay.matching.nearmiss import NearMiss, near_miss, nearest
from mockbay.scenario.model import Conditions, Scenario, Step
from mockbay.scenario.registry import Registry
from mockbay.wire.request import MessagesRequest

NEAR_MISS_BUDGET = 256  # scenarios scored on a miss, candidates first
SIMILAR_NAMES = 3


@dataclass(frozen=True, slots=True, eq=False)
class Selection:
    """The scenario that answers, and the rule or turn within it."""

    scenario: Scenario
    step: Step


@dataclass(frozen=True, slots=True)
class Miss:
    """No scenario answered: the nearest ones, or a pinned name that is not loaded."""

    near: tuple[NearMiss, ...] = ()
    unknown_pin: str | None = None  # the pinned name, when no scenario has it
    similar_names: tuple[str, ...] = ()  # loaded names closest to `unknown_pin`


def referenced_headers(scenarios: Iterable[Scenario]) -> set[str]:
    """Every header name a `header:` condition reads, anywhere in these scenarios (lower case)."""
    names: set[str] = set()

    def visit(conditions: Conditions | None) -> None:
        while conditions is not None:
            names.update(name.lower() for name, _ in conditions.header)
            conditions = conditions.not_

    for scenario in scenarios:
        visit(scenario.match)
        for step in (*scenario.rules, *scenario.turns):
            visit(step.when)
    return names


class Selector:
    """Chooses the answer for a request among one registry's scenarios; safe to share between threads."""

    __slots__ = ("_by_name", "_index", "_plans", "header_names")

    def __init__(self, registry: Registry) -> None:
        self._plans = tuple(compile_scenario(scenario) for scenario in registry.ordered)
        self._by_name = {plan.scenario.name: plan for plan in self._plans}
        self._index = CandidateIndex(registry.ordered)
        self.header_names = tuple(sorted(referenced_headers(registry.ordered)))  # what selection reads

    def select(self, request: MessagesRequest, *, loose_fingerprints: bool = False) -> Selection | Miss:
        """The answering step; `loose_fingerprints` lets recordings match on their other conditions."""
        facts = Facts(request, loose_fingerprints=loose_fingerprints)
        if request.pinned is not None:
            return self._select_pinned(request.pinned, facts)
        tried: list[int] = []
        for rank in self._index.candidates(facts):
            plan = self._plans[rank]
            if plan.match is None or plan.match.first_failure(facts) is None:
                step = plan.answer(facts)
                if step is not None:
                    return Selection(plan.scenario, step)
            tried.append(rank)
        return Miss(self._near_misses(facts, tried))

    def explain(self, request: MessagesRequest, *, loose_fingerprints: bool = False) -> list[NearMiss]:
        """Why each scenario that does not answer this request fails (for debug logs): every
        scenario up to the near-miss budget, or the pinned one alone."""
        facts = Facts(request, loose_fingerprints=loose_fingerprints)
        consult_match = request.pinned is None
        if consult_match:
            plans: Iterable[Plan] = islice(self._plans, NEAR_MISS_BUDGET)
        else:
            pinned = self._by_name.get(request.pinned or "")
            plans = () if pinned is None else (pinned,)
        misses = []
        for plan in plans:
            match_holds = not consult_match or plan.match is None or plan.match.first_failure(facts) is None
            if not match_holds or plan.answer(facts) is None:
                misses.append(near_miss(plan, facts, consult_match=consult_match))
        return misses

    def _select_pinned(self, name: str, facts: Facts) -> Selection | Miss:
        """A pinned scenario is the only candidate, and its own `match:` is not consulted."""
        plan = self._by_name.get(name)
        if plan is None:
            import difflib  # only a mistyped pin needs it: not loaded at start-up

            similar = difflib.get_close_matches(name, self._by_name, n=SIMILAR_NAMES)
            return Miss(unknown_pin=name, similar_names=tuple(similar))
        step = plan.answer(facts)
        if step is not None:
            return Selection(plan.scenario, step)
        return Miss((near_miss(plan, facts, consult_match=False),))

    def _near_misses(self, facts: Facts, tried: list[int]) -> tuple[NearMiss, ...]:
        """Score the candidates that were tried, then other scenarios in order, up to the budget."""
        seen = set(tried)
        others = (rank for rank in range(len(self._plans)) if rank not in seen)
        ranks = islice(chain(tried, others), NEAR_MISS_BUDGET)
        return nearest(near_miss(self._plans[rank], facts, consult_match=True) for rank in ranks)
