"""Text normalisation for matching.

Migrant workers type on cheap phones: Kyrgyz without ө/ү/ң, Russian or Kyrgyz
in Latin letters, repeated letters, emoji, no punctuation.  Rather than guess
which of these a message uses, every text (FAQ phrasings and user messages
alike) is reduced to one *skeleton*: a lower-case Latin spelling in which the
ambiguous spellings of one sound collapse to a single letter.  Two texts that
a person would read as the same words end up equal or very close, and
rapidfuzz only has to deal with real typos.

The skeleton is lossy on purpose (уй/үй, кол/көл coincide, as they do for a
user typing without the special letters).  It is used for matching only; the
language of a message is decided separately, on the folded text.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Letters that a Kyrgyz user without a Kyrgyz keyboard replaces by Russian ones.
_KY_TO_RU = str.maketrans({"ө": "о", "ү": "у", "ң": "н", "ё": "е"})

# Cyrillic (Russian, Kyrgyz, and the few Kazakh letters people paste) to the
# Latin letters used by people who type Russian or Kyrgyz on a Latin keyboard.
_CYR_TO_LAT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e",
    "ж": "j", "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m",
    "н": "n", "о": "o", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u",
    "ф": "f", "х": "h", "ц": "c", "ч": "ch", "ш": "sh", "щ": "sh", "ъ": "",
    "ы": "i", "ь": "", "э": "e", "ю": "u", "я": "a", "ө": "o", "ү": "u",
    "ң": "n", "і": "i", "ә": "a", "ғ": "g", "қ": "k", "ұ": "u", "һ": "h",
}

# Latin spellings of one sound, longest first so that "shch" wins over "sh".
# "j" is left alone: Kyrgyz typists use it for ж ("jashoo"), so "ja" is not я.
_LATIN_DIGRAPHS = [
    ("shch", "sh"), ("sch", "sh"), ("zh", "j"), ("dj", "j"), ("kh", "h"),
    ("ts", "c"), ("yu", "u"), ("iu", "u"), ("ya", "a"), ("ia", "a"),
    ("yo", "e"), ("ye", "e"), ("w", "v"), ("q", "k"), ("x", "h"), ("y", "i"),
]
_DIGRAPH_RE = re.compile("|".join(re.escape(a) for a, _ in _LATIN_DIGRAPHS))
_DIGRAPH_MAP = dict(_LATIN_DIGRAPHS)

_APOSTROPHES = frozenset("'’ʼ`´")
_REPEATS_RE = re.compile(r"(.)\1+")
_SPACES_RE = re.compile(r"\s+")


class _FoldTable(dict[int, str | None]):
    """`str.translate` table of `fold`, filled in as characters are met:
    Kyrgyz letters become Russian ones, letters and digits stay, combining
    marks and apostrophes go, anything else becomes a space.  (Deciding
    per character in a Python loop made `fold` the largest cost of indexing
    the FAQ.)"""

    MAX_SIZE = 20000  # characters remembered; rarer ones are decided each time

    def __missing__(self, code: int) -> str | None:
        ch = chr(code).translate(_KY_TO_RU)
        cat = unicodedata.category(ch)
        if cat[0] in "LN":
            value: str | None = ch
        elif cat in ("Mn", "Cf") or ch in _APOSTROPHES:
            # Combining marks; invisible format characters (soft hyphen,
            # zero-width, direction marks) pasted inside words; apostrophes
            # standing for ь/ъ ("v'ezd").
            value = None
        else:
            value = " "
        if len(self) < self.MAX_SIZE:
            self[code] = value
        return value


_FOLD_TABLE = _FoldTable()


# Cached: the engine folds each message three times (language, a check for
# letters, matching).
@lru_cache(maxsize=1024)
def fold(text: str) -> str:
    """Lower-case letters and digits separated by single spaces.

    Keeps the script (Cyrillic stays Cyrillic) so that language detection can
    still see it; drops punctuation, emoji, control, zero-width and
    direction marks, and the Kyrgyz letters' distinction from Russian ones.
    """
    text = unicodedata.normalize("NFKC", text).lower()
    return _SPACES_RE.sub(" ", text.translate(_FOLD_TABLE)).strip()


def _latin_letter(ch: str) -> str:
    """Map one folded character to plain Latin (diacritics stripped)."""
    mapped = _CYR_TO_LAT.get(ch)
    if mapped is not None:
        return mapped
    if ch.isascii():
        return ch
    base = unicodedata.normalize("NFKD", ch)
    return "".join(c for c in base if c.isascii()) or ch


@lru_cache(maxsize=65536)
def skeleton_word(word: str) -> str:
    """Skeleton of one folded word: Latin letters, one spelling per sound."""
    latin = "".join(_latin_letter(ch) for ch in word)
    # Twice: "iya" (Latin) becomes "ia" in the first pass and "a" in the
    # second, as "ия" (Cyrillic, mapped to "ia") does in one.
    for _ in range(2):
        latin = _DIGRAPH_RE.sub(lambda m: _DIGRAPH_MAP[m.group(0)], latin)
    return _REPEATS_RE.sub(r"\1", latin)


# Numbers the rules are stated in, written as words ("девяносто дней",
# "токсон күн", "ninety days", "үч күн"), as skeleton words, to the digits
# the FAQ's phrasings use: a question typed or dictated in words had missed
# the entry its digits reach ("without a contract can i stay ninety days").
NUMBER_WORDS = {
    **dict.fromkeys(("tri", "treh", "thre", "uch"), "3"),
    **dict.fromkeys(("pat", "pati", "five", "besh"), "5"),
    **dict.fromkeys(("sem", "semi", "seven", "jeti"), "7"),
    **dict.fromkeys(("patnadcat", "patnadcati", "fiften"), "15"),
    **dict.fromkeys(("tridcat", "tridcati", "thirti", "otuz"), "30"),
    **dict.fromkeys(("devanosto", "devanosta", "nineti", "tokson"), "90"),
    # Spoken forms of "сколько" ("скока", "скоко", "сколка"), as the rules
    # that ask a price, a fine or a count read it: "а если регистрацию
    # просрочил на пару дней, штраф скока будет?" asked a fine's amount.
    **dict.fromkeys(("skoka", "skoko", "skolka"), "skolko"),
}


# Cached: a message's skeleton is wanted three times (small talk, matching,
# the unknown-word count), and the strings are short; and at start-up each
# of the FAQ's ~2,200 phrasings and titles is wanted by the matcher and again
# for its subjects (`subjects.spoken_of`: 40 ms of every start when missed).
@lru_cache(maxsize=4096)
def skeleton(text: str) -> str:
    """The matching form of a whole text (see the module docstring)."""
    words = (skeleton_word(w) for w in fold(text).split())
    return " ".join(NUMBER_WORDS.get(w, w) for w in words if w)


def tokens(text: str) -> list[str]:
    """Skeleton words of a text, in order, without empties."""
    return skeleton(text).split()
