"""Turn a `match:` or `when:` mapping (`Conditions`) into `Compiled` checks, in §3's key order.

Done once per scenario when a `Selector` is built, so a request only runs checks. Pure.
"""

from __future__ import annotations

from operator import attrgetter

from mockbay.matching.checks import (
    AnyMessageCheck,
    BodyCheck,
    Check,
    Compiled,
    FingerprintCheck,
    FlagCheck,
    HeaderCheck,
    NotCheck,
    TextCheck,
    ToolChoiceCheck,
    ToolResultCheck,
    ToolsCheck,
    TurnCheck,
)
from mockbay.matching.facts import Facts
from mockbay.scenario.model import Conditions
from mockbay.wire.request import MessagesRequest

# Request lookups per key, built once: compiling 10,000 scenarios must stay cheap.
_TEXT_KEYS = (
    ("model", attrgetter("model")),
    ("system", attrgetter("system_text")),
    ("last_user", attrgetter("last_user_text")),
)
_FLAG_KEYS = (("thinking", attrgetter("thinking")), ("stream", attrgetter("stream")))
_METADATA = attrgetter("metadata_user_id")


def compile_conditions(conditions: Conditions) -> Compiled:
    c = conditions
    checks: list[Check] = []
    for key, lookup in _TEXT_KEYS:
        text_matcher = getattr(c, key)
        if text_matcher is not None:
            checks.append(TextCheck(key, lookup, text_matcher))
    if c.any_message is not None:
        checks.append(AnyMessageCheck(c.any_message))
    if c.tool_result is not None:
        checks.append(ToolResultCheck(c.tool_result))
    if c.tools is not None:
        checks.append(ToolsCheck(c.tools))
    if c.tool_choice is not None:
        checks.append(ToolChoiceCheck(c.tool_choice))
    for key, flag in _FLAG_KEYS:
        if (value := getattr(c, key)) is not None:
            checks.append(FlagCheck(key, flag, value))
    checks.extend(HeaderCheck(name.lower(), matcher) for name, matcher in c.header)
    if c.metadata is not None:
        checks.append(TextCheck("metadata", _METADATA, c.metadata))
    if c.turn is not None:
        checks.append(TurnCheck(c.turn))
    checks.extend(BodyCheck(entry) for entry in c.body)
    if c.fingerprint is not None:
        checks.append(FingerprintCheck(c.fingerprint))
    if c.not_ is not None:
        checks.append(NotCheck(compile_conditions(c.not_)))
    return Compiled(tuple(checks), c.mark)


def compile_optional(conditions: Conditions | None) -> Compiled | None:
    return None if conditions is None else compile_conditions(conditions)


def evaluate(conditions: Conditions, request: MessagesRequest) -> str | None:
    """The first failed condition of `conditions` for `request` in scenario syntax, or None if all hold."""
    return compile_conditions(conditions).first_failure(Facts(request))
