"""`--help` teaches: every option names its default and its variable, bad values exit 2, and the README's
CLI reference is the parser's own text."""

from __future__ import annotations

import argparse
import re

import pytest

from mockbay.cli import SIZES, STORE_CAPS, build_parser, main
from tests.conftest import REPO

COMMANDS = ("serve", "record", "validate")


def _subparser(name: str) -> argparse.ArgumentParser:
    actions = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    parser: argparse.ArgumentParser = actions[0].choices[name]
    return parser


def _options(name: str) -> list[argparse.Action]:
    return [a for a in _subparser(name)._actions if not isinstance(a, argparse._HelpAction)]


def _synopsis(action: argparse.Action) -> str:
    if not action.option_strings:
        return str(action.metavar) + "..."
    if action.nargs == 0:
        return action.option_strings[0]
    value = "\\|".join(action.choices) if action.choices else str(action.metavar or action.dest.upper())
    return f"{action.option_strings[0]} {value}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("%%", "%")


def reference(name: str) -> str:
    """The README's table for one command, built from the parser."""
    rows = [f"| `{_synopsis(a)}` | {_cell(str(a.help))} |" for a in _options(name)]
    return "\n".join(["| option | what it does |", "| --- | --- |", *rows])


@pytest.mark.parametrize("name", ["serve", "record"])
def test_every_option_names_its_default_and_variable(name: str) -> None:
    for action in _options(name):
        assert action.help and re.search(r"\(default: [^;]+; env MOCKBAY_[A-Z_]+", action.help), action.dest


@pytest.mark.parametrize("name", COMMANDS)
def test_the_readme_reference_is_the_parsers_help(name: str) -> None:
    readme = (REPO / "README.md").read_text()
    found = re.search(rf"<!-- cli:{name}:start -->\n(.*?)\n<!-- cli:{name}:end -->", readme, re.DOTALL)
    assert found, f"README.md has no <!-- cli:{name}:start --> block"
    assert found.group(1) == reference(name), (
        f"README's `mockbay {name}` table should read:\n{reference(name)}"
    )


