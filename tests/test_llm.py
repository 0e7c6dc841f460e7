"""The LLM backend against a small OpenAI-compatible server on 127.0.0.1 that gives canned answers.

The paper's title picks the server's behaviour: a good answer, answers citing nothing or a missing
sentence, an unknown label, invalid JSON, a timeout or an HTTP error.
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pandas as pd
import pytest
from typer.testing import CliRunner

from triage.cli import app
from triage.errors import InputError
from triage.llm import ChatClient, LLMSummarizer, Prompt, load_prompts, parse_json_answer
from triage.summarize import SummaryParams, SummaryStats, load_vocabulary, summarize_papers

ABSTRACT = ("We study two-layer neural networks trained by gradient flow. "
            "We prove that with small initialization the network learns a sparse feature. "
            "Our bound improves the sample complexity from $O(d^3)$ to $O(d \\log d)$. "
            "Experiments on synthetic data confirm the theory.")


def answer(kind: str, prompt: str) -> str:
    if kind == "badjson":
        return "Sure! Here are the claims: claims = [first, second"
    if kind == "linebreaks" and prompt == "claims":  # a model that wraps its lines
        return json.dumps({"claims": [{"text": "We prove that a sparse\nfeature is learned.", "evidence": [2]},
                                      {"text": "We study  two-layer\r\n  networks.", "evidence": [1]}],
                           "results": [{"text": "Sample complexity\nO(d log d).", "evidence": [3]}]})
    if kind == "deepjson":  # a model stuck repeating "[" until its last token, then closing them all
        return '{"claims": ' + "[" * 5000 + "]" * 5000 + "}"
    if kind == "malformed":  # texts that are no text or far too long, labels that are no string, float indices
        return json.dumps({"tldr": {"tldr": {"text": None, "evidence": [2]}},
                           "claims": {"claims": [{"text": 5, "evidence": [1]}, {"text": ["We prove"], "evidence": [1]},
                                                 {"text": " ", "evidence": [1]}],
                                      "results": [{"text": "x" * 5000, "evidence": [3]},
                                                  {"text": "Sample complexity O(d log d).", "evidence": [3.0]}]},
                           "assumptions": {"assumptions": [{"label": ["two-layer"], "evidence": [1]},
                                                           {"label": {"x": 1}, "evidence": [1]},
                                                           {"label": "two-layer", "evidence": 1.0}]}}[prompt])
    if kind == "alldropped":  # every item cites nothing or has an unknown label
        return json.dumps({"tldr": {"tldr": {"text": "A TL;DR.", "evidence": []}},
                           "claims": {"claims": [{"text": "A claim."}], "results": [{"text": "A result."}]},
                           "assumptions": {"assumptions": [{"label": "spherical-cows", "evidence": [1]}]}}[prompt])
    if kind == "nolists" and prompt != "tldr":  # no results and no assumption: answers, not failures
        return json.dumps({"claims": {"claims": [{"text": "We prove a sparse feature is learned.", "evidence": [2]}],
                                      "results": []},
                           "assumptions": {"assumptions": []}}[prompt])
    if prompt == "tldr":
        ev = {"good": [2], "nocite": [], "missing": [42]}.get(kind, [2])
        return json.dumps({"tldr": {"text": "Small initialization makes two-layer nets learn sparse features.",
                                    "evidence": ev}})
    if prompt == "claims":
        if kind == "nocite":
            return json.dumps({"claims": [{"text": "A claim without evidence."}],
                               "results": [{"text": "A result citing nothing.", "evidence": []}]})
        if kind == "missing":
            return json.dumps({"claims": [{"text": "We prove it.", "evidence": [2, 99]}],
                               "results": [{"text": "Bound improves.", "evidence": [3]}]})
        return "```json\n" + json.dumps({"claims": [{"text": "We prove a sparse feature is learned.", "evidence": [2]}],
                                         "results": [{"text": "Sample complexity O(d log d).", "evidence": [3]}]}
                                        ) + "\n```"
    labels = [{"label": "two-layer", "evidence": [1]}, {"label": "small-step-size", "evidence": [1]},
              {"label": "special-initialization", "evidence": [2]}]
    if kind == "unknown":
        labels.append({"label": "spherical-cows", "evidence": [1]})
    return json.dumps({"assumptions": labels})


KINDS = ("nocite", "missing", "badjson", "slow", "trickle", "huge", "http500", "http401", "http404", "http429once",
         "http429long", "redirect", "unknown", "malformed", "alldropped", "nolists", "deepjson", "deepbody",
         "deep502", "linebreaks")
ERRORS = {"http500": 500, "deep502": 502, "http401": 401, "http404": 404, "http429once": 429, "http429long": 429,
          "redirect": 307}


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append({"path": self.path, "auth": self.headers.get("Authorization"),  # type: ignore
                                     "body": body, "time": time.monotonic()})
        user = body["messages"][-1]["content"]
        title = user.split("\n", 1)[0]
        kind = next((k for k in KINDS if k.upper() in title), "good")
        prompt = ("assumptions" if "assumptions or settings" in user else
                  "tldr" if "TL;DR" in user else "claims")
        tries = self.server.tries  # type: ignore[attr-defined]
        tries[title] = tries.get(title, 0) + 1
        if kind in ERRORS and not (kind == "http429once" and tries[title] > 1):
            self.send_response(ERRORS[kind])
            if kind.startswith("http429"):
                self.send_header("Retry-After", "1" if kind == "http429once" else "3600")
            if kind == "redirect":
                self.send_header("Location", "/v2/chat/completions")
            self.end_headers()
            if kind == "http404":
                self.wfile.write(json.dumps({"error": {"message": "The model `test-model`\ndoes not exist."}}).encode())
            if kind == "deep502":  # an error page that is no JSON the server's message can be read from
                self.wfile.write(b"[" * 3000 + b"]" * 3000)
            return
        if kind == "slow":
            time.sleep(1.5)
        content = "x" * 5_000_000 if kind == "huge" else answer(kind, prompt)
        data = json.dumps({"id": "x", "object": "chat.completion", "model": body["model"],
                           "choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}).encode()
        if kind == "deepbody":
            data = b"[" * 5000 + b"]" * 5000
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if kind == "trickle":  # one byte every 0.1 s: each read is quick, the whole answer takes a minute
                for b in data:
                    self.wfile.write(bytes([b]))
                    time.sleep(0.1)
            else:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    httpd.requests = []  # type: ignore[attr-defined]
    httpd.tries = {}  # type: ignore[attr-defined]
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def url(httpd) -> str:
    return f"http://127.0.0.1:{httpd.server_address[1]}/v1"


def papers(*kinds: str) -> pd.DataFrame:
    return pd.DataFrame({"paper_id": [f"p{i}" for i in range(len(kinds))],
                         "title": [f"{k.upper()} paper on features" for k in kinds],
                         "abstract": [ABSTRACT] * len(kinds)})


def run(httpd, df, tmp_path=None, timeout=5.0, api_key="sekret"):
    stats = SummaryStats()
    vocab = load_vocabulary()
    client = ChatClient(url(httpd), "test-model", api_key=api_key, timeout=timeout)
    llm = LLMSummarizer(client, vocab, load_prompts(), stats=stats, cache_dir=tmp_path)
    out = summarize_papers(df, params=SummaryParams(centrality="tfidf"), vocab=vocab, summarizer=llm, stats=stats)
    return out.set_index("paper_id"), stats


def test_good_answer_is_used_with_evidence(server):
    out, stats = run(server, papers("good"))
    r = out.loc["p0"]
    assert r.summarizer == "llm:test-model"
    assert r.claims == ["We prove a sparse feature is learned."] and r.results == ["Sample complexity O(d log d)."]
    assert r.assumptions == ["small-step-size", "special-initialization", "two-layer"]  # vocabulary order
    assert r.evidence["claims"] == [[2]] and r.evidence["assumptions"]["two-layer"] == [1]
    assert stats.fallbacks == {} and stats.dropped == {}
    req = server.requests[0]
    assert req["path"] == "/v1/chat/completions" and req["auth"] == "Bearer sekret"
    assert req["body"]["model"] == "test-model" and req["body"]["messages"][0]["role"] == "system"
    assert "[0] GOOD paper on features" in req["body"]["messages"][1]["content"]


def test_an_answer_cache_that_cannot_be_written_costs_only_the_caching(server, tmp_path, caplog):
    cache = tmp_path / "llm"
    cache.write_text("not a folder", encoding="utf-8")
    with caplog.at_level("WARNING", logger="triage"):
        out, stats = run(server, papers("good", "good"), tmp_path=cache)
    assert (out["summarizer"] == "llm:test-model").all()
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and said[0].startswith(f"{cache}: is a file, not a folder, so the cache cannot be kept"), said


def test_items_citing_nothing_or_missing_sentences_are_dropped_and_counted(server):
    out, stats = run(server, papers("nocite", "missing", "unknown"))
    nocite, missing, unknown = out.loc["p0"], out.loc["p1"], out.loc["p2"]
    assert nocite.tldr and nocite.tldr in ABSTRACT  # the dropped TL;DR is replaced by the extractive one
    assert nocite.claims and all(c in ABSTRACT for c in nocite.claims + nocite.results)  # and so are the lists
    assert nocite.summarizer == "llm:test-model (extractive: tldr, claims, results)"
    assert missing.claims and all(c in ABSTRACT for c in missing.claims) and missing.results == ["Bound improves."]
    assert missing.evidence["results"] == [[3]] and missing.evidence["claims"] and missing.evidence["tldr"]
    assert missing.summarizer == "llm:test-model (extractive: tldr, claims)"
    assert unknown.assumptions == ["small-step-size", "special-initialization", "two-layer"]
    assert unknown.summarizer == "llm:test-model"
    assert stats.dropped == {"cites no sentence": 3, "cites a missing sentence": 2, "unknown assumption label": 1}
    assert stats.fallbacks == {} and stats.partial_papers == 2
    assert stats.partial == {"tldr": 2, "claims": 2, "results": 1}


def test_an_answer_with_nothing_usable_is_a_fallback(server):
    out, stats = run(server, papers("alldropped", "nolists"))
    none, nolists = out.loc["p0"], out.loc["p1"]
    assert none.summarizer == "extractive (fallback: no usable item)"
    assert none.claims and all(c in ABSTRACT for c in [none.tldr, *none.claims, *none.results])
    assert stats.fallbacks == {"no usable item": 1}
    assert nolists.summarizer == "llm:test-model" and nolists.results == [] and nolists.assumptions == []


def test_malformed_items_are_dropped_and_counted(server):
    out, stats = run(server, papers("malformed"))
    r = out.loc["p0"]
    assert r.results == ["Sample complexity O(d log d)."] and r.evidence["results"] == [[3]]
    assert r.assumptions == ["two-layer"] and r.evidence["assumptions"] == {"two-layer": [1]}
    assert r.tldr in ABSTRACT  # the model's TL;DR had no text: the extractive one is kept
    assert r.summarizer == "llm:test-model (extractive: tldr, claims)"
    assert stats.dropped == {"no text": 4, "text over 1000 characters": 1, "unknown assumption label": 2}
    assert stats.fallbacks == {}


@pytest.mark.parametrize(("kind", "reason"), [("badjson", "invalid JSON"), ("slow", "timeout"),
                                              ("http500", "HTTP 500"), ("deepjson", "invalid JSON"),
                                              ("deepbody", "bad response"), ("deep502", "HTTP 502")])
def test_errors_fall_back_to_extractive_per_paper(server, kind, reason):
    out, stats = run(server, papers(kind, "good"), timeout=0.5)
    bad, good = out.loc["p0"], out.loc["p1"]
    assert bad.summarizer == f"extractive (fallback: {reason})"
    assert bad.tldr in ABSTRACT and all(c in ABSTRACT for c in bad.claims + bad.results)
    assert good.summarizer == "llm:test-model"
    assert stats.fallbacks == {reason: 1}


def test_answers_are_cached(server, tmp_path):
    run(server, papers("good"), tmp_path)
    n = len(server.requests)
    assert n == 3  # tldr, claims, assumptions
    out, stats = run(server, papers("good"), tmp_path)
    assert len(server.requests) == n and stats.cached == 1
    assert out.loc["p0"].summarizer == "llm:test-model"
    # Sentences split another way would give the cached answers' sentence numbers another meaning.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("triage.llm.SPLIT_VERSION", -1)
        run(server, papers("good"), tmp_path)
    assert len(server.requests) == 2 * n


def test_a_cached_answer_is_the_servers_that_gave_it():
    """Two servers may answer to one model name (llama.cpp's 'default'): the second is asked, not given the first's
    answers."""
    vocab = load_vocabulary()
    one, other = (LLMSummarizer(ChatClient(url, "default"), vocab, load_prompts())
                  for url in ("http://127.0.0.1:8080/v1", "http://127.0.0.1:8081/v1"))
    assert one.config_sha256() != other.config_sha256()
    again = LLMSummarizer(ChatClient("http://127.0.0.1:8080/v1/", "default"), vocab, load_prompts())
    assert again.config_sha256() == one.config_sha256()  # the same server, written with a trailing '/'


def test_unreachable_server_stops_being_asked():
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens on this port now
    stats = SummaryStats()
    vocab = load_vocabulary()
    llm = LLMSummarizer(ChatClient(f"http://127.0.0.1:{port}/v1", "m", timeout=2), vocab, load_prompts(),
                        stats=stats)
    out = summarize_papers(papers(*["good"] * 5), params=SummaryParams(centrality="tfidf"), vocab=vocab,
                           summarizer=llm, stats=stats)
    assert stats.fallbacks == {"connection error": 3, "not asked after 3 server errors": 2}
    assert out["tldr"].map(lambda t: t in ABSTRACT).all()


def test_a_trickling_answer_times_out_as_a_whole(server):
    start = time.monotonic()
    out, stats = run(server, papers("trickle", "good"), timeout=1.0)
    assert time.monotonic() - start < 20  # the trickled answer alone takes over 30 s
    assert stats.fallbacks == {"timeout": 1} and out.loc["p1"].summarizer == "llm:test-model"


def test_a_huge_answer_is_refused(server):
    out, stats = run(server, papers("huge", "good"))
    assert stats.fallbacks == {"answer too large": 1} and out.loc["p0"].tldr in ABSTRACT


def test_timeouts_and_server_errors_in_a_row_stop_the_asking(server, caplog):
    import logging

    with caplog.at_level(logging.WARNING, logger="triage"):
        out, stats = run(server, papers("slow", "http500", "slow", "good", "good"), timeout=0.5)
    assert stats.fallbacks == {"timeout": 2, "HTTP 500": 1, "not asked after 3 server errors": 2}
    assert len(server.requests) == 3 and out["tldr"].map(lambda t: t in ABSTRACT).all()
    assert "LLM test-model: 3 papers in a row failed (timeout); the remaining papers are not sent" in caplog.text
    assert caplog.text.count("no complete answer within 0.5 s (--llm-timeout)") == 1  # each kind said once


def test_an_answer_resets_the_count_of_server_errors(server):
    _, stats = run(server, papers("http500", "http500", "good", "http500", "http500", "good"))
    assert stats.fallbacks == {"HTTP 500": 4}


@pytest.mark.parametrize(("kind", "api_key", "said"), [
    ("http401", None, "answered HTTP 401; no API key was sent: set $TRIAGE_LLM_API_KEY or pass --llm-key-env"),
    ("http401", "sekret", "answered HTTP 401; check the API key in $TRIAGE_LLM_API_KEY (--llm-key-env)"),
    ("http404", "sekret", "answered HTTP 404 (The model `test-model` does not exist.); check --llm-url (the "
                          "server's base URL, e.g. http://127.0.0.1:8000/v1) and --llm-model"),
    ("http500", "sekret", "answered HTTP 500; the server failed"),
    ("http429long", "sekret", "answered HTTP 429; rate limited"),
])
def test_http_errors_say_their_status_and_the_fix(server, caplog, kind, api_key, said):
    import logging

    with caplog.at_level(logging.WARNING, logger="triage"):
        out, stats = run(server, papers(kind, kind), api_key=api_key)
    code = said.split("HTTP ")[1][:3]
    assert out.loc["p0"].summarizer == f"extractive (fallback: HTTP {code})"
    assert stats.fallbacks == {f"HTTP {code}": 2}
    assert f"LLM test-model: HTTP {code}: {url(server)}/chat/completions {said}" in caplog.text
    assert caplog.text.count(said) == 1


def test_rate_limit_waits_as_asked_and_asks_again(server):
    out, stats = run(server, papers("http429once"))
    assert out.loc["p0"].summarizer == "llm:test-model" and stats.fallbacks == {}
    first, again = server.requests[:2]
    assert len(server.requests) == 4 and again["time"] - first["time"] >= 0.9  # Retry-After: 1


def test_rate_limit_longer_than_the_timeout_is_not_waited_for(server):
    start = time.monotonic()
    _, stats = run(server, papers("http429long"), timeout=5.0)
    assert stats.fallbacks == {"HTTP 429": 1} and len(server.requests) == 1
    assert time.monotonic() - start < 20  # Retry-After asked for an hour


def test_cli_redirect_is_one_line_naming_the_url_to_pass(server, tmp_path):
    sub = tmp_path / "subs.csv"
    papers("redirect", "redirect", "redirect", "redirect").to_csv(sub, index=False)
    res = CliRunner().invoke(app, ["summarize", str(sub), "-o", str(tmp_path / "out"), "--centrality", "tfidf",
                                   "--llm-url", url(server), "--llm-model", "test-model"])
    assert res.exit_code == 0, res.output
    target = f"http://127.0.0.1:{server.server_address[1]}/v2/chat/completions"
    line = f"the server redirects {url(server)}/chat/completions to {target}; pass that URL as --llm-url"
    assert res.stderr.count(line) == 1 and len(server.requests) == 3


@pytest.mark.parametrize(("value", "said"), [(None, "not set"), ("", "empty")])
def test_cli_warns_when_the_key_variable_is_unset_or_empty(server, tmp_path, monkeypatch, value, said):
    monkeypatch.delenv("TRIAGE_TEST_LLM_KEY", raising=False)
    if value is not None:
        monkeypatch.setenv("TRIAGE_TEST_LLM_KEY", value)
    sub = tmp_path / "subs.csv"
    papers("good").to_csv(sub, index=False)
    res = CliRunner().invoke(app, ["summarize", str(sub), "-o", str(tmp_path / "out"), "--centrality", "tfidf",
                                   "--llm-url", url(server), "--llm-model", "test-model",
                                   "--llm-key-env", "TRIAGE_TEST_LLM_KEY"])
    assert res.exit_code == 0, res.output
    assert f"Warning: $TRIAGE_TEST_LLM_KEY (--llm-key-env) is {said}; no API key is sent to {url(server)}" \
        in res.stderr
    assert server.requests[0]["auth"] is None


def test_parse_json_answer():
    assert parse_json_answer('```json\n{"a": 1}\n```') == {"a": 1}
    assert parse_json_answer('Here you go: {"a": [1, 2]} hope it helps') == {"a": [1, 2]}
    with pytest.raises(Exception, match="invalid JSON"):
        parse_json_answer("[1, 2]")


def test_prompt_placeholders(tmp_path):
    p = tmp_path / "claims.txt"
    p.write_text("Title: $title, cost $$5\n$sentences", encoding="utf-8")
    assert Prompt.from_file(p).render(title="T", sentences="[0] T") == "Title: T, cost $5\n[0] T"
    p.write_text("Title: $titel", encoding="utf-8")
    with pytest.raises(InputError, match=r"claims.txt: unknown placeholder \$titel; valid ones are"):
        Prompt.from_file(p)
    p.write_text("Title: $title $vocabulary $sentences", encoding="utf-8")
    with pytest.raises(InputError, match=r"placeholder \$vocabulary has no value"):
        Prompt.from_file(p).render(title="T", sentences="[0] T")


@pytest.mark.parametrize(("name", "text", "message"), [
    ("tldr.txt", "Give a TL;DR of $title as JSON.", r"tldr.txt: no \$sentences, so the model would not see the paper"),
    ("claims.txt", "", r"claims.txt: the prompt is empty"),
    ("assumptions.txt", "Paper: $title\n$sentences\nLabels?", r"assumptions.txt: no \$vocabulary, so the model"),
    ("claims.txt", "Paper: $title\n$sentences\nCaf\xe9 claims?", r"claims.txt: not UTF-8 \(byte 0xe9 at position 28\); "
                                                                  "re-save it as UTF-8"),
])
def test_prompt_that_cannot_show_the_paper_is_refused(tmp_path, name, text, message):
    p = tmp_path / name
    p.write_bytes(text.encode("latin-1"))
    with pytest.raises(InputError, match=message):
        Prompt.from_file(p)
    with pytest.raises(InputError, match=message):
        load_prompts(tmp_path)


def test_cli_prompt_not_utf8_is_one_line(tmp_path):
    sub = tmp_path / "subs.csv"
    papers("good").to_csv(sub, index=False)
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "tldr.txt").write_bytes("R\xe9sum\xe9 of $title:\n$sentences".encode("latin-1"))
    res = CliRunner().invoke(app, ["summarize", str(sub), "-o", str(tmp_path / "out"), "--centrality", "tfidf",
                                   "--llm-url", "http://127.0.0.1:9/v1", "--llm-model", "m",
                                   "--prompt-dir", str(tmp_path / "prompts")])
    assert res.exit_code == 1 and "tldr.txt: not UTF-8" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "summaries.csv").exists()


def test_prompt_dir_overrides_one_file(tmp_path, caplog):
    import logging

    (tmp_path / "tldr.txt").write_text("One line for $title, please. JSON.\n$sentences", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="triage"):
        prompts = load_prompts(tmp_path)
    assert prompts["tldr"].path == tmp_path / "tldr.txt"
    assert prompts["claims"].path.parent.name == "prompts"
    assert caplog.text == ""  # the other prompts come from the bundled ones, as documented
    (tmp_path / "claim.txt").write_text("Claims of $title:\n$sentences", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="triage"):
        load_prompts(tmp_path)
    assert f"--prompt-dir {tmp_path}: claim.txt not used (the prompts are system.txt, tldr.txt" in caplog.text


def test_prompt_dir_without_any_prompt_warns(tmp_path, caplog):
    import logging

    with caplog.at_level(logging.WARNING, logger="triage"):
        prompts = load_prompts(tmp_path)
    assert all(p.path.parent.name == "prompts" for p in prompts.values())
    assert f"--prompt-dir {tmp_path} has none of system.txt, tldr.txt, claims.txt, assumptions.txt" in caplog.text


def test_cli_summarize_when_the_llm_answers_nothing_warns(tmp_path):
    sub = tmp_path / "subs.csv"
    papers("good", "nocite").to_csv(sub, index=False)
    res = CliRunner().invoke(app, ["summarize", str(sub), "-o", str(tmp_path / "out"), "--centrality", "tfidf",
                                   "--llm-url", "http://127.0.0.1:9/v1", "--llm-model", "m", "--llm-timeout", "2"])
    assert res.exit_code == 0, res.output  # every card falls back to the extractive one
    said = res.stderr.replace("\n", " ")
    assert "Warning: LLM m: 0 of 2 papers answered" in said and "check --llm-url and --llm-model" in said


def test_cli_summarize_with_llm(server, tmp_path):
    sub = tmp_path / "subs.csv"
    papers("good", "badjson", "nocite").to_csv(sub, index=False)
    res = CliRunner().invoke(app, ["summarize", str(sub), "-o", str(tmp_path / "out"), "--centrality", "tfidf",
                                   "--llm-url", url(server), "--llm-model", "test-model", "--llm-timeout", "5"])
    assert res.exit_code == 0, res.output
    said = res.output.replace("\n", " ")
    assert "2 of 3 papers answered (0 from cache), 1 of them in part (extractive tldr: 1, claims: 1, results: 1)" \
        in said
    assert "invalid JSON: 1" in said and "cites no sentence: 3" in said
    rows = [json.loads(line) for line in (tmp_path / "out" / "summaries.jsonl").read_text().splitlines()]
    assert [r["summarizer"] for r in rows] == ["llm:test-model", "extractive (fallback: invalid JSON)",
                                               "llm:test-model (extractive: tldr, claims, results)"]
    csv = pd.read_csv(tmp_path / "out" / "summaries.csv", keep_default_na=False)
    assert list(csv.columns) == ["paper_id", "tldr", "claims", "results", "assumptions", "evidence", "summarizer",
                                 "text_sha256", "prompt_sha256"]


def test_cli_an_item_the_model_wraps_is_one_line_in_both_summary_files(server, tmp_path):
    sub = tmp_path / "subs.csv"
    papers("linebreaks").to_csv(sub, index=False)
    res = CliRunner().invoke(app, ["summarize", str(sub), "-o", str(tmp_path / "out"), "--centrality", "tfidf",
                                   "--llm-url", url(server), "--llm-model", "test-model"])
    assert res.exit_code == 0, res.output
    row = json.loads((tmp_path / "out" / "summaries.jsonl").read_text())
    assert row["claims"] == ["We prove that a sparse feature is learned.", "We study two-layer networks."]
    assert row["results"] == ["Sample complexity O(d log d)."]
    csv = pd.read_csv(tmp_path / "out" / "summaries.csv", keep_default_na=False)
    assert csv.loc[0, "claims"].split("\n") == row["claims"] and csv.loc[0, "results"].split("\n") == row["results"]


@pytest.mark.parametrize(("extra", "message"), [
    (["--llm-url", "http://127.0.0.1:9/v1"], "give both --llm-url and --llm-model"),
    (["--llm-url", "127.0.0.1:9", "--llm-model", "m"], "must start with http:// or https://"),
])
def test_cli_llm_usage_errors(tmp_path, extra, message):
    sub = tmp_path / "subs.csv"
    papers("good").to_csv(sub, index=False)
    res = CliRunner().invoke(app, ["summarize", str(sub), "-o", str(tmp_path / "out"), *extra])
    assert res.exit_code == 1 and message in res.output and len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "summaries.csv").exists()
