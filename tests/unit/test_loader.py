"""Loader: every key and form of docs/scenario-contract.md becomes the right model values; files,
folders, fuzz."""

from __future__ import annotations

import random
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockbay.errors import ScenarioError, SourceMark
from mockbay.scenario import loader, schema
from mockbay.scenario.loader import load_paths, load_text
from mockbay.scenario.model import (
    Block,
    BodyCondition,
    ChunkedText,
    Conditions,
    ErrorSpec,
    FakerText,
    Fault,
    Limits,
    LiteralText,
    Recorded,
    Reply,
    Scenario,
    Timing,
    ToolResultCondition,
    ToolsCondition,
    TurnRange,
    UsageSpec,
)
from mockbay.textmatch import AnyOf, Contains, Equals, Glob, Not, Regex


def one(text: str) -> Scenario:
    (scenario,) = load_text(textwrap.dedent(text), "t.yaml")
    return scenario


def when(conditions: str) -> Conditions:
    scenario = one(f"name: s\nrules:\n  - when: {conditions}\n    reply: {{text: ok}}\n")
    assert scenario.rules[0].when is not None
    return scenario.rules[0].when


def reply(body: str) -> Reply:
    scenario = one(f"name: s\nturns:\n  - reply:\n{textwrap.indent(textwrap.dedent(body), '      ')}")
    assert scenario.turns[0].reply is not None
    return scenario.turns[0].reply


def text(value: str) -> Block:
    return Block(type="text", text=LiteralText(value=value))


CITATION = "{type: web_search_result_location, url: 'https://a'}"
CITED = Block(
    type="text",
    text=LiteralText(value="hi"),
    fields=(("citations", ({"type": "web_search_result_location", "url": "https://a"},)),),
)


# ---- matchers (§3): one row per key and form ------------------------------------------------

MATCHERS: list[tuple[str, Callable[[Conditions], Any], Any]] = [
    ("{model: 'claude-sonnet-*'}", lambda c: c.model, Glob("claude-sonnet-*")),
    (
        "{model: {regex: '^claude-(opus|sonnet)'}}",
        lambda c: c.model,
        Regex(re.compile("^claude-(opus|sonnet)")),
    ),
    ("{system: 'You are terse.'}", lambda c: c.system, Equals("You are terse.")),
    ("{system: {contains: weather}}", lambda c: c.system, Contains("weather")),
    ("{system: {regex: 'w.+r'}}", lambda c: c.system, Regex(re.compile("w.+r"))),
    ("{system: {any: [a, {contains: b}]}}", lambda c: c.system, AnyOf((Equals("a"), Contains("b")))),
    ("{system: {not: {contains: x}}}", lambda c: c.system, Not(Contains("x"))),
    ("{system: {not: {any: [{regex: x}]}}}", lambda c: c.system, Not(AnyOf((Regex(re.compile("x")),)))),
    ("{last_user: {contains: flaky}}", lambda c: c.last_user, Contains("flaky")),
    ("{any_message: hello}", lambda c: c.any_message, Equals("hello")),
    ("{tool_result: {name: get_weather}}", lambda c: c.tool_result, ToolResultCondition(name="get_weather")),
    (
        "{tool_result: {name: t, tool_use_id: toolu_1, content: {contains: '18'}, is_error: true}}",
        lambda c: c.tool_result,
        ToolResultCondition(name="t", tool_use_id="toolu_1", content=Contains("18"), is_error=True),
    ),
    ("{tools: {includes: [a, b]}}", lambda c: c.tools, ToolsCondition(includes=("a", "b"))),
    ("{tools: {count: 0}}", lambda c: c.tools, ToolsCondition(count=0)),
    ("{tool_choice: any}", lambda c: c.tool_choice, "any"),
    ("{tool_choice: none}", lambda c: c.tool_choice, "none"),
    ("{thinking: true}", lambda c: c.thinking, True),
    ("{stream: false}", lambda c: c.stream, False),
    ("{header: {X-Test-Suite: agents}}", lambda c: c.header, (("x-test-suite", Equals("agents")),)),
    ("{header: {x-a: {regex: '^b'}}}", lambda c: c.header, (("x-a", Regex(re.compile("^b"))),)),
    ("{metadata: {contains: user-}}", lambda c: c.metadata, Contains("user-")),
    ("{turn: 2}", lambda c: c.turn, TurnRange(min=2, max=2)),
    ("{turn: {min: 1}}", lambda c: c.turn, TurnRange(min=1)),
    ("{turn: {min: 1, max: 3}}", lambda c: c.turn, TurnRange(min=1, max=3)),
    ("{body: {temperature: 0.5}}", lambda c: c.body, (BodyCondition(path="temperature", value=0.5),)),
    (
        "{body: {tools.0.name: get_weather}}",
        lambda c: c.body,
        (BodyCondition(path="tools.0.name", value="get_weather"),),
    ),
    (
        "{body: {system: {contains: x}}}",
        lambda c: c.body,
        (BodyCondition(path="system", matcher=Contains("x")),),
    ),
    (
        "{body: {metadata: {a: [1, null]}}}",
        lambda c: c.body,
        (BodyCondition(path="metadata", value={"a": [1, None]}),),
    ),
    (
        "{body: {stop_sequences: [END]}}",
        lambda c: c.body,
        (BodyCondition(path="stop_sequences", value=["END"]),),
    ),
    ("{fingerprint: 3f2a0c1d9e8b7a65}", lambda c: c.fingerprint, "3f2a0c1d9e8b7a65"),
    ("{not: {stream: true}}", lambda c: (c.not_.stream, c.stream) if c.not_ else None, (True, None)),
]


