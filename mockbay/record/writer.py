"""Recordings as ordinary scenario files (docs/scenario-contract.md §9), written for people to read.

One scenario per conversation (the group the proxy names), one entry per distinct request,
answered by `when: {fingerprint, last_user}`. Turns hold the conversation line: turn N is the latest request
recorded with N assistant messages (turns are chosen by depth, docs/scenario-contract.md §2; the latest is
usually the one that went on, after a failed attempt). Every other request (an earlier attempt,
a second conversation in the group, a depth with a gap before it) becomes a rule with
`when: {fingerprint, last_user, turn}`, so every recorded request replays whatever its depth.
`last_user` repeats what the fingerprint already pins, so it changes nothing in exact replay; with
`--fingerprints loose` the fingerprint is ignored and an entry answers by its last user text and
its turn, so a replay survives edits elsewhere in the prompt. It is left out when scrubbing
changed it (the recorded text would never match again).
The same request recorded again replaces its entry in place: later wins, so a retry that
finally succeeded replays as the success (the proxy's modes decide what is recorded at all).
Files carry a comment with the upstream host (scheme, host and port only), the time and the
recording format version; a file from a newer format is refused rather than misread.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from mockbay.errors import MockbayError
from mockbay.fingerprint import fingerprint
from mockbay.record.exchange import Exchange, reply_for
from mockbay.record.scrub import Scrubber
from mockbay.wire.request import last_user_text, text_of

FORMAT_VERSION = 1
RECORD_NAME_HEADER = "x-mockbay-record-name"
MAX_STEM = 100  # characters of a file name taken from a scenario name
_FORMAT_MARK = re.compile(r"^# .*recording format (\d+)", re.MULTILINE)
_LITERAL_KEYS = frozenset({"text", "thinking", "description", "message"})
_LITERAL_MIN_LENGTH = 80


@dataclass(slots=True)
class Entry:
    """One recorded request: its fingerprint, depth (assistant messages), last user text and reply."""

    fingerprint: str
    turn: int
    reply: dict[str, Any]
    last_user: str | None = None

    def when(self, *, with_turn: bool) -> dict[str, Any]:
        when: dict[str, Any] = {"fingerprint": self.fingerprint}
        if self.last_user is not None:
            when["last_user"] = self.last_user
        if with_turn:
            when["turn"] = self.turn
        return when


@dataclass(slots=True)
class Recording:
    """The content of one scenario file, built up exchange by exchange."""

    name: str
    description: str = ""
    entries: list[Entry] = field(default_factory=list)

    def __contains__(self, request_fingerprint: object) -> bool:
        return any(e.fingerprint == request_fingerprint for e in self.entries)

    def add(self, exchange: Exchange, scrubber: Scrubber) -> Entry:
        """Record one exchange; an entry with the same fingerprint is replaced where it stands."""
        request = exchange.request
        entry = Entry(
            fingerprint(request),
            assistant_turns(request),
            reply_for(exchange, scrubber),
            _last_user(request, scrubber),
        )
        if not self.description:
            self.description = scrubber.text(_describe(request))
        for i, old in enumerate(self.entries):
            if old.fingerprint == entry.fingerprint:
                self.entries[i] = entry
                return entry
        self.entries.append(entry)
        return entry

    def document(self) -> dict[str, Any]:
        """The scenario mapping: name, description, turns (the conversation line), rules (the rest)."""
        latest = {entry.turn: entry for entry in self.entries}
        line = [latest[depth] for depth in range(len(latest)) if all(d in latest for d in range(depth + 1))]
        turns = [{"when": e.when(with_turn=False), "reply": e.reply} for e in line]
        rules = [
            {"when": e.when(with_turn=True), "reply": e.reply}
            for e in sorted(self.entries, key=lambda e: e.turn)
            if e not in line
        ]
        doc: dict[str, Any] = {"name": self.name}
        if self.description:
            doc["description"] = self.description
        if turns:
            doc["turns"] = turns
        if rules:
            doc["rules"] = rules
        return doc

    def to_yaml(self, *, upstream: str, now: datetime) -> str:
        stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        header = (
            f"# Recorded by `mockbay record` from {upstream_host(upstream)} on {stamp}"
            f" (recording format {FORMAT_VERSION}).\n"
            "# Credentials were scrubbed before writing. Each entry answers the request whose fingerprint\n"
            "# it names; replaying needs no upstream and no key. Edit freely.\n"
        )
        return header + document_yaml(self.document())

    @classmethod
    def from_yaml(cls, text: str, source: str) -> Recording:
        """Read back a file this module wrote (for `once` and `new_episodes`), hand edits included."""
        mark = _FORMAT_MARK.search(text)
        if mark and int(mark.group(1)) > FORMAT_VERSION:
            raise MockbayError(f"{source}: recording format {mark.group(1)} is newer than this mockbay's")
        data = yaml.safe_load(text)
        try:
            # rules first: at equal depth the turn is the later entry, so the layout reads back as written
            entries = [
                Entry(r["when"]["fingerprint"], r["when"]["turn"], r["reply"], r["when"].get("last_user"))
                for r in data.get("rules", [])
            ]
            entries += [
                Entry(t["when"]["fingerprint"], i, t["reply"], t["when"].get("last_user"))
                for i, t in enumerate(data.get("turns", []))
            ]
            return cls(data["name"], data.get("description", ""), entries)
        except (AttributeError, KeyError, TypeError) as exc:
            raise MockbayError(
                f"{source}: not a recording (every turn and rule needs a fingerprint): {exc!r}"
            ) from exc


def document_yaml(document: dict[str, Any]) -> str:
    """A scenario mapping as YAML for people: prose as `|` blocks, fingerprints quoted, keys in order."""
    return yaml.dump(_styled(document), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=1 << 20)


def _last_user(request: dict[str, Any], scrubber: Scrubber) -> str | None:
    """The request's last user text, unless scrubbing would change it (it could never match again)."""
    text = last_user_text(_messages_of(request))
    return text if text is not None and scrubber.text(text) == text else None


