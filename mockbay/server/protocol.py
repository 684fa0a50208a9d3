"""HTTP-level garbage (a bad request line, an over-long header, broken chunking) answered
like any other client error: the Anthropic envelope with `request-id`, and one INFO log line.

aiohttp answers such requests itself, before any route or middleware runs, with a text/plain
body, and logs each as "Error handling request" with a traceback. Its protocol class has no
public hook for either, so `envelope_runner` serves the app through a small subclass of it; any
other failure keeps aiohttp's own handling and traceback, because that is mockbay's bug.
"""

from __future__ import annotations

import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestHandler, RequestPayloadError
from yarl import URL

from mockbay.errors import ApiError
from mockbay.render import ids
from mockbay.server.responses import error_response
from mockbay.wire.errors import default_message, pair_for

log = logging.getLogger(__name__)

# Where the app keeps its source of request ids for answers outside the journal (admin, garbage).
SIDE_REQUEST_ID: web.AppKey[Callable[[], str]] = web.AppKey("mockbay_side_request_id")
CLIENT_FAULTS = (HttpProcessingError, RequestPayloadError)
_Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
MAX_REASON = 200


def side_request_ids(seed: int, worker: int = 0, *, shared: bool = False) -> Callable[[], str]:
    """Request ids for answers that take no journal sequence number, so the journal's stay dense.
    Replicas sharing a store each count from 1 here too: a random token per process keeps them apart."""
    counter = itertools.count(1)
    instance = f"{secrets.token_hex(8)}-" if shared else ""
    return lambda: ids.request_id(seed, f"side-{instance}{next(counter)}", worker)


def reason(exc: BaseException) -> str:
    """A client fault in one short line (aiohttp's messages can quote kilobytes of the input)."""
    cause = exc if isinstance(exc, HttpProcessingError) else exc.__cause__
    text = cause.message if isinstance(cause, HttpProcessingError) else str(exc)
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_REASON else f"{line[:MAX_REASON]}…"


class _EnvelopeHandler(RequestHandler):
    """aiohttp's protocol with client faults answered in the envelope and logged in one line.
    Slotted like its base, as one is made per connection: without `__slots__` each also carried a
    `__dict__` for `new_request_id` (40 bytes more per open stream, tracemalloc)."""

    __slots__ = ("new_request_id",)
    new_request_id: Callable[[], str]

    def log_exception(self, *args: Any, **kw: Any) -> None:
        exc = kw.get("exc_info")
        if isinstance(exc, CLIENT_FAULTS):
            log.info("bad request: %s", reason(exc))
            return
        super().log_exception(*args, **kw)

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if not isinstance(exc, CLIENT_FAULTS):
            super().handle_error(request, status, exc, message)  # logs the traceback; we answer
            error = ApiError(status, *_described(status))
        else:
            log.info("bad request from %s: %s", request.remote, reason(exc))
            error = ApiError(400, "invalid_request_error", f"Malformed HTTP request: {reason(exc)}")
        if request.writer.output_size > 0:
            raise ConnectionError("an answer was already under way")
        request_id = self.new_request_id()
        response = error_response(error, request_id)
        response.headers["request-id"] = request_id
        response.force_close()
        return response


def _described(status: int) -> tuple[str, str]:
    error_type = pair_for(status, None)[1]
    return error_type, default_message(status, error_type)


def _targets_as_paths(handler: _Handler) -> _Handler:
    """The app's handler, also for a request whose target is not a path (`OPTIONS *`, CONNECT's
    `host:port`): no route can match one, and aiohttp would answer its own text 404. It reaches
    the app as `/` and the target, so it gets the not_found envelope, a request-id and a journal
    entry like any other unknown path. A plain function: every request passes through it."""

    def handle(request: web.BaseRequest) -> Awaitable[web.StreamResponse]:
        if request.path[:1] == "/":
            return handler(request)
        return handler(request.clone(rel_url=URL.build(path="/" + request.path, encoded=False)))

    return handle


class _EnvelopeServer(web.Server):
    def __init__(self, base: web.Server, new_request_id: Callable[[], str], **kwargs: Any) -> None:
        handler = _targets_as_paths(base.request_handler)
        super().__init__(handler, request_factory=base.request_factory, **kwargs)
        self._new_request_id = new_request_id

    def __call__(self) -> RequestHandler:
        handler = _EnvelopeHandler(self, loop=self._loop, **self._kwargs)
        handler.new_request_id = self._new_request_id
        return handler


class EnvelopeRunner(web.AppRunner):
    """`web.AppRunner` whose connections answer HTTP-level garbage in the Anthropic envelope, and
    hand bodies over as sent: `upload.decoded` applies `Content-Encoding` with upstream's answers."""

    async def _make_server(self) -> web.Server:
        base = await super()._make_server()
        new_request_id = self.app.get(SIDE_REQUEST_ID) or side_request_ids(0)
        kwargs = {**base._kwargs, "auto_decompress": False}
        return _EnvelopeServer(base, new_request_id, loop=base._loop, **kwargs)
