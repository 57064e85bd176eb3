"""The Telegram layer: updates in, engine calls, messages out.

All the answering is the engine's; this module only translates.  Handlers
are registered in one place, `build_application`, where their order matters
and is commented.  Services (engine, store, delivery) live in `bot_data` for
the application's lifetime: created before start, closed at shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import re
import signal
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType, MessageLimit
from telegram.error import BadRequest, Conflict, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from .caching import freeze_long_lived
from .config import Settings
from .delivery import SEND_TIMEOUTS, Delivery, _retry_after_seconds
from .engine import HANDOFF_RECORDED, Engine, Reply
from .faq import LANGS, FAQError, load_faq
from .httpclient import make_request
from .hugepages import collapse_heap_in_background
from .inbox import DurableUpdateQueue, UpdatesRequest
from .keyboards import (
    answer_keyboard,
    choices_keyboard,
    forget_keyboard,
    language_keyboard,
    parse_callback,
    single_button,
    topic_entries_keyboard,
    topics_keyboard,
)
from .logsafe import configure_logging
from .matcher import Candidate
from .privacy import mask_personal_data
from .ratelimit import RateLimiter, Verdict
from .store import Clarification, Question, Store
from .textlimits import MAX_TEXT_UNITS, cut_utf16, fit_lines, with_preview

log = logging.getLogger(__name__)

# Longer messages are not questions; they are answered with a polite request.
MAX_QUESTION_CHARS = 1500
# Questions to one /open message, a line each, its preview cut to
# OPEN_PREVIEW_UNITS: 30 lines of at most ~120 units stay within 4,096.
OPEN_PAGE = 30
OPEN_PREVIEW_UNITS = 80
# Button presses a user may make in any minute (messages: `RateLimiter`'s
# 20): three times as many, as a user browsing the menu taps faster than
# anyone types, yet a script pressing in a loop is still held back.
BUTTON_LIMIT = 60
# What operators see of a question: enough to understand it.
OPERATOR_PREVIEW_CHARS = 3000
# After asking for a person, the next message is the question to pass on
# if it comes within this long; later, it is a new conversation.
AWAITING_HUMAN_FOR = dt.timedelta(hours=24)
# Telegram not answering at start: asked again after 1 s, then 2, 4 … and
# at most a minute apart, until it answers or the bot is stopped.
START_RETRY_FIRST_S = 1.0
START_RETRY_MAX_S = 60.0
# Another bot polling with the same token: logged at most this often.
CONFLICT_SAID_EVERY_S = 60.0
# An album: Telegram sends its photos as messages of their own, sharing a
# media_group_id, within a second or so, in any order as far as handlers
# go.  A photo without a caption waits this long for the one with it, and
# the album is remembered this long (`Services.albums`).
ALBUM_WAIT_S = 1.5
ALBUM_KEPT_S = 600.0
# A menu sent anew under a message that is no menu ("Topics" under /help):
# a second press of the same button within this long is a double tap, and
# sends nothing more (`menu_just_sent`).
MENU_SENT_KEPT_S = 5.0


# `t.me/<bot>?start=forget_me`, the button under /forget sent in a group:
# the private chat opened at /forget (no entry id has an underscore).
FORGET_START = "forget_me"


def N_(message: str) -> str:
    """Mark an interface string for extraction; translated when sent."""
    return message


COMMANDS = {
    "start": N_("Start and choose a language"),
    "topics": N_("Browse questions by topic"),
    "lang": N_("Change language"),
    "human": N_("Ask a person"),
    "help": N_("What I can and cannot do"),
    "forget": N_("Delete what the bot stored about me"),
}


def user_commands(svc: Services) -> dict[str, str]:
    """The commands users are shown (Telegram's menu, the reply to an
    unknown command): /human only where there is a person to ask, an
    operators' group.  Without one it still works, but only records the
    question (`ask_for_the_question`), which "Ask a person" would not say."""
    if svc.settings.operator_chat_id is None:
        return {name: desc for name, desc in COMMANDS.items() if name != "human"}
    return COMMANDS


class ChatTurns:
    """One message at a time per chat (updates are handled concurrently):
    a user's messages are answered in order, and a flag such as "the next
    message is the question for a person" is taken by the right one.

    A chat's lock lives while some message of that chat holds or awaits
    it, and no longer: kept for every chat that ever wrote, the locks would
    grow with the users; pruned by whether they are held, one could go
    while a waiter it had just woken had yet to take it, and a new lock
    let the chat's next message run beside that one."""

    def __init__(self) -> None:
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}  # chat → (lock, messages holding or awaiting it)

    def __len__(self) -> int:
        return len(self._locks)

    @contextlib.asynccontextmanager
    async def turn(self, chat_id: int) -> AsyncIterator[None]:
        lock, users = self._locks.get(chat_id) or (asyncio.Lock(), 0)
        self._locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[chat_id]
            if users == 1:
                del self._locks[chat_id]
            else:
                self._locks[chat_id] = (lock, users - 1)


@dataclass
class Services:
    """Everything handlers need, created once per application."""

    settings: Settings
    engine: Engine
    store: Store
    delivery: Delivery
    limiter: RateLimiter = field(default_factory=RateLimiter)
    # Buttons apart: browsing /topics is a tap a second or two, and must
    # neither look like a flood nor spend the budget of the question typed next.
    button_limiter: RateLimiter = field(default_factory=lambda: RateLimiter(limit=BUTTON_LIMIT))
    chat_turns: ChatTurns = field(default_factory=ChatTurns)
    bot_username: str = ""
    # One FAQ reload at a time (a second /reload or SIGHUP waits for the first).
    reloading: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Users who asked for a person, by (chat, user): their next message in
    # that chat is the question (in a group, theirs only, not the next
    # member's), with when they asked (as in the database, which a restart
    # reads back).
    awaiting_human: dict[tuple[int, int], dt.datetime] = field(default_factory=dict)
    # Albums of the last `ALBUM_KEPT_S`, by (chat, media_group_id), whose
    # outcome is out (their caption read, "text only" said, or their
    # follow-up posted: `album_follow_up`), with when: their other photos
    # get no reply of their own.  Those handed to a person are found in the
    # database (`Store.question_for_album`), which a restart reads back.
    albums: dict[tuple[int, str], float] = field(default_factory=dict)
    # Menus sent anew in the last `MENU_SENT_KEPT_S`, by (chat, message id of
    # the message pressed on, the menu's title), with when: a double tap's
    # second press finds its menu here.  Ids and titles only, in memory.
    menus_sent: dict[tuple[int, int, str], float] = field(default_factory=dict)

    def record(self, write: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        """A write the user's reply must not depend on (statistics, logs).

        If the database cannot be written (disk full, read-only, locked),
        the failure is logged and the conversation goes on.
        """
        try:
            write(*args, **kwargs)
        except sqlite3.Error as exc:
            log.error("database write failed (%s): %s", getattr(write, "__name__", "write"), exc)



def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]  # type: ignore[no-any-return]


# --- language -------------------------------------------------------------


def telegram_lang(update: Update) -> str:
    """The user's Telegram language if we speak it, else Russian."""
    user = update.effective_user
    code = (user.language_code or "") if user else ""
    code = code.split("-")[0].lower()
    return code if code in LANGS else "ru"


def user_lang(update: Update, svc: Services) -> str:
    """Chosen language (/lang), else Telegram's."""
    chat = update.effective_chat
    chosen = svc.store.user_lang(chat.id) if chat else None
    return chosen or telegram_lang(update)


def tr(svc: Services, lang: str, message: str) -> str:
    return svc.engine.catalogs.gettext(lang, message)


# --- guards ---------------------------------------------------------------


def is_operator_chat(update: Update, svc: Services) -> bool:
    chat = update.effective_chat
    return bool(chat and svc.settings.operator_chat_id is not None and chat.id == svc.settings.operator_chat_id)


def addressed_in_group(message: Message, svc: Services) -> bool:
    """In groups, only a mention or a reply to the bot counts as addressed."""
    if message.chat.type == ChatType.PRIVATE:
        return True
    reply = message.reply_to_message
    if reply and reply.from_user and reply.from_user.username == svc.bot_username:
        return True
    text = message.text or message.caption or ""
    return bool(svc.bot_username) and f"@{svc.bot_username}".lower() in text.lower()


def without_mention(text: str, bot_username: str) -> str:
    """The text without the bot's @mention, wherever it is, in any case
    (usernames are case-insensitive: "@Jardam_Bot" is the bot too), and
    without the spaces around it: "@bot question" leaves "question"."""
    if not bot_username:
        return text
    return re.sub(rf"\s*@{re.escape(bot_username)}(?![A-Za-z0-9_])\s*", " ", text, flags=re.IGNORECASE).strip()


async def skip_handled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs first: an update handled before a crash is not handled twice."""
    svc = services(context)
    try:
        handled = svc.store.update_handled(update.update_id)
    except sqlite3.Error as exc:
        log.error("cannot read handled updates: %s", exc)
        return
    if handled:
        raise ApplicationHandlerStop


async def note_reachable(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before the handlers (after the check for updates already
    handled): whether a user can be written to, as their latest update
    tells.

    A send refused because the user blocked the bot marks them blocked, and
    the outbox then drops what is queued for them.  Any later update from
    them (Telegram's "Restart" button sends /start; a button press; a
    question) means they are back, and so does Telegram's own notice that
    they unblocked the bot; its notice that they blocked it marks them at
    once.  Its notice that the bot was added back to the operators' group
    sends the posts waiting for it at once, not at their next retry."""
    svc = services(context)
    chat = update.effective_chat
    member = update.my_chat_member
    if chat is not None and member is not None and is_operator_chat(update, svc):
        if member.new_chat_member.status in {ChatMemberStatus.MEMBER, ChatMemberStatus.ADMINISTRATOR}:
            svc.record(svc.delivery.chat_back, chat.id)
        return
    if chat is None or chat.type != ChatType.PRIVATE:
        return
    try:
        if member is not None and member.new_chat_member.status == ChatMemberStatus.BANNED:
            svc.store.mark_blocked(chat.id)
        elif svc.store.is_blocked(chat.id):
            svc.store.mark_unblocked(chat.id)
    except sqlite3.Error as exc:
        log.error("cannot record whether a user blocked the bot: %s", exc)


