"""Request body bytes → JSON value, refusing what upstream's parser refuses (docs/wire-notes.md).

Four refusals beyond plain syntax errors, each a 400 `invalid_request_error` instead of a crash
further down: bytes that are not UTF-8, a `\\uXXXX` escape that leaves a lone surrogate (Python's
parser accepts it, but no string holding one can be encoded again), `NaN` and `Infinity` (Python's
parser accepts them, JSON has no such values, and a client could otherwise tell mockbay from
upstream), and nesting deeper than `MAX_DEPTH`, which every later recursive walk (fingerprint,
journal copy) could not survive; an integer longer than Python converts (4,300 digits) is a parse
error too, not a crash.
Stdlib only; imports `errors`.
"""

from __future__ import annotations

import json
import re
import sys
from typing import Any

from mockbay.errors import ApiError

MAX_DEPTH = 128  # containers inside containers; tool schemas nest a few dozen levels at most
VALUE_BYTES = 64
PARSE_ERROR = "There was an error parsing the body"
NOT_JSON = "The request body is not valid JSON"
_SEPARATORS = b",:[{"  # each starts or adds a value: what parsed_size charges for

_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)", re.DOTALL)


class _NotJson(ValueError):
    """A constant Python's parser reads and JSON has not."""


def _refuse_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value")


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)  # built once: as fast as json.loads


def parse_body(raw: bytes) -> Any:
    """The parsed body, or the 400 upstream gives for it."""
    try:
        text = raw.decode("utf-8")
        value = _DECODER.decode(text)
    except UnicodeDecodeError as exc:
        raise _bad(f"{PARSE_ERROR}: invalid UTF-8 at byte {exc.start}") from None
    except (json.JSONDecodeError, _NotJson) as exc:
        raise _bad(f"{PARSE_ERROR}: {exc}") from None
    except ValueError:  # the one other the parser raises: an integer past Python's digit limit
        raise _bad(f"{PARSE_ERROR}: an integer of more than {sys.get_int_max_str_digits()} digits") from None
    except RecursionError:
        raise _bad(f"{PARSE_ERROR}: nesting deeper than {MAX_DEPTH} levels") from None
    if _SURROGATE_ESCAPE.search(text):
        _refuse_lone_surrogates(text)
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and _too_deep(value):
        raise _bad(f"{PARSE_ERROR}: nesting deeper than {MAX_DEPTH} levels")
    return value


def parsed_size(raw: bytes) -> int:
    """An upper estimate of the memory `parse_body(raw)` holds, for caps by bytes: the text, plus
    about 64 bytes per value (a float, a small str, a list slot, a dict entry), counted from the
    separators in C, in one pass (what deleting them removes), without parsing."""
    separators = len(raw) - len(raw.translate(None, _SEPARATORS))
    return len(raw) + VALUE_BYTES * separators


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request_error", message)


def _refuse_lone_surrogates(text: str) -> None:
    """Upstream's wording for a high surrogate with no low one after it (docs/wire-notes.md)."""
    pending: re.Match[str] | None = None  # a high surrogate escape waiting for its low half
    for match in _ESCAPE.finditer(text):
        escape = match.group(1)
        code = int(escape[1:], 16) if len(escape) == 5 else -1
        if pending is not None:
            if 0xDC00 <= code <= 0xDFFF and match.start() == pending.end():
                pending = None
                continue
            _surrogate_error(text, pending, "no low surrogate in string")
        if 0xD800 <= code <= 0xDBFF:
            pending = match
        elif 0xDC00 <= code <= 0xDFFF:
            _surrogate_error(text, match, "lone low surrogate in string")
    if pending is not None:
        _surrogate_error(text, pending, "no low surrogate in string")


def _surrogate_error(text: str, match: re.Match[str], reason: str) -> None:
    position = match.start()
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    raise _bad(f"{NOT_JSON}: {reason}: line {line} column {column} (char {position})")


def _too_deep(value: Any) -> bool:
    """Whether containers nest past `MAX_DEPTH`, found without recursion."""
    if not isinstance(value, dict | list):
        return False
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node
        for child in children:
            if isinstance(child, dict | list):
                if depth >= MAX_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False
