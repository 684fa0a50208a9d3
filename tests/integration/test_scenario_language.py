"""Every key and form of docs/scenario-contract.md §1-8, driven through the official SDK over loopback.

Where another module already covers a key, this one does not repeat it:
- test_parity.py: reply content blocks (thinking + signature, redacted_thinking, text, tool_use with
  `id`, `chunks`, `input_chunks`), reply `id` and `model`, `usage` given in full, the max_tokens and
  stop_sequences cuts, faker and placeholders in JSON and stream alike;
- test_errors_faults.py: `error` statuses and types, `replies` with `then: error` and `cycle`, sessions
  with separate cursors, `fault` kinds error_event / disconnect / stall on streams and JSON requests;
- test_rate_limits.py and test_cache.py: `limits:` (every limit, headers, 429) and `cache:` (simulate
  and off, scenario over server); test_usage.py: usage computed from the request;
- test_library.py: the bundled scenarios, each selected as its header comment says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import accumulate, pairwise
from typing import Any

import anthropic
import httpx
import jsonschema
import pytest

from mockbay.server.runner import MockServer
from mockbay.tokens import count_tokens
from tests.conftest import DATA, USER_HI, pinned_client, sync_client

LANG = DATA / "language"
MODEL = "claude-sonnet-4-6"


@pytest.fixture(scope="module")
def bare() -> Iterator[MockServer]:
    """A server with no scenarios: each matcher row loads its own under `overrides()`, undone after."""
    with MockServer() as server:
        yield server


@pytest.fixture(scope="module")
def lang() -> Iterator[MockServer]:
    """A server over tests/data/language (every scenario there is gated by an `x-group` header)."""
    with MockServer([LANG]) as server:
        yield server


def ask(client: anthropic.Anthropic, **overrides: Any) -> anthropic.types.Message:
    """One request (streamed when `stream=True`), with a plain question unless overridden."""
    kwargs: dict[str, Any] = {"model": MODEL, "max_tokens": 256, "messages": USER_HI, **overrides}
    if kwargs.pop("stream", False):
        with client.messages.stream(**kwargs) as stream:
            return stream.get_final_message()
    return client.messages.create(**kwargs)


def text_of(message: anthropic.types.Message) -> str:
    return "".join(block.text for block in message.content if block.type == "text")


def group(name: str) -> dict[str, Any]:
    """Request options selecting the language scenarios gated by `x-group: NAME`."""
    return {"extra_headers": {"x-group": name}}


# ---- §3 matchers, each under match: and under when: ----------------------------------------

WEATHER = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]}},
        "required": ["city", "unit"],
    },
}
CLOCK = {
    "name": "get_time",
    "description": "Current time.",
    "input_schema": {"type": "object", "properties": {}},
}


def tool_round(
    name: str = "get_weather",
    content: Any = "18 C, sunny",
    *,
    is_error: bool = False,
    tool_use_id: str = "toolu_01A",
) -> list[dict[str, Any]]:
    """A question, the assistant's tool call, and the user's tool_result for it."""
    result: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_use_id, "content": content}
    if is_error:
        result["is_error"] = True
    return [
        {"role": "user", "content": "What is the weather in Paris?"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": tool_use_id, "name": name, "input": {}}],
        },
        {"role": "user", "content": [result]},
    ]


def said(*texts: str) -> list[dict[str, Any]]:
    """A conversation of alternating user and assistant texts (an odd count ends with the user)."""
    return [{"role": ("user", "assistant")[i % 2], "content": text} for i, text in enumerate(texts)]


@dataclass(frozen=True)
class Row:
    """A condition as a user writes it, a request it holds for, and one it fails with `failure`."""

    id: str
    condition: str
    hit: dict[str, Any]
    miss: dict[str, Any]
    failure: str
    extra: dict[str, Any] = field(default_factory=dict)  # both requests


# fmt: off
FINGERPRINTED = {"model": MODEL, "max_tokens": 256, "messages": said("Fingerprint me")}
ROWS = [
    Row("model-glob", '{model: "claude-sonnet-*"}', {}, {"model": "claude-haiku-4-5"},
        "model: 'claude-haiku-4-5' does not match 'claude-sonnet-*'"),
    Row("model-regex", '{model: {regex: "^claude-(haiku|opus)-4"}}', {"model": "claude-opus-4-1"}, {},
        "model: 'claude-sonnet-4-6' does not match {regex: '^claude-(haiku|opus)-4'}"),
    Row("system-equals", '{system: "You are terse."}', {"system": "You are terse."},
        {"system": "You are terse. Very."}, "system: 'You are terse. Very.' is not 'You are terse.'"),
    Row("system-blocks-joined", '{system: "Rule one.\\nRule two."}',
        {"system": [{"type": "text", "text": "Rule one."}, {"type": "text", "text": "Rule two."}]},
        {"system": [{"type": "text", "text": "Rule one. Rule two."}]}, "system: 'Rule one. Rule two.' is not"),
    Row("system-contains", "{system: {contains: weather}}", {"system": "You know the weather."},
        {"system": "You know cooking."}, "system: 'You know cooking.' does not contain 'weather'"),
    Row("system-regex", '{system: {regex: "(?i)^you are \\\\w+bot"}}', {"system": "You are WeatherBot."},
        {"system": "You are a bot."}, "system: 'You are a bot.' does not match {regex: '(?i)^you are \\\\w+bot'}"),
    Row("system-any", "{system: {any: [{contains: cats}, Dogs only.]}}", {"system": "Dogs only."},
        {"system": "Birds."}, "system: 'Birds.' does not match {any: [{contains: 'cats'}, 'Dogs only.']}"),
    Row("system-not", "{system: {not: {contains: secret}}}", {"system": "Be kind."},
        {"system": "Keep the secret."}, "system: 'Keep the secret.' does not match {not: {contains: 'secret'}}"),
    Row("last_user-equals", "{last_user: Hello}", {"messages": said("Bye", "ok", "Hello")},
        {"messages": said("Hello", "ok", "Bye")}, "last_user: 'Bye' is not 'Hello'"),
    Row("last_user-blocks-joined", '{last_user: {regex: "^one\\ntwo$"}}',
        {"messages": [{"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]}]},
        {"messages": said("one two")}, "last_user: 'one two' does not match"),
    Row("last_user-contains", "{last_user: {contains: refund}}", {"messages": said("I want a refund")},
        {"messages": said("refund", "sure", "thanks")}, "last_user: 'thanks' does not contain 'refund'"),
    Row("last_user-regex", '{last_user: {regex: "order #\\\\d+"}}', {"messages": said("Where is order #42?")},
        {"messages": said("Where is my order?")}, "last_user: 'Where is my order?' does not match {regex: 'order #"),
    Row("last_user-any", "{last_user: {any: [hi, {regex: ^hey}]}}", {"messages": said("hey you")},
        {"messages": said("hello")}, "last_user: 'hello' does not match {any: ['hi', {regex: '^hey'}]}"),
    Row("last_user-not", "{last_user: {not: {contains: stop}}}", {}, {"messages": said("please stop")},
        "last_user: 'please stop' does not match {not: {contains: 'stop'}}"),
    Row("any_message", "{any_message: {contains: Paris}}", {"messages": said("Hi", "Paris it is", "ok")},
        {"messages": said("Hi", "Rome it is", "ok")}, "any_message: none of 3 messages contains 'Paris'"),
    Row("tool_result-name", "{tool_result: {name: get_weather}}", {"messages": tool_round("get_weather")},
        {"messages": tool_round("get_time")}, "tool_result: name 'get_time' is not 'get_weather'"),
    Row("tool_result-absent", "{tool_result: {}}", {"messages": tool_round()}, {},
        "tool_result: the last user message holds no tool_result"),
    Row("tool_result-tool_use_id", "{tool_result: {tool_use_id: toolu_01A}}", {"messages": tool_round()},
        {"messages": tool_round(tool_use_id="toolu_01B")}, "tool_result: tool_use_id 'toolu_01B' is not 'toolu_01A'"),
    Row("tool_result-content-string", "{tool_result: {content: {contains: sunny}}}", {"messages": tool_round()},
        {"messages": tool_round(content="rain")}, "tool_result: content 'rain' does not contain 'sunny'"),
    Row("tool_result-content-blocks", '{tool_result: {content: "18 C\\nsunny"}}',
        {"messages": tool_round(content=[{"type": "text", "text": "18 C"}, {"type": "text", "text": "sunny"}])},
        {"messages": tool_round(content=[{"type": "text", "text": "18 C"}])}, "tool_result: content '18 C' is not"),
    Row("tool_result-is_error", "{tool_result: {is_error: true}}", {"messages": tool_round(is_error=True)},
        {"messages": tool_round()}, "tool_result: is_error is false, scenario wants true"),
    Row("tools-includes", "{tools: {includes: [get_weather, get_time]}}", {"tools": [WEATHER, CLOCK]},
        {"tools": [WEATHER]}, "tools: 'get_time' is not offered (offered: 'get_weather')"),
    Row("tools-count", "{tools: {count: 1}}", {"tools": [CLOCK]}, {"tools": [WEATHER, CLOCK]},
        "tools: request offers 2 tools; scenario wants count: 1"),
    Row("tool_choice", "{tool_choice: any}", {"tool_choice": {"type": "any"}}, {"tool_choice": {"type": "auto"}},
        "tool_choice: 'auto' is not 'any'", {"tools": [WEATHER]}),
    Row("tool_choice-default-auto", "{tool_choice: auto}", {"tools": [WEATHER]}, {},
        "tool_choice: null is not 'auto'"),
    Row("thinking", "{thinking: true}", {"thinking": {"type": "enabled", "budget_tokens": 1024}}, {},
        "thinking: request has false, scenario wants true", {"max_tokens": 2048}),
    Row("stream", "{stream: true}", {"stream": True}, {}, "stream: request has false, scenario wants true"),
    Row("header", "{header: {x-suite: agents}}", {"extra_headers": {"x-suite": "agents"}},
        {"extra_headers": {"x-suite": "billing"}}, "header x-suite: 'billing' is not 'agents'"),
    Row("header-name-any-case", "{header: {X-Suite: {regex: ^ag}}}", {"extra_headers": {"X-SUITE": "agents"}}, {},
        "header x-suite: missing"),
    Row("metadata", "{metadata: {contains: user-42}}", {"metadata": {"user_id": "org-1/user-42"}},
        {"metadata": {"user_id": "org-1/user-7"}}, "metadata: 'org-1/user-7' does not contain 'user-42'"),
    Row("turn-int", "{turn: 1}", {"messages": said("a", "b", "c")}, {},
        "turn: request has 0 assistant messages; scenario wants 1"),
    Row("turn-range", "{turn: {min: 1, max: 2}}", {"messages": said("a", "b", "c", "d", "e")},
        {"messages": said("a", "b", "c", "d", "e", "f", "g")},
        "turn: request has 3 assistant messages; scenario wants {min: 1, max: 2}"),
    Row("body-value", "{body: {temperature: 0.5}}", {"extra_body": {"temperature": 0.5}},
        {"extra_body": {"temperature": 1}}, "body temperature: 1 is not 0.5"),
    Row("body-list-index", "{body: {tools.0.name: get_weather}}", {"tools": [WEATHER, CLOCK]},
        {"tools": [CLOCK, WEATHER]}, "body tools.0.name: 'get_time' is not 'get_weather'"),
    Row("body-matcher", '{body: {messages.0.content: {regex: "(?i)paris"}}}', {}, {"messages": said("Rome?")},
        "body messages.0.content: 'Rome?' does not match"),
    Row("body-structure", "{body: {stop_sequences: ['###', END]}}", {"stop_sequences": ["###", "END"]},
        {"stop_sequences": ["END", "###"]}, "body stop_sequences: ['END', '###'] is not ['###', 'END']"),
    Row("body-missing", "{body: {output_config.effort: high}}", {"output_config": {"effort": "high"}}, {},
        "body output_config.effort: missing"),
    Row("fingerprint", "{fingerprint: 8fac6a9069b73e2e}", FINGERPRINTED,
        {**FINGERPRINTED, "max_tokens": 255}, "fingerprint: request is"),
    Row("not", "{not: {last_user: {contains: stop}, stream: true}}", {"messages": said("please stop")},
        {"messages": said("please stop"), "stream": True}, "not: request matches {last_user: {contains: 'stop'}, stream: true}"),
    Row("all-must-hold", "{model: claude-sonnet-4-6, last_user: {contains: Paris}, stream: false}", {},
        {"messages": said("Rome?")}, "last_user: 'Rome?' does not contain 'Paris'"),
]
# fmt: on


def _scenario_yaml(row: Row, place: str) -> str:
    if place == "match":
        return f"name: row\nmatch: {row.condition}\nrules:\n  - reply: {{text: hit}}\n"
    return f"name: row\nrules:\n  - when: {row.condition}\n    reply: {{text: hit}}\n"


@pytest.mark.parametrize("place", ["match", "when"])
@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_matcher(bare: MockServer, row: Row, place: str) -> None:
    client = sync_client(bare.url, max_retries=0)
    with bare.overrides():
        bare.load(_scenario_yaml(row, place))
        assert text_of(ask(client, **row.extra, **row.hit)) == "hit"
        with pytest.raises(anthropic.BadRequestError, match="no scenario matched") as caught:
            ask(client, **row.extra, **row.miss)
    where = "match" if place == "match" else "rules[0].when"
    message = caught.value.body["error"]["message"]
    assert "'row' (<text>:" in message and f"failed at {where}: {row.failure}" in message
    near = bare.journal.last.near_misses[0]
    assert (near["scenario"], near["where"]) == ("row", where) and near["failed"].startswith(row.failure)


# ---- §3 selection order ----------------------------------------------------------------------


def test_priority_then_name_never_load_order(lang: MockServer) -> None:
    client = sync_client(lang.url)
    assert text_of(ask(client, **group("order"))) == "order-b"
    reversed_load = [
        "name: order-b\npriority: 5\nmatch: {header: {x-group: order}}\nrules: [{reply: {text: order-b}}]\n",
        "name: order-a\nmatch: {header: {x-group: order}}\nrules: [{reply: {text: order-a}}]\n",
        "name: order-c\npriority: 5\nmatch: {header: {x-group: order}}\nrules: [{reply: {text: order-c}}]\n",
    ]
    for order in (reversed_load, reversed_load[::-1]):
        with MockServer() as server:
            for text in order:
                server.load(text)
            assert text_of(ask(sync_client(server.url), **group("order"))) == "order-b"


def test_pinning_by_path_or_header_ignores_match(lang: MockServer) -> None:
    please = {"messages": said("Answer, please")}
    assert text_of(ask(pinned_client(lang, "pinned-only"), **please)) == "pinned answer"
    by_header = sync_client(lang.url, default_headers={"x-mockbay-scenario": "pinned-only"})
    assert text_of(ask(by_header, **please)) == "pinned answer"
    # Pinning also beats priority: order-a answers although order-b and order-c rank higher.
    assert text_of(ask(pinned_client(lang, "order-a"), **group("order"))) == "order-a"
    with pytest.raises(anthropic.BadRequestError) as unpinned:
        ask(sync_client(lang.url, max_retries=0), **please)
    assert "no scenario matched" in unpinned.value.body["error"]["message"]


def test_pinned_scenario_still_consults_its_rules_when(lang: MockServer) -> None:
    with pytest.raises(anthropic.BadRequestError) as caught:
        ask(pinned_client(lang, "pinned-only", max_retries=0), messages=said("Answer now"))
    message = caught.value.body["error"]["message"]
    assert message.startswith("mockbay: pinned scenario 'pinned-only' did not answer this request")
    assert "failed at rules[0].when: last_user: 'Answer now' does not contain 'please'" in message


def test_unknown_pinned_name_suggests_a_loaded_one(lang: MockServer) -> None:
    with pytest.raises(anthropic.BadRequestError, match="Did you mean 'pinned-only'"):
        ask(pinned_client(lang, "pinned-onyl", max_retries=0))


def test_rules_are_tried_before_turns(lang: MockServer) -> None:
    client = sync_client(lang.url)
    assert text_of(ask(client, messages=said("help me"), **group("rules-then-turns"))) == "rule"
    assert text_of(ask(client, messages=said("hello"), **group("rules-then-turns"))) == "turn 0"
    assert lang.journal.last.step == "turns[0]"


@pytest.mark.parametrize(
    ("scenario", "user", "expected"),
    [
        ("catch-all-last", "I want a refund", "Refunds take five days."),
        ("catch-all-last", "Hello", "Anything else."),
        ("catch-all-first", "I want a refund", "The catch-all shadows every later rule."),
    ],
)
def test_first_rule_in_file_order_answers(lang: MockServer, scenario: str, user: str, expected: str) -> None:
    assert text_of(ask(sync_client(lang.url), messages=said(user), **group(scenario))) == expected


def test_matching_scenario_without_an_answer_falls_through(lang: MockServer) -> None:
    client = sync_client(lang.url)
    special = ask(client, messages=said("a special case"), **group("fall-through"))
    assert text_of(special) == "high priority, special case"
    assert (
        text_of(ask(client, messages=said("ordinary"), **group("fall-through")))
        == "low priority answers the rest"
    )
    assert lang.journal.last.scenario == "fall-low"


# ---- §2 turns are chosen from the request itself ------------------------------------------


def test_turn_n_answers_after_n_assistant_messages(lang: MockServer) -> None:
    client = sync_client(lang.url)
    replies = [
        text_of(ask(client, messages=said(*texts), **group("conversation")))
        for texts in (("hi",), ("hi", "Turn zero: hi", "more"), ("hi", "a", "more", "b", "thanks"))
    ]
    assert replies == ["Turn zero: hi", "Turn one: more", "Turn two: you're welcome."]


def test_failing_when_of_turn_n_is_a_miss_not_an_earlier_turn(lang: MockServer) -> None:
    client = sync_client(lang.url, max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as caught:
        ask(client, messages=said("hi", "a", "more", "b", "bye"), **group("conversation"))
    message = caught.value.body["error"]["message"]
    assert (
        "'conversation'" in message
        and "failed at turns[2].when: last_user: 'bye' does not contain 'thanks'" in message
    )
    with pytest.raises(anthropic.BadRequestError) as beyond:
        ask(client, messages=said("hi", "a", "b", "c", "d", "e", "f"), **group("conversation"))
    assert (
        "turn: request has 3 assistant messages; scenario has 3 turns"
        in beyond.value.body["error"]["message"]
    )


def test_turns_are_stateless_across_servers_and_order() -> None:
    """The last turn asked first on one fresh server equals the whole conversation replayed on another."""
    turns = [said("hi"), said("hi", "Turn zero: hi", "more"), said("hi", "a", "more", "b", "thanks")]
    with MockServer([LANG]) as first, MockServer([LANG]) as second:
        jumped = ask(sync_client(first.url), messages=turns[2], **group("conversation"))
        replayed = [ask(sync_client(second.url), messages=t, **group("conversation")) for t in turns]
        again = ask(sync_client(first.url), messages=turns[2], **group("conversation"), stream=True)
    assert jumped.to_dict() == replayed[2].to_dict() == again.to_dict()
    assert jumped.id.startswith("msg_01") and jumped.id != replayed[1].id


# ---- §6 replies: sequences per session, reset -----------------------------------------------


def _texts(client: anthropic.Anthropic, count: int, **options: Any) -> list[str]:
    return [text_of(ask(client, **options)) for _ in range(count)]


def test_repeat_last_and_its_default(lang: MockServer) -> None:
    client = sync_client(lang.url, default_headers={"x-mockbay-session": "repeat"})
    assert _texts(client, 4, **group("sequences")) == ["one", "two", "two", "two"]
    assert _texts(client, 3, **group("sequences-default")) == ["first", "second", "second"]


def test_sequences_live_in_a_session_and_reset_starts_them_over() -> None:
    with MockServer([LANG]) as server:
        global_a, global_b = sync_client(server.url), sync_client(server.url)
        mine = sync_client(server.url, default_headers={"x-mockbay-session": "mine"})
        assert text_of(ask(global_a, **group("sequences"))) == "one"
        assert text_of(ask(global_b, **group("sequences"))) == "two"  # no header: one global session
        assert text_of(ask(mine, **group("sequences"))) == "one"
        response = httpx.post(f"{server.url}/_mockbay/reset")
        assert response.status_code == 200 and response.json() == {"status": "ok"}
        assert _texts(global_a, 2, **group("sequences")) == ["one", "two"]
        assert text_of(ask(mine, **group("sequences"))) == "one"
        assert server.journal.call_count == 3


def test_then_error_is_served_until_reset() -> None:
    with MockServer([LANG]) as server:
        client = sync_client(server.url, max_retries=0)
        assert text_of(ask(client, **group("sequences-error"))) == "only once"
        with pytest.raises(anthropic.BadRequestError, match="has served all 1 of its replies"):
            ask(client, **group("sequences-error"))
        httpx.post(f"{server.url}/_mockbay/reset")
        assert text_of(ask(client, **group("sequences-error"))) == "only once"


def test_journal_records_the_session(lang: MockServer) -> None:
    ask(sync_client(lang.url, default_headers={"x-mockbay-session": "journaled"}), **group("sequences"))
    assert lang.journal.last.session == "journaled"


def test_sequences_on_turns_with_sdk_retry(lang: MockServer) -> None:
    client = sync_client(lang.url, default_headers={"x-mockbay-session": "turn-seq"})
    assert text_of(ask(client, **group("sequences-turns"))) == "turn 0 after one retry"
    assert [e.status for e in lang.journal.find(scenario="seq-in-turns", turn=0)][-2:] == [529, 200]
    later = {"messages": said("hi", "turn 0 after one retry", "go on"), **group("sequences-turns")}
    assert _texts(client, 3, **later) == ["turn 1 a", "turn 1 b", "turn 1 a"]


# ---- §4 generated text: Faker with arguments, placeholders, seeds ---------------------------


def test_faker_arguments_and_placeholders(lang: MockServer) -> None:
    raw = sync_client(lang.url).messages.with_raw_response.create(
        model="claude-haiku-4-5", max_tokens=1024, messages=said("hi", "hello", "Tell me something"),
        extra_headers={"x-group": "generated"},
    )  # fmt: skip
    paragraph, words, sentence, echo = (block.text for block in raw.parse().content)
    assert len(re.findall(r"[.!?](?:\s|$)", paragraph)) == 3  # `sentences:` is Faker's nb_sentences
    assert len(words.split()) == 4 and len(sentence.split()) == 6
    last_user, model, turn, request_id, first_name = echo.split("|")
    assert (last_user, model, turn) == ("Tell me something", "claude-haiku-4-5", "1")
    assert request_id == raw.headers["request-id"] and first_name.isalpha()


def test_generated_text_is_deterministic_and_seeded() -> None:
    """Scenario `seed:` wins over the server's --seed; without it the server's seed decides."""

    def generated(server: MockServer) -> list[str]:
        seeded = ask(sync_client(server.url), messages=said("Tell me something"), **group("generated"))
        unseeded = ask(sync_client(server.url), **group("generated-unseeded"))
        return [block.text for block in (*seeded.content[:3], *unseeded.content)]

    with (
        MockServer([LANG], seed=1) as one,
        MockServer([LANG], seed=1) as same,
        MockServer([LANG], seed=2) as other,
    ):
        runs = [generated(server) for server in (one, same, other)]
    assert runs[0] == runs[1]
    assert runs[0][:3] == runs[2][:3] and runs[0][3] != runs[2][3]


# ---- §4 reply keys ---------------------------------------------------------------------------


def test_stop_reason_given(lang: MockServer) -> None:
    message = ask(sync_client(lang.url), messages=said("refuse"), **group("reply-keys"))
    assert (message.stop_reason, message.stop_sequence) == ("refusal", None)


def test_stop_sequence_given_in_json_and_stream(lang: MockServer) -> None:
    client = sync_client(lang.url)
    plain = ask(client, messages=said("count"), **group("reply-keys"))
    streamed = ask(client, messages=said("count"), stream=True, **group("reply-keys"))
    assert (plain.stop_reason, plain.stop_sequence) == ("stop_sequence", "4")
    assert streamed.to_dict() == plain.to_dict()


def test_default_stop_reason_is_tool_use_with_a_tool_use_block(lang: MockServer) -> None:
    message = ask(sync_client(lang.url), messages=said("tool"), **group("reply-keys"))
    assert message.stop_reason == "tool_use" and message.content[1].input == {"city": "Paris"}


def test_max_tokens_cut_drops_a_tool_use_that_does_not_fit(lang: MockServer) -> None:
    client = sync_client(lang.url)
    cut = ask(client, max_tokens=5, messages=said("tool"), **group("reply-keys"))
    assert [b.type for b in cut.content] == ["text"] and cut.stop_reason == "max_tokens"
    assert (
        ask(client, max_tokens=5, messages=said("tool"), stream=True, **group("reply-keys")).to_dict()
        == cut.to_dict()
    )


STATED_LENGTH = """\
name: stated-length
rules:
  - when: {last_user: {contains: stated}}
    reply:
      text: '{"city": "Lisbon", "temperature_c": 24, "sky": "clear"}'
      usage: {output_tokens: 19}
  - reply:
      text: '{"city": "Lisbon", "temperature_c": 24, "sky": "clear"}'
