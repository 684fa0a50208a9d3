"""`mockbay serve --workers 2`: two processes share one port, both answer, and request ids never repeat."""

from __future__ import annotations

import httpx

from tests.conftest import SCENARIOS
from tests.processes import start, stop

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {"model": "claude-haiku-4-5", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}


def test_two_workers_serve_one_port():
    child = start(
        "serve", "--port", "0", "--workers", "2", "--timing", "instant", "--scenarios", str(SCENARIOS),
        "--log-level", "warning",
    )  # fmt: skip
    try:
        assert child.url.startswith("http://127.0.0.1:") and "2 workers" in child.ready, child.ready
        with httpx.Client(base_url=child.url, headers=HEADERS) as client:
            statuses = {client.post("/s/plain-text/v1/messages", json=BODY).status_code for _ in range(20)}
            assert statuses == {200}
        pids, request_ids = set(), []
        for _ in range(40):  # fresh connections spread over the workers by the kernel
            with httpx.Client(base_url=child.url, headers=HEADERS) as fresh:
                pids.add(fresh.get("/_mockbay/health").json()["pid"])
                request_ids.append(fresh.post("/v1/messages", json=BODY).headers["request-id"])
        assert len(pids) == 2
        assert len(set(request_ids)) == len(request_ids)  # each worker counts from 1: ids must still differ
    finally:
        stop(child)
        assert child.process.returncode == 0
