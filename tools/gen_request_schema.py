"""Write mockbay/wire/request_schema.json from the installed `anthropic` SDK's request types.

The SDK's TypedDicts (`MessageCreateParams`, `MessageCountTokensParams` and their beta twins,
with every nested `*_param.py` type) are the API's request shapes; reading them here means a
new SDK release is one `make schema-gen` away. Each type is read as closed (a key it does not
declare is refused) unless the SDK marks it `extra: allow`. The few facts the types do not carry
(header-only parameters, the deprecated sampling fields, which beta entry unlocks a beta field)
are the tables below, documented in docs/wire-notes.md.

Output: `{"sdk", "roots", "beta_fields", "defs"}`. A node is a scalar name (`string`, `integer`,
`number`, `boolean`, `any`, `null`) or one of `{"enum": [...]}`, `{"list": node}`,
`{"map": node}`, `{"ref": def}`, `{"any_of": [node, ...]}` or
`{"tagged": key, "tags": {tag: def}, "default": def}` (a union told apart by one literal key; the
default member is the one whose key may be absent). A def is
`{"fields": {key: node}, "required": [key, ...], "open": bool}`.

Usage: `python tools/gen_request_schema.py [--check] [OUT]`.
"""

from __future__ import annotations

import collections.abc
import json
import sys
import types
import typing
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pydantic
import typing_extensions
from anthropic.types import message_count_tokens_params, message_create_params
from anthropic.types.beta import message_count_tokens_params as beta_count_tokens_params
from anthropic.types.beta import message_create_params as beta_create_params
from anthropic.types.beta.beta_json_output_format_param import BetaJSONOutputFormatParam

OUT = Path(__file__).resolve().parent.parent / "mockbay" / "wire" / "request_schema.json"

ROOTS: dict[str, Any] = {
    "messages": message_create_params.MessageCreateParams,
    "count_tokens": message_count_tokens_params.MessageCountTokensParams,
    "beta_messages": beta_create_params.MessageCreateParams,
    "beta_count_tokens": beta_count_tokens_params.MessageCountTokensParams,
}
# Parameters the SDK sends as headers (`anthropic-beta`, `anthropic-user-profile-id`, ...).
HEADER_PARAMS = frozenset({"betas", "user_profile_id", "workspace_id"})
# Sampling fields the SDK types dropped but the API still takes on older models.
DEPRECATED_SAMPLING: dict[str, Any] = {"temperature": "number", "top_p": "number", "top_k": "integer"}
# A beta field is refused unless an `anthropic-beta` entry starts with one of its prefixes.
# Compaction's edit (`compact_20260112`) lives in `context_management`, and Anthropic's compaction
# guide sends only `compact-2026-01-12` with it (docs/wire-notes.md, "Compaction").
BETA_FIELDS = {
    "mcp_servers": ["mcp-client-"],
    "context_management": ["context-management-", "compact-"],
    "compaction": ["compact-"],
    "fallbacks": ["server-side-fallback-"],
    "fallback_credit_token": ["fallback-credit-"],
    "thread": ["message-threads-"],
    "output_format": ["structured-outputs-"],
}
# Beta fields upstream still takes that the SDK's types no longer declare: the structured-outputs
# beta's top-level `output_format`, which `output_config.format` superseded and LiteLLM 1.110
# still sends, with `anthropic-beta: structured-outputs-2025-11-13` (docs/real-clients.md).
RETIRED_BETA_FIELDS: dict[str, Any] = {"output_format": BetaJSONOutputFormatParam}
NOT_JSON = (bytes, typing.IO, __import__("os").PathLike)


