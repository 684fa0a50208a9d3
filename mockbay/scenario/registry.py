"""`Registry`: an immutable, ordered collection of loaded scenarios.

Replaced whole on reload, never mutated, so a request in flight always sees one consistent set.
Order is priority (higher first), then name: never load order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from mockbay.errors import ScenarioError
from mockbay.scenario.model import Scenario


class Registry:
    """Scenarios by name, in selection order."""

    __slots__ = ("_by_name", "_ordered")

    def __init__(self, scenarios: Iterable[Scenario] = ()) -> None:
        by_name: dict[str, Scenario] = {}
        problems = []
        for scenario in scenarios:
            first = by_name.get(scenario.name)
            if first is not None:
                problems.append(
                    (
                        scenario.mark,
                        f"duplicate scenario name {scenario.name!r} (first defined at {first.mark})",
                    )
                )
                continue
            by_name[scenario.name] = scenario
        if problems:
            raise ScenarioError(problems)
        self._by_name = by_name
        self._ordered = tuple(sorted(by_name.values(), key=lambda s: (-s.priority, s.name)))

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
