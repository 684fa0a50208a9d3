"""Structured outputs' JSON Schema subset: the schemas upstream compiles into a grammar, and how
it refuses the rest.

Upstream constrains a structured answer (`output_config.format`, the beta `output_format`) and a
strict tool's call (`strict: true`) to their JSON Schema by compiling it, and answers a schema
outside the subset it compiles with a 400 before any model runs. Its structured-outputs guide
lists the subset and three limits on a request's strict schemas together; the texts are those
public reports quote (docs/wire-notes.md, "Structured outputs' schema subset", says which are
mockbay's own). Strict mode only, and `POST /v1/messages` only (upstream counts tokens without
compiling). Stdlib only; imports `wire.fieldtypes`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mockbay.wire.fieldtypes import bad

# Keywords each schema type does not compile (the guide: numerical, string-length and array
# constraints beyond `minItems` 0 or 1; and what its reports show refused beside them).
NUMERIC = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
UNSUPPORTED = {
    "integer": NUMERIC,
    "number": NUMERIC,
    "string": ("minLength", "maxLength"),
    "array": (
        "maxItems", "uniqueItems", "contains", "minContains", "maxContains", "prefixItems",
        "unevaluatedItems",
    ),
    "object": (
        "patternProperties", "propertyNames", "minProperties", "maxProperties", "dependentRequired",
        "dependentSchemas", "unevaluatedProperties", "if", "then", "else",
    ),
}  # fmt: skip
# What may not sit beside `anyOf` (a union is its branches alone; annotations may).
BESIDE_ANY_OF = ("type", "properties", "required", "additionalProperties", "items", "discriminator")
# A node that says what it takes: one of these, or it accepts any JSON value, which is refused.
DEFINING = ("type", "enum", "const", "anyOf", "allOf", "$ref")
MIN_ITEMS = (0, 1)
# `pattern` constructs the grammar cannot express (the guide: backreferences, lookaround, word
# boundaries), each named for mockbay's text. A class's `[\b]` is rare enough to be read as one.
PATTERN_CONSTRUCTS = (
    (re.compile(r"\(\?<?[=!]"), "lookahead or lookbehind assertions"),
    (re.compile(r"\\(?:[1-9]|k<)"), "backreferences"),
    (re.compile(r"\\[bB]"), "word boundaries"),
)
_LOCAL_DEF = re.compile(r"#/(?:\$defs|definitions)/([^/]+)")
MAX_STRICT_TOOLS = 20
MAX_OPTIONAL = 24
MAX_UNIONS = 16


def check_schema_subset(body: dict[str, Any]) -> None:
    """The request's output schema and its strict tools' input schemas, as upstream compiles them.
    The request schema already accepted the body, so `tools` entries and formats are objects."""
    schemas: list[tuple[str, Any]] = []
    fmt = (body.get("output_config") or {}).get("format")
    if fmt is not None:
        schemas.append(("output_config.format.schema", fmt.get("schema")))
    elif body.get("output_format") is not None:
        schemas.append(("output_format.schema", body["output_format"].get("schema")))
    strict = 0
    for index, tool in enumerate(body.get("tools") or ()):
        if tool.get("strict") is True and tool.get("type") in (None, "custom"):
            strict += 1
            schemas.append((f"tools.{index}.custom", tool.get("input_schema")))
    if not schemas:
        return
    if strict > MAX_STRICT_TOOLS:
        raise bad(
            f"A maximum of {MAX_STRICT_TOOLS} tools with `strict: true` may be provided. Found {strict}."
        )
    counts = _Counts()
    for where, schema in schemas:
        if isinstance(schema, dict):
            problem = _document_problem(schema, counts)
            if problem is not None:
                raise bad(f"{where}: {problem}")
    if counts.optional > MAX_OPTIONAL:
        raise bad(
            f"A maximum of {MAX_OPTIONAL} optional parameters across strict tool schemas and the output "
            f"schema may be provided. Found {counts.optional}."
        )
    if counts.unions > MAX_UNIONS:
        raise bad(
            f"A maximum of {MAX_UNIONS} parameters with union types across strict tool schemas and the "
            f"output schema may be provided. Found {counts.unions}."
        )


class _Counts:
    """Parameters (properties) not `required`, and those whose schema is a union, over all the
    request's strict schemas: upstream's complexity limits are on the sums."""

    __slots__ = ("optional", "unions")

    def __init__(self) -> None:
        self.optional = 0
        self.unions = 0


def _document_problem(schema: dict[str, Any], counts: _Counts) -> str | None:
    """The first node outside the subset (the root, then each definition), or a definition that
    reaches itself through `$ref`s."""
    refs: dict[str, set[str]] = {}
    problem = _node_problem(schema, counts, refs.setdefault("#", set()))
    for key in ("$defs", "definitions"):
        defs = schema.get(key)
        for name, node in defs.items() if isinstance(defs, dict) else ():
            problem = problem or _node_problem(node, counts, refs.setdefault(name, set()))
    return problem or _cycle(refs)


def _node_problem(node: Any, counts: _Counts, refs: set[str]) -> str | None:
    """Why `node` or a schema inside it is outside the subset, or None; the definitions its
    `$ref`s name go to `refs`. A definition's own node is walked by `_document_problem`."""
    if not isinstance(node, dict):
        return None
    if "not" in node:
        return "Schema keyword 'not' is not supported"
    if "oneOf" in node:
        return "Schema type 'oneOf' is not supported"
    ref = node.get("$ref")
    if isinstance(ref, str):
        refs.add("#" if ref == "#" else _def_name(ref))
    if not any(key in node for key in DEFINING):
        return "Empty schema ({}) that accepts any JSON value is not supported."
    if "anyOf" in node:
        beside = sorted(key for key in BESIDE_ANY_OF if key in node)
        if beside:
            return f"For 'anyOf', '{', '.join(beside)}' is not supported"
    kinds = node.get("type")
    for kind in kinds if isinstance(kinds, list) else (kinds,):
        problem = _type_problem(node, kind) if isinstance(kind, str) else None
        if problem is not None:
            return problem
    for inner in _subschemas(node, counts):
        problem = _node_problem(inner, counts, refs)
        if problem is not None:
            return problem
    return None


