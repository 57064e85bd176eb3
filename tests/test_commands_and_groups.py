"""Commands the bot does not have, and /human in a group of many users: the
real bot against the fake Bot API, and the SQLite file a restart reads."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils

from bot.fakebotapi import FakeBotAPI
from bot.store import Store

from .conftest import OPERATORS, database_before
from .test_telegram import USER, buttons, last_to

GROUP = -300


@pytest.mark.parametrize(
    ("code", "said"),
    [("en", "I do not know this command."), ("ru", "Я не знаю такой команды."), ("ky", "Мен бул буйрукту билбейм.")],
)
def test_an_unknown_command_in_a_private_chat_is_answered_with_the_commands(api: FakeBotAPI, run_bot: Any, code: str, said: str) -> None:
    run_bot()
    for n, command in enumerate(["/menu", "/stop", "/foo bar"], start=1):
        mark = api.checkpoint()
        api.push_text(USER, command, language_code=code)
        reply = last_to(api, USER, since=mark)["text"]
        assert reply.startswith(said), reply
        assert [line.split(":")[0] for line in reply.splitlines()[2:]] == ["/start", "/topics", "/lang", "/human", "/help", "/forget"]
        assert len(api.sent_messages(USER)) == n
    # The real commands are still theirs; in a group, another bot's command is left alone.
    mark = api.checkpoint()
    api.push_text(GROUP, "/foo", chat_type="supergroup", user_id=7, language_code=code)
    api.push_text(USER, "/topics", language_code=code)
    assert "/start" not in last_to(api, USER, since=mark)["text"]
    assert api.sent_messages(GROUP) == []


def group_says(api: FakeBotAPI, user_id: int, text: str) -> None:
    api.push_text(GROUP, text, chat_type="supergroup", user_id=user_id, language_code="en")


def test_in_a_group_only_the_member_who_asked_for_a_person_has_their_next_message_passed_on(
    api: FakeBotAPI, run_bot: Any, db_path: Path
) -> None:
    """/human in a group, then another member asks the bot something: that
    is answered by the bot, not handed to a person as the first member's
    question; the first member's next message is.  Across a restart too."""
    asker, other = 7, 8
    runner = run_bot()
    group_says(api, asker, "/human")
    prompt = last_to(api, GROUP)
    # In a group the bot hears only what is addressed to it: the prompt says how.
    assert prompt["text"] == "Write your question in one message, as a reply to this one, and I will pass it to a person."
    runner.stop()  # the request is read back from the database

    run_bot()
    mark = api.checkpoint()
    group_says(api, other, "@jardam_test_bot How do I check if I have an entry ban?")
    assert "📚 Sources:" in last_to(api, GROUP, since=mark)["text"]
    assert api.sent_messages(OPERATORS, since=mark) == []
    mark = api.checkpoint()
    group_says(api, asker, "@jardam_test_bot my employer keeps my passport")
    post = last_to(api, OPERATORS, since=mark)
    assert post["text"].startswith("❓ #1 · en · human\n\nmy employer keeps my passport")  # the mention gone, and its space
    mark = api.checkpoint()
    group_says(api, asker, "@jardam_test_bot How do I check if I have an entry ban?")  # once: the bot's again
    assert "📚 Sources:" in last_to(api, GROUP, since=mark)["text"]
    assert api.sent_messages(OPERATORS, since=mark) == []
    assert list(sqlite_utils.Database(db_path).query("select * from awaiting_human")) == []


def test_in_a_group_an_album_without_a_caption_in_reply_to_the_prompt_is_the_askers_question(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    """After /human in a group, the member who asked replies to the prompt
    with photos and no word: they go to a person, with one reply in the
    group; another member's album in reply to it is only told that the bot
    reads text."""
    asker, other = 7, 8
    run_bot()
    group_says(api, asker, "/human")
    prompt = last_to(api, GROUP)

    def album(user_id: int, group: str) -> list[dict[str, Any]]:
        return [
            api.push_photo(GROUP, chat_type="supergroup", user_id=user_id, language_code="en", reply_to_message_id=prompt["message_id"], media_group_id=group)
            for _ in range(3)
        ]

    mark = api.checkpoint()
    album(other, "album-other")
    assert last_to(api, GROUP, since=mark)["text"].startswith("I can read only text.")
    mark = api.checkpoint()
    photos = album(asker, "album-asker")
    post = api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: "text" in m)[0]
    assert post["text"].startswith("❓ #1 · en · human\n\n(photo)")
    copies = api.wait_for_call("copyMessage", count=3, since=mark, predicate=lambda c: c.params.get("chat_id") == OPERATORS)
    assert [c.params["message_id"] for c in copies] == [p["message_id"] for p in photos]
    told = last_to(api, GROUP, since=mark)
    assert told["text"].endswith("Reference: #1") and told["reply_to_message"]["message_id"] == photos[0]["message_id"]
    time.sleep(0.5)
    assert len(api.sent_messages(GROUP, since=mark)) == 1
    db = sqlite_utils.Database(db_path)
    assert [(q["user_id"], q["media_group_id"]) for q in db["questions"].rows] == [(asker, "album-asker")]
    assert list(db.query("select * from awaiting_human")) == []


