"""`mockbay record` in front of a Vertex AI or Bedrock upstream (a mockbay process): the SDK's
requests are recorded in first-party form and replay to the same client with no upstream,
streams, errors, mid-stream faults and the client giving up included."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
import yaml

from mockbay.server.runner import MockServer
from tests.integration.cloud import BEDROCK_MODEL, VERTEX_MODEL, bedrock_options, vertex_options
from tests.processes import STALLING, durations, recording_over

UPSTREAM = """
scenarios:
  - name: cut
    priority: 1
    match: {last_user: {contains: cut}}
    rules:
      - reply:
          text: {chunks: ["Once ", "upon ", "a ", "time"]}
          fault: {kind: error_event, after_events: 4, error: {type: rate_limit_error, message: Slow down}}
  - name: throttled
    priority: 1
    match: {last_user: {contains: throttle}}
    rules:
      - reply: {error: {status: 429, message: Too many requests}}
  - name: answer
    rules:
      - reply:
          content:
            - thinking: "A short answer will do."
            - text: {chunks: ["Recorded ", "from ", "the ", "cloud."]}
"""
Client = anthropic.AnthropicVertex | anthropic.AnthropicBedrock


def vertex(url: str, **options: Any) -> Client:
    return anthropic.AnthropicVertex(**vertex_options(url, **options))


def bedrock(url: str, **options: Any) -> Client:
    return anthropic.AnthropicBedrock(**bedrock_options(url, api_key="bedrock-key", **options))


def _outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except anthropic.APIStatusError as error:
        return (type(error).__name__, error.status_code, error.body)


def _session(sdk: Client, model: str) -> list[Any]:
    def ask(text: str) -> dict[str, Any]:
        return {"model": model, "max_tokens": 2048, "messages": [{"role": "user", "content": text}]}

    def streamed(text: str) -> Callable[[], Any]:
        def run() -> Any:
            with sdk.messages.stream(**ask(text)) as stream:
                return stream.get_final_message().model_dump()

        return run

    return [
        _outcome(lambda: sdk.messages.create(**ask("hello")).model_dump()),
        _outcome(streamed("hello")),
        _outcome(streamed("cut it short")),
        _outcome(lambda: sdk.messages.create(**ask("throttle me"))),
    ]


def _record_then_replay(
    tmp_path: Path, client: Callable[[str], Client], model: str, *options: str
) -> tuple[list, list, str, list[dict[str, Any]]]:
    """What the client saw while recording, what it sees replayed, the recorder's progress, and
    the upstream's journal."""
    (tmp_path / "upstream.yaml").write_text(UPSTREAM)
    out = tmp_path / "out"
    with recording_over(tmp_path / "upstream.yaml", out, *options) as run:
        with client(run.proxy.url) as sdk:
            recorded = _session(sdk, model)
        seen_upstream = httpx.get(f"{run.upstream.url}/_mockbay/requests").json()["requests"]
    progress = run.progress
    texts = "".join(path.read_text() for path in out.iterdir())
    assert "anthropic_version" not in texts and "ya29" not in texts and "bedrock-key" not in texts
    with MockServer([out]) as replay, client(replay.url) as sdk:
        return recorded, _session(sdk, model), progress, seen_upstream


def test_record_from_vertex_then_replay_without_it(tmp_path: Path):
    recorded, replayed, progress, _ = _record_then_replay(tmp_path, vertex, "claude-sonnet-4-6@20260203")
    assert progress.count("recorded rec-") == 4, progress
    assert replayed == recorded
    assert recorded[0]["content"][1]["text"] == "Recorded from the cloud."
    assert recorded[2][:2] == ("APIStatusError", 200) and recorded[3][:2] == ("RateLimitError", 429)


def test_record_from_bedrock_with_an_api_key_then_replay_without_it(tmp_path: Path):
    recorded, replayed, progress, _ = _record_then_replay(
        tmp_path, bedrock, "global.anthropic.claude-sonnet-4-6-v1:0"
    )
    assert progress.count("recorded rec-") == 4, progress
    assert replayed == recorded
    assert recorded[1]["content"][1]["text"] == "Recorded from the cloud."
    assert recorded[2] == (
        "APIStatusError",
        200,
        {"type": "error", "error": {"type": "throttlingException", "message": "Slow down"}},
    )
    assert recorded[3] == ("RateLimitError", 429, {"message": "Too many requests"})


