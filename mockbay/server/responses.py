"""Building aiohttp responses in upstream's shapes: JSON bodies, error envelopes, common headers."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from aiohttp import web

from mockbay.errors import ApiError
from mockbay.jsontext import compact
from mockbay.lru import MEMO_KEY_CHARS
from mockbay.wire.errors import error_body

ORGANIZATION_HEADER = "anthropic-organization-id"
WORKSPACE_HEADER = "anthropic-workspace-id"
NOT_SENT = 499  # the journal's status for an answer whose connection was closed before it was sent
DOWNLOAD = web.ResponseKey("mockbay_download", bool)  # set on the answers `download` builds
RAW_ERROR = web.ResponseKey("mockbay_raw_error", bool)  # set on an error sent as its raw body


def download(body: bytes, content_type: str) -> web.Response:
    """An answer serving stored bytes (a file's content, a batch's results), which the journal
    does not keep: they are as large as what is stored (up to 256 MB), so keeping them would push
    every other exchange out of the journal, and with `--state redis` copy them into Redis."""
    response = web.Response(body=body, content_type=content_type)
    response[DOWNLOAD] = True
    return response


def dumps(data: Any) -> bytes:
    """Compact UTF-8 JSON, as upstream sends it; a lone surrogate (from a header's undecodable
    bytes, or a journaled body) is sent as its `\\uXXXX` escape rather than failing."""
    text = compact(data)
    try:
        return text.encode()
    except UnicodeEncodeError:
        return json.dumps(data, separators=(",", ":")).encode()


def organization_id(api_key: str) -> str:
    """A stable organisation UUID per API key, for `anthropic-organization-id`."""
    return str(uuid.UUID(bytes=hashlib.sha256(f"org:{api_key}".encode()).digest()[:16], version=4))


# Memoised for keys of at most `MEMO_KEY_CHARS` characters: clients choose them, so the memo keeps
# 1,024 x 256 characters at most, and a longer key is hashed afresh (`caller_headers`).
_known_organization = lru_cache(maxsize=1024)(organization_id)


def caller_headers(headers: Mapping[str, str], api_key: str | None) -> dict[str, str]:
    """Whom upstream resolved the caller to, on every answer (docs/wire.md §2.2, §4.6): the
    organisation of an accepted key, and the workspace the request names, echoed (the SDK reads
    it into an error's `workspace_id`)."""
    if api_key is None:
        named = {}
    elif len(api_key) <= MEMO_KEY_CHARS:
        named = {ORGANIZATION_HEADER: _known_organization(api_key)}
    else:
        named = {ORGANIZATION_HEADER: organization_id(api_key)}
    workspace = headers.get(WORKSPACE_HEADER)
    if workspace:
        named[WORKSPACE_HEADER] = workspace
    return named


class JsonReply(NamedTuple):
    """A 200 JSON answer before it is an aiohttp response: the handler makes it one
    (`json_body_response`), the protocol's inline answer writes its head itself (`inline`), which
    costs a fifth of what building the response and reading it back does."""

    body: bytes
    headers: dict[str, str]


def json_response(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return json_body_response(dumps(data), headers, status=status)


def json_body_response(body: bytes, headers: dict[str, str] | None, *, status: int = 200) -> web.Response:
    """A JSON body's response; a `Content-Type` among a scenario's headers wins over JSON's, as
    its other headers win over computed ones (aiohttp takes a content type from one place only)."""
    if headers and any(name.lower() == "content-type" for name in headers):
        return web.Response(body=body, status=status, headers=headers)
    return web.Response(
        body=body, status=status, headers=headers, content_type="application/json", charset=None
    )


def error_response(error: ApiError, request_id: str) -> web.Response:
    """The Anthropic error envelope with `request_id` repeating the header (docs/wire.md §6.1), or
    an error's raw body as written."""
    if error.raw is not None:
        return raw_error_response(error, error.headers)
    return json_response(
        error_body(error.type, error.message, request_id, error.error_code),
        status=error.status,
        headers=dict(error.headers),
    )


def raw_error_response(error: ApiError, headers: Mapping[str, str]) -> web.Response:
    """An error whose body is sent as upstream's proxy sent it (`ApiError.raw`): its bytes and
    content type, none for an empty body without one (aiohttp names any other body
    application/octet-stream, as HTTP says)."""
    assert error.raw is not None
    response = web.Response(body=error.raw.data, status=error.status, headers=headers)
    response[RAW_ERROR] = True
    if error.raw.content_type is not None:
        response.headers["Content-Type"] = error.raw.content_type
    return response
