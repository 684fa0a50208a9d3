"""`mockbay serve --workers 2`: two processes share one port and both answer."""

from __future__ import annotations

import subprocess
import sys

import httpx

from tests.conftest import SCENARIOS

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {"model": "claude-haiku-4-5", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}


def test_two_workers_serve_one_port():
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mockbay",
            "serve",
            "--port",
            "0",
            "--workers",
            "2",
            "--timing",
            "instant",
            "--scenarios",
            str(SCENARIOS),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("mockbay listening on http://127.0.0.1:") and "2 workers" in line, line
        url = line.split()[3]
        with httpx.Client(base_url=url, headers=HEADERS) as client:
            statuses = {client.post("/s/plain-text/v1/messages", json=BODY).status_code for _ in range(20)}
            assert statuses == {200}
        pids = set()
        for _ in range(40):  # fresh connections spread over the workers by the kernel
            with httpx.Client(base_url=url) as fresh:
                pids.add(fresh.get("/_mockbay/health").json()["pid"])
        assert len(pids) == 2
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
        assert process.stdout is not None
        process.stdout.close()
