"""Same inputs and options give byte-identical CSV outputs, across runs and across processes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from triage.cli import app

DATA = Path(__file__).parent / "data"
runner = CliRunner()


def run_args(out: Path) -> list[str]:
    return ["run", str(DATA / "submissions.csv"), "-p", str(DATA / "publications.csv"), "-r",
            str(DATA / "reviewers.csv"), "-c", str(DATA / "conflicts.csv"), "-o", str(out)]


def outputs(folder: Path) -> dict[str, bytes]:
    found = {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*")
             if p.suffix in (".csv", ".jsonl") and p.relative_to(folder).parts[0] != "cache"}
    return dict(sorted(found.items()))


@pytest.mark.e2e
def test_real_pipeline_is_byte_identical_across_processes(real_embedder, monkeypatch, tmp_path):
    """Run 1 in this process; run 2 in a fresh process with another hash seed and the same cache.

    Set iteration order changes with PYTHONHASHSEED, so anything that leaks it into an output
    (unsorted sets, dict order from sets) shows up as a byte difference.
    """
    import triage.pipeline

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: real_embedder)
    first = tmp_path / "first"
    res = runner.invoke(app, run_args(first))
    assert res.exit_code == 0, res.output
    second = tmp_path / "second"
    second.mkdir()
    shutil.copytree(first / "cache", second / "cache")  # embeddings are reused; everything else is redone
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    proc = subprocess.run([sys.executable, "-m", "triage", *run_args(second)], capture_output=True, text=True,
                          env=env, timeout=600)
    assert proc.returncode == 0, proc.stderr
    a, b = outputs(first), outputs(second)
    assert {"topics.csv", "affinity.csv", "conflicts.csv", "assignments.csv", "alternates.csv", "summaries.csv",
            "triage.csv"} <= set(a)
    assert list(a) == list(b)
    different = [name for name in a if a[name] != b[name]]
    assert different == []