class Reader:
    """Turns SDK types into nodes, collecting object defs by a unique name."""

    def __init__(self) -> None:
        self.defs: dict[str, dict[str, Any]] = {}
        self.names: dict[Any, str] = {}

    def node(self, tp: Any) -> Any:
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing_extensions.Required, typing_extensions.NotRequired, typing.Annotated):
            return self.node(args[0])
        if tp is type(None):
            return "null"
        if tp in (str, int, float, bool):
            return {str: "string", int: "integer", float: "number", bool: "boolean"}[tp]
        if tp is object or tp is Any:
            return "any"
        if origin is typing.Literal:
            return {"enum": list(args)}
        if origin in (typing.Union, types.UnionType):
            return self.union([a for a in _members(tp) if not _not_json(a)])
        if origin in (list, collections.abc.Iterable, collections.abc.Sequence) or _sequence_not_str(tp):
            item = self.node(args[0])
            if isinstance(item, dict) and "ref" in item and "type" in self.defs[item["ref"]]["required"]:
                item = self.tagged([item["ref"]])  # a list of one block kind: upstream says so by tag
            return {"list": item}
        if origin in (dict, collections.abc.Mapping):
            return {"map": self.node(args[1])}
        if typing_extensions.is_typeddict(tp) or _is_model(tp):
            return {"ref": self.define(tp)}
        raise TypeError(f"unsupported type {tp!r}")

    def union(self, members: list[Any]) -> Any:
        nodes = _flatten([self.node(m) for m in members])
        objects = [n for n in nodes if isinstance(n, dict) and "ref" in n]
        maps = [n for n in nodes if isinstance(n, dict) and "map" in n]
        if objects and maps and len(objects) == 1:  # `Typed | Dict[str, object]`: typed keys, open
            self.defs[objects[0]["ref"]]["open"] = True
            nodes = [n for n in nodes if n not in maps]
            objects = [n for n in nodes if isinstance(n, dict) and "ref" in n]
        return self.simplify(nodes)

    def simplify(self, nodes: list[Any]) -> Any:
        """One node for a union: objects become a tagged union, and enums, tagged unions on one
        key, and lists each join into one node, so a value meets one candidate per JSON type."""
        nodes = _flatten(nodes)
        joins = (("ref", self.join_refs), ("enum", _join_enums), ("tagged", self.join_tagged))
        for kind, join in (*joins, ("list", self.join_lists)):
            group = [n for n in nodes if isinstance(n, dict) and kind in n]
            if len(group) > 1 and (kind != "tagged" or len({n["tagged"] for n in group}) == 1):
                first = nodes.index(group[0])
                nodes = [n for n in nodes if n not in group]
                nodes.insert(first, join(group))
                nodes = _flatten(nodes)
        return nodes[0] if len(nodes) == 1 else {"any_of": nodes}

    def join_refs(self, group: list[dict[str, Any]]) -> dict[str, Any]:
        """Objects told apart by a tag; without one (a param type and its response twin), one
        object taking what either takes."""
        refs = [n["ref"] for n in group]
        try:
            return self.tagged(refs)
        except TypeError:
            return {"ref": self.merged(refs)}

    def join_tagged(self, group: list[dict[str, Any]]) -> dict[str, Any]:
        tags: dict[str, list[str]] = {}
        for node in group:
            for tag, ref in node["tags"].items():
                tags.setdefault(tag, []).append(ref)
        joined: dict[str, Any] = {
            "tagged": group[0]["tagged"],
            "tags": {tag: self.merged(refs) for tag, refs in tags.items()},
        }
        defaults = [node["default"] for node in group if "default" in node]
        if defaults:
            joined["default"] = self.merged(defaults)
        return joined

    def join_lists(self, group: list[dict[str, Any]]) -> dict[str, Any]:
        return {"list": self.simplify([node["list"] for node in group])}

    def tagged(self, refs: list[str]) -> dict[str, Any]:
        """A union of objects told apart by `type` (or `role`); members sharing a tag merge."""
        for key in ("type", "role"):
            tags: dict[str, list[str]] = {}
            default: list[str] = []
            for ref in refs:
                field = self.defs[ref]["fields"].get(key)
                if not (isinstance(field, dict) and "enum" in field):
                    if not (isinstance(field, dict) and "any_of" in field and _enum_in(field)):
                        break
                    field = _enum_in(field)
                for tag in field["enum"]:
                    tags.setdefault(tag, []).append(ref)
                if key not in self.defs[ref]["required"]:
                    default.append(ref)
            else:
                node: dict[str, Any] = {
                    "tagged": key,
                    "tags": {tag: self.merged(group) for tag, group in tags.items()},
                }
                if default:
                    node["default"] = self.merged(default)
                return node
        raise TypeError(f"objects without a discriminator: {refs}")

    def merged(self, refs: list[str]) -> str:
        """One def accepting what any of `refs` accepts (a param type and its response twin)."""
        refs = list(dict.fromkeys(refs))
        if len(refs) == 1:
            return refs[0]
        name = "|".join(refs)
        if name not in self.defs:
            fields: dict[str, Any] = {}
            for ref in refs:
                for key, node in self.defs[ref]["fields"].items():
                    fields[key] = node if key not in fields else self.union_nodes(fields[key], node)
            required = [
                k for k in self.defs[refs[0]]["required"] if all(k in self.defs[r]["required"] for r in refs)
            ]
            self.defs[name] = {
                "fields": fields,
                "required": required,
                "open": any(self.defs[r]["open"] for r in refs),
            }
        return name

    def union_nodes(self, a: Any, b: Any) -> Any:
        return a if a == b else self.simplify([a, b])

    def define(self, tp: Any) -> str:
        if tp in self.names:
            return self.names[tp]
        name = tp.__name__
        if name in self.defs:
            name = f"{tp.__module__.rsplit('.', 1)[-1]}.{name}"
        self.names[tp] = name
        self.defs[name] = {"fields": {}, "required": [], "open": False}
        if _is_model(tp):
            fields = {(f.alias or key): (f.annotation, f.is_required()) for key, f in tp.model_fields.items()}
        else:
            hints = typing.get_type_hints(tp, include_extras=True)
            fields = {key: (hint, _required(tp, key, hint)) for key, hint in hints.items()}
            config = getattr(tp, "__pydantic_config__", {})
            self.defs[name]["open"] = config.get("extra") == "allow"
        for key, (hint, required) in fields.items():
            if key in HEADER_PARAMS:
                continue
            self.defs[name]["fields"][key] = self.node(hint)
            if required:
                self.defs[name]["required"].append(key)
        return name

    def root(self, tp: Any, *, beta: bool) -> str:
        """A params type; the streaming / non-streaming pair becomes one def."""
        members = typing.get_args(tp) if typing.get_origin(tp) is typing.Union else (tp,)
        name = self.merged([self.define(m) for m in members])
        fields = self.defs[name]["fields"]
        for key, scalar in DEPRECATED_SAMPLING.items():
            fields.setdefault(key, scalar)
        for key, retired in RETIRED_BETA_FIELDS.items() if beta else ():
            fields.setdefault(key, self.node(retired))
        return name


