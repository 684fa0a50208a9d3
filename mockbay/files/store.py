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
class FileInfo:
    """What upstream's `FileMetadata` reports of one upload. Its bytes are kept apart
    (`StoredFile`), so listing, retrieving and checking a `file_id` never read them: in a shared
    store each would otherwise fetch every file's content to report its name."""

    id: str
    filename: str
    mime_type: str
    size_bytes: int
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
            "size_bytes": self.size_bytes,
            "created_at": rfc3339(self.created_at),
            "expires_at": rfc3339(self.expires_at) if self.expires_at is not None else None,
            "downloadable": self.downloadable,
        }


@dataclass(frozen=True, slots=True, eq=False)
class StoredFile:
    """One upload of /v1/files: its metadata and the bytes a download returns."""

    info: FileInfo
    content: bytes


FileStore = BoundedStore[StoredFile]
