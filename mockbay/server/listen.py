"""Binding an aiohttp app and running it until a signal: shared by `serve` and `record`."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from mockbay.errors import MockbayError
from mockbay.server.protocol import EnvelopeRunner

SHUTDOWN_TIMEOUT_S = 5.0


def base_url(host: str, port: int) -> str:
    """`http://HOST:PORT`, with an IPv6 address in brackets."""
    return f"http://{host if ':' not in host else f'[{host}]'}:{port}"


def cannot_listen(host: str, port: int, exc: OSError) -> MockbayError:
    """A port that cannot be bound is bad input (exit 2), not a crash."""
    return MockbayError(f"cannot listen on {host}:{port}: {exc.strerror}")


@asynccontextmanager
async def listening(
    app: web.Application, host: str, port: int, *, reuse_port: bool = False
) -> AsyncIterator[int]:
    """Serve `app` on host:port while the block runs; yields the bound port (port 0 picks one).

    A port that cannot be bound is bad input (exit 2), not a crash.
    """
    runner = EnvelopeRunner(app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port, reuse_port=reuse_port or None).start()
    except OSError as exc:
        await runner.cleanup()
        raise cannot_listen(host, port, exc) from None
    try:
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


async def until_signalled() -> None:
    """Return on SIGINT or SIGTERM, so the caller shuts down cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
