"""The dialogue engine: normalise → detect language → match → reply.

It knows nothing of Telegram or terminals.  The bot, `jardam chat` and
`jardam ask` all call `Engine.reply` and show `Reply.text` as it is, so what
the evaluation measures is exactly what users get.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from babel.dates import format_date

from .calibration import Evidence
from .faq import FAQ, LANGS, Entry
from .i18n import N_, Catalogs, babel_locale
from .langdetect import LanguageDetector
from .matcher import Candidate, Matcher
from .normalize import fold
from .privacy import without_personal_data
from .smalltalk import recognise
from .subjects import Spoken, asked_about, entry_subjects
from .tuning import DEFAULT, Tuning

Outcome = Literal["answer", "clarify", "handoff"]
# Only the start of a very long message is matched: questions are short, and
# a pasted page must not cost a second of CPU.
MAX_MATCH_CHARS = 600
MAX_CHOICES = 3
# A short message that is one of the entry's own phrasings, as written or
# nearly (`Candidate.phrasing`, 0-100), is a question the FAQ was written
# for ("сахарово где", "who are you"): answered however few its words.
OWN_PHRASING = 95.0

# Sentences end at ".", "!" or "?" followed by a space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\s*\n\s*")


def question_sentence(text: str) -> str | None:
    """A message's question, when it tells a story first ("Добрый день. Я
    из Джалал-Абада, работаю на стройке. Бригадир забрал паспорт. Куда
    обращаться?"): its last sentence, of three words at least, if it is
    the one with a question mark or none has one.  None for a message of
    one sentence, or one that goes on after its question ("when did the
    consulate open? what year": the rest is the question too)."""
    sentences = [s for s in _SENTENCE_END.split(text.strip()) if s]
    if len(sentences) < 2:
        return None
    last = sentences[-1]
    if "?" not in last and any("?" in s for s in sentences):
        return None
    return last if len(last.split()) >= 3 else None


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
# A Kyrgyz yes-or-no question has its particle on a word ("керекпи", "болобу", "barby").
_KY_PARTICLE = r"\w{2,}(?:бы|би|бу|бү|пы|пи|пу|пү|мы|ми|му|мү|by|bi|bu|py|pi|pu|my|mi|mu)"
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


def says_enough(evidence: Evidence) -> bool:
    """Whether a message says enough to be answered outright.

    One informative word in a short message ("дети", "хозяин", "ок а
    сколько") names a subject, not a question: an entry whose phrasings are
    the only ones with that word scores far ahead of the rest, and the
    calibrated probability, fitted on whole questions, comes out near 1.
    Such messages are offered choices (or handed off) instead, unless they
    are one of the entry's own phrasings (`OWN_PHRASING`).  A message of
    only filler ("ok but what about me") says nothing at all."""
    return evidence.informative >= 2 or (evidence.informative == 1 and evidence.words > 3)


# What a hand-off says where no operators' group is configured: the question
# is only recorded, and no one answers in the chat (the bot's `hand_off`
# and `jardam ask` show it instead of the engine's promise of a person).
HANDOFF_RECORDED = N_(
    "I have no checked answer to this question, and I do not guess on legal matters. "
    "Your question is recorded so that the answers can be improved, but no one will answer it in this chat. "
    "Try asking in other words, or open /topics."
)

@dataclass(frozen=True)
class Choice:
    id: str
    title: str


@dataclass(frozen=True)
class Reply:
    """What to show the user, and why."""

    outcome: Outcome
    lang: str
    confidence: int
    text: str
    entry_id: str | None = None
    choices: tuple[Choice, ...] = ()
    related: tuple[Choice, ...] = ()
    candidates: tuple[Candidate, ...] = field(default=(), repr=False)

    def as_json(self) -> dict[str, Any]:
        """The `jardam ask --json` contract."""
        return {
            "outcome": self.outcome,
            "id": self.entry_id,
            "lang": self.lang,
            "confidence": self.confidence,
            "text": self.text,
            "choices": [{"id": c.id, "title": c.title} for c in self.choices],
            "related": [{"id": c.id, "title": c.title} for c in self.related],
            "candidates": [{"id": c.entry_id, "score": c.score} for c in self.candidates],
        }


def says_enough_for(best: Candidate, evidence: Evidence) -> bool:
    """Whether the message says enough to be answered, or is one of the best entry's own phrasings."""
    return says_enough(evidence) or best.phrasing >= OWN_PHRASING


def covers_its_question(best: Candidate, tuning: Tuning) -> bool:
    """Whether the entry's own questions cover enough of the message (`Candidate.question_coverage`)."""
    return best.question_coverage is None or best.question_coverage >= tuning.answer_question_coverage


def may_assert(text: str, best: Candidate, evidence: Evidence, tuning: Tuning, subjects: Mapping[str, Spoken]) -> bool:
    """Whether `Engine.reply` gives `best` as the answer once confident
    enough of it: `decide`'s conditions besides its thresholds, and the
    rules on subjects (`Engine._only_what_is_asked`, with `subjects` from
    `entry_subjects`).  What `--tune` judges its thresholds by, so that it
    does not count as answered what the rules hand to a person."""
    return says_enough_for(best, evidence) and covers_its_question(best, tuning) and asked_about(text).lets_answer(subjects[best.entry_id])


def decide(
    candidates: list[Candidate], evidence: Evidence, tuning: Tuning
) -> tuple[Outcome, list[Candidate], float]:
    """Answer, clarify or hand off, from scored candidates (best first).

    Returns the outcome, the entry to answer or the choices to offer, and
    the calibrated probability that the best entry is right.
    """
    if not candidates or candidates[0].out_of_scope:
        # Nothing close, or closest to a subject the FAQ knows it does not
        # cover ("send money home", "registration in Kazakhstan").
        return "handoff", [], 0.0
    best = candidates[0]
    probability = tuning.confidence.probability(candidates, evidence)
    runner_up = candidates[1].score if len(candidates) > 1 else 0.0
    if probability >= tuning.answer_probability and best.score - runner_up >= tuning.answer_margin and says_enough_for(best, evidence):
        if not covers_its_question(best, tuning):
            # Close to the entry's subject, far from its questions: offered, not asserted.
            return "clarify", [best], probability
        return "answer", [best], probability
    if best.score < tuning.clarify_at:
        return "handoff", [], probability
    floor = max(tuning.clarify_at, best.score - tuning.clarify_window)
    close = [c for c in candidates if c.score >= floor and not c.out_of_scope]
    return "clarify", close[:MAX_CHOICES], probability


class Engine:
    """Answers messages from one loaded FAQ; build once at start-up."""

    def __init__(
        self,
        faq: FAQ,
        catalogs: Catalogs,
        *,
        tuning: Tuning = DEFAULT,
        default_lang: str = "ru",
    ):
        self.faq = faq
        self.catalogs = catalogs
        self.tuning = tuning
        self.default_lang = default_lang if default_lang in LANGS else "ru"
        self.matcher = Matcher(faq, tuning)
        samples: dict[str, list[str]] = {lang: [] for lang in LANGS}
        for entry in faq.matchable():
            for lang in LANGS:
                samples[lang].extend(entry.questions.get(lang, ()))
                samples[lang].append(entry.answer.get(lang, ""))
        self.detector = LanguageDetector(samples)
        # What each entry's own wording names that a message may ask about: countries, peoples, apps, prices, years, towns, lengths of time (see `subjects`).
        self._subjects = entry_subjects(faq)
        # (entry id, language) → the rendered answer: Babel's date formatting
        # is a tenth of the cost of a reply, and the text never changes.
        self._answers: dict[tuple[str, str], str] = {}

    # --- language -----------------------------------------------------------

    def reply_language(self, text: str, user_lang: str | None = None) -> str:
        """The message's own language; else the user's choice; else the default.
        (A passport number's Latin letters do not make a message Latin.)"""
        return self._language(without_personal_data(text[:MAX_MATCH_CHARS]), user_lang)

    def _language(self, text: str, user_lang: str | None) -> str:
        """`reply_language` of a text already cut and without personal data."""
        detected = self.detector.detect(text)
        if detected:
            return detected
        if user_lang in LANGS:
            return user_lang  # type: ignore[return-value]
        return self.default_lang

    def _(self, lang: str, message: str) -> str:
        return self.catalogs.gettext(lang, message)

    # --- replies ------------------------------------------------------------

    def reply(self, text: str, user_lang: str | None = None) -> Reply:
        """The engine's whole answer to one message, to its words: a phone or
        document number in it (`privacy.without_personal_data`) is left out."""
        text = without_personal_data(text[:MAX_MATCH_CHARS])
        lang = self._language(text, user_lang)
        if not any(ch.isalpha() for ch in fold(text[:MAX_MATCH_CHARS])):
            return Reply("clarify", lang, 0, self._(lang, "Please write your question in words, for example: “Do I need a patent?”"))
        talk = recognise(text[:MAX_MATCH_CHARS])
        if talk is not None:
            # "спасибо" alone is too short to detect, yet says its language.
            if talk.lang and not self.detector.detect(text[:MAX_MATCH_CHARS]):
                lang = talk.lang
            if talk.kind == "greeting":
                said = self._(lang, "Hello! Write your question in a few words, for example: “Do I need a patent?”")
            elif talk.kind == "confused":
                said = self._(lang, "Sorry if that was not clear. Please ask your question in other words, for example: “Do I need a patent?”")
            else:
                said = self._(lang, "You are welcome! If you have another question, just write it.")
            return Reply("clarify", lang, 0, said)
        candidates, evidence = self.assess(text)
        outcome, chosen, probability = decide(candidates, evidence, self.tuning)
        if outcome != "handoff":
            outcome, chosen, probability = self._only_what_is_asked(text, outcome, chosen, probability)
        if outcome != "answer":
            found = self._answer_to_its_question(text, candidates)
            if found is not None:
                outcome, chosen, probability = "answer", [found[0]], found[1]
        confidence = int(round(100 * probability))
        if outcome == "answer":
            reply = self.entry_reply(chosen[0].entry_id, lang, confidence=confidence, candidates=candidates)
            return self._with_other_questions(reply, self._other_questions(text, candidates, {chosen[0].entry_id}))
        several = self._other_questions(text, candidates, set(), offered=True)
        if len(several) >= 2:
            # Two questions in one, neither answered as a whole, each close to
            # an entry alone: those are offered, for the user to read each.
            outcome, chosen = "clarify", several[:MAX_CHOICES]
        if outcome == "clarify":
            choices = tuple(self.choice(c.entry_id, lang) for c in chosen)
            unsure = self._(lang, "I am not sure which of these you mean:")
            if len(several) >= 2:
                unsure = self._(lang, "Your message asks more than one question:")
            lines = [unsure if len(choices) > 1 else self._(lang, "Do you mean this?")]
            lines += [f"{i}. {c.title}" for i, c in enumerate(choices, 1)]
            lines.append(self._(lang, "Choose one, or ask in other words."))
            return Reply("clarify", lang, confidence, "\n".join(lines), choices=choices, candidates=tuple(candidates))
        text_out = self._(
            lang,
            "I have no checked answer to this question, and I do not guess on legal matters. "
            "I have passed your question to a person, who will answer here.",
        )
        return Reply("handoff", lang, confidence, text_out, candidates=tuple(candidates))

    def _answer_to_its_question(self, text: str, candidates: list[Candidate]) -> tuple[Candidate, float] | None:
        """For a message of several sentences not answered as a whole: the
        entry its question sentence alone is answered with, and how sure.

        A story before the question ("I am from Talas, I drive a taxi in
        Yekaterinburg, I have no contract…") spreads the message over words
        no entry has, so an answer the question alone gets with confidence
        became a choice or a person.  Kept safe: only an entry among the
        whole message's own candidates, and above any subject the FAQ does
        not answer among them ("I am a Russian citizen born in Bishkek. Do I
        need Amina?" is near other countries' rules as a whole, and Amina's
        alone); and held to what the rest of the message names (another
        country, its citizens, an app, a year, a town: `Asked.named_only`).
        Measured: 4 more right answers on the labelled and review sets, and
        4 of 40 on a reviewer's blind probes, none wrong."""
        ahead = list(itertools.takewhile(lambda c: not c.out_of_scope, candidates))  # those above any unanswered subject
        question = question_sentence(text) if ahead else None
        if question is None:
            return None
        asked_candidates, asked_evidence = self.assess(question)
        outcome, chosen, probability = decide(asked_candidates, asked_evidence, self.tuning)
        if outcome == "answer":
            outcome, chosen, probability = self._only_what_is_asked(question, outcome, chosen, probability)
        if outcome != "answer":
            return None
        best = chosen[0]
        if best.entry_id not in {c.entry_id for c in ahead} or not asked_about(text).named_only().lets_answer(self._subjects[best.entry_id]):
            return None
        return best, probability

    def _other_questions(self, text: str, candidates: list[Candidate], answered: set[str], *, offered: bool = False) -> list[Candidate]:
        """The entries that answer, with confidence, the questions of a
        message that asks more than one (`asked_parts`), other than those in
        `answered`: "патент керекпи жана запретти кантип текшерем" had the
        ban check's answer alone.  With `offered`, also the first choice a
        question would be offered ("нужен ли патент" alone is offered the
        two patent entries).  Each question is matched by itself, and held
        to what the whole message names (a country, its citizens, an app, a
        year, a town: `Asked.named_only`), as a story's question is.  Only
        the whole message's `candidates` are scored for each question: its
        words are the message's, and a full match of each at 100 times the
        shipped FAQ had doubled such a message's time."""
        parts = asked_parts(text)
        if not parts or not candidates:
            return []
        among = [c.entry_id for c in candidates]
        # Offered in place of a hand-off, each is held to all the message
        # asks too (an address, a price…: "где в казани дактилоскопия?
        # адрес подскажите" had the fingerprinting entry offered).
        named = asked_about(text) if offered else asked_about(text).named_only()
        found: list[Candidate] = []
        for part in parts:
            outcome, chosen, probability = decide(*self.assess(part, among), self.tuning)
            if outcome != "handoff":
                outcome, chosen, probability = self._only_what_is_asked(part, outcome, chosen, probability)
            if outcome == "handoff" or (outcome == "clarify" and not offered):
                continue
            best = chosen[0]
            if best.entry_id not in answered and named.lets_answer(self._subjects[best.entry_id]):
                answered.add(best.entry_id)
                found.append(best)
        return found

    def _with_other_questions(self, reply: Reply, others: list[Candidate]) -> Reply:
        """An answer that says which other questions of the message have
        answers of their own, and puts those first among its buttons."""
        if not others:
            return reply
        offered = tuple(self.choice(c.entry_id, reply.lang) for c in others)
        note = self._(reply.lang, "Your message asks one more question: “{title}”. Its answer is behind the button below.")
        lines = [note.format(title=choice.title) for choice in offered]
        ids = {choice.id for choice in offered}
        related = offered + tuple(choice for choice in reply.related if choice.id not in ids)
        return replace(reply, text=reply.text + "\n\n" + "\n".join(lines), related=related)

    def _only_what_is_asked(self, text: str, outcome: Outcome, chosen: list[Candidate], probability: float) -> tuple[Outcome, list[Candidate], float]:
        """`decide`'s outcome, kept to the entries that speak of what the
        message names and most entries do not: a question about Kazakhstan
        is not answered with Russia's rule, nor one about a bank's app with
        Amina's, nor a price by an entry that gives none (see `subjects`).
        With none left, a person answers."""
        named = asked_about(text)
        if not any(named):
            return outcome, chosen, probability
        kept = [c for c in chosen if named.answered_by(self._subjects[c.entry_id])]
        if not kept:
            return "handoff", [], 0.0
        if outcome == "answer" and named.countries:
            # An entry about Russia that names the country only in passing
            # ("a trip to Kazakhstan does not reset the 90 days") is offered,
            # not asserted: "how many days can I be in Kazakhstan" had its answer.
            return "clarify", kept, probability
        return outcome, kept, probability

    def assess(self, text: str, among: Sequence[str] = ()) -> tuple[list[Candidate], Evidence]:
        """The scored candidates for a message (only those `among`, if
        given), and what the message itself tells about them (what `decide`
        and the evaluation look at)."""
        text = text[:MAX_MATCH_CHARS]
        return self.matcher.match(text, limit=5, among=among), Evidence(*self.matcher.unknown_words(text))

    def choice(self, entry_id: str, lang: str) -> Choice:
        entry = self.faq.entries[entry_id]
        return Choice(entry.id, entry.title.get(lang) or entry.title["en"])

    def entry_reply(
        self,
        entry_id: str,
        lang: str,
        *,
        confidence: int = 100,
        candidates: list[Candidate] | tuple[Candidate, ...] = (),
    ) -> Reply:
        """The answer of one entry (also for a chosen button or a deep link)."""
        entry = self.faq.entries[entry_id]
        related = tuple(self.choice(r, lang) for r in entry.related if r in self.faq.entries)
        return Reply(
            "answer",
            lang,
            confidence,
            self.render_answer(entry, lang),
            entry_id=entry.id,
            related=related,
            candidates=tuple(candidates),
        )

    def render_answer(self, entry: Entry, lang: str) -> str:
        """Answer text with its sources and the date it was last checked."""
        own = entry is self.faq.entries.get(entry.id)  # only this FAQ's own entries are cached
        if own and (entry.id, lang) in self._answers:
            return self._answers[(entry.id, lang)]
        labels = [self._source_label(key, lang) for key in entry.sources]
        checked = format_date(entry.reviewed, format="long", locale=babel_locale(lang))
        footer = self._(lang, "Sources: {sources}. Checked: {date}.").format(
            sources="; ".join(labels), date=checked
        )
        # A date that ends in an abbreviation's point (Russian "2026 г.")
        # ends the sentence too: "г..", as users saw it, is a typo.
        if footer.endswith(".."):
            footer = footer[:-1]
        text = f"{entry.answer[lang]}\n\n📚 {footer}"
        if own:
            self._answers[(entry.id, lang)] = text
        return text

    def _source_label(self, key: str, lang: str) -> str:
        source = self.faq.sources.get(key)
        if source is None:
            return key
        label: Mapping[str, str] = source.label
        return label.get(lang) or label.get("en") or key
