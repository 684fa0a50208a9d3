"""Upstream's limits on what a request carries that its schema cannot express, and the PDF page
counter the token estimate (`usage.estimate`) uses.

Stdlib only.
"""

from __future__ import annotations

import base64
import binascii
import re

_PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")


def pdf_pages(data: str) -> int:
    """Page objects (`/Type /Page`) in a base64 PDF; at least one, and one when the data does not
    decode."""
    try:
        raw = base64.b64decode(data)
    except (binascii.Error, ValueError):
        return 1
    return max(1, len(_PDF_PAGE.findall(raw)))
