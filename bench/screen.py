"""The desk-reject screen's abstract checks on the dev abstracts: how many each check flags, and which.

Each dev file (ICLR 2021-22 submissions, NeurIPS 2013-18 accepted papers, COLT 2023-24 papers) is read as
submissions are and screened without PDFs. Every flagged abstract is printed with its finding, to be read;
the short-abstract check is also counted at other thresholds, and the COLT abstracts that cite an author's
earlier work in the third person ("Brown et al. (2023)" in a paper by Gavin Brown), which the screen
accepts, are counted.

    python bench/screen.py --data DATA [--show 40]
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage.ingest import read_papers  # noqa: E402
from triage.screen import fold, screen_papers  # noqa: E402

FILES = {"ICLR": "iclr_2021_2022_submissions.csv.gz", "NeurIPS": "neurips_2013_2018_accepted.csv.gz",
         "COLT": "colt_2023_2024_papers.csv.gz"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--show", type=int, default=40, help="flagged abstracts printed per check")
    args = ap.parse_args()
    logging.getLogger("triage").setLevel(logging.ERROR)  # ingest's notes on the dev files' extra columns

    papers, found = {}, []
    for venue, name in FILES.items():
        df = read_papers(args.data / name)
        papers[venue] = df
        found.append(screen_papers(df).assign(venue=venue))
    found = pd.concat(found, ignore_index=True)
    total = sum(len(df) for df in papers.values())

    print(f"{total} abstracts: " + ", ".join(f"{v} {len(df)}" for v, df in papers.items()))
    counts = found.pivot_table(index="check", columns="venue", values="paper_id", aggfunc="count", fill_value=0)
    counts = counts.reindex(columns=list(FILES), fill_value=0)
    counts["all"] = counts.sum(axis=1)
    print("\n| check | severity | " + " | ".join(counts.columns) + " |")
    print("|---|---|" + "---|" * len(counts.columns))
    severity = found.drop_duplicates("check").set_index("check")["severity"]
    for check, row in counts.iterrows():
        print(f"| `{check}` | {severity[check]} | " + " | ".join(str(int(v)) for v in row) + " |")
    print("| papers flagged | | " + " | ".join(str(found[found.venue == v].paper_id.nunique()) for v in FILES)
          + f" | {found.paper_id.nunique()} |")

    print("\nAbstracts with fewer words than N (the short-abstract check at other thresholds):")
    words = pd.concat([df["abstract"].str.split().str.len().rename(v) for v, df in papers.items()], axis=1)
    for n in (20, 30, 40, 50, 60):
        print(f"  < {n}: " + ", ".join(f"{v} {int((words[v] < n).sum())}" for v in FILES))

    colt = papers["COLT"]
    third = 0
    for rec in colt.to_dict("records"):
        text = fold(rec["abstract"])
        third += any(re.search(rf"(?<![a-z]){re.escape(fold(a.split()[-1]))}\s+et\s+al", text)
                     for a in rec["authors"])
    print(f"\nCOLT abstracts citing one of their authors as 'Surname et al.' (third person, not flagged): {third}")

    for check, rows in found.groupby("check", sort=True):
        print(f"\n## {check} ({len(rows)})")
        for r in rows.head(args.show).itertuples():
            print(f"- {r.venue} {r.paper_id}: {r.detail}")


if __name__ == "__main__":
    main()
