"""One check per spec type: whether a YAML node is what its spec says, and its plain value.

Each check returns the value (a `Fields` for mappings) or `BAD` once it reported a problem
through the walker; containers walk their items back through `Walker.walk`. Scalars keep what
was typed where YAML 1.1 would guess (`name: yes` is "yes"). Imports yaml's nodes, nodes.py, spec.py
and schema.resolve, the walker only for type hints (it imports this module); never model.py or
builders.py, never reads files.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from mockbay.scenario import spec as s
from mockbay.scenario.nodes import (
    BAD,
    BOOL,
    FLOAT,
    INT,
    NULL,
    SCALARS,
    STR,
    TIMESTAMP,
    Fields,
    child,
    closest,
    kind,
    scalar,
    short,
    show,
    unknown_key,
    what,
)
from mockbay.scenario.schema import resolve

if TYPE_CHECKING:
    from mockbay.scenario.walker import Walker

_FLOAT_TEXT = re.compile(r"[-+]?[0-9][0-9_]*(\.[0-9_]*)?[eE][-+]?[0-9]+")


def _check_str(w: Walker, node: Node, spec: s.Str, path: str) -> Any:
    if not scalar(node):
        return w.expected(node, spec, path)
    if spec.strict and node.tag not in (STR, "!"):
        return w.fail(
            node, f"expected a string for '{show(path)}', got {kind(node)}; quote it: \"{node.value}\""
        )
    value: str = node.value  # what was typed, so `name: yes` is "yes" and `x-retry: 2` is "2"
    if len(value) < spec.min_len:
        return w.fail(node, f"'{show(path)}' must not be empty")
    if spec.pattern and not re.fullmatch(spec.pattern, value):
        return w.fail(node, f"invalid value {value!r} for '{show(path)}'; {spec.hint}")
    return value


def _check_number(w: Walker, node: Node, spec: s.Int | s.Num, path: str) -> Any:
    exact = isinstance(spec, s.Int)
    if not isinstance(node, ScalarNode) or node.tag not in ((INT,) if exact else (INT, FLOAT)):
        if (
            isinstance(node, ScalarNode)
            and node.tag == STR
            and not node.style
            and _FLOAT_TEXT.fullmatch(node.value)
        ):
            return w.fail(
                node,
                f"expected {what(spec)} for '{show(path)}', got string {node.value!r}: "
                "YAML 1.1 reads an exponent without a dot as text; write 1.0e3 or 1000",
            )
        return w.expected(node, spec, path)
    value = SCALARS.construct_yaml_int(node) if node.tag == INT else SCALARS.construct_yaml_float(node)
    if not exact:
        value = float(value) if abs(value) < 1e308 else math.inf
        if not math.isfinite(value):
            return w.fail(node, f"expected a finite number for '{show(path)}', got {short(node.value)}")
    above = isinstance(spec, s.Num) and spec.above
    if spec.minimum is not None and (value < spec.minimum or (above and value == spec.minimum)):
        limit = "above" if above else "at least"
        return w.fail(node, f"'{show(path)}' must be {limit} {spec.minimum:g}, got {short(node.value)}")
    if spec.maximum is not None and value > spec.maximum:
        return w.fail(node, f"'{show(path)}' must be at most {spec.maximum:g}, got {short(node.value)}")
    return value


def _check_bool(w: Walker, node: Node, spec: s.Bool, path: str) -> Any:
    if not isinstance(node, ScalarNode) or node.tag != BOOL:
        return w.expected(node, spec, path)
    return SCALARS.construct_yaml_bool(node)


def _check_enum(w: Walker, node: Node, spec: s.Enum, path: str) -> Any:
    # Plain `off` is a YAML 1.1 boolean; the raw text keeps `cache: off` meaning "off".
    if not isinstance(node, ScalarNode) or node.tag not in (STR, BOOL, "!"):
        return w.expected(node, spec, path)
    if node.value in spec.values:
        return node.value
    return w.fail(node, _not_one_of(node.value, spec.values, path))


def _not_one_of(value: str, values: Sequence[str], path: str, why: str = "") -> str:
    """The refusal of a value outside a closed choice, with the nearest one when there is one."""
    close = closest(value, values)
    guess = f"; did you mean '{close}'?" if close else ""
    reason = f" ({why})" if why else ""
    return f"invalid value {value!r} for '{show(path)}'; expected one of: {', '.join(values)}{guess}{reason}"


def _check_list(w: Walker, node: Node, spec: s.List, path: str) -> Any:
    if not isinstance(node, SequenceNode):
        return w.expected(node, spec, path)
    if len(node.value) < spec.min_items:
        return w.fail(node, f"'{show(path)}' is empty; give at least {spec.min_items} item")
    return [w.walk(item, spec.of, f"{path}[{i}]") for i, item in enumerate(node.value)]


def _check_tagged(w: Walker, node: Node, spec: s.Tagged, path: str) -> Any:
    """The form named by the mapping's `key`, or one problem saying which names there are."""
    if not isinstance(node, MappingNode):
        return w.expected(node, spec, path)
    names = list(spec.choices)
    tag = next((v for k, v in node.value if isinstance(k, ScalarNode) and k.value == spec.key), None)
    if tag is None:
        return w.fail(node, f"missing required key '{spec.key}' in {show(path)} (one of: {', '.join(names)})")
    if w.walk(tag, s.Enum(tuple(names)), child(path, spec.key)) is BAD:
        return BAD
    return w.walk(node, spec.choices[tag.value], path)


