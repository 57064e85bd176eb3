"""Normalisation: every way of typing one question reduces to one skeleton."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.normalize import fold, skeleton


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        # case, punctuation, emoji
        ("ПАТЕНТ КЕРЕКПИ??? 🙏", "патент керекпи"),
        # ё/е
        ("Ещё вопрос", "еще вопрос"),
        # Kyrgyz letters typed as Russian ones
        ("көмүр үйгө жеткирүү", "комур уйго жеткируу"),
        ("Кыргызстандыктарга патент керекпи", "кыргызстандыктарга патент керекпи"),
        # Russian in Latin letters
        ("kak proverit zapret na vezd", "как проверить запрет на въезд"),
        ("kak proverit' zapret na v'ezd", "как проверить запрет на въезд"),
        # Kyrgyz in Latin letters, with the usual spellings of ж, ы, ө, ү
        ("patent kerekpi", "патент керекпи"),
        ("jashoo", "жашоо"),
        ("zhashoo", "жашоо"),
        ("amina degen emne", "амина деген эмне"),
        ("registraciya kachan kerek", "регистрация качан керек"),
        ("registratsiya", "регистрация"),
        ("Sakharovo", "Сахарово"),
        # repeated letters
        ("помогитеееее", "помогите"),
        ("saaalaaam", "салам"),
        # Kazakh-style letters and Latin diacritics
        ("Üy", "үй"),
    ],
)
def test_styles_reduce_to_same_skeleton(typed: str, canonical: str) -> None:
    assert skeleton(typed) == skeleton(canonical)


def test_fold_keeps_script_and_drops_marks() -> None:
    assert fold("Сахарово\u200b — ЦВСИГ!\u202e") == "сахарово цвсиг"
    assert fold("а\u0301") == "а"  # a stress mark on a Cyrillic letter


@pytest.mark.parametrize("text", ["", "   ", "🙏🙏", "?!.,", "\u200b\u200f"])
def test_no_letters_gives_empty_skeleton(text: str) -> None:
    assert skeleton(text) == ""


def test_different_words_stay_different() -> None:
    assert skeleton("запрет") != skeleton("реестр")
    assert skeleton("patent") != skeleton("pasport")


@pytest.mark.parametrize(
    ("words", "digits"),
    [
        ("девяносто дней без договора", "90 dnei bez dogovora"),
        ("Токсон күн", "90 kun"),
        ("devyanosto dney", "90 dnei"),
        ("ninety days", "90 dais"),
        ("за тридцать дней", "za 30 dnei"),
        ("отуз күндө", "30 kundo"),
        ("three working days", "3 vorking dais"),
        ("үч күн локация жок", "3 kun lokaca jok"),
        ("через пятнадцать дней", "cherez 15 dnei"),
    ],
)
def test_the_numbers_rules_are_stated_in_read_as_digits(words: str, digits: str) -> None:
    """The FAQ's phrasings write "90 дней"; a question typed or dictated in
    words ("токсон күн") must reach the same entry."""
    assert skeleton(words) == digits


@pytest.mark.parametrize("spoken", ["скока", "скоко", "сколка", "skoka"])
def test_spoken_forms_of_skolko_read_as_skolko(spoken: str) -> None:
    """"Штраф скока будет" asks a fine's amount as "штраф сколько будет"
    does: the rules that recognise a price, a fine or a count read the skeleton."""
    assert skeleton(f"штраф {spoken} будет") == skeleton("штраф сколько будет") == "shtraf skolko budet"


def test_a_number_in_words_is_answered_as_in_digits(engine: Engine) -> None:
    for in_words, in_digits in (
        ("келишимсиз токсон кун журсом болобу", "келишимсиз 90 кун журсом болобу"),
        ("без договора можно находиться девяносто дней в году", "без договора можно находиться 90 дней в году"),
    ):
        worded, digited = engine.reply(in_words, "ky"), engine.reply(in_digits, "ky")
        assert (worded.outcome, worded.entry_id) == (digited.outcome, digited.entry_id) == ("answer", "stay-without-contract")


@pytest.mark.parametrize("word", ["спс", "здрасьте", "алдын"])
def test_chat_greetings_and_thanks_are_filler(word: str) -> None:
    """"спс" (thanks), "здрасьте" (hi), "алдын ала" (in advance) say
    nothing of the question: weighed as its words, they had held
    "…канча кун турса болоооот?? спс алдын ала" below an answer."""
    from bot.matcher import is_informative

    assert not is_informative(skeleton(word))


def test_a_question_wrapped_in_chat_words_is_answered(engine: Engine) -> None:
    reply = engine.reply("салам 👋 келишимсиз жургон адам Россияда жылына канча кун турса болоооот?? спс алдын ала", "ky")
    assert (reply.outcome, reply.entry_id) == ("answer", "stay-without-contract")
