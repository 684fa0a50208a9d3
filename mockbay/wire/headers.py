"""What a header a scenario sends may be: one definition for the loader, which refuses the rest
with the file's line and column, and the server, which writes heads without aiohttp."""

from __future__ import annotations

# Characters aiohttp refuses in a header, as a header injection (line breaks and other controls;
# a tab is allowed): a reply holding one could not be written at all
REFUSED_CHARACTERS = r"\x00-\x08\x0a-\x1f\x7f"
# The characters of a header name (RFC 9110's token)
NAME_CHARACTERS = r"!#$%&'*+.^_`|~0-9A-Za-z-"
# Headers the server writes for every answer: the body's framing, the connection's, and the
# request id, which also names the exchange in the journal and in error bodies
SERVERS_OWN = ("content-length", "transfer-encoding", "connection", "request-id")


def _any_case(word: str) -> str:
    """A pattern of `word` in any letter case, spelled out: JSON Schema's regexes take no flags."""
    return "".join(f"[{c.upper()}{c}]" if c.isalpha() else c for c in word)


# A header name a scenario may give: a token, and none of the server's own
NAME_PATTERN = f"(?!(?:{'|'.join(map(_any_case, SERVERS_OWN))})$)[{NAME_CHARACTERS}]+"
VALUE_PATTERN = f"[^{REFUSED_CHARACTERS}]*"
