"""A message that asks two questions at once ("патент керекпи жана
запретти кантип текшерем") gets the answer to one and, under it, the
other's entry, or, when neither is answered as a whole, both entries to
choose from; a question no entry answers goes to a person beside the
answer to the other (`asked_parts`, `Engine._parts`, `Engine._unanswered`)."""

from __future__ import annotations

import pytest
import yaml

from bot.engine import Engine, Reply
from bot.parts import asked_parts, stands_alone

from .conftest import ROOT


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("нужен ли патент и где проверить запрет", ["нужен ли патент", "где проверить запрет"]),
        ("патент керекпи жана запретти кантип текшерем", ["патент керекпи", "запретти кантип текшерем"]),
        ("каттоону ким жасайт жана Аминаны кантип орнотом", ["каттоону ким жасайт", "Аминаны кантип орнотом"]),
        ("do i need a patent? and how do i check for an entry ban?", ["do i need a patent", "and how do i check for an entry ban"]),
        ("is emergency care free and can my wife get OMS", ["is emergency care free", "can my wife get OMS"]),
        # One question, whatever its conjunctions and question marks:
        ("паспорт и миграционку забрали что делать", []),  # "паспорт" asks nothing
        ("ата-энем жана иним келди, каттоо керекпи", []),
        (
            "орус тилинен экзамен тапшырыш керекпи бизге, анан дактилоскопия дагы керекпи",  # "дагы" is "too" here
            ["орус тилинен экзамен тапшырыш керекпи бизге", "дактилоскопия дагы керекпи"],
        ),
        ("what if i do not register at all", []),  # "i" is no conjunction
        ("skolko derzhat v Saharovo do deportacii? govoryat do 90 dnei", []),  # "до" in Latin letters asks nothing
        ("Salam? patent kerekpi?", []),  # a greeting is no question
        ("how do I check an entry ban", []),
        # Russian endings are no Kyrgyz question particle ("-ми", "-му"):
        ("Можно ли не проходить дактилоскопию и медосвидетельствование ребёнку 14 лет, приехавшему с родителями?", []),
        ("больничный мне оплатят? я гражданин кр, работаю по трудовому договору", []),
    ],
)
def test_a_message_is_cut_into_its_questions(text: str, parts: list[str]) -> None:
    assert asked_parts(text) == parts


def test_an_answer_names_the_other_question_and_offers_its_entry_first(engine: Engine) -> None:
    reply = engine.reply("каттоону ким жасайт жана Аминаны кантип орнотом", "ky")
    assert (reply.outcome, reply.entry_id) == ("answer", "amina-how-to-use")
    assert reply.related[0].id == "migration-registration"
    assert [c.id for c in reply.related].count("migration-registration") == 1
    title = engine.faq.entries["migration-registration"].title["ky"]
    assert reply.text.endswith(f"Билдирүүңүздө дагы бир суроо бар: «{title}». Анын жообу төмөнкү баскычта.")
    assert reply.text.startswith(engine.render_answer(engine.faq.entries["amina-how-to-use"], "ky"))


def test_one_question_gets_its_answer_alone(engine: Engine) -> None:
    reply = engine.reply("Аминаны кантип орнотом", "ky")
    assert reply.outcome == "answer"
    assert reply.text == engine.render_answer(engine.faq.entries[reply.entry_id], "ky")


def test_two_questions_neither_answered_as_a_whole_are_both_offered(engine: Engine) -> None:
    reply = engine.reply("нужен ли патент и где проверить запрет", "ru")
    assert reply.outcome == "clarify"
    assert [c.id for c in reply.choices] == ["patent-not-needed", "ban-check"]
    assert reply.text.startswith("В вашем сообщении несколько вопросов:")


