"""The recording proxy: forward to a real upstream, stream its bytes back, write what it answered.

Built on mockbay's own app (`make_app`) plus one middleware: the middleware decides, per
`POST .../v1/messages` (or a Bedrock invoke or Vertex AI rawPredict, recorded in first-party
form), whether the request is replayed (mockbay's pipeline over the recordings
found in the out folder at start) or recorded (forwarded with the client's own credentials,
never stored or logged; every chunk written to the client as it arrives; SSE events timed; the
exchange appended to its scenario file with an atomic rename). An answer cut short by silence is
recorded as a `stall`: the client gave up waiting (a stream at the events it got, a JSON answer as
no answer), or a stream's upstream stayed silent past `--upstream-timeout`. Modes, as vcrpy's:
- none: replay only; a request no recording answers gets mockbay's strict 400; no upstream call;
- once: a group whose file existed at start replays (new requests in it are errors); others record;
- new_episodes: requests recorded before this run replay; new ones are recorded and appended;
- all: everything is recorded; each group's file is rewritten from this run's exchanges.
"Recorded before this run" is fixed at start: within one run a request sent again (a retry) is
recorded again, and the later answer wins (writer.py). count_tokens, models and any other path
are forwarded and not recorded (in `none` mode mockbay answers them).
The pytest marker (pytest_support.py) runs this app per test with two extras: a `group` for
requests that name none (the test's name), and an `upstream_key` sent in place of the client's
credentials, so test code can keep a dummy key.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from multidict import CIMultiDict

from mockbay.config import (
    BODY_TIMEOUT_SECONDS,
    DEFAULT_HOST,
    DEFAULT_PORT,
    KEEPALIVE_TIMEOUT_SECONDS,
    UPSTREAM_TIMEOUT_SECONDS,
    ServerConfig,
)
from mockbay.errors import ApiError
from mockbay.fingerprint import fingerprint
from mockbay.loading import load_registry
from mockbay.platforms.bedrock import FRAMING as EVENT_STREAM
from mockbay.platforms.recording import EventStreamSplitter, platform_of, recordable_body
from mockbay.platforms.routes import error_shape
from mockbay.record.exchange import Exchange, TimedEvent, streamed_message
from mockbay.record.modes import Mode
from mockbay.record.scrub import Scrubber
from mockbay.record.sigv4 import resign
from mockbay.record.writer import (
    RECORD_NAME_HEADER,
    Recording,
    file_name,
    group_name,
    upstream_host,
    write_atomic,
)
from mockbay.scenario.model import TimingMode
from mockbay.scenario.registry import Registry
from mockbay.server import threads
from mockbay.server.app import PINNED, STATE, make_app
from mockbay.server.listen import base_url, listening, until_signalled
from mockbay.server.messages import SCENARIO_HEADER, read_body
from mockbay.server.protocol import SIDE_REQUEST_ID
from mockbay.server.responses import NOT_SENT
from mockbay.server.stream import until_client_leaves
from mockbay.state import ServerState
from mockbay.store import StateStore
from mockbay.wire.jsonbody import parse_body
from mockbay.wire.sse import parse_events

Report = Callable[[str], None]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Never forwarded either way: connection-level headers, and mockbay's own request headers.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
# The client library decompresses, so the body the client gets is plain.
_NOT_RETURNED = HOP_BY_HOP | {"content-encoding"}
_CONNECT_TIMEOUT_S = 30.0
# A handler whose client left notices within until_client_leaves' poll, then writes its file.
_SETTLE_S = 1.0
_CREDENTIALS = frozenset({"x-api-key", "authorization"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ProxyConfig:
    """Options of `mockbay record`."""

    upstream: str
    out: Path
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    mode: Mode = "once"
    timing: TimingMode = "recorded"
    body_timeout_seconds: float = BODY_TIMEOUT_SECONDS
    keepalive_timeout_seconds: float = KEEPALIVE_TIMEOUT_SECONDS
    upstream_timeout_seconds: float = UPSTREAM_TIMEOUT_SECONDS  # silence before the answer or in it
    scrubber: Scrubber = field(default_factory=Scrubber)
    group: str | None = None  # the scenario of requests with no /s/NAME pin or record-name header
    upstream_key: str | None = None  # sent as x-api-key instead of the client's credentials
    aws_credentials: Any = None  # with --aws-sign: botocore credentials that re-sign SigV4 requests


class Recorder:
    """Which requests replay and which are recorded, and the files they are recorded into."""

    def __init__(self, config: ProxyConfig, now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.config = config
        self._now = now
        self._existing = {p.name for p in config.out.glob("*.yaml")}
        self._recordings: dict[str, Recording] = {}
        self._known: dict[str, frozenset[str]] = {}

    def replay_registry(self) -> Registry:
        """The recordings already on disk, for mockbay's pipeline (none needed when all re-record)."""
        if self.config.mode == "all" or not self._existing:
            return Registry()
        return load_registry([self.config.out])

    def replays(self, group: str, request_fingerprint: str) -> bool:
        mode = self.config.mode
        if mode in ("none", "all"):
            return mode == "none"
        if mode == "once":
            return file_name(group) in self._existing
        return request_fingerprint in self._recording(group)[1]

    def record(self, group: str, exchange: Exchange) -> tuple[int, Path]:
        """Add the exchange to its group and rewrite the group's file; (turn, path) for the report."""
        recording, _ = self._recording(group)
        entry = recording.add(exchange, self.config.scrubber)
        path = self.config.out / file_name(group)
        write_atomic(path, recording.to_yaml(upstream=self.config.upstream, now=self._now()))
        return entry.turn, path

    def _recording(self, group: str) -> tuple[Recording, frozenset[str]]:
        """The group's recording, read from its file at first use unless this run re-records all."""
        if group not in self._recordings:
            path = self.config.out / file_name(group)
            recording = Recording(group)
            if self.config.mode != "all" and path.name in self._existing:
                recording = Recording.from_yaml(path.read_text(encoding="utf-8"), str(path))
            self._recordings[group] = recording
            self._known[group] = frozenset(e.fingerprint for e in recording.entries)
        return self._recordings[group], self._known[group]


