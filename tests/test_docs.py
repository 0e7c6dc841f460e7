"""The README's promises: the Quick start commands, CI running the same test command, every command documented."""

from __future__ import annotations

import re
from pathlib import Path

from typer.main import get_command

from triage.cli import app

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def quick_start_lines() -> list[str]:
    section = README.split("## Quick start", 1)[1]
    block = re.search(r"```[a-z]*\n(.*?)```", section, re.DOTALL)
    assert block
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_quick_start_has_two_commands():
    lines = quick_start_lines()
    assert len(lines) == 2
    assert "triage demo" in lines[0] and "pytest" in lines[1]


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert quick_start_lines()[1] in ci
    assert "-eq 5" in ci  # "no tests collected" is a failure


def test_every_command_has_help_and_is_in_readme():
    cmd = get_command(app)
    for name, sub in cmd.commands.items():  # type: ignore[attr-defined]
        assert sub.help and "Example:" in sub.help, name
        assert f"`triage {name}`" in README, name


def test_torch_is_pinned():
    assert '"torch==2.13.0"' in (ROOT / "pyproject.toml").read_text(encoding="utf-8")


def test_every_output_file_is_in_the_outputs_table():
    from triage import workdir as W

    table = README.split("## Outputs", 1)[1].split("\n## ", 1)[0]
    names = {*W._OUTPUTS, Path(W.PAPER_EMB).name, Path(W.PUB_EMB).name, "cache/"}
    assert [n for n in sorted(names) if f"`{n}`" not in table] == []


def test_each_commands_help_is_about_that_command():
    commands = get_command(app).commands  # type: ignore[attr-defined]
    for name, sub in commands.items():
        options = {o for p in sub.params for o in (*p.opts, *p.secondary_opts)}
        named = re.findall(r"--[a-z][a-z-]*", " ".join([sub.help or "", *(getattr(p, "help", "") or ""
                                                                           for p in sub.params)]))
        assert set(named) <= options, (name, set(named) - options)
    helps = {name: {p.name: getattr(p, "help", "") for p in sub.params} for name, sub in commands.items()}
    assert "clustering" in helps["topics"]["seed"] and "clustering" not in helps["match"]["seed"]
    assert "summar" not in helps["screen"]["pdf_dir"]  # the screen summarizes nothing
    for output in ("reserve.csv", "assignment_probabilities.csv", "changes.csv"):  # what match writes
        assert output in commands["match"].help
