"""Extractive claim cards: sentence splitting, faithfulness, assumptions, PDF text, the CLI."""

from __future__ import annotations

import io
import json
import logging
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from triage.cli import app
from triage.errors import InputError
from triage.summarize import (
    SummaryParams,
    load_vocabulary,
    paper_text,
    split_sentences,
    summarize_papers,
)

DEMO = Path(__file__).parent.parent / "data" / "demo" / "submissions.csv"
TRICKY = ("We study wide networks, e.g. two-layer ones, as in Jacot et al. (2018). We prove a bound of "
          "$O(n^2 \\log n)$ samples. It improves the rate by 3.5 points, i.e. a 12.5% gain. Results hold w.h.p. "
          "under Gaussian inputs!")


def test_split_keeps_latex_abbrev_decimals():
    s = split_sentences(TRICKY)
    assert s == [
        "We study wide networks, e.g. two-layer ones, as in Jacot et al. (2018).",
        "We prove a bound of $O(n^2 \\log n)$ samples.",
        "It improves the rate by 3.5 points, i.e. a 12.5% gain.",
        "Results hold w.h.p. under Gaussian inputs!",
    ]


@pytest.mark.parametrize(("text", "expected"), [
    ("Take $x = 1. Then$ y. Done.", ["Take $x = 1. Then$ y.", "Done."]),
    ("As shown in Fig. 3 and Eq. 2, it works. Next we show more.", ["As shown in Fig. 3 and Eq. 2, it works.",
                                                                    "Next we show more."]),
    ("This is hard.In particular, we show it.", ["This is hard.", "In particular, we show it."]),
    ("The U.S. data is i.i.d. and bounded. Hence $\\epsilon < .5$ works.",
     ["The U.S. data is i.i.d. and bounded.", "Hence $\\epsilon < .5$ works."]),
    ("We ask: why? (And how?) The answer is no.", ["We ask: why?", "(And how?)", "The answer is no."]),
    # "et al.", "etc." and "i.i.d." end a sentence when a sentence opener follows, not a name.
    ("A model of Lee et al. and Woodworth et al. We show it. Draws are i.i.d. The rest holds.",
     ["A model of Lee et al. and Woodworth et al.", "We show it.", "Draws are i.i.d.", "The rest holds."]),
    ("See Lee et al. Proved bounds, etc. Gaussian ones.", ["See Lee et al. Proved bounds, etc. Gaussian ones."]),
    # "et. al." is "et al." misspelt (COLT 2024, v247/suggala24a).
    ("It resolves a question posed in Grade et. al. 2020 and Sun et. al. 2023. Finally, we show more.",
     ["It resolves a question posed in Grade et. al. 2020 and Sun et. al. 2023.", "Finally, we show more."]),
    # Math that ends its sentence inside it ends the sentence (v247/bangachev24a); math that goes on does not.
    ("It succeeds if and only if $d = \\tilde{o}(np).$ In contrast, the test fails when $d = o(n).$",
     ["It succeeds if and only if $d = \\tilde{o}(np).$", "In contrast, the test fails when $d = o(n).$"]),
    ("We study $$\\min_x f(x).$$ We show a rate \\[O(1/T).\\] Our bound $$T = 1. $$ improves it.",
     ["We study $$\\min_x f(x).$$", "We show a rate \\[O(1/T).\\]", "Our bound $$T = 1. $$ improves it."]),
    # Chinese and Japanese full stops end sentences with no space after them.
    ("我们研究两层神经网络。我们证明梯度下降收敛！「实验。」验证了理论。",
     ["我们研究两层神经网络。", "我们证明梯度下降收敛！", "「实验。」", "验证了理论。"]),
])
def test_split_cases(text, expected):
    assert split_sentences(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    # A list marker opens its item: the first after a colon, the others after a semicolon or a sentence end
    # (v247/peter24a).
    ("We give bounds in settings: 1. A tight bound for averaging (PODS 2016). 2. A bound for k-means. 3. One for PCA.",
     ["We give bounds in settings: 1. A tight bound for averaging (PODS 2016).", "2. A bound for k-means.",
      "3. One for PCA."]),
    ("It has benefits: 1). Privacy; 2). A low cost. (3.) Speed. ii). Size. We show more.",
     ["It has benefits: 1). Privacy; 2). A low cost.", "(3.) Speed.", "ii). Size.", "We show more."]),
    # A ratio is no list marker; a list after "Section 2:" or a spaced colon is one.
    ("We reach a compression ratio of 10:1. We also prove a bound.",
     ["We reach a compression ratio of 10:1.", "We also prove a bound."]),
    ("We give three results in Section 2: 1. A tight bound; 2. A lower bound. 3. An algorithm.",
     ["We give three results in Section 2: 1. A tight bound; 2. A lower bound.", "3. An algorithm."]),
    ("Nos contributions sont les suivantes : 1. A tight bound; 2. A lower bound.",
     ["Nos contributions sont les suivantes : 1. A tight bound; 2. A lower bound."]),
    # A number after a colon other than 1, or after an HTML entity's semicolon, is no list marker.
    ("The accuracy is: 93. We show more. It holds for k &gt; 2. We show more.",
     ["The accuracy is: 93.", "We show more.", "It holds for k &gt; 2.", "We show more."]),
    # No sentence ends inside short brackets (v247/salmon24a) ...
    ("It was introduced by Bshouty and Jackson [SIAM J. Comput. 1998, 28, 1136–1153]. We revisit it.",
     ["It was introduced by Bshouty and Jackson [SIAM J. Comput. 1998, 28, 1136–1153].", "We revisit it."]),
    ("It plays games (e.g. Ms. Pacman and Frostbite). It was (see Beck. et al., 2012) fast.",
     ["It plays games (e.g. Ms. Pacman and Frostbite).", "It was (see Beck. et al., 2012) fast."]),
    # ... but it does in long ones, and where a bracket never closes.
    ("Note (" + "We prove a bound. " * 15 + "Done.) Next.",
     ["Note (We prove a bound.", *["We prove a bound."] * 14, "Done.)", "Next."]),
    ("A model (as in Lee. We show more.", ["A model (as in Lee.", "We show more."]),
    # A quote written as an HTML entity closes a sentence as a quote does.
    ("It asks what it means to be &quot;fair.&quot; In this paper, we show more.",
     ["It asks what it means to be &quot;fair.&quot;", "In this paper, we show more."]),
])
def test_split_lists_brackets_and_entities(text, expected):
    assert split_sentences(text) == expected


def _check_faithful(out: pd.DataFrame, papers: pd.DataFrame) -> None:
    for row, (_, p) in zip(out.itertuples(), papers.iterrows()):
        t = paper_text(p["title"], p["abstract"])
        assert row.tldr and row.tldr in p["abstract"]
        assert 1 <= len(row.claims) <= 3 and len(row.results) <= 2
        for key in ("claims", "results"):
            items = getattr(row, key)
            assert all(c in p["abstract"] for c in items)
            assert [t.sentences[i] for i in row.evidence[key]] == items
        assert t.sentences[row.evidence["tldr"][0]] == row.tldr
        # Claims repeat results only when the results are the paper's only own sentences.
        assert not set(row.claims) & set(row.results) or set(row.claims) <= set(row.results)
        for label, idx in row.evidence["assumptions"].items():
            assert label in row.assumptions and all(0 <= i < len(t.sentences) for i in idx)


