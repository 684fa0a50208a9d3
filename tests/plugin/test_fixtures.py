"""The fixtures and the marker, seen from a user's test suite: one inline pytest run, many checks."""

from __future__ import annotations

import pytest

from .inner import project

pytest_plugins = ["pytester"]

SUITE = """
import os

import anthropic
import pytest
from helper import ask

from mockbay.config import ServerConfig

seen = {}
ids = []


def test_fixtures_present(mockbay, mockbay_server, mockbay_config):
    assert mockbay is mockbay_server
    assert isinstance(mockbay_config, ServerConfig)
    assert mockbay.url.startswith("http://127.0.0.1:")
    assert (mockbay.state.config.timing, mockbay.state.config.fallback) == ("instant", "strict")
    seen["url"] = mockbay.url


@pytest.mark.mockbay(scenarios=["scenarios/steps.yaml"])
def test_sequence_a(mockbay):
    assert [ask(mockbay, "step").content[0].text for _ in range(2)] == ["one", "two"]
    assert mockbay.url == seen["url"], "one server for the whole session"


@pytest.mark.mockbay(scenarios=["scenarios/steps.yaml"])
def test_sequence_restarts_in_the_next_test(mockbay):
    assert mockbay.journal.call_count == 0
    assert ask(mockbay, "step").content[0].text == "one"


def test_marker_scenarios_are_gone_afterwards(mockbay):
    assert [s.name for s in mockbay.state.registry] == []


INLINE = "name: inline\\nrules:\\n  - reply: {text: inline}\\n"


@pytest.mark.mockbay(scenarios=["scenarios/echo.yaml", INLINE])
def test_paths_and_yaml_text(mockbay):
    assert sorted(s.name for s in mockbay.state.registry) == ["echo", "inline"]
    assert ask(mockbay, "echo this").content[0].text == "You said: echo this"
    mockbay.load("name: extra\\nrules:\\n  - reply: {text: extra}\\n")


def test_load_in_a_test_is_undone(mockbay):
    assert len(mockbay.state.registry) == 0


@pytest.mark.mockbay(fallback="generate", seed=11)
def test_fallback_generate(mockbay):
    reply = ask(mockbay, "nothing matches this")
    assert reply.content[0].text
    assert mockbay.journal.last.generated
    ids.append(reply.id)


@pytest.mark.mockbay(fallback="generate", seed=11)
def test_same_seed_same_ids(mockbay):
    ids.append(ask(mockbay, "nothing matches this").id)


@pytest.mark.mockbay(fallback="generate", seed=12)
def test_other_seed_other_ids(mockbay):
    ids.append(ask(mockbay, "nothing matches this").id)
    assert ids[0] == ids[1] != ids[2]


@pytest.mark.mockbay(timing="realistic", scenarios=["scenarios/echo.yaml"])
def test_timing_realistic(mockbay):
    ask(mockbay, "echo")  # a JSON reply leaves when its stream would have ended: after the first token
    assert mockbay.journal.last.duration_ms >= 100


@pytest.mark.mockbay(scenarios=["scenarios/echo.yaml"])
def test_config_restored_after_a_marked_test(mockbay):
    config = mockbay.state.config
    assert (config.timing, config.fallback, config.seed) == ("instant", "strict", 0)


@pytest.mark.mockbay(scenarios=["scenarios/weather.yaml"])
class TestClassMarker:
    @pytest.mark.mockbay(scenarios=["scenarios/echo.yaml"], seed=5)
    def test_markers_add_up(self, mockbay):
        assert sorted(s.name for s in mockbay.state.registry) == ["echo", "weather"]
        assert mockbay.state.config.seed == 5


def test_journal(mockbay):
    mockbay.load("scenarios/echo.yaml".join(["tests/", ""]))
    ask(mockbay, "echo one")
    ask(mockbay, "echo two")
    journal = mockbay.journal
    assert journal.called and journal.call_count == 2
    first = journal.calls[0]
    assert (first.scenario, first.rule, first.turn, first.status) == ("echo", 0, None, 200)
    assert first.body["messages"][0]["content"] == "echo one"
    assert "test-key" not in str(first.headers) and first.headers["anthropic-version"]
    assert first.duration_ms >= 0 and not first.stream
    assert journal.last.body["messages"][0]["content"] == "echo two"
    assert journal.find(scenario="echo", matched=True) == journal.calls
    journal.assert_called("echo", times=2)
    with pytest.raises(AssertionError, match="expected 3 call"):
        journal.assert_called("echo", times=3)


@pytest.mark.mockbay(scenarios=["scenarios/echo.yaml"])
def test_env(mockbay_env):
    assert os.environ["ANTHROPIC_BASE_URL"] == mockbay_env.url
    assert os.environ["ANTHROPIC_API_KEY"] == "mockbay-test-key"
    with anthropic.Anthropic() as client:
        reply = client.messages.create(
            model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "echo env"}]
        )
    assert reply.content[0].text == "You said: echo env"


@pytest.fixture
def own_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-own")


def test_env_keeps_a_key_already_set(own_key, mockbay_env):
    assert os.environ["ANTHROPIC_API_KEY"] == "sk-own"


def test_env_restored_after_the_test():
    assert "ANTHROPIC_BASE_URL" not in os.environ and "ANTHROPIC_API_KEY" not in os.environ


@pytest.mark.mockbay(scenarios=["scenarios/missing.yaml"])
def test_missing_scenario_file(mockbay):
    pass


@pytest.mark.mockbay(timing="fast")
def test_bad_marker_value(mockbay):
    pass


@pytest.mark.mockbay(scenario=["scenarios/echo.yaml"])
def test_misspelt_marker_key(mockbay):
    pass
"""


def test_fixtures_and_marker(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    project(pytester)
    pytester.makepyfile(**{"tests/test_suite": SUITE})

    result = pytester.runpytest("-v")

    result.assert_outcomes(passed=16, errors=3)
    output = result.stdout.str()
    for expected in (
        "mockbay could not load this test's scenarios (marker paths are relative to the test file's folder)",
        "tests/scenarios/missing.yaml:1:1: no such file or folder",
        "@pytest.mark.mockbay timing='fast'; choose from ['instant', 'realistic', 'recorded']",
        "unknown @pytest.mark.mockbay option(s) ['scenario']; valid: ['scenarios', ",
    ):
        assert expected in output
    assert "During handling" not in output


def test_marker_is_registered_for_strict_markers(pytester: pytest.Pytester) -> None:
    project(pytester)

    result = pytester.runpytest("--markers")

    result.stdout.fnmatch_lines(["@pytest.mark.mockbay(scenarios=[[]...[]], timing=None, *"])


def test_a_mistake_in_a_loaded_scenario_shows_the_test_line_and_the_message(
    pytester: pytest.Pytester,
) -> None:
    """`mockbay.load()` in a test: the failure is the test's line and the `file:line:col` message,
    with none of the loader's frames between them."""
    project(pytester)
    pytester.makepyfile(
        **{
            "tests/test_load": 'def test_typo(mockbay):\n    mockbay.load("name: x\\nrules:\\n  - repy: {text: hi}\\n")\n'
        }
    )

    result = pytester.runpytest()

    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["E  *ScenarioError: <text>:3:5: unknown key 'repy' in rules?0?; did you mean 'reply'?"]
    )
    assert "loading.py" not in result.stdout.str()
