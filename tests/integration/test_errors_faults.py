"""Error answers map to the SDK's exception classes; sequences retry to success; stream faults."""

from __future__ import annotations

import anthropic
import pytest

from tests.conftest import USER_HI, pinned_async_client, pinned_client

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
