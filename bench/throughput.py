"""Non-streaming throughput with wrk: requests/s and p50/p99 latency at fixed concurrencies.

wrk runs closed-loop (each connection sends its next request when the previous reply arrives),
so latency is per request under that load, not latency under an open arrival rate. The CPU that
wrk and the server burn during each run is read from the kernel (wrk's rusage as a reaped child,
the server's process tree from /proc), so a reader can see whether the generator starved the
server of the 2 cores.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import time
from collections.abc import Sequence
from typing import Any

from common import (
    BENCH,
    CORES,
    Server,
    cpu_seconds,
    ensure_tool,
    machine_busy_seconds,
    medians,
    post,
    request_body,
    tree,
)

CONCURRENCY = (16, 64)
THREADS = 2


def ensure_wrk() -> str:
    """wrk's path, installing the Debian package first if it is missing (needs root)."""
    return ensure_tool("wrk", "wrk")


def wrk(
    url: str, connections: int, seconds: float, server_pid: int, *, distinct: bool = False
) -> dict[str, Any]:
    """One wrk run against POST {url}/v1/messages, with its figures and the CPU each side used.

    By default every request repeats one body (mockbay's reply memo answers after the first);
    `distinct` makes every body unique, so each request takes mockbay's whole pipeline.
    """
    server = tree(server_pid)
    argv = [ensure_wrk(), "-t", str(THREADS), "-c", str(connections), "-d", f"{seconds:g}s"]
    argv += ["--timeout", "5s", "-s", str(BENCH / "post.lua"), f"{url}/v1/messages"]
    env = {
        **os.environ,
        "BENCH_REQUEST": str(BENCH / "request.json"),
        "BENCH_DISTINCT": "1" if distinct else "0",
    }
    before, server_before = resource.getrusage(resource.RUSAGE_CHILDREN), cpu_seconds(server)
    busy_before, started = machine_busy_seconds(), time.monotonic()
    out = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=seconds + 60, check=True)
    wall = time.monotonic() - started
    after, server_after = resource.getrusage(resource.RUSAGE_CHILDREN), cpu_seconds(server)
    busy = machine_busy_seconds() - busy_before
    figures = json.loads(next(line for line in reversed(out.stdout.splitlines()) if line.startswith("{")))
    wrk_cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    server_cpu = server_after - server_before
    requests = figures["requests"]
    return {
        "connections": connections,
        "threads": THREADS,
        "seconds": figures["duration_us"] / 1e6,
        "requests": requests,
        "rps": requests / (figures["duration_us"] / 1e6),
        "p50_ms": figures["p50_us"] / 1000,
        "p99_ms": figures["p99_us"] / 1000,
        "max_ms": figures["max_us"] / 1000,
        "errors": figures["errors"],
        "wrk_cpu_cores": wrk_cpu / wall,
        "server_cpu_cores": server_cpu / wall,
        "other_cpu_cores": max(0.0, busy - wrk_cpu - server_cpu) / wall,
        "machine_cores": CORES,
        "wrk_cpu_us_per_request": wrk_cpu * 1e6 / requests if requests else None,
        "server_cpu_us_per_request": server_cpu * 1e6 / requests if requests else None,
    }


def median_of(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One server's wrk figures over its alternating runs (`common.medians`), each run's req/s
    beside them: one 4 s run's ratio moved between 0.41x and 0.62x from run to run."""
    merged = medians(runs, ("connections", "threads", "machine_cores"))
    merged["rps_by_run"] = [run["rps"] for run in runs]
    return merged


def warm_up(server: Server) -> None:
    """Check the reply is the benchmark's message, then run wrk for a second unmeasured."""
    status, body = post(server.port, request_body())
    if status != 200 or json.loads(body).get("type") != "message":
        raise RuntimeError(f"{server.name}: POST /v1/messages gave HTTP {status}: {body[:300]!r}")
    wrk(server.url, CONCURRENCY[0], 1, server.proc.pid)
