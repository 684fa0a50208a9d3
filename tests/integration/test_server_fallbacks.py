"""Server-side fallbacks (beta `server-side-fallback-2026-07-01`): a refused request with a
`fallbacks` chain is tried on each entry's model in turn, and answered as one message, through
the official SDK, JSON and streamed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from mockbay.server.fallbacks import attempt_body
from mockbay.server.runner import MockServer
from tests.conftest import SCENARIOS, sync_client

BETA = "server-side-fallback-2026-07-01"
SCENARIO = SCENARIOS / "refusals.yaml"  # Opus 4.7 and Haiku 4.5 refuse, Sonnet 4.6 answers
REQUEST: dict[str, Any] = {
    "model": "claude-opus-4-7",
    "max_tokens": 200,
    "messages": [{"role": "user", "content": "hi"}],
    "betas": [BETA],
}
HAIKU, SONNET = {"model": "claude-haiku-4-5"}, {"model": "claude-sonnet-4-6", "max_tokens": 100}


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer([SCENARIO]) as running:
        yield running


def _both(client: anthropic.Anthropic, **request: Any) -> Any:
    """The JSON reply, after checking that the streamed one assembles to it."""
    message = client.beta.messages.create(**request)
    with client.beta.messages.stream(**request) as stream:
        assert stream.get_final_message().to_dict() == message.to_dict()
    return message


def test_each_fallback_is_tried_until_one_answers(server: MockServer) -> None:
    server.reset()
    message = _both(sync_client(server.url), **REQUEST, fallbacks=[HAIKU, SONNET])
    assert [block.type for block in message.content] == ["text", "fallback", "fallback", "text"]
    declined, to_haiku, to_sonnet, answer = message.content
    assert declined.text == "I can start, but" and answer.text == "Served by the fallback."
    assert (to_haiku.from_.model, to_haiku.to.model, to_haiku.trigger.category) == (
        "claude-opus-4-7",
        "claude-haiku-4-5-20251001",  # the canonical id
        "cyber",
    )
    assert (to_sonnet.from_.model, to_sonnet.to.model, to_sonnet.trigger.category) == (
        "claude-haiku-4-5-20251001",
        "claude-sonnet-4-6",
        "bio",
    )
    assert (message.model, message.stop_reason, message.stop_details) == (
        "claude-sonnet-4-6",
        "end_turn",
        None,
    )
    entries = [(entry.type, entry.model) for entry in message.usage.iterations]
    assert entries == [
        ("message", "claude-opus-4-7"),
        ("message", "claude-haiku-4-5-20251001"),
        ("fallback_message", "claude-sonnet-4-6"),
    ]
    assert sum(entry.output_tokens for entry in message.usage.iterations) == message.usage.output_tokens
    assert server.journal.last.step == "rules[3]"  # journaled as the attempt that answered


def test_a_chain_that_all_declines_ends_in_the_last_refusal(server: MockServer) -> None:
    message = _both(sync_client(server.url), **REQUEST, fallbacks=[HAIKU])
    assert [block.type for block in message.content] == ["text", "fallback"]
    assert message.stop_reason == "refusal" and message.stop_details.category == "bio"
    assert [entry.type for entry in message.usage.iterations] == ["message", "message"]


@pytest.mark.parametrize("chain", [None, "default"], ids=["no-fallbacks", "default"])
def test_without_a_chain_a_refusal_stays_declined(server: MockServer, chain: str | None) -> None:
    extra = {} if chain is None else {"fallbacks": chain}
    message = _both(sync_client(server.url), **REQUEST, **extra)
    assert [block.type for block in message.content] == ["text"] and message.stop_reason == "refusal"
    assert message.usage.iterations is None


def test_an_attempt_is_validated_as_a_request_to_its_model(server: MockServer) -> None:
    client = sync_client(server.url, max_retries=0)
    with pytest.raises(anthropic.BadRequestError, match="max_tokens: 64001 > 64000"):
        client.beta.messages.create(**REQUEST, fallbacks=[{"model": "claude-haiku-4-5", "max_tokens": 64001}])


def test_an_entry_patches_the_request() -> None:
    body = {
        "model": "claude-opus-4-7",
        "max_tokens": 200,
        "temperature": 0.5,
        "output_config": {"effort": "high", "format": {"type": "json_schema", "schema": {}}},
        "fallbacks": [{"model": "claude-sonnet-4-6"}],
    }
    entry = {"model": "claude-sonnet-4-6", "temperature": None, "output_config": {"format": None}}
    assert attempt_body(body, entry) == {
        "model": "claude-sonnet-4-6",
        "max_tokens": 200,
        "output_config": {"effort": "high"},
    }
