"""The report of a real run, opened in headless chromium from a file URL: sections, script, filters, screenshot.

Needs Debian's ``chromium`` (``.ci/run`` installs it with apt-get when missing). Without it these tests are
skipped, with the reason, unless ``TRIAGE_REQUIRE_BROWSER`` is set, as ``.ci/run`` sets it: there a missing
chromium fails them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from triage.report import SECTIONS

ARTIFACTS = Path(__file__).parent / "artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--enable-logging=stderr", "--v=0"]
CONSOLE = re.compile(r":CONSOLE[:(]\d+\)?\] (.*)")


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        why = "chromium not found: install Debian's chromium (apt-get install -y chromium; .ci/run does)"
        if os.environ.get("TRIAGE_REQUIRE_BROWSER"):
            pytest.fail(why)
        pytest.skip(why)
    return exe


def test_a_missing_browser_skips_here_and_fails_where_it_is_required(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("TRIAGE_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="chromium not found"):
        _chromium()
    monkeypatch.setenv("TRIAGE_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="chromium not found"):
        _chromium()


def open_page(url: str, profile: Path, *extra: str) -> tuple[str, list[str]]:
    """Load ``url`` headless; returns (stdout, console messages). Any console message fails a report."""
    res = subprocess.run([_chromium(), *FLAGS, f"--user-data-dir={profile}", *extra, url],
                         capture_output=True, text=True, timeout=120)
    return res.stdout, CONSOLE.findall(res.stderr)


def test_console_errors_are_detected(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><body><p>x</p><script>"
                    "document.documentElement.setAttribute('data-ready','1');throw new Error('boom');"
                    "</script></body></html>")
    dom, console = open_page(page.as_uri(), tmp_path / "profile", "--dump-dom")
    assert 'data-ready="1"' in dom
    assert any("Uncaught Error: boom" in m for m in console), console


@pytest.mark.e2e
def test_report_in_browser(demo_run, tmp_path):
    report = demo_run / "report.html"
    topics = pd.read_csv(demo_run / "topics.csv")
    n = len(topics)
    cluster = int(topics["cluster_id"].value_counts().idxmax())
    in_cluster = int((topics["cluster_id"] == cluster).sum())

    # 1. Every section is there and the script ran to its end without a console message.
    dom, console = open_page(report.as_uri() + f"?cluster={cluster}", tmp_path / "p1", "--dump-dom")
    assert console == [], console
    assert 'data-ready="1"' in dom, "the report's script did not finish"
    for s in SECTIONS:
        assert f'<section id="{s}">' in dom, s
    # The cluster filter from the URL was applied by the script: exact count, hidden cards.
    assert f"{in_cluster} of {n} papers" in dom
    assert dom.count('<article class="card') == n
    assert len(re.findall(r'<article [^>]*hidden', dom)) == n - in_cluster
    assert '<div class="controls" id="controls">' in dom  # shown once the script runs
    # A cluster's colour and its id stay on one line in a narrow window (the id went below the dot).
    probe = ("<script>window.addEventListener('load',()=>{const w=[];"
             "for(const s of document.querySelectorAll('td .swatch')){const td=s.parentElement;"
             "const r=document.createRange();r.selectNodeContents(td.lastChild);"
             "if(r.getBoundingClientRect().top>=s.getBoundingClientRect().bottom)w.push(td.textContent.trim())}"
             "document.documentElement.setAttribute('data-wrapped',w.join(' ')||'none')})</script>")
    narrow = tmp_path / "narrow.html"
    narrow.write_text(report.read_text(encoding="utf-8").replace("</body>", probe + "</body>"), encoding="utf-8")
    dom, console = open_page(narrow.as_uri(), tmp_path / "pn", "--dump-dom", "--window-size=700,800")
    assert console == [] and 'data-wrapped="none"' in dom, re.search(r'data-wrapped="[^"]*"', dom)
    # '?weak=0' leaves the weak-only filter off (any value used to turn it on).
    dom, console = open_page(report.as_uri() + "?weak=0", tmp_path / "p0", "--dump-dom")
    assert console == [] and f"{n} of {n} papers" in dom

    # 2. A screenshot of the unfiltered report, for a person to look at (tests/artifacts/, git-ignored).
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    _, console = open_page(report.as_uri(), tmp_path / "p2", f"--screenshot={shot}", "--window-size=1280,2600",
                           "--hide-scrollbars")
    assert console == [], console
    assert shot.exists() and shot.stat().st_size > 50_000
    from PIL import Image

    img = Image.open(shot).convert("RGB").resize((64, 130))
    assert len(set(img.getdata())) > 50  # not a blank page


def test_a_long_unbroken_title_wraps_instead_of_widening_the_report(tmp_path):
    # A 300-character title without a space (a URL, a formula pasted as text) used to stretch every table it
    # is in, and the cards, wider than the window: the chair scrolled sideways to read the other columns.
    from test_report import _data

    from triage.report import render_report

    data = _data()
    word = "Overparameterized" * 18
    data.papers.loc[1, "title"] = word
    data.assignments.loc[data.assignments["paper_id"] == "p1", "evidence_title"] = word
    page = tmp_path / "report.html"
    probe = ("<script>window.addEventListener('load',()=>{const w=[];"
             "for(const t of document.querySelectorAll('table')){const box=t.parentElement;"
             "if(t.offsetParent&&t.scrollWidth>box.clientWidth+1)w.push((t.id||box.className||'table')+':'"
             "+t.scrollWidth+'>'+box.clientWidth)}"
             "const d=document.documentElement;if(d.scrollWidth>innerWidth+1)w.push('page:'+d.scrollWidth);"
             "d.setAttribute('data-wide',w.join(' ')||'none')})</script>")
    page.write_text(render_report(data).replace("</body>", probe + "</body>"), encoding="utf-8")
    dom, console = open_page(page.as_uri(), tmp_path / "profile", "--dump-dom", "--window-size=900,800")
    assert console == [], console
    assert 'data-wide="none"' in dom, re.search(r'data-wide="[^"]*"', dom)
