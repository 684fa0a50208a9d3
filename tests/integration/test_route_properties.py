"""Property tests with hypothesis for every route besides POST /v1/messages (test_properties.py has
that one): any query string, any path id, any method, a batch create or a Bedrock / Vertex body
broken at any JSON path, any multipart upload (cut short or not), any admin YAML. Each answer is
a 2xx, or a 4xx in its wire's shape (the Anthropic envelope whose `request_id` repeats the
header; Bedrock's `{"message"}` with `x-amzn-ErrorType`); nothing is a 5xx or an internal error.

Bounded and derandomised like test_properties.py: the same examples every run, a few seconds each.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_from_bytes

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mockbay.server.runner import MockServer
from tests.integration.test_properties import PROPERTY, deleted, odd_values, paths, replaced

AUTH = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
ROUTES = settings(PROPERTY, max_examples=60)  # the same profile, fewer examples per route
MESSAGE = {"model": "claude-sonnet-4-6", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
VERTEX = "/v1/projects/p/locations/l/publishers/anthropic/models"
BEDROCK_BODY = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 16, "messages": MESSAGE["messages"]}
VERTEX_BODY = {**BEDROCK_BODY, "anthropic_version": "vertex-2023-10-16"}
# Every route with an id in its path, `{}` where the id goes, and the methods it answers
ID_ROUTES = [
    ("/v1/models/{}", ("GET",)),
    ("/v1/messages/batches/{}", ("GET", "DELETE")),
    ("/v1/messages/batches/{}/cancel", ("POST",)),
    ("/v1/messages/batches/{}/results", ("GET",)),
    ("/v1/files/{}", ("GET", "DELETE")),
    ("/v1/files/{}/content", ("GET",)),
    ("/model/{}/invoke", ("POST",)),
    ("/model/{}/invoke-with-response-stream", ("POST",)),
    (VERTEX + "/{}:rawPredict", ("POST",)),
    (VERTEX + "/{}:streamRawPredict", ("POST",)),
    ("/_mockbay/requests/{}", ("GET",)),
    ("/_mockbay/requests/{}/scenario", ("GET",)),
    ("/s/{}/v1/models", ("GET",)),
]
LISTS = ["/v1/models", "/v1/messages/batches", "/v1/files", "/_mockbay/requests"]
QUERY_KEYS = ["limit", "after_id", "before_id", "page", "ids[]", "ids", "after", "beta", "token"]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer(fallback="generate", files_downloadable=True) as running:
        yield running


@pytest.fixture(scope="module")
def http(server: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=AUTH) as client:
        yield client


def is_bedrock(path: str) -> bool:
    return path.startswith("/model/") and path.endswith(("/invoke", "/invoke-with-response-stream"))


def assert_answered(server: MockServer, response: httpx.Response, *, bedrock: bool = False) -> None:
    """A 2xx, or a 4xx in the wire's error shape; never a 5xx, never an internal error."""
    assert server.state.internal_errors == []
    status = response.status_code
    assert status < 500, response.text[:300]
    if status < 400 or response.request.method == "HEAD":
        return
    body = response.json()
    if bedrock:
        assert isinstance(body["message"], str) and response.headers["x-amzn-errortype"], body
        return
    assert body["type"] == "error" and isinstance(body["error"]["message"], str), body
    assert body["error"]["type"] and body["request_id"] == response.headers["request-id"]


def send(http: httpx.Client, method: str, target: str, **kwargs: Any) -> httpx.Response:
    """`target` as sent on the wire (already percent-encoded), not re-encoded by httpx."""
    url = http.base_url.copy_with(raw_path=target.encode("ascii"))
    return http.request(method, url, **kwargs)


# -- queries and ids -----------------------------------------------------------------------------

encoded = st.binary(max_size=40).map(lambda raw: quote_from_bytes(raw, safe=""))
query_values = st.one_of(
    encoded, st.sampled_from(["-1", "0", "1", "1000", "1001", "1.5", "1e3", "9" * 40, "", "page_", "page_x"])
)
queries = st.lists(st.tuples(st.one_of(st.sampled_from(QUERY_KEYS), encoded), query_values), max_size=4)


@ROUTES
@given(path=st.sampled_from(LISTS), query=queries)
def test_any_query_on_a_list_is_a_page_or_a_400(server, http, path, query):
    target = path + "?" + "&".join(f"{key}={value}" for key, value in query)
    assert_answered(server, send(http, "GET", target))


@ROUTES
@given(route=st.sampled_from(ID_ROUTES), id_=encoded.filter(bool), method_index=st.integers(0, 1))
def test_any_id_in_a_path_is_answered_in_the_wires_shape(server, http, route, id_, method_index):
    template, methods = route
    path = template.format(id_)
    method = methods[method_index % len(methods)]
    body = BEDROCK_BODY if is_bedrock(path) else VERTEX_BODY if ":" in path else MESSAGE
    content = json.dumps(body).encode() if method == "POST" else None
    response = send(http, method, path, content=content)
    assert_answered(server, response, bedrock=is_bedrock(path))


@ROUTES
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
    template=st.sampled_from(
        [t for t, _ in ID_ROUTES] + LISTS + ["/v1/messages/count_tokens", "/_mockbay/x"]
    ),
)
def test_any_method_on_any_route_is_answered(server, http, method, template):
    path = template.format("x")
    response = send(http, method, path, content=b"{}" if method in ("POST", "PUT", "PATCH") else None)
    assert_answered(server, response, bedrock=is_bedrock(path) and method == "POST")


