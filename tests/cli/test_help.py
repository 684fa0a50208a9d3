"""`--help` teaches: every option names its default and its variable, bad values exit 2, and the README's
CLI reference is the parser's own text."""

from __future__ import annotations

import argparse
import re

import pytest

from mockbay.cli import build_parser, main
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
    ],
)
def test_bad_values_exit_2_with_a_message(argv: list[str], message: str, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("MOCKBAY_JOURNAL_SIZE", "-5", "MOCKBAY_JOURNAL_SIZE must be 0 or more, got -5"),
        ("MOCKBAY_TIMING", "fast", "MOCKBAY_TIMING must be one of instant, realistic, recorded, got 'fast'"),
        ("MOCKBAY_WORKERS", "0", "MOCKBAY_WORKERS must be at least 1, got 0"),
        ("MOCKBAY_HOST", "", "MOCKBAY_HOST must not be empty"),
        (
            "MOCKBAY_WATCH",
            "maybe",
            "MOCKBAY_WATCH must be one of 1, true, yes, on, 0, false, no, off, got 'maybe'",
        ),
    ],
)
def test_bad_environment_values_exit_2_naming_the_variable(name, value, message, monkeypatch, capsys) -> None:
    monkeypatch.setenv(name, value)
    assert main(["serve"]) == 2
    assert f"mockbay: error: {message}" in capsys.readouterr().err


def test_the_environment_gives_defaults_and_the_command_line_wins(monkeypatch) -> None:
    monkeypatch.setenv("MOCKBAY_API_KEYS", "a,b")
    monkeypatch.setenv("MOCKBAY_WATCH", "1")
    monkeypatch.setenv("MOCKBAY_JOURNAL_SIZE", "7")
    args = build_parser().parse_args(["serve"])
    assert (args.api_keys, args.watch, args.journal_size) == (["a", "b"], True, 7)
    args = build_parser().parse_args(["serve", "--api-key", "c", "--api-key", "d", "--journal-size", "0"])
    assert (args.api_keys, args.journal_size) == (["c", "d"], 0)
