"""Parsed JSON body → `MessagesRequest`, or `ApiError(400, "invalid_request_error")` as upstream.

Messages reuse upstream's texts and `path: reason` form (reference §3.3). Strict where upstream
is strict, lenient where it is lenient (§3.2, real-clients §4): unknown top-level fields, any
model string, `system`-role messages and same-role runs all pass. Any JSON value as body ends in
a view or an `ApiError`, nothing else. Stdlib only; imports `errors`, `wire.models`, `wire.request`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from mockbay.errors import ApiError
from mockbay.wire.models import find_model
from mockbay.wire.request import MessagesRequest, ToolResultView

# Request content block tags, SDK 2.13.0 order (beta ones included: a mock stays permissive).
MESSAGE_TAGS = (
    "text", "image", "document", "search_result", "thinking", "redacted_thinking", "tool_use",
    "tool_result", "server_tool_use", "web_search_tool_result", "web_fetch_tool_result",
    "advisor_tool_result", "code_execution_tool_result", "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result", "tool_search_tool_result", "mcp_tool_use",
    "mcp_tool_result", "container_upload", "compaction", "tool_addition", "tool_removal",
    "mcp_tool_listing", "fallback",
)  # fmt: skip
TOOL_RESULT_TAGS = ("text", "image", "search_result", "document", "tool_reference", "browser_state")
TEXT_ONLY = ("text",)
ROLES = ("user", "assistant", "system")
TOOL_CHOICES = ("auto", "any", "tool", "none")
THINKING_TYPES = ("enabled", "disabled", "between_tools", "adaptive")
THINKING_ON = ("enabled", "adaptive")
FORCED = ("any", "tool")
MAX_CACHE_CONTROL = 4
MIN_BUDGET = 1024
INTERLEAVED_BETA = "interleaved-thinking-2025-05-14"
TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,128}")


def validate_messages(body: object, headers: Mapping[str, str]) -> MessagesRequest:
    """`POST /v1/messages`: `max_tokens` is required and capped by the model (§12.3)."""
    return _validate(body, headers, counting=False)


def validate_count_tokens(body: object, headers: Mapping[str, str]) -> MessagesRequest:
    """`POST /v1/messages/count_tokens`: the same rules without `max_tokens` (view gets 0)."""
    return _validate(body, headers, counting=True)


def _bad(message: str) -> ApiError:
    return ApiError(400, "invalid_request_error", message)


def _validate(body: object, headers: Mapping[str, str], *, counting: bool) -> MessagesRequest:
    if not isinstance(body, dict):
        raise _bad("Input should be an object")
    for key in ("messages", "model") if counting else ("max_tokens", "messages", "model"):
        if key not in body:
            raise _bad(f"{key}: Field required")
    model = _str(body["model"], "model")
    max_tokens = 0 if counting else _max_tokens(body["max_tokens"], model)
    messages = _list(body["messages"], "messages")
    if not messages:
        raise _bad("messages: at least one message is required")
    _check_scalars(body)
    _check_system(body.get("system"))
    tool_names = _check_tools(body.get("tools"))
    for index, message in enumerate(messages):
        _check_message(message, index, index == len(messages) - 1)
    _check_tool_pairs(messages)
    _check_cache_control(body)
    choice, choice_name = _check_tool_choice(body.get("tool_choice"), tool_names)
    thinking = _check_thinking(body, max_tokens if not counting else None, choice, headers)
    return _view(body, headers, max_tokens, tool_names, choice, choice_name, thinking)


# -- primitive types: pydantic's wording, which upstream passes through ----------------------


def _str(value: object, path: str) -> str:
    if not isinstance(value, str):
        raise _bad(f"{path}: Input should be a valid string")
    return value


def _list(value: object, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise _bad(f"{path}: Input should be a valid list")
    return value


def _obj(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _bad(f"{path}: Input should be an object")
    return value


def _int(value: object, path: str, minimum: int) -> int:
    if isinstance(value, float) and not value.is_integer():
        raise _bad(f"{path}: Input should be a valid integer, got a number with a fractional part")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(f"{path}: Input should be a valid integer")
    if value < minimum:
        raise _bad(f"{path}: Input should be greater than or equal to {minimum}")
    return int(value)


def _unit(value: object, path: str) -> float:
    """A number in 0..1, as `temperature` and `top_p` must be."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(f"{path}: Input should be a valid number")
    if value < 0:
        raise _bad(f"{path}: Input should be greater than or equal to 0")
    if value > 1:
        raise _bad(f"{path}: Input should be less than or equal to 1")
    return float(value)


