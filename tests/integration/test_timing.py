"""Streams in time over loopback: order, relative spacing (loosely), determinism, JSON waits.

Exact accuracy is a benchmark figure (bench/), not an assertion: these bounds are wide on purpose.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator

import httpx
import pytest

from mockbay.server.runner import MockServer
from tests.conftest import DATA

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 200,
    "messages": [{"role": "user", "content": "hi"}],
    "stream": True,
}


@pytest.fixture(scope="module")
def timed() -> Iterator[MockServer]:
    with MockServer([DATA / "timing"], timing="instant") as server:
        yield server


def _arrivals(server: MockServer, scenario: str, body: dict[str, object] = BODY) -> list[tuple[str, float]]:
    """(event name, seconds since the request was sent) for each event, read as bytes arrive."""
    arrivals = []
    start = time.perf_counter()
    with httpx.stream(
        "POST", f"{server.url}/s/{scenario}/v1/messages", headers=HEADERS, json=body
    ) as response:
        for line in response.iter_lines():
            if line.startswith("event: "):
                arrivals.append((line[7:], time.perf_counter() - start))
    return arrivals


def test_events_arrive_in_order_on_their_grid(timed):
    arrivals = _arrivals(timed, "gridded")
    names = [name for name, _ in arrivals]
    assert names[:3] == ["message_start", "content_block_start", "ping"] and names[-1] == "message_stop"
    deltas = [t for name, t in arrivals if name == "content_block_delta"]
    assert len(deltas) == 6
    assert arrivals[0][1] < deltas[0]
    assert deltas[0] >= 0.07
    assert deltas[-1] - deltas[0] >= 0.1  # five 25 ms gaps, loosely
    assert all(b >= a for a, b in itertools.pairwise(deltas))


def test_journal_records_planned_and_observed_offsets(timed):
    _arrivals(timed, "gridded")
    exchange = timed.journal.last
    planned = exchange.planned_offsets_ms
    assert planned[:3] == [0.0, 0.0, 0.0] and planned[3] == 80.0 and planned[4] == 105.0
    assert len(exchange.observed_offsets_ms) == len(planned)
    assert all(
        observed >= want - 1 for observed, want in zip(exchange.observed_offsets_ms, planned, strict=True)
    )


def test_same_seed_gives_the_same_schedule(timed):
    _arrivals(timed, "jittered")
    first = timed.journal.last.planned_offsets_ms
    _arrivals(timed, "jittered")
    assert timed.journal.last.planned_offsets_ms == first
    with MockServer([DATA / "timing"], seed=99) as other:
        _arrivals(other, "jittered")
        assert other.journal.last.planned_offsets_ms != first


def test_reply_timing_overrides_scenario_timing(timed):
    _arrivals(timed, "reply-override")
    planned = timed.journal.last.planned_offsets_ms
    deltas = planned[3:5]
    assert deltas == [30.0, 40.0]


def test_recorded_gaps_play_back_only_in_recorded_mode(timed):
    _arrivals(timed, "recorded-replay")
    assert set(timed.journal.last.planned_offsets_ms) == {0.0}
    with MockServer([DATA / "timing"], timing="recorded") as replaying:
        _arrivals(replaying, "recorded-replay")
        planned = replaying.journal.last.planned_offsets_ms
        assert planned[:5] == [40.0, 40.0, 40.0, 50.0, 80.0]  # the ping rides with the block start


def test_json_reply_is_sent_when_the_stream_would_end(timed):
    started = time.perf_counter()
    response = httpx.post(
        f"{timed.url}/s/gridded/v1/messages", headers=HEADERS, json={**BODY, "stream": False}
    )
    elapsed = time.perf_counter() - started
    assert response.json()["content"][0]["text"] == "abcdef"
    assert elapsed >= 0.2  # 80 ms to the first delta + five 25 ms gaps
