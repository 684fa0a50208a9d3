"""`mockbay record` end to end: a mockbay process as the upstream, the recorder in front, the official SDK.

Record once (module fixture), then replay the written files with no upstream and compare what the
SDK sees; check the files for keys; check modes and stream pass-through. Processes run on loopback.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
import yaml

from mockbay.config import ServerConfig
from mockbay.record.exchange import Exchange
from mockbay.record.proxy import ProxyConfig, Recorder, _SseSplitter
from mockbay.record.pytest_support import RecordingServer, RecordPlan
from mockbay.record.scrub import MARKER, Scrubber
from mockbay.record.writer import Recording
from mockbay.scenario.loader import load_paths
from mockbay.server.runner import MockServer
from mockbay.server.stream import STALL_POLL_S
from tests.conftest import USER_HI
from tests.processes import STALLING, durations, finished, recording_over, start, stop, stop_with_log

API_KEY = "sk-ant-api03-RecKeyXk9mQ2vL8nR4tY7wE1zA5bC3dF6gH0jIpQ"
AUTH_TOKEN = "sk-ant-oat01-RecTokWq7Zp3Lm9Nb2Vc5Xe8Rt1Yu4Io6Pa0Sd"
ECHOED = "sk-ant-api03-EchoedKeyHu8Jk2Lm5Np7Qr9St3Vw6Xy1Za4Bc"

UPSTREAM = """
scenarios:
  - name: weather
    match: {any_message: {contains: weather}}
    timing: {ttft_ms: 60, gap_ms: 12}
    turns:
      - reply:
          content:
            - thinking: "The user wants the weather in Paris, so I call the tool."
            - text: "Let me check the forecast."
            - tool_use: {name: get_weather, input: {city: Paris, unit: celsius}}
      - when: {tool_result: {name: get_weather}}
        reply:
          text: "It is 18 C and sunny in Paris."
          usage:
            input_tokens: 50
            cache_read_input_tokens: 2048
            cache_creation_input_tokens: 100
            cache_creation: {ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 0}
  - name: overloaded
    match: {last_user: {contains: overload}}
    rules:
      - reply:
          error: {status: 529, type: overloaded_error, message: Overloaded}
          headers: {retry-after-ms: "5", anthropic-ratelimit-requests-limit: "50"}
  - name: cut
    match: {last_user: {contains: cut}}
    rules:
      - reply:
          text: {chunks: ["Once ", "upon ", "a ", "time"]}
          fault: {kind: error_event, after_events: 4, error: {type: overloaded_error, message: Overloaded mid-stream}}
  - name: echo
    match: {last_user: {contains: echo}}
    rules:
      - reply: {text: "You said: {{ last_user }}"}
