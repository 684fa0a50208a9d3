"""RFC 7239 `Forwarded` lines -> the first element's pairs; nothing is refused, nothing truncated."""

from __future__ import annotations

import pytest

from mockbay.server.forwarded import first_element

CASES: list[tuple[list[str], dict[str, str]]] = [
    (
        ["for=192.0.2.60;proto=https;host=example.com"],
        {"for": "192.0.2.60", "proto": "https", "host": "example.com"},
    ),
    (["proto=https;host=a.example, proto=http;host=b.example"], {"proto": "https", "host": "a.example"}),
    (["host=a.example", "host=b.example"], {"host": "a.example"}),  # repeated lines join into one list
    ([' Proto = https ; HOST="a.example:8443" '], {"proto": "https", "host": "a.example:8443"}),
    (['host="[2001:db8::1]:8080"'], {"host": "[2001:db8::1]:8080"}),
    (["host=[2001:db8::1]:8080"], {"host": "[2001:db8::1]:8080"}),  # unquoted, as many proxies send it
    (["host=gw.example:99999"], {"host": "gw.example:99999"}),  # whole, for the caller to refuse
    (['for="a,b;c";host=x.example'], {"for": "a,b;c", "host": "x.example"}),  # separators in quotes
    (['host="x\\"y\\\\z"'], {"host": 'x"y\\z'}),  # quoted pairs unescaped
    (["proto=https;proto=http;host=x.example"], {"host": "x.example"}),  # ambiguous: left out
    (['"unterminated;proto=https, host=x.example'], {}),  # the quote runs to the end
    (["proto=https;garbage;host=bad value;=x;y="], {"proto": "https"}),
    (['host="a.example" trailing'], {}),
    (["", "host=x.example"], {}),  # an empty first element
    ([], {}),
    (["pr\u00f6to=https;host=\u00e9.example"], {}),  # not tokens
]


@pytest.mark.parametrize(("lines", "expected"), CASES, ids=[repr(lines) for lines, _ in CASES])
def test_the_first_element_is_read_leniently(lines: list[str], expected: dict[str, str]) -> None:
    assert first_element(lines) == expected
