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


def api_key_of(headers: Mapping[str, str]) -> str | None:
    """`Authorization: Bearer` (what current SDKs send) wins over `x-api-key` (curl, Claude Code);
    a SigV4 access-key id counts as a key."""
    authorization = headers.get("authorization")
    if authorization:
        if authorization[:7].lower() == "bearer " and authorization[7:].strip():
            return authorization[7:].strip()
        key = _sigv4_key(authorization)
        if key:
            return key
    return headers.get("x-api-key", "").strip() or None


def authenticate(headers: Mapping[str, str], config: ServerConfig) -> str:
    """The caller's key, or a 401 `authentication_error` with upstream's wording."""
    key = api_key_of(headers)
    if key is None:
        raise ApiError(401, "authentication_error", "x-api-key header is required")
    if config.api_keys and key not in config.api_keys:
        bearer = headers.get("authorization", "")[:7].lower() == "bearer "
        raise ApiError(401, "authentication_error", "Invalid bearer token" if bearer else "invalid x-api-key")
    return key


def require_version(headers: Mapping[str, str], config: ServerConfig) -> None:
    """Any non-empty `anthropic-version` is accepted; a missing one is upstream's 400."""
    if config.require_version and not headers.get("anthropic-version", "").strip():
        raise ApiError(400, "invalid_request_error", "anthropic-version: header is required")
