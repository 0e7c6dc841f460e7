"""Read submissions, reviewer publications, reviewers and conflicts into validated DataFrames.

This is the boundary: every check of the user's files happens here, and every problem is
either fixed with a warning (logged on the ``triage`` logger) or raised as an
:class:`~triage.errors.InputError` naming the file, the row or column, and the fix.

Accepted formats: CSV, TSV (also CMT's tab-delimited ``.txt``), JSONL, and JSON (a list of
OpenReview notes, API v1 bare values or API v2 ``{"value": ...}`` wrappers, or
``{"notes": [...]}``); spreadsheets (``.xlsx``, CMT's Excel 2003 XML ``.xls``) through
:mod:`triage.workbook`; any of them gzip-compressed. Lists are JSON lists or ``;``-joined strings.
"""

from __future__ import annotations

import ast
import codecs
import contextlib
import contextvars
import csv
import datetime
import difflib
import functools
import gzip
import html
import io
import json
import logging
import math
import os
import re
import unicodedata
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from triage.errors import InputError, quoted, shown
from triage.workbook import norm_header, read_workbook

log = logging.getLogger("triage")
_PENDING: contextvars.ContextVar[list[tuple[str, tuple[Any, ...]]] | None] = contextvars.ContextVar(
    "triage_ingest_warnings", default=None)
F = TypeVar("F", bound=Callable[..., Any])


def _warn(msg: str, *args: Any) -> None:
    """A warning about the inputs, said once the read succeeds (a failed read prints only its error)."""
    pending = _PENDING.get()
    if pending is None:
        log.warning(msg, *args)
    else:
        pending.append((msg, args))


def _warnings_on_success(fn: F) -> F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _PENDING.get() is not None:  # nested: the outermost read says them
            return fn(*args, **kwargs)
        pending: list[tuple[str, tuple[Any, ...]]] = []
        token = _PENDING.set(pending)
        try:
            result = fn(*args, **kwargs)
        finally:
            _PENDING.reset(token)
        for msg, a in pending:
            log.warning(msg, *a)
        return result

    return wrapper  # type: ignore[return-value]

# What spreadsheets and exports write for a missing text (read as no abstract, with a warning).
PLACEHOLDERS = frozenset({"na", "n/a", "nan", "null", "none", "-", "--", "tbd", "todo", "abstract", "no abstract"})
MAX_TEXT_CHARS = 20_000  # OpenReview caps abstracts at 5,000; anything far longer is a paste error

PAPER_COLUMNS = ["paper_id", "title", "abstract", "keywords", "authors", "authorids", "primary_area", "pdf", "domains",
                 "author_persons"]
PUB_COLUMNS = ["pub_id", "reviewer_id", "title", "abstract", "year", "authors", "venue", "weight"]
REVIEWER_COLUMNS = ["reviewer_id", "name", "email", "domains", "max_load", "min_load", "person_id", "member_id",
                    "senior", "other_emails"]
CONFLICT_COLUMNS = ["paper_id", "reviewer_id", "reason"]
LIST_COLUMNS = {"keywords", "authors", "authorids", "domains", "author_persons", "other_emails"}

# Lower-cased, underscored header -> canonical column name.
PAPER_ALIASES = {
    "paper_id": "paper_id", "id": "paper_id", "forum": "paper_id", "note_id": "paper_id",
    "submission_id": "paper_id", "paper": "paper_id", "#": "paper_id", "submission_#": "paper_id",
    "startsubmissionid": "paper_id",
    "title": "title", "paper_title": "title",
    "abstract": "abstract", "paperabstract": "abstract", "summary": "abstract",
    "keywords": "keywords", "keyword": "keywords",
    "authors": "authors", "author_names": "authors",
    "authorids": "authorids", "author_emails": "authorids", "author_ids": "authorids", "emails": "authorids",
    "all_author_emails": "authorids",  # START
    "primary_area": "primary_area", "primary_subject_area": "primary_area", "area": "primary_area",
    "please_choose_the_closest_area_that_your_submission_falls_into": "primary_area",  # ICLR 2023's form
    "pdf": "pdf", "pdf_path": "pdf",
    # Conflict domains the authors declared (CMT's submissions export calls them Domains).
    "domains": "domains", "conflict_domains": "domains", "domain_conflicts": "domains",
}
PUB_ALIASES = {
    "reviewer_id": "reviewer_id", "reviewer": "reviewer_id", "user": "reviewer_id", "author_id": "reviewer_id",
    "profile_id": "reviewer_id", "email": "reviewer_id",
    "paper_id": "pub_id", "pub_id": "pub_id", "publication_id": "pub_id", "id": "pub_id",
    "title": "title", "abstract": "abstract", "paperabstract": "abstract",
    "year": "year", "authors": "authors", "venue": "venue", "weight": "weight",
}
REVIEWER_ALIASES = {
    "reviewer_id": "reviewer_id", "reviewer": "reviewer_id", "user": "reviewer_id", "id": "reviewer_id",
    "profile_id": "reviewer_id", "username": "reviewer_id",
    "name": "name", "email": "email", "e-mail": "email", "e_mail": "email",
    # CMT's reviewers and user exports split the name; read_reviewers joins the parts.
    "first_name": "first_name", "middle_initial_(optional)": "middle_initial", "middle_initial": "middle_initial",
    "middle_name": "middle_initial", "last_name": "last_name",
    "domains": "domains", "domain_conflicts": "domains", "conflict_domains": "domains",
    "max_load": "max_load", "max_papers": "max_load", "quota": "max_load", "quotaforreview": "max_load",
    "quota_for_review": "max_load",  # START's quotas.csv as ACL's README spells it (its code reads QuotaForReview)
    "min_load": "min_load", "min_papers": "min_load",
    "senior": "senior", "is_senior": "senior", "experienced": "senior",  # an experienced reviewer (yes / no)
    "person_#": "person_id",  # EasyChair: the same person # as in author.csv, whatever the name or email
    "#": "member_id",  # EasyChair's member #, which its bidding.csv names the member by
    # The reviewer's other emails, under which they may author a submission: CMT's user information ("Publication
    # Emails"), an OpenReview profile's emails besides the preferred one.
    "publication_emails": "other_emails", "other_emails": "other_emails", "alternate_emails": "other_emails",
    "secondary_emails": "other_emails", "emails": "other_emails",
}
CONFLICT_ALIASES = {
    "paper_id": "paper_id", "paper": "paper_id", "submission_id": "paper_id", "head": "paper_id",
    "reviewer_id": "reviewer_id", "reviewer": "reviewer_id", "user": "reviewer_id", "tail": "reviewer_id",
    "reason": "reason", "label": "reason",
    "conflicting_reviewer_mail_id": "reviewer_id", "rules": "reason",  # AAAI's conflict finder's output
}

# Columns read before the others are renamed (CMT's file count, EasyChair's committee role, START's Roles): not
# "ignored".
READ_BEFORE_RENAMING = ("number_of_files", "role", "roles")
# Columns that say a submission left the review (OpenReview's venueid ".../Withdrawn_Submission" and
# ".../Desk_Rejected_Submission", a CMT or spreadsheet status), and the values that say so.
STATUS_COLUMNS = ("venueid", "venue", "status", "submission_status", "paper_status", "decision", "acceptance_status")
START_USERNAME = re.compile(r"\d+:_username")  # START's '1: Username' ... '98: Username': the authors' accounts
DELETED_COLUMNS = ("deleted?", "deleted")  # EasyChair's submission.csv: "yes" for a deleted submission
LEFT_REVIEW = re.compile(r"withdraw|desk[\s_-]*reject", re.IGNORECASE)
# START's Acceptance Status: before the reviews a 'Reject' is a desk reject (ACL's scripts leave out every 'Reject').
LEFT_REVIEW_START = re.compile(r"withdraw|reject", re.IGNORECASE)
EXCLUDED_COLUMNS = ["paper_id", "title", "reason"]

# Bookkeeping fields of OpenReview notes: not worth a warning when they are ignored.
OPENREVIEW_META = {
    "forum", "number", "cdate", "mdate", "tcdate", "tmdate", "odate", "pdate", "ddate", "invitation", "invitations",
    "signatures", "readers", "writers", "nonreaders", "replyto", "original", "referent", "domain", "license",
    "details", "version", "venue", "venueid", "_bibtex", "paperhash", "html", "supplementary_material",
}


@dataclass
class Corpus:
    """Everything a run reads, validated. ``reviewers`` and friends are empty frames when absent."""

    papers: pd.DataFrame
    publications: pd.DataFrame
    reviewers: pd.DataFrame
    conflicts: pd.DataFrame
    previous: pd.DataFrame | None = None  # an earlier assignment to keep (--keep-assignments)
    excluded: pd.DataFrame | None = None  # submissions left out: paper_id, title, reason (withdrawn, desk-rejected)
    left_out: frozenset[str] = frozenset()  # committee members left out of the pool (meta-reviewers), lower-cased


# ---------------------------------------------------------------------------------------------
# Low-level readers
# ---------------------------------------------------------------------------------------------
def _read_bytes(path: Path, *, empty_ok: bool = False) -> bytes:
    """The file's bytes, decompressed when it is gzip-compressed (``submissions.csv.gz``)."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found; check the path")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not a file; pass the CSV/JSONL file inside it")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror}); check its permissions") from None
    if raw.startswith(b"\x1f\x8b"):
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputError(f"{path}: is gzip-compressed but cannot be decompressed ({exc}); "
                             "pass the uncompressed file") from None
    if not raw.strip() and not empty_ok:
        raise InputError(f"{path}: file is empty; export the table again with a header row and data")
    return raw


def _decode_text(path: Path, raw: bytes, encoding: str | None) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode Text" export
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError:
            raise InputError(f"{path}: starts as UTF-16 text but is not valid UTF-16; re-save it as CSV (UTF-8)") \
                from None
    if b"\x00" in raw[:65536]:
        raise InputError(
            f"{path}: looks like a binary file, not CSV/TSV/JSON text or an Excel workbook; "
            "export the sheet as CSV (UTF-8)"
        )
    # UTF-8 first, always: --encoding is for the files that are not UTF-8, so one run can mix a
    # latin-1 reviewers sheet with UTF-8 submissions without garbling the latter.
    enc = "utf-8-sig"
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError:
            raise InputError(f"--encoding {quoted(encoding)} is not a known encoding; try latin-1 or cp1252") from None
        try:
            raw.decode(enc)
        except UnicodeDecodeError:
            enc = encoding
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"{path}: line {line} is not valid {encoding or 'UTF-8'} (byte 0x{raw[exc.start]:02x}); "
            f"re-save the file as UTF-8 or pass --encoding latin-1 (or cp1252)"
        ) from None
    except LookupError:
        raise InputError(f"--encoding {quoted(encoding)} is not a known encoding; try utf-8, latin-1 or cp1252") \
            from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _suffix(path: Path) -> str:
    """The file's type suffix, lower-cased, looking through a ``.gz``: ``subs.jsonl.gz`` -> ``.jsonl``."""
    path = Path(path)
    if path.suffix.lower() == ".gz":
        path = path.with_suffix("")
    return path.suffix.lower()


