"""Matching: every matcher form (hit, miss, failure text), selection order, turns, near misses, index."""

from __future__ import annotations

import random
import re
from typing import Any

import pytest

from mockbay.errors import SourceMark
from mockbay.fingerprint import fingerprint
from mockbay.lru import MEMO_KEY_CHARS
from mockbay.matching import Miss, Selection, Selector, evaluate
from mockbay.scenario.model import (
    BodyCondition,
    Conditions,
    Reply,
    Scenario,
    Step,
    ToolResultCondition,
    ToolsCondition,
    TurnRange,
)
from mockbay.scenario.registry import Registry
from mockbay.textmatch import AnyOf, Contains, Equals, Glob, Not, Regex
from mockbay.wire.request import MessagesRequest, ToolResultView
from tests.unit.conversations import answer_tool_uses, result_blocks

SONNET = "claude-sonnet-4-5"


def req(
    last_user: str | None = "hello",
    *,
    model: str = SONNET,
    turn: int = 0,
    system: str = "",
    tools: tuple[str, ...] = (),
    tool_choice: str | None = None,
    thinking: bool = False,
    stream: bool = False,
    headers: dict[str, str] | None = None,
    user_id: str | None = None,
    tool_results: tuple[ToolResultView, ...] = (),
    extra: dict[str, Any] | None = None,
    pinned: str | None = None,
) -> MessagesRequest:
    """A request whose derived fields agree with its body, as wire validation would build it."""
    messages: list[dict[str, Any]] = []
    for i in range(turn):
        messages += [
            {"role": "user", "content": f"question {i}"},
            {"role": "assistant", "content": f"answer {i}"},
        ]
    answer_tool_uses(messages, tool_results)
    last = result_blocks(tool_results)
    if last_user is not None:
        last.append({"type": "text", "text": last_user})
    if last or last_user is not None:  # None: no user message at all
        messages.append({"role": "user", "content": last})
    body: dict[str, Any] = {"model": model, "max_tokens": 256, "messages": messages, **(extra or {})}
    if system:
        body["system"] = system
    if tools:
        body["tools"] = [{"name": name, "input_schema": {"type": "object"}} for name in tools]
    if tool_choice:
        body["tool_choice"] = {"type": tool_choice}
    if thinking:
        body["thinking"] = {"type": "enabled", "budget_tokens": 1024}
    if user_id is not None:
        body["metadata"] = {"user_id": user_id}
    return MessagesRequest(
        body=body,
        headers={k.lower(): v for k, v in (headers or {}).items()},
        model=model,
        max_tokens=256,
        stream=stream,
        tool_names=tools,
        tool_choice=tool_choice,
        tool_choice_name=None,
        thinking=thinking,
        pinned=pinned,
    )


def result(
    name: str | None = "get_weather", content: str = "18 C", *, is_error: bool = False, use: str = "toolu_1"
) -> ToolResultView:
    """A tool result answering the tool_use `use` (ids differ where names of one request do)."""
    return ToolResultView(tool_use_id=use, name=name, content_text=content, is_error=is_error)


WEATHER_FP = fingerprint(req("weather?").body)

