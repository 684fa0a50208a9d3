"""`Registry`: an immutable, ordered collection of loaded scenarios.

Replaced whole on reload, never mutated, so a request in flight always sees one consistent set.
Order is priority (higher first), then name: never load order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from mockbay.errors import ScenarioError, SourceMark
from mockbay.scenario.model import Scenario


def duplicate_names(found: Iterable[tuple[Scenario, SourceMark]]) -> list[tuple[SourceMark, str]]:
    """Names pin scenarios, so a duplicate is reported at both places (each `(scenario, mark)`:
    where its name is written, or where it starts)."""
    problems: list[tuple[SourceMark, str]] = []
    first: dict[str, SourceMark] = {}
    for scenario, mark in found:
        if scenario.name in first:
            problems.append(
                (mark, f"duplicate scenario name '{scenario.name}'; first defined at {first[scenario.name]}")
            )
            problems.append(
                (first[scenario.name], f"scenario name '{scenario.name}' is defined again at {mark}")
            )
        else:
            first[scenario.name] = mark
    return problems


class Registry:
    """Scenarios by name, in selection order."""

    __slots__ = ("_by_name", "_ordered")

    def __init__(self, scenarios: Iterable[Scenario] = ()) -> None:
        scenarios = list(scenarios)
        problems = duplicate_names((s, s.mark) for s in scenarios)
        if problems:
            raise ScenarioError(problems)
        self._by_name = {s.name: s for s in scenarios}
        self._ordered = tuple(sorted(scenarios, key=lambda s: (-s.priority, s.name)))

    def get(self, name: str) -> Scenario | None:
        return self._by_name.get(name)

    @property
    def ordered(self) -> tuple[Scenario, ...]:
        return self._ordered

    def merged(self, more: Iterable[Scenario]) -> Registry:
        """A new registry with `more` added; a name already loaded is replaced by the new one."""
        more = list(more)
        replaced = {s.name for s in more}
        return Registry([*(s for s in self._ordered if s.name not in replaced), *more])

    def __len__(self) -> int:
        return len(self._by_name)

    def __iter__(self) -> Iterator[Scenario]:
        return iter(self._ordered)
