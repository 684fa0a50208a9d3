"""Request validation: upstream's exact 400 texts, its leniencies, and the derived view (§3.3)."""

from __future__ import annotations

import base64
import copy
import random
from collections.abc import Iterator
from typing import Any

import pytest

from mockbay.errors import ApiError
from mockbay.wire.request import MessagesRequest, ToolResultView
from mockbay.wire.validate import validate_count_tokens, validate_messages
from tests.images import b64, jpeg, png, webp_lossless

DROP = object()  # marks a top-level key to remove from the base body


def body(**changes: Any) -> dict[str, Any]:
    """A valid minimal request with top-level keys replaced (or dropped with DROP)."""
    base: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": 2048,
        "messages": [{"role": "user", "content": "Hi"}],
    }
    base.update(changes)
    return {key: value for key, value in base.items() if value is not DROP}


def user(*content: Any) -> dict[str, Any]:
    return {"role": "user", "content": list(content)}


def assistant(*content: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": list(content)}


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


def tool_use(tool_id: str, name: str = "get_weather") -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id, "name": name, "input": {"city": "Lyon"}}


def tool_result(tool_id: str, content: Any = "18C", **extra: Any) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": tool_id, "content": content, **extra}


def server_tool_use(tool_id: str) -> dict[str, Any]:
    return {"type": "server_tool_use", "id": tool_id, "name": "web_search", "input": {"query": "lyon"}}


def image(data: str) -> dict[str, Any]:
    return {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}


def pdf(pages: int) -> dict[str, Any]:
    """A base64 PDF document of `pages` page objects."""
    raw = b"%PDF-1.4\n1 0 obj << /Type /Pages >> endobj\n" + b"<< /Type /Page >>\n" * pages + b"%%EOF\n"
    source = {"type": "base64", "media_type": "application/pdf", "data": base64.b64encode(raw).decode()}
    return {"type": "document", "source": source}


WEATHER = {"name": "get_weather", "input_schema": {"type": "object"}}
MARK = {"type": "ephemeral"}
# Base64 image data at upstream's 5 MB limit (of the encoded string) and one character past it.
IMAGE_AT_LIMIT = "A" * 5_242_880
IMAGE_OVER_LIMIT = IMAGE_AT_LIMIT + "A"
LONG_MARK = {"type": "ephemeral", "ttl": "1h"}
ENABLED = {"type": "enabled", "budget_tokens": 1024}
THOUGHT = {"type": "thinking", "thinking": "Lyon is in France.", "signature": "sig"}
ALL_TAGS = (
    "'text', 'image', 'document', 'search_result', 'thinking', 'redacted_thinking', 'tool_use', "
    "'tool_result', 'server_tool_use', 'web_search_tool_result', 'web_fetch_tool_result', "
    "'advisor_tool_result', 'code_execution_tool_result', 'bash_code_execution_tool_result', "
    "'text_editor_code_execution_tool_result', 'tool_search_tool_result', 'mcp_tool_use', "
    "'mcp_tool_result', 'container_upload', 'compaction', 'tool_addition', 'tool_removal', "
    "'mcp_tool_listing', 'fallback'"
)
TOO_MANY_PAGES = "A maximum of 100 PDF pages may be provided."
ID_PATTERN = "String should match pattern '^[a-zA-Z0-9_-]+$'"
PREFILL = (
    "Expected `thinking` or `redacted_thinking`, but found `{found}`. When `thinking` is enabled, a final "
    "`assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and "
    "`tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this "
    "requirement, disable `thinking`. Please consult our documentation at "
    "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
)
TTL_ORDER = (
    "a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block. Note that blocks "
    "are processed in the following order: `tools`, `system`, `messages`."
)
TTL_CONFLICT = (
    "cache_control.ttl: the top-level ttl='{auto}' differs from the ttl='{explicit}' of the cache_control "
    "on {where}, the last cacheable block, which automatic caching marks. Give both the same ttl, or leave "
    "one out."
)
UNANSWERED = (
    "`tool_use` ids were found without `tool_result` blocks immediately after: {ids}. Each `tool_use` "
    "block must have a corresponding `tool_result` block in the next message."
)
STRAY = (
    "unexpected `tool_use_id` found in `tool_result` blocks: {ids}. Each `tool_result` block must "
    "have a corresponding `tool_use` block in the previous message."
)

