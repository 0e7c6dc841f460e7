"""The work directory: the one module that reads and writes run artifacts.

Every write goes to a temporary file in the same folder and is then renamed over the
target, so a failed or interrupted run never leaves a half-written file and never
replaces a good artifact from an earlier run.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import errno
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from triage import __version__
from triage.errors import MissingArtifactError, OutputError

# Artifact file names, relative to the work directory.
MANIFEST = "manifest.json"
EMBED_CACHE = "cache/embeddings"
PAPER_EMB = "embeddings/papers.npy"
PUB_EMB = "embeddings/publications.npy"
TOPICS = "topics.csv"
TOPIC_SUPPLY = "topic_supply.csv"
CENTROIDS = "centroids.npy"
AFFINITY = "affinity.csv"
CONFLICTS = "conflicts.csv"
ASSIGNMENTS = "assignments.csv"
ALTERNATES = "alternates.csv"
SUMMARIES = "summaries.csv"
SUMMARIES_JSONL = "summaries.jsonl"
TRIAGE = "triage.csv"
REPORT = "report.html"

FLOAT_FORMAT = "%.4f"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _describe_os_error(path: Path, exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return f"{path}: no space left on the device; free some space or pass another --out folder"
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"{path}: cannot write here (permission denied); pass an --out folder you can write to"
    return f"{path}: cannot write ({exc.strerror or exc}); pass another --out folder"


@contextlib.contextmanager
def atomic_open(path: Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Open a temporary sibling of ``path`` for writing and rename it over ``path`` on success."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise OutputError(_describe_os_error(path, exc)) from None
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
        raise OutputError(_describe_os_error(path, exc)) from None
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def write_text(path: Path, text: str) -> None:
    with atomic_open(path, "w") as f:
        f.write(text)


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb", encoding=None) as f:
        f.write(data)


def write_csv(path: Path, df: pd.DataFrame, *, header: bool = True) -> None:
    """Write a CSV with fixed float formatting and LF line ends (byte-identical reruns)."""
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


@dataclass
class Workdir:
    """A run's output folder: artifact paths, reading, writing and the manifest."""

    root: Path

    def __post_init__(self) -> None:
        self.root = Path(self.root)

    def path(self, name: str) -> Path:
        return self.root / name

    def ensure(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(_describe_os_error(self.root, exc)) from None
        if not os.access(self.root, os.W_OK):
            raise OutputError(
                f"{self.root}: cannot write here (permission denied); pass an --out folder you can write to"
            )

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def write_csv(self, name: str, df: pd.DataFrame, *, header: bool = True) -> Path:
        p = self.path(name)
        write_csv(p, df, header=header)
        return p

    def write_text(self, name: str, text: str) -> Path:
        p = self.path(name)
        write_text(p, text)
        return p

    def write_npy(self, name: str, array: np.ndarray) -> Path:
        p = self.path(name)
        write_npy(p, array)
        return p

    def write_jsonl(self, name: str, records: list[dict[str, Any]]) -> Path:
        p = self.path(name)
        write_jsonl(p, records)
        return p

    def read_csv(self, name: str) -> pd.DataFrame:
        p = self.path(name)
        if not p.exists():
            raise MissingArtifactError(f"{p}: not found; run the stage that writes it first (or 'triage run')")
        return pd.read_csv(p, dtype=str, keep_default_na=False)

    def read_npy(self, name: str) -> np.ndarray:
        p = self.path(name)
        if not p.exists():
            raise MissingArtifactError(f"{p}: not found; run 'triage embed' first")
        return read_npy(p)

    # -- manifest -------------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any]:
        p = self.path(MANIFEST)
        if not p.exists():
            return {"version": __version__, "stages": {}}
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {"version": __version__, "stages": {}}
        data.setdefault("stages", {})
        return data

    def record_stage(self, stage: str, *, inputs: dict[str, Path | None], params: dict[str, Any],
                     outputs: list[str], stats: dict[str, Any] | None = None) -> None:
        """Record what a stage read (sha256), its parameters and what it wrote."""
        manifest = self.read_manifest()
        manifest["version"] = __version__
        manifest["stages"][stage] = {
            "inputs": {k: ({"path": str(v), "sha256": sha256_file(v)} if v else None) for k, v in inputs.items()},
            "params": params,
            "outputs": outputs,
            "stats": stats or {},
            "versions": package_versions(),
            "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        }
        write_text(self.path(MANIFEST), json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n")

    def is_stale(self, stage: str, *, inputs: dict[str, Path | None], params: dict[str, Any]) -> bool:
        """True when ``stage`` has not run, or ran on other inputs or parameters, or lost an output."""
        rec = self.read_manifest()["stages"].get(stage)
        if rec is None:
            return True
        if any(not self.exists(o) for o in rec.get("outputs", [])):
            return True
        want = {k: (sha256_file(v) if v else None) for k, v in inputs.items()}
        have = {k: (v or {}).get("sha256") if v else None for k, v in rec.get("inputs", {}).items()}
        return want != have or json.loads(json.dumps(params, default=str)) != rec.get("params")


def package_versions() -> dict[str, str]:
    from importlib import metadata

    out = {"triage": __version__}
    for name in ("sentence-transformers", "transformers", "torch", "faiss-cpu", "pandas", "numpy"):
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out
