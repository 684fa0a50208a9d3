"""pytest plugin (pytest11 entry point): fixtures `mockbay`, `mockbay_server`, `mockbay_config`,
`mockbay_env` and the `mockbay` marker.

One server per test session (per xdist worker) runs on its own thread, so sync and async tests
share it. Each test gets it reset, with its marker's scenarios and options applied and undone
afterwards; at teardown a test fails if a request went unanswered or mockbay hit an internal
error. Heavy modules (aiohttp, the loader) are imported inside fixtures, because pytest imports
this module in every session of every project that has mockbay installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from mockbay.config import FallbackMode, FingerprintMode, ValidationMode, choices
from mockbay.record.modes import MODES, Mode
from mockbay.scenario.model import CacheMode, TimingMode

if TYPE_CHECKING:
    from mockbay.config import ServerConfig
    from mockbay.journal import Exchange
    from mockbay.server.runner import MockServer

MARKER = "mockbay"
CHOICES = {
    "timing": choices(TimingMode),
    "fallback": choices(FallbackMode),
    "cache": choices(CacheMode),
    "fingerprints": choices(FingerprintMode),
    "validation": choices(ValidationMode),
}
# read by mockbay/record/pytest_support.py
RECORD_KEYS = ("record", "upstream", "recordings", "scrub_headers", "scrub_patterns")
RECORD_MODE_OPTION = "--mockbay-record-mode"
RECORD_MODE_INI = "mockbay_record_mode"
MARKER_KEYS = (
    "scenarios",
    "timing",
    "fallback",
    "seed",
    "cache",
    "fingerprints",
    "batch_seconds",
    "files_downloadable",
    "validation",
    "assert_all_matched",
    *RECORD_KEYS,
)
PLACEHOLDER_KEY = "mockbay-test-key"
OPT_OUT = (
    "To allow this, mark the test @pytest.mark.mockbay(assert_all_matched=False); to answer unmatched "
    'requests with a generated reply instead, use @pytest.mark.mockbay(fallback="generate").'
)
LISTED = 10  # loaded scenario names shown in a teardown report
QUOTE = 80


def pytest_addoption(parser: pytest.Parser) -> None:
    what = (
        "record mode for every test marked record=..., overriding the markers, as vcrpy's --record-mode "
        f"does ({', '.join(MODES)}); none never reaches an upstream and fails a test with no recording"
    )
    parser.getgroup("mockbay").addoption(
        RECORD_MODE_OPTION,
        choices=MODES,
        default=None,
        metavar="MODE",
        help=f"{what} (default: the markers')",
    )
    parser.addini(RECORD_MODE_INI, f"{what}; {RECORD_MODE_OPTION} wins", default="")


def run_wide_record_mode(config: pytest.Config) -> Mode | None:
    """--mockbay-record-mode, else the ini's mockbay_record_mode, else None (each marker decides)."""
    mode = config.getoption(RECORD_MODE_OPTION) or config.getini(RECORD_MODE_INI) or None
    if mode is not None and mode not in MODES:
        raise pytest.UsageError(f"{RECORD_MODE_INI} = {mode!r}; choose from {', '.join(MODES)}")
    return mode


def pytest_configure(config: pytest.Config) -> None:
    run_wide_record_mode(config)  # a bad ini value stops the run before any test
    config.addinivalue_line(
        "markers",
        f"{MARKER}(scenarios=[...], timing=None, fallback=None, seed=None, cache=None, "
        "fingerprints=None, batch_seconds=None, files_downloadable=None, validation=None, "
        "assert_all_matched=True, record=None, upstream=None, recordings=None, scrub_headers=None, "
        "scrub_patterns=None): "
        "scenarios (paths relative to the test file's folder, or YAML text) and options for the "
        "mockbay fixture in this test; record='once'|'new_episodes'|'all'|'none' records the test's "
        "requests from an upstream and replays them; fingerprints='loose' lets recordings survive edits; "
        "batch_seconds=S makes Message Batches end S seconds after their create; validation='lenient' "
        "accepts request bodies the API's schema refuses",
    )


# ---- marker ---------------------------------------------------------------------------------


@dataclass(slots=True)
class MarkerOptions:
    """What a test's `mockbay` markers ask for, closest marker winning."""

    scenarios: list[str | Path | Mapping[str, Any]] = field(default_factory=list)
    config: dict[str, Any] = field(default_factory=dict)
    assert_all_matched: bool = True
    record: dict[str, Any] = field(default_factory=dict)


