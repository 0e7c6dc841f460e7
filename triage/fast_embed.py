"""Fast mode: a static embedding model distilled locally from the bundled MiniLM.

Every word-piece of the bundled model's vocabulary is run through the model on its own
(``[CLS] piece [SEP]``, mean pooled, as the sentence model pools); the resulting table of
vectors is the static model. A text's vector is then the weighted mean of the vectors of its
word-pieces, L2-normalised: one sparse matrix product per batch, with no neural network at
embedding time. Two standard post-processing steps make the table work for similarity:
the common mean and the top principal directions (dim/100 of them, "all-but-the-top") are
removed, since they are shared by every piece and carry no topic; and frequent pieces (low
vocabulary rank, close to the Zipf order of the BERT vocabulary) are down-weighted as in SIF
weighting, so function words do not dominate a text's mean.

Texts are split into words the way the BERT pre-tokenizer does (lower-cased runs of word
characters, each other symbol alone) and each distinct word is tokenized once and remembered,
which is several times faster than tokenizing every text in full and gives the same pieces for
about 99% of abstracts (the rest differ only around rare symbols).

The table is distilled once (about a minute on two cores, no download) and kept as a float32
``.npy`` in the user cache folder (``TRIAGE_CACHE_DIR``, else ``$XDG_CACHE_HOME/triage`` or
``~/.cache/triage``); later runs memory-map it.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from triage.errors import DependencyMissing, OutputError, TriageError
from triage.workdir import cache_unwritable, write_npy

if TYPE_CHECKING:
    from tokenizers import Tokenizer

FAST_NAME = "static-all-MiniLM-L6-v2-v1"  # bump the suffix when the distillation recipe changes
CACHE_ENV = "TRIAGE_CACHE_DIR"
SIF_A = 1e-5  # SIF smoothing: weight = a / (a + p(piece))
FIRST_PIECE = 1996  # first ordinary word-piece of the BERT uncased vocabulary ("the"); earlier ids are
#                     special, unused or single characters
_WORD = re.compile(r"\w+|[^\w\s]")
MAX_WORDS = 1_000_000  # remembered word -> pieces entries before the memo is reset


def user_cache_dir() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "triage"


def _model_fingerprint(model_dir: Path) -> str:
    """A short id of the bundled weights, so a different model never reuses a stale table."""
    weights = model_dir / "model.safetensors"
    h = hashlib.sha256()
    h.update(str(weights.stat().st_size).encode())
    with open(weights, "rb") as f:
        h.update(f.read(1 << 20))
    return h.hexdigest()[:12]


def _load_tokenizer(model_dir: Path) -> Tokenizer:
    try:
        from tokenizers import Tokenizer
    except ImportError:
        raise DependencyMissing("the tokenizers package is not installed; run: pip install -e .") from None
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    return tok


def sif_weights(vocab_size: int, *, a: float = SIF_A) -> np.ndarray:
    """Per-piece weights a / (a + p), with p a Zipf law over the vocabulary order."""
    rank = np.arange(vocab_size, dtype=np.float64) - FIRST_PIECE + 1
    rank = np.where(rank < 1, 1.0, rank)
    p = 1.0 / rank
    p /= p.sum()
    return (a / (a + p)).astype(np.float32)


def distill(model_dir: Path, *, ids: np.ndarray | None = None, batch_size: int = 1024,
            threads: int | None = None) -> np.ndarray:
    """(vocab, dim) float32: the bundled model's mean-pooled output for each piece on its own.

    ``ids`` restricts the table to those vocabulary ids (rows in that order)."""
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()

    tok = _load_tokenizer(model_dir)
    vocab = tok.get_vocab_size()
    cls_id, sep_id = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    if threads:
        torch.set_num_threads(threads)
    model = AutoModel.from_pretrained(str(model_dir)).eval()
    todo = torch.arange(vocab, dtype=torch.long) if ids is None else torch.as_tensor(np.asarray(ids, dtype=np.int64))
    out = np.empty((len(todo), model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for s in range(0, len(todo), batch_size):
            piece = todo[s:s + batch_size]
            inp = torch.stack([torch.full_like(piece, cls_id), piece, torch.full_like(piece, sep_id)], dim=1)
            hidden = model(input_ids=inp, attention_mask=torch.ones_like(inp)).last_hidden_state
            out[s:s + len(piece)] = hidden.mean(dim=1).numpy()
    return out


def postprocess(raw: np.ndarray, *, a: float = SIF_A, drop: int | None = None) -> np.ndarray:
    """Centre, remove the top principal directions, and apply SIF weights to a distilled table."""
    words = raw[FIRST_PIECE:].astype(np.float64)
    mean = words.mean(axis=0)
    centred = raw.astype(np.float64) - mean
    drop = max(1, raw.shape[1] // 100) if drop is None else drop
    if drop:
        _, _, vt = np.linalg.svd(centred[FIRST_PIECE:], full_matrices=False)
        top = vt[:drop]
        centred -= (centred @ top.T) @ top
    return (centred * sif_weights(raw.shape[0], a=a)[:, None]).astype(np.float32)


class StaticEmbedder:
    """Sum of post-processed word-piece vectors, L2-normalised; thousands of abstracts per second."""

    name = FAST_NAME

    def __init__(self, model_dir: Path, table: np.ndarray) -> None:
        self.tokenizer = _load_tokenizer(model_dir)
        if table.ndim != 2 or table.shape[0] != self.tokenizer.get_vocab_size():
            raise TriageError(f"the fast-mode table has shape {table.shape}, which does not fit the tokenizer; "
                              f"delete it from {user_cache_dir()} and rerun")
        self.table = table
        self.dim = int(table.shape[1])
        self._pieces: dict[str, tuple[int, ...]] = {}

    def piece_ids(self, text: str) -> list[int]:
        """Word-piece ids of ``text`` without special tokens, each distinct word tokenized once."""
        memo = self._pieces
        if len(memo) > MAX_WORDS:
            memo.clear()
        out: list[int] = []
        for w in _WORD.findall(text.lower()):
            ids = memo.get(w)
            if ids is None:
                ids = memo[w] = tuple(self.tokenizer.encode(w, add_special_tokens=False).ids)
            out.extend(ids)
        return out

    def encode(self, texts: list[str], *, batch_size: int = 1024) -> np.ndarray:
        from scipy import sparse

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        step = max(batch_size, 1024)
        for s in range(0, len(texts), step):
            pieces = [self.piece_ids(t) for t in texts[s:s + step]]
            indptr = np.zeros(len(pieces) + 1, dtype=np.int64)
            np.cumsum([len(p) for p in pieces], out=indptr[1:])
            ids = np.fromiter((i for p in pieces for i in p), dtype=np.int64, count=int(indptr[-1]))
            counts = sparse.csr_matrix((np.ones(len(ids), dtype=np.float32), ids, indptr),
                                       shape=(len(pieces), self.table.shape[0]))
            out[s:s + len(pieces)] = counts @ self.table
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        np.divide(out, norms, out=out, where=norms > 0)
        return out


def table_path(model_dir: Path) -> Path:
    return user_cache_dir() / f"{FAST_NAME}-{_model_fingerprint(model_dir)}.npy"


def load_fast_embedder(model_dir: Path, *, cache_dir: Path | None = None) -> StaticEmbedder:
    """The fast embedder; distils and saves its table on first use."""
    path = (cache_dir / table_path(model_dir).name) if cache_dir is not None else table_path(model_dir)
    table = None
    if path.exists():
        try:
            table = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError):
            table = None
    if table is None:
        table = postprocess(distill(model_dir))
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            write_npy(path, table)
        except (OSError, OutputError) as exc:  # a read-only home or a full disk still works
            cache_unwritable(path.parent, exc, "the fast model's table is distilled again next time")
    return StaticEmbedder(model_dir, table)