@dataclass(slots=True)
class _Capture:
    """What came back from upstream, as it was passed on; stream events (SSE, or Bedrock's
    event-stream) with their arrival times."""

    status: int
    headers: dict[str, str]
    body: bytearray = field(default_factory=bytearray)
    events: list[TimedEvent] | None = None
    splitter: _SseSplitter | EventStreamSplitter | None = None
    upstream_broke: bool = False
    upstream_silent: bool = False  # nothing came for --upstream-timeout: the recorder cut it there
    client_gone: bool = False

    @classmethod
    def of(cls, upstream: aiohttp.ClientResponse) -> _Capture:
        headers = {k.lower(): v for k, v in upstream.headers.items()}
        if upstream.content_type == "text/event-stream":
            return cls(upstream.status, headers, events=[], splitter=_SseSplitter())
        if upstream.content_type == EVENT_STREAM.content_type:
            return cls(upstream.status, headers, events=[], splitter=EventStreamSplitter())
        return cls(upstream.status, headers)

    def take(self, chunk: bytes, offset_ms: float) -> None:
        """One chunk as it arrived; an empty chunk is the end of the body."""
        if self.splitter is None or self.events is None:
            self.body += chunk
            return
        found = self.splitter.feed(chunk) if chunk else self.splitter.flush()
        self.events += [TimedEvent(offset_ms=offset_ms, data=data) for data in found]


