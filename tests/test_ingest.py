from __future__ import annotations

import gzip
import json
import logging
import os
import re
import sys

import pandas as pd
import pytest

from triage.errors import InputError
from triage.ingest import load_corpus, parse_list, read_conflicts, read_papers, read_publications, read_reviewers
from triage.workdir import sha256_file


def write(tmp_path, name, text, mode="w"):
    p = tmp_path / name
    if mode == "wb":
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def test_csv_with_aliases_and_lists(tmp_path):
    p = write(tmp_path, "s.csv", 'id,Title,Abstract,keywords,authors\n'
                                 'a1,T one,"Abs one, with comma",ntk; double descent,"[""A B"", ""C D""]"\n')
    df = read_papers(p)
    assert df.loc[0, "paper_id"] == "a1"
    assert df.loc[0, "keywords"] == ["ntk", "double descent"]
    assert df.loc[0, "authors"] == ["A B", "C D"]


def test_tsv_and_bom_and_crlf(tmp_path):
    p = write(tmp_path, "s.tsv", b"\xef\xbb\xbfpaper_id\ttitle\tabstract\r\nx\tT\tA a\r\n", mode="wb")
    df = read_papers(p)
    assert list(df["paper_id"]) == ["x"]
    assert df.loc[0, "abstract"] == "A a"


def test_openreview_json_v1_and_v2(tmp_path, caplog):
    notes = [
        {"id": "n1", "content": {"title": {"value": "V2 title"}, "abstract": {"value": "v2 abs"},
                                 "keywords": {"value": ["x", None, "y"]}}},
        {"id": "n2", "content": {"title": "V1 title", "abstract": "v1 abs", "authors": ["P Q"]}},
    ]
    p = write(tmp_path, "notes.json", json.dumps(notes))
    with caplog.at_level(logging.WARNING, logger="triage"):
        df = read_papers(p)
    assert list(df["title"]) == ["V2 title", "V1 title"]
    assert df.loc[0, "keywords"] == ["x", "y"]
    assert "mixes OpenReview API v1" in caplog.text


def test_the_iclr_2023_area_question_is_the_primary_area(tmp_path):
    key = "Please_choose_the_closest_area_that_your_submission_falls_into"  # the 2023 form's field, API v1
    notes = [{"id": "n1", "content": {"title": "T", "abstract": "A", key: "Generative models"}}]
    papers = read_papers(write(tmp_path, "notes.json", json.dumps(notes)))
    assert papers["primary_area"].tolist() == ["Generative models"]


def test_several_author_areas_are_one_list_however_written(tmp_path):
    rows = [["a", "learning theory"], ["b", '["learning theory", "optimization"]'],
            ["c", "learning theory; optimization"], ["d", "learning on graphs and other geometries &amp; topologies"],
            ["e", "learning theory\noptimization"], ["f", "N/A"], ["g", ""],
            ["h", "['learning theory', 'optimization']"]]  # a list column pandas wrote to CSV
    subs = pd.DataFrame([[i, "T", "abstract", a] for i, a in rows], columns=["paper_id", "title", "abstract",
                                                                            "primary_area"])
    subs.to_csv(tmp_path / "subs.csv", index=False)
    assert read_papers(tmp_path / "subs.csv")["primary_area"].tolist() == [
        "learning theory", "learning theory; optimization", "learning theory; optimization",
        "learning on graphs and other geometries & topologies", "learning theory; optimization", "", "",
        "learning theory; optimization"]
    # A cell nested too deep to read as a list is one (unknown) area, not a traceback.
    deep = pd.DataFrame({"paper_id": ["a"], "title": ["T"], "abstract": ["A"], "primary_area": ["[" * 100_000]})
    deep.to_csv(tmp_path / "deep.csv", index=False)
    assert read_papers(tmp_path / "deep.csv")["primary_area"][0] == "[" * 100_000
    # An area's name holds commas: a comma splits nothing.
    probabilistic = "probabilistic methods (Bayesian methods, variational inference, sampling, UQ, etc.)"
    notes = [{"id": "n1", "content": {"title": "T", "abstract": "A", "primary_area": {"value": [probabilistic,
                                                                                               "optimization"]}}},
             {"id": "n2", "content": {"title": "T", "abstract": "A", "primary_area": {"value": probabilistic}}}]
    papers = read_papers(write(tmp_path, "notes.json", json.dumps(notes)))
    assert papers["primary_area"].tolist() == [f"{probabilistic}; optimization", probabilistic]


def test_jsonl(tmp_path):
    p = write(tmp_path, "s.jsonl", '{"paper_id": "1", "title": "t", "abstract": "a"}\n\n'
                                   '{"paper_id": "2", "title": "u", "abstract": "b"}\n')
    assert list(read_papers(p)["paper_id"]) == ["1", "2"]


@pytest.mark.parametrize("content,needle", [
    ("", "file is empty"),
    ("paper_id,title,abstract\n", "header but no rows"),
    ("title,abstract\nT,A\n", "missing column 'paper_id'"),
    ("paper_id,title,abstract\n1,T,A\n1,U,B\n", "duplicate paper_id '1' in row 2 and row 3"),
    ("paper_id,title,abstract\n1,,\n", "row 2 (paper_id '1') has neither title nor abstract"),
])
def test_bad_papers(tmp_path, content, needle):
    p = write(tmp_path, "bad.csv", content)
    with pytest.raises(InputError) as e:
        read_papers(p)
    assert needle in str(e.value)
    assert str(p) in str(e.value)


def test_latin1_suggests_encoding(tmp_path):
    p = write(tmp_path, "l.csv", "paper_id,title,abstract\n1,Caf\xe9,x y\n".encode("latin-1"), mode="wb")
    with pytest.raises(InputError, match="--encoding latin-1"):
        read_papers(p)
    assert read_papers(p, encoding="latin-1").loc[0, "title"] == "Café"


def test_parse_list_variants():
    assert parse_list("a; b;;c") == ["a", "b", "c"]
    assert parse_list('["a", null, "b"]') == ["a", "b"]
    assert parse_list(None) == []
    assert parse_list(float("nan")) == []
    assert parse_list("[" * 5000 + "]" * 5000) == []  # a keywords or domains cell nested too deep to read as JSON


def test_cmt_author_names_lose_affiliation_and_contact_star():
    from triage.ingest import parse_authors

    assert parse_authors("Jane Doe (MIT)*; John Smith (Univ. of X); Wei (David) Zhang*; (Anonymous)") == [
        "Jane Doe", "John Smith", "Wei (David) Zhang", "(Anonymous)"]
    assert parse_authors("Jane Doe (Max Planck (MPI-IS))*; John Smith (MIT; CSAIL)") == ["Jane Doe", "John Smith"]
    # A bracket that never closes (a cut affiliation) does not swallow the authors after it.
    assert parse_authors("Jane Doe (Univ. of X; John Smith (CMU)*") == ["Jane Doe (Univ. of X", "John Smith"]


def test_publications_reviewers_conflicts(tmp_path, caplog):
    s = write(tmp_path, "s.csv", "paper_id,title,abstract\np1,T,A\n")
    pubs = write(tmp_path, "p.csv", "reviewer_id,title,abstract,year\nr1,T,A,2020\nr9,T2,A2,2021\n")
    revs = write(tmp_path, "r.csv", "reviewer_id,name,max_load\nr1,Ann Lee,4\nr2,Bo Li,\n")
    conf = write(tmp_path, "c.csv", "p1,r1,-1\np1,zz,-1\n")
    with caplog.at_level(logging.WARNING, logger="triage"):
        c = load_corpus(s, publications=pubs, reviewers=revs, conflicts=conf)
    assert list(c.publications["reviewer_id"]) == ["r1"]
    assert "not in" in caplog.text and "no publications" in caplog.text and "unknown" in caplog.text
    assert list(c.conflicts["reviewer_id"]) == ["r1"]
    assert c.reviewers["max_load"].tolist()[0] == 4


def test_bad_load_and_year(tmp_path):
    r = write(tmp_path, "r.csv", "reviewer_id,max_load\nr1,lots\n")
    with pytest.raises(InputError, match="row 2 column 'max_load'"):
        read_reviewers(r)
    p = write(tmp_path, "p.csv", "reviewer_id,title,year\nr1,T,soon\n")
    with pytest.raises(InputError, match="column 'year'"):
        read_publications(p)
    c = write(tmp_path, "c.csv", "paper,user\n,r1\n")
    with pytest.raises(InputError, match="empty paper_id"):
        read_conflicts(c)




@pytest.mark.parametrize("load", ["1e30", "99999999999999999999999"])
def test_a_load_too_large_for_any_integer_names_its_row(tmp_path, load):
    """A max_load or min_load of 30 digits is an error naming the row, not a traceback from the integer cast."""
    for col in ("max_load", "min_load"):
        r = write(tmp_path, "r.csv", f"reviewer_id,{col}\nr1,2\nr2,{load}\n")
        with pytest.raises(InputError, match=f"row 3 column '{col}' is '{load}'; use a whole number from 0 to"):
            read_reviewers(r)