def assistant_turns(request: dict[str, Any]) -> int:
    """How many assistant messages a request carries: the turn it asks for (docs/scenario-contract.md §2)."""
    return sum(1 for m in _messages_of(request) if isinstance(m, dict) and m.get("role") == "assistant")


def group_name(
    request: dict[str, Any], request_headers: Mapping[str, str], pinned: str | None, scrubber: Scrubber
) -> str:
    """Which scenario an exchange belongs to: the `/s/NAME` pin, the record-name header, or else
    its conversation (model and first user message), readable and stable across runs. The words
    come from the scrubbed text, as the description does: the name is also the file's name and a
    progress line, so a key pasted into the first message must not reach either."""
    if pinned:
        return pinned
    named = {k.lower(): v for k, v in request_headers.items()}.get(RECORD_NAME_HEADER, "").strip()
    if named:
        return named.replace("/", "-")  # a name is also a /s/NAME pin
    first = _first_user(request)
    model = str(request.get("model", "model"))
    digest = hashlib.sha256(json.dumps([model, first], sort_keys=True).encode()).hexdigest()[:8]
    words = re.findall(r"[a-z0-9]+", scrubber.text(text_of(first)).lower())[:5]
    return "-".join(["rec", *words, digest])


def file_name(name: str) -> str:
    """A safe file name for a scenario name (the scenario keeps its name, so pins still work). A
    long one (a pin is any path segment) is cut, with a digest of the whole to keep it apart:
    file systems take 255 bytes, and the writer's temporary name adds to it."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "recording"
    if len(stem) > MAX_STEM:
        stem = f"{stem[:MAX_STEM]}-{hashlib.sha256(name.encode(errors='surrogatepass')).hexdigest()[:8]}"
    return stem + ".yaml"


def upstream_host(url: str) -> str:
    """Scheme, host and port of the upstream: never a user, password, path or query."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}"


def current_umask() -> int:
    """The process umask (reading it means setting it; set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_atomic(path: Path, text: str) -> None:
    """Write beside the target, then rename over it: readers see the old file or the new one. The
    file gets the mode any new file gets (0644 under the usual umask), so a container's other user
    can read a fresh recording."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp's 0600 would hide the file from other users
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _first_user(request: dict[str, Any]) -> Any:
    """The content of the first user message: what names a conversation."""
    messages = _messages_of(request)
    return next((m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"), "")


def _messages_of(request: dict[str, Any]) -> list[Any]:
    """The request's messages, or none where they are not a list: the journal keeps refused bodies
    too, and saving one as a scenario reads it here."""
    messages = request.get("messages")
    return messages if isinstance(messages, list) else []


def _describe(request: dict[str, Any]) -> str:
    text = " ".join(text_of(_first_user(request)).split())
    text = text if len(text) <= 70 else text[:69] + "…"
    return f"Recorded from {request.get('model', 'a model')}: {text}"


# ---- YAML presentation ----------------------------------------------------------------------


class _Literal(str):
    """Shown as a `|` block: prose reads as prose."""

    __slots__ = ()


class _Quoted(str):
    """Always quoted: a hex fingerprint may otherwise read as a number."""

    __slots__ = ()


class _Flow(list[Any]):
    """Shown on one line: a list of numbers reads better as a row than as a column."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    """Block style with list items indented under their key."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


# YAML reads a NEL (U+0085) outside double quotes as a line break, folded or made "\n" on load;
# PyYAML's emitter still writes it bare in `|` blocks and single quotes. Only `"\N"` keeps it.
_NEL = "\x85"


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    # Any other string with a line break is double-quoted: a chunk list stays one item per line.
    quoted = "\n" in data or _NEL in data
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"' if quoted else None)


_Dumper.add_representer(str, _represent_str)
_Dumper.add_representer(_Literal, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style="|"))
_Dumper.add_representer(_Quoted, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s, style='"'))
_Dumper.add_representer(_Flow, lambda d, s: d.represent_sequence("tag:yaml.org,2002:seq", s, flow_style=True))


def _styled(value: Any, key: str | None = None) -> Any:
    """Wrap strings by where they sit; the emitter falls back to quotes where `|` cannot be exact."""
    if isinstance(value, dict):
        return {k: _styled(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return _Flow(value) if key == "gaps_ms" else [_styled(v) for v in value]
    if isinstance(value, str) and key == "fingerprint":
        return _Quoted(value)
    if (
        isinstance(value, str)
        and key in _LITERAL_KEYS
        and ("\n" in value or len(value) > _LITERAL_MIN_LENGTH)
        and _NEL not in value
    ):
        return _Literal(value)
    return value
