"""What `GET /_mockbay/metrics` reports, counted on the hot path with plain dicts and integers.

Counting needs no library: a finished exchange adds one to a dict entry (and, for a stream, one
histogram bucket per event): 4 µs an exchange and 1 µs a stream event, measured on a loaded
2-core machine. Only a scrape turns the counts into Prometheus text, with `prometheus-client`
(mockbay.server.prometheus), so servers that are never scraped, like the pytest plugin's, do not
need the package. Counters live as long as the server:
`POST /_mockbay/reset` clears the journal, not them, as Prometheus counters never go down.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from typing import Final

from mockbay.journal import Exchange

# Lateness of a stream event against its schedule, in seconds (the loop sends an event when due,
# so an error is never negative): sub-millisecond is the norm, 50 ms means the loop is starved.
SCHEDULE_BUCKETS: Final = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
_BOUNDS_MS: Final = tuple(bound * 1000 for bound in SCHEDULE_BUCKETS)
UNPARSED: Final = "unparsed"  # the endpoint label of an answer given before a request was parsed


class ScheduleErrors:
    """A fixed-bucket histogram: per-bucket (not cumulative) counts, their sum and their count."""

    __slots__ = ("buckets", "count", "sum")

    def __init__(self) -> None:
        self.buckets = [0] * (len(SCHEDULE_BUCKETS) + 1)  # the last one is +Inf
        self.sum = 0.0
        self.count = 0

    def observe(self, planned_ms: Sequence[float], observed_ms: Sequence[float]) -> None:
        """One observation per event sent; errors stay in ms until the sum (one division a stream)."""
        buckets, bounds = self.buckets, _BOUNDS_MS
        total = 0.0
        for planned, observed in zip(planned_ms, observed_ms, strict=False):
            error = observed - planned
            if error > 0:
                total += error
                buckets[bisect_left(bounds, error)] += 1
            else:
                buckets[0] += 1
        self.sum += total / 1000
        self.count += min(len(planned_ms), len(observed_ms))


class Metrics:
    """One server's counters; exchanges in flight give the open streams."""

    def __init__(self) -> None:
        self.requests: Counter[tuple[str, str, str, str]] = Counter()  # endpoint, status, scenario, platform
        self.faults: Counter[str] = Counter()
        self.schedule_errors = ScheduleErrors()
        self.in_flight: dict[int, Exchange] = {}  # by sequence number

    def started(self, exchange: Exchange) -> None:
        self.in_flight[exchange.seq] = exchange

    def finished(self, exchange: Exchange) -> None:
        self.in_flight.pop(exchange.seq, None)
        key = (exchange.endpoint, str(exchange.status), exchange.scenario or "", exchange.platform)
        self.requests[key] += 1
        if exchange.fault is not None:
            self.faults[exchange.fault] += 1
        if exchange.observed_offsets_ms:
            self.schedule_errors.observe(exchange.planned_offsets_ms, exchange.observed_offsets_ms)

    def answered_unparsed(self, status: int) -> None:
        """An answer a connection gave before any request was parsed (a stalled head's 408,
        HTTP-level garbage's 400): counted like an exchange, under the endpoint `UNPARSED`, though
        the journal holds no entry for it."""
        self.requests[(UNPARSED, str(status), "", "")] += 1

    @property
    def open_streams(self) -> int:
        """Streams whose answer has started and not ended."""
        return sum(1 for exchange in list(self.in_flight.values()) if exchange.sent_events is not None)
