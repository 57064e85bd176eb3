"""The matcher's fast paths give exactly what the plain loops give.

`bot.matcher` finds typo neighbours through shared-letter bitsets, adds
coverage up in packed fixed point (a small FAQ) or by a best-first search
over classes of entries (a big one), and scores only the phrasings that may
beat the best.  Each of those claims to be bit-for-bit the plain
computation.  This file writes the plain computation out (the whole
vocabulary through rapidfuzz, a dict of sums, every phrasing scored) and
compares, on the shipped FAQ (the packed path) and on a synthetic FAQ big
enough for the search, with the benchmark's realistic messages: typos,
Latin spellings, long questions, out-of-scope ones.
"""

from __future__ import annotations

import math
import operator
import random
from collections import Counter
from itertools import islice

import pytest
from rapidfuzz import fuzz, process

from bot.bench import benchmark_messages, synthetic_faq
from bot.faq import FAQ
from bot.matcher import _DENSE_UP_TO, PREFIX_LEN, PREFIX_SIMILARITY, Matcher, _bits, _positions, _unit, char_grams, stem_text
from bot.normalize import skeleton

from .conftest import ROOT

EVAL = ROOT / "tests" / "eval" / "questions.yaml"


def plain_expansions(m: Matcher, word: str) -> tuple[list[tuple[str, float]], int]:
    """`Matcher._expand` as first written: the whole vocabulary scored."""
    found: dict[str, float] = {}
    if word in m.postings:
        found[word] = 1.0
    if len(word) >= 4:
        cutoff = m.tuning.word_cutoff if len(word) >= 6 else max(m.tuning.word_cutoff, 80.0)
        for other, ratio, _ in process.extract(word, m.vocab, scorer=fuzz.ratio, score_cutoff=cutoff, limit=8):
            sim = 0.5 + 0.5 * (ratio - cutoff) / (100 - cutoff)
            found[other] = max(found.get(other, 0.0), sim)
    head = len(found)
    if len(word) >= PREFIX_LEN:
        for other in m.by_prefix.get(word[:PREFIX_LEN], ()):
            found[other] = max(found.get(other, 0.0), PREFIX_SIMILARITY)
    return list(found.items()), head


def best_of(expansions: list[tuple[str, float]]) -> str | None:
    """The most similar expansion, the first among equals (None: none)."""
    return max(expansions, key=operator.itemgetter(1))[0] if expansions else None


def plain_shortlist(m: Matcher, words: list[str], size: int) -> tuple[list[tuple[int, float]], float]:
    """Every entry's coverage weight in a dict, in the order words reach them."""
    covered: dict[int, float] = {}
    total = 0.0
    for word in words:
        expansions, _ = plain_expansions(m, word)
        weight = m._word_weight(word, best_of(expansions))
        total += weight
        best: dict[int, float] = {}
        for other, sim in expansions:
            ids, strengths = m._reaching[other]
            for idx, strength in zip(ids, strengths, strict=True):
                best[idx] = max(best.get(idx, 0.0), sim * strength)
        for idx, sim in best.items():
            covered[idx] = covered.get(idx, 0.0) + weight * sim
    return sorted(covered.items(), key=operator.itemgetter(1), reverse=True)[:size], total


def plain_phrasing(m: Matcher, idx: int, stemmed_query: str) -> float:
    best = process.extractOne(stemmed_query, m.stemmed[idx], scorer=fuzz.token_set_ratio)
    return best[1] if best else 0.0


