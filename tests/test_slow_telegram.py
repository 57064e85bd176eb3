"""Telegram that takes a message and answers late: the message is not sent again."""

from __future__ import annotations

import time
from typing import Any

from bot.fakebotapi import FakeBotAPI

from .test_telegram import USER, last_to


def test_a_reply_telegram_answers_late_is_sent_once(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    release = api.hold("sendMessage")
    api.push_text(USER, "как проверить запрет на въезд", language_code="ru")
    time.sleep(6.5)  # past the HTTP client's default read timeout (5 s)
    release.set()
    assert "📚 Источники" in last_to(api, USER)["text"]
    time.sleep(3)  # a resend from the outbox would come after 1 s
    assert len(api.sent_messages(USER)) == 1
