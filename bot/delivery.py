"""Sending with nothing lost: direct sends, and an outbox for the rest.

Replies to users are sent at once (that is what keeps latency low); if the
Bot API fails with something worth retrying (429, 5xx, network) the message
goes to the outbox in SQLite and a background task delivers it later, also
after a restart.  Everything for operators — and operators' answers for
users — goes through the outbox from the start, because those must arrive
exactly once even when the process dies: the row is written before any
attempt and marked sent right after Telegram accepts it.

A user who blocked the bot (403) is marked so and never retried; a 429
waits for Telegram's `retry_after`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message, ReplyParameters
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from .store import OutboxItem, Store

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 300.0
MAX_BAD_REQUEST_ATTEMPTS = 3


def _retry_after_seconds(exc: RetryAfter) -> float:
    value: Any = exc.retry_after
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value)


def _reply_params(message_id: int | None) -> ReplyParameters | None:
    if not message_id:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


class Delivery:
    """Owns every outgoing message that must not be lost."""

    def __init__(self, bot: Bot, store: Store, operator_chat_id: int | None, *, tick_s: float = 1.0):
        self.bot = bot
        self.store = store
        self.operator_chat_id = operator_chat_id
        self.tick_s = tick_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    # --- direct sends with fallback --------------------------------------

    async def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
    ) -> Message | None:
        """Send now; on a transient failure queue it and return None."""
        try:
            return await self.bot.send_message(
                chat_id, text, reply_markup=reply_markup, reply_parameters=_reply_params(reply_to)
            )
        except Forbidden:
            self.store.mark_blocked(chat_id)
            return None
        except RetryAfter as exc:
            wait = _retry_after_seconds(exc)
        except BadRequest:
            raise
        except NetworkError as exc:  # includes TimedOut and 5xx
            log.warning("send to a user failed (%s); queued for retry", type(exc).__name__)
            wait = 1.0
        payload = {"text": text, "reply_to": reply_to, "reply_markup": reply_markup.to_dict() if reply_markup else None}
        item_id = self.store.enqueue("text", chat_id, payload)
        self.store.outbox_retry(item_id, time.time() + wait, "first attempt failed")
        self.kick()
        return None

    def enqueue(self, kind: str, chat_id: int, payload: dict[str, Any], qid: int | None = None) -> None:
        self.store.enqueue(kind, chat_id, payload, qid)
        self.kick()

    # --- the outbox worker -------------------------------------------------

    def kick(self) -> None:
        """Wake the worker now instead of at the next tick."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="jardam-outbox")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.flush()
            except asyncio.CancelledError:
                raise
            except Exception:  # the worker must outlive any one failure
                log.exception("outbox pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.tick_s)
            self._wake.clear()

    async def flush(self) -> int:
        """Deliver every item that is due; return how many were sent."""
        sent = 0
        async with self._lock:
            while True:
                items = self.store.due_outbox(time.time())
                if not items:
                    return sent
                progressed = False
                for item in items:
                    if await self._attempt(item):
                        sent += 1
                        progressed = True
                if not progressed:
                    return sent

    async def _attempt(self, item: OutboxItem) -> bool:
        if self.store.is_blocked(item.chat_id):
            self.store.outbox_drop(item.id, "user blocked the bot")
            return False
        try:
            message_id = await self._send(item)
        except Forbidden as exc:
            self.store.mark_blocked(item.chat_id)
            self.store.outbox_drop(item.id, f"forbidden: {exc.message}")
            return False
        except RetryAfter as exc:
            self.store.outbox_retry(item.id, time.time() + _retry_after_seconds(exc), "429 retry after")
            return False
        except BadRequest as exc:
            if item.attempts + 1 >= MAX_BAD_REQUEST_ATTEMPTS:
                log.error("outbox item %s dropped: %s", item.id, exc.message)
                self.store.outbox_drop(item.id, f"bad request: {exc.message}")
            else:
                self.store.outbox_retry(item.id, time.time() + 2.0, f"bad request: {exc.message}")
            return False
        except (NetworkError, TelegramError) as exc:
            backoff = min(MAX_BACKOFF_S, 2.0 ** min(item.attempts, 9))
            self.store.outbox_retry(item.id, time.time() + backoff, f"{type(exc).__name__}: {exc}")
            return False
        self.store.outbox_sent(item.id, message_id)
        await self._after_sent(item, message_id)
        return True

    async def _send(self, item: OutboxItem) -> int:
        p = item.payload
        if item.kind in {"text", "operator_post"}:
            markup = InlineKeyboardMarkup.de_json(p["reply_markup"], self.bot) if p.get("reply_markup") else None
            msg = await self.bot.send_message(
                item.chat_id, p["text"], reply_markup=markup, reply_parameters=_reply_params(p.get("reply_to"))
            )
            return msg.message_id
        if item.kind == "copy":
            copied = await self.bot.copy_message(
                item.chat_id, p["from_chat_id"], p["message_id"], reply_parameters=_reply_params(p.get("reply_to"))
            )
            return copied.message_id
        raise BadRequest(f"unknown outbox kind {item.kind!r}")

    async def _after_sent(self, item: OutboxItem, message_id: int) -> None:
        """Remember which sent message belongs to which question."""
        if item.question_id is None:
            return
        if item.kind in {"operator_post", "copy"}:
            # Operators reply to posts; users reply to copied answers.
            self.store.link_message(item.chat_id, message_id, item.question_id)
        ack = item.payload.get("ack")
        if ack and self.operator_chat_id is not None:
            self.store.enqueue("text", self.operator_chat_id, {"text": ack, "reply_to": item.payload.get("ack_reply_to")})
            self.kick()