# id, conditions, request that hits, request that misses, failure text of the miss
MATCHER_FORMS = [
    ("model-glob", Conditions(model=Glob("claude-sonnet-*")), req(), req(model="claude-haiku-4-5"),
     "model: 'claude-haiku-4-5' does not match 'claude-sonnet-*'"),
    ("model-exact", Conditions(model=Glob(SONNET)), req(), req(model="claude-sonnet-4-6"),
     "model: 'claude-sonnet-4-6' does not match 'claude-sonnet-4-5'"),
    ("model-regex", Conditions(model=Regex(re.compile(r"^claude-(opus|sonnet)"))), req(),
     req(model="claude-haiku-4-5"),
     "model: 'claude-haiku-4-5' does not match {regex: '^claude-(opus|sonnet)'}"),
    ("system-equals", Conditions(system=Equals("Be brief.")), req(system="Be brief."), req(system="Be long."),
     "system: 'Be long.' is not 'Be brief.'"),
    ("system-contains", Conditions(system=Contains("weather")), req(system="You do weather."), req(),
     "system: '' does not contain 'weather'"),
    ("system-regex", Conditions(system=Regex(re.compile(r"\bagent\b"))), req(system="an agent"),
     req(system="agents"), "system: 'agents' does not match {regex: '\\\\bagent\\\\b'}"),
    ("last_user-equals", Conditions(last_user=Equals("hi")), req("hi"), req("hello"),
     "last_user: 'hello' is not 'hi'"),
    ("last_user-contains", Conditions(last_user=Contains("weather")), req("the weather?"), req("hi"),
     "last_user: 'hi' does not contain 'weather'"),
    ("last_user-regex", Conditions(last_user=Regex(re.compile(r"\d+"))), req("add 2"), req("add"),
     "last_user: 'add' does not match {regex: '\\\\d+'}"),
    ("last_user-any", Conditions(last_user=AnyOf((Equals("a"), Contains("b")))), req("xbx"), req("c"),
     "last_user: 'c' does not match {any: ['a', {contains: 'b'}]}"),
    ("last_user-not", Conditions(last_user=Not(Contains("flaky"))), req("stable"), req("flaky one"),
     "last_user: 'flaky one' does not match {not: {contains: 'flaky'}}"),
    ("last_user-absent", Conditions(last_user=Contains("x")), req("x"), req(None), "last_user: missing"),
    ("last_user-long", Conditions(last_user=Equals("short")), req("short"), req("y" * 80),
     f"last_user: '{'y' * 59}…' is not 'short'"),
    ("any_message", Conditions(any_message=Contains("answer 0")), req(turn=1), req(turn=0),
     "any_message: none of 1 messages contains 'answer 0'"),
    ("tool_result-name", Conditions(tool_result=ToolResultCondition(name="get_weather")),
     req(tool_results=(result(),)), req(tool_results=(result("get_time"),)),
     "tool_result: name 'get_time' is not 'get_weather'"),
    ("tool_result-none", Conditions(tool_result=ToolResultCondition()), req(tool_results=(result(),)), req(),
     "tool_result: the last user message holds no tool_result"),
    ("tool_result-id", Conditions(tool_result=ToolResultCondition(tool_use_id="toolu_1")),
     req(tool_results=(result(),)),
     req(tool_results=(ToolResultView(tool_use_id="toolu_2", name=None, content_text="", is_error=False),)),
     "tool_result: tool_use_id 'toolu_2' is not 'toolu_1'"),
    ("tool_result-content", Conditions(tool_result=ToolResultCondition(content=Contains("sunny"))),
     req(tool_results=(result(content="sunny"),)), req(tool_results=(result(content="rain"),)),
     "tool_result: content 'rain' does not contain 'sunny'"),
    ("tool_result-is_error", Conditions(tool_result=ToolResultCondition(name="get_weather", is_error=True)),
     req(tool_results=(result(), result(is_error=True, use="toolu_2"))),
     req(tool_results=(result(), result("x", use="toolu_2"))),
     "tool_result: none of 2 tool_results fits; the first: is_error is false, scenario wants true"),
    ("tools-includes", Conditions(tools=ToolsCondition(includes=("get_weather",))),
     req(tools=("get_time", "get_weather")), req(tools=("get_time",)),
     "tools: 'get_weather' is not offered (offered: 'get_time')"),
    ("tools-count", Conditions(tools=ToolsCondition(count=2)), req(tools=("a", "b")), req(tools=("a",)),
     "tools: request offers 1 tools; scenario wants count: 2"),
    ("tool_choice", Conditions(tool_choice="any"), req(tools=("a",), tool_choice="any"),
     req(tools=("a",), tool_choice="tool"), "tool_choice: 'tool' is not 'any'"),
    ("tool_choice-default-auto", Conditions(tool_choice="auto"), req(tools=("a",)), req(),
     "tool_choice: null is not 'auto'"),
    ("thinking", Conditions(thinking=True), req(thinking=True), req(),
     "thinking: request has false, scenario wants true"),
    ("stream", Conditions(stream=False), req(), req(stream=True),
     "stream: request has true, scenario wants false"),
    ("header", Conditions(header=(("X-Test-Suite", Equals("agents")),)),
     req(headers={"x-test-suite": "agents"}), req(headers={"X-Test-Suite": "unit"}),
     "header x-test-suite: 'unit' is not 'agents'"),
    ("header-missing", Conditions(header=(("x-test-suite", Contains("a")),)),
     req(headers={"X-TEST-SUITE": "a"}), req(), "header x-test-suite: missing"),
    ("metadata", Conditions(metadata=Regex(re.compile("^user-"))), req(user_id="user-7"), req(user_id="bot"),
     "metadata: 'bot' does not match {regex: '^user-'}"),
    ("metadata-missing", Conditions(metadata=Equals("u")), req(user_id="u"), req(), "metadata: missing"),
    ("turn-int", Conditions(turn=TurnRange(min=1, max=1)), req(turn=1), req(turn=2),
     "turn: request has 2 assistant messages; scenario wants 1"),
    ("turn-range", Conditions(turn=TurnRange(min=1, max=3)), req(turn=3), req(turn=0),
     "turn: request has 0 assistant messages; scenario wants {min: 1, max: 3}"),
    ("body-literal", Conditions(body=(BodyCondition(path="temperature", value=0.5),)),
     req(extra={"temperature": 0.5}), req(extra={"temperature": 0.7}), "body temperature: 0.7 is not 0.5"),
    ("body-missing", Conditions(body=(BodyCondition(path="temperature", value=0.5),)),
     req(extra={"temperature": 0.5}), req(), "body temperature: missing"),
    ("body-bool-is-not-int", Conditions(body=(BodyCondition(path="x.flag", value=True),)),
     req(extra={"x": {"flag": True}}), req(extra={"x": {"flag": 1}}), "body x.flag: 1 is not true"),
    ("body-null-is-absent", Conditions(body=(BodyCondition(path="top_k", value=None),)), req(),
     req(extra={"top_k": 5}), "body top_k: 5 is not null"),
    ("body-index-matcher", Conditions(body=(BodyCondition(path="tools.0.name", matcher=Glob("get_*")),)),
     req(tools=("get_weather",)), req(tools=("set_alarm",)),
     "body tools.0.name: 'set_alarm' does not match 'get_*'"),
    ("body-index-out-of-range", Conditions(body=(BodyCondition(path="tools.1.name", matcher=Glob("*")),)),
     req(tools=("a", "b")), req(tools=("a",)), "body tools.1.name: missing"),
    ("body-matcher-on-number", Conditions(body=(BodyCondition(path="max_tokens", matcher=Contains("2")),)),
     req(extra={"max_tokens": "256"}), req(),
     "body max_tokens: 256 is not text, scenario wants {contains: '2'}"),
    ("fingerprint", Conditions(fingerprint=WEATHER_FP), req("weather?", stream=True, user_id="any"),
     req("rain?"),
     f"fingerprint: request is {fingerprint(req('rain?').body)!r}, not {WEATHER_FP!r}"),
    ("not", Conditions(not_=Conditions(last_user=Contains("flaky"), stream=True)), req("flaky"),
     req("flaky", stream=True), "not: request matches {last_user: {contains: 'flaky'}, stream: true}"),
    ("first-failure-wins", Conditions(model=Glob("claude-*"), last_user=Equals("a"), stream=True),
     req("a", stream=True), req("b"), "last_user: 'b' is not 'a'"),
]  # fmt: skip


