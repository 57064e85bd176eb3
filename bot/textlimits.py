"""Telegram's length limits, counted as Telegram counts them.

A message may hold 4096 characters, but Telegram counts UTF-16 code units:
an emoji (and any character beyond the Basic Multilingual Plane) is two.
Cut by Python's code points, 2040 emoji and a header already exceed the
limit, and Telegram refuses the whole message.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from telegram.constants import MessageLimit

MAX_TEXT_UNITS = int(MessageLimit.MAX_TEXT_LENGTH)
ELLIPSIS = "…"


def utf16_len(text: str) -> int:
    """The length Telegram counts: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def cut_utf16(text: str, units: int) -> str:
    """`text` cut to at most `units` UTF-16 units, never inside a character,
    with "…" at the end when anything was cut."""
    if utf16_len(text) <= units:
        return text
    room = max(0, units - utf16_len(ELLIPSIS))
    encoded = text.encode("utf-16-le")[: room * 2]
    return encoded.decode("utf-16-le", errors="ignore") + ELLIPSIS


def with_preview(before: str, preview: str, after: str, limit: int = MAX_TEXT_UNITS) -> str:
    """`before + preview + after` in one message: the preview (a user's
    text) is what gives way, so that the header (the reference operators
    reply to) and the footer always fit."""
    return before + cut_utf16(preview, max(0, limit - utf16_len(before) - utf16_len(after))) + after


def fit_lines(head: str, lines: Sequence[str], more: Callable[[int], str], limit: int = MAX_TEXT_UNITS) -> str:
    """`head` and `lines` (one a line) in one message: when they do not
    fit, as many whole lines as do, then `more(n)`, n the lines left out,
    on a line of its own.  A list is never cut inside a line."""
    text = head + "\n".join(lines)
    if utf16_len(text) <= limit:
        return text
    room = limit - utf16_len(head) - utf16_len(more(len(lines)))  # the longest count, at worst
    shown = 0
    for line in lines:
        room -= utf16_len(line) + 1  # and its newline
        if room < 0:
            break
        shown += 1
    return head + "".join(line + "\n" for line in lines[:shown]) + more(len(lines) - shown)
