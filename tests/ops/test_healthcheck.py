"""The container's health check finds the server's port the way the server did."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockbay.server.healthcheck import health_url, main

# The image's ENTRYPOINT: tini, then the server's command line.
PID1 = b"\0".join([b"/usr/bin/tini", b"-s", b"-e", b"143", b"--", b"mockbay", b"serve", b""])


def test_the_environment_gives_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKBAY_HOST", "0.0.0.0")
    monkeypatch.setenv("MOCKBAY_PORT", "9090")
    assert health_url(PID1) == "http://127.0.0.1:9090/_mockbay/health"


def test_a_port_argument_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOCKBAY_PORT", "9090")
    assert (
        health_url(PID1 + b"--port\x009191\0--fallback\0strict\0") == "http://127.0.0.1:9191/_mockbay/health"
    )
    assert health_url(PID1 + b"--host=::\0--port=7\0") == "http://[::1]:7/_mockbay/health"


def test_nothing_listening_is_unhealthy(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("MOCKBAY_PORT", "1")  # nothing listens on port 1 here
    (tmp_path / "cmdline").write_bytes(PID1)
    assert main(tmp_path / "cmdline") == 1
    assert "unhealthy" in capsys.readouterr().err
