"""A built wheel carries the prompts, taxonomies, vocabulary and demo data, and triage finds them there."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).parent.parent
SHIPPED = ["prompts/*.txt", "data/assumptions.yaml", "data/taxonomies/*.yaml", "data/demo/*.csv"]


def test_wheel_carries_the_files_the_code_reads(tmp_path):
    src = tmp_path / "src"  # a copy, so the build leaves nothing behind in the checkout
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")
    for name in ("triage", "prompts", "data"):
        shutil.copytree(ROOT / name, src / name, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                    "-q", "-w", str(tmp_path / "dist"), str(src)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("triage-*.whl")

    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        site = (tmp_path / "site").resolve()
        zf.extractall(site)  # what `pip install --target site` does with a pure-Python wheel
    needed = {f"triage/{p.relative_to(ROOT).as_posix()}" for pattern in SHIPPED for p in ROOT.glob(pattern)}
    assert len(needed) >= 10
    assert needed <= names, sorted(needed - names)
    assert all(n.startswith(("triage/", "triage-")) for n in names), sorted(names)

    # Installed so, and run outside the checkout, triage reads its own copies.
    code = "\n".join([
        "from triage import llm, resources, summarize, taxonomy",
        "print(resources.ROOT)",
        "print(taxonomy.resolve_taxonomy('iclr'))",
        "print(len(llm.load_prompts()), len(summarize.load_vocabulary().labels) > 0)",
        "print((resources.DEMO_DIR / 'submissions.csv').is_file())",
    ])
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [str(site / "triage"), str(site / "triage" / "data" / "taxonomies" / "iclr.yaml"),
                                       "4 True", "True"]