"""

MODEL = "claude-sonnet-4-6"
TOOLS = [{"name": "get_weather", "description": "Weather now", "input_schema": {"type": "object"}}]
WEATHER = {
    "model": MODEL,
    "max_tokens": 2048,
    "messages": [{"role": "user", "content": "What is the weather in Paris?"}],
    "tools": TOOLS,
    "thinking": {"type": "enabled", "budget_tokens": 1024},
}
HEADERS = {"x-api-key": API_KEY, "anthropic-version": "2023-06-01"}
SCRUB = Scrubber()
NOW = datetime(2025, 1, 2, tzinfo=UTC)


def client(base_url: str, **options: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=base_url, **{"api_key": API_KEY, "max_retries": 0, **options})


def conversation(base_url: str) -> dict[str, Any]:
    """Everything the SDK saw: a streamed tool call, its JSON answer, errors, an echo, a pinned call."""
    with (
        client(base_url) as sdk,
        client(base_url, api_key=None, auth_token=AUTH_TOKEN) as bearer,
        client(f"{base_url}/s/pinned-weather") as pinned,
    ):
        echo = bearer.messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": f"echo {ECHOED}"}]
        )
        return {
            "tool_loop": tool_loop(sdk),
            **errors(sdk),
            "echo": echo.content[0].text,
            "pinned": pinned.messages.create(**WEATHER).model_dump(),
        }


def tool_loop(sdk: anthropic.Anthropic) -> list[dict[str, Any]]:
    """A streamed thinking + tool_use turn, then the JSON answer to the tool result."""
    with sdk.messages.stream(**WEATHER) as stream:
        first = stream.get_final_message()
    tool = next(b for b in first.content if b.type == "tool_use")
    follow_up = [
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool.id, "content": "18 C"}]},
    ]
    second = sdk.messages.create(**{**WEATHER, "messages": WEATHER["messages"] + follow_up})
    return [first.model_dump(), second.model_dump()]


def errors(sdk: anthropic.Anthropic) -> dict[str, Any]:
    """A 529 retried once, and a stream cut by an error event."""
    with pytest.raises(anthropic.OverloadedError) as overloaded:
        sdk.with_options(max_retries=1).messages.create(
            model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "overload please"}]
        )
    ratelimit = overloaded.value.response.headers.get("anthropic-ratelimit-requests-limit")
    cut_request = {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": "cut"}]}
    texts = []
    with pytest.raises(anthropic.APIStatusError) as cut, sdk.messages.stream(**cut_request) as stream:
        for event in stream:
            if event.type == "content_block_delta":
                texts.append(event.delta.text)
    return {
        "overloaded": (overloaded.value.status_code, overloaded.value.body["error"], ratelimit),
        "cut": (cut.value.status_code, cut.value.body["error"]),
        "cut_text": texts,
    }


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Record `conversation` through the proxy; the upstream and proxy are stopped afterwards."""
    root = tmp_path_factory.mktemp("record")
    (root / "upstream").mkdir()
    (root / "upstream" / "scenarios.yaml").write_text(UPSTREAM)
    upstream = start("serve", "--port", "0", "--scenarios", str(root / "upstream"), "--timing", "instant")
    out = root / "out"
    try:
        proxy = start("record", "--upstream", upstream.url, "--out", str(out), "--port", "0")
        try:
            first_delta, last_event = _arrival_span(proxy.url)
            seen = conversation(proxy.url)
            with client(proxy.url) as sdk:
                tokens = sdk.messages.count_tokens(model=MODEL, messages=WEATHER["messages"])
        finally:
            progress = stop(proxy)
    finally:
        stop(upstream)
    yield {
        "out": out,
        "seen": seen,
        "progress": progress,
        "tokens": tokens.input_tokens,
        "span": (first_delta, last_event),
    }


def _arrival_span(base_url: str) -> tuple[float, float]:
    """Seconds to the first content delta and to the last event, for the streamed weather request."""
    start_time, first, last = time.perf_counter(), 0.0, 0.0
    body = {**WEATHER, "stream": True}
    with httpx.stream("POST", f"{base_url}/v1/messages", headers=HEADERS, json=body) as response:
        for line in response.iter_lines():
            if line == "event: content_block_delta" and not first:
                first = time.perf_counter() - start_time
            if line.startswith("event: "):
                last = time.perf_counter() - start_time
    return first, last


def test_replay_without_upstream_gives_the_sdk_the_same_messages_usage_and_errors(recording):
    with MockServer([recording["out"]]) as replay:
        again = conversation(replay.url)
    seen = recording["seen"]
    assert again["tool_loop"] == seen["tool_loop"]
    assert seen["tool_loop"][1]["usage"]["cache_read_input_tokens"] == 2048
    assert (
        again["overloaded"]
        == seen["overloaded"]
        == (529, {"type": "overloaded_error", "message": "Overloaded"}, "50")
    )
    assert again["cut"] == seen["cut"] and seen["cut"][1]["message"] == "Overloaded mid-stream"
    assert again["cut_text"] == seen["cut_text"] == ["Once ", "upon "]
    assert again["pinned"] == seen["pinned"]
    assert seen["echo"] == f"You said: echo {ECHOED}"
    assert again["echo"] == f"You said: echo {MARKER}"


def test_no_key_reaches_any_written_file(recording):
    files = list(recording["out"].rglob("*"))
    assert files
    for file in files:
        text = file.read_text()
        for secret in (API_KEY, AUTH_TOKEN, ECHOED):
            assert secret not in text and secret[-20:] not in text, file
    assert API_KEY not in recording["progress"] and AUTH_TOKEN not in recording["progress"]


