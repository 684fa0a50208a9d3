"""Skills a Messages request's `container.skills` loads, resolved to the version each loads (the
reply's `container.skills` reports it, docs/wire-notes.md, Skills). A `custom` skill is checked
against the skill store as `file_id` references are (mockbay/files/sources.py): one mockbay does
not hold is a 404 `not_found_error`. Anthropic's skills are not checked: one of the fixed list
resolves to its version there, any other is reported as asked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from mockbay.errors import ApiError
from mockbay.skills.model import ANTHROPIC_SKILLS, SkillInfo

if TYPE_CHECKING:
    from mockbay.store import StateStore
    from mockbay.wire.request import LoadedSkill


async def resolve_skills(store: StateStore, loaded: Iterable[LoadedSkill]) -> dict[LoadedSkill, str]:
    """The version id each loaded skill resolves to (`latest`: the newest held)."""
    resolved: dict[LoadedSkill, str] = {}
    for skill in loaded:
        if skill.type == "custom":
            resolved[skill] = _held_version(await store.skill_get(skill.skill_id), skill)
        else:
            known = ANTHROPIC_SKILLS.get(skill.skill_id)
            version = known.version(skill.version) if known is not None else None
            resolved[skill] = version.id if version is not None else skill.version
    return resolved


def _held_version(held: SkillInfo | None, skill: LoadedSkill) -> str:
    if held is None:
        raise ApiError(404, "not_found_error", f"Skill not found: {skill.skill_id}")
    version = held.version(skill.version)
    if version is None:
        raise ApiError(
            404, "not_found_error", f"Skill version not found: {skill.version} (skill {skill.skill_id})"
        )
    return version.id
