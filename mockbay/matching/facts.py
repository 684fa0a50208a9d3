"""Shared lookups on a request and the phrasing of failures, used by every check.

`Facts` is the request a selection reads, with how strictly fingerprints hold; the phrasing
helpers render values and text matchers in scenario syntax, so a near miss reads like the file
the user wrote. Pure.
"""

from __future__ import annotations

from typing import Any

from mockbay.textmatch import Contains, Equals, TextMatcher
from mockbay.wire.request import MessagesRequest

QUOTE_LIMIT = 60
MISSING: Any = object()  # a body path that leads nowhere


class Facts:
    """A request as a selection reads it (its fingerprint is the request's own, hashed once for
    matching, ids and generated text alike)."""

    __slots__ = ("loose_fingerprints", "request")

    def __init__(self, request: MessagesRequest, *, loose_fingerprints: bool = False) -> None:
        self.request = request
        self.loose_fingerprints = loose_fingerprints  # replaying edited prompts: fingerprints hold

    @property
    def fingerprint(self) -> str:
        return self.request.fingerprint


def quote(text: str) -> str:
    """`repr` of text, shortened so one long prompt cannot swamp an error message."""
    if len(text) > QUOTE_LIMIT:
        text = text[: QUOTE_LIMIT - 1] + "…"
    return repr(text)


def wanted(matcher: TextMatcher) -> str:
    """What a matching text does, e.g. `contains 'weather'`."""
    if isinstance(matcher, Contains):
        return f"contains {matcher.value!r}"
    if isinstance(matcher, Equals):
        return f"is {matcher.value!r}"
    return f"matches {matcher.describe()}"


def mismatch(matcher: TextMatcher) -> str:
    """What a failing text does not do, e.g. `does not contain 'weather'`."""
    if isinstance(matcher, Contains):
        return f"does not contain {matcher.value!r}"
    if isinstance(matcher, Equals):
        return f"is not {matcher.value!r}"
    return f"does not match {matcher.describe()}"


def text_failure(label: str, text: str | None, matcher: TextMatcher) -> str | None:
    if matcher.matches(text):
        return None
    if text is None:
        return f"{label}: missing"
    return f"{label}: {quote(text)} {mismatch(matcher)}"


def yaml_scalar(value: Any) -> str:
    """A scalar as the user would write it in YAML (`true`, `null`, `0.5`, `'text'`)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    return quote(value) if isinstance(value, str) else repr(value)


def body_lookup(body: Any, path: str) -> Any:
    """The value at a dotted path (`tools.0.name`: numeric parts index lists), or `MISSING`."""
    value = body
    for part in path.split("."):
        if isinstance(value, dict):
            value = value.get(part, MISSING)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value


def same_value(a: Any, b: Any) -> bool:
    """YAML value equality, except that `true` is not `1` (Python's bool is an int)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same_value(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)
