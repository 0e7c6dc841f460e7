from __future__ import annotations

import os

import numpy as np
import pytest

from triage.embed import EmbeddingCache, embed_texts


def test_cache_embeds_only_new_texts(tmp_path, fake_embedder):
    cache = EmbeddingCache.open(tmp_path, fake_embedder.name)
    texts = ["alpha beta", "gamma delta", "alpha beta"]
    v1, s1 = embed_texts(texts, fake_embedder, cache)
    assert (s1.unique, s1.embedded, s1.cached) == (2, 2, 0)
    assert np.allclose(v1[0], v1[2])
    # A new process (fresh cache object) with one late text embeds only that one.
    cache2 = EmbeddingCache.open(tmp_path, fake_embedder.name)
    v2, s2 = embed_texts(texts + ["late submission"], fake_embedder, cache2)
    assert (s2.embedded, s2.cached) == (1, 2)
    assert np.allclose(v2[:3], v1)


def test_interrupted_run_resumes(tmp_path, fake_embedder):
    texts = [f"text number {i} " + "word " * (i % 7) for i in range(50)]

    class Boom(Exception):
        pass

    calls = {"n": 0}

    class Flaky:
        name, dim = fake_embedder.name, fake_embedder.dim

        def encode(self, batch, *, batch_size):
            calls["n"] += 1
            if calls["n"] == 3:
                raise Boom
            return fake_embedder.encode(batch)

    cache = EmbeddingCache.open(tmp_path, Flaky.name)
    try:
        embed_texts(texts, Flaky(), cache, chunk_size=10)
    except Boom:
        pass
    resumed = EmbeddingCache.open(tmp_path, Flaky.name)
    assert len(resumed) == 20  # two finished chunks survived
    _, st = embed_texts(texts, fake_embedder, resumed, chunk_size=10)
    assert st.embedded == 30 and st.cached == 20


def test_orphan_shard_ignored(tmp_path, fake_embedder):
    cache = EmbeddingCache.open(tmp_path, fake_embedder.name)
    embed_texts(["a b", "c d"], fake_embedder, cache)
    (cache.folder / "shard-000099.npy").write_bytes(b"garbage")
    again = EmbeddingCache.open(tmp_path, fake_embedder.name)
    assert len(again) == 2


def test_empty_input(tmp_path, fake_embedder):
    v, st = embed_texts([], fake_embedder, EmbeddingCache.open(tmp_path, "m"))
    assert v.shape == (0, fake_embedder.dim) and st.embedded == 0


def test_real_model_vectors(real_embedder):
    v = real_embedder.encode(["neural tangent kernel of wide networks", "double descent in random features",
                              "infinite-width neural networks and kernel regime"], batch_size=8)
    assert v.shape == (3, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-4)
    assert v[0] @ v[2] > v[1] @ v[2] - 0.5  # sanity: vectors are informative, not constant


def test_two_model_folders_of_the_same_name_keep_their_own_caches(tmp_path):
    """A model and its fine-tuned copy saved under the same folder name must not share cached vectors."""
    import json
    import shutil

    from triage.embed import SentenceTransformerEmbedder, _bundled_model_path

    a, b = tmp_path / "v1" / "reviewer-model", tmp_path / "v2" / "reviewer-model"
    shutil.copytree(_bundled_model_path(), a)
    shutil.copytree(_bundled_model_path(), b)
    cfg = b / "config.json"
    cfg.write_text(json.dumps({**json.loads(cfg.read_text()), "note": "fine-tuned"}), encoding="utf-8")
    ea, eb = SentenceTransformerEmbedder(str(a)), SentenceTransformerEmbedder(str(b))
    assert ea.name.startswith("reviewer-model-") and eb.name.startswith("reviewer-model-")
    assert ea.name != eb.name and ea.name == SentenceTransformerEmbedder(str(a)).name
    caches = {EmbeddingCache.open(tmp_path / "cache", e.name).folder for e in (ea, eb)}
    assert len(caches) == 2


@pytest.mark.parametrize("error,needle,not_needle", [
    (OSError("We couldn't connect to 'https://huggingface.co' to load the files"), "downloads are off", "OSError"),
    (RuntimeError("Error(s) in loading state_dict for BertModel:\n\tsize mismatch for encoder.layer.0"),
     "could not be loaded (RuntimeError: Error(s) in loading state_dict for BertModel: size mismatch for encoder",
     "downloads are off"),
])
def test_a_model_that_fails_to_load_is_said_for_what_it_is(monkeypatch, error, needle, not_needle):
    """Only a hub name missing offline is 'not in the local hub cache'; a damaged model says its own error."""
    import sentence_transformers

    from triage.embed import load_embedder
    from triage.errors import TriageError

    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"):  # the loader sets them; put them back afterwards
        monkeypatch.setenv(var, os.environ.get(var, ""))

    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(sentence_transformers, "SentenceTransformer", fail)
    with pytest.raises(TriageError) as info:
        load_embedder("sentence-transformers/all-mpnet-base-v2")
    msg = str(info.value)
    assert needle in msg and not_needle not in msg and "\n" not in msg, msg
    assert msg.startswith("--model sentence-transformers/all-mpnet-base-v2: ")
    assert info.value.__cause__ is error


def _fill_cache(root: str, tag: str, chunks: int) -> None:
    """Add ``chunks`` chunks of texts only this writer has, each row's vector naming its text."""
    cache = EmbeddingCache.open(root, "m")
    for j in range(chunks):
        keys = [f"{tag}-{j * 3 + r}" for r in range(3)]
        vecs = np.zeros((3, 2), np.float32)
        vecs[:, 0] = ord(tag)
        vecs[:, 1] = [j * 3 + r for r in range(3)]
        cache.add(keys, vecs)


def test_two_writers_at_once_never_mix_keys_and_vectors(tmp_path):
    """Two processes filling one cache folder at once (two runs on one work folder): every key keeps its own
    vector, and every chunk of both is there."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    writers = [ctx.Process(target=_fill_cache, args=(str(tmp_path), tag, 150)) for tag in "AB"]
    for w in writers:
        w.start()
    for w in writers:
        w.join(120)
        assert w.exitcode == 0
    cache = EmbeddingCache.open(tmp_path, "m")
    keys = [f"{tag}-{i}" for tag in "AB" for i in range(450)]
    have = [k for k in keys if k in cache]
    want = np.array([[ord(k[0]), int(k[2:])] for k in have], np.float32).reshape(-1, 2)
    wrong = int((cache.get(have) != want).any(axis=1).sum())
    assert (len(keys) - len(have), wrong) == (0, 0)  # (keys lost, keys with another text's vector)


def test_shards_of_the_old_names_are_read(tmp_path, fake_embedder):
    folder = EmbeddingCache.open(tmp_path, fake_embedder.name).folder
    folder.mkdir(parents=True)
    np.save(folder / "shard-000000.npy", fake_embedder.encode(["a b", "c d"]))
    (folder / "shard-000000.keys").write_text("ka\nkb\n", encoding="utf-8")
    cache = EmbeddingCache.open(tmp_path, fake_embedder.name)
    cache.add(["kc"], fake_embedder.encode(["e f"]))
    again = EmbeddingCache.open(tmp_path, fake_embedder.name)
    assert np.allclose(again.get(["ka", "kb", "kc"]), fake_embedder.encode(["a b", "c d", "e f"]))
