"""Fast mode: the distilled static table and the embedder built on it."""

from __future__ import annotations

import numpy as np
import pytest

from triage import fast_embed as F
from triage.embed import EmbeddingCache, _bundled_model_path, embed_texts, load_embedder
from triage.errors import TriageError
from triage.workdir import write_npy

TEXTS = [
    "Neural tangent kernel of infinitely wide networks. We study gradient descent in the lazy regime.",
    "Double descent in random features regression: a precise asymptotic analysis.",
    "Regret bounds for linear bandits with heavy-tailed rewards (Théorème 2, ε-greedy).",
    "",
]


@pytest.fixture(scope="module")
def model_dir():
    return _bundled_model_path()


@pytest.fixture(scope="module")
def random_table(model_dir):
    vocab = F._load_tokenizer(model_dir).get_vocab_size()
    rng = np.random.default_rng(0)
    return F.postprocess(rng.standard_normal((vocab, 16)).astype(np.float32))


def test_distilled_piece_equals_the_sentence_model_on_that_piece(model_dir, real_embedder):
    """A whole-word piece alone is tokenized [CLS] piece [SEP], exactly what distillation feeds."""
    tok = F._load_tokenizer(model_dir)
    words = ["kernel", "bandits", "graph", "the"]
    ids = np.array([tok.token_to_id(w) for w in words])
    rows = F.distill(model_dir, ids=ids)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    ref = real_embedder.encode(words, batch_size=8)
    assert rows.shape == (4, 384) and rows.dtype == np.float32
    assert np.allclose(rows, ref, atol=1e-4)


def test_piece_ids_match_the_tokenizer(model_dir, random_table):
    emb = F.StaticEmbedder(model_dir, random_table)
    tok = emb.tokenizer
    for t in TEXTS:
        assert emb.piece_ids(t) == tok.encode(t, add_special_tokens=False).ids
    assert emb.piece_ids(TEXTS[0]) == emb.piece_ids(TEXTS[0])  # second call served from the memo


def test_encode_is_the_normalised_sum_of_piece_rows(model_dir, random_table):
    emb = F.StaticEmbedder(model_dir, random_table)
    vecs = emb.encode(TEXTS, batch_size=2)
    assert vecs.shape == (len(TEXTS), 16) and vecs.dtype == np.float32
    for t, v in zip(TEXTS[:3], vecs):
        ids = emb.tokenizer.encode(t, add_special_tokens=False).ids
        ref = random_table[ids].sum(axis=0)
        assert np.allclose(v, ref / np.linalg.norm(ref), atol=1e-5)
    assert np.allclose(np.linalg.norm(vecs[:3], axis=1), 1, atol=1e-5)
    assert not vecs[3].any()  # empty text: a zero vector, not NaN


def test_postprocess_centres_and_downweights_frequent_pieces():
    rng = np.random.default_rng(1)
    raw = rng.standard_normal((3000, 8)).astype(np.float32) + 5.0  # a large shared component
    out = F.postprocess(raw, drop=1)
    words = out[F.FIRST_PIECE:]
    assert np.abs(words.mean(axis=0)).max() < 0.5 * np.abs(raw[F.FIRST_PIECE:].mean(axis=0)).max()
    w = F.sif_weights(3000)
    assert w[F.FIRST_PIECE] < w[F.FIRST_PIECE + 10] < w[-1] <= 1.0


def test_load_fast_embedder_uses_the_saved_table(tmp_path, monkeypatch, model_dir, random_table):
    monkeypatch.setenv(F.CACHE_ENV, str(tmp_path))
    write_npy(F.table_path(model_dir), random_table)
    emb = load_embedder("fast")
    assert emb.name == F.FAST_NAME and emb.dim == 16
    assert isinstance(emb.table, np.memmap)  # memory-mapped, not read into memory
    cache = EmbeddingCache.open(tmp_path / "cache", emb.name)
    v1, s1 = embed_texts(TEXTS[:3] * 2, emb, cache)
    v2, s2 = embed_texts(TEXTS[:3], emb, EmbeddingCache.open(tmp_path / "cache", emb.name))
    assert (s1.embedded, s2.embedded, s2.cached) == (3, 0, 3)
    assert np.allclose(v1[:3], v2)


def test_a_table_that_cannot_be_saved_costs_only_the_saving(tmp_path, monkeypatch, model_dir, random_table, caplog):
    """The table's place in the cache is taken (a folder of its name; a full disk is alike): the embedder works,
    and one warning names the cache folder."""
    monkeypatch.setenv(F.CACHE_ENV, str(tmp_path))
    F.table_path(model_dir).mkdir(parents=True)
    monkeypatch.setattr(F, "distill", lambda *a, **k: random_table)
    with caplog.at_level("WARNING", logger="triage"):
        emb = load_embedder("fast")
    assert emb.encode(TEXTS[:2]).shape == (2, 16)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and said[0].startswith(f"{tmp_path}: the cache cannot be written there"), said


def test_a_cache_folder_that_is_a_file_is_said_so(tmp_path, monkeypatch, model_dir, random_table, caplog):
    """TRIAGE_CACHE_DIR names a file: the one warning says that, not the error the system gave ('File exists')."""
    monkeypatch.setenv(F.CACHE_ENV, str(tmp_path / "cache"))
    (tmp_path / "cache").write_text("not a folder", encoding="utf-8")
    monkeypatch.setattr(F, "distill", lambda *a, **k: random_table)
    with caplog.at_level("WARNING", logger="triage"):
        emb = load_embedder("fast")
    assert emb.encode(TEXTS[:2]).shape == (2, 16)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and said[0].startswith(f"{tmp_path / 'cache'}: is a file, not a folder, so the cache "
                                                 "cannot be kept there (move the file away)"), said


def test_a_table_of_the_wrong_shape_is_refused(tmp_path, model_dir):
    with pytest.raises(TriageError, match="does not fit the tokenizer"):
        F.StaticEmbedder(model_dir, np.zeros((10, 4), dtype=np.float32))
