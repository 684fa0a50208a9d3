"""A streaming UI consumer: shows text as it arrives, then checks what the user ended up seeing."""

from __future__ import annotations

from collections.abc import Callable

import anthropic
import pytest


def stream_answer(client: anthropic.Anthropic, prompt: str, show: Callable[[str], None]) -> str:
    """The code under test: hand each text delta to the UI, return the assembled text."""
    with client.messages.stream(
        model="claude-haiku-4-5", max_tokens=500, messages=[{"role": "user", "content": prompt}]
    ) as stream:
        for delta in stream.text_stream:
            show(delta)
        return stream.get_final_message().content[0].text


@pytest.mark.mockbay(scenarios=["scenarios/story-stream.yaml"])
def test_ui_receives_every_delta_in_order(client: anthropic.Anthropic) -> None:
    shown: list[str] = []

    final = stream_answer(client, "Tell me a story.", shown.append)

    assert shown == ["Once upon a time, ", "a mock server ", "answered every request ", "on time."]
    assert "".join(shown) == final
