"""The journal never stores a credential whole: every header the recorder would scrub is masked."""

from __future__ import annotations

import pytest

from mockbay.journal import mask_headers


@pytest.mark.parametrize(
    ("name", "value", "stored"),
    [
        ("Authorization", "Bearer sk-ant-api03-secret", "Bearer sk-a…"),
        ("x-api-key", "sk-ant-api03-secret", "sk-a…"),
        ("x-mockbay-admin-token", "s3cret-token", "s3cr…"),
        ("Set-Cookie", "session=abcdef", "sess…"),
        ("x-custom-api-key", "abcdef123456", "abcd…"),
        ("anthropic-ratelimit-tokens-limit", "1000", "1000"),
        ("x-mockbay-session", "tenant-a", "tenant-a"),
    ],
)
def test_credential_headers_are_reduced_to_a_hint(name: str, value: str, stored: str) -> None:
    assert mask_headers({name: value}) == {name.lower(): stored}
