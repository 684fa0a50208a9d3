"""The README's replay command, run as written on the README's recording: an edited prompt is a 400
naming the nearest recording, and the recorded prompt replays with its scenario named."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import httpx

from tests.conftest import REPO
from tests.processes import start, stop

README = (REPO / "README.md").read_text()
HEADERS = {"x-api-key": "test", "anthropic-version": "2023-06-01"}
TOOLS = [
    {
        "name": "get_weather",
        "description": "Current weather for a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    }
]


def _replay_command() -> list[str]:
    line = re.search(r"^mockbay serve --scenarios recordings/ .*$", README, re.MULTILINE)
    assert line, "README has no replay command"
    return shlex.split(line.group(0))[1:]


def _recording() -> str:
    block = re.search(r"```yaml\n(# Recorded by `mockbay record`.*?)```", README, re.DOTALL)
    assert block, "README has no recording example"
    return block.group(1)


def test_the_documented_replay_command_fails_a_miss_naming_the_nearest_recording(tmp_path: Path) -> None:
    command = _replay_command()
    assert "--fallback" in command and command[command.index("--fallback") + 1] == "strict"
    (tmp_path / "recordings").mkdir()
    (tmp_path / "recordings" / "rec.yaml").write_text(_recording())
    folder = str(tmp_path / "recordings")
    args = [folder if arg == "recordings/" else arg for arg in command]
    child = start(*args, "--port", "0", "--log-level", "warning")
    try:
        edited = {
            "model": "claude-sonnet-4-5",
            "max_tokens": 1024,
            "tools": TOOLS,
            "messages": [{"role": "user", "content": "What's the weather in Nairobi?"}],
        }
        response = httpx.post(child.url + "/v1/messages", json=edited, headers=HEADERS)
        assert response.status_code == 400, response.text
        assert response.headers["x-mockbay-unmatched"] == "true"
        message = response.json()["error"]["message"]
        assert (
            "Nearest: 'rec-what-s-the-weather-in-b945f089'" in message and "failed at turns[0]" in message
        ), message
    finally:
        stop(child)
