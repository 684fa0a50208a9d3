"""Parsed JSON body → `MessagesRequest`, or `ApiError(400, "invalid_request_error")` as upstream.

Messages reuse upstream's texts and `path: reason` form (docs/wire.md §3.3, docs/wire-notes.md).
Two modes: strict (the default) first checks the SDK-generated schema and the tool-set and role
rules (`wire.strict`), then the hand-written rules below, then the model's rules
(`wire.model_rules`) and, for a create, structured outputs' schema subset
(`wire.schema_subset`); lenient runs the hand-written rules alone, which let unknown fields and
values through. Both accept any model string, `system`-role messages and same-role runs, as
upstream does. Any JSON value as body ends in a view or an `ApiError`, nothing else. This module
holds the entry points and the top-level rules; `wire.conversation` the rules over messages,
`wire.fieldtypes` the value checks and `wire.view` the derived facts. Stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mockbay.wire.cachemarks import check_cache_ttls
from mockbay.wire.compaction import check_compaction_request
from mockbay.wire.conversation import (
    TEXT_ONLY,
    check_breakpoints,
    check_cache_control,
    check_carried,
    check_message,
    check_text,
    check_thinking_prefill,
    check_tool_pairs,
)
from mockbay.wire.fieldtypes import array, bad, field, integer, obj, string, tagged, unit
from mockbay.wire.limits import Carried, too_many_messages
from mockbay.wire.model_rules import THINKING_ON, check_model_rules
from mockbay.wire.models import find_model
from mockbay.wire.request import FIRST_PARTY, FORCED_TOOL_CHOICES, MessagesRequest, Origin
from mockbay.wire.schema_subset import check_schema_subset
from mockbay.wire.strict import beta_entries, check_shape, check_tools_and_roles
from mockbay.wire.typed_rules import TOOL_NAME, Facts, typed_facts
from mockbay.wire.view import build_view

TOOL_CHOICES = ("auto", "any", "tool", "none")
THINKING_TYPES = ("enabled", "disabled", "between_tools", "adaptive")
MIN_BUDGET = 1024
THINKING_MIN_TOP_P = 0.95  # with thinking on, `top_p` may be 0.95 to 1 (docs/wire.md §9)
INTERLEAVED_BETA = "interleaved-thinking-2025-05-14"
NAME_PATTERN = f"^{TOOL_NAME.pattern}$"  # as upstream's message spells it


def validate_messages(
    body: object, headers: Mapping[str, str], *, strict: bool = True, origin: Origin = FIRST_PARTY
) -> MessagesRequest:
    """`POST /v1/messages`: `max_tokens` is required and capped by the model (§12.3)."""
    return _validate(body, headers, counting=False, strict=strict, origin=origin)


def validate_count_tokens(
    body: object, headers: Mapping[str, str], *, strict: bool = True
) -> MessagesRequest:
    """`POST /v1/messages/count_tokens`: the same rules without `max_tokens` (view gets 0)."""
    return _validate(body, headers, counting=True, strict=strict, origin=FIRST_PARTY)


def _validate(
    body: object, headers: Mapping[str, str], *, counting: bool, strict: bool, origin: Origin
) -> MessagesRequest:
    """Strict mode checks the schema first, then the rules both modes share, then the model's.
    The shared rules up to tool pairing (included) run typed (`wire.typed_rules`) on a body the schema
    accepted; when one of them refuses it, the full rules run to name the error as lenient would.
    Header names are lower-cased here, once, for the rules and the view."""
    headers = {name.lower(): value for name, value in headers.items()}
    if not strict:
        return _check_rules(body, headers, counting=counting, origin=origin)
    if isinstance(body, dict):  # before the schema walks every message, so the refusal is cheap
        _check_message_count(body.get("messages"))
    check_shape(body, headers, counting=counting)
    assert isinstance(body, dict)  # the schema accepted it, so it is an object
    facts = typed_facts(body, counting=counting)
    if facts is None:
        if body["messages"]:
            check_tools_and_roles(body)
        view = _check_rules(body, headers, counting=counting, origin=origin)
    else:
        view = _finish_typed(body, headers, facts, counting=counting, origin=origin)
    check_model_rules(body, counting=counting)
    if not counting:
        check_compaction_request(body)
        if "output_config" in body or "output_format" in body or "tools" in body:
            check_schema_subset(body)  # upstream counts tokens without compiling a grammar
    if body.get("fallback_credit_token") is not None and body.get("fallbacks") is not None:
        raise bad(
            "fallback_credit_token: cannot be combined with `fallbacks`: redeem the token on a "
            "client-side retry, or let the server fall back"
        )
    return view


def _check_rules(body: object, headers: dict[str, str], *, counting: bool, origin: Origin) -> MessagesRequest:
    """The hand-written rules: types where upstream's texts are known, and everything semantic."""
    body = obj(body, "")
    for key in ("messages", "model") if counting else ("max_tokens", "messages", "model"):
        field(body, "", key)
    model = string(body["model"], "model")
    max_tokens = 0 if counting else _max_tokens(body["max_tokens"], model)
    messages = array(body["messages"], "messages")
    if not messages:
        raise bad("messages: at least one message is required")
    _check_message_count(messages)
    _check_scalars(body)
    _check_system(body.get("system"))
    tool_names = _check_tools(body.get("tools"))
    carried = Carried()
    for index, message in enumerate(messages):
        check_message(message, index, index == len(messages) - 1, carried)
    check_tool_pairs(messages)
    check_cache_control(body)
    check_carried(carried)
    choice, choice_name = _check_tool_choice(body.get("tool_choice"), tool_names)
    thinking = _check_thinking(body, max_tokens if not counting else None, choice, headers)
    return build_view(body, headers, max_tokens, tool_names, choice, choice_name, thinking, origin)


