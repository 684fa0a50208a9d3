"""The part of a Bedrock or Vertex body both rewrite the same way: a JSON object carrying
`anthropic_version`, which the first-party form has as a header instead (docs/cloud-platforms.md)."""

from __future__ import annotations

from typing import Any

from mockbay.errors import ApiError
from mockbay.wire.jsonbody import parse_body

VERSION_FIELD = "anthropic_version"


def invalid(message: str) -> ApiError:
    return ApiError(400, "invalid_request_error", message)


def cloud_body(raw: bytes, missing_version: str) -> dict[str, Any]:
    """The parsed body without its `anthropic_version`; `missing_version` is the platform's
    wording for a body that lacks it (any non-empty string is accepted as the version, a blank
    one included)."""
    body = parse_body(raw)
    if not isinstance(body, dict):
        raise invalid("Malformed input request: the body must be a JSON object")
    version = body.pop(VERSION_FIELD, None)
    if not isinstance(version, str) or not version:
        raise invalid(missing_version)
    return body


def with_model(body: dict[str, Any], model: str, *, stream: bool) -> dict[str, Any]:
    """The first-party body: the model from the path first, `stream` as the route decides."""
    rest = {key: value for key, value in body.items() if key not in ("model", "stream")}
    return {"model": model, **rest, **({"stream": True} if stream else {})}
