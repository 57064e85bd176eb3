"""The questions a message asks: its question sentence after a story, its
parts when it asks two or more at once, and whether a part stands alone.

Kept apart from the engine, which decides what to do with them, because it
is text alone: no FAQ, no scores."""

from __future__ import annotations

import re

from .matcher import is_informative
from .normalize import skeleton

# Sentences end at ".", "!" or "?" followed by a space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n\s*")


def sentences(text: str) -> list[str]:
    """A message's sentences, in order."""
    return [s for s in _SENTENCE_END.split(text.strip()) if s]


def question_sentence(text: str) -> str | None:
    """A message's question, when it tells a story first ("Добрый день. Я
    из Джалал-Абада, работаю на стройке. Бригадир забрал паспорт. Куда
    обращаться?"): its last sentence, of three words at least, if it is
    the one with a question mark or none has one; else its last sentence
    with a question mark, if what follows asks nothing ("…Ушул акчаны берип
    патент жасатышым керекпи? Айлыгым анча көп эмес, акчамды бекер
    кетиргим келбейт." had no question sentence, and its story kept the
    patent's answer to an offer).  None for a message of one sentence, for
    one that asks first and tells after, or one that goes on asking after
    its question mark ("when did the consulate open? what year": the rest
    is the question too)."""
    said = sentences(text)
    if len(said) < 2:
        return None
    last = said[-1]
    if "?" not in last and any("?" in s for s in said):
        at = max(i for i, sentence in enumerate(said) if "?" in sentence)
        if at == 0 or any(_ASKS.search(sentence) for sentence in said[at + 1 :]):
            return None
        last = said[at]
    return last if len(last.split()) >= 3 else None


# What a message sets aside to ask about something else: "не X, а Y", "X
# эмес, Y", "not X, Y" ("работодатель требует не патент, а инн и снилс",
# "патент эмес, каттоо жөнүндө сурайм", "not russia register, does
# kazakhstan also have one").  X, one to three words, is what is not asked.
# Not a predicate ("регистрация не нужна, а потом на учёт ставит хозяин":
# "and then"), nor the asker ("мага эмес, кызыма": whose case it is, not
# what is asked); an English one only where a clause starts ("court ban is
# not lifted by amnesty, and in which year" sets nothing aside).
_NOT_SET_ASIDE = r"(?!(?:нуж\w*|надо|можно|обязат\w*|был\w*|буд\w*|nuj\w*|nado|mojno|мага|мен\w*|өзүм\w*|озум\w*|бизге|биз|maga|men\w*|ozum\w*|bizge)\b)"
_CLAUSE_START = r"(?:(?<=^)|(?<=[.,!?:;])|(?<=[.,!?:;]\s))\s*"
_CONTRASTED = re.compile(
    rf"(?<!\w)(?:не|ne)\s+{_NOT_SET_ASIDE}(?:\w+\s+){{0,2}}?\w+\s*,\s*(?:а|a)\s+"
    rf"|{_CLAUSE_START}{_NOT_SET_ASIDE}(?:\w+\s+)?\w+\s+(?:эмес|emes)\s*,\s*"
    rf"|{_CLAUSE_START}not\s+(?:(?!but\b)\w+\s+){{0,2}}?\w+\s*,\s*(?:but\s+|i mean\s+)?",
    re.IGNORECASE,
)


# What `_CONTRASTED` cannot match without (its whitespace as one space,
# lower case): looked for first, as most messages have none, and the
# pattern, tried at every position, costs ~25 µs a message (~400 µs at 600
# characters) against ~5 µs for this.
_CONTRAST_WORDS = ("не ", "ne ", "not ", "эмес", "emes")


def without_contrasted(text: str) -> str:
    """A message without what it says it does not ask about (`_CONTRASTED`)."""
    spaced = " ".join(text.lower().split())
    if not any(word in spaced for word in _CONTRAST_WORDS):
        return text
    return _CONTRASTED.sub(" ", text).strip() or text


