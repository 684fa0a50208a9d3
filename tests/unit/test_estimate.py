"""The input-token estimator: documented example, per-block costs, overheads, and the cache segments."""

from __future__ import annotations

import base64
import random
from typing import Any

import pytest

from mockbay.usage.estimate import (
    IMAGE_TOKENS,
    PDF_PAGE_TOKENS,
    THINKING_OVERHEAD_TOKENS,
    estimate_input_tokens,
    split_request,
)
from mockbay.wire.cachemarks import automatic_target, markable
from tests.images import image_block, jpeg, png, webp_lossless

OLD = "claude-sonnet-4-5"  # 3.5 chars/token, tool overhead 496 auto / 588 forced
NEW = "claude-opus-4-7"  # newer tokenizer: 2.5 chars/token

WEATHER = {  # 158 characters of canonical JSON -> 46 tokens
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
SEVEN = "x" * 7  # exactly 2 tokens at 3.5 chars/token


def body(messages: list[dict[str, Any]], model: str = OLD, **extra: Any) -> dict[str, Any]:
    return {"model": model, "max_tokens": 100, "messages": messages, **extra}


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def assistant(content: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


def pdf(pages: int) -> str:
    raw = b"%PDF-1.4 1 0 obj << /Type /Pages /Count 2 >> " + b"<< /Type /Page >> " * pages + b"%%EOF"
    return base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    "system",
    ["You are a scientist", [{"type": "text", "text": "You are a scientist"}]],
    ids=["string", "blocks"],
)
@pytest.mark.parametrize(
    "content", ["Hello, Claude", [{"type": "text", "text": "Hello, Claude"}]], ids=["string", "blocks"]
)
def test_documented_example_is_14(system: Any, content: Any) -> None:
    assert estimate_input_tokens(body([user(content)], system=system)) == 14


def test_grows_monotonically_with_text_length() -> None:
    counts = [estimate_input_tokens(body([user("a" * n)])) for n in range(1, 300)]
    assert counts == sorted(counts)
    assert all(counts[i + 7] == counts[i] + 2 for i in range(len(counts) - 7))


@pytest.mark.parametrize(
    ("model", "expected"),
    [(OLD, 2 + 2 + 10), (NEW, 2 + 2 + 14), ("some-unknown-model", 2 + 2 + 10)],
)
def test_new_tokenizer_counts_more(model: str, expected: int) -> None:
    assert estimate_input_tokens(body([user("x" * 35)], model=model)) == expected


# Each block alone in one user message: request framing 2 + message framing 2 + the block.
BLOCK_CASES: list[tuple[str, dict[str, Any], int]] = [
    ("text", {"type": "text", "text": SEVEN}, 2),
    ("text-one-more-char", {"type": "text", "text": SEVEN + "x"}, 3),
    (
        "image-base64",
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
        IMAGE_TOKENS,
    ),
    ("image-200-px-square", image_block(png(200, 200)), 54),  # 40,000 pixels / 750, rounded up
    ("image-1-px", image_block(png(1, 1)), 1),
    ("image-long-edge-scaled", image_block(webp_lossless(3136, 100), "image/webp"), 105),  # 1,568 x 50
    ("image-large-capped", image_block(jpeg(4000, 3000), "image/jpeg"), IMAGE_TOKENS),
    (
        "image-url",
        {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
        IMAGE_TOKENS,
    ),
    (
        "document-text",
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x" * 35}},
        10,
    ),
    (
        "document-text-titled",
        {
            "type": "document",
            "title": SEVEN,
            "source": {"type": "text", "media_type": "text/plain", "data": SEVEN},
        },
        4,
    ),
    (
        "document-content",
        {"type": "document", "source": {"type": "content", "content": [{"type": "text", "text": SEVEN}]}},
        2,
    ),
    (
        "pdf-3-pages",
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": pdf(3)}},
        3 * PDF_PAGE_TOKENS,
    ),
    (
        "pdf-undecodable",
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": "@@@"}},
        PDF_PAGE_TOKENS,
    ),
    (
        "pdf-url",
        {"type": "document", "source": {"type": "url", "url": "https://e.com/a.pdf"}},
        PDF_PAGE_TOKENS,
    ),
    (
        "search-result",
        {
            "type": "search_result",
            "title": "ttt",
            "source": "ssss",
            "content": [{"type": "text", "text": SEVEN}],
        },
        4,
    ),
    ("tool-result-string", {"type": "tool_result", "tool_use_id": "toolu_1", "content": SEVEN}, 2),
    (
        "tool-result-blocks",
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": SEVEN}] * 2},
        4,
    ),
    ("tool-result-empty", {"type": "tool_result", "tool_use_id": "toolu_1"}, 0),
    # {"content":[],"tool_use_id":"x","type":"web_search_tool_result"}: 64 chars -> 19
    ("unknown-type-as-json", {"type": "web_search_tool_result", "tool_use_id": "x", "content": []}, 19),
]


@pytest.mark.parametrize(
    ("block", "tokens"), [(b, t) for _, b, t in BLOCK_CASES], ids=[c[0] for c in BLOCK_CASES]
)
def test_block_costs(block: dict[str, Any], tokens: int) -> None:
    assert estimate_input_tokens(body([user([block])])) == 4 + tokens


def test_cache_control_does_not_change_the_count() -> None:
    plain = body([user([{"type": "text", "text": SEVEN}])])
    marked = body(
        [user([{"type": "text", "text": SEVEN, "cache_control": {"type": "ephemeral", "ttl": "1h"}}])]
    )
    assert estimate_input_tokens(plain) == estimate_input_tokens(marked) == 6


def test_tool_use_counts_name_and_input_json() -> None:
    # 'get_weather{"city":"Paris"}' is 27 characters -> 8 tokens; two messages of framing.
    call = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
    assert estimate_input_tokens(body([user(SEVEN), assistant([call])])) == 2 + (2 + 2) + (2 + 8)


@pytest.mark.parametrize(
    ("tool_choice", "overhead"),
    [
        (None, 496),
        ({"type": "auto"}, 496),
        ({"type": "none"}, 496),
        ({"type": "any"}, 588),
        ({"type": "tool", "name": "get_weather"}, 588),
    ],
)
def test_tools_add_definitions_and_hidden_prompt(tool_choice: Any, overhead: int) -> None:
    extra = {"tool_choice": tool_choice} if tool_choice else {}
    base = estimate_input_tokens(body([user("Hello, Claude")]))
    assert (
        estimate_input_tokens(body([user("Hello, Claude")], tools=[WEATHER], **extra)) == base + 46 + overhead
    )


def test_empty_tool_list_adds_nothing() -> None:
    assert estimate_input_tokens(body([user("Hello, Claude")], tools=[])) == 8


@pytest.mark.parametrize(
    ("thinking", "extra"),
    [
        ({"type": "enabled", "budget_tokens": 2048}, THINKING_OVERHEAD_TOKENS),
        ({"type": "adaptive"}, THINKING_OVERHEAD_TOKENS),
        ({"type": "disabled"}, 0),
    ],
)
def test_thinking_overhead(thinking: dict[str, Any], extra: int) -> None:
    assert estimate_input_tokens(body([user("Hello, Claude")], thinking=thinking)) == 8 + extra


THOUGHT = {"type": "thinking", "thinking": "t" * 35, "signature": "sig"}  # 10 tokens when counted
REDACTED = {"type": "redacted_thinking", "data": "d" * 35}  # 10 tokens when counted
CALL = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}
RESULT = {"type": "tool_result", "tool_use_id": "toolu_1", "content": SEVEN}


def tool_loop(*thoughts: dict[str, Any], new_question: bool) -> dict[str, Any]:
    """A tool round trip; with `new_question` a later user turn makes its thinking an earlier turn's."""
    messages = [user(SEVEN), assistant([*thoughts, CALL]), user([RESULT])]
    if new_question:
        messages += [assistant(SEVEN), user(SEVEN)]
    return body(messages)


@pytest.mark.parametrize("thought", [THOUGHT, REDACTED], ids=["thinking", "redacted"])
@pytest.mark.parametrize(("new_question", "counted"), [(False, 10), (True, 0)], ids=["current", "earlier"])
def test_only_current_turn_thinking_counts(thought: dict[str, Any], new_question: bool, counted: int) -> None:
    plain = estimate_input_tokens(tool_loop(new_question=new_question))
    assert estimate_input_tokens(tool_loop(thought, new_question=new_question)) == plain + counted


def keeping(keep: Any, request: dict[str, Any]) -> dict[str, Any]:
    return {**request, "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": keep}]}}


