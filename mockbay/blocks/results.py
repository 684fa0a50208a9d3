"""Blocks that arrive whole: server tool results, `container_upload`, `mcp_tool_result`, `raw`.

Upstream sends each of these complete in `content_block_start`, with no deltas; they are not
generated text, so they cost no output tokens and are never cut. A result's `tool_use_id`
defaults to the nearest call before it (`server_tool_use`, or `mcp_tool_use` for an MCP
result); its `content` gets the wire's `type` tags and `encrypted_*` values filled in where
left out. `raw` is any block verbatim, the recorder's form for a kind mockbay has no class for.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from mockbay.blocks.base import BlockKind, Received, RenderContext, block_spec, register
from mockbay.blocks.tools import CALLER, McpToolUse, ServerToolUse, ToolUse
from mockbay.render import ids
from mockbay.scenario.model import Block
from mockbay.scenario.spec import AnyValue, Bool, List, Obj, Spec, Str

if TYPE_CHECKING:
    from mockbay.record.scrub import Scrubber
    from mockbay.scenario.nodes import Fields
    from mockbay.scenario.walker import Walker

_TOOL_USE_ID = Str(min_len=1, doc="The call this answers; default the nearest call before it.")


@dataclass(frozen=True, slots=True, eq=False)
class Whole(BlockKind):
    """A block sent complete in `content_block_start`: its wire fields are all it has."""

    FIELDS: ClassVar[dict[str, Spec]] = {}
    REQUIRED: ClassVar[tuple[str, ...]] = ("content",)
    BRINGS_CONTAINER: ClassVar[bool] = False  # a code-execution result: the message gets a container

    block: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def spec(cls) -> Any:
        inner = Obj(dict(cls.FIELDS), required=cls.REQUIRED, doc=cls.KEY_DOC)
        return block_spec(cls, inner)

    @classmethod
    def load(cls, w: Walker, f: Fields, path: str) -> Any:
        return Block(type=cls.TYPE, fields=tuple(f.values[cls.TYPE].values.items()))

    @classmethod
    def render(cls, block: Block, ctx: RenderContext) -> Whole:
        return cls(block={"type": cls.TYPE, **cls.complete(dict(block.fields), ctx)})

    @classmethod
    def complete(cls, fields: dict[str, Any], ctx: RenderContext) -> dict[str, Any]:
        """The wire fields with what upstream always sends filled in."""
        return fields

    def to_json(self) -> dict[str, Any]:
        return dict(self.block)

    @classmethod
    def record(cls, received: Received, scrubber: Scrubber, streamed: bool) -> tuple[dict[str, Any], int]:
        """The wire fields; a null kept where the kind takes one (`caller: null`), else left out."""
        nullable = {name for name, spec in cls.FIELDS.items() if spec.nullable}
        fields = {k: v for k, v in received.start.items() if k != "type" and (v is not None or k in nullable)}
        return {cls.TYPE: scrubber.json(fields)}, 0


@dataclass(frozen=True, slots=True, eq=False)
class ToolResult(Whole):
    """A server tool's result: `content` is a result or an error object, typed by its kind."""

    CALL: ClassVar[type[ToolUse]] = ServerToolUse
    RESULT_TYPE: ClassVar[str] = ""
    ERROR_TYPE: ClassVar[str] = ""
    DEFAULTS: ClassVar[dict[str, Any]] = {}
    FIELDS = {
        "content": AnyValue(doc="The result as the wire has it; its type tag is filled in when left out."),
        "tool_use_id": _TOOL_USE_ID,
        "caller": CALLER,
    }

    @classmethod
    def complete(cls, fields: dict[str, Any], ctx: RenderContext) -> dict[str, Any]:
        call = fields.pop("tool_use_id", None) or cls.call_id(ctx)
        fields["content"] = cls.typed(fields.get("content"), ctx)
        return {"tool_use_id": call, **cls.DEFAULTS, **fields}

    @classmethod
    def call_id(cls, ctx: RenderContext) -> str:
        for block in reversed(ctx.before):
            if isinstance(block, cls.CALL):
                return block.id
        return ids.tool_use_id(ctx.seed, ctx.fingerprint, ctx.position, cls.CALL.ID_PREFIX)

    @classmethod
    def typed(cls, content: Any, ctx: RenderContext) -> Any:
        return cls.tagged(content)

    @classmethod
    def tagged(cls, content: Any) -> Any:
        """`{error_code: ...}` is the error object, any other mapping the result."""
        if not isinstance(content, dict) or "type" in content:
            return content
        kind = cls.ERROR_TYPE if "error_code" in content else cls.result_type(content)
        return {"type": kind, **content}

    @classmethod
    def result_type(cls, content: dict[str, Any]) -> str:
        return cls.RESULT_TYPE


