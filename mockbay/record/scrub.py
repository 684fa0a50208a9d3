"""Credential scrubbing: no key may reach a recording or a log line.

Three nets, each for one place a credential hides:
- header names (`x-api-key`, `authorization`, cookies, `*-api-key`, `*-secret`, ...): the value goes;
- known key shapes anywhere inside a string (`sk-ant-...`, `sk-`/`key-` tokens, `Bearer ...`, AWS,
  GitHub, Slack, Google keys, JWTs, `password=...`): the matched span goes;
- a whole JSON string value that is one long random-looking token (letters of both cases and
  digits, mostly not words): the value goes. Free text is not tested this way, so prose that
  quotes a hash or an id survives.
Values under opaque keys (thinking signatures, redacted thinking, `id` and every `*_id` such as a
container upload's `file_id`, `encrypted_*`, a refusal's `fallback_credit_token`) are Anthropic's
own blobs and ids that later requests echo back, so only the key shapes are looked for in them.
Users add header names and regexes; a regex with a `secret` group replaces only that group.
Standard library only; pure functions of their arguments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mockbay.errors import MockbayError
from mockbay.secrets import names_a_secret

MARKER = "<scrubbed>"

# Key shapes found anywhere in a string. A `secret` group, when present, is the part replaced.
_KEY_SHAPES = tuple(
    re.compile(p)
    for p in (
        r"\bsk-ant-[A-Za-z0-9_-]{8,}",  # Anthropic API, admin and OAuth keys
        r"\b(?:sk|key)-(?=[A-Za-z_-]*\d)[A-Za-z0-9_-]{16,}",  # generic sk- / key- secrets with a digit
        r"\bsk_(?:live|test)_[A-Za-z0-9]{16,}",  # Stripe
        r"\bBearer\s+(?=[A-Za-z._~+/=-]*\d)[A-Za-z0-9._~+/=-]{8,}",  # a token, not prose
        r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",  # AWS access key ids
        r"\bgh[pousr]_[A-Za-z0-9]{30,}",  # GitHub
        r"\bxox[abprs]-[A-Za-z0-9-]{10,}",  # Slack
        r"\bAIza[0-9A-Za-z_-]{35}",  # Google
        r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",  # JWT
        r"(?i)\b(?:api[_-]?key|secret|password|passwd|token|access[_-]?key)\b[\"']?\s*[:=]\s*[\"']?"
        r"(?P<secret>[^\s\"',;]{6,})",  # key = value assignments
    )
)

# A whole value is a random token when it is long, made of token characters, mixes upper case,
# lower case and digits (so hex digests and UUIDs are not), and is mostly not words: identifiers
# and paths (`getWeatherForCity2`, `/Users/Al/App2/Main.tsx`) are 70%+ word-like runs, random
# base62/base64 text is about 30%. Measured over random keys: 1 in 150 of 32 characters and 1 in
# 400 of 40 slip through (most for lacking a digit or a case); key shapes above catch the rest.
_TOKEN = re.compile(r"[A-Za-z0-9+/=_.-]{24,}")
_WORDLIKE = re.compile(r"[a-z]{3,}|[A-Z][a-z]{2,}")
_MAX_WORDLIKE = 0.7

# Anthropic's own opaque values: thinking blobs, ids (JSON keys and the `request-id` header) and a
# refusal's fallback credit, which the SDK's retry sends back (a scrubbed one would not replay);
# besides these, every key ending in `_id` (`tool_use_id`, `file_id`, a caller's `tool_id`, ...).
OPAQUE_KEYS = frozenset(
    {"signature", "redacted_thinking", "data", "id", "request-id", "fallback_credit_token"}
)
_OPAQUE_SUFFIX = "_id"


def looks_random(value: str) -> bool:
    """True for a long token that reads like a random key rather than an identifier or a path."""
    if _TOKEN.fullmatch(value) is None:
        return False
    if not (any(c.isupper() for c in value) and any(c.islower() for c in value)):
        return False
    if not any(c.isdigit() for c in value):
        return False
    wordlike = sum(len(m) for m in _WORDLIKE.findall(value))
    return wordlike < _MAX_WORDLIKE * len(value)


def _replace(pattern: re.Pattern[str], text: str) -> str:
    if "secret" not in pattern.groupindex:
        return pattern.sub(MARKER, text)

    def one(match: re.Match[str]) -> str:
        whole, start = match.group(0), match.start()
        return whole[: match.start("secret") - start] + MARKER + whole[match.end("secret") - start :]

    return pattern.sub(one, text)


@dataclass(frozen=True, slots=True)
class Scrubber:
    """The built-in rules plus the user's extra header names and patterns."""

    extra_headers: frozenset[str] = frozenset()
    extra_patterns: tuple[re.Pattern[str], ...] = ()

    @classmethod
    def build(cls, headers: Iterable[str] = (), patterns: Iterable[str] = ()) -> Scrubber:
        """From `--scrub-header` / `--scrub-pattern` values; a bad regex is the user's mistake."""
        compiled = []
        for pattern in patterns:
            try:
                compiled.append(re.compile(pattern))
            except re.error as exc:
                raise MockbayError(f"--scrub-pattern {pattern!r}: {exc}") from None
        return cls(frozenset(h.lower() for h in headers), tuple(compiled))

    def is_secret_name(self, name: str) -> bool:
        return names_a_secret(name) or name.lower() in self.extra_headers

    def text(self, value: str) -> str:
        """`value` with every span shaped like a key replaced by the marker."""
        for pattern in (*_KEY_SHAPES, *self.extra_patterns):
            value = _replace(pattern, value)
        return value

    def value(self, value: str) -> str:
        """A string that is a value of its own: key shapes, and the whole of it if it looks random."""
        return MARKER if looks_random(value.strip()) else self.text(value)

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Lower-cased names; secret headers keep their name and lose their value."""
        return {
            name.lower(): MARKER if self.is_secret_name(name) else self._field(name.lower(), value)
            for name, value in headers.items()
        }

    def json(self, data: Any, *, key: str | None = None) -> Any:
        """A copy of a JSON value with secrets replaced; `key` is the name the value sits under."""
        if isinstance(data, dict):
            return {self.text(k): self.json(v, key=k) for k, v in data.items()}
        if isinstance(data, list):
            return [self.json(v, key=key) for v in data]
        if not isinstance(data, str):
            return data
        if key is not None and self.is_secret_name(key):
            return MARKER
        return self._field(key, data)

    def _field(self, key: str | None, value: str) -> str:
        opaque = key is not None and (
            key in OPAQUE_KEYS or key.startswith("encrypted_") or key.endswith(_OPAQUE_SUFFIX)
        )
        return self.text(value) if opaque else self.value(value)