async def mark_handled(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs last, after the reply: remember the update as handled.

    Marked after replying, not before: a crash in between repeats a reply
    rather than losing one.
    """
    services(context).record(services(context).store.mark_update_handled, update.update_id)


async def rate_limit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs before every handler: drops floods, with one notice.

    Messages and button presses are counted apart, buttons with a limit of
    their own (`BUTTON_LIMIT`): a flood of presses is told on the button
    itself, and the user's next typed question is still answered."""
    svc = services(context)
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or is_operator_chat(update, svc):
        return
    query = update.callback_query
    if query is None and not for_the_bot(update.message, svc):
        return  # group chatter, edits: the bot does not answer them, and they spend nothing
    verdict = (svc.button_limiter if query else svc.limiter).check(user.id)
    by_buttons = query is not None
    if verdict is Verdict.ALLOW and query is not None and hands_on(query.data):
        # 👎 and "Ask a person" post to the operators as a message does:
        # they spend the messages' budget too (a related entry, 👎, again…).
        verdict, by_buttons = svc.limiter.check(user.id), False
    if verdict is Verdict.ALLOW:
        return
    too_fast = None
    if verdict is Verdict.NOTIFY and by_buttons:
        too_fast = tr(svc, user_lang(update, svc), "You are pressing buttons too fast. Please wait a minute.")
    elif verdict is Verdict.NOTIFY and (query or chat.type == ChatType.PRIVATE):
        too_fast = tr(svc, user_lang(update, svc), "You are sending messages too fast. Please wait a minute, then ask again.")
    if query:
        await answer_button(query, too_fast)
    elif too_fast:
        await svc.delivery.send_text(chat.id, too_fast)
    elif verdict is Verdict.NOTIFY:  # a group's message: no notice there; their next private one is told
        svc.limiter.not_told(user.id)
    svc.record(svc.store.mark_update_handled, update.update_id)  # dropped on purpose: not to be replayed
    raise ApplicationHandlerStop


def for_the_bot(message: Message | None, svc: Services) -> bool:
    """Whether a new message is one the bot handles, which the flood
    control counts: any in a private chat; in a group, one addressed to the
    bot (`addressed_in_group`) or one of its commands without a bot's name
    (`/human`).  Not the group's other talk, nor edits (`message` is None)."""
    if message is None:
        return False
    if message.chat.type == ChatType.PRIVATE or addressed_in_group(message, svc):
        return True
    command = _COMMAND_RE.match(message.text or "")
    return command is not None and command.group(1) is None and command.group(0)[1:].lower() in COMMANDS


def hands_on(data: str | None) -> bool:
    """Whether a button's press passes a question to a person (👎, "Ask a person")."""
    return data is not None and (data == "h:" or (data.startswith("f:") and data.endswith(":down")))


async def answer_button(query: CallbackQuery, text: str | None = None, *, show_alert: bool = False) -> None:
    """Stop a button's spinner, best effort.

    Telegram refuses a query answered late (after a restart) or twice, and
    may fail with 5xx or 429; none of that may cost the reply that follows.
    """
    try:
        await query.answer(text, show_alert=show_alert)
    except TelegramError as exc:
        log.warning("could not answer a button press (%s): %s", type(exc).__name__, exc)


# --- user commands ----------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Greet in the user's language; `/start ENTRY_ID` opens that entry."""
    svc = services(context)
    message = update.effective_message
    if message is None:
        return
    lang = user_lang(update, svc)
    if context.args and context.args[0] == FORGET_START and message.chat.type == ChatType.PRIVATE:
        await forget_command(update, context)  # the button of /forget sent in a group
        return
    if context.args and context.args[0] in svc.engine.faq.entries:
        await send_reply(update, svc, svc.engine.entry_reply(context.args[0], lang), "deeplink")
        return
    if svc.settings.operator_chat_id is None:  # no one to pass a question to: not to be promised
        unsure = tr(svc, lang, "I am not a lawyer: when I have no checked answer, I say so, and I do not guess.")
    else:
        unsure = tr(svc, lang, "I am not a lawyer: when I am not sure, I pass your question to a person.")
    greeting = "\n\n".join(
        [
            tr(svc, lang, "Hello! I am Jardam. Ask me about work in Russia, entry bans, the Amina app, Sakharovo and more."),
            unsure,
            tr(svc, lang, "Write your question, or open /topics. Choose your language:"),
        ]
    )
    await svc.delivery.send_text(message.chat_id, greeting, reply_markup=language_keyboard())


async def lang_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer the three languages."""
    svc = services(context)
    message = update.effective_message
    if message is None:
        return
    lang = user_lang(update, svc)
    await svc.delivery.send_text(message.chat_id, tr(svc, lang, "Choose your language:"), reply_markup=language_keyboard())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """What the bot can and cannot do."""
    svc = services(context)
    message = update.effective_message
    if message is None:
        return
    lang = user_lang(update, svc)
    if svc.settings.operator_chat_id is None:
        # No one to pass a question to: no person promised, and no /human
        # line (it would only record the question, as `ask_for_the_question` says).
        text = tr(
            svc,
            lang,
            "I answer common questions of migrant workers from Kyrgyzstan from a checked FAQ: work and stay in Russia, "
            "patents, entry bans, the register of controlled persons, the Amina app, Sakharovo, repatriation, medical care, "
            "consulates.\n\nI am not a lawyer and not a government office. When I have no checked answer, I say so; "
            "your question is then recorded so that the answers can be improved, but no one answers in this chat.\n\n"
            "/topics: questions by topic\n/lang: change language",
        )
    else:
        text = tr(
            svc,
            lang,
            "I answer common questions of migrant workers from Kyrgyzstan from a checked FAQ: work and stay in Russia, "
            "patents, entry bans, the register of controlled persons, the Amina app, Sakharovo, repatriation, medical care, "
            "consulates.\n\nI am not a lawyer and not a government office. When I have no checked answer, I pass your "
            "question to a person, who answers here.\n\n/topics: questions by topic\n/lang: change language\n"
            "/human: ask a person",
        )
    await svc.delivery.send_text(message.chat_id, text, reply_markup=topics_button(svc, lang))


def topics_button(svc: Services, lang: str) -> InlineKeyboardMarkup:
    return single_button(tr(svc, lang, "Topics"), f"T:{lang}")  # the menu it opens in this language (`parse_callback`)


async def topics_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The topics menu."""
    svc = services(context)
    message = update.effective_message
    if message is None:
        return
    lang = user_lang(update, svc)
    await svc.delivery.send_text(
        message.chat_id, tr(svc, lang, "Choose a topic:"), reply_markup=topics_keyboard(svc.engine.faq, lang)
    )


async def human_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/human [question]`: hand a question to a person."""
    svc = services(context)
    message = update.effective_message
    if message is None:
        return
    lang = user_lang(update, svc)
    text = " ".join(context.args or []).strip()
    if not text:
        await ask_for_the_question(svc, message.chat_id, sender_id(message), lang, in_group=message.chat.type != ChatType.PRIVATE)
        return
    if svc.settings.operator_chat_id is None:
        # No person to pass it to: answered as any question is, from the FAQ
        # where it can be (and recorded, with "no one answers here", where not).
        async with svc.chat_turns.turn(message.chat_id):
            await send_reply(update, svc, svc.engine.reply(text, lang), "text", user_text=text)
        return
    await pass_to_a_person(update, svc, text, svc.engine.reply_language(text, lang))


async def pass_to_a_person(update: Update, svc: Services, text: str, lang: str, *, reply: tuple[int, int] | None = None) -> None:
    """Hand a question to a person because the user asked for one: they are
    told it is passed on (not that the bot has no answer: it may have one),
    and the operators' post names the FAQ entries nearest it, so that an
    answer the FAQ has is one reply away."""
    nearest = svc.engine.reply(text, lang).candidates[:3]
    await hand_off(
        update,
        svc,
        text,
        lang,
        reason="human",
        candidates=candidate_records(nearest),
        text=tr(svc, lang, "I have passed your question to a person, who will answer here."),
        reply=reply,
    )


def sender_id(message: Message) -> int:
    """Who wrote a message: its user, else (a channel's post) the chat."""
    return message.from_user.id if message.from_user else message.chat_id


async def ask_for_the_question(svc: Services, chat_id: int, user_id: int, lang: str, *, in_group: bool = False) -> None:
    """A person was asked for without a question: the user's next message
    in the chat is it (in a group, that user's: not whoever writes next,
    and only one addressed to the bot, so the prompt says how).  Kept in
    the database too, so that a restart in between does not give that
    message to the engine.

    Without an operators' group there is no one to pass it to: the user is
    told so, and their next message is answered as any other, from the FAQ
    where it can be (it had been recorded, and told "no checked answer",
    even where the FAQ had one)."""
    if svc.settings.operator_chat_id is None:
        said = tr(
            svc,
            lang,
            "No one answers you in person in this chat: I answer only from checked answers. Write your question and I will answer it "
            "if I can; questions I cannot answer are recorded so that the answers can be improved.",
        )
        await svc.delivery.send_text(chat_id, said)
        return
    since = dt.datetime.now(dt.UTC)
    svc.awaiting_human[(chat_id, user_id)] = since
    svc.record(svc.store.set_awaiting_human, chat_id, user_id, since)
    if in_group:
        said = tr(svc, lang, "Write your question in one message, as a reply to this one, and I will pass it to a person.")
    else:
        said = tr(svc, lang, "Write your question in one message, and I will pass it to a person.")
    await svc.delivery.send_text(chat_id, said)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command the bot does not have (/menu, /stop…), in a private chat:
    say so, with the ones it has, rather than nothing at all."""
    svc = services(context)
    message = update.effective_message
    if message is None:
        return
    lang = user_lang(update, svc)
    lines = [tr(svc, lang, "I do not know this command. These are the ones I have:"), ""]
    lines += [f"/{name}: {tr(svc, lang, desc)}" for name, desc in user_commands(svc).items()]
    await svc.delivery.send_text(message.chat_id, "\n".join(lines))


async def forget_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget: ask for confirmation before deleting the user's data.

    In a private chat only: there the chat is the user, and the
    confirmation and its answer are theirs alone.  In a group it says so,
    with a button that opens the private chat at /forget (`start`)."""
    svc = services(context)
    message = update.effective_message
    if message is None or message.from_user is None:
        return
    lang = user_lang(update, svc)
    if message.chat.type != ChatType.PRIVATE:
        said = tr(svc, lang, "/forget works only in a private chat with me: open a chat with me and send /forget there.")
        markup = None
        if svc.bot_username:
            label = tr(svc, lang, "Open a private chat")
            markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, url=f"https://t.me/{svc.bot_username}?start={FORGET_START}")]])
        await svc.delivery.send_text(message.chat_id, said, reply_markup=markup, reply_to=message.message_id)
        return
    await svc.delivery.send_text(
        message.chat_id,
        tr(svc, lang, "Delete everything this bot has stored about you: your language, your questions and their answers?"),
        reply_markup=forget_keyboard(tr(svc, lang, "Yes, delete"), tr(svc, lang, "No")),
    )


async def forget_confirmed(update: Update, svc: Services, lang: str, confirmed: bool) -> None:
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None
    await answer_button(query)
    if isinstance(query.message, Message):
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except Exception:
            log.debug("could not remove the confirmation buttons")
    if not confirmed:
        await svc.delivery.send_text(chat.id, tr(svc, lang, "Nothing was deleted."))
        return
    try:
        deleted = svc.store.forget_user(chat.id)
    except sqlite3.Error as exc:  # disk full, read-only, locked: nothing was deleted (one transaction)
        log.error("could not forget a user: %s", exc)
        await svc.delivery.send_text(chat.id, tr(svc, lang, "Nothing could be deleted just now. Please try /forget again later."))
        return
    for waiting in [k for k in svc.awaiting_human if chat.id in k]:  # their chat's, and theirs in groups
        del svc.awaiting_human[waiting]
    log.info("forgot a user on request: %d rows deleted", sum(deleted.values()))
    await svc.delivery.send_text(
        chat.id,
        tr(
            svc,
            lang,
            "Done: your language, your questions and their answers have been deleted. "
            "What the bot keeps of group chats goes after its retention period. You can keep asking questions.",
        ),
    )
    svc.delivery.kick()  # the deletions of their posts in the operators' group, queued with it


# --- free text --------------------------------------------------------------


def awaiting_human(svc: Services, chat_id: int, user_id: int) -> bool:
    """Whether the user asked for a person in this chat (/human, or the
    button), within `AWAITING_HUMAN_FOR`, and this message of theirs is the
    question; the flag goes with it (from the database once the question
    is handed off; a lapsed one at once)."""
    since = svc.awaiting_human.pop((chat_id, user_id), None)
    if since is None:
        return False
    if dt.datetime.now(dt.UTC) - since < AWAITING_HUMAN_FOR:
        return True
    svc.record(svc.store.set_awaiting_human, chat_id, user_id, None)
    return False


def stop_awaiting_human(svc: Services, chat_id: int, user_id: int) -> None:
    """The user's question went to a person another way (/human with it,
    👎, "Ask a person"): a wait for it from an earlier /human is over."""
    if svc.awaiting_human.pop((chat_id, user_id), None) is not None:
        svc.record(svc.store.set_awaiting_human, chat_id, user_id, None)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A user's message: answer, clarify or hand off."""
    svc = services(context)
    message = update.effective_message
    if message is None:
        return
    # A photo or document's caption is its text: users ask with a screenshot.
    text = message.text if message.text is not None else message.caption
    if text is None or not addressed_in_group(message, svc):
        return
    text = without_mention(text, svc.bot_username)
    async with svc.chat_turns.turn(message.chat_id):
        lang_hint = user_lang(update, svc)
        # (Not without operators: a wait saved before a restart without them answers no one.)
        if text.strip() and svc.settings.operator_chat_id is not None and awaiting_human(svc, message.chat_id, sender_id(message)):
            await pass_to_a_person(update, svc, text, svc.engine.reply_language(text, lang_hint))
            svc.record(svc.store.set_awaiting_human, message.chat_id, sender_id(message), None)
            return
        if len(text) > MAX_QUESTION_CHARS:
            lang = svc.engine.reply_language(text, lang_hint)
            if svc.settings.operator_chat_id is not None:
                # A long account (passport taken, wages unpaid…) is what a
                # person is for; the FAQ matches questions, not stories.
                said = tr(svc, lang, "Your message is long, so I have passed it to a person, who will answer here.")
                await hand_off(update, svc, text, lang, reason="long", candidates=[], text=said)
                return
            await svc.delivery.send_text(
                message.chat_id,
                tr(svc, lang, "Your message is very long. Please ask your question in a few sentences."),
            )
            return
        reply = svc.engine.reply(text, lang_hint)
        await send_reply(update, svc, reply, "text", user_text=text)


async def send_reply(update: Update, svc: Services, reply: Reply, via: str, user_text: str = "") -> None:
    """Show an engine reply with its buttons; record what must be recorded."""
    chat = update.effective_chat
    if chat is None:
        return
    svc.record(svc.store.log_event, chat.id, reply.lang, reply.outcome, reply.entry_id, reply.confidence, via)
    if reply.outcome == "handoff":
        candidates = candidate_records(reply.candidates[:3])
        await hand_off(update, svc, user_text, reply.lang, reason="engine", candidates=candidates, text=reply.text)
        return
    markup: InlineKeyboardMarkup | None
    if reply.outcome == "answer" and reply.entry_id:
        markup = answer_keyboard(reply.entry_id, reply.related)
    elif reply.choices and svc.settings.operator_chat_id is None:
        # No person to ask: no "Ask a person" (it would only record the
        # question); "ask in other words", as the text says, is what is left.
        markup = choices_keyboard(reply.choices)
    elif reply.choices:
        human = InlineKeyboardButton(tr(svc, reply.lang, "Ask a person"), callback_data="h:")
        markup = choices_keyboard(reply.choices, [human])
    else:
        markup = topics_button(svc, reply.lang)

    clarification = None
    if user_text and reply.outcome == "clarify" and reply.choices:
        # The question and its choices, for the review: recorded under the
        # "did you mean" once it is out, now or from the outbox, after a
        # restart too (kept with the queued reply, masked, until then).
        candidates = candidate_records(reply.candidates[:3])
        clarification = Clarification(lang=reply.lang, text=user_text, candidates=candidates)

    # What the user asked goes with the reply (`asked`), into the database
    # (masked) once the reply is out, now or from the outbox, after a
    # restart too: a 👎 or "Ask a person" pressed on it passes the question on.
    await svc.delivery.send_text(
        chat.id,
        reply.text[: MessageLimit.MAX_TEXT_LENGTH],
        reply_markup=markup,
        reply_to=asker_message_id(update),
        asked=user_text or None,
        clarification=clarification,
    )
    if reply.unanswered:
        await hand_off_the_rest(update, svc, reply, user_text)


async def hand_off_the_rest(update: Update, svc: Services, reply: Reply, context: str) -> None:
    """The questions of a message that no entry answers, beside the answer
    to its others (`Reply.unanswered`): to a person, as a question of their
    own under the answer, with the answered entry and the whole message
    (`context`: "his things" may be a dead uncle's) shown to the operators."""
    questions = "\n".join(reply.unanswered)
    shown = "; ".join(reply.unanswered)
    passed = tr(svc, reply.lang, "I have passed your other question, “{question}”, to a person, who will answer here.").format(question=shown)
    recorded = tr(
        svc, reply.lang, "Your other question, “{question}”, is recorded so that the answers can be improved, but no one will answer it in this chat."
    )
    score = next((c.score for c in reply.candidates if c.entry_id == reply.entry_id), 0.0)
    await hand_off(
        update,
        svc,
        questions,
        reply.lang,
        reason="part",
        candidates=[{"id": reply.entry_id, "score": score, "answered": True}],
        text=passed,
        recorded=recorded.format(question=shown),
        context=context,
    )


def asker_message_id(update: Update) -> int | None:
    """In a group, the message of the member a reply is for, which the reply
    answers as a reply to it: the group sees whom it answers, and its
    buttons can be kept to that member (`pressed_by_another_member`).
    For a button press, the message the pressed one replied to."""
    chat = update.effective_chat
    if chat is None or chat.type == ChatType.PRIVATE:
        return None
    if update.callback_query is not None:
        # The member the pressed message answered, if they pressed it; a
        # press by another member gets an answer that is theirs to use.
        query = update.callback_query
        replied = getattr(query.message, "reply_to_message", None)
        if replied is None or replied.from_user is None or replied.from_user.id != query.from_user.id:
            return None
        return replied.message_id
    message = update.effective_message
    return message.message_id if message is not None else None


def pressed_by_another_member(query: CallbackQuery) -> bool:
    """A group member pressing 👎 or "Ask a person" under a reply to someone
    else: it would pass on that member's question, not theirs."""
    message = query.message
    replied = getattr(message, "reply_to_message", None)
    if not isinstance(message, Message) or message.chat.type == ChatType.PRIVATE or replied is None or replied.from_user is None:
        return False
    return replied.from_user.id != query.from_user.id


async def hand_off(
    update: Update,
    svc: Services,
    question: str,
    lang: str,
    *,
    reason: str,
    candidates: list[dict[str, Any]],
    text: str | None = None,
    recorded: str | None = None,
    reply: tuple[int, int] | None = None,
    context: str = "",
) -> None:
    """Record the question (and its post to operators) before telling the user.
    `text`: what the user is told when it goes to a person; `recorded`:
    when it is only recorded (no operators' group); each has a default.
    `reply`: the bot's message (chat id, message id) whose button made it.
    `context`: the whole message a question is part of, shown to operators
    under it and not stored (`hand_off_the_rest`)."""
    chat = update.effective_chat
    message = update.effective_message
    if chat is None:
        return
    operator_chat = svc.settings.operator_chat_id
    question = mask_personal_data(question)
    shown = f"{question}\n\nIn the message: {mask_personal_data(context)}" if context else question
    # Gone to a person (or recorded) by whatever route: a wait for their
    # question (/human alone, earlier) is over; their next message is answered.
    stop_awaiting_human(svc, chat.id, update.effective_user.id if update.effective_user else chat.id)

    def post_for(qid: int) -> dict[str, Any]:
        return {"text": operator_post_text(qid, lang, reason, shown, candidates)}

    if operator_chat is None:
        # No operators' group: the question is only recorded (for `jardam
        # review`), and nobody will answer in the chat; not to be promised.
        reply_text = recorded or tr(svc, lang, HANDOFF_RECORDED)
    else:
        reply_text = text or tr(
            svc,
            lang,
            "I have no checked answer to this question, and I do not guess on legal matters. "
            "I have passed your question to a person, who will answer here.",
        )
    try:
        q = svc.store.add_question(
            chat_id=chat.id,
            lang=lang,
            text=question,
            candidates=candidates,
            reason=reason,
            user_message_id=message.message_id if message and reason != "feedback" else None,
            operator_post=post_for if operator_chat is not None else None,
            operator_chat_id=operator_chat,
            update_id=update.update_id,
            reply=reply,
            # A message without text (a question under a screenshot; a photo, voice note
            # or album after /human) goes with its attachment: it is most of the question.
            media=media_copy(message) if message and message.text is None and reason != "feedback" else None,
            # Who asked: in a group the chat is everyone's, and /forget finds their questions by this.
            user_id=update.effective_user.id if update.effective_user else None,
            # An album's other photos follow it to the operators (`album_member`).
            media_group_id=message.media_group_id if message and reason != "feedback" else None,
        )
    except sqlite3.Error as exc:
        # The database cannot be written (disk full, read-only): the user is
        # still answered, and operators still see the question, unreferenced.
        log.error("could not store a handed-off question: %s", exc)
        await svc.delivery.send_text(chat.id, reply_text, reply_markup=topics_button(svc, lang))
        if operator_chat is not None:
            await svc.delivery.send_text(operator_chat, unstored_post_text(lang, reason, shown, candidates))
        return
    svc.delivery.kick()
    reference = tr(svc, lang, "Reference: #{ref}").format(ref=q.id)
    await svc.delivery.send_text(
        # Linked to the question: details the user adds in reply to it go to the operators under it (`user_follow_up`).
        chat.id, f"{reply_text}\n\n{reference}", reply_markup=topics_button(svc, lang), reply_to=asker_message_id(update), question_id=q.id
    )


def faq_line(candidates: list[dict[str, Any]]) -> str:
    """The entries nearest a question, for its post; a known out-of-scope
    subject is marked so, as it has no answer to give the user, and the
    entry the message's other question was answered with (`hand_off_the_rest`)."""
    marks = {"out_of_scope": ", out of scope", "answered": ", answered"}
    return "FAQ: " + ", ".join(f"{c['id']} ({c['score']:.0f}{''.join(mark for key, mark in marks.items() if c.get(key))})" for c in candidates)


def candidate_records(candidates: Sequence[Candidate]) -> list[dict[str, Any]]:
    """Candidates as a question keeps them (JSON in the database)."""
    return [{"id": c.entry_id, "score": c.score, **({"out_of_scope": True} if c.out_of_scope else {})} for c in candidates]


def operator_post_text(qid: int, lang: str, reason: str, question: str, candidates: list[dict[str, Any]]) -> str:
    """Plain text (no parse mode), so user text cannot inject formatting.
    The question gives way to fit one message (`textlimits.with_preview`)."""
    after = ["", "↩️ Reply to this message to answer the user. /close " + str(qid)]
    if candidates:
        after[:0] = ["", faq_line(candidates)]
    return with_preview(f"❓ #{qid} · {lang} · {reason}\n\n", question[:OPERATOR_PREVIEW_CHARS] or "(—)", "\n" + "\n".join(after))


def unstored_post_text(lang: str, reason: str, question: str, candidates: list[dict[str, Any]]) -> str:
    """The post for a question the database could not store.

    Without a stored question there is no reference, and the user's chat id
    is deliberately not put anywhere else (not in the post, not in a log):
    operators must know that a reply cannot reach the user.
    """
    after = [
        "",
        "⛔ The database could not be written, so this question has no reference and the user's chat id is not stored. "
        "Replying to this message will NOT reach the user; the user was told a person will answer, "
        "and can be answered only if they write again.",
    ]
    if candidates:
        after[:0] = ["", faq_line(candidates)]
    return with_preview(f"⚠️ NOT STORED · {lang} · {reason}\n\n", question[:OPERATOR_PREVIEW_CHARS] or "(—)", "\n" + "\n".join(after))


async def on_non_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Voice, photo, sticker, document, location…: the bot reads text only."""
    svc = services(context)
    message = update.effective_message
    if message is None:
        return
    if message.media_group_id and not message.caption:  # in a group too: it may belong to a question addressed to the bot
        await album_member(update, svc, message)
        return
    if not addressed_in_group(message, svc):
        return
    if message.caption:  # a photo or document with the question written under it
        if message.media_group_id:  # an album's: its other photos go where it goes, without a word
            note_album(svc, (message.chat_id, message.media_group_id))
        await on_text(update, context)
        return
    if attachment_kind(message) in FOR_A_PERSON and svc.settings.operator_chat_id is not None and awaiting_human(svc, message.chat_id, sender_id(message)):
        await pass_attachment_on(update, svc, message)
        return
    await say_text_only(update, svc, message)


async def say_text_only(update: Update, svc: Services, message: Message) -> None:
    lang = user_lang(update, svc)
    await svc.delivery.send_text(
        message.chat_id,
        tr(svc, lang, "I can read only text. Please type your question, or choose a topic."),
        reply_markup=topics_button(svc, lang),
    )


def note_album(svc: Services, key: tuple[int, str]) -> None:
    """Remember an album whose outcome is out; forget those older than `ALBUM_KEPT_S`."""
    now = time.monotonic()
    for old in [k for k, seen in svc.albums.items() if now - seen > ALBUM_KEPT_S]:
        del svc.albums[old]
    svc.albums[key] = now


async def album_member(update: Update, svc: Services, message: Message) -> None:
    """A photo or document of an album, without a caption: part of the
    album's outcome, not a message of its own.  If the album's question
    went to a person, it is copied to the operators under that question
    (queued with the update marked handled: once, after a crash too);
    an album with no caption at all, sent when the user is waiting for a
    person (`/human` alone), is itself the question (`pass_attachment_on`);
    otherwise the user is told once per album that the bot reads text only
    (nothing if the caption was answered, or in a group, unaddressed)."""
    key = (message.chat_id, message.media_group_id or "")
    if key not in svc.albums:
        await asyncio.sleep(ALBUM_WAIT_S)  # its captioned photo may come after it
    async with svc.chat_turns.turn(message.chat_id):  # after that one's hand-off, which holds the turn
        operator_chat = svc.settings.operator_chat_id
        try:
            question = svc.store.question_for_album(*key) if operator_chat is not None else None
        except sqlite3.Error as exc:
            log.error("cannot read an album's question: %s", exc)
            question = None
        if question is not None and operator_chat is not None:
            try:
                svc.delivery.enqueue_for_update(update.update_id, ("copy", operator_chat, media_copy(message), question.id))
            except sqlite3.Error as exc:
                log.error("could not queue an album's photo for the operators: %s", exc)
            return
        if key in svc.albums or not addressed_in_group(message, svc):
            return
        note_album(svc, key)
        if operator_chat is not None and awaiting_human(svc, message.chat_id, sender_id(message)):
            await pass_attachment_on(update, svc, message)
            return
        await say_text_only(update, svc, message)


async def pass_attachment_on(update: Update, svc: Services, message: Message) -> None:
    """A photo, voice note or document (or an album) without a word, after
    `/human` alone: it is what the user has to show or tell a person (a
    letter, a fine, a question spoken rather than typed), so it goes as the
    question, copied under its post (an album's other photos after it:
    `album_member` finds the question by the album).  No FAQ entry is near
    a question with no text, so none is named to the operators."""
    lang = user_lang(update, svc)
    said = tr(svc, lang, "I have passed your question to a person, who will answer here.")
    await hand_off(update, svc, f"({attachment_kind(message)})", lang, reason="human", candidates=[], text=said)
    svc.record(svc.store.set_awaiting_human, message.chat_id, sender_id(message), None)


# --- buttons ----------------------------------------------------------------


async def on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Every inline button; anything not issued by us has 'expired'."""
    svc = services(context)
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return
    # One FAQ for the whole press: a reload may land at any await below, and
    # the entry checked here must be the one answered.
    engine = svc.engine
    cb = parse_callback(query.data, engine.faq)
    # The topics menu's buttons say its language; other buttons' messages tell it by their text.
    lang = cb.lang if cb is not None and cb.lang else offered_in(svc, query.message, user_lang(update, svc))
    if cb is None:
        await answer_button(query, tr(svc, lang, "This button has expired. Please ask again or open /topics."), show_alert=True)
        return
    if cb.kind == "lang":
        svc.record(svc.store.set_user_lang, chat.id, cb.arg)
        await answer_button(query)
        await svc.delivery.send_text(
            chat.id,
            # The engine answers a question in its own language; the chosen one
            # is for messages that do not show theirs (and for the menus).
            tr(
                svc,
                cb.arg,
                "I will reply in English when your message does not show its language; "
                "questions are answered in the language they are written in. Write your question, or open /topics.",
            ),
            reply_markup=topics_button(svc, cb.arg),
        )
    elif cb.kind == "topics":
        await answer_button(query)
        await edit_or_send(query.message, svc, chat.id, tr(svc, lang, "Choose a topic:"), topics_keyboard(engine.faq, lang))
    elif cb.kind == "topic":
        await answer_button(query)
        topic = engine.faq.topic(cb.arg)
        title = topic.title.get(lang, cb.arg) if topic else cb.arg
        markup = topic_entries_keyboard(engine.faq, cb.arg, lang, tr(svc, lang, "« Topics"))
        await edit_or_send(query.message, svc, chat.id, title, markup)
    elif cb.kind == "entry":
        await answer_button(query)
        if isinstance(query.message, Message):
            svc.record(svc.store.clarification_chosen, chat.id, query.message.message_id, cb.arg)
        # The question the pressed message answered (a "did you mean" or an
        # answer's related entry) stays the user's question: 👎 hands it on.
        asked = recent_question(svc, query.message)
        await send_reply(update, svc, engine.entry_reply(cb.arg, lang), "button", user_text=asked)
    elif cb.kind == "forget":
        await forget_confirmed(update, svc, lang, cb.arg == "yes")
    elif (cb.kind == "human" or (cb.kind == "feedback" and cb.extra != "up")) and pressed_by_another_member(query):
        await answer_button(query, tr(svc, lang, "These buttons are for the member who asked."))
    elif cb.kind == "feedback":
        await feedback(update, svc, cb.arg, cb.extra == "up", lang)
    elif cb.kind == "human":
        await answer_button(query)
        # One press of the chat's at a time: a second press (twice, or on
        # another device) finds the question the first one made.
        async with svc.chat_turns.turn(chat.id):
            if await passed_on_already(update, svc, lang):
                return
            text = recent_question(svc, query.message)
            if not text:  # handled before a crash, its text no longer kept? Its question has it
                earlier = svc.store.question_for_update(update.update_id)
                text = earlier.text if earlier else ""
            if text:
                await pass_to_a_person(update, svc, text, lang, reply=reply_key(query.message))
            else:  # a reply older than its text (or from before the texts were kept)
                await ask_for_the_question(svc, chat.id, query.from_user.id, lang, in_group=chat.type != ChatType.PRIVATE)


def offered_in(svc: Services, message: Any, fallback: str) -> str:
    """The language of the message a button was pressed on, which a press
    is answered in: the conversation's, which may not be the user's chosen
    or Telegram's one (Telegram in Russian, a question typed in Kyrgyz, a
    "did you mean" in Kyrgyz, then the answer).  Read off the bot's own
    text, as for a user's message; `fallback` when it is too short to tell
    or no longer there."""
    text = getattr(message, "text", None)
    return svc.engine.reply_language(text, fallback) if text else fallback


def reply_key(message: Any) -> tuple[int, int] | None:
    """(chat id, message id) of the bot's message a button was pressed on."""
    return None if message is None else (message.chat.id, message.message_id)


def recent_question(svc: Services, message: Any) -> str:
    """What the user asked that the bot's message answered ("" if not known)."""
    key = reply_key(message)
    if key is None:
        return ""
    try:
        return svc.store.reply_text(*key)
    except sqlite3.Error as exc:
        log.error("cannot read what a reply answered: %s", exc)
        return ""


async def passed_on_already(update: Update, svc: Services, lang: str) -> bool:
    """Whether a button on this message of the bot ("Ask a person", 👎)
    already passed its question on; if so, the user is told its reference.
    A press handled again after a crash is not "already": it finds its own
    question (`hand_off`, by update) and is told as the first time."""
    query = update.callback_query
    chat = update.effective_chat
    key = reply_key(query.message if query else None)
    if key is None or chat is None:
        return False
    try:
        earlier = svc.store.question_for_reply(*key)
        if earlier is None:
            return False
        own = svc.store.question_for_update(update.update_id)
    except sqlite3.Error as exc:
        log.error("cannot read whether a question was passed on: %s", exc)
        return False
    if own is not None and own.id == earlier.id:
        return False
    if svc.settings.operator_chat_id is None:  # recorded only (`hand_off`): no person to speak of
        told = tr(svc, lang, "I have already recorded this question. Reference: #{ref}").format(ref=earlier.id)
    else:
        told = tr(svc, lang, "I have already passed this question to a person. Reference: #{ref}").format(ref=earlier.id)
    await svc.delivery.send_text(chat.id, told, reply_markup=topics_button(svc, lang))
    return True


def is_menu(message: Message) -> bool:
    """Whether a message of the bot is a menu (the topics, or a topic's
    entries), which browsing edits in place: not a message that only has
    the "Topics" button under it (the /human confirmation with its
    reference, /help…), whose text is the user's to keep."""
    markup = message.reply_markup
    data = [str(b.callback_data or "") for row in markup.inline_keyboard for b in row] if markup else []
    return any(d.startswith(("t:", "e:")) for d in data) and all(d.startswith(("t:", "e:", "T:")) for d in data)


async def edit_or_send(message: Any, svc: Services, chat_id: int, text: str, markup: InlineKeyboardMarkup) -> None:
    """Show a menu in the menu message its button was pressed on; a new
    message under any other one (`is_menu`), or where that one cannot be
    edited (too old, deleted), once for a double tap (`menu_just_sent`)."""
    if isinstance(message, Message) and is_menu(message):
        try:
            await message.edit_text(text, reply_markup=markup)
            return
        except BadRequest as exc:
            # "Message is not modified": it shows this menu already (a double
            # tap, the second press finding the first one's edit).  The press
            # is answered; a second menu under it would only be clutter.
            if "message is not modified" in exc.message.lower():
                return
            log.debug("edit refused (%s); sending a new message", exc.message)
        except Exception:  # too old to edit: send anew
            log.debug("edit failed; sending a new message")
    pressed = reply_key(message)
    if pressed is not None and menu_just_sent(svc, (*pressed, text)):
        return
    await svc.delivery.send_text(chat_id, text, reply_markup=markup)


def menu_just_sent(svc: Services, key: tuple[int, int, str]) -> bool:
    """Whether this menu was sent anew for the same message a moment ago:
    a quick double tap on "Topics" under a message that is no menu (where
    no edit's "message is not modified" tells it) would send two.  If not,
    it is noted as sent now, before the send: the second press may be
    handled while the first one's send is on its way.  Older notes go."""
    now = time.monotonic()
    for old in [k for k, at in svc.menus_sent.items() if now - at > MENU_SENT_KEPT_S]:
        del svc.menus_sent[old]
    if key in svc.menus_sent:
        return True
    svc.menus_sent[key] = now
    return False


async def feedback(update: Update, svc: Services, entry_id: str, helpful: bool, lang: str) -> None:
    """👍 is counted; 👎 also hands the question to a person (without an
    operators' group, records it for the review, and says so), once per
    answer: pressed again (twice, or on another device), it says so.  On an
    answer no question asked for (a deep link, /topics), 👎 asks for the
    question (`ask_for_the_question`): nothing is passed on until it comes."""
    query = update.callback_query
    chat = update.effective_chat
    assert query is not None and chat is not None
    if helpful:
        svc.record(svc.store.log_event, chat.id, lang, "feedback_up", entry_id, 0, "button")
        await remove_feedback_buttons(query)
        await answer_button(query, tr(svc, lang, "Thank you for the feedback!"))
        return
    await answer_button(query)
    async with svc.chat_turns.turn(chat.id):  # one press of the chat's at a time
        if await passed_on_already(update, svc, lang):
            return
        svc.record(svc.store.log_event, chat.id, lang, "feedback_down", entry_id, 0, "button")
        await remove_feedback_buttons(query)
        asked = recent_question(svc, query.message)
        if not asked:  # handled before a crash, its text no longer kept? Its question has it
            earlier = svc.store.question_for_update(update.update_id)
            asked = earlier.text if earlier else ""
        if not asked:
            # An answer opened by a deep link or from /topics: the user asked
            # nothing yet, so there is nothing to pass on; their question is asked for.
            await ask_for_the_question(svc, chat.id, query.from_user.id, lang, in_group=chat.type != ChatType.PRIVATE)
            return
        await hand_off(
            update,
            svc,
            asked,
            lang,
            reason="feedback",
            candidates=[{"id": entry_id, "score": 0}],
            text=tr(svc, lang, "Sorry this did not help. I have passed your question to a person, who will answer here."),
            recorded=tr(
                svc,
                lang,
                "Sorry this did not help. Your question is recorded so that the answers can be improved, "
                "but no one will answer it in this chat. Try asking in other words, or open /topics.",
            ),
            reply=reply_key(query.message),
        )


async def remove_feedback_buttons(query: CallbackQuery) -> None:
    """Take 👍/👎 off an answer once pressed; its related-entry buttons stay,
    as they are still where the user reads on."""
    if isinstance(query.message, Message):
        markup = query.message.reply_markup
        rows = [row for row in markup.inline_keyboard if not any(str(b.callback_data or "").startswith("f:") for b in row)] if markup else []
        try:
            await query.message.edit_reply_markup(reply_markup=InlineKeyboardMarkup(rows) if rows else None)
        except Exception:
            log.debug("could not remove feedback buttons")


# --- operators --------------------------------------------------------------


def operators_reply(update: Update, svc: Services, bot_id: int) -> tuple[Message, Question | None] | None:
    """An operators' group message that replies to something, and the
    question whose post (or copied answer) it replies to, if any; None for
    any other message."""
    message = update.effective_message
    if message is None or message.reply_to_message is None or not is_operator_chat(update, svc):
        return None
    return message, question_replied_to(svc, message.reply_to_message, bot_id)


async def operator_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply in the operators' group to a question post: relay it to the user."""
    svc = services(context)
    found = operators_reply(update, svc, context.bot.id)
    if found is None:
        return
    message, question = found
    if question is None:
        await not_routed(svc, message, context.bot.id)
        return
    if _not_an_answer(message.text, context.bot.username):
        # Group-helper bots are driven by replying with a command ("/pin",
        # "/warn@GroupHelpBot spam"): that is not for the user.  An answer
        # that starts with a command and goes on ("/topics — there…") is one.
        await svc.delivery.send_text(
            message.chat_id, f"⚠️ Not sent to the user: a command alone is not an answer to #{question.id}.", reply_to=message.message_id
        )
        return
    answer = message.text or message.caption or f"({attachment_kind(message)})"  # as a follow-up's post says it
    # An album answered is a reply per photo: each is copied, and the first
    # alone is acknowledged (one ✅ per photo looked like several answers)
    # and recorded as the answer (its caption, not the last photo's "(photo)").
    album = (message.chat_id, message.media_group_id) if message.media_group_id else None
    first = album is None or album not in svc.albums
    if album is not None:
        note_album(svc, album)
    # Queued and marked handled at once: replayed after a crash, the reply
    # would otherwise be copied to the user twice.  The question is marked
    # answered once the copy is sent (`Delivery._record_sent`), not now: an
    # answer the user never gets (they blocked the bot) leaves it open, and
    # the operators are told (`Delivery._drop`).
    copy: dict[str, Any] = {
        "from_chat_id": message.chat_id,
        "message_id": message.message_id,
        "reply_to": question.user_message_id,
    }
    if first:
        copy.update(ack=f"✅ #{question.id}: sent to the user.", ack_reply_to=message.message_id, answer=answer)
    svc.delivery.enqueue_for_update(update.update_id, ("copy", question.chat_id, copy, question.id))


_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]+(?:@([A-Za-z0-9_]+))?")


