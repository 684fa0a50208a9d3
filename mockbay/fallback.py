"""What to do when no scenario answers (docs/scenario-contract.md §8): explain it, or make a reply up.

`strict_message` is the 400 message of strict mode: what the request looked like, the nearest
scenarios with the first condition each failed, and how to fix it. `generate_reply` is the
`--fallback generate` answer: a plausible reply in the model's shape, a pure function of the
request and the seed. Its text comes from short sentences written here rather than Faker's
lorem words, because users read these replies in test output; tool inputs follow the tool's
`input_schema`, and a request with `output_config.format` gets JSON text valid for its schema;
a forced server tool gets the server's blocks (fallback_tools.py). No I/O, no aiohttp; plain
`random.Random` instances only.
"""

from __future__ import annotations

import json
import math
import random
import re
import sys
import uuid
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from mockbay.fallback_tools import (
    TOOL_SEARCHES,
    call_fields,
    declared_tool_input,
    is_server_tool,
    server_tool_reply,
    tool_search_blocks,
    toolset_member,
)
from mockbay.matching import Miss
from mockbay.regexgen import matching_string
from mockbay.scenario.model import Block, JsonText, LiteralText, Reply, TextSource
from mockbay.schema_hints import with_hints
from mockbay.structured import output_schema
from mockbay.wire.request import FORCED_TOOL_CHOICES, MessagesRequest

QUOTE_LIMIT = 60
MAX_DEPTH = 4  # nesting past which a value is the smallest valid one, so recursive `$ref`s end
MAX_ITEMS = 3  # items in a generated array, whatever minItems asks
MAX_STRING = 200  # characters in a generated string, whatever minLength asks
BOUNDS = ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum")
MULTIPLE_TRIES = 100  # multiples of a `multipleOf` tried in turn for one the validator's floats accept

# ---- strict: the 400 message ----------------------------------------------------------------


def _quote(text: str) -> str:
    return repr(text if len(text) <= QUOTE_LIMIT else text[: QUOTE_LIMIT - 1] + "…")


def _request_summary(request: MessagesRequest) -> str:
    if request.tool_results and not request.last_user_text:
        last = "last user message: tool_result for " + ", ".join(repr(r.name) for r in request.tool_results)
    elif request.last_user_text is not None:
        last = f"last user text {_quote(request.last_user_text)}"
    else:
        last = "no user text"
    return f"model {request.model!r}, turn {request.turn}, {last}"


def strict_message(request: MessagesRequest, miss: Miss) -> str:
    """Says what did not match and how to fix it, naming files so the user can jump there."""
    generate = "or run mockbay with --fallback generate to answer unmatched requests with a generated reply"
    if miss.unknown_pin is not None:
        similar = " or ".join(map(repr, miss.similar_names))
        hint = f"Did you mean {similar}?" if similar else "No loaded scenario has a similar name."
        return (
            f"mockbay: scenario {miss.unknown_pin!r} is pinned (by the /s/{miss.unknown_pin} path prefix or "
            f"the x-mockbay-scenario header) but no scenario of that name is loaded. {hint} "
            "To fix: load it or correct the name (a pin never falls back to a generated reply)."
        )
    near = "; ".join(f"{n.scenario!r} ({n.file}) failed at {n.where}: {n.failed}" for n in miss.near)
    if request.pinned is not None:
        return (
            f"mockbay: pinned scenario {request.pinned!r} did not answer this request "
            f"({_request_summary(request)}): {near}. To fix: give it a rule or turn that answers this "
            f"request, {generate}."
        )
    if near:
        found = f"Nearest: {near}. To fix: relax the failed condition or load a scenario that matches"
    else:
        found = "No scenarios are loaded. To fix: load one (--scenarios PATH, or mockbay.load() in tests)"
    return f"mockbay: no scenario matched this request ({_request_summary(request)}). {found}, {generate}."


# ---- generate: a made-up reply --------------------------------------------------------------

