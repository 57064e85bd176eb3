"""The durable inbox keeps each update as Telegram sent it, fetched over real
HTTP from the fake Bot API on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

from telegram import Bot

from bot.fakebotapi import FakeBotAPI
from bot.httpclient import StreamRequest
from bot.inbox import DurableUpdateQueue, UpdatesRequest
from bot.store import Store

TOKEN = "123456:TEST-token-never-real"
USER = 4242


def _inbox(db_path: Path) -> dict[int, dict[str, object]]:
    with sqlite3.connect(db_path) as conn:
        return {uid: json.loads(payload) for uid, payload in conn.execute("SELECT update_id, payload FROM inbox")}


def test_fetched_updates_are_stored_as_received(api: FakeBotAPI, db_path: Path) -> None:
    # A field python-telegram-bot does not model: kept in the copy as sent.
    sent = api.push_update({"message": {
        "message_id": 7, "date": 1_700_000_000, "text": "патент канча турат",
        "chat": {"id": USER, "type": "private"}, "from": {"id": USER, "is_bot": False, "first_name": "A"},
        "future_field": {"nested": [1, 2]},
    }})
    fetched = UpdatesRequest(StreamRequest(1))
    store = Store(db_path)

    async def main() -> None:
        bot = Bot(TOKEN, base_url=api.base_url, get_updates_request=fetched)
        async with bot:
            updates = await bot.get_updates(timeout=0)
            queue = DurableUpdateQueue(store, fetched)
            for update in updates:
                await queue.put(update)
            assert queue.qsize() == 1
            # Queued twice (a replay racing a fetch): stored and queued once.
            await queue.put(updates[0])
            assert queue.qsize() == 1

    asyncio.run(main())
    assert _inbox(db_path) == {sent["update_id"]: sent}
    assert fetched.take(sent["update_id"]) is None  # handed over once, not kept


def test_updates_not_fetched_here_are_stored_as_python_telegram_bot_writes_them(api: FakeBotAPI, db_path: Path) -> None:
    """A webhook's updates never pass through `UpdatesRequest`: the inbox
    falls back to `Update.to_json`, and the replay reads either."""
    sent = api.push_text(USER, "how do I check an entry ban", language_code="en")
    store = Store(db_path)

    async def main() -> None:
        bot = Bot(TOKEN, base_url=api.base_url, get_updates_request=StreamRequest(1))
        async with bot:
            (update,) = await bot.get_updates(timeout=0)
            await DurableUpdateQueue(store, UpdatesRequest(StreamRequest(1))).put(update)
            replayed = DurableUpdateQueue(store)
            assert await replayed.replay(bot) == 1
            again = replayed.get_nowait()
            assert again == update and again.message.text == sent["text"]

    asyncio.run(main())
    (stored,) = _inbox(db_path).values()
    assert stored["message"]["text"] == sent["text"]
