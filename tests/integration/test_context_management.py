"""Context management edits (`context_management.edits`) as upstream applies them, through the
official SDK's beta client, JSON and streamed: `clear_tool_uses_20250919` and
`clear_thinking_20251015` report what they cleared and lower `usage.input_tokens` by it, once
their trigger is reached; `compact_20260112` puts a summary before the answer, or stops there
with `pause_after_compaction`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from anthropic import beta_tool

from mockbay.config import ServerConfig
from mockbay.server.runner import MockServer
from tests.conftest import sync_client

MODEL = "claude-sonnet-4-5"
CLEARING = "context-management-2025-06-27"
COMPACTING = "compact-2026-01-12"
RESULT = "lorem ipsum dolor sit amet " * 40  # 1,080 characters: ~309 tokens a result
TRIGGER = {"type": "input_tokens", "value": 1000}  # the loop below is ~1,900 tokens
HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01", "anthropic-beta": CLEARING}


def tool_loop(uses: int) -> list[dict[str, Any]]:
    """A question, then `uses` tool calls and their results, read_file and list_dir in turn."""
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Check the files."}]
    for i in range(uses):
        name = "read_file" if i % 2 == 0 else "list_dir"
        call = {"type": "tool_use", "id": f"toolu_{i}", "name": name, "input": {"path": f"f{i}.txt"}}
        messages.append({"role": "assistant", "content": [call]})
        result = {"type": "tool_result", "tool_use_id": f"toolu_{i}", "content": RESULT}
        messages.append({"role": "user", "content": [result]})
    return messages


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(config=ServerConfig(port=0, timing="instant", fallback="generate")) as running:
        yield running


def ask(server: MockServer, edits: list[dict[str, Any]], messages: list[dict[str, Any]], **extra: Any) -> Any:
    """The reply as JSON, after checking that the stream assembles to the same message."""
    client = sync_client(server.url)
    params: dict[str, Any] = {"model": MODEL, "max_tokens": 1024, "messages": messages, **extra}
    betas = [CLEARING, COMPACTING]
    message = client.beta.messages.create(**params, context_management={"edits": edits}, betas=betas)
    with client.beta.messages.stream(**params, context_management={"edits": edits}, betas=betas) as stream:
        assert stream.get_final_message().to_dict() == message.to_dict()
    return message


def plain(server: MockServer, messages: list[dict[str, Any]], **extra: Any) -> Any:
    client = sync_client(server.url)
    return client.beta.messages.create(
        model=MODEL, max_tokens=1024, messages=messages, betas=[CLEARING], **extra
    )


def test_below_the_trigger_nothing_is_cleared(server: MockServer) -> None:
    edits = [{"type": "clear_tool_uses_20250919"}]  # the default trigger: 100,000 input tokens
    message = ask(server, edits, tool_loop(6))
    assert message.context_management is None
    assert message.usage.input_tokens == plain(server, tool_loop(6)).usage.input_tokens


def test_above_the_trigger_all_but_the_three_latest_tool_uses_are_cleared(server: MockServer) -> None:
    message = ask(server, [{"type": "clear_tool_uses_20250919", "trigger": TRIGGER}], tool_loop(6))
    (edit,) = message.context_management.applied_edits
    assert (edit.type, edit.cleared_tool_uses) == ("clear_tool_uses_20250919", 3)
    assert edit.cleared_input_tokens >= 3 * 300
    whole = plain(server, tool_loop(6)).usage.input_tokens
    assert message.usage.input_tokens == whole - edit.cleared_input_tokens


@pytest.mark.parametrize(
    ("options", "cleared"),
    [
        ({"keep": {"type": "tool_uses", "value": 1}}, 5),
        ({"keep": {"type": "tool_uses", "value": 0}, "exclude_tools": ["read_file"]}, 3),  # list_dir's
        ({"keep": {"type": "tool_uses", "value": 1}, "exclude_tools": ["read_file", "list_dir"]}, None),
        ({"trigger": {"type": "tool_uses", "value": 6}}, 3),
        ({"trigger": {"type": "tool_uses", "value": 7}}, None),
        ({"trigger": TRIGGER, "clear_at_least": {"type": "input_tokens", "value": 100_000}}, None),
    ],
    ids=["keep-1", "exclude-tools", "all-excluded", "tool-uses-trigger", "below-it", "clear-at-least"],
)
def test_keep_exclude_tools_and_the_other_options(
    server: MockServer, options: dict[str, Any], cleared: int | None
) -> None:
    edit = {"type": "clear_tool_uses_20250919", "trigger": TRIGGER, **options}
    message = ask(server, [edit], tool_loop(6))
    if cleared is None:
        assert message.context_management is None
    else:
        assert message.context_management.applied_edits[0].cleared_tool_uses == cleared


def test_clear_tool_inputs_clears_the_calls_too(server: MockServer) -> None:
    results_only = {"type": "clear_tool_uses_20250919", "trigger": TRIGGER}
    by_name = {**results_only, "clear_tool_inputs": ["list_dir"]}
    counts = [
        ask(server, [edit], tool_loop(6)).context_management.applied_edits[0].cleared_input_tokens
        for edit in (results_only, by_name, {**results_only, "clear_tool_inputs": True})
    ]
    assert counts[0] < counts[1] < counts[2]  # cleared: toolu_0..2, list_dir's is toolu_1


THOUGHTS = ["I should answer about Paris first, carefully. " * 8, "Now Rome. " * 30, "Now Oslo. " * 30]


def thinking_conversation() -> list[dict[str, Any]]:
    """Three answered questions, each answer with its thinking, then a fourth question."""
    messages: list[dict[str, Any]] = []
    for i, (city, thought) in enumerate(zip(("Paris", "Rome", "Oslo"), THOUGHTS, strict=True)):
        messages.append({"role": "user", "content": f"Weather in {city}?"})
        thinking = {"type": "thinking", "thinking": thought, "signature": f"sig-{i}"}
        messages.append({"role": "assistant", "content": [thinking, {"type": "text", "text": "Sunny."}]})
    messages.append({"role": "user", "content": "And in Lima?"})
    return messages


def test_clear_thinking_keeps_the_latest_turns_thinking(server: MockServer) -> None:
    thinking = {"thinking": {"type": "enabled", "budget_tokens": 1024}, "max_tokens": 2048}
    keep_all = ask(
        server, [{"type": "clear_thinking_20251015", "keep": "all"}], thinking_conversation(), **thinking
    )
    assert keep_all.context_management is None
    edit = {"type": "clear_thinking_20251015", "keep": {"type": "thinking_turns", "value": 1}}
    message = ask(server, [edit], thinking_conversation(), **thinking)
    (applied,) = message.context_management.applied_edits
    assert (applied.type, applied.cleared_thinking_turns) == ("clear_thinking_20251015", 2)
    assert message.usage.input_tokens == keep_all.usage.input_tokens - applied.cleared_input_tokens
    default = ask(server, [{"type": "clear_thinking_20251015"}], thinking_conversation(), **thinking)
    assert default.to_dict()["context_management"] == message.to_dict()["context_management"]


def test_compaction_puts_the_summary_before_the_answer(server: MockServer) -> None:
    edits = [{"type": "compact_20260112", "trigger": TRIGGER}]
    message = ask(server, edits, tool_loop(6))
    compaction, answer = message.content
    assert compaction.type == "compaction" and compaction.signature and answer.type == "text"
    assert compaction.content.startswith("Summary of the conversation so far (13 messages).")
    assert message.stop_reason == "end_turn" and message.context_management is None
    closed, sampled = message.usage.iterations
    assert (closed.type, sampled.type) == ("compaction", "message")
    assert closed.input_tokens == plain(server, tool_loop(6)).usage.input_tokens
    assert sampled.input_tokens == message.usage.input_tokens < 100  # the summary, not the loop
    assert sampled.output_tokens == message.usage.output_tokens
    # The next request sends the compacted turn back: it is measured from the summary on.
    going_on = [*tool_loop(6), {"role": "assistant", "content": [b.to_dict() for b in message.content]}]
    going_on.append({"role": "user", "content": "Thanks."})
    after = ask(server, edits, going_on)
    assert [block.type for block in after.content] == ["text"] and after.usage.iterations is None
    assert after.usage.input_tokens < 200


def test_below_its_trigger_there_is_no_compaction(server: MockServer) -> None:
    message = ask(server, [{"type": "compact_20260112"}], tool_loop(6))  # default: 150,000 tokens
    assert [block.type for block in message.content] == ["text"] and message.usage.iterations is None


def test_pause_after_compaction_stops_with_the_summary(server: MockServer) -> None:
    edits = [
        {"type": "clear_tool_uses_20250919", "trigger": TRIGGER},
        {
            "type": "compact_20260112",
            "trigger": {"type": "input_tokens", "value": 500},
            "pause_after_compaction": True,
        },
    ]
    message = ask(server, edits, tool_loop(6))
    (compaction,) = message.content
    assert compaction.type == "compaction" and message.stop_reason == "compaction"
    assert message.context_management.applied_edits[0].cleared_tool_uses == 3  # cleared first
    (closed,) = message.usage.iterations
    assert closed.type == "compaction" and closed.output_tokens > 0
    assert (message.usage.input_tokens, message.usage.output_tokens) == (0, 0)
    resumed = ask(server, edits, [*tool_loop(6), {"role": "assistant", "content": [compaction.to_dict()]}])
    assert [block.type for block in resumed.content] == ["text"] and resumed.stop_reason == "end_turn"


def test_count_tokens_counts_the_cleared_prompt(server: MockServer) -> None:
    client = sync_client(server.url)
    edits = [{"type": "clear_tool_uses_20250919", "trigger": TRIGGER}]
    counted = client.beta.messages.count_tokens(
        model=MODEL, messages=tool_loop(6), context_management={"edits": edits}, betas=[CLEARING]
    )
    whole = plain(server, tool_loop(6)).usage.input_tokens
    assert counted.context_management.original_input_tokens == whole > counted.input_tokens
    assert counted.input_tokens == ask(server, edits, tool_loop(6)).usage.input_tokens


def test_the_same_request_gets_the_same_bytes(server: MockServer) -> None:
    edits = [
        {"type": "clear_tool_uses_20250919", "trigger": TRIGGER},
        {"type": "compact_20260112", "trigger": TRIGGER},
    ]
    body = {
        "model": MODEL,
        "max_tokens": 256,
        "messages": tool_loop(6),
        "context_management": {"edits": edits},
    }
    first, second = (httpx.post(f"{server.url}/v1/messages", json=body, headers=HEADERS) for _ in range(2))
    assert first.status_code == 200 and first.content == second.content


SCRIPTED = """
name: scripted
match: {}
rules:
  - reply:
      text: "Done."
      context_management: {applied_edits: [{type: clear_tool_uses_20250919, cleared_tool_uses: 9, cleared_input_tokens: 1}]}
