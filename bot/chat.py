"""`jardam chat`: the engine in a terminal, as a user would meet it.

The terminal user is chat id 0 in the database; unanswered questions are
recorded exactly as the bot records them, so a team can try the whole flow
without Telegram.  No one answers in a terminal, so it promises no person,
as the bot without an operators' group does not.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import click

from .engine import Engine, Reply
from .faq import LANGS
from .store import Store

TERMINAL_CHAT_ID = 0


def run_chat(
    engine: Engine,
    store: Store,
    *,
    user_lang: str,
    read: Callable[[str], str] = input,
    write: Callable[[str], None] = click.echo,
) -> None:
    """Read messages until /quit or end of input; reply to each."""
    _ = engine.catalogs.gettext
    write(_(user_lang, "Hello! I am Jardam. Ask me about work in Russia, entry bans, the Amina app, Sakharovo and more."))
    write(_(user_lang, "I am not a lawyer: when I have no checked answer, I say so, and I do not guess."))
    write("(/lang ky|ru|en, /quit)")
    offered: tuple[str, ...] = ()
    last_lang = user_lang
    while True:
        try:
            text = read("> ").strip()
        except (EOFError, KeyboardInterrupt):
            write("")
            return
        if text in {"/quit", "/exit", "/q"}:
            return
        if text.startswith("/lang"):
            parts = text.split()
            if len(parts) == 2 and parts[1] in LANGS:
                user_lang = parts[1]
                write(_(user_lang, "Language changed."))
            else:
                write("/lang ky|ru|en")
            continue
        if text.isdigit() and offered and 1 <= int(text) <= len(offered):
            reply = engine.entry_reply(offered[int(text) - 1], last_lang)
        else:
            reply = engine.reply(text, user_lang)
        last_lang = reply.lang  # a chosen number is answered in the language it was offered in
        offered = tuple(c.id for c in reply.choices) or tuple(c.id for c in reply.related)
        record(store, reply, text)
        if reply.outcome == "handoff":  # the engine's text promises a person, who is not here
            reply = replace(
                reply,
                text=_(
                    reply.lang,
                    "I have no checked answer to this question, and I do not guess on legal matters. "
                    "Your question is recorded so that the answers can be improved, but no one will answer it here. "
                    "Try asking in other words.",
                ),
            )
        write(render(reply))


def render(reply: Reply) -> str:
    """Reply text with numbered related entries, as buttons would show them."""
    if reply.outcome == "answer" and reply.related:
        more = "\n".join(f"  {i}. {c.title}" for i, c in enumerate(reply.related, 1))
        return f"{reply.text}\n\n→\n{more}"
    return reply.text


def record(store: Store, reply: Reply, text: str) -> None:
    store.log_event(TERMINAL_CHAT_ID, reply.lang, reply.outcome, reply.entry_id, reply.confidence, "terminal")
    if reply.outcome == "handoff":
        store.add_question(
            chat_id=TERMINAL_CHAT_ID,
            lang=reply.lang,
            text=text,
            candidates=[{"id": c.entry_id, "score": c.score} for c in reply.candidates],
            reason="engine",
        )
    if reply.unanswered:  # the message's other questions, which no entry answers (`Reply.unanswered`)
        store.add_question(
            chat_id=TERMINAL_CHAT_ID,
            lang=reply.lang,
            text="\n".join(reply.unanswered),
            candidates=[{"id": reply.entry_id, "score": 0.0, "answered": True}],
            reason="part",
        )
