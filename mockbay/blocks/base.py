"""The one door for content-block kinds: a base class and the registry keyed by wire `type`.

A kind is a frozen dataclass holding one rendered block. Its class methods say how the scenario
loader builds it (`spec`, `load`) and how the recorder reads it back from upstream (`record`);
its methods say how it goes on the wire: its JSON, its `content_block_start`, its deltas, its
output tokens and its cut at `max_tokens`. Every other module reaches block behaviour through
`KINDS`, so adding a kind is one class here and one row in the tests (README, development).
Imports the spec language and the scenario model; never the walker, the server or the recorder.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, TypeVar

from mockbay.render.text import TextContext
from mockbay.scenario.model import Block
from mockbay.scenario.spec import Obj, Spec

if TYPE_CHECKING:
    from mockbay.record.scrub import Scrubber
    from mockbay.scenario.nodes import Fields
    from mockbay.scenario.walker import Walker
    from mockbay.wire.request import MessagesRequest

Splitter = Callable[[str, str], list[str]]  # (delta family, text) -> delta pieces
Delta = tuple[dict[str, Any], str]  # a delta payload and the text whose tokens it carries


class RenderContext(NamedTuple):
    """What a kind may read while rendering one block of a reply (a named tuple: one is built per
    block of every reply, and a tuple is built in C where a frozen dataclass sets each field through
    `object.__setattr__`)."""

    seed: int
    fingerprint: str
    position: int  # of the block in the reply
    text: TextContext
    request: MessagesRequest
    before: tuple[BlockKind, ...]  # the blocks rendered before this one, in order


@dataclass(frozen=True, slots=True, eq=False)
class Received:
    """A block as upstream sent it: the `content_block_start` (or JSON) block and its deltas."""

    start: Mapping[str, Any]
    deltas: tuple[Mapping[str, Any], ...] = ()

    def pieces(self, delta_type: str, field: str) -> list[str]:
        return [str(d.get(field, "")) for d in self.deltas if d.get("type") == delta_type]


class BlockKind:
    """One content-block kind. Subclasses are frozen dataclasses registered with `@register`."""

    __slots__ = ()
    TYPE: ClassVar[str]
    KEY_DOC: ClassVar[str]  # one line for the scenario key's documentation
    FINGERPRINTED: ClassVar[frozenset[str] | None] = None  # fields a request's copy is hashed on; None: all
    CLIENT_TOOL_CALL: ClassVar[bool] = False  # makes the default stop_reason `tool_use`
    ALONE_STOP_REASON: ClassVar[str | None] = None  # the default stop_reason of a reply of these alone

    # ---- scenario side ----------------------------------------------------------------------

    @classmethod
    def spec(cls) -> Obj:
        """The block's mapping in a scenario's `content:` list, tagged by the wire type."""
        raise NotImplementedError

    @classmethod
    def load(cls, w: Walker, f: Fields, path: str) -> Any:
        """The scenario model's Block for a checked mapping (or the walker's failure)."""
        raise NotImplementedError

    @classmethod
    def render(cls, block: Block, ctx: RenderContext) -> BlockKind:
        raise NotImplementedError

    # ---- wire side ----------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        raise NotImplementedError

    def opening(self) -> dict[str, Any]:
        """The `content_block_start` payload; whole blocks arrive complete, with no deltas."""
        return self.to_json()

    def deltas(self, split: Splitter) -> list[Delta]:
        return []

    def output_tokens(self) -> int:
        return 0

    def cut(self, budget: int) -> BlockKind | None:
        """This block cut to `budget` output tokens, or None when it cannot be cut (dropped)."""
        return None

    def stop_at(self, sequences: tuple[str, ...]) -> tuple[int, str] | None:
        """(position, sequence) of the earliest stop sequence in generated text, if any."""
        return None

    def prefix(self, position: int) -> BlockKind:
        """The block's generated text up to `position` (a stop sequence's cut)."""
        return self

    def model_after(self) -> str | None:
        """The model the message is labelled with from this block on, if the block hands over
        to one (`fallback`); the SDK's stream accumulator relabels the message there."""
        return None

    # ---- recorder side ----------------------------------------------------------------------

    @classmethod
    def record(cls, received: Received, scrubber: Scrubber, streamed: bool) -> tuple[dict[str, Any], int]:
        """The scrubbed scenario entry, and how many of the received deltas its replay sends."""
        raise NotImplementedError


K = TypeVar("K", bound=type[BlockKind])
KINDS: dict[str, type[BlockKind]] = {}


def register(kind: K) -> K:
    """Add a kind to the registry under its wire type (registration order is the schema's order)."""
    KINDS[kind.TYPE] = kind
    return kind


def wire_json(value: Any) -> str:
    """A value's JSON text as mockbay streams it (tool input pieces) and counts its tokens."""
    return json.dumps(value, ensure_ascii=False)


def block_spec(kind: type[BlockKind], value: Spec, **siblings: Spec) -> Obj:
    """The `- TYPE: value` mapping of a kind, with the sibling keys it allows beside the tag."""
    return Obj(
        {kind.TYPE: value, **siblings},
        tag=kind.TYPE,
        build=f"block:{kind.TYPE}",
        hints=BLOCK_HINTS,
        doc=kind.KEY_DOC,
    )


BLOCK_HINTS: dict[str, str] = {
    "type": "write a block by its type key: - text: 'Hello', - tool_use: {name: ..., input: {...}}; "
    "any other block verbatim: - raw: {type: ..., ...}",
    "signature": "signature: goes in a thinking block, beside thinking: or inside its "
    "{thinking: ..., signature: ...}",
    **{
        key: "'{key}' goes inside the tool_use: - tool_use: {name: ..., input: {...}}"
        for key in ("name", "input", "id", "input_chunks")
    },
}
