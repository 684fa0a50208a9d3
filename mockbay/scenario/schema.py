"""The one list of keys a scenario file may hold (design/scenarios.md §1-9), as data.

A tiny spec language (`Obj`, `Str`, `OneOf`, ...) describes every key and form once. The loader
walks YAML nodes against it (so unknown keys, types and enums are checked in one place) and
`json_schema()` turns the same data into a Draft 2020-12 JSON Schema for editors. `Obj.model`
names the dataclass of model.py that a mapping becomes; the documented differences between keys
and fields are: `not` -> `not_`, a reply's `text:` shorthand -> one text block in `content`,
usage's `cache_creation: {...}` -> its `ephemeral_*` fields, and a block's type key -> `Block`
fields. `build` names the loader function that makes a model object from a checked value.
Imports nothing but the standard library and model.py; never reads files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mockbay.scenario import model

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True, kw_only=True, eq=False)
class Spec:
    """What one value may be. `doc` is its one-line description; `hint` is appended to type errors."""

    doc: str = ""
    build: str | None = None
    hint: str = ""


@dataclass(frozen=True, eq=False)
class Str(Spec):
    min_len: int = 0
    pattern: str | None = None  # a full-match regex, explained by `hint` when it fails


@dataclass(frozen=True, eq=False)
class Int(Spec):
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True, eq=False)
class Num(Spec):
    """A finite number, loaded as float."""

    minimum: float | None = None
    above: bool = False  # True: strictly greater than `minimum`
    maximum: float | None = None


@dataclass(frozen=True, eq=False)
class Bool(Spec):
    pass


@dataclass(frozen=True, eq=False)
class Enum(Spec):
    values: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class List(Spec):
    of: Spec
    min_items: int = 0


@dataclass(frozen=True, eq=False)
class Map(Spec):
    """A mapping with free (string) keys, such as header names or body paths."""

    values: Spec


@dataclass(frozen=True, eq=False)
class AnyValue(Spec):
    """Any YAML data that JSON can hold (tool input, Faker arguments)."""


@dataclass(frozen=True, eq=False)
class ValueOrMatcher(Spec):
    """A literal value, or a text matcher when written as a one-key matcher mapping ({regex: ...})."""

    matcher: Spec


@dataclass(frozen=True, eq=False)
class Ref(Spec):
    """A named definition of DEFS, for shared and recursive forms."""

    name: str


@dataclass(frozen=True, eq=False)
class OneOf(Spec):
    """Alternative forms, chosen by the YAML kind and, among mappings, by each form's `tag` key."""

    forms: tuple[Spec, ...]
    hints: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Obj(Spec):
    """A mapping with fixed keys. Group rules are (keys, why) pairs so messages can teach."""

    fields: Mapping[str, Spec]
    tag: str | None = None  # required key naming this form among a OneOf's mappings
    required: tuple[str, ...] = ()
    one_of: tuple[tuple[tuple[str, str], str], ...] = ()  # exactly one of the two keys
    any_of: tuple[tuple[tuple[str, str], str], ...] = ()  # at least one of the two keys
    conflicts: tuple[tuple[tuple[str, str], str], ...] = ()  # not both keys
    requires: tuple[tuple[tuple[str, str], str], ...] = ()  # the first key needs the second
    extra: Spec | None = None  # spec of keys not in `fields` (None: unknown keys are errors)
    hints: Mapping[str, str] = field(default_factory=dict)  # unknown key -> advice; `{key}` is filled in
    model: type | None = None
    renames: Mapping[str, str] = field(default_factory=dict)  # key -> model field

    def needed(self) -> tuple[str, ...]:
        return ((self.tag,) if self.tag else ()) + self.required


def resolve(spec: Spec) -> Spec:
    while isinstance(spec, Ref):
        spec = DEFS[spec.name]
    return spec


# ---- matchers (§3) --------------------------------------------------------------------------