OPENERS = (
    "Sure, here is a short answer.",
    "Good question.",
    "Happy to help with that.",
    "Here is what I can tell you.",
    "Let me give you a brief overview.",
    "That is a reasonable thing to ask.",
    "Here is a quick summary.",
    "Thanks for the details.",
)
BODIES = (
    "The short version is that it depends on a few details of your setup.",
    "In most cases the simplest approach works well and is easy to change later.",
    "The key points are to keep things small, test each step, and check the results.",
    "A good first step is to confirm the inputs before looking at the output.",
    "There are a couple of options, and the first one is usually enough.",
    "It should take only a few minutes once everything is in place.",
    "The main trade-off is between speed and how much detail you need.",
    "Most people find that the default settings are a sensible place to start.",
)
CLOSERS = (
    "Let me know if you would like more detail.",
    "I can go further on any of these points.",
    "Feel free to ask a follow-up question.",
    "I hope that helps.",
    "Tell me more about your situation and I can be more specific.",
    "Would you like an example?",
)
AFTER_TOOL = (
    "Thanks, I have the result from {tool}.",
    "The {tool} call came back with what I needed.",
    "Based on the output of {tool}, here is the answer.",
)
BEFORE_TOOL = (
    "I'll use {tool} to look that up.",
    "Let me call {tool} for this.",
    "I will check with {tool} first.",
)
THOUGHTS = (
    "The user wants a clear and short answer.",
    "I should answer directly and keep it brief.",
    "Let me think about what matters most here before answering.",
)
# Words of a tool name that say nothing about its topic (`get_weather` is about "weather").
GENERIC_WORDS = frozenset(
    "get set fetch list find lookup look run make create update delete read write call tool use "  # noqa: SIM905
    "the for from with and new all info data".split()
)
WORDS = ("example", "sample", "default", "primary", "summary", "report", "alpha", "general")
CITIES = ("Paris", "Tokyo", "Lisbon", "Toronto", "Nairobi", "Sydney", "Oslo", "Lima")
NAMES = ("Ada Lovelace", "Alan Turing", "Grace Hopper", "Katherine Johnson", "Linus Pauling")


def _sentences(rng: random.Random, request: MessagesRequest) -> str:
    """One to three sentences: an opener (about the tool result, if any), then maybe more."""
    if request.tool_results:
        opener = rng.choice(AFTER_TOOL).format(tool=request.tool_results[0].name or "the tool")
    else:
        opener = rng.choice(OPENERS)
    parts = [opener, rng.choice((*BODIES, "")), rng.choice((*CLOSERS, ""))]
    return " ".join(part for part in parts if part)


def _client_tools(request: MessagesRequest) -> list[dict[str, Any]]:
    """Tools the client runs itself: custom ones (with an input_schema), the ones Anthropic
    defines for the client to run (bash, the text editor, ...) and a member of each computer or
    browser toolset; not server tools (web search, ...)."""
    tools = [t for t in request.body.get("tools") or [] if isinstance(t, dict)]
    members = [m for t in tools if (m := toolset_member(t)) is not None]
    named = [
        t
        for t in tools
        if not is_server_tool(t)
        and (
            isinstance(t.get("input_schema"), dict)
            or ("input_schema" not in t and isinstance(t.get("name"), str))
        )
    ]
    return named + members


def _topic_words(name: str) -> set[str]:
    words = re.sub(r"([a-z])([A-Z])", r"\1 \2", name).lower().replace("_", " ").replace("-", " ").split()
    return {w for w in words if w not in GENERIC_WORDS and len(w) > 2}


def _server_tools(request: MessagesRequest) -> list[dict[str, Any]]:
    tools = request.body.get("tools") or []
    return [t for t in tools if isinstance(t, dict) and is_server_tool(t) and isinstance(t.get("name"), str)]


def _tool_to_call(request: MessagesRequest, rng: random.Random) -> dict[str, Any] | None:
    """Forced choices call a tool (a server tool too); `auto` calls one on turn 0 when the user's
    words name its topic."""
    tools = _client_tools(request)
    if request.tool_choice == "tool":
        named = [t for t in (*tools, *_server_tools(request)) if t.get("name") == request.tool_choice_name]
        return named[0] if named else {"name": request.tool_choice_name, "input_schema": {}}
    if request.tool_choice == "any" and not tools and _server_tools(request):
        return rng.choice(_server_tools(request))
    if not tools or request.tool_choice == "none":
        return None
    if request.tool_choice == "any":
        return rng.choice(tools)
    said = set(re.findall(r"[a-z0-9]+", (request.last_user_text or "").lower()))
    if request.turn == 0:
        for tool in tools:
            if _topic_words(str(tool.get("name", ""))) & said:
                return tool
    return None


def _search_tool(request: MessagesRequest) -> str | None:
    """The tool search tool the request offers, if any."""
    return next((str(t["name"]) for t in _server_tools(request) if t["name"] in TOOL_SEARCHES), None)


