"""The journal: one `Exchange` per request, kept in a bounded deque, queried by tests and admin.

Bounded by entries (`--journal-size`) and by estimated bytes (`--journal-max-mb`): an exchange
weighs a fixed overhead plus its headers and path when it is appended, and its parsed body
and what it sent once they are known (`charge`); the oldest exchanges go first, the newest is
always kept.
Credentials are masked before an exchange is stored. Reads come from the test thread while the
server thread appends, so every access holds a lock.
"""

from __future__ import annotations

import re
import threading
from array import array
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, overload

from mockbay.config import JOURNAL_MAX_MB, MB
from mockbay.secrets import names_a_secret

if TYPE_CHECKING:
    from mockbay.timing import Scheduled


def mask_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Lower-cased headers with credentials reduced to a hint (`Bearer sk-t…`), never stored whole."""
    return mask_lowered({name.lower(): value for name, value in headers.items()})


def mask_lowered(headers: dict[str, str]) -> dict[str, str]:
    """`mask_headers` of headers whose names are lower-case already (a copy; the input is kept)."""
    masked = headers.copy()
    names = tuple(masked)
    found = _SECRET_NAMES.get(names)
    for name in _secret_names(names) if found is None else found:
        value = masked[name]
        if value:
            scheme, _, secret = value.rpartition(" ")
            masked[name] = f"{scheme} {secret[:4]}…" if scheme else f"{secret[:4]}…"
    return masked


# Which of a request's header names carry a credential, memoised by the whole tuple of names: safe
# because the answer depends on the names alone, and a client sends the same set on every request,
# so each request pays one lookup rather than a test per header. Clients choose the names (up to
# 128 of 8 KiB each), so only a set of at most `SECRET_NAMES_CHARS` characters in all is kept (an
# SDK's dozen names take about 250), and at most `SECRET_NAME_SETS` sets: 512 KiB of names at most.
SECRET_NAMES_CHARS = 2048
SECRET_NAME_SETS = 256
_SECRET_NAMES: dict[tuple[str, ...], tuple[str, ...]] = {}


def _secret_names(names: tuple[str, ...]) -> tuple[str, ...]:
    """Which of these header names carry a credential, kept in `_SECRET_NAMES` when short."""
    found = tuple(name for name in names if names_a_secret(name))
    if sum(map(len, names)) <= SECRET_NAMES_CHARS:
        if len(_SECRET_NAMES) >= SECRET_NAME_SETS:
            _SECRET_NAMES.clear()
        _SECRET_NAMES[names] = found
    return found


# Response headers a replay repeats: what `mockbay record` keeps of upstream's answer, and the
# journal of mockbay's own (`Exchange.sent_headers`), so a saved exchange repeats them too.
# `request-id` is not kept: mockbay makes a fresh one per exchange, as upstream does;
# `anthropic-organization-id` names the caller's account.
REPLAYED_HEADER_PREFIXES = ("anthropic-ratelimit-", "anthropic-priority-", "anthropic-fast-")
REPLAYED_HEADERS = frozenset({"retry-after", "retry-after-ms", "x-should-retry"})


# Any replayed name among lower-cased names joined by tabs (a character no header name holds):
# a name whole, or a prefix at a name's start. One search in C tells that the usual answer has
# none, so it is not walked name by name (bench/instructions.py).
_ANY_REPLAYED = re.compile(
    "\t(?:"
    + "|".join(
        [
            *(f"{re.escape(name)}\t" for name in sorted(REPLAYED_HEADERS)),
            *map(re.escape, REPLAYED_HEADER_PREFIXES),
        ]
    )
    + ")"
)


def replayed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Those of an answer's headers a replay repeats, names lower-cased."""
    if not _ANY_REPLAYED.search("\t" + "\t".join(headers).lower() + "\t"):
        return {}
    lowered = ((name.lower(), value) for name, value in headers.items())
    return {
        name: value
        for name, value in lowered
        if name in REPLAYED_HEADERS or name.startswith(REPLAYED_HEADER_PREFIXES)
    }


def header_bytes(headers: Mapping[str, str]) -> int:
    """What a journal entry is charged for keeping these headers: their names and values."""
    return sum(map(len, headers)) + sum(map(len, headers.values()))


def packed_micros(offsets_ms: Iterable[float]) -> array[int]:
    """Offsets in ms (each rounded to the microsecond where it was measured or planned) as whole
    microseconds, packed (see `_packed`)."""
    return _packed([round(offset * 1000) for offset in offsets_ms])


def _packed(micros: Sequence[int]) -> array[int]:
    """Microseconds packed 4 bytes each, or 8 when one lies more than 35 minutes out."""
    try:
        return array("i", micros)
    except OverflowError:
        return array("q", micros)


