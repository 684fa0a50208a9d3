"""schema.py: its keys are the model's fields (both ways) and its JSON Schema is valid and agrees."""

from __future__ import annotations

import dataclasses
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from mockbay.blocks import KINDS
from mockbay.errors import ScenarioError
from mockbay.loading import load_registry
from mockbay.scenario import model, schema
from mockbay.scenario.loader import load_text
from tests.conftest import REPO

# Fields set from the position in the file, never written as keys.
STRUCTURAL: dict[type, set[str]] = {model.Step: {"mark", "kind", "index"}}

# Documented differences between keys and fields (schema.py's docstring): keys only in the file,
# fields only in the model.
DOCUMENTED: dict[type, tuple[set[str], set[str]]] = {
    model.Reply: ({"text"}, set()),  # `text:` is shorthand for content: [{text: ...}]
    model.UsageSpec: ({"cache_creation"}, {"ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"}),
    model.ErrorSpec: ({"body", "content_type"}, {"raw"}),  # the two keys make one RawBody
}
# Dataclasses whose fields come from forms rather than one mapping: key -> field.
# Where a block's keys land in model.Block; every other key of a kind goes to `fields`.
BLOCK_KEYS = {
    "text": "text",
    "thinking": "text",
    "signature": "signature",
    "redacted_thinking": "data",
    "name": "name",  # tool calls: {name, input, id, input_chunks, ...}
    "input": "input",
    "id": "id",
    "input_chunks": "input_chunks",
}
FORM_MODELS = {
    model.Block,
    model.LiteralText,
    model.FakerText,
    model.ChunkedText,
    model.JsonText,
    model.BodyCondition,
}


def all_specs() -> Iterator[schema.Spec]:
    seen: set[int] = set()
    pending: list[schema.Spec] = [*schema.DEFS.values(), schema.SCENARIO_LIST]
    while pending:
        spec = pending.pop()
        if id(spec) in seen or isinstance(spec, schema.Ref):
            continue
        seen.add(id(spec))
        yield spec
        pending += [v for v in vars(spec).values() if isinstance(v, schema.Spec)]
        pending += list(getattr(spec, "forms", ()))
        pending += list(getattr(spec, "fields", {}).values())
        pending += list(getattr(spec, "choices", {}).values())


def objs() -> list[schema.Obj]:
    return [spec for spec in all_specs() if isinstance(spec, schema.Obj)]


def fields_of(cls: type) -> set[str]:
    """The fields a scenario writes (a field worked out at load, `init=False`, is not one)."""
    return {f.name for f in dataclasses.fields(cls) if f.init} - STRUCTURAL.get(cls, {"mark"})


@pytest.mark.parametrize("spec", [o for o in objs() if o.model], ids=lambda o: o.model.__name__)
def test_keys_are_the_model_fields_both_ways(spec: schema.Obj) -> None:
    assert spec.model is not None
    keys = {spec.renames.get(key, key) for key in spec.fields}
    only_keys, only_fields = DOCUMENTED.get(spec.model, (set(), set()))
    assert keys - only_keys == fields_of(spec.model) - only_fields
    assert only_keys <= keys and only_fields <= fields_of(spec.model)


def test_usage_cache_creation_keys_are_the_ephemeral_fields() -> None:
    usage = schema.resolve(schema.DEFS["reply"]).fields["usage"]
    breakdown = usage.fields["cache_creation"]
    assert set(breakdown.fields) == DOCUMENTED[model.UsageSpec][1]


def test_block_forms_cover_the_block_fields() -> None:
    block = schema.DEFS["block"]
    assert isinstance(block, schema.OneOf)
    assert set(BLOCK_KEYS.values()) | {"fields"} == fields_of(model.Block) - {"type"}
    assert [form.tag for form in block.forms] == list(KINDS)
    assert [form.build for form in block.forms] == [f"block:{kind}" for kind in KINDS]


