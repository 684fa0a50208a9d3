"""The default store: one process's memory, the pipeline's state exactly as it always was.

Every method finishes without suspending, so awaiting it costs a coroutine call and no more.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from mockbay.batches.model import Batch, BatchItem
from mockbay.config import MB
from mockbay.files.store import FileInfo, FileStore, StoredFile
from mockbay.journal import Exchange, Journal
from mockbay.lru import Lru, key_digest
from mockbay.scenario.model import Limits
from mockbay.skills.model import SkillInfo
from mockbay.store import CursorKey, ScenariosFull, StateStore
from mockbay.store.bounded import BoundedStore, Page
from mockbay.usage.cache import CachePlan, PromptCache
from mockbay.usage.ratelimit import RateLimiter


class SequenceCursors:
    """How many replies each (session, scenario, step) has served; least recently used evicted.

    Keys are kept as a 16-byte digest, so an entry costs the same (about 200 bytes) however long
    the client's session header: `max_entries` bounds the bytes too.
    """

    def __init__(self, max_entries: int) -> None:
        self._served: Lru[bytes, int] = Lru(max_entries)

    def advance(self, key: CursorKey) -> int:
        """The 0-based position of this request in the sequence, then move on."""
        return self._served.update(key_digest("\x1f".join(key)), lambda served: (served or 0) + 1) - 1

    async def close(self) -> None:
        """Nothing to release."""

    def clear(self) -> None:
        self._served.clear()


@dataclass(slots=True, eq=False)
class HeldBatch:
    """A batch as this process holds it: its summary, its requests and its results' JSONL lines."""

    batch: Batch
    items: list[BatchItem]
    lines: list[bytes] = field(default_factory=list)


@dataclass(frozen=True, slots=True, eq=False)
class HeldSkill:
    """A skill as this process holds it: its metadata and each version's archive by version id."""

    info: SkillInfo
    archives: dict[str, bytes]