def test_record_from_bedrock_with_sigv4_resigned_by_the_recorder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """--aws-sign: the upstream sees the recorder's credentials, and an ARN model id stays one segment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDRECORDER")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "recorder-secret")
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-6-v1:0"

    def signed(url: str) -> Client:
        return anthropic.AnthropicBedrock(
            base_url=url,
            aws_access_key="AKIDCLIENT",
            aws_secret_key="x",
            aws_region="eu-west-3",
            max_retries=0,
        )

    recorded, replayed, progress, upstream = _record_then_replay(tmp_path, signed, arn, "--aws-sign")
    assert progress.count("recorded rec-") == 4, progress
    assert replayed == recorded and recorded[0]["model"] == arn
    scopes = {exchange["headers"]["authorization"].split("/")[0] for exchange in upstream}
    assert scopes == {"AWS4-HMAC-SHA256 Credential=AKIDRECORDER"}
    assert all("/eu-west-3/bedrock/aws4_request" in e["headers"]["authorization"] for e in upstream)


PLATFORMS = [
    pytest.param(vertex, VERTEX_MODEL, id="vertex"),
    pytest.param(bedrock, BEDROCK_MODEL, id="bedrock"),
]


def _given_up(sdk: Client, model: str) -> tuple[list[str], str]:
    """A stream the client gives up on (its read timeout): the event types it got, and the exception."""
    events: list[str] = []
    with (
        pytest.raises(anthropic.APIError) as timed_out,
        sdk.messages.stream(
            model=model, max_tokens=64, messages=[{"role": "user", "content": "Hi"}]
        ) as stream,
    ):
        for event in stream:  # one by one: those before the timeout are kept
            events.append(event.type)
    return events, type(timed_out.value).__name__


@pytest.mark.parametrize(("client", "model"), PLATFORMS)
def test_a_cloud_stream_the_client_gave_up_on_is_recorded_as_a_stall(
    tmp_path: Path, client: Callable[..., Client], model: str
):
    """As on the first-party route: the recorder closes the upstream connection, writes a `stall`
    after the events the client got, and the replay goes quiet there, so the client times out
    again with the same events."""
    (tmp_path / "upstream.yaml").write_text(STALLING)
    out = tmp_path / "out"
    give_up = anthropic.Timeout(5.0, read=0.5)
    with recording_over(tmp_path / "upstream.yaml", out) as run:
        with client(run.proxy.url, timeout=give_up) as sdk:
            recorded = _given_up(sdk, model)
        took_ms = durations(run.upstream.url)
    progress, log = run.progress, run.log
    assert recorded == (
        ["message_start", "content_block_start", "content_block_delta", "text"],
        "APITimeoutError",
    )
    assert len(took_ms) == 1 and took_ms[0] < 3000, took_ms  # ended by the recorder, not upstream's cap
    assert "200 stream (the client left: a stall)" in progress and log == "", (progress, log)
    [file] = out.iterdir()
    [turn] = yaml.safe_load(file.read_text())["turns"]
    assert turn["reply"]["fault"] == {"kind": "stall", "after_events": 3}
    with MockServer([out]) as replay, client(replay.url, timeout=give_up) as sdk:
        assert _given_up(sdk, model) == recorded


@pytest.mark.parametrize(("client", "model"), PLATFORMS)
def test_an_upstream_silent_past_upstream_timeout_answers_the_platforms_timeout_error(
    tmp_path: Path, client: Callable[..., Client], model: str
):
    """The recorder's own 504 `timeout_error` in each route's shape: Vertex answers errors
    first-party, Bedrock as its 408 ModelTimeoutException. Nothing is written."""
    (tmp_path / "upstream.yaml").write_text(STALLING)
    out = tmp_path / "out"
    with (
        recording_over(tmp_path / "upstream.yaml", out, "--upstream-timeout", "0.5") as run,
        client(run.proxy.url, timeout=30.0) as sdk,
        pytest.raises(anthropic.APIStatusError) as refused,
    ):
        sdk.messages.create(model=model, max_tokens=64, messages=[{"role": "user", "content": "Hi"}])
    upstream, progress = run.upstream, run.progress
    said = f"upstream {upstream.url} sent nothing for 0.5 s"
    answer, headers = refused.value.body, refused.value.response.headers
    if client is bedrock:
        assert (refused.value.status_code, answer) == (408, {"message": said})
        assert headers["x-amzn-errortype"].startswith("ModelTimeoutException:")
    else:
        assert refused.value.status_code == 504
        assert answer == {
            "type": "error",
            "error": {"type": "timeout_error", "message": said},
            "request_id": headers["request-id"],
        }
    assert "not recorded: rec-hi-" in progress and list(out.iterdir()) == [], progress
