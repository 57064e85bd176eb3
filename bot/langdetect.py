"""Which language a message is written in: Kyrgyz, Russian or English.

General-purpose detectors know nothing of Kyrgyz typed without ө/ү/ң, or of
Russian and Kyrgyz typed in Latin letters, and they guess on two-word
messages.  This one is a small naive-Bayes model over character trigrams and
words, trained at start-up on the FAQ itself (questions and answers in the
three languages) plus a short list of function words, and it answers None
when the text does not tell: the caller then uses the user's chosen language.

Cyrillic text is scored as Kyrgyz or Russian on its folded form; Latin text
is scored as any of the three on its skeleton, where "kak proverit" and
"как проверить" look alike.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import chain, repeat
from operator import itemgetter

from .caching import instance_cache
from .normalize import fold, skeleton_word

# Words that give a language away even in a two-word message.  Kyrgyz
# entries are written without special letters, as users type them.
FUNCTION_WORDS: Mapping[str, str] = {
    "ky": (
        "эмне кантип канча кайда качан ким кимге керек керекпи барбы бар жок менин мен сен "
        "биз силер алар болот болобу болсо болуп эмес жана менен үчүн учун жөнүндө жонундо "
        "деген кандай кылам кылыш алам алсам барам барсам иштеймин иштесем жардам "
        "салам рахмат ооба жок качантан азыр мага сага анын бул ушул тууралуу кечиресиз"
    ),
    "ru": (
        "как что где когда кто сколько можно нужно надо ли мне меня мой моя я ты вы они "
        "если это есть нет не для чтобы про почему какой какие здравствуйте привет спасибо "
        "пожалуйста помогите скажите подскажите делать сделать получить узнать проверить"
    ),
    "en": (
        "how what where when who which can could do does did is are am the a an my i you "
        "need have has should please hello hi thanks help about for with without if to get"
    ),
}

# Function words that tell no language alone (see `LanguageDetector._lone_words`).
# ("Жардам" is the bot's name, Jardam, too.)
_SAID_IN_ANY = "салам рахмат ооба жок привет спасибо здравствуйте нет hello hi thanks жардам"

CYRILLIC_LANGS = ("ky", "ru")
LATIN_LANGS = ("ky", "ru", "en")
# Letters only Kyrgyz uses among the three (checked before folding).
KYRGYZ_LETTERS = frozenset("өүңӨҮҢ")
# A decision needs this much more log-likelihood than the runner-up, per
# feature, or it is "cannot tell".  Measured on the evaluation set.
MIN_MARGIN_PER_FEATURE = 0.08
MIN_LETTERS = 3
MIN_WORDS = 2
# Runs of letters, which are counted by their lengths: fewer matches to make.
_CYRILLIC_RE = re.compile("[а-яё]+")
_LATIN_RE = re.compile("[a-z]+")


def _features(words: list[str]) -> list[str]:
    feats: list[str] = []
    for w in words:
        feats.append("w:" + w)
        padded = f"_{w}_"
        feats.extend("c:" + padded[i : i + 3] for i in range(len(padded) - 2))
    return feats


class _Model:
    """Multinomial naive Bayes with add-one smoothing."""

    def __init__(self, texts: Mapping[str, Iterable[list[str]]]):
        self.counts: dict[str, Counter[str]] = {}
        self.totals: dict[str, int] = {}
        vocab: set[str] = set()
        for lang, docs in texts.items():
            # A word's features are the same wherever it occurs: count the
            # words first, then each distinct word's features once.
            words: Counter[str] = Counter(w for doc in docs for w in doc)
            c: Counter[str] = Counter()
            for word, n in words.items():
                for f in _features([word]):
                    c[f] += n
            self.counts[lang] = c
            self.totals[lang] = sum(c.values())
            vocab.update(c)
        self.vocab_size = len(vocab) + 1
        # Each feature's smoothed log-probability, computed once rather than
        # per message; `unseen` is the value of a feature never met.
        self.log_prob: dict[str, dict[str, float]] = {}
        self.unseen: dict[str, float] = {}
        for lang, c in self.counts.items():
            denom = math.log(self.totals[lang] + self.vocab_size)
            self.log_prob[lang] = {f: math.log(n + 1) - denom for f, n in c.items()}
            self.unseen[lang] = math.log(0 + 1) - denom
        self._langs = tuple(self.log_prob)
        # Users repeat words: each word's features and their log-probabilities
        # are looked up once, not on every message.
        self._word = instance_cache(self, _Model._word_uncached, 16384)

    def _word_uncached(self, word: str) -> tuple[tuple[float, ...], ...]:
        """The log-probability of each of a word's features, in order, for each language."""
        feats = _features([word])
        return tuple(tuple(map(self.log_prob[lang].get, feats, repeat(self.unseen[lang]))) for lang in self._langs)

    def scores(self, words: list[str]) -> tuple[dict[str, float], int]:
        """Each language's log-likelihood of the words, and the number of
        features.  The cached values are added in the same order as the
        features come, one by one, so each sum is the one a single pass
        over the message's features makes, to the last bit."""
        per_word = list(map(self._word, words))
        out = {lang: sum(chain.from_iterable(map(itemgetter(i), per_word))) for i, lang in enumerate(self._langs)}
        return out, sum(len(word[0]) for word in per_word)