def _not_an_answer(text: str | None, own_username: str | None) -> bool:
    """Whether an operator's reply is a command, not an answer: a command
    alone, or one addressed to another bot (whatever follows it)."""
    if not text:
        return False
    words = text.split()
    match = _COMMAND_RE.fullmatch(words[0])
    if match is None:
        return False
    addressee = match.group(1)
    return len(words) == 1 or (addressee is not None and addressee.lower() != (own_username or "").lower())


async def not_routed(svc: Services, message: Message, bot_id: int) -> None:
    """A reply to one of the bot's messages that is no question's post (the
    ✅ acknowledgement, the /open listing), or to the post of a question
    since purged or forgotten: said, or the operator would believe it
    sent.  Replies to one another are the operators' own talk, left alone."""
    replied = message.reply_to_message
    if replied is None or replied.from_user is None or replied.from_user.id != bot_id:
        return
    gone = own_post_ref(replied, bot_id)  # a question's post, yet no question: the operator did reply to the right post
    if gone:
        said = (
            f"⚠️ Not sent: question #{gone} is no longer stored (deleted after the retention period, "
            "or at the user's request), so this answer cannot reach the user."
        )
    else:
        said = "⚠️ Not sent: reply to the ❓ post of the question."
    await svc.delivery.send_text(message.chat_id, said, reply_to=message.message_id)


