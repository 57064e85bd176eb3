"""The calibrated confidence: fitting, probabilities, and how `decide` uses them."""

from __future__ import annotations

import random
from dataclasses import asdict, replace

from bot.calibration import FEATURES, ConfidenceModel, Evidence, features, fit
from bot.engine import decide
from bot.evaluation import EvalItem, tune_thresholds
from bot.matcher import Candidate
from bot.tuning import DEFAULT


def test_fit_learns_which_feature_predicts_the_label() -> None:
    rng = random.Random(7)
    rows, labels = [], []
    for _ in range(400):
        signal, noise = rng.random(), rng.random()
        rows.append([signal, noise])
        labels.append(int(signal + rng.gauss(0, 0.1) > 0.5))
    model = fit(rows, labels, ridge=1.0)
    assert model.weights[0] > 1.0 > abs(model.weights[1])
    assert model.probability_of([0.95, 0.5]) > 0.9
    assert model.probability_of([0.05, 0.5]) < 0.1
    assert model.probability_of([0.5, 0.1]) == model.probability_of([0.5, 0.1])  # pure function


def test_ridge_shrinks_weights() -> None:
    rows = [[float(i), float(i % 3)] for i in range(40)]
    labels = [int(i >= 20) for i in range(40)]
    loose, tight = fit(rows, labels, ridge=0.01), fit(rows, labels, ridge=10.0)
    assert abs(tight.weights[0]) < abs(loose.weights[0])


def test_features_follow_the_declared_order() -> None:
    cands = [Candidate("a", 70.0, 80.0, 60.0), Candidate("b", 50.0, 40.0, 40.0)]
    values = dict(zip(FEATURES, features(cands, Evidence(words=4, informative=3, unknown=1)), strict=True))
    assert values == {
        "score": 70.0,
        "gap": 20.0,
        "coverage": 80.0,
        "phrasing": 60.0,
        "unknown_share": 0.25,
        "length": 0.2,
        "unknown": 1.0,
        "informative": 0.3,
    }


def _model_on_score() -> ConfidenceModel:
    # Probability rises with the score only: 0.5 at a score of 50.
    n = len(FEATURES)
    return ConfidenceModel((50.0,) + (0.0,) * (n - 1), (5.0,) + (1.0,) * (n - 1), (1.0,) + (0.0,) * (n - 1), 0.0)


def test_decide_answers_only_when_probable_and_clear() -> None:
    tuning = replace(DEFAULT, confidence=_model_on_score(), answer_probability=0.8, answer_margin=3.0, clarify_at=40.0)
    evidence = Evidence(3, 3, 0)
    clear = [Candidate("a", 70.0, 0, 0), Candidate("b", 50.0, 0, 0)]
    assert decide(clear, evidence, tuning)[:2] == ("answer", [clear[0]])
    tied = [Candidate("a", 70.0, 0, 0), Candidate("b", 68.0, 0, 0)]
    outcome, chosen, probability = decide(tied, evidence, tuning)
    assert outcome == "clarify" and [c.entry_id for c in chosen] == ["a", "b"] and probability > 0.95
    unsure = [Candidate("a", 45.0, 0, 0)]
    assert decide(unsure, evidence, tuning)[0] == "clarify"
    far = [Candidate("a", 30.0, 0, 0)]
    assert decide(far, evidence, tuning)[0] == "handoff"
    assert decide([], evidence, tuning) == ("handoff", [], 0.0)


def test_one_word_names_a_subject_and_is_offered_not_answered() -> None:
    tuning = replace(DEFAULT, confidence=_model_on_score(), answer_probability=0.8, answer_margin=3.0, clarify_at=40.0)
    clear = [Candidate("a", 70.0, 0, 0), Candidate("b", 50.0, 0, 0)]
    assert decide(clear, Evidence(1, 1, 0), tuning)[:2] == ("clarify", [clear[0]])  # "дети"
    assert decide(clear, Evidence(3, 1, 0), tuning)[0] == "clarify"  # "ок а сколько"
    assert decide(clear, Evidence(5, 0, 0), tuning)[0] == "clarify"  # "ok but what about me"
    assert decide(clear, Evidence(5, 1, 0), tuning)[:2] == ("answer", [clear[0]])  # "what is the Amina app"
    assert decide(clear, Evidence(2, 2, 0), tuning)[:2] == ("answer", [clear[0]])  # "патент керекпи"
    own = [Candidate("a", 70.0, 0, 100.0), Candidate("b", 50.0, 0, 0)]  # an entry's own phrasing, as written
    assert decide(own, Evidence(2, 1, 0), tuning)[:2] == ("answer", [own[0]])  # "сахарово где"


def test_a_message_its_entrys_questions_cover_little_of_is_offered_not_answered() -> None:
    tuning = replace(DEFAULT, confidence=_model_on_score(), answer_probability=0.8, answer_margin=3.0, clarify_at=40.0, answer_question_coverage=40.0)
    evidence = Evidence(5, 5, 0)
    covered = [Candidate("a", 70.0, 0, 0, question_coverage=40.0), Candidate("b", 50.0, 0, 0)]
    assert decide(covered, evidence, tuning)[:2] == ("answer", [covered[0]])
    beside = [Candidate("a", 70.0, 0, 0, question_coverage=39.9), Candidate("b", 50.0, 0, 0)]
    assert decide(beside, evidence, tuning)[:2] == ("clarify", [beside[0]])  # only "a": "Do you mean this?"
    unmeasured = [Candidate("a", 70.0, 0, 0), Candidate("b", 50.0, 0, 0)]
    assert decide(unmeasured, evidence, tuning)[0] == "answer"


