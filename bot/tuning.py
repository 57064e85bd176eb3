"""Every number that decides answer / clarify / hand off, in one place.

The values are not guesses: `jardam eval --tune` searches them on the dev
split of `tests/eval/questions.yaml` — the matcher's weights by grid search,
the confidence model by fitting it (`calibration.py`), the thresholds by
grid search — maximising correct answers while a wrong answer costs five
missed ones, and the holdout split is reported untouched.  Re-run it after
a large FAQ change and copy its result here; `tests/test_eval.py` holds the
quality floor.
"""

from __future__ import annotations

from dataclasses import dataclass

from .calibration import ConfidenceModel

# Fitted by `jardam eval --tune` on the dev split (see calibration.FEATURES
# for the order: score, gap, coverage, phrasing, unknown_share, length,
# unknown, informative).
CONFIDENCE = ConfidenceModel(
    means=(55.757107, 15.455201, 75.345213, 72.683589, 0.017633, 0.306465, 0.109822, 0.402777),
    scales=(11.723066, 10.944153, 21.266217, 11.634148, 0.059876, 0.134711, 0.341796, 0.164141),
    weights=(2.988796, 2.003448, -1.827096, -0.841348, -0.253511, -0.085947, 0.005298, 0.260803),
    bias=3.028224,
)


@dataclass(frozen=True)
class Tuning:
    # Answer when the calibrated probability that the best entry is right
    # is at least this, and the best entry leads the runner-up by at least
    # `answer_margin` score points: two entries scoring alike are offered as
    # choices whatever the model says (the labelled set rewards picking one,
    # a user is better served by choosing).
    answer_probability: float = 0.77
    answer_margin: float = 3.0
    # An answer the confidence model would give is only offered ("Do you
    # mean this?") when the entry's own phrasings, titles and keywords cover
    # less than this share of the message (`Candidate.question_coverage`):
    # such a message reaches the entry through its subject and its answer's
    # words while asking something else.  Not searched by `--tune`: the dev
    # split has no look-alike left answered to weigh it on.  Chosen on half
    # of a reviewer's fresh probes (h19a): 40 offers 8 of the 17 look-alikes
    # answered there instead of answering them, and 20 of the ~790 answers
    # right on the labelled and review sets become one tap.
    answer_question_coverage: float = 40.0
    clarify_at: float = 51.7  # best score at or above: offer choices; below: hand off
    clarify_window: float = 12.0  # choices are entries within this of the best
    # A best score from which the nearest entry is usually the right one:
    # `jardam review` suggests adding a question as its phrasing above
    # `strong_score - review.PHRASING_BAND`.
    strong_score: float = 60.0
    # How the 0–100 match score is made from three signals: coverage of the
    # message's informative words by an entry's vocabulary, the TF-IDF
    # cosine between character 4-grams of the message and of all the
    # entry's phrasings, and the rest the best phrasing's fuzzy similarity.
    coverage_share: float = 0.3
    cosine_share: float = 0.35
    # Weight of a word the FAQ never uses, as a share of the rarest word's
    # weight: unknown words ("flight", "money") pull the score down.
    unknown_word_weight: float = 0.8
    # A word found only in an entry's answer (not its questions) counts this
    # much: answers name things users ask about ("ЦВСИГ", "school").
    answer_word_strength: float = 0.2
    # Word similarity below this rapidfuzz ratio does not count as a typo.
    word_cutoff: float = 75.0
    confidence: ConfidenceModel = CONFIDENCE


DEFAULT = Tuning()
