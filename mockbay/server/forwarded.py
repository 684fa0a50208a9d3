"""RFC 7239's `Forwarded` header, read as a gateway in front of mockbay writes it.

`Forwarded: for=192.0.2.60;proto=https;host="gw.example:8443", for=10.0.0.7;proto=http` is a list
of elements (one per proxy, the client's side first; repeated header lines join into one list),
each a `;`-separated list of `name=value` pairs, a value a token or a quoted string. Only the
first element is wanted here (`paths.public_base`). Nothing is refused: a pair that cannot be read,
or a name given twice in the element, is left out, and the caller falls back to what it knows.

Not aiohttp's `request.forwarded`: it reads `host=gw.example:99999` as `gw.example:9999` (a port
of at most four digits, the rest skipped), a URL naming a port nobody asked for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", re.ASCII)  # an RFC 9110 token
# a token, or the `host:port` and `[v6]:port` many proxies send unquoted although RFC 7239 quotes them
_BARE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z:\[\]-]+", re.ASCII)
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_ESCAPED = re.compile(r"\\(.)", re.DOTALL)


def first_element(lines: Iterable[str]) -> dict[str, str]:
    """The pairs of the first element of these `Forwarded` lines, names lower-cased, values
    unquoted; {} when there is none or none of its pairs can be read."""
    element = _split(",".join(lines), ",")[0]
    pairs: dict[str, str] = {}
    repeated: set[str] = set()
    for pair in _split(element, ";"):
        name, equals, raw = (part.strip() for part in pair.partition("="))
        value = _value(raw) if equals and _NAME.fullmatch(name) else None
        if value is None:
            continue
        name = name.lower()
        if name in pairs:
            repeated.add(name)  # which one the proxy meant is not known: neither is used
        pairs[name] = value
    return {name: value for name, value in pairs.items() if name not in repeated}


def _value(raw: str) -> str | None:
    quoted = _QUOTED.fullmatch(raw)
    if quoted is not None:
        return _ESCAPED.sub(r"\1", quoted.group(1))
    return raw if _BARE.fullmatch(raw) else None


def _split(text: str, separator: str) -> list[str]:
    """`text` cut at each `separator` outside a quoted string (where a backslash escapes the next
    character); an unclosed quote runs to the end."""
    parts: list[str] = []
    start, quoted, escaped = 0, False, False
    for at, char in enumerate(text):
        if escaped:
            escaped = False
        elif quoted and char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char == separator and not quoted:
            parts.append(text[start:at])
            start = at + 1
    parts.append(text[start:])
    return parts
