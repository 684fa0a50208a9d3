"""`mockbay serve`: build the config from options, bind, print the ready line, run until a signal.

With `--workers N`, N processes share one port through SO_REUSEPORT; the parent checks the port
is free first, and prints the same ready line once each worker reports that it listens. With
`--state redis://...` they share state as replicas do; without it each keeps its own (sequences,
prompt cache, rate limits, journal and admin-loaded scenarios are per process), and request ids
mix in the worker index so they never repeat.
"""

from __future__ import annotations

import argparse
import asyncio
import asyncio.selector_events
import contextlib
import ctypes
import gc
import logging
import signal
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from mockbay.config import MB, ServerConfig
from mockbay.errors import MockbayError
from mockbay.loading import default_scenario_paths, load_registry
from mockbay.logs import configure_logging
from mockbay.server.app import make_app
from mockbay.server.listen import base_url, cannot_listen, listening, until_signalled
from mockbay.server.watch import FileStamp, snapshot, watch_scenarios
from mockbay.state import ServerState
from mockbay.store.lifecycle import check_state
from mockbay.usage.ratelimit import parse_limits

if TYPE_CHECKING:  # multiprocessing is imported where workers start: one process does not load it
    from multiprocessing.connection import Connection

log = logging.getLogger("mockbay")
WORKER_START_S = 30.0  # loading scenarios and binding; a worker that takes longer is stuck
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def config_from_args(args: argparse.Namespace) -> ServerConfig:
    paths = args.scenarios or list(default_scenario_paths())
    return ServerConfig(
        host=args.host,
        port=args.port,
        scenario_paths=tuple(paths),
        timing=args.timing,
        fallback=args.fallback,
        validation=args.validation,
        seed=args.seed,
        cache=args.cache,
        fingerprints=args.fingerprints,
        api_keys=tuple(args.api_keys),
        admin_token=args.admin_token,
        rate_limits=parse_limits(args.rate_limits) if args.rate_limits else None,
        body_timeout_seconds=args.body_timeout,
        keepalive_timeout_seconds=args.keepalive_timeout,
        journal_size=args.journal_size,
        journal_max_bytes=args.journal_max_mb * MB,
        max_sessions=args.max_sessions,
        cache_entries=args.cache_entries,
        rate_limit_buckets=args.rate_limit_buckets,
        reply_memo_entries=args.reply_memo,
        state=check_state(args.state),
        state_namespace=args.state_namespace,
        batch_seconds=args.batch_seconds,
        batches_max=args.batches_max,
        batches_max_mb=args.batches_max_mb,
        files_max=args.files_max,
        files_max_mb=args.files_max_mb,
        files_downloadable=args.files_downloadable,
        skills_max=args.skills_max,
        skills_max_mb=args.skills_max_mb,
        threads_max=args.threads_max,
        threads_max_mb=args.threads_max_mb,
        diagnostics_max=args.diagnostics_max,
        diagnostics_max_mb=args.diagnostics_max_mb,
        reply_memo_max_bytes=args.reply_memo_max_mb * MB,
        admin_scenarios_max=args.admin_scenarios_max,
        admin_scenarios_max_mb=args.admin_scenarios_max_mb,
    )


# Collect young objects every 50,000 allocations rather than 700: a busy server allocates a few
# hundred objects per request, and frequent collections that also walk the journal were the
# largest part of its latency tail (wrk c=64 p99 12 ms -> 6.6 ms, same throughput). Only the
# `serve` process is tuned; MockServer leaves the host process's collector alone.
GC_THRESHOLDS = (50_000, 20, 100)

# glibc raises its mmap threshold to the size of the largest buffer freed (up to 32 MB), so after
# one 32 MB body (a gzip bomb, a chunked upload) later large buffers come from the heap, which
# fragments and is never given back: RSS grew by ~15 MB a large body under `make fuzz`. A fixed
# threshold keeps every buffer over 128 KB in its own mapping, returned to the system when freed.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 128 * 1024