"""


def test_a_reply_stating_its_output_tokens_is_cut_by_that_count(bare: MockServer) -> None:
    """A recording's `usage.output_tokens` is upstream's count: under `max_tokens` it is not cut by
    mockbay's own, larger count for JSON (a replay would differ from the recording). Without it,
    mockbay's count decides."""
    client = sync_client(bare.url)
    with bare.overrides():
        bare.load(STATED_LENGTH)
        for stream in (False, True):
            whole = ask(client, max_tokens=20, messages=said("stated"), stream=stream)
            assert whole.stop_reason == "end_turn" and whole.usage.output_tokens == 19
            assert text_of(whole) == '{"city": "Lisbon", "temperature_c": 24, "sky": "clear"}'
            cut = ask(client, max_tokens=20, messages=said("counted"), stream=stream)
            assert cut.stop_reason == "max_tokens" and len(text_of(cut)) < len(text_of(whole))
        over = ask(client, max_tokens=10, messages=said("stated"))  # stated over the limit: cut
        assert over.stop_reason == "max_tokens"


def test_usage_fields_left_out_are_computed(lang: MockServer) -> None:
    message = ask(sync_client(lang.url), messages=said("usage"), **group("reply-keys"))
    usage = message.usage
    assert usage.output_tokens == 99 and usage.service_tier == "priority"
    assert usage.cache_creation.ephemeral_1h_input_tokens == 7 and usage.cache_creation_input_tokens == 7
    assert usage.input_tokens > 5 and usage.cache_read_input_tokens == 0


