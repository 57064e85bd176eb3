"""The operators' group as Telegram may treat it: the bot removed from it
for a while, the group upgraded to a supergroup, answers that cannot reach
the user, posts Telegram refuses, replies the bot cannot route.  The real
bot against the fake Bot API; assertions on what the operators and the
users receive and on what the database holds."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import sqlite_utils

from bot.fakebotapi import FakeBotAPI

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
