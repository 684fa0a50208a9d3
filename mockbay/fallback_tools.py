"""The generate fallback's calls of the tools Anthropic defines (docs/scenario-contract.md §10).

A server tool (web search, web fetch, code execution, tool search, advisor) is run by upstream:
the client must not answer it, so a forced choice of one gets the server's blocks, a
`server_tool_use` call, the result upstream would add and a sentence about it, never a client
`tool_use`. A tool search (`tool_search_blocks`) returns references to the request's tools
with `defer_loading`, which the model may call only once a search has found them. A server
tool without a result here (a name only a lenient request can offer as a tool, such as
`bash_code_execution`) gets the call alone and `stop_reason: pause_turn`, as upstream pauses a
turn it has not finished. The other tools Anthropic defines (bash, the text editor, memory,
computer) have no `input_schema` either, but the client runs them: the model calls them with a
client `tool_use` whose input has the shape that tool takes (docs/wire-notes.md, "Anthropic's
client tools").
Pure: a function of the request and a seeded `random.Random`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Sequence
from typing import Any

from mockbay.scenario.model import Block, LiteralText, Reply

# The tools upstream runs: the names the SDK's `BetaServerToolUseBlock` allows
# (`types/beta/beta_server_tool_use_block.py`).
SERVER_TOOL_NAMES = frozenset(
    {
        "advisor",
        "web_search",
        "web_fetch",
        "code_execution",
        "bash_code_execution",
        "text_editor_code_execution",
        "tool_search_tool_regex",
        "tool_search_tool_bm25",
    }
)
TOOL_SEARCHES = frozenset({"tool_search_tool_regex", "tool_search_tool_bm25"})
WORDS = ("weather", "travel", "history", "python", "recipes", "science", "music", "gardening")
_URL = re.compile(r"https?://[^\s\"'<>]+")
Call = tuple[dict[str, Any], str, Any, str]  # (input, result block type, its content, the closing text)


def _web_search(rng: random.Random, said: str) -> Call:
    query = " ".join(said.split()[:8]) or rng.choice(WORDS)
    topic = rng.choice(WORDS)
    results = [
        {
            "url": f"https://example.com/{topic}",
            "title": f"{topic.title()} - Example",
            "page_age": "2 days ago",
        },
        {"url": f"https://example.org/{topic}/guide", "title": f"A guide to {topic}"},
    ]
    return {"query": query}, "web_search_tool_result", results, "Here is what the search found."


def _web_fetch(rng: random.Random, said: str) -> Call:
    found = _URL.search(said)
    url = found.group(0) if found else f"https://example.com/{rng.choice(WORDS)}"
    page = {"source": {"type": "text", "media_type": "text/plain", "data": "An example page."}, "title": url}
    return {"url": url}, "web_fetch_tool_result", {"url": url, "content": page}, "I read the page."


def _code(rng: random.Random, said: str) -> Call:
    number = rng.randint(2, 99)
    content = {"stdout": f"{number}\n", "stderr": "", "return_code": 0}
    return {"code": f"print({number})"}, "code_execution_tool_result", content, f"The code printed {number}."


def _bash(rng: random.Random, said: str) -> Call:
    word = rng.choice(WORDS)
    content = {"stdout": f"{word}\n", "stderr": "", "return_code": 0}
    return (
        {"command": f"echo {word}"},
        "bash_code_execution_tool_result",
        content,
        f"The command printed {word}.",
    )


ADVICE = (
    "Answer directly, and say what you checked.",
    "Check the inputs first; the rest follows from them.",
    "Keep the answer short and name any assumption.",
)


def _advisor(rng: random.Random, said: str) -> Call:
    """The advisor model reads the conversation itself: the call has no input."""
    advice = {"text": rng.choice(ADVICE), "stop_reason": "end_turn"}
    return {}, "advisor_tool_result", advice, "Following that advice, here is my answer."


CALLS: dict[str, Callable[[random.Random, str], Call]] = {
    "web_search": _web_search,
    "web_fetch": _web_fetch,
    "code_execution": _code,
    "bash_code_execution": _bash,
    "advisor": _advisor,
}


def _text_editor(rng: random.Random) -> dict[str, Any]:
    return {"command": "view", "path": f"/repo/{rng.choice(WORDS)}.md"}


# An input of each client-run tool Anthropic defines, by the name its type fixes.
CLIENT_INPUTS: dict[str, Callable[[random.Random], dict[str, Any]]] = {
    "bash": lambda rng: {"command": f"echo {rng.choice(WORDS)}"},
    "str_replace_based_edit_tool": _text_editor,
    "str_replace_editor": _text_editor,
    "memory": lambda rng: {"command": "view", "path": "/memories"},
    "computer": lambda rng: {"action": "screenshot"},
}


# A toolset (`computer_toolset_20260801`, `browser_toolset_20260801`) is one nameless entry for
# a family of tools; the model calls a member: a `tool_use` with the member's name, the family's
# `toolset_name` and a `caller`. The fallback calls `screenshot`, which both families have and
# which takes no input (`types/computer_screenshot_tool_use_block.py`,
# `types/browser_screenshot_tool_use_block.py`).
TOOLSETS = {"computer_toolset_": "computer", "browser_toolset_": "browser"}
TOOLSET_MEMBER = "screenshot"


def toolset_member(tool: dict[str, Any]) -> dict[str, Any] | None:
    """The member of toolset entry `tool` the fallback calls, as a tool of its own; None for
    anything but a computer or browser toolset, or one whose `configs` disable that member."""
    configs = tool.get("configs")
    member = configs.get(TOOLSET_MEMBER) if isinstance(configs, dict) else None
    if isinstance(member, dict) and member.get("enabled") is False:
        return None
    kind = tool.get("type")
    family = next(
        (f for prefix, f in TOOLSETS.items() if isinstance(kind, str) and kind.startswith(prefix)), None
    )
    return {"name": TOOLSET_MEMBER, "toolset_name": family} if family is not None else None


def call_fields(tool: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The wire fields a call of `tool` carries beside name and input: a toolset member's
    `caller` and `toolset_name`."""
    family = tool.get("toolset_name")
    return (("caller", {"type": "direct"}), ("toolset_name", family)) if family is not None else ()