def test_every_sentence_is_verbatim_tfidf(data_dir):
    papers = pd.concat([pd.read_csv(data_dir / "submissions.csv", keep_default_na=False),
                        pd.read_csv(data_dir / "assumptions_labelled.csv", keep_default_na=False)])
    out = summarize_papers(papers, params=SummaryParams(centrality="tfidf"))
    assert len(out) == len(papers) >= 460
    _check_faithful(out, papers)


@pytest.mark.e2e
def test_every_sentence_is_verbatim_with_the_real_model(data_dir, real_embedder):
    from triage.embed import embed_texts
    from triage.ingest import paper_texts

    papers = pd.read_csv(data_dir / "assumptions_labelled.csv", keep_default_na=False).iloc[::5].head(12)
    calls = []

    def embed(sents):
        calls.append(len(sents))
        return embed_texts(sents, real_embedder)[0]

    vecs = embed_texts(paper_texts(papers), real_embedder)[0]
    out = summarize_papers(papers, embed=embed, paper_vectors=vecs)
    assert len(calls) == 1 and calls[0] > 5 * len(papers)  # all sentences in one batch
    _check_faithful(out, papers)
    # Embedding centrality changes some choices compared with TF-IDF, but not the assumptions.
    tf = summarize_papers(papers, params=SummaryParams(centrality="tfidf"))
    assert (out["claims"] != tf["claims"]).any()
    assert out["assumptions"].tolist() == tf["assumptions"].tolist()


def test_assumption_detection_on_the_labelled_set(data_dir):
    """Regression guard on all hand-labelled abstracts (bench/summaries.py reports the splits)."""
    df = pd.read_csv(data_dir / "assumptions_labelled.csv", keep_default_na=False)
    assert len(df) >= 1900 and {"tune", "holdout", *(f"fresh{k}" for k in range(1, 47))} <= set(df["split"])
    assert not df["paper_id"].duplicated().any()
    vocab = load_vocabulary()
    tp = fp = fn = 0
    for r in df.itertuples():
        gold = {x.strip() for x in r.assumptions.split(";") if x.strip()}
        assert gold <= set(vocab.labels), gold - set(vocab.labels)
        text = paper_text(r.title, r.abstract)
        pred = set(vocab.detect(text.sentences, n_title=text.n_title))
        tp, fp, fn = tp + len(gold & pred), fp + len(pred - gold), fn + len(gold - pred)
    # In-sample figures (0.850 / 0.852 on 2,780 abstracts when last set; precision was lowered to 0.83 once later
    # NeurIPS sets brought more false labels than were fixed): a guard against regressions, not the quality claim.
    assert tp / (tp + fp) >= 0.83 and tp / (tp + fn) >= 0.85, (tp, fp, fn)


