"""The request schema generated from the SDK (`request_schema.json`), compiled once into checks.

`tools/gen_request_schema.py` writes the data; this module turns each node into a function that
checks one JSON value (closures for lists, unions and scalars; generated source for objects, where
most of the time goes), so a request is checked by calling functions, never by walking the data.
Paths cost nothing on success: a failing check raises `Invalid` with its reason, and each
enclosing check adds its key on the way out (`messages.0.content.1.image.source.base64.data`).
Texts follow pydantic's, which upstream passes through (docs/wire-notes.md). `null` counts as
absent for an optional key, as the hand-written rules always allowed. Stdlib only.
"""

from __future__ import annotations

import json
import types
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any, cast

Check = Callable[[Any], None]
SCHEMA_FILE = "request_schema.json"
ROLE = "role"


class Invalid(Exception):
    """A check failed: `reason`, and the path parts gathered innermost first."""

    def __init__(self, reason: str, *parts: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.parts = list(parts)

    def message(self) -> str:
        path = ".".join(reversed(self.parts))
        return f"{path}: {self.reason}" if path else self.reason


def _expected(values: list[Any]) -> str:
    """pydantic's literal list: `'a'`, `'a' or 'b'`, `'a', 'b' or 'c'`."""
    quoted = [f"'{v}'" for v in values]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


SCALAR_REASONS = {"string": "Input should be a valid string", "boolean": "Input should be a valid boolean"}


def _string(value: Any) -> None:
    if value.__class__ is not str:
        raise Invalid(SCALAR_REASONS["string"])


def _integer(value: Any) -> None:
    kind = value.__class__
    if kind is int:
        return
    if kind is float:
        if value.is_integer():
            return
        raise Invalid("Input should be a valid integer, got a number with a fractional part")
    raise Invalid("Input should be a valid integer")


def _number(value: Any) -> None:
    if value.__class__ is not int and value.__class__ is not float:
        raise Invalid("Input should be a valid number")


def _boolean(value: Any) -> None:
    if value.__class__ is not bool:
        raise Invalid(SCALAR_REASONS["boolean"])


def _null(value: Any) -> None:
    if value is not None:
        raise Invalid("Input should be None")


def _anything(value: Any) -> None:
    return None


SCALARS: dict[str, Check] = {
    "string": _string,
    "integer": _integer,
    "number": _number,
    "boolean": _boolean,
    "null": _null,
    "any": _anything,
}
# Scalars of exactly one class, which an object's check tests without a call.
INLINE: dict[str, type] = {"string": str, "boolean": bool}
# The Python classes each scalar check accepts, for dispatching a union on the value's class.
ACCEPTS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int, float),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "any": (str, int, float, bool, type(None), list, dict),
}


