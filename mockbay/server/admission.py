"""The step after the decision: what the prompt costs, and whether rate limits let it through.

The prompt is the context as upstream's edits leave it (`mockbay.context_edits`). With
`cache: simulate` it splits into fresh, read and written tokens (the simulated
prompt cache); otherwise it is all fresh, by the estimate. Rate limits (a scenario's `limits:` or
`--rate-limits`) charge the prompt on admission and the output once the reply is rendered
(`settle`); their `anthropic-ratelimit-*` headers go on the answer. A scripted error reply is
admitted like any other request (its limit headers included) and then raised. A prompt over the
model's context window is refused before the limits charge it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mockbay.errors import ApiError
from mockbay.scenario.model import Limits, Scenario
from mockbay.server.decision import Decision
from mockbay.state import ServerState
from mockbay.usage.cache import CacheOutcome, CachePlan
from mockbay.usage.estimate import estimate_input_tokens
from mockbay.wire.errors import pair_for
from mockbay.wire.request import MessagesRequest


@dataclass(frozen=True, slots=True, eq=False)
class Admission:
    """A request let through: its prompt's token split, the limit headers, the bucket it charged."""

    prompt: CacheOutcome
    cache_mode: str
    limit_headers: dict[str, str]
    limits: Limits | None = None
    bucket: str = ""

    @property
    def limited(self) -> bool:
        return self.limits is not None

    @property
    def whole_prompt(self) -> int:
        """Every prompt token, however the cache split them (the estimate's figure)."""
        prompt = self.prompt
        return prompt.input_tokens + prompt.cache_read_input_tokens + prompt.cache_creation_input_tokens


async def admit(
    state: ServerState, parsed: MessagesRequest, decision: Decision, caller: str, headers: dict[str, str]
) -> Admission:
    """Plan the prompt cache and charge the rate limits; a scripted error reply raises here, with
    `headers` (the answer's so far) and its limit headers."""
    scenario = decision.scenario
    limits = (scenario.limits if scenario is not None else None) or state.config.rate_limits
    bucket = f"{caller}\x1f{scenario.name if scenario and scenario.limits else '*'}"
    reply = decision.reply
    if reply.error is not None:
        limit_headers = {}
        if limits is not None:
            limit_headers = await state.store.admit(
                bucket, limits, estimate_input_tokens(prompt_body(parsed, decision))
            )
        status, error_type = pair_for(reply.error.status, reply.error.type)
        raise ApiError(
            status,
            error_type,
            reply.error.message,
            {**headers, **limit_headers, **dict(reply.headers)},
            reply.error.error_code,
            reply.error.raw,
        )
    mode = cache_mode(state, scenario)
    cache_plan = await _cache_plan(state, parsed, prompt_body(parsed, decision), mode)
    prompt = cache_plan.outcome
    _refuse_overlong(parsed, prompt)
    limit_headers = {}
    if limits is not None:
        charged = prompt.input_tokens + prompt.ephemeral_5m_input_tokens + prompt.ephemeral_1h_input_tokens
        limit_headers = await state.store.admit(bucket, limits, charged)
    if cache_plan.refresh or cache_plan.writes:  # only once admitted: a refused request writes nothing
        await state.store.cache_commit(cache_plan)
    return Admission(prompt, mode, limit_headers, limits, bucket)


def _refuse_overlong(parsed: MessagesRequest, prompt: CacheOutcome) -> None:
    """A prompt that alone is over the context window is upstream's 400 (docs/wire.md §3.3), before
    anything is charged; one that fits but leaves less than `max_tokens` is answered, and stops
    with `model_context_window_exceeded` where the window ends."""
    window = parsed.context_window
    tokens = prompt.input_tokens + prompt.cache_read_input_tokens + prompt.cache_creation_input_tokens
    if window is not None and tokens > window:
        raise ApiError(
            400, "invalid_request_error", f"prompt is too long: {tokens} tokens > {window} maximum"
        )


async def settle(state: ServerState, admission: Admission, output_tokens: int) -> None:
    """Charge the rendered reply's output tokens to the bucket that admitted its prompt."""
    if admission.limits is not None:
        await state.store.settle(admission.bucket, admission.limits, output_tokens)


def cache_mode(state: ServerState, scenario: Scenario | None) -> str:
    return (scenario.cache if scenario is not None else None) or state.config.cache


def prompt_body(parsed: MessagesRequest, decision: Decision) -> Mapping[str, Any]:
    """What the model reads: the body as upstream's context edits leave it (a compaction
    request's, as sent)."""
    return decision.context.prompt if decision.context is not None else parsed.body


async def _cache_plan(
    state: ServerState, parsed: MessagesRequest, prompt: Mapping[str, Any], mode: str
) -> CachePlan:
    """With `cache: simulate`, how the prompt splits into fresh, read and written tokens; else all fresh."""
    if mode != "simulate":
        return CachePlan(outcome=CacheOutcome(input_tokens=estimate_input_tokens(prompt)))
    scope = f"session:{parsed.session}" if parsed.session else "global"
    return await state.store.cache_plan(scope, prompt, parsed.model)