@pytest.mark.parametrize(("conditions", "hit", "miss", "failed"), [row[1:] for row in MATCHER_FORMS],
                         ids=[row[0] for row in MATCHER_FORMS])  # fmt: skip
def test_matcher_form_holds_or_names_its_failure(
    conditions: Conditions, hit: MessagesRequest, miss: MessagesRequest, failed: str
) -> None:
    assert evaluate(conditions, hit) is None
    assert evaluate(conditions, miss) == failed


# ---- selection order ------------------------------------------------------------------------


def rule(index: int, when: Conditions | None = None) -> Step:
    return Step(kind="rule", index=index, when=when, reply=Reply())


def turn(index: int, when: Conditions | None = None) -> Step:
    return Step(kind="turn", index=index, when=when, reply=Reply())


def scenario(name: str, *, priority: int = 0, match: Conditions | None = None, **steps: Any) -> Scenario:
    steps.setdefault("rules", (rule(0),))
    mark = SourceMark(f"scenarios/{name}.yaml", 1, 1)
    return Scenario(name=name, priority=priority, match=match, mark=mark, **steps)


def chosen(scenarios: list[Scenario], request: MessagesRequest) -> tuple[str, str]:
    selection = Selector(Registry(scenarios)).select(request)
    assert isinstance(selection, Selection), selection
    return selection.scenario.name, selection.step.label


