"""What a message sets aside to ask about something else ("не патент, а
ИНН", "патент эмес, каттоо", "not russia register, kazakhstan's") is not
matched: its words would pull the message to the entry it says it is not
asking about (`parts.without_contrasted`, applied by `Engine.reply`)."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.parts import without_contrasted


@pytest.mark.parametrize(
    ("text", "left"),
    [
        ("работодатель требует не патент, а инн и снилс", "работодатель требует  инн и снилс"),
        ("патент эмес, каттоо жөнүндө сурайм", "каттоо жөнүндө сурайм"),
        ("Oshto emes, Jalal-Abadda filial achylat", "Jalal-Abadda filial achylat"),
        ("not russia register, does kazakhstan have one", "does kazakhstan have one"),
        ("not the entry ban, i mean the register", "the register"),
        # Not a predicate ("а" is "and then" there), nor whose case it is,
        # nor an English "not" inside a clause, nor "not X but Y" without a comma.
        ("первые 30 дней регистрация не нужна, а потом ставит хозяин", "первые 30 дней регистрация не нужна, а потом ставит хозяин"),
        ("мага эмес, кызыма Амина керекпи", "мага эмес, кызыма Амина керекпи"),
        ("court ban is not lifted by amnesty, and in which year?", "court ban is not lifted by amnesty, and in which year?"),
        ("my phone is not lost but broken, amina cant see me", "my phone is not lost but broken, amina cant see me"),
        ("не патент, а", "не патент, а"),  # nothing left: the message as it was
        # Any case and any whitespace (the words looked for first are found in them too).
        ("требует НЕ патент, а инн", "требует  инн"),
        ("требует Не\tпатент,\nа инн", "требует  инн"),
        ("требует не\xa0патент, а инн", "требует  инн"),
        ("Патент ЭМЕС, каттоо", "каттоо"),
    ],
)
def test_what_a_message_sets_aside_is_left_out(text: str, left: str) -> None:
    assert without_contrasted(text) == left


def test_a_question_set_aside_does_not_answer_the_message(engine: Engine) -> None:
    """"Not the patent, the INN": no entry gives tax numbers, and the
    patent's entry, which the same words without the contrast get, is not
    the answer."""
    assert engine.reply("работодатель требует не патент, а инн и снилс. где иностранцу их сделать?").outcome == "handoff"
    assert engine.reply("not russia register, does kazakhstan also have a register of controled persons and how to check it?").outcome == "handoff"
    reply = engine.reply("does russia have a register of controlled persons and how to check it?")
    assert (reply.outcome, reply.entry_id) == ("answer", "register-check")


def test_a_question_after_what_is_set_aside_is_answered(engine: Engine) -> None:
    reply = engine.reply("not the register number, how many kyrgyz people have entry ban to russia?")
    assert (reply.outcome, reply.entry_id) == ("answer", "ban-figures")
