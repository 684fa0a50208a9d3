"""Cache diagnostics: why a request's prompt-cache prefix diverged from an earlier request's.

A request that sends `diagnostics` leaves a `Fingerprint` under its reply's id: hashes of its
model (with `speed`), tools, system prompt and message settings, a hash chained over its prompt
segments (tools → system → messages, as the simulated cache orders them), and the chained hash and
prompt tokens at each breakpoint long enough to cache. A later request naming that id in
`diagnostics.previous_message_id` is compared with it, first difference first
(docs/wire-notes.md, "Cache diagnostics"):

- no fingerprint under the id → `previous_message_not_found`;
- `model` or `speed` differs → `model_changed`;
- `tools` differ (added, removed, reordered, edited) → `tools_changed`;
- `system` differs → `system_changed`;
- `tool_choice` or `thinking` differs → `unavailable` (the SDK's kind for other prompt-affecting
  parameters);
- the earlier request's segments are not a prefix of this one's → `messages_changed`;
- else nothing diverged: no diagnostics.

`cache_missed_input_tokens` is the earlier prompt's tokens up to its last cacheable breakpoint,
less those up to the last of its breakpoints this request still shares. The comparison is of the
requests' structure, whether or not the cache is simulated or hit; markers play no part.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from mockbay.usage.cache import MESSAGE_SETTINGS, cacheable_breakpoints, prefix_ends
from mockbay.usage.estimate import Section, Segment, canonical_json, split_request

CacheMissKind = Literal[
    "model_changed",
    "system_changed",
    "tools_changed",
    "messages_changed",
    "previous_message_not_found",
    "unavailable",
]
_DIGEST_BYTES = 8  # 16 hex characters: the fingerprint stays a few hundred bytes


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What a later request is compared with; never the prompt itself."""

    model: str
    tools: str
    system: str
    settings: str
    segments: int  # how many prompt segments the request had
    chain: str  # the chained hash over all of them ("" for none)
    breakpoints: tuple[tuple[int, str, int], ...]  # (segment index, chained hash there, tokens to it)

    def dumps(self) -> str:
        return json.dumps(
            [self.model, self.tools, self.system, self.settings, self.segments, self.chain, self.breakpoints],
            separators=(",", ":"),
        )

    @classmethod
    def loads(cls, text: str) -> Fingerprint:
        model, tools, system, settings, segments, chain, breakpoints = json.loads(text)
        return cls(model, tools, system, settings, segments, chain, tuple(map(tuple, breakpoints)))


@dataclass(frozen=True, slots=True, eq=False)
class Prompt:
    """A request's fingerprint, with the chained hash after each of its segments to compare by."""

    fingerprint: Fingerprint
    chain: tuple[str, ...]

    @classmethod
    def of(cls, body: Mapping[str, Any], model: str) -> Prompt:
        breakdown = split_request(body)
        segments = breakdown.segments
        ends = prefix_ends(breakdown.preamble, segments)
        texts = [segment.canonical for segment in segments]  # computed once: the JSON of each block
        model_key = canonical_json([model, body.get("speed")])
        chain = _chain(model_key, texts)
        breakpoints = tuple(
            (i, chain[i], ends[i]) for i, _ in cacheable_breakpoints(segments, ends, body, model, {})
        )
        fingerprint = Fingerprint(
            model=_digest(model_key),
            tools=_section(segments, texts, "tools"),
            system=_section(segments, texts, "system"),
            settings=_digest(canonical_json([body.get(name) for name in MESSAGE_SETTINGS])),
            segments=len(segments),
            chain=chain[-1] if chain else "",
            breakpoints=breakpoints,
        )
        return cls(fingerprint, tuple(chain))


def diagnose(previous: Fingerprint | None, current: Prompt) -> dict[str, Any] | None:
    """The `cache_miss_reason` of `current` against `previous` (None: no fingerprint under the id),
    or None when nothing diverged."""
    if previous is None:
        return {"type": "previous_message_not_found"}
    kind = _first_difference(previous, current)
    if kind is None or kind == "unavailable":
        return None if kind is None else {"type": kind}
    return {"type": kind, "cache_missed_input_tokens": _missed(previous, current.chain)}


def _first_difference(previous: Fingerprint, current: Prompt) -> CacheMissKind | None:
    """The first of the module docstring's rules that applies, in its order."""
    now = current.fingerprint
    compared: tuple[tuple[CacheMissKind, str, str], ...] = (
        ("model_changed", previous.model, now.model),
        ("tools_changed", previous.tools, now.tools),
        ("system_changed", previous.system, now.system),
        ("unavailable", previous.settings, now.settings),
    )
    for kind, before, after in compared:
        if before != after:
            return kind
    if previous.segments and _at(current.chain, previous.segments - 1) != previous.chain:
        return "messages_changed"
    return None


def _missed(previous: Fingerprint, chain: Sequence[str]) -> int:
    """The earlier prompt's tokens to its last breakpoint, less those to the last breakpoint whose
    prefix this request repeats (0 when the earlier one had none long enough to cache)."""
    if not previous.breakpoints:
        return 0
    shared = [tokens for index, digest, tokens in previous.breakpoints if _at(chain, index) == digest]
    return previous.breakpoints[-1][2] - max(shared, default=0)


def _at(chain: Sequence[str], index: int) -> str | None:
    return chain[index] if index < len(chain) else None


def _chain(start: str, texts: Sequence[str]) -> list[str]:
    """The hash of `start` and every segment's text up to each index."""
    digest = hashlib.blake2b(start.encode(), digest_size=_DIGEST_BYTES)
    chain = []
    for text in texts:
        digest.update(b"\n" + text.encode())
        chain.append(digest.hexdigest())
    return chain


def _section(segments: Sequence[Segment], texts: Sequence[str], section: Section) -> str:
    """The hash of one section's segments' texts, in order."""
    return _digest("\n".join(text for s, text in zip(segments, texts, strict=True) if s.section == section))


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=_DIGEST_BYTES).hexdigest()
