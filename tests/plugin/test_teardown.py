"""Teardown checks: unmatched requests and internal errors fail the test with a useful message."""

from __future__ import annotations

import pytest

from .inner import project

pytest_plugins = ["pytester"]

SUITE = """
import anthropic
import httpx
import pytest
from helper import ask

ROME = "What is the weather in Rome?"


@pytest.mark.mockbay(scenarios=["scenarios/weather.yaml"])
def test_unmatched_by_match(mockbay):
    with pytest.raises(anthropic.BadRequestError, match="no scenario matched"):
        ask(mockbay, ROME)


@pytest.mark.mockbay(scenarios=["scenarios/weather.yaml"])
def test_unmatched_by_turn(mockbay):
    messages = [
        {"role": "user", "content": ROME},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "rain"}]},
    ]
    with anthropic.Anthropic(base_url=mockbay.url, api_key="k", max_retries=0) as client:
        client.messages.create(model="claude-haiku-4-5", max_tokens=50, system="weather bot", messages=messages)


@pytest.mark.mockbay(scenarios=["scenarios/weather.yaml"], assert_all_matched=False)
def test_opted_out(mockbay):
    with pytest.raises(anthropic.BadRequestError):
        ask(mockbay, ROME)
    assert len(mockbay.journal.unmatched) == 1
    assert mockbay.journal.find(matched=False)[0].near_misses[0]["scenario"] == "weather"


@pytest.mark.mockbay(scenarios=["scenarios/weather.yaml"], fallback="generate")
def test_generated_is_not_unmatched(mockbay):
    assert ask(mockbay, ROME).content


def test_unknown_pin_and_no_key(mockbay):
    with anthropic.Anthropic(base_url=mockbay.url + "/s/wether", api_key="k", max_retries=0) as client:
        with pytest.raises(anthropic.BadRequestError):
            client.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    reply = httpx.post(mockbay.url + "/v1/messages", json={}, headers={"anthropic-version": "2023-06-01"})
    assert reply.status_code == 401


@pytest.mark.mockbay(scenarios=["scenarios/echo.yaml"])
def test_refused_before_matching(mockbay):
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    reply = httpx.post(mockbay.url + "/v1/messages", json={"model": "claude-haiku-4-5"}, headers=headers)
    assert reply.status_code == 400


def test_internal_error(mockbay):
    mockbay.state.internal_errors.append("Traceback (most recent call last):\\nZeroDivisionError: boom")


@pytest.mark.mockbay(scenarios=["scenarios/weather.yaml"])
def test_clean(mockbay):
    with anthropic.Anthropic(base_url=mockbay.url, api_key="k", max_retries=0) as client:
        reply = client.messages.create(
            model="claude-haiku-4-5", max_tokens=50, system="weather bot", messages=[{"role": "user", "content": ROME}]
        )
    assert reply.stop_reason == "tool_use"
"""


def test_teardown_reports(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.makepyfile(**{"tests/test_suite": SUITE})

    result = pytester.runpytest()

    result.assert_outcomes(passed=7, failed=1, errors=4)
    output = result.stdout.str()
    sections = dict(part.split(" _", 1) for part in output.split("\n_") if "ERROR at teardown of " in part)
    by_test = {name.split("ERROR at teardown of ")[1].split()[0]: body for name, body in sections.items()}
    assert sorted(by_test) == [
        "test_internal_error",
        "test_unknown_pin_and_no_key",
        "test_unmatched_by_match",
        "test_unmatched_by_turn",
    ]

    match = by_test["test_unmatched_by_match"]
    assert "mockbay: 1 request(s) to /v1/messages got no scenario's answer:" in match
    assert "request #1: POST /v1/messages -> 400 invalid_request_error" in match
    assert (
        "model 'claude-haiku-4-5', turn 0, stream False, last user: 'What is the weather in Rome?'" in match
    )
    assert (
        "- weather (" in match
        and "weather.yaml:4:3) failed at match: system: '' does not contain 'weather'" in match
    )
    assert "loaded scenarios (1): weather (" in match
    assert "@pytest.mark.mockbay(assert_all_matched=False)" in match and 'fallback="generate"' in match

    turn = by_test["test_unmatched_by_turn"]
    assert "turn 1, stream False, last user: tool_result for toolu_1" in turn
    assert "failed at turns[1].when: tool_result" in turn

    pinned = by_test["test_unknown_pin_and_no_key"]
    assert "1 request(s)" in pinned and "POST /s/wether/v1/messages -> 400" in pinned
    assert "no scenario was tried: the pinned scenario 'wether' is not loaded" in pinned
    assert "loaded scenarios: none" in pinned
    assert "-> 401" not in pinned  # refused before matching (auth, validation) is not a miss

    internal = by_test["test_internal_error"]
    assert (
        "1 internal server error(s) (a bug in mockbay" in internal and "ZeroDivisionError: boom" in internal
    )
    assert "got no scenario's answer" not in internal
