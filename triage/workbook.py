"""Spreadsheets as tables: Excel workbooks (.xlsx) and the Excel 2003 XML that CMT exports as ".xls".

CMT hands chairs their submissions as a workbook with one sheet per track and title rows above
the header. Each sheet is read as rows of text (openpyxl for .xlsx, lxml for the XML); the header
is the top row that names the most columns triage knows (a sheet with none, such as a cover page,
is skipped), and the sheets that share the first sheet's header are stacked. Every data row keeps
its place ("sheet 'Track 1' row 7"), so an error names the row the chair sees in the spreadsheet
program.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from triage.errors import InputError

XLSX_MAGIC = b"PK\x03\x04"  # a zip archive: .xlsx, .xlsm
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 binary .xls
SPREADSHEET_NS = "urn:schemas-microsoft-com:office:spreadsheet"
HEADER_SCAN = 10  # rows searched for the header (CMT puts it on row 3)
RESAVE = "open it in a spreadsheet program and save it as .xlsx, or export the sheet as CSV (UTF-8)"


@dataclass
class Sheet:
    name: str
    rows: list[list[str]]


@dataclass
class Table:
    """The stacked sheets: columns, data rows, and where each row is in the workbook."""

    frame: pd.DataFrame
    row_names: list[str]


def kind(raw: bytes) -> str | None:
    """'xlsx', 'xml' (Excel 2003 XML), 'xls' (binary, unreadable here) or None (not a spreadsheet)."""
    if raw.startswith(XLSX_MAGIC):
        return "xlsx"
    if raw.startswith(OLE2_MAGIC):
        return "xls"
    head = raw[:65536]
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<?xml") and SPREADSHEET_NS.encode() in head:
        return "xml"
    return None


def _text(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))  # ids typed as numbers: 12, not 12.0
    if isinstance(v, dt.datetime) and v.time() == dt.time():
        return v.date().isoformat()
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    return str(v)


def xlsx_sheets(path: Path, raw: bytes) -> list[Sheet]:
    import openpyxl

    try:
        wb = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
    except Exception as exc:  # a zip that is no workbook: BadZipFile, KeyError, InvalidFileException...
        raise InputError(f"{path}: looks like an Excel workbook but cannot be read ({type(exc).__name__}); "
                         f"{RESAVE}") from None
    try:
        sheets = []
        for ws in wb.worksheets:
            ws.reset_dimensions()  # the size a file records can be wrong: read every row and cell there is
            rows = [[_text(v) for v in row] for row in ws.iter_rows(values_only=True)]
            while rows and not any(c.strip() for c in rows[-1]):
                rows.pop()
            sheets.append(Sheet(ws.title, [_trim(r) for r in rows]))
        return sheets
    except Exception as exc:  # a damaged sheet is parsed only now, row by row
        raise InputError(f"{path}: looks like an Excel workbook but cannot be read ({type(exc).__name__}); "
                         f"{RESAVE}") from None
    finally:
        wb.close()


def _trim(row: list[str]) -> list[str]:
    """A row without its empty cells at the end (formatted but empty columns to the sheet's edge)."""
    end = len(row)
    while end and not row[end - 1].strip():
        end -= 1
    return row[:end]


def xml_sheets(path: Path, raw: bytes) -> list[Sheet]:
    """Excel 2003 XML (SpreadsheetML): Worksheet/Table/Row/Cell/Data, with ss:Index for skipped cells
    and rows and ss:MergeAcross for merged ones."""
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(raw, parser)
    except etree.XMLSyntaxError as exc:
        raise InputError(f"{path}: line {exc.lineno} is not valid XML ({exc.msg}); export the workbook again, "
                         f"or {RESAVE}") from None
    ns = {"ss": SPREADSHEET_NS}
    index, merge, name, kind = (f"{{{SPREADSHEET_NS}}}{a}" for a in ("Index", "MergeAcross", "Name", "Type"))
    sheets = []
    for ws in root.iterfind("ss:Worksheet", ns):
        rows: list[list[str]] = []
        for row in ws.iterfind("ss:Table/ss:Row", ns):
            if row.get(index):
                rows.extend([] for _ in range(int(row.get(index)) - 1 - len(rows)))
            cells: list[str] = []
            for cell in row.iterfind("ss:Cell", ns):
                if cell.get(index):
                    cells.extend("" for _ in range(int(cell.get(index)) - 1 - len(cells)))
                data = cell.find("ss:Data", ns)
                cells.append("" if data is None else _typed("".join(data.itertext()), data.get(kind)))
                cells.extend("" for _ in range(int(cell.get(merge) or 0)))
            rows.append(cells)
        sheets.append(Sheet(ws.get(name) or f"Sheet{len(sheets) + 1}", rows))
    return sheets


def _typed(text: str, kind: str | None) -> str:
    """An Excel 2003 XML value as an .xlsx cell reads: the number 12 (written '12.0') is '12', a date at
    midnight ('2024-01-15T00:00:00.000') is '2024-01-15'."""
    if kind == "Number":
        try:
            return _text(float(text))
        except ValueError:
            return text
    if kind == "DateTime" and text.endswith("T00:00:00.000"):
        return text[: -len("T00:00:00.000")]
    return text


def norm_header(name: object) -> str:
    """A column name as triage compares it: 'Paper  Title' -> 'paper_title'."""
    return "_".join(str(name).lower().split())


def _known(row: list[str], known: set[str]) -> int:
    return sum(1 for c in row if norm_header(c) in known)


def _header_row(rows: list[list[str]], known: set[str]) -> int | None:
    """Of the top rows, the one that names the most known columns (the first such); None if none names one."""
    best, count = None, 0
    for i, row in enumerate(rows[:HEADER_SCAN]):
        k = _known(row, known)
        if k > count:
            best, count = i, k
    return best


def _first_row(rows: list[list[str]]) -> int | None:
    return next((i for i, row in enumerate(rows) if any(c.strip() for c in row)), None)


def _unique(names: list[str]) -> list[str]:
    """Repeated header names as pandas' CSV reader has them: a, a.1, a.2."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0)
        out.append(n if k == 0 else f"{n}.{k}")
        seen[n] = k + 1
    return out


def stack(path: Path, sheets: list[Sheet], known: set[str]) -> tuple[Table, list[str]]:
    """One table from the sheets that share the first sheet's header, or name the same known columns
    (a track's custom questions differ: its columns are matched by name, and the others left empty);
    also the names of the sheets skipped, with their number of rows."""
    header: list[str] | None = None
    header_known: set[str] = set()
    parts: list[pd.DataFrame] = []
    names: list[str] = []
    skipped: list[str] = []
    many = sum(1 for s in sheets if any(c.strip() for r in s.rows for c in r)) > 1
    heads = [_header_row(sheet.rows, known) for sheet in sheets]
    if all(h is None for h in heads):  # no row names a known column: the first row with a value is the header
        heads = [_first_row(sheet.rows) for sheet in sheets]
    for sheet, h in zip(sheets, heads):
        if h is None:
            rows = sum(1 for row in sheet.rows if any(c.strip() for c in row))
            if rows:  # a cover page or notes: no table triage knows
                skipped.append(f"'{sheet.name}' ({rows} row(s), no column triage reads)")
            continue
        cols = _trim([c.strip() for c in sheet.rows[h]])
        cols_known = {norm_header(c) for c in cols if norm_header(c) in known}
        if header is None:
            header, header_known = cols, cols_known
        elif cols != header and (cols_known != header_known or len(set(cols)) < len(cols)):
            rows = sum(1 for row in sheet.rows[h + 1:] if any(c.strip() for c in row))
            skipped.append(f"'{sheet.name}' ({rows} row(s) under other columns)")
            continue
        where = f"sheet '{sheet.name}' row" if many else "row"
        data: list[list[str]] = []
        for j, row in enumerate(sheet.rows[h + 1:], start=h + 2):
            if not any(c.strip() for c in row):
                continue
            extra = [k for k, c in enumerate(row[len(cols):], start=len(cols)) if c.strip()]
            if extra:
                raise InputError(f"{path}: {where} {j} has a value in column {extra[0] + 1}, which has no header; "
                                 "name that column in the header row or clear the cell")
            data.append(row[:len(cols)] + [""] * (len(cols) - len(row)))
            names.append(f"{where} {j}")
        spelled = {norm_header(c): c for c in header}  # 'Paper title' on one sheet is the first's 'Paper Title'
        names_here = _unique([spelled.get(norm_header(c), c) for c in cols])
        parts.append(pd.DataFrame(data, columns=names_here, dtype=object) if data
                     else pd.DataFrame(columns=names_here, dtype=object))
    if header is None:
        raise InputError(f"{path}: the workbook has no rows; export the table again with a header row and data")
    if not any(header):
        raise InputError(f"{path}: no header row found; the first row must name the columns")
    frame = pd.concat(parts, ignore_index=True).fillna("") if len(parts) > 1 else parts[0]
    return Table(frame.astype(object), names), skipped


def read_workbook(path: Path, raw: bytes, known: set[str]) -> tuple[Table, list[str]] | None:
    """The table of a spreadsheet file (and the sheets skipped), or None when ``raw`` is no spreadsheet."""
    k = kind(raw)
    if k is None:
        return None
    if k == "xls":
        raise InputError(f"{path}: is an Excel 97-2003 binary workbook (.xls), which triage does not read; {RESAVE}")
    sheets = xlsx_sheets(path, raw) if k == "xlsx" else xml_sheets(path, raw)
    return stack(path, sheets, known)
