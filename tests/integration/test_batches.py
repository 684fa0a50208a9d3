"""Message Batches through the official SDK: every outcome, the lifecycle, paging, ids and refusals."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest
from aiohttp import web
from anthropic.types.messages import MessageBatchIndividualResponse

from mockbay.server.runner import MockServer
from tests.conftest import HandClock, sync_client
from tests.loopback_app import serving

MODEL = "claude-sonnet-4-6"
HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
OUTCOMES = """
name: outcomes
match: {system: {contains: "batch test"}}
rules:
  - when: {last_user: {contains: "expire"}}
    reply: {batch_result: expired}
  - when: {last_user: {contains: "cancel"}}
    reply: {batch_result: canceled}
  - when: {last_user: {contains: "fail"}}
    reply: {error: {status: 529}}
  - when: {last_user: {contains: "cut"}}
    reply: {text: "never sent", fault: {kind: disconnect}}
  - reply: {text: "Answered."}
"""
COUNTER = """
name: counter
match: {system: {contains: "pinned only"}}
rules:
  - replies: [{text: "one"}, {text: "two"}, {text: "three"}]
"""


def params(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": MODEL,
        "max_tokens": 50,
        "system": "batch test",
        "messages": [{"role": "user", "content": text}],
        **extra,
    }


def requests(*texts: str) -> list[dict[str, Any]]:
    return [{"custom_id": f"r{n}", "params": params(text)} for n, text in enumerate(texts)]


@pytest.fixture(scope="module")
def server() -> Iterator[MockServer]:
    with MockServer() as running:
        running.load(OUTCOMES)
        running.load(COUNTER)
        yield running


@pytest.fixture
def client(server: MockServer) -> anthropic.Anthropic:
    server.reset()
    return sync_client(server.url)


def results_of(client: anthropic.Anthropic, batch_id: str) -> dict[str, Any]:
    return {line.custom_id: line.result for line in client.messages.batches.results(batch_id)}


def test_every_outcome_of_a_batch(client, server):
    texts = ("hello", "please expire", "please cancel", "fail now", "cut it", "hello again")
    batch = client.messages.batches.create(
        requests=[*requests(*texts), {"custom_id": "zero", "params": params("hi", max_tokens=0)}]
    )
    assert batch.processing_status == "in_progress" and batch.results_url is None
    assert batch.request_counts.processing == 7 and batch.ended_at is None
    assert (batch.expires_at - batch.created_at).total_seconds() == 24 * 3600

    ended = client.messages.batches.retrieve(batch.id)
    counts = ended.request_counts
    assert ended.processing_status == "ended" and ended.ended_at is not None
    assert (counts.processing, counts.succeeded, counts.errored, counts.canceled, counts.expired) == (
        0,
        2,
        3,
        1,
        1,
    )
    assert ended.results_url == f"{server.url}/v1/messages/batches/{batch.id}/results"
    results = results_of(client, batch.id)
    assert results["r0"].type == "succeeded" and results["r0"].message.content[0].text == "Answered."
    assert results["r0"].message.usage.service_tier == "batch"
    assert (results["r1"].type, results["r2"].type) == ("expired", "canceled")
    assert results["r3"].error.error.type == "overloaded_error"
    assert results["r3"].error.type == "error" and results["r3"].error.request_id is None
    assert results["r4"].error.error.type == "overloaded_error"  # a fault: the error it would report
    assert results["zero"].error.error.message == "max_tokens: Input should be greater than or equal to 1"


def test_batch_requests_are_journaled_as_calls_linked_to_their_batch(client, server):
    batch = client.messages.batches.create(requests=requests("hello", "fail now"))
    client.messages.batches.retrieve(batch.id)
    calls = server.journal.calls
    assert [(c.batch_id, c.custom_id, c.status) for c in calls] == [
        (batch.id, "r0", 200),
        (batch.id, "r1", 529),
    ]
    server.journal.assert_called("outcomes", times=2)
    assert calls[0].body == params("hello") and "test-key" not in str(calls[0].headers)
    assert server.journal.all[0].endpoint == "batches"


def test_validation_errors_are_errored_results_not_a_refused_batch(client):
    bad = [
        {"custom_id": "no-messages", "params": {"model": MODEL, "max_tokens": 5}},
        {"custom_id": "stream", "params": params("hello", stream=True)},
        {"custom_id": "ok", "params": params("hello")},
    ]
    batch = client.messages.batches.create(requests=bad)
    results = results_of(client, batch.id)
    assert results["no-messages"].error.error.message == "messages: Field required"
    assert results["stream"].error.error.type == "invalid_request_error"
    assert results["ok"].type == "succeeded"


def test_pin_session_and_sequences_apply_to_each_request(server):
    server.reset()
    pinned = sync_client(f"{server.url}/s/counter", default_headers=MockServer.session_headers("s1"))
    batch = pinned.messages.batches.create(requests=requests("a", "b", "c", "d"))
    texts = [line.result.message.content[0].text for line in pinned.messages.batches.results(batch.id)]
    assert texts == ["one", "two", "three", "three"]
    assert batch.id in pinned.messages.batches.retrieve(batch.id).results_url
    assert pinned.messages.batches.retrieve(batch.id).results_url.startswith(f"{server.url}/s/counter/")
    assert {call.session for call in server.journal.calls} == {"s1"}


def test_the_header_pin_and_the_simulated_cache_apply(server):
    server.reset()
    client = sync_client(server.url, default_headers={"x-mockbay-scenario": "counter"})
    system = [{"type": "text", "text": "policy " * 1500, "cache_control": {"type": "ephemeral"}}]
    cached = {
        "model": MODEL,
        "max_tokens": 20,
        "system": system,
        "messages": [{"role": "user", "content": "q"}],
    }
    with server.overrides(cache="simulate"):
        batch = client.messages.batches.create(
            requests=[{"custom_id": "first", "params": cached}, {"custom_id": "second", "params": cached}]
        )
        results = results_of(client, batch.id)
    assert results["first"].message.content[0].text == "one"
    assert results["first"].message.usage.cache_creation_input_tokens > 0
    assert results["second"].message.usage.cache_read_input_tokens > 0


def test_a_batch_that_takes_time_is_polled_until_it_ends(server):
    server.reset()
    client = sync_client(server.url)
    with server.overrides(batch_seconds=0.3):
        batch = client.messages.batches.create(requests=requests("hello", "please expire", "fail now"))
        seen = [batch]
        while seen[-1].processing_status != "ended":
            time.sleep(0.05)
            seen.append(client.messages.batches.retrieve(batch.id))
    for state in seen:
        counts = state.request_counts
        assert counts.processing + counts.succeeded + counts.errored + counts.canceled + counts.expired == 3
        assert (state.results_url is None) == (state.processing_status != "ended")
    assert {line.result.type for line in client.messages.batches.results(batch.id)} == {
        "succeeded",
        "expired",
        "errored",
    }


def test_cancel_runs_nothing_more_and_ends_the_batch():
    clock = HandClock()
    with MockServer(wall_clock=clock, batch_seconds=10) as server:
        server.load(OUTCOMES)
        client = sync_client(server.url)
        batch = client.messages.batches.create(requests=requests("first", "second"))  # due at +5 s, +10 s
        clock.now += 1
        assert client.messages.batches.retrieve(batch.id).processing_status == "in_progress"
        assert server.journal.call_count == 0
        with pytest.raises(anthropic.BadRequestError):  # deleting one not yet ended
            client.messages.batches.delete(batch.id)
        clock.now += 5
        canceling = client.messages.batches.cancel(batch.id)
        assert canceling.processing_status == "canceling" and canceling.cancel_initiated_at is not None
        assert canceling.request_counts.processing == 2
        clock.now += 30
        ended = client.messages.batches.retrieve(batch.id)
        assert ended.processing_status == "ended"
        assert (ended.request_counts.succeeded, ended.request_counts.canceled) == (1, 1)
        assert {k: v.type for k, v in results_of(client, batch.id).items()} == {
            "r0": "succeeded",
            "r1": "canceled",
        }
        assert [call.custom_id for call in server.journal.calls] == ["r0"]  # the canceled one never ran
        with pytest.raises(anthropic.BadRequestError):  # cancel once ended
            client.messages.batches.cancel(batch.id)
        assert client.messages.batches.delete(batch.id).type == "message_batch_deleted"


class TickingClock(HandClock):
    """Time that passes while the server works: every read is `step` seconds after the last."""

    def __init__(self, step: float) -> None:
        super().__init__()
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


@pytest.mark.parametrize("step", [0.3, 0.7, 1.1, 1.7, 2.3])
def test_a_batch_read_as_ended_has_every_result_however_long_running_takes(step: float) -> None:
    """Running the requests due takes time; a read judges the batch at the instant it ran them."""
    with MockServer(wall_clock=TickingClock(step), batch_seconds=10) as server:
        server.load(OUTCOMES)
        client = sync_client(server.url)
        batch = client.messages.batches.create(requests=requests(*["hello"] * 8))
        while (batch := client.messages.batches.retrieve(batch.id)).processing_status != "ended":
            assert batch.request_counts.processing + batch.request_counts.succeeded == 8
        assert batch.request_counts.succeeded == 8
        raw = httpx.get(f"{server.url}/v1/messages/batches/{batch.id}/results", headers=HEADERS)
        assert [json.loads(line)["result"]["type"] for line in raw.text.splitlines()] == ["succeeded"] * 8


def test_results_of_an_unfinished_batch_are_refused():
    clock = HandClock()
    with MockServer(wall_clock=clock, batch_seconds=10) as server:
        server.load(OUTCOMES)
        client = sync_client(server.url)
        batch = client.messages.batches.create(requests=requests("hello"))
        with pytest.raises(anthropic.AnthropicError, match="Has it finished processing"):
            client.messages.batches.results(batch.id)  # the SDK asks the batch first: no results_url
        raw = httpx.get(f"{server.url}/v1/messages/batches/{batch.id}/results", headers=HEADERS)
        assert raw.status_code == 400 and raw.json()["error"]["type"] == "invalid_request_error"
        assert raw.json()["request_id"] == raw.headers["request-id"]
        clock.now += 10
        assert [line.result.type for line in client.messages.batches.results(batch.id)] == ["succeeded"]


def test_list_pages_newest_first_both_ways(client):
    ids = [client.messages.batches.create(requests=requests("hello")).id for _ in range(5)]
    newest_first = ids[::-1]
    page = client.messages.batches.list(limit=2)
    assert [b.id for b in page.data] == newest_first[:2] and page.has_more
    assert (page.first_id, page.last_id) == (newest_first[0], newest_first[1])
    assert [b.id for b in client.messages.batches.list(limit=2)] == newest_first  # the SDK pages on
    after = client.messages.batches.list(limit=10, after_id=newest_first[1])
    assert [b.id for b in after.data] == newest_first[2:] and not after.has_more
    before = client.messages.batches.list(limit=2, before_id=newest_first[4])
    assert [b.id for b in before.data] == newest_first[2:4] and before.has_more
    assert all(b.processing_status == "ended" for b in page.data)
    with pytest.raises(anthropic.BadRequestError):
        client.messages.batches.list(after_id="msgbatch_unknown")
    with pytest.raises(anthropic.BadRequestError):
        client.messages.batches.list(limit=0)


def test_unknown_batch_ids_are_404s(client, server):
    for call in (
        client.messages.batches.retrieve,
        client.messages.batches.cancel,
        client.messages.batches.delete,
        client.messages.batches.results,
    ):
        with pytest.raises(anthropic.NotFoundError) as caught:
            call("msgbatch_01nothing")
        assert caught.value.body["error"]["type"] == "not_found_error"
        assert caught.value.body["request_id"] == caught.value.response.headers["request-id"]
    raw = httpx.get(f"{server.url}/v1/messages/batches/msgbatch_01nothing/results", headers=HEADERS)
    assert raw.status_code == 404 and raw.json()["type"] == "error"


def test_duplicate_custom_ids_refuse_the_whole_batch(client):
    twice = [{"custom_id": "same", "params": params("a")}, {"custom_id": "same", "params": params("b")}]
    with pytest.raises(anthropic.BadRequestError, match="duplicate custom_id 'same'"):
        client.messages.batches.create(requests=twice)
    assert client.messages.batches.list().data == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ([], "Input should be an object"),
        ({}, "requests: Field required"),
        ({"requests": []}, "requests: List should have at least 1 item"),
        ({"requests": [{"custom_id": "a"}]}, "requests.0.params: Field required"),
        ({"requests": [{"custom_id": "a b", "params": {}}]}, "requests.0.custom_id: String should match"),
        (
            {"requests": [{"custom_id": "a", "params": []}]},
            "requests.0.params: Input should be a valid dictionary",
        ),
        (
            {"requests": [{"custom_id": "a", "params": {}, "x": 1}]},
            "requests.0.x: Extra inputs are not permitted",
        ),
    ],
)
def test_a_malformed_batch_is_a_400_envelope(server, body, message):
    response = httpx.post(f"{server.url}/v1/messages/batches", headers=HEADERS, json=body)
    assert response.status_code == 400
    assert response.json()["error"]["message"].startswith(message)  # no `body.` before the path
    assert response.json()["request_id"] == response.headers["request-id"]


def test_results_are_jsonl_whatever_the_accept_header(client, server):
    batch = client.messages.batches.create(requests=requests("hello", "fail now"))
    client.messages.batches.retrieve(batch.id)
    for accept in ("application/json", "text/html", "application/binary"):
        response = httpx.get(
            f"{server.url}/v1/messages/batches/{batch.id}/results", headers={**HEADERS, "accept": accept}
        )
        lines = response.text.splitlines()
        assert response.status_code == 200 and len(lines) == 2
        parsed = [MessageBatchIndividualResponse.model_validate_json(line) for line in lines]
        assert [line.custom_id for line in parsed] == ["r0", "r1"]


def test_results_url_follows_the_host_the_client_asked(server):
    server.reset()
    response = httpx.post(
        f"{server.url}/gateway/v1/messages/batches",
        headers={**HEADERS, "host": "mock.example:9999"},
        json={"requests": requests("hello")},
    )
    batch_id = response.json()["id"]
    again = httpx.get(
        f"{server.url}/gateway/v1/messages/batches/{batch_id}",
        headers={**HEADERS, "host": "mock.example:9999"},
    )
    assert (
        again.json()["results_url"]
        == f"http://mock.example:9999/gateway/v1/messages/batches/{batch_id}/results"
    )


async def test_the_async_client_and_the_beta_batches(server):
    server.reset()
    async with anthropic.AsyncAnthropic(base_url=server.url, api_key="k") as client:
        batch = await client.beta.messages.batches.create(requests=requests("hello"))
        results = [line async for line in await client.beta.messages.batches.results(batch.id)]
    assert results[0].result.type == "succeeded"


def test_reset_and_the_caps_bound_the_batches():
    with MockServer(batches_max=2) as server:
        client = sync_client(server.url)
        ids = [client.messages.batches.create(requests=requests("x")).id for _ in range(3)]
        assert [b.id for b in client.messages.batches.list()] == ids[:0:-1]  # the oldest went first
        with pytest.raises(anthropic.NotFoundError):
            client.messages.batches.retrieve(ids[0])
        server.reset()
        assert client.messages.batches.list().data == []


async def test_concurrent_reads_run_each_request_once():
    clock = HandClock()
    async with MockServer(wall_clock=clock, batch_seconds=10) as server:
        server.load(OUTCOMES)
        async with anthropic.AsyncAnthropic(base_url=server.url, api_key="k") as client:
            batch = await client.messages.batches.create(requests=requests(*["hello"] * 1000))
            clock.now += 11
            reads = await asyncio.gather(*(client.messages.batches.retrieve(batch.id) for _ in range(4)))
        assert {read.request_counts.succeeded for read in reads} == {1000}
        assert sorted(call.custom_id for call in server.journal.calls) == sorted(f"r{n}" for n in range(1000))


def test_a_create_over_the_byte_cap_is_a_413_declared_or_chunked():
    with MockServer(batches_max_mb=1) as server:
        body = b'{"requests": [' + b" " * (1024 * 1024) + b"]}"
        declared = httpx.post(f"{server.url}/v1/messages/batches", headers=HEADERS, content=body)
        chunked = httpx.post(
            f"{server.url}/v1/messages/batches", headers=HEADERS, content=iter([body[:1000], body[1000:]])
        )
        for response in (declared, chunked):
            assert response.status_code == 413 and response.json()["error"]["type"] == "request_too_large"
            assert response.json()["request_id"] == response.headers["request-id"]


def test_the_admin_reset_clears_batches_and_files(client, server):
    client.messages.batches.create(requests=requests("hello"))
    client.files.upload(file=("a.txt", b"a", "text/plain"))
    assert httpx.post(f"{server.url}/_mockbay/reset").status_code == 200
    assert client.messages.batches.list().data == [] and client.files.list().data == []


def test_a_batch_request_can_be_inspected_and_saved_as_a_scenario(client, server, tmp_path):
    batch = client.messages.batches.create(requests=requests("hello", "fail now"))
    client.messages.batches.retrieve(batch.id)
    answered, failed = server.journal.find(batch_id=batch.id)
    shown = httpx.get(f"{server.url}/_mockbay/requests/{answered.request_id}").json()
    assert "Answered." in str(shown)
    saved = httpx.get(f"{server.url}/_mockbay/requests/{failed.request_id}/scenario")
    assert saved.status_code == 200
    path = tmp_path / "saved.yaml"
    path.write_text(saved.text)
    with MockServer([path]) as replay:
        again = sync_client(replay.url, max_retries=0)
        with pytest.raises(anthropic.APIStatusError) as caught:
            again.messages.create(**params("fail now"))
        assert caught.value.status_code == 529


def raw_exchange(server: MockServer, request: bytes) -> tuple[bytes, bytes]:
    """(status line, body) of one request sent as bytes, for headers httpx would not send."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return head.split(b"\r\n", 1)[0], body


