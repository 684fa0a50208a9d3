"""Server instructions per request under callgrind: a figure other people's load cannot move.

Requests per second and even CPU time per request move with the machine's load (a shared 2-core
machine moves them by 30% between runs); the number of instructions the server executes per
request does not. This starts each server under `valgrind --tool=callgrind` with instrumentation
off, warms it up, turns instrumentation on for `--requests` sequential POST /v1/messages on one
keep-alive connection, and divides the instructions counted by the requests. Three runs: the
baseline (`baseline.py`), mockbay with one body repeated (the reply memo answers), mockbay with
every body distinct (the whole pipeline). Each takes 20-60 s, mostly the server starting under
valgrind. Needs valgrind (`apt-get install valgrind`).

With `--free STEP,...` a fourth run counts mockbay with every body distinct and those steps made
costless (`attribution.FREE`): an upper bound on what compiling or caching them could gain.

Run: `.venv/bin/python bench/instructions.py [--requests 200] [--free STEP,...]`.
"""

from __future__ import annotations

import argparse
import http.client
import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import attribution
import baseline
from common import BENCH, HEADERS, HOST, PYTHON, SCENARIOS, free_port, request_body, running

WARM_UP = 20
START_TIMEOUT_S = 600.0  # an interpreter starting under valgrind is ~50x slower


def bodies(distinct: bool, count: int, start: int) -> list[bytes]:
    """The benchmark request, or copies whose last user text each carry their own number."""
    base = json.loads(request_body())
    out = []
    for n in range(start, start + count):
        body = json.loads(json.dumps(base))
        if distinct:
            body["messages"][-1]["content"][0]["text"] += f" ({n})"
        out.append(json.dumps(body).encode())
    return out


def per_request(argv: list[str], distinct: bool, requests: int, out_dir: Path) -> float:
    """Thousands of instructions the server executed per request."""
    port = free_port()
    out_file = out_dir / "callgrind.out"
    valgrind = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out_file}"]
    with running("callgrind", [*valgrind, *argv, "--port", str(port)], port, START_TIMEOUT_S) as server:
        connection = http.client.HTTPConnection(HOST, port, timeout=120)

        def send(batch: list[bytes]) -> None:
            for body in batch:
                connection.request("POST", "/v1/messages", body, HEADERS)
                reply = connection.getresponse()
                reply.read()
                if reply.status != 200:
                    raise RuntimeError(f"HTTP {reply.status} from {argv[0]}")

        def control(*flags: str) -> None:
            subprocess.run(
                ["callgrind_control", *flags, str(server.proc.pid)], check=True, capture_output=True
            )

        send(bodies(distinct, WARM_UP, 10**6))
        control("-i", "on")
        send(bodies(distinct, requests, 0))
        control("-i", "off")
        control("-d")
    counted = 0
    for dump in out_dir.glob("callgrind.out*"):
        for line in dump.read_text(errors="replace").splitlines():
            if line.startswith("totals:"):
                counted += int(line.split()[1])
    return counted / requests / 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--requests", type=int, default=200, help="measured requests per run (default 200)")
    parser.add_argument(
        "--free",
        type=attribution.free_list,
        default=(),
        metavar="STEP,...",
        help=f"also mockbay with these steps made costless: {', '.join(attribution.FREE)}",
    )
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: run `apt-get install -y valgrind` as root, then retry")
    serve = ["serve", "--host", HOST, "--scenarios", str(SCENARIOS / "json.yaml")]
    serve += ["--timing", "instant", "--seed", "1", "--log-level", "warning"]
    mockbay = [PYTHON, "-m", "mockbay", *serve]
    with tempfile.TemporaryDirectory() as tmp:
        payload = Path(tmp) / "payload.json"
        payload.write_text(json.dumps(baseline.synthetic()))
        runs = {
            "baseline": ([PYTHON, str(BENCH / "baseline.py"), "--payload", str(payload)], False),
            "mockbay, one body repeated": (mockbay, False),
            "mockbay, every body distinct": (mockbay, True),
        }
        if args.free:
            freed = [PYTHON, str(BENCH / "attribution.py"), "--serve", "free", ",".join(args.free), *serve]
            runs[f"mockbay, distinct, free: {', '.join(args.free)}"] = (freed, True)
        figures = {}
        for name, (argv, distinct) in runs.items():
            out_dir = Path(tmp) / name.replace(" ", "_").replace(",", "")
            out_dir.mkdir()
            figures[name] = per_request(argv, distinct, args.requests, out_dir)
            print(f"{name:30} {figures[name]:8,.0f} k instructions/request", flush=True)
    base = figures["baseline"]
    for name, value in figures.items():
        print(f"{name:30} {value / base:5.2f}x the baseline's instructions")


if __name__ == "__main__":
    main()
