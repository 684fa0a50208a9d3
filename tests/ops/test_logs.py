"""Logs that explain an answer: `--log-format json` lines parse one by one and name what answered."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mockbay.logs import configure_logging
from tests import processes

SCENARIO = """
name: capitals
match:
  last_user: {contains: capital}
rules:
  - when: {last_user: {contains: France}}
    reply: {text: Paris.}
"""
HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}


def _ask(url: str, text: str, **extra: object) -> httpx.Response:
    body = {"model": "claude-sonnet-4-6", "max_tokens": 50, "messages": [{"role": "user", "content": text}]}
    return httpx.post(f"{url}/v1/messages", json={**body, **extra}, headers=HEADERS)


def _serve_and_ask(tmp_path: Path, *options: str) -> tuple[str, list[httpx.Response], list[str]]:
    (tmp_path / "capitals.yaml").write_text(SCENARIO)
    child = processes.start("serve", "--port", "0", "--scenarios", str(tmp_path), *options)
    replies = [
        _ask(child.url, "What is the capital of France?"),
        _ask(child.url, "What is the capital of Spain?"),
        _ask(child.url, "What is the capital of France?", stream=True),
    ]
    child.process.terminate()
    _, err = child.process.communicate(timeout=10)
    return child.ready, replies, err.splitlines()


def test_json_lines_parse_and_carry_the_exchange(tmp_path: Path) -> None:
    ready, replies, lines = _serve_and_ask(
        tmp_path, "--log-format", "json", "--fallback", "strict", "--timing", "instant"
    )
    assert ready.startswith("mockbay listening on http://127.0.0.1:")  # the ready line is not JSON
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    exchanges = [e for e in entries if "request_id" in e]
    assert [e["request_id"] for e in exchanges] == [r.headers["request-id"] for r in replies]
    matched, unmatched, streamed = exchanges
    assert (matched["status"], matched["scenario"], matched["step"]) == (200, "capitals", "rules[0]")
    assert matched["endpoint"] == "messages" and matched["level"] == "info"
    assert matched["platform"] == "anthropic" and matched["method"] == "POST"
    assert matched["timestamp"].endswith("Z") and isinstance(matched["duration_ms"], float)
    assert "scenario=capitals step=rules[0]" in matched["message"]
    assert (unmatched["status"], unmatched["scenario"]) == (400, None)
    assert "unmatched; nearest: capitals rules[0].when: last_user" in unmatched["message"]
    assert streamed["stream"] is True and streamed["scenario"] == "capitals"


def test_text_lines_explain_and_debug_names_each_candidate(tmp_path: Path) -> None:
    _, replies, lines = _serve_and_ask(
        tmp_path, "--log-level", "debug", "--fallback", "generate", "--timing", "instant"
    )
    assert replies[1].status_code == 200
    generated = next(line for line in lines if replies[1].headers["request-id"] in line and " INFO " in line)
    assert "-> 200 generated; nearest: capitals rules[0].when: last_user" in generated
    debug = [line for line in lines if " DEBUG " in line and replies[1].headers["request-id"] in line]
    assert len(debug) == 1 and "candidate capitals did not answer: rules[0].when: last_user" in debug[0]
    assert "capitals.yaml:" in debug[0]  # where the failing condition is written


@pytest.fixture
def configured_loggers() -> Iterator[None]:
    """mockbay's and aiohttp's loggers put back as they were after a test configures them."""
    loggers = [logging.getLogger(name) for name in ("mockbay", "aiohttp")]
    saved = [(logger.handlers[:], logger.level, logger.propagate) for logger in loggers]
    yield
    for logger, (handlers, level, propagate) in zip(loggers, saved, strict=True):
        logger.handlers[:], logger.propagate = handlers, propagate
        logger.setLevel(level)  # which also clears what the loggers below cached of it


@pytest.mark.usefixtures("configured_loggers")
def test_a_server_configured_in_process_logs_to_the_programs_handlers_once(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """What `serve` configures reaches caplog (or a program's own root handlers), and is not
    printed to stderr as well; `mockbay serve` alone, with no root handler, prints it (above)."""
    configure_logging("text", "info")
    logging.getLogger("mockbay.exchange").info("POST /v1/messages -> 200")
    logging.getLogger("aiohttp.server").warning("an aiohttp warning")
    assert [r.getMessage() for r in caplog.records] == ["POST /v1/messages -> 200", "an aiohttp warning"]
    assert capsys.readouterr().err == ""