@pytest.mark.parametrize("host", [b"", b" ", b"\xe2\x80\xa8", b"\xff"], ids=repr)
def test_a_host_header_that_names_no_host_still_gets_a_results_url(server, host: bytes) -> None:
    """yarl refuses such a host: the URL pointing back uses the address the request came in on."""
    body = json.dumps({"requests": requests("hello")}).encode()
    request = (
        b"POST /v1/messages/batches HTTP/1.1\r\nHost: " + host + b"\r\nx-api-key: k\r\n"
        b"anthropic-version: 2023-06-01\r\ncontent-type: application/json\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body
    )
    status, answer = raw_exchange(server, request)
    assert status == b"HTTP/1.1 200 OK", answer
    batch_id = json.loads(answer)["id"]
    status, answer = raw_exchange(
        server,
        b"GET /v1/messages/batches/" + batch_id.encode() + b" HTTP/1.1\r\nHost: " + host
        + b"\r\nx-api-key: k\r\nanthropic-version: 2023-06-01\r\nConnection: close\r\n\r\n",
    )  # fmt: skip
    assert status == b"HTTP/1.1 200 OK", answer
    assert (
        json.loads(answer)["results_url"]
        == f"http://127.0.0.1:{server.port}/v1/messages/batches/{batch_id}/results"
    )