class _SseSplitter:
    """Complete SSE events out of arbitrary byte chunks (docs/wire.md §5.1: CRLF and lone CR too)."""

    def __init__(self) -> None:
        self._buffer = b""
        self._held_cr = b""

    def feed(self, chunk: bytes) -> list[dict[str, Any]]:
        data = self._held_cr + chunk
        self._held_cr = b"\r" if data.endswith(b"\r") else b""  # may be the first half of a CRLF
        self._buffer += data[: len(data) - len(self._held_cr)].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        return self._complete()

    def flush(self) -> list[dict[str, Any]]:
        """At the end of the stream a held CR was a line end after all."""
        self._buffer += b"\n" if self._held_cr else b""
        self._held_cr = b""
        return self._complete()

    def _complete(self) -> list[dict[str, Any]]:
        end = self._buffer.rfind(b"\n\n")
        if end < 0:
            return []
        complete, self._buffer = self._buffer[: end + 2], self._buffer[end + 2 :]
        try:
            return [_as_event(name, data) for name, data in parse_events(complete) if isinstance(data, dict)]
        except ValueError:  # not JSON: passed on to the client untouched, not recorded
            return []


def _as_event(name: str | None, data: dict[str, Any]) -> dict[str, Any]:
    """An event's data, named by its `type`: an `event: error` whose data has another shape (a
    gateway's `{"error": ...}`) is still the error that ended the stream, not an unknown event."""
    if name == "error" and data.get("type") != "error":
        return {"type": "error", "error": data}
    return data


def make_proxy_app(
    config: ProxyConfig, report: Report, recorder: Recorder | None = None, state: ServerState | None = None
) -> web.Application:
    """mockbay's app over the recordings, with the recording middleware in front of it.

    `state` replays through a caller's own state (the pytest marker's server) instead of one built
    from `config` over the recordings."""
    recorder = recorder or Recorder(config)
    if state is None:
        replay = ServerConfig(
            host=config.host,
            port=config.port,
            timing=config.timing,
            fallback="strict",
            require_version=False,
            body_timeout_seconds=config.body_timeout_seconds,
            keepalive_timeout_seconds=config.keepalive_timeout_seconds,
        )
        state = ServerState(replay, recorder.replay_registry())
    app = make_app(state)
    proxy = _Proxy(config, recorder, report)
    app.cleanup_ctx.append(proxy.session_context)
    app.middlewares.append(proxy.middleware)
    return app


