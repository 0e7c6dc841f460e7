"""End-to-end: the real bundled model on a real slice of the demo data, through the CLI."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from triage.cli import app

runner = CliRunner()


def run_args(data_dir, out):
    return ["run", str(data_dir / "submissions.csv"), "-p", str(data_dir / "publications.csv"),
            "-r", str(data_dir / "reviewers.csv"), "-c", str(data_dir / "conflicts.csv"), "-o", str(out)]


@pytest.fixture(scope="module")
def e2e(tmp_path_factory):
    from pathlib import Path

    data_dir = Path(__file__).parent / "data"
    out = tmp_path_factory.mktemp("run")
    first = runner.invoke(app, run_args(data_dir, out))
    return data_dir, out, first


@pytest.mark.e2e
def test_run_writes_every_artifact(e2e):
    data_dir, out, res = e2e
    assert res.exit_code == 0, res.output
    subs = pd.read_csv(data_dir / "submissions.csv")
    for name in ("screen.csv", "topics.csv", "affinity.csv", "conflicts.csv", "assignments.csv", "alternates.csv",
                 "summaries.csv", "summaries.jsonl", "triage.csv", "report.html", "manifest.json",
                 "embeddings/papers.npy", "embeddings/publications.npy"):
        assert (out / name).exists(), name
    assert len(pd.read_csv(out / "topics.csv")) == len(subs)
    assert len(pd.read_csv(out / "triage.csv")) == len(subs)
    a = pd.read_csv(out / "assignments.csv")
    assert (a.groupby("paper_id").size() == 3).all() and a["paper_id"].nunique() == len(subs)
    c = pd.read_csv(out / "conflicts.csv")
    assert not set(zip(a.paper_id, a.reviewer_id)) & set(zip(c.paper_id, c.reviewer_id))
    # Real authors of COLT 2024 papers who reviewed for the test pool are found by name.
    assert c["reason"].str.contains("reviewer is an author").any()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<svg" in html
    for external in ('src="http', "src='http", 'href="http', "<link ", "@import"):
        assert external not in html  # self-contained: opens offline


@pytest.mark.e2e
def test_rerun_embeds_nothing_and_is_byte_identical(e2e, tmp_path):
    data_dir, out, first = e2e
    before = {n: (out / n).read_bytes() for n in ("topics.csv", "affinity.csv", "assignments.csv", "triage.csv")}
    again = runner.invoke(app, run_args(data_dir, out))
    assert again.exit_code == 0, again.output
    assert "embedded 0 new papers text(s), 40 from cache" in again.output
    assert "embedded 0 new publications text(s)" in again.output
    for n, b in before.items():
        assert (out / n).read_bytes() == b, n


@pytest.mark.e2e
def test_late_submissions_embed_only_new(e2e, tmp_path):
    data_dir, out, _ = e2e
    subs = pd.read_csv(data_dir / "submissions.csv", keep_default_na=False)
    late = pd.concat([subs, pd.DataFrame([{"paper_id": "late1", "title": "A late paper on bandits",
                                           "abstract": "We prove regret bounds for late bandits."}])])
    p = tmp_path / "late.csv"
    late.to_csv(p, index=False)
    res = runner.invoke(app, ["embed", str(p), "-p", str(data_dir / "publications.csv"), "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "embedded 1 new papers text(s), 40 from cache" in res.output


@pytest.mark.parametrize("args,code,needle", [
    (["run", "tests/data/nope.csv"], 1, "file not found"),
    (["run", "tests/data/conflicts.csv"], 1, "missing columns 'title' and 'abstract'"),
    (["topics", "tests/data/submissions.csv", "--k", "0"], 1, "Invalid value for '--k'"),
    (["run"], 1, "Missing argument"),
    (["match", "tests/data/submissions.csv", "--per-paper", "0"], 1, "(see 'triage match --help')"),
    (["topics", "tests/data/submissions.csv", "--theory-threshold", "7"], 1, "Invalid value for '--theory-threshold'"),
    (["topics", "tests/data/submissions.csv", "--qualified-affinity", "-5"], 1, "'--qualified-affinity'"),
])
def test_cli_errors(args, code, needle, tmp_path):
    res = runner.invoke(app, [*args, "-o", str(tmp_path / "o")] if len(args) > 1 else args)
    assert res.exit_code == code, res.output
    assert needle in res.output
    assert "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1  # one line, as bad input files get
    assert not (tmp_path / "o").exists()


def test_hub_model_without_download_is_one_line(tmp_path):
    res = runner.invoke(app, ["embed", "tests/data/submissions.csv", "-m", "no-such-org/no-such-model",
                              "-o", str(tmp_path)])
    assert res.exit_code == 1
    assert "downloads are off" in res.output and "--allow-download" in res.output


def test_missing_model_folder_is_one_line(tmp_path):
    res = runner.invoke(app, ["embed", "tests/data/submissions.csv", "-m", str(tmp_path / "no_such_model"),
                              "-o", str(tmp_path / "o")])
    assert res.exit_code == 1
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and "no such folder" in lines[0], res.output


def test_help_lists_commands():
    res = runner.invoke(app, ["--help"])
    assert res.exit_code == 0
    for cmd in ("run", "demo", "embed", "topics", "match", "summarize", "export", "report", "status"):
        assert cmd in res.output


def test_import_cli_is_light():
    code = ("import sys, triage.cli; heavy = [m for m in ('torch', 'faiss', 'sentence_transformers') "
            "if m in sys.modules]; print(','.join(heavy))")
    outp = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert outp.stdout.strip() == ""


def test_match_help_names_every_upload_format():
    from triage.cli import match

    said = match.__doc__.split("Example:")[0]  # the text of 'triage match --help'
    assert all(name in said for name in ("OpenReview", "CMT", "HotCRP", "START")), said


def test_the_cli_reads_the_environment_variables_the_library_names():
    import typer

    from triage.choices import ALLOW_DOWNLOAD_ENV, DEFAULT_KEY_ENV
    from triage.pipeline import LLMParams

    commands = typer.main.get_command(app).commands
    params = {c: {p.name: p for p in commands[c].params} for c in ("embed", "summarize")}
    assert params["embed"]["allow_download"].envvar == ALLOW_DOWNLOAD_ENV
    assert params["summarize"]["llm_key_env"].default == DEFAULT_KEY_ENV == LLMParams.api_key_env


def test_an_option_without_its_value_is_one_line(tmp_path):
    res = runner.invoke(app, ["run", "tests/data/submissions.csv", "--per-paper"])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert res.output.strip() == "Error: Option '--per-paper' requires an argument. (see 'triage run --help')"


@pytest.mark.parametrize("args,message", [
    (["--bogus"], "Error: No such option: --bogus (see 'triage --help')"),
    (["nope"], "Error: No such command 'nope'. (see 'triage --help')"),
])
def test_a_bad_command_or_option_of_triage_itself_is_one_line(args, message):
    res = runner.invoke(app, args)
    assert res.exit_code == 1 and res.output.strip() == message
