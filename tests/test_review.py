"""`jardam review` library: clustering, suggestions, decisions and promoting a
question into the FAQ, on real SQLite files and a copy of the real FAQ."""

from __future__ import annotations

import csv
import errno
import fcntl
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from bot import review
from bot.cli import cli
from bot.config import default_seeds_dir
from bot.engine import Engine
from bot.faq import FAQ, FAQError, Problem, load_faq
from bot.matcher import Matcher
from bot.review import Cluster
from bot.store import Store

from .conftest import in_lockstep

ROOT = Path(__file__).resolve().parent.parent

FLIGHT = [
    ("ky", "Москва Бишкек авиабилет канча?"),
    ("ru", "сколько стоит авиабилет Москва Бишкек"),
    ("en", "Moskva Bishkek aviabilet price"),
]
MONEY = [
    ("ru", "как перевести деньги домой в Кыргызстан"),
    ("ru", "kak perevesti dengi domoi v kyrgyzstan"),
]
NEAR = ("ru", "нужен ли патент гражданину Кыргызстана чтобы работать в Москве")  # patent-not-needed
FAR = ("en", "what is the capital of france")  # near no entry and no out-of-scope subject


def add_question(
    store: Store,
    lang: str,
    text: str,
    *,
    ts: str = "2026-11-20T10:00:00+00:00",
    status: str = "open",
    reason: str = "engine",
    candidates: list[dict[str, Any]] | None = None,
) -> int:
    cursor = store.db.execute(
        "INSERT INTO questions (ts, chat_id, lang, text, candidates, reason, status) VALUES (?, ?, ?, ?, ?, ?, ?)",
        [ts, 42, lang, text, json.dumps(candidates or []), reason, status],
    )
    return int(cursor.lastrowid or 0)


def add_clarification(store: Store, lang: str, text: str, chosen: str | None, *, ts: str = "2026-11-20T11:00:00+00:00") -> int:
    cursor = store.db.execute(
        "INSERT INTO clarifications (ts, chat_id, message_id, lang, text, candidates, chosen) VALUES (?, 42, 1, ?, ?, '[]', ?)",
        [ts, lang, text, chosen],
    )
    return int(cursor.lastrowid or 0)


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "x.db")


@pytest.fixture
def faq_copy(tmp_path: Path) -> Path:
    return Path(shutil.copytree(ROOT / "faq", tmp_path / "faq"))


def cluster_of(clusters: list[Cluster], qid: int) -> Cluster:
    return next(c for c in clusters if qid in c.ids)


def test_paraphrases_in_three_languages_cluster_and_get_suggestions(store: Store, engine: Engine) -> None:
    flight = [add_question(store, lang, text, ts=f"2026-11-1{i}T09:00:00+00:00") for i, (lang, text) in enumerate(FLIGHT)]
    money = [add_question(store, lang, text) for lang, text in MONEY]
    near = add_question(store, *NEAR)
    far = add_question(store, *FAR)

    clusters = review.review(store, engine)

    assert [c.count for c in clusters] == [3, 2, 1, 1]
    assert clusters[0].ids == flight
    assert clusters[0].langs == ["en", "ky", "ru"]
    assert clusters[0].first_seen == "2026-11-10T09:00:00+00:00" and clusters[0].last_seen == "2026-11-12T09:00:00+00:00"
    assert sorted(clusters[0].examples) == sorted(text for _, text in FLIGHT)
    assert clusters[1].ids == money
    # Both clusters are nearest to a known out-of-scope subject, not an entry.
    assert (clusters[0].kind, clusters[0].nearest_entry, clusters[0].nearest_out_of_scope) == ("out_of_scope", "tickets-travel", True)
    assert (clusters[1].kind, clusters[1].nearest_entry, clusters[1].suggested_entry) == ("out_of_scope", "money-transfers", None)
    near_cluster = cluster_of(clusters, near)
    assert (near_cluster.kind, near_cluster.suggestion) == ("phrasing", "add as a phrasing of patent-not-needed")
    assert near_cluster.nearest_entry == "patent-not-needed"
    assert near_cluster.nearest_score >= engine.tuning.strong_score - review.PHRASING_BAND
    far_cluster = cluster_of(clusters, far)
    assert (far_cluster.kind, far_cluster.suggestion) == ("new_entry", "new entry needed")