class _Proxy:
    """The middleware's state: the config, the recorder and one upstream client session."""

    def __init__(self, config: ProxyConfig, recorder: Recorder, report: Report) -> None:
        self.config = config
        self.recorder = recorder
        self.report = report
        self.upstream = config.upstream.rstrip("/")
        self.session: aiohttp.ClientSession | None = None
        self._handling: set[asyncio.Task[Any]] = set()  # one per open request: bounded by connections

    async def session_context(self, app: web.Application) -> AsyncIterator[None]:
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=_CONNECT_TIMEOUT_S)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            self.session = session
            yield
            await self._settle()

    async def _settle(self) -> None:
        """At shutdown, let the handlers whose client left finish recording before the session
        closes: aiohttp's shutdown waits only for handlers whose connection is still open, and one
        left pending is destroyed with the loop ("Task was destroyed but it is pending!")."""
        if not self._handling:
            return
        _, late = await asyncio.wait(self._handling, timeout=_SETTLE_S)
        for task in late:
            task.cancel()
        if late:
            await asyncio.wait(late)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_mockbay/"):
            return await handler(request)
        task = asyncio.current_task()
        assert task is not None  # aiohttp runs each request in a task
        self._handling.add(task)
        try:
            return await self._proxied(request, handler)
        finally:
            self._handling.discard(task)

    async def _proxied(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        pinned, path = _split_pin(request.path)
        try:
            raw = await read_body(request)
        except ApiError as error:  # too large, or broken chunking or compression
            return _refusal(request, error)
        except ConnectionError:  # the client hung up mid-body: nothing to forward, nothing to log
            return web.Response(status=NOT_SENT)
        body = None
        if request.method == "POST" and path.endswith("/v1/messages"):
            body = await _whole_conversation(request.app[STATE].store, _json_object(raw))
        elif request.method == "POST":
            body = recordable_body(request.raw_path, raw)
        if body is None:
            if self.config.mode == "none":  # replay only: mockbay answers it, unrecorded and unreported
                return await handler(request)
            response, capture = await self._forward(request, raw, path)
            self.report(f"forwarded {request.method} {path}: {capture.status} (not recorded)")
            return response
        group = group_name(body, request.headers, self._named(request, pinned), self.config.scrubber)
        if self.recorder.replays(group, fingerprint(body)):
            response = await handler(request)
            self.report(f"replayed {group}: {response.status}")
            return response
        return await self._record(request, raw, body, group, path)

    def _named(self, request: web.Request, pinned: str | None) -> str | None:
        """The pin or scenario header; else the configured group, unless a record-name header names one."""
        named = pinned or request.headers.get(SCENARIO_HEADER)
        if named or request.headers.get(RECORD_NAME_HEADER, "").strip():
            return named
        return self.config.group

    async def _record(
        self, request: web.Request, raw: bytes, body: dict[str, Any], group: str, path: str
    ) -> web.StreamResponse:
        started = time.perf_counter()
        response, capture = await self._forward(request, raw, path)
        took = f"{(time.perf_counter() - started) * 1000:.0f} ms"
        unrecorded = self._unrecorded(capture, body)
        if unrecorded:
            self.report(f"not recorded: {group} ({unrecorded})")
            return response
        stall = self._stall(capture)
        answer = _json_object(bytes(capture.body)) if capture.events is None and not stall else None
        exchange = Exchange(
            request=body,
            status=capture.status,
            headers=capture.headers,
            body=answer,
            raw=bytes(capture.body),
            events=tuple(capture.events) if capture.events is not None else None,
            stalled=bool(stall),  # the replay goes quiet there too
            platform=platform_of(request.raw_path),
        )
        turn, file = self.recorder.record(group, exchange)
        if threads.threaded(body) and capture.status == 200:
            message = answer if exchange.events is None else streamed_message(exchange.events)
            await _hold(request.app[STATE].store, body, message)
        kind = "json" if capture.events is None else "stream"
        kind += f" ({stall})" if stall else ""
        self.report(f"recorded {group} turn {turn}: {capture.status} {kind} {took} -> {file}")
        return response

    def _unrecorded(self, capture: _Capture, body: dict[str, Any]) -> str | None:
        """Why an exchange is not recorded, or None. A stream keeps what it got, however it ended,
        and a JSON request the client gave up on is a stall. Not recorded: a failure, or a silence,
        of upstream's before a JSON answer was whole (the client got the recorder's error, not
        upstream's), and a stream request the client left before its stream began (a stall would
        replay the stream's headers, then quiet, where the client got none)."""
        if capture.events is not None:
            return None
        if capture.upstream_broke:
            return "upstream failed"
        if capture.upstream_silent:
            return f"upstream sent nothing for {self.config.upstream_timeout_seconds:g} s"
        if capture.client_gone and body.get("stream") is True:
            return "the client left before the stream began"
        return None

    def _stall(self, capture: _Capture) -> str:
        """Why the exchange is recorded as a stall, for the report; empty when it is not one."""
        if capture.client_gone:
            return "the client left: a stall"
        if capture.upstream_silent:
            return f"upstream sent nothing for {self.config.upstream_timeout_seconds:g} s: a stall"
        return ""

    async def _forward(
        self, request: web.Request, raw: bytes, path: str
    ) -> tuple[web.StreamResponse, _Capture]:
        """Send upstream with the client's own headers; pass each chunk on the moment it arrives.

        Raced against the client leaving (a timeout, a hang-up): then upstream is no longer read,
        its connection is closed, and the capture holds what arrived until then. A client that
        leaves before upstream answered gets nothing and leaves no capture of an answer."""
        assert self.session is not None
        # the raw path: a Bedrock model id may be an ARN whose %2F must stay encoded
        forwarded = _split_pin(request.raw_path.partition("?")[0])[1]
        url = self.upstream + forwarded + (f"?{request.query_string}" if request.query_string else "")
        headers = _outgoing(request, self.config.upstream_key)
        if self.config.aws_credentials is not None:
            headers = resign(self.config.aws_credentials, request.method, url, headers, raw)
        relay = _Relay(silence_s=self.config.upstream_timeout_seconds)
        relaying = asyncio.ensure_future(relay.run(self.session, request, url, headers, raw))
        watching = asyncio.ensure_future(until_client_leaves(request))
        try:
            await asyncio.wait((relaying, watching), return_when=asyncio.FIRST_COMPLETED)
        finally:  # a shutdown cancels this handler: neither task outlives it
            for task in (relaying, watching):
                task.cancel()
            await asyncio.wait((relaying, watching))
        if not relaying.cancelled():
            return relaying.result()
        if relay.response is None or relay.capture is None:
            return web.Response(status=NOT_SENT), _Capture(NOT_SENT, {}, client_gone=True)
        relay.capture.client_gone = True
        return relay.response, relay.capture


@dataclass(slots=True)
class _Relay:
    """One upstream exchange passed on to the client; what it has got so far is kept here, so it
    survives the relay being cancelled when the client leaves. Upstream silent for `silence_s`
    (before it answers, or between two chunks) is cut there: before its answer the client gets a
    504 `timeout_error` (Bedrock's 408 on its routes), within it the client's connection is
    closed, as when upstream breaks."""

    silence_s: float
    response: web.StreamResponse | None = None
    capture: _Capture | None = None

    async def run(
        self,
        session: aiohttp.ClientSession,
        request: web.Request,
        url: str,
        headers: CIMultiDict[str],
        raw: bytes,
    ) -> tuple[web.StreamResponse, _Capture]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        deadline = asyncio.timeout(self.silence_s)
        try:
            async with deadline:
                upstream = await session.request(
                    request.method,
                    url,
                    headers=headers,
                    data=raw or None,
                    allow_redirects=False,
                )
        except (aiohttp.ClientError, TimeoutError) as exc:
            if deadline.expired():
                message = f"upstream {upstream_host(url)} sent nothing for {self.silence_s:g} s"
                error = ApiError(504, "timeout_error", message)
                return _refusal(request, error), _Capture(status=504, headers={}, upstream_silent=True)
            error = ApiError(502, "api_error", f"upstream {upstream_host(url)} failed: {type(exc).__name__}")
            return _refusal(request, error), _Capture(status=502, headers={}, upstream_broke=True)
        async with upstream:
            capture = self.capture = _Capture.of(upstream)
            response = self.response = web.StreamResponse(
                status=upstream.status,
                reason=upstream.reason,
                headers=CIMultiDict(
                    (k, v) for k, v in upstream.headers.items() if k.lower() not in _NOT_RETURNED
                ),
            )
            if upstream.content_length == 0:  # said empty: so is the client's (and no type is made up)
                response.content_length = 0
            try:
                await response.prepare(request)
                await _pump(upstream, response, capture, self.silence_s, lambda: (loop.time() - start) * 1000)
            except asyncio.CancelledError:
                upstream.close()  # unread: the connection cannot go back to the pool
                raise
            if capture.upstream_silent:
                upstream.close()  # likewise; and upstream sees the hang-up, ending its stall
        if (capture.upstream_broke or capture.upstream_silent) and request.transport is not None:
            request.transport.abort()  # the client sees the transport error upstream caused
        elif not capture.client_gone:
            with contextlib.suppress(
                ConnectionError
            ):  # a client may leave once it has it all (an error event)
                await response.write_eof()
        return response, capture


async def _whole_conversation(store: StateStore, body: dict[str, Any] | None) -> dict[str, Any] | None:
    """A continued thread's request as its whole conversation, as mockbay's pipeline sees it when
    replaying (`server/threads.py`), so it is grouped, fingerprinted and recorded as that
    conversation sent unthreaded; any other body as sent. A thread this proxy holds no turn of
    is forwarded as sent, for upstream to answer."""
    if body is None:
        return None
    try:
        resumed: dict[str, Any] = await threads.resume(store, body)
    except ApiError:
        return body
    return resumed


async def _hold(store: StateStore, body: dict[str, Any], message: object) -> None:
    """Hold upstream's answer to a threaded request as mockbay holds its own, so the next turn's
    continue resumes it (under upstream's message id)."""
    if (
        isinstance(message, dict)
        and isinstance(message.get("id"), str)
        and isinstance(message.get("content"), list)
    ):
        await threads.hold(store, body, message["id"], message["content"])


async def _pump(
    upstream: aiohttp.ClientResponse,
    response: web.StreamResponse,
    capture: _Capture,
    silence_s: float,
    clock: Callable[[], float],
) -> None:
    """Pass each chunk on the moment it arrives (no buffering), and capture it with its time;
    stop after `silence_s` with none (the time a slow client takes to read is not counted)."""
    while True:
        deadline = asyncio.timeout(silence_s)
        try:
            async with deadline:
                chunk = await upstream.content.readany()
        except (aiohttp.ClientError, TimeoutError):
            capture.upstream_silent = deadline.expired()
            capture.upstream_broke = not capture.upstream_silent
            return
        capture.take(chunk, clock())
        if not chunk:
            return
        try:
            await response.write(chunk)
        except ConnectionError:
            capture.client_gone = True
            return


def _refusal(request: web.Request, error: ApiError) -> web.Response:
    """An answer the recorder makes itself, with no upstream answer to pass on: like every answer
    of mockbay's it carries a request id (in its envelope and `request-id` header, or Bedrock's
    `x-amzn-RequestId`), one from outside the journal's sequence since the exchange never reaches
    mockbay's app; in Bedrock's shape on Bedrock's routes, as `serve` refuses them."""
    request_id = request.app[SIDE_REQUEST_ID]()
    return error_shape(request.method, request.raw_path)(error, request_id)


def _split_pin(path: str) -> tuple[str | None, str]:
    """(`/s/NAME` scenario, the path after it) as mockbay's app reads it."""
    match = PINNED.match(path)
    return (match.group(1), match.group(2) or "/") if match else (None, path)


def _outgoing(request: web.Request, key: str | None) -> CIMultiDict[str]:
    """The client's headers, credentials included (or replaced by `key`), minus connection-level
    and mockbay's own, and minus `content-encoding`: the body forwarded is the decoded one."""
    dropped = HOP_BY_HOP | {"accept-encoding", "content-encoding"} | (_CREDENTIALS if key else frozenset())
    headers = CIMultiDict(
        (name, value)
        for name, value in request.headers.items()
        if name.lower() not in dropped and not name.lower().startswith("x-mockbay-")
    )
    if key:
        headers["x-api-key"] = key
    return headers


def _json_object(raw: bytes) -> dict[str, Any] | None:
    """The body as `serve` parses it, or None for one it refuses before reading (not JSON, nested
    past its limit, a lone surrogate): forwarded, the upstream's refusal is not recorded."""
    try:
        data = parse_body(raw)
    except ApiError:
        return None
    return data if isinstance(data, dict) else None


async def serve_proxy(config: ProxyConfig, report: Report) -> None:
    """Bind, report the ready line, proxy until SIGINT or SIGTERM."""
    async with listening(make_proxy_app(config, report), config.host, config.port) as port:
        upstream = upstream_host(config.upstream) + urlsplit(config.upstream).path.rstrip("/")
        report(f"mockbay recording on {base_url(config.host, port)} -> {upstream} (out {config.out})")
        await until_signalled()