def _finish_typed(
    body: dict[str, Any], headers: dict[str, str], facts: Facts, *, counting: bool, origin: Origin
) -> MessagesRequest:
    """The rules after tool pairing, for a body the schema and `typed_facts` accepted."""
    max_tokens, tool_names, marks, long_lived = facts
    check_breakpoints(marks)
    if long_lived:
        check_cache_ttls(body)
    choice = body.get("tool_choice")
    kind = choice_name = None
    if choice is not None:
        kind = choice["type"]
        if kind == "tool":
            choice_name = _offered(choice["name"], tool_names)
    thinking = body.get("thinking")
    on = thinking is not None and _thinking_rules(
        body, thinking["type"], thinking.get("budget_tokens"), None if counting else max_tokens, kind, headers
    )
    return build_view(body, headers, max_tokens, tool_names, kind, choice_name, on, origin)


# -- top-level fields ------------------------------------------------------------------------


def _check_message_count(messages: object) -> None:
    """Upstream's limit on messages; a value that is no list is left to the rules naming its type."""
    if isinstance(messages, list):
        refusal = too_many_messages(len(messages))
        if refusal is not None:
            raise bad(refusal)


def _max_tokens(value: object, model: str) -> int:
    max_tokens = integer(value, "max_tokens", 0)
    info = find_model(model)
    if info is not None and info.output_cap_published and max_tokens > info.max_tokens:
        raise bad(
            f"max_tokens: {max_tokens} > {info.max_tokens}, which is the maximum allowed number of "
            f"output tokens for {model}"
        )
    return max_tokens


def _check_scalars(body: dict[str, Any]) -> None:
    """Optional scalar fields; `null` counts as absent everywhere."""
    if body.get("stream") is not None and not isinstance(body["stream"], bool):
        raise bad("stream: Input should be a valid boolean")
    _check_ranges(body)
    if body.get("metadata") is not None:
        user_id = obj(body["metadata"], "metadata").get("user_id")
        if user_id is not None:
            string(user_id, "metadata.user_id")
    if body.get("cache_control") is not None:
        obj(body["cache_control"], "cache_control")


def _check_ranges(body: dict[str, Any]) -> None:
    """Bounds and stop sequences, which the schema does not express."""
    for key in ("temperature", "top_p"):
        if body.get(key) is not None:
            unit(body[key], key)
    if body.get("top_k") is not None:
        integer(body["top_k"], "top_k", 0)
    if body.get("stop_sequences") is not None:
        for index, stop in enumerate(array(body["stop_sequences"], "stop_sequences")):
            if not string(stop, f"stop_sequences.{index}").strip():
                raise bad("stop_sequences: each stop sequence must contain non-whitespace")


