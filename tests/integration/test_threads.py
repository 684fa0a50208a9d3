"""Message threads (the `message-threads-2026-08-12` beta), as the SDK's tool runners use them.

The runners send `thread: {type: create}` on the first turn and `{type: continue,
previous_message_id}` with only the new messages after it; mockbay holds the conversation and
answers each turn as the whole conversation, so a scripted agent loop runs to its end.
"""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest
from anthropic import beta_async_tool, beta_tool

from mockbay.loading import BUNDLED
from mockbay.server.runner import MockServer

AGENT = [BUNDLED / "weather-agent.yaml"]

HEADERS = {
    "x-api-key": "k",
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "message-threads-2026-08-12",
}
SYSTEM = "You answer weather questions."
QUESTION = [{"role": "user", "content": "What is the weather in Paris?"}]
WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Get the weather for a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@beta_tool
def get_weather(city: str, unit: str = "celsius") -> str:
    """Get the weather for a city."""
    return f"18 C and sunny in {city}"


@beta_async_tool(name="get_weather")
async def get_weather_async(city: str, unit: str = "celsius") -> str:
    """Get the weather for a city."""
    return f"18 C and sunny in {city}"


def _runner_kwargs(tool: Any) -> dict[str, Any]:
    return {
        "model": "claude-sonnet-4-6",
        "max_tokens": 2000,
        "system": SYSTEM,
        "tools": [tool],
        "messages": QUESTION,
    }


def _texts(message: Any) -> list[str]:
    return [block.text for block in message.content if block.type == "text"]


def _threads(server: MockServer) -> list[Any]:
    return [call.body.get("thread") for call in server.journal.calls]


def test_the_sdk_tool_runner_runs_a_scripted_agent_loop_through_a_thread():
    with MockServer(AGENT) as server:
        client = anthropic.Anthropic(base_url=server.url, api_key="k")
        replies = list(client.beta.messages.tool_runner(**_runner_kwargs(get_weather)))
        assert [reply.stop_reason for reply in replies] == ["tool_use", "end_turn"]
        assert _texts(replies[-1]) == ["It is 18 C and sunny in Paris."]
        first, second = _threads(server)
        assert first == {"type": "create"}
        assert second == {"type": "continue", "previous_message_id": replies[0].id}
        continued = server.journal.calls[1]
        assert (continued.status, continued.scenario, continued.step) == (200, "weather-agent", "turns[1]")
        assert [m["role"] for m in continued.body["messages"]] == ["user"]  # only the new turn was sent
        assert "system" not in continued.body and "tools" not in continued.body


def test_the_streaming_runner_threads_too():
    with MockServer(AGENT) as server:
        client = anthropic.Anthropic(base_url=server.url, api_key="k")
        runner = client.beta.messages.tool_runner(**_runner_kwargs(get_weather), stream=True)
        replies = [stream.get_final_message() for stream in runner]
        assert _texts(replies[-1]) == ["It is 18 C and sunny in Paris."]
        assert _threads(server) == [
            {"type": "create"},
            {"type": "continue", "previous_message_id": replies[0].id},
        ]


async def test_the_async_runner_threads_alike():
    async with MockServer(AGENT) as server:
        async with anthropic.AsyncAnthropic(base_url=server.url, api_key="k") as client:
            replies = [
                reply async for reply in client.beta.messages.tool_runner(**_runner_kwargs(get_weather_async))
            ]
        async with anthropic.AsyncAnthropic(base_url=server.url, api_key="k") as client:
            runner = client.beta.messages.tool_runner(**_runner_kwargs(get_weather_async), stream=True)
            streamed = [await stream.get_final_message() async for stream in runner]
        assert [m.model_dump() for m in replies] == [m.model_dump() for m in streamed]
        assert _texts(replies[-1]) == ["It is 18 C and sunny in Paris."]
        assert [call.status for call in server.journal.calls] == [200] * 4


def test_a_continued_thread_answers_as_the_whole_conversation_sent_unthreaded():
    with MockServer(AGENT) as server:
        threaded = anthropic.Anthropic(base_url=server.url, api_key="k")
        replies = list(threaded.beta.messages.tool_runner(**_runner_kwargs(get_weather)))
        unthreaded = anthropic.Anthropic(base_url=server.url, api_key="k")
        plain = list(unthreaded.beta.messages.tool_runner(**_runner_kwargs(get_weather), thread=False))
        assert [m.model_dump() for m in replies] == [m.model_dump() for m in plain]
        assert _threads(server)[2:] == [None, None]


