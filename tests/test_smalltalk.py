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
    ],
)
def test_recognised(text: str, kind: str, lang: str | None) -> None:
    talk = recognise(text)
    assert talk is not None and (talk.kind, talk.lang) == (kind, lang)


@pytest.mark.parametrize(
    "text",
    ["канча күн", "патент керекпи", "добрый день, патент нужен?", "спасибо, а где проверить запрет?", "how are you", ""],
)
def test_questions_are_not_small_talk(text: str) -> None:
    assert recognise(text) is None


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
