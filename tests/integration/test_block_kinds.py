"""Every block kind of the response surface, one table row each (docs/scenario-contract.md §10).

For each row the SDK parses the JSON reply into its typed classes, and `messages.stream()` …
`get_final_message()` equals the JSON reply, ids included. Adding a block kind is one class in
mockbay/blocks/ and one row here.
"""

from __future__ import annotations

import base64
import re
import typing
from collections.abc import Callable, Iterator
from typing import Any

import anthropic
import pytest
from anthropic.types import EncryptedCodeExecutionResultBlock, StopReason
from anthropic.types.beta import BetaStopReason

from mockbay.blocks import KINDS
from mockbay.scenario.model import STOP_REASONS
from mockbay.server.runner import MockServer
from mockbay.wire.request import CONTEXT_1M_BETA
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


def _stop(reason: str) -> Check:
    def check(message: Any) -> None:
        assert message.stop_reason == reason
        assert (message.stop_sequence == "###") is (reason == "stop_sequence")

    return check


def _check_container(message: Any) -> None:
    _types("ServerToolUseBlock", "CodeExecutionToolResultBlock", "TextBlock")(message)
    assert message.content[1].content.stdout == "4\n" and message.content[1].content.return_code == 0
    assert message.container.id.startswith("container_011C") and message.container.expires_at.year >= 2030


def _check_encrypted(message: Any) -> None:
    """The encrypted result's required fields are there: derived `encrypted_stdout`, then a given one."""
    generated, given = (
        EncryptedCodeExecutionResultBlock.model_validate(b.content.to_dict()) for b in message.content[1::2]
    )
    assert generated.encrypted_stdout and base64.b64decode(generated.encrypted_stdout)
    assert (generated.stderr, generated.return_code, generated.content) == ("", 0, [])
    assert (given.encrypted_stdout, given.return_code, given.type) == (
        "given-stdout",
        1,
        "encrypted_code_execution_result",
    )
    assert message.container.id.startswith("container_011C")


def _check_refusal(message: Any) -> None:
    assert message.stop_reason == "refusal"
    assert message.stop_details.category == "cyber" and message.stop_details.type == "refusal"


def _check_unexplained_refusal(message: Any) -> None:
    """Upstream writes the whole object: the keys are there, null (`to_dict` keeps only keys sent)."""
    details = {"type": "refusal", "category": None, "explanation": None}
    assert (message.stop_reason, message.to_dict()["stop_details"]) == ("refusal", details)


def _check_message_fields(message: Any) -> None:
    assert message.container.id == "container_fixed"
    assert message.context_management.applied_edits[0].cleared_tool_uses == 2
    assert message.diagnostics.cache_miss_reason.cache_missed_input_tokens == 1200
    usage = message.usage
    assert usage.server_tool_use.web_search_requests == 3 and usage.server_tool_use.web_fetch_requests == 1
    assert (usage.inference_geo, usage.speed, usage.output_tokens_details.thinking_tokens) == (
        "us",
        "fast",
        0,
    )


def _check_nulls(message: Any) -> None:
    """A null given where the wire allows it is sent as null, not dropped."""
    assert message.diagnostics.to_dict() == {"cache_miss_reason": None}
    assert [b.to_dict()["caller"] for b in message.content] == [None, None, None]


def _check_error(message: Any, code: str) -> None:
    _types("ServerToolUseBlock", "WebSearchToolResultBlock")(message)
    assert message.content[1].content.type == "web_search_tool_result_error"
    assert message.content[1].content.error_code == code


def _check_caller(message: Any) -> None:
    _types("ToolUseBlock")(message)
    assert message.content[0].caller.type == "direct" and message.stop_reason == "tool_use"


def _check_compaction(message: Any) -> None:
    _types("BetaCompactionBlock", "BetaTextBlock")(message)
    summary = message.content[0]
    assert summary.content == "Earlier: the user asked for the weather in Paris."
    assert summary.encrypted_content == "EqMBprior" and summary.signature
    (removal,) = summary.tool_changes
    assert removal.type == "tool_removal" and removal.tool.name == "get_time"
    assert message.stop_reason == "end_turn"


def _check_fallback(message: Any) -> None:
    _types("BetaTextBlock", "BetaFallbackBlock", "BetaTextBlock")(message)
    seam = message.content[1]
    assert (seam.from_.model, seam.to.model, seam.trigger.category) == (
        "claude-opus-4-7",
        "claude-sonnet-4-6",
        "cyber",
    )
    assert message.model == "claude-sonnet-4-6"  # labelled by the hand-over, as the stream's accumulator does


