"""GET /_mockbay/requests/{id}/scenario: a file `mockbay validate` accepts that replays the same reply."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest

from mockbay.cli import main
from mockbay.loading import BUNDLED
from mockbay.server.runner import MockServer
from tests.integration.test_record_threads import run_agent
from tests.processes import start, stop

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
THREADED = {**HEADERS, "anthropic-beta": "message-threads-2026-08-12"}  # a `thread` is refused without it
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
TRIP = """
name: trip
match: {system: {contains: travel}}
turns:
  - reply:
      content:
        - text: "Let me find a flight."
        - tool_use: {name: find_flight, input: {to: Paris}}
  - reply:
      content:
        - tool_use: {name: book_hotel, input: {city: Paris}}
  - reply: {text: "Flight and hotel booked in Paris."}
"""
TRIP_TOOLS = [{"name": name, "input_schema": {"type": "object"}} for name in ("find_flight", "book_hotel")]


def _answer(
    url: str, path: str, body: dict[str, Any], headers: dict[str, str] = HEADERS
) -> tuple[int, Any, dict[str, str], str]:
    """Status, body (or stream events), the headers a replay repeats, and request id of one answer."""
    reply = httpx.post(f"{url}{path}", json={**ASK, **body}, headers=headers)
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


def _save(url: str, request_ids: list[str], folder: Path) -> None:
    """Each exchange's saved scenario into `folder`, one file each, as the inspector downloads them."""
    folder.mkdir(exist_ok=True)
    for request_id in request_ids:
        saved = httpx.get(f"{url}/_mockbay/requests/{request_id}/scenario")
        assert saved.status_code == 200, saved.text
        (folder / f"{request_id}.yaml").write_text(saved.text)


def _trip(url: str) -> list[tuple[dict[str, Any], str | None]]:
    """A tool loop run to its end with the SDK (unthreaded): each turn's message and request id."""
    messages: list[Any] = [{"role": "user", "content": "Plan my trip to Paris."}]
    turns = []
    with anthropic.Anthropic(base_url=url, api_key="k", max_retries=0) as sdk:
        while True:
            reply = sdk.messages.create(
                model="claude-sonnet-4-6",
                max_tokens=500,
                system="You plan travel.",
                tools=TRIP_TOOLS,
                messages=messages,
            )
            turns.append((reply.model_dump(), reply._request_id))
            if reply.stop_reason != "tool_use":
                return turns
            (tool,) = [block for block in reply.content if block.type == "tool_use"]
            result = {"type": "tool_result", "tool_use_id": tool.id, "content": "done"}
            messages += [
                {"role": "assistant", "content": reply.content},
                {"role": "user", "content": [result]},
            ]


def test_the_turns_of_a_conversation_saved_into_one_folder_load_together_and_beside_its_recording(
    tmp_path: Path,
) -> None:
    """Each saved turn is a scenario of its own name (they share the conversation's model and
    first message), so the folder loads, and loads with `mockbay record`'s file of it too."""
    (tmp_path / "trip.yaml").write_text(TRIP)
    saved, recorded = tmp_path / "saved", tmp_path / "recorded"
    with MockServer([tmp_path / "trip.yaml"]) as server:
        seen = _trip(server.url)
        _save(server.url, [str(request_id) for _, request_id in seen], saved)
        proxy = start("record", "--upstream", server.url, "--out", str(recorded), "--port", "0")
        try:
            through_recorder = _trip(proxy.url)
        finally:
            stop(proxy)
    assert [message["stop_reason"] for message, _ in seen] == ["tool_use", "tool_use", "end_turn"]
    assert main(["validate", str(saved)]) == 0
    with MockServer([saved]) as fresh:
        assert [message for message, _ in _trip(fresh.url)] == [message for message, _ in seen]
    (recording,) = recorded.iterdir()
    (saved / recording.name).write_text(recording.read_text())
    assert main(["validate", str(saved)]) == 0
    with MockServer([saved]) as both:
        assert [message for message, _ in _trip(both.url)] == [message for message, _ in through_recorder]


def test_a_tool_runners_threaded_turns_saved_replay_the_runner(tmp_path: Path) -> None:
    """A continue is saved as the whole conversation the server matched, as the recorder keeps it."""
    with MockServer([BUNDLED / "weather-agent.yaml"]) as server:
        seen = run_agent(server.url, stream=True)
        _save(server.url, [call.request_id for call in server.journal.calls], tmp_path / "saved")
    assert len(seen) == 2
    with MockServer([tmp_path / "saved"]) as fresh:
        assert run_agent(fresh.url, stream=True) == seen


def test_a_continue_saves_while_its_thread_is_held_or_as_sent_when_it_was_refused(tmp_path: Path) -> None:
    """A continue answered from a thread the server has since let go cannot be saved as what it
    matched; one refused for its unknown thread is saved as sent, and replays its refusal."""
    thread = {"type": "continue", "previous_message_id": "msg_unknown"}
    unknown = {"messages": [{"role": "user", "content": "go on"}], "thread": thread}
    with MockServer([BUNDLED / "weather-agent.yaml"], threads_max=1) as server:
        run_agent(server.url, stream=False)  # the continue's hold lets go of the create's
        continued = server.journal.calls[1].request_id
        gone = httpx.get(f"{server.url}/_mockbay/requests/{continued}/scenario")
        status, refusal, _, request_id = _answer(server.url, "/v1/messages", unknown, THREADED)
        _save(server.url, [request_id], tmp_path / "saved")
    assert gone.status_code == 400 and "no longer held" in gone.json()["error"]["message"]
    assert status == 400 and refusal["error"]["details"] == {"error_code": "thread_not_found"}
    assert main(["validate", str(tmp_path / "saved")]) == 0
    with MockServer([tmp_path / "saved"]) as fresh:
        assert _answer(fresh.url, "/v1/messages", unknown, THREADED)[:2] == (status, refusal)


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