def test_higher_priority_wins_over_name() -> None:
    assert chosen([scenario("a"), scenario("z", priority=5)], req()) == ("z", "rules[0]")


def test_equal_priority_goes_by_name_not_load_order() -> None:
    assert chosen([scenario("b"), scenario("a")], req()) == ("a", "rules[0]")


def test_scenario_whose_match_fails_is_skipped() -> None:
    picky = scenario("a", match=Conditions(model=Glob("claude-opus-*")))
    assert chosen([picky, scenario("b")], req()) == ("b", "rules[0]")


def test_scenario_that_matches_but_does_not_answer_lets_the_next_one_try() -> None:
    silent = scenario("a", rules=(rule(0, Conditions(last_user=Equals("never"))),))
    assert chosen([silent, scenario("b")], req()) == ("b", "rules[0]")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("flaky", "rules[0]"), ("slow flaky", "rules[0]"), ("slow", "rules[1]"), ("other", "rules[2]")],
)
def test_rules_in_file_order_with_catch_all_last(text: str, expected: str) -> None:
    rules = (
        rule(0, Conditions(last_user=Contains("flaky"))),
        rule(1, Conditions(last_user=Contains("slow"))),
        rule(2),
    )
    assert chosen([scenario("s", rules=rules)], req(text)) == ("s", expected)


def test_rules_are_tried_before_turns() -> None:
    both = scenario("s", rules=(rule(0, Conditions(last_user=Equals("r"))),), turns=(turn(0),))
    assert chosen([both], req("r")) == ("s", "rules[0]")
    assert chosen([both], req("t")) == ("s", "turns[0]")


@pytest.mark.parametrize(("n", "expected"), [(0, "turns[0]"), (1, "turns[1]"), (2, "turns[2]")])
def test_turn_n_answers_a_request_with_n_assistant_messages(n: int, expected: str) -> None:
    turns = tuple(turn(i) for i in range(3))
    assert chosen([scenario("s", rules=(), turns=turns)], req(turn=n)) == ("s", expected)


def test_turn_beyond_the_script_is_a_near_miss() -> None:
    miss = Selector(Registry([scenario("s", rules=(), turns=(turn(0), turn(1)))])).select(req(turn=2))
    assert isinstance(miss, Miss)
    (near,) = miss.near
    assert (near.where, near.failed) == (
        "turns[2]",
        "turn: request has 2 assistant messages; scenario has 2 turns",
    )


def test_turn_whose_when_fails_does_not_fall_through_to_another_turn() -> None:
    turns = (turn(0), turn(1, Conditions(tool_result=ToolResultCondition(name="get_weather"))))
    miss = Selector(Registry([scenario("s", rules=(), turns=turns)])).select(req(turn=1))
    assert isinstance(miss, Miss)
    assert [(n.where, n.failed) for n in miss.near] == [
        ("turns[1].when", "tool_result: the last user message holds no tool_result")
    ]


