"""The work directory: the one module that reads and writes run artifacts.

Every write goes to a temporary file in the same folder and is then renamed over the
target, so a failed or interrupted run never leaves a half-written file. Inside
:func:`all_or_nothing` (every CLI command runs in one) the artifacts of a run are staged
next to their targets and renamed into place only when the whole command succeeds, so a
failed run never replaces any good artifact of an earlier run, not even the ones it got
to before failing. The embedding cache is not staged: finished chunks are kept so that
an interrupted run resumes. A command that writes holds the folder's lock (:func:`folder_lock`),
so two commands never write into one folder at once.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime as _dt
import errno
import hashlib
import itertools
import json
import logging
import os
import re
import shutil
import signal
import stat
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from triage import __version__
from triage.choices import SplitBy
from triage.errors import MissingArtifactError, OutputError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: folders are not locked
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("triage")

MARK = "triage-"  # in the names of the temporary files triage writes, so that only those are ever cleaned up

# Artifact file names, relative to the work directory.
MANIFEST = "manifest.json"
EMBED_CACHE = "cache/embeddings"
AFFINITY_CACHE = "cache/affinity"  # the last affinity table, keyed by everything it is computed from
LLM_CACHE = "cache/llm"  # the LLM's answers, keyed by its settings and the paper's text
PDF_CACHE = "cache/pdf"  # the pages read from each PDF, keyed by its bytes (screen, summarize --pdf-dir)
PAPER_EMB = "embeddings/papers.npy"
PUB_EMB = "embeddings/publications.npy"
SCREEN = "screen.csv"  # the desk-reject pre-screen's findings
TOPICS = "topics.csv"
TOPIC_SUPPLY = "topic_supply.csv"
DUPLICATES = "duplicates.csv"  # pairs of submissions that may be the same work
CENTROIDS = "centroids.npy"
AFFINITY = "affinity.csv"
CONFLICTS = "conflicts.csv"
ASSIGNMENTS = "assignments.csv"
ALTERNATES = "alternates.csv"
SUMMARIES = "summaries.csv"
SUMMARIES_JSONL = "summaries.jsonl"
TRIAGE = "triage.csv"
REPORT = "report.html"
TRIAGE_XLSX = "triage.xlsx"
SPLIT_DIR = "by_{by}"  # triage export --by area|cluster: one file per group
CHANGES = "changes.csv"
PROBABILITIES = "assignment_probabilities.csv"  # match --max-probability: each candidate pair's probability
RESERVE = "reserve.csv"  # the emergency pool: reviewers with load to spare who can stand in on the most papers
EXCLUDED = "excluded.csv"  # submissions left out of the run: withdrawn, desk-rejected or without a paper
OPENREVIEW_MAX_PAPERS = "openreview_max_papers.csv"  # --export-format openreview: the matcher's user,max
# Upload files for OpenReview, CMT, HotCRP and START, written by run_match when asked (``--export-format``):
# the scores file (none for HotCRP and START) and the other file (constraints or assignments).
EXPORT_FILES = {
    "openreview": ("openreview_affinity.csv", "openreview_constraints.csv"),
    "cmt": ("cmt_scores.csv", "cmt_assignments.xml"),
    "hotcrp": (None, "hotcrp_assignments.csv"),  # assignment only: HotCRP computes no scores from files
    "start": (None, "start_assignments.txt"),
}

FLOAT_FORMAT = "%.4f"
_TABLES = (SCREEN, TOPICS, DUPLICATES, TOPIC_SUPPLY, CONFLICTS, AFFINITY, ASSIGNMENTS, ALTERNATES, SUMMARIES)
# The artifacts of other stages that each stage reads: when one changes, the stage is out of date.
READS = {
    "topics": (PAPER_EMB,),  # topic_supply.csv adds what it read: publications.npy, and in a run conflicts.csv
    "match": (PAPER_EMB, PUB_EMB),  # (topics.csv only words an infeasible assignment's error)
    "export": _TABLES,
    "report": (*_TABLES, PAPER_EMB, CHANGES, RESERVE),
}


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_SHA256: dict[tuple[str, int, int, int, int], str] = {}


def sha256_file(path: Path, kind: str = "publications") -> str:
    """The file's sha256, computed once per run for a file that has not changed (every stage records
    the hashes of the same inputs, and publications can run to hundreds of MB). A folder (openreview-expertise's
    dataset) has the sha256 of the names and hashes of the files read from it as ``kind``, the submissions, the
    publications or the bids, so it changes when one of them is added, removed, renamed or changed, and not when
    anything else in it does (the other kinds' files included)."""
    if os.path.isdir(path):
        from triage.ingest import archive_files, bid_files, submission_files

        read = {"submissions": submission_files, "bids": bid_files}.get(kind, archive_files)
        folder = hashlib.sha256()
        for f in read(Path(path)):
            folder.update(f"{f.name}\0{sha256_file(f)}\n".encode())
        return folder.hexdigest()
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    if key not in _SHA256:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _SHA256[key] = h.hexdigest()
    return _SHA256[key]


def _describe_os_error(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"{path}: no space left on the device; free some space or pass another --out folder"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{path}: cannot write here (permission denied); pass an --out folder you can write to"
    if exc.errno in (errno.EEXIST, errno.ENOTDIR):
        blocking = next((p for p in (Path(path), *Path(path).parents) if p.is_file()), None)
        if blocking is not None:
            return f"{blocking}: is a file, where the output folder should be; pass a folder with --out"
    return f"{path}: cannot write ({exc.strerror or exc}); pass another --out folder"


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing and rename it over ``path`` on success."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{MARK}", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(_describe_os_error(path, exc)) from exc  # (the cause: cache_unwritable says it)
    kwargs: dict[str, Any] = {} if "b" in mode else {"encoding": encoding, "newline": ""}
    try:
        with os.fdopen(fd, mode, **kwargs) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise OutputError(_describe_os_error(path, exc)) from exc
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


_UNCACHED: set[str] = set()  # folders already said to be unusable for a cache


def cache_unwritable(folder: Path, exc: Exception, consequence: str) -> None:
    """Say that a cache cannot be written in ``folder``: that costs only the caching (what ``consequence`` says),
    never the run's outputs. The warning names the folder at fault, the nearest that exists (a file where the
    cache's folder should be, or the folder a cache's subfolder cannot be made in), once: the caches under one
    unusable folder give one warning."""
    folder = Path(folder)
    where = next((p for p in (folder, *folder.parents) if p.exists()), folder)
    if str(where) in _UNCACHED:
        return
    _UNCACHED.add(str(where))
    if where.is_file():
        log.warning("%s: is a file, not a folder, so the cache cannot be kept there (move the file away); the "
                    "outputs are written all the same, but %s", where, consequence)
        return
    cause = exc.__cause__ if isinstance(exc, OutputError) and exc.__cause__ is not None else exc
    reason = (cause.strerror if isinstance(cause, OSError) else None) or str(cause)
    log.warning("%s: the cache cannot be written there (%s); the outputs are written all the same, but %s",
                where, reason, consequence)


def write_text(path: Path, text: str) -> None:
    with atomic_open(path, "w") as f:
        f.write(text)


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb", encoding=None) as f:
        f.write(data)


def write_csv(path: Path, df: pd.DataFrame, *, header: bool = True) -> None:
    """Write a CSV with fixed float formatting and LF line ends (byte-identical reruns); ``-``: standard output."""
    if str(path) == "-":
        df.to_csv(sys.stdout, index=False, header=header, float_format=FLOAT_FORMAT, lineterminator="\n")
        sys.stdout.flush()
        return
    with atomic_open(path, "w") as f:
        df.to_csv(f, index=False, header=header, float_format=FLOAT_FORMAT, lineterminator="\n")


def write_npy(path: Path, array: np.ndarray) -> None:
    with atomic_open(path, "wb", encoding=None) as f:
        np.save(f, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> None:
    with atomic_open(path, "w") as f:
        for rec in records:
            f.write(json.dumps(rec, ensure_ascii=False, sort_keys=False) + "\n")


def read_npy(path: Path) -> np.ndarray:
    """Memory-map a float32 ``.npy`` written by :func:`write_npy` (never unpickles)."""
    return np.load(path, mmap_mode="r", allow_pickle=False)


# ---------------------------------------------------------------------------------------------
# All-or-nothing runs
# ---------------------------------------------------------------------------------------------
class _Staging:
    """Artifacts written (or removed) by the current run, committed together at its end."""

    def __init__(self) -> None:
        self.staged: dict[Path, Path | None] = {}  # final path -> staged file (None: remove on commit)
        self.created: list[Path] = []  # folders this run made: a failed run removes those left empty

    def mkdir(self, folder: Path) -> None:
        missing = []
        for d in (folder, *folder.parents):
            if d.exists():
                break
            missing.append(d)
        folder.mkdir(parents=True, exist_ok=True)
        self.created += reversed(missing)

    def stage(self, final: Path) -> Path:
        staged = self.staged.get(final)
        if staged is None:
            try:
                self.mkdir(final.parent)
                fd, name = tempfile.mkstemp(prefix=f".{final.name}.{MARK}", suffix=".staged", dir=final.parent)
            except OSError as exc:
                raise OutputError(_describe_os_error(final, exc)) from None
            os.close(fd)
            staged = self.staged[final] = Path(name)
        return staged

    def remove(self, final: Path) -> None:
        staged = self.staged.get(final)
        if staged is not None:
            with contextlib.suppress(OSError):
                os.unlink(staged)
        self.staged[final] = None

    def lookup(self, final: Path) -> Path | None:
        """The file a read of ``final`` sees now: staged, original, or None when removed."""
        if final in self.staged:
            return self.staged[final]
        return final

    def discard(self) -> None:
        for staged in self.staged.values():
            if staged is not None:
                with contextlib.suppress(OSError):
                    os.unlink(staged)
        self.staged.clear()
        for folder in reversed(self.created):  # deepest first; a folder with files (the embedding cache) stays
            with contextlib.suppress(OSError):
                folder.rmdir()
        self.created.clear()

    def commit(self) -> None:
        """Rename every staged file over its target (the manifest last); undo all on failure."""
        items = sorted(self.staged.items(), key=lambda kv: kv[0].name == MANIFEST)
        backups: dict[Path, Path] = {}
        done: list[Path] = []
        current: Path | None = None
        try:
            for final, _ in items:  # keep the old files aside, to put them back on failure
                current = final
                if final.exists():
                    backup = final.with_name(f".{final.name}.{MARK}{os.getpid()}.bak")
                    try:
                        os.link(final, backup)
                    except OSError:
                        shutil.copy2(final, backup)
                    backups[final] = backup
            for final, staged in items:
                current = final
                if staged is None:
                    final.unlink(missing_ok=True)
                else:
                    os.replace(staged, final)
                done.append(final)
        except OSError as exc:
            for final in done:
                with contextlib.suppress(OSError):
                    if final in backups:
                        os.replace(backups.pop(final), final)
                    else:
                        os.unlink(final)
            self.discard()
            raise OutputError(_describe_os_error(current or Path("."), exc)) from None
        finally:
            for backup in backups.values():
                with contextlib.suppress(OSError):
                    os.unlink(backup)
        self.staged.clear()


_RUN: contextvars.ContextVar[_Staging | None] = contextvars.ContextVar("triage_run", default=None)


@contextlib.contextmanager
def all_or_nothing() -> Iterator[None]:
    """Stage every :class:`Workdir` write of the block; commit them all if it succeeds, else none.

    Nested blocks join the outermost one. The embedding cache is written directly.
    """
    if _RUN.get() is not None:
        yield
        return
    staging = _Staging()
    token = _RUN.set(staging)
    try:
        yield
    except BaseException:
        staging.discard()
        raise
    else:
        with _signals_held():
            staging.commit()
    finally:
        _RUN.reset(token)


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block ends (the renames of a commit): a signal that lands between
    two renames would leave the outputs half-replaced. A held signal is acted on as it would have been,
    right after the block."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread sets handlers
        yield
        return
    pending: list[int] = []
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    for s, h in before.items():
        if h is not signal.SIG_IGN:
            signal.signal(s, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        for s, h in before.items():
            signal.signal(s, signal.SIG_DFL if h is None else h)
        for s in dict.fromkeys(pending):
            handler = before[s]
            if callable(handler):
                handler(s, None)
            elif handler is signal.SIG_DFL:
                signal.raise_signal(s)


LOCK = ".triage.lock"  # held by the command writing into the folder; it holds that command's pid
_LOCKED: set[str] = set()  # folders this process holds the lock of


@contextlib.contextmanager
def folder_lock(root: Path, option: str = "-o", names: tuple[str, ...] = ()) -> Iterator[None]:
    """Hold the folder's lock while the block runs: a second triage command writing into the same folder stops
    at once, rather than mixing its outputs with this one's. Where the system has no file locks, the block runs
    unlocked (with a warning when the folder's file system refuses them). ``names``: files other than triage's
    outputs that the command writes there (their leftovers are removed too)."""
    root = Path(root)
    key = os.path.realpath(root)
    if fcntl is None or key in _LOCKED:  # (a command that runs another, as demo runs run, holds it already)
        yield
        return
    made = [d for d in (root, *root.parents) if not d.exists()]
    fd = None
    try:
        with contextlib.suppress(OSError):  # else the command says why it cannot write here
            root.mkdir(parents=True, exist_ok=True)
            fd = _lock(root / LOCK, option)
            if fd is not None:
                remove_leftovers(root, names)
        _LOCKED.add(key)
        yield
    finally:
        _LOCKED.discard(key)
        if fd is not None:
            with contextlib.suppress(OSError):
                os.unlink(root / LOCK)  # while still held: a command that opened it meanwhile sees it gone
            os.close(fd)
        for d in made:  # deepest first; a folder the command wrote into stays
            with contextlib.suppress(OSError):
                d.rmdir()


# What a killed command (kill -9, a power cut) leaves behind, for the files triage writes (NAME) and nothing else:
# atomic_open's .NAME.triage-RANDOM.tmp and, for a staged output, the run's .NAME.triage-RANDOM.staged, atomic_open's
# ..NAME.triage-RANDOM.staged.triage-RANDOM.tmp and a commit's .NAME.triage-PID.bak. RANDOM is the part mkstemp
# makes; the mark keeps a user's own '.notes.csv.20240101.bak' or '.report.html.backup01.tmp' out.
_RANDOM = MARK + "[a-z0-9_]{8}"
_STALE = 24 * 3600  # seconds: a cache's temporary file this old is no live command's (a cache may be shared)
_OUTPUTS = (MANIFEST, SCREEN, TOPICS, TOPIC_SUPPLY, DUPLICATES, CENTROIDS, AFFINITY, CONFLICTS, ASSIGNMENTS,
            ALTERNATES, SUMMARIES, SUMMARIES_JSONL, TRIAGE, REPORT, TRIAGE_XLSX, CHANGES, PROBABILITIES, RESERVE,
            EXCLUDED, OPENREVIEW_MAX_PAPERS, *(name for pair in EXPORT_FILES.values() for name in pair if name))


def _leftover(names: str, *, staged: bool = True) -> re.Pattern[str]:
    """The temporary files of the files whose names match ``names``; ``staged``: also of staging."""
    tmp = rf"\.(?:{names})\.{_RANDOM}\.tmp"
    if staged:
        tmp += (rf"|\.(?:{names})\.(?:{_RANDOM}\.staged|{MARK}[0-9]+\.bak)"
                rf"|\.\.(?:{names})\.{_RANDOM}\.staged\.{_RANDOM}\.tmp")
    return re.compile(tmp)


_HEX = "[0-9a-f]{64}"
_IN_SUBFOLDERS = (  # subfolder, its leftovers, whether they are a cache's
    ("embeddings", _leftover(r"papers\.npy|publications\.npy"), False),
    *((SPLIT_DIR.format(by=b.value), _leftover(r"[^\W_]+(?:-[^\W_]+)*\.(?:csv|xlsx)"), False) for b in SplitBy),
    (EMBED_CACHE, _leftover(r"shard-[0-9]{6,}(?:-[0-9a-f]{12})?\.(?:npy|keys)", staged=False), True),
    (AFFINITY_CACHE, _leftover(rf"{_HEX}\.pkl", staged=False), True),
    (LLM_CACHE, _leftover(rf"{_HEX}\.json", staged=False), True),
    (PDF_CACHE, _leftover(rf"{_HEX}\.json", staged=False), True),
)


def remove_leftovers(root: Path, names: tuple[str, ...] = ()) -> list[Path]:
    """Remove the temporary files that killed commands left in the folder and in the subfolders triage writes
    (call it only while holding the folder's lock: then no command is writing them), of the files triage writes
    there and of ``names`` (more files the command writes into the folder: affinity's scores file). A cache's
    are removed only when a day old, as a cache may be shared by several folders (a symlink). What it removed."""
    here = _leftover("|".join(re.escape(n) for n in (*_OUTPUTS, *names)))
    listed = [(str(root), os.listdir(root), here, False)]  # the folder itself, and its triage subfolders
    for sub, pattern, cache in _IN_SUBFOLDERS:
        walked = os.walk(root / sub) if cache else itertools.islice(os.walk(root / sub), 1)  # (no deeper)
        listed += [(folder, files, pattern, cache) for folder, _, files in walked]
    gone = []
    for folder, files, pattern, cache in listed:
        for path in (Path(folder, name) for name in files if pattern.fullmatch(name)):
            with contextlib.suppress(OSError):
                st = path.lstat()
                if stat.S_ISREG(st.st_mode) and (not cache or time.time() - st.st_mtime > _STALE):
                    path.unlink()
                    gone.append(path)
    return gone


def _lock(path: Path, option: str) -> int | None:
    """The open lock file, locked; None when the file system cannot lock."""
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
        except OSError:  # the command says why it cannot write here
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.read(fd, 32).decode("ascii", "replace").strip()
            os.close(fd)
            raise OutputError(f"{path.parent}: another triage command is writing to this folder"
                              f"{f' (pid {pid})' if pid.isdigit() else ''}; wait for it to finish or pass "
                              f"another {option}") from None
        except OSError as exc:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(path)
            log.warning("%s: cannot lock the folder (%s); make sure no other triage command writes to it "
                        "at the same time", path.parent, exc.strerror or exc)
            return None
        try:
            current = os.stat(path).st_ino == os.fstat(fd).st_ino
        except OSError:
            current = False
        if current:
            with contextlib.suppress(OSError):  # the pid only names the holder to a second command
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
            return fd
        os.close(fd)  # the command that held it removed it as it ended: lock the new one


_DAMAGED: set[str] = set()  # damaged manifests already reported


def damaged(path: Path) -> bool:
    """Whether reading the manifest at ``path`` found it damaged."""
    return str(path) in _DAMAGED


def write_target(final: Path) -> Path:
    """Where to write ``final`` now: inside :func:`all_or_nothing`, its staged copy (moved into place only
    when the whole run succeeds); otherwise ``final`` itself."""
    staging = _RUN.get()
    return final if staging is None else staging.stage(final)


def _read_source(final: Path) -> Path | None:
    staging = _RUN.get()
    return final if staging is None else staging.lookup(final)


@dataclass
class Workdir:
    """A run's output folder: artifact paths, reading, writing and the manifest."""

    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    def path(self, name: str) -> Path:
        return self.root / name

    def ensure(self) -> None:
        staging = _RUN.get()
        try:
            if staging is not None:
                staging.mkdir(self.root)
            else:
                self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(_describe_os_error(self.root, exc)) from None
        if not os.access(self.root, os.W_OK):
            raise OutputError(
                f"{self.root}: cannot write here (permission denied); pass an --out folder you can write to"
            )

    def exists(self, name: str) -> bool:
        src = _read_source(self.path(name))
        return src is not None and src.exists()

    def read_path(self, name: str) -> Path:
        """Where to read ``name`` from: the version this run staged, else the file on disk."""
        src = _read_source(self.path(name))
        if src is None or not src.exists():
            raise MissingArtifactError(
                f"{self.path(name)}: not found; run the stage that writes it first (or 'triage run')")
        return src

    def remove(self, name: str) -> None:
        """Delete an artifact that is no longer valid (at commit time inside :func:`all_or_nothing`)."""
        staging = _RUN.get()
        if staging is not None:
            staging.remove(self.path(name))
        elif self.path(name).exists():
            self.path(name).unlink()

    def write_csv(self, name: str, df: pd.DataFrame, *, header: bool = True) -> Path:
        p = self.path(name)
        write_csv(write_target(p), df, header=header)
        return p

    def write_bytes(self, name: str, data: bytes) -> Path:
        p = self.path(name)
        write_bytes(write_target(p), data)
        return p

    def write_text(self, name: str, text: str) -> Path:
        p = self.path(name)
        write_text(write_target(p), text)
        return p

    def write_npy(self, name: str, array: np.ndarray) -> Path:
        p = self.path(name)
        write_npy(write_target(p), array)
        return p

    def write_jsonl(self, name: str, records: list[dict[str, Any]]) -> Path:
        p = self.path(name)
        write_jsonl(write_target(p), records)
        return p

    def read_csv(self, name: str) -> pd.DataFrame:
        return pd.read_csv(self.read_path(name), dtype=str, keep_default_na=False)

    def read_npy(self, name: str) -> np.ndarray:
        if not self.exists(name):
            raise MissingArtifactError(f"{self.path(name)}: not found; run 'triage embed' first")
        return read_npy(self.read_path(name))

    # -- manifest -------------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any]:
        if not self.exists(MANIFEST):
            return {"version": __version__, "stages": {}}
        p = self.read_path(MANIFEST)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
            problem = None
        except (OSError, ValueError) as exc:
            data, problem = None, type(exc).__name__
        if problem is None and (not isinstance(data, dict) or not isinstance(data.get("stages", {}), dict)
                                or not all(_stage_record_ok(r) for r in data.get("stages", {}).values())):
            problem = "not the layout triage writes"
        if problem is not None:
            if str(p) not in _DAMAGED:  # said once per file
                _DAMAGED.add(str(p))
                log.warning("%s is damaged (%s): the record of the stages that ran is lost, so the folder's outputs "
                            "are not used as earlier results; run 'triage run' again to rebuild it", p, problem)
            return {"version": __version__, "stages": {}}
        data.setdefault("stages", {})
        return data

    def record_stage(self, stage: str, *, inputs: dict[str, Path | None], params: dict[str, Any],
                     outputs: list[str], stats: dict[str, Any] | None = None,
                     kept_inputs: dict[str, Any] | None = None) -> None:
        """Record what a stage read (sha256), its parameters and what it wrote. ``kept_inputs``: entries of the
        stage's earlier record kept as they were (an output made then, from that input, is kept too)."""
        manifest = self.read_manifest()
        manifest["version"] = __version__
        seq = 1 + max((int(r.get("seq", 0)) for r in manifest["stages"].values()), default=0)
        manifest["stages"][stage] = {
            "seq": seq,  # the order stages ran in (their times share a second)
            "inputs": {**{k: ({"path": str(Path(v).resolve()), "sha256": sha256_file(v, k)} if v else None)
                          for k, v in inputs.items()}, **(kept_inputs or {})},
            "params": params,
            "outputs": outputs,
            "stats": stats or {},
            "read": self._read_hashes(READS.get(stage, ())),
            "versions": package_versions(),
            "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        self._write_manifest(manifest)

    def add_to_stage(self, stage: str, *, outputs: list[str], params: dict[str, Any], read: tuple[str, ...] = ()
                     ) -> None:
        """Add a part the stage makes later (the supply table, once the match stage's conflicts are known) to the
        stage's record: its outputs, its parameters and the other stages' artifacts it read."""
        manifest = self.read_manifest()
        rec = manifest["stages"].get(stage)
        if rec is None:
            return
        rec["outputs"] = [*(o for o in rec.get("outputs", []) if o not in outputs), *outputs]
        rec["params"] = {**rec.get("params", {}), **params}
        rec["read"] = {**rec.get("read", {}), **self._read_hashes(read)}
        self._write_manifest(manifest)

    def _write_manifest(self, manifest: dict[str, Any]) -> None:
        self.write_text(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")

    def forget_stage(self, stage: str) -> None:
        """Drop a stage from the record once its outputs are removed on purpose (a run without publications
        removes the match stage's), so that they are not reported as deleted."""
        manifest = self.read_manifest()
        if manifest["stages"].pop(stage, None) is not None:
            self._write_manifest(manifest)

    def _read_hashes(self, names: tuple[str, ...]) -> dict[str, str]:
        """sha256 of these artifacts of other stages, as they are now (staged or on disk)."""
        out = {}
        for name in names:
            src = _read_source(self.path(name))
            if src is not None and src.exists():
                out[name] = sha256_file(src)
        return out

    @staticmethod
    def _now(path: str, kind: str, memo: dict[tuple[str, str], str | None]) -> str | None:
        """The sha256 now of the file (or folder) read as ``kind``; None when it cannot be told (a relative path,
        recorded from another folder than this one may be, a file gone or unreadable)."""
        if (path, kind) not in memo:
            p = Path(path)
            try:
                memo[path, kind] = sha256_file(p, kind) if p.is_absolute() and p.exists() else None
            except OSError:
                memo[path, kind] = None
        return memo[path, kind]

    def outdated(self) -> dict[str, list[str]]:
        """Stage -> what changed since it ran: the artifacts it read that have changed (or gone), the
        input files (``submissions file``, ...) that a later stage read in another version (late submissions
        given to ``triage match`` leave the claim cards of the earlier file behind), and the input files
        edited in place since (a path recorded relative to another folder is not checked)."""
        stages = self.read_manifest()["stages"]
        latest: dict[str, str] = {}  # input kind -> sha256 of the one the last stage read
        for rec in sorted(stages.values(), key=lambda r: (int(r.get("seq", 0)), r.get("time", ""))):
            for kind, seen in (rec.get("inputs") or {}).items():
                if seen and seen.get("sha256"):
                    latest[kind] = seen["sha256"]
        on_disk: dict[tuple[str, str], str | None] = {}  # recorded path, kind -> its sha256 now (None: not found)
        late = {}
        for stage, rec in stages.items():
            now = self._read_hashes(tuple(rec.get("read") or {}))
            changed = [name for name, h in (rec.get("read") or {}).items() if now.get(name) != h]
            for kind, seen in sorted((rec.get("inputs") or {}).items()):
                if not seen or stage not in USED_BY.get(kind, (stage,)) or kind not in USES.get(stage, (kind,)):
                    continue
                if kind in latest and seen.get("sha256") != latest[kind]:
                    changed.append(f"{kind} file")
                elif (kind != "keep_assignments"  # an earlier assignments.csv, which the run then writes again
                      and seen.get("path")
                      and self._now(seen["path"], kind, on_disk) not in (None, seen.get("sha256"))):
                    changed.append(f"{kind} folder ({seen['path']})"
                                   if Path(seen["path"]).is_dir()  # an openreview-expertise dataset
                                   else f"{kind} file ({seen['path']}, edited in place)")  # late papers appended
            if stage == "topics":
                changed += _supply_loads_changed(rec, stages.get("match"))
            if changed:
                late[stage] = changed
        rank = {name: i for i, name in enumerate(STAGE_ORDER)}
        return dict(sorted(late.items(), key=lambda kv: rank.get(kv[0], len(rank))))  # in the order to run them

    def missing_reads(self) -> dict[str, dict[str, str]]:
        """Stage -> the tables of other stages it read that are missing now (deleted by hand), each with the stage
        that makes it: running that stage again brings it back (:meth:`outdated` names them as changed)."""
        stages = self.read_manifest()["stages"]
        makers = {name: stage for stage, rec in stages.items() for name in rec.get("outputs", [])}
        found = {}
        for stage, rec in stages.items():
            gone = {name: makers[name] for name in rec.get("read") or {}
                    if makers.get(name, stage) != stage and not self.exists(name)}
            if gone:
                found[stage] = gone
        return found


def _supply_loads_changed(topics: dict[str, Any], match: dict[str, Any] | None) -> list[str]:
    """The match's ``--per-paper`` and ``--max-load`` that a match run after the supply table was made changed: the
    table counts the slots with them (``triage topics`` takes them from the folder's last match)."""
    supply = (topics.get("params") or {}).get("supply")
    if not isinstance(supply, dict) or not match or int(match.get("seq", 0)) < int(topics.get("seq", 0)):
        return []
    used = (match.get("params") or {}).get("assignment") or {}
    return [f"the match's --{k.replace('_', '-')}" for k in ("per_paper", "max_load")
            if k in used and used[k] != supply.get(k)]


def _stage_record_ok(rec: Any) -> bool:
    """A stage record of the layout triage writes (a hand edit may leave ``seq: null`` or ``params: [1]``)."""
    if not isinstance(rec, dict):
        return False
    seq = rec.get("seq", 0)
    if not isinstance(seq, int) or isinstance(seq, bool) or not isinstance(rec.get("time", ""), str):
        return False
    if not (all(isinstance(rec.get(key, {}), dict) for key in ("params", "inputs", "read", "stats"))
            and isinstance(rec.get("outputs", []), list)):
        return False
    return all(seen is None or (isinstance(seen, dict) and all(isinstance(seen.get(k, ""), (str, type(None)))
                                                               for k in ("path", "sha256")))
               for seen in rec.get("inputs", {}).values())


# The input files a stage's outputs depend on, where not all of them (the others: every input) ...
USES = {"embed": ("submissions", "publications"), "summarize": ("submissions", "assumptions"),
        "screen": ("submissions", "submission_authors")}
# ... and the stages an input file is for, where not all of them.
# (What export and report make of them comes through the tables they read: assignments, changes, duplicates.)
USED_BY = {"keep_assignments": ("match",), "compare_with": ("topics",), "bids": ("match",), "taxonomy": ("topics",),
           "theory": ("topics",), "assumptions": ("summarize",)}
STAGE_ORDER = ("screen", "embed", "topics", "match", "summarize", "export", "report")


def package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {"triage": __version__}
    for name in ("sentence-transformers", "transformers", "torch", "faiss-cpu", "pandas", "numpy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out
