"""`ServerConfig`: every server option in one frozen record, shared by the CLI, MockServer and tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mockbay.scenario.model import CacheMode, Limits, TimingMode

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
MAX_BODY_BYTES = 32 * 1024 * 1024  # docs/wire.md §3.3: 32 MB for Messages and count_tokens


@dataclass(frozen=True, slots=True, kw_only=True)
class ServerConfig:
    """Options of one server. Caps keep a long-running server's memory bounded."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    scenario_paths: tuple[str, ...] = ()
    timing: TimingMode = "realistic"
    fallback: Literal["strict", "generate"] = "generate"
    seed: int = 0
    cache: CacheMode = "off"
    fingerprints: Literal["exact", "loose"] = "exact"
    api_keys: tuple[str, ...] = ()
    admin_token: str | None = None
    rate_limits: Limits | None = None
    journal_size: int = 10_000
    max_sessions: int = 10_000
    cache_entries: int = 10_000
    rate_limit_buckets: int = 10_000
    reply_memo_entries: int = 4_096
    max_stall_seconds: float = 300.0
    require_version: bool = True

    @property
    def is_loopback(self) -> bool:
        return self.host in ("127.0.0.1", "localhost", "::1") or self.host.startswith("127.")
