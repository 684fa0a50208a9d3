"""Choosing the store from `--state` and holding it open for as long as the app runs."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import AsyncIterator, Callable
from urllib.parse import urlsplit

from aiohttp import web

from mockbay.errors import MockbayError, ScenarioError
from mockbay.loading import load_yaml
from mockbay.scenario.registry import Registry
from mockbay.state import ServerState

log = logging.getLogger("mockbay")

MEMORY = "memory"
SCHEMES = ("redis", "rediss", "unix")  # what the redis client's from_url accepts


def check_state(url: str) -> str:
    """`memory`, or a Redis URL with the client installed; anything else is bad input (exit 2)."""
    if url == MEMORY:
        return url
    if urlsplit(url).scheme not in SCHEMES:
        raise MockbayError(f"--state: expected {MEMORY} or redis://HOST:PORT/DB, got {url!r}")
    if importlib.util.find_spec("redis") is None:
        raise MockbayError(
            "--state redis://...: the redis client is not installed (pip install 'mockbay[redis]')"
        )
    return url


def shared_state(state: ServerState) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp cleanup context: connect the configured shared store on startup, close it on exit.

    The connection is made inside the server's event loop, which the asyncio client requires.
    """

    async def context(app: web.Application) -> AsyncIterator[None]:
        if state.config.state == MEMORY:
            yield
            return
        from mockbay.store.redis_store import RedisStore

        store = RedisStore(state.config, admin_loaded(state, state.registry))
        await store.check()
        state.store = store
        try:
            yield
        finally:
            state.store = state.local
            await store.close()

    return context


def admin_loaded(state: ServerState, base: Registry) -> Callable[[list[str]], None]:
    """Install the scenario files (`base`) merged with the shared admin-loaded texts, in load order.

    The texts were validated by the replica that took them; one that no longer loads (a replica
    of another mockbay version) is logged and skipped rather than stopping every request.
    """

    def install(texts: list[str]) -> None:
        registry = base
        for text in texts:
            try:
                registry = registry.merged(load_yaml(text, "<admin>"))
            except ScenarioError as exc:
                log.warning("shared admin-loaded scenarios skipped: %s", exc)
        state.install(registry)

    return install
