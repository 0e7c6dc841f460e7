"""Sentence splitting on the dev abstracts: how many sentences look like a bad split.

The abstracts of the three dev files (ICLR 2021-22, NeurIPS 2013-18, COLT 2023-24: 9,424 papers) are split
as the claim cards split them, and each sentence is checked for the signs of a split in the wrong place:

- short: three tokens or fewer ("2.", "2020 and Sun et. al.", "2023.");
- lowercase: it starts with a lowercase word (math such as "$k$-means" does not count);
- number and dot: it starts with a number and a dot ("2023.", "2."); a list item that starts with its marker
  ("2. A lower bound ...") counts too, though it is no error;
- list marker at the end: it ends in the marker that opens a list ("... in various settings: 1.");
- brackets: its round or square brackets do not balance ("[SIAM J. Comput."); math and list markers such as
  "1)" or "ii)" are left out of the count.

A sentence can show several signs; each is counted once per sentence. Not every sign is an error (a title
case word can follow a list marker, brackets can open in one sentence and close in the next), so read the
examples with ``--show``.

    python bench/splits.py --data DATA [--show 5]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from triage.summarize import split_sentences  # noqa: E402

FILES = ("iclr_2021_2022_submissions.csv.gz", "neurips_2013_2018_accepted.csv.gz", "colt_2023_2024_papers.csv.gz")
_LIST_ITEM = re.compile(r"(?:^|[\s:;,])\(?(?:\d{1,2}|[ivx]{1,4}|[a-hA-H])$")
SIGNS = ("short", "lowercase", "number and dot", "list marker at the end", "brackets")
_MATH = re.compile(r"\$\$.*?\$\$|\$[^$]*\$|\\\(.*?\\\)|\\\[.*?\\\]", re.DOTALL)


def balanced(text: str) -> bool:
    """Whether every "(" and "[" closes in ``text``; a ")" that ends a list marker ("1)", "ii)") opens nothing."""
    stack = []
    for k, ch in enumerate(text):
        if ch in "([":
            stack.append(ch)
        elif ch in ")]":
            if stack and stack[-1] == {")": "(", "]": "["}[ch]:
                stack.pop()
            elif not (ch == ")" and _LIST_ITEM.search(text[max(0, k - 6):k])):
                return False
    return not stack


def signs(sentence: str) -> list[str]:
    """The signs of a bad split that ``sentence`` shows."""
    out = []
    sentence = re.sub(r"&#?\w+;", "", sentence)  # HTML entities ("&gt;") end in a semicolon that separates nothing
    if len(sentence.split()) <= 3:
        out.append("short")
    if re.match(r"[a-z]+\b(?![$-])", sentence):
        out.append("lowercase")
    if re.match(r"\d+\.(?:\s|$)", sentence):
        out.append("number and dot")
    if re.search(r"[:;]\s*\(?(?:\d{1,2}|[ivx]{1,4})[.)]{1,2}$", sentence):
        out.append("list marker at the end")
    if not balanced(_MATH.sub("", sentence)):
        out.append("brackets")
    return out


def scan(abstracts: pd.DataFrame) -> tuple[int, dict[str, list[tuple[str, str]]]]:
    """(sentences, sign -> [(paper id, sentence)])."""
    found: dict[str, list[tuple[str, str]]] = {k: [] for k in SIGNS}
    n = 0
    for pid, abstract in zip(abstracts["id"], abstracts["abstract"]):
        for s in split_sentences(abstract):
            n += 1
            for sign in signs(s):
                found[sign].append((pid, s))
    return n, found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, required=True, help="folder with the development CSVs")
    ap.add_argument("--show", type=int, default=0, help="print this many examples of each sign")
    args = ap.parse_args()
    frames = []
    for name in FILES:
        p = args.data / name
        if not p.exists():
            raise SystemExit(f"{p}: not found; pass the development data folder with --data")
        frames.append(pd.read_csv(p, keep_default_na=False)[["id", "abstract"]])
    abstracts = pd.concat(frames, ignore_index=True)
    n, found = scan(abstracts)
    print(f"{len(abstracts)} abstracts, {n} sentences\n")
    print("| sign | sentences | abstracts |\n|---|---|---|")
    for sign, hits in found.items():
        print(f"| {sign} | {len(hits)} | {len({pid for pid, _ in hits})} |")
    anyp = {pid for hits in found.values() for pid, _ in hits}
    print(f"| any | {len({(p, s) for hits in found.values() for p, s in hits})} | {len(anyp)} |")
    for sign, hits in found.items():
        if args.show and hits:
            print(f"\n{sign}:")
            for pid, s in hits[:args.show]:
                print(f"  {pid}: {s[:160]}")


if __name__ == "__main__":
    main()
