"""The simulated prompt cache: writes, reads, misses, minimums, lifetimes, lookback, billing, bounds."""

from __future__ import annotations

from typing import Any

import pytest

from mockbay.usage.cache import LOOKBACK_BLOCKS, CacheOutcome, PromptCache
from mockbay.usage.estimate import estimate_input_tokens

MODEL = "claude-sonnet-4-5"  # minimum cacheable prefix 1,024 tokens; 3.5 chars/token
FIVE_MIN = {"type": "ephemeral"}
ONE_HOUR = {"type": "ephemeral", "ttl": "1h"}
LONG_SYSTEM = "s" * 7000  # 2,000 tokens: with the 2-token request framing the prefix is 2,002
QUESTION = "q" * 70  # 20 tokens + 2 of message framing = 22


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def text(value: str, marker: dict[str, Any] | None = None) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "text", "text": value}
    if marker:
        block["cache_control"] = marker
    return block


def request(
    system: str = LONG_SYSTEM,
    question: str = QUESTION,
    marker: dict[str, Any] | None = FIVE_MIN,
    **extra: Any,
) -> dict[str, Any]:
    """A body whose system prompt is marked for caching, then one user question."""
    return {
        "model": MODEL,
        "max_tokens": 100,
        "system": [text(system, marker)],
        "messages": [{"role": "user", "content": question}],
        **extra,
    }


def apply(cache: PromptCache, scope: str, body: dict[str, Any], model: str) -> CacheOutcome:
    """One request accounted and kept, as the server's admission does: `plan` then `commit`."""
    plan = cache.plan(scope, body, model)
    cache.commit(plan)
    return plan.outcome


def check_sums(outcome: CacheOutcome, body: dict[str, Any]) -> CacheOutcome:
    total = outcome.input_tokens + outcome.cache_read_input_tokens + outcome.cache_creation_input_tokens
    assert total == estimate_input_tokens(body)
    assert (
        outcome.ephemeral_5m_input_tokens + outcome.ephemeral_1h_input_tokens
        == outcome.cache_creation_input_tokens
    )
    return outcome


WRITE = CacheOutcome(input_tokens=22, cache_creation_input_tokens=2002, ephemeral_5m_input_tokens=2002)
READ = CacheOutcome(input_tokens=22, cache_read_input_tokens=2002)


def test_write_then_read() -> None:
    cache = PromptCache(clock=Clock())
    assert check_sums(apply(cache, "global", request(), MODEL), request()) == WRITE
    assert check_sums(apply(cache, "global", request(), MODEL), request()) == READ
    longer = request(question=QUESTION * 2)
    assert check_sums(apply(cache, "global", longer, MODEL), longer) == CacheOutcome(
        input_tokens=42, cache_read_input_tokens=2002
    )


def test_one_hour_marker_writes_one_hour_tokens() -> None:
    body = request(marker=ONE_HOUR)
    outcome = apply(PromptCache(clock=Clock()), "global", body, MODEL)
    assert outcome == CacheOutcome(
        input_tokens=22, cache_creation_input_tokens=2002, ephemeral_1h_input_tokens=2002
    )


@pytest.mark.parametrize(
    ("scope", "body", "model"),
    [
        ("global", request(system=LONG_SYSTEM + "!"), MODEL),
        ("session-b", request(), MODEL),
        ("global", request(), "claude-sonnet-4-5-20250929"),
        ("global", request(tools=[{"name": "t", "input_schema": {"type": "object"}}]), MODEL),
    ],
    ids=["other-system", "other-scope", "other-model", "tools-added-before"],
)
def test_a_different_prefix_misses(scope: str, body: dict[str, Any], model: str) -> None:
    cache = PromptCache(clock=Clock())
    apply(cache, "global", request(), MODEL)
    outcome = check_sums(apply(cache, scope, body, model), body)
    assert outcome.cache_read_input_tokens == 0
    assert outcome.cache_creation_input_tokens > 0


