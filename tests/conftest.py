"""Shared fixtures: a real mockbay server on loopback with the test scenarios, and SDK clients."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import anthropic
import pytest

from mockbay.server.runner import MockServer
from tests.tls import one_tls_context

DATA = Path(__file__).parent / "data"
SCENARIOS = DATA / "scenarios"
REPO = Path(__file__).parent.parent


@pytest.fixture(scope="session", autouse=True)
def _one_tls_context() -> Iterator[None]:
    """Each HTTP client shares one TLS context (tests/tls.py): a quarter of the suite's time."""
    with one_tls_context():
        yield


@pytest.fixture(scope="module")
def core_server() -> Iterator[MockServer]:
    """One server per module over the tests' scenario folder (instant timing, strict fallback)."""
    with MockServer([SCENARIOS]) as server:
        yield server


_open_clients: list[anthropic.Anthropic] = []


def sync_client(base_url: str, api_key: str = "test-key", **options: object) -> anthropic.Anthropic:
    """A sync SDK client closed after the test (an unclosed socket is a ResourceWarning, an error here)."""
    client = anthropic.Anthropic(base_url=base_url, api_key=api_key, **options)  # type: ignore[arg-type]
    _open_clients.append(client)
    return client


def pinned_client(server: MockServer, scenario: str, **options: object) -> anthropic.Anthropic:
    return sync_client(f"{server.url}/s/{scenario}", **options)


@pytest.fixture(autouse=True)
def _close_sync_clients() -> Iterator[None]:
    yield
    while _open_clients:
        _open_clients.pop().close()


@pytest.fixture
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fails the test if anything logged a traceback: hostile input must be answered, not crash a
    handler (modules that feed the server such input use it for every test)."""
    caplog.set_level(logging.DEBUG)
    yield
    records = caplog.get_records("setup") + caplog.get_records("call")  # `records` is teardown's here
    tracebacks = [r.getMessage() for r in records if r.exc_info or "Traceback" in r.getMessage()]
    assert tracebacks == []


def pinned_async_client(server: MockServer, scenario: str, **options: object) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=f"{server.url}/s/{scenario}", api_key="test-key", **options)  # type: ignore[arg-type]


USER_HI = [{"role": "user", "content": "What is the weather in Paris?"}]


class HandClock:
    """A clock the test moves by hand (`clock.now += 5`), for state that ages without sleeping."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def cached_patterns() -> list[str]:
    """The patterns Python's `re` keeps compiled (its `_cache`, and from 3.12 `_cache2` too)."""
    caches = (getattr(re, "_cache", {}), getattr(re, "_cache2", {}))
    return [key[1] for cache in caches for key in list(cache) if isinstance(key[1], str)]
