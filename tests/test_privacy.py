"""Personal data is masked before storing; users can make the bot forget them;
old records are purged."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from click.testing import CliRunner

from bot.cli import cli
from bot.engine import Engine
from bot.fakebotapi import FakeBotAPI
from bot.privacy import mask_personal_data, without_personal_data
from bot.store import Store, utcnow

from .conftest import OPERATORS, database_before


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("мой номер +996 555 123 456 позвоните", "мой номер [phone] позвоните"),
        ("tel 8(912)345-67-89", "tel [phone]"),
        ("call 0555123456 pls", "call [phone] pls"),
        ("pishite ivan.petrov@mail.ru", "pishite [e-mail]"),
        ("паспорт AN1234567 потерял", "паспорт [document number] потерял"),
        ("паспорт РФ 45 12 345678", "паспорт РФ [document number]"),
        ("ID 1234567", "[document number]"),
        ("паспорт an1234567", "паспорт [document number]"),
        ("паспорт ан1234567", "паспорт [document number]"),
        ("мой номер0555123456", "мой номер[phone]"),
        ("телефон +996555123456и", "телефон [phone]и"),
    ],
)
def test_masks_personal_data(text: str, masked: str) -> None:
    assert mask_personal_data(text) == masked


@pytest.mark.parametrize(
    "text", ["запрет на 5 лет с 2021 года", "у меня 90 дней", "456 bodies, 53 million som", "zapret 3 jylga", "За 150000 сом в месяц", "за 150000 сом"]
)
def test_leaves_ordinary_numbers(text: str) -> None:
    assert mask_personal_data(text) == text


@pytest.mark.parametrize(
    ("question", "personal"),
    [
        ("how can I check whether I am banned from entering Russia?", " my passport AN1234567"),
        ("запрет барбы, кантип текшерем", " паспорт AN1234567"),
        ("как проверить запрет на въезд", ", мой телефон +996 555 123 456"),
    ],
)
def test_a_phone_or_document_number_does_not_change_the_answer(engine: Engine, question: str, personal: str) -> None:
    """A number the FAQ never uses had counted as an unknown word: "…banned
    from entering Russia? my passport AN1234567" was handed off (68) where
    the question alone was answered (82)."""
    plain, with_number = engine.reply(question), engine.reply(question + personal)
    assert plain.outcome == "answer" and plain.entry_id == "ban-check"
    assert (with_number.outcome, with_number.entry_id, with_number.lang) == ("answer", "ban-check", plain.lang)
    assert without_personal_data("passport AN1234567, +996 555 123 456, a@b.kg") == "passport  ,  ,  "


def test_handoff_is_stored_and_posted_masked(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    runner = run_bot()
    api.push_text(7, "какой курс доллара сегодня, мой телефон +7 912 345 67 89", language_code="ru")
    post = api.wait_for_sent(chat_id=OPERATORS)[0]
    assert "[phone]" in post["text"] and "345 67 89" not in post["text"]
    runner.stop()
    (row,) = sqlite_utils.Database(db_path)["questions"].rows
    assert row["text"] == "какой курс доллара сегодня, мой телефон [phone]"


def test_a_follow_up_is_posted_masked_and_the_terminal_chat_stores_questions_masked(
    api: FakeBotAPI, run_bot: Any, db_path: Path, tmp_path: Path
) -> None:
    run_bot()
    api.push_text(7, "какой курс доллара сегодня", language_code="ru")
    post = api.wait_for_sent(chat_id=OPERATORS)[0]
    mark = api.checkpoint()
    api.push_text(OPERATORS, "Через банк.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    answer = api.wait_for_sent(chat_id=7, since=mark)[0]
    api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m["text"].startswith("✅"))
    mark = api.checkpoint()
    api.push_text(7, "позвоните мне 0555 123 456", language_code="ru", reply_to_message_id=answer["message_id"])
    follow = api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m["text"].startswith("💬"))[0]
    assert "[phone]" in follow["text"] and "123 456" not in follow["text"]
    assert not list(sqlite_utils.Database(db_path).query("select * from outbox where payload like '%123 456%'"))

    terminal = tmp_path / "terminal.db"
    said = "какой курс доллара сегодня, мой телефон +996 555 123 456\n"
    result = CliRunner().invoke(cli, ["chat", "--lang", "ru"], input=said, env={"JARDAM_DB": str(terminal)})
    assert result.exit_code == 0, result.output
    assert [r["text"] for r in sqlite_utils.Database(terminal)["questions"].rows] == ["какой курс доллара сегодня, мой телефон [phone]"]


def test_forget_deletes_everything_after_confirmation(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    runner = run_bot()
    other = 8
    for chat in (7, other):
        api.push_text(chat, "какой курс доллара сегодня", language_code="ru")
        api.wait_for_sent(chat_id=chat, count=1)
    api.wait_for_sent(chat_id=OPERATORS, count=2)
    api.push_text(7, "/forget", language_code="ru")
    ask = api.wait_for_sent(chat_id=7, count=2)[-1]
    assert ask["text"].startswith("Удалить всё, что бот хранит о вас")
    mark = api.checkpoint()
    api.push_callback(7, ask["message_id"], "fg:no")
    assert api.wait_for_sent(chat_id=7, since=mark)[0]["text"] == "Ничего не удалено."
    db = sqlite_utils.Database(db_path)
    assert db["questions"].count == 2

    api.push_text(7, "/human", language_code="ru")  # waiting for a question to pass on: forgotten too
    api.wait_for_sent(chat_id=7, count=4)
    api.push_text(7, "/forget", language_code="ru")
    ask = api.wait_for_sent(chat_id=7, count=5)[-1]
    mark = api.checkpoint()
    api.push_callback(7, ask["message_id"], "fg:yes")
    done = api.wait_for_sent(chat_id=7, since=mark)[0]
    assert done["text"].startswith("Готово: ваш язык, ваши вопросы и ответы на них удалены")
    # The bot's post of the forgotten user's question leaves the operators' group too; the other user's stays.
    api.wait_for_call("deleteMessage", since=mark)
    visible = [m["text"] for m in api.chat_history(OPERATORS)]
    assert len(visible) == 1 and "#2" in visible[0], visible
    db = sqlite_utils.Database(db_path)  # written before the user was told
    for table in ("questions", "events", "users", "outbox", "clarifications"):
        assert not list(db.query(f"select * from {table} where chat_id = 7")), table
    assert [r["chat_id"] for r in db["questions"].rows] == [other]
    assert not list(db.query("select * from relay r join questions q on q.id = r.question_id where q.chat_id = 7"))
    mark = api.checkpoint()
    api.push_text(7, "как проверить запрет на въезд", language_code="ru")
    assert "передал" not in api.wait_for_sent(chat_id=7, since=mark)[0]["text"]
    assert api.sent_messages(OPERATORS, since=mark) == []
    runner.stop()


def test_posts_telegram_will_not_delete_stay_and_the_bot_goes_on(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    """A post older than 48 hours cannot be deleted: the user is told the
    database was cleared all the same (it was), and the others are tried."""
    run_bot()
    for text in ("какой курс доллара сегодня", "какая погода в москве"):
        api.push_text(7, text, language_code="ru")
    api.wait_for_sent(chat_id=OPERATORS, count=2)
    api.push_text(7, "/forget", language_code="ru")
    ask = api.wait_for_sent(chat_id=7, count=3)[-1]
    api.fail("deleteMessage", status=400, description="Bad Request: message can't be deleted for everyone")
    mark = api.checkpoint()
    api.push_callback(7, ask["message_id"], "fg:yes")
    assert api.wait_for_sent(chat_id=7, since=mark)[0]["text"].startswith("Готово: ваш язык, ваши вопросы и ответы на них удалены")
    calls = api.wait_for_call("deleteMessage", count=2, since=mark)
    assert len(calls) == 2 and len(api.chat_history(OPERATORS)) == 1  # one refused for good, the other deleted
    assert not list(sqlite_utils.Database(db_path).query("select * from questions where chat_id = 7"))
    mark = api.checkpoint()
    api.push_text(7, "как проверить запрет на въезд", language_code="ru")
    assert api.wait_for_sent(chat_id=7, since=mark)


@pytest.mark.parametrize("status", [429, 500])
def test_a_deletion_telegram_throttles_or_fails_is_tried_again(api: FakeBotAPI, run_bot: Any, status: int) -> None:
    run_bot()
    api.push_text(7, "какой курс доллара сегодня", language_code="ru")
    api.wait_for_sent(chat_id=OPERATORS, count=1)
    api.push_text(7, "/forget", language_code="ru")
    ask = api.wait_for_sent(chat_id=7, count=2)[-1]
    api.fail("deleteMessage", status=status, retry_after=1 if status == 429 else None)
    mark = api.checkpoint()
    api.push_callback(7, ask["message_id"], "fg:yes")
    api.wait_for_call("deleteMessage", count=2, since=mark)
    assert api.chat_history(OPERATORS) == []


def test_forget_queues_the_deletions_telegram_can_still_make(tmp_path: Path) -> None:
    store = Store(tmp_path / "j.db")
    qid = store.add_question(chat_id=7, lang="ru", text="q", candidates=[], reason="engine").id
    other = store.add_question(chat_id=8, lang="ru", text="q", candidates=[], reason="engine").id
    for message_id in range(1, 61):
        store.link_message(OPERATORS, message_id, qid)  # posts and follow-ups
    store.link_message(7, 500, qid)  # an answer copied to the user: theirs, in their own chat
    store.link_message(OPERATORS, 900, other)
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=49)).isoformat(timespec="seconds")
    store.db.execute("UPDATE relay SET created_at = ? WHERE message_id <= 5", [old])  # past Telegram's 48 hours
    store.forget_user(7)
    queued = [(r["chat_id"], json.loads(r["payload"])["message_id"]) for r in store.db.query("select * from outbox where kind = 'delete' order by id")]
    assert queued == [(OPERATORS, m) for m in range(60, 10, -1)]  # the newest 50 of those still deletable
    assert [r["message_id"] for r in store.db.query("select message_id from relay")] == [900]


def test_a_forgotten_users_reference_is_never_given_to_another(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    """After /forget, the next question gets a new reference, and an
    operator's reply to the forgotten user's old post reaches nobody."""
    run_bot()
    api.push_text(7, "какой курс доллара сегодня", language_code="ru")
    old_post = api.wait_for_sent(chat_id=OPERATORS)[0]
    assert old_post["text"].startswith("❓ #1 ·")
    api.push_text(7, "/forget", language_code="ru")
    ask = api.wait_for_sent(chat_id=7, count=2)[-1]
    mark = api.checkpoint()
    api.push_callback(7, ask["message_id"], "fg:yes")
    api.wait_for_sent(chat_id=7, since=mark)
    mark = api.checkpoint()
    api.push_text(8, "какая погода в москве", language_code="ru")
    assert api.wait_for_sent(chat_id=OPERATORS, since=mark)[0]["text"].startswith("❓ #2 ·")
    mark = api.checkpoint()
    api.push_text(OPERATORS, "ответ для первого", chat_type="supergroup", user_id=77, reply_to_message_id=old_post["message_id"])
    api.push_text(OPERATORS, "/open", chat_type="supergroup", user_id=77)  # handled after the reply: it was seen
    said = sorted(m["text"] for m in api.wait_for_sent(chat_id=OPERATORS, since=mark, count=2))
    assert said[0].startswith("Open questions") and "#2" in said[0]
    assert said[1] == (  # the operator is told it reached nobody
        "⚠️ Not sent: question #1 is no longer stored (deleted after the retention period, "
        "or at the user's request), so this answer cannot reach the user."
    )
    assert not list(sqlite_utils.Database(db_path).query("select * from outbox where kind = 'copy'"))  # queued before replying, had it been


def test_an_older_database_keeps_its_questions_and_gets_references_never_reused(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = database_before(path, 8)
    for n in (1, 2, 3):
        db.execute("INSERT INTO questions (id, ts, chat_id, lang, text, reason) VALUES (?, '2026-11-01', ?, 'ru', ?, 'engine')", [n, n, f"q{n}"])
    db.conn.commit()
    db.conn.close()

    store = Store(path)
    assert [(q.id, q.text) for q in store.open_questions()] == [(1, "q1"), (2, "q2"), (3, "q3")]
    assert store.question_for_update(0) is None  # the update_id index and column came through
    store.forget_user(3)
    assert store.add_question(chat_id=4, lang="ru", text="q4", candidates=[], reason="engine").id == 4
    store.close()
    assert Store(path).add_question(chat_id=5, lang="ru", text="q5", candidates=[], reason="engine").id == 5  # reopened: migrated once


def test_purge_keeps_open_and_pending(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.db"
    store = Store(path)
    store.add_question(chat_id=1, lang="ru", text="old answered", candidates=[], reason="engine")
    store.add_question(chat_id=2, lang="ru", text="old open", candidates=[], reason="engine")
    store.add_question(chat_id=3, lang="ru", text="new answered", candidates=[], reason="engine")
    store.set_question_status(1, "answered", answer="x")
    store.set_question_status(3, "answered", answer="y")
    store.log_event(1, "ru", "answer", "ban-check", 90, "text")
    store.enqueue("text", 1, {"text": "pending"})
    old = (dt.datetime.now(dt.UTC) - dt.timedelta(days=400)).isoformat(timespec="seconds")
    store.db.execute("UPDATE questions SET ts = ?, answered_at = ? WHERE id IN (1, 2)", [old, old])
    store.db.execute("UPDATE events SET ts = ?", [old])
    store.db.execute("UPDATE outbox SET created_at = ?", [old])
    store.close()

    monkeypatch.setenv("JARDAM_DB", str(path))
    result = CliRunner().invoke(cli, ["purge", "--older-than", "365", "--open-older-than", "730"])
    assert result.exit_code == 0, result.output
    assert "1 questions" in result.output and "1 events" in result.output
    db = sqlite_utils.Database(path)
    assert sorted(r["text"] for r in db["questions"].rows) == ["new answered", "old open"]
    assert db["events"].count == 0
    assert db["outbox"].count == 1  # still pending: never purged


@pytest.mark.parametrize(
    "option, days", [("--older-than", "800000"), ("--older-than", "99999999999"), ("--open-older-than", "99999999999"), ("--older-than", "0")]
)
def test_purge_refuses_a_period_out_of_range_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str, days: str) -> None:
    """800000 days ago is before the year 1, and 99999999999 does not fit a
    C int: both had ended in an OverflowError traceback."""
    path = tmp_path / "p.db"
    store = Store(path)
    store.add_question(chat_id=1, lang="ru", text="kept", candidates=[], reason="engine")
    store.close()
    monkeypatch.setenv("JARDAM_DB", str(path))
    result = CliRunner().invoke(cli, ["purge", option, days])
    assert result.exit_code == 2 and result.exception is not None and not isinstance(result.exception, OverflowError)
    assert result.output.splitlines()[-1] == f"Error: Invalid value for '{option}': {days} is not in the range 1<=x<=36500."
    assert [r["text"] for r in sqlite_utils.Database(path)["questions"].rows] == ["kept"]
    assert CliRunner().invoke(cli, ["purge", option, "36500"]).exit_code == 0


def test_purge_deletes_users_nothing_is_left_of_and_open_questions_nobody_touched_for_a_year(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A user's row (chat id, language, "blocked the bot") goes once the
    user has been quiet for the retention period and nothing of theirs is
    left; an open question goes after a year without a post, follow-up
    or answer, unless its post is still on its way."""
    path = tmp_path / "p.db"
    store = Store(path)
    for chat in range(1, 11):
        store.set_user_lang(chat, "ky")
    store.mark_blocked(6)
    store.log_event(2, "ky", "answer", "ban-check", 90, "text")  # used the bot lately
    store.add_clarification(chat_id=3, message_id=1, lang="ky", text="амина?", candidates=[])
    store.enqueue("text", 4, {"text": "still to deliver"})
    recent_open = store.add_question(chat_id=5, lang="ky", text="recent open", candidates=[], reason="engine").id
    abandoned = store.add_question(chat_id=7, lang="ky", text="abandoned open", candidates=[], reason="engine").id
    store.link_message(OPERATORS, 70, abandoned)
    followed_up = store.add_question(chat_id=8, lang="ky", text="old, followed up lately", candidates=[], reason="engine").id
    store.link_message(OPERATORS, 80, followed_up)  # the post, long ago
    store.link_message(OPERATORS, 81, followed_up)  # a follow-up, lately
    store.add_question(  # its post never reached the operators' group
        chat_id=9, lang="ky", text="post still pending", candidates=[], reason="engine", operator_post=lambda q: {"text": f"#{q}"}, operator_chat_id=OPERATORS
    )
    answered = store.add_question(chat_id=10, lang="ky", text="old answered", candidates=[], reason="engine").id
    store.set_question_status(answered, "answered", answer="x")

    def days_ago(days: int) -> str:
        return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="seconds")

    store.db.execute("UPDATE users SET created_at = ?, updated_at = ? WHERE chat_id != 6", [days_ago(800), days_ago(400)])
    store.db.execute("UPDATE outbox SET created_at = ?", [days_ago(400)])
    store.db.execute("UPDATE questions SET ts = ?", [days_ago(400)])
    store.db.execute("UPDATE questions SET answered_at = ? WHERE answered_at IS NOT NULL", [days_ago(400)])
    store.db.execute("UPDATE questions SET ts = ? WHERE id = ?", [days_ago(300), recent_open])
    store.db.execute("UPDATE relay SET created_at = ?", [days_ago(400)])
    store.db.execute("UPDATE relay SET created_at = ? WHERE message_id = 81", [days_ago(10)])
    store.close()

    monkeypatch.setenv("JARDAM_DB", str(path))
    result = CliRunner().invoke(cli, ["purge"])  # 180 days, open questions 365
    assert result.exit_code == 0, result.output
    assert "1 open questions" in result.output and "3 users" in result.output
    db = sqlite_utils.Database(path)
    assert sorted(r["text"] for r in db["questions"].rows) == ["old, followed up lately", "post still pending", "recent open"]
    assert [r["message_id"] for r in db.query("select message_id from relay order by message_id")] == [80, 81]
    # 1 and 10 had nothing left; 7's only question was given up.
    assert [r["chat_id"] for r in db.query("select chat_id from users order by chat_id")] == [2, 3, 4, 5, 6, 8, 9]
    assert db["users"].get(6)["blocked"] == 1


