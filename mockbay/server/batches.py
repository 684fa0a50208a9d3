"""/v1/messages/batches: create, list, retrieve, cancel, delete and results (JSONL), as upstream.

Each request of a batch is answered by `messages.answer_in_batch`, the non-streamed Messages
pipeline, with the create request's headers and pin, and is journaled as an exchange of its own
(endpoint `messages`, with `batch_id` and `custom_id`), so scenarios, sequences, the cache
simulation, scripted errors and journal assertions all apply. batches/model.py has the lifecycle.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from mockbay.batches.envelope import batch_requests, check_params
from mockbay.batches.model import Batch, BatchItem, Status
from mockbay.config import MB
from mockbay.errors import ApiError
from mockbay.journal import Exchange, mask_headers
from mockbay.render import ids
from mockbay.server import messages, paths
from mockbay.server.auth import authenticate, require_version
from mockbay.server.responses import download, dumps, json_response
from mockbay.server.upload import read_capped, refuse_declared
from mockbay.state import ServerState
from mockbay.store import StoreUnavailable
from mockbay.store.bounded import UnknownCursor
from mockbay.wire.errors import error_body
from mockbay.wire.fieldtypes import bad
from mockbay.wire.jsonbody import parse_body, parsed_size
from mockbay.wire.paging import cursors, id_page, parse_limit

PATH = re.compile(r"/v1/messages/batches(?:/([^/]+)(/cancel|/results)?)?/?$")
MAX_BATCH_BYTES = 256 * MB  # upstream's body limit for a batch create (docs/wire.md §3.3)
JSONL = "application/x-jsonl"
YIELD_EVERY = 64  # requests run between two turns of the event loop (about 1 ms each)
CHUNK = 256  # requests read, run and stored together


async def handle(
    request: web.Request, state: ServerState, exchange: Exchange, headers: dict[str, str], pinned: str | None
) -> web.StreamResponse | None:
    """Answer a batch endpoint, or None when the path and method name none."""
    match = PATH.search(request.path)
    if match is None:
        return None
    batch_id, action, method = match.group(1), match.group(2), request.method
    exchange.endpoint = "batches"
    base = f"{paths.public_base(request)}{request.path[: match.start()]}/v1/messages/batches"
    if batch_id is None and method == "POST":
        limit = min(MAX_BATCH_BYTES, state.config.batches_max_mb * MB)
        refuse_declared(request.headers, limit)
        api_key = _admit(state, headers)
        return await _create(request, state, exchange, headers, pinned, api_key, base, limit)
    if batch_id is None and method == "GET":
        _admit(state, headers)
        return await _list(request, state, base)
    if batch_id is not None and (method, action) in _ACTIONS:
        _admit(state, headers)
        batch, now = await _settled(state, batch_id, cancel=action == "/cancel")
        return await _ACTIONS[method, action](state, batch, now, base)
    return None


def _admit(state: ServerState, headers: dict[str, str]) -> str:
    api_key = authenticate(headers, state.config)
    require_version(headers, state.config)
    return api_key


async def _create(
    request: web.Request,
    state: ServerState,
    exchange: Exchange,
    headers: dict[str, str],
    pinned: str | None,
    api_key: str,
    base: str,
    limit: int,
) -> web.Response:
    raw = await read_capped(request, limit)
    body = parse_body(raw)
    exchange.body = body
    state.journal.charge(exchange, parsed_size(raw))
    pairs = batch_requests(body)
    now, seconds = state.wall_clock(), state.config.batch_seconds
    items = [
        BatchItem(custom_id=custom_id, params=params, due=now + seconds * (index + 1) / len(pairs))
        for index, (custom_id, params) in enumerate(pairs)
    ]
    batch = Batch(
        id=ids.batch_id(state.config.seed, exchange.seq, state.config.worker),
        created_at=now,
        ends_at=now + seconds,
        headers=headers,
        api_key=api_key,
        pinned=pinned or headers.get(messages.SCENARIO_HEADER) or None,
        count=len(items),
        next_due=items[0].due,
        body_bytes=len(raw),
        path=request.path_qs,
    )
    await state.store.batch_create(batch, items)
    settled = await _settle(state, batch, now)
    if settled is None:  # deleted through another replica before its first requests ran
        raise ApiError(404, "not_found_error", f"Message batch not found: {batch.id}")
    return json_response(settled.to_json("in_progress", _results_url(base, settled)))


async def _list(request: web.Request, state: ServerState, base: str) -> web.Response:
    query = {key: request.query.getall(key) for key in request.query}
    limit = parse_limit(query.get("limit", ()))
    after, before = cursors(query)
    try:
        page = await state.store.batch_page(limit, after, before)
    except UnknownCursor as exc:
        raise bad(str(exc)) from None
    now = state.wall_clock()
    settled = [await _settle(state, batch, now) for batch in page.items]
    data = [_view(batch, now, base) for batch in settled if batch is not None]  # not those deleted meanwhile
    return json_response(id_page(data, page.has_more))


async def _settled(state: ServerState, batch_id: str, *, cancel: bool = False) -> tuple[Batch, float]:
    """The batch by id, with every request due by `now` answered (then the rest canceled, if
    asked), and that `now`: the action judges the batch at the same instant, so it never sees
    `ended` with requests still unrun (a big batch takes long enough to run for the clock to pass
    its end); a 404 for an unknown id."""
    batch = await state.store.batch_get(batch_id)
    now = state.wall_clock()
    settled = None if batch is None else await _settle(state, batch, now, cancel=cancel)
    if settled is None:  # never created, or deleted (through another replica) since
        raise ApiError(404, "not_found_error", f"Message batch not found: {batch_id}")
    return settled, now


async def _retrieve(state: ServerState, batch: Batch, now: float, base: str) -> web.Response:
    return json_response(_view(batch, now, base))


async def _cancel(state: ServerState, batch: Batch, now: float, base: str) -> web.Response:
    """Canceled by `_settle`; the answer says `canceling`, the next read `ended`."""
    return json_response(_view(batch, now, base, answering="canceling"))


async def _cancel_rest(state: ServerState, batch: Batch, now: float) -> bool:
    """Requests not yet run are canceled: counted, not written (the results say so of those not
    run); False for a batch deleted meanwhile."""
    if batch.status(now) != "in_progress":
        raise bad(f"Message batch {batch.id} has already ended or is being canceled; it cannot be canceled")
    batch.cancel_at, batch.next_due = now, None
    batch.counts["canceled"] = batch.counts.get("canceled", 0) + batch.count - batch.done
    return await state.store.batch_done(batch, [])


async def _delete(state: ServerState, batch: Batch, now: float, base: str) -> web.Response:
    if batch.status(now) != "ended":
        raise bad(
            f"Message batch {batch.id} has not ended: cancel it and wait until it has ended to delete it"
        )
    await state.store.batch_delete(batch.id)
    return json_response({"id": batch.id, "type": "message_batch_deleted"})


async def _results(state: ServerState, batch: Batch, now: float, base: str) -> web.Response:
    """JSONL whatever the Accept header (the SDK sends `application/binary`)."""
    if batch.status(now) != "ended":
        raise bad(f"Message batch {batch.id} has not ended yet; its results are available once it has")
    lines = await state.store.batch_results(batch)
    if len(lines) < batch.count:  # canceled, or ended a moment before its last request fell due
        rest = await state.store.batch_items(batch, len(lines), batch.count)
        result = {"type": "canceled"} if batch.cancel_at is not None else None
        lines += [_line(item, result) for item in rest]
    return download(b"".join(line + b"\n" for line in lines), JSONL)


def _line(item: BatchItem, result: dict[str, Any] | None) -> bytes:
    """One request's line of the results JSONL."""
    return dumps({"custom_id": item.custom_id, "result": result})


