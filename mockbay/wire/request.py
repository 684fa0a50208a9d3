"""`MessagesRequest`: a validated `POST /v1/messages` body plus the facts matching needs.

Built once per request by `wire.validate`; every later stage reads it instead of re-walking
the raw JSON. Stdlib only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


class Origin(NamedTuple):
    """Where a request came from, beside its body: its session, the scenario it pins, its wire."""

    session: str = ""
    pinned: str | None = None
    platform: str = "anthropic"  # the wire it came in on (mockbay.platforms.PLATFORMS)


FIRST_PARTY = Origin()


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolResultView:
    """A tool_result block of the last user message, with the name of the tool_use it answers."""

    tool_use_id: str
    name: str | None
    content_text: str
    is_error: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class MessagesRequest:
    """A request body that passed validation, with derived lookups.

    `body` is the parsed JSON exactly as sent. `headers` has lower-cased names.
    """

    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    model: str
    max_tokens: int
    stream: bool
    system_text: str
    last_user_text: str | None
    message_texts: tuple[str, ...]
    turn: int
    tool_results: tuple[ToolResultView, ...]
    tool_names: tuple[str, ...]
    tool_choice: str | None
    tool_choice_name: str | None
    thinking: bool
    stop_sequences: tuple[str, ...]
    metadata_user_id: str | None
    session: str = ""
    pinned: str | None = None
    platform: str = "anthropic"  # the wire it came in on (mockbay.platforms.PLATFORMS)
