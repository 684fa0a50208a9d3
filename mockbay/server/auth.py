"""Credentials and required headers for the Anthropic endpoints (docs/wire.md §2.2, §2.3).

An AWS SigV4 `Authorization` (Bedrock, and the SDK's Bedrock Mantle client on the first-party
wire) is accepted without checking its signature, which needs a secret a mock does not have: its
access-key id stands for the key (docs/cloud-platforms.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from mockbay.config import ServerConfig
from mockbay.errors import ApiError

SIGV4 = "aws4-hmac-sha256 "
CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")


def sigv4_access_key(headers: Mapping[str, str]) -> str | None:
    """The access-key id of a SigV4 `Authorization` (`Credential=AKID/date/region/…`), or None."""
    return _sigv4_key(headers.get("authorization", ""))


def _sigv4_key(authorization: str) -> str | None:
    if authorization[: len(SIGV4)].lower() != SIGV4:
        return None
    found = CREDENTIAL.search(authorization)
    return found.group(1) if found else None


def presented_keys(headers: Mapping[str, str]) -> list[str]:
    """Every credential the request carries, the one that names the caller first: a Bearer token
    (what current SDKs send) or a SigV4 access-key id, then `x-api-key` (curl, Claude Code)."""
    keys = []
    authorization = headers.get("authorization")
    if authorization:
        if authorization[:7].lower() == "bearer " and authorization[7:].strip():
            keys.append(authorization[7:].strip())
        else:
            key = _sigv4_key(authorization)
            if key:
                keys.append(key)
    key = headers.get("x-api-key", "").strip()
    if key:
        keys.append(key)
    return keys


def accepted_key(keys: list[str], config: ServerConfig) -> str | None:
    """The caller's key among those presented: any, unless `--api-key` lists the accepted ones;
    then the first listed one (a gateway may send its own `Authorization` beside the client's
    `x-api-key`), or None."""
    if not config.api_keys:
        return keys[0]
    return next((key for key in keys if key in config.api_keys), None)


def caller_key(headers: Mapping[str, str], config: ServerConfig) -> str | None:
    """The caller's key when the request presents one that is accepted, else None (no refusal:
    for answers that name the caller's organisation whatever they say)."""
    keys = presented_keys(headers)
    return accepted_key(keys, config) if keys else None


def authenticate(headers: Mapping[str, str], config: ServerConfig) -> str:
    """The caller's key, or a 401 `authentication_error` with upstream's wording."""
    keys = presented_keys(headers)
    if not keys:
        raise ApiError(401, "authentication_error", "x-api-key header is required")
    key = accepted_key(keys, config)
    if key is None:
        bearer = headers.get("authorization", "")[:7].lower() == "bearer "
        raise ApiError(401, "authentication_error", "Invalid bearer token" if bearer else "invalid x-api-key")
    return key


def require_version(headers: Mapping[str, str], config: ServerConfig) -> None:
    """Any non-empty `anthropic-version` is accepted; a missing one is upstream's 400."""
    if config.require_version and not headers.get("anthropic-version", "").strip():
        raise ApiError(400, "invalid_request_error", "anthropic-version: header is required")
