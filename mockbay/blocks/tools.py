"""Blocks that call a tool: `tool_use` (the client runs it), `server_tool_use` (upstream runs it:
web search, code execution, ...) and `mcp_tool_use` (an MCP server runs it).

A call arrives with `input: {}` in `content_block_start` and its input as `input_json_delta`
pieces, the first one `""` as upstream sends it; a call that does not fit in `max_tokens` is
dropped whole. `input_chunks` fixes the pieces (checked at load time to join to `input`).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from mockbay.blocks.base import (
    BlockKind,
    Delta,
    Received,
    RenderContext,
    Splitter,
    block_spec,
    register,
    wire_json,
)
from mockbay.render import ids
from mockbay.scenario.model import Block
from mockbay.scenario.spec import AnyValue, List, Map, Obj, Ref, Spec, Str
from mockbay.tokens import count_tokens
from mockbay.wire.limits import (
    SERVER_TOOL_USE_ID,
    SERVER_TOOL_USE_ID_PATTERN,
    TOOL_USE_ID,
    TOOL_USE_ID_PATTERN,
)

if TYPE_CHECKING:
    from mockbay.record.scrub import Scrubber
    from mockbay.scenario.nodes import Fields
    from mockbay.scenario.walker import Walker

log = logging.getLogger(__name__)

CALLER = Map(
    AnyValue(),
    nullable=True,
    doc="Who called the tool, as the wire has it: {type: direct}, {type: ..., tool_id: ...}.",
)


def call_spec(
    doc: str,
    id_spec: Str,
    name_doc: str = "Tool name.",
    required: tuple[str, ...] = ("name",),
    **more: Spec,
) -> Obj:
    """The mapping of a tool call: name, input, id, input_chunks and the kind's other wire fields."""
    return Obj(
        {
            "name": Str(min_len=1, doc=name_doc),
            "input": Map(
                AnyValue(), doc="Tool arguments (a JSON object); default {} or parsed input_chunks."
            ),
            "id": id_spec,
            "input_chunks": List(
                Str(), min_items=1, doc="Streamed input_json_delta pieces; must join to input."
            ),
            **more,
        },
        required=required,
        doc=doc,
    )


TOOL_CALL = call_spec(
    "A tool call: {name, input, id, input_chunks, caller, toolset_name}.",
    # The client sends the id back in its tool_result, where upstream refuses one off the pattern.
    Str(
        min_len=1,
        pattern=TOOL_USE_ID.pattern,
        doc="Fixed tool_use id; default derived from seed and request.",
        hint=f"a tool_use id matches {TOOL_USE_ID_PATTERN} (letters, digits, _ and -), as upstream "
        "requires of the tool_result that answers it",
    ),
    caller=CALLER,
    toolset_name=Str(min_len=1, doc="The toolset the tool belongs to (computer and browser toolsets)."),
)
_CALL_KEYS = ("name", "input", "id", "input_chunks")


def load_call(w: Walker, kind: str, f: Fields) -> Any:
    """A call's Block, after checking that `input_chunks` join to `input` (or give it)."""
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
        type=kind,
        name=f.values["name"],
        input=value,
        id=f.get("id"),
        input_chunks=tuple(chunks) if chunks is not None else None,
        fields=tuple((k, v) for k, v in f.values.items() if k not in _CALL_KEYS),
    )


def record_call(
    received: Received, scrubber: Scrubber, streamed: bool, call: Obj
) -> tuple[dict[str, Any], int]:
    """The call's scenario mapping (`call` is its kind's spec) and how many input deltas its
    replay sends.

    The streamed JSON pieces are kept unless they held a key (then one piece) or do not join to
    a JSON object (cut short: input {}). Without pieces mockbay sends one empty delta, as upstream
    does for a tool without arguments (docs/wire.md §5.5). A null is kept where the spec takes
    one (`caller: null`, sent as null again); any other is left out, for mockbay's default.
    """
    start = received.start
    tool_input: Any = start.get("input", {})
    chunks = received.pieces("input_json_delta", "partial_json")
    joined = "".join(chunks)
    if joined.strip():
        try:
            tool_input = json.loads(joined)
        except ValueError:
            tool_input = None
        if not isinstance(tool_input, dict):
            log.warning(
                "%s %s: streamed input is not a JSON object; recorded as {}", start["type"], start.get("id")
            )
            tool_input, joined = {}, ""
    clean = scrubber.json(tool_input)
    if clean != tool_input or scrubber.text(joined) != joined:
        chunks = [json.dumps(clean, ensure_ascii=False)]
    spec: dict[str, Any] = {"name": start.get("name", ""), "input": clean}
    if streamed and joined.strip():
        spec["input_chunks"] = chunks
    spec["id"] = scrubber.text(str(start.get("id", "")))
    nullable = {name for name, field in call.fields.items() if field.nullable}
    others = {k: v for k, v in start.items() if k not in (*_CALL_KEYS, "type")}
    spec.update(scrubber.json({k: v for k, v in others.items() if v is not None or k in nullable}))
    return spec, len(spec.get("input_chunks", [""]))