@register
@dataclass(frozen=True, slots=True, eq=False)
class WebSearchToolResult(ToolResult):
    """`web_search_tool_result`: a list of results, each tagged `web_search_result` with an
    `encrypted_content` generated when left out, or an error."""

    TYPE = "web_search_tool_result"
    KEY_DOC = "A web_search_tool_result: content is a list of results {url, title, page_age} or {error_code}."
    ERROR_TYPE = "web_search_tool_result_error"

    @classmethod
    def typed(cls, content: Any, ctx: RenderContext) -> Any:
        if not isinstance(content, list):
            return cls.tagged(content)
        return [
            {
                "type": "web_search_result",
                **item,
                "encrypted_content": item.get("encrypted_content")
                or ids.opaque(ctx.seed, ctx.fingerprint, ctx.position, n, item.get("url")),
            }
            if isinstance(item, dict)
            else item
            for n, item in enumerate(content)
        ]


@register
@dataclass(frozen=True, slots=True, eq=False)
class WebFetchToolResult(ToolResult):
    """`web_fetch_tool_result`: the fetched page, its untyped `content` tagged `document`,
    or an error."""

    TYPE = "web_fetch_tool_result"
    KEY_DOC = "A web_fetch_tool_result: content is {url, retrieved_at, content: <document>} or {error_code}."
    RESULT_TYPE = "web_fetch_result"
    ERROR_TYPE = "web_fetch_tool_result_error"

    @classmethod
    def typed(cls, content: Any, ctx: RenderContext) -> Any:
        typed = cls.tagged(content)
        document = typed.get("content") if isinstance(typed, dict) else None
        if isinstance(document, dict) and "type" not in document:
            typed = {**typed, "content": {"type": "document", **document}}
        return typed


@register
@dataclass(frozen=True, slots=True, eq=False)
class CodeExecutionToolResult(ToolResult):
    """`code_execution_tool_result`: stdout, stderr, return code and output files, empty and 0
    when left out, or an error; it brings the reply a `container`. The encrypted result (upstream's
    answer when the code called web search) gets its required `encrypted_stdout` derived from the
    seed and the request when left out, as search results get `encrypted_content`."""

    TYPE = "code_execution_tool_result"
    KEY_DOC = (
        "A code_execution_tool_result: content is {stdout, stderr, return_code, content}, "
        "{type: encrypted_code_execution_result, ...} or {error_code}."
    )
    RESULT_TYPE = "code_execution_result"
    ENCRYPTED_TYPE: ClassVar[str] = "encrypted_code_execution_result"
    ERROR_TYPE = "code_execution_tool_result_error"
    BRINGS_CONTAINER = True

    @classmethod
    def result_type(cls, content: dict[str, Any]) -> str:
        if cls.ENCRYPTED_TYPE and "encrypted_stdout" in content:
            return cls.ENCRYPTED_TYPE
        return cls.RESULT_TYPE

    @classmethod
    def typed(cls, content: Any, ctx: RenderContext) -> Any:
        typed = cls.tagged(content)
        if not isinstance(typed, dict):
            return typed
        if typed.get("type") == cls.RESULT_TYPE:
            return {"stdout": "", "stderr": "", "return_code": 0, "content": [], **typed}
        if typed.get("type") == cls.ENCRYPTED_TYPE:  # never "" (bash has no encrypted result)
            stdout = typed.get("encrypted_stdout") or ids.opaque(
                ctx.seed, ctx.fingerprint, ctx.position, "stdout"
            )
            return {"stderr": "", "return_code": 0, "content": [], **typed, "encrypted_stdout": stdout}
        return typed


@register
@dataclass(frozen=True, slots=True, eq=False)
class BashCodeExecutionToolResult(CodeExecutionToolResult):
    """`bash_code_execution_tool_result`: as `code_execution_tool_result`, with the bash
    tool's result and error types."""

    TYPE = "bash_code_execution_tool_result"
    KEY_DOC = "A bash_code_execution_tool_result: {stdout, stderr, return_code, content} or {error_code}."
    RESULT_TYPE = "bash_code_execution_result"
    ENCRYPTED_TYPE = ""  # the bash tool has no encrypted result
    ERROR_TYPE = "bash_code_execution_tool_result_error"


@register
@dataclass(frozen=True, slots=True, eq=False)
class TextEditorCodeExecutionToolResult(ToolResult):
    """`text_editor_code_execution_tool_result`: a view, create or str_replace result,
    told apart by its fields, or an error; it brings the reply a `container`."""

    TYPE = "text_editor_code_execution_tool_result"
    KEY_DOC = (
        "A text_editor_code_execution_tool_result: content is a view, create or str_replace result, "
        "or {error_code}."
    )
    ERROR_TYPE = "text_editor_code_execution_tool_result_error"
    BRINGS_CONTAINER = True

    @classmethod
    def result_type(cls, content: dict[str, Any]) -> str:
        if "is_file_update" in content:
            return "text_editor_code_execution_create_result"
        if "lines" in content or "old_start" in content:
            return "text_editor_code_execution_str_replace_result"
        return "text_editor_code_execution_view_result"


@register
@dataclass(frozen=True, slots=True, eq=False)
class ToolSearchToolResult(ToolResult):
    """`tool_search_tool_result`: the `tool_references` a regex or BM25 tool search found, or
    an error."""

    TYPE = "tool_search_tool_result"
    KEY_DOC = "A tool_search_tool_result: content is {tool_references: [...]} or {error_code}."
    RESULT_TYPE = "tool_search_tool_search_result"
    ERROR_TYPE = "tool_search_tool_result_error"