def test_a_second_question_no_entry_answers_goes_to_a_person_beside_the_answer(engine: Engine) -> None:
    """The ticket's price is no entry's: the ban check is answered, and the
    price is named as unanswered, for the bot to pass to a person."""
    reply = engine.reply("где проверить запрет и сколько стоит билет до Оша", "ru")
    assert (reply.outcome, reply.entry_id, reply.unanswered) == ("answer", "ban-check", ("сколько стоит билет до Оша",))
    assert reply.text.endswith("В вашем сообщении есть ещё вопрос: «сколько стоит билет до Оша». "
                               "На него у меня нет проверенного ответа, а в юридических вопросах я не гадаю.")
    assert reply.as_json()["unanswered"] == ["сколько стоит билет до Оша"]


def test_an_answered_message_names_the_question_it_leaves_to_a_person(engine: Engine) -> None:
    reply = engine.reply("do kyrgyz need a visa for turkey? and how many days can i stay in russia without a job contract", "en")
    assert (reply.outcome, reply.entry_id, reply.unanswered) == ("answer", "stay-without-contract", ("do kyrgyz need a visa for turkey",))


@pytest.mark.parametrize(
    "text",
    [
        "what is meken kart and how do i get it",  # "it" is Meken-Kart
        "эмне үчүн запрет коюшат? кандай мыйзам бузуу үчүн",  # the answer's own subject, asked again
        "Сдаю комнату работнику из Кыргызстана. Я обязан его регистрировать, и в какой срок после приезда?",
        "вы юристы? можно ли вам доверять",
        # the medical exam's as much as the fines' (`PART_NEAR`): the answer says where
        "медкомиссияны кайсы жерден жана келгенден кийин канча кундо отуш керек",
    ],
)
def test_a_question_about_the_answers_own_subject_is_not_passed_on(engine: Engine, text: str) -> None:
    reply = engine.reply(text)
    assert reply.outcome == "answer" and reply.unanswered == ()


def test_a_question_that_stands_alone_is_not_held_to_a_death_the_message_speaks_of(engine: Engine) -> None:
    """Whether there is a consulate in Novosibirsk does not depend on the
    death asked about beside it: that question had gone to a person."""
    reply = engine.reply("Новосибирскте кыргыз консулдугу барбы? анан бирөө бул жакта каза болсо сөөгүн жеткирууго мамлекет жардам береби")
    assert (reply.outcome, reply.entry_id, reply.unanswered) == ("answer", "repatriation-state-support", ())
    assert reply.related[0].id == "consulates"


def test_a_question_beside_a_death_may_be_answered_by_the_entries_about_a_body(engine: Engine) -> None:
    """"What documents do we need" names no death, and the entries about a
    body answer only a message that speaks of one: the whole message does."""
    reply = engine.reply("брат умер в екатеринбурге, государство оплатит перевозку тела? какие документы собирать")
    assert (reply.outcome, reply.entry_id, reply.unanswered) == ("answer", "repatriation-state-support", ())
    assert reply.related[0].id == "repatriation-documents"


def test_a_question_answered_alone_is_answered_when_the_other_has_no_entry(engine: Engine) -> None:
    """Neither answered nor offered as a whole, "как оформить рвп и нужен ли
    мне патент" gets the patent's answer, and the residence permit goes on."""
    reply = engine.reply("как оформить рвп и нужен ли мне патент как гражданину кр", "ru")
    assert (reply.outcome, reply.entry_id, reply.unanswered) == ("answer", "patent-not-needed", ("как оформить рвп",))


def test_a_question_pointing_back_is_not_answered_alone(engine: Engine) -> None:
    """"Сколько стоит её оформление" asks about the medical book: the
    patent's price it is closest to alone is not given."""
    reply = engine.reply("Нужна ли личная медицинская книжка для работы в общепите гражданину КР и сколько стоит её оформление?", "ru")
    assert reply.outcome == "handoff"


def test_a_business_of_ones_own_is_not_answered_with_a_workers_rule(engine: Engine) -> None:
    """After "как открыть ип", the patent for a taxi of one's own is a sole
    proprietor's tax patent, not the labour patent."""
    reply = engine.reply("как открыть ип иностранцу и нужен ли патент чтобы работать в такси на себя", "ru")
    assert reply.outcome == "handoff"


