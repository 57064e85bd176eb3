""""Ask a person" and 👎 on a reply of the bot: the question the reply
answered is passed on, after a restart too, and once per reply however
often the button is pressed.  The real bot against the fake Bot API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlite_utils

from bot.fakebotapi import FakeBotAPI
from bot.store import Store

from .conftest import OPERATORS
from .test_telegram import USER, buttons, last_to


def operator_posts(db_path: Path) -> list[dict[str, Any]]:
    return list(sqlite_utils.Database(db_path).query("select question_id from outbox where kind = 'operator_post'"))


def test_ask_a_person_pressed_twice_after_a_restart_passes_the_question_on_once(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    runner = run_bot()
    api.push_text(USER, "Амина?", language_code="ru")
    clarify = last_to(api, USER)
    assert ("Спросить человека", "h:") in buttons(clarify)
    runner.stop()

    run_bot()  # what the user asked is not only in memory
    mark = api.checkpoint()
    api.push_callback(USER, clarify["message_id"], "h:")
    api.push_callback(USER, clarify["message_id"], "h:")  # twice, or on another device
    told = sorted(m["text"] for m in api.wait_for_sent(chat_id=USER, count=2, since=mark))
    assert told[0].startswith("У меня нет проверенного ответа") and told[0].endswith("#1")
    assert told[1] == "Этот вопрос я уже передал человеку. Номер обращения: #1"
    post = last_to(api, OPERATORS, since=mark)
    assert post["text"].startswith("❓ #1 · ru · human") and "Амина?" in post["text"]
    assert sqlite_utils.Database(db_path)["questions"].count == 1
    assert operator_posts(db_path) == [{"question_id": 1}]


def test_ask_a_person_pressed_on_two_devices_at_once_makes_one_question(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    run_bot()
    api.push_text(USER, "zapret barby", language_code="ru")  # a "did you mean", in Kyrgyz
    clarify = last_to(api, USER)
    mark = api.checkpoint()
    for _ in range(3):
        api.push_callback(USER, clarify["message_id"], "h:")
    told = [m["text"] for m in api.wait_for_sent(chat_id=USER, count=3, since=mark)]
    again = "Бул суроону мен адамга өткөрүп бергем. Суроонун номери: #1"
    assert told.count(again) == 2, told
    assert [t for t in told if t != again][0].endswith("Суроонун номери: #1")
    assert "zapret barby" in last_to(api, OPERATORS, since=mark)["text"]
    assert sqlite_utils.Database(db_path)["questions"].count == 1
    assert operator_posts(db_path) == [{"question_id": 1}]


def test_a_thumbs_down_after_a_restart_passes_the_question_on_once(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    runner = run_bot()
    api.push_text(USER, "how do I check if I have an entry ban? my passport AN1234567", language_code="en")
    answer = last_to(api, USER)
    assert ("👎", "f:ban-check:down") in buttons(answer)
    runner.stop()

    run_bot()
    mark = api.checkpoint()
    api.push_callback(USER, answer["message_id"], "f:ban-check:down", language_code="en")
    assert last_to(api, USER, since=mark)["text"].startswith("Sorry this did not help.")
    post = last_to(api, OPERATORS, since=mark)
    assert post["text"].startswith("❓ #1 · en · feedback")
    assert "how do I check if I have an entry ban? my passport [document number]" in post["text"], post["text"]
    # The buttons are gone, but another device still shows them.
    mark = api.checkpoint()
    api.push_callback(USER, answer["message_id"], "f:ban-check:down", language_code="en", force=True)
    assert last_to(api, USER, since=mark)["text"] == "I have already passed this question to a person. Reference: #1"
    assert sqlite_utils.Database(db_path)["questions"].count == 1
    assert operator_posts(db_path) == [{"question_id": 1}]


def test_what_a_reply_answered_is_kept_masked_forgotten_and_purged_within_a_week(tmp_path: Path) -> None:
    store = Store(tmp_path / "j.db")
    store.remember_reply(7, 100, "мой номер +996 555 123 456, нужен патент?")
    store.remember_reply(7, 101, "old")
    store.remember_reply(8, 100, "other user")
    assert store.reply_text(7, 100) == "мой номер [phone], нужен патент?"
    week_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=8)).isoformat(timespec="seconds")
    store.db.execute("UPDATE reply_texts SET created_at = ? WHERE message_id = 101", [week_ago])
    assert store.purge(180)["reply_texts"] == 1
    assert store.reply_text(7, 101) == "" and store.reply_text(7, 100) != ""
    assert store.forget_user(7)["reply_texts"] == 1
    assert store.reply_text(7, 100) == "" and store.reply_text(8, 100) == "other user"
    store.close()
