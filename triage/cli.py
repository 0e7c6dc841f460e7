"""The ``triage`` command line: a thin layer over :mod:`triage.pipeline`.

Each command parses its options, calls one pipeline function and prints where the results
went. Results go to stdout; progress and warnings go to stderr. Errors the user can fix print
one line (``Error: ...``) and exit 1.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup

try:  # typer 0.20+ carries its own copy of click
    from typer._click.exceptions import UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import UsageError

from triage import __version__
from triage.choices import (
    ALLOW_DOWNLOAD_ENV,
    DEFAULT_KEY_ENV,
    REVIEWER_TOP_K,
    Aggregate,
    CentralityChoice,
    ExportChoice,
    ExportFormat,
    ScoresFormat,
    SplitBy,
)
from triage.errors import InputError, TriageError, shown


class _OneLineUsageErrors(TyperGroup):
    """A command's bad option or missing argument is one line on stderr, exit code 1, like bad input files
    (click would print a usage block and exit 2)."""

    def make_context(self, info_name: str | None, args: list[str], parent: Any = None, **extra: Any) -> Any:
        try:
            return super().make_context(info_name, args, parent=parent, **extra)
        except UsageError as exc:  # a bad option of triage itself ('triage --bogus')
            if type(exc).__name__ == "NoArgsIsHelpError":
                raise
            err.print(f"Error: {exc.format_message()} (see 'triage --help')", markup=False)
            raise typer.Exit(1) from None

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except UsageError as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":
                raise
            path = exc.ctx.command_path if exc.ctx is not None else f"{ctx.command_path} {ctx.invoked_subcommand}"
            err.print(f"Error: {exc.format_message()} (see '{path} --help')", markup=False)
            raise typer.Exit(1) from None


app = typer.Typer(
    name="triage",
    cls=_OneLineUsageErrors,
    help="Paper-review triage for conference chairs: topics, reviewer matching, claim summaries, reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Messages carry user text (ids, titles, paths such as '[draft]/pubs.csv'): no markup or ':emoji:' codes in it.
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False)
out = Console(highlight=False, soft_wrap=True, emoji=False)
F = TypeVar("F", bound=Callable[..., Any])

# ---------------------------------------------------------------------------------------------
# Shared options
# ---------------------------------------------------------------------------------------------
Submissions = Annotated[Path, typer.Argument(
    help="Submissions: CSV, TSV, JSONL, JSON (OpenReview notes) or xlsx/CMT workbook, or openreview-expertise's "
    "dataset folder (its submissions.json, submissions.jsonl or submissions/<id>.jsonl).", show_default=False)]
Publications = Annotated[Path | None, typer.Option(
    "--publications", "-p", help="Reviewer publications (reviewer_id, title, abstract[, year, authors]), or "
    "openreview-expertise's archives folder (one ~User_Id1.jsonl per reviewer).")]
Reviewers = Annotated[Path | None, typer.Option(
    "--reviewers", "-r", help="Reviewer pool (reviewer_id[, name, email, domains, max_load, min_load]).")]
Conflicts = Annotated[Path | None, typer.Option(
    "--conflicts", "-c", help="Declared conflicts (paper_id, reviewer_id[, reason]).")]
OutDir = Annotated[Path, typer.Option("--out", "-o", envvar="TRIAGE_OUT", help="Work/output folder.")]
Encoding = Annotated[str | None, typer.Option(
    help="Encoding of the input files that are not UTF-8, e.g. latin-1 or cp1252 (UTF-8 files are read as UTF-8).")]
Model = Annotated[str, typer.Option(
    "--model", "-m", envvar="TRIAGE_MODEL",
    help="Embedding model: 'default' (bundled all-MiniLM-L6-v2, offline), 'fast' (a static model distilled "
         "from it on first use, for very large pools), a local sentence-transformers folder, "
         "or a hub name (needs --allow-download).")]
ModelAsBefore = Annotated[str | None, typer.Option(
    "--model", "-m", envvar="TRIAGE_MODEL", show_default=False,
    help="Embedding model, as for 'triage embed' (default: the model of the folder's last embed, else 'default').")]
AllowDownload = Annotated[bool, typer.Option(
    "--allow-download", envvar=ALLOW_DOWNLOAD_ENV,
    help="Let a hub model name be downloaded. Off by default: the hub is set offline and only the bundled "
         "model, local folders and already-cached models load.")]
BatchSize = Annotated[int, typer.Option(min=1, help="Texts per embedding batch.")]
UseKeywords = Annotated[bool, typer.Option(
    "--use-keywords",
    help="Embed the author keywords too (after the title); theory cues and area word scores read them too.")]
UseKeywordsAsBefore = Annotated[bool | None, typer.Option(
    "--use-keywords/--no-use-keywords", show_default=False,
    help="Embed the author keywords too (after the title); theory cues and area word scores read them too "
         "(default: as the folder's last embed did).")]
K = Annotated[int | None, typer.Option("--k", min=1, help="Number of topic clusters (default: about sqrt(n/2)).")]
MAX_SEED = 2**31 - 1  # faiss's k-means takes a C int, and numpy's draw no negative seed
Seed = Annotated[int, typer.Option(min=0, max=MAX_SEED, help="Random seed for clustering and, with "
                                   "--max-probability, the assignment's draw.")]
ClusterSeed = Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED, help="Random seed for clustering.")]
DrawSeed = Annotated[int, typer.Option("--seed", min=0, max=MAX_SEED,
                                       help="Random seed of the assignment's draw with --max-probability.")]
MaxProbability = Annotated[float, typer.Option(
    "--max-probability", min=0.01, max=1.0,
    help="Randomize the assignment: no (paper, reviewer) pair is assigned with a higher probability, so a reviewer "
         "who bids their way to a friend's paper gets it at most this often; the expected total affinity is said. "
         "1: the best-scoring assignment.")]
Taxonomy = Annotated[str, typer.Option(
    "--taxonomy", help="Venue areas: a shipped taxonomy ('iclr'), a path to your own YAML/TOML/JSON file, or 'none'.")]
Theory = Annotated[str, typer.Option(
    "--theory", help="Theory topics for theory papers: 'dl-theory', a path to your own file, or 'none'.")]
TheoryThreshold = Annotated[float | None, typer.Option(
    "--theory-threshold", min=-1.0, max=1.0,
    help="Minimum topic similarity for a theory topic (default: the taxonomy file's own; 0.35 in dl-theory).")]
QualifiedAffinity = Annotated[float, typer.Option(
    "--qualified-affinity", min=-1.0, max=1.0,
    help="topic_supply.csv: a reviewer is close to a paper when their closest publication has this cosine with it "
         "or more (not the blended match affinity).")]
TopK = Annotated[int, typer.Option("--top-k", min=1, help="Candidate reviewers kept per paper.")]
ReviewerTopK = Annotated[int, typer.Option(
    "--reviewer-top-k", min=0,
    help="Also keep each reviewer's N best papers as candidates (openreview-expertise's sparse_value: the top-K of "
         "each paper and of each reviewer), so that every reviewer with publications is scored and can be assigned "
         "(0: off).")]
PerPaper = Annotated[int, typer.Option("--per-paper", min=1, help="Reviewers assigned to each paper.")]
MaxLoad = Annotated[int, typer.Option("--max-load", min=0, help="Default max papers per reviewer.")]
PerPaperAsBefore = Annotated[int | None, typer.Option(
    "--per-paper", min=1, help="Reviewers each paper needs, for the supply table (default: the folder's last match's, "
                               "else 3).")]
MaxLoadAsBefore = Annotated[int | None, typer.Option(
    "--max-load", min=0, help="Default max papers per reviewer, for the supply table (default: the folder's last "
                              "match's, else 6).")]
MinLoad = Annotated[int, typer.Option("--min-load", min=0, help="Default min papers per reviewer.")]
CoauthorYears = Annotated[int, typer.Option(
    "--coauthor-years", min=0,
    help="Co-authorship within this many years is a conflict (0: off; --coauthor-frequent still applies).")]
CoauthorFrequent = Annotated[int, typer.Option(
    "--coauthor-frequent", min=0,
    help="Co-authors on more than this many of a reviewer's publications conflict whatever the years: a former "
         "advisor or a long-time collaborator (0: off).")]
CoauthorMaxAuthors = Annotated[int, typer.Option(
    "--coauthor-max-authors", min=0,
    help="Publications with more authors than this make no co-author conflicts (0: all count), e.g. 7 as AAAI; a "
         "shared email domain still counts.")]
AggregateOpt = Annotated[Aggregate, typer.Option(
    "--aggregate", help="How a reviewer's per-publication similarities combine: topk (s1 + s2/2 + s3/3, "
                        "normalised), max, mean or percentile.")]
LexicalWeight = Annotated[float, typer.Option(
    "--lexical-weight", min=0.0, max=1.0,
    help="Share of the BM25 lexical similarity in the blend with embeddings (0: embeddings only).")]
Recent = Annotated[int | None, typer.Option("--recent", min=1, help="Use each reviewer's N most recent publications.")]
Since = Annotated[int | None, typer.Option("--since", help="Use publications from this year on.")]
AllPairs = Annotated[bool, typer.Option(
    "--all-pairs", help="Score every (paper, reviewer) pair (ignores --top-k and --reviewer-top-k).")]
Bids = Annotated[Path | None, typer.Option(
    "--bids",
    help="Bids (paper_id, reviewer_id, bid: Very High .. Very Low) that nudge the assignment; also OpenReview's bid "
         "edges and openreview-expertise's bids folder.")]
Alternates = Annotated[int, typer.Option("--alternates", min=0, help="Alternate reviewers listed per paper.")]
MinSenior = Annotated[int | None, typer.Option(
    "--min-senior", min=0,
    help="Senior reviewers per paper (the reviewers file's 'senior' column: yes / no). Default 1 when the pool has "
         "a senior reviewer; 0: off.")]
Reserve = Annotated[int | None, typer.Option(
    "--reserve", min=0,
    help="Size of the emergency pool (reserve.csv): reviewers with load to spare who together can stand in on the "
         "most papers. Default 2% of the reviewers, at least 10; 0: none.")]
CoauthorSlack = Annotated[float, typer.Option(
    "--coauthor-slack", min=0.0,
    help="Split co-authors (reviewers who share a publication) assigned to one paper: swap one for the best free "
         "reviewer who is no co-author and scores at most this much lower, bids included (0: off).")]
UploadFormats = Annotated[list[ExportChoice] | None, typer.Option(
    "--export-format", help="Also write upload files: openreview (affinity, conflict constraints, max papers), cmt "
                            "(scores + assignments XML), hotcrp (bulk assignment CSV) or start (START/softconf "
                            "upload lines). Repeat for several.")]
KeepAssignments = Annotated[Path | None, typer.Option(
    "--keep-assignments", help="An earlier assignments.csv: keep its pairs where still feasible, re-solve the rest "
                               "and write what changed to changes.csv.")]

CompareWith = Annotated[Path | None, typer.Option(
    "--compare-with",
    help="Papers of an earlier year or a sister venue (a submissions file: id, title, abstract, optional "
         "authors): list the submissions that may be one of them in duplicates.csv.")]

WeakThreshold = Annotated[float | None, typer.Option(
    "--weak-threshold", min=-1.0, max=1.0,
    help="A paper whose best assigned reviewer scores below this is a weak match (default: 0.60, measured "
         "on real data for the bundled model, see README; export and report: the folder's last one).")]

PdfDir = Annotated[Path | None, typer.Option(
    "--pdf-dir", help="Folder of PDFs named <paper_id>.pdf ('/' as '_'): screened for the page limit and anonymity, "
                      "and their introduction and conclusion summarised with the abstract.")]
PageLimit = Annotated[int | None, typer.Option(
    "--page-limit", min=1, help="Pages of text allowed before the References heading (default: not checked).")]
ScreenPdfDir = Annotated[Path | None, typer.Option(
    "--pdf-dir", help="Folder of PDFs named <paper_id>.pdf ('/' as '_'): screened for the page limit and anonymity.")]
SingleBlind = Annotated[bool, typer.Option(
    "--single-blind", help="Submissions name their authors (single-blind review): skip the screen's anonymity "
                           "checks.")]

DEFAULT_OUT = Path("triage-out")


class _StderrHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        prefix = "Warning: " if record.levelno >= logging.WARNING else ""
        err.print(Text.assemble((prefix, "yellow"), shown(record.getMessage(), None)), highlight=False)


def _setup_logging() -> None:
    log = logging.getLogger("triage")
    if not any(isinstance(h, _StderrHandler) for h in log.handlers):
        log.addHandler(_StderrHandler())
    log.setLevel(logging.WARNING)


class _Terminated(BaseException):
    """SIGTERM arrived (a job scheduler's time limit, a container stop, ``kill``)."""


@contextlib.contextmanager
def _terminate_cleanly() -> Iterator[None]:
    """While the block runs, SIGTERM ends the command as Ctrl-C does: staged outputs are discarded and the
    embedding cache is kept."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: Any) -> None:
        raise _Terminated

    previous = signal.getsignal(signal.SIGTERM)
    if previous is signal.SIG_IGN:  # the parent asked for SIGTERM to be ignored: keep it so
        yield
        return
    signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


@contextlib.contextmanager
def _folder_locks(kwargs: dict[str, Any]) -> Iterator[None]:
    """Hold the locks of the folders a command writes into: ``--out``, ``--work``, and the folder of affinity's
    scores file (a folder named twice is locked once)."""
    from triage.workdir import folder_lock

    with contextlib.ExitStack() as stack:
        # First: when it is --work too, its leftovers are removed as well. '-' (standard output) writes no file.
        if kwargs.get("scores") is not None and str(kwargs["scores"]) != "-":
            scores = Path(kwargs["scores"])
            stack.enter_context(folder_lock(scores.parent, "-o", names=(scores.name,)))
        for key, option in (("out_dir", "-o"), ("work_dir", "--work")):
            if kwargs.get(key) is not None:
                stack.enter_context(folder_lock(kwargs[key], option))
        yield


def handle_errors(fn: F, *, writes: bool = True) -> F:
    """Turn :class:`TriageError` into ``Error: ...`` on stderr and exit 1; Ctrl-C into exit 130, SIGTERM 143.

    The command runs all-or-nothing: its outputs replace earlier ones only if it succeeds, and what
    it says on stdout ("wrote ...", "done") is said only then, so a failure at the last step never
    follows a report of success. A command that ``writes`` holds the lock of every folder it writes into
    (``--out``; for affinity ``--work`` and the scores file's folder) while it runs, so a second one on the
    same folder stops at once.
    """

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from triage.workdir import all_or_nothing

        _setup_logging()
        locked = _folder_locks(kwargs) if writes else contextlib.nullcontext()
        try:
            with out.capture() as said, _terminate_cleanly(), locked, all_or_nothing():
                result = fn(*args, **kwargs)
            out.file.write(said.get())
            out.file.flush()
            return result
        except TriageError as exc:
            err.print(f"Error: {shown(exc, None)}", markup=False, highlight=False)
            raise typer.Exit(1) from None
        except (KeyboardInterrupt, _Terminated) as exc:
            stopped = "Terminated" if isinstance(exc, _Terminated) else "Interrupted"
            err.print(f"{stopped}: no output was changed; the caches (embeddings, affinity table, LLM answers) are "
                      "kept, so a rerun resumes from them.", markup=False)
            raise typer.Exit(143 if isinstance(exc, _Terminated) else 130) from None

    return wrapper  # type: ignore[return-value]


def _progress_factory() -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    def factory(desc: str, total: int) -> tuple[Callable[[int], None], Callable[[], None]]:
        prog = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=err, transient=True, disable=not err.is_terminal)
        prog.start()
        task = prog.add_task(desc, total=total)
        return (lambda n: prog.advance(task, n)), prog.stop

    return factory


def _inputs(submissions: Path, publications: Path | None, reviewers: Path | None, conflicts: Path | None,
            encoding: str | None, keep_assignments: Path | None = None, compare_with: Path | None = None,
            bids: Path | None = None) -> Any:
    from triage.pipeline import Inputs

    return Inputs(submissions, publications, reviewers, conflicts, encoding, keep_assignments, compare_with, bids)


def _check_paths(**given: Path | None) -> None:
    """Options that name a file or a folder (``pdf_dir``: a folder): one line naming the option if it is not there."""
    for name, path in given.items():
        if path is None:
            continue
        option = "--" + name.replace("_", "-")
        if name.endswith("_dir"):
            if not path.is_dir():
                what = "is a file, not a folder" if path.exists() else "no such folder"
                raise InputError(f"{option} {path}: {what}; pass the folder that holds the files")
        elif not path.exists():
            raise InputError(f"{option} {path}: file not found; check the path")
        elif path.is_dir() and name != "bids":  # --bids takes openreview-expertise's bids folder too
            raise InputError(f"{option} {path}: is a folder, not a file; pass the file inside it")


def _check_page_limit(page_limit: int | None, pdf_dir: Path | None) -> None:
    """--page-limit counts the pages of the PDFs, so it needs --pdf-dir."""
    if page_limit is not None and pdf_dir is None:
        raise InputError(f"--page-limit {page_limit}: the pages are counted in the submissions' PDFs; pass their "
                         "folder with --pdf-dir")


def _echo_outputs(paths: list[Path]) -> None:
    for p in paths:
        out.print(f"wrote {p}", markup=False)


def _say_outdated(out_dir: Path) -> None:
    """After one stage ran on its own: name the later stages whose outputs still come from before it."""
    from triage.workdir import Workdir

    def listed(items: list[str]) -> str:  # 'a', 'a and b', 'a, b and c'
        return " and ".join(filter(None, [", ".join(items[:-1]), items[-1]]))

    late = list(Workdir(out_dir).outdated())
    if late:
        err.print(f"Note: the {listed(late)} outputs in {out_dir} were made from earlier results; run "
                  f"{listed([repr(f'triage {n}') for n in late])} again to bring them up to date",
                  markup=False, highlight=False)


# ---------------------------------------------------------------------------------------------
# Commands
# ---------------------------------------------------------------------------------------------
@app.command()
@handle_errors
def run(
    submissions: Submissions,
    publications: Publications = None,
    reviewers: Reviewers = None,
    conflicts: Conflicts = None,
    out_dir: OutDir = DEFAULT_OUT,
    model: Model = "default",
    allow_download: AllowDownload = False,
    batch_size: BatchSize = 32,
    use_keywords: UseKeywords = False,
    k: K = None,
    seed: Seed = 0,
    taxonomy: Taxonomy = "iclr",
    theory: Theory = "dl-theory",
    theory_threshold: TheoryThreshold = None,
    qualified_affinity: QualifiedAffinity = 0.55,
    top_k: TopK = 50,
    reviewer_top_k: ReviewerTopK = REVIEWER_TOP_K,
    all_pairs: AllPairs = False,
    aggregate: AggregateOpt = Aggregate.topk,
    lexical_weight: LexicalWeight = 0.5,
    recent: Recent = None,
    since: Since = None,
    per_paper: PerPaper = 3,
    max_load: MaxLoad = 6,
    min_load: MinLoad = 0,
    alternates: Alternates = 3,
    reserve: Reserve = None,
    min_senior: MinSenior = None,
    coauthor_slack: CoauthorSlack = 0.1,
    max_probability: MaxProbability = 1.0,
    bids: Bids = None,
    coauthor_years: CoauthorYears = 3,
    coauthor_frequent: CoauthorFrequent = 6,
    coauthor_max_authors: CoauthorMaxAuthors = 0,
    export_format: UploadFormats = None,
    encoding: Encoding = None,
    keep_assignments: KeepAssignments = None,
    compare_with: CompareWith = None,
    weak_threshold: WeakThreshold = None,
    pdf_dir: PdfDir = None,
    page_limit: PageLimit = None,
    single_blind: SingleBlind = False,
) -> None:
    """Run every stage: screen, embed, topics, match, summarize, export, report.

    Without --publications, reviewer matching is skipped (and said so).

    Example:
        triage run submissions.csv -p publications.csv -r reviewers.csv -o triage-out
    """
    _check_paths(bids=bids, compare_with=compare_with, pdf_dir=pdf_dir)
    _check_page_limit(page_limit, pdf_dir)
    from triage.pipeline import EmbedParams, RunOptions, run_all
    from triage.screen import ScreenParams
    from triage.taxonomy import TaxonomyParams
    from triage.topics import ClusterParams, SupplyParams

    options = RunOptions(
        embed=EmbedParams(model=model, batch_size=batch_size, allow_download=allow_download,
                          use_keywords=use_keywords),
        topics=ClusterParams(k=k, seed=seed),
        affinity=_affinity_params(top_k, reviewer_top_k, all_pairs, aggregate, lexical_weight, recent, since),
        conflicts=_conflict_params(coauthor_years, coauthor_frequent, coauthor_max_authors),
        assignment=_assign_params(per_paper, max_load, min_load, alternates, coauthor_slack, max_probability, seed,
                                  reserve, min_senior),
        export_formats=tuple(f.value for f in export_format or []),
        taxonomy=TaxonomyParams(taxonomy=taxonomy, theory=theory, theory_threshold=theory_threshold,
                                use_keywords=use_keywords),
        supply=SupplyParams(qualified_affinity=qualified_affinity),
        screen=ScreenParams(page_limit=page_limit, anonymous=not single_blind),
        pdf_dir=pdf_dir,
        **({} if weak_threshold is None else {"weak_threshold": weak_threshold}),
    )
    t0 = time.perf_counter()
    result = run_all(_inputs(submissions, publications, reviewers, conflicts, encoding, keep_assignments,
                             compare_with, bids),
                     out_dir, options,
                     progress=_progress_factory())
    for m in result.messages:  # warnings go where the other warnings go
        (err if m.startswith("Warning:") else out).print(m, markup=False, highlight=False)
    _echo_outputs(result.outputs)
    out.print(f"done in {time.perf_counter() - t0:.1f} s; open {result.outputs[-1]}", markup=False)


@app.command()
@handle_errors
def demo(
    out_dir: OutDir = DEFAULT_OUT,
    model: Model = "default",
    allow_download: AllowDownload = False,
    weak_threshold: WeakThreshold = None,
) -> None:
    """Run the whole pipeline on the bundled demo conference (data/demo/).

    Example:
        triage demo -o triage-out
    """
    from triage.resources import DEMO_DIR

    run(DEMO_DIR / "submissions.csv", publications=DEMO_DIR / "publications.csv",
        reviewers=DEMO_DIR / "reviewers.csv", conflicts=DEMO_DIR / "conflicts.csv", out_dir=out_dir,
        model=model, allow_download=allow_download, weak_threshold=weak_threshold)


@app.command()
@handle_errors
def screen(
    submissions: Submissions,
    out_dir: OutDir = DEFAULT_OUT,
    pdf_dir: ScreenPdfDir = None,
    page_limit: PageLimit = None,
    min_words: Annotated[int, typer.Option(
        "--min-words", min=1, help="An abstract with fewer words is flagged as short.")] = 30,
    single_blind: SingleBlind = False,
    encoding: Encoding = None,
) -> None:
    """Screen submissions for desk rejection (screen.csv): missing, placeholder or very short abstracts, PDFs over
    the page limit, author names, emails and self-citations that break anonymity.

    One row per finding, severity 'must' (breaks the call for papers) or 'should' (for the chair to look at).

    Example:
        triage screen submissions.csv --pdf-dir pdfs/ --page-limit 9 -o triage-out
    """
    _check_paths(pdf_dir=pdf_dir)
    _check_page_limit(page_limit, pdf_dir)
    from triage.pipeline import Workdir, load, run_screen, screen_note
    from triage.screen import ScreenParams

    inputs = _inputs(submissions, None, None, None, encoding)
    corpus = load(inputs)
    found = run_screen(corpus, Workdir(out_dir), ScreenParams(min_words=min_words, page_limit=page_limit,
                                                              anonymous=not single_blind),
                       pdf_dir=pdf_dir, inputs=inputs)
    out.print(f"screened {len(corpus.papers)} papers: {screen_note(found)}", markup=False)
    _echo_outputs([out_dir / "screen.csv"])
    _say_outdated(out_dir)


@app.command()
@handle_errors
def embed(
    submissions: Submissions,
    publications: Publications = None,
    reviewers: Reviewers = None,
    out_dir: OutDir = DEFAULT_OUT,
    model: Model = "default",
    allow_download: AllowDownload = False,
    batch_size: BatchSize = 32,
    use_keywords: UseKeywords = False,
    encoding: Encoding = None,
) -> None:
    """Embed submissions and reviewer publications (cached: only new texts are embedded).

    Example:
        triage embed submissions.csv -p publications.csv -o triage-out
    """
    from triage.pipeline import EmbedParams, Workdir, load, run_embed

    inputs = _inputs(submissions, publications, reviewers, None, encoding)
    emb = run_embed(load(inputs), Workdir(out_dir),
                    EmbedParams(model=model, batch_size=batch_size, allow_download=allow_download,
                                use_keywords=use_keywords), progress=_progress_factory(), inputs=inputs)
    for name, st in emb.stats.items():
        if name == "publications" and publications is None:
            continue  # none given: the folder's earlier vectors, if any, are kept
        out.print(f"embedded {st.embedded} new {name} text(s), {st.cached} from cache", markup=False)
    _echo_outputs([out_dir / "embeddings/papers.npy",
                   *([out_dir / "embeddings/publications.npy"] if publications is not None else [])])
    _say_outdated(out_dir)


@app.command()
@handle_errors
def topics(
    submissions: Submissions,
    publications: Publications = None,
    reviewers: Reviewers = None,
    out_dir: OutDir = DEFAULT_OUT,
    k: K = None,
    seed: ClusterSeed = 0,
    taxonomy: Taxonomy = "iclr",
    theory: Theory = "dl-theory",
    theory_threshold: TheoryThreshold = None,
    qualified_affinity: QualifiedAffinity = 0.55,
    per_paper: PerPaperAsBefore = None,
    max_load: MaxLoadAsBefore = None,
    model: ModelAsBefore = None,
    allow_download: AllowDownload = False,
    use_keywords: UseKeywordsAsBefore = None,
    encoding: Encoding = None,
    compare_with: CompareWith = None,
) -> None:
    """Cluster submissions into labelled topics, suggest venue areas and theory topics (topics.csv),
    and flag submissions that may be the same work (duplicates.csv).

    With --publications, also writes topic_supply.csv: per area and theory topic, the
    submissions, the qualified reviewers and the review slots needed vs available.

    Example:
        triage topics submissions.csv --taxonomy iclr --theory dl-theory -p publications.csv -o triage-out
    """
    _check_paths(compare_with=compare_with)
    from triage.pipeline import (
        Workdir,
        embed_params_as_before,
        load,
        load_compare,
        run_embed,
        run_supply,
        run_topics,
        supply_as_before,
    )
    from triage.taxonomy import TaxonomyParams, check_taxonomies
    from triage.topics import ClusterParams

    wd = Workdir(out_dir)
    embed_params, note = embed_params_as_before(wd, model=model, use_keywords=use_keywords,
                                                allow_download=allow_download)
    tax_params = TaxonomyParams(taxonomy=taxonomy, theory=theory, theory_threshold=theory_threshold,
                                use_keywords=embed_params.use_keywords)
    check_taxonomies(tax_params)
    inputs = _inputs(submissions, publications, reviewers, None, encoding, compare_with=compare_with)
    corpus, others = load(inputs), load_compare(inputs)
    if note:
        err.print(note, markup=False, highlight=False)  # before any error it leads to
    emb = run_embed(corpus, wd, embed_params, progress=_progress_factory(), inputs=inputs)
    notes: list[str] = []
    t = run_topics(corpus, emb, wd, ClusterParams(k=k, seed=seed), inputs=inputs, embed=embed_params,
                   taxonomy=tax_params, notes=notes, others=others)
    for note in notes:
        err.print(f"Warning: {note}", markup=False, highlight=False)
    supply = run_supply(corpus, emb, wd, t, supply_as_before(wd, qualified_affinity=qualified_affinity,
                                                             per_paper=per_paper, max_load=max_load))
    n_theory = int((t["theory_topic"] != "").sum())
    n_dup = int((t["possible_duplicates"] != "").sum())
    out.print(f"{t['cluster_id'].nunique()} clusters over {len(t)} papers; {int(t['area_mismatch'].sum())} area "
              f"mismatch(es); {n_theory} paper(s) with a theory topic; {n_dup} paper(s) that may duplicate another",
              markup=False)
    if supply is not None and supply["shortage"].any():
        out.print(f"{int(supply['shortage'].sum())} topic(s) short of qualified reviewers (see topic_supply.csv)",
                  markup=False)
    _echo_outputs([wd.path("topics.csv"), wd.path("duplicates.csv")]
                  + ([wd.path("topic_supply.csv")] if supply is not None else []))
    _say_outdated(out_dir)


@app.command()
@handle_errors
def match(
    submissions: Submissions,
    publications: Annotated[Path, typer.Option(
        "--publications", "-p", help="Reviewer publications: a file, or openreview-expertise's archives folder.")],
    reviewers: Reviewers = None,
    conflicts: Conflicts = None,
    out_dir: OutDir = DEFAULT_OUT,
    top_k: TopK = 50,
    reviewer_top_k: ReviewerTopK = REVIEWER_TOP_K,
    all_pairs: AllPairs = False,
    aggregate: AggregateOpt = Aggregate.topk,
    lexical_weight: LexicalWeight = 0.5,
    recent: Recent = None,
    since: Since = None,
    per_paper: PerPaper = 3,
    max_load: MaxLoad = 6,
    min_load: MinLoad = 0,
    alternates: Alternates = 3,
    reserve: Reserve = None,
    min_senior: MinSenior = None,
    coauthor_slack: CoauthorSlack = 0.1,
    max_probability: MaxProbability = 1.0,
    seed: DrawSeed = 0,
    bids: Bids = None,
    coauthor_years: CoauthorYears = 3,
    coauthor_frequent: CoauthorFrequent = 6,
    coauthor_max_authors: CoauthorMaxAuthors = 0,
    export_format: UploadFormats = None,
    model: ModelAsBefore = None,
    allow_download: AllowDownload = False,
    encoding: Encoding = None,
    keep_assignments: KeepAssignments = None,
) -> None:
    """Score reviewers against papers, find conflicts and assign reviewers under loads.

    Writes affinity.csv, conflicts.csv, assignments.csv, alternates.csv and reserve.csv; with
    --max-probability also assignment_probabilities.csv, with --keep-assignments changes.csv, and with
    --export-format the upload files for OpenReview, CMT, HotCRP or START.

    Example:
        triage match submissions.csv -p publications.csv -r reviewers.csv --per-paper 3 -o triage-out
    """
    _check_paths(bids=bids)
    from triage.assign import read_bids
    from triage.pipeline import Workdir, embed_params_as_before, load, run_embed, run_match

    inputs = _inputs(submissions, publications, reviewers, conflicts, encoding, keep_assignments, bids=bids)
    bid_table = read_bids(bids, encoding=encoding) if bids else None
    corpus, wd = load(inputs), Workdir(out_dir)
    embed_params, note = embed_params_as_before(wd, model=model, allow_download=allow_download)
    if note:
        err.print(note, markup=False, highlight=False)  # before any error it leads to
    emb = run_embed(corpus, wd, embed_params, progress=_progress_factory(), inputs=inputs)
    res = run_match(corpus, emb, wd,
                    affinity=_affinity_params(top_k, reviewer_top_k, all_pairs, aggregate, lexical_weight, recent,
                                              since),
                    conflicts=_conflict_params(coauthor_years, coauthor_frequent, coauthor_max_authors),
                    assignment=_assign_params(per_paper, max_load, min_load, alternates, coauthor_slack,
                                              max_probability, seed, reserve, min_senior),
                    inputs=inputs, bids=bid_table, export_formats=tuple(f.value for f in export_format or []))
    out.print(f"{len(res.conflicts)} conflict(s); {len(res.affinity)} scored pairs; total assigned affinity "
              f"{res.total_score:.2f}", markup=False)
    for line in [*res.changes, res.randomized_note(), res.coauthor_note(), res.reciprocal_note(), res.senior_note(),
                 res.bids_note(), res.reserve_note()]:
        if line:
            out.print(line, markup=False)
    _echo_outputs([wd.path(n) for n in res.outputs])
    _say_outdated(out_dir)


def _affinity_params(top_k: int, reviewer_top_k: int, all_pairs: bool, aggregate: Aggregate, lexical_weight: float,
                     recent: int | None, since: int | None) -> Any:
    from triage.match import AffinityParams

    return AffinityParams(top_k=None if all_pairs else top_k, reviewer_top_k=0 if all_pairs else reviewer_top_k,
                          aggregate=aggregate, lexical_weight=lexical_weight, recent=recent, since=since)


def _conflict_params(coauthor_years: int, coauthor_frequent: int, coauthor_max_authors: int) -> Any:
    from triage.conflicts import ConflictParams

    return ConflictParams(coauthor_years=coauthor_years, coauthor_frequent=coauthor_frequent or None,
                          coauthor_max_authors=coauthor_max_authors or None)


def _assign_params(per_paper: int, max_load: int, min_load: int, alternates: int, coauthor_slack: float,
                   max_probability: float = 1.0, seed: int = 0, reserve: int | None = None,
                   min_senior: int | None = None) -> Any:
    from triage.assign import AssignParams

    return AssignParams(per_paper=per_paper, max_load=max_load, min_load=min_load, alternates=alternates,
                        coauthor_slack=coauthor_slack, max_probability=max_probability, seed=seed,
                        reserve=reserve, min_senior=min_senior)


@app.command()
@handle_errors
def affinity(
    submissions: Submissions,
    publications: Annotated[Path, typer.Option(
        "--publications", "-p", help="Reviewer publications: a file, or openreview-expertise's archives folder.")],
    scores: Annotated[Path, typer.Option("--out", "-o", help="Scores file to write ('-': standard output).")
                      ] = Path("scores.csv"),
    reviewers: Reviewers = None,
    conflicts: Conflicts = None,
    top_k: TopK = 50,
    reviewer_top_k: ReviewerTopK = REVIEWER_TOP_K,
    all_pairs: AllPairs = False,
    aggregate: AggregateOpt = Aggregate.topk,
    lexical_weight: LexicalWeight = 0.5,
    recent: Recent = None,
    since: Since = None,
    coauthor_years: CoauthorYears = 3,
    coauthor_frequent: CoauthorFrequent = 6,
    coauthor_max_authors: CoauthorMaxAuthors = 0,
    keep_conflicts: Annotated[bool, typer.Option(
        "--keep-conflicts", help="Also score conflicted pairs (declared or detected); by default they are left out, "
                                 "as in 'triage match'.")] = False,
    fmt: Annotated[ScoresFormat, typer.Option(
        "--format", help="triage (header; paper_id, reviewer_id, score, evidence_id, evidence_title), "
                         "openreview (headerless paper,reviewer,score) or cmt (headerless paper,email,score).")
    ] = ScoresFormat.triage,
    work_dir: Annotated[Path, typer.Option("--work", help="Folder for the embedding cache and vectors.")] = DEFAULT_OUT,
    model: ModelAsBefore = None,
    allow_download: AllowDownload = False,
    encoding: Encoding = None,
) -> None:
    """Score reviewers against papers and write one row per pair with its evidence publication.

    The evidence is the reviewer's publication closest to the paper. Scores of one reviewer are
    comparable across papers. Conflicted pairs (declared with --conflicts, or detected as in
    'triage match': authors, shared domains, recent co-authors) are left out unless --keep-conflicts.

    Example:
        triage affinity submissions.csv -p publications.csv -o scores.csv --all-pairs
    """
    from triage.pipeline import Workdir, embed_params_as_before, load, run_affinity, run_embed

    to_stdout = str(scores) == "-"  # the scores go to stdout (a pipe), everything else to stderr
    if scores.is_dir() and not to_stdout:  # checked before any embedding
        raise InputError(f"--out {scores}: is a folder; affinity writes one file, e.g. -o {scores / 'scores.csv'}")
    inputs = _inputs(submissions, publications, reviewers, conflicts, encoding)
    corpus, wd = load(inputs), Workdir(work_dir)
    embed_params, note = embed_params_as_before(wd, model=model, allow_download=allow_download)
    if note:
        err.print(note, markup=False, highlight=False)  # before any error it leads to
    emb = run_embed(corpus, wd, embed_params, progress=_progress_factory(), inputs=inputs)
    aff, confl = run_affinity(corpus, emb, scores,
                              affinity=_affinity_params(top_k, reviewer_top_k, all_pairs, aggregate, lexical_weight,
                                                        recent, since),
                              conflicts=None if keep_conflicts else _conflict_params(
                                  coauthor_years, coauthor_frequent, coauthor_max_authors),
                              fmt=fmt.value)
    left_out = "" if keep_conflicts else f"; {len(confl)} conflict(s) found, their pairs left out"
    (err if to_stdout else out).print(f"{len(aff)} scored pairs ({aff['paper_id'].nunique()} papers, "
                                      f"{aff['reviewer_id'].nunique()} reviewers){left_out}", markup=False)
    if not to_stdout:
        _echo_outputs([scores])


@app.command()
@handle_errors
def summarize(
    submissions: Submissions,
    out_dir: OutDir = DEFAULT_OUT,
    max_claims: Annotated[int, typer.Option(min=1, help="Claim sentences per paper.")] = 3,
    max_results: Annotated[int, typer.Option(min=0, help="Result sentences per paper.")] = 2,
    centrality: Annotated[CentralityChoice, typer.Option(
        help="Sentence centrality: 'embedding' (cosine to the paper's vector; sentences are embedded once and "
             "cached) or 'tfidf' (no model).")] = CentralityChoice.embedding,
    assumptions: Annotated[Path | None, typer.Option(
        help="Assumption vocabulary (YAML: a 'labels:' mapping of label -> description, patterns); "
             "default data/assumptions.yaml.")] = None,
    pdf_dir: Annotated[Path | None, typer.Option(
        help="Folder of PDFs named <paper_id>.pdf ('/' as '_'): their introduction and conclusion are "
             "summarised with the abstract.")] = None,
    llm_url: Annotated[str | None, typer.Option(
        envvar="TRIAGE_LLM_URL",
        help="OpenAI-compatible server, e.g. http://127.0.0.1:8000/v1 (vLLM, llama.cpp server, a hosted API). "
             "Off by default: the summary is extractive.")] = None,
    llm_model: Annotated[str | None, typer.Option(envvar="TRIAGE_LLM_MODEL",
                                                  help="Model name sent to --llm-url.")] = None,
    llm_key_env: Annotated[str, typer.Option(
        help="Environment variable holding the API key for --llm-url (sent as a Bearer token).")]
        = DEFAULT_KEY_ENV,
    llm_timeout: Annotated[float, typer.Option(min=0.1, help="Seconds for each LLM request as a whole; "
                                                           "on timeout the paper keeps its extractive summary.")]
        = 60.0,
    prompt_dir: Annotated[Path | None, typer.Option(
        help="Folder with your own system.txt, tldr.txt, claims.txt, assumptions.txt (see prompts/README.md).")]
        = None,
    model: ModelAsBefore = None,
    allow_download: AllowDownload = False,
    encoding: Encoding = None,
) -> None:
    """Write claim cards: TL;DR, claims, results and theory assumptions with evidence (summaries.csv, .jsonl).

    Extractive by default (every sentence verbatim from the paper); --llm-url asks an LLM instead,
    falling back to the extractive summary per paper on errors.

    Example:
        triage summarize submissions.csv --pdf-dir pdfs/ -o triage-out
    """
    _check_paths(assumptions=assumptions, pdf_dir=pdf_dir, prompt_dir=prompt_dir)
    from triage.pipeline import LLMParams, SummarizeSources, Workdir, embed_params_as_before, load, run_summarize
    from triage.summarize import SummaryParams

    llm = None
    if llm_url or llm_model:
        if not (llm_url and llm_model):
            raise typer.BadParameter("give both --llm-url and --llm-model (or neither, for extractive summaries)")
        if not llm_url.startswith(("http://", "https://")):
            raise typer.BadParameter(f"--llm-url {llm_url}: must start with http:// or https://")
        llm = LLMParams(url=llm_url, model=llm_model, api_key_env=llm_key_env, timeout=llm_timeout)
    inputs = _inputs(submissions, None, None, None, encoding)
    wd = Workdir(out_dir)
    embed_params, note = embed_params_as_before(wd, model=model, allow_download=allow_download)
    if note and centrality is CentralityChoice.embedding:
        err.print(note, markup=False, highlight=False)  # before any error it leads to
    messages: list[str] = []
    s = run_summarize(load(inputs), wd, SummaryParams(max_claims=max_claims, max_results=max_results,
                                                      centrality=centrality.value),
                      inputs=inputs, embed=embed_params, llm=llm,
                      sources=SummarizeSources(pdf_dir=pdf_dir, assumptions=assumptions, prompt_dir=prompt_dir),
                      messages=messages)
    for m in messages:
        (err if m.startswith("Warning:") else out).print(m, markup=False, highlight=False)
    n_assume = int((s["assumptions"].map(len) > 0).sum()) if len(s) else 0
    out.print(f"summarised {len(s)} papers; assumptions found in {n_assume}", markup=False)
    _echo_outputs([wd.path("summaries.csv"), wd.path("summaries.jsonl")])
    _say_outdated(out_dir)


@app.command()
@handle_errors
def export(
    submissions: Submissions,
    reviewers: Reviewers = None,
    out_dir: OutDir = DEFAULT_OUT,
    fmt: Annotated[ExportFormat, typer.Option(
        "--format", "-f", help="csv: triage.csv; xlsx: also triage.xlsx with one sheet per table.")] = ExportFormat.csv,
    by: Annotated[SplitBy | None, typer.Option(
        "--by", help="Also write one file per area (or cluster) into by_area/ (by_cluster/) for area chairs.")] = None,
    weak_threshold: WeakThreshold = None,
    encoding: Encoding = None,
) -> None:
    """Write triage.csv (one row per paper: topic, area, summary, reviewers), optionally xlsx and per-area files.

    Example:
        triage export submissions.csv -r reviewers.csv --format xlsx --by area -o triage-out
    """
    from triage.pipeline import ExportParams, load, run_export, weak_threshold_as_before

    wd = _ran_folder(out_dir, "export")
    params = ExportParams(format=fmt, by=by, weak_threshold=weak_threshold_as_before(wd) if weak_threshold is None
                          else weak_threshold)
    inputs = _inputs(submissions, None, reviewers, None, encoding)
    res = run_export(load(inputs), wd, params, inputs=inputs)
    out.print(f"{len(res.table)} papers", markup=False)
    _echo_outputs(res.outputs)


def _ran_folder(out_dir: Path, command: str) -> Any:
    """The work folder of an earlier run, for commands that only read what the stages wrote."""
    from triage.workdir import MANIFEST, Workdir, damaged

    wd = Workdir(out_dir)
    if not out_dir.is_dir() or not wd.read_manifest()["stages"]:
        why = "its manifest.json is damaged, so no stage is on record" if damaged(wd.path(MANIFEST)) \
            else "no stage has run in this folder"
        raise InputError(f"{out_dir}: {why}, so there is nothing to {command}; run "
                         f"'triage run' (or 'triage topics', 'match', 'summarize') with -o {out_dir} first")
    return wd


@app.command()
@handle_errors
def report(
    submissions: Submissions,
    publications: Publications = None,
    reviewers: Reviewers = None,
    out_dir: OutDir = DEFAULT_OUT,
    weak_threshold: WeakThreshold = None,
    encoding: Encoding = None,
) -> None:
    """Write report.html, one self-contained file from the artifacts in the output folder.

    Pass the same --publications and --reviewers as the run to get reviewer names and counts.

    Example:
        triage report submissions.csv -p publications.csv -r reviewers.csv -o triage-out
    """
    from triage.pipeline import ExportParams, export_as_before, load, run_report, weak_threshold_as_before

    wd = _ran_folder(out_dir, "report")
    inputs = _inputs(submissions, publications, reviewers, None, encoding)
    corpus = load(inputs)
    weak = weak_threshold_as_before(wd) if weak_threshold is None else weak_threshold
    exported, note = export_as_before(corpus, wd, ExportParams(weak_threshold=weak), inputs=inputs)
    if note:
        out.print(note, markup=False)
    _echo_outputs([*exported.outputs, run_report(corpus, wd, weak_threshold=weak, inputs=inputs)])


@app.command()
@functools.partial(handle_errors, writes=False)
def status(
    out_dir: OutDir = DEFAULT_OUT,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Show which stages have run in an output folder, when, and with which parameters.

    Example:
        triage status -o triage-out --json
    """
    from triage.pipeline import flat_params
    from triage.workdir import STAGE_ORDER, Workdir

    if not out_dir.is_dir():
        raise InputError(f"{out_dir}: no such folder; pass the output folder of a run with -o")
    wd = Workdir(out_dir)
    manifest = wd.read_manifest()
    late = wd.outdated() if manifest["stages"] else {}
    gone = wd.missing_reads() if manifest["stages"] else {}  # tables a stage read that another makes, missing now
    missing = {stage: [o for o in rec.get("outputs", []) if not wd.exists(o)]
               for stage, rec in manifest["stages"].items()}
    if as_json:
        # Each stage's record, plus what the plain listing says of it: outputs missing, inputs changed since.
        for stage, rec in manifest["stages"].items():
            lost = gone.get(stage, {})
            rec["state"] = {"ok": not missing[stage] and stage not in late, "missing": missing[stage],
                            "changed_since": [n for n in late.get(stage, []) if n not in lost],
                            "missing_reads": lost}  # read from another stage, deleted since: name -> that stage
        out.print(json.dumps(manifest, indent=2, sort_keys=True), markup=False)
        return
    if not manifest["stages"]:
        from triage.workdir import MANIFEST, damaged

        said = "its manifest.json is damaged, so no stage is on record" if damaged(wd.path(MANIFEST)) \
            else "no stage has run yet"
        out.print(f"{out_dir}: {said}", markup=False)
        return
    rank = {name: i for i, name in enumerate(STAGE_ORDER)}
    stages = sorted(manifest["stages"].items(), key=lambda kv: rank.get(kv[0], len(rank)))
    for stage, rec in stages:
        lost = gone.get(stage, {})
        changed = [name for name in late.get(stage, []) if name not in lost]
        problems = [f"out of date: {', '.join(changed)} changed since"] if changed else []
        problems += [f"{name} is missing" for name in lost]
        problems += [f"missing {', '.join(missing[stage])}"] if missing[stage] else []
        makers = " and ".join(f"'triage {m}'" for m in sorted(set(lost.values()), key=lambda m: rank.get(m, len(rank))))
        again = f"run {makers} again, then 'triage {stage}'" if makers else f"run 'triage {stage}' again"
        state = "; ".join(problems) + f"; {again}" if problems else "ok"
        out.print(f"{stage:10s} {rec.get('time', '')}  {state}", markup=False)
        params = flat_params(rec.get("params") or {})
        if params:
            out.print("           " + " ".join(params), markup=False, highlight=False)


def version_callback(value: bool) -> None:
    if value:
        out.print(f"triage {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=version_callback, is_eager=True,
                                          help="Show the version and exit.")] = False,
) -> None:
    """Paper-review triage for conference chairs."""


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