@pytest.mark.parametrize(("conditions", "get", "expected"), MATCHERS, ids=[row[0] for row in MATCHERS])
def test_matcher_forms(conditions: str, get: Callable[[Conditions], Any], expected: Any) -> None:
    assert get(when(conditions)) == expected


def test_match_and_when_are_the_same_conditions() -> None:
    scenario = one("name: s\nmatch: {system: {contains: w}}\nrules: [{reply: {text: ok}}]\n")
    assert scenario.match is not None and scenario.match.system == Contains("w")


# ---- replies (§4, §5, §7) -------------------------------------------------------------------

REPLIES: list[tuple[str, Callable[[Reply], Any], Any]] = [
    ("text: Hello", lambda r: r.content, (text("Hello"),)),
    ("text: 'You asked: {{ last_user }}'", lambda r: r.content, (text("You asked: {{ last_user }}"),)),
    (
        "text: {faker: paragraph, sentences: 3}",
        lambda r: r.content[0].text,
        FakerText(provider="paragraph", args=(("sentences", 3),)),
    ),
    (
        "text: {chunks: [Hel, 'lo, wor', ld]}",
        lambda r: r.content[0].text,
        ChunkedText(pieces=("Hel", "lo, wor", "ld")),
    ),
    ("content: []", lambda r: r.content, ()),
    ("content: [{text: a}, {text: b}]", lambda r: r.content, (text("a"), text("b"))),
    (
        "content: [{thinking: hmm}]",
        lambda r: r.content,
        (Block(type="thinking", text=LiteralText(value="hmm")),),
    ),
    (
        "content: [{thinking: hmm, signature: EqQB}]",
        lambda r: r.content,
        (Block(type="thinking", text=LiteralText(value="hmm"), signature="EqQB"),),
    ),
    (
        "content: [{thinking: {thinking: hmm, signature: EqQB}}]",  # the wire's fields (§10)
        lambda r: r.content,
        (Block(type="thinking", text=LiteralText(value="hmm"), signature="EqQB"),),
    ),
    (
        "content: [{thinking: {thinking: hmm}}]",
        lambda r: r.content,
        (Block(type="thinking", text=LiteralText(value="hmm")),),
    ),
    (
        "content: [{thinking: {chunks: [a, b]}}]",
        lambda r: r.content[0].text,
        ChunkedText(pieces=("a", "b")),
    ),
    (
        "content: [{redacted_thinking: opaque}]",
        lambda r: r.content,
        (Block(type="redacted_thinking", data="opaque"),),
    ),
    (
        "content: [{redacted_thinking: {data: opaque}}]",
        lambda r: r.content,
        (Block(type="redacted_thinking", data="opaque"),),
    ),
    ("diagnostics: {cache_miss_reason: null}", lambda r: r.diagnostics, {"cache_miss_reason": None}),
    ("content: [{text: {text: hi}}]", lambda r: r.content, (text("hi"),)),  # the wire's fields (§10)
    *(
        (body, lambda r: r.content, (CITED,))
        for body in (
            f"content: [{{text: hi, citations: [{CITATION}]}}]",
            f"content: [{{text: {{text: hi, citations: [{CITATION}]}}}}]",
            f"text: {{text: hi, citations: [{CITATION}]}}",  # the reply's shorthand takes it too
        )
    ),
    (
        "content: [{tool_use: {name: get_weather, input: {city: Paris}, id: toolu_1}}]",
        lambda r: r.content,
        (Block(type="tool_use", name="get_weather", input={"city": "Paris"}, id="toolu_1"),),
    ),
    ("content: [{tool_use: {name: t}}]", lambda r: r.content[0].input, {}),
    (
        """content: [{tool_use: {name: t, input: {a: 1}, input_chunks: ['{"a"', ': 1}']}}]""",
        lambda r: (r.content[0].input, r.content[0].input_chunks),
        ({"a": 1}, ('{"a"', ": 1}")),
    ),
    (
        """content: [{tool_use: {name: t, input_chunks: ['{"b": [true]}']}}]""",
        lambda r: r.content[0].input,
        {"b": [True]},
    ),
    ("id: msg_fixed", lambda r: r.id, "msg_fixed"),
    ("model: claude-x", lambda r: r.model, "claude-x"),
    (
        "stop_reason: stop_sequence\nstop_sequence: END",
        lambda r: (r.stop_reason, r.stop_sequence),
        ("stop_sequence", "END"),
    ),
    (
        "usage: {input_tokens: 812, output_tokens: 40,"
        " cache_creation_input_tokens: 0, cache_read_input_tokens: 2048}",
        lambda r: r.usage,
        UsageSpec(
            input_tokens=812, output_tokens=40, cache_creation_input_tokens=0, cache_read_input_tokens=2048
        ),
    ),
    (
        "usage: {cache_creation: {ephemeral_5m_input_tokens: 5, ephemeral_1h_input_tokens: 7},"
        " service_tier: batch}",
        lambda r: r.usage,
        UsageSpec(ephemeral_5m_input_tokens=5, ephemeral_1h_input_tokens=7, service_tier="batch"),
    ),
    (
        "headers: {x-extra: '1', retry-after: 2}",
        lambda r: r.headers,
        (("x-extra", "1"), ("retry-after", "2")),
    ),
    ("timing: instant", lambda r: r.timing, Timing(mode="instant")),
    ("timing: {ttft_ms: 900}", lambda r: r.timing, Timing(ttft_ms=900.0)),
    (
        "timing: {mode: realistic, tokens_per_second: 60, jitter: 0.15, delta_tokens: 3}",
        lambda r: r.timing,
        Timing(mode="realistic", tokens_per_second=60.0, jitter=0.15, delta_tokens=3),
    ),
    ("timing: {gap_ms: 25}", lambda r: r.timing, Timing(gap_ms=25.0)),
    (
        "error: {status: 529}",
        lambda r: r.error,
        ErrorSpec(status=529, type="overloaded_error", message="Overloaded"),
    ),
    (
        "error: {type: rate_limit_error}",
        lambda r: r.error,
        ErrorSpec(
            status=429, type="rate_limit_error", message="Number of requests has exceeded your rate limit."
        ),
    ),
    (
        "error: {status: 400, type: odd_error, message: no}",
        lambda r: r.error,
        ErrorSpec(status=400, type="odd_error", message="no"),
    ),
    (
        "error: {status: 529, type: overloaded_error, message: Overloaded}\nheaders: {retry-after: '2'}",
        lambda r: r.headers,
        (("retry-after", "2"),),
    ),
    (
        "text: x\nfault: {after_events: 12, kind: error_event, error: {type: overloaded_error}}",
        lambda r: r.fault,
        Fault(
            kind="error_event",
            after_events=12,
            error=ErrorSpec(status=529, type="overloaded_error", message="Overloaded"),
        ),
    ),
    (
        "text: x\nfault: {kind: error_event}",
        lambda r: r.fault and r.fault.error and r.fault.error.type,
        "overloaded_error",
    ),
    (
        "text: x\nfault: {kind: disconnect, after_ms: 1500}",
        lambda r: r.fault,
        Fault(kind="disconnect", after_ms=1500.0),
    ),
    ("text: x\nfault: {kind: stall}", lambda r: r.fault, Fault(kind="stall")),
    (
        "recorded: {ttft_ms: 812, gaps_ms: [1, 2.5]}",
        lambda r: r.recorded,
        Recorded(ttft_ms=812.0, gaps_ms=(1.0, 2.5)),
    ),
    ("recorded: {ttft_ms: 0}", lambda r: r.recorded, Recorded(ttft_ms=0.0)),
]


