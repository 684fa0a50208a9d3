"""Error answers map to the SDK's exception classes; sequences retry to success; stream faults."""

from __future__ import annotations

import re
from collections.abc import Iterator

import anthropic
import pytest

from mockbay.server.runner import MockServer
from tests.conftest import DATA, USER_HI, pinned_async_client, pinned_client

KWARGS = {"model": "claude-sonnet-4-6", "max_tokens": 256, "messages": USER_HI}


@pytest.mark.parametrize(
    ("status", "exception", "error_type"),
    [
        (400, anthropic.BadRequestError, "invalid_request_error"),
        (401, anthropic.AuthenticationError, "authentication_error"),
        (403, anthropic.PermissionDeniedError, "permission_error"),
        (404, anthropic.NotFoundError, "not_found_error"),
        (413, anthropic.RequestTooLargeError, "request_too_large"),
        (429, anthropic.RateLimitError, "rate_limit_error"),
        (500, anthropic.InternalServerError, "api_error"),
        (503, anthropic.ServiceUnavailableError, "api_error"),
        (529, anthropic.OverloadedError, "overloaded_error"),
    ],
)
def test_error_status_maps_to_sdk_exception(core_server, status, exception, error_type):
    client = pinned_client(
        core_server, "http-error", max_retries=0, default_headers={"x-status": str(status)}
    )
    with pytest.raises(exception) as caught:
        client.messages.create(**KWARGS)
    error = caught.value
    assert error.status_code == status
    assert error.body["type"] == "error" and error.body["error"]["type"] == error_type
    assert error.request_id and error.body["request_id"] == error.request_id


def test_flaky_upstream_retries_to_success(core_server):
    client = pinned_client(core_server, "flaky", default_headers={"x-mockbay-session": "flaky-sync"})
    message = client.messages.create(**KWARGS)
    assert message.content[0].text == "finally"
    attempts = [e for e in core_server.journal.calls if e.session == "flaky-sync"]
    assert [e.status for e in attempts] == [429, 529, 200]
    assert [e.headers.get("x-stainless-retry-count") for e in attempts] == ["0", "1", "2"]


async def test_flaky_upstream_retries_async_stream(core_server):
    async with (
        pinned_async_client(
            core_server, "flaky", default_headers={"x-mockbay-session": "flaky-async"}
        ) as client,
        client.messages.stream(**KWARGS) as stream,
    ):
        message = await stream.get_final_message()
    assert message.content[0].text == "finally"


def test_sequence_then_error_and_cycle(core_server):
    exhausting = pinned_client(
        core_server, "exhausting", max_retries=0, default_headers={"x-mockbay-session": "ex"}
    )
    assert [exhausting.messages.create(**KWARGS).content[0].text for _ in range(2)] == ["one", "two"]
    with pytest.raises(anthropic.BadRequestError, match="served all 2"):
        exhausting.messages.create(**KWARGS)
    cycling = pinned_client(core_server, "cycling", default_headers={"x-mockbay-session": "cy"})
    assert [cycling.messages.create(**KWARGS).content[0].text for _ in range(5)] == ["a", "b", "a", "b", "a"]


def test_sessions_have_their_own_cursors(core_server):
    first = pinned_client(core_server, "cycling", default_headers={"x-mockbay-session": "s1"})
    second = pinned_client(core_server, "cycling", default_headers={"x-mockbay-session": "s2"})
    assert first.messages.create(**KWARGS).content[0].text == "a"
    assert second.messages.create(**KWARGS).content[0].text == "a"
    assert first.messages.create(**KWARGS).content[0].text == "b"


def test_error_event_mid_stream_raises_while_iterating(core_server):
    client = pinned_client(core_server, "midstream-error")
    seen = []
    with pytest.raises(anthropic.APIStatusError) as caught, client.messages.stream(**KWARGS) as stream:
        for event in stream:
            seen.append(event.type)
    assert caught.value.status_code == 200
    assert caught.value.body["error"]["type"] == "overloaded_error"
    assert seen[0] == "message_start" and "message_stop" not in seen


def test_error_event_fault_on_json_request_is_the_http_error(core_server):
    client = pinned_client(core_server, "midstream-error", max_retries=0)
    with pytest.raises(anthropic.OverloadedError):
        client.messages.create(**KWARGS)


