"""A body that passed validation → `MessagesRequest`, with the facts matching reads.

The derived facts: system and message texts, the last user text, the turn (assistant messages so
far), the tool results of the last user message named after the tool_use they answer, tool names
and choice, thinking, stop sequences and metadata. Pure: assumes the rules of `wire.validate`
held. Stdlib only; imports `wire.request`, never `wire.validate` or the rules modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockbay.wire.request import MessagesRequest, Origin, ToolResultView


def blocks_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """String content is one text block: the rules and the view then read blocks alike."""
    content = message["content"]
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def text_of(content: object) -> str:
    """String content as is, else its text blocks joined with newlines. Any content is taken, not
    only a valid one: the recorder and "save as scenario" read the journal's refused bodies too."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            text
            for b in content
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(text := b.get("text"), str)
        )
    return ""


def last_user_text(messages: list[dict[str, Any]]) -> str | None:
    """Text of the last user message (what `last_user` matches and recordings keep), None if none."""
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return text_of(users[-1].get("content")) if users else None


def _tool_results(messages: list[dict[str, Any]]) -> tuple[ToolResultView, ...]:
    """Results in the last user message, named after the tool_use they answer."""
    users = [index for index, m in enumerate(messages) if m["role"] == "user"]
    if not users:
        return ()
    names = {
        b["id"]: b["name"]
        for m in messages[: users[-1]]
        if m["role"] == "assistant"
        for b in blocks_of(m)
        if b["type"] == "tool_use"
    }
    return tuple(
        ToolResultView(
            tool_use_id=b["tool_use_id"],
            name=names.get(b["tool_use_id"]),
            content_text=text_of(b.get("content")),
            is_error=bool(b.get("is_error")),
        )
        for b in blocks_of(messages[users[-1]])
        if b["type"] == "tool_result"
    )


def build_view(
    body: dict[str, Any],
    headers: Mapping[str, str],
    max_tokens: int,
    tool_names: tuple[str, ...],
    choice: str | None,
    choice_name: str | None,
    thinking: bool,
    origin: Origin,
) -> MessagesRequest:
    messages: list[dict[str, Any]] = body["messages"]
    metadata = body.get("metadata") or {}
    return MessagesRequest(
        body=body,
        headers={name.lower(): value for name, value in headers.items()},
        model=body["model"],
        max_tokens=max_tokens,
        stream=bool(body.get("stream")),
        system_text=text_of(body.get("system")),
        last_user_text=last_user_text(messages),
        message_texts=tuple(text_of(m["content"]) for m in messages),
        turn=sum(m["role"] == "assistant" for m in messages),
        tool_results=_tool_results(messages),
        tool_names=tool_names,
        tool_choice=choice,
        tool_choice_name=choice_name,
        thinking=thinking,
        stop_sequences=tuple(body.get("stop_sequences") or ()),
        metadata_user_id=metadata.get("user_id"),
        session=origin.session,
        pinned=origin.pinned,
        platform=origin.platform,
    )
