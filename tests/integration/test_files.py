"""The Files API through the official SDK (`client.files` and `client.beta.files`), and `file_id` sources."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest

from mockbay.server.runner import MockServer
from tests.conftest import HandClock, sync_client

MODEL = "claude-sonnet-4-6"
HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
FILES_BETA = "files-api-2025-04-14"


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(fallback="generate") as running:
        yield running


@pytest.fixture
def client(server: MockServer) -> anthropic.Anthropic:
    server.reset()
    return sync_client(server.url)


def document(file_id: str) -> list[dict[str, Any]]:
    content = [
        {"type": "document", "source": {"type": "file", "file_id": file_id}},
        {"type": "text", "text": "Summarise it."},
    ]
    return [{"role": "user", "content": content}]


def test_upload_retrieve_list_and_delete_with_both_clients(client):
    plain = client.files.upload(file=("notes.txt", b"hello world", "text/plain"))
    beta = client.beta.files.upload(file=("chart.png", b"\x89PNG....", "image/png"), betas=[FILES_BETA])
    assert plain.id.startswith("file_") and plain.type == "file"
    assert (plain.filename, plain.mime_type, plain.size_bytes) == ("notes.txt", "text/plain", 11)
    assert plain.downloadable is False and plain.expires_at is None
    assert client.files.retrieve_metadata(beta.id).mime_type == "image/png"
    assert client.beta.files.retrieve_metadata(plain.id, betas=[FILES_BETA]).filename == "notes.txt"
    assert [f.id for f in client.files.list()] == [beta.id, plain.id]  # newest first
    assert [f.id for f in client.beta.files.list()] == [beta.id, plain.id]
    assert client.files.delete(plain.id).type == "file_deleted"
    assert client.beta.files.delete(beta.id).id == beta.id
    assert client.files.list().data == []
    with pytest.raises(anthropic.NotFoundError):
        client.files.retrieve_metadata(plain.id)


def test_paging_by_the_next_page_cursor(client):
    ids = [client.files.upload(file=(f"f{n}.txt", b"x", "text/plain")).id for n in range(5)]
    page = client.files.list(limit=2)
    assert [f.id for f in page.data] == ids[:2:-1] and page.next_page
    second = client.files.list(limit=2, page=page.next_page)
    assert [f.id for f in second.data] == ids[2:0:-1]
    assert [f.id for f in client.files.list(limit=2)] == ids[::-1]  # the SDK follows next_page
    assert [f.id for f in client.beta.files.list(limit=2)] == ids[::-1]
    chosen = client.files.list(ids=[ids[1], "file_gone", ids[3]])
    assert [f.id for f in chosen.data] == [ids[1], ids[3]] and chosen.next_page is None
    with pytest.raises(anthropic.BadRequestError):
        client.files.list(ids=[ids[0]], limit=2)
    with pytest.raises(anthropic.BadRequestError, match="page: invalid page cursor 'page_file_unknown'"):
        client.files.list(page="page_file_unknown")


def test_an_uploaded_file_is_not_downloadable_as_upstream(client):
    stored = client.files.upload(file=("notes.txt", b"secret", "text/plain"))
    with pytest.raises(anthropic.types.FileNotDownloadableError) as caught:
        client.files.download(stored.id)
    assert caught.value.status_code == 400
    assert caught.value.body["error"]["details"] == {"error_code": "file_not_downloadable"}
    with pytest.raises(anthropic.types.FileNotDownloadableError):
        client.beta.files.download(stored.id)


def test_files_downloadable_serves_the_bytes(server, client):
    with server.overrides(files_downloadable=True):
        stored = client.files.upload(file=("data.csv", b"a,b\n1,2\n", "text/csv"))
    assert stored.downloadable is True
    assert client.files.download(stored.id).read() == b"a,b\n1,2\n"
    assert client.beta.files.download(stored.id).read() == b"a,b\n1,2\n"


def test_unknown_file_ids_are_404s(client, server):
    for call in (client.files.retrieve_metadata, client.files.download, client.files.delete):
        with pytest.raises(anthropic.NotFoundError) as caught:
            call("file_011Cnothing")
        assert caught.value.body["error"]["type"] == "not_found_error"
    response = httpx.get(f"{server.url}/v1/files/file_011Cnothing/content", headers=HEADERS)
    assert response.status_code == 404 and response.json()["request_id"] == response.headers["request-id"]


def test_file_sources_in_messages_are_checked_against_the_store(client, server):
    stored = client.files.upload(file=("notes.txt", b"hello", "text/plain"))
    for _ in range(2):  # the second time could come from the reply memo: it must check again
        assert client.messages.create(model=MODEL, max_tokens=20, messages=document(stored.id)).content
    client.files.delete(stored.id)
    with pytest.raises(anthropic.NotFoundError, match=stored.id):
        client.messages.create(model=MODEL, max_tokens=20, messages=document(stored.id))
    image = [{"type": "image", "source": {"type": "file", "file_id": "file_011Cnope"}}]
    call = [{"type": "tool_use", "id": "toolu_1", "name": "look", "input": {}}]
    nested = [{"type": "tool_result", "tool_use_id": "toolu_1", "content": image}]
    conversations = [
        [{"role": "user", "content": image}],
        [
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": call},
            {"role": "user", "content": nested},
        ],
        [{"role": "user", "content": [{"type": "container_upload", "file_id": "file_011Cnope"}]}],
        [
            {
                "role": "user",
                "content": [{"type": "document", "source": {"type": "content", "content": image}}],
            }
        ],
    ]
    for messages in conversations:
        with pytest.raises(anthropic.NotFoundError):
            client.beta.messages.create(model=MODEL, max_tokens=20, messages=messages)
    batch = client.messages.batches.create(
        requests=[
            {"custom_id": "doc", "params": {"model": MODEL, "max_tokens": 20, "messages": document("file_x")}}
        ]
    )
    (line,) = client.messages.batches.results(batch.id)
    assert line.result.type == "errored" and line.result.error.error.type == "not_found_error"


def test_a_file_named_through_an_escaped_key_is_checked_again(client, server):
    """JSON may spell `file_id` with escapes, so no test of the body's bytes can tell that it names
    no file: a body that names one is never answered from the reply memo."""
    stored = client.files.upload(file=("notes.txt", b"hello", "text/plain"))
    escaped = json.dumps({"model": MODEL, "max_tokens": 20, "messages": document(stored.id)})
    escaped = escaped.replace('"file_id"', '"file\\u005fid"')

    def send() -> httpx.Response:
        return httpx.post(f"{server.url}/v1/messages", content=escaped, headers=HEADERS)

    assert [send().status_code for _ in range(2)] == [200, 200]
    client.files.delete(stored.id)
    refused = send()
    assert refused.status_code == 404 and stored.id in refused.json()["error"]["message"]


def test_upload_names_types_and_expiry():
    clock = HandClock()
    with MockServer(wall_clock=clock, files_downloadable=True) as server:
        client = sync_client(server.url)
        nameless = client.files.upload(file=("", b"%PDF-1.7", "application/pdf"))
        assert nameless.filename == "unnamed.pdf"
        pathed = client.files.upload(file=("dir/sub/report.md", b"# hi", "application/octet-stream"))
        assert (pathed.filename, pathed.mime_type) == ("report.md", "text/markdown")
        expiring = client.files.upload(file=("a.txt", b"a", "text/plain"), expires_in_seconds=3600)
        assert (expiring.expires_at - expiring.created_at).total_seconds() == 3600
        assert client.files.download(expiring.id).read() == b"a"
        clock.now += 3600
        with pytest.raises(anthropic.types.FileExpiredError):
            client.files.download(expiring.id)
        with pytest.raises(anthropic.BadRequestError, match="expires_in_seconds"):
            client.files.upload(file=("b.txt", b"b", "text/plain"), expires_in_seconds=60)


def test_the_store_is_capped_and_refuses_rather_than_evicts():
    with MockServer(files_max=2, files_max_mb=1) as server:
        client = sync_client(server.url)
        kept = [client.files.upload(file=(f"{n}.txt", b"x", "text/plain")).id for n in range(2)]
        with pytest.raises(anthropic.types.StorageQuotaExceededError):  # over the count cap
            client.files.upload(file=("2.txt", b"x", "text/plain"))
        client.files.delete(kept[0])
        half = b"x" * 600_000
        first = client.files.upload(file=("half.bin", half, "application/octet-stream")).id
        with pytest.raises(anthropic.types.StorageQuotaExceededError):  # over the byte cap
            client.files.upload(file=("more.bin", half, "application/octet-stream"))
        assert [f.id for f in client.files.list()] == [first, kept[1]]
        big = httpx.post(
            f"{server.url}/v1/files",
            headers=HEADERS,
            files={"file": ("huge.bin", b"x" * (1024 * 1024 + 1), "application/octet-stream")},
        )
        assert big.status_code == 413 and big.json()["error"]["type"] == "request_too_large"
        server.reset()
        assert client.files.list().data == []


@pytest.mark.parametrize(
    ("content", "headers", "message"),
    [
        (b'{"file": 1}', {"content-type": "application/json"}, "multipart/form-data"),
        (b"--x\r\nbroken", {"content-type": "multipart/form-data; boundary=x"}, ""),
        (
            b'--x\r\nContent-Disposition: form-data; name="other"\r\n\r\nv\r\n--x--\r\n',
            {"content-type": "multipart/form-data; boundary=x"},
            "other: Extra inputs are not permitted",
        ),
        (
            b'--x\r\nContent-Disposition: form-data; name="expires_in_seconds"\r\n\r\n3600\r\n--x--\r\n',
            {"content-type": "multipart/form-data; boundary=x"},
            "file: Field required",
        ),
        (  # no Content-Disposition at all
            b"--x\r\ncontent-type: text/plain\r\n\r\nv\r\n--x--\r\n",
            {"content-type": "multipart/form-data; boundary=x"},
            "multipart: a part without a name",
        ),
        (  # a body cut short after a boundary: a last part with no headers
            b'--x\r\nContent-Disposition: form-data; name="file"\r\n\r\nv\r\n--x',
            {"content-type": "multipart/form-data; boundary=x"},
            "multipart: a part without a name",
        ),
    ],
)
def test_a_malformed_upload_is_a_400_envelope(server, content, headers, message):
    response = httpx.post(f"{server.url}/v1/files", headers={**HEADERS, **headers}, content=content)
    assert response.status_code == 400, response.text
    assert message in response.json()["error"]["message"]
    assert response.json()["request_id"] == response.headers["request-id"]


def upload_with(server: MockServer, disposition: bytes) -> httpx.Response:
    part = (
        b"--x\r\nContent-Disposition: " + disposition + b"\r\ncontent-type: text/plain\r\n\r\nv\r\n--x--\r\n"
    )
    headers = {**HEADERS, "content-type": "multipart/form-data; boundary=x"}
    return httpx.post(f"{server.url}/v1/files", headers=headers, content=part)


# Content-Dispositions aiohttp's reader warns about, and the filename the stdlib reads from each
WARNED = [
    (b'form-data; name="file"; filename', "unnamed.txt"),  # a parameter without a value
    (b"form-data; name=\"file\"; filename*=utf-8''%ff%fe.txt", "\ufffd\ufffd.txt"),  # not UTF-8
]


@pytest.mark.parametrize(("disposition", "_filename"), WARNED)
def test_a_malformed_content_disposition_is_a_400_where_warnings_are_errors(server, disposition, _filename):
    """The suite's warnings are errors (pyproject.toml): aiohttp's warning was raised, a 500."""
    response = upload_with(server, disposition)
    assert response.status_code == 400, response.text
    assert "malformed Content-Disposition" in response.json()["error"]["message"]


@pytest.mark.parametrize(("disposition", "filename"), WARNED)
def test_a_malformed_content_disposition_is_read_leniently_elsewhere(server, disposition, filename):
    with warnings.catch_warnings():  # as `mockbay serve` runs: the server thread shares the filters
        warnings.simplefilter("ignore", RuntimeWarning)
        response = upload_with(server, disposition)
    assert response.status_code == 200, response.text
    assert response.json()["filename"] == filename


def test_a_filename_that_is_not_utf8_is_read_with_replacement_characters(server):
    response = upload_with(server, b'form-data; name="file"; filename="\xff.txt"')
    assert response.status_code == 200, response.text
    assert response.json()["filename"] == "\ufffd.txt"  # JSON a strict parser reads: no lone surrogate


@pytest.mark.parametrize("content_type", [b"text/\xff", b"not a type", b"text/plain/extra"])
def test_a_part_type_that_is_no_media_type_is_guessed_from_the_name(server, content_type):
    part = b'--x\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\ncontent-type: '
    part += content_type + b"\r\n\r\nv\r\n--x--\r\n"
    headers = {**HEADERS, "content-type": "multipart/form-data; boundary=x"}
    response = httpx.post(f"{server.url}/v1/files", headers=headers, content=part)
    assert response.status_code == 200, response.text
    assert response.json()["mime_type"] == "text/plain"


def test_a_long_charset_field_is_a_400_not_a_500(server):
    body = b'--x\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\n' + b"x" * 40 + b"\r\n--x--\r\n"
    headers = {**HEADERS, "content-type": "multipart/form-data; boundary=x"}
    response = httpx.post(f"{server.url}/v1/files", headers=headers, content=body)
    assert response.status_code == 400, response.text
    assert "multipart body" in response.json()["error"]["message"]


def test_clearing_the_journal_keeps_the_files_and_reset_drops_them(client, server):
    kept = client.files.upload(file=("notes.txt", b"hello world", "text/plain"))
    assert httpx.delete(f"{server.url}/_mockbay/requests").json() == {"status": "ok"}
    assert [f.id for f in client.files.list()] == [kept.id]
    assert httpx.post(f"{server.url}/_mockbay/reset").json() == {"status": "ok"}
    assert client.files.list().data == []


def test_a_download_leaves_the_journal_as_it_was():
    """A file's bytes are the store's, not the journal's: a download as large as the journal's
    byte cap would have pushed every other exchange out of it."""
    with MockServer(files_downloadable=True, journal_max_bytes=1024 * 1024, fallback="generate") as server:
        client = sync_client(server.url)
        uploaded = client.files.upload(
            file=("big.bin", b"\0" * (2 * 1024 * 1024), "application/octet-stream")
        )
        client.messages.create(model=MODEL, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
        assert len(client.files.download(uploaded.id).read()) == 2 * 1024 * 1024
        assert [e.endpoint for e in server.journal.all] == ["files", "messages", "files"]
