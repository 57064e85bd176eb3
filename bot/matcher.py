"""Finding the FAQ entries closest to a message, with a 0–100 score.

Two signals, both on skeletons (see `normalize`):

* coverage — how much of the message's *informative* wording an entry's
  vocabulary (all its phrasings in all languages, title, keywords) accounts
  for.  Words are weighted by rarity across entries, typos and suffixes
  ("патентти", "zapreta") count through rapidfuzz word similarity and shared
  prefixes, and words the FAQ never uses ("flight", "money") weigh heavily
  against every entry: this is what makes out-of-scope questions fall to a
  hand-off instead of matching on "Russia" or "documents".
* phrasing — rapidfuzz similarity of the whole message to the entry's
  closest phrasing, which rewards word order and rejects bags of keywords.

The index is built once per FAQ; `match` does no I/O and allocates little.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz, process

from .faq import FAQ, LANGS
from .normalize import skeleton, tokens
from .tuning import DEFAULT, Tuning

# Greetings, politeness and function words: they say nothing about which
# entry a question is for, yet the FAQ uses some of them rarely, which would
# make them look informative.  Kyrgyz is written without ө/ү/ң here: the
# skeleton folds those anyway.
_FILLER_TEXT = (
    # ky
    "салам саламатсызбы ассалому алейкум брат байке эже карындаш рахмат жардам бериниз бериңизчи "
    "суроо суроом мен сен ал биз силер алар менин сенин анын биздин силердин алардын мага сага ага "
    "бизге бизде бизди мени сени аны эмне эмнеге эмнени кантип канча кайда кайдан качан ким кимге "
    "кайсы жок жокпу бар барбы да дагы деле эле го бу бул ушул ошол тиги жана же менен учун "
    "жонундо тууралуу болот болобу болсо болуп болду эмес эмеспи деп дейт экен элем ооба азыр "
    "абдан коп аз чын чынбы туурабы сураймын билбейм айтып бериниз кандай "
    # ru
    "здравствуйте привет добрый день вечер утро пожалуйста помогите подскажите скажите скажи "
    "спасибо братан сестра вопрос срочно я ты он она мы вы они мне меня мой моя мои у в на с со "
    "к по за из от до о об про для и а но или ли же бы не ни да нет это этот эта что как где "
    "когда кто какой какая какие есть был была было быть если то так уже еще тоже только вот ну "
    "вообще правда знаю знать хочу "
    # en
    "hello hi hey please help thanks thank you brother sister question urgent i me my you your "
    "he she it we they our a an the is are am was were be been do does did to of in on at for "
    "with from by about and or but if that this these those there what how where when who which "
    "can could would will so just really true now any some tell know want pls plz salam brat "
    "pomogite pojaluista"
)
FILLER_WORDS = frozenset(tokens(_FILLER_TEXT))
PREFIX_LEN = 5
PREFIX_SIMILARITY = 0.85


def stem_text(skeleton_text: str) -> str:
    """Words cut to their first letters: a crude stemmer for Kyrgyz and
    Russian endings ("патентти", "регистрациясыз", "запрета"); the length
    was chosen on the dev split (5 beat 6 and 7)."""
    return " ".join(w[:PREFIX_LEN] for w in skeleton_text.split())



def char_grams(skeleton_text: str, n: int = 4) -> list[str]:
    """Character n-grams of each word, padded: typo- and ending-tolerant."""
    grams: list[str] = []
    for word in skeleton_text.split():
        padded = f" {word} "
        grams.extend(padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))
    return grams


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {k: v / norm for k, v in vector.items()}


@dataclass(frozen=True)
class Candidate:
    """An entry and how well it fits the message (0–100)."""

    entry_id: str
    score: float
    coverage: float
    phrasing: float


class Matcher:
    """Scores FAQ entries against messages; build once, query often."""

    def __init__(self, faq: FAQ, tuning: Tuning = DEFAULT):
        self.tuning = tuning
        self.entry_ids: list[str] = list(faq.entries)
        self.phrasings: list[list[str]] = []
        self.profiles: list[dict[str, float]] = []
        gram_counts: list[Counter[str]] = []
        self.stemmed: list[list[str]] = []
        # word -> {entry index: how strongly the word points to the entry}
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        for idx, entry in enumerate(faq.entries.values()):
            texts = [q for lang in LANGS for q in entry.questions.get(lang, ())]
            texts += [entry.title[lang] for lang in LANGS if lang in entry.title]
            keys = sorted({s for s in (skeleton(t) for t in texts) if s})
            self.phrasings.append(keys)
            self.stemmed.append(sorted({stem_text(k) for k in keys}))
            gram_counts.append(Counter(g for k in keys for g in char_grams(k)))
            for word in tokens(" ".join(entry.answer.values())):
                postings[word].setdefault(idx, self.tuning.answer_word_strength)
            for word in {w for k in keys for w in k.split()} | set(tokens(" ".join(entry.keywords))):
                postings[word][idx] = 1.0
        n = max(len(self.entry_ids), 1)
        gram_df = Counter(g for counts in gram_counts for g in counts)
        self.gram_idf = {g: math.log(1 + n / df) for g, df in gram_df.items()}
        self.profiles = [_unit({g: (1 + math.log(c)) * self.gram_idf[g] for g, c in counts.items()}) for counts in gram_counts]
        self.postings: dict[str, tuple[tuple[int, float], ...]] = {w: tuple(sorted(p.items())) for w, p in postings.items()}
        self.idf: dict[str, float] = {w: math.log(1 + n / len(p)) for w, p in self.postings.items()}
        self.max_idf = math.log(1 + n)
        self.vocab: list[str] = sorted(self.postings)
        self.by_prefix: dict[str, list[str]] = defaultdict(list)
        for w in self.vocab:
            if len(w) >= PREFIX_LEN:
                self.by_prefix[w[:PREFIX_LEN]].append(w)
        # Per-index cache of word expansions: users repeat the same words.
        self._expand = lru_cache(maxsize=16384)(self._expand_uncached)

    def _expand_uncached(self, word: str) -> tuple[tuple[str, float], ...]:
        """FAQ words that `word` may stand for, with a 0–1 similarity."""
        found: dict[str, float] = {}
        if word in self.postings:
            found[word] = 1.0
        if len(word) >= 4:
            # Short words need a closer match: "true" is not a typo of "rule".
            cutoff = self.tuning.word_cutoff if len(word) >= 6 else max(self.tuning.word_cutoff, 80.0)
            for other, ratio, _ in process.extract(
                word, self.vocab, scorer=fuzz.ratio, score_cutoff=cutoff, limit=8
            ):
                sim = 0.5 + 0.5 * (ratio - cutoff) / (100 - cutoff)
                found[other] = max(found.get(other, 0.0), sim)
        if len(word) >= PREFIX_LEN:
            for other in self.by_prefix.get(word[:PREFIX_LEN], ()):
                found[other] = max(found.get(other, 0.0), PREFIX_SIMILARITY)
        return tuple(found.items())

    def _word_weight(self, word: str, expansions: Sequence[tuple[str, float]]) -> float:
        if word in FILLER_WORDS:
            return 0.1
        if not expansions:
            if len(word) <= 2 or word.isdigit():
                return 0.2
            return self.tuning.unknown_word_weight * self.max_idf
        best_word = max(expansions, key=lambda e: e[1])[0]
        return self.idf[best_word]

    def match(self, text: str, limit: int = 5) -> list[Candidate]:
        """The best entries for `text`, best first; empty when nothing is close."""
        query = skeleton(text)
        words = list(dict.fromkeys(query.split()))
        if not words:
            return []
        total_weight = 0.0
        covered: dict[int, float] = defaultdict(float)
        for word in words:
            expansions = self._expand(word)
            weight = self._word_weight(word, expansions)
            total_weight += weight
            best_per_entry: dict[int, float] = {}
            for other, sim in expansions:
                for idx, strength in self.postings[other]:
                    if sim * strength > best_per_entry.get(idx, 0.0):
                        best_per_entry[idx] = sim * strength
            for idx, sim in best_per_entry.items():
                covered[idx] += weight * sim
        if not covered or total_weight <= 0:
            return []
        stemmed_query = stem_text(query)
        query_profile = _unit({g: (1 + math.log(c)) * self.gram_idf.get(g, self.max_idf) for g, c in Counter(char_grams(query)).items()})
        shortlist = sorted(covered.items(), key=lambda kv: kv[1], reverse=True)[: max(limit, 8)]
        share = self.tuning.coverage_share
        out = []
        for idx, cov_weight in shortlist:
            coverage = 100.0 * cov_weight / total_weight
            best = process.extractOne(stemmed_query, self.stemmed[idx], scorer=fuzz.token_set_ratio)
            phrasing = best[1] if best else 0.0
            ratio = process.extractOne(query, self.phrasings[idx], scorer=fuzz.ratio)
            phrasing = (phrasing + (ratio[1] if ratio else 0.0)) / 2
            profile = self.profiles[idx]
            cosine = 100.0 * sum(w * profile.get(g, 0.0) for g, w in query_profile.items())
            score = share * coverage + (1 - share - self.tuning.cosine_share) * phrasing + self.tuning.cosine_share * cosine
            out.append(Candidate(self.entry_ids[idx], round(score, 1), round(coverage, 1), round(phrasing, 1)))
        out.sort(key=lambda c: c.score, reverse=True)
        return out[:limit]
