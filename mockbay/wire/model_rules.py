"""Per-model request rules of strict validation: prefill, thinking modes, deprecated sampling.

Each rule names the catalog models it applies to and upstream's text (docs/wire.md §3.3;
docs/wire-notes.md lists mockbay's wording where upstream's is not published). A model outside
the catalog meets none of them: a guessed rule must never refuse what the real API accepts.
Stdlib only; imports `wire.models`, `wire.conversation`, `wire.context_management` and
`wire.fieldtypes`.
"""

from __future__ import annotations

import re
from typing import Any

from mockbay.wire.context_management import CLEAR_THINKING
from mockbay.wire.conversation import continued_turn
from mockbay.wire.fieldtypes import bad
from mockbay.wire.models import ALWAYS_THINKING, CATALOG, NO_ADAPTIVE, NO_MANUAL_THINKING, find_model

_FIVE = frozenset(m.id for m in CATALOG if re.fullmatch(r"claude-[a-z]+-5(-\d)?", m.id))
# Released after Claude Opus 4.6: manual thinking budgets and sampling knobs are gone.
AFTER_OPUS_46 = frozenset({"claude-opus-4-7", "claude-opus-4-8"}) | _FIVE
NO_PREFILL = AFTER_OPUS_46 | {"claude-opus-4-6", "claude-sonnet-4-6", "claude-mythos-preview"}
MIN_TOP_P = 0.99

PREFILL = (
    "This model does not support assistant message prefill. The conversation must end with a user message."
)
MANUAL_THINKING = (
    '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and '
    '"output_config.effort" to control thinking behavior.'
)
ADAPTIVE = "adaptive thinking is not supported on this model"
CLEAR_THINKING_OFF = f"`{CLEAR_THINKING}` strategy requires `thinking` to be enabled or adaptive"
# The thinking types that upstream's thinking rules (budget, sampling, prefill) apply to.
THINKING_ON = ("enabled", "adaptive")
# Thinking types that think: `between_tools` too, so the clear-thinking edit passes beside it (a guess).
THINKS = (*THINKING_ON, "between_tools")
DISABLED = (
    '"thinking.type.disabled" is not supported for this model. Thinking defaults to adaptive mode when '
    'not specified; use "thinking.type.enabled" with "budget_tokens" for extended thinking.'
)


def check_model_rules(body: dict[str, Any], *, counting: bool) -> None:
    """Refuse what the model named in `body` does not take; `counting` skips the prefill rule, and so
    does a refusal's `fallback_credit_token`, which authorises the refused reply's partial text as a
    prefill on a model that takes none otherwise (docs/wire-notes.md)."""
    info = find_model(body["model"])
    if info is None:
        return
    model = info.id
    last = body["messages"][-1]
    if (
        not counting
        and model in NO_PREFILL
        and last["role"] == "assistant"
        and not continued_turn(last)
        and body.get("fallback_credit_token") is None
    ):
        raise bad(PREFILL)
    kind = (body.get("thinking") or {}).get("type")
    if kind == "enabled" and model in NO_MANUAL_THINKING:
        raise bad(MANUAL_THINKING)
    if kind == "adaptive" and model in NO_ADAPTIVE:
        raise bad(ADAPTIVE)
    if kind == "disabled" and model in ALWAYS_THINKING:
        raise bad(DISABLED)
    thinking_on = kind in THINKS or (kind is None and model in ALWAYS_THINKING)
    if not thinking_on and _clears_thinking(body):
        raise bad(CLEAR_THINKING_OFF)
    if model in AFTER_OPUS_46:
        _check_sampling(body)


def _clears_thinking(body: dict[str, Any]) -> bool:
    """Whether `context_management` asks to clear thinking blocks (the schema checked its shape)."""
    edits = (body.get("context_management") or {}).get("edits") or ()
    return any(edit.get("type") == CLEAR_THINKING for edit in edits)


def _check_sampling(body: dict[str, Any]) -> None:
    """`temperature` other than 1, any `top_k`, `top_p` under 0.99 (null counts as absent)."""
    if body.get("temperature") not in (None, 1):
        raise bad("`temperature` is deprecated for this model.")
    if body.get("top_k") is not None:
        raise bad("`top_k` is deprecated for this model.")
    if body.get("top_p") is not None and body["top_p"] < MIN_TOP_P:
        raise bad(f"`top_p` is deprecated for this model; only values of at least {MIN_TOP_P} are accepted.")
