"""Compaction requests (beta `compact-2026-09-04`): `compaction: {type: summarize}` is answered
with a `compaction` block alone and stop reason `compaction`, through the official SDK, JSON and
streamed, and the SDK tool runner's `compact_before_next_turn()` runs through it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
from anthropic import beta_tool

from mockbay.loading import BUNDLED
from mockbay.server.runner import MockServer
from tests.conftest import sync_client
from tests.processes import record_then_replay

BETA = "compact-2026-09-04"
MODEL = "claude-sonnet-4-6"
SUMMARIZE = {"type": "summarize"}
QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]
TOOL_LOOP = [
    *QUESTION,
    {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}],
    },
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18 C"}]},
    {"role": "assistant", "content": "It is 18 C."},
    {"role": "user", "content": "And tomorrow?"},
]
SUMMARIZER = """
name: summarizer
match: {last_user: {contains: weather}}
rules:
  - reply:
      content:
        - compaction: {content: "The scenario's own summary of the weather talk."}
"""
CHATTY = """
name: chatty
match: {last_user: {contains: weather}}
rules:
  - reply: {text: "It is 18 C."}
"""
AFTER_COMPACTION = """
name: after-compaction
match: {has_block: {type: compaction}}
rules:
  - reply: {text: "Going on from the summary: it is 18 C and sunny in Paris."}