@pytest.mark.parametrize("year", ["2023.5", "inf", "1e30", "-5"])
def test_a_year_that_is_no_whole_year_names_its_row(tmp_path, year):
    """A year of a half, infinity or 30 digits is an error naming the row, not a traceback from the integer cast."""
    p = write(tmp_path, "p.csv", f"reviewer_id,title,year\nr1,T,2020\nr1,T2,{year}\n")
    with pytest.raises(InputError, match=f"row 3 column 'year' is '{year}', not a year"):
        read_publications(p)


def test_a_json_null_year_is_no_year(tmp_path):
    """OpenReview and pandas write a missing year as null: read as empty, as a blank cell is."""
    p = write(tmp_path, "p.json", json.dumps([{"reviewer_id": "r1", "title": "T", "year": None},
                                              {"reviewer_id": "r1", "title": "T2", "year": 2021}]))
    assert read_publications(p)["year"].tolist() == [pd.NA, 2021]

def test_keywords_are_embedded_only_when_asked_and_before_the_abstract(tmp_path, real_embedder):
    from triage.ingest import paper_texts

    long_abstract = " ".join(["We study a method and report results on several benchmarks."] * 40)
    p = write(tmp_path, "s.csv", "paper_id,title,abstract,keywords\n"
                                 f'a,A title,"{long_abstract}",neural tangent kernel; double descent\n'
                                 'b,No keywords,"Short abstract.",\n')
    df = read_papers(p)
    plain = paper_texts(df)
    assert plain == [f"A title. {long_abstract}", "No keywords. Short abstract."]
    with_kw = paper_texts(df, use_keywords=True)
    assert with_kw[1] == plain[1]
    assert with_kw[0] == f"A title. Keywords: neural tangent kernel, double descent. {long_abstract}"
    # The model reads the first 256 word pieces: keywords after a long abstract would not be read at all.
    limit = real_embedder.model.max_seq_length
    pieces = real_embedder.model.tokenizer(with_kw[0], truncation=True, max_length=limit)["input_ids"]
    assert "tangent" in real_embedder.model.tokenizer.decode(pieces)


def test_cmt_contact_star_leaves_the_author_emails(tmp_path):
    s = write(tmp_path, "s.tsv", "Paper ID\tPaper Title\tAbstract\tAuthor Emails\tDomains\n"
                                 "1\tT\tA\tjane.doe@gmail.com*; raj@mit.edu\tstanford.edu;ethz.ch\n")
    papers = read_papers(s)
    assert papers.at[0, "authorids"] == ["jane.doe@gmail.com", "raj@mit.edu"]
    assert papers.at[0, "domains"] == ["stanford.edu", "ethz.ch"]  # the conflict domains the authors declared


def test_cmt_reviewer_names_are_joined_from_their_parts(tmp_path):
    r = write(tmp_path, "Reviewers.txt", "First Name\tMiddle Initial (optional)\tLast Name\tE-mail\tOrganization\n"
                                         "Jane\tA.\tDoe\tjane@cs.mit.edu\tMIT\nRaj\t\tPatel\traj@gmail.com\tX\n")
    rev = read_reviewers(r)
    assert rev["name"].tolist() == ["Jane A. Doe", "Raj Patel"]
    assert rev["reviewer_id"].tolist() == ["jane@cs.mit.edu", "raj@gmail.com"]


def test_cmt_submissions_without_a_file_are_left_out_once_papers_are_due(tmp_path):
    from triage.ingest import read_submissions

    head = "Paper ID\tPaper Title\tAbstract\tStatus\tNumber of Files\n"
    rows = [f"{i}\tT{i}\tA{i}\t{'Withdrawn' if i == 3 else 'Awaiting Decision'}\t{0 if i == 2 else 1 + i % 2}\n"
            for i in range(1, 11)]  # nine in ten have a file: the paper deadline has passed
    papers, excluded = read_submissions(write(tmp_path, "s.tsv", head + "".join(rows)))
    assert papers["paper_id"].tolist() == ["1", *map(str, range(4, 11))]
    assert excluded["reason"].tolist() == ["Number of Files: 0 (no paper uploaded)", "Status: Withdrawn"]
    # Abstracts registered, papers not due yet (a few early uploads): none is left out for want of a file.
    s = write(tmp_path, "r.tsv", head + "".join(f"{i}\tT{i}\tA{i}\tAwaiting Decision\t{int(i <= 3)}\n"
                                                for i in range(1, 6)))
    assert read_submissions(s)[0]["paper_id"].tolist() == ["1", "2", "3", "4", "5"]  # 3 of 5 with a file


def test_a_file_given_in_another_files_place_is_named_with_the_fix(tmp_path):
    subs = write(tmp_path, "Papers.csv", "Paper ID,Paper Title,Abstract\n1,T,A\n")
    revs = write(tmp_path, "Reviewers.txt", "First Name\tLast Name\tE-mail\nAnn\tLee\tann@x.org\n")
    conf = write(tmp_path, "c.csv", "paper_id,reviewer_id,reason\n1,r1,declared\n")
    with pytest.raises(InputError, match=r"Reviewers.txt: missing column 'paper_id' .*; it looks like a reviewers "
                                         r"file: pass it as --reviewers \(-r\), and the submissions file as the first"):
        read_papers(revs)
    with pytest.raises(InputError, match=r"it looks like a submissions file: pass it as the first argument, and the "
                                         r"reviewers file as --reviewers \(-r\)"):
        read_reviewers(subs)
    with pytest.raises(InputError, match=r"it looks like a reviewers file: pass it as --reviewers \(-r\), and the "
                                         r"publications file as --publications \(-p\)"):
        read_publications(revs)
    with pytest.raises(InputError, match=r"c.csv: missing columns 'title' and 'abstract' .*it looks like a conflicts "
                                         r"file: pass it as --conflicts \(-c\)"):
        read_papers(conf)
    with pytest.raises(InputError, match=r"missing column 'paper_id' .*; rename the id column"):  # no other kind
        read_papers(write(tmp_path, "s.csv", "number,title,abstract\n1,T,A\n"))
    with pytest.raises(InputError, match=r"missing column 'paper_id' .*; rename the id column"):  # an author email
        read_papers(write(tmp_path, "s2.csv", "Number,Title,Abstract,Email\n1,T,A,a@b.org\n"))


def test_publications_find_their_reviewer_by_email_in_any_case(tmp_path):
    s = write(tmp_path, "s.csv", "paper_id,title,abstract\np1,T,A\n")
    revs = write(tmp_path, "r.tsv", "First Name\tLast Name\tE-mail\nAna\tLee\tAna.Lee@Google.com\nBo\tLi\tbo@x.org\n")
    pubs = write(tmp_path, "p.csv", "reviewer_id,title,abstract\nana.lee@google.com,T,A\nBO@X.ORG,T2,A2\n")
    c = load_corpus(s, publications=pubs, reviewers=revs)
    assert c.publications["reviewer_id"].tolist() == ["Ana.Lee@Google.com", "bo@x.org"]


def test_a_tab_delimited_export_that_quotes_nothing_keeps_a_lone_quote(tmp_path):
    revs = write(tmp_path, "Reviewers.txt", 'First Name\tLast Name\tE-mail\tOrganization\n'
                                            'Ann\tLee\tann@x.org\t"Quantum" Lab of X\nBo\tLi\tbo@y.org\tY\n')
    r = read_reviewers(revs)
    assert r["reviewer_id"].tolist() == ["ann@x.org", "bo@y.org"] and r["name"].tolist() == ["Ann Lee", "Bo Li"]
    with pytest.raises(InputError, match="unclosed quote"):  # in a CSV a lone quote is still an error
        read_reviewers(write(tmp_path, "r.csv", 'reviewer_id,name\nr1,"Ann Lee\nr2,Bo Li\n'))


def test_a_column_named_as_triage_names_it_wins_over_an_alias_before_it(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="triage"):
        papers = read_papers(write(tmp_path, "s.csv", "id,paper_id,title,abstract\nx1,p1,T,A\nx2,p2,T2,A2\n"))
    assert papers["paper_id"].tolist() == ["p1", "p2"] and "ignoring columns triage does not use: id" in caplog.text
    pubs = read_publications(write(tmp_path, "p.csv", "email,reviewer_id,title,abstract,id,pub_id\n"
                                                      "a@x.org,r1,T,A,9,b1\n"))
    assert pubs[["reviewer_id", "pub_id"]].values.tolist() == [["r1", "b1"]]
    revs = read_reviewers(write(tmp_path, "r.csv", "id,reviewer_id,name\n7,r1,Ann Lee\n"))
    assert revs["reviewer_id"].tolist() == ["r1"]


