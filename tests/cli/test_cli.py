"""The command line: `main(argv)` in-process for validate and schema, subprocesses for serve and --version."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import jsonschema
import pytest

from mockbay import __version__
from mockbay.cli import build_parser, main
from tests.conftest import DATA, REPO, SCENARIOS
from tests.processes import start, stop

SCHEMA_FILE = REPO / "mockbay" / "mockbay-scenario.schema.json"  # the repo root's file links here
TYPO = "name: typo\nrules:\n  - reply: {txt: hi}\n"
TYPO_ERROR = ":3:13: unknown key 'txt' in rules[0].reply; did you mean 'text'?"
BAD_BOOL = "name: bad\nrules:\n  - reply: {text: hi}\n  - when: {stream: 'yes'}\n    reply: {text: x}\n"
BAD_BOOL_ERROR = ":4:20: expected true or false for 'rules[1].when.stream', got string 'yes'"
GOOD = "name: good\nrules:\n  - reply: {text: hi}\n"


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text)
    return path


def run_mockbay(*args: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mockbay", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


# ---- validate --------------------------------------------------------------------------------


def test_validate_good_files_and_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write(tmp_path, "good.yaml", GOOD)
    assert main(["validate", str(good), str(DATA / "language")]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("ok: ") and captured.out.endswith(" scenarios in 2 path(s)\n")
    assert captured.err == ""


def test_validate_reports_every_problem_as_file_line_col(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    typo, bad = write(tmp_path, "typo.yaml", TYPO), write(tmp_path, "bad.yaml", BAD_BOOL)
    good = write(tmp_path, "good.yaml", GOOD)
    assert main(["validate", str(good), str(typo), str(bad)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"{bad}{BAD_BOOL_ERROR}", f"{typo}{TYPO_ERROR}"]


@pytest.mark.parametrize("command", ["validate", "serve"])
def test_one_run_reports_the_problems_of_every_stage_in_file_order(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A structural problem hides neither an unknown Faker provider or placeholder (even in its own
    scenario) nor a duplicate name elsewhere; serve refuses to start on the same list."""
    one = write(
        tmp_path,
        "one.yaml",
        'name: one\nrules: [{reply: {text: "{{ faker.nosuch }}"}}, {reply: {txt: hi}}]\n',
    )
    faker = write(tmp_path, "f1.yaml", "name: f1\nrules: [{reply: {text: {faker: nosuch}}}]\n")
    dup = write(tmp_path, "dup.yaml", f"{GOOD}---\n{GOOD}")
    paths = [str(one), str(faker), str(dup)]
    argv = (
        ["validate", *paths]
        if command == "validate"
        else ["serve", "--port", "0", "--scenarios", str(tmp_path)]
    )
    assert main(argv) == 2
    assert capsys.readouterr().err.splitlines() == [
        f"{dup}:1:7: scenario name 'good' is defined again at {dup}:5:7",
        f"{dup}:5:7: duplicate scenario name 'good'; first defined at {dup}:1:7",
        f"{faker}:2:17: unknown faker provider 'nosuch'",
        f"{one}:2:17: unknown faker provider 'nosuch'",
        f"{one}:2:57: unknown key 'txt' in rules[1].reply; did you mean 'text'?",
    ]


@pytest.mark.parametrize(
    "argv",
    [
        ["validate", ""],
        ["serve", "--port", "0", "--scenarios", ""],
        ["schema", "--output", ""],
        ["record", "--upstream", "http://127.0.0.1:9", "--port", "0", "--out", ""],
    ],
)
def test_an_empty_path_is_exit_2_not_the_current_folder(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tmp_path, "typo.yaml", TYPO)  # what the current folder would have reported
    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "must not be empty (. is the current folder)" in err and "typo.yaml" not in err


