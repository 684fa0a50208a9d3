"""Strict validation over the wire: bodies the API refuses get a 400 naming the path, bodies it
accepts get a 200, through the official SDK and through raw HTTP.

Each row is (name, body changes, headers, expected message start). The bodies are what gateways
and translators get wrong: OpenAI habits, enum values that do not exist, server tools with the
wrong name, beta fields without their header, blocks in the wrong role, per-model rules.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from mockbay.config import ServerConfig
from mockbay.server.runner import MockServer
from mockbay.wire.model_rules import ADAPTIVE, CLEAR_THINKING_OFF, DISABLED, MANUAL_THINKING, PREFILL
from tests.conftest import sync_client
from tests.images import b64, gif, jpeg, png
from tests.unit.test_validate import IMAGE_AT_LIMIT, IMAGE_OVER_LIMIT, assistant, pdf, text, user

MODEL = "claude-sonnet-4-6"
HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "additionalProperties": False}
WEATHER = {"name": "get_weather", "description": "Weather", "input_schema": SCHEMA}
PNG = {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}
MCP = {"type": "url", "url": "https://mcp.example/sse", "name": "docs"}
FIVE_MIN = {"type": "ephemeral"}
ONE_HOUR = {"type": "ephemeral", "ttl": "1h"}
THINKING = {"type": "enabled", "budget_tokens": 2000}
THOUGHT = {"type": "thinking", "thinking": "hmm", "signature": "sig"}
CM_BETA = {"anthropic-beta": "context-management-2025-06-27"}
CLEAR_THINKING = {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]}  # as Claude Code sends it


def body(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"model": MODEL, "max_tokens": 256, "messages": [user(text("Hi"))]}
    return {**base, **changes}


def image(source: dict[str, Any]) -> dict[str, Any]:
    return {"type": "image", "source": source}


def turns(*blocks: Any) -> list[dict[str, Any]]:
    """A user question, an assistant turn of `blocks`, and a user follow-up."""
    return [user(text("Go")), assistant(*blocks), user(text("Thanks"))]


def tool_loop(result: dict[str, Any]) -> list[dict[str, Any]]:
    use = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Lyon"}}
    return [user(text("Weather?")), assistant(use), user(result)]


def result(**extra: Any) -> dict[str, Any]:
    return {"type": "tool_result", "tool_use_id": "toolu_1", **extra}


def server_tool(kind: str, name: str, **extra: Any) -> dict[str, Any]:
    return {"type": kind, "name": name, **extra}


# (name, body, headers, the message's start)
REFUSED: list[tuple[str, dict[str, Any], dict[str, str], str]] = [
    ("unknown-top-level", body(foo=1), {}, "foo: Extra inputs are not permitted"),
    ("openai-n", body(n=2), {}, "n: Extra inputs are not permitted"),
    ("openai-response-format", body(response_format={"type": "json_object"}), {}, "response_format: Extra"),
    ("max-tokens-missing", {"model": MODEL, "messages": [user(text("x"))]}, {}, "max_tokens: Field required"),
    ("max-tokens-string", body(max_tokens="10"), {}, "max_tokens: Input should be a valid integer"),
    ("model-number", body(model=4), {}, "model: Input should be a valid string"),
    ("messages-object", body(messages={"role": "user"}), {}, "messages: Input should be a valid list"),
    ("message-not-object", body(messages=["hi"]), {}, "messages.0: Input should be an object"),
    ("message-extra-key", body(messages=[{"role": "user", "content": "hi", "name": "bob"}]), {}, "messages.0.name: Extra"),
    ("role-tool", body(messages=[user(text("a")), {"role": "tool", "content": "x"}]), {}, "messages.1.role: Input should be 'user', 'assistant' or 'system'"),
    ("role-missing", body(messages=[{"content": "hi"}]), {}, "messages.0.role: Field required"),
    ("block-image-url", body(messages=[user({"type": "image_url", "image_url": {"url": "u"}})]), {}, "messages.0.content.0: Input tag 'image_url' found using 'type' does not match any of the expected tags: 'text', 'image'"),
    ("block-no-type", body(messages=[user({"text": "hi"})]), {}, "messages.0.content.0: Unable to extract tag using discriminator 'type'"),
    ("text-extra-key", body(messages=[user(text("a", x=1))]), {}, "messages.0.content.0.text.x: Extra inputs are not permitted"),
    ("text-citations-bad-tag", body(messages=[user(text("a", citations=[{"type": "nope"}]))]), {}, "messages.0.content.0.text.citations.0: Input tag 'nope'"),
    ("image-bmp", body(messages=[user(image({**PNG, "media_type": "image/bmp"}))]), {}, "messages.0.content.0.image.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'"),
    ("image-no-data", body(messages=[user(image({"type": "base64", "media_type": "image/png"}))]), {}, "messages.0.content.0.image.source.base64.data: Field required"),
    ("image-ftp", body(messages=[user(image({"type": "ftp", "url": "ftp://x"}))]), {}, "messages.0.content.0.image.source: Input tag 'ftp' found using 'type' does not match any of the expected tags: 'base64', 'url', 'file'"),
    ("image-url-missing", body(messages=[user(image({"type": "url"}))]), {}, "messages.0.content.0.image.source.url.url: Field required"),
    ("image-file-missing-id", body(messages=[user(image({"type": "file"}))]), {}, "messages.0.content.0.image.source.file.file_id: Field required"),
    ("image-over-5-mb", body(messages=[user(text("a"), image({**PNG, "data": IMAGE_OVER_LIMIT}))]), {}, "messages.0.content.1.image.source.base64: image exceeds 5 MB maximum: 5242881 bytes > 5242880 bytes"),
    ("tool-result-image-over-5-mb", body(messages=tool_loop(result(content=[image({**PNG, "data": IMAGE_OVER_LIMIT})]))), {}, "messages.2.content.0.tool_result.content.0.image.source.base64: image exceeds 5 MB maximum: 5242881 bytes > 5242880 bytes"),
    ("text-empty-with-cache-control", body(messages=[user(image(PNG), text("", cache_control=FIVE_MIN))]), {}, "messages.0.content.1.text: cache_control cannot be set for empty text blocks"),
    ("image-empty", body(messages=[user(image({**PNG, "data": ""}))]), {}, "messages.0.content.0.image.source.base64: image cannot be empty"),
    ("image-gif-declared-jpeg", body(messages=[user(text("a"), image({**PNG, "media_type": "image/jpeg", "data": b64(gif(4, 4))}))]), {}, "messages.0.content.1.image.source.base64: The image was specified using the image/jpeg media type, but the image appears to be a image/gif image"),
    ("image-over-8000-pixels", body(messages=[user(image({**PNG, "media_type": "image/jpeg", "data": b64(jpeg(8192, 5464, metadata=20_000))}))]), {}, "messages.0.content.0.image.source.base64.data: At least one of the image dimensions exceed max allowed size: 8000 pixels"),
    ("many-images-over-2000-pixels", body(messages=tool_loop(result(content=[image({**PNG, "data": b64(png(2048, 1536))})] * 21))), {}, "messages.2.content.0.tool_result.content.0.image.source.base64.data: At least one of the image dimensions exceed max allowed size for many-image requests: 2000 pixels"),
    ("image-openai-shape", body(messages=[user({"type": "image", "image_url": "u"})]), {}, "messages.0.content.0.image.source: Field required"),
    ("pdf-over-100-pages", body(messages=[user(pdf(101), text("Summarise"))]), {}, "A maximum of 100 PDF pages may be provided."),
    ("messages-over-100000", body(messages=[user(text("Hi"))] * 100_001), {}, "messages: List should have at most 100000 items after validation, not 100001"),
    ("images-over-100", body(messages=[user(*[image({"type": "url", "url": "https://example.com/a.png"})] * 101)]), {}, "Too much media: 0 document pages + 101 images > 100"),
    ("images-and-pdf-pages-over-100", body(messages=[user(pdf(90), *[image(PNG)] * 11)]), {}, "Too much media: 90 document pages + 11 images > 100"),
    ("pdfs-over-100-pages-together", body(messages=[user(pdf(50), pdf(51), text("Compare"))]), {}, "A maximum of 100 PDF pages may be provided."),
    ("document-no-source", body(messages=[user({"type": "document"})]), {}, "messages.0.content.0.document.source: Field required"),
    ("document-pdf-png", body(messages=[user({"type": "document", "source": {**PNG}})]), {}, "messages.0.content.0.document.source.base64.media_type: Input should be 'application/pdf'"),
    ("document-citations-bool", body(messages=[user({"type": "document", "source": {"type": "url", "url": "u"}, "citations": True})]), {}, "messages.0.content.0.document.citations: Input should be an object"),
    ("search-result-no-title", body(messages=[user({"type": "search_result", "source": "s", "content": [text("x")]})]), {}, "messages.0.content.0.search_result.title: Field required"),
    ("thinking-no-signature", body(messages=turns({"type": "thinking", "thinking": "hmm"})), {}, "messages.1.content.0.thinking.signature: Field required"),
    ("redacted-no-data", body(messages=turns({"type": "redacted_thinking"})), {}, "messages.1.content.0.redacted_thinking.data: Field required"),
    ("tool-use-extra", body(messages=turns({"type": "tool_use", "id": "t", "name": "n", "input": {}, "x": 1})), {}, "messages.1.content.0.tool_use.x: Extra inputs are not permitted"),
    ("server-tool-use-bad-name", body(messages=turns({"type": "server_tool_use", "id": "srvtoolu_1", "name": "browse", "input": {}})), {}, "messages.1.content.0.server_tool_use.name: Input should be 'web_search'"),
    ("beta-block-without-beta", body(messages=turns({"type": "compaction", "content": "x"})), {}, "messages.1.content.0: Input tag 'compaction'"),
    ("tool-use-id-dot", body(messages=[user(text("Weather?")), assistant({"type": "tool_use", "id": "call.1", "name": "get_weather", "input": {}}), user(result(content="18C"))]), {}, "messages.1.content.0.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'"),
    ("tool-result-id-colon", body(messages=tool_loop({"type": "tool_result", "tool_use_id": "functions.get_weather:0", "content": "18C"})), {}, "messages.2.content.0.tool_result.tool_use_id: String should match pattern '^[a-zA-Z0-9_-]+$'"),
    ("tool-result-is-error-string", body(messages=tool_loop(result(is_error="yes"))), {}, "messages.2.content.0.tool_result.is_error: Input should be a valid boolean"),
    ("tool-result-inner-tag", body(messages=tool_loop(result(content=[{"type": "video"}]))), {}, "messages.2.content.0.tool_result.content.0: Input tag 'video'"),
    ("tool-result-extra", body(messages=tool_loop(result(output="18C"))), {}, "messages.2.content.0.tool_result.output: Extra inputs are not permitted"),
    ("image-in-assistant", body(messages=[user(text("a")), assistant(image(PNG))]), {}, "messages.1.content.0: `image` blocks may only be sent in `user` messages"),
    ("document-in-assistant", body(messages=turns({"type": "document", "source": {"type": "url", "url": "u"}})), {}, "messages.1.content.0: `document` blocks may only be sent in `user` messages"),
    ("tool-result-in-assistant", body(messages=turns(result(content="x"))), {}, "messages.1.content.0: `tool_result` blocks may only be sent in `user` messages"),
    ("tool-use-in-user", body(messages=[user(text("a"), {"type": "tool_use", "id": "toolu_1", "name": "n", "input": {}})]), {}, "messages.0.content.1: `tool_use` blocks may only be sent in `assistant` messages, not `user` ones"),
    ("thinking-in-user", body(messages=[user({"type": "thinking", "thinking": "hmm", "signature": "s"}, text("a"))]), {}, "messages.0.content.0: `thinking` blocks may only be sent in `assistant` messages"),
    ("redacted-thinking-in-user", body(messages=[user({"type": "redacted_thinking", "data": "d"}, text("a"))]), {}, "messages.0.content.0: `redacted_thinking` blocks may only be sent in `assistant` messages"),
    ("server-tool-use-id-client-style", body(messages=turns({"type": "server_tool_use", "id": "toolu_01A", "name": "web_search", "input": {}})), {}, "messages.1.content.0.server_tool_use.id: String should match pattern '^srvtoolu_[a-zA-Z0-9_]+$'"),
    ("server-tool-use-id-dash", body(messages=turns({"type": "server_tool_use", "id": "srvtoolu_01-A", "name": "web_search", "input": {}})), {}, "messages.1.content.0.server_tool_use.id: String should match pattern '^srvtoolu_[a-zA-Z0-9_]+$'"),
    ("server-tool-use-in-user", body(messages=[user(text("a"), {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {}})]), {}, "messages.0.content.1: `server_tool_use` blocks may only be sent in `assistant` messages"),
    ("search-result-block-in-user", body(messages=[user(text("a"), {"type": "web_search_tool_result", "tool_use_id": "srvtoolu_1", "content": []})]), {}, "messages.0.content.1: `web_search_tool_result` blocks may only be sent in `assistant` messages"),
    ("system-role-image", body(messages=[{"role": "system", "content": [image(PNG)]}, user(text("a"))]), {}, "messages.0.content.0: Input tag 'image' found using 'type' does not match any of the expected tags: 'text'"),
    ("system-block-extra", body(system=[text("s", foo=1)]), {}, "system.0.text.foo: Extra inputs are not permitted"),
    ("system-number", body(system=5), {}, "system: Input should be a valid list"),
    ("metadata-extra", body(metadata={"user_id": "u", "session": "s"}), {}, "metadata.session: Extra inputs are not permitted"),
    ("service-tier-bogus", body(service_tier="bogus"), {}, "service_tier: Input should be 'auto' or 'standard_only'"),
    ("speed-ludicrous", body(speed="ludicrous"), {}, "speed: Input should be"),
    ("effort-ultra", body(output_config={"effort": "ultra"}), {}, "output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'"),
    ("format-extra", body(output_config={"format": {"type": "json_schema", "schema": SCHEMA, "name": "x"}}), {}, "output_config.format.name: Extra inputs are not permitted"),
    ("format-no-schema", body(output_config={"format": {"type": "json_schema"}}), {}, "output_config.format.schema: Field required"),
    ("inference-geo-number", body(inference_geo=1), {}, "inference_geo: Input should be a valid string"),
    ("diagnostics-extra", body(diagnostics={"previous_message_id": "msg_1", "verbose": True}), {}, "diagnostics.verbose: Extra inputs are not permitted"),
    ("cache-control-ttl-2h", body(cache_control={"type": "ephemeral", "ttl": "2h"}), {}, "cache_control.ttl: Input should be '5m' or '1h'"),
    ("cache-control-type", body(cache_control={"type": "persistent"}), {}, "cache_control.type: Input should be 'ephemeral'"),
    ("stream-string", body(stream="true"), {}, "stream: Input should be a valid boolean"),
    ("thinking-adaptive-budget", body(thinking={"type": "adaptive", "budget_tokens": 2000}), {}, "thinking.adaptive.budget_tokens: Extra inputs are not permitted"),
    ("thinking-display-full", body(thinking={"type": "adaptive", "display": "full"}), {}, "thinking.adaptive.display: Input should be"),
    ("thinking-budget-string", body(thinking={"type": "enabled", "budget_tokens": "2000"}), {}, "thinking.enabled.budget_tokens: Input should be a valid integer"),
    ("tool-choice-extra", body(tools=[WEATHER], tool_choice={"type": "auto", "parallel": False}), {}, "tool_choice.auto.parallel: Extra inputs are not permitted"),
    ("tool-choice-parallel-string", body(tools=[WEATHER], tool_choice={"type": "auto", "disable_parallel_tool_use": "yes"}), {}, "tool_choice.auto.disable_parallel_tool_use: Input should be a valid boolean"),
    ("tools-openai-function", body(tools=[{"type": "function", "function": {"name": "f"}}]), {}, "tools.0: Input tag 'function' found using 'type' does not match any of the expected tags: 'custom', 'bash_20250124'"),
    ("tool-openai-parameters", body(tools=[{"name": "f", "parameters": SCHEMA}]), {}, "tools.0.custom.input_schema: Field required"),
    ("tool-schema-array", body(tools=[{"name": "f", "input_schema": {"type": "array"}}]), {}, "tools.0.custom.input_schema.type: Input should be 'object'"),
    ("tool-description-number", body(tools=[{**WEATHER, "description": 5}]), {}, "tools.0.custom.description: Input should be a valid string"),
    ("tools-duplicate-names", body(tools=[WEATHER, WEATHER]), {}, "tools.1.name: tool names must be unique; tools.0 is also named 'get_weather'"),
    ("tools-custom-shadows-server", body(tools=[server_tool("web_search_20250305", "web_search"), {**WEATHER, "name": "web_search"}]), {}, "tools.1.name: tool names must be unique"),
    ("web-search-wrong-name", body(tools=[server_tool("web_search_20250305", "search")]), {}, "tools.0.web_search_20250305.name: Input should be 'web_search'"),
    ("web-search-future-date", body(tools=[server_tool("web_search_29990101", "web_search")]), {}, "tools.0: Input tag 'web_search_29990101' found using 'type'"),
    ("web-search-max-uses-string", body(tools=[server_tool("web_search_20250305", "web_search", max_uses="5")]), {}, "tools.0.web_search_20250305.max_uses: Input should be a valid integer"),
    ("web-search-location-extra", body(tools=[server_tool("web_search_20250305", "web_search", user_location={"type": "approximate", "planet": "Mars"})]), {}, "tools.0.web_search_20250305.user_location.planet: Extra inputs are not permitted"),
    ("bash-parameters", body(tools=[server_tool("bash_20250124", "bash", parameters={})]), {}, "tools.0.bash_20250124.parameters: Extra inputs are not permitted"),
    ("code-execution-wrong-name", body(tools=[server_tool("code_execution_20250825", "python")]), {}, "tools.0.code_execution_20250825.name: Input should be 'code_execution'"),
    ("text-editor-old-name", body(tools=[server_tool("text_editor_20250728", "str_replace_editor")]), {}, "tools.0.text_editor_20250728.name: Input should be 'str_replace_based_edit_tool'"),
    ("memory-wrong-name", body(tools=[server_tool("memory_20250818", "notes")]), {}, "tools.0.memory_20250818.name: Input should be 'memory'"),
    ("mcp-servers-without-beta", body(mcp_servers=[MCP]), {}, "mcp_servers: Extra inputs are not permitted"),
    ("mcp-servers-other-beta", body(mcp_servers=[MCP]), {"anthropic-beta": "context-management-2025-06-27"}, "mcp_servers: Extra inputs are not permitted"),
    ("context-management-without-beta", body(context_management={"edits": []}), {}, "context_management: Extra inputs are not permitted"),
    ("output-format-without-beta", body(output_format={"type": "json_schema", "schema": SCHEMA}), {}, "output_format: Extra inputs are not permitted"),
    ("output-format-no-schema", body(output_format={"type": "json_schema"}), {"anthropic-beta": "structured-outputs-2025-11-13"}, "output_format.schema: Field required"),
    ("mcp-server-missing-url", body(mcp_servers=[{"type": "url", "name": "docs"}]), {"anthropic-beta": "mcp-client-2025-11-20"}, "mcp_servers.0.url.url: Field required"),
    ("enabled-thinking-opus-4-7", body(model="claude-opus-4-7", max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 2000}), {}, MANUAL_THINKING),
    ("adaptive-on-haiku-4-5", body(model="claude-haiku-4-5", thinking={"type": "adaptive"}), {}, ADAPTIVE),
    ("disabled-on-fable-5-1", body(model="claude-fable-5-1", thinking={"type": "disabled"}), {}, DISABLED),
    ("clear-thinking-without-thinking", body(context_management=CLEAR_THINKING), CM_BETA, CLEAR_THINKING_OFF),
    ("clear-thinking-with-thinking-disabled", body(thinking={"type": "disabled"}, context_management=CLEAR_THINKING), CM_BETA, CLEAR_THINKING_OFF),
    ("prefill-sonnet-4-6", body(messages=[user(text("a")), assistant(text("The answer is"))]), {}, PREFILL),
    ("temperature-opus-4-7", body(model="claude-opus-4-7", temperature=0.3), {}, "`temperature` is deprecated for this model."),
    ("top-k-opus-4-8", body(model="claude-opus-4-8", top_k=5), {}, "`top_k` is deprecated for this model."),
    ("top-p-sonnet-5", body(model="claude-sonnet-5", top_p=0.5), {}, "`top_p` is deprecated for this model"),
    ("temperature-high", body(temperature=1.5), {}, "temperature: Input should be less than or equal to 1"),
    ("max-tokens-over-cap", body(model="claude-opus-4-6", max_tokens=128001), {}, "max_tokens: 128001 > 128000"),
    ("thinking-top-k", body(max_tokens=4000, thinking=THINKING, top_k=40), {}, "`top_k` must be unset when thinking is enabled or in adaptive mode"),
    ("adaptive-top-p-0.9", body(thinking={"type": "adaptive"}, top_p=0.9), {}, "`top_p` must be between 0.95 and 1 when thinking is enabled or in adaptive mode"),
    ("thinking-prefill-haiku-4-5", body(model="claude-haiku-4-5", max_tokens=4000, thinking=THINKING, messages=[user(text("a")), assistant(text("The answer is"))]), {}, "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `text`. When `thinking` is enabled"),
    ("cache-ttl-1h-after-5m", body(system=[text("s", cache_control=FIVE_MIN)], messages=[user(text("Hi", cache_control=ONE_HOUR))]), {}, "messages.0.content.0.cache_control.ttl: a ttl='1h' cache_control block must not come after a ttl='5m' cache_control block."),
    ("automatic-ttl-conflict", body(cache_control=ONE_HOUR, messages=[user(text("Hi", cache_control=FIVE_MIN))]), {}, "cache_control.ttl: the top-level ttl='1h' differs from the ttl='5m' of the cache_control on messages.0.content.0"),
]  # fmt: skip

# Every GA server tool type, in sets whose names are unique (two tools may not share a name).
SERVER_TOOL_SETS = [
    [
        server_tool("bash_20250124", "bash"),
        server_tool("code_execution_20250522", "code_execution"),
        server_tool("memory_20250818", "memory"),
        server_tool("text_editor_20250124", "str_replace_editor"),
        server_tool("web_search_20250305", "web_search", max_uses=5, allowed_domains=["example.com"]),
        server_tool("web_fetch_20250910", "web_fetch", max_uses=2),
        server_tool("tool_search_tool_bm25_20251119", "tool_search_tool_bm25"),
        server_tool("tool_search_tool_regex_20251119", "tool_search_tool_regex"),
        {"type": "browser_toolset_20260801"},
        {"type": "computer_toolset_20260801"},
    ],
    [
        server_tool("code_execution_20250825", "code_execution"),
        server_tool("text_editor_20250429", "str_replace_based_edit_tool"),
        server_tool("web_search_20260209", "web_search"),
        server_tool("web_fetch_20260209", "web_fetch"),
    ],
    [
        server_tool("code_execution_20260120", "code_execution"),
        server_tool("text_editor_20250728", "str_replace_based_edit_tool", max_characters=10000),
        server_tool("web_search_20260318", "web_search"),
        server_tool("web_fetch_20260309", "web_fetch"),
    ],
    [
        server_tool("code_execution_20260521", "code_execution"),
        server_tool("web_fetch_20260318", "web_fetch"),
    ],
]
SERVER_HISTORY = [
    {"type": "server_tool_use", "id": "srvtoolu_1", "name": "web_search", "input": {"query": "lyon"}},
    {
        "type": "web_search_tool_result",
        "tool_use_id": "srvtoolu_1",
        "content": [{"type": "web_search_result", "url": "https://x", "title": "X", "encrypted_content": "e"}],
    },
    {"type": "server_tool_use", "id": "srvtoolu_2", "name": "web_fetch", "input": {"url": "https://x"}},
    {
        "type": "web_fetch_tool_result",
        "tool_use_id": "srvtoolu_2",
        "content": {"type": "web_fetch_tool_result_error", "error_code": "url_not_accessible"},
    },
    {"type": "server_tool_use", "id": "srvtoolu_3", "name": "code_execution", "input": {"code": "1"}},
    {
        "type": "code_execution_tool_result",
        "tool_use_id": "srvtoolu_3",
        "content": {"type": "code_execution_result", "stdout": "1", "stderr": "", "return_code": 0, "content": []},
    },
    text("Lyon is sunny.", citations=[{"type": "web_search_result_location", "url": "https://x", "title": "X", "encrypted_index": "i", "cited_text": "sunny"}]),
]  # fmt: skip

# What Claude Code 2.1 and LiteLLM 1.108 send (docs/wire-notes.md, "Clients seen working").
CLAUDE_CODE_BETAS = (
    "claude-code-20250219,context-1m-2025-08-07,interleaved-thinking-2025-05-14,thinking-token-count-2026-05-13,"
    "context-management-2025-06-27,prompt-caching-scope-2026-01-05,mid-conversation-system-2026-04-07,"
    "effort-2025-11-24"
)
CLAUDE_CODE = body(
    model="claude-opus-4-7",
    max_tokens=64000,
    system=[text("You are Claude Code.", cache_control={"type": "ephemeral"})],
    tools=[{"name": "Bash", "description": "Run a command", "input_schema": SCHEMA}],
    metadata={"user_id": '{"device_id":"abc","session_id":"s1"}'},
    thinking={"type": "adaptive"},
    context_management={"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
    output_config={"effort": "high"},
    messages=[user(text("say hi")), {"role": "system", "content": "<system-reminder>x</system-reminder>"}],
)
LITELLM = body(
    max_tokens=128000,
    system=[text("Be helpful.")],
    tools=[{**WEATHER, "type": "custom"}],
    tool_choice={"type": "auto"},
    temperature=1,
    thinking={"type": "adaptive", "display": "summarized"},
    output_config={"effort": "low"},
    messages=tool_loop(result(content="18C")),
)

ACCEPTED: list[tuple[str, dict[str, Any], dict[str, str]]] = [
    ("minimal", body(), {}),
    ("string-content", body(messages=[{"role": "user", "content": "Hello"}]), {}),
    ("image-base64", body(messages=[user(image(PNG), text("What is this?"))]), {}),
    ("images-as-declared", body(messages=[user(image({**PNG, "media_type": "image/jpeg", "data": b64(jpeg(4000, 3000, metadata=60_000))}), image({**PNG, "data": b64(png(8000, 600))}), text("Compare"))]), {}),
    ("image-at-5-mb", body(messages=[user(image({**PNG, "data": IMAGE_AT_LIMIT}), text("What is this?"))]), {}),
    ("image-url", body(messages=[user(image({"type": "url", "url": "https://x/y.png"}))]), {}),
    ("image-file", body(messages=[user(image({"type": "file", "file_id": "file_1"}))]), {}),
    ("document-pdf", body(messages=[user({"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="}})]), {}),
    ("pdfs-at-100-pages", body(model="claude-opus-4-7", messages=[user(pdf(50), pdf(50), text("Compare"))]), {}),  # 1M window: 100 pages at 2,000 tokens fill 200K
    ("document-text", body(messages=[user({"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "d"}, "title": "T", "context": "C", "citations": {"enabled": True}})]), {}),
    ("document-content", body(messages=[user({"type": "document", "source": {"type": "content", "content": [text("a")]}})]), {}),
    ("document-url-and-file", body(messages=[user({"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}}, {"type": "document", "source": {"type": "file", "file_id": "file_2"}})]), {}),
    ("search-result", body(messages=[user({"type": "search_result", "source": "https://x", "title": "X", "content": [text("found")], "citations": {"enabled": True}})]), {}),
    ("container-upload", body(messages=[user({"type": "container_upload", "file_id": "file_3"}, text("run it"))]), {}),
    ("thinking-history", body(messages=turns({"type": "thinking", "thinking": "hmm", "signature": "sig"}, {"type": "redacted_thinking", "data": "xyz"}, text("ok"))), {}),
    ("tool-use-id-charset", body(tools=[WEATHER], messages=[user(text("Weather?")), assistant({"type": "tool_use", "id": "toolu_01AbZ-9_x", "name": "get_weather", "input": {}}), user({"type": "tool_result", "tool_use_id": "toolu_01AbZ-9_x", "content": "18C"})]), {}),
    ("tool-loop-string-result", body(tools=[WEATHER], messages=tool_loop(result(content="18C"))), {}),
    ("tool-result-nested-blocks", body(tools=[WEATHER], messages=tool_loop(result(content=[text("18C"), image(PNG), {"type": "search_result", "source": "s", "title": "t", "content": [text("x")]}, {"type": "document", "source": {"type": "url", "url": "u"}}, {"type": "tool_reference", "tool_name": "get_weather"}], is_error=False, cache_control={"type": "ephemeral"}))), {}),
    ("server-tool-history", body(tools=[server_tool("web_search_20250305", "web_search")], messages=turns(*SERVER_HISTORY)), {}),
    *[(f"ga-server-tools-{i}", body(tools=tools), {}) for i, tools in enumerate(SERVER_TOOL_SETS)],
    ("custom-tool-everything", body(tools=[{**WEATHER, "type": "custom", "strict": True, "cache_control": {"type": "ephemeral", "ttl": "1h"}, "input_examples": [{"city": "Lyon"}], "defer_loading": False, "eager_input_streaming": None}]), {}),
    ("input-schema-json-schema-keys", body(tools=[{"name": "f", "input_schema": {"type": "object", "$defs": {}, "additionalProperties": False, "required": ["a"]}}]), {}),
    ("tool-type-null", body(tools=[{**WEATHER, "type": None}]), {}),
    ("tool-choice-variants", body(tools=[WEATHER], tool_choice={"type": "auto", "disable_parallel_tool_use": True}), {}),
    ("tool-choice-none", body(tools=[WEATHER], tool_choice={"type": "none"}), {}),
    ("tool-choice-tool", body(tools=[WEATHER], tool_choice={"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True}), {}),
    ("adaptive-thinking", body(thinking={"type": "adaptive", "display": "omitted"}, output_config={"effort": "high"}), {}),
    ("adaptive-thinking-opus-4-7", body(model="claude-opus-4-7", thinking={"type": "adaptive"}, output_config={"effort": "xhigh"}), {}),
    ("enabled-thinking-sonnet-4-6", body(max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 2000, "display": "summarized"}), {}),
    ("between-tools-thinking", body(thinking={"type": "between_tools"}), {}),
    ("output-config-format", body(output_config={"effort": "low", "format": {"type": "json_schema", "schema": SCHEMA}}), {}),
    ("service-tier", body(service_tier="standard_only"), {}),
    ("inference-geo", body(inference_geo="us"), {}),
    ("speed-and-diagnostics", body(speed="fast", diagnostics={"previous_message_id": "msg_1"}), {}),
    ("container-with-skills", body(container={"id": "cntr_1", "skills": [{"type": "anthropic", "skill_id": "pdf"}]}), {}),
    ("container-id-string", body(container="cntr_1"), {}),
    ("top-level-cache-control", body(cache_control={"type": "ephemeral", "ttl": "1h"}), {}),
    ("metadata", body(metadata={"user_id": "u-1"}), {}),
    ("system-string-and-blocks", body(system=[text("Be brief.", cache_control={"type": "ephemeral"})]), {}),
    ("system-role-message", body(messages=[user(text("Hi")), {"role": "system", "content": "<system-reminder>be terse</system-reminder>"}, user(text("Go on"))]), {}),
    ("system-role-first", body(system="s", messages=[{"role": "system", "content": [text("reminder")]}, user(text("Hi"))]), {}),
    ("stop-sequences-and-stream-false", body(stop_sequences=["END"], stream=False), {}),
    ("nulls-for-optional-fields", body(system=None, tools=None, metadata=None, cache_control=None, container=None), {}),
    ("deprecated-sampling-on-haiku", body(model="claude-haiku-4-5", temperature=0.2, top_p=0.9, top_k=10), {}),
    ("temperature-one-opus-4-8", body(model="claude-opus-4-8", temperature=1), {}),
    ("prefill-haiku-4-5", body(model="claude-haiku-4-5", messages=[user(text("a")), assistant(text("The answer is"))]), {}),
    ("pause-turn-continuation-sonnet-4-6", body(tools=[server_tool("web_search_20250305", "web_search")], messages=[user(text("a")), assistant({"type": "server_tool_use", "id": "srvtoolu_01A", "name": "web_search", "input": {"query": "a"}})]), {}),
    ("unknown-model", body(model="my-gateway-model"), {}),
    ("thinking-prefill-after-thinking-haiku-4-5", body(model="claude-haiku-4-5", max_tokens=4000, thinking=THINKING, messages=[user(text("a")), assistant(THOUGHT, text("The answer is"))]), {}),
    ("adaptive-top-p-0.95", body(thinking={"type": "adaptive"}, top_p=0.95), {}),
    ("cache-ttls-longest-first", body(tools=[{**WEATHER, "cache_control": ONE_HOUR}], system=[text("s", cache_control=ONE_HOUR)], messages=[user(text("Hi", cache_control=FIVE_MIN))], cache_control=FIVE_MIN), {}),
    ("automatic-same-ttl-as-last-block", body(cache_control=ONE_HOUR, messages=[user(text("Hi", cache_control=ONE_HOUR))]), {}),
    ("claude-code-shape", CLAUDE_CODE, {"anthropic-beta": CLAUDE_CODE_BETAS}),
    ("litellm-chat-completions-shape", LITELLM, {}),
    ("mcp-servers-with-beta", body(mcp_servers=[MCP]), {"anthropic-beta": "mcp-client-2025-11-20"}),
    ("context-management-with-beta", body(context_management={"edits": [{"type": "clear_tool_uses_20250919"}]}), {"anthropic-beta": "context-management-2025-06-27"}),
    ("compaction-edit-with-compact-beta", body(model="claude-opus-4-6", context_management={"edits": [{"type": "compact_20260112"}]}), {"anthropic-beta": "compact-2026-01-12"}),
    ("clear-thinking-with-adaptive-thinking", body(thinking={"type": "adaptive"}, context_management=CLEAR_THINKING), CM_BETA),
    ("clear-thinking-on-an-always-thinking-model", body(model="claude-fable-5-1", context_management=CLEAR_THINKING), CM_BETA),
    ("beta-block-with-beta", body(messages=turns({"type": "compaction", "content": "summary"})), {"anthropic-beta": "compact-2026-01-12"}),
    ("output-format-with-beta", body(output_format={"type": "json_schema", "schema": SCHEMA}), {"anthropic-beta": "structured-outputs-2025-11-13"}),
]  # fmt: skip

COUNT_TOKENS_REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("max-tokens", body(), "max_tokens: Extra inputs are not permitted"),
    ("stream", {"model": MODEL, "messages": [user(text("a"))], "stream": True}, "stream: Extra inputs"),
    ("metadata", {"model": MODEL, "messages": [user(text("a"))], "metadata": {}}, "metadata: Extra inputs"),
    ("tool-wrong-name", {"model": MODEL, "messages": [user(text("a"))], "tools": [server_tool("web_search_20250305", "s")]}, "tools.0.web_search_20250305.name"),
]  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    """Strict validation, and a generated reply for anything it accepts."""
    with MockServer([], config=ServerConfig(port=0, timing="instant", fallback="generate")) as running:
        yield running


FILE_IDS = ("file_1", "file_2", "file_3")  # stand-ins for uploads, replaced by the real ids


@pytest.fixture(scope="module")
def uploaded(server: MockServer) -> dict[str, str]:
    """Upload one file per stand-in id: a `file_id` source must name a file the API holds."""
    client = anthropic.Anthropic(base_url=server.url, api_key="k")
    with client:
        return {
            stand_in: client.beta.files.upload(file=(f"{stand_in}.pdf", b"%PDF-1.4", "application/pdf")).id
            for stand_in in FILE_IDS
        }


def with_files(payload: dict[str, Any], ids: dict[str, str]) -> dict[str, Any]:
    text = json.dumps(payload)
    for stand_in, real in ids.items():
        text = text.replace(f'"{stand_in}"', f'"{real}"')
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def raw(server: MockServer, payload: dict[str, Any], headers: dict[str, str], path: str = "/v1/messages"):
    """The request as bytes; a 30 s timeout as `via_sdk`'s, since the largest rows (6 MB) take
    about a second on a busy machine, near httpx's default 5 s."""
    return httpx.post(f"{server.url}{path}", json=payload, headers={**HEADERS, **headers}, timeout=30)


