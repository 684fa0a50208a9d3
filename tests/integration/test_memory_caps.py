"""Stores capped by bytes as well as entries: the journal and the reply memo stay under their
byte budgets whatever the clients send, and keep the newest; process-wide memos keep no long
key a client chose."""

from __future__ import annotations

import json

import httpx
import pytest

from mockbay import journal, secrets
from mockbay.journal import OFFSETS_BYTES_PER_EVENT
from mockbay.lru import MEMO_KEY_CHARS
from mockbay.pattern_cache import CACHED_PATTERN_CHARS
from mockbay.server import responses
from mockbay.server.responses import ORGANIZATION_HEADER
from mockbay.server.runner import MockServer
from mockbay.wire.jsonbody import parsed_size
from tests.conftest import SCENARIOS, cached_patterns

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
    longer than MEMO_KEY_CHARS is kept as it came."""
    long_value = "v" * (MEMO_KEY_CHARS + 1)
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


def test_long_header_names_are_tested_afresh_not_memoised():
    """Clients choose header names (up to 8 KiB each): the journal's masking memoises a request's
    names, and each name's answer, only when short (journal.SECRET_NAMES_CHARS, MEMO_KEY_CHARS)."""
    with MockServer([SCENARIOS], fallback="generate") as server:

        def send(n: int) -> None:
            sent = {**HEADERS, f"x-{n}-" + "n" * 3000: "v", f"x-{n}-password-" + "p" * 300: "hunter2"}
            assert httpx.post(f"{server.url}/v1/messages", headers=sent, content=body(n, 10)).is_success

        send(0)
        sets, names = len(journal._SECRET_NAMES), secrets._known_secret.cache_info()
        for n in range(1, 5):
            send(n)
        assert len(journal._SECRET_NAMES) == sets
        assert secrets._known_secret.cache_info().currsize == names.currsize
        masked = server.journal.calls[-1].headers
    assert masked["x-4-password-" + "p" * 300] == "hunt…"


def test_long_api_keys_are_not_memoised():
    """The organisation id of a key longer than MEMO_KEY_CHARS is computed afresh, and is the same."""
    with MockServer([SCENARIOS], fallback="generate") as server:

        def organization(key: str) -> str:
            sent = {**HEADERS, "x-api-key": key}
            reply = httpx.post(f"{server.url}/v1/messages", headers=sent, content=body(0, 10))
            return reply.headers[ORGANIZATION_HEADER]

        before = responses._known_organization.cache_info().currsize
        ids = [organization(f"sk-{n}-" + "k" * MEMO_KEY_CHARS) for n in range(4)]
        assert responses._known_organization.cache_info().currsize == before
        assert len(set(ids)) == 4 and organization("sk-0-" + "k" * MEMO_KEY_CHARS) == ids[0]


def test_the_reply_memo_counts_the_header_values_of_its_key(tmp_path):
    """A header a `header:` matcher reads is part of the memo key, so its value (a client's, up
    to 8 KiB) counts toward --reply-memo-max-mb as the body does."""
    scenario = tmp_path / "tenant.yaml"
    scenario.write_text(
        "scenarios:\n  - name: tenant\n    match: {header: {x-tenant: {regex: '^t'}}}\n"
        "    rules: [{reply: {text: hello}}]\n"
    )
    value = "t" * 6000
    with MockServer([scenario], timing="instant") as server:
        sent = {**HEADERS, "x-tenant": value}
        assert httpx.post(f"{server.url}/v1/messages", headers=sent, content=body(0, 10)).is_success
        assert len(server.state.memo) == 1
        request_bytes = len(body(0, 10)) + parsed_size(body(0, 10))
        assert server.state.memo.bytes >= request_bytes + len(value)


def test_long_schema_patterns_leave_the_re_cache(tmp_path):
    """A request's JSON Schema patterns are compiled in `re`'s process-wide cache (512 patterns):
    the generate fallback reads them, and the reply is checked against them. One longer than
    CACHED_PATTERN_CHARS is dropped once checked (mockbay/pattern_cache.py)."""
    none = tmp_path / "none.yaml"
    none.write_text("scenarios:\n  - {name: never, match: {model: never}, rules: [{reply: {text: hi}}]}\n")
    long_part = "b" * (CACHED_PATTERN_CHARS + 1)
    with MockServer([none], fallback="generate", timing="instant") as server:
        for n in range(3):
            schema = {
                "type": "object",
                "properties": {"code": {"type": "string", "pattern": f"^(a|{n}{long_part})$"}},
                "required": ["code"],
                "additionalProperties": False,
            }
            sent = {
                **json.loads(body(n, 10)),
                "output_config": {"format": {"type": "json_schema", "schema": schema}},
            }
            reply = httpx.post(f"{server.url}/v1/messages", headers=HEADERS, json=sent)
            assert reply.is_success and json.loads(reply.json()["content"][0]["text"]) == {"code": "a"}
            assert not server.journal.calls[-1].warnings
    assert not [pattern for pattern in cached_patterns() if long_part in pattern]


def scenario_load(name: str, padding: int = 0) -> str:
    return f"name: {name}\ndescription: '{'x' * padding}'\nrules:\n  - reply: {{text: hi}}\n"


@pytest.mark.parametrize(
    ("caps", "loads"),
    [
        ({"admin_scenarios_max": 2}, [scenario_load("a"), scenario_load("b"), scenario_load("c")]),
        ({"admin_scenarios_max": 2}, [scenario_load("a"), scenario_load("a"), scenario_load("a")]),
        ({"admin_scenarios_max_mb": 1}, [scenario_load("a", 600_000), scenario_load("b", 600_000)]),
    ],
    ids=["loads", "same-named reloads", "megabytes"],
)
def test_admin_loaded_scenarios_past_a_cap_are_refused_and_the_earlier_kept(caps, loads):
    """Refused, not evicting: a test may still rely on every scenario it loaded."""
    with MockServer([], **caps) as server, httpx.Client(base_url=server.url) as client:
        *kept, last = (client.post("/_mockbay/scenarios", content=text) for text in loads)
        assert [r.status_code for r in kept] == [200] * len(kept)
        assert last.status_code == 413 and last.json()["error"]["type"] == "request_too_large"
        assert "--admin-scenarios-max, --admin-scenarios-max-mb" in last.json()["error"]["message"]
        names = [s["name"] for s in client.get("/_mockbay/scenarios").json()["scenarios"]]
        assert names == sorted({r.json()["loaded"][0] for r in kept})
        assert client.post("/_mockbay/reset").is_success  # a reset keeps the loads, as the scenarios
        assert client.post("/_mockbay/scenarios", content=loads[-1]).status_code == 413
