"""A refusal under the fallback-credit beta carries a credit, and the SDK's refusal-fallback
middleware retries on its fallback model with it, streamed or not."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest
from anthropic.lib.middleware import BetaFallbackState, BetaRefusalFallbackMiddleware

from mockbay.server.runner import MockServer
from tests.conftest import SCENARIOS

SCENARIO = SCENARIOS / "refusals.yaml"
CREDIT_BETA = "fallback-credit-2026-07-01"
REQUEST: dict[str, Any] = {
    "model": "claude-opus-4-7",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "hi"}],
}
HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}


@pytest.fixture(scope="module")
def server() -> Any:
    with MockServer([SCENARIO]) as running:
        yield running


def _client(server: MockServer) -> anthropic.Anthropic:
    fallback = BetaRefusalFallbackMiddleware([{"model": "claude-sonnet-4-6"}])
    return anthropic.Anthropic(base_url=server.url, api_key="k", middleware=[fallback])


def test_the_middleware_falls_back_with_the_refusals_credit(server: MockServer):
    server.reset()
    with _client(server) as client, BetaFallbackState():
        message = client.beta.messages.create(**REQUEST)
    assert [block.type for block in message.content] == ["fallback", "text"]
    assert message.content[-1].text == "Served by the fallback." and message.model == "claude-sonnet-4-6"
    refused, retried = server.journal.calls
    token = retried.body["fallback_credit_token"]["token"]
    assert refused.reply_body is not None and token.encode() in refused.reply_body
    assert token.startswith("fct_01")
    assert message.usage.fallback_credit.status.type == "redeemed"


def test_a_streamed_refusal_is_spliced_onto_the_fallbacks_stream(server: MockServer):
    server.reset()
    with _client(server) as client, BetaFallbackState(), client.beta.messages.stream(**REQUEST) as stream:
        message = stream.get_final_message()
    assert message.stop_reason == "end_turn" and message.content[-1].text == "Served by the fallback."
    assert [call.body["model"] for call in server.journal.calls] == ["claude-opus-4-7", "claude-sonnet-4-6"]
    assert message.usage.fallback_credit.status.type == "redeemed"  # from the retry's message_delta


@pytest.mark.parametrize(
    ("beta", "extra", "claim"),
    [
        (None, {}, None),
        ("fallback-credit-2026-07-01", {}, True),
        (
            "fallback-credit-2026-07-01",
            {
                "output_config": {
                    "format": {
                        "type": "json_schema",
                        "schema": {"type": "object", "additionalProperties": False},
                    }
                }
            },
            False,
        ),
    ],
)
def test_the_credit_comes_with_the_beta_and_the_prefill_claim_with_continuable_text(
    server: MockServer, beta: str | None, extra: dict[str, Any], claim: bool | None
):
    headers = {**HEADERS, **({"anthropic-beta": beta} if beta else {})}
    reply = httpx.post(f"{server.url}/v1/messages", headers=headers, json={**REQUEST, **extra}).json()
    details = reply["stop_details"]
    assert (details["category"], reply["stop_reason"]) == ("cyber", "refusal")
    assert details.get("fallback_has_prefill_claim") is claim
    assert ("fallback_credit_token" in details) is (beta is not None)


def _with_token(model: str, **extra: Any) -> dict[str, Any]:
    return {**REQUEST, "model": model, "fallback_credit_token": "fct_01AnyToken", **extra}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_request_with_a_token_reports_its_outcome(server: MockServer, stream: bool):
    client = anthropic.Anthropic(base_url=server.url, api_key="k")
    api = client.beta.messages
    with client:
        for model, outcome in (("claude-sonnet-4-6", {"type": "redeemed"}), ("claude-opus-4-6", None)):
            request = _with_token(model, betas=[CREDIT_BETA])
            if stream:
                with api.stream(**request) as events:
                    message = events.get_final_message()
            else:
                message = api.create(**request)
            expected = outcome or {"type": "not_applied", "reason": "expired"}  # the scenario's own
            assert message.usage.fallback_credit.status.to_dict() == expected
        plain = api.create(**{**REQUEST, "model": "claude-sonnet-4-6"}, betas=[CREDIT_BETA])
    assert plain.usage.fallback_credit is None


def test_a_token_beside_server_side_fallbacks_is_refused(server: MockServer):
    headers = {**HEADERS, "anthropic-beta": f"{CREDIT_BETA},server-side-fallback-2026-07-01"}
    body = _with_token("claude-sonnet-4-6", fallbacks=[{"model": "claude-haiku-4-5"}])
    answer = httpx.post(f"{server.url}/v1/messages", headers=headers, json=body)
    assert answer.status_code == 400
    assert answer.json()["error"]["message"].startswith(
        "fallback_credit_token: cannot be combined with `fallbacks`"
    )


def test_a_batch_item_ignores_its_token(server: MockServer):
    with anthropic.Anthropic(base_url=server.url, api_key="k") as client:
        params = _with_token("claude-sonnet-4-6")
        batch = client.beta.messages.batches.create(
            requests=[{"custom_id": "one", "params": params}], betas=[CREDIT_BETA]
        )
        (result,) = client.beta.messages.batches.results(batch.id, betas=[CREDIT_BETA])
    assert result.result.type == "succeeded"
    assert result.result.message.usage.fallback_credit is None
