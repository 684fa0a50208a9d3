"""`@pytest.mark.mockbay(record=...)` from a user's suite: record from an upstream, replay without it.

The upstream is a `MockServer` on loopback that accepts only the upstream key, so a recording
succeeds only if the proxy sent that key in place of the test's dummy one. Each inner run is a
fresh inline pytest session over the same project folder, as a developer would run it twice.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml

from mockbay.config import ServerConfig
from mockbay.record.scrub import MARKER
from mockbay.server.runner import MockServer

from .inner import project

pytest_plugins = ["pytester"]

KEY = "loopback.upstream.credential.42"  # no built-in key shape: only the marker's own rule scrubs it
ECHO_KEY = f"echo {KEY}"

SUITE = """
import anthropic
import pytest

QUESTIONS = {questions!r}


def ask(mockbay, text):
    with anthropic.Anthropic(base_url=mockbay.url, api_key="dummy", max_retries=0) as client:
        request = dict(model="claude-haiku-4-5", max_tokens=100, messages=[{{"role": "user", "content": text}}])
        if text.startswith("stream"):
            with client.messages.stream(**request) as stream:
                return stream.get_final_message().content[0].text
        return client.messages.create(**request).content[0].text


@pytest.mark.mockbay(record={mode!r}{options})
def test_weather(mockbay):
    for question in QUESTIONS:
        assert ask(mockbay, question).endswith((question, question.replace({key!r}, "<scrubbed>")))
