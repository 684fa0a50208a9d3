"""`--watch`: reload scenario files when they change; a broken file keeps the old set serving."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from pathlib import Path

from mockbay.errors import ScenarioError
from mockbay.loading import load_registry
from mockbay.state import ServerState

log = logging.getLogger(__name__)
POLL_S = 0.5


def _snapshot(paths: Sequence[str]) -> dict[str, float]:
    """mtime of every scenario file below the given paths (new and deleted files count as changes)."""
    found: dict[str, float] = {}
    for root in map(Path, paths):
        files = (
            [root]
            if root.is_file()
            else [*root.rglob("*.yaml"), *root.rglob("*.yml")]
            if root.is_dir()
            else []
        )
        for file in files:
            try:
                found[str(file)] = file.stat().st_mtime
            except OSError:
                continue
    return found


async def watch_scenarios(state: ServerState, paths: Sequence[str]) -> None:
    """Poll (no extra dependency, works on every filesystem) and swap in the new registry."""
    seen = _snapshot(paths)
    while True:
        await asyncio.sleep(POLL_S)
        current = _snapshot(paths)
        if current == seen:
            continue
        seen = current
        try:
            registry = load_registry(paths)
        except ScenarioError as exc:
            log.error("scenarios not reloaded; still serving the previous %d:\n%s", len(state.registry), exc)
            continue
        state.install(registry)
        log.info("reloaded %d scenarios", len(registry))