def test_pinned_scenario_ignores_its_match_but_not_its_rules() -> None:
    pinned = scenario(
        "p", match=Conditions(model=Glob("claude-opus-*")), rules=(rule(0, Conditions(stream=True)),)
    )
    selector = Selector(Registry([pinned, scenario("other", priority=9)]))
    hit = selector.select(req(stream=True, pinned="p"))
    assert isinstance(hit, Selection) and hit.scenario.name == "p"
    miss = selector.select(req(pinned="p"))
    assert isinstance(miss, Miss)
    assert [(n.scenario, n.where) for n in miss.near] == [("p", "rules[0].when")]


def test_unknown_pinned_name_lists_similar_loaded_names() -> None:
    loaded = [scenario("weather-agent"), scenario("weather-agent-v2"), scenario("billing")]
    miss = Selector(Registry(loaded)).select(req(pinned="weathr-agent"))
    assert miss == Miss(unknown_pin="weathr-agent", similar_names=("weather-agent", "weather-agent-v2"))


# ---- near misses ----------------------------------------------------------------------------


def test_near_misses_rank_when_failures_before_match_failures_and_keep_three() -> None:
    two_checks = Conditions(last_user=Equals("x"), stream=True)
    scenarios = [
        scenario("match-half", match=Conditions(model=Glob("claude-opus-*"), stream=False)),  # 1 of 2: 1.5
        scenario("match-all", match=Conditions(model=Glob("claude-opus-*"), stream=True)),  # 2 of 2: 2.0
        scenario("when-all", rules=(rule(0, two_checks),)),  # 2 of 2: 1.0
        scenario("when-half", rules=(rule(0, Conditions(last_user=Equals("x"), stream=False)),)),  # 0.5
    ]
    miss = Selector(Registry(scenarios)).select(req())
    assert isinstance(miss, Miss)
    assert [(n.scenario, n.where, n.distance) for n in miss.near] == [
        ("when-half", "rules[0].when", 0.5),
        ("when-all", "rules[0].when", 1.0),
        ("match-half", "match", 1.5),
    ]
    assert miss.near[2].failed == "model: 'claude-sonnet-4-5' does not match 'claude-opus-*'"
    assert miss.near[2].file == "scenarios/match-half.yaml:1:1"


def test_near_miss_ties_go_by_name_and_point_at_the_failing_conditions() -> None:
    when = Conditions(stream=True, mark=SourceMark("scenarios/b.yaml", 7, 11))
    miss = Selector(Registry([scenario(n, rules=(rule(0, when),)) for n in "cba"])).select(req())
    assert isinstance(miss, Miss)
    assert [n.scenario for n in miss.near] == ["a", "b", "c"]
    assert miss.near[0].file == "scenarios/b.yaml:7:11"


def test_nearest_rule_of_a_scenario_is_reported() -> None:
    rules = (
        rule(0, Conditions(last_user=Equals("x"), stream=True, turn=TurnRange(min=0, max=0))),  # 2 of 3 fail
        rule(1, Conditions(last_user=Equals("hello"), stream=True)),  # 1 of 2 fails
    )
    miss = Selector(Registry([scenario("s", rules=rules)])).select(req(turn=0))
    assert isinstance(miss, Miss)
    assert [(n.where, n.failed, n.distance) for n in miss.near] == [
        ("rules[1].when", "stream: request has false, scenario wants true", 0.5)
    ]


def test_nothing_loaded_is_a_miss_without_near_misses() -> None:
    assert Selector(Registry()).select(req()) == Miss()


# ---- the index agrees with a linear scan ----------------------------------------------------

MODELS = ("claude-sonnet-4-5", "claude-haiku-4-5", "claude-opus-4-1", "claude-sonnet-4-6")
TEXTS = ("hi", "weather?", "flaky", "bye")


def linear_select(scenarios: list[Scenario], request: MessagesRequest) -> tuple[str, str] | None:
    """The specification read literally: every scenario in order, no index."""
    for s in sorted(scenarios, key=lambda s: (-s.priority, s.name)):
        if s.match is not None and evaluate(s.match, request) is not None:
            continue
        for r in s.rules:
            if r.when is None or evaluate(r.when, request) is None:
                return s.name, r.label
        if request.turn < len(s.turns):
            t = s.turns[request.turn]
            if t.when is None or evaluate(t.when, request) is None:
                return s.name, t.label
    return None


