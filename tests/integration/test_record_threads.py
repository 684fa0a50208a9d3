"""`mockbay record` of the SDK's tool runner, which threads its requests by default: each continue
is recorded as its whole conversation, so the recording replays the loop with no upstream.

A mockbay process plays the upstream (the bundled weather agent), the recorder sits in front,
and the official SDK's `tool_runner` drives both, JSON and streamed. Processes run on loopback.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import anthropic
import yaml
from anthropic import beta_tool

from mockbay.loading import BUNDLED
from tests.processes import record_then_replay


@beta_tool
def get_weather(city: str, unit: str = "celsius") -> str:
    """Get the weather for a city."""
    return f"18 C and sunny in {city}"


def run_agent(base_url: str, *, stream: bool) -> list[list[dict[str, Any]]]:
    """Every turn's content blocks, as the runner received them."""
    with anthropic.Anthropic(base_url=base_url, api_key="k", max_retries=0) as sdk:
        runner = sdk.beta.messages.tool_runner(
            model="claude-sonnet-4-6",
            max_tokens=2000,
            system="You answer weather questions.",
            tools=[get_weather],
            messages=[{"role": "user", "content": "What is the weather in Paris?"}],
            stream=stream,
        )
        turns = []
        for turn in runner:
            message = turn.get_final_message() if stream else turn
            turns.append([block.model_dump() for block in message.content])
    return turns


def test_a_threaded_tool_runner_records_as_one_conversation_and_replays(tmp_path: Path) -> None:
    out = tmp_path / "out"

    def both_runs(base_url: str) -> dict[bool, list[list[dict[str, Any]]]]:
        return {stream: run_agent(base_url, stream=stream) for stream in (False, True)}

    seen, progress, again = record_then_replay(BUNDLED / "weather-agent.yaml", out, both_runs)
    assert [len(turns) for turns in seen.values()] == [2, 2]
    assert seen[False][-1][0]["text"].startswith("It is 18")
    assert "turn 1: 200 json" in progress and "turn 1: 200 stream" in progress
    (written,) = out.iterdir()  # the continues joined their conversation's file, as its turn 1
    scenario = yaml.safe_load(written.read_text())
    assert scenario["name"].startswith("rec-what-is-the-weather-in-")
    assert [turn["reply"]["stop_reason"] for turn in scenario["turns"]] == ["tool_use", "end_turn"]
    assert again == seen