def own_post_ref(replied: Message, bot_id: int) -> str | None:
    """The reference a post of the bot's starts with ("❓ #12 · …"), if it is one."""
    if replied.from_user is None or replied.from_user.id != bot_id:
        return None
    match = REF_RE.match(replied.text or "")
    return match.group(1) if match else None


def media_copy(message: Message) -> dict[str, Any]:
    """The outbox payload that copies a user's photo or document to the
    operators: its caption masked as every text shown to them is (a
    passport number written under a photo of the passport)."""
    payload: dict[str, Any] = {"from_chat_id": message.chat_id, "message_id": message.message_id}
    if message.caption:
        payload["caption"] = mask_personal_data(message.caption)[: MessageLimit.CAPTION_LENGTH]
    return payload


async def operator_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An operator edited an answer: the user keeps the copy of the first
    version (a copy is not linked to its original), so the operator is told
    to send the correction as a new reply.  A reply that was never sent (a
    command alone, refused as an answer) is said to be so: the user has nothing."""
    svc = services(context)
    found = operators_reply(update, svc, context.bot.id)
    if found is None:
        return
    message, question = found
    if question is None:
        return
    try:
        copied = svc.store.answer_copied(message.chat_id, message.message_id)
    except sqlite3.Error as exc:
        log.error("cannot read whether an answer was sent: %s", exc)
        copied = True  # the usual case; either way the operator is told to reply again
    if copied:
        said = f"⚠️ #{question.id}: edits are not delivered; the user has the first version. To correct it, reply to the ❓ post again."
    else:  # refused as an answer (a command alone), or given up (the user blocked the bot): the user has nothing
        said = f"⚠️ #{question.id}: nothing was sent to the user, edits included. To answer, reply to the ❓ post again."
    await svc.delivery.send_text(message.chat_id, said, reply_to=message.message_id)


REF_RE = re.compile(r"^(?:❓|💬) #(\d+) · ")


def question_replied_to(svc: Services, replied: Message, bot_id: int) -> Question | None:
    """The question an operator's reply is about.

    The relay table (chat id, message id) is the source of truth; a post
    the bot sent but had not yet linked when the reply came (a crash or a
    very fast operator) is recognised by the reference it starts with.
    """
    question = svc.store.question_for_message(replied.chat_id, replied.message_id)
    if question is not None:
        return question
    sender = replied.from_user
    match = REF_RE.match(replied.text or "")
    if sender is None or sender.id != bot_id or match is None:
        return None
    question = svc.store.find_question(int(match.group(1)))
    if question is not None:
        svc.store.link_message(replied.chat_id, replied.message_id, question.id)
    return question


async def user_follow_up(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A user's reply to an operator's answer, or to the confirmation that
    their question was passed on (details added), goes back to the operators."""
    svc = services(context)
    message = update.effective_message
    operator_chat = svc.settings.operator_chat_id
    if message is None or message.reply_to_message is None or operator_chat is None:
        return False
    question = svc.store.question_for_message(message.chat_id, message.reply_to_message.message_id)
    if question is None or question.status == "closed":
        return False
    if message.chat.type != ChatType.PRIVATE and (message.from_user is None or message.from_user.id != question.user_id):
        # In a group, only the member who asked continues their question
        # (a question stored before its asker was kept has none to match):
        # another member's reply is their own message to the bot.
        return False
    if message.media_group_id:
        await album_follow_up(update, svc, message, question, operator_chat)
    else:
        await post_follow_up(update, svc, message, question, operator_chat)
    return True


