"""Load scenario files into a Registry, with the checks that need the renderer (Faker, placeholders).

The loader (scenario/) knows the file format; whether `{faker: paragraph}` or `{{ faker.name }}`
can actually run is the renderer's knowledge, checked here once at load time so that a typo is
a `file:line:col` message rather than a surprise at request time.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from mockbay.errors import ScenarioError, SourceMark
from mockbay.render.text import faker_provider_error, placeholder_error
from mockbay.scenario.loader import load_paths, load_text
from mockbay.scenario.model import ChunkedText, FakerText, LiteralText, Reply, Scenario
from mockbay.scenario.registry import Registry

BUNDLED = Path(__file__).resolve().parent / "bundled"


def default_scenario_paths() -> tuple[str, ...]:
    """The bundled examples shipped inside the package (the repo's `scenarios/` folder)."""
    return (str(BUNDLED),) if BUNDLED.is_dir() else ()


def load_registry(paths: Sequence[str | Path]) -> Registry:
    scenarios = load_paths(paths) if paths else []
    check_renderable(scenarios)
    return Registry(scenarios)


def load_yaml(text: str, source: str) -> list[Scenario]:
    scenarios = load_text(text, source=source)
    check_renderable(scenarios)
    return scenarios


def load_source(source: str | Path) -> list[Scenario]:
    """A `Path` or a one-line string is a file or folder (a relative one from the working
    directory, named in the error when missing); a string with a line break is YAML text. The
    pytest marker tells them apart the same way."""
    if is_yaml_text(source):
        return load_yaml(str(source), "<text>")
    scenarios = load_paths([source])
    check_renderable(scenarios)
    return scenarios


def is_yaml_text(source: str | Path) -> bool:
    return isinstance(source, str) and "\n" in source


def load_sources(sources: Iterable[str | Path]) -> list[Scenario]:
    """Scenarios of several sources at once; a name defined twice among them is refused, naming both
    places, as `serve` and `validate` refuse it. The same file named twice is read once."""
    seen: set[str | Path] = set()
    scenarios: list[Scenario] = []
    for source in sources:
        key = source if is_yaml_text(source) else Path(source).resolve()
        if key not in seen:
            seen.add(key)
            scenarios += load_source(source)
    Registry(scenarios)  # raises on a duplicate name, with both file:line:col marks
    return scenarios


def check_renderable(scenarios: Iterable[Scenario]) -> None:
    """Every Faker provider and placeholder must exist; all problems reported together."""
    problems: list[tuple[SourceMark, str]] = []
    for scenario in scenarios:
        for step in (*scenario.rules, *scenario.turns):
            for reply in (step.reply, *step.replies):
                if reply is not None:
                    problems.extend((reply.mark, p) for p in _reply_problems(reply))
    if problems:
        raise ScenarioError(problems)


def _reply_problems(reply: Reply) -> list[str]:
    found = []
    for block in reply.content:
        source = block.text
        if isinstance(source, FakerText):
            found.append(faker_provider_error(source.provider, dict(source.args)))
        elif isinstance(source, LiteralText):
            found.append(placeholder_error(source.value))
        elif isinstance(source, ChunkedText):
            found.extend(placeholder_error(piece) for piece in source.pieces)
    return [p for p in found if p]
