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
    means=(53.99695, 15.01329, 66.866449, 73.530065, 0.056902, 0.437908, 0.440087, 0.540087),
    scales=(14.200345, 11.334099, 26.697536, 13.636783, 0.102312, 0.186444, 0.700299, 0.223862),
    weights=(1.97731, 1.548771, 0.119644, -0.000471, -0.663588, 0.836149, 0.47912, 0.759541),
    bias=2.082869,
)


@dataclass(frozen=True)
class Tuning:
    # Answer when the calibrated probability that the best entry is right
    # is at least this, and the best entry leads the runner-up by at least
    # `answer_margin` score points: two entries scoring alike are offered as
    # choices whatever the model says (the labelled set rewards picking one,
    # a user is better served by choosing).
    answer_probability: float = 0.74
    answer_margin: float = 3.0
    clarify_at: float = 43.2  # best score at or above: offer choices; below: hand off
    clarify_window: float = 12.0  # choices are entries within this of the best
    # A best score from which the nearest entry is usually the right one:
    # `jardam review` suggests adding a question as its phrasing above
    # `strong_score - review.PHRASING_BAND`.
    strong_score: float = 60.0
    # How the 0–100 match score is made from three signals: coverage of the
    # message's informative words by an entry's vocabulary, the TF-IDF
    # cosine between character 4-grams of the message and of all the
    # entry's phrasings, and the rest the best phrasing's fuzzy similarity.
    coverage_share: float = 0.2
    cosine_share: float = 0.35
    # Weight of a word the FAQ never uses, as a share of the rarest word's
    # weight: unknown words ("flight", "money") pull the score down.
    unknown_word_weight: float = 1.0
    # A word found only in an entry's answer (not its questions) counts this
    # much: answers name things users ask about ("ЦВСИГ", "school").
    answer_word_strength: float = 0.2
    # Word similarity below this rapidfuzz ratio does not count as a typo.
    word_cutoff: float = 75.0
    confidence: ConfidenceModel = CONFIDENCE


DEFAULT = Tuning()
