"""The table of dataclass code (mockbay/codecache.py): classes defined through it are the classes
`@dataclass` makes without it, only mockbay's classes use it, and a bad file costs nothing."""

from __future__ import annotations

import dataclasses
import importlib.util
import marshal
import os
import re
import subprocess
import sys
import types
from dataclasses import FrozenInstanceError, dataclass, field
from pathlib import Path

import pytest

from mockbay import codecache

CLASS_SOURCE = """
@dataclass(frozen=True)
class Point:
    x: int
    y: str = "a"
    tags: tuple[str, ...] = field(default_factory=tuple)
"""


def define(module_name: str, monkeypatch: pytest.MonkeyPatch) -> type:
    """`Point` defined in a fresh module of that name, as an import would define it."""
    module = types.ModuleType(module_name)
    module.__dict__.update(dataclass=dataclass, field=field)
    monkeypatch.setitem(sys.modules, module_name, module)
    exec(CLASS_SOURCE, module.__dict__)
    point: type = module.Point
    return point


@pytest.fixture
def table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> codecache.CodeTable:
    fresh = codecache.CodeTable(tmp_path / "__pycache__" / "table.marshal")
    monkeypatch.setattr(codecache, "TABLE", fresh)
    return fresh


def behaves_as_a_dataclass(point: type) -> None:
    first = point(1)
    assert first == point(1, "a", ())
    assert first != point(2)
    assert repr(first) == "Point(x=1, y='a', tags=())"
    assert hash(first) == hash(point(1, "a", ()))
    with pytest.raises(FrozenInstanceError):
        first.x = 2


def test_a_saved_table_defines_the_same_class_again_without_compiling(
    table: codecache.CodeTable, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = define("mockbay.first_definition", monkeypatch)
    compiled = table.compiled
    assert compiled > 0
    assert table.save()
    again = codecache.CodeTable(table.path)
    monkeypatch.setattr(codecache, "TABLE", again)
    second = define("mockbay.second_definition", monkeypatch)
    assert (again.compiled, again.hits) == (0, compiled)
    assert second.__init__.__code__.co_code == first.__init__.__code__.co_code  # type: ignore[misc]
    behaves_as_a_dataclass(second)


def test_classes_outside_mockbay_do_not_go_through_the_table(
    table: codecache.CodeTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("mockbayish", "other.mockbay", "tests.point"):
        define(name, monkeypatch)
    assert (table.compiled, table.hits) == (0, 0)
    assert not table.save()
    assert not table.path.exists()


MAGIC = importlib.util.MAGIC_NUMBER
UNREADABLE = {
    "not a table at all": b"\x00garbage",
    "another interpreter's magic number": b"\x00\x00\r\n" + marshal.dumps({}),
    "cut short": MAGIC + marshal.dumps({"text": compile("1", "<string>", "exec")})[:-3],
    "a list, not a table": MAGIC + marshal.dumps(["text"]),
}


@pytest.mark.parametrize("content", UNREADABLE.values(), ids=UNREADABLE.keys())
def test_a_table_that_cannot_be_read_is_compiled_around(
    content: bytes, table: codecache.CodeTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    table.path.parent.mkdir()
    table.path.write_bytes(content)
    behaves_as_a_dataclass(define("mockbay.unreadable_table", monkeypatch))
    assert table.hits == 0 and table.compiled > 0


def test_entries_that_are_not_code_are_dropped(table: codecache.CodeTable) -> None:
    table.path.parent.mkdir()
    kept = compile("x = 1", "<string>", "exec")
    table.path.write_bytes(MAGIC + marshal.dumps({"x = 1": kept, "y = 2": "not code", 3: kept}))
    assert table.code("x = 1") == kept
    assert table.hits == 1
    table.code("y = 2")
    assert table.compiled == 1


def test_a_full_table_keeps_only_what_this_process_used(
    table: codecache.CodeTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codecache, "MAX_ENTRIES", 3)
    table.path.parent.mkdir()
    stale = {f"x = {n}": compile(f"x = {n}", "<string>", "exec") for n in range(3)}
    table.path.write_bytes(MAGIC + marshal.dumps(stale))
    table.code("x = 0")
    table.code("y = 1")
    assert table.save()
    assert sorted(codecache.CodeTable(table.path)._loaded()) == ["x = 0", "y = 1"]


def test_a_table_that_cannot_be_written_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "a file").write_text("")
    table = codecache.CodeTable(tmp_path / "a file" / "table.marshal")
    table.code("x = 1")
    assert not table.save()
    assert list(tmp_path.iterdir()) == [tmp_path / "a file"]


def test_installing_twice_shadows_exec_once() -> None:
    shadow = dataclasses.exec  # type: ignore[attr-defined]
    codecache.install()
    assert dataclasses.exec is shadow  # type: ignore[attr-defined]


def test_an_exec_another_package_put_there_still_runs_for_other_classes(
    table: codecache.CodeTable, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[str] = []

    def theirs(source: str, globals: dict[str, object] | None = None, locals: object = None, /) -> None:
        seen.append(globals["__name__"] if globals else "")  # type: ignore[arg-type]
        exec(source, globals, locals)  # type: ignore[arg-type]

    monkeypatch.setattr(dataclasses, "exec", theirs, raising=False)
    codecache.install()
    behaves_as_a_dataclass(define("theirs.point", monkeypatch))
    behaves_as_a_dataclass(define("mockbay.point", monkeypatch))
    assert set(seen) == {"theirs.point", "mockbay.point"}  # mockbay's compiled by the table, run by theirs
    assert table.compiled > 0


def test_after_set_up_the_table_holds_every_class_of_the_package() -> None:
    """What the Makefile's set-up and the Dockerfile run leaves a table that a fresh interpreter
    importing every module finds whole (`--check` writes nothing)."""
    script = [sys.executable, "-m", "mockbay.compile_dataclasses"]
    subprocess.run([*script, "-q"], check=True)
    checked = subprocess.run([*script, "--check"], capture_output=True, check=False, text=True)
    assert checked.returncode == 0, checked.stdout
    assert re.search(r": 0 missing, [1-9]\d\d found", checked.stdout), checked.stdout


def test_check_fails_when_the_table_lacks_code_and_writes_nothing(tmp_path: Path) -> None:
    """A fresh interpreter whose table file is not there: every class is missing, and `--check`
    leaves it so, even where bytecode may be written (the table would otherwise be saved at exit).
    The installed table is pointed at the missing file, so its exit hook is the one tested."""
    env = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}
    probe = (
        "import sys, pathlib; from mockbay import codecache, compile_dataclasses as c;"
        f"codecache.TABLE.__init__(pathlib.Path({str(tmp_path / 'none.marshal')!r}));"
        "sys.exit(c.main(['--check']))"
    )
    checked = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, env=env, check=False, text=True
    )
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert re.search(r": [1-9]\d* missing", checked.stdout), checked.stdout
    assert not (tmp_path / "none.marshal").exists()
