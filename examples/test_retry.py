"""The SDK retries a 529 by itself; the agent never sees the error."""

from __future__ import annotations

import anthropic
import pytest

from mockbay import MockServer


@pytest.mark.mockbay(scenarios=["scenarios/overloaded-once.yaml"])
def test_sdk_retries_through_overload(client: anthropic.Anthropic, mockbay: MockServer) -> None:
    reply = client.messages.create(
        model="claude-haiku-4-5", max_tokens=200, messages=[{"role": "user", "content": "Write a haiku."}]
    )

    assert reply.content[0].text == "Old pond, a frog leaps in: the sound of water."
    assert [call.status for call in mockbay.journal.calls] == [529, 200]


@pytest.mark.mockbay(scenarios=["scenarios/overloaded-once.yaml"])
def test_without_retries_the_error_surfaces(mockbay: MockServer) -> None:
    with (
        anthropic.Anthropic(base_url=mockbay.url, api_key="test-key", max_retries=0) as client,
        pytest.raises(anthropic.InternalServerError) as caught,
    ):
        client.messages.create(
            model="claude-haiku-4-5", max_tokens=200, messages=[{"role": "user", "content": "A haiku?"}]
        )

    assert caught.value.status_code == 529
    assert caught.value.body["error"]["type"] == "overloaded_error"