class Compiler:
    """Compiles the defs of one schema file; each def once, shared by every root using it."""

    def __init__(self, defs: dict[str, Any]) -> None:
        self.defs = defs
        self.done: dict[str, Check] = {}
        self.pending: dict[str, list[Check]] = {}

    def node(self, node: Any) -> Check:
        if isinstance(node, str):
            return SCALARS[node]
        if "enum" in node:
            return self.enum(node["enum"])
        if "list" in node:
            return self.array(self.node(node["list"]))
        if "map" in node:
            return self.mapping(self.node(node["map"]))
        if "ref" in node:
            return self.ref(node["ref"])
        if "any_of" in node:
            return self.any_of(node["any_of"])
        return self.tagged(node)

    def enum(self, values: list[Any]) -> Check:
        if all(isinstance(v, bool) for v in values) and len(set(values)) == 2:
            return _boolean
        allowed = frozenset(values)
        kinds = frozenset(v.__class__ for v in values)
        reason = f"Input should be {_expected(values)}"

        def check(value: Any) -> None:
            if value.__class__ not in kinds or value not in allowed:
                raise Invalid(reason)

        return check

    def array(self, item: Check) -> Check:
        def check(value: Any) -> None:
            if value.__class__ is not list:
                raise Invalid("Input should be a valid list")
            if item is _anything:
                return
            for index, inner in enumerate(value):
                try:
                    item(inner)
                except Invalid as error:
                    error.parts.append(str(index))
                    raise

        return check

    def mapping(self, item: Check) -> Check:
        def check(value: Any) -> None:
            if value.__class__ is not dict:
                raise Invalid("Input should be an object")
            if item is _anything:
                return
            for key, inner in value.items():
                try:
                    item(inner)
                except Invalid as error:
                    error.parts.append(key)
                    raise

        return check

    def ref(self, name: str) -> Check:
        if name in self.done:
            return self.done[name]
        if name in self.pending:  # a def that contains itself: bind once it is compiled
            cell = self.pending[name]
            return lambda value: cell[0](value)
        self.pending[name] = cell = []
        check = self.obj(self.defs[name])
        cell.append(check)
        self.done[name] = check
        del self.pending[name]
        return check

    def obj(self, spec: dict[str, Any]) -> Check:
        """An object's check is Python source generated for its def: the required keys tested one
        by one, then each key given matched against the declared ones in turn (required first),
        its value checked inline where one test does it (`string`, `boolean`, literals) and by a
        call otherwise. An optional key's `null` counts as absent, so `X or null` there is
        compiled as `X`. The source becomes bytecode when the check first runs (most defs never
        do), which keeps start-up as short as the closures it replaced."""
        required = spec["required"]
        names: dict[str, Any] = {"Invalid": Invalid}
        lines = ["def check(value):", "    if value.__class__ is not dict:"]
        lines.append("        raise Invalid('Input should be an object')")
        for key in required:
            lines += [f"    if {key!r} not in value:", f"        raise Invalid('Field required', {key!r})"]
        fields: dict[str, Any] = spec["fields"]
        branches: list[str] = []
        for key in sorted(fields, key=lambda k: k not in required):  # stable: declared order kept
            is_required = key in required
            node = fields[key] if is_required else _without_null(fields[key])
            branches.append(f"{'elif' if branches else 'if'} key == {key!r}:")
            branches += [f"    {line}" for line in self.field(key, node, is_required, names)]
        if not spec["open"]:
            extra = ["raise Invalid('Extra inputs are not permitted', key)"]
            branches += ["else:", *(f"    {line}" for line in extra)] if branches else extra
        if branches:
            lines.append("    for key, inner in value.items():")
            lines += [f"        {line}" for line in branches]
        return _compiled_on_first_call("\n".join(lines), names)

    def field(self, key: str, node: Any, required: bool, names: dict[str, Any]) -> list[str]:
        """Source lines checking `inner`, the value of `key`; objects bind what they call in `names`."""
        if node == "any":
            return ["pass"]
        absent = "" if required else " and inner is not None"
        inline = _inline(node)
        if inline is not None:
            entry, reason = inline
            if entry is str or entry is bool:
                test = f"inner.__class__ is not {entry.__name__}"
            elif isinstance(entry, str):
                test = f"inner != {entry!r}"
            else:
                test = f"(inner.__class__ is not str or inner not in {_bind(names, entry)})"
            return [f"if {test}{absent}:", f"    raise Invalid({reason!r}, {key!r})"]
        name = _bind(names, self.node(node))
        call = [
            "try:",
            f"    {name}(inner)",
            "except Invalid as error:",
            f"    error.parts.append({key!r})",
            "    raise",
        ]
        return call if required else ["if inner is not None:", *(f"    {line}" for line in call)]

    def any_of(self, nodes: list[Any]) -> Check:
        """Dispatch on the value's class; the last member reports a value no member takes."""
        by_class: dict[type, list[Check]] = {}
        if "string" in nodes:  # a plain string takes any literal string too
            nodes = [n for n in nodes if not (isinstance(n, dict) and "enum" in n and _all_str(n["enum"]))]
        for node in nodes:
            member = self.node(node)
            for kind in _classes(node):
                by_class.setdefault(kind, []).append(member)
        last = self.node(next(n for n in reversed(nodes) if n != "null"))
        dispatch = {kind: _first_of(checks) for kind, checks in by_class.items()}

        def check(value: Any) -> None:
            dispatch.get(value.__class__, last)(value)

        return check

    def tagged(self, node: dict[str, Any]) -> Check:
        key: str = node["tagged"]
        members = {tag: self.ref(name) for tag, name in node["tags"].items()}
        default_name = node.get("default")
        default = self.ref(default_name) if default_name else None
        default_tag = _tag_of(self.defs[default_name], key) if default_name else None
        listed = ", ".join(f"'{tag}'" for tag in members)
        in_path = key != ROLE  # upstream names `messages.N.content`, not the role member

        def check(value: Any) -> None:
            if value.__class__ is not dict:
                raise Invalid("Input should be an object")
            tag = value.get(key)
            member: Check | None
            if tag is None and default is not None:
                member, tag = default, default_tag
            else:
                member = members.get(tag) if tag.__class__ is str else None
                if member is None:
                    raise _bad_tag(key, tag, listed, list(members))
            if not in_path:
                member(value)
                return
            try:
                member(value)
            except Invalid as error:
                error.parts.append(str(tag))
                raise

        return check