REJECTED: list[tuple[str, object, str]] = [
    ("body-list", [], "Input should be an object"),
    ("body-null", None, "Input should be an object"),
    ("no-max-tokens", body(max_tokens=DROP), "max_tokens: Field required"),
    ("no-model", body(model=DROP), "model: Field required"),
    ("no-messages", body(messages=DROP), "messages: Field required"),
    ("max-tokens-string", body(max_tokens="abc"), "max_tokens: Input should be a valid integer"),
    ("max-tokens-bool", body(max_tokens=True), "max_tokens: Input should be a valid integer"),
    (
        "max-tokens-fraction",
        body(max_tokens=1.5),
        "max_tokens: Input should be a valid integer, got a number with a fractional part",
    ),
    ("max-tokens-negative", body(max_tokens=-1), "max_tokens: Input should be greater than or equal to 0"),
    (
        "max-tokens-over-cap",
        body(model="claude-opus-4-20250514", max_tokens=64000),
        "max_tokens: 64000 > 32000, which is the maximum allowed number of output tokens for "
        "claude-opus-4-20250514",
    ),
    (
        "max-tokens-over-cap-alias",
        body(model="claude-opus-4-1", max_tokens=32001),
        "max_tokens: 32001 > 32000, which is the maximum allowed number of output tokens for claude-opus-4-1",
    ),
    ("model-not-string", body(model=5), "model: Input should be a valid string"),
    ("messages-not-list", body(messages={}), "messages: Input should be a valid list"),
    ("messages-empty", body(messages=[]), "messages: at least one message is required"),
    ("message-not-object", body(messages=["hi"]), "messages.0: Input should be an object"),
    (
        "role-unknown",
        body(messages=[{"role": "bot", "content": "x"}]),
        "messages.0.role: Input should be 'user', 'assistant' or 'system'",
    ),
    ("role-missing", body(messages=[{"content": "x"}]), "messages.0.role: Field required"),
    ("content-missing", body(messages=[{"role": "user"}]), "messages.0.content: Field required"),
    (
        "content-number",
        body(messages=[{"role": "user", "content": 5}]),
        "messages.0.content: Input should be a valid list",
    ),
    (
        "content-empty-string",
        body(messages=[{"role": "user", "content": ""}]),
        "messages.0: all messages must have non-empty content except for the optional final assistant "
        "message",
    ),
    (
        "content-empty-list-mid",
        body(messages=[user(text("a")), assistant(), user(text("b"))]),
        "messages.1: all messages must have non-empty content except for the optional final assistant "
        "message",
    ),
    ("text-empty", body(messages=[user(text(""))]), "messages: text content blocks must be non-empty"),
    (
        "text-whitespace",
        body(messages=[user(text(" \n\t"))]),
        "messages: text content blocks must contain non-whitespace text",
    ),
    (
        "string-content-whitespace",
        body(messages=[{"role": "user", "content": "   "}]),
        "messages: text content blocks must contain non-whitespace text",
    ),
    (
        "text-missing",
        body(messages=[user({"type": "text"})]),
        "messages.0.content.0.text.text: Field required",
    ),
    (
        "text-not-string",
        body(messages=[user({"type": "text", "text": 3})]),
        "messages.0.content.0.text.text: Input should be a valid string",
    ),
    (
        "block-type-unknown",
        body(messages=[user({"type": "video", "url": "x"})]),
        "messages.0.content.0: Input tag 'video' found using 'type' does not match any of the expected "
        f"tags: {ALL_TAGS}",
    ),
    (
        "block-type-missing",
        body(messages=[user({"text": "hi"})]),
        "messages.0.content.0: Unable to extract tag using discriminator 'type'",
    ),
    ("block-not-object", body(messages=[user("hi")]), "messages.0.content.0: Input should be an object"),
    (
        "system-message-image",
        body(messages=[{"role": "system", "content": [{"type": "image"}]}, user(text("x"))]),
        "messages.0.content.0: Input tag 'image' found using 'type' does not match any of the expected "
        "tags: 'text'",
    ),
    (
        "tool-use-input-not-object",
        body(messages=[user(text("a")), assistant({**tool_use("t1"), "input": "{}"})]),
        "messages.1.content.0.tool_use.input: Input should be an object",
    ),
    (
        "tool-result-bad-inner-block",
        body(messages=[user(text("a")), assistant(tool_use("t1")), user(tool_result("t1", [{"type": "x"}]))]),
        "messages.2.content.0.tool_result.content.0: Input tag 'x' found using 'type' does not match any of "
        "the expected tags: 'text', 'image', 'search_result', 'document', 'tool_reference', 'browser_state'",
    ),
    (
        "tool-result-empty-text",
        body(messages=[user(text("a")), assistant(tool_use("t1")), user(tool_result("t1", [text("")]))]),
        "messages: text content blocks must be non-empty",
    ),
    (
        "image-over-5-mb",
        body(messages=[user(text("a"), image(IMAGE_OVER_LIMIT))]),
        "messages.0.content.1.image.source.base64: image exceeds 5 MB maximum: 5242881 bytes > 5242880 bytes",
    ),
    (
        "tool-result-image-over-5-mb",
        body(
            messages=[
                user(text("a")),
                assistant(tool_use("t1")),
                user(tool_result("t1", [text("c"), image(IMAGE_OVER_LIMIT)]), text("b")),
            ]
        ),
        "messages.2.content.0.tool_result.content.1.image.source.base64: image exceeds 5 MB maximum: "
        "5242881 bytes > 5242880 bytes",
    ),
    (
        "text-empty-with-cache-control",  # a pasted screenshot's empty caption (public reports, 2026)
        body(messages=[user(image("AAAA"), text("", cache_control=MARK))]),
        "messages.0.content.1.text: cache_control cannot be set for empty text blocks",
    ),
    (
        "tool-result-text-empty-with-cache-control",
        body(
            messages=[
                user(text("a")),
                assistant(tool_use("t1")),
                user(tool_result("t1", [text("", cache_control=MARK)])),
            ]
        ),
        "messages.2.content.0.tool_result.content.0.text: cache_control cannot be set for empty text blocks",
    ),
    (
        "system-empty-with-cache-control",
        body(system=[text("", cache_control=MARK)]),
        "system.0: cache_control cannot be set for empty text blocks",
    ),
    (
        "image-empty",
        body(messages=[user(image(""), text("a"))]),
        "messages.0.content.0.image.source.base64: image cannot be empty",
    ),
    (
        "image-jpeg-declared-png",
        body(messages=[user(text("a"), image(b64(jpeg(64, 64))))]),
        "messages.0.content.1.image.source.base64: The image was specified using the image/png media type, "
        "but the image appears to be a image/jpeg image",
    ),
    (
        "tool-result-image-webp-declared-png",
        body(
            messages=[
                user(text("a")),
                assistant(tool_use("t1")),
                user(tool_result("t1", [image(b64(webp_lossless(8, 8)))])),
            ]
        ),
        "messages.2.content.0.tool_result.content.0.image.source.base64: The image was specified using the "
        "image/png media type, but the image appears to be a image/webp image",
    ),
    (
        "image-over-8000-pixels",
        body(messages=[user(image(b64(png(640, 480))), image(b64(png(3, 8001))))]),
        "messages.0.content.1.image.source.base64.data: At least one of the image dimensions exceed max "
        "allowed size: 8000 pixels",
    ),
    (
        "many-images-over-2000-pixels",
        body(messages=[user(*[image(b64(png(2000, 2000)))] * 20, image(b64(png(2001, 10))))]),
        "messages.0.content.20.image.source.base64.data: At least one of the image dimensions exceed max "
        "allowed size for many-image requests: 2000 pixels",
    ),
    (
        "tool-use-id-dot",
        body(messages=[user(text("a")), assistant(tool_use("call.1")), user(tool_result("call.1"))]),
        f"messages.1.content.0.tool_use.id: {ID_PATTERN}",
    ),
    (
        "tool-use-id-empty",
        body(messages=[user(text("a")), assistant(text("b"), tool_use("")), user(tool_result(""))]),
        f"messages.1.content.1.tool_use.id: {ID_PATTERN}",
    ),
    (
        "tool-use-id-trailing-newline",
        body(messages=[user(text("a")), assistant(tool_use("toolu_1\n")), user(tool_result("toolu_1\n"))]),
        f"messages.1.content.0.tool_use.id: {ID_PATTERN}",
    ),
    (
        "tool-result-id-colon",
        body(
            messages=[
                user(text("a")),
                assistant(tool_use("t1")),
                user(tool_result("functions.get_weather:0")),
            ]
        ),
        f"messages.2.content.0.tool_result.tool_use_id: {ID_PATTERN}",
    ),
    (
        "tool-result-id-space",
        body(messages=[user(text("a")), user(text("b"), tool_result("t 1"))]),
        f"messages.1.content.1.tool_result.tool_use_id: {ID_PATTERN}",
    ),
    (
        "server-tool-use-id-off-pattern",
        body(messages=[user(text("a")), assistant(server_tool_use("srvtoolu_")), user(text("b"))]),
        "messages.1.content.0.server_tool_use.id: String should match pattern '^srvtoolu_[a-zA-Z0-9_]+$'",
    ),
    (
        "server-tool-use-id-trailing-newline",
        body(messages=[user(text("a")), assistant(server_tool_use("srvtoolu_01\n")), user(text("b"))]),
        "messages.1.content.0.server_tool_use.id: String should match pattern '^srvtoolu_[a-zA-Z0-9_]+$'",
    ),
    ("pdf-over-100-pages", body(messages=[user(text("a"), pdf(101))]), TOO_MANY_PAGES),
    (
        "pdfs-over-100-pages-together",
        body(
            messages=[
                user(pdf(60), text("a")),
                assistant(tool_use("t1")),
                user(tool_result("t1", [pdf(41)])),
            ]
        ),
        TOO_MANY_PAGES,
    ),
    (
        "messages-over-100000",
        body(messages=[user(text("a"))] * 100_001),
        "messages: List should have at most 100000 items after validation, not 100001",
    ),
    (
        "images-over-100",
        body(messages=[user(*[image("iVBORw0KGgo=")] * 101, text("a"))]),
        "Too much media: 0 document pages + 101 images > 100",
    ),
    (
        "images-and-pdf-pages-over-100",
        body(
            messages=[
                user(pdf(60), *[image("iVBORw0KGgo=")] * 20),
                assistant(tool_use("t1")),
                user(tool_result("t1", [image("iVBORw0KGgo=")] * 21)),
            ]
        ),
        "Too much media: 60 document pages + 41 images > 100",
    ),
    (
        "final-assistant-trailing-space",
        body(messages=[user(text("a")), assistant(text("The answer is "))]),
        "messages: final assistant content cannot end with trailing whitespace",
    ),
    (
        "tool-result-without-tool-use",
        body(messages=[user(text("a")), assistant(text("b")), user(tool_result("toolu_9"))]),
        "messages.2.content.0: " + STRAY.format(ids="toolu_9"),
    ),
    (
        "tool-result-for-older-turn",
        body(
            messages=[
                user(text("a")),
                assistant(tool_use("t1")),
                user(tool_result("t1")),
                assistant(text("ok")),
                user(text("more"), tool_result("t1")),
            ]
        ),
        "messages.4.content.1: " + STRAY.format(ids="t1"),
    ),
    (
        "tool-use-unanswered",
        body(messages=[user(text("a")), assistant(tool_use("t1")), user(text("go on"))]),
        "messages.1: " + UNANSWERED.format(ids="t1"),
    ),
    (
        "tool-use-partly-answered",
        body(messages=[user(text("a")), assistant(tool_use("t1"), tool_use("t2")), user(tool_result("t2"))]),
        "messages.1: " + UNANSWERED.format(ids="t1"),
    ),
    (
        "tool-use-last-message",
        body(messages=[user(text("a")), assistant(text("let me check"), tool_use("t1"))]),
        "messages.1: " + UNANSWERED.format(ids="t1"),
    ),
    (
        "text-before-tool-result",
        body(messages=[user(text("a")), assistant(tool_use("t1")), user(text("here"), tool_result("t1"))]),
        "messages.1: " + UNANSWERED.format(ids="t1"),
    ),
    (
        "stop-sequence-whitespace",
        body(stop_sequences=["END", " \n"]),
        "stop_sequences: each stop sequence must contain non-whitespace",
    ),
    ("stop-sequences-string", body(stop_sequences="END"), "stop_sequences: Input should be a valid list"),
    ("stop-sequence-number", body(stop_sequences=[1]), "stop_sequences.0: Input should be a valid string"),
    (
        "five-cache-controls",
        body(
            cache_control=MARK,
            tools=[{**WEATHER, "cache_control": MARK}],
            system=[text("sys", cache_control=MARK)],
            messages=[
                user(text("a", cache_control=MARK)),
                assistant(tool_use("t1")),
                user(tool_result("t1", [text("r", cache_control=MARK)])),
            ],
        ),
        "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    ),
    ("tools-not-list", body(tools={}), "tools: Input should be a valid list"),
    (
        "tool-name-dot",
        body(tools=[{**WEATHER, "name": "get.weather"}]),
        "tools.0.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
    ),
    (
        "tool-name-too-long",
        body(tools=[WEATHER, {**WEATHER, "name": "x" * 129}]),
        "tools.1.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'",
    ),
    ("tool-name-missing", body(tools=[{"input_schema": {}}]), "tools.0.custom.name: Field required"),
    ("tool-schema-missing", body(tools=[{"name": "x"}]), "tools.0.custom.input_schema: Field required"),
    (
        "budget-too-small",
        body(thinking={"type": "enabled", "budget_tokens": 1023}),
        "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
    ),
    (
        "budget-missing",
        body(thinking={"type": "enabled"}),
        "thinking.enabled.budget_tokens: Field required",
    ),
    (
        "budget-not-below-max-tokens",
        body(max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 2048}),
        "`max_tokens` must be greater than `thinking.budget_tokens`.",
    ),
    (
        "thinking-type-unknown",
        body(thinking={"type": "sometimes"}),
        "thinking: Input tag 'sometimes' found using 'type' does not match any of the expected tags: "
        "'enabled', 'disabled', 'between_tools', 'adaptive'",
    ),
    (
        "thinking-forced-any",
        body(
            tools=[WEATHER], tool_choice={"type": "any"}, thinking={"type": "enabled", "budget_tokens": 1024}
        ),
        "Thinking may not be enabled when tool_choice forces tool use.",
    ),
    (
        "adaptive-forced-tool",
        body(
            tools=[WEATHER],
            tool_choice={"type": "tool", "name": "get_weather"},
            thinking={"type": "adaptive"},
        ),
        "Thinking may not be enabled when tool_choice forces tool use.",
    ),
    (
        "thinking-temperature",
        body(temperature=0.2, thinking={"type": "enabled", "budget_tokens": 1024}),
        "`temperature` may only be set to 1 when thinking is enabled or in adaptive mode",
    ),
    (
        "thinking-top-k",
        body(top_k=5, thinking=ENABLED),
        "`top_k` must be unset when thinking is enabled or in adaptive mode",
    ),
    (
        "adaptive-top-k-zero",
        body(top_k=0, thinking={"type": "adaptive"}),
        "`top_k` must be unset when thinking is enabled or in adaptive mode",
    ),
    (
        "thinking-top-p-under-0.95",
        body(top_p=0.949, thinking=ENABLED),
        "`top_p` must be between 0.95 and 1 when thinking is enabled or in adaptive mode",
    ),
    (
        "adaptive-top-p-zero",
        body(top_p=0, thinking={"type": "adaptive"}),
        "`top_p` must be between 0.95 and 1 when thinking is enabled or in adaptive mode",
    ),
    (
        "thinking-prefill-text",
        body(thinking=ENABLED, messages=[user(text("a")), assistant(text("The answer is"))]),
        "messages.1.content.0.type: " + PREFILL.format(found="text"),
    ),
    (
        "adaptive-prefill-string",
        body(
            thinking={"type": "adaptive"}, messages=[user(text("a")), {"role": "assistant", "content": "The"}]
        ),
        "messages.1.content.0.type: " + PREFILL.format(found="text"),
    ),
    (
        "thinking-prefill-text-then-thinking",
        body(thinking=ENABLED, messages=[user(text("a")), assistant(text("So"), THOUGHT, text("the"))]),
        "messages.1.content.0.type: " + PREFILL.format(found="text"),
    ),
    (
        "cache-ttl-1h-after-5m",
        body(system=[text("s", cache_control=MARK)], messages=[user(text("a", cache_control=LONG_MARK))]),
        "messages.0.content.0.cache_control.ttl: " + TTL_ORDER,
    ),
    (
        "cache-ttl-system-1h-after-tool-5m",
        body(tools=[{**WEATHER, "cache_control": MARK}], system=[text("s", cache_control=LONG_MARK)]),
        "system.0.cache_control.ttl: " + TTL_ORDER,
    ),
    (
        "cache-ttl-tool-result-content-1h-after-5m",
        body(
            messages=[
                user(text("a", cache_control=MARK)),
                assistant(tool_use("t1")),
                user(tool_result("t1", [text("r", cache_control=LONG_MARK)])),
            ]
        ),
        "messages.2.content.0.content.0.cache_control.ttl: " + TTL_ORDER,
    ),
    (
        "automatic-1h-after-5m",
        body(cache_control=LONG_MARK, system=[text("s", cache_control=MARK)]),
        "cache_control.ttl: " + TTL_ORDER,
    ),
    (
        "automatic-1h-on-last-block-5m",
        body(cache_control=LONG_MARK, messages=[user(text("a", cache_control=MARK))]),
        TTL_CONFLICT.format(auto="1h", explicit="5m", where="messages.0.content.0"),
    ),
    (
        "automatic-5m-on-last-block-1h",
        body(cache_control=MARK, messages=[user(text("a"), text("b", cache_control=LONG_MARK))]),
        TTL_CONFLICT.format(auto="5m", explicit="1h", where="messages.0.content.1"),
    ),
    (
        "automatic-lands-before-an-empty-final-assistant",
        body(cache_control=LONG_MARK, messages=[user(text("a", cache_control=MARK)), assistant()]),
        TTL_CONFLICT.format(auto="1h", explicit="5m", where="messages.0.content.0"),
    ),
    (
        "automatic-lands-on-the-last-tool",
        body(
            cache_control=LONG_MARK,
            tools=[WEATHER, {**WEATHER, "name": "get_time", "cache_control": MARK}],
            messages=[assistant()],
        ),
        TTL_CONFLICT.format(auto="1h", explicit="5m", where="tools.1"),
    ),
    (
        "tool-choice-type-unknown",
        body(tools=[WEATHER], tool_choice={"type": "required"}),
        "tool_choice: Input tag 'required' found using 'type' does not match any of the expected tags: "
        "'auto', 'any', 'tool', 'none'",
    ),
    ("tool-choice-string", body(tool_choice="auto"), "tool_choice: Input should be an object"),
    (
        "tool-choice-tool-without-name",
        body(tools=[WEATHER], tool_choice={"type": "tool"}),
        "tool_choice.tool.name: Field required",
    ),
    (
        "tool-choice-not-offered",
        body(tools=[WEATHER], tool_choice={"type": "tool", "name": "web_search"}),
        "Tool 'web_search' not found in provided tools",
    ),
    ("temperature-high", body(temperature=1.5), "temperature: Input should be less than or equal to 1"),
    ("temperature-low", body(temperature=-0.1), "temperature: Input should be greater than or equal to 0"),
    ("temperature-string", body(temperature="hot"), "temperature: Input should be a valid number"),
    ("top-p-high", body(top_p=2), "top_p: Input should be less than or equal to 1"),
    ("top-k-negative", body(top_k=-1), "top_k: Input should be greater than or equal to 0"),
    ("stream-string", body(stream="yes"), "stream: Input should be a valid boolean"),
    ("metadata-string", body(metadata="u1"), "metadata: Input should be an object"),
    ("user-id-number", body(metadata={"user_id": 5}), "metadata.user_id: Input should be a valid string"),
    ("system-number", body(system=5), "system: Input should be a valid list"),
    ("system-empty-block", body(system=[text("")]), "system: text content blocks must be non-empty"),
    (
        "system-whitespace-block",
        body(system=[text("ok"), text("  ")]),
        "system: text content blocks must contain non-whitespace text",
    ),
    (
        "system-image-block",
        body(system=[{"type": "image"}]),
        "system.0: Input tag 'image' found using 'type' does not match any of the expected tags: 'text'",
    ),
]