def test_an_older_database_keeps_a_private_chats_request_for_a_person(tmp_path: Path) -> None:
    """Requests were kept per chat (users.awaiting_human_since): a private
    chat's is its user's; a group's did not say whose, and is dropped."""
    path = tmp_path / "old.db"
    db = database_before(path, 9)
    since = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(hours=1)
    for chat, lang in ((USER, "ky"), (GROUP, None)):
        db.execute(
            "INSERT INTO users (chat_id, lang, blocked, created_at, updated_at, awaiting_human_since) VALUES (?, ?, 0, ?, ?, ?)",
            [chat, lang, since.isoformat(), since.isoformat(), since.isoformat()],
        )
    db.conn.commit()
    db.conn.close()

    store = Store(path)
    assert store.awaiting_human(after=since - dt.timedelta(hours=24)) == {(USER, USER): since}
    assert store.user_lang(USER) == "ky"
    assert "awaiting_human_since" not in store.db["users"].columns_dict
    store.close()
    assert Store(path).awaiting_human(after=since - dt.timedelta(hours=24)) == {(USER, USER): since}  # reopened: migrated once


def test_in_a_group_answers_reply_to_their_asker_whose_buttons_they_are(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    """Any member could press 👎 or "Ask a person" under another's answer,
    and pass that member's question on as if they had asked."""
    asker, other = 7, 8
    run_bot()
    asked = api.push_text(GROUP, "@jardam_test_bot How do I check if I have an entry ban?", chat_type="supergroup", user_id=asker, language_code="en")
    answer = last_to(api, GROUP)
    assert "📚 Sources:" in answer["text"] and answer["reply_to_message_id"] == asked["message_id"]
    mark = api.checkpoint()
    api.push_callback(GROUP, answer["message_id"], "f:ban-check:down", user_id=other, language_code="en")
    api.wait_for_call("answerCallbackQuery", since=mark)
    assert [a.get("text") for a in api.callback_answers.values()][-1] == "These buttons are for the member who asked."
    assert api.sent_messages(OPERATORS, since=mark) == [] and api.sent_messages(GROUP, since=mark) == []
    api.push_callback(GROUP, answer["message_id"], "f:ban-check:down", user_id=asker, language_code="en")
    post = last_to(api, OPERATORS, since=mark)
    assert post["text"].startswith("❓ #1 · en · feedback") and "How do I check if I have an entry ban?" in post["text"]
    told = last_to(api, GROUP, since=mark)
    assert told["text"].startswith("Sorry this did not help.") and told["reply_to_message_id"] == asked["message_id"]
    assert sqlite_utils.Database(db_path)["questions"].count == 1
    # Another member opening a related entry under it gets an answer of their own to press on.
    related = next(data for _, data in buttons(answer) if data.startswith("e:"))
    mark = api.checkpoint()
    api.push_callback(GROUP, answer["message_id"], related, user_id=other, language_code="en")
    theirs = last_to(api, GROUP, since=mark)
    assert "📚 Sources:" in theirs["text"] and "reply_to_message_id" not in theirs
    api.push_callback(GROUP, theirs["message_id"], f"f:{related[2:]}:down", user_id=other, language_code="en")
    assert last_to(api, OPERATORS, since=mark)["text"].startswith("❓ #2 · en · feedback")


CHANNEL = -1009001


def wait_handled(db_path: Path, update_id: int, timeout: float = 5.0) -> None:
    """Until the bot has recorded the update as handled (its handlers all ran)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if list(sqlite_utils.Database(db_path).query("select 1 from processed_updates where update_id = ?", [update_id])):
            return
        time.sleep(0.02)
    raise AssertionError(f"update {update_id} not handled within {timeout} s")


def test_channel_posts_and_edits_are_not_answered(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    """A channel the bot is in (an admin of it) posts a question that names
    the bot: it was answered in the channel, with buttons, as a member's
    message is.  Channel posts, their edits and edited messages are left alone."""
    channel = api.add_chat(CHANNEL, "channel", title="Jardam news")
    run_bot()
    post = {
        "message_id": 41,
        "sender_chat": channel,
        "chat": channel,
        "date": int(time.time()),
        "text": "@jardam_test_bot как проверить запрет на въезд",
    }
    command = {"type": "bot_command", "offset": 0, "length": 6}
    updates = [
        api.push_update({"channel_post": post}),
        api.push_update({"channel_post": {**post, "message_id": 42, "text": "/start ban-check", "entities": [command]}}),
        api.push_update({"edited_channel_post": {**post, "text": "@jardam_test_bot как проверить запрет на въезд?", "edit_date": post["date"] + 5}}),
    ]
    asked = api.push_text(GROUP, "hello all", chat_type="supergroup", user_id=7, language_code="ru")
    edited = {**asked, "text": "@jardam_test_bot как проверить запрет на въезд", "edit_date": asked["date"] + 5}
    updates.append(api.push_update({"edited_message": edited}))
    for update in updates:
        wait_handled(db_path, update["update_id"])
    assert api.sent_messages(CHANNEL) == [] and api.sent_messages(GROUP) == [] and api.sent_messages(OPERATORS) == []
    assert sqlite_utils.Database(db_path)["questions"].count == 0


def test_a_mention_in_capitals_is_taken_out_of_the_question_as_a_lowercase_one_is(api: FakeBotAPI, run_bot: Any) -> None:
    """Telegram usernames are case-insensitive: "@JARDAM_TEST_BOT" addresses
    the bot, yet it stayed in the text and was matched as part of the
    question (alone, it was answered with the FAQ's "about the bot")."""
    run_bot()

    def reply_to(text: str) -> str:
        mark = api.checkpoint()
        group_says(api, 7, text)
        return str(last_to(api, GROUP, since=mark)["text"])

    assert reply_to("@JARDAM_TEST_BOT") == reply_to("@jardam_test_bot")
    for question in ("как проверить запрет на въезд", "how do I check if I have an entry ban"):
        expected = reply_to(f"@jardam_test_bot {question}")
        assert reply_to(f"@Jardam_Test_Bot {question}") == expected
        words = question.split()
        assert reply_to(" ".join([*words[:2], "@JARDAM_test_bot", *words[2:]])) == expected  # mid-text too
    mark = api.checkpoint()
    group_says(api, 7, "/human")
    last_to(api, GROUP, since=mark)
    group_says(api, 7, "@Jardam_Test_Bot my employer keeps my passport")
    assert last_to(api, OPERATORS, since=mark)["text"].startswith("❓ #1 · en · human\n\nmy employer keeps my passport\n")


def test_group_chatter_does_not_spend_a_users_flood_allowance(api: FakeBotAPI, run_bot: Any) -> None:
    """Every update counted against the user's 20 messages a minute, in any
    chat: 21 group messages not meant for the bot, and their next private
    question got no reply at all (the one "too fast" notice spent, unsent,
    on a group message).  Only messages the bot handles count; and a
    private question dropped for a flood is told so, whatever came before."""
    run_bot()
    for n in range(25):
        group_says(api, USER, f"hello all, message {n}")
    api.push_text(USER, "how do I check if I have an entry ban", language_code="en")
    assert "📚 Sources:" in last_to(api, USER)["text"]
    assert api.sent_messages(GROUP) == []

    flooder = USER + 1
    mark = api.checkpoint()
    for _ in range(21):  # addressed to the bot: counted, and the 21st over the limit (no notice in a group)
        group_says(api, flooder, "@jardam_test_bot how do I check if I have an entry ban")
    api.wait_for_sent(chat_id=GROUP, count=20, since=mark)
    api.push_text(flooder, "how do I check if I have an entry ban", language_code="en")
    assert last_to(api, flooder, since=mark)["text"] == "You are sending messages too fast. Please wait a minute, then ask again."
    assert len(api.sent_messages(GROUP, since=mark)) == 20


def test_in_a_group_the_askers_reply_to_an_operators_answer_is_a_follow_up(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    """Replies in groups had gone to the engine as new questions: the asker's
    reply to the bot's copy of an operator's answer goes back to the
    operators under the same reference, as in a private chat.  Another
    member's reply to it does not join that thread: it is their own
    message to the bot, answered as any other."""
    asker, other = 7, 8
    run_bot()
    group_says(api, asker, "/human my employer has not paid my salary for two months")
    post = last_to(api, OPERATORS)
    assert post["text"].startswith("❓ #1 · en · human")
    mark = api.checkpoint()
    api.push_text(OPERATORS, "Write a complaint to the labour inspectorate.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    copied = api.wait_for_sent(chat_id=GROUP, since=mark, predicate=lambda m: m.get("text") == "Write a complaint to the labour inspectorate.")[0]
    api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m["text"].startswith("✅ #1"))

    mark = api.checkpoint()
    theirs = api.push_text(
        GROUP, "How do I check if I have an entry ban?", chat_type="supergroup", user_id=other, language_code="en", reply_to_message_id=copied["message_id"]
    )
    answer = last_to(api, GROUP, since=mark)
    assert "📚 Sources:" in answer["text"] and answer["reply_to_message_id"] == theirs["message_id"]
    assert api.sent_messages(OPERATORS, since=mark) == []

    mark = api.checkpoint()
    follow = api.push_text(
        GROUP, "Where is the inspectorate in Moscow?", chat_type="supergroup", user_id=asker, language_code="en", reply_to_message_id=copied["message_id"]
    )
    posted = last_to(api, OPERATORS, since=mark)
    assert posted["text"].startswith("💬 #1 · en · follow-up\n\nWhere is the inspectorate in Moscow?")
    told = last_to(api, GROUP, since=mark)
    assert told["text"] == "Sent to the person who answered you. Reference: #1" and told["reply_to_message_id"] == follow["message_id"]
    assert [(r["id"], r["status"]) for r in sqlite_utils.Database(db_path).query("select id, status from questions")] == [(1, "open")]
