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


# What /start and /help promise: a person only where there is one.  Without
# an operators' group, a question the bot cannot answer is only recorded
# (see above), so neither may say that a person answers, nor offer /human.
PROMISES = {
    "ru": ("передаю ваш вопрос человеку", "передаю вопрос человеку", "/human"),
    "en": ("pass your question to a person", "who answers here", "/human"),
    "ky": ("адамга өткөрүп берем", "адамга өткөрөм", "/human"),
}
NO_PERSON = {
    "ru": ("нет проверенного ответа, я так и скажу", "в этом чате на него никто не ответит"),
    "en": ("have no checked answer, I say so", "no one answers in this chat"),
    "ky": ("жообум жок болсо, ошону ачык айтам", "бул чатта ага эч ким жооп бербейт"),
}


@pytest.mark.parametrize("code", ["ky", "ru", "en"])
def test_start_and_help_promise_a_person_only_with_an_operators_group(api: FakeBotAPI, run_bot: Any, code: str) -> None:
    runner = run_bot(operator_chat_id=None)
    api.push_text(USER, "/start", language_code=code)
    greeting = last_to(api, USER)["text"]
    mark = api.checkpoint()
    api.push_text(USER, "/help", language_code=code)
    help_text = last_to(api, USER, since=mark)["text"]
    runner.stop()
    says_so, no_one = NO_PERSON[code]
    assert says_so in greeting, greeting
    assert says_so in help_text and no_one in help_text, help_text
    assert "/topics" in help_text and "/lang" in help_text
    for promise in PROMISES[code]:
        assert promise not in greeting and promise not in help_text, (promise, greeting, help_text)

    run_bot()  # with an operators' group: the texts as they were
    mark = api.checkpoint()
    api.push_text(USER, "/start", language_code=code)
    greeting = last_to(api, USER, since=mark)["text"]
    mark = api.checkpoint()
    api.push_text(USER, "/help", language_code=code)
    help_text = last_to(api, USER, since=mark)["text"]
    start_promise, help_promise, human = PROMISES[code]
    assert start_promise in greeting and says_so not in greeting
    assert help_promise in help_text and human in help_text and says_so not in help_text