GA_TAGS = (
    "'text', 'image', 'document', 'search_result', 'thinking', 'redacted_thinking', 'tool_use', "
    "'tool_result', 'server_tool_use', 'web_search_tool_result', 'web_fetch_tool_result', "
    "'code_execution_tool_result', 'bash_code_execution_tool_result', "
    "'text_editor_code_execution_tool_result', 'tool_search_tool_result', 'container_upload'"
)
# Where strict validation (the SDK's schema, beta tags only with a beta header) words it otherwise.
STRICT_MESSAGES = {
    "block-type-unknown": "messages.0.content.0: Input tag 'video' found using 'type' does not match any "
    f"of the expected tags: {GA_TAGS}",
}


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize(("name", "payload", "message"), REJECTED, ids=[row[0] for row in REJECTED])
def test_rejected_with_upstream_text(name: str, payload: object, message: str, strict: bool) -> None:
    with pytest.raises(ApiError) as caught:
        validate_messages(payload, {}, strict=strict)
    expected = STRICT_MESSAGES.get(name, message) if strict else message
    assert (caught.value.status, caught.value.type, caught.value.message) == (
        400,
        "invalid_request_error",
        expected,
    )


ACCEPTED: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("minimal", body(), {}),
    # Placeholder bytes no format reads: mockbay refuses only what it can read (docs/wire-notes.md).
    ("image-unreadable-data", body(messages=[user(image("AAAA"), image("iVBORw0KGgo="), text("a"))]), {}),
    ("image-at-8000-pixels", body(messages=[user(image(b64(png(8000, 8000))), text("a"))]), {}),
    ("twenty-images-over-2000-pixels", body(messages=[user(*[image(b64(png(2001, 2001)))] * 20)]), {}),
    (
        "server-tool-use-id-upstreams",
        body(messages=[user(text("a")), assistant(server_tool_use("srvtoolu_01WYcXyWV5tu3YDs7bdSiwgd"))]),
        {},
    ),
    ("messages-at-100000", body(messages=[user(text("a"))] * 100_000), {}),
    ("images-and-pdf-pages-at-100", body(messages=[user(pdf(60), *[image("iVBORw0KGgo=")] * 40)]), {}),
    ("many-images-at-2000-pixels", body(messages=[user(*[image(b64(png(2000, 1)))] * 21)]), {}),
    (
        "unknown-top-level-fields",
        body(
            output_config={"effort": "high", "format": {"type": "json_schema", "schema": {}}},
            context_management={"edits": [{"type": "clear_tool_uses_20250919"}]},
            speed="fast",
            some_field_from_2030={"x": [1, 2]},
        ),
        {},
    ),
    ("thinking-adaptive", body(thinking={"type": "adaptive", "display": "omitted"}), {}),
    ("thinking-disabled", body(thinking={"type": "disabled"}, temperature=0), {}),
    ("thinking-between-tools", body(thinking={"type": "between_tools"}), {}),
    (
        "thinking-temperature-one",
        body(temperature=1, thinking={"type": "enabled", "budget_tokens": 1024}),
        {},
    ),
    (
        "budget-over-max-tokens-interleaved",
        body(max_tokens=2048, thinking={"type": "enabled", "budget_tokens": 8000}),
        {"Anthropic-Beta": "foo-2025-01-01, interleaved-thinking-2025-05-14"},
    ),
    (
        "system-role-message",
        body(messages=[user(text("a")), {"role": "system", "content": "Be brief."}, user(text("b"))]),
        {},
    ),
    (
        "system-role-between-tool-turns",
        body(
            messages=[
                user(text("a")),
                assistant(tool_use("t1")),
                {"role": "system", "content": [text("reminder")]},
                user(tool_result("t1")),
            ]
        ),
        {},
    ),
    (
        "same-role-runs",
        body(messages=[user(text("a")), user(text("b")), assistant(text("c")), assistant(text("d"))]),
        {},
    ),
    ("assistant-first", body(messages=[assistant(text("hello")), user(text("hi"))]), {}),
    ("user-id-json-string", body(metadata={"user_id": '{"device_id":"abc","session_id":"s1"}'}), {}),
    ("user-id-null", body(metadata={"user_id": None}), {}),
    ("unknown-model-huge-max-tokens", body(model="claude-x", max_tokens=999_999), {}),
    ("max-tokens-at-cap", body(model="claude-opus-4-1-20250805", max_tokens=32_000), {}),
    ("max-tokens-zero", body(max_tokens=0), {}),
    (
        "image-and-document",
        body(
            messages=[
                user(
                    {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "d"}},
                    text("describe"),
                )
            ]
        ),
        {},
    ),
    (
        "images-at-5-mb",
        body(
            messages=[
                user(image(IMAGE_AT_LIMIT), text("a")),
                assistant(tool_use("t1")),
                user(tool_result("t1", [image(IMAGE_AT_LIMIT)])),
            ]
        ),
        {},
    ),
    (
        "tool-use-ids-of-every-allowed-character",
        body(
            messages=[
                user(text("a")),
                assistant(tool_use("toolu_01AbZ-9_x"), tool_use("X")),
                user(tool_result("toolu_01AbZ-9_x"), tool_result("X")),
            ]
        ),
        {},
    ),
    (
        "pdfs-at-100-pages",
        body(
            messages=[
                user(pdf(60), text("a")),
                assistant(tool_use("t1")),
                user(tool_result("t1", [pdf(40)])),
            ]
        ),
        {},
    ),
    ("final-assistant-empty", body(messages=[user(text("a")), assistant()]), {}),
    (
        "final-assistant-prefill",
        body(messages=[user(text("a")), {"role": "assistant", "content": "The"}]),
        {},
    ),
    (
        "nulls-for-optional-fields",
        body(system=None, tools=None, tool_choice=None, thinking=None, stop_sequences=None, metadata=None),
        {},
    ),
    ("four-cache-controls", body(cache_control=MARK, system=[text("s", cache_control=MARK)] * 3), {}),
    (
        "tool-choice-names-server-tool",
        body(
            tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 5}],
            tool_choice={"type": "tool", "name": "web_search"},
        ),
        {},
    ),
    (
        "parallel-tool-results-then-text",
        body(
            messages=[
                user(text("a")),
                assistant(text("checking"), tool_use("t1"), tool_use("t2")),
                user(tool_result("t2"), tool_result("t1", is_error=True), text("thanks")),
            ]
        ),
        {},
    ),
    (
        "tool-result-without-content",
        body(
            messages=[
                user(text("a")),
                assistant(tool_use("t1")),
                user({"type": "tool_result", "tool_use_id": "t1"}),
            ]
        ),
        {},
    ),
    ("temperature-bounds", body(temperature=0, top_p=1, top_k=0), {}),
    ("thinking-top-p-0.95", body(top_p=0.95, thinking=ENABLED), {}),
    ("adaptive-top-p-1-top-k-null", body(top_p=1, top_k=None, thinking={"type": "adaptive"}), {}),
    ("thinking-off-any-sampling", body(top_p=0.1, top_k=3, temperature=0, thinking={"type": "disabled"}), {}),
    (
        "thinking-prefill-after-thinking",
        body(thinking=ENABLED, messages=[user(text("a")), assistant(THOUGHT, text("The answer is"))]),
        {},
    ),
    (
        "thinking-prefill-after-redacted-thinking",
        body(
            thinking=ENABLED,
            messages=[user(text("a")), assistant({"type": "redacted_thinking", "data": "x"}, text("So"))],
        ),
        {},
    ),
    ("thinking-final-assistant-empty", body(thinking=ENABLED, messages=[user(text("a")), assistant()]), {}),
    (
        "thinking-paused-turn",
        body(
            thinking=ENABLED,
            tools=[{"type": "web_search_20250305", "name": "web_search"}],
            messages=[
                user(text("a")),
                assistant(
                    text("Searching."),
                    {
                        "type": "server_tool_use",
                        "id": "srvtoolu_1",
                        "name": "web_search",
                        "input": {"query": "a"},
                    },
                ),
            ],
        ),
        {},
    ),
    (
        "thinking-ends-with-user-after-text-turn",
        body(thinking=ENABLED, messages=[user(text("a")), assistant(text("b")), user(text("c"))]),
        {},
    ),
    (
        "cache-ttl-1h-before-5m",
        body(
            tools=[{**WEATHER, "cache_control": LONG_MARK}],
            system=[text("s", cache_control=LONG_MARK)],
            messages=[user(text("a", cache_control=MARK))],
        ),
        {},
    ),
    (
        "cache-ttl-tool-result-content-1h-then-its-result-5m",
        body(
            messages=[
                user(text("a")),
                assistant(tool_use("t1")),
                user(tool_result("t1", [text("r", cache_control=LONG_MARK)], cache_control=MARK)),
            ]
        ),
        {},
    ),
    (
        "automatic-5m-after-1h",
        body(cache_control=MARK, system=[text("s", cache_control=LONG_MARK)]),
        {},
    ),
    (
        "automatic-same-ttl-as-last-block",
        body(cache_control=LONG_MARK, messages=[user(text("a", cache_control=LONG_MARK))]),
        {},
    ),
    (
        "automatic-5m-after-1h-in-the-same-message",
        body(cache_control=MARK, messages=[user(text("a", cache_control=LONG_MARK), text("b"))]),
        {},
    ),
]


