"""Every number that decides answer / clarify / hand off, in one place.

The values are not guesses: `jardam eval --tune` grid-searches them on the
dev half of `tests/eval/questions.yaml`, maximising correct answers while
keeping wrong answers and answered out-of-scope questions near zero, and the
holdout half is reported untouched.  Re-run it after a large FAQ change and
copy its result here; `tests/test_eval.py` holds the quality floor.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tuning:
    # Outcome thresholds on the 0–100 confidence.
    answer_at: float = 60.0  # at or above (and clear of the runner-up): answer
    answer_margin: float = 5.0  # the runner-up must be this far below to answer
    # A lower score also answers when the runner-up is far behind: one
    # entry clearly stands out even if the wording is unusual.
    answer_clear_at: float = 42.0
    answer_clear_margin: float = 12.0
    clarify_at: float = 42.0  # at or above: offer choices; below: hand off
    clarify_window: float = 12.0  # choices are entries within this of the best
    # How confidence is made from the two signals (coverage of the message's
    # informative words by an entry's vocabulary, and the best phrasing's
    # fuzzy similarity to the whole message).
    coverage_share: float = 0.2
    # Share of the TF-IDF cosine between character 4-grams of the message
    # and of all the entry's phrasings (the rest is the phrasing similarity).
    cosine_share: float = 0.35
    # Weight of a word the FAQ never uses, as a share of the rarest word's
    # weight: unknown words ("flight", "money") pull confidence down.
    unknown_word_weight: float = 1.0
    # A word found only in an entry's answer (not its questions) counts this
    # much: answers name things users ask about ("ЦВСИГ", "school").
    answer_word_strength: float = 0.2
    # Word similarity below this rapidfuzz ratio does not count as a typo.
    word_cutoff: float = 75.0


DEFAULT = Tuning()
