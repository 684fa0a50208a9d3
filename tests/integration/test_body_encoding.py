"""A request body's `Content-Encoding` gets upstream's answers (docs/wire.md §2.2, §6.3): an
unsupported coding, a body not valid for its coding and one too big once decoded each carry the
`error_code` the SDK turns into its own exception class, on every route that reads a body."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import anthropic
import httpx
import pytest

from mockbay.server.runner import MockServer
from tests.conftest import SCENARIOS, USER_HI, pinned_client
from tests.processes import start, stop

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json"}
GOOD = {"model": "claude-sonnet-4-6", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
BODY = json.dumps(GOOD).encode()
UNSUPPORTED = "request_body_encoding_unsupported"
INVALID = "request_body_encoding_invalid"
SIGV4 = {"authorization": "AWS4-HMAC-SHA256 Credential=AKIDBAD/20261206/us-east-1/bedrock/aws4_request"}
BEARER = {"authorization": "Bearer ya29.token"}
CLOUD_BODY = json.dumps(
    {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10, "messages": USER_HI}
).encode()
Coder = Callable[[bytes], bytes]


def _plain(body: bytes) -> bytes:
    return body


def _gzip_cut(body: bytes) -> bytes:
    return gzip.compress(body)[:-10]


def _gzip_without_size(body: bytes) -> bytes:
    """The deflate data whole, only the trailer's length field missing."""
    return gzip.compress(body)[:-4]


def _gzip_then_junk(body: bytes) -> bytes:
    return gzip.compress(body) + b"junk"


def _raw_deflate(body: bytes) -> bytes:
    return zlib.compress(body)[2:-4]


