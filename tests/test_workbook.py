"""Spreadsheet and compressed inputs: CMT's workbooks (.xlsx, Excel 2003 XML .xls) and .gz files."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from triage.cli import app
from triage.errors import InputError
from triage.ingest import parse_list, read_conflicts, read_publications, read_reviewers, read_submissions

DATA = Path(__file__).parent / "data"
CMT_HEADER = ["Paper ID", "Created", "Paper Title", "Abstract", "Author Names", "Author Emails",
              "Primary Subject Area", "Status"]


def cmt_authors(authors: str) -> str:
    """'Jane Doe (Some University)*; John Smith (Some University)': affiliations, and a star on the contact."""
    names = parse_list(authors)
    return "; ".join(f"{a} (University {k % 3})" + ("*" if k == 0 else "") for k, a in enumerate(names))


def cmt_rows(subs: pd.DataFrame) -> list[list[object]]:
    """Submissions as CMT's export lists them (numeric paper ids, one status per paper)."""
    return [[i + 1, "1/15/2024 9:00:00 AM", r.title, r.abstract, cmt_authors(r.authors), "", "Theory",
             "Withdrawn" if i == 3 else "Awaiting Decision"] for i, r in enumerate(subs.itertuples())]


def write_cmt_xlsx(path: Path, subs: pd.DataFrame, *, split: int = 25, extra_sheet: bool = False) -> None:
    """Two track sheets, each with a title row and a blank row above the header (row 3)."""
    wb = openpyxl.Workbook()
    rows = cmt_rows(subs)
    for n, (name, part) in enumerate((("Main Track", rows[:split]), ("Theory Track", rows[split:]))):
        ws = wb.active if n == 0 else wb.create_sheet()
        ws.title = name
        ws.append([f"Papers - {name}"])
        ws.append([])
        ws.append(CMT_HEADER)
        for r in part:
            ws.append(r)
    if extra_sheet:
        ws = wb.create_sheet("Summary")
        ws.append(["Track", "Papers"])
        ws.append(["Main Track", split])
    wb.save(path)


def cmt_xml(rows: list[list[object]]) -> str:
    """Excel 2003 XML as CMT writes it: namespaces, styles, a merged title row, html-formatted text,
    and cells skipped with ss:Index."""
    def cell(v: object, index: int | None = None) -> str:
        at = f' ss:Index="{index}"' if index else ""
        kind = "Number" if isinstance(v, int) else "String"
        text = f"{float(v)}" if isinstance(v, int) else str(v)  # numbers as some exports write them: 4.0
        return f'<Cell{at}><Data ss:Type="{kind}">{escape(text)}</Data></Cell>'

    body = ['<Row><Cell ss:MergeAcross="7"><Data ss:Type="String">Papers</Data></Cell></Row>', "<Row/>",
            "<Row>" + "".join(cell(h) for h in CMT_HEADER) + "</Row>"]
    for r in rows:
        head, _, rest = str(r[2]).partition(" ")
        rich = (f'<Cell><ss:Data ss:Type="String" xmlns="http://www.w3.org/TR/REC-html40"><B>{escape(head)}</B> '
                f"{escape(rest)}</ss:Data></Cell>")  # rich text: the title's first word in bold
        cells = [cell(r[0]), cell(r[1]), rich if r[0] % 5 == 0 else cell(r[2]), cell(r[3])]
        if r[0] % 2:  # no author emails: the cell is skipped, or merged with the names
            cells += [cell(r[4]), cell(r[6], index=7)]
        else:
            cells += [cell(r[4]).replace("<Cell>", '<Cell ss:MergeAcross="1">'), cell(r[6])]
        cells.append(cell(r[7]))
        body.append("<Row>" + "".join(cells) + "</Row>")
    return ('<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
            '<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet" '
            'xmlns:o="urn:schemas-microsoft-com:office:office" xmlns:x="urn:schemas-microsoft-com:office:excel" '
            'xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet" xmlns:html="http://www.w3.org/TR/REC-html40">\n'
            '<Styles><Style ss:ID="Default" ss:Name="Normal"><Alignment ss:Vertical="Bottom"/></Style></Styles>\n'
            '<Worksheet ss:Name="Papers"><Table>' + "\n".join(body) + "</Table></Worksheet></Workbook>\n")


@pytest.fixture
def subs() -> pd.DataFrame:
    return pd.read_csv(DATA / "submissions.csv", dtype=str, keep_default_na=False)


