"""What an image's own bytes say, read from its base64 `data`: which of upstream's four formats it
is, and its size in pixels. The image rules (`wire.limits`) compare them with the declared
`media_type` and with upstream's dimension limits.

Bytes that are none of the four formats, or too short to tell, give None: mockbay refuses only
what it can read (docs/wire-notes.md, "Limits on images, PDFs and tool ids"). Only what is read
is decoded: the head, and for a JPEG, whose size lies past its metadata segments, a few bytes at
each segment's start, found from the segment lengths. Base64 maps 4 characters to 3 bytes, so a
byte's place in the text is known, unless the text is wrapped in lines: then its first
`JPEG_WRAPPED_CHARS` characters are decoded whole. Stdlib only.
"""

from __future__ import annotations

import binascii
from collections.abc import Callable

HEAD_CHARS = 64  # base64 characters decoded to tell the format (and, but for JPEG, the size)
JPEG_WRAPPED_CHARS = 256 * 1024  # decoded whole, for a JPEG whose base64 is wrapped in lines
JPEG_MAX_STEPS = 10_000  # segments and fill bytes walked before a JPEG's size is given up
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}  # SOF0-SOF15 (not DHT, JPG, DAC)
_JPEG_STANDALONE = frozenset(range(0xD0, 0xDA)) | {0x01}  # RSTn, SOI, EOI, TEM: no length field

Size = tuple[int, int]  # width, height


def image_format(data: str) -> str | None:
    """The media type the data's first bytes identify (`image/png`, ...), or None."""
    head = _decoded(data, HEAD_CHARS)
    for media_type, signature in _SIGNATURES:
        if signature(head):
            return media_type
    return None


def image_size(data: str, media_type: str) -> Size | None:
    """Width and height in pixels of data in the format `image_format` found, or None when its
    header is cut short or broken."""
    if media_type == "image/jpeg":
        return _jpeg_size(_reader(data))
    return _HEADER_SIZES[media_type](_decoded(data, HEAD_CHARS))


def pixel_size(data: str) -> Size | None:
    """Width and height in pixels of base64 data in any of the four formats, or None."""
    found = image_format(data)
    return None if found is None else image_size(data, found)


def _decoded(data: str, chars: int) -> bytes:
    """The bytes of the first `chars` characters (whole quartets, whitespace dropped); b"" when
    they are not base64."""
    head = "".join(data[:chars].split())
    try:
        return binascii.a2b_base64(head[: len(head) - len(head) % 4])
    except (binascii.Error, ValueError):
        return b""


def _reader(data: str) -> Callable[[int, int], bytes]:
    """`read(start, length)`: decoded bytes at a byte offset, from just the characters that hold
    them; for text wrapped in lines (whitespace in its head), from its decoded prefix."""
    head = data[: 2 * HEAD_CHARS]
    if head.split() != [head]:  # any whitespace in it
        prefix = _decoded(data, JPEG_WRAPPED_CHARS)
        return lambda start, length: prefix[start : start + length]

    def read(start: int, length: int) -> bytes:
        first, end = start // 3 * 4, -(-(start + length) // 3) * 4
        chunk = _decoded(data[first:end], end - first)
        return chunk[start % 3 : start % 3 + length]

    return read


def _webp(head: bytes) -> bool:
    return head[:4] == b"RIFF" and head[8:12] == b"WEBP"


_SIGNATURES: tuple[tuple[str, Callable[[bytes], bool]], ...] = (
    ("image/png", lambda head: head.startswith(b"\x89PNG\r\n\x1a\n")),
    ("image/jpeg", lambda head: head.startswith(b"\xff\xd8\xff")),
    ("image/gif", lambda head: head[:6] in (b"GIF87a", b"GIF89a")),
    ("image/webp", _webp),
)


def _png_size(head: bytes) -> Size | None:
    """From the IHDR chunk, which a PNG must start with (big-endian width, height)."""
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def _gif_size(head: bytes) -> Size | None:
    """The logical screen's (little-endian 16-bit width, height)."""
    if len(head) < 10:
        return None
    return int.from_bytes(head[6:8], "little"), int.from_bytes(head[8:10], "little")


def _webp_size(head: bytes) -> Size | None:
    """From the first chunk: lossy (`VP8 `), lossless (`VP8L`) or extended (`VP8X`)."""
    chunk = head[12:16]
    if chunk == b"VP8 " and len(head) >= 30:
        return int.from_bytes(head[26:28], "little") & 0x3FFF, int.from_bytes(head[28:30], "little") & 0x3FFF
    if chunk == b"VP8L" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X" and len(head) >= 30:
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


def _jpeg_size(read: Callable[[int, int], bytes]) -> Size | None:
    """From the first frame header (SOFn), walking the segments before it by their lengths."""
    at = 2
    for _ in range(JPEG_MAX_STEPS):
        segment = read(at, 9)
        if len(segment) < 4 or segment[0] != 0xFF:
            return None
        marker = segment[1]
        if marker == 0xFF:  # a fill byte before the marker
            at += 1
        elif marker in _JPEG_STANDALONE:
            at += 2
        elif marker in _JPEG_FRAMES:
            if len(segment) < 9:
                return None
            return int.from_bytes(segment[7:9], "big"), int.from_bytes(segment[5:7], "big")
        else:
            at += 2 + int.from_bytes(segment[2:4], "big")
    return None


_HEADER_SIZES: dict[str, Callable[[bytes], Size | None]] = {
    "image/png": _png_size,
    "image/gif": _gif_size,
    "image/webp": _webp_size,
}
