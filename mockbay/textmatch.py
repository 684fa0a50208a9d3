"""Text matchers of the scenario language: exact, contains, regex, glob, any-of, not.

Pure data with a `matches` method; they never execute user code. `describe` renders the
matcher back in scenario syntax so that near-miss messages read like the file the user wrote.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Equals:
    """A plain-string text matcher (`system: "Be brief."`; under `model:` a string is a `Glob`): the
    whole text must equal it, and a missing text never does."""

    value: str

    def matches(self, text: str | None) -> bool:
        return text == self.value

    def describe(self) -> str:
        return repr(self.value)


@dataclass(frozen=True, slots=True)
class Contains:
    """`{contains: ...}`: the value must occur somewhere in the text; a missing text holds nothing."""

    value: str

    def matches(self, text: str | None) -> bool:
        return text is not None and self.value in text

    def describe(self) -> str:
        return f"{{contains: {self.value!r}}}"


@dataclass(frozen=True, slots=True)
class Regex:
    """`{regex: ...}`: compiled once at load and searched anywhere in the text (anchor with ^ and $)."""

    pattern: re.Pattern[str]

    def matches(self, text: str | None) -> bool:
        return text is not None and self.pattern.search(text) is not None

    def describe(self) -> str:
        return f"{{regex: {self.pattern.pattern!r}}}"


@dataclass(frozen=True, slots=True)
class Glob:
    """Shell-style wildcard match over the whole text (model names: `claude-sonnet-*`)."""

    pattern: str

    def matches(self, text: str | None) -> bool:
        return text is not None and fnmatch.fnmatchcase(text, self.pattern)

    def describe(self) -> str:
        return repr(self.pattern)


@dataclass(frozen=True, slots=True)
class AnyOf:
    """`{any: [...]}`: holds when at least one of its matchers does, to allow alternatives."""

    items: tuple[TextMatcher, ...]

    def matches(self, text: str | None) -> bool:
        return any(item.matches(text) for item in self.items)

    def describe(self) -> str:
        return "{any: [" + ", ".join(item.describe() for item in self.items) + "]}"


@dataclass(frozen=True, slots=True)
class Not:
    """`{not: ...}`: holds when the inner matcher fails, so a missing text satisfies it."""

    inner: TextMatcher

    def matches(self, text: str | None) -> bool:
        return not self.inner.matches(text)

    def describe(self) -> str:
        return f"{{not: {self.inner.describe()}}}"


TextMatcher = Equals | Contains | Regex | Glob | AnyOf | Not
