"""`make bench` writes its figures into the README, between two markers, so the README's numbers
are always one whole run's, with the commit and machine they were measured on.

Only the block between `<!-- bench:figures:start -->` and `<!-- bench:figures:end -->` is
replaced; the prose around it (how to read the table, why a target is not met) is written by
hand. A README without the markers is left alone, with a message.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import matching
import report
from common import ROOT

README = ROOT / "README.md"
START, END = "<!-- bench:figures:start -->", "<!-- bench:figures:end -->"
BLOCK = re.compile(re.escape(START) + r".*?" + re.escape(END), re.DOTALL)


def figures_block(doc: dict[str, Any]) -> str:
    """The run's provenance line, its table and, when it ran, the matching table."""
    meta = doc["meta"]
    cpu = " ".join(meta["cpu"].split()[:2])  # "AMD EPYC", not the whole model string
    wrk = re.search(r"\d+\.\d+(\.\d+)?", meta["wrk"])
    provenance = (
        f"Latest run: {meta['date']}, commit `{meta['commit'][:7]}`, {meta['cores']} cores ({cpu}), "
        f"Linux {meta['kernel']}, Python {meta['python']}, aiohttp {meta['aiohttp']}, "
        f"wrk {wrk.group(0) if wrk else meta['wrk']}. "
        "mockbay runs with `--log-level warning` (the baseline logs nothing either)."
    )
    wrapped = textwrap.fill(provenance, 100, break_long_words=False, break_on_hyphens=False)
    parts = [wrapped, report.markdown(doc["table"])]
    if "error" not in doc.get("matching", {"error": "not run"}):
        parts.append(matching.markdown(doc["matching"]))
    return "\n\n".join([START, *parts, END])


def update(doc: dict[str, Any], readme: Path = README) -> bool:
    """Replace the README's figures block with this run's; False when the markers are missing."""
    text = readme.read_text()
    if not BLOCK.search(text):
        return False
    readme.write_text(BLOCK.sub(lambda _: figures_block(doc), text, count=1))
    return True
