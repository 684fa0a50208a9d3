"""Message-level fields that follow from the blocks: `container`, `usage.server_tool_use`, a
refusal's fallback credit, and the output budget that the model's context window leaves
(docs/scenario-contract.md §10, docs/wire-notes.md).

A code-execution result, or a request that names a container, brings a `container` (id and
expiry derived from the seed and the request, the request's own id and skills when it gives them)
unless the reply gives one; `server_tool_use` counts the reply's server tool calls by
name, completing what the reply gives; the budget is `max_tokens`, or what is left of the
model's context window after the estimated input when that is less, in which case running out
of it stops the reply with `model_context_window_exceeded`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from mockbay.blocks import BlockKind
from mockbay.blocks.results import Whole
from mockbay.blocks.text import Text
from mockbay.blocks.tools import ServerToolUse
from mockbay.render import ids
from mockbay.structured import output_schema
from mockbay.wire.request import FORCED_TOOL_CHOICES, MessagesRequest

# server tool name -> its counter in usage.server_tool_use (the SDK's ServerToolUsage)
SERVER_TOOL_COUNTERS = {"web_search": "web_search_requests", "web_fetch": "web_fetch_requests"}
_EXPIRY_BASE = datetime(2030, 1, 1, tzinfo=UTC)  # far ahead: a client never sees it as expired
_EXPIRY_SPREAD_MINUTES = 365 * 24 * 60


def container(
    given: Mapping[str, Any] | None,
    request: MessagesRequest,
    blocks: Sequence[BlockKind],
    seed: int,
    fingerprint: str,
) -> dict[str, Any] | None:
    """The reply's container: as given, or the one the request names (`container`), or one a
    code-execution result brings; its id and expiry completed, the request's id and skills first."""
    requested = requested_container(request)
    if (
        given is None
        and requested is None
        and not any(isinstance(b, Whole) and b.BRINGS_CONTAINER for b in blocks)
    ):
        return None
    minutes = int.from_bytes(hashlib.sha256(f"{seed}\x1f{fingerprint}".encode()).digest()[:4], "big")
    expires = _EXPIRY_BASE + timedelta(minutes=minutes % _EXPIRY_SPREAD_MINUTES)
    return {
        "id": ids.container_id(seed, fingerprint),
        "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **(requested or {}),
        **(given or {}),
    }


def requested_container(request: MessagesRequest) -> dict[str, Any] | None:
    """What the request's `container` (an id, or the SDK's `ContainerParams` `{id, skills}`) says
    the reply's container holds: its id, and the skills loaded in it as the SDK's `ContainerSkill`,
    whose `version` is "the resolved version" (`MessagesRequest.skill_versions`; as asked when
    not resolved)."""
    value = request.body.get("container")
    if value is None:  # most requests: a lookup, not a Mapping check
        return None
    if isinstance(value, str):
        return {"id": value}
    if not isinstance(value, Mapping):
        return None
    named: dict[str, Any] = {"id": value["id"]} if isinstance(value.get("id"), str) else {}
    if isinstance(value.get("skills"), list):
        named["skills"] = [
            {
                "skill_id": skill.skill_id,
                "type": skill.type,
                "version": request.skill_versions.get(skill, skill.version),
            }
            for skill in request.container_skills
        ]
    return named


def server_tool_use(given: Mapping[str, int] | None, blocks: Sequence[BlockKind]) -> dict[str, int] | None:
    """Counters of `usage.server_tool_use`: given ones win, the rest are counted from the blocks."""
    calls = [b.name for b in blocks if isinstance(b, ServerToolUse)]
    if given is None and not calls:
        return None
    counted = {counter: 0 for counter in SERVER_TOOL_COUNTERS.values()}
    for name in calls:
        if name in SERVER_TOOL_COUNTERS:
            counted[SERVER_TOOL_COUNTERS[name]] += 1
    return {**counted, **(given or {})}


def stop_details(
    given: Mapping[str, Any] | None,
    stop_reason: str,
    request: MessagesRequest,
    blocks: Sequence[BlockKind],
    seed: int,
    fingerprint: str,
) -> Mapping[str, Any] | None:
    """The reply's `stop_details`: for a refusal the whole wire object (`category` and
    `explanation` null unless given, as upstream writes them), and under the `fallback-credit-`
    beta with the credit upstream mints for the retry on a fallback model (the SDK's
    refusal-fallback middleware redeems it), unless the reply gives its own
    `fallback_credit_token`. The retry may append the partial text as a prefill
    (`fallback_has_prefill_claim`) when there is some, and the request neither asks for
    structured output nor forces a tool. Another stop reason's are as given."""
    if stop_reason != "refusal":
        return given
    details = {"type": "refusal", "category": None, "explanation": None, **(given or {})}
    if not request.fallback_credit or "fallback_credit_token" in details:
        return details
    partial = any(isinstance(b, Text) and b.text.strip() for b in blocks)
    claim = partial and output_schema(request.body) is None and request.tool_choice not in FORCED_TOOL_CHOICES
    return {
        **details,
        "fallback_credit_token": ids.fallback_credit_token(seed, fingerprint),
        "fallback_has_prefill_claim": claim,
    }


def output_budget(window: int | None, max_tokens: int, input_tokens: int) -> tuple[int, str]:
    """Tokens the reply may spend, and the stop reason when it runs out of them; `window` is the
    request's context window (None: not known, so only `max_tokens` limits it)."""
    left = window - input_tokens if window is not None else max_tokens
    if left < max_tokens:
        return max(left, 0), "model_context_window_exceeded"
    return max_tokens, "max_tokens"