def _required(tp: Any, key: str, hint: Any) -> bool:
    """From the hint itself: the SDK's `from __future__ import annotations` hides `Required`
    from `__required_keys__`; unmarked keys follow the totality of the class declaring them."""
    origin = typing.get_origin(hint)
    if origin in (typing_extensions.Required, typing_extensions.NotRequired):
        return origin is typing_extensions.Required
    return bool(_declaring(tp, key).__total__)


def _declaring(tp: Any, key: str) -> Any:
    """The TypedDict that declares `key`: a TypedDict's MRO hides its TypedDict bases."""
    for base in getattr(tp, "__orig_bases__", ()):
        if typing_extensions.is_typeddict(base) and key in typing.get_type_hints(base):
            return _declaring(base, key)
    return tp


def _members(tp: Any) -> list[Any]:
    """A union's members, nested unions (a discriminated `Annotated[Union[...], ...]`) spliced in."""
    found: list[Any] = []
    for arg in typing.get_args(tp):
        if typing.get_origin(arg) is typing.Annotated:
            arg = typing.get_args(arg)[0]
        found.extend(_members(arg) if typing.get_origin(arg) in (typing.Union, types.UnionType) else [arg])
    return found


def _not_json(tp: Any) -> bool:
    origin = typing.get_origin(tp) or tp
    return isinstance(origin, type) and issubclass(origin, NOT_JSON)


def _sequence_not_str(tp: Any) -> bool:
    return getattr(typing.get_origin(tp) or tp, "__name__", "") == "SequenceNotStr"


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, pydantic.BaseModel)


def _join_enums(group: list[dict[str, Any]]) -> dict[str, Any]:
    return {"enum": list(dict.fromkeys(value for node in group for value in node["enum"]))}


def _enum_in(node: dict[str, Any]) -> dict[str, Any] | None:
    return next((n for n in node["any_of"] if isinstance(n, dict) and "enum" in n), None)


def _flatten(nodes: list[Any]) -> list[Any]:
    flat: list[Any] = []
    for node in nodes:
        for inner in node["any_of"] if isinstance(node, dict) and "any_of" in node else [node]:
            if inner not in flat:
                flat.append(inner)
    return flat


def generate() -> str:
    reader = Reader()
    roots = {name: reader.root(tp, beta=name.startswith("beta_")) for name, tp in ROOTS.items()}
    schema = {
        "sdk": f"anthropic {version('anthropic')}",
        "generator": "tools/gen_request_schema.py",
        "roots": roots,
        "beta_fields": BETA_FIELDS,
        "defs": dict(sorted(reader.defs.items())),
    }
    head = json.dumps({k: v for k, v in schema.items() if k != "defs"}, indent=1)[:-2]
    defs = ",\n".join(f"  {json.dumps(name)}: {json.dumps(spec)}" for name, spec in schema["defs"].items())
    return f'{head},\n "defs": {{\n{defs}\n }}\n}}\n'  # one def a line: SDK upgrades diff well


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [a for a in argv if not a.startswith("--")]
    out = Path(paths[0]) if paths else OUT
    text = generate()
    if check:
        same = out.exists() and out.read_text(encoding="utf-8") == text
        print(f"{out}: {'up to date' if same else 'differs from the installed SDK; run make schema-gen'}")
        return 0 if same else 1
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out} from anthropic {version('anthropic')}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
