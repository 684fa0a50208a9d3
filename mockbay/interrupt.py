"""Ctrl-C while the `mockbay` command is still importing: a quiet exit, not Python's traceback.

Between the interpreter's start and `cli.main()`, which stops quietly on KeyboardInterrupt (as
the server does once it listens), the command imports this package and the CLI: 30-70 ms in
which Python's own handler printed a KeyboardInterrupt traceback. This package arms a handler
that exits 0 instead, as its first step, and `main()` puts Python's back as its first. Only the
command's own process is armed: a library import (the pytest plugin, `MockServer`) leaves SIGINT
alone. What runs before this package (the interpreter's start, `site`) is out of its reach.
"""

from __future__ import annotations

import os
import signal
import sys
from types import FrameType  # already imported by the interpreter's start

COMMAND = "mockbay"


def _is_command() -> bool:
    """The `mockbay` script (its `sys.argv[0]`) or `python -m mockbay` (whose `sys.argv[0]` is
    still `-m` while the package imports)."""
    script = os.path.splitext(os.path.basename(sys.argv[0]))[0]  # not pathlib: 5 ms more to import
    return script == COMMAND or sys.orig_argv[1:3] == ["-m", COMMAND]


def _quit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def arm() -> None:
    """In the command's process, Ctrl-C from now until `disarm()` exits 0 without a word."""
    if _is_command() and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _quit)


def disarm() -> None:
    """Python's handler back, for `main()`'s own `except KeyboardInterrupt`."""
    if signal.getsignal(signal.SIGINT) is _quit:
        signal.signal(signal.SIGINT, signal.default_int_handler)