def _bad_tag(key: str, tag: Any, listed: str, tags: list[str]) -> Invalid:
    if key == ROLE:  # the hand-written rules' wording, which tests and users rely on
        return Invalid("Field required" if tag is None else f"Input should be {_expected(tags)}", ROLE)
    if tag is None:
        return Invalid(f"Unable to extract tag using discriminator '{key}'")
    return Invalid(f"Input tag '{tag}' found using '{key}' does not match any of the expected tags: {listed}")


def _tag_of(spec: dict[str, Any], key: str) -> str:
    """The literal a default member's key takes when given (`custom` for a client tool)."""
    node = spec["fields"][key]
    options = node.get("any_of", [node])
    return next(str(o["enum"][0]) for o in options if isinstance(o, dict) and "enum" in o)


def _classes(node: Any) -> tuple[type, ...]:
    if isinstance(node, str):
        return ACCEPTS[node]
    if "enum" in node:
        return tuple({v.__class__ for v in node["enum"]})
    if "list" in node:
        return (list,)
    return (dict,)


Inline = type | str | frozenset[str]  # a class, a literal, or a set of literals


# `check` before its source is compiled: compiles it, takes its bytecode, and runs it. Created
# with the generated source's globals, so `_build` and `check` are looked up there.
_STUB = next(
    const
    for const in compile("def check(value):\n    _build()\n    check(value)\n", SCHEMA_FILE, "exec").co_consts
    if isinstance(const, types.CodeType)
)


def _compiled_on_first_call(source: str, names: dict[str, Any]) -> Check:
    """A check that runs `source`'s `check`, compiled when first called; the function object
    stays the same, so the checks already holding it run the compiled code from then on."""
    stub = types.FunctionType(_STUB, names, "check")

    def build() -> None:
        exec(source, names)  # the source is built by `Compiler.obj` from the package's schema alone
        stub.__code__ = names["check"].__code__

    names["_build"] = build
    names["check"] = stub
    return cast(Check, stub)


def _bind(names: dict[str, Any], value: Any) -> str:
    """A fresh name for `value` in a generated check's globals."""
    name = f"c{len(names)}"
    names[name] = value
    return name


def _without_null(node: Any) -> Any:
    """`X` for `X or null`, which an optional key takes alike (its `null` counts as absent)."""
    if isinstance(node, dict) and "any_of" in node:
        others = [member for member in node["any_of"] if member != "null"]
        if len(others) == 1 and len(node["any_of"]) == 2:
            return others[0]
    return node


def _inline(node: Any) -> tuple[Inline, str] | None:
    """An entry an object checks without a call, and the reason it gives, for a node that has one."""
    if isinstance(node, str) and node in INLINE:
        return INLINE[node], SCALAR_REASONS[node]
    if isinstance(node, dict) and "enum" in node:
        values = node["enum"]
        if _all_str(values):
            return (
                values[0] if len(values) == 1 else frozenset(values)
            ), f"Input should be {_expected(values)}"
        if all(isinstance(v, bool) for v in values) and len(set(values)) == 2:
            return bool, SCALAR_REASONS["boolean"]
    return None


def _all_str(values: list[Any]) -> bool:
    return all(isinstance(v, str) for v in values)


def _first_of(checks: list[Check]) -> Check:
    """One check, or the first of several that passes (the first one's error otherwise)."""
    if len(checks) == 1:
        return checks[0]

    def check(value: Any) -> None:
        first: Invalid | None = None
        for member in checks:
            try:
                member(value)
                return
            except Invalid as error:
                first = first or error
        assert first is not None
        raise first

    return check


class RequestSchema:
    """The roots and beta gates of one schema file; each root is compiled the first time it is
    needed and kept (the server compiles the first-party roots at start-up)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.sdk: str = data["sdk"]
        self.beta_fields: dict[str, list[str]] = data["beta_fields"]
        # (field, "," + each beta prefix that unlocks it): found in "," + the entries joined by commas.
        self.beta_gates = tuple(
            (field, tuple(f",{prefix}" for prefix in prefixes))
            for field, prefixes in self.beta_fields.items()
        )
        self._refs: dict[str, str] = data["roots"]
        self._compiler = Compiler(data["defs"])
        self._roots: dict[str, Check] = {}

    def root(self, name: str) -> Check:
        """The check of one root: `messages`, `count_tokens`, `beta_messages`, `beta_count_tokens`."""
        check = self._roots.get(name)
        if check is None:
            check = self._roots[name] = self._compiler.ref(self._refs[name])
        return check


FIRST_PARTY_ROOTS = ("messages", "count_tokens")


@cache
def request_schema() -> RequestSchema:
    """Loaded on first use; the server loads it, and compiles `FIRST_PARTY_ROOTS`, at start-up."""
    text = Path(__file__).with_name(SCHEMA_FILE).read_text(encoding="utf-8")  # importlib.resources: +4 ms
    return RequestSchema(json.loads(text))