def read_markers(item: pytest.Item) -> MarkerOptions:
    """Module, class and function markers combined: scenarios add up, other options are overridden."""
    options = MarkerOptions()
    for mark in reversed(list(item.iter_markers(MARKER))):
        if mark.args:
            pytest.fail("@pytest.mark.mockbay takes keyword arguments only", pytrace=False)
        unknown = sorted(mark.kwargs.keys() - set(MARKER_KEYS))
        if unknown:
            pytest.fail(
                f"unknown @pytest.mark.mockbay option(s) {unknown}; valid: {list(MARKER_KEYS)}", pytrace=False
            )
        for key, value in mark.kwargs.items():
            _apply(options, key, value, item)
    return options


def _apply(options: MarkerOptions, key: str, value: Any, item: pytest.Item) -> None:
    if key == "scenarios":
        sources = [value] if isinstance(value, str | Path | Mapping) else list(value)
        options.scenarios += [_resolve(source, item.path.parent) for source in sources]
    elif key == "assert_all_matched":
        options.assert_all_matched = bool(value)
    elif key in RECORD_KEYS:
        options.record[key] = value
    elif key == "seed" and not isinstance(value, int):
        pytest.fail(f"@pytest.mark.mockbay seed must be an int, got {value!r}", pytrace=False)
    elif key == "batch_seconds" and (
        isinstance(value, bool) or not isinstance(value, int | float) or value < 0
    ):
        pytest.fail(f"@pytest.mark.mockbay batch_seconds must be a number >= 0, got {value!r}", pytrace=False)
    elif key in CHOICES and value not in CHOICES[key]:
        pytest.fail(f"@pytest.mark.mockbay {key}={value!r}; choose from {list(CHOICES[key])}", pytrace=False)
    else:
        options.config[key] = value


def _resolve(source: str | Path | Mapping[str, Any], base: Path) -> str | Path | Mapping[str, Any]:
    """YAML text (a string with a line break) and documents built in Python stay as they are; a
    relative path is from the test's folder."""
    if isinstance(source, Mapping) or (isinstance(source, str) and "\n" in source):
        return source
    path = Path(source)
    return path if path.is_absolute() else base / path


# ---- fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mockbay_config() -> ServerConfig:
    """The session server's options; override this fixture (session scope) to change them."""
    from mockbay.config import ServerConfig

    return ServerConfig(port=0, timing="instant", fallback="strict")


@pytest.fixture(scope="session")
def mockbay_server(mockbay_config: ServerConfig) -> Iterator[MockServer]:
    """One server per session (per xdist worker), on a thread of its own so any test can call it."""
    from mockbay.server.runner import MockServer

    with MockServer(mockbay_config.scenario_paths, config=mockbay_config) as server:
        yield server


@pytest.fixture
def mockbay(mockbay_server: MockServer, request: pytest.FixtureRequest) -> Iterator[MockServer]:
    """The session server, reset, with this test's marker applied; checked and restored afterwards."""
    options = read_markers(request.node)
    with _serving(mockbay_server, options, request.node) as (server, advice):
        problem = load_all(server, options.scenarios)
        if problem:
            pytest.fail(
                f"mockbay could not load this test's scenarios (marker paths are relative to the test "
                f"file's folder):\n{problem}",
                pytrace=False,
            )
        yield server
        report = teardown_report(server, check_unmatched=options.assert_all_matched, advice=advice)
        if report:
            pytest.fail(report, pytrace=False)


@contextmanager
def _serving(
    server: MockServer, options: MarkerOptions, item: pytest.Item
) -> Iterator[tuple[MockServer, str]]:
    """The server a test talks to, and what to advise when one of its requests went unanswered:
    with `record=`, a recording proxy of the test's own, as the shared server cannot proxy."""
    if options.record:
        from mockbay.record.pytest_support import recording_server

        with recording_server(server.config, options, item) as recorder:
            yield recorder, recorder.plan.advice
        return
    server.reset()
    with server.overrides(**options.config):
        yield server, OPT_OUT


def load_all(server: MockServer, sources: list[str | Path | Mapping[str, Any]]) -> str:
    """Load every source; the loader's `file:line:col` report, or "" when all loaded."""
    from mockbay.errors import MockbayError

    try:
        server.load(*sources)
    except MockbayError as exc:
        return str(exc)
    return ""


