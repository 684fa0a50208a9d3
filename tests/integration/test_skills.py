"""The Skills API through the official SDK (`client.beta.skills`, `client.skills`), raw bytes and
errors over httpx, its caps, and `custom` skills named by a Messages request's container."""

from __future__ import annotations

import io
import random
import zipfile
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from mockbay.config import ServerConfig
from mockbay.server.runner import MockServer
from tests.conftest import sync_client

MODEL = "claude-sonnet-4-6"
HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
SKILL_MD = b"---\nname: report-writer\ndescription: Writes quarterly reports.\n---\n# Report writer\n"
FILES = [("report-writer/SKILL.md", SKILL_MD, "text/markdown"), ("report-writer/lib/fmt.py", b"print(1)\n")]
ANTHROPIC = ["docx", "pdf", "pptx", "xlsx"]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(fallback="generate") as running:
        yield running


@pytest.fixture
def client(server: MockServer) -> anthropic.Anthropic:
    server.reset()
    return sync_client(server.url)


@pytest.fixture
def raw(server: MockServer) -> Iterator[httpx.Client]:
    server.reset()
    with httpx.Client(base_url=server.url, headers=HEADERS) as http:
        yield http


def with_skill(skill_id: str, version: str = "latest") -> dict[str, Any]:
    return {
        "model": MODEL,
        "max_tokens": 64,
        "messages": [{"role": "user", "content": "Write the report."}],
        "container": {"skills": [{"type": "custom", "skill_id": skill_id, "version": version}]},
        "tools": [{"type": "code_execution_20250825", "name": "code_execution"}],
    }


def test_create_retrieve_version_download_and_delete_through_the_sdk(client):
    skill = client.beta.skills.create(files=FILES, display_name="Reports")
    assert skill.id.startswith("skill_") and skill.type == "skill"
    assert (skill.display_name, skill.source.type) == ("Reports", "custom")
    first = client.beta.skills.versions.retrieve(skill.latest_version_id, skill_id=skill.id)
    assert (first.name, first.description, first.skill_id) == (
        "report-writer",
        "Writes quarterly reports.",
        skill.id,
    )
    second = client.beta.skills.versions.create(skill.id, files=FILES[:1])
    assert second.id.startswith("skillver_") and second.id != first.id
    assert client.skills.retrieve(skill.id).latest_version_id == second.id  # the GA client too
    assert client.beta.skills.versions.retrieve("latest", skill_id=skill.id).id == second.id
    assert [v.id for v in client.beta.skills.versions.list(skill.id)] == [second.id, first.id]  # newest first
    archive = zipfile.ZipFile(
        io.BytesIO(client.beta.skills.versions.download(first.id, skill_id=skill.id).read())
    )
    assert archive.read("report-writer/lib/fmt.py") == b"print(1)\n"
    assert archive.read("report-writer/SKILL.md") == SKILL_MD
    deleted = client.beta.skills.versions.delete(second.id, skill_id=skill.id)
    assert (deleted.id, deleted.type) == (second.id, "skill_version_deleted")
    assert client.beta.skills.retrieve(skill.id).latest_version_id == first.id
    assert client.beta.skills.delete(skill.id).type == "skill_deleted"
    with pytest.raises(anthropic.NotFoundError, match="Skill not found"):
        client.beta.skills.retrieve(skill.id)


def test_display_name_defaults_to_the_skill_md_name(client):
    assert client.beta.skills.create(files=FILES).display_name == "report-writer"


def test_list_pages_uploaded_skills_newest_first_then_anthropics(client):
    ids = [client.beta.skills.create(files=FILES).id for _ in range(3)]
    first = client.beta.skills.list(limit=2)
    assert [s.id for s in first.data] == ids[:0:-1] and first.next_page
    assert [s.id for s in client.beta.skills.list(limit=2)] == [*ids[::-1], *ANTHROPIC]  # auto-paging
    assert [s.id for s in client.beta.skills.list(source="custom")] == ids[::-1]
    builtin = client.beta.skills.list(source="anthropic", limit=3)
    assert [s.id for s in builtin.data] == ANTHROPIC[:3]
    assert {s.source.type for s in client.beta.skills.list(source="anthropic")} == {"anthropic"}


def test_anthropics_skills_are_read_only(client, raw):
    assert client.beta.skills.retrieve("xlsx").source.type == "anthropic"
    with pytest.raises(anthropic.PermissionDeniedError):
        client.beta.skills.delete("xlsx")
    assert raw.post("/v1/skills/pdf/versions", files={"files[]": FILES[0]}).status_code == 403


@pytest.mark.parametrize(
    ("files", "says"),
    [
        ([], "at least one file"),
        ([("SKILL.md", SKILL_MD)], "not a path inside"),
        ([("a/SKILL.md", SKILL_MD), ("b/x.py", b"")], "same top-level directory"),
        ([("a/notes.md", b"hi")], "SKILL.md file is required"),
        ([("a/SKILL.md", b"# no frontmatter")], "YAML frontmatter"),
        ([("a/SKILL.md", b"---\nname: Bad Name\ndescription: d\n---\n")], "lowercase"),
        ([("a/SKILL.md", b"---\nname: a\n---\n")], "description"),
        ([("../a/SKILL.md", SKILL_MD)], "not a path inside"),
    ],
)
def test_a_bad_upload_is_a_400_saying_why(raw, files, says):
    form = [("files[]", file) for file in files] or [("display_name", (None, b"x"))]
    answer = raw.post("/v1/skills", files=form)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert says in answer.json()["error"]["message"]


