"""AnthropicBedrock against mockbay: SigV4 and API-key auth, JSON and event-stream, Bedrock's errors."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from mockbay.server.runner import MockServer
from tests.conftest import USER_HI, pinned_client
from tests.integration.cloud import (
    BEDROCK_MODEL,
    ask,
    bedrock,
)

ERROR_TYPE_SUFFIX = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


def _invoke_url(server, scenario: str, model: str = BEDROCK_MODEL, action: str = "invoke") -> str:
    return f"{server.url}/s/{scenario}/model/{model}/{action}"


SIGV4 = {
    "authorization": "AWS4-HMAC-SHA256 Credential=AKIDRAW/20261206/us-east-1/bedrock/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    "x-amz-date": "20261206T014644Z",
}
BODY = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 100, "messages": USER_HI}
WORKSPACE = {"anthropic-workspace-id": "wrkspc_bedrock"}  # echoed first-party, never on Bedrock


def _named_by_amazon_alone(server, response: httpx.Response) -> None:
    """Bedrock names the request in `x-amzn-RequestId`, the journal's id, and sends no first-party
    identity header (`request-id`, `anthropic-organization-id`, `anthropic-workspace-id`)."""
    first_party = [name for name in response.headers if name == "request-id" or name.startswith("anthropic-")]
    assert first_party == []
    request_id = response.headers["x-amzn-requestid"]
    assert [exchange.platform for exchange in server.journal.all if exchange.request_id == request_id] == [
        "bedrock"
    ]


def test_thinking_and_tool_use_turns(cloud_server):
    client = bedrock(cloud_server, "weather-turns")
    tools = [{"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}]
    thinking = {"type": "enabled", "budget_tokens": 1024}
    first = client.messages.create(**ask(BEDROCK_MODEL, max_tokens=2048, tools=tools, thinking=thinking))
    assert [block.type for block in first.content] == ["thinking", "tool_use"]
    assert first.stop_reason == "tool_use"
    tool_use = first.content[1]
    messages = [
        *USER_HI,
        {"role": "assistant", "content": [block.to_dict() for block in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": tool_use.id, "content": "sunny"}],
        },
    ]
    kwargs = ask(BEDROCK_MODEL, max_tokens=2048, tools=tools, thinking=thinking, messages=messages)
    with client.messages.stream(**kwargs) as stream:
        second = stream.get_final_message()
    assert second.content[0].text == "It is sunny in Paris."
    assert second.to_dict() == client.messages.create(**kwargs).to_dict()


def test_the_api_key_form_and_the_journal(cloud_server):
    cloud_server.reset()
    message = bedrock(cloud_server, "plain-text", api_key="bedrock-api-key").messages.create(
        **ask(BEDROCK_MODEL)
    )
    assert message.content[0].type == "text"
    (exchange,) = cloud_server.journal.all
    assert (exchange.platform, exchange.endpoint, exchange.status) == ("bedrock", "messages", 200)
    assert exchange.body["model"] == BEDROCK_MODEL and "anthropic_version" not in exchange.body
    assert exchange.headers["authorization"].startswith("Bearer") and "api-key" not in str(exchange.headers)


@pytest.mark.parametrize(
    ("model", "text"),
    [
        (
            "arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-6-v1:0",
            "an inference profile",
        ),
        (BEDROCK_MODEL, "a geo-prefixed id"),
        ("anthropic.claude-sonnet-4-6-v1:0", "something else"),
    ],
)
def test_a_model_matcher_sees_the_id_as_sent(cloud_server, model, text):
    message = bedrock(cloud_server, "model-ids").messages.create(**ask(model))
    assert (message.content[0].text, message.model) == (text, model)


def test_platform_matcher_tells_the_wires_apart(cloud_server):
    via_bedrock = bedrock(cloud_server, "which-platform").messages.create(**ask(BEDROCK_MODEL))
    first_party = pinned_client(cloud_server, "which-platform").messages.create(**ask(BEDROCK_MODEL))
    assert (via_bedrock.content[0].text, first_party.content[0].text) == ("via Bedrock", "via Anthropic")


def test_betas_travel_in_the_body(cloud_server):
    cloud_server.reset()
    client = bedrock(cloud_server, "plain-text")
    client.beta.messages.create(**ask(BEDROCK_MODEL), betas=["context-1m-2025-08-07"])
    (exchange,) = cloud_server.journal.all
    assert exchange.body.get("anthropic_beta") is None
    assert exchange.headers["anthropic-beta"] == "context-1m-2025-08-07"


@pytest.mark.parametrize(
    ("status", "error_class", "bedrock_status", "exception"),
    [
        ("429", anthropic.RateLimitError, 429, "ThrottlingException"),
        ("529", anthropic.ServiceUnavailableError, 503, "ServiceUnavailableException"),
        ("500", anthropic.InternalServerError, 500, "InternalServerException"),
        ("400", anthropic.BadRequestError, 400, "ValidationException"),
        ("404", anthropic.NotFoundError, 404, "ResourceNotFoundException"),
    ],
)
def test_scripted_errors_take_bedrocks_shape(cloud_server, status, error_class, bedrock_status, exception):
    client = bedrock(cloud_server, "http-error")
    with pytest.raises(error_class) as caught:
        client.messages.create(**ask(BEDROCK_MODEL), extra_headers={"x-status": status})
    assert caught.value.status_code == bedrock_status
    assert set(caught.value.body) == {"message"}
    assert caught.value.response.headers["x-amzn-errortype"] == exception + ERROR_TYPE_SUFFIX
    assert caught.value.response.headers["x-amzn-requestid"].startswith("req_")


def test_a_scripted_retry_after_survives(cloud_server):
    with pytest.raises(anthropic.RateLimitError) as caught:
        bedrock(cloud_server, "http-error").messages.create(
            **ask(BEDROCK_MODEL), extra_headers={"x-status": "429"}
        )
    assert caught.value.response.headers["retry-after"] == "0"


def test_a_midstream_error_without_a_stream_is_an_http_error(cloud_server):
    with pytest.raises(anthropic.ServiceUnavailableError):
        bedrock(cloud_server, "midstream-error").messages.create(**ask(BEDROCK_MODEL))


def test_missing_credentials_are_access_denied(cloud_server):
    response = httpx.post(_invoke_url(cloud_server, "plain-text"), json=BODY)
    assert response.status_code == 403
    assert response.headers["x-amzn-errortype"] == "AccessDeniedException" + ERROR_TYPE_SUFFIX
    assert response.json() == {"message": "Missing Authentication Token"}


def test_a_body_without_anthropic_version_names_the_field(cloud_server):
    body = {key: value for key, value in BODY.items() if key != "anthropic_version"}
    response = httpx.post(_invoke_url(cloud_server, "plain-text"), json=body, headers=SIGV4)
    assert response.status_code == 400
    assert response.headers["x-amzn-errortype"].startswith("ValidationException:")
    assert "anthropic_version" in response.json()["message"]


@pytest.mark.parametrize("key", ["model", "stream"])
def test_first_party_keys_are_extraneous(cloud_server, key):
    response = httpx.post(
        _invoke_url(cloud_server, "plain-text"), json={**BODY, key: BEDROCK_MODEL}, headers=SIGV4
    )
    assert response.status_code == 400
    assert f"extraneous key [{key}]" in response.json()["message"]


def test_a_bad_body_is_a_validation_exception(cloud_server):
    response = httpx.post(_invoke_url(cloud_server, "plain-text"), content=b"{not json", headers=SIGV4)
    assert response.status_code == 400
    assert response.headers["x-amzn-errortype"].startswith("ValidationException:")
    bad_messages = httpx.post(
        _invoke_url(cloud_server, "plain-text"), json={**BODY, "messages": []}, headers=SIGV4
    )
    assert bad_messages.status_code == 400 and set(bad_messages.json()) == {"message"}


def test_api_keys_apply_to_bearer_keys_and_access_key_ids(cloud_server):
    with cloud_server.overrides(api_keys=("AKIDALLOWED", "bedrock-allowed")):
        assert bedrock(
            cloud_server, "plain-text", aws_access_key="AKIDALLOWED", aws_secret_key="x"
        ).messages.create(**ask(BEDROCK_MODEL))
        assert bedrock(cloud_server, "plain-text", api_key="bedrock-allowed").messages.create(
            **ask(BEDROCK_MODEL)
        )
        for client in (
            bedrock(cloud_server, "plain-text"),
            bedrock(cloud_server, "plain-text", api_key="other"),
        ):
            with pytest.raises(anthropic.PermissionDeniedError):
                client.messages.create(**ask(BEDROCK_MODEL))


def test_a_listed_x_api_key_beside_sigv4_is_accepted(cloud_server):
    """With `--api-key`, any presented credential it lists lets the request in (the contract:
    refused only when none matches `x-api-key` or Bearer)."""
    url = _invoke_url(cloud_server, "plain-text")
    with cloud_server.overrides(api_keys=("listed",)):
        accepted = httpx.post(url, json=BODY, headers={**SIGV4, "x-api-key": "listed"})
        assert accepted.status_code == 200, accepted.text
        refused = httpx.post(url, json=BODY, headers={**SIGV4, "x-api-key": "other"})
        assert refused.status_code == 403
        assert refused.headers["x-amzn-errortype"].startswith("AccessDeniedException")


def test_a_user_profile_goes_back_to_its_header(cloud_server):
    """The SDK moves `user_profile_id` from its first-party header into a Bedrock body; mockbay
    moves it back, so the body validates as the first-party one does (strict refused it as an extra
    input)."""
    cloud_server.reset()
    client = bedrock(cloud_server, "plain-text")
    message = client.messages.create(**ask(BEDROCK_MODEL), user_profile_id="uprof_1")
    with client.messages.stream(**ask(BEDROCK_MODEL), user_profile_id="uprof_1") as stream:
        assert stream.get_final_message().to_dict() == message.to_dict()
    assert [("user_profile_id" in exchange.body) for exchange in cloud_server.journal.all] == [False, False]


def test_the_access_key_id_is_the_caller(cloud_server):
    """Sequences and rate-limit buckets are per access-key id, as they are per API key first-party."""
    cloud_server.reset()
    alice = bedrock(cloud_server, "cycling", aws_access_key="AKIDALICE", aws_secret_key="x")
    bob = bedrock(cloud_server, "cycling", aws_access_key="AKIDBOB", aws_secret_key="x")
    texts = [client.messages.create(**ask(BEDROCK_MODEL)).content[0].text for client in (alice, alice, bob)]
    assert texts == ["a", "b", "a"]
    alice_limited = bedrock(cloud_server, "limited", aws_access_key="AKIDALICE", aws_secret_key="x")
    bob_limited = bedrock(cloud_server, "limited", aws_access_key="AKIDBOB", aws_secret_key="x")
    alice_limited.messages.create(**ask(BEDROCK_MODEL))
    bob_limited.messages.create(**ask(BEDROCK_MODEL))
    with pytest.raises(anthropic.RateLimitError):
        alice_limited.messages.create(**ask(BEDROCK_MODEL))
    assert [e.session for e in cloud_server.journal.all][:3] == ["AKIDALICE", "AKIDALICE", "AKIDBOB"]


def test_bedrock_mantle_signs_the_first_party_wire(cloud_server):
    """The SDK's Mantle client speaks /v1/messages with SigV4: the access-key id is its key."""
    with anthropic.AnthropicBedrockMantle(
        base_url=f"{cloud_server.url}/s/which-platform",
        aws_region="us-east-1",
        aws_access_key="AKIDMANTLE",
        aws_secret_key="fake",
        max_retries=0,
    ) as client:
        message = client.messages.create(**ask("anthropic.claude-sonnet-4-6"))
        with cloud_server.overrides(api_keys=("someone-else",)), pytest.raises(anthropic.AuthenticationError):
            client.messages.create(**ask("anthropic.claude-sonnet-4-6"))
    assert message.content[0].text == "via Anthropic"
    assert (
        cloud_server.journal.all[-2]
        .headers["authorization"]
        .startswith("AWS4-HMAC-SHA256 Credential=AKIDMANTLE/")
    )


