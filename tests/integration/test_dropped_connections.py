"""Dropped connections, scripted or not, are journaled and logged as one line: never a traceback."""

from __future__ import annotations

import logging
import time

import httpx
import pytest

from mockbay.server.runner import MockServer
from tests.conftest import SCENARIOS

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {"model": "claude-haiku-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}


def _settle(server: MockServer, count: int) -> None:
    """Wait until the server has finished `count` exchanges (a dropped client does not wait for it)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and sum(e.duration_ms > 0 for e in server.journal.calls) < count:
        time.sleep(0.02)


def test_faults_and_hang_ups_log_no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    timed = "name: slow\ntiming: {ttft_ms: 50, gap_ms: 400}\nrules: [{reply: {text: {chunks: [a, b, c, d, e]}}}]\n"
    with MockServer([SCENARIOS]) as server, httpx.Client(base_url=server.url, headers=HEADERS) as client:
        server.load(timed)
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/s/midstream-disconnect/v1/messages", json={**BODY, "stream": True})
        with pytest.raises(httpx.RemoteProtocolError):
            client.post("/s/midstream-disconnect/v1/messages", json=BODY)
        with pytest.raises(httpx.ReadTimeout):
            client.post(
                "/s/slow/v1/messages", json={**BODY, "stream": True}, timeout=httpx.Timeout(5, read=0.2)
            )
        _settle(server, 3)
        disconnect_stream, disconnect_json, hung_up = server.journal.calls
    assert (disconnect_stream.status, disconnect_stream.fault) == (200, "disconnect")
    assert (disconnect_json.status, disconnect_json.fault) == (499, "disconnect")
    assert (hung_up.status, hung_up.client_disconnected) == (200, True)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text
