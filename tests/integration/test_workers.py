"""`mockbay serve --workers 2`: two processes share one port, both answer, request ids never
repeat, and the ready line means what it says: printed as a single process prints it, once every
worker listens, and never for a port another server holds."""

from __future__ import annotations

import re
import socket
import subprocess
import sys

import httpx

from tests.conftest import SCENARIOS
from tests.processes import start, stop

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {"model": "claude-haiku-4-5", "max_tokens": 50, "messages": [{"role": "user", "content": "hi"}]}
READY = re.compile(r"mockbay listening on http://127\.0\.0\.1:\d+ \(\d+ scenarios\)\n")


def serve_workers(port: int) -> tuple[str, ...]:
    return (
        "serve", "--port", str(port), "--workers", "2", "--timing", "instant", "--scenarios", str(SCENARIOS),
        "--log-level", "warning",
    )  # fmt: skip


def test_two_workers_serve_one_port():
    child = start(*serve_workers(0))
    try:
        assert READY.fullmatch(child.ready), child.ready  # the line scripts wait for, as one process's
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


def refused_start(port: int) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "mockbay", *serve_workers(port)]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)


def test_a_port_another_program_holds_is_exit_2_with_no_ready_line():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        refused = refused_start(holder.getsockname()[1])
    assert refused.returncode == 2, refused.stderr
    assert refused.stdout == ""
    assert "mockbay: error: cannot listen on 127.0.0.1:" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_a_second_workers_server_does_not_join_the_first_ones_port():
    """Workers bind with SO_REUSEPORT, which would let another server's workers share the port."""
    first = start(*serve_workers(0))
    try:
        refused = refused_start(int(first.url.rsplit(":", 1)[1]))
        assert refused.returncode == 2 and refused.stdout == "", refused.stderr
        assert "cannot listen on" in refused.stderr and "Traceback" not in refused.stderr
    finally:
        stop(first)