_REGEX = Obj(
    {"regex": Str(doc="Python regular expression, searched anywhere in the text.")},
    tag="regex",
    build="regex",
)
_TEXT_MATCHER = OneOf(
    (
        Str(doc="Exact text.", build="equals"),
        Obj({"contains": Str(doc="Text that must occur somewhere.")}, tag="contains", build="contains"),
        _REGEX,
        Obj(
            {"any": List(Ref("text_matcher"), min_items=1, doc="Matchers of which at least one must hold.")},
            tag="any",
            build="any",
        ),
        Obj({"not": Ref("text_matcher", doc="A matcher that must fail.")}, tag="not", build="not"),
    ),
    doc="Text matcher: an exact string, {contains: ...}, {regex: ...}, {any: [...]} or {not: ...}.",
    hints={"equals": "an exact match is the plain string itself", "glob": "only model: takes a glob"},
)
_MODEL_MATCHER = OneOf(
    (Str(doc="Shell-style glob over the model name, e.g. claude-sonnet-*.", build="glob"), _REGEX),
    doc="Request model: a glob string or {regex: ...}.",
    hints={"contains": "model takes a glob ('claude-*sonnet*') or {regex: ...}"},
)
_BODY_VALUE = ValueOrMatcher(
    Ref("text_matcher"), doc="Literal value the field must equal, or a text matcher."
)


def _text_matcher(doc: str) -> Ref:
    return Ref("text_matcher", doc=doc)


_STEP_KEYS_HINT = "'{key}' goes beside when:, in the turn or rule, not inside the conditions"
_CONDITIONS = Obj(
    {
        "model": Ref("model_matcher", doc="Request model: glob string or {regex: ...}."),
        "system": _text_matcher("System prompt text (blocks joined with newlines)."),
        "last_user": _text_matcher("Text of the last user message (text blocks joined)."),
        "any_message": _text_matcher("Text of any one message."),
        "tool_result": Obj(
            {
                "name": Str(doc="Name of the tool_use the result answers."),
                "tool_use_id": Str(doc="Id of the tool_use the result answers."),
                "content": _text_matcher("Text of the tool_result content."),
                "is_error": Bool(doc="Whether the tool_result is marked is_error."),
            },
            doc="The last user message holds a tool_result with these properties.",
            model=model.ToolResultCondition,
        ),
        "tools": Obj(
            {
                "includes": List(Str(), doc="Tool names that must all be offered."),
                "count": Int(minimum=0, doc="Exact number of tools offered."),
            },
            doc="Tools the request offers.",
            model=model.ToolsCondition,
        ),
        "tool_choice": Enum(("auto", "any", "tool", "none"), doc="Request tool_choice type."),
        "thinking": Bool(doc="Extended thinking enabled in the request."),
        "stream": Bool(doc="The request asked for SSE streaming."),
        "header": Map(
            _text_matcher("Header value matcher."), doc="Request headers (names case-insensitive)."
        ),
        "metadata": _text_matcher("Request metadata.user_id."),
        "turn": OneOf(
            (
                Int(minimum=0, build="turn_exact", doc="Exact number of assistant messages so far."),
                Obj(
                    {
                        "min": Int(minimum=0, doc="At least this many assistant messages."),
                        "max": Int(minimum=0, doc="At most this many assistant messages."),
                    },
                    build="turn_range",
                    model=model.TurnRange,
                ),
            ),
            doc="Number of assistant messages so far: N or {min, max}.",
        ),
        "body": Map(_BODY_VALUE, doc="Any request field by dotted path (temperature, tools.0.name)."),
        "fingerprint": Str(doc="Stable hash of the normalised request, as recordings write it."),
        "not": Ref("conditions", doc="Conditions that must not all hold."),
    },
    doc="Conditions that must all hold.",
    build="conditions",
    hint="conditions are a mapping such as {last_user: {contains: ...}}",
    hints={
        "reply": _STEP_KEYS_HINT,
        "replies": _STEP_KEYS_HINT,
        "then": _STEP_KEYS_HINT,
        "when": "this already is a conditions mapping: write the conditions directly",
        "match": "this already is a conditions mapping: write the conditions directly",
    },
    model=model.Conditions,
    renames={"not": "not_"},
)

