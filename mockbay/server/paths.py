"""The classic base URL mistake: a client whose base URL already ends in `/v1` (or `/v1/messages`).

Any path prefix is accepted (gateways keep their base URL's path), but `POST /v1/v1/messages` is
what a base URL of `http://host/v1` sends, and upstream answers it with a 404. mockbay does too,
and says what the base URL should be. `public_base` is where a URL pointing back at the server
starts, behind a gateway too.
"""

from __future__ import annotations

import re

from aiohttp import web
from yarl import URL

from mockbay.server import forwarded
from mockbay.server.listen import base_url

ENDPOINT_ROOT = "/v1/"
_HOST = re.compile(r"(?:[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?", re.ASCII)
_PREFIX = re.compile(r"(?:/(?:[A-Za-z0-9._~!$&'()*+;=:@-]|%[0-9A-Fa-f]{2})*)+", re.ASCII)  # RFC 3986 segments
DOUBLED = ("/v1/messages", "/v1")


def doubled_prefix(path: str) -> tuple[str, str] | None:
    """(the doubled part, the base path it should have been) when the last `/v1/` endpoint sits
    under a prefix ending in `/v1` or `/v1/messages`; None for any other path."""
    start = path.rfind(ENDPOINT_ROOT)
    if start <= 0:
        return None
    prefix = path[:start]
    doubled = next((d for d in DOUBLED if prefix.endswith(d)), None)
    if doubled is None:
        return None
    return doubled, prefix[: -len(doubled)]


def mistake_message(method: str, path: str, public: str, found: tuple[str, str]) -> str:
    """The 404 message for a doubled prefix (`found` by `doubled_prefix`); `public` is where the
    client's URLs start (`public_base`)."""
    doubled, base = found
    return (
        f"Not found: {method} {path}. The client's base URL ends in {doubled}, but clients add "
        f"/v1/messages themselves: set the base URL to {public}{base} instead."
    )


def public_base(request: web.BaseRequest) -> str:
    """`scheme://host[:port]` and the path prefix a gateway strips, as the client asked: where a
    URL pointing back at mockbay starts (a batch's `results_url`, the base-URL hint), before the
    path mockbay was asked for. The client can reach it where mockbay's own address may not be."""
    return _origin(request) + _prefix(request)


def _origin(request: web.BaseRequest) -> str:
    """The origin the forwarding headers name (`_forwarded`), else the request's own. A Host header
    that names no host (empty, blank, not encodable in a URL) gives the address the request came
    in on instead: yarl refuses such a host, and the client's words are not needed."""
    try:
        return _forwarded(request) or str(request.url.origin())
    except ValueError:
        sockname = request.transport.get_extra_info("sockname") if request.transport else None
        host, port = (sockname[0], sockname[1]) if sockname else ("127.0.0.1", 0)
        return base_url(host, port)  # mockbay serves plain HTTP only


def _forwarded(request: web.BaseRequest) -> str | None:
    """The origin a gateway names: the `proto` and `host` of RFC 7239's `Forwarded` when its first
    element (the client's side) gives either, else `X-Forwarded-Proto` and `X-Forwarded-Host` (the
    first of each list), the other part as the request came. None without any, or when the one used
    holds a value of another form (the request's own origin is used: nothing is refused)."""
    proto, host = _forwarded_pair(request)
    if not proto and not host:
        proto = request.headers.get("X-Forwarded-Proto", "").partition(",")[0].strip()
        host = request.headers.get("X-Forwarded-Host", "").partition(",")[0].strip()
    proto = proto.lower()
    if (not proto and not host) or (proto and proto not in ("http", "https")):
        return None
    if host and not _HOST.fullmatch(host):
        return None
    try:
        return str(URL.build(scheme=proto or request.scheme, authority=host or request.host).origin())
    except ValueError:  # a port past 65535, or the request's own Host naming no host
        return None


def _forwarded_pair(request: web.BaseRequest) -> tuple[str, str]:
    """`proto` and `host` of the first `Forwarded` element ("" for either not given)."""
    first = forwarded.first_element(request.headers.getall("Forwarded", ()))
    return first.get("proto", ""), first.get("host", "")


def _prefix(request: web.BaseRequest) -> str:
    """The path prefix a gateway mounted mockbay under and stripped (`X-Forwarded-Prefix:
    /anthropic`), without its trailing slash: each proxy of a chain adds its own, so the list's
    prefixes are joined in order. "" without one, or when one is not a path (it is left out)."""
    values = ",".join(request.headers.getall("X-Forwarded-Prefix", ()))
    prefixes = [value.strip() for value in values.split(",")] if values.strip() else []
    if not all(_PREFIX.fullmatch(prefix) for prefix in prefixes):
        return ""
    return "".join(prefix.rstrip("/") for prefix in prefixes)
