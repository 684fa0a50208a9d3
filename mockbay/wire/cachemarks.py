"""Prompt-cache breakpoints as upstream reads them (docs/wire.md §8): the lifetime a `cache_control`
asks for, which blocks may carry one, where the top-level (automatic) one lands, and the rules over
lifetimes. Validation (`wire.conversation`) and the simulated cache (`usage.cache`) both read them
from here, so the two never disagree. Stdlib only; imports `wire.fieldtypes` and `wire.request`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Literal

from mockbay.wire.fieldtypes import bad
from mockbay.wire.request import THINKING_BLOCKS

Ttl = Literal["5m", "1h"]
DEFAULT_TTL: Ttl = "5m"  # a marker without `ttl`, as upstream reads it
LONG_TTL: Ttl = "1h"
AUTOMATIC = "cache_control"  # the top-level field: automatic caching
# Upstream's text (seen in many public reports, 2026), at the later marker's `cache_control.ttl`.
TTL_ORDER = (
    "a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block. Note that blocks "
    "are processed in the following order: `tools`, `system`, `messages`."
)


def cache_ttl(marker: Any) -> Ttl | None:
    """The lifetime a `cache_control` value asks for, or None when it is absent."""
    if not isinstance(marker, Mapping):
        return None
    return LONG_TTL if marker.get("ttl") == LONG_TTL else DEFAULT_TTL


def markable(block: Mapping[str, Any]) -> bool:
    """Upstream refuses breakpoints on thinking blocks and empty text blocks."""
    kind = block.get("type")
    return kind not in THINKING_BLOCKS and not (kind == "text" and not block.get("text"))


def explicit_marks(body: Mapping[str, Any]) -> Iterator[tuple[str, object]]:
    """(path, marker) of every `cache_control` given on a block, in prompt order: tools, system,
    message blocks; a tool_result's inner blocks before the tool_result itself, whose prefix holds
    them. The top-level one is not among them."""
    for i, tool in enumerate(body.get("tools") or ()):
        if tool.get("cache_control") is not None:
            yield f"tools.{i}", tool["cache_control"]
    system = body.get("system")
    if isinstance(system, list):
        for i, block in enumerate(system):
            if block.get("cache_control") is not None:
                yield f"system.{i}", block["cache_control"]
    for m, message in enumerate(body["messages"]):
        content = message.get("content")  # string content carries no marker
        if not isinstance(content, list):
            continue
        for b, block in enumerate(content):  # a path is built for a marked block only
            inner = block.get("content") if block["type"] == "tool_result" else None
            if isinstance(inner, list):
                for i, nested in enumerate(inner):
                    if nested.get("cache_control") is not None:
                        yield f"messages.{m}.content.{b}.content.{i}", nested["cache_control"]
            if block.get("cache_control") is not None:
                yield f"messages.{m}.content.{b}", block["cache_control"]


def automatic_target(body: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]] | None:
    """(path, block) of the block the top-level `cache_control` marks: the last one that may carry
    a breakpoint, in the order tools, system, messages (message blocks as a whole, a tool_result
    with its content); None when there is none."""
    messages = body.get("messages") or ()
    for m in range(len(messages) - 1, -1, -1):
        content = messages[m].get("content")
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content or ()
        for b in range(len(blocks) - 1, -1, -1):
            if markable(blocks[b]):
                return f"messages.{m}.content.{b}", blocks[b]
    system = body.get("system")
    blocks = [{"type": "text", "text": system}] if isinstance(system, str) else system or ()
    for b in range(len(blocks) - 1, -1, -1):
        if markable(blocks[b]):
            return f"system.{b}", blocks[b]
    tools = body.get("tools") or ()
    return (f"tools.{len(tools) - 1}", tools[-1]) if tools else None


def check_cache_ttls(body: Mapping[str, Any], marks: list[tuple[str, object]] | None = None) -> None:
    """No 1-hour breakpoint after a 5-minute one in prompt order, the automatic one included where
    it lands; and the automatic one may not ask for another lifetime than an explicit marker on the
    block it lands on (docs/wire.md §3.3, "Automatic caching conflicts"). `marks` are the body's
    `explicit_marks`, when the caller has them."""
    given = explicit_marks(body) if marks is None else marks
    ordered = [(f"{where}.cache_control", cache_ttl(mark)) for where, mark in given]
    automatic = cache_ttl(body.get(AUTOMATIC))
    if automatic != LONG_TTL and all(ttl != LONG_TTL for _, ttl in ordered):
        return  # both rules need a 1-hour lifetime somewhere
    target = automatic_target(body) if automatic is not None else None
    explicit = cache_ttl(target[1].get("cache_control")) if target is not None else None
    if target is not None and explicit is None:
        ordered.append((AUTOMATIC, automatic))
    short_before = False
    for where, ttl in ordered:
        if ttl == LONG_TTL and short_before:
            raise bad(f"{where}.ttl: {TTL_ORDER}")
        short_before = short_before or ttl == DEFAULT_TTL
    if target is not None and explicit is not None and explicit != automatic:
        raise bad(
            f"{AUTOMATIC}.ttl: the top-level ttl='{automatic}' differs from the ttl='{explicit}' of the "
            f"cache_control on {target[0]}, the last cacheable block, which automatic caching marks. "
            "Give both the same ttl, or leave one out."
        )
