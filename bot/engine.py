"""The dialogue engine: normalise → detect language → match → reply.

It knows nothing of Telegram or terminals.  The bot, `jardam chat` and
`jardam ask` all call `Engine.reply` and show `Reply.text` as it is, so what
the evaluation measures is exactly what users get.
"""

from __future__ import annotations

import itertools
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
from .parts import asked_parts, question_sentence, stands_alone, without_contrasted
from .privacy import without_personal_data
from .smalltalk import recognise
from .subjects import Asked, Spoken, asked_about, entry_subjects
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

# A question of a message that asks several, closest to an entry other than
# the one answering the message's other question, is passed to a person
# unless that entry covers this share (0–100) of its words' weight or more
# (`Engine._unanswered`).  On the labelled and review sets, those closest to
# another entry had 10–31 ("кандай кагаздарды даярдайбыз", "skolko notarius
# beret"), and those asking more of the answered one's subject 58–67 ("до
# какого числа успеть", "жообу юристтин кеңешиндей эле болобу"); one closest
# to a subject the FAQ does not answer is passed on whatever it has (a ticket's
# price had 36, "Казакстанда иштесе болобу" 74).
PART_COVERED = 50.0
# ... unless that subject is barely closer than the answered entry (score
# points): "медкомиссияны кайсы жерден" beside "канча күндө өтүш керек" is
# the medical exam's (42.4) as much as the fines' (44.4), and was passed to a
# person beside the answer that says where; at 6 points, a registration
# fine's price would no longer be.
PART_NEAR = 3.0


