"""Deterministic input-token estimate of a Messages request body, and its split into cacheable segments.

Upstream's tokenizer is not public, so mockbay counts characters: the same request always gives the
same number, longer text never gives fewer tokens, and the documented `count_tokens` example (system
`You are a scientist`, user `Hello, Claude`) gives exactly 14 = 6 + (4 + 2) + 2. The prompt cache needs
the same numbers per block, so the request is also exposed as ordered segments (tools -> system ->
messages) whose tokens plus `Breakdown.preamble` sum to `estimate_input_tokens(body)`.

Constants (the README quotes this list):

- `CHARS_PER_TOKEN` = 3.5: upstream's glossary, ~3.5 English characters per token.
- `NEW_TOKENIZER_CHARS_PER_TOKEN` = 2.5: models on the tokenizer of Opus 4.7 and later
  (`ModelInfo.new_tokenizer`): 1M tokens ~ 2.5M characters.
- `MESSAGE_FRAMING_TOKENS` = 2: role framing, once per message (added to its first segment).
- `REQUEST_FRAMING_TOKENS` = 2: once per request; with the above it lands the documented 14.
- `THINKING_OVERHEAD_TOKENS` = 100: thinking (any type but `disabled`) adds a hidden system prompt;
  upstream publishes no number, so this is a guess.
- An image costs upstream's width * height / 750 (at least 1), its long edge first scaled down to
  `MAX_IMAGE_EDGE` = 1,568 pixels as upstream scales it, and at most `IMAGE_TOKENS` = 1,600, what the
  ~1.15 megapixels upstream scales larger images down to cost. The size is read from a base64 image's
  header (`mockbay.wire.images`); an image mockbay cannot read, or one given by url or file id,
  costs `IMAGE_TOKENS`.
- `PDF_PAGE_TOKENS` = 2,000 per PDF page (upstream: 1,500-3,000 text tokens per page plus the page
  image). Pages are counted as `/Type /Page` objects in the base64 data (at least one;
  `mockbay.wire.limits.pdf_pages`); a PDF given by url or file id counts as one page.
- Tool system prompt: `mockbay.wire.models.tool_overhead(model, forced)` when `tools` is non-empty,
  forced when `tool_choice.type` is `any` or `tool` (docs/wire.md §10).

Each text segment costs `ceil(chars / chars_per_token)`. What counts as text: system and message text;
a tool definition and a `tool_use` block (name + input) as compact JSON; `tool_result` content (string or
blocks); document text sources, titles and context; search result title, source and text; thinking text
(and redacted thinking data) of the current assistant turn only. As upstream's `count_tokens` does,
thinking blocks before the last user message that is more than tool results are ignored; under a
`clear_thinking_20251015` edit, the thinking of the assistant turns it keeps counts instead (all of
them for `keep: all`). A `compaction` block counts its summary (`content`). Any other block type
(server tool results and the like) counts as its compact JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from mockbay.jsontext import canonical
from mockbay.wire.cachemarks import Ttl, cache_ttl
from mockbay.wire.context_management import clear_thinking
from mockbay.wire.images import pixel_size
from mockbay.wire.limits import pdf_pages
from mockbay.wire.models import find_model, tool_overhead
from mockbay.wire.request import FORCED_TOOL_CHOICES, THINKING_BLOCKS

CHARS_PER_TOKEN = 3.5
NEW_TOKENIZER_CHARS_PER_TOKEN = 2.5
MESSAGE_FRAMING_TOKENS = 2
REQUEST_FRAMING_TOKENS = 2
THINKING_OVERHEAD_TOKENS = 100
IMAGE_TOKENS = 1_600
MAX_IMAGE_EDGE = 1_568
PIXELS_PER_IMAGE_TOKEN = 750
PDF_PAGE_TOKENS = 2_000

Section = Literal["tools", "system", "messages"]


@dataclass(frozen=True, slots=True, eq=False)
class Segment:
    """One tool definition, system block or message content block, as the prompt cache sees it.

    `canonical` is the block's compact JSON without its `cache_control` (plus its position and role for
    message blocks), so moving a breakpoint does not change the prefix it ends. It is computed only
    when the cache asks for it: a plain token count never needs it.
    """

    section: Section
    path: str
    tokens: int
    identity: Any  # what `canonical` serialises
    cache_ttl: Ttl | None

    @property
    def canonical(self) -> str:
        return canonical_json(self.identity)


@dataclass(frozen=True, slots=True, eq=False)
class Breakdown:
    """The request in cache order; `preamble` is request framing plus hidden tool and thinking prompts."""

    preamble: int
    segments: tuple[Segment, ...]

    @property
    def total(self) -> int:
        return self.preamble + sum(s.tokens for s in self.segments)


def estimate_input_tokens(body: Mapping[str, Any]) -> int:
    """Input tokens of the whole request (tools, system, messages), before any caching.

    Equal to `split_request(body).total`, counted without building the cache's segments.
    """
    model = str(body.get("model", ""))
    cpt = chars_per_token(model)
    tools = body.get("tools") or []
    total = _preamble(body, model, bool(tools)) + sum(_tool_tokens(tool, cpt) for tool in tools)
    total += _content_tokens(body.get("system"), cpt, True)
    messages = body.get("messages") or []
    turn_start = thinking_counted_from(body)
    for i, message in enumerate(messages):
        total += MESSAGE_FRAMING_TOKENS + _content_tokens(message.get("content"), cpt, i >= turn_start)
    return total


def block_tokens(block: Mapping[str, Any], model: str) -> int:
    """Input tokens of one content block of a request to `model`."""
    return _block_tokens(block, chars_per_token(model))


def _content_tokens(content: Any, cpt: float, with_thinking: bool) -> int:
    """Tokens of a system or message `content` as `_message_blocks` counts it, in one loop: a
    string is counted as the one text block it stands for, without building that block."""
    if content is None:
        return 0
    if isinstance(content, str):
        return math.ceil(len(content) / cpt)
    total = 0
    for block in content:
        if isinstance(block, Mapping) and (with_thinking or block.get("type") not in THINKING_BLOCKS):
            total += _block_tokens(block, cpt)
    return total


def split_request(body: Mapping[str, Any]) -> Breakdown:
    """The request as ordered segments tools -> system -> messages, plus the fixed overheads."""
    model = str(body.get("model", ""))
    cpt = chars_per_token(model)
    tools = body.get("tools") or []
    segments = [*_tool_segments(tools, cpt), *_system_segments(body.get("system"), cpt)]
    segments += _message_segments(body.get("messages") or [], cpt, thinking_counted_from(body))
    return Breakdown(preamble=_preamble(body, model, bool(tools)), segments=tuple(segments))


def chars_per_token(model: str) -> float:
    """Characters per token for `model`: fewer for models on the newer tokenizer."""
    info = find_model(model)
    return NEW_TOKENIZER_CHARS_PER_TOKEN if info is not None and info.new_tokenizer else CHARS_PER_TOKEN


def canonical_json(value: Any) -> str:
    """Compact, key-sorted JSON: the text counted for JSON-shaped input and hashed by the cache."""
    return canonical(value)


def _preamble(body: Mapping[str, Any], model: str, has_tools: bool) -> int:
    tokens = REQUEST_FRAMING_TOKENS
    if has_tools:
        choice = body.get("tool_choice")
        forced = isinstance(choice, Mapping) and choice.get("type") in FORCED_TOOL_CHOICES
        tokens += tool_overhead(model, forced)
    thinking = body.get("thinking")
    if isinstance(thinking, Mapping) and thinking.get("type") not in (None, "disabled"):
        tokens += THINKING_OVERHEAD_TOKENS
    return tokens


def _tool_tokens(tool: Mapping[str, Any], cpt: float) -> int:
    return _text_tokens(canonical_json(_without_marker(tool)), cpt)


def _tool_segments(tools: Sequence[Any], cpt: float) -> list[Segment]:
    return [
        Segment(
            "tools",
            f"tools.{i}",
            _tool_tokens(tool, cpt),
            ["tools", _without_marker(tool)],
            _marker_ttl(tool),
        )
        for i, tool in enumerate(tools)
    ]


def _system_segments(system: Any, cpt: float) -> list[Segment]:
    segments = []
    for j, block in enumerate(_as_blocks(system)):
        identity = ["system", _without_marker(block)]
        tokens = _block_tokens(block, cpt)
        segments.append(Segment("system", f"system.{j}", tokens, identity, _marker_ttl(block)))
    return segments


def _message_blocks(
    messages: Sequence[Any], turn_start: int
) -> Iterator[tuple[int, Any, list[tuple[int, Mapping[str, Any]]]]]:
    """(index, role, counted blocks with their positions) per message; thinking before
    `turn_start` is dropped, as upstream drops it."""
    for i, message in enumerate(messages):
        blocks = [
            (j, block)
            for j, block in enumerate(_as_blocks(message.get("content")))
            if i >= turn_start or block.get("type") not in THINKING_BLOCKS
        ]
        yield i, message.get("role"), blocks


def _message_segments(messages: Sequence[Any], cpt: float, turn_start: int) -> list[Segment]:
    segments: list[Segment] = []
    for i, role, blocks in _message_blocks(messages, turn_start):
        own = []
        for j, block in blocks:
            identity = ["messages", i, role, _without_marker(block)]
            path = f"messages.{i}.content.{j}"
            tokens = _block_tokens(block, cpt)
            own.append(Segment("messages", path, tokens, identity, _marker_ttl(block)))
        if not own:
            own.append(Segment("messages", f"messages.{i}", 0, ["messages", i, role], None))
        own[0] = replace(own[0], tokens=own[0].tokens + MESSAGE_FRAMING_TOKENS)
        segments += own
    return segments


def thinking_counted_from(body: Mapping[str, Any]) -> int:
    """Index of the first message whose thinking counts: the current turn's start, or, under a
    `clear_thinking_20251015` edit, the first of the assistant turns it keeps."""
    messages = body.get("messages") or []
    edit = clear_thinking(body)
    if edit is None:
        return _current_turn_start(messages)
    if edit.keep is None:
        return 0
    starts = assistant_turn_starts(messages)
    if edit.keep == 0:
        return len(messages)
    return starts[-edit.keep] if edit.keep <= len(starts) else 0


def assistant_turn_starts(messages: Sequence[Any]) -> list[int]:
    """Where each assistant turn starts: its first assistant message. A turn runs until the next
    user message that holds more than tool results, so a tool loop is one turn."""
    starts: list[int] = []
    open_turn = False
    for i, message in enumerate(messages):
        if message.get("role") == "assistant":
            if not open_turn:
                starts.append(i)
            open_turn = True
        elif not _only_tool_results(message):
            open_turn = False
    return starts


def _only_tool_results(message: Mapping[str, Any]) -> bool:
    content = message.get("content")
    return not isinstance(content, str) and all(
        block.get("type") == "tool_result" for block in _as_blocks(content)
    )


def _current_turn_start(messages: Sequence[Any]) -> int:
    """Index of the last user message that holds more than tool results: where the current turn starts."""
    for i in range(len(messages) - 1, -1, -1):
        message = messages[i]
        if message.get("role") == "user" and not _only_tool_results(message):
            return i
    return 0


def _block_tokens(block: Mapping[str, Any], cpt: float) -> int:
    kind = block.get("type")
    if kind == "text":
        return _text_tokens(str(block.get("text", "")), cpt)
    if kind == "thinking":
        return _text_tokens(str(block.get("thinking", "")), cpt)
    if kind == "redacted_thinking":
        return _text_tokens(str(block.get("data", "")), cpt)
    if kind == "compaction":
        return _text_tokens(str(block.get("content") or ""), cpt)
    if kind in ("tool_use", "server_tool_use"):
        return _text_tokens(str(block.get("name", "")) + canonical_json(block.get("input", {})), cpt)
    if kind == "tool_result":
        return sum(_block_tokens(b, cpt) for b in _as_blocks(block.get("content")))
    if kind == "image":
        return _image_tokens(block.get("source"))
    if kind == "document":
        return _document_tokens(block, cpt)
    if kind == "search_result":
        head = _text_tokens(str(block.get("title", "")) + str(block.get("source", "")), cpt)
        return head + sum(_block_tokens(b, cpt) for b in _as_blocks(block.get("content")))
    return _text_tokens(canonical_json({k: v for k, v in block.items() if k != "cache_control"}), cpt)


def _image_tokens(source: object) -> int:
    """What an image costs (see the module docstring): by its size, where its header gives one."""
    if (
        not isinstance(source, Mapping)
        or source.get("type") != "base64"
        or not isinstance(source.get("data"), str)
    ):
        return IMAGE_TOKENS
    size = pixel_size(source["data"])
    if size is None:
        return IMAGE_TOKENS
    width, height = size
    scale = min(1.0, MAX_IMAGE_EDGE / max(width, height, 1))
    pixels = round(width * scale) * round(height * scale)
    return max(1, min(IMAGE_TOKENS, math.ceil(pixels / PIXELS_PER_IMAGE_TOKEN)))


def _document_tokens(block: Mapping[str, Any], cpt: float) -> int:
    source = block.get("source") or {}
    extra = _text_tokens(str(block.get("title") or "") + str(block.get("context") or ""), cpt)
    kind = source.get("type")
    if kind == "text":
        return extra + _text_tokens(str(source.get("data", "")), cpt)
    if kind == "content":
        return extra + sum(_block_tokens(b, cpt) for b in _as_blocks(source.get("content")))
    if kind == "base64":
        return extra + PDF_PAGE_TOKENS * pdf_pages(str(source.get("data", "")))
    return extra + PDF_PAGE_TOKENS


def _text_tokens(text: str, cpt: float) -> int:
    return math.ceil(len(text) / cpt)


def _as_blocks(content: Any) -> list[Mapping[str, Any]]:
    """Content as a list of blocks: a string is shorthand for one text block, None for none."""
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [b for b in content if isinstance(b, Mapping)]


def _without_marker(block: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in block.items() if k != "cache_control"}


def _marker_ttl(block: Mapping[str, Any]) -> Ttl | None:
    """The lifetime of the breakpoint a segment ends: its block's own marker, else, for a
    tool_result, the last marker inside its content. A tool_result stays one segment (Claude Code
    sends long lists of results, and the lookback counts segments), so an inner breakpoint is
    taken to the end of its tool_result: the rest of that result's content is cached with it."""
    own = cache_ttl(block.get("cache_control"))
    inner = block.get("content") if own is None and block.get("type") == "tool_result" else None
    if not isinstance(inner, list):
        return own
    marked = [cache_ttl(b.get("cache_control")) for b in inner if isinstance(b, Mapping)]
    return next((ttl for ttl in reversed(marked) if ttl is not None), None)