def test_declared_conflicts_with_excel_float_ids_are_kept_and_never_dropped_silently(tmp_path):
    s = write(tmp_path, "s.csv", "paper_id,title,abstract\n1,T,A\n12,T2,A2\n")
    pubs = write(tmp_path, "p.csv", "reviewer_id,title,abstract\nr1,T,A\nr2,T2,A2\n")
    conf = write(tmp_path, "c.csv", "paper_id,reviewer_id\n1.0,r1\n12.0,r2\n")
    c = load_corpus(s, publications=pubs, conflicts=conf)
    assert c.conflicts[["paper_id", "reviewer_id"]].values.tolist() == [["1", "r1"], ["12", "r2"]]
    wrong = write(tmp_path, "w.csv", "paper_id,reviewer_id\nP1,R1\nP12,R2\nP1,R2\n")
    with pytest.raises(InputError, match=r"w.csv: none of its 3 conflict\(s\) names a paper of this run \(first: "
                                         r"paper 'P1', reviewer 'R1'; the papers of .*s.csv are like '1'\)"):
        load_corpus(s, publications=pubs, conflicts=wrong)
    # A conference-wide file on a track's run: other tracks' papers, this pool's reviewers.
    other = write(tmp_path, "o.csv", "paper_id,reviewer_id\n7,r1\n8,r2\n9,r1\n")
    assert len(load_corpus(s, publications=pubs, conflicts=other).conflicts) == 0
    # Paper ids of another system (OpenReview ids against CMT numbers), known reviewers: refused.
    ids = write(tmp_path, "ids.csv", "paper_id,reviewer_id\naBcD12,r1\nxYz9,r2\nqq7_,r1\n")
    with pytest.raises(InputError, match=r"ids.csv: none of its 3 conflict\(s\) names a paper of this run .*are "
                                         r"like '1'"):
        load_corpus(s, publications=pubs, conflicts=ids)


def test_a_header_repeated_inside_the_table_is_named(tmp_path):
    import openpyxl

    s = write(tmp_path, "s.csv", "paper_id,title,abstract\np1,T,A\npaper_id,title,abstract\np2,T2,A2\n")
    with pytest.raises(InputError, match=r"s.csv: row 3 repeats the header \(two exports joined\?\); delete that row"):
        read_papers(s)
    part = "\ufeffpaper_id,title,abstract,\np1,T,A,\n".encode()  # Excel's CSV UTF-8: a BOM; a trailing comma
    joined = write(tmp_path, "j.csv", part + part.replace(b"p1,", b"p2,"), mode="wb")
    with pytest.raises(InputError, match=r"j.csv: row 3 repeats the header"):
        read_papers(joined)
    twice = write(tmp_path, "t.csv", "paper_id,title,abstract,Email,Email\np1,T,A,a@x,b@y\n"
                                     "paper_id,title,abstract,Email,Email\n")  # pandas names the second Email.1
    with pytest.raises(InputError, match=r"t.csv: row 3 repeats the header"):
        read_papers(twice)
    wb = openpyxl.Workbook()
    for row in (["paper_id", "title", "abstract"], ["p1", "T", "A"], ["paper_id", "title", "abstract"]):
        wb.active.append(row)
    wb.save(tmp_path / "s.xlsx")
    with pytest.raises(InputError, match=r"s.xlsx: row 3 repeats the header"):
        read_papers(tmp_path / "s.xlsx")


def test_excel_unicode_text_is_read_as_utf16(tmp_path):
    body = "paper_id\ttitle\tabstract\r\np1\tTitle one\tAbstract one\r\n".encode("utf-16-le")
    papers = read_papers(write(tmp_path, "s.txt", b"\xff\xfe" + body, mode="wb"))
    assert papers[["paper_id", "title"]].values.tolist() == [["p1", "Title one"]]


def test_unmatched_publication_ids_say_which_file_has_which(tmp_path):
    s = write(tmp_path, "s.csv", "paper_id,title,abstract\np1,T,A\n")
    pubs = write(tmp_path, "p.csv", "reviewer_id,title,abstract\n~Ghost1,T,A\n")
    revs = write(tmp_path, "r.csv", "reviewer_id,name\n~Real1,Ann Lee\n")
    with pytest.raises(InputError, match=r"p.csv: none of its reviewer_ids is in .*r.csv \(e.g. '~Ghost1' here, "
                                         r"'~Real1' there\)"):
        load_corpus(s, publications=pubs, reviewers=revs)


def test_author_lists_written_as_prose_and_keywords_one_per_line(tmp_path):
    from triage.ingest import parse_authors

    assert parse_authors("Ishaq Aden-Ali, Mikael Møller Høgsgaard, Kasper Green Larsen and Nikita Zhivotovskiy") == [
        "Ishaq Aden-Ali", "Mikael Møller Høgsgaard", "Kasper Green Larsen", "Nikita Zhivotovskiy"]
    assert parse_authors("A. B, C. D, and E. F") == ["A. B", "C. D", "E. F"]
    assert parse_authors("Jane Doe (MIT, CSAIL) and John Smith (Texas A&M)") == ["Jane Doe", "John Smith"]
    assert parse_authors("Doe, Jane") == ["Doe, Jane"] and parse_authors("Jane Doe, Jr.") == ["Jane Doe, Jr."]
    assert parse_authors("de la Cruz, María José") == ["de la Cruz, María José"]  # one author, last name first
    assert parse_authors("Jane Doe, MIT") == ["Jane Doe, MIT"]  # a name and its affiliation
    assert parse_authors("Doe, Jane and Smith, John") == ["Doe, Jane", "Smith, John"]  # BibTeX
    assert parse_authors("Jane Doe, John Smith") == ["Jane Doe", "John Smith"]
    assert parse_authors("ZEYUAN ALLEN-ZHU, YUANZHI LI") == ["ZEYUAN ALLEN-ZHU", "YUANZHI LI"]  # capitals: two
    assert parse_authors("Jane Doe, Eric Laber") == ["Jane Doe", "Eric Laber"]  # 'Laber' is no lab
    assert parse_authors("Dos Santos, Cicero Nogueira and Li, Mufan (Bill)") == ["Dos Santos, Cicero Nogueira",
                                                                                 "Li, Mufan"]
    assert parse_authors("Jane Doe et al.") == ["Jane Doe"] and parse_authors("Ann Lee, Bo Li, et al.") == [
        "Ann Lee", "Bo Li"]
    assert parse_authors("Martin Luther King, Jr., Ann Lee") == ["Martin Luther King", "Ann Lee"]
    s = write(tmp_path, "submission.csv", '#,title,authors,keywords,abstract\n'
                                          '1,T,"Ann Lee, Bo Li and Cy Ma","bandits\nregret bounds",A\n')
    papers = read_papers(s)
    assert papers.at[0, "authors"] == ["Ann Lee", "Bo Li", "Cy Ma"]
    assert papers.at[0, "keywords"] == ["bandits", "regret bounds"]


def test_openreview_profiles_give_names_emails_and_recent_institutions(tmp_path):
    import datetime

    year = datetime.date.today().year
    profiles = [
        {"id": "~Ann_Lee1", "content": {
            "names": [{"fullname": "Ann B. Lee", "preferred": False}, {"fullname": "Ann Lee", "preferred": True}],
            "emails": ["ann@cs.mit.edu", "ann.lee@gmail.com"], "preferredEmail": "ann.lee@gmail.com",
            "history": [{"position": "PhD", "institution": {"domain": "stanford.edu"}, "start": 2010, "end": 2015},
                        {"position": "Professor", "institution": {"domain": "mit.edu"}, "start": 2015, "end": None},
                        {"institution": {"domain": "google.com"}, "start": year - 2, "end": year - 1}]}},
        {"id": "~Bo_Li2", "content": {"names": [{"first": "Bo", "last": "Li"}], "emails": ["bo@ethz.ch"]},
         "max_load": 4},
    ]
    r = read_reviewers(write(tmp_path, "profiles.json", json.dumps(profiles)))
    assert r["reviewer_id"].tolist() == ["~Ann_Lee1", "~Bo_Li2"]
    assert r["name"].tolist() == ["Ann Lee", "Bo Li"]
    assert r["email"].tolist() == ["ann.lee@gmail.com", "bo@ethz.ch"]
    assert r.at[0, "domains"] == ["cs.mit.edu", "gmail.com", "mit.edu", "google.com"]  # not stanford, long ago
    assert r.at[1, "domains"] == ["ethz.ch"] and r.at[1, "max_load"] == 4
    assert r.at[0, "other_emails"] == ["ann@cs.mit.edu"] and r.at[1, "other_emails"] == []


