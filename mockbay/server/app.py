"""`make_app(state)`: the aiohttp application. One catch-all route reads the path like upstream.

Anthropic endpoints answer under any path prefix (clients keep their base URL's path); `/s/NAME`
at the start pins a scenario. `.` and `..` segments are resolved first, as upstream's edge does,
so `/_mockbay/../v1/messages` is `/v1/messages`. Every answer carries `request-id` (a Bedrock
one `x-amzn-RequestId` instead), and a first-party one the caller's `anthropic-organization-id`
and `anthropic-workspace-id`; any failure that is not the client's becomes a 500 `api_error`, is
logged, and is kept (the last `exchanges.MAX_INTERNAL_ERRORS`) for the pytest plugin to report.
"""

from __future__ import annotations

import contextlib
import re
import time

from aiohttp import HttpVersion11, web

from mockbay import logs
from mockbay.config import MAX_BODY_BYTES
from mockbay.errors import ApiError
from mockbay.journal import Exchange
from mockbay.platforms.routes import cloud_route, error_shape
from mockbay.server import admin, batches, files, inline, messages, models, paths, skills
from mockbay.server.exchanges import failure, finish, internal_error, open_exchange, refusal
from mockbay.server.protocol import (
    BODY_TIMEOUT,
    INLINE_ANSWER,
    KEEPALIVE_TIMEOUT,
    SIDE_REQUEST_ID,
    UNPARSED_ANSWERED,
    side_request_ids,
)
from mockbay.server.request_headers import lowered_headers
from mockbay.server.responses import (
    NOT_SENT,
    error_response,
    json_response,
)
from mockbay.state import ServerState
from mockbay.store import StoreUnavailable
from mockbay.store.lifecycle import MEMORY, shared_state
from mockbay.wire.schema import FIRST_PARTY_ROOTS, request_schema

STATE = web.AppKey("mockbay_state", ServerState)
PINNED = re.compile(r"^/s/([^/]+)(/.*)?$")
MODEL_PATH = re.compile(r"/v1/models/([^/]+)$")
CONTINUE = "100-continue"


def make_app(state: ServerState) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[STATE] = state
    app.cleanup_ctx.append(shared_state(state))
    app[SIDE_REQUEST_ID] = side_request_ids(
        state.config.seed, state.config.worker, shared=state.config.state != MEMORY
    )
    app[INLINE_ANSWER] = inline.answers(state)
    app[BODY_TIMEOUT] = lambda: state.config.body_timeout_seconds
    app[KEEPALIVE_TIMEOUT] = state.config.keepalive_timeout_seconds
    app[UNPARSED_ANSWERED] = state.metrics.answered_unparsed
    for root in FIRST_PARTY_ROOTS:  # compile the request schema now, not on the first request
        request_schema().root(root)
    # (?s): a decoded %0A is a path character too
    app.router.add_route("*", "/{tail:(?s:.*)}", dispatch, expect_handler=expect_continue)
    return app


async def expect_continue(request: web.Request) -> None:
    """`Expect: 100-continue` gets `100 Continue`, as aiohttp's default handler sends it; any other
    expectation is ignored (RFC 9110 §10.1.1 lets a server) and the request answered as usual,
    where aiohttp's default answered its own text/plain 417, without the envelope or a request-id."""
    if request.version == HttpVersion11 and request.headers.get("expect", "").lower() == CONTINUE:
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # the answer's own bytes are still to come


