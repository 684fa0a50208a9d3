"""Simulated rate limits through the server, as the official SDK sees them: anthropic-ratelimit-*
headers on every answer, 429 rate_limit_error with retry-after over a limit, buckets per API key,
input limits that count cache writes but not reads, output limits charged with what was generated.

Time is an injected wall clock moved by hand, except in the one test where the SDK really waits ~1 s.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import anthropic
import httpx
import pytest

from mockbay.scenario.model import Limits
from mockbay.server.runner import MockServer
from mockbay.tokens import count_tokens
from mockbay.usage.estimate import estimate_input_tokens
from tests.conftest import DATA, REPO, pinned_client

MODEL = "claude-sonnet-4-6"
LIMITS = DATA / "usage" / "limits.yaml"
T0 = 1_767_225_600.0  # 2026-01-01T00:00:00Z
PREFIX = "anthropic-ratelimit-"


class WallClock:
    """An epoch clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def wall() -> WallClock:
    return WallClock()


@pytest.fixture(scope="module")
def server(wall: WallClock) -> Iterator[MockServer]:
    with MockServer([LIMITS, REPO / "scenarios" / "rate-limited.yaml"], wall_clock=wall) as server:
        yield server


@pytest.fixture(autouse=True)
def _full_buckets(server: MockServer, wall: WallClock) -> None:
    server.reset()
    wall.now = T0


def chat(text: str = "Hello", **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 64, "messages": [{"role": "user", "content": text}], **extra}


def limited(server: MockServer, scenario: str, api_key: str = "key-a", **options: Any) -> anthropic.Anthropic:
    """A client that does not retry, so each 429 reaches the test."""
    return pinned_client(server, scenario, api_key=api_key, max_retries=0, **options)


def ratelimit_headers(headers: httpx.Headers) -> dict[str, str]:
    return {name.removeprefix(PREFIX): value for name, value in headers.items() if name.startswith(PREFIX)}


def headers_of(client: anthropic.Anthropic, body: dict[str, Any]) -> dict[str, str]:
    return ratelimit_headers(client.messages.with_raw_response.create(**body).headers)


def refused(client: anthropic.Anthropic, body: dict[str, Any]) -> anthropic.RateLimitError:
    with pytest.raises(anthropic.RateLimitError) as caught:
        client.messages.create(**body)
    return caught.value


def test_every_answer_carries_the_headers_counting_down(server):
    client = limited(server, "three-rpm")
    first = headers_of(client, chat())
    assert first == {
        "requests-limit": "3",
        "requests-remaining": "2",
        "requests-reset": "2026-01-01T00:00:20Z",  # one request comes back every 20 s
    }
    assert datetime.fromisoformat(first["requests-reset"]) == datetime.fromtimestamp(T0 + 20, UTC)
    assert headers_of(client, chat())["requests-remaining"] == "1"
    with client.messages.stream(**chat()) as stream:
        streamed = ratelimit_headers(stream.response.headers)
        stream.until_done()
    assert streamed["requests-remaining"] == "0"
    assert streamed["requests-reset"] == "2026-01-01T00:01:00Z"


def test_a_burst_over_the_limit_gets_429_with_retry_after(server, wall):
    client = limited(server, "three-rpm")
    for _ in range(3):
        client.messages.create(**chat())
    error = refused(client, chat())
    assert error.status_code == 429
    assert error.type == "rate_limit_error"
    assert "rate limit of 3 requests per minute" in (error.api_message or "")
    assert error.response.headers["retry-after"] == "20"
    assert ratelimit_headers(error.response.headers) == {
        "requests-limit": "3",
        "requests-remaining": "0",
        "requests-reset": "2026-01-01T00:01:00Z",
    }
    with pytest.raises(anthropic.RateLimitError), client.messages.stream(**chat()) as stream:
        stream.until_done()

    wall.now += 19
    assert refused(client, chat()).response.headers["retry-after"] == "1"
    wall.now += 1
    assert headers_of(client, chat())["requests-remaining"] == "0"


def test_the_bundled_scenario_refuses_the_sixth_request_in_a_minute(server):
    client = limited(server, "rate-limited", default_headers={"x-mockbay-demo": "rate-limit"})
    remaining = [headers_of(client, chat())["requests-remaining"] for _ in range(5)]
    assert remaining == ["4", "3", "2", "1", "0"]
    assert refused(client, chat()).response.headers["retry-after"] == "12"


def test_buckets_are_per_api_key(server):
    alice = limited(server, "three-rpm", api_key="key-alice")
    bob = limited(server, "three-rpm", api_key="key-bob")
    for _ in range(3):
        alice.messages.create(**chat())
    refused(alice, chat())
    assert headers_of(bob, chat())["requests-remaining"] == "2"
    refused(alice, chat())


def test_the_reset_endpoint_refills_every_bucket(server):
    client = limited(server, "three-rpm")
    for _ in range(3):
        client.messages.create(**chat())
    refused(client, chat())
    with httpx.Client() as http:
        assert http.post(f"{server.url}/_mockbay/reset").status_code == 200
    assert headers_of(client, chat())["requests-remaining"] == "2"


