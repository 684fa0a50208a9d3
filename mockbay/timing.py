"""When each SSE event leaves: timing modes, per-family defaults, delta sizes, offsets, pings.

Pure: (events, effective timing, rng) -> offsets in seconds from the start of the response.
The stream writer sends each event at `start + offset` (deadlines, not sleeps after writes).
Defaults per model family follow the docs/wire.md §14 figures (third-party measurements).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, NamedTuple

from mockbay.lru import MEMO_KEY_CHARS
from mockbay.render.events import PING, PlannedEvent, Splitter
from mockbay.scenario.model import Recorded, Scenario, Timing, TimingMode
from mockbay.tokens import split_tokens
from mockbay.wire.models import model_family
from mockbay.wire.sse import encode_event

# family -> (time to first token in ms, output tokens per second)
FAMILY_SPEED: dict[str, tuple[float, float]] = {
    "haiku": (400.0, 150.0),
    "sonnet": (900.0, 65.0),
    "opus": (1500.0, 45.0),
    "fable": (2000.0, 40.0),
    "mythos": (1500.0, 50.0),
    "other": (800.0, 60.0),
}
REALISTIC_JITTER = 0.15
# tokens per delta drawn uniformly in these ranges: upstream sends several tokens per text delta,
# thinking in larger bursts, tool input JSON in small pieces.
DELTA_TOKENS: dict[str, tuple[int, int]] = {"text": (2, 6), "thinking": (6, 20), "tool_use": (2, 5)}
KEEPALIVE_S = 5.0  # a ping whenever the stream would otherwise be silent this long


class Scheduled(NamedTuple):
    """One encoded event and when it leaves; `counted` is false for pings (faults count the rest)."""

    offset: float
    data: bytes
    counted: bool


def encode_schedule(
    planned: Sequence[tuple[float, PlannedEvent]],
    encode: Callable[[dict[str, Any]], bytes] = encode_event,
) -> tuple[Scheduled, ...]:
    """Encode once (SSE, or a platform's framing): a memoised schedule is then shared, as bytes, by
    every stream that replays it."""
    return tuple(Scheduled(offset, encode(e.data), e.data["type"] != "ping") for offset, e in planned)


@dataclass(frozen=True, slots=True, eq=False)
class EffectiveTiming:
    """The timing in force for one reply, after folding server, scenario and reply levels."""

    mode: str  # instant | realistic | recorded | explicit
    ttft_ms: float = 0.0
    tokens_per_second: float = 0.0
    jitter: float = 0.0
    gap_ms: float | None = None
    delta_tokens: int | None = None


def effective_timing(model: str, levels: Sequence[Timing | None]) -> EffectiveTiming:
    """Fold timing levels, least specific first: a mode resets, numbers refine. Cached by model
    family and levels (frozen values), as every request asks it again of the same few."""
    return _fold(_family(model), tuple(levels))


def _family(model: str) -> str:
    """`model_family`, memoised for names of at most `MEMO_KEY_CHARS` characters (a longer one is
    searched afresh): it is a function of the model string alone, and clients name a few models
    again and again (its substring search took 0.7 us a request)."""
    return _known_family(model) if len(model) <= MEMO_KEY_CHARS else model_family(model)


_known_family = lru_cache(maxsize=256)(model_family)  # 256 x MEMO_KEY_CHARS characters at most


@lru_cache(maxsize=8)
def server_timing(mode: TimingMode) -> Timing:
    """The server's `--timing` as the least specific level, built once per mode (a frozen value:
    every request reads the same one, and hashes it for `_fold`)."""
    return Timing(mode=mode)


@lru_cache(maxsize=1024)
def _fold(family: str, levels: tuple[Timing | None, ...]) -> EffectiveTiming:
    ttft, tps = FAMILY_SPEED[family]
    current = EffectiveTiming(mode="instant")
    for level in levels:
        if level is None:
            continue
        if level.mode is not None:
            current = _mode_defaults(level.mode, ttft, tps)
        numbers = {
            name: getattr(level, name)
            for name in ("ttft_ms", "tokens_per_second", "jitter", "gap_ms", "delta_tokens")
            if getattr(level, name) is not None
        }
        if numbers:
            if current.mode in ("instant", "recorded"):
                current = EffectiveTiming(mode="explicit", ttft_ms=ttft, tokens_per_second=tps)
            if "gap_ms" in numbers:  # a fixed gap: no inherited jitter unless this level asks for one
                numbers.setdefault("jitter", 0.0)
            current = replace(current, **numbers)
    return current


def _mode_defaults(mode: str, ttft: float, tps: float) -> EffectiveTiming:
    if mode == "realistic":
        return EffectiveTiming(mode=mode, ttft_ms=ttft, tokens_per_second=tps, jitter=REALISTIC_JITTER)
    return EffectiveTiming(mode=mode)


def make_splitter(timing: EffectiveTiming, rng: random.Random) -> Splitter:
    """Cut a block's text into deltas of a few tokens each, sizes drawn from `rng`."""

    def split(kind: str, text: str) -> list[str]:
        tokens = split_tokens(text)
        low, high = DELTA_TOKENS.get(kind, (2, 6))
        pieces, i = [], 0
        while i < len(tokens):
            size = timing.delta_tokens or rng.randint(low, high)
            pieces.append("".join(tokens[i : i + size]))
            i += size
        return pieces

    return split