# headers a gateway in front of mockbay adds -> the origin of results_url ("" for mockbay's own)
FORWARDED = [
    ({"x-forwarded-proto": "https", "x-forwarded-host": "gw.example.com"}, "https://gw.example.com"),
    (
        {"x-forwarded-proto": "https, http", "x-forwarded-host": "gw.example:8443, 10.0.0.7"},
        "https://gw.example:8443",
    ),
    ({"x-forwarded-proto": "HTTPS"}, "https://mock.example:9999"),
    ({"x-forwarded-host": "[2001:db8::1]:8080"}, "http://[2001:db8::1]:8080"),
    ({"x-forwarded-proto": "gopher", "x-forwarded-host": "gw.example.com"}, ""),
    ({"x-forwarded-host": "bad host/"}, ""),
    ({"x-forwarded-host": "gw.example:99999"}, ""),
    # RFC 7239's Forwarded: the first element (the client's side), values quoted or not
    ({"forwarded": "for=192.0.2.60;proto=https;host=gw.example.com"}, "https://gw.example.com"),
    (
        {
            "forwarded": 'for=192.0.2.60;proto=https;host="gw.example:8443", for=10.0.0.7;proto=http;host=inner'
        },
        "https://gw.example:8443",
    ),
    ({"forwarded": 'For="[2001:db8::7]";Host="[2001:db8::1]:8080"'}, "http://[2001:db8::1]:8080"),
    ({"forwarded": "PROTO=HTTPS"}, "https://mock.example:9999"),
    # Forwarded wins over X-Forwarded-*, unless its first element names neither proto nor host
    (
        {
            "forwarded": "proto=https;host=rfc.example",
            "x-forwarded-proto": "http",
            "x-forwarded-host": "x.example",
        },
        "https://rfc.example",
    ),
    ({"forwarded": "for=192.0.2.60", "x-forwarded-host": "x.example"}, "http://x.example"),
    # what it cannot use gives the request's own origin, never an error
    ({"forwarded": "proto=gopher;host=gw.example.com"}, ""),
    ({"forwarded": 'host="bad host/"', "x-forwarded-host": "x.example"}, ""),
    ({"forwarded": '"unterminated;proto=https;host=gw.example.com'}, ""),
    ({"forwarded": 'garbage, ;;;===, host=""'}, ""),
    ({"forwarded": "host=gw.example:99999"}, ""),
    # X-Forwarded-Prefix: the path a gateway mounted mockbay under, each proxy's in order
    ({"x-forwarded-prefix": "/anthropic"}, "http://mock.example:9999/anthropic"),
    (
        {"x-forwarded-prefix": "/anthropic/", "forwarded": "proto=https;host=gw.example"},
        "https://gw.example/anthropic",
    ),
    ({"x-forwarded-prefix": "/edge, /anthropic%2Dapi"}, "http://mock.example:9999/edge/anthropic%2Dapi"),
    ({"x-forwarded-prefix": "/"}, ""),
    ({"x-forwarded-prefix": "anthropic"}, ""),
    ({"x-forwarded-prefix": "/a b"}, ""),
    ({"x-forwarded-prefix": "/a?b=1"}, ""),
    ({"x-forwarded-prefix": "/a, b"}, ""),
    ({"x-forwarded-prefix": "/%zz"}, ""),
]


