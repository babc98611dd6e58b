"""The CLI prints a wugan error as one line and exits 2; a bug keeps its traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from wugan.cli.main import USER_ERROR, WuganGroup, app
from wugan.errors import ModelError

REPO_RULES = Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture
def broken_rules(tmp_path: Path) -> tuple[Path, int]:
    """A copy of the rules where one derived value names a column that does not exist; and its line."""
    rules = tmp_path / "rules"
    shutil.copytree(REPO_RULES, rules)
    path = rules / "old_age_allowance.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    line = next(i for i, text in enumerate(lines, start=1) if "age_years >= 80" in text)
    lines[line - 1] = lines[line - 1].replace("age_years >= 80", "age_yeers >= 80")
    path.write_text("".join(lines), encoding="utf-8")
    return rules, line


def _one_line(text: str) -> str:
    assert "Traceback" not in text
    lines = text.splitlines()
    assert len(lines) == 1, text
    return lines[0]


def test_a_bad_rule_file_is_one_line_with_file_and_line(broken_rules):
    rules, line = broken_rules
    result = CliRunner().invoke(app, ["rules", "show", "old_age_allowance", "--rules-dir", str(rules)])
    assert result.exit_code == USER_ERROR
    message = _one_line(result.stderr)
    assert message.startswith("error: ")
    assert f"old_age_allowance.yaml:{line}: unknown column 'age_yeers'" in message
    assert "wugan rules test" in message  # what to do
    assert result.stdout == ""


def test_the_installed_command_prints_the_same_line(broken_rules, tmp_path):
    rules, line = broken_rules
    env = {**os.environ, "WUGAN_HOME": str(tmp_path / "home")}
    wugan = Path(sys.executable).with_name("wugan")  # the console script pyproject.toml installs
    done = subprocess.run([str(wugan), "rules", "show", "old_age_allowance", "--rules-dir", str(rules)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == USER_ERROR
    assert f"old_age_allowance.yaml:{line}: unknown column 'age_yeers'" in _one_line(done.stderr)


def test_a_bad_option_value_is_one_line(tmp_path):
    result = CliRunner().invoke(app, ["synth", "--persons", "5", "--home", str(tmp_path)])
    assert result.exit_code == USER_ERROR
    assert _one_line(result.stderr) == "error: need at least 100 persons and 1 day — see --help"
    assert not (tmp_path / "inbox").exists()


def test_a_missing_model_is_one_line_saying_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("WUGAN_MODELS_DIR", str(tmp_path / "models"))
    result = CliRunner().invoke(app, ["model", "evaluate", "--home", str(tmp_path)])
    assert result.exit_code == USER_ERROR
    message = _one_line(result.stderr)
    assert "no champion under" in message and "train one and promote it" in message


def test_an_error_message_over_several_lines_still_prints_as_one():
    probe = typer.Typer(cls=WuganGroup)

    @probe.command()
    def fail() -> None:
        raise ModelError("first line\nsecond line", hint="do this")

    @probe.command()
    def other() -> None:
        pass

    result = CliRunner().invoke(probe, ["fail"])
    assert result.exit_code == USER_ERROR
    assert _one_line(result.stderr) == "error: first line second line — do this"


def test_a_bug_is_not_swallowed():
    probe = typer.Typer(cls=WuganGroup)

    @probe.command()
    def crash() -> None:
        raise KeyError("a bug")

    @probe.command()
    def other() -> None:
        pass

    result = CliRunner().invoke(probe, ["crash"])
    assert result.exit_code == 1
    assert isinstance(result.exception, KeyError)
