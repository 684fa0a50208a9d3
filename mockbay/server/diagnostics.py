"""Cache diagnostics (the `cache-diagnosis-2026-04-07` beta): `diagnostics.cache_miss_reason`.

A request that sends `diagnostics` (with `previous_message_id: null` on a first turn) opts in:
its fingerprint (`usage.diagnosis`) is kept under its reply's id in the state store, capped by
`--diagnostics-max` and `--diagnostics-max-mb`. One that names a `previous_message_id` gets the
reason its prompt's cache prefix diverged from that request's, in the JSON reply and in
`message_start`, unless its reply scripts `diagnostics` (which wins); nothing diverged, no
diagnostics. The same request after the same history gets the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping

from mockbay.render.content import RenderedMessage
from mockbay.store import StateStore
from mockbay.usage.diagnosis import Fingerprint, Prompt, diagnose
from mockbay.wire.request import MessagesRequest

DIAGNOSTICS = "diagnostics"


def asked(parsed: MessagesRequest) -> bool:
    """Whether the request opts in to cache diagnostics. Every request is asked, and most send no
    `diagnostics`: that costs one lookup."""
    value = parsed.body.get(DIAGNOSTICS)
    return value is not None and isinstance(value, Mapping)


async def attach(store: StateStore, parsed: MessagesRequest, message: RenderedMessage) -> None:
    """Diagnose a request that `asked` against the one it names, into `message`, then keep its
    fingerprint under the message's id (after the lookup: a repeated request may get the same id).
    Its callers ask first: most requests do not opt in, and skip the coroutine."""
    prompt = Prompt.of(parsed.body, parsed.model)
    previous_id = parsed.body[DIAGNOSTICS].get("previous_message_id")
    if isinstance(previous_id, str) and message.diagnostics is None:
        held = await store.fingerprint_get(previous_id)
        reason = diagnose(None if held is None else Fingerprint.loads(held), prompt)
        if reason is not None:
            message.diagnostics = {"cache_miss_reason": reason}
    await store.fingerprint_put(message.id, prompt.fingerprint.dumps())
