"""The one list of keys a scenario file may hold (docs/scenario-contract.md §1-9), as data.

Every key and form is described once, in spec.py's small language: matchers and conditions in
keys_match.py, replies in keys_reply.py, turns, rules and scenarios here, all gathered in `DEFS`.
The loader walks YAML nodes against it (so unknown keys, types and enums are checked in one place)
and `json_schema()` turns the same data into a Draft 2020-12 JSON Schema for editors. `Obj.model`
names the dataclass of model.py that a mapping becomes; the documented differences between keys
and fields are: `not` -> `not_`, a reply's `text:` shorthand -> one text block in `content`,
usage's `cache_creation: {...}` -> its `ephemeral_*` fields, an error's `body` and `content_type`
-> its `raw`, and a block's type key -> `Block` fields. `build` names the function of
builders.py that makes a model object from a checked value.
Imports nothing but the standard library, model.py, spec.py, keys_*.py and schema_json.py; never
yaml, never the loader, never reads files.
"""

from __future__ import annotations

from typing import Any

from mockbay.scenario import model
from mockbay.scenario.keys_match import CONDITIONS, MODEL_MATCHER, TEXT_MATCHER
from mockbay.scenario.keys_reply import (
    BLOCK,
    CITATION,
    ERROR,
    REPLY,
    TEXT_SOURCE,
    THINKING_SOURCE,
    TIMING,
    TOOL_USE,
)
from mockbay.scenario.schema_json import JSON_SCHEMA_DIALECT, to_json
from mockbay.scenario.spec import Enum, Int, List, Obj, OneOf, Ref, Spec, Str

# What other modules and the tests read here besides the data; the other spec classes are spec.py's.
__all__ = ["DEFS", "SCENARIO", "SCENARIO_LIST", "Obj", "OneOf", "Ref", "Spec", "json_schema", "resolve"]

# ---- turns, rules and scenarios (§1, §2, §6) ------------------------------------------------

_REPLY_KEYS_HINT = "'{key}' belongs inside the reply: reply: {{key}: ...}"
_STEP = Obj(
    {
        "when": Ref("conditions", doc="Extra conditions for this turn or rule."),
        "reply": Ref("reply", doc="The answer."),
        "replies": List(Ref("reply"), min_items=1, doc="Answers served in order, per session; then `then`."),
        "then": Enum(
            ("repeat_last", "cycle", "error"), doc="After the last of replies: repeat_last | cycle | error."
        ),
    },
    one_of=(
        (("reply", "replies"), "a turn or rule answers with reply: (one answer) or replies: (a sequence)"),
    ),
    requires=((("then", "replies"), "then: says what follows the last of replies:"),),
    doc="A turn or rule: optional when:, then reply: or replies:.",
    build="step",
    hints={
        "match": "inside a turn or rule, conditions go under when:",
        **{key: _REPLY_KEYS_HINT for key in REPLY.fields},
        **{key: "'{key}' is a condition: put it under when: {{key}: ...}" for key in CONDITIONS.fields},
        "model": "'model' goes under when: (to match it) or inside reply: (to set the reply's model)",
    },
    model=model.Step,
)
_IN_STEP = "'{key}' belongs to a turn or rule: turns: [{reply: ...}] or rules: [{when: ..., reply: ...}]"
_SCENARIO = Obj(
    {
        "name": Str(
            min_len=1,
            pattern=r"[^/]+",
            hint="it must not hold '/' (it is used in /s/NAME)",
            doc="Unique name across everything loaded; used to pin (/s/NAME).",
        ),
        "description": Str(doc="What the scenario is for."),
        "priority": Int(doc="Higher wins when several scenarios match; default 0."),
        "match": Ref("conditions", doc="Which requests this scenario answers (all must hold)."),
        "timing": Ref("timing", doc="Default timing of this scenario's replies."),
        "seed": Int(doc="Makes generated text, ids and jitter reproducible."),
        "cache": Enum(
            ("simulate", "off"), doc="Prompt-cache usage simulation; default the server's --cache."
        ),
        "limits": Obj(
            {
                "requests_per_minute": Int(minimum=1, doc="Requests allowed per minute."),
                "input_tokens_per_minute": Int(minimum=1, doc="Input tokens allowed per minute."),
                "output_tokens_per_minute": Int(minimum=1, doc="Output tokens allowed per minute."),
            },
            doc="Simulated per-minute rate limits.",
            model=model.Limits,
        ),
        "turns": List(
            Ref("step"),
            min_items=1,
            doc="A scripted conversation: turn N answers after N assistant messages.",
        ),
        "rules": List(Ref("step"), min_items=1, doc="Request -> reply rules, tried in order before turns."),
    },
    required=("name",),
    any_of=(
        (("turns", "rules"), "a scenario answers with turns: (a conversation) or rules: (request -> reply)"),
    ),
    doc="One scenario: match, then rules and turns.",
    build="scenario",
    hint="a scenario is a mapping with name: and turns: or rules:",
    hints={
        "reply": _IN_STEP,
        "replies": _IN_STEP,
        "then": _IN_STEP,
        "when": "a scenario's own conditions go under match:; when: belongs to a turn or rule",
        "scenarios": "scenarios: must be the only key of its document",
        **{
            key: "'{key}' belongs to a reply, inside a turn or rule: turns: [{reply: {{key}: ...}}]"
            for key in ("content", "text", "error", "fault", "usage", "headers", "stop_reason", "recorded")
        },
    },
    model=model.Scenario,
)
SCENARIO_LIST = Obj(
    {"scenarios": List(Ref("scenario"), min_items=1, doc="The scenarios of this file.")},
    required=("scenarios",),
    doc="A file holding several scenarios.",
    hints={
        key: "a file with scenarios: holds only that list; move '{key}' into one of its items"
        for key in _SCENARIO.fields
    },
)

DEFS: dict[str, Spec] = {
    "scenario": _SCENARIO,
    "conditions": CONDITIONS,
    "text_matcher": TEXT_MATCHER,
    "model_matcher": MODEL_MATCHER,
    "step": _STEP,
    "reply": REPLY,
    "block": BLOCK,
    "text_source": TEXT_SOURCE,
    "thinking_source": THINKING_SOURCE,
    "citation": CITATION,
    "tool_use": TOOL_USE,
    "timing": TIMING,
    "error": ERROR,
}
SCENARIO: Spec = Ref("scenario")


def resolve(spec: Spec) -> Spec:
    while isinstance(spec, Ref):
        spec = DEFS[spec.name]
    return spec


def json_schema() -> dict[str, Any]:
    """Draft 2020-12 JSON Schema of one YAML document of a scenario file: a scenario, or
    {scenarios: [...]}. The choice is an if/then/else on the `scenarios` key rather than a `oneOf`,
    so an editor reports a typo against the one shape the document has (a `oneOf` reported it
    against both, "not valid under any of the given schemas")."""
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "mockbay scenario file",
        "description": (
            "One YAML document of a mockbay scenario file: a scenario, or {scenarios: [...]}. A file may "
            "hold several documents separated by ---, each checked alone. Reference: the Scenarios "
            "section of mockbay's README.md; `mockbay validate FILE` checks what a schema cannot."
        ),
        "type": "object",
        "if": {"required": ["scenarios"]},
        "then": to_json(SCENARIO_LIST),
        "else": {"$ref": "#/$defs/scenario"},
        "$defs": {name: to_json(spec) for name, spec in DEFS.items()},
    }
