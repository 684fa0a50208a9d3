"""GET /_mockbay/metrics: parsed with prometheus-client's own parser, counters equal to the journal."""

from __future__ import annotations

import socket
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import anthropic
import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from mockbay.server.runner import MockServer
from tests.conftest import sync_client

SCENARIOS = """
scenarios:
  - name: capitals
    match: {last_user: {contains: capital}}
    rules:
      - reply: {text: "Paris is the capital of France."}
  - name: stalled
    match: {last_user: {contains: stall}}
    rules:
      - reply: {text: "never arrives in full", fault: {kind: stall, after_events: 2}}
  - name: broken-stream
    match: {last_user: {contains: broken}}
    rules:
      - reply:
          text: "One two three four five six seven."
          fault: {kind: error_event, after_events: 3, error: {type: overloaded_error}}
"""
ASK = {"model": "claude-sonnet-4-6", "max_tokens": 50}


@pytest.fixture()
def server(tmp_path: Path) -> Iterator[MockServer]:
    (tmp_path / "s.yaml").write_text(SCENARIOS)
    with MockServer([tmp_path]) as running:
        yield running


def _samples(server: MockServer) -> dict[str, list[tuple[dict[str, str], float]]]:
    reply = httpx.get(f"{server.url}/_mockbay/metrics")
    assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/plain")
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(reply.text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append((sample.labels, sample.value))
    return found


def _say(client: anthropic.Anthropic, text: str, **extra: object) -> None:
    client.messages.create(**ASK, messages=[{"role": "user", "content": text}], **extra)  # type: ignore[call-overload]


def test_counters_match_the_journal(server: MockServer) -> None:
    client = sync_client(server.url, max_retries=0)
    for _ in range(3):
        _say(client, "What is the capital of France?")
    with pytest.raises(anthropic.BadRequestError):
        _say(client, "Something no scenario knows")
    with client.messages.stream(**ASK, messages=[{"role": "user", "content": "capital?"}]) as stream:
        stream.until_done()
    with (
        pytest.raises(anthropic.APIStatusError),
        client.messages.stream(**ASK, messages=[{"role": "user", "content": "broken"}]) as stream,
    ):
        stream.until_done()
    client.models.list()

    samples = _samples(server)
    counted = {
        (labels["endpoint"], labels["status"], labels["scenario"], labels["platform"]): value
        for labels, value in samples["mockbay_requests_total"]
    }
    journal = Counter((e.endpoint, str(e.status), e.scenario or "", e.platform) for e in server.journal.all)
    assert counted == dict(journal)
    assert counted[("messages", "200", "capitals", "anthropic")] == 4
    assert counted[("messages", "400", "", "anthropic")] == 1
    assert samples["mockbay_faults_total"] == [({"kind": "error_event"}, 1.0)]
    assert samples["mockbay_journal_entries"] == [({}, 7.0)]
    assert samples["mockbay_journal_bytes"] == [({}, float(server.state.journal.bytes))]
    assert samples["mockbay_open_streams"] == [({}, 0.0)]
    events_sent = sum(len(e.observed_offsets_ms) for e in server.journal.all)
    histogram_count = samples["mockbay_stream_schedule_error_seconds_count"][0][1]
    assert events_sent > 3 and histogram_count == events_sent
    buckets = samples["mockbay_stream_schedule_error_seconds_bucket"]
    assert buckets[-1] == ({"le": "+Inf"}, events_sent)


def test_batch_requests_count_like_any_exchange(server: MockServer) -> None:
    client = sync_client(server.url, max_retries=0)
    asks = [("a", "What is the capital?"), ("b", "Something no scenario knows"), ("c", "capital!")]
    batch = client.messages.batches.create(
        requests=[
            {"custom_id": cid, "params": {**ASK, "messages": [{"role": "user", "content": text}]}}
            for cid, text in asks
        ]  # type: ignore[misc]
    )
    assert client.messages.batches.retrieve(batch.id).processing_status == "ended"

    counted = {
        (labels["endpoint"], labels["status"], labels["scenario"], labels["platform"]): value
        for labels, value in _samples(server)["mockbay_requests_total"]
    }
    journal = Counter((e.endpoint, str(e.status), e.scenario or "", e.platform) for e in server.journal.all)
    assert counted == dict(journal)
    assert counted[("messages", "200", "capitals", "anthropic")] == 2
    assert counted[("messages", "400", "", "anthropic")] == 1
    assert counted[("batches", "200", "", "anthropic")] == 2


def test_each_server_counts_only_its_own(server: MockServer, tmp_path: Path) -> None:
    with MockServer([tmp_path]) as other:
        _say(sync_client(other.url), "capital of France")
        assert "mockbay_requests_total" not in _samples(server)  # nothing asked of this one
        assert sum(v for _, v in _samples(other)["mockbay_requests_total"]) == 1


def test_metrics_follow_the_admin_access_rule(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(SCENARIOS)
    with MockServer([tmp_path], admin_token="sesame") as server:
        assert httpx.get(f"{server.url}/_mockbay/metrics").status_code == 404
        allowed = httpx.get(f"{server.url}/_mockbay/metrics", headers={"authorization": "Bearer sesame"})
        assert allowed.status_code == 200 and "mockbay_open_streams 0.0" in allowed.text


def test_without_prometheus_client_the_endpoint_says_how_to_get_it(
    server: MockServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "prometheus_client", None)  # as if it were not installed
    reply = httpx.get(f"{server.url}/_mockbay/metrics")
    assert reply.status_code == 501 and reply.json()["error"]["type"] == "api_error"
    assert "pip install 'mockbay[metrics]'" in reply.json()["error"]["message"]
    assert reply.json()["request_id"] == reply.headers["request-id"]  # as in every error body


def test_a_stream_in_progress_is_an_open_stream(server: MockServer) -> None:
    body = {**ASK, "stream": True, "messages": [{"role": "user", "content": "stall"}]}
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    with (
        httpx.Client() as client,
        client.stream("POST", f"{server.url}/v1/messages", json=body, headers=headers) as reply,
    ):
        lines = reply.iter_lines()  # kept open: a dropped iterator closes the response
        assert next(lines).startswith("event: message_start")
        assert _samples(server)["mockbay_open_streams"] == [({}, 1.0)]
        lines.close()


def _unanswered(port: int | None, raw: bytes) -> bytes:
    """What the server answers to `raw` on a connection of its own, before it closes it."""
    assert port is not None
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(raw)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
        return data


def test_answers_given_before_a_request_is_parsed_count_as_unparsed() -> None:
    """A stalled head's 408 and HTTP-level garbage's 400 count like the client faults the journal
    holds (a stalled body's 408 among them), under their own endpoint: no route was reached."""
    stalled_body = (
        b"POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: k\r\nanthropic-version: 2023-06-01\r\n"
    )
    stalled_body += b"content-type: application/json\r\ncontent-length: 100\r\n\r\n{"
    with MockServer(body_timeout_seconds=0.3) as server:
        assert _unanswered(server.port, b"POST /v1/messages HTTP/1.1\r\nhost: x\r\n").startswith(
            b"HTTP/1.1 408 "
        )
        assert _unanswered(server.port, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.0 400 ")
        assert _unanswered(server.port, stalled_body).startswith(b"HTTP/1.1 408 ")
        counted = {
            (labels["endpoint"], labels["status"], labels["scenario"], labels["platform"]): value
            for labels, value in _samples(server)["mockbay_requests_total"]
        }
    assert counted == {
        ("unparsed", "408", "", ""): 1,
        ("unparsed", "400", "", ""): 1,
        ("messages", "408", "", "anthropic"): 1,
    }
