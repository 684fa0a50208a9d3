"""Record once, replay forever: a recorded or saved exchange replays as the reply the client first got.

One row per reply kind, its request and original reply in tests/data/roundtrip/NAME.yaml. For
each row and each way of asking (JSON, stream): an upstream mockbay serves the original reply, the
official SDK asks it through `mockbay record` (in process, mode `all`), and the upstream's journaled
exchange is saved as the inspector's "Save as scenario" does (and again for the same request
asked a second time, which the reply memo answers). Each written file is then served by a fresh
server with no upstream, the SDK asks again, and what it saw must be equal: the assembled message,
every stream event it yielded (a fault's events before it too), the replayed headers
(journal.REPLAYED_HEADERS and prefixes), and for an error the SDK's exception class (picked by
status and error_code), its status, content type and the whole body (its bytes, when not a JSON
object).

Some rows (`CLOUD_ROWS`) are asked again through AnthropicBedrock (invoke and
invoke-with-response-stream) and AnthropicVertex (rawPredict and streamRawPredict): the recorder
writes those in first-party form, and each file replays to the same cloud client alike.

Left out of the comparison (`EXCEPTED`): an error body's `request_id`, which each server mints
per exchange. Nothing else: message, tool and container ids, signatures, encrypted values and
credits are recorded as sent. Timing is not compared: every server here answers instantly.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import anthropic
import httpx
import pytest
import yaml

from mockbay.config import ServerConfig
from mockbay.journal import replayed_headers
from mockbay.record.pytest_support import RecordingServer, RecordPlan
from mockbay.server.runner import MockServer
from tests.conftest import DATA
from tests.integration.cloud import bedrock_options, vertex_options

ROUNDTRIP = DATA / "roundtrip"
MODEL = "claude-sonnet-4-6"
Asked = Literal["json", "stream"]
Cloud = anthropic.AnthropicBedrock | anthropic.AnthropicVertex
BOTH: tuple[Asked, ...] = ("json", "stream")
STREAM: tuple[Asked, ...] = ("stream",)  # a JSON request's disconnect has no answer to record or save

# file stem -> (ways of asking, whether the SDK's beta client reads it: beta block kinds)
ROWS: dict[str, tuple[tuple[Asked, ...], bool]] = {
    "text-chunks": (BOTH, False),
    "citations": (BOTH, False),
    "web-search": (BOTH, False),
    "web-search-error": (BOTH, False),
    "web-fetch": (BOTH, False),
    "code-execution": (BOTH, False),
    "encrypted-code-execution": (BOTH, False),
    "bash-and-editor": (BOTH, False),
    "tool-search": (BOTH, False),
    "container-upload": (BOTH, False),
    "mcp": (BOTH, True),
    "advisor": (BOTH, True),
    "raw-block": (BOTH, False),
    "compaction": (BOTH, True),
    "compaction-alone": (BOTH, True),
    "fallback": (BOTH, True),
    "server-side-fallback": (BOTH, True),
    "tool-use": (BOTH, False),
    "structured-json": (BOTH, False),
    "thinking": (BOTH, False),
    "thinking-omitted": (BOTH, False),
    "template-braces": (BOTH, False),
    "awkward-text": (BOTH, False),
    "max-tokens": (BOTH, False),
    "stop-sequence": (BOTH, False),
    "pause-turn": (BOTH, False),
    "refusal": (BOTH, False),
    "refusal-unexplained": (BOTH, False),
    "refusal-fallback-credit": (BOTH, True),
    "fallback-credit-redeemed": (BOTH, True),
    "context-window": (BOTH, False),
    "message-fields": (BOTH, True),
    "message-fields-null": (BOTH, True),
    "rate-limit-headers": (BOTH, False),
    "usage-bedrock-shape": (BOTH, False),
    "usage-counters-absent": (BOTH, False),
    "error-spend-limit": (BOTH, False),
    "error-overloaded": (BOTH, False),
    "error-unlisted-status": (BOTH, False),
    "error-default-message": (BOTH, False),
    "error-html-proxy": (BOTH, False),
    "error-plain-text": (BOTH, False),
    "error-empty-body": (BOTH, False),
    "error-gateway-json": (BOTH, False),
    "error-not-utf8": (BOTH, False),
    "fault-error-event": (BOTH, False),
    "fault-disconnect": (STREAM, False),
    "fault-stall": (STREAM, False),
    "fault-at-start": (BOTH, False),
    "disconnect-at-start": (STREAM, False),
}
Platform = Literal["anthropic", "bedrock", "vertex"]  # mockbay.platforms.PLATFORMS
# Rows asked again through the cloud forms, recorded by the proxy in first-party form: Bedrock's
# invoke and invoke-with-response-stream, Vertex AI's rawPredict and streamRawPredict.
CLOUD_ROWS = (
    "text-chunks",
    "thinking",
    "error-overloaded",
    "error-html-proxy",
    "error-gateway-json",
    "error-not-utf8",
    "fault-error-event",
    "fault-disconnect",
    "usage-bedrock-shape",
)
CLOUD: tuple[Platform, ...] = ("bedrock", "vertex")
MODELS: dict[Platform, str] = {
    "anthropic": MODEL,
    "bedrock": "global.anthropic.claude-sonnet-4-6-v1:0",
    "vertex": "claude-sonnet-4-6@20260203",
}
CASES: list[tuple[str, Asked, Platform]] = [
    *((name, asked, "anthropic") for name, (ways, _) in ROWS.items() for asked in ways),
    *((name, asked, cloud) for cloud in CLOUD for name in CLOUD_ROWS for asked in ROWS[name][0]),
]
# Rows whose client gives up on a silence (its read timeout, in seconds); the others wait as the SDK does.
GIVES_UP = {"fault-stall": 0.5}
EXCEPTED = ("request_id",)  # of an error body: minted per exchange by the server that answers
CONFIG = ServerConfig(port=0, timing="instant", fallback="strict")


def _row(name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The row's request (model and max_tokens defaulted) and its scenario serving the original:
    the file's `reply:`, or its `rules:` where the original takes more than one (fallbacks)."""
    data = yaml.safe_load((ROUNDTRIP / f"{name}.yaml").read_text())
    request = {"model": MODEL, "max_tokens": 1024, **data["request"]}
    rules = data.get("rules") or [{"reply": data["reply"]}]
    return request, {"name": f"original-{name}", "rules": rules}


