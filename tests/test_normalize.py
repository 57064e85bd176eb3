"""Normalisation: every way of typing one question reduces to one skeleton."""

from __future__ import annotations

import pytest

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
