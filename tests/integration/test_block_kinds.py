"""Every block kind of the response surface, one table row each (scenarios.md §10).

For each row the SDK parses the JSON reply into its typed classes, and `messages.stream()` …
`get_final_message()` equals the JSON reply, ids included. Adding a block kind is one class in
mockbay/blocks/ and one row here.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import pytest

from mockbay.blocks import KINDS
from mockbay.server.runner import MockServer
from tests.conftest import DATA, USER_HI, pinned_client

DOCUMENTS = [
    {
        "role": "user",
        "content": [
            {
                "type": "document",
                "source": {
                    "type": "text",
                    "media_type": "text/plain",
                    "data": "The grass is green. The sky is blue.",
                },
                "title": "Nature",
                "citations": {"enabled": True},
            },
            {
                "type": "document",
                "source": {
                    "type": "base64",
                    "media_type": "application/pdf",
                    "data": base64.b64encode(b"%PDF-1.4 /Type /Page").decode(),
                },
            },
            {
                "type": "document",
                "source": {"type": "content", "content": [{"type": "text", "text": "Block zero."}]},
            },
            {
                "type": "search_result",
                "source": "https://kb/1",
                "title": "KB",
                "content": [{"type": "text", "text": "Result text."}],
            },
            {"type": "text", "text": "What colour is the grass?"},
        ],
    }
]
Check = Callable[[Any], None]


def _types(*names: str) -> Check:
    def check(message: Any) -> None:
        assert [type(b).__name__ for b in message.content] == list(names)

    return check


def _server_search(message: Any) -> None:
    _types("TextBlock", "ServerToolUseBlock", "WebSearchToolResultBlock", "TextBlock")(message)
    call, result, answer = message.content[1:]
    assert call.id.startswith("srvtoolu_01") and call.caller.type == "direct"
    assert result.tool_use_id == call.id
    assert [r.type for r in result.content] == ["web_search_result"] * 2
    assert result.content[0].encrypted_content and result.content[1].page_age is None
    assert answer.citations[0].cited_text == "18 C, sunny" and answer.citations[0].encrypted_index


def _citations(message: Any) -> None:
    cited = message.content[0].citations
    assert [c.type for c in cited] == [
        "char_location",
        "page_location",
        "content_block_location",
        "search_result_location",
        "web_search_result_location",
    ]
    assert cited[0].cited_text == "The grass is green. " and cited[0].document_title == "Nature"
    assert cited[1].cited_text == "Page one." and cited[1].document_title is None
    assert cited[2].cited_text == "Block zero."
    assert cited[3].cited_text == "Result text." and cited[3].title == "KB"


# (scenario, request messages, beta client, check of the parsed JSON reply)
ROWS: list[tuple[str, list[dict[str, Any]], bool, Check]] = [
    ("kind-server-tool-use", USER_HI, False, _server_search),
    ("kind-web-search-error", USER_HI, False, lambda m: _check_error(m, "max_uses_exceeded")),
    ("kind-web-fetch", USER_HI, False, _types("ServerToolUseBlock", "WebFetchToolResultBlock", "TextBlock")),
    (
        "kind-code-execution",
        USER_HI,
        False,
        _types("ServerToolUseBlock", "CodeExecutionToolResultBlock", "TextBlock"),
    ),
    (
        "kind-bash-code-execution",
        USER_HI,
        False,
        _types("ServerToolUseBlock", "BashCodeExecutionToolResultBlock"),
    ),
    (
        "kind-text-editor-code-execution",
        USER_HI,
        False,
        _types(
            "ServerToolUseBlock",
            "TextEditorCodeExecutionToolResultBlock",
            "ServerToolUseBlock",
            "TextEditorCodeExecutionToolResultBlock",
        ),
    ),
    (
        "kind-tool-search",
        USER_HI,
        False,
        _types("ServerToolUseBlock", "ToolSearchToolResultBlock", "ToolUseBlock"),
    ),
    ("kind-container-upload", USER_HI, False, _types("ContainerUploadBlock", "TextBlock")),
    ("kind-mcp", USER_HI, True, _types("BetaMCPToolUseBlock", "BetaMCPToolResultBlock", "BetaTextBlock")),
    ("kind-raw", USER_HI, False, _types("ContainerUploadBlock", "TextBlock")),
    ("kind-tool-use-caller", USER_HI, False, lambda m: _check_caller(m)),
    ("kind-citations", DOCUMENTS, False, _citations),
    ("kind-json-text", USER_HI, False, lambda m: _check_json(m)),
    ("kind-thinking", USER_HI, False, _types("ThinkingBlock", "RedactedThinkingBlock", "TextBlock")),
]


def _check_error(message: Any, code: str) -> None:
    _types("ServerToolUseBlock", "WebSearchToolResultBlock")(message)
    assert message.content[1].content.type == "web_search_tool_result_error"
    assert message.content[1].content.error_code == code


def _check_caller(message: Any) -> None:
    _types("ToolUseBlock")(message)
    assert message.content[0].caller.type == "direct" and message.stop_reason == "tool_use"


def _check_json(message: Any) -> None:
    assert message.content[0].text == '{"city":"Paris","temperature_c":18,"tags":["sunny","warm"]}'


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer([DATA / "surface"]) as running:
        yield running


def _api(client: anthropic.Anthropic, beta: bool) -> Any:
    return client.beta.messages if beta else client.messages


@pytest.mark.parametrize(("scenario", "messages", "beta", "check"), ROWS, ids=[r[0] for r in ROWS])
def test_kind_parses_and_streams_to_the_json_reply(
    server: MockServer, scenario: str, messages: list[dict[str, Any]], beta: bool, check: Check
) -> None:
    api = _api(pinned_client(server, scenario), beta)
    kwargs: dict[str, Any] = {"model": "claude-sonnet-4-6", "max_tokens": 1024, "messages": messages}
    plain = api.create(**kwargs)
    check(plain)
    with api.stream(**kwargs) as stream:
        streamed = stream.get_final_message()
    assert streamed.to_dict() == plain.to_dict()


def test_every_kind_has_a_row() -> None:
    data = (DATA / "surface" / "blocks.yaml").read_text()
    assert [kind for kind in KINDS if f"- {kind}:" not in data] == []
