"""Where a server keeps what requests change: in memory (one process) or in Redis (shared).

`StateStore` is the one interface the request pipeline awaits for state: the request sequence,
`replies:` cursors, rate-limit buckets, the simulated prompt cache, files, skills, Message
Batches, held message threads, cache-diagnostics fingerprints and the journal. The memory
store is today's behaviour and the default; `--state redis://HOST:PORT/DB` shares all of it
between replicas and `--workers` processes (mockbay/store/redis_store.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from mockbay.errors import ApiError
from mockbay.journal import Exchange
from mockbay.scenario.model import Limits
from mockbay.store.bounded import Page
from mockbay.usage.cache import CachePlan

if TYPE_CHECKING:  # files/store.py imports this package's bounded.py
    from mockbay.batches.model import Batch, BatchItem
    from mockbay.files.store import FileInfo, StoredFile
    from mockbay.skills.model import SkillInfo

CursorKey = tuple[str, str, str]  # (session, scenario, step label)


class StoreUnavailable(ApiError):
    """The shared store did not answer: upstream's 503 `api_error`, naming the store."""

    def __init__(self, store: str, reason: str) -> None:
        super().__init__(503, "api_error", f"mockbay: the state store {store} is unavailable ({reason})")


class ScenariosFull(ApiError):
    """An admin load over `--admin-scenarios-max` or `--admin-scenarios-max-mb`: refused, not made
    room for by dropping an earlier load, since a test may still rely on every scenario it loaded."""

    def __init__(self, max_loads: int, max_mb: int) -> None:
        super().__init__(
            413,
            "request_too_large",
            f"mockbay: at most {max_loads} scenario loads and {max_mb} MB of their YAML are kept "
            "(--admin-scenarios-max, --admin-scenarios-max-mb); put the scenarios in files instead",
        )


