"""Stores capped by bytes as well as entries: the journal and the reply memo stay under their
byte budgets whatever the clients send, and keep the newest."""

from __future__ import annotations

import json

import httpx

from mockbay.journal import OFFSETS_BYTES_PER_EVENT
from mockbay.server.request_headers import SHARED_CHARS
from mockbay.server.runner import MockServer
from tests.conftest import SCENARIOS

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json"}


def body(n: int, size: int) -> bytes:
    text = f"request {n} " + "x" * size
    return json.dumps(
        {"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": [{"role": "user", "content": text}]}
    ).encode()


def test_the_journal_drops_its_oldest_exchanges_past_its_byte_cap():
    cap = 400_000
    with MockServer([SCENARIOS], fallback="generate", journal_max_bytes=cap) as server:
        for n in range(12):
            assert httpx.post(
                f"{server.url}/v1/messages", headers=HEADERS, content=body(n, 100_000)
            ).is_success
        kept = server.journal.calls
        assert server.state.journal.bytes <= cap
        assert 2 <= len(kept) < 12 and kept[-1].body["messages"][0]["content"].startswith("request 11 ")


def test_one_exchange_larger_than_the_journal_cap_is_still_kept_until_the_next():
    with MockServer([SCENARIOS], fallback="generate", journal_max_bytes=10_000) as server:
        httpx.post(f"{server.url}/v1/messages", headers=HEADERS, content=body(0, 50_000))
        assert len(server.journal.calls) == 1
        httpx.post(f"{server.url}/v1/messages", headers=HEADERS, content=body(1, 50_000))
        assert [e.body["messages"][0]["content"][:10] for e in server.journal.calls] == ["request 1 "]


def test_the_reply_memo_keeps_under_its_byte_cap():
    cap = 500_000
    with MockServer([SCENARIOS], fallback="generate", reply_memo_max_bytes=cap) as server:
        for n in range(20):
            httpx.post(f"{server.url}/v1/messages", headers=HEADERS, content=body(n, 50_000))
        memo = server.state.memo
        assert 0 < memo.bytes <= cap and 1 <= len(memo) < 20


def test_a_streams_offsets_count_toward_the_journals_bytes(tmp_path):
    """Each event leaves a planned and an observed offset in the journal: 300 events weigh 2,400
    bytes beside the events themselves, more than an exchange's fixed overhead could hide."""
    chunks = json.dumps([f"w{i} " for i in range(300)])
    scenario = tmp_path / "long.yaml"
    scenario.write_text(
        f"scenarios:\n  - name: long\n    rules:\n      - reply:\n          text: {{chunks: {chunks}}}\n"
    )
    stream = json.dumps({**json.loads(body(0, 10)), "max_tokens": 4096, "stream": True}).encode()
    with MockServer([scenario], timing="instant") as server:
        assert httpx.post(f"{server.url}/v1/messages", headers=HEADERS, content=stream).is_success
        (exchange,) = server.journal.calls
        assert exchange.sent_events is not None and len(exchange.observed_offsets_ms) > 300
        events = sum(len(event.data) for event in exchange.sent_events)
        offsets = len(exchange.sent_events) * OFFSETS_BYTES_PER_EVENT
        assert server.state.journal.bytes >= events + offsets + len(exchange.path)


def test_kept_exchanges_share_the_header_strings_clients_repeat():
    """Names and short values come from bounded caches (mockbay/server/request_headers.py), so a
    full journal holds one copy of `anthropic-version: 2023-06-01`, not one per exchange; a value
    longer than SHARED_CHARS is kept as it came."""
    long_value = "v" * (SHARED_CHARS + 1)
    with MockServer([SCENARIOS], fallback="generate") as server:
        for n in range(2):
            sent = {**HEADERS, "x-trace": long_value}
            httpx.post(f"{server.url}/v1/messages", headers=sent, content=body(n, 10))
        first, second = (exchange.headers for exchange in server.journal.calls)
    assert first == second
    name = next(key for key in first if key == "anthropic-version")
    assert next(key for key in second if key == "anthropic-version") is name
    assert first["anthropic-version"] is second["anthropic-version"]
    assert first["x-trace"] == long_value and first["x-trace"] is not second["x-trace"]
