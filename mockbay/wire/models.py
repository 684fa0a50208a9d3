"""The model catalog as data, plus `GET /v1/models` paging (docs/wire.md §8, §10, §12).

Owns the per-model facts other layers look up (output cap, context window, minimum cacheable
prompt, tool-use system prompt overhead, tokenizer generation) and the upstream list/retrieve
shapes. Stdlib only: imports nothing beyond `mockbay.errors`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mockbay.errors import ApiError
from mockbay.wire.paging import id_page, parse_limit

Lifecycle = Literal["active", "deprecated", "retired"]
LIFECYCLES: tuple[Lifecycle, ...] = ("active", "deprecated", "retired")

# Fallbacks for ids outside the catalog: §8 says 1,024 is the common minimum; the tool
# overhead is the current 4.5/4.6 generation's (§10).
DEFAULT_MIN_CACHEABLE = 1024
DEFAULT_TOOL_OVERHEAD = (497, 589)

_DATE_SUFFIX = re.compile(r"-\d{8}$")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class ModelInfo:
    """One catalog entry. `aliases` resolve to it but are not listed by `GET /v1/models`."""

    id: str
    display_name: str
    created_at: str
    lifecycle: Lifecycle
    line: str
    max_tokens: int
    max_input_tokens: int
    min_cacheable_tokens: int
    tool_overhead_auto: int
    tool_overhead_forced: int
    new_tokenizer: bool
    output_cap_published: bool = False  # `max_tokens` above is enforced only when it is
    aliases: tuple[str, ...] = ()
    deprecated_at: str | None = None
    retires_at: str | None = None


_Row = tuple[str, str, str, int, int, int, tuple[int, int], bool]
_1M, _200K, _128K, _64K, _32K = 1_000_000, 200_000, 128_000, 64_000, 32_000

# Newest first: id, display name, release date, max output, context window (§12.3), minimum
# cacheable prompt (§8), tool-use system prompt for auto/none and any/tool (§10), newer tokenizer
# (§11). 5.x tool overheads and a few 5.x minimums are unpublished: Sonnet 5's stand in [UNV].
# Dates of 2026 models are plausible stand-ins, not published facts.
_ROWS: tuple[_Row, ...] = (
    ("claude-fable-5-2", "Claude Fable 5.2", "2026-09-22", _128K, _1M, 512, (354, 474), True),
    ("claude-mythos-5-2", "Claude Mythos 5.2", "2026-09-15", _128K, _1M, 512, (354, 474), True),
    ("claude-haiku-5-5", "Claude Haiku 5.5", "2026-08-26", _128K, _1M, 2048, (354, 474), True),
    ("claude-sonnet-5-5", "Claude Sonnet 5.5", "2026-08-19", _128K, _1M, 1024, (354, 474), True),
    ("claude-fable-5-1", "Claude Fable 5.1", "2026-08-05", _128K, _1M, 512, (354, 474), True),
    ("claude-opus-5-5", "Claude Opus 5.5", "2026-07-29", _128K, _1M, 512, (354, 474), True),
    ("claude-mythos-5-1", "Claude Mythos 5.1", "2026-07-15", _128K, _1M, 512, (354, 474), True),
    ("claude-sonnet-5", "Claude Sonnet 5", "2026-06-30", _128K, _1M, 1024, (354, 474), True),
    ("claude-fable-5", "Claude Fable 5", "2026-06-23", _128K, _1M, 512, (354, 474), True),
    ("claude-mythos-5", "Claude Mythos 5", "2026-06-16", _128K, _1M, 512, (354, 474), True),
    ("claude-opus-5", "Claude Opus 5", "2026-06-09", _128K, _1M, 512, (354, 474), True),
    ("claude-opus-4-8", "Claude Opus 4.8", "2026-05-12", _128K, _1M, 1024, (290, 410), True),
    ("claude-opus-4-7", "Claude Opus 4.7", "2026-04-16", _128K, _1M, 2048, (675, 804), True),
    ("claude-mythos-preview", "Claude Mythos Preview", "2026-03-03", _128K, _1M, 4096, (497, 589), False),
    ("claude-opus-4-6", "Claude Opus 4.6", "2026-02-05", _128K, _200K, 4096, (497, 589), False),
    # Sonnet 4.6's minimum: one docs version says 2,048, another 1,024 (§8).
    ("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-03", _64K, _200K, 2048, (497, 589), False),
    ("claude-opus-4-5-20251101", "Claude Opus 4.5", "2025-11-24", _64K, _200K, 4096, (496, 588), False),
    ("claude-haiku-4-5-20251001", "Claude Haiku 4.5", "2025-10-15", _64K, _200K, 4096, (496, 588), False),
    ("claude-sonnet-4-5-20250929", "Claude Sonnet 4.5", "2025-09-29", _64K, _200K, 1024, (496, 588), False),
    ("claude-opus-4-1-20250805", "Claude Opus 4.1", "2025-08-05", _32K, _200K, 1024, (313, 315), False),
    ("claude-opus-4-20250514", "Claude Opus 4", "2025-05-22", _32K, _200K, 1024, (313, 315), False),
    ("claude-sonnet-4-20250514", "Claude Sonnet 4", "2025-05-22", _64K, _200K, 1024, (313, 315), False),
    ("claude-3-7-sonnet-20250219", "Claude Sonnet 3.7", "2025-02-24", _64K, _200K, 1024, (346, 313), False),
    ("claude-3-5-haiku-20241022", "Claude Haiku 3.5", "2024-10-22", 8192, _200K, 2048, (264, 340), False),
)

# Models whose output cap the reference's table gives (§12.3); only these caps are enforced. The
# others are plausible figures for GET /v1/models: a guessed cap must never refuse a request the
# real API accepts (LiteLLM sends max_tokens 128000 to claude-sonnet-4-6, for one).
_PUBLISHED_OUTPUT_CAPS = frozenset(
    {
        "claude-fable-5-1",
        "claude-opus-5-5",
        "claude-sonnet-5-5",
        "claude-haiku-5-5",
        "claude-opus-4-6",
        "claude-sonnet-4-5-20250929",
        "claude-haiku-4-5-20251001",
        "claude-opus-4-5-20251101",
        "claude-sonnet-4-20250514",
        "claude-opus-4-20250514",
        "claude-opus-4-1-20250805",
    }
)

# The thinking types a model refuses (docs/wire.md §9; the texts are in wire/model_rules.py):
# manual budgets (`enabled`) on Opus 4.7 and 4.8, `adaptive` on 4.5 and earlier, `disabled` on
# the models that always think. `capabilities.thinking.types` says the same.
NO_MANUAL_THINKING = frozenset({"claude-opus-4-7", "claude-opus-4-8"})
NO_ADAPTIVE = frozenset(
    {
        "claude-opus-4-5-20251101",
        "claude-haiku-4-5-20251001",
        "claude-sonnet-4-5-20250929",
        "claude-opus-4-1-20250805",
        "claude-opus-4-20250514",
        "claude-sonnet-4-20250514",
        "claude-3-7-sonnet-20250219",
        "claude-3-5-haiku-20241022",
    }
)
ALWAYS_THINKING = frozenset(
    {"claude-fable-5", "claude-fable-5-1", "claude-mythos-5", "claude-mythos-5-1", "claude-mythos-preview"}
)

# Before the 4.6 generation a dateless id is an alias of a dated snapshot (§12.2).
_ALIASES: dict[str, tuple[str, ...]] = {
    "claude-opus-4-5-20251101": ("claude-opus-4-5",),
    "claude-haiku-4-5-20251001": ("claude-haiku-4-5",),
    "claude-sonnet-4-5-20250929": ("claude-sonnet-4-5",),
    "claude-opus-4-1-20250805": ("claude-opus-4-1",),
    "claude-opus-4-20250514": ("claude-opus-4-0", "claude-4-opus-20250514"),
    "claude-sonnet-4-20250514": ("claude-sonnet-4-0", "claude-4-sonnet-20250514"),
    "claude-3-7-sonnet-20250219": ("claude-3-7-sonnet-latest",),
    "claude-3-5-haiku-20241022": ("claude-3-5-haiku-latest",),
}

# id -> (lifecycle, deprecated_at, retires_at); absent means active. SDK 2.13.0 warns about the
# deprecated ones (`_data/deprecated_models.py`); ids it stopped warning about after their
# end-of-life date (§7.4) are retired. Deprecation dates are plausible stand-ins.
_LIFECYCLE: dict[str, tuple[Lifecycle, str | None, str | None]] = {
    "claude-mythos-preview": ("deprecated", "2026-05-01", "2026-06-30"),
    "claude-opus-4-5-20251101": ("deprecated", "2026-07-22", "2027-01-22"),
    "claude-sonnet-4-5-20250929": ("deprecated", "2026-06-01", "2026-11-30"),
    "claude-opus-4-1-20250805": ("retired", "2025-12-15", "2026-06-15"),
    "claude-opus-4-20250514": ("retired", "2025-12-15", "2026-06-15"),
    "claude-sonnet-4-20250514": ("retired", "2025-12-15", "2026-06-15"),
    "claude-3-7-sonnet-20250219": ("retired", "2025-10-28", "2026-02-19"),
    "claude-3-5-haiku-20241022": ("retired", "2025-10-28", "2026-02-19"),
}

_ACTIVE: tuple[Lifecycle, str | None, str | None] = ("active", None, None)


def _stamp(day: str | None) -> str | None:
    return f"{day}T00:00:00Z" if day else None


def _entry(row: _Row) -> ModelInfo:
    model_id, name, created, max_out, context, cache_min, tools, new_tokenizer = row
    lifecycle, deprecated, retires = _LIFECYCLE.get(model_id, _ACTIVE)
    return ModelInfo(
        id=model_id,
        display_name=name,
        created_at=f"{created}T00:00:00Z",
        lifecycle=lifecycle,
        line=name.split()[1].lower(),
        max_tokens=max_out,
        max_input_tokens=context,
        min_cacheable_tokens=cache_min,
        tool_overhead_auto=tools[0],
        tool_overhead_forced=tools[1],
        new_tokenizer=new_tokenizer,
        output_cap_published=model_id in _PUBLISHED_OUTPUT_CAPS,
        aliases=_ALIASES.get(model_id, ()),
        deprecated_at=_stamp(deprecated),
        retires_at=_stamp(retires),
    )


CATALOG: tuple[ModelInfo, ...] = tuple(_entry(row) for row in _ROWS)

_BY_ID: dict[str, ModelInfo] = {name: m for m in CATALOG for name in (m.id, *m.aliases)}
# Newest first, ties broken by id so paging is stable.
_ORDER: tuple[ModelInfo, ...] = tuple(sorted(CATALOG, key=lambda m: (m.created_at, m.id), reverse=True))
_POSITION: dict[str, int] = {m.id: index for index, m in enumerate(_ORDER)}
_FAMILIES = ("mythos", "fable", "opus", "sonnet", "haiku")


def find_model(model_id: str) -> ModelInfo | None:
    """The entry for an id or alias, or for a dated id (`-YYYYMMDD`) whose dateless form is known."""
    found = _BY_ID.get(model_id)
    if found is None and _DATE_SUFFIX.search(model_id):
        found = _BY_ID.get(_DATE_SUFFIX.sub("", model_id))
    return found


def model_family(model_id: str) -> str:
    """haiku/sonnet/opus/fable/mythos by substring, else "other"; total over any string."""
    lowered = model_id.lower()
    return next((family for family in _FAMILIES if family in lowered), "other")


def min_cacheable_tokens(model_id: str) -> int:
    info = find_model(model_id)
    return info.min_cacheable_tokens if info else DEFAULT_MIN_CACHEABLE


def tool_overhead(model_id: str, forced: bool) -> int:
    """Hidden tool-use system prompt tokens; `forced` is tool_choice `any` or `tool` (§10)."""
    info = find_model(model_id)
    if info is None:
        return DEFAULT_TOOL_OVERHEAD[1] if forced else DEFAULT_TOOL_OVERHEAD[0]
    return info.tool_overhead_forced if forced else info.tool_overhead_auto


def _supported(value: bool) -> dict[str, bool]:
    return {"supported": value}


def capabilities(model_id: str) -> dict[str, Any]:
    """The SDK's `ModelCapabilities` for a catalog model, as mockbay answers it: a thinking type
    is supported unless mockbay's per-model rules refuse it, and so is every other capability,
    since mockbay refuses none of them on any model (docs/wire-notes.md)."""
    on = _supported(True)
    return {
        "batch": on,
        "citations": on,
        "code_execution": on,
        "context_management": {
            "supported": True,
            "clear_thinking_20251015": on,
            "clear_tool_uses_20250919": on,
            "compact_20260112": on,
        },
        "effort": {"supported": True, "low": on, "medium": on, "high": on, "xhigh": on, "max": on},
        "image_input": on,
        "pdf_input": on,
        "server_tools": {"supported": True, "code_execution": on, "web_search": on},
        "structured_outputs": on,
        "thinking": {
            "supported": True,
            "types": {
                "enabled": _supported(model_id not in NO_MANUAL_THINKING),
                "adaptive": _supported(model_id not in NO_ADAPTIVE),
                "disabled": _supported(model_id not in ALWAYS_THINKING),
                "between_tools": on,
            },
        },
    }


def model_info_json(info: ModelInfo) -> dict[str, Any]:
    """The upstream `ModelInfo` object."""
    return {
        "type": "model",
        "id": info.id,
        "display_name": info.display_name,
        "created_at": info.created_at,
        "lifecycle": info.lifecycle,
        "deprecated_at": info.deprecated_at,
        "retires_at": info.retires_at,
        "line": info.line,
        "max_input_tokens": info.max_input_tokens,
        "max_tokens": info.max_tokens,
        "capabilities": capabilities(info.id),
    }


def retrieve_model_json(model_id: str) -> dict[str, Any]:
    """`GET /v1/models/{model_id}`: aliases answer with their canonical entry; unknown is a 404."""
    info = find_model(model_id)
    if info is None:
        raise ApiError(404, "not_found_error", f"model: {model_id}")
    return model_info_json(info)


def list_models_page(query: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """`GET /v1/models`: newest first, cursor paging as upstream (`has_more` always sent, §12.1).

    `after_id` gives the `limit` models after the cursor; `before_id` the `limit` models just
    before it, with `has_more` telling whether older-to-newer paging can go further back.
    """
    limit = parse_limit(query.get("limit", ()))
    wanted = _lifecycles([*query.get("lifecycle[]", ()), *query.get("lifecycle", ())])
    after, before = _cursor(query, "after_id"), _cursor(query, "before_id")
    if after is not None and before is not None:
        raise _bad("after_id: cannot be combined with before_id")
    items = [m for m in _ORDER if m.lifecycle in wanted]
    if before is not None:
        older = [m for m in items if _POSITION[m.id] < _POSITION[before.id]]
        data, has_more = older[-limit:], len(older) > limit
    else:
        start = _POSITION[after.id] if after is not None else -1
        newer = [m for m in items if _POSITION[m.id] > start]
        data, has_more = newer[:limit], len(newer) > limit
    return id_page([model_info_json(m) for m in data], has_more)


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request_error", message)


def _lifecycles(values: list[str]) -> frozenset[str]:
    """The requested stages; none given means active and deprecated, as upstream."""
    if len(values) > len(LIFECYCLES):
        raise _bad(f"lifecycle: List should have at most 3 items after validation, not {len(values)}")
    for index, value in enumerate(values):
        if value not in LIFECYCLES:
            raise _bad(f"lifecycle.{index}: Input should be 'active', 'deprecated' or 'retired'")
    return frozenset(values) if values else frozenset({"active", "deprecated"})


def _cursor(query: Mapping[str, Sequence[str]], name: str) -> ModelInfo | None:
    """A cursor names a catalog model (any lifecycle); an unknown one is a 400 [UNV wording]."""
    values = query.get(name, ())
    if not values:
        return None
    info = _BY_ID.get(values[-1])
    if info is None:
        raise _bad(f"{name}: no model with id {values[-1]!r}")
    return info
