"""`StoredFile`: one uploaded file, its bytes and the metadata upstream reports (docs/wire-notes.md)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from mockbay.store.bounded import BoundedStore


def rfc3339(epoch: float) -> str:
    """`2026-03-02T10:00:00.123456Z`, the timestamp form of batches and files."""
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class StoredFile:
    """One upload of /v1/files: the bytes a download returns and the fields its `FileMetadata` reports."""

    id: str
    filename: str
    mime_type: str
    content: bytes
    created_at: float
    expires_at: float | None
    downloadable: bool

    def metadata(self) -> dict[str, Any]:
        """The `FileMetadata` object of upload, list and retrieve."""
        return {
            "type": "file",
            "id": self.id,
            "filename": self.filename,
            "mime_type": self.mime_type,
            "size_bytes": len(self.content),
            "created_at": rfc3339(self.created_at),
            "expires_at": rfc3339(self.expires_at) if self.expires_at is not None else None,
            "downloadable": self.downloadable,
        }


FileStore = BoundedStore[StoredFile]
