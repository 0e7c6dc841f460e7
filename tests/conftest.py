"""Shared fixtures: a tiny deterministic embedder for unit tests, the real bundled model for e2e tests."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


class FakeEmbedder:
    """Hashed bag of words, L2-normalised: texts sharing words get similar vectors."""

    name = "fake-hash-64"
    dim = 64

    def __init__(self) -> None:
        self.calls = 0
        self.seen = 0

    def encode(self, texts: list[str], *, batch_size: int = 32) -> np.ndarray:
        self.calls += 1
        self.seen += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in re.findall(r"[a-z]+", t.lower()):
                h = int(hashlib.md5(w.encode()).hexdigest()[:8], 16)
                out[i, h % self.dim] += 1.0 if (h >> 8) & 1 else -1.0
            n = np.linalg.norm(out[i])
            out[i] = out[i] / n if n else out[i]
        return out


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    from triage.embed import load_embedder

    return load_embedder("default")


@pytest.fixture
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory) -> Path:
    """One real run (bundled model) of `triage run` on tests/data, shared by the report, export and browser
    tests. Treat it as read-only: copy it (shutil.copytree) before writing into it."""
    from typer.testing import CliRunner

    from triage.cli import app

    out = tmp_path_factory.mktemp("demo-run")
    res = CliRunner().invoke(app, ["run", str(DATA / "submissions.csv"), "-p", str(DATA / "publications.csv"),
                                   "-r", str(DATA / "reviewers.csv"), "-c", str(DATA / "conflicts.csv"),
                                   "-o", str(out)])
    assert res.exit_code == 0, res.output
    return out


def expertise_dataset(folder: Path) -> Path:
    """tests/data/publications.csv as openreview-expertise lays out a dataset: ``folder/archives/~Id.jsonl``, one
    file per reviewer, one publication per line; every other reviewer's notes are API v2 ({"value": ...})."""
    import json

    import pandas as pd

    pubs = pd.read_csv(DATA / "publications.csv", dtype=str, keep_default_na=False)
    (folder / "archives").mkdir(parents=True)
    for i, (rid, own) in enumerate(pubs.groupby("reviewer_id", sort=True)):
        lines = []
        for pub in own.itertuples():
            ms = int(pd.Timestamp(f"{pub.year}-06-01", tz="UTC").timestamp() * 1000)
            content = {"title": pub.title, "abstract": pub.abstract, "venueid": pub.venue}
            if i % 2:
                content = {k: {"value": v} for k, v in content.items()}
            lines.append(json.dumps({"id": pub.pub_id, "cdate": ms, "mdate": ms, "pdate": ms, "content": content}))
        (folder / "archives" / f"{rid}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