def test_validate_a_folder_names_the_broken_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "good.yaml", GOOD)
    (tmp_path / "nested").mkdir()
    write(tmp_path / "nested", "typo.yml", TYPO)
    assert main(["validate", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"{tmp_path / 'nested' / 'typo.yml'}{TYPO_ERROR}\n"


def test_validate_a_missing_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nope.yaml"
    assert main(["validate", str(missing)]) == 2
    assert capsys.readouterr().err == f"{missing}:1:1: no such file or folder\n"


def test_validate_needs_a_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate"]) == 2
    assert "the following arguments are required: PATH" in capsys.readouterr().err


# ---- schema ----------------------------------------------------------------------------------


def test_schema_prints_a_draft_2020_12_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_schema_file_at_the_repo_root_is_current(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    current = capsys.readouterr().out
    assert SCHEMA_FILE.read_text() == current, (
        "the schema is stale: run `mockbay schema --output mockbay/mockbay-scenario.schema.json`"
    )


# ---- record ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("out", "problem"),
    [("agent.py", "is not a folder"), ("agent.py/sub", "Not a directory")],
    ids=["a file", "under a file"],
)
def test_record_with_an_out_that_cannot_be_a_folder_exits_2_in_one_line(
    tmp_path: Path, out: str, problem: str
) -> None:
    write(tmp_path, "agent.py", "")
    result = run_mockbay(
        "record", "--upstream", "http://127.0.0.1:9", "--out", str(tmp_path / out), "--port", "0"
    )
    assert result.returncode == 2 and result.stdout == ""  # no ready line
    assert result.stderr.startswith("mockbay: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert f"--out {tmp_path / out}" in result.stderr and problem in result.stderr


# ---- serve and --version ---------------------------------------------------------------------


def test_serve_with_a_bad_option_value_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--timing", "fast"]) == 2
    assert "argument --timing: invalid choice: 'fast'" in capsys.readouterr().err


def test_serve_with_a_broken_scenario_exits_2_without_starting(tmp_path: Path) -> None:
    typo = write(tmp_path, "typo.yaml", TYPO)
    started = time.monotonic()
    result = run_mockbay("serve", "--port", "0", "--scenarios", str(typo))
    assert result.returncode == 2 and time.monotonic() - started < 8
    assert result.stdout == ""  # no ready line
    assert f"{typo}{TYPO_ERROR}" in result.stderr.splitlines()


def test_a_refused_serve_in_process_leaves_the_collector_as_it_was(tmp_path: Path) -> None:
    """`serve` loads with the cyclic collector off and freezes what it loaded only once it starts:
    a run refused for a broken scenario must leave the host process's collector on and unfrozen."""
    typo = write(tmp_path, "typo.yaml", TYPO)
    frozen = gc.get_freeze_count()
    assert gc.isenabled()
    assert main(["serve", "--port", "0", "--scenarios", str(typo)]) == 2
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen


def test_version() -> None:
    result = run_mockbay("--version")
    assert result.returncode == 0 and result.stdout == f"mockbay {__version__}\n"


def test_a_bad_environment_value_is_a_clear_error_not_a_traceback(monkeypatch, capsys):
    monkeypatch.setenv("MOCKBAY_PORT", "abc")
    assert main(["serve"]) == 2
    assert main(["record", "--upstream", "http://127.0.0.1:9", "--out", "unused"]) == 2
    err = capsys.readouterr().err
    assert err.count("mockbay: error: MOCKBAY_PORT must be an integer, got 'abc'") == 2
    assert "Traceback" not in err


def test_a_bad_variable_stops_no_command_that_leaves_it_unread(monkeypatch, capsys) -> None:
    """The command line gives the option, or the command has none: its variable is never read."""
    monkeypatch.setenv("MOCKBAY_PORT", "abc")
    monkeypatch.setenv("MOCKBAY_TIMING", "fast")
    assert main(["validate", str(SCENARIOS)]) == 0
    child = start("serve", "--host", "127.0.0.1", "--port", "0", "--timing", "instant")
    try:
        assert httpx.get(f"{child.url}/_mockbay/health").status_code == 200
    finally:
        stop(child)


def test_negative_sizes_exit_2_with_a_message(monkeypatch, capsys):
    assert main(["serve", "--journal-size", "-1"]) == 2
    assert main(["serve", "--reply-memo-max-mb", "-5"]) == 2
    monkeypatch.setenv("MOCKBAY_JOURNAL_MAX_MB", "-1")
    assert main(["serve"]) == 2
    err = capsys.readouterr().err
    assert "argument --journal-size: must be 0 or more, got -1" in err
    assert "argument --reply-memo-max-mb: must be 0 or more, got -5" in err
    assert "mockbay: error: MOCKBAY_JOURNAL_MAX_MB must be 0 or more, got -1" in err
    assert "Traceback" not in err


def test_validation_mode_from_the_command_line_and_the_environment(monkeypatch, capsys):
    assert main(["serve", "--validation", "loose"]) == 2
    assert "argument --validation: invalid choice: 'loose'" in capsys.readouterr().err
    monkeypatch.setenv("MOCKBAY_VALIDATION", "off")
    assert main(["serve"]) == 2
    assert (
        "mockbay: error: MOCKBAY_VALIDATION must be one of strict, lenient, got 'off'"
        in capsys.readouterr().err
    )
    monkeypatch.setenv("MOCKBAY_VALIDATION", "lenient")
    assert build_parser().parse_args(["serve"]).validation == "lenient"
    assert build_parser().parse_args(["serve", "--validation", "strict"]).validation == "strict"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full, a device that is always full")
@pytest.mark.parametrize("command", [("schema",), ("validate", str(SCENARIOS))], ids=["schema", "validate"])
def test_a_stdout_that_cannot_take_the_output_is_exit_1_in_one_line(command: tuple[str, ...]) -> None:
    with open("/dev/full", "w") as full:
        argv = [sys.executable, "-m", "mockbay", *command]
        done = subprocess.run(argv, stdout=full, stderr=subprocess.PIPE, text=True, timeout=30, check=False)
    assert done.returncode == 1, done.stderr
    assert done.stderr == "mockbay: error: cannot write the output: No space left on device\n"


def test_schema_into_a_folder_that_does_not_exist_is_exit_2(tmp_path: Path, capsys) -> None:
    assert main(["schema", "--output", str(tmp_path / "missing" / "schema.json")]) == 2
    assert "mockbay: error: cannot write " in capsys.readouterr().err
