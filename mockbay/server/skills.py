"""/v1/skills: skills and their versions, uploaded as files and kept like them (docs/wire-notes.md,
Skills), so `client.beta.skills.*` and `client.skills.*` run offline.

Accepted with or without the `skills-2025-10-02` beta header (SDK 2.17.0 sends none unless
`betas=` is given). Anthropic's own skills are a fixed, read-only list (`model.ANTHROPIC_SKILLS`).
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from mockbay.config import MB
from mockbay.errors import ApiError
from mockbay.journal import Exchange
from mockbay.render import ids
from mockbay.server.auth import authenticate, require_version
from mockbay.server.multipart import FormPart, read_form
from mockbay.server.responses import download, json_response
from mockbay.server.upload import quota_exceeded, refuse_declared
from mockbay.skills.model import ANTHROPIC_SKILLS, SkillInfo, SkillVersion
from mockbay.skills.upload import Upload, read_upload
from mockbay.state import ServerState
from mockbay.store.bounded import StoreFull, UnknownCursor
from mockbay.wire.fieldtypes import bad
from mockbay.wire.paging import PAGE_PREFIX, bad_page, next_page, page_after, parse_limit

PATH = re.compile(r"/v1/skills(?:/([^/]+)(/versions(?:/([^/]+)(/content)?)?)?)?/?$")
FILES_FIELD = re.compile(r"files(?:\[\d*\])?")  # the SDK's `files[]`, or `files` / `files[0]`
DISPLAY_NAME_MAX = 255
SOURCES = ("custom", "anthropic")
ZIP = "application/zip"


async def handle(
    request: web.Request, state: ServerState, exchange: Exchange, headers: dict[str, str]
) -> web.StreamResponse | None:
    """Answer a Skills endpoint, or None when the path and method name none."""
    match = PATH.search(request.path)
    if match is None:
        return None
    skill_id, versions, version_id, content = match.groups()
    route = (
        skill_id is not None,
        versions is not None,
        version_id is not None,
        content is not None,
        request.method,
    )
    answer = ROUTES.get(route)
    if answer is None:
        return None
    exchange.endpoint = "skills"
    if request.method == "POST":
        refuse_declared(request.headers, state.config.skills_max_mb * MB)
    authenticate(headers, state.config)
    require_version(headers, state.config)
    return await answer(request, state, exchange, skill_id or "", version_id or "")


async def _create(
    request: web.Request, state: ServerState, exchange: Exchange, _: str, __: str
) -> web.Response:
    parts = await _form(request, state, ("display_name",))
    upload = _upload(parts)
    display_name = _display_name(parts) or upload.name
    now = state.wall_clock()
    skill_id = ids.skill_id(state.config.seed, exchange.seq, state.config.worker)
    version = _version(state, exchange, skill_id, upload, now)
    info = SkillInfo(
        id=skill_id,
        name=upload.name,
        display_name=display_name,
        source="custom",
        created_at=now,
        updated_at=now,
        versions=(version,),
    )
    await _keep(state, info, version, upload)
    exchange.body = {"skill": info.to_json()}
    return json_response(info.to_json())


async def _create_version(
    request: web.Request, state: ServerState, exchange: Exchange, skill_id: str, _: str
) -> web.Response:
    skill = await _custom(state, skill_id)
    upload = _upload(await _form(request, state, ()))
    if upload.name != skill.name:
        raise bad(f"SKILL.md: name must stay {skill.name!r} (the skill's), not {upload.name!r}")
    now = state.wall_clock()
    version = _version(state, exchange, skill_id, upload, now)
    await _keep(state, skill.with_versions((*skill.versions, version), now), version, upload)
    exchange.body = {"skill_version": version.to_json()}
    return json_response(version.to_json())


async def _retrieve(
    request: web.Request, state: ServerState, _: Exchange, skill_id: str, __: str
) -> web.Response:
    return json_response((await _skill(state, skill_id)).to_json())


async def _delete(
    request: web.Request, state: ServerState, _: Exchange, skill_id: str, __: str
) -> web.Response:
    await _custom(state, skill_id)
    await state.store.skill_delete(skill_id)
    return json_response({"id": skill_id, "type": "skill_deleted"})


async def _list(request: web.Request, state: ServerState, _: Exchange, __: str, ___: str) -> web.Response:
    """Uploaded skills newest first, then Anthropic's, paged by the `page` cursor of `next_page`."""
    query = {key: request.query.getall(key) for key in request.query}
    limit = parse_limit(query.get("limit", ()))
    source = query.get("source", [""])[-1] or None
    if source is not None and source not in SOURCES:
        raise bad(f"source: Input should be 'custom' or 'anthropic', not {source!r}")
    after = page_after(query)
    data: list[dict[str, Any]] = []
    has_more = False
    builtin_after = after
    if source != "anthropic" and after not in ANTHROPIC_SKILLS:
        try:
            page = await state.store.skill_page(limit, after)
        except UnknownCursor:
            raise bad_page(f"{PAGE_PREFIX}{after}") from None
        data, has_more, builtin_after = [info.to_json() for info in page.items], page.has_more, None
    if source != "custom" and not has_more:
        builtin = list(ANTHROPIC_SKILLS)
        if builtin_after is not None and builtin_after not in ANTHROPIC_SKILLS:
            raise bad_page(f"{PAGE_PREFIX}{builtin_after}")
        rest = builtin[builtin.index(builtin_after) + 1 :] if builtin_after else builtin
        room = limit - len(data)
        data += [ANTHROPIC_SKILLS[skill_id].to_json() for skill_id in rest[:room]]
        has_more = len(rest) > room
    return _page(data, has_more)