@register
@dataclass(frozen=True, slots=True, eq=False)
class AdvisorToolResult(ToolResult):
    """`advisor_tool_result` (beta advisor tool): the advisor model's `text` (with its
    `stop_reason`), its output redacted as `encrypted_content`, or an error."""

    TYPE = "advisor_tool_result"
    KEY_DOC = (
        "An advisor_tool_result: content is {text, stop_reason}, {encrypted_content, stop_reason} "
        "or {error_code}."
    )
    RESULT_TYPE = "advisor_result"
    REDACTED_TYPE: ClassVar[str] = "advisor_redacted_result"
    ERROR_TYPE = "advisor_tool_result_error"

    @classmethod
    def result_type(cls, content: dict[str, Any]) -> str:
        return cls.REDACTED_TYPE if "encrypted_content" in content else cls.RESULT_TYPE


@register
@dataclass(frozen=True, slots=True, eq=False)
class McpToolListing(Whole):
    """`mcp_tool_listing` (beta MCP connector): the tools the server fetched from an MCP server
    while answering, which the client sends back so later requests skip the fetch."""

    TYPE = "mcp_tool_listing"
    KEY_DOC = "An mcp_tool_listing: {mcp_server_name, tools: [{name, input_schema, description}]}."
    FIELDS = {
        "mcp_server_name": Str(min_len=1, doc="The MCP server the tools came from."),
        "tools": List(
            AnyValue(doc="A tool as the MCP server lists it: {name, input_schema, description}."),
            doc="The tools the MCP server listed.",
        ),
    }
    REQUIRED = ("mcp_server_name", "tools")


@register
@dataclass(frozen=True, slots=True, eq=False)
class McpToolResult(ToolResult):
    """`mcp_tool_result`: an MCP tool's answer (to the nearest `mcp_tool_use` unless `tool_use_id`
    says), its content as given with no type tags added; `is_error` defaults to false."""

    TYPE = "mcp_tool_result"
    KEY_DOC = "An mcp_tool_result (beta MCP connector): {content, is_error}."
    CALL = McpToolUse
    FIELDS = {
        "content": AnyValue(doc="A string or text blocks [{type: text, text: ...}]."),
        "is_error": Bool(doc="The MCP tool failed; default false."),
        "tool_use_id": _TOOL_USE_ID,
    }

    DEFAULTS = {"is_error": False}

    @classmethod
    def tagged(cls, content: Any) -> Any:
        return content


@register
@dataclass(frozen=True, slots=True, eq=False)
class ContainerUpload(Whole):
    """`container_upload`: a file put into the code-execution container, named by its `file_id`
    alone (the SDK's ContainerUploadBlock)."""

    TYPE = "container_upload"
    KEY_DOC = "A container_upload block: {file_id}."
    FIELDS = {"file_id": Str(min_len=1, doc="The uploaded file's id.")}
    REQUIRED = ("file_id",)


@register
@dataclass(frozen=True, slots=True, eq=False)
class Fallback(Whole):
    """`fallback` (beta `server-side-fallback-2026-07-01`): where one model's output gives way to
    the next, `{from: {model}, to: {model}, trigger: {type: refusal, category}}`. Server-side
    fallbacks put one per hop (`server/fallbacks.py`); the SDK's beta stream accumulator labels
    the message with its `to.model`."""

    TYPE = "fallback"
    KEY_DOC = "A fallback block: {from: {model}, to: {model}, trigger: {type: refusal, category}}."
    FIELDS = {
        "from": AnyValue(doc="{model: ...}: the model that declined."),
        "to": AnyValue(doc="{model: ...}: the model whose output follows."),
        "trigger": AnyValue(doc="{type: refusal, category: ...}: why the hand-over happened."),
    }
    REQUIRED = ("from", "to", "trigger")

    def model_after(self) -> str | None:
        to = self.block.get("to")
        model = to.get("model") if isinstance(to, dict) else None
        return model if isinstance(model, str) else None


@register
@dataclass(frozen=True, slots=True, eq=False)
class Raw(Whole):
    """Any block verbatim; written by the recorder for a kind mockbay has no class for."""

    TYPE = "raw"
    KEY_DOC = "Any block verbatim, {type: ..., ...}: whole in content_block_start, as-is in JSON."
    FIELDS = {"type": Str(min_len=1, strict=True, doc="The block's wire type.")}
    REQUIRED = ("type",)

    @classmethod
    def spec(cls) -> Any:
        fields = AnyValue(doc="A wire field of the block, sent as written.")
        return block_spec(cls, Obj(dict(cls.FIELDS), required=cls.REQUIRED, extra=fields, doc=cls.KEY_DOC))

    @classmethod
    def render(cls, block: Block, ctx: RenderContext) -> Raw:
        return cls(block=dict(block.fields))

    @classmethod
    def record(cls, received: Received, scrubber: Scrubber, streamed: bool) -> tuple[dict[str, Any], int]:
        return {"raw": scrubber.json(dict(received.start))}, 0
