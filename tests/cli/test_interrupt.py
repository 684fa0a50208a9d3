"""Ctrl-C at any moment of `mockbay serve`'s start: a quiet exit 0, as once it listens.

The moment is found, not guessed: with PYTHONPROFILEIMPORTTIME the child writes a line as each
module finishes importing, and the signal goes as soon as the row's module (or the ready line)
shows. Python's own start (before mockbay's first line) is out of reach and not tested.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

MOCKBAY = Path(sys.executable).parent / "mockbay"  # the console script, as a user runs it
READY = "listening"
ROWS = [
    # (the line the signal waits for, extra arguments, to the whole process group as Ctrl-C)
    ("mockbay.codecache", (), False),  # the package's own imports, before main()
    ("mockbay.config", (), False),  # the CLI's imports
    ("aiohttp.web", (), False),  # main() loading the server
    ("mockbay.scenario.loader", (), False),  # loading the scenarios
    (READY, (), False),
    ("mockbay.codecache", ("--workers", "2"), True),
    ("multiprocessing.connection", ("--workers", "2"), True),  # the workers starting
    (READY, ("--workers", "2"), True),
]


@pytest.mark.parametrize(("after", "extra", "group"), ROWS, ids=[f"{r[0]}{' '.join(r[1])}" for r in ROWS])
def test_ctrl_c_while_starting_exits_0_without_a_traceback(after: str, extra: tuple[str, ...], group: bool):
    child = subprocess.Popen(
        [MOCKBAY, "serve", "--port", "0", "--host", "127.0.0.1", "--log-level", "warning", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPROFILEIMPORTTIME": "1"} if after != READY else None,
        start_new_session=group,
    )
    try:
        watched = child.stdout if after == READY else child.stderr
        assert watched is not None
        seen = []
        for line in watched:
            seen.append(line)
            if line.rstrip().endswith(f" {after}") or (after == READY and READY in line):
                break
        else:
            pytest.fail(f"never saw {after!r}: {''.join(seen)[-2000:]}")
        (os.killpg(child.pid, signal.SIGINT) if group else child.send_signal(signal.SIGINT))
        err = child.communicate(timeout=30)[1]
    finally:
        if child.poll() is None:  # a failure above: no process left behind
            (os.killpg(child.pid, signal.SIGKILL) if group else child.kill())
            child.communicate()
    said = "".join(line for line in [*seen, *err.splitlines(True)] if not line.startswith("import time:"))
    assert child.returncode == 0 and "Traceback" not in said and "KeyboardInterrupt" not in said, said
