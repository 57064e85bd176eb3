"""A photo or document with the question written under it is a question;
a photo sent back to an operator reaches the operators."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlite_utils

from bot.fakebotapi import FakeBotAPI
from bot.telegram_app import ALBUM_WAIT_S

from .conftest import OPERATORS
from .test_telegram import USER, last_to


def test_a_caption_is_read_as_the_question(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    api.push_photo(USER, caption="как проверить запрет на въезд?", language_code="ru")
    reply = last_to(api, USER)
    assert "📚 Источники" in reply["text"]
    mark = api.checkpoint()
    api.push_document(USER, caption="какой курс доллара сегодня", language_code="ru")
    assert last_to(api, USER, since=mark)["text"].startswith("У меня нет проверенного ответа")
    post = api.wait_for_sent(chat_id=OPERATORS, predicate=lambda m: "text" in m)[0]  # not the document's copy, which may follow by now
    assert "какой курс доллара сегодня" in post["text"]


def operator_answered(api: FakeBotAPI, answer: str) -> dict[str, Any]:
    """A question handed off and answered by an operator: the answer as
    copied to the user, linked to its question (its ✅ is out)."""
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    api.push_text(OPERATORS, answer, chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    copied = api.wait_for_sent(chat_id=USER, predicate=lambda m: m.get("text", "") == answer)[0]
    api.wait_for_sent(chat_id=OPERATORS, predicate=lambda m: m.get("text", "").startswith("✅ #1"))  # linked by then
    return copied


def test_a_photo_in_reply_to_an_operator_reaches_the_operators(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    copied = operator_answered(api, "Пришлите фото документа")
    mark = api.checkpoint()
    photo = api.push_photo(USER, language_code="ru", reply_to_message_id=copied["message_id"])
    follow = api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m.get("text", "").startswith("💬 #1"))[0]
    assert "(photo)" in follow["text"]
    copy = api.wait_for_call("copyMessage", since=mark, predicate=lambda c: c.params.get("chat_id") == OPERATORS)[0]
    assert copy.params["from_chat_id"] == USER and copy.params["message_id"] == photo["message_id"]
    assert api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: "photo" in m)
    assert last_to(api, USER, since=mark)["text"].startswith("Отправлено человеку")


def test_a_location_sent_back_is_named_to_the_operators_not_copied(api: FakeBotAPI, run_bot: Any) -> None:
    """A location (or a contact) in reply to an operator was copied to the
    operators' group: where the user is, which a question's text would
    never show them unmasked.  The 💬 post names it, and nothing is copied."""
    run_bot()
    copied = operator_answered(api, "Где вы сейчас?")
    mark = api.checkpoint()
    api.push_location(USER, language_code="ru", reply_to_message_id=copied["message_id"])
    follow = api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m.get("text", "").startswith("💬 #1"))[0]
    assert "(location)" in follow["text"]
    assert last_to(api, USER, since=mark)["text"].startswith("Отправлено человеку")
    time.sleep(0.5)  # a copy would have followed the post by now
    assert [c for c in api.calls[mark:] if c.method == "copyMessage"] == []


def test_a_photo_sent_back_has_its_caption_masked_for_the_operators(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    copied = operator_answered(api, "Пришлите фото паспорта")
    mark = api.checkpoint()
    api.push_photo(USER, caption="мой паспорт AN1234567, тел +996 555 123 456", language_code="ru", reply_to_message_id=copied["message_id"])
    copy = api.wait_for_call("copyMessage", since=mark, predicate=lambda c: c.params.get("chat_id") == OPERATORS)[0]
    assert "AN1234567" not in copy.params["caption"] and "555 123 456" not in copy.params["caption"]
    assert copy.params["caption"].startswith("мой паспорт")


def test_a_question_under_a_photo_reaches_the_operators_with_the_photo(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    mark = api.checkpoint()
    photo = api.push_photo(USER, caption="что написано в этом документе, он настоящий? AN1234567", language_code="ru")
    post = api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m.get("text", "").startswith("❓ #1"))[0]
    assert "AN1234567" not in post["text"]
    copy = api.wait_for_call("copyMessage", since=mark, predicate=lambda c: c.params.get("chat_id") == OPERATORS)[0]
    assert copy.params["from_chat_id"] == USER and copy.params["message_id"] == photo["message_id"]
    assert "AN1234567" not in copy.params["caption"]


CAPTION = "вот мои документы, работодатель не платит зарплату"


def album(api: FakeBotAPI, group: str, photos: int = 4, caption: str | None = CAPTION, **kwargs: Any) -> list[dict[str, Any]]:
    """An album as Telegram sends it: a message per photo, sharing a media_group_id, the first captioned."""
    return [
        api.push_photo(USER, caption=caption if n == 0 else None, media_group_id=group, language_code="ru", **kwargs) for n in range(photos)
    ]


def copied_to_operators(api: FakeBotAPI, count: int, since: int = 0) -> list[int]:
    calls = api.wait_for_call("copyMessage", count=count, since=since, predicate=lambda c: c.params.get("chat_id") == OPERATORS, timeout=10)
    assert all(c.params["from_chat_id"] == USER for c in calls)
    return [c.params["message_id"] for c in calls]


def test_an_album_goes_to_the_person_with_its_question_and_is_answered_once(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """/human, then an album of four photos, the first captioned: all four
    are copied to the operators after the question's post (only the first
    had been, and each of the others got "I can read only text"), and the
    user gets one reply."""
    runner = run_bot()
    api.push_text(USER, "/human", language_code="ru")
    last_to(api, USER)
    mark = api.checkpoint()
    photos = album(api, "album-1")
    post = api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m.get("text", "").startswith("❓ #1 · ru · human"))[0]
    assert CAPTION in post["text"]
    assert copied_to_operators(api, 4, since=mark) == [p["message_id"] for p in photos]
    time.sleep(0.5)  # anything more would have been said by now
    told = [m["text"] for m in api.sent_messages(USER, since=mark)]
    assert len(told) == 1 and told[0].startswith("Я передал ваш вопрос человеку"), told
    assert len(api.sent_messages(OPERATORS, since=mark)) == 5  # the post, then the four photos
    runner.stop()

    # Without /human: the album's question goes where its caption's goes, the photos with it.
    run_bot()
    mark = api.checkpoint()
    photos = album(api, "album-2", caption="какой курс доллара сегодня")
    api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m.get("text", "").startswith("❓ #2"))
    assert copied_to_operators(api, 4, since=mark) == [p["message_id"] for p in photos]
    time.sleep(0.5)
    assert len(api.sent_messages(USER, since=mark)) == 1


def test_an_albums_photos_handled_after_a_restart_still_follow_its_question(api: FakeBotAPI, run_bot: Any) -> None:
    runner = run_bot()
    api.push_text(USER, "/human", language_code="ru")
    last_to(api, USER)
    first = album(api, "album-1", photos=1)[0]
    copied_to_operators(api, 1)
    runner.stop()
    mark = api.checkpoint()
    rest = album(api, "album-1", photos=3, caption=None)  # arrive while the bot is down
    run_bot()
    assert copied_to_operators(api, 3, since=mark) == [p["message_id"] for p in rest]
    assert first["message_id"] not in [p["message_id"] for p in rest]
    time.sleep(0.5)
    assert api.sent_messages(USER, since=mark) == []


def test_an_album_without_a_caption_is_told_once_that_the_bot_reads_text(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    album(api, "album-1", caption=None)
    last_to(api, USER)
    time.sleep(ALBUM_WAIT_S + 0.5)
    told = [m["text"] for m in api.sent_messages(USER)]
    assert len(told) == 1 and told[0].startswith("Я понимаю только текст"), told
    assert not api.calls_of("copyMessage")


def test_an_album_without_a_caption_after_human_goes_to_the_person(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """/human, then four photos and no word: the album is the question.
    Each photo had waited for a caption that never came, and the album was
    told "I can read only text" while the operators got nothing and the
    wait for a person went on."""
    runner = run_bot()
    api.push_text(USER, "/human", language_code="ru")
    last_to(api, USER)
    mark = api.checkpoint()
    photos = album(api, "album-1", caption=None)
    post = api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m.get("text", "").startswith("❓ #1 · ru · human"))[0]
    assert "(photo)" in post["text"]
    assert copied_to_operators(api, 4, since=mark) == [p["message_id"] for p in photos]
    time.sleep(0.5)  # anything more would have been said by now
    told = [m["text"] for m in api.sent_messages(USER, since=mark)]
    assert len(told) == 1 and told[0].startswith("Я передал ваш вопрос человеку") and told[0].endswith("#1"), told
    assert len(api.sent_messages(OPERATORS, since=mark)) == 5  # the post, then the four photos
    runner.stop()
    db = sqlite_utils.Database(db_path)
    assert [(q["reason"], q["media_group_id"], q["user_message_id"]) for q in db["questions"].rows] == [("human", "album-1", photos[0]["message_id"])]
    assert list(db.query("select * from awaiting_human")) == []

    # The wait is over: the next message is the bot's to answer.
    run_bot()
    mark = api.checkpoint()
    api.push_text(USER, "как проверить запрет на въезд?", language_code="ru")
    assert "📚 Источники" in last_to(api, USER, since=mark)["text"]
    assert api.sent_messages(OPERATORS, since=mark) == []


@pytest.mark.parametrize("kind", ["voice", "photo"])
def test_a_voice_note_or_photo_after_human_goes_to_the_person(api: FakeBotAPI, run_bot: Any, db_path: Any, kind: str) -> None:
    """/human, then a voice note (a question spoken, not typed) or one
    photo without a word: it is the question, copied under its post.  It
    had been told "I can read only text", and the wait went on."""
    runner = run_bot()
    api.push_text(USER, "/human", language_code="ru")
    last_to(api, USER)
    mark = api.checkpoint()
    sent = api.push_voice(USER) if kind == "voice" else api.push_photo(USER)
    post = api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m.get("text", "").startswith("❓ #1 · ru · human"))[0]
    assert f"({kind})" in post["text"]
    assert copied_to_operators(api, 1, since=mark) == [sent["message_id"]]
    told = last_to(api, USER, since=mark)["text"]
    assert told.startswith("Я передал ваш вопрос человеку") and told.endswith("#1")
    runner.stop()
    db = sqlite_utils.Database(db_path)
    assert [(q["reason"], q["user_message_id"]) for q in db["questions"].rows] == [("human", sent["message_id"])]
    assert list(db.query("select * from awaiting_human")) == []


def test_a_sticker_after_human_is_not_the_question(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """A sticker says nothing a person could answer: the bot still reads
    text only, and the next message is the question."""
    run_bot()
    api.push_text(USER, "/human", language_code="ru")
    last_to(api, USER)
    mark = api.checkpoint()
    api.push_sticker(USER)
    assert last_to(api, USER, since=mark)["text"].startswith("Я понимаю только текст")
    mark = api.checkpoint()
    api.push_text(USER, "мне нужен юрист по моему делу", language_code="ru")
    assert api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m.get("text", "").startswith("❓ #1 · ru · human"))


def test_an_album_in_reply_to_an_operator_is_one_follow_up(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """An album sent back to an operator was a follow-up per photo: a 💬
    post and a receipt each.  It is one follow-up, its caption the text,
    its photos after it, and one receipt; an album with no caption, the same."""
    runner = run_bot()
    copied = operator_answered(api, "Пришлите фото документов")
    for group, caption in (("album-1", "вот документы"), ("album-2", None)):
        mark = api.checkpoint()
        photos = album(api, group, photos=3, caption=caption, reply_to_message_id=copied["message_id"])
        assert copied_to_operators(api, 3, since=mark) == [p["message_id"] for p in photos]
        receipt = last_to(api, USER, since=mark)
        assert receipt["text"].startswith("Отправлено человеку") and receipt["text"].endswith("#1")
        time.sleep(0.5)  # anything more would have been said by now
        assert len(api.sent_messages(USER, since=mark)) == 1
        sent = api.sent_messages(OPERATORS, since=mark)
        assert [m["text"].split("\n\n")[:2] for m in sent if "text" in m] == [["💬 #1 · ru · follow-up", caption or "(photo)"]]
        assert sent[0].get("text", "").startswith("💬 #1") and len(sent) == 4  # the follow-up, then its photos
    runner.stop()
    db = sqlite_utils.Database(db_path)
    assert db.execute("select count(*) from outbox where kind = 'operator_post'").fetchone()[0] == 3  # the question and two follow-ups


def test_an_album_answered_by_an_operator_is_acknowledged_once(api: FakeBotAPI, run_bot: Any, db_path: Any) -> None:
    """An operator's album in reply to a question's post: every photo is
    copied to the user, one ✅ says so (there had been one per photo), and
    the answer kept is the album's caption."""
    run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    mark = api.checkpoint()
    photos = [
        api.push_photo(OPERATORS, caption="Смотрите курс здесь" if n == 0 else None, media_group_id="answer-album",
                       chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
        for n in range(3)
    ]
    copies = api.wait_for_call("copyMessage", count=3, since=mark, predicate=lambda c: c.params.get("chat_id") == USER, timeout=10)
    assert [c.params["message_id"] for c in copies] == [p["message_id"] for p in photos]
    api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m.get("text", "").startswith("✅ #1"))
    time.sleep(0.5)  # more would have been said by now
    acks = [m for m in api.sent_messages(OPERATORS, since=mark) if m.get("text", "").startswith("✅")]
    assert len(acks) == 1 and acks[0]["reply_to_message"]["message_id"] == photos[0]["message_id"]
    row = sqlite_utils.Database(db_path).execute("select status, answer from questions where id = 1").fetchone()
    assert row == ("answered", "Смотрите курс здесь")
