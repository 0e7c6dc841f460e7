"""Draw abstracts for hand-labelling assumptions, excluding those already labelled.

Usage: python tests/data/draw_assumption_sample.py SOURCE_DIR --seed 11 --out FILE.csv [--exclude SPLIT ...]
where SOURCE_DIR holds colt_2023_2024_papers.csv.gz and iclr_2021_2022_submissions.csv.gz, and the
papers of the ``--exclude`` splits of ``assumptions_labelled.csv`` (default: all) are left out.
Set ``freshK`` was drawn with ``--seed 10+K --exclude`` the splits labelled before it, e.g.
``--seed 12 --exclude tune holdout fresh1`` for ``fresh2``. Two splits drawn to be labelled together
pass the first one's file to the second with ``--exclude-drawn`` (``fresh31``).

Strata (as for the first 62 labels, scaled to 40): 12 COLT abstracts that mention networks,
gradient descent, regression or Gaussians, 8 other COLT abstracts, and 20 ICLR abstracts whose
keywords name a theory topic. The file has no labels: they are added by reading each abstract.

The first COLT stratum ran out after ``fresh9``. With ``--neurips`` (used from ``fresh10`` on, and
needing ``neurips_2013_2018_accepted.csv.gz`` in SOURCE_DIR) the strata are 20 NeurIPS 2013-18
abstracts that mention networks, gradient descent, regression or Gaussians and state a result
("we prove", "theorem", "bound", "converge"), 12 other COLT abstracts and 8 ICLR theory abstracts:
a venue and years the detector was never tuned on. When fewer than 8 ICLR theory abstracts are left, the
rest come from ICLR abstracts whose keywords name theory more broadly (``ICLR_THEORY_BROAD``).
``--colt-iclr`` (``fresh18`` on) draws from COLT and ICLR only, the venues the issue names: 20 other
COLT abstracts (as many as are left) and ICLR theory abstracts for the rest (filled from the broader
ICLR pool). ``--iclr-proofs`` (``fresh26`` on, once both ICLR keyword pools were used up) draws 40
ICLR abstracts that state a proved result (``PROOF``), whatever their keywords. ``--neurips-only``
(``fresh28`` on, once the COLT pool was used up) draws 40 NeurIPS 2013-18 abstracts of the ``--neurips``
kind. Both pools ran short at ``fresh47``: ``--iclr-proofs`` then takes what is left, and
``--neurips-only`` fills up with NeurIPS abstracts that state a result without the setting words
(``fresh48`` has 7 of them, ``fresh49`` on only those; after ``fresh68`` one is left).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
COLT_SETTING = r"network|gradient descent|regression|gaussian"
ICLR_THEORY = (r"neural tangent|\bntk\b|double descent|benign overfit|implicit bias|implicit regulari|mean[- ]field|"
               r"learning theory|deep learning theory|generalization bound|pac-bayes|edge of stability|"
               r"overparameteri|over-parameteri|convergence analysis|sample complexity|theoretical analysis")
ICLR_THEORY_BROAD = r"theor|provabl|convergence|generali[sz]ation|regret|complexity|bound"
RESULT = r"we prove|theorem|we show that|upper bound|lower bound|converge"
PROOF = r"we prove|theorem|provabl|upper bound|lower bound|we establish"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--exclude", nargs="*", help="splits whose papers are left out (default: all)")
    ap.add_argument("--exclude-drawn", nargs="*", type=Path, default=[],
                    help="earlier drawn sample CSVs, not labelled yet, whose papers are left out too")
    ap.add_argument("--neurips", action="store_true", help="the later strata (NeurIPS theory, COLT, ICLR)")
    ap.add_argument("--colt-iclr", action="store_true", help="COLT and ICLR only (20 other COLT, 20 ICLR theory)")
    ap.add_argument("--iclr-proofs", action="store_true", help="40 ICLR abstracts that state a proved result")
    ap.add_argument("--neurips-only", action="store_true", help="40 NeurIPS abstracts that state a result")
    args = ap.parse_args()
    labelled = pd.read_csv(HERE / "assumptions_labelled.csv", keep_default_na=False)
    if args.exclude is not None:
        labelled = labelled[labelled["split"].isin(args.exclude)]
    done = set(labelled["paper_id"])
    for drawn in args.exclude_drawn:
        done |= set(pd.read_csv(drawn, keep_default_na=False)["paper_id"])
    colt = pd.read_csv(args.source / "colt_2023_2024_papers.csv.gz", keep_default_na=False)
    iclr = pd.read_csv(args.source / "iclr_2021_2022_submissions.csv.gz", keep_default_na=False)
    colt = colt[~colt["id"].isin(done) & (colt["decision"] == "Original Papers")]
    iclr = iclr[~iclr["id"].isin(done)]
    setting = colt["abstract"].str.contains(COLT_SETTING, case=False)
    theory = iclr["keywords"].str.contains(ICLR_THEORY, case=False)
    broad = ~theory & iclr["keywords"].str.contains(ICLR_THEORY_BROAD, case=False)
    if args.iclr_proofs:
        proofs = iclr[iclr["abstract"].str.contains(PROOF, case=False)]
        parts = [proofs.sample(n=min(40, len(proofs)), random_state=args.seed)]
    elif args.colt_iclr:
        c = min(20, int((~setting).sum()))
        k = min(40 - c, int(theory.sum()))
        parts = [colt[~setting].sample(n=c, random_state=args.seed),
                 iclr[theory].sample(n=k, random_state=args.seed),
                 iclr[broad].sample(n=40 - c - k, random_state=args.seed)]
    elif args.neurips or args.neurips_only:
        nips = pd.read_csv(args.source / "neurips_2013_2018_accepted.csv.gz", keep_default_na=False)
        nips = nips[~nips["id"].isin(done)]
        stated = (nips["abstract"].str.contains(COLT_SETTING, case=False)
                  & nips["abstract"].str.contains(RESULT, case=False))
        if args.neurips_only:
            k = min(40, int(stated.sum()))
            other = ~stated & nips["abstract"].str.contains(RESULT, case=False)
            parts = [nips[stated].sample(n=k, random_state=args.seed),
                     nips[other].sample(n=min(40 - k, int(other.sum())), random_state=args.seed)]
        else:
            # When fewer than 8 ICLR theory abstracts are left (from fresh12 on), the rest come from ICLR
            # abstracts whose keywords name theory more broadly.
            k = min(8, int(theory.sum()))
            parts = [nips[stated].sample(n=20, random_state=args.seed),
                     colt[~setting].sample(n=12, random_state=args.seed),
                     iclr[theory].sample(n=k, random_state=args.seed),
                     iclr[broad].sample(n=8 - k, random_state=args.seed)]
    else:
        parts = [colt[setting].sample(n=12, random_state=args.seed),
                 colt[~setting].sample(n=8, random_state=args.seed),
                 iclr[theory].sample(n=20, random_state=args.seed)]
    out = pd.concat(parts)[["id", "venue", "year", "title", "abstract"]].rename(columns={"id": "paper_id"})
    out.to_csv(args.out, index=False)
    print(f"{len(out)} abstracts -> {args.out}")


if __name__ == "__main__":
    main()
