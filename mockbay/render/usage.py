"""Assemble the `usage` object (docs/wire.md §4.5): prompt accounting plus output, scenario wins.

`input_tokens` counts only what was neither read from nor written to the cache; the
`cache_creation` breakdown always sums to `cache_creation_input_tokens`.
"""

from __future__ import annotations

from typing import Any

from mockbay.scenario.model import UsageSpec
from mockbay.usage.cache import CacheOutcome


def build_usage(prompt: CacheOutcome, output_tokens: int, spec: UsageSpec | None) -> dict[str, Any]:
    """The final usage: computed counters, each replaced by the scenario's value where given."""
    spec = spec or UsageSpec()
    write_5m = _pick(spec.ephemeral_5m_input_tokens, prompt.ephemeral_5m_input_tokens)
    write_1h = _pick(spec.ephemeral_1h_input_tokens, prompt.ephemeral_1h_input_tokens)
    creation = spec.cache_creation_input_tokens
    if creation is None:
        creation = write_5m + write_1h
    elif spec.ephemeral_5m_input_tokens is None and spec.ephemeral_1h_input_tokens is None:
        write_5m, write_1h = creation, 0
    return {
        "input_tokens": _pick(spec.input_tokens, prompt.input_tokens),
        "cache_creation_input_tokens": creation,
        "cache_read_input_tokens": _pick(spec.cache_read_input_tokens, prompt.cache_read_input_tokens),
        "cache_creation": {"ephemeral_5m_input_tokens": write_5m, "ephemeral_1h_input_tokens": write_1h},
        "output_tokens": _pick(spec.output_tokens, output_tokens),
        "service_tier": spec.service_tier or "standard",
        "inference_geo": "not_available",
    }


def _pick(given: int | None, computed: int) -> int:
    return computed if given is None else given
