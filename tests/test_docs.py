"""The README's promises: the Quick start commands, CI running the same test command, every command documented."""

from __future__ import annotations

import csv
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


def _readme_options() -> list[str]:
    """The --options the README names for triage: not those of a `bench/` script, of pip or of OpenReview's matcher
    (`--max_papers`)."""
    spans = re.findall(r"```[a-z]*\n(.*?)```", README, re.DOTALL) + re.findall(r"`([^`\n]+)`", README)
    lines = [line for span in spans for line in span.splitlines()]
    return [o for line in lines if "bench/" not in line and "pip " not in line
            for o in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*(?!\w)", line) if o != "--extra-index-url"]


def test_every_option_the_readme_names_exists_with_the_default_it_states():
    commands = get_command(app).commands  # type: ignore[attr-defined]
    params = [p for sub in commands.values() for p in sub.params]
    known = {o for p in params for o in (*p.opts, *p.secondary_opts)} | {"--help"}
    assert sorted({o for o in _readme_options() if o not in known}) == []
    for option, stated in re.findall(r"`(--[a-z-]+)` \((\d[\d.]*)[;)]", README):  # "`--coauthor-years` (3)"
        defaults = {p.default for p in params if option in p.opts}
        assert defaults == {type(next(iter(defaults)))(stated)}, (option, stated, defaults)


def test_the_input_formats_example_rows_fit_their_columns():
    table = README.split("| file | required columns |", 1)[1].split("\n\n", 1)[0]
    for line in table.splitlines()[2:]:
        name, required, optional, example = (c.strip() for c in line.strip("|").split("|"))
        optional = re.sub(r"\([^)]*\)", "", optional)  # "`senior` (yes / no)", "`reason` (also headerless ...)"
        n_columns = len(re.findall(r"`\w+`", required)) + len([c for c in optional.split(",") if c.strip()])
        row = next(csv.reader([re.match(r"`([^`]*)`", example).group(1)]))
        assert 1 < len(row) <= n_columns, (name, row)
        if "in that column order" in example:
            assert len(row) == n_columns, (name, row, n_columns)