def test_users_choice_and_thumbs_down_name_the_entry(store: Store, engine: Engine) -> None:
    add_clarification(store, "ky", "аминаны кантип колдоном", "amina-how-to-use")
    add_clarification(store, "ky", "аминаны кантип колдонуу керек", None)
    disliked = add_question(store, "en", "my question about the ban list", reason="feedback", candidates=[{"id": "ban-check", "score": 0}])
    placeholder = add_question(store, "ru", "(👎 ban-remove)", reason="feedback", candidates=[{"id": "ban-remove", "score": 0}])

    items = review.load_questions(store)
    assert {i["source"] for i in items} == {"question", "clarification"}
    assert [i["feedback_entry"] for i in items if i["source"] == "question"] == ["ban-check", "ban-remove"]
    clusters = review.cluster(items, engine)

    chosen = next(c for c in clusters if c.clarification_ids)
    assert chosen.count == 2 and chosen.ids == []
    assert chosen.suggestion == "add as a phrasing of amina-how-to-use"
    assert chosen.refs == [f"c{i}" for i in chosen.clarification_ids]
    assert cluster_of(clusters, disliked).suggestion == "add as a phrasing of ban-check"
    assert cluster_of(clusters, placeholder).kind == "unclear"


def review_state(store: Store, qid: int) -> str | None:
    row = store.db.execute("SELECT review FROM questions WHERE id = ?", [qid]).fetchone()
    return row[0] if row else "missing"


def test_reviewing_leaves_the_operators_status_alone(store: Store) -> None:
    qid = add_question(store, "ru", "какой курс доллара")
    review.set_status(store, [qid], "ignored")
    assert store.question(qid).status == "open"  # still in the operators' /open list
    assert [q.id for q in store.open_questions()] == [qid]


def test_filters_by_status_language_and_period(store: Store) -> None:
    add_question(store, "ky", "a", ts="2026-11-01T10:00:00+00:00")
    add_question(store, "ru", "b", ts="2026-11-20T23:59:59+00:00")
    c = add_question(store, "ru", "c", ts="2026-11-21T00:00:00+00:00", status="answered")
    add_clarification(store, "ru", "d", None, ts="2026-11-20T12:00:00+00:00")

    def texts(**kw: Any) -> list[str]:
        return [i["text"] for i in review.load_questions(store, **kw)]

    # An operator's answer does not settle the review: the FAQ still lacks it.
    assert texts() == ["a", "d", "b", "c"]
    review.set_status(store, [c], "resolved")
    assert texts() == ["a", "d", "b"]
    assert texts(status="resolved") == ["c"]
    assert texts(status="all", lang="ru") == ["d", "b", "c"]
    assert texts(since="2026-11-20", until="2026-11-20") == ["d", "b"]
    with pytest.raises(ValueError, match="unknown status"):
        review.load_questions(store, status="pending")


def test_ignore_hides_look_alikes_and_resolve_changes_status(store: Store, engine: Engine) -> None:
    spam = add_question(store, "ru", "Продам аккаунт, пишите в личку")
    retyped = add_question(store, "ru", "продам акаунт пишите в личку!!")
    greeting = add_question(store, "ru", "привет")
    real = add_question(store, "ru", "привет, как продлить регистрацию по месту пребывания")

    assert review.set_status(store, [spam, greeting], "ignored") == 2
    left = review.review(store, engine)
    assert sorted(i for c in left for i in c.ids) == [real]  # retyped spam gone; a greeting hides no question
    assert retyped not in [i["id"] for i in review.exclude_ignored_lookalikes(store, review.load_questions(store))]

    assert review.set_status(store, [f"#{real}"], "resolved") == 1
    assert review_state(store, real) == "resolved"
    assert review.review(store, engine) == []
    with pytest.raises(ValueError, match="no such question: #999"):
        review.set_status(store, [real, 999], "ignored")
    assert review_state(store, real) == "resolved"
    with pytest.raises(ValueError, match="cannot set status"):
        review.set_status(store, [real], "closed")


def test_references_beyond_sqlite_integers_are_refused(store: Store) -> None:
    qid = add_question(store, "ru", "какой курс доллара")
    assert review.parse_ref(str(2**63 - 1)) == ("question", 2**63 - 1)
    for ref in ("99999999999999999999", f"#{2**63}", f"c{2**63}", 2**63):
        with pytest.raises(ValueError, match="too big"):
            review.parse_ref(ref)
    with pytest.raises(ValueError, match="too big"):  # not OverflowError from SQLite
        review.set_status(store, [qid, "99999999999999999999"], "resolved")
    assert review_state(store, qid) is None  # nothing changed


