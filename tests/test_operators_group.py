"""The operators' group as Telegram may treat it: the bot removed from it
for a while, the group upgraded to a supergroup, answers that cannot reach
the user, posts Telegram refuses, replies the bot cannot route.  The real
bot against the fake Bot API; assertions on what the operators and the
users receive and on what the database holds."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest
import sqlite_utils

from bot.fakebotapi import FakeBotAPI
from bot.store import Store
from bot.telegram_app import OPEN_PAGE

from .conftest import OPERATORS
from .test_telegram import USER, last_to


def rows(db_path: Any, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    return list(sqlite_utils.Database(db_path).query(sql, params))


def test_a_403_in_the_operators_group_keeps_the_posts_until_the_bot_is_back(
    api: FakeBotAPI, run_bot: Any, db_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The bot removed from the operators' group for a moment: the posts of
    that time wait and every post arrives once it is back; the group is
    never marked as a user who blocked the bot."""
    caplog.set_level(logging.ERROR, logger="bot.delivery")
    runner = run_bot()
    api.blocked_chats.add(OPERATORS)
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    last_to(api, USER)
    api.wait_for_call("sendMessage", predicate=lambda c: c.params.get("chat_id") == OPERATORS and c.status == 403)
    api.blocked_chats.discard(OPERATORS)  # the bot added back
    api.push_text(USER + 1, "как купить билет на самолёт", language_code="ru")
    last_to(api, USER + 1)
    posts = api.wait_for_sent(chat_id=OPERATORS, count=2, timeout=15)
    assert sorted(p["text"].split(" · ")[0] for p in posts) == ["❓ #1", "❓ #2"]
    assert any("operators' group" in r.getMessage() and "403" in r.getMessage() for r in caplog.records)
    runner.stop()
    assert rows(db_path, "select chat_id from users where blocked = 1") == []
    assert rows(db_path, "select count(*) as n from outbox where chat_id = ? and status != 'sent'", [OPERATORS]) == [{"n": 0}]