def _check_advisor(message: Any) -> None:
    _types(*["BetaServerToolUseBlock", "BetaAdvisorToolResultBlock"] * 2, "BetaTextBlock")(message)
    first, redacted = message.content[1].content, message.content[3].content
    assert (first.type, first.text, first.stop_reason) == (
        "advisor_result",
        "Check the units first.",
        "end_turn",
    )
    assert (redacted.type, redacted.encrypted_content) == ("advisor_redacted_result", "EqAdvisorBlob")
    assert message.content[1].tool_use_id == message.content[0].id
    assert message.content[3].tool_use_id == message.content[2].id


def _check_json(message: Any) -> None:
    assert message.content[0].text == '{"city":"Paris","temperature_c":18,"tags":["sunny","warm"]}'


# (scenario, request fields besides model and max_tokens 1024, beta client, check of the parsed JSON reply)
ROWS: list[tuple[str, dict[str, Any], bool, Check]] = [
    ("kind-server-tool-use", {}, False, _server_search),
    ("kind-web-search-error", {}, False, lambda m: _check_error(m, "max_uses_exceeded")),
    ("kind-web-fetch", {}, False, _types("ServerToolUseBlock", "WebFetchToolResultBlock", "TextBlock")),
    ("kind-code-execution", {}, False, lambda m: _check_container(m)),
    ("kind-encrypted-code-execution", {}, False, lambda m: _check_encrypted(m)),
    (
        "kind-bash-code-execution",
        {},
        False,
        _types("ServerToolUseBlock", "BashCodeExecutionToolResultBlock"),
    ),
    (
        "kind-text-editor-code-execution",
        {},
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
        {},
        False,
        _types("ServerToolUseBlock", "ToolSearchToolResultBlock", "ToolUseBlock"),
    ),
    ("kind-container-upload", {}, False, _types("ContainerUploadBlock", "TextBlock")),
    ("kind-mcp", {}, True, _types("BetaMCPToolUseBlock", "BetaMCPToolResultBlock", "BetaTextBlock")),
    ("kind-raw", {}, False, _types("ContainerUploadBlock", "TextBlock")),
    ("kind-advisor", {}, True, lambda m: _check_advisor(m)),
    (
        "kind-mcp-tool-listing",
        {},
        True,
        _types("BetaMCPToolListingBlock", "BetaMCPToolUseBlock", "BetaMCPToolResultBlock"),
    ),
    ("kind-compaction", {}, True, lambda m: _check_compaction(m)),
    ("kind-fallback", {"model": "claude-opus-4-7"}, True, lambda m: _check_fallback(m)),
    ("kind-tool-use-caller", {}, False, lambda m: _check_caller(m)),
    ("kind-citations", {"messages": DOCUMENTS}, False, _citations),
    ("kind-json-text", {}, False, lambda m: _check_json(m)),
    ("kind-thinking", {}, False, _types("ThinkingBlock", "RedactedThinkingBlock", "TextBlock")),
    ("stop-end_turn", {}, False, _stop("end_turn")),
    ("stop-max_tokens", {"max_tokens": 3}, False, _stop("max_tokens")),
    ("stop-stop_sequence", {"stop_sequences": ["###"]}, False, _stop("stop_sequence")),
    ("stop-tool_use", {}, False, _stop("tool_use")),
    ("stop-pause_turn", {}, False, _stop("pause_turn")),
    ("stop-compaction", {}, True, _stop("compaction")),
    ("stop-refusal", {}, False, lambda m: _check_refusal(m)),
    ("refusal-unexplained", {}, False, lambda m: _check_unexplained_refusal(m)),
    ("stop-model_context_window_exceeded", {}, False, _stop("model_context_window_exceeded")),
    ("message-fields", {}, True, lambda m: _check_message_fields(m)),
    ("message-fields-null", {}, True, lambda m: _check_nulls(m)),
]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer([DATA / "surface"]) as running:
        yield running


def _api(client: anthropic.Anthropic, beta: bool) -> Any:
    return client.beta.messages if beta else client.messages


@pytest.mark.parametrize(("scenario", "request_fields", "beta", "check"), ROWS, ids=[r[0] for r in ROWS])
def test_reply_parses_and_streams_to_the_json_reply(
    server: MockServer, scenario: str, request_fields: dict[str, Any], beta: bool, check: Check
) -> None:
    api = _api(pinned_client(server, scenario), beta)
    kwargs: dict[str, Any] = {"model": "claude-sonnet-4-6", "max_tokens": 1024, "messages": USER_HI}
    kwargs.update(request_fields)
    plain = api.create(**kwargs)
    check(plain)
    type(plain).model_validate(plain.to_dict())  # create() builds without validating: every required field
    with api.stream(**kwargs) as stream:
        streamed = stream.get_final_message()
    assert streamed.to_dict() == plain.to_dict()


SKILL = {"type": "anthropic", "skill_id": "pptx", "version": "latest"}


