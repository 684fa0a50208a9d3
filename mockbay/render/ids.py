"""Deterministic identifiers: message and tool ids, thinking signatures, request ids.

Message and tool ids and signatures come from the seed and the request without its `stream`
flag (the fingerprint), so a stream assembles into exactly the JSON reply. Request ids come
from the seed and the exchange's sequence number, so each exchange has its own (docs/wire.md §4.2).
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

from mockbay.wire.signatures import SIGNATURE_HEAD, text_check

_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BYTE_TO_BASE58 = bytes(ord(_BASE58[byte % 58]) for byte in range(256))  # one table lookup per byte


def _digest(*parts: object) -> bytes:
    return hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()


def _base58(data: bytes, length: int) -> str:
    """One base58 character per digest byte: ids need to look right and be stable, not be exact base58."""
    return data[:length].translate(_BYTE_TO_BASE58).decode()


def message_id(seed: int, fingerprint: str) -> str:
    """`msg_01` + 22 base58 characters: 24 after the prefix, like upstream's."""
    return "msg_01" + _base58(_digest(seed, "msg", fingerprint), 22)


def tool_use_id(seed: int, fingerprint: str, index: int, prefix: str = "toolu") -> str:
    """`toolu_01…`, or `srvtoolu_01…` / `mcptoolu_01…` for server and MCP tool calls."""
    return f"{prefix}_01" + _base58(_digest(seed, prefix, fingerprint, index), 22)


def container_id(seed: int, fingerprint: str) -> str:
    return "container_011C" + _base58(_digest(seed, "container", fingerprint), 20)


def opaque(seed: int, fingerprint: str, *parts: object) -> str:
    """A base64 blob standing for upstream's `encrypted_*` values, bound to what it stands for."""
    body = b"".join(_digest(seed, "enc", fingerprint, *parts, n) for n in range(3))
    return base64.b64encode(b"\x12\x0c" + body).decode()


def _numbered(seed: int, kind: str, sequence: int | str, worker: int) -> bytes:
    """The digest of an exchange's number; `--workers` processes past the first mix in their index,
    since each counts from 1 (with `--state` the number is shared and already unique). Equal to
    `_digest(seed, kind, [worker,] sequence)`: only the number is hashed per call."""
    hasher = _numbered_prefix(seed, kind, worker).copy()
    hasher.update(str(sequence).encode())
    return hasher.digest()


@lru_cache(maxsize=64)
def _numbered_prefix(seed: int, kind: str, worker: int) -> hashlib._Hash:
    """The hash state after `seed, kind[, worker]` and the separator, copied for each number."""
    parts: tuple[object, ...] = (seed, kind) if worker == 0 else (seed, kind, worker)
    return hashlib.sha256(("\x1f".join(str(p) for p in parts) + "\x1f").encode())


def request_id(seed: int, sequence: int | str, worker: int = 0) -> str:
    """`req_011C` + 20 base58 characters, unique per exchange of one server and per `--workers`
    process (a `str` sequence numbers answers outside the journal)."""
    return "req_011C" + _base58(_numbered(seed, "req", sequence, worker), 20)


def batch_id(seed: int, sequence: int, worker: int = 0) -> str:
    """`msgbatch_01` + 22 base58 characters (docs/wire.md §4.2), from the create's exchange."""
    return "msgbatch_01" + _base58(_numbered(seed, "msgbatch", sequence, worker), 22)


def file_id(seed: int, sequence: int, worker: int = 0) -> str:
    """`file_011C` + 20 base58 characters, like upstream's, from the upload's exchange."""
    return "file_011C" + _base58(_numbered(seed, "file", sequence, worker), 20)


def skill_id(seed: int, sequence: int, worker: int = 0) -> str:
    """`skill_01` + 22 base58 characters, from the create's exchange (mockbay's form)."""
    return "skill_01" + _base58(_numbered(seed, "skill", sequence, worker), 22)


def skill_version_id(seed: int, sequence: int, worker: int = 0) -> str:
    """`skillver_01` + 22 base58 characters, from the upload's exchange (mockbay's form)."""
    return "skillver_01" + _base58(_numbered(seed, "skillver", sequence, worker), 22)


def fallback_credit_token(seed: int, fingerprint: str) -> str:
    """`fct_01` + 40 base58 characters standing for upstream's opaque refusal credit (its format is
    not published: docs/wire-notes.md), bound to the refused request."""
    return (
        "fct_01"
        + _base58(_digest(seed, "fallback-credit", fingerprint), 32)
        + _base58(_digest(seed, "fallback-credit", fingerprint, 1), 8)
    )


def thinking_signature(seed: int, fingerprint: str, index: int, thinking: str, sent: str) -> str:
    """An opaque base64 blob shaped like upstream's (it opens with `EqQB`), bound to the text: its
    last 32 bytes check the text it is `sent` with (`wire.signatures`: "" under an omitted display)."""
    body = b"".join(_digest(seed, "sig", fingerprint, index, thinking, n) for n in range(3))
    return base64.b64encode(SIGNATURE_HEAD + body + text_check(sent)).decode()
