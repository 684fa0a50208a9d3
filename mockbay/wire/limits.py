"""Upstream's limits on what a request carries that its schema cannot express (messages, images,
PDF pages, tool ids), and the PDF page counter the page limit shares with the token estimate
(`usage.estimate`).

Each limit is defined here once; docs/wire-notes.md ("Limits on images, PDFs and tool ids") says
where each fact comes from, and docs/wire.md §3.3 lists upstream's texts. The rules that apply
them are `wire.conversation` (every mode) and `wire.typed_rules` (strict mode's fast walk).
Stdlib only; imports `mockbay.lru` and `wire.images`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from mockbay.lru import Lru
from mockbay.wire.images import image_format, pixel_size

MB = 1024 * 1024
# The longest base64 `data` of an image source, in characters: upstream measures the encoded
# string, not the decoded image, and names the length in "bytes" (docs/wire-notes.md).
MAX_IMAGE_BASE64 = 5 * MB
# The longest side of an image, in pixels; and of every image once a request holds more than
# `MANY_IMAGES` of them (docs/wire-notes.md).
MAX_IMAGE_SIDE = 8000
MANY_IMAGES = 20
MAX_MANY_IMAGE_SIDE = 2000
# The most PDF pages one request may carry, all its base64 PDFs together (docs/wire-notes.md).
MAX_PDF_PAGES = 100
TOO_MANY_PDF_PAGES = f"A maximum of {MAX_PDF_PAGES} PDF pages may be provided."
# The most messages one request may carry (the SDK's docstring of `messages`), refused in
# pydantic's words for a list too long, which upstream passes through (docs/wire-notes.md).
MAX_MESSAGES = 100_000
TOO_MANY_MESSAGES = "messages: List should have at most {limit} items after validation, not {found}"
# The most images and PDF pages one request may carry together (upstream's vision guide: 100 images
# a request; its text counts document pages with them: docs/wire-notes.md).
MAX_MEDIA = 100
# What a tool_use block's `id` and a tool_result block's `tool_use_id` must match, whole
# (docs/wire-notes.md): `fullmatch`, so a trailing newline fails too.
TOOL_USE_ID = re.compile(r"[a-zA-Z0-9_-]+")
TOOL_USE_ID_PATTERN = f"^{TOOL_USE_ID.pattern}$"  # as upstream's message spells it
# What a server_tool_use block's `id` must match, whole: upstream's docs give `srvtoolu_` ids this
# pattern (docs/wire-notes.md); mockbay's own (`srvtoolu_01` + base58) fit it.
SERVER_TOOL_USE_ID = re.compile(r"srvtoolu_[a-zA-Z0-9_]+")
SERVER_TOOL_USE_ID_PATTERN = f"^{SERVER_TOOL_USE_ID.pattern}$"

_PDF_PAGE = re.compile(rb"/Type\s*/Page(?!s)")
_SHORTEST_PAGE = len(b"/Type/Page")  # the fewest bytes one `_PDF_PAGE` match takes
# Counts of PDFs that could hold more than `MAX_PDF_PAGES` pages by themselves, keyed by their
# data: validation counts such a PDF and the token estimate reads the count, and a conversation
# about a PDF sends the same data again each turn (a hit then costs the string's hash, ~1 ms
# for 4 MB, where counting costs ~12 ms). At most a Messages body's worth (32 MB) is kept.
_COUNTED: Lru[str, int] = Lru(16, 32 * MB, lambda data, _pages: len(data))


def image_refusal(data: str, media_type: object, where: str) -> str | None:
    """Upstream's text for a base64 image source whose `data` is over the size limit, empty, or
    in another format than its `media_type` says (lenient mode may pass one that is no string:
    then the format is not compared), or None. `where` is the image block's path."""
    if len(data) > MAX_IMAGE_BASE64:
        return (
            f"{where}.source.base64: image exceeds {MAX_IMAGE_BASE64 // MB} MB maximum: {len(data)} bytes > "
            f"{MAX_IMAGE_BASE64} bytes"
        )
    if not data:
        return f"{where}.source.base64: image cannot be empty"
    found = image_format(data)
    if found is not None and isinstance(media_type, str) and found != media_type:
        return (
            f"{where}.source.base64: The image was specified using the {media_type} media type, "
            f"but the image appears to be a {found} image"
        )
    return None


