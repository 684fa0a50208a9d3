"""The schema where editors find it: shipped in the package, written by `mockbay schema --output`,
named by the bundled files' first line, and the README's editor recipe run with check-jsonschema."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest
import yaml

from mockbay.cli import main
from mockbay.scenario.schema import json_schema
from tests.conftest import REPO

README = (REPO / "README.md").read_text()
SECTION = README[README.index("### Editor support and validation") :]
SCHEMA_LINE = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)
TYPO_ERROR = "$.rules[0].reply: Additional properties are not allowed ('txt' was unexpected)"


def test_schema_output_writes_what_stdout_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    printed = capsys.readouterr().out
    assert main(["schema", "--output", str(tmp_path / "s.json")]) == 0
    assert (tmp_path / "s.json").read_text() == printed and capsys.readouterr().out == ""


def test_the_package_ships_the_schema_it_prints() -> None:
    shipped = files("mockbay") / "mockbay-scenario.schema.json"
    assert yaml.safe_load(shipped.read_text()) == json_schema()
    assert "README" in json_schema()["description"] and ".md" not in json_schema()["description"].replace(
        "README.md", ""
    )


@pytest.mark.parametrize("folder", ["scenarios", "mockbay/bundled"])
def test_the_bundled_files_name_a_schema_that_exists(folder: str) -> None:
    paths = sorted((REPO / folder).glob("*.yaml"))
    assert paths
    for path in paths:
        found = SCHEMA_LINE.search(path.read_text())
        assert found, f"{path} does not name the schema"
        target = Path(os.path.normpath(path.parent / found.group(1)))  # as an editor reads it: no symlinks
        assert target.is_file(), f"{path}: {target} does not exist"


def test_no_top_level_one_of_so_a_typo_is_reported_where_it_is() -> None:
    schema = json_schema()
    assert "oneOf" not in schema and "anyOf" not in schema
    validator = jsonschema.Draft202012Validator(schema)
    for document in (
        {"name": "t", "rules": [{"reply": {"txt": "hi"}}]},
        {"scenarios": [{"name": "t", "rules": [{"reply": {"txt": "hi"}}]}]},
    ):
        best = jsonschema.exceptions.best_match(validator.iter_errors(document))
        assert best is not None and best.validator == "additionalProperties" and "'txt'" in best.message


def test_each_document_of_a_multi_document_file_is_checked_alone() -> None:
    text = "name: a\nrules:\n  - reply: {text: hi}\n---\nname: b\nrules:\n  - reply: {txt: hi}\n"
    validator = jsonschema.Draft202012Validator(json_schema())
    errors = [list(validator.iter_errors(document)) for document in yaml.safe_load_all(text)]
    assert errors[0] == [] and [e.json_path for e in errors[1]] == ["$.rules[0].reply"]


def _recipe() -> tuple[list[str], str]:
    """The section's shell lines and its example scenario file."""
    commands = [
        line
        for block in re.findall(r"```sh\n(.*?)```", SECTION, re.DOTALL)
        for line in block.splitlines()
        if line.startswith(("mockbay schema", "check-jsonschema"))
    ]
    example = re.search(r"```yaml\n(# yaml-language-server.*?)```", SECTION, re.DOTALL)
    assert len(commands) == 2 and example
    return commands, example.group(1)


def _run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    words = shlex.split(command)
    program = (
        [sys.executable, "-m", "mockbay"]
        if words[0] == "mockbay"
        else [str(Path(sys.executable).parent / words[0])]
    )
    return subprocess.run(
        [*program, *words[1:]], cwd=cwd, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_readmes_editor_recipe_passes_a_good_file_and_finds_a_typo(tmp_path: Path) -> None:
    commands, example = _recipe()
    scenario = tmp_path / "tests" / "scenarios" / "faq.yaml"
    scenario.parent.mkdir(parents=True)
    scenario.write_text(example)
    for command in commands:
        result = _run(command, tmp_path)
        assert result.returncode == 0, result.stdout + result.stderr
    named = SCHEMA_LINE.search(example)
    assert named and (scenario.parent / named.group(1)).is_file(), (
        "the file names the schema the recipe wrote"
    )

    scenario.write_text(example.replace("{text:", "{txt:"))
    result = _run(commands[-1], tmp_path)
    assert result.returncode == 1 and TYPO_ERROR in result.stdout, result.stdout
