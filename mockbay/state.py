"""`ServerState`: everything one server remembers, behind one object (one AppKey).

The registry is replaced whole on reload: the scenario files' (`file_scenarios`, what `--watch`
reloads) with the admin API's loads over them (`admin_scenarios`, kept across a reload). Session
cursors, the prompt cache, rate-limit buckets, Message Batches, Files, Skills, held message
threads, cache-diagnostics fingerprints, the journal and the reply memo are the only mutable
state, each with a cap. `reset()` clears all of them and keeps the scenarios loaded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import TYPE_CHECKING

from mockbay.config import MB, ServerConfig
from mockbay.files.store import FileStore
from mockbay.journal import Journal
from mockbay.lru import Lru
from mockbay.matching import Selector
from mockbay.metrics import Metrics
from mockbay.scenario.model import Scenario
from mockbay.scenario.registry import Registry
from mockbay.store import StateStore
from mockbay.store.bounded import BoundedStore
from mockbay.store.memory import HeldBatch, HeldSkill, MemoryStore, SequenceCursors
from mockbay.timing import never_waits
from mockbay.usage.cache import PromptCache
from mockbay.usage.ratelimit import RateLimiter

if TYPE_CHECKING:
    from mockbay.server.memo import Memoized


def memo_weight(_key: Hashable, memoized: Memoized) -> int:
    return memoized.size


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
        self.memo: Lru[Hashable, Memoized] = Lru(
            config.reply_memo_entries, config.reply_memo_max_bytes, memo_weight
        )
        self._config = config
        self.clock = clock
        self.wall_clock = wall_clock
        self.journal = Journal(config.journal_size, config.journal_max_bytes)
        self.metrics = Metrics()  # counters outlive reset(), as Prometheus counters do
        self.cursors = SequenceCursors(config.max_sessions)
        self.cache = PromptCache(max_entries=config.cache_entries, clock=clock)
        self.limiter = RateLimiter(max_buckets=config.rate_limit_buckets, clock=wall_clock)
        self.batches: BoundedStore[HeldBatch] = BoundedStore(
            config.batches_max, config.batches_max_mb * MB, evict=True
        )
        self.files: FileStore = BoundedStore(config.files_max, config.files_max_mb * MB, evict=False)
        self.skills: BoundedStore[HeldSkill] = BoundedStore(
            config.skills_max, config.skills_max_mb * MB, evict=False
        )
        self.threads: BoundedStore[str] = BoundedStore(
            config.threads_max, config.threads_max_mb * MB, evict=True
        )
        self.fingerprints: BoundedStore[str] = BoundedStore(
            config.diagnostics_max, config.diagnostics_max_mb * MB, evict=True
        )
        self.internal_errors: list[str] = []
        # Requests await the store for state; `--state redis://...` swaps in a shared one at startup.
        self.local = MemoryStore(
            self.journal,
            self.cursors,
            self.cache,
            self.limiter,
            self.files,
            self.skills,
            self.batches,
            self.threads,
            self.fingerprints,
            (config.admin_scenarios_max, config.admin_scenarios_max_mb),
        )
        self.store: StateStore = self.local
        self.file_scenarios = registry
        # POST /_mockbay/scenarios loads, the latest of each name: capped by the store's count of them
        self.admin_scenarios = Registry()
        self.install(registry)

    @property
    def config(self) -> ServerConfig:
        return self._config

    @config.setter
    def config(self, config: ServerConfig) -> None:
        """A new config (a test's marker options) can change every reply: forget memoised ones."""
        self._config = config
        self.memo.clear()
        self.never_waits = never_waits(self.registry, config.timing)

    def install(self, registry: Registry) -> None:
        """Swap in a new scenario set (load, reload): one assignment, so requests see old or new."""
        self.registry, self.selector = registry, Selector(registry)
        self.memo.clear()
        # no reply can wait before its JSON answer: the protocol may compute one inline
        self.never_waits = never_waits(registry, self._config.timing)

    def load_admin(self, scenarios: list[Scenario]) -> None:
        """Install scenarios the admin API loaded (validated, and counted by the store) over the
        current set, and keep them for `reload_files`."""
        self.admin_scenarios = self.admin_scenarios.merged(scenarios)
        self.install(self.registry.merged(scenarios))

    def share_admin(self, loaded: Registry) -> None:
        """Install the admin-loaded scenarios a shared store lists (every replica's loads) over the
        scenario files, in place of this process's."""
        self.admin_scenarios = loaded
        self.install(self.file_scenarios.merged(loaded))

    def reload_files(self, registry: Registry) -> None:
        """Install the scenario files as reloaded (`--watch`) with the admin-loaded scenarios still
        over them: they did not come from the files, and the store still counts them."""
        self.file_scenarios = registry
        self.install(registry.merged(self.admin_scenarios))

    def reset(self) -> None:
        """Clear this process's sessions, prompt cache, rate-limit buckets, batches, files, skills,
        threads, fingerprints, journal and errors; keep scenarios. A shared store is reset apart
        (`await state.store.reset()`), as the admin API does."""
        self.local.clear()
        self.internal_errors.clear()
        self.memo.clear()
