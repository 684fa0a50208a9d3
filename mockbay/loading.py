"""Load scenario files into a Registry, with the checks that need the renderer (Faker, placeholders).

The loader (scenario/) knows the file format; whether `{faker: paragraph}` or `{{ faker.name }}`
can actually run is the renderer's knowledge, checked here once at load time so that a typo is
a `file:line:col` message rather than a surprise at request time. It is checked on every
well-formed reply the loader found, beside the loader's own problems, so one run reports both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from mockbay.builder import Document
from mockbay.errors import MockbayError, ScenarioError
from mockbay.render.text import faker_provider_error, placeholder_error
from mockbay.scenario.loader import Loaded, Problem, read_paths, read_text
from mockbay.scenario.model import ChunkedText, FakerText, LiteralText, Reply, Scenario
from mockbay.scenario.registry import Registry, duplicate_names

BUNDLED = Path(__file__).resolve().parent / "bundled"


def default_scenario_paths() -> tuple[str, ...]:
    """The bundled examples shipped inside the package (the repo's `scenarios/` folder)."""
    return (str(BUNDLED),) if BUNDLED.is_dir() else ()


def load_registry(paths: Sequence[str | Path]) -> Registry:
    return Registry(_checked(read_paths(paths)))


def load_yaml(text: str, source: str) -> list[Scenario]:
    return _checked(read_text(text, source))


Source = str | Path | Mapping[str, Any]


def load_source(source: Source) -> list[Scenario]:
    """A `Path` or a one-line string is a file or folder (a relative one from the working
    directory, named in the error when missing); a string with a line break is YAML text. The
    pytest marker tells them apart the same way. A mapping is a document built in Python
    (builder.py) or by hand: written as YAML and loaded as that text."""
    if isinstance(source, Mapping):
        return load_document(source)
    if is_yaml_text(source):
        return load_yaml(str(source), "<text>")
    return _checked(read_paths([source]))


def is_yaml_text(source: Source) -> bool:
    return isinstance(source, str) and "\n" in source


def load_document(document: Mapping[str, Any]) -> list[Scenario]:
    """The YAML a file would hold for this document, through the same loader and checks."""
    built = isinstance(document, Document)
    whole = document.as_scenario() if isinstance(document, Document) else dict(document)
    label = f"<python {document.origin}>" if isinstance(document, Document) else "<python>"
    try:
        text = yaml.safe_dump(whole, sort_keys=False, allow_unicode=True)
    except yaml.YAMLError as exc:
        what = "built" if built else "given"
        raise MockbayError(
            f"{label}: the scenario {what} in Python holds a value YAML cannot: {exc}"
        ) from None
    return load_yaml(text, label)


def load_sources(sources: Iterable[Source]) -> list[Scenario]:
    """Scenarios of several sources at once; a name defined twice among them is refused, naming both
    places, as `serve` and `validate` refuse it. The same file named twice is read once. Every
    source is read: the problems of all of them are reported together, as `validate` reports them."""
    seen: set[object] = set()
    scenarios: list[Scenario] = []
    problems: list[Problem] = []
    for source in sources:
        key: object = (
            id(source)
            if isinstance(source, Mapping)
            else source
            if is_yaml_text(source)
            else Path(source).resolve()
        )
        if key not in seen:
            seen.add(key)
            try:
                scenarios += load_source(source)
            except ScenarioError as error:
                problems += error.problems
    problems += duplicate_names((s, s.mark) for s in scenarios)  # among the sources that loaded
    if problems:
        raise ScenarioError(problems)
    return scenarios


def _checked(loaded: Loaded) -> list[Scenario]:
    """The scenarios loaded, or ScenarioError with the loader's problems and every Faker provider
    or placeholder that does not exist, all together."""
    return loaded.result(_renderer_problems(loaded.replies))


def _renderer_problems(replies: Iterable[Reply]) -> list[Problem]:
    """Each reply's texts that the renderer could not render, at the reply."""
    return [(reply.mark, problem) for reply in replies for problem in _reply_problems(reply)]


def _reply_problems(reply: Reply) -> list[str]:
    found = []
    for block in reply.content:
        source = block.text
        if isinstance(source, FakerText):
            found.append(faker_provider_error(source.provider, dict(source.args)))
        elif isinstance(source, LiteralText):
            found.append(placeholder_error(source.value))
        elif isinstance(source, ChunkedText) and not source.verbatim:
            found.extend(placeholder_error(piece) for piece in source.pieces)
    return [p for p in found if p]
