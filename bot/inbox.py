"""The durable inbox: every update kept in SQLite from arrival until handled.

python-telegram-bot confirms fetched updates to Telegram (the next
getUpdates offset) as soon as they are queued, long before they are
handled: without the inbox, a crash would lose every update still queued or
in progress.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections import OrderedDict
from typing import Any

from telegram import Bot, Update
from telegram.request import BaseRequest, RequestData

from .store import Store

log = logging.getLogger(__name__)

# Updates fetched and not yet queued are few (one getUpdates answer, at
# most 100); this bounds the copies kept should some never be queued.
_MAX_KEPT = 1000


class UpdatesRequest(BaseRequest):
    """The getUpdates request, keeping each update's JSON as Telegram sent it.

    The inbox stores that text rather than `Update.to_json()`, which walks
    every object of the update in Python (~7 % of the bot's CPU per message
    under load).  It is also the more faithful copy to replay.  Everything else is the wrapped request's.
    """

    def __init__(self, inner: BaseRequest):
        self.inner = inner
        self._kept: OrderedDict[int, str] = OrderedDict()

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        return await self.inner.do_request(url, method, request_data, *args, **kwargs)

    # The base declares it static, yet calls it on the instance
    # (`self.parse_json_payload`) and documents overriding it.
    def parse_json_payload(self, payload: bytes) -> dict[str, Any]:  # type: ignore[override]
        """The answer, as python-telegram-bot parses it; each update in it kept as JSON text."""
        data = super().parse_json_payload(payload)
        result = data.get("result") if isinstance(data, dict) else None
        if isinstance(result, list):
            for item in result:
                if isinstance(item, dict) and isinstance(item.get("update_id"), int):
                    self._kept[item["update_id"]] = json.dumps(item)
            while len(self._kept) > _MAX_KEPT:
                self._kept.popitem(last=False)
        return data

    def take(self, update_id: int) -> str | None:
        """The update's JSON as received, once (None: not fetched here, e.g. a webhook's)."""
        return self._kept.pop(update_id, None)


class DurableUpdateQueue(asyncio.Queue[object]):
    """The application's update queue, written through to the inbox table.

    Each update is stored before it is queued (in webhook mode too, before
    Telegram gets its 200), `Store.mark_update_handled` removes it, and the
    next start replays what is left.
    """

    def __init__(self, store: Store, fetched: UpdatesRequest | None = None):
        super().__init__()
        self.store = store
        self.fetched = fetched

    async def put(self, item: object) -> None:
        if isinstance(item, Update):
            payload = self.fetched.take(item.update_id) if self.fetched else None
            try:
                fresh = self.store.inbox_add(item.update_id, payload or item.to_json())
            except sqlite3.Error as exc:
                log.error("cannot store an incoming update, handling it anyway: %s", exc)
                fresh = True
            if not fresh:
                return  # already queued from the inbox, or already handled
        await super().put(item)

    async def replay(self, bot: Bot) -> int:
        """Queue the updates received before a crash and never handled."""
        try:
            pending = self.store.inbox_pending()
        except sqlite3.Error as exc:
            log.error("cannot read the inbox: %s", exc)
            return 0
        for payload in pending:
            await super().put(Update.de_json(json.loads(payload), bot))
        return len(pending)
