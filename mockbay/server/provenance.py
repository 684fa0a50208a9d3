"""Where an answer came from, in response headers read from the journal entry (as the log line is).

A Messages request that reached matching was answered by a scenario step, by the generate
fallback, or by nobody (the strict 400). The journal holds it as `scenario`/`step`, `generated` and
`missed`; `headers` reads those fields, as logs.outcome does for the log line, so they agree.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import quote

from mockbay.journal import Exchange

SCENARIO = "x-mockbay-scenario"
STEP = "x-mockbay-step"
GENERATED = "x-mockbay-generated"
UNMATCHED = "x-mockbay-unmatched"


def headers(exchange: Exchange) -> dict[str, str]:
    """`x-mockbay-*` headers for an answered request; none for one refused before matching."""
    if exchange.scenario is not None and exchange.step is not None:
        return {SCENARIO: _header_value(exchange.scenario), STEP: exchange.step, GENERATED: "false"}
    if exchange.generated:
        return {GENERATED: "true"}
    if exchange.missed:
        return {GENERATED: "false", UNMATCHED: "true"}
    return {}


@lru_cache(maxsize=1024)
def _header_value(scenario: str) -> str:
    """A header value is Latin-1: a scenario name in any other script is percent-encoded (cached:
    every answer by a scenario names it, twice on the way out)."""
    return quote(scenario, safe=" !#$&'()*+,/:;<=>?@[]^_`{|}~")
