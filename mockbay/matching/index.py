"""`CandidateIndex`: which scenarios could answer a request, without trying every one.

Each scenario gets one gate, a condition it cannot answer without: its `match.fingerprint`, the
fingerprints of its turns (a recording: turns only, each keyed by fingerprint), its exact
`match.last_user` text, its literal `match.model`, its model pattern (glob or regex, evaluated
once per distinct model name of at most `MEMO_KEY_CHARS` characters: requests choose model names,
so the memo keeps `MODEL_MEMO_SIZE` x 256 characters at most, and a longer name is evaluated
every time), or nothing (tried for every request). Gates only prune: the
selector still evaluates every condition of a candidate, so the index can never change which
scenario answers. Candidates come out by rank (position in the registry's priority-then-name
order), never by load order. Pure.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Sequence

from mockbay.lru import MEMO_KEY_CHARS
from mockbay.matching.facts import Facts
from mockbay.scenario.model import Scenario
from mockbay.textmatch import AnyOf, Equals, Glob, TextMatcher

MODEL_MEMO_SIZE = 1024  # distinct model names remembered; requests choose them, so bound it


def literal_models(matcher: TextMatcher) -> tuple[str, ...] | None:
    """The exact texts a matcher accepts (model names, last user texts), or None for a real pattern."""
    if isinstance(matcher, Equals):
        return (matcher.value,)
    if isinstance(matcher, Glob) and not any(ch in matcher.pattern for ch in "*?["):
        return (matcher.pattern,)
    if isinstance(matcher, AnyOf):
        names: list[str] = []
        for item in matcher.items:
            literal = literal_models(item)
            if literal is None:
                return None
            names.extend(literal)
        return tuple(dict.fromkeys(names))
    return None


def gate_fingerprints(scenario: Scenario) -> tuple[str, ...] | None:
    """Fingerprints one of which a request must have for this scenario to answer it, if any."""
    if scenario.match is not None and scenario.match.fingerprint is not None:
        return (scenario.match.fingerprint,)
    if scenario.rules or not scenario.turns:
        return None
    keys = [turn.when.fingerprint if turn.when is not None else None for turn in scenario.turns]
    if any(key is None for key in keys):
        return None
    return tuple(dict.fromkeys(key for key in keys if key is not None))


class CandidateIndex:
    """Ranks of the scenarios whose gate a request passes, ascending."""

    __slots__ = (
        "_always",
        "_by_fingerprint",
        "_by_last_user",
        "_by_model",
        "_fingerprinted",
        "_model_memo",
        "_model_patterns",
    )

    def __init__(self, ordered: Sequence[Scenario]) -> None:
        self._always: list[int] = []
        self._by_fingerprint: dict[str, list[int]] = {}
        self._fingerprinted: list[int] = []  # every fingerprint-gated rank, for loose replay
        self._by_model: dict[str, list[int]] = {}
        self._by_last_user: dict[str, list[int]] = {}
        self._model_patterns: list[tuple[int, TextMatcher]] = []
        self._model_memo: dict[str, tuple[int, ...]] = {}
        for rank, scenario in enumerate(ordered):
            self._add(rank, scenario)

    def _add(self, rank: int, scenario: Scenario) -> None:
        keys = gate_fingerprints(scenario)
        if keys is not None:
            for key in keys:
                self._by_fingerprint.setdefault(key, []).append(rank)
            self._fingerprinted.append(rank)
            return
        last_user = scenario.match.last_user if scenario.match is not None else None
        texts = literal_models(last_user) if last_user is not None else None
        if texts is not None:
            for text in texts:
                self._by_last_user.setdefault(text, []).append(rank)
            return
        model = scenario.match.model if scenario.match is not None else None
        if model is None:
            self._always.append(rank)
            return
        names = literal_models(model)
        if names is None:
            self._model_patterns.append((rank, model))
            return
        for name in names:
            self._by_model.setdefault(name, []).append(rank)

    def _pattern_hits(self, model: str) -> tuple[int, ...]:
        hits = self._model_memo.get(model)
        if hits is None:
            hits = tuple(rank for rank, matcher in self._model_patterns if matcher.matches(model))
            if len(model) <= MEMO_KEY_CHARS:
                if len(self._model_memo) >= MODEL_MEMO_SIZE:
                    self._model_memo.clear()
                self._model_memo[model] = hits
        return hits

    def candidates(self, facts: Facts) -> Iterator[int]:
        model = facts.request.model
        lists: list[Sequence[int]] = [self._always, self._by_model.get(model, ())]
        if self._model_patterns:
            lists.append(self._pattern_hits(model))
        if self._by_last_user and facts.request.last_user_text is not None:
            lists.append(self._by_last_user.get(facts.request.last_user_text, ()))
        if facts.loose_fingerprints:
            lists.append(self._fingerprinted)
        elif self._by_fingerprint:
            lists.append(self._by_fingerprint.get(facts.fingerprint, ()))
        present = [ranks for ranks in lists if ranks]
        if len(present) == 1:
            return iter(present[0])
        return heapq.merge(*present)