@pytest.mark.parametrize(("body", "get", "expected"), REPLIES, ids=[row[0] for row in REPLIES])
def test_reply_forms(body: str, get: Callable[[Reply], Any], expected: Any) -> None:
    assert get(reply(body)) == expected


# ---- scenario keys (§1, §6) -----------------------------------------------------------------

SCENARIO_KEYS: list[tuple[str, Callable[[Scenario], Any], Any]] = [
    ("description: Agent calls get_weather.", lambda s: s.description, "Agent calls get_weather."),
    ("priority: 10", lambda s: s.priority, 10),
    ("priority: -1", lambda s: s.priority, -1),
    ("timing: realistic", lambda s: s.timing, Timing(mode="realistic")),
    (
        "timing: {ttft_ms: 400, tokens_per_second: 60, jitter: 0.15}",
        lambda s: s.timing,
        Timing(ttft_ms=400.0, tokens_per_second=60.0, jitter=0.15),
    ),
    ("seed: 7", lambda s: s.seed, 7),
    ("cache: simulate", lambda s: s.cache, "simulate"),
    ("cache: off", lambda s: s.cache, "off"),  # a YAML 1.1 boolean, read as the word written
    ("limits: {requests_per_minute: 50}", lambda s: s.limits, Limits(requests_per_minute=50)),
    (
        "limits: {input_tokens_per_minute: 1000, output_tokens_per_minute: 200}",
        lambda s: s.limits,
        Limits(input_tokens_per_minute=1000, output_tokens_per_minute=200),
    ),
    (
        "",
        lambda s: (s.description, s.priority, s.match, s.timing, s.seed, s.cache, s.limits),
        ("", 0, None, None, None, None, None),
    ),
]


