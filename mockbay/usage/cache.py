"""A simulated upstream prompt cache (docs/wire.md §8), so `usage` shows realistic cache reads and writes.

Rules kept from upstream:
- Breakpoints are the `cache_control` markers on tools, system blocks and message blocks, in that
  order; a top-level `cache_control` (automatic caching) adds one on the last block that may carry one,
  unless that block is already marked.
- The cached prefix is everything up to and including the marked block (plus the hidden preamble of
  `estimate.Breakdown`). It is keyed by a hash of the prefix's canonical JSON without the markers (so a
  breakpoint that moves forward still finds the earlier prefix), the model and a scope (the session, or
  "global"). Prefixes that reach into the messages also hash `tool_choice` and `thinking`, whose changes
  upstream says invalidate message-level caching.
- A prefix shorter than the model's minimum (`min_cacheable_tokens`) is not cached: no read, no write.
- Lifetimes: 5 minutes (default) or 1 hour; a read refreshes the entry, and the entries of earlier
  breakpoints it covers, for their own lifetime.
- Lookback: each breakpoint hits the longest live prefix ending at it or at one of the
  `LOOKBACK_BLOCKS` block boundaries before it.
- Billing positions for mixed lifetimes: A = highest hit, B = highest 1-hour breakpoint after A,
  C = last breakpoint; reads A, 1-hour writes B - A, 5-minute writes C - B (or C - A without B).
  Whatever follows the written prefix is `input_tokens`.

Caveat: an entry is readable by the very next `apply`. Upstream makes it readable only once the first
response starts, so parallel identical requests all miss there; mockbay handles requests one after the
other on its event loop, so the second of two concurrent requests already hits.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from mockbay.usage.estimate import Segment, canonical_json, split_request
from mockbay.wire.cachemarks import AUTOMATIC, DEFAULT_TTL, LONG_TTL, Ttl, automatic_target, cache_ttl
from mockbay.wire.models import min_cacheable_tokens

TTL_SECONDS: dict[Ttl, float] = {DEFAULT_TTL: 300.0, LONG_TTL: 3600.0}
LOOKBACK_BLOCKS = 20
# Request fields whose change invalidates message-level caching (hashed into messages' prefixes).
MESSAGE_SETTINGS = ("tool_choice", "thinking")


class CacheOutcome(NamedTuple):
    """How the prompt's tokens split: fresh input, read from the cache, written to it (by lifetime).

    A named tuple rather than a frozen dataclass: every request builds one, and a tuple is built
    in C where a frozen dataclass sets each field through `object.__setattr__`."""

    input_tokens: int
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    ephemeral_5m_input_tokens: int = 0
    ephemeral_1h_input_tokens: int = 0


class CachePlan(NamedTuple):
    """A request's cache accounting before it is kept: its outcome, the hits to refresh, the writes
    (a named tuple, as `CacheOutcome`)."""

    outcome: CacheOutcome
    refresh: tuple[str, ...] = ()
    writes: tuple[tuple[str, Ttl], ...] = ()


@dataclass(slots=True, eq=False)
class _Entry:
    """One cached prefix: its lifetime (each read renews the entry for that long) and when it expires."""

    ttl: Ttl
    expires_at: float


class PromptCache:
    """Prefix hash -> lifetime, bounded to `max_entries` (least recently used evicted first)."""

    def __init__(
        self,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
        min_tokens: Mapping[str, int] | None = None,
    ) -> None:
        self._max_entries = max(1, max_entries)  # room for the prefix being written
        self._clock = clock
        self._min_tokens = dict(min_tokens or {})
        self._entries: OrderedDict[str, _Entry] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        self._entries.clear()

    def plan(self, scope: str, body: Mapping[str, Any], model: str) -> CachePlan:
        """What the request would read and write, without keeping it yet.

        The server commits only once the request is admitted, so a request refused by a rate limit
        leaves the cache as it found it (upstream bills no write for a refused request).
        """
        prefixes = prepare(scope, body, model, self._min_tokens)
        if isinstance(prefixes, CachePlan):
            return prefixes
        now = self._clock()
        return prefixes.plan(lambda key: self._live(key, now) is not None)

    def commit(self, plan: CachePlan) -> None:
        """Refresh the entries the request read and store the prefixes it wrote."""
        now = self._clock()
        self._refresh(plan.refresh, now)
        for key, ttl in plan.writes:
            self._store(key, ttl, now)

    def _live(self, key: str, now: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.expires_at <= now:
            del self._entries[key]
            return None
        return entry

    def _refresh(self, keys: Sequence[str], now: float) -> None:
        for key in keys:
            entry = self._live(key, now)
            if entry is not None:
                entry.expires_at = now + TTL_SECONDS[entry.ttl]
                self._entries.move_to_end(key)

    def _store(self, key: str, ttl: Ttl, now: float) -> None:
        if len(self._entries) >= self._max_entries:
            self._purge_expired(now)
        while len(self._entries) >= self._max_entries:
            self._entries.popitem(last=False)
        self._entries[key] = _Entry(ttl, now + TTL_SECONDS[ttl])

    def _purge_expired(self, now: float) -> None:
        for key in [k for k, e in self._entries.items() if e.expires_at <= now]:
            del self._entries[key]


@dataclass(frozen=True, slots=True, eq=False)
class Prefixes:
    """A request's cacheable prefixes: what is decided before asking which entries are live."""

    keys: tuple[str, ...]  # one hash per segment index
    breakpoints: tuple[tuple[int, Ttl], ...]  # (segment index, lifetime), long enough to cache
    ends: tuple[int, ...]  # prompt tokens up to and including each segment
    total: int

    def candidates(self) -> set[str]:
        """Every key `plan` may ask about: the breakpoints and the blocks their lookback reaches."""
        return {self.keys[k] for b, _ in self.breakpoints for k in range(max(0, b - LOOKBACK_BLOCKS), b + 1)}

    def plan(self, live: Callable[[str], bool]) -> CachePlan:
        """The outcome, the hits to refresh and the writes, given which entries are live."""
        keys = self.keys
        hit = _highest_hit(keys, [i for i, _ in self.breakpoints], live)
        refresh = [keys[i] for i, _ in self.breakpoints if i < hit] + [keys[hit]] if hit >= 0 else []
        writes = [(i, ttl) for i, ttl in self.breakpoints if i > hit]
        return CachePlan(
            outcome=_bill(self.ends, hit, writes, self.total),
            refresh=tuple(refresh),
            writes=tuple((keys[i], ttl) for i, ttl in writes),
        )