def test_output_tokens_are_counted_from_the_reply(lang: MockServer) -> None:
    message = ask(sync_client(lang.url), messages=said("refuse"), **group("reply-keys"))
    assert message.usage.output_tokens == count_tokens("I can't help with that.")


def test_error_code_is_sent_in_details_and_picks_the_sdks_class(lang: MockServer) -> None:
    """`error_code` is the body's `error.details.error_code`, which the Python SDK picks a class by."""
    client = sync_client(lang.url, max_retries=0)
    for stream in (False, True):
        with pytest.raises(anthropic.EnforcedSpendLimitReachedError) as refused:
            ask(client, messages=said("spend"), stream=stream, **group("reply-keys"))
        assert refused.value.status_code == 429
        assert refused.value.body["error"]["details"] == {"error_code": "enforced_spend_limit_reached"}


def test_verbatim_chunks_fill_no_placeholder_and_iterations_are_sent_as_given(lang: MockServer) -> None:
    client = sync_client(lang.url)
    plain = ask(client, messages=said("verbatim"), **group("reply-keys"))
    assert text_of(plain) == "Write {{ model }} in {{ name }}."
    assert plain.usage.to_dict()["iterations"] == [
        {"type": "fallback_message", "model": "claude-sonnet-4-6", "output_tokens": 5}
    ]
    assert (
        ask(client, messages=said("verbatim"), stream=True, **group("reply-keys")).to_dict()
        == plain.to_dict()
    )


