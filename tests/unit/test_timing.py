"""The pure timing model: folding levels, delta sizes, deadlines, recorded gaps, keep-alive pings."""

from __future__ import annotations

import itertools
import random

import pytest

from mockbay.lru import MEMO_KEY_CHARS
from mockbay.render.events import PING, PlannedEvent
from mockbay.scenario.loader import load_text
from mockbay.scenario.model import Recorded, Timing
from mockbay.timing import (
    KEEPALIVE_S,
    _known_family,
    effective_timing,
    make_splitter,
    never_waits,
    schedule,
)


def _events(deltas: int) -> list[PlannedEvent]:
    head = [
        PlannedEvent({"type": "message_start"}),
        PlannedEvent({"type": "content_block_start", "index": 0}),
    ]
    body = [PlannedEvent({"type": "content_block_delta", "index": 0}, tokens=3) for _ in range(deltas)]
    tail = [PlannedEvent({"type": t}) for t in ("content_block_stop", "message_delta", "message_stop")]
    return head + body + tail


@pytest.mark.parametrize(
    ("levels", "expected_mode", "ttft"),
    [
        ([Timing(mode="instant")], "instant", 0.0),
        ([Timing(mode="realistic")], "realistic", 400.0),
        ([Timing(mode="instant"), Timing(ttft_ms=50, gap_ms=10)], "explicit", 50.0),
        ([Timing(mode="realistic"), Timing(mode="instant")], "instant", 0.0),
        ([Timing(mode="realistic"), None, Timing(ttft_ms=900)], "realistic", 900.0),
        ([Timing(mode="recorded"), Timing(tokens_per_second=10)], "explicit", 400.0),
    ],
)
def test_levels_fold_most_specific_last(levels, expected_mode, ttft):
    timing = effective_timing("claude-haiku-4-5", levels)
    assert (timing.mode, timing.ttft_ms) == (expected_mode, ttft)


def test_a_fixed_gap_drops_inherited_jitter_unless_asked():
    fixed = effective_timing("m", [Timing(mode="realistic"), Timing(ttft_ms=20, gap_ms=20)])
    assert (fixed.mode, fixed.gap_ms, fixed.jitter) == ("realistic", 20, 0.0)
    asked = effective_timing("m", [Timing(mode="realistic"), Timing(gap_ms=20, jitter=0.1)])
    assert asked.jitter == 0.1
    rate_only = effective_timing("m", [Timing(mode="realistic"), Timing(tokens_per_second=10)])
    assert rate_only.jitter == 0.15


def test_family_defaults_differ_by_model():
    haiku = effective_timing("claude-haiku-4-5", [Timing(mode="realistic")])
    opus = effective_timing("claude-opus-4-8", [Timing(mode="realistic")])
    assert haiku.tokens_per_second > opus.tokens_per_second and haiku.ttft_ms < opus.ttft_ms


def test_instant_sends_everything_at_zero():
    planned = schedule(_events(5), effective_timing("m", [Timing(mode="instant")]), random.Random(1), None)
    assert {offset for offset, _ in planned} == {0.0}


def test_explicit_gaps_put_deltas_on_a_grid():
    timing = effective_timing("m", [Timing(ttft_ms=100, gap_ms=20)])
    planned = schedule(_events(4), timing, random.Random(1), None)
    offsets = [round(o, 6) for o, e in planned if e.is_delta]
    assert offsets == [0.1, 0.12, 0.14, 0.16]
    assert planned[0][0] == 0.0 and planned[-1][0] == pytest.approx(0.16)


def test_rate_spaces_deltas_by_their_tokens():
    timing = effective_timing("m", [Timing(ttft_ms=0, tokens_per_second=100)])
    offsets = [o for o, e in schedule(_events(3), timing, random.Random(1), None) if e.is_delta]
    assert offsets == pytest.approx([0.0, 0.03, 0.06])