@pytest.mark.parametrize(("forwarded", "expected"), FORWARDED, ids=[str(f) for f, _ in FORWARDED])
def test_results_url_points_at_the_gateway_that_forwarded_the_request(
    server, forwarded: dict[str, str], expected: str
) -> None:
    """The SDK follows results_url verbatim, so behind a gateway it must name the gateway's
    scheme, host and the prefix it strips, as upstream's names its public one; a malformed value
    is not used."""
    server.reset()
    headers = {**HEADERS, "host": "mock.example:9999", **forwarded}
    response = httpx.post(
        f"{server.url}/v1/messages/batches", headers=headers, json={"requests": requests("hi")}
    )
    batch_id = response.json()["id"]
    again = httpx.get(f"{server.url}/v1/messages/batches/{batch_id}", headers=headers)
    origin = expected or "http://mock.example:9999"
    assert again.json()["results_url"] == f"{origin}/v1/messages/batches/{batch_id}/results"


async def _strip_and_forward(request: web.Request) -> web.StreamResponse:
    """A gateway mounting mockbay under /anthropic: the prefix stripped, mockbay reached by an
    internal name the client cannot resolve, the client's view in the headers `STYLE` names."""
    style, mockbay = request.app[GATEWAY_STYLE], request.app[GATEWAY_UPSTREAM]
    public = request.host  # the gateway's own host and port, as the client asked
    told = {
        "forwarded": {"Forwarded": f'for=127.0.0.1;proto=http;host="{public}"'},
        "x-forwarded": {"X-Forwarded-Proto": "http", "X-Forwarded-Host": public},
    }[style]
    hop_by_hop = ("host", "content-length", "connection", "accept-encoding")
    headers = {k: v for k, v in request.headers.items() if k.lower() not in hop_by_hop}
    headers |= {**told, "X-Forwarded-Prefix": "/anthropic", "Host": "mockbay.internal:9"}
    path = request.raw_path.removeprefix("/anthropic")
    async with httpx.AsyncClient() as forward:
        answer = await forward.request(
            request.method, mockbay + path, headers=headers, content=await request.read()
        )
    return web.Response(
        status=answer.status_code,
        body=answer.content,
        content_type=answer.headers.get("content-type", "").split(";")[0] or None,
    )


