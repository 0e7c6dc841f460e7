"""How long does report.html take to open? Headless chromium on the report of a real run.

Runs the pipeline on a conference folder (submissions.csv, publications.csv, reviewers.csv,
conflicts.csv; e.g. the bundled data/demo), then opens its report from a file URL several times:

* load event: ``performance.now()`` when the page's load event fires (parse, style, script; the
  report records it in ``<html data-load-ms>``), read back with ``--dump-dom``;
* the same with the cards' ``content-visibility:auto`` removed (every card laid out at once), in
  the same runs, to show what that style buys;
* wall: the whole ``chromium --headless --screenshot`` process (start, load, layout, paint, exit),
  minus the same for an empty page: what the report adds to opening a browser.

    python bench/report_open.py --data data/demo [--cache DIR] [--runs 5]
    python bench/report_open.py --report OUT/report.html      # a report already made (e.g. by bench/conference.py)
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's triage, installed or not

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run"]


def chromium(url: str, profile: Path, *extra: str) -> tuple[float, str]:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        sys.exit("chromium not found (apt-get install -y chromium)")
    t0 = time.perf_counter()
    res = subprocess.run([exe, *FLAGS, f"--user-data-dir={profile}", *extra, url], capture_output=True, text=True,
                         timeout=300)
    return time.perf_counter() - t0, res.stdout


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", type=Path, help="conference folder (e.g. data/demo)")
    src.add_argument("--report", type=Path, help="open this report.html instead of running the pipeline")
    ap.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "triage-bench-report",
                    help="output folder of the run, kept between runs (its embedding cache makes reruns cheap)")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()

    if args.report:
        report, t_run = args.report.resolve(), None
    else:
        from triage.pipeline import Inputs, run_all

        d = args.data
        t0 = time.perf_counter()
        result = run_all(Inputs(d / "submissions.csv", d / "publications.csv", d / "reviewers.csv",
                                d / "conflicts.csv" if (d / "conflicts.csv").exists() else None), args.cache)
        t_run = time.perf_counter() - t0
        report = result.outputs[-1]
    html = report.read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory() as td:
        blank = Path(td) / "blank.html"
        blank.write_text("<!DOCTYPE html><html><body></body></html>")
        shot = Path(td) / "shot.png"
        eager = Path(td) / "eager.html"  # the same report with every card laid out up front
        eager.write_text(html.replace("content-visibility:auto;", ""), encoding="utf-8")
        load_ms, load_eager, wall, wall_blank = [], [], [], []
        for i in range(args.runs):
            for page, out in ((report, load_ms), (eager, load_eager)):
                _, dom = chromium(page.as_uri(), Path(td) / f"d{i}{page.stem}", "--dump-dom")
                m = re.search(r'data-load-ms="(\d+)"', dom)
                if not m or 'data-ready="1"' not in dom:
                    sys.exit("the report's script did not run")
                out.append(int(m.group(1)))
            wall.append(chromium(report.as_uri(), Path(td) / f"s{i}", f"--screenshot={shot}",
                                 "--window-size=1280,900")[0])
            wall_blank.append(chromium(blank.as_uri(), Path(td) / f"b{i}", f"--screenshot={shot}",
                                       "--window-size=1280,900")[0])
    med = statistics.median
    print(f"report: {report} ({len(html) / 1e6:.2f} MB, {html.count('<article')} paper cards, "
          f"{html.count('<svg')} plots)" + (f"; pipeline run {t_run:.1f} s" if t_run is not None else ""))
    print(f"{'measure (median of ' + str(args.runs) + ')':<44}{'seconds':>10}")
    print(f"{'load event (performance.now)':<44}{med(load_ms) / 1000:>10.3f}")
    print(f"{'load event, without content-visibility':<44}{med(load_eager) / 1000:>10.3f}")
    print(f"{'chromium screenshot, report':<44}{med(wall):>10.2f}")
    print(f"{'chromium screenshot, empty page':<44}{med(wall_blank):>10.2f}")
    print(f"{'report minus empty page':<44}{med(wall) - med(wall_blank):>10.2f}")
    print(f"all load-event ms: {load_ms}; without content-visibility: {load_eager}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