def test_promote_adds_exactly_one_line_and_the_faq_loads(store: Store, faq_copy: Path, engine: Engine) -> None:
    qid = add_question(store, "ky", "патент керекпи Москвада иштеш учун")
    path = faq_copy / "work.yaml"
    before = path.read_text(encoding="utf-8").splitlines(keepends=True)

    assert review.promote(store, faq_copy, qid, "patent-not-needed", seeds_dir=default_seeds_dir(), matcher=engine.matcher) == path

    after = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(after) == len(before) + 1
    added = next(i for i, (a, b) in enumerate(zip(after, before, strict=False)) if a != b)
    assert after[added] == "        - патент керекпи Москвада иштеш учун\n"
    assert after[:added] + after[added + 1 :] == before  # comments, order and layout untouched
    assert before[added - 1].startswith("        - ")  # right after the last ky phrasing
    assert after[added + 1].strip() == "ru:"
    entry = load_faq(faq_copy, default_seeds_dir()).entries["patent-not-needed"]
    assert entry.questions["ky"][-1] == "патент керекпи Москвада иштеш учун"
    assert review_state(store, qid) == "resolved"
    for other in (ROOT / "faq").glob("*.yaml"):
        if other.name != "work.yaml":
            assert (faq_copy / other.name).read_bytes() == other.read_bytes()


def test_promote_quotes_when_yaml_needs_it(store: Store, faq_copy: Path, engine: Engine) -> None:
    text = 'Amina: "иштебей" жатат # эмне кылам'
    qid = add_clarification(store, "ky", text, "amina-how-to-use")
    path = review.promote(store, faq_copy, f"c{qid}", "amina-how-to-use", matcher=engine.matcher)
    line = next(line for line in path.read_text(encoding="utf-8").splitlines() if "иштебей" in line)
    assert line == '        - "Amina: \\"иштебей\\" жатат # эмне кылам"'
    assert yaml.safe_load(line.strip()) == [text]
    entries = yaml.safe_load(path.read_text(encoding="utf-8"))["entries"]
    promoted = next(e for e in entries if e["id"] == "amina-how-to-use")
    assert promoted["questions"]["ky"][-1] == text


