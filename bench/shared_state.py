"""Three replicas on one Redis against one in-memory process: requests per second, honestly.

`.venv/bin/python bench/shared_state.py` (or `make bench-state`) starts a redis-server (Debian's
package; installed with apt-get if missing, as for wrk) on a free port, then measures in turns:

- one `mockbay serve` with the default in-memory state, loaded by one wrk (2 threads, c=48);
- three `mockbay serve --state redis://...` replicas, each loaded by its own wrk (1 thread,
  c=16), the three runs at once: the figure is their sum.

Two scenarios: `json.yaml` (a pure reply: the reply memo answers; with Redis each request still
takes the shared counter and the journal) and `sequence.yaml` (a `replies:` sequence: every
request also advances a cursor). There is no target: on a 2-core machine three replicas, Redis
and the load generators share the same cores, so the figure says what sharing costs, not how
far replicas scale. Results go to bench/results/shared-state.json and a markdown table.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import (
    BENCH,
    CORES,
    HOST,
    MOCKBAY,
    RESULTS,
    SCENARIOS,
    cpu_seconds,
    ensure_tool,
    free_port,
    git_commit,
    machine_busy_seconds,
    post,
    request_body,
    running,
    tree,
)
from throughput import ensure_wrk

CONNECTIONS = 48
REPLICAS = 3


@contextlib.contextmanager
def redis() -> Iterator[tuple[str, int]]:
    port = free_port()
    argv = [
        ensure_tool("redis-server", "redis-server"),
        "--port",
        str(port),
        "--bind",
        HOST,
        "--save",
        "",
        "--appendonly",
        "no",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        yield f"redis://{HOST}:{port}/0", proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def argv(port: int, scenario: Path, *extra: str) -> list[str]:
    base = [MOCKBAY, "serve", "--host", HOST, "--port", str(port), "--scenarios", str(scenario)]
    return [*base, "--timing", "instant", "--log-level", "warning", *extra]


def load(urls: list[str], seconds: float, pids: list[int]) -> dict[str, Any]:
    """One wrk per URL, all at once, sharing CONNECTIONS between them: summed figures, and the CPU
    the servers (and Redis) spent per request, which other load on the machine disturbs less."""
    threads = 2 if len(urls) == 1 else 1
    connections = CONNECTIONS // len(urls)
    env = {**os.environ, "BENCH_REQUEST": str(BENCH / "request.json"), "BENCH_DISTINCT": "0"}
    command = [ensure_wrk(), "-t", str(threads), "-c", str(connections), "-d", f"{seconds:g}s"]
    command += ["--timeout", "5s", "-s", str(BENCH / "post.lua")]
    procs = [
        subprocess.Popen([*command, f"{url}/v1/messages"], env=env, stdout=subprocess.PIPE, text=True)
        for url in urls
    ]
    cpu_before, busy_before, started = cpu_seconds(pids), machine_busy_seconds(), time.monotonic()
    runs = []
    for proc in procs:
        out, _ = proc.communicate(timeout=seconds + 60)
        runs.append(json.loads(next(line for line in reversed(out.splitlines()) if line.startswith("{"))))
    cpu, wall = cpu_seconds(pids) - cpu_before, time.monotonic() - started
    busy = machine_busy_seconds() - busy_before
    requests = sum(run["requests"] for run in runs)
    return {
        "rps": sum(run["requests"] / (run["duration_us"] / 1e6) for run in runs),
        "p99_ms": max(run["p99_us"] for run in runs) / 1000,
        "errors": sum(sum(run["errors"].values()) for run in runs),
        "server_cpu_us_per_request": cpu * 1e6 / requests if requests else None,
        "machine_busy_cores": busy / wall,
    }


def measure(scenario: Path, seconds: float) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    port = free_port()
    with running("memory", argv(port, scenario), port) as server:
        assert post(server.port, request_body())[0] == 200
        pids = tree(server.proc.pid)
        load([server.url], 1, pids)
        figures["memory"] = load([server.url], seconds, pids)
    with redis() as (url, redis_pid), contextlib.ExitStack() as stack:
        ports = [free_port() for _ in range(REPLICAS)]
        servers = [
            stack.enter_context(running(f"replica{i}", argv(p, scenario, "--state", url), p))
            for i, p in enumerate(ports)
        ]
        for server in servers:
            assert post(server.port, request_body())[0] == 200
        pids = [redis_pid, *(pid for s in servers for pid in tree(s.proc.pid))]
        load([s.url for s in servers], 1, pids)
        figures["redis"] = load([s.url for s in servers], seconds, pids)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0)
    args = parser.parse_args()
    results = {
        "commit": git_commit(),
        "cores": CORES,
        "connections": CONNECTIONS,
        "seconds": args.seconds,
        "scenarios": {
            name: measure(SCENARIOS / f"{name}.yaml", args.seconds) for name in ("json", "sequence")
        },
    }
    (RESULTS / "shared-state.json").write_text(json.dumps(results, indent=2) + "\n")
    head = f"scenario (c={CONNECTIONS}, {CORES} cores)"
    print(f"| {head} | 1 process, memory | {REPLICAS} replicas, one Redis | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name, figures in results["scenarios"].items():
        memory, shared = figures["memory"], figures["redis"]
        ratio = shared["rps"] / memory["rps"]
        print(f"| {name}.yaml req/s | {memory['rps']:,.0f} | {shared['rps']:,.0f} | {ratio:.2f}x |")
        print(f"| {name}.yaml p99 ms | {memory['p99_ms']:.1f} | {shared['p99_ms']:.1f} | |")
        alone, together = memory["server_cpu_us_per_request"], shared["server_cpu_us_per_request"]
        cost = together / alone
        print(
            f"| {name}.yaml CPU us/request (servers + Redis) | {alone:.0f} | {together:.0f} | {cost:.2f}x |"
        )
        busy = memory["machine_busy_cores"], shared["machine_busy_cores"]
        print(f"| {name}.yaml machine busy cores | {busy[0]:.2f} | {busy[1]:.2f} | |")


if __name__ == "__main__":
    main()