def test_cmt_publication_emails_are_the_reviewers_other_emails(tmp_path):
    # CMT's user information lists the emails a user publishes under; a submission or a publications file may
    # name the reviewer by any of them.
    r = write(tmp_path, "users.tsv", "First Name\tLast Name\tE-mail\tPublication Emails\n"
                                     "Jane\tDoe\tjane@cs.mit.edu\tJane.Doe@gmail.com; jd@old.edu\n"
                                     "Raj\tPatel\traj@x.org\t\n")
    rev = read_reviewers(r)
    assert rev["other_emails"].tolist() == [["Jane.Doe@gmail.com", "jd@old.edu"], []]
    from triage.ingest import resolve_reviewer_ids

    assert resolve_reviewer_ids(pd.Series(["jane.doe@gmail.com", "raj@x.org", "who@x.org"]), rev) == [
        "jane@cs.mit.edu", "raj@x.org", "who@x.org"]


def test_other_emails_keep_emails_only_each_once_and_not_the_main_one(tmp_path, caplog):
    # A placeholder such as 'N/A' would match every submission author written so and make a conflict with each
    # of their papers; the main email repeated (in other case) adds nothing.
    from triage.conflicts import detect_conflicts

    r = write(tmp_path, "users.csv", "Email,First Name,Last Name,Publication Emails\n"
                                     "rita@uni.edu,Rita,Rev,N/A\n"
                                     "bo@x.org,Bo,Li,DEE@d.org; BO@X.ORG; dee@d.org\n")
    with caplog.at_level(logging.WARNING, logger="triage"):
        rev = read_reviewers(r)
    assert rev["other_emails"].tolist() == [[], ["DEE@d.org"]]
    assert "users.csv: 1 other email(s) without an '@' ignored (first: row 2, 'N/A')" in caplog.text
    papers = pd.DataFrame({"paper_id": ["1", "2"], "title": ["T1", "T2"], "abstract": ["A", "B"],
                           "authors": [["Ann A", "Cy C"], ["Dee D"]],
                           "authorids": [["ann@a.org", "N/A"], ["dee@d.org"]]})
    none = pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"])
    pubs = pd.DataFrame(columns=["pub_id", "reviewer_id", "title", "abstract", "year", "authors", "venue"])
    assert detect_conflicts(papers, rev, pubs, none)[["paper_id", "reviewer_id"]].values.tolist() == [["2", "bo@x.org"]]


def test_openreview_custom_max_papers_edges_are_reviewers_and_their_loads(tmp_path):
    e = write(tmp_path, "max_papers.json", json.dumps([
        {"id": "aBc1", "invitation": "ICLR.cc/2025/Conference/Reviewers/-/Custom_Max_Papers",
         "head": "ICLR.cc/2025/Conference/Reviewers", "tail": "~Kim_Lo1", "weight": 2},
        {"id": "aBc2", "invitation": "ICLR.cc/2025/Conference/Reviewers/-/Custom_Max_Papers",
         "head": "ICLR.cc/2025/Conference/Reviewers", "tail": "~Ann_Lee1", "weight": 0}]))
    r = read_reviewers(e)
    assert r["reviewer_id"].tolist() == ["~Kim_Lo1", "~Ann_Lee1"] and r["max_load"].tolist() == [2, 0]


def test_senior_column_of_ones_and_zeros_with_gaps_in_json(tmp_path):
    """JSON (or a spreadsheet) gives a column of 1, 0 and null as 1.0, 0.0, NaN: read as yes, no, no."""
    r = write(tmp_path, "reviewers.jsonl", '{"reviewer_id": "a", "is_senior": 1}\n{"reviewer_id": "b", "is_senior": 0}'
                                          '\n{"reviewer_id": "c", "is_senior": null}\n')
    assert read_reviewers(r)["senior"].tolist() == [True, False, False]
    bad = write(tmp_path, "bad.jsonl", '{"reviewer_id": "a", "senior": 2}\n{"reviewer_id": "b", "senior": null}\n')
    with pytest.raises(InputError, match=r"bad.jsonl: record 1 column 'senior' is '2.0'; use yes or no"):
        read_reviewers(bad)


def test_openreview_constraints_with_forced_pairs_first(tmp_path, caplog):
    c = write(tmp_path, "constraints.csv", "ib8HDy88Yt,~Stan_M1,1\nib8HDy88Yt,~Ann_Lee1,-1.0\nxY,~Bo_Li2,-1\n")
    with caplog.at_level(logging.WARNING, logger="triage"):
        conf = read_conflicts(c)
    assert conf[["paper_id", "reviewer_id"]].values.tolist() == [["ib8HDy88Yt", "~Ann_Lee1"], ["xY", "~Bo_Li2"]]
    assert "1 forced pair(s)" in caplog.text


def test_easychair_assignment_csv_is_kept_by_member_number(tmp_path):
    s = write(tmp_path, "submission.csv", "#,title,abstract\n1,T1,A1\n2,T2,A2\n")
    c = write(tmp_path, "committee.csv", "#,person #,first name,last name,email,role\n"
                                         "7,11,Ann,Lee,ann@x.org,PC member\n8,12,Bo,Li,bo@y.org,PC member\n")
    a = write(tmp_path, "assignment.csv", "member #,member name,submission #\n8,Bo Li,1\n7,Ann Lee,2\n")
    corpus = load_corpus(s, reviewers=c, keep_assignments=a)
    assert corpus.previous.values.tolist() == [["1", "bo@y.org"], ["2", "ann@x.org"]]


def test_easychair_committee_leaves_out_meta_reviewers(tmp_path, caplog):
    c = write(tmp_path, "committee.csv", "#,person #,first name,last name,email,role\n"
                                         "1,11,Ann,Lee,ann@x.org,PC member\n2,12,Bo,Li,bo@y.org,senior PC member\n"
                                         "3,13,Cy,Ma,cy@z.org,associate chair\n4,14,Di,Wu,di@w.org,PC member\n")
    with caplog.at_level(logging.WARNING, logger="triage"):
        r = read_reviewers(c)
    assert r["reviewer_id"].tolist() == ["ann@x.org", "di@w.org"] and r["name"].tolist() == ["Ann Lee", "Di Wu"]
    assert "2 committee member(s) whose role is 'associate chair' or 'senior PC member' are left out" in caplog.text
    ignored = [r.getMessage() for r in caplog.records if "ignoring columns" in r.getMessage()]
    assert not ignored  # the role, the member # and the person # are all read
    only = write(tmp_path, "acs.csv", "#,first name,last name,email,role\n1,Ann,Lee,ann@x.org,area chair\n"
                                      "2,Bo,Li,bo@y.org,area chair\n")
    assert read_reviewers(only)["name"].tolist() == ["Ann Lee", "Bo Li"]  # a pool of area chairs is kept whole
    seniors = write(tmp_path, "spc.csv", "#,first name,last name,email,role\n1,Ann,Lee,ann@x.org,senior PC member\n"
                                         "2,Bo,Li,bo@y.org,senior PC member\n3,Cy,Ma,cy@z.org,chair\n")
    assert read_reviewers(seniors)["name"].tolist() == ["Ann Lee", "Bo Li"]  # ... but for the chair


def test_start_author_usernames_are_author_ids_so_a_reviewer_among_the_authors_conflicts(tmp_path, caplog):
    s = write(tmp_path, "Submission_Information.csv", "Submission ID,Title,Abstract,Authors,All Author Emails,"
                                                      "1: Username,2: Username,3: Username\n"
              '1,T1,A1,"Ann Lee and Bo Li","ann@x.org; bo@y.org",annlee,boli,\n2,T2,A2,Cy Ma,cy@z.org,cyma,,\n')
    r = write(tmp_path, "Profile_Information.csv", "Username,Email,First Name,Last Name\nboli,bo.li@work.org,Bo,Lee\n"
                                                   "cyma,cy@w.org,Cy,Ma\n")
    with caplog.at_level(logging.WARNING, logger="triage"):
        papers = read_papers(s)
    assert papers["authorids"].tolist() == [["ann@x.org", "bo@y.org", "annlee", "boli"], ["cy@z.org", "cyma"]]
    assert "Username" not in caplog.text  # read, not ignored
    from triage.conflicts import detect_conflicts
    from triage.ingest import empty_conflicts, empty_publications

    found = detect_conflicts(papers, read_reviewers(r), empty_publications(), empty_conflicts())
    assert ("1", "boli") in set(zip(found["paper_id"], found["reviewer_id"]))  # another email, a name spelt otherwise


@pytest.mark.parametrize("header", ["QuotaForReview", "Quota for Review"])
def test_start_quotas_in_either_spelling_are_max_loads(tmp_path, header):
    q = write(tmp_path, "quotas.csv", f"Username,{header}\nannlee,4\nboli,\n")
    assert read_reviewers(q)["max_load"].tolist() == [4, pd.NA]


