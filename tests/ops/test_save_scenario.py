"""GET /_mockbay/requests/{id}/scenario: a file `mockbay validate` accepts that replays the same reply."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockbay.cli import main
from mockbay.server.runner import MockServer

SCENARIOS = """
scenarios:
  - name: capitals
    match: {last_user: {contains: capital}}
    rules:
      - reply:
          content:
            - thinking: {chunks: ["Paris, ", "surely."]}
            - text: {chunks: ["Paris is ", "the capital ", "of France."]}
            - tool_use: {name: lookup, input: {city: Paris}}
          headers: {anthropic-ratelimit-requests-remaining: "41"}
  - name: broken-stream
    match: {last_user: {contains: broken}}
    rules:
      - reply:
          text: {chunks: ["One ", "two ", "three ", "four."]}
          fault: {kind: error_event, after_events: 4, error: {type: overloaded_error}}
  - name: rate-limited
    match: {last_user: {contains: hurry}}
    rules:
      - reply:
          error: {status: 429, type: rate_limit_error, message: Slow down}
          headers: {retry-after: "7"}
  - name: pinned-only
    priority: -1
    match: {last_user: {contains: nothing-sends-this}}
    turns:
      - reply: {text: "first turn"}
      - reply: {text: "second turn"}
"""
HEADERS = {"x-api-key": "secret-key-123", "anthropic-version": "2023-06-01"}
ASK = {"model": "claude-sonnet-4-6", "max_tokens": 100}
SECOND_TURN = [
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": "first turn"},
    {"role": "user", "content": "again"},
]
CASES = {
    "matched": ("/v1/messages", {"messages": [{"role": "user", "content": "capital of France?"}]}),
    "streamed": ("/v1/messages", {"stream": True, "messages": [{"role": "user", "content": "the capital?"}]}),
    "fault": ("/v1/messages", {"stream": True, "messages": [{"role": "user", "content": "broken"}]}),
    "unmatched": ("/v1/messages", {"messages": [{"role": "user", "content": "no scenario knows"}]}),
    "rate-limited": ("/v1/messages", {"messages": [{"role": "user", "content": "hurry up"}]}),
    "pinned": ("/s/pinned-only/v1/messages", {"messages": SECOND_TURN}),
    # bodies validation refused: the journal keeps them, and saving one must not fail on its shape
    "refused-messages-number": ("/v1/messages", {"messages": 5}),
    "refused-text-number": (
        "/v1/messages",
        {"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]},
    ),
    "refused-text-missing": ("/v1/messages", {"messages": [{"role": "user", "content": [{"type": "text"}]}]}),
}
# The headers a saved scenario repeats (`retry-after`, rate-limit ones), for the cases that have them.
REPLAYED = {
    "rate-limited": {"retry-after": "7"},
    "matched": {"anthropic-ratelimit-requests-remaining": "41"},
    "streamed": {"anthropic-ratelimit-requests-remaining": "41"},
}


def _answer(url: str, path: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str], str]:
    """Status, body (or stream events), the headers a replay repeats, and request id of one answer."""
    reply = httpx.post(f"{url}{path}", json={**ASK, **body}, headers=HEADERS)
    replayed = {
        name: value
        for name, value in reply.headers.items()
        if name == "retry-after" or name.startswith("anthropic-ratelimit-")
    }
    if reply.headers["content-type"].startswith("text/event-stream"):
        events = [json.loads(line[6:]) for line in reply.text.splitlines() if line.startswith("data: ")]
        for event in events:
            if event["type"] == "error":
                event["request_id"] = None
        return reply.status_code, events, replayed, reply.headers["request-id"]
    data = reply.json()
    if data.get("type") == "error":
        data["request_id"] = None  # a fresh server's own request id
    return reply.status_code, data, replayed, reply.headers["request-id"]


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_saved_exchange_validates_and_replays_the_same_reply(case: str, tmp_path: Path) -> None:
    (tmp_path / "given.yaml").write_text(SCENARIOS)
    path, body = CASES[case]
    with MockServer([tmp_path / "given.yaml"]) as server:
        status, answer, replayed, request_id = _answer(server.url, path, body)
        saved = httpx.get(f"{server.url}/_mockbay/requests/{request_id}/scenario")
        detail = httpx.get(f"{server.url}/_mockbay/requests/{request_id}").json()
    assert saved.status_code == 200 and saved.headers["content-type"].startswith("application/yaml")
    assert f'filename="{request_id}.yaml"' in saved.headers["content-disposition"]
    assert "secret-key-123" not in saved.text
    assert detail["request_id"] == request_id and detail["reply"] is not None
    file = tmp_path / "saved" / "exchange.yaml"
    file.parent.mkdir()
    file.write_text(saved.text)
    assert main(["validate", str(file)]) == 0
    assert replayed == REPLAYED.get(case, {})
    with MockServer([file]) as fresh:
        assert _answer(fresh.url, path, body)[:3] == (status, answer, replayed)


def test_unknown_ids_and_other_endpoints_are_4xx_envelopes(tmp_path: Path) -> None:
    with MockServer([]) as server:
        missing = httpx.get(f"{server.url}/_mockbay/requests/req_nope/scenario")
        assert missing.status_code == 404 and missing.json()["error"]["type"] == "not_found_error"
        models = httpx.get(f"{server.url}/v1/models", headers=HEADERS)
        saved = httpx.get(f"{server.url}/_mockbay/requests/{models.headers['request-id']}/scenario")
        assert saved.status_code == 400 and "Messages request" in saved.json()["error"]["message"]


def test_the_journal_can_be_read_from_a_sequence_number_on() -> None:
    with MockServer([]) as server:
        for _ in range(3):
            httpx.get(f"{server.url}/v1/models", headers=HEADERS)
        newer = httpx.get(f"{server.url}/_mockbay/requests", params={"after": 1}).json()["requests"]
        assert [e["seq"] for e in newer] == [2, 3]
        bad = httpx.get(f"{server.url}/_mockbay/requests", params={"after": "x"})
        assert bad.status_code == 400 and "after" in bad.json()["error"]["message"]


def test_a_kept_stream_counts_toward_the_journals_byte_cap(tmp_path: Path) -> None:
    (tmp_path / "given.yaml").write_text(SCENARIOS)
    with MockServer([tmp_path / "given.yaml"]) as server:
        path, body = CASES["streamed"]
        _answer(server.url, path, body)
        (exchange,) = server.journal.calls
        assert exchange.sent_events
        sent = sum(len(event.data) for event in exchange.sent_events)
        assert server.state.journal.bytes >= sent + len(json.dumps(exchange.body))


@pytest.fixture()
def _close_cloud_clients() -> Iterator[None]:
    from tests.integration.cloud import OPEN_CLIENTS

    yield
    while OPEN_CLIENTS:
        OPEN_CLIENTS.pop().close()


@pytest.mark.usefixtures("_close_cloud_clients")
def test_a_bedrock_stream_is_saved_and_replays_on_bedrock(tmp_path: Path) -> None:
    from tests.integration.cloud import BEDROCK_MODEL, bedrock

    (tmp_path / "given.yaml").write_text(SCENARIOS)
    ask = {"model": BEDROCK_MODEL, "max_tokens": 100, "messages": [{"role": "user", "content": "broken"}]}
    with MockServer([tmp_path / "given.yaml"]) as server:
        with bedrock(server, "capitals").messages.stream(**ask) as stream:
            first = stream.get_final_message()
        (exchange,) = server.journal.calls
        assert exchange.platform == "bedrock"
        saved = httpx.get(f"{server.url}/_mockbay/requests/{exchange.request_id}/scenario").text
    file = tmp_path / "saved" / "bedrock.yaml"
    file.parent.mkdir()
    file.write_text(saved)
    assert main(["validate", str(file)]) == 0 and "name: capitals" in saved
    with MockServer([file]) as fresh, bedrock(fresh, "capitals").messages.stream(**ask) as stream:
        assert stream.get_final_message() == first
