"""The HTTP surface (docs/wire.md §1, the README): endpoints, prefixes, pinning, auth, probes,
not-found shape."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from mockbay.server.runner import MockServer
from tests.conftest import SCENARIOS, USER_HI, sync_client

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {"model": "claude-sonnet-4-6", "max_tokens": 64, "messages": USER_HI}
# Claude Code names the beta of each beta field it sends (context_management needs its entry).
CLAUDE_CODE_BETAS = "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27"


def test_sdk_default_bearer_auth_and_prefix_paths(core_server):
    client = sync_client(
        base_url=f"{core_server.url}/any/prefix",
        api_key="sk-test",
        default_headers={"x-mockbay-scenario": "plain-text"},
    )
    message = client.messages.create(**BODY)
    assert message.content[0].text.startswith("Paris")
    assert message._request_id.startswith("req_")
    assert core_server.journal.last.headers["authorization"] == "Bearer sk-t…"
    assert "sk-test" not in str(core_server.journal.last.headers)


@pytest.mark.parametrize("suffix", ["/v1/messages", "/v1/messages?beta=true", "/gw/v1/messages?beta=true"])
def test_claude_code_style_requests(core_server, suffix):
    body = {
        **BODY,
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "high"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "metadata": {"user_id": '{"device_id":"abc","session_id":"x"}'},
        "messages": [*USER_HI, {"role": "system", "content": "Available agent types"}],
    }
    headers = {**HEADERS, "x-mockbay-scenario": "plain-text", "anthropic-beta": CLAUDE_CODE_BETAS}
    response = httpx.post(f"{core_server.url}{suffix}", headers=headers, json=body)
    assert response.status_code == 200, response.text


def test_count_tokens_and_models(core_server):
    client = sync_client(base_url=core_server.url, api_key="k")
    counted = client.messages.count_tokens(
        model="claude-sonnet-4-6",
        system="You are a scientist",
        messages=[{"role": "user", "content": "Hello, Claude"}],
    )
    assert counted.input_tokens == 14
    page = client.models.list(limit=3)
    ids = [m.id for m in page.data]
    assert len(ids) == 3 and page.has_more
    every = [m.id for m in client.models.list(limit=5)]
    assert len(every) == len(set(every)) > 5
    assert client.models.retrieve(ids[0]).id == ids[0]
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("no-such-model")


THINKING = {
    "enabled": {"type": "enabled", "budget_tokens": 1024},
    "adaptive": {"type": "adaptive"},
    "disabled": {"type": "disabled"},
    "between_tools": {"type": "between_tools"},
}


def test_model_capabilities_say_which_thinking_types_are_taken(core_server):
    """Each catalog model's `capabilities` (the SDK's `ModelCapabilities`) parse, and a thinking
    type is `supported` exactly when a request with it is not refused ("False exactly when a
    request that sends it gets a 400 from this model", the SDK's `ThinkingTypes`)."""
    client = sync_client(
        base_url=core_server.url, api_key="k", default_headers={"x-mockbay-scenario": "plain-text"}
    )
    models = list(client.models.list(limit=1000))
    assert len(models) > 10
    refused = {}
    for model in models:
        assert model.capabilities is not None, model.id
        type(model).model_validate(model.to_dict())
        for kind, thinking in THINKING.items():
            body = {**BODY, "model": model.id, "max_tokens": 2048, "thinking": thinking}
            response = httpx.post(
                f"{core_server.url}/v1/messages",
                headers={**HEADERS, "x-mockbay-scenario": "plain-text"},
                json=body,
            )
            assert response.status_code in (200, 400), response.text
            supported = getattr(model.capabilities.thinking.types, kind).supported
            assert supported is (response.status_code == 200), (model.id, kind, response.text)
            refused[kind] = refused.get(kind, 0) + (not supported)
    assert refused["enabled"] and refused["adaptive"] and refused["disabled"]  # the test tells them apart
    assert client.models.retrieve("claude-opus-4-7").capabilities.thinking.types.enabled.supported is False


@pytest.mark.parametrize(("method", "path"), [("HEAD", "/"), ("GET", "/"), ("HEAD", "/s/plain-text")])
def test_probes_answer_200(core_server, method, path):
    assert httpx.request(method, f"{core_server.url}{path}").status_code == 200


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/v1/messages"), ("POST", "/v2/other"), ("DELETE", "/v1/models")]
)
def test_unknown_paths_get_the_not_found_envelope(core_server, method, path):
    response = httpx.request(method, f"{core_server.url}{path}", headers=HEADERS)
    assert response.status_code == 404
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == "not_found_error"
    assert body["request_id"] == response.headers["request-id"]


