"""A photo or document with the question written under it is a question;
a photo sent back to an operator reaches the operators."""

from __future__ import annotations

from typing import Any

from bot.fakebotapi import FakeBotAPI

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


def test_a_photo_in_reply_to_an_operator_reaches_the_operators(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    api.push_text(OPERATORS, "Пришлите фото документа", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    copied = api.wait_for_sent(chat_id=USER, predicate=lambda m: m.get("text", "").startswith("Пришлите"))[0]
    api.wait_for_sent(chat_id=OPERATORS, predicate=lambda m: m.get("text", "").startswith("✅ #1"))  # linked by then
    mark = api.checkpoint()
    photo = api.push_photo(USER, language_code="ru", reply_to_message_id=copied["message_id"])
    follow = api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: m.get("text", "").startswith("💬 #1"))[0]
    assert "(photo)" in follow["text"]
    copy = api.wait_for_call("copyMessage", since=mark, predicate=lambda c: c.params.get("chat_id") == OPERATORS)[0]
    assert copy.params["from_chat_id"] == USER and copy.params["message_id"] == photo["message_id"]
    assert api.wait_for_sent(chat_id=OPERATORS, since=mark, predicate=lambda m: "photo" in m)
    assert last_to(api, USER, since=mark)["text"].startswith("Отправлено человеку")


def test_a_photo_sent_back_has_its_caption_masked_for_the_operators(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    api.push_text(OPERATORS, "Пришлите фото паспорта", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    copied = api.wait_for_sent(chat_id=USER, predicate=lambda m: m.get("text", "").startswith("Пришлите"))[0]
    api.wait_for_sent(chat_id=OPERATORS, predicate=lambda m: m.get("text", "").startswith("✅ #1"))
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