def test_start_profiles_leave_out_authors_area_chairs_and_managers(tmp_path, caplog):
    p = write(tmp_path, "Profile_Information.csv", "Username,Email,First Name,Last Name,Semantic Scholar ID,Roles\n"
              "annlee,ann@x.org,Ann,Lee,,committee:Machine Learning\nbo,bo@y.org,Bo,Li,,Theory\n"
              "cyma,cy@z.org,Cy,Ma,,committee:Theory:Meta Reviewer\ndiwu,di@w.org,Di,Wu,,committee:Theory (manager 1)\n"
              "pc,pc@v.org,Pat,Chair,,manager:committee\neve,eve@u.org,Eve,Fox,,Author\nfay,fay@t.org,Fay,Ng,,committee\n"
              "gus,gus@s.org,Gus,Ro,,committee:Meta-Learning\nhal,hal@r.org,Hal,Wu,,committee:Theory:Metareviewer\n")
    with caplog.at_level(logging.WARNING, logger="triage"):
        r = read_reviewers(p)
    assert r["reviewer_id"].tolist() == ["annlee", "bo", "fay", "gus"]  # a track named Meta-Learning reviews
    assert {"cyma", "diwu", "pc", "cy@z.org", "hal"} <= r.attrs["left_out"] and "eve" not in r.attrs["left_out"]
    assert "1 profile(s) whose role is 'Author' are left out of the reviewer pool (they are not on the committee)" \
        in caplog.text


def test_excels_delimiter_hint_is_named(tmp_path):
    s = write(tmp_path, "s.csv", "sep=;\npaper_id;title;abstract\np1;T;A\n")
    with pytest.raises(InputError, match=r"s.csv: line 1 is Excel's delimiter hint 'sep=;', not a header; delete"):
        read_papers(s)


def test_start_acceptance_status_withdrawn_or_reject_is_left_out(tmp_path):
    from triage.ingest import read_submissions

    s = write(tmp_path, "Submission_Information.csv", "Submission ID,Title,Abstract,Authors,All Author Emails,"
                                                      "Acceptance Status\n"
              '1,T1,A1,"Ann Lee, Bo Li and Cy Ma","ann@x.org, bo@y.org",\n2,T2,A2,Di Wu,di@w.org,Withdrawn\n'
              "3,T3,A3,Eve Fox,eve@v.org,Reject\n")
    papers, excluded = read_submissions(s)
    assert papers["paper_id"].tolist() == ["1"]  # before the reviews, START's 'Reject' is a desk reject
    assert excluded["reason"].tolist() == ["Acceptance Status: Withdrawn", "Acceptance Status: Reject"]
    assert papers.at[0, "authors"] == ["Ann Lee", "Bo Li", "Cy Ma"]
    assert papers.at[0, "authorids"] == ["ann@x.org", "bo@y.org"]


@pytest.mark.parametrize("form", ["comma", "prose", "oxford", "capitals", "bibtex", "bibtex capitals"])
def test_real_author_lists_in_every_written_form_give_the_same_people(form):
    """The COLT slice's author lists, written as exports write them: the same number of authors, and each
    author's name matches (what conflict detection compares)."""
    from pathlib import Path

    import pandas as pd

    from triage.conflicts import normalize_name
    from triage.ingest import parse_authors

    subs = pd.read_csv(Path(__file__).parent / "data" / "submissions.csv", keep_default_na=False)
    lists = [[a.strip() for a in s.split(";") if a.strip()] for s in subs["authors"] if s.strip()]

    def prose(ns, sep=" and "):
        return ns[0] if len(ns) == 1 else ", ".join(ns[:-1]) + sep + ns[-1]

    def bibtex(ns):
        return " and ".join(f"{n.split()[-1]}, {' '.join(n.split()[:-1])}" for n in ns)

    write = {"comma": ", ".join, "prose": prose, "oxford": lambda ns: prose(ns, ", and " if len(ns) > 2 else " and "),
             "capitals": lambda ns: ", ".join(ns).upper(), "bibtex": bibtex,
             "bibtex capitals": lambda ns: bibtex(ns).upper()}[form]
    for names in lists:
        got = parse_authors(write(names))
        assert len(got) == len(names), (write(names), got)
        assert {normalize_name(a) for a in names} == {normalize_name(a) for a in got}, (write(names), got)


def test_easychair_author_csv_beside_the_submissions_gives_names_and_emails(tmp_path, caplog):
    write(tmp_path, "submission.csv", "#,title,authors,submitted,keywords,decision,abstract,deleted?\n"
                                      "1,T1,Ann Lee and Bo Li,2024-01-02,,,A1,no\n2,T2,Cy Ma,2024-01-03,,,A2,no\n")
    write(tmp_path, "author.csv", "submission #,first name,last name,email,country,affiliation,Web page,person #,"
                                  "corresponding?\n1,Ann,Lee,ann@cs.mit.edu,US,MIT,,11,yes\n"
                                  "1,Bo,Li,bo@ethz.ch,CH,ETH,,12,no\n2,Cy,Ma,cy@gmail.com,US,,,13,yes\n")
    with caplog.at_level(logging.WARNING, logger="triage"):
        papers = read_papers(tmp_path / "submission.csv")
    assert papers["authors"].tolist() == [["Ann Lee", "Bo Li"], ["Cy Ma"]]
    assert papers["authorids"].tolist() == [["ann@cs.mit.edu", "bo@ethz.ch"], ["cy@gmail.com"]]
    assert "author names and emails read from author.csv beside it (2 of 2 submissions)" in caplog.text
    assert papers["author_persons"].tolist() == [["11", "12"], ["13"]]
    # The same person on the committee under another name and email: EasyChair's person # says who it is.
    committee = write(tmp_path, "committee.csv", "#,person #,first name,last name,email,role\n"
                                                 "5,12,Bob,Li,bob.li@other.org,PC member\n"
                                                 "6,99,Di,Wu,di@w.org,PC member\n")
    from triage.conflicts import detect_conflicts

    c = detect_conflicts(papers, read_reviewers(committee), pd.DataFrame(columns=["reviewer_id", "title", "year",
                                                                                  "authors"]),
                         pd.DataFrame(columns=["paper_id", "reviewer_id", "reason"]))
    assert c.values.tolist() == [["1", "bob.li@other.org", "reviewer is an author (EasyChair person #12)"]]
    (tmp_path / "author.csv").unlink()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="triage"):
        read_papers(tmp_path / "submission.csv")
    assert "EasyChair's author.csv is not beside it, so the authors have no emails" in caplog.text


def test_conflicts_on_withdrawn_papers_are_not_reported_as_unknown(tmp_path, caplog):
    s = write(tmp_path, "s.csv", "paper_id,title,abstract,status\np1,T1,A1,\np2,T2,A2,Withdrawn\n")
    r = write(tmp_path, "r.csv", "reviewer_id,name\nr1,Ann Lee\n")
    pubs = write(tmp_path, "pubs.csv", "reviewer_id,title,abstract\nr1,P,A\n")
    c = write(tmp_path, "c.csv", "paper_id,reviewer_id\np1,r1\np2,r1\np9,r1\n")
    with caplog.at_level(logging.WARNING, logger="triage"):
        corpus = load_corpus(s, publications=pubs, reviewers=r, conflicts=c)
    assert corpus.conflicts[["paper_id", "reviewer_id"]].values.tolist() == [["p1", "r1"]]
    said = [m for m in caplog.messages if "unknown paper or reviewer ids" in m]
    assert len(said) == 1 and "1 conflict(s)" in said[0] and "p9" in said[0]  # p2 is withdrawn, not unknown


