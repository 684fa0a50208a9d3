"""Bad input on the cloud wires: always the platform's 4xx shape, never a 500; odd input that is
still good is answered."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.conftest import USER_HI

SIGV4 = {"authorization": "AWS4-HMAC-SHA256 Credential=AKIDBAD/20261206/us-east-1/bedrock/aws4_request"}
BEARER = {"authorization": "Bearer ya29.token"}
VERTEX = "/v1/projects/p/locations/l/publishers/anthropic/models"
GOOD = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 10, "messages": USER_HI}


def _json(body: object) -> bytes:
    return json.dumps(body).encode()


BEDROCK_CASES = {
    "not an object": b"[]",
    "not json": b"{nope",
    "not utf-8": b"\xff\xfe",
    "version not a string": _json({**GOOD, "anthropic_version": 5}),
    "empty version": _json({**GOOD, "anthropic_version": ""}),
    "betas not a list": _json({**GOOD, "anthropic_beta": "x"}),
    "betas not strings": _json({**GOOD, "anthropic_beta": [1]}),
    "negative max_tokens": _json({**GOOD, "max_tokens": -1}),
    "no messages": _json({**GOOD, "messages": []}),
}
VERTEX_CASES = {
    "count-tokens not json": ("/count-tokens:rawPredict", b"{bad"),
    "count-tokens without model": ("/count-tokens:rawPredict", _json(GOOD)),
    "not utf-8": ("/m:rawPredict", b"\xff\xfe"),
    "empty version": ("/m:rawPredict", _json({**GOOD, "anthropic_version": ""})),
    "max_tokens not an integer": ("/m:streamRawPredict", _json({**GOOD, "max_tokens": "ten"})),
}


@pytest.mark.parametrize("action", ["invoke", "invoke-with-response-stream"])
@pytest.mark.parametrize("case", BEDROCK_CASES)
def test_bedrock_refuses_in_its_own_shape(cloud_server, case, action):
    response = httpx.post(
        f"{cloud_server.url}/model/anthropic.claude-sonnet-4-6-v1:0/{action}",
        content=BEDROCK_CASES[case],
        headers=SIGV4,
    )
    assert response.status_code == 400
    assert response.headers["x-amzn-errortype"].startswith("ValidationException:")
    assert set(response.json()) == {"message"}
    assert cloud_server.state.internal_errors == []


@pytest.mark.parametrize("case", VERTEX_CASES)
def test_vertex_refuses_in_anthropics_envelope(cloud_server, case):
    suffix, body = VERTEX_CASES[case]
    response = httpx.post(f"{cloud_server.url}{VERTEX}{suffix}", content=body, headers=BEARER)
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert cloud_server.state.internal_errors == []


def test_odd_model_ids_are_just_ids(cloud_server):
    """Percent-escapes that decode to control bytes or invalid UTF-8 still name a model, as sent."""
    response = httpx.post(
        f"{cloud_server.url}/s/plain-text/model/%FF%00x/invoke", content=_json(GOOD), headers=SIGV4
    )
    assert response.status_code == 200
    assert response.json()["model"] == "\ufffd\x00x"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/s/plain-text/model/anthropic.claude-sonnet-4-6-v1:0/invoke", SIGV4),
        (f"/s/plain-text{VERTEX}/m:rawPredict", BEARER),
    ],
)
@pytest.mark.parametrize("version", [" ", "\t\n"])
def test_a_blank_version_is_still_a_version(cloud_server, path, headers, version):
    """Any non-empty string is accepted as `anthropic_version` (docs/cloud-platforms.md)."""
    body = _json({**GOOD, "anthropic_version": version})
    response = httpx.post(f"{cloud_server.url}{path}", content=body, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "message"
