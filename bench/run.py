"""The benchmark suite in one command: mockbay and a bare aiohttp baseline, side by side, one run.

`.venv/bin/python bench/run.py` (or `make bench`) installs wrk if missing, measures the wrk
ceiling, non-streaming throughput (1 and 2 workers), concurrent SSE streams, start-up and
scenario matching, writes bench/results/latest.json plus a dated copy and the README's figures
block (`--no-readme` leaves it), and prints a markdown table of mockbay/baseline ratios against
the issue's targets. Until `mockbay serve` works the mockbay side is skipped and reported as not
available. bench/README.md explains every figure.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import platform
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import baseline
import matching
import readme
import report
import startup
import streams
import throughput
from common import (
    BENCH,
    CORES,
    HOST,
    MOCKBAY,
    PYTHON,
    SCENARIOS,
    Server,
    free_port,
    git_commit,
    mockbay_missing,
    post,
    request_body,
    running,
    wait_quiet,
    write_results,
)

JSON_SCENARIO = SCENARIOS / "json.yaml"
STREAM_SCENARIO = SCENARIOS / "stream.yaml"


def mockbay_argv(port: int, scenario: Path, *extra: str) -> list[str]:
    """`mockbay serve` on `scenario` at `port`."""
    argv = [MOCKBAY, "serve", "--host", HOST, "--port", str(port), "--scenarios", str(scenario)]
    return [*argv, "--seed", "1", "--log-level", "warning", *extra]  # the baseline logs nothing either


def baseline_argv(port: int, payload: Path) -> list[str]:
    """The baseline serving `payload` at `port`."""
    return [PYTHON, str(BENCH / "baseline.py"), "--port", str(port), "--payload", str(payload)]


Starter = Callable[[], contextlib.AbstractContextManager[Server]]


def starter(name: str, argv: Callable[[int], list[str]]) -> Starter:
    """Something that starts `name` at a fresh port each time it is called (as a context manager)."""

    def start() -> contextlib.AbstractContextManager[Server]:
        port = free_port()
        return running(name, argv(port), port)

    return start


def mockbay(scenario: Path, *extra: str) -> Starter:
    """A starter for `mockbay serve` on `scenario`."""
    return starter("mockbay", lambda port: mockbay_argv(port, scenario, *extra))


class Skipped(Exception):
    """A section that cannot run yet; recorded as `not available: why`."""


def skip_if(missing: str | None) -> None:
    """Skip the current section when mockbay is missing."""
    if missing:
        raise Skipped(missing)


@contextlib.contextmanager
def section(doc: dict[str, Any], *keys: str) -> Iterator[dict[str, Any]]:
    """Collect one side's figures into doc[keys...]; a failure is recorded there, not raised."""
    slot: dict[str, Any] = {}
    target = doc
    for key in keys[:-1]:
        target = target.setdefault(key, {})
    target[keys[-1]] = slot
    print(f"-- {' / '.join(keys)}", flush=True)
    try:
        yield slot
    except Skipped as why:
        slot.clear()
        slot["error"] = f"not available: {why}"
        print(f"   {slot['error']}", flush=True)
    except (
        RuntimeError,
        OSError,
        subprocess.SubprocessError,
        aiohttp.ClientError,
        ValueError,
        KeyError,
    ) as exc:
        slot.clear()
        slot["error"] = f"{type(exc).__name__}: {exc}"
        print(f"   failed: {slot['error']}", flush=True)


def payload_for(missing: str | None) -> tuple[dict[str, Any], str]:
    """The baseline's bytes: captured from mockbay when it runs, else synthetic; and their source."""
    payload = baseline.synthetic()
    if missing:
        return payload, "synthetic (mockbay not available)"
    try:
        with (
            mockbay(JSON_SCENARIO, "--timing", "instant")() as json_server,
            mockbay(STREAM_SCENARIO)() as sse,
        ):
            payload["json"] = baseline.capture_json(json_server.port)
            payload.update(baseline.capture_stream(sse.port))
    except (RuntimeError, OSError, IndexError) as exc:
        return payload, f"synthetic (capture from mockbay failed: {exc})"
    return payload, "captured from mockbay"