def prepare(
    scope: str, body: Mapping[str, Any], model: str, min_tokens: Mapping[str, int]
) -> Prefixes | CachePlan:
    """The request's prefixes, or its final plan already when no breakpoint is long enough to cache."""
    breakdown = split_request(body)
    segments = breakdown.segments
    ends = prefix_ends(breakdown.preamble, segments)
    breakpoints = cacheable_breakpoints(segments, ends, body, model, min_tokens)
    if not breakpoints:
        return CachePlan(outcome=CacheOutcome(input_tokens=breakdown.total))
    keys = _prefix_keys(scope, model, body, segments)
    return Prefixes(tuple(keys), tuple(breakpoints), tuple(ends), breakdown.total)


def cacheable_breakpoints(
    segments: Sequence[Segment],
    ends: Sequence[int],
    body: Mapping[str, Any],
    model: str,
    min_tokens: Mapping[str, int],
) -> list[tuple[int, Ttl]]:
    """(segment index, lifetime) of the breakpoints whose prefix is long enough to cache."""
    minimum = min_tokens.get(model, min_cacheable_tokens(model))
    return [(i, ttl) for i, ttl in _breakpoints(segments, body) if ends[i] >= minimum]


def _highest_hit(keys: Sequence[str], breakpoints: Sequence[int], live: Callable[[str], bool]) -> int:
    """Segment index of the longest live prefix any breakpoint reaches by lookback, or -1."""
    best = -1
    for b in reversed(breakpoints):
        if b <= best:
            break
        for k in range(b, max(best, b - LOOKBACK_BLOCKS - 1), -1):
            if live(keys[k]):
                best = k
                break
    return best


def _bill(ends: Sequence[int], hit: int, writes: Sequence[tuple[int, Ttl]], total: int) -> CacheOutcome:
    """Positions A (hit), B (last 1-hour write), C (last write): read A, write B - A at 1h, C - B at 5m."""
    read = covered = ends[hit] if hit >= 0 else 0
    written = {"5m": 0, "1h": 0}
    long_lived = [i for i, ttl in writes if ttl == "1h"]
    if long_lived:
        written["1h"] = ends[long_lived[-1]] - covered
        covered = ends[long_lived[-1]]
    if writes:
        written["5m"] = ends[writes[-1][0]] - covered
        covered = ends[writes[-1][0]]
    return CacheOutcome(
        input_tokens=total - covered,
        cache_read_input_tokens=read,
        cache_creation_input_tokens=written["5m"] + written["1h"],
        ephemeral_5m_input_tokens=written["5m"],
        ephemeral_1h_input_tokens=written["1h"],
    )


def _breakpoints(segments: Sequence[Segment], body: Mapping[str, Any]) -> list[tuple[int, Ttl]]:
    """(segment index, lifetime) of every breakpoint in order, the automatic one included."""
    marked: dict[int, Ttl] = {}
    for i, segment in enumerate(segments):
        if segment.cache_ttl is not None:
            marked[i] = segment.cache_ttl
    auto_ttl = cache_ttl(body.get(AUTOMATIC))
    target = automatic_target(body) if auto_ttl is not None else None
    if auto_ttl is not None and target is not None:
        last = next((i for i in range(len(segments) - 1, -1, -1) if segments[i].path == target[0]), None)
        if last is not None:  # an explicit marker there stays: validation refused another lifetime
            marked.setdefault(last, auto_ttl)
    return sorted(marked.items())


def prefix_ends(preamble: int, segments: Sequence[Segment]) -> list[int]:
    """Prompt tokens up to and including each segment."""
    ends, running = [], preamble
    for segment in segments:
        running += segment.tokens
        ends.append(running)
    return ends


def _prefix_keys(scope: str, model: str, body: Mapping[str, Any], segments: Sequence[Segment]) -> list[str]:
    """One hash per segment index: of the scope, the model and every segment up to that index."""
    digest = hashlib.sha256(canonical_json([scope, model]).encode())
    settings = canonical_json(["settings", *(body.get(name) for name in MESSAGE_SETTINGS)])
    keys, in_messages = [], False
    for segment in segments:
        if segment.section == "messages" and not in_messages:
            digest.update(settings.encode() + b"\n")
            in_messages = True
        digest.update(segment.canonical.encode() + b"\n")
        keys.append(digest.copy().hexdigest())
    return keys