@pytest.mark.parametrize(
    ("line", "get", "expected"), SCENARIO_KEYS, ids=[row[0] or "defaults" for row in SCENARIO_KEYS]
)
def test_scenario_keys(line: str, get: Callable[[Scenario], Any], expected: Any) -> None:
    assert get(one(f"name: s\n{line}\nrules: [{{reply: {{text: ok}}}}]\n")) == expected


def test_rules_and_turns_become_steps_with_kind_index_and_sequence() -> None:
    scenario = one(
        """\
        name: flaky
        rules:
          - when: {last_user: {contains: flaky}}
            replies:
              - error: {status: 429}
              - text: finally
            then: cycle
          - reply: {text: catch-all}
        turns:
          - reply: {text: first}
        """
    )
    first, catch_all = scenario.rules
    assert (first.kind, first.index, first.then, first.reply) == ("rule", 0, "cycle", None)
    assert [r.error.status if r.error else r.content for r in first.replies] == [429, (text("finally"),)]
    assert (catch_all.kind, catch_all.index, catch_all.then, catch_all.when) == (
        "rule",
        1,
        "repeat_last",
        None,
    )
    assert (scenario.turns[0].kind, scenario.turns[0].index) == ("turn", 0)
    assert scenario.turns[0].label == "turns[0]"


