"""Rebuild data/demo/ and tests/data/ from the public development data (see data/demo/README.md).

Usage: python data/build_demo.py SOURCE_DIR
where SOURCE_DIR holds colt_2023_2024_papers.csv.gz and iclr_2021_2022_submissions.csv.gz.
The selection is deterministic (fixed seed), so rerunning gives the same files.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
THEORY = re.compile(r"neural tangent|double descent|implicit bias|implicit regulari[sz]ation|mean[- ]field|"
                    r"benign overfitting|edge of stability|lazy training|infinite width", re.I)


def profile_id(name: str, taken: dict[str, int]) -> str:
    s = unicodedata.normalize("NFKD", name)
    s = "".join(c for c in s if not unicodedata.combining(c))
    base = "~" + re.sub(r"[^A-Za-z]+", "_", s).strip("_")
    taken[base] = taken.get(base, 0) + 1
    return f"{base}{taken[base]}"


def main(src: Path) -> None:
    colt = pd.read_csv(src / "colt_2023_2024_papers.csv.gz", keep_default_na=False)
    iclr = pd.read_csv(src / "iclr_2021_2022_submissions.csv.gz", keep_default_na=False)

    # Submissions: all of COLT 2024 plus ICLR 2021-22 theory papers and a random slice of the rest.
    c24 = colt[colt["year"] == 2024]
    text = iclr["title"] + " " + iclr["abstract"] + " " + iclr["keywords"]
    theory = iclr[text.str.contains(THEORY)]
    others = iclr[~text.str.contains(THEORY)].sample(n=120, random_state=7)
    subs = pd.concat([
        pd.DataFrame({"paper_id": c24["id"], "title": c24["title"], "abstract": c24["abstract"],
                      "keywords": "", "authors": c24["authors"], "venue": "COLT 2024"}),
        pd.DataFrame({"paper_id": theory["id"], "title": theory["title"], "abstract": theory["abstract"],
                      "keywords": theory["keywords"], "authors": "",
                      "venue": "ICLR " + theory["year"].astype(str)}),
        pd.DataFrame({"paper_id": others["id"], "title": others["title"], "abstract": others["abstract"],
                      "keywords": others["keywords"], "authors": "",
                      "venue": "ICLR " + others["year"].astype(str)}),
    ], ignore_index=True)

    # Reviewers: the authors of COLT 2023 papers; their publications: those papers.
    c23 = colt[colt["year"] == 2023]
    taken: dict[str, int] = {}
    ids: dict[str, str] = {}
    pubs = []
    for row in c23.itertuples(index=False):
        authors = [a.strip() for a in row.authors.split(";") if a.strip()]
        for a in authors:
            if a not in ids:
                ids[a] = profile_id(a, taken)
            pubs.append({"reviewer_id": ids[a], "pub_id": row.id, "title": row.title, "abstract": row.abstract,
                         "year": row.year, "authors": row.authors, "venue": "COLT"})
    pubs_df = pd.DataFrame(pubs)
    counts = pubs_df.groupby("reviewer_id").size()
    reviewers = pd.DataFrame({"reviewer_id": list(ids.values()), "name": list(ids.keys())})
    reviewers["max_load"] = ""
    # Reviewers with more publications get a larger quota, as senior reviewers usually do.
    reviewers.loc[reviewers["reviewer_id"].map(counts) >= 3, "max_load"] = "8"

    # Declared conflicts: two illustrative rows in the format chairs upload.
    first = subs.iloc[0]["paper_id"]
    conflicts = pd.DataFrame([
        {"paper_id": first, "reviewer_id": reviewers.iloc[0]["reviewer_id"],
         "reason": "declared: same institution (example row)"},
        {"paper_id": subs.iloc[200]["paper_id"], "reviewer_id": reviewers.iloc[1]["reviewer_id"],
         "reason": "declared: former advisor (example row)"},
    ])
    out = ROOT / "data" / "demo"
    out.mkdir(parents=True, exist_ok=True)
    subs.to_csv(out / "submissions.csv", index=False)
    pubs_df.to_csv(out / "publications.csv", index=False)
    reviewers.to_csv(out / "reviewers.csv", index=False)
    conflicts.to_csv(out / "conflicts.csv", index=False)
    print(f"submissions {len(subs)} (COLT {len(c24)}, ICLR theory {len(theory)}, ICLR other {len(others)}); "
          f"reviewers {len(reviewers)}; publications {len(pubs_df)}")

    # Test slice: 30 COLT 2024 + 10 ICLR theory papers; the reviewers of the first 25 COLT 2023 papers.
    tdir = ROOT / "tests" / "data"
    tdir.mkdir(parents=True, exist_ok=True)
    tsubs = pd.concat([subs[subs["venue"] == "COLT 2024"].head(30), subs[subs["venue"].str.startswith("ICLR")]
                       .head(10)], ignore_index=True)
    tpub_ids = list(dict.fromkeys(pubs_df["pub_id"]))[:25]
    tpubs = pubs_df[pubs_df["pub_id"].isin(tpub_ids)]
    trevs = reviewers[reviewers["reviewer_id"].isin(set(tpubs["reviewer_id"]))]
    tsubs.to_csv(tdir / "submissions.csv", index=False)
    tpubs.to_csv(tdir / "publications.csv", index=False)
    trevs.to_csv(tdir / "reviewers.csv", index=False)
    conflicts.head(1).to_csv(tdir / "conflicts.csv", index=False)
    print(f"tests: submissions {len(tsubs)}, reviewers {len(trevs)}, publications {len(tpubs)}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
