"""Questions about another country are not answered with Russia's rules."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.normalize import skeleton
from bot.places import countries_named, elsewhere


@pytest.mark.parametrize(
    ("text", "country"),
    [
        ("Казакстанда каттоого качан турушум керек", "kazakhstan"),
        ("в казахстане через сколько дней надо вставать на учет", "kazakhstan"),
        ("kazakstanda registraciyaga kancha kundo turush kerek", "kazakhstan"),
        ("registration in Almaty", "kazakhstan"),
        ("в минске регистрация через сколько дней", "belarus"),
        ("Беларуста каттоо", "belarus"),
        ("how to lift my entry ban to turkey", "turkey"),
        ("Түркияга виза керекпи", "turkey"),
        ("в Южной Корее работа", "south-korea"),
        ("Өзбекстанга ID-карта менен кирсе болобу", "uzbekistan"),
    ],
)
def test_a_country_is_recognised_in_its_kyrgyz_russian_and_latin_forms(text: str, country: str) -> None:
    assert countries_named(skeleton(text)) == {country}


@pytest.mark.parametrize(
    "text",
    [
        "казахам нужен патент?",  # a Kazakh, not Kazakhstan
        "я работаю в Казани",  # a Russian city
        "груза много на складе",  # cargo, not Georgia
        "узбекам нужен патент",  # Uzbeks in Russia
    ],
)
def test_people_cities_of_russia_and_common_words_are_not_countries(text: str) -> None:
    assert countries_named(skeleton(text)) == frozenset()


def test_a_message_naming_russia_as_well_is_about_russia() -> None:
    assert elsewhere("приехал из казахстана в россию, регистрация через сколько дней") == frozenset()
    assert elsewhere("kazakstanda kancha kun jursa bolot") == {"kazakhstan"}


@pytest.mark.parametrize(
    "text",
    [
        "do i need fingerprinting in kazakhstan",
        "казакстанда дактилоскопия керекпи",
        "Казакстанда каттоого канча күндүн ичинде турушум керек",
        "в минске регистрация через сколько дней нужна",
        "в беларуси нужен патент кыргызам?",
        "омс в беларуси для семьи мигранта",
        "how to lift my entry ban to turkey",
        "в казахстане миграционную карту что писать",
    ],
)
def test_a_question_about_another_country_goes_to_a_person(engine: Engine, text: str) -> None:
    reply = engine.reply(text)
    assert reply.outcome == "handoff", (reply.entry_id, reply.confidence)
    assert reply.entry_id is None and reply.choices == ()


@pytest.mark.parametrize(
    ("text", "entry_id"),
    [
        ("does a trip to kazakhstan reset my days", "stay-without-contract"),
        ("выезд в казахстан и обратно обнуляет срок?", "stay-without-contract"),
        ("нужна ли дактилоскопия кыргызам", "fingerprinting-medical-exam"),
    ],
)
def test_entries_that_speak_of_the_country_and_russian_questions_are_answered(engine: Engine, text: str, entry_id: str) -> None:
    reply = engine.reply(text)
    assert (reply.outcome, reply.entry_id) == ("answer", entry_id)


def test_uzbeks_and_tajiks_are_asked_about_in_russia_too() -> None:
    assert elsewhere("узбекам дактилоскопия сколько дней в москве") == {"uzbekistan"}
    assert elsewhere("тажиктерге миграционкага эмне деп жазыш керек") == {"tajikistan"}
    assert elsewhere("нужна ли дактилоскопия кыргызам") == frozenset()


@pytest.mark.parametrize(
    ("text", "outcome"),
    [
        ("тажиктерге миграционкага эмне деп жазыш керек", "handoff"),  # migration-card speaks of Kyrgyz citizens
        ("узбекам дактилоскопия сколько дней", "handoff"),
        ("does my uzbek brother-in-law need a patent to work in russia", "answer"),  # patent-who-needs names them
    ],
)
def test_a_question_about_uzbeks_or_tajiks_is_answered_only_by_an_entry_about_them(engine: Engine, text: str, outcome: str) -> None:
    reply = engine.reply(text)
    assert reply.outcome == outcome
    if outcome == "answer":
        assert reply.entry_id == "patent-who-needs"
