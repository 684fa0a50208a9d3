"""The plugin and Message Batches: the marker's batch options, journal lookups by batch, and the
teardown report for a batch request no scenario answered."""

from __future__ import annotations

import pytest

from .inner import project

pytest_plugins = ["pytester"]

SUITE = """
import time

import anthropic
import pytest


def batch(client, *texts):
    params = [{"model": "claude-haiku-4-5", "max_tokens": 20, "messages": [{"role": "user", "content": t}]} for t in texts]
    return client.messages.batches.create(requests=[{"custom_id": f"c{n}", "params": p} for n, p in enumerate(params)])


@pytest.mark.mockbay(scenarios=["scenarios/echo.yaml"], batch_seconds=30)
def test_batch_seconds_from_the_marker(mockbay):
    with anthropic.Anthropic(base_url=mockbay.url, api_key="k") as client:
        created = batch(client, "echo me")
        assert client.messages.batches.retrieve(created.id).processing_status == "in_progress"
        assert client.messages.batches.cancel(created.id).processing_status == "canceling"
    assert mockbay.journal.call_count == 0


@pytest.mark.mockbay(scenarios=["scenarios/echo.yaml"])
def test_journal_finds_a_batchs_calls(mockbay):
    with anthropic.Anthropic(base_url=mockbay.url, api_key="k") as client:
        first, second = batch(client, "echo one"), batch(client, "echo two", "echo three")
        client.messages.batches.retrieve(second.id)
    assert [call.custom_id for call in mockbay.journal.find(batch_id=second.id)] == ["c0", "c1"]
    assert len(mockbay.journal.find(batch_id=first.id, scenario="echo")) == 1


@pytest.mark.mockbay(files_downloadable=True)
def test_files_downloadable_from_the_marker(mockbay):
    with anthropic.Anthropic(base_url=mockbay.url, api_key="k") as client:
        stored = client.files.upload(file=("a.txt", b"abc", "text/plain"))
        assert client.files.download(stored.id).read() == b"abc"


@pytest.mark.mockbay(scenarios=["scenarios/echo.yaml"])
def test_a_batch_request_nothing_answers(mockbay):
    with anthropic.Anthropic(base_url=mockbay.url, api_key="k") as client:
        created = batch(client, "echo fine", "nobody answers this")
        results = {line.custom_id: line.result for line in client.messages.batches.results(created.id)}
    assert results["c1"].type == "errored"


@pytest.mark.mockbay(batch_seconds=-1)
def test_a_bad_batch_seconds(mockbay):
    pass
"""


def test_batch_options_journal_and_teardown(pytester: pytest.Pytester) -> None:
    project(pytester)
    pytester.makepyfile(**{"tests/test_batches": SUITE})

    result = pytester.runpytest()

    result.assert_outcomes(passed=4, errors=2)
    output = result.stdout.str()
    assert "mockbay: 1 request(s) to /v1/messages got no scenario's answer:" in output
    assert "POST /v1/messages/batches -> 400 invalid_request_error" in output
    assert "last user: 'nobody answers this'" in output
    assert "@pytest.mark.mockbay batch_seconds must be a number >= 0, got -1" in output
