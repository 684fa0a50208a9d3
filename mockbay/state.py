"""`ServerState`: everything one server remembers, behind one object (one AppKey).

The registry is replaced whole on reload; session cursors, the prompt cache, rate-limit buckets
and the journal are the only mutable state, each with a cap. `reset()` clears all of them and
keeps the scenarios loaded.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from mockbay.config import ServerConfig
from mockbay.journal import Journal
from mockbay.matching import Selector
from mockbay.scenario.registry import Registry
from mockbay.usage.cache import PromptCache
from mockbay.usage.ratelimit import RateLimiter


class SequenceCursors:
    """How many replies each (session, scenario, step) has served; least recently used evicted."""

    def __init__(self, max_entries: int) -> None:
        self._served: OrderedDict[tuple[str, str, str], int] = OrderedDict()
        self._max = max_entries
        self._lock = threading.Lock()

    def advance(self, key: tuple[str, str, str]) -> int:
        """The 0-based position of this request in the sequence, then move on."""
        with self._lock:
            position = self._served.pop(key, 0)
            self._served[key] = position + 1
            while len(self._served) > self._max:
                self._served.popitem(last=False)
            return position

    def clear(self) -> None:
        with self._lock:
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
        self.config = config
        self.clock = clock
        self.wall_clock = wall_clock
        self.journal = Journal(config.journal_size)
        self.cursors = SequenceCursors(config.max_sessions)
        self.cache = PromptCache(max_entries=config.cache_entries, clock=clock)
        self.limiter = RateLimiter(max_buckets=config.rate_limit_buckets, clock=wall_clock)
        self.internal_errors: list[str] = []
        self._sequence = itertools.count(1)
        self._lock = threading.Lock()
        self.install(registry)

    def install(self, registry: Registry) -> None:
        """Swap in a new scenario set (load, reload): one assignment, so requests see old or new."""
        self.registry, self.selector = registry, Selector(registry)

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
