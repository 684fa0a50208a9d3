"""`--watch`: reload scenario files when they change; a broken file keeps the old set serving, and
scenarios loaded through the admin API stay loaded over the files (`ServerState.reload_files`)."""

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


FileStamp = tuple[int, int, int, int]


def snapshot(paths: Sequence[str]) -> dict[str, FileStamp]:
    """A stamp of every scenario file below the given paths (new and deleted files count as changes).

    The stamp holds mtime, ctime, size and inode: a rewrite within one mtime tick, or by a tool that
    restores mtimes, still changes ctime or size, and an editor's save-by-rename changes the inode.
    """
    found: dict[str, FileStamp] = {}
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
                stat = file.stat()
            except OSError:
                continue
            found[str(file)] = (stat.st_mtime_ns, stat.st_ctime_ns, stat.st_size, stat.st_ino)
    return found


async def watch_scenarios(state: ServerState, paths: Sequence[str], seen: dict[str, FileStamp]) -> None:
    """Poll (no extra dependency, works on every filesystem) and swap in the new registry.

    `seen` is the snapshot taken before the serving scenarios were loaded, so a change made
    while the server was starting is not missed.
    """
    while True:
        await asyncio.sleep(POLL_S)
        current = snapshot(paths)
        if current == seen:
            continue
        seen = current
        try:
            registry = load_registry(paths)
        except ScenarioError as exc:
            log.error("scenarios not reloaded; still serving the previous %d:\n%s", len(state.registry), exc)
            continue
        state.reload_files(registry)
        admin = len(state.admin_scenarios)
        kept = f"; kept {admin} loaded through the admin API" if admin else ""
        log.info("reloaded %d scenarios%s", len(registry), kept)
