"""Google Vertex AI's form of the Messages API, in front of the same pipeline (docs/cloud-platforms.md).

`POST …/projects/{p}/locations/{l}/publishers/anthropic/models/{m}:rawPredict` answers JSON,
`:streamRawPredict` first-party SSE, and `…/models/count-tokens:rawPredict` counts tokens. The
model is in the path (count-tokens keeps it in the body), `anthropic_version` in the body; any
Google bearer token is accepted. Auth errors take Google's shape, the rest Anthropic's envelope
(as Vertex passes the model's errors through).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from mockbay.config import ServerConfig
from mockbay.errors import ApiError
from mockbay.journal import Exchange
from mockbay.platforms import VERTEX
from mockbay.platforms.body import cloud_body, with_model
from mockbay.server.auth import accepted_key, presented_keys
from mockbay.server.messages import (
    Answer,
    Inbound,
    answer_message,
    count_body,
    read_body,
    refuse_declared_oversize,
)
from mockbay.server.responses import dumps, json_response
from mockbay.state import ServerState

ROUTE = re.compile(
    r"/projects/([^/]+)/locations/([^/]+)/publishers/anthropic/models/([^/:]+):(rawPredict|streamRawPredict)$"
)
COUNT_TOKENS_MODEL = "count-tokens"
STREAM_VERB = "streamRawPredict"
MISSING_VERSION = "anthropic_version: Field required"
OAUTH_HINT = "Expected OAuth 2 access token, login cookie or other valid authentication credential."


def _unauthenticated(message: str) -> ApiError:
    return ApiError(401, "authentication_error", f"{message} {OAUTH_HINT}")


def caller_of(headers: Mapping[str, str], config: ServerConfig) -> str:
    """The bearer token (any, unless `--api-key` lists the accepted ones)."""
    tokens = presented_keys(headers)
    if not tokens:
        raise _unauthenticated("Request is missing required authentication credential.")
    token = accepted_key(tokens, config)
    if token is None:
        raise _unauthenticated("Request had invalid authentication credentials.")
    return token


def google_error(error: ApiError) -> web.Response:
    """Google's front-end error shape, for what Vertex refuses before the model sees it."""
    body = {"error": {"code": error.status, "message": error.message, "status": "UNAUTHENTICATED"}}
    return json_response(body, status=error.status)


def recordable_body(path: str, raw: bytes) -> dict[str, Any] | None:
    """A Vertex messages request in first-party form, for the recorder: what the replaying server
    will match. None for any other request (count-tokens, a body Vertex would refuse)."""
    found = ROUTE.search(path)
    if found is None or _counts_tokens(found):
        return None
    try:
        return _messages_body(found, cloud_body(raw, MISSING_VERSION))
    except ApiError:
        return None


def _counts_tokens(found: re.Match[str]) -> bool:
    return unquote(found.group(3)) == COUNT_TOKENS_MODEL and found.group(4) != STREAM_VERB


def _messages_body(found: re.Match[str], body: dict[str, Any]) -> dict[str, Any]:
    """The model from the path, `stream` as the verb says."""
    return with_model(body, unquote(found.group(3)), stream=found.group(4) == STREAM_VERB)


async def predict(
    request: web.Request,
    state: ServerState,
    exchange: Exchange,
    pinned: str | None,
    headers: dict[str, str],
    found: re.Match[str],
) -> Answer:
    """rawPredict, streamRawPredict or count-tokens, translated for the pipeline."""
    counting = _counts_tokens(found)
    exchange.endpoint, exchange.platform = ("count_tokens" if counting else "messages"), VERTEX
    refuse_declared_oversize(request.headers)
    try:
        caller = caller_of(headers, state.config)
    except ApiError as error:
        exchange.error_type = error.type
        return google_error(error)
    raw = await read_body(request)
    body = cloud_body(raw, MISSING_VERSION)
    if counting:  # nothing keys on its bytes: the journal weighs the body as it came
        return await count_body(state, exchange, raw, headers, body)
    first_party = _messages_body(found, body)
    inbound = Inbound(
        raw=dumps(first_party), parsed=first_party, headers=headers, caller=caller, platform=VERTEX
    )
    return await answer_message(request, state, exchange, pinned, inbound)