def test_html_entities_of_scraped_metadata_are_decoded(tmp_path):
    """A fifth of NeurIPS 2013-18 abstracts write "Angluin&#39;s"; the cards, labels and report showed it raw."""
    s = write(tmp_path, "s.csv", 'paper_id,title,abstract,authors,keywords\n'
                                 'p1,R&amp;D &quot;graphs&quot;,"Angluin&#39;s model; a &lt; b, R&D.",'
                                 '"Pat O&#39;Brien; Jos&eacute; Garc&iacute;a","Angluin&#39;s algorithm; A &amp; B"\n')
    papers = read_papers(s)
    assert papers.at[0, "keywords"] == ["Angluin's algorithm", "A & B"]
    assert papers.at[0, "title"] == 'R&D "graphs"'
    assert papers.at[0, "abstract"] == "Angluin's model; a < b, R&D."
    assert papers.at[0, "authors"] == ["Pat O'Brien", "José García"]  # the entity's ';' split no name
    # Escaped twice (or more), as some scrapes are: decoded all the way, for the cards, labels and report alike.
    twice = read_papers(write(tmp_path, "s2.csv", 'paper_id,title,abstract,authors\n'
                                                  'p1,Learning &amp;quot;sparse&amp;quot; parities,'
                                                  '"Angluin&amp;amp;#39;s model.","Pat O&amp;#39;Brien; Bo Li"\n'))
    assert twice.at[0, "title"] == 'Learning "sparse" parities'
    assert twice.at[0, "abstract"] == "Angluin's model."
    assert twice.at[0, "authors"] == ["Pat O'Brien", "Bo Li"]
    from triage.ingest import parse_authors

    assert parse_authors('["Ann O&#39;Brien", "Bo &quot;Bobby&quot; Li"]') == ["Ann O'Brien", 'Bo "Bobby" Li']
    # A list escaped as a whole reads as the list it was, not as names in quotes.
    assert parse_authors("[&quot;Ann O&#39;Brien&quot;, &quot;Bo Li&quot;]") == ["Ann O'Brien", "Bo Li"]
    pubs = read_publications(write(tmp_path, "p.csv", "reviewer_id,title,abstract\nr1,Q&amp;A,x &gt; y\n"))
    assert (pubs.at[0, "title"], pubs.at[0, "abstract"]) == ("Q&A", "x > y")
    # A reviewer's name too: 'Mo&#239;se Blanchard' was not matched to the author 'Moïse Blanchard'.
    revs = read_reviewers(write(tmp_path, "r.csv", "reviewer_id,name\n~Moise_Blanchard1,Mo&#239;se Blanchard\n"))
    assert revs.at[0, "name"] == "Moïse Blanchard"


def test_aaai_conflict_finder_output_is_read_with_its_rules_as_reasons(tmp_path):
    c = write(tmp_path, "conflicts.csv", "Paper ID,Conflicting Reviewer Mail ID,Rules\n"
              "12,ann@x.org,co-authored within 5 years\n13,bo@y.org,same domain\n")
    got = read_conflicts(c)
    assert got[["paper_id", "reviewer_id"]].values.tolist() == [["12", "ann@x.org"], ["13", "bo@y.org"]]
    assert got["reason"].str.contains("co-authored within 5 years").iloc[0]


def archive(folder, name, *records):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    p = folder / name
    p.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return p


MAY_2023, JAN_2021, MAR_2019 = 1682899200000, 1610000000000, 1552000000000


def test_openreview_expertise_archives_are_read_from_either_folder(tmp_path, caplog):
    arch = tmp_path / "dataset" / "archives"
    archive(arch, "~Ada_Lovelace1.jsonl",
            {"id": "p1", "cdate": MAR_2019, "mdate": MAR_2019, "pdate": MAY_2023,
             "content": {"title": "Bandits", "abstract": "Regret bounds.", "venueid": "COLT.cc/2023"}},
            {"id": "p2", "cdate": MAR_2019, "odate": JAN_2021,
             "content": {"title": {"value": "Kernels"}, "abstract": {"value": "RKHS."}, "weight": {"value": 1}}})
    archive(arch, "ada@uni.edu.jsonl", {"id": "p3", "cdate": MAR_2019, "content": {"title": "Sketching"}},
            {"id": "p4", "cdate": 0, "pdate": None, "content": {"title": "Undated"}})
    (arch / "~Bo_Li1.jsonl.gz").write_bytes(gzip.compress(json.dumps(
        {"id": "p5", "content": {"title": "Sparse PCA", "authors": {"value": ["Bo Li", "Ada Lovelace"]}}}).encode()))
    archive(arch, "match_submissions.jsonl", {"id": "s1", "content": {"title": "A submission"}})
    archive(arch, ".~Hidden1.jsonl", {"id": "h", "content": {"title": "Editor's backup"}})
    (arch / "README.txt").write_text("notes", encoding="utf-8")
    (tmp_path / "dataset" / "submissions.jsonl").write_text('{"id": "s1"}\n', encoding="utf-8")
    caplog.set_level(logging.WARNING, logger="triage")
    for given in (arch, arch.parent):
        df = read_publications(given)
        assert df[["reviewer_id", "pub_id", "title", "year"]].values.tolist() == [
            ["ada@uni.edu", "p3", "Sketching", 2019], ["ada@uni.edu", "p4", "Undated", pd.NA],
            ["~Ada_Lovelace1", "p1", "Bandits", 2023], ["~Ada_Lovelace1", "p2", "Kernels", 2021],
            ["~Bo_Li1", "p5", "Sparse PCA", pd.NA]]
        assert df.loc[2, "abstract"] == "Regret bounds." and df.loc[2, "venue"] == "COLT.cc/2023"
        assert df.loc[4, "authors"] == ["Bo Li", "Ada Lovelace"]
    assert not caplog.records


def test_publications_weighed_by_openreview_expertise_keep_their_weights(tmp_path, caplog):
    """openreview-expertise's weight_specification puts a weight in each publication's content; 0 leaves it out of
    the profiles (:func:`triage.match.select_profiles`), not out of the table the conflicts read."""
    archive(tmp_path / "archives", "~A1.jsonl", {"id": "a", "content": {"title": "Bandits", "weight": 1}},
            {"id": "b", "content": {"title": "Kernels", "weight": {"value": 0.5}}},
            {"id": "c", "content": {"title": "Sketching", "weight": 2}},
            {"id": "d", "content": {"title": "Sparse PCA", "weight": "1.0"}},
            {"id": "e", "content": {"title": "Workshop note", "weight": 0}},
            {"id": "f", "content": {"title": "Unweighed"}})
    caplog.set_level(logging.WARNING, logger="triage")
    df = read_publications(tmp_path)
    assert df[["pub_id", "weight"]].values.tolist() == [["a", 1.0], ["b", 0.5], ["c", 2.0], ["d", 1.0], ["e", 0.0],
                                                        ["f", 1.0]]
    assert [r.getMessage() for r in caplog.records] == [
        f"{tmp_path / 'archives'}: 1 publication(s) of weight 0 (first: ~A1.jsonl line 5) are left out of the "
        "reviewers' profiles, as openreview-expertise does; their co-authors still count for the conflicts"]
    archive(tmp_path / "archives", "~A1.jsonl", {"id": "a", "content": {"title": "Bandits", "weight": "high"}})
    with pytest.raises(InputError) as err:
        read_publications(tmp_path)
    assert str(err.value) == (
        f"{tmp_path / 'archives' / '~A1.jsonl'}: line 1 column 'weight' is 'high', not a weight; use a number such "
        "as 0.5 (1, or an empty cell, counts the publication fully; 0 leaves it out)")


@pytest.mark.parametrize("cell, message", [("-1", "row 3 column 'weight' is '-1', not a weight"),
                                           ("heavy", "row 3 column 'weight' is 'heavy', not a weight"),
                                           ("inf", "row 3 column 'weight' is 'inf', not a weight")])