"""
SEQUENCE = """
name: sequence
match: {}
rules:
  - replies:
      - text: "First."
      - text: "Second."
"""


def test_a_scripted_report_is_kept(tmp_path: Path) -> None:
    (tmp_path / "scripted.yaml").write_text(SCRIPTED)
    with MockServer([tmp_path / "scripted.yaml"]) as scripted:
        message = ask(scripted, [{"type": "clear_tool_uses_20250919", "trigger": TRIGGER}], tool_loop(6))
    (edit,) = message.context_management.applied_edits
    assert (edit.cleared_tool_uses, edit.cleared_input_tokens) == (9, 1)


def test_a_paused_compaction_does_not_use_up_a_reply(tmp_path: Path) -> None:
    (tmp_path / "sequence.yaml").write_text(SEQUENCE)
    pausing = [{"type": "compact_20260112", "trigger": TRIGGER, "pause_after_compaction": True}]
    with MockServer([tmp_path / "sequence.yaml"]) as sequenced:
        client = sync_client(sequenced.url)
        texts = []
        for edits in (pausing, pausing, []):
            message = client.beta.messages.create(
                model=MODEL,
                max_tokens=64,
                messages=tool_loop(6),
                context_management={"edits": edits},
                betas=[COMPACTING],
            )
            texts.append(
                message.content[0].type if message.stop_reason == "compaction" else message.content[0].text
            )
        assert texts == ["compaction", "compaction", "First."]
        assert sequenced.journal.last.scenario == "sequence"


@beta_tool
def read_file(path: str) -> str:
    """Read a file."""
    return RESULT * 3


AGENT = """
name: agent
match: {}
rules:
  - when: {tool_result: {name: read_file}}
    reply: {text: "The file is lorem ipsum."}
  - reply:
      content:
        - tool_use: {name: read_file, input: {path: a.txt}}
