"""Spec → Draft 2020-12 JSON Schema, for editors; `schema.json_schema()` assembles the document.

A `Ref` becomes `#/$defs/NAME`, so the document must hold the named definitions under `$defs`.
Imports nothing but spec.py and the standard library; never yaml, never the key data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mockbay.scenario.spec import (
    AnyValue,
    Bool,
    Enum,
    Int,
    List,
    Map,
    Num,
    Obj,
    OneOf,
    Ref,
    Spec,
    Str,
    Tagged,
    ValueOrMatcher,
)

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def to_json(spec: Spec) -> dict[str, Any]:
    out = _SHAPES[type(spec)](spec)
    if spec.nullable:
        out = {"anyOf": [out, {"type": "null"}]}
    if spec.doc:
        out["description"] = spec.doc
    return out


def _str_json(spec: Str) -> dict[str, Any]:
    """A string; where the loader reads a number or boolean as the text typed, those too (YAML 1.2
    and editors read `yes` as a string already)."""
    out: dict[str, Any] = {"type": "string" if spec.strict else ["string", "number", "boolean"]}
    if spec.min_len:
        out["minLength"] = spec.min_len
    if spec.pattern:
        out["pattern"] = f"^(?:{spec.pattern})$"
    return out


def _num_json(spec: Int | Num) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "integer" if isinstance(spec, Int) else "number"}
    if spec.minimum is not None:
        out["exclusiveMinimum" if isinstance(spec, Num) and spec.above else "minimum"] = spec.minimum
    if spec.maximum is not None:
        out["maximum"] = spec.maximum
    return out


def _obj_json(spec: Obj) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "properties": {key: to_json(sub) for key, sub in spec.fields.items()},
        "additionalProperties": to_json(spec.extra) if spec.extra else False,
    }
    if spec.needed():
        out["required"] = list(spec.needed())
    rules: list[dict[str, Any]] = [
        {"oneOf": [{"required": [a]}, {"required": [b]}]} for (a, b), _ in spec.one_of
    ]
    rules += [{"anyOf": [{"required": [a]}, {"required": [b]}]} for (a, b), _ in spec.any_of]
    rules += [{"not": {"required": [a, b]}} for (a, b), _ in spec.conflicts]
    rules += [
        {"if": {"not": {"required": [opener]}}, "then": {"properties": {key: {"enum": list(values)}}}}
        for key, values, opener, _ in spec.known
    ]
    rules += [
        {
            "if": {"required": [other], "properties": {other: {"not": {"const": value}}}},
            "then": {"not": {"required": [key]}},
        }
        for key, other, value in spec.applies
    ]
    if rules:
        out["allOf"] = rules
    if spec.requires:
        out["dependentRequired"] = {a: [b] for (a, b), _ in spec.requires}
    return out


def _one_of_json(spec: OneOf) -> dict[str, Any]:
    """The forms, of which one must hold. The walker picks a mapping's form by the one tag key it
    holds (or the one form naming the others among its keys), so a form whose free keys would let
    another form's tag in ({faker: ...}'s arguments) is told to refuse it: `{faker: words, chunks:
    [a]}` fails here as it fails `mockbay validate`."""
    tags = [form.tag for form in spec.forms if isinstance(form, Obj) and form.tag]
    out = []
    for form in spec.forms:
        shape = to_json(form)
        if isinstance(form, Obj) and form.tag:
            others = [
                tag for tag in tags if tag != form.tag and tag not in form.fields and form.extra is not None
            ]
            if others:
                shape["not"] = {"anyOf": [{"required": [tag]} for tag in others]}
        out.append(shape)
    return {"oneOf": out}


_SHAPES: dict[type[Spec], Callable[[Any], dict[str, Any]]] = {
    Str: _str_json,
    Int: _num_json,
    Num: _num_json,
    Bool: lambda spec: {"type": "boolean"},
    Enum: lambda spec: {"enum": list(spec.values)},
    List: lambda spec: (
        {"type": "array", "items": to_json(spec.of)}
        | ({"minItems": spec.min_items} if spec.min_items else {})
    ),
    Map: lambda spec: {
        "type": "object",
        "additionalProperties": to_json(spec.values),
        **({"propertyNames": to_json(spec.keys)} if spec.keys else {}),
    },
    AnyValue: lambda spec: {},
    ValueOrMatcher: lambda spec: {},
    Ref: lambda spec: {"$ref": f"#/$defs/{spec.name}"},
    OneOf: _one_of_json,
    Obj: _obj_json,
    Tagged: lambda spec: {
        "type": "object",
        "required": [spec.key],
        "properties": {spec.key: {"enum": list(spec.choices)}},
        "allOf": [
            {"if": {"required": [spec.key], "properties": {spec.key: {"const": name}}}, "then": to_json(form)}
            for name, form in spec.choices.items()
        ],
    },
}