@pytest.mark.parametrize(
    ("part", "alone"),
    [
        ("сколько стоит билет до Оша", True),
        ("Москвада курьерге иш барбы", True),
        ("skolko notarius beret", True),
        ("how do i get it", False),  # points back
        ("and how do we get his things from his room", True),  # "his": a person, not the answer's subject
        ("also is there a consulate in kazan", True),  # "is there" points at nothing
        ("и что это за амина про которую все говорят", True),
        ("what can i do there", False),
        ("ал жакта эмнелер жасалат", False),
        ("что там можно сделать", False),
        ("и куда за ним обращаться", False),  # "ним": the benefit the message asked about
        ("до какого срока", False),  # names one thing only
        ("на какую сумму", False),
    ],
)
def test_a_question_stands_alone_when_it_names_its_own_subject(part: str, alone: bool) -> None:
    assert stands_alone(part) is alone


def test_a_question_pointing_back_is_not_answered_by_itself(engine: Engine) -> None:
    """"Куда за ним обращаться" asks where to apply for what the message
    asked about (an unemployment benefit no entry covers): it had been
    answered alone, with where to get help, as a question of its own."""
    text = "Договор расторгают раньше срока. Положено ли мне пособие по безработице как работнику из ЕАЭС, и куда за ним обращаться?"
    assert engine.reply(text, "ru").outcome != "answer"


def test_what_the_whole_message_names_holds_each_question(engine: Engine) -> None:
    """Almaty is in Kazakhstan: Russia's registration is not offered for it."""
    reply = engine.reply("Дочь едет работать в Алматы. Нужна ли ей там регистрация и через сколько дней после приезда?", "ru")
    assert reply.outcome == "handoff"


def shown(reply: Reply) -> list[str]:
    """The entries a reply gives the user: its answer and the other
    question's entry it names, or the entries it offers."""
    if reply.outcome == "answer":
        assert reply.entry_id is not None
        last = reply.text.rsplit("\n\n", 1)[-1]  # the note on the other question, after the sources
        named = [reply.related[0].id] if reply.related and reply.related[0].title in last else []
        return [reply.entry_id, *named]
    return [c.id for c in reply.choices]


def test_two_question_messages_hold_their_floors(engine: Engine) -> None:
    """Of the two-question messages of `two_questions.yaml`, how many get
    both questions answered or offered; of those where one question has an
    entry, how many get its answer with the other passed to a person; of
    those asking one subject in two parts, how many get its answer with
    nothing passed on.  No answer with an entry that answers neither
    question, and nothing answered or offered where no entry answers
    either.  Floors: the figures of 2026-11-25, less a little: both, dev 32
    of 58 and holdout 28 of 48; one and one passed on, dev 13 of 23 and
    holdout 8 of 18 (none before a question was passed on alone); one
    subject, dev 7 of 8 and holdout 6 of 8."""
    items = yaml.safe_load((ROOT / "tests" / "eval" / "two_questions.yaml").read_text(encoding="utf-8"))
    both = {"dev": 0, "holdout": 0}
    one_and_passed_on = {"dev": 0, "holdout": 0}
    one_subject = {"dev": 0, "holdout": 0}
    for item in items:
        reply = engine.reply(item["q"], item["lang"])
        expected = set(item["expect"] or ())
        if reply.outcome == "answer":
            assert reply.entry_id in expected, item["q"]
        if item["kind"] == "none":
            assert reply.outcome == "handoff", item["q"]
        elif item["kind"] == "two" and expected <= set(shown(reply)):
            both[item["split"]] += 1
        elif item["kind"] == "half" and reply.outcome == "answer" and reply.unanswered:
            one_and_passed_on[item["split"]] += 1
        elif item["kind"] == "follow" and reply.outcome == "answer" and not reply.unanswered:
            one_subject[item["split"]] += 1
    assert both["dev"] >= 30 and both["holdout"] >= 26, both
    assert one_and_passed_on["dev"] >= 12 and one_and_passed_on["holdout"] >= 7, one_and_passed_on
    assert one_subject["dev"] >= 6 and one_subject["holdout"] >= 5, one_subject
