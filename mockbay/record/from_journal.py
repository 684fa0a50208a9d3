"""A journaled exchange as a scenario file: what the inspector's "Save as scenario" downloads.

The exchange goes through the recorder's own path (record.exchange.reply_for, writer.Recording,
scrubbed as a recording is): the request is answered by its fingerprint and last user text, the
reply is what mockbay sent (a JSON answer's body, a stream's events with their planned times, an
error's envelope, and the headers a replay repeats, such as `retry-after`), so the file passes
`mockbay validate` and a fresh server answers the same request with the same reply. A continued
thread is saved as the whole conversation the server matched, resumed as the recorder resumes it.
The scenario is named after the request's conversation, as the recorder names its group, plus
the start of the request's fingerprint: exchanges saved into one folder (the turns of one
conversation, say) and that conversation's recording load side by side. A pinned request
(`/s/NAME` or `x-mockbay-scenario`) gives a scenario of that name, so the pin still finds it (two
saved from one pin are one scenario: merge them by hand). A Bedrock stream's frames are decoded
as the recorder decodes them. An answer that was never sent (the client hung up), or a continued
thread the server no longer holds, cannot be saved; the admin API says so with a 4xx.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from mockbay.errors import ApiError
from mockbay.fingerprint import fingerprint
from mockbay.journal import Exchange
from mockbay.platforms.recording import EventStreamSplitter
from mockbay.record.exchange import Exchange as Recorded
from mockbay.record.exchange import TimedEvent
from mockbay.record.scrub import Scrubber
from mockbay.record.writer import Recording, document_yaml, group_name
from mockbay.server import threads
from mockbay.server.app import PINNED
from mockbay.server.messages import SCENARIO_HEADER
from mockbay.store import StateStore
from mockbay.wire.sse import parse_events


def recorded(exchange: Exchange) -> Recorded:
    """The recorder's view of a journaled Messages exchange; a 400 when it cannot replay."""
    if exchange.endpoint != "messages" or not isinstance(exchange.body, dict):
        raise ApiError(
            400, "invalid_request_error", "only a parsed Messages request can be saved as a scenario"
        )
    headers = exchange.sent_headers or {}
    if exchange.sent_events is not None:
        events = sent_events(exchange)
        stalled = exchange.fault == "stall"  # a stream that went quiet, not one cut short
        return Recorded(
            request=exchange.body, status=exchange.status, headers=headers, events=events, stalled=stalled
        )
    if exchange.reply_body is None:
        raise ApiError(
            400, "invalid_request_error", "this exchange's answer was never sent (the client hung up)"
        )
    try:
        body = json.loads(exchange.reply_body)
    except ValueError:  # an error's raw body (its content type among the kept headers)
        body = None
    return Recorded(
        request=exchange.body,
        status=exchange.status,
        headers=headers,
        body=body if isinstance(body, dict) else None,
        raw=exchange.reply_body,
        platform=exchange.platform,
    )


def sent_events(exchange: Exchange) -> tuple[TimedEvent, ...]:
    """A stream's events as they left, decoded from their framing (SSE, or Bedrock's frames)."""
    decode: Callable[[bytes], list[dict[str, Any]]] = (
        EventStreamSplitter().feed if exchange.platform == "bedrock" else _sse_data
    )
    return tuple(
        TimedEvent(offset_ms=event.offset * 1000, data=data)
        for event in exchange.sent_events or ()
        for data in decode(event.data)
    )


def _sse_data(raw: bytes) -> list[dict[str, Any]]:
    return [data for _, data in parse_events(raw)]


def _answered_by(exchange: Exchange) -> str:
    """Who answered, as the saved file's description says it."""
    if exchange.matched:
        return f"scenario {exchange.scenario} {exchange.step}"
    if exchange.generated:  # a missed request's fallback, or a compaction request that no step summarized
        return "the generate fallback" if exchange.missed else "mockbay's compaction summary"
    return "no scenario"


async def _as_matched(store: StateStore, exchange: Exchange) -> dict[str, Any]:
    """The request as the server matched it: a continued thread as its whole conversation, from
    the thread the store still holds (`threads.resume`, as the recorder resumes it). A continue
    refused before matching is saved as sent, since a fresh server refuses it alike; one that was
    answered and whose thread is gone since (`--threads-max`) cannot be saved."""
    sent: dict[str, Any] = exchange.body
    try:
        whole: dict[str, Any] = await threads.resume(store, sent)
    except ApiError as why:
        if not (exchange.matched or exchange.missed or exchange.generated):
            return sent
        message = f"this exchange continued a thread that is no longer held: {why.message}"
        raise ApiError(400, "invalid_request_error", message) from None
    return whole


async def scenario_yaml(store: StateStore, exchange: Exchange, *, now: datetime | None = None) -> str:
    """The scenario file for one exchange; `store` holds the threads a continue resumes."""
    source = recorded(exchange)
    request = await _as_matched(store, exchange)
    pinned_match = PINNED.match(exchange.path.partition("?")[0])
    pinned = pinned_match.group(1) if pinned_match else exchange.headers.get(SCENARIO_HEADER)
    scrubber = Scrubber()
    name = pinned or f"{group_name(request, exchange.headers, None, scrubber)}-{fingerprint(request)[:8]}"
    recording = Recording(
        name, f"Saved from exchange {exchange.request_id} (answered by {_answered_by(exchange)})."
    )
    recording.add(replace(source, request=request), scrubber)
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    header = (
        f"# Saved by mockbay from exchange {exchange.request_id} on {stamp}: it answers the same\n"
        "# request (its fingerprint) with the reply that was sent. Edit freely.\n"
    )
    return header + document_yaml(recording.document())
