"""AnthropicVertex against mockbay: rawPredict, streamRawPredict (SSE) and count-tokens."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from tests.conftest import USER_HI, pinned_client
from tests.integration.cloud import (
    VERTEX_MODEL,
    ask,
    vertex,
)

BASE_PATH = "/v1/projects/my-project/locations/us-east5/publishers/anthropic/models"
BODY = {"anthropic_version": "vertex-2023-10-16", "max_tokens": 100, "messages": USER_HI}


def test_tool_use_turns_and_the_journal(cloud_server):
    cloud_server.reset()
    client = vertex(cloud_server, "weather-turns")
    first = client.messages.create(**ask(VERTEX_MODEL))
    messages = [
        *USER_HI,
        {"role": "assistant", "content": [block.to_dict() for block in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": first.content[1].id, "content": "sunny"}],
        },
    ]
    with client.messages.stream(**ask(VERTEX_MODEL, messages=messages)) as stream:
        assert stream.get_final_message().content[0].text == "It is sunny in Paris."
        assert stream.request_id == cloud_server.journal.all[1].request_id
    first_exchange, second_exchange = cloud_server.journal.all
    assert (first_exchange.platform, first_exchange.stream, second_exchange.stream) == ("vertex", False, True)
    assert first._request_id == first_exchange.request_id  # Vertex keeps Anthropic's `request-id`
    assert first_exchange.body["model"] == VERTEX_MODEL and "anthropic_version" not in first_exchange.body


def test_platform_matcher(cloud_server):
    assert vertex(cloud_server, "which-platform").messages.create(**ask(VERTEX_MODEL)).content[0].text == (
        "via Vertex"
    )
    assert (
        vertex(cloud_server, "model-ids").messages.create(**ask(VERTEX_MODEL)).content[0].text
        == "a Vertex id"
    )


def test_count_tokens_equals_first_party(cloud_server):
    kwargs = {"model": "claude-sonnet-4-6", "messages": USER_HI}
    counted = vertex(cloud_server, "plain-text").messages.count_tokens(**kwargs)
    assert (
        counted.input_tokens
        == pinned_client(cloud_server, "plain-text").messages.count_tokens(**kwargs).input_tokens
    )
    assert cloud_server.journal.all[-2].endpoint == "count_tokens"


@pytest.mark.parametrize(
    ("status", "error_class", "error_type"),
    [
        ("429", anthropic.RateLimitError, "rate_limit_error"),
        ("529", anthropic.OverloadedError, "overloaded_error"),
        ("500", anthropic.InternalServerError, "api_error"),
    ],
)
def test_scripted_errors_keep_anthropics_envelope(cloud_server, status, error_class, error_type):
    with pytest.raises(error_class) as caught:
        vertex(cloud_server, "http-error").messages.create(
            **ask(VERTEX_MODEL), extra_headers={"x-status": status}
        )
    assert caught.value.type == error_type
    assert caught.value.request_id == cloud_server.journal.last.request_id


def test_missing_credentials_are_401_in_googles_shape(cloud_server):
    response = httpx.post(f"{cloud_server.url}{BASE_PATH}/{VERTEX_MODEL}:rawPredict", json=BODY)
    assert response.status_code == 401
    assert response.json()["error"]["status"] == "UNAUTHENTICATED"
    assert response.headers["request-id"].startswith("req_")


def test_a_body_without_anthropic_version_is_refused(cloud_server):
    body = {key: value for key, value in BODY.items() if key != "anthropic_version"}
    response = httpx.post(
        f"{cloud_server.url}{BASE_PATH}/{VERTEX_MODEL}:streamRawPredict",
        json=body,
        headers={"authorization": "Bearer ya29.token"},
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "anthropic_version: Field required",
    }


def test_api_keys_apply_to_the_bearer_token(cloud_server):
    with cloud_server.overrides(api_keys=("ya29.allowed",)):
        assert vertex(cloud_server, "plain-text", access_token="ya29.allowed").messages.create(
            **ask(VERTEX_MODEL)
        )
        with pytest.raises(anthropic.AuthenticationError):
            vertex(cloud_server, "plain-text").messages.create(**ask(VERTEX_MODEL))


def test_a_platform_near_miss_says_which_wire(cloud_server):
    with pytest.raises(anthropic.BadRequestError) as caught:
        vertex(cloud_server, "bedrock-only").messages.create(**ask(VERTEX_MODEL))
    assert "platform: request has 'vertex', scenario wants 'bedrock'" in caught.value.message