def test_text_source_forms_are_the_text_source_classes() -> None:
    forms = schema.DEFS["text_source"].forms
    assert [type(form).__name__ for form in forms] == ["Str", "Obj", "Obj", "Obj", "Obj"]
    assert [getattr(form, "tag", None) for form in forms] == [None, "faker", "chunks", "json", "text"]
    assert forms[1].extra is not None  # other keys of {faker: ...} are its args
    assert (forms[4].build, forms[4].fields["text"]) == ("wire_fields", forms[0])  # a text block's wire form
    classes = (model.LiteralText, model.FakerText, model.ChunkedText, model.JsonText)
    assert [fields_of(c) for c in classes] == [
        {"value"},
        {"provider", "args"},
        {"pieces", "verbatim"},
        {"value"},
    ]


def test_every_model_dataclass_has_a_home_in_the_schema() -> None:
    in_model = {
        cls
        for cls in vars(model).values()
        if dataclasses.is_dataclass(cls) and cls.__module__ == model.__name__
    }
    assert in_model == {o.model for o in objs() if o.model} | FORM_MODELS


def test_every_key_has_a_one_line_description() -> None:
    for spec in objs():
        for key, sub in spec.fields.items():
            assert sub.doc and "\n" not in sub.doc, key


def test_enums_match_the_model_literals() -> None:
    conditions = schema.DEFS["conditions"].fields
    scenario = schema.DEFS["scenario"].fields
    step = schema.DEFS["step"].fields
    assert set(scenario["cache"].values) == set(model.CacheMode.__args__)
    assert set(step["then"].values) == set(model.ThenMode.__args__)
    assert set(schema.DEFS["timing"].forms[0].values) == set(model.TimingMode.__args__)
    assert set(schema.DEFS["reply"].fields["fault"].fields["kind"].values) == set(model.FaultKind.__args__)
    assert "tool" in conditions["tool_choice"].values


# ---- JSON Schema ----------------------------------------------------------------------------

