"""A string that matches a regular expression: the generate fallback's value for a JSON Schema
`pattern` (fallback.py).

The pattern is read by Python's own parser (`re._parser`; `jsonschema` checks `pattern` with
`re.search`, so both read it alike) and walked with the fallback's seeded `random.Random`, so a
request and seed give one string. Supported: literals; `.`; classes and ranges and their
negation (`[a-z_]`, `[^0-9]`); `\\d \\w \\s` and `\\D \\W \\S`; groups (capturing, named,
non-capturing, atomic); alternation (a seeded branch, one that fits the length bounds); repeats
(`* + ? {m,n}`, lazy and possessive too) within their counts and the string's `minLength` and
`maxLength`; anchors and boundaries (`^ $ \\A \\Z \\b \\B`), which add nothing. Characters come
from ASCII letters and digits, then other printable ASCII, then those a class names.

Backreferences, lookarounds and conditionals are not supported. For them, for a pattern that is
no regex, for bounds no string of the pattern meets, and for a string `re.search` rejects (an
anchor mid-pattern, say), the answer is None: the caller keeps its own value and the schema
check that follows reports it.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from mockbay.pattern_cache import compiling

if TYPE_CHECKING:  # typeshed types the parser under its old name, a re-export of it since 3.11
    import sre_constants as constants
    import sre_parse as parser
else:  # the old names warn when imported
    from re import _constants as constants
    from re import _parser as parser

SPREAD = 3  # repeats past their minimum, at most, where the length bounds leave the count free
MAX_COPIES = 1000  # copies of a repeated part: past this the pattern asks too much
TIERS = (string.ascii_letters + string.digits, string.punctuation + " ")
REPEATS = frozenset({constants.MAX_REPEAT, constants.MIN_REPEAT, constants.POSSESSIVE_REPEAT})
CHARACTERS = frozenset({constants.NOT_LITERAL, constants.ANY, constants.IN})
SPELLED = frozenset({constants.LITERAL, constants.RANGE})  # class items that name a character
# `\d`, `\w`, `\s` and their negations, tested by the engine that will check the string.
CATEGORIES = {
    constants.CATEGORY_DIGIT: re.compile(r"\d"),
    constants.CATEGORY_NOT_DIGIT: re.compile(r"\D"),
    constants.CATEGORY_WORD: re.compile(r"\w"),
    constants.CATEGORY_NOT_WORD: re.compile(r"\W"),
    constants.CATEGORY_SPACE: re.compile(r"\s"),
    constants.CATEGORY_NOT_SPACE: re.compile(r"\S"),
}

Node = tuple[Any, Any]  # (opcode, its argument), as the parser gives them


class Unsupported(Exception):
    """A construct, or length bounds, the walk cannot give a string for."""


def matching_string(pattern: str, rng: random.Random, low: int, high: int) -> str | None:
    """A string `re.search(pattern, ...)` accepts, `low` to `high` characters long where the
    pattern allows it, or None. A pattern `re` warns about (`[[a]`: "Possible nested set") is
    one it may read otherwise some day; where warnings are errors (`-W error`) it gives None."""
    try:
        parsed = parser.parse(pattern)
        value = _Walk(rng, parsed.state).sequence(parsed.data, low, high)
        with compiling(pattern):
            return value if re.search(pattern, value) else None
    except (re.error, RecursionError, Unsupported, FutureWarning):
        return None


class _Walk:
    """One walk of a parsed pattern: every node gets a window of lengths that leaves the nodes
    after it room to meet the bounds."""

    def __init__(self, rng: random.Random, state: parser.State) -> None:
        self.rng, self.state = rng, state

    def width(self, node: Node) -> tuple[int, int]:
        return parser.SubPattern(self.state, [node]).getwidth()

    def sequence(self, nodes: Sequence[Node], low: int, high: int) -> str:
        widths = [self.width(node) for node in nodes]
        rest_low, rest_high = sum(w[0] for w in widths), sum(w[1] for w in widths)
        pieces: list[str] = []
        done = 0
        for node, (least, most) in zip(nodes, widths, strict=True):
            rest_low, rest_high = rest_low - least, rest_high - most
            piece = self.node(node, max(least, low - done - rest_high), min(most, high - done - rest_low))
            pieces.append(piece)
            done += len(piece)
        return "".join(pieces)

    def node(self, node: Node, low: int, high: int) -> str:
        op, arg = node
        if op == constants.LITERAL:
            return chr(arg)
        if op in CHARACTERS:
            return self.character(op, arg)
        if op == constants.AT:
            return ""
        if op == constants.BRANCH:
            fits = [p for p in arg[1] if p.getwidth()[0] <= high and p.getwidth()[1] >= low]
            return self.sequence(self.rng.choice(fits or arg[1]).data, low, high)
        if op == constants.SUBPATTERN:
            return self.sequence(arg[3].data, low, high)
        if op == constants.ATOMIC_GROUP:
            return self.sequence(arg.data, low, high)
        if op in REPEATS:
            return self.repeat(arg[0], arg[1], arg[2], low, high)
        raise Unsupported(str(op))  # GROUPREF, GROUPREF_EXISTS, ASSERT, ASSERT_NOT

    def repeat(self, least: int, most: int, body: parser.SubPattern, low: int, high: int) -> str:
        """Copies of `body`: as many as the window needs, a few more if it leaves room."""
        each_low, each_high = body.getwidth()
        fewest = max(least, -(-low // each_high) if each_high else least)
        upper = min(most, high // each_low if each_low else most)
        if fewest > upper or fewest > MAX_COPIES:
            raise Unsupported(f"{least} to {most} copies in {low} to {high} characters")
        count = self.rng.randint(fewest, min(upper, fewest + SPREAD))
        return self.sequence(list(body.data) * count, low, high)

    def character(self, op: Any, arg: Any) -> str:
        holds = _test(op, arg)
        named = _named(arg) if op == constants.IN else ""
        for tier in (*TIERS, named):
            fits = [c for c in tier if holds(c)]
            if fits:
                return self.rng.choice(fits)
        raise Unsupported("a class no character is in")


def _test(op: Any, arg: Any) -> Callable[[str], bool]:
    """Whether a character is one the node (`.`, `[^x]` as NOT_LITERAL, or a class) matches."""
    if op == constants.ANY:
        return lambda c: c != "\n"
    if op == constants.NOT_LITERAL:
        return lambda c: ord(c) != arg
    negated = arg[:1] == [(constants.NEGATE, None)]
    items = arg[1:] if negated else arg
    return lambda c: any(_in_item(item, c) for item in items) != negated


def _in_item(item: Node, char: str) -> bool:
    op, arg = item
    if op == constants.LITERAL:
        return bool(ord(char) == arg)
    if op == constants.RANGE:
        return bool(arg[0] <= ord(char) <= arg[1])
    if op == constants.CATEGORY and arg in CATEGORIES:
        return CATEGORIES[arg].match(char) is not None
    raise Unsupported(str(op))


def _named(items: Sequence[Node]) -> str:
    """The characters a class spells out (a literal, a range's first), for classes past ASCII."""
    return "".join(chr(arg if op == constants.LITERAL else arg[0]) for op, arg in items if op in SPELLED)