"""


def upstream_scenario(word: str) -> str:
    return f'name: upstream\nrules:\n  - reply: {{text: "{word}: {{{{ last_user }}}}"}}\n'


@contextmanager
def upstream(monkeypatch: pytest.MonkeyPatch, word: str = "Sunny") -> Iterator[MockServer]:
    """A loopback upstream that takes only KEY, named by the environment as a recording run sets it."""
    config = ServerConfig(port=0, timing="instant", fallback="strict", api_keys=(KEY,))
    with MockServer(config=config) as server, monkeypatch.context() as env:
        server.load(upstream_scenario(word))
        env.setenv("MOCKBAY_UPSTREAM", server.url)
        env.setenv("MOCKBAY_UPSTREAM_API_KEY", KEY)
        yield server


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A user's project; no upstream or key in the environment unless a test sets them."""
    for name in ("MOCKBAY_UPSTREAM", "MOCKBAY_UPSTREAM_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    project(pytester)
    return pytester


def run(
    pytester: pytest.Pytester, mode: str, questions: list[str], options: str = "", *args: str
) -> pytest.RunResult:
    text = SUITE.format(mode=mode, questions=questions, options=options, key=KEY)
    pytester.makepyfile(**{"tests/test_agent": text})
    return pytester.runpytest(*args)


def recorded(path: Path) -> dict[str, list[str]]:
    """Each entry's reply text, with the deltas it streams ([] for a JSON reply)."""
    scenario = yaml.safe_load(path.read_text())
    found = {}
    for step in scenario.get("rules", []) + scenario["turns"]:
        text = step["reply"]["content"][0]["text"]
        chunks = text["chunks"] if isinstance(text, dict) else []
        found["".join(chunks) or text] = chunks
    return found


def test_once_records_then_replays_with_no_upstream_and_no_key(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    questions = ["weather in Paris", "stream the weather in Rome"]
    with upstream(monkeypatch) as up:
        run(suite, "once", questions).assert_outcomes(passed=1)
        assert up.journal.call_count == 2
        run(suite, "once", questions).assert_outcomes(passed=1)
        assert up.journal.call_count == 2, "once: a test with a recording does not call the upstream"

    for mode in ("none", "once"):
        run(suite, mode, questions).assert_outcomes(passed=1)
    folder = suite.path / "tests" / "recordings" / "test_agent"
    assert [p.name for p in folder.iterdir()] == ["test_weather.yaml"]
    assert yaml.safe_load((folder / "test_weather.yaml").read_text())["name"] == "test_weather"
    texts = recorded(folder / "test_weather.yaml")
    assert texts.keys() == {"Sunny: weather in Paris", "Sunny: stream the weather in Rome"}
    assert len(texts["Sunny: stream the weather in Rome"]) > 1, "the stream's deltas as they came"


def test_no_key_reaches_the_recordings(suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    with upstream(monkeypatch):
        run(suite, "once", [ECHO_KEY, "weather in Paris"]).assert_outcomes(passed=1)
    run(suite, "none", [ECHO_KEY, "weather in Paris"]).assert_outcomes(passed=1)
    files = list((suite.path / "tests" / "recordings").rglob("*"))
    texts = [path.read_text() for path in files if path.is_file()]
    assert texts and not any(KEY in text or "dummy" in text for text in texts)
    assert any(f"echo {MARKER}" in text for text in texts), "the upstream echoed the key; it was scrubbed"


def test_new_episodes_appends_and_all_rerecords(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = ', recordings="cassettes"'
    file = suite.path / "tests" / "cassettes" / "test_weather.yaml"
    with upstream(monkeypatch) as up:
        run(suite, "new_episodes", ["weather in Paris"], options).assert_outcomes(passed=1)
        run(suite, "new_episodes", ["weather in Paris", "weather in Oslo"], options).assert_outcomes(passed=1)
        assert up.journal.call_count == 2, "the known request replayed; only the new one went upstream"
    assert recorded(file) == {"Sunny: weather in Paris": [], "Sunny: weather in Oslo": []}

    with upstream(monkeypatch, "Rainy") as up:
        run(suite, "all", ["weather in Oslo"], options).assert_outcomes(passed=1)
        assert up.journal.call_count == 1
    assert recorded(file) == {"Rainy: weather in Oslo": []}, "all: the file holds this run's exchanges only"


def test_a_missing_recording_with_no_upstream_says_how_to_record(suite: pytest.Pytester) -> None:
    result = run(suite, "once", ["weather in Paris"])

    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert "test_weather (record='once') has no recording at " in output
    assert "no upstream (MOCKBAY_UPSTREAM or the marker's upstream=) and no key" in output
    assert "MOCKBAY_UPSTREAM=https://api.anthropic.com MOCKBAY_UPSTREAM_API_KEY=sk-ant-... pytest" in output


def test_a_broken_recording_is_reported_with_its_place(suite: pytest.Pytester) -> None:
    folder = suite.path / "tests" / "recordings" / "test_agent"
    folder.mkdir(parents=True)
    (folder / "test_weather.yaml").write_text("name: test_weather\nturns: [{reply: {txt: hi}}]\n")

    result = run(suite, "none", ["weather in Paris"])

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["mockbay could not load the recordings in *recordings/test_agent:", "*test_weather.yaml:2:*"]
    )


def test_replaying_a_request_never_recorded_fails_with_how_to_record_it(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with upstream(monkeypatch):
        run(suite, "once", ["weather in Paris"]).assert_outcomes(passed=1)
    result = run(suite, "once", ["weather in Paris", "weather in Lima"])

    result.assert_outcomes(failed=1, errors=1)
    output = result.stdout.str()
    assert "nearest scenarios:" in output and "test_weather" in output
    assert "mark the test record='new_episodes' (appends)" in output


# ---- run-wide record mode, the guard, scrubbing options ----------------------------------------


def test_the_command_line_record_mode_overrides_the_markers(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    with upstream(monkeypatch) as up:
        run(suite, "none", ["weather in Paris"], "", "--mockbay-record-mode=once").assert_outcomes(passed=1)
        assert up.journal.call_count == 1, "the marker said none; the run said once, and once recorded"
    assert (suite.path / "tests" / "recordings" / "test_agent" / "test_weather.yaml").exists()


@pytest.mark.parametrize("where", ["option", "ini"])
def test_run_wide_none_fails_a_test_that_would_reach_the_upstream(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    args = ["--mockbay-record-mode=none"] if where == "option" else []
    if where == "ini":
        ini = suite.path / "tox.ini"
        ini.write_text(ini.read_text() + "\nmockbay_record_mode = none\n")
    with upstream(monkeypatch) as up:  # an upstream and a key are set: only the guard stops a call
        result = run(suite, "all", ["weather in Paris"], "", *args)
        assert up.journal.call_count == 0
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*test_weather has no recording at *, and the run's record mode is 'none'*"])
    assert "it would have to reach the real upstream" in result.stdout.str()


def test_a_bad_ini_record_mode_stops_the_run(suite: pytest.Pytester) -> None:
    ini = suite.path / "tox.ini"
    ini.write_text(ini.read_text() + "\nmockbay_record_mode = sometimes\n")
    result = run(suite, "once", ["weather in Paris"])
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert (
        "mockbay_record_mode = 'sometimes'; choose from once, new_episodes, all, none" in result.stderr.str()
    )


def test_the_marker_scrubs_as_mockbay_record_does(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = ', scrub_patterns=["in (?P<secret>Pari)s"], scrub_headers="x-customer-token"'
    with upstream(monkeypatch):
        run(suite, "once", ["weather in Paris"], options).assert_outcomes(passed=1)
    text = (suite.path / "tests" / "recordings" / "test_agent" / "test_weather.yaml").read_text()
    assert "weather in <scrubbed>s" in text and "Paris" not in text


def test_a_scrub_option_that_is_not_strings_fails_the_test(suite: pytest.Pytester) -> None:
    result = run(suite, "none", ["weather in Paris"], ", scrub_headers=[1]")
    result.assert_outcomes(errors=1)
    assert (
        "@pytest.mark.mockbay scrub_headers= takes a string or a list of strings, got [1]"
        in result.stdout.str()
    )
