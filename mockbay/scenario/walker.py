"""Walks one file's YAML nodes against the spec of schema.py, collecting every problem.

The walker refuses non-data tags, alias loops and alias bombs (a node budget per document),
applies `<<` merges, reports repeated keys, dispatches each node to checks.py and hands a
checked value to the builder its spec names (`build`) or to the spec's model dataclass. It
knows no scenario: the builders come in as a table and the caller picks each document's spec.
Imports yaml's nodes, errors.py, nodes.py, checks.py, spec.py and schema.resolve; never model.py,
builders.py or loader.py, never reads files.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mockbay.errors import SourceMark
from mockbay.scenario import spec as s
from mockbay.scenario.checks import CHECKS
from mockbay.scenario.nodes import BAD, DATA_TAGS, MERGE, NULL, TAG, frozen, kind, mark, show, what
from mockbay.scenario.schema import resolve

NODE_BUDGET = 1_000_000  # nodes walked per document: stops alias bombs


class _TooBig(Exception):
    """Raised when a document exceeds the node budget."""


class Walker:
    """Checks one file's nodes against specs; reports into `problems`, builds model objects.

    `named` gathers (object, mark of its name) from builders of things whose names must be unique;
    `parts` gathers what builders hand on for checks made after loading, kept even when what holds
    them fails, so that one run reports those checks' problems beside the walk's.
    """

    def __init__(
        self, source: str, problems: list[tuple[SourceMark, str]], builders: Mapping[str, Builder]
    ) -> None:
        self.source = source
        self.problems = problems
        self.builders = builders
        self.named: list[tuple[Any, SourceMark]] = []
        self.parts: list[Any] = []
        self.budget = 0
        self.active: set[int] = set()

    def fail(self, at: Node | SourceMark, message: str) -> Any:
        self.problems.append((at if isinstance(at, SourceMark) else mark(self.source, at), message))
        return BAD

    def document(self, node: Node, spec: s.Spec) -> None:
        """Walks a whole document on a fresh budget; too large or too deep is one problem, not a crash."""
        self.budget = NODE_BUDGET
        try:
            self.walk(node, spec, "")
        except _TooBig:
            self.fail(node, f"document too large: more than {NODE_BUDGET} values (an alias loop or bomb?)")
        except RecursionError:
            self.fail(node, "document nested too deeply")

    def walk(self, node: Node, spec: s.Spec, path: str) -> Any:
        """The checked (and built) value of `node`, or BAD once its problems are reported."""
        self.budget -= 1
        if self.budget < 0:
            raise _TooBig
        if node.tag not in DATA_TAGS:
            return self.fail(
                node,
                f"unsupported YAML tag {node.tag.replace(TAG, '!!')} for '{show(path)}': "
                "scenario files hold plain data",
            )
        spec = resolve(spec)
        if spec.nullable and node.tag == NULL:
            return None
        before = len(self.problems)
        if isinstance(spec, (s.OneOf, s.ValueOrMatcher, s.Tagged)):  # dispatchers: walk this node again
            value = CHECKS[type(spec)](self, node, spec, path)
        elif id(node) in self.active:
            return self.fail(node, f"'{show(path)}' refers to itself through an alias")
        else:
            self.active.add(id(node))
            try:
                value = CHECKS[type(spec)](self, node, spec, path)
            finally:
                self.active.discard(id(node))
        if value is BAD or len(self.problems) > before:
            return BAD
        if spec.build:
            return self.builders[spec.build](self, value, path)
        if isinstance(spec, s.Obj) and spec.model:
            return spec.model(**{spec.renames.get(k, k): frozen(v) for k, v in value.values.items()})
        return value

    def expected(self, node: Node, spec: s.Spec, path: str) -> Any:
        hint = f"; {spec.hint}" if spec.hint else ""
        return self.fail(node, f"expected {what(spec)} for '{show(path)}', got {kind(node)}{hint}")

    def pairs(self, node: MappingNode, path: str) -> Iterator[tuple[str, Node, Node]]:
        """(key, key node, value node) with `<<` merges applied; bad and repeated keys reported."""
        seen: dict[str, Node] = {}
        merged: list[tuple[str, Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                merged += self._merged(value_node, path)
            elif not isinstance(key_node, ScalarNode) or key_node.tag == NULL:
                self.fail(key_node, f"keys in {show(path)} must be strings, got {kind(key_node)}")
            elif key_node.value in seen:
                line = seen[key_node.value].start_mark.line + 1
                self.fail(
                    key_node, f"duplicate key '{key_node.value}' in {show(path)} (first on line {line})"
                )
            else:
                seen[key_node.value] = key_node
                yield key_node.value, key_node, value_node
        for key, key_node, value_node in merged:
            if key not in seen:
                seen[key] = key_node
                yield key, key_node, value_node

    def _merged(self, node: Node, path: str) -> list[tuple[str, Node, Node]]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        out: list[tuple[str, Node, Node]] = []
        for source in sources:
            if not isinstance(source, MappingNode) or id(source) in self.active:
                self.fail(source, "'<<' merges a mapping or a list of mappings")
                continue
            self.active.add(id(source))
            out += self.pairs(source, path)
            self.active.discard(id(source))
        return out


Builder = Callable[[Walker, Any, str], Any]  # (walker, checked value, path) -> model object or BAD
