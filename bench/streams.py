"""Many concurrent SSE streams: completion, time to first event, gap error, RSS per open stream.

The client is aiohttp in one or more separate processes (`procs`); each stream reads raw bytes
and stamps every complete `event:` block with time.perf_counter() when it arrives. perf_counter
is CLOCK_MONOTONIC on Linux, shared by all processes, so stamps from several client processes
and the RSS samples taken here share one time line. A stream's schedule starts at its first
content delta: delta i is due at first + i*gap. Gap error is the observed gap between two
consecutive deltas minus the scheduled gap; drift is how late delta i is against its due time.
Time to first event counts from when the request's headers went out (an aiohttp trace hook), so
the client's own connection set-up during a burst of connects is not charged to the server.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import statistics
import threading
import time
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


def run(server: Server, count: int, expected: list[str], gap_ms: float, procs: int) -> dict[str, Any]:
    """`count` concurrent streams against `server`, split over `procs` client processes."""
    pids = tree(server.proc.pid)
    idle = rss_bytes(pids)
    samples: list[tuple[float, int]] = []
    done = threading.Event()
    sampler = threading.Thread(target=_sample_rss, args=(pids, samples, done))
    server_cpu, busy = cpu_seconds(pids), machine_busy_seconds()
    shares = [count // procs + (i < count % procs) for i in range(procs)]
    timeout = 60 + count * 0.05
    with ProcessPoolExecutor(procs, mp_context=get_context("spawn")) as pool:
        start_at = time.perf_counter() + 2.0  # room for the client processes to start and import
        futures = [pool.submit(client_process, server.url, n, start_at, timeout) for n in shares]
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

    gap = gap_ms / 1000
    complete = 0
    ttfe_list: list[float] = []
    ttfd_list: list[float] = []
    gap_list: list[float] = []
    drift_list: list[float] = []
    errors: dict[str, int] = {}
    for sent, events, error in streams:
        if error:
            errors[error] = errors.get(error, 0) + 1
        if [name for _, name in events] == expected and not error:
            complete += 1
        if events:
            ttfe_list.append(events[0][0] - sent)
        deltas = [t for t, name in events if name == "content_block_delta"]
        if deltas:
            ttfd_list.append(deltas[0] - sent)
            gap_list += [(b - a) - gap for a, b in itertools.pairwise(deltas)]
            drift_list += [t - (deltas[0] + i * gap) for i, t in enumerate(deltas)]
    firsts = [events[0][0] for _, events, _ in streams if events]
    lasts = [events[-1][0] for _, events, _ in streams if events]
    plateau = [rss for t, rss in samples if firsts and max(firsts) <= t <= min(lasts)]
    loaded = statistics.median(plateau) if plateau else max((rss for _, rss in samples), default=idle)
    return {
        "streams": count,
        "client_processes": procs,
        "complete": complete,
        "errors": errors,
        "events_per_stream": len(expected),
        "ttfe_p50_ms": _ms(percentile(ttfe_list, 50)),
        "ttfe_p99_ms": _ms(percentile(ttfe_list, 99)),
        "first_delta_p50_ms": _ms(percentile(ttfd_list, 50)),
        "first_delta_p99_ms": _ms(percentile(ttfd_list, 99)),
        "gap_error_p50_ms": _ms(percentile(gap_list, 50)),
        "gap_error_p99_ms": _ms(percentile(gap_list, 99)),
        "drift_p99_ms": _ms(percentile(drift_list, 99)),
        "drift_max_ms": _ms(max(drift_list, default=None)),
        "idle_rss_mib": idle / 2**20,
        "plateau_rss_mib": loaded / 2**20,
        "plateau_sampled": bool(plateau),
        "rss_per_stream_kib": (loaded - idle) / 1024 / count,
        "wall_s": wall,
        "server_cpu_cores": server_cpu / wall,
        "client_cpu_cores": client_cpu / wall,
        "other_cpu_cores": max(0.0, busy - server_cpu - client_cpu) / wall,
    }