def test_promote_reads_a_file_as_faq_check_does(store: Store, faq_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A list in brackets with a '?' before a comma: `faq check` (libyaml)
    accepts it, and promote, reading with PyYAML's parser, had ended in a
    ParserError traceback for any entry of that file."""
    amina = faq_copy / "amina.yaml"
    text = amina.read_text(encoding="utf-8")
    start = text.index("      en:\n        - What is the Amina app?")
    end = text.index("    answer:", start)
    phrasings = [line.strip()[2:] for line in text[start:end].splitlines()[1:]]
    flow = "      en: [" + ", ".join(q for q in phrasings if not re.search(r"[,:\[\]{}#'\"]", q)) + "]\n"
    assert flow.startswith("      en: [What is the Amina app?, amina app what for, ")
    amina.write_text(text[:start] + flow + text[end:], encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    checked = CliRunner().invoke(cli, ["faq", "check", "--dir", str(faq_copy)])
    assert checked.exit_code == 0, checked.output
    qid = add_question(store, "ru", "как пользоваться приложением амина на телефоне")
    store.close()
    monkeypatch.setenv("JARDAM_DB", str(store.path))
    monkeypatch.setenv("JARDAM_FAQ_DIR", str(faq_copy))
    before = amina.read_text(encoding="utf-8").splitlines()
    result = CliRunner().invoke(cli, ["review", "promote", str(qid), "amina-how-to-use"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Added to {amina};")
    after = amina.read_text(encoding="utf-8").splitlines()
    assert [line for line in after if line not in before] == ["        - как пользоваться приложением амина на телефоне"]
    assert flow.rstrip("\n") in after


def test_a_question_that_is_already_a_phrasing_is_to_be_resolved_not_promoted(tmp_path: Path, faq_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`jardam review` had suggested "add as a phrasing of patent-not-needed"
    for a question whose text already is one, which promote then refused."""
    db = tmp_path / "known.db"
    store = Store(db)
    known = [add_question(store, "ky", text) for text in ("Patent kerekpi?", "PATENT KEREKPI")]
    new = add_question(store, "ky", "патент керекпи Москвада иштеш учун")
    store.close()
    monkeypatch.setenv("JARDAM_DB", str(db))
    monkeypatch.setenv("JARDAM_FAQ_DIR", str(faq_copy))
    runner = CliRunner()
    listed = runner.invoke(cli, ["review", "--json"])
    assert listed.exit_code == 0, listed.output
    clusters = json.loads(listed.output)
    answered = next(c for c in clusters if c["ids"] == known)
    assert (answered["kind"], answered["suggested_entry"]) == ("answered", None)
    assert answered["suggestion"] == f"answered now: already a phrasing of patent-not-needed — resolve it: jardam review resolve {known[0]} {known[1]}"
    assert all(c["kind"] == "phrasing" for c in clusters if new in c["ids"])
    asked = json.loads(runner.invoke(cli, ["ask", "--json", "Patent kerekpi?"]).output)
    assert (asked["outcome"], asked["id"]) == ("answer", "patent-not-needed")  # "answered now" is true

    refused = runner.invoke(cli, ["review", "promote", str(known[0]), "patent-not-needed"])
    assert refused.exit_code == 1
    assert refused.output == (
        "Error: 'Patent kerekpi?' is already a phrasing of patent-not-needed ('patent kerekpi'), "
        f"so the bot answers it now: `jardam review resolve {known[0]}`\n"
    )
    assert runner.invoke(cli, ["review", "resolve", *map(str, known)]).output == "2 marked resolved.\n"
    assert all(known[0] not in c["ids"] for c in json.loads(runner.invoke(cli, ["review", "--json"]).output))


def test_promote_refuses_duplicates_and_unknown_ids_without_touching_the_file(store: Store, faq_copy: Path, engine: Engine) -> None:
    dup = add_question(store, "ky", "PATENT KEREKPI?")  # "patent kerekpi" is already there
    other_entry = add_question(store, "ru", "как проверить запрет на въезд")
    before = {p.name: p.read_bytes() for p in faq_copy.glob("*.yaml")}

    with pytest.raises(ValueError, match="already a phrasing of patent-not-needed"):
        review.promote(store, faq_copy, dup, "patent-not-needed", matcher=engine.matcher)
    with pytest.raises(ValueError, match="already a phrasing of ban-check"):
        review.promote(store, faq_copy, other_entry, "patent-not-needed", matcher=engine.matcher)
    with pytest.raises(ValueError, match="unknown entry 'patent-not-neded' \\(did you mean patent-not-needed\\?\\)"):
        review.promote(store, faq_copy, dup, "patent-not-neded", matcher=engine.matcher)
    with pytest.raises(ValueError, match="no such question: #999"):
        review.promote(store, faq_copy, 999, "patent-not-needed", matcher=engine.matcher)

    assert {p.name: p.read_bytes() for p in faq_copy.glob("*.yaml")} == before
    assert review_state(store, dup) is None


def test_promote_restores_the_file_when_the_faq_breaks(store: Store, faq_copy: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    qid = add_question(store, "en", "do kyrgyz workers need a patent in kazan")
    before = (faq_copy / "work.yaml").read_bytes()

    loads = []

    def broken_once_written(*args: Any, **kwargs: Any) -> FAQ:
        loads.append(args)
        if len(loads) == 1:  # the FAQ as it was, before the edit
            return load_faq(*args, **kwargs)
        raise FAQError([Problem("work.yaml", 1, "broken on purpose")])

    monkeypatch.setattr(review, "load_faq", broken_once_written)
    with pytest.raises(FAQError, match="broken on purpose"):
        review.promote(store, faq_copy, qid, "patent-not-needed", matcher=engine.matcher)
    assert len(loads) == 2
    assert (faq_copy / "work.yaml").read_bytes() == before
    assert review_state(store, qid) is None


def test_a_file_that_cannot_be_put_back_after_breaking_the_faq_says_both(
    store: Store, faq_copy: Path, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    qid = add_question(store, "en", "do kyrgyz workers need a patent in kazan")
    loads: list[Any] = []

    def broken_once_written(*args: Any, **kwargs: Any) -> FAQ:
        loads.append(args)
        if len(loads) == 1:
            return load_faq(*args, **kwargs)
        raise FAQError([Problem("work.yaml", 1, "broken on purpose")])

    replace = os.replace
    replaced: list[Any] = []

    def disk_full_on_the_second(src: Any, dst: Any) -> None:
        replaced.append(dst)
        if len(replaced) == 2:  # putting the original back
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        replace(src, dst)

    monkeypatch.setattr(review, "load_faq", broken_once_written)
    monkeypatch.setattr(os, "replace", disk_full_on_the_second)
    with pytest.raises(review.FAQWriteError) as raised:
        review.promote(store, faq_copy, qid, "patent-not-needed", matcher=engine.matcher)
    message = str(raised.value)
    assert "could not be put back (No space left on device)" in message
    assert "under patent-not-needed (en)" in message and message.endswith("work.yaml:1: broken on purpose")
    assert "do kyrgyz workers need a patent in kazan" in (faq_copy / "work.yaml").read_text(encoding="utf-8")  # left as it was written
    assert review_state(store, qid) is None


def test_insert_phrasing_keeps_crlf_and_a_missing_final_newline() -> None:
    source = "# c\r\nentries:\r\n  - id: x\r\n    questions:\r\n      en:\r\n        - one  # why\r\n        - two"
    edited = review.insert_phrasing(source, "x", "en", "three")
    assert edited == source + "\r\n        - three\r\n"
    with pytest.raises(ValueError, match="brackets"):
        review.insert_phrasing("entries:\n  - id: x\n    questions:\n      en: [one, two]\n", "x", "en", "three")


def test_outputs_parse(store: Store, engine: Engine) -> None:
    for lang, text in [*FLIGHT, FAR]:
        add_question(store, lang, text)
    clusters = review.review(store, engine)

    data = json.loads(review.to_json(clusters))
    assert [c["count"] for c in data] == [3, 1]
    assert data[0]["ids"] == clusters[0].ids and data[1]["kind"] == "new_entry"
    assert data[0]["kind"] == "out_of_scope" and data[0]["nearest_out_of_scope"] is True
    rows = list(csv.DictReader(io.StringIO(review.to_csv(clusters))))
    assert [r["count"] for r in rows] == ["3", "1"]
    assert rows[0]["langs"] == "en ky ru" and rows[0]["example_1"] in {t for _, t in FLIGHT}
    assert rows[1]["suggestion"] == "new entry needed" and rows[1]["example_2"] == ""
    assert (rows[0]["nearest_out_of_scope"], rows[1]["nearest_out_of_scope"]) == ("True", "False")
    table = review.format_table(clusters)
    assert "×3  [en, ky, ru]" in table and "new entry needed" in table and FAR[1] in table
    assert "nearest: tickets-travel (77, out of scope)  →  known out-of-scope subject: tickets-travel" in table
    assert review.format_table([]) == "No questions to review."


def test_out_of_scope_questions_are_never_suggested_or_promoted_as_phrasings_of_entries(
    tmp_path: Path, faq_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """"Send money home" is the out-of-scope subject money-transfers (72),
    not repatriation-state-support (55); Russian citizenship is a subject
    too, not meken-kart.  As phrasings of those entries they would make the
    bot answer such questions with a wrong legal answer."""
    db = tmp_path / "r.db"
    monkeypatch.setenv("JARDAM_DB", str(db))
    monkeypatch.setenv("JARDAM_FAQ_DIR", str(faq_copy))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    said = "как отправить деньги домой\nмогу ли я получить гражданство россии быстро\nакча кантип жиберем\n"
    assert CliRunner().invoke(cli, ["chat"], input=said).exit_code == 0

    listed = CliRunner().invoke(cli, ["review"])
    assert listed.exit_code == 0, listed.output
    assert "add as a phrasing" not in listed.output
    assert re.search(
        r"nearest: money-transfers \(\d+, out of scope\)  →  known out-of-scope subject: money-transfers — answer by hand; "
        r"add a phrasing to that subject if it was not recognised",
        listed.output,
    )
    assert "known out-of-scope subject: russian-citizenship" in listed.output
    clusters = json.loads(CliRunner().invoke(cli, ["review", "--json"]).output)
    assert {(c["examples"][0], c["kind"], c["nearest_entry"], c["suggested_entry"]) for c in clusters} == {
        ("как отправить деньги домой", "out_of_scope", "money-transfers", None),
        ("могу ли я получить гражданство россии быстро", "out_of_scope", "russian-citizenship", None),
        ("акча кантип жиберем", "out_of_scope", "money-transfers", None),
    }

    before = {p.name: p.read_bytes() for p in faq_copy.glob("*.yaml")}
    for ref, entry in (("1", "repatriation-state-support"), ("2", "meken-kart")):
        refused = CliRunner().invoke(cli, ["review", "promote", ref, entry])
        assert refused.exit_code == 1
        assert "known out-of-scope subject" in refused.output and "Use --force" in refused.output
        assert "Traceback" not in refused.output
    assert re.search(r"russian-citizenship \(\d+\), above meken-kart \(\d+\)", refused.output)  # scores move with the FAQ
    assert {p.name: p.read_bytes() for p in faq_copy.glob("*.yaml")} == before
    store = Store(db)
    assert [review_state(store, q) for q in (1, 2, 3)] == [None, None, None]
    store.close()

    asked = "могу ли я получить гражданство россии быстро"  # question 2 itself, asked again
    assert json.loads(CliRunner().invoke(cli, ["ask", "--json", asked]).output)["outcome"] == "handoff"
    forced = CliRunner().invoke(cli, ["review", "promote", "--force", "2", "meken-kart"])
    assert forced.exit_code == 0, forced.output
    # What the refusal kept from happening: the look-alike now gets meken-kart's answer.
    assert json.loads(CliRunner().invoke(cli, ["ask", "--json", asked]).output)["id"] == "meken-kart"


def test_users_evidence_does_not_make_an_out_of_scope_question_a_phrasing(store: Store, engine: Engine, faq_copy: Path) -> None:
    chose = add_clarification(store, "ru", "как отправить деньги домой", "repatriation-state-support")
    disliked = add_question(store, "ru", "перевод денег домой в бишкек", reason="feedback", candidates=[{"id": "repatriation-state-support", "score": 0}])
    clusters = review.review(store, engine)
    assert all(c.kind == "out_of_scope" and c.suggested_entry is None for c in clusters), clusters
    with pytest.raises(review.OutOfScopeError, match="money-transfers"):
        review.promote(store, faq_copy, f"c{chose}", "repatriation-state-support", matcher=engine.matcher)
    with pytest.raises(review.OutOfScopeError):
        review.promote(store, faq_copy, disliked, "repatriation-state-support", matcher=engine.matcher)
    assert review_state(store, disliked) is None
    # An entry scoring above every subject is promoted as before.
    near = add_question(store, *NEAR)
    review.promote(store, faq_copy, near, "patent-not-needed", matcher=engine.matcher)
    assert review_state(store, near) == "resolved"


PATENT_COST = ["сколько стоит патент в москве", "сколько стоит патент в москве для узбеков", "сколько стоит патент для узбека"]
MIGRATION_CARD = ["миграционная карта что делать", "миграционная карта что делать если истекла", "миграционная карта что делать при въезде"]


def test_members_nearest_a_subject_are_listed_apart_from_those_nearest_an_entry(store: Store, engine: Engine) -> None:
    """One question nearest an out-of-scope subject no longer turns its whole
    cluster into a hand-off: a Kyrgyz user's "how much is a patent" keeps its
    entry, and users' choices of migration-card keep theirs."""
    kyrgyz, *uzbek = [add_question(store, "ru", text) for text in PATENT_COST]
    chose = [add_clarification(store, "ru", text, "migration-card") for text in MIGRATION_CARD]
    lost = add_clarification(store, "ru", "миграционная карта что делать если потерял", None)

    clusters = review.review(store, engine)

    in_scope = cluster_of(clusters, kyrgyz)
    assert (in_scope.ids, in_scope.kind, in_scope.suggested_entry) == ([kyrgyz], "phrasing", "patent-not-needed")
    assert (in_scope.nearest_entry, in_scope.nearest_out_of_scope) == ("patent-not-needed", False)
    subject = cluster_of(clusters, uzbek[0])
    assert subject.ids == uzbek
    assert (subject.kind, subject.nearest_entry, subject.suggested_entry) == ("out_of_scope", "other-nationals-procedures", None)
    card = next(c for c in clusters if chose[0] in c.clarification_ids)
    assert (card.clarification_ids, card.kind, card.suggestion) == (chose, "phrasing", "add as a phrasing of migration-card")
    handed = next(c for c in clusters if lost in c.clarification_ids)
    assert (handed.clarification_ids, handed.kind, handed.nearest_entry) == ([lost], "out_of_scope", "lost-documents")
    assert len(clusters) == 4
    table = review.format_table(clusters)
    assert re.search(r"nearest: patent-not-needed \(\d+\)  →  add as a phrasing of patent-not-needed\n   refs: 1\n", table)


def test_promote_refuses_a_phrasing_with_no_informative_word_unless_forced(tmp_path: Path, faq_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entry's own phrasing is answered however little it says: "yes"
    promoted into amina-geolocation had every "Yes!" answered with it at
    confidence 100."""
    db = tmp_path / "yes.db"
    store = Store(db)
    yes, ok, where = (add_question(store, "ru", text) for text in ("yes", "ok", "а где?"))
    store.close()
    monkeypatch.setenv("JARDAM_DB", str(db))
    monkeypatch.setenv("JARDAM_FAQ_DIR", str(faq_copy))
    runner = CliRunner()
    before = faq_bytes(faq_copy)
    for qid, text in ((yes, "yes"), (ok, "ok"), (where, "а где?")):
        refused = runner.invoke(cli, ["review", "promote", str(qid), "amina-geolocation"])
        assert refused.exit_code == 1
        assert refused.output == (
            f"Error: not added: {text!r} has no word that tells one entry from another (only short words, numbers, or words like 'how', 'please', 'ok'): "
            "as a phrasing of amina-geolocation, every message like it would be answered with amina-geolocation at full confidence. "
            "Resolve or ignore the question instead. Use --force to add it all the same.\n"
        )
    assert faq_bytes(faq_copy) == before
    assert question_1_state(db) is None
    asked = json.loads(runner.invoke(cli, ["ask", "--json", "--lang", "ru", "Yes!"]).output)
    assert asked["id"] != "amina-geolocation"

    forced = runner.invoke(cli, ["review", "promote", "--force", str(yes), "amina-geolocation"])
    assert forced.exit_code == 0, forced.output
    asked = json.loads(runner.invoke(cli, ["ask", "--json", "--lang", "ru", "Yes!"]).output)
    assert (asked["outcome"], asked["id"], asked["confidence"]) == ("answer", "amina-geolocation", 100)  # what the refusal prevents


def test_promote_into_a_subject_says_where_subjects_are_written(tmp_path: Path, faq_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "r.db"
    store = Store(db)
    qid = add_question(store, *MONEY[0])
    store.close()
    monkeypatch.setenv("JARDAM_DB", str(db))
    monkeypatch.setenv("JARDAM_FAQ_DIR", str(faq_copy))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    before = {p.name: p.read_bytes() for p in faq_copy.glob("*.yaml")}

    refused = CliRunner().invoke(cli, ["review", "promote", str(qid), "money-transfers"])

    assert refused.exit_code == 1
    assert refused.output == f"Error: money-transfers is an out-of-scope subject: add the phrasing to {faq_copy / '_out_of_scope.yaml'} by hand\n"
    assert {p.name: p.read_bytes() for p in faq_copy.glob("*.yaml")} == before
    store = Store(db)
    assert review_state(store, qid) is None
    store.close()


# --- promote where the FAQ directory cannot be written ---------------------------

KAZAN = ("ru", "нужен ли патент кыргызу для работы в казани")  # patent-not-needed


@pytest.fixture
def promote_cli(tmp_path: Path, faq_copy: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A database with question 1 (KAZAN), and the environment of `jardam` pointing at it and at `faq_copy`."""
    db = tmp_path / "r.db"
    store = Store(db)
    add_question(store, *KAZAN)
    store.close()
    monkeypatch.setenv("JARDAM_DB", str(db))
    monkeypatch.setenv("JARDAM_FAQ_DIR", str(faq_copy))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return db


def faq_bytes(faq_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(faq_dir.iterdir()) if p.is_file() and p.name != ".promote.lock"}


def question_1_state(db: Path) -> str | None:
    store = Store(db)
    try:
        return review_state(store, 1)
    finally:
        store.close()


CANNOT_WRITE = "Error: cannot write the FAQ directory {} (read-only?): promote in the git checkout, then rebuild or reload"


def test_promote_without_a_faq_directory_is_one_error_line(promote_cli: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JARDAM_FAQ_DIR", str(tmp_path / "nonexistent"))
    result = CliRunner().invoke(cli, ["review", "promote", "1", "patent-not-needed"])
    assert result.exit_code == 1
    assert result.output == f"Error: no FAQ directory at {tmp_path / 'nonexistent'} (set JARDAM_FAQ_DIR)\n"
    assert question_1_state(promote_cli) is None


def test_promote_into_a_read_only_faq_directory_is_one_error_line(promote_cli: Path, faq_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As in the Docker image: the FAQ belongs to root, the bot's user cannot write it."""
    before = faq_bytes(faq_copy)
    for path in faq_copy.iterdir():
        path.chmod(0o444)
    faq_copy.chmod(0o555)
    try:
        if os.access(faq_copy, os.W_OK):  # root writes anyway: answer as the kernel would for the bot's user
            real_access = os.access
            monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if Path(p) == faq_copy and mode & os.W_OK else real_access(p, mode, **kw))
        result = CliRunner().invoke(cli, ["review", "promote", "1", "patent-not-needed"])
    finally:
        faq_copy.chmod(0o755)
    assert result.exit_code == 1
    assert result.output == CANNOT_WRITE.format(faq_copy) + "\n"
    assert faq_bytes(faq_copy) == before
    assert not (faq_copy / ".promote.lock").exists()
    assert question_1_state(promote_cli) is None


def test_a_failed_write_leaves_the_file_whole_and_is_one_error_line(promote_cli: Path, faq_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = faq_bytes(faq_copy)

    def read_only_fs(src: Any, dst: Any) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(dst))

    monkeypatch.setattr(os, "replace", read_only_fs)
    result = CliRunner().invoke(cli, ["review", "promote", "1", "patent-not-needed"])
    assert result.exit_code == 1
    assert result.output == CANNOT_WRITE.format(faq_copy) + f" (Read-only file system: {faq_copy / 'work.yaml'})\n"
    assert faq_bytes(faq_copy) == before  # and no temporary file left behind
    assert question_1_state(promote_cli) is None


def test_a_lock_that_fails_is_one_error_line(promote_cli: Path, faq_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = faq_bytes(faq_copy)

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    result = CliRunner().invoke(cli, ["review", "promote", "1", "patent-not-needed"])
    assert result.exit_code == 1
    assert result.output == CANNOT_WRITE.format(faq_copy) + " (No locks available)\n"
    assert faq_bytes(faq_copy) == before
    assert question_1_state(promote_cli) is None


def test_promote_locks_a_file_and_replaces_the_topic_file_whole(promote_cli: Path, faq_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The lock is a regular file opened for writing (flock on a directory's
    descriptor fails on NFS with EBADF), which the FAQ loader skips; the topic
    file is replaced by a complete one (a /reload meanwhile reads the old or
    the new file, never half), keeping its permissions."""
    locked, replaced = [], []
    real_flock, real_replace = fcntl.flock, os.replace

    def flock(fd: int, operation: int) -> None:
        if os.fstat(fd).st_mode and not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.EBADF, "Bad file descriptor")  # as on NFS
        locked.append((os.fstat(fd).st_ino, fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE))
        real_flock(fd, operation)

    def replace(src: Any, dst: Any) -> None:
        replaced.append((Path(src), Path(dst), Path(src).read_bytes()))
        real_replace(src, dst)

    monkeypatch.setattr(fcntl, "flock", flock)
    monkeypatch.setattr(os, "replace", replace)
    work = faq_copy / "work.yaml"
    work.chmod(0o640)
    before = work.read_bytes()

    result = CliRunner().invoke(cli, ["review", "promote", "1", "patent-not-needed"])

    assert result.exit_code == 0, result.output
    lock = faq_copy / ".promote.lock"
    assert stat.S_ISREG(lock.stat().st_mode)
    assert locked == [(lock.stat().st_ino, os.O_RDWR)]
    [(src, dst, data)] = replaced
    assert (src.parent, dst) == (faq_copy, work) and src.name.startswith(".")
    assert data == work.read_bytes() != before
    assert stat.S_IMODE(work.stat().st_mode) == 0o640
    assert sorted(p.name for p in faq_copy.iterdir() if p.name.startswith(".")) == [".promote.lock"]
    assert KAZAN[1] in load_faq(faq_copy, default_seeds_dir()).entries["patent-not-needed"].questions["ru"]
    assert question_1_state(promote_cli) == "resolved"
    assert ".promote.lock" in (ROOT / ".gitignore").read_text(encoding="utf-8")


def test_without_fcntl_promote_warns_and_works(promote_cli: Path, faq_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Windows has no fcntl: the lock is skipped with a warning, and importing the review does not fail."""
    imported = subprocess.run(
        [sys.executable, "-c", "import sys; sys.modules['fcntl'] = None; import bot.review"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert imported.returncode == 0, imported.stderr
    monkeypatch.setitem(sys.modules, "fcntl", None)  # `import fcntl` raises ImportError
    result = CliRunner().invoke(cli, ["review", "promote", "1", "patent-not-needed"])
    assert result.exit_code == 0, result.output
    assert result.stderr == "Warning: no file locks on this system (no fcntl): promotes are not locked; run one at a time\n"
    assert KAZAN[1] in load_faq(faq_copy, default_seeds_dir()).entries["patent-not-needed"].questions["ru"]
    assert not (faq_copy / ".promote.lock").exists()


# --- promotes at the same time, in separate processes -------------------------

ABOUT_BOT = ["кто тебя создал бот", "ты настоящий человек или бот", "кто отвечает в этом боте", "бот ты откуда знаешь законы"]


def _promote_in_lockstep(barrier: Any, trials: list[tuple[str, str]], ref: str, results: Any) -> None:
    """One of several processes: for each trial (database, FAQ directory),
    wait for the others, then promote question `ref` into about-bot."""
    matcher = Matcher(load_faq(ROOT / "faq", default_seeds_dir()))
    for db, faq_dir in trials:
        store = Store(db)
        barrier.wait(timeout=60)
        try:
            review.promote(store, Path(faq_dir), ref, "about-bot", seeds_dir=default_seeds_dir(), matcher=matcher)
            results.put((db, ref, "ok"))
        except Exception as exc:  # reported to the test
            results.put((db, ref, repr(exc)))
        finally:
            store.close()


def test_promotes_at_the_same_time_keep_every_phrasing_they_mark_resolved(tmp_path: Path) -> None:
    """Two or more `jardam review promote` at once into one entry: each
    phrasing is in the file, and a question is resolved only if its own is
    (without the lock, one process's edit overwrote another's)."""
    processes, rounds = 3, 3
    trials = []
    for n in range(rounds):
        faq_dir = Path(shutil.copytree(ROOT / "faq", tmp_path / f"faq{n}"))
        store = Store(tmp_path / f"r{n}.db")
        for text in ABOUT_BOT[:processes]:
            add_question(store, "ru", text)
        store.close()
        trials.append((str(tmp_path / f"r{n}.db"), str(faq_dir)))
    outcomes = in_lockstep(_promote_in_lockstep, [(trials, str(ref)) for ref in range(1, processes + 1)], processes * rounds)
    for db, faq_dir in trials:
        added = load_faq(Path(faq_dir), default_seeds_dir()).entries["about-bot"].questions["ru"]
        store = Store(db)
        asked = ABOUT_BOT[:processes]
        kept = [text for text in asked if text in added]
        resolved = [text for qid, text in enumerate(asked, 1) if review_state(store, qid) == "resolved"]
        store.close()
        assert resolved == kept, f"{faq_dir}: resolved without its phrasing in the file"
        assert kept == asked, f"{faq_dir}: phrasings lost"
    assert [o for o in outcomes if o[2] != "ok"] == []
