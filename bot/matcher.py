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
to every entry is computed once per distinct word and cached (`_word`), as
a few similarity levels with the set of entries at each, in bitsets (one
bit per entry, operated on whole); the entries with the highest coverage
are found by a best-first search over classes of entries alike in every
word (`_shortlist`), which sums each class once and sets aside those that
cannot reach the top, rather than adding up thousands of entries one by
one.  Results are bit-for-bit those of the plain loops: every sum is made
in the same order, with the same floating-point operations.
"""

from __future__ import annotations

import bisect
import heapq
import math
import operator
import sys
from collections import Counter, defaultdict, deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import compress, count, islice, repeat
from typing import NamedTuple

from rapidfuzz import fuzz, process

from .caching import instance_cache
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
    "алдын "
    # ru
    "здравствуйте привет добрый день вечер утро пожалуйста помогите подскажите скажите скажи "
    "спасибо братан сестра вопрос срочно я ты он она мы вы они мне меня мой моя мои у в на с со "
    "к по за из от до о об про для и а но или ли же бы не ни да нет это этот эта что как где "
    "когда кто какой какая какие есть был была было быть если то так уже еще тоже только вот ну "
    "вообще правда знаю знать хочу "
    "спс здрасьте "
    # en
    "hello hi hey please help thanks thank you brother sister question urgent i me my you your "
    "he she it we they our a an the is are am was were be been do does did to of in on at for "
    "with from by about and or but if that this these those there what how where when who which "
    "can could would will so just really true now any some tell know want pls plz salam brat "
    "pomogite pojaluista"
)
FILLER_WORDS = frozenset(tokens(_FILLER_TEXT))


def is_informative(word: str) -> bool:
    """Whether a skeleton word can tell entries apart: not filler, not one
    or two letters ("да", "yes" is "es"), not a number."""
    return word not in FILLER_WORDS and len(word) > 2 and not word.isdigit()


PREFIX_LEN = 5
PREFIX_SIMILARITY = 0.85


def stem_text(skeleton_text: str) -> str:
    """Words cut to their first letters: a crude stemmer for Kyrgyz and
    Russian endings ("патентти", "регистрациясыз", "запрета"); the length
    was chosen on the dev split (5 beat 6 and 7)."""
    return " ".join(w[:PREFIX_LEN] for w in skeleton_text.split())



def char_grams(skeleton_text: str, n: int = 4) -> list[str]:
    """Character n-grams of each word, padded: typo- and ending-tolerant."""
    # One comprehension: a third less time than a generator per word.
    return [padded[i : i + n] for padded in [f" {word} " for word in skeleton_text.split()] for i in range(max(1, len(padded) - n + 1))]


class _SharedLetters:
    """Which vocabulary words may be within a `fuzz.ratio` cutoff of a word,
    found without comparing the word with them all.

    `fuzz.ratio` is 100 × (1 − indel distance / total length), and the
    indel distance of two words is at least their total length minus twice
    the letters they share (counted with repeats, in any order).  A word
    sharing too few letters cannot reach the cutoff, so only the others are
    compared.  Shared letters are counted for the whole vocabulary at once:
    bit i of each integer below stands for vocabulary word i, and the
    counts are kept bit-sliced (one integer per bit of the count), as are
    the counts each word needs, so that one bit-sliced comparison serves
    every word length.
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
        self._needs = instance_cache(self, _SharedLetters._needs_uncached, 256)

    def _needs_uncached(self, length: int, cutoff: float) -> tuple[list[int], list[int], int]:
        """For a word of `length` letters: how many letters each vocabulary
        word must share with it to reach `cutoff`, bit-sliced, the same
        with every bit flipped among the words whose length lets them reach
        it at all, and those words.  (Comparing with the flipped slices
        rather than with `~need` keeps every integer positive: Python's
        bitwise operations on negative ones take extra passes.)"""
        needs: list[int] = []  # needs[j]: words whose needed count has bit j set
        able = 0
        for other, words in self.of_length:
            # ratio ≤ 200 × shared / (length + other)
            need = math.ceil((cutoff - self.EPSILON) * (length + other) / 200)
            if need > min(length, other):
                continue
            able |= words
            for j in range(need.bit_length()):
                if need >> j & 1:
                    needs += [0] * (j + 1 - len(needs))
                    needs[j] |= words
        return needs, [able ^ need for need in needs], able

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
        needs, lacks, able = self._needs(len(word), cutoff)
        # shared ≥ needed, compared bit by bit from the top for every word at
        # once (`equal` stays within `able`, so `equal & lacks[j]` is `equal & ~needs[j]`)
        greater, equal = 0, able
        for j in range(max(len(slices), len(needs)) - 1, -1, -1):
            have = slices[j] if j < len(slices) else 0
            if j < len(needs):
                greater |= equal & have & lacks[j]
                equal ^= equal & (have ^ needs[j])
            else:
                greater |= equal & have
                equal ^= equal & have
        return _positions(greater | equal)


def _bits(positions: Sequence[int]) -> int:
    """An integer with the given bits set."""
    if len(positions) < 256:
        out = 0
        for p in positions:
            out |= 1 << p
        return out
    # Many: a binary numeral, one ASCII digit per bit, written and read in C.
    digits = bytearray(b"0") * (max(positions) + 1)
    deque(map(digits.__setitem__, positions, repeat(ord("1"))), maxlen=0)
    return int(digits[::-1], 2)


# ASCII binary digits to the bytes 0 and 1 (`_spread`), and to 1 and 0.
_DIGIT_BYTES = bytes.maketrans(b"01", b"\x00\x01")
_NOT_DIGIT_BYTES = bytes.maketrans(b"01", b"\x01\x00")


def _spread(bits: int) -> int:
    """`bits` spread out to one byte per bit: byte i of the result is bit i
    (0 or 1), so that a small number times it sets bytes, not bits."""
    return int.from_bytes(format(bits, "b").encode("ascii").translate(_DIGIT_BYTES), "big")


