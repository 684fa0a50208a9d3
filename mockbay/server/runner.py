"""`MockServer`: a mockbay server inside a Python process, for tests and scripts.

Sync code gets the server on its own thread with its own event loop; `async with` runs it on the
caller's loop. Port 0 picks a free port; `url` is the base URL to give a client. Closing twice is
harmless.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Self

from aiohttp import web

from mockbay import builder
from mockbay.config import ServerConfig
from mockbay.errors import MockbayError
from mockbay.journal import JournalView
from mockbay.loading import Source, load_registry, load_sources
from mockbay.server.app import make_app
from mockbay.server.listen import base_url
from mockbay.server.messages import SESSION_HEADER
from mockbay.server.protocol import EnvelopeRunner
from mockbay.state import ServerState

SHUTDOWN_TIMEOUT_S = 2.0
# Options handlers read from `state.config` on every request, so they can change while running.
REQUEST_OPTIONS = frozenset(
    {
        "timing",
        "fallback",
        "seed",
        "cache",
        "fingerprints",
        "api_keys",
        "rate_limits",
        "require_version",
        "validation",
        "max_stall_seconds",
        "body_timeout_seconds",
        "batch_seconds",
        "files_downloadable",
    }
)


class MockServer:
    """A running mockbay; `timing` defaults to instant and `fallback` to strict, as tests want."""

    def __init__(
        self,
        scenarios: Sequence[str | Path] = (),
        *,
        config: ServerConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        **options: Any,
    ) -> None:
        base = config or ServerConfig(port=0, timing="instant", fallback="strict")
        self.config = replace(base, **options) if options else base
        registry = load_registry([str(p) for p in scenarios])
        # Injected clocks (prompt cache: monotonic; rate limits: epoch) let tests move time by hand.
        self.state = ServerState(self.config, registry, clock=clock, wall_clock=wall_clock)
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        if self.port is None:
            raise RuntimeError("MockServer is not running: use `with MockServer(...)` or call start()")
        return base_url(self.config.host, self.port)

    @property
    def journal(self) -> JournalView:
        return JournalView(self.state.journal)

    # The Python builders, here too so that a test's `mockbay` fixture, which hides the module's
    # name, builds with them: mockbay.load(mockbay.rule(when=..., reply=mockbay.reply(text=...))).
    reply = staticmethod(builder.reply)
    rule = staticmethod(builder.rule)
    turn = staticmethod(builder.turn)
    new_scenario = staticmethod(builder.new_scenario)

    def load(self, *sources: Source) -> list[str]:
        """Add scenarios from files, folders, YAML text (a string with a line break) or documents
        built in Python; a name already loaded is replaced, one defined twice among `sources` is
        refused. A mistake in them raises its `file:line:col` message from here, with no loader
        frames under it (pytest shows the test's line and the message)."""
        try:
            scenarios = load_sources(sources)
        except MockbayError as mistake:
            __tracebackhide__ = True  # read by pytest from the frame's locals
            raise mistake.with_traceback(None) from None
        self.state.install(self.state.registry.merged(scenarios))
        return [s.name for s in scenarios]

    def reset(self) -> None:
        """What POST /_mockbay/reset does: sessions, cache, limits, batches, files and journal cleared;
        scenarios stay."""
        self.state.reset()

    @contextmanager
    def overrides(self, **options: Any) -> Iterator[Self]:
        """Change request-time options (timing, fallback, seed, ...) until exit, and undo any `load()`
        made meanwhile: how one test changes a shared server without leaking into the next."""
        unknown = options.keys() - REQUEST_OPTIONS
        if unknown:
            raise ValueError(
                f"cannot change {sorted(unknown)} on a running server; choose from {sorted(REQUEST_OPTIONS)}"
            )
        config, registry = self.state.config, self.state.registry
        self.state.config = replace(config, **options)
        try:
            yield self
        finally:
            self.state.config = config
            if self.state.registry is not registry:  # recompile only when something was loaded
                self.state.install(registry)

    @staticmethod
    def session_headers(name: str) -> dict[str, str]:
        """Headers that give a client its own `replies:` positions (pass as `default_headers=`)."""
        return {SESSION_HEADER: name}

    # ---- async -------------------------------------------------------------------------------

    async def start_async(self) -> Self:
        runner = EnvelopeRunner(
            make_app(self.state), access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S
        )
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        await site.start()
        self._runner = runner
        self.port = runner.addresses[0][1]
        return self

    async def aclose(self) -> None:
        runner, self._runner = self._runner, None
        self.port = None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start_async()

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ---- thread ------------------------------------------------------------------------------

    def start(self) -> Self:
        """Run on a private thread and loop; returns once the port is bound."""
        if self._thread is not None:
            return self
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start_async())
            except BaseException as exc:  # reported to the starting thread below
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.aclose())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name=f"mockbay-{id(self):x}", daemon=True)
        self._thread.start()
        ready.wait()
        if failure:
            self._thread.join()
            self._thread = self._loop = None
            raise failure[0]
        return self

    def close(self) -> None:
        thread, loop = self._thread, self._loop
        self._thread = self._loop = None
        if thread is None or loop is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