def test_a_publications_file_may_weigh_its_rows(tmp_path, caplog, cell, message):
    p = tmp_path / "pubs.csv"
    p.write_text("reviewer_id,title,weight\nr1,Bandits,0.5\nr1,Kernels,\nr2,Sketching,0\nr2,Sparse PCA,3\n",
                 encoding="utf-8")
    caplog.set_level(logging.WARNING, logger="triage")
    df = read_publications(p)
    assert df[["title", "weight"]].values.tolist() == [["Bandits", 0.5], ["Kernels", 1.0], ["Sketching", 0.0],
                                                       ["Sparse PCA", 3.0]]
    assert caplog.messages == [f"{p}: 1 publication(s) of weight 0 (first: row 4) are left out of the reviewers' "
                               "profiles, as openreview-expertise does; their co-authors still count for the "
                               "conflicts"]
    p.write_text(f"reviewer_id,title,weight\nr1,Bandits,1\nr1,Kernels,{cell}\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(f"{p}: {message}")):
        read_publications(p)
    p.write_text("reviewer_id,title,weight\nr1,Bandits,0\n", encoding="utf-8")
    with pytest.raises(InputError, match="every publication has weight 0; give the ones that count a weight above 0"):
        read_publications(p)


def test_a_too_long_abstract_in_an_archive_is_named_by_file_and_line(tmp_path, caplog):
    archive(tmp_path / "archives", "~A1.jsonl", {"id": "a", "content": {"title": "Short"}},
            {"id": "b", "content": {"title": "Long", "abstract": "word " * 5000}})
    caplog.set_level(logging.WARNING, logger="triage")
    assert len(read_publications(tmp_path).loc[1, "abstract"]) == 20_000
    assert "(first: ~A1.jsonl line 2, 24999 chars); truncated" in caplog.text


def test_an_archive_without_text_or_publications_warns_once(tmp_path, caplog):
    arch = tmp_path / "archives"
    archive(arch, "~A1.jsonl", {"id": "a", "content": {"title": "Bandits", "abstract": ""}},
            {"id": "b", "content": {"title": {"value": ""}, "abstract": {"value": None}}},
            {"id": "c", "content": {}})
    (arch / "~B1.jsonl").write_text("", encoding="utf-8")
    (arch / "~C1.jsonl").write_text("\n", encoding="utf-8")
    caplog.set_level(logging.WARNING, logger="triage")
    df = read_publications(arch)
    assert df["pub_id"].tolist() == ["a"]
    said = [r.getMessage() for r in caplog.records]
    assert said == [f"{arch}: 2 reviewer file(s) hold no publication (first: ~B1.jsonl); those reviewers get no "
                    "affinity", f"{arch}: dropping 2 publication(s) with neither title nor abstract"]


@pytest.mark.parametrize("name,text,needle", [
    ("~A1.jsonl", '{"id": "a", "content": {"title": "T"}}\n\n{"id": "b", "content": \n', "~A1.jsonl: line 3 is not "
     "valid JSON"),
    ("~A1.jsonl", '{"id": "a", "content": {"title": "T"}}\n["b"]\n', "~A1.jsonl: line 2 is not a publication"),
    ("~A1.jsonl", '{"id": "a", "title": "T"}\n', "~A1.jsonl: line 1 is not a publication"),
    ("~A1.jsonl", '{"id": "a", "pdate": "2023", "content": {"title": "T"}}\n',
     "~A1.jsonl: line 1 has pdate '2023', not a time in milliseconds since the epoch"),
    ("~A1.jsonl", '{"id": "a", "cdate": 1e30, "content": {"title": "T"}}\n', "line 1 has cdate 1e+30, not a time"),
    ("~A1.jsonl", "", "archives: its 1 reviewer file(s) hold no publication; export the archives again"),
    ("~A1.json", "{}", "archives: is a folder with no .jsonl files; pass openreview-expertise's archives folder"),
])
def test_a_bad_archive_names_its_file_and_line(tmp_path, name, text, needle):
    arch = tmp_path / "archives"
    arch.mkdir()
    (arch / name).write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_publications(tmp_path)
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_a_reviewer_file_twice_or_with_a_name_that_is_not_utf8_is_refused(tmp_path):
    """'~A1.jsonl' beside '~A1.jsonl.gz' would count each publication twice; a file name of bytes that are not
    UTF-8 makes no reviewer id a CSV can hold."""
    arch = tmp_path / "archives"
    archive(arch, "~A1.jsonl", {"id": "a", "content": {"title": "Bandits"}})
    (arch / "~A1.jsonl.gz").write_bytes(gzip.compress(b'{"id": "a", "content": {"title": {"value": "Bandits"}}}\n'))
    with pytest.raises(InputError, match=r"~A1\.jsonl and ~A1\.jsonl\.gz are both files of reviewer ~A1; keep one"):
        read_publications(arch)
    (arch / "~A1.jsonl.gz").unlink()
    if sys.platform.startswith("linux"):  # file names are bytes there
        with open(os.path.join(os.fsencode(arch), b"~B\xff1.jsonl"), "w", encoding="utf-8") as f:
            f.write('{"id": "b", "content": {"title": "Kernels"}}\n')
        with pytest.raises(InputError) as exc:
            read_publications(tmp_path)
        assert str(exc.value) == (f"{arch}: the file name '~B\ufffd1.jsonl' is not valid UTF-8; rename the file to its "
                                  "reviewer's id (~User_Id1.jsonl)")
        with pytest.raises(InputError, match="is not valid UTF-8"):
            sha256_file(arch)  # the inputs' fingerprint, which status and reruns take


def test_an_archive_in_latin1_needs_encoding(tmp_path):
    arch = tmp_path / "archives"
    arch.mkdir()
    (arch / "~Jose_Garcia1.jsonl").write_bytes('{"id": "a", "content": {"title": "Teoría de juegos"}}\n'
                                               .encode("latin-1"))
    with pytest.raises(InputError, match=r"~Jose_Garcia1\.jsonl: line 1 is not valid UTF-8 .*--encoding latin-1"):
        read_publications(arch)
    assert read_publications(arch, encoding="latin-1").loc[0, "title"] == "Teoría de juegos"


def test_openreview_expertise_csv_without_a_header_is_read(tmp_path):
    p = write(tmp_path, "csv_expertise", '~Ada_Lovelace1,p1,Bandits,"Regret, and bounds."\n'
                                         'ada@uni.edu,p2,Kernels,\n\n'
                                         '~Ada_Lovelace1,p3,"Two\nlines",Abstract\n')
    df = read_publications(p)
    assert df[["reviewer_id", "pub_id", "title", "abstract"]].values.tolist() == [
        ["~Ada_Lovelace1", "p1", "Bandits", "Regret, and bounds."], ["ada@uni.edu", "p2", "Kernels", ""],
        ["~Ada_Lovelace1", "p3", "Two lines", "Abstract"]]
    short = write(tmp_path, "short.csv", "~Ada_Lovelace1,p1,Bandits,Regret\n~Ada_Lovelace1,p2\n")
    with pytest.raises(InputError, match=r"short\.csv: line 2 has 2 field\(s\); a file without a header row is read "
                                         r"as openreview-expertise's csv_expertise"):
        read_publications(short)
    unclosed = write(tmp_path, "unclosed.csv", '~Ada_Lovelace1,p1,Bandits,Regret\n~Ada_Lovelace1,p2,"Open,x\n')
    with pytest.raises(InputError, match=r"unclosed\.csv: line 2 cannot be read"):
        read_publications(unclosed)
    # a header, even one of a single known column, is a header
    named = write(tmp_path, "named.csv", "~Ada_Lovelace1,pub_id,title,abstract\nx,p1,T,A\n")
    with pytest.raises(InputError, match="missing column 'reviewer_id'"):
        read_publications(named)
    # a first publication whose title or abstract is a word that names a column is a publication all the same
    words = write(tmp_path, "words.csv", "~Ada_Lovelace1,p1,Summary,Abstract\n~Ada_Lovelace1,p2,Keywords,Rules\n")
    assert read_publications(words)[["pub_id", "title", "abstract"]].values.tolist() == [
        ["p1", "Summary", "Abstract"], ["p2", "Keywords", "Rules"]]


def test_openreview_expertise_submissions_are_read_from_the_dataset_folder_or_its_submissions_folder(tmp_path, caplog):
    """The dataset folder's submissions.jsonl (one note per line), else its submissions/<id>.jsonl (one note per
    file, whose name is the paper id); notes in API v1 (bare values) or v2 ({"value": ...}) form."""
    dataset = tmp_path / "dataset"
    archive(dataset / "archives", "~Ada_Lovelace1.jsonl", {"id": "p1", "content": {"title": "Bandits"}})
    notes = [{"id": "aBc123XyZ", "mdate": MAY_2023, "content": {"title": "Leap complexity", "abstract": "We prove."}},
             {"id": "ZYx321Abc", "mdate": MAY_2023,
              "content": {"title": {"value": "Sparse PCA"}, "abstract": {"value": "Lower bounds."},
                          "venueid": {"value": "ICLR.cc/2025/Conference/Submission"}}},
             {"id": "Wd0Gone", "content": {"title": "Withdrawn one",
                                           "venueid": "ICLR.cc/2025/Conference/Withdrawn_Submission"}}]
    for note in notes:
        archive(dataset / "submissions", f"{note['id']}.jsonl", note)
    archive(dataset / "submissions", ".aBc123XyZ.jsonl", {"id": "h", "content": {"title": "Editor's backup"}})
    (dataset / "submissions" / "notes.txt").write_text("not a submission", encoding="utf-8")
    archive(dataset, "other_submissions.jsonl", {"id": "o1", "content": {"title": "Another venue's paper"}})
    caplog.set_level(logging.WARNING, logger="triage")
    for given in (dataset, dataset / "submissions"):
        caplog.clear()
        df = read_papers(given)
        assert df[["paper_id", "title", "abstract"]].values.tolist() == [
            ["ZYx321Abc", "Sparse PCA", "Lower bounds."], ["aBc123XyZ", "Leap complexity", "We prove."]]
        assert "1 submission(s) are withdrawn" in caplog.text and "Wd0Gone.jsonl" in caplog.text
    # the file name is the paper id, as openreview-expertise reads it
    archive(dataset / "submissions", "aBc123XyZ.jsonl", {"id": "other", "content": {"title": "Leap complexity"}})
    assert "aBc123XyZ" in set(read_papers(dataset)["paper_id"])
    # submissions.jsonl is read first, as the whole file it is (gzip-compressed too), with a word on the folder
    (dataset / "submissions.jsonl.gz").write_bytes(gzip.compress(
        "".join(json.dumps(n) + "\n" for n in notes[:2]).encode()))
    caplog.clear()
    df = read_papers(dataset)
    assert df["paper_id"].tolist() == ["aBc123XyZ", "ZYx321Abc"] and df.loc[1, "abstract"] == "Lower bounds."
    assert f"{dataset}: read submissions.jsonl.gz; the submissions folder beside it is not read" in caplog.text


def test_openreview_expertise_submissions_json_keyed_by_paper_id_is_read(tmp_path):
    """create_dataset writes submissions.json as one object, {paper id: {"id", "content": {...}}}."""
    dataset = tmp_path / "dataset"
    dataset.mkdir()
    notes = {"aBc123XyZ": {"id": "aBc123XyZ", "content": {"title": "Leap complexity", "abstract": "We prove."}},
             "ZYx321Abc": {"content": {"title": {"value": "Sparse PCA"}, "abstract": {"value": "Lower bounds."}}}}
    (dataset / "submissions.json").write_text(json.dumps(notes, indent=2), encoding="utf-8")
    for given in (dataset, dataset / "submissions.json"):
        assert read_papers(given)[["paper_id", "title", "abstract"]].values.tolist() == [
            ["aBc123XyZ", "Leap complexity", "We prove."], ["ZYx321Abc", "Sparse PCA", "Lower bounds."]]
    (dataset / "submissions.jsonl").write_text(json.dumps(notes["aBc123XyZ"]) + "\n", encoding="utf-8")
    with pytest.raises(InputError, match="dataset: holds both submissions.json and submissions.jsonl; keep one"):
        read_papers(dataset)
    # Any other object is still not a list of notes.
    (tmp_path / "s.json").write_text(json.dumps({"a": {"title": "T"}}), encoding="utf-8")
    with pytest.raises(InputError, match="JSON must be a list of notes"):
        read_papers(tmp_path / "s.json")



@pytest.mark.parametrize("bad", [None, {"id": "b"}, {"id": "b", "content": None}])
def test_a_submissions_json_note_with_no_content_is_named_by_its_key(tmp_path, bad):
    notes = {"a": {"id": "a", "content": {"title": "Leap complexity", "abstract": "We prove."}}, "b": bad}
    (tmp_path / "submissions.json").write_text(json.dumps(notes), encoding="utf-8")
    with pytest.raises(InputError, match=r"submissions.json: 'b' is not a note \(a JSON object with a 'content'"):
        read_papers(tmp_path)


@pytest.mark.parametrize("layout,needle", [
    ({"archives/~A1.jsonl": '{"id": "a", "content": {"title": "T"}}\n'},
     "dataset: is a folder without submissions.json(l), a submissions folder or <id>.jsonl files; pass "
     "openreview-expertise's dataset folder that holds them, its submissions folder, or a submissions file"),
    ({"submissions/": ""}, "dataset/submissions: holds no <id>.jsonl files (one per submission)"),
    ({"submissions/s1.jsonl": '{"id": "s1", "content": {"title": "T"}}\n{"id": "s2", "content": {"title": "U"}}\n'},
     "s1.jsonl: holds 2 notes; a file of the submissions folder holds its submission's note alone (the file name is "
     "its id): give each submission a file of its own"),
    ({"submissions/s1.jsonl": "\n"}, "s1.jsonl: holds 0 notes"),
    ({"submissions/s1.jsonl": '{"id": "s1", "content": {"title": "T"\n'}, "s1.jsonl: line 1 is not valid JSON"),
    ({"submissions/s1.jsonl": '{"id": "s1", "title": "T"}\n'}, "s1.jsonl: line 1 is not a submission"),
    ({"submissions/s1.jsonl": '{"id": "s1", "content": {"title": ""}}\n'},
     "submissions: s1.jsonl (paper_id 's1') has neither title nor abstract"),
    ({"submissions/s1.jsonl": '{"id": "s1", "content": {"title": "T"}}\n', "submissions/s1.jsonl.gz": ""},
     "submissions: s1.jsonl and s1.jsonl.gz are both files of submission s1; keep one of them"),
    ({"submissions.jsonl": '{"id": "s1", "content": {"title": "T"}}\n', "submissions.jsonl.gz": ""},
     "dataset: holds both submissions.jsonl and submissions.jsonl.gz; keep one of them"),
])
def test_a_bad_submissions_folder_is_one_line_naming_the_file(tmp_path, layout, needle):
    dataset = tmp_path / "dataset"
    for name, text in layout.items():
        (dataset / name).parent.mkdir(parents=True, exist_ok=True)
        if name.endswith("/"):
            (dataset / name).mkdir()
        else:
            (dataset / name).write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_papers(dataset)
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_the_archives_folder_given_as_the_submissions_says_where_it_goes(tmp_path):
    archive(tmp_path / "archives", "~A1.jsonl", {"id": "a", "content": {"title": "T"}})
    with pytest.raises(InputError, match="archives: is openreview-expertise's archives folder, the reviewers' "
                                         "publications; pass it with --publications"):
        read_papers(tmp_path / "archives")


def test_openreview_expertise_csv_submissions_without_a_header_is_read_and_said(tmp_path, caplog):
    p = write(tmp_path, "csv_submissions", '2Vyq6DpplZ,Double descent,"We study double descent in random feature '
                                           'models, and prove bounds."\n'
                                           'HkxLXnAcFQ,"Kernels, again","Kernel methods\nacross two lines."\n\n'
                                           '12,Summary,Lower bounds.\n')
    caplog.set_level(logging.WARNING, logger="triage")
    df = read_papers(p)
    assert df[["paper_id", "title", "abstract"]].values.tolist() == [
        ["2Vyq6DpplZ", "Double descent", "We study double descent in random feature models, and prove bounds."],
        ["HkxLXnAcFQ", "Kernels, again", "Kernel methods across two lines."], ["12", "Summary", "Lower bounds."]]
    assert (f"{p}: has no header row; read as openreview-expertise's csv_submissions, paper_id,title,abstract on "
            "each line") in caplog.text
    short = write(tmp_path, "short.csv", "s1,Bandits,We prove regret bounds for bandits in eight words.\ns2,Kernels\n")
    with pytest.raises(InputError, match=r"short\.csv: line 2 has 2 field\(s\); a file without a header row is read "
                                         r"as openreview-expertise's csv_submissions, 'submission_id,title,abstract' "
                                         r"on each line: complete the line, or add a header row \(paper_id,title,"):
        read_papers(short)


@pytest.mark.parametrize("first", [
    "paper_id,title,abstract",
    "sid,Heading,Please describe what the paper is about in a few words,title,abstract",  # a title column later
    "s1,Title,We prove regret bounds for bandits in eight words.",  # a first title that names a column
    "s1,Bandits,Regret bounds.",  # an abstract too short to tell from a header
])
def test_a_csv_whose_first_line_may_be_a_header_is_never_read_as_csv_submissions(tmp_path, caplog, first):
    p = write(tmp_path, "s.csv", first + "\ns2,Kernels,We prove that kernel methods learn in eight words,t,a\n")
    caplog.set_level(logging.WARNING, logger="triage")
    try:
        read_papers(p)
    except InputError as exc:
        assert "\n" not in str(exc)
    assert "csv_submissions" not in caplog.text


def test_a_csv_that_names_no_known_column_says_it_needs_a_header_row(tmp_path):
    p = write(tmp_path, "s.csv", "s1,Bandits,Regret bounds.\ns2,Kernels,RKHS.\n")
    with pytest.raises(InputError, match="missing column 'paper_id' .*; the first line names no column triage knows: "
                                         r"give the file a header row \(paper_id,title,abstract ...\)"):
        read_papers(p)


def test_a_file_of_the_submissions_folder_that_is_not_read_is_named_in_a_warning(tmp_path, caplog):
    # A note saved as .json is no <id>.jsonl: its submission would otherwise be missing without a word.
    folder = tmp_path / "dataset" / "submissions"
    folder.mkdir(parents=True)
    for name in ("aBc123XyZ.jsonl", "ZYx321Abc.json"):
        (folder / name).write_text(json.dumps({"content": {"title": "Sparse PCA", "abstract": "Lower bounds."}}),
                                   encoding="utf-8")
    (folder / ".DS_Store").write_text("x", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="triage"):
        papers = read_papers(tmp_path / "dataset")
    assert papers["paper_id"].tolist() == ["aBc123XyZ"]
    assert "submissions: 1 file(s) not read as submissions, which are <id>.jsonl files: ZYx321Abc.json" in caplog.text


def test_a_weight_too_large_for_a_number_is_refused_in_one_line(tmp_path):
    p = tmp_path / "pubs.jsonl"
    p.write_text('{"reviewer_id": "r1", "title": "Bandits", "weight": 1' + "0" * 400 + "}\n", encoding="utf-8")
    with pytest.raises(InputError, match=re.escape(f"{p}: record 1 column 'weight' is '1000")):
        read_publications(p)
