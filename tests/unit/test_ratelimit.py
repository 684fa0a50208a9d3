"""Rate limits: headers that count down and refill, 429s with retry-after, settling output, parsing."""

from __future__ import annotations

import pytest

from mockbay.errors import ApiError, MockbayError
from mockbay.scenario.model import Limits
from mockbay.usage.ratelimit import RateLimiter, parse_limits

T0 = 1_755_780_000.0  # 2025-08-21T12:40:00Z
P = "anthropic-ratelimit-"


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def limiter(**kwargs: int) -> tuple[RateLimiter, Clock]:
    clock = Clock()
    return RateLimiter(clock=clock, **kwargs), clock


def rejection(rl: RateLimiter, key: str, limits: Limits, input_tokens: int = 0) -> ApiError:
    with pytest.raises(ApiError) as caught:
        rl.admit(key, limits, input_tokens)
    return caught.value


def test_burst_counts_down_then_429_then_refills() -> None:
    rl, clock = limiter()
    limits = Limits(requests_per_minute=3)
    remaining = [rl.admit("k", limits, 0)[f"{P}requests-remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]

    error = rejection(rl, "k", limits)
    assert (error.status, error.type) == (429, "rate_limit_error")
    assert error.message.startswith(
        "This request would exceed your organization's rate limit of 3 requests per minute"
    )
    assert error.headers == {
        "retry-after": "20",  # one request refills in 60 / 3 seconds
        f"{P}requests-limit": "3",
        f"{P}requests-remaining": "0",
        f"{P}requests-reset": "2025-08-21T12:41:00Z",  # empty bucket: full a minute from now
    }

    clock.now += 20
    assert rl.admit("k", limits, 0)[f"{P}requests-remaining"] == "0"
    clock.now += 60
    headers = rl.admit("k", limits, 0)
    assert headers[f"{P}requests-remaining"] == "2"
    assert headers[f"{P}requests-reset"] == "2025-08-21T12:41:40Z"  # 80 s in, 20 s to refill one


def test_retry_after_is_at_least_one_second() -> None:
    rl, clock = limiter()
    limits = Limits(requests_per_minute=60)
    for _ in range(60):
        rl.admit("k", limits, 0)
    clock.now += 0.99
    assert rejection(rl, "k", limits).headers["retry-after"] == "1"


def test_small_input_limit_counts_exactly() -> None:
    rl, _ = limiter()
    limits = Limits(input_tokens_per_minute=500)
    headers = rl.admit("k", limits, 200)
    assert headers[f"{P}input-tokens-remaining"] == "300"
    assert headers[f"{P}tokens-remaining"] == "300"
    error = rejection(rl, "k", limits, 400)
    assert "rate limit of 500 input tokens per minute" in error.message
    assert error.headers["retry-after"] == "12"  # 100 missing tokens at 500/60 per second


@pytest.mark.parametrize(
    ("charged", "shown"), [(1234, "19000"), (1500, "19000"), (1501, "18000"), (19_600, "0"), (0, "20000")]
)
def test_large_token_limits_round_to_the_nearest_thousand(charged: int, shown: str) -> None:
    rl, _ = limiter()
    headers = rl.admit("k", Limits(input_tokens_per_minute=20_000), charged)
    assert headers[f"{P}input-tokens-remaining"] == shown
    assert headers[f"{P}input-tokens-limit"] == "20000"


def test_output_is_charged_by_settle_and_blocks_until_refilled() -> None:
    rl, clock = limiter()
    limits = Limits(output_tokens_per_minute=100)
    assert rl.admit("k", limits, 0)[f"{P}output-tokens-remaining"] == "100"
    rl.settle("k", limits, 150)  # more than the bucket: it goes into debt
    error = rejection(rl, "k", limits)
    assert "100 output tokens per minute" in error.message
    assert error.headers["retry-after"] == "31"  # from -50 to 1 token at 100/60 per second
    assert error.headers[f"{P}output-tokens-remaining"] == "0"
    clock.now += 31
    assert rl.admit("k", limits, 0)[f"{P}output-tokens-remaining"] == "1"


def test_a_request_larger_than_the_bucket_needs_a_full_one() -> None:
    rl, clock = limiter()
    limits = Limits(input_tokens_per_minute=100)
    rl.admit("k", limits, 250)  # full bucket: admitted, 150 in debt
    assert rejection(rl, "k", limits, 10).headers["retry-after"] == "96"  # -150 -> 10 at 100/60 per s
    clock.now += 96
    rl.admit("k", limits, 10)


def test_tokens_headers_follow_the_tighter_bucket() -> None:
    rl, _ = limiter()
    limits = Limits(input_tokens_per_minute=500, output_tokens_per_minute=300)
    headers = rl.admit("k", limits, 100)
    assert (headers[f"{P}tokens-limit"], headers[f"{P}tokens-remaining"]) == ("300", "300")
    headers = rl.admit("k", limits, 300)
    assert (headers[f"{P}tokens-limit"], headers[f"{P}tokens-remaining"]) == ("500", "100")


def test_all_three_limits_give_the_full_header_set() -> None:
    rl, _ = limiter()
    limits = Limits(requests_per_minute=50, input_tokens_per_minute=20_000, output_tokens_per_minute=4_000)
    headers = rl.admit("k", limits, 10)
    names = {
        f"{P}{d}-{f}"
        for d in ("requests", "input-tokens", "output-tokens", "tokens")
        for f in ("limit", "remaining", "reset")
    }
    assert set(headers) == names
    assert headers[f"{P}input-tokens-reset"] == "2025-08-21T12:40:01Z"  # 10 tokens take 0.03 s, rounded up


def test_first_limit_hit_is_named_and_retry_after_covers_all() -> None:
    rl, _ = limiter()
    limits = Limits(requests_per_minute=1, input_tokens_per_minute=100)
    rl.admit("k", limits, 100)
    error = rejection(rl, "k", limits, 100)
    assert "1 requests per minute" in error.message
    assert error.headers["retry-after"] == "60"


def test_no_limits_no_headers() -> None:
    rl, _ = limiter()
    for _ in range(100):
        assert rl.admit("k", Limits(), 10**9) == {}
    rl.settle("k", Limits(), 10**9)


def test_keys_are_independent_and_bounded() -> None:
    rl, _ = limiter(max_buckets=1)
    limits = Limits(requests_per_minute=1)
    rl.admit("a", limits, 0)
    rejection(rl, "a", limits)
    rl.admit("b", limits, 0)  # another key has its own bucket, and evicts "a"
    assert rl.admit("a", limits, 0)[f"{P}requests-remaining"] == "0"


def test_changed_limit_starts_a_fresh_bucket_and_clear_forgets() -> None:
    rl, _ = limiter()
    rl.admit("k", Limits(requests_per_minute=1), 0)
    assert rl.admit("k", Limits(requests_per_minute=5), 0)[f"{P}requests-remaining"] == "4"
    rl.clear()
    assert rl.admit("k", Limits(requests_per_minute=5), 0)[f"{P}requests-remaining"] == "4"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "requests_per_minute=50,input_tokens_per_minute=20000",
            Limits(requests_per_minute=50, input_tokens_per_minute=20_000),
        ),
        (
            "rpm=5, itpm=1000 , otpm=200",
            Limits(requests_per_minute=5, input_tokens_per_minute=1000, output_tokens_per_minute=200),
        ),
        ("OTPM=7", Limits(output_tokens_per_minute=7)),
    ],
)
def test_parse_limits(text: str, expected: Limits) -> None:
    assert parse_limits(text) == expected


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "expected name=value"),
        ("rpm=5,", "expected name=value"),
        ("rpm", "expected name=value"),
        ("tpm=5", "unknown limit 'tpm'"),
        ("rpm=5,requests_per_minute=6", "requests_per_minute given twice"),
        ("rpm=0", "positive integer"),
        ("rpm=-3", "positive integer"),
        ("rpm=1.5", "positive integer"),
        ("rpm=", "positive integer"),
    ],
)
def test_parse_limits_rejects(text: str, complaint: str) -> None:
    with pytest.raises(MockbayError, match=complaint) as caught:
        parse_limits(text)
    assert str(caught.value).startswith("--rate-limits: ")
