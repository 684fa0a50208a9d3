"""Frozen dataclasses for loaded scenarios: what a scenario file means, with no I/O.

The loader builds these from YAML; matching, rendering and timing read them. Field names follow
the keys of docs/scenario-contract.md (`not` becomes `not_`, since it is a Python keyword).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from mockbay.errors import RawBody, SourceMark
from mockbay.textmatch import TextMatcher

ThenMode = Literal["repeat_last", "cycle", "error"]
FaultKind = Literal["error_event", "disconnect", "stall"]
TimingMode = Literal["instant", "realistic", "recorded"]
CacheMode = Literal["simulate", "off"]
StepKind = Literal["rule", "turn"]
# The batch results a reply can script (docs/scenario-contract.md §11).
BatchOutcome = Literal["canceled", "expired"]
# The usage keys mockbay adds when a scenario leaves them out, which `usage: {omit: [...]}` keeps
# out of the reply instead (input and output tokens are always sent).
OMITTABLE_USAGE = (
    "cache_creation_input_tokens",
    "cache_read_input_tokens",
    "cache_creation",
    "service_tier",
    "inference_geo",
    "server_tool_use",
    "speed",
    "fallback_credit",
)
# Every stop reason of the wire (the SDK's BetaStopReason: `compaction` is the beta's), and the
# refusal categories of stop_details.
STOP_REASONS = (
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "pause_turn",
    "compaction",
    "refusal",
    "model_context_window_exceeded",
)
REFUSAL_CATEGORIES = ("cyber", "bio", "frontier_llm", "reasoning_extraction", "general_harms")

NO_MARK = SourceMark("<none>", 0, 0)


# ---- matchers -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolResultCondition:
    """`tool_result:` the last user message holds a tool_result with these properties."""

    name: str | None = None
    tool_use_id: str | None = None
    content: TextMatcher | None = None
    is_error: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolsCondition:
    """`tools:` the tool names (and tool types) the request offers."""

    includes: tuple[str, ...] = ()
    count: int | None = None
    types: tuple[str, ...] = ()  # a custom tool without `type` counts as `custom`


@dataclass(frozen=True, slots=True, kw_only=True)
class HasBlockCondition:
    """`has_block:` some message holds a content block of this type (inside tool results too)."""

    type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TurnRange:
    """`turn:` number of assistant messages so far; an int N is `min == max == N`."""

    min: int | None = None
    max: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class BodyCondition:
    """One `body:` entry: a dotted path and either a text matcher or a literal value."""

    path: str
    matcher: TextMatcher | None = None
    value: Any = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Conditions:
    """The contents of a `match:` or `when:` mapping: every present key must hold."""

    model: TextMatcher | None = None
    system: TextMatcher | None = None
    last_user: TextMatcher | None = None
    any_message: TextMatcher | None = None
    tool_result: ToolResultCondition | None = None
    tools: ToolsCondition | None = None
    tool_choice: str | None = None
    thinking: bool | None = None
    stream: bool | None = None
    platform: str | None = None
    output_format: bool | None = None
    has_block: HasBlockCondition | None = None
    header: tuple[tuple[str, TextMatcher], ...] = ()
    metadata: TextMatcher | None = None
    turn: TurnRange | None = None
    body: tuple[BodyCondition, ...] = ()
    fingerprint: str | None = None
    not_: Conditions | None = None
    mark: SourceMark = NO_MARK


# ---- replies --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class LiteralText:
    """Text written in the file; may hold `{{ placeholders }}`."""

    value: str


@dataclass(frozen=True, slots=True, kw_only=True)
class FakerText:
    """`{faker: provider, ...args}`: seeded Faker output."""

    provider: str
    args: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ChunkedText:
    """`{chunks: [...]}`: exact deltas when streamed, joined in JSON; `verbatim` pieces are sent as
    written, a `{{ name }}` in them text rather than a placeholder (a recorded answer's)."""

    pieces: tuple[str, ...]
    verbatim: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class JsonText:
    """`{json: ...}`: the value as compact JSON text, keys in the order written (structured outputs)."""

    value: str


TextSource = LiteralText | FakerText | ChunkedText | JsonText


@dataclass(frozen=True, slots=True, kw_only=True)
class Block:
    """One content block of a reply, in scenario terms (before rendering); `type` is a key of blocks.KINDS."""

    type: str
    text: TextSource | None = None  # text and thinking
    signature: str | None = None  # thinking
    data: str | None = None  # redacted_thinking
    name: str | None = None  # tool_use
    input: Any = None  # tool_use
    id: str | None = None  # tool_use
    input_chunks: tuple[str, ...] | None = None  # tool_use
    fields: tuple[tuple[str, Any], ...] = ()  # the kind's other wire fields, as written (blocks/)


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorSpec:
    """`error:` an HTTP error answer (or the payload of an `error_event` fault); `error_code` is
    the body's `error.details.error_code`, sent only when given; `raw` the body sent instead of
    the envelope, from `body:` and `content_type:`."""

    status: int
    type: str
    message: str
    error_code: str | None = None
    raw: RawBody | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Fault:
    """`fault:` a stream that fails part-way."""

    kind: FaultKind
    after_events: int | None = None
    after_ms: float | None = None
    error: ErrorSpec | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Timing:
    """`timing:` a mode, or explicit numbers (mode None), or both (numbers refine the mode)."""

    mode: TimingMode | None = None
    ttft_ms: float | None = None
    tokens_per_second: float | None = None
    jitter: float | None = None
    gap_ms: float | None = None
    delta_tokens: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Recorded:
    """`recorded:` what a recording observed: time to first event and the gap before each later one."""

    ttft_ms: float
    gaps_ms: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageSpec:
    """`usage:` counters given in the scenario; None means computed (docs/scenario-contract.md §6)."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    ephemeral_5m_input_tokens: int | None = None  # from `cache_creation: {...}`
    ephemeral_1h_input_tokens: int | None = None  # from `cache_creation: {...}`
    service_tier: str | None = None
    server_tool_use: Mapping[str, int] | None = None  # a partly given object is completed from the blocks
    inference_geo: str | None = None
    speed: str | None = None
    output_tokens_details: Mapping[str, int] | None = None
    fallback_credit: Mapping[str, Any] | None = None  # a fallback_credit_token's outcome, as sent
    iterations: Sequence[Mapping[str, Any]] | None = None  # server-side fallbacks' attempts, as sent
    omit: tuple[str, ...] = ()  # of OMITTABLE_USAGE: not sent, neither computed nor given


@dataclass(frozen=True, slots=True, kw_only=True)
class Reply:
    """`reply:` (or one item of `replies:`): content, or an error, plus presentation options."""

    content: tuple[Block, ...] = ()
    id: str | None = None
    model: str | None = None
    stop_reason: str | None = None
    stop_sequence: str | None = None
    stop_details: Mapping[str, Any] | None = None
    container: Mapping[str, Any] | None = None
    context_management: Mapping[str, Any] | None = None
    diagnostics: Mapping[str, Any] | None = None
    usage: UsageSpec | None = None
    headers: tuple[tuple[str, str], ...] = ()
    timing: Timing | None = None
    error: ErrorSpec | None = None
    fault: Fault | None = None
    recorded: Recorded | None = None
    batch_result: BatchOutcome | None = None
    mark: SourceMark = NO_MARK
    # Whether the request alone decides this reply (no fault, no `{{ request_id }}` in its text),
    # worked out once here so the reply memo does not ask it of every request.
    request_decides: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "request_decides", self.fault is None and not _mentions_request_id(self))


# ---- structure ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """A rule or a turn: optional conditions, then one reply or a sequence of replies."""

    kind: StepKind
    index: int
    when: Conditions | None = None
    reply: Reply | None = None
    replies: tuple[Reply, ...] = ()
    then: ThenMode = "repeat_last"
    mark: SourceMark = NO_MARK

    @property
    def label(self) -> str:
        return f"{self.kind}s[{self.index}]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """`limits:` simulated per-minute rate limits."""

    requests_per_minute: int | None = None
    input_tokens_per_minute: int | None = None
    output_tokens_per_minute: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Scenario:
    """One named scenario: when it applies and what it answers."""

    name: str
    description: str = ""
    priority: int = 0
    match: Conditions | None = None
    timing: Timing | None = None
    seed: int | None = None
    cache: CacheMode | None = None
    limits: Limits | None = None
    rules: tuple[Step, ...] = ()
    turns: tuple[Step, ...] = ()
    mark: SourceMark = NO_MARK


def _mentions_request_id(reply: Reply) -> bool:
    for block in reply.content:
        source = block.text
        texts = (
            (source.value,)
            if isinstance(source, LiteralText)
            else source.pieces
            if isinstance(source, ChunkedText) and not source.verbatim
            else ()
        )
        if any("request_id" in text for text in texts):
            return True
    return False
