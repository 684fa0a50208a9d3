"""A stable hash of a normalised request, shared by matching and recording.

Stable across what does not change the answer: key order, whitespace, the `stream` flag (the
same reply is served as JSON or SSE), `metadata` (per-user ids) and every HTTP header.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

IGNORED_FIELDS = frozenset({"stream", "metadata"})


def fingerprint(body: dict[str, Any]) -> str:
    """16 hex characters identifying the request's content."""
    normalised = {k: v for k, v in body.items() if k not in IGNORED_FIELDS}
    canonical = json.dumps(normalised, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
