"""The reply memo: a pure reply is computed once, and nothing that could change it is forgotten.

Every answer must be what the full pipeline would give: the memo keys on the body bytes, the pin
and the headers matchers read, and is cleared when scenarios or the config change.
"""

from __future__ import annotations

import httpx

from mockbay.server.runner import MockServer

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
SCENARIOS = """
scenarios:
  - name: by-header
    match: {header: {x-tenant: acme}}
    rules: [{reply: {text: "acme"}}]
  - name: plain
    priority: -1
    rules:
      - when: {last_user: {contains: id}}
        reply: {text: "request {{ request_id }}"}
      - reply: {text: "plain"}
"""


def _ask(server: MockServer, body: dict[str, object] = BODY, **headers: str) -> httpx.Response:
    return httpx.post(f"{server.url}/v1/messages", headers={**HEADERS, **headers}, json=body)


def test_a_repeated_pure_request_is_answered_from_the_memo_with_its_journal_entry():
    with MockServer() as server:
        server.load(SCENARIOS)
        first, second = _ask(server), _ask(server)
        assert first.content == second.content and first.json()["content"][0]["text"] == "plain"
        assert first.headers["request-id"] != second.headers["request-id"]
        assert len(server.state.memo) == 1
        calls = server.journal.calls
        assert [(c.scenario, c.step, c.matched, c.body) for c in calls] == [
            ("plain", "rules[1]", True, BODY)
        ] * 2


def test_headers_that_matchers_read_are_part_of_the_key():
    with MockServer() as server:
        server.load(SCENARIOS)
        assert _ask(server).json()["content"][0]["text"] == "plain"
        assert _ask(server, **{"x-tenant": "acme"}).json()["content"][0]["text"] == "acme"
        assert _ask(server).json()["content"][0]["text"] == "plain"


def test_a_reply_naming_the_request_id_is_never_memoised():
    body = {**BODY, "messages": [{"role": "user", "content": "my id?"}]}
    with MockServer() as server:
        server.load(SCENARIOS)
        texts = [_ask(server, body).json()["content"][0]["text"] for _ in range(2)]
        assert texts[0] != texts[1] and len(server.state.memo) == 0


def test_new_scenarios_and_new_options_clear_the_memo():
    with MockServer() as server:
        server.load(SCENARIOS)
        before = _ask(server).json()
        server.load(SCENARIOS.replace('text: "plain"', 'text: "changed"'))
        assert _ask(server).json()["content"][0]["text"] == "changed"
        with server.overrides(seed=42):
            assert _ask(server).json()["id"] != before["id"]
        server.load(SCENARIOS)
        assert _ask(server).json() == before


def test_sequences_are_not_memoised():
    sequence = "name: seq\nrules:\n  - replies: [{text: one}, {text: two}]\n    then: cycle\n"
    with MockServer() as server:
        server.load(sequence)
        assert [_ask(server).json()["content"][0]["text"] for _ in range(3)] == ["one", "two", "one"]
        _ask(server, {**BODY, "stream": True})
        assert len(server.state.memo) == 0


def test_a_pure_stream_replays_its_encoded_schedule_with_its_timing():
    timed = "name: timed\ntiming: {ttft_ms: 30, gap_ms: 10}\nrules: [{reply: {text: {chunks: [a, b, c]}}}]\n"
    with MockServer() as server:
        server.load(timed)
        first, second = _ask(server, {**BODY, "stream": True}), _ask(server, {**BODY, "stream": True})
        assert first.content == second.content and b"event: message_stop" in first.content
        assert len(server.state.memo) == 1
        replayed = server.journal.last
        assert replayed.stream and replayed.scenario == "timed"
        assert replayed.planned_offsets_ms[3:6] == [30.0, 40.0, 50.0]
        assert replayed.observed_offsets_ms[5] >= 49


def test_the_memo_is_bounded():
    with MockServer(reply_memo_entries=2) as server:
        server.load(SCENARIOS)
        for word in ("a", "b", "c", "d"):
            _ask(server, {**BODY, "messages": [{"role": "user", "content": word}]})
        assert len(server.state.memo) == 2
