"""The batch and file options: values reach ServerConfig, bad ones exit 2 naming the option."""

from __future__ import annotations

import pytest

from mockbay.cli import build_parser, main
from mockbay.server.serve import config_from_args


def test_options_and_environment_reach_the_config(monkeypatch) -> None:
    monkeypatch.setenv("MOCKBAY_BATCH_SECONDS", "2.5")
    monkeypatch.setenv("MOCKBAY_FILES_DOWNLOADABLE", "yes")
    config = config_from_args(
        build_parser().parse_args(["serve", "--files-max-mb", "8", "--batches-max", "3"])
    )
    assert (config.batch_seconds, config.files_downloadable) == (2.5, True)
    assert (config.files_max_mb, config.batches_max, config.batches_max_mb, config.files_max) == (
        8,
        3,
        256,
        10_000,
    )


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--batch-seconds", "-1"], "argument --batch-seconds: must be between 0 and 86400, got -1"),
        (["--batch-seconds", "soon"], "argument --batch-seconds: must be a number of seconds, got 'soon'"),
        (["--batch-seconds", "nan"], "must be between 0 and 86400"),
        (["--files-max-mb", "0"], "argument --files-max-mb: must be at least 1, got 0"),
        (["--batches-max", "many"], "argument --batches-max: must be an integer, got 'many'"),
    ],
)
def test_bad_values_exit_2(argv: list[str], message: str, capsys) -> None:
    assert main(["serve", *argv]) == 2
    assert message in capsys.readouterr().err


def test_a_bad_variable_exits_2_naming_it(monkeypatch, capsys) -> None:
    monkeypatch.setenv("MOCKBAY_BATCH_SECONDS", "later")
    assert main(["serve"]) == 2
    assert "MOCKBAY_BATCH_SECONDS must be a number of seconds, got 'later'" in capsys.readouterr().err
