"""Thinking signatures mockbay makes: told apart from anyone else's by their framing, and bound
to the text they are sent with, so a thinking block that comes back edited is refused as upstream
refuses it (`wire.conversation`; docs/wire-notes.md, "Thinking signatures").

mockbay's are 131 bytes, base64 `EqQB...`: the 3 bytes whose protobuf length field says 164
follow, then 128 (three digests of the seed and the request, and a check of the text). No
well-formed signature has that framing, so one from upstream or a scenario is never judged. The
check is of the text alone, not the seed, so a conversation recorded from one mockbay replays on
another. Stdlib only.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

SIGNATURE_HEAD = b"\x12\xa4\x01"
SIGNATURE_CHARS = 176  # base64 of the head and four 32-byte digests
CHECK_BYTES = 32


def text_check(thinking: str) -> bytes:
    """The last 32 bytes of a mockbay signature sent with `thinking`."""
    return hashlib.sha256(("thinking-check\x1f" + thinking).encode("utf-8", "surrogatepass")).digest()


def rebound_signature(signature: str, thinking: str) -> str:
    """A mockbay signature made for other text (a block cut short, a scenario's edited text, an
    omitted display): the same blob checking `thinking`; any other signature as it is."""
    raw = _own(signature)
    return signature if raw is None else base64.b64encode(raw[:-CHECK_BYTES] + text_check(thinking)).decode()


def edited_thinking(signature: object, thinking: object) -> bool:
    """Whether a thinking block's `signature` is mockbay's, made for other text than `thinking`."""
    if not isinstance(signature, str) or not isinstance(thinking, str):
        return False
    raw = _own(signature)
    return raw is not None and raw[-CHECK_BYTES:] != text_check(thinking)


def _own(signature: str) -> bytes | None:
    """The bytes of a signature mockbay made, or None."""
    if len(signature) != SIGNATURE_CHARS or not signature.startswith("EqQB"):
        return None
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return None
    return (
        raw if len(raw) == len(SIGNATURE_HEAD) + 4 * CHECK_BYTES and raw.startswith(SIGNATURE_HEAD) else None
    )
