"""The simulated prompt cache through the server, as the official SDK sees it: writes, reads, misses,
the per-model minimum, lifetimes on an injected clock (no sleeping), sessions, reset, and stream/JSON
agreement. Expectations come from `split_request`, and the main numbers are also pinned as literals.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from mockbay.server.runner import MockServer
from mockbay.tokens import count_tokens
from mockbay.usage.estimate import split_request
from mockbay.wire.sse import parse_events
from tests.conftest import DATA, HandClock, pinned_client

MODEL = "claude-sonnet-4-6"  # minimum cacheable prefix 2,048 tokens; 3.5 characters per token
SYSTEM = "s" * 7350  # 2,100 tokens: with the 2-token request framing the cached prefix is 2,102
QUESTION = "q" * 70  # 20 tokens + 2 of message framing: the 22 tokens after the breakpoint
FIVE_MIN = {"type": "ephemeral"}
ONE_HOUR = {"type": "ephemeral", "ttl": "1h"}
WROTE = {"input_tokens": 22, "cache_creation_input_tokens": 2102, "cache_read_input_tokens": 0}
READ = {"input_tokens": 22, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 2102}
COUNTS = tuple(WROTE)
REPLY = "Expenses are filed within 30 days."  # every reply of cache.yaml


@pytest.fixture(scope="module")
def clock() -> HandClock:
    return HandClock(5_000.0)


@pytest.fixture(scope="module")
def server(clock: HandClock) -> Iterator[MockServer]:
    with MockServer([DATA / "usage" / "cache.yaml"], clock=clock) as server:
        yield server


@pytest.fixture(autouse=True)
def _empty_cache(server: MockServer) -> None:
    server.reset()


def block(text: str, marker: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "text", "text": text}
    if marker is not None:
        out["cache_control"] = marker
    return out


def request(system: str = SYSTEM, marker: dict[str, str] | None = FIVE_MIN, **extra: Any) -> dict[str, Any]:
    """A system prompt marked for caching, then one short question: the body, as SDK keyword arguments."""
    return {
        "model": MODEL,
        "max_tokens": 64,
        "system": [block(system, marker)],
        "messages": [{"role": "user", "content": QUESTION}],
        **extra,
    }


def prefix_tokens(body: dict[str, Any], last_path: str) -> int:
    """Prompt tokens up to and including the segment at `last_path`: what a breakpoint there caches."""
    breakdown = split_request(body)
    total = breakdown.preamble
    for segment in breakdown.segments:
        total += segment.tokens
        if segment.path == last_path:
            return total
    raise AssertionError(f"no segment {last_path}")


def usage_of(client: anthropic.Anthropic, body: dict[str, Any]) -> dict[str, Any]:
    """The usage of one create call, after checking the identities every usage must satisfy."""
    usage = client.messages.create(**body).usage
    assert usage.cache_creation is not None
    assert (
        usage.cache_creation.ephemeral_5m_input_tokens + usage.cache_creation.ephemeral_1h_input_tokens
        == usage.cache_creation_input_tokens
    )
    counted = client.messages.count_tokens(**{k: v for k, v in body.items() if k != "max_tokens"})
    read, written = usage.cache_read_input_tokens or 0, usage.cache_creation_input_tokens or 0
    assert usage.input_tokens + read + written == counted.input_tokens
    return usage.model_dump()


def counts(usage: dict[str, Any]) -> dict[str, int]:
    return {name: usage[name] for name in COUNTS}


def test_first_request_writes_and_the_same_prefix_then_reads(server):
    client = pinned_client(server, "cached")
    body = request()
    cached = prefix_tokens(body, "system.0")
    assert cached == 2102
    first = usage_of(client, body)
    assert counts(first) == {
        "input_tokens": split_request(body).total - cached,
        "cache_creation_input_tokens": cached,
        "cache_read_input_tokens": 0,
    }
    assert counts(first) == WROTE
    assert first["cache_creation"] == {"ephemeral_5m_input_tokens": 2102, "ephemeral_1h_input_tokens": 0}
    assert counts(usage_of(client, body)) == READ

    follow_up = request()
    follow_up["messages"] += [
        {"role": "assistant", "content": REPLY},
        {"role": "user", "content": "And receipts?"},
    ]
    later = usage_of(client, follow_up)
    assert later["cache_read_input_tokens"] == cached
    assert later["cache_creation_input_tokens"] == 0
    assert later["input_tokens"] == split_request(follow_up).total - cached > 22


@pytest.mark.parametrize(
    "changed",
    [
        request(system=SYSTEM + "!"),
        request(model="claude-opus-4-7"),
        request(tools=[{"name": "lookup", "input_schema": {"type": "object"}}]),
    ],
    ids=["other-system-text", "other-model", "tool-added-before-the-system"],
)
def test_a_different_prefix_misses(server, changed):
    client = pinned_client(server, "cached")
    assert counts(usage_of(client, request())) == WROTE
    usage = usage_of(client, changed)
    assert usage["cache_read_input_tokens"] == 0
    assert usage["cache_creation_input_tokens"] == prefix_tokens(changed, "system.0")


def test_a_prefix_under_the_model_minimum_is_not_cached(server):
    client = pinned_client(server, "cached")
    short = request(system="s" * 7000)  # prefix 2,002 tokens: under Sonnet 4.6's 2,048
    assert prefix_tokens(short, "system.0") == 2002
    for _ in range(2):
        assert counts(usage_of(client, short)) == {
            "input_tokens": 2024,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
    # The same prompt is long enough for a model whose minimum is 512.
    opus = request(system="s" * 7000, model="claude-opus-5")
    assert usage_of(client, opus)["cache_creation_input_tokens"] == prefix_tokens(opus, "system.0")
    assert usage_of(client, opus)["cache_read_input_tokens"] == prefix_tokens(opus, "system.0")


def test_a_five_minute_entry_expires_after_five_minutes(server, clock):
    client = pinned_client(server, "cached")
    assert counts(usage_of(client, request())) == WROTE
    clock.now += 300
    assert counts(usage_of(client, request())) == WROTE
    clock.now += 299.9
    assert counts(usage_of(client, request())) == READ


def test_a_one_hour_entry_outlives_five_minutes_and_expires_after_an_hour(server, clock):
    client = pinned_client(server, "cached")
    body = request(marker=ONE_HOUR)
    first = usage_of(client, body)
    assert counts(first) == WROTE
    assert first["cache_creation"] == {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 2102}
    clock.now += 3599.9
    assert counts(usage_of(client, body)) == READ
    clock.now += 3600
    assert usage_of(client, body)["cache_creation"]["ephemeral_1h_input_tokens"] == 2102


def test_a_hit_refreshes_the_lifetime(server, clock):
    client = pinned_client(server, "cached")
    assert counts(usage_of(client, request())) == WROTE
    for _ in range(4):  # 16 minutes in all, never 5 without a read
        clock.now += 240
        assert counts(usage_of(client, request())) == READ
    clock.now += 300
    assert counts(usage_of(client, request())) == WROTE


def test_mixed_lifetimes_bill_one_hour_and_five_minute_writes_separately(server):
    client = pinned_client(server, "cached")
    tools = [
        {
            "name": "lookup_policy",
            "description": "d" * 5600,
            "input_schema": {"type": "object"},
            "cache_control": ONE_HOUR,
        }
    ]
    body = request(tools=tools)
    tools_prefix, whole_prefix = prefix_tokens(body, "tools.0"), prefix_tokens(body, "system.0")
    first = usage_of(client, body)
    assert first["cache_creation"] == {
        "ephemeral_1h_input_tokens": tools_prefix,
        "ephemeral_5m_input_tokens": whole_prefix - tools_prefix,
    }
    assert counts(usage_of(client, body))["cache_read_input_tokens"] == whole_prefix

    # A new system prompt invalidates the system level only: the tools are read, the system written.
    other = request(system=SYSTEM.upper(), tools=tools)
    usage = usage_of(client, other)
    assert usage["cache_read_input_tokens"] == tools_prefix
    assert usage["cache_creation"] == {
        "ephemeral_1h_input_tokens": 0,
        "ephemeral_5m_input_tokens": whole_prefix - tools_prefix,
    }


def test_automatic_caching_follows_a_growing_conversation(server):
    """Top-level `cache_control` marks the last block; the next turn reads it by lookback."""
    client = pinned_client(server, "cached")
    messages: list[dict[str, Any]] = [{"role": "user", "content": "Summarise: " + "w" * 7300}]
    body = {"model": MODEL, "max_tokens": 64, "messages": messages, "cache_control": FIVE_MIN}
    first = usage_of(client, body)
    assert first["cache_creation_input_tokens"] == split_request(body).total
    assert first["cache_read_input_tokens"] == 0

    messages += [
        {"role": "assistant", "content": REPLY},
        {"role": "user", "content": "Shorter, please."},
    ]
    second = usage_of(client, {**body, "messages": messages})
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert (
        second["cache_creation_input_tokens"]
        == split_request({**body, "messages": messages}).total - (first["cache_creation_input_tokens"])
    )


def test_a_marker_inside_a_tool_result_caches_up_to_that_result(server):
    """A breakpoint on a block of a tool_result's content caches the prefix to the end of the result."""
    client = pinned_client(server, "cached")
    call = {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a.txt"}}
    result = {
        "type": "tool_result",
        "tool_use_id": "toolu_1",
        "content": [block("r" * 7300, FIVE_MIN), block("tail")],
    }
    messages = [
        {"role": "user", "content": "Read a.txt"},
        {"role": "assistant", "content": [call]},
        {"role": "user", "content": [result, {"type": "text", "text": QUESTION}]},
    ]
    tools = [{"name": "read_file", "input_schema": {"type": "object"}}]
    body = {"model": MODEL, "max_tokens": 64, "messages": messages, "tools": tools}
    cached = prefix_tokens(body, "messages.2.content.0")
    first = usage_of(client, body)
    assert (first["cache_creation_input_tokens"], first["cache_read_input_tokens"]) == (cached, 0)
    assert first["cache_creation"]["ephemeral_5m_input_tokens"] == cached > 2048
    again = usage_of(client, body)
    assert (again["cache_creation_input_tokens"], again["cache_read_input_tokens"]) == (0, cached)


def test_automatic_caching_after_a_one_hour_breakpoint_bills_both_lifetimes(server):
    """Longer lifetimes first: a 1-hour tool breakpoint, then the automatic 5-minute one on the
    question; a top-level marker of the lifetime the last block already asks for adds nothing."""
    client = pinned_client(server, "cached")
    tools = [{"name": "lookup", "description": "d" * 5600, "input_schema": {"type": "object"}}]
    body = request(marker=None, tools=[{**tools[0], "cache_control": ONE_HOUR}], cache_control=FIVE_MIN)
    tools_prefix, total = prefix_tokens(body, "tools.0"), split_request(body).total
    first = usage_of(client, body)
    assert first["input_tokens"] == 0
    assert first["cache_creation"] == {
        "ephemeral_1h_input_tokens": tools_prefix,
        "ephemeral_5m_input_tokens": total - tools_prefix,
    }
    marked = {**body, "messages": [{"role": "user", "content": [block(QUESTION, FIVE_MIN)]}]}
    assert split_request(marked).total == total
    assert counts(usage_of(client, marked)) == {
        "input_tokens": 0,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": total,
    }


def test_a_refused_lifetime_order_caches_nothing(server):
    client = pinned_client(server, "cached")
    with pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(**request(cache_control=ONE_HOUR))  # lands on the question, after 5m
    assert caught.value.body["error"]["message"] == (  # type: ignore[index]
        "cache_control.ttl: a ttl='1h' cache_control block must not come after a ttl='5m' cache_control "
        "block. Note that blocks are processed in the following order: `tools`, `system`, `messages`."
    )
    assert counts(usage_of(client, request())) == WROTE


def test_sessions_do_not_share_entries(server):
    alice = pinned_client(server, "cached", default_headers=MockServer.session_headers("alice"))
    bob = pinned_client(server, "cached", default_headers=MockServer.session_headers("bob"))
    anyone = pinned_client(server, "cached")
    assert counts(usage_of(alice, request())) == WROTE
    assert counts(usage_of(bob, request())) == WROTE
    assert counts(usage_of(anyone, request())) == WROTE
    assert counts(usage_of(alice, request())) == READ
    assert counts(usage_of(anyone, request())) == READ


def test_the_reset_endpoint_empties_the_cache(server):
    client = pinned_client(server, "cached")
    assert counts(usage_of(client, request())) == WROTE
    assert counts(usage_of(client, request())) == READ
    with httpx.Client() as http:
        assert http.post(f"{server.url}/_mockbay/reset").json() == {"status": "ok"}
    assert counts(usage_of(client, request())) == WROTE


def test_the_entry_cap_evicts_the_least_recently_used(clock):
    with MockServer([DATA / "usage" / "cache.yaml"], clock=clock, cache_entries=1) as small:
        client = pinned_client(small, "cached")
        assert counts(usage_of(client, request())) == WROTE
        assert counts(usage_of(client, request(system=SYSTEM.upper()))) == WROTE
        assert counts(usage_of(client, request())) == WROTE


@pytest.mark.parametrize(
    ("scenario", "server_cache", "simulated"),
    [
        ("cached", "off", True),
        ("server-cache", "off", False),
        ("server-cache", "simulate", True),
        ("never-cached", "simulate", False),
    ],
)
def test_the_scenario_key_wins_over_the_server_option(server, scenario, server_cache, simulated):
    client = pinned_client(server, scenario)
    with server.overrides(cache=server_cache):
        usage_of(client, request())
        second = counts(usage_of(client, request()))
    assert second == (READ if simulated else {**READ, "input_tokens": 2124, "cache_read_input_tokens": 0})


def test_stream_and_json_report_the_same_usage(server):
    json_client = pinned_client(server, "cached", default_headers=MockServer.session_headers("json"))
    stream_client = pinned_client(server, "cached", default_headers=MockServer.session_headers("stream"))
    for expected in (WROTE, READ):
        plain = json_client.messages.create(**request())
        with stream_client.messages.stream(**request()) as stream:
            streamed = stream.get_final_message()
        assert counts(plain.usage.model_dump()) == expected
        assert streamed.usage.model_dump() == plain.usage.model_dump()


def test_message_start_and_the_final_delta_carry_the_cache_counts(server):
    client = pinned_client(server, "cached")
    usage_of(client, request())
    with httpx.Client() as http:
        response = http.post(
            f"{server.url}/s/cached/v1/messages",
            json={**request(), "stream": True},
            headers={"x-api-key": "test-key", "anthropic-version": "2023-06-01"},
        )
    events = {name: data for name, data in parse_events(response.content)}
    start = events["message_start"]["message"]["usage"]
    assert counts(start) == READ
    assert start["cache_creation"] == {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0}
    assert start["output_tokens"] == 1
    assert events["message_delta"]["usage"] == {**READ, "output_tokens": count_tokens(REPLY)}
