"""Credential scrubbing: what goes, and (as important for replay) what stays."""

from __future__ import annotations

import pytest

from mockbay.errors import MockbayError
from mockbay.record.scrub import MARKER, Scrubber, looks_random

RANDOM_KEY = "Xk9mQ2vL8nR4tY7wE1zA5bC3dF6gH0jIp"  # 33 chars, both cases and digits
SCRUBBER = Scrubber()


@pytest.mark.parametrize(
    "name",
    [
        "x-api-key",
        "Authorization",
        "Proxy-Authorization",
        "Cookie",
        "set-cookie",
        "anthropic-admin-api-key",
        "x-goog-api-key",
        "x-amz-security-token",
        "X-Client-Secret",
        "x-auth-token",
    ],
)
def test_secret_headers_lose_their_value(name: str) -> None:
    assert SCRUBBER.headers({name: "plain"}) == {name.lower(): MARKER}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("anthropic-ratelimit-tokens-limit", "400000"),
        ("anthropic-ratelimit-input-tokens-remaining", "399000"),
        ("anthropic-ratelimit-requests-reset", "2025-08-21T12:40:59Z"),
        ("retry-after", "2"),
        ("request-id", "req_011CSHoEeqs5C35K2UUqR7Fy"),
        ("content-type", "text/event-stream; charset=utf-8"),
    ],
)
def test_ordinary_headers_are_kept(name: str, value: str) -> None:
    assert SCRUBBER.headers({name: value}) == {name: value}


def test_a_header_value_shaped_like_a_key_goes_whatever_its_name() -> None:
    assert SCRUBBER.headers({"x-custom": RANDOM_KEY, "x-note": "key sk-ant-api03-abcdefgh12"}) == {
        "x-custom": MARKER,
        "x-note": f"key {MARKER}",
    }


@pytest.mark.parametrize(
    "secret",
    [
        "sk-ant-api03-" + RANDOM_KEY,
        "sk-ant-admin01-" + RANDOM_KEY,
        "sk-proj-" + RANDOM_KEY,
        "key-3ax6xnjp29jd6fds4gc373sgvjxteol0",
        "sk_live_" + RANDOM_KEY,
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "Bearer abc123def456",
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8",
        "xoxb-123456789012-abcdefABCDEF",
        "AIza" + "SyA1234567890abcdefghijklmnopqrstuv",
    ],
)
def test_key_shapes_are_cut_out_of_prose(secret: str) -> None:
    assert SCRUBBER.text(f"my key is {secret}, keep it safe") == f"my key is {MARKER}, keep it safe"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("password=hunter2xyz", f"password={MARKER}"),
        ('"api_key": "abcdef1234"', f'"api_key": "{MARKER}"'),
        ("token: s3cr3t-value", f"token: {MARKER}"),
    ],
)
def test_assignments_lose_only_the_value(text: str, expected: str) -> None:
    assert SCRUBBER.text(text) == expected


@pytest.mark.parametrize(
    "prose",
    [
        "Use Bearer authentication with a key-value-store-implementation.",
        "Set max_tokens: 1024 and read the scikit-learn docs (sk-learn).",
        "The commit 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 fixed it.",
        "Id 123e4567-e89b-12d3-a456-426614174000 and " + RANDOM_KEY + " inside prose stay.",
    ],
)
def test_prose_without_key_shapes_is_untouched(prose: str) -> None:
    assert SCRUBBER.text(prose) == prose


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (RANDOM_KEY, True),
        ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY0", True),
        ("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b", False),  # hex digest: one case only
        ("123e4567-e89b-12d3-a456-426614174000", False),
        ("getWeatherForecastForCityAndCountry2", False),
        ("/Users/Alice/Projects/App2/src/Main.tsx", False),
        ("HTTPServerConfig2023Production", False),
        ("short1Aa", False),
        ("has spaces Xk9mQ2vL8nR4tY7wE1zA5bC3", False),
    ],
)
def test_looks_random(value: str, expected: bool) -> None:
    assert looks_random(value) is expected


def test_json_scrubs_values_keys_and_secret_named_fields() -> None:
    data = {
        "city": "Paris",
        "token_value": RANDOM_KEY,
        "api_key": "short",
        "nested": [{"password": "x"}, "Bearer abc123def456", 42, None, True],
        "sk-ant-api03-abcdefgh12": 1,
    }
    assert SCRUBBER.json(data) == {
        "city": "Paris",
        "token_value": MARKER,
        "api_key": MARKER,
        "nested": [{"password": MARKER}, MARKER, 42, None, True],
        MARKER: 1,
    }


def test_opaque_values_keep_their_random_look_but_not_key_shapes() -> None:
    signature = "EqUBCkYIBBgCKkA0c2lnbmF0dXJlLWJ5dGVzLW9wYXF1ZQ7"
    ids = {
        "id": "toolu_01D7FLrfh4GYq7yT1ULFeyMV",
        "file_id": "file_011CNha8iCJcU1wXNR6q4V8w",  # a container_upload's
        "tool_id": "srvtoolu_01WSearchUpstreamIdAbCdEf",  # a caller's
        "fallback_credit_token": "fct_01YFSeXP1rV6nDfNrsKF5QYmhP82UGqFt1TLYx67mf",  # a refusal's
    }
    data = {"signature": signature, **ids, "data": "sk-ant-api03-abcdefgh12"}
    assert SCRUBBER.json(data) == {"signature": signature, **ids, "data": MARKER}


def test_user_headers_and_patterns() -> None:
    scrubber = Scrubber.build(headers=["X-Tenant"], patterns=[r"ACME-\d{4}", r"pin (?P<secret>\d+)"])
    assert scrubber.headers({"X-Tenant": "acme", "x-other": "acme"}) == {
        "x-tenant": MARKER,
        "x-other": "acme",
    }
    assert scrubber.text("order ACME-1234, pin 9876") == f"order {MARKER}, pin {MARKER}"
    assert Scrubber().text("order ACME-1234") == "order ACME-1234"


def test_a_bad_user_pattern_is_the_users_mistake() -> None:
    with pytest.raises(MockbayError, match=r"--scrub-pattern '\(': "):
        Scrubber.build(patterns=["("])
