"""Which header names and JSON keys carry a credential: one definition for the journal's masking
and the recorder's scrubbing. Stdlib only; imports `mockbay.lru`.

The answer for a name of at most `MEMO_KEY_CHARS` characters is memoised (1,024 of them): clients
choose header names and recorded bodies choose keys, so a longer one is tested afresh and the
memo keeps at most 1,024 x 256 characters, whatever they send."""

from __future__ import annotations

import re
from functools import lru_cache

from mockbay.lru import MEMO_KEY_CHARS

SECRET_HEADERS = frozenset(
    {
        "x-api-key",
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "anthropic-admin-api-key",
        "x-admin-api-key",
    }
)

# Header names and JSON keys that name a secret; `_` and `-` both occur in the wild. Rate-limit
# headers (`anthropic-ratelimit-tokens-limit`) must not match, so bare "token" is not enough.
_SECRET_NAME = re.compile(
    r"api[-_]?key|secret|passw(?:or)?d|credential|private[-_]?key"
    r"|(?:auth|access|session|security|refresh|id|admin|bearer)[-_]?token|admin[-_]?(?:api[-_]?)?key",
    re.IGNORECASE,
)


def names_a_secret(name: str) -> bool:
    """Whether a header name or JSON key says its value is a credential (memoised for short names:
    every request's journal entry asks it of each header name, and a handful of names recur)."""
    return _known_secret(name) if len(name) <= MEMO_KEY_CHARS else _says_secret(name)


def _says_secret(name: str) -> bool:
    return name.lower() in SECRET_HEADERS or _SECRET_NAME.search(name) is not None


_known_secret = lru_cache(maxsize=1024)(_says_secret)
