"""`mockbay record` in front of a Vertex AI upstream (a mockbay process): AnthropicVertex's requests
are recorded in first-party form and replay to the same client with no upstream."""

from __future__ import annotations

from pathlib import Path

from anthropic import AnthropicVertex

from mockbay.server.runner import MockServer
from tests.conftest import USER_HI
from tests.processes import start, stop

UPSTREAM = """
name: vertex-upstream
rules:
  - when: {platform: vertex}
    reply:
      content:
        - thinking: "A short answer will do."
        - text: {chunks: ["Recorded ", "from ", "Vertex."]}
"""
MODEL = "claude-sonnet-4-6@20260203"


def _client(url: str) -> AnthropicVertex:
    return AnthropicVertex(
        base_url=f"{url}/v1",
        access_token="ya29.fake",
        project_id="my-project",
        region="us-east5",
        max_retries=0,
    )


def _ask(sdk: AnthropicVertex) -> tuple[dict, dict]:
    kwargs = {"model": MODEL, "max_tokens": 2048, "messages": USER_HI}
    plain = sdk.messages.create(**kwargs).model_dump()
    with sdk.messages.stream(**kwargs) as stream:
        return plain, stream.get_final_message().model_dump()


def test_record_from_vertex_then_replay_without_it(tmp_path: Path):
    (tmp_path / "upstream.yaml").write_text(UPSTREAM)
    out = tmp_path / "out"
    upstream = start(
        "serve", "--port", "0", "--scenarios", str(tmp_path / "upstream.yaml"), "--timing", "instant"
    )
    try:
        proxy = start("record", "--upstream", upstream.url, "--out", str(out), "--port", "0")
        try:
            with _client(proxy.url) as sdk:
                recorded = _ask(sdk)
        finally:
            progress = stop(proxy)
    finally:
        stop(upstream)
    assert progress.count("recorded rec-") == 2, progress
    (file,) = out.iterdir()
    assert "anthropic_version" not in file.read_text() and "ya29" not in file.read_text()
    with MockServer([out]) as replay, _client(replay.url) as sdk:
        assert _ask(sdk) == recorded
    assert recorded[0]["content"][1]["text"] == "Recorded from Vertex."