def _create(server: MockServer, messages: list[Any] = QUESTION) -> dict[str, Any]:
    body = {"model": "claude-sonnet-4-6", "max_tokens": 2000, "system": SYSTEM, "tools": [WEATHER_TOOL]}
    body.update(messages=messages, thread={"type": "create"})
    response = httpx.post(f"{server.url}/v1/messages", headers=HEADERS, json=body)
    assert response.status_code == 200, response.text
    reply: dict[str, Any] = response.json()
    return reply


def _continue(server: MockServer, previous: str, messages: list[Any], **extra: Any) -> httpx.Response:
    body = {"model": "claude-sonnet-4-6", "max_tokens": 2000, "messages": messages, **extra}
    body["thread"] = {"type": "continue", "previous_message_id": previous}
    return httpx.post(f"{server.url}/v1/messages", headers=HEADERS, json=body)


def _result_for(reply: dict[str, Any]) -> list[Any]:
    call = next(block for block in reply["content"] if block["type"] == "tool_use")
    result = {"type": "tool_result", "tool_use_id": call["id"], "content": "18 C"}
    return [{"role": "user", "content": [result]}]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"system": "other"}, "system: cannot be sent when continuing a thread"),
        ({"tools": [WEATHER_TOOL]}, "tools: cannot be sent when continuing a thread"),
    ],
)
def test_a_continue_may_not_send_the_threads_system_or_tools_again(extra: dict[str, Any], message: str):
    with MockServer(AGENT) as server:
        reply = _create(server)
        refused = _continue(server, reply["id"], _result_for(reply), **extra)
        assert refused.status_code == 400
        assert refused.json()["error"]["message"].startswith(message)


def test_continuing_a_thread_the_server_does_not_hold_is_thread_not_found():
    with MockServer(AGENT) as server:
        refused = _continue(server, "msg_01NeverSentNeverSentNeverS", QUESTION)
        error = refused.json()["error"]
        assert (refused.status_code, error["type"]) == (400, "invalid_request_error")
        assert error["details"] == {"error_code": "thread_not_found"}
        assert refused.json()["request_id"] == refused.headers["request-id"]


def test_the_sdk_runner_recovers_from_a_lost_thread_by_sending_the_whole_history():
    with MockServer(AGENT) as server:
        client = anthropic.Anthropic(base_url=server.url, api_key="k")
        runner = client.beta.messages.tool_runner(**_runner_kwargs(get_weather))
        first = next(iter(runner))
        server.reset()  # the held threads go with the rest of the state
        replies = [first, *runner]
        assert _texts(replies[-1]) == ["It is 18 C and sunny in Paris."]
        calls = server.journal.calls
        assert [call.status for call in calls] == [400, 200]
        assert calls[0].error_type == "invalid_request_error"
        assert calls[1].body["thread"] == {"type": "create"}
        assert [m["role"] for m in calls[1].body["messages"]] == ["user", "assistant", "user"]


def test_held_messages_lose_their_cache_control():
    with MockServer(AGENT) as server:
        text = {"type": "text", "text": QUESTION[0]["content"], "cache_control": {"type": "ephemeral"}}
        reply = _create(server, messages=[{"role": "user", "content": [text]}])
        answered = _continue(server, reply["id"], _result_for(reply))
        assert answered.json()["content"][0]["text"] == "It is 18 C and sunny in Paris."
        held = server.state.threads.get(reply["id"])
        assert held is not None and "cache_control" not in held


def test_threads_are_capped_by_count_oldest_first():
    with MockServer(AGENT, threads_max=2) as server:
        replies = [_create(server, messages=[{"role": "user", "content": f"weather {n}"}]) for n in range(3)]
        lost = _continue(server, replies[0]["id"], _result_for(replies[0]))
        assert lost.json()["error"]["details"]["error_code"] == "thread_not_found"
        assert _continue(server, replies[2]["id"], _result_for(replies[2])).status_code == 200


def test_the_sdk_thread_sends_streams_and_forks_each_turn_as_the_whole_conversation():
    with MockServer(fallback="generate") as server:
        client = anthropic.Anthropic(base_url=server.url, api_key="k")
        thread = client.beta.messages.thread(model="claude-sonnet-4-6", max_tokens=300, system="be terse")
        first = thread.send({"role": "user", "content": "hello"})
        with thread.stream({"role": "user", "content": "and again"}) as stream:
            second = stream.get_final_message()
        forked = thread.fork().send({"role": "user", "content": "elsewhere"})
        assert thread.previous_message_id == second.id and forked.id not in (first.id, second.id)
        sent = [(call.body.get("thread"), len(call.body["messages"])) for call in server.journal.calls]
        assert sent == [
            ({"type": "create"}, 1),
            ({"type": "continue", "previous_message_id": first.id}, 1),
            ({"type": "create"}, 5),  # a fork starts a thread of its own with the whole history
        ]
        assert all(call.status == 200 for call in server.journal.calls)
