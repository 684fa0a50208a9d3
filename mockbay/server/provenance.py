"""Where an answer came from, in response headers read from the journal entry (as the log line is).

A Messages request that reached matching was answered by a scenario step, by the generate
fallback, or by nobody (the strict 400). The journal holds it as `scenario`/`step`, `generated` and
`missed`; `headers` reads those fields, as logs.outcome does for the log line, so they agree.
"""

from __future__ import annotations

from urllib.parse import quote

from mockbay.journal import Exchange

SCENARIO = "x-mockbay-scenario"
STEP = "x-mockbay-step"
GENERATED = "x-mockbay-generated"
UNMATCHED = "x-mockbay-unmatched"


def headers(exchange: Exchange) -> dict[str, str]:
    """`x-mockbay-*` headers for an answered request; none for one refused before matching."""
    if exchange.scenario is not None and exchange.step is not None:
        # A header value is Latin-1: a scenario name in any other script is percent-encoded.
        name = quote(exchange.scenario, safe=" !#$&'()*+,/:;<=>?@[]^_`{|}~")
        return {SCENARIO: name, STEP: exchange.step, GENERATED: "false"}
    if exchange.generated:
        return {GENERATED: "true"}
    if exchange.missed:
        return {GENERATED: "false", UNMATCHED: "true"}
    return {}
