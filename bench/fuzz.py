"""`make fuzz`: a raw-socket load fuzzer against a real `mockbay serve` on loopback.

For `--seconds` (60; a run then short of `--min-requests` goes on until it has them, for at most
`--max-seconds`, 90, in all) it sends, from `--clients` concurrent connections, pipelined batches of
well-formed HTTP requests (valid Messages and count_tokens bodies, JSON and streams, a third of
them one of a few bodies so the reply memo answers their repeats, inline; some with
context-management edits that fire and cache diagnostics; bodies
broken at a random JSON path: wrong types, deletions, lone surrogates, deep nesting, huge
numbers, invalid UTF-8, not JSON; odd paths and headers; and one in twelve to the other routes:
list queries and path ids gone wrong on models, batches, files, skills and the journal, batch
creates, skill uploads,
Bedrock and Vertex bodies as is or broken at a random path, multipart uploads cut short or with
malformed parts, admin YAML that does not load) and, on connections of their own,
protocol garbage: random bytes, truncated bodies, broken chunking, broken gzip, huge headers and
request lines, 33 MB bodies (declared and chunked), a gzip bomb, and slowloris connections that
trickle a header for seconds. It counts every answer:

- 5xx answers, and error answers without their wire's shape (the Anthropic envelope whose
  `request_id` repeats the `request-id` header; on Bedrock's routes its `{"message"}` with
  `x-amzn-ErrorType` and `x-amzn-RequestId`);
- well-formed requests left unanswered (a pipelined batch whose connection closed early, or any
  read that timed out);
- the RSS of each of the server's processes after the warm-up and at the end, whether they all
  lived, and tracebacks in its log.

The server runs `--workers` (2) processes: one takes a whole core at ~2,150 of these requests a
second, so on a 2-core machine a single worker cannot meet the 200,000-request bar in 60 s; two
reach ~3,400 a second. The warm-up (`--warmup-requests`, per worker) fills each worker's journal
and memo, and the memory bar holds for each process, as it would for a server of one.

It stops by itself, writes its figures to `bench/results/fuzz.json` and exits 1 when a figure
misses its bar (0 5xx, 0 bad envelopes, 0 unanswered, RSS growth < 20 MB in each process, no
process lost, at least `--min-requests`), so the run is a check, not only a report.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import copy
import gzip
import json
import os
import random
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from common import HOST, MOCKBAY, RESULTS, free_port, rss_bytes, running, tree

MB = 1024 * 1024
AUTH = b"x-api-key: fuzz\r\nanthropic-version: 2023-06-01\r\n"
READ_TIMEOUT_S = 15.0
BIG = 33 * MB
MAX_RSS_GROWTH_MB = 20

# A PNG's signature and IHDR (640 x 480): validation reads an image's format and size from them.
PNG_HEAD = base64.b64encode(
    bytes.fromhex("89504e470d0a1a0a0000000d4948445200000280000001e00802000000")
).decode()
IMAGE = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG_HEAD}}
BASE: dict[str, Any] = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 256,
    "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
    "tools": [{"name": "lookup", "description": "d", "input_schema": {"type": "object"}}],
    "messages": [
        {"role": "user", "content": [{"type": "text", "text": "look it up"}, IMAGE]},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "42"}]},
    ],
    "metadata": {"user_id": "fuzz"},
    # a schema with keywords a mutation can turn into no schema (`pattern`, `enum`, `$ref`)
    "output_config": {
        "format": {
            "type": "json_schema",
            "schema": {
                "type": "object",
                "properties": {
                    "answer": {"type": "string", "pattern": "^[a-z ]+$"},
                    "kind": {"enum": ["short", "long"]},
                    "ids": {"type": "array", "items": {"$ref": "#/$defs/id"}},
                },
                "required": ["answer"],
                "additionalProperties": False,  # closed, as structured outputs need
                "$defs": {"id": {"type": "integer"}},
            },
        }
    },
}
ODD: list[Any] = [
    None,
    True,
    0,
    -1,
    10**100,
    -(10**30),
    1.5,
    1e308,
    "",
    " ",
    "\udfff",
    "a\ud800b",
    "\x00",
    "😀",
    "x" * 5000,
    [],
    {},
    [None],
    {"type": "text"},
    {"type": "\udfff"},
    {"type": 7},
    "/9j/4AAQ",  # the start of a JPEG, an image with a truncated header
    "UklGRgAAAABXRUJQVlA4WA",  # a WebP's RIFF header cut inside its VP8X chunk
    "iVBORw0KGgoAAAANSUhEUv////8=",  # a PNG whose IHDR is cut short
    {"type": "summarize"},  # a compaction request's field, where another belongs
]
ODD_PATHS = [
    "/_mockbay/../v1/messages",
    "/v1/./messages",
    "/v1/%2e%2e/v1/messages",
    "//v1//messages",
    "/s/no-such-scenario/v1/messages",
    "/v1/messages/../../_mockbay/health",
    "/v1/models/%ff%fe",
    "/%00",
    "/v1/messages?beta=true&x=%zz",
]


@dataclass(slots=True)
class Budget:
    """When a phase ends: at `stop_at` (monotonic seconds) or after `requests`, whichever is first;
    with `at_least`, a phase short of that many requests at `stop_at` goes on until it has them,
    up to `hard_stop`."""

    stop_at: float
    requests: int
    tally: Tally
    at_least: int = 0
    hard_stop: float = 0.0  # 0: `stop_at`

    def spent(self) -> bool:
        now, sent = time.monotonic(), self.tally.requests
        if sent >= self.requests or now >= max(self.stop_at, self.hard_stop):
            return True
        return now >= self.stop_at and sent >= self.at_least


@dataclass(slots=True)
class Tally:
    """What the fuzzer saw."""

    requests: int = 0  # every request sent, well-formed or not
    well_formed: int = 0  # requests that must be answered
    answered: int = 0
    unanswered: int = 0
    server_errors: int = 0  # 5xx
    bad_envelopes: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)  # the first few failures, for a reader

    def note(self, problem: str) -> None:
        if len(self.examples) < 20:
            self.examples.append(problem[:300])


# -- requests ------------------------------------------------------------------------------------


def paths(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [path]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, child in items:
        found += paths(child, (*path, key))
    return found


BASE_PATHS = paths(BASE)
# The same request with context-management edits that fire (a tool use cleared, the context
# compacted) and cache diagnostics against an earlier message, under the edits' betas
MANAGED_BETAS = b"anthropic-beta: context-management-2025-06-27,compact-2026-01-12\r\n"
MANAGED: dict[str, Any] = {
    **BASE,
    "context_management": {
        "edits": [
            {
                "type": "clear_tool_uses_20250919",
                "trigger": {"type": "input_tokens", "value": 1},
                "keep": {"type": "tool_uses", "value": 0},
            },
            {"type": "compact_20260112", "trigger": {"type": "input_tokens", "value": 50}},
        ]
    },
    "diagnostics": {"previous_message_id": "msg_fuzz"},
}
MANAGED_PATHS = paths(MANAGED)
DEEP_MARK = "\x00deep"  # where a mutation nests arrays deeper than json.dumps could


def mutated(rng: random.Random, base: Any = BASE, base_paths: list[tuple[Any, ...]] = BASE_PATHS) -> bytes:
    """`base` broken at one random path: a wrong type, a deletion or deep nesting."""
    body: Any = copy.deepcopy(base)
    where = rng.choice(base_paths)
    choice = rng.random()
    value: Any = DEEP_MARK if choice < 0.1 else rng.choice(ODD)
    if not where:
        body = value
    else:
        parent = body
        for key in where[:-1]:
            parent = parent[key]
        if 0.1 <= choice < 0.3:
            del parent[where[-1]]
        else:
            parent[where[-1]] = value
    text = json.dumps(body)
    if value is DEEP_MARK:  # nested as text: json.dumps would recurse past Python's limit
        depth = rng.choice([100, 130, 1_000, 50_000])
        text = text.replace(json.dumps(DEEP_MARK), "[" * depth + "]" * depth)
    return text.encode()


def valid(rng: random.Random, base: dict[str, Any] = BASE) -> bytes:
    body = copy.deepcopy(base)
    if rng.random() < 0.3:  # one of a few bodies: the reply memo answers their repeats inline
        number, max_tokens = rng.randrange(8), 256
    else:
        number, max_tokens = rng.randrange(50_000), rng.randrange(1, 512)
    body["messages"][0]["content"][0]["text"] = f"look up {number}"
    body["max_tokens"] = max_tokens
    if rng.random() < 0.3:
        body["stream"] = True
    if rng.random() < 0.1 and base is BASE:  # a compaction request, which takes no output format
        del body["output_config"]
        body["compaction"] = {"type": "summarize"}
    return json.dumps(body).encode()


def raw_body(rng: random.Random) -> bytes:
    return rng.choice(
        [
            b"",
            b"{not json",
            b'{"model":"\xff\xfe"}',
            b"\xef\xbb\xbf{}",
            os.urandom(rng.randrange(1, 200)),
            b'{"model":"claude-sonnet-4-6","max_tokens":1e999,"messages":[]}',
            b'{"model":"claude-sonnet-4-6","max_tokens":1' + b"0" * 5000 + b',"messages":[]}',
            b'{"model":"claude-sonnet-4-6","max_tokens":10,"temperature":NaN,"messages":[]}',
            b"[" * 100_000,
        ]
    )


def request(
    method: str, path: str, body: bytes = b"", headers: bytes = AUTH, content_type: str = "application/json"
) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nhost: {HOST}\r\n".encode() + headers
    if method != "POST":
        return head + b"\r\n"
    head += f"content-type: {content_type}\r\ncontent-length: {len(body)}\r\n".encode()
    return head + b"\r\n" + body


# -- the other routes: lists, ids, batches, files, Bedrock, Vertex, admin -------------------------

VERTEX = "/v1/projects/p/locations/l/publishers/anthropic/models"
TURN = [{"role": "user", "content": "look it up"}]
BEDROCK_BODY: dict[str, Any] = {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 64, "messages": TURN}
VERTEX_BODY: dict[str, Any] = {**BEDROCK_BODY, "anthropic_version": "vertex-2023-10-16"}
COUNT_BODY: dict[str, Any] = {**VERTEX_BODY, "model": "claude-sonnet-4-6"}  # count-tokens: model in the body
PARAMS: dict[str, Any] = {"model": "claude-sonnet-4-6", "max_tokens": 64, "messages": TURN}
BATCH: dict[str, Any] = {"requests": [{"custom_id": "a", "params": PARAMS}]}
PATHS_OF = {id(body): paths(body) for body in (BEDROCK_BODY, VERTEX_BODY, COUNT_BODY, BATCH)}
ODD_IDS = [
    "x",
    "%ff%fe",
    "a%2Fb",
    "%2e%2e",
    "%00",
    "%C3%A9",
    "%F0%9F%98%80",
    "a" * 300,
    "msgbatch_0",
    "file_0",
]
ODD_QUERIES = [
    *("", "?limit=-1", "?limit=abc", "?limit=1001", "?limit=" + "9" * 40, "?after_id=x&before_id=y"),
    *("?before_id=%ff", "?page=zzz", "?page=page_x", "?ids[]=x&limit=2", "?after=abc", "?after=" + "9" * 30),
]
LISTS = [
    "/v1/models",
    "/v1/messages/batches",
    "/v1/files",
    "/v1/skills",
]  # the journal's whole list is megabytes
ID_ROUTES = [
    *(("GET", "/v1/models/{}"), ("GET", "/v1/messages/batches/{}"), ("DELETE", "/v1/messages/batches/{}")),
    *(("POST", "/v1/messages/batches/{}/cancel"), ("GET", "/v1/messages/batches/{}/results")),
    *(("GET", "/v1/files/{}"), ("DELETE", "/v1/files/{}"), ("GET", "/v1/files/{}/content")),
    *(("GET", "/v1/skills/{}"), ("DELETE", "/v1/skills/{}"), ("GET", "/v1/skills/{}/versions")),
    *(("GET", "/v1/skills/{}/versions/latest"), ("GET", "/v1/skills/pdf/versions/{}/content")),
    *(("GET", "/_mockbay/requests/{}"), ("GET", "/_mockbay/requests/{}/scenario")),
]
PART = (
    b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
    b"content-type: text/plain\r\n\r\nhi\r\n"
)
UPLOADS = [
    PART + b"--b--\r\n",  # well-formed
    PART + PART + b"--b--\r\n",  # two files
    PART,  # no closing boundary
    PART[:50],  # cut inside the part's headers
    PART + b"--b",  # cut after a boundary: a part without a name
    b"--b\r\ncontent-type: text/plain\r\n\r\nhi\r\n--b--\r\n",  # no Content-Disposition
    b'--b\r\nContent-Disposition: form-data; name="file"; filename\r\n\r\nhi\r\n--b--\r\n',
    b'--b\r\nContent-Disposition: form-data; name="_charset_"\r\n\r\n' + b"x" * 40 + b"\r\n--b--\r\n",
    PART.replace(b"a.txt", b"\xff.txt").replace(b"text/plain", b"text/\xff") + b"--b--\r\n",
    b"not multipart at all",
]
SKILL_MD = b"---\nname: fuzz\ndescription: d\n---\n# Fuzz\n"
SKILL_PART = b'--b\r\nContent-Disposition: form-data; name="files[]"; filename="fuzz/SKILL.md"\r\n\r\n'
SKILL_UPLOADS = [
    SKILL_PART + SKILL_MD + b"\r\n--b--\r\n",  # well-formed
    SKILL_PART + b"no frontmatter\r\n--b--\r\n",
    SKILL_PART.replace(b"fuzz/SKILL.md", b"../SKILL.md") + SKILL_MD + b"\r\n--b--\r\n",
    SKILL_PART.replace(b"fuzz/SKILL.md", b"\xff/SKILL.md") + SKILL_MD + b"\r\n--b--\r\n",
    SKILL_PART + SKILL_MD,  # no closing boundary
    *UPLOADS,  # the Files API's: no `files[]` part among them
]
MULTIPART = "multipart/form-data; boundary=b"
BROKEN_YAML = [b"name: x\nrules: [", b"- 1", b"\xff\xfe", b"[" * 2000, b"", b"name: x\nturns: 5\n"]


def sometimes_broken(rng: random.Random, base: dict[str, Any]) -> bytes:
    """`base` as is (answered: the pipeline behind the route runs) or broken at a random path."""
    return mutated(rng, base, PATHS_OF[id(base)]) if rng.random() < 0.7 else json.dumps(base).encode()


def route_request(rng: random.Random, tally: Tally) -> tuple[bytes, str, str]:
    """One well-formed HTTP request to a route other than POST /v1/messages: its bytes, its method,
    and the shape its errors take (`bedrock`, else `anthropic`)."""
    kind = rng.choice(
        [
            "list",
            "id",
            "id",
            "batch create",
            "upload",
            "skill upload",
            "bedrock",
            "bedrock",
            "vertex",
            "admin",
        ]
    )
    tally.kinds[f"route: {kind}"] += 1
    if kind == "list":
        return request("GET", rng.choice(LISTS) + rng.choice(ODD_QUERIES)), "GET", "anthropic"
    if kind == "id":
        method, template = rng.choice(ID_ROUTES)
        return request(method, template.format(rng.choice(ODD_IDS))), method, "anthropic"
    if kind == "batch create":
        return request("POST", "/v1/messages/batches", sometimes_broken(rng, BATCH)), "POST", "anthropic"
    if kind == "upload":
        return request("POST", "/v1/files", rng.choice(UPLOADS), content_type=MULTIPART), "POST", "anthropic"
    if kind == "skill upload":
        body = rng.choice(SKILL_UPLOADS)
        return request("POST", "/v1/skills", body, content_type=MULTIPART), "POST", "anthropic"
    if kind == "bedrock":
        model = rng.choice(["claude-sonnet-4-6", *ODD_IDS])
        action = rng.choice(["invoke", "invoke-with-response-stream"])
        return (
            request("POST", f"/model/{model}/{action}", sometimes_broken(rng, BEDROCK_BODY)),
            "POST",
            "bedrock",
        )
    if kind == "vertex":
        verb = rng.choice(["claude-sonnet-4-6:rawPredict", "claude-sonnet-4-6:streamRawPredict"])
        body = sometimes_broken(rng, VERTEX_BODY)
        if rng.random() < 0.3:
            verb, body = "count-tokens:rawPredict", sometimes_broken(rng, COUNT_BODY)
        return request("POST", f"{VERTEX}/{verb}", body), "POST", "anthropic"
    yaml = rng.choice(BROKEN_YAML)  # admin: never a YAML that loads, which would change what answers
    return request("POST", "/_mockbay/scenarios", yaml, content_type="application/yaml"), "POST", "anthropic"


def pipelined_request(rng: random.Random, tally: Tally) -> tuple[bytes, str, str]:
    """One well-formed HTTP request of a random kind, its method and its error shape."""
    roll = rng.random()
    if roll < 0.28:
        tally.kinds["valid"] += 1
        return request("POST", "/v1/messages", valid(rng)), "POST", "anthropic"
    if roll < 0.32:
        tally.kinds["valid, context managed"] += 1
        return request("POST", "/v1/messages", valid(rng, MANAGED), AUTH + MANAGED_BETAS), "POST", "anthropic"
    if roll < 0.56:
        tally.kinds["mutated JSON"] += 1
        return request("POST", "/v1/messages", mutated(rng)), "POST", "anthropic"
    if roll < 0.62:
        tally.kinds["mutated JSON, context managed"] += 1
        body = mutated(rng, MANAGED, MANAGED_PATHS)
        return request("POST", "/v1/messages", body, AUTH + MANAGED_BETAS), "POST", "anthropic"
    if roll < 0.7:
        return route_request(rng, tally)
    if roll < 0.78:
        tally.kinds["broken body"] += 1
        return (
            request("POST", rng.choice(["/v1/messages", "/v1/messages/count_tokens"]), raw_body(rng)),
            "POST",
            "anthropic",
        )
    if roll < 0.86:
        tally.kinds["odd path"] += 1
        method = rng.choice(["GET", "POST", "DELETE", "HEAD", "OPTIONS", "PUT"])
        return request(method, rng.choice(ODD_PATHS), valid(rng)), method, "anthropic"
    if roll < 0.93:
        tally.kinds["odd headers"] += 1
        headers = rng.choice(
            [
                b"x-api-key: k\xff\r\nanthropic-version: 2023-06-01\r\n",
                AUTH + b"anthropic-beta: " + b"b," * 3000 + b"\r\n",
                b"x-api-key: fuzz\r\n",
                AUTH + b"x-mockbay-session: " + b"s" * 8000 + b"\r\n",
                AUTH + b"x-mockbay-scenario: \xed\xbf\xbf\r\n",
                AUTH + b"expect: bogus\r\n",  # aiohttp's own text/plain 417 once
            ]
        )
        return request("POST", "/v1/messages", valid(rng), headers), "POST", "anthropic"
    tally.kinds["count_tokens"] += 1
    return request("POST", "/v1/messages/count_tokens", valid(rng)), "POST", "anthropic"


# -- reading answers -----------------------------------------------------------------------------


async def read_answer(reader: asyncio.StreamReader, method: str) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {
        k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)
    }
    if method == "HEAD" or status in (204, 304):
        return status, headers, b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return status, headers, bytes(body)
            body += await reader.readexactly(size + 2)
            del body[-2:]
    return status, headers, await reader.readexactly(int(headers.get("content-length", "0")))


def judge(
    tally: Tally,
    status: int,
    headers: dict[str, str],
    body: bytes,
    kind: str,
    method: str = "POST",
    shape: str = "anthropic",
) -> None:
    """Count the answer; a 5xx, or an error without its wire's shape (`shape`: Bedrock's
    `{"message"}` named by `x-amzn-RequestId`, else the envelope repeating `request-id`), is a failure."""
    tally.statuses[status] += 1
    if status >= 500:
        tally.server_errors += 1
        tally.note(f"{kind}: {status} {body[:200]!r}")
    if status < 400 or method == "HEAD":  # a HEAD answer has no body, only the request-id header
        return
    try:
        error = json.loads(body)
        if shape == "bedrock":
            ok = isinstance(error["message"], str) and "x-amzn-errortype" in headers
            ok = ok and "x-amzn-requestid" in headers
        else:
            ok = error["type"] == "error" and isinstance(error["error"]["message"], str)
            ok = (
                ok
                and error["request_id"] == headers.get("request-id")
                and error["request_id"].startswith("req_")
            )
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        tally.bad_envelopes += 1
        tally.note(f"{kind}: {status} without the envelope: {headers.get('request-id')} {body[:200]!r}")


# -- the clients ---------------------------------------------------------------------------------


async def pipelining_client(port: int, seed: int, budget: Budget) -> None:
    """Batches of 1..32 well-formed requests on one connection; every one must be answered."""
    rng, tally = random.Random(seed), budget.tally
    while not budget.spent():
        batch = [pipelined_request(rng, tally) for _ in range(rng.choice([1, 1, 4, 16, 32]))]
        tally.requests += len(batch)
        tally.well_formed += len(batch)
        got = 0
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(b"".join(raw for raw, _, _ in batch))
            async with asyncio.timeout(READ_TIMEOUT_S):
                for _, method, shape in batch:
                    status, headers, body = await read_answer(reader, method)
                    got += 1
                    judge(tally, status, headers, body, "pipelined", method, shape)
                    if headers.get("connection", "").lower() == "close":
                        break
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
            tally.note(f"pipelined batch of {len(batch)}: {type(exc).__name__} after {got} answers")
        tally.answered += got
        tally.unanswered += len(batch) - got


GARBAGE = [
    "random bytes",
    "truncated body",
    "broken chunking",
    "broken gzip",
    "huge header",
    "huge request line",
    "bad url",
    "tls hello",
]


def garbage(rng: random.Random, kind: str) -> tuple[bytes, bool]:
    """Bytes of one malformed exchange, and whether an answer must come (else closing is fine)."""
    post = f"POST /v1/messages HTTP/1.1\r\nhost: {HOST}\r\n".encode() + AUTH
    if kind == "random bytes":
        return os.urandom(rng.randrange(1, 4096)), False
    if kind == "truncated body":
        return post + b"content-length: 1000\r\n\r\n" + valid(rng)[:50], False
    if kind == "broken chunking":
        return post + b"transfer-encoding: chunked\r\n\r\n" + rng.choice(
            [b"zz\r\nabc\r\n", b"5\r\nabcdefgh\r\n0\r\n\r\n"]
        ), True
    if kind == "broken gzip":
        return post + b"content-encoding: gzip\r\ncontent-length: 10\r\n\r\nnot gzip!!", True
    if kind == "huge header":
        return b"GET /v1/models HTTP/1.1\r\nhost: x\r\nx-big: " + b"h" * rng.choice(
            [9000, 70_000]
        ) + b"\r\n\r\n", True
    if kind == "huge request line":
        return b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\nhost: x\r\n\r\n", True
    if kind == "bad url":
        return b"GET /\x00\x01 HTTP/1.1\r\nhost: x\r\n\r\n", True
    return b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + os.urandom(64), True


async def one_shot(
    port: int, raw: bytes, must_answer: bool, kind: str, tally: Tally, close_after: bool
) -> None:
    tally.requests += 1
    tally.kinds[kind] += 1
    tally.well_formed += must_answer
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
        writer.write(raw)
        if close_after:
            writer.close()
            return
        async with asyncio.timeout(READ_TIMEOUT_S):
            status, headers, body = await read_answer(reader, "POST")
        judge(tally, status, headers, body, kind)
        tally.answered += must_answer
        writer.close()
    except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError) as exc:
        if must_answer:
            tally.unanswered += 1
            tally.note(f"{kind}: {type(exc).__name__}, no answer")


async def garbage_client(port: int, seed: int, budget: Budget) -> None:
    rng, tally = random.Random(seed), budget.tally
    while not budget.spent():
        kind = rng.choice(GARBAGE)
        raw, must = garbage(rng, kind)
        await one_shot(port, raw, must, kind, tally, close_after=kind == "truncated body")


async def big_client(port: int, seed: int, budget: Budget) -> None:
    """33 MB bodies (declared, then chunked) and a gzip bomb, one at a time, every couple of seconds."""
    rng, tally = random.Random(seed), budget.tally
    bomb = gzip.compress(b" " * (64 * MB), 1)
    chunk = b"x" * MB
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(BIG // MB)) + b"0\r\n\r\n"
    post = f"POST /v1/messages HTTP/1.1\r\nhost: {HOST}\r\n".encode() + AUTH
    kinds = {
        "33 MB declared": post + f"content-length: {BIG}\r\n\r\n".encode() + b"x" * BIG,
        "33 MB chunked": post + b"transfer-encoding: chunked\r\n\r\n" + chunked,
        "gzip bomb": post + f"content-encoding: gzip\r\ncontent-length: {len(bomb)}\r\n\r\n".encode() + bomb,
    }
    while not budget.spent():
        kind = rng.choice(sorted(kinds))
        await one_shot(port, kinds[kind], True, kind, tally, close_after=False)
        await asyncio.sleep(2)


async def slowloris(port: int, budget: Budget, count: int = 64, hold_s: float = 8.0) -> None:
    """Connections that send a header a byte a second, then give up; the server must stay up."""
    tally = budget.tally
    while not budget.spent():
        conns = []
        for _ in range(count):
            with contextlib.suppress(OSError):
                conns.append(await asyncio.open_connection(HOST, port))
        tally.requests += len(conns)
        tally.kinds["slowloris"] += len(conns)
        prefix = b"POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-slow: "
        for _, writer in conns:
            writer.write(prefix)
        held = time.monotonic() + hold_s
        while time.monotonic() < held and not budget.spent():
            for _, writer in conns:
                writer.write(b"z")
            await asyncio.sleep(1)
        for _, writer in conns:
            writer.close()


async def fuzz(port: int, budget: Budget, clients: int, seed: int) -> None:
    tasks = [pipelining_client(port, seed + n, budget) for n in range(clients)]
    tasks += [garbage_client(port, seed + 1000 + n, budget) for n in range(2)]
    tasks += [big_client(port, seed + 2000, budget), slowloris(port, budget)]
    await asyncio.gather(*tasks)


# -- the run -------------------------------------------------------------------------------------


def rss_by_process(pid: int) -> dict[int, int]:
    """The RSS of the server's every process (the supervisor and its `--workers`), by pid."""
    return {process: rss_bytes([process]) for process in tree(pid)}