VALID = [
    """\
    name: weather-agent
    description: Agent calls get_weather, then answers.
    priority: 10
    match:
      model: "claude-sonnet-*"
      system: {contains: "weather"}
      header: {x-test-suite: agents}
    timing: realistic
    seed: 7
    cache: simulate
    limits: {requests_per_minute: 50}
    turns:
      - reply:
          content:
            - thinking: "The user wants the weather in Paris; I should call the tool."
            - text: "Let me check."
            - tool_use: {name: get_weather, input: {city: Paris}}
      - when: {tool_result: {name: get_weather}}
        reply:
          text: "It is 18 C and sunny in Paris."
    """,
    """\
    scenarios:
      - name: errors
        rules:
          - when: {last_user: {contains: "flaky"}}
            replies:
              - error: {status: 429}
              - error: {status: 529}
              - text: "finally"
            then: repeat_last
          - reply:
              error: {status: 529, type: overloaded_error, message: "Overloaded"}
              headers: {retry-after: "2"}
      - name: midstream
        timing: {ttft_ms: 400, tokens_per_second: 60, jitter: 0.15}
        rules:
          - when: {not: {stream: false}, turn: {min: 1}, body: {temperature: 0.5, system: {regex: "^x"}}}
            reply:
              text: {faker: paragraph, sentences: 3}
              fault: {after_events: 12, kind: error_event, error: {type: overloaded_error}}
          - reply:
              content:
                - thinking: {chunks: ["a", "b"]}
                  signature: "EqQBCk"
                - redacted_thinking: opaque
                - text: {chunks: ["Hel", "lo"]}
                - tool_use: {name: t, input: {a: 1}, id: toolu_1, input_chunks: ['{"a": 1}']}
              id: msg_1
              model: claude-x
              stop_reason: tool_use
              usage:
                input_tokens: 812
                cache_creation: {ephemeral_5m_input_tokens: 3}
                service_tier: standard
              timing: {ttft_ms: 900}
              recorded: {ttft_ms: 812, gaps_ms: [1, 2.5]}
      - name: wire-forms
        rules:
          - reply:
              content:
                - thinking: {thinking: "hmm", signature: "EqQBCk"}
                - redacted_thinking: {data: opaque}
                - tool_use: {name: t, caller: null}
                - text: {text: hello}
                - text: {faker: numerify, text: "###-####"}
                - text:
                    text: hello
                    citations: [{type: web_search_result_location, url: "https://a", title: t, cited_text: c}]
              diagnostics: {cache_miss_reason: null}
          - reply: {text: {text: hi, citations: [{type: web_search_result_location, url: "https://a"}]}}
          - reply: {error: {status: 502, body: {base64: "gP8+"}, content_type: text/plain}}
    """,
]
INVALID = [
    "name: s\nrepy: 1\nturns: [{reply: {text: hi}}]\n",  # unknown key
    "description: x\nturns: [{reply: {text: hi}}]\n",  # no name
    "name: s\n",  # neither turns nor rules
    "name: s\ntiming: fast\nturns: [{reply: {text: hi}}]\n",  # enum
    "name: s\npriority: high\nturns: [{reply: {text: hi}}]\n",  # type
    "name: s\nrules: [{reply: {text: a}, replies: [{text: b}]}]\n",  # both reply and replies
    "name: s\nrules: [{when: {stream: true}}]\n",  # neither
    "name: s\nturns: [{reply: {text: a, content: []}}]\n",  # text and content
    "name: s\nturns: [{reply: {content: [{text: a, thinking: b}]}}]\n",  # two block types
    "name: s\nturns: [{reply: {text: a, fault: {after_ms: 1}}}]\n",  # fault without kind
    "name: s\nturns: [{reply: {text: a}, then: cycle}]\n",  # then without replies
    "scenarios: [{name: a, turns: [{reply: {text: a}}]}]\nname: b\n",  # list file with more keys
    "name: s\nturns: [{reply: {error: {type: weird_error}}}]\n",  # unknown error type without status
    "name: s\nturns: [{reply: {error: {status: 502, body: {base64: gA}}}}]\n",  # base64 unpadded
    "name: s\nturns: [{reply: {text: a, fault: {kind: stall, error: {status: 500}}}}]\n",
    "name: s\nturns: [{reply: {content: [{raw: {anything: 1}}]}}]\n",  # raw without its type
    "name: s\nturns: [{reply: {content: [{text: {text: a, json: 1}}]}}]\n",  # wire form and another
    "name: s\nturns: [{reply: {text: {faker: words, chunks: [a]}}}]\n",  # two forms of text
    "name: s\nturns: [{reply: {text: {text: a, citations: [{type: page_location}]}}}]\n",
    "name: s\nturns: [{reply: {content: [{text: a, citations: [{type: url_location}]}]}}]\n",
    "name: s\nturns: [{reply: {content: [{text: a, citations: [{type: char_location, document_index: 0}]}]}}]\n",
    "name: s\nturns: [{reply: {content: [{text: a, citations: [{type: web_search_result_location, url: 5}]}]}}]\n",
]


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    generated = schema.json_schema()
    jsonschema.Draft202012Validator.check_schema(generated)
    return jsonschema.Draft202012Validator(generated)


def documents(text: str) -> list[Any]:
    return list(yaml.safe_load_all(textwrap.dedent(text)))


