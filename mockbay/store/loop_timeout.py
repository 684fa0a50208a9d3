"""`loop_timeout`: a timeout for calls to the shared store that counts the time the event loop
was free to wait, not the time a slow step elsewhere on the loop held it.

`asyncio.timeout` measures the clock: while parsing a large request body (a 230 MB batch create
takes seconds) blocks the loop, an answer Redis gave in time waits unread, and once the loop is
free the timeout fires before the call can read it, answering 503 for a store that answered.
Here the time goes in ticks of a tenth of the timeout, and each tick counts as one however late
the loop ran it: a stretch the loop was blocked counts a tenth of the timeout at most, so an
answer that waited is read, and a store that does not answer still times out after about the
timeout of free time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

TICKS = 10


@contextlib.asynccontextmanager
async def loop_timeout(seconds: float) -> AsyncIterator[None]:
    """Like `asyncio.timeout(seconds)` (TimeoutError when it fires), counting as above."""
    loop = asyncio.get_running_loop()
    tick = seconds / TICKS
    async with asyncio.timeout(None) as timeout:
        handle: asyncio.TimerHandle | None = None

        def on_tick(left: int) -> None:
            nonlocal handle
            if left:
                handle = loop.call_later(tick, on_tick, left - 1)
            else:
                timeout.reschedule(loop.time())

        on_tick(TICKS)
        try:
            yield
        finally:
            if handle is not None:
                handle.cancel()
