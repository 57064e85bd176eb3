"""Answer quality: the issue's targets on the labelled set, and fixed expectations.

These are quality floors, not timings.  The issue's targets are at least
90 % of in-scope questions answered correctly, at most 3 % answered wrongly,
and at least 90 % of out-of-scope questions refused (handed off or
clarified), on the whole set; the holdout split, never tuned on, must reach
90 % too.  The figures reached are in the README ("Quality figures").
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.engine import Engine, decide, may_assert
from bot.evaluation import Baseline, Report, better_of, engine_objective, evaluate, evaluate_engine, format_report, load_items, run_report, split_items
from bot.parts import asked_parts, question_sentence

EVAL = Path(__file__).parent / "eval" / "questions.yaml"
REVIEWS = Path(__file__).parent / "eval" / "reviews.yaml"


@pytest.fixture(scope="module")
def report(engine: Engine):  # type: ignore[no-untyped-def]
    return run_report(load_items(EVAL), engine)


def test_labelled_set_shape() -> None:
    items = load_items(EVAL)
    assert len(items) >= 200
    for lang in ("ky", "ru", "en"):
        assert sum(1 for i in items if i.lang == lang) >= 60
    assert sum(1 for i in items if not i.in_scope) >= len(items) / 4
    parts = split_items(items)
    assert len(parts["holdout"]) >= 150 and len(parts["dev"]) >= 150


def test_safety_targets_on_whole_set(report) -> None:  # type: ignore[no-untyped-def]
    overall = report.engine["all"]["all"].summary()
    assert overall["wrong_pct"] <= 3.0
    assert overall["oos_refused_pct"] >= 90.0


def test_quality_targets(report) -> None:  # type: ignore[no-untyped-def]
    ours = report.engine
    assert ours["all"]["all"].summary()["correct_pct"] >= 90.0
    assert ours["holdout"]["all"].summary()["correct_pct"] >= 90.0
    assert ours["holdout"]["all"].summary()["wrong_pct"] <= 3.0
    assert ours["holdout"]["all"].summary()["oos_refused_pct"] >= 90.0
    for lang in ("ky", "ru", "en"):
        assert ours["all"][lang].summary()["correct_pct"] >= 90.0, lang
        assert ours["all"][lang].summary()["lang_right_pct"] >= 97.0, lang


def test_beats_naive_baseline(report) -> None:  # type: ignore[no-untyped-def]
    ours = report.engine["holdout"]["all"].summary()
    theirs = report.baseline["holdout"]["all"].summary()
    assert ours["correct_pct"] >= theirs["correct_pct"] + 40


def test_figures_never_measured_are_none_not_zero(report, engine: Engine) -> None:  # type: ignore[no-untyped-def]
    # The baseline detects no language; the engine does.
    assert report.baseline["all"]["all"].summary()["lang_right_pct"] is None
    assert report.engine["all"]["all"].summary()["lang_right_pct"] is not None
    in_scope = [i for i in load_items(EVAL) if i.in_scope][:3]
    ours = evaluate_engine(in_scope, engine)["all"].summary()
    assert ours["correct_pct"] is not None and ours["oos_answered_pct"] is None  # no out-of-scope question
    theirs = evaluate(in_scope, Baseline(engine.faq), engine.tuning)
    empty = evaluate_engine([], engine)
    assert all(value is None for key, value in empty["all"].summary().items() if key.endswith("_pct"))
    measured = evaluate_engine(in_scope, engine)
    table = format_report(Report({"dev": measured, "holdout": empty, "all": measured}, {"dev": theirs}, engine.tuning))
    rows = {tuple(line.split()[:2]): line.split("|") for line in table.splitlines() if line.startswith(("dev ", "holdout "))}
    assert [cell.split() for cell in rows[("holdout", "all")][1:]] == [["-"] * 4, ["0", "-", "-", "-"], ["-"]]
    baseline_row = table.split("Baseline")[1].splitlines()[2]
    assert baseline_row.startswith("dev ") and baseline_row.split("|")[-1].strip() == "-"


def test_baseline_is_a_real_matcher(engine: Engine) -> None:
    items = [i for i in load_items(EVAL) if i.in_scope][:50]
    tally = evaluate(items, Baseline(engine.faq), engine.tuning)["all"]
    assert tally.correct + tally.wrong + tally.clarified + tally.handed_off == 50


# Fixed expectations: when a threshold, the FAQ or a library changes these
# outcomes, this table says so loudly.
EXPECTED = [
    ("patent kerekpi", "answer", "patent-not-needed", "ky"),
    ("Кыргызстандыктарга Орусияда иштөө үчүн патент керекпи?", "answer", "patent-not-needed", "ky"),
    ("нужен ли патент гражданам Кыргызстана", "answer", "patent-not-needed", "ru"),
    ("kak proverit zapret na vezd", "answer", "ban-check", "ru"),
    ("how do I check if I have an entry ban", "answer", "ban-check", "en"),
    ("реестрден кантип чыгам", "answer", "register-removal", "ky"),
    ("Амина деген эмне", "answer", "amina-what-is", "ky"),
    ("сколько дней можно быть в России без договора", "answer", "stay-without-contract", "ru"),
    ("Амина?", "clarify", None, None),
    ("какой курс доллара сегодня", "handoff", None, "ru"),
    ("how to buy a plane ticket to Moscow", "handoff", None, "en"),
    ("🙏🙏🙏", "clarify", None, None),
    # Small talk is answered kindly, not matched or handed off.
    ("спасибо", "clarify", None, "ru"),
    ("привет", "clarify", None, "ru"),
    # Known out-of-scope subjects are handed off, not answered by a look-alike.
    ("how do I send money home to Kyrgyzstan", "handoff", None, "en"),
    ("Казакстанда каттоо канча күнгө чейин керек", "handoff", None, "ky"),
]


@pytest.mark.parametrize(("text", "outcome", "entry", "lang"), EXPECTED)
def test_fixed_expectations(engine: Engine, text: str, outcome: str, entry: str | None, lang: str | None) -> None:
    reply = engine.reply(text, "ru")
    assert (reply.outcome, reply.entry_id) == (outcome, entry)
    if lang:
        assert reply.lang == lang


def test_review_sets_hold_their_floors(engine: Engine) -> None:
    """The reviewers' messages and probes (`reviews.yaml`) are harder than
    the labelled set: chat-style stories and look-alikes built to share an
    entry's words while asking what it does not say.  These floors are the
    figures of 2026-11-25 less a little room, so that a change that answers
    more of them wrongly, or refuses fewer look-alikes, fails here; they are
    not targets met.  The holdout split (the blind halves of h19a to h26a,
    h29a and h31a to h65a) was never tuned on: there a look-alike is still
    answered about one time in eleven (see the README).  The floors moved
    once, with the confidence model refitted on the dev splits of both sets
    (2026-11-25): answers fell by three points on each split for a third
    fewer look-alikes answered (dev 5.7 → 4.0 %, holdout 11.7 → 8.9 %); and
    the used floor once more with h60a–h65a, whose used halves are harder
    than the rest (a writer's own dates; someone else asking): 76.1 → 75.2 %."""
    parts = split_items(load_items(REVIEWS, engine.faq))
    used, blind = (evaluate_engine(parts[name], engine)["all"].summary() for name in ("dev", "holdout"))
    assert used["in_scope"] >= 715 and used["out_of_scope"] >= 585 and blind["in_scope"] >= 260 and blind["out_of_scope"] >= 300
    assert used["wrong_pct"] <= 0.5
    assert used["oos_answered_pct"] <= 5.0
    assert used["correct_pct"] >= 74.5
    assert blind["wrong_pct"] <= 1.0
    assert blind["oos_answered_pct"] <= 10.0
    assert blind["correct_pct"] >= 70.5


def test_a_tuning_replaces_the_shipped_one_only_if_the_engines_replies_score_better(engine: Engine) -> None:
    dev = split_items(load_items(EVAL))["dev"]
    timid = replace(engine.tuning, answer_probability=0.99)  # answers almost nothing
    kept, before, after = better_of(dev, engine, timid)
    assert kept is engine.tuning and after < before
    assert before == engine_objective(dev, engine)
    same = replace(engine.tuning)
    assert better_of(dev, engine, same)[0] is engine.tuning  # a tie keeps what is shipped
    bold = replace(engine.tuning, answer_probability=0.0, answer_margin=0.0)  # answers everything, wrong ones too
    assert better_of(dev, engine, bold)[0] is engine.tuning
    shipped_timid = Engine(engine.faq, engine.catalogs, tuning=timid)
    assert better_of(dev, shipped_timid, engine.tuning)[0] is engine.tuning  # a better one replaces it


def test_the_tuner_holds_back_what_the_engines_replies_hold_back(engine: Engine) -> None:
    """`may_assert`, which `--tune` judges its thresholds by, says of every
    confident best match whether the user gets it as the answer: the two
    must not drift apart as rules are added to the engine."""
    held = answered = 0
    for item in load_items(EVAL) + load_items(REVIEWS):
        if question_sentence(item.q) is not None:
            continue  # its question sentence may be answered alone (`Engine._by_its_question`)
        if asked_parts(item.q):
            continue  # each of its questions may be answered alone (`Engine._parts`)
        candidates, evidence = engine.assess(item.q)
        if not candidates or candidates[0].out_of_scope:
            continue
        _, _, probability = decide(candidates, evidence, engine.tuning)
        runner_up = candidates[1].score if len(candidates) > 1 else 0.0
        if probability < engine.tuning.answer_probability or candidates[0].score - runner_up < engine.tuning.answer_margin:
            continue
        reply = engine.reply(item.q)
        if reply.outcome == "clarify" and not reply.choices:
            continue  # small talk, answered before any match
        asserted = may_assert(item.q, candidates[0], evidence, engine.tuning, engine._subjects)
        assert (reply.outcome == "answer") == asserted, (item.q, reply.outcome)
        held += not asserted
        answered += asserted
    assert held > 60 and answered > 800
