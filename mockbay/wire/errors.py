"""Status ↔ error type pairs and the Anthropic error envelope (docs/wire.md §6.1, §6.2)."""

from __future__ import annotations

from typing import Any

# status -> (error.type, default message); docs/wire.md §6.2 and the SDK's error classes.
STATUS_TYPES: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request"),
    401: ("authentication_error", "invalid x-api-key"),
    402: ("billing_error", "Your credit balance is too low to access the Anthropic API."),
    403: (
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    404: ("not_found_error", "Not found"),
    408: ("timeout_error", "Request timed out"),
    409: ("conflict_error", "Conflict"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit."),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timed out"),
    529: ("overloaded_error", "Overloaded"),
}

# error.type -> status, for a scenario that gives only the type.
TYPE_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "conflict_error": 409,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}


def pair_for(status: int | None, error_type: str | None) -> tuple[int, str]:
    """Complete a (status, type) pair from whichever half was given (default: 500 api_error)."""
    if status is None:
        status = TYPE_STATUS.get(error_type or "", 500)
    if error_type is None:
        error_type = STATUS_TYPES.get(status, ("invalid_request_error" if status < 500 else "api_error", ""))[
            0
        ]
    return status, error_type


def default_message(status: int, error_type: str) -> str:
    known = STATUS_TYPES.get(status)
    if known and known[0] == error_type:
        return known[1]
    return {t: m for t, m in STATUS_TYPES.values()}.get(error_type, "Error")


def error_body(
    error_type: str, message: str, request_id: str | None, error_code: str | None = None
) -> dict[str, Any]:
    """The envelope every error answer uses; `request_id` repeats the `request-id` header."""
    error: dict[str, Any] = {"type": error_type, "message": message}
    if error_code is not None:
        error["details"] = {"error_code": error_code}
    return {"type": "error", "error": error, "request_id": request_id}