@register
@dataclass(frozen=True, slots=True, eq=False)
class ToolUse(BlockKind):
    """`tool_use`, a call the client runs: its input streams as `input_json_delta` pieces and it
    makes the default stop reason `tool_use`. The base of the other two calls."""

    TYPE = "tool_use"
    KEY_DOC = "A tool_use block: a call the client runs."
    FINGERPRINTED = frozenset({"type", "id", "name", "input", "cache_control"})
    CLIENT_TOOL_CALL = True
    ID_PREFIX: ClassVar[str] = "toolu"
    CALL: ClassVar[Obj] = TOOL_CALL  # the mapping under the kind's key

    id: str
    name: str
    input: Any
    pieces: tuple[str, ...] | None = None
    extra: tuple[tuple[str, Any], ...] = ()  # the kind's other wire fields (caller, server_name, ...)

    @classmethod
    def spec(cls) -> Any:
        return block_spec(cls, Ref("tool_use", doc="A tool_use block."))

    @classmethod
    def load(cls, w: Walker, f: Fields, path: str) -> Any:
        return load_call(w, cls.TYPE, f.values[cls.TYPE])

    @classmethod
    def render(cls, block: Block, ctx: RenderContext) -> ToolUse:
        return cls(
            id=block.id or ids.tool_use_id(ctx.seed, ctx.fingerprint, ctx.position, cls.ID_PREFIX),
            name=block.name or "",
            input=block.input if block.input is not None else {},
            pieces=block.input_chunks,
            extra=block.fields,
        )

    def to_json(self) -> dict[str, Any]:
        return {"type": self.TYPE, "id": self.id, "name": self.name, "input": self.input, **dict(self.extra)}

    def opening(self) -> dict[str, Any]:
        return {**self.to_json(), "input": {}}

    def deltas(self, split: Splitter) -> list[Delta]:
        if self.pieces is not None:
            pieces = list(self.pieces)
        else:
            pieces = ["", *split("tool_use", wire_json(self.input))] if self.input else [""]
        return [({"type": "input_json_delta", "partial_json": p}, p) for p in pieces]

    def output_tokens(self) -> int:
        return count_tokens(self.name) + count_tokens(wire_json(self.input))

    @classmethod
    def record(cls, received: Received, scrubber: Scrubber, streamed: bool) -> tuple[dict[str, Any], int]:
        spec, deltas = record_call(received, scrubber, streamed, cls.CALL)
        return {cls.TYPE: spec}, deltas


@register
@dataclass(frozen=True, slots=True, eq=False)
class ServerToolUse(ToolUse):
    """`server_tool_use`, a call upstream runs itself (web search, code execution, ...): it
    streams like `tool_use` but leaves the stop reason alone, as the client does not answer it."""

    TYPE = "server_tool_use"
    KEY_DOC = "A server_tool_use block: a call upstream runs itself (web search, code execution, ...)."
    CLIENT_TOOL_CALL = False
    ID_PREFIX = "srvtoolu"
    CALL = call_spec(
        "A server tool call: {name, input, id, input_chunks, caller}.",
        # Sent back in the next request's history, where upstream refuses one off the pattern.
        Str(
            min_len=1,
            pattern=SERVER_TOOL_USE_ID.pattern,
            doc="Fixed id (srvtoolu_...); default derived from seed and request.",
            hint=f"a server_tool_use id matches {SERVER_TOOL_USE_ID_PATTERN} (srvtoolu_, then letters, "
            "digits and _), as upstream requires of it when the client sends the turn back",
        ),
        name_doc="Server tool: web_search, web_fetch, code_execution, bash_code_execution, "
        "text_editor_code_execution, tool_search_tool_regex or tool_search_tool_bm25.",
        caller=CALLER,
    )

    @classmethod
    def spec(cls) -> Any:
        return block_spec(cls, cls.CALL)


@register
@dataclass(frozen=True, slots=True, eq=False)
class McpToolUse(ToolUse):
    """`mcp_tool_use` (beta MCP connector), a call an MCP server runs: `tool_use` plus its
    `server_name`, and like `server_tool_use` it leaves the stop reason alone."""

    TYPE = "mcp_tool_use"
    KEY_DOC = "An mcp_tool_use block (beta MCP connector): a call an MCP server runs."
    FINGERPRINTED = frozenset({"type", "id", "name", "input", "server_name", "cache_control"})
    CLIENT_TOOL_CALL = False
    ID_PREFIX = "mcptoolu"
    CALL = call_spec(
        "An MCP tool call: {name, server_name, input, id, input_chunks}.",
        Str(min_len=1, doc="Fixed id (mcptoolu_...); default derived from seed and request."),
        required=("name", "server_name"),
        server_name=Str(min_len=1, doc="The MCP server's name, as in the request's mcp_servers."),
    )

    @classmethod
    def spec(cls) -> Any:
        return block_spec(cls, cls.CALL)
