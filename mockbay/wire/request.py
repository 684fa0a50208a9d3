"""`MessagesRequest`: a validated `POST /v1/messages` body plus the facts matching needs.

Built once per request by `wire.validate` with what validation found (model, max_tokens, tool names
and choice, thinking); the facts read from the texts (system and message texts, the last user text,
the turn, the tool results, stop sequences, metadata, the files it names) and its fingerprint are
computed on first read and kept, so a request pays only for those its scenarios and reply read
(computing them all, with the placeholders' values, cost a distinct request 4.8% of its
instructions, by callgrind), and once for those that several steps read. Stdlib only at import (the
fingerprint's module, the model catalog and the beta reader are imported when first asked for).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, TypeVar, overload

T = TypeVar("T")


class cached_fact(Generic[T]):
    """`functools.cached_property` without the lock Python 3.11's takes on every first read (3.12
    dropped it): a distinct request reads four facts, and the locks cost 13 k of its 1,017 k
    instructions (callgrind, 1.3%). A request is read by one thread.

    It defines no `__set__`, so once the value is in the instance's `__dict__`, attribute lookup
    finds it there and never calls `__get__` again."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self._compute = compute
        self._name = compute.__name__
        self.__doc__ = compute.__doc__

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> cached_fact[T]: ...

    @overload
    def __get__(self, instance: object, owner: type[Any] | None = None) -> T: ...

    def __get__(self, instance: object | None, owner: type[Any] | None = None) -> T | cached_fact[T]:
        if instance is None:
            return self
        value = self._compute(instance)
        instance.__dict__[self._name] = value
        return value


class Origin(NamedTuple):
    """Where a request came from, beside its body: its session, the scenario it pins, its wire."""

    session: str = ""
    pinned: str | None = None
    platform: str = "anthropic"  # the wire it came in on (mockbay.platforms.PLATFORMS)


FIRST_PARTY = Origin()


@dataclass(frozen=True, slots=True, kw_only=True)
class ToolResultView:
    """A tool_result block of the last user message, with the name of the tool_use it answers."""

    tool_use_id: str
    name: str | None
    content_text: str
    is_error: bool


class LoadedSkill(NamedTuple):
    """A skill a request's `container.skills` loads, as asked (the SDK's `SkillParams`)."""

    type: str | None  # None where lenient validation let an entry without one through
    skill_id: str
    version: str  # a version id, or "latest"


THINKING_BLOCKS = frozenset({"thinking", "redacted_thinking"})
FORCED_TOOL_CHOICES = frozenset({"any", "tool"})  # `tool_choice` types that force a tool call
CONTEXT_1M_BETA = "context-1m-2025-08-07"
FALLBACK_CREDIT_BETA = (
    "fallback-credit-"  # the SDK's refusal-fallback middleware sends fallback-credit-2026-07-01
)
CONTEXT_1M = 1_000_000
# Under this beta every reply reports `input_transformations` (docs/wire-notes.md).
THINKING_BINDING_BETA = "thinking-binding-controls-"


