"""HTTP-level garbage (a bad request line, an over-long header, broken chunking) answered
like any other client error: the Anthropic envelope with `request-id`, and one INFO log line.

aiohttp answers such requests itself, before any route or middleware runs, with a text/plain
body, and logs each as "Error handling request" with a traceback. Its protocol class has no
public hook for either, so `envelope_runner` serves the app through a small subclass of it; any
other failure keeps aiohttp's own handling and traceback, because that is mockbay's bug.

A request whose body is still arriving when its handler starts gets a deadline for the rest
(`_body_deadline`): a client that stalls mid-body, or trickles it in, is answered 408 and its
connection closed, where aiohttp would wait on the body for ever.

The same subclass offers each request, once parsed whole, to the app's inline answer (`inline`:
JSON answers complete at once, written without aiohttp's request and response objects) before
aiohttp queues it.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from aiohttp.http import RawRequestMessage
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.streams import StreamReader
from aiohttp.web_protocol import RequestHandler, RequestPayloadError
from yarl import URL

from mockbay.config import BODY_TIMEOUT_SECONDS
from mockbay.errors import ApiError
from mockbay.render import ids
from mockbay.server.responses import error_response
from mockbay.wire.errors import default_message, pair_for

log = logging.getLogger(__name__)

# Where the app keeps its source of request ids for answers outside the journal (admin, garbage).
SIDE_REQUEST_ID: web.AppKey[Callable[[], str]] = web.AppKey("mockbay_side_request_id")
# Where the app keeps the answer its connections may give a request as it is parsed (`inline`)
InlineAnswer = Callable[[RawRequestMessage, bytes], bytes | None]
INLINE_ANSWER: web.AppKey[InlineAnswer] = web.AppKey("mockbay_inline_answer")
# Where the app keeps its body timeout in seconds, read when a request's body is still to come
BODY_TIMEOUT: web.AppKey[Callable[[], float]] = web.AppKey("mockbay_body_timeout")
CLIENT_FAULTS = (HttpProcessingError, RequestPayloadError)
# The handler state the inline answer reads and keeps (`_EnvelopeHandler.unanswered`) and the body
# buffer it reads (`_complete_body`), as aiohttp 3.14 names them; an aiohttp without one of them
# answers every request through its handler.
INLINE_STATE = frozenset(
    {"_waiter", "_messages", "_request_count", "_next_keepalive_close_time", "_keepalive_timeout", "_parser"}
)


def _slots(cls: type) -> set[str]:
    return {slot for klass in cls.__mro__ for slot in getattr(klass, "__slots__", ())}


INLINE_READY = _slots(RequestHandler) >= INLINE_STATE and "_buffer" in _slots(StreamReader)
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
    """aiohttp's protocol with client faults answered in the envelope and logged in one line, and
    answers complete at once given as requests are parsed (`inline_answer`, see `_InlineParser`).
    Slotted like its base, as one is made per connection: without `__slots__` each also carried a
    `__dict__` for `new_request_id` (40 bytes more per open stream, tracemalloc)."""

    __slots__ = ("inline_answer", "new_request_id")
    new_request_id: Callable[[], str]
    inline_answer: InlineAnswer

    def unanswered(self, messages: list[Any]) -> list[Any]:
        """The parsed requests left for aiohttp once the inline answer has answered what it can:
        only while nothing else is in flight on this connection (its handler waits for a request)
        and the client reads what is written, and only from the first on, so answers keep the
        requests' order."""
        waiter = self._waiter
        if waiter is None or waiter.done() or self._messages:
            return messages
        for index, (message, payload) in enumerate(messages):
            body = _complete_body(payload)
            transport = self.transport
            written = None
            if body is not None and transport is not None and not self.writing_paused:
                written = self._inline(message, body)
            if written is None or transport is None:
                return messages[index:]
            payload.read_nowait()  # drained as aiohttp would, which resumes a paused read
            transport.write(written)
            self._request_count += 1
            self._next_keepalive_close_time = self._loop.time() + self._keepalive_timeout
        return []

    def _inline(self, message: RawRequestMessage, body: bytes) -> bytes | None:
        """The inline answer, or None; a failure of it is mockbay's bug, logged, and the request
        is left to aiohttp (raised here, it would drop the connection)."""
        try:
            return self.inline_answer(message, body)
        except Exception:
            log.exception(
                "the inline answer to %s %s failed; the handler answers it", message.method, message.path
            )
            return None

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