# Where a message asks a second question: after a question mark, or at a
# conjunction ("и", "жана", "and"…) between two parts that each ask, by a
# question word ("нужен ли патент и где проверить запрет", "каттоону ким
# жасайт жана Аминаны кантип орнотом") or, in Kyrgyz, a word with the
# question particle ("патент керекпи жана…").  "Паспорт и
# миграционку забрали, что делать" is one question: "паспорт" asks nothing.
_QUESTION_WORDS = (
    r"где|как\w*|что|чем|зачем|почему|сколько|когда|куда|откуда|кто|кому|можно|нужн\w*|надо|обязан\w*|ли"
    r"|gde|kak\w*|chto|pochemu|skolko|kogda|kuda|mozhno|nuzhn\w*|li"
    r"|кайда\w*|кайсы\w*|кантип|кандай\w*|эмне\w*|канча\w*|качан|ким\w*"
    r"|kaida\w*|kayda\w*|kaisy\w*|kaysy\w*|kantip|kandai\w*|kanday\w*|emne\w*|kancha\w*|kachan|kim\w*"
    r"|where|how|what|when|who|which|why|can|does|is|are|should|do (?:i|we|you|they|my)"  # not "do" alone: "до" in Latin letters
)
# A Kyrgyz yes-or-no question has its particle on a word ("керекпи", "болобу", "barby");
# its м-forms only after м, н or ң ("адаммы"): after a vowel they are Russian
# endings ("с родителями", "приехавшему", "трудовому").
_KY_PARTICLE = r"\w{2,}(?:бы|би|бу|бү|пы|пи|пу|пү|(?<=[мнң])(?:мы|ми|му|мү)|by|bi|bu|py|pi|pu|(?<=[mn])(?:my|mi|mu))"
_ASKS = re.compile(rf"(?<!\w)(?:{_QUESTION_WORDS}|(?!чтобы){_KY_PARTICLE})(?!\w)", re.IGNORECASE)
# ("дагы" is left out: more often "too", "дактилоскопия дагы керекпи", than "and".)
_CONJUNCTION = re.compile(r"(\s+(?:и|а также|жана|анан|jana|anan|and|also)\s+)", re.IGNORECASE)
_QUESTION_MARK = re.compile(r"\?+")
_EDGES = " ,.;:!"


def asked_parts(text: str) -> list[str]:
    """The questions of a message that asks two or more (each of two words
    at least), or none: one reply must not leave the second unanswered."""
    parts: list[str] = []
    sentences = _QUESTION_MARK.split(text)  # each asks, but perhaps the last
    if not _ASKS.search(sentences[-1].strip(_EDGES)):
        sentences.pop()  # what follows the last question mark asks nothing: "…? говорят до 90 дней"
    for sentence in sentences:
        pieces = _CONJUNCTION.split(sentence.strip(_EDGES))  # part, conjunction, part, …
        joined = [pieces[0]]
        for conjunction, segment in zip(pieces[1::2], pieces[2::2], strict=True):
            if _ASKS.search(joined[-1].strip(_EDGES)) and _ASKS.search(segment.strip(_EDGES)):
                joined.append(segment)
            else:
                joined[-1] += conjunction + segment
        parts += [part.strip(_EDGES) for part in joined]
    parts = [part for part in parts if len(part.split()) >= 2]
    return parts if len(parts) >= 2 else []


# Words that point back at something said before: a part that has one asks
# about the message's other question ("what is meken kart and how do I get
# it", "что такое реестр и как из него выйти", "Сахарово кайда, ал жакта
# эмне жасалат"), and is answered, or not, with it.  As skeleton words, so
# that Latin spellings and missing letters count ("ego", "al jakta").
# (Not "им": it is "im", "I'm", in Latin letters.  Nor "he", "his", "her":
# in English they point at a person, "how do we get his things", not at the
# answer's subject; Russian "его", "её" and Kyrgyz "ал" may point at either.)
_BACK_REFERENCES = frozenset(
    skeleton(
        "его её ее их него неё нее них ему ей нему ней ним ними нём нем нею это этого этом этим эту этот эта эти этих этому "
        "там туда оттуда тот та те того тем той такой такая такое такие "
        "ego eyo eto etogo etom etot tam tuda "
        "it its this that there them they those these "
        "ал аны анын ага анда андан ошол ошону ошого ошондо ошерде ушул ушуну бул буга муну мунун алар аларды аларга тиги тигил "
        "any anyn oshol oshogo oshondo ushul buga munu alar"
    ).split()
)


# Where those words point at nothing: "is there a consulate in Kazan", "что
# это за амина" ("what is this Amina").
_NOT_POINTING = re.compile(r"\b(?:(?:is|are|was|were|isn't|aren't)\s+there|что\s+это\s+за|chto\s+eto\s+za)\b", re.IGNORECASE)


def stands_alone(part: str) -> bool:
    """Whether a part of a message (`asked_parts`) is a question of its
    own, which a person can be given by itself: it points back at nothing
    (`_BACK_REFERENCES`) and names at least two things besides its question
    words ("сколько стоит билет до Оша"; not "до какого срока", which asks
    about the other question's subject)."""
    words = re.findall(r"\w+", _NOT_POINTING.sub(" ", part))
    if any(skeleton(word) in _BACK_REFERENCES for word in words):
        return False
    named = [word for word in words if not _ASKS.fullmatch(word) and is_informative(skeleton(word))]
    return len(named) >= 2