@pytest.mark.parametrize(("sentence", "labels"), [
    ("We assume Gaussian inputs and a two-layer network trained with gradient flow.",
     ["small-step-size", "gaussian-data", "two-layer"]),
    ("Unlike prior work, our analysis does not assume Gaussian inputs.", []),
    # A negation in a leading phrase does not reach into the main clause after ", we".
    ("With no unrealistic assumption, we conclude the following statements for the squared loss.", ["squared-loss"]),
    # ... nor after ", our ...": a setting the paper sets itself apart from is not the setting it works in.
    ("Unlike the NTK regime, our analysis captures feature learning in two-layer networks.", ["two-layer"]),
    ("Compared to the lazy regime, our rates are faster for networks of finite width.", ["finite-width"]),
    ("Our result holds without assuming a two-layer network.", []),
    ("Previous work has been shown to require infinite width.", []),
    ("We train nonlinear dynamical systems.", []),
    ("We consider sparse linear regression with the squared loss.", ["linear-model", "squared-loss", "sparse"]),
    ("The width is finite, but in the infinite-width limit we recover the NTK.", ["infinite-width"]),
    ("Results hold for finite-width networks with large step sizes.", ["finite-width", "finite-step-size"]),
    ("Multinomial logistic regression has become the ubiquitous technique for classification.", []),
    ("Leverage score sampling is already widely used for learning linear models.", []),
    ("We show that the widely used squared loss suffices for two-layer networks.", ["two-layer", "squared-loss"]),
    # Settings named as examples or applications in a list of 3+ items are uses, not assumptions.
    ("Our bound has applications such as sparse regression, logistic regression and low-rank approximation.", []),
    ("It covers many problems (e.g., linear regression, sparse recovery, and matrix completion) at once.", []),
    ("We prove convergence under assumptions such as strong convexity, Lipschitz gradients and bounded moments.",
     ["strongly-convex", "smooth", "heavy-tailed"]),
    ("We consider losses such as the squared loss and the logistic loss.", ["squared-loss", "logistic-loss"]),
    ("Examples are matrix sensing, phase retrieval and PCA, and we analyse two-layer networks.", ["two-layer"]),
    # A setting used as a point of comparison, a "non-" prefix or a "-like" suffix is not assumed.
    ("We show how gradient descent with a fixed step size differs from gradient flow.", ["finite-step-size"]),
    ("We compare finite networks with those of the NTK, which is equivalent to an infinitely wide network.",
     ["finite-width"]),
    ("We extend the analysis to the non-proportional limit.", []),
    ("We observe a transition to a random feature-like behaviour.", []),
    ("We draw intuition from minimum norm solutions in linear networks.", []),
    ("We study smooth and (strongly or not) convex objectives.", ["convex", "smooth"]),
    # A negation does not reach past ", under ..." (the conditions the result does rest on).
    ("We prove a mixing time bound without warm start, under log-smooth and log-strongly-convex conditions.",
     ["strongly-convex", "smooth", "log-concave"]),
    # A setting criticised, or beaten "than the usual X", is not assumed; the setting the claim is made in is.
    ("We investigate deficiencies of the l2-loss on raw waveforms and introduce an improved loss.", []),
    ("These losses are provably more robust than the usual $l_2$ loss in a linear regression setting.",
     ["linear-model"]),
    # "Gradient flow" as the flow of gradients through a network is not gradient flow the dynamics.
    ("We link a topological property of architectures to gradient flow characteristics.", []),
    ("We apply our new framework for inference of logistic regression models with missing data.", []),
    ("We use orthogonal weight initialization for each layer.", ["special-initialization"]),
    ("We consider an infinite number of ReLU features that are never trained.", ["infinite-width"]),
    ("We give a proof of convergence in a simple affine setting.", ["linear-model"]),
    ("We prove guarantees for strongly convex smooth problems.", ["strongly-convex", "smooth"]),
    # "is equivalent to" reaches only the next few words, not the setting the equivalence holds in.
    ("We prove that ST-AM is equivalent to the full-memory AM in strongly convex quadratic optimization.",
     ["strongly-convex"]),
    # A measure reported, a regulariser's name or a generative model's prior is not an assumption.
    ("Our model achieves lower cross-entropy than all previous stack RNNs.", []),
    ("We propose the Cross-Lipschitz regularization functional.", []),
    ("Our first model uses a Gaussian Mixture model (GMM) prior in the latent space.", []),
    ("We show that all upper triangular variables are i.i.d. Gaussians with mean 0.", ["gaussian-data"]),
    # "no" negates only the words right after it, not a setting further on.
    ("We prove that no spurious local minima exist for one hidden layer complex-valued networks.", ["two-layer"]),
    ("We prove this with no Gaussian assumption.", []),
    ("We consider the case where the $x_i$&#39;s are sparse.", ["sparse"]),
    ("We study the global dynamics of SGD via diffusion processes, initialized from an unstable equilibrium.",
     ["small-step-size", "special-initialization"]),
    ("We prove a sample complexity bound for nonconvex strongly-concave minimax problems.", ["strongly-convex"]),
    ("We conduct experiments on L1-regularized classification and sparse regression problems.", []),
    ("This type of result was known for the square loss.", []),
    ("Our results are readily applicable to special families such as log-concave distributions.", []),
    ("We show that the sample complexity is of the same order as Gaussian designs.", []),
    # ... but "the same as" does not reach the settings a few words on.
    ("The rate is the same as batch gradient descent in strongly-convex, convex, and nonconvex cases.",
     ["convex", "strongly-convex"]),
    ("The target matrix is of rank $k$ and our algorithm converges linearly.", ["low-dimensional-structure"]),
    ("We study the limits of computationally efficient low-rank kernel approximation.", []),
    ("Through a series of experiments, we show the method suits convex problems.", []),
    ("We implement our algorithm in Spark and show gains on large-scale logistic regression problems.", []),
    ("We relate our guarantees to existing rates for gradient descent on strongly convex functions.", []),
    ("We assume that the data features follow a multivariate normal distribution.", ["gaussian-data"]),
    ("When the parameter is $s$-sparse, a thresholding protocol achieves the same squared loss.",
     ["squared-loss", "sparse"]),
    ("We prove guarantees for both convex and non-convex smooth objectives.", ["convex", "smooth"]),
    ("Rates hold under standard smoothness assumptions on the target function.", []),
    ("However, they all require the cost functions to be Lipschitz continuous.", []),
    # A single example ("e.g.", "in contexts such as") is a use, not the setting ...
    ("The inner function is a gradient step on a traditional loss, e.g., the cross-entropy loss.", []),
    ("We show this is realistic in contexts such as linear regression and classification.", []),
    # ... and an example between dashes ends at the dash.
    ("We then grow the sample -- e.g., by a factor of two -- and use the previous solution as a warm start.",
     ["special-initialization"]),
    ("We identify another key factor in certified training: smoothness of the loss landscape.", []),
    ("Our algorithm converges in time polynomial in the smoothness parameters of the loss function.", ["smooth"]),
    ("We assume that the function varies only along a low-dimensional subspace and is smooth.",
     ["smooth", "low-dimensional-structure"]),
    ("Known lower bounds are not smooth in the privacy parameter.", []),
    ("We analyse the training of continuous-time linear RNNs by gradient methods.", ["linear-model"]),
    ("We analyse SGD for least-squares regression.", ["linear-model", "squared-loss"]),
    ("We study Gibbs sampling in the context of Gaussian distributions.", ["gaussian-data"]),
    ("We learn sparse Gaussian Bayesian networks in polynomial time.", ["gaussian-data", "sparse"]),
    ("We separate low-rank trends from sparse outliers.", ["sparse", "low-dimensional-structure"]),
    # Sparse regression alone does not say the model is linear.
    ("We prove support recovery for sparse regression with greedy algorithms.", ["sparse"]),
    ("We recover low-rank tensors corrupted by arbitrary sparse errors.", ["sparse", "low-dimensional-structure"]),
    # Convex optimization as a tool of the proof is not a convex setting.
    ("We apply tools from convex optimization and the theory of moments to mixture models.", []),
    ("We give three proofs, using convex optimization and sequential fat-shattering dimension.", []),
    ("The model captures richer variability than a purely linear model.", []),
    ("We bound the excess risk of a linear SVM with random features.", ["linear-model", "random-features"]),
    ("We study a variant of online linear optimization with hints.", ["linear-model"]),
    ("Our EM algorithm incorporates sparsity structure into parameter estimation.", ["sparse"]),
    ("We analyze the method for both geodesically \\emph{convex} and \\emph{nonconvex} (smooth) functions.",
     ["convex"]),
    ("We demonstrate the performance of our algorithm on low-rank matrix completion.", []),
    # The setting a previous analysis had is not this paper's ...
    ("Our work extends the previous fast rate analysis from least square loss to 0-1 loss.", []),
    # ... but extending one's own analysis to a setting keeps it.
    ("Finally, we extend our analysis to the problem of low-rank matrix recovery.", ["low-dimensional-structure"]),
    ("Our initializations are natural, one of them being used in the most popular implementation.",
     ["special-initialization"]),
    ("We study the high-dimensional regime in which $p$ is of the same order as $n$.",
     ["high-dimensional-asymptotics"]),
    ("We study an iterative regularization algorithm for least squares defined by incremental gradients.",
     ["linear-model", "squared-loss"]),
    ("We give optimistic variants of least-squares value iteration.", []),
    # A piecewise quadratic loss is not the squared loss.
    ("The loss is a convex smooth piecewise quadratic loss.", ["convex", "smooth"]),
    ("We recover a low-rank matrix corrupted with sparse perturbations.", ["sparse", "low-dimensional-structure"]),
    ("The method solves a convex program where neither the primal nor the dual function has to be smooth.", []),
    # A convex upper bound is the method's own bound, not a convex setting.
    ("Our fully convex upper bound is minimized as an SDP.", []),
    ("Multi-step schemes integrate the differential equation using larger step sizes.", ["finite-step-size"]),
    ("The rates match those of their fixed-step-size counterparts.", ["finite-step-size"]),
    ("Training with larger learning rates looks more favourable.", []),
    ("Our model assumes low-dimensional dynamics in a finite volume.", ["low-dimensional-structure"]),
    ("We consider a linear time series model and penalize the comparator sequence.", ["linear-model"]),
    ("We present a method for convex unconstrained optimization.", ["convex"]),
    ("We derive fast rates for risk minimization with smooth convex random functions.", ["convex", "smooth"]),
    ("We demonstrate empirically that the cost is about four times that of solving a least-squares problem.", []),
    ("We illustrate the efficiency of OSSB using numerical experiments on the linear bandit problem.", []),
    # An opening "Consider ..." sets the paper's own problem, not the background.
    ("Consider minimizing the sum of a smooth and a convex function.", ["convex", "smooth"]),
    ("We prove global convergence of alternating minimization with a good initialization.",
     ["special-initialization"]),
    ("Population states are modelled with a generalised linear observation model.", ["linear-model"]),
    ("We prove a lower bound on the calibration function for the quadratic surrogate.", ["squared-loss"]),
    ("We learn simple, quadratic surrogate models of the objective function.", []),
    ("We study linear prediction over a convex compact domain.", ["linear-model"]),
    ("Empirically we show that it beats the random Fourier features method.", []),
    ("We show that when the objective can be linearly parameterized, the problem is a dueling bandit.",
     ["linear-model"]),
    ("The method restarts according to restricted strong-convexity constants.", ["strongly-convex"]),
    ("We assume the data follow a tensor normal distribution.", ["gaussian-data"]),
    ("An equilibrium exists when the payoff functions are convex.", ["convex"]),
    ("We study linear classifiers defined by convex margin-based surrogate losses.", ["linear-model", "convex"]),
    ("For Matern kernels and sufficiently smooth functions we also provide rates.", []),
    ("SAGA supports non-strongly convex composite objectives.", ["convex"]),
    ("We consider sparse precision matrix estimation in high dimensions.", ["sparse"]),
    ("We derive bounds assuming a bound on the k-th moment of the valuations.", ["heavy-tailed"]),
    ("The model learns a manifold geometry of the data.", ["low-dimensional-structure"]),
    ("We study a family of (continuous-time) stochastic dynamics for minimization.", ["small-step-size"]),
    ("We propose continuous-time descent dynamics with an O(1/t^2) rate.", ["small-step-size"]),
    ("We consider tensor PCA under a single-spike (or rank-one plus noise) model.", ["low-dimensional-structure"]),
    ("The rates remain $O(1/k^2)$ when the problems are convex.", ["convex"]),
    # A negation does not reach past ", thus ...".
    ("The theory does not rely on moment assumptions, thus allowing for heavy-tailed returns.", ["heavy-tailed"]),
    ("It converges even in the absence of strong convexity.", []),
    ("We estimate a density supported on or near a smooth $d$-dimensional manifold.", ["low-dimensional-structure"]),
    ("We prove recovery if the two signals belong to known random subspaces.", ["low-dimensional-structure"]),
    ("The scheme bears similarities with first order methods in convex optimization.", []),
    ("They converge under a weaker condition than strong convexity.", []),
    ("Uncertainty sampling on a convex (e.g., logistic) loss is preconditioned SGD.", ["convex"]),
    ("We consider the bilinear inverse problem of recovering two vectors.", []),
    ("Third-order smoothness helps to escape saddle points.", ["smooth"]),
    ("We give algorithms for smooth (strongly) convex losses.", ["convex", "strongly-convex", "smooth"]),
    ("The value function is estimated by Difference of Convex functions programming.", []),
    ("Experimental results show that it beats other methods on overlapping group lasso.", []),
    ("We bound the sub-optimality despite the objective having unbounded gradients.", []),
    ("We propose a constrained cross-entropy method for safe reinforcement learning.", []),
    ("It attains an $O(1/k^2)$ rate under only semi-strong convexity.", []),
    ("We approximate the sum of squared distances to any piecewise linear function.", ["squared-loss"]),
    ("A recent work gives a streaming algorithm under a spiked covariance model.", []),
    # The Lasso is sparse; readers did not take it for a linear model (2 of 8 abstracts).
    ("We give screening rules for the Lasso.", ["sparse"]),
    ("This model is a natural extension of the popular generalized linear model to interacting neurons.", []),
    ("We give a nearly-optimal algorithm for regularized least squares.", ["linear-model", "squared-loss"]),
    ("Adaptive averaging in accelerated descent dynamics.", ["small-step-size"]),
    ("We study mean square error estimation over an ambiguity set containing only normal distributions.",
     ["gaussian-data", "squared-loss"]),
    ("We minimize the sum of two non-necessarily convex functions.", []),
    ("We show how it can be used to find good initializations for k-means.", []),
    ("We propose a convex, classification-calibrated loss.", ["convex"]),
    ("We propose a novel sparse formulation of matrix completion.", ["sparse"]),
])
def test_detector_negation_and_vocabulary_order(sentence, labels):
    assert list(load_vocabulary().detect([sentence])) == labels