def test_unmarked_request_is_not_cached() -> None:
    cache = PromptCache(clock=Clock())
    body = request(marker=None)
    assert apply(cache, "global", body, MODEL) == CacheOutcome(input_tokens=2024)
    assert apply(cache, "global", body, MODEL) == CacheOutcome(input_tokens=2024)
    assert len(cache) == 0


@pytest.mark.parametrize(
    ("min_tokens", "cached"),
    [(None, False), ({MODEL: 1002}, True), ({MODEL: 1003}, False)],
    ids=["model-minimum-1024", "override-at-length", "override-above"],
)
def test_prefix_below_the_minimum_is_not_cached(min_tokens: dict[str, int] | None, cached: bool) -> None:
    cache = PromptCache(clock=Clock(), min_tokens=min_tokens)
    body = request(system="s" * 3500)  # prefix 2 + 1,000 = 1,002 tokens
    apply(cache, "global", body, MODEL)
    second = apply(cache, "global", body, MODEL)
    expected = (
        CacheOutcome(input_tokens=22, cache_read_input_tokens=1002)
        if cached
        else CacheOutcome(input_tokens=1024)
    )
    assert second == expected


@pytest.mark.parametrize(
    ("marker", "elapsed", "hit"),
    [
        (FIVE_MIN, 299.9, True),
        (FIVE_MIN, 300.0, False),
        (ONE_HOUR, 300.0, True),
        (ONE_HOUR, 3599.9, True),
        (ONE_HOUR, 3600.0, False),
    ],
)
def test_lifetimes(marker: dict[str, Any], elapsed: float, hit: bool) -> None:
    clock = Clock()
    cache = PromptCache(clock=clock)
    apply(cache, "global", request(marker=marker), MODEL)
    clock.now += elapsed
    outcome = apply(cache, "global", request(marker=marker), MODEL)
    assert outcome.cache_read_input_tokens == (2002 if hit else 0)
    assert outcome.cache_creation_input_tokens == (0 if hit else 2002)


def test_a_hit_refreshes_the_lifetime() -> None:
    clock = Clock()
    cache = PromptCache(clock=clock)
    apply(cache, "global", request(), MODEL)
    for _ in range(5):  # 20 minutes in all, never 5 without a read
        clock.now += 240
        assert apply(cache, "global", request(), MODEL) == READ
    clock.now += 300
    assert apply(cache, "global", request(), MODEL) == WRITE


def conversation(*turns: str, filler_blocks: int = 0) -> dict[str, Any]:
    """User/assistant turns; only the last block carries a marker (the usual moving breakpoint).

    `filler_blocks` one-token text blocks are put in an assistant message before the last turn.
    """
    messages: list[dict[str, Any]] = []
    for i, turn in enumerate(turns[:-1]):
        messages.append({"role": "user" if i % 2 == 0 else "assistant", "content": turn})
    if filler_blocks:
        messages.append({"role": "assistant", "content": [text("a") for _ in range(filler_blocks)]})
    messages.append({"role": "user", "content": [text(turns[-1], FIVE_MIN)]})
    return {"model": MODEL, "max_tokens": 100, "system": "Be brief.", "messages": messages}


FIRST = "u" * 7000  # 2,000 tokens + 2 framing; prefix through it: 2 + 3 (system) + 2,002 = 2,007


def test_a_moved_breakpoint_reads_the_earlier_prefix_by_lookback() -> None:
    cache = PromptCache(clock=Clock())
    first = conversation(FIRST)
    assert check_sums(apply(cache, "s", first, MODEL), first) == CacheOutcome(
        input_tokens=0, cache_creation_input_tokens=2007, ephemeral_5m_input_tokens=2007
    )
    second = conversation(FIRST, "a" * 70, "v" * 70)  # 22 + 22 tokens after the cached prefix
    assert check_sums(apply(cache, "s", second, MODEL), second) == CacheOutcome(
        input_tokens=0,
        cache_read_input_tokens=2007,
        cache_creation_input_tokens=44,
        ephemeral_5m_input_tokens=44,
    )