@dataclass(slots=True)
class Carried:
    """What a request's messages carry that upstream weighs once every message is checked: the
    data of its base64 PDFs, how many images it holds (any source), and its base64 images (their
    block's path and data), whose dimensions are limited by that count."""

    pdfs: list[str] = field(default_factory=list)
    images: list[tuple[str, str]] = field(default_factory=list)
    image_count: int = 0

    def refusal(self) -> str | None:
        """Upstream's text for the first limit the whole request breaks, or None."""
        if self.pdfs and too_many_pdf_pages(self.pdfs):
            return TOO_MANY_PDF_PAGES
        if self.image_count:
            media = self._too_much_media()
            if media is not None:
                return media
        many = self.image_count > MANY_IMAGES
        side = MAX_MANY_IMAGE_SIDE if many else MAX_IMAGE_SIDE
        for where, data in self.images:
            size = pixel_size(data)
            if size is not None and max(size) > side:
                limit = f"max allowed size{' for many-image requests' if many else ''}: {side} pixels"
                return f"{where}.source.base64.data: At least one of the image dimensions exceed {limit}"
        return None

    def _too_much_media(self) -> str | None:
        """Upstream's text when the images and the PDF pages are more than `MAX_MEDIA` together;
        pages are counted only when their bound could take the sum past it."""
        images = self.image_count
        if images + sum(map(pdf_pages_at_most, self.pdfs)) <= MAX_MEDIA:
            return None
        pages = sum(map(pdf_pages, self.pdfs))
        if images + pages <= MAX_MEDIA:
            return None
        return f"Too much media: {pages} document pages + {images} images > {MAX_MEDIA}"


def too_many_messages(count: int) -> str | None:
    """Upstream's text for a request of `count` messages, when that is over `MAX_MESSAGES`."""
    if count <= MAX_MESSAGES:
        return None
    return TOO_MANY_MESSAGES.format(limit=MAX_MESSAGES, found=count)


def bad_tool_use_id(tool_id: str, where: str, pattern: re.Pattern[str] = TOOL_USE_ID) -> str | None:
    """Upstream's text for a tool_use id (or with `SERVER_TOOL_USE_ID`, a server_tool_use id)
    off its pattern (`where` is the key's path), or None."""
    if pattern.fullmatch(tool_id):
        return None
    return f"{where}: String should match pattern '^{pattern.pattern}$'"


def too_many_pdf_pages(pdfs: Iterable[str]) -> bool:
    """Whether base64 PDFs (their `data`) hold more than `MAX_PDF_PAGES` pages together. Pages
    are counted only when the data is long enough to hold that many."""
    pdfs = tuple(pdfs)
    if sum(map(pdf_pages_at_most, pdfs)) <= MAX_PDF_PAGES:
        return False
    return sum(map(pdf_pages, pdfs)) > MAX_PDF_PAGES


def pdf_pages_at_most(data: str) -> int:
    """The most pages `pdf_pages(data)` can give, from the data's length alone: base64 decodes
    to at most 3 bytes for 4 characters, and each page takes `_SHORTEST_PAGE` bytes."""
    return max(1, len(data) * 3 // 4 // _SHORTEST_PAGE)


def pdf_pages(data: str) -> int:
    """Page objects (`/Type /Page`) in a base64 PDF; at least one, and one when the data does not
    decode. Kept for a PDF that could be over the limit by itself (`_COUNTED`)."""
    if pdf_pages_at_most(data) <= MAX_PDF_PAGES:
        return _count_pages(data)
    pages = _COUNTED.get(data)
    if pages is None:
        pages = _count_pages(data)
        _COUNTED.put(data, pages)
    return pages


def _count_pages(data: str) -> int:
    try:
        raw = base64.b64decode(data)
    except (binascii.Error, ValueError):
        return 1
    return max(1, len(_PDF_PAGE.findall(raw)))
