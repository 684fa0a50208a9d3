"""Choosing the store from `--state` and holding it open for as long as the app runs."""

from __future__ import annotations

import importlib.util
import logging
import re
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
DB_PATH = re.compile(r"/?[0-9]*")  # the redis client would ignore a database that is no number
CREDENTIALS = re.compile(r"//[^/@]*@")


def check_state(url: str) -> str:
    """`memory`, or a Redis URL the client takes, with the client installed; anything else is bad
    input (exit 2), said without the URL's credentials."""
    if url == MEMORY:
        return url
    shown = CREDENTIALS.sub("//", url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises for a port out of range
    except ValueError as exc:
        raise MockbayError(f"--state: {exc}: {shown!r}") from None
    if parts.scheme not in SCHEMES:
        raise MockbayError(f"--state: expected {MEMORY} or redis://HOST:PORT/DB, got {shown!r}")
    if importlib.util.find_spec("redis") is None:
        raise MockbayError(
            "--state redis://...: the redis client is not installed (pip install 'mockbay[redis]')"
        )
    if parts.scheme != "unix" and not DB_PATH.fullmatch(parts.path):
        raise MockbayError(f"--state: the database is a number (redis://HOST:PORT/DB), got {shown!r}")
    from redis.asyncio.connection import ConnectionPool

    try:  # builds the connection as the store will, without connecting: query options checked
        ConnectionPool.from_url(url).make_connection()  # type: ignore[no-untyped-call]
    except (ValueError, TypeError) as exc:  # TypeError: a query option no connection takes
        raise MockbayError(f"--state: not a URL the redis client takes ({exc}): {shown!r}") from None
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

        state.file_scenarios = state.registry  # as it starts (a test's loads too): what shared loads go over
        store = RedisStore(state.config, admin_loaded(state))
        await store.check()
        state.store = store
        try:
            yield
        finally:
            state.store = state.local
            await store.close()

    return context


def admin_loaded(state: ServerState) -> Callable[[list[str]], None]:
    """Install the scenario files (as last reloaded) merged with the shared admin-loaded texts, in
    load order; they are kept as this process's admin-loaded scenarios, for the next reload.

    The texts were validated by the replica that took them; one that no longer loads (a replica
    of another mockbay version) is logged and skipped rather than stopping every request.
    """

    def install(texts: list[str]) -> None:
        loaded = Registry()
        for text in texts:
            try:
                loaded = loaded.merged(load_yaml(text, "<admin>"))
            except ScenarioError as exc:
                log.warning("shared admin-loaded scenarios skipped: %s", exc)
        state.share_admin(loaded)

    return install