def test_headers_are_added_to_the_response(lang: MockServer) -> None:
    raw = sync_client(lang.url).messages.with_raw_response.create(
        model=MODEL, max_tokens=64, messages=said("headers"), extra_headers={"x-group": "reply-keys"}
    )
    assert raw.headers["x-extra"] == "1" and raw.headers["anthropic-organization-id"] == "org-fixed"
    assert raw.headers["request-id"].startswith("req_")


@pytest.mark.parametrize(
    ("said_text", "stream", "status", "content_type"),
    [
        ("typed", False, 200, "text/plain; charset=utf-8"),
        ("typed", True, 200, "text/plain; charset=utf-8"),
        ("typed error", False, 503, "text/plain"),
    ],
)
def test_a_content_type_among_the_headers_wins_over_the_computed_one(
    lang: MockServer, said_text: str, stream: bool, status: int, content_type: str
) -> None:
    body = {"model": MODEL, "max_tokens": 64, "messages": said(said_text), "stream": stream}
    answer = httpx.post(
        f"{lang.url}/v1/messages",
        json=body,
        headers={"x-group": "reply-keys", "x-api-key": "k", "anthropic-version": "2023-06-01"},
        timeout=10,
    )
    assert (answer.status_code, answer.headers["content-type"]) == (status, content_type)
    assert answer.headers["request-id"].startswith("req_")
    assert lang.journal.last.status == status