# Accepted by lenient validation only: upstream refuses these too.
STRICT_REFUSES = {
    "unknown-top-level-fields": "context_management: Extra inputs are not permitted",
    "thinking-adaptive": "adaptive thinking is not supported on this model",
    "adaptive-top-p-1-top-k-null": "adaptive thinking is not supported on this model",
}


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
@pytest.mark.parametrize(("name", "payload", "headers"), ACCEPTED, ids=[row[0] for row in ACCEPTED])
def test_accepted_where_upstream_is_lenient(
    name: str, payload: dict[str, Any], headers: dict[str, str], strict: bool
) -> None:
    if strict and name in STRICT_REFUSES:
        with pytest.raises(ApiError, match=STRICT_REFUSES[name]):
            validate_messages(payload, headers, strict=strict)
        return
    view = validate_messages(payload, headers, strict=strict)
    assert view.body is payload and view.model == payload["model"]


def test_view_of_a_tool_loop() -> None:
    payload = body(
        model="claude-haiku-4-5",
        stream=True,
        system=[text("You are terse."), text("Use tools.")],
        tools=[WEATHER, {"name": "get_time", "input_schema": {"type": "object"}}],
        tool_choice={"type": "tool", "name": "get_time"},
        stop_sequences=["END"],
        metadata={"user_id": "u-1"},
        messages=[
            {"role": "user", "content": "Weather in Lyon?"},
            assistant(text("Checking."), tool_use("t1")),
            user(tool_result("t1", [text("18C"), text("sunny")])),
            assistant(tool_use("t2", "get_time"), tool_use("t3")),
            user(
                tool_result("t2", "noon", is_error=True), tool_result("t3"), text("and now?"), text("quick")
            ),
        ],
    )
    view = validate_messages(payload, {"X-Api-Key": "k", "Anthropic-Version": "2023-06-01"})
    assert view.headers == {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    assert (view.model, view.max_tokens, view.stream, view.turn) == ("claude-haiku-4-5", 2048, True, 2)
    assert view.system_text == "You are terse.\nUse tools."
    assert view.message_texts == ("Weather in Lyon?", "Checking.", "", "", "and now?\nquick")
    assert view.last_user_text == "and now?\nquick"
    assert view.tool_results == (
        ToolResultView(tool_use_id="t2", name="get_time", content_text="noon", is_error=True),
        ToolResultView(tool_use_id="t3", name="get_weather", content_text="18C", is_error=False),
    )
    assert view.tool_names == ("get_weather", "get_time")
    assert (view.tool_choice, view.tool_choice_name) == ("tool", "get_time")
    assert view.thinking is False
    assert view.stop_sequences == ("END",)
    assert view.metadata_user_id == "u-1"
    assert (view.session, view.pinned) == ("", None)


def test_view_of_results_nested_text_and_names() -> None:
    payload = body(
        messages=[
            user(text("a")),
            assistant(tool_use("t1", "lookup")),
            user(
                tool_result(
                    "t1",
                    [
                        text("line 1"),
                        {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
                        text("line 2"),
                    ],
                )
            ),
        ]
    )
    view = validate_messages(payload, {})
    assert view.tool_results == (
        ToolResultView(tool_use_id="t1", name="lookup", content_text="line 1\nline 2", is_error=False),
    )
    assert view.last_user_text == ""


@pytest.mark.parametrize(
    ("changes", "thinking", "stream"),
    [
        ({}, False, False),
        ({"stream": False, "thinking": {"type": "adaptive"}, "model": "claude-sonnet-4-6"}, True, False),
        ({"stream": True, "thinking": {"type": "enabled", "budget_tokens": 1024}}, True, True),
        ({"stream": None, "thinking": {"type": "disabled"}}, False, False),
        ({"thinking": {"type": "between_tools"}}, False, False),
    ],
)
def test_view_thinking_and_stream_flags(changes: dict[str, Any], thinking: bool, stream: bool) -> None:
    view = validate_messages(body(**changes), {})
    assert (view.thinking, view.stream) == (thinking, stream)


def test_view_without_user_message_and_with_system_messages() -> None:
    payload = body(
        system="Top",
        messages=[{"role": "system", "content": "mid"}, assistant(text("hello"))],
    )
    view = validate_messages(payload, {})
    assert view.last_user_text is None and view.tool_results == ()
    assert view.system_text == "Top" and view.message_texts == ("mid", "hello")
    assert view.turn == 1 and view.tool_choice is None and view.metadata_user_id is None


def test_count_tokens_needs_no_max_tokens() -> None:
    view = validate_count_tokens(
        body(max_tokens=DROP, thinking={"type": "enabled", "budget_tokens": 5000}), {}
    )
    assert isinstance(view, MessagesRequest) and view.max_tokens == 0 and view.thinking is True


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (body(max_tokens=DROP, model=DROP), "model: Field required"),
        (body(max_tokens=DROP, messages=[]), "messages: at least one message is required"),
        (
            body(max_tokens=DROP, messages=[user(text("a")), assistant(tool_use("t1"))]),
            "messages.1: " + UNANSWERED.format(ids="t1"),
        ),
        (body(max_tokens=DROP, messages=[user(pdf(101), text("a"))]), TOO_MANY_PAGES),
        (
            body(max_tokens=DROP, thinking={"type": "enabled", "budget_tokens": 10}),
            "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
        ),
        (
            body(max_tokens=DROP, thinking={"type": "enabled", "budget_tokens": 5000}, top_k=1),
            "`top_k` must be unset when thinking is enabled or in adaptive mode",
        ),
        (
            body(
                max_tokens=DROP,
                cache_control=MARK,
                messages=[user(text("a"), text("b", cache_control=LONG_MARK))],
            ),
            TTL_CONFLICT.format(auto="5m", explicit="1h", where="messages.0.content.1"),
        ),
    ],
)
def test_count_tokens_applies_the_same_rules(payload: dict[str, Any], message: str) -> None:
    with pytest.raises(ApiError) as caught:
        validate_count_tokens(payload, {})
    assert caught.value.message == message