def test_disconnect_mid_stream_is_a_transport_error(core_server):
    client = pinned_client(core_server, "midstream-disconnect")
    with (
        pytest.raises(anthropic.APIConnectionError),
        client.messages.stream(**KWARGS) as stream,
    ):
        for _ in stream:
            pass


def test_disconnect_on_json_request_is_a_connection_error(core_server):
    client = pinned_client(core_server, "midstream-disconnect", max_retries=0)
    with pytest.raises(anthropic.APIConnectionError):
        client.messages.create(**KWARGS)


def test_stall_sends_nothing_until_the_client_gives_up(core_server):
    client = pinned_client(core_server, "stall", max_retries=0, timeout=anthropic.Timeout(5.0, read=0.5))
    received = []
    with (
        pytest.raises(anthropic.APITimeoutError),
        client.messages.stream(**KWARGS) as stream,
    ):
        for event in stream:
            received.append(event.type)
    assert received == ["message_start", "content_block_start"]


# ---- a fault whose trigger falls at or past the end of the stream ------------------------------

LATE = DATA / "faults" / "late.yaml"
RAISES = {  # what the client sees of each fault kind
    "error_event": anthropic.APIStatusError,
    "disconnect": anthropic.APIConnectionError,
    "stall": anthropic.APITimeoutError,
}
UNTIL_BLOCK_STOP = ("message_start", "content_block_start", "delta*2", "content_block_stop")

# (scenario, fault kind, max_tokens, the events the client saw before the fault: "delta*N" for N
# deltas in a row, "delta*" for a run Faker sizes). max_tokens 8 makes the doc's example end within
# its 12 events.
LATE_ROWS: list[tuple[str, str, int, tuple[str, ...]]] = [
    (
        "late-doc-example",
        "error_event",
        8,
        ("message_start", "content_block_start", "delta*", "content_block_stop"),
    ),
    ("late-before-block-stop", "error_event", 256, ("message_start", "content_block_start", "delta*2")),
    ("late-at-final-delta", "error_event", 256, UNTIL_BLOCK_STOP),
    ("late-before-message-stop", "error_event", 256, UNTIL_BLOCK_STOP),
    ("late-past-end", "error_event", 256, UNTIL_BLOCK_STOP),
    ("late-after-ms", "error_event", 256, UNTIL_BLOCK_STOP),
    ("late-disconnect", "disconnect", 256, UNTIL_BLOCK_STOP),
    ("late-stall", "stall", 256, UNTIL_BLOCK_STOP),
    ("late-empty", "error_event", 256, ("message_start",)),
]


@pytest.fixture(scope="module")
def late_server() -> Iterator[MockServer]:
    with MockServer([LATE]) as server:
        yield server


def _runs(types: list[str], sized: bool) -> tuple[str, ...]:
    """Raw event types, each run of deltas written delta*N (delta* when not `sized`)."""
    out: list[str] = []
    for kind in types:
        if kind != "content_block_delta":
            out.append(kind)
        elif out and out[-1].startswith("delta*"):
            out[-1] = f"delta*{int(out[-1][6:]) + 1}"
        else:
            out.append("delta*1")
    return tuple(k if sized or not k.startswith("delta*") else "delta*" for k in out)


@pytest.mark.parametrize(("scenario", "kind", "max_tokens", "seen"), LATE_ROWS, ids=[r[0] for r in LATE_ROWS])
def test_a_late_fault_cuts_the_stream_before_its_end(
    late_server: MockServer, scenario: str, kind: str, max_tokens: int, seen: tuple[str, ...]
) -> None:
    """Everything before the final message_delta, then the fault: never a stop_reason, never a
    message_stop, nothing after one."""
    client = pinned_client(late_server, scenario, max_retries=0, timeout=anthropic.Timeout(5.0, read=0.5))
    types: list[str] = []
    request = {**KWARGS, "max_tokens": max_tokens}
    with pytest.raises(RAISES[kind]) as caught, client.messages.stream(**request) as stream:
        for event in stream:
            if event.type.startswith(("message_", "content_block_")):
                types.append(event.type)
    assert type(caught.value) is RAISES[kind]  # a timeout is a connection error too
    assert _runs(types, sized="delta*" not in seen) == seen
    assert stream.current_message_snapshot.stop_reason is None
    assert late_server.journal.last.fault == kind


def test_every_late_fault_has_a_row() -> None:
    names = re.findall(r"- name: (\S+)", LATE.read_text())
    assert names == [row[0] for row in LATE_ROWS]
