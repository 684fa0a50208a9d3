"""Shared plumbing for the benchmarks: paths, server processes, /proc readings, figures, results.

Every server is started in its own session (process group), so one `killpg` ends it together
with any workers it forked; `running()` is a context manager so that a benchmark that fails
half-way never leaves a server behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
RESULTS = BENCH / "results"
SCENARIOS = BENCH / "scenarios"
PYTHON = sys.executable
MOCKBAY = str(Path(sys.executable).with_name("mockbay"))
HOST = "127.0.0.1"
HEADERS = {"content-type": "application/json", "x-api-key": "anything", "anthropic-version": "2023-06-01"}
CORES = os.cpu_count() or 1
_TICK = os.sysconf("SC_CLK_TCK")


def request_body(*, stream: bool = False) -> bytes:
    """The one realistic /v1/messages body every benchmark sends (wrk reads the same file)."""
    body = json.loads((BENCH / "request.json").read_text())
    if stream:
        body["stream"] = True
    return json.dumps(body, separators=(",", ":")).encode()


def free_port() -> int:
    """A port the kernel just handed out; the tiny race before the server binds it is acceptable here."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True, slots=True)
class Server:
    """A server started by `running()`: its process, base URL and log file."""

    name: str
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1])


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group, then SIGKILL it if it has not gone within five seconds."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@contextlib.contextmanager
def running(name: str, argv: Sequence[str], port: int, timeout: float = 120.0) -> Iterator[Server]:
    """Start `argv` (which binds `port`), wait for its `listening on http://` line, stop it on exit.

    Output goes to a file, not a pipe: a chatty server writing access logs to an unread pipe
    would block once the pipe's buffer filled and the benchmark would measure that stall.
    """
    with tempfile.NamedTemporaryFile(prefix=f"bench-{name}-", suffix=".log", delete=False) as out:
        log = Path(out.name)
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while "listening on http://" not in log.read_text(errors="replace"):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} did not start (exit {proc.returncode}):\n{tail}")
            time.sleep(0.01)
        yield Server(name, proc, f"http://{HOST}:{port}", log)
    finally:
        stop(proc)
        log.unlink(missing_ok=True)


def ensure_tool(binary: str, package: str) -> str:
    """`binary`'s path, installing its Debian `package` first if it is missing (needs root)."""
    found = shutil.which(binary)
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit(f"{binary} is not installed: run `apt-get install -y {package}` as root, then retry")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", package]
    if subprocess.run(install, env=env, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], env=env, check=True)
        subprocess.run(install, env=env, check=True)
    found = shutil.which(binary)
    if not found:
        raise SystemExit(f"{binary} is still missing after apt-get install {package}")
    return found


def mockbay_missing() -> str | None:
    """Why `mockbay serve` cannot be benchmarked yet, or None when it looks implemented."""
    try:
        out = subprocess.run(
            [MOCKBAY, "serve", "--help"], capture_output=True, text=True, timeout=60, check=False
        )
    except FileNotFoundError:
        return f"{MOCKBAY} not found"
    if "--workers" not in out.stdout:
        return "`mockbay serve --help` does not list its options yet"
    return None


def post(port: int, body: bytes, timeout: float = 30.0) -> tuple[int, bytes]:
    """One POST /v1/messages on a fresh connection: (status, body)."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("POST", "/v1/messages", body=body, headers=HEADERS)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat after the `(comm)` field, which may itself hold spaces."""
    raw = Path(f"/proc/{pid}/stat").read_text()
    return raw[raw.rindex(")") + 2 :].split()


def tree(pid: int) -> list[int]:
    """`pid` and all its descendants (a multi-worker server is a process tree)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError):
                children.setdefault(int(_stat_fields(int(entry.name))[1]), []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def cpu_seconds(pids: Sequence[int]) -> float:
    """User plus system CPU time of these processes (all their threads), in seconds."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = _stat_fields(pid)
            total += int(fields[11]) + int(fields[12])
    return total / _TICK


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot, from /proc/stat (everything but idle and iowait).

    Read around a measurement and compared with the CPU of the processes it started, this shows
    what other work on the machine (other users' test runs) took from the benchmark.
    """
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / _TICK


def wait_quiet(limit_cores: float = 0.3, max_wait: float = 4.0) -> float:
    """Wait up to `max_wait` s for the machine to be nearly idle; returns the load last seen, in cores.

    Other people's test runs share the 2 cores; starting a measurement in a lull keeps them from
    landing in it. The load each measurement started under is kept in the results.
    """
    deadline = time.monotonic() + max_wait
    while True:
        before = machine_busy_seconds()
        time.sleep(0.5)
        load = (machine_busy_seconds() - before) / 0.5
        if load < limit_cores or time.monotonic() > deadline:
            return load


def rss_bytes(pids: Sequence[int]) -> int:
    """Summed VmRSS of these processes, from /proc/PID/status."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def percentile(values: Sequence[float], q: float) -> float | None:
    """Linear-interpolated percentile `q` (0-100) of `values`; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def medians(runs: Sequence[dict[str, Any]], first: Sequence[str] = ()) -> dict[str, Any]:
    """One side's figures over its alternating runs: each number the median of the runs that have
    it (None where none does), each count table (errors) summed, and the `first` keys as the first
    run had them (what is the same in every run, or only the first run measures)."""
    merged: dict[str, Any] = {key: runs[0][key] for key in first}
    for key, value in runs[0].items():
        if key in merged:
            continue
        if isinstance(value, dict):
            names = dict.fromkeys(name for run in runs for name in run[key])
            merged[key] = {name: sum(run[key].get(name, 0) for run in runs) for name in names}
            continue
        values = [run[key] for run in runs if run.get(key) is not None]
        merged[key] = statistics.median(values) if values else None
    return merged


def ratio(numerator: float | None, denominator: float | None) -> float | None:
    """numerator / denominator, or None when either is missing or the denominator is zero."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def git_commit() -> str:
    """The checkout's HEAD, so a result can be tied to the code it measured."""
    out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    return out.stdout.strip()


def write_results(doc: dict[str, Any]) -> Path:
    """Write `doc` to results/latest.json and a dated copy; returns the latest path."""
    RESULTS.mkdir(exist_ok=True)
    text = json.dumps(doc, indent=2) + "\n"
    stamp = dt.datetime.now().strftime("%Y-%m-%dT%H%M%S")
    for path in (RESULTS / "latest.json", RESULTS / f"{stamp}.json"):
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return RESULTS / "latest.json"


def load_latest() -> dict[str, Any]:
    """The last written results, or an empty document."""
    path = RESULTS / "latest.json"
    return json.loads(path.read_text()) if path.exists() else {}