def _check_system(system: object) -> None:
    if system is None or isinstance(system, str):
        return
    for index, block in enumerate(array(system, "system")):
        check_text(tagged(block, f"system.{index}", TEXT_ONLY)[0], f"system.{index}", "system")


def _check_tools(tools: object) -> tuple[str, ...]:
    """Tool names offered; custom tools (no `type`, or `custom`) need a valid name and schema."""
    if tools is None:
        return ()
    names: list[str] = []
    for index, tool in enumerate(array(tools, "tools")):
        tool = obj(tool, f"tools.{index}")
        kind = tool.get("type")
        if kind is None or kind == "custom":
            path = f"tools.{index}.custom"
            name = string(field(tool, path, "name"), f"{path}.name")
            if not TOOL_NAME.fullmatch(name):
                raise bad(f"{path}.name: String should match pattern '{NAME_PATTERN}'")
            obj(field(tool, path, "input_schema"), f"{path}.input_schema")
            names.append(name)
        elif not isinstance(kind, str):
            raise bad(f"tools.{index}.type: Input should be a valid string")
        elif isinstance(tool.get("name"), str):
            names.append(tool["name"])
    return tuple(names)


# -- tool_choice and thinking ----------------------------------------------------------------


def _check_tool_choice(choice: object, tool_names: tuple[str, ...]) -> tuple[str | None, str | None]:
    if choice is None:
        return None, None
    choice, kind = tagged(choice, "tool_choice", TOOL_CHOICES)
    if kind != "tool":
        return kind, None
    name = string(field(choice, "tool_choice.tool", "name"), "tool_choice.tool.name")
    return kind, _offered(name, tool_names)


def _offered(name: str, tool_names: tuple[str, ...]) -> str:
    if name not in tool_names:
        raise bad(f"Tool '{name}' not found in provided tools")
    return name


def _check_thinking(
    body: dict[str, Any], max_tokens: int | None, choice: str | None, headers: Mapping[str, str]
) -> bool:
    """Thinking rules (§9); returns whether thinking is on. `max_tokens` is None when counting."""
    if body.get("thinking") is None:
        return False
    thinking, kind = tagged(body["thinking"], "thinking", THINKING_TYPES)
    budget = None
    if kind == "enabled":
        budget = integer(
            field(thinking, "thinking.enabled", "budget_tokens"), "thinking.enabled.budget_tokens", 0
        )
    return _thinking_rules(body, kind, budget, max_tokens, choice, headers)


def _thinking_rules(
    body: dict[str, Any],
    kind: str,
    budget: int | None,
    max_tokens: int | None,
    choice: str | None,
    headers: Mapping[str, str],
) -> bool:
    """The rules over typed values: `budget` is an integer when `kind` is `enabled`; `max_tokens` is
    None when counting, which continues no prefill."""
    if kind == "enabled":
        assert budget is not None
        if budget < MIN_BUDGET:
            minimum = 0 if budget < 0 else MIN_BUDGET  # the integer check's text for a negative one
            raise bad(f"thinking.enabled.budget_tokens: Input should be greater than or equal to {minimum}")
        if max_tokens is not None and budget >= max_tokens and not _interleaved(headers):
            raise bad("`max_tokens` must be greater than `thinking.budget_tokens`.")
    if kind not in THINKING_ON:
        return False
    if choice in FORCED_TOOL_CHOICES:
        raise bad("Thinking may not be enabled when tool_choice forces tool use.")
    if body.get("temperature") is not None and body["temperature"] != 1:
        raise bad("`temperature` may only be set to 1 when thinking is enabled or in adaptive mode")
    if body.get("top_k") is not None:
        raise bad("`top_k` must be unset when thinking is enabled or in adaptive mode")
    if body.get("top_p") is not None and body["top_p"] < THINKING_MIN_TOP_P:
        raise bad(
            f"`top_p` must be between {THINKING_MIN_TOP_P} and 1 when thinking is enabled or in adaptive mode"
        )
    if max_tokens is not None:
        check_thinking_prefill(body["messages"])
    return True


def _interleaved(headers: Mapping[str, str]) -> bool:
    return INTERLEAVED_BETA in beta_entries(headers)
