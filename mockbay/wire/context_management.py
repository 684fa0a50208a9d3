"""The edits of a request's `context_management` (beta `context-management-2025-06-27`, and
`compact-2026-01-12` for `compact_20260112`), read with their defaults.

Each edit's fields and the compaction trigger's default are the SDK's
(`types/beta/beta_clear_tool_uses_20250919_edit_param.py`, `beta_clear_thinking_20251015_edit_param.py`,
`beta_compact_20260112_edit_param.py`); the SDK gives no default for the clearing edits, so theirs
are Anthropic's context-editing guide's (docs/wire-notes.md, "Context management"). Strict
validation has checked the shapes; an edit or field of another shape (lenient validation) reads
as absent, so a malformed edit is ignored rather than answered with a 500. Stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CLEAR_TOOL_USES = "clear_tool_uses_20250919"
CLEAR_THINKING = "clear_thinking_20251015"
COMPACT = "compact_20260112"
INPUT_TOKENS, TOOL_USES, THINKING_TURNS, ALL = "input_tokens", "tool_uses", "thinking_turns", "all"

CLEAR_TOOL_USES_TRIGGER = 100_000  # input tokens (the guide's default)
CLEAR_TOOL_USES_KEEP = 3  # most recent tool uses kept (the guide's default)
THINKING_TURNS_KEPT = 1  # most recent assistant turns whose thinking is kept (the guide's default)
COMPACT_TRIGGER = 150_000  # input tokens ("Defaults to 150000 input tokens.", the SDK)


@dataclass(frozen=True, slots=True)
class ClearToolUses:
    """`clear_tool_uses_20250919`: once the trigger (`input_tokens` or `tool_uses`) is reached,
    clear the results of all but the `keep` most recent tool uses, not those of `exclude_tools`,
    and only when at least `clear_at_least` tokens go; `clear_inputs` also clears the uses'
    inputs: True for every tool, or the names listed."""

    trigger_kind: str = INPUT_TOKENS
    trigger: int = CLEAR_TOOL_USES_TRIGGER
    keep: int = CLEAR_TOOL_USES_KEEP
    clear_at_least: int = 0
    exclude_tools: frozenset[str] = frozenset()
    clear_inputs: bool | frozenset[str] = False


@dataclass(frozen=True, slots=True)
class ClearThinking:
    """`clear_thinking_20251015`: keep the thinking of the `keep` most recent assistant turns
    (None: all of them), clear the older ones. It has no trigger."""

    keep: int | None = THINKING_TURNS_KEPT


@dataclass(frozen=True, slots=True)
class Compact:
    """`compact_20260112`: once the input reaches `trigger` tokens, summarize the conversation
    into a `compaction` block; `pause` stops there (`stop_reason: compaction`)."""

    trigger: int = COMPACT_TRIGGER
    pause: bool = False


Edit = ClearToolUses | ClearThinking | Compact


def context_edits(body: Mapping[str, Any]) -> tuple[Edit, ...]:
    """The request's edits in the order given (each sees the context the ones before it left).
    Every request is read, and most send no `context_management`: that costs one lookup."""
    config = body.get("context_management")
    if config is None:
        return ()
    edits = config.get("edits") if isinstance(config, Mapping) else None
    if not isinstance(edits, list):
        return ()
    read = (_edit(edit) for edit in edits if isinstance(edit, Mapping))
    return tuple(edit for edit in read if edit is not None)


def clear_thinking(body: Mapping[str, Any]) -> ClearThinking | None:
    """The request's `clear_thinking_20251015` edit, if it has one."""
    edits = context_edits(body)
    if not edits:
        return None
    return next((edit for edit in edits if isinstance(edit, ClearThinking)), None)


def _edit(edit: Mapping[str, Any]) -> Edit | None:
    kind = edit.get("type")
    if kind == CLEAR_TOOL_USES:
        trigger = edit.get("trigger")
        trigger_kind = trigger.get("type") if isinstance(trigger, Mapping) else None
        names = edit.get("clear_tool_inputs")
        return ClearToolUses(
            trigger_kind=trigger_kind if trigger_kind in (INPUT_TOKENS, TOOL_USES) else INPUT_TOKENS,
            trigger=_value(trigger, CLEAR_TOOL_USES_TRIGGER),
            keep=_value(edit.get("keep"), CLEAR_TOOL_USES_KEEP),
            clear_at_least=_value(edit.get("clear_at_least"), 0),
            exclude_tools=_names(edit.get("exclude_tools")),
            clear_inputs=_names(names) if isinstance(names, list) else names is True,
        )
    if kind == CLEAR_THINKING:
        keep = edit.get("keep")
        everything = keep == ALL or (isinstance(keep, Mapping) and keep.get("type") == ALL)
        return ClearThinking(keep=None if everything else _value(keep, THINKING_TURNS_KEPT))
    if kind == COMPACT:
        return Compact(
            trigger=_value(edit.get("trigger"), COMPACT_TRIGGER),
            pause=edit.get("pause_after_compaction") is True,
        )
    return None


def _value(counter: Any, default: int) -> int:
    """A `{type, value}` counter's value (never below 0), or the default when absent or malformed."""
    value = counter.get("value") if isinstance(counter, Mapping) else None
    if isinstance(value, bool) or not isinstance(value, int):
        return default
    return max(0, value)


def _names(names: Any) -> frozenset[str]:
    return frozenset(n for n in names if isinstance(n, str)) if isinstance(names, list) else frozenset()