TURNS = {"type": "thinking_turns", "value": 1}


@pytest.mark.parametrize(
    ("keep", "new_question", "counted"),
    [
        ("all", True, 10),  # every turn's thinking is kept
        ({"type": "all"}, True, 10),
        (TURNS, False, 10),  # the tool loop is the latest assistant turn
        (TURNS, True, 10),  # the loop and the answer after it are one turn
        ({"type": "thinking_turns", "value": 2}, True, 10),
        ({"type": "thinking_turns", "value": 0}, False, 0),
    ],
)
def test_clear_thinking_counts_the_turns_it_keeps(keep: Any, new_question: bool, counted: int) -> None:
    plain = keeping(keep, tool_loop(new_question=new_question))
    thinking = keeping(keep, tool_loop(THOUGHT, new_question=new_question))
    assert estimate_input_tokens(thinking) == estimate_input_tokens(plain) + counted
    assert estimate_input_tokens(thinking) == split_request(thinking).total


def test_a_compaction_block_counts_its_summary() -> None:
    summary = {"type": "compaction", "content": SEVEN, "signature": "s" * 300, "encrypted_content": None}
    with_summary = body([assistant([summary]), user(SEVEN)])
    assert estimate_input_tokens(with_summary) == estimate_input_tokens(body([assistant(SEVEN), user(SEVEN)]))


