"""A body that passed validation → `MessagesRequest`, with what validation found.

Pure: assumes the rules of `wire.validate` held; the facts read from the texts are the request's
own, computed when first read (`wire.request`). Stdlib only; imports `wire.request`, never
`wire.validate` or the rules modules.
"""

from __future__ import annotations

from typing import Any

from mockbay.wire.request import MessagesRequest, Origin


def build_view(
    body: dict[str, Any],
    headers: dict[str, str],
    max_tokens: int,
    tool_names: tuple[str, ...],
    choice: str | None,
    choice_name: str | None,
    thinking: bool,
    origin: Origin,
) -> MessagesRequest:
    return MessagesRequest(
        body=body,
        headers=headers,
        model=body["model"],
        max_tokens=max_tokens,
        stream=bool(body.get("stream")),
        tool_names=tool_names,
        tool_choice=choice,
        tool_choice_name=choice_name,
        thinking=thinking,
        session=origin.session,
        pinned=origin.pinned,
        platform=origin.platform,
    )
