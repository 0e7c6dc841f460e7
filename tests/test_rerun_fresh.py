"""A rerun in a work folder gives what a fresh run of the same final inputs and options gives, byte for byte,
whatever ran there before (other inputs, other options, a stage on its own): no cache or record is stale."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest
from conftest import FakeEmbedder
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from triage.cli import app

GOOD = Path(__file__).parent / "bad_inputs" / "good"
runner = CliRunner()


class ModelFake(FakeEmbedder):
    """The fake model, with vectors of its own for each --model name (another model, other vectors)."""

    def __init__(self, model: str) -> None:
        super().__init__()
        self.model, self.name = model, f"fake-{model}"

    def encode(self, texts: list[str], *, batch_size: int = 32):
        return super().encode([t if self.model == "default" else f"{self.model} {t}" for t in texts],
                              batch_size=batch_size)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """The good inputs and variants of each: late and withdrawn submissions, an edited abstract, a reviewer
    added and one removed, an edited publication."""
    d = tmp_path_factory.mktemp("inputs")
    subs, revs, pubs = (pd.read_csv(GOOD / f"{n}.csv", dtype=str, keep_default_na=False)
                        for n in ("submissions", "reviewers", "publications"))

    def write(df: pd.DataFrame, name: str) -> Path:
        df.to_csv(d / name, index=False)
        return d / name

    late = pd.DataFrame([{"paper_id": "late/1", "title": "Regret of bandits with delayed feedback",
                          "abstract": "We prove regret bounds for bandits when rewards arrive late. The bound is "
                                      "tight.", "authors": "Ada Late"}])
    edited = subs.copy()
    edited.loc[2, "abstract"] += " We also prove a matching lower bound."
    new_rev = pd.DataFrame([{"reviewer_id": "~New_Reviewer1", "name": "New Reviewer", "max_load": ""}])
    new_pub = pd.DataFrame([{"reviewer_id": "~New_Reviewer1", "pub_id": "new1", "title": "Delayed bandits",
                             "abstract": "Regret bounds for bandits with delays.", "year": "2023",
                             "authors": "New Reviewer", "venue": "COLT"}])
    pub_edited = pubs.copy()
    pub_edited.loc[3, "abstract"] = "We study kernels, regret and online learning with a new algorithm."
    return {
        "submissions": {"same": GOOD / "submissions.csv", "late": write(pd.concat([subs, late]), "late.csv"),
                        "withdrawn": write(subs.drop(index=[1]), "withdrawn.csv"),
                        "edited": write(edited, "edited.csv")},
        "reviewers": {"same": GOOD / "reviewers.csv", "added": write(pd.concat([revs, new_rev]), "revs_added.csv"),
                      "removed": write(revs.drop(index=[4]), "revs_removed.csv")},
        "publications": {"same": GOOD / "publications.csv",
                         "added": write(pd.concat([pubs, new_pub]), "pubs_added.csv"),
                         "edited": write(pub_edited, "pubs_edited.csv")},
    }


OPTIONS = [(), ("--max-load", "4"), ("--per-paper", "2"), ("--recent", "1"), ("--since", "2023"),
           ("--lexical-weight", "0.2"), ("--taxonomy", "none"), ("--theory", "none"), ("--k", "2"),
           ("--weak-threshold", "0.3"), ("--coauthor-years", "0"), ("-m", "other"), ("--top-k", "4"),
           ("--use-keywords",), ("--max-probability", "0.7"), ("--export-format", "openreview")]
# Options of the stages run on their own, each with the run's option it stands for.
STAGE_OPTIONS = {"topics": [(), ("--k", "2"), ("--taxonomy", "none"), ("--max-load", "4")],
                 "match": [(), ("--max-load", "4"), ("--per-paper", "2"), ("--recent", "1"), ("--top-k", "4")],
                 "summarize": [(), ("--max-claims", "1")],
                 "export": [(), ("--weak-threshold", "0.3")]}

variant = st.fixed_dictionaries({"submissions": st.sampled_from(["same", "late", "withdrawn", "edited"]),
                                 "reviewers": st.sampled_from(["same", "added", "removed"]),
                                 "publications": st.sampled_from(["same", "added", "edited"])})
run_step = st.tuples(st.just("run"), variant, st.sampled_from(OPTIONS))
stage_step = st.sampled_from(sorted(STAGE_OPTIONS)).flatmap(
    lambda s: st.tuples(st.just(s), variant, st.sampled_from(STAGE_OPTIONS[s])))


def command(step, inputs: dict[str, dict[str, Path]], out: Path) -> list[str]:
    name, chosen, options = step
    subs, revs, pubs = (str(inputs[k][chosen[k]]) for k in ("submissions", "reviewers", "publications"))
    given = {"run": ["-p", pubs, "-r", revs, "-c", str(GOOD / "conflicts.csv")],
             "match": ["-p", pubs, "-r", revs, "-c", str(GOOD / "conflicts.csv")],
             "topics": ["-p", pubs, "-r", revs], "summarize": [], "export": ["-r", revs]}[name]
    return [name, subs, *given, *options, "-o", str(out)]


def outputs(folder: Path) -> dict[str, bytes]:
    """Every output but the manifest (times) and the caches; the report without its run time."""
    found = {}
    for p in sorted(folder.rglob("*")):
        name = p.relative_to(folder).as_posix()
        if p.is_file() and not name.startswith("cache/") and name not in ("manifest.json", ".triage.lock"):
            data = p.read_bytes()
            found[name] = re.sub(rb"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? UTC", b"TIME", data) if name == "report.html" \
                else data
    return found


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=run_step, then=st.lists(st.one_of(run_step, stage_step), max_size=1), final=run_step)
def test_a_rerun_gives_what_a_fresh_run_gives(first, then, final, inputs, monkeypatch, tmp_path_factory):
    import triage.pipeline

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda model, *a, **k: ModelFake(model))
    work = tmp_path_factory.mktemp("rerun")
    out, fresh = work / "out", work / "fresh"
    for step in [first, *then]:
        res = runner.invoke(app, command(step, inputs, out))
        assert res.exit_code == 0, (step, res.output)
    # Cluster ids are kept across reruns on purpose (k-means starts from the folder's centroids.npy): without
    # them, every other cache and record must give the fresh run's bytes.
    (out / "centroids.npy").unlink(missing_ok=True)
    for folder in (out, fresh):
        res = runner.invoke(app, command(final, inputs, folder))
        assert res.exit_code == 0, (final, res.output)
    assert outputs(out).keys() == outputs(fresh).keys()
    differ = [name for name, data in outputs(fresh).items() if outputs(out)[name] != data]
    assert differ == [], (first, then, final)
    shutil.rmtree(work)
