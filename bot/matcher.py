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

Speed (see "Performance" in the README): what a message word contributes
to every entry is computed once per distinct word and cached (`_word`), and
adding up the words' contributions over thousands of entries is done in
fixed point on packed integers (`_shortlist`), which only chooses the few
entries whose exact coverage is then computed as it always was: results
are bit-for-bit those of the plain loops.
"""

from __future__ import annotations

import heapq
import math
import operator
import sys
from array import array
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, count, repeat

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


class _SharedLetters:
    """Which vocabulary words may be within a `fuzz.ratio` cutoff of a word,
    found without comparing the word with them all.

    `fuzz.ratio` is 100 × (1 − indel distance / total length), and the
    indel distance of two words is at least their total length minus twice
    the letters they share (counted with repeats, in any order).  A word
    sharing too few letters cannot reach the cutoff, so only the others are
    compared.  Shared letters are counted for the whole vocabulary at once:
    bit i of each integer below stands for vocabulary word i, and the
    counts are kept bit-sliced (one integer per bit of the count).
    """

    # Below the true threshold by more than any rounding, so no word that
    # rapidfuzz would keep is dropped.
    EPSILON = 1e-6

    def __init__(self, vocab: Sequence[str]):
        having: dict[tuple[str, int], list[int]] = defaultdict(list)  # (letter, n): words with ≥ n of it
        of_length: dict[int, list[int]] = defaultdict(list)
        for i, word in enumerate(vocab):
            of_length[len(word)].append(i)
            for letter, repeats in Counter(word).items():
                for n in range(1, repeats + 1):
                    having[(letter, n)].append(i)
        self.having = {key: _bits(ids) for key, ids in having.items()}
        self.of_length = sorted((length, _bits(ids)) for length, ids in of_length.items())

    def candidates(self, word: str, cutoff: float) -> list[int]:
        """Indices (ascending) of the vocabulary words that may score ≥ `cutoff` with `word`."""
        slices: list[int] = []  # slices[j]: words whose shared-letter count has bit j set
        for letter, repeats in Counter(word).items():
            for n in range(1, repeats + 1):
                carry = self.having.get((letter, n), 0)
                j = 0
                while carry:
                    if j == len(slices):
                        slices.append(0)
                    slices[j], carry = slices[j] ^ carry, slices[j] & carry
                    j += 1
        found = 0
        for length, words in self.of_length:
            # ratio ≤ 200 × shared / (len(word) + length)
            need = math.ceil((cutoff - self.EPSILON) * (len(word) + length) / 200)
            if need > min(len(word), length) or need >> len(slices):
                continue
            greater, equal = 0, words
            for j in range(len(slices) - 1, -1, -1):
                if need >> j & 1:
                    equal &= slices[j]
                else:
                    greater |= equal & slices[j]
                    equal &= ~slices[j]
            found |= greater | equal
        return _positions(found)


def _bits(positions: Sequence[int]) -> int:
    """An integer with the given bits set."""
    raw = bytearray((max(positions, default=0) >> 3) + 1)
    for p in positions:
        raw[p >> 3] |= 1 << (p & 7)
    return int.from_bytes(raw, "little")


def _positions(bits: int) -> list[int]:
    """The set bits of an integer, lowest first."""
    binary = bin(bits)[:1:-1]  # lowest bit first, without "0b"
    out = []
    at = binary.find("1")
    while at >= 0:
        out.append(at)
        at = binary.find("1", at + 1)
    return out


def _flagged(flags: bytes) -> list[int]:
    """Positions of the non-zero bytes."""
    out = []
    at = flags.find(0x80)
    while at >= 0:
        out.append(at)
        at = flags.find(0x80, at + 1)
    return out


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {k: v / norm for k, v in vector.items()}


# Fixed point for adding up word contributions (see `Matcher._shortlist`):
# similarities and weights both get 20 bits after the point, so a word's
# contribution to an entry is about weight × sim × 2**40, in a 64-bit field.
# A field stays below 2**63 unless a message has millions of words.
_FRACTION_BITS = 20
_FIELD_BITS = 64
_FIELD_BYTES = _FIELD_BITS // 8
# Cached word contributions take 16 bytes per entry; the word cache keeps
# about this many bytes (a FAQ 100 times the shipped one: ~1,000 words).
_WORD_CACHE_BYTES = 64 << 20


_ONE = float(1 << _FRACTION_BITS)


def _fixed(values: Iterable[float]) -> Iterator[int]:
    """Similarities (0–1) in fixed point, rounded up: anything reached
    counts at least 1, and each is within 1 of the exact value."""
    return map(math.ceil, map(_ONE.__mul__, values))


@dataclass(frozen=True)
class _Group:
    """The entries reached through the FAQ words that share a prefix with a
    message word (its "same stem" expansions), computed once per prefix."""

    sims: array[float]  # per entry: PREFIX_SIMILARITY × the best strength among the words (0.0: none)
    first: array[int]  # per entry: 1 + its place when the words are taken in order (0: none)
    fixed: int  # `sims` in fixed point, packed one field per entry


@dataclass(frozen=True)
class _Word:
    """What one (skeleton) word of a message contributes to the coverage of
    each entry: `weight` × `sims[entry]`, the best similarity × strength
    among the FAQ words the word stands for (0.0: none)."""

    weight: float
    sims: array[float]
    # Entries reached by the word itself or its typo neighbours → the order
    # in which they were reached; the others through `group`, after them.
    head: dict[int, int]
    group: _Group | None
    fixed: int  # weight × sims in fixed point, packed one field per entry


@dataclass(frozen=True)
class Candidate:
    """An entry and how well it fits the message (0–100)."""

    entry_id: str
    score: float
    coverage: float
    phrasing: float
    out_of_scope: bool = False  # a known subject the bot does not answer


class Matcher:
    """Scores FAQ entries against messages; build once, query often."""

    def __init__(self, faq: FAQ, tuning: Tuning = DEFAULT):
        self.tuning = tuning
        indexed = faq.matchable()
        self.entry_ids: list[str] = [entry.id for entry in indexed]
        self.out_of_scope = frozenset(idx for idx, entry in enumerate(indexed) if entry.out_of_scope)
        self.phrasings: list[list[str]] = []
        self.profiles: list[dict[str, float]] = []
        gram_counts: list[Counter[str]] = []
        self.stemmed: list[list[str]] = []
        # word -> {entry index: how strongly the word points to the entry}
        postings: dict[str, dict[int, float]] = defaultdict(dict)
        for idx, entry in enumerate(indexed):
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
        # word -> (entry indices, ascending; the word's strength for each):
        # two flat tuples take a quarter of the memory of (index, strength)
        # pairs, and let `_reach` work through them in C.
        self.postings: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {
            w: (tuple(sorted(p)), tuple(p[i] for i in sorted(p))) for w, p in postings.items()
        }
        self.idf: dict[str, float] = {w: math.log(1 + n / len(p[0])) for w, p in self.postings.items()}
        # A word reaches the entries where its strength is positive (only an
        # answer-word strength of 0 makes any other).
        self._reaching = self.postings
        if self.tuning.answer_word_strength <= 0:
            self._reaching = {
                w: (tuple(compress(ids, map(bool, ss))), tuple(filter(None, ss))) for w, (ids, ss) in self.postings.items()
            }
        self.max_idf = math.log(1 + n)
        self.vocab: list[str] = sorted(self.postings)
        self.by_prefix: dict[str, list[str]] = defaultdict(list)
        for w in self.vocab:
            if len(w) >= PREFIX_LEN:
                self.by_prefix[w[:PREFIX_LEN]].append(w)
        self._letters = _SharedLetters(self.vocab)
        # Per-index caches: users repeat the same words.
        self._expand = lru_cache(maxsize=16384)(self._expand_uncached)
        per_entry = max(1, 16 * len(self.entry_ids))
        self._word = lru_cache(maxsize=max(256, min(16384, _WORD_CACHE_BYTES // per_entry)))(self._word_uncached)
        self._group = lru_cache(maxsize=max(64, min(4096, _WORD_CACHE_BYTES // per_entry)))(self._group_uncached)
        # One bit at the bottom / the top of every entry's field.
        self._ones = int.from_bytes((b"\x01" + bytes(_FIELD_BYTES - 1)) * len(self.entry_ids), "little")
        self._tops = self._ones << (_FIELD_BITS - 1)

    def _expand_uncached(self, word: str) -> tuple[tuple[tuple[str, float], ...], int]:
        """FAQ words that `word` may stand for, with a 0–1 similarity; and
        how many of them (the first ones) are the word itself or its typo
        neighbours rather than words that only share its prefix."""
        found: dict[str, float] = {}
        if word in self.postings:
            found[word] = 1.0
        if len(word) >= 4:
            # Short words need a closer match: "true" is not a typo of "rule".
            cutoff = self.tuning.word_cutoff if len(word) >= 6 else max(self.tuning.word_cutoff, 80.0)
            # Only the words that can reach the cutoff, in vocabulary order
            # (so ties come out as they would from the whole vocabulary).
            pool = [self.vocab[i] for i in self._letters.candidates(word, cutoff)]
            for other, ratio, _ in process.extract(word, pool, scorer=fuzz.ratio, score_cutoff=cutoff, limit=8):
                sim = 0.5 + 0.5 * (ratio - cutoff) / (100 - cutoff)
                found[other] = max(found.get(other, 0.0), sim)
        head = len(found)
        if len(word) >= PREFIX_LEN:
            for other in self.by_prefix.get(word[:PREFIX_LEN], ()):
                found[other] = max(found.get(other, 0.0), PREFIX_SIMILARITY)
        return tuple(found.items()), head

    def _word_weight(self, word: str, expansions: Sequence[tuple[str, float]]) -> float:
        if word in FILLER_WORDS:
            return 0.1
        if not expansions:
            if len(word) <= 2 or word.isdigit():
                return 0.2
            return self.tuning.unknown_word_weight * self.max_idf
        best_word = max(expansions, key=lambda e: e[1])[0]
        return self.idf[best_word]

    def _reach(self, expansions: Sequence[tuple[str, float]]) -> dict[int, float]:
        """Entry index → the best similarity × strength among `expansions`,
        in the order the entries are first reached."""
        best: dict[int, float] = {}
        for other, sim in expansions:
            # As `if sim * strength > best.get(idx, 0.0): best[idx] = sim * strength`
            # for each (idx, strength), in C: values are positive, an entry
            # keeps its place, and a new one goes at the end.
            ids, strengths = self._reaching[other]
            current = list(map(best.get, ids, repeat(0.0)))
            best.update(zip(ids, map(max, map(sim.__mul__, strengths), current), strict=True))
        return best

    def _group_uncached(self, prefix: str) -> _Group:
        n = len(self.entry_ids)
        sims, first = array("d", bytes(8 * n)), array("I", bytes(array("I").itemsize * n))
        reached = self._reach([(other, PREFIX_SIMILARITY) for other in self.by_prefix[prefix]])
        for place, (idx, sim) in enumerate(reached.items(), 1):
            sims[idx], first[idx] = sim, place
        fixed = array("Q", _fixed(sims))
        return _Group(sims, first, int.from_bytes(fixed.tobytes(), sys.byteorder))

    def _word_uncached(self, word: str) -> _Word:
        """A message word's contribution to every entry.

        The words sharing its prefix can be many (every inflected form in a
        big FAQ) and are the same for many message words, so what they
        reach is computed once per prefix (`_group`) and merged here: the
        best value per entry is the larger of the two, and an entry the word
        or its typo neighbours reach comes first, as in one pass over all
        expansions in order.  Only the entries those reach are touched one
        by one; the rest is copied or computed on whole packed integers.
        """
        expansions, head_size = self._expand(word)
        weight = self._word_weight(word, expansions)
        head = self._reach(expansions[:head_size])
        group = self._group(word[:PREFIX_LEN]) if head_size < len(expansions) else None
        n = len(self.entry_ids)
        sims = array("d", group.sims) if group else array("d", bytes(8 * n))
        # sims[idx] = max(head value, group value) for each head entry, and
        # the fixed-point raise that makes; in bulk (C loops), as a big FAQ's
        # head can reach a thousand entries.
        entries = list(head)
        before = list(map(sims.__getitem__, entries))
        after = list(map(max, head.values(), before))
        raise_by = array("Q", bytes(_FIELD_BYTES * n))
        deque(map(sims.__setitem__, entries, after), maxlen=0)
        deque(map(raise_by.__setitem__, entries, map(operator.sub, _fixed(after), _fixed(before))), maxlen=0)
        fixed = (group.fixed if group else 0) + int.from_bytes(raise_by.tobytes(), sys.byteorder)
        places = dict(zip(entries, count(), strict=False))
        return _Word(weight, sims, places, group, round(weight * _ONE) * fixed)

    def _at_least(self, packed: int, floor: int) -> bytes:
        """Per entry, 0x80 where its packed field is ≥ `floor`, else 0."""
        # Adding 2**63 − floor sets a field's top bit exactly when the field
        # is ≥ floor (fields are < 2**63, so nothing carries into the next).
        flagged = (packed + ((1 << (_FIELD_BITS - 1)) - floor) * self._ones) & self._tops
        return flagged.to_bytes(_FIELD_BYTES * len(self.entry_ids), "little")[_FIELD_BYTES - 1 :: _FIELD_BYTES]

    def _shortlist(self, hits: Sequence[_Word], size: int) -> list[tuple[int, float]]:
        """The `size` entries with the highest coverage weight, best first,
        ties in the order the message's words first reached them: exactly
        `sorted(covered.items(), …)[:size]` of the plain loop, in which
        `covered[idx] += weight * sim` for each word and entry.

        With thousands of entries that loop costs milliseconds.  Instead each
        word's contribution is packed in one integer, 64 bits of fixed point
        per entry, so a message's sums over every entry take one integer
        addition per word.  A fixed-point sum is within 2 per word of the
        exact one, so the exact top `size` are all within a small margin of
        the `size`-th largest fixed-point sum; only those few are then
        summed exactly, in floating point, as the plain loop does.
        """
        n = len(self.entry_ids)
        packed = 0
        for hit in hits:
            packed += hit.fixed
        if not packed:
            return []
        # A word's field is off from weight × sim × 2**40 by less than
        # (weight + 1) × 2**20 (the rounding of both), so two entries' sums
        # can swap order only within twice the total.
        margin = 2 * sum(int(hit.weight) + 2 for hit in hits) << _FRACTION_BITS
        reached = self._at_least(packed, 1)
        if reached.count(0x80) <= size:
            candidates = _flagged(reached)
        else:
            # The size-th largest sum, found in two steps: its top 8 bits
            # first (C-speed counting over one byte per entry), then exactly
            # among the entries whose top bits are that high.
            bound = sum(round(hit.weight * _ONE) for hit in hits) * ((1 << _FRACTION_BITS) + 1)
            shift = max(0, bound.bit_length() - 8)
            top_bits = ((packed >> shift) & (0xFF * self._ones)).to_bytes(_FIELD_BYTES * n, "little")[::_FIELD_BYTES]
            level = max(top_bits)
            at_level = top_bits.count(level)
            while at_level < size:
                level -= 1
                at_level += top_bits.count(level)
            sums = memoryview(packed.to_bytes(_FIELD_BYTES * n, sys.byteorder)).cast("Q")
            near = _flagged(self._at_least(packed, max(1, (level << shift) - margin)))
            kth = heapq.nlargest(size, (sums[idx] for idx in near))[-1]
            candidates = [idx for idx in near if sums[idx] >= kth - margin]
        ranked = []
        for idx in candidates:
            covered = 0.0
            first: tuple[int, int, int] | None = None
            for position, hit in enumerate(hits):
                sim = hit.sims[idx]
                if sim:
                    covered += hit.weight * sim
                    if first is None:
                        place = hit.head.get(idx)
                        first = (position, 0, place) if place is not None else (position, 1, hit.group.first[idx])  # type: ignore[union-attr]
            ranked.append((-covered, first, idx))
        ranked.sort()
        return [(idx, -negated) for negated, _, idx in ranked[:size]]

    def unknown_words(self, text: str) -> tuple[int, int, int]:
        """(words in the message; informative ones — not filler, not one or
        two letters, not numbers; ones the FAQ never uses, not even as a
        typo or an inflection): the calibrated confidence counts them, as a
        question about something else is made of unknown words, and "ok" or
        "hi" of no informative ones."""
        words = skeleton(text).split()
        informative = sum(1 for w in words if w not in FILLER_WORDS and len(w) > 2 and not w.isdigit())
        unknown = sum(1 for w in words if w not in FILLER_WORDS and not self._expand(w)[0])
        return len(words), informative, unknown

    def match(self, text: str, limit: int = 5) -> list[Candidate]:
        """The best entries for `text`, best first; empty when nothing is close."""
        query = skeleton(text)
        words = list(dict.fromkeys(query.split()))
        if not words:
            return []
        hits = [self._word(word) for word in words]
        total_weight = 0.0
        for hit in hits:
            total_weight += hit.weight
        if total_weight <= 0:
            return []
        shortlist = self._shortlist(hits, max(limit, 8))
        if not shortlist:
            return []
        stemmed_query = stem_text(query)
        query_profile = _unit({g: (1 + math.log(c)) * self.gram_idf.get(g, self.max_idf) for g, c in Counter(char_grams(query)).items()})
        query_grams, query_weights = list(query_profile), list(query_profile.values())
        share = self.tuning.coverage_share
        out = []
        for idx, cov_weight in shortlist:
            coverage = 100.0 * cov_weight / total_weight
            best = process.extractOne(stemmed_query, self.stemmed[idx], scorer=fuzz.token_set_ratio)
            phrasing = best[1] if best else 0.0
            ratio = process.extractOne(query, self.phrasings[idx], scorer=fuzz.ratio)
            phrasing = (phrasing + (ratio[1] if ratio else 0.0)) / 2
            profile = self.profiles[idx]
            cosine = 100.0 * sum(map(operator.mul, query_weights, map(profile.get, query_grams, repeat(0.0))))
            score = share * coverage + (1 - share - self.tuning.cosine_share) * phrasing + self.tuning.cosine_share * cosine
            out.append(
                Candidate(self.entry_ids[idx], round(score, 1), round(coverage, 1), round(phrasing, 1), idx in self.out_of_scope)
            )
        out.sort(key=lambda c: c.score, reverse=True)
        return out[:limit]