@pytest.mark.parametrize("strict", [False, True], ids=["lenient", "strict"])
def test_count_tokens_takes_a_prefill_under_thinking(strict: bool) -> None:
    """A prefill is continued by a create only: count_tokens counts it, as it does on the models
    that refuse prefill (docs/wire-notes.md)."""
    payload = body(
        max_tokens=DROP, thinking=ENABLED, messages=[user(text("a")), assistant(text("The answer is"))]
    )
    assert validate_count_tokens(payload, {}, strict=strict).thinking is True
    with pytest.raises(ApiError) as caught:
        validate_messages({**payload, "max_tokens": 2048}, {}, strict=strict)
    assert caught.value.message == "messages.1.content.0.type: " + PREFILL.format(found="text")


# -- fuzz: no JSON value anywhere may escape as anything but a 400 ApiError -------------------

ODD_VALUES: list[object] = [
    None, True, 0, -1, 1.5, 10**30, "", " ", "x", [], [None], [[]], {}, {"type": None},
    {"type": "text"}, {"type": "tool_use"}, {"type": "tool_result", "content": [{}]}, [{"type": 5}],
]  # fmt: skip


def rich_body() -> dict[str, Any]:
    """A valid body touching every validated field, so mutations reach every branch."""
    return body(
        stream=True,
        system=[text("sys", cache_control=MARK)],
        tools=[WEATHER, {"type": "web_search_20250305", "name": "web_search"}],
        tool_choice={"type": "tool", "name": "get_weather"},
        thinking={"type": "disabled"},
        stop_sequences=["END"],
        metadata={"user_id": "u"},
        temperature=0.5,
        top_p=0.9,
        top_k=5,
        cache_control=MARK,
        messages=[
            {"role": "system", "content": "mid"},
            user(text("a"), {"type": "image", "source": {"type": "url", "url": "u"}}),
            assistant({"type": "thinking", "thinking": "t", "signature": "s"}, tool_use("t1")),
            user(tool_result("t1", [text("r")], is_error=False), text("b")),
        ],
    )


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from paths(inner, (*prefix, index))