def _found(request: MessagesRequest) -> set[str]:
    """Tools a tool search already returned in the conversation: `tool_reference`s in a
    `tool_search_tool_result` (a server search) or in a `tool_result`'s content (a client one)."""
    found: set[str] = set()
    for message in request.body.get("messages") or []:
        content = message.get("content") if isinstance(message, dict) else None
        for block in content if isinstance(content, list) else []:
            inner = block.get("content") if isinstance(block, dict) else None
            if isinstance(inner, dict):
                inner = inner.get("tool_references")
            for item in inner if isinstance(inner, list) else []:
                if isinstance(item, dict) and item.get("type") == "tool_reference":
                    found.add(str(item.get("tool_name")))
    return found


def _deferred_found(request: MessagesRequest) -> list[str]:
    """What a forced tool search finds: the deferred tools (`defer_loading`) whose names share a
    word with the user's, else every deferred tool."""
    deferred = [str(t.get("name")) for t in _client_tools(request) if t.get("defer_loading") is True]
    said = set(re.findall(r"[a-z0-9]+", (request.last_user_text or "").lower()))
    return [n for n in deferred if _topic_words(n) & said] or deferred


def _search(request: MessagesRequest, search: str, found: list[str]) -> tuple[Block, Block]:
    """A search with `search` that finds `found`: its query is their names' topic words (an
    alternation for the regex tool), or the user's first words when it finds nothing."""
    words = sorted({w for n in found for w in _topic_words(n)})
    if not words:
        words = (request.last_user_text or "").split()[:8] or ["tools"]
    return tool_search_blocks(search, ("|" if search.endswith("regex") else " ").join(words), found)


def _ref(schema: Any) -> str | None:
    """A local `$ref`: `#/$defs/Address`, as schemas generated by pydantic use them, or `#`."""
    ref = schema.get("$ref") if isinstance(schema, dict) else None
    return ref if isinstance(ref, str) and (ref == "#" or ref.startswith("#/")) else None


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    """The schema a local `$ref` points at, or `schema` itself."""
    ref = _ref(schema)
    if ref is None:
        return schema
    target: Any = root
    for part in ref[2:].split("/") if ref != "#" else ():
        target = target.get(part) if isinstance(target, dict) else None
    return target if isinstance(target, dict) else {}


def _string(schema: dict[str, Any], rng: random.Random, name: str) -> str:
    """A string for `pattern` (regexgen.py) when one can be made, else one for the format or the
    property's name; padded to `minLength` and cut to `maxLength`."""
    low = min(_count(schema.get("minLength"), 0), MAX_STRING)
    high = _count(schema.get("maxLength"), MAX_STRING)
    pattern = schema.get("pattern")
    value = matching_string(pattern, rng, low, min(high, MAX_STRING)) if isinstance(pattern, str) else None
    if value is None:
        value = _plain_string(schema.get("format"), rng, name.lower())
    return value.ljust(low, "x")[:high]


def _date(rng: random.Random) -> str:
    return f"2025-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}"


def _time(rng: random.Random) -> str:
    return f"{rng.randint(0, 23):02}:{rng.randint(0, 59):02}:00Z"


# A value of each string `format` structured outputs support (docs/wire-notes.md, "Structured
# outputs").
FORMATS: dict[str, Callable[[random.Random], str]] = {
    "date": _date,
    "time": _time,
    "date-time": lambda rng: f"{_date(rng)}T{_time(rng)}",
    "duration": lambda rng: f"PT{rng.randint(1, 59)}M",
    "email": lambda rng: f"{rng.choice(WORDS)}@example.com",
    "hostname": lambda rng: f"{rng.choice(WORDS)}.example.com",
    "uri": lambda rng: f"https://example.com/{rng.choice(WORDS)}",
    "ipv4": lambda rng: f"192.0.2.{rng.randint(1, 254)}",  # TEST-NET-1 (RFC 5737)
    "ipv6": lambda rng: f"2001:db8::{rng.randint(1, 0xFFFF):x}",  # documentation prefix (RFC 3849)
    "uuid": lambda rng: str(uuid.UUID(int=rng.getrandbits(128), version=4)),
}


