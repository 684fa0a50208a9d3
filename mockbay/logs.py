"""Server logs: text or one JSON object a line, and the line that explains each exchange.

The INFO line of an exchange says what answered it (scenario and step), or that nothing did
(`generated` or `unmatched`) and which scenario came nearest and where it failed; `--log-level
debug` adds one line per scenario that did not answer, naming its first failed condition. In JSON
every line carries `timestamp`, `level`, `logger` and `message`, and an exchange's line adds its
request id, method, path, endpoint, platform, status, scenario, step and duration, so a log pipeline can
filter on them. The ready line is not a log line (stdout, unchanged): scripts wait for it.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final

from mockbay.journal import Exchange
from mockbay.matching import NearMiss

EXCHANGE: Final = "mockbay_exchange"  # the LogRecord attribute an exchange's line carries

log = logging.getLogger("mockbay.exchange")


class JsonFormatter(logging.Formatter):
    """One JSON object per line, for log shippers; an exchange's line adds its fields."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        entry: dict[str, Any] = {
            "timestamp": stamp.replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        exchange = getattr(record, EXCHANGE, None)
        if isinstance(exchange, Exchange):
            entry.update(exchange_fields(exchange))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def exchange_fields(exchange: Exchange) -> dict[str, Any]:
    return {
        "request_id": exchange.request_id,
        "method": exchange.method,
        "path": exchange.path,
        "endpoint": exchange.endpoint,
        "platform": exchange.platform,
        "status": exchange.status,
        "scenario": exchange.scenario,
        "step": exchange.step,
        "generated": exchange.generated,
        "stream": exchange.stream,
        "duration_ms": exchange.duration_ms,
    }


class StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever `sys.stderr` is when a line is logged, not when the handler was made:
    a server started in-process (tests, `main(["serve", ...])`) outlives a swapped-out stderr.

    Records also propagate to the root logger, so a program that runs the server in-process, or
    pytest's `caplog`, gets them in its own handlers; while the root logger has one, this handler
    leaves the line to it, so it is printed once (`mockbay serve` itself has none)."""

    def emit(self, record: logging.LogRecord) -> None:
        if logging.getLogger().handlers:
            return
        self.stream = sys.stderr
        super().emit(record)


def configure_logging(fmt: str, level: str) -> None:
    """mockbay's loggers to stderr in `fmt`; aiohttp's warnings too, so every line has one format."""
    handler = StderrHandler()
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else logging.Formatter("%(asctime)s %(levelname)s %(message)s")
    )
    for name, threshold in (("mockbay", level.upper()), ("aiohttp", "WARNING")):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(threshold)


def outcome(exchange: Exchange) -> str:
    """What answered, in words: `scenario=NAME step=STEP`, or generated/unmatched and the nearest miss."""
    if exchange.scenario is not None and not exchange.generated:
        return f"scenario={exchange.scenario} step={exchange.step}"
    if not exchange.missed:
        return ""
    word = "generated" if exchange.generated else "unmatched"
    near = exchange.near_misses
    if not near:
        return f"{word} (no scenario came near)"
    first = near[0]
    return f"{word}; nearest: {first['scenario']} {first['where']}: {first['failed']}"


def log_exchange(exchange: Exchange) -> None:
    """The INFO line of one exchange (skipped cheaply when INFO is off, as in library use)."""
    if not log.isEnabledFor(logging.INFO):
        return
    said = outcome(exchange)
    log.info(
        "%s %s -> %s%s %.1fms %s",
        exchange.method,
        exchange.path,
        exchange.status,
        f" {said}" if said else "",
        exchange.duration_ms,
        exchange.request_id,
        extra={EXCHANGE: exchange},
    )


def debug_enabled() -> bool:
    return log.isEnabledFor(logging.DEBUG)


def log_candidates(exchange: Exchange, misses: Iterable[NearMiss]) -> None:
    """DEBUG: for each scenario that did not answer, where it failed first."""
    for miss in misses:
        log.debug(
            "%s candidate %s did not answer: %s: %s (%s)",
            exchange.request_id,
            miss.scenario,
            miss.where,
            miss.failed,
            miss.file,
            extra={EXCHANGE: exchange},
        )