GATEWAY_STYLE = web.AppKey("style", str)
GATEWAY_UPSTREAM = web.AppKey("upstream", str)


@pytest.fixture(params=["forwarded", "x-forwarded"])
def gateway(server: MockServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """The stripping gateway on loopback, in a thread of its own."""
    app = web.Application()
    app[GATEWAY_STYLE], app[GATEWAY_UPSTREAM] = request.param, server.url
    app.router.add_route("*", "/anthropic/{tail:.*}", _strip_and_forward)
    with serving(app) as url:
        yield url


def test_the_sdk_reads_results_through_a_gateway_that_mounts_mockbay_under_a_prefix(
    server: MockServer, gateway: str
) -> None:
    """The SDK fetches `results_url` as given: it must name the gateway, prefix included, which
    the gateway says in `Forwarded` (or `X-Forwarded-*`) and `X-Forwarded-Prefix`."""
    server.reset()
    with sync_client(f"{gateway}/anthropic") as client:
        batch = client.messages.batches.create(requests=requests("hello"))
        assert client.messages.batches.retrieve(batch.id).results_url == (
            f"{gateway}/anthropic/v1/messages/batches/{batch.id}/results"
        )
        assert [line.result.type for line in client.messages.batches.results(batch.id)] == ["succeeded"]