async def _list_versions(
    request: web.Request, state: ServerState, _: Exchange, skill_id: str, __: str
) -> web.Response:
    """Newest first, paged by the `page` cursor of `next_page`."""
    skill = await _skill(state, skill_id)
    query = {key: request.query.getall(key) for key in request.query}
    limit = parse_limit(query.get("limit", ()))
    newest_first = [version.to_json() for version in reversed(skill.versions)]
    after = page_after(query)
    start = 0
    if after is not None:
        found = [n for n, version in enumerate(newest_first) if version["id"] == after]
        if not found:
            raise bad_page(f"{PAGE_PREFIX}{after}")
        start = found[0] + 1
    return _page(newest_first[start : start + limit], len(newest_first) > start + limit)


async def _retrieve_version(
    request: web.Request, state: ServerState, _: Exchange, skill_id: str, version_id: str
) -> web.Response:
    return json_response(_version_of(await _skill(state, skill_id), version_id).to_json())


async def _delete_version(
    request: web.Request, state: ServerState, _: Exchange, skill_id: str, version_id: str
) -> web.Response:
    skill = await _custom(state, skill_id)
    version = _version_of(skill, version_id)
    kept = tuple(other for other in skill.versions if other.id != version.id)
    await state.store.skill_drop_version(skill.with_versions(kept, state.wall_clock()), version.id)
    return json_response({"id": version.id, "type": "skill_version_deleted"})


async def _download(
    request: web.Request, state: ServerState, _: Exchange, skill_id: str, version_id: str
) -> web.Response:
    skill = await _skill(state, skill_id)
    version = _version_of(skill, version_id)
    if skill.source == "anthropic":
        raise ApiError(404, "not_found_error", f"mockbay holds no files of Anthropic's skill {skill_id}")
    archive = await state.store.skill_archive(skill_id, version.id)
    if archive is None:  # deleted (through another replica) since the skill was read
        raise _not_found_version(version.id)
    return download(archive, ZIP)


async def _form(request: web.Request, state: ServerState, fields: tuple[str, ...]) -> list[FormPart]:
    """The upload's parts: `files` and the other `fields` the endpoint takes."""
    return await read_form(
        request,
        state.config.skills_max_mb * MB,
        lambda name: name in fields or FILES_FIELD.fullmatch(name) is not None,
    )


def _upload(parts: list[FormPart]) -> Upload:
    return read_upload([(part.filename, part.content) for part in parts if FILES_FIELD.fullmatch(part.name)])


def _display_name(parts: list[FormPart]) -> str | None:
    """The last `display_name` sent: one line of at most 255 characters."""
    sent = [part.content for part in parts if part.name == "display_name"]
    if not sent:
        return None
    try:
        text = sent[-1].decode()
    except UnicodeDecodeError:
        raise bad("display_name: Input should be a valid string") from None
    if "\n" in text or "\r" in text or len(text) > DISPLAY_NAME_MAX:
        raise bad(f"display_name: must be a single line of at most {DISPLAY_NAME_MAX} characters")
    return text or None


def _version(
    state: ServerState, exchange: Exchange, skill_id: str, upload: Upload, now: float
) -> SkillVersion:
    return SkillVersion(
        id=ids.skill_version_id(state.config.seed, exchange.seq, state.config.worker),
        skill_id=skill_id,
        name=upload.name,
        description=upload.description,
        created_at=now,
        size_bytes=len(upload.archive),
    )


async def _keep(state: ServerState, info: SkillInfo, version: SkillVersion, upload: Upload) -> None:
    try:
        await state.store.skill_put(info, version.id, upload.archive)
    except StoreFull:
        raise quota_exceeded(
            f"{state.config.skills_max} skills and {state.config.skills_max_mb} MB of their versions "
            "(--skills-max, --skills-max-mb); delete skills or versions to make room"
        ) from None


async def _skill(state: ServerState, skill_id: str) -> SkillInfo:
    """An uploaded skill or one of Anthropic's; 404 for any other id."""
    skill = ANTHROPIC_SKILLS.get(skill_id) or await state.store.skill_get(skill_id)
    if skill is None:
        raise ApiError(404, "not_found_error", f"Skill not found: {skill_id}")
    return skill


async def _custom(state: ServerState, skill_id: str) -> SkillInfo:
    """An uploaded skill, which may change; Anthropic's are read-only (a 403)."""
    skill = await _skill(state, skill_id)
    if skill.source != "custom":
        raise ApiError(403, "permission_error", f"Anthropic's skill {skill_id} is read-only")
    return skill


def _version_of(skill: SkillInfo, version_id: str) -> SkillVersion:
    version = skill.version(version_id)
    if version is None:
        raise _not_found_version(version_id)
    return version


def _not_found_version(version_id: str) -> ApiError:
    return ApiError(404, "not_found_error", f"Skill version not found: {version_id}")


def _page(data: list[dict[str, Any]], has_more: bool) -> web.Response:
    return json_response({"data": data, "has_more": has_more, "next_page": next_page(data, has_more)})


# (names a skill, under /versions, names a version, /content, method) -> its answer
ROUTES = {
    (False, False, False, False, "POST"): _create,
    (False, False, False, False, "GET"): _list,
    (True, False, False, False, "GET"): _retrieve,
    (True, False, False, False, "DELETE"): _delete,
    (True, True, False, False, "POST"): _create_version,
    (True, True, False, False, "GET"): _list_versions,
    (True, True, True, False, "GET"): _retrieve_version,
    (True, True, True, False, "DELETE"): _delete_version,
    (True, True, True, True, "GET"): _download,
}
