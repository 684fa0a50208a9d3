"""The rules over `messages`: each message and block, tool_use/tool_result pairing, cache_control,
the request's PDF pages, a prefill under thinking.

Upstream's texts and paths (docs/wire.md §3.3, §8, §10); `system`-role messages and same-role runs
pass, as upstream lets them. Stdlib only; imports `wire.fieldtypes`, `wire.cachemarks`, `wire.limits`
(upstream's limits on images, PDFs and tool ids) and `wire.request` (a message's blocks), never
`wire.validate`.
"""

from __future__ import annotations

import re
from typing import Any

from mockbay.wire.cachemarks import check_cache_ttls, explicit_marks
from mockbay.wire.fieldtypes import array, bad, field, obj, string, tagged
from mockbay.wire.limits import SERVER_TOOL_USE_ID, TOOL_USE_ID, Carried, bad_tool_use_id, image_refusal
from mockbay.wire.request import THINKING_BLOCKS, blocks_of
from mockbay.wire.signatures import edited_thinking

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
# Upstream's text for a thinking block whose signature was made for other text (docs/wire.md §3.3).
EDITED_THINKING = "Invalid `signature` in `thinking` block"
ROLES = ("user", "assistant", "system")
MAX_CACHE_CONTROL = 4
# Upstream's text, typo included (seen in many public reports, 2025-2026), at `messages.N.content.0`.
THINKING_PREFILL = (
    "Expected `thinking` or `redacted_thinking`, but found `{found}`. When `thinking` is enabled, a final "
    "`assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and "
    "`tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this "
    "requirement, disable `thinking`. Please consult our documentation at "
    "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
)


def check_message(message: object, index: int, last: bool, carried: Carried) -> None:
    """One message and its blocks; its base64 PDFs and its images are added to `carried`, which
    `check_carried` weighs once every message is checked."""
    path = f"messages.{index}"
    message = obj(message, path)
    role = field(message, path, "role")
    if not isinstance(role, str) or role not in ROLES:
        raise bad(f"{path}.role: Input should be 'user', 'assistant' or 'system'")
    content = field(message, path, "content")
    optional = last and role == "assistant"
    if content == "" or content == []:
        if optional:
            return
        raise bad(
            f"{path}: all messages must have non-empty content except for the optional final "
            "assistant message"
        )
    if isinstance(content, str):
        check_text({"text": content}, path, "messages")
        blocks: list[dict[str, Any]] = [{"type": "text", "text": content}]
    else:
        tags = TEXT_ONLY if role == "system" else MESSAGE_TAGS
        blocks = [
            _check_block(block, f"{path}.content.{j}", tags, carried)
            for j, block in enumerate(array(content, f"{path}.content"))
        ]
    if optional and blocks[-1]["type"] == "text" and blocks[-1]["text"] != blocks[-1]["text"].rstrip():
        raise bad("messages: final assistant content cannot end with trailing whitespace")


def _check_block(block: object, path: str, tags: tuple[str, ...], carried: Carried) -> dict[str, Any]:
    block, tag = tagged(block, path, tags)
    where = f"{path}.{tag}"
    if tag == "text":
        check_text(block, where, "messages")
    elif tag == "tool_use":
        _check_tool_use_id(field(block, where, "id"), f"{where}.id")
        string(field(block, where, "name"), f"{where}.name")
        obj(field(block, where, "input"), f"{where}.input")
    elif tag == "server_tool_use":
        _check_tool_use_id(field(block, where, "id"), f"{where}.id", SERVER_TOOL_USE_ID)
    elif tag == "tool_result":
        _check_tool_use_id(field(block, where, "tool_use_id"), f"{where}.tool_use_id")
        if block.get("is_error") is not None and not isinstance(block["is_error"], bool):
            raise bad(f"{where}.is_error: Input should be a valid boolean")
        content = block.get("content")
        if isinstance(content, list):
            for index, inner in enumerate(content):
                _check_block(inner, f"{where}.content.{index}", TOOL_RESULT_TAGS, carried)
        elif content is not None:
            string(content, f"{where}.content")
    elif tag == "thinking" and edited_thinking(block.get("signature"), block.get("thinking")):
        raise bad(f"{path}: {EDITED_THINKING}")
    elif tag == "image":
        _check_image(block.get("source"), where, carried)
    elif tag == "document":
        source = block.get("source")
        if (
            isinstance(source, dict)
            and source.get("type") == "base64"
            and isinstance(source.get("data"), str)
        ):
            carried.pdfs.append(source["data"])
    return block


def _check_tool_use_id(value: object, where: str, pattern: re.Pattern[str] = TOOL_USE_ID) -> None:
    message = bad_tool_use_id(string(value, where), where, pattern)
    if message is not None:
        raise bad(message)