def random_request(rng: random.Random) -> MessagesRequest:
    return req(rng.choice(TEXTS), model=rng.choice(MODELS), turn=rng.randrange(3), stream=rng.random() < 0.5)


def random_model(rng: random.Random) -> Glob | Regex | Equals | AnyOf | None:
    return rng.choice([
        None,
        Glob(rng.choice(MODELS)),
        Equals(rng.choice(MODELS)),
        Glob(rng.choice(["claude-sonnet-*", "claude-*-4-5", "*"])),
        Regex(re.compile(rng.choice(["opus", "^claude-h", "4-6$"]))),
        AnyOf((Equals(rng.choice(MODELS)), Glob(rng.choice(MODELS)))),
    ])  # fmt: skip


def random_scenario(rng: random.Random, i: int, fingerprints: list[str]) -> Scenario:
    text = Equals(rng.choice(TEXTS))
    when = rng.choice([Conditions(last_user=text), Conditions(last_user=text, stream=True)])
    if rng.random() < 0.03:
        when = None  # a rare catch-all
    shape = rng.randrange(4)
    if shape == 0:  # a recording: turns keyed by fingerprint
        turns = tuple(turn(t, Conditions(fingerprint=rng.choice(fingerprints))) for t in range(3))
        return scenario(f"s{i:03}", priority=rng.randrange(3), rules=(), turns=turns)
    last_user = rng.choice([
        None,
        None,
        Equals(rng.choice(TEXTS)),
        AnyOf((Equals(rng.choice(TEXTS)), Equals(rng.choice(TEXTS)))),
        Contains("e"),
    ])  # fmt: skip
    match = Conditions(
        model=random_model(rng),
        last_user=last_user,
        fingerprint=rng.choice(fingerprints) if shape == 1 else None,
    )
    turns = tuple(turn(t, when) for t in range(rng.randrange(3)))
    return scenario(f"s{i:03}", priority=rng.randrange(3), match=match, rules=(rule(0, when),)[: shape - 2],
                    turns=turns)  # fmt: skip


@pytest.mark.parametrize("seed", range(5))
def test_index_selects_exactly_what_a_linear_scan_selects(seed: int) -> None:
    rng = random.Random(seed)
    requests = [random_request(rng) for _ in range(150)]
    fingerprints = [fingerprint(r.body) for r in requests[:40]]
    scenarios = [random_scenario(rng, i, fingerprints) for i in range(200)]
    selector = Selector(Registry(scenarios))
    outcomes = set()
    for request in requests:
        selection = selector.select(request)
        got = (selection.scenario.name, selection.step.label) if isinstance(selection, Selection) else None
        assert got == linear_select(scenarios, request)
        outcomes.add(got and got[0])
    assert len(outcomes) > 10  # the random set exercised many scenarios, not one catch-all


def test_many_distinct_models_keep_giving_correct_answers() -> None:
    selector = Selector(Registry([scenario("glob", match=Conditions(model=Glob("m-1*")))]))
    for n in range(3000):
        expected = str(n).startswith("1")
        assert isinstance(selector.select(req(model=f"m-{n}")), Selection) is expected


def test_the_model_pattern_memo_keeps_no_long_model_name() -> None:
    """Requests choose model names: one longer than MEMO_KEY_CHARS is matched against the model
    patterns every time, never kept (matching/index.py), so the memo's bytes stay bounded."""
    patterned = scenario("p", match=Conditions(model=Regex(re.compile("^claude-"))))
    selector = Selector(Registry([patterned]))
    for n in range(3):
        long_model = f"claude-{n}" + "x" * MEMO_KEY_CHARS
        assert chosen_by(selector, req(model=long_model)) == "p"
    assert chosen_by(selector, req(model="claude-short")) == "p"
    assert list(selector._index._model_memo) == ["claude-short"]


def chosen_by(selector: Selector, request: MessagesRequest) -> str:
    selection = selector.select(request)
    assert isinstance(selection, Selection), selection
    return selection.scenario.name