@pytest.mark.parametrize(
    ("filler", "hit"), [(LOOKBACK_BLOCKS - 1, True), (LOOKBACK_BLOCKS, False)], ids=["within-20", "beyond-20"]
)
def test_lookback_reaches_20_blocks(filler: int, hit: bool) -> None:
    cache = PromptCache(clock=Clock())
    apply(cache, "s", conversation(FIRST), MODEL)
    later = conversation(FIRST, "v" * 70, filler_blocks=filler)
    outcome = check_sums(apply(cache, "s", later, MODEL), later)
    assert outcome.cache_read_input_tokens == (2007 if hit else 0)


def test_automatic_caching_marks_the_last_block() -> None:
    cache = PromptCache(clock=Clock())
    body = request(marker=None, cache_control=ONE_HOUR)
    assert check_sums(apply(cache, "g", body, MODEL), body) == CacheOutcome(
        input_tokens=0, cache_creation_input_tokens=2024, ephemeral_1h_input_tokens=2024
    )
    assert apply(cache, "g", body, MODEL) == CacheOutcome(input_tokens=0, cache_read_input_tokens=2024)
    follow_up = {
        **body,
        "messages": [
            *body["messages"],
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": "more"},
        ],
    }
    outcome = check_sums(apply(cache, "g", follow_up, MODEL), follow_up)
    assert outcome.cache_read_input_tokens == 2024
    assert outcome.ephemeral_1h_input_tokens == outcome.cache_creation_input_tokens > 0


BIG_TOOL = {"name": "get_weather", "description": "d" * 3500, "input_schema": {"type": "object"}}


def mixed(question: str) -> dict[str, Any]:
    """Tool marked 1h (prefix 1,519 with the 496-token tool prompt), system 5m (1,719), question 5m."""
    return {
        "model": MODEL,
        "max_tokens": 100,
        "tools": [{**BIG_TOOL, "cache_control": ONE_HOUR}],
        "system": [text("s" * 700, FIVE_MIN)],
        "messages": [{"role": "user", "content": [text(question, FIVE_MIN)]}],
    }


def test_mixed_lifetimes_bill_positions_a_b_c() -> None:
    cache = PromptCache(clock=Clock())
    first = mixed("q" * 70)  # question: 22 tokens, prompt 1,741
    assert check_sums(apply(cache, "g", first, MODEL), first) == CacheOutcome(
        input_tokens=0,
        cache_creation_input_tokens=1741,
        ephemeral_1h_input_tokens=1519,  # B - A with A = nothing read
        ephemeral_5m_input_tokens=222,  # C - B
    )
    second = mixed("w" * 140)  # question: 42 tokens; A = the system breakpoint
    assert check_sums(apply(cache, "g", second, MODEL), second) == CacheOutcome(
        input_tokens=0,
        cache_read_input_tokens=1719,
        cache_creation_input_tokens=42,
        ephemeral_5m_input_tokens=42,
    )


def test_changed_thinking_invalidates_messages_but_not_system() -> None:
    cache = PromptCache(clock=Clock())
    body = conversation(FIRST)
    body["system"] = [text(LONG_SYSTEM, FIVE_MIN)]  # prefix 2,002; through FIRST 4,004
    apply(cache, "g", body, MODEL)
    assert apply(cache, "g", body, MODEL).cache_read_input_tokens == 4004
    thinking = {**body, "thinking": {"type": "enabled", "budget_tokens": 2048}}
    outcome = check_sums(apply(cache, "g", thinking, MODEL), thinking)
    assert outcome.cache_read_input_tokens == 2002 + 100  # the prefix counts the thinking prompt
    assert outcome.cache_creation_input_tokens == 2002


