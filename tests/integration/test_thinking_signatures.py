"""A thinking block sent back edited is refused as upstream refuses it, `messages.N.content.M:
Invalid `signature` in `thinking` block`, when its signature is one mockbay made; sent back as
received (cut short, omitted, from another seed's server) it passes, and signatures mockbay did
not make are never judged. Through the official SDK."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import pytest

from mockbay.server.runner import MockServer
from tests.conftest import sync_client

SCENARIO = """
name: thinker
rules:
  - when: {turn: 0}
    reply:
      content:
        - thinking: "The user greets me; a short greeting back is enough for now."
        - text: "Hello!"
  - reply: {text: "Still here."}
"""
MODEL = "claude-sonnet-4-5"
THINKING = {"type": "enabled", "budget_tokens": 1024}
QUESTION = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        running.load(SCENARIO)
        yield running


def _ask(client: anthropic.Anthropic, messages: list[dict[str, Any]], **extra: Any) -> Any:
    request = {"model": MODEL, "max_tokens": 2048, "thinking": THINKING, **extra}
    return client.messages.create(messages=messages, **request)


def _follow_up(first: Any, **changes: Any) -> list[dict[str, Any]]:
    """The conversation with the reply sent back, its thinking block changed by `changes`."""
    content = [block.to_dict() for block in first.content]
    content[0] = {**content[0], **changes}
    return [*QUESTION, {"role": "assistant", "content": content}, {"role": "user", "content": "Again?"}]


def test_a_thinking_block_sent_back_as_received_passes(server: MockServer) -> None:
    client = sync_client(server.url)
    first = _ask(client, QUESTION)
    assert first.content[0].signature.startswith("EqQB")
    assert _ask(client, _follow_up(first)).content[0].text == "Still here."


@pytest.mark.parametrize(
    "changes",
    [{"thinking": "The user greets me; a long answer it is."}, {"thinking": ""}],
    ids=["edited", "emptied"],
)
def test_an_edited_thinking_block_is_refused(server: MockServer, changes: dict[str, str]) -> None:
    client = sync_client(server.url, max_retries=0)
    first = _ask(client, QUESTION)
    with pytest.raises(anthropic.BadRequestError) as refused:
        _ask(client, _follow_up(first, **changes))
    assert refused.value.body["error"]["message"] == (  # type: ignore[index]
        "messages.1.content.0: Invalid `signature` in `thinking` block"
    )


def test_a_signature_mockbay_did_not_make_is_not_judged(server: MockServer) -> None:
    client = sync_client(server.url)
    first = _ask(client, QUESTION)
    messages = _follow_up(first, thinking="Anything at all.", signature="EqQBupstreamsOwnSignature")
    assert _ask(client, messages).content[0].text == "Still here."


@pytest.mark.parametrize(
    "extra",
    [
        {"model": "claude-sonnet-4-6", "thinking": {"type": "adaptive"}, "max_tokens": 5},
        {"thinking": {**THINKING, "display": "omitted"}},
    ],
    ids=["cut-short", "display-omitted"],
)
def test_what_was_sent_comes_back_valid(server: MockServer, extra: dict[str, Any]) -> None:
    """A thinking block cut by max_tokens, or sent without its text, checks the text it was sent with."""
    client = sync_client(server.url)
    first = _ask(client, QUESTION, **extra)
    sent = first.content[0].thinking
    assert sent != "The user greets me; a short greeting back is enough for now."
    assert _ask(client, _follow_up(first), **extra).stop_reason in ("end_turn", "max_tokens")


def test_a_conversation_moves_between_servers_with_other_seeds(server: MockServer) -> None:
    first = _ask(sync_client(server.url), QUESTION)
    with MockServer(seed=7) as other:
        other.load(SCENARIO)
        assert _ask(sync_client(other.url), _follow_up(first)).content[0].text == "Still here."
