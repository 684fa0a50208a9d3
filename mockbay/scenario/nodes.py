"""YAML nodes as the walker sees them: data tags, source marks, checked mappings, and their names in messages.

Marks are made lazily from a node's start (most values never need one). `what` and `kind` say
what a spec accepts and what a node is; `closest` and `unknown_key` turn a misspelt or misplaced
key into advice. Imports yaml's node classes and safe scalar constructor, errors.py, spec.py and
schema.resolve; never the walker, checks or builders, never reads files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mockbay.errors import SourceMark
from mockbay.scenario import spec as s
from mockbay.scenario.schema import resolve

TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (TAG + t for t in ("str", "int", "float", "bool", "null"))
MERGE, TIMESTAMP = TAG + "merge", TAG + "timestamp"
SCALAR_TAGS = {
    STR: "string",
    INT: "integer",
    FLOAT: "number",
    BOOL: "boolean",
    NULL: "null",
    TIMESTAMP: "date",
    "!": "string",
}
DATA_TAGS = {*SCALAR_TAGS, TAG + "map", TAG + "seq"}  # anything else (!!python/..., !custom) is refused
SCALARS = yaml.constructor.SafeConstructor()
BAD: Any = object()  # a value that failed its checks (already reported)


def mark(source: str, node: Node) -> SourceMark:
    """Marks are made only when needed (a problem, a model object): most values never need one."""
    return SourceMark(source, node.start_mark.line + 1, node.start_mark.column + 1)


@dataclass(slots=True, eq=False)
class Fields:
    """A checked mapping: its values and where each key and value was written."""

    source: str
    node: MappingNode
    values: dict[str, Any] = field(default_factory=dict)
    nodes: dict[str, tuple[Node, Node]] = field(default_factory=dict)  # key -> (key node, value node)
    meant: set[str] = field(default_factory=set)  # keys that reported unknown keys were probably meant as

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    @property
    def mark(self) -> SourceMark:
        return mark(self.source, self.node)

    def key_mark(self, key: str) -> SourceMark:
        return mark(self.source, self.nodes[key][0])

    def value_mark(self, key: str) -> SourceMark:
        return mark(self.source, self.nodes[key][1])


def scalar(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag in SCALAR_TAGS and node.tag != NULL


def show(path: str) -> str:
    return path or "scenario"


def child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == NULL:
        return "an empty value (null)"
    return f"{SCALAR_TAGS.get(node.tag, 'a value')} {short(node.value)!r}"


def short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def what(spec: s.Spec) -> str:
    """How a message names what a spec accepts."""
    spec = resolve(spec)
    if isinstance(spec, s.OneOf):
        names = [what(form) for form in spec.forms]
        return ", ".join(names[:-1]) + " or " + names[-1]
    if isinstance(spec, s.Enum):
        return "one of " + ", ".join(spec.values)
    if isinstance(spec, s.Obj) and spec.tag:
        return f"{{{spec.tag}: ...}}"
    return _WHAT.get(type(spec), "a mapping") + (" or null" if spec.nullable else "")


_WHAT = {
    s.Str: "a string",
    s.Int: "an integer",
    s.Num: "a number",
    s.Bool: "true or false",
    s.List: "a list",
    s.AnyValue: "a value",
    s.ValueOrMatcher: "a value",
}


def closest(word: str, choices: Sequence[str]) -> str | None:
    for choice in choices:
        if choice.lower() == word.lower():
            return choice
    import difflib  # only a mistyped key needs it: not loaded at start-up

    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def unknown_key(word: str, choices: Sequence[str], hints: Mapping[str, str], where: str) -> str:
    if word in hints:
        return f"unknown key '{word}' in {where}; " + hints[word].replace("{key}", word)
    near = closest(word, choices)
    advice = f"did you mean '{near}'?" if near else "valid keys: " + ", ".join(choices)
    return f"unknown key '{word}' in {where}; {advice}"


def frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