def test_files_are_one_readable_scenario_per_conversation(recording):
    out = recording["out"]
    names = sorted(p.name for p in out.iterdir())
    assert "pinned-weather.yaml" in names and len(names) == 5
    scenarios = {s.name: s for s in load_paths([out])}
    tool_loop = next(s for n, s in scenarios.items() if n.startswith("rec-what-is-the-weather-in-"))
    assert len(tool_loop.turns) == 2 and not tool_loop.rules  # the httpx probe and the SDK share turn 0
    overloaded = next(s for n, s in scenarios.items() if n.startswith("rec-overload-please-"))
    assert len(overloaded.turns) == 1  # a retry of the same request is one turn
    text = (out / "pinned-weather.yaml").read_text()
    assert text.startswith("# Recorded by `mockbay record` from http://127.0.0.1:")
    progress = recording["progress"].splitlines()
    assert sum(line.startswith("recorded ") for line in progress) == 8
    assert any(line.startswith("forwarded POST /v1/messages/count_tokens") for line in progress)
    assert recording["tokens"] > 0


def test_the_proxy_passes_stream_chunks_on_as_they_arrive(recording):
    first_delta, last_event = recording["span"]
    assert first_delta >= 0.05  # the upstream's 60 ms to the first delta
    assert last_event - first_delta >= 0.1  # a dozen 12 ms gaps still to come: nothing was buffered


def test_replay_plans_the_recorded_gaps_and_sends_no_event_early(recording):
    """The plan is the recording to the millisecond; on a loaded machine events may leave late, never early."""
    (file,) = [p for p in recording["out"].iterdir() if p.name.startswith("rec-what-is-the-weather-in-")]
    scenario = yaml.safe_load(file.read_text())
    recorded = scenario["turns"][0]["reply"]["recorded"]
    with MockServer([recording["out"]], timing="recorded") as replay:
        arrivals: list[tuple[str, float]] = []
        start_time = time.perf_counter()
        body = {**WEATHER, "stream": True}
        url = f"{replay.url}/s/{scenario['name']}/v1/messages"  # pinned-weather holds the same request
        with httpx.stream("POST", url, headers=HEADERS, json=body) as response:
            for line in response.iter_lines():
                if line.startswith("event: "):
                    arrivals.append((line[7:], (time.perf_counter() - start_time) * 1000))
        planned = replay.journal.last.planned_offsets_ms
    assert len(planned) == len(arrivals)
    recorded_events = [at for (name, _), at in zip(arrivals, planned, strict=True) if name != "ping"]
    assert recorded_events[0] == pytest.approx(recorded["ttft_ms"])
    assert [b - a for a, b in pairwise(recorded_events)] == pytest.approx(recorded["gaps_ms"])
    assert all(got >= want - 1 for (_, got), want in zip(arrivals, planned, strict=True)), (arrivals, planned)


def test_loose_fingerprints_replay_a_recording_after_a_prompt_edit(recording):
    """Exact replay misses an edited prompt; `fingerprints="loose"` answers by last user text and turn."""
    edited = {**WEATHER, "system": "You are a terse weather bot."}
    with (
        MockServer([recording["out"]]) as exact,
        client(exact.url, max_retries=0) as sdk,
        pytest.raises(anthropic.BadRequestError, match="fingerprint"),
    ):
        sdk.messages.create(**edited)
    with MockServer([recording["out"]], fingerprints="loose") as loose, client(loose.url) as sdk:
        replayed = sdk.messages.create(**edited)
        assert replayed.content == sdk.messages.create(**WEATHER).content
        assert replayed.model_dump()["content"] == recording["seen"]["tool_loop"][0]["content"]
        with pytest.raises(anthropic.BadRequestError, match="last_user"):
            sdk.with_options(max_retries=0).messages.create(
                **{**edited, "messages": [{"role": "user", "content": "And in Rome?"}]}
            )


@pytest.mark.parametrize("mode", ["once", "none"])
def test_once_and_none_modes_replay_existing_groups_with_the_upstream_gone(recording, tmp_path: Path, mode):
    out = tmp_path / "out"
    shutil.copytree(recording["out"], out)
    proxy = start(
        "record", "--upstream", "http://127.0.0.1:9", "--out", str(out), "--port", "0", "--mode", mode
    )
    try:
        with client(proxy.url) as sdk, sdk.messages.stream(**WEATHER) as stream:
            assert stream.get_final_message().model_dump() == recording["seen"]["tool_loop"][0]
        with client(proxy.url) as sdk, pytest.raises(anthropic.BadRequestError, match="no scenario matched"):
            sdk.messages.create(**{**WEATHER, "max_tokens": 3000})  # same conversation, new request
    finally:
        progress = stop(proxy)
    assert "replayed rec-what-is-the-weather-in-" in progress and "recorded" not in progress
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in recording["out"].iterdir())