def test_a_json_reply_repeats_its_token_counts_in_headers(cloud_server):
    raw = bedrock(cloud_server, "usage-given").messages.with_raw_response.create(**ask(BEDROCK_MODEL))
    usage = raw.parse().usage
    assert raw.headers["x-amzn-bedrock-input-token-count"] == str(usage.input_tokens)
    assert raw.headers["x-amzn-bedrock-output-token-count"] == str(usage.output_tokens)


# name -> (scenario, action, body, headers, status): every kind of answer on both routes
RAW_ANSWERS = {
    "a JSON reply": ("plain-text", "invoke", BODY, SIGV4, 200),
    "a stream": ("plain-text", "invoke-with-response-stream", BODY, SIGV4, 200),
    "a stream cut by a fault": ("midstream-error", "invoke-with-response-stream", BODY, SIGV4, 200),
    "a fault without a stream": ("midstream-error", "invoke", BODY, SIGV4, 503),
    "a scripted error": ("http-error", "invoke", BODY, {**SIGV4, "x-status": "429"}, 429),
    "a scripted error instead of a stream": (
        "http-error",
        "invoke-with-response-stream",
        BODY,
        {**SIGV4, "x-status": "404"},
        404,
    ),
    "missing credentials": ("plain-text", "invoke", BODY, {}, 403),
    "an invalid body": ("plain-text", "invoke", {**BODY, "messages": []}, SIGV4, 400),
    "an unknown pin": ("no-such-scenario", "invoke-with-response-stream", BODY, SIGV4, 400),
}


