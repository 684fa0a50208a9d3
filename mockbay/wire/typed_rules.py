"""The hand-written rules up to tool pairing, for a body the schema accepted, in one walk.

Strict mode (`wire.validate`) runs this right after the request schema, which already checked
every key, type, tag and literal: what is left is what the schema cannot express (bounds, the
`max_tokens` cap, non-empty and non-blank text, the tool name, tool_use and server_tool_use id
patterns, unique tool names, role placement of user-only and assistant-only blocks, base64
images (size, format, dimensions, their count with PDF pages) and the pages of base64 PDFs,
tool_use/tool_result pairing) and the facts the later rules and the view need. Tools and
messages are walked once each, with no type checks. Any rule that fails gives None: the full
rules then run and name the first failing one with upstream's text and path, so both modes
report alike. Stdlib only; imports `wire.cachemarks`, `wire.limits`,
`wire.models` and `wire.strict`.
"""

from __future__ import annotations

import re
from typing import Any

from mockbay.wire.cachemarks import LONG_TTL
from mockbay.wire.limits import SERVER_TOOL_USE_ID, TOOL_USE_ID, Carried, image_refusal
from mockbay.wire.models import find_model
from mockbay.wire.signatures import edited_thinking
from mockbay.wire.strict import ASSISTANT_ONLY, USER_ONLY

TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,128}")
# Custom tool names joined by newlines (which no valid name holds): one match checks them all.
JOINED_NAMES = re.compile(rf"{TOOL_NAME.pattern}(?:\n{TOOL_NAME.pattern})*")

# max_tokens (0 when counting), tool names, cache_control breakpoints, whether one given on a
# block or at the top level asks for a 1-hour lifetime (only then can a lifetime rule refuse).
Facts = tuple[int, tuple[str, ...], int, bool]
RANGED = ("temperature", "top_p")


def typed_facts(body: dict[str, Any], *, counting: bool) -> Facts | None:
    """The facts of a body every rule up to tool pairing accepts, or None if one refuses it."""
    messages: list[dict[str, Any]] = body["messages"]
    if not messages:
        return None
    max_tokens = 0 if counting else _max_tokens(body)
    if max_tokens < 0 or not _in_ranges(body):
        return None
    ttls: list[object] = []  # the `ttl` of each breakpoint given on a block, in prompt order
    tools = body.get("tools")
    names = _tools(tools, ttls) if tools else ()
    system = body.get("system")
    system_ok = _system_ok(system, ttls) if system.__class__ is list else True
    if names is None or not system_ok or not _messages(messages, ttls):
        return None
    automatic = body.get("cache_control")
    if automatic is not None:
        ttls.append(automatic.get("ttl"))
    return max_tokens, names, len(ttls), LONG_TTL in ttls


def _max_tokens(body: dict[str, Any]) -> int:
    """`max_tokens` as an int, or -1 when it exceeds the model's published output cap."""
    max_tokens = int(body["max_tokens"])
    info = find_model(body["model"])
    if info is not None and info.output_cap_published and max_tokens > info.max_tokens:
        return -1
    return max_tokens


def _in_ranges(body: dict[str, Any]) -> bool:
    for key in RANGED:
        value = body.get(key)
        if value is not None and not 0 <= value <= 1:
            return False
    top_k = body.get("top_k")
    if top_k is not None and top_k < 0:
        return False
    stops = body.get("stop_sequences")
    return not stops or all(stop.strip() for stop in stops)


def _tools(tools: list[dict[str, Any]], ttls: list[object]) -> tuple[str, ...] | None:
    """Names (a custom tool's fits the pattern; all are unique) of `tools`; their breakpoints'
    `ttl`s go to `ttls`."""
    names: list[str] = []
    custom: list[str] = []
    for tool in tools:
        name: Any = tool.get("name")
        kind = tool.get("type")
        if kind is None or kind == "custom":
            custom.append(name)
            names.append(name)
        elif name.__class__ is str:
            names.append(name)
        if tool.get("cache_control") is not None:
            ttls.append(tool["cache_control"].get("ttl"))
    if len(set(names)) != len(names) or (custom and not _fit_pattern(custom)):
        return None
    return tuple(names)


