"""Masking personal data before a question is stored or shown to operators.

Operators need the question, not the user's phone number, e-mail address or
passport number; the log of unanswered questions is kept for months and
read by several people.  What looks like one of those is replaced by a
placeholder that still tells the reader what was there.
"""

from __future__ import annotations

import re
from collections.abc import Callable

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
# A passport or other document number: letters then digits (AN1234567,
# ID 1234567, an1234567 as typed on a phone), or the Russian
# series-and-number layout (45 12 345678); checked before phone numbers so
# that "AN 1234567" counts as a document.  Lower-case letters only when the
# digits follow at once: "за 150000" is an amount.
DOCUMENT = re.compile(r"\b(?:[A-ZА-Я]{1,3}[ -]?\d{6,9}|[A-Za-zА-Яа-я]{1,3}\d{6,9}|\d{2} \d{2} \d{6})\b")
# Phone numbers: optional +, then 9–15 digits with spaces, dashes, dots or
# brackets; also when typed against a word ("номер0555123456").
PHONE = re.compile(r"(?<![\d+])\+?\d[\d\s().-]{7,}\d(?!\d)")

MASKS = ((EMAIL, "[e-mail]"), (DOCUMENT, "[document number]"), (PHONE, "[phone]"))
# Each mask needs a digit or an '@': a text with neither holds none of them.
_MAY_HOLD_ONE = re.compile(r"[\d@]")


def mask_personal_data(text: str) -> str:
    """The text with e-mail addresses, document numbers and phone numbers masked."""
    for pattern, placeholder in MASKS:
        text = pattern.sub(_masker(placeholder), text)
    return text


def without_personal_data(text: str) -> str:
    """The text with e-mail addresses, document numbers and phone numbers
    left out, for matching: "how do I check my ban? passport AN1234567" is
    the question without the number, which, a word the FAQ never uses,
    had made a clear question look like something else (handed off)."""
    if _MAY_HOLD_ONE.search(text) is None:  # most messages: one pass in C, not three
        return text
    for pattern, _ in MASKS:
        text = pattern.sub(_masker(" "), text)
    return text


def _masker(placeholder: str) -> Callable[[re.Match[str]], str]:
    def mask(match: re.Match[str]) -> str:
        found = match.group(0)
        # Short digit runs are years, days, amounts: not personal data.
        enough = "@" in found or sum(ch.isdigit() for ch in found) >= 6
        return placeholder if enough else found

    return mask