class StateStore(ABC):
    """What requests share; every method may raise `StoreUnavailable`."""

    name: str  # "memory", or the store's URL without credentials, for messages and logs

    @abstractmethod
    async def next_sequence(self) -> int:
        """A number no other exchange of this store has had: the journal order and the request id."""

    @abstractmethod
    async def next_sequences(self, count: int) -> list[int]:
        """`count` such numbers at once, in order (a batch's due requests, in one round trip)."""

    @abstractmethod
    async def add_scenarios(self, text: str) -> None:
        """Count scenarios loaded through the admin API (already validated) against their caps
        (`ScenariosFull` beyond, nothing changed) and share them with every replica."""

    @abstractmethod
    async def refresh_scenarios(self) -> None:
        """Install the admin-loaded scenarios other replicas added since this one last looked (as
        `next_sequence` does), for the admin API, which takes no sequence number."""

    @abstractmethod
    async def advance(self, key: CursorKey) -> int:
        """The 0-based position of this request in its `replies:` sequence, then move on (atomic)."""

    @abstractmethod
    async def admit(self, bucket: str, limits: Limits, input_tokens: int) -> dict[str, str]:
        """Charge one request and its input tokens: the rate-limit headers, or a 429 `ApiError`."""

    @abstractmethod
    async def settle(self, bucket: str, limits: Limits, output_tokens: int) -> None:
        """Charge the output tokens a reply produced."""

    @abstractmethod
    async def cache_plan(self, scope: str, body: Mapping[str, Any], model: str) -> CachePlan:
        """The simulated prompt cache's reads and writes for a request, not kept yet."""

    @abstractmethod
    async def cache_commit(self, plan: CachePlan) -> None:
        """Keep a plan's reads (refresh) and writes, once the request is admitted."""

    @abstractmethod
    async def file_put(self, stored: StoredFile) -> None:
        """Keep an uploaded file; `StoreFull` over `--files-max` or `--files-max-mb` (upstream's quota)."""

    @abstractmethod
    async def file_get(self, file_id: str) -> FileInfo | None:
        """A file's metadata, without reading its bytes."""

    @abstractmethod
    async def file_content(self, file_id: str) -> bytes | None:
        """A file's bytes (a download), or None when it is gone."""

    @abstractmethod
    async def file_delete(self, file_id: str) -> None: ...

    @abstractmethod
    async def file_page(self, limit: int, after_id: str | None, before_id: str | None) -> Page[FileInfo]:
        """Newest first; `UnknownCursor` for a cursor that names no file."""

    @abstractmethod
    async def skill_put(self, info: SkillInfo, version_id: str, archive: bytes) -> None:
        """Keep a skill (new, or replacing what was kept of it) and one new version's archive;
        `StoreFull`, nothing changed, over `--skills-max` or `--skills-max-mb`."""

    @abstractmethod
    async def skill_get(self, skill_id: str) -> SkillInfo | None:
        """A skill and its versions' metadata, without reading their archives."""

    @abstractmethod
    async def skill_archive(self, skill_id: str, version_id: str) -> bytes | None:
        """A version's files as a zip archive (its download), or None when it is gone."""

    @abstractmethod
    async def skill_drop_version(self, info: SkillInfo, version_id: str) -> None:
        """Keep `info` (the skill without that version) and drop the version's archive."""

    @abstractmethod
    async def skill_delete(self, skill_id: str) -> None:
        """Drop a skill with every version it still has."""

    @abstractmethod
    async def skill_page(self, limit: int, after_id: str | None) -> Page[SkillInfo]:
        """Uploaded skills, newest first; `UnknownCursor` for a cursor that names none."""

    @abstractmethod
    async def batch_create(self, batch: Batch, items: list[BatchItem]) -> None:
        """Keep a new batch and its requests; the oldest others go beyond `--batches-max` or
        `--batches-max-mb`."""

    @abstractmethod
    async def batch_get(self, batch_id: str) -> Batch | None:
        """A batch's summary, without its requests or results (what a status poll needs)."""

    @abstractmethod
    async def batch_items(self, batch: Batch, start: int, stop: int) -> list[BatchItem]:
        """The requests from `start` to before `stop`: fewer at the end, none for a batch gone."""

    @abstractmethod
    async def batch_done(self, batch: Batch, lines: list[bytes]) -> bool:
        """Keep the summary, with the JSONL lines of the requests it has run since it was last kept
        (see `Batch.add`); False, and nothing kept, for a batch deleted or evicted since it was read."""

    @abstractmethod
    async def batch_results(self, batch: Batch) -> list[bytes]:
        """The JSONL lines of the requests run (`Batch.done`), in order."""

    @abstractmethod
    async def batch_delete(self, batch_id: str) -> None: ...

    @abstractmethod
    async def batch_page(self, limit: int, after_id: str | None, before_id: str | None) -> Page[Batch]:
        """Summaries, newest first; `UnknownCursor` for a cursor that names no batch."""

    @abstractmethod
    def batch_running(self, batch: Batch) -> AbstractAsyncContextManager[object]:
        """Held while a batch's due requests run, so each runs once whichever replica reads it."""

    @abstractmethod
    async def thread_put(self, message_id: str, held: str) -> None:
        """Hold a thread's conversation (JSON text) under the reply that ends it; the oldest others
        go beyond `--threads-max` or `--threads-max-mb`."""

    @abstractmethod
    async def thread_get(self, message_id: str) -> str | None:
        """The conversation held under a reply's id, or None (never held, or dropped by a cap)."""

    @abstractmethod
    async def fingerprint_put(self, message_id: str, fingerprint: str) -> None:
        """Keep a cache-diagnostics fingerprint (JSON text) under the reply's id; the oldest others
        go beyond `--diagnostics-max` or `--diagnostics-max-mb`."""

    @abstractmethod
    async def fingerprint_get(self, message_id: str) -> str | None:
        """The fingerprint kept under a reply's id, or None (never kept, or dropped by a cap)."""

    @abstractmethod
    async def record(self, *exchanges: Exchange) -> None:
        """Keep finished exchanges in the shared journal, in as few round trips as their size
        allows (the memory store's journal has them already)."""

    @abstractmethod
    async def exchanges(self, after: int = -1) -> list[dict[str, Any]]:
        """The journal as JSON objects, oldest first: those with a sequence number over `after`
        (the inspector's polling asks for what is new, so the rest is not turned into JSON), and
        in a store that journals exchanges when they finish, those under it that finished after
        it did (mockbay/store/lua/journal_since.lua), so a poll never misses one."""

    @abstractmethod
    async def unmatched(self) -> list[dict[str, Any]]:
        """The journal's `Exchange.unmatched` exchanges as JSON objects, oldest first, found
        without turning the others into JSON."""

    @abstractmethod
    async def exchange(self, request_id: str) -> Exchange | None:
        """One journaled exchange with the reply it sent (the inspector's detail, save as scenario)."""

    @abstractmethod
    async def clear_journal(self) -> None: ...

    @abstractmethod
    async def reset(self) -> None:
        """Clear cursors, buckets, cache, threads, fingerprints and journal; sequence numbers go
        on, so ids stay unique."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections."""