def plain_match(m: Matcher, text: str, limit: int = 5, among: set[int] | None = None) -> list[tuple[str, float, float, float]]:
    query = skeleton(text)
    words = list(dict.fromkeys(query.split()))
    shortlist, total = plain_shortlist(m, words, max(limit, 8) if among is None else len(m.entry_ids))
    if among is not None:
        shortlist = [(idx, covered) for idx, covered in shortlist if idx in among][: max(limit, 8)]
    if total <= 0:
        return []
    stemmed_query = stem_text(query)
    profile_q = _unit({g: (1 + math.log(c)) * m.gram_idf.get(g, m.max_idf) for g, c in Counter(char_grams(query)).items()})
    share = m.tuning.coverage_share
    out = []
    for idx, cov_weight in shortlist:
        coverage = 100.0 * cov_weight / total
        ratio = process.extractOne(query, m.phrasings[idx], scorer=fuzz.ratio)
        phrasing = (plain_phrasing(m, idx, stemmed_query) + (ratio[1] if ratio else 0.0)) / 2
        cosine = 100.0 * sum(v * m.profiles[idx].get(g, 0.0) for g, v in profile_q.items())
        score = share * coverage + (1 - share - m.tuning.cosine_share) * phrasing + m.tuning.cosine_share * cosine
        out.append((m.entry_ids[idx], round(score, 1), round(coverage, 1), round(phrasing, 1)))
    out.sort(key=operator.itemgetter(1), reverse=True)
    return out[:limit]


