"""A skill upload's files checked as the SDK documents them (one top-level directory with a
SKILL.md at its root) and packed into the zip archive a version's download returns.

The SDK leaves the SKILL.md rules unsaid; mockbay's (docs/wire-notes.md, Skills): YAML
frontmatter between `---` lines with a non-empty `description` of at most 1024 characters, and
a `name` (else the directory's) of at most 64 lowercase letters, digits and hyphens.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath

import yaml

from mockbay.wire.fieldtypes import bad

SKILL_MD = "SKILL.md"
NAME = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
NAME_MAX, DESCRIPTION_MAX = 64, 1024
FRONTMATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)^---[ \t]*$", re.DOTALL | re.MULTILINE)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # a fixed stamp: the same files make the same archive


@dataclass(frozen=True, slots=True)
class Upload:
    """What a version keeps of an upload."""

    name: str
    description: str
    archive: bytes


def read_upload(files: list[tuple[str, bytes]]) -> Upload:
    """The upload's SKILL.md read and its files packed; a 400 naming what is wrong otherwise."""
    if not files:
        raise bad("files: at least one file is required")
    paths = [_path(sent) for sent, _ in files]
    tops = {path.parts[0] for path in paths}
    if len(tops) > 1:
        raise bad(f"files: all files must be in the same top-level directory, not {sorted(tops)}")
    (top,) = tops
    contents = dict(zip((str(path) for path in paths), (content for _, content in files), strict=True))
    skill_md = contents.get(f"{top}/{SKILL_MD}")
    if skill_md is None:
        raise bad(f"files: a {SKILL_MD} file is required at the root of the directory {top!r}")
    name, description = _frontmatter(skill_md, top)
    return Upload(name, description, _archive(contents))


def _path(sent: str) -> PurePosixPath:
    """A relative path inside a top-level directory (Windows separators read as `/`)."""
    path = PurePosixPath(sent.replace("\\", "/"))
    parts = [part for part in path.parts if part not in ("", ".")]
    if path.is_absolute() or ".." in parts or len(parts) < 2:
        raise bad(f"files: {sent!r} is not a path inside the skill's directory (like my-skill/{SKILL_MD})")
    return PurePosixPath(*parts)


def _frontmatter(skill_md: bytes, directory: str) -> tuple[str, str]:
    """(name, description) from SKILL.md's frontmatter."""
    try:
        match = FRONTMATTER.match(skill_md.decode())
        fields = yaml.safe_load(match.group(1)) if match else None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise bad(f"{SKILL_MD}: its frontmatter is not readable YAML: {exc}") from None
    if not isinstance(fields, dict):
        raise bad(f"{SKILL_MD}: it must begin with YAML frontmatter between '---' lines (name, description)")
    name, description = fields.get("name", directory), fields.get("description")
    if not isinstance(name, str) or len(name) > NAME_MAX or not NAME.fullmatch(name):
        raise bad(
            f"{SKILL_MD}: name must be at most {NAME_MAX} lowercase letters, digits and hyphens, not {name!r}"
        )
    if not isinstance(description, str) or not description.strip() or len(description) > DESCRIPTION_MAX:
        raise bad(f"{SKILL_MD}: description must be non-empty text of at most {DESCRIPTION_MAX} characters")
    return name, description


def _archive(contents: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, content in sorted(contents.items()):
            archive.writestr(zipfile.ZipInfo(path, ZIP_TIME), content, zipfile.ZIP_DEFLATED)
    return buffer.getvalue()