def test_missing_credentials_are_a_401(core_server):
    response = httpx.post(
        f"{core_server.url}/v1/messages", headers={"anthropic-version": "2023-06-01"}, json=BODY
    )
    assert response.status_code == 401
    assert response.json()["error"] == {
        "type": "authentication_error",
        "message": "x-api-key header is required",
    }


def test_api_key_option_restricts_keys():
    with MockServer([SCENARIOS], api_keys=("good",)) as server:
        good = sync_client(base_url=f"{server.url}/s/plain-text", api_key="good")
        assert good.messages.create(**BODY).content
        bad = sync_client(base_url=f"{server.url}/s/plain-text", api_key="bad", max_retries=0)
        with pytest.raises(anthropic.AuthenticationError):
            bad.messages.create(**BODY)
        via_header = httpx.post(
            f"{server.url}/s/plain-text/v1/messages", headers={**HEADERS, "x-api-key": "good"}, json=BODY
        )
        assert via_header.status_code == 200
        # a gateway's own Authorization beside the client's listed x-api-key: the listed one counts
        beside = {**HEADERS, "x-api-key": "good", "authorization": "Bearer gateway-token"}
        both = httpx.post(f"{server.url}/s/plain-text/v1/messages", headers=beside, json=BODY)
        assert both.status_code == 200, both.text
        neither = {**HEADERS, "x-api-key": "bad", "authorization": "Bearer gateway-token"}
        refused = httpx.post(f"{server.url}/s/plain-text/v1/messages", headers=neither, json=BODY)
        assert refused.status_code == 401 and refused.json()["error"]["message"] == "Invalid bearer token"


def test_admin_endpoints(core_server):
    health = httpx.get(f"{core_server.url}/_mockbay/health").json()
    assert health["status"] == "ok" and health["scenarios"] >= 10
    names = {s["name"] for s in httpx.get(f"{core_server.url}/_mockbay/scenarios").json()["scenarios"]}
    assert {"plain-text", "flaky"} <= names
    assert httpx.get(f"{core_server.url}/_mockbay/requests").json()["requests"] is not None


def test_unmatched_lists_the_journals_unmatched_messages_requests_only(tmp_path):
    scenario = tmp_path / "hit.yaml"
    scenario.write_text("name: hit\nmatch: {last_user: hit}\nrules:\n  - reply: {text: ok}\n")
    asked = [{**BODY, "messages": [{"role": "user", "content": text}]} for text in ("a", "hit", "b")]
    tokens = {"model": BODY["model"], "messages": USER_HI}
    with (
        MockServer([scenario], fallback="strict") as server,
        httpx.Client(base_url=server.url, headers=HEADERS) as client,
    ):
        answers = [client.post("/v1/messages", json=body) for body in asked]
        assert [a.status_code for a in answers] == [400, 200, 400]
        assert client.post("/v1/messages/count_tokens", json=tokens).is_success
        journal = client.get("/_mockbay/requests").json()["requests"]
        unmatched = client.get("/_mockbay/unmatched").json()["unmatched"]
        assert unmatched == [e for e in journal if e["endpoint"] == "messages" and e["missed"]]
        assert [e["request_id"] for e in unmatched] == [
            answers[0].headers["request-id"],
            answers[2].headers["request-id"],
        ]


def test_admin_loads_yaml_and_rejects_broken_yaml():
    with MockServer() as server:
        loaded = httpx.post(
            f"{server.url}/_mockbay/scenarios", content="name: posted\nrules:\n  - reply: {text: hi}\n"
        )
        assert loaded.status_code == 200 and loaded.json()["loaded"] == ["posted"]
        client = sync_client(base_url=f"{server.url}/s/posted", api_key="k")
        assert client.messages.create(**BODY).content[0].text == "hi"
        broken = httpx.post(
            f"{server.url}/_mockbay/scenarios", content="name: broken\nrules:\n  - repy: {text: hi}\n"
        )
        assert broken.status_code == 400
        refusal = broken.json()
        assert "<admin>:3:5" in refusal["error"]["message"] and refusal["problems"][0].startswith(
            "<admin>:3:5"
        )
        assert refusal["request_id"] == broken.headers["request-id"]  # the envelope, as every error has
        reset = httpx.post(f"{server.url}/_mockbay/reset")
        assert reset.json() == {"status": "ok"} and server.journal.call_count == 0