def test_new_episodes_replays_known_requests_and_appends_new_ones(recording, tmp_path: Path):
    out = tmp_path / "out"
    shutil.copytree(recording["out"], out)
    (tmp_path / "up.yaml").write_text(UPSTREAM)
    upstream = start("serve", "--port", "0", "--scenarios", str(tmp_path / "up.yaml"), "--timing", "instant")
    try:
        proxy = start(
            "record", "--upstream", upstream.url, "--out", str(out), "--port", "0", "--mode", "new_episodes"
        )
        try:
            with client(proxy.url) as sdk:
                known = sdk.messages.create(**WEATHER)
                new = sdk.messages.create(**{**WEATHER, "max_tokens": 3000})
        finally:
            progress = stop(proxy)
        upstream_calls = httpx.get(f"{upstream.url}/_mockbay/requests").json()
    finally:
        stop(upstream)
    assert known.model_dump() == recording["seen"]["pinned"] | {"id": known.id}
    assert new.content[0].type == "thinking"
    assert (
        len([c for c in _calls(upstream_calls) if c.get("endpoint") == "messages"]) == 1
    )  # only the new one
    (file,) = [p for p in out.iterdir() if p.name.startswith("rec-what-is-the-weather-in-")]
    scenario = yaml.safe_load(file.read_text())
    assert len(scenario["turns"]) == 2 and len(scenario["rules"]) == 1  # appended beside the recorded line
    assert "replayed" in progress and "recorded" in progress


def test_the_recorders_own_error_answers_carry_a_request_id(tmp_path: Path):
    """What the recorder answers itself (no upstream to reach, a body it cannot take) carries a
    request id of its own in the body and the `request-id` header, as every answer of `serve` does."""
    proxy = start("record", "--upstream", "http://127.0.0.1:9", "--out", str(tmp_path / "out"), "--port", "0")
    try:
        messages = f"{proxy.url}/v1/messages"
        answers = [
            httpx.post(messages, headers=HEADERS, json=WEATHER),  # recorded, but upstream is unreachable
            httpx.get(f"{proxy.url}/v1/models", headers=HEADERS),  # forwarded, likewise
            httpx.post(messages, headers={**HEADERS, "content-encoding": "gzip"}, content=b"not gzip"),
            httpx.post(messages, headers=HEADERS, content=b"a" * (33 * 1024 * 1024)),
        ]
    finally:
        stop(proxy)
    assert [answer.status_code for answer in answers] == [502, 502, 400, 413]
    ids = [answer.headers.get("request-id") for answer in answers]
    assert [answer.json()["request_id"] for answer in answers] == ids
    assert all(re.fullmatch(r"req_011C\w{20}", str(request_id)) for request_id in ids), ids
    assert len(set(ids)) == len(ids)


def test_the_recorder_refuses_a_bedrock_request_in_bedrocks_shape(tmp_path: Path):
    proxy = start("record", "--upstream", "http://127.0.0.1:9", "--out", str(tmp_path / "out"), "--port", "0")
    try:
        sigv4 = "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/bedrock/aws4_request, Signature=0"
        body = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10, "messages": USER_HI}
        answer = httpx.post(
            f"{proxy.url}/model/anthropic.claude-sonnet-4-6/invoke",
            headers={"authorization": sigv4},
            json=body,
        )
    finally:
        stop(proxy)
    assert answer.status_code == 500 and answer.headers["x-amzn-errortype"].startswith(
        "InternalServerException"
    )
    assert answer.json() == {"message": "upstream http://127.0.0.1:9 failed: ClientConnectorError"}
    assert answer.headers["x-amzn-requestid"].startswith("req_") and "request-id" not in answer.headers


def _calls(journal: Any) -> list[dict[str, Any]]:
    return journal["requests"] if isinstance(journal, dict) else journal


@pytest.mark.parametrize(
    "pieces",
    [
        [b'event: ping\ndata: {"type":"ping"}\n\n'],
        [b"event: ping\r", b'\ndata: {"type":"ping"}\r\n', b"\r\n"],
        [b'event: ping\rdata: {"type"', b':"ping"}\r\r'],
    ],
)
def test_sse_splitter_finds_events_across_chunks_and_line_endings(pieces: list[bytes]):
    splitter = _SseSplitter()
    found = [event for piece in pieces for event in splitter.feed(piece)] + splitter.flush()
    assert found == [{"type": "ping"}]