def _plain_string(fmt: Any, rng: random.Random, key: str) -> str:
    if isinstance(fmt, str) and fmt in FORMATS:
        return FORMATS[fmt](rng)
    if key.endswith("date"):
        return FORMATS["date"](rng)
    if "email" in key:
        return FORMATS["email"](rng)
    if fmt == "url" or key.endswith("url") or key == "uri":
        return FORMATS["uri"](rng)
    if key in ("city", "location", "place", "destination"):
        return rng.choice(CITIES)
    if key in ("name", "full_name", "author", "user", "username"):
        return rng.choice(NAMES)
    if key in ("query", "q", "search", "question", "prompt", "text", "message"):
        return f"{rng.choice(WORDS)} {rng.choice(WORDS)}"
    if key == "id" or key.endswith("_id"):
        return f"{key.removesuffix('_id') or 'item'}_{rng.randrange(10**6):06}"
    return rng.choice(WORDS)


def _bound(schema: dict[str, Any], inclusive: str, exclusive: str, step: float) -> float | None:
    """A numeric bound; draft-4's boolean `exclusiveMinimum` is not a number and is ignored. An
    integer bound stays exact for an integer `step`."""
    for key, shift in ((inclusive, 0), (exclusive, step)):
        value = schema.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value + shift
    return None


def _number(schema: dict[str, Any], rng: random.Random, integer: bool) -> int | float:
    """A number within the bounds; an integer where a bound is an integer past every float (JSON
    allows it), since no float arithmetic can reach it."""
    integer = integer or any(_past_floats(schema.get(key)) for key in BOUNDS)
    step = 1 if integer else 0.01
    floor = _bound(schema, "minimum", "exclusiveMinimum", step)
    high = _bound(schema, "maximum", "exclusiveMaximum", -step)
    low = floor if floor is not None else (1 if high is None else min(1, high))
    high = max(low, high if high is not None else low + 99)
    multiple = _multiple(schema.get("multipleOf"), low, high, integer, floor is None)
    if multiple is not None:
        return multiple
    if integer:
        return rng.randint(math.ceil(low), max(math.ceil(low), math.floor(high)))
    return min(max(round(rng.uniform(low, high), 2), low), high)


def _past_floats(value: Any) -> bool:
    return isinstance(value, int) and abs(value) > sys.float_info.max


def _multiple(of: Any, low: float, high: float, integer: bool, open_below: bool) -> int | float | None:
    """The smallest multiple of `of` in [low, high] (the largest under `high` when no minimum was
    given and none is above the default `low`), an integer for `integer`, or None. A float `of` is
    checked as the validator divides (`0.3 / 0.1` is not 3), so `of: 0.1` skips 0.3 for 0.4."""
    if not isinstance(of, int | float) or isinstance(of, bool) or not 0 < of < math.inf:
        return None
    first = math.ceil(Fraction(low) / Fraction(of))
    if open_below and first * of > high:
        first = math.floor(Fraction(high) / Fraction(of))
    try:
        for k in range(first, first + MULTIPLE_TRIES):
            value = k * of
            if value > high:
                return None
            if (integer and value != int(value)) or (isinstance(of, float) and not (value / of).is_integer()):
                continue
            return int(value) if integer else value
    except OverflowError:  # a float past its range: the bounds ask for more than JSON numbers hold
        return None
    return None


def _mapping(value: Any) -> dict[str, Any]:
    """Client schemas are arbitrary JSON: a keyword of the wrong type counts as absent."""
    return value if isinstance(value, dict) else {}