def cached_chat(system: str) -> dict[str, Any]:
    """Claude Opus 5: minimum cacheable prefix 512 tokens, 2.5 characters per token."""
    block = {"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}
    return chat("q" * 50, model="claude-opus-5", system=[block])


def test_input_tokens_count_cache_writes_but_not_reads(server):
    client = limited(server, "input-limited")
    body = cached_chat("s" * 1500)  # prefix 2 + 600 = 602 tokens, then 20 + 2 after the breakpoint
    raw = client.messages.with_raw_response.create(**body)
    usage = raw.parse().usage
    assert (usage.cache_creation_input_tokens, usage.input_tokens) == (602, 22)
    assert ratelimit_headers(raw.headers) == {
        "input-tokens-limit": "900",
        "input-tokens-remaining": str(900 - 602 - 22),
        "input-tokens-reset": "2026-01-01T00:00:42Z",  # 624 tokens at 15 a second, rounded up
        "tokens-limit": "900",
        "tokens-remaining": "276",
        "tokens-reset": "2026-01-01T00:00:42Z",
    }

    raw = client.messages.with_raw_response.create(**body)
    assert raw.parse().usage.cache_read_input_tokens == 602
    assert ratelimit_headers(raw.headers)["input-tokens-remaining"] == str(276 - 22)

    error = refused(client, cached_chat("t" * 1500))  # a new prefix needs 624 again; 254 are left
    assert "rate limit of 900 input tokens per minute" in (error.api_message or "")
    assert error.response.headers["retry-after"] == "25"  # (624 - 254) / 15 = 24.7 s


def test_a_refused_request_leaves_the_prompt_cache_alone(server, wall):
    client = limited(server, "input-limited")
    client.messages.create(**cached_chat("s" * 1500))
    refused(client, cached_chat("t" * 1500))
    wall.now += 60
    usage = client.messages.create(**cached_chat("t" * 1500)).usage
    assert (usage.cache_creation_input_tokens, usage.cache_read_input_tokens) == (602, 0)


def test_output_tokens_are_charged_with_what_was_generated(server):
    client = limited(server, "output-limited")
    reply = "One two three four five six seven eight nine ten"
    assert count_tokens(reply) == 13
    first = client.messages.with_raw_response.create(**chat(max_tokens=1000))
    assert first.parse().usage.output_tokens == 13
    # Headers show the bucket when the request was admitted: output is charged once generated.
    assert ratelimit_headers(first.headers)["output-tokens-remaining"] == "20"
    assert headers_of(client, chat(max_tokens=1000))["output-tokens-remaining"] == str(20 - 13)
    error = refused(client, chat())
    assert "rate limit of 20 output tokens per minute" in (error.api_message or "")
    assert (
        error.response.headers["retry-after"] == "21"
    )  # 6 tokens of debt plus the 1 needed, at 1/3 a second


def test_token_counts_of_large_limits_are_rounded_to_thousands(server):
    client = limited(server, "large-limits")
    body = chat("w" * 7000)
    assert estimate_input_tokens(body) == 2004
    headers = headers_of(client, body)
    assert headers["requests-remaining"] == "999"  # requests stay exact
    assert headers["input-tokens-remaining"] == "98000"  # 97,996
    assert headers["output-tokens-remaining"] == "40000"
    # tokens-* copies the token bucket with the least left: output's 40,000 here.
    assert (headers["tokens-limit"], headers["tokens-remaining"]) == ("40000", "40000")


def test_the_server_option_limits_scenarios_without_their_own(server):
    client = limited(server, "unlimited")
    assert headers_of(client, chat()) == {}
    with server.overrides(rate_limits=Limits(requests_per_minute=2, output_tokens_per_minute=5000)):
        headers = headers_of(client, chat())
        assert (headers["requests-limit"], headers["requests-remaining"]) == ("2", "1")
        assert headers["output-tokens-limit"] == "5000"
        assert headers_of(limited(server, "three-rpm"), chat())["requests-limit"] == "3"
        client.messages.create(**chat())
        refused(client, chat())


def test_the_sdk_retry_honours_retry_after_to_success():
    """Real time: 600 input tokens a minute refill 10 a second, so the retry-after is 1 s."""
    with MockServer([LIMITS]) as server:
        client = pinned_client(server, "refilling", max_retries=2)
        big, small = chat("q" * 56, system="s" * 1995), chat("q" * 56)
        assert (estimate_input_tokens(big), estimate_input_tokens(small)) == (590, 20)
        client.messages.create(**big)
        started = time.monotonic()
        message = client.messages.create(**small)
        waited = time.monotonic() - started
        statuses = [exchange.status for exchange in server.journal.calls]
    assert message.content[0].type == "text"
    assert statuses == [200, 429, 200]
    assert 1.0 <= waited < 3.0  # the SDK's own backoff would have retried after 0.5 s at most
