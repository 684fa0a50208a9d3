"""Start-up: process start to first successful reply, and in-process MockServer to first reply.

The clock starts just before the process is spawned (so interpreter start and imports count, as a
user waiting on `mockbay serve` sees them) and stops when a POST /v1/messages first answers 200.
Polling retries a refused connection every 2 ms. Both sides run from compiled bytecode, as an
installed package does (pip and the Dockerfile compile it): this checkout is installed editable,
and under PYTHONDONTWRITEBYTECODE=1 every start would otherwise compile each of mockbay's modules
from source (1.95x the baseline instead of 1.41x here), a cost no installed user pays.

The in-process figure runs in a fresh interpreter per repetition and reports three parts:
importing mockbay and MockServer (paid once per test session), the first `MockServer(...)` from
construction to its first reply (what the first test waits for, lazy imports inside included),
and a second one in the same process (what each later server costs).

`python bench/startup.py --inprocess SCENARIO` is the child side of that figure.
"""

from __future__ import annotations

import argparse
import compileall
import json
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from common import BENCH, PYTHON, ROOT, post, request_body, stop, wait_quiet

# Nine, not five: on the shared 2-core machine, medians of five moved between 1.05x and 1.63x while
# the start-up path did not change.
REPEATS = 9


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


def compile_bytecode() -> None:
    """Write the .pyc files an installed package has (see module doc), for mockbay and bench/, and
    mockbay's table of dataclass code (mockbay/codecache.py), as the Makefile's set-up does."""
    for folder in (ROOT / "mockbay", BENCH):
        compileall.compile_dir(folder, quiet=1)
    subprocess.run([PYTHON, "-m", "mockbay.compile_dataclasses", "-q"], check=True)


def compare(servers: Mapping[str, tuple[Sequence[str], int]]) -> dict[str, Any]:
    """Median and min of REPEATS start-ups per server, interleaved so drift hits them alike."""
    compile_bytecode()
    times: dict[str, list[float]] = {name: [] for name in servers}
    for _ in range(REPEATS):
        wait_quiet()
        for name, (argv, port) in servers.items():
            times[name].append(first_reply_ms(argv, port))
    return {
        name: {"median_ms": statistics.median(t), "min_ms": min(t), "runs_ms": t} for name, t in times.items()
    }


def inprocess(scenario: Path) -> dict[str, Any]:
    """REPEATS fresh interpreters each timing the MockServer parts (see module doc)."""
    runs = []
    for _ in range(REPEATS):
        wait_quiet()
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
    return {
        key: {"median_ms": statistics.median(r[key] for r in runs), "runs_ms": [r[key] for r in runs]}
        for key in ("import_ms", "first_ms", "again_ms")
    }


def _first_reply_ms(mockbay: ModuleType, scenario: Path) -> float:
    """One MockServer: from constructing it to its first successful reply, then closed."""
    started = time.perf_counter()
    with mockbay.MockServer(scenarios=[str(scenario)]) as server:
        port = urlsplit(server.url).port
        assert port is not None
        status, body = post(port, request_body())
        elapsed = (time.perf_counter() - started) * 1000
    if status != 200:
        raise SystemExit(f"MockServer replied HTTP {status}: {body[:300]!r}")
    return elapsed


def _child(scenario: Path) -> None:
    """The in-process side: import mockbay and MockServer, then time a first and a second server."""
    started = time.perf_counter()
    import mockbay  # imported here because the import is what is being timed

    if not hasattr(mockbay, "MockServer"):  # the facade imports it lazily; this loads it
        print(json.dumps({"unavailable": "mockbay.MockServer does not exist yet"}))
        return
    imported = time.perf_counter()
    first = _first_reply_ms(mockbay, scenario)
    again = _first_reply_ms(mockbay, scenario)
    print(json.dumps({"import_ms": (imported - started) * 1000, "first_ms": first, "again_ms": again}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inprocess", type=Path, required=True)
    _child(parser.parse_args().inprocess)
