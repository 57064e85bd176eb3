"""End-to-end conversations: the real bot against the fake Bot API server.

Assertions are on what users and operators would see: the texts and
buttons the bot sent, and what is stored in the SQLite file.
"""

from __future__ import annotations

from typing import Any

import pytest
import sqlite_utils

from .conftest import OPERATORS
from .fakebotapi import FakeBotAPI

USER = 5001


def buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    markup = message.get("reply_markup") or {}
    return [(b["text"], b.get("callback_data", "")) for row in markup.get("inline_keyboard", []) for b in row]


def last_to(api: FakeBotAPI, chat_id: int, since: int = 0, count: int = 1, timeout: float = 5.0) -> dict[str, Any]:
    return api.wait_for_sent(chat_id=chat_id, count=count, since=since, timeout=timeout)[-1]


@pytest.mark.parametrize(
    ("code", "expected"),
    [("ky", "Салам! Мен Jardam"), ("ru", "Здравствуйте! Я бот Jardam"), ("en", "Hello! I am Jardam"), ("de", "Здравствуйте! Я бот Jardam")],
)
def test_start_greets_in_telegram_language(api: FakeBotAPI, run_bot: Any, code: str, expected: str) -> None:
    run_bot()
    api.push_text(USER, "/start", language_code=code)
    greeting = last_to(api, USER)
    assert greeting["text"].startswith(expected)
    assert [data for _, data in buttons(greeting)] == ["l:ky", "l:ru", "l:en"]


def test_language_choice_is_remembered_across_restarts(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    runner = run_bot()
    greeting_msg = api.push_text(USER, "/start", language_code="ru")
    greeting = last_to(api, USER)
    assert greeting_msg["message_id"] < greeting["message_id"]
    mark = api.checkpoint()
    api.push_callback(USER, greeting["message_id"], "l:ky")
    confirm = last_to(api, USER, since=mark)
    assert confirm["text"].startswith("Мен кыргызча жооп берем")
    runner.stop()
    assert sqlite_utils.Database(db_path)["users"].get(USER)["lang"] == "ky"

    run_bot()
    mark = api.checkpoint()
    api.push_text(USER, "/help", language_code="ru")
    assert last_to(api, USER, since=mark)["text"].startswith("Мен Кыргызстандан келген")


def test_commands_registered_in_three_languages(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    calls = api.calls_of("setMyCommands")
    codes = {c.params.get("language_code") for c in calls}
    assert {"ky", "ru", "en"} <= codes
    ky = next(c for c in calls if c.params.get("language_code") == "ky")
    assert {cmd["command"] for cmd in ky.params["commands"]} == {"start", "topics", "lang", "human", "help"}
    assert any(cmd["description"] == "Адамдан сураңыз" for cmd in ky.params["commands"])


@pytest.mark.parametrize(
    ("text", "entry_start", "lang"),
    [
        ("Кыргызстандыктарга Орусияда иштөө үчүн патент керекпи?", "patent-not-needed", "ky"),
        ("как проверить запрет на въезд", "ban-check", "ru"),
        ("how do I check if I have an entry ban", "ban-check", "en"),
    ],
)
def test_answer_in_each_language(
    api: FakeBotAPI, run_bot: Any, engine: Any, text: str, entry_start: str, lang: str
) -> None:
    run_bot()
    api.push_text(USER, text, language_code="ru")
    reply = last_to(api, USER)
    entry = engine.faq.entries[entry_start]
    assert reply["text"].startswith(entry.answer[lang][:40])
    assert ("👍", f"f:{entry_start}:up") in buttons(reply)
    assert ("👎", f"f:{entry_start}:down") in buttons(reply)
