"""`python -m mockbay ...` as a child process: started, its ready line read, stopped cleanly.

Shared by the tests that need a real separate process (determinism across processes, workers,
recording from an upstream); pipes are always closed, since an open one is a ResourceWarning.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx
import pytest


@dataclass(frozen=True)
class Child:
    process: subprocess.Popen[str]
    url: str
    ready: str  # the whole ready line, e.g. "mockbay listening on http://127.0.0.1:PORT (N scenarios)"


def start(*args: str) -> Child:
    """Run `python -m mockbay ARGS` and wait for the first URL on its ready line."""
    process = subprocess.Popen(
        [sys.executable, "-m", "mockbay", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    found = re.search(r"http://[\w.:\[\]]+", line)
    if found is None:
        process.kill()
        pytest.fail(f"mockbay {args[0]} did not start: {line}{process.communicate()[1]}")
    return Child(process, found.group(0), line)


def stop(child: Child) -> str:
    """Terminate and wait; the rest of its stdout (the recorder's progress lines, say)."""
    return stop_with_log(child)[0]


def stop_with_log(child: Child) -> tuple[str, str]:
    """Terminate and wait; the rest of its stdout and its whole stderr (the log)."""
    child.process.terminate()
    out, err = child.process.communicate(timeout=10)
    return out, err


# An upstream that sends three events of a stream, then nothing (a JSON request: nothing at all)
STALLING = """
name: stalling
rules:
  - reply:
      text: {chunks: ["One ", "two ", "three ", "four."]}
      fault: {kind: stall, after_events: 3}
"""


@dataclass
class RecordingRun:
    """A `mockbay record` child in front of a `mockbay serve` upstream child; the recorder's
    progress lines and log are filled in when it stops."""

    upstream: Child
    proxy: Child
    progress: str = ""
    log: str = ""


@contextmanager
def recording_over(scenarios: Path, out: Path, *options: str) -> Iterator[RecordingRun]:
    """The recorder (with `options`) writing to `out` in front of an upstream serving `scenarios`
    instantly; both are stopped on leaving, the recorder first."""
    upstream = start("serve", "--port", "0", "--scenarios", str(scenarios), "--timing", "instant")
    try:
        proxy = start("record", "--upstream", upstream.url, "--out", str(out), "--port", "0", *options)
        run = RecordingRun(upstream, proxy)
        try:
            yield run
        finally:
            run.progress, run.log = stop_with_log(proxy)
    finally:
        stop(upstream)


def finished(server_url: str, request_id: str) -> float:
    """How long a served child took over an exchange, once it has finished with it (bounded wait)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        shown = httpx.get(f"{server_url}/_mockbay/requests/{request_id}")
        if shown.status_code == 200 and shown.json().get("duration_ms"):
            return float(shown.json()["duration_ms"])
        time.sleep(0.1)
    pytest.fail(f"the upstream is still answering {request_id}: its connection was left open")


def durations(server_url: str) -> list[float]:
    """How long a served child took over each exchange of its journal, once it has finished them all."""
    exchanges = httpx.get(f"{server_url}/_mockbay/requests").json()["requests"]
    return [finished(server_url, exchange["request_id"]) for exchange in exchanges]


Seen = TypeVar("Seen")


def record_then_replay(scenarios: Path, out: Path, drive: Callable[[str], Seen]) -> tuple[Seen, str, Seen]:
    """`drive(base_url)` through `mockbay record` in front of a `mockbay serve` upstream on
    `scenarios` (writing to `out`), then through a replay-only recorder on what it wrote, with no
    upstream: what the client saw each time, and the recording run's progress lines."""
    upstream = start("serve", "--port", "0", "--scenarios", str(scenarios), "--timing", "instant")
    try:
        proxy = start("record", "--upstream", upstream.url, "--out", str(out), "--port", "0")
        try:
            recorded = drive(proxy.url)
        finally:
            progress = stop(proxy)
    finally:
        stop(upstream)
    replay = start(
        "record", "--upstream", "http://127.0.0.1:9", "--out", str(out), "--port", "0", "--mode", "none"
    )
    try:
        replayed = drive(replay.url)
    finally:
        stop(replay)
    return recorded, progress, replayed
