"""Language detection: the language a message is written in, however typed."""

from __future__ import annotations

import pytest

from bot.engine import Engine


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Россияда иштөө үчүн патент керекпи?", "ky"),  # with ө/ү
        ("Россияда иштоо учун патент керекпи", "ky"),  # without
        ("патент керекпи", "ky"),
        ("patent kerekpi", "ky"),  # Latin
        ("zapret bar bolso emne kylam", "ky"),
        ("реестрден кантип чыгам", "ky"),  # Russian word, Kyrgyz grammar
        ("Нужен ли патент гражданам Кыргызстана?", "ru"),
        ("как проверить запрет на въезд", "ru"),
        ("kak proverit zapret na vezd", "ru"),  # Latin
        ("gde sdelat registraciyu", "ru"),
        ("Do citizens of Kyrgyzstan need a work patent?", "en"),
        ("how check entry ban russia", "en"),
        # Kyrgyz grammar around Russian terms, which outweigh it in letters
        ("реестр контролируемых лиц деген эмне", "ky"),
        ("проверка запрета на въезд кантип жасайт", "ky"),
        # Russian words ending as a Kyrgyz question particle would (-бу, -би, -бы)
        ("миграционную службу адрес", "ru"),
        ("хобби в москве", "ru"),
        ("миграционной службы адрес", "ru"),
        # Latin names and terms inside Cyrillic text do not switch the alphabet
        ("patent нужен?", "ru"),
        ("amina кантип иштейт", "ky"),
        # but words are counted, not letters: mostly Latin is Latin
        ("Амина app how to use", "en"),
        ("how to check запрет", "en"),
        ("how do I get a патент", "en"),
    ],
)
def test_detects_language(engine: Engine, text: str, lang: str) -> None:
    assert engine.detector.detect(text) == lang


@pytest.mark.parametrize(
    "text", ["Amina?", "ok", "🙏", "2025", "ЦВСИГ", "патент", "zapret", "салам", "спасибо", "a?", "90 кун", "Jardam?", "Жардам", "Men", "Kim", "bar"]
)
def test_cannot_tell_from_too_little(engine: Engine, text: str) -> None:
    assert engine.detector.detect(text) is None


@pytest.mark.parametrize(
    ("text", "lang"),
    [("kerek?", "ky"), ("керекпи", "ky"), ("кантип?", "ky"), ("kancha", "ky"), ("сколько?", "ru"), ("skolko", "ru"), ("help", "en"), ("What?", "en")],
)
def test_a_lone_function_word_of_one_language_tells(engine: Engine, text: str, lang: str) -> None:
    """"kerek" alone had been answered in the user's chosen language (Russian,
    for many with Telegram in Russian), "help" too."""
    assert engine.detector.detect(text) == lang
    assert engine.reply_language(text, "ru" if lang != "ru" else "ky") == lang


def test_reply_language_falls_back_to_choice_then_default(engine: Engine) -> None:
    assert engine.reply_language("Amina?", "ky") == "ky"
    assert engine.reply_language("Amina?", "en") == "en"
    assert engine.reply_language("Amina?", None) == "ru"
    assert engine.reply_language("как проверить запрет на въезд", "en") == "ru"