class Offsets(Sequence[float]):
    """A stream's offsets in ms, in the journal where a list of floats stood: every finished stream
    stays there, and the list held 32 bytes an event (a 24-byte float and its slot) where a packed
    microsecond takes 4, and planned offsets shared with their plan take nothing more.

    Safe because readers still see that list. Every offset is rounded to the microsecond where it
    is measured or planned (server/stream.py, server/plan.py), and `micros / 1000` is the float
    `round(ms, 3)` gave in the lists (both are the double nearest the same decimal). It equals a
    list or tuple of the same numbers from either side (`[...] == offsets` falls back to its
    `__eq__`), slices to lists, reprs as one, and the journal's JSON view turns it into one
    (`_copy`). It keeps the microseconds it is given without a copy (a plan's) and never writes
    to them: its first write copies them.
    """

    __slots__ = ("_micros", "_own")

    def __init__(self, micros: Sequence[int] = ()) -> None:
        self._micros = micros
        self._own: array[int] | None = None  # its own copy, once written (then `_micros` too)

    @classmethod
    def of(cls, offsets_ms: Iterable[float]) -> Offsets:
        """Offsets holding these ms values (a stored exchange's, read back)."""
        return cls(packed_micros(offsets_ms))

    def __len__(self) -> int:
        return len(self._micros)

    @overload
    def __getitem__(self, index: int) -> float: ...
    @overload
    def __getitem__(self, index: slice) -> list[float]: ...
    def __getitem__(self, index: int | slice) -> float | list[float]:
        if isinstance(index, slice):
            return [micros / 1000 for micros in self._micros[index]]
        return self._micros[index] / 1000

    def __iter__(self) -> Iterator[float]:
        return (micros / 1000 for micros in self._micros)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Offsets | list | tuple):
            return NotImplemented
        return list(self) == list(other)

    def __repr__(self) -> str:
        return repr(list(self))

    def record(self, micros: int, count: int = 1) -> None:
        """`count` more offsets of `micros` microseconds (events written together share one)."""
        added = (micros,) * count
        own = self._writable()
        try:
            own.extend(added)
        except OverflowError:  # more than 35 minutes out: repacked wider (the equal values all failed)
            self._micros = self._own = _packed([*own, *added])

    def _writable(self) -> array[int]:
        if self._own is None:
            self._micros = self._own = _packed(self._micros)
        return self._own


@dataclass(slots=True, kw_only=True)
class Exchange:
    """One request and what answered it; the journal's unit (WireMock's ServeEvent)."""

    seq: int
    request_id: str
    method: str
    path: str
    headers: dict[str, str]
    body: Any = None
    session: str = ""
    endpoint: str = ""
    platform: str = "anthropic"  # the wire the request came in on: anthropic | bedrock | vertex
    scenario: str | None = None
    step: str | None = None  # "rules[0]" / "turns[1]"
    rule: int | None = None
    turn: int | None = None
    reply_index: int | None = None
    matched: bool = False
    missed: bool = False  # reached matching and no scenario answered (near_misses say why)
    # Answered by mockbay's own reply: the generate fallback's, or a compaction request's summary.
    generated: bool = False
    near_misses: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(
        default_factory=list
    )  # what in the answer a client may trip on (a schema miss)
    status: int = 0
    error_type: str | None = None
    stream: bool = False
    fault: str | None = None
    started_at: float = 0.0
    # The event loop's clock when the request arrived: a stream's offsets, and a paced JSON reply's
    # wait, count from it, as `ttft_ms` counts from the request (0.0: from when the answer starts).
    arrived: float = field(default=0.0, repr=False)
    duration_ms: float = 0.0
    planned_offsets_ms: Offsets = field(default_factory=Offsets)
    observed_offsets_ms: Offsets = field(default_factory=Offsets)
    client_disconnected: bool = False
    # What was sent, kept by reference (no copy on the hot path) for the inspector and "save as
    # scenario": a JSON answer's body bytes, or a stream's encoded events as they left.
    reply_body: bytes | None = field(default=None, repr=False)
    sent_events: Sequence[Scheduled] | None = field(default=None, repr=False)
    # Those of the answer's headers a replay repeats (`replayed_headers`: a scripted retry-after,
    # the rate-limit headers, and an error's raw body's `content-type`), for "save as scenario";
    # None when it sent none.
    sent_headers: dict[str, str] | None = field(default=None, repr=False)
    batch_id: str | None = None  # a Message Batch request: its batch and custom_id
    custom_id: str | None = None

    @property
    def unmatched(self) -> bool:
        """A Messages request no scenario matched, whatever answered it: `GET /_mockbay/unmatched`
        lists these (the generate fallback's invented replies included)."""
        return self.endpoint == "messages" and self.missed

    def to_json(self) -> dict[str, Any]:
        """The journal's JSON view; the raw reply is left to the admin API's single-exchange view."""
        return {f.name: _copy(getattr(self, f.name)) for f in _PUBLIC_FIELDS}