CREATE_PARAMS = frozenset(inspect.signature(anthropic.Anthropic(api_key="k").messages.create).parameters)


def via_sdk(client: anthropic.Anthropic, payload: dict[str, Any], headers: dict[str, str]) -> Any:
    """`messages.create` with the SDK's own parameters; the rest goes in `extra_body`. A fixed
    timeout keeps the SDK from sizing one from `max_tokens`, which a wrong value would break."""
    known = {k: v for k, v in payload.items() if k in CREATE_PARAMS}
    extra = {k: v for k, v in payload.items() if k not in CREATE_PARAMS}
    return client.messages.create(
        **known, extra_body=extra or None, extra_headers=headers or None, timeout=30
    )


SDK_REFUSED = [row for row in REFUSED if row[0] != "max-tokens-missing"]  # the SDK insists on max_tokens


def test_the_tables_are_as_large_as_promised() -> None:
    assert len(REFUSED) >= 60 and len(ACCEPTED) >= 40
    assert len({row[0] for row in REFUSED}) == len(REFUSED)
    assert len({row[0] for row in ACCEPTED}) == len(ACCEPTED)


@pytest.mark.parametrize(("name", "payload", "headers", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_over_raw_http(
    server: MockServer, name: str, payload: dict, headers: dict, message: str
) -> None:
    response = raw(server, payload, headers)
    assert response.status_code == 400, response.text
    error = response.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert error["error"]["message"].startswith(message), error["error"]["message"]
    assert error["request_id"] == response.headers["request-id"]


@pytest.mark.parametrize(
    ("name", "payload", "headers", "message"), SDK_REFUSED, ids=[r[0] for r in SDK_REFUSED]
)
def test_refused_through_the_sdk(
    server: MockServer, name: str, payload: dict, headers: dict, message: str
) -> None:
    client = sync_client(server.url, max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as caught:
        via_sdk(client, payload, headers)
    assert caught.value.status_code == 400
    assert caught.value.body["error"]["message"].startswith(message)  # type: ignore[index]


@pytest.mark.parametrize(("name", "payload", "headers"), ACCEPTED, ids=[r[0] for r in ACCEPTED])
def test_accepted_over_raw_http(
    server: MockServer, uploaded: dict[str, str], name: str, payload: dict, headers: dict
) -> None:
    response = raw(server, with_files(payload, uploaded), headers)
    assert response.status_code == 200, response.text
    assert response.json()["type"] == "message"


@pytest.mark.parametrize(("name", "payload", "headers"), ACCEPTED, ids=[r[0] for r in ACCEPTED])
def test_accepted_through_the_sdk(
    server: MockServer, uploaded: dict[str, str], name: str, payload: dict, headers: dict
) -> None:
    client = sync_client(server.url, max_retries=0)
    message = via_sdk(client, with_files(payload, uploaded), headers)
    assert message.type == "message" and message.role == "assistant"


@pytest.mark.parametrize(
    ("name", "payload", "message"), COUNT_TOKENS_REFUSED, ids=[r[0] for r in COUNT_TOKENS_REFUSED]
)
def test_count_tokens_validates_its_own_params(
    server: MockServer, name: str, payload: dict, message: str
) -> None:
    response = raw(server, payload, {}, "/v1/messages/count_tokens")
    assert response.status_code == 400, response.text
    assert response.json()["error"]["message"].startswith(message)


def test_count_tokens_accepts_what_the_sdk_sends(server: MockServer) -> None:
    client = sync_client(server.url, max_retries=0)
    counted = client.messages.count_tokens(
        model=MODEL,
        messages=[user(text("Hi"))],
        tools=[WEATHER, server_tool("web_search_20250305", "web_search")],
        thinking={"type": "adaptive"},
        output_config={"effort": "low"},
        cache_control={"type": "ephemeral"},
    )
    assert counted.input_tokens > 0


def test_a_reply_sent_back_as_history_is_accepted(server: MockServer) -> None:
    """What every agent loop does: the SDK's response content objects go back as the next turn."""
    client = sync_client(server.url, max_retries=0)
    first = client.messages.create(
        model=MODEL, max_tokens=256, tools=[WEATHER], messages=[user(text("Weather in Lyon?"))]
    )
    history = [user(text("Weather in Lyon?")), {"role": "assistant", "content": first.content}]
    uses = [block for block in first.content if block.type == "tool_use"]
    history.append(
        user(*[{"type": "tool_result", "tool_use_id": b.id, "content": "18C"} for b in uses] or [text("ok")])
    )
    second = client.messages.create(model=MODEL, max_tokens=256, tools=[WEATHER], messages=history)
    assert second.type == "message"


@pytest.mark.parametrize(
    "tools",
    [
        [WEATHER, WEATHER],
        [server_tool("web_search_20250305", "web_search"), {**WEATHER, "name": "web_search"}],
    ],
    ids=["two-custom", "custom-shadows-server"],
)
def test_a_tool_name_conflict_is_the_sdks_own_error(server: MockServer, tools: list[dict[str, Any]]) -> None:
    """Upstream marks it `details.error_code: tool_name_conflict`, which the SDK turns into its class."""
    client = sync_client(server.url, max_retries=0)
    with pytest.raises(anthropic.types.ToolNameConflictError) as caught:
        client.messages.create(model=MODEL, max_tokens=16, tools=tools, messages=[user(text("Hi"))])
    assert caught.value.body["error"]["details"] == {"error_code": "tool_name_conflict"}  # type: ignore[index]


def test_count_tokens_checks_the_files_a_request_names(server: MockServer, uploaded: dict[str, str]) -> None:
    """As a create does: an unknown file id is a 404, a stored one is counted."""

    def document(file_id: str) -> dict[str, Any]:
        source = {"type": "file", "file_id": file_id}
        return {"model": MODEL, "messages": [user({"type": "document", "source": source}, text("Sum up"))]}

    missing = raw(server, document("file_011CNotThere000000000"), {}, "/v1/messages/count_tokens")
    assert missing.status_code == 404, missing.text
    assert missing.json()["error"]["message"] == "File not found: file_011CNotThere000000000"
    stored = raw(server, document(next(iter(uploaded.values()))), {}, "/v1/messages/count_tokens")
    assert stored.status_code == 200 and stored.json()["input_tokens"] > 0, stored.text


def test_lenient_mode_keeps_the_old_leniency(server: MockServer) -> None:
    payload = body(foo=1, service_tier="bogus", messages=[user(text("a")), assistant(image(PNG))])
    with server.overrides(validation="lenient"):
        assert raw(server, payload, {}).status_code == 200
    assert raw(server, payload, {}).status_code == 400


@pytest.mark.mockbay(validation="lenient", fallback="generate")
def test_the_pytest_marker_chooses_lenient(mockbay: MockServer) -> None:
    assert mockbay.state.config.validation == "lenient"
    assert raw(mockbay, body(foo=1), {}).status_code == 200


@pytest.mark.parametrize(
    ("path", "base"),
    [
        ("/v1/v1/messages", ""),
        ("/v1/messages/v1/messages", ""),
        ("/gateway/v1/v1/messages", "/gateway"),
        ("/s/plain/v1/v1/messages", "/s/plain"),
        ("/v1/v1/messages/count_tokens", ""),
    ],
)
def test_a_base_url_ending_in_v1_gets_upstreams_404(server: MockServer, path: str, base: str) -> None:
    response = raw(server, body(), {}, path)
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["type"] == "not_found_error"
    assert f"set the base URL to {server.url}{base} instead" in error["message"]


def test_behind_a_gateway_the_fix_names_the_gateways_base_url(server: MockServer) -> None:
    """The client's base URL is the gateway's, prefix included: `Forwarded` and `X-Forwarded-Prefix`."""
    headers = {
        "forwarded": 'for=192.0.2.1;proto=https;host="gw.example:8443"',
        "x-forwarded-prefix": "/anthropic",
    }
    error = raw(server, body(), headers, "/v1/v1/messages").json()["error"]
    assert "set the base URL to https://gw.example:8443/anthropic instead" in error["message"]


def test_the_sdk_with_a_v1_base_url_is_told_the_fix(server: MockServer) -> None:
    client = sync_client(f"{server.url}/v1", max_retries=0)
    with pytest.raises(anthropic.NotFoundError, match="set the base URL to"):
        client.messages.create(model=MODEL, max_tokens=10, messages=[user(text("Hi"))])


@pytest.mark.parametrize("prefix", ["", "/gateway", "/anthropic", "/v2/proxy", "/v1/projects/p/invoke"])
def test_other_prefixes_still_work(server: MockServer, prefix: str) -> None:
    assert raw(server, body(), {}, f"{prefix}/v1/messages").status_code == 200