def test_purge_counts_an_answered_question_from_its_answer_not_from_when_it_was_asked(
    api: FakeBotAPI, run_bot: Any, db_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A question asked 200 days ago and answered today is not purged: the
    user's reply to the answer still comes back under its reference."""
    run_bot()
    api.push_text(7, "какой курс доллара сегодня", language_code="ru")
    post = api.wait_for_sent(chat_id=OPERATORS)[0]
    assert post["text"].startswith("❓ #1 ·")
    db = sqlite_utils.Database(db_path)
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=200)).isoformat(timespec="seconds")
    db.execute("UPDATE questions SET ts = ?", [long_ago])  # asked, and posted, 200 days ago
    db.execute("UPDATE relay SET created_at = ?", [long_ago])
    db.execute("UPDATE outbox SET created_at = ?", [long_ago])
    db.conn.commit()
    mark = api.checkpoint()
    api.push_text(OPERATORS, "Через банк.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    answer = api.wait_for_sent(chat_id=7, since=mark)[0]
    api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m["text"].startswith("✅"))

    monkeypatch.setenv("JARDAM_DB", str(db_path))
    result = CliRunner().invoke(cli, ["purge"])
    assert result.exit_code == 0, result.output
    assert "0 relay, 0 questions" in result.output
    assert [r["status"] for r in db.query("select status from questions")] == ["answered"]

    mark = api.checkpoint()
    api.push_text(7, "а какой банк?", language_code="ru", reply_to_message_id=answer["message_id"])
    follow = api.wait_for_sent(chat_id=OPERATORS, since=mark)[0]
    assert follow["text"].startswith("💬 #1"), follow["text"]  # the same question, not a new ❓ without context