def _client(base_url: str, platform: Platform, read_s: float | None) -> anthropic.Anthropic | Cloud:
    """The SDK's client of that wire form, with fake credentials; `read_s` a read timeout."""
    timeout = anthropic.Timeout(5.0, read=read_s) if read_s else anthropic.NOT_GIVEN
    if platform == "bedrock":
        return anthropic.AnthropicBedrock(**bedrock_options(base_url, api_key="bedrock-key", timeout=timeout))
    if platform == "vertex":
        return anthropic.AnthropicVertex(**vertex_options(base_url, timeout=timeout))
    return anthropic.Anthropic(base_url=base_url, api_key="test-key", max_retries=0, timeout=timeout)


def _seen(base_url: str, name: str, asked: Asked, platform: Platform) -> tuple[dict[str, Any], str | None]:
    """What the SDK saw, and the answer's request-id header (Bedrock's answers carry none)."""
    request, _ = _row(name)
    request["model"] = MODELS[platform]
    beta = ROWS[name][1]
    with _client(base_url, platform, GIVES_UP.get(name)) as client:
        api: Any = client.beta.messages if beta else client.messages
        seen: dict[str, Any] = {"events": []}
        response: httpx.Response | None = None
        try:
            if asked == "json":
                raw = api.with_raw_response.create(**request)
                response, seen["message"] = raw.http_response, raw.parse().to_dict()
            else:
                with api.stream(**request) as stream:
                    response = stream.response
                    for event in stream:  # one by one: those before a fault are kept
                        seen["events"].append(event.to_dict())
                    seen["message"] = stream.get_final_message().to_dict()
        except anthropic.APIStatusError as error:
            response = error.response
            body = error.body if isinstance(error.body, dict) else {"bytes": response.content}  # as sent
            kept = {k: v for k, v in body.items() if k not in EXCEPTED}
            content_type = response.headers.get("content-type")
            seen["error"] = (
                type(error).__name__,
                error.status_code,
                kept,
                content_type,
            )  # class: by error_code
        except anthropic.APIConnectionError as error:
            seen["error"] = type(error).__name__
    assert response is not None or "error" in seen
    headers = replayed_headers(response.headers) if response is not None else {}
    return {**seen, "headers": headers}, response.headers.get("request-id") if response else None