def test_same_seed_same_schedule_other_seed_differs():
    timing = effective_timing("claude-sonnet-4-6", [Timing(mode="realistic")])
    first = schedule(_events(30), timing, random.Random("seed-1"), None)
    again = schedule(_events(30), timing, random.Random("seed-1"), None)
    other = schedule(_events(30), timing, random.Random("seed-2"), None)
    assert [o for o, _ in first] == [o for o, _ in again]
    assert [o for o, _ in first] != [o for o, _ in other]
    gaps = [b - a for (a, ea), (b, eb) in itertools.pairwise(first) if ea.is_delta and eb.is_delta]
    assert min(gaps) > 0 and max(gaps) / min(gaps) > 1.01


def test_recorded_gaps_are_replayed_and_missing_ones_are_instant():
    timing = effective_timing("m", [Timing(mode="recorded")])
    planned = schedule(_events(2), timing, random.Random(1), Recorded(ttft_ms=100, gaps_ms=(10, 20, 30)))
    assert [round(o, 6) for o, _ in planned] == [0.1, 0.11, 0.13, 0.16, 0.16, 0.16, 0.16]
    no_recording = schedule(_events(2), timing, random.Random(1), None)
    assert {o for o, _ in no_recording} == {0.0}


def test_long_pauses_get_keepalive_pings():
    timing = effective_timing("m", [Timing(mode="recorded")])
    planned = schedule(_events(1), timing, random.Random(1), Recorded(ttft_ms=0, gaps_ms=(0, 12_000)))
    pings = [o for o, e in planned if e.data is PING]
    assert pings == [KEEPALIVE_S, 2 * KEEPALIVE_S]


@pytest.mark.parametrize(("kind", "low", "high"), [("text", 2, 6), ("thinking", 6, 20), ("tool_use", 2, 5)])
def test_realistic_deltas_carry_several_tokens(kind, low, high):
    split = make_splitter(effective_timing("m", [Timing(mode="realistic")]), random.Random(3))
    text = "The quick brown fox jumps over the lazy dog. " * 20
    pieces = split(kind, text)
    assert "".join(pieces) == text
    assert len(text) / len(pieces) > 4 * low / 2


def test_delta_tokens_fixes_the_size():
    split = make_splitter(effective_timing("m", [Timing(delta_tokens=1)]), random.Random(3))
    assert split("text", "Hello, world") == ["Hell", "o", ",", " worl", "d"]


# Whether a server may compute a JSON answer inline: (server timing, scenario YAML, expected)
NEVER_WAITS = {
    "instant, plain reply": ("instant", "rules: [{reply: {text: a}}]", True),
    "realistic server": ("realistic", "rules: [{reply: {text: a}}]", False),
    "a timed scenario": ("instant", "timing: realistic\nrules: [{reply: {text: a}}]", False),
    "a scenario made instant again": (
        "instant",
        "timing: realistic\nrules: [{reply: {text: a, timing: instant}}]",
        True,
    ),
    "a reply's numbers": ("instant", "rules: [{reply: {text: a, timing: {ttft_ms: 5}}}]", False),
    "an error reply": ("instant", "rules: [{reply: {error: {status: 529}}}]", True),
    "a fault in a sequence": (
        "instant",
        "rules: [{replies: [{text: a}, {fault: {kind: disconnect}}]}]",
        False,
    ),
    "a turn's fault": ("instant", "turns: [{reply: {fault: {kind: stall}}}]", False),
}


@pytest.mark.parametrize("server, scenario, expected", NEVER_WAITS.values(), ids=NEVER_WAITS.keys())
def test_never_waits_reads_every_level_and_fault(server, scenario, expected):
    assert never_waits(load_text(f"name: s\n{scenario}\n"), server) is expected


def test_the_family_memo_keeps_no_long_model_name() -> None:
    """Requests choose model names: one longer than MEMO_KEY_CHARS is read afresh every time, never
    kept, so the family memo's bytes stay bounded; a short one is kept and read alike."""
    long_model = "claude-opus-" + "x" * MEMO_KEY_CHARS
    before = _known_family.cache_info().currsize
    assert effective_timing(long_model, [Timing(mode="realistic")]).ttft_ms == 1500.0
    assert _known_family.cache_info().currsize == before
    assert effective_timing("claude-opus-short", [Timing(mode="realistic")]).ttft_ms == 1500.0
    assert _known_family.cache_info().currsize == before + 1
