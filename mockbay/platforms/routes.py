"""Which cloud route a request path names, if any; the catch-all router asks before its 404.

Matched on the raw path: a Bedrock model id may be an ARN with `%2F` inside its one segment.
Each route also names the shape its errors take, for a refusal made before routing (the shared
store down when the request is numbered): the body and the header that names the request.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import partial

from aiohttp import web

from mockbay.errors import ApiError
from mockbay.journal import Exchange
from mockbay.platforms import bedrock, vertex
from mockbay.server import responses
from mockbay.server.messages import Answer
from mockbay.state import ServerState

Handler = Callable[[web.Request, ServerState, Exchange, "str | None", dict[str, str]], Awaitable[Answer]]
ErrorShape = Callable[[ApiError, str], web.Response]  # (error, request id) -> the answer, named by it


def _first_party_error(error: ApiError, request_id: str) -> web.Response:
    """Anthropic's envelope, with the `request-id` header every first-party answer carries."""
    response = responses.error_response(error, request_id)
    response.headers["request-id"] = request_id
    return response


_ROUTES: tuple[tuple[re.Pattern[str], Callable[..., Awaitable[Answer]], ErrorShape], ...] = (
    (bedrock.ROUTE, bedrock.invoke, bedrock.error_response),  # named by `x-amzn-RequestId` alone
    (vertex.ROUTE, vertex.predict, _first_party_error),  # Vertex answers errors first-party
)


def _matched(
    method: str, raw_path: str
) -> tuple[Callable[..., Awaitable[Answer]], ErrorShape, re.Match[str]] | None:
    if method != "POST":
        return None
    path = raw_path.partition("?")[0]
    for route, handler, shape in _ROUTES:
        found = route.search(path)
        if found is not None:
            return handler, shape, found
    return None


def cloud_route(method: str, raw_path: str) -> Handler | None:
    """The handler for a Bedrock or Vertex endpoint, bound to the path's parts, or None."""
    matched = _matched(method, raw_path)
    return None if matched is None else partial(matched[0], found=matched[2])


def error_shape(method: str, raw_path: str) -> ErrorShape:
    """How an error leaves for this path, request id included: Bedrock's shape on its routes, else
    the Anthropic envelope."""
    matched = _matched(method, raw_path)
    return _first_party_error if matched is None else matched[1]