def test_a_version_must_keep_the_skills_name(client, raw):
    skill = client.beta.skills.create(files=FILES)
    other = b"---\nname: other\ndescription: d\n---\n"
    answer = raw.post(f"/v1/skills/{skill.id}/versions", files={"files[]": ("other/SKILL.md", other)})
    assert answer.status_code == 400 and "report-writer" in answer.json()["error"]["message"]


def test_unknown_ids_and_bad_cursors(raw):
    assert raw.get("/v1/skills/skill_01nope").json()["error"]["type"] == "not_found_error"
    assert raw.get("/v1/skills/xlsx/versions/nope").status_code == 404
    assert raw.delete("/v1/skills/skill_01nope").status_code == 404
    assert raw.get("/v1/skills", params={"page": "page_skill_01nope"}).status_code == 400
    assert raw.get("/v1/skills", params={"source": "plugin"}).status_code == 400
    assert raw.get("/v1/skills", params={"limit": "0"}).status_code == 400


def test_uploads_beyond_the_caps_are_upstreams_storage_quota():
    with MockServer(skills_max=1, skills_max_mb=1) as capped_server:
        capped = sync_client(capped_server.url)
        skill = capped.beta.skills.create(files=FILES)
        with pytest.raises(anthropic.BadRequestError, match="--skills-max") as refused:
            capped.beta.skills.create(files=FILES)
        assert refused.value.body["error"]["details"]["error_code"] == "storage_quota_exceeded"
        capped.beta.skills.versions.create(skill.id, files=FILES)  # a version of a kept skill fits
        noise = random.Random(0).randbytes(600_000)  # incompressible: its archive is as large
        big = [*FILES, ("report-writer/noise.bin", noise)]
        latest = capped.beta.skills.versions.create(skill.id, files=big)
        with pytest.raises(anthropic.BadRequestError, match="Storage quota exceeded"):
            capped.beta.skills.versions.create(skill.id, files=big)  # 1.2 MB over --skills-max-mb 1
        capped.beta.skills.versions.delete(latest.id, skill_id=skill.id)
        capped.beta.skills.versions.create(skill.id, files=big)  # room again
        capped.beta.skills.delete(skill.id)
        capped.beta.skills.create(files=FILES)


def test_a_request_naming_a_custom_skill_mockbay_does_not_hold_is_a_404(client, raw):
    answer = raw.post("/v1/messages", json=with_skill("skill_01nope"))
    assert answer.status_code == 404 and "Skill not found: skill_01nope" in answer.text
    skill = client.beta.skills.create(files=FILES)
    assert raw.post("/v1/messages", json=with_skill(skill.id)).status_code == 200
    assert raw.post("/v1/messages", json=with_skill(skill.id, skill.latest_version_id)).status_code == 200
    assert raw.post("/v1/messages", json=with_skill(skill.id, "skillver_01nope")).status_code == 404
    client.beta.skills.delete(skill.id)
    assert raw.post("/v1/messages", json=with_skill(skill.id)).status_code == 404  # not a memoised answer


def test_the_replys_container_reports_the_version_each_skill_resolved_to(client):
    """`ContainerSkill.version` is "the resolved version: a skill version ID for custom skills"
    (SDK 2.17.0), in the JSON reply and the stream alike: `latest`, or no version, is the newest
    held; Anthropic's skills resolve to their listed version; one mockbay does not list is as asked."""
    skill = client.beta.skills.create(files=FILES)
    first = skill.latest_version_id
    newest = client.beta.skills.versions.create(skill.id, files=FILES).id
    body = with_skill(skill.id)
    body["container"]["skills"] += [
        {"type": "custom", "skill_id": skill.id},
        {"type": "custom", "skill_id": skill.id, "version": first},
        {"type": "anthropic", "skill_id": "xlsx", "version": "latest"},
        {"type": "anthropic", "skill_id": "not-listed", "version": "latest"},
    ]
    expected = [
        (skill.id, "custom", newest),
        (skill.id, "custom", newest),
        (skill.id, "custom", first),
        ("xlsx", "anthropic", "20251013"),
        ("not-listed", "anthropic", "latest"),
    ]
    plain = client.messages.create(**body)
    with client.messages.stream(**body) as stream:
        streamed = stream.get_final_message()
    for message in (plain, streamed):
        assert message.container is not None and message.container.skills is not None
        assert [(s.skill_id, s.type, s.version) for s in message.container.skills] == expected


def test_a_skill_entry_lenient_validation_lets_through_without_a_type_is_echoed_with_none() -> None:
    """The reply's `container.skills` holds the entry as sent: `type` null, not the text "None"."""
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 16,
        "messages": [{"role": "user", "content": "Hi"}],
        "container": {"skills": [{"skill_id": "not-listed", "version": "latest"}]},
    }
    config = ServerConfig(port=0, timing="instant", fallback="generate", validation="lenient")
    with MockServer(config=config) as lenient:
        answer = httpx.post(f"{lenient.url}/v1/messages", json=body, headers=HEADERS)
    assert answer.status_code == 200, answer.text
    assert answer.json()["container"]["skills"] == [
        {"skill_id": "not-listed", "type": None, "version": "latest"}
    ]