def sample_rss(
    pid: int, samples: list[tuple[float, int]], started: float, stop: asyncio.Event
) -> asyncio.Task[None]:
    async def sample() -> None:
        while not stop.is_set():
            samples.append((round(time.monotonic() - started, 1), rss_bytes(tree(pid))))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)

    return asyncio.create_task(sample())


async def run(port: int, pid: int, args: argparse.Namespace) -> dict[str, Any]:
    warm, hostile = Tally(), Tally()
    samples: list[tuple[float, int]] = []
    stop = asyncio.Event()
    started = time.monotonic()
    sampler = sample_rss(pid, samples, started, stop)
    warmup = Budget(started + args.warmup, args.warmup_requests * args.workers, warm)
    await fuzz(port, warmup, args.clients, args.seed)
    await asyncio.sleep(2)
    after_warmup = rss_by_process(pid)
    measured = time.monotonic()
    budget = Budget(
        measured + args.seconds,
        args.max_requests,
        hostile,
        at_least=args.min_requests,
        hard_stop=measured + args.max_seconds,
    )
    await fuzz(port, budget, args.clients, args.seed + 10_000)
    elapsed = time.monotonic() - measured
    await asyncio.sleep(2)  # let the last answers and closes settle
    final = rss_by_process(pid)
    stop.set()
    await sampler
    return {
        "warmup_s": round(measured - started, 1),
        "seconds": round(elapsed, 1),
        "clients": args.clients,
        "workers": args.workers,
        "seed": args.seed,
        "rss_after_warmup_mb": round(sum(after_warmup.values()) / MB, 1),
        "rss_final_mb": round(sum(final.values()) / MB, 1),
        "rss_growth_mb": round(max(final.get(p, 0) - rss for p, rss in after_warmup.items()) / MB, 1),
        "processes_lost": sorted(set(after_warmup) - set(final)),
        "rss_peak_mb": round(max(rss for _, rss in samples) / MB, 1),
        "requests_per_second": round(hostile.requests / elapsed),
        "warmup": summary(warm),
        "run": summary(hostile),
        "rss_samples_mb": [(t, round(rss / MB, 1)) for t, rss in samples[:: max(1, len(samples) // 60)]],
    }


def summary(tally: Tally) -> dict[str, Any]:
    data = asdict(tally)
    data["kinds"] = dict(tally.kinds.most_common())
    data["statuses"] = {str(k): v for k, v in sorted(tally.statuses.items())}
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seconds", type=float, default=60.0, help="measured run after the warm-up (default 60)"
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=90.0,
        help="a run short of --min-requests at --seconds goes on until it has them, up to this many "
        "seconds in all (default 90)",
    )
    parser.add_argument(
        "--warmup", type=float, default=60.0, help="warm-up limit in seconds before RSS is taken (default 60)"
    )
    parser.add_argument(
        "--warmup-requests",
        type=int,
        default=25_000,
        help="warm-up ends after this many requests per worker (default 25000: each worker's journal "
        "of 10,000 and memo of 4,096 entries full)",
    )
    parser.add_argument(
        "--max-requests", type=int, default=10**9, help="the measured run ends after this many requests too"
    )
    parser.add_argument("--clients", type=int, default=16, help="pipelining connections (default 16)")
    parser.add_argument(
        "--workers", type=int, default=2, help="the server's `--workers`: its processes (default 2)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--min-requests", type=int, default=200_000, help="requests the run must reach (default 200000)"
    )
    parser.add_argument("--out", default=str(RESULTS / "fuzz.json"), help="where the figures go")
    parser.add_argument(
        "--scenarios",
        help="scenario file or folder to serve (default: the bundled ones, whose faults and slow "
        "stream keep new bodies off the inline pipeline; one with no timing or fault reaches it)",
    )
    args = parser.parse_args()
    port = free_port()
    argv = [
        MOCKBAY,
        "serve",
        "--host",
        HOST,
        "--port",
        str(port),
        "--timing",
        "instant",
        "--workers",
        str(args.workers),
        "--log-level",
        "warning",
        # uploads and batch creates are kept: stores this small are full by the end of the
        # warm-up, so what they hold does not count as growth (their caps are tested elsewhere)
        "--files-max",
        "100",
        "--batches-max",
        "100",
        "--skills-max",
        "100",
        "--diagnostics-max",
        "100",
        *(["--scenarios", args.scenarios] if args.scenarios else []),
    ]
    with running("fuzz", argv, port) as server:
        figures = asyncio.run(run(port, server.proc.pid, args))
        log = server.log.read_text(errors="replace")
        figures["tracebacks_in_log"] = log.count("Traceback")
        figures["server_alive"] = server.proc.poll() is None
    figures["machine"] = {"cores": os.cpu_count(), "load_1m": os.getloadavg()[0]}
    checks = {
        "no 5xx": figures["run"]["server_errors"] + figures["warmup"]["server_errors"] == 0,
        "no bad envelopes": figures["run"]["bad_envelopes"] + figures["warmup"]["bad_envelopes"] == 0,
        "no unanswered well-formed requests": figures["run"]["unanswered"] + figures["warmup"]["unanswered"]
        == 0,
        f"RSS growth < {MAX_RSS_GROWTH_MB} MB in each process": figures["rss_growth_mb"] < MAX_RSS_GROWTH_MB,
        "every server process alive": figures["server_alive"] and not figures["processes_lost"],
        "no tracebacks": figures["tracebacks_in_log"] == 0,
        f"at least {args.min_requests} requests": figures["run"]["requests"] >= args.min_requests,
    }
    figures["checks"] = checks
    RESULTS.mkdir(exist_ok=True)
    with open(args.out, "w") as out:
        json.dump(figures, out, indent=1)
        out.write("\n")
    run_ = figures["run"]
    print(
        f"{run_['requests']} requests in {figures['seconds']} s ({figures['requests_per_second']}/s) after "
        f"{figures['warmup_s']} s warm-up; 5xx {run_['server_errors']}, "
        f"bad envelopes {run_['bad_envelopes']}, unanswered {run_['unanswered']} of {run_['well_formed']} "
        f"well-formed; RSS {figures['rss_after_warmup_mb']} -> {figures['rss_final_mb']} MB "
        f"(--workers {args.workers}; the most one process grew {figures['rss_growth_mb']:+} MB, "
        f"peak {figures['rss_peak_mb']}); "
        f"tracebacks {figures['tracebacks_in_log']}"
    )
    for name, passed in checks.items():
        print(f"  {'ok  ' if passed else 'FAIL'} {name}")
    for example in run_["examples"] + figures["warmup"]["examples"]:
        print(f"  e.g. {example}")
    return 0 if all(checks.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