# -- bodies broken at any path -------------------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn, body: Any) -> Any:
    """`body` with one value replaced by an odd one, or deleted, at a path drawn from it."""
    where = draw(st.sampled_from(list(paths(body))))
    if where and draw(st.booleans()):
        return deleted(body, where)
    return replaced(body, where, draw(odd_values))


BATCH = {"requests": [{"custom_id": "a", "params": MESSAGE}, {"custom_id": "b", "params": {**MESSAGE}}]}


@ROUTES
@given(body=mutated(BATCH))
def test_a_batch_broken_at_any_path_is_created_or_refused(server, http, body):
    response = send(http, "POST", "/v1/messages/batches", content=json.dumps(body).encode())
    assert_answered(server, response)
    if response.status_code == 200:  # each request's own trouble is its errored result
        results = send(http, "GET", f"/v1/messages/batches/{response.json()['id']}/results")
        assert results.status_code == 200
        assert {json.loads(line)["result"]["type"] for line in results.text.splitlines()} <= {
            "succeeded",
            "errored",
        }


@ROUTES
@given(
    action=st.sampled_from(["invoke", "invoke-with-response-stream"]),
    body=mutated(BEDROCK_BODY),
)
def test_a_bedrock_body_broken_at_any_path_is_refused_in_bedrocks_shape(server, http, action, body):
    response = send(http, "POST", f"/model/claude-sonnet-4-6/{action}", content=json.dumps(body).encode())
    assert_answered(server, response, bedrock=True)


@ROUTES
@given(
    verb=st.sampled_from(["/claude-sonnet-4-6:rawPredict", "/claude-sonnet-4-6:streamRawPredict"]),
    body=mutated(VERTEX_BODY),
)
def test_a_vertex_body_broken_at_any_path_is_refused_in_the_envelope(server, http, verb, body):
    assert_answered(server, send(http, "POST", VERTEX + verb, content=json.dumps(body).encode()))


@ROUTES
@given(body=mutated({**VERTEX_BODY, "model": "claude-sonnet-4-6"}))
def test_a_vertex_count_tokens_body_broken_at_any_path_is_refused(server, http, body):
    target = VERTEX + "/count-tokens:rawPredict"
    assert_answered(server, send(http, "POST", target, content=json.dumps(body).encode()))


# -- multipart uploads ---------------------------------------------------------------------------

header_bytes = st.one_of(
    st.sampled_from([b"", b"a.txt", b"dir/b.pdf", b"..", b"\xff\xfe", b'q"uote', b"x" * 300]),
    st.binary(max_size=20).filter(lambda raw: b"\r" not in raw and b"\n" not in raw),
)


@st.composite
def parts(draw: st.DrawFn) -> bytes:
    """One part: a Content-Disposition (well-formed, malformed or none), maybe a Content-Type."""
    name = draw(st.sampled_from([b"file", b"expires_in_seconds", b"other", b"", b"_charset_"]))
    disposition = draw(
        st.sampled_from(
            [
                b'form-data; name="%s"; filename="%s"',
                b"form-data; name=%s; filename=%s",
                b"form-data; name=\"%s\"; filename*=utf-8''%s",
                b'form-data; name="%s"; filename%.0s',  # a parameter without a value
                b"%s%s",
            ]
        )
    )
    head = b""
    if draw(st.booleans()) or name == b"file":
        head += b"Content-Disposition: " + disposition % (name, draw(header_bytes)) + b"\r\n"
    if draw(st.booleans()):
        head += b"Content-Type: " + draw(header_bytes) + b"\r\n"
    content = draw(st.sampled_from([b"hello", b"", b"3600", b"\x00\xff", b"--b", b"9" * 50]))
    return b"--b\r\n" + head + b"\r\n" + content + b"\r\n"


@ROUTES
@given(body=st.lists(parts(), min_size=0, max_size=3), cut=st.one_of(st.none(), st.integers(0, 400)))
def test_any_multipart_upload_is_stored_or_refused(server, http, body, cut):
    raw = b"".join(body) + b"--b--\r\n"
    raw = raw if cut is None else raw[:cut]
    headers = {"content-type": "multipart/form-data; boundary=b"}
    response = send(http, "POST", "/v1/files", content=raw, headers=headers)
    assert_answered(server, response)
    if response.status_code == 200:
        stored = response.json()
        json.dumps(stored, ensure_ascii=False).encode()  # no lone surrogate a strict parser refuses
        content = send(http, "GET", f"/v1/files/{stored['id']}/content")
        assert content.status_code == 200


# -- admin ---------------------------------------------------------------------------------------

yaml_texts = st.one_of(
    st.text(max_size=200),
    st.sampled_from(
        ["name: x\nrules: [", "- 1", "name: [[[", "a: &a [*a]", "name: x\nmatch: {system: {regex: '[[a]'}}"]
    ),
)


@pytest.fixture(scope="module")
def admin_server() -> Iterator[MockServer]:
    """A server of its own: what a drawn YAML loads stays out of the other properties' way."""
    with MockServer() as running:
        yield running


@ROUTES
@given(text=yaml_texts)
def test_any_admin_yaml_is_loaded_or_refused_with_its_line_and_column(admin_server, text):
    raw = text.encode(errors="surrogatepass")
    response = httpx.post(f"{admin_server.url}/_mockbay/scenarios", content=raw)
    assert_answered(admin_server, response)
    if response.status_code == 400 and "problems" in response.json():
        assert all(problem.startswith("<admin>:") for problem in response.json()["problems"])