# ---- replies (§4, §5, §7) -------------------------------------------------------------------

_CHUNKS = Obj(
    {"chunks": List(Str(), min_items=1, doc="Exact text_delta pieces when streamed; joined in JSON.")},
    tag="chunks",
    build="chunks",
)
_TEXT_SOURCE = OneOf(
    (
        Str(doc="Literal text; may hold {{ placeholders }}.", build="literal"),
        Obj(
            {"faker": Str(min_len=1, doc="Faker provider, e.g. paragraph; other keys are its arguments.")},
            tag="faker",
            extra=AnyValue(doc="Argument of the Faker provider."),
            build="faker",
        ),
        _CHUNKS,
    ),
    doc="Text: a string, {faker: provider, ...args} or {chunks: [...]}.",
)
_THINKING_SOURCE = OneOf(
    (Str(doc="Thinking text.", build="literal"), _CHUNKS), doc="Thinking text: a string or {chunks: [...]}."
)
_NON_NEGATIVE = Int(minimum=0)
_ERROR = Obj(
    {
        "status": Int(
            minimum=400, maximum=599, doc="HTTP status; defaults from type (529 <-> overloaded_error)."
        ),
        "type": Str(min_len=1, doc="Anthropic error type; defaults from status."),
        "message": Str(doc="Error message; defaults to upstream's usual text."),
    },
    doc="An Anthropic-shaped error: {status, type, message}; status and type complete each other.",
    build="error",
    model=model.ErrorSpec,
)
_TOOL_USE = Obj(
    {
        "name": Str(min_len=1, doc="Tool name."),
        "input": Map(AnyValue(), doc="Tool arguments (a JSON object); default {} or parsed input_chunks."),
        "id": Str(min_len=1, doc="Fixed tool_use id; default derived from seed and request."),
        "input_chunks": List(Str(), min_items=1, doc="Streamed input_json_delta pieces; must join to input."),
    },
    required=("name",),
    doc="A tool call: {name, input, id, input_chunks}.",
    build="tool_use",
)
_BLOCK_HINTS = {
    "type": "write a block by its type key: - text: 'Hello' or - tool_use: {name: ..., input: {...}}",
    "signature": "signature: goes beside thinking: in a thinking block",
    **{
        key: "'{key}' goes inside the tool_use: - tool_use: {name: ..., input: {...}}"
        for key in ("name", "input", "id", "input_chunks")
    },
}
_BLOCK = OneOf(
    (
        Obj(
            {"text": Ref("text_source", doc="A text block.")},
            tag="text",
            build="text_block",
            hints=_BLOCK_HINTS,
        ),
        Obj(
            {
                "thinking": Ref("thinking_source", doc="A thinking block."),
                "signature": Str(doc="Thinking signature; generated deterministically unless given."),
            },
            tag="thinking",
            build="thinking_block",
            hints=_BLOCK_HINTS,
        ),
        Obj(
            {"redacted_thinking": Str(doc="Opaque data of a redacted_thinking block.")},
            tag="redacted_thinking",
            build="redacted_block",
            hints=_BLOCK_HINTS,
        ),
        Obj(
            {"tool_use": Ref("tool_use", doc="A tool_use block.")},
            tag="tool_use",
            build="tool_use_block",
            hints=_BLOCK_HINTS,
        ),
    ),
    doc="One content block: text, thinking (+signature), redacted_thinking or tool_use.",
    hint="a text block is written - text: 'Hello'",
    hints=_BLOCK_HINTS,
)
_TIMING = OneOf(
    (
        Enum(("instant", "realistic", "recorded"), build="timing_mode", doc="A timing mode."),
        Obj(
            {
                "mode": Enum(("instant", "realistic", "recorded"), doc="Mode that the numbers refine."),
                "ttft_ms": Num(minimum=0, doc="Milliseconds from request to first content delta."),
                "tokens_per_second": Num(minimum=0, above=True, doc="Output rate."),
                "jitter": Num(minimum=0, maximum=1, doc="Relative random spread of gaps (0.15 = 15%)."),
                "gap_ms": Num(minimum=0, doc="Fixed gap between consecutive deltas, instead of a rate."),
                "delta_tokens": Int(minimum=1, doc="Tokens per delta."),
            },
            conflicts=((("tokens_per_second", "gap_ms"), "gap_ms is a fixed gap instead of a rate"),),
            model=model.Timing,
        ),
    ),
    doc="instant | realistic | recorded, or {ttft_ms, tokens_per_second, jitter, gap_ms, delta_tokens}.",
)
_USAGE = Obj(
    {
        "input_tokens": Int(minimum=0, doc="Input tokens; computed when left out."),
        "output_tokens": Int(minimum=0, doc="Output tokens; computed when left out."),
        "cache_creation_input_tokens": Int(minimum=0, doc="Tokens written to the prompt cache."),
        "cache_read_input_tokens": Int(minimum=0, doc="Tokens read from the prompt cache."),
        "cache_creation": Obj(
            {
                "ephemeral_5m_input_tokens": Int(minimum=0, doc="Cache writes with the 5-minute lifetime."),
                "ephemeral_1h_input_tokens": Int(minimum=0, doc="Cache writes with the 1-hour lifetime."),
            },
            doc="Breakdown of cache writes by lifetime.",
        ),
        "service_tier": Enum(("standard", "priority", "batch"), doc="Service tier reported in usage."),
    },
    doc="Usage counters; any left out is computed.",
    build="usage",
    model=model.UsageSpec,
)
_NOT_WITH_ERROR = "an error reply is an HTTP error: it has only headers and timing"
_REPLY_KEYS_HINT = "'{key}' belongs inside the reply: reply: {{key}: ...}"
_REPLY = Obj(
    {
        "content": List(Ref("block"), doc="Content blocks in order."),
        "text": Ref("text_source", doc="Shorthand for content: [{text: ...}]."),
        "id": Str(min_len=1, doc="Fixed message id; default derived from seed and request."),
        "model": Str(min_len=1, doc="The reply's model field; default the request's model."),
        "stop_reason": Enum(
            ("end_turn", "max_tokens", "stop_sequence", "tool_use", "pause_turn", "refusal"),
            doc="Default: tool_use if any tool_use block, else end_turn.",
        ),
        "stop_sequence": Str(doc="The stop_sequence field of the reply."),
        "usage": _USAGE,
        "headers": Map(Str(), doc="Extra response headers."),
        "timing": Ref("timing", doc="Overrides the scenario's timing for this reply."),
        "error": Ref("error", doc="Answer with this HTTP error instead of a message."),
        "fault": Obj(
            {
                "kind": Enum(("error_event", "disconnect", "stall"), doc="How the stream fails."),
                "after_events": Int(minimum=0, doc="Fail after this many events (pings not counted)."),
                "after_ms": Num(minimum=0, doc="Fail after this many milliseconds."),
                "error": Ref("error", doc="The error of an error_event; default overloaded_error."),
            },
            required=("kind",),
            conflicts=((("after_events", "after_ms"), "a fault happens after a count of events or a time"),),
            doc="A stream that fails part-way.",
            build="fault",
            model=model.Fault,
        ),
        "recorded": Obj(
            {
                "ttft_ms": Num(minimum=0, doc="Observed milliseconds to the first event."),
                "gaps_ms": List(Num(minimum=0), doc="Observed gap before each event after the first."),
            },
            required=("ttft_ms",),
            doc="Timing a recording observed, replayed by timing: recorded.",
            model=model.Recorded,
        ),
    },
    doc="A reply: content (or text), or an error, plus presentation options.",
    build="reply",
    hint="a reply is a mapping such as {text: 'Hello'}",
    conflicts=(
        (("content", "text"), "text: is the shorthand for one text block; use one or the other"),
        *(
            (("error", key), _NOT_WITH_ERROR)
            for key in (
                "content",
                "text",
                "id",
                "model",
                "stop_reason",
                "stop_sequence",
                "usage",
                "fault",
                "recorded",
            )
        ),
    ),
    hints={
        "when": "when: goes beside reply:, in the turn or rule, not inside the reply",
        "reply": "reply: is nested inside a reply; remove one level",
        "replies": "replies: goes in the rule or turn, in place of reply:",
        "then": "then: goes in the rule or turn, beside replies:",
        **{key: "content blocks go in a list: content: [{{key}: ...}]" for key in ("thinking", "tool_use")},
        "redacted_thinking": "content blocks go in a list: content: [{redacted_thinking: ...}]",
    },
    model=model.Reply,
)
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
        **{key: _REPLY_KEYS_HINT for key in _REPLY.fields},
        **{key: "'{key}' is a condition: put it under when: {{key}: ...}" for key in _CONDITIONS.fields},
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
    "conditions": _CONDITIONS,
    "text_matcher": _TEXT_MATCHER,
    "model_matcher": _MODEL_MATCHER,
    "step": _STEP,
    "reply": _REPLY,
    "block": _BLOCK,
    "text_source": _TEXT_SOURCE,
    "thinking_source": _THINKING_SOURCE,
    "tool_use": _TOOL_USE,
    "timing": _TIMING,
    "error": _ERROR,
}
SCENARIO: Spec = Ref("scenario")