def test_json_schema_is_draft_2020_12_with_descriptions(validator: jsonschema.Draft202012Validator) -> None:
    generated = schema.json_schema()
    assert generated["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    scenario = generated["$defs"]["scenario"]
    assert scenario["additionalProperties"] is False and scenario["required"] == ["name"]
    assert scenario["properties"]["priority"] == {
        "type": "integer",
        "description": "Higher wins when several scenarios match; default 0.",
    }
    assert generated["$defs"]["timing"]["oneOf"][0]["enum"] == ["instant", "realistic", "recorded"]


@pytest.mark.parametrize("text", VALID)
def test_valid_examples_pass_the_json_schema_and_the_loader(
    text: str, validator: jsonschema.Draft202012Validator
) -> None:
    for document in documents(text):
        assert list(validator.iter_errors(document)) == []
    assert load_text(textwrap.dedent(text))


@pytest.mark.parametrize("text", INVALID)
def test_invalid_examples_fail_the_json_schema_and_the_loader(
    text: str, validator: jsonschema.Draft202012Validator
) -> None:
    assert not validator.is_valid(documents(text)[0])
    with pytest.raises(ScenarioError):
        load_text(text)


def test_an_unquoted_number_where_text_is_wanted_is_the_text_typed_to_both(
    validator: jsonschema.Draft202012Validator,
) -> None:
    """`x-retry: 2` means the header `2`; `fingerprint: 0123456701234567` keeps its zero (PyYAML
    reads an octal number)."""
    text = (
        "name: s\nmatch: {header: {x-retry: 2}, fingerprint: 0123456701234567}\nturns: [{reply: {text: a}}]\n"
    )
    (scenario,) = load_text(text)
    assert "'2'" in repr(scenario.match) and "'0123456701234567'" in repr(scenario.match)
    assert validator.is_valid(documents(text)[0])


def test_a_custom_error_type_with_its_status_passes_both(validator: jsonschema.Draft202012Validator) -> None:
    text = "name: s\nturns: [{reply: {error: {status: 418, type: teapot_error}}}]\n"
    assert validator.is_valid(documents(text)[0]) and load_text(text)


# ---- the schema and `mockbay validate` agree over every scenario file of the repository --------

SCENARIO_FILES = sorted(
    path
    for folder in ("tests/data", "scenarios", "mockbay/bundled", "examples/scenarios")
    for path in (REPO / folder).rglob("*.yaml")
    if "broken" not in path.parts and "roundtrip" not in path.parts  # roundtrip: a request and a reply each
)
BROKEN_FILES = sorted((REPO / "tests" / "data" / "broken").glob("*.yaml"))
# Broken files whose mistake no JSON Schema states: `mockbay validate` alone finds it (README).
VALIDATE_ONLY = {
    "bad_regex": "the regex must compile",
    "regex_nested_set": "the regex must compile without a warning, where warnings are errors",
    "exponent_without_dot": "1e3 is text to YAML 1.1, mockbay's reader, and a number to YAML 1.2",
    "duplicate_name_in_file": "names are unique across every file loaded",
    "input_chunks_differ": "the pieces must join to the input",
    "input_chunks_not_json": "the pieces must join to JSON",
    "signature_twice": "one key given in two mappings, beside thinking: and inside it",
    "citations_twice": "one key given in two mappings, beside text: and inside it",
    "turn_range_inverted": "min against max",
    "empty": "no document to check",
    "comments_only": "no document to check",
    "faker_unknown": "Faker's providers are the renderer's to know",
    "text_wire_with_faker": "a provider's arguments are Faker's to know",
    "duplicate_name_and_placeholder": "names are unique; placeholders are read inside the text",
    "placeholder_unclosed": "placeholders are read inside the text",
    "usage_given_and_omitted": "a key and the omit list that names it, two places of one mapping",
    "fault_error_with_body": "a fault's error is the one error definition, whose body the fault refuses",
}
# Files a YAML 1.2 reader refuses too (it also refuses a repeated key).
NOT_YAML = {
    "yaml_unclosed_flow",
    "yaml_bad_indent",
    "yaml_tab_indent",
    "error_in_second_document",
    "python_tag",
    "duplicate_key",
}


def editor_documents(path: Path) -> list[Any]:
    """The documents as editors and check-jsonschema read them: YAML 1.2, where `off` is a string."""
    return [d for d in YAML(typ="safe", pure=True).load_all(path.read_text()) if d is not None]


@pytest.mark.parametrize("path", SCENARIO_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_the_schema_accepts_every_file_validate_accepts(
    path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    assert load_registry([path])
    assert [e.message for d in editor_documents(path) for e in validator.iter_errors(d)] == []


@pytest.mark.parametrize("path", BROKEN_FILES, ids=lambda p: p.stem)
def test_the_schema_refuses_every_broken_file_it_can_state(
    path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    with pytest.raises(ScenarioError):
        load_registry([path])
    if path.stem in NOT_YAML:
        with pytest.raises(YAMLError):
            editor_documents(path)
        return
    errors = [e for d in editor_documents(path) for e in validator.iter_errors(d)]
    assert (errors == []) is (path.stem in VALIDATE_ONLY), [e.message for e in errors]


def test_the_exceptions_name_broken_files() -> None:
    assert set(VALIDATE_ONLY) | NOT_YAML <= {p.stem for p in BROKEN_FILES}
