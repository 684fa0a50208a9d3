"""The same scenario, seed and request give byte-identical responses across two server processes."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import SCENARIOS
from tests.processes import Child, start, stop

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json"}


def _start(seed: int) -> Child:
    return start(
        "serve", "--port", "0", "--timing", "instant", "--seed", str(seed), "--fallback", "generate",
        "--scenarios", str(SCENARIOS), "--log-level", "warning",
    )  # fmt: skip


@pytest.fixture(scope="module")
def two_servers() -> Iterator[tuple[str, str, str]]:
    started = [_start(5), _start(5), _start(6)]
    try:
        yield tuple(child.url for child in started)  # type: ignore[misc]
    finally:
        for child in started:
            stop(child)


def _exchange(url: str, path: str, body: dict[str, object]) -> list[bytes]:
    """Raw bodies of a JSON and a streamed request; request ids come from the seed and sequence."""
    raw = []
    for stream in (False, True):
        response = httpx.post(f"{url}{path}", headers=HEADERS, content=json.dumps({**body, "stream": stream}))
        raw.append(response.content + response.headers["request-id"].encode())
    return raw


CASES = [
    (
        "/s/thinking-tools/v1/messages",
        {"model": "claude-sonnet-4-6", "max_tokens": 500, "messages": [{"role": "user", "content": "hi"}]},
    ),
    (
        "/s/faker-text/v1/messages",
        {"model": "claude-haiku-4-5", "max_tokens": 500, "messages": [{"role": "user", "content": "yo"}]},
    ),
    (
        "/v1/messages",
        {
            "model": "claude-opus-4-8",
            "max_tokens": 300,
            "messages": [{"role": "user", "content": "unmatched: generated"}],
            "thinking": {"type": "enabled", "budget_tokens": 1024},
        },
    ),
]


def test_same_seed_same_bytes_across_processes(two_servers):
    first, second, _ = two_servers
    for path, body in CASES:
        assert _exchange(first, path, body) == _exchange(second, path, body)


def test_another_seed_changes_ids(two_servers):
    first, _, other = two_servers
    path, body = CASES[0]
    a = httpx.post(f"{first}{path}", headers=HEADERS, json=body).json()
    b = httpx.post(f"{other}{path}", headers=HEADERS, json=body).json()
    assert a["id"] != b["id"] and a["content"][1] == b["content"][1]