# ---- JSON Schema ----------------------------------------------------------------------------


def json_schema() -> dict[str, Any]:
    """Draft 2020-12 JSON Schema of a scenario file: one scenario, or {scenarios: [...]}."""
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "title": "mockbay scenario file",
        "description": "One scenario, or {scenarios: [...]}; see mockbay's scenarios.md.",
        "oneOf": [{"$ref": "#/$defs/scenario"}, _to_json(SCENARIO_LIST)],
        "$defs": {name: _to_json(spec) for name, spec in DEFS.items()},
    }


def _to_json(spec: Spec) -> dict[str, Any]:
    out = _SHAPES[type(spec)](spec)
    if spec.doc:
        out["description"] = spec.doc
    return out


def _str_json(spec: Str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "string"}
    if spec.min_len:
        out["minLength"] = spec.min_len
    if spec.pattern:
        out["pattern"] = f"^(?:{spec.pattern})$"
    return out


def _num_json(spec: Int | Num) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "integer" if isinstance(spec, Int) else "number"}
    if spec.minimum is not None:
        out["exclusiveMinimum" if isinstance(spec, Num) and spec.above else "minimum"] = spec.minimum
    if spec.maximum is not None:
        out["maximum"] = spec.maximum
    return out


def _obj_json(spec: Obj) -> dict[str, Any]:
    out: dict[str, Any] = {
        "type": "object",
        "properties": {key: _to_json(sub) for key, sub in spec.fields.items()},
        "additionalProperties": _to_json(spec.extra) if spec.extra else False,
    }
    if spec.needed():
        out["required"] = list(spec.needed())
    rules = [{"oneOf": [{"required": [a]}, {"required": [b]}]} for (a, b), _ in spec.one_of]
    rules += [{"anyOf": [{"required": [a]}, {"required": [b]}]} for (a, b), _ in spec.any_of]
    rules += [{"not": {"required": [a, b]}} for (a, b), _ in spec.conflicts]
    if rules:
        out["allOf"] = rules
    if spec.requires:
        out["dependentRequired"] = {a: [b] for (a, b), _ in spec.requires}
    return out


_SHAPES: dict[type[Spec], Any] = {
    Str: _str_json,
    Int: _num_json,
    Num: _num_json,
    Bool: lambda spec: {"type": "boolean"},
    Enum: lambda spec: {"enum": list(spec.values)},
    List: lambda spec: (
        {"type": "array", "items": _to_json(spec.of)}
        | ({"minItems": spec.min_items} if spec.min_items else {})
    ),
    Map: lambda spec: {"type": "object", "additionalProperties": _to_json(spec.values)},
    AnyValue: lambda spec: {},
    ValueOrMatcher: lambda spec: {},
    Ref: lambda spec: {"$ref": f"#/$defs/{spec.name}"},
    OneOf: lambda spec: {"oneOf": [_to_json(form) for form in spec.forms]},
    Obj: _obj_json,
}
