"""Server-side fallbacks (beta `server-side-fallback-2026-07-01`): when the requested model
declines (its reply is a refusal), the request's `fallbacks` entries are tried in order, each as
the request that entry patches, until one does not decline.

The answer is one message (docs/wire-notes.md, "Server-side fallbacks"): each declining model's
output, a `fallback` block at each hand-over, then the next model's output; the stop reason,
details and headers of the attempt that answered last, labelled with its model's canonical id;
`usage.iterations` lists the attempts (`server.rendering`). A scenario answers each attempt as
it answers that request alone, so a `model:` condition tells them apart.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from mockbay.blocks.results import Fallback
from mockbay.render.content import RenderedMessage
from mockbay.scenario.model import Block, Reply
from mockbay.server.decision import Decision
from mockbay.wire.models import find_model
from mockbay.wire.request import MessagesRequest

FALLBACKS = "fallbacks"
REFUSAL = "refusal"
DECLINED, SERVED = "message", "fallback_message"  # the `type` of an attempt's iteration entry
PROMPT_COUNTS = ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens")

# One attempt: its body validated as a request to its model, then decided (and journaled).
Attempt = Callable[[dict[str, Any]], Awaitable[tuple[MessagesRequest, Decision]]]


def declined(reply: Reply) -> bool:
    """Whether a reply is a refusal (its stop details, or its stated stop reason, say so)."""
    return reply.stop_details is not None or reply.stop_reason == REFUSAL


def falls_back(body: dict[str, Any], decision: Decision) -> bool:
    """Whether the requested model declined and the request names fallbacks to try."""
    return declined(decision.reply) and bool(_entries(body))


async def fall_back(parsed: MessagesRequest, decision: Decision, attempt: Attempt) -> Decision:
    """The attempts' replies joined into one, decided and recorded as the last attempt's (see
    `falls_back`). A refusal of an attempt's request (by validation, or the strict fallback) is
    the whole request's."""
    content = list(decision.reply.content)
    models = [parsed.model]  # the requested model as the caller spelled it, then canonical ids
    served = decision
    for entry in _entries(parsed.body):
        request, answered = await attempt(attempt_body(parsed.body, entry))
        model = _canonical(request.model)
        content.append(_seam(models[-1], model, served.reply))
        served = answered
        content.extend(served.reply.content)
        models.append(model)
        if not declined(served.reply):
            break
    reply = replace(served.reply, content=tuple(content))  # labelled by its last hand-over
    return replace(served, reply=reply, attempts=tuple(models))


def iterations(
    models: tuple[str, ...], message: RenderedMessage, usage: dict[str, Any]
) -> list[dict[str, Any]]:
    """`usage.iterations`, one entry per attempt: the output tokens of the blocks it produced
    (those up to its hand-over), and the prompt's counts, which every attempt read. The last is
    `fallback_message` when a fallback model served the reply; an attempt that declined is a
    `message` entry, as is the last when it declined too."""
    outputs = [0]
    for block in message.blocks:
        if block.model_after() is not None:  # a hand-over, as `render.content` labels the message
            outputs.append(0)
        else:
            outputs[-1] += block.output_tokens()
    outputs += [0] * (len(models) - len(outputs))  # attempts whose output a max_tokens cut dropped
    served = message.stop_reason != REFUSAL
    prompt = {key: usage[key] for key in PROMPT_COUNTS}
    return [
        {
            "type": SERVED if served and index == len(models) - 1 else DECLINED,
            "model": model,
            "output_tokens": output,
            **prompt,
            "cache_creation": dict(usage["cache_creation"]),
        }
        for index, (model, output) in enumerate(zip(models, outputs, strict=False))
    ]


def attempt_body(body: dict[str, Any], entry: dict[str, Any]) -> dict[str, Any]:
    """The request as a `fallbacks` entry patches it, as the SDK documents the entry: a key given
    overrides, one given as null is left out, `output_config` is patched one level deep; the
    attempt carries no `fallbacks` of its own."""
    patched = {key: value for key, value in body.items() if key != FALLBACKS}
    for key, value in entry.items():
        if key == "output_config" and isinstance(value, dict):
            merged = {**(body.get("output_config") or {}), **value}
            value = {name: part for name, part in merged.items() if part is not None} or None
        if value is None:
            patched.pop(key, None)
        else:
            patched[key] = value
    return patched


def _entries(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The chain to try; `"default"` names upstream's own chain for the model, which mockbay does
    not know, so it runs the requested model alone, as upstream does for a model without one."""
    chain = body.get(FALLBACKS)
    return [entry for entry in chain if isinstance(entry, dict)] if isinstance(chain, list) else []


def _canonical(model: str) -> str:
    info = find_model(model)
    return info.id if info is not None else model


def _seam(declining: str, model: str, refused: Reply) -> Block:
    """The `fallback` block where `declining`'s output gives way to `model`'s."""
    category = (refused.stop_details or {}).get("category")
    fields = {
        "from": {"model": declining},
        "to": {"model": model},
        "trigger": {"type": REFUSAL, "category": category},
    }
    return Block(type=Fallback.TYPE, fields=tuple(fields.items()))