def messages(faq: FAQ, n: int) -> list[str]:
    texts = benchmark_messages(faq, n, eval_path=EVAL, seed=7)
    # The longest ones too: they are the ones the fast paths work hardest on.
    return texts + sorted(benchmark_messages(faq, 4 * n, eval_path=EVAL, seed=8), key=len)[-n // 4 :]


@pytest.fixture(scope="module", params=[1, 15], ids=["shipped", "15x"])
def matcher(request: pytest.FixtureRequest, faq: FAQ) -> Matcher:
    return Matcher(synthetic_faq(faq, request.param))


def test_both_coverage_paths_are_exercised(matcher: Matcher, faq: FAQ) -> None:
    # The 15× FAQ is past the size where the search replaces packed sums.
    assert (len(matcher.entry_ids) > _DENSE_UP_TO) == (len(matcher.entry_ids) > 2 * len(faq.entries))


def test_typo_neighbours_are_those_of_the_whole_vocabulary(matcher: Matcher, faq: FAQ) -> None:
    words = list(dict.fromkeys(w for text in messages(faq, 120) for w in skeleton(text).split()))
    assert len(words) > 300
    for word in words:
        expansions, head = plain_expansions(matcher, word)
        got = matcher._expand(word)
        assert list(got.head) == expansions[:head], word
        assert got.grouped == (len(expansions) > head), word
        assert got.best == best_of(expansions), word


def test_shortlist_is_that_of_the_plain_sums(matcher: Matcher, faq: FAQ) -> None:
    for text in messages(faq, 160):
        words = list(dict.fromkeys(skeleton(text).split()))
        expected, _ = plain_shortlist(matcher, words, 8)
        assert matcher._shortlist([matcher._word(w) for w in words], 8) == expected, text


def test_phrasing_score_is_the_best_over_every_phrasing(matcher: Matcher, faq: FAQ) -> None:
    compared = 0
    for text in messages(faq, 120):
        stemmed_query = stem_text(skeleton(text))
        query_words = sorted(set(stemmed_query.split())) if stemmed_query.isascii() else None
        # The entries a message is scored against, and as many others.
        shortlist = [idx for idx, _ in matcher._shortlist([matcher._word(w) for w in dict.fromkeys(skeleton(text).split())], 8)]
        for idx in shortlist + list(islice(range(len(matcher.entry_ids)), compared % 7, None, 37)):
            assert matcher._token_set_best(idx, stemmed_query, query_words) == plain_phrasing(matcher, idx, stemmed_query), (text, idx)
            compared += 1
    assert compared > 1000


def test_a_phrasing_score_sought_up_to_a_floor_is_exact_from_the_floor_up(matcher: Matcher, faq: FAQ) -> None:
    """Below the floor `_token_set_best` may stop early, with any score below it."""
    below = 0
    for text in messages(faq, 60):
        stemmed_query = stem_text(skeleton(text))
        query_words = sorted(set(stemmed_query.split())) if stemmed_query.isascii() else None
        shortlist = [idx for idx, _ in matcher._shortlist([matcher._word(w) for w in dict.fromkeys(skeleton(text).split())], 8)]
        for idx in shortlist:
            exact = plain_phrasing(matcher, idx, stemmed_query)
            for floor in (exact - 20, exact - 0.5, exact, exact + 0.5, exact + 20):
                got = matcher._token_set_best(idx, stemmed_query, query_words, floor)
                if exact >= floor:
                    assert got == exact, (text, idx, floor)
                else:
                    assert got < floor, (text, idx, floor)
                    below += 1
    assert below > 100


def test_candidates_that_cannot_rank_are_not_scored_in_full(matcher: Matcher, faq: FAQ, monkeypatch: pytest.MonkeyPatch) -> None:
    """Of the eight shortlisted, some are left out once five score above
    what they can reach, and the match is still the plain one."""
    floors: list[float] = []
    scored = matcher._token_set_best

    def counted(idx: int, stemmed_query: str, query_words: list[str] | None, floor: float = 0.0) -> float:
        floors.append(floor)
        return scored(idx, stemmed_query, query_words, floor)

    monkeypatch.setattr(matcher, "_token_set_best", counted)
    matcher._match.cache_clear()
    texts = messages(faq, 80)
    shortlisted = 0
    for text in texts:
        shortlisted += len(matcher._shortlist([matcher._word(w) for w in dict.fromkeys(skeleton(text).split())], 8))
        got = [(c.entry_id, c.score, c.coverage, c.phrasing) for c in matcher.match(text)]
        assert got == plain_match(matcher, text), text
    matcher._match.cache_clear()
    assert sum(1 for floor in floors if floor > 0) > len(texts)  # sought only up to a floor
    assert len(floors) < shortlisted  # some not at all


def test_match_is_the_plain_match(matcher: Matcher, faq: FAQ) -> None:
    for text in messages(faq, 120):
        got = [(c.entry_id, c.score, c.coverage, c.phrasing) for c in matcher.match(text)]
        assert got == plain_match(matcher, text), text


def test_a_match_among_some_entries_is_the_plain_match_of_those(matcher: Matcher, faq: FAQ) -> None:
    """`match(among=…)`, which scores a question of a two-question message
    only among the whole message's candidates."""
    for i, text in enumerate(messages(faq, 60)):
        full = matcher.match(text, limit=8)
        among = [c.entry_id for c in full[1::2]] + list(islice(matcher.entry_ids, i % 7, None, 53))[:4]
        got = [(c.entry_id, c.score, c.coverage, c.phrasing) for c in matcher.match(text, among=among)]
        assert got == plain_match(matcher, text, among={matcher.entry_ids.index(e) for e in among}), text


def test_a_question_asked_again_is_answered_from_the_first_match(matcher: Matcher) -> None:
    first = matcher.match("Патент канча турат? Москвада")
    hits = matcher._match.cache_info().hits
    again = matcher.match("патент канча турат москвада!!")
    assert again == first and again is not first
    assert matcher._match.cache_info().hits == hits + 1
    assert [(c.entry_id, c.score, c.coverage, c.phrasing) for c in again] == plain_match(matcher, "патент канча турат москвада")
    again.clear()  # a caller's list is its own
    assert matcher.match("патент канча турат москвада") == first


@pytest.mark.parametrize(("width", "count"), [(0, 0), (1, 1), (64, 3), (3600, 50), (3600, 3600), (19000, 52), (19000, 5000)])
def test_positions_are_the_set_bits(width: int, count: int) -> None:
    rng = random.Random(width * 7 + count)
    wanted = sorted(rng.sample(range(width), count))
    bits = _bits(wanted)
    assert bits == sum(1 << p for p in wanted)
    assert _positions(bits) == wanted