def test_marks_point_at_scenario_step_reply_and_conditions() -> None:
    scenario = one(
        """\
        # comment
        name: s
        turns:
          - when: {stream: true}
            reply:
              text: hi
        """
    )
    step = scenario.turns[0]
    assert scenario.mark == SourceMark("t.yaml", 2, 1)
    assert step.mark == SourceMark("t.yaml", 4, 5)
    assert step.when is not None and step.when.mark == SourceMark("t.yaml", 4, 11)
    assert step.reply is not None and step.reply.mark == SourceMark("t.yaml", 6, 7)


def test_multi_document_and_list_files_and_empty_documents() -> None:
    found = load_text(
        "name: a\nturns: [{reply: {text: a}}]\n---\nscenarios:\n"
        "  - {name: b, rules: [{reply: {text: b}}]}\n  - {name: c, rules: [{reply: {text: c}}]}\n---\n",
        "m.yaml",
    )
    assert [s.name for s in found] == ["a", "b", "c"]
    assert found[1].mark == SourceMark("m.yaml", 5, 5)


def test_anchors_aliases_and_merge_keys_are_plain_yaml() -> None:
    scenario = one(
        """\
        name: s
        rules:
          - when: &w {stream: true}
            reply: &base {text: hi, headers: {x-a: '1'}}
          - when: *w
            reply:
              <<: *base
              headers: {x-b: '2'}
        """
    )
    assert scenario.rules[1].reply is not None
    assert scenario.rules[1].reply.content == (text("hi"),)
    assert scenario.rules[1].reply.headers == (("x-b", "2"),)


def test_scalars_typed_by_yaml_keep_what_was_written_where_a_string_is_expected() -> None:
    scenario = one("name: 2024-01-01\ndescription: yes\nrules: [{reply: {text: 12}}]\n")
    assert (scenario.name, scenario.description) == ("2024-01-01", "yes")
    assert scenario.rules[0].reply is not None and scenario.rules[0].reply.content == (text("12"),)


# ---- files and folders ----------------------------------------------------------------------


def write(path: Path, name: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"name: {name}\nturns: [{{reply: {{text: {name}}}}}]\n")
    return path


def test_load_paths_walks_folders_sorted_yaml_and_yml_only_skipping_hidden(tmp_path: Path) -> None:
    write(tmp_path / "b.yaml", "b")
    write(tmp_path / "a" / "z.yml", "az")
    write(tmp_path / "a" / "notes.txt", "ignored")
    write(tmp_path / ".git" / "x.yaml", "hidden")
    single = write(tmp_path.parent / f"{tmp_path.name}-single.yaml", "single")
    found = load_paths([tmp_path, str(single), tmp_path / "b.yaml"])  # b.yaml twice: loaded once
    assert [s.name for s in found] == ["az", "b", "single"]
    assert found[0].mark.path == str(tmp_path / "a" / "z.yml")


def test_duplicate_names_across_files_are_reported_at_both(tmp_path: Path) -> None:
    write(tmp_path / "one.yaml", "same")
    (tmp_path / "two.yaml").write_text("# x\nname: same\nrules: [{reply: {text: x}}]\n")
    with pytest.raises(ScenarioError) as info:
        load_paths([tmp_path])
    first, again = f"{tmp_path / 'one.yaml'}:1:7", f"{tmp_path / 'two.yaml'}:2:7"
    marks = {str(mark): message for mark, message in info.value.problems}
    assert marks == {
        first: f"scenario name 'same' is defined again at {again}",
        again: f"duplicate scenario name 'same'; first defined at {first}",
    }