def test_purge_counts_answered_and_closed_questions_from_their_last_activity(tmp_path: Path) -> None:
    store = Store(tmp_path / "p.db")

    def days_ago(days: int) -> str:
        return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="seconds")

    def asked(text: str, status: str, *, answered: int | None = None, closed: int | None = None) -> int:
        qid = store.add_question(chat_id=1, lang="ru", text=text, candidates=[], reason="engine").id
        store.link_message(OPERATORS, 1000 + qid, qid)  # its post
        store.db.execute(
            "UPDATE questions SET ts = ?, status = ?, answered_at = ?, closed_at = ? WHERE id = ?",
            [days_ago(300), status, answered and days_ago(answered), closed and days_ago(closed), qid],
        )
        store.db.execute("UPDATE relay SET created_at = ? WHERE question_id = ?", [days_ago(300), qid])
        return qid

    asked("answered long ago", "answered", answered=250)
    asked("closed long ago", "closed", answered=290, closed=250)
    asked("answered lately", "answered", answered=3)
    asked("closed lately", "closed", closed=3)
    later = asked("answered long ago, answered again lately", "answered", answered=250)
    store.link_message(7, 555, later)  # the second answer copied to the user, lately
    pending = asked("answered long ago, acknowledgement still pending", "answered", answered=250)
    store.enqueue("text", OPERATORS, {"text": "✅"}, pending)
    store.db.execute("UPDATE outbox SET created_at = ?", [days_ago(250)])

    deleted = store.purge(180, 365)
    assert (deleted["questions"], deleted["relay"]) == (2, 2)
    assert sorted(r[0] for r in store.db.execute("SELECT text FROM questions").fetchall()) == [
        "answered lately", "answered long ago, acknowledgement still pending", "answered long ago, answered again lately", "closed lately",
    ]
    assert store.question_for_message(7, 555) is not None and store.question_for_message(OPERATORS, 1000 + later) is not None


