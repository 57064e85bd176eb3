"""Sending with nothing lost: direct sends, and an outbox for the rest.

Replies to users are sent at once (that is what keeps latency low); if the
Bot API fails with something worth retrying (429, 5xx, network) the message
goes to the outbox in SQLite and a background task delivers it later, also
after a restart.  Everything for operators — and operators' answers for
users — goes through the outbox from the start, because those must arrive
exactly once even when the process dies: the row is written before any
attempt and marked sent right after Telegram accepts it.

The outbox is delivered in lanes, several at once: a lane gets its messages
in the order they were queued, one at a time (a later one waits while an
earlier one is retried), and up to `CONCURRENCY` lanes are sent to in
parallel.  A user's chat is one lane.  In the operators' group each question
is one (its post, follow-ups and acknowledgements in order): posts about
different questions need no order, and one post retried after a 5xx must
not hold up every other.  A 429's `retry_after` holds the whole chat it
came for (Telegram's flood limits are per chat), and no other.  Users'
chats come before the operators' group, so a backlog of posts to operators
never delays a user's reply.

A user who blocked the bot (403) is marked so and never retried.  A 403
from a group is not a user blocking the bot: the bot was removed from it
(or lost the right to post).  In the operators' group that is an ERROR for
the admin and the posts wait, retried with backoff, until the bot is back;
marked blocked, the group would lose every later post for good.

A group upgraded to a supergroup has a new id (Telegram answers with it,
`ChatMigrated`, and says so in the group itself: `chat_migrated` is called
from the handlers too): that is an ERROR naming the new id, for the admin
to set `OPERATOR_CHAT_ID`; until then the pending messages are moved to
the new id and this run sends there (`on_migrated` tells the handlers).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import sqlite3
import time
import warnings
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, ReplyParameters
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from .store import Clarification, OutboxItem, Store

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 300.0
MAX_BAD_REQUEST_ATTEMPTS = 3
# A deletion Telegram cannot make for a while is given up after this many
# tries (~17 minutes of backoff): the post will soon be past its 48 hours.
MAX_DELETE_ATTEMPTS = 10
# Lanes sent to at once.  The outbox shares the bot's HTTP connection pool
# (40, see `build_application`) with the handlers (32 updates at a time):
# with 4 the handlers' replies never wait for a connection because of the
# outbox, and 4 sends in flight at ~200 ms each still make 20 a second,
# more than Telegram lets a bot send to one group in a minute.
CONCURRENCY = 4
# How long a send may wait for Telegram's answer before it counts as failed
# (and is sent again from the outbox).  Telegram that took the message and
# answers late would otherwise get it twice: at the client's 5 s, a slow
# moment of Telegram's gave users doubled replies.  A late answer costs a
# handler slot for that long instead; a send that fails outright still
# fails at once.
SEND_READ_TIMEOUT_S = 30.0
# The HTTP client's timeouts for every Bot API call but `getUpdates`
# (`telegram_app.build_application`): a free connection, connecting, writing
# the request, Telegram's answer.
SEND_TIMEOUTS = {"pool_timeout": 1.0, "connect_timeout": 5.0, "write_timeout": 5.0, "read_timeout": SEND_READ_TIMEOUT_S}
# The longest a send can take, each of those at its limit (41 s).
SEND_TIMEOUT_S = sum(SEND_TIMEOUTS.values())
# At shutdown, sends under way are let finish or time out on their own, and
# be recorded: given up on sooner, one Telegram had taken (and was slow to
# answer) would stay pending and go again at the next start, a double.  The
# stop waits for them up to the longest a send can take and this margin
# (for recording it); see "Stopping" in the README.
STOP_MARGIN_S = 2.0

# Called with (old chat id, new chat id) when the operators' group has moved.
OnMigrated = Callable[[int, int], None]
# A lane: (chat id, question id in the operators' group, else 0).
Lane = tuple[int, int]


def _retry_after_seconds(exc: RetryAfter) -> float:
    value: Any = exc.retry_after
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(value)


def _reply_params(message_id: int | None) -> ReplyParameters | None:
    if not message_id:
        return None
    return ReplyParameters(message_id=message_id, allow_sending_without_reply=True)


@lru_cache(maxsize=1024)
def markup_json(markup: InlineKeyboardMarkup) -> str:
    """A keyboard as the Bot API takes it, JSON, made once per keyboard.

    python-telegram-bot makes it for every message it sends (`to_dict`
    walks every button in Python: ~55 µs for an answer's keyboard), and a
    string parameter it passes on as it is: the request is the same.  The
    bot sends the same few hundred keyboards again and again (the answers'
    are made once, in `keyboards`; others are found here by equality)."""
    return json.dumps(markup.to_dict())


# `send_message` below goes through `Bot.do_api_request`, which warns that
# `Bot.send_message` exists: it is passed over on purpose.
warnings.filterwarnings("ignore", message=r"Please use 'Bot\.sendMessage' instead", category=PTBUserWarning)


async def send_message(
    bot: Bot,
    chat_id: int,
    text: str,
    reply_markup: InlineKeyboardMarkup | dict[str, Any] | None = None,
    reply_to: int | None = None,
) -> int:
    """Send a text; the sent message's id.  `reply_markup` may be a
    keyboard's dict, as the outbox keeps it.

    Through `Bot.do_api_request` rather than `Bot.send_message`, which turns
    Telegram's answer into a `Message` (and its keyboard into buttons): some
    160 µs of Python per reply, when all that is used of it is the id (end
    to end, 1.61 against 1.86 ms of the bot's CPU per message).  The
    request, its errors (`Forbidden`, `RetryAfter`, …) and its timeouts are
    the same."""
    markup = markup_json(reply_markup) if isinstance(reply_markup, InlineKeyboardMarkup) else reply_markup
    sent = await bot.do_api_request(
        "sendMessage",
        api_kwargs={"chat_id": chat_id, "text": text, "reply_markup": markup, "reply_parameters": _reply_params(reply_to)},
    )
    return int(sent["message_id"])


def _retry_deletion(item: OutboxItem, exc: TelegramError) -> bool:
    """Whether a deletion (`Store.forget_user`) is worth another try: while
    Telegram is busy (429) or out of reach (5xx, timeouts), a few times.
    Anything else it says is final: the post is gone already, past its 48
    hours, or in a group that has moved (a supergroup now) or that the bot
    has left; retried, it would wait in the outbox for ever."""
    if isinstance(exc, RetryAfter):
        return True
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest) and item.attempts + 1 < MAX_DELETE_ATTEMPTS


# What Telegram says when it is a message's text it cannot take (rather
# than the chat): a question's post is then replaced by a short one.
_TEXT_REFUSALS = ("too long", "can't parse", "text must be non-empty", "message text is empty")


def refuses_the_text(exc: BadRequest) -> bool:
    """Whether a 400 is about the message's text, not the chat or the bot's rights."""
    message = exc.message.lower()
    return any(refusal in message for refusal in _TEXT_REFUSALS)


def is_private(chat_id: int) -> bool:
    """Whether a chat id is a private chat's: Telegram gives those the
    user's id (positive), groups, supergroups and channels negative ones.
    Only there does a 403 mean that a person blocked the bot."""
    return chat_id > 0


class Delivery:
    """Owns every outgoing message that must not be lost."""

    def __init__(
        self,
        bot: Bot,
        store: Store,
        operator_chat_id: int | None,
        *,
        tick_s: float = 1.0,
        concurrency: int = CONCURRENCY,
        on_migrated: OnMigrated | None = None,
        send_timeout_s: float = SEND_TIMEOUT_S,
    ):
        """`send_timeout_s`: the longest a send through `bot` can take (its
        HTTP client's timeouts together); `stop` waits that long, and
        `STOP_MARGIN_S`, for the sends under way."""
        self.bot = bot
        self.store = store
        self.operator_chat_id = operator_chat_id
        self.tick_s = tick_s
        self.concurrency = max(1, concurrency)
        self.stop_grace_s = send_timeout_s + STOP_MARGIN_S
        self.on_migrated = on_migrated
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        # Attempts under way by outbox id, and their lanes: a row in flight is
        # never handed out again, and a lane has one attempt at a time.
        self._inflight: dict[int, asyncio.Task[bool]] = {}
        self._busy_lanes: set[Lane] = set()
        # Chats Telegram told to wait (429), until when.
        self._held_until: dict[int, float] = {}
        # Rows Telegram accepted that the database could not mark sent (disk
        # full, read-only), by id, with their lane and message id: kept from
        # being sent again, and their lanes held, until marked.
        self._unmarked: dict[int, tuple[OutboxItem, int]] = {}

    # --- direct sends with fallback --------------------------------------

    async def send_text(
        self,
        chat_id: int,
        text: str,
        *,
        reply_markup: InlineKeyboardMarkup | None = None,
        reply_to: int | None = None,
        asked: str | None = None,
        clarification: Clarification | None = None,
        question_id: int | None = None,
    ) -> int | None:
        """Send now and return the sent message's id; on a transient failure
        queue it and return None.

        A chat Telegram told to wait (429) is not tried before its time:
        the text is queued.  `asked`, for a reply, is what the user asked
        that it answers: kept for the reply's buttons (`Store.reply_text`)
        once it is sent, now, or by the outbox, which keeps it with the
        queued reply (after a restart too).  `clarification`, for a "did
        you mean", is its record for the review, written under the sent
        message's id the same way: now, or by the outbox, which keeps it
        with the queued reply (`Store.outbox_sent`).  `question_id`, for a
        hand-off's confirmation, is its question: the sent message is linked
        to it, now or by the outbox, so that the user's reply to it (details
        added) goes to the operators under it, as a reply to an answer does.
        """
        # What the outbox keeps of it, should it be queued (made only then:
        # `to_dict` walks every button in Python).
        def payload() -> dict[str, Any]:
            return {"text": text, "reply_to": reply_to, "reply_markup": reply_markup.to_dict() if reply_markup else None}

        held = self._held_until.get(chat_id, 0.0) - time.time()
        if held > 0:
            self._queue_retry(chat_id, payload(), held, "chat waiting after a 429", asked, clarification, question_id)
            return None
        try:
            sent = await send_message(self.bot, chat_id, text, reply_markup, reply_to)
        except Forbidden as exc:
            if is_private(chat_id):
                self.store.mark_blocked(chat_id)
            else:
                log.error("Telegram refused a message to the group %s (403: %s): is the bot still a member?", chat_id, exc.message)
            return None
        except RetryAfter as exc:
            wait = _retry_after_seconds(exc)
            self._hold(chat_id, wait)
        except ChatMigrated as exc:
            chat_id = self.chat_migrated(chat_id, exc.new_chat_id)
            wait = 0.0
        except BadRequest:
            raise
        except NetworkError as exc:  # includes TimedOut and 5xx
            log.warning("send to a user failed (%s); queued for retry", type(exc).__name__)
            wait = 1.0
        else:
            if asked is not None:
                self._remember_reply(chat_id, sent, asked)
            if clarification is not None:
                self._record_clarification(chat_id, sent, clarification)
            if question_id is not None:
                self._link(chat_id, sent, question_id)
            return sent
        self._queue_retry(chat_id, payload(), wait, "first attempt failed", asked, clarification, question_id)
        return None

    def _remember_reply(self, chat_id: int, message_id: int, asked: str) -> None:
        """What a reply sent now answered, for its buttons; a database that
        refuses the write costs the buttons the text, not the reply."""
        try:
            self.store.remember_reply(chat_id, message_id, asked)
        except sqlite3.Error as exc:
            log.error("database write failed (remember_reply): %s", exc)

    def _link(self, chat_id: int, message_id: int, question_id: int) -> None:
        """A hand-off's confirmation sent now, linked to its question; a
        database that refuses the write costs a reply to it its way to the
        operators (it is answered as a new message), not the confirmation."""
        try:
            self.store.link_message(chat_id, message_id, question_id)
        except sqlite3.Error as exc:
            log.error("database write failed (link_message): %s", exc)

    def _record_clarification(self, chat_id: int, message_id: int, clarification: Clarification) -> None:
        """A "did you mean" sent now, for the review; a database that
        refuses the write costs the review the record, not the reply."""
        try:
            self.store.add_clarification(
                chat_id=chat_id, message_id=message_id, lang=clarification.lang, text=clarification.text, candidates=clarification.candidates
            )
        except sqlite3.Error as exc:
            log.error("database write failed (add_clarification): %s", exc)

    def _queue_retry(
        self,
        chat_id: int,
        payload: dict[str, Any],
        wait: float,
        why: str,
        asked: str | None = None,
        clarification: Clarification | None = None,
        question_id: int | None = None,
    ) -> None:
        """Queue a text that could not be sent now, due in `wait` seconds;
        with it what the user asked, if it is a reply, its record, if it
        is a "did you mean", and its question, if it is a hand-off's
        confirmation (see `send_text`)."""
        item_id = self.store.enqueue("text", chat_id, payload, question_id, asked=asked, clarification=clarification)
        self.store.outbox_retry(item_id, time.time() + wait, why)
        self.kick()

    def enqueue(self, kind: str, chat_id: int, payload: dict[str, Any], qid: int | None = None) -> None:
        self.store.enqueue(kind, chat_id, payload, qid)
        self.kick()

    def enqueue_for_update(self, update_id: int, *items: tuple[str, int, dict[str, Any], int | None]) -> None:
        """Queue what an update asks to send, and mark it handled, at once
        (`Store.enqueue_for_update`)."""
        self.store.enqueue_for_update(update_id, items)
        self.kick()

    # --- the outbox worker -------------------------------------------------

    def kick(self) -> None:
        """Wake the worker now instead of at the next tick."""
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="jardam-outbox")

    async def stop(self) -> None:
        """Take no new items; let sends under way finish, so they are marked
        sent, or time out on their own, so they are retried: for as long as a
        send can take (`stop_grace_s`), after which one still under way (a
        client that does not keep its timeouts) is abandoned, to go again at
        the next start.

        The worker is told to stop by a flag as well as cancelled: on Python
        3.11 `asyncio.wait_for` can swallow a cancellation that arrives as
        the awaited event is set (CPython gh-86296), and a worker that missed
        its cancel kept `stop()` waiting for ever.
        """
        self._stopping = True
        if self._task:
            worker, self._task = self._task, None
            self.kick()
            worker.cancel()
            await asyncio.wait([worker])  # unlike `await worker`, leaves stop()'s own cancellation alone
        if self._inflight:
            _, late = await asyncio.wait(list(self._inflight.values()), timeout=self.stop_grace_s)
            if late:
                log.warning("%d sends still under way after %.0f s abandoned at shutdown; they go again at the next start", len(late), self.stop_grace_s)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            wait = self.tick_s
            try:
                wait = self._dispatch()
            except asyncio.CancelledError:
                raise
            except Exception:  # the worker must outlive any one failure
                log.exception("outbox pass failed")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def flush(self) -> int:
        """Deliver everything due now and wait for it; return how many were sent.

        The worker does the same by itself; this is for tests and tools
        that need the outbox empty of due items before going on.
        """
        sent = 0
        while True:
            self._dispatch()
            if not self._inflight:
                return sent
            done, _ = await asyncio.wait(list(self._inflight.values()), return_when=asyncio.FIRST_COMPLETED)
            sent += sum(1 for t in done if not t.cancelled() and t.exception() is None and t.result())

    def _dispatch(self) -> float:
        """Start an attempt for each lane whose next item is due, users first.

        Synchronous on purpose: between reading the due items and recording
        them as in flight nothing else runs, so no row is handed out twice.
        Returns how long the worker may sleep before an item falls due.
        """
        self._mark_unmarked()
        free = self.concurrency - len(self._inflight)
        if free <= 0:
            return self.tick_s  # a finishing attempt wakes the worker
        now = time.time()
        held = self._held_chats(now)
        waiting = self._busy_lanes | {self._lane(item) for item, _ in self._unmarked.values()}
        heads = self.store.due_outbox(
            now, limit=free + len(waiting), operator_chat_id=self.operator_chat_id, skip_chats=held
        )
        for item in heads:
            if free == 0:
                return self.tick_s  # more is due: a finishing attempt wakes the worker
            if self._lane(item) in waiting or item.id in self._inflight:
                continue
            self._launch(item)
            free -= 1
        next_due = self.store.outbox_next_due(now)
        wake_at = [t for t in (next_due, *self._held_until.values()) if t is not None]
        return min([self.tick_s, *(max(0.0, t - now) for t in wake_at)])

    def _lane(self, item: OutboxItem) -> Lane:
        """The lane an item is ordered in (as `Store.due_outbox` orders them)."""
        if item.chat_id != self.operator_chat_id:
            return (item.chat_id, 0)
        return (item.chat_id, item.question_id if item.question_id is not None else -item.id)

    def _hold(self, chat_id: int, seconds: float) -> None:
        """Send nothing to this chat for a while (Telegram's 429 `retry_after`)."""
        until = time.time() + seconds
        self._held_until[chat_id] = max(until, self._held_until.get(chat_id, 0.0))

    def _held_chats(self, now: float) -> set[int]:
        """The chats still waiting after a 429 (forgetting those whose wait is over)."""
        for chat_id in [c for c, until in self._held_until.items() if until <= now]:
            del self._held_until[chat_id]
        return set(self._held_until)

    def _launch(self, item: OutboxItem) -> None:
        # The lane as it is now: freed as it was taken, even if the
        # operators' group moves (`chat_migrated`) during the attempt.
        lane = self._lane(item)
        self._busy_lanes.add(lane)
        task = asyncio.create_task(self._attempt(item), name=f"jardam-outbox-{item.id}")
        self._inflight[item.id] = task
        task.add_done_callback(lambda done: self._landed(item, lane, done))

    def _landed(self, item: OutboxItem, lane: Lane, task: asyncio.Task[bool]) -> None:
        """An attempt ended: free its lane and its slot, and look for more.

        An attempt whose outcome could not be recorded (the database refused
        the write) leaves its row due: it is tried again at the next tick,
        not at once, so a read-only database does not turn into a busy loop.
        """
        self._inflight.pop(item.id, None)
        self._busy_lanes.discard(lane)
        if task.cancelled():
            return
        if task.exception() is not None:
            log.error("outbox item %s: attempt failed: %s", item.id, task.exception())
            return
        self.kick()

    # --- one attempt ---------------------------------------------------------

    async def _attempt(self, item: OutboxItem) -> bool:
        """Send one item; on failure drop it or schedule its next attempt."""
        if is_private(item.chat_id) and self.store.is_blocked(item.chat_id):
            self._drop(item, "user blocked the bot")
            return False
        try:
            message_id = await self._send(item)
        except TelegramError as exc:
            self._failed(item, exc)
            return False
        except Exception as exc:  # not Telegram's answer: retry later rather than at once, forever
            log.exception("outbox item %s could not be sent", item.id)
            self._retry_later(item, f"{type(exc).__name__}: {exc}")
            return False
        if self._mark_sent(item, message_id):
            self.kick()  # the acknowledgement, if any
        return True

    def _failed(self, item: OutboxItem, exc: TelegramError) -> None:
        """What a failure means for this item (and, through their order, for the items behind it)."""
        if item.kind == "delete" and not _retry_deletion(item, exc):
            log.info("outbox item %s: a post could not be deleted: %s", item.id, exc)
            self._drop(item, f"{type(exc).__name__}: {exc}")
        elif isinstance(exc, Forbidden) and item.chat_id == self.operator_chat_id:
            log.error(
                "the operators' group %s refused a post (403: %s): add the bot back to the group (with the right to post); "
                "the posts wait and are retried",
                item.chat_id,
                exc.message,
            )
            self._retry_later(item, f"forbidden: {exc.message}")
        elif isinstance(exc, Forbidden):
            if is_private(item.chat_id):
                self.store.mark_blocked(item.chat_id)
            self._drop(item, f"forbidden: {exc.message}")
        elif isinstance(exc, ChatMigrated) and is_private(item.chat_id):
            # A copy to a user from a group that moved: it is the source
            # that moved, and its message ids with it; the operator is told
            # (`_drop`) to answer again from the new group.
            self.chat_migrated(int(item.payload.get("from_chat_id", 0)), exc.new_chat_id)
            self._drop(item, "the operators' group moved to a new id; answer again there")
        elif isinstance(exc, ChatMigrated):  # not a BadRequest: retried as it was, it would fail for ever
            self.chat_migrated(item.chat_id, exc.new_chat_id)
        elif isinstance(exc, RetryAfter):  # a chat's flood limit: the whole chat waits, others go on
            wait = _retry_after_seconds(exc)
            self._hold(item.chat_id, wait)
            self.store.outbox_retry(item.id, time.time() + wait, "429 retry after")
        elif isinstance(exc, BadRequest) and item.kind == "operator_post" and refuses_the_text(exc) and not item.payload.get("short"):
            self._post_short(item, exc.message)
        elif isinstance(exc, BadRequest) and item.chat_id == self.operator_chat_id:
            # Not the text: the group itself ("not enough rights to send
            # text messages", "chat not found").  The admin's to mend, as a
            # 403 is; meanwhile the posts wait rather than being dropped.
            log.error("the operators' group %s refused a post (400: %s); the posts wait and are retried", item.chat_id, exc.message)
            self._retry_later(item, f"bad request: {exc.message}")
        elif isinstance(exc, BadRequest):
            if item.attempts + 1 >= MAX_BAD_REQUEST_ATTEMPTS:
                log.error("outbox item %s dropped: %s", item.id, exc.message)
                self._drop(item, f"bad request: {exc.message}")
            else:
                self.store.outbox_retry(item.id, time.time() + 2.0, f"bad request: {exc.message}")
        else:  # NetworkError (5xx, timeouts) and anything else Telegram says
            self._retry_later(item, f"{type(exc).__name__}: {exc}")

    def _post_short(self, item: OutboxItem, reason: str) -> None:
        """A question's post Telegram refused (too long, a text it cannot
        take): a hand-off is never lost for its text, so a short post takes
        its place, with the reference operators reply to (`REF_RE`) and the
        reason; the question's text is in the database (`/open`, review)."""
        log.warning("outbox item %s: Telegram refused a post to operators (%s); sending a short one", item.id, reason)
        marker = "💬" if str(item.payload.get("text", "")).startswith("💬") else "❓"
        qid = item.question_id
        text = f"{marker} #{qid} · (text could not be shown: {reason})\n\n↩️ Reply to this message to answer the user. /close {qid}"
        self.store.outbox_replace(item.id, {"text": text, "short": True}, f"bad request: {reason}")
        self.kick()

    def chat_migrated(self, old: int, new: int) -> int:
        """A group became a supergroup with a new id: what is pending for it
        goes there, and, if it is the operators' group, this run posts
        there from now on.  The configuration is the admin's to change:
        at the next start with the old id, the same happens again."""
        if old == self.operator_chat_id:
            log.error(
                "the operators' group %s was upgraded to a supergroup, whose id is %s: set OPERATOR_CHAT_ID=%s and restart; "
                "until then posts go to the new id",
                old,
                new,
                new,
            )
            self.operator_chat_id = new
            if self.on_migrated is not None:
                self.on_migrated(old, new)
        else:
            log.warning("a group moved to a new id (supergroup %s); its pending messages follow it", new)
        moved = self.store.outbox_move_chat(old, new)
        log.info("%d pending messages moved to the chat's new id", moved)
        self.kick()
        return new

    def chat_back(self, chat_id: int) -> None:
        """The bot may post to a chat again (added back to the operators'
        group): what waits there, retried ever less often while it was
        refused (at last `MAX_BACKOFF_S` apart), goes now."""
        due = self.store.outbox_due_now(chat_id)
        if due:
            log.info("the bot may post to %s again: %d pending messages go now", chat_id, due)
            self.kick()

    def _retry_later(self, item: OutboxItem, error: str) -> None:
        backoff = min(MAX_BACKOFF_S, 2.0 ** min(item.attempts, 9))
        self.store.outbox_retry(item.id, time.time() + backoff, error)

    def _drop(self, item: OutboxItem, error: str) -> None:
        """Give an item up.  An operator's answer given up (the user blocked
        the bot, Telegram refused the copy) is said in the operators' group,
        in reply to the answer: the question stays as it was (open), not
        to be taken for answered."""
        then = None
        if item.kind == "copy" and item.payload.get("ack") and self.operator_chat_id is not None:
            warning = {"text": f"⚠️ #{item.question_id}: not delivered ({error})", "reply_to": item.payload.get("ack_reply_to")}
            then = ("text", self.operator_chat_id, warning, item.question_id)
        self.store.outbox_drop(item.id, error, then=then)
        if then is not None:
            self.kick()

    def _mark_sent(self, item: OutboxItem, message_id: int) -> bool:
        """Record the send; if the database refuses, never send the row
        again.  False if the item is gone: its user asked to be forgotten
        while it was on its way, and nothing more is to be kept of it (no
        link from the sent message to their question)."""
        try:
            if not self._record_sent(item, message_id):
                return False
        except sqlite3.Error as exc:
            log.error("outbox item %s was sent but cannot be marked sent (%s); will mark it later", item.id, exc)
            self._unmarked[item.id] = (item, message_id)
        return True

    def _delete_later(self, chat_id: int, message_id: int) -> None:
        try:
            self.store.enqueue("delete", chat_id, {"message_id": message_id})
        except sqlite3.Error as exc:
            log.error("a forgotten user's post in the operators' group cannot be queued for deletion: %s", exc)

    def _record_sent(self, item: OutboxItem, message_id: int) -> bool:
        """Mark the item sent, with what follows from it (`Store.outbox_sent`):
        the sent message linked to its question (operators reply to posts,
        users to copied answers and to hand-offs' confirmations), and the operators' acknowledgement queued
        in the question's lane, after the post and in order with its
        follow-ups; an operator's answer marks its question answered.  False if the item is gone (its user was forgotten
        while it was on its way, or before a late record): a post in the
        operators' group is then queued for deletion."""
        link = None
        then = None
        answered = None
        if item.question_id is not None:
            # Not the acknowledgements in the operators' group: a reply to one reaches no one (`not_routed`).
            if item.kind in {"operator_post", "copy"} or item.chat_id != self.operator_chat_id:
                link = (item.chat_id, message_id, item.question_id)
            ack = item.payload.get("ack")
            if ack and self.operator_chat_id is not None:
                then = ("text", self.operator_chat_id, {"text": ack, "reply_to": item.payload.get("ack_reply_to")}, item.question_id)
            if item.kind == "copy" and "answer" in item.payload:
                answered = (item.question_id, str(item.payload["answer"]))
        if self.store.outbox_sent(item.id, message_id, link=link, then=then, answered=answered):
            return True
        if item.kind == "operator_post":  # their question, posted as they were forgotten: not to stay
            self._delete_later(item.chat_id, message_id)
        return False

    def _mark_unmarked(self) -> None:
        """Record the sends the database refused earlier, once it takes writes again."""
        for item_id, (item, message_id) in list(self._unmarked.items()):
            try:
                self._record_sent(item, message_id)
            except sqlite3.Error:
                return  # still not writable; try at the next pass
            del self._unmarked[item_id]

    async def _send(self, item: OutboxItem) -> int:
        p = item.payload
        if item.kind in {"text", "operator_post"}:
            return await send_message(self.bot, item.chat_id, p["text"], p.get("reply_markup"), p.get("reply_to"))
        if item.kind == "copy":
            copied = await self.bot.copy_message(
                item.chat_id, p["from_chat_id"], p["message_id"], caption=p.get("caption"), reply_parameters=_reply_params(p.get("reply_to"))
            )
            return copied.message_id
        if item.kind == "delete":  # a forgotten user's post in the operators' group (`Store.forget_user`)
            await self.bot.delete_message(item.chat_id, p["message_id"])
            return int(p["message_id"])
        raise BadRequest(f"unknown outbox kind {item.kind!r}")
