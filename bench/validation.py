"""Validation cost per request: the hand-written rules alone (lenient) against strict validation.

Strict runs the compiled request schema (`mockbay/wire/schema.py`), then the hand-written rules
typed (`mockbay/wire/typed_rules.py`: no type check the schema made), so the difference is what
strict mode costs the cold request path over lenient's hand-written checks. Each
body is validated in-process, in a tight loop timed in this thread's CPU time; the best of several
rounds is kept and the two modes' rounds alternate, so other work on a busy machine disturbs the
figures little. Bodies: bench/request.json (the throughput benchmark's request), a tool loop with
a server tool, and a Claude Code-shaped request.

Run: `.venv/bin/python bench/validation.py` (prints a table; writes nothing).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from mockbay.wire.schema import request_schema
from mockbay.wire.validate import validate_messages

BENCH = Path(__file__).resolve().parent
ROUNDS, LOOPS = 15, 1000
WEATHER = {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}


def bodies() -> dict[str, tuple[dict[str, Any], dict[str, str]]]:
    loop = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 1024,
        "tools": [WEATHER, {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "Weather in Lyon?"}]},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Lyon"}},
                ],
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"}],
            },
        ],
    }
    claude_code = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 32000,
        "stream": True,
        "system": [{"type": "text", "text": "You are Claude Code.", "cache_control": {"type": "ephemeral"}}],
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "high"},
        "metadata": {"user_id": '{"device_id":"d","session_id":"s"}'},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "tools": [{**WEATHER, "name": f"tool_{i}"} for i in range(20)],
        "messages": [
            {"role": "user", "content": "Fix the failing test."},
            {"role": "system", "content": "<system-reminder>Be brief.</system-reminder>"},
        ],
    }
    betas = {"anthropic-beta": "claude-code-20250219,context-management-2025-06-27"}
    return {
        "bench/request.json": (json.loads((BENCH / "request.json").read_text()), {}),
        "tool loop": (loop, {}),
        "claude code": (claude_code, betas),
    }


def per_call_us(body: dict[str, Any], headers: dict[str, str], strict: bool) -> float:
    start = time.thread_time()
    for _ in range(LOOPS):
        validate_messages(body, headers, strict=strict)
    return (time.thread_time() - start) / LOOPS * 1e6


def best_pair_us(body: dict[str, Any], headers: dict[str, str]) -> tuple[float, float]:
    """Best lenient and strict figures, their rounds interleaved so both see the same machine."""
    lenient = strict = float("inf")
    for _ in range(ROUNDS):
        lenient = min(lenient, per_call_us(body, headers, False))
        strict = min(strict, per_call_us(body, headers, True))
    return lenient, strict


def main() -> None:
    start = time.perf_counter()
    for root in ("messages", "count_tokens", "beta_messages", "beta_count_tokens"):
        request_schema().root(root)
    print(f"schema compiled in {(time.perf_counter() - start) * 1000:.0f} ms (once, at start-up)\n")
    print("| body | lenient µs | strict µs | strict / lenient |")
    print("|---|---|---|---|")
    for name, (body, headers) in bodies().items():
        lenient, strict = best_pair_us(body, headers)
        print(f"| {name} | {lenient:.1f} | {strict:.1f} | {strict / lenient:.2f} |")


if __name__ == "__main__":
    main()