def test_posts_waiting_for_the_bot_to_be_added_back_go_once_it_is(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """The bot removed from the operators' group for a while: its posts
    are retried ever less often, at last 5 minutes apart.  Added back
    (Telegram tells the bot: `my_chat_member`), it posts them at once;
    operators had waited up to those 5 minutes for the backlog."""
    runner = run_bot()
    api.blocked_chats.add(OPERATORS)
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    last_to(api, USER)
    api.wait_for_call("sendMessage", predicate=lambda c: c.params.get("chat_id") == OPERATORS and c.status == 403)

    def as_if_refused_for_long() -> bool:  # the backoff an hour of refusals leads to, between two attempts
        assert runner.store is not None
        if runner.app.bot_data["services"].delivery._inflight:
            return False
        runner.store.db.execute("UPDATE outbox SET attempts = 12, not_before = ? WHERE chat_id = ?", [time.time() + 300, OPERATORS])
        return True

    while not runner.on_loop(as_if_refused_for_long):
        time.sleep(0.01)
    api.blocked_chats.discard(OPERATORS)
    bot, admin = api.bot_user, {"id": 77, "is_bot": False, "first_name": "Admin"}
    api.push_update({"my_chat_member": {"chat": {"id": OPERATORS, "type": "supergroup", "title": "Ops"}, "from": admin, "date": int(time.time()),
                                        "old_chat_member": {"user": bot, "status": "left"}, "new_chat_member": {"user": bot, "status": "member"}}})
    assert last_to(api, OPERATORS, timeout=10)["text"].startswith("❓ #1 · ")
    runner.stop()


def test_an_operators_group_upgraded_to_a_supergroup_is_named_and_followed(
    api: FakeBotAPI, run_bot: Any, db_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram answers posts to the old group with the supergroup's id
    (ChatMigrated, not a BadRequest): one ERROR names the new id for the
    admin, and this run posts there and relays the operators' answers from
    there, instead of retrying the old id for ever."""
    new = -100888
    caplog.set_level(logging.ERROR, logger="bot.delivery")
    api.add_chat(new, "supergroup")
    api.fail("sendMessage", status=400, migrate_to_chat_id=new, times=10_000, chat_id=OPERATORS,
             description="Bad Request: group chat was upgraded to a supergroup chat")
    run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    last_to(api, USER)
    post = last_to(api, new, timeout=10)
    assert post["text"].startswith("❓ #1 · ru · engine")
    assert any(f"OPERATOR_CHAT_ID={new}" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)
    assert len([c for c in api.calls_of("sendMessage") if c.params.get("chat_id") == OPERATORS]) == 1

    # The operators answer in the supergroup: the user gets it.
    mark = api.checkpoint()
    api.push_text(new, "Лучше через банк.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    api.wait_for_sent(chat_id=USER, since=mark, predicate=lambda m: m["text"] == "Лучше через банк.")
    ack = last_to(api, new, since=mark)
    assert ack["text"].startswith("✅ #1")


def test_an_operators_group_upgraded_to_a_supergroup_is_followed_from_telegrams_notice(
    api: FakeBotAPI, run_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram tells the bot of the upgrade at once, with a service message
    in each group (`migrate_to_chat_id` in the old, `migrate_from_chat_id`
    in the new).  Operators carry on in the supergroup before any post has
    failed: their commands and answers there were taken for a users'
    group's talk (/open went unanswered), and the next post still went to
    the old id first."""
    new = -100888
    caplog.set_level(logging.ERROR, logger="bot.delivery")
    api.add_chat(new, "supergroup")
    run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    last_to(api, OPERATORS)
    operator = {"id": 77, "is_bot": False, "first_name": "Op"}
    api.push_update({"message": {"message_id": 90, "date": int(time.time()), "chat": {"id": OPERATORS, "type": "group", "title": "Ops"},
                                 "from": operator, "migrate_to_chat_id": new}})
    api.push_update({"message": {"message_id": 1, "date": int(time.time()), "chat": {"id": new, "type": "supergroup", "title": "Ops"},
                                 "from": operator, "migrate_from_chat_id": OPERATORS}})
    mark = api.checkpoint()
    api.push_text(new, "/open", chat_type="supergroup", user_id=77)
    assert last_to(api, new, since=mark)["text"].startswith("Open questions: 1")
    assert any(f"OPERATOR_CHAT_ID={new}" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)

    mark = api.checkpoint()
    api.push_text(USER + 1, "как купить билет на самолёт", language_code="ru")
    second = last_to(api, new, since=mark)
    assert second["text"].startswith("❓ #2 · ")
    assert len([c for c in api.calls_of("sendMessage") if c.params.get("chat_id") == OPERATORS]) == 1  # #1's post, before the upgrade
    mark = api.checkpoint()
    api.push_text(new, "Лучше через агентство.", chat_type="supergroup", user_id=77, reply_to_message_id=second["message_id"])
    api.wait_for_sent(chat_id=USER + 1, since=mark, predicate=lambda m: m.get("text") == "Лучше через агентство.")
    assert last_to(api, new, since=mark)["text"] == "✅ #2: sent to the user."


def test_an_answer_that_cannot_reach_the_user_is_said_and_leaves_the_question_open(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """The user blocked the bot before the operator answered: the operators
    are told, in reply to the answer, and the question stays open (in
    /open), not marked answered."""
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    api.blocked_chats.add(USER)
    mark = api.checkpoint()
    answer = api.push_text(OPERATORS, "Ответ", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    warning = last_to(api, OPERATORS, since=mark)
    assert warning["text"].startswith("⚠️ #1: not delivered (")
    assert "blocked" in warning["text"]
    assert warning["reply_to_message"]["message_id"] == answer["message_id"]
    assert not [m for m in api.sent_messages(OPERATORS, since=mark) if m["text"].startswith("✅")]
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/open", chat_type="supergroup", user_id=77)
    assert "#1 " in last_to(api, OPERATORS, since=mark)["text"]
    runner.stop()
    assert rows(db_path, "select status, answer, answered_at from questions") == [{"status": "open", "answer": None, "answered_at": None}]


def test_a_question_is_answered_once_the_answer_is_sent(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    mark = api.checkpoint()
    api.push_text(OPERATORS, "Через банк.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m["text"].startswith("✅ #1"))
    runner.stop()
    [question] = rows(db_path, "select status, answer, answered_at from questions")
    assert question["status"] == "answered" and question["answer"] == "Через банк." and question["answered_at"]


def test_an_answer_without_text_is_recorded_as_what_it_holds(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """An operator answering with a photo, a voice note or a sticker: the
    question's answer is recorded in the words a follow-up's post uses,
    `(photo)`; it was the name of a Python class, `[tuple]` for a photo."""
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    recorded = []
    for push, kind in ((api.push_photo, "photo"), (api.push_voice, "voice"), (api.push_sticker, "sticker")):
        mark = api.checkpoint()
        push(OPERATORS, chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])  # type: ignore[operator]
        api.wait_for_sent(chat_id=USER, since=mark, predicate=lambda m, kind=kind: kind in m)  # type: ignore[misc]
        assert last_to(api, OPERATORS, since=mark)["text"] == "✅ #1: sent to the user."
        recorded.append(runner.on_loop(lambda: runner.store.question(1).answer))
    assert recorded == ["(photo)", "(voice)", "(sticker)"]


def test_a_question_of_emoji_fits_one_post(api: FakeBotAPI, run_bot: Any) -> None:
    """After /human the next message is handed on whatever its length; an
    emoji is two of Telegram's 4096 units: the post is cut to fit, header
    and footer kept."""
    run_bot()
    api.push_text(USER, "/human", language_code="ru")
    last_to(api, USER)
    api.push_text(USER, "помогите " + "😢" * 2040, language_code="ru")
    post = last_to(api, OPERATORS, timeout=10)
    assert post["text"].startswith("❓ #1 · ru · human\n\nпомогите 😢😢")
    assert "😢…\n\nFAQ: " in post["text"]  # the nearest entries, as the engine's hand-offs have them
    assert post["text"].endswith("\n\n↩️ Reply to this message to answer the user. /close 1")
    assert len(post["text"].encode("utf-16-le")) // 2 <= 4096


def test_a_post_telegram_refuses_is_replaced_by_a_short_one(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """A question's post refused with a 400 is not dropped: a short post
    with its reference and the reason arrives, and a reply to it reaches
    the user."""
    runner = run_bot()
    api.fail("sendMessage", status=400, chat_id=OPERATORS, description="Bad Request: message is too long")
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    last_to(api, USER)
    post = last_to(api, OPERATORS, timeout=10)
    assert post["text"].startswith("❓ #1 · (text could not be shown: ")
    assert "message is too long" in post["text"].lower()
    mark = api.checkpoint()
    api.push_text(OPERATORS, "Через банк.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    api.wait_for_sent(chat_id=USER, since=mark, predicate=lambda m: m["text"] == "Через банк.")
    runner.stop()
    assert rows(db_path, "select status, text from questions") == [{"status": "answered", "text": "какой курс доллара сегодня"}]


def test_a_post_the_group_cannot_take_waits_rather_than_being_cut_short(
    api: FakeBotAPI, run_bot: Any, db_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A 400 about the group, not the text (the bot may not post there for
    a while): an ERROR, and the question's full post arrives once it can;
    it is neither replaced by a short one nor dropped."""
    caplog.set_level(logging.ERROR, logger="bot.delivery")
    runner = run_bot()
    api.fail("sendMessage", status=400, times=4, chat_id=OPERATORS, description="Bad Request: not enough rights to send text messages to the chat")
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    last_to(api, USER)
    post = last_to(api, OPERATORS, timeout=40)
    assert post["text"].startswith("❓ #1 · ") and "какой курс доллара сегодня" in post["text"]
    assert any("not enough rights" in r.getMessage().lower() for r in caplog.records)
    runner.stop()
    assert rows(db_path, "select count(*) as n from outbox where chat_id = ? and status = 'dropped'", [OPERATORS]) == [{"n": 0}]


def test_a_copy_from_a_group_that_moved_is_said_and_the_users_chat_stays_the_users(
    api: FakeBotAPI, run_bot: Any, db_path: Any
) -> None:
    """Telegram answering a copy to a user with ChatMigrated means the
    group the answer is copied from moved: the operators are told in the
    new group to answer again, and nothing of the user's goes there."""
    new = -100888
    api.add_chat(new, "supergroup")
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    api.fail("copyMessage", status=400, migrate_to_chat_id=new, chat_id=USER, description="Bad Request: group chat was upgraded to a supergroup chat")
    api.push_text(OPERATORS, "Через банк.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    warning = api.wait_for_sent(chat_id=new, predicate=lambda m: m.get("text", "").startswith("⚠️ #1: not delivered"))[0]
    assert "answer again" in warning["text"]
    runner.stop()
    assert rows(db_path, "select count(*) as n from outbox where kind = 'copy' and chat_id = ?", [new]) == [{"n": 0}]
    assert rows(db_path, "select status from questions") == [{"status": "open"}]


def test_a_follow_up_stays_open_when_an_earlier_answer_lands_late(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """An operator's second answer is slow to reach the user; meanwhile the
    user writes a follow-up, which reopens the question.  The late copy
    must not mark it answered again and hide the follow-up from /open."""
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    api.push_text(OPERATORS, "Через банк.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    copied = api.wait_for_sent(chat_id=USER, predicate=lambda m: m.get("text") == "Через банк.")[0]
    api.wait_for_sent(chat_id=OPERATORS, predicate=lambda m: m.get("text", "").startswith("✅ #1"))
    release = api.hold("copyMessage")
    api.push_text(OPERATORS, "И ещё: курс в приложении банка.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    api.wait_for_call("copyMessage", predicate=lambda c: c.params.get("chat_id") == USER, count=2)
    mark = api.checkpoint()
    api.push_text(USER, "а какой банк лучше?", language_code="ru", reply_to_message_id=copied["message_id"])
    api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m.get("text", "").startswith("💬 #1"))
    release.set()
    api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m.get("text", "").startswith("✅ #1"))
    runner.stop()
    assert rows(db_path, "select status from questions") == [{"status": "open"}]


NOT_SENT = "⚠️ Not sent: reply to the ❓ post of the question."
GONE = (
    "⚠️ Not sent: question #{ref} is no longer stored (deleted after the retention period, "
    "or at the user's request), so this answer cannot reach the user."
)


def test_a_reply_the_bot_cannot_route_is_said(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """Replies to the ✅ acknowledgement, to the /open listing or to the post
    of a question since deleted reach no one: the operator is told so, in
    reply; operators replying to one another are left alone."""
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    api.push_text(OPERATORS, "Ответ 1", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    ack = api.wait_for_sent(chat_id=OPERATORS, predicate=lambda m: m["text"].startswith("✅"))[0]
    api.push_text(USER + 1, "как купить билет на самолёт", language_code="ru")
    second = api.wait_for_sent(chat_id=OPERATORS, predicate=lambda m: m["text"].startswith("❓ #2"))[0]
    mark = api.checkpoint()
    to_ack = api.push_text(OPERATORS, "И ещё: возьмите паспорт", chat_type="supergroup", user_id=77, reply_to_message_id=ack["message_id"])
    assert last_to(api, OPERATORS, since=mark)["text"] == NOT_SENT
    assert api.sent_messages(OPERATORS, since=mark)[-1]["reply_to_message"]["message_id"] == to_ack["message_id"]

    api.push_text(OPERATORS, "/open", chat_type="supergroup", user_id=77)
    listing = last_to(api, OPERATORS, since=mark, count=2)
    assert listing["text"].startswith("Open questions")
    mark = api.checkpoint()
    api.push_text(OPERATORS, "ответ на #2", chat_type="supergroup", user_id=77, reply_to_message_id=listing["message_id"])
    assert last_to(api, OPERATORS, since=mark)["text"] == NOT_SENT

    runner.on_loop(runner.store.forget_user, USER + 1)  # the question of the second post is gone
    mark = api.checkpoint()
    api.push_text(OPERATORS, "Ответ 2", chat_type="supergroup", user_id=77, reply_to_message_id=second["message_id"])
    assert last_to(api, OPERATORS, since=mark)["text"] == GONE.format(ref=2)

    mark = api.checkpoint()
    colleague = api.push_text(OPERATORS, "кто возьмёт #2?", chat_type="supergroup", user_id=78)
    api.push_text(OPERATORS, "я", chat_type="supergroup", user_id=77, reply_to_message_id=colleague["message_id"])
    api.push_text(OPERATORS, "/open", chat_type="supergroup", user_id=77)  # handled after the replies above
    assert last_to(api, OPERATORS, since=mark)["text"].startswith("No open questions")
    assert len(api.sent_messages(OPERATORS, since=mark)) == 1
    assert len(api.calls_of("copyMessage")) == 1


def test_an_operator_editing_an_answer_is_told_the_edit_is_not_delivered(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    answer = api.push_text(OPERATORS, "Лучше черз банк.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    api.wait_for_sent(chat_id=OPERATORS, predicate=lambda m: m["text"].startswith("✅"))
    mark = api.checkpoint()
    api.push_update({"edited_message": {**answer, "text": "Лучше через банк.", "edit_date": answer["date"] + 5}})
    told = last_to(api, OPERATORS, since=mark)
    assert told["text"].startswith("⚠️ #1: edits are not delivered")
    assert told["reply_to_message"]["message_id"] == answer["message_id"]
    assert len(api.calls_of("copyMessage")) == 1


def test_an_answer_that_starts_with_a_command_reaches_the_user(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """A reply to a ❓ post is an answer whatever it starts with: one that
    points the user to a command of the bot is copied to them and
    acknowledged.  The bot's own operator commands, sent as replies to the
    post, are still commands, not answers."""
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    mark = api.checkpoint()
    answer = "/topics — откройте это меню в боте, там всё есть"
    api.push_text(OPERATORS, answer, chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    assert last_to(api, USER, since=mark)["text"] == answer
    assert last_to(api, OPERATORS, since=mark)["text"] == "✅ #1: sent to the user."

    mark = api.checkpoint()
    api.push_text(OPERATORS, "/open", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    assert last_to(api, OPERATORS, since=mark)["text"].startswith("No open questions")
    api.push_text(OPERATORS, "/close 1", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    assert last_to(api, OPERATORS, since=mark, count=2)["text"] == "Closed #1."
    assert last_to(api, USER, since=mark)["text"].startswith("Ваше обращение #1 закрыто")
    assert len(api.calls_of("copyMessage")) == 1  # the answer only, not the commands
    runner.stop()
    assert rows(db_path, "select status, answer from questions") == [{"status": "closed", "answer": answer}]


def test_a_reply_to_the_post_of_a_purged_question_says_the_question_is_gone(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """`jardam purge` deleted an answered question past the retention
    period; an operator who answers its ❓ post again did reply to the right
    post: they are told that the question is no longer stored and that the
    answer was not sent, not to reply to the ❓ post."""
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    api.push_text(OPERATORS, "Через банк.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    api.wait_for_sent(chat_id=OPERATORS, predicate=lambda m: m["text"].startswith("✅ #1"))

    def purge_as_if_old() -> dict[str, int]:
        assert runner.store is not None
        # Everything about it old: it was asked, answered and relayed long ago.
        old = "2020-01-01T00:00:00+00:00"
        runner.store.db.execute("UPDATE questions SET ts = ?, answered_at = ?", [old, old])
        runner.store.db.execute("UPDATE relay SET created_at = ?", [old])
        runner.store.db.execute("UPDATE outbox SET created_at = ? WHERE status != 'pending'", [old])
        return runner.store.purge(180, 365)

    def pending() -> int:
        assert runner.store is not None
        return int(runner.store.db.execute("SELECT COUNT(*) FROM outbox WHERE status = 'pending'").fetchone()[0])

    # The acknowledgement is marked sent just after Telegram took it; a
    # question with a delivery still pending is never purged.
    deadline = time.monotonic() + 10
    while runner.on_loop(pending) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert runner.on_loop(purge_as_if_old)["questions"] == 1
    mark = api.checkpoint()
    again = api.push_text(OPERATORS, "И ещё: курс в банке.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    told = last_to(api, OPERATORS, since=mark)
    assert told["text"] == GONE.format(ref=1)
    assert told["reply_to_message"]["message_id"] == again["message_id"]
    assert len(api.calls_of("copyMessage")) == 1  # the first answer only
    # /close in reply to that post: the question is gone, not the command misused.
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/close", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    assert last_to(api, OPERATORS, since=mark)["text"] == (
        "Question #1 is no longer stored (deleted after the retention period, or at the user's request)."
    )
    runner.stop()


def test_close_closes_every_question_named_and_says_which_it_could_not(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """`/close 1 2` closes both and tells both users; numbers that are no
    question (one too big for SQLite among them) or closed already are
    named in the reply, not dropped in silence."""
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    api.push_text(USER + 1, "как купить билет на самолёт", language_code="ru")
    api.wait_for_sent(chat_id=OPERATORS, count=2)
    api.wait_for_sent(chat_id=USER), api.wait_for_sent(chat_id=USER + 1)  # each told first: a later message is the closing
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/close 1 2", chat_type="supergroup", user_id=77)
    assert last_to(api, OPERATORS, since=mark)["text"] == "Closed #1, #2."
    assert last_to(api, USER, since=mark)["text"].startswith("Ваше обращение #1 закрыто")
    assert last_to(api, USER + 1, since=mark)["text"].startswith("Ваше обращение #2 закрыто")

    mark = api.checkpoint()
    api.push_text(OPERATORS, "/close 99999999999999999999999", chat_type="supergroup", user_id=77)
    assert last_to(api, OPERATORS, since=mark)["text"] == "No question #99999999999999999999999."
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/close #2, 3 99999999999999999999999", chat_type="supergroup", user_id=77)
    assert last_to(api, OPERATORS, since=mark)["text"] == "#2 is already closed.\nNo question #3, #99999999999999999999999."
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/close ²", chat_type="supergroup", user_id=77)
    assert last_to(api, OPERATORS, since=mark)["text"].startswith("Usage: /close REF")
    runner.stop()
    assert rows(db_path, "select id, status from questions") == [{"id": 1, "status": "closed"}, {"id": 2, "status": "closed"}]
    assert not api.sent_messages(USER, since=mark) and not api.sent_messages(USER + 1, since=mark)


def test_close_as_a_reply_to_a_post_closes_that_question(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """An operator who has just answered replies `/close` to the ❓ post:
    that question is closed and its user told; the other stays open.  A
    bare `/close` that replies to no question's post still gets the usage."""
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    first = last_to(api, OPERATORS)
    api.push_text(USER + 1, "как купить билет на самолёт", language_code="ru")
    api.wait_for_sent(chat_id=OPERATORS, count=2)
    api.wait_for_sent(chat_id=USER), api.wait_for_sent(chat_id=USER + 1)  # each told first: a later message is the closing
    mark = closing = api.checkpoint()
    api.push_text(OPERATORS, "/close", chat_type="supergroup", user_id=77, reply_to_message_id=first["message_id"])
    assert last_to(api, OPERATORS, since=mark)["text"] == "Closed #1."
    assert last_to(api, USER, since=mark)["text"].startswith("Ваше обращение #1 закрыто")
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/close", chat_type="supergroup", user_id=77)
    assert last_to(api, OPERATORS, since=mark)["text"].startswith("Usage: /close REF")
    runner.stop()
    assert rows(db_path, "select id, status from questions") == [{"id": 1, "status": "closed"}, {"id": 2, "status": "open"}]
    assert not api.sent_messages(USER + 1, since=closing)


def test_a_command_for_a_group_helper_bot_is_not_copied_as_an_answer(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """Group-helper bots are driven by replying with a command: "/pin", or
    "/warn@GroupHelpBot spam".  Neither reaches the user nor counts as the
    answer; the operator is told why.  An answer that starts with a command
    and goes on still goes."""
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    for command in ("/pin", "/warn@GroupHelpBot spam", "/close@GroupHelpBot 1"):
        mark = api.checkpoint()
        sent = api.push_text(OPERATORS, command, chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
        told = last_to(api, OPERATORS, since=mark)
        assert told["text"] == "⚠️ Not sent to the user: a command alone is not an answer to #1."
        assert told["reply_to_message"]["message_id"] == sent["message_id"]
    assert not api.calls_of("copyMessage")
    assert rows(db_path, "select status from questions") == [{"status": "open"}]
    mark = api.checkpoint()
    api.push_text(OPERATORS, "/topics — там всё есть", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    assert last_to(api, USER, since=mark)["text"] == "/topics — там всё есть"
    runner.stop()


def test_open_lists_every_waiting_question_page_by_page(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    store = Store(db_path)
    for i in range(OPEN_PAGE + 5):
        store.add_question(chat_id=USER + i, lang="ru", text=f"вопрос номер {i + 1}", candidates=[], reason="engine")
    store.close()
    run_bot()
    listings = []
    for command in ("/open", "/open 2", "/open 3", "/open x", "/open 9999999", "/open " + "9" * 4000, "/open 0", "/open -1", "/open #002"):
        mark = api.checkpoint()
        api.push_text(OPERATORS, command, chat_type="supergroup", user_id=77)
        listings.append(last_to(api, OPERATORS, since=mark)["text"].splitlines())
    first, second, beyond, usage, far_beyond, farther, zero, negative, padded = listings
    assert first[0] == f"Open questions: {OPEN_PAGE + 5} (oldest first), page 1 of 2"
    assert first[1].startswith("#1 · ") and first[OPEN_PAGE].startswith(f"#{OPEN_PAGE} · ")
    assert first[-1] == "… and 5 more: /open 2"
    assert [line.split(" · ")[0] for line in second[1:]] == [f"#{n}" for n in range(OPEN_PAGE + 1, OPEN_PAGE + 6)]
    # Any page past the last, however far (it had been the usage line from 7 digits on)
    assert beyond == far_beyond == farther == [f"No such page: {OPEN_PAGE + 5} open questions, on 2 pages: /open 2 is the last."]
    assert usage == zero == negative == ["Usage: /open, or /open 2 for the next page"]
    assert padded == second


def test_an_open_page_of_emoji_questions_fits_one_message(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """Previews were cut at 80 characters: 80 emoji are 160 of Telegram's
    units, and a page of 30 was refused as too long, so /open said nothing."""
    store = Store(db_path)
    for i in range(OPEN_PAGE):
        store.add_question(chat_id=USER + i, lang="ru", text="🙏" * 90, candidates=[], reason="engine")
    store.close()
    run_bot()
    api.push_text(OPERATORS, "/open", chat_type="supergroup", user_id=77)
    listing = last_to(api, OPERATORS)["text"]
    assert len(listing.splitlines()) == OPEN_PAGE + 1 and len(listing.encode("utf-16-le")) // 2 <= 4096


def test_a_follow_up_is_acknowledged_in_its_own_language_else_the_questions(api: FakeBotAPI, run_bot: Any) -> None:
    """A Kyrgyz question from a user whose Telegram is in Russian: the
    receipt for their follow-up to the operator's answer came in Russian
    (the user's language), not in the conversation's."""
    run_bot()
    api.push_text(USER, "/human менин иш берүүчүм паспортумду алып койду, эмне кылышым керек?", language_code="ru")
    post = last_to(api, OPERATORS)
    assert post["text"].startswith("❓ #1 · ky · human")
    mark = api.checkpoint()
    api.push_text(OPERATORS, "Элчиликке кайрылыңыз.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    copied = api.wait_for_sent(chat_id=USER, since=mark, predicate=lambda m: m["text"] == "Элчиликке кайрылыңыз.")[0]
    api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m["text"].startswith("✅ #1"))  # the copy linked to #1
    receipt = "Сизге жооп берген адамга жөнөтүлдү. Суроонун номери: #1"
    mark = api.checkpoint()
    api.push_text(USER, "Рахмат! Элчилик кайда жайгашкан?", language_code="ru", reply_to_message_id=copied["message_id"])
    assert last_to(api, USER, since=mark)["text"] == receipt
    mark = api.checkpoint()
    api.push_photo(USER, language_code="ru", reply_to_message_id=copied["message_id"])  # nothing to tell its language: the question's
    assert last_to(api, USER, since=mark)["text"] == receipt
    mark = api.checkpoint()
    api.push_text(USER, "А где находится посольство?", language_code="ky", reply_to_message_id=copied["message_id"])
    assert last_to(api, USER, since=mark)["text"] == "Отправлено человеку, который вам ответил. Номер обращения: #1"


def test_a_reply_to_the_hand_off_confirmation_adds_to_the_question(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """The user adds details by replying to "I have passed your question to
    a person… Reference: #1": that goes to the operators under #1 (`💬`),
    not as a question of its own (#2, answered by the FAQ or handed off
    apart from the question it completes), and the receipt does not speak
    of a person who answered, as none has yet.  Also when the confirmation
    itself had to wait in the outbox."""
    runner = run_bot()

    def linked(chat_id: int, message_id: int) -> None:  # just after Telegram took it; a user takes longer to reply
        deadline = time.monotonic() + 5
        while runner.on_loop(lambda: runner.store.question_for_message(chat_id, message_id)) is None and time.monotonic() < deadline:
            time.sleep(0.02)

    api.push_text(USER, "/human работодатель забрал паспорт и не отдаёт", language_code="ru")
    confirmation = last_to(api, USER)
    assert confirmation["text"].endswith("#1")
    last_to(api, OPERATORS)
    linked(USER, confirmation["message_id"])
    mark = api.checkpoint()
    api.push_text(USER, "я работаю в Москве на стройке, уже 3 месяца", language_code="ru", reply_to_message_id=confirmation["message_id"])
    follow_up = last_to(api, OPERATORS, since=mark)
    assert follow_up["text"].startswith("💬 #1 · ru · follow-up\n\nя работаю в Москве на стройке")
    assert last_to(api, USER, since=mark)["text"] == "Добавлено к вашему вопросу: человек, который на него ответит, увидит и это. Номер обращения: #1"
    mark = api.checkpoint()
    api.push_text(OPERATORS, "Пишите в консульство.", chat_type="supergroup", user_id=77, reply_to_message_id=follow_up["message_id"])
    api.wait_for_sent(chat_id=USER, since=mark, predicate=lambda m: m.get("text") == "Пишите в консульство.")

    api.fail("sendMessage", status=502, chat_id=USER + 1)  # the confirmation goes from the outbox
    api.push_text(USER + 1, "/human как вернуть паспорт", language_code="ru")
    confirmation = api.wait_for_sent(chat_id=USER + 1, predicate=lambda m: m["text"].endswith("#2"), timeout=10)[0]
    api.wait_for_sent(chat_id=OPERATORS, predicate=lambda m: m["text"].startswith("❓ #2"))
    linked(USER + 1, confirmation["message_id"])
    mark = api.checkpoint()
    api.push_text(USER + 1, "паспорт у бригадира", language_code="ru", reply_to_message_id=confirmation["message_id"])
    assert last_to(api, OPERATORS, since=mark)["text"].startswith("💬 #2 · ru · follow-up")
    runner.stop()
    assert rows(db_path, "select count(*) as n from questions") == [{"n": 2}]


def test_an_operator_editing_a_reply_that_was_not_sent_is_told_to_reply_again(api: FakeBotAPI, run_bot: Any) -> None:
    """A reply refused as an answer (a command alone), then edited into a
    real answer: the operator was told "edits are not delivered; the user
    has the first version", yet the user has nothing at all."""
    run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    mark = api.checkpoint()
    reply = api.push_text(OPERATORS, "/start", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    assert last_to(api, OPERATORS, since=mark)["text"].startswith("⚠️ Not sent to the user: a command alone is not an answer to #1")
    mark = api.checkpoint()
    api.push_update({"edited_message": {**reply, "text": "Лучше через банк.", "edit_date": reply["date"] + 5}})
    told = last_to(api, OPERATORS, since=mark)
    assert told["text"] == "⚠️ #1: nothing was sent to the user, edits included. To answer, reply to the ❓ post again."
    assert told["reply_to_message"]["message_id"] == reply["message_id"]
    assert api.calls_of("copyMessage") == []
