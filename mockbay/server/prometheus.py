"""`GET /_mockbay/metrics`: one server's counts in the Prometheus text format.

Written by `prometheus-client` (the `mockbay[metrics]` extra; the container installs it) from a
registry of this server's own, never the process-wide default one: tests run several servers in
one process, and each must report only its own exchanges. Without the package the endpoint
answers 501 and says how to get it.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import accumulate
from typing import TYPE_CHECKING

from aiohttp import web

from mockbay.errors import ApiError
from mockbay.journal import Journal
from mockbay.metrics import SCHEDULE_BUCKETS, Metrics

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

MISSING = (
    "GET /_mockbay/metrics needs the prometheus-client package: pip install 'mockbay[metrics]'"
    " (the container image has it)"
)


def metrics_response(metrics: Metrics, journal: Journal) -> web.Response:
    try:
        from prometheus_client import CollectorRegistry
        from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
    except ImportError:
        raise ApiError(501, "api_error", MISSING) from None  # the caller's envelope names the request
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(metrics, len(journal), journal.bytes))
    response = web.Response(body=generate_latest(registry))
    response.headers["content-type"] = CONTENT_TYPE_LATEST
    return response


class _Collector:
    """Reads the server's counts at scrape time (prometheus-client's custom-collector protocol)."""

    def __init__(self, metrics: Metrics, journal_entries: int, journal_bytes: int) -> None:
        self._metrics = metrics
        self._journal_entries = journal_entries
        self._journal_bytes = journal_bytes

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.metrics_core import (
            CounterMetricFamily,
            GaugeMetricFamily,
            HistogramMetricFamily,
        )

        metrics = self._metrics
        requests = CounterMetricFamily(
            "mockbay_requests",
            "Exchanges answered, by endpoint, HTTP status, scenario (empty: none answered) and platform.",
            labels=("endpoint", "status", "scenario", "platform"),
        )
        for labels, count in sorted(metrics.requests.items()):
            requests.add_metric(labels, count)
        yield requests
        faults = CounterMetricFamily("mockbay_faults", "Faults injected, by kind.", labels=("kind",))
        for kind, count in sorted(metrics.faults.items()):
            faults.add_metric((kind,), count)
        yield faults
        yield GaugeMetricFamily("mockbay_open_streams", "SSE streams being sent.", value=metrics.open_streams)
        yield GaugeMetricFamily(
            "mockbay_journal_entries",
            "Exchanges the journal holds (capped by --journal-size).",
            value=self._journal_entries,
        )
        yield GaugeMetricFamily(
            "mockbay_journal_bytes",
            "Estimated size of the exchanges the journal holds (capped by --journal-max-mb).",
            value=self._journal_bytes,
        )
        errors = metrics.schedule_errors
        cumulative = list(accumulate(errors.buckets))
        bounds = [*(str(b) for b in SCHEDULE_BUCKETS), "+Inf"]
        yield HistogramMetricFamily(
            "mockbay_stream_schedule_error_seconds",
            "How late each stream event left against its schedule.",
            buckets=list(zip(bounds, cumulative, strict=True)),
            sum_value=errors.sum,
        )
