"""A journal entry's life around its answer: opened once the request has its sequence number, and
given the JSON body that was sent. Shared by the aiohttp handler (`app.dispatch`) and the
protocol's inline memo hits (`inline`), so both journal an exchange alike."""

from __future__ import annotations

import asyncio

from mockbay.journal import Exchange, mask_lowered
from mockbay.render import ids
from mockbay.state import ServerState


def open_exchange(
    state: ServerState, sequence: int, method: str, path_qs: str, headers: dict[str, str]
) -> Exchange:
    """The journal entry of a request that has its sequence number, appended and counted in flight
    before anything is answered, so a client never outruns it; it is filled in as the request proceeds."""
    exchange = Exchange(
        seq=sequence,
        request_id=ids.request_id(state.config.seed, sequence, state.config.worker),
        method=method,
        path=path_qs,
        headers=mask_lowered(headers),
        started_at=state.wall_clock(),
        arrived=asyncio.get_running_loop().time(),
    )
    state.journal.append(exchange)
    state.metrics.started(exchange)
    return exchange


def keep_reply_body(state: ServerState, exchange: Exchange, body: bytes) -> None:
    """The journal keeps what a JSON answer sent, weighed against its byte cap."""
    exchange.reply_body = body
    state.journal.charge(exchange, len(body))
