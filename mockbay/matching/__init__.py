"""Matching requests to scenarios: `Selector(registry).select(request)` → `Selection` or `Miss`.

Layer 2: imports the scenario model, the request view, text matchers and the fingerprint only;
no aiohttp, no YAML, no I/O.
"""

from mockbay.matching.compile import evaluate
from mockbay.matching.nearmiss import NearMiss
from mockbay.matching.selector import Miss, Selection, Selector

__all__ = ["Miss", "NearMiss", "Selection", "Selector", "evaluate"]