@pytest.mark.parametrize(
    ("mode", "known_group", "known_request", "new_group"),
    [
        ("none", True, True, True),
        ("once", True, True, False),
        ("new_episodes", False, True, False),
        ("all", False, False, False),
    ],
)
def test_modes_decide_what_replays(tmp_path: Path, mode, known_group, known_request, new_group):
    """(a new request in a group on disk, the request on disk, a request of a group not on disk)."""
    recorded = Recording("group")
    recorded.add(Exchange(request={"model": MODEL, "messages": []}, status=200, body={"content": []}), SCRUB)
    (tmp_path / "group.yaml").write_text(recorded.to_yaml(upstream="http://up", now=NOW))
    recorder = Recorder(ProxyConfig(upstream="http://up", out=tmp_path, mode=mode))
    fingerprint = recorded.entries[0].fingerprint
    assert recorder.replays("group", "0" * 16) is known_group
    assert recorder.replays("group", fingerprint) is known_request
    assert recorder.replays("other", fingerprint) is new_group
    assert len(recorder.replay_registry()) == (0 if mode == "all" else 1)


def test_all_mode_rewrites_a_group_from_this_runs_exchanges(tmp_path: Path):
    old = Recording("group")
    old.add(Exchange(request={"model": MODEL, "messages": []}, status=200, body={"content": []}), SCRUB)
    (tmp_path / "group.yaml").write_text(old.to_yaml(upstream="http://up", now=NOW))
    recorder = Recorder(ProxyConfig(upstream="http://up", out=tmp_path, mode="all"), now=lambda: NOW)
    request = {"model": MODEL, "messages": [{"role": "user", "content": "new"}]}
    recorder.record("group", Exchange(request=request, status=200, body={"content": []}))
    again = Recording.from_yaml((tmp_path / "group.yaml").read_text(), "group.yaml")
    assert [e.fingerprint for e in again.entries] != [e.fingerprint for e in old.entries]
    assert len(again.entries) == 1


def test_hostile_requests_are_forwarded_unrecorded_and_leave_no_traceback(tmp_path: Path):
    """What upstream refuses before parsing (nesting past its limit, a lone surrogate) is forwarded
    and not recorded; a pin too long for a file name is still recorded; a client hanging up
    mid-body is nothing to log. Each of these was a 500 or a traceback in the recorder."""
    upstream = start("serve", "--port", "0", "--timing", "instant")
    out = tmp_path / "out"
    try:
        proxy = start("record", "--upstream", upstream.url, "--out", str(out), "--port", "0")
        try:
            messages = f"{proxy.url}/v1/messages"
            deep = b'{"model": "m", "max_tokens": 5, "messages": ' + b"[" * 5000 + b"]" * 5000 + b"}"
            lone = json.dumps({**WEATHER, "messages": [{"role": "user", "content": "a\udfff"}]}).encode()
            refused = [httpx.post(messages, headers=HEADERS, content=body) for body in (deep, lone)]
            long_pin = httpx.post(
                f"{proxy.url}/s/{'p' * 300}/v1/messages",
                headers=HEADERS,
                json={"model": MODEL, "max_tokens": 5, "messages": USER_HI},
            )
            port = int(proxy.url.rsplit(":", 1)[1])
            with socket.create_connection(("127.0.0.1", port)) as sock:
                sock.sendall(
                    b"POST /v1/messages HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n10\r\nab"
                )
            time.sleep(0.2)
        finally:
            progress, log = stop_with_log(proxy)
    finally:
        stop(upstream)
    assert [answer.status_code for answer in [*refused, long_pin]] == [400, 400, 200]
    assert [path.name for path in out.iterdir()] == [
        f"{'p' * 100}-{hashlib.sha256(b'p' * 300).hexdigest()[:8]}.yaml"
    ]
    assert "Traceback" not in log and "ERROR" not in log, log
    assert progress.count("forwarded POST /v1/messages: 400 (not recorded)") == 2, progress


GIVE_UP = anthropic.Timeout(5.0, read=0.5)  # the client's read timeout: it gives up on a silence