async def album_follow_up(update: Update, svc: Services, message: Message, question: Question, operator_chat: int) -> None:
    """An album sent back to an operator (each of its photos a reply of its
    own) is one follow-up: its caption the text, its photos after it, one
    receipt.  A photo without a caption waits for the captioned one, as in
    `album_member`; whichever is first to find the album not yet posted
    posts it.  Kept in memory only (`Services.albums`): photos handled
    after a restart between them come as one more follow-up, not lost."""
    key = (message.chat_id, message.media_group_id or "")
    if not message.caption and key not in svc.albums:
        await asyncio.sleep(ALBUM_WAIT_S)  # its caption, the follow-up's text, may come after it
    async with svc.chat_turns.turn(message.chat_id):
        if key not in svc.albums:
            note_album(svc, key)
            await post_follow_up(update, svc, message, question, operator_chat)
            return
        try:
            svc.delivery.enqueue_for_update(update.update_id, ("copy", operator_chat, media_copy(message), question.id))
        except sqlite3.Error as exc:
            log.error("could not queue an album's photo for the operators: %s", exc)


async def post_follow_up(update: Update, svc: Services, message: Message, question: Question, operator_chat: int) -> None:
    """The `💬` post of a follow-up, its photo or document after it, and the user's receipt."""
    text = mask_personal_data(message.text or message.caption or f"({attachment_kind(message)})")  # shown to operators, as questions are
    post = with_preview(f"💬 #{question.id} · {question.lang} · follow-up\n\n", text[:OPERATOR_PREVIEW_CHARS], "\n\n↩️ Reply to this message to answer.")
    # In the conversation's language: the follow-up's own, else the question's (a
    # Kyrgyz question from a Telegram in Russian), else the user's.
    lang = svc.engine.reply_language(message.text or message.caption or "", question.lang or user_lang(update, svc))
    if question.answer is None:  # details added before anyone answered
        told = tr(svc, lang, "Added to your question: the person who answers it will see this too. Reference: #{ref}").format(ref=question.id)
    else:
        told = tr(svc, lang, "Sent to the person who answered you. Reference: #{ref}").format(ref=question.id)
    try:
        svc.store.set_question_status(question.id, "open")
        # The post and the user's receipt queued, and the update marked handled,
        # at once: replayed after a crash, the post would otherwise go twice.
        svc.delivery.enqueue_for_update(
            update.update_id,
            ("operator_post", operator_chat, {"text": post}, question.id),
            # A photo or document (what an operator asked for, often) is
            # copied after the post, in the question's lane; a reply to the
            # copy reaches the user too (linked as it is sent).  Not a contact
            # or a location (`FOR_A_PERSON`): the post names it, unseen.
            *([("copy", operator_chat, media_copy(message), question.id)] if message.text is None and attachment_kind(message) in FOR_A_PERSON else []),
            # In a group, in reply to the member's message: the group sees whose it was.
            ("text", message.chat_id, {"text": told, **({"reply_to": message.message_id} if message.chat.type != ChatType.PRIVATE else {})}, None),
        )
    except sqlite3.Error as exc:
        # The database cannot be written: sent now instead, so that the
        # operators still see it (its reference finds the question) and
        # the user still hears back.
        log.error("could not store a follow-up: %s", exc)
        await svc.delivery.send_text(operator_chat, post)
        await svc.delivery.send_text(message.chat_id, told)


