"""Cache diagnostics (`diagnostics.previous_message_id` → `diagnostics.cache_miss_reason`), as the
official SDK sees it: each of the SDK's six reason kinds worked out from the earlier request's
fingerprint, the same in JSON and in a stream once the SDK's accumulator has it, a scripted
`diagnostics` winning, and the fingerprints' cap.

The prompt is sized so the numbers are known: a 7,350-character system prompt on Sonnet 4.6 is a
2,102-token cached prefix with the request framing; the 70-character question adds 22 tokens, so
the automatic breakpoint on it ends at 2,124.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from mockbay.server.runner import MockServer
from tests.conftest import sync_client

MODEL = "claude-sonnet-4-6"
SYSTEM = "s" * 7350
QUESTION = "q" * 70
SYSTEM_PREFIX, WHOLE_PREFIX = 2102, 2124
BETA = {"anthropic-beta": "cache-diagnosis-2026-04-07"}
WEATHER = {"name": "get_weather", "description": "Weather.", "input_schema": {"type": "object"}}
SCRIPTED = """
name: scripted-diagnosis
turns:
  - when: {last_user: {contains: scripted}}
    reply:
      text: As scripted.
      diagnostics: {cache_miss_reason: {type: system_changed, cache_missed_input_tokens: 7}}
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MockServer]:
    scenario = tmp_path_factory.mktemp("diagnostics") / "scripted.yaml"
    scenario.write_text(SCRIPTED)
    with MockServer([scenario], timing="instant", fallback="generate") as server:
        yield server


@pytest.fixture
def client(server: MockServer) -> anthropic.Anthropic:
    server.reset()
    return sync_client(server.url, default_headers=BETA)


def request(previous: str | None, **changes: Any) -> dict[str, Any]:
    """The first turn's request (cached system prompt, automatic caching), with `changes`."""
    return {
        "model": MODEL,
        "max_tokens": 64,
        "system": [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}],
        "cache_control": {"type": "ephemeral"},
        "messages": [{"role": "user", "content": QUESTION}],
        "diagnostics": {"previous_message_id": previous},
        **changes,
    }


def reason(client: anthropic.Anthropic, body: dict[str, Any]) -> dict[str, Any] | None:
    """The reply's `diagnostics`, asked for in JSON and in a stream: the two must agree."""
    sent = client.messages.create(**body)
    with client.messages.stream(**body) as stream:
        streamed = stream.get_final_message()
    as_json = None if sent.diagnostics is None else sent.diagnostics.to_dict()
    assert (None if streamed.diagnostics is None else streamed.diagnostics.to_dict()) == as_json
    return as_json


def first_turn(client: anthropic.Anthropic, **changes: Any) -> anthropic.types.Message:
    message = client.messages.create(**request(None, **changes))
    assert message.diagnostics is None  # opted in, nothing to compare with
    return message


def missed(kind: str, tokens: int) -> dict[str, Any]:
    return {"cache_miss_reason": {"type": kind, "cache_missed_input_tokens": tokens}}


def test_a_next_turn_that_only_appends_messages_has_no_diagnostics(client: anthropic.Anthropic) -> None:
    first = first_turn(client)
    history = [
        {"role": "user", "content": QUESTION},
        {"role": "assistant", "content": [block.to_dict() for block in first.content]},
        {"role": "user", "content": "And then?"},
    ]
    assert reason(client, request(first.id, messages=history)) is None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"model": "claude-opus-4-7"}, missed("model_changed", WHOLE_PREFIX)),
        ({"speed": "fast"}, missed("model_changed", WHOLE_PREFIX)),
        ({"tools": [WEATHER]}, missed("tools_changed", WHOLE_PREFIX)),
        (
            {"system": [{"type": "text", "text": "t" * 7350, "cache_control": {"type": "ephemeral"}}]},
            missed("system_changed", WHOLE_PREFIX),
        ),
        # the cached system prompt is still read: only what followed it is missed
        ({"messages": [{"role": "user", "content": "r" * 70}]}, missed("messages_changed", 22)),
        (
            {"thinking": {"type": "enabled", "budget_tokens": 1024}, "max_tokens": 2048},
            {"cache_miss_reason": {"type": "unavailable"}},
        ),
    ],
    ids=["model", "speed", "tools", "system", "messages", "thinking"],
)
def test_each_change_is_named_with_the_tokens_it_cost(
    client: anthropic.Anthropic, changes: dict[str, Any], expected: dict[str, Any]
) -> None:
    first = first_turn(client)
    assert reason(client, request(first.id, **changes)) == expected


def test_an_id_with_no_fingerprint_is_previous_message_not_found(client: anthropic.Anthropic) -> None:
    unknown = {"cache_miss_reason": {"type": "previous_message_not_found"}}
    assert reason(client, request("msg_01NeverSent")) == unknown
    not_opted_in = client.messages.create(**{k: v for k, v in request(None).items() if k != "diagnostics"})
    assert reason(client, request(not_opted_in.id, messages=[{"role": "user", "content": "x"}])) == unknown


def test_the_earlier_prompt_without_a_cacheable_breakpoint_missed_nothing(
    client: anthropic.Anthropic,
) -> None:
    first = first_turn(client, system="short", cache_control=None)
    assert reason(client, request(first.id, system="other", cache_control=None)) == missed(
        "system_changed", 0
    )


def test_a_scripted_diagnostics_wins(client: anthropic.Anthropic) -> None:
    first = first_turn(client)
    body = request(first.id, model="claude-opus-4-7", messages=[{"role": "user", "content": "scripted"}])
    assert reason(client, body) == missed("system_changed", 7)


def test_the_oldest_fingerprint_goes_beyond_the_cap() -> None:
    with MockServer([], timing="instant", fallback="generate", diagnostics_max=2) as server:
        client = sync_client(server.url, default_headers=BETA)
        ids = [
            client.messages.create(
                **request(None, messages=[{"role": "user", "content": f"{n}{QUESTION[1:]}"}])
            ).id
            for n in range(3)
        ]
        again = [{"role": "user", "content": "again"}]
        oldest = client.messages.create(**request(ids[0], messages=again))  # its own fingerprint...
        newest = client.messages.create(**request(ids[2], messages=again))  # ...leaves ids[2] kept
    assert oldest.to_dict()["diagnostics"] == {"cache_miss_reason": {"type": "previous_message_not_found"}}
    assert newest.to_dict()["diagnostics"] == missed("messages_changed", WHOLE_PREFIX - SYSTEM_PREFIX)
