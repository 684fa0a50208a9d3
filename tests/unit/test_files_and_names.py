"""Files and names: recordings readable by other users, paths told from YAML text, duplicates refused."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from mockbay.errors import ScenarioError
from mockbay.record.writer import write_atomic
from mockbay.server.runner import MockServer

ORDERS = "name: orders\nrules:\n  - reply: {text: shipped}\n"


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def test_a_recording_gets_the_usual_mode_not_mkstemps_0600(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "out" / "rec.yaml"
    write_atomic(path, ORDERS)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    write_atomic(path, ORDERS)  # rewritten in place: still readable by others
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 and path.read_text() == ORDERS


def test_a_one_line_string_is_a_path_and_a_miss_names_the_folder_tried(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    server = MockServer()
    with pytest.raises(ScenarioError) as caught:
        server.load("scenarios/orders.yaml")
    assert str(caught.value) == f"scenarios/orders.yaml:1:1: no such file or folder (relative to {tmp_path})"
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "orders.yaml").write_text(ORDERS)
    assert server.load("scenarios/orders.yaml") == ["orders"]
    assert server.load(ORDERS.replace("orders", "inline")) == ["inline"]  # a line break: YAML text


def test_mock_server_scenarios_say_which_folder_they_resolved_against(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError, match=rf"relative to {tmp_path}\)$"):
        MockServer(["missing/"])


def test_loading_the_same_name_from_two_sources_is_refused_naming_both(tmp_path: Path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text(ORDERS)
    second.write_text("# another\n" + ORDERS)
    server = MockServer()
    with pytest.raises(ScenarioError) as caught:
        server.load(first, second)
    assert str(caught.value).splitlines() == [
        f"{first}:1:1: scenario name 'orders' is defined again at {second}:2:1",
        f"{second}:2:1: duplicate scenario name 'orders'; first defined at {first}:1:1",
    ]
    assert server.load(first, str(first)) == ["orders"]  # one file named twice is read once
    assert server.load(ORDERS.replace("shipped", "again")) == ["orders"]  # a later load still replaces


def test_loading_several_broken_sources_reports_every_problem(tmp_path: Path) -> None:
    """As `validate` does: a mistake in the first source does not hide one in the second."""
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("name: a\nrules:\n  - repy: {text: hi}\n")
    second.write_text("name: b\nrules:\n  - reply: {txt: hi}\n")
    with pytest.raises(ScenarioError) as caught:
        MockServer().load(first, second)
    assert [str(mark) for mark, _ in caught.value.problems] == [f"{first}:3:5", f"{second}:3:13"]
