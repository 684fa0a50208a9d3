"""Which cloud route a request path names, if any; the catch-all router asks before its 404.

Matched on the raw path: a Bedrock model id may be an ARN with `%2F` inside its one segment.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from functools import partial

from aiohttp import web

from mockbay.journal import Exchange
from mockbay.platforms import bedrock, vertex
from mockbay.server.messages import Answer
from mockbay.state import ServerState

Handler = Callable[[web.Request, ServerState, Exchange, "str | None", dict[str, str]], Awaitable[Answer]]
_ROUTES = ((bedrock.ROUTE, bedrock.invoke), (vertex.ROUTE, vertex.predict))


def cloud_route(method: str, raw_path: str) -> Handler | None:
    """The handler for a Bedrock or Vertex endpoint, bound to the path's parts, or None."""
    if method != "POST":
        return None
    path = raw_path.partition("?")[0]
    for route, handler in _ROUTES:
        found: re.Match[str] | None = route.search(path)
        if found is not None:
            return partial(handler, found=found)
    return None