def _tag(block: object, path: str, tags: tuple[str, ...]) -> tuple[dict[str, Any], str]:
    """A block's object and `type`, as a pydantic discriminated union reports them."""
    block = _obj(block, path)
    if "type" not in block:
        raise _bad(f"{path}: Unable to extract tag using discriminator 'type'")
    tag = block["type"]
    if not isinstance(tag, str) or tag not in tags:
        expected = ", ".join(f"'{t}'" for t in tags)
        raise _bad(
            f"{path}: Input tag '{tag}' found using 'type' does not match any of the expected tags: "
            + expected
        )
    return block, tag


def _field(block: dict[str, Any], path: str, key: str) -> object:
    if key not in block:
        raise _bad(f"{path}.{key}: Field required")
    return block[key]


# -- top-level fields ------------------------------------------------------------------------


def _max_tokens(value: object, model: str) -> int:
    max_tokens = _int(value, "max_tokens", 0)
    info = find_model(model)
    if info is not None and max_tokens > info.max_tokens:
        raise _bad(
            f"max_tokens: {max_tokens} > {info.max_tokens}, which is the maximum allowed number of "
            f"output tokens for {model}"
        )
    return max_tokens


def _check_scalars(body: dict[str, Any]) -> None:
    """Optional scalar fields; `null` counts as absent everywhere."""
    if body.get("stream") is not None and not isinstance(body["stream"], bool):
        raise _bad("stream: Input should be a valid boolean")
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            _unit(body[key], key)
    if body.get("top_k") is not None:
        _int(body["top_k"], "top_k", 0)
    if body.get("stop_sequences") is not None:
        for index, stop in enumerate(_list(body["stop_sequences"], "stop_sequences")):
            if not _str(stop, f"stop_sequences.{index}").strip():
                raise _bad("stop_sequences: each stop sequence must contain non-whitespace")
    if body.get("metadata") is not None:
        user_id = _obj(body["metadata"], "metadata").get("user_id")
        if user_id is not None:
            _str(user_id, "metadata.user_id")
    if body.get("cache_control") is not None:
        _obj(body["cache_control"], "cache_control")


def _check_system(system: object) -> None:
    if system is None or isinstance(system, str):
        return
    for index, block in enumerate(_list(system, "system")):
        _check_text(_tag(block, f"system.{index}", TEXT_ONLY)[0], f"system.{index}", "system")


def _check_tools(tools: object) -> tuple[str, ...]:
    """Tool names offered; custom tools (no `type`, or `custom`) need a valid name and schema."""
    if tools is None:
        return ()
    names: list[str] = []
    for index, tool in enumerate(_list(tools, "tools")):
        tool = _obj(tool, f"tools.{index}")
        kind = tool.get("type")
        if kind is None or kind == "custom":
            path = f"tools.{index}.custom"
            name = _str(_field(tool, path, "name"), f"{path}.name")
            if not TOOL_NAME.fullmatch(name):
                raise _bad(f"{path}.name: String should match pattern '^[a-zA-Z0-9_-]{{1,128}}$'")
            _obj(_field(tool, path, "input_schema"), f"{path}.input_schema")
            names.append(name)
        elif not isinstance(kind, str):
            raise _bad(f"tools.{index}.type: Input should be a valid string")
        elif isinstance(tool.get("name"), str):
            names.append(tool["name"])
    return tuple(names)


# -- messages and blocks ---------------------------------------------------------------------


def _check_message(message: object, index: int, last: bool) -> None:
    path = f"messages.{index}"
    message = _obj(message, path)
    role = _field(message, path, "role")
    if not isinstance(role, str) or role not in ROLES:
        raise _bad(f"{path}.role: Input should be 'user', 'assistant' or 'system'")
    content = _field(message, path, "content")
    optional = last and role == "assistant"
    if content == "" or content == []:
        if optional:
            return
        raise _bad(
            f"{path}: all messages must have non-empty content except for the optional final "
            "assistant message"
        )
    if isinstance(content, str):
        _check_text({"text": content}, path, "messages")
        blocks: list[dict[str, Any]] = [{"type": "text", "text": content}]
    else:
        tags = TEXT_ONLY if role == "system" else MESSAGE_TAGS
        blocks = [
            _check_block(block, f"{path}.content.{j}", tags)
            for j, block in enumerate(_list(content, f"{path}.content"))
        ]
    if optional and blocks[-1]["type"] == "text" and blocks[-1]["text"] != blocks[-1]["text"].rstrip():
        raise _bad("messages: final assistant content cannot end with trailing whitespace")