class MemoryStore(StateStore):
    """The state of one process; `ServerState` reaches the same objects for its sync readers."""

    name = "memory"

    def __init__(
        self,
        journal: Journal,
        cursors: SequenceCursors,
        cache: PromptCache,
        limiter: RateLimiter,
        files: FileStore,
        skills: BoundedStore[HeldSkill],
        batches: BoundedStore[HeldBatch],
        threads: BoundedStore[str],
        fingerprints: BoundedStore[str],
        scenario_caps: tuple[int, int],
    ) -> None:
        """`scenario_caps`: the admin-loaded scenarios' loads and megabytes, as in `ServerConfig`."""
        self.journal, self.cursors, self.cache, self.limiter = journal, cursors, cache, limiter
        self.files, self.skills, self.batches = files, skills, batches
        self.threads, self.fingerprints = threads, fingerprints
        self._sequence = itertools.count(1)  # next() on a count is atomic under the GIL
        self._scenario_caps = scenario_caps
        self._scenario_loads = self._scenario_bytes = 0  # the registry holds the scenarios

    async def next_sequence(self) -> int:
        return self.take_sequence()

    def take_sequence(self) -> int:
        """The next number without a wait: this store's sequence is local, so the protocol's
        inline memo hits (`server/inline.py`) can number an exchange as it is parsed."""
        return next(self._sequence)

    async def next_sequences(self, count: int) -> list[int]:
        return [next(self._sequence) for _ in range(count)]

    async def add_scenarios(self, text: str) -> None:
        """Count the load (the admin API installs it in this process: nothing to share); loads are
        kept across resets, as the scenarios are."""
        size = len(text.encode())
        max_loads, max_mb = self._scenario_caps
        if self._scenario_loads >= max_loads or self._scenario_bytes + size > max_mb * MB:
            raise ScenariosFull(max_loads, max_mb)
        self._scenario_loads += 1
        self._scenario_bytes += size

    async def refresh_scenarios(self) -> None:
        """Nothing to catch up with: this process is the only one."""

    async def advance(self, key: CursorKey) -> int:
        return self.cursors.advance(key)

    async def admit(self, bucket: str, limits: Limits, input_tokens: int) -> dict[str, str]:
        return self.limiter.admit(bucket, limits, input_tokens)

    async def settle(self, bucket: str, limits: Limits, output_tokens: int) -> None:
        self.limiter.settle(bucket, limits, output_tokens)

    async def cache_plan(self, scope: str, body: Mapping[str, Any], model: str) -> CachePlan:
        return self.cache.plan(scope, body, model)

    async def cache_commit(self, plan: CachePlan) -> None:
        self.cache.commit(plan)

    async def file_put(self, stored: StoredFile) -> None:
        self.files.put(stored.info.id, stored, len(stored.content))

    async def file_get(self, file_id: str) -> FileInfo | None:
        stored = self.files.get(file_id)
        return None if stored is None else stored.info

    async def file_content(self, file_id: str) -> bytes | None:
        stored = self.files.get(file_id)
        return None if stored is None else stored.content

    async def file_delete(self, file_id: str) -> None:
        self.files.delete(file_id)

    async def file_page(self, limit: int, after_id: str | None, before_id: str | None) -> Page[FileInfo]:
        page = self.files.page(limit, after_id=after_id, before_id=before_id)
        return Page([stored.info for stored in page.items], page.has_more)

    async def skill_put(self, info: SkillInfo, version_id: str, archive: bytes) -> None:
        held = self.skills.get(info.id)
        archives = {**(held.archives if held else {}), version_id: archive}
        self.skills.put(info.id, HeldSkill(info, archives), info.size_bytes)

    async def skill_get(self, skill_id: str) -> SkillInfo | None:
        held = self.skills.get(skill_id)
        return None if held is None else held.info

    async def skill_archive(self, skill_id: str, version_id: str) -> bytes | None:
        held = self.skills.get(skill_id)
        return None if held is None else held.archives.get(version_id)

    async def skill_drop_version(self, info: SkillInfo, version_id: str) -> None:
        held = self.skills.get(info.id)
        if held is not None:
            archives = {key: value for key, value in held.archives.items() if key != version_id}
            self.skills.put(info.id, HeldSkill(info, archives), info.size_bytes)

    async def skill_delete(self, skill_id: str) -> None:
        self.skills.delete(skill_id)

    async def skill_page(self, limit: int, after_id: str | None) -> Page[SkillInfo]:
        page = self.skills.page(limit, after_id=after_id)
        return Page([held.info for held in page.items], page.has_more)

    async def batch_create(self, batch: Batch, items: list[BatchItem]) -> None:
        self.batches.put(batch.id, HeldBatch(batch, items), batch.size)

    async def batch_get(self, batch_id: str) -> Batch | None:
        held = self.batches.get(batch_id)
        return None if held is None else held.batch  # the object itself, whose lock serves

    async def batch_items(self, batch: Batch, start: int, stop: int) -> list[BatchItem]:
        held = self.batches.get(batch.id)
        return [] if held is None else held.items[start:stop]

    async def batch_done(self, batch: Batch, lines: list[bytes]) -> bool:
        held = self.batches.get(batch.id)
        if held is None:
            return False
        held.lines += lines
        self.batches.put(batch.id, held, batch.size)
        return True

    async def batch_results(self, batch: Batch) -> list[bytes]:
        held = self.batches.get(batch.id)
        return [] if held is None else list(held.lines)

    async def batch_delete(self, batch_id: str) -> None:
        self.batches.delete(batch_id)

    async def batch_page(self, limit: int, after_id: str | None, before_id: str | None) -> Page[Batch]:
        page = self.batches.page(limit, after_id=after_id, before_id=before_id)
        return Page([held.batch for held in page.items], page.has_more)

    def batch_running(self, batch: Batch) -> AbstractAsyncContextManager[object]:
        return batch.running  # the store keeps the object itself, so its own lock serves

    async def thread_put(self, message_id: str, held: str) -> None:
        self.threads.put(message_id, held, len(held))

    async def thread_get(self, message_id: str) -> str | None:
        return self.threads.get(message_id)

    async def fingerprint_put(self, message_id: str, fingerprint: str) -> None:
        self.fingerprints.put(message_id, fingerprint, len(fingerprint))

    async def fingerprint_get(self, message_id: str) -> str | None:
        return self.fingerprints.get(message_id)

    async def record(self, *exchanges: Exchange) -> None:
        """Nothing to do: an exchange goes into the journal when it begins."""

    async def exchanges(self, after: int = -1) -> list[dict[str, Any]]:
        return [exchange.to_json() for exchange in self.journal if exchange.seq > after]

    async def unmatched(self) -> list[dict[str, Any]]:
        return [exchange.to_json() for exchange in self.journal if exchange.unmatched]

    async def exchange(self, request_id: str) -> Exchange | None:
        return next((e for e in reversed(self.journal.snapshot()) if e.request_id == request_id), None)

    async def clear_journal(self) -> None:
        self.journal.clear()

    async def reset(self) -> None:
        self.clear()

    async def close(self) -> None:
        """Nothing to release."""

    def clear(self) -> None:
        self.cursors.clear()
        self.cache.clear()
        self.limiter.clear()
        self.journal.clear()
        self.files.reset()
        self.skills.reset()
        self.batches.reset()
        self.threads.reset()
        self.fingerprints.reset()
