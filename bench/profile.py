"""Where a cold request's time goes: pyinstrument over `mockbay serve` under distinct-body wrk load.

The throughput rows show mockbay's whole pipeline at about a fifth of the bare aiohttp baseline;
this profile says which parts cost what. pyinstrument comes with the `dev` extra (requirements/
dev.lock); the script runs the server under it on loopback
for a few seconds of `wrk` with every body distinct (the reply memo never answers), stops it, and
writes the text report to results/profile-cold-path.txt.
Run: `.venv/bin/python bench/profile.py`.
"""

from __future__ import annotations

import importlib.util
import sys

import throughput
from common import BENCH, HOST, PYTHON, RESULTS, SCENARIOS, free_port, running

SECONDS = 5
REPORT = RESULTS / "profile-cold-path.txt"


def ensure_pyinstrument() -> None:
    if importlib.util.find_spec("pyinstrument") is None:
        raise SystemExit("pyinstrument is missing: `make test` installs requirements/dev.lock, which has it")


def main() -> None:
    ensure_pyinstrument()
    RESULTS.mkdir(exist_ok=True)
    port = free_port()
    argv = [PYTHON, "-m", "pyinstrument", "--renderer", "text", "--outfile", str(REPORT), "-m", "mockbay"]
    argv += ["serve", "--host", HOST, "--port", str(port), "--scenarios", str(SCENARIOS / "json.yaml")]
    argv += ["--timing", "instant", "--seed", "1", "--log-level", "warning"]
    with running("mockbay-profiled", argv, port) as server:
        figures = throughput.wrk(server.url, 16, SECONDS, server.proc.pid, distinct=True)
    print(f"{figures['rps']:.0f} req/s under the profiler; report: {REPORT.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    sys.exit(main())
