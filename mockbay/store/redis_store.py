"""The shared store: Redis, so replicas and `--workers` processes answer as one server.

Every change is one atomic Lua script (mockbay/store/lua/) on Redis's own clock, so a sequence
advances once per request and a rate limit counts every replica's requests, whichever replica a
load balancer picks. Keys start with the namespace (`--state-namespace`), so two mockbays can
share one Redis. Caps are the in-memory ones: `--max-sessions` cursors, `--rate-limit-buckets`
keys, `--cache-entries` cache entries, `--files-max` / `--files-max-mb` files, `--skills-max` /
`--skills-max-mb` skills, `--journal-size` / `--journal-max-mb` of the journal, `--batches-max` /
`--batches-max-mb` batches, `--threads-max` / `--threads-max-mb` threads, `--diagnostics-max` /
`--diagnostics-max-mb` cache-diagnostics fingerprints and `--admin-scenarios-max` /
`--admin-scenarios-max-mb` of the admin-loaded scenario texts (counted over every replica).

Redis unreachable: each call gives up within `CALL_TIMEOUT_S` of time the event loop was free to
wait (a connection refused or closed is retried once, on a fresh one) and the request is
answered 503 `api_error` naming the store; one warning is logged when an outage starts and one
when it ends; the next request after Redis is back succeeds.
So that no call outlasts that on its own, whatever may be large moves about `STEP_BYTES` a call:
a file's bytes, a skill version's archive, a batch's requests and results, a journal entry's JSON
and a journal listing.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import secrets
import struct
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from importlib import resources
from typing import Any, TypeVar
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from mockbay.batches.model import Batch, BatchItem, item_state
from mockbay.config import MB, ServerConfig
from mockbay.files.store import FileInfo, StoredFile
from mockbay.journal import Exchange
from mockbay.lru import key_digest
from mockbay.scenario.model import Limits
from mockbay.skills.model import SkillInfo
from mockbay.store import CursorKey, ScenariosFull, StateStore, StoreUnavailable
from mockbay.store.bounded import Page, StoreFull, page_of
from mockbay.store.loop_timeout import loop_timeout
from mockbay.store.stored_exchange import listed, pack, unpack
from mockbay.usage.cache import TTL_SECONDS, CachePlan, Prefixes, prepare
from mockbay.usage.ratelimit import DIMENSIONS, Bucket, charge, limit_of

log = logging.getLogger("mockbay")

CONNECT_TIMEOUT_S = 1.5  # a connection refused or closed is retried once, on a fresh one
# No request waits on the store longer than this, counting only the time the loop was free to
# wait (mockbay/store/loop_timeout.py): a reply has no socket timeout, which would count the rest.
CALL_TIMEOUT_S = 3.0
SEP = "\x1f"
BATCH_LEASE_S = 5.0  # a batch lock's lifetime, renewed while its holder runs; a dead holder's lapses
BATCH_WAIT_S = 60.0  # how long a read waits for another replica to finish running a batch
BATCH_POLL_S = 0.01
# Named apart from the layouts of earlier versions ("files", "files:order": one field a file;
# "files:meta", "files:ids", "files:content", "files:held": its bytes in one hash field), which a
# replica of this one would misread: a Redis that outlives an upgrade keeps those unread. A
# file's bytes are a string of their own, written and read in steps of STEP_BYTES, so that no
# call moves more than its timeout allows.
FILE_KEYS = ("files:info", "files:list", "files:total")
# The journal's keys, in the order its scripts take them (mockbay/store/lua/journal_record.lua)
JOURNAL_KEYS = (
    "journal",
    "journal:by-seq",
    "journal:bytes",
    "journal:by-record",
    "journal:recorded",
    "journal:unmatched",
    "journal:apart",
)
# + an exchange's id: its journal JSON when larger than a step, written in steps like a file's bytes
# (mockbay/store/lua/journal_record.lua)
JOURNAL_TEXT = "journal:text:"
FILE_DATA = "files:data:"  # + a file's id: its bytes (mockbay/store/lua/file_put.lua)
SKILL_KEYS = ("skills:info", "skills:list", "skills:total")
SKILL_DATA = "skills:data:"  # + a version's id: its archive (mockbay/store/lua/skill_put.lua)
# Likewise apart from the one-hash layout ("batches", "batches:order", "batches:bytes") in which a
# status read took the whole batch; each batch's requests and results have lists of their own
# under BATCH_PREFIX (mockbay/store/lua/batch_forget.lua has the layout).
BATCH_KEYS = ("batches:meta", "batches:ids", "batches:held", "batches:sizes")
BATCH_PREFIX = "batches:"
# What one call moves at most, about (a file's bytes, a batch's requests or results, a journal
# entry's JSON or a listing's), so that no call comes near CALL_TIMEOUT_S: some 50 ms a step on
# loopback on a busy machine.
STEP_BYTES = 4 * MB
STAGED_MS = 60_000  # the lifetime of an upload's or a create's stored steps until kept, renewed by each
T = TypeVar("T")
S = TypeVar("S")


def display_name(url: str) -> str:
    """The URL without credentials: what messages and logs may show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _script(name: str, *preludes: str) -> str:
    """A script's text after the helpers it uses (EVAL has no imports)."""
    lua = resources.files("mockbay.store").joinpath("lua")
    return "\n".join(lua.joinpath(f"{part}.lua").read_text() for part in (*preludes, name))