def test_title_alone_does_not_establish_gradient_flow():
    vocab = load_vocabulary()
    title_only = paper_text("Gradient Flow in Sparse Networks", "We prune networks at initialization.")
    assert "small-step-size" not in vocab.detect(title_only.sentences, n_title=title_only.n_title)
    both = paper_text("Gradient Flow in Sparse Networks", "We analyse gradient flow on sparse networks.")
    assert vocab.detect(both.sentences, n_title=both.n_title)["small-step-size"] == [0, 1]
    # Other labels may come from the title alone.
    sparse = paper_text("Tuning-free sparse regression", "We give an algorithm with fast convergence.")
    assert "sparse" in vocab.detect(sparse.sentences, n_title=sparse.n_title)


def test_vocabulary_errors_name_the_file(tmp_path):
    p = tmp_path / "vocab.yaml"
    p.write_text("labels:\n  gaussian-data:\n    patterns: ['Gaussian (']\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"vocab.yaml: label 'gaussian-data': bad pattern"):
        load_vocabulary(p)
    p.write_text("labels:\n  x: {description: no patterns}\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"vocab.yaml: label 'x' has no 'patterns:' list"):
        load_vocabulary(p)
    p.write_text("labels: [\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"vocab.yaml: not valid YAML at line"):
        load_vocabulary(p)


@pytest.mark.parametrize("text,needle", [
    ("negation_window: lots\n", r"'negation_window' must be a whole number such as 60 \(found 'lots'\)"),
    ("example_list_min_items: 2.5\n", r"'example_list_min_items' must be a whole number such as 3 \(found 2.5\)"),
    ("", r"label 'two-layer': pattern 'two-layer\|' matches empty text"),
    # A cue list where one regular expression is expected was read as the text "['a', 'b']" (a character class).
    ("negation_cues: ['without', 'unlike']\n",
     r"'negation_cues' must be one regular expression, a string \(found \['without', 'unlike'\]\)"),
    ("own_work_cues: 3\n", r"'own_work_cues' must be one regular expression, a string \(found 3\)"),
])
def test_a_vocabulary_setting_of_the_wrong_type_or_an_empty_pattern_is_named(tmp_path, text, needle):
    """A window or count that is no whole number stops with the key, not a traceback; a stray '|' in a pattern
    would give every paper the label."""
    p = tmp_path / "vocab.yaml"
    pattern = "two-layer|" if not text else "two-layer"
    p.write_text(f"{text}labels:\n  two-layer:\n    patterns: ['{pattern}']\n", encoding="utf-8")
    with pytest.raises(InputError, match="vocab.yaml: " + needle):
        load_vocabulary(p)


@pytest.mark.parametrize("spec,needle", [
    # A list where a string is expected, or the reverse, was read as text or dropped without a word.
    ("patterns: 'two-layer'", r"label 'x' 'patterns' must be a list of regular expressions \(found 'two-layer'\)"),
    ("patterns: [{two-layer: net}]", r"label 'x': pattern \{'two-layer': 'net'\} is not a string; quote it"),
    ("patterns: [2]", r"label 'x': pattern 2 is not a string"),
    ("patterns: [two-layer]\n    description: [a, b]",
     r"label 'x' 'description' must be a string \(found \['a', 'b'\]\)"),
    ("patterns: [two-layer]\n    title_alone: maybe",
     r"label 'x' 'title_alone' must be true or false \(found 'maybe'\)"),
    ("patterns: [two-layer]\n    title_alone: 0", r"label 'x' 'title_alone' must be true or false \(found 0\)"),
])
def test_a_label_setting_of_the_wrong_type_is_named(tmp_path, spec, needle):
    p = tmp_path / "vocab.yaml"
    p.write_text(f"labels:\n  x:\n    {spec}\n", encoding="utf-8")
    with pytest.raises(InputError, match="vocab.yaml: " + needle) as exc:
        load_vocabulary(p)
    assert "\n" not in str(exc.value)


def test_a_long_pattern_is_quoted_short(tmp_path):
    p = tmp_path / "vocab.yaml"
    p.write_text("labels:\n  x:\n    patterns: ['(" + "a" * 5000 + "']\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad pattern '\(a+\.\.\.' \(missing \)") as exc:
        load_vocabulary(p)
    assert len(str(exc.value)) < 300


def test_empty_and_title_only():
    assert split_sentences("   ") == []
    out = summarize_papers(pd.DataFrame({"paper_id": ["x", "y"], "title": ["", "Two-layer nets"],
                                         "abstract": ["", ""]}), params=SummaryParams(centrality="tfidf"))
    assert out.loc[0, "tldr"] == "" and out.loc[0, "claims"] == []
    assert out.loc[1, "tldr"] == "Two-layer nets" and out.loc[1, "assumptions"] == ["two-layer"]


def test_fake_embedder_centrality_is_deterministic(fake_embedder, data_dir):
    papers = pd.read_csv(data_dir / "submissions.csv", keep_default_na=False).head(8)
    a = summarize_papers(papers, embed=lambda s: fake_embedder.encode(s))
    b = summarize_papers(papers, embed=lambda s: fake_embedder.encode(s))
    pd.testing.assert_frame_equal(a, b)
    assert a["prompt_sha256"].nunique() == 1 and a["text_sha256"].nunique() == len(papers)


# ---------------------------------------------------------------------------------------------
# PDF text
# ---------------------------------------------------------------------------------------------
def make_pdf(pages: list[list[str]]) -> bytes:
    """A minimal PDF with one Helvetica text line per entry (no PDF writer needed)."""
    objs: list[str] = ["<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    content_ids = []
    for lines in pages:
        ops = ["BT /F1 10 Tf 14 TL 50 780 Td"]
        ops += ["(" + ln.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ") Tj T*" for ln in lines]
        stream = "\n".join(ops + ["ET"])
        objs.append(f"<< /Length {len(stream.encode('latin-1'))} >>\nstream\n{stream}\nendstream")
        content_ids.append(len(objs))
    pages_id = len(objs) + len(pages) + 1
    kids = []
    for cid in content_ids:
        objs.append(f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 612 792] /Contents {cid} 0 R "
                    "/Resources << /Font << /F1 1 0 R >> >> >>")
        kids.append(len(objs))
    objs.append(f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(pages)} >>")
    objs.append(f"<< /Type /Catalog /Pages {pages_id} 0 R >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for i, o in enumerate(objs, 1):
        offsets.append(out.tell())
        out.write(f"{i} 0 obj\n{o}\nendobj\n".encode("latin-1"))
    xref = out.tell()
    out.write(f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode())
    out.write("".join(f"{o:010d} 00000 n \n" for o in offsets).encode())
    out.write(f"trailer\n<< /Size {len(objs) + 1} /Root {len(objs)} 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode())
    return out.getvalue()


def pdf_with_contents(data: bytes, **entries: str) -> bytes:
    """A one-page PDF (written by pypdf) whose content stream is ``data`` with the given /Filter etc."""
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, StreamObject

    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    stream = StreamObject()
    stream._data = data
    stream.update({NameObject(f"/{k}"): NameObject(v) for k, v in entries.items()})
    page[NameObject("/Contents")] = writer._add_object(stream)
    font = DictionaryObject({NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
                             NameObject("/BaseFont"): NameObject("/Helvetica")})
    fonts = DictionaryObject({NameObject("/F1"): font})
    page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): fonts})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def inflating_pdf(megabytes: int) -> bytes:
    """A PDF whose page content is a few hundred KB that inflate to ``megabytes`` MB of spaces."""
    z = zlib.compressobj(9)
    data = b"".join(z.compress(b" " * 1_000_000) for _ in range(megabytes)) + z.flush()
    return pdf_with_contents(data, Filter="/FlateDecode")


PDF_PAGES = [["A Paper", "Abstract", "We do things.", "1 Introduction",
              "Deep networks are trained with gra-", "dient descent. In this paper we assume Gaussian inputs.",
              "2 Setting", "Let x be data from somewhere."],
             ["5 Conclusion", "We proved a sample complexity bound of O(d log d) for two-layer networks.",
              "References", "[1] Someone. A book."]]


def test_pdf_intro_and_conclusion(tmp_path):
    from triage.pdftext import extract_intro_conclusion, pdfs_for

    (tmp_path / "v1_p1.pdf").write_bytes(make_pdf(PDF_PAGES))
    assert pdfs_for(["v1/p1", "v1/p2"], tmp_path) == ({"v1/p1": tmp_path / "v1_p1.pdf"}, {}, [])
    text, why = extract_intro_conclusion(tmp_path / "v1_p1.pdf")
    assert why == ""
    assert "trained with gradient descent. In this paper we assume Gaussian inputs." in text
    assert "two-layer networks." in text
    assert "Let x be data" not in text and "Someone" not in text
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    assert extract_intro_conclusion(tmp_path / "bad.pdf") == ("", "damaged")


@pytest.mark.parametrize(("intro", "second", "conclusion", "after"), [
    ("1 Introduction and Motivation", "2 Setup", "6 Conclusion & Future Work", "References"),
    ("1. INTRODUCTION:", "2. BACKGROUND", "6. Conclusions.", "REFERENCES"),
    # Unnumbered headings: the introduction still ends before the conclusion and the references.
    ("Introduction", "Related Work", "Conclusion", "References"),
    ("Introduction", "A Closer Look", "Conclusion", "References"),
    # The statements venues ask for after the conclusion are not part of it.
    ("1 Introduction", "2 Setup", "7 Conclusion", "Ethics Statement"),
    ("1 Introduction", "2 Setup", "7 Discussion and Conclusions", "Broader Impact"),
])
def test_pdf_headings_as_papers_write_them(tmp_path, intro, second, conclusion, after):
    from triage.pdftext import extract_intro_conclusion

    pages = [["A Paper", "Abstract", "We do things.", intro, "Networks are trained with gradient descent.",
              second, "Let x be data from somewhere."],
             [conclusion, "We proved a bound for two-layer networks.", after, "No harm is done by this paper.",
              "References", "[1] Someone. A book."]]
    (tmp_path / "p.pdf").write_bytes(make_pdf(pages))
    text, why = extract_intro_conclusion(tmp_path / "p.pdf")
    assert why == ""
    if second == "A Closer Look":  # an unnumbered heading of any wording cannot be told from a line of text
        assert text.startswith("Networks are trained with gradient descent. A Closer Look Let x")
    else:
        assert text.startswith("Networks are trained with gradient descent.\n\n")
    assert text.endswith("\n\nWe proved a bound for two-layer networks.")
    assert text.count("We proved") == 1 and "No harm" not in text and "Someone" not in text


def test_pdf_named_by_a_shared_last_part_is_used_for_none(tmp_path):
    from triage.pdftext import pdfs_for

    (tmp_path / "pdfs").mkdir()
    for name in ("addanki24a", "abbe24a", "v247_zhang24b", "p7"):
        (tmp_path / "pdfs" / f"{name}.pdf").write_bytes(make_pdf(PDF_PAGES))
    ids = ["v247/addanki24a", "v999/addanki24a", "v247/abbe24a", "v247/zhang24b", "zhang24b", "p7", "v1/p7"]
    found, shared, others = pdfs_for(ids, tmp_path / "pdfs")
    assert found == {"v247/abbe24a": tmp_path / "pdfs" / "abbe24a.pdf",  # a paper's own name wins over another's
                     "v247/zhang24b": tmp_path / "pdfs" / "v247_zhang24b.pdf", "p7": tmp_path / "pdfs" / "p7.pdf"}
    assert shared == {tmp_path / "pdfs" / "addanki24a.pdf": ["v247/addanki24a", "v999/addanki24a"]} and others == []
    pd.DataFrame({"paper_id": ids, "title": [f"Paper {i}" for i in range(7)],
                  "abstract": ["We study bandits."] * 7}).to_csv(tmp_path / "subs.csv", index=False)
    res = CliRunner().invoke(app, ["summarize", str(tmp_path / "subs.csv"), "--pdf-dir", str(tmp_path / "pdfs"),
                                   "--centrality", "tfidf", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "found for 3 of 7 papers" in res.stdout
    assert "addanki24a.pdf" in res.stderr and "v247/addanki24a, v999/addanki24a" in res.stderr


def test_cli_summarize_with_pdf_dir(tmp_path):
    subs = pd.DataFrame({"paper_id": ["v1/p1", "v1/p2"], "title": ["A Paper", "Another paper"],
                         "abstract": ["We do things with networks. Our results are new.",
                                      "We study bandits. We prove a regret bound of $O(\\sqrt{T})$."]})
    subs.to_csv(tmp_path / "subs.csv", index=False)
    (tmp_path / "pdfs").mkdir()
    (tmp_path / "pdfs" / "v1_p1.pdf").write_bytes(make_pdf(PDF_PAGES))
    (tmp_path / "pdfs" / "v1_p2.pdf").write_bytes(b"not a pdf")
    res = CliRunner().invoke(app, ["summarize", str(tmp_path / "subs.csv"), "--pdf-dir", str(tmp_path / "pdfs"),
                                   "--centrality", "tfidf", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "PDF text (introduction, conclusion) found for 1 of 2 papers" in res.output
    rows = [json.loads(x) for x in (tmp_path / "out" / "summaries.jsonl").read_text().splitlines()]
    assert rows[0]["assumptions"] == ["gaussian-data", "two-layer"]
    assert rows[0]["evidence"]["assumptions"]["gaussian-data"] == [4]  # title, 2 abstract, 2 introduction
    assert any("O(d log d)" in r for r in rows[0]["results"])
    assert rows[1]["summarizer"] == "extractive" and rows[1]["assumptions"] == []
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["stages"]["summarize"]["stats"]["with_pdf_text"] == 1


@pytest.mark.parametrize(("bad", "why"), [
    pytest.param(lambda: inflating_pdf(120), "v1_p2.pdf (damaged or too large to unpack)", id="inflates-to-120MB"),
    pytest.param(lambda: pdf_with_contents(b"xyz", Filter="/FooDecode"), "v1_p2.pdf (in a format pypdf cannot read)",
                 id="unknown-filter"),
    pytest.param(lambda: pdf_with_contents(b"xyz", Filter="/JBIG2Decode"), "v1_p2.pdf (", id="jbig2"),
])
def test_cli_summarize_goes_on_past_an_unreadable_pdf(tmp_path, bad, why):
    subs = pd.DataFrame({"paper_id": ["v1/p1", "v1/p2"], "title": ["A Paper", "Another paper"],
                         "abstract": ["We do things with networks.", "We study bandits."]})
    subs.to_csv(tmp_path / "subs.csv", index=False)
    (tmp_path / "pdfs").mkdir()
    (tmp_path / "pdfs" / "v1_p1.pdf").write_bytes(make_pdf(PDF_PAGES))
    (tmp_path / "pdfs" / "v1_p2.pdf").write_bytes(bad())
    res = CliRunner().invoke(app, ["summarize", str(tmp_path / "subs.csv"), "--pdf-dir", str(tmp_path / "pdfs"),
                                   "--centrality", "tfidf", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "found for 1 of 2 papers" in res.output and why in res.stderr
    assert len((tmp_path / "out" / "summaries.jsonl").read_text().splitlines()) == 2


def test_cli_summarize_says_in_one_warning_which_pdfs_went_unused_and_why(tmp_path, caplog):
    from pypdf import PdfReader, PdfWriter

    ids = [f"v247/p{i}" for i in range(1, 9)]
    pd.DataFrame({"paper_id": ids, "title": [f"Paper {i}" for i in range(1, 9)],
                  "abstract": ["We study bandits."] * 8}).to_csv(tmp_path / "subs.csv", index=False)
    pdfs = tmp_path / "pdfs"
    pdfs.mkdir()
    good = make_pdf(PDF_PAGES)
    locked = PdfWriter(clone_from=PdfReader(io.BytesIO(good)))
    locked.encrypt(user_password="secret", algorithm="RC4-128")
    locked.write(pdfs / "v247_p2.pdf")
    for i, data in [(1, good), (3, b""), (4, good[: len(good) // 2]), (5, pdf_with_contents(b"q 1 0 0 1 0 0 cm Q")),
                    (6, make_pdf([["A Paper"] + ["Some words on a page without any section headings."] * 5]))]:
        (pdfs / f"v247_p{i}.pdf").write_bytes(data)
    for name in ("Paper 6.pdf", "orphan.pdf"):
        (pdfs / name).write_bytes(good)
    with caplog.at_level(logging.WARNING):
        res = CliRunner().invoke(app, ["summarize", str(tmp_path / "subs.csv"), "--pdf-dir", str(pdfs),
                                       "--centrality", "tfidf", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert "found for 1 of 8 papers" in res.stdout
    assert not [r.getMessage() for r in caplog.records if r.name.startswith("pypdf")]  # "EOF marker not found"
    assert res.stderr.count("Warning:") == 1 and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert ("5 PDF(s) not used: v247_p2.pdf (password-protected), v247_p3.pdf (empty file), v247_p4.pdf (damaged), "
            "v247_p5.pdf (no text layer (scanned?)), v247_p6.pdf (no introduction/conclusion found)") in res.stderr
    assert "2 PDF(s) match no paper: Paper 6.pdf, orphan.pdf" in res.stderr
    assert "Error" not in res.stderr and "EOF marker" not in res.stderr and "name each PDF" not in res.stderr

    for i in range(1, 7):  # none matches: the naming scheme, with an example from the submissions
        (pdfs / f"v247_p{i}.pdf").rename(pdfs / f"paper{i}.pdf")
    res = CliRunner().invoke(app, ["summarize", str(tmp_path / "subs.csv"), "--pdf-dir", str(pdfs),
                                   "--centrality", "tfidf", "-o", str(tmp_path / "out")])
    assert res.exit_code == 0 and "found for 0 of 8 papers" in res.stdout
    assert "no PDF matches any of the 8 papers; 8 PDF(s) match no paper: Paper 6.pdf, orphan.pdf, paper1.pdf, " \
           "paper2.pdf, paper3.pdf and 3 more; name each PDF <paper_id>.pdf with '/' as '_', e.g. v247_p1.pdf for " \
           "paper v247/p1" in res.stderr


def test_cli_bad_vocabulary_is_one_line_error(tmp_path):
    pd.DataFrame({"paper_id": ["a"], "title": ["T"], "abstract": ["We show things."]}).to_csv(
        tmp_path / "subs.csv", index=False)
    (tmp_path / "v.yaml").write_text("labels:\n  a:\n    patterns: ['(']\n", encoding="utf-8")
    res = CliRunner().invoke(app, ["summarize", str(tmp_path / "subs.csv"), "--assumptions",
                                   str(tmp_path / "v.yaml"), "-o", str(tmp_path / "out")])
    assert res.exit_code == 1
    assert res.output.startswith("Error: ") and "v.yaml: label 'a': bad pattern" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "out" / "summaries.csv").exists()


def test_evidence_indices_are_ints(data_dir):
    papers = pd.read_csv(data_dir / "submissions.csv", keep_default_na=False).head(5)
    out = summarize_papers(papers, params=SummaryParams(centrality="tfidf"))
    for ev in out["evidence"]:
        assert all(isinstance(i, int) for k in ("tldr", "claims", "results") for i in ev[k])
        json.dumps(ev)
    assert np.all(out["text_sha256"].str.len() == 64)


def test_background_sentences_before_the_papers_own_are_not_its_assumptions():
    vocab = load_vocabulary()
    text = paper_text("Learning under shift",
                      "Gaussian inputs are the classical setting of most analyses. In the early 1990s, interior-point "
                      "methods were developed for convex optimization. We study two-layer networks under sub-Gaussian "
                      "inputs.")
    assert list(vocab.detect(text.sentences, n_title=text.n_title)) == ["two-layer", "sub-gaussian"]
    # Without any sentence about the paper itself, nothing is treated as background.
    alone = paper_text("", "Two-layer networks with Gaussian inputs are analysed.")
    assert set(vocab.detect(alone.sentences, n_title=alone.n_title)) == {"gaussian-data", "two-layer"}


def _card(title: str, abstract: str) -> pd.Series:
    """The extractive card of one made-up paper (TF-IDF centrality, no model)."""
    papers = pd.DataFrame({"paper_id": ["p"], "title": [title], "abstract": [abstract]})
    return summarize_papers(papers, params=SummaryParams(centrality="tfidf")).iloc[0]


def test_scene_setting_sentences_are_not_the_papers_results_or_claims():
    abstract = ("Prior work proved a regret bound of $O(\\sqrt{T})$ for linear bandits. Smith et al. gave a matching "
                "lower bound of $\\Omega(\\sqrt{T})$. We study bandits with graph feedback. We prove a regret bound "
                "of $O(\\log T)$, which is optimal.")
    row = _card("Graph bandits", abstract)
    assert row["results"] == ["We prove a regret bound of $O(\\log T)$, which is optimal."]
    assert all("Smith" not in c and "Prior work" not in c for c in row["claims"])
    assert row["tldr"].startswith("We ")
    # A paper with nothing but scene-setting (an open problem) still gets a card.
    open_problem = _card("Open problem", "Smith et al. proved an upper bound of $O(n)$. The lower bound is "
                         "$\\Omega(\\sqrt{n})$. What is the truth?")
    assert open_problem["tldr"] and open_problem["claims"]


def test_an_open_problem_card_poses_its_question_and_claims_no_result():
    """A real COLT 2024 open problem (v247/canonne24a): no sentence speaks of the paper itself."""
    abstract = (
        "In the instance-optimal identity testing introduced by Valiant and Valiant (2014), one is given the "
        "description of a discrete probability distribution $q$, a parameter $\\varepsilon$ and samples from an "
        "unknown distribution $p$. The goal is to distinguish between the cases $p=q$ and "
        "$\\textrm{TV}(p,q) > \\varepsilon$. Valiant and Valiant provided upper and lower bounds on this question. "
        "However, these upper and lower bounds do not always match up to constant factors. The question then is: "
        "what is the tight characterization of the sample complexity of instance-optimal identity testing? "
        "What is the right functional $\\Phi(q)$ for it?")
    row = _card("Open Problem: Tight Characterization of Instance-Optimal Identity Testing", abstract)
    assert row["tldr"].startswith("The question then is")
    assert all(c.endswith("?") for c in row["claims"]), row["claims"]
    # Neither the cited work, a question nor the problem's background is a result of the paper.
    assert row["results"] == [], row["results"]
    # An abstract in the impersonal voice still has results: the ones it states as shown or found.
    impersonal = _card("Quenching", "A numerical study of gradient descent for two-layer networks is carried out. "
                       "Two-layer networks are widely used. It is found that there are two distinctive phases in the "
                       "dynamics. This suggests a mechanism for implicit regularization.")
    assert impersonal["results"] == ["It is found that there are two distinctive phases in the dynamics."]


def test_a_rate_in_math_is_a_result_cue_but_any_letter_o_is_not():
    from triage.summarize import result_cues

    assert result_cues("It achieves $O(\\sqrt{T})$ and $\\tilde O(d)$ error.") >= 2
    assert result_cues("with $n^{-1/2}$ samples") == 1
    # Once every "o" in math counted ("\\epsilon", "\\rho"), and so did the prose between two spans.
    assert result_cues("for all $\\rho$ and $\\epsilon$ we consider the problem") == 0
    assert result_cues("For $L$ layers and orthogonal inputs, the $\\ell_{2/L}$ norm is defined") == 0


def test_cards_pick_the_papers_own_sentences(data_dir):
    """Two readers gave every body sentence of 80 real abstracts a role (tests/data/README.md)."""
    roles = pd.read_csv(data_dir / "sentence_roles.csv", keep_default_na=False)
    both = {(r.paper_id, r.idx): {r.role_1, r.role_2} for r in roles.itertuples()}
    papers = pd.read_csv(data_dir / "assumptions_labelled.csv", keep_default_na=False)
    papers = papers[papers["paper_id"].isin(set(roles["paper_id"]))]
    out = summarize_papers(papers, params=SummaryParams(centrality="tfidf"))
    picked = {k: [both[(r.paper_id, i)] for r in out.itertuples() for i in r.evidence[k]]
              for k in ("tldr", "claims", "results")}
    own = {k: sum(r <= {"C", "R"} for r in v) / len(v) for k, v in picked.items()}
    background = sum("B" in r for v in picked.values() for r in v) / sum(len(v) for v in picked.values())
    # 0.99 / 0.90 / 0.95 own and 0.02 background when written (80 abstracts); the first body sentences score
    # 0.50 / 0.51 / 0.79.
    assert own["tldr"] >= 0.9 and own["claims"] >= 0.8 and own["results"] >= 0.88, own
    assert background <= 0.05, background


@pytest.mark.parametrize(("paper_id", "others"), [
    ("v247/chen24b", "More precisely, their algorithm runs in time"),  # after "Chen et al. recently gave ..."
    ("v247/koch24a", "Their work leaves open the question"),  # after "Recent work of Koch, Strassle, and Tan ..."
    ("v247/brown24b", "All prior private algorithms"),
    ("v247/golowich24a", "In particular, it has remained open"),
    ("PULSD5qI2N1", "It was recently found that"),
])
def test_sentences_about_other_work_are_not_claims_or_results(paper_id, others):
    """Real demo abstracts whose cards once listed other people's work as the paper's claims or results."""
    demo = pd.read_csv(DEMO, keep_default_na=False)
    paper = demo[demo["paper_id"] == paper_id].iloc[0]
    assert others in paper["abstract"]
    row = _card(paper["title"], paper["abstract"])
    assert row["results"] or row["claims"]
    assert not [s for s in [row["tldr"], *row["claims"], *row["results"]] if s.startswith(others)], row


def test_other_work_cues_spare_comparisons_and_questions():
    from triage.summarize import about_others

    assert about_others(["Prior to our work, no efficient algorithms were known.",
                         "Minimax rates for this class are a long-standing open question.",
                         "Previously known algorithms take quasi-polynomial time.",
                         "They also need Gaussian inputs.",
                         "The method outperforms existing approaches on most metrics.",
                         "BayesDICE is competitive to existing state-of-the-art approaches.",
                         "Unlike many existing approaches, the state is dynamic.",
                         "They are fast."]) == [True, True, True, True, False, False, False, False]
    # An abstract that never speaks of itself poses its question, whoever it cites.
    row = _card("Open problem", "Smith et al. proved an upper bound of $O(n)$. The best lower bound is "
                "$\\Omega(\\sqrt{n})$. Can the upper bound of Smith et al. be improved?")
    assert row["claims"] == ["Can the upper bound of Smith et al. be improved?"], row["claims"]


def test_outlook_sentences_are_not_the_tldr_or_claims():
    abstract = ("Many algorithms need tuning. Recent works show that pivotal estimators exist. This work addresses "
                "this problem by showing that an IRLS algorithm converges linearly. We expect our findings will also "
                "have implications for multi-task learning.")
    row = _card("IRLS", abstract)
    own = "This work addresses this problem by showing that an IRLS algorithm converges linearly."
    assert row["tldr"] == own and row["claims"] == [own]


def test_rerun_keeps_unchanged_summaries_and_matches_a_fresh_run(real_embedder, monkeypatch, tmp_path, data_dir):
    """The real model: a rerun after one abstract changed and one paper arrived summarizes those two and keeps
    the other cards, with the same bytes as a run from scratch; other settings summarize everything again."""
    import triage.pipeline

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: real_embedder)
    subs = pd.read_csv(data_dir / "submissions.csv", dtype=str, keep_default_na=False)
    subs.iloc[:-1].to_csv(tmp_path / "first.csv", index=False)
    late = subs.copy()
    late.loc[0, "abstract"] = "We prove a new regret bound for linear bandits. " + late.loc[0, "abstract"]
    late.to_csv(tmp_path / "second.csv", index=False)
    out, fresh = tmp_path / "out", tmp_path / "fresh"

    def summarize(csv: str, folder, *extra: str) -> dict:
        res = CliRunner().invoke(app, ["summarize", str(tmp_path / csv), "-o", str(folder), *extra])
        assert res.exit_code == 0, res.output
        return json.loads((folder / "manifest.json").read_text())["stages"]["summarize"]["stats"]

    assert summarize("first.csv", out)["kept_from_earlier_run"] == 0
    assert summarize("second.csv", out)["kept_from_earlier_run"] == len(subs) - 2
    assert summarize("second.csv", fresh)["kept_from_earlier_run"] == 0
    assert (out / "summaries.csv").read_bytes() == (fresh / "summaries.csv").read_bytes()
    assert (out / "summaries.jsonl").read_bytes() == (fresh / "summaries.jsonl").read_bytes()
    assert summarize("second.csv", out, "--max-claims", "1")["kept_from_earlier_run"] == 0
    assert summarize("second.csv", out, "--max-claims", "1")["kept_from_earlier_run"] == len(subs)


def test_rerun_with_keywords_summarizes_again(fake_embedder, monkeypatch, tmp_path, data_dir):
    """Keywords move the paper vector a card's sentences are compared to, and a card's hash does not cover
    them: with --use-keywords no card is kept."""
    import triage.pipeline
    from triage.pipeline import EmbedParams, load, run_summarize
    from triage.workdir import Workdir

    monkeypatch.setattr(triage.pipeline, "load_embedder", lambda *a, **k: fake_embedder)
    corpus = load(triage.pipeline.Inputs(data_dir / "submissions.csv"))
    wd = Workdir(tmp_path / "out")

    def kept(use_keywords: bool) -> int:
        run_summarize(corpus, wd, embed=EmbedParams(use_keywords=use_keywords))
        return wd.read_manifest()["stages"]["summarize"]["stats"]["kept_from_earlier_run"]

    assert [kept(False), kept(False)] == [0, len(corpus.papers)]
    assert [kept(True), kept(True)] == [0, 0]


@pytest.mark.parametrize("head,spec,needle", [
    ("", "patterns: [two-layer]\n    title-alone: false",
     r"label 'x': unknown key 'title-alone'; did you mean 'title_alone'\?"),
    ("", "pattern: [two-layer]", r"label 'x': unknown key 'pattern'; did you mean 'patterns'\?"),
    ("negation_cue: 'without'\n", "patterns: [two-layer]",
     r"unknown key 'negation_cue'; did you mean 'negation_cues'\?"),
    ("colour: blue\n", "patterns: [two-layer]", r"unknown key 'colour'; the keys are version, labels, "),
])
def test_a_misspelt_vocabulary_key_is_named_not_ignored(tmp_path, head, spec, needle):
    """A typo in a key ('title-alone') would leave the setting at its default without a word."""
    p = tmp_path / "vocab.yaml"
    p.write_text(f"{head}labels:\n  x:\n    {spec}\n", encoding="utf-8")
    with pytest.raises(InputError, match="vocab.yaml: " + needle):
        load_vocabulary(p)
