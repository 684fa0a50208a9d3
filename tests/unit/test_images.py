"""Reading an image's format and size from its base64 data: each format and variant upstream
takes, headers cut short, and arbitrary bytes (never an exception)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockbay.wire.images import JPEG_MAX_STEPS, image_format, image_size
from tests.images import b64, gif, jpeg, png, webp_extended, webp_lossless, webp_lossy

READ = [
    ("png", png(640, 480), "image/png", (640, 480)),
    ("png-wide", png(8001, 3), "image/png", (8001, 3)),
    ("gif", gif(320, 200), "image/gif", (320, 200)),
    ("webp-lossy", webp_lossy(1024, 768), "image/webp", (1024, 768)),
    ("webp-lossless", webp_lossless(16383, 2), "image/webp", (16383, 2)),
    ("webp-extended", webp_extended(9000, 9000), "image/webp", (9000, 9000)),
    ("jpeg", jpeg(1920, 1080), "image/jpeg", (1920, 1080)),
    ("jpeg-progressive", jpeg(2001, 10, frame=0xC2), "image/jpeg", (2001, 10)),
    ("jpeg-after-exif", jpeg(4000, 3000, metadata=60_000), "image/jpeg", (4000, 3000)),
    ("png-without-ihdr", b"\x89PNG\r\n\x1a\n", "image/png", None),
    ("jpeg-without-frame", b"\xff\xd8\xff\xd9", "image/jpeg", None),
    ("jpeg-after-a-megabyte-of-metadata", jpeg(8001, 10, metadata=1_000_000), "image/jpeg", (8001, 10)),
    ("jpeg-fill-bytes-past-the-walk", b"\xff\xd8" + b"\xff" * (JPEG_MAX_STEPS + 10), "image/jpeg", None),
    ("jpeg-broken-segment", b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 12 + b"garbage", "image/jpeg", None),
    ("webp-unknown-chunk", b"RIFF\0\0\0\0WEBPALPH" + b"\0" * 20, "image/webp", None),
]


@pytest.mark.parametrize(("name", "raw", "media_type", "size"), READ, ids=[row[0] for row in READ])
def test_reads_format_and_size(name: str, raw: bytes, media_type: str, size: tuple[int, int] | None) -> None:
    data = b64(raw)
    assert image_format(data) == media_type
    assert image_size(data, media_type) == size


@pytest.mark.parametrize(
    "data",
    ["", "AAAA", "iVBO", "!!!!", "iVBORw0KGgo", b64(b"BM" + b"\0" * 40), b64(b"%PDF-1.4\n")],
    ids=["empty", "zeros", "one-quartet", "not-base64", "unpadded", "bmp", "pdf"],
)
def test_unreadable_data_is_no_format(data: str) -> None:
    assert image_format(data) is None


def test_whitespace_in_the_data_is_skipped() -> None:
    data = b64(png(64, 32))
    wrapped = "\n".join(data[i : i + 20] for i in range(0, len(data), 20))
    assert image_format(wrapped) == "image/png"
    assert image_size(wrapped, "image/png") == (64, 32)


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(
    st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"RIFF\0\0\0\0WEBP", b""]), st.binary()
)
def test_any_bytes_after_a_signature_read_without_error(signature: bytes, rest: bytes) -> None:
    data = b64(signature + rest)
    found = image_format(data)
    if found is not None:
        size = image_size(data, found)
        assert size is None or all(side >= 0 for side in size)
