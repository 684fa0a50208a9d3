"""`mockbay serve --watch`: edited scenario files are served within about two seconds; a broken
edit is reported as file:line:col on stderr while the previous scenarios keep serving."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import anthropic
import httpx
import pytest

from tests.conftest import sync_client

RELOAD_WITHIN_S = 2.5  # the watcher polls every 0.5 s; loading a small folder takes milliseconds


def scenario(name: str, text: str) -> str:
    return f"name: {name}\nrules:\n  - reply: {{text: {text!r}}}\n"


@dataclass
class Served:
    """A `mockbay serve` subprocess, its base URL, and the stderr lines read so far."""

    process: subprocess.Popen[str]
    url: str
    stderr: list[str] = field(default_factory=list)

    def ask(self, prefix: str = "") -> str:
        """The text answering a plain question, pinned when `prefix` is `/s/NAME`."""
        client = sync_client(self.url + prefix, max_retries=0)
        message = client.messages.create(
            model="claude-sonnet-4-6", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        )
        return message.content[0].text


def wait_for(check: Callable[[], bool], timeout: float = RELOAD_WITHIN_S) -> float:
    """Seconds until `check()` held; fails the test after `timeout`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout} s")
        time.sleep(0.05)
    return time.monotonic() - started


def _collect(stream: IO[str], lines: list[str]) -> None:
    """Read stderr as it comes, so the pipe never fills and tests can wait for a line."""
    for line in stream:
        lines.append(line)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    (tmp_path / "main.yaml").write_text(scenario("watched", "version one"))
    process = subprocess.Popen(
        [sys.executable, "-m", "mockbay", "serve", "--port", "0", "--watch", "--timing", "instant",
         "--fallback", "strict", "--scenarios", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    reader: threading.Thread | None = None
    try:
        ready = process.stdout.readline()
        assert ready.startswith("mockbay listening on http://127.0.0.1:") and ready.endswith(
            " (1 scenarios)\n"
        )
        server = Served(process, ready.split()[3])
        reader = threading.Thread(target=_collect, args=(process.stderr, server.stderr), daemon=True)
        reader.start()
        # serve prints the ready line before the watcher takes its first snapshot of the files, so
        # an edit made at once can go unnoticed; once a request is answered the snapshot is taken.
        assert server.ask() == "version one"
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if reader is not None:
            reader.join(timeout=5)
        process.stdout.close()
        process.stderr.close()


def test_an_edited_file_is_served_after_reload(served: Served, tmp_path: Path) -> None:
    (tmp_path / "main.yaml").write_text(scenario("watched", "version two"))
    wait_for(lambda: served.ask() == "version two")


def test_a_new_file_is_picked_up(served: Served, tmp_path: Path) -> None:
    (tmp_path / "extra.yaml").write_text(scenario("added", "from the new file"))
    wait_for(lambda: any("reloaded 2 scenarios" in line for line in served.stderr))
    assert served.ask("/s/added") == "from the new file"


def test_a_broken_edit_keeps_the_previous_scenarios(served: Served, tmp_path: Path) -> None:
    broken = tmp_path / "main.yaml"
    broken.write_text("name: watched\nrules:\n  - reply: {txt: broken}\n")
    expected = f"{broken}:3:13: unknown key 'txt' in rules[0].reply; did you mean 'text'?"
    wait_for(lambda: any(line.rstrip("\n") == expected for line in served.stderr))
    assert any("scenarios not reloaded; still serving the previous 1" in line for line in served.stderr)
    assert served.ask() == "version one"
    broken.write_text(scenario("watched", "fixed"))
    wait_for(lambda: served.ask() == "fixed")
    with pytest.raises(anthropic.BadRequestError, match="no scenario of that name is loaded"):
        served.ask("/s/added")


def test_a_rewrite_that_keeps_the_mtime_is_reloaded(served: Served, tmp_path: Path) -> None:
    path = tmp_path / "main.yaml"
    before = path.stat()
    path.write_text(scenario("watched", "same tick, new words"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    wait_for(lambda: served.ask() == "same tick, new words")


def test_scenarios_loaded_through_the_admin_api_stay_across_a_reload(served: Served, tmp_path: Path) -> None:
    """They did not come from the watched files, and `--admin-scenarios-max` still counts them."""
    loaded = httpx.post(f"{served.url}/_mockbay/scenarios", content=scenario("posted", "from the admin API"))
    assert loaded.json() == {"loaded": ["posted"], "scenarios": 2}
    (tmp_path / "main.yaml").write_text(scenario("watched", "version two"))
    wait_for(lambda: served.ask("/s/watched") == "version two")
    wait_for(lambda: any("kept 1 loaded through the admin API" in line for line in served.stderr))
    assert served.ask("/s/posted") == "from the admin API"
    listed = httpx.get(f"{served.url}/_mockbay/scenarios").json()["scenarios"]
    assert sorted(s["name"] for s in listed) == ["posted", "watched"]
