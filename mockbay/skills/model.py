"""Skills and their versions as the SDK's `BetaSkill` and `BetaSkillVersion` report them
(docs/wire-notes.md, Skills). A version's uploaded files are kept apart, as one zip archive
(what its download returns), so listing and retrieving never read them."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Literal

from mockbay.files.store import rfc3339

Source = Literal["custom", "anthropic"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SkillVersion:
    """One upload of a skill's files: `name` and `description` from its SKILL.md."""

    id: str
    skill_id: str
    name: str
    description: str
    created_at: float
    size_bytes: int  # its archive's, counted against `--skills-max-mb`

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "skill_version",
            "id": self.id,
            "skill_id": self.skill_id,
            "name": self.name,
            "description": self.description,
            "created_at": rfc3339(self.created_at),
        }


@dataclass(frozen=True, slots=True, kw_only=True)
class SkillInfo:
    """A skill and its versions' metadata, oldest version first."""

    id: str
    name: str  # the slug every version's SKILL.md must resolve to, kept when they are all deleted
    display_name: str
    source: Source
    created_at: float
    updated_at: float
    versions: tuple[SkillVersion, ...]

    @property
    def size_bytes(self) -> int:
        return sum(version.size_bytes for version in self.versions)

    def version(self, version_id: str) -> SkillVersion | None:
        """The version by id, or `latest`: the newest (None for a skill whose versions are gone)."""
        if version_id == "latest":
            return self.versions[-1] if self.versions else None
        return next((version for version in self.versions if version.id == version_id), None)

    def with_versions(self, versions: tuple[SkillVersion, ...], now: float) -> SkillInfo:
        return dataclasses.replace(self, versions=versions, updated_at=now)

    def to_json(self) -> dict[str, Any]:
        """The SDK's `BetaSkill`; `latest_version_id` is null only once every version is deleted."""
        return {
            "type": "skill",
            "id": self.id,
            "display_name": self.display_name,
            "source": {"type": self.source},
            "latest_version_id": self.versions[-1].id if self.versions else None,
            "created_at": rfc3339(self.created_at),
            "updated_at": rfc3339(self.updated_at),
        }

    def dumps(self) -> str:
        """The form a shared store keeps (`loads` reads it back)."""
        return json.dumps(dataclasses.asdict(self))

    @staticmethod
    def loads(text: str | bytes) -> SkillInfo:
        fields = json.loads(text)
        versions = tuple(SkillVersion(**version) for version in fields.pop("versions"))
        return SkillInfo(**fields, versions=versions)


# Anthropic's own skills, read-only and listed with `source=anthropic` (mockbay holds no content
# for them): skill ids as a request's `container.skills` names them.
ANTHROPIC_CREATED = 1_760_000_000.0  # 2025-10-09, a fixed time so their objects never change
ANTHROPIC_SKILLS = {
    skill_id: SkillInfo(
        id=skill_id,
        name=skill_id,
        display_name=title,
        source="anthropic",
        created_at=ANTHROPIC_CREATED,
        updated_at=ANTHROPIC_CREATED,
        versions=(
            SkillVersion(
                id="20251013",
                skill_id=skill_id,
                name=skill_id,
                description=description,
                created_at=ANTHROPIC_CREATED,
                size_bytes=0,
            ),
        ),
    )
    for skill_id, title, description in (
        ("docx", "Word documents", "Create, edit and analyse Word documents (.docx)."),
        ("pdf", "PDF documents", "Read, fill and create PDF documents."),
        ("pptx", "PowerPoint presentations", "Create and edit PowerPoint presentations (.pptx)."),
        ("xlsx", "Excel spreadsheets", "Create, edit and analyse Excel spreadsheets (.xlsx)."),
    )
}