def _sequence(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _count(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def schema_value(
    schema: Any,
    rng: random.Random,
    root: dict[str, Any],
    name: str = "",
    depth: int = 0,
    path: tuple[str, ...] = (),
) -> Any:
    """A value valid for a JSON Schema's common keywords: `type`, `const`, `enum`, `anyOf`/`oneOf`,
    `properties` (the required ones), `items`, `minItems`/`maxItems`, numeric bounds and
    `multipleOf`, `minLength`/`maxLength`, `pattern`, `format`, local `$ref`s (recursive ones
    too), and those of these a client wrote into the description (schema_hints.py).

    Near the top an array gets one to three items, `minItems` allowing; past `MAX_DEPTH` each
    value is the smallest valid one (`minItems` items, an `anyOf`'s null), so recursion ends. A
    `$ref` that such a value still leads back to (one on its own `path`) is a schema that requires
    itself, which no finite value follows: it gets the empty value of its type."""
    ref = _ref(schema)
    schema = _resolve(schema, root)
    if not isinstance(schema, dict):
        return rng.choice(WORDS)
    schema = with_hints(schema)
    small = depth >= MAX_DEPTH
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None and "properties" in schema:
        kind = "object"
    if kind is None and "items" in schema:
        kind = "array"
    if ref is not None:
        if depth > MAX_DEPTH and ref in path:  # reached from a smallest value
            return {} if kind == "object" else [] if kind == "array" else None
        path = (*path, ref)
    if "const" in schema:
        return schema["const"]
    enum = _sequence(schema.get("enum"))
    if enum:
        return rng.choice(enum)
    variants = _sequence(schema.get("anyOf")) or _sequence(schema.get("oneOf"))
    if variants:
        return schema_value(_variant(variants, rng, root, path, small), rng, root, name, depth + 1, path)
    if kind == "object":
        properties = _mapping(schema.get("properties"))
        required = [k for k in _sequence(schema.get("required")) if isinstance(k, str)]
        return {k: schema_value(properties.get(k, {}), rng, root, k, depth + 1, path) for k in required}
    if kind == "array":
        cap = min(_count(schema.get("maxItems"), MAX_ITEMS), MAX_ITEMS)
        low = min(_count(schema.get("minItems"), 0), cap)
        count = low if small else rng.randint(min(max(low, 1), cap), cap)
        return [schema_value(schema.get("items", {}), rng, root, name, depth + 1, path) for _ in range(count)]
    if kind in ("integer", "number"):
        return _number(schema, rng, kind == "integer")
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return _string(schema, rng, name)


def _variant(
    variants: list[Any], rng: random.Random, root: dict[str, Any], path: tuple[str, ...], small: bool
) -> Any:
    """The `anyOf` variant to follow: near the top one that is not null (null shows nothing);
    past `MAX_DEPTH` the null one, else one not leading back to a `$ref` on the `path`."""
    null = [v for v in variants if _resolve(v, root) == {"type": "null"}]
    others = [v for v in variants if v not in null]
    if small:
        return rng.choice(null or [v for v in others if _ref(v) not in path] or others)
    return rng.choice(others or null)


def _answer(rng: random.Random, request: MessagesRequest) -> TextSource:
    """Sentences, or with `output_config.format` a JSON text for its schema. Rendering checks it
    against the schema as it checks a scripted text: a schema the generator cannot satisfy (a
    `pattern` with a backreference, say) gets the journal warning, and the reply is still served."""
    schema = output_schema(request.body)
    if schema is None:
        return LiteralText(value=_sentences(rng, request))
    value = schema_value(schema, rng, schema)
    return JsonText(value=json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def generate_reply(request: MessagesRequest, seed: int) -> Reply:
    """Seeded by the fingerprint, so JSON and stream requests (and retries) get the same reply."""
    rng = random.Random(f"mockbay-fallback\x1f{seed}\x1f{request.fingerprint}")
    tool = _tool_to_call(request, rng)
    tool_name = str(tool.get("name")) if tool is not None else ""
    blocks: list[Block] = []
    if request.thinking:
        thought = (
            f"The user's request is something {tool_name} can answer, so I will call it." if tool else ""
        )
        blocks.append(Block(type="thinking", text=LiteralText(value=thought or rng.choice(THOUGHTS))))
    if tool is None:
        return Reply(content=(*blocks, Block(type="text", text=_answer(rng, request))))
    if tool_name in TOOL_SEARCHES:  # a forced search, then a call of the first tool it found
        found = _deferred_found(request)
        blocks.extend(_search(request, tool_name, found))
        tool = next((t for t in _client_tools(request) if t.get("name") == found[0]), None) if found else None
        if tool is None:
            return Reply(content=(*blocks, Block(type="text", text=_answer(rng, request))))
        tool_name = found[0]
    elif is_server_tool(tool):
        return server_tool_reply(tool_name, rng, request.last_user_text or "", tuple(blocks))
    else:
        # forced calls come without a preamble, as upstream
        if request.tool_choice not in FORCED_TOOL_CHOICES:
            blocks.append(
                Block(type="text", text=LiteralText(value=rng.choice(BEFORE_TOOL).format(tool=tool_name)))
            )
        search = _search_tool(request)
        if search is not None and tool.get("defer_loading") is True and tool_name not in _found(request):
            blocks.extend(_search(request, search, [tool_name]))  # a deferred tool is found before its call
    tool_input = declared_tool_input(tool, rng)
    if tool_input is None:
        schema = _mapping(tool.get("input_schema"))
        # checked when rendered, as _answer's value is
        tool_input = schema_value({**schema, "type": "object"}, rng, schema)
    call = Block(type="tool_use", name=tool_name, input=tool_input, fields=call_fields(tool))
    return Reply(content=(*blocks, call))
