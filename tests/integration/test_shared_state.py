"""`--state redis://...`: three mockbay processes on one real Redis answer as one server.

Requests go round-robin over the replicas; what a user scripts as state (sequences, rate limits,
the prompt cache, the journal, reset) must not depend on which replica a request reaches.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import itertools
import json
import os
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import redis
import yaml

from mockbay.cli import main
from mockbay.config import MB, ServerConfig
from mockbay.journal import Exchange
from mockbay.store import StoreUnavailable, redis_store
from mockbay.store.redis_store import STEP_BYTES, RedisStore
from mockbay.usage.diagnosis import Prompt
from tests.processes import Child, start, stop, stop_with_log
from tests.redis_server import RedisServer

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
SCENARIOS = """
scenarios:
  - name: counter
    match: {last_user: count}
    rules:
      - replies:
          - text: one
          - text: two
          - text: three
          - text: four
  - name: limited
    match: {last_user: limit}
    limits: {requests_per_minute: 6}
    rules:
      - reply: {text: within the limit}
  - name: thrifty
    match: {last_user: thrift}
    limits: {output_tokens_per_minute: 6}
    rules:
      - reply: {text: "one two three four five six seven eight nine ten eleven twelve"}
  - name: plain
    match: {last_user: plain}
    rules:
      - reply: {text: plain}
  - name: cached
    match: {last_user: {contains: cache}}
    cache: simulate
    rules:
      - reply: {text: cached}
"""
LONG_SYSTEM = "You are a careful assistant who answers in one short sentence. " * 300


BEDROCK_KEY = {"authorization": "Bearer bedrock-api-key"}


def body(text: str, **extra: object) -> dict[str, object]:
    message = {"role": "user", "content": text}
    return {"model": "claude-sonnet-4-6", "max_tokens": 50, "messages": [message], **extra}


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[redis.Redis]:
    """A client of the tests' own, to look at what the replicas keep."""
    client = redis.Redis.from_url(redis_server.url)
    yield client
    client.close()


def everything_under(client: redis.Redis, namespace: str) -> bytes:
    """Every key, field, member and value the namespace holds, as one byte string to search."""
    held = []
    for key in client.scan_iter(f"{namespace}:*"):
        kind = client.type(key)
        if kind == b"hash":
            held += [item for pair in client.hgetall(key).items() for item in pair]
        elif kind == b"zset":
            held += client.zrange(key, 0, -1)
        elif kind == b"list":
            held += client.lrange(key, 0, -1)
        else:
            held.append(client.get(key) or b"")
    return b"\n".join(held)


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("shared") / "shared.yaml"
    path.write_text(SCENARIOS)
    return path


def replica(state: str, scenarios: Path, namespace: str, *extra: str) -> Child:
    return start(
        "serve", "--port", "0", "--scenarios", str(scenarios), "--state", state,
        "--state-namespace", namespace, "--timing", "instant", "--fallback", "strict",
        "--log-level", "warning", *extra,
    )  # fmt: skip


class Replicas:
    """Three replicas on one namespace, and a client that sends each request to the next one."""

    def __init__(self, children: list[Child], namespace: str) -> None:
        self.children, self.namespace = children, namespace
        self.clients = [httpx.Client(base_url=c.url, headers=HEADERS, timeout=10) for c in children]
        self._next = itertools.cycle(range(len(children)))

    def post(self, payload: dict[str, object], **headers: str) -> httpx.Response:
        return self.clients[next(self._next)].post("/v1/messages", json=payload, headers=headers)

    def close(self) -> None:
        for client in self.clients:
            client.close()
        for child in self.children:
            stop(child)  # a killed one too: its pipes are closed here


def start_replicas(
    redis: RedisServer, scenarios: Path, namespace: str, count: int, *extra: str
) -> list[Child]:
    """`count` replicas started at once (each start is mostly imports: two cores halve the wait)."""
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: replica(redis.url, scenarios, namespace, *extra), range(count)))


@contextlib.contextmanager
def replicas_on(
    redis: RedisServer, scenarios: Path, namespace: str, count: int, *extra: str
) -> Iterator[list[Child]]:
    """`start_replicas`, each stopped when the block ends, however it ends."""
    children = start_replicas(redis, scenarios, namespace, count, *extra)
    try:
        yield children
    finally:
        for child in children:
            stop(child)


def three_replicas(redis: RedisServer, scenarios: Path) -> Replicas:
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    return Replicas(start_replicas(redis, scenarios, namespace, 3), namespace)


@pytest.fixture(scope="module")
def shared_replicas(redis_server: RedisServer, scenario_file: Path) -> Iterator[Replicas]:
    group = three_replicas(redis_server, scenario_file)
    yield group
    group.close()


@pytest.fixture
def replicas(shared_replicas: Replicas) -> Replicas:
    """The module's three replicas, reset through the first one (the reset test shows it reaches all)."""
    assert shared_replicas.clients[0].post("/_mockbay/reset").status_code == 200
    return shared_replicas


@pytest.fixture
def own_replicas(redis_server: RedisServer, scenario_file: Path) -> Iterator[Replicas]:
    """Three replicas of a test's own, for a test that kills one."""
    group = three_replicas(redis_server, scenario_file)
    yield group
    group.close()


def text_of(response: httpx.Response) -> str:
    assert response.status_code == 200, response.text
    return str(response.json()["content"][0]["text"])


def test_a_sequence_advances_in_order_across_replicas_per_session(replicas: Replicas) -> None:
    alice = [text_of(replicas.post(body("count"), **{"x-mockbay-session": "alice"})) for _ in range(4)]
    bob = [text_of(replicas.post(body("count"), **{"x-mockbay-session": "bob"})) for _ in range(2)]
    assert alice == ["one", "two", "three", "four"]
    assert bob == ["one", "two"]


def test_a_rate_limit_of_six_refuses_the_seventh_whichever_replica_gets_it(replicas: Replicas) -> None:
    statuses = [replicas.post(body("limit")).status_code for _ in range(7)]
    assert statuses == [200] * 6 + [429]
    refused = replicas.post(body("limit"))
    assert refused.status_code == 429
    assert refused.json()["error"]["type"] == "rate_limit_error"
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.headers["anthropic-ratelimit-requests-remaining"] == "0"


def test_output_tokens_charged_by_one_replica_refuse_the_next_request_on_another(replicas: Replicas) -> None:
    first = replicas.post(body("thrift"))
    assert first.status_code == 200 and first.json()["usage"]["output_tokens"] >= 6
    refused = replicas.post(body("thrift"))
    assert refused.status_code == 429
    assert "6 output tokens per minute" in refused.json()["error"]["message"]
    assert refused.headers["anthropic-ratelimit-output-tokens-remaining"] == "0"


def test_a_cache_entry_written_through_one_replica_is_read_through_another(replicas: Replicas) -> None:
    system = [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}]
    first = replicas.post(body("cache me", system=system)).json()["usage"]
    second = replicas.post(body("cache me again", system=system)).json()["usage"]
    assert first["cache_creation_input_tokens"] > 1024 and first["cache_read_input_tokens"] == 0
    assert second["cache_read_input_tokens"] == first["cache_creation_input_tokens"]
    assert second["cache_creation_input_tokens"] == 0


def test_the_journal_of_any_replica_lists_every_exchange(replicas: Replicas) -> None:
    sent = [replicas.post(body("count")).headers["request-id"] for _ in range(6)]
    assert len(set(sent)) == 6  # request ids are unique across replicas
    for client in replicas.clients:
        journal = client.get("/_mockbay/requests").json()["requests"]
        assert [e["request_id"] for e in journal] == sent
        assert [e["reply_index"] for e in journal] == [0, 1, 2, 3, 3, 3]