@pytest.mark.parametrize(
    ("scenario", "container", "expected"),
    [
        ("kind-code-execution", "container_011CReused", {"id": "container_011CReused"}),
        ("stop-end_turn", {"id": "container_011CReused"}, {"id": "container_011CReused"}),
        ("kind-code-execution", {"skills": [SKILL]}, {"skills": [{**SKILL, "version": "20251013"}]}),
        ("message-fields", "container_011CReused", {"id": "container_fixed"}),  # a scripted id wins
    ],
)
def test_the_requests_container_is_the_one_the_reply_names(
    server: MockServer, scenario: str, container: Any, expected: dict[str, Any]
) -> None:
    """A request that reuses a container (`container: ID` or `{id, skills}`) is answered from it:
    the reply's container has that id, and the skills loaded in it (docs/wire-notes.md)."""
    client = pinned_client(server, scenario)
    kwargs: dict[str, Any] = {"model": "claude-sonnet-4-6", "max_tokens": 1024, "messages": USER_HI}
    kwargs["container"] = container
    plain = client.messages.create(**kwargs)
    got = plain.to_dict()["container"]
    assert {key: got.get(key) for key in expected} == expected
    assert got["id"].startswith("container_") and plain.container is not None
    with client.messages.stream(**kwargs) as stream:
        assert stream.get_final_message().to_dict() == plain.to_dict()


# Blocks written as the wire's fields (§10) against the shorthand of §4: (case, check of the reply).
# Each case is the pair form-CASE-shorthand / form-CASE-wire in tests/data/surface/wire_forms.yaml.
WIRE_FORMS: list[tuple[str, Check]] = [
    ("thinking-signature", lambda m: _thinking(m, "Paris in spring is mild.", "EqQBCkgivenSignature")),
    ("thinking-generated", lambda m: _thinking(m, "The user runs claude-sonnet-4-6; answer briefly.", None)),
    ("redacted-thinking", _types("RedactedThinkingBlock", "TextBlock")),
    ("text-citations", _citations),  # cited_text filled from the request's documents, in both forms
    ("text", lambda m: _check_text(m, "You asked: What colour is the grass?")),
]


def _thinking(message: Any, text: str, signature: str | None) -> None:
    _types("ThinkingBlock", "TextBlock")(message)
    assert message.content[0].thinking == text
    got = message.content[0].signature
    assert got == signature if signature else got.startswith("EqQB")


def _check_text(message: Any, text: str) -> None:
    _types("TextBlock")(message)
    assert message.content[0].text == text and message.content[0].citations is None


def _events(client: anthropic.Anthropic, kwargs: dict[str, Any]) -> list[dict[str, Any]]:
    return [event.to_dict() for event in client.messages.create(stream=True, **kwargs)]


@pytest.mark.parametrize(("case", "check"), WIRE_FORMS, ids=[r[0] for r in WIRE_FORMS])
def test_wire_form_serves_as_the_shorthand(server: MockServer, case: str, check: Check) -> None:
    """Same JSON reply, same stream event for event, and the stream assembles into the JSON reply.
    The request holds documents, for citations that fill cited_text from them."""
    kwargs: dict[str, Any] = {"model": "claude-sonnet-4-6", "max_tokens": 1024, "messages": DOCUMENTS}
    shorthand_client = pinned_client(server, f"form-{case}-shorthand")
    wire_client = pinned_client(server, f"form-{case}-wire")
    wire = wire_client.messages.create(**kwargs)
    check(wire)
    assert wire.to_dict() == shorthand_client.messages.create(**kwargs).to_dict()
    events = _events(wire_client, kwargs)
    assert events == _events(shorthand_client, kwargs)
    deltas = [e["delta"]["type"] for e in events if e["type"] == "content_block_delta"]
    cited = sum(len(b.citations or ()) for b in wire.content if b.type == "text")
    assert deltas.count("citations_delta") == cited  # one citations_delta per citation
    with wire_client.messages.stream(**kwargs) as stream:
        assert stream.get_final_message().to_dict() == wire.to_dict()


def test_every_wire_form_pair_has_a_row() -> None:
    data = (DATA / "surface" / "wire_forms.yaml").read_text()
    names = re.findall(r"- name: (form-\S+)", data)
    assert names == [f"form-{case}-{form}" for case, _ in WIRE_FORMS for form in ("shorthand", "wire")]


def test_every_kind_and_stop_reason_has_a_row() -> None:
    data = (DATA / "surface" / "blocks.yaml").read_text()
    assert [kind for kind in KINDS if f"- {kind}:" not in data] == []
    assert [f"stop-{reason}" for reason in STOP_REASONS] == [r[0] for r in ROWS if r[0].startswith("stop-")]


def test_stop_reasons_are_the_sdks() -> None:
    assert set(STOP_REASONS) == set(typing.get_args(BetaStopReason))
    assert set(typing.get_args(StopReason)) == set(STOP_REASONS) - {"compaction"}