@pytest.mark.parametrize("case", RAW_ANSWERS)
def test_every_answer_is_named_by_x_amzn_request_id_alone(cloud_server, case):
    scenario, action, body, headers, status = RAW_ANSWERS[case]
    response = httpx.post(
        _invoke_url(cloud_server, scenario, action=action), json=body, headers={**headers, **WORKSPACE}
    )
    assert response.status_code == status, response.text
    _named_by_amazon_alone(cloud_server, response)


def test_the_sdk_reads_no_request_id(cloud_server):
    """The SDK reads only `request-id`: on Bedrock a reply's `_request_id` stays None, as real
    Bedrock leaves it, and the request id is `x-amzn-RequestId`'s, which the admin API knows."""
    client = bedrock(cloud_server, "plain-text")
    assert client.messages.create(**ask(BEDROCK_MODEL))._request_id is None
    raw = client.messages.with_raw_response.create(**ask(BEDROCK_MODEL), extra_headers=WORKSPACE)
    assert (raw.request_id, raw.parse()._request_id, raw.parse()._workspace_id) == (None, None, None)
    _named_by_amazon_alone(cloud_server, raw.http_response)
    saved = httpx.get(f"{cloud_server.url}/_mockbay/requests/{raw.headers['x-amzn-requestid']}/scenario")
    assert saved.status_code == 200 and "name: plain-text" in saved.text
    with client.messages.stream(**ask(BEDROCK_MODEL), extra_headers=WORKSPACE) as stream:
        assert stream.get_final_message().content[0].type == "text"
        assert (stream.request_id, stream.workspace_id) == (None, None)
        _named_by_amazon_alone(cloud_server, stream.response)