# What a user may send a person after `/human` without a word (`pass_attachment_on`):
# not a sticker, nor a contact or location, which hold personal data a
# caption's masking never sees.
FOR_A_PERSON = frozenset({"photo", "document", "video", "voice", "audio", "video_note"})


def attachment_kind(message: Message) -> str:
    """What a message without text holds, in a word, for operators."""
    for kind in ("photo", "document", "video", "voice", "audio", "video_note", "animation", "sticker", "location", "contact"):
        if getattr(message, kind, None):
            return kind
    return "—"


async def on_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Replies in a private chat or a group: a follow-up if they answer an
    operator's answer (in a group, the asker's reply only), else any other
    message."""
    if await user_follow_up(update, context):
        return
    message = update.effective_message
    if message is not None and message.text is not None:
        await on_text(update, context)
    else:
        await on_non_text(update, context)


async def open_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/open [PAGE] in the operators' group: questions waiting, oldest
    first, `OPEN_PAGE` to a message; the last line names the next page."""
    svc = services(context)
    message = update.effective_message
    if message is None or not is_operator_chat(update, svc):
        return
    arg = (context.args or ["1"])[0].lstrip("#")
    digits = arg.lstrip("0")
    if not re.fullmatch(r"[0-9]+", arg) or not digits:
        await svc.delivery.send_text(message.chat_id, "Usage: /open, or /open 2 for the next page")
        return
    # Any number is a page, 9999999 too: past the last one it is told so,
    # not the usage line.  (int() refuses over 4,300 digits; such a page is
    # past the last all the same.)
    page = int(digits) if len(digits) <= 18 else 10**18
    waiting = svc.store.open_questions()
    if not waiting:
        await svc.delivery.send_text(message.chat_id, "No open questions. 🎉")
        return
    pages = -(-len(waiting) // OPEN_PAGE)
    if page > pages:
        # Said, rather than the last page shown: the group is shared, and
        # 30 lines nobody asked for are noise to every operator in it.
        await svc.delivery.send_text(
            message.chat_id,
            f"No such page: {len(waiting)} open question{'s' if len(waiting) > 1 else ''}, on {pages} page{'s' if pages > 1 else ''}: "
            f"/open {pages} is the last.",
        )
        return
    shown = waiting[(page - 1) * OPEN_PAGE : page * OPEN_PAGE]
    lines = [f"Open questions: {len(waiting)} (oldest first)" + (f", page {page} of {pages}" if pages > 1 else "")]
    for q in shown:
        # Cut in Telegram's units: 80 emoji are 160 of them, and 30 such lines over 4,096.
        preview = cut_utf16(" ".join(q.text.split()), OPEN_PREVIEW_UNITS)
        lines.append(f"#{q.id} · {q.ts[:16].replace('T', ' ')} · {q.lang} · {preview}")
    after = len(waiting) - page * OPEN_PAGE
    if after > 0:
        lines.append(f"… and {after} more: /open {page + 1}")
    await svc.delivery.send_text(message.chat_id, "\n".join(lines))


async def close_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/close REF… in the operators' group: close each and tell its user.
    With no number, as a reply to a question's post (or its copied answer),
    it closes that question: what an operator who has just answered it does."""
    svc = services(context)
    message = update.effective_message
    if message is None or not is_operator_chat(update, svc):
        return
    refs = [token.lstrip("#") for token in re.split(r"[\s,]+", " ".join(context.args or [])) if token]
    if not refs and message.reply_to_message is not None:
        replied = question_replied_to(svc, message.reply_to_message, context.bot.id)
        if replied is not None:
            refs = [str(replied.id)]
        elif gone := own_post_ref(message.reply_to_message, context.bot.id):
            # The right post, of a question since purged or forgotten: not a usage error.
            said = f"Question #{gone} is no longer stored (deleted after the retention period, or at the user's request)."
            await svc.delivery.send_text(message.chat_id, said)
            return
    if not refs or not all(re.fullmatch(r"[0-9]+", ref) for ref in refs):  # ASCII digits: "²".isdigit() too
        usage = "Usage: /close REF… (for example /close 12, or /close 12 15), or /close as a reply to a question's ❓ post"
        await svc.delivery.send_text(message.chat_id, usage)
        return
    closed: list[str] = []
    already: list[str] = []
    unknown: list[str] = []
    for ref in dict.fromkeys(int(r) for r in refs):
        question = svc.store.find_question(ref)
        if question is None:
            unknown.append(f"#{ref}")
        elif question.status == "closed":
            already.append(f"#{ref}")
        else:
            svc.store.set_question_status(question.id, "closed")
            text = tr(svc, question.lang, "Your question #{ref} is closed. You can ask a new question at any time.").format(ref=question.id)
            svc.delivery.enqueue("text", question.chat_id, {"text": text})
            closed.append(f"#{ref}")
    lines = [f"Closed {', '.join(closed)}."] if closed else []
    if already:
        lines.append(f"{', '.join(already)} {'is' if len(already) == 1 else 'are'} already closed.")
    if unknown:
        lines.append(f"No question {', '.join(unknown)}.")
    await svc.delivery.send_text(message.chat_id, cut_utf16("\n".join(lines), MAX_TEXT_UNITS))


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reload in the operators' group: re-read the FAQ, keep the old one if broken."""
    svc = services(context)
    if not is_operator_chat(update, svc):
        return
    await reload_faq(svc)


async def reload_faq(svc: Services) -> bool:
    """Swap in a freshly loaded FAQ; on problems keep the last good one and say why.

    The FAQ is read and indexed in a worker thread: that takes a third of a
    second for the shipped FAQ and some twenty seconds for one a hundred
    times its size, during which the bot goes on answering from the old FAQ
    rather than standing still (sharing the interpreter with the indexing).
    """
    async with svc.reloading:
        return await _reload_faq(svc)


async def _reload_faq(svc: Services) -> bool:
    settings = svc.settings
    try:
        faq = await asyncio.to_thread(load_faq, settings.faq_dir, settings.seeds_dir, shown_root=settings.faq_dir.parent)
    except FAQError as exc:
        lines = [str(p) for p in exc.problems]
        log.error("FAQ reload refused, still answering from the last good FAQ:\n%s", "\n".join(lines))
        if settings.operator_chat_id is not None:
            head = f"⚠️ FAQ reload refused ({len(lines)} problem(s)); still answering from the last good FAQ.\n\n"
            text = fit_lines(head, lines, lambda n: f"…and {n} more problem{'' if n == 1 else 's'}: run `jardam faq check`")
            await svc.delivery.send_text(settings.operator_chat_id, text)
        return False
    old = svc.engine
    svc.engine = await asyncio.to_thread(Engine, faq, old.catalogs, tuning=old.tuning, default_lang=old.default_lang)
    del old  # the old index goes now (reference counting), before the new one is frozen
    freeze_long_lived()  # one collection now (7 ms for the shipped FAQ, 73 ms at 100×) rather than at every full one
    if settings.huge_pages:
        collapse_heap_in_background()  # the new index onto huge pages, as at start-up
    summary = f"FAQ reloaded: {len(faq.entries)} entries in {len(faq.topics)} topics."
    log.info(summary)
    if settings.operator_chat_id is not None:
        await svc.delivery.send_text(settings.operator_chat_id, "✅ " + summary)
    return True


async def group_migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup, with a new id: Telegram says so at once,
    with a message in each (`migrate_to_chat_id` in the old group,
    `migrate_from_chat_id` in the new).  If it is the operators' group, it
    is followed from this notice (`Delivery.chat_migrated`), as when a post
    is refused for it: otherwise operators carrying on in the supergroup
    would be taken for a users' group (their /open unanswered, their
    replies answered from the FAQ) until a post to the old id failed."""
    svc = services(context)
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id is not None:
        old, new = message.chat_id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old, new = message.migrate_from_chat_id, message.chat_id
    else:
        return
    if old == svc.delivery.operator_chat_id:  # the second notice finds it moved already
        svc.delivery.chat_migrated(old, new)


# --- wiring -----------------------------------------------------------------


async def ignore(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Swallow an update on purpose (operators talking among themselves)."""


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log without the token; never let one update stop the bot.

    python-telegram-bot also reports here, with no update, a failed
    `getUpdates` (5xx, timeout, network), which it retries by itself: that
    is Telegram being unreachable for a moment, not an update gone wrong,
    so it is one warning line.
    """
    error = context.error
    if update is None and isinstance(error, NetworkError):
        log.warning("polling Telegram for updates failed (%s: %s); retrying", type(error).__name__, error)
        return
    if update is None and isinstance(error, Conflict):
        # Another bot polls with this token (elsewhere: a second `jardam
        # run` here is refused at start); retried every few seconds, said
        # once a minute at most.
        now = time.monotonic()
        said = context.application.bot_data.get("conflict_said_at")
        if said is None or now - said >= CONFLICT_SAID_EVERY_S:
            context.application.bot_data["conflict_said_at"] = now
            log.error(
                "another bot is polling Telegram with this bot's token (%s): each takes some of the other's updates; "
                "stop the other (said at most once a minute)",
                error,
            )
        return
    log.error("error while handling an update: %s: %s", type(error).__name__, error)


async def register_commands(app: Application) -> None:  # type: ignore[type-arg]
    svc: Services = app.bot_data["services"]
    offered = user_commands(svc)
    for lang in LANGS:
        commands = [BotCommand(name, tr(svc, lang, desc)) for name, desc in offered.items()]
        await app.bot.set_my_commands(commands, scope=BotCommandScopeAllPrivateChats(), language_code=lang)
    default = [BotCommand(name, tr(svc, "ru", desc)) for name, desc in offered.items()]
    await app.bot.set_my_commands(default, scope=BotCommandScopeAllPrivateChats())


def build_application(settings: Settings, engine: Engine, store: Store) -> Application:  # type: ignore[type-arg]
    """The whole bot: services and every handler, in order."""
    fetched = UpdatesRequest(make_request(1))
    queue = DurableUpdateQueue(store, fetched)
    # 32 updates at a time, over at most 40 connections (the outbox takes
    # up to four): each handler spends most of its time waiting for
    # Telegram (~100-200 ms a request), and with 8 the bot idled at a
    # quarter of its CPU under load.  HTTP goes through `bot.httpclient`
    # (see there why not httpx, whose per-request cost grew with the open
    # connections and made more concurrency cost more CPU per message).
    builder = (
        ApplicationBuilder()
        .token(settings.token or "")
        .concurrent_updates(32)
        .request(make_request(40, **SEND_TIMEOUTS))  # the outbox's stop waits for these (`delivery.SEND_TIMEOUT_S`)
        .get_updates_request(fetched)
        .update_queue(queue)
    )
    if settings.api_url:
        builder = builder.base_url(settings.api_url).base_file_url(settings.api_url.replace("/bot", "/file/bot"))

    async def post_init(app: Application) -> None:  # type: ignore[type-arg]
        # The engine is taken from bot_data, not from this closure: the
        # services are then all that holds it, so that the one a FAQ reload
        # replaces is freed (see `caching`).
        delivery = Delivery(app.bot, store, settings.operator_chat_id, on_migrated=lambda old, new: operators_moved(svc, new))
        svc = Services(settings, app.bot_data.pop("engine"), store, delivery)
        app.bot_data["services"] = svc
        svc.bot_username = app.bot.username or ""
        svc.awaiting_human = store.awaiting_human(after=dt.datetime.now(dt.UTC) - AWAITING_HUMAN_FOR)  # before the replay
        replayed = await queue.replay(app.bot)
        if replayed:
            log.info("handling %d updates received before a restart and not yet handled", replayed)
        try:  # the menu is a convenience: a Telegram hiccup here must not stop the start
            await register_commands(app)
        except TelegramError as exc:
            log.warning("could not set the command menu (%s: %s); it stays as it was until the next start", type(exc).__name__, exc)
        svc.delivery.start()
        store.checkpoint_in_background()
        freeze_long_lived()  # see "Performance" in the README
        if settings.huge_pages:
            collapse_heap_in_background()  # the index onto huge pages (`hugepages`)
        try:  # SIGHUP reloads the FAQ (only where the loop may own signals)
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, lambda: app.create_task(reload_faq(svc)))
        except (RuntimeError, ValueError, NotImplementedError):
            log.debug("SIGHUP reload not available in this thread")
        else:  # checked once the handler is in place: one that came while starting (`run_bot`) is not missed
            early: threading.Event | None = app.bot_data.pop("sighup", None)
            if early is not None and early.is_set():
                log.info("SIGHUP received while starting: reloading the FAQ")
                # A plain task, kept and awaited at stop: the application is not
                # running yet, and its own `create_task` would neither track it
                # nor keep quiet about that (a raw warning on stderr).
                app.bot_data["early_reload"] = asyncio.get_running_loop().create_task(reload_faq(svc))
        mode = "webhook" if settings.webhook_url else "long polling"
        log.info(
            "Jardam ready: %d entries in %d topics, languages %s, %s, operators' group %s, database %s",
            len(svc.engine.faq.entries),
            len(svc.engine.faq.topics),
            "/".join(LANGS),
            mode,
            "set" if settings.operator_chat_id is not None else "not set",
            store.path,
        )

    def operators_moved(svc: Services, new: int) -> None:
        """The operators' group became a supergroup (`Delivery.chat_migrated`):
        for the rest of this run its new id is the operators' group."""
        svc.settings = dataclasses.replace(svc.settings, operator_chat_id=new)
        if operators is not None:
            operators.add_chat_ids(new)

    async def post_stop(app: Application) -> None:  # type: ignore[type-arg]
        early_reload: asyncio.Task[bool] | None = app.bot_data.pop("early_reload", None)
        if early_reload is not None:  # finished long since, as a rule; else let it finish before the store closes
            await asyncio.gather(early_reload, return_exceptions=True)
        svc: Services | None = app.bot_data.get("services")
        if svc:
            await svc.delivery.stop()

    async def post_shutdown(app: Application) -> None:  # type: ignore[type-arg]
        store.close()
        log.info("Jardam stopped")

    app = builder.post_init(post_init).post_stop(post_stop).post_shutdown(post_shutdown).build()
    app.bot_data["engine"] = engine

    # Groups run in order for each update: -2 drops re-delivered updates,
    # -1 is flood control, 0 answers, 1 records the update as handled.
    app.add_handler(TypeHandler(Update, skip_handled), group=-3)
    app.add_handler(TypeHandler(Update, note_reachable), group=-2)
    app.add_handler(TypeHandler(Update, rate_limit), group=-1)
    app.add_handler(TypeHandler(Update, mark_handled), group=1)

    # Edits are not new messages: an operator fixing a typo in an answer
    # would send it again, a user correcting a question would hand it off twice.
    operators = filters.Chat(settings.operator_chat_id) if settings.operator_chat_id is not None else None
    if operators is not None:  # but an operator editing an answer is told that the edit does not reach the user
        app.add_handler(MessageHandler(operators & filters.UpdateType.EDITED_MESSAGE & filters.REPLY, operator_edit))
    app.add_handler(MessageHandler(filters.UpdateType.EDITED, ignore))
    # A channel's posts (the bot an admin there) are no one's question: an
    # answer, with buttons for no one, would be posted into the channel.
    app.add_handler(MessageHandler(filters.UpdateType.CHANNEL_POSTS, ignore))
    if operators is not None:
        # Telegram's notice that a group became a supergroup, in the old group and the new (not yet the operators' one).
        app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, group_migrated))
        # The operators' group first, so its messages never reach user handlers.
        app.add_handler(CommandHandler("open", open_command, filters=operators))
        app.add_handler(CommandHandler("close", close_command, filters=operators))
        app.add_handler(CommandHandler("reload", reload_command, filters=operators))
        # Any other reply is an answer, whatever it starts with ("/topics — open this menu…"):
        # the three commands above, sent as replies too, are still commands.
        app.add_handler(MessageHandler(operators & filters.REPLY, operator_reply))
        app.add_handler(MessageHandler(operators, ignore))  # the rest is operators' own talk
    # Commands users may send anywhere.
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CommandHandler("lang", lang_command))
    app.add_handler(CommandHandler("help", help_command))
    app.add_handler(CommandHandler("topics", topics_command))
    app.add_handler(CommandHandler("human", human_command))
    app.add_handler(CommandHandler("forget", forget_command))
    # After every real command: any other one, in a private chat, is told
    # which there are (in groups, other bots' commands are not ours to answer).
    app.add_handler(MessageHandler(filters.ChatType.PRIVATE & filters.COMMAND, unknown_command))
    app.add_handler(CallbackQueryHandler(on_callback))
    # A reply, in a private chat or a group, may be a follow-up to an operator's answer.
    replies = (filters.ChatType.PRIVATE | filters.ChatType.GROUPS) & filters.UpdateType.MESSAGE & filters.REPLY & ~filters.COMMAND
    app.add_handler(MessageHandler(replies, on_reply))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, on_text))
    app.add_handler(MessageHandler(filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL, on_non_text))
    app.add_error_handler(on_error)
    return app