def _check_map(w: Walker, node: Node, spec: s.Map, path: str) -> Any:
    if not isinstance(node, MappingNode):
        return w.expected(node, spec, path)
    pairs = w.pairs(node, path)
    if spec.keys is not None:
        keys = spec.keys
        pairs = (pair for pair in pairs if w.walk(pair[1], keys, path) is not BAD)
    return {key: w.walk(value, spec.values, child(path, key)) for key, _, value in pairs}


def _check_any(w: Walker, node: Node, spec: s.Spec, path: str) -> Any:
    if isinstance(node, MappingNode):
        return {key: w.walk(value, spec, child(path, key)) for key, _, value in w.pairs(node, path)}
    if isinstance(node, SequenceNode):
        return [w.walk(item, spec, f"{path}[{i}]") for i, item in enumerate(node.value)]
    assert isinstance(node, ScalarNode)  # a YAML node is a mapping, a sequence or a scalar
    if node.tag in (STR, TIMESTAMP, "!"):
        return node.value
    if node.tag == NULL:
        return None
    if node.tag == INT:
        return SCALARS.construct_yaml_int(node)
    if node.tag == FLOAT:
        return SCALARS.construct_yaml_float(node)
    return SCALARS.construct_yaml_bool(node)


def _check_value_or_matcher(w: Walker, node: Node, spec: s.ValueOrMatcher, path: str) -> Any:
    matcher = resolve(spec.matcher)
    tags = {form.tag for form in getattr(matcher, "forms", ()) if isinstance(form, s.Obj)}
    if isinstance(node, MappingNode) and len(node.value) == 1:
        key = node.value[0][0]
        if isinstance(key, ScalarNode) and key.value in tags:
            return w.walk(node, matcher, path)
    return _check_any(w, node, s.AnyValue(), path)


def _check_one_of(w: Walker, node: Node, spec: s.OneOf, path: str) -> Any:
    forms = [resolve(form) for form in spec.forms]
    if isinstance(node, MappingNode):
        candidates: list[s.Spec] = [f for f in forms if isinstance(f, (s.Obj, s.Map))]
        if any(isinstance(f, s.Obj) and f.tag for f in candidates):
            return _tagged_form(w, node, spec, [f for f in candidates if isinstance(f, s.Obj)], path)
    elif isinstance(node, SequenceNode):
        candidates = [f for f in forms if isinstance(f, s.List)]
    else:
        accepts = {
            s.Str: scalar(node),
            s.Enum: node.tag in (STR, BOOL, "!"),
            s.Int: node.tag == INT,
            s.Num: node.tag in (INT, FLOAT),
            s.Bool: node.tag == BOOL,
        }
        candidates = [f for f in forms if accepts.get(type(f), False)]
    return w.walk(node, candidates[0], path) if candidates else w.expected(node, spec, path)