def distinct(n: int) -> dict[str, Any]:
    return request(system=LONG_SYSTEM + str(n))


def test_least_recently_used_entry_is_evicted() -> None:
    cache = PromptCache(max_entries=2, clock=Clock())
    for n in range(3):
        apply(cache, "g", distinct(n), MODEL)
    assert len(cache) == 2
    assert apply(cache, "g", distinct(2), MODEL).cache_read_input_tokens > 0  # now most recent
    assert apply(cache, "g", distinct(0), MODEL).cache_read_input_tokens == 0  # evicted; written again
    assert apply(cache, "g", distinct(2), MODEL).cache_read_input_tokens > 0
    assert apply(cache, "g", distinct(1), MODEL).cache_read_input_tokens == 0  # least recent, evicted
    assert len(cache) == 2


def test_expired_entries_are_purged_before_live_ones_are_evicted() -> None:
    clock = Clock()
    cache = PromptCache(max_entries=2, clock=clock)
    apply(cache, "g", request(system=LONG_SYSTEM + "long", marker=ONE_HOUR), MODEL)
    apply(cache, "g", request(system=LONG_SYSTEM + "short"), MODEL)  # most recent, but 5 minutes
    clock.now += 400
    apply(cache, "g", distinct(9), MODEL)
    assert len(cache) == 2
    outcome = apply(cache, "g", request(system=LONG_SYSTEM + "long", marker=ONE_HOUR), MODEL)
    assert outcome.cache_read_input_tokens > 0


def test_clear_forgets_everything() -> None:
    cache = PromptCache(clock=Clock())
    apply(cache, "global", request(), MODEL)
    cache.clear()
    assert len(cache) == 0
    assert apply(cache, "global", request(), MODEL) == WRITE


def automatic(body: dict[str, Any], marker: dict[str, Any] = FIVE_MIN) -> dict[str, Any]:
    """`body` with the top-level (automatic) `cache_control`."""
    return {**body, "cache_control": marker}


MIXED_WRITE = CacheOutcome(
    input_tokens=0,
    cache_creation_input_tokens=1741,
    ephemeral_1h_input_tokens=1519,
    ephemeral_5m_input_tokens=222,
)


@pytest.mark.parametrize(
    "body",
    [
        mixed("q" * 70),
        automatic({**mixed(""), "messages": [{"role": "user", "content": [text("q" * 70)]}]}),
        automatic(mixed("q" * 70)),
        automatic({**mixed(""), "messages": [{"role": "user", "content": "q" * 70}]}),
    ],
    ids=["explicit", "automatic", "automatic-on-a-marker-of-its-ttl", "automatic-on-string-content"],
)
def test_automatic_caching_is_the_explicit_marker_it_stands_for(body: dict[str, Any]) -> None:
    """After a 1-hour tool breakpoint, the automatic 5-minute one on the last block bills as an
    explicit one there; on a block already marked with its lifetime it adds no breakpoint."""
    assert check_sums(apply(PromptCache(clock=Clock()), "g", body, MODEL), body) == MIXED_WRITE


def test_automatic_caching_skips_blocks_that_cannot_be_marked() -> None:
    """An empty final assistant message and a thinking block: the breakpoint is the block before."""
    cache = PromptCache(clock=Clock())
    thought = {"type": "thinking", "thinking": "t" * 700, "signature": "s"}
    body = automatic(
        request(
            marker=None,
            messages=[
                {"role": "user", "content": QUESTION},
                {"role": "assistant", "content": [text("ok"), thought]},
                {"role": "assistant", "content": []},
            ],
        )
    )
    # Cached through "ok": 2,002 + 22 + 3 (1 token and the message's framing); after it, the
    # thinking block (200) and the empty message's framing (2).
    assert check_sums(apply(cache, "g", body, MODEL), body) == CacheOutcome(
        input_tokens=202, cache_creation_input_tokens=2027, ephemeral_5m_input_tokens=2027
    )