def _stream_offsets(
    server: MockServer, client: anthropic.Anthropic, user: str, name: str
) -> tuple[list[str], list[float]]:
    """Text deltas of a streamed reply and the journal's planned offsets (ms) of every event."""
    with client.messages.stream(
        model=MODEL, max_tokens=256, messages=said(user), extra_headers={"x-group": name}
    ) as stream:
        deltas = [
            e.delta.text for e in stream if e.type == "content_block_delta" and e.delta.type == "text_delta"
        ]
    return deltas, server.journal.last.planned_offsets_ms


def test_reply_timing_overrides_the_scenario_timing(lang: MockServer) -> None:
    client = sync_client(lang.url)
    _, instant = _stream_offsets(lang, client, "fast", "reply-timing")
    assert instant and set(instant) == {0.0}
    deltas, paced = _stream_offsets(lang, client, "paced", "reply-timing")
    assert deltas == ["Paced ", "in ", "three."]
    # message_start, content_block_start and ping leave at once; deltas at ttft, then every gap_ms.
    assert paced == [0.0, 0.0, 0.0, 60.0, 80.0, 100.0, 100.0, 100.0, 100.0]
    assert lang.journal.last.observed_offsets_ms[3] >= 60.0


# ---- §7 timing forms -------------------------------------------------------------------------