async def start_polling_app(app: Application, *, timeout: int = 10) -> None:  # type: ignore[type-arg]
    """Start an application by hand, hooks included, as `run_polling` would.

    For embedding the bot in another event loop (tests, the benchmark):
    `initialize`/`start` do not call `post_init`, so it is called here.
    """
    await app.initialize()
    if app.post_init:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0.0, timeout=timeout)


async def stop_polling_app(app: Application) -> None:  # type: ignore[type-arg]
    """Stop what `start_polling_app` started, with the stop and shutdown hooks."""
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    if app.post_stop:
        await app.post_stop(app)
    await app.shutdown()
    if app.post_shutdown:
        await app.post_shutdown(app)


async def wait_for_telegram(bot: Bot, *, first_delay: float = START_RETRY_FIRST_S, max_delay: float = START_RETRY_MAX_S) -> None:
    """Initialise the bot (its first call to Telegram, `getMe`), asking
    again while Telegram cannot be reached (network, timeouts, 5xx, 429):
    after `first_delay`, then twice as long each time up to `max_delay`,
    with one warning line per failed try and no traceback.  A refused token
    (`InvalidToken`) is raised at once: trying again would not help."""
    delay = first_delay
    while True:
        try:
            await bot.initialize()  # python-telegram-bot's own: another call after a failure tries again
            return
        except (NetworkError, RetryAfter) as exc:
            if isinstance(exc, BadRequest):  # a NetworkError to python-telegram-bot, but asking again changes nothing
                raise
            wait = max(delay, _retry_after_seconds(exc)) if isinstance(exc, RetryAfter) else delay
            log.warning("Telegram cannot be reached to start (%s: %s); trying again in %g s", type(exc).__name__, exc, wait)
        await asyncio.sleep(wait)
        delay = min(delay * 2, max_delay)


