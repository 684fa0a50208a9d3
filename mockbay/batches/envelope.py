"""The body of `POST /v1/messages/batches`, checked as a whole before any request runs.

What refuses the whole batch (400) is its own shape: `requests` a list of 1 to 100,000
`{custom_id, params}` objects with unique custom_ids (docs/wire-notes.md, Message Batches).
What is wrong inside a request's `params` does not: that request's result is `errored`.
"""

from __future__ import annotations

import re
from typing import Any

from mockbay.wire.fieldtypes import array, bad, field, obj, string

MAX_REQUESTS = 100_000
CUSTOM_ID = re.compile(r"[a-zA-Z0-9_-]{1,64}")
REQUEST_KEYS = ("custom_id", "params")


def batch_requests(body: Any) -> list[tuple[str, dict[str, Any]]]:
    """The (custom_id, params) pairs of a create body, in order; a 400 for a malformed batch."""
    body = obj(body, "")
    _no_extra(body, ("requests",), "")
    requests = array(field(body, "", "requests"), "requests")
    if not requests:
        raise bad("requests: List should have at least 1 item after validation, not 0")
    if len(requests) > MAX_REQUESTS:
        raise bad(
            f"requests: List should have at most {MAX_REQUESTS} items after validation, not {len(requests)}"
        )
    pairs, seen = [], set()
    for index, item in enumerate(requests):
        path = f"requests.{index}"
        item = obj(item, path)
        _no_extra(item, REQUEST_KEYS, f"{path}.")
        custom_id = string(field(item, path, "custom_id"), f"{path}.custom_id")
        if not CUSTOM_ID.fullmatch(custom_id):
            raise bad(f"{path}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'")
        if custom_id in seen:
            raise bad(
                f"{path}.custom_id: duplicate custom_id {custom_id!r}; each must be unique within a batch"
            )
        seen.add(custom_id)
        params = field(item, path, "params")
        if not isinstance(params, dict):
            raise bad(f"{path}.params: Input should be a valid dictionary")
        pairs.append((custom_id, params))
    return pairs


def _no_extra(value: dict[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
    for key in value:
        if key not in allowed:
            raise bad(f"{prefix}{key}: Extra inputs are not permitted")


def check_params(params: dict[str, Any]) -> None:
    """What a batch asks of a request beyond the Messages rules: `max_tokens` of at least 1 (0 is
    allowed outside a batch) and no streaming. A failure makes that request `errored`."""
    max_tokens = params.get("max_tokens")
    if isinstance(max_tokens, int) and not isinstance(max_tokens, bool) and max_tokens < 1:
        raise bad("max_tokens: Input should be greater than or equal to 1")
    if params.get("stream") is True:
        raise bad("stream: Input should be False: a Message Batch request cannot stream")