def _positions(bits: int) -> list[int]:
    """The set bits of an integer, lowest first."""
    # Its bytes, each flagged 1 if nonzero (`translate`, in C), are found by
    # `bytes.find`, also in C, and only those are looked into: a sparse
    # bitset over a big vocabulary has a few dozen bits among thousands.
    # A quarter to a half less time than reading them off its binary
    # numeral (19,000 bits, 20–50 set), most of which went into writing the
    # numeral, a character per bit; and 40 % less than adding each byte's
    # offsets with `map((at << 3).__add__, ...)`, as this once did.
    data = bits.to_bytes((bits.bit_length() + 7) // 8, "little")
    nonzero = data.translate(_NONZERO)
    out: list[int] = []
    at = nonzero.find(1)
    while at >= 0:
        base = 8 * at
        for offset in _BIT_OFFSETS[data[at]]:
            out.append(base + offset)
        at = nonzero.find(1, at + 1)
    return out


# Bytes to 1 if nonzero (`_positions`), and each byte's set bits.
_NONZERO = bytes([0] + [1] * 255)
_BIT_OFFSETS = tuple(tuple(i for i in range(8) if value >> i & 1) for value in range(256))


def _union(bitsets: Iterable[int]) -> int:
    """The union of bitsets."""
    out = 0
    for bits in bitsets:
        out |= bits
    return out


def _lowest(bits: int, wanted: int) -> list[int]:
    """The (at most `wanted`) lowest set bits of an integer, lowest first."""
    out: list[int] = []
    while bits and len(out) < wanted:
        low = bits & -bits
        out.append(low.bit_length() - 1)
        bits ^= low
    return out


def _by_strength(ids: Sequence[int], strengths: Sequence[float]) -> tuple[tuple[float, int], ...]:
    """Entries with strengths, as (strength, bitset of its entries) for each
    distinct strength (usually one)."""
    kinds = dict.fromkeys(strengths)
    if len(kinds) == 1:
        return ((strengths[0], _bits(ids)),)
    return tuple((s, _bits(list(compress(ids, map(s.__eq__, strengths))))) for s in kinds)


def _unit(vector: dict[str, float]) -> dict[str, float]:
    norm = math.sqrt(sum(v * v for v in vector.values())) or 1.0
    return {k: v / norm for k, v in vector.items()}


# The word caches keep about this many bytes each: a cached word takes
# about 2 bytes per entry (a byte for its level, and a few bitsets; 8 more
# for its packed contribution in a small FAQ), a prefix group ~1 (a FAQ 100
# times the shipped one: ~9,000 words).
_WORD_CACHE_BYTES = 64 << 20
# Classes of at most this many entries are summed entry by entry
# (`Matcher._search`): cheaper than splitting them further.
_FEW_ENTRIES = 4
# Up to this many entries, adding up every entry (`Matcher._dense`) is the
# cheaper way; beyond, the search (`Matcher._search`), which gives up for it
# after about as long as it would have taken: measured at 30 and 100 times
# the shipped FAQ, `_dense` costs about (5 + the message's words) / 200
# search steps per entry, most of it making each word's packed contribution
# (`_packed_of`), which in a big FAQ is rarely cached: few messages go there.
# (Estimated at (25 + words) / 600 before, from cached ones, the search gave
# up on long messages a little before it would have finished, and they paid
# for both: p99 of the shortlist at 30 times, 1.3 ms; now 0.6.)
# Past it, too, the FAQ's own words are made at index time (`Matcher.__init__`),
# without packed contributions.  Whole messages, at 10 times the shipped
# FAQ (360 entries), the search with its words made beforehand against the
# packed sums without: p50 0.63 against 0.73–0.84 ms, p99 1.34–1.35 against
# 1.55–1.76 ms, for 0.6 s more index build (1.9 s) and 11 MB more (116 MB);
# the packed sums with the words made beforehand: the same p99, but 0.72 ms
# p50, 2.1 s and 128 MB.  At 3 and 5 times (108 and 180 entries) the packed
# sums keep the better p99 (1.13 against 1.24–1.31 ms, words made
# beforehand for both); without those words, their index build stays under
# 0.7 s (a bot's start, or restart).
_DENSE_UP_TO = 256
_DENSE_STEP_WORDS = 5
_DENSE_STEP_ENTRIES = 200
# Bounds in the search are raised by this fraction of the largest possible
# sum, far above any floating-point rounding, so no entry is set aside that
# could reach the top.
_SLACK = 1e-9

# Fixed point for adding up word contributions over every entry at once
# (`Matcher._dense`): similarities and weights both get 20 bits after the
# point, so a word's contribution to an entry is about weight × sim × 2**40,
# in a 64-bit field.  A field stays below 2**63 unless a message has
# millions of words.
_FRACTION_BITS = 20
_FIELD_BITS = 64
_FIELD_BYTES = _FIELD_BITS // 8
_ONE = float(1 << _FRACTION_BITS)
# Words' packed contributions kept for `_dense`, in bytes (8 per entry).
_PACKED_CACHE_BYTES = 16 << 20
# Questions whose matches are kept (`Matcher.match`): a few hundred bytes each.
_MATCH_CACHE_SIZE = 4096
# Up to this many candidates, `_coverage` sums each one's coverage directly.
_FEW_CANDIDATES = 32


def _fixed(values: Iterable[float]) -> Iterator[int]:
    """Similarities (0–1) in fixed point, rounded up: anything reached
    counts at least 1, and each is within 1 of the exact value."""
    return map(math.ceil, map(_ONE.__mul__, values))


def _flagged(flags: bytes) -> list[int]:
    """Positions of the non-zero bytes."""
    out = []
    at = flags.find(0x80)
    while at >= 0:
        out.append(at)
        at = flags.find(0x80, at + 1)
    return out


class _Expansion(NamedTuple):
    """The FAQ words a message word may stand for, as far as its
    contribution depends on them (`Matcher._expand`)."""

    # The word itself and its typo neighbours, with a 0–1 similarity (raised
    # to PREFIX_SIMILARITY for those sharing its prefix).
    head: tuple[tuple[str, float], ...]
    best: str | None  # the most similar of all, its own and its prefix's words (None: none)
    grouped: bool  # whether words sharing its prefix add any beyond `head`


@dataclass(frozen=True)
class _Group:
    """The FAQ words that share a prefix with a message word (its "same
    stem" expansions) and the entries they reach, computed once per prefix."""

    # (PREFIX_SIMILARITY × a strength, the entries some word reaches with that strength)
    reached: tuple[tuple[float, int], ...]
    words: tuple[int, ...]  # the entries each word reaches, the words in vocabulary order


@dataclass(frozen=True)
class _Word:
    """What one (skeleton) word of a message contributes to the coverage of
    each entry: `weight` × its similarity to the entry, the best similarity ×
    strength among the FAQ words the word stands for (0.0: none).

    The similarities an entry can get are few (a word has at most nine
    expansions of its own, each with at most two strengths, and a prefix
    group), so they are kept once, best first, in `values`, with the set of
    entries at each (`sets`, bitsets) and each entry's index into `values`
    (`levels`, a byte per entry).  Everything is built with operations on
    whole integers (`Matcher._levels`), not one per entry reached (a
    thousand for a frequent word in a big FAQ)."""

    weight: float
    values: tuple[float, ...]  # the similarities, best first, after values[0] = 0.0
    levels: bytes  # per entry: the index in `values` of its similarity
    sets: tuple[int, ...]  # sets[i]: the entries at values[i], for i ≥ 1; sets[0]: all those reached
    # The entries each of the word's own expansions (the word itself, its
    # typo neighbours) reaches, in order; the rest are reached through
    # `group`, after them.
    head: tuple[int, ...]
    group: _Group | None
    # weight × values[i] for each level i (0.0 for level 0): the term the
    # word adds to an entry's coverage weight, multiplied once rather than
    # for every entry summed (`Matcher._exact`).
    terms: tuple[float, ...]
    # weight × similarity in fixed point, one field per entry (`_dense`):
    # made with the word in a FAQ small enough that `_dense` is the rule,
    # else when needed, by `Matcher._packed_of`.
    fixed: int | None = None


# An upper bound on a `fuzz.token_set_ratio` is set against the best score
# found with this much to spare, far above rapidfuzz's rounding.
_BOUND_SLACK = 1e-6


# A candidate whose score is below the `limit`-th best's by more than this
# has a lower rounded score (to 0.1), whatever floating-point rounding does
# to the sums: it cannot be among the best `limit`.
_RANK_MARGIN = 0.11


# A query at least this many times as long as an entry's median phrasing
# (words sorted and joined) has its phrasings bounded before they are
# scored (`Matcher._sharing_best`); a shorter one bounds too few of them for
# the bounds to pay: measured, 25–35 % less time at 3 and more, more time below 2.5.
_LONG_QUERY = 3


@dataclass(frozen=True)
class _WordSets:
    """An entry's stemmed phrasings as `fuzz.token_set_ratio` sees them:
    sets of words.  Kept so that `Matcher._token_set_best` scores only the
    phrasings that may beat the best one, rather than all of them (some
    fifty per entry, eight entries a message: half of its time)."""

    texts: tuple[str, ...]  # the distinct word sets, words sorted and joined; shortest first
    lengths: tuple[int, ...]  # len(texts[i]), ascending
    having: dict[str, int]  # word → bitset of the texts that have it
    places: dict[str, tuple[int, ...]]  # word → the texts that have it


def _word_sets(stemmed: Sequence[str], canonical: dict[str, str]) -> _WordSets | None:
    """`_WordSets` of an entry's stemmed phrasings; None if one is not
    ASCII (where Python's and rapidfuzz's word splitting are sure to agree)."""
    if not all(map(str.isascii, stemmed)):
        return None
    texts = sorted({" ".join(sorted(set(text.split()))) for text in stemmed}, key=lambda t: (len(t), t))
    places: dict[str, list[int]] = defaultdict(list)
    for i, text in enumerate(texts):
        for word in text.split():
            places[canonical.setdefault(word, word)].append(i)
    having = {word: _bits(at) for word, at in places.items()}
    return _WordSets(tuple(texts), tuple(map(len, texts)), having, {word: tuple(at) for word, at in places.items()})


# A candidate's fields as the match cache keeps them (`Candidate(*found)`);
# the best one's with its question coverage.
_Found = tuple[str, float, float, float, bool] | tuple[str, float, float, float, bool, float]


@dataclass(frozen=True)
class Candidate:
    """An entry and how well it fits the message (0–100)."""

    entry_id: str
    score: float
    coverage: float
    phrasing: float
    out_of_scope: bool = False  # a known subject the bot does not answer
    # For the best candidate only (None for the others, and where not
    # measured): the share (0–100) of the message's weight that the entry's
    # own phrasings, titles and keywords cover, its answer's words left out
    # (`Matcher._question_coverage`).
    question_coverage: float | None = None


class Matcher:
    """Scores FAQ entries against messages; build once, query often."""

    def __init__(self, faq: FAQ, tuning: Tuning = DEFAULT):
        self.tuning = tuning
        indexed = faq.matchable()
        self.entry_ids: list[str] = [entry.id for entry in indexed]
        self._index = {entry_id: idx for idx, entry_id in enumerate(self.entry_ids)}
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
        canonical: dict[str, str] = {}  # one string object per word across entries
        self.word_sets: list[_WordSets | None] = [_word_sets(stemmed, canonical) for stemmed in self.stemmed]
        n = max(len(self.entry_ids), 1)
        gram_df = Counter(g for counts in gram_counts for g in counts)
        self.gram_idf = {g: math.log(1 + n / df) for g, df in gram_df.items()}
        # One string object per gram, which the profiles share: at 100 times
        # the shipped FAQ they hold 2.3 million grams (~120 MB as an object
        # each), and a message's gram looked up as a profile's own object
        # is found without comparing characters (`_match_uncached`).
        self._grams: dict[str, str] = {g: g for g in self.gram_idf}
        self.profiles = [_unit({self._grams[g]: (1 + math.log(c)) * self.gram_idf[g] for g, c in counts.items()}) for counts in gram_counts]
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
        self._expand = instance_cache(self, Matcher._expand_uncached, 16384)
        # Whole questions: people ask the same ones, in the same words, and a
        # match depends on nothing else (a new FAQ gets a new matcher).
        self._match = instance_cache(self, Matcher._match_uncached, _MATCH_CACHE_SIZE)
        n_entries = max(1, len(self.entry_ids))
        per_word = (2 + (_FIELD_BYTES if n_entries <= _DENSE_UP_TO else 0)) * n_entries
        self._new_word = instance_cache(self, Matcher._word_uncached, max(256, min(16384, _WORD_CACHE_BYTES // per_word)))
        self._group = instance_cache(self, Matcher._group_uncached, max(64, min(4096, _WORD_CACHE_BYTES // n_entries)))
        # FAQ word → the entries it reaches, as a bitset per strength (1.0,
        # or an answer word's): what `_word` combines.  Made here rather than
        # on first use, as a frequent word's takes a tenth of a millisecond.
        self._reached = {w: _by_strength(ids, strengths) for w, (ids, strengths) in self._reaching.items()}
        self._reached_any = {w: by[0][1] if len(by) == 1 else _union(bits for _, bits in by) for w, by in self._reached.items()}
        # For `_dense` in a big FAQ: a word's packed contribution, made when
        # first needed (keyed by its levels, whose hash `bytes` keeps).
        self._packed_of = instance_cache(self, Matcher._packed, max(64, min(4096, _PACKED_CACHE_BYTES // (_FIELD_BYTES * n_entries))))
        # One bit at the bottom / the top of every entry's field; its lowest byte.
        self._ones = int.from_bytes((b"\x01" + bytes(_FIELD_BYTES - 1)) * len(self.entry_ids), "little")
        self._tops = self._ones << (_FIELD_BITS - 1)
        self._low_bytes = 0xFF * self._ones
        # A big FAQ's own words have their contributions made now, once:
        # users type them most, and there a first look at a word costs a
        # tenth of a millisecond or more (its typo neighbours, found by the
        # shared-letter search and rapidfuzz, and its levels, a byte per
        # entry), a third of a long message's time.  At 100 times the
        # shipped FAQ: ~1.5 s more, and 45 MB more peak memory (of 885).  A
        # small FAQ's would add ~0.3 s to each start of the bot (a bot's restart).
        self._known_words: dict[str, _Word] = {}
        # The build's scratch goes first, so that the words can take its room.
        del postings, gram_counts, gram_df, canonical
        if len(indexed) > _DENSE_UP_TO:
            self._known_words = {w: self._word_uncached(w) for w in self.vocab}
            self._expand.cache_clear()  # the words' own expansions: not needed again

    def _word(self, word: str) -> _Word:
        """What a message word contributes to every entry: made at index
        time for a big FAQ's own words, else on first use and cached."""
        known = self._known_words.get(word)
        return known if known is not None else self._new_word(word)

    def _expand_uncached(self, word: str) -> _Expansion:
        """The FAQ words `word` may stand for (see `_Expansion`).

        The words sharing its prefix are not listed one by one: a big FAQ
        has up to hundreds with one prefix, which every cached expansion
        would hold again, when all that is needed of them is whether there
        are any beyond the word's own expansions, and which comes first
        (`_group` holds the entries they reach)."""
        head = tuple(self._neighbours(word).items())
        prefix = word[:PREFIX_LEN]
        group: Sequence[str] = self.by_prefix.get(prefix, ()) if len(word) >= PREFIX_LEN else ()
        grouped = False
        if group:
            # An own expansion sharing the prefix is at least as similar as the group's words.
            sharing = [other.startswith(prefix) for other, _ in head]
            if any(sharing):
                head = tuple((other, max(sim, PREFIX_SIMILARITY)) if shares else (other, sim) for (other, sim), shares in zip(head, sharing, strict=True))
            grouped = len(group) > sum(sharing)
        # The most similar, the first among equals, in the order own
        # expansions, then the group's other words (vocabulary order); if
        # none of the own ones shares the prefix, the group's first word is
        # not among them.
        best = max(head, key=operator.itemgetter(1)) if head else None
        if grouped and (best is None or best[1] < PREFIX_SIMILARITY):
            return _Expansion(head, group[0], grouped)
        return _Expansion(head, best[0] if best else None, grouped)

    def _neighbours(self, word: str) -> dict[str, float]:
        """The FAQ words `word` is or may be a typo of, with a 0–1 similarity."""
        found: dict[str, float] = {}
        if word in self.postings:
            found[word] = 1.0
        if len(word) >= 4:
            # Short words need a closer match: "true" is not a typo of "rule".
            cutoff = self.tuning.word_cutoff if len(word) >= 6 else max(self.tuning.word_cutoff, 80.0)
            # Only the words that can reach the cutoff, in vocabulary order
            # (so ties come out as they would from the whole vocabulary).
            pool = list(map(self.vocab.__getitem__, self._letters.candidates(word, cutoff)))
            for other, ratio, _ in process.extract(word, pool, scorer=fuzz.ratio, score_cutoff=cutoff, limit=8):
                sim = 0.5 + 0.5 * (ratio - cutoff) / (100 - cutoff)
                found[other] = max(found.get(other, 0.0), sim)
        return found

    def _word_weight(self, word: str, best: str | None) -> float:
        """How much a message word counts: the rarity of the FAQ word it is
        most like (`best`; None: it is like none)."""
        if word in FILLER_WORDS:
            return 0.1
        if best is None:
            if len(word) <= 2 or word.isdigit():
                return 0.2
            # A Russian town the FAQ never names is where the asker is, not
            # what is asked: weighed as an unknown word, it held "dyadya
            # umer v Surgute, gosudarstvo KR oplatit perevozku tela?" below
            # the answer the same question elsewhere gets.  (Where to do
            # something in such a town is still asked only of entries that
            # name one: `subjects.asks_where_elsewhere`.)  Imported here:
            # `subjects` needs this module, through `parts`.
            from .subjects import names_russian_town

            if names_russian_town(word):
                return 0.2
            return self.tuning.unknown_word_weight * self.max_idf
        return self.idf[best]

    def _group_uncached(self, prefix: str) -> _Group:
        words = self.by_prefix[prefix]
        by_strength: dict[float, int] = {}
        for other in words:
            for strength, bits in self._reached[other]:
                by_strength[strength] = by_strength.get(strength, 0) | bits
        # As in `_word`: a value is the word's similarity × its strength for the entry.
        reached = tuple((PREFIX_SIMILARITY * strength, bits) for strength, bits in by_strength.items())
        return _Group(reached, tuple(self._reached_any[other] for other in words))

    def _word_uncached(self, word: str) -> _Word:
        """A message word's contribution to every entry.

        Its similarity to an entry is the best of similarity × strength over
        the FAQ words it stands for: the word itself and its typo
        neighbours, then the words sharing its prefix (a group computed once
        per prefix, as the same group serves many message words).
        """
        expansion = self._expand(word)
        weight = self._word_weight(word, expansion.best)
        head = expansion.head
        group = self._group(word[:PREFIX_LEN]) if expansion.grouped else None
        reached = [(sim * strength, bits) for other, sim in head for strength, bits in self._reached[other]]
        if group is not None:
            reached += group.reached
        values, sets, levels = self._levels(reached)
        heads = tuple(self._reached_any[other] for other, _ in head)
        fixed = self._packed(weight, values, levels) if len(self.entry_ids) <= _DENSE_UP_TO else None
        terms = (0.0, *(weight * value for value in values[1:]))
        return _Word(weight, values, levels, sets, heads, group, terms, fixed)

    def _levels(self, reached: Sequence[tuple[float, int]]) -> tuple[tuple[float, ...], tuple[int, ...], bytes]:
        """Per entry, the best value among `reached` ((value, bitset of
        entries) pairs): the distinct values, best first after 0.0; the
        entries at each (after all those reached); and one byte per entry
        giving the index of its value (0: not reached).

        The values are taken best first, each for the entries no better one
        reached: a few operations on bitsets per value.
        """
        values = [0.0]
        sets = [0]
        for value, bits in sorted(reached, key=operator.itemgetter(0), reverse=True):
            new = bits & ~sets[0]
            if not new:
                continue
            sets[0] |= new
            if value == values[-1]:
                sets[-1] |= new
            else:
                values.append(value)
                sets.append(new)
        if len(values) > 256:  # at most 9 expansions × 2 strengths + a group's 2
            raise AssertionError("too many distinct similarities for one byte per entry")
        # Bit j of every entry's byte, for the levels that have it, spread out at once.
        planes = [_union(new for level, new in enumerate(sets) if level >> j & 1) for j in range(len(values).bit_length())]
        levels = sum(_spread(plane) << j for j, plane in enumerate(planes) if plane)
        return tuple(values), tuple(sets), levels.to_bytes(len(self.entry_ids), "little")

    def _shortlist(self, hits: Sequence[_Word], size: int) -> list[tuple[int, float]]:
        """The `size` entries with the highest coverage weight, best first,
        ties in the order the message's words first reached them: exactly
        `sorted(covered.items(), …)[:size]` of the plain loop, in which
        `covered[idx] += weight * sim` for each word and entry it reaches.

        With thousands of entries that loop costs milliseconds.  A small FAQ
        adds up every entry at once in packed fixed point (`_dense`).  A big
        one searches (`_search`): the reached entries are split into
        classes, word by word (the weightiest first), by their level for the
        word; entries in one class have had the same similarities so far, so
        the class has one partial sum and one bound (that sum plus the most
        the remaining words can add).  Classes are taken best bound first;
        complete ones (and small ones, entry by entry) get their exact sum,
        made in message order as the plain loop makes it, and the search
        stops once `size` entries have an exact sum above every bound left:
        typically after a few dozen classes, with a few operations on
        bitsets each.  A message that drags the search on goes to `_dense`.
        """
        found = None
        if len(self.entry_ids) > _DENSE_UP_TO:
            live = [hit for hit in hits if hit.sets[0]]
            # The entries considered are those some word adds at least 1 to
            # in fixed point (as in `_dense`), that is any a word reaches, as
            # no word that reaches one weighs less than 0.1.
            counted = _union(hit.sets[0] for hit in live if round(hit.weight * _ONE))
            if not counted:
                return []
            found = self._search(hits, live, counted, size)
        if found is None:
            found = self._dense(hits, size)
        return self._ranked(found, hits, size)

    def _ranked(self, found: dict[float, int], hits: Sequence[_Word], size: int) -> list[tuple[int, float]]:
        """The first `size` entries of coverage sums → bitsets of entries,
        best first, ties in the order the message's words first reach them."""
        out: list[tuple[int, float]] = []
        for covered in sorted(found, reverse=True):
            tied = found[covered]
            if tied & (tied - 1):  # more than one entry
                out += [(idx, covered) for idx in self._reach_order(tied, hits, size - len(out))]
            else:
                out.append((tied.bit_length() - 1, covered))
            if len(out) >= size:
                break
        return out

    def _search(self, hits: Sequence[_Word], live: list[_Word], counted: int, size: int) -> dict[float, int] | None:
        """The best-first search of `_shortlist`: exact coverage sums → the
        entries that have them, for at least the `size` best entries and
        every entry tying with them; None if it takes about as long as
        `_dense` would (a long message of words that each reach many
        entries, none standing out).

        A class is (−bound, tie-breaker, depth, entries, its sum over
        live[:depth] + slack); depth −1 marks an exact sum.
        """
        live.sort(key=lambda hit: hit.weight * hit.values[1], reverse=True)
        # rest[d]: the most the words live[d:] can add to any entry
        rest = [0.0] * (len(live) + 1)
        for depth in range(len(live) - 1, -1, -1):
            rest[depth] = rest[depth + 1] + live[depth].weight * live[depth].values[1]
        steps = max(64, len(self.entry_ids) * (_DENSE_STEP_WORDS + len(live)) // _DENSE_STEP_ENTRIES)
        slack = _SLACK * (rest[0] + 1.0)
        heap = [(-(rest[0] + slack), 0, 0, counted, slack)]
        # Words that reach no entry add 0.0 to every sum, which leaves it as
        # it was, so they are left out: a look into their levels is a cache
        # miss or two in a big FAQ, for nothing.
        by_word = [(hit.levels, hit.terms) for hit in hits if hit.sets[0]]
        ticket = count(1)
        found: dict[float, int] = {}
        floor: float | None = None  # once `size` entries are found: no entry below it can be in the top
        for _ in range(steps):
            if not heap:
                return found
            negated, _, depth, members, partial = heapq.heappop(heap)
            if floor is not None and -negated < floor:
                return found
            if depth < 0:
                found[-negated] = found.get(-negated, 0) | members
                if floor is None and sum(map(int.bit_count, found.values())) >= size:
                    floor = -negated - slack  # entries tying with it still come out
            elif depth == len(live):  # alike in every word: one sum for all
                heapq.heappush(heap, (-self._exact(by_word, _lowest(members, 1)[0]), next(ticket), -1, members, 0.0))
            elif members.bit_count() <= _FEW_ENTRIES:
                for idx in _lowest(members, _FEW_ENTRIES):
                    heapq.heappush(heap, (-self._exact(by_word, idx), next(ticket), -1, 1 << idx, 0.0))
            else:
                # `_split`, written out: a long message's search makes a
                # hundred splits or more.  (Those it leaves out add 0.0.)
                hit, beyond = live[depth], rest[depth + 1]
                inside = members & hit.sets[0]
                if inside != members:
                    heapq.heappush(heap, (-(partial + beyond), next(ticket), depth + 1, members ^ inside, partial))
                sets, terms = hit.sets, hit.terms
                for level in range(1, len(sets)):
                    if not inside:
                        break
                    part = inside & sets[level]
                    if part:
                        inside ^= part
                        reached = partial + terms[level]
                        heapq.heappush(heap, (-(reached + beyond), next(ticket), depth + 1, part, reached))
        return None

    def _dense(self, hits: Sequence[_Word], size: int) -> dict[float, int]:
        """What `_search` finds, for messages that defeat it: the words'
        contributions to every entry are added up in fixed point, 64 bits
        per entry packed in one integer per word, so a message's sums over
        every entry take one integer addition per word.  A fixed-point sum
        is within 2 per word of the exact one, so the exact top `size` are
        all within a small margin of the `size`-th largest fixed-point sum;
        only those candidates are then summed exactly (`_coverage`)."""
        n = len(self.entry_ids)
        packed = 0
        for hit in hits:
            packed += self._packed_of(hit.weight, hit.values, hit.levels) if hit.fixed is None else hit.fixed
        if not packed:
            return {}
        # A word's field is off from weight × sim × 2**40 by less than
        # (weight + 1) × 2**20 (the rounding of both), so two entries' sums
        # can swap order only within twice the total.
        margin = 2 * sum(int(hit.weight) + 2 for hit in hits) << _FRACTION_BITS
        reached = self._at_least(packed, 1)
        if reached.count(0x80) <= size:
            return self._coverage(_flagged(reached), hits)
        # The size-th largest sum, found in two steps: its top 8 bits first
        # (C-speed counting over one byte per entry), then exactly among the
        # entries whose top bits are that high.
        bound = sum(round(hit.weight * _ONE) for hit in hits) * ((1 << _FRACTION_BITS) + 1)
        shift = max(0, bound.bit_length() - 8)
        top_bits = ((packed >> shift) & self._low_bytes).to_bytes(_FIELD_BYTES * n, "little")[::_FIELD_BYTES]
        level = max(top_bits)
        at_level = top_bits.count(level)
        while at_level < size:
            level -= 1
            at_level += top_bits.count(level)
        sums = memoryview(packed.to_bytes(_FIELD_BYTES * n, sys.byteorder)).cast("Q")
        near = _flagged(self._at_least(packed, max(1, (level << shift) - margin)))
        kth = heapq.nlargest(size, (sums[idx] for idx in near))[-1]
        return self._coverage([idx for idx in near if sums[idx] >= kth - margin], hits)

    def _packed(self, weight: float, values: tuple[float, ...], levels: bytes) -> int:
        """A word's weight × each entry's similarity in fixed point, one
        64-bit field per entry, built a byte of every field at a time by
        translating the word's levels through its values' bytes."""
        scale = round(weight * _ONE)
        fields = [(scale * f).to_bytes(_FIELD_BYTES, "little") for f in _fixed(values)]
        out = bytearray(_FIELD_BYTES * len(self.entry_ids))
        for byte, column in enumerate(zip(*fields, strict=True)):  # byte `byte` of each value's field
            if any(column):
                out[byte::_FIELD_BYTES] = levels.translate(bytes(column).ljust(256, b"\0"))
        return int.from_bytes(out, "little")

    def _at_least(self, packed: int, floor: int) -> bytes:
        """Per entry, 0x80 where its packed field is ≥ `floor`, else 0."""
        # Adding 2**63 − floor sets a field's top bit exactly when the field
        # is ≥ floor (fields are < 2**63, so nothing carries into the next).
        flagged = (packed + ((1 << (_FIELD_BITS - 1)) - floor) * self._ones) & self._tops
        return flagged.to_bytes(_FIELD_BYTES * len(self.entry_ids), "little")[_FIELD_BYTES - 1 :: _FIELD_BYTES]

    def _coverage(self, candidates: Sequence[int], hits: Sequence[_Word]) -> dict[float, int]:
        """The candidates' exact coverage weights, each with the bitset of
        the candidates that have it, summed as the plain loop sums them.

        A big FAQ can tie hundreds of entries (copies of one question alike
        in every word of a message).  Entries at the same level of every word
        have the same sum, so beyond a few candidates they are split into
        such classes on bitsets, word by word, and each class is summed once.
        """
        by_coverage: dict[float, int] = {}
        if len(candidates) <= _FEW_CANDIDATES:
            by_word = [(hit.levels, hit.terms) for hit in hits if hit.sets[0]]  # as in `_search`
            for idx in candidates:
                covered = self._exact(by_word, idx)
                by_coverage[covered] = by_coverage.get(covered, 0) | 1 << idx
            return by_coverage
        classes = [(0.0, _bits(candidates))]
        for hit in hits:
            split: list[tuple[float, int]] = []
            for covered, members in classes:
                split += ((covered + value, part) if value else (covered, part) for value, part in self._split(hit, members))
            classes = split
        for covered, members in classes:
            by_coverage[covered] = by_coverage.get(covered, 0) | members
        return by_coverage

    @staticmethod
    def _split(hit: _Word, members: int) -> Iterator[tuple[float, int]]:
        """`members` split by their level for `hit`: (what the word adds to
        their coverage weight, the entries) for each nonempty part."""
        inside = members & hit.sets[0]
        if inside != members:
            yield 0.0, members ^ inside
        for level in range(1, len(hit.values)):
            if not inside:
                break
            part = inside & hit.sets[level]
            if part:
                inside ^= part
                yield hit.terms[level], part

    @staticmethod
    def _exact(by_word: Sequence[tuple[bytes, tuple[float, ...]]], idx: int) -> float:
        """One entry's coverage weight, summed as the plain loop sums it,
        from each message word's (levels, terms): a word that does not
        reach the entry adds its level 0's 0.0, which leaves the sum as it
        was, and costs less than testing for it."""
        covered = 0.0
        for levels, terms in by_word:
            covered += terms[levels[idx]]
        return covered

    def _reach_order(self, tied: int, hits: Sequence[_Word], wanted: int) -> list[int]:
        """The first `wanted` entries of a bitset of tied ones, in the order
        the message's words first reach them: by the first word reaching
        each; for one word, the entries its own expansions reach, expansion
        by expansion, then those only its prefix group reaches, group word
        by group word; each step's entries in ascending order.  That is the
        order in which one pass over the words and their expansions would
        first meet them."""
        out: list[int] = []
        for hit in hits:
            now = tied & hit.sets[0]
            if not now:
                continue
            tied ^= now
            for bits in hit.head + (hit.group.words if hit.group else ()):
                part = now & bits
                if part:
                    now ^= part
                    out += _lowest(part, wanted - len(out))
                    if len(out) >= wanted or not now:
                        break
            if len(out) >= wanted or not tied:
                break
        return out

    def unknown_words(self, text: str) -> tuple[int, int, int]:
        """(words in the message; informative ones — not filler, not one or
        two letters, not numbers; ones the FAQ never uses, not even as a
        typo or an inflection): the calibrated confidence counts them, as a
        question about something else is made of unknown words, and "ok" or
        "hi" of no informative ones."""
        words = skeleton(text).split()
        informative = sum(1 for w in words if is_informative(w))
        unknown = sum(1 for w in words if w not in FILLER_WORDS and w not in self.postings and self._expand(w).best is None)
        return len(words), informative, unknown

    def _token_set_best(self, idx: int, stemmed_query: str, query_words: list[str] | None, floor: float = 0.0) -> float:
        """`fuzz.token_set_ratio` of the stemmed query with the entry's closest
        stemmed phrasing (0.0: none), scoring only the phrasings that may beat
        the best — or the `floor`: a best below it may come back as any score
        below it, as the entry is then out of the running (`_match_uncached`).

        The ratio depends only on the two sets of words.  A phrasing sharing
        no word with the query scores the indel similarity of the two sets
        joined, which is at most 200 × min(lengths) / (sum of lengths), so
        once the phrasings that share a word are scored, only those of the
        others whose length allows the best to be beaten are looked at (they
        are kept shortest first, so that is one slice), and through the
        cheaper `fuzz.ratio`.  The result is exactly the best over every
        phrasing.
        """
        if floor > 100.0:
            return 0.0
        # rapidfuzz is given the floor less a point (it turned away a score
        # equal to its cutoff; see below), and what it finds is kept as found.
        cutoff = floor - 1.0 if floor > 1.0 else None
        sets = self.word_sets[idx]
        if sets is None or query_words is None:
            best = process.extractOne(stemmed_query, self.stemmed[idx], scorer=fuzz.token_set_ratio, score_cutoff=cutoff)
            return best[1] if best else 0.0
        query_key = " ".join(query_words)
        sharing = _union(map(sets.having.get, query_words, repeat(0)))
        # Digit i: whether text i shares a word with the query (picked in C by `compress`).
        digits = format(sharing, "b").zfill(len(sets.texts))[::-1].encode("ascii")
        top = 0.0
        if sharing and len(query_key) >= _LONG_QUERY * sets.lengths[len(sets.lengths) // 2]:
            top = self._sharing_best(sets, query_key, query_words, floor)
        elif sharing:
            texts = list(compress(sets.texts, digits.translate(_DIGIT_BYTES)))
            best = process.extractOne(query_key, texts, scorer=fuzz.token_set_ratio, score_cutoff=cutoff)
            top = best[1] if best else 0.0
        if top >= 100.0:
            return top
        # Lengths L with 200 × min(Q, L) / (Q + L) ≥ the bar (Q: the query's;
        # the bar: the best so far or the floor), widened by the slack.
        size = len(query_key)
        low, high = 0, len(sets.texts)
        least = top if top >= floor else floor
        if least > _BOUND_SLACK:
            bar = least - _BOUND_SLACK
            low = bisect.bisect_left(sets.lengths, math.floor(bar * size / (200.0 - bar)))
            high = bisect.bisect_right(sets.lengths, math.ceil(size * (200.0 - bar) / bar))
        rest = list(compress(sets.texts[low:high], digits[low:high].translate(_NOT_DIGIT_BYTES)))
        if not rest:
            return top
        # Usually none of these can beat the best: one pass in C with it as
        # the bar (less a point, well clear of the rounding explained below)
        # tells, and spares ranking them all (~7 µs an entry, a sixth of
        # the time here).
        if least > 1.0 and process.extractOne(query_key, rest, scorer=fuzz.ratio, score_cutoff=least - 1.0) is None:
            return top
        # Sharing no word, a phrasing's token_set_ratio is the query's and its
        # joined words' indel similarity, as `fuzz.ratio` (some ten times
        # cheaper) is, only written 100 − 100 × d / n rather than (1 − d / n) ×
        # 100: both rise with the same 1 − d / n, so the best token_set_ratio
        # is among the phrasings tying for the best `fuzz.ratio`, which alone
        # are scored with it.
        # (No score_cutoff: rapidfuzz turned away a score equal to it.)
        ranked = process.extract(query_key, rest, scorer=fuzz.ratio, limit=None)
        for text, ratio, _ in ranked:
            if ratio < ranked[0][1]:
                break
            top = max(top, fuzz.token_set_ratio(query_key, text))
        return top

    @staticmethod
    def _sharing_best(sets: _WordSets, query_key: str, query_words: list[str], floor: float = 0.0) -> float:
        """The best `fuzz.token_set_ratio` of the query with the texts that
        share a word with it, scoring only those that may beat the best
        found so far and the `floor`, most promising first (below the floor:
        any score below it).

        rapidfuzz's token_set_ratio of word sets A (the query) and B is 100
        if one holds the other, else the best of three similarities: the
        words they share, joined (length s), against those followed by A's
        other words; the same for B's; and A's other words against B's,
        after the shared ones (lengths |A| and |B| in all).  With S = s + 1,
        the first two are 200 × (S − 1) / (S + |A| − 1) and the same with
        |B|: lengths only.  The third is at most 200 × min(|A|, |B|) /
        (|A| + |B|), as at least the difference in length must be inserted.
        S is the summed length (plus a space each) of the query's words a
        text has, added up from the texts each word is in.

        Scoring a text costs rapidfuzz a few microseconds (it splits and
        sorts both strings each time), and an entry has some sixty.  For a
        long message (`_LONG_QUERY`) the bounds usually leave one to score;
        for a short one they are loose, and cost more than they save.  The
        result is exactly the best over the texts.
        """
        shared = [0] * len(sets.texts)  # per text: S, or 0 if it shares no word
        places = sets.places
        for word in query_words:
            at = places.get(word)
            if at:
                extra = len(word) + 1
                for i in at:
                    shared[i] += extra
        size = len(query_key)
        bounds = []
        # (Comparisons written out rather than `min` and `max` calls: a
        # quarter of the time, in a loop over some sixty texts.)
        for i, stem_length, length in zip(count(), shared, sets.lengths):
            if stem_length:
                least = size if size < length else length
                if stem_length > least:  # one set holds the other
                    return 100.0
                bound = 200.0 * (stem_length - 1) / (stem_length + least - 1)
                apart = 200.0 * least / (size + length)
                bound = bound if bound >= apart else apart
                if bound + _BOUND_SLACK >= floor:
                    bounds.append((bound, i))
        if not bounds:
            return 0.0
        bounds.sort(reverse=True)
        top = fuzz.token_set_ratio(query_key, sets.texts[bounds[0][1]])
        # The others that may beat it, most promising first, scored in C
        # (`extractOne` raises its cutoff as it finds better ones).
        rest = [sets.texts[i] for bound, i in islice(bounds, 1, None) if bound + _BOUND_SLACK >= top]
        if rest:
            best = process.extractOne(query_key, rest, scorer=fuzz.token_set_ratio)
            top = max(top, best[1] if best else 0.0)
        return top

    def _query_profile(self, query: str) -> tuple[list[str], list[float]]:
        """A message's character-gram profile, made as the entries' are
        (`_unit` of (1 + log count) × idf, a gram no entry has at the
        highest idf), with the same floating-point operations in the same
        order, only in C: a long message has a hundred grams or more.

        Only the grams some entry has are kept, as the profiles' own string
        objects: the others add 0.0 to every cosine, which leaves each sum
        as it was (and there are many in a typo or a Latin spelling)."""
        counts = Counter(char_grams(query))
        weights = list(map(self.gram_idf.get, counts, repeat(self.max_idf)))
        repeats = list(counts.values())
        for at in compress(count(), map((1).__lt__, repeats)):  # 1 + log 1 is 1.0, which changes nothing
            weights[at] = (1 + math.log(repeats[at])) * weights[at]
        norm = math.sqrt(sum(map(operator.mul, weights, weights))) or 1.0
        shared = list(map(self._grams.get, counts))  # None: no entry has it
        return list(filter(None, shared)), list(compress(map(norm.__rtruediv__, weights), shared))

    def match(self, text: str, limit: int = 5, *, among: Sequence[str] = ()) -> list[Candidate]:
        """The best entries for `text`, best first; empty when nothing is close.

        With `among`, only those entries are scored: for a part of a message
        already matched as a whole (`Engine._parts`), whose words
        reach no entry the whole message's do not, at a third of the cost."""
        # The cache keeps plain tuples of strings and numbers: the garbage
        # collector stops tracking those after one look, where a kept
        # Candidate (and its __dict__) stayed under watch, and took ~40 %
        # of the young collections' time at 100 times the shipped FAQ.
        indices = tuple(sorted(self._index[entry_id] for entry_id in among if entry_id in self._index))
        return [Candidate(*found) for found in self._match(skeleton(text), limit, indices)]

    def _match_uncached(self, query: str, limit: int, among: tuple[int, ...] = ()) -> tuple[_Found, ...]:
        """`match` of a skeleton: what the message is reduced to, so that
        "Патент канча турат?" and "патент канча турат" are one question.
        Each candidate as the tuple of a `Candidate`'s fields."""
        words = list(dict.fromkeys(query.split()))
        if not words:
            return ()
        hits = [self._word(word) for word in words]
        total_weight = 0.0
        for hit in hits:
            total_weight += hit.weight
        if total_weight <= 0:
            return ()
        if among:
            found = self._coverage(among, hits)
            found.pop(0.0, None)  # entries no word reaches: never shortlisted
            shortlist = self._ranked(found, hits, max(limit, 8))
        else:
            shortlist = self._shortlist(hits, max(limit, 8))
        if not shortlist:
            return ()
        stemmed_query = stem_text(query)
        # The query as `fuzz.token_set_ratio` sees it (None: not ASCII, score plainly).
        query_words = sorted(set(stemmed_query.split())) if stemmed_query.isascii() else None
        query_grams, query_weights = self._query_profile(query)
        share, cosine_share = self.tuning.coverage_share, self.tuning.cosine_share
        phrasing_share = 1 - share - cosine_share
        # Every part of a candidate's score but its token-set score, the
        # costliest (a third of the time on the longest messages at 100
        # times the shipped FAQ), is found first.
        partial = []
        for position, (idx, cov_weight) in enumerate(shortlist):
            coverage = 100.0 * cov_weight / total_weight
            found_ratio = process.extractOne(query, self.phrasings[idx], scorer=fuzz.ratio)
            ratio = found_ratio[1] if found_ratio else 0.0
            profile = self.profiles[idx]
            cosine = 100.0 * sum(map(operator.mul, query_weights, map(profile.get, query_grams, repeat(0.0))))
            without = share * coverage + phrasing_share * ratio / 2 + cosine_share * cosine
            partial.append((without, position, idx, coverage, ratio, cosine))
        # Most promising first: once `limit` are scored, a candidate can only
        # matter by beating the last of them, and its token-set score is
        # sought only that high (`floor`); one that cannot reach it is left
        # out.  It would have ranked below `limit` (its rounded score lower,
        # with `_RANK_MARGIN`), so what is returned is what scoring them all
        # returns.
        partial.sort(key=operator.itemgetter(0), reverse=True)
        ranked: list[tuple[float, int, int, _Found]] = []
        scores: list[float] = []
        for without, position, idx, coverage, ratio, cosine in partial:
            floor = 0.0
            if len(scores) >= limit:
                needed = scores[-limit] - _RANK_MARGIN
                if phrasing_share <= 0:
                    if without < needed:
                        continue
                else:
                    floor = 2 * (needed - without) / phrasing_share
                    if floor > 100.0:
                        continue
            token_set = self._token_set_best(idx, stemmed_query, query_words, floor)
            if token_set < floor:
                continue
            phrasing = (token_set + ratio) / 2
            score = share * coverage + phrasing_share * phrasing + cosine_share * cosine
            bisect.insort(scores, score)
            row: _Found = (self.entry_ids[idx], round(score, 1), round(coverage, 1), round(phrasing, 1), idx in self.out_of_scope)
            ranked.append((-row[1], position, idx, row))
        # As a stable sort of the shortlist by rounded score would order them.
        ranked.sort()
        out = [row for _, _, _, row in ranked[:limit]]
        out[0] = (*out[0], self._question_coverage(hits, ranked[0][2], total_weight))
        return tuple(out)

    def _question_coverage(self, hits: Sequence[_Word], idx: int, total_weight: float) -> float:
        """The share (0–100) of the message's weight that entry `idx`'s own
        phrasings, titles and keywords cover: its coverage with the words
        found only in its answer left out.

        A look-alike ("can family visit someone held at Sakharovo, what
        hours") often reaches an entry through its answer's words and its
        subject's name: the entry's questions cover little of it.  A word's
        level for an entry is its best similarity × strength, and an answer
        word's strength (`answer_word_strength`, 0.2) is below any question
        word's similarity (at least 0.5), so a level above that strength is
        a question word's similarity, and one at or below it none.  (Exact
        while that strength stays under 0.5; `test_question_coverage.py`
        checks it against a matcher built without the answers' words.)"""
        answer_only = self.tuning.answer_word_strength
        covered = 0.0
        for hit in hits:
            value = hit.values[hit.levels[idx]]
            if value > answer_only:
                covered += hit.weight * value
        return round(100.0 * covered / total_weight, 1)