@pytest.mark.parametrize(
    ("scenario", "headers"),
    [("http-error", {"x-status": "429"}), ("midstream-error", {}), ("no-such-scenario", {})],
)
@pytest.mark.parametrize("streamed", [False, True])
def test_sdk_errors_have_no_request_id(cloud_server, scenario, headers, streamed):
    client = bedrock(cloud_server, scenario)
    kwargs = {**ask(BEDROCK_MODEL), "extra_headers": {**headers, **WORKSPACE}}
    with pytest.raises(anthropic.APIStatusError) as caught:
        if streamed:
            with client.messages.stream(**kwargs) as stream:
                stream.get_final_message()
        else:
            client.messages.create(**kwargs)
    assert (caught.value.request_id, caught.value.workspace_id) == (None, None)
    assert "req_" not in str(caught.value)
    _named_by_amazon_alone(cloud_server, caught.value.response)


RAW_ERRORS = """
name: raw-errors
rules:
  - when: {last_user: {contains: "plain"}}
    reply: {error: {status: 502, body: "<html>Bad Gateway</html>", content_type: text/html}}
  - when: {last_user: {contains: "named"}}
    reply:
      error: {status: 429, body: '{"message":"Too many"}', content_type: application/json}
      headers: {x-amzn-ErrorType: "ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"}
"""


@pytest.mark.parametrize(
    ("question", "error_class", "exception"),
    [
        ("plain", anthropic.InternalServerError, "InternalServerException"),
        ("named", anthropic.RateLimitError, "ThrottlingException"),
    ],
)
def test_a_raw_error_body_on_bedrock_carries_an_error_type(tmp_path, question, error_class, exception):
    """boto3 and the AWS SDKs name a Bedrock error by `x-amzn-ErrorType`: a raw body keeps the
    header it was given, else gets the one its status maps to; the body is sent as written."""
    (tmp_path / "raw.yaml").write_text(RAW_ERRORS)
    with MockServer([tmp_path / "raw.yaml"]) as server, pytest.raises(error_class) as caught:
        bedrock(server, "raw-errors").messages.create(
            **ask(BEDROCK_MODEL, messages=[{"role": "user", "content": question}])
        )
    headers = caught.value.response.headers
    assert headers.get_list("x-amzn-errortype") == [exception + ERROR_TYPE_SUFFIX]
    assert caught.value.response.status_code == (502 if question == "plain" else 429)
