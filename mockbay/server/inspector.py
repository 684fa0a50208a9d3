"""The journal inspector: one exchange in full, as a scenario file, and the page that shows them.

`GET /_mockbay/requests/{id}` is the journal entry plus the reply that was sent, in scenario terms
(content blocks, usage, stop reason, fault) and as the wire had it (the JSON body, or the stream's
events); `.../scenario` is the same exchange as a scenario file (record.from_journal);
`GET /_mockbay/ui` is a page of plain HTML, CSS and JavaScript shipped in the package
(mockbay/inspector/), no build step and nothing fetched from elsewhere, that polls the admin API.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from aiohttp import web

from mockbay.errors import ApiError
from mockbay.journal import Exchange
from mockbay.server.responses import json_response
from mockbay.state import ServerState


async def find(state: ServerState, request_id: str) -> Exchange:
    """From the store's journal, so with `--state redis` any replica finds any replica's exchange."""
    exchange = await state.store.exchange(request_id)
    if exchange is not None:
        return exchange
    raise ApiError(
        404,
        "not_found_error",
        f"no exchange {request_id!r} in the journal (it keeps the latest --journal-size)",
    )


def detail(exchange: Exchange) -> web.Response:
    """The journal entry, the wire answer and, for a Messages exchange, its reply in scenario terms."""
    from mockbay.record.exchange import reply_for
    from mockbay.record.from_journal import recorded
    from mockbay.record.scrub import Scrubber

    entry: dict[str, Any] = exchange.to_json()
    entry["response"] = _wire(exchange)
    try:
        entry["reply"] = reply_for(recorded(exchange), Scrubber())
    except ApiError as why:
        entry["reply"], entry["reply_unavailable"] = None, why.message
    return json_response(entry)


def _wire(exchange: Exchange) -> Any:
    if exchange.sent_events is not None:
        from mockbay.record.from_journal import sent_events

        return [
            {"offset_ms": round(event.offset_ms, 3), "event": event.data.get("type"), "data": event.data}
            for event in sent_events(exchange)
        ]
    if exchange.reply_body is None:
        return None
    try:
        return json.loads(exchange.reply_body)
    except ValueError:
        return exchange.reply_body.decode(errors="replace")


async def scenario_file(state: ServerState, exchange: Exchange) -> web.Response:
    from mockbay.record.from_journal import scenario_yaml

    text = await scenario_yaml(state.store, exchange)
    response = web.Response(text=text, content_type="application/yaml", charset="utf-8")
    response.headers["content-disposition"] = f'attachment; filename="{exchange.request_id}.yaml"'
    return response


@cache
def _page() -> str:
    """index.html with its stylesheet and script inlined: one request, so an admin token given
    in the page's URL (`?token=`) is all the page needs; its own API calls send it as a header."""
    from importlib import resources  # only the page needs it: not loaded at start-up

    files = resources.files("mockbay.inspector")
    page = files.joinpath("index.html").read_text(encoding="utf-8")
    for marker, name in (("/* style.css */", "style.css"), ("/* app.js */", "app.js")):
        page = page.replace(marker, files.joinpath(name).read_text(encoding="utf-8"))
    return page


def ui_page() -> web.Response:
    response = web.Response(text=_page(), content_type="text/html", charset="utf-8")
    response.headers["cache-control"] = "no-cache"
    response.headers["content-security-policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'"
    )
    return response


def sequence_after(after: str | None) -> int:
    """The sequence number the page's polling has seen (`?after=N`: only newer exchanges are
    listed), -1 without one; read before the journal is, so a bad one costs nothing."""
    if after is None:
        return -1
    try:
        return int(after)
    except ValueError:
        raise ApiError(400, "invalid_request_error", f"after: expected an integer, got {after!r}") from None