@pytest.mark.parametrize(
    ("coding", "coder", "error_code", "fragment"),
    [
        ("x-bogus", _plain, UNSUPPORTED, "Unsupported Content-Encoding: x-bogus"),
        ("br", _plain, UNSUPPORTED, "Unsupported Content-Encoding: br (supported: gzip, deflate, identity)"),
        ("zstd", _plain, UNSUPPORTED, "Unsupported Content-Encoding: zstd"),
        ("gzip, gzip", gzip.compress, UNSUPPORTED, "Unsupported Content-Encoding: gzip, gzip"),
        ("gzip", _plain, INVALID, "could not be read: invalid gzip data (incorrect header check)"),
        ("gzip", _gzip_cut, INVALID, "could not be read: invalid gzip data (the stream ends early)"),
        ("gzip", _gzip_without_size, INVALID, "could not be read: invalid gzip data (the stream ends early)"),
        ("gzip", _gzip_then_junk, INVALID, "could not be read: invalid gzip data (bytes after the end"),
        ("deflate", _plain, INVALID, "could not be read: invalid deflate data"),
    ],
)
def test_bad_codings_get_upstreams_error_codes(core_server, coding: str, coder: Coder, error_code, fragment):
    response = httpx.post(
        f"{core_server.url}/s/plain-text/v1/messages",
        headers={**HEADERS, "content-encoding": coding},
        content=coder(BODY),
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["details"] == {"error_code": error_code}
    assert fragment in error["message"] and "install" not in error["message"]


@pytest.mark.parametrize(
    ("coding", "coder"),
    [
        (None, _plain),
        ("identity", _plain),
        ("", _plain),
        ("gzip", gzip.compress),
        ("GZIP", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", _raw_deflate),
    ],
)
def test_supported_codings_are_read_as_before(core_server, coding: str | None, coder: Coder):
    """A guard, not a fix: what aiohttp decoded before mockbay decoded bodies itself still is."""
    headers = HEADERS if coding is None else {**HEADERS, "content-encoding": coding}
    response = httpx.post(f"{core_server.url}/s/plain-text/v1/messages", headers=headers, content=coder(BODY))
    assert response.status_code == 200, response.text


def test_a_gzip_bomb_is_a_413_with_its_error_code(core_server):
    bomb = gzip.compress(b" " * (40 * 1024 * 1024))
    response = httpx.post(
        f"{core_server.url}/v1/messages", headers={**HEADERS, "content-encoding": "gzip"}, content=bomb
    )
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["type"] == "request_too_large"
    assert error["details"] == {"error_code": "request_body_too_large_after_decoding"}


@pytest.mark.parametrize(
    ("coding", "error"),
    [
        ("x-bogus", anthropic.RequestBodyEncodingUnsupportedError),
        ("br", anthropic.RequestBodyEncodingUnsupportedError),
        ("gzip", anthropic.RequestBodyEncodingInvalidError),  # the SDK sends plain JSON
    ],
)
def test_the_sdk_raises_its_own_class(core_server, coding: str, error: type[anthropic.APIStatusError]):
    client = pinned_client(core_server, "plain-text", max_retries=0)
    with pytest.raises(error) as raised:
        client.messages.create(**GOOD, extra_headers={"content-encoding": coding})  # type: ignore[call-overload]
    assert raised.value.status_code == 400


def _batch(coding: str) -> tuple[str, dict[str, str], bytes]:
    body = json.dumps({"requests": [{"custom_id": "a", "params": GOOD}]}).encode()
    return "/v1/messages/batches", {**HEADERS, "content-encoding": coding}, body


def _count(coding: str) -> tuple[str, dict[str, str], bytes]:
    body = json.dumps({key: value for key, value in GOOD.items() if key != "max_tokens"}).encode()
    return "/v1/messages/count_tokens", {**HEADERS, "content-encoding": coding}, body


def _file(coding: str) -> tuple[str, dict[str, str], bytes]:
    request = httpx.Request("POST", "http://x", files={"file": ("a.txt", b"hello", "text/plain")})
    headers = {**HEADERS, "content-type": request.headers["content-type"], "content-encoding": coding}
    return "/v1/files", headers, request.read()


def _bedrock(coding: str) -> tuple[str, dict[str, str], bytes]:
    return "/model/anthropic.claude-sonnet-4-6-v1:0/invoke", {**SIGV4, "content-encoding": coding}, CLOUD_BODY


def _vertex(coding: str) -> tuple[str, dict[str, str], bytes]:
    path = "/v1/projects/p/locations/l/publishers/anthropic/models/m:rawPredict"
    return path, {**BEARER, "content-encoding": coding}, CLOUD_BODY


ROUTES = {"count_tokens": _count, "batches": _batch, "files": _file, "bedrock": _bedrock, "vertex": _vertex}


@pytest.mark.parametrize("route", ROUTES)
def test_every_body_route_refuses_an_unsupported_coding(cloud_server, route: str):
    path, headers, body = ROUTES[route]("x-bogus")
    response = httpx.post(f"{cloud_server.url}/s/plain-text{path}", headers=headers, content=body)
    assert response.status_code == 400, response.text
    assert "Unsupported Content-Encoding: x-bogus" in response.text
    assert cloud_server.state.internal_errors == []


@pytest.mark.parametrize("route", ROUTES)
def test_every_body_route_reads_gzip(cloud_server, route: str):
    """A guard for the routes aiohttp no longer decodes for: files parse the decoded form."""
    path, headers, body = ROUTES[route]("gzip")
    response = httpx.post(
        f"{cloud_server.url}/s/plain-text{path}", headers=headers, content=gzip.compress(body)
    )
    assert response.status_code == 200, response.text


@pytest.fixture(scope="module")
def upstream() -> Iterator[MockServer]:
    with MockServer([SCENARIOS], fallback="generate") as running:
        yield running


def test_the_recorder_forwards_the_decoded_body_without_its_coding(upstream: MockServer, tmp_path: Path):
    """The recorder forwards the body it decoded: labelled gzip still, upstream refused it."""
    proxy = start("record", "--upstream", upstream.url, "--out", str(tmp_path / "out"), "--port", "0")
    try:
        response = httpx.post(
            f"{proxy.url}/v1/messages",
            headers={**HEADERS, "content-encoding": "gzip"},
            content=gzip.compress(BODY),
        )
    finally:
        stop(proxy)
    assert response.status_code == 200, response.text
    assert upstream.journal.all[-1].body == GOOD


def test_the_file_upload_keeps_the_decoded_bytes(core_server):
    """The upload stored is the decoded file, not the gzip bytes."""
    path, headers, body = _file("gzip")
    response = httpx.post(f"{core_server.url}{path}", headers=headers, content=gzip.compress(body))
    assert response.json()["size_bytes"] == len(b"hello"), response.text
