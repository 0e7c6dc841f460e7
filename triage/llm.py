"""An optional LLM summarizer over the OpenAI-compatible chat-completions protocol.

Works with anything that serves ``POST <url>/chat/completions`` (vLLM, llama.cpp server, a hosted
API). Only the standard library is used. Prompts are files in ``prompts/`` with ``$placeholders``.

The model must answer in JSON and cite sentence indices as evidence. Items that cite nothing or
cite a sentence the paper does not have, items without text or with more than ``MAX_ITEM_CHARS``
of it, and assumption labels outside the vocabulary are dropped and counted. On any error for
a paper (HTTP error, timeout, invalid JSON, wrong shape) that paper keeps its extractive summary,
marked ``extractive (fallback: <reason>)``. After ``max_consecutive_errors`` failures of the
server in a row (no connection, timeouts, HTTP errors) it is not asked again.
Answers are cached on disk by (server, model, prompts, text) so a rerun asks nothing twice.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import json
import logging
import re
import string
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triage.choices import DEFAULT_KEY_ENV
from triage.errors import InputError, OutputError, TriageError
from triage.summarize import SPLIT_VERSION, PaperText, Summary, SummaryStats, Vocabulary
from triage.workdir import cache_unwritable, write_text

log = logging.getLogger("triage")

PROMPT_NAMES = ("system", "tldr", "claims", "assumptions")
PLACEHOLDERS = {"title", "sentences", "n_sentences", "vocabulary", "max_claims", "max_results"}
# What each prompt must show the model: the paper's numbered sentences, and for assumptions the labels.
REQUIRED = {"tldr": ("sentences",), "claims": ("sentences",), "assumptions": ("sentences", "vocabulary")}
REQUIRED_WHY = {"sentences": "the paper", "vocabulary": "the labels it may give"}
MAX_RESPONSE_BYTES = 4 * 2**20  # a chat-completions answer of a few items is a few kB
RATE_LIMIT_RETRIES = 3  # HTTP 429: tries again, waiting what Retry-After asks (at most MAX_RETRY_WAIT s)
MAX_RETRY_WAIT = 20.0
MAX_ITEM_CHARS = 1000  # a TL;DR, claim or result is one sentence; longer answers are dropped


class LLMError(TriageError):
    """A request to the LLM server failed; ``reason`` is a short tag for the counts.

    ``server`` marks failures of the server rather than of one answer (no connection, timeout, an
    HTTP error, a redirect): a few in a row and the server is not asked again. ``retry_after`` is
    the wait an HTTP 429 asked for, in seconds."""

    def __init__(self, reason: str, detail: str = "", *, server: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.server = server
        self.retry_after = retry_after


# ---------------------------------------------------------------------------------------------
# Prompts
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Prompt:
    """A ``string.Template`` prompt read from a file; unknown or missing placeholders are errors."""

    name: str
    path: Path
    text: str

    @classmethod
    def from_file(cls, path: Path) -> Prompt:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"{path}: cannot read the prompt ({exc.strerror}); pass another --prompt-dir") from None
        except UnicodeDecodeError as exc:
            raise InputError(f"{path}: not UTF-8 (byte 0x{exc.object[exc.start]:02x} at position {exc.start}); "
                             "re-save it as UTF-8") from None
        used = {m.group("named") or m.group("braced") for m in string.Template.pattern.finditer(text)
                if m.group("named") or m.group("braced")}
        unknown = sorted(used - PLACEHOLDERS)
        if unknown:
            raise InputError(f"{path}: unknown placeholder ${unknown[0]}; valid ones are "
                             f"{', '.join('$' + p for p in sorted(PLACEHOLDERS))} (write $$ for a literal $)")
        if not text.strip():
            raise InputError(f"{path}: the prompt is empty; write one, or remove the file to use the bundled one")
        missing = [p for p in REQUIRED.get(Path(path).stem, ()) if p not in used]
        if missing:
            raise InputError(f"{path}: no ${missing[0]}, so the model would not see {REQUIRED_WHY[missing[0]]}; "
                             f"add ${missing[0]} where it goes (see prompts/README.md)")
        return cls(Path(path).stem, Path(path), text)

    def render(self, **values: Any) -> str:
        try:
            return string.Template(self.text).substitute(**values)
        except KeyError as exc:
            raise InputError(f"{self.path}: placeholder ${exc.args[0]} has no value here") from None
        except ValueError as exc:
            raise InputError(f"{self.path}: bad placeholder ({exc}); write $$ for a literal $") from None

    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()


def load_prompts(prompt_dir: Path | None = None) -> dict[str, Prompt]:
    """The prompts by name: from ``prompt_dir`` when it has the file, else the packaged ``prompts/``.

    Overriding some of the prompts is the usual case and is quiet; a ``.txt`` file in ``prompt_dir``
    that is no prompt's name (``claim.txt``), or a folder with none of them, is a warning."""
    from triage.resources import PROMPTS_DIR

    out = {}
    for name in PROMPT_NAMES:
        path = PROMPTS_DIR / f"{name}.txt"
        if prompt_dir is not None and (Path(prompt_dir) / f"{name}.txt").exists():
            path = Path(prompt_dir) / f"{name}.txt"
        out[name] = Prompt.from_file(path)
    if prompt_dir is not None:
        names = ", ".join(f"{n}.txt" for n in PROMPT_NAMES)
        unused = sorted(p.name for p in Path(prompt_dir).glob("*.txt") if p.stem not in PROMPT_NAMES)
        if unused:
            log.warning("--prompt-dir %s: %s not used (the prompts are %s)", prompt_dir, ", ".join(unused), names)
        elif all(p.path.parent != Path(prompt_dir) for p in out.values()):
            log.warning("--prompt-dir %s has none of %s; the bundled prompts are used", prompt_dir, names)
    return out