@pytest.fixture
def mockbay_env(mockbay: MockServer, monkeypatch: pytest.MonkeyPatch) -> MockServer:
    """Point `anthropic.Anthropic()` built from the environment at the server, for this test only."""
    monkeypatch.setenv("ANTHROPIC_BASE_URL", mockbay.url)
    if not os.environ.get("ANTHROPIC_API_KEY"):
        monkeypatch.setenv("ANTHROPIC_API_KEY", PLACEHOLDER_KEY)
    return mockbay


# ---- teardown report ------------------------------------------------------------------------


def teardown_report(server: MockServer, *, check_unmatched: bool, advice: str = OPT_OUT) -> str:
    """Why the test must fail after it ran, or "" when nothing went wrong on the server's side."""
    parts = []
    unmatched = server.journal.unmatched if check_unmatched else []
    if unmatched:
        parts.append(f"mockbay: {len(unmatched)} request(s) to /v1/messages got no scenario's answer:")
        parts += [describe_exchange(e, server) for e in unmatched]
        parts.append(describe_loaded(server))
        parts.append(advice)
    errors = list(server.state.internal_errors)
    if errors:
        parts.append(f"mockbay: {len(errors)} internal server error(s) (a bug in mockbay; please report it):")
        parts += errors
    return "\n\n".join(parts)


def describe_exchange(exchange: Exchange, server: MockServer) -> str:
    """What arrived, how it was answered, and the nearest scenarios with the condition each failed."""
    answer = f"{exchange.status} {exchange.error_type or ''}".rstrip()
    lines = [f"request #{exchange.seq}: {exchange.method} {exchange.path} -> {answer}"]
    lines.append(f"  {summarize_body(exchange.body)}")
    if exchange.near_misses:
        lines.append("  nearest scenarios:")
        lines += [
            f"    - {near['scenario']} ({near['file']}) failed at {near['where']}: {near['failed']}"
            for near in exchange.near_misses
        ]
    else:
        lines.append(f"  no scenario was tried: {why_untried(exchange, server)}")
    return "\n".join(lines)


def why_untried(exchange: Exchange, server: MockServer) -> str:
    from mockbay.server.app import PINNED
    from mockbay.server.messages import SCENARIO_HEADER

    pinned = PINNED.match(exchange.path)
    name = pinned.group(1) if pinned else exchange.headers.get(SCENARIO_HEADER)
    if name and server.state.registry.get(name) is None:
        return f"the pinned scenario {name!r} is not loaded"
    if not len(server.state.registry):
        return "no scenarios are loaded"
    return "no loaded scenario came close enough to list"


def summarize_body(body: Any) -> str:
    if not isinstance(body, dict):
        return "body: not a JSON object"
    raw = body.get("messages")
    messages: list[Any] = raw if isinstance(raw, list) else []
    assistants = sum(1 for m in messages if isinstance(m, dict) and m.get("role") == "assistant")
    last = messages[-1] if messages and isinstance(messages[-1], dict) else {}
    return (
        f"model {body.get('model')!r}, turn {assistants}, stream {bool(body.get('stream'))}, "
        f"last {last.get('role', 'message')}: {_content_text(last.get('content'))}"
    )


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return _quote(content)
    pieces = []
    for block in content if isinstance(content, list) else []:
        kind = block.get("type") if isinstance(block, dict) else None
        if kind == "text":
            pieces.append(_quote(str(block.get("text", ""))))
        elif kind == "tool_result":
            pieces.append(f"tool_result for {block.get('tool_use_id')}")
        elif kind:
            pieces.append(str(kind))
    return ", ".join(pieces) or "(empty)"


def _quote(text: str) -> str:
    return repr(text if len(text) <= QUOTE else text[: QUOTE - 1] + "…")


def describe_loaded(server: MockServer) -> str:
    scenarios = list(server.state.registry)
    if not scenarios:
        return "loaded scenarios: none (use @pytest.mark.mockbay(scenarios=[...]) or mockbay.load())"
    shown = ", ".join(f"{s.name} ({s.mark.path})" for s in scenarios[:LISTED])
    more = f", and {len(scenarios) - LISTED} more" if len(scenarios) > LISTED else ""
    return f"loaded scenarios ({len(scenarios)}): {shown}{more}"