@contextmanager
def _recording(upstream: str, out: Path) -> Iterator[RecordingServer]:
    """`mockbay record --mode all` in process, every request into one scenario file in `out`."""
    plan = RecordPlan("roundtrip", "all", "all", out, "roundtrip", upstream, None)
    with RecordingServer(plan, CONFIG) as proxy:
        yield proxy


@pytest.mark.parametrize(
    ("name", "asked", "platform"),
    CASES,
    ids=[f"{n}-{a}" if p == "anthropic" else f"{n}-{a}-{p}" for n, a, p in CASES],
)
def test_recorded_and_saved_replies_replay_as_the_original(
    name: str, asked: Asked, platform: Platform, tmp_path: Path
) -> None:
    """Recorded through the proxy, saved from the upstream's journal, and saved again from the same
    request asked a second time (the reply memo's answer, for a pure reply): each replays alike."""
    _, original = _row(name)
    (tmp_path / "original.yaml").write_text(yaml.safe_dump(original))
    recorded, saved = tmp_path / "recorded", tmp_path / "saved"
    saved.mkdir()
    with MockServer([tmp_path / "original.yaml"], config=CONFIG) as upstream:
        with _recording(upstream.url, recorded) as proxy:
            first, request_id = _seen(proxy.url, name, asked, platform)
        assert proxy.progress and proxy.progress[-1].startswith("recorded "), proxy.progress
        assert upstream.journal.last.platform == platform  # asked in that wire form, end to end
        request_id = request_id or upstream.journal.last.request_id  # a dropped connection has none
        repeat, repeat_id = _seen(upstream.url, name, asked, platform)
        assert _differences(first, repeat) == []
        for saving in (request_id, repeat_id or upstream.journal.last.request_id):
            exchange = httpx.get(f"{upstream.url}/_mockbay/requests/{saving}/scenario")
            assert exchange.status_code == 200, exchange.text
            (saved / f"{saving}.yaml").write_text(exchange.text)
    files = [recorded / "roundtrip.yaml", *sorted(saved.iterdir())]
    for written in files:
        with MockServer([written], config=CONFIG) as fresh:
            again, _ = _seen(fresh.url, name, asked, platform)
        assert _differences(first, again) == [], written.name


def _differences(first: Any, again: Any, path: str = "") -> list[str]:
    """Where two JSON values differ, as `path: first != again` lines (readable where pytest's
    diff of two large dicts is truncated)."""
    if isinstance(first, dict) and isinstance(again, dict):
        keys = [*first, *(k for k in again if k not in first)]
        return [
            d
            for k in keys
            for d in _differences(first.get(k, "<absent>"), again.get(k, "<absent>"), f"{path}.{k}")
        ]
    if isinstance(first, list) and isinstance(again, list) and len(first) == len(again):
        return [
            d
            for i, (a, b) in enumerate(zip(first, again, strict=True))
            for d in _differences(a, b, f"{path}[{i}]")
        ]
    return [] if first == again else [f"{path}: {first!r} != {again!r}"]


def test_every_data_file_is_in_the_table() -> None:
    assert sorted(p.stem for p in ROUNDTRIP.glob("*.yaml")) == sorted(ROWS)