async def dispatch(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    path = resolve_dot_segments(request.path)
    if path.startswith(admin.PREFIX):
        return await _admin(request, state, path)
    headers = lowered_headers(request.headers)
    try:
        sequence = await state.store.next_sequence()
    except StoreUnavailable as error:  # no shared number to give it: an id no other exchange has
        request_id = request.app[SIDE_REQUEST_ID]()
        return error_shape(request.method, request.raw_path)(error, request_id)
    exchange = open_exchange(state, sequence, request.method, request.path_qs, headers)
    try:
        response = await _answer(request, state, exchange, headers, path)
    finally:  # even when the handler is cancelled, so a stream is not counted open for ever
        state.metrics.finished(exchange)
    logs.log_exchange(exchange)
    with contextlib.suppress(StoreUnavailable):  # the store said so already, once per outage
        await state.store.record(exchange)
    return response


async def _answer(
    request: web.Request, state: ServerState, exchange: Exchange, headers: dict[str, str], path: str
) -> web.StreamResponse:
    """Route the request and fill in its journal entry with what was answered."""
    started = time.perf_counter()
    try:
        answer = await _route(request, state, exchange, headers, path)
        response = answer if isinstance(answer, web.StreamResponse) else await answer  # a stream's writer
    except ApiError as error:
        response = refusal(exchange, error)
    except ConnectionError:  # the client hung up mid-answer: nothing left to send, nothing to log
        exchange.client_disconnected = True
        response = web.Response(status=NOT_SENT)
    except Exception:
        response = failure(state, exchange)
    finally:
        exchange.duration_ms = round((time.perf_counter() - started) * 1000, 3)
    return finish(state, exchange, headers, response)


def resolve_dot_segments(path: str) -> str:
    """The path with `.` and `..` segments resolved (RFC 3986 §5.2.4); `..` never climbs past `/`."""
    if "/." not in path:
        return path
    kept: list[str] = []
    segments = path.split("/")[1:]
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    trailing = "/" if segments[-1] in (".", "..") and kept else ""
    return "/" + "/".join(kept) + trailing


async def _admin(request: web.Request, state: ServerState, path: str) -> web.StreamResponse:
    """Admin answers carry a `request-id` of their own, outside the journal's sequence. A client
    that hangs up mid-upload gets nothing and leaves no traceback, as on the Anthropic routes."""
    request_id = request.app[SIDE_REQUEST_ID]()
    try:
        response = await admin.handle_admin(request, state, path, request_id)
    except ApiError as error:
        response = error_response(error, request_id)
    except ConnectionError:
        return web.Response(status=NOT_SENT)
    except Exception:
        response = internal_error(state, request.method, request.path, request_id)
    response.headers["request-id"] = request_id
    return response


async def _route(
    request: web.Request, state: ServerState, exchange: Exchange, headers: dict[str, str], path: str
) -> messages.Answer:
    pinned = None
    pinned_match = PINNED.match(path)
    if pinned_match:
        pinned, path = pinned_match.group(1), pinned_match.group(2) or "/"
    method = request.method
    doubled = paths.doubled_prefix(request.path)
    if doubled is not None:
        exchange.endpoint = "not_found"
        message = paths.mistake_message(method, request.path, paths.public_base(request), doubled)
        raise ApiError(404, "not_found_error", message)
    if method == "HEAD":
        exchange.endpoint = "probe"
        return web.Response(status=200)
    if method == "GET" and path.rstrip("/") == "":
        exchange.endpoint = "probe"
        return json_response({"status": "ok", "service": "mockbay"})
    if method == "POST" and path.endswith("/v1/messages"):
        exchange.endpoint = "messages"
        messages.refuse_declared_oversize(headers)
        return await messages.create_message(request, state, exchange, pinned, headers)
    if method == "POST" and path.endswith("/v1/messages/count_tokens"):
        exchange.endpoint = "count_tokens"
        messages.refuse_declared_oversize(headers)
        return await messages.count_tokens(request, state, exchange, headers)
    if method == "GET" and path.endswith("/v1/models"):
        exchange.endpoint = "models"
        return models.list_models(request, state, headers)
    model_match = MODEL_PATH.search(path)
    if method == "GET" and model_match:
        exchange.endpoint = "models"
        return models.get_model(state, model_match.group(1), headers)
    cloud = cloud_route(method, request.raw_path)
    if cloud is not None:
        return await cloud(request, state, exchange, pinned, headers)
    answered = await batches.handle(request, state, exchange, headers, pinned)
    if answered is None:
        answered = await files.handle(request, state, exchange, headers)
    if answered is None:
        answered = await skills.handle(request, state, exchange, headers)
    if answered is not None:
        return answered
    exchange.endpoint = "not_found"
    raise ApiError(404, "not_found_error", f"Not found: {method} {request.path}")
