"""Keys of what a request must look like (docs/scenario-contract.md §3): text and model matchers, conditions.

Data written in spec.py's language, one `doc` per key; schema.py gathers it into DEFS.
Imports nothing but spec.py, model.py, the platforms' closed choice and the fingerprint's form;
never yaml.
"""

from __future__ import annotations

from mockbay import fingerprint
from mockbay.platforms import PLATFORMS
from mockbay.scenario import model
from mockbay.scenario.spec import Bool, Enum, Int, List, Map, Obj, OneOf, Ref, Str, ValueOrMatcher

_REGEX = Obj(
    {"regex": Str(doc="Python regular expression, searched anywhere in the text.")},
    tag="regex",
    build="regex",
)
TEXT_MATCHER = OneOf(
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
MODEL_MATCHER = OneOf(
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
CONDITIONS = Obj(
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
                "types": List(
                    Str(),
                    doc="Tool types that must all be offered (web_search_20250305; custom tools: custom).",
                ),
            },
            doc="Tools the request offers.",
            model=model.ToolsCondition,
        ),
        "tool_choice": Enum(("auto", "any", "tool", "none"), doc="Request tool_choice type."),
        "thinking": Bool(doc="Extended thinking enabled in the request."),
        "stream": Bool(doc="The request asked for SSE streaming."),
        "output_format": Bool(doc="The request asks for structured output (output_config.format)."),
        "has_block": Obj(
            {"type": Str(min_len=1, doc="A content block type: image, document, search_result, ...")},
            required=("type",),
            doc="Some message holds a block of this type (tool_result content included).",
            model=model.HasBlockCondition,
        ),
        "platform": Enum(
            PLATFORMS, doc="The wire form the request came in on (Anthropic, Bedrock, Vertex AI)."
        ),
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
        "fingerprint": Str(
            pattern=fingerprint.PATTERN,
            doc="Stable hash of the normalised request, as recordings write it.",
            hint=f"a fingerprint is {fingerprint.DIGITS} lowercase hex digits, as recordings write it",
        ),
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
