"""`custom` skills a Messages request's `container.skills` loads, checked against the skill store
as `file_id` references are (mockbay/files/sources.py): one mockbay does not hold is a 404
`not_found_error` (docs/wire-notes.md, Skills). Anthropic's skills are not checked."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from mockbay.errors import ApiError

if TYPE_CHECKING:
    from mockbay.store import StateStore


async def check_skills(store: StateStore, custom: Iterable[tuple[str, str]]) -> None:
    for skill_id, version_id in custom:
        skill = await store.skill_get(skill_id)
        if skill is None:
            raise ApiError(404, "not_found_error", f"Skill not found: {skill_id}")
        if skill.version(version_id) is None:
            raise ApiError(
                404, "not_found_error", f"Skill version not found: {version_id} (skill {skill_id})"
            )