class RedisStore(StateStore):
    """State in one Redis database under `namespace:`; see the module docstring."""

    def __init__(self, config: ServerConfig, install: Callable[[list[str]], None]) -> None:
        """`install` puts the shared admin-loaded scenario texts (in load order) into this process."""
        self.name = display_name(config.state)
        self._install = install
        self._scenarios_version = 0
        self._config = config
        self._client = aioredis.Redis.from_url(
            config.state,
            socket_connect_timeout=CONNECT_TIMEOUT_S,
            retry=Retry(NoBackoff(), 1),  # a connection Redis closed (a restart) is retried once
        )
        ns = config.state_namespace
        self._keys = {
            name: f"{ns}:{name}"
            for name in (
                "cursors",
                "cursors:used",
                "ratelimits",
                "ratelimits:used",
                "cache:expiry",
                "cache:ttl",
                *JOURNAL_KEYS,
                *FILE_KEYS,
                "threads",
                "threads:order",
                "threads:bytes",
                "fingerprints",
                "fingerprints:order",
                "fingerprints:bytes",
            )
        }
        # Never reset: request ids stay unique, and loaded scenarios stay loaded, as in memory.
        self._begin_keys = [f"{ns}:seq", f"{ns}:scenarios:version"]
        self._scenarios_key = f"{ns}:scenarios"
        self._begin = self._client.register_script(_script("begin"))
        self._add_scenarios = self._client.register_script(_script("add_scenarios"))
        self._advance = self._client.register_script(_script("advance", "recent"))
        self._ratelimit = self._client.register_script(_script("ratelimit", "recent"))
        self._cache_live = self._client.register_script(_script("cache_live"))
        self._cache_commit = self._client.register_script(_script("cache_commit"))
        self._journal_record = self._client.register_script(_script("journal_record", "journal_forget"))
        self._journal_since = self._client.register_script(_script("journal_since", "journal_texts"))
        self._journal_unmatched = self._client.register_script(_script("journal_unmatched", "journal_texts"))
        self._journal_clear = self._client.register_script(_script("journal_clear"))
        self._file_put = self._client.register_script(_script("file_put"))
        self._file_delete = self._client.register_script(_script("file_delete"))
        self._file_reset = self._client.register_script(_script("file_reset"))
        self._skill_put = self._client.register_script(_script("skill_put"))
        self._skill_drop_version = self._client.register_script(_script("skill_drop_version"))
        self._skill_forget = self._client.register_script(_script("skill_forget"))
        self._bounded_put = self._client.register_script(_script("bounded_put"))
        self._batch_put = self._client.register_script(_script("batch_put", "batch_forget"))
        self._batch_stage = self._client.register_script(_script("batch_stage"))
        self._batch_delete = self._client.register_script(_script("batch_delete", "batch_forget"))
        self._batch_reset = self._client.register_script(_script("batch_reset", "batch_forget"))
        self._unlock = self._client.register_script(_script("unlock"))
        self._renew = self._client.register_script(_script("renew"))
        self._batch_keys = [f"{ns}:{name}" for name in BATCH_KEYS]
        self._batch_prefix = f"{ns}:{BATCH_PREFIX}"
        self._thread_keys = [self._keys[k] for k in ("threads", "threads:order", "threads:bytes")]
        self._fingerprint_keys = [
            self._keys[k] for k in ("fingerprints", "fingerprints:order", "fingerprints:bytes")
        ]
        self._file_keys = [self._keys[k] for k in FILE_KEYS]
        self._file_data = f"{ns}:{FILE_DATA}"
        self._skill_keys = [f"{ns}:{name}" for name in SKILL_KEYS]
        self._skill_data = f"{ns}:{SKILL_DATA}"
        self._journal_keys = [self._keys[k] for k in JOURNAL_KEYS]
        self._journal_text = f"{ns}:{JOURNAL_TEXT}"
        self._outage = False

    async def _call(self, action: Awaitable[T]) -> T:
        """Run one Redis call, turning any failure into the 503, logged once per outage."""
        try:
            async with loop_timeout(CALL_TIMEOUT_S):
                result = await action
        except (RedisError, OSError, TimeoutError) as exc:
            reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if not self._outage:
                self._outage = True
                log.warning(
                    "state store %s is unavailable (%s); answering 503 until it is back", self.name, reason
                )
            raise StoreUnavailable(self.name, reason) from None
        if self._outage:
            self._outage = False
            log.warning("state store %s is reachable again", self.name)
        return result

    async def check(self) -> None:
        """Ping at startup: an unreachable store is logged (once), not fatal; it may come up later."""
        with contextlib.suppress(StoreUnavailable):
            await self._call(self._client.ping())

    async def next_sequence(self) -> int:
        return (await self.next_sequences(1))[0]

    async def next_sequences(self, count: int) -> list[int]:
        last, version = await self._call(self._begin(keys=self._begin_keys, args=[count]))
        if version != self._scenarios_version:
            await self._catch_up(int(version))
        return list(range(int(last) - count + 1, int(last) + 1))

    async def refresh_scenarios(self) -> None:
        version = int(await self._call(self._client.get(self._begin_keys[1])) or 0)
        if version != self._scenarios_version:
            await self._catch_up(version)

    async def _catch_up(self, version: int) -> None:
        """Install the admin-loaded scenarios another replica (or this one) added since we looked."""
        texts = await self._call(self._client.lrange(self._scenarios_key, 0, -1))
        self._install([_text(text) for text in texts])
        self._scenarios_version = version

    async def add_scenarios(self, text: str) -> None:
        keys = [self._scenarios_key, self._begin_keys[1], f"{self._scenarios_key}:bytes"]
        max_loads, max_mb = self._config.admin_scenarios_max, self._config.admin_scenarios_max_mb
        args: list[str | int] = [text, max_loads, max_mb * MB]
        if not await self._call(self._add_scenarios(keys=keys, args=args)):
            raise ScenariosFull(max_loads, max_mb)
        # This process installs them itself; its next request catches up with the shared list.

    async def advance(self, key: CursorKey) -> int:
        keys = [self._keys["cursors"], self._keys["cursors:used"]]
        field = key_digest(SEP.join(key))  # as in memory: a fixed size, whatever the session header
        position = await self._call(self._advance(keys=keys, args=[field, self._config.max_sessions]))
        return int(position)

    async def _buckets(
        self, bucket: str, limits: Limits, action: str, amount: int
    ) -> tuple[dict[Any, Bucket], float]:
        caps = [limit_of(limits, d) or 0 for d in DIMENSIONS]
        keys = [self._keys["ratelimits"], self._keys["ratelimits:used"]]
        field = key_digest(bucket)  # as in memory: no API key kept, whatever its length
        args: list[bytes | str | int] = [field, self._config.rate_limit_buckets, *caps, action, amount]
        now, *levels = struct.unpack("<7d", await self._call(self._ratelimit(keys=keys, args=args)))
        buckets = {
            dimension: Bucket(int(levels[2 * i]), levels[2 * i + 1], now)
            for i, dimension in enumerate(DIMENSIONS)
            if levels[2 * i]
        }
        return buckets, now

    async def admit(self, bucket: str, limits: Limits, input_tokens: int) -> dict[str, str]:
        buckets, now = await self._buckets(bucket, limits, "admit", input_tokens)
        return charge(buckets, input_tokens, now)  # the script decided the same on the same numbers

    async def settle(self, bucket: str, limits: Limits, output_tokens: int) -> None:
        await self._buckets(bucket, limits, "settle", output_tokens)

    async def cache_plan(self, scope: str, body: Mapping[str, Any], model: str) -> CachePlan:
        prefixes = prepare(scope, body, model, {})
        if isinstance(prefixes, CachePlan):
            return prefixes
        return prefixes.plan((await self._live(prefixes)).__contains__)

    async def _live(self, prefixes: Prefixes) -> set[str]:
        asked = sorted(prefixes.candidates())
        flags = await self._call(self._cache_live(keys=[self._keys["cache:expiry"]], args=asked))
        return {key for key, flag in zip(asked, flags, strict=True) if flag}

    async def cache_commit(self, plan: CachePlan) -> None:
        written = [item for key, ttl in plan.writes for item in (key, TTL_SECONDS[ttl])]
        args = [self._config.cache_entries, len(plan.refresh), *plan.refresh, *written]
        keys = [self._keys["cache:expiry"], self._keys["cache:ttl"]]
        await self._call(self._cache_commit(keys=keys, args=args))

    async def file_put(self, stored: StoredFile) -> None:
        config, file_id, content = self._config, stored.info.id, stored.content
        data = f"{self._file_data}{file_id}"
        await self._put_steps(data, content)
        meta = json.dumps(dataclasses.asdict(stored.info))
        args: list[str | int] = [file_id, meta, config.files_max, config.files_max_mb * MB, len(content)]
        kept = await self._call(self._file_put(keys=[*self._file_keys, data], args=args))
        if kept == -1:
            raise StoreUnavailable(self.name, f"the bytes of upload {file_id} lapsed before it was kept")
        if not kept:
            raise StoreFull(file_id)

    async def file_get(self, file_id: str) -> FileInfo | None:
        meta = await self._call(self._client.hget(self._file_keys[0], file_id))
        return None if meta is None else _file_info(meta)

    async def file_content(self, file_id: str) -> bytes | None:
        """Its first step read with its size, then the rest a step a call; None for a file
        deleted meanwhile (a short read)."""
        data = f"{self._file_data}{file_id}"
        pipe = self._client.pipeline(transaction=True)
        pipe.hexists(self._file_keys[0], file_id)
        pipe.strlen(data)
        pipe.getrange(data, 0, STEP_BYTES - 1)
        held, size, first = await self._call(pipe.execute())
        return await self._rest_of(data, size, first) if held else None

    async def _put_steps(self, key: str, data: bytes) -> None:
        """`data` into the string `key` a step a call, kept `STAGED_MS` from each step until a
        script keeps it for good (SETRANGE: a step retried is written once)."""
        view = memoryview(data)
        for start in range(0, len(data), STEP_BYTES):
            pipe = self._client.pipeline(transaction=True)
            pipe.setrange(key, start, view[start : start + STEP_BYTES])
            pipe.pexpire(key, STAGED_MS)
            await self._call(pipe.execute())

    async def _string_in_steps(self, key: str) -> bytes | None:
        """The string `key`, never empty when held, read a step a call with its length first;
        None when it is absent or went meanwhile."""
        pipe = self._client.pipeline(transaction=True)
        pipe.strlen(key)
        pipe.getrange(key, 0, STEP_BYTES - 1)
        size, first = await self._call(pipe.execute())
        return await self._rest_of(key, size, first) if size else None

    async def _rest_of(self, key: str, size: int, first: bytes) -> bytes | None:
        """The string `key` of `size` bytes whose first step was read already, the rest a step a
        call; None when it went meanwhile (a short read)."""
        steps = [first]
        for start in range(STEP_BYTES, size, STEP_BYTES):
            read: Awaitable[Any] = self._client.getrange(key, start, start + STEP_BYTES - 1)
            steps.append(await self._call(read))
        content = b"".join(steps)
        return content if len(content) == size else None

    async def file_delete(self, file_id: str) -> None:
        keys = [*self._file_keys, f"{self._file_data}{file_id}"]
        await self._call(self._file_delete(keys=keys, args=[file_id]))

    async def file_page(self, limit: int, after_id: str | None, before_id: str | None) -> Page[FileInfo]:
        order = await self._call(self._client.lrange(self._file_keys[1], 0, -1))
        newest_first = [_text(file_id) for file_id in reversed(order)]
        chosen, has_more = page_of(newest_first, limit, after_id, before_id)
        metas = await self._call(self._client.hmget(self._file_keys[0], chosen)) if chosen else []
        return Page([_file_info(meta) for meta in metas if meta is not None], has_more)

    async def skill_put(self, info: SkillInfo, version_id: str, archive: bytes) -> None:
        config, data = self._config, f"{self._skill_data}{version_id}"
        await self._put_steps(data, archive)
        args: list[str | int] = [
            info.id,
            info.dumps(),
            config.skills_max,
            config.skills_max_mb * MB,
            len(archive),
        ]
        kept = await self._call(self._skill_put(keys=[*self._skill_keys, data], args=args))
        if kept == -1:
            raise StoreUnavailable(
                self.name, f"the archive of skill version {version_id} lapsed before it was kept"
            )
        if not kept:
            raise StoreFull(info.id)

    async def skill_get(self, skill_id: str) -> SkillInfo | None:
        meta = await self._call(self._client.hget(self._skill_keys[0], skill_id))
        return None if meta is None else SkillInfo.loads(meta)

    async def skill_archive(self, skill_id: str, version_id: str) -> bytes | None:
        """Read in steps as a file's bytes are; None for a version deleted meanwhile (a zip is
        never empty, so an absent key is told by its length)."""
        return await self._string_in_steps(f"{self._skill_data}{version_id}")

    async def skill_drop_version(self, info: SkillInfo, version_id: str) -> None:
        keys = [*self._skill_keys, f"{self._skill_data}{version_id}"]
        await self._call(self._skill_drop_version(keys=keys, args=[info.id, info.dumps()]))

    async def skill_delete(self, skill_id: str) -> None:
        await self._call(self._skill_forget(keys=self._skill_keys, args=[self._skill_data, skill_id]))

    async def skill_page(self, limit: int, after_id: str | None) -> Page[SkillInfo]:
        order = await self._call(self._client.lrange(self._skill_keys[1], 0, -1))
        chosen, has_more = page_of([_text(skill_id) for skill_id in reversed(order)], limit, after_id, None)
        metas = await self._call(self._client.hmget(self._skill_keys[0], chosen)) if chosen else []
        return Page([SkillInfo.loads(meta) for meta in metas if meta is not None], has_more)

    async def batch_create(self, batch: Batch, items: list[BatchItem]) -> None:
        requests, staged = self._batch_list("requests", batch.id), 0
        for step in _steps([json.dumps(item_state(item)) for item in items], len):
            await self._call(self._batch_stage(keys=[requests], args=[staged, STAGED_MS, *step]))
            staged += len(step)
        await self._batch_store(batch, "new", [])

    async def batch_get(self, batch_id: str) -> Batch | None:
        stored = await self._call(self._client.hget(self._batch_keys[0], batch_id))
        return Batch.from_state(json.loads(stored)) if stored is not None else None

    async def batch_items(self, batch: Batch, start: int, stop: int) -> list[BatchItem]:
        stored = await self._batch_lines("requests", batch.id, start, stop, batch.body_bytes / batch.count)
        return [BatchItem(**json.loads(item)) for item in stored]

    async def batch_done(self, batch: Batch, lines: list[bytes]) -> bool:
        return await self._batch_store(batch, "results", lines)

    async def _batch_store(self, batch: Batch, change: str, lines: list[bytes]) -> bool:
        """The summary kept (`change`: "new" or "results") and `lines` appended to its results."""
        config = self._config
        args: list[str | bytes | int] = [self._batch_prefix, batch.id, json.dumps(batch.to_state()), change]
        args += [batch.size, config.batches_max, config.batches_max_mb * MB, *lines]
        return bool(await self._call(self._batch_put(keys=self._batch_keys, args=args)))

    async def batch_results(self, batch: Batch) -> list[bytes]:
        return await self._batch_lines(
            "results", batch.id, 0, batch.done, batch.result_bytes / max(batch.done, 1)
        )

    async def _batch_lines(self, name: str, batch_id: str, start: int, stop: int, size: float) -> list[bytes]:
        """Lines `start` to before `stop` of one of a batch's lists, about `STEP_BYTES` a call
        (`size`: a line's mean size); fewer at the end of the list."""
        key, step = self._batch_list(name, batch_id), max(1, int(STEP_BYTES / max(size, 1)))
        lines: list[bytes] = []
        for first in range(start, stop, step):
            read = await self._call(self._client.lrange(key, first, min(stop, first + step) - 1))
            lines += [line.encode() if isinstance(line, str) else line for line in read]  # bytes, in fact
            if len(read) < min(step, stop - first):
                break
        return lines

    def _batch_list(self, name: str, batch_id: str) -> str:
        return f"{self._batch_prefix}{name}:{batch_id}"

    async def batch_delete(self, batch_id: str) -> None:
        await self._call(self._batch_delete(keys=self._batch_keys, args=[self._batch_prefix, batch_id]))

    async def batch_page(self, limit: int, after_id: str | None, before_id: str | None) -> Page[Batch]:
        order = await self._call(self._client.lrange(self._batch_keys[1], 0, -1))
        chosen, has_more = page_of([_text(i) for i in reversed(order)], limit, after_id, before_id)
        stored = await self._call(self._client.hmget(self._batch_keys[0], chosen)) if chosen else []
        return Page([Batch.from_state(json.loads(s)) for s in stored if s is not None], has_more)

    @contextlib.asynccontextmanager
    async def batch_running(self, batch: Batch) -> AsyncIterator[object]:
        """A lock in Redis (SET NX with a lifetime, released only by its holder), polled while
        another replica holds it. Its holder renews it while it runs the batch, however long that
        takes, so the lifetime is short: a replica that dies holding it (or loses Redis for a
        moment) holds up the batch's readers for `BATCH_LEASE_S`, not for as long as a run may take."""
        key, token = self._batch_list("running", batch.id), secrets.token_hex(8)
        lease_ms = int(BATCH_LEASE_S * 1000)
        deadline = asyncio.get_running_loop().time() + BATCH_WAIT_S
        while not await self._call(self._client.set(key, token, nx=True, px=lease_ms)):
            if asyncio.get_running_loop().time() > deadline:
                raise StoreUnavailable(self.name, f"batch {batch.id} stayed locked by another replica")
            await asyncio.sleep(BATCH_POLL_S)
        renewing = asyncio.create_task(self._keep_lock(key, token, lease_ms))
        try:
            yield batch
        finally:
            renewing.cancel()
            with contextlib.suppress(StoreUnavailable):
                await self._call(self._unlock(keys=[key], args=[token]))

    async def _keep_lock(self, key: str, token: str, lease_ms: int) -> None:
        """Renew a held lock a few times within each lifetime, until cancelled."""
        while True:
            await asyncio.sleep(lease_ms / 3000)
            with contextlib.suppress(StoreUnavailable):  # the next renewal may still be in time
                await self._call(self._renew(keys=[key], args=[token, lease_ms]))

    async def thread_put(self, message_id: str, held: str) -> None:
        config = self._config
        args: list[str | int] = [message_id, held, config.threads_max, config.threads_max_mb * MB]
        await self._call(self._bounded_put(keys=self._thread_keys, args=args))

    async def thread_get(self, message_id: str) -> str | None:
        held = await self._call(self._client.hget(self._keys["threads"], message_id))
        return None if held is None else _text(held)

    async def fingerprint_put(self, message_id: str, fingerprint: str) -> None:
        config = self._config
        args: list[str | int] = [
            message_id,
            fingerprint,
            config.diagnostics_max,
            config.diagnostics_max_mb * MB,
        ]
        await self._call(self._bounded_put(keys=self._fingerprint_keys, args=args))

    async def fingerprint_get(self, message_id: str) -> str | None:
        held = await self._call(self._client.hget(self._keys["fingerprints"], message_id))
        return None if held is None else _text(held)

    async def record(self, *exchanges: Exchange) -> None:
        """In calls of about `STEP_BYTES` of JSON each; an entry larger than that is written
        apart beforehand, in steps, so that no call outlasts its timeout."""
        entries: list[tuple[Exchange, bytes, int]] = []
        for exchange in exchanges:
            text = pack(exchange).encode()
            if len(text) > STEP_BYTES:
                await self._put_steps(f"{self._journal_text}{exchange.request_id}", text)
                entries.append((exchange, b"", len(text)))
            else:
                entries.append((exchange, text, len(text)))
        config = self._config
        for step in _steps(entries, lambda entry: len(entry[1])):
            args: list[bytes | str | int] = [
                config.journal_size,
                config.journal_max_bytes,
                self._journal_text,
            ]
            for exchange, text, size in step:
                args += [exchange.request_id, text, exchange.seq, int(exchange.unmatched), size]
            if step and await self._call(self._journal_record(keys=self._journal_keys, args=args)):
                raise StoreUnavailable(self.name, "a journal entry's JSON lapsed before it was kept")

    async def exchanges(self, after: int = -1) -> list[dict[str, Any]]:
        args: list[str | int] = [after, self._journal_text, STEP_BYTES]
        found = await self._call(self._journal_since(keys=self._journal_keys, args=args))
        return [listed(json.loads(text)) for text in await self._journal_texts(*found)]

    async def unmatched(self) -> list[dict[str, Any]]:
        args: list[str | int] = [self._journal_text, STEP_BYTES]
        found = await self._call(self._journal_unmatched(keys=self._journal_keys, args=args))
        return [listed(json.loads(text)) for text in await self._journal_texts(*found)]

    async def _journal_texts(self, texts: list[bytes], rest: list[Any]) -> list[bytes]:
        """The entries a listing script found (journal_texts.lua): those it read, then the rest
        read about `STEP_BYTES` a call; those evicted meanwhile left out."""
        triples = [(_text(rest[i]), int(rest[i + 1]), int(rest[i + 2])) for i in range(0, len(rest), 3)]
        texts = list(texts)
        for step in _steps(triples, lambda triple: triple[1]):
            ids = [request_id for request_id, _, apart in step if not apart]
            read = dict(zip(ids, await self._hmget(ids), strict=True)) if ids else {}
            for request_id, _, apart in step:
                text = await self._apart_text(request_id) if apart else read[request_id]
                texts += [] if text is None else [text]
        return texts

    async def _hmget(self, ids: list[str]) -> list[Any]:
        """The JSON of these journal entries (None for one evicted), in one call."""
        hashed: Awaitable[list[Any]] = self._client.hmget(self._keys["journal"], ids)
        return await self._call(hashed)

    async def _apart_text(self, request_id: str) -> bytes | None:
        """The JSON of an entry held apart, a step a call; None for one evicted meanwhile."""
        return await self._string_in_steps(f"{self._journal_text}{request_id}")

    async def exchange(self, request_id: str) -> Exchange | None:
        text = await self._call(self._client.hget(self._keys["journal"], request_id))  # keyed by id
        if text == b"":
            text = await self._apart_text(request_id)
        return None if text is None else unpack(json.loads(text))

    async def clear_journal(self) -> None:
        await self._call(self._journal_clear(keys=self._journal_keys, args=[self._journal_text]))

    async def reset(self) -> None:
        pipe = self._client.pipeline(transaction=True)
        await self._batch_reset(keys=self._batch_keys, args=[self._batch_prefix], client=pipe)
        await self._file_reset(keys=self._file_keys, args=[self._file_data], client=pipe)
        await self._skill_forget(keys=self._skill_keys, args=[self._skill_data], client=pipe)
        await self._journal_clear(keys=self._journal_keys, args=[self._journal_text], client=pipe)
        pipe.delete(*self._keys.values())
        await self._call(pipe.execute())

    async def close(self) -> None:
        await self._client.aclose()


def _text(value: bytes | str) -> str:
    return value if isinstance(value, str) else value.decode()


def _steps(items: list[S], size: Callable[[S], int]) -> list[list[S]]:
    """`items` in order, in steps of about `STEP_BYTES` by `size` (at least one item each, so one
    larger than a step is alone in its own)."""
    steps: list[list[S]] = [[]]
    total = 0
    for item in items:
        if steps[-1] and total + size(item) > STEP_BYTES:
            steps.append([])
            total = 0
        steps[-1].append(item)
        total += size(item)
    return steps


def _file_info(meta: bytes | str) -> FileInfo:
    """A file's metadata from the JSON `file_put` keeps for it."""
    return FileInfo(**json.loads(meta))