def _type_problem(node: dict[str, Any], kind: str) -> str | None:
    """Why `node`'s keywords for schema type `kind` are outside the subset, or None."""
    if kind == "object":
        extra = node.get("additionalProperties")
        if extra is True:
            return (
                "For 'object' type, 'additionalProperties: true' is not supported. Please set "
                "'additionalProperties' to false"
            )
        if extra is not False:
            return "For 'object' type, 'additionalProperties' must be explicitly set to false"
    elif kind == "array":
        if isinstance(node.get("items"), list):
            return "Invalid schema: Array types must be specified with a single object schema for 'items'."
        if "minItems" in node and node["minItems"] not in MIN_ITEMS:
            return "For 'array' type, 'minItems' values other than 0 or 1 are not supported"
    elif kind == "string" and isinstance(node.get("pattern"), str):
        for construct, name in PATTERN_CONSTRUCTS:
            if construct.search(node["pattern"]):
                return f"For 'string' type, 'pattern' with {name} is not supported"
    refused = [key for key in UNSUPPORTED.get(kind, ()) if key in node]
    if len(refused) == 1:
        return f"For '{kind}' type, property '{refused[0]}' is not supported"
    if refused:
        return f"For '{kind}' type, properties {', '.join(sorted(refused))} are not supported"
    return None


def _subschemas(node: dict[str, Any], counts: _Counts) -> Iterator[Any]:
    """The schemas directly inside `node`; its properties are counted as parameters."""
    properties = node.get("properties")
    if isinstance(properties, dict):
        required = node.get("required")
        required = required if isinstance(required, list) else ()
        for name, inner in properties.items():
            counts.optional += name not in required
            counts.unions += isinstance(inner, dict) and (
                "anyOf" in inner or isinstance(inner.get("type"), list)
            )
            yield inner
    if isinstance(node.get("items"), dict):
        yield node["items"]
    for key in ("anyOf", "allOf"):
        if isinstance(node.get(key), list):
            yield from node[key]


def _def_name(ref: str) -> str:
    """The definition a local `$ref` names, or the reference itself for any other one."""
    match = _LOCAL_DEF.fullmatch(ref)
    return match.group(1) if match else ref


def _cycle(refs: dict[str, set[str]]) -> str | None:
    """Upstream's text for the first definition that reaches itself through `$ref`s, or None."""
    for start in refs:
        path = _path_back(start, refs)
        if path is not None:
            return f"Circular reference detected in schema definitions: {' -> '.join(path)}"
    return None


def _path_back(start: str, refs: dict[str, set[str]]) -> list[str] | None:
    """The shortest chain of references from `start` back to itself, or None (breadth first)."""
    paths = [[start]]
    seen = {start}
    while paths:
        following: list[list[str]] = []
        for path in paths:
            for name in sorted(refs.get(path[-1], ())):
                if name == start:
                    return [*path, start]
                if name not in seen and name in refs:
                    seen.add(name)
                    following.append([*path, name])
        paths = following
    return None
