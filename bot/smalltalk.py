"""Greetings, thanks, "ok" and "I did not understand": messages that are not questions.

People greet before asking and thank after an answer.  Matched against the
FAQ, "привет" or "ок" share a letter pattern with some phrasing and could
be answered with an unrelated entry, and "спасибо" would be handed to the
operators as an unanswered question.  A message made only of such words
(and filler like "брат", "большое") gets a short friendly reply instead,
which asks for the question; nothing is handed off.

"Не понял", "жакшы эмес" or "not clear" say the last reply did not help:
they get an apology and a request to ask in other words, not "you are
welcome".  Thanks followed by a question word ("спасибо, а где?") is a
question, and goes to the matcher.

Words are compared as skeletons (see `normalize`), so "рахмат", "rahmat"
and "РАХМААТ" are one word.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from .matcher import FILLER_WORDS
from .normalize import skeleton, tokens

Kind = Literal["greeting", "thanks", "confused"]

# (kind, language or "" when the word is shared) → words.
_WORDS: dict[tuple[Kind, str], str] = {
    # No "күн" (day) or "канча": "канча күн?" is a question.
    ("greeting", "ky"): "саламатсызбы саламатсыңарбы кандайсыз кандайсыздар кутман кутмандуу "
    "агай агайлар агалар байкелер эжелер туугандар достор",
    ("greeting", "ru"): "привет приветствую здравствуйте здрасте здравствуй добрый день вечер утро доброе дела",
    ("greeting", "en"): "hello hi hey good morning afternoon evening greetings",
    ("greeting", ""): "салам salam salem ассаламу ассалому алейкум ас саляму ассалам ва",
    ("thanks", "ky"): "рахмат ыракмат чоң түшүндүм түшүндүк макул жарайт болуптур жакшы мейли кош саламатта калыңыз сизге",
    ("thanks", "ru"): "спасибо спс благодарю большое огромное понятно ясно хорошо ладно отлично пока до свидания "
    "всего доброго понял поняла вам тебе",
    # No "ty": its skeleton is that of "ты" ("ты кто?" is a question).
    ("thanks", "en"): "thanks thank thx much lot understood got great cool bye goodbye very",
    ("thanks", ""): "ok ок okay окей okey норм",
}


# Words that say the reply was not understood, with the language they give away.
_CONFUSED: dict[str, str] = {
    "ky": "түшүнбөдүм түшүнбөй түшүнбөйм түшүнбөйт түшүнүксүз",
    "ru": "непонятно непонятен непонял",
    "en": "unclear confused",
}
# Words about understanding that are thanks alone ("i understand") and a
# complaint with a negation ("не понимаю", "түшүнгөн жокмун").
_UNDERSTANDING: dict[str, str] = {"ky": "түшүнгөн", "ru": "понимаю", "en": "understand clear"}
# "Not" with thanks-like words ("не понял", "жакшы эмес", "not clear") is a
# complaint.  ("Нет" and "no" are left out: "нет, спасибо" is thanks.)
_NEGATIONS = frozenset(tokens("не эмес жокмун not dont didnt"))
# Words that only strengthen a complaint: "ничего не понял", "вообще не понятно".
_INTENSIFIERS = frozenset(tokens("ничего вообще эч нерсе таптакыр nothing at all"))
# After thanks these make a follow-up question: "спасибо, а где?", "ok but
# how much".  ("Что" is left out: "спасибо, что ответили" is thanks; and
# greetings keep theirs: "привет, как дела".)
_QUESTION_WORDS = frozenset(
    tokens(
        "эмне эмнеге эмнени кантип канча кайда кайдан качан ким кимге кайсы "
        "эгер где кто сколько когда почему зачем куда откуда какой какая какие можно если "
        "what where when who which why how can could should if"
    )
)


@dataclass(frozen=True)
class SmallTalk:
    kind: Kind
    lang: str | None  # the language the words give away, if they do


def _vocabulary() -> dict[str, tuple[Kind, set[str]]]:
    found: dict[str, tuple[Kind, set[str]]] = {}
    for (kind, lang), text in _WORDS.items():
        for word in tokens(text):
            previous_kind, langs = found.get(word, (kind, set()))
            # A word both greets and thanks ("кош" is bye): greeting wins,
            # it is the reply that asks for a question.
            found[word] = ("greeting" if "greeting" in (kind, previous_kind) else "thanks", langs | {lang})
    return found


_VOCABULARY = _vocabulary()
_CONFUSED_WORDS: dict[str, tuple[Kind, set[str]]] = {
    **{word: ("thanks", {lang}) for lang, text in _UNDERSTANDING.items() for word in tokens(text)},
    **{word: ("confused", {lang}) for lang, text in _CONFUSED.items() for word in tokens(text)},
}
# "How are you" and the like: greetings as a whole, though their words are
# question words ("how", "кандай") or nothing at all alone.  Each is
# taken as one greeting word of its language where its words stand in a
# row.  ("Кандайсың" is one word, but "кандай" alone is a question.)
_GREETING_PHRASES: dict[str, str] = {
    "ky": "кандайсың | кандайсыңар | кандай жатасың | кандай жатасыз | кандай жатасыңар | иштер кандай | иштериң кандай | ишиң кандай | жакшы жүрөсүзбү",
    "ru": "как ты | как вы | как вы там | как ты там | как поживаешь | как поживаете | как жизнь | как сам",
    "en": "how are you | how are you doing | how are you doing today | how are u | how r u | how is it going | hows it going | whats up",
}
# Words addressing the bot, which leave a greeting a greeting: "салам бот".
_ADDRESSING = frozenset(tokens("бот bot jardam бро bro"))


def _phrases() -> dict[tuple[str, ...], str]:
    found: dict[tuple[str, ...], str] = {}
    for lang, text in _GREETING_PHRASES.items():
        for phrase in text.split("|"):
            found[tuple(skeleton(phrase).split())] = f"<{lang}:{phrase.strip()}>"
    return found


_PHRASES = _phrases()
_LONGEST_PHRASE = max(map(len, _PHRASES))
_PHRASE_WORDS: dict[str, tuple[Kind, set[str]]] = {marker: ("greeting", {marker[1:3]}) for marker in _PHRASES.values()}


def _with_phrases(words: list[str]) -> list[str]:
    """`words` with each greeting phrase, longest first, made one marker word."""
    out: list[str] = []
    at = 0
    while at < len(words):
        for size in range(min(_LONGEST_PHRASE, len(words) - at), 0, -1):
            marker = _PHRASES.get(tuple(words[at : at + size]))
            if marker is not None:
                out.append(marker)
                at += size
                break
        else:
            out.append(words[at])
            at += 1
    return out


MAX_WORDS = 6
# Words that greet only beside a greeting: "кутман күн" (good day), where
# "канча күн" (how many days) is a question.
_WITH_A_GREETING: dict[str, tuple[Kind, set[str]]] = {skeleton("күн"): ("greeting", {"ky"})}
# Merged once here, not on every message.
_VOCABULARY |= _PHRASE_WORDS
_KNOWN = _VOCABULARY | _CONFUSED_WORDS
_KNOWN_WITH_A_GREETING = _KNOWN | _WITH_A_GREETING
_ALLOWED = FILLER_WORDS | _NEGATIONS | _INTENSIFIERS | _ADDRESSING


def recognise(text: str) -> SmallTalk | None:
    """The kind of small talk `text` is, or None if it may be a question."""
    words = skeleton(text).split()
    if not words or len(words) > MAX_WORDS:
        return None
    phrased = _with_phrases(words)
    if phrased != words and any(w in _QUESTION_WORDS for w in phrased):
        return None  # "how are you, where…": a question after the greeting
    words = phrased
    vocabulary = _KNOWN
    if any(w in _VOCABULARY and _VOCABULARY[w][0] == "greeting" for w in words):
        vocabulary = _KNOWN_WITH_A_GREETING
    known = [w for w in words if w in vocabulary]
    if not known or any(w not in vocabulary and w not in _ALLOWED for w in words):
        return None
    kind: Kind
    if any(vocabulary[w][0] == "greeting" for w in known) and not any(w in _NEGATIONS for w in words):
        kind = "greeting"
    elif any(w in _QUESTION_WORDS for w in words):
        return None  # thanks or a complaint, then a question: "не понял, а где?"
    elif any(vocabulary[w][0] == "confused" for w in known) or any(w in _NEGATIONS for w in words):
        kind = "confused"
    else:
        kind = "thanks"
    langs = set().union(*(vocabulary[w][1] for w in known)) - {""}
    return SmallTalk(kind, langs.pop() if len(langs) == 1 else None)
