"""Blocks of generated text: `text`, `thinking` and `redacted_thinking`.

Text and thinking stream as deltas (the scenario's `chunks`, else seeded pieces), count their
tokens, and are cut on a token boundary at `max_tokens`; only text is cut at a stop sequence.
A thinking block ends with exactly one `signature_delta`; a redacted one arrives whole.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from mockbay.blocks import citations as cite
from mockbay.blocks.base import BlockKind, Delta, Received, RenderContext, Splitter, block_spec, register
from mockbay.render import ids
from mockbay.render.text import resolve
from mockbay.scenario.model import Block, LiteralText
from mockbay.scenario.spec import Obj, OneOf, Ref, Str
from mockbay.tokens import count_tokens, split_tokens
from mockbay.wire.signatures import rebound_signature

if TYPE_CHECKING:
    from mockbay.record.scrub import Scrubber
    from mockbay.scenario.nodes import Fields
    from mockbay.scenario.walker import Walker


FIXED_CHARS = 4096  # longer literal texts are rendered afresh: the cache holds at most ~4 MB of text


@lru_cache(maxsize=1024)
def _fixed(value: str) -> Text:
    """The rendered block of a literal text without citations, shared by every request it answers.

    Safe because nothing of the request reaches such a block: a literal without `{{` (the
    opening of every placeholder, `render.text.PLACEHOLDER`) has no placeholder to fill, no
    citation reads the request's documents, no stream pieces were given, and `Text` is frozen,
    so every request gets an equal value and none can change it. Bounded by entries (1,024)
    and, through FIXED_CHARS, by text size.
    """
    return Text(text=value)


def _is_fixed(value: str) -> bool:
    return "{{" not in value and len(value) <= FIXED_CHARS


def _prefix_pieces(pieces: tuple[str, ...] | None, text: str) -> tuple[str, ...] | None:
    """Stream pieces cut to `text` (a prefix of their join), keeping the boundaries before the cut."""
    if pieces is None:
        return None
    kept, length = [], 0
    for piece in pieces:
        if length + len(piece) >= len(text):
            kept.append(piece[: len(text) - length])
            break
        kept.append(piece)
        length += len(piece)
    return tuple(p for p in kept if p)


def _first_tokens(text: str, budget: int) -> str:
    return "".join(split_tokens(text)[:budget])


def recorded_text(initial: str, pieces: list[str], scrubber: Scrubber, streamed: bool) -> Any:
    """The scenario's text source for a received text or thinking: its deltas as `chunks` when
    streamed (text the block opened with joins the first, since mockbay opens a block empty, and
    the delta count and gaps stay as received), else the text; one delta when a key hid in it,
    even split across deltas. A text holding `{{` is written
    `{chunks, verbatim: true}`, so a `{{ name }}` the model wrote (a template, say) is sent as
    received rather than read as a placeholder."""
    pieces = [initial + pieces[0], *pieces[1:]] if initial and pieces else pieces
    text = "".join(pieces) or initial
    clean = scrubber.text(text)
    if clean != text or any(scrubber.text(p) != p for p in pieces):
        text, pieces = clean, [clean]
    if "{{" in text:
        return {"chunks": pieces if streamed and pieces else [text], "verbatim": True}
    return {"chunks": pieces} if streamed and pieces else text


def _sent_deltas(source: Any) -> int:
    """How many deltas a recorded text source streams as (none counted for a plain text)."""
    return len(source["chunks"]) if isinstance(source, dict) else 0


def text_block(source: Any, citations: list[dict[str, Any]] | None = None) -> Block:
    """The Block of a checked `text:` value with the citations beside it, if any. The wire's form
    {text, citations} is the same block, so a content list's `- text:` and a reply's `text:`
    shorthand both read it here."""
    if isinstance(source, dict):  # the wire's fields: {text: ..., citations: [...]}
        source, citations = source["text"], source.get("citations", citations)
    fields = (("citations", tuple(citations)),) if citations is not None else ()
    return Block(type="text", text=source, fields=fields)


@register
@dataclass(frozen=True, slots=True, eq=False)
class Text(BlockKind):
    """Text, with `citations` beside it or in its wire form: each streams as one `citations_delta`
    before the text."""

    TYPE = "text"
    KEY_DOC = "A text block; citations: [...] beside it, or inside its wire form."
    FINGERPRINTED = frozenset({"type", "text", "citations", "cache_control"})

    text: str
    pieces: tuple[str, ...] | None = None
    citations: tuple[dict[str, Any], ...] = ()

    @classmethod
    def spec(cls) -> Any:
        return block_spec(cls, Ref("text_source", doc="A text block."), citations=cite.CITATIONS)

    @classmethod
    def load(cls, w: Walker, f: Fields, path: str) -> Any:
        value = f.values["text"]
        if isinstance(value, dict) and "citations" in value and "citations" in f.values:
            return w.fail(
                f.key_mark("citations"),
                f"'citations' is given twice in {path}: beside text: and inside it; keep one",
            )
        return text_block(value, f.get("citations"))

    @classmethod
    def render(cls, block: Block, ctx: RenderContext) -> Text:
        assert block.text is not None
        source = block.text
        if not block.fields and isinstance(source, LiteralText) and _is_fixed(source.value):
            return _fixed(source.value)
        text, pieces = resolve(block.text, ctx.text, salt=str(ctx.position))
        given = dict(block.fields).get("citations", ())
        body = ctx.request.body
        return cls(
            text=text,
            pieces=pieces,
            citations=tuple(cite.complete(c, body, ctx.seed, ctx.fingerprint) for c in given),
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "text", "text": self.text}
        if self.citations:
            out["citations"] = list(self.citations)
        return out

    def opening(self) -> dict[str, Any]:
        return {"type": "text", "text": ""}

    def deltas(self, split: Splitter) -> list[Delta]:
        pieces = self.pieces if self.pieces is not None else split("text", self.text)
        out: list[Delta] = [({"type": "citations_delta", "citation": c}, "") for c in self.citations]
        return out + [({"type": "text_delta", "text": p}, p) for p in pieces]

    def output_tokens(self) -> int:
        return count_tokens(self.text)

    def cut(self, budget: int) -> Text | None:
        return self.prefix(len(_first_tokens(self.text, budget))) if budget > 0 else None

    def stop_at(self, sequences: tuple[str, ...]) -> tuple[int, str] | None:
        found = [(self.text.find(s), s) for s in sequences if s and s in self.text]
        return min(found) if found else None

    def prefix(self, position: int) -> Text:
        text = self.text[:position]
        return Text(text=text, pieces=_prefix_pieces(self.pieces, text), citations=self.citations)

    @classmethod
    def record(cls, received: Received, scrubber: Scrubber, streamed: bool) -> tuple[dict[str, Any], int]:
        pieces = received.pieces("text_delta", "text")
        source = recorded_text(str(received.start.get("text", "")), pieces, scrubber, streamed)
        given = received.start.get("citations") or []
        streamed_citations = [
            d.get("citation") for d in received.deltas if d.get("type") == "citations_delta"
        ]
        citations = scrubber.json([*given, *streamed_citations])
        entry: dict[str, Any] = {"text": source}
        if citations:
            entry["citations"] = citations
        return entry, _sent_deltas(source) + len(streamed_citations)


@register
@dataclass(frozen=True, slots=True, eq=False)
class Thinking(BlockKind):
    """`thinking`: streams as `thinking_delta` pieces and ends with one `signature_delta`; the
    signature is derived from seed and request unless the scenario gives one. Under the request's
    `thinking.display: omitted` the text is billed but not sent: the block is `""` and its
    signature, and its stream only the `signature_delta` (docs/wire.md §5.6)."""

    TYPE = "thinking"
    KEY_DOC = (
        "A thinking block; its signature is generated unless given (beside it, or inside its wire form)."
    )
    FINGERPRINTED = frozenset({"type", "thinking", "signature", "cache_control"})

    thinking: str
    signature: str
    pieces: tuple[str, ...] | None = None
    shown: bool = True

    @classmethod
    def spec(cls) -> Any:
        return block_spec(
            cls,
            Ref("thinking_source", doc="A thinking block."),
            signature=Str(doc="Thinking signature; generated deterministically unless given."),
        )

    @classmethod
    def load(cls, w: Walker, f: Fields, path: str) -> Any:
        value, signature = f.values["thinking"], f.get("signature")
        if isinstance(value, dict):  # the wire's fields: {thinking: ..., signature: ...}
            if "signature" in value and "signature" in f.values:
                return w.fail(
                    f.key_mark("signature"),
                    f"'signature' is given twice in {path}: beside thinking: and inside it; keep one",
                )
            value, signature = value["thinking"], value.get("signature", signature)
        return Block(type="thinking", text=value, signature=signature)

    @classmethod
    def render(cls, block: Block, ctx: RenderContext) -> Thinking:
        assert block.text is not None
        text, pieces = resolve(block.text, ctx.text, salt=str(ctx.position))
        shown = ctx.request.thinking_shown
        sent = text if shown else ""  # what the signature checks (`wire.signatures`)
        if block.signature is None:
            signature = ids.thinking_signature(ctx.seed, ctx.fingerprint, ctx.position, text, sent)
        else:  # a signature of mockbay's that a scenario kept is bound to the text it now sends
            signature = rebound_signature(block.signature, sent)
        return cls(thinking=text, signature=signature, pieces=pieces, shown=shown)

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "thinking",
            "thinking": self.thinking if self.shown else "",
            "signature": self.signature,
        }

    def opening(self) -> dict[str, Any]:
        return {"type": "thinking", "thinking": "", "signature": ""}

    def deltas(self, split: Splitter) -> list[Delta]:
        out: list[Delta] = []
        if self.shown:
            pieces = self.pieces if self.pieces is not None else split("thinking", self.thinking)
            out.extend(({"type": "thinking_delta", "thinking": p}, p) for p in pieces)
        out.append(({"type": "signature_delta", "signature": self.signature}, ""))
        return out

    def output_tokens(self) -> int:
        return count_tokens(self.thinking)

    def cut(self, budget: int) -> Thinking | None:
        if budget <= 0:
            return None
        text = _first_tokens(self.thinking, budget)
        pieces = _prefix_pieces(self.pieces, text)
        signature = rebound_signature(self.signature, text if self.shown else "")
        return Thinking(thinking=text, signature=signature, pieces=pieces, shown=self.shown)

    @classmethod
    def record(cls, received: Received, scrubber: Scrubber, streamed: bool) -> tuple[dict[str, Any], int]:
        pieces = received.pieces("thinking_delta", "thinking")
        source = recorded_text(str(received.start.get("thinking", "")), pieces, scrubber, streamed)
        signatures = received.pieces("signature_delta", "signature")  # the last replaces, as in the SDK
        signature = (
            signatures[-1] if signatures and signatures[-1] else str(received.start.get("signature", ""))
        )
        entry = {"thinking": source, "signature": scrubber.text(signature)}
        return entry, _sent_deltas(source) + 1


@register
@dataclass(frozen=True, slots=True, eq=False)
class RedactedThinking(BlockKind):
    """`redacted_thinking`: opaque `data`, sent whole in `content_block_start` and counted at
    about four characters a token."""

    TYPE = "redacted_thinking"
    KEY_DOC = "A redacted_thinking block: its opaque data."
    FINGERPRINTED = frozenset({"type", "data", "cache_control"})

    data: str

    @classmethod
    def spec(cls) -> Any:
        wire = Obj(
            {"data": Str(doc="Opaque data of a redacted_thinking block.")},
            tag="data",
            build="wire_fields",
            doc="The wire's fields of a redacted_thinking block: {data}.",
        )
        return block_spec(
            cls,
            OneOf(
                (Str(doc="Opaque data of a redacted_thinking block."), wire),
                doc="A redacted_thinking block: its opaque data, or the wire's {data: ...}.",
            ),
        )

    @classmethod
    def load(cls, w: Walker, f: Fields, path: str) -> Any:
        value = f.values["redacted_thinking"]
        return Block(type="redacted_thinking", data=value["data"] if isinstance(value, dict) else value)

    @classmethod
    def render(cls, block: Block, ctx: RenderContext) -> RedactedThinking:
        return cls(data=block.data or "")

    def to_json(self) -> dict[str, Any]:
        return {"type": "redacted_thinking", "data": self.data}

    def output_tokens(self) -> int:
        return math.ceil(len(self.data) / 4)

    @classmethod
    def record(cls, received: Received, scrubber: Scrubber, streamed: bool) -> tuple[dict[str, Any], int]:
        return {"redacted_thinking": scrubber.text(str(received.start.get("data", "")))}, 0