def start_all(
    stack: contextlib.ExitStack,
    doc: dict[str, Any],
    group: str,
    starters: dict[str, Starter],
    missing: str | None,
    prepare: Callable[[Server], None],
) -> dict[str, Server]:
    """Start and `prepare` every server of a section, to be measured in turns while all are up.

    Taking turns within each step (rather than one server after the other) spreads any change
    in the machine's load over both sides. A server that is unavailable or fails is recorded
    in doc[group][name] and left out.
    """
    up = {}
    for name, start in starters.items():
        with section(doc, group, name):
            if name.startswith("mockbay"):
                skip_if(missing)
            server = stack.enter_context(start())
            prepare(server)
            up[name] = server
    return up


def warm_stream(server: Server) -> None:
    """One whole stream (about four seconds), so no measured stream pays for first-use costs."""
    status, _ = post(server.port, request_body(stream=True))
    if status != 200:
        raise RuntimeError(f"{server.name}: warm-up stream gave HTTP {status}")


def meta() -> dict[str, Any]:
    """What the figures were measured on."""
    wrk_version = subprocess.run([throughput.ensure_wrk(), "-v"], capture_output=True, text=True, check=False)
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "commit": git_commit(),
        "cpu": cpu,
        "cores": CORES,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "wrk": (wrk_version.stdout or wrk_version.stderr).splitlines()[0],
    }


def measure_ceiling(doc: dict[str, Any], payload_file: Path, seconds: float) -> None:
    """wrk against the raw static responder: what the generator can do on this machine."""
    argv = [PYTHON, str(BENCH / "ceiling.py"), "--payload", str(payload_file), "--port"]
    with section(doc, "ceiling") as slot, starter("ceiling", lambda port: [*argv, str(port)])() as server:
        throughput.warm_up(server)
        slot["load_before_cores"] = wait_quiet()
        slot.update(throughput.wrk(server.url, 64, seconds, server.proc.pid))


def alternating(
    doc: dict[str, Any],
    up: dict[str, Server],
    slots: Mapping[str, tuple[str, ...]],
    rounds: int,
    measure: Callable[[Server], dict[str, Any]],
    merge: Callable[[Sequence[dict[str, Any]]], dict[str, Any]],
    pause_s: float = 0.0,
) -> None:
    """`rounds` runs of `measure` on each server of `slots` (name -> where its figures go in
    `doc`), taking turns, the order reversed every other round so that neither side always goes
    first; each slot then holds `merge` of its runs, or the error of the run that failed."""
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in slots}
    failed: dict[str, dict[str, Any]] = {}
    names = list(slots)
    for number in range(rounds):
        for name in names if number % 2 == 0 else names[::-1]:
            if name in failed:
                continue
            with section(doc, *slots[name]) as slot:
                slot["load_before_cores"] = wait_quiet()
                slot.update(measure(up[name]))
                runs[name].append(dict(slot))
            if "error" in slot:
                failed[name] = dict(slot)
            time.sleep(pause_s)
    for name, keys in slots.items():
        target = doc
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = failed.get(name) or merge(runs[name])


def measure_throughput(
    doc: dict[str, Any], base: Starter, missing: str | None, seconds: float, rounds: int
) -> None:
    """Non-streaming wrk runs: baseline, mockbay, mockbay with 2 workers, in turns per concurrency,
    `rounds` times (`alternating`); then the same for baseline and mockbay with distinct bodies."""
    instant = ("--timing", "instant")
    starters = {
        "baseline": base,
        "mockbay": mockbay(JSON_SCENARIO, *instant),
        "mockbay_workers2": mockbay(JSON_SCENARIO, *instant, "--workers", "2"),
    }
    with contextlib.ExitStack() as stack:
        up = start_all(stack, doc, "throughput", starters, missing, throughput.warm_up)
        for c in throughput.CONCURRENCY:
            one_body: dict[str, tuple[str, ...]] = {name: ("throughput", name, f"c{c}") for name in up}
            distinct: dict[str, tuple[str, ...]] = {
                name: ("throughput", f"{name}_distinct", f"c{c}")
                for name in ("baseline", "mockbay")
                if name in up
            }
            for slots, bodies_distinct in ((one_body, False), (distinct, True)):
                wrk = functools.partial(_wrk, connections=c, seconds=seconds, distinct=bodies_distinct)
                alternating(doc, up, slots, rounds, wrk, throughput.median_of)


