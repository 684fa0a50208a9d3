"""`ServerState`: everything one server remembers, behind one object (one AppKey).

The registry is replaced whole on reload; session cursors, the prompt cache, rate-limit buckets,
the journal and the reply memo are the only mutable state, each with a cap. `reset()` clears all
of them and keeps the scenarios loaded.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from mockbay.config import ServerConfig
from mockbay.journal import Journal
from mockbay.matching import Selector
from mockbay.metrics import Metrics
from mockbay.scenario.registry import Registry
from mockbay.timing import Scheduled
from mockbay.usage.cache import PromptCache
from mockbay.usage.ratelimit import RateLimiter

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Lru(Generic[K, V]):
    """A thread-safe mapping of at most `max_entries`; the least recently used entry goes first."""

    def __init__(self, max_entries: int) -> None:
        self._entries: OrderedDict[K, V] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._entries.get(key)
            if value is not None:
                self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        if self._max <= 0:
            return
        with self._lock:
            self._entries[key] = value
            self._entries.move_to_end(key)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def update(self, key: K, change: Callable[[V | None], V]) -> V:
        """Store `change(current)` under `key` in one step, and return it."""
        with self._lock:
            value = change(self._entries.pop(key, None))
            self._entries[key] = value
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)
            return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True, slots=True)
class MemoizedReply:
    """A pure reply's JSON body or encoded stream, its extra headers, and what the journal found."""

    body: bytes
    events: tuple[Scheduled, ...] | None  # a stream's schedule; None for a JSON reply
    headers: tuple[tuple[str, str], ...]
    journal_fields: tuple[tuple[str, Any], ...]


class SequenceCursors:
    """How many replies each (session, scenario, step) has served; least recently used evicted."""

    def __init__(self, max_entries: int) -> None:
        self._served: Lru[tuple[str, str, str], int] = Lru(max_entries)

    def advance(self, key: tuple[str, str, str]) -> int:
        """The 0-based position of this request in the sequence, then move on."""
        return self._served.update(key, lambda served: (served or 0) + 1) - 1

    def clear(self) -> None:
        self._served.clear()


class ServerState:
    """The mutable heart of one server; handlers read it through the app's AppKey."""

    def __init__(
        self,
        config: ServerConfig,
        registry: Registry,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.memo: Lru[Hashable, MemoizedReply] = Lru(config.reply_memo_entries)
        self._config = config
        self.clock = clock
        self.wall_clock = wall_clock
        self.journal = Journal(config.journal_size)
        self.metrics = Metrics()  # counters outlive reset(), as Prometheus counters do
        self.cursors = SequenceCursors(config.max_sessions)
        self.cache = PromptCache(max_entries=config.cache_entries, clock=clock)
        self.limiter = RateLimiter(max_buckets=config.rate_limit_buckets, clock=wall_clock)
        self.internal_errors: list[str] = []
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()
        self.install(registry)

    @property
    def config(self) -> ServerConfig:
        return self._config

    @config.setter
    def config(self, config: ServerConfig) -> None:
        """A new config (a test's marker options) can change every reply: forget memoised ones."""
        self._config = config
        self.memo.clear()

    def install(self, registry: Registry) -> None:
        """Swap in a new scenario set (load, reload): one assignment, so requests see old or new."""
        self.registry, self.selector = registry, Selector(registry)
        self.memo.clear()

    def next_sequence(self) -> int:
        with self._lock:
            return next(self._sequence)

    def reset(self) -> None:
        """Clear sessions, prompt cache, rate-limit buckets, journal and errors; keep scenarios."""
        self.cursors.clear()
        self.cache.clear()
        self.limiter.clear()
        self.journal.clear()
        self.internal_errors.clear()
        self.memo.clear()