def test_timing_rate_and_delta_tokens(lang: MockServer) -> None:
    deltas, offsets = _stream_offsets(lang, sync_client(lang.url), "rate", "timing")
    assert "".join(deltas) == "one two three four five six seven eight nine ten"
    assert {count_tokens(d) for d in deltas[:-1]} == {2} and count_tokens(deltas[-1]) <= 2
    # The first delta at ttft_ms, each later one after its own tokens at 1000 tokens/s (1 ms a token).
    expected = [30.0, *(30.0 + t for t in accumulate(count_tokens(d) for d in deltas[1:]))]
    assert offsets[3 : 3 + len(deltas)] == expected


def test_timing_jitter_spreads_gaps_reproducibly(lang: MockServer) -> None:
    client = sync_client(lang.url)
    _, first = _stream_offsets(lang, client, "jitter", "timing")
    _, second = _stream_offsets(lang, client, "jitter", "timing")
    gaps = [round(b - a, 3) for a, b in pairwise(first[3:9])]
    assert first == second
    assert len(set(gaps)) > 1 and all(5.0 <= gap <= 15.0 for gap in gaps)


def test_timing_mode_refined_by_numbers(lang: MockServer) -> None:
    _, offsets = _stream_offsets(lang, sync_client(lang.url), "realistic", "timing")
    first_delta = offsets[3]
    assert first_delta == 20.0 and offsets[-1] > first_delta


