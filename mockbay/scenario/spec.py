"""The small spec language that scenario keys are written in (`Obj`, `Str`, `OneOf`, ...).

Each class says what one YAML value may be: its type, limits, description and, for mappings,
the allowed keys, key groups and the hints that teach. schema.py and its `keys_*` modules hold
the keys written in it; the walker checks YAML nodes against it; schema_json.py turns it into
JSON Schema. `build` names a builder of builders.py, `model` a dataclass of model.py.
Standard library only: imports nothing from mockbay, never yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True, eq=False)
class Spec:
    """What one value may be. `doc` is its one-line description; `hint` is appended to type errors.
    `nullable` marks a wire object written as-is whose wire field may be null: null is taken and
    sent as null (keys mockbay computes when left out take no null, so null never means two things)."""

    doc: str = ""
    build: str | None = None
    hint: str = ""
    nullable: bool = False


@dataclass(frozen=True, eq=False)
class Str(Spec):
    """A string, kept as typed (`name: yes` is "yes", `retry-after: 2` is "2"); `min_len` 1 refuses "",
    `pattern` must match it whole. `strict` refuses what YAML reads as another type (a number, a
    boolean, a date): for a wire field sent as the JSON string it must be (a citation's, a raw
    block's type). Text a matcher compares is not strict: `x-retry: 2` means the header `2`."""

    min_len: int = 0
    pattern: str | None = None  # a full-match regex, explained by `hint` when it fails
    strict: bool = False


@dataclass(frozen=True, eq=False)
class Int(Spec):
    """A whole number between the optional `minimum` and `maximum`, inclusive; a float is refused."""

    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True, eq=False)
class Num(Spec):
    """A finite number, loaded as float."""

    minimum: float | None = None
    above: bool = False  # True: strictly greater than `minimum`
    maximum: float | None = None


@dataclass(frozen=True, eq=False)
class Bool(Spec):
    """A YAML boolean, `true` or `false`; a quoted "true" is text and is refused."""


@dataclass(frozen=True, eq=False)
class Enum(Spec):
    """One of the fixed words in `values`, compared as typed, so `cache: off` is "off" rather than
    YAML 1.1's false."""

    values: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class List(Spec):
    """A YAML sequence whose items each match `of`; `min_items` 1 refuses an empty list."""

    of: Spec
    min_items: int = 0


@dataclass(frozen=True, eq=False)
class Map(Spec):
    """A mapping with free (string) keys, such as header names or body paths; `keys`, when given,
    is what each key must be (a header name's pattern)."""

    values: Spec
    keys: Str | None = None


@dataclass(frozen=True, eq=False)
class AnyValue(Spec):
    """Any YAML data that JSON can hold (tool input, Faker arguments)."""


@dataclass(frozen=True, eq=False)
class ValueOrMatcher(Spec):
    """A literal value, or a text matcher when written as a one-key matcher mapping ({regex: ...})."""

    matcher: Spec


@dataclass(frozen=True, eq=False)
class Ref(Spec):
    """A named definition of DEFS, for shared and recursive forms."""

    name: str


@dataclass(frozen=True, eq=False)
class OneOf(Spec):
    """Alternative forms, chosen by the YAML kind and, among mappings, by each form's `tag` key."""

    forms: tuple[Spec, ...]
    hints: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Obj(Spec):
    """A mapping with fixed keys. Group rules are (keys, why) pairs so messages can teach;
    `known` (key, values, opener, why): the key's string is one of `values` unless `opener` is
    given too; `applies` (key, other, value): the key may be given only when `other` is `value`."""

    fields: Mapping[str, Spec]
    tag: str | None = None  # required key naming this form among a OneOf's mappings
    required: tuple[str, ...] = ()
    one_of: tuple[tuple[tuple[str, str], str], ...] = ()  # exactly one of the two keys
    any_of: tuple[tuple[tuple[str, str], str], ...] = ()  # at least one of the two keys
    conflicts: tuple[tuple[tuple[str, str], str], ...] = ()  # not both keys
    requires: tuple[tuple[tuple[str, str], str], ...] = ()  # the first key needs the second
    known: tuple[tuple[str, tuple[str, ...], str, str], ...] = ()
    applies: tuple[tuple[str, str, str], ...] = ()
    extra: Spec | None = None  # spec of keys not in `fields` (None: unknown keys are errors)
    hints: Mapping[str, str] = field(default_factory=dict)  # unknown key -> advice; `{key}` is filled in
    model: type | None = None
    renames: Mapping[str, str] = field(default_factory=dict)  # key -> model field

    def needed(self) -> tuple[str, ...]:
        return ((self.tag,) if self.tag else ()) + self.required


@dataclass(frozen=True, eq=False)
class Tagged(Spec):
    """A mapping whose `key` holds one of `choices`' names, the form (an `Obj`) the rest must have:
    a citation's `type`."""

    key: str
    choices: Mapping[str, Obj]
