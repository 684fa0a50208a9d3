"""`ServerConfig`: every server option in one frozen record, shared by the CLI, MockServer and tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

from mockbay.scenario.model import CacheMode, Limits, TimingMode

FallbackMode = Literal["strict", "generate"]
FingerprintMode = Literal["exact", "loose"]
ValidationMode = Literal["strict", "lenient"]
LogFormat = Literal["text", "json"]
LogLevel = Literal["debug", "info", "warning", "error"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
MB = 1024 * 1024
MAX_BODY_BYTES = 32 * MB  # docs/wire.md §3.3: 32 MB for Messages and count_tokens
JOURNAL_MAX_MB = 64
REPLY_MEMO_MAX_MB = 32
ADMIN_SCENARIOS_MAX = 1_000
ADMIN_SCENARIOS_MAX_MB = 64
BODY_TIMEOUT_SECONDS = 60.0  # a 32 MB body at 0.5 MB/s; a client stalled mid-body is cut off
# An idle keep-alive connection's life: what aiohttp's own `web.run_app` passes (its handler's
# default, which `web.AppRunner` keeps, is 3,630 s)
KEEPALIVE_TIMEOUT_SECONDS = 75.0
UPSTREAM_TIMEOUT_SECONDS = 600.0  # the recorder's wait on a silent upstream: the SDK's own default timeout


def choices(kind: Any) -> tuple[str, ...]:
    """The values of a closed choice (a `Literal`), for CLI choices and messages."""
    return get_args(kind)


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    """Options of one server. Caps keep a long-running server's memory bounded."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    scenario_paths: tuple[str, ...] = ()
    timing: TimingMode = "realistic"
    fallback: FallbackMode = "generate"
    seed: int = 0
    cache: CacheMode = "off"
    fingerprints: FingerprintMode = "exact"
    api_keys: tuple[str, ...] = ()
    admin_token: str | None = None
    rate_limits: Limits | None = None
    journal_size: int = 10_000
    journal_max_bytes: int = JOURNAL_MAX_MB * MB
    max_sessions: int = 10_000
    cache_entries: int = 10_000
    rate_limit_buckets: int = 10_000
    reply_memo_entries: int = 4_096
    reply_memo_max_bytes: int = REPLY_MEMO_MAX_MB * MB
    max_stall_seconds: float = 300.0
    body_timeout_seconds: float = BODY_TIMEOUT_SECONDS  # for a request's whole body, from its start
    keepalive_timeout_seconds: float = KEEPALIVE_TIMEOUT_SECONDS  # idle, between requests
    require_version: bool = True
    worker: int = 0  # 1..N under `--workers N`; request ids differ per worker
    state: str = "memory"  # or redis://HOST:PORT/DB: where requests keep what they change
    state_namespace: str = "mockbay"  # prefix of every key in a shared store
    batch_seconds: float = 0.0  # a Message Batch ends this long after its create (0: on the next read)
    batches_max: int = 1_000
    batches_max_mb: int = 256
    files_max: int = 10_000
    files_max_mb: int = 256
    skills_max: int = 1_000
    skills_max_mb: int = 256
    threads_max: int = 1_000
    threads_max_mb: int = 64
    diagnostics_max: int = 10_000  # cache-diagnostics fingerprints kept...
    diagnostics_max_mb: int = 16  # ...and megabytes of them
    admin_scenarios_max: int = ADMIN_SCENARIOS_MAX  # POST /_mockbay/scenarios loads kept...
    admin_scenarios_max_mb: int = ADMIN_SCENARIOS_MAX_MB  # ...and megabytes of their YAML
    files_downloadable: bool = False  # serve uploaded bytes instead of upstream's file_not_downloadable
    validation: ValidationMode = "strict"  # lenient: only the hand-written request rules

    @property
    def is_loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")