def test_purge_lets_other_writers_in_between_its_batches(tmp_path: Path) -> None:
    """A big purge (1.6 million events once held the write lock for 15 s,
    and the running bot could not store updates meanwhile) deletes in
    batches: a writer that does not wait at all still gets its writes in
    while the purge is under way."""
    db = tmp_path / "big.db"
    store = Store(db)
    old, rows = "2020-01-01T00:00:00+00:00", 120_000
    store.db.execute("BEGIN")
    store.db.conn.executemany(
        "INSERT INTO events (ts, chat_id, lang, outcome, entry_id, confidence, via) VALUES (?, ?, 'ru', 'answer', 'ban-check', 90, 'text')",
        ((old, n % 500) for n in range(rows)),
    )
    store.db.execute("COMMIT")
    store.close()

    env = {k: v for k, v in os.environ.items() if not k.startswith("JARDAM_")} | {"JARDAM_DB": str(db)}
    purge = subprocess.Popen([sys.executable, "-m", "bot", "purge"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    bot = sqlite3.connect(db, timeout=0, isolation_level=None)  # no waiting: a write fails while the purge holds the lock
    written = during = refused = 0
    try:
        while purge.poll() is None:
            try:
                bot.execute("INSERT INTO events (ts, chat_id, lang, outcome, via) VALUES (?, 1, 'ru', 'answer', 'bot')", [utcnow()])
            except sqlite3.OperationalError as exc:
                assert "locked" in str(exc)
                refused += 1
            else:
                written += 1
                left = bot.execute("SELECT count(*) FROM events WHERE ts = ?", [old]).fetchone()[0]
                during += 0 < left < rows
            time.sleep(0.002)
    finally:
        output = purge.communicate(timeout=60)[0]
    assert purge.returncode == 0, output
    assert f"{rows} events" in output
    assert during > 0, f"no write got in while the purge was under way ({written} before or after it, {refused} refused)"
    assert bot.execute("SELECT count(*), count(*) FILTER (WHERE ts = ?) FROM events", [old]).fetchone() == (written, 0)


GROUP = -300


def test_forget_deletes_the_questions_a_user_asked_in_groups(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    """A question asked in a group is stored under the group's chat: /forget
    in the private chat had deleted by chat only, said "everything
    deleted", and left it, with the name in it, and its post to operators.
    /forget sent in the group had no answer at all: it says where it works,
    with a button that opens the private chat at /forget."""
    user, other = 5001, 5002
    run_bot()
    api.push_text(GROUP, "/human мой работодатель забрал паспорт, Иван Петров, тел 89001234567", chat_type="supergroup", user_id=user, language_code="ru")
    assert api.wait_for_sent(chat_id=OPERATORS)[0]["text"].startswith("❓ #1 · ru · human")
    api.push_text(GROUP, "/human нам тоже не платят зарплату", chat_type="supergroup", user_id=other, language_code="ru")
    api.wait_for_sent(chat_id=OPERATORS, count=2)
    api.wait_for_sent(chat_id=GROUP, count=2)

    mark = api.checkpoint()
    asked = api.push_text(GROUP, "/forget", chat_type="supergroup", user_id=user, language_code="ru")
    told = api.wait_for_sent(chat_id=GROUP, since=mark)[0]
    assert told["text"] == "/forget работает только в личном чате со мной: откройте чат со мной и отправьте /forget там."
    assert told["reply_to_message"]["message_id"] == asked["message_id"]
    [[button]] = told["reply_markup"]["inline_keyboard"]
    assert button == {"text": "Открыть личный чат", "url": "https://t.me/jardam_test_bot?start=forget_me"}
    assert sqlite_utils.Database(db_path)["questions"].count == 2

    # The button's link: Telegram sends /start with its parameter from the private chat.
    mark = api.checkpoint()
    api.push_text(user, "/start forget_me", language_code="ru")
    ask = api.wait_for_sent(chat_id=user, since=mark)[0]
    assert ask["text"].startswith("Удалить всё, что бот хранит о вас")
    mark = api.checkpoint()
    api.push_callback(user, ask["message_id"], "fg:yes")
    assert api.wait_for_sent(chat_id=user, since=mark)[0]["text"].startswith("Готово: ваш язык, ваши вопросы и ответы на них удалены")
    api.wait_for_call("deleteMessage", since=mark)
    visible = [m["text"] for m in api.chat_history(OPERATORS)]
    assert len(visible) == 1 and visible[0].startswith("❓ #2 ·"), visible
    db = sqlite_utils.Database(db_path)
    assert [(r["id"], r["user_id"]) for r in db.query("select id, user_id from questions")] == [(2, other)]
    assert not list(db.query("select * from relay where question_id = 1"))
    assert not list(db.query("select * from outbox where question_id = 1"))


def test_questions_stored_before_their_asker_was_kept_stay_with_no_asker(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = database_before(path, 14)
    db.execute("INSERT INTO questions (ts, chat_id, lang, text, reason, status) VALUES ('2026-11-01', ?, 'ru', 'q', 'human', 'open')", [GROUP])
    db.conn.commit()
    db.conn.close()
    store = Store(path)
    [old] = store.open_questions()
    assert old.chat_id == GROUP and old.user_id is None
    assert store.add_question(chat_id=GROUP, lang="ru", text="q2", candidates=[], reason="human", user_id=7).user_id == 7
    assert store.forget_user(7)["questions"] == 1
    assert [q.id for q in store.open_questions()] == [old.id]
    store.close()