Action = Callable[[ServerState, Batch, float, str], Awaitable[web.Response]]  # (…, batch, now, base)
_ACTIONS: dict[tuple[str, str | None], Action] = {
    ("GET", None): _retrieve,
    ("POST", "/cancel"): _cancel,
    ("DELETE", None): _delete,
    ("GET", "/results"): _results,
}


def _view(batch: Batch, now: float, base: str, *, answering: Status | None = None) -> dict[str, Any]:
    return batch.to_json(batch.status(now, answering=answering), _results_url(base, batch))


def _results_url(base: str, batch: Batch) -> str:
    """Back at the server and path prefix the client asked, as the SDK follows it verbatim."""
    return f"{base}/{batch.id}/results"


async def _settle(state: ServerState, batch: Batch, now: float, *, cancel: bool = False) -> Batch | None:
    """Run the requests due by now (none after a cancel), cancel the rest if asked, and store the
    batch as each few run; None if it was deleted since it was read. A read with nothing due
    reads the summary alone and takes no lock. The rest is done under the batch's lock: a cancel
    stored outside it would be overwritten by a replica running the batch meanwhile."""
    if not cancel and not batch.due_by(now):
        return batch
    async with state.store.batch_running(batch):  # a read arriving meanwhile waits, then finds nothing due
        stored = await state.store.batch_get(batch.id)  # shared: another replica may have run some
        if stored is None:
            return None  # storing it again would bring a deleted batch back
        batch = stored
        while batch.due_by(now):
            if not await _run_due(state, batch, now):
                return None
        if cancel and not await _cancel_rest(state, batch, now):
            return None
    return batch


