"""How likely the best entry is the right answer: a calibrated confidence.

Raw match scores of in-scope and out-of-scope questions overlap: an
unrelated question that shares a few words with an entry can score as high
as a real question typed in unusual words, and a plain threshold on the
score must then be set high, sending many good matches to "did you mean".
What separates the two is the shape of the evidence — how far the best
entry is ahead of the next, how much of the message the FAQ's vocabulary
covers, how many of its words the FAQ never uses, how much it says at all.
A logistic regression over those few features, fitted on the dev splits
of the labelled set and of the review set, whose look-alikes are the near
misses the labelled set lacks (`jardam eval --tune`), turns them into the
probability that answering would be right, and the engine answers only
above a threshold chosen on the same splits.

A handful of features and a few thousand examples: fitted in pure Python by
Newton's method, with no numerical library to install or import.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # tuning.py holds a model, and the matcher imports tuning
    from .matcher import Candidate

FEATURES: tuple[str, ...] = (
    "score",  # the best entry's 0–100 match score
    "gap",  # its lead over the runner-up
    "coverage",  # share of the message's informative wording it accounts for
    "phrasing",  # similarity to its closest phrasing
    "unknown_share",  # share of the message's words the FAQ never uses
    "length",  # words in the message, capped at 20, over 20
    "unknown",  # count of words the FAQ never uses
    "informative",  # words that are neither filler nor 1–2 letters, capped at 10, over 10
)


@dataclass(frozen=True)
class Evidence:
    """What the message itself says, apart from the entries' scores."""

    words: int
    informative: int
    unknown: int


@dataclass(frozen=True)
class ConfidenceModel:
    """A fitted logistic regression over standardised `FEATURES`."""

    means: tuple[float, ...]
    scales: tuple[float, ...]
    weights: tuple[float, ...]
    bias: float

    def probability(self, candidates: Sequence[Candidate], evidence: Evidence) -> float:
        """Probability (0–1) that answering with `candidates[0]` is right."""
        if not candidates:
            return 0.0
        return self.probability_of(features(candidates, evidence))

    def probability_of(self, values: Sequence[float]) -> float:
        z = self.bias + sum(
            w * (v - m) / s for v, m, s, w in zip(values, self.means, self.scales, self.weights, strict=True)
        )
        return _sigmoid(z)


def features(candidates: Sequence[Candidate], evidence: Evidence) -> list[float]:
    """The evidence about the best candidate, in the order of `FEATURES`."""
    score = candidates[0].score if candidates else 0.0
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    return [
        score,
        score - runner_up,
        candidates[0].coverage if candidates else 0.0,
        candidates[0].phrasing if candidates else 0.0,
        evidence.unknown / max(1, evidence.words),
        min(evidence.words, 20) / 20,
        float(evidence.unknown),
        min(evidence.informative, 10) / 10,
    ]


def _sigmoid(z: float) -> float:
    z = max(-60.0, min(60.0, z))
    return 1.0 / (1.0 + math.exp(-z))


def fit(rows: Sequence[Sequence[float]], labels: Sequence[int], *, ridge: float = 1.0, steps: int = 30) -> ConfidenceModel:
    """Logistic regression by Newton's method on standardised features.

    The ridge penalty keeps the weights small: several features move
    together (score, coverage, phrasing), and without it the fit would
    trade them against each other to chase single dev questions.
    """
    if not rows:
        raise ValueError("no examples to fit the confidence model on")
    n = len(rows[0])
    means = [sum(r[j] for r in rows) / len(rows) for j in range(n)]
    # A feature that does not vary (within rounding) is left unscaled.
    spread = [math.sqrt(sum((r[j] - means[j]) ** 2 for r in rows) / len(rows)) for j in range(n)]
    scales = [s if s > 1e-6 else 1.0 for s in spread]
    xs = [[(r[j] - means[j]) / scales[j] for j in range(n)] + [1.0] for r in rows]
    w = [0.0] * (n + 1)
    for _ in range(steps):
        grad = [0.0] * (n + 1)
        hess = [[0.0] * (n + 1) for _ in range(n + 1)]
        for x, y in zip(xs, labels, strict=True):
            p = _sigmoid(sum(a * b for a, b in zip(w, x, strict=True)))
            pq = p * (1 - p)
            for i in range(n + 1):
                grad[i] += (p - y) * x[i]
                row = hess[i]
                for k in range(n + 1):
                    row[k] += pq * x[i] * x[k]
        for i in range(n):  # ridge on the weights, not the bias
            grad[i] += ridge * w[i]
            hess[i][i] += ridge
        step = _solve(hess, grad)
        w = [a - b for a, b in zip(w, step, strict=True)]
        if max(abs(s) for s in step) < 1e-9:
            break
    return ConfidenceModel(
        tuple(round(m, 6) for m in means),
        tuple(round(s, 6) for s in scales),
        tuple(round(x, 6) for x in w[:n]),
        round(w[n], 6),
    )


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting (a small, well-posed system:
    the ridge keeps it positive definite)."""
    size = len(vector)
    a = [row[:] + [vector[i]] for i, row in enumerate(matrix)]
    for col in range(size):
        pivot = max(range(col, size), key=lambda r: abs(a[r][col]))
        a[col], a[pivot] = a[pivot], a[col]
        if abs(a[col][col]) < 1e-12:
            continue
        for r in range(col + 1, size):
            factor = a[r][col] / a[col][col]
            for c in range(col, size + 1):
                a[r][c] -= factor * a[col][c]
    out = [0.0] * size
    for r in range(size - 1, -1, -1):
        if abs(a[r][r]) < 1e-12:
            continue
        out[r] = (a[r][size] - sum(a[r][c] * out[c] for c in range(r + 1, size))) / a[r][r]
    return out
