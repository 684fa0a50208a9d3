"""A journal entry's life around its answer: opened once the request has its sequence number, a
refusal or mockbay's own failure turned into the answer, and the answer finished (its
`request-id` and caller headers where its wire speaks them, the JSON body kept). Shared by the
aiohttp handler (`app.dispatch`) and the protocol's inline answers (`inline`), so both journal
an exchange and answer it alike."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Mapping

from aiohttp import web

from mockbay.errors import ApiError
from mockbay.journal import Exchange, header_bytes, mask_lowered, replayed_headers
from mockbay.platforms import ANTHROPIC, NAMED_BY_REQUEST_ID
from mockbay.render import ids
from mockbay.server import provenance
from mockbay.server.auth import caller_key
from mockbay.server.responses import (
    DOWNLOAD,
    ORGANIZATION_HEADER,
    RAW_ERROR,
    caller_headers,
    error_response,
)
from mockbay.state import ServerState

log = logging.getLogger(__name__)
MAX_INTERNAL_ERRORS = 100
# A kept traceback's length: its exception may quote a request value of up to the body's 32 MB,
# so the plugin's report keeps each one's start (where it happened) and end (what was raised).
MAX_INTERNAL_ERROR_CHARS = 16_384


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


def keep_sent_headers(state: ServerState, exchange: Exchange, kept: dict[str, str]) -> None:
    """The journal keeps the answer's headers a replay repeats (`journal.replayed_headers`), so a
    saved scenario repeats them too, weighed against its byte cap."""
    if kept:
        exchange.sent_headers = kept
        state.journal.charge(exchange, header_bytes(kept))


def refusal(exchange: Exchange, error: ApiError) -> web.Response:
    """A refusal's envelope, with the provenance of a decision made before it."""
    response = error_response(error, exchange.request_id)
    response.headers.update(provenance.headers(exchange))
    exchange.error_type = error.type
    return response


def failure(state: ServerState, exchange: Exchange) -> web.Response:
    """mockbay's own failure while answering (raised, being handled): logged and answered 500."""
    response = internal_error(state, exchange.method, exchange.path, exchange.request_id)
    response.headers.update(provenance.headers(exchange))
    exchange.error_type = "api_error"
    return response


def internal_error(state: ServerState, method: str, path: str, request_id: str) -> web.Response:
    """Log mockbay's own failure with its traceback, keep it for the plugin, answer 500."""
    detail = traceback.format_exc()
    log.error("internal error on %s %s\n%s", method, path, detail)
    state.internal_errors.append(kept_traceback(detail))
    del state.internal_errors[:-MAX_INTERNAL_ERRORS]
    return error_response(ApiError(500, "api_error", "Internal server error"), request_id)


def kept_traceback(detail: str) -> str:
    """A traceback as the server keeps it: whole up to `MAX_INTERNAL_ERROR_CHARS`, else its two
    ends with how much was cut between them."""
    if len(detail) <= MAX_INTERNAL_ERROR_CHARS:
        return detail
    half = MAX_INTERNAL_ERROR_CHARS // 2
    return f"{detail[:half]}\n[... {len(detail) - 2 * half:,} characters cut ...]\n{detail[-half:]}"


def finish(
    state: ServerState, exchange: Exchange, headers: Mapping[str, str], response: web.StreamResponse
) -> web.StreamResponse:
    """The answer with what every answer on its wire carries (`request-id` where the wire speaks
    it: `NAMED_BY_REQUEST_ID`), its status, JSON body and replayed headers journaled. A stream
    sent its headers, those among them, and recorded its 200 when it started."""
    exchange.status = exchange.status or response.status
    if not response.prepared:
        if exchange.platform in NAMED_BY_REQUEST_ID:
            response.headers["request-id"] = exchange.request_id
        if exchange.platform == ANTHROPIC and ORGANIZATION_HEADER not in response.headers:
            response.headers.update(caller_headers(headers, caller_key(headers, state.config)))
        if (
            isinstance(response, web.Response)
            and isinstance(response.body, bytes)
            and DOWNLOAD not in response
        ):
            keep_reply_body(state, exchange, response.body)
    keep_sent_headers(
        state, exchange, replayed_headers(response.headers) | _raw_body_type(exchange, response)
    )
    return response


def _raw_body_type(exchange: Exchange, response: web.StreamResponse) -> dict[str, str]:
    """A kept body that is not JSON, or an error's raw body (a gateway's own JSON too), keeps its
    content type with it, for "Save as scenario" to repeat."""
    content_type = response.headers.get("Content-Type")
    if exchange.reply_body is None or content_type is None:
        return {}
    if response.content_type == "application/json" and RAW_ERROR not in response:
        return {}
    return {"content-type": content_type}
