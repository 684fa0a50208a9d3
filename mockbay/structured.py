"""Structured outputs (docs/scenario-contract.md §10): the schema a request asks its answer to
follow, and whether a reply's text does; likewise whether a call's input follows its tool's
`input_schema`, and whether a call names a tool the request offers at all.

The schema is `output_config.format` with `type: json_schema` (what the SDK's
`messages.parse()` sends), or the older beta top-level `output_format`. The reply's answer is
the text of its text blocks joined, as upstream's structured answer is one JSON text. Checks use
the maintained `jsonschema` validator (Draft 2020-12, as the API documents), imported on first
use so a server that never sees a schema does not pay for it. Pure: no I/O.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from mockbay.blocks import BlockKind
from mockbay.blocks.text import Text
from mockbay.blocks.tools import ToolUse
from mockbay.pattern_cache import compiling


def output_schema(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The JSON Schema the request asks the answer to follow, or None."""
    config = body.get("output_config")
    fmt = config.get("format") if isinstance(config, dict) else None
    if fmt is None:
        fmt = body.get("output_format")
    schema = fmt.get("schema") if isinstance(fmt, dict) and fmt.get("type") == "json_schema" else None
    return schema if isinstance(schema, dict) else None


def schema_problem(value: Any, schema: Mapping[str, Any]) -> str | None:
    """The first way `value` breaks `schema` (path and message), or None when it is valid; the
    schema's patterns stay in `re`'s cache only when short (`pattern_cache`)."""
    with compiling(schema):
        return _schema_problem(value, schema)


def _schema_problem(value: Any, schema: Mapping[str, Any]) -> str | None:
    from jsonschema import Draft202012Validator
    from referencing.exceptions import Unresolvable

    try:
        validator = Draft202012Validator(schema)
        error = next(iter(sorted(validator.iter_errors(value), key=lambda e: list(e.path))), None)
    except (Unresolvable, RecursionError) as exc:  # a `$ref` that points nowhere, or round for ever
        return f"the request's schema cannot be used: {str(exc).splitlines()[0]}"
    except FutureWarning as exc:  # a `pattern` `re` warns about, where warnings are errors
        return f"the request's schema cannot be used: {exc}"
    except Exception:
        # A schema that is no schema (`type: nonsense`, `enum: 5`, a broken `pattern`) makes the
        # validator raise whatever its keyword code meets. The metaschema says why; checking it
        # costs ~2 ms, so only here. What the metaschema accepts is a fault of ours, and goes on.
        why = _not_a_schema(schema)
        if why is None:
            raise
        return f"the request's schema cannot be used: {why}"
    if error is None:
        return None
    where = "/".join(str(p) for p in error.path) or "(root)"
    return f"at {where}: {error.message}"


def _not_a_schema(schema: Mapping[str, Any]) -> str | None:
    """Why `schema` breaks the Draft 2020-12 metaschema, or None."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import SchemaError

    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return str(exc).splitlines()[0]
    return None


def reply_problem(blocks: Iterable[BlockKind], schema: Mapping[str, Any]) -> str | None:
    """Why the reply's text is not a JSON value valid for `schema`, or None."""
    text = "".join(b.text for b in blocks if isinstance(b, Text))
    try:
        value = json.loads(text)
    except ValueError as exc:
        return f"the reply's text is not JSON ({exc}), but the request asks for output_config.format"
    problem = schema_problem(value, schema)
    return f"the reply's JSON text does not follow the request's schema {problem}" if problem else None


def input_problems(blocks: Iterable[BlockKind], body: Mapping[str, Any]) -> list[str]:
    """Why each call of one of the request's client tools breaks that tool's `input_schema`."""
    tools = body.get("tools")
    schemas = {
        tool.get("name"): tool["input_schema"]
        for tool in (tools if isinstance(tools, list) else ())
        if isinstance(tool, dict) and isinstance(tool.get("input_schema"), dict)
    }
    calls = [block for block in blocks if isinstance(block, ToolUse) and block.name in schemas]
    found = ((call.name, schema_problem(call.input, schemas[call.name])) for call in calls)
    return [
        f"the input of tool {name!r} does not follow its input_schema {why}" for name, why in found if why
    ]


def unoffered_calls(blocks: Iterable[BlockKind], offered: Collection[str]) -> list[str]:
    """A client `tool_use` naming none of the `offered` tools (the request's `tool_names`), which
    upstream never sends: a scenario written for another tool list, say. (A server tool's or an
    MCP server's call is named by its tool, not by a `tools` entry.)"""
    calls = [block.name for block in blocks if type(block) is ToolUse]
    if not calls:  # the usual reply: nothing to look up
        return []
    unoffered = dict.fromkeys(name for name in calls if name not in offered)
    return [f"tool_use calls {name!r}, which the request's tools do not offer" for name in unoffered]
