"""`Batch`: one Message Batch's summary, and how it looks at a given time; `BatchItem`: one request.

Each request is due at an even share of `--batch-seconds` after the create (all at once with 0)
and is run through the Messages pipeline when a read finds it due (server/batches.py). The
batch reads `in_progress` until the last is due, then `ended`; a cancel makes it `canceling`
in the cancel's own answer and `ended` from the next read, with every request not yet run
`canceled`. Counts other than `processing` stay 0 until the batch ends, as upstream says, so
they add up to the number of requests at every moment (docs/wire-notes.md, Message Batches).

The summary is kept apart from the requests and their results: requests fall due in order and
are run in order, so how many are done and when the next is due say everything a status read
needs, and a poll of a big batch reads a few hundred bytes, not its requests (the stores keep the
requests and the results' JSONL lines beside it).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, fields
from typing import Any, Literal

from mockbay.files.store import rfc3339

EXPIRY_SECONDS = 24 * 3600
RESULT_TYPES = ("succeeded", "errored", "canceled", "expired")
Status = Literal["in_progress", "canceling", "ended"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BatchItem:
    """One request of a batch: its `custom_id` and `params`, and when it is due."""

    custom_id: str
    params: dict[str, Any]
    due: float  # wall-clock time at which this request is run


@dataclass(slots=True, kw_only=True, eq=False)
class Batch:
    """One Message Batch without its requests: what they need to run later through the Messages
    pipeline as the create would have (headers, API key, pinned scenario), and how far they got."""

    id: str
    created_at: float
    ends_at: float
    headers: dict[str, str]  # of the create request: each request carries them through the pipeline
    api_key: str
    pinned: str | None
    count: int  # requests in the batch
    next_due: float | None  # when the first request not yet done is due; None once all are done
    body_bytes: int
    done: int = 0  # requests run, whose results are kept: always the first; after a cancel the rest
    # are canceled, counted in `counts` but not written
    counts: dict[str, int] = field(default_factory=dict)  # the results' types so far
    cancel_at: float | None = None
    result_bytes: int = 0
    path: str = ""  # the create request's path, which each request's journal entry repeats
    running: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False, compare=False)

    @property
    def end(self) -> float:
        return self.cancel_at if self.cancel_at is not None else self.ends_at

    @property
    def size(self) -> int:
        """What the batch holds, for the store's byte cap: its body and its results."""
        return self.body_bytes + self.result_bytes

    def due_by(self, now: float) -> bool:
        """Whether a request is waiting to run at `now`."""
        return self.next_due is not None and self.next_due <= now

    def add(self, results: list[dict[str, Any]], lines: list[bytes]) -> None:
        """Count the results of the next requests run, whose JSONL `lines` the store keeps."""
        self.done += len(results)
        for result in results:
            self.counts[result["type"]] = self.counts.get(result["type"], 0) + 1
        self.result_bytes += sum(map(len, lines))

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
        return {
            "id": self.id,
            "type": "message_batch",
            "processing_status": status,
            "request_counts": {
                "processing": 0 if ended else self.count,
                **{kind: self.counts.get(kind, 0) if ended else 0 for kind in RESULT_TYPES},
            },
            "ended_at": rfc3339(self.end) if ended else None,
            "created_at": rfc3339(self.created_at),
            "expires_at": rfc3339(self.created_at + EXPIRY_SECONDS),
            "cancel_initiated_at": rfc3339(self.cancel_at) if self.cancel_at is not None else None,
            "archived_at": None,
            "results_url": results_url if ended else None,
        }

    def to_state(self) -> dict[str, Any]:
        """The summary as JSON, for a shared store (the lock stays in the process)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "running"}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Batch:
        return cls(**state)


def item_state(item: BatchItem) -> dict[str, Any]:
    """A request as JSON, for a shared store."""
    return {"custom_id": item.custom_id, "params": item.params, "due": item.due}