"""


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_the_tool_runner_resumes_after_a_paused_compaction(tmp_path: Path, stream: bool) -> None:
    (tmp_path / "agent.yaml").write_text(AGENT)
    question = [{"role": "user", "content": "What is in a.txt?"}]
    with MockServer([tmp_path / "agent.yaml"]) as agent:
        client = sync_client(agent.url)
        start = client.beta.messages.count_tokens(model=MODEL, messages=question, tools=[read_file.to_dict()])
        trigger = {"type": "input_tokens", "value": start.input_tokens + 200}  # reached once the file is read
        edit = {"type": "compact_20260112", "trigger": trigger, "pause_after_compaction": True}
        runner = client.beta.messages.tool_runner(
            model=MODEL,
            max_tokens=1024,
            tools=[read_file],
            messages=question,
            context_management={"edits": [edit]},
            betas=[COMPACTING],
            stream=stream,
        )
        messages = [turn.get_final_message() if stream else turn for turn in runner]
        assert [message.stop_reason for message in messages] == ["tool_use", "compaction", "end_turn"]
        assert messages[-1].content[0].text == "The file is lorem ipsum."  # resumed from the summary


def test_lenient_validation_reads_a_malformed_edit_as_absent() -> None:
    edits = [
        {"type": "clear_tool_uses_20250919", "trigger": {"type": "input_tokens", "value": "1k"}, "keep": 3},
        {"type": "compact_20260112", "trigger": {"value": -5}, "pause_after_compaction": "yes"},
        "clear_thinking_20251015",
    ]
    body = {
        "model": MODEL,
        "max_tokens": 64,
        "messages": tool_loop(6),
        "context_management": {"edits": edits},
    }
    config = ServerConfig(port=0, timing="instant", fallback="generate", validation="lenient")
    with MockServer(config=config) as lenient:
        response = httpx.post(f"{lenient.url}/v1/messages", json=body, headers=HEADERS)
    assert response.status_code == 200
    content = response.json()["content"]  # the compaction's trigger reads as 0: reached, not paused
    assert [block["type"] for block in content] == ["compaction", "text"]
    assert "context_management" not in response.json()  # the clearing edit's trigger: its default
