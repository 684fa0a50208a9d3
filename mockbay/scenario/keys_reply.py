"""Keys of a reply (docs/scenario-contract.md §4-7): text sources, blocks, tool_use, errors, faults, timing.

Data written in spec.py's language, one `doc` per key; schema.py gathers it into DEFS.
Imports spec.py, model.py, the block kinds (each kind writes its own key; the citation union,
a named definition, is citations.py's) and the closed choice of error types; never yaml.
"""

from __future__ import annotations

from typing import get_args

from mockbay.blocks import KINDS, citations
from mockbay.blocks.base import BLOCK_HINTS
from mockbay.blocks.tools import TOOL_CALL
from mockbay.scenario import model
from mockbay.scenario.spec import AnyValue, Bool, Enum, Int, List, Map, Num, Obj, OneOf, Ref, Str
from mockbay.wire import headers
from mockbay.wire.errors import TYPE_STATUS

_CHUNKS = Obj(
    {
        "chunks": List(Str(), min_items=1, doc="Exact text_delta pieces when streamed; joined in JSON."),
        "verbatim": Bool(
            doc="Send the pieces as written: a {{ name }} in them is text, not a placeholder "
            "(the recorder writes it for answers holding {{). Default false."
        ),
    },
    tag="chunks",
    build="chunks",
)
_LITERAL = Str(doc="Literal text; may hold {{ placeholders }}.", build="literal")
TEXT_SOURCE = OneOf(
    (
        _LITERAL,
        Obj(
            {
                "faker": Str(min_len=1, doc="Faker provider, e.g. paragraph; other keys are its arguments."),
                # named, so that a mapping holding `faker` keeps it as an argument, not the wire form
                "text": AnyValue(doc="The pattern of numerify, lexify, bothify or hexify."),
            },
            tag="faker",
            extra=AnyValue(doc="Argument of the Faker provider."),
            build="faker",
        ),
        _CHUNKS,
        Obj(
            {"json": AnyValue(doc="Any JSON value; sent as compact JSON text, keys in the order written.")},
            tag="json",
            build="json_text",
        ),
        Obj(
            {"text": _LITERAL, "citations": citations.CITATIONS},
            tag="text",
            build="wire_fields",
            doc="The wire's fields of a text block: {text, citations}.",
        ),
    ),
    doc="Text: a string, {faker: provider, ...args}, {chunks: [...]}, {json: value} or the wire's "
    "{text: ..., citations: [...]}.",
    hints={"citations": "the wire's form holds the text too: text: {text: ..., citations: [...]}"},
)
THINKING_SOURCE = OneOf(
    (
        Str(doc="Thinking text.", build="literal"),
        _CHUNKS,
        Obj(
            {
                "thinking": Str(doc="Thinking text.", build="literal"),
                "signature": Str(doc="Thinking signature; generated deterministically unless given."),
            },
            tag="thinking",
            build="wire_fields",
            doc="The wire's fields of a thinking block: {thinking, signature}.",
        ),
    ),
    doc="Thinking text: a string, {chunks: [...]} or the wire's {thinking: ..., signature: ...}.",
    hints={"signature": "the wire's form holds the text too: thinking: {thinking: ..., signature: ...}"},
)
BASE64 = r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?"
ERROR = Obj(
    {
        "status": Int(
            minimum=400, maximum=599, doc="HTTP status; defaults from type (529 <-> overloaded_error)."
        ),
        "type": Str(min_len=1, doc="Anthropic error type; defaults from status."),
        "message": Str(doc="Error message; defaults to upstream's usual text."),
        "error_code": Str(
            min_len=1,
            doc="The body's error.details.error_code (enforced_spend_limit_reached, ...); sent only "
            "when given.",
        ),
        "body": OneOf(
            (
                Str(doc="The body as text, sent UTF-8 encoded."),
                Obj(
                    {
                        "base64": Str(
                            pattern=BASE64,
                            hint="standard base64 (A-Z a-z 0-9 + /, padded with = to a multiple of "
                            "4 characters, on one line)",
                            doc="The body's bytes in standard base64: for bytes that are not UTF-8 text.",
                        )
                    },
                    tag="base64",
                    build="base64_bytes",
                ),
            ),
            doc="The answer's body, sent as written instead of the error envelope: what a proxy in "
            "front of the API answers (an HTML 502, a plain-text 503, an empty 504, a gateway's own "
            "JSON). Text, or {base64: ...} for bytes that are not UTF-8. The recorder writes it for "
            "an error answer the envelope cannot repeat.",
        ),
        "content_type": Str(
            min_len=1,
            doc="The Content-Type of body:; default none (application/octet-stream for a body that "
            "is not empty, as HTTP has it).",
        ),
    },
    doc="An Anthropic-shaped error: {status, type, message, error_code}; status and type complete "
    "each other. Or {status, body, content_type}: that body as written.",
    conflicts=(
        (("body", "message"), "body: is sent instead of the envelope that holds message:"),
        (("body", "error_code"), "body: is sent instead of the envelope that holds error_code:"),
    ),
    requires=((("content_type", "body"), "content_type: is the type of body:"),),
    known=(("type", tuple(TYPE_STATUS), "status", "give status: too for a custom type"),),
    hints={"details": "the wire's error.details.error_code is written error_code: beside type:"},
    build="error",
    model=model.ErrorSpec,
)
TOOL_USE = TOOL_CALL
CITATION = citations.SPEC
BLOCK = OneOf(
    tuple(kind.spec() for kind in KINDS.values()),
    doc="One content block, written by its wire type: " + ", ".join(KINDS) + ".",
    hint="a text block is written - text: 'Hello'",
    hints=BLOCK_HINTS,
)
TIMING = OneOf(
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
        "server_tool_use": Obj(
            {
                "web_search_requests": Int(
                    minimum=0, doc="Web searches run; default counted from the blocks."
                ),
                "web_fetch_requests": Int(minimum=0, doc="Web fetches run; default counted from the blocks."),
            },
            doc="Server tool requests; counted from the reply's server_tool_use blocks when left out.",
        ),
        "inference_geo": Str(
            min_len=1, doc="Where inference ran; default the request's, else not_available."
        ),
        "speed": Enum(
            ("standard", "fast"), doc="The speed reported in usage; default the request's, else none."
        ),
        "output_tokens_details": Obj(
            {"thinking_tokens": Int(minimum=0, doc="Output tokens spent on thinking.")},
            doc="Breakdown of output tokens; sent only when given.",
        ),
        "fallback_credit": Obj(
            {
                "status": AnyValue(
                    doc="{type: redeemed}, or {type: not_applied, reason: ..., remove_to_redeem: [...]}."
                )
            },
            required=("status",),
            doc="The outcome of the request's fallback_credit_token; default redeemed when it carries one.",
        ),
        "iterations": List(
            Map(AnyValue()),
            doc="The attempts of server-side fallbacks, as the wire has them ({type: message | "
            "fallback_message, model, output_tokens, ...}); computed when the request's fallbacks "
            "ran, else sent only when given.",
        ),
        "omit": List(
            Enum(model.OMITTABLE_USAGE),
            doc="Usage fields left out of the reply rather than computed, as an answer that did not "
            "carry them (a Bedrock answer has no cache_creation or service_tier); the recorder writes "
            "those the original lacked.",
        ),
    },
    doc="Usage counters; any left out is computed, unless named in omit.",
    build="usage",
    model=model.UsageSpec,
)
_NOT_WITH_ERROR = "an error reply is an HTTP error: it has only headers and timing"
REPLY = Obj(
    {
        "content": List(Ref("block"), doc="Content blocks in order."),
        "text": Ref("text_source", doc="Shorthand for content: [{text: ...}]."),
        "id": Str(min_len=1, doc="Fixed message id; default derived from seed and request."),
        "model": Str(min_len=1, doc="The reply's model field; default the request's model."),
        "stop_reason": Enum(
            model.STOP_REASONS,
            doc="Default: refusal with stop_details, tool_use if any tool_use block, else end_turn.",
        ),
        "stop_sequence": Str(doc="The stop_sequence field of the reply."),
        "stop_details": Obj(
            {
                "type": Enum(("refusal",), doc="The kind of detail; refusal (the default)."),
                "category": Enum(
                    model.REFUSAL_CATEGORIES, doc="The policy area of a refusal; default null.", nullable=True
                ),
                "explanation": Str(doc="Why the model refused; default null.", nullable=True),
                "fallback_credit_token": Str(
                    doc="The credit for a retry on a fallback model; default minted under the "
                    "fallback-credit beta.",
                ),
                "fallback_has_prefill_claim": Bool(
                    doc="Whether the retry may append the partial reply as a prefill; default "
                    "derived with the minted credit."
                ),
            },
            doc="Why output stopped, as the wire's stop_details (with stop_reason: refusal).",
        ),
        "container": Obj(
            {
                "id": Str(min_len=1, doc="Container id; default derived from seed and request."),
                "expires_at": Str(min_len=1, doc="RFC 3339 time; default derived from seed and request."),
                "skills": List(Map(AnyValue()), doc="Skills loaded in the container."),
            },
            doc="The message's container; a code-execution result brings one unless given.",
        ),
        "context_management": Obj(
            {"applied_edits": List(Map(AnyValue()), doc="Context edits upstream applied.")},
            required=("applied_edits",),
            doc="Context management the request's edits applied (beta).",
        ),
        "diagnostics": Obj(
            {
                "cache_miss_reason": Map(
                    AnyValue(),
                    nullable=True,
                    doc="Why the cache missed: {type: model_changed | system_changed | ..., ...}; "
                    "null: diagnosis pending.",
                )
            },
            doc="Request-level diagnostics (for a request that sent diagnostics.previous_message_id).",
        ),
        "usage": _USAGE,
        "headers": Map(
            Str(pattern=headers.VALUE_PATTERN, hint="a header value is one line, without control characters"),
            keys=Str(
                pattern=headers.NAME_PATTERN,
                hint="a header name is a token (letters, digits and !#$%&'*+-.^_`|~), and not one the "
                f"server writes for every answer ({', '.join(headers.SERVERS_OWN)})",
            ),
            doc="Extra response headers.",
        ),
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
            applies=(("error", "kind", "error_event"),),
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
        "batch_result": Enum(
            get_args(model.BatchOutcome),
            doc="Inside a Message Batch, this request's result instead of a message; ignored elsewhere.",
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
                "stop_details",
                "container",
                "context_management",
                "diagnostics",
                "usage",
                "fault",
                "recorded",
                "batch_result",
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
