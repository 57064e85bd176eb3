""""Ask a person" and 👎 on a reply of the bot: the question the reply
answered is passed on, after a restart too, and once per reply however
often the button is pressed.  The real bot against the fake Bot API."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from bot.fakebotapi import FakeBotAPI
from bot.store import Clarification, Store

from .conftest import OPERATORS, database_before
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
    assert told == ["Этот вопрос я уже передал человеку. Номер обращения: #1", "Я передал ваш вопрос человеку, он ответит здесь.\n\nНомер обращения: #1"]
    post = last_to(api, OPERATORS, since=mark)
    assert post["text"].startswith("❓ #1 · ru · human") and "Амина?" in post["text"]
    assert "\nFAQ: amina-" in post["text"]  # the entries it was offered, for the operator
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


@pytest.mark.parametrize(
    ("code", "asked", "pressed", "post_starts", "post_has"),
    [
        ("ru", "Амина?", "h:", "❓ #1 · ru · human", "Амина?"),
        (
            "en",
            "how do I check if I have an entry ban? my passport AN1234567",
            "f:ban-check:down",
            "❓ #1 · en · feedback",
            "how do I check if I have an entry ban? my passport [document number]",
        ),
    ],
    ids=["ask-a-person", "thumbs-down"],
)
def test_a_reply_still_queued_at_a_restart_passes_its_question_on(
    api: FakeBotAPI, run_bot: Any, db_path: Path, code: str, asked: str, pressed: str, post_starts: str, post_has: str
) -> None:
    """The reply could not be sent (Telegram failing), the bot stopped with
    it in the outbox, and the next start sent it: its buttons still pass
    on what the user asked (kept with the queued reply, not in memory)."""
    api.fail("sendMessage", status=500, times=1000, chat_id=USER)
    runner = run_bot()
    api.push_text(USER, asked, language_code=code)
    api.wait_for_call("sendMessage", predicate=lambda c: c.params.get("chat_id") == USER)
    runner.stop()  # the message handled, its reply queued and not sent
    db = sqlite_utils.Database(db_path)
    assert [(r["chat_id"], r["status"]) for r in db.query("select chat_id, status from outbox")] == [(USER, "pending")]
    assert api.sent_messages(USER) == []

    api.clear_failures()
    run_bot()
    reply = last_to(api, USER, timeout=10)  # from the outbox
    assert pressed in [data for _, data in buttons(reply)]
    mark = api.checkpoint()
    api.push_callback(USER, reply["message_id"], pressed, language_code=code)
    post = last_to(api, OPERATORS, since=mark)["text"]
    assert post.startswith(post_starts) and post_has in post, post
    assert db.execute("select asked from outbox where chat_id = ?", [USER]).fetchall() == [(None,)]  # not kept once sent


def test_an_older_database_gets_the_outbox_column_for_what_a_queued_reply_answered(tmp_path: Path) -> None:
    """Migration 011 on a database of migrations 001–010, with a reply
    pending from before: that one goes as it was (without a text); one
    queued since keeps its question (masked) until sent, then for its
    buttons, and a dropped one leaves nothing."""
    path = tmp_path / "old.db"
    db = database_before(path, 11)
    db.execute("INSERT INTO outbox (created_at, kind, chat_id, payload, status, attempts, not_before) VALUES ('2026-11-01', 'text', 7, '{}', 'pending', 1, 0)")
    db.conn.commit()
    db.conn.close()

    store = Store(path)
    assert "asked" in store.db["outbox"].columns_dict
    kept = store.enqueue("text", 7, {"text": "answer"}, asked="мой номер +996 555 123 456, нужен патент?")
    dropped = store.enqueue("text", 7, {"text": "answer"}, asked="other")
    assert store.db.execute("select asked from outbox where id = ?", [kept]).fetchone() == ("мой номер [phone], нужен патент?",)
    assert store.outbox_sent(1, 100) and store.outbox_sent(kept, 101)
    store.outbox_drop(dropped, "forbidden")
    assert store.reply_text(7, 100) == "" and store.reply_text(7, 101) == "мой номер [phone], нужен патент?"
    assert store.db.execute("select count(*) from outbox where asked is not null").fetchone() == (0,)
    store.close()
    assert Store(path).reply_text(7, 101) != ""  # reopened: migrated once


def test_a_did_you_mean_still_queued_at_a_restart_is_recorded_for_the_review(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    """A "did you mean" that could not be sent (Telegram failing) and was
    still in the outbox when the bot stopped: sent at the next start, it is
    recorded in `clarifications` under its sent message (kept with the
    queued reply, not in memory), for `jardam review`, and the choice the
    user then presses is recorded on it."""
    api.fail("sendMessage", status=500, times=1000, chat_id=USER)
    runner = run_bot()
    api.push_text(USER, "Амина?", language_code="ru")
    api.wait_for_call("sendMessage", predicate=lambda c: c.params.get("chat_id") == USER)
    runner.stop()  # the message handled, its "did you mean" queued and not sent
    db = sqlite_utils.Database(db_path)
    assert [(r["chat_id"], r["status"]) for r in db.query("select chat_id, status from outbox")] == [(USER, "pending")]
    assert db["clarifications"].count == 0 and api.sent_messages(USER) == []

    api.clear_failures()
    run_bot()
    clarify = last_to(api, USER, timeout=10)  # from the outbox
    offered = [data for _, data in buttons(clarify) if data.startswith("e:")]
    assert len(offered) >= 2 and all(data.startswith("e:amina-") for data in offered)
    deadline = time.monotonic() + 5
    while db["clarifications"].count == 0 and time.monotonic() < deadline:  # marked sent just after Telegram's answer
        time.sleep(0.02)
    rows = list(db.query("select chat_id, message_id, lang, text, candidates, chosen from clarifications"))
    assert [(r["chat_id"], r["message_id"], r["lang"], r["text"], r["chosen"]) for r in rows] == [(USER, clarify["message_id"], "ru", "Амина?", None)]
    assert [c["id"] for c in json.loads(rows[0]["candidates"])] == [data[2:] for data in offered]
    assert db.execute("select clarification from outbox where chat_id = ?", [USER]).fetchall() == [(None,)]  # not kept once sent

    mark = api.checkpoint()
    api.push_callback(USER, clarify["message_id"], offered[1])
    last_to(api, USER, since=mark)  # the chosen entry's answer
    chosen = list(db.query("select chosen, chosen_at from clarifications"))
    assert [r["chosen"] for r in chosen] == [offered[1][2:]] and chosen[0]["chosen_at"]


def test_an_older_database_gets_the_outbox_column_for_a_queued_did_you_mean(tmp_path: Path) -> None:
    """Migration 012 on a database of migrations 001–011, with a reply
    pending from before: that one goes as it was (no clarification); a "did
    you mean" queued since keeps its record (the text masked) until it is
    sent, then is in `clarifications` under the sent message; a dropped
    one leaves nothing."""
    path = tmp_path / "old.db"
    db = database_before(path, 12)
    db.execute("INSERT INTO outbox (created_at, kind, chat_id, payload, status, attempts, not_before) VALUES ('2026-11-01', 'text', 7, '{}', 'pending', 1, 0)")
    db.conn.commit()
    db.conn.close()

    store = Store(path)
    assert "clarification" in store.db["outbox"].columns_dict
    candidates = [{"id": "amina-what-is", "score": 61.5}, {"id": "amina-how-to-use", "score": 58.0}]
    asked = "амина? мой номер +996 555 123 456"
    kept = store.enqueue("text", 7, {"text": "did you mean"}, asked=asked, clarification=Clarification("ky", asked, candidates))
    dropped = store.enqueue("text", 7, {"text": "did you mean"}, clarification=Clarification("ky", "other", candidates))
    (pending,) = store.db.execute("select clarification from outbox where id = ?", [kept]).fetchone()
    assert "+996" not in pending and "[phone]" in pending
    assert store.outbox_sent(1, 100) and store.outbox_sent(kept, 101)
    store.outbox_drop(dropped, "forbidden")
    rows = list(store.db.query("select chat_id, message_id, lang, text, candidates, chosen from clarifications"))
    assert rows == [
        {"chat_id": 7, "message_id": 101, "lang": "ky", "text": "амина? мой номер [phone]", "candidates": json.dumps(candidates), "chosen": None}
    ]
    store.clarification_chosen(7, 101, "amina-how-to-use")
    assert store.db.execute("select chosen from clarifications").fetchall() == [("amina-how-to-use",)]
    assert store.db.execute("select count(*) from outbox where clarification is not null").fetchone() == (0,)
    store.close()
    assert Store(path).db["clarifications"].count == 1  # reopened: migrated once


@pytest.mark.parametrize("route", ["human with its question", "👎", "Ask a person"])
def test_a_question_passed_on_another_way_ends_the_wait_for_one(api: FakeBotAPI, run_bot: Any, db_path: Path, route: str) -> None:
    """After /human the next message is the question for a person; the user
    then passed one on another way (/human with the question, 👎 on an
    answer, "Ask a person"), and their next question, which the FAQ
    answers, was handed off too (#2) instead of answered."""
    run_bot()
    earlier = None
    if route == "👎":
        api.push_text(USER, "как проверить запрет на въезд", language_code="ru")
        earlier = last_to(api, USER)
    elif route == "Ask a person":
        api.push_text(USER, "Амина?", language_code="ru")
        earlier = last_to(api, USER)
    mark = api.checkpoint()
    api.push_text(USER, "/human", language_code="ru")
    assert last_to(api, USER, since=mark)["text"] == "Напишите вопрос одним сообщением, и я передам его человеку."
    mark = api.checkpoint()
    if route == "👎":
        assert earlier is not None
        api.push_callback(USER, earlier["message_id"], "f:ban-check:down")
    elif route == "Ask a person":
        assert earlier is not None
        api.push_callback(USER, earlier["message_id"], "h:")
    else:
        api.push_text(USER, "/human мой работодатель забрал паспорт", language_code="ru")
    assert last_to(api, USER, since=mark)["text"].endswith("Номер обращения: #1")
    assert last_to(api, OPERATORS, since=mark)["text"].startswith("❓ #1 · ru ·")
    assert list(sqlite_utils.Database(db_path).query("select * from awaiting_human")) == []  # a restart does not bring it back
    mark = api.checkpoint()
    api.push_text(USER, "как проверить запрет на въезд", language_code="ru")
    assert "📚 Источники:" in last_to(api, USER, since=mark)["text"]
    assert api.sent_messages(OPERATORS, since=mark) == []
    assert sqlite_utils.Database(db_path)["questions"].count == 1


@pytest.mark.parametrize("opened", ["deep link", "topics"])
def test_thumbs_down_on_an_answer_nobody_asked_for_asks_for_the_question(api: FakeBotAPI, run_bot: Any, db_path: Path, opened: str) -> None:
    """An answer opened by a deep link or from /topics answers no question
    of the user's: 👎 on it posted "(👎 ban-check)" to the operators and told
    the user their question was passed on, though they had asked nothing.
    They are asked for it, and it goes on once written."""
    run_bot()
    if opened == "deep link":
        api.push_text(USER, "/start ban-check", language_code="ru")
    else:
        api.push_text(USER, "/topics", language_code="ru")
        menu = last_to(api, USER)
        api.push_callback(USER, menu["message_id"], "t:bans:ru")
        api.wait_for_call("editMessageText")
        api.push_callback(USER, menu["message_id"], "e:ban-check:ru")
    answer = api.wait_for_sent(chat_id=USER, predicate=lambda m: ("👎", "f:ban-check:down") in buttons(m))[0]
    mark = api.checkpoint()
    api.push_callback(USER, answer["message_id"], "f:ban-check:down")
    assert last_to(api, USER, since=mark)["text"] == "Напишите вопрос одним сообщением, и я передам его человеку."
    assert api.sent_messages(OPERATORS, since=mark) == []
    assert sqlite_utils.Database(db_path)["questions"].count == 0
    mark = api.checkpoint()
    api.push_text(USER, "мне не дают проверить запрет, сайт не открывается", language_code="ru")
    assert last_to(api, USER, since=mark)["text"].endswith("Номер обращения: #1")
    post = last_to(api, OPERATORS, since=mark)
    assert post["text"].startswith("❓ #1 · ru · human\n\nмне не дают проверить запрет, сайт не открывается")