def test_below_the_choices_score_one_entry_well_ahead_and_nearly_sure_is_offered() -> None:
    """Under `clarify_at` there is no choice among several; an entry the
    model is nearly sure of (`offer_probability`) and well ahead is offered
    alone rather than sent to a person."""
    tuning = replace(DEFAULT, confidence=_model_on_score(), answer_probability=0.8, offer_probability=0.6, answer_margin=3.0, clarify_at=60.0)
    evidence = Evidence(4, 4, 0)
    near = [Candidate("a", 53.0, 0, 0), Candidate("b", 45.0, 0, 0)]  # 65 % sure
    outcome, chosen, probability = decide(near, evidence, tuning)
    assert (outcome, chosen) == ("clarify", [near[0]]) and 0.6 <= probability < 0.8
    assert decide([Candidate("a", 52.0, 0, 0)], evidence, tuning)[0] == "handoff"  # 60 % less a little
    close = [Candidate("a", 53.0, 0, 0), Candidate("b", 51.0, 0, 0)]  # ahead by 2
    assert decide(close, evidence, tuning)[0] == "handoff"
    assert decide(near, Evidence(1, 1, 0), tuning)[0] == "handoff"  # one word names a subject
    unanswered = [Candidate("x", 53.0, 0, 0, out_of_scope=True), Candidate("a", 45.0, 0, 0)]
    assert decide(unanswered, evidence, tuning)[0] == "handoff"


def test_tuning_keeps_wrong_answers_out() -> None:
    # High scores are right, middling ones are wrong half the time, and
    # out-of-scope questions score low: tuning must answer only the first.
    items, table = [], {}
    for i in range(60):
        score = 80.0 + i % 10 if i < 30 else 55.0 + i % 5
        right = i < 30 or i % 2 == 0
        q = f"q{i}"
        items.append(EvalItem(q, "en", frozenset({"a"}), "dev"))
        table[q] = [Candidate("a" if right else "b", score, score, score), Candidate("c", score - 20, 0, 0)]
    for i in range(20):
        q = f"oos{i}"
        items.append(EvalItem(q, "en", frozenset(), "dev"))
        table[q] = [Candidate("a", 40.0 + i % 5, 30, 30), Candidate("c", 30.0, 0, 0)]
    tuned, _ = tune_thresholds(items, lambda q: (table[q], Evidence(3, 3, 0)), DEFAULT)
    answered = [q for q in table if decide(table[q], Evidence(3, 3, 0), tuned)[0] == "answer"]
    assert {f"q{i}" for i in range(30)} <= set(answered)
    assert not [q for q in answered if q.startswith("oos") or int(q[1:]) >= 30 and int(q[1:]) % 2]


def test_tuning_module_rewrite_changes_only_values() -> None:
    from pathlib import Path

    import bot.tuning as module
    from bot.evaluation import rewrite_tuning_module

    source = Path(module.__file__).read_text(encoding="utf-8")
    assert rewrite_tuning_module(source, DEFAULT) == source
    tuned = replace(DEFAULT, answer_probability=0.61, clarify_at=40.5, confidence=_model_on_score())
    rewritten = rewrite_tuning_module(source, tuned)
    namespace: dict[str, object] = {}
    exec(compile(rewritten.replace("from .calibration", "from bot.calibration"), "tuning.py", "exec"), namespace)
    assert asdict(namespace["DEFAULT"]) == asdict(tuned)  # type: ignore[call-overload]
    changed = [line for line in rewritten.splitlines() if line not in source.splitlines()]
    assert len(changed) <= 6  # the model's four lines and two thresholds


def test_the_tuner_counts_what_the_engines_rules_hold_back_as_not_answered() -> None:
    """In-scope questions and look-alikes the matcher cannot tell apart:
    answering them all costs more than it wins, unless the engine's rules
    (`engine.may_assert`) hold the look-alikes back, as they do in the
    replies users get; the tuner sees that only when given the rules."""
    items, table = [], {}
    for i in range(50):
        q = f"q{i}" if i < 30 else f"lookalike{i}"
        items.append(EvalItem(q, "en", frozenset({"a"}) if i < 30 else frozenset(), "dev"))
        table[q] = [Candidate("a", 80.0 + i % 10, 80.0, 80.0), Candidate("c", 50.0, 0, 0)]

    def scorer(q: str) -> tuple[list[Candidate], Evidence]:
        return table[q], Evidence(3, 3, 0)

    blind, blind_score = tune_thresholds(items, scorer, DEFAULT)
    ruled, ruled_score = tune_thresholds(items, scorer, DEFAULT, asserts=lambda q, best, evidence: not q.startswith("lookalike"))
    assert blind_score == 0.0 and ruled_score == 60.0  # nothing answered; the 30 answered, of 50
    assert not any(decide(table[q], Evidence(3, 3, 0), blind)[0] == "answer" for q in table)
    assert all(decide(table[f"q{i}"], Evidence(3, 3, 0), ruled)[0] == "answer" for i in range(30))
