"""Strict validation: the SDK's request schema, beta gates, tool sets and role placement.

What `--validation strict` adds to the hand-written rules of `wire.validate` (which both modes
run): the body must fit the generated schema (`wire.schema`) of its endpoint, beta-only fields
need their `anthropic-beta` entry, tool names are unique, blocks only the user sends
(image, document, search_result, tool_result) stay out of other roles' messages, and blocks only
the assistant sends (tool calls, thinking, server-tool results) out of user messages. The wording is
listed in docs/wire-notes.md. Stdlib only; imports `wire.schema` and `wire.fieldtypes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockbay.errors import ApiError
from mockbay.wire.fieldtypes import bad
from mockbay.wire.schema import Invalid, request_schema

USER_ONLY = frozenset({"image", "document", "search_result", "tool_result"})
# What only the assistant sends (docs/wire.md §3.2): its tool calls, thinking and server-tool
# results, sent back as they came. `container_upload` is not among them: the Files API puts a file
# in the code-execution container with one in a user message (docs/wire-notes.md).
ASSISTANT_ONLY = frozenset(
    {
        "tool_use",
        "thinking",
        "redacted_thinking",
        "server_tool_use",
        "web_search_tool_result",
        "web_fetch_tool_result",
        "code_execution_tool_result",
        "bash_code_execution_tool_result",
        "text_editor_code_execution_tool_result",
        "tool_search_tool_result",
        "mcp_tool_use",
        "mcp_tool_result",
    }
)
TOOL_NAME_CONFLICT = "tool_name_conflict"  # the SDK raises ToolNameConflictError on it
BETA_HEADER = "anthropic-beta"


def beta_entries(headers: Mapping[str, str]) -> tuple[str, ...]:
    """The `anthropic-beta` entries (comma-separated) of headers with lower-case names."""
    return tuple(filter(None, map(str.strip, headers.get(BETA_HEADER, "").split(","))))


def check_shape(body: object, headers: Mapping[str, str], *, counting: bool) -> None:
    """The endpoint's schema; a request with `anthropic-beta` entries is read as a beta request."""
    schema = request_schema()
    betas = beta_entries(headers)
    root = ("beta_" if betas else "") + ("count_tokens" if counting else "messages")
    try:
        schema.root(root)(body)
    except Invalid as error:
        raise bad(error.message()) from None
    if not betas:
        return
    assert isinstance(body, dict)  # the schema accepted it, so it is an object
    listed = "," + ",".join(betas)  # an entry starts with a prefix: ",prefix" is in it
    for field, gates in schema.beta_gates:
        if field in body and not any(gate in listed for gate in gates):
            raise bad(f"{field}: Extra inputs are not permitted")


def check_tools_and_roles(body: dict[str, Any]) -> None:
    """Unique tool names; user-only blocks only in user messages, assistant-only blocks out of
    them. The body fits the schema, so tools and blocks are objects and blocks have a `type`."""
    seen: dict[str, int] = {}
    for index, tool in enumerate(body.get("tools") or ()):
        name = tool.get("name")
        if isinstance(name, str):
            if name in seen:
                first = seen[name]
                message = (
                    f"tools.{index}.name: tool names must be unique; tools.{first} is also named '{name}'"
                )
                raise ApiError(400, "invalid_request_error", message, error_code=TOOL_NAME_CONFLICT)
            seen[name] = index
    for index, message in enumerate(body["messages"]):
        content = message.get("content")  # a beta system message may leave it out
        if not isinstance(content, list):
            continue
        role = message["role"]
        refused, owner = (ASSISTANT_ONLY, "assistant") if role == "user" else (USER_ONLY, "user")
        for position, block in enumerate(content):
            if block["type"] in refused:
                raise bad(
                    f"messages.{index}.content.{position}: `{block['type']}` blocks may only be sent in "
                    f"`{owner}` messages, not `{role}` ones"
                )