def _check_image(source: object, where: str, carried: Carried) -> None:
    """A base64 image over upstream's size limit, empty, or not in its `media_type`'s format; any
    other source (or shape) passes here. Every image is counted, and a base64 one kept for
    `check_carried`'s dimension limits."""
    carried.image_count += 1
    if isinstance(source, dict) and source.get("type") == "base64" and isinstance(source.get("data"), str):
        message = image_refusal(source["data"], source.get("media_type"), where)
        if message is not None:
            raise bad(message)
        carried.images.append((where, source["data"]))


def check_text(block: dict[str, Any], where: str, scope: str) -> None:
    """Empty and whitespace-only text is refused, reported at the list level (`messages`/`system`);
    an empty one that carries a breakpoint first at its own path, as upstream reports a pasted
    screenshot's empty caption (docs/wire.md §3.3)."""
    text = string(field(block, where, "text"), f"{where}.text")
    if not text:
        if block.get("cache_control") is not None:
            raise bad(f"{where}: cache_control cannot be set for empty text blocks")
        raise bad(f"{scope}: text content blocks must be non-empty")
    if not text.strip():
        raise bad(f"{scope}: text content blocks must contain non-whitespace text")


def check_tool_pairs(messages: list[dict[str, Any]]) -> None:
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
    return [b["id"] for b in blocks_of(message) if b["type"] == "tool_use"] if message else []


def _check_answered(index: int, assistant: dict[str, Any], reply: dict[str, Any] | None) -> None:
    leading: set[str] = set()
    for block in blocks_of(reply) if reply else []:
        if block["type"] != "tool_result":
            break
        leading.add(block["tool_use_id"])
    missing = [tool_id for tool_id in _tool_use_ids(assistant) if tool_id not in leading]
    if missing:
        raise bad(
            f"messages.{index}: `tool_use` ids were found without `tool_result` blocks immediately after: "
            f"{', '.join(missing)}. Each `tool_use` block must have a corresponding `tool_result` block in "
            "the next message."
        )


def _check_results(index: int, user: dict[str, Any], previous: dict[str, Any] | None) -> None:
    offered = set(_tool_use_ids(previous))
    stray = [
        (position, block["tool_use_id"])
        for position, block in enumerate(blocks_of(user))
        if block["type"] == "tool_result" and block["tool_use_id"] not in offered
    ]
    if stray:
        raise bad(
            f"messages.{index}.content.{stray[0][0]}: unexpected `tool_use_id` found in `tool_result` "
            f"blocks: {', '.join(tool_id for _, tool_id in stray)}. Each `tool_result` block must have a "
            "corresponding `tool_use` block in the previous message."
        )


def check_carried(carried: Carried) -> None:
    """The base64 PDFs and the images of all messages (a tool_result's content too, as
    `check_message` gathered them) within upstream's limits on the whole request."""
    message = carried.refusal()
    if message is not None:
        raise bad(message)


def continued_turn(message: dict[str, Any]) -> bool:
    """A final assistant message sent back to go on from, not a prefill: a turn that stopped with
    `pause_turn` (it holds a server tool's call or result), or a compaction's summary alone, which
    stands for the conversation before it (docs/wire-notes.md)."""
    content = message.get("content")
    if not isinstance(content, list) or not content:
        return False
    types = [str(block.get("type")) if isinstance(block, dict) else "" for block in content]
    if all(kind == "compaction" for kind in types):
        return True
    return any(kind in ("server_tool_use", "mcp_tool_use") or kind.endswith("_tool_result") for kind in types)


def check_thinking_prefill(messages: list[dict[str, Any]]) -> None:
    """With thinking on, a final assistant message the reply would continue must start with a
    thinking block. An empty one prefills nothing and a continued turn is no prefill, so both pass
    (docs/wire-notes.md)."""
    index = len(messages) - 1
    last = messages[index]
    if last["role"] != "assistant" or not last["content"] or continued_turn(last):
        return
    found = blocks_of(last)[0]["type"]
    if found not in THINKING_BLOCKS:
        raise bad(f"messages.{index}.content.0.type: {THINKING_PREFILL.format(found=found)}")


def check_cache_control(body: dict[str, Any]) -> None:
    """Breakpoints over tools, system, message blocks (tool_result content too) and top level (§8):
    each one given must be an object, reported at its path; then their count and lifetimes."""
    automatic = body.get("cache_control")
    if automatic is not None:
        obj(automatic, "cache_control")
    marks = list(explicit_marks(body))
    for where, mark in marks:
        obj(mark, f"{where}.cache_control")
    check_breakpoints(len(marks) + (automatic is not None))
    check_cache_ttls(body, marks)


def check_breakpoints(found: int) -> None:
    """At most `MAX_CACHE_CONTROL` blocks (tools, system, messages, top level) carry cache_control."""
    if found > MAX_CACHE_CONTROL:
        raise bad(
            f"A maximum of {MAX_CACHE_CONTROL} blocks with cache_control may be provided. Found {found}."
        )