def test_a_long_prompt_runs_out_of_context_window(server: MockServer) -> None:
    """Input plus max_tokens over the model's window: the reply stops where the window ends."""
    client = pinned_client(server, "long-answer")
    model = "claude-opus-4-6"  # a 200K window

    def prompt_of(words: int) -> tuple[list[dict[str, Any]], int]:
        messages = [{"role": "user", "content": "word " * words}]
        return messages, client.messages.count_tokens(model=model, messages=messages).input_tokens

    small, large = prompt_of(1000)[1], prompt_of(2000)[1]
    messages, prompt = prompt_of(1000 + (199_990 - small) * 1000 // (large - small))
    assert 199_000 < prompt < 200_000
    message = client.messages.create(model=model, max_tokens=4096, messages=messages)
    assert message.stop_reason == "model_context_window_exceeded"
    assert 0 < message.usage.output_tokens <= 200_000 - prompt
    roomy = client.messages.create(model=model, max_tokens=4096, messages=USER_HI)
    assert roomy.stop_reason == "end_turn"


def test_a_prompt_alone_over_the_window_is_refused(server: MockServer) -> None:
    """Upstream's 400 names the prompt's tokens (as count_tokens counts them) and the window; the
    context-1m beta widens the window to 1M tokens, and the same prompt is answered."""
    client = pinned_client(server, "long-answer")
    model, messages = "claude-opus-4-6", [{"role": "user", "content": "word " * 150_000}]  # a 200K window
    prompt = client.messages.count_tokens(model=model, messages=messages).input_tokens
    assert prompt > 200_000
    with pytest.raises(anthropic.BadRequestError) as refused:
        client.messages.create(model=model, max_tokens=1024, messages=messages)
    assert refused.value.body["error"]["message"] == f"prompt is too long: {prompt} tokens > 200000 maximum"
    assert server.journal.last.status == 400
    wide = client.messages.create(
        model=model, max_tokens=1024, messages=messages, extra_headers={"anthropic-beta": CONTEXT_1M_BETA}
    )
    assert wide.stop_reason == "end_turn" and wide.usage.input_tokens == prompt


@pytest.mark.parametrize(
    ("model", "thinking"),
    [
        ("claude-sonnet-4-6", {"type": "adaptive", "display": "omitted"}),
        ("claude-sonnet-4-5", {"type": "enabled", "budget_tokens": 1024, "display": "omitted"}),
    ],
)
def test_omitted_thinking_sends_only_the_signature(
    server: MockServer, model: str, thinking: dict[str, Any]
) -> None:
    """`display: omitted`: the block is `""` with its signature, its stream only the signature_delta,
    and its tokens are billed as when it is shown (docs/wire.md §5.6)."""
    client = pinned_client(server, "kind-thinking")
    kwargs: dict[str, Any] = {"model": model, "max_tokens": 2048, "messages": USER_HI}
    shown = client.messages.create(**kwargs, thinking={**thinking, "display": "summarized"})
    hidden = client.messages.create(**kwargs, thinking=thinking)
    assert shown.content[0].thinking == "Paris in spring is mild." and hidden.content[0].thinking == ""
    assert hidden.content[0].signature and hidden.usage.output_tokens == shown.usage.output_tokens
    with client.messages.stream(**kwargs, thinking=thinking) as stream:
        deltas = [e.delta.type for e in stream if e.type == "content_block_delta" and e.index == 0]
        streamed = stream.get_final_message()
    assert deltas == ["signature_delta"]
    assert streamed.to_dict() == hidden.to_dict()


@pytest.mark.parametrize("betas", [["thinking-binding-controls-2026-08-01"], ["context-1m-2025-08-07"]])
def test_input_transformations_are_reported_under_their_beta(server: MockServer, betas: list[str]) -> None:
    """Under `thinking-binding-controls-2026-08-01` every reply carries `input_transformations`,
    `[]` when nothing was dropped, final in `message_start` (the SDK's `BetaMessage`); without
    the beta the key is not sent."""
    client = pinned_client(server, "kind-thinking")
    kwargs: dict[str, Any] = {"model": "claude-sonnet-4-6", "max_tokens": 2048, "messages": USER_HI}
    plain = client.beta.messages.create(**kwargs, betas=betas)
    reported = "thinking-binding-controls-2026-08-01" in betas
    assert ("input_transformations" in plain.to_dict()) is reported
    assert plain.input_transformations == ([] if reported else None)
    with client.beta.messages.stream(**kwargs, betas=betas) as stream:
        starts = [e.message.to_dict() for e in stream if e.type == "message_start"]
        assert stream.get_final_message().to_dict() == plain.to_dict()
    assert ("input_transformations" in starts[0]) is reported
