"""One small check class per matcher key of docs/scenario-contract.md §3, and `Compiled` conditions.

A check answers "why does this request fail me?" with a sentence in scenario syntax, or None
when it holds, so a near miss can quote the first failed condition. Checks only read the parsed
request and compare data: they never execute scenario code. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from mockbay.errors import SourceMark
from mockbay.matching.facts import (
    MISSING,
    Facts,
    body_lookup,
    mismatch,
    quote,
    same_value,
    text_failure,
    wanted,
    yaml_scalar,
)
from mockbay.scenario.model import (
    NO_MARK,
    BodyCondition,
    HasBlockCondition,
    ToolResultCondition,
    ToolsCondition,
    TurnRange,
)
from mockbay.textmatch import TextMatcher
from mockbay.wire.request import MessagesRequest, ToolResultView


class Check(Protocol):
    def failure(self, facts: Facts) -> str | None: ...

    def describe(self) -> str: ...


@dataclass(frozen=True, slots=True, eq=False)
class TextCheck:
    """`model`, `system`, `last_user`, `metadata`: one text of the request against a text matcher."""

    key: str
    lookup: Callable[[MessagesRequest], str | None]
    matcher: TextMatcher

    def failure(self, facts: Facts) -> str | None:
        return text_failure(self.key, self.lookup(facts.request), self.matcher)

    def describe(self) -> str:
        return f"{self.key}: {self.matcher.describe()}"


@dataclass(frozen=True, slots=True, eq=False)
class AnyMessageCheck:
    """`any_message`: holds when the text of at least one message, of either role, fits the matcher."""

    matcher: TextMatcher

    def failure(self, facts: Facts) -> str | None:
        texts = facts.request.message_texts
        if any(self.matcher.matches(text) for text in texts):
            return None
        return f"any_message: none of {len(texts)} messages {wanted(self.matcher)}"

    def describe(self) -> str:
        return f"any_message: {self.matcher.describe()}"


@dataclass(frozen=True, slots=True, eq=False)
class HeaderCheck:
    """`header`: one request header, by lower-cased name, against a text matcher; a missing one is None."""

    name: str  # lower-cased, as MessagesRequest.headers
    matcher: TextMatcher

    def failure(self, facts: Facts) -> str | None:
        return text_failure(f"header {self.name}", facts.request.headers.get(self.name), self.matcher)

    def describe(self) -> str:
        return f"header: {{{self.name}: {self.matcher.describe()}}}"


@dataclass(frozen=True, slots=True, eq=False)
class ToolResultCheck:
    """Holds when any tool_result of the last user message satisfies every given field."""

    spec: ToolResultCondition

    def _field_failure(self, result: ToolResultView) -> str | None:
        spec = self.spec
        if spec.name is not None and result.name != spec.name:
            return f"name {yaml_scalar(result.name)} is not {spec.name!r}"
        if spec.tool_use_id is not None and result.tool_use_id != spec.tool_use_id:
            return f"tool_use_id {result.tool_use_id!r} is not {spec.tool_use_id!r}"
        if spec.content is not None and not spec.content.matches(result.content_text):
            return f"content {quote(result.content_text)} {mismatch(spec.content)}"
        if spec.is_error is not None and result.is_error != spec.is_error:
            return f"is_error is {yaml_scalar(result.is_error)}, scenario wants {yaml_scalar(spec.is_error)}"
        return None

    def failure(self, facts: Facts) -> str | None:
        results = facts.request.tool_results
        if not results:
            return "tool_result: the last user message holds no tool_result"
        reasons = [self._field_failure(result) for result in results]
        if None in reasons:
            return None
        if len(reasons) == 1:
            return f"tool_result: {reasons[0]}"
        return f"tool_result: none of {len(reasons)} tool_results fits; the first: {reasons[0]}"

    def describe(self) -> str:
        spec = self.spec
        parts = [f"name: {spec.name!r}"] if spec.name is not None else []
        if spec.tool_use_id is not None:
            parts.append(f"tool_use_id: {spec.tool_use_id!r}")
        if spec.content is not None:
            parts.append(f"content: {spec.content.describe()}")
        if spec.is_error is not None:
            parts.append(f"is_error: {yaml_scalar(spec.is_error)}")
        return "tool_result: {" + ", ".join(parts) + "}"


@dataclass(frozen=True, slots=True, eq=False)
class ToolsCheck:
    """`tools`: the offered tools include the named ones, number `count` and have the given `types`."""

    spec: ToolsCondition

    def failure(self, facts: Facts) -> str | None:
        offered = facts.request.tool_names
        for name in self.spec.includes:
            if name not in offered:
                listed = ", ".join(map(repr, offered)) or "none"
                return f"tools: {name!r} is not offered (offered: {listed})"
        if self.spec.count is not None and len(offered) != self.spec.count:
            return f"tools: request offers {len(offered)} tools; scenario wants count: {self.spec.count}"
        if self.spec.types:
            types = tool_types(facts.request.body)
            for kind in self.spec.types:
                if kind not in types:
                    return f"tools: no tool of type {kind!r} is offered (types: {', '.join(types) or 'none'})"
        return None

    def describe(self) -> str:
        parts = [f"includes: [{', '.join(map(repr, self.spec.includes))}]"] if self.spec.includes else []
        if self.spec.count is not None:
            parts.append(f"count: {self.spec.count}")
        if self.spec.types:
            parts.append(f"types: [{', '.join(self.spec.types)}]")
        return "tools: {" + ", ".join(parts) + "}"


def tool_types(body: Mapping[str, Any]) -> list[str]:
    """The `type` of each offered tool; a custom tool may leave it out."""
    tools = body.get("tools")
    return (
        [str(t.get("type", "custom")) for t in tools if isinstance(t, dict)]
        if isinstance(tools, list)
        else []
    )


@dataclass(frozen=True, slots=True, eq=False)
class HasBlockCheck:
    """Holds when any message's content, or a tool_result's content inside it, has a block of the type."""

    spec: HasBlockCondition

    def failure(self, facts: Facts) -> str | None:
        if self.spec.type in block_types(facts.request.body):
            return None
        return f"has_block: no message holds a {self.spec.type!r} block"

    def describe(self) -> str:
        return f"has_block: {{type: {self.spec.type}}}"


def block_types(body: Mapping[str, Any]) -> set[str]:
    found: set[str] = set()
    messages = body.get("messages")
    for message in messages if isinstance(messages, list) else ():
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else ():
            if isinstance(block, dict):
                found.add(str(block.get("type")))
                nested = block.get("content") if block.get("type") == "tool_result" else None
                if isinstance(nested, list):
                    found.update(str(b.get("type")) for b in nested if isinstance(b, dict))
    return found


@dataclass(frozen=True, slots=True, eq=False)
class ToolChoiceCheck:
    """Without `tool_choice` but with tools the API behaves as `auto`, so that is what we compare."""

    value: str

    def failure(self, facts: Facts) -> str | None:
        request = facts.request
        actual = request.tool_choice or ("auto" if request.tool_names else None)
        if actual == self.value:
            return None
        return f"tool_choice: {yaml_scalar(actual)} is not {self.value!r}"

    def describe(self) -> str:
        return f"tool_choice: {self.value!r}"


@dataclass(frozen=True, slots=True, eq=False)
class FlagCheck:
    """`thinking`, `stream`, `output_format`, `platform`: a boolean or closed-choice fact of the request."""

    key: str
    lookup: Callable[[MessagesRequest], bool | str]
    value: bool | str

    def failure(self, facts: Facts) -> str | None:
        actual = self.lookup(facts.request)
        if actual == self.value:
            return None
        return f"{self.key}: request has {yaml_scalar(actual)}, scenario wants {yaml_scalar(self.value)}"

    def describe(self) -> str:
        return f"{self.key}: {yaml_scalar(self.value)}"


@dataclass(frozen=True, slots=True, eq=False)
class TurnCheck:
    """`turn`: the number of assistant messages so far, exactly or within `{min:, max:}`."""

    spec: TurnRange

    def failure(self, facts: Facts) -> str | None:
        turn = facts.request.turn
        low, high = self.spec.min, self.spec.max
        if (low is None or turn >= low) and (high is None or turn <= high):
            return None
        return f"turn: request has {turn} assistant messages; scenario wants {self._wanted()}"

    def _wanted(self) -> str:
        low, high = self.spec.min, self.spec.max
        if low is not None and low == high:
            return str(low)
        parts = [f"{key}: {value}" for key, value in (("min", low), ("max", high)) if value is not None]
        return "{" + ", ".join(parts) + "}"

    def describe(self) -> str:
        return f"turn: {self._wanted()}"


@dataclass(frozen=True, slots=True, eq=False)
class BodyCheck:
    """A literal `null` also holds for an absent field, as the API treats the two alike."""

    spec: BodyCondition

    def failure(self, facts: Facts) -> str | None:
        label = f"body {self.spec.path}"
        actual = body_lookup(facts.request.body, self.spec.path)
        matcher = self.spec.matcher
        if matcher is not None:
            if actual is MISSING or isinstance(actual, str):
                return text_failure(label, None if actual is MISSING else actual, matcher)
            return f"{label}: {yaml_scalar(actual)} is not text, scenario wants {matcher.describe()}"
        if actual is MISSING:
            return None if self.spec.value is None else f"{label}: missing"
        if same_value(actual, self.spec.value):
            return None
        return f"{label}: {yaml_scalar(actual)} is not {yaml_scalar(self.spec.value)}"

    def describe(self) -> str:
        wanted_value = self.spec.matcher.describe() if self.spec.matcher else yaml_scalar(self.spec.value)
        return f"body: {{{self.spec.path}: {wanted_value}}}"


@dataclass(frozen=True, slots=True, eq=False)
class FingerprintCheck:
    """`fingerprint`: the normalised request's hash, how recordings match; `--fingerprints loose`
    waives it when another condition beside it still tells requests apart."""

    value: str
    loosenable: bool = False  # other conditions beside it can stand in for it in loose replay

    def failure(self, facts: Facts) -> str | None:
        if facts.loose_fingerprints and self.loosenable:
            return None
        actual = facts.fingerprint
        return None if actual == self.value else f"fingerprint: request is {actual!r}, not {self.value!r}"

    def describe(self) -> str:
        return f"fingerprint: {self.value!r}"


@dataclass(frozen=True, slots=True, eq=False)
class NotCheck:
    """`not: {...}` holds when the inner conditions do not all hold."""

    inner: Compiled

    def failure(self, facts: Facts) -> str | None:
        if self.inner.first_failure(facts) is not None:
            return None
        return f"not: request matches {self.inner.describe()}"

    def describe(self) -> str:
        return f"not: {self.inner.describe()}"


@dataclass(frozen=True, slots=True, eq=False)
class Compiled:
    """A `match:` or `when:` mapping turned into checks, in the order of docs/scenario-contract.md §3."""

    checks: tuple[Check, ...]
    mark: SourceMark = NO_MARK

    def first_failure(self, facts: Facts) -> str | None:
        for check in self.checks:
            failed = check.failure(facts)
            if failed is not None:
                return failed
        return None

    def score(self, facts: Facts) -> tuple[int, str | None]:
        """How many checks fail, and the first failure: the raw material of a near-miss distance."""
        failures = [failed for check in self.checks if (failed := check.failure(facts)) is not None]
        return len(failures), (failures[0] if failures else None)

    def describe(self) -> str:
        return "{" + ", ".join(check.describe() for check in self.checks) + "}"
