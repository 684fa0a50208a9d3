"""Many concurrent SSE streams: completion, time to first event, gap error, RSS per open stream.

The client is aiohttp in separate processes, one per `per_client` streams (500 by default: one
process then uses about 0.65 core); each stream reads raw bytes and stamps every complete
`event:` block with time.perf_counter() as it arrives. perf_counter is CLOCK_MONOTONIC on Linux,
shared by all processes, so stamps from several client processes and the RSS samples taken
here share one time line. From its first content delta on, a stream is due one delta per gap.
Gap error is the observed gap between two consecutive deltas minus the scheduled gap; drift is
how late a delta is against that schedule (see `timings` for where it is anchored). Time to
first event counts from when the request's headers went out (an aiohttp trace hook), so the
client's own connection set-up during a burst of connects is not charged to the server.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import statistics
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from types import SimpleNamespace
from typing import Any

import aiohttp
from common import (
    HEADERS,
    Server,
    cpu_seconds,
    machine_busy_seconds,
    medians,
    percentile,
    request_body,
    rss_bytes,
    tree,
)

# One stream as a client process reports it: when its request went out, (stamp, event name) per
# event, and the error that cut it short if any.
Stream = tuple[float, list[tuple[float, str]], str | None]


async def _headers_sent(_: aiohttp.ClientSession, ctx: SimpleNamespace, __: object) -> None:
    """Trace hook: when the request went out, so connection set-up is not counted as waiting."""
    ctx.trace_request_ctx["sent"] = time.perf_counter()


async def _one(session: aiohttp.ClientSession, url: str, body: bytes) -> Stream:
    """Send one streaming request and stamp each complete event block as its last byte arrives."""
    trace = {"sent": time.perf_counter()}
    events: list[tuple[float, str]] = []
    try:
        async with session.post(
            f"{url}/v1/messages", data=body, headers=HEADERS, trace_request_ctx=trace
        ) as resp:
            if resp.status != 200:
                return trace["sent"], events, f"HTTP {resp.status}"
            buf = b""
            async for chunk in resp.content.iter_any():
                now = time.perf_counter()
                buf += chunk
                while (end := buf.find(b"\n\n")) >= 0:
                    block, buf = buf[:end], buf[end + 2 :]
                    events.append((now, block[7 : block.find(b"\n")].decode()))
    except (aiohttp.ClientError, TimeoutError) as exc:
        return trace["sent"], events, f"{type(exc).__name__}: {exc}"
    return trace["sent"], events, None


async def _client(url: str, count: int, start_at: float, timeout: float) -> tuple[list[Stream], float]:
    """`count` streams started together at `start_at`; also this process's CPU seconds meanwhile.

    The garbage collector is off meanwhile: its pauses would show up as the server's gap error.
    """
    body = request_body(stream=True)
    tracing = aiohttp.TraceConfig()
    tracing.on_request_headers_sent.append(_headers_sent)
    connector = aiohttp.TCPConnector(limit=0)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(
        connector=connector, timeout=client_timeout, trace_configs=[tracing]
    ) as session:
        await asyncio.sleep(max(0.0, start_at - time.perf_counter()))
        gc.disable()
        cpu = time.process_time()
        streams = await asyncio.gather(*(_one(session, url, body) for _ in range(count)))
        cpu = time.process_time() - cpu
        gc.enable()
        return list(streams), cpu


def client_process(url: str, count: int, start_at: float, timeout: float) -> tuple[list[Stream], float]:
    """Entry point of one client process."""
    return asyncio.run(_client(url, count, start_at, timeout))


def _sample_rss(pids: list[int], samples: list[tuple[float, int]], done: threading.Event) -> None:
    """Every 50 ms, (perf_counter, server RSS) until `done` is set."""
    while not done.wait(0.05):
        samples.append((time.perf_counter(), rss_bytes(pids)))


def _ms(value: float | None) -> float | None:
    return None if value is None else value * 1000


def run(server: Server, count: int, expected: list[str], gap_ms: float, per_client: int) -> dict[str, Any]:
    """`count` concurrent streams against `server`, at most `per_client` per client process.

    CPU is counted from the agreed start, once the client processes have started and imported,
    so their start-up is not charged to anyone; `other_cpu_cores` is the rest of the machine.
    """
    procs = -(-count // per_client)
    pids = tree(server.proc.pid)
    idle = rss_bytes(pids)
    samples: list[tuple[float, int]] = []
    done = threading.Event()
    sampler = threading.Thread(target=_sample_rss, args=(pids, samples, done))
    shares = [count // procs + (i < count % procs) for i in range(procs)]
    timeout = 60 + count * 0.05
    with ProcessPoolExecutor(procs, mp_context=get_context("spawn")) as pool:
        start_at = time.perf_counter() + 2.0  # room for the client processes to start and import
        futures = [pool.submit(client_process, server.url, n, start_at, timeout) for n in shares]
        time.sleep(max(0.0, start_at - time.perf_counter()))
        server_cpu, busy = cpu_seconds(pids), machine_busy_seconds()
        sampler.start()
        try:
            results = [f.result() for f in futures]
        finally:
            done.set()
            sampler.join()
        wall = time.perf_counter() - start_at
        server_cpu, busy = cpu_seconds(pids) - server_cpu, machine_busy_seconds() - busy
    streams = [s for part, _ in results for s in part]
    client_cpu = sum(cpu for _, cpu in results)
    firsts = [events[0][0] for _, events, _ in streams if events]
    lasts = [events[-1][0] for _, events, _ in streams if events]
    plateau = [rss for t, rss in samples if firsts and max(firsts) <= t <= min(lasts)]
    loaded = statistics.median(plateau) if plateau else max((rss for _, rss in samples), default=idle)
    return {
        "streams": count,
        "client_processes": procs,
        **timings(streams, expected, gap_ms / 1000),
        "idle_rss_mib": idle / 2**20,
        "plateau_rss_mib": loaded / 2**20,
        "plateau_sampled": bool(plateau),
        "rss_per_stream_kib": (loaded - idle) / 1024 / count,
        "wall_s": wall,
        "server_cpu_cores": server_cpu / wall,
        "client_cpu_cores": client_cpu / wall,
        "other_cpu_cores": max(0.0, busy - server_cpu - client_cpu) / wall,
    }


# Figures taken from a side's first run: what is the same in every run, and memory. A later run's
# RSS difference is not its streams': it reuses what the first one grew (measured: 15.9 KiB per
# open stream in a first run at 100 streams, 2.4-2.6 in the two after it).
_FIRST = (
    "streams",
    "client_processes",
    "events_per_stream",
    "idle_rss_mib",
    "plateau_rss_mib",
    "plateau_sampled",
    "rss_per_stream_kib",
)


def median_of(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One side's figures over its alternating runs at one stream count (`common.medians`): the
    fewest complete streams, memory from the first run (see `_FIRST`), and each run's p99 gap error
    beside them. One run compares a single pair of p99s, which the machine moved by 3x between
    pairs minutes apart (README, "500-stream gap error")."""
    merged = medians(runs, _FIRST)
    merged["complete"] = min(run["complete"] for run in runs)
    merged["gap_error_p99_ms_by_run"] = [run["gap_error_p99_ms"] for run in runs]
    return merged


