"""An agent loop with thinking and a tool, answered by examples/scenarios/weather-agent.yaml."""

from __future__ import annotations

import anthropic
import pytest
from mini_agent import run_agent

from mockbay import MockServer


@pytest.mark.mockbay(scenarios=["scenarios/weather-agent.yaml"])
def test_agent_calls_the_tool_then_answers(client: anthropic.Anthropic, mockbay: MockServer) -> None:
    answer = run_agent(client, "What is the weather in Paris?")

    assert answer == "It is 18 C and sunny in Paris: a good day for a walk."
    mockbay.journal.assert_called("weather-agent", times=2)
    first, second = mockbay.journal.calls
    assert (first.turn, second.turn) == (0, 1)
    sent_back = second.body["messages"][-1]["content"][0]
    assert sent_back["type"] == "tool_result" and sent_back["content"] == "Paris: 18 C, sunny"
    # The thinking block went back to the model with its signature, as the API requires.
    assert second.body["messages"][1]["content"][0]["signature"]