def return_large_buffers() -> None:
    """Fix glibc's mmap threshold (see above); a no-op where the C library is not glibc."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)


# asyncio's socket transport reads into a new 256 KiB bytes object and shrinks it to what arrived
# (about 800 bytes for a Messages request). With the mmap threshold above, every such buffer was a
# mapping of its own: an mmap, an mremap, a munmap and two page faults per read, a third of the
# server's system time under wrk and ~25% of its throughput. 16 KiB buffers come from the heap and
# keep `make fuzz`'s RSS figure where it was (64 KiB or a higher threshold let it grow ~2x). A large
# body takes more reads but no longer: a 30 MB count_tokens body took 178-208 ms end to end with
# 16 KiB reads and 193-272 ms with 256 KiB ones.
READ_BUFFER_BYTES = 16 * 1024


def small_socket_reads() -> None:
    """Read sockets in 16 KiB pieces (see above); a no-op where asyncio has no such transport."""
    transport = getattr(asyncio.selector_events, "_SelectorSocketTransport", None)
    if transport is not None and hasattr(transport, "max_size"):
        transport.max_size = READ_BUFFER_BYTES


def tune_process() -> None:
    """The `serve` process's own settings: collector thresholds, large buffers, socket reads.

    What exists by now (modules, scenarios) lives as long as the server: it is frozen, out of every
    collection, and the collector is turned on (`mockbay serve` loads with it off, see cli.py).
    Frozen with it is the little cyclic garbage the imports leave (1,780 objects, the same with one
    scenario or 10,000): a full collection to free it would cost 20-70 ms of start-up. Safe for a
    `--watch` reload: the scenarios hold no reference cycles, so dropping them frees them by reference
    counting alone, frozen or not (tests/unit/test_registry_cycles.py)."""
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    gc.enable()
    return_large_buffers()
    small_socket_reads()


def run_serve(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    seen = snapshot(config.scenario_paths) if args.watch else None
    registry = load_registry(config.scenario_paths)
    # Process-wide settings only once the options and scenarios are known to be good: a refused
    # `main(["serve", ...])` run in-process (the CLI tests) leaves logging and the GC as they were.
    tune_process()
    configure_logging(args.log_format, args.log_level)
    if args.workers == 1:
        state = ServerState(config, registry)
        asyncio.run(_serve(config, state, watch=seen, on_ready=_announce(config, len(registry))))
        # Stopping is part of the contract (a container gets 2 s): the interpreter's final
        # collection walks every object the server made, so leave them to the process's end.
        gc.freeze()
        return 0
    return _run_workers(config, args, len(registry))


async def _serve(
    config: ServerConfig,
    state: ServerState,
    *,
    watch: dict[str, FileStamp] | None,
    on_ready: Callable[[int], None],
    reuse_port: bool = False,
) -> None:
    """Serve until a signal; `on_ready` gets the bound port once the socket listens."""
    async with listening(make_app(state), config.host, config.port, reuse_port=reuse_port) as port:
        on_ready(port)
        watcher = (
            None
            if watch is None
            else asyncio.create_task(watch_scenarios(state, config.scenario_paths, watch))
        )
        try:
            await until_signalled()
        finally:
            if watcher is not None:
                watcher.cancel()


def _announce(config: ServerConfig, scenarios: int) -> Callable[[int], None]:
    """The ready line scripts wait for, printed once the port listens (the same for `--workers`)."""

    def ready(port: int) -> None:
        print(f"mockbay listening on {base_url(config.host, port)} ({scenarios} scenarios)", flush=True)

    return ready


def _worker(config: ServerConfig, watch: bool, report: Connection, log_format: str, log_level: str) -> None:
    """One worker process: its own state, loop and log handler on the shared port. It reports to
    the parent once it listens (an empty string), or why it could not."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked by the parent while it forked
    tune_process()  # where workers are spawned, they start with the defaults
    configure_logging(log_format, log_level)
    seen = snapshot(config.scenario_paths) if watch else None
    state = ServerState(config, load_registry(config.scenario_paths))
    try:
        asyncio.run(_serve(config, state, watch=seen, on_ready=lambda _: report.send(""), reuse_port=True))
    except MockbayError as exc:
        report.send(str(exc))


def _claim_port(config: ServerConfig) -> ServerConfig:
    """The config with the port the workers will share, checked free first. Workers bind with
    SO_REUSEPORT, which would let them join another server's port (another `--workers` server's
    included) without a word: a plain bind here fails as a single process's would."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    with socket.socket(family) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the workers' sockets do
        try:
            probe.bind((config.host, config.port))
        except OSError as exc:
            raise cannot_listen(config.host, config.port, exc) from None
        return replace(config, port=probe.getsockname()[1])


def _await_workers(workers: list[Any], reports: Connection) -> str:
    """Wait until every worker listens. A worker's refusal (a port it cannot bind) raises it as the
    single process would; a worker's early end or a stuck start is returned, "" when all listen.
    (The scenarios were loaded, and any mistake in them reported, before the workers started.)"""
    deadline = time.monotonic() + WORKER_START_S
    listening_count = 0
    while listening_count < len(workers):
        if reports.poll(0.05):
            problem: str = reports.recv()
            if problem:
                raise MockbayError(problem)
            listening_count += 1
        elif any(worker.exitcode is not None for worker in workers):
            return "a worker process ended before it listened (see its log above)"
        elif time.monotonic() > deadline:
            return f"the workers did not all listen within {WORKER_START_S:g} s"
    return ""


def _run_workers(config: ServerConfig, args: argparse.Namespace, count: int) -> int:
    import multiprocessing  # only here: one process does not pay for loading it

    config = _claim_port(config)
    # Fork where the platform has it: a worker then starts with every module this process has
    # imported (two workers' first reply 1.96 s -> 0.5 s here), where a spawned one imports them all
    # again. Nothing runs yet that a fork could copy half-way (no loop, no thread); the frozen
    # objects stay shared with the workers, since their collections no longer touch those pages.
    forking = "fork" in multiprocessing.get_all_start_methods()
    context = multiprocessing.get_context("fork") if forking else multiprocessing.get_context("spawn")
    if forking:
        gc.freeze()
    reports, report = context.Pipe(duplex=False)
    workers = [
        context.Process(
            target=_worker,
            args=(replace(config, worker=n), args.watch, report, args.log_format, args.log_level),
            daemon=True,
        )
        for n in range(1, args.workers + 1)
    ]
    # Blocked while the workers start, so a Ctrl-C there waits for `stop` (which ends those started
    # so far) rather than ending this process half-way and leaving a worker serving the port.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    for worker in workers:
        worker.start()
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True
        for worker in workers:
            if worker.is_alive():
                worker.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    try:
        problem = _await_workers(workers, reports)
    except MockbayError:
        stop()
        raise
    if stopping:
        return 0
    if problem:
        stop()
        print(f"mockbay: error: {problem}", file=sys.stderr)
        return 1
    _announce(config, count)(config.port)
    log.info("%d worker processes share port %d", len(workers), config.port)
    for worker in workers:
        worker.join()
    return 0 if stopping else 1
