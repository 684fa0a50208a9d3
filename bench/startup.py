"""Start-up: process start to first successful reply, and in-process MockServer to first reply.

The clock starts just before the process is spawned (so interpreter start and imports count, as a
user waiting on `mockbay serve` sees them) and stops when a POST /v1/messages first answers 200.
Polling retries a refused connection every 2 ms. The in-process figure runs in a fresh
interpreter per repetition and starts its clock after `import mockbay`, as a test suite pays the
import once: it times `MockServer(...)` entering its `with` block up to the first reply.

`python bench/startup.py --inprocess SCENARIO` is the child side of that figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from common import BENCH, PYTHON, post, request_body, stop

REPEATS = 5


def first_reply_ms(argv: Sequence[str], port: int, timeout: float = 60.0) -> float:
    """Spawn `argv`, poll until a POST /v1/messages answers 200, stop it; elapsed milliseconds."""
    body = request_body()
    started = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        while time.perf_counter() - started < timeout:
            try:
                status, _ = post(port, body, timeout=timeout)
            except OSError:
                status = 0
            if status == 200:
                return (time.perf_counter() - started) * 1000
            if proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited with {proc.returncode} before replying")
            time.sleep(0.002)
        raise RuntimeError(f"{argv[0]} gave no successful reply within {timeout:g} s")
    finally:
        stop(proc)


def compare(servers: dict[str, tuple[Sequence[str], int]]) -> dict[str, Any]:
    """Median and min of REPEATS start-ups per server, interleaved so drift hits them alike."""
    times: dict[str, list[float]] = {name: [] for name in servers}
    for _ in range(REPEATS):
        for name, (argv, port) in servers.items():
            times[name].append(first_reply_ms(argv, port))
    return {
        name: {"median_ms": statistics.median(t), "min_ms": min(t), "runs_ms": t} for name, t in times.items()
    }


def inprocess(scenario: Path) -> dict[str, Any]:
    """REPEATS fresh interpreters each timing MockServer start to first reply (see module doc)."""
    runs = []
    for _ in range(REPEATS):
        out = subprocess.run(
            [PYTHON, str(BENCH / "startup.py"), "--inprocess", str(scenario)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if out.returncode != 0:
            raise RuntimeError(out.stderr.strip().splitlines()[-1] if out.stderr.strip() else "no output")
        result = json.loads(out.stdout)
        if "unavailable" in result:
            return {"error": f"not available: {result['unavailable']}"}
        runs.append(result)
    first = [r["first_reply_ms"] for r in runs]
    return {
        "median_ms": statistics.median(first),
        "min_ms": min(first),
        "runs_ms": first,
        "import_median_ms": statistics.median(r["import_ms"] for r in runs),
    }


def _child(scenario: Path) -> None:
    """The in-process side: import mockbay, then time MockServer up to its first reply."""
    started = time.perf_counter()
    import mockbay  # imported here because the import is what is being timed

    imported = time.perf_counter()
    if not hasattr(mockbay, "MockServer"):
        print(json.dumps({"unavailable": "mockbay.MockServer does not exist yet"}))
        return
    with mockbay.MockServer(scenarios=[str(scenario)]) as server:
        port = urlsplit(server.url).port
        assert port is not None
        status, body = post(port, request_body())
        replied = time.perf_counter()
    if status != 200:
        raise SystemExit(f"MockServer replied HTTP {status}: {body[:300]!r}")
    print(
        json.dumps({"import_ms": (imported - started) * 1000, "first_reply_ms": (replied - imported) * 1000})
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inprocess", type=Path, required=True)
    _child(parser.parse_args().inprocess)