@dataclass(frozen=True, kw_only=True)
class MessagesRequest:
    """A request body that passed validation, with derived lookups.

    `body` is the parsed JSON exactly as sent. `headers` has lower-cased names.

    Memo: each derived fact is a `cached_fact`, computed from `body` on first read. That is
    safe because the request is frozen and nothing changes its body once validated (the journal,
    the memo and the renderers only read it). No `slots`: the cached facts live in the instance's
    `__dict__`, which `cached_fact` writes past the frozen `__setattr__`.
    """

    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    model: str
    max_tokens: int
    stream: bool
    tool_names: tuple[str, ...]
    tool_choice: str | None
    tool_choice_name: str | None
    thinking: bool
    session: str = ""
    pinned: str | None = None
    platform: str = "anthropic"  # the wire it came in on (mockbay.platforms.PLATFORMS)
    # the version each of `container_skills` resolves to, once the skill store has answered
    # (mockbay/skills/sources.py); the reply's `container.skills` reports it
    skill_versions: dict[LoadedSkill, str] = field(default_factory=dict)

    @cached_fact
    def system_text(self) -> str:
        return text_of(self.body.get("system"))

    @cached_fact
    def last_user_text(self) -> str | None:
        return last_user_text(self.body["messages"])

    @cached_fact
    def message_texts(self) -> tuple[str, ...]:
        return tuple(text_of(m["content"]) for m in self.body["messages"])

    @cached_fact
    def turn(self) -> int:
        """Assistant messages so far."""
        return sum(m["role"] == "assistant" for m in self.body["messages"])

    @cached_fact
    def tool_results(self) -> tuple[ToolResultView, ...]:
        return tool_results_of(self.body["messages"])

    @cached_fact
    def stop_sequences(self) -> tuple[str, ...]:
        return tuple(self.body.get("stop_sequences") or ())

    @cached_fact
    def fingerprint(self) -> str:
        """The body's stable hash (`mockbay.fingerprint`): matching, ids and generated text read it."""
        from mockbay.fingerprint import fingerprint  # it reads the block kinds, which import this module

        return fingerprint(self.body)

    @cached_fact
    def file_ids(self) -> tuple[str, ...]:
        """The file ids its messages name, in order: each must be in the file store."""
        return tuple(file_ids_of(self.body["messages"]))

    @cached_fact
    def container_skills(self) -> tuple[LoadedSkill, ...]:
        """Each skill its `container` loads, `version` "latest" when not given."""
        container = self.body.get("container")
        skills = container.get("skills") if isinstance(container, dict) else None
        if not isinstance(skills, list):  # most requests: nothing to read
            return ()
        return tuple(
            LoadedSkill(
                _text_or_none(skill.get("type")), skill["skill_id"], str(skill.get("version") or "latest")
            )
            for skill in skills
            if isinstance(skill, dict) and isinstance(skill.get("skill_id"), str)
        )

    @cached_fact
    def custom_skills(self) -> tuple[LoadedSkill, ...]:
        """The `custom` skills its `container` loads: each must be held."""
        if not self.container_skills:
            return ()
        return tuple(skill for skill in self.container_skills if skill.type == "custom")

    @cached_fact
    def betas(self) -> tuple[str, ...]:
        """Its `anthropic-beta` entries, read once for the facts that look for one."""
        from mockbay.wire.strict import beta_entries  # imported here: this module's imports are stdlib only

        return beta_entries(self.headers)

    @cached_fact
    def fallback_credit(self) -> bool:
        """Whether `anthropic-beta` names the fallback-credit beta: a refusal then carries a credit."""
        betas = self.betas
        return bool(betas) and any(entry.startswith(FALLBACK_CREDIT_BETA) for entry in betas)

    @cached_fact
    def reports_input_transformations(self) -> bool:
        """Whether `anthropic-beta` names the thinking-binding beta: the reply then says which of
        the request's thinking blocks were dropped or let through (`input_transformations`)."""
        betas = self.betas
        return bool(betas) and any(entry.startswith(THINKING_BINDING_BETA) for entry in betas)

    @cached_fact
    def thinking_shown(self) -> bool:
        """False under `thinking.display: omitted`: thinking blocks then carry only their signature."""
        thinking = self.body.get("thinking")
        return not (isinstance(thinking, dict) and thinking.get("display") == "omitted")

    @cached_fact
    def context_window(self) -> int | None:
        """The model's context window in tokens (None for a model not in the catalog): the
        catalog's, or 1M under the `context-1m` beta (docs/wire-notes.md)."""
        from mockbay.wire.models import find_model  # imported here: this module's imports are stdlib only

        info = find_model(self.model)
        if info is None:
            return None
        if CONTEXT_1M_BETA in self.betas:
            return max(info.max_input_tokens, CONTEXT_1M)
        return info.max_input_tokens

    @cached_fact
    def metadata_user_id(self) -> str | None:
        metadata = self.body.get("metadata") or {}
        user_id: str | None = metadata.get("user_id")
        return user_id


def blocks_of(message: dict[str, Any]) -> list[dict[str, Any]]:
    """String content is one text block: the rules and the view then read blocks alike."""
    content = message["content"]
    return [{"type": "text", "text": content}] if isinstance(content, str) else content


def text_of(content: object) -> str:
    """String content as is, else its text blocks joined with newlines. Any content is taken, not
    only a valid one: the recorder and "save as scenario" read the journal's refused bodies too."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            text
            for b in content
            if isinstance(b, dict) and b.get("type") == "text" and isinstance(text := b.get("text"), str)
        )
    return ""


def last_user_text(messages: list[dict[str, Any]]) -> str | None:
    """Text of the last user message (what `last_user` matches and recordings keep), None if none."""
    users = [m for m in messages if isinstance(m, dict) and m.get("role") == "user"]
    return text_of(users[-1].get("content")) if users else None


def tool_results_of(messages: list[dict[str, Any]]) -> tuple[ToolResultView, ...]:
    """Results in the last user message, named after the tool_use they answer."""
    users = [index for index, m in enumerate(messages) if m["role"] == "user"]
    if not users:
        return ()
    names = {
        b["id"]: b["name"]
        for m in messages[: users[-1]]
        if m["role"] == "assistant"
        for b in blocks_of(m)
        if b["type"] == "tool_use"
    }
    return tuple(
        ToolResultView(
            tool_use_id=b["tool_use_id"],
            name=names.get(b["tool_use_id"]),
            content_text=text_of(b.get("content")),
            is_error=bool(b.get("is_error")),
        )
        for b in blocks_of(messages[users[-1]])
        if b["type"] == "tool_result"
    )


def file_ids_of(messages: list[Any]) -> Iterator[str]:
    """Every file id the messages name: an image or document `source: {type: file, file_id}` or a
    `container_upload` block, in a message's content or nested in a tool_result's content or a
    document's `source: {type: content}`. Any shape is walked, as lenient validation lets unknown
    blocks through."""
    for message in messages:
        if isinstance(message, dict):
            yield from _file_ids_in(message.get("content"))


def _file_ids_in(content: Any) -> Iterator[str]:
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        source = block.get("source")
        if block.get("type") == "container_upload":
            source = block
        elif not (isinstance(source, dict) and source.get("type") == "file"):
            yield from _file_ids_in(block.get("content"))  # a tool_result's blocks
            if isinstance(source, dict):
                yield from _file_ids_in(source.get("content"))  # a content document's blocks
            continue
        file_id = source.get("file_id") if isinstance(source, dict) else None
        if isinstance(file_id, str):
            yield file_id


def _text_or_none(value: Any) -> str | None:
    """A string field as sent; None for anything else (lenient validation lets it through)."""
    return value if isinstance(value, str) else None