class BodyTimeout(TimeoutError):
    """A request body that did not arrive whole within the body timeout. Set on the body's stream,
    so whichever reader waits on it raises it (`upload.unreadable` makes it the 408). A
    TimeoutError, so aiohttp's lingering read after the answer takes it for its own timeout and
    closes the connection without a traceback."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the request body did not arrive whole within {seconds:g} s")


def _body_deadline(handler: _Handler, seconds: Callable[[], float]) -> _Handler:
    """The app's handler, with a deadline on a body still arriving as it starts. A plain function:
    every request passes through it, and one whose body has arrived whole (most) costs one check."""

    def handle(request: web.BaseRequest) -> Awaitable[web.StreamResponse]:
        payload = request.content
        if payload.is_eof():
            return handler(request)
        return _before_deadline(handler, request, payload, seconds())

    return handle


async def _before_deadline(
    handler: _Handler, request: web.BaseRequest, payload: StreamReader, seconds: float
) -> web.StreamResponse:
    """The handler's answer; the body, unless whole `seconds` after the handler's start (the
    request's, unless one before it on the connection was still being answered), raises
    `BodyTimeout` in its reader, and the answer then closes the connection (the rest of that body
    may still come: its bytes cannot be taken for the next request's). The whole body is timed,
    not each read, so a trickle is cut off too."""
    timer = asyncio.get_running_loop().call_later(seconds, _expire, payload, seconds)
    payload.on_eof(timer.cancel)
    try:
        response = await handler(request)
    finally:
        timer.cancel()
    if isinstance(payload.exception(), BodyTimeout):
        response.force_close()
    return response


def _expire(payload: StreamReader, seconds: float) -> None:
    if not payload.is_eof() and payload.exception() is None:
        payload.set_exception(BodyTimeout(seconds))


def _complete_body(payload: Any) -> bytes | None:
    """A request body that has fully arrived, unread; None while any of it is still to come."""
    if type(payload) is StreamReader and payload.is_eof() and payload.exception() is None:
        return b"".join(payload._buffer)  # read without consuming it: aiohttp may read it yet
    return None


class _InlineParser:
    """aiohttp's request parser, whose parsed requests the connection's handler may answer
    inline (`_EnvelopeHandler.unanswered`) before aiohttp queues the rest; anything else it is
    asked goes to the parser itself."""

    __slots__ = ("_handler", "_parser")

    def __init__(self, parser: Any, handler: _EnvelopeHandler) -> None:
        self._parser = parser
        self._handler = handler

    def feed_data(self, data: bytes) -> tuple[list[Any], bool, bytes]:
        messages, upgraded, tail = self._parser.feed_data(data)
        if messages:
            parsed = len(messages)
            messages = self._handler.unanswered(messages)
            for _ in range(parsed - len(messages)):  # each answered one frees its queue slot
                self._parser.message_consumed()
        return messages, upgraded, tail

    def __getattr__(self, name: str) -> Any:
        return getattr(self._parser, name)


class _EnvelopeServer(web.Server):
    def __init__(
        self,
        base: web.Server,
        new_request_id: Callable[[], str],
        inline_answer: InlineAnswer | None,
        body_timeout: Callable[[], float],
        **kwargs: Any,
    ) -> None:
        handler = _body_deadline(_targets_as_paths(base.request_handler), body_timeout)
        super().__init__(handler, request_factory=base.request_factory, **kwargs)
        self._new_request_id = new_request_id
        self._inline_answer = inline_answer

    def __call__(self) -> RequestHandler:
        handler = _EnvelopeHandler(self, loop=self._loop, **self._kwargs)
        handler.new_request_id = self._new_request_id
        if self._inline_answer is not None and INLINE_READY:
            handler.inline_answer = self._inline_answer
            handler._parser = _InlineParser(handler._parser, handler)  # type: ignore[assignment]
        return handler


class EnvelopeRunner(web.AppRunner):
    """`web.AppRunner` whose connections answer HTTP-level garbage in the Anthropic envelope, and
    hand bodies over as sent: `upload.decoded` applies `Content-Encoding` with upstream's answers."""

    async def _make_server(self) -> web.Server:
        base = await super()._make_server()
        new_request_id = self.app.get(SIDE_REQUEST_ID) or side_request_ids(0)
        kwargs = {**base._kwargs, "auto_decompress": False}
        # the inline answer stands for the app's handler alone: an app with middlewares (the
        # recording proxy's) runs them for every request, so its connections answer none inline
        inline_answer = None if self.app.middlewares else self.app.get(INLINE_ANSWER)
        body_timeout = self.app.get(BODY_TIMEOUT) or (lambda: BODY_TIMEOUT_SECONDS)
        return _EnvelopeServer(base, new_request_id, inline_answer, body_timeout, loop=base._loop, **kwargs)