def test_timing_recorded_replays_gaps(lang: MockServer) -> None:
    client = sync_client(lang.url)
    deltas, offsets = _stream_offsets(lang, client, "recorded", "timing")
    assert deltas == ["a", "b"]
    # message_start at ttft_ms, then each recorded gap; the ping (third event) spends none.
    assert offsets[2] == offsets[1] and offsets[:2] + offsets[3:] == [
        30.0,
        30.0,
        40.0,
        50.0,
        50.0,
        50.0,
        55.0,
    ]
    _, unrecorded = _stream_offsets(lang, client, "unrecorded", "timing")
    assert set(unrecorded) == {0.0}


# ---- §5 errors and faults (the rest is in test_errors_faults.py) ------------------------------


def test_error_type_alone_gives_status_message_and_headers(lang: MockServer) -> None:
    with pytest.raises(anthropic.RateLimitError) as caught:
        ask(sync_client(lang.url, max_retries=0), messages=said("typed"), **group("faults"))
    error = caught.value
    assert error.status_code == 429 and error.body["error"] == {
        "type": "rate_limit_error",
        "message": "slow down",
    }
    assert error.response.headers["retry-after"] == "3"


def test_fault_after_ms_cuts_the_stream_at_that_time(lang: MockServer) -> None:
    client = sync_client(lang.url)
    received = []
    kwargs = {"model": MODEL, "max_tokens": 64, "messages": said("after_ms"), **group("faults")}
    with pytest.raises(anthropic.APIStatusError) as caught, client.messages.stream(**kwargs) as stream:
        for event in stream:
            if event.type == "content_block_delta":
                received.append(event.delta.text)
    assert received == ["a", "b", "c"]  # deltas at 0, 40 and 80 ms; the error at 100 ms
    assert caught.value.body["error"] == {"type": "api_error", "message": "upstream broke"}
    assert lang.journal.last.fault == "error_event"


def test_error_event_defaults_to_overloaded(lang: MockServer) -> None:
    with pytest.raises(anthropic.APIStatusError) as caught:
        ask(sync_client(lang.url), messages=said("default"), stream=True, **group("faults"))
    assert caught.value.body["error"]["type"] == "overloaded_error"


# ---- §1 scenario keys seen through the admin API ---------------------------------------------


def test_admin_lists_name_description_file_and_priority(lang: MockServer) -> None:
    listed = {s["name"]: s for s in httpx.get(f"{lang.url}/_mockbay/scenarios").json()["scenarios"]}
    assert listed["reply-keys"]["description"] == "stop_reason, stop_sequence, usage, headers"
    assert listed["order-b"]["priority"] == 5 and listed["order-b"]["file"].endswith("selection.yaml")
    ranks = [(-s["priority"], s["name"]) for s in listed.values()]
    assert ranks == sorted(ranks) and ranks[0] == (-10, "fall-high")  # priority, then name