def _given_up(base_url: str) -> tuple[list[str], str, str]:
    """A stream the client gives up on: the event types it got, the exception and the request id."""
    events: list[str] = []
    with (
        client(base_url, timeout=GIVE_UP) as sdk,
        pytest.raises(anthropic.APITimeoutError) as timed_out,
        sdk.messages.stream(model=MODEL, max_tokens=64, messages=USER_HI) as stream,
    ):
        request_id = stream.response.headers["request-id"]
        for event in stream:  # one by one: those before the timeout are kept
            events.append(event.type)
    return events, type(timed_out.value).__name__, request_id


def test_a_stream_the_client_gave_up_on_is_recorded_as_a_stall(tmp_path: Path):
    """The client times out on an upstream gone silent after three events: the recorder stops
    reading, closes the upstream connection (its stall ends), writes the stream with a `stall`
    fault after those events, and logs nothing at shutdown; the replay times out the same way.
    It used to wait on upstream until upstream closed, write nothing, and leave a pending task."""
    (tmp_path / "upstream.yaml").write_text(STALLING)
    out = tmp_path / "out"
    with recording_over(tmp_path / "upstream.yaml", out) as run:
        recorded, error, request_id = _given_up(run.proxy.url)
        took_ms = finished(run.upstream.url, request_id)
    progress, log = run.progress, run.log
    assert took_ms < 3000, took_ms  # ended by the recorder, not by upstream's 300 s stall cap
    assert "(the client left: a stall)" in progress, progress
    assert log == "", log  # no traceback, no "Task was destroyed but it is pending!"
    [file] = out.iterdir()
    [turn] = yaml.safe_load(file.read_text())["turns"]
    assert turn["reply"]["fault"] == {"kind": "stall", "after_events": 3}
    assert recorded[:3] == ["message_start", "content_block_start", "content_block_delta"]
    replay = start("serve", "--port", "0", "--scenarios", str(out), "--timing", "instant")
    try:
        assert _given_up(replay.url)[:2] == (recorded, error)
    finally:
        stop(replay)


def test_a_recorder_stopped_as_the_client_leaves_still_records_the_stall(tmp_path: Path):
    """Shut down at once after the client hung up: aiohttp's shutdown no longer waits for that
    handler (its connection is gone), so the recorder does, and the stall is still written
    rather than the handler being destroyed pending or cut off by the session closing."""
    (tmp_path / "upstream.yaml").write_text(STALLING)
    config = ServerConfig(port=0, timing="instant")
    request = json.dumps({"model": MODEL, "max_tokens": 64, "stream": True, "messages": USER_HI}).encode()
    with MockServer([tmp_path / "upstream.yaml"], config=config) as upstream:
        plan = RecordPlan("stopped", "all", "all", tmp_path / "out", "stopped", upstream.url, None)
        with RecordingServer(plan, config) as proxy:
            assert proxy.port is not None
            with socket.create_connection(("127.0.0.1", proxy.port), timeout=5) as sock:
                sock.sendall(
                    b"POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: k\r\nanthropic-version: 2023-06-01\r\n"
                    + f"content-length: {len(request)}\r\n\r\n".encode()
                    + request
                )
                seen = b""
                while seen.count(b"\n\n") < 3:  # the three events before the stall
                    seen += sock.recv(65536)
            time.sleep(STALL_POLL_S / 5)  # the recorder sees the hang-up before its next poll
    [line] = proxy.progress
    assert "(the client left: a stall)" in line, line
    [turn] = yaml.safe_load((tmp_path / "out" / "stopped.yaml").read_text())["turns"]
    assert turn["reply"]["fault"] == {"kind": "stall", "after_events": 3}


def _json_given_up(base_url: str) -> str:
    """A JSON request the client gives up on: the exception it got."""
    with client(base_url, timeout=GIVE_UP) as sdk, pytest.raises(anthropic.APIError) as timed_out:
        sdk.messages.create(model=MODEL, max_tokens=64, messages=USER_HI)
    return type(timed_out.value).__name__


