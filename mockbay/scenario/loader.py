"""Scenario YAML -> model.py dataclasses, with errors that teach.

YAML is composed into nodes (never constructed, so no tag runs code and every value keeps its
line and column), walked against schema.py, and each checked value is built into the model.
Every problem of every file is collected; the only exception that leaves is ScenarioError.
Imports yaml and the lower layers only; reads files only in `load_paths`.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mockbay.errors import ScenarioError, SourceMark
from mockbay.scenario import schema as s
from mockbay.scenario.model import (
    Block,
    BodyCondition,
    ChunkedText,
    Conditions,
    ErrorSpec,
    FakerText,
    Fault,
    LiteralText,
    Reply,
    Scenario,
    Step,
    Timing,
    TurnRange,
    UsageSpec,
)
from mockbay.textmatch import AnyOf, Contains, Equals, Glob, Not, Regex, TextMatcher
from mockbay.wire.errors import TYPE_STATUS, default_message, pair_for

__all__ = ["load_paths", "load_text", "load_yaml_scenarios"]

_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_TAG = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
_MERGE, _TIMESTAMP = _TAG + "merge", _TAG + "timestamp"
_SCALAR_TAGS = {
    _STR: "string",
    _INT: "integer",
    _FLOAT: "number",
    _BOOL: "boolean",
    _NULL: "null",
    _TIMESTAMP: "date",
    "!": "string",
}
_DATA_TAGS = {*_SCALAR_TAGS, _TAG + "map", _TAG + "seq"}  # anything else (!!python/..., !custom) is refused
_NODE_BUDGET = 1_000_000  # nodes walked per document: stops alias bombs
_SCALARS = yaml.constructor.SafeConstructor()
_FLOAT_TEXT = re.compile(r"[-+]?[0-9][0-9_]*(\.[0-9_]*)?[eE][-+]?[0-9]+")
_BAD: Any = object()  # a value that failed its checks (already reported)


class _TooBig(Exception):
    """Raised when a document exceeds the node budget."""


def load_text(text: str, source: str = "<text>") -> list[Scenario]:
    """Scenarios of one YAML text (one or more documents); ScenarioError lists every problem."""
    problems: list[tuple[SourceMark, str]] = []
    found = _load_text(text, source, problems)
    _check_unique(found, problems)
    if problems:
        raise ScenarioError(problems)
    return [scenario for scenario, _ in found]


load_yaml_scenarios = load_text


def load_paths(paths: Sequence[str | Path]) -> list[Scenario]:
    """Scenarios of files and folders (every *.yaml / *.yml below a folder, sorted, hidden ones skipped)."""
    problems: list[tuple[SourceMark, str]] = []
    found: list[tuple[Scenario, SourceMark]] = []
    for file in _files(paths, problems):
        try:
            text = file.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append((SourceMark(str(file), 1, 1), f"cannot read file: {exc}"))
            continue
        found += _load_text(text, str(file), problems)
    _check_unique(found, problems)
    if problems:
        raise ScenarioError(problems)
    return [scenario for scenario, _ in found]


def _files(paths: Sequence[str | Path], problems: list[tuple[SourceMark, str]]) -> list[Path]:
    """Files to load in order, each once; a missing path or an empty folder is a problem."""
    files: dict[Path, Path] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            below = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in (".yaml", ".yml")
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not below:
                problems.append((SourceMark(str(path), 1, 1), "no *.yaml or *.yml files in this folder"))
        elif path.is_file():
            below = [path]
        else:
            problems.append((SourceMark(str(path), 1, 1), "no such file or folder"))
            below = []
        for file in below:
            files.setdefault(file.resolve(), file)
    return list(files.values())


def _check_unique(found: list[tuple[Scenario, SourceMark]], problems: list[tuple[SourceMark, str]]) -> None:
    """Names pin scenarios, so a duplicate is reported at both places."""
    first: dict[str, SourceMark] = {}
    for scenario, mark in found:
        if scenario.name in first:
            problems.append(
                (mark, f"duplicate scenario name '{scenario.name}'; first defined at {first[scenario.name]}")
            )
            problems.append(
                (first[scenario.name], f"scenario name '{scenario.name}' is defined again at {mark}")
            )
        else:
            first[scenario.name] = mark


def _load_text(
    text: str, source: str, problems: list[tuple[SourceMark, str]]
) -> list[tuple[Scenario, SourceMark]]:
    """(scenario, mark of its name) for each valid scenario; problems are appended."""
    walker = _Walker(source, problems)
    documents = 0
    try:
        for node in yaml.compose_all(text, Loader=_YamlLoader):
            if isinstance(node, ScalarNode) and node.tag == _NULL and node.value == "":
                continue  # an empty document, e.g. after a trailing `---`
            documents += 1
            walker.document(node)
    except yaml.MarkedYAMLError as exc:
        problems.append((_yaml_mark(exc, source), f"invalid YAML: {_yaml_reason(exc, text)}"))
        return walker.named
    except (yaml.YAMLError, UnicodeError) as exc:
        problems.append(
            (
                _position_mark(text, getattr(exc, "position", None) or getattr(exc, "start", 0), source),
                f"invalid YAML: {exc}",
            )
        )
        return walker.named
    except RecursionError:
        problems.append((SourceMark(source, 1, 1), "invalid YAML: nested too deeply"))
        return walker.named
    if documents == 0:
        problems.append(
            (SourceMark(source, 1, 1), "empty file: expected a scenario (name: ..., turns: [...])")
        )
    return walker.named


def _yaml_mark(exc: yaml.MarkedYAMLError, source: str) -> SourceMark:
    mark = exc.problem_mark or exc.context_mark
    return SourceMark(source, mark.line + 1, mark.column + 1) if mark else SourceMark(source, 1, 1)


def _yaml_reason(exc: yaml.MarkedYAMLError, text: str) -> str:
    """The parser's words, the construct it was in when that started earlier, and the tab pitfall."""
    reason = exc.problem or "syntax error"
    problem, context = exc.problem_mark, exc.context_mark
    if exc.context and context and (problem is None or context.line != problem.line):
        reason += f" ({exc.context} at line {context.line + 1})"
    lines = text.splitlines()
    if (
        problem
        and problem.line < len(lines)
        and lines[problem.line][problem.column : problem.column + 1] == "\t"
    ):
        reason += "; it is a tab: YAML indents with spaces"
    return reason


