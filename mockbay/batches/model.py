"""`Batch`: one Message Batch, its requests and their results, and how it looks at a given time.

Each request is due at an even share of `--batch-seconds` after the create (all at once with 0)
and is run through the Messages pipeline when a read finds it due (server/batches.py). The
batch reads `in_progress` until the last is due, then `ended`; a cancel makes it `canceling`
in the cancel's own answer and `ended` from the next read, with every request not yet run
`canceled`. Counts other than `processing` stay 0 until the batch ends, as upstream says, so
they add up to the number of requests at every moment (docs/wire-notes.md, Message Batches).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

from mockbay.files.store import rfc3339

EXPIRY_SECONDS = 24 * 3600
RESULT_TYPES = ("succeeded", "errored", "canceled", "expired")
Status = Literal["in_progress", "canceling", "ended"]


@dataclass(slots=True, kw_only=True, eq=False)
class BatchItem:
    """One request of a batch: its `custom_id` and `params`, when it is due, and its result once run
    or canceled."""

    custom_id: str
    params: dict[str, Any]
    due: float  # wall-clock time at which this request is run
    result: dict[str, Any] | None = None  # the JSONL line's `result`, once run or canceled


@dataclass(slots=True, kw_only=True, eq=False)
class Batch:
    """One Message Batch: its requests, and what they need to run later through the Messages pipeline as
    the create would have (headers, API key, pinned scenario); reads fill in the results."""

    id: str
    created_at: float
    ends_at: float
    headers: dict[str, str]  # of the create request: each request carries them through the pipeline
    api_key: str
    pinned: str | None
    items: list[BatchItem]
    body_bytes: int
    cancel_at: float | None = None
    result_bytes: int = 0
    path: str = ""  # the create request's path, which each request's journal entry repeats
    running: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)

    @property
    def end(self) -> float:
        return self.cancel_at if self.cancel_at is not None else self.ends_at

    @property
    def size(self) -> int:
        """What the batch holds in memory, for the store's byte cap: its body and its results."""
        return self.body_bytes + self.result_bytes

    def status(self, now: float, *, answering: Status | None = None) -> Status:
        """`answering`: the status the create or cancel itself reports, whatever the clock says."""
        if answering is not None:
            return answering
        if now >= self.end:
            return "ended"
        return "canceling" if self.cancel_at is not None else "in_progress"

    def to_json(self, status: Status, results_url: str) -> dict[str, Any]:
        """The `MessageBatch` object in this status; `results_url` is given only once ended."""
        ended = status == "ended"
        counts = Counter(item.result["type"] for item in self.items if item.result is not None and ended)
        return {
            "id": self.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": {
                "processing": 0 if ended else len(self.items),
                **{kind: counts[kind] for kind in RESULT_TYPES},
            },
            "ended_at": rfc3339(self.end) if ended else None,
            "created_at": rfc3339(self.created_at),
            "expires_at": rfc3339(self.created_at + EXPIRY_SECONDS),
            "cancel_initiated_at": rfc3339(self.cancel_at) if self.cancel_at is not None else None,
            "archived_at": None,
            "results_url": results_url if ended else None,
        }

    def to_state(self) -> dict[str, Any]:
        """Everything the batch holds, as JSON, for a shared store (the lock stays in the process)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("items", "running")} | {
            "items": [asdict(item) for item in self.items]
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Batch:
        items = [BatchItem(**item) for item in state.pop("items")]
        return cls(items=items, **state)

    def results(self) -> list[dict[str, Any]]:
        return [{"custom_id": item.custom_id, "result": item.result} for item in self.items]