def _check_block(block: object, path: str, tags: tuple[str, ...]) -> dict[str, Any]:
    block, tag = _tag(block, path, tags)
    where = f"{path}.{tag}"
    if tag == "text":
        _check_text(block, where, "messages")
    elif tag == "tool_use":
        _str(_field(block, where, "id"), f"{where}.id")
        _str(_field(block, where, "name"), f"{where}.name")
        _obj(_field(block, where, "input"), f"{where}.input")
    elif tag == "tool_result":
        _str(_field(block, where, "tool_use_id"), f"{where}.tool_use_id")
        if block.get("is_error") is not None and not isinstance(block["is_error"], bool):
            raise _bad(f"{where}.is_error: Input should be a valid boolean")
        content = block.get("content")
        if isinstance(content, list):
            for index, inner in enumerate(content):
                _check_block(inner, f"{where}.content.{index}", TOOL_RESULT_TAGS)
        elif content is not None:
            _str(content, f"{where}.content")
    return block


def _check_text(block: dict[str, Any], where: str, scope: str) -> None:
    """Empty and whitespace-only text is refused, reported at the list level (`messages`/`system`)."""
    text = _str(_field(block, where, "text"), f"{where}.text")
    if not text:
        raise _bad(f"{scope}: text content blocks must be non-empty")
    if not text.strip():
        raise _bad(f"{scope}: text content blocks must contain non-whitespace text")


def _blocks(message: dict[str, Any]) -> list[dict[str, Any]]:
    content = message["content"]
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def _check_tool_pairs(messages: list[dict[str, Any]]) -> None:
    """Each `tool_use` answered first thing in the next turn; each `tool_result` answers one (§10).

    `system`-role messages sit outside the user/assistant pairing, so they are skipped.
    """
    turns = [(index, m) for index, m in enumerate(messages) if m["role"] != "system"]
    for position, (index, message) in enumerate(turns):
        if message["role"] == "assistant":
            nxt = turns[position + 1][1] if position + 1 < len(turns) else None
            _check_answered(index, message, nxt if nxt and nxt["role"] == "user" else None)
        else:
            prev = turns[position - 1][1] if position > 0 else None
            _check_results(index, message, prev if prev and prev["role"] == "assistant" else None)


def _tool_use_ids(message: dict[str, Any] | None) -> list[str]:
    return [b["id"] for b in _blocks(message) if b["type"] == "tool_use"] if message else []


def _check_answered(index: int, assistant: dict[str, Any], reply: dict[str, Any] | None) -> None:
    leading: set[str] = set()
    for block in _blocks(reply) if reply else []:
        if block["type"] != "tool_result":
            break
        leading.add(block["tool_use_id"])
    missing = [tool_id for tool_id in _tool_use_ids(assistant) if tool_id not in leading]
    if missing:
        raise _bad(
            f"messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately after: "
            f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block in "
            "the next message."
        )


def _check_results(index: int, user: dict[str, Any], previous: dict[str, Any] | None) -> None:
    offered = set(_tool_use_ids(previous))
    stray = [
        (position, block["tool_use_id"])
        for position, block in enumerate(_blocks(user))
        if block["type"] == "tool_result" and block["tool_use_id"] not in offered
    ]
    if stray:
        raise _bad(
            f"messages.{index}.content.{stray[0][0]}: unexpected `tool_use_id` found in `tool_result` "
            f"blocks: {', '.join(tool_id for _, tool_id in stray)}. Each `tool_result` block must have a "
            "corresponding `tool_use` block in the previous message."
        )


def _check_cache_control(body: dict[str, Any]) -> None:
    """Breakpoints over tools, system, message blocks (tool_result content too) and top level (§8)."""
    marked: list[object] = [body.get("cache_control")]
    marked += [tool.get("cache_control") for tool in body.get("tools") or []]
    if isinstance(body.get("system"), list):
        marked += [block.get("cache_control") for block in body["system"]]
    for message in body["messages"]:
        for block in _blocks(message):
            marked.append(block.get("cache_control"))
            if block["type"] == "tool_result" and isinstance(block.get("content"), list):
                marked += [inner.get("cache_control") for inner in block["content"]]
    found = sum(mark is not None for mark in marked)
    if found > MAX_CACHE_CONTROL:
        raise _bad(
            f"A maximum of {MAX_CACHE_CONTROL} blocks with cache_control may be provided. Found {found}."
        )