def test_reset_on_one_replica_resets_them_all(replicas: Replicas) -> None:
    assert [text_of(replicas.post(body("count"))) for _ in range(3)] == ["one", "two", "three"]
    assert all(replicas.post(body("limit")).status_code == 200 for _ in range(6))
    assert replicas.clients[2].post("/_mockbay/reset").json() == {"status": "ok"}
    assert [text_of(replicas.post(body("count"))) for _ in range(3)] == ["one", "two", "three"]
    assert replicas.post(body("limit")).status_code == 200
    for client in replicas.clients:
        assert len(client.get("/_mockbay/requests").json()["requests"]) == 4


def test_the_others_carry_on_when_one_replica_is_killed_mid_run(own_replicas: Replicas) -> None:
    replicas = own_replicas
    assert [text_of(replicas.post(body("count"))) for _ in range(2)] == ["one", "two"]
    replicas.children[1].process.kill()
    replicas.children[1].process.wait(timeout=10)
    survivors = [replicas.clients[0], replicas.clients[2]]
    later = [text_of(client.post("/v1/messages", json=body("count"))) for client in survivors]
    assert later == ["three", "four"]
    assert len(survivors[0].get("/_mockbay/requests").json()["requests"]) == 4


def test_two_namespaces_on_one_redis_do_not_share(redis_server: RedisServer, scenario_file: Path) -> None:
    first = replica(redis_server.url, scenario_file, f"a-{uuid.uuid4().hex[:8]}")
    second = replica(redis_server.url, scenario_file, f"b-{uuid.uuid4().hex[:8]}")
    try:
        with httpx.Client(headers=HEADERS) as client:
            texts = [
                text_of(client.post(f"{c.url}/v1/messages", json=body("count"))) for c in (first, second)
            ]
        assert texts == ["one", "one"]
    finally:
        stop(first)
        stop(second)


def test_a_replica_answers_503_naming_the_store_while_redis_is_down_then_recovers(
    scenario_file: Path,
) -> None:
    redis = RedisServer()
    redis.start()
    child = replica(redis.url, scenario_file, "outage")
    try:
        with httpx.Client(base_url=child.url, headers=HEADERS, timeout=30) as client:
            assert text_of(client.post("/v1/messages", json=body("count"))) == "one"
            redis.stop()
            for _ in range(3):
                started = time.monotonic()
                down = client.post("/v1/messages", json=body("count"))
                assert time.monotonic() - started < 5
                assert down.status_code == 503
                assert down.json()["error"]["type"] == "api_error"
                assert redis.url in down.json()["error"]["message"]
                assert down.headers["request-id"].startswith("req_")
            bedrock_body = {**body("count"), "anthropic_version": "bedrock-2023-05-31"}
            del bedrock_body["model"]
            on_bedrock = client.post(  # Bedrock's own error shape, as every other Bedrock error
                "/model/anthropic.claude-sonnet-4-5-v1:0/invoke", json=bedrock_body, headers=BEDROCK_KEY
            )
            assert on_bedrock.status_code == 503, on_bedrock.text
            assert on_bedrock.headers["x-amzn-errortype"].startswith("ServiceUnavailableException:")
            assert set(on_bedrock.json()) == {"message"} and redis.url in on_bedrock.json()["message"]
            assert on_bedrock.headers["x-amzn-requestid"].startswith("req_")
            assert "request-id" not in on_bedrock.headers
            redis.start()
            assert text_of(client.post("/v1/messages", json=body("count"))) == "one"  # a fresh Redis
    finally:
        log = stop_with_log(child)[1]
        redis.stop()
    assert log.count("is unavailable") == 1, log
    assert "Traceback" not in log


