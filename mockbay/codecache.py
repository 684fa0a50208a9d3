"""The code `@dataclass` generates for mockbay's classes, compiled once and kept beside the bytecode.

`@dataclass` writes each class's methods (`__init__`, `__repr__`, `__eq__`, frozen's
`__setattr__`...) as source text and compiles it with `exec` every time the class is defined: for
mockbay's ~100 dataclasses that is ~450 compilations of ~340 distinct texts on every start of
`mockbay serve` (~500 of ~390 when every module is imported): 30 ms of a 260 ms import, the
largest part of what `mockbay serve` took to start beyond the bare aiohttp server. `install()` (run by
`import mockbay`) shadows the `exec` the `dataclasses` module calls, so that text from a class of
mockbay's own modules is looked up in a table of code objects first. The table lives in one file,
`mockbay/__pycache__/dataclass-code.<cache tag>.marshal`, keyed by the exact source text.

Safe because a code object is a function of its source text and the interpreter alone: executing
the kept code is executing the text. The file carries the interpreter's cache tag in its name and
its magic number in its first bytes, as a `.pyc` does; a text that changed is simply not in the
table, so it is compiled as before and kept. Only classes of mockbay's modules go through the
table (the `exec`'s globals name the module), so it holds their methods and no one else's, and at
most `MAX_ENTRIES` of them. The file is written like bytecode: at the process's exit when
something was compiled, not under PYTHONDONTWRITEBYTECODE (then `python -m mockbay.codecache`
writes it, as the Makefile's set-up and the Dockerfile do), atomically, and not at all where the
package's directory is read-only. A file that cannot be read is ignored.
"""

from __future__ import annotations

import atexit
import builtins
import contextlib
import dataclasses
import importlib.util
import marshal
import os
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import CodeType
from typing import Any

PACKAGE = __name__.partition(".")[0]
MAX_ENTRIES = 2048  # mockbay's classes need ~390; room for a few edits' worth of stale texts
DEFAULT_PATH = (
    Path(__file__).parent / "__pycache__" / f"dataclass-code.{sys.implementation.cache_tag}.marshal"
)


class CodeTable:
    """Code objects by source text, loaded from `path` on first use and saved back when it grew."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.hits = 0
        self.compiled = 0
        self._table: dict[str, CodeType] | None = None
        self._used: set[str] = set()

    def code(self, source: str) -> CodeType:
        """`source` compiled as `exec` compiles it: from the table, or now (and kept)."""
        table = self._loaded()
        self._used.add(source)
        found = table.get(source)
        if found is not None:
            self.hits += 1
            return found
        code = compile(source, "<string>", "exec")
        if len(table) >= MAX_ENTRIES:  # full of texts since edited: keep what this process used
            table = self._table = {text: kept for text, kept in table.items() if text in self._used}
        table[source] = code
        self.compiled += 1
        return code

    def save(self) -> bool:
        """Write the table (atomically) when something was added to it; whether it was written."""
        if not self.compiled:
            return False
        partial = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        try:
            self.path.parent.mkdir(exist_ok=True)
            with partial.open("wb") as out:  # opened first: a read-only package costs no dump
                out.write(importlib.util.MAGIC_NUMBER + marshal.dumps(self._loaded()))
            os.replace(partial, self.path)
        except OSError:  # read-only, or not a directory: left as it was
            with contextlib.suppress(OSError):
                partial.unlink(missing_ok=True)
            return False
        self.compiled = 0
        return True

    def _loaded(self) -> dict[str, CodeType]:
        if self._table is None:
            self._table = _read(self.path)
        return self._table


def _read(path: Path) -> dict[str, CodeType]:
    """The table in `path`; empty when it is missing, another interpreter's, or not a table."""
    try:
        data = path.read_bytes()
    except OSError:
        return {}
    magic = importlib.util.MAGIC_NUMBER
    if not data.startswith(magic):
        return {}
    try:
        table = marshal.loads(data[len(magic) :])
    except (EOFError, ValueError, TypeError):
        return {}
    if not isinstance(table, dict):
        return {}
    return {
        text: code for text, code in table.items() if isinstance(text, str) and isinstance(code, CodeType)
    }


TABLE = CodeTable(DEFAULT_PATH)


def _ours(namespace: Mapping[str, Any] | None) -> bool:
    """Whether `exec` runs in one of mockbay's modules (a dataclass's methods are compiled in its
    module's globals)."""
    name = namespace.get("__name__") if namespace is not None else None
    return isinstance(name, str) and (name == PACKAGE or name.startswith(PACKAGE + "."))


class _DataclassExec:
    """`exec` for the `dataclasses` module: mockbay's classes through `TABLE`, the rest to the
    `exec` it had before (the builtin, or whatever another package put there)."""

    __slots__ = ("inner",)

    def __init__(self, inner: Callable[..., None]) -> None:
        self.inner = inner

    def __call__(self, source: Any, globals: dict[str, Any] | None = None, locals: Any = None, /) -> None:
        if isinstance(source, str) and _ours(globals):
            source = TABLE.code(source)
        self.inner(source, globals, locals)


def install() -> None:
    """Route the `dataclasses` module's `exec` through the table (once), and save it at exit."""
    current = getattr(dataclasses, "exec", builtins.exec)
    if isinstance(current, _DataclassExec):
        return
    dataclasses.exec = _DataclassExec(current)  # type: ignore[attr-defined]
    if not sys.dont_write_bytecode:
        atexit.register(TABLE.save)


def leave_unsaved() -> None:
    """Do not save the table at exit (`compile_dataclasses --check` reports, and writes nothing)."""
    atexit.unregister(TABLE.save)
