"""Async tests share the thread-mode server: pytest-asyncio auto mode, and pytest-aiohttp in strict mode."""

from __future__ import annotations

import pytest

from .inner import project

pytest_plugins = ["pytester"]

AUTO_SUITE = """
import aiohttp
import anthropic
import httpx
import pytest
from helper import ask

BODY = {"model": "claude-haiku-4-5", "max_tokens": 50, "messages": [{"role": "user", "content": "echo raw"}]}
HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}

pytestmark = pytest.mark.mockbay(scenarios=["scenarios/echo.yaml", "scenarios/steps.yaml"])


async def test_async_sdk(mockbay):
    async with anthropic.AsyncAnthropic(base_url=mockbay.url, api_key="k") as client:
        reply = await client.messages.create(
            model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "echo async"}]
        )
        async with client.messages.stream(
            model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "echo stream"}]
        ) as stream:
            streamed = await stream.get_final_text()
    assert reply.content[0].text == "You said: echo async"
    assert streamed == "You said: echo stream"


async def test_httpx_directly(mockbay):
    async with httpx.AsyncClient(base_url=mockbay.url) as client:
        reply = await client.post("/v1/messages", json=BODY, headers=HEADERS)
    assert reply.json()["content"][0]["text"] == "You said: echo raw"


async def test_aiohttp_directly(mockbay):
    async with aiohttp.ClientSession() as session:
        async with session.post(mockbay.url + "/v1/messages", json=BODY, headers=HEADERS) as reply:
            assert (await reply.json())["content"][0]["text"] == "You said: echo raw"


async def test_sequence_starts_over_in_async_tests(mockbay):
    async with anthropic.AsyncAnthropic(base_url=mockbay.url, api_key="k") as client:
        replies = [
            await client.messages.create(
                model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "step"}]
            )
            for _ in range(2)
        ]
    assert [r.content[0].text for r in replies] == ["one", "two"]


def test_sync_next_to_async(mockbay):
    assert ask(mockbay, "step").content[0].text == "one"


async def test_async_teardown_check(mockbay):
    async with anthropic.AsyncAnthropic(base_url=mockbay.url, api_key="k", max_retries=0) as client:
        with pytest.raises(anthropic.BadRequestError):
            await client.messages.create(
                model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "unknown"}]
            )
"""

AIOHTTP_SUITE = """
import anthropic
import pytest
from aiohttp import web


def make_app(base_url):
    \"\"\"A user's web app that asks Claude on each request: the code under test.\"\"\"
    async def summarize(request):
        async with anthropic.AsyncAnthropic(base_url=base_url, api_key="k") as client:
            reply = await client.messages.create(
                model="claude-haiku-4-5", max_tokens=50,
                messages=[{"role": "user", "content": "echo " + request.query["q"]}],
            )
        return web.json_response({"answer": reply.content[0].text})

    app = web.Application()
    app.router.add_get("/summarize", summarize)
    return app


@pytest.mark.asyncio
@pytest.mark.mockbay(scenarios=["scenarios/echo.yaml"])
async def test_app_under_aiohttp_client(aiohttp_client, mockbay):
    client = await aiohttp_client(make_app(mockbay.url))
    response = await client.get("/summarize", params={"q": "hello"})
    assert (await response.json()) == {"answer": "You said: echo hello"}
    mockbay.journal.assert_called("echo", times=1)
"""


def test_async_tests_in_auto_mode(pytester: pytest.Pytester) -> None:
    project(pytester, mode="auto")
    pytester.makepyfile(**{"tests/test_suite": AUTO_SUITE})

    result = pytester.runpytest()

    result.assert_outcomes(passed=6, errors=1)
    assert "ERROR at teardown of test_async_teardown_check" in result.stdout.str()
    assert "last user: 'unknown'" in result.stdout.str()


def test_pytest_aiohttp_in_strict_mode(pytester: pytest.Pytester) -> None:
    project(pytester, mode="strict")
    pytester.makepyfile(**{"tests/test_suite": AIOHTTP_SUITE})

    pytester.runpytest().assert_outcomes(passed=1)
