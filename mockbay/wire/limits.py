"""Upstream's limits on what a request carries that its schema cannot express, and the PDF page
counter the token estimate (`usage.estimate`) uses.

Each limit is defined here once; docs/wire-notes.md ("Limits on images, PDFs and tool ids") says
where each fact comes from, and docs/wire.md §3.3 lists upstream's texts. The rules that apply
them are `wire.conversation` (every mode) and `wire.typed_rules` (strict mode's fast walk).
Stdlib only.
"""

from __future__ import annotations

import base64
import binascii
import re

MB = 1024 * 1024
# The longest base64 `data` of an image source, in characters: upstream measures the encoded
# string, not the decoded image, and names the length in "bytes" (docs/wire-notes.md).
MAX_IMAGE_BASE64 = 5 * MB

_PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")


def image_too_large(data: str, where: str) -> str | None:
    """Upstream's text for a base64 image source `data` over the limit (`where` is the image
    block's path), or None."""
    if len(data) <= MAX_IMAGE_BASE64:
        return None
    return (
        f"{where}.source.base64: image exceeds {MAX_IMAGE_BASE64 // MB} MB maximum: {len(data)} bytes > "
        f"{MAX_IMAGE_BASE64} bytes"
    )


def pdf_pages(data: str) -> int:
    """Page objects (`/Type /Page`) in a base64 PDF; at least one, and one when the data does not
    decode."""
    try:
        raw = base64.b64decode(data)
    except (binascii.Error, ValueError):
        return 1
    return max(1, len(_PDF_PAGE.findall(raw)))