def test_cmt_xlsx_with_title_rows_and_one_sheet_per_track(tmp_path, subs, caplog):
    path = tmp_path / "Papers.xlsx"
    write_cmt_xlsx(path, subs)
    with caplog.at_level(logging.WARNING, logger="triage"):
        papers, excluded = read_submissions(path)
    assert len(papers) == len(subs) - 1  # the withdrawn paper is left out
    assert papers["paper_id"].tolist() == [str(i + 1) for i in range(len(subs)) if i != 3]  # 4, not 4.0
    assert papers["title"].tolist() == [t for i, t in enumerate(subs["title"]) if i != 3]
    assert papers["abstract"].iloc[0] == " ".join(subs["abstract"].iloc[0].split())
    assert papers["primary_area"].eq("Theory").all()
    assert papers["authors"].tolist() == [parse_list(a) for i, a in enumerate(subs["authors"]) if i != 3]
    assert excluded["paper_id"].tolist() == ["4"]
    assert "sheet 'Main Track' row 7" in caplog.text  # where the withdrawn paper is in the workbook


def test_an_error_names_the_sheet_and_row_the_chair_sees(tmp_path, subs):
    path = tmp_path / "Papers.xlsx"
    write_cmt_xlsx(path, subs)
    wb = openpyxl.load_workbook(path)
    wb["Theory Track"]["A5"] = 2  # the second paper's id again, on the second data row of the sheet
    wb.save(path)
    with pytest.raises(InputError, match=r"duplicate paper_id '2' in sheet 'Main Track' row 5 and "
                                         r"sheet 'Theory Track' row 5"):
        read_submissions(path)
    wb["Theory Track"]["A5"] = 30
    wb["Theory Track"]["K6"] = "stray note"
    wb.save(path)
    with pytest.raises(InputError, match=r"sheet 'Theory Track' row 6 has a value in column 11, which has no header"):
        read_submissions(path)


def test_sheets_with_other_columns_are_skipped_with_a_warning(tmp_path, subs, caplog):
    path = tmp_path / "Papers.xlsx"
    write_cmt_xlsx(path, subs, extra_sheet=True)
    with caplog.at_level(logging.WARNING, logger="triage"):
        papers, _ = read_submissions(path)
    assert len(papers) == len(subs) - 1
    assert "skipped 'Summary' (2 row(s), no column triage reads)" in caplog.text