# ---- §8 fallback -----------------------------------------------------------------------------


def test_strict_names_the_nearest_scenario_and_its_first_failed_condition(lang: MockServer) -> None:
    client = sync_client(lang.url, max_retries=0)
    with pytest.raises(anthropic.BadRequestError) as caught:
        ask(client, messages=said("Where is my receipt?"), **group("strict"))
    message = caught.value.body["error"]["message"]
    assert message.startswith("mockbay: no scenario matched this request (model 'claude-sonnet-4-6', turn 0")
    nearest = "'strict-near' (" + str(LANG / "selection.yaml")
    assert message.index(nearest) < message.index(";")  # named first
    assert "failed at rules[0].when: last_user: 'Where is my receipt?' does not contain 'invoice'" in message
    unmatched = httpx.get(f"{lang.url}/_mockbay/unmatched").json()["unmatched"]
    entry = next(e for e in unmatched if e["request_id"] == caught.value.request_id)
    assert entry["status"] == 400 and entry["matched"] is False
    assert entry["near_misses"][0] == {
        "scenario": "strict-near",
        "file": entry["near_misses"][0]["file"],
        "where": "rules[0].when",
        "failed": "last_user: 'Where is my receipt?' does not contain 'invoice'",
    }
    assert re.fullmatch(r".*selection\.yaml:\d+:\d+", entry["near_misses"][0]["file"])
    assert len(entry["near_misses"]) == 3


@pytest.fixture(scope="module")
def generating() -> Iterator[MockServer]:
    with MockServer(fallback="generate") as server:
        yield server


BOOKING = {
    "name": "book_flight",
    "description": "Book a flight.",
    "input_schema": {
        "type": "object",
        "properties": {
            "origin": {"type": "string", "minLength": 3, "maxLength": 3},
            "date": {"type": "string", "format": "date"},
            "passengers": {"type": "integer", "minimum": 1, "maximum": 9},
            "cabin": {"enum": ["economy", "business"]},
            "contact": {"$ref": "#/$defs/Contact"},
            "notes": {"type": "string"},
        },
        "required": ["origin", "date", "passengers", "cabin", "contact"],
        "$defs": {
            "Contact": {"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]}
        },
    },
}


@pytest.mark.parametrize(
    ("tool_choice", "tools"),
    [({"type": "any"}, [WEATHER]), ({"type": "tool", "name": "book_flight"}, [WEATHER, BOOKING])],
    ids=["any", "tool"],
)
def test_generate_calls_the_required_tool_with_valid_input(
    generating: MockServer, tool_choice: dict[str, str], tools: list[dict[str, Any]]
) -> None:
    client = sync_client(generating.url)
    message = ask(client, tools=tools, tool_choice=tool_choice)
    assert message.stop_reason == "tool_use" and [b.type for b in message.content] == ["tool_use"]
    call = message.content[0]
    schema = next(t["input_schema"] for t in tools if t["name"] == call.name)
    assert call.name == tool_choice.get("name", "get_weather") and call.id.startswith("toolu_01")
    assert set(schema["required"]) <= set(call.input)
    jsonschema.validate(call.input, schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
    assert ask(client, tools=tools, tool_choice=tool_choice, stream=True).to_dict() == message.to_dict()
    assert generating.journal.last.generated is True


def test_generate_thinks_when_thinking_is_on(generating: MockServer) -> None:
    thinking = {"type": "enabled", "budget_tokens": 1024}
    message = ask(sync_client(generating.url), max_tokens=2048, thinking=thinking)
    assert [b.type for b in message.content] == ["thinking", "text"]
    assert message.content[0].thinking and message.content[0].signature.startswith("EqQB")
    plain = ask(sync_client(generating.url))
    assert [b.type for b in plain.content] == ["text"] and plain.stop_reason == "end_turn"


@pytest.mark.parametrize("max_tokens", [1, 4, 8])
def test_generate_respects_max_tokens(generating: MockServer, max_tokens: int) -> None:
    message = ask(sync_client(generating.url), max_tokens=max_tokens)
    assert message.stop_reason == "max_tokens" and 1 <= message.usage.output_tokens <= max_tokens
    assert count_tokens(text_of(message)) == message.usage.output_tokens


def test_generate_drops_a_tool_use_that_does_not_fit(generating: MockServer) -> None:
    message = ask(sync_client(generating.url), max_tokens=3, tools=[BOOKING], tool_choice={"type": "any"})
    assert message.content == [] and message.stop_reason == "max_tokens"


def test_generate_is_deterministic(generating: MockServer) -> None:
    client = sync_client(generating.url)
    request = {"messages": said("What is the weather in Oslo?"), "tools": [WEATHER]}
    first, second = ask(client, **request), ask(client, **request, stream=True)
    assert first.to_dict() == second.to_dict()
    assert [b.type for b in first.content] == ["text", "tool_use"]  # auto: the user named its topic