def _sniff_delimiter(path: Path, text: str) -> str:
    suffix = _suffix(path)
    if suffix in (".tsv", ".tab"):
        return "\t"
    end = text.find("\n")
    header = text if end < 0 else text[:end]  # not split(): that copies the whole file
    counts = {d: header.count(d) for d in (",", "\t", ";")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > 0 else ","


def _check_long_rows(path: Path, text: str, sep: str) -> None:
    """Rows with more fields than the header: a trailing delimiter (empty extra fields, as some exports
    write) is harmless; anything else would shift or lose data, so it is an error naming the line."""
    reader = csv.reader(io.StringIO(text), delimiter=sep)
    width = len(next(reader, []))
    for fields in reader:
        if len(fields) > width and any(f.strip() for f in fields[width:]):
            raise InputError(
                f"{path}: line {reader.line_num} has {len(fields)} fields but the header names {width}; "
                "quote fields that contain the delimiter, or add the missing column names to the header"
            )


def _cut_to_header(text: str, sep: str) -> str:
    """The table with every row cut to the header's width (after _check_long_rows: only empty fields go)."""
    rows = list(csv.reader(io.StringIO(text), delimiter=sep))
    width = len(rows[0]) if rows else 0
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\n").writerows(r[:width] for r in rows)
    return buf.getvalue()


def _parse_delimited(text: str, sep: str, quoting: int = csv.QUOTE_MINIMAL) -> tuple[pd.DataFrame, bool]:
    """The table, and whether a row was longer than the header. index_col=False: a long row must
    never turn the first column into the index."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", pd.errors.ParserWarning)
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                         quoting=quoting, skip_blank_lines=True, index_col=False)
    return df, any(issubclass(w.category, pd.errors.ParserWarning) for w in caught)


def _check_repeated_header(path: Path, df: pd.DataFrame) -> None:
    """Two exports joined one after the other repeat the header inside the table; that row is no paper."""
    if not len(df.columns) or not len(df):
        return

    def cell(v: object) -> str:
        return str(v).replace("\ufeff", "").strip()

    names = {str(c) for c in df.columns}

    def header(c: object) -> str:
        c = str(c)
        if re.fullmatch(r"Unnamed: \d+", c):  # a trailing comma
            return ""
        m = re.fullmatch(r"(.+)\.\d+", c)  # the second 'Email' of a header, as pandas renames it
        return cell(m.group(1) if m and m.group(1) in names else c)

    head = [header(c) for c in df.columns]
    first = df.iloc[:, 0].map(cell) == head[0]
    for i in np.flatnonzero(first.to_numpy()):
        if [cell(v) for v in df.iloc[i]] == head:
            raise InputError(f"{path}: {row_name(int(i), path)} repeats the header (two exports joined?); "
                             "delete that row")


def _read_delimited(path: Path, text: str) -> pd.DataFrame:
    if re.match(r"sep=.\r?\n", text):
        raise InputError(f"{path}: line 1 is Excel's delimiter hint '{text.splitlines()[0]}', not a header; delete "
                         "that line")
    sep = _sniff_delimiter(path, text)
    try:
        try:
            df, long_rows = _parse_delimited(text, sep)
        except pd.errors.ParserError as exc:
            if "Expected" not in str(exc):
                raise
            # Rows of different lengths: an error naming the line if one carries more data than the header
            # names; else the extra fields are trailing delimiters, cut before parsing again.
            _check_long_rows(path, text, sep)
            df, long_rows = _parse_delimited(_cut_to_header(text, sep), sep)
        if long_rows:
            _check_long_rows(path, text, sep)
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: no header row found; the first line must name the columns") from None
    except pd.errors.ParserError as exc:
        msg = str(exc).strip().splitlines()[-1]
        eof = re.search(r"EOF inside string starting at row (\d+)", msg)
        if eof and sep == "\t":  # CMT's tab-delimited exports quote nothing: '"Quoted" Lab' is plain text
            with contextlib.suppress(pd.errors.ParserError):
                df, long_rows = _parse_delimited(text, sep, csv.QUOTE_NONE)
                if not long_rows:
                    return df
        if eof:
            raise InputError(
                f"{path}: line {int(eof.group(1)) + 1} opens a quoted field that is never closed (unclosed quote); "
                'close the quote, or double the quote character ("") inside a quoted field'
            ) from None
        m = re.search(r"line (\d+)", msg)
        where = f"line {m.group(1)}" if m else "a row"
        raise InputError(
            f"{path}: {where} has a different number of fields than the header ({msg}); "
            "quote fields that contain the delimiter or newlines"
        ) from None
    return df


def _unwrap(value: Any) -> Any:
    """OpenReview API v2 wraps each content field as {"value": ...}; v1 has bare values."""
    if isinstance(value, dict) and "value" in value:
        return value["value"]
    return value


def _flatten_record(rec: Any, path: Path, index: int) -> dict[str, Any]:
    if not isinstance(rec, dict):
        raise InputError(
            f"{path}: record {index + 1} is a {type(rec).__name__}, not an object; "
            "each record must be a JSON object (an OpenReview note or a flat row)"
        )
    out: dict[str, Any] = {}
    content = rec.get("content")
    for key, value in rec.items():
        if key == "content":
            continue
        out[key] = _unwrap(value)
    if isinstance(content, dict):
        for key, value in content.items():
            out[key] = _unwrap(value)
        # An OpenReview note: its own id is the paper id, not content fields.
        if "id" in rec:
            out["id"] = rec["id"]
    return out


def _read_json_records(path: Path, text: str) -> pd.DataFrame:
    suffix = _suffix(path)
    records: list[Any]
    if suffix == ".jsonl" or (suffix != ".json" and "\n{" in text.strip()):
        records = []
        for lineno, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError as exc:
                raise InputError(
                    f"{path}: line {lineno} is not valid JSON ({exc.msg}); fix or delete that line"
                ) from None
    else:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise InputError(
                f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); fix the file"  # type: ignore[attr-defined]
            ) from None
        if isinstance(data, dict) and isinstance(data.get("notes"), list):
            data = data["notes"]
        elif isinstance(data, dict) and any(isinstance(v, dict) and isinstance(v.get("content"), dict)
                                            for v in data.values()):
            # openreview-expertise's submissions.json: {paper id: note}; a note without its id takes the key
            bad = next((k for k, v in data.items() if not (isinstance(v, dict) and isinstance(v.get("content"), dict))),
                       None)
            if bad is not None:
                raise InputError(f"{path}: {quoted(bad)} is not a note (a JSON object with a 'content' object holding "
                                 "its title and abstract); fix or remove that entry")
            data = [{"id": k, **v} if v.get("id") in (None, "") else v for k, v in data.items()]
        if not isinstance(data, list):
            raise InputError(
                f"{path}: JSON must be a list of notes (or {{\"notes\": [...]}}), found a {type(data).__name__}; "
                "export the records as a list"
            )
        records = data
    flat = [_flatten_record(r, path, i) for i, r in enumerate(records)]
    v2 = sum(1 for r in records if isinstance(r, dict) and isinstance(r.get("content"), dict)
             and any(isinstance(v, dict) and "value" in v for v in r["content"].values()))
    v1 = sum(1 for r in records if isinstance(r, dict) and isinstance(r.get("content"), dict)) - v2
    if v1 and v2:
        _warn("%s: mixes OpenReview API v1 (%d) and v2 (%d) notes; read both", path, v1, v2)
    if not flat:
        raise InputError(f"{path}: contains no records; export the table again")
    return pd.DataFrame(flat)


# Where each data row of a spreadsheet is ("sheet 'Track 1' row 7"), by file, for error messages.
_SHEET_ROWS: dict[str, list[str]] = {}


def _read_source(path: Path, encoding: str | None) -> str | pd.DataFrame:
    """A text file's text, or a spreadsheet's table (Excel .xlsx, CMT's XML .xls)."""
    path = Path(path)
    raw = _read_bytes(path)
    book = read_workbook(path, raw, KNOWN_HEADERS)
    if book is None:
        _SHEET_ROWS.pop(str(path), None)
        return _decode_text(path, raw, encoding)
    table, skipped = book
    if skipped:
        _warn("%s: read the sheets whose header names the first sheet's columns; skipped %s", path, ", ".join(skipped))
    _SHEET_ROWS[str(path)] = table.row_names
    return table.frame


@_warnings_on_success
def read_table(path: Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read any supported file into a DataFrame of raw columns (not yet renamed)."""
    path = Path(path)
    table = _table(path, _read_source(path, encoding))
    if not _is_json(path):
        _check_repeated_header(path, table)
    return table


def _table(path: Path, source: str | pd.DataFrame) -> pd.DataFrame:
    if isinstance(source, pd.DataFrame):
        return source
    suffix = _suffix(path)
    stripped = source.lstrip()
    if suffix in (".json", ".jsonl") or (suffix not in (".csv", ".tsv", ".txt", ".tab") and stripped[:1] in "[{"):
        return _read_json_records(path, source)
    df = _read_delimited(path, source)
    # Rows of empty fields (',,,') below the table, which a spreadsheet saved as CSV writes for cells once used,
    # are no rows, as blank lines are not (and as a workbook's empty rows are not).
    filled = np.flatnonzero(df.apply(lambda c: c.str.strip().ne("")).any(axis=1).to_numpy()) if len(df) else []
    return df.iloc[: filled[-1] + 1 if len(filled) else 0]


# ---------------------------------------------------------------------------------------------
# Cleaning helpers
# ---------------------------------------------------------------------------------------------
def _is_missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def clean_text(v: Any) -> str:
    if _is_missing(v):
        return ""
    if isinstance(v, (list, tuple)):
        v = " ".join(str(x) for x in v if not _is_missing(x))
    s = str(v)
    if not s.isascii():  # ASCII is already NFC
        s = unicodedata.normalize("NFC", s)
    return " ".join(s.split())  # runs of whitespace (str.isspace, as re's \s) -> one space, ends stripped


_ENTITY = re.compile(r"&(?:#\d+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")


def _decode_entities(s: str) -> str:
    """HTML entities decoded, also those escaped twice or more ('&amp;quot;' is '"'), in a few rounds at most."""
    for _ in range(4):
        if not _ENTITY.search(s):
            break
        s = html.unescape(s)
    return s


def clean_prose(v: Any) -> str:
    """:func:`clean_text` of a title, an abstract or a name, with HTML entities decoded: scraped
    metadata (a fifth of NeurIPS 2013-18 abstracts) writes "Angluin&#39;s" and "&quot;graph&quot;"."""
    return clean_text(_decode_entities(v if isinstance(v, str) else clean_text(v)))


def _unescaped(v: Any) -> Any:
    """A ';'-joined text with its HTML entities decoded, so that the ';' of 'O&#39;Brien' splits nothing; a JSON
    list is left as it is (a decoded '&quot;' would break it) and its items are decoded one by one after, unless
    the list itself was escaped ('[&quot;A&quot;, &quot;B&quot;]') and only reads as JSON once decoded."""
    if not (isinstance(v, str) and _ENTITY.search(v)):
        return v
    if not v.lstrip().startswith("["):
        return _decode_entities(v)
    decoded = _decode_entities(v)
    return decoded if not _json_list(v) and _json_list(decoded) else v


def _json_list(s: str) -> bool:
    try:
        return isinstance(json.loads(s), list)
    except (ValueError, RecursionError):  # nested too deep ('[[[[...') to be a list of names
        return False


def parse_list(v: Any) -> list[str]:
    """A JSON list, a ``;``-joined string or a single value -> list of non-empty strings."""
    if _is_missing(v):
        return []
    if isinstance(v, (list, tuple)):
        items = list(v)
    else:
        s = str(v).strip()
        if s.startswith("[") and s.endswith("]"):
            try:
                parsed = json.loads(s)
                items = parsed if isinstance(parsed, list) else [s]
            except (ValueError, RecursionError):  # not JSON, or nested too deep ('[[[[...') to read
                items = s.strip("[]").split(",")
        else:
            items = s.split(";") if ";" in s or "\n" not in s else s.splitlines()  # EasyChair: one per line
    out = []
    for x in items:
        if _is_missing(x):
            continue
        t = clean_text(x)
        if t and t.lower() not in ("nan", "none", "null"):
            out.append(t)
    return out


def _python_list(s: str) -> object:
    """``s`` read as a Python literal (as pandas writes a list to CSV), or None when it is none."""
    try:
        return ast.literal_eval(s)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None


def parse_areas(v: Any) -> list[str]:
    """Author-chosen areas: one, or several as a JSON list, ``;``-joined or one per line (an area's name holds
    commas, so a comma splits nothing), HTML entities decoded; a placeholder such as 'N/A' or 'nan' is no area."""
    if _is_missing(v):
        return []
    if isinstance(v, (list, tuple)):
        items = list(v)
    else:
        s = str(_unescaped(str(v))).strip()
        if s.startswith("[") and _json_list(s):
            items = json.loads(s)
        elif s.startswith("[") and isinstance(listed := _python_list(s), list):
            items = listed  # a list column pandas wrote to CSV: "['learning theory', 'optimization']"
        else:
            items = s.split(";") if ";" in s or "\n" not in s else s.splitlines()  # or one per line in a cell
    out = [clean_prose(x) for x in items if not _is_missing(x)]
    return [t for t in out if t and t.lower() not in PLACEHOLDERS]


_CONTACT_MARK = re.compile(r"\s*\*+$")


def _strip_trailing_brackets(s: str) -> str:
    """'Jane Doe (Max Planck Institute (MPI-IS))' -> 'Jane Doe': one balanced bracket group at the end."""
    if not s.endswith(")"):
        return s
    depth = 0
    for i in range(len(s) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(s[i], 0)
        if depth == 0:
            return s[:i].rstrip()
    return s


def author_name(name: str) -> str:
    """An author as CMT lists one, 'Jane Doe (MIT)*', is 'Jane Doe': the affiliation in brackets after the
    name and the star of the contact author go (a nickname inside the name, 'Wei (David) Zhang', stays)."""
    s = _CONTACT_MARK.sub("", name)
    s = _CONTACT_MARK.sub("", _strip_trailing_brackets(s))
    return s or name


def _mask_brackets(s: str) -> str:
    """``s`` with what stands inside brackets replaced by '_' (same length), so separators there do not count;
    ``s`` itself when a bracket never closes (a cut affiliation)."""
    masked, depth = [], 0
    for ch in s:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        masked.append(ch if depth <= 0 else "_")
    return "".join(masked) if depth == 0 else s


def _split_outside_brackets(s: str) -> list[str]:
    """Split on ';' outside brackets; with brackets that never close (a cut affiliation), on every ';'."""
    flat = _mask_brackets(s)
    cuts = [i for i, ch in enumerate(flat) if ch == ";"]
    return [s[a + 1:b] for a, b in zip([-1, *cuts], [*cuts, len(s)])]


_AFFILIATION = re.compile(r"\b(?:univ\w*|institut\w*|college|school|labs?|laborator\w*|inc|ltd|corp\w*|research|"
                          r"department|dept|cent(?:er|re))\b", re.IGNORECASE)
_NOT_AUTHORS = re.compile(r"(?:et\.?\s+al\.?|others|jr\.?|sr\.?|ii|iii|iv)", re.IGNORECASE)
_ET_AL = re.compile(r"[\s,]+et\.?\s+al\.?$", re.IGNORECASE)


def given_names(s: str, *, shouting: bool = False) -> bool:
    """After the comma of 'Doe, Jane A.': given names (words with small letters, or initials), not 'MIT'.
    ``shouting``: the whole name is in capitals ('ZHANG, WEI'), so capitals say nothing."""
    s = re.sub(r"\([^)]*\)", " ", s)  # a nickname: 'Mufan (Bill)'
    if shouting:
        s = s.title()
    words = [w for w in re.split(r"[\s.\-]+", s.strip()) if w]
    return bool(words) and not _AFFILIATION.search(s) and all(
        w.isalpha() and (len(w) <= 2 or not w.isupper()) for w in words)


def affiliation_like(s: str) -> bool:
    """'MIT', 'CMU', 'Google Research': what follows a name's comma when it is not a given name."""
    s = s.strip()
    return bool(_AFFILIATION.search(s)) or (s.isupper() and len(s.split()) == 1 and len(s) >= 3)


def _last_first(s: str) -> bool:
    """'Doe, Jane', 'de la Cruz, María José', 'ZHANG, WEI': one author written last name first."""
    last, comma, given = s.partition(",")
    if not comma or "," in given or not given_names(given, shouting=s.isupper()) or not last.strip():
        return False
    if len(last.split()) > 1 and affiliation_like(given):  # 'JANE DOE, MIT'
        return False
    return len(last.split()) == 1 or len(given.split()) == 1 or last.strip()[0].islower()


_AND = re.compile(r"\s+and\s+|\s*&\s*|,\s*and\s+", re.IGNORECASE)


def _split_prose_list(s: str) -> list[str]:
    """'A, B and C' (EasyChair, START) -> ['A', 'B', 'C']: commas and 'and' outside brackets. One comma
    after which comes a given name ('Doe, Jane'), a suffix ('Jane Doe, Jr.') or an affiliation ('Jane Doe,
    MIT') is one author; 'Doe, Jane and Smith, John' (BibTeX) is two; 'et al.' is no author."""
    s = _ET_AL.sub("", s.strip())
    flat = _mask_brackets(s)
    if not _AND.search(flat) and (_last_first(s) or (s.count(",") == 1 and (
            affiliation_like(s.partition(",")[2]) or _NOT_AUTHORS.fullmatch(s.partition(",")[2].strip())))):
        return [s]
    spans = [(m.start(), m.end()) for m in _AND.finditer(flat)]
    chunks, start = [], 0
    for a, b in spans:
        chunks.append(s[start:a])
        start = b
    chunks = [c.strip() for c in chunks + [s[start:]] if c.strip()]
    if len(chunks) > 1 and all(c.count(",") == 1 and given_names(c.partition(",")[2], shouting=c.isupper())
                               for c in chunks):
        return chunks  # BibTeX: every author 'Last, First'
    cuts = sorted(spans + [(i, i + 1) for i, ch in enumerate(flat) if ch == ","], key=lambda c: (c[0], -c[1]))
    parts, start = [], 0
    for a, b in cuts:
        if a >= start:
            parts.append(s[start:a])
            start = b
    return [p.strip() for p in parts + [s[start:]] if p.strip() and not _NOT_AUTHORS.fullmatch(p.strip())]


def parse_authors(v: Any) -> list[str]:
    """Authors as :func:`parse_list` reads a list, but a ';' inside brackets ('John Smith (MIT; CSAIL)')
    does not split one author in two, and a list written as prose without ';' ('A, B and C', as EasyChair
    and START export it) is split on its commas and 'and'."""
    v = _unescaped(v)
    if isinstance(v, str) and not v.strip().startswith("["):
        if ";" not in v and ("," in v or _AND.search(v)):
            v = _split_prose_list(v)
        elif "(" in v:
            v = _split_outside_brackets(v)
    names = [author_name(_ET_AL.sub("", clean_prose(a))) for a in parse_list(v)]
    return [a for a in names if a and not _NOT_AUTHORS.fullmatch(a)]  # 'et al.' is nobody


def _author_ids(v: Any) -> list[str]:
    """Author emails or profile ids: a list, or ';'-joined, or ','-joined (START); CMT's contact star goes."""
    if isinstance(v, str) and ";" not in v and "," in v and not v.strip().startswith("["):
        v = v.replace(",", ";")
    return [_CONTACT_MARK.sub("", x) or x for x in parse_list(v)]


def join_list(items: list[str]) -> str:
    return "; ".join(items)


def _rename(df: pd.DataFrame, aliases: dict[str, str], path: Path, *, quiet: bool = False) -> pd.DataFrame:
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    unknown: list[str] = []
    # A column named as triage names it wins over an alias of it ('paper_id' over 'id', wherever it stands).
    for col in df.columns:
        key = norm_header(col)
        if aliases.get(key) == key and key not in taken:
            mapping[col] = key
            taken.add(key)
    for col in df.columns:
        if col in mapping:
            continue
        canon = aliases.get(norm_header(col))
        if canon and canon not in taken:
            mapping[col] = canon
            taken.add(canon)
        else:
            unknown.append(str(col))
    df = df.loc[:, [c in mapping for c in df.columns]].rename(columns=mapping)
    extra = [c for c in unknown if c not in mapping.values()
             and norm_header(c) not in OPENREVIEW_META
             and norm_header(c) not in (*STATUS_COLUMNS, *DELETED_COLUMNS, *READ_BEFORE_RENAMING)
             and not START_USERNAME.fullmatch(norm_header(c))]
    if extra and not quiet:
        _warn("%s: ignoring columns triage does not use: %s", path, columns_shown(extra))
    return df


_TEXT_HEADERS = {"title", "paper_title", "abstract", "paperabstract"}
_PERSON_HEADERS = {"email", "e-mail", "e_mail", "first_name", "last_name", "organization", "max_load", "quota",
                   "quotaforreview", "max_papers", "domain_conflicts"}
_REVIEWER_KEYS = {"reviewer_id", "reviewer", "user", "author_id", "profile_id", "tail"}
_PAPER_KEYS = {"paper_id", "id", "forum", "submission_id", "paper", "#", "submission_#", "startsubmissionid", "head"}
WHERE = {"submissions": "the first argument", "publications": "--publications (-p)",
         "reviewers": "--reviewers (-r)", "conflicts": "--conflicts (-c)"}


def file_kind(found: list[str]) -> str | None:
    """Which of triage's input files a header looks like (to say so when a file was passed in the wrong place)."""
    names = {norm_header(c) for c in found}
    text, person = bool(names & _TEXT_HEADERS), bool(names & _PERSON_HEADERS)
    reviewer, paper = bool(names & _REVIEWER_KEYS), bool(names & _PAPER_KEYS)
    if text:
        return "publications" if reviewer else "submissions" if paper else None
    if person:
        return "reviewers"
    return "conflicts" if reviewer and paper else None


def _wrong_place(found: list[str], kind: str | None) -> str | None:
    """The fix when a file given as ``kind`` looks like another of triage's input files."""
    other = file_kind(found)
    if kind is None or other is None or other == kind:
        return None
    return f"it looks like a {other} file: pass it as {WHERE[other]}, and the {kind} file as {WHERE[kind]}"


def _require(df: pd.DataFrame, cols: list[str], path: Path, found: list[str], hint: str,
             kind: str | None = None) -> None:
    for col in cols:
        if col not in df.columns:
            hint = _wrong_place(found, kind) or hint
            raise InputError(
                f"{path}: missing column '{col}' (found: {columns_shown(found) or 'none'}); {hint}"
            )


def row_name(i: int, path: Path) -> str:
    """Where row ``i`` of the table read from ``path`` is, in the words of the file's program."""
    names = _SHEET_ROWS.get(str(path))
    if names is not None and 0 <= i < len(names):
        return names[i]
    return f"record {i + 1}" if _is_json(path) else f"row {i + 2}"



def columns_shown(names: list[Any]) -> str:
    """The first few column names of a file, for a message (a misread file can have hundreds)."""
    return ", ".join(shown(c) for c in names[:12]) + (f" and {len(names) - 12} more" if len(names) > 12 else "")


def _is_json(path: Path) -> bool:
    return _suffix(path) in (".json", ".jsonl")


def _check_ids(df: pd.DataFrame, col: str, path: Path) -> None:
    empty = df.index[df[col] == ""]
    if len(empty):
        raise InputError(f"{path}: {row_name(int(empty[0]), path)} has an empty '{col}'; give every row an id")
    dup = df[col].duplicated(keep="first")
    if dup.any():
        i = int(df.index[dup][0])
        first = int(df.index[df[col] == df.at[i, col]][0])
        raise InputError(
            f"{path}: duplicate {col} {quoted(df.at[i, col])} in {row_name(first, path)} and {row_name(i, path)}; "
            "ids must be unique (remove or rename the duplicate)"
        )


def _truncate_long(df: pd.DataFrame, col: str, path: Path) -> None:
    lengths = df[col].str.len()
    too_long = lengths > MAX_TEXT_CHARS
    if too_long.any():
        i = int(df.index[too_long][0])
        _warn(
            "%s: %d %s value(s) longer than %d characters (first: %s, %d chars); truncated",
            path, int(too_long.sum()), col, MAX_TEXT_CHARS, row_name(i, path), int(lengths[i]),
        )
        df.loc[too_long, col] = df.loc[too_long, col].str.slice(0, MAX_TEXT_CHARS)


def _finish(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    for col in columns:
        if col not in df.columns:
            df[col] = [[] for _ in range(len(df))] if col in LIST_COLUMNS else ""
    return df[columns].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Public readers
# ---------------------------------------------------------------------------------------------
def read_papers(path: Path, *, encoding: str | None = None, keep_withdrawn: bool = False) -> pd.DataFrame:
    """Read submissions: ``paper_id, title, abstract`` plus optional metadata columns. ``keep_withdrawn``
    keeps the rows a status column says left the review (an earlier year's papers to compare with)."""
    return read_submissions(path, encoding=encoding, keep_withdrawn=keep_withdrawn)[0]


@_warnings_on_success
def read_submissions(path: Path, *, encoding: str | None = None,
                     keep_withdrawn: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The submissions under review, and those left out (``paper_id, title, reason``) because a
    status column (OpenReview's venueid, a CMT status) says they were withdrawn or desk-rejected, or CMT's
    Number of Files is 0 while other submissions have a file."""
    path = Path(path)
    if path.is_dir():
        path, raw = _read_submission_folder(path, encoding)
    else:
        source = _read_source(path, encoding)
        if isinstance(source, str) and _headerless_submissions(path, source):
            raw = _read_headerless(path, source, SUBMISSIONS_CSV_COLUMNS, "csv_submissions, 'submission_id,title,"
                                   "abstract'", ",".join(SUBMISSIONS_CSV_COLUMNS))
            _warn("%s: has no header row; read as openreview-expertise's csv_submissions, paper_id,title,abstract on "
                  "each line (add a header row if the columns are others)", path)
        else:
            raw = _table(path, source)
            if not _is_json(path):
                _check_repeated_header(path, raw)
    found = list(raw.columns)
    status = _left_review(raw)
    df = _rename(raw, PAPER_ALIASES, path)
    _require(df, ["paper_id"], path, found, "rename the id column to paper_id (or id, forum, submission_id)"
             if any(norm_header(c) in KNOWN_HEADERS for c in found) else "the first line names no column triage "
             "knows: give the file a header row (paper_id,title,abstract ...), which openreview-expertise's "
             "csv_submissions has not", "submissions")
    if "deleted?" in {norm_header(c) for c in found}:  # EasyChair's submission.csv
        if (path.parent / EASYCHAIR_AUTHORS).is_file():
            df = _with_easychair_authors(df, path, path.parent / EASYCHAIR_AUTHORS, encoding)
        else:
            _warn("%s: EasyChair's %s is not beside it, so the authors have no emails and conflicts are found by "
                  "name only; put it next to %s", path, EASYCHAIR_AUTHORS, path.name)
    if "title" not in df.columns and "abstract" not in df.columns:
        raise InputError(
            f"{path}: missing columns 'title' and 'abstract' (found: {columns_shown(found)}); "
            + (_wrong_place(found, "submissions") or "triage needs the text of each submission")
        )
    # A CSV column left out of an export, or misspelled, is not a paper without text. (JSON records
    # may leave out a field that is empty, so there a missing field is an empty text.)
    for col in ("title", "abstract"):
        if col not in df.columns and not _is_json(path):
            by_norm = {norm_header(c): str(c) for c in found}
            near = difflib.get_close_matches(col, list(by_norm), n=1, cutoff=0.6)
            hint = (f"rename {quoted(by_norm[near[0]])} to '{col}'" if near
                    else f"add the '{col}' column (it may be empty in a row)")
            raise InputError(f"{path}: missing column '{col}' (found: {columns_shown(found)}); {hint}")
    if len(df) == 0:
        raise InputError(f"{path}: has a header but no rows; export the submissions again")
    df = df.copy()
    df["paper_id"] = df["paper_id"].map(clean_text)
    for col in ("title", "abstract", "pdf"):
        if col in df.columns:
            df[col] = df[col].map(clean_prose if col in ("title", "abstract") else clean_text)
    if "primary_area" in df.columns:  # several areas are '; '-joined, as other lists are
        df["primary_area"] = df["primary_area"].map(lambda v: join_list(parse_areas(v)))
    for col in ("domains", "author_persons"):
        if col in df.columns:
            df[col] = df[col].map(parse_list)
    if "keywords" in df.columns:  # 'Angluin&#39;s algorithm; testing': the entity's ';' splits nothing
        df["keywords"] = df["keywords"].map(lambda v: [clean_prose(x) for x in parse_list(_unescaped(v))])
    if "authorids" in df.columns:  # CMT stars the contact author's email as it does the name
        df["authorids"] = df["authorids"].map(_author_ids)
    usernames = [c for c in raw.columns if START_USERNAME.fullmatch(norm_header(c))]
    if usernames:  # START: the authors' usernames are reviewer ids too, so an author in the pool is found by id
        found_ids = df["authorids"] if "authorids" in df.columns else pd.Series([[]] * len(df), index=df.index)
        df["authorids"] = [ids + [u for u in map(clean_text, users) if u and u not in ids]
                           for ids, users in zip(found_ids, raw[usernames].itertuples(index=False))]
    if "authors" in df.columns:
        df["authors"] = df["authors"].map(parse_authors)
    df = _finish(df, PAPER_COLUMNS)
    # Rows keep their labels until the end, so every message names the row of the file.
    excluded = pd.DataFrame(columns=EXCLUDED_COLUMNS)
    gone = status.ne("").to_numpy() & (not keep_withdrawn)
    if gone.any():  # left out first: a withdrawn row needs no text, and its resubmission may reuse its id
        excluded = pd.DataFrame({"paper_id": df["paper_id"][gone], "title": df["title"][gone],
                                 "reason": status[gone].to_numpy()}).reset_index(drop=True)
        i = int(np.flatnonzero(gone)[0])
        _warn("%s: %d submission(s) are withdrawn, desk-rejected or without a paper (first: %s, paper_id %s, %s); "
              "left out",
              path, len(excluded), row_name(i, path), quoted(df.at[i, "paper_id"]), shown(excluded.at[0, "reason"]))
        df = df[~gone]
        if not len(df):
            raise InputError(f"{path}: every submission is withdrawn or desk-rejected; export the active ones")
    _check_ids(df, "paper_id", path)
    placeholder = df["abstract"].str.strip().str.lower().isin(PLACEHOLDERS)
    if placeholder.any():
        i = int(df.index[placeholder][0])
        _warn("%s: %d abstract(s) are a placeholder such as %s (first: %s, paper_id %s); read as no abstract, so the "
              "title alone is used: fill in the abstracts",
              path, int(placeholder.sum()), quoted(df.at[i, "abstract"]), row_name(i, path),
              quoted(df.at[i, "paper_id"]))
        df.loc[placeholder, "abstract"] = ""
    no_text = (df["title"] == "") & (df["abstract"] == "")
    if no_text.any():
        i = int(df.index[no_text][0])
        raise InputError(
            f"{path}: {row_name(i, path)} (paper_id {quoted(df.at[i, 'paper_id'])}) has neither title nor abstract; "
            "fill them in or remove the row"
        )
    no_abs = (df["abstract"] == "") & ~placeholder  # a placeholder was said above: one warning per row
    if no_abs.any():
        i = int(df.index[no_abs][0])
        _warn("%s: %d submission(s) have no abstract (first: %s, paper_id %s); using the title alone",
                    path, int(no_abs.sum()), row_name(i, path), quoted(df.at[i, "paper_id"]))
    for col in ("title", "abstract"):  # a title is no longer than an abstract either: a paste error
        _truncate_long(df, col, path)
    return df.reset_index(drop=True), excluded


EASYCHAIR_AUTHORS = "author.csv"  # beside EasyChair's submission.csv: one row per author, with the email


def _with_easychair_authors(df: pd.DataFrame, submissions: Path, path: Path, encoding: str | None) -> pd.DataFrame:
    """EasyChair's submission.csv names the authors in prose and without emails; the author.csv beside it
    (``submission #, first name, last name, email, ...``) gives each author's name and email, in order."""
    raw = read_table(path, encoding=encoding)
    cols = {norm_header(c): c for c in raw.columns}
    if not {"submission_#", "email"} <= set(cols):
        _warn("%s: not EasyChair's author list (no 'submission #' and 'email' columns); author emails not read",
              path)
        return df
    names = [" ".join(p for p in (clean_text(f), clean_text(last)) if p) for f, last in
             zip(raw[cols["first_name"]] if "first_name" in cols else [""] * len(raw),
                 raw[cols["last_name"]] if "last_name" in cols else [""] * len(raw))]
    table = pd.DataFrame({"paper_id": raw[cols["submission_#"]].map(clean_text), "name": names,
                          "email": raw[cols["email"]].map(clean_text),
                          "person": raw[cols["person_#"]].map(clean_text) if "person_#" in cols else ""})
    by_paper = {pid: grp for pid, grp in table.groupby("paper_id", sort=False)}
    df = df.copy()
    ids = df["paper_id"].map(clean_text)
    df["authorids"] = [[e for e in by_paper[p]["email"] if e] if p in by_paper else [] for p in ids]
    df["author_persons"] = [[x for x in by_paper[p]["person"] if x] if p in by_paper else [] for p in ids]
    if any(p in by_paper for p in ids):
        df["authors"] = [join_list([n for n in by_paper[p]["name"] if n]) if p in by_paper else a
                         for p, a in zip(ids, df["authors"] if "authors" in df.columns else [""] * len(df))]
    _warn("%s: author names and emails read from %s beside it (%d of %d submissions)", submissions, path.name,
          sum(p in by_paper for p in ids), len(df))
    return df


def _left_review(raw: pd.DataFrame) -> pd.Series:
    """Per row, why the submission left the review ("venueid: .../Withdrawn_Submission"), or ''."""
    why = pd.Series("", index=raw.index, dtype=object)
    for col in raw.columns:
        name = norm_header(col)
        if name in STATUS_COLUMNS or name in DELETED_COLUMNS:
            values = raw[col].map(clean_text)
            left = (values.str.lower().isin({"yes", "true", "1"}) if name in DELETED_COLUMNS
                    else values.str.contains(LEFT_REVIEW_START if name == "acceptance_status" else LEFT_REVIEW))
            hit = left & why.eq("")
            why[hit] = f"{col}: " + values[hit]
    for col in raw.columns:  # CMT: a submission without an uploaded file never became a paper
        if norm_header(col) == "number_of_files":
            files = pd.to_numeric(raw[col].map(clean_text), errors="coerce")
            none = files.eq(0)
            # Once nine in ten submissions have their paper, the paper deadline has passed; before it
            # (abstracts registered, early uploads) a submission without a file is still coming.
            if none.any() and files.ge(1).sum() >= 0.9 * files.notna().sum():
                hit = none & why.eq("")
                why[hit] = f"{col}: 0 (no paper uploaded)"
    return why


@_warnings_on_success
def read_publications(path: Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read reviewer publications: ``reviewer_id, title, abstract`` (+ year, pub_id, authors, venue), from a
    file, openreview-expertise's headerless ``csv_expertise`` or its ``archives/`` folder (:func:`read_archives`)."""
    path = Path(path)
    if path.is_dir():
        path = _archive_folder(path)
        return _publications_text(read_archives(path, encoding=encoding), path)
    source = _read_source(path, encoding)
    if isinstance(source, str) and _headerless_expertise(path, source):
        raw = _read_csv_expertise(path, source)
    else:
        raw = _table(path, source)
        if not _is_json(path):
            _check_repeated_header(path, raw)
    found = list(raw.columns)
    df = _rename(raw, PUB_ALIASES, path)
    _require(df, ["reviewer_id"], path, found, "name the column of reviewer ids 'reviewer_id'", "publications")
    if "title" not in df.columns and "abstract" not in df.columns:
        raise InputError(f"{path}: missing columns 'title' and 'abstract' (found: {columns_shown(found)}); "
                         + (_wrong_place(found, "publications") or "each publication needs its text"))
    if len(df) == 0:
        raise InputError(f"{path}: has a header but no rows; export the publications again")
    df = df.copy()
    for col in ("reviewer_id", "pub_id", "title", "abstract", "venue"):
        if col in df.columns:
            df[col] = df[col].map(clean_prose if col in ("title", "abstract") else clean_text)
    if "authors" in df.columns:
        df["authors"] = df["authors"].map(parse_authors)
    df = _finish(df, PUB_COLUMNS)
    empty = df.index[df["reviewer_id"] == ""]
    if len(empty):
        raise InputError(f"{path}: {row_name(int(empty[0]), path)} has an empty 'reviewer_id'; "
                         "every publication must name its reviewer")
    df["year"] = df["year"].map(clean_text)  # a JSON null or a blank cell is no year
    years = pd.to_numeric(df["year"].replace("", None), errors="coerce")
    bad_year = (df["year"] != "") & ~(years.between(0, 9999) & (years % 1 == 0))  # '2023.5', 'inf', '1e30'
    if bad_year.any():
        i = int(df.index[bad_year][0])
        raise InputError(f"{path}: {row_name(i, path)} column 'year' is {quoted(df.at[i, 'year'])}, not a year; "
                         "use a number such as 2023 or leave it empty")
    df["year"] = years.astype("Int64")
    df["weight"] = [_pub_weight(v, path, row_name(i, path)) for i, v in enumerate(df["weight"])]
    return _publications_text(df, path)


def _pub_weight(value: Any, path: Path, where: str) -> float:
    """A publication's weight: a number from 0 on (none given is 1), as openreview-expertise's archives carry it."""
    text = clean_text(value) if isinstance(value, str) else value
    if text is None or (isinstance(text, str) and text == "") or (isinstance(text, float) and np.isnan(text)):
        return 1.0
    try:
        weight = float(text) if not isinstance(text, bool) else float("nan")
    except (TypeError, ValueError, OverflowError):  # OverflowError: a JSON integer of hundreds of digits
        weight = float("nan")
    if not (np.isfinite(weight) and weight >= 0):
        raise InputError(f"{path}: {where} column 'weight' is {quoted(str(value))}, not a weight; use a number such "
                         "as 0.5 (1, or an empty cell, counts the publication fully; 0 leaves it out)")
    return weight


def _publications_text(df: pd.DataFrame, path: Path) -> pd.DataFrame:
    """The publications with a title or an abstract (the others dropped with a warning), each with an id. Those of
    weight 0 are kept, with a warning: they are in no reviewer's profile (:func:`triage.match.select_profiles`), but
    their co-authors are still the reviewer's co-authors for the conflicts."""
    zero = (df["weight"] == 0).to_numpy()
    if zero.all():
        raise InputError(f"{path}: every publication has weight 0; give the ones that count a weight above 0")
    if zero.any():
        _warn("%s: %d publication(s) of weight 0 (first: %s) are left out of the reviewers' profiles, as "
              "openreview-expertise does; their co-authors still count for the conflicts", path,
              int(zero.sum()), row_name(int(np.flatnonzero(zero)[0]), path))
    no_text = (df["title"] == "") & (df["abstract"] == "")
    if no_text.any():
        _warn("%s: dropping %d publication(s) with neither title nor abstract", path, int(no_text.sum()))
        df = df[~no_text]
    if df.empty:
        raise InputError(f"{path}: no publication has a title or abstract; nothing to build profiles from")
    missing_id = df["pub_id"] == ""
    if missing_id.any():
        df.loc[missing_id, "pub_id"] = _content_ids(df[missing_id])
    for col in ("title", "abstract"):  # a title is no longer than an abstract either: a paste error
        _truncate_long(df, col, path)
    return df.reset_index(drop=True)


# openreview-expertise's csv_expertise: 'author id,publication_id,title,abstract', read with no header row.
EXPERTISE_CSV_COLUMNS = ["reviewer_id", "pub_id", "title", "abstract"]
_REVIEWER_ID = re.compile(r"~\S+|[^@\s]+@[^@\s]+\.[^@\s]+")  # an OpenReview tilde id or an email


def _headerless_expertise(path: Path, text: str) -> bool:
    """A table with no header row: its first cell is a reviewer id and the second names no column triage knows
    (the first publication of openreview-expertise's ``csv_expertise``; its title or abstract may be any word,
    'Summary' or 'Abstract' too)."""
    if _is_json(path) or text.lstrip()[:1] in "[{":
        return False
    first = next(csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(path, text)), [])
    return bool(first) and not any(norm_header(c) in KNOWN_HEADERS for c in first[:2]) \
        and _REVIEWER_ID.fullmatch(first[0].strip()) is not None


# openreview-expertise's csv_submissions: 'submission_id,title,abstract', read with no header row.
SUBMISSIONS_CSV_COLUMNS = ["paper_id", "title", "abstract"]
_PROSE_WORDS = 8  # an abstract has this many words or more; no header names a column so


def _headerless_submissions(path: Path, text: str) -> bool:
    """A table with no header row: the first row of openreview-expertise's ``csv_submissions``. Its first cell is an
    id (one word), its third cell is prose, an abstract of ``_PROSE_WORDS`` words or more, which no header cell is,
    and no other cell names a column triage knows. A header row names the title or abstract column (a file without
    them cannot be read), so a file with one is never read so."""
    if _is_json(path) or text.lstrip()[:1] in "[{":
        return False
    first = next(csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(path, text)), [])
    return len(first) >= len(SUBMISSIONS_CSV_COLUMNS) and re.fullmatch(r"\S+", first[0].strip()) is not None \
        and len(first[2].split()) >= _PROSE_WORDS \
        and not any(norm_header(c) in KNOWN_HEADERS for c in first[:2] + first[3:])


def _read_csv_expertise(path: Path, text: str) -> pd.DataFrame:
    """``csv_expertise`` as openreview-expertise reads it (``csv.reader``, the first four fields of each row)."""
    return _read_headerless(path, text, EXPERTISE_CSV_COLUMNS, "csv_expertise, 'author id,publication_id,title,"
                            "abstract'", "reviewer_id,title,abstract")


def _read_headerless(path: Path, text: str, columns: list[str], layout: str, header: str) -> pd.DataFrame:
    """A table without a header row, as openreview-expertise reads its CSV side-inputs (``csv.reader``, the first
    ``len(columns)`` fields of each row); ``layout`` and ``header`` name the file's layout and the header to add."""
    sep = _sniff_delimiter(path, text)
    reader = csv.reader(io.StringIO(text), delimiter=sep, strict=True)
    rows, where = [], []
    start = 1
    try:
        for fields in reader:
            if any(f.strip() for f in fields):
                if len(fields) < len(columns):
                    raise InputError(
                        f"{path}: line {start} has {len(fields)} field(s); a file without a header row is read as "
                        f"openreview-expertise's {layout} on each line: complete the line, or add a header row "
                        f"({header})")
                rows.append(fields[: len(columns)])
                where.append(f"line {start}")
            start = reader.line_num + 1
    except csv.Error as exc:
        raise InputError(f"{path}: line {start} cannot be read ({exc}); close the quote, or double the quote "
                         'character ("") inside a quoted field') from None
    _SHEET_ROWS[str(path)] = where
    return pd.DataFrame(rows, columns=columns)


ARCHIVES = "archives"  # openreview-expertise's dataset folder holds archives/~User_Id1.jsonl, one file per reviewer
_ARCHIVE_SUFFIXES = (".jsonl", ".jsonl.gz")
_NOT_A_REVIEWER = {"match_submissions.jsonl"}  # the papers of a paper-paper matching, written beside the reviewers
_NO_DATE = (None, "", 0)  # openreview-expertise writes cdate 0 when a note has no date


def _archive_folder(path: Path) -> Path:
    """The ``archives`` folder, given it or the dataset folder that holds it."""
    return path / ARCHIVES if (path / ARCHIVES).is_dir() else path


def archive_files(path: Path) -> list[Path]:
    """The reviewer files of an openreview-expertise dataset, given its ``archives`` folder or the folder holding
    it: ``~User_Id1.jsonl`` (or ``.jsonl.gz``), by name; hidden files and ``match_submissions.jsonl`` are not."""
    return _jsonl_files(_archive_folder(path), _NOT_A_REVIEWER, "its reviewer's id (~User_Id1.jsonl)")


def _jsonl_files(folder: Path, skip: set[str], named: str) -> list[Path]:
    """The ``.jsonl`` (or ``.jsonl.gz``) files of one of openreview-expertise's folders, by name, less hidden ones
    and those named in ``skip``; each file is named by its reviewer's or submission's id, which ``named`` shows."""
    files = sorted(p for p in folder.iterdir()
                   if p.name.lower().endswith(_ARCHIVE_SUFFIXES) and not p.name.startswith(".")
                   and p.name.lower() not in skip and p.is_file())
    for p in files:
        try:
            p.name.encode("utf-8")
        except UnicodeEncodeError:  # bytes the file system kept as they were: no id can be written from them
            raise InputError(f"{folder}: the file name {quoted(os.fsencode(p.name).decode('utf-8', 'replace'))} is "
                             f"not valid UTF-8; rename the file to {named}") from None
    return files


def _json_lines(file: Path, encoding: str | None) -> Iterator[tuple[int, Any]]:
    """The records of a JSON Lines file of openreview-expertise's folders, with their line numbers; blank lines are
    skipped and a line that is not JSON is named in a one-line error."""
    text = _decode_text(file, _read_bytes(file, empty_ok=True), encoding)
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line)
        except ValueError as exc:
            raise InputError(f"{file}: line {lineno} is not valid JSON ({exc.msg}); fix or delete that line") \
                from None


def _file_id(file: Path) -> str:
    """The id a file of openreview-expertise's folders is named by: ``~User_Id1.jsonl.gz`` -> ``~User_Id1``."""
    name = file.name[: -len(".gz")] if file.name.lower().endswith(".gz") else file.name
    return clean_text(name[: -len(".jsonl")])


def _archive_year(rec: dict[str, Any], file: Path, lineno: int) -> int | None:
    """The year of publication: ``pdate``, else ``odate``, else ``cdate`` (milliseconds since the epoch)."""
    key = next((k for k in ("pdate", "odate", "cdate") if rec.get(k) not in _NO_DATE), None)
    if key is None:
        return None
    ms = rec[key]
    try:
        if isinstance(ms, bool) or not isinstance(ms, (int, float)):
            raise ValueError
        return datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc).year
    except (ValueError, OverflowError, OSError):
        raise InputError(f"{file}: line {lineno} has {key} {quoted(ms)}, not a time in milliseconds since the epoch "
                         f"(such as 1682899200000); fix it or delete the {key}") from None


@_warnings_on_success
def read_archives(path: Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Reviewer publications from openreview-expertise's ``archives/``: one ``~User_Id1.jsonl`` per reviewer (the
    file name is the reviewer id), one publication per line, ``{"id", "cdate", "pdate", "odate", "content":
    {"title", "abstract", "venueid"}}`` with bare (API v1) or ``{"value": ...}`` (API v2) content values."""
    path = _archive_folder(Path(path))
    files = archive_files(path)
    if not files:
        raise InputError(f"{path}: is a folder with no .jsonl files; pass openreview-expertise's archives folder "
                         "(one ~User_Id1.jsonl per reviewer), the dataset folder that holds it, or a publications file")
    rows: list[dict[str, Any]] = []
    where: list[str] = []
    empty: list[str] = []
    file_of: dict[str, str] = {}
    for file in files:
        reviewer = _file_id(file)
        if reviewer in file_of:  # '~A1.jsonl' beside '~A1.jsonl.gz': every publication would count twice
            raise InputError(f"{path}: {shown(file_of[reviewer])} and {shown(file.name)} are both files of reviewer "
                             f"{shown(reviewer)}; keep one of them")
        file_of[reviewer] = file.name
        before = len(rows)
        for lineno, rec in _json_lines(file, encoding):
            content = rec.get("content") if isinstance(rec, dict) else None
            if not isinstance(content, dict):
                raise InputError(f"{file}: line {lineno} is not a publication (a JSON object with a 'content' object "
                                 "holding its title and abstract); fix or delete that line")
            rows.append({"pub_id": clean_text(_unwrap(rec.get("id"))), "reviewer_id": reviewer,
                         "title": clean_prose(_unwrap(content.get("title"))),
                         "abstract": clean_prose(_unwrap(content.get("abstract"))),
                         "year": _archive_year(rec, file, lineno),
                         "authors": parse_authors(_unwrap(content.get("authors"))),
                         "venue": clean_text(_unwrap(content.get("venueid", content.get("venue")))),
                         "weight": _pub_weight(_unwrap(content.get("weight")), file, f"line {lineno}")})
            where.append(f"{file.name} line {lineno}")
        if len(rows) == before:
            empty.append(file.name)
    if not rows:
        raise InputError(f"{path}: its {len(files)} reviewer file(s) hold no publication; export the archives again")
    if empty:
        _warn("%s: %d reviewer file(s) hold no publication (first: %s); those reviewers get no affinity",
              path, len(empty), shown(empty[0]))
    _SHEET_ROWS[str(path)] = where
    df = pd.DataFrame(rows, columns=PUB_COLUMNS)
    df["year"] = df["year"].astype("Int64")
    return df


def _content_ids(pubs: pd.DataFrame) -> list[str]:
    """Ids for publications the file gives none: the reviewer and a digest of the title and abstract, so that a
    publication keeps its id when the file's rows are reordered; a repeated text gets ``-2``, ``-3`` ..."""
    ids = [f"{r}#{zlib.crc32((t + chr(10) + a).encode()):08x}"
           for r, t, a in zip(pubs["reviewer_id"], pubs["title"], pubs["abstract"])]
    seen: dict[str, int] = {}
    out = []
    for i in ids:
        seen[i] = seen.get(i, 0) + 1
        out.append(i if seen[i] == 1 else f"{i}-{seen[i]}")
    return out


# openreview-expertise's dataset folder holds the submissions as submissions.json ({id: note}, as create_dataset
# writes it today) or submissions.jsonl, one note per line, or as submissions/<id>.jsonl, one file per submission (the
# file name is its id); other_submissions.jsonl is another venue's.
SUBMISSIONS_FILES = ("submissions.json", "submissions.jsonl", "submissions.jsonl.gz")
SUBMISSIONS_DIR = "submissions"
_NOT_A_SUBMISSION = {"other_submissions.jsonl", "other_submissions.jsonl.gz"}


def submission_files(path: Path) -> list[Path]:
    """The files a folder given as the submissions is read from: an openreview-expertise dataset folder's
    ``submissions.json`` or ``submissions.jsonl`` (or ``.jsonl.gz``), else its ``submissions/`` folder's
    ``<id>.jsonl`` files, or those of the ``submissions`` folder given itself; none when it has none of them."""
    files = [path / name for name in SUBMISSIONS_FILES if (path / name).is_file()]
    if files:
        return files
    folder = path / SUBMISSIONS_DIR if (path / SUBMISSIONS_DIR).is_dir() else path
    return _jsonl_files(folder, _NOT_A_SUBMISSION, "its submission's id (aBc123XyZ.jsonl)")


def _read_submission_folder(path: Path, encoding: str | None) -> tuple[Path, pd.DataFrame]:
    """A folder given as the submissions (see :func:`submission_files`): the file or folder read, and its notes
    (``{"id", "content": {"title", "abstract", ...}}``, content values bare or ``{"value": ...}``)."""
    if path.resolve().name == ARCHIVES:
        raise InputError(f"{path}: is openreview-expertise's archives folder, the reviewers' publications; pass it "
                         "with --publications, and as the submissions the dataset folder or its submissions folder")
    files = submission_files(path)
    if not files and (path / SUBMISSIONS_DIR).is_dir():
        raise InputError(f"{path / SUBMISSIONS_DIR}: holds no <id>.jsonl files (one per submission); export the "
                         "submissions again, or pass a submissions file (CSV, JSONL ...)")
    if not files:
        raise InputError(f"{path}: is a folder without submissions.json(l), a submissions folder or <id>.jsonl files; "
                         "pass openreview-expertise's dataset folder that holds them, its submissions folder, or a "
                         "submissions file (CSV, JSONL ...)")
    if len(files) >= 2 and files[0].parent == path and files[0].name in SUBMISSIONS_FILES:
        raise InputError(f"{path}: holds both {files[0].name} and {files[1].name}; keep one of them")
    if files[0].name in SUBMISSIONS_FILES and files[0].parent == path:
        if (path / SUBMISSIONS_DIR).is_dir():
            _warn("%s: read %s; the %s folder beside it is not read (pass that folder to read it instead)",
                  path, files[0].name, SUBMISSIONS_DIR)
        return files[0], read_table(files[0], encoding=encoding)
    folder = files[0].parent
    other = sorted(p.name for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                   and p not in files and p.name.lower() not in _NOT_A_SUBMISSION)
    if other:  # a note saved as .json, say: its submission would be missing without a word
        _warn("%s: %d file(s) not read as submissions, which are <id>.jsonl files: %s", folder, len(other),
              ", ".join(other[:5]) + (" ..." if len(other) > 5 else ""))
    rows: list[dict[str, Any]] = []
    file_of: dict[str, str] = {}
    for file in files:
        paper_id = _file_id(file)
        if paper_id in file_of:  # 'abc.jsonl' beside 'abc.jsonl.gz'
            raise InputError(f"{folder}: {shown(file_of[paper_id])} and {shown(file.name)} are both files of "
                             f"submission {shown(paper_id)}; keep one of them")
        file_of[paper_id] = file.name
        text = _decode_text(file, _read_bytes(file, empty_ok=True), encoding)
        lines = [(n, line) for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
        if len(lines) != 1:
            raise InputError(f"{file}: holds {len(lines)} notes; a file of the submissions folder holds its "
                             "submission's note alone (the file name is its id): "
                             + ("export it again" if not lines else "give each submission a file of its own"))
        lineno, line = lines[0]
        try:
            rec = json.loads(line)
        except ValueError as exc:
            raise InputError(f"{file}: line {lineno} is not valid JSON ({exc.msg}); fix the line") from None
        if not isinstance(rec, dict) or not isinstance(rec.get("content"), dict):
            raise InputError(f"{file}: line {lineno} is not a submission (a JSON object with a 'content' object "
                             "holding its title and abstract); fix the line")
        note = _flatten_record(rec, file, 0)
        note.pop("id", None)  # the file name is the paper's id, as openreview-expertise reads it
        rows.append({"paper_id": paper_id, **note})
    _SHEET_ROWS[str(folder)] = list(file_of.values())
    raw = pd.DataFrame(rows)
    for col in ("title", "abstract"):  # a note may leave out a field that is empty
        if col not in raw.columns:
            raw[col] = ""
    return folder, raw


BIDS_DIR = "bids"  # openreview-expertise's dataset folder: bids/<submission id>.jsonl, one bid per line


def _bid_folder(path: Path) -> Path:
    """The ``bids`` folder, given it or the dataset folder that holds it."""
    return path / BIDS_DIR if (path / BIDS_DIR).is_dir() else path


def bid_files(path: Path) -> list[Path]:
    """The files of openreview-expertise's ``bids/`` folder, given it or the dataset folder that holds it."""
    # a dataset folder without bids/: its submissions are no bids
    return _jsonl_files(_bid_folder(path), {*SUBMISSIONS_FILES, *_NOT_A_SUBMISSION, *_NOT_A_REVIEWER},
                        "its submission's id (aBc123XyZ.jsonl)")


def read_bid_folder(path: Path, encoding: str | None = None) -> tuple[Path, pd.DataFrame]:
    """openreview-expertise's ``bids/`` folder (given it or the dataset folder that holds it): the folder read and
    its bids as ``paper_id, reviewer_id, bid``. Each ``<submission id>.jsonl`` holds that submission's bids, one per
    line, as an edge (``{"head", "tail", "label"}``) or an API v1 tag (``{"forum", "signatures": [...], "tag"}``)."""
    folder = _bid_folder(path)
    files = bid_files(path)
    if not files:
        raise InputError(f"{folder}: holds no bids folder and no <submission id>.jsonl bid files; pass "
                         "openreview-expertise's bids folder (one <submission id>.jsonl per submission), the dataset "
                         "folder that holds it, or a bids file")
    rows: list[tuple[str, str, str]] = []
    where: list[str] = []
    for file in files:
        for lineno, rec in _json_lines(file, encoding):
            signatures = rec.get("signatures") if isinstance(rec, dict) else None
            reviewer = rec.get("tail") if isinstance(rec, dict) and "tail" in rec else (
                signatures[0] if isinstance(signatures, list) and signatures else None)
            bid = rec.get("label", rec.get("tag")) if isinstance(rec, dict) else None
            if not isinstance(reviewer, str) or not isinstance(bid, str):
                raise InputError(f"{file}: line {lineno} is not a bid (an edge with 'tail' and 'label', or a tag with "
                                 "'signatures' and 'tag'); fix or delete that line")
            paper = rec.get("head", rec.get("forum")) or _file_id(file)
            rows.append((clean_text(paper), clean_text(reviewer), clean_text(bid)))
            where.append(f"{file.name} line {lineno}")
    if not rows:
        raise InputError(f"{folder}: its {len(files)} file(s) hold no bid; export the bids again")
    _SHEET_ROWS[str(folder)] = where
    return folder, pd.DataFrame(rows, columns=["paper_id", "reviewer_id", "bid"])


MAX_LOAD = 1_000_000  # a load above it is a slip ('1e30', a cell of digits), and no integer type holds some


def _parse_load(df: pd.DataFrame, col: str, path: Path) -> None:
    vals = pd.to_numeric(df[col].replace("", None), errors="coerce")
    bad = ((df[col] != "") & vals.isna()) | (vals < 0) | (vals > MAX_LOAD) | (vals.notna() & (vals % 1 != 0))
    if bad.any():
        i = int(df.index[bad][0])
        raise InputError(f"{path}: {row_name(i, path)} column '{col}' is {quoted(df.at[i, col])}; "
                         f"use a whole number from 0 to {MAX_LOAD} or leave it empty for the default")
    df[col] = vals.astype("Int64")


_YES, _NO = {"yes", "y", "true", "1", "x", "senior"}, {"", "no", "n", "false", "0"}


def _parse_flag(df: pd.DataFrame, col: str, path: Path) -> None:
    """A yes / no column (yes, true, 1, x; no, false, 0 or empty) as booleans; a JSON or spreadsheet column of 1 and
    0 with gaps reads as 1.0 and 0.0."""
    vals = df[col].map(lambda v: clean_text(v).lower().removesuffix(".0"))
    bad = ~vals.isin(_YES | _NO)
    if bad.any():
        i = int(df.index[bad][0])
        raise InputError(f"{path}: {row_name(i, path)} column '{col}' is {quoted(clean_text(df.at[i, col]))}; use yes "
                         "or no (or leave it empty for no)")
    df[col] = vals.isin(_YES)


# START's program chairs are 'manager:committee', its senior area chairs 'committee:TRACK (manager 1)' and its area
# chairs 'committee:TRACK:Meta Reviewer'; its reviewers 'committee', 'committee:TRACK' or 'TRACK'.
CHAIR_ROLES = re.compile(r"^(?:(?:program|general|pc|track)\s+)?(?:co-?)?chair|^manager:committee$", re.IGNORECASE)
# Not 'PC member', nor a reviewer of a track named 'Meta-Learning'.
SENIOR_ROLES = re.compile(r"senior|chair|meta[\s_-]*review|manager|\b(?:s?ac|spc)\b", re.IGNORECASE)
AUTHOR_ROLE = re.compile(r"authors?", re.IGNORECASE)  # START's profiles list every author too: not on the committee
PROFILE_YEARS = 3  # an institution a profile lists counts for conflicts while the reviewer is there or this recently


def _from_profiles(raw: pd.DataFrame) -> pd.DataFrame:
    """OpenReview profiles (``{"id": "~Ann_Lee1", "content": {"names": [...], "emails": [...],
    "preferredEmail": ..., "history": [{"institution": {"domain": ...}, "end": ...}]}}``) as reviewer rows:
    the preferred (else first) full name, the preferred (else first) email, and as domains those of the
    emails and of the institutions of the last few years."""
    import datetime

    since = datetime.date.today().year - PROFILE_YEARS

    def name(names: Any) -> str:
        items = [n for n in names if isinstance(n, dict)] if isinstance(names, list) else []
        best = next((n for n in items if n.get("preferred")), items[0] if items else {})
        full = best.get("fullname") or " ".join(str(best.get(k) or "") for k in ("first", "middle", "last"))
        return " ".join(str(full).split())

    def domains(emails: Any, history: Any) -> list[str]:
        out = [e.rsplit("@", 1)[1] for e in (emails if isinstance(emails, list) else []) if "@" in str(e)]
        for h in history if isinstance(history, list) else []:
            end = h.get("end") if isinstance(h, dict) else None
            dom = ((h.get("institution") or {}).get("domain") if isinstance(h, dict) else None) or ""
            if dom and (end in (None, "") or (str(end).isdigit() and int(end) >= since)):
                out.append(str(dom))
        return list(dict.fromkeys(d.strip().lower() for d in out if d.strip()))

    emails = raw["emails"] if "emails" in raw.columns else pd.Series([[]] * len(raw), index=raw.index)
    preferred = raw.get("preferredEmail", pd.Series([""] * len(raw), index=raw.index))
    history = raw["history"] if "history" in raw.columns else pd.Series([[]] * len(raw), index=raw.index)
    out = pd.DataFrame({"reviewer_id": raw["id"] if "id" in raw.columns else "", "name": raw["names"].map(name)},
                       index=raw.index)
    out["email"] = [p if isinstance(p, str) and p else (e[0] if isinstance(e, list) and e else "")
                    for p, e in zip(preferred, emails)]
    out["domains"] = [domains(e, h) for e, h in zip(emails, history)]
    out["other_emails"] = [[x for x in dict.fromkeys(str(v).strip() for v in (e if isinstance(e, list) else []))
                            if x and x.lower() != m.lower()] for e, m in zip(emails, out["email"])]
    for col in raw.columns:  # loads and the like, given next to the profile
        if col not in ("id", "names", "emails", "preferredEmail", "history") and col not in out.columns:
            out[col] = raw[col]
    return out


@_warnings_on_success
def read_reviewers(path: Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read the reviewer pool: ``reviewer_id`` (+ name, email, domains, max_load, min_load)."""
    path = Path(path)
    raw = read_table(path, encoding=encoding)
    found = list(raw.columns)
    if "names" in raw.columns and ("emails" in raw.columns or "history" in raw.columns):
        raw = _from_profiles(raw)
    if {"head", "tail", "weight"} <= set(raw.columns):  # OpenReview's Custom_Max_Papers edges: the edge's id is no
        raw = pd.DataFrame({"reviewer_id": raw["tail"], "max_load": raw["weight"]})  # reviewer, its weight the load
    role = next((c for c in raw.columns if norm_header(c) in ("role", "roles")), None)
    left_out: set[str] = set()  # ids (and emails, member #) of the members left out, lower-cased
    if role is not None:  # EasyChair's committee: senior PC members and chairs meta-review, they do not review
        roles = raw[role].map(clean_text)
        authors = roles.str.fullmatch(AUTHOR_ROLE)
        if authors.any() and not authors.all():
            _warn("%s: %d profile(s) whose role is %s are left out of the reviewer pool (they are not on the "
                  "committee)", path, int(authors.sum()), quoted(roles[authors].iloc[0]))
            raw, roles = raw[~authors], roles[~authors]
        senior = roles.str.contains(SENIOR_ROLES)
        if senior.all():  # only senior members: the chair is assigning area chairs; the chairs themselves go
            senior = roles.str.contains(CHAIR_ROLES)
        if senior.any():
            _warn("%s: %d committee member(s) whose role is %s are left out of the reviewer pool (they "
                  "chair or meta-review); delete the role column to keep them", path, int(senior.sum()),
                  " or ".join(quoted(r) for r in sorted(set(roles[senior]))))
            gone = _rename(raw[senior], REVIEWER_ALIASES, path, quiet=True)
            left_out = {clean_text(v).lower() for c in ("reviewer_id", "email", "member_id") if c in gone.columns
                        for v in gone[c] if clean_text(v)}
            raw = raw[~senior]
    df = _rename(raw, REVIEWER_ALIASES, path)
    if "name" not in df.columns and ("first_name" in df.columns or "last_name" in df.columns):
        parts = [df[c].map(clean_text) for c in ("first_name", "middle_initial", "last_name") if c in df.columns]
        df = df.assign(name=[" ".join(p for p in names if p) for names in zip(*parts)])
    if "reviewer_id" not in df.columns and "email" in df.columns:
        df["reviewer_id"] = df["email"]
    _require(df, ["reviewer_id"], path, found, "name the column of reviewer ids 'reviewer_id'", "reviewers")
    if len(df) == 0:
        raise InputError(f"{path}: has a header but no rows; export the reviewers again")
    df = df.copy()
    for col in ("reviewer_id", "name", "email", "max_load", "min_load", "person_id", "member_id"):
        if col in df.columns:
            df[col] = df[col].map(clean_prose if col == "name" else clean_text)  # 'Mo&#239;se' is 'Moïse'
    if "domains" in df.columns:
        df["domains"] = df["domains"].map(parse_list)
    if "other_emails" in df.columns:
        df["other_emails"] = df["other_emails"].map(_author_ids)
    df = _finish(df, REVIEWER_COLUMNS)
    _check_ids(df, "reviewer_id", path)
    _keep_other_emails(df, path)
    _parse_load(df, "max_load", path)
    _parse_load(df, "min_load", path)
    _parse_flag(df, "senior", path)
    both = df["max_load"].notna() & df["min_load"].notna() & (df["min_load"] > df["max_load"])
    if both.any():
        i = int(df.index[both][0])
        raise InputError(f"{path}: {row_name(i, path)} has min_load {df.at[i, 'min_load']} > max_load "
                         f"{df.at[i, 'max_load']}; lower min_load or raise max_load")
    df.attrs["left_out"] = left_out
    return df


def _keep_other_emails(df: pd.DataFrame, path: Path) -> None:
    """A reviewer's other emails: those with an '@', each once, less the main email. A placeholder ('N/A', '-')
    would match every submission author listed with it and make the reviewer conflict with all their papers."""
    dropped: list[tuple[int, str]] = []
    kept_all = []
    for i, main, emails in zip(df.index, df["email"], df["other_emails"]):
        seen, kept = {str(main).strip().lower()}, []
        for e in emails:
            if "@" not in e:
                dropped.append((int(i), e))
            elif e.lower() not in seen:
                seen.add(e.lower())
                kept.append(e)
        kept_all.append(kept)
    df["other_emails"] = kept_all
    if dropped:
        i, e = dropped[0]
        _warn("%s: %d other email(s) without an '@' ignored (first: %s, %s); leave the cell empty for none", path,
              len(dropped), row_name(i, path), quoted(e))


_CONSTRAINT = re.compile(r"-?\d+(?:\.0+)?")  # the third column of OpenReview's headerless constraints


@_warnings_on_success
def read_conflicts(path: Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read declared conflicts: ``paper_id, reviewer_id[, reason]``.

    OpenReview matcher constraint files are headerless ``paper,user,-1``; they are accepted too.
    """
    path = Path(path)
    source = _read_source(path, encoding)
    first = source.split("\n", 1)[0] if isinstance(source, str) else ""
    if isinstance(source, str) and not _is_json(path) and first.count(",") == 2 and \
            _CONSTRAINT.fullmatch(first.rsplit(",", 1)[1].strip()):
        df = pd.read_csv(io.StringIO(source), header=None, names=["paper_id", "reviewer_id", "c"], dtype=str,
                         keep_default_na=False)
        value = pd.to_numeric(df["c"].str.strip(), errors="coerce")
        if value.isna().any():
            i = int(np.flatnonzero(value.isna().to_numpy())[0])
            raise InputError(f"{path}: line {i + 1} has constraint {quoted(df.at[i, 'c'])}; an OpenReview constraints "
                             "file has -1 (conflict), 1 (forced) or 0 in its third column")
        forced = int((value > 0).sum())
        if forced:
            _warn("%s: %d forced pair(s) (constraint 1) are not conflicts; ignored here (pin them with "
                  "--keep-assignments)", path, forced)
        df = df[value < 0].assign(reason="declared conflict")[CONFLICT_COLUMNS]
    else:
        raw = _table(path, source)
        found = list(raw.columns)
        df = _rename(raw, CONFLICT_ALIASES, path)
        _require(df, ["paper_id", "reviewer_id"], path, found, "the file needs columns paper_id and reviewer_id",
                 "conflicts")
        df = df.copy()
        if "reason" not in df.columns:
            df["reason"] = ""
    for col in CONFLICT_COLUMNS:
        df[col] = df[col].map(clean_text)
    df.loc[df["reason"] == "", "reason"] = "declared conflict"
    # A declared reason says so, so that it never reads as one a rule found ('co-author on an old grant').
    own = ~df["reason"].str.lower().str.startswith("declared")
    df.loc[own, "reason"] = "declared: " + df.loc[own, "reason"]
    bad = (df["paper_id"] == "") | (df["reviewer_id"] == "")
    if bad.any():
        i = int(df.index[bad][0])
        raise InputError(f"{path}: {row_name(i, path)} has an empty paper_id or reviewer_id; fill it or "
                         "delete the row")
    return df[CONFLICT_COLUMNS].drop_duplicates(["paper_id", "reviewer_id"]).reset_index(drop=True)


ASSIGNMENT_ALIASES = {
    "paper_id": "paper_id", "paper": "paper_id", "submission_id": "paper_id", "forum": "paper_id", "head": "paper_id",
    "reviewer_id": "reviewer_id", "reviewer": "reviewer_id", "user": "reviewer_id", "tail": "reviewer_id",
    "rank": "rank",
    "submission_#": "paper_id", "member_#": "reviewer_id",  # EasyChair's assignment.csv (members by member #)
}
# Every header triage reads in some file: a spreadsheet's header row is the first that names one.
KNOWN_HEADERS = {*PAPER_ALIASES, *PUB_ALIASES, *REVIEWER_ALIASES, *CONFLICT_ALIASES, *ASSIGNMENT_ALIASES}


@_warnings_on_success
def read_assignments(path: Path, *, encoding: str | None = None) -> pd.DataFrame:
    """Read an earlier assignment (``paper_id, reviewer_id[, rank]``, e.g. a previous assignments.csv)."""
    path = Path(path)
    source = _read_source(path, encoding)
    empty = source.strip().count("\n") == 0 and not _is_json(path) if isinstance(source, str) else source.empty
    if empty:
        _warn("%s: has a header but no assignments; nothing to keep", path)
        return pd.DataFrame({"paper_id": pd.Series(dtype=object), "reviewer_id": pd.Series(dtype=object)})
    raw = _table(path, source)
    found = list(raw.columns)
    df = _rename(raw, ASSIGNMENT_ALIASES, path, quiet=True)  # score, evidence...: an assignments.csv as written
    _require(df, ["paper_id", "reviewer_id"], path, found,
             "pass the assignments.csv of the earlier run (columns paper_id, reviewer_id)")
    df = df.copy()
    df["paper_id"] = df["paper_id"].map(clean_text)
    df["reviewer_id"] = df["reviewer_id"].map(clean_text)
    bad = (df["paper_id"] == "") | (df["reviewer_id"] == "")
    if bad.any():
        i = int(df.index[bad][0])
        raise InputError(f"{path}: {row_name(i, path)} has an empty paper_id or reviewer_id; fill it or "
                         "delete the row")
    dup = df.duplicated(["paper_id", "reviewer_id"])
    if dup.any():
        _warn("%s: %d repeated (paper_id, reviewer_id) pair(s) (first: %s); counted once", path,
                    int(dup.sum()), row_name(int(df.index[dup][0]), path))
        df = df[~dup]
    return df[["paper_id", "reviewer_id"]].reset_index(drop=True)


def empty_publications() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in PUB_COLUMNS})


def empty_reviewers() -> pd.DataFrame:
    df = pd.DataFrame({c: pd.Series(dtype=object) for c in REVIEWER_COLUMNS})
    df["max_load"] = df["max_load"].astype("Int64")
    df["min_load"] = df["min_load"].astype("Int64")
    df["senior"] = df["senior"].astype(bool)
    return df


def empty_conflicts() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in CONFLICT_COLUMNS})


@_warnings_on_success
def load_corpus(
    submissions: Path,
    *,
    publications: Path | None = None,
    reviewers: Path | None = None,
    conflicts: Path | None = None,
    encoding: str | None = None,
    keep_assignments: Path | None = None,
) -> Corpus:
    """Read and cross-check all inputs of a run."""
    papers, excluded = read_submissions(submissions, encoding=encoding)
    pubs = read_publications(publications, encoding=encoding) if publications else empty_publications()
    left_out: frozenset[str] = frozenset()
    if reviewers:
        revs = read_reviewers(reviewers, encoding=encoding)
        left_out = frozenset(revs.attrs.get("left_out", ()))  # read before any copy of the frame drops it
        if len(pubs):  # publications listed by email, in another case than the reviewers file
            pubs = pubs.assign(reviewer_id=resolve_reviewer_ids(pubs["reviewer_id"], revs))
        known = set(revs["reviewer_id"])
        meta = ~pubs["reviewer_id"].isin(known) & pubs["reviewer_id"].str.lower().isin(left_out)
        if meta.any():  # the meta-reviewers' own papers: not needed, and nothing to warn about
            pubs = pubs[~meta].reset_index(drop=True)
        unknown = ~pubs["reviewer_id"].isin(known)
        if len(pubs) and unknown.all():
            raise InputError(
                f"{publications}: none of its reviewer_ids is in {reviewers} (e.g. "
                f"{quoted(pubs['reviewer_id'].iloc[0])} here, {quoted(revs['reviewer_id'].iloc[0])} there); use the "
                "same reviewer ids in both files"
            )
        if unknown.any():
            first = pubs.loc[unknown, "reviewer_id"].iloc[0]
            _warn("%s: %d publication(s) belong to reviewers not in %s (first: %s); ignored: add those reviewers "
                  "or check that both files use the same ids",
                  publications, int(unknown.sum()), reviewers, quoted(first))
            pubs = pubs[~unknown].reset_index(drop=True)
    else:
        revs = empty_reviewers()
        if len(pubs):
            ids = sorted(pubs["reviewer_id"].unique())
            revs = pd.concat([revs, pd.DataFrame({"reviewer_id": ids})], ignore_index=True)
            revs = _finish(revs.fillna({"name": "", "email": "", "person_id": "", "member_id": "",
                                        "senior": False}), REVIEWER_COLUMNS)
            for col in ("domains", "other_emails"):
                revs[col] = [[] for _ in range(len(revs))]
    if len(revs) and len(pubs):
        without = sorted(set(revs["reviewer_id"]) - set(pubs["reviewer_id"]))
        if without:
            _warn("%d reviewer(s) have no publications (first: %s); they get no affinity and are not "
                        "assigned; add their papers to %s", len(without), quoted(without[0]), publications)
    confl = read_conflicts(conflicts, encoding=encoding) if conflicts else empty_conflicts()
    if len(confl):
        confl = confl.assign(paper_id=resolve_paper_ids(confl["paper_id"], papers),
                             reviewer_id=resolve_reviewer_ids(confl["reviewer_id"], revs))
        paper_ok = confl["paper_id"].isin(set(papers["paper_id"]))
        ok = paper_ok & confl["reviewer_id"].isin(set(revs["reviewer_id"]))
        # Not one paper of several conflicts is known and their ids are of another kind (numbers against
        # OpenReview ids), or no reviewer is known either: the file is of another system or export (conflicts
        # of other tracks' or withdrawn papers are fine). A conflict must never be lost without a word.
        known_reviewer = confl["reviewer_id"].isin(set(revs["reviewer_id"]))
        other_scheme = {_id_shape(x) for x in confl["paper_id"]}.isdisjoint(_id_shape(x) for x in papers["paper_id"])
        if len(revs) and not paper_ok.any() and (other_scheme or not known_reviewer.any()) and len(confl) >= 3:
            bad = confl.iloc[0]
            raise InputError(f"{conflicts}: none of its {len(confl)} conflict(s) names a paper of this run (first: "
                             f"paper {quoted(bad['paper_id'])}, reviewer {quoted(bad['reviewer_id'])}; the papers of "
                             f"{submissions} are like {quoted(papers['paper_id'].iloc[0])}); use the ids of the "
                             "submissions file")
        # Conflicts on withdrawn papers, and of committee members left out of the pool, are expected in a
        # venue's export: they are not needed, and say nothing about the file.
        left = set(excluded["paper_id"].map(clean_text)) if excluded is not None and len(excluded) else set()
        aside = ~ok & (confl["paper_id"].isin(left) | confl["reviewer_id"].str.lower().isin(left_out))
        if (~ok & ~aside).any():
            bad = confl[~ok & ~aside].iloc[0]
            _warn("%s: %d conflict(s) name unknown paper or reviewer ids (first: %s, %s); ignored: check them "
                  "against the submissions and reviewers", conflicts, int((~ok & ~aside).sum()), shown(bad["paper_id"]),
                  shown(bad["reviewer_id"]))
        confl = confl[ok].reset_index(drop=True)
    previous = read_assignments(keep_assignments, encoding=encoding) if keep_assignments else None
    if previous is not None and len(previous):
        previous = previous.assign(paper_id=resolve_paper_ids(previous["paper_id"], papers),
                                   reviewer_id=resolve_reviewer_ids(previous["reviewer_id"], revs))
    return Corpus(papers=papers, publications=pubs, reviewers=revs, conflicts=confl, previous=previous,
                  excluded=excluded, left_out=left_out)


_FLOAT_ID = re.compile(r"^(-?\d+)\.0+$")


def _id_shape(pid: str) -> str:
    """'digits' for CMT's and EasyChair's paper numbers, else 'text' (OpenReview ids, 'v247/abbe24a')."""
    return "digits" if str(pid).isdigit() else "text"


def resolve_paper_ids(ids: pd.Series, papers: pd.DataFrame) -> list[str]:
    """Paper ids as the submissions file gives them: a sheet saved through Excel or pandas may write
    paper 12 as '12.0'; ids that match nothing are kept as given."""
    known = set(papers["paper_id"])
    out = []
    for pid in ids:
        m = _FLOAT_ID.match(str(pid))
        out.append(m.group(1) if pid not in known and m and m.group(1) in known else pid)
    return out


def resolve_reviewer_ids(ids: pd.Series, reviewers: pd.DataFrame) -> list[str]:
    """Reviewer ids as the reviewers file gives them: a publication, conflict or bid may name the reviewer
    by email (CMT and many chairs' sheets do), in any case, or by EasyChair member #; ids that match nothing
    are kept as given."""
    known = set(reviewers["reviewer_id"])
    by_email = {str(e).strip().lower(): r for r, e in zip(reviewers["reviewer_id"], reviewers["email"])
                if str(e).strip()}
    by_email.update({r.lower(): r for r in known if "@" in r and r.lower() not in by_email})  # ids that are emails
    if "other_emails" in reviewers.columns:  # the reviewer's other emails (CMT's Publication Emails)
        for r, emails in zip(reviewers["reviewer_id"], reviewers["other_emails"]):
            for e in emails if isinstance(emails, list) else []:
                by_email.setdefault(str(e).strip().lower(), r)
    if "member_id" in reviewers.columns:  # EasyChair's member # (its bidding.csv)
        by_email.update({str(m): r for r, m in zip(reviewers["reviewer_id"], reviewers["member_id"])
                         if str(m).strip() and str(m) not in by_email})
    return [r if r in known else by_email.get(str(r).strip().lower(), r) for r in ids]


def paper_texts(df: pd.DataFrame, *, use_keywords: bool = False) -> list[str]:
    """The text embedded for each row: title and abstract (and keywords when asked).

    Keywords go between the title and the abstract: the model reads only the first 256 word pieces,
    which half of ICLR's title + abstract texts already fill, so keywords after the abstract would be cut.
    """
    out = []
    for row in df.itertuples(index=False):
        title = getattr(row, "title", "")
        abstract = getattr(row, "abstract", "")
        text = f"{title}. {abstract}" if title and abstract else (title or abstract)
        kws = (getattr(row, "keywords", None) or []) if use_keywords else []
        if kws:
            text = " ".join(p for p in (f"{title}." if title else "", f"Keywords: {', '.join(kws)}.", abstract) if p)
        out.append(text)
    return out