def _fit_pattern(names: list[str]) -> bool:
    joined = "\n".join(names)
    return joined.count("\n") == len(names) - 1 and JOINED_NAMES.fullmatch(joined) is not None


def _system_ok(system: list[dict[str, Any]], ttls: list[object]) -> bool:
    for block in system:
        if not block["text"].strip():
            return False
        if block.get("cache_control") is not None:
            ttls.append(block["cache_control"].get("ttl"))
    return True


def _messages(messages: list[dict[str, Any]], ttls: list[object]) -> bool:
    """Whether the messages meet the message rules and tool pairing; their breakpoints' `ttl`s go
    to `ttls`."""
    offered: list[str] = []  # tool_use ids of the last user or assistant turn, if an assistant one
    carried = Carried()  # base64 PDFs and images, weighed once every message is walked
    last = len(messages) - 1
    for index, message in enumerate(messages):
        role = message["role"]
        content = message.get("content")  # a beta system message may leave it out
        optional = index == last and role == "assistant"
        uses: list[str] = []
        if content.__class__ is str:
            if not content.strip():
                if content or not optional:
                    return False
            elif optional and content[-1].isspace():
                return False
            content = ()
        elif not content:  # an empty list, or no content at all
            if content is None or not optional:
                return False
        else:
            for block in content:
                kind = block["type"]
                if kind == "text":
                    if not block["text"].strip():
                        return False
                elif role == "system" or (role == "user" and kind in ASSISTANT_ONLY):
                    return False  # a system message holds only text; a user one no assistant block
                elif kind == "tool_use":
                    if TOOL_USE_ID.fullmatch(block["id"]) is None:
                        return False
                    uses.append(block["id"])  # so a tool_result answering one fits the pattern too
                elif kind == "server_tool_use":
                    if SERVER_TOOL_USE_ID.fullmatch(block["id"]) is None:
                        return False
                elif kind == "thinking" and edited_thinking(block["signature"], block["thinking"]):
                    return False
                elif kind in USER_ONLY:
                    if role != "user":
                        return False
                    # A tool_result's content: its breakpoints come before the tool_result's own.
                    if kind == "tool_result":
                        if not _tool_result_ok(block, ttls, carried) or block["tool_use_id"] not in offered:
                            return False
                    elif kind == "image" and not _image_ok(block, carried):
                        return False
                    elif kind == "document":
                        _add_pdf(block, carried)
                if block.get("cache_control") is not None:
                    ttls.append(block["cache_control"].get("ttl"))
            final = content[-1]
            if optional and final["type"] == "text" and final["text"][-1].isspace():
                return False
        if role == "assistant":
            if offered:  # the turn before went unanswered
                return False
            offered = uses
        elif role == "user":
            if offered and not _answers(content, offered):
                return False
            offered = []
    return not offered and carried.refusal() is None


def _answers(blocks: Any, offered: list[str]) -> bool:
    """Whether the leading tool_result blocks answer every tool_use offered."""
    leading = set()
    for block in blocks:
        if block["type"] != "tool_result":
            break
        leading.add(block["tool_use_id"])
    return all(tool_id in leading for tool_id in offered)


def _tool_result_ok(result: dict[str, Any], ttls: list[object], carried: Carried) -> bool:
    content = result.get("content")
    if content.__class__ is not list:
        return True
    for block in content:
        kind = block["type"]
        if (kind == "text" and not block["text"].strip()) or (
            kind == "image" and not _image_ok(block, carried)
        ):
            return False
        if kind == "document":
            _add_pdf(block, carried)
        if block.get("cache_control") is not None:
            ttls.append(block["cache_control"].get("ttl"))
    return True


def _image_ok(image: dict[str, Any], carried: Carried) -> bool:
    """Counts the image; a base64 one must pass `image_refusal`, and is kept for the dimensions."""
    carried.image_count += 1
    source = image["source"]
    if source["type"] != "base64":
        return True
    carried.images.append(("", source["data"]))
    return image_refusal(source["data"], source["media_type"], "") is None


def _add_pdf(document: dict[str, Any], carried: Carried) -> None:
    source = document["source"]
    if source["type"] == "base64":
        carried.pdfs.append(source["data"])
