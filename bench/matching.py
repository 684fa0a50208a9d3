"""Match-and-reply latency with 1 and with 10,000 scenarios loaded.

Each generated scenario (one file each, in a temp dir) answers one distinct last user message,
`question NNNNN`. Scenarios are tried by priority, then name, so `match-00000` is the first a
linear search reaches and the last name the worst case; both are timed. Requests go one at a
time over one keep-alive loopback connection from this process to `mockbay serve`, so each time
is a whole round trip through mockbay with nothing queued behind it. The 1-scenario figure is
mockbay's floor; the difference to it is what matching among 10,000 costs.

Run alone (`.venv/bin/python bench/matching.py`) it updates `matching` in results/latest.json.
"""

from __future__ import annotations

import http.client
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import (
    HEADERS,
    HOST,
    MOCKBAY,
    free_port,
    load_latest,
    mockbay_missing,
    percentile,
    request_body,
    running,
    wait_quiet,
    write_results,
)

COUNTS = (1, 10_000)
WARMUP = 50
REQUESTS = 500


def generate(directory: Path, count: int) -> None:
    """`count` scenario files, each matching only its own question."""
    for i in range(count):
        (directory / f"s{i:05d}.yaml").write_text(
            f"name: match-{i:05d}\ntiming: instant\nmatch:\n  last_user: 'question {i:05d}'\n"
            f"rules:\n  - reply:\n      text: 'answer {i:05d}'\n"
        )


def body_for(i: int) -> bytes:
    """The benchmark request with its last user message replaced by question `i`."""
    body = json.loads(request_body())
    body["messages"][-1]["content"] = f"question {i:05d}"
    return json.dumps(body, separators=(",", ":")).encode()


def time_requests(port: int, i: int) -> list[float]:
    """Milliseconds per request for REQUESTS sequential requests for question `i`, after WARMUP."""
    body, expected = body_for(i), f"answer {i:05d}".encode()
    conn = http.client.HTTPConnection(HOST, port, timeout=30)
    times = []
    try:
        for n in range(WARMUP + REQUESTS):
            started = time.perf_counter()
            conn.request("POST", "/v1/messages", body=body, headers=HEADERS)
            resp = conn.getresponse()
            reply = resp.read()
            elapsed = time.perf_counter() - started
            if resp.status != 200 or expected not in reply:
                raise RuntimeError(f"question {i:05d}: HTTP {resp.status}, not its scenario: {reply[:200]!r}")
            if n >= WARMUP:
                times.append(elapsed * 1000)
    finally:
        conn.close()
    return times


def measure() -> dict[str, Any]:
    """p50/p99 per request, first and last scenario, and load time, for each scenario count."""
    out: dict[str, Any] = {"requests": REQUESTS, "warmup": WARMUP}
    for count in COUNTS:
        with tempfile.TemporaryDirectory(prefix="mockbay-matching-") as tmp:
            generate(Path(tmp), count)
            port = free_port()
            argv = [MOCKBAY, "serve", "--host", HOST, "--port", str(port), "--scenarios", tmp]
            started = time.perf_counter()
            # the reply memo would answer these repeated requests without matching: switch it off
            options = ["--timing", "instant", "--seed", "1", "--reply-memo", "0", "--log-level", "warning"]
            with running("mockbay", [*argv, *options], port, timeout=600):
                figures: dict[str, Any] = {"load_s": time.perf_counter() - started}
                for label, i in (("first", 0), ("last", count - 1)):
                    wait_quiet()
                    times = time_requests(port, i)
                    figures[label] = {"p50_ms": percentile(times, 50), "p99_ms": percentile(times, 99)}
        out[str(count)] = figures
        print(f"   {count} scenarios: loaded in {figures['load_s']:.1f} s", flush=True)
    return out


def markdown(matching: dict[str, Any]) -> str:
    """The matching figures as a markdown table."""
    lines = [
        "| scenarios loaded | start to ready s | first scenario p50 / p99 ms | last scenario p50 / p99 ms |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for count in COUNTS:
        f = matching[str(count)]
        first, last = f["first"], f["last"]
        lines.append(
            f"| {count:,} | {f['load_s']:.2f} | {first['p50_ms']:.2f} / {first['p99_ms']:.2f} "
            f"| {last['p50_ms']:.2f} / {last['p99_ms']:.2f} |"
        )
    return "\n".join(lines)


def main() -> None:
    missing = mockbay_missing()
    if missing:
        sys.exit(f"mockbay not available: {missing}")
    doc = load_latest()
    doc["matching"] = measure()
    path = write_results(doc)
    print(markdown(doc["matching"]))
    print(f"\nresults: {path}")


if __name__ == "__main__":
    main()