async def _run_due(state: ServerState, batch: Batch, now: float) -> bool:
    """Run the next `CHUNK` requests at most, those due by now, and store their results; False
    for a batch deleted meanwhile. The chunk's requests are read, numbered, journaled and stored
    in one round trip each, so a shared store costs no round trip of its own per request."""
    chunk = await state.store.batch_items(batch, batch.done, batch.done + CHUNK + 1)  # +1: the next due
    due = [item for item in chunk[:CHUNK] if item.due <= now]
    sequences = await state.store.next_sequences(len(due))
    exchanges: list[Exchange] = []
    results: list[dict[str, Any]] = []
    try:
        for count, (item, sequence) in enumerate(zip(due, sequences, strict=True), 1):
            results.append(await _run(state, batch, item, sequence, exchanges))
            if count % YIELD_EVERY == 0:
                await asyncio.sleep(0)  # a big batch does not hold up the server's other clients
    finally:
        with contextlib.suppress(StoreUnavailable):  # as for any exchange: the store said so already
            await state.store.record(*exchanges)
    lines = [_line(item, result) for item, result in zip(due, results, strict=True)]
    batch.add(results, lines)
    batch.next_due = chunk[len(due)].due if len(due) < len(chunk) else None
    return await state.store.batch_done(batch, lines)


async def _run(
    state: ServerState, batch: Batch, item: BatchItem, sequence: int, exchanges: list[Exchange]
) -> dict[str, Any]:
    """One request through the Messages pipeline, journaled (its exchange added to `exchanges`,
    which the caller records); its `result` object."""
    exchange = Exchange(
        seq=sequence,
        request_id=ids.request_id(state.config.seed, sequence, state.config.worker),
        method="POST",
        path=batch.path,
        headers=mask_headers(batch.headers),
        session=batch.headers.get(messages.SESSION_HEADER, ""),
        endpoint="messages",
        started_at=state.wall_clock(),
        batch_id=batch.id,
        custom_id=item.custom_id,
    )
    state.journal.append(exchange)
    exchanges.append(exchange)
    started = time.perf_counter()
    try:
        return await _outcome(state, batch, item, exchange)
    finally:
        exchange.duration_ms = round((time.perf_counter() - started) * 1000, 3)
        state.metrics.finished(exchange)  # counted like any exchange, under its journal endpoint


async def _outcome(state: ServerState, batch: Batch, item: BatchItem, exchange: Exchange) -> dict[str, Any]:
    try:
        check_params(item.params)
        reply, message = await messages.answer_in_batch(
            state, exchange, item.params, batch.headers, batch.pinned, batch.api_key
        )
    except ApiError as error:
        exchange.status, exchange.error_type = error.status, error.type
        envelope = error_body(error.type, error.message, None, error.error_code)
        exchange.reply_body = dumps(envelope)  # what the inspector shows and "save as scenario" keeps
        return {"type": "errored", "error": envelope}
    exchange.status = 200
    if message is None:
        return {"type": reply.batch_result}
    if reply.usage is None or (reply.usage.service_tier is None and "service_tier" not in reply.usage.omit):
        message["usage"]["service_tier"] = "batch"
    exchange.reply_body = dumps(message)
    return {"type": "succeeded", "message": message}