@dataclass(frozen=True)
class _Part:
    """One question of a message that asks several, matched by itself."""

    text: str
    outcome: Outcome  # `decide`'s, held to what it and the whole message name
    best: Candidate | None  # the entry it is answered or offered with
    candidates: tuple[Candidate, ...]  # scored among the whole message's


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
    # The other questions of the message that no entry answers, for a
    # person (`Engine._unanswered`): the answer says so, and the bot passes them on.
    unanswered: tuple[str, ...] = ()

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
            "unanswered": list(self.unanswered),
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
    asked = asked_about(without_contrasted(text))
    return says_enough_for(best, evidence) and covers_its_question(best, tuning) and asked.lets_answer(subjects[best.entry_id])


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
    # One entry ahead of the rest, for a message that asks something: what an answer, or an offer of it alone, needs besides confidence.
    stands_out = best.score - runner_up >= tuning.answer_margin and says_enough_for(best, evidence)
    if probability >= tuning.answer_probability and stands_out:
        if not covers_its_question(best, tuning):
            # Close to the entry's subject, far from its questions: offered, not asserted.
            return "clarify", [best], probability
        return "answer", [best], probability
    if best.score < tuning.clarify_at:
        if probability >= tuning.offer_probability and stands_out:
            # Too low a score for a choice among several, but one entry well
            # ahead and nearly sure enough to answer: offered ("Do you mean
            # this?", with "Ask a person" beside it), not left to a person.
            return "clarify", [best], probability
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
        text = without_contrasted(text)
        candidates, outcome, chosen, probability = self._decided(text)
        if outcome != "answer":
            found = self._by_its_question(text, candidates)
            if found is not None and found[0] == "answer":
                outcome, chosen, probability = found
            elif found is not None and outcome == "handoff":
                outcome, chosen = "clarify", found[1]
        confidence = int(round(100 * probability))
        if outcome == "answer":
            reply = self.entry_reply(chosen[0].entry_id, lang, confidence=confidence, candidates=candidates)
            named = asked_about(text).named_only()
            parts = self._parts(text, candidates, named)
            answered = {chosen[0].entry_id}
            others = self._answered_parts(parts, answered)
            return self._with_other_questions(reply, others, self._unanswered(parts, answered, others, named))
        named = asked_about(text)
        parts = self._parts(text, candidates, named.named_only())
        # Offered in place of a hand-off, each question is held to all the
        # message asks too (an address, a price…: "где в казани
        # дактилоскопия? адрес подскажите" had the fingerprinting entry offered).
        several = [c for c in self._answered_parts(parts, set(), offered=True) if named.lets_answer(self._subjects[c.entry_id])]
        if len(several) >= 2:
            # Two questions in one, neither answered as a whole, each close to
            # an entry alone: those are offered, for the user to read each.
            outcome, chosen = "clarify", several[:MAX_CHOICES]
        else:
            # A question answered with confidence by itself, and the others
            # answered so too or no entry's ("как оформить рвп и нужен ли мне
            # патент"): it is answered, the others are named under it or go
            # to a person, rather than the whole message.  Only a question
            # that stands alone: "сколько стоит её оформление" is not the
            # patent's price, whatever "её" is.
            sure = [part.best for part in parts if part.outcome == "answer" and part.best is not None and stands_alone(part.text)]
            if sure:
                answered = {sure[0].entry_id}
                others = self._answered_parts(parts, answered)
                unanswered = self._unanswered(parts, answered, others, named.named_only())
                if unanswered or others:
                    reply = self.entry_reply(sure[0].entry_id, lang, confidence=confidence, candidates=candidates)
                    return self._with_other_questions(reply, others, unanswered)
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

    def _by_its_question(self, text: str, candidates: list[Candidate]) -> tuple[Outcome, list[Candidate], float] | None:
        """For a message of several sentences not answered as a whole: the
        entry its question sentence alone is answered with, and how sure;
        or the entries it is offered, which the whole message, handed off,
        is offered instead.  None if it gives neither.

        A story before the question ("I am from Talas, I drive a taxi in
        Yekaterinburg, I have no contract…") spreads the message over words
        no entry has, so an answer the question alone gets with confidence
        became a choice or a person.  Kept safe: only an entry the whole
        message scores alike with its best (within `answer_margin`, as
        `decide` has two entries scoring alike), and only if no subject the
        FAQ does not answer is ahead of it ("I am a Russian citizen born in
        Bishkek. Do I need Amina?" is near other countries' rules as a whole,
        and Amina's alone); and held to what the rest of the message names
        (another country, its citizens, an app, a year, a town:
        `Asked.named_only`).  A question sentence alone has lost what the
        story said ("my cousin was deported by a court. will he get a ban
        after that?" is about leaving the register alone): of the answers it
        had given with an entry 6.5–8.9 points behind the whole message's
        best, 3 were wrong and 1 answered a look-alike, on the labelled and
        review sets and a fresh probe set (h43a); of those 1–3 behind, 2
        were right and 1 answered a look-alike; with the best itself 33 of
        33 were right.

        The same holds an offer: a long story handed off whole whose
        question alone is offered an entry ("…Do I also need to pass this
        russian exam for work in Russia like him?") is offered it, one tap
        from its answer, with "Ask a person" beside it.  On the used halves
        that gave 7 questions in scope their entry (6 of them alone) and
        offered 2 look-alikes an entry, where all 9 had gone to a person;
        on the blind halves, 3 look-alikes and no question in scope."""
        question = question_sentence(text) if candidates and not candidates[0].out_of_scope else None
        if question is None:
            return None
        asked = asked_about(text)
        _, outcome, chosen, probability = self._decided(question, context=asked)
        if outcome == "handoff":
            return None
        ahead = itertools.takewhile(lambda c: not c.out_of_scope, candidates)  # those above any unanswered subject
        alike = {c.entry_id for c in ahead if candidates[0].score - c.score <= self.tuning.answer_margin}
        named = asked.named_only()
        if outcome == "answer":
            best = chosen[0]
            if best.entry_id not in alike or not named.lets_answer(self._subjects[best.entry_id]):
                return None
            return "answer", [best], probability
        offered = [c for c in chosen if c.entry_id in alike and named.answered_by(self._subjects[c.entry_id])]
        return ("clarify", offered, probability) if offered else None

    def _parts(self, text: str, candidates: list[Candidate], named: Asked) -> list[_Part]:
        """Each question of a message that asks more than one (`asked_parts`),
        matched by itself, and held to what the whole message `named` (a
        country, its citizens, an app, a year, a town…), as a story's
        question is; one that stands alone is not held to a death the
        message speaks of ("Новосибирскте консулдугу барбы? анан бирөө каза
        болсо…": the consulate is there whoever died).  Only the whole
        message's `candidates` are scored for each question: its words are
        the message's, and a full match of each at 100 times the shipped FAQ
        had doubled such a message's time."""
        questions = asked_parts(text)
        if not questions or not candidates:
            return []
        among = [c.entry_id for c in candidates]
        parts: list[_Part] = []
        for question in questions:
            found, outcome, chosen, _ = self._decided(question, among, context=named)
            best = chosen[0] if chosen else None
            held = named._replace(death=False) if stands_alone(question) else named
            if best is not None and not held.lets_answer(self._subjects[best.entry_id]):
                outcome, best = "handoff", None
            parts.append(_Part(question, outcome, best, tuple(found)))
        return parts

    @staticmethod
    def _answered_parts(parts: list[_Part], answered: set[str], *, offered: bool = False) -> list[Candidate]:
        """The entries that answer, with confidence, the message's questions,
        other than those in `answered` (which gains them): "патент керекпи
        жана запретти кантип текшерем" had the ban check's answer alone.
        With `offered`, also the first choice a question would be offered
        ("нужен ли патент" alone is offered the two patent entries)."""
        found: list[Candidate] = []
        for part in parts:
            if part.best is None or (part.outcome == "clarify" and not offered) or part.best.entry_id in answered:
                continue
            answered.add(part.best.entry_id)
            found.append(part.best)
        return found

    def _unanswered(self, parts: list[_Part], answered: set[str], others: list[Candidate], named: Asked) -> tuple[str, ...]:
        """The questions of a message that no entry answers and a person
        should be given, beside the answer to its others (`answered`): "где
        проверить запрет и сколько стоит билет до Оша" had gone to a person
        whole, and "патент керекпи жана Москвада бөлмө канча турат" had the
        patent's answer and nothing said of the room.

        A question counts only if it stands alone (`stands_alone`: "how do I
        get it" asks about the answer's own subject), is closest to another
        entry than the answered ones, or to a subject the FAQ does not
        answer (by more than `PART_NEAR`), and little covered by the
        answered ones (`PART_COVERED`: "эмне үчүн запрет коюшат? кандай
        мыйзам бузуу үчүн" is one question), and a full match finds no
        entry for it either; one that does, held to what the message
        `named`, is added to `others` ("амина работает в Казани? и где
        сделать дактилоскопию": fingerprinting was not among the whole
        message's candidates)."""
        unanswered: list[str] = []
        for part in parts:
            if part.outcome != "handoff" or not stands_alone(part.text):
                continue
            closest = part.candidates[0] if part.candidates else None
            if closest is not None and closest.entry_id in answered:
                continue  # it asks more of the answer's own subject
            covered = max((c.coverage for c in part.candidates if c.entry_id in answered), default=0.0)
            answered_score = max((c.score for c in part.candidates if c.entry_id in answered), default=0.0)
            if (closest is None or not closest.out_of_scope or answered_score >= closest.score - PART_NEAR) and covered >= PART_COVERED:
                continue
            _, outcome, chosen, _ = self._decided(part.text, context=named)
            if outcome == "answer" and not named.lets_answer(self._subjects[chosen[0].entry_id]):
                outcome = "handoff"
            if outcome == "answer" and chosen[0].entry_id not in answered:
                answered.add(chosen[0].entry_id)
                others.append(chosen[0])
            elif outcome == "handoff":
                unanswered.append(part.text)
        return tuple(unanswered)

    def _with_other_questions(self, reply: Reply, others: list[Candidate], unanswered: tuple[str, ...] = ()) -> Reply:
        """An answer that says which other questions of the message have
        answers of their own, and puts those first among its buttons; and
        which have none (`unanswered`), which the bot passes to a person."""
        if not others and not unanswered:
            return reply
        offered = tuple(self.choice(c.entry_id, reply.lang) for c in others)
        note = self._(reply.lang, "Your message asks one more question: “{title}”. Its answer is behind the button below.")
        lines = [note.format(title=choice.title) for choice in offered]
        no_answer = self._(reply.lang, "Your message also asks: “{question}”. I have no checked answer to that, and I do not guess on legal matters.")
        lines += [no_answer.format(question=question) for question in unanswered]
        ids = {choice.id for choice in offered}
        related = offered + tuple(choice for choice in reply.related if choice.id not in ids)
        return replace(reply, text=reply.text + "\n\n" + "\n".join(lines), related=related, unanswered=unanswered)

    def _only_what_is_asked(
        self, text: str, outcome: Outcome, chosen: list[Candidate], probability: float, context: Asked | None = None
    ) -> tuple[Outcome, list[Candidate], float]:
        """`decide`'s outcome, kept to the entries that speak of what the
        message names and most entries do not: a question about Kazakhstan
        is not answered with Russia's rule, nor one about a bank's app with
        Amina's, nor a price by an entry that gives none (see `subjects`).
        With none left, a person answers.  A question of a longer message
        (its `context`) that speaks of a death may be answered by the entries
        about a body ("Брат умер в Самаре. Какие документы нужны?")."""
        named = asked_about(text)
        if context is not None and context.of_death and not named.of_death:
            named = named._replace(of_death=True)
        if not any(named) and not any(self._subjects[c.entry_id].of_death for c in chosen):
            return outcome, chosen, probability  # nothing that holds an entry back
        kept = [c for c in chosen if named.answered_by(self._subjects[c.entry_id])]
        if not kept:
            return "handoff", [], 0.0
        if outcome == "answer" and named.countries:
            # An entry about Russia that names the country only in passing
            # ("a trip to Kazakhstan does not reset the 90 days") is offered,
            # not asserted: "how many days can I be in Kazakhstan" had its answer.
            return "clarify", kept, probability
        return outcome, kept, probability

    def _decided(
        self, text: str, among: Sequence[str] = (), *, context: Asked | None = None
    ) -> tuple[list[Candidate], Outcome, list[Candidate], float]:
        """A message's candidates (only those `among`, if given), and what
        `decide` makes of them, kept to what the message asks
        (`_only_what_is_asked`): the whole message, its question sentence
        and each of its questions are decided so."""
        candidates, evidence = self._scored(text, among)
        outcome, chosen, probability = decide(candidates, evidence, self.tuning)
        if outcome != "handoff":
            outcome, chosen, probability = self._only_what_is_asked(text, outcome, chosen, probability, context)
        return candidates, outcome, chosen, probability

    def assess(self, text: str, among: Sequence[str] = ()) -> tuple[list[Candidate], Evidence]:
        """The scored candidates for a message (only those `among`, if
        given), and what the message itself tells about them (what `decide`
        and the evaluation look at): without what it sets aside
        (`without_contrasted`), as `reply` matches it."""
        return self._scored(without_contrasted(text[:MAX_MATCH_CHARS]), among)

    def _scored(self, text: str, among: Sequence[str] = ()) -> tuple[list[Candidate], Evidence]:
        """`assess` of a text `reply` has already cut and left its asides out of."""
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