def test_a_json_answer_the_client_gave_up_on_is_recorded_as_a_stall(tmp_path: Path):
    """The client times out before upstream answers a JSON request: the recorder closes the
    upstream connection and writes the request with a lone `stall` fault, so the replay answers
    nothing until the client gives up again. It used to write nothing (`not recorded`)."""
    (tmp_path / "upstream.yaml").write_text(STALLING)
    out = tmp_path / "out"
    with recording_over(tmp_path / "upstream.yaml", out) as run:
        error = _json_given_up(run.proxy.url)
        took_ms = durations(run.upstream.url)
    progress, log = run.progress, run.log
    assert error == "APITimeoutError"
    assert len(took_ms) == 1 and took_ms[0] < 3000, took_ms  # the recorder hung up on upstream
    assert re.search(r"^recorded rec-\S+ turn 0: 499 json \(the client left: a stall\) ", progress, re.M), (
        progress
    )
    assert log == "", log
    [file] = out.iterdir()
    [turn] = yaml.safe_load(file.read_text())["turns"]
    assert turn["reply"] == {"fault": {"kind": "stall"}}
    replay = start("serve", "--port", "0", "--scenarios", str(out), "--timing", "instant")
    try:
        assert _json_given_up(replay.url) == error
        [replayed] = _calls(httpx.get(f"{replay.url}/_mockbay/requests").json())
        assert replayed["fault"] == "stall" and replayed["scenario"] == file.stem
    finally:
        stop(replay)


def test_a_stream_the_client_left_before_it_began_is_not_recorded(tmp_path: Path):
    """No stream headers came before the client gave up: a `stall` would replay them (a stream
    begun, then quiet) where the client saw none, so nothing is written, and the line says why."""
    out = tmp_path / "out"
    with socket.create_server(("127.0.0.1", 0)) as silent:  # connections wait in its backlog, unanswered
        proxy = start(
            "record",
            "--upstream",
            f"http://127.0.0.1:{silent.getsockname()[1]}",
            "--out",
            str(out),
            "--port",
            "0",
        )
        try:
            with client(proxy.url, timeout=GIVE_UP) as sdk, pytest.raises(anthropic.APITimeoutError):
                sdk.messages.create(model=MODEL, max_tokens=64, messages=USER_HI, stream=True)
            time.sleep(STALL_POLL_S * 2)  # the recorder notices the client left
        finally:
            progress, log = stop_with_log(proxy)
    assert re.search(
        r"^not recorded: rec-\S+ \(the client left before the stream began\)$", progress, re.M
    ), progress
    assert log == "" and list(out.iterdir()) == []


def test_an_upstream_silent_past_upstream_timeout_is_cut(tmp_path: Path):
    """`--upstream-timeout 0.5` over an upstream gone quiet, with a patient client: a JSON request
    gets the recorder's 504 `timeout_error` and nothing is written for it; a stream gets its
    three events, then its connection closed, and is written as a stall there. Upstream's
    connection is closed both times. Without the option the recorder waited on upstream for as
    long as the client did (a client with no timeout: for as long as upstream stalled)."""
    (tmp_path / "upstream.yaml").write_text(STALLING)
    out = tmp_path / "out"
    with recording_over(tmp_path / "upstream.yaml", out, "--upstream-timeout", "0.5") as run:
        with client(run.proxy.url, timeout=30.0) as sdk:
            started = time.monotonic()
            with pytest.raises(anthropic.APIStatusError) as refused:
                sdk.messages.create(
                    model=MODEL, max_tokens=64, messages=[{"role": "user", "content": "json"}]
                )
            waited = time.monotonic() - started
            events: list[str] = []
            with (
                pytest.raises(anthropic.APIConnectionError),
                sdk.messages.stream(model=MODEL, max_tokens=64, messages=USER_HI) as stream,
            ):
                for event in stream:  # one by one: those before the cut are kept
                    events.append(event.type)
        took_ms = durations(run.upstream.url)
    upstream, progress, log = run.upstream, run.progress, run.log
    host = upstream.url.removeprefix("http://")
    assert refused.value.status_code == 504 and waited < 3, waited
    assert refused.value.body == {
        "type": "error",
        "error": {"type": "timeout_error", "message": f"upstream http://{host} sent nothing for 0.5 s"},
        "request_id": refused.value.response.headers["request-id"],
    }
    assert events[:3] == ["message_start", "content_block_start", "content_block_delta"]
    assert len(took_ms) == 2 and max(took_ms) < 3000, took_ms
    assert re.search(r"^not recorded: rec-json-\S+ \(upstream sent nothing for 0.5 s\)$", progress, re.M), (
        progress
    )
    assert "200 stream (upstream sent nothing for 0.5 s: a stall)" in progress, progress
    assert log == "", log
    [file] = out.iterdir()
    [turn] = yaml.safe_load(file.read_text())["turns"]
    assert turn["reply"]["fault"] == {"kind": "stall", "after_events": 3}
