"""The README's scenario reference: every YAML example passes `mockbay validate`, and every key of the schema is named.

Examples are often fragments (a `reply:`, a `timing:` line, a list of blocks); each is wrapped into
the smallest scenario that holds it, written to a file and validated with the CLI.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from mockbay.cli import main
from mockbay.scenario.schema import json_schema
from tests.conftest import REPO

DOC = re.search(
    r"<!-- scenarios:start -->(.*?)<!-- scenarios:end -->", (REPO / "README.md").read_text(), re.DOTALL
).group(1)
ANSWER: dict[str, Any] = {"reply": {"text": "x"}}
SCENARIO_KEYS = {"timing", "seed", "cache", "limits", "priority", "description"}


def _yaml_blocks() -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", DOC, re.DOTALL)


def _fragments(block: str) -> list[str]:
    """A block of one-line alternatives (`timing: a` / `timing: b`) is one fragment per line."""
    lines = [line for line in block.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    keys = [line.split(":", 1)[0] for line in lines]
    if len(lines) > 1 and all(not line[0].isspace() for line in lines) and len(set(keys)) < len(keys):
        return lines
    return [block]


def _table_examples() -> list[str]:
    """The example column of the matcher table: `key: value`, alternatives split on ' / '."""
    section = DOC[DOC.index("## Matchers") : DOC.index("**Text matchers**")]
    found = []
    for row in section.splitlines():
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", row)][1:-1]
        if len(cells) == 3 and cells[1].startswith("`"):
            found += [part.strip("`").replace("\\|", "|") for part in cells[1].split(" / ")]
    return found


def _scenario(fragment: Any, index: int) -> dict[str, Any]:
    """The smallest scenario around a fragment, keyed by what the fragment is."""
    name = {"name": f"doc-{index}"}
    if isinstance(fragment, list):
        return {**name, "rules": [{"reply": {"content": fragment}}]}
    if "name" in fragment or "scenarios" in fragment:
        return fragment
    if "reply" in fragment or "rules" in fragment:
        return {**name, "rules": [fragment]} if "reply" in fragment else {**name, **fragment}
    if set(fragment) <= SCENARIO_KEYS:
        return {**name, **fragment, "rules": [ANSWER]}
    return {**name, "match": fragment, "rules": [ANSWER]}


def _documents() -> list[dict[str, Any]]:
    documents = []
    for text in [*(f for block in _yaml_blocks() for f in _fragments(block)), *_table_examples()]:
        documents += [d for d in yaml.safe_load_all(text) if d is not None]
    return [_scenario(document, index) for index, document in enumerate(documents)]


def test_the_doc_has_examples() -> None:
    assert len(_yaml_blocks()) >= 10 and len(_table_examples()) >= 20


def test_every_example_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = []
    for index, scenario in enumerate(_documents()):
        path = tmp_path / f"example-{index}.yaml"
        path.write_text(yaml.safe_dump(scenario, sort_keys=False))
        paths.append(str(path))
    status = main(["validate", *paths])
    assert status == 0, capsys.readouterr().err


def _keys(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = set(node.get("properties", {}))
        return found.union(*(_keys(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_keys(item) for item in node))
    return set()


def test_every_key_of_the_schema_is_documented() -> None:
    missing = sorted(key for key in _keys(json_schema()) if f"`{key}" not in DOC and f"{key}:" not in DOC)
    assert missing == []