def test_a_track_with_its_own_questions_is_read_by_column_name(tmp_path, subs, caplog):
    """A track sheet with a custom question column (and its columns in another order) is still read."""
    path = tmp_path / "Papers.xlsx"
    write_cmt_xlsx(path, subs)
    wb = openpyxl.load_workbook(path)
    ws = wb["Theory Track"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    wb.remove(ws)
    ws = wb.create_sheet("Theory Track")
    for r in rows[:2]:
        ws.append(r)
    head = rows[2]
    order = [2, 0, 1, *range(3, len(head))]  # title first
    ws.append([str(head[i]).lower() if i == 2 else head[i] for i in order]  # 'paper title': another case
              + ["Q1 (Will you release code?)"])
    for r in rows[3:]:
        ws.append([r[i] for i in order] + ["yes"])
    wb.save(path)
    with caplog.at_level(logging.WARNING, logger="triage"):
        papers, _ = read_submissions(path)
    assert papers["paper_id"].tolist() == [str(i + 1) for i in range(len(subs)) if i != 3]
    assert papers["title"].tolist() == [t for i, t in enumerate(subs["title"]) if i != 3]
    assert "skipped" not in caplog.text
    ws = wb.create_sheet("Reviewers")  # a table of other known columns is no track: skipped, and said so
    ws.append(["E-mail", "First Name", "Last Name"])
    ws.append(["a@b.org", "Ann", "Lee"])
    wb.save(path)
    with caplog.at_level(logging.WARNING, logger="triage"):
        assert len(read_submissions(path)[0]) == len(papers)
    assert "skipped 'Reviewers' (1 row(s) under other columns)" in caplog.text


def test_cmt_excel_2003_xml(tmp_path, subs):
    path = tmp_path / "Papers.xls"
    path.write_text(cmt_xml(cmt_rows(subs)), encoding="utf-8")
    papers, excluded = read_submissions(path)
    assert papers["paper_id"].tolist() == [str(i + 1) for i in range(len(subs)) if i != 3]
    assert papers["title"].tolist() == [t for i, t in enumerate(subs["title"]) if i != 3]
    assert papers["primary_area"].eq("Theory").all()  # after the skipped or merged email cell
    assert papers["authors"].tolist() == [parse_list(a) for i, a in enumerate(subs["authors"]) if i != 3]
    assert excluded["paper_id"].tolist() == ["4"]


def test_excel_2003_xml_broken_and_binary_xls(tmp_path, subs):
    bad = tmp_path / "Papers.xls"
    bad.write_text(cmt_xml(cmt_rows(subs))[:-40], encoding="utf-8")
    with pytest.raises(InputError, match=r"Papers.xls: line \d+ is not valid XML"):
        read_submissions(bad)
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    with pytest.raises(InputError, match="Excel 97-2003 binary workbook .* save it as .xlsx"):
        read_submissions(old)


def test_reviewers_publications_and_conflicts_from_workbooks(tmp_path):
    for name, reader in (("reviewers", read_reviewers), ("publications", read_publications),
                         ("conflicts", read_conflicts)):
        table = pd.read_csv(DATA / f"{name}.csv", dtype=str, keep_default_na=False)
        path = tmp_path / f"{name}.xlsx"
        table.to_excel(path, index=False)
        got = reader(path)
        want = reader(DATA / f"{name}.csv")
        pd.testing.assert_frame_equal(got, want)


def test_gzip_compressed_csv_and_jsonl(tmp_path, subs):
    csv_gz = tmp_path / "submissions.csv.gz"
    csv_gz.write_bytes(gzip.compress((DATA / "submissions.csv").read_bytes()))
    pd.testing.assert_frame_equal(read_submissions(csv_gz)[0], read_submissions(DATA / "submissions.csv")[0])
    jsonl_gz = tmp_path / "submissions.jsonl.gz"
    jsonl_gz.write_bytes(gzip.compress(subs.to_json(orient="records", lines=True).encode()))
    assert read_submissions(jsonl_gz)[0]["paper_id"].tolist() == subs["paper_id"].tolist()
    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(gzip.compress(b"paper_id,title\n1,x\n")[:-6])
    with pytest.raises(InputError, match="is gzip-compressed but cannot be decompressed"):
        read_submissions(broken)


def test_topics_reads_a_cmt_workbook(tmp_path, subs, monkeypatch, fake_embedder):
    monkeypatch.setattr("triage.pipeline.load_embedder", lambda *a, **k: fake_embedder)
    path = tmp_path / "Papers.xlsx"
    write_cmt_xlsx(path, subs)
    res = CliRunner().invoke(app, ["topics", str(path), "-o", str(tmp_path / "out"), "--theory", "none"])
    assert res.exit_code == 0, res.output
    topics = pd.read_csv(tmp_path / "out" / "topics.csv", dtype=str)
    assert topics["paper_id"].tolist() == [str(i + 1) for i in range(len(subs)) if i != 3]


def _rewrite_member(path: Path, member: str, edit) -> None:
    import zipfile

    with zipfile.ZipFile(path) as z:
        items = {n: z.read(n) for n in z.namelist()}
    items[member] = edit(items[member])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for n, data in items.items():
            z.writestr(n, data)


def test_a_wrong_recorded_sheet_size_loses_nothing_and_a_damaged_sheet_is_one_line(tmp_path, subs):
    import re

    path = tmp_path / "subs.xlsx"
    subs.to_excel(path, index=False)
    _rewrite_member(path, "xl/worksheets/sheet1.xml", lambda x: re.sub(rb'<dimension ref="[^"]*"/>',
                                                                         b'<dimension ref="A1:C10"/>', x))
    papers, _ = read_submissions(path)
    assert len(papers) == len(subs) and papers["authors"].tolist() == [parse_list(a) for a in subs["authors"]]
    _rewrite_member(path, "xl/worksheets/sheet1.xml", lambda x: x[: len(x) // 2])
    with pytest.raises(InputError, match="looks like an Excel workbook but cannot be read"):
        read_submissions(path)


def test_a_cover_page_and_a_note_above_the_header_are_not_the_table(tmp_path, subs, caplog):
    path = tmp_path / "Papers.xlsx"
    wb = openpyxl.Workbook()
    cover = wb.active
    cover.title = "Read me"
    cover.append(["Exported from CMT on 2024-01-15"])
    cover.append(["Conference: a venue"])
    ws = wb.create_sheet("Track 1")
    ws.append(["Area", "Learning theory"])  # one known word in a note: not the header
    ws.append([])
    ws.append(CMT_HEADER)
    for r in cmt_rows(subs):
        ws.append(r)
    wb.save(path)
    with caplog.at_level(logging.WARNING, logger="triage"):
        papers, _ = read_submissions(path)
    assert len(papers) == len(subs) - 1 and "skipped 'Read me'" in caplog.text


def test_a_bad_bid_in_a_workbook_names_its_row(tmp_path):
    from triage.assign import read_bids

    path = tmp_path / "bids.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (["Bids"], [], ["paper_id", "reviewer_id", "bid"], ["1", "r1", "High"], ["2", "r2", "Hgih"]):
        ws.append(row)
    wb.save(path)
    with pytest.raises(InputError, match=r"bids.xlsx: row 5 column 'bid' is 'Hgih'"):
        read_bids(path)