def rich_body() -> dict[str, Any]:
    marker_1h = {"type": "ephemeral", "ttl": "1h"}
    return body(
        [
            user(
                [
                    {"type": "text", "text": "Hello"},
                    {"type": "text", "text": "", "cache_control": {"type": "ephemeral"}},
                ]
            ),
            assistant([THOUGHT, CALL]),
            user([{**RESULT, "cache_control": {"type": "ephemeral"}}]),  # only results: same turn
            assistant([]),
        ],
        system=[
            {"type": "text", "text": "Be brief."},
            {"type": "text", "text": "Really.", "cache_control": marker_1h},
        ],
        tools=[WEATHER, {**WEATHER, "name": "get_time", "cache_control": marker_1h}],
        tool_choice={"type": "auto"},
        thinking={"type": "enabled", "budget_tokens": 2048},
    )


def test_segments_are_ordered_and_sum_to_the_estimate() -> None:
    breakdown = split_request(rich_body())
    assert [s.path for s in breakdown.segments] == [
        "tools.0",
        "tools.1",
        "system.0",
        "system.1",
        "messages.0.content.0",
        "messages.0.content.1",
        "messages.1.content.0",  # current-turn thinking is kept
        "messages.1.content.1",
        "messages.2.content.0",
        "messages.3",  # empty final assistant: framing only
    ]
    assert breakdown.preamble == 2 + 496 + THINKING_OVERHEAD_TOKENS
    assert breakdown.total == estimate_input_tokens(rich_body())
    assert sum(s.tokens for s in breakdown.segments) + breakdown.preamble == breakdown.total


def test_segments_carry_markers_and_framing() -> None:
    segments = {s.path: s for s in split_request(rich_body()).segments}
    assert [segments[p].cache_ttl for p in ("tools.0", "tools.1", "system.1", "messages.2.content.0")] == [
        None,
        "1h",
        "1h",
        "5m",
    ]
    assert segments["messages.0.content.0"].tokens == 2 + 2  # "Hello" + message framing
    assert segments["messages.0.content.1"].tokens == 0  # framing went to the first block only
    assert segments["messages.3"].tokens == 2


def test_markability_of_the_segments_blocks() -> None:
    """Which blocks may carry a breakpoint (`cachemarks.markable`), and so where the automatic one
    lands: past the empty final assistant message and the thinking block, on the tool call."""
    rich = rich_body()
    messages = rich["messages"]
    assert not markable(messages[0]["content"][1])  # empty text
    assert not markable(messages[1]["content"][0])  # thinking
    assert markable(messages[1]["content"][1])
    assert automatic_target({"messages": [messages[0], messages[1], messages[3]]}) == (
        "messages.1.content.1",
        messages[1]["content"][1],
    )


def test_canonical_ignores_the_marker_but_not_position_or_role() -> None:
    marked = split_request(
        body([user([{"type": "text", "text": "a", "cache_control": {"type": "ephemeral"}}])])
    )
    plain = split_request(body([user("a")]))
    as_assistant = split_request(body([user("b"), assistant("a")]))
    assert marked.segments[0].canonical == plain.segments[0].canonical
    assert as_assistant.segments[1].canonical != plain.segments[0].canonical


@pytest.mark.parametrize("seed", range(40))
def test_the_direct_count_equals_the_segments_total_on_varied_requests(seed: int) -> None:
    """estimate_input_tokens walks the request without building cache segments; both must agree."""
    rng = random.Random(seed)
    text = lambda: "word " * rng.randint(0, 40)  # noqa: E731
    blocks = [
        {"type": "text", "text": text() or "x"},
        {"type": "thinking", "thinking": text(), "signature": "sig"},
        {"type": "tool_use", "id": "toolu_1", "name": "t", "input": {"q": text()}},
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
    ]
    messages = [
        {"role": rng.choice(["user", "assistant"]), "content": rng.sample(blocks, rng.randint(1, 3))}
        for _ in range(rng.randint(1, 6))
    ]
    body: dict[str, Any] = {
        "model": rng.choice(["claude-sonnet-4-6", "claude-opus-4-8", "x"]),
        "messages": messages,
    }
    if rng.random() < 0.5:
        body["tools"] = [
            {"name": "t", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}}
        ]
    if rng.random() < 0.5:
        body["system"] = [{"type": "text", "text": text() or "s"}]
    if rng.random() < 0.5:
        body["thinking"] = {"type": "enabled", "budget_tokens": 1024}
    assert estimate_input_tokens(body) == split_request(body).total
