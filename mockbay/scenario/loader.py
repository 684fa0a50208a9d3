"""Scenario YAML texts, files and folders -> model.py scenarios, with errors that teach.

YAML is composed into nodes (never constructed, so no tag runs code and every value keeps its
line and column), walked against schema.py by walker.py, and each checked value is built into
the model by builders.py. This module picks files, parses YAML, chooses each document's spec
and checks that scenario names are unique. Every problem of every file is collected: `read_*`
return them with what was found (`Loaded`), for checks made after loading, and `load_*` raise
them; the only exception that leaves is ScenarioError. Imports yaml and the lower layers only;
reads files only in `read_paths`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode

from mockbay.errors import ScenarioError, SourceMark
from mockbay.scenario.builders import BUILDERS as _BUILDERS
from mockbay.scenario.model import Reply, Scenario
from mockbay.scenario.nodes import NULL, kind
from mockbay.scenario.registry import duplicate_names
from mockbay.scenario.schema import SCENARIO, SCENARIO_LIST
from mockbay.scenario.walker import Walker

__all__ = ["Loaded", "load_paths", "load_text", "load_yaml_scenarios", "read_paths", "read_text"]

_YamlLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


Problem = tuple[SourceMark, str]


@dataclass(frozen=True, slots=True)
class Loaded:
    """What a load found: the valid scenarios, every well-formed reply (one inside a scenario that
    failed elsewhere too, so that checks made after loading still reach it) and every problem."""

    scenarios: list[Scenario]
    replies: list[Reply]
    problems: list[Problem]

    def result(self, more: Iterable[Problem] = ()) -> list[Scenario]:
        """The scenarios, or ScenarioError with these problems and `more` (a later check's), together."""
        problems = [*self.problems, *more]
        if problems:
            raise ScenarioError(problems)
        return self.scenarios


def load_text(text: str, source: str = "<text>") -> list[Scenario]:
    """Scenarios of one YAML text (one or more documents); ScenarioError lists every problem."""
    return read_text(text, source).result()


load_yaml_scenarios = load_text


def load_paths(paths: Sequence[str | Path]) -> list[Scenario]:
    """Scenarios of files and folders (every *.yaml / *.yml below a folder, sorted, hidden ones skipped)."""
    return read_paths(paths).result()


def read_text(text: str, source: str = "<text>") -> Loaded:
    """What one YAML text holds, problems included."""
    problems: list[Problem] = []
    walker = _load_text(text, source, problems)
    return _loaded([walker], problems)


def read_paths(paths: Sequence[str | Path]) -> Loaded:
    """What files and folders hold, problems included: a file that cannot be read is one of them."""
    problems: list[Problem] = []
    walkers: list[Walker] = []
    for file in _files(paths, problems):
        try:
            text = file.read_bytes().decode("utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            problems.append((SourceMark(str(file), 1, 1), f"cannot read file: {exc}"))
            continue
        walkers.append(_load_text(text, str(file), problems))
    return _loaded(walkers, problems)


def _loaded(walkers: list[Walker], problems: list[Problem]) -> Loaded:
    """The walkers' scenarios and replies; scenario names are checked unique across all of them."""
    named = [pair for walker in walkers for pair in walker.named]
    problems += duplicate_names(named)
    replies = [part for walker in walkers for part in walker.parts]
    return Loaded([scenario for scenario, _ in named], replies, problems)


def _files(paths: Sequence[str | Path], problems: list[Problem]) -> list[Path]:
    """Files to load in order, each once; a missing path or an empty folder is a problem."""
    files: dict[Path, Path] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            below = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in (".yaml", ".yml")
                and p.is_file()
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not below:
                problems.append((SourceMark(str(path), 1, 1), "no *.yaml or *.yml files in this folder"))
        elif path.is_file():
            below = [path]
        else:
            where = "" if path.is_absolute() else f" (relative to {Path.cwd()})"
            problems.append((SourceMark(str(path), 1, 1), f"no such file or folder{where}"))
            below = []
        for file in below:
            files.setdefault(file.resolve(), file)
    return list(files.values())


def _load_text(text: str, source: str, problems: list[Problem]) -> Walker:
    """The walker of one text, holding what it built; problems are appended."""
    walker = Walker(source, problems, _BUILDERS)
    documents = 0
    try:
        for node in yaml.compose_all(text, Loader=_YamlLoader):
            if isinstance(node, ScalarNode) and node.tag == NULL and node.value == "":
                continue  # an empty document, e.g. after a trailing `---`
            documents += 1
            _document(walker, node)
    except yaml.MarkedYAMLError as exc:
        problems.append((_yaml_mark(exc, source), f"invalid YAML: {_yaml_reason(exc, text)}"))
        return walker
    except (yaml.YAMLError, UnicodeError) as exc:
        problems.append(
            (
                _position_mark(
                    text, getattr(exc, "position", None) or getattr(exc, "start", None) or 0, source
                ),
                f"invalid YAML: {exc}",
            )
        )
        return walker
    except RecursionError:
        problems.append((SourceMark(source, 1, 1), "invalid YAML: nested too deeply"))
        return walker
    if documents == 0:
        problems.append(
            (SourceMark(source, 1, 1), "empty file: expected a scenario (name: ..., turns: [...])")
        )
    return walker


def _yaml_mark(exc: yaml.MarkedYAMLError, source: str) -> SourceMark:
    mark = exc.problem_mark or exc.context_mark
    return SourceMark(source, mark.line + 1, mark.column + 1) if mark else SourceMark(source, 1, 1)


def _yaml_reason(exc: yaml.MarkedYAMLError, text: str) -> str:
    """The parser's words, the construct it was in when that started earlier, and the tab pitfall."""
    reason = exc.problem or "syntax error"
    problem, context = exc.problem_mark, exc.context_mark
    if exc.context and context and (problem is None or context.line != problem.line):
        reason += f" ({exc.context} at line {context.line + 1})"
    lines = text.splitlines()
    if (
        problem
        and problem.line < len(lines)
        and lines[problem.line][problem.column : problem.column + 1] == "\t"
    ):
        reason += "; it is a tab: YAML indents with spaces"
    return reason


def _position_mark(text: str, position: int, source: str) -> SourceMark:
    before = text[:position]
    return SourceMark(source, before.count("\n") + 1, position - before.rfind("\n"))


def _document(walker: Walker, node: Node) -> None:
    """One scenario, or a `scenarios:` list when that key is present."""
    if not isinstance(node, MappingNode):
        walker.fail(
            node,
            f"a scenario document is a mapping (name: ..., turns: [...]) or scenarios: [...], "
            f"not {kind(node)}",
        )
    elif any(isinstance(k, ScalarNode) and k.value == "scenarios" for k, _ in node.value):
        walker.document(node, SCENARIO_LIST)
    else:
        walker.document(node, SCENARIO)