def replaced(root: Any, path: tuple[Any, ...], value: object) -> Any:
    if not path:
        return value
    root = copy.deepcopy(root)
    parent = root
    for step in path[:-1]:
        parent = parent[step]
    parent[path[-1]] = value
    return root


def dropped(root: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    root = copy.deepcopy(root)
    parent: Any = root
    for step in path[:-1]:
        parent = parent[step]
    del parent[path[-1]]
    return root


def outcome(payload: object) -> MessagesRequest | ApiError:
    """What validate_messages gives (count_tokens must fare as well); other exceptions propagate."""
    result: MessagesRequest | ApiError | None = None
    for check in (validate_count_tokens, validate_messages):
        try:
            result = check(payload, {"anthropic-beta": "interleaved-thinking-2025-05-14"})
        except ApiError as error:
            assert (error.status, error.type) == (400, "invalid_request_error")
            assert error.message
            result = error
    assert result is not None
    return result


def test_rich_body_is_valid() -> None:
    assert isinstance(outcome(rich_body()), MessagesRequest)


def test_fuzz_every_position_with_odd_values() -> None:
    base = rich_body()
    all_paths = list(paths(base))
    errors = 0
    for path in all_paths:
        for value in ODD_VALUES:
            errors += isinstance(outcome(replaced(base, path, value)), ApiError)
        if path:
            outcome(dropped(base, path))
    assert len(all_paths) > 60 and errors > len(all_paths)


def random_json(rng: random.Random, depth: int) -> object:
    kind = rng.randrange(9 if depth else 6)
    scalars: list[object] = [None, rng.choice([True, False]), rng.randint(-5, 5000), rng.random() * 3]
    scalars += [rng.choice(["", " ", "user", "assistant", "text", "tool_use", "tool_result", "t1", "x.y"])]
    if kind < 5:
        return scalars[kind]
    keys = ["type", "role", "content", "text", "id", "name", "input", "tool_use_id", "cache_control"]
    if kind in (5, 6, 7):
        return {rng.choice(keys): random_json(rng, depth - 1) for _ in range(rng.randrange(4))}
    return [random_json(rng, depth - 1) for _ in range(rng.randrange(4))]


def test_fuzz_random_trees() -> None:
    rng = random.Random(20240601)
    base = rich_body()
    all_paths = list(paths(base))
    for _ in range(3000):
        outcome(replaced(base, rng.choice(all_paths), random_json(rng, 4)))
        outcome(random_json(rng, 4))