def is_server_tool(tool: dict[str, Any]) -> bool:
    return (
        "input_schema" not in tool
        and tool.get("type") not in (None, "custom")
        and tool.get("name") in SERVER_TOOL_NAMES
    )


def declared_tool_input(tool: dict[str, Any], rng: random.Random) -> dict[str, Any] | None:
    """The input of a call of a client-run tool Anthropic defines (`{}` for one this module does
    not know); None for a tool with an `input_schema`, whose input follows it."""
    if "input_schema" in tool:
        return None
    make = CLIENT_INPUTS.get(str(tool.get("name")))
    return make(rng) if make is not None else {}


def tool_search_blocks(name: str, query: str, found: Sequence[str]) -> tuple[Block, Block]:
    """A search with tool search tool `name` and its result, references to the `found` tools."""
    references = [{"type": "tool_reference", "tool_name": tool} for tool in found]
    return (
        Block(type="server_tool_use", name=name, input={"query": query}),
        Block(type="tool_search_tool_result", fields=(("content", {"tool_references": references}),)),
    )


def server_tool_reply(name: str, rng: random.Random, said: str, thinking: tuple[Block, ...]) -> Reply:
    """The blocks upstream sends when it runs server tool `name` itself."""
    make = CALLS.get(name)
    if make is None:
        call = Block(type="server_tool_use", name=name, input={})
        return Reply(content=(*thinking, call), stop_reason="pause_turn")
    tool_input, result_type, content, closing = make(rng, said)
    return Reply(
        content=(
            *thinking,
            Block(type="server_tool_use", name=name, input=tool_input),
            Block(type=result_type, fields=(("content", content),)),
            Block(type="text", text=LiteralText(value=closing)),
        )
    )