async def reach_telegram(bot: Bot, stop_signals: tuple[signal.Signals, ...]) -> bool:
    """`wait_for_telegram`, which the stop signals end at once: whether
    Telegram answered before one came.  The signals' handlers are left in
    place for python-telegram-bot's own, which replace them before the loop
    runs again: a signal between the two is not lost."""
    loop = asyncio.get_running_loop()
    waiting = asyncio.ensure_future(wait_for_telegram(bot))
    stopped: list[signal.Signals] = []

    def stop(sig: signal.Signals) -> None:
        stopped.append(sig)
        waiting.cancel()

    for sig in stop_signals:
        loop.add_signal_handler(sig, stop, sig)
    with contextlib.suppress(asyncio.CancelledError):
        await waiting
    return not stopped


def run_bot(settings: Settings, engine: Engine, store: Store, *, sighup: threading.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM, by long polling or by webhook.

    The engine is the bot's from here on: it is not kept in this frame,
    so that a FAQ reload, which replaces it, frees it.  (Pass it straight
    from its making, as `jardam run` does, not from a variable of yours.)
    `sighup`: set when a SIGHUP came before the bot took the signal over
    (`jardam run` notes them from its very start); the FAQ is then
    reloaded once the bot is ready.
    """
    configure_logging(settings.log_level, [settings.token, settings.webhook_secret])
    app = build_application(settings, engine, store)
    del engine
    if sighup is not None:
        app.bot_data["sighup"] = sighup
    stop_signals = (signal.SIGINT, signal.SIGTERM)
    # What escapes goes through the log, whose filter takes secrets out: an
    # uncaught traceback would print them (InvalidToken's message holds the token).
    try:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)  # the loop `run_polling` and `run_webhook` then take up
        if not loop.run_until_complete(reach_telegram(app.bot, stop_signals)):
            loop.close()
            store.close()
            log.info("Jardam stopped before Telegram could be reached")
            return
        if settings.webhook_url:
            app.run_webhook(
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                url_path="telegram",
                webhook_url=settings.webhook_url.rstrip("/") + "/telegram",
                secret_token=settings.webhook_secret,
                stop_signals=stop_signals,
                bootstrap_retries=-1,  # its setWebhook asked again while Telegram fails, as `wait_for_telegram` does getMe
            )
        else:
            app.run_polling(poll_interval=0.0, timeout=10, stop_signals=stop_signals, drop_pending_updates=False, bootstrap_retries=-1)
    except InvalidToken as exc:
        log.error("Telegram refused the bot token (TELEGRAM_BOT_TOKEN): %s", exc)
        raise SystemExit(1) from None
    except Exception:
        log.exception("the bot stopped on an error")
        raise SystemExit(1) from None