@pytest.mark.parametrize("url", ["mysql://db:3306/0", "127.0.0.1:6379"])
def test_a_state_url_that_is_not_redis_exits_2(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--port", "0", "--state", url]) == 2
    assert f"--state: expected memory or redis://HOST:PORT/DB, got {url!r}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("redis://127.0.0.1:99999/0", "Port out of range"),
        ("redis://[::1", "Invalid IPv6 URL"),
        ("redis://127.0.0.1:6379/zero", "the database is a number"),
        ("redis://127.0.0.1:6379/0?socket_timeout=soon", "socket_timeout"),
        ("redis://127.0.0.1:6379/0?colour=blue", "colour"),
        ("mysql://127.0.0.1:3306/0", "expected memory or redis://"),
    ],
)
def test_a_state_url_the_redis_client_would_refuse_or_misread_exits_2_without_its_password(
    url: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with_password = url.replace("//", "//mockbay:hunter2@", 1)
    assert main(["serve", "--port", "0", "--state", with_password]) == 2
    err = capsys.readouterr().err
    assert err.startswith("mockbay: error: --state: "), err
    assert says in err and "hunter2" not in err and "Traceback" not in err


ADMIN_LOADED = """
name: admin-loaded
match: {last_user: admin}
rules:
  - reply: {text: loaded through one replica}
"""


def test_scenarios_loaded_through_one_replica_answer_on_every_replica(replicas: Replicas) -> None:
    loaded = replicas.clients[0].post("/_mockbay/scenarios", content=ADMIN_LOADED)
    assert loaded.json()["loaded"] == ["admin-loaded"]
    assert [text_of(client.post("/v1/messages", json=body("admin"))) for client in replicas.clients] == [
        "loaded through one replica"
    ] * 3
    names = {s["name"] for s in replicas.clients[2].get("/_mockbay/scenarios").json()["scenarios"]}
    assert "admin-loaded" in names


def test_admin_loads_are_capped_over_every_replica_and_one_beyond_is_refused(
    redis_server: RedisServer, scenario_file: Path
) -> None:
    group = Replicas(
        start_replicas(
            redis_server, scenario_file, f"cap-{uuid.uuid4().hex[:8]}", 2, "--admin-scenarios-max", "2"
        ),
        "cap",
    )
    try:
        loads = [ADMIN_LOADED.replace("admin-loaded", name) for name in ("first", "second", "third")]
        answers = [group.clients[n % 2].post("/_mockbay/scenarios", content=t) for n, t in enumerate(loads)]
        assert [a.status_code for a in answers] == [200, 200, 413]
        assert "--admin-scenarios-max" in answers[2].json()["error"]["message"]
        names = {s["name"] for s in group.clients[1].get("/_mockbay/scenarios").json()["scenarios"]}
        assert {"first", "second"} <= names and "third" not in names
    finally:
        group.close()


def test_a_watched_reload_keeps_the_shared_admin_loads_and_outlasts_the_next_one(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """A replica installs the shared loads over its files as last reloaded, not as they started."""
    watched = tmp_path / "watched.yaml"
    watched.write_text("name: watched\nrules:\n  - reply: {text: version one}\n")
    namespace = f"watch-{uuid.uuid4().hex[:8]}"
    with replicas_on(redis_server, tmp_path, namespace, 1, "--watch") as [child]:
        client = httpx.Client(base_url=child.url, headers=HEADERS, timeout=10)
        with client:

            def pinned(name: str) -> str:
                return text_of(client.post(f"/s/{name}/v1/messages", json=body("hi")))

            assert client.post("/_mockbay/scenarios", content=ADMIN_LOADED).status_code == 200
            assert pinned("watched") == "version one"
            watched.write_text("name: watched\nrules:\n  - reply: {text: version two}\n")
            deadline = time.monotonic() + 2.5  # the watcher polls every 0.5 s
            while pinned("watched") != "version two":
                assert time.monotonic() < deadline, "not reloaded within 2.5 s"
                time.sleep(0.05)
            assert pinned("admin-loaded") == "loaded through one replica"
            again = ADMIN_LOADED.replace("admin-loaded", "second")
            assert client.post("/_mockbay/scenarios", content=again).status_code == 200
            assert pinned("watched") == "version two"  # the next load's catch-up kept the reload
            assert [pinned("admin-loaded"), pinned("second")] == ["loaded through one replica"] * 2


def test_workers_on_redis_share_admin_loaded_scenarios_the_journal_and_reset(
    redis_server: RedisServer, scenario_file: Path
) -> None:
    child = replica(redis_server.url, scenario_file, f"workers-{uuid.uuid4().hex[:8]}", "--workers", "2")
    try:
        with httpx.Client(base_url=child.url, headers=HEADERS) as admin:
            assert admin.post("/_mockbay/scenarios", content=ADMIN_LOADED).status_code == 200
        texts, ids, pids = [], [], set()
        for _ in range(16):  # fresh connections: the kernel spreads them over both workers
            with httpx.Client(base_url=child.url, headers=HEADERS) as fresh:
                reply = fresh.post("/v1/messages", json=body("admin"))
                texts.append(text_of(reply))
                ids.append(reply.headers["request-id"])
                pids.add(fresh.get("/_mockbay/health").json()["pid"])
        assert len(pids) == 2, "the kernel sent every connection to one worker"
        assert texts == ["loaded through one replica"] * 16
        assert len(set(ids)) == 16
        with httpx.Client(base_url=child.url, headers=HEADERS) as admin:
            assert [e["request_id"] for e in admin.get("/_mockbay/requests").json()["requests"]] == ids
            assert admin.post("/_mockbay/reset").status_code == 200
        for _ in range(4):
            with httpx.Client(base_url=child.url, headers=HEADERS) as fresh:
                assert fresh.get("/_mockbay/requests").json()["requests"] == []
    finally:
        stop(child)


def test_a_file_uploaded_through_one_replica_is_listed_used_and_deleted_through_others(
    replicas: Replicas,
) -> None:
    first, second, third = replicas.clients
    uploaded = first.post("/v1/files", files={"file": ("notes.txt", b"shared notes", "text/plain")}).json()
    file_id = uploaded["id"]
    assert [f["id"] for f in second.get("/v1/files").json()["data"]] == [file_id]
    assert third.get(f"/v1/files/{file_id}").json() == uploaded
    document = {"type": "document", "source": {"type": "file", "file_id": file_id}}
    using = body(
        "count", messages=[{"role": "user", "content": [document, {"type": "text", "text": "count"}]}]
    )
    assert (
        text_of(second.post("/v1/messages", json=using, headers={"anthropic-beta": "files-api-2025-04-14"}))
        == "one"
    )
    assert third.delete(f"/v1/files/{file_id}").json() == {"id": file_id, "type": "file_deleted"}
    assert first.get(f"/v1/files/{file_id}").status_code == 404
    assert (
        second.post(
            "/v1/messages", json=using, headers={"anthropic-beta": "files-api-2025-04-14"}
        ).status_code
        == 404
    )


def unmatched_is_the_journal_filtered(client: httpx.Client) -> list[str]:
    """`GET /_mockbay/unmatched` as it always was: the journal's unmatched Messages requests;
    their request ids."""
    journal = client.get("/_mockbay/requests").json()["requests"]
    expected = [e for e in journal if e["endpoint"] == "messages" and e["missed"]]
    assert client.get("/_mockbay/unmatched").json()["unmatched"] == expected
    return [e["request_id"] for e in expected]


def test_unmatched_requests_are_read_from_an_index_of_their_own(
    replicas: Replicas, redis_client: redis.Redis
) -> None:
    missed = [replicas.post(body(f"nobody scripted {n}")).headers["request-id"] for n in range(3)]
    assert text_of(replicas.post(body("count"))) == "one"
    tokens = {"model": "claude-sonnet-4-6", "messages": [{"role": "user", "content": "tokens"}]}
    assert replicas.clients[0].post("/v1/messages/count_tokens", json=tokens).is_success
    assert [unmatched_is_the_journal_filtered(client) for client in replicas.clients] == [missed] * 3
    index = redis_client.zrange(f"{replicas.namespace}:journal:unmatched", 0, -1)
    assert [request_id.decode() for request_id in index] == missed
    assert replicas.clients[1].delete("/_mockbay/requests").is_success
    assert unmatched_is_the_journal_filtered(replicas.clients[2]) == []


def test_shared_state_keeps_the_in_memory_caps(redis_server: RedisServer, scenario_file: Path) -> None:
    namespace = f"capped-{uuid.uuid4().hex[:8]}"
    caps = ("--journal-size", "3", "--max-sessions", "2", "--diagnostics-max", "1")
    with replicas_on(redis_server, scenario_file, namespace, 2, *caps) as capped:
        sent = []
        for index in range(5):
            with httpx.Client(base_url=capped[index % 2].url, headers=HEADERS) as client:
                sent.append(client.post("/v1/messages", json=body("admin or not")).headers["request-id"])
        with httpx.Client(base_url=capped[0].url) as client:
            assert [e["request_id"] for e in client.get("/_mockbay/requests").json()["requests"]] == sent[2:]
            assert unmatched_is_the_journal_filtered(client) == sent[2:]  # evicted from its index too
            assert client.get(f"/_mockbay/requests/{sent[1]}").status_code == 404  # evicted: its id too
            assert client.get(f"/_mockbay/requests/{sent[3]}").json()["request_id"] == sent[3]
        texts = []
        for index, session in enumerate(["a", "a", "b", "c", "a", "c"]):  # a is the least recently used
            with httpx.Client(base_url=capped[index % 2].url, headers=HEADERS) as client:
                texts.append(
                    text_of(
                        client.post(
                            "/v1/messages", json=body("count"), headers={"x-mockbay-session": session}
                        )
                    )
                )
        assert texts == ["one", "two", "one", "one", "one", "two"]
        kept = []  # one fingerprint across both: the second replica's evicts the first's
        for index in range(2):
            opening = body("plain", system=f"System {index}.", diagnostics={"previous_message_id": None})
            with httpx.Client(base_url=capped[index].url, headers=HEADERS) as client:
                kept.append(client.post("/v1/messages", json=opening).json()["id"])
        with httpx.Client(base_url=capped[1].url, headers=HEADERS) as client:
            evicted = body("plain", diagnostics={"previous_message_id": kept[0]})
            reason = client.post("/v1/messages", json=evicted).json()["diagnostics"]["cache_miss_reason"]
        assert reason == {"type": "previous_message_not_found"}


def test_a_batch_created_through_one_replica_is_read_listed_and_deleted_through_others(
    replicas: Replicas,
) -> None:
    first, second, third = replicas.clients
    requests = [{"custom_id": f"item-{n}", "params": body("count")} for n in range(3)]
    created = first.post("/v1/messages/batches", json={"requests": requests}).json()
    batch_id = created["id"]
    retrieved = second.get(f"/v1/messages/batches/{batch_id}").json()
    assert retrieved["processing_status"] == "ended"
    assert retrieved["request_counts"]["succeeded"] == 3
    assert [b["id"] for b in third.get("/v1/messages/batches").json()["data"]] == [batch_id]
    lines = [
        json.loads(line) for line in third.get(f"/v1/messages/batches/{batch_id}/results").text.splitlines()
    ]
    assert [(line["custom_id"], line["result"]["message"]["content"][0]["text"]) for line in lines] == [
        ("item-0", "one"),
        ("item-1", "two"),
        ("item-2", "three"),
    ]
    journal = second.get("/_mockbay/requests").json()["requests"]
    assert [e["custom_id"] for e in journal if e["batch_id"] == batch_id] == ["item-0", "item-1", "item-2"]
    assert third.delete(f"/v1/messages/batches/{batch_id}").json()["type"] == "message_batch_deleted"
    assert first.get(f"/v1/messages/batches/{batch_id}").status_code == 404


def test_due_batch_requests_run_once_when_two_replicas_read_the_batch_at_once(
    redis_server: RedisServer, scenario_file: Path
) -> None:
    namespace = f"batches-{uuid.uuid4().hex[:8]}"
    with replicas_on(redis_server, scenario_file, namespace, 2, "--batch-seconds", "1") as pair:
        clients = [httpx.Client(base_url=c.url, headers=HEADERS, timeout=30) for c in pair]
        requests = [{"custom_id": f"item-{n}", "params": body("count")} for n in range(8)]
        batch_id = clients[0].post("/v1/messages/batches", json={"requests": requests}).json()["id"]
        time.sleep(1.2)  # every request is due: the next reads run them
        with ThreadPoolExecutor(4) as pool:
            reads = list(pool.map(lambda c: c.get(f"/v1/messages/batches/{batch_id}").json(), clients * 2))
        assert all(r["processing_status"] == "ended" for r in reads)
        journal = clients[1].get("/_mockbay/requests").json()["requests"]
        ran = sorted(e["custom_id"] for e in journal if e["batch_id"] == batch_id)
        assert ran == [f"item-{n}" for n in range(8)]
        for client in clients:
            client.close()


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_an_exchange_answered_by_one_replica_opens_and_saves_as_a_scenario_through_another(
    replicas: Replicas, tmp_path: Path, stream: bool
) -> None:
    answering, asked = replicas.clients[0], replicas.clients[1]
    sent = answering.post("/v1/messages", json=body("count", stream=stream))
    assert sent.status_code == 200, sent.text
    request_id = sent.headers["request-id"]
    # A stream's entry is written once its last event has left, which may be just after the
    # client has read it: wait for it (bounded), as a user's second look would.
    for _ in range(50):
        detail = asked.get(f"/_mockbay/requests/{request_id}")
        if detail.status_code != 404:
            break
        time.sleep(0.05)
    assert detail.status_code == 200, detail.text
    entry = detail.json()
    assert entry["request_id"] == request_id and entry["scenario"] == "counter"
    assert entry["reply"]["stop_reason"] == "end_turn" and "one" in json.dumps(entry["reply"]["content"])
    if stream:
        names = [e["event"] for e in entry["response"]]
        assert (names[0], names[-1]) == ("message_start", "message_stop")
    else:
        assert entry["response"] == sent.json()
    saved = asked.get(f"/_mockbay/requests/{request_id}/scenario")
    assert saved.status_code == 200, saved.text
    assert f"exchange {request_id}" in saved.text
    assert '"one"' in json.dumps(yaml.safe_load(saved.text))  # the reply that was sent
    file = tmp_path / "saved.yaml"
    file.write_text(saved.text)
    assert main(["validate", str(file)]) == 0
    assert asked.get("/_mockbay/requests/req_nothing_like_it").status_code == 404


def test_a_saved_exchange_repeats_the_rate_limit_headers_it_was_sent_with_through_another_replica(
    replicas: Replicas,
) -> None:
    sent = replicas.clients[0].post("/v1/messages", json=body("limit"))
    limit_headers = {k: v for k, v in sent.headers.items() if k.startswith("anthropic-ratelimit-")}
    assert sent.status_code == 200 and limit_headers["anthropic-ratelimit-requests-limit"] == "6"
    saved = replicas.clients[1].get(f"/_mockbay/requests/{sent.headers['request-id']}/scenario")
    assert saved.status_code == 200, saved.text
    (turn,) = yaml.safe_load(saved.text)["turns"]
    assert turn["reply"]["headers"] == limit_headers


def test_a_thread_created_through_one_replica_is_continued_through_another(replicas: Replicas) -> None:
    first, second, third = replicas.clients
    threads = {"anthropic-beta": "message-threads-2026-08-12"}
    created = first.post("/v1/messages", json=body("count", thread={"type": "create"}), headers=threads)
    assert text_of(created) == "one"
    follow_up = {"type": "continue", "previous_message_id": created.json()["id"]}
    continued = second.post("/v1/messages", json=body("count", thread=follow_up), headers=threads)
    assert text_of(continued) == "two"
    journal = third.get("/_mockbay/requests").json()["requests"]
    assert [len(e["body"]["messages"]) for e in journal] == [1, 1]  # each sent its new turn only
    assert first.post("/_mockbay/reset").status_code == 200
    lost = third.post("/v1/messages", json=body("count", thread=follow_up), headers=threads)
    assert lost.json()["error"]["details"] == {"error_code": "thread_not_found"}


def test_a_fingerprint_kept_through_one_replica_is_compared_through_another(replicas: Replicas) -> None:
    first, second, third = replicas.clients
    system = [{"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}]
    opening = body("plain", system=system, diagnostics={"previous_message_id": None})
    opted = first.post("/v1/messages", json=opening).json()
    assert "diagnostics" not in opted
    named = {"previous_message_id": opted["id"]}
    tools = [{"name": "get_weather", "input_schema": {"type": "object"}}]
    changed = second.post("/v1/messages", json=body("plain", system=system, tools=tools, diagnostics=named))
    cached = Prompt.of(opening, "claude-sonnet-4-6").fingerprint.breakpoints[-1][2]
    assert cached > 4000  # the marked system prompt, whose prefix the new tool moved
    reason = {"type": "tools_changed", "cache_missed_input_tokens": cached}
    assert changed.json()["diagnostics"] == {"cache_miss_reason": reason}
    assert first.post("/_mockbay/reset").status_code == 200
    lost = third.post("/v1/messages", json=body("plain", system=system, diagnostics=named)).json()
    assert lost["diagnostics"] == {"cache_miss_reason": {"type": "previous_message_not_found"}}


def test_rate_limit_buckets_and_cursors_keep_digests_not_api_keys_or_session_headers(
    replicas: Replicas, redis_client: redis.Redis
) -> None:
    api_key, session = "sk-ant-api03-" + "k" * 80, "s" * 4000
    caller = {"x-api-key": api_key, "x-mockbay-session": session}
    assert [text_of(replicas.post(body("count"), **caller)) for _ in range(2)] == ["one", "two"]
    assert replicas.post(body("limit"), **caller).status_code == 200
    for name in ("cursors", "ratelimits"):  # fixed-size entries, as in memory: the caps bound bytes
        assert [len(field) for field in redis_client.hkeys(f"{replicas.namespace}:{name}")] == [16]
    assert api_key.encode() not in everything_under(redis_client, replicas.namespace)


def test_scenarios_loaded_after_redis_restarted_empty_reach_a_replica_that_held_older_ones(
    scenario_file: Path,
) -> None:
    redis_server = RedisServer()
    redis_server.start()
    try:
        with replicas_on(redis_server, scenario_file, "restarted", 2) as pair:
            loading, other = (httpx.Client(base_url=c.url, headers=HEADERS, timeout=30) for c in pair)
            with loading, other:
                assert loading.post("/_mockbay/scenarios", content=ADMIN_LOADED).status_code == 200
                assert text_of(other.post("/v1/messages", json=body("admin"))) == "loaded through one replica"
                redis_server.stop()
                redis_server.start()  # empty: the admin-loaded list is gone, and a new one begins
                later = ADMIN_LOADED.replace("admin-loaded", "later").replace("admin}", "later}")
                assert loading.post("/_mockbay/scenarios", content=later).status_code == 200
                assert text_of(other.post("/v1/messages", json=body("later"))) == "loaded through one replica"
                gone = other.post("/v1/messages", json=body("admin"))
                assert gone.status_code == 400 and "unmatched" in gone.text.lower(), gone.text
    finally:
        redis_server.stop()


def test_listing_and_retrieving_files_reads_no_content_from_redis(
    redis_server: RedisServer, scenario_file: Path, redis_client: redis.Redis
) -> None:
    with replicas_on(
        redis_server, scenario_file, f"files-{uuid.uuid4().hex[:8]}", 2, "--files-downloadable"
    ) as pair:
        uploading, other = (httpx.Client(base_url=c.url, headers=HEADERS, timeout=30) for c in pair)
        with uploading, other:
            content = bytes(range(256)) * 4096 + b"\n{}\n"  # 1 MiB and a little, newlines included
            file_ids = [
                uploading.post("/v1/files", files={"file": (f"{n}.bin", content, "text/plain")}).json()["id"]
                for n in range(3)
            ]
            sent_before = redis_client.info("stats")["total_net_output_bytes"]
            assert [f["id"] for f in other.get("/v1/files").json()["data"]] == file_ids[::-1]
            assert other.get(f"/v1/files/{file_ids[0]}").json()["size_bytes"] == len(content)
            document = {"type": "document", "source": {"type": "file", "file_id": file_ids[1]}}
            using = body(
                "count", messages=[{"role": "user", "content": [document, {"type": "text", "text": "count"}]}]
            )
            beta = {"anthropic-beta": "files-api-2025-04-14"}
            assert text_of(other.post("/v1/messages", json=using, headers=beta)) == "one"
            assert redis_client.info("stats")["total_net_output_bytes"] - sent_before < len(content) // 4
            assert other.get(f"/v1/files/{file_ids[2]}/content").content == content
            assert uploading.delete(f"/v1/files/{file_ids[2]}").status_code == 200
            assert other.get(f"/v1/files/{file_ids[2]}/content").status_code == 404


def test_a_cancel_through_one_replica_holds_while_another_is_running_the_batch(
    redis_server: RedisServer, scenario_file: Path
) -> None:
    with replicas_on(
        redis_server, scenario_file, f"cancel-{uuid.uuid4().hex[:8]}", 2, "--batch-seconds", "2"
    ) as pair:
        running, canceling = (httpx.Client(base_url=c.url, headers=HEADERS, timeout=30) for c in pair)
        reading = threading.Event()
        reading.set()

        def read_on(batch_id: str) -> None:  # requests fall due all along: each read runs some
            with httpx.Client(base_url=running.base_url, headers=HEADERS, timeout=30) as reader:
                while reading.is_set():
                    reader.get(f"/v1/messages/batches/{batch_id}")

        try:
            with running, canceling:
                requests = [{"custom_id": f"item-{n}", "params": body("admin or not")} for n in range(200)]
                batch_id = running.post("/v1/messages/batches", json={"requests": requests}).json()["id"]
                readers = [threading.Thread(target=read_on, args=(batch_id,)) for _ in range(2)]
                for reader in readers:
                    reader.start()
                time.sleep(1)
                assert canceling.post(f"/v1/messages/batches/{batch_id}/cancel").status_code == 200
                reading.clear()
                for reader in readers:
                    reader.join(timeout=30)
                results = canceling.get(f"/v1/messages/batches/{batch_id}/results")
                assert results.status_code == 200, results.text  # ended: every request ran or was canceled
                outcomes = {
                    line["custom_id"]: line["result"]["type"]
                    for line in map(json.loads, results.text.splitlines())
                }
                journal = running.get("/_mockbay/requests").json()["requests"]
                ran = {e["custom_id"] for e in journal if e["batch_id"] == batch_id}
                canceled = {custom_id for custom_id, outcome in outcomes.items() if outcome == "canceled"}
                assert canceled and ran and ran.isdisjoint(canceled) and len(ran | canceled) == 200
        finally:
            reading.clear()


def test_batches_deleted_through_one_replica_stay_deleted_while_another_lists_them(
    replicas: Replicas,
) -> None:
    listing, deleting = replicas.clients[0], replicas.clients[1]
    requests = [{"custom_id": "only", "params": body("admin or not")}]
    batch_ids = [
        listing.post("/v1/messages/batches", json={"requests": requests}).json()["id"] for _ in range(40)
    ]
    assert len(listing.get("/v1/messages/batches", params={"limit": 100}).json()["data"]) == 40  # all ended
    reading = threading.Event()
    reading.set()

    def list_all() -> None:  # each listed batch is read and stored back: a deleted one must stay gone
        with httpx.Client(base_url=listing.base_url, headers=HEADERS, timeout=30) as reader:
            while reading.is_set():
                reader.get("/v1/messages/batches", params={"limit": 100})

    lister = threading.Thread(target=list_all)
    lister.start()
    try:
        assert {deleting.delete(f"/v1/messages/batches/{b}").status_code for b in batch_ids} == {200}
    finally:
        reading.clear()
        lister.join(timeout=30)
    assert listing.get("/v1/messages/batches", params={"limit": 100}).json()["data"] == []
    assert {listing.get(f"/v1/messages/batches/{b}").status_code for b in batch_ids} == {404}


def due_batch(client: httpx.Client, count: int) -> str:
    """A batch of `count` requests, every one of them due (the replicas end batches in 1 s)."""
    requests = [{"custom_id": f"item-{n}", "params": body("count")} for n in range(count)]
    batch_id = str(client.post("/v1/messages/batches", json={"requests": requests}).json()["id"])
    time.sleep(1.1)
    return batch_id


def test_a_batch_whose_runner_died_is_run_by_another_replica_within_seconds(
    redis_server: RedisServer, scenario_file: Path
) -> None:
    with replicas_on(
        redis_server, scenario_file, f"lease-{uuid.uuid4().hex[:8]}", 2, "--batch-seconds", "1"
    ) as pair:
        dying, other = (httpx.Client(base_url=c.url, headers=HEADERS, timeout=30) for c in pair)
        with dying, other:
            batch_id = due_batch(dying, 3000)

            def run_and_die() -> None:
                with contextlib.suppress(httpx.HTTPError):  # its replica is killed mid-answer
                    dying.get(f"/v1/messages/batches/{batch_id}")

            run = threading.Thread(target=run_and_die, daemon=True)
            run.start()
            time.sleep(0.5)  # a few hundred requests in: its replica holds the batch's lock
            pair[0].process.kill()
            run.join(timeout=10)
            started = time.monotonic()
            read = other.get(f"/v1/messages/batches/{batch_id}").json()  # the lock lapses; it runs the rest
            assert read["processing_status"] == "ended" and read["request_counts"]["succeeded"] == 3000
            assert time.monotonic() - started < 20  # the dead replica's lock held it 60 s


def test_a_batch_run_longer_than_the_lock_lifetime_runs_each_request_once(
    redis_server: RedisServer, scenario_file: Path
) -> None:
    """The holder renews its lock while it runs (here ~8 s on two busy cores, the lock lives 5 s)."""
    extra = ("--batch-seconds", "1", "--journal-size", "20000")
    with replicas_on(redis_server, scenario_file, f"renew-{uuid.uuid4().hex[:8]}", 2, *extra) as pair:
        clients = [httpx.Client(base_url=c.url, headers=HEADERS, timeout=60) for c in pair]
        try:
            batch_id = due_batch(clients[0], 12000)
            with ThreadPoolExecutor(2) as pool:
                reads = list(pool.map(lambda c: c.get(f"/v1/messages/batches/{batch_id}").json(), clients))
            assert [r["processing_status"] for r in reads] == ["ended", "ended"]
            journal = clients[1].get("/_mockbay/requests").json()["requests"]
            ran = [e["custom_id"] for e in journal if e["batch_id"] == batch_id]
            assert len(ran) == len(set(ran)) == 12000
        finally:
            for client in clients:
                client.close()


def test_the_journal_asked_for_newer_exchanges_reads_only_those_from_redis(
    replicas: Replicas, redis_client: redis.Redis
) -> None:
    padding = "lorem ipsum " * 2000  # 24 KB an exchange: a journal of 1 MB
    sent = [replicas.post(body("count", system=padding)).headers["request-id"] for _ in range(40)]
    journal = replicas.clients[1].get("/_mockbay/requests").json()["requests"]
    assert [e["request_id"] for e in journal] == sent
    sent_before = redis_client.info("stats")["total_net_output_bytes"]
    newer = replicas.clients[2].get("/_mockbay/requests", params={"after": journal[-3]["seq"]})
    assert [e["request_id"] for e in newer.json()["requests"]] == sent[-2:]
    assert redis_client.info("stats")["total_net_output_bytes"] - sent_before < 200_000  # of 1 MB


def test_files_kept_by_an_earlier_mockbay_in_the_same_redis_are_not_misread(
    replicas: Replicas, redis_client: redis.Redis
) -> None:
    """Earlier versions kept a file as its metadata JSON, a newline and its bytes, in one field."""
    earlier = b'{"filename": "old.txt", "mime_type": "text/plain", "created_at": 0, "expires_at": null}\nold'
    redis_client.hset(f"{replicas.namespace}:files", "file_earlier", earlier)
    redis_client.rpush(f"{replicas.namespace}:files:order", "file_earlier")
    client = replicas.clients[0]
    uploaded = client.post("/v1/files", files={"file": ("new.txt", b"new", "text/plain")})
    assert uploaded.status_code == 200, uploaded.text
    assert [f["id"] for f in client.get("/v1/files").json()["data"]] == [uploaded.json()["id"]]
    assert client.get("/v1/files/file_earlier").status_code == 404


def test_the_scenarios_loaded_through_one_replica_are_listed_at_once_by_the_others(
    redis_server: RedisServer, scenario_file: Path
) -> None:
    """Admin calls take no sequence number, with which a replica otherwise catches up."""
    with replicas_on(redis_server, scenario_file, f"listed-{uuid.uuid4().hex[:8]}", 2) as pair:
        first, second = (httpx.Client(base_url=c.url, headers=HEADERS, timeout=30) for c in pair)
        with first, second:
            assert first.post("/_mockbay/scenarios", content=ADMIN_LOADED).json()["scenarios"] == 6
            later = ADMIN_LOADED.replace("admin-loaded", "later")
            assert second.post("/_mockbay/scenarios", content=later).json()["scenarios"] == 7
            for client in (first, second):
                names = [s["name"] for s in client.get("/_mockbay/scenarios").json()["scenarios"]]
                assert {"admin-loaded", "later"} <= set(names) and len(names) == 7


def test_a_file_download_is_journaled_without_its_bytes(
    redis_server: RedisServer, scenario_file: Path, redis_client: redis.Redis
) -> None:
    """The shared journal's JSON would have held 8 MB of random bytes as escapes, several times over."""
    with replicas_on(
        redis_server, scenario_file, f"dl-{uuid.uuid4().hex[:8]}", 2, "--files-downloadable"
    ) as pair:
        uploading, downloading = (httpx.Client(base_url=c.url, headers=HEADERS, timeout=30) for c in pair)
        with uploading, downloading:
            content = os.urandom(8 * 1024 * 1024)
            file_id = uploading.post("/v1/files", files={"file": ("r.bin", content, "text/plain")}).json()[
                "id"
            ]
            received_before = redis_client.info("stats")["total_net_input_bytes"]
            downloaded = downloading.get(f"/v1/files/{file_id}/content")
            assert downloaded.content == content
            assert redis_client.info("stats")["total_net_input_bytes"] - received_before < 100_000
            entry = downloading.get(f"/_mockbay/requests/{downloaded.headers['request-id']}").json()
            assert (entry["status"], entry["endpoint"], entry["response"]) == (200, "files", None)
        assert "unavailable" not in stop_with_log(pair[1])[1]


def test_a_big_batch_runs_in_few_redis_calls_and_its_status_reads_only_its_summary(
    replicas: Replicas, redis_client: redis.Redis
) -> None:
    """300 requests of 4 KB: a status poll or a list reads a few hundred bytes, not 1.2 MB, and the
    requests are numbered, journaled and stored a chunk at a time, not two script calls each."""
    creating, polling, listing = replicas.clients
    padding = "lorem ipsum " * 340
    requests = [{"custom_id": f"item-{n}", "params": body("plain", system=padding)} for n in range(300)]
    calls_before = redis_client.info("commandstats")["cmdstat_evalsha"]["calls"]
    created = creating.post("/v1/messages/batches", json={"requests": requests}, timeout=60).json()
    assert redis_client.info("commandstats")["cmdstat_evalsha"]["calls"] - calls_before < 20
    sent_before = redis_client.info("stats")["total_net_output_bytes"]
    retrieved = polling.get(f"/v1/messages/batches/{created['id']}").json()
    listed = listing.get("/v1/messages/batches").json()["data"]
    assert redis_client.info("stats")["total_net_output_bytes"] - sent_before < 10_000
    assert retrieved["request_counts"] == listed[0]["request_counts"] == {
        "processing": 0, "succeeded": 300, "errored": 0, "canceled": 0, "expired": 0
    }  # fmt: skip
    lines = polling.get(f"/v1/messages/batches/{created['id']}/results").text.splitlines()
    assert [json.loads(line)["custom_id"] for line in lines] == [f"item-{n}" for n in range(300)]
    journal = listing.get("/_mockbay/requests").json()["requests"]
    assert [e["custom_id"] for e in journal if e["batch_id"] == created["id"]] == [
        f"item-{n}" for n in range(300)
    ]


def test_a_batch_deleted_evicted_or_reset_leaves_none_of_its_keys_in_redis(
    redis_server: RedisServer, scenario_file: Path, redis_client: redis.Redis
) -> None:
    namespace = f"batch-keys-{uuid.uuid4().hex[:8]}"
    with (
        replicas_on(redis_server, scenario_file, namespace, 1, "--batches-max", "2") as (child,),
        httpx.Client(base_url=child.url, headers=HEADERS, timeout=30) as client,
    ):
        requests = [{"custom_id": f"item-{n}", "params": body("count")} for n in range(3)]
        made = [
            client.post("/v1/messages/batches", json={"requests": requests}).json()["id"] for _ in range(3)
        ]

        def lists_of(batch_id: str) -> list[bytes]:
            return sorted(redis_client.scan_iter(f"{namespace}:batches:*:{batch_id}"))

        assert lists_of(made[0]) == []  # evicted by the third
        assert len(lists_of(made[1])) == 2  # its requests and its results
        assert client.delete(f"/v1/messages/batches/{made[1]}").status_code == 200
        assert lists_of(made[1]) == []
        assert client.post("/_mockbay/reset").status_code == 200
        assert sorted(redis_client.scan_iter(f"{namespace}:batches*")) == []


def test_batches_kept_by_an_earlier_mockbay_in_the_same_redis_are_not_misread(
    replicas: Replicas, redis_client: redis.Redis
) -> None:
    """Earlier versions kept a batch whole, its requests and results included, in one field."""
    redis_client.hset(
        f"{replicas.namespace}:batches", "msgbatch_earlier", b'{"id": "msgbatch_earlier", "items": []}'
    )
    redis_client.rpush(f"{replicas.namespace}:batches:order", "msgbatch_earlier")
    client = replicas.clients[0]
    assert client.get("/v1/messages/batches").json()["data"] == []
    assert client.get("/v1/messages/batches/msgbatch_earlier").status_code == 404


def test_polling_the_journal_with_the_last_number_seen_lists_an_exchange_that_finished_late(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    """A slow exchange numbered before a fast one is recorded after it: `?after=` the fast one's
    number, the last the poll was given, still lists it (and only it) once it has finished."""
    scenarios = tmp_path / "late.yaml"
    scenarios.write_text(
        "scenarios:\n"
        "  - {name: slow, match: {last_user: slow}, rules: [{reply: {text: slow, timing: {ttft_ms: 1500}}}]}\n"
        "  - {name: fast, match: {last_user: fast}, rules: [{reply: {text: fast}}]}\n"
    )
    with replicas_on(redis_server, scenarios, f"late-{uuid.uuid4().hex[:8]}", 2) as pair:
        slow, fast = (httpx.Client(base_url=c.url, headers=HEADERS, timeout=30) for c in pair)
        with slow, fast, ThreadPoolExecutor(1) as pool:
            answered = pool.submit(slow.post, "/v1/messages", json=body("slow"))
            time.sleep(0.5)  # numbered, and waiting out its 1.5 s
            fast_id = fast.post("/v1/messages", json=body("fast")).headers["request-id"]
            seen = fast.get("/_mockbay/requests").json()["requests"]
            assert [e["request_id"] for e in seen] == [fast_id]
            slow_id = answered.result().headers["request-id"]
            newer = slow.get("/_mockbay/requests", params={"after": seen[-1]["seq"]}).json()["requests"]
            assert [e["request_id"] for e in newer] == [slow_id]
            assert newer[0]["seq"] < seen[-1]["seq"]
            later = fast.post("/v1/messages", json=body("fast")).headers["request-id"]
            newest = slow.get("/_mockbay/requests", params={"after": seen[-1]["seq"]}).json()["requests"]
            assert [e["request_id"] for e in newest] == [slow_id, later]  # until a newer one is recorded
            last = newest[-1]["seq"]
            assert slow.get("/_mockbay/requests", params={"after": last}).json()["requests"] == []


def test_a_file_moves_to_and_from_redis_in_steps_and_leaves_no_bytes_behind(
    redis_server: RedisServer, scenario_file: Path, redis_client: redis.Redis
) -> None:
    """A file near the 256 MB cap took longer than a call may (a 128 MB upload was a 503): its
    bytes go 4 MB a call each way. A refused upload, a delete and a reset leave none of them."""
    namespace = f"file-steps-{uuid.uuid4().hex[:8]}"
    with replicas_on(
        redis_server, scenario_file, namespace, 2, "--files-downloadable", "--files-max", "1"
    ) as pair:
        uploading, downloading = (httpx.Client(base_url=c.url, headers=HEADERS, timeout=30) for c in pair)
        with uploading, downloading:
            content = bytes(range(256)) * (9 * 4096)  # 9 MiB: three steps
            redis_client.config_resetstat()
            sent = uploading.post(
                "/v1/files", files={"file": ("big.bin", content, "application/octet-stream")}
            )
            file_id = sent.json()["id"]
            assert downloading.get(f"/v1/files/{file_id}/content").content == content
            stats = redis_client.info("commandstats")
            assert (stats["cmdstat_setrange"]["calls"], stats["cmdstat_getrange"]["calls"]) == (3, 3)
            refused = uploading.post("/v1/files", files={"file": ("more.bin", b"more", "text/plain")})
            assert (
                refused.json()["error"]["details"]["error_code"] == "storage_quota_exceeded"
            )  # --files-max 1
            assert [key.decode() for key in redis_client.scan_iter(f"{namespace}:files:data:*")] == [
                f"{namespace}:files:data:{file_id}"
            ]
            assert uploading.delete(f"/v1/files/{file_id}").status_code == 200
            assert list(redis_client.scan_iter(f"{namespace}:files:data:*")) == []
            uploading.post("/v1/files", files={"file": ("again.bin", content, "application/octet-stream")})
            assert uploading.post("/_mockbay/reset").status_code == 200
            assert list(redis_client.scan_iter(f"{namespace}:files*")) == []


def test_a_batch_of_requests_bigger_than_a_redis_step_runs_and_reads_back_whole(
    replicas: Replicas, redis_client: redis.Redis
) -> None:
    """Nine requests of 500 KB: written, run and read back in two steps (a create near the 256 MB
    cap in one call was a 503)."""
    padding = "lorem ipsum " * (500 * 1024 // 12)
    requests = [{"custom_id": f"item-{n}", "params": body("plain", system=padding)} for n in range(9)]
    first, second, _ = replicas.clients
    created = first.post("/v1/messages/batches", json={"requests": requests}, timeout=60).json()
    lines = second.get(f"/v1/messages/batches/{created['id']}/results", timeout=60).text.splitlines()
    assert [(json.loads(line)["custom_id"], json.loads(line)["result"]["type"]) for line in lines] == [
        (f"item-{n}", "succeeded") for n in range(9)
    ]
    stored = redis_client.lrange(f"{replicas.namespace}:batches:requests:{created['id']}", 0, -1)
    assert [json.loads(request)["params"]["system"] == padding for request in stored] == [True] * 9


# The per-call timeout at a size a test can afford: a Redis that drops a client that holds more
# than 12 MB (a step queued in a transaction counts twice) or whose reply comes to more than 6 MB.
# A call of about a step (`STEP_BYTES`, 4 MB) passes; one carrying a large journal entry, or a large
# journal, whole does not, as such a call outlasted the timeout (a 230 MB batch create's entry, a
# 450 MB journal read).
SMALL_CALLS = ("--maxmemory-clients", "12mb", "--client-output-buffer-limit", "normal 6mb 0 0")


@pytest.fixture(scope="module")
def small_calls_redis() -> Iterator[RedisServer]:
    server = RedisServer(options=SMALL_CALLS)
    server.start()
    yield server
    server.stop()


def test_a_journal_entry_larger_than_a_call_is_kept_and_read_in_steps_and_cleared_whole(
    small_calls_redis: RedisServer, scenario_file: Path
) -> None:
    """A 15 MB batch create (one of 230 MB went unjournaled: its entry, sent in one call, timed out):
    its entry's JSON goes to Redis in steps, the journal lists it and its 30 requests' entries (half
    a MB each, recorded in several calls), another replica opens it, and a clear leaves none of it."""
    namespace = f"big-entry-{uuid.uuid4().hex[:8]}"
    padding = "lorem ipsum " * (500 * 1024 // 12)
    requests = [{"custom_id": f"item-{n}", "params": body("plain", system=padding)} for n in range(30)]
    with (
        replicas_on(small_calls_redis, scenario_file, namespace, 2) as pair,
        redis.Redis.from_url(small_calls_redis.url) as redis_client,
    ):
        creating, reading = (httpx.Client(base_url=c.url, headers=HEADERS, timeout=60) for c in pair)
        with creating, reading:
            created = creating.post("/v1/messages/batches", json={"requests": requests})
            request_id = created.headers["request-id"]
            opened = reading.get(f"/_mockbay/requests/{request_id}")
            assert opened.status_code == 200, opened.text
            assert opened.json()["body"]["requests"] == requests
            assert redis_client.strlen(f"{namespace}:journal:text:{request_id}") > STEP_BYTES
            journal = reading.get("/_mockbay/requests").json()["requests"]
            assert journal[0]["request_id"] == request_id
            assert [e["custom_id"] for e in journal[1:]] == [f"item-{n}" for n in range(30)]
            assert reading.delete("/_mockbay/requests").status_code == 200
            assert list(redis_client.scan_iter(f"{namespace}:journal*")) == []
        logs = [stop_with_log(child)[1] for child in pair]
    assert not [log for log in logs if "unavailable" in log]


def test_a_journal_larger_than_a_call_is_listed_in_steps(
    small_calls_redis: RedisServer, scenario_file: Path
) -> None:
    """Three unmatched requests of 3 MB each: listing the journal, or its unmatched requests, in one
    call (a 503 after 4 s for a 450 MB journal) gives way to a step a call."""
    namespace = f"big-journal-{uuid.uuid4().hex[:8]}"
    with replicas_on(small_calls_redis, scenario_file, namespace, 1) as (child,):
        with httpx.Client(base_url=child.url, headers=HEADERS, timeout=60) as client:
            sent = [
                client.post("/v1/messages", json=body(f"no scenario {n}", system="x" * 3 * MB))
                for n in range(3)
            ]
            assert [response.status_code for response in sent] == [400] * 3
            ids = [response.headers["request-id"] for response in sent]
            listed = client.get("/_mockbay/requests")
            assert listed.status_code == 200, listed.text
            assert [e["request_id"] for e in listed.json()["requests"]] == ids
            unmatched = client.get("/_mockbay/unmatched")
            assert [e["request_id"] for e in unmatched.json()["unmatched"]] == ids
        assert "unavailable" not in stop_with_log(child)[1]


def test_an_answer_that_waited_while_the_loop_was_blocked_is_read_not_timed_out(
    redis_server: RedisServer, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow step elsewhere on a replica's loop (parsing a 230 MB batch create takes seconds) held
    up reading an answer Redis had given in time: the call timed out (a 503), or its one retry ran
    it a second time. The timeout scaled down, so that the loop is blocked for a fraction of a second;
    Redis holds the call for 0.2 s (CLIENT PAUSE), so that it is in flight when the block starts."""
    monkeypatch.setattr(redis_store, "CALL_TIMEOUT_S", 0.3)
    namespace = f"blocked-{uuid.uuid4().hex[:8]}"
    executed_during_the_block: list[int] = []

    def block() -> None:
        time.sleep(0.6)
        executed_during_the_block.append(int(redis_client.get(f"{namespace}:seq") or 0))

    async def numbers() -> tuple[int, int]:
        store = RedisStore(ServerConfig(state=redis_server.url, state_namespace=namespace), lambda _: None)
        try:
            first = await store.next_sequence()
            redis_client.client_pause(200, all=True)
            call = asyncio.create_task(store.next_sequence())
            asyncio.get_running_loop().call_later(0.05, block)
            return first, await call
        finally:
            await store.close()

    first, second = asyncio.run(numbers())
    assert executed_during_the_block == [first + 1]  # Redis had answered before the loop was free
    assert second == first + 1


def test_a_redis_that_does_not_answer_still_times_out(
    redis_server: RedisServer, redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_store, "CALL_TIMEOUT_S", 0.3)
    config = ServerConfig(state=redis_server.url, state_namespace=f"paused-{uuid.uuid4().hex[:8]}")

    async def outcome() -> tuple[str, float, int]:
        store = RedisStore(config, lambda _: None)
        try:
            await store.next_sequence()
            redis_client.client_pause(1000, all=True)
            started = time.monotonic()
            with pytest.raises(StoreUnavailable) as refused:
                await store.next_sequence()
            waited = time.monotonic() - started
            redis_client.client_unpause()
            return str(refused.value), waited, await store.next_sequence()
        finally:
            await store.close()

    message, waited, after = asyncio.run(outcome())
    assert "TimeoutError" in message
    assert 0.25 < waited < 0.9
    assert after > 1


def test_a_journal_record_sent_twice_is_kept_and_counted_once(
    redis_server: RedisServer, redis_client: redis.Redis
) -> None:
    """What the client's one retry does after a call whose answer was lost: the entry's bytes
    were counted twice against `--journal-max-mb`."""
    namespace = f"twice-{uuid.uuid4().hex[:8]}"
    exchange = Exchange(seq=1, request_id="req_twice", method="POST", path="/v1/messages", headers={})

    async def record_twice() -> list[dict[str, object]]:
        store = RedisStore(ServerConfig(state=redis_server.url, state_namespace=namespace), lambda _: None)
        try:
            await store.record(exchange)
            await store.record(exchange)
            return await store.exchanges()
        finally:
            await store.close()

    assert [entry["request_id"] for entry in asyncio.run(record_twice())] == ["req_twice"]
    kept = redis_client.hstrlen(f"{namespace}:journal", "req_twice")
    assert int(redis_client.get(f"{namespace}:journal:bytes") or 0) == kept > 0


def test_a_skill_uploaded_through_one_replica_is_versioned_used_and_deleted_through_others(
    replicas: Replicas,
) -> None:
    first, second, third = replicas.clients
    skill_md = b"---\nname: shared\ndescription: One skill, every replica.\n---\n"
    upload = {"files[]": ("shared/SKILL.md", skill_md, "text/markdown")}
    skill = first.post("/v1/skills", files=upload).json()
    assert [s["id"] for s in second.get("/v1/skills", params={"source": "custom"}).json()["data"]] == [
        skill["id"]
    ]
    version = third.post(f"/v1/skills/{skill['id']}/versions", files=upload).json()
    assert first.get(f"/v1/skills/{skill['id']}").json()["latest_version_id"] == version["id"]
    content = second.get(f"/v1/skills/{skill['id']}/versions/{skill['latest_version_id']}/content").content
    assert zipfile.ZipFile(io.BytesIO(content)).read("shared/SKILL.md") == skill_md
    using = body(
        "count", container={"skills": [{"type": "custom", "skill_id": skill["id"], "version": "latest"}]}
    )
    assert text_of(second.post("/v1/messages", json=using)) == "one"
    assert third.delete(f"/v1/skills/{skill['id']}/versions/{version['id']}").status_code == 200
    assert (
        first.get(f"/v1/skills/{skill['id']}/versions").json()["data"][0]["id"] == skill["latest_version_id"]
    )
    assert second.delete(f"/v1/skills/{skill['id']}").json() == {"id": skill["id"], "type": "skill_deleted"}
    assert third.get(f"/v1/skills/{skill['id']}").status_code == 404
    assert first.post("/v1/messages", json=using).status_code == 404
    assert first.post("/_mockbay/reset").status_code == 200
    assert second.get("/v1/skills", params={"source": "custom"}).json()["data"] == []
