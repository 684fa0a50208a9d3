"""The pytest marker's record modes: `@pytest.mark.mockbay(record=..., upstream=..., recordings=...)`.

Such a test gets a recording proxy of its own (proxy.py's app on a `MockServer` thread), as
vcrpy gives it a cassette: its requests are recorded into `<test dir>/recordings/<module>/`, one
scenario named after the test, and replayed from there per the mode. The upstream and its key
come from the marker or the environment and are needed only to record: a replay needs neither,
so CI runs the recordings with no network and no key. Whatever key the test's client sends is
replaced by the upstream key, so test code keeps a dummy; the key itself is also a scrub pattern,
so even an upstream that echoes it cannot put it on disk.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from mockbay.config import ServerConfig
from mockbay.errors import MockbayError
from mockbay.pytest_plugin import RECORD_MODE_INI, RECORD_MODE_OPTION, run_wide_record_mode
from mockbay.record.modes import MODES, Mode
from mockbay.record.proxy import ProxyConfig, Recorder, make_proxy_app
from mockbay.record.scrub import Scrubber
from mockbay.record.writer import file_name
from mockbay.server.protocol import EnvelopeRunner
from mockbay.server.runner import SHUTDOWN_TIMEOUT_S, MockServer

if TYPE_CHECKING:
    from mockbay.pytest_plugin import MarkerOptions

UPSTREAM_ENV = "MOCKBAY_UPSTREAM"
KEY_ENVS = ("MOCKBAY_UPSTREAM_API_KEY", "ANTHROPIC_API_KEY")
FOLDER = "recordings"
MIN_KEY_PATTERN = 8  # a shorter key (a local upstream's "x") would scrub ordinary text


@dataclass(frozen=True, slots=True)
class RecordPlan:
    """What one test records or replays: the marker and the environment, read once at setup."""

    test: str  # node id
    asked: Mode  # the marker's mode
    mode: Mode  # the mode run: `none` when no upstream and key are set and replaying is enough
    folder: Path
    group: str
    upstream: str
    key: str | None
    scrub_headers: tuple[str, ...] = ()  # the marker's, beside the built-in rules
    scrub_patterns: tuple[str, ...] = ()

    @property
    def file(self) -> Path:
        return self.folder / file_name(self.group)

    @classmethod
    def of(cls, marker: dict[str, Any], item: pytest.Item) -> RecordPlan:
        """Check the marker's values; fail the test now when it must record and cannot."""
        marked = marker.get("record")
        if marked not in MODES:
            pytest.fail(f"@pytest.mark.mockbay record={marked!r}; choose from {list(MODES)}", pytrace=False)
        run_wide = run_wide_record_mode(item.config)
        asked: Mode = run_wide or marked
        upstream = marker.get("upstream") or os.environ.get(UPSTREAM_ENV, "")
        parts = urlsplit(upstream)
        if upstream and (parts.scheme not in ("http", "https") or not parts.hostname):
            pytest.fail(
                f"mockbay: the upstream must be an http(s) URL such as https://api.anthropic.com, "
                f"got {upstream!r}",
                pytrace=False,
            )
        folder = Path(marker.get("recordings") or Path(FOLDER) / item.path.stem)
        name = item.nodeid.split("::", 1)[-1].replace("/", "-")  # a scenario name may not hold '/'
        key = next((os.environ[k] for k in KEY_ENVS if os.environ.get(k)), None)
        scrub = {what: _strings(marker, f"scrub_{what}") for what in ("headers", "patterns")}
        plan = cls(
            item.nodeid,
            asked,
            asked,
            item.path.parent / folder,
            name,
            upstream,
            key,
            scrub_headers=scrub["headers"],
            scrub_patterns=scrub["patterns"],
        )
        if run_wide == "none":  # the guard: no upstream and no key, whatever the environment holds
            plan = replace(plan, upstream="", key=None)
            if not plan.file.exists():
                pytest.fail(plan.would_reach_upstream(), pytrace=False)
            return plan
        if upstream and key:
            return plan
        if asked == "all" or (asked != "none" and not plan.file.exists()):
            pytest.fail(plan.cannot_record(), pytrace=False)
        return replace(plan, mode="none")

    def cannot_record(self) -> str:
        missing = [f"no upstream ({UPSTREAM_ENV} or the marker's upstream=)"] if not self.upstream else []
        missing += [] if self.key else [f"no key ({' or '.join(KEY_ENVS)})"]
        why = "re-records on every run" if self.asked == "all" else f"has no recording at {self.file}"
        return (
            f"mockbay: {self.group} (record={self.asked!r}) {why}, and cannot record: "
            f"{' and '.join(missing)}.\nTo record, run it once against the real API:\n"
            f"  {UPSTREAM_ENV}=https://api.anthropic.com {KEY_ENVS[0]}=sk-ant-... "
            f"pytest {shlex.quote(self.test)}\n"
            f"then commit {self.folder}; runs with neither set replay it with no network and no key."
        )

    def would_reach_upstream(self) -> str:
        return (
            f"mockbay: {self.group} has no recording at {self.file}, and the run's record mode is 'none' "
            f"({RECORD_MODE_OPTION} or {RECORD_MODE_INI}): it would have to reach the real upstream.\n"
            f"Record it once with {RECORD_MODE_OPTION}=once and {UPSTREAM_ENV} and {KEY_ENVS[0]} set, "
            f"then commit {self.folder}."
        )

    @property
    def advice(self) -> str:
        """Said when a request found no recording: how to add it."""
        return (
            f"This test replays {self.folder} (record={self.asked!r}); a request with no recording there "
            f"gets this 400. To record it, mark the test record='new_episodes' (appends) or "
            f"record='all' (re-records) and set {UPSTREAM_ENV} and {KEY_ENVS[0]}."
        )


