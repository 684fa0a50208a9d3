"""Assemble the `usage` object (docs/wire.md §4.5): prompt accounting plus output, scenario wins.

`input_tokens` counts only what was neither read from nor written to the cache; the
`cache_creation` breakdown always sums to `cache_creation_input_tokens`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockbay.scenario.model import UsageSpec
from mockbay.usage.cache import CacheOutcome

_COMPUTED = UsageSpec()  # a reply without `usage:`: every counter computed (one shared frozen value)
FALLBACK_CREDIT = "fallback_credit"
ITERATIONS = "iterations"
# A presented `fallback_credit_token`'s outcome: mockbay keeps no token state to refuse one by.
REDEEMED: Mapping[str, Any] = {"status": {"type": "redeemed"}}


def build_usage(
    prompt: CacheOutcome,
    output_tokens: int,
    spec: UsageSpec | None,
    *,
    server_tool_use: Mapping[str, int] | None = None,
    body: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The final usage: computed counters, each replaced by the scenario's value where given.

    `server_tool_use` is what the blocks counted (render/metadata.py); `inference_geo` and
    `speed` echo the request's (`body`) unless the scenario gives them; a request that carries a
    `fallback_credit_token` gets its outcome, `redeemed` unless the scenario gives another;
    `iterations` only where given.
    """
    body = body or {}
    spec = spec or _COMPUTED
    write_5m = _pick(spec.ephemeral_5m_input_tokens, prompt.ephemeral_5m_input_tokens)
    write_1h = _pick(spec.ephemeral_1h_input_tokens, prompt.ephemeral_1h_input_tokens)
    creation = spec.cache_creation_input_tokens
    if creation is None:
        creation = write_5m + write_1h
    elif spec.ephemeral_5m_input_tokens is None and spec.ephemeral_1h_input_tokens is None:
        write_5m, write_1h = creation, 0
    usage: dict[str, Any] = {
        "input_tokens": _pick(spec.input_tokens, prompt.input_tokens),
        "cache_creation_input_tokens": creation,
        "cache_read_input_tokens": _pick(spec.cache_read_input_tokens, prompt.cache_read_input_tokens),
        "cache_creation": {"ephemeral_5m_input_tokens": write_5m, "ephemeral_1h_input_tokens": write_1h},
        "output_tokens": _pick(spec.output_tokens, output_tokens),
        "service_tier": spec.service_tier or "standard",
        "inference_geo": spec.inference_geo or _text(body.get("inference_geo")) or "not_available",
    }
    if server_tool_use is not None:
        usage["server_tool_use"] = dict(server_tool_use)
    speed = spec.speed or _text(body.get("speed"))
    if speed is not None:
        usage["speed"] = speed
    if spec.output_tokens_details is not None:
        usage["output_tokens_details"] = dict(spec.output_tokens_details)
    credit = spec.fallback_credit or (REDEEMED if body.get("fallback_credit_token") is not None else None)
    if credit is not None:
        usage[FALLBACK_CREDIT] = dict(credit)
    if spec.iterations is not None:  # a recorded fallback's; replaced where fallbacks run here
        usage[ITERATIONS] = [dict(attempt) for attempt in spec.iterations]
    return usage


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _pick(given: int | None, computed: int) -> int:
    return computed if given is None else given


def without_omitted(usage: dict[str, Any], spec: UsageSpec | None) -> dict[str, Any]:
    """The usage with the keys the scenario omits taken out (`omit:`, a recorded answer that did
    not carry them); applied last, once everything computed from the whole usage is done."""
    if spec is None or not spec.omit:
        return usage
    return {key: value for key, value in usage.items() if key not in spec.omit}