def _tagged_form(w: Walker, node: MappingNode, spec: s.OneOf, forms: list[s.Obj], path: str) -> Any:
    """Among mapping forms, the one whose tag key is present ({regex: ...}, {tool_use: ...}), or,
    where several are, the one form that names the others among its keys ({faker: numerify, text:
    "###"} is Faker's, not the wire's text)."""
    by_tag = {form.tag: form for form in forms if form.tag}
    keys = [k for k, _ in node.value if isinstance(k, ScalarNode)]
    tagged = [k for k in keys if k.value in by_tag]
    holders = [k for k in tagged if all(o is k or o.value in by_tag[k.value].fields for o in tagged)]
    if len(holders) == 1:
        return w.walk(node, by_tag[holders[0].value], path)
    if tagged:
        return w.fail(
            tagged[1],
            f"'{tagged[1].value}' cannot be combined with '{tagged[0].value}' in "
            f"{show(path)}; expected {what(spec)}",
        )
    if not keys:
        return w.fail(node, f"empty mapping for '{show(path)}'; expected {what(spec)}")
    message = unknown_key(keys[0].value, list(by_tag), spec.hints, show(path))
    return w.fail(keys[0], f"{message} (expected {what(spec)})")


def _check_obj(w: Walker, node: Node, spec: s.Obj, path: str) -> Any:
    if not isinstance(node, MappingNode):
        return w.expected(node, spec, path)
    fields = Fields(w.source, node)
    for key, key_node, value_node in w.pairs(node, path):
        sub = spec.fields.get(key, spec.extra)
        if sub is None:
            w.fail(key_node, unknown_key(key, list(spec.fields), spec.hints, show(path)))
            fields.meant.add("*" if key in spec.hints else closest(key, list(spec.fields)) or "")
            continue
        fields.nodes[key] = (key_node, value_node)
        fields.values[key] = w.walk(value_node, sub, child(path, key))
    _check_groups(w, fields, spec, path)
    return fields


def _check_groups(w: Walker, fields: Fields, spec: s.Obj, path: str) -> None:
    """Required keys and key pairs; no 'missing' report when a misspelt or misplaced key explains it."""
    given = fields.nodes
    for key in spec.needed():
        if key not in given and key not in fields.meant:
            w.fail(fields.mark, f"missing required key '{key}' in {show(path)} ({spec.fields[key].doc})")
    for (a, b), why in spec.one_of + spec.any_of:
        if a not in given and b not in given and not {a, b, "*"} & fields.meant:
            w.fail(fields.mark, f"{show(path)} has neither '{a}' nor '{b}': {why}")
    for (a, b), why in spec.one_of + spec.conflicts:
        if a in given and b in given:
            later = max(fields.key_mark(a), fields.key_mark(b), key=lambda m: (m.line, m.col))
            w.fail(later, f"'{a}' and '{b}' cannot both be given in {show(path)}: {why}")
    for (a, b), why in spec.requires:
        if a in given and b not in given:
            w.fail(fields.key_mark(a), f"'{a}' needs '{b}' in {show(path)}: {why}")
    for key, values, opener, why in spec.known:
        value = fields.values.get(key)
        if key in given and opener not in given and isinstance(value, str) and value not in values:
            w.fail(fields.value_mark(key), _not_one_of(value, values, child(path, key), why))
    for key, other, wanted in spec.applies:
        if key in given and other in given and fields.values[other] != wanted:
            w.fail(
                fields.key_mark(key),
                f"'{key}' applies only to {other}: {wanted}, not {fields.values[other]}",
            )


CHECKS: dict[type[s.Spec], Callable[..., Any]] = {
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
    s.Tagged: _check_tagged,
}
