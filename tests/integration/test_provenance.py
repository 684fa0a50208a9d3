"""Every answer says where it came from: `x-mockbay-*` headers, the log line and the journal agree."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import httpx
import pytest

from mockbay.server.runner import MockServer

SCENARIO = """\
name: weather
rules:
  - when: {last_user: {contains: Paris}}
    reply: {text: Sunny in Paris.}
  - when: {last_user: {contains: Rome}}
    reply: {error: {status: 529}}
"""
HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}


def body(text: str, stream: bool = False) -> dict[str, object]:
    return {
        "model": "claude-haiku-4-5",
        "max_tokens": 50,
        "stream": stream,
        "messages": [{"role": "user", "content": text}],
    }


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer([], fallback="strict") as running:
        running.load(SCENARIO)
        yield running


def post(server: MockServer, text: str, path: str = "/v1/messages", stream: bool = False) -> httpx.Response:
    return httpx.post(server.url + path, json=body(text, stream), headers=HEADERS)


def mockbay_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.startswith("x-mockbay-")}


@pytest.mark.parametrize("stream", [False, True])
def test_a_matched_reply_names_its_scenario_and_step(server: MockServer, stream: bool) -> None:
    for _ in range(2):  # the second answer comes from the reply memo, with the same headers
        response = post(server, "Weather in Paris?", stream=stream)
        assert response.status_code == 200
        assert mockbay_headers(response) == {
            "x-mockbay-scenario": "weather",
            "x-mockbay-step": "rules[0]",
            "x-mockbay-generated": "false",
        }
    last = server.journal.last
    assert (last.scenario, last.step, last.generated, last.missed) == ("weather", "rules[0]", False, False)


def test_a_scenario_error_reply_names_its_step_too(server: MockServer) -> None:
    response = post(server, "Weather in Rome?")
    assert response.status_code == 529 and response.headers["x-mockbay-step"] == "rules[1]"


def test_a_generated_reply_says_so(server: MockServer) -> None:
    with server.overrides(fallback="generate"):
        response = post(server, "Weather in Oslo?")
    assert response.status_code == 200
    assert mockbay_headers(response) == {"x-mockbay-generated": "true"}
    assert server.journal.last.generated and server.journal.last.scenario is None


def test_an_unmatched_request_is_a_400_that_says_so(server: MockServer) -> None:
    response = post(server, "Weather in Oslo?")
    assert response.status_code == 400
    assert mockbay_headers(response) == {"x-mockbay-generated": "false", "x-mockbay-unmatched": "true"}
    assert "'weather'" in response.json()["error"]["message"]
    assert server.journal.last.missed and not server.journal.last.generated


def test_a_misspelt_pin_is_a_400_even_when_generating(server: MockServer) -> None:
    with server.overrides(fallback="generate"):
        response = post(server, "Weather in Paris?", path="/s/wether/v1/messages")
    assert response.status_code == 400 and response.headers["x-mockbay-unmatched"] == "true"
    assert "Did you mean 'weather'" in response.json()["error"]["message"]


def test_a_request_refused_before_matching_carries_no_provenance(server: MockServer) -> None:
    response = httpx.post(server.url + "/v1/messages", json={"model": "x"}, headers=HEADERS)
    assert response.status_code == 400 and mockbay_headers(response) == {}


def test_the_log_line_says_the_same(server: MockServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mockbay")
    post(server, "Weather in Paris?")
    post(server, "Weather in Oslo?")
    with server.overrides(fallback="generate"):
        post(server, "Weather in Oslo?")
    lines = [r.getMessage() for r in caplog.records if "POST /v1/messages" in r.getMessage()]
    assert [line.split(" ")[3:5] for line in lines] == [
        ["200", "scenario=weather"],
        ["400", "unmatched;"],
        ["200", "generated;"],
    ]