def test_admin_needs_a_token_off_loopback():
    with MockServer(host="0.0.0.0", admin_token="s3cret") as server:
        base = f"http://127.0.0.1:{server.port}"
        assert httpx.get(f"{base}/_mockbay/health").status_code == 200
        assert httpx.get(f"{base}/_mockbay/requests").status_code == 404
        ok = httpx.get(f"{base}/_mockbay/requests", headers={"authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        assert (
            httpx.get(f"{base}/_mockbay/requests", headers={"x-mockbay-admin-token": "s3cret"}).status_code
            == 200
        )
    for no_token in (None, ""):  # an empty token (an optional secret left blank) is none
        with MockServer(host="0.0.0.0", admin_token=no_token) as server:
            base = f"http://127.0.0.1:{server.port}"
            assert httpx.get(f"{base}/_mockbay/requests").status_code == 404
            blank = httpx.get(f"{base}/_mockbay/requests", headers={"x-mockbay-admin-token": ""})
            assert blank.status_code == 404


WORKSPACE = {"anthropic-workspace-id": "wrkspc_01TestWorkspace"}
# Every first-party answer names the caller's organisation and echoes the workspace (docs/wire.md
# §2.2, §4.6): successes and refusals of every endpoint, before a decision and after it.
ANSWERS = {
    "message": ("POST", "/s/plain-text/v1/messages", BODY, 200),
    "stream": ("POST", "/s/plain-text/v1/messages", {**BODY, "stream": True}, 200),
    "invalid body": ("POST", "/v1/messages", {"model": "claude-sonnet-4-6", "messages": USER_HI}, 400),
    "not json": ("POST", "/v1/messages", b"{", 400),
    "count_tokens": (
        "POST",
        "/v1/messages/count_tokens",
        {"model": "claude-sonnet-4-6", "messages": USER_HI},
        200,
    ),
    "models": ("GET", "/v1/models", None, 200),
    "batches": ("GET", "/v1/messages/batches", None, 200),
    "files": ("GET", "/v1/files", None, 200),
    "unknown path": ("POST", "/v2/other", None, 404),
}


@pytest.mark.parametrize("answer", ANSWERS)
def test_every_answer_names_the_organisation_and_echoes_the_workspace(core_server, answer):
    method, path, body, status = ANSWERS[answer]
    content = body if isinstance(body, bytes) else None
    json_body = None if isinstance(body, bytes) else body
    headers = {**HEADERS, **WORKSPACE}
    response = httpx.request(
        method, f"{core_server.url}{path}", headers=headers, json=json_body, content=content
    )
    assert response.status_code == status, response.text
    same_key = httpx.post(f"{core_server.url}/s/plain-text/v1/messages", headers=HEADERS, json=BODY)
    assert response.headers["anthropic-organization-id"] == same_key.headers["anthropic-organization-id"]
    assert response.headers["anthropic-workspace-id"] == WORKSPACE["anthropic-workspace-id"]
    assert "anthropic-workspace-id" not in same_key.headers  # echoed, never made up


def test_an_error_carries_the_workspace_to_the_sdk(core_server):
    client = sync_client(base_url=core_server.url, api_key="k", max_retries=0, default_headers=WORKSPACE)
    with pytest.raises(anthropic.BadRequestError) as refused:
        client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=[])
    assert refused.value.workspace_id == WORKSPACE["anthropic-workspace-id"]


def test_a_refused_credential_names_no_organisation(core_server):
    response = httpx.post(
        f"{core_server.url}/v1/messages", headers={"anthropic-version": "2023-06-01", **WORKSPACE}, json=BODY
    )
    assert response.status_code == 401 and "anthropic-organization-id" not in response.headers
    assert response.headers["anthropic-workspace-id"] == WORKSPACE["anthropic-workspace-id"]