def test_problems_of_all_files_are_collected(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("name: a\npriority: x\nturns: [{reply: {text: a}}]\n")
    (tmp_path / "b.yaml").write_bytes(b"name: \xff\n")
    with pytest.raises(ScenarioError) as info:
        load_paths([tmp_path, tmp_path / "missing.yaml", tmp_path / "empty"])
    got = [(mark.path, mark.line, mark.col) for mark, _ in info.value.problems]
    assert got == [
        (str(tmp_path / "a.yaml"), 2, 11),
        (str(tmp_path / "b.yaml"), 1, 1),
        (str(tmp_path / "empty"), 1, 1),
        (str(tmp_path / "missing.yaml"), 1, 1),
    ]


def test_an_empty_folder_is_a_problem(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"no \*\.yaml or \*\.yml files"):
        load_paths([tmp_path])


def test_load_yaml_scenarios_is_load_text() -> None:
    assert loader.load_yaml_scenarios is load_text


def test_every_build_name_in_the_schema_has_a_builder() -> None:
    names: set[str] = set()
    pending: list[schema.Spec] = list(schema.DEFS.values())
    while pending:
        spec = pending.pop()
        if spec.build:
            names.add(spec.build)
        pending += [
            v for v in vars(spec).values() if isinstance(v, schema.Spec) and not isinstance(v, schema.Ref)
        ]
        pending += [v for v in getattr(spec, "forms", ())]
        pending += list(getattr(spec, "fields", {}).values())
    assert names == set(loader._BUILDERS)


# ---- robustness: nothing but ScenarioError, whatever the input ------------------------------

_KEYS = sorted(
    {
        "name",
        "turns",
        "rules",
        "reply",
        "replies",
        "when",
        "text",
        "content",
        "error",
        "fault",
        "tool_use",
        "input",
        "input_chunks",
        "regex",
        "contains",
        "any",
        "not",
        "chunks",
        "faker",
        "timing",
        "usage",
        "turn",
        "status",
        "type",
        "kind",
        "cache_creation",
        "header",
        "body",
        "scenarios",
        "<<",
        "then",
        "min",
        "max",
    }
)
_SCALARS = [None, True, 0, -3, 2.5, float("nan"), "", "x", "(", "{{ x }}", "off", "[1", "2024-01-01", "\t"]


def _random_value(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth > 4 or roll < 0.35:
        return rng.choice(_SCALARS)
    if roll < 0.7:
        return {rng.choice(_KEYS): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]


def _mutated(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 6)):
        at = rng.randrange(len(chars) + 1)
        chars[at : at + rng.randint(0, 3)] = rng.choice(
            ["", ":", "-", " ", "\n", "{", "]", "&a", "*a", "!!", "'", "\x00"]
        )
    return "".join(chars)


BASE = """\
name: weather-agent
priority: 10
match: {model: "claude-sonnet-*", system: {contains: weather}, header: {x-test-suite: agents}}
timing: {ttft_ms: 400, tokens_per_second: 60, jitter: 0.15}
turns:
  - reply:
      content:
        - thinking: "I should call the tool."
        - tool_use: {name: get_weather, input: {city: Paris}, input_chunks: ['{"city": ', '"Paris"}']}
  - when: {tool_result: {name: get_weather}}
    replies:
      - error: {status: 529}
      - text: {faker: paragraph}
        fault: {kind: error_event, after_events: 3}
    then: cycle
"""


def test_fuzz_random_yaml_raises_only_scenario_error() -> None:
    rng = random.Random(1234)
    load_text(BASE)  # the base of the mutations is valid
    texts = [yaml.safe_dump(_random_value(rng, 0)) for _ in range(300)]
    texts += [_mutated(rng, BASE) for _ in range(300)]
    texts += [
        "&a [*a]",
        "a: &a {b: *a}",
        "<<: 1",
        "? [a]\n: b",
        "- " * 400,
        "[" * 3000,
        "a: \ud800",
        "!!binary x",
    ]
    outcomes = {"ok": 0, "error": 0}
    for case in texts:
        try:
            load_text(case, "fuzz.yaml")
            outcomes["ok"] += 1
        except ScenarioError as exc:
            assert exc.problems and all(
                mark.path == "fuzz.yaml" and mark.line >= 1 for mark, _ in exc.problems
            )
            outcomes["error"] += 1
    assert outcomes["error"] > 500
