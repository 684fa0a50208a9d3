"""Image headers of a given size in each format upstream takes, built byte by byte from the
formats' specifications (no pixels follow: `wire.images` reads headers only), as base64 `data`
and as image blocks for request bodies."""

from __future__ import annotations

import base64
import struct
from typing import Any


def png(width: int, height: int) -> bytes:
    """A PNG signature and its IHDR chunk (8-bit RGB)."""
    ihdr = struct.pack(">II5B", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr + b"\0\0\0\0"


def gif(width: int, height: int) -> bytes:
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\0\0\0"


def webp_lossy(width: int, height: int) -> bytes:
    """RIFF, then a `VP8 ` chunk: a key frame's tag, start code and 14-bit sizes."""
    frame = b"\x30\x01\x00\x9d\x01\x2a" + struct.pack("<HH", width, height)
    return _riff(b"VP8 " + struct.pack("<I", len(frame)) + frame)


def webp_lossless(width: int, height: int) -> bytes:
    """RIFF, then a `VP8L` chunk: its signature byte and 14-bit sizes less one."""
    bits = (width - 1) | ((height - 1) << 14)
    return _riff(b"VP8L" + struct.pack("<I", 5) + b"\x2f" + struct.pack("<I", bits))


def webp_extended(width: int, height: int) -> bytes:
    """RIFF, then a `VP8X` chunk: flags, reserved bytes, 24-bit sizes less one."""
    payload = b"\0" * 4 + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return _riff(b"VP8X" + struct.pack("<I", len(payload)) + payload)


def jpeg(width: int, height: int, *, frame: int = 0xC0, metadata: int = 0) -> bytes:
    """SOI, a JFIF APP0 segment, at least `metadata` bytes of APP1 segments (as EXIF and ICC
    profiles take, 60,000 a segment), a fill byte, then the frame header (`0xC2` for a
    progressive JPEG)."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0"
    app1 = (b"\xff\xe1" + struct.pack(">H", 60_002) + b"\0" * 60_000) * -(-metadata // 60_000)
    sof = b"\xff" + bytes([frame]) + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + app1 + b"\xff" + sof + b"\xff\xd9"


def _riff(chunk: bytes) -> bytes:
    return b"RIFF" + struct.pack("<I", len(chunk) + 4) + b"WEBP" + chunk


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def image_block(raw: bytes, media_type: str = "image/png") -> dict[str, Any]:
    return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": b64(raw)}}
