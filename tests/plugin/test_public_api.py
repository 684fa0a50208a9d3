"""The public facade and MockServer outside pytest's fixtures: `with`, `async with`, ports, overrides."""

from __future__ import annotations

import socket

import anthropic
import pytest

import mockbay
from mockbay import MockServer

ECHO = """
name: echo
rules:
  - reply:
      text: "You asked: {{ last_user }}"
"""
SEQUENCE = """
name: sequence
rules:
  - replies:
      - text: "first"
      - text: "second"
"""


def ask(server: MockServer, text: str = "hi", **client_options: object) -> anthropic.types.Message:
    options: dict[str, object] = {"api_key": "test-key", "max_retries": 0, **client_options}
    with anthropic.Anthropic(base_url=server.url, **options) as client:  # type: ignore[arg-type]
        return client.messages.create(
            model="claude-haiku-4-5", max_tokens=100, messages=[{"role": "user", "content": text}]
        )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_facade_exports_the_documented_names() -> None:
    expected = {"MockServer", "ServerConfig", "Journal", "JournalView", "Exchange", "load_scenarios"}
    expected |= {"MockbayError", "ScenarioError", "ApiError", "__version__"}
    assert expected <= set(mockbay.__all__) <= set(dir(mockbay))
    assert all(getattr(mockbay, name) is not None for name in mockbay.__all__)
    assert [s.name for s in mockbay.load_scenarios(ECHO)] == ["echo"]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = mockbay.nope  # type: ignore[attr-defined]


def test_thread_mode_serves_and_closing_twice_is_harmless() -> None:
    with MockServer() as server:
        server.load(ECHO)
        assert ask(server, "ping").content[0].text == "You asked: ping"
        server.close()
    server.close()
    with pytest.raises(RuntimeError, match="not running"):
        ask(server)


def test_given_port_is_used() -> None:
    port = free_port()
    with MockServer(port=port) as server:
        server.load(ECHO)
        assert server.url == f"http://127.0.0.1:{port}"
        assert ask(server, "x").content[0].text == "You asked: x"


async def test_async_mode_runs_on_the_callers_loop() -> None:
    async with MockServer() as server:
        server.load(ECHO)
        async with anthropic.AsyncAnthropic(base_url=server.url, api_key="test-key") as client:
            reply = await client.messages.create(
                model="claude-haiku-4-5", max_tokens=100, messages=[{"role": "user", "content": "async"}]
            )
        assert reply.content[0].text == "You asked: async"
        await server.aclose()
    await server.aclose()


def test_overrides_apply_then_restore_config_and_scenarios() -> None:
    with MockServer() as server:
        server.load(ECHO)
        with server.overrides(fallback="generate", seed=3):
            server.load(SEQUENCE)
            assert server.state.config.fallback == "generate"
            assert {s.name for s in server.state.registry} == {"echo", "sequence"}
        assert (server.state.config.fallback, server.state.config.seed) == ("strict", 0)
        assert [s.name for s in server.state.registry] == ["echo"]
        with pytest.raises(ValueError, match="cannot change \\['port'\\]"), server.overrides(port=1):
            pass


def test_session_headers_give_each_client_its_own_sequence() -> None:
    with MockServer() as server:
        server.load(SEQUENCE)
        alice, bob = MockServer.session_headers("alice"), MockServer.session_headers("bob")
        assert ask(server, default_headers=alice).content[0].text == "first"
        assert ask(server, default_headers=alice).content[0].text == "second"
        assert ask(server, default_headers=bob).content[0].text == "first"
        assert [e.reply_index for e in server.journal.calls] == [0, 1, 0]