def _copy(value: Any) -> Any:
    """A deep copy of JSON-like data (what `asdict` made of these fields before); offsets as lists."""
    if isinstance(value, Offsets):
        return list(value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


_PUBLIC_FIELDS = tuple(
    f for f in fields(Exchange) if f.name not in ("reply_body", "sent_events", "sent_headers", "arrived")
)


EXCHANGE_OVERHEAD = 1024  # an Exchange with its empty lists and small fields: ~680 B measured, plus room
# A stream's offsets, per event: two packed microseconds (`Offsets`), its observed one and its
# planned one in the plan's array, which every replay of a memoised plan shares, yet each is charged
# for, as for the plan's events. As lists (40 bytes an event) a finished 204-event stream kept
# 10.3 KiB (tracemalloc); as packed doubles 4.0, and 3.1 once headers were shared; now 2.2.
OFFSETS_BYTES_PER_EVENT = 8


class Journal:
    """Bounded, thread-safe list of exchanges (oldest dropped first beyond either cap)."""

    def __init__(self, max_entries: int = 10_000, max_bytes: int = JOURNAL_MAX_MB * MB) -> None:
        self._entries: deque[Exchange] = deque()
        self._weights: dict[int, int] = {}  # id(exchange) -> bytes charged, for kept exchanges
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        self._lock = threading.Lock()

    def append(self, exchange: Exchange) -> None:
        weight = EXCHANGE_OVERHEAD + len(exchange.path) + header_bytes(exchange.headers)
        with self._lock:
            self._entries.append(exchange)
            self._weights[id(exchange)] = weight
            self._bytes += weight
            if len(self._entries) > self._max_entries or self._bytes > self._max_bytes:
                self._evict()

    def charge(self, exchange: Exchange, nbytes: int) -> None:
        """Add what the exchange now holds (its parsed body, its reply) to its weight, if it is still kept."""
        with self._lock:
            key = id(exchange)
            if key in self._weights:
                self._weights[key] += nbytes
                self._bytes += nbytes
                self._evict()

    def _evict(self) -> None:
        while self._entries and (
            len(self._entries) > self._max_entries
            or (self._bytes > self._max_bytes and len(self._entries) > 1)
        ):
            self._bytes -= self._weights.pop(id(self._entries.popleft()))

    @property
    def bytes(self) -> int:
        """The estimated size of the kept exchanges."""
        return self._bytes

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._weights.clear()
            self._bytes = 0

    def snapshot(self) -> list[Exchange]:
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[Exchange]:
        return iter(self.snapshot())

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


class JournalView:
    """What tests ask of the journal, in `unittest.mock` words (calls, call_count, last)."""

    def __init__(self, journal: Journal) -> None:
        self._journal = journal

    @property
    def calls(self) -> list[Exchange]:
        """Exchanges with the Messages endpoint, oldest first."""
        return [e for e in self._journal.snapshot() if e.endpoint == "messages"]

    @property
    def all(self) -> list[Exchange]:
        """Every journaled exchange, count_tokens and models included."""
        return self._journal.snapshot()

    @property
    def call_count(self) -> int:
        return len(self.calls)

    @property
    def called(self) -> bool:
        return bool(self.calls)

    @property
    def last(self) -> Exchange | None:
        calls = self.calls
        return calls[-1] if calls else None

    @property
    def unmatched(self) -> list[Exchange]:
        """Requests no scenario answered and no generated reply covered (strict fallback's 400s)."""
        return [e for e in self.calls if e.missed and not e.generated]

    def find(
        self,
        *,
        scenario: str | None = None,
        turn: int | None = None,
        rule: int | None = None,
        matched: bool | None = None,
        status: int | None = None,
        batch_id: str | None = None,
    ) -> list[Exchange]:
        """Calls that satisfy every criterion given (`batch_id`: the requests of one Message Batch)."""
        criteria = {
            "scenario": scenario,
            "turn": turn,
            "rule": rule,
            "matched": matched,
            "status": status,
            "batch_id": batch_id,
        }
        wanted = {k: v for k, v in criteria.items() if v is not None}
        return [e for e in self.calls if all(getattr(e, k) == v for k, v in wanted.items())]

    def assert_called(
        self,
        scenario: str | None = None,
        *,
        times: int | None = None,
        turn: int | None = None,
        rule: int | None = None,
    ) -> None:
        """Fail with the list of what was called when the expectation does not hold."""
        found = self.find(scenario=scenario, turn=turn, rule=rule)
        if (times is None and found) or (times is not None and len(found) == times):
            return
        wanted = f"{times} call(s)" if times is not None else "at least one call"
        seen = "\n".join(f"  {e.seq}: {e.status} scenario={e.scenario} step={e.step}" for e in self.calls)
        criteria = f"scenario={scenario!r} turn={turn!r} rule={rule!r}"
        raise AssertionError(
            f"expected {wanted} with {criteria}, found {len(found)}; calls:\n{seen or '  (none)'}"
        )

    def clear(self) -> None:
        self._journal.clear()