def _strings(marker: dict[str, Any], key: str) -> tuple[str, ...]:
    """A marker option holding one string or a list of them, as `--scrub-header` repeats."""
    value = marker.get(key) or ()
    values = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(v, str) for v in values):
        pytest.fail(
            f"@pytest.mark.mockbay {key}= takes a string or a list of strings, got {value!r}", pytrace=False
        )
    return values


class RecordingServer(MockServer):
    """A `MockServer` whose app is the recording proxy: `url`, `journal`, `load` work as usual; the
    journal holds the replayed requests (recorded ones went upstream and are listed in `progress`)."""

    def __init__(self, plan: RecordPlan, config: ServerConfig) -> None:
        super().__init__(config=config)
        self.plan = plan
        self.progress: list[str] = []
        key_pattern = [re.escape(plan.key)] if plan.key and len(plan.key) >= MIN_KEY_PATTERN else []
        patterns = [*plan.scrub_patterns, *key_pattern]
        self.proxy = ProxyConfig(
            upstream=plan.upstream,
            out=plan.folder,
            mode=plan.mode,
            scrubber=Scrubber.build(plan.scrub_headers, patterns),
            group=plan.group,
            upstream_key=plan.key,
        )
        self.recorder = Recorder(self.proxy)
        self.state.install(self.recorder.replay_registry())

    async def start_async(self) -> Self:
        app = make_proxy_app(self.proxy, self.progress.append, self.recorder, self.state)
        runner = EnvelopeRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=SHUTDOWN_TIMEOUT_S
        )
        await runner.setup()
        await web.TCPSite(runner, self.config.host, self.config.port).start()
        self._runner, self.port = runner, runner.addresses[0][1]
        return self


@contextmanager
def recording_server(
    base: ServerConfig, options: MarkerOptions, item: pytest.Item
) -> Iterator[RecordingServer]:
    """The test's recording proxy, running on its own thread until the test ends."""
    plan = RecordPlan.of(options.record, item)
    try:
        server = RecordingServer(plan, replace(base, port=0, **options.config))
    except MockbayError as exc:
        pytest.fail(f"mockbay could not load the recordings in {plan.folder}:\n{exc}", pytrace=False)
    with server:
        yield server
