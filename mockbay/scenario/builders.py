"""Checked values -> model.py objects: one builder per `build` name of the schema.

Builders do the checks the spec language cannot say (min against max, a regex that compiles),
complete what was left out (an error's status or type) and make the key-to-field differences
schema.py documents; each block kind loads its own mapping (blocks/).
The scenario builder also records the mark of each scenario's name in `Walker.named`, for the
uniqueness check, and the reply builder each reply in `Walker.parts`, for the renderer's checks
(loading.py), which reach a well-formed reply even in a scenario that fails elsewhere.
Imports the model, text matchers, wire.errors and the walker; never yaml directly, never reads files.
"""

from __future__ import annotations

import base64
import json
import re
from typing import Any

from mockbay.blocks import KINDS
from mockbay.blocks.text import text_block
from mockbay.errors import RawBody
from mockbay.scenario.model import (
    BodyCondition,
    ChunkedText,
    Conditions,
    ErrorSpec,
    FakerText,
    Fault,
    JsonText,
    LiteralText,
    Reply,
    Scenario,
    Step,
    StepKind,
    Timing,
    TurnRange,
    UsageSpec,
)
from mockbay.scenario.nodes import Fields, frozen, show
from mockbay.scenario.walker import Builder, Walker
from mockbay.textmatch import AnyOf, Contains, Equals, Glob, Not, Regex, TextMatcher
from mockbay.wire.errors import default_message, pair_for


def _regex(w: Walker, f: Fields, path: str) -> Any:
    """A regex `re` warns about (`[[a]`: it may read it otherwise some day) is a problem of the
    file where warnings are errors (a test suite loading scenarios), not an exception of the loader."""
    try:
        return Regex(re.compile(f.values["regex"]))
    except (re.error, OverflowError, RecursionError, ValueError, FutureWarning) as exc:
        return w.fail(f.value_mark("regex"), f"invalid regex {f.values['regex']!r} in {show(path)}: {exc}")


def _error(w: Walker, f: Fields, path: str) -> Any:
    status, error_type = pair_for(f.get("status"), f.get("type"))
    body = f.get("body")
    return ErrorSpec(
        status=status,
        type=error_type,
        message=f.get("message") or default_message(status, error_type),
        error_code=f.get("error_code"),
        raw=None if body is None else RawBody(_bytes(body), f.get("content_type")),
    )


def _bytes(body: str | bytes) -> bytes:
    """An error body as sent: text UTF-8 encoded, or the bytes of its `{base64: ...}` form."""
    return body if isinstance(body, bytes) else body.encode("utf-8", "replace")


def _fault(w: Walker, f: Fields, path: str) -> Any:
    kind, error = f.values["kind"], f.get("error")
    if error is not None and error.raw is not None:
        why = "an error_event is an SSE event that carries the error envelope"
        return w.fail(f.value_mark("error"), f"'body' cannot be given in {show(path)}.error: {why}")
    if kind == "error_event" and error is None:
        status, error_type = pair_for(None, "overloaded_error")
        error = ErrorSpec(status=status, type=error_type, message=default_message(status, error_type))
    return Fault(kind=kind, after_events=f.get("after_events"), after_ms=f.get("after_ms"), error=error)


def _usage(w: Walker, f: Fields, path: str) -> Any:
    values: dict[str, Any] = {k: v.values if isinstance(v, Fields) else v for k, v in f.values.items()}
    values["omit"] = tuple(dict.fromkeys(values.get("omit", ())))
    for key in values["omit"]:
        if key in values:
            return w.fail(f.value_mark("omit"), f"'{key}' is both given and omitted in {show(path)}")
    breakdown = values.pop("cache_creation", None)
    return UsageSpec(**values, **(breakdown or {}))


def _reply(w: Walker, f: Fields, path: str) -> Any:
    values: dict[str, Any] = {
        k: v.values if isinstance(v, Fields) else frozen(v) for k, v in f.values.items()
    }
    if "stop_details" in values:
        values["stop_details"] = {"type": "refusal", **values["stop_details"]}
    if "text" in values:
        values["content"] = (text_block(values.pop("text")),)
    values["headers"] = tuple(values.get("headers", {}).items())
    reply = Reply(**values, mark=f.mark)
    w.parts.append(reply)
    return reply


def _step(w: Walker, f: Fields, path: str) -> Any:
    where = re.search(r"(turns|rules)\[(\d+)\]$", path)
    kind: StepKind = "turn" if where and where[1] == "turns" else "rule"
    values = {k: frozen(v) for k, v in f.values.items()}
    return Step(kind=kind, index=int(where[2]) if where else 0, **values, mark=f.mark)


def _conditions(w: Walker, f: Fields, path: str) -> Any:
    values = dict(f.values)
    values["header"] = tuple((name.lower(), m) for name, m in values.get("header", {}).items())
    values["body"] = tuple(
        BodyCondition(path=key, matcher=v) if isinstance(v, TextMatcher) else BodyCondition(path=key, value=v)
        for key, v in values.get("body", {}).items()
    )
    if "not" in values:
        values["not_"] = values.pop("not")
    return Conditions(**values, mark=f.mark)


def _turn_range(w: Walker, f: Fields, path: str) -> Any:
    low, high = f.get("min"), f.get("max")
    if low is not None and high is not None and low > high:
        return w.fail(f.value_mark("max"), f"'max' ({high}) is below 'min' ({low}) in {show(path)}")
    return TurnRange(min=low, max=high)


def _scenario(w: Walker, f: Fields, path: str) -> Any:
    values = {k: frozen(v) for k, v in f.values.items()}
    scenario = Scenario(**values, mark=f.mark)
    w.named.append((scenario, f.value_mark("name")))
    return scenario


BUILDERS: dict[str, Builder] = {
    "equals": lambda w, v, p: Equals(v),
    "glob": lambda w, v, p: Glob(v),
    "contains": lambda w, f, p: Contains(f.values["contains"]),
    "regex": _regex,
    "any": lambda w, f, p: AnyOf(tuple(f.values["any"])),
    "not": lambda w, f, p: Not(f.values["not"]),
    "literal": lambda w, v, p: LiteralText(value=v),
    "faker": lambda w, f, p: FakerText(
        provider=f.values["faker"], args=tuple((k, v) for k, v in f.values.items() if k != "faker")
    ),
    "chunks": lambda w, f, p: ChunkedText(
        pieces=tuple(f.values["chunks"]), verbatim=bool(f.get("verbatim", False))
    ),
    "wire_fields": lambda w, f, p: dict(f.values),  # a block's wire form, read by its kind's load
    "json_text": lambda w, f, p: JsonText(
        value=json.dumps(f.values["json"], ensure_ascii=False, separators=(",", ":"))
    ),
    **{f"block:{name}": kind.load for name, kind in KINDS.items()},
    "base64_bytes": lambda w, f, p: base64.b64decode(f.values["base64"], validate=True),
    "error": _error,
    "fault": _fault,
    "usage": _usage,
    "timing_mode": lambda w, v, p: Timing(mode=v),
    "reply": _reply,
    "step": _step,
    "conditions": _conditions,
    "turn_exact": lambda w, v, p: TurnRange(min=v, max=v),
    "turn_range": _turn_range,
    "scenario": _scenario,
}