def test_choices_come_from_the_closed_choices() -> None:
    timing = next(a for a in _options("serve") if a.dest == "timing")
    assert tuple(timing.choices or ()) == ("instant", "realistic", "recorded")
    assert "(default: realistic; env MOCKBAY_TIMING)" in str(timing.help)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--journal-size", "-5"], "argument --journal-size: must be 0 or more, got -5"),
        (["serve", "--workers", "0"], "argument --workers: must be at least 1, got 0"),
        (["serve", "--port", "70000"], "argument --port: must be between 0 and 65535, got 70000"),
        (["serve", "--reply-memo", "lots"], "argument --reply-memo: must be an integer, got 'lots'"),
        (["record", "--upstream", "http://x", "--out", "o", "--port", "-1"], "must be between 0 and 65535"),
        (["serve", "--host", ""], "argument --host: must not be empty (0.0.0.0 binds every interface)"),
        (["serve", "--body-timeout", "0"], "argument --body-timeout: must be more than 0, got 0"),
        (["serve", "--keepalive-timeout", "0"], "argument --keepalive-timeout: must be more than 0, got 0"),
        (
            ["record", "--upstream", "http://x", "--out", "o", "--upstream-timeout", "0"],
            "argument --upstream-timeout: must be more than 0, got 0",
        ),
        (
            ["serve", "--body-timeout", "soon"],
            "argument --body-timeout: must be a number of seconds, got 'soon'",
        ),
    ],
)
def test_bad_values_exit_2_with_a_message(argv: list[str], message: str, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


SWITCH = "must be one of 1, true, yes, on, 0, false, no, off, got 'maybe'"
# What a command needs besides the option under test, so that only the variable can refuse it.
NEEDED = {"serve": [], "record": ["--upstream", "http://127.0.0.1:9", "--out", "unused"]}

# Every option's variable: command, variable, its value, the option on the command line, and the
# message when the value is refused (None: a free string the parser cannot refuse).
ENVIRONMENT = [
    ("serve", "MOCKBAY_HOST", "", ["--host", "127.0.0.1"], "MOCKBAY_HOST must not be empty"),
    ("serve", "MOCKBAY_PORT", "abc", ["--port", "0"], "MOCKBAY_PORT must be an integer, got 'abc'"),
    ("serve", "MOCKBAY_SCENARIOS", "env.yaml", ["--scenarios", "argv.yaml"], None),
    (
        "serve",
        "MOCKBAY_TIMING",
        "fast",
        ["--timing", "instant"],
        "MOCKBAY_TIMING must be one of instant, realistic, recorded, got 'fast'",
    ),
    (
        "serve",
        "MOCKBAY_FALLBACK",
        "lenient",
        ["--fallback", "strict"],
        "MOCKBAY_FALLBACK must be one of strict, generate, got 'lenient'",
    ),
    (
        "serve",
        "MOCKBAY_VALIDATION",
        "off",
        ["--validation", "lenient"],
        "MOCKBAY_VALIDATION must be one of strict, lenient, got 'off'",
    ),
    ("serve", "MOCKBAY_SEED", "x", ["--seed", "7"], "MOCKBAY_SEED must be an integer, got 'x'"),
    (
        "serve",
        "MOCKBAY_CACHE",
        "on",
        ["--cache", "simulate"],
        "MOCKBAY_CACHE must be one of simulate, off, got 'on'",
    ),
    (
        "serve",
        "MOCKBAY_FINGERPRINTS",
        "fuzzy",
        ["--fingerprints", "loose"],
        "MOCKBAY_FINGERPRINTS must be one of exact, loose, got 'fuzzy'",
    ),
    ("serve", "MOCKBAY_API_KEYS", "env-key", ["--api-key", "argv-key"], None),
    ("serve", "MOCKBAY_ADMIN_TOKEN", "env-token", ["--admin-token", "argv-token"], None),
    (
        "serve",
        "MOCKBAY_RATE_LIMITS",
        "requests_per_minute=1",
        ["--rate-limits", "requests_per_minute=2"],
        None,
    ),
    (
        "serve",
        "MOCKBAY_BODY_TIMEOUT",
        "0",
        ["--body-timeout", "5"],
        "MOCKBAY_BODY_TIMEOUT must be more than 0, got 0",
    ),
    (
        "serve",
        "MOCKBAY_KEEPALIVE_TIMEOUT",
        "soon",
        ["--keepalive-timeout", "5"],
        "MOCKBAY_KEEPALIVE_TIMEOUT must be a number of seconds, got 'soon'",
    ),
    ("serve", "MOCKBAY_WATCH", "maybe", ["--watch"], f"MOCKBAY_WATCH {SWITCH}"),
    ("serve", "MOCKBAY_WORKERS", "0", ["--workers", "2"], "MOCKBAY_WORKERS must be at least 1, got 0"),
    ("serve", "MOCKBAY_STATE", "redis://env:6379/0", ["--state", "memory"], None),
    ("serve", "MOCKBAY_STATE_NAMESPACE", "env", ["--state-namespace", "argv"], None),
    (
        "serve",
        "MOCKBAY_LOG_FORMAT",
        "xml",
        ["--log-format", "json"],
        "MOCKBAY_LOG_FORMAT must be one of text, json, got 'xml'",
    ),
    (
        "serve",
        "MOCKBAY_LOG_LEVEL",
        "trace",
        ["--log-level", "debug"],
        "MOCKBAY_LOG_LEVEL must be one of debug, info, warning, error, got 'trace'",
    ),
    *[
        ("serve", f"MOCKBAY_{name}", "-1", [flag, "0"], f"MOCKBAY_{name} must be 0 or more, got -1")
        for flag, name, *_ in SIZES
    ],
    (
        "serve",
        "MOCKBAY_BATCH_SECONDS",
        "later",
        ["--batch-seconds", "1"],
        "MOCKBAY_BATCH_SECONDS must be a number of seconds, got 'later'",
    ),
    *[
        ("serve", f"MOCKBAY_{name}", "0", [flag, "1"], f"MOCKBAY_{name} must be at least 1, got 0")
        for flag, name, *_ in STORE_CAPS
    ],
    (
        "serve",
        "MOCKBAY_FILES_DOWNLOADABLE",
        "maybe",
        ["--files-downloadable"],
        f"MOCKBAY_FILES_DOWNLOADABLE {SWITCH}",
    ),
    ("record", "MOCKBAY_UPSTREAM", "http://env", ["--upstream", "http://argv"], None),
    ("record", "MOCKBAY_OUT", "env", ["--out", "argv"], None),
    ("record", "MOCKBAY_HOST", "", ["--host", "127.0.0.1"], "MOCKBAY_HOST must not be empty"),
    ("record", "MOCKBAY_PORT", "abc", ["--port", "0"], "MOCKBAY_PORT must be an integer, got 'abc'"),
    (
        "record",
        "MOCKBAY_RECORD_MODE",
        "sometimes",
        ["--mode", "all"],
        "MOCKBAY_RECORD_MODE must be one of once, new_episodes, all, none, got 'sometimes'",
    ),
    (
        "record",
        "MOCKBAY_TIMING",
        "fast",
        ["--timing", "instant"],
        "MOCKBAY_TIMING must be one of instant, realistic, recorded, got 'fast'",
    ),
    (
        "record",
        "MOCKBAY_BODY_TIMEOUT",
        "forever",
        ["--body-timeout", "5"],
        "MOCKBAY_BODY_TIMEOUT must be a number of seconds, got 'forever'",
    ),
    (
        "record",
        "MOCKBAY_KEEPALIVE_TIMEOUT",
        "0",
        ["--keepalive-timeout", "5"],
        "MOCKBAY_KEEPALIVE_TIMEOUT must be more than 0, got 0",
    ),
    (
        "record",
        "MOCKBAY_UPSTREAM_TIMEOUT",
        "0",
        ["--upstream-timeout", "5"],
        "MOCKBAY_UPSTREAM_TIMEOUT must be more than 0, got 0",
    ),
    ("record", "MOCKBAY_AWS_SIGN", "maybe", ["--aws-sign"], f"MOCKBAY_AWS_SIGN {SWITCH}"),
    ("record", "MOCKBAY_SCRUB_HEADERS", "x-env", ["--scrub-header", "x-argv"], None),
    ("record", "MOCKBAY_SCRUB_PATTERNS", "env-[0-9]+", ["--scrub-pattern", "argv-[0-9]+"], None),
]


def test_the_table_names_every_variable() -> None:
    named = {
        (name, re.findall(r"env (MOCKBAY_[A-Z_]+)", str(action.help))[0])
        for name in ("serve", "record")
        for action in _options(name)
    }
    assert named == {(command, variable) for command, variable, *_ in ENVIRONMENT}


@pytest.mark.parametrize(
    ("command", "variable", "value", "given", "message"),
    ENVIRONMENT,
    ids=[f"{command}-{variable}" for command, variable, *_ in ENVIRONMENT],
)
def test_a_variable_counts_only_when_the_command_line_leaves_its_option_out(
    command: str,
    variable: str,
    value: str,
    given: list[str],
    message: str | None,
    monkeypatch,
    capsys,
) -> None:
    argv = [command, *NEEDED[command], *given]
    monkeypatch.delenv(variable, raising=False)
    without = vars(build_parser().parse_args(argv))
    monkeypatch.setenv(variable, value)
    assert vars(build_parser().parse_args(argv)) == without, "the command line wins, even over a bad value"
    if message is not None:
        assert main([command, *NEEDED[command]]) == 2
        err = capsys.readouterr().err
        assert f"mockbay: error: {message}" in err and "Traceback" not in err


def test_the_environment_gives_defaults_and_the_command_line_wins(monkeypatch) -> None:
    monkeypatch.setenv("MOCKBAY_API_KEYS", "a,b")
    monkeypatch.setenv("MOCKBAY_WATCH", "1")
    monkeypatch.setenv("MOCKBAY_JOURNAL_SIZE", "7")
    args = build_parser().parse_args(["serve"])
    assert (args.api_keys, args.watch, args.journal_size) == (["a", "b"], True, 7)
    args = build_parser().parse_args(["serve", "--api-key", "c", "--api-key", "d", "--journal-size", "0"])
    assert (args.api_keys, args.journal_size) == (["c", "d"], 0)