# -- tool_choice and thinking ----------------------------------------------------------------


def _check_tool_choice(choice: object, tool_names: tuple[str, ...]) -> tuple[str | None, str | None]:
    if choice is None:
        return None, None
    choice, kind = _tag(choice, "tool_choice", TOOL_CHOICES)
    if kind != "tool":
        return kind, None
    name = _str(_field(choice, "tool_choice.tool", "name"), "tool_choice.tool.name")
    if name not in tool_names:
        raise _bad(f"Tool '{name}' not found in provided tools")
    return kind, name


def _check_thinking(
    body: dict[str, Any], max_tokens: int | None, choice: str | None, headers: Mapping[str, str]
) -> bool:
    """Thinking rules (§9); returns whether thinking is on. `max_tokens` is None when counting."""
    if body.get("thinking") is None:
        return False
    thinking, kind = _tag(body["thinking"], "thinking", THINKING_TYPES)
    if kind == "enabled":
        budget = _int(
            _field(thinking, "thinking.enabled", "budget_tokens"), "thinking.enabled.budget_tokens", 0
        )
        if budget < MIN_BUDGET:
            raise _bad(
                f"thinking.enabled.budget_tokens: Input should be greater than or equal to {MIN_BUDGET}"
            )
        if max_tokens is not None and budget >= max_tokens and not _interleaved(headers):
            raise _bad("`max_tokens` must be greater than `thinking.budget_tokens`.")
    if kind not in THINKING_ON:
        return False
    if choice in FORCED:
        raise _bad("Thinking may not be enabled when tool_choice forces tool use.")
    if body.get("temperature") is not None and body["temperature"] != 1:
        raise _bad("`temperature` may only be set to 1 when thinking is enabled or in adaptive mode")
    return True


def _interleaved(headers: Mapping[str, str]) -> bool:
    betas = next((value for name, value in headers.items() if name.lower() == "anthropic-beta"), "")
    return INTERLEAVED_BETA in (beta.strip() for beta in betas.split(","))


# -- the view --------------------------------------------------------------------------------


def _text(content: object) -> str:
    """String content as is, else its text blocks joined with newlines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b["text"] for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


def _tool_results(messages: list[dict[str, Any]]) -> tuple[ToolResultView, ...]:
    """Results in the last user message, named after the tool_use they answer."""
    users = [index for index, m in enumerate(messages) if m["role"] == "user"]
    if not users:
        return ()
    names = {
        b["id"]: b["name"]
        for m in messages[: users[-1]]
        if m["role"] == "assistant"
        for b in _blocks(m)
        if b["type"] == "tool_use"
    }
    return tuple(
        ToolResultView(
            tool_use_id=b["tool_use_id"],
            name=names.get(b["tool_use_id"]),
            content_text=_text(b.get("content")),
            is_error=bool(b.get("is_error")),
        )
        for b in _blocks(messages[users[-1]])
        if b["type"] == "tool_result"
    )


def _view(
    body: dict[str, Any],
    headers: Mapping[str, str],
    max_tokens: int,
    tool_names: tuple[str, ...],
    choice: str | None,
    choice_name: str | None,
    thinking: bool,
) -> MessagesRequest:
    messages: list[dict[str, Any]] = body["messages"]
    users = [m for m in messages if m["role"] == "user"]
    metadata = body.get("metadata") or {}
    return MessagesRequest(
        body=body,
        headers={name.lower(): value for name, value in headers.items()},
        model=body["model"],
        max_tokens=max_tokens,
        stream=bool(body.get("stream")),
        system_text=_text(body.get("system")),
        last_user_text=_text(users[-1]["content"]) if users else None,
        message_texts=tuple(_text(m["content"]) for m in messages),
        turn=sum(m["role"] == "assistant" for m in messages),
        tool_results=_tool_results(messages),
        tool_names=tool_names,
        tool_choice=choice,
        tool_choice_name=choice_name,
        thinking=thinking,
        stop_sequences=tuple(body.get("stop_sequences") or ()),
        metadata_user_id=metadata.get("user_id"),
    )