def timings(streams: list[Stream], expected: list[str], gap: float) -> dict[str, Any]:
    """Completion, first event, gap error and drift over all streams.

    Drift is measured against each stream's schedule placed where the stream was most on time
    (the smallest t_i - i*gap), so a late first delta followed by a catch-up is not read as
    every later delta being early.
    """
    complete = 0
    errors: dict[str, int] = {}
    ttfe: list[float] = []
    ttfd: list[float] = []
    gaps: list[float] = []
    drifts: list[float] = []
    for sent, events, error in streams:
        if error:
            errors[error] = errors.get(error, 0) + 1
        elif [name for _, name in events] == expected:
            complete += 1
        if events:
            ttfe.append(events[0][0] - sent)
        deltas = [t for t, name in events if name == "content_block_delta"]
        if deltas:
            ttfd.append(deltas[0] - sent)
            gaps += [(b - a) - gap for a, b in itertools.pairwise(deltas)]
            phases = [t - i * gap for i, t in enumerate(deltas)]
            drifts += [p - min(phases) for p in phases]
    return {
        "complete": complete,
        "errors": errors,
        "events_per_stream": len(expected),
        "ttfe_p50_ms": _ms(percentile(ttfe, 50)),
        "ttfe_p99_ms": _ms(percentile(ttfe, 99)),
        "first_delta_p50_ms": _ms(percentile(ttfd, 50)),
        "first_delta_p99_ms": _ms(percentile(ttfd, 99)),
        "gap_error_p50_ms": _ms(percentile(gaps, 50)),
        "gap_error_p99_ms": _ms(percentile(gaps, 99)),
        "drift_p99_ms": _ms(percentile(drifts, 99)),
        "drift_max_ms": _ms(max(drifts, default=None)),
    }