def _wrk(server: Server, *, connections: int, seconds: float, distinct: bool) -> dict[str, Any]:
    return throughput.wrk(server.url, connections, seconds, server.proc.pid, distinct=distinct)


def measure_streams(
    doc: dict[str, Any],
    base: Starter,
    missing: str | None,
    payload: dict[str, Any],
    sizes: list[int],
    per_client: int,
    pairs: int,
) -> None:
    """Concurrent SSE streams: baseline and mockbay in turns, `pairs` times for each stream count
    (in alternating order); each side's figures are the median over its runs (`streams.median_of`)."""
    expected = baseline.event_names(payload)
    with contextlib.ExitStack() as stack:
        starters = {"baseline": base, "mockbay": mockbay(STREAM_SCENARIO)}
        up = start_all(stack, doc, "streams", starters, missing, warm_stream)
        for size in sizes:
            slots = {name: ("streams", name, str(size)) for name in up}
            run = functools.partial(
                streams.run, count=size, expected=expected, gap_ms=payload["gap_ms"], per_client=per_client
            )
            # a second's pause lets the closed connections drain before the next run
            alternating(doc, up, slots, pairs, run, streams.median_of, pause_s=1.0)


def measure_startup(doc: dict[str, Any], payload_file: Path, missing: str | None) -> None:
    """`mockbay serve` and the baseline from spawn to first reply; MockServer in-process."""
    base_port, serve_port = free_port(), free_port()
    commands = {"baseline": (baseline_argv(base_port, payload_file), base_port)}
    if missing is None:
        commands["mockbay"] = (mockbay_argv(serve_port, JSON_SCENARIO, "--timing", "instant"), serve_port)
    with section(doc, "startup", "serve") as slot:
        slot.update(startup.compare(commands))
    with section(doc, "startup", "in_process") as slot:
        slot.update(startup.inprocess(JSON_SCENARIO))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4, help="length of each wrk run")
    parser.add_argument("--streams", default="100,500,1000", help="concurrent stream counts")
    parser.add_argument(
        "--streams-per-client",
        type=int,
        default=500,
        help="most SSE streams one client process runs (one aiohttp process uses ~0.65 core for 500)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="alternating wrk runs of each server per concurrency; figures are their medians (default 3)",
    )
    parser.add_argument(
        "--stream-pairs",
        type=int,
        default=3,
        help="alternating runs of each side per stream count; figures are their medians (default 3)",
    )
    parser.add_argument("--no-readme", action="store_true", help="leave README.md's figures as they are")
    args = parser.parse_args()
    sizes = [int(n) for n in args.streams.split(",")]
    started = time.monotonic()
    missing = mockbay_missing()
    doc: dict[str, Any] = {"meta": meta(), "mockbay": {"available": missing is None, "reason": missing}}
    print(f"mockbay: {'available' if missing is None else 'not available: ' + missing}", flush=True)

    with tempfile.TemporaryDirectory(prefix="mockbay-bench-") as tmp:
        payload, doc["baseline_bytes"] = payload_for(missing)
        payload_file = Path(tmp) / "payload.json"
        payload_file.write_text(json.dumps(payload))
        base = starter("baseline", lambda port: baseline_argv(port, payload_file))
        measure_ceiling(doc, payload_file, args.seconds)
        measure_throughput(doc, base, missing, args.seconds, args.rounds)
        measure_streams(doc, base, missing, payload, sizes, args.streams_per_client, args.stream_pairs)
        measure_startup(doc, payload_file, missing)
    with section(doc, "matching") as slot:
        skip_if(missing)
        slot.update(matching.measure())

    doc["suite_seconds"] = time.monotonic() - started
    doc["table"] = report.rows(doc, sizes)
    path = write_results(doc)
    print()
    print(report.markdown(doc["table"]))
    if "error" not in doc["matching"]:
        print()
        print(matching.markdown(doc["matching"]))
    print(f"\nresults: {path} (suite took {doc['suite_seconds']:.0f} s)")
    if not args.no_readme:
        updated = readme.update(doc)
        print("README.md: figures updated" if updated else f"README.md: no {readme.START} block, left alone")


if __name__ == "__main__":
    main()
