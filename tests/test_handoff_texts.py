"""What a user is told when their question goes to no one (no operators'
group configured): that it is recorded, and that no one will answer in
this chat; never the promise of a person."""

from __future__ import annotations

from typing import Any

import pytest
import sqlite_utils

from bot.fakebotapi import FakeBotAPI

from .test_telegram import USER, last_to


@pytest.mark.parametrize(
    ("code", "question", "told"),
    [
        ("ru", "какой курс доллара сегодня", "Ваш вопрос записан, чтобы улучшить ответы, но в этом чате на него никто не ответит"),
        ("en", "/human what is the dollar rate today", "no one will answer it in this chat"),
        ("ky", "/human бүгүн доллардын курсу канча", "бул чатта ага эч ким жооп бербейт"),
    ],
)
def test_without_an_operators_group_no_person_is_promised(
    api: FakeBotAPI, run_bot: Any, db_path: Any, code: str, question: str, told: str
) -> None:
    runner = run_bot(operator_chat_id=None)
    api.push_text(USER, question, language_code=code)
    reply = last_to(api, USER)["text"]
    assert told in reply
    assert "human" not in reply and "человек" not in reply and "адам" not in reply
    runner.stop()
    assert sqlite_utils.Database(db_path)["questions"].count == 1


def test_without_an_operators_group_asking_for_a_person_promises_none(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot(operator_chat_id=None)
    api.push_text(USER, "/human", language_code="ru")
    prompt = last_to(api, USER)["text"]
    assert "никто не ответит" in prompt and "передам" not in prompt
