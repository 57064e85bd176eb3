"""Greetings and thanks are answered kindly, never matched or handed off."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.smalltalk import recognise


@pytest.mark.parametrize(
    ("text", "kind", "lang"),
    [
        ("спасибо", "thanks", "ru"),
        ("СПАСИБО БОЛЬШОЕ!!", "thanks", "ru"),
        ("рахмат", "thanks", "ky"),
        ("chon rahmat", "thanks", "ky"),
        ("thanks a lot", "thanks", "en"),
        ("ок", "thanks", None),
        ("привет", "greeting", "ru"),
        ("Салам брат", "greeting", None),
        ("ассалому алейкум агайлар", "greeting", "ky"),
        ("Ассалому алейкум", "greeting", None),
        ("саламатсызбы", "greeting", "ky"),
        ("good morning", "greeting", "en"),
        ("thank you very much", "thanks", "en"),
        ("Спасибо вам", "thanks", "ru"),
        ("Рахмат сизге", "thanks", "ky"),
        ("Кутман күн", "greeting", "ky"),
        ("Ас-саляму алейкум", "greeting", None),
        ("ва алейкум ассалам", "greeting", None),
        # "how are you" as a whole, and the bot addressed
        ("how are you", "greeting", "en"),
        ("How are you doing, bot?", "greeting", "en"),
        ("кандайсың бот 😄", "greeting", "ky"),
        ("kandaisyn", "greeting", "ky"),
        ("Кандай жатасыз?", "greeting", "ky"),
        ("как ты", "greeting", "ru"),
        ("привет бот", "greeting", "ru"),
        ("how's it going", "greeting", "en"),
        ("how are u", "greeting", "en"),
        ("кандайсың бро", "greeting", "ky"),
        ("иштериң кандай", "greeting", "ky"),
        ("как вы там", "greeting", "ru"),
    ],
)
def test_recognised(text: str, kind: str, lang: str | None) -> None:
    talk = recognise(text)
    assert talk is not None and (talk.kind, talk.lang) == (kind, lang)


@pytest.mark.parametrize(
    "text",
    [
        "канча күн",
        "патент керекпи",
        "добрый день, патент нужен?",
        "спасибо, а где проверить запрет?",
        "",
        # a greeting phrase's words elsewhere, or with a question
        "how much",
        "кандай",
        "как ты получил патент",
        "how are you paid",
        "how are you, where",
        "как вы, где",
        "кандай жатасың, патент керекпи",
        "ты бот?",
        # thanks, then a question word: a follow-up question
        "спасибо а где",
        "thank you, but how much",
        "ok but what about me",
        "понятно, а если нет",
        "ok, and if not?",
        # "ты" reduces to the skeleton of "ty" (thank you)
        "ты кто",
        "кто ты",
    ],
)
def test_questions_are_not_small_talk(text: str) -> None:
    assert recognise(text) is None


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("не понял", "ru"),
        ("не понимаю", "ru"),
        ("Непонятно!", "ru"),
        ("не хорошо", "ru"),
        ("жакшы эмес", "ky"),
        ("түшүнбөдүм", "ky"),
        ("тушунгон жокмун", "ky"),
        ("i dont understand", "en"),
        ("not clear", "en"),
        ("ничего не понял", "ru"),
        ("эч нерсе түшүнбөдүм", "ky"),
    ],
)
def test_not_understanding_is_a_complaint_not_thanks(text: str, lang: str) -> None:
    talk = recognise(text)
    assert talk is not None and (talk.kind, talk.lang) == ("confused", lang)


@pytest.mark.parametrize("text", ["нет спасибо", "no thanks", "i understand", "понятно"])
def test_no_thanks_and_understanding_stay_thanks(text: str) -> None:
    talk = recognise(text)
    assert talk is not None and talk.kind == "thanks"


def test_a_confused_user_is_asked_to_rephrase_not_thanked(engine: Engine) -> None:
    reply = engine.reply("не понял")
    assert (reply.outcome, reply.lang, reply.entry_id, reply.choices) == ("clarify", "ru", None, ())
    sorry = "Sorry if that was not clear. Please ask your question in other words, for example: “Do I need a patent?”"
    assert reply.text == engine.catalogs.gettext("ru", sorry)
    assert "другими словами" in reply.text


def test_engine_replies_in_the_words_language(engine: Engine) -> None:
    thanks = engine.reply("рахмат", user_lang="en")
    assert (thanks.outcome, thanks.lang, thanks.entry_id) == ("clarify", "ky", None)
    assert thanks.text == engine.catalogs.gettext("ky", "You are welcome! If you have another question, just write it.")
    assert thanks.text != "You are welcome! If you have another question, just write it."
    hello = engine.reply("привет")
    assert (hello.outcome, hello.lang) == ("clarify", "ru") and "патент" in hello.text.lower()


def test_ambiguous_word_uses_the_users_language(engine: Engine) -> None:
    assert engine.reply("ок", user_lang="ky").lang == "ky"
    assert engine.reply("ok", user_lang="en").outcome == "clarify"


def test_greeting_with_a_question_is_matched(engine: Engine) -> None:
    reply = engine.reply("салам, патент керекпи?")
    assert reply.outcome == "answer" and reply.entry_id == "patent-not-needed"


@pytest.mark.parametrize("text", ["плохо", "хозяин", "дети", "ок а сколько"])
def test_a_lone_word_gets_choices_or_a_person_not_an_answer(engine: Engine, text: str) -> None:
    reply = engine.reply(text, user_lang="ru")
    assert reply.outcome in ("clarify", "handoff") and reply.entry_id is None


def test_a_single_choice_is_offered_as_a_question(engine: Engine) -> None:
    reply = engine.reply("плохо", user_lang="ru")
    assert reply.outcome == "clarify" and len(reply.choices) == 1
    assert reply.text.splitlines()[0] == engine.catalogs.gettext("ru", "Do you mean this?") == "Вы об этом?"
    assert reply.choices[0].title in reply.text