def _position_mark(text: str, position: int, source: str) -> SourceMark:
    before = text[:position]
    return SourceMark(source, before.count("\n") + 1, position - before.rfind("\n"))


# ---- walking nodes against the schema -------------------------------------------------------


@dataclass(slots=True)
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
        return _mark(self.source, self.node)

    def key_mark(self, key: str) -> SourceMark:
        return _mark(self.source, self.nodes[key][0])

    def value_mark(self, key: str) -> SourceMark:
        return _mark(self.source, self.nodes[key][1])


def _mark(source: str, node: Node) -> SourceMark:
    """Marks are made only when needed (a problem, a model object): most values never need one."""
    return SourceMark(source, node.start_mark.line + 1, node.start_mark.column + 1)


class _Walker:
    """Checks one file's nodes against specs; reports into `problems`, builds model objects."""

    def __init__(self, source: str, problems: list[tuple[SourceMark, str]]) -> None:
        self.source = source
        self.problems = problems
        self.named: list[tuple[Scenario, SourceMark]] = []
        self.budget = 0
        self.active: set[int] = set()

    def mark(self, node: Node) -> SourceMark:
        return _mark(self.source, node)

    def fail(self, at: Node | SourceMark, message: str) -> Any:
        self.problems.append((at if isinstance(at, SourceMark) else self.mark(at), message))
        return _BAD

    def document(self, node: Node) -> None:
        self.budget = _NODE_BUDGET
        try:
            if not isinstance(node, MappingNode):
                self.fail(
                    node,
                    f"a scenario document is a mapping (name: ..., turns: [...]) or scenarios: [...], "
                    f"not {_kind(node)}",
                )
            elif any(isinstance(k, ScalarNode) and k.value == "scenarios" for k, _ in node.value):
                self.walk(node, s.SCENARIO_LIST, "")
            else:
                self.walk(node, s.SCENARIO, "")
        except _TooBig:
            self.fail(node, f"document too large: more than {_NODE_BUDGET} values (an alias loop or bomb?)")
        except RecursionError:
            self.fail(node, "document nested too deeply")

    def walk(self, node: Node, spec: s.Spec, path: str) -> Any:
        """The checked (and built) value of `node`, or _BAD once its problems are reported."""
        self.budget -= 1
        if self.budget < 0:
            raise _TooBig
        if node.tag not in _DATA_TAGS:
            return self.fail(
                node,
                f"unsupported YAML tag {node.tag.replace(_TAG, '!!')} for '{_show(path)}': "
                "scenario files hold plain data",
            )
        spec = s.resolve(spec)
        before = len(self.problems)
        if isinstance(spec, (s.OneOf, s.ValueOrMatcher)):  # dispatchers: they walk this same node again
            value = _CHECKS[type(spec)](self, node, spec, path)
        elif id(node) in self.active:
            return self.fail(node, f"'{_show(path)}' refers to itself through an alias")
        else:
            self.active.add(id(node))
            try:
                value = _CHECKS[type(spec)](self, node, spec, path)
            finally:
                self.active.discard(id(node))
        if value is _BAD or len(self.problems) > before:
            return _BAD
        if spec.build:
            return _BUILDERS[spec.build](self, value, path)
        if isinstance(spec, s.Obj) and spec.model:
            return spec.model(**{spec.renames.get(k, k): _frozen(v) for k, v in value.values.items()})
        return value

    def expected(self, node: Node, spec: s.Spec, path: str) -> Any:
        hint = f"; {spec.hint}" if spec.hint else ""
        return self.fail(node, f"expected {_what(spec)} for '{_show(path)}', got {_kind(node)}{hint}")

    def pairs(self, node: MappingNode, path: str) -> Iterator[tuple[str, Node, Node]]:
        """(key, key node, value node) with `<<` merges applied; bad and repeated keys reported."""
        seen: dict[str, Node] = {}
        merged: list[tuple[str, Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged += self._merged(value_node, path)
            elif not isinstance(key_node, ScalarNode) or key_node.tag == _NULL:
                self.fail(key_node, f"keys in {_show(path)} must be strings, got {_kind(key_node)}")
            elif key_node.value in seen:
                line = seen[key_node.value].start_mark.line + 1
                self.fail(
                    key_node, f"duplicate key '{key_node.value}' in {_show(path)} (first on line {line})"
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


def _show(path: str) -> str:
    return path or "scenario"


def _child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if node.tag == _NULL:
        return "an empty value (null)"
    return f"{_SCALAR_TAGS.get(node.tag, 'a value')} {_short(node.value)!r}"


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."


def _what(spec: s.Spec) -> str:
    """How a message names what a spec accepts."""
    spec = s.resolve(spec)
    if isinstance(spec, s.OneOf):
        names = [_what(form) for form in spec.forms]
        return ", ".join(names[:-1]) + " or " + names[-1]
    if isinstance(spec, s.Enum):
        return "one of " + ", ".join(spec.values)
    if isinstance(spec, s.Obj) and spec.tag:
        return f"{{{spec.tag}: ...}}"
    return _WHAT.get(type(spec), "a mapping")


_WHAT = {
    s.Str: "a string",
    s.Int: "an integer",
    s.Num: "a number",
    s.Bool: "true or false",
    s.List: "a list",
    s.AnyValue: "a value",
    s.ValueOrMatcher: "a value",
}


def _closest(word: str, choices: Sequence[str]) -> str | None:
    for choice in choices:
        if choice.lower() == word.lower():
            return choice
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return close[0] if close else None


def _unknown_key(word: str, choices: Sequence[str], hints: dict[str, str] | Any, where: str) -> str:
    if word in hints:
        return f"unknown key '{word}' in {where}; " + hints[word].replace("{key}", word)
    close = _closest(word, choices)
    advice = f"did you mean '{close}'?" if close else "valid keys: " + ", ".join(choices)
    return f"unknown key '{word}' in {where}; {advice}"


def _frozen(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


# ---- checks per spec type (each returns the plain value or _BAD) ----------------------------


def _scalar(node: Node) -> bool:
    return isinstance(node, ScalarNode) and node.tag in _SCALAR_TAGS and node.tag != _NULL


def _check_str(w: _Walker, node: Node, spec: s.Str, path: str) -> Any:
    if not _scalar(node):
        return w.expected(node, spec, path)
    value: str = node.value  # what was typed, so `name: yes` is "yes" and `x-retry: 2` is "2"
    if len(value) < spec.min_len:
        return w.fail(node, f"'{_show(path)}' must not be empty")
    if spec.pattern and not re.fullmatch(spec.pattern, value):
        return w.fail(node, f"invalid value {value!r} for '{_show(path)}'; {spec.hint}")
    return value


def _check_number(w: _Walker, node: Node, spec: s.Int | s.Num, path: str) -> Any:
    exact = isinstance(spec, s.Int)
    if not isinstance(node, ScalarNode) or node.tag not in ((_INT,) if exact else (_INT, _FLOAT)):
        if node.tag == _STR and not node.style and _FLOAT_TEXT.fullmatch(node.value):
            return w.fail(
                node,
                f"expected {_what(spec)} for '{_show(path)}', got string {node.value!r}: "
                "YAML 1.1 reads an exponent without a dot as text; write 1.0e3 or 1000",
            )
        return w.expected(node, spec, path)
    value = _SCALARS.construct_yaml_int(node) if node.tag == _INT else _SCALARS.construct_yaml_float(node)
    if not exact:
        value = float(value) if abs(value) < 1e308 else math.inf
        if not math.isfinite(value):
            return w.fail(node, f"expected a finite number for '{_show(path)}', got {_short(node.value)}")
    above = isinstance(spec, s.Num) and spec.above
    if spec.minimum is not None and (value < spec.minimum or (above and value == spec.minimum)):
        limit = "above" if above else "at least"
        return w.fail(node, f"'{_show(path)}' must be {limit} {spec.minimum:g}, got {_short(node.value)}")
    if spec.maximum is not None and value > spec.maximum:
        return w.fail(node, f"'{_show(path)}' must be at most {spec.maximum:g}, got {_short(node.value)}")
    return value


def _check_bool(w: _Walker, node: Node, spec: s.Bool, path: str) -> Any:
    if not isinstance(node, ScalarNode) or node.tag != _BOOL:
        return w.expected(node, spec, path)
    return _SCALARS.construct_yaml_bool(node)


def _check_enum(w: _Walker, node: Node, spec: s.Enum, path: str) -> Any:
    # Plain `off` is a YAML 1.1 boolean; the raw text keeps `cache: off` meaning "off".
    if not isinstance(node, ScalarNode) or node.tag not in (_STR, _BOOL, "!"):
        return w.expected(node, spec, path)
    if node.value in spec.values:
        return node.value
    close = _closest(node.value, spec.values)
    guess = f"; did you mean '{close}'?" if close else ""
    return w.fail(
        node,
        f"invalid value {node.value!r} for '{_show(path)}'; expected one of: {', '.join(spec.values)}{guess}",
    )


def _check_list(w: _Walker, node: Node, spec: s.List, path: str) -> Any:
    if not isinstance(node, SequenceNode):
        return w.expected(node, spec, path)
    if len(node.value) < spec.min_items:
        return w.fail(node, f"'{_show(path)}' is empty; give at least {spec.min_items} item")
    return [w.walk(item, spec.of, f"{path}[{i}]") for i, item in enumerate(node.value)]


def _check_map(w: _Walker, node: Node, spec: s.Map, path: str) -> Any:
    if not isinstance(node, MappingNode):
        return w.expected(node, spec, path)
    return {key: w.walk(value, spec.values, _child(path, key)) for key, _, value in w.pairs(node, path)}


def _check_any(w: _Walker, node: Node, spec: s.Spec, path: str) -> Any:
    if isinstance(node, MappingNode):
        return {key: w.walk(value, spec, _child(path, key)) for key, _, value in w.pairs(node, path)}
    if isinstance(node, SequenceNode):
        return [w.walk(item, spec, f"{path}[{i}]") for i, item in enumerate(node.value)]
    if node.tag in (_STR, _TIMESTAMP, "!"):
        return node.value
    if node.tag == _NULL:
        return None
    if node.tag == _INT:
        return _SCALARS.construct_yaml_int(node)
    if node.tag == _FLOAT:
        return _SCALARS.construct_yaml_float(node)
    return _SCALARS.construct_yaml_bool(node)


def _check_value_or_matcher(w: _Walker, node: Node, spec: s.ValueOrMatcher, path: str) -> Any:
    matcher = s.resolve(spec.matcher)
    tags = {form.tag for form in getattr(matcher, "forms", ()) if isinstance(form, s.Obj)}
    if isinstance(node, MappingNode) and len(node.value) == 1:
        key = node.value[0][0]
        if isinstance(key, ScalarNode) and key.value in tags:
            return w.walk(node, matcher, path)
    return _check_any(w, node, s.AnyValue(), path)


def _check_one_of(w: _Walker, node: Node, spec: s.OneOf, path: str) -> Any:
    forms = [s.resolve(form) for form in spec.forms]
    if isinstance(node, MappingNode):
        candidates = [f for f in forms if isinstance(f, (s.Obj, s.Map))]
        if any(isinstance(f, s.Obj) and f.tag for f in candidates):
            return _tagged_form(w, node, spec, [f for f in candidates if isinstance(f, s.Obj)], path)
    elif isinstance(node, SequenceNode):
        candidates = [f for f in forms if isinstance(f, s.List)]
    else:
        accepts = {
            s.Str: _scalar(node),
            s.Enum: node.tag in (_STR, _BOOL, "!"),
            s.Int: node.tag == _INT,
            s.Num: node.tag in (_INT, _FLOAT),
            s.Bool: node.tag == _BOOL,
        }
        candidates = [f for f in forms if accepts.get(type(f), False)]
    return w.walk(node, candidates[0], path) if candidates else w.expected(node, spec, path)


def _tagged_form(w: _Walker, node: MappingNode, spec: s.OneOf, forms: list[s.Obj], path: str) -> Any:
    """Among mapping forms, the one whose tag key is present ({regex: ...}, {tool_use: ...})."""
    by_tag = {form.tag: form for form in forms if form.tag}
    keys = [k for k, _ in node.value if isinstance(k, ScalarNode)]
    tagged = [k for k in keys if k.value in by_tag]
    if len(tagged) == 1:
        return w.walk(node, by_tag[tagged[0].value], path)
    if tagged:
        return w.fail(
            tagged[1],
            f"'{tagged[1].value}' cannot be combined with '{tagged[0].value}' in "
            f"{_show(path)}; expected {_what(spec)}",
        )
    if not keys:
        return w.fail(node, f"empty mapping for '{_show(path)}'; expected {_what(spec)}")
    message = _unknown_key(keys[0].value, list(by_tag), spec.hints, _show(path))
    return w.fail(keys[0], f"{message} (expected {_what(spec)})")


def _check_obj(w: _Walker, node: Node, spec: s.Obj, path: str) -> Any:
    if not isinstance(node, MappingNode):
        return w.expected(node, spec, path)
    fields = Fields(w.source, node)
    for key, key_node, value_node in w.pairs(node, path):
        sub = spec.fields.get(key, spec.extra)
        if sub is None:
            w.fail(key_node, _unknown_key(key, list(spec.fields), spec.hints, _show(path)))
            fields.meant.add("*" if key in spec.hints else _closest(key, list(spec.fields)) or "")
            continue
        fields.nodes[key] = (key_node, value_node)
        fields.values[key] = w.walk(value_node, sub, _child(path, key))
    _check_groups(w, fields, spec, path)
    return fields


def _check_groups(w: _Walker, fields: Fields, spec: s.Obj, path: str) -> None:
    """Required keys and key pairs; no 'missing' report when a misspelt or misplaced key explains it."""
    given = fields.nodes
    for key in spec.needed():
        if key not in given and key not in fields.meant:
            w.fail(fields.mark, f"missing required key '{key}' in {_show(path)} ({spec.fields[key].doc})")
    for (a, b), why in spec.one_of + spec.any_of:
        if a not in given and b not in given and not {a, b, "*"} & fields.meant:
            w.fail(fields.mark, f"{_show(path)} has neither '{a}' nor '{b}': {why}")
    for (a, b), why in spec.one_of + spec.conflicts:
        if a in given and b in given:
            later = max(fields.key_mark(a), fields.key_mark(b), key=lambda m: (m.line, m.col))
            w.fail(later, f"'{a}' and '{b}' cannot both be given in {_show(path)}: {why}")
    for (a, b), why in spec.requires:
        if a in given and b not in given:
            w.fail(fields.key_mark(a), f"'{a}' needs '{b}' in {_show(path)}: {why}")


_CHECKS: dict[type[s.Spec], Callable[..., Any]] = {
    s.Str: _check_str,
    s.Int: _check_number,
    s.Num: _check_number,
    s.Bool: _check_bool,
    s.Enum: _check_enum,
    s.List: _check_list,
    s.Map: _check_map,
    s.AnyValue: _check_any,
    s.ValueOrMatcher: _check_value_or_matcher,
    s.OneOf: _check_one_of,
    s.Obj: _check_obj,
}


# ---- builders: checked values -> model objects (named by `build` in schema.py) --------------


def _regex(w: _Walker, f: Fields, path: str) -> Any:
    try:
        return Regex(re.compile(f.values["regex"]))
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        return w.fail(f.value_mark("regex"), f"invalid regex {f.values['regex']!r} in {_show(path)}: {exc}")


def _tool_use(w: _Walker, f: Fields, path: str) -> Any:
    chunks = f.get("input_chunks")
    value = f.get("input", {})
    if chunks is not None:
        joined = "".join(chunks)
        try:
            parsed = json.loads(joined)
        except (ValueError, RecursionError) as exc:
            return w.fail(
                f.value_mark("input_chunks"), f"input_chunks join to {joined!r}, which is not JSON: {exc}"
            )
        if "input" not in f.values and isinstance(parsed, dict):
            value = parsed
        elif parsed != value:
            return w.fail(
                f.value_mark("input_chunks"),
                f"input_chunks join to {joined!r}, which differs from input {json.dumps(value)}",
            )
    return Block(
        type="tool_use", name=f.values["name"], input=value, id=f.get("id"), input_chunks=_frozen(chunks)
    )


def _error(w: _Walker, f: Fields, path: str) -> Any:
    status, error_type = f.get("status"), f.get("type")
    if status is None and error_type is not None and error_type not in TYPE_STATUS:
        close = _closest(error_type, list(TYPE_STATUS))
        guess = f"did you mean '{close}'? " if close else ""
        return w.fail(
            f.value_mark("type"),
            f"unknown error type {error_type!r}; {guess}known types: "
            f"{', '.join(TYPE_STATUS)} (give status: too for a custom type)",
        )
    status, error_type = pair_for(status, error_type)
    return ErrorSpec(
        status=status, type=error_type, message=f.get("message") or default_message(status, error_type)
    )


def _fault(w: _Walker, f: Fields, path: str) -> Any:
    kind, error = f.values["kind"], f.get("error")
    if error is not None and kind != "error_event":
        return w.fail(f.key_mark("error"), f"'error' applies only to kind: error_event, not {kind}")
    if kind == "error_event" and error is None:
        status, error_type = pair_for(None, "overloaded_error")
        error = ErrorSpec(status=status, type=error_type, message=default_message(status, error_type))
    return Fault(kind=kind, after_events=f.get("after_events"), after_ms=f.get("after_ms"), error=error)


def _usage(w: _Walker, f: Fields, path: str) -> Any:
    values = dict(f.values)
    breakdown = values.pop("cache_creation", None)
    return UsageSpec(**values, **(breakdown.values if breakdown else {}))


def _reply(w: _Walker, f: Fields, path: str) -> Any:
    values = {k: _frozen(v) for k, v in f.values.items()}
    if "text" in values:
        values["content"] = (Block(type="text", text=values.pop("text")),)
    values["headers"] = tuple(values.get("headers", {}).items())
    return Reply(**values, mark=f.mark)


def _step(w: _Walker, f: Fields, path: str) -> Any:
    where = re.search(r"(turns|rules)\[(\d+)\]$", path)
    kind = "turn" if where and where[1] == "turns" else "rule"
    values = {k: _frozen(v) for k, v in f.values.items()}
    return Step(kind=kind, index=int(where[2]) if where else 0, **values, mark=f.mark)


def _conditions(w: _Walker, f: Fields, path: str) -> Any:
    values = dict(f.values)
    values["header"] = tuple((name.lower(), m) for name, m in values.get("header", {}).items())
    values["body"] = tuple(
        BodyCondition(path=key, matcher=v) if isinstance(v, TextMatcher) else BodyCondition(path=key, value=v)
        for key, v in values.get("body", {}).items()
    )
    if "not" in values:
        values["not_"] = values.pop("not")
    return Conditions(**values, mark=f.mark)


def _turn_range(w: _Walker, f: Fields, path: str) -> Any:
    low, high = f.get("min"), f.get("max")
    if low is not None and high is not None and low > high:
        return w.fail(f.value_mark("max"), f"'max' ({high}) is below 'min' ({low}) in {_show(path)}")
    return TurnRange(min=low, max=high)


def _scenario(w: _Walker, f: Fields, path: str) -> Any:
    values = {k: _frozen(v) for k, v in f.values.items()}
    scenario = Scenario(**values, mark=f.mark)
    w.named.append((scenario, f.value_mark("name")))
    return scenario


_BUILDERS: dict[str, Callable[[_Walker, Any, str], Any]] = {
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
    "chunks": lambda w, f, p: ChunkedText(pieces=tuple(f.values["chunks"])),
    "text_block": lambda w, f, p: Block(type="text", text=f.values["text"]),
    "thinking_block": lambda w, f, p: Block(
        type="thinking", text=f.values["thinking"], signature=f.get("signature")
    ),
    "redacted_block": lambda w, f, p: Block(type="redacted_thinking", data=f.values["redacted_thinking"]),
    "tool_use_block": lambda w, f, p: f.values["tool_use"],
    "tool_use": _tool_use,
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