def schedule(
    events: list[PlannedEvent], timing: EffectiveTiming, rng: random.Random, recorded: Recorded | None
) -> list[tuple[float, PlannedEvent]]:
    """(offset in seconds, event) for every event, with keep-alive pings in long silences."""
    if timing.mode == "instant":
        return [(0.0, e) for e in events]
    if timing.mode == "recorded":
        return _with_keepalive(list(zip(_recorded_offsets(events, recorded), events, strict=True)))
    offsets, now, first_delta = [], 0.0, True
    for event in events:
        if event.is_delta:
            if first_delta:
                now, first_delta = timing.ttft_ms / 1000, False
            else:
                now += _gap_s(timing, event.tokens, rng)
        offsets.append((now, event))
    return _with_keepalive(offsets)


def _gap_s(timing: EffectiveTiming, tokens: int, rng: random.Random) -> float:
    if timing.gap_ms is not None:
        base = timing.gap_ms / 1000
    else:
        base = max(tokens, 1) / max(timing.tokens_per_second, 1e-6)
    if timing.jitter:
        base *= 1 + timing.jitter * rng.uniform(-1.0, 1.0)
    return max(base, 0.0)


def _recorded_offsets(events: list[PlannedEvent], recorded: Recorded | None) -> list[float]:
    """First event at ttft, then each recorded gap; events beyond the recording follow at once.

    Recordings leave pings out of `gaps_ms` (their time is in the next gap), so a ping here
    leaves with the event before it and spends no gap.
    """
    if recorded is None:
        return [0.0] * len(events)
    offsets, now, used = [], recorded.ttft_ms / 1000, 0
    for i, event in enumerate(events):
        if i and event.data is not PING and used < len(recorded.gaps_ms):
            now += recorded.gaps_ms[used] / 1000
            used += 1
        offsets.append(now)
    return offsets


def recorded_fault_offset(recorded: Recorded | None, after_events: int | None) -> float | None:
    """When a recorded `error_event` left: after the gap that followed the last event sent."""
    if recorded is None or not after_events or len(recorded.gaps_ms) < after_events:
        return None
    return (recorded.ttft_ms + sum(recorded.gaps_ms[:after_events])) / 1000


def _with_keepalive(planned: list[tuple[float, PlannedEvent]]) -> list[tuple[float, PlannedEvent]]:
    out: list[tuple[float, PlannedEvent]] = []
    previous = 0.0
    for offset, event in planned:
        while out and offset - previous > KEEPALIVE_S:
            previous += KEEPALIVE_S
            out.append((previous, PlannedEvent(PING)))
        out.append((offset, event))
        previous = offset
    return out


def never_waits(scenarios: Iterable[Scenario], mode: TimingMode) -> bool:
    """Whether no reply of `scenarios` served under timing `mode` can wait before its JSON answer:
    every level of its timing folds to instant and it has no fault. Then a rendered JSON answer is
    complete at once, which the protocol's inline answer (`server/inline.py`) relies on."""
    server = Timing(mode=mode)
    for scenario in scenarios:
        for step in (*scenario.rules, *scenario.turns):
            for reply in (step.reply, *step.replies) if step.reply is not None else step.replies:
                levels = (server, scenario.timing, reply.timing)
                if reply.fault is not None or effective_timing("", levels).mode != "instant":
                    return False
    return server.mode == "instant"
