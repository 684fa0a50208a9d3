"""Constraints a client moved from a JSON Schema node into its description, read back so the
generate fallback (fallback.py) keeps to them.

Structured outputs reject some keywords (`minLength`, `minimum`, `multipleOf`, `pattern`, ...),
so the SDKs take them out of the schema they send, write them into the node's `description`,
and check the reply against the full model themselves: a value that ignores them fails there
(`messages.parse` raises ValidationError). Two ways of writing them are read, as the last line of
the description:

- the SDKs' `transform_schema` (Python; `transformJSONSchema` in TypeScript): after a blank line,
  `{maxLength: 8, minimum: 0}`, each value as Python's `str` (TypeScript's `JSON.stringify`, so
  a pattern comes quoted);
- the Vercel AI SDK's `sanitizeJsonSchema`: after a line break, `max length: 8; minimum: 0.`,
  each keyword spelled in lower-case words.

Only keywords the fallback honours are read, and only where the node does not give them itself.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

HINTED = (
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
)
# Each keyword by its own name and by the AI SDK's words for it (`minLength` is "min length").
NAMES = {
    **{keyword: keyword for keyword in HINTED},
    **{re.sub("[A-Z]", lambda m: f" {m[0].lower()}", keyword): keyword for keyword in HINTED},
}
# (the last line of a description holding moved keywords, where one `name: value` ends)
STYLES = (
    (re.compile(r"(?:\A|\n\n)\{(?P<body>[^\n]*)\}\Z"), re.compile(r", (?=[A-Za-z_$][\w$]*: )")),
    (re.compile(r"(?:\A|\n)(?P<body>[a-z][a-z ]*: [^\n]*)\.\Z"), re.compile(r"; (?=[a-z][a-z ]*: )")),
)
MAX_DIGITS = 100  # of an integer bound read back: past this it bounds nothing a value could meet
NUMBER = re.compile(r"-?[0-9]+(?P<fraction>(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)")


def with_hints(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with the keywords its description holds that it does not."""
    description = schema.get("description")
    if not isinstance(description, str):
        return schema
    found: dict[str, Any] = {}
    for block, separator in STYLES:
        match = block.search(description)
        for part in separator.split(match["body"]) if match else ():
            name, _, text = part.partition(": ")
            keyword = NAMES.get(name)
            value = _value(keyword, text) if keyword else None
            if keyword and value is not None:
                found.setdefault(keyword, value)
    return {**found, **schema} if found else schema


def _value(keyword: str, text: str) -> Any:
    """A pattern as written (decoded where TypeScript quoted it), any other keyword's number."""
    if keyword == "pattern":
        return _quoted(text) or text
    number = NUMBER.fullmatch(text)
    if number is None:
        return None
    if not number["fraction"]:
        return int(text) if len(text) <= MAX_DIGITS else None  # no bound anyone means, nor one int() reads
    value = float(text)
    return value if math.isfinite(value) else None  # `1e999` overflows to inf, no bound at all


def _quoted(text: str) -> str | None:
    if not text.startswith('"'):
        return None
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, str) else None