# ---------------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------------
class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are reported, not followed: urllib would send the POST again as a GET without its body."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (a number of seconds or an HTTP date), else None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def _server_message(exc: urllib.error.HTTPError) -> str:
    """The error message of an HTTP error's JSON body (``{"error": {"message": ...}}``), one line, short."""
    try:
        err = json.loads(exc.read(4096)).get("error")
    except (OSError, ValueError, AttributeError, RecursionError, http.client.HTTPException):
        return ""
    msg = err.get("message") if isinstance(err, dict) else err
    return " ".join(msg.split())[:200] if isinstance(msg, str) else ""


@dataclass
class ChatClient:
    """Minimal OpenAI-compatible chat-completions client (``urllib``, JSON in and out).

    ``timeout`` bounds each request as a whole (connecting, waiting, reading, and the waits an
    HTTP 429 asks for); answers over ``MAX_RESPONSE_BYTES`` are refused. ``key_env`` names the
    variable ``api_key`` came from, for the message on HTTP 401 and 403."""

    url: str
    model: str
    api_key: str | None = None
    timeout: float = 60.0
    temperature: float = 0.0
    max_tokens: int = 800
    key_env: str = DEFAULT_KEY_ENV

    @property
    def endpoint(self) -> str:
        u = self.url.rstrip("/")
        return u if u.endswith("/chat/completions") else f"{u}/chat/completions"

    def complete(self, messages: list[dict[str, str]]) -> str:
        body = json.dumps({"model": self.model, "messages": messages, "temperature": self.temperature,
                           "max_tokens": self.max_tokens, "response_format": {"type": "json_object"}}).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        req = urllib.request.Request(self.endpoint, data=body, headers=headers, method="POST")
        deadline = time.monotonic() + self.timeout
        for attempt in range(RATE_LIMIT_RETRIES + 1):
            try:
                raw = self._post(req, deadline)
                break
            except LLMError as exc:
                if exc.reason != "HTTP 429" or attempt == RATE_LIMIT_RETRIES:
                    raise
                wait = min(exc.retry_after if exc.retry_after is not None else 2.0 ** attempt, MAX_RETRY_WAIT)
                if time.monotonic() + wait >= deadline:
                    raise
                time.sleep(wait)
        try:
            data = json.loads(raw)
            content = data["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError, RecursionError):  # nested too deep to read
            raise LLMError("bad response", "not a chat-completions answer") from None
        if not isinstance(content, str):
            raise LLMError("bad response", "message content is not text")
        return content

    def _timeout(self) -> LLMError:
        return LLMError("timeout", f"no complete answer within {self.timeout:g} s (--llm-timeout)", server=True)

    def _post(self, req: urllib.request.Request, deadline: float) -> bytes:
        """The response body, or LLMError; a server that answers slowly (even a byte at a time) is given up on
        at ``deadline``, its request left to end in the background."""
        box: dict[str, Any] = {}

        def fetch() -> None:
            try:
                box["raw"] = self._fetch(req, deadline)
            except Exception as exc:  # handed to the caller's thread
                box["error"] = exc

        worker = threading.Thread(target=fetch, name="triage-llm-request", daemon=True)
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if "error" in box:
            raise box["error"]
        if "raw" not in box:
            raise self._timeout()
        return box["raw"]

    def _fetch(self, req: urllib.request.Request, deadline: float) -> bytes:
        opener = urllib.request.build_opener(_NoRedirect)
        try:
            with opener.open(req, timeout=self.timeout) as resp:
                chunks, size = [], 0
                while chunk := resp.read1(65536):
                    size += len(chunk)
                    if size > MAX_RESPONSE_BYTES:
                        raise LLMError("answer too large", f"over {MAX_RESPONSE_BYTES // 2**20} MB")
                    if time.monotonic() > deadline:
                        raise self._timeout()
                    chunks.append(chunk)
                return b"".join(chunks)
        except urllib.error.HTTPError as exc:
            raise self._http_error(exc) from None
        except TimeoutError:
            raise self._timeout() from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._timeout() from None
            raise LLMError("connection error", str(exc.reason), server=True) from None
        except (OSError, http.client.HTTPException) as exc:
            raise LLMError("connection error", str(exc) or type(exc).__name__, server=True) from None

    def _http_error(self, exc: urllib.error.HTTPError) -> LLMError:
        code, where = exc.code, self.endpoint
        if code in (301, 302, 303, 307, 308):
            target = urllib.parse.urljoin(where, exc.headers.get("Location", ""))
            return LLMError("redirect", f"the server redirects {where} to {target}; pass that URL as --llm-url",
                            server=True)
        said = _server_message(exc)
        detail = f"{where} answered HTTP {code}" + (f" ({said})" if said else "")
        if code in (401, 403):
            hint = (f"check the API key in ${self.key_env} (--llm-key-env)" if self.api_key
                    else f"no API key was sent: set ${self.key_env} or pass --llm-key-env")
        elif code == 404:
            hint = "check --llm-url (the server's base URL, e.g. http://127.0.0.1:8000/v1) and --llm-model"
        elif code == 429:
            hint = "rate limited; asked again while --llm-timeout allowed (raise it, or ask less often)"
        elif code >= 500:
            hint = "the server failed"
        else:
            hint = "check --llm-url and --llm-model"
        return LLMError(f"HTTP {code}", f"{detail}; {hint}", server=True,
                        retry_after=_retry_after(exc.headers.get("Retry-After")) if code == 429 else None)


def parse_json_answer(content: str) -> dict[str, Any]:
    """The JSON object in a model answer (tolerates ```json fences and text around the object)."""
    s = content.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", s, re.DOTALL)
    if fence:
        s = fence.group(1).strip()
    try:
        obj = json.loads(s)
    except RecursionError:  # nested too deep to read ("[[[[..."): a model repeating itself
        obj = None
    except ValueError:
        a, b = s.find("{"), s.rfind("}")
        try:
            obj = json.loads(s[a:b + 1]) if 0 <= a < b else None
        except (ValueError, RecursionError):
            obj = None
    if not isinstance(obj, dict):
        raise LLMError("invalid JSON")
    return obj


# ---------------------------------------------------------------------------------------------
# Summarizer
# ---------------------------------------------------------------------------------------------
def _count(dropped: dict[str, int], reason: str) -> None:
    dropped[reason] = dropped.get(reason, 0) + 1


def _index(i: Any) -> Any:
    """A sentence index as an int (a float such as 1.0 counts as 1); anything else unchanged."""
    return int(i) if isinstance(i, float) and i.is_integer() else i


def _evidence(item: dict[str, Any], n: int, dropped: dict[str, int]) -> list[int] | None:
    ev = item.get("evidence", item.get("sentences"))
    if isinstance(ev, (int, float)) and not isinstance(ev, bool):
        ev = [ev]
    if not isinstance(ev, list) or not ev:
        _count(dropped, "cites no sentence")
        return None
    ev = [_index(i) for i in ev]
    if not all(isinstance(i, int) and not isinstance(i, bool) for i in ev) or any(i < 0 or i >= n for i in ev):
        _count(dropped, "cites a missing sentence")
        return None
    return sorted(set(ev))


def _text(item: dict[str, Any], dropped: dict[str, int]) -> str | None:
    """The item's text on one line (a model may wrap it), or None (counted) when it is not a non-empty string of at
    most ``MAX_ITEM_CHARS``."""
    text = item.get("text")
    if not isinstance(text, str) or not text.strip():
        _count(dropped, "no text")
        return None
    text = " ".join(text.split())
    if len(text) > MAX_ITEM_CHARS:
        _count(dropped, f"text over {MAX_ITEM_CHARS} characters")
        return None
    return text


def _items(obj: dict[str, Any], key: str) -> list[dict[str, Any]]:
    v = obj.get(key, [])
    if isinstance(v, dict):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise LLMError("wrong answer shape", f"'{key}' is not a list of objects")
    return v


@dataclass
class LLMSummarizer:
    """Asks the model for the TL;DR, claims/results and assumptions of each paper."""

    client: ChatClient
    vocab: Vocabulary
    prompts: dict[str, Prompt]
    stats: SummaryStats = field(default_factory=SummaryStats)
    cache_dir: Path | None = None
    max_claims: int = 3
    max_results: int = 2
    max_consecutive_errors: int = 3
    _server_errors: int = 0
    _warned: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return f"llm:{self.client.model}"

    def config_sha256(self) -> str:
        # the server too: llama.cpp and vLLM servers of other models may answer to the same model name
        blob = json.dumps({"model": self.client.model, "url": self.client.url.rstrip("/"),
                           "prompts": {k: p.sha256() for k, p in self.prompts.items()},
                           "vocab": self.vocab.sha256, "max": [self.max_claims, self.max_results],
                           "split": SPLIT_VERSION}, sort_keys=True)  # answers cite sentences by number
        return hashlib.sha256(blob.encode()).hexdigest()

    def _ask(self, prompt: str, values: dict[str, Any]) -> dict[str, Any]:
        messages = [{"role": "system", "content": self.prompts["system"].render(**values)},
                    {"role": "user", "content": self.prompts[prompt].render(**values)}]
        return parse_json_answer(self.client.complete(messages))

    def _cache_path(self, text: PaperText) -> Path | None:
        if self.cache_dir is None:
            return None
        key = hashlib.sha256(f"{self.config_sha256()}\x00{text.sha256()}".encode()).hexdigest()
        return Path(self.cache_dir) / key[:2] / f"{key}.json"

    def _fallback(self, fallback: Summary, reason: str) -> Summary:
        self.stats.fallbacks[reason] = self.stats.fallbacks.get(reason, 0) + 1
        fallback.summarizer = f"extractive (fallback: {reason})"
        return fallback

    def summarize(self, text: PaperText, fallback: Summary) -> Summary:
        cache = self._cache_path(text)
        answers: dict[str, dict[str, Any]] | None = None
        if cache is not None and cache.exists():
            try:
                answers = json.loads(cache.read_text(encoding="utf-8"))
                self.stats.cached += 1
            except (OSError, ValueError):
                answers = None
        n = len(text.sentences)
        values = {"title": text.sentences[0] if text.n_title else "",
                  "sentences": "\n".join(f"[{i}] {s}" for i, s in enumerate(text.sentences)),
                  "n_sentences": n, "max_claims": self.max_claims, "max_results": self.max_results,
                  "vocabulary": "\n".join(f"- {k}: {d}" for k, d in self.vocab.descriptions.items())}
        try:
            if answers is None:
                if self._server_errors >= self.max_consecutive_errors:
                    return self._fallback(fallback, f"not asked after {self.max_consecutive_errors} server errors")
                answers = {name: self._ask(name, values) for name in ("tldr", "claims", "assumptions")}
                self._server_errors = 0
            out, unusable = self._build(answers, n)
        except LLMError as exc:
            self._server_failed(exc)
            return self._fallback(fallback, exc.reason)
        if cache is not None and not cache.exists():
            try:
                write_text(cache, json.dumps(answers, sort_keys=True))
            except OutputError as exc:  # a full disk costs the next run's requests, not this run's cards
                cache_unwritable(Path(self.cache_dir or "."), exc, "the next run asks the LLM again")
        if not (out.tldr or out.claims or out.results or out.assumptions):
            return self._fallback(fallback, "no usable item")
        for key in unusable:  # a section the model gave nothing usable for keeps the extractive one
            setattr(out, key, getattr(fallback, key))
            out.evidence[key] = fallback.evidence.get(key, {} if key == "assumptions" else [])
            self.stats.partial[key] = self.stats.partial.get(key, 0) + 1
        if unusable:
            out.summarizer = f"{self.name} (extractive: {', '.join(unusable)})"
            self.stats.partial_papers += 1
        return out

    def _server_failed(self, exc: LLMError) -> None:
        """Counts server failures in a row; the first of each kind is a warning, and so is giving up."""
        self._server_errors = self._server_errors + 1 if exc.server else 0
        if exc.server and exc.reason not in self._warned:
            self._warned.add(exc.reason)
            log.warning("LLM %s: %s", self.client.model, exc)
        if self._server_errors == self.max_consecutive_errors:
            log.warning("LLM %s: %d papers in a row failed (%s); the remaining papers are not sent and keep "
                        "their extractive cards", self.client.model, self._server_errors, exc.reason)

    def _build(self, answers: dict[str, dict[str, Any]], n: int) -> tuple[Summary, list[str]]:
        """The model's summary, and the sections it gave nothing usable for: no TL;DR, or a list left out of
        the answer or whose items were all dropped (an empty list is an answer: no results, no assumption)."""
        dropped = self.stats.dropped
        s = Summary(summarizer=self.name)
        tl = _items(answers["tldr"], "tldr")
        ev: dict[str, Any] = {"tldr": [], "claims": [], "results": [], "assumptions": {}}
        for item in tl[:1]:
            e = _evidence(item, n, dropped)
            t = _text(item, dropped) if e is not None else None
            if t is not None:
                s.tldr, ev["tldr"] = t, e
        unusable = [] if s.tldr else ["tldr"]
        for key, limit in (("claims", self.max_claims), ("results", self.max_results)):
            items = _items(answers["claims"], key)[:limit]
            for item in items:
                e = _evidence(item, n, dropped)
                t = _text(item, dropped) if e is not None else None
                if t is not None:
                    getattr(s, key).append(t)
                    ev[key].append(e)
            if not ev[key] and (items or key not in answers["claims"]):
                unusable.append(key)
        items = _items(answers["assumptions"], "assumptions")
        for item in items:
            label = item.get("label")
            if not isinstance(label, str) or label not in self.vocab.labels:
                _count(dropped, "unknown assumption label")
                continue
            e = _evidence(item, n, dropped)
            if e is not None and label not in ev["assumptions"]:
                ev["assumptions"][label] = e
        if not ev["assumptions"] and (items or "assumptions" not in answers["assumptions"]):
            unusable.append("assumptions")
        order = list(self.vocab.labels)
        ev["assumptions"] = dict(sorted(ev["assumptions"].items(), key=lambda kv: order.index(kv[0])))
        s.assumptions = list(ev["assumptions"])
        s.evidence = ev
        return s, unusable