class LanguageDetector:
    """Detects ky/ru/en; trained once at start from the FAQ texts."""

    def __init__(self, samples: Mapping[str, Iterable[str]]):
        folded: dict[str, list[list[str]]] = {lang: [] for lang in LATIN_LANGS}
        for lang, texts in samples.items():
            folded[lang].extend(fold(t).split() for t in texts)
        for lang, words in FUNCTION_WORDS.items():
            # Counted several times: they are rarer in FAQ text than in chat.
            folded[lang].extend([fold(words).split()] * 5)
        self._cyrillic = _Model({lang: folded[lang] for lang in CYRILLIC_LANGS})
        self._latin = _Model(
            {lang: [[skeleton_word(w) for w in doc] for doc in folded[lang]] for lang in LATIN_LANGS}
        )
        # Kyrgyz grammar around Russian terms ("реестр контролируемых лиц
        # деген эмне") is Kyrgyz, though the terms' letters outweigh it.
        self._cyrillic_function_words = {lang: frozenset(fold(FUNCTION_WORDS[lang]).split()) for lang in CYRILLIC_LANGS}
        # A lone word that is a function word of one language only, of at
        # least `MIN_LETTERS` letters ("kerek", "кантип", "help"; not "a"),
        # as it is typed: in its own alphabet, or (Kyrgyz, Russian) as its
        # Latin skeleton.  Not greetings, thanks, yes or no, which people
        # say whatever language they then ask in ("салам", "спасибо").
        spelt: dict[str, set[str]] = {}
        said_in_any = frozenset(fold(_SAID_IN_ANY).split())
        for lang, text in FUNCTION_WORDS.items():
            for word in fold(text).split():
                if word in said_in_any:
                    continue
                for form in {word, skeleton_word(word)}:
                    spelt.setdefault(form, set()).add(lang)
        # Latin forms of four letters at least: "men", "bar", "kim" are
        # English words and names as well as Kyrgyz ones ("how" goes too).
        self._lone_words: dict[str, str] = {
            form: langs.pop()
            for form, langs in spelt.items()
            if len(langs) == 1 and len(form) >= (MIN_LETTERS if not form.isascii() else MIN_LETTERS + 1)
        }

    def _by_function_word(self, word: str) -> str | None:
        """The language a one-word message gives away, if any (see `_lone_words`)."""
        letters = "".join(filter(str.isalpha, word))
        return self._lone_words.get(letters) or self._lone_words.get(skeleton_word(letters))

    def detect(self, text: str) -> str | None:
        """The message's language, or None when the text cannot tell."""
        if not KYRGYZ_LETTERS.isdisjoint(text):
            return "ky"
        words = fold(text).split()
        letters = [w for w in words if w.isalpha() or any(map(str.isalpha, w))]
        if len(letters) < MIN_WORDS or sum(map(len, letters)) < MIN_LETTERS:
            # One word ("Amina?", "ЦВСИГ", "патент") does not tell, unless
            # it is a function word of one language only ("kerek", "help").
            return self._by_function_word(letters[0]) if len(letters) == 1 else None
        joined = "".join(letters)
        cyr = sum(map(len, _CYRILLIC_RE.findall(joined)))
        lat = sum(map(len, _LATIN_RE.findall(joined)))
        if cyr == 0 and lat == 0:
            return None
        # Latin words inside Cyrillic text are mostly names and terms ("patent
        # нужен?", "Amina кантип"), so words are counted, not letters: the
        # Cyrillic ones decide unless the Latin ones are more ("how to check запрет").
        cyrillic_words = [w for w in letters if not w.isascii()]
        if cyr and (not lat or len(cyrillic_words) * 2 >= len(letters)):
            by_function_words = [lang for lang in CYRILLIC_LANGS if not self._cyrillic_function_words[lang].isdisjoint(cyrillic_words)]
            if len(by_function_words) == 1:
                return by_function_words[0]
            scores, n = self._cyrillic.scores(cyrillic_words)
        else:
            latin_words = [skeleton_word(w) for w in letters if w.isascii()]
            scores, n = self._latin.scores([w for w in latin_words if w])
        ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
        best, second = ranked[0], ranked[1]
        if n == 0 or (best[1] - second[1]) / n < MIN_MARGIN_PER_FEATURE:
            return None
        return best[0]
