"""Inline buttons and their callback data.

Callback data is short text with a one-letter kind and arguments, parsed
strictly: anything the bot did not issue (forged, stale after an FAQ
change, or from an old version) parses to None and gets "this button has
expired" rather than an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from .engine import Choice
from .faq import FAQ, LANGS

LANGUAGE_NAMES = {"ky": "Кыргызча", "ru": "Русский", "en": "English"}


@dataclass(frozen=True)
class Callback:
    kind: str  # lang, topics, topic, entry, feedback, human, forget
    arg: str = ""
    extra: str = ""
    lang: str = ""  # the language of the menu the button is in, where its data says it ("": not said)


def parse_callback(data: str | None, faq: FAQ) -> Callback | None:
    """The button's meaning, or None when the bot did not issue it."""
    if not data or len(data) > 64:
        return None
    kind, _, rest = data.partition(":")
    if kind == "l" and rest in LANGS:
        return Callback("lang", rest)
    if kind == "T" and (rest == "" or rest in LANGS):
        return Callback("topics", lang=rest)
    # The topics menu's buttons end in its language (":ky"); those sent
    # before they did, and the entries offered elsewhere, do not.
    if kind == "t" and faq.topic(rest) is not None:
        return Callback("topic", rest)
    if kind == "e" and rest in faq.entries:
        return Callback("entry", rest)
    item, _, lang = rest.rpartition(":")
    if kind == "t" and lang in LANGS and faq.topic(item) is not None:
        return Callback("topic", item, lang=lang)
    if kind == "e" and lang in LANGS and item in faq.entries:
        return Callback("entry", item, lang=lang)
    if kind == "f":
        entry_id, _, vote = rest.rpartition(":")
        if entry_id in faq.entries and vote in {"up", "down"}:
            return Callback("feedback", entry_id, vote)
    if kind == "h" and rest == "":
        return Callback("human")
    if kind == "fg" and rest in {"yes", "no"}:
        return Callback("forget", rest)
    return None


def language_keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(LANGUAGE_NAMES[lang], callback_data=f"l:{lang}") for lang in LANGS]])


def topics_keyboard(faq: FAQ, lang: str) -> InlineKeyboardMarkup:
    """The topics, each button carrying the menu's language: the menu's
    texts (a topic's title) are too short to tell it by."""
    rows = [[InlineKeyboardButton(t.title.get(lang, t.id), callback_data=f"t:{t.id}:{lang}")] for t in faq.topics]
    return InlineKeyboardMarkup(rows)


def topic_entries_keyboard(faq: FAQ, topic_id: str, lang: str, back_label: str) -> InlineKeyboardMarkup:
    topic = faq.topic(topic_id)
    ids = topic.entry_ids if topic else ()
    rows = [[InlineKeyboardButton(faq.entries[i].title.get(lang, i), callback_data=f"e:{i}:{lang}")] for i in ids]
    rows.append([InlineKeyboardButton(back_label, callback_data=f"T:{lang}")])
    return InlineKeyboardMarkup(rows)


def choices_keyboard(choices: Sequence[Choice], extra: Sequence[InlineKeyboardButton] = ()) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton(c.title, callback_data=f"e:{c.id}")] for c in choices]
    if extra:
        rows.append(list(extra))
    return InlineKeyboardMarkup(rows)


def answer_keyboard(entry_id: str, related: Sequence[Choice]) -> InlineKeyboardMarkup:
    """Links to the related entries, then 👍/👎; the same for every answer
    with that entry and those titles, so made once (python-telegram-bot's
    objects are immutable; making the buttons was ~3 % of the bot's CPU
    per message under load)."""
    return _answer_keyboard(entry_id, tuple(related))


@lru_cache(maxsize=2048)
def _answer_keyboard(entry_id: str, related: tuple[Choice, ...]) -> InlineKeyboardMarkup:
    rows = [[InlineKeyboardButton("→ " + c.title, callback_data=f"e:{c.id}")] for c in related]
    rows.append(
        [
            InlineKeyboardButton("👍", callback_data=f"f:{entry_id}:up"),
            InlineKeyboardButton("👎", callback_data=f"f:{entry_id}:down"),
        ]
    )
    return InlineKeyboardMarkup(rows)


def forget_keyboard(yes: str, no: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(yes, callback_data="fg:yes"), InlineKeyboardButton(no, callback_data="fg:no")]])


def single_button(label: str, data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]])