"""


@beta_tool
def get_weather(city: str, unit: str = "celsius") -> str:
    """Get the weather for a city."""
    return f"18 C and sunny in {city}"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:  # no scenario, strict fallback: a compaction needs neither
        yield running


def _compact(client: anthropic.Anthropic, messages: list[dict[str, Any]], **extra: Any) -> Any:
    return client.beta.messages.create(
        model=MODEL, max_tokens=1024, messages=messages, compaction=SUMMARIZE, betas=[BETA], **extra
    )


def test_a_compaction_request_gets_the_summary_alone(server: MockServer) -> None:
    client = sync_client(server.url)
    message = _compact(client, TOOL_LOOP)
    (block,) = message.content
    assert block.type == "compaction" and message.stop_reason == "compaction"
    assert block.content == (
        "Summary of the conversation so far (5 messages). The user asked: \u201cWhat is the weather in "
        "Paris?\u201d. Tools called: get_weather. Latest request: \u201cAnd tomorrow?\u201d."
    )
    assert block.signature and block.encrypted_content is None and block.tool_changes == []
    assert message.usage.output_tokens > 0 and message.usage.input_tokens > 0
    with client.beta.messages.stream(
        model=MODEL, max_tokens=1024, messages=TOOL_LOOP, compaction=SUMMARIZE, betas=[BETA]
    ) as stream:
        events = [event.type for event in stream]
        streamed = stream.get_final_message()
    assert streamed.to_dict() == message.to_dict()
    assert "compaction" in events  # the SDK's event for the compaction_delta
    assert _compact(client, QUESTION).content[0].content != block.content


def test_the_journal_and_headers_say_mockbay_wrote_it(server: MockServer) -> None:
    body = {"model": MODEL, "max_tokens": 64, "messages": QUESTION, "compaction": SUMMARIZE}
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01", "anthropic-beta": BETA}
    response = httpx.post(f"{server.url}/v1/messages", json=body, headers=headers)
    assert response.status_code == 200 and response.headers["x-mockbay-generated"] == "true"
    last = server.journal.last
    assert last.generated and not last.missed and last.scenario is None


REFUSED = [
    ("context_management", {"context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]}}),
    ("stop_sequences", {"stop_sequences": ["###"]}),
    ("tool_choice", {"tools": [get_weather.to_dict()], "tool_choice": {"type": "any"}}),
    (
        "output_config.format",
        {"output_config": {"format": {"type": "json_schema", "schema": {"type": "object"}}}},
    ),
]


@pytest.mark.parametrize(("field", "extra"), REFUSED, ids=[row[0] for row in REFUSED])
def test_fields_that_only_shape_a_reply_are_refused(
    server: MockServer, field: str, extra: dict[str, Any]
) -> None:
    client = sync_client(server.url, max_retries=0)
    betas = [BETA, "context-management-2025-06-27"]
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.beta.messages.create(
            model=MODEL, max_tokens=64, messages=QUESTION, compaction=SUMMARIZE, betas=betas, **extra
        )
    assert caught.value.body["error"]["message"] == (  # type: ignore[index]
        f"{field}: cannot be combined with `compaction`: a compaction request is answered with the summary alone"
    )


def test_count_tokens_takes_compaction_and_ignores_it(server: MockServer) -> None:
    client = sync_client(server.url)
    plain = client.beta.messages.count_tokens(model=MODEL, messages=TOOL_LOOP)
    compacting = client.beta.messages.count_tokens(
        model=MODEL,
        messages=TOOL_LOOP,
        compaction=SUMMARIZE,
        context_management={"edits": [{"type": "clear_tool_uses_20250919"}]},
        betas=[BETA, "context-management-2025-06-27"],
    )
    assert compacting.input_tokens == plain.input_tokens


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_the_tool_runner_compacts_between_turns(tmp_path: Path, stream: bool) -> None:
    (tmp_path / "after.yaml").write_text(AFTER_COMPACTION)
    with MockServer([BUNDLED / "weather-agent.yaml", tmp_path / "after.yaml"]) as server:
        client = sync_client(server.url)
        runner = client.beta.messages.tool_runner(
            model=MODEL,
            max_tokens=2000,
            system="You answer weather questions.",
            tools=[get_weather],
            messages=QUESTION,
            betas=[BETA],
            stream=stream,
        )
        reasons = []
        for turn in runner:
            message = turn.get_final_message() if stream else turn
            reasons.append(message.stop_reason)
            if message.stop_reason == "tool_use":
                runner.compact_before_next_turn()
        assert reasons == ["tool_use", "compaction", "end_turn"]
        compacting, going_on = server.journal.calls[-2:]
        assert compacting.body["compaction"] == SUMMARIZE and len(compacting.body["messages"]) == 3
        first = going_on.body["messages"][0]
        assert first["role"] == "assistant" and first["content"][0]["type"] == "compaction"
        assert going_on.scenario == "after-compaction"


@pytest.mark.parametrize(
    ("scenario", "summary"),
    [(SUMMARIZER, "The scenario's own summary of the weather talk."), (CHATTY, None)],
    ids=["a-summary-answers", "any-other-reply-is-passed-over"],
)
def test_a_scenario_answers_a_compaction_only_with_a_summary(
    tmp_path: Path, scenario: str, summary: str | None
) -> None:
    (tmp_path / "scenario.yaml").write_text(scenario)
    with MockServer([tmp_path / "scenario.yaml"]) as server:
        message = _compact(sync_client(server.url), QUESTION)
        (block,) = message.content
        assert block.type == "compaction" and message.stop_reason == "compaction"
        assert block.content == summary or (summary is None and block.content.startswith("Summary of"))
        assert (server.journal.last.scenario is not None) == (summary is not None)


def test_a_recorded_compaction_replays_the_recorded_summary(tmp_path: Path) -> None:
    (tmp_path / "upstream.yaml").write_text(SUMMARIZER)

    def compact(base_url: str) -> Any:
        with sync_client(base_url) as client:
            return _compact(client, QUESTION)

    recorded, _, replayed = record_then_replay(tmp_path / "upstream.yaml", tmp_path / "out", compact)
    assert recorded.content[0].content == "The scenario's own summary of the weather talk."
    assert replayed.to_dict() == recorded.to_dict()


def test_a_saved_compaction_exchange_answers_the_same_request(server: MockServer, tmp_path: Path) -> None:
    body = {"model": MODEL, "max_tokens": 64, "messages": TOOL_LOOP, "compaction": SUMMARIZE}
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01", "anthropic-beta": BETA}
    sent = httpx.post(f"{server.url}/v1/messages", json=body, headers=headers)
    saved = httpx.get(f"{server.url}/_mockbay/requests/{sent.headers['request-id']}/scenario").text
    assert "(answered by mockbay's compaction summary)" in saved and "- compaction:" in saved
    (tmp_path / "saved.yaml").write_text(saved)
    with MockServer([tmp_path / "saved.yaml"]) as fresh:
        again = httpx.post(f"{fresh.url}/v1/messages", json=body, headers=headers)
        assert fresh.journal.last.scenario is not None  # the saved step answered, not mockbay's summary
    assert again.content == sent.content
