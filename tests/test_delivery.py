"""The outbox: per-chat order, users before operators, nothing sent twice.

The outbox (`bot.delivery.Delivery`) runs with a real python-telegram-bot
`Bot` against the fake Bot API server and a real SQLite file; faults are
the fake server's.  Assertions are on what chats received and in which
order (the server's record), never on how long anything took.
"""

from __future__ import annotations

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlite_utils
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup

from bot import delivery as delivery_module
from bot.delivery import Delivery
from bot.engine import Engine
from bot.fakebotapi import FakeBotAPI
from bot.store import Store
from bot.telegram_app import build_application

from .conftest import OPERATORS, TOKEN, bot_settings
from .test_run_process import base_env, jardam
from .test_telegram import USER, buttons, last_to

CHATS = (5101, 5102, 5103)


@asynccontextmanager
async def outbox(api: FakeBotAPI, db_path: Path, *, concurrency: int = delivery_module.CONCURRENCY) -> AsyncIterator[Delivery]:
    """A Delivery over a real Bot talking to the fake server; stopped and closed after."""
    store = Store(db_path)
    async with Bot(TOKEN, base_url=api.base_url) as bot:
        delivery = Delivery(bot, store, OPERATORS, concurrency=concurrency)
        try:
            yield delivery
        finally:
            await delivery.stop()
            store.close()


async def drained(store: Store, timeout: float = 30.0) -> None:
    """Wait until nothing is pending (retries included)."""
    for _ in range(int(timeout / 0.05)):
        if store.pending_count() == 0:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"outbox not drained: {store.pending_count()} pending")


def enqueue_rounds(delivery: Delivery, chats: Sequence[int], rounds: int) -> None:
    """Queue `rounds` texts "CHAT:N" for each chat, round by round (chats interleaved)."""
    for n in range(rounds):
        for chat in chats:
            delivery.enqueue("text", chat, {"text": f"{chat}:{n}"})


def texts(api: FakeBotAPI, chat_id: int) -> list[str]:
    return [m["text"] for m in api.sent_messages(chat_id)]


def statuses(db_path: Path) -> Counter[str]:
    return Counter(r["status"] for r in sqlite_utils.Database(db_path).query("select status from outbox"))


def test_each_chat_keeps_its_order_while_other_chats_go_on(api: FakeBotAPI, db_path: Path) -> None:
    """A 500 then a 429 for one chat hold that chat's later items, and no other chat."""
    held, *others = CHATS
    api.fail("sendMessage", status=500, times=1, chat_id=held)
    api.fail("sendMessage", status=429, retry_after=1, times=1, chat_id=held)

    async def scenario() -> None:
        async with outbox(api, db_path) as delivery:
            enqueue_rounds(delivery, CHATS, 5)
            delivery.start()
            await drained(delivery.store)

    asyncio.run(scenario())
    for chat in CHATS:
        assert texts(api, chat) == [f"{chat}:{n}" for n in range(5)]
    held_calls = [c for c in api.calls_of("sendMessage") if c.params["chat_id"] == held]
    assert [c.status for c in held_calls] == [500, 429, 200, 200, 200, 200, 200]
    assert [c.params["text"] for c in held_calls[:3]] == [f"{held}:0"] * 3  # the first item, until it went
    first_through = held_calls[2].index
    assert all(c.index < first_through for c in api.calls_of("sendMessage") if c.params["chat_id"] in others)
    assert statuses(db_path) == {"sent": 15}


def test_users_go_before_a_backlog_of_operator_posts(api: FakeBotAPI, db_path: Path) -> None:
    async def scenario() -> int:
        # One send at a time: the order is then exactly the priority order.
        async with outbox(api, db_path, concurrency=1) as delivery:
            for n in range(20):
                delivery.enqueue("operator_post", OPERATORS, {"text": f"post {n}"})
            for chat in CHATS:
                delivery.enqueue("text", chat, {"text": f"reply to {chat}"})
            return await delivery.flush()

    assert asyncio.run(scenario()) == 23
    order = [c.params["chat_id"] for c in api.calls_of("sendMessage")]
    assert order == [*CHATS] + [OPERATORS] * 20
    assert texts(api, OPERATORS) == [f"post {n}" for n in range(20)]


def operator_texts(api: FakeBotAPI) -> list[str]:
    return [c.params["text"] for c in api.calls_of("sendMessage") if c.params["chat_id"] == OPERATORS and c.status == 200]


def test_operators_group_keeps_order_per_question_and_a_5xx_holds_only_that_question(api: FakeBotAPI, db_path: Path) -> None:
    api.fail("sendMessage", status=500, times=1, chat_id=OPERATORS)

    async def scenario() -> None:
        async with outbox(api, db_path, concurrency=1) as delivery:
            delivery.enqueue("operator_post", OPERATORS, {"text": "#1 post"}, qid=1)
            delivery.enqueue("operator_post", OPERATORS, {"text": "#1 follow-up"}, qid=1)
            delivery.enqueue("operator_post", OPERATORS, {"text": "#2 post"}, qid=2)
            delivery.start()
            await drained(delivery.store)

    asyncio.run(scenario())
    assert operator_texts(api) == ["#2 post", "#1 post", "#1 follow-up"]


def test_a_429_holds_the_whole_chat_it_came_for(api: FakeBotAPI, db_path: Path) -> None:
    """Telegram's flood limit is per chat: other questions' posts wait too, users do not."""
    api.fail("sendMessage", status=429, retry_after=1, times=1, chat_id=OPERATORS)

    async def scenario() -> None:
        async with outbox(api, db_path, concurrency=1) as delivery:
            delivery.enqueue("operator_post", OPERATORS, {"text": "#1 post"}, qid=1)
            delivery.enqueue("operator_post", OPERATORS, {"text": "#2 post"}, qid=2)
            delivery.start()
            await api_answered(api, OPERATORS)
            delivery.enqueue("text", CHATS[0], {"text": "to a user"})
            await drained(delivery.store)

    asyncio.run(scenario())
    assert operator_texts(api) == ["#1 post", "#2 post"]
    sends = [(c.params["chat_id"], c.status) for c in api.calls_of("sendMessage")]
    assert sends == [(OPERATORS, 429), (CHATS[0], 200), (OPERATORS, 200), (OPERATORS, 200)]


async def api_answered(api: FakeBotAPI, chat_id: int, timeout: float = 10.0) -> None:
    """Wait until the fake server has answered a send to this chat."""
    for _ in range(int(timeout / 0.02)):
        if any(c.params.get("chat_id") == chat_id for c in api.calls_of("sendMessage")):
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"nothing sent to {chat_id}")


def test_nothing_sent_twice_with_faults_and_concurrent_passes(api: FakeBotAPI, db_path: Path) -> None:
    """The worker and three flushes at once, 10 % of sends failing: each item once, each chat in order."""
    chats = [6000 + n for n in range(10)]
    api.fail_rate("sendMessage", 0.1, seed=3)

    async def scenario() -> None:
        async with outbox(api, db_path) as delivery:
            enqueue_rounds(delivery, chats, 6)
            delivery.start()
            await asyncio.gather(*(delivery.flush() for _ in range(3)))
            await drained(delivery.store)

    asyncio.run(scenario())
    accepted = [c.params["text"] for c in api.calls_of("sendMessage") if c.status == 200]
    assert sorted(accepted) == sorted(f"{chat}:{n}" for chat in chats for n in range(6))  # each exactly once
    assert any(c.status != 200 for c in api.calls_of("sendMessage"))  # faults were injected
    for chat in chats:
        assert texts(api, chat) == [f"{chat}:{n}" for n in range(6)]
    assert statuses(db_path) == {"sent": 60}


def test_a_dropped_item_lets_its_chat_go_on(api: FakeBotAPI, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused item (400, after its attempts) and a blocked user's items are dropped; order goes on."""
    refused, blocked, _ = CHATS
    monkeypatch.setattr(delivery_module, "MAX_BAD_REQUEST_ATTEMPTS", 1)
    api.fail("sendMessage", status=400, description="message text is empty", times=1, chat_id=refused)
    api.blocked_chats.add(blocked)

    async def scenario() -> None:
        async with outbox(api, db_path) as delivery:
            for n in range(2):
                delivery.enqueue("text", refused, {"text": f"{refused}:{n}"})
                delivery.enqueue("text", blocked, {"text": f"{blocked}:{n}"})
            await delivery.flush()

    asyncio.run(scenario())
    assert texts(api, refused) == [f"{refused}:1"]
    assert texts(api, blocked) == []
    assert len([c for c in api.calls_of("sendMessage") if c.params["chat_id"] == blocked]) == 1  # then known blocked
    db = sqlite_utils.Database(db_path)
    assert db["users"].get(blocked)["blocked"] == 1
    assert statuses(db_path) == {"dropped": 3, "sent": 1}


def test_after_a_restart_pending_users_go_before_pending_posts(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    """Rows left pending by a stopped bot are delivered by the next one, a user's reply ahead of the posts."""
    store = Store(db_path)
    for n in range(1, 31):
        store.enqueue("operator_post", OPERATORS, {"text": f"#{n} post"}, n)
    store.enqueue("text", USER, {"text": "your answer"})
    store.close()
    run_bot()
    api.wait_for_sent(chat_id=OPERATORS, count=30, timeout=15)
    assert texts(api, USER) == ["your answer"]
    assert sorted(texts(api, OPERATORS)) == sorted(f"#{n} post" for n in range(1, 31))
    order = [c.params["chat_id"] for c in api.calls_of("sendMessage")]
    # Started in the first wave of sends (beside a few posts for other questions), not after the backlog.
    assert order.index(USER) < 2 * delivery_module.CONCURRENCY < 30


# --- #6's smaller defects ------------------------------------------------------------


def test_thumbs_down_after_a_chosen_entry_hands_on_the_users_question(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    api.push_text(USER, "Амина?", language_code="ru")
    clarify = last_to(api, USER)
    choice = next(data for _, data in buttons(clarify) if data.startswith("e:"))
    mark = api.checkpoint()
    api.push_callback(USER, clarify["message_id"], choice)
    answer = last_to(api, USER, since=mark)
    down = next(data for _, data in buttons(answer) if data.endswith(":down"))
    mark = api.checkpoint()
    api.push_callback(USER, answer["message_id"], down)
    post = last_to(api, OPERATORS, since=mark)
    assert post["text"].startswith("❓ #1 · ru · feedback")
    assert "Амина?" in post["text"] and "(👎" not in post["text"]


def test_thumbs_down_on_an_answer_sent_from_the_outbox_hands_on_the_question(api: FakeBotAPI, run_bot: Any) -> None:
    api.fail("sendMessage", status=500, times=1, chat_id=USER)
    run_bot()
    api.push_text(USER, "how do I check if I have an entry ban", language_code="en")
    answer = last_to(api, USER, timeout=10)
    assert [c.status for c in api.calls_of("sendMessage") if c.params["chat_id"] == USER] == [500, 200]
    down = next(data for _, data in buttons(answer) if data.endswith(":down"))
    mark = api.checkpoint()
    api.push_callback(USER, answer["message_id"], down, language_code="en")
    post = last_to(api, OPERATORS, since=mark)
    assert "feedback" in post["text"] and "how do I check if I have an entry ban" in post["text"]


def test_unstored_handoff_tells_operators_a_reply_cannot_reach_the_user(api: FakeBotAPI, run_bot: Any) -> None:
    runner = run_bot()
    api.push_text(USER, "/help", language_code="ru")
    last_to(api, USER)
    assert runner.store is not None
    runner.on_loop(runner.store.db.execute, "PRAGMA query_only = ON")  # every write fails, as on a read-only or full disk
    mark = api.checkpoint()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    assert last_to(api, USER, since=mark)["text"].startswith("У меня нет проверенного ответа")
    post = last_to(api, OPERATORS, since=mark)["text"]
    assert post.startswith("⚠️ NOT STORED · ru · engine") and "какой курс доллара сегодня" in post
    assert "will NOT reach the user" in post and "chat id is not stored" in post
    assert "↩️" not in post and "/close" not in post and str(USER) not in post
    runner.on_loop(runner.store.db.execute, "PRAGMA query_only = OFF")


@pytest.mark.slow
def test_polling_failures_are_one_warning_line(tmp_path: Path) -> None:
    """A failing getUpdates is retried by python-telegram-bot: a warning, not an update error."""
    with FakeBotAPI(token=TOKEN) as api:
        env = base_env(tmp_path) | {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.base_url}
        proc = jardam("run", env=env)
        try:
            api.wait_for_polling(timeout=30)
            api.fail("getUpdates", status=502, times=2)
            api.push_text(42, "/help", language_code="ru")  # ends the waiting poll; the next two fail
            api.wait_for_call("getUpdates", predicate=lambda c: c.status == 502, count=2, timeout=15)
            api.push_text(42, "как проверить запрет на въезд", language_code="ru")
            assert "📚 Источники" in api.wait_for_sent(chat_id=42, count=2, timeout=15)[-1]["text"]  # polling again
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
    warnings = [line for line in out.splitlines() if "polling Telegram for updates failed" in line]
    assert len(warnings) == 2 and all(" WARNING " in line and "NetworkError: Bad Gateway" in line for line in warnings), out
    assert "Traceback" not in out and "error while handling an update" not in out, out


def test_sent_but_unrecorded_rows_are_not_sent_again(api: FakeBotAPI, db_path: Path) -> None:
    """Telegram accepted it and the database refused to record it: held, recorded later, never resent."""
    chat = CHATS[0]

    async def scenario() -> None:
        async with outbox(api, db_path) as delivery:
            delivery.enqueue("text", chat, {"text": "once"})
            delivery.enqueue("text", chat, {"text": "after"})
            delivery.store.db.execute("PRAGMA query_only = ON")  # read-only from now on, as on a full disk
            await delivery.flush()
            await delivery.flush()  # still refused: nothing sent again, and the chat's next item waits
            assert texts(api, chat) == ["once"]
            delivery.store.db.execute("PRAGMA query_only = OFF")
            await delivery.flush()

    asyncio.run(scenario())
    assert texts(api, chat) == ["once", "after"]
    assert statuses(db_path) == {"sent": 2}


def test_a_sent_post_is_linked_to_its_question_with_its_recording_even_when_that_waited(api: FakeBotAPI, db_path: Path) -> None:
    """Marking a post sent and linking it to its question (what routes an
    operator's reply to the user) are one write: a database that refused
    it at first gets both once it takes writes again, and a crash cannot
    leave one without the other."""

    async def scenario() -> None:
        async with outbox(api, db_path) as delivery:
            delivery.enqueue("operator_post", OPERATORS, {"text": "❓ #1 post"}, qid=1)
            delivery.store.db.execute("PRAGMA query_only = ON")
            await delivery.flush()
            delivery.store.db.execute("PRAGMA query_only = OFF")
            await delivery.flush()

    asyncio.run(scenario())
    (post,) = api.sent_messages(OPERATORS)
    db = sqlite_utils.Database(db_path)
    assert statuses(db_path) == {"sent": 1}
    assert [(r["chat_id"], r["message_id"], r["question_id"]) for r in db["relay"].rows] == [(OPERATORS, post["message_id"], 1)]


def test_stop_returns_when_the_worker_is_woken_as_it_is_cancelled(api: FakeBotAPI, db_path: Path) -> None:
    """A kick in the same instant as stop() must not keep the worker (and the bot's shutdown) alive.

    On Python 3.11 `asyncio.wait_for` returned normally when cancelled just
    as the event it waited on was set, so the worker missed its cancel and
    looped on; `stop()` then waited for ever (the hang of the test above).
    """

    async def scenario() -> list[int]:
        store = Store(db_path)
        hung = []
        async with Bot(TOKEN, base_url=api.base_url) as bot:
            for n in range(40):
                delivery = Delivery(bot, store, OPERATORS, tick_s=0.01)
                delivery.start()
                worker = delivery._task
                assert worker is not None
                for _ in range(n % 4):  # catch the worker at each point of its loop
                    await asyncio.sleep(0)
                delivery.kick()
                stopping = asyncio.ensure_future(delivery.stop())
                done, _ = await asyncio.wait([stopping], timeout=5)
                if not done:  # a liveness guard, not a timing: stopping an empty outbox takes microseconds
                    hung.append(n)
                    worker.cancel()  # a second cancel, not at a kick, ends the stray worker
                    await asyncio.wait([stopping], timeout=5)
                    break
        store.close()
        return hung

    assert asyncio.run(scenario()) == []


async def post_taken_by_telegram(api: FakeBotAPI, delivery: Delivery, user: int) -> asyncio.Future[int]:
    """A user's question posted to the operators, held once Telegram has it
    (responses to sendMessage held, see `FakeBotAPI.hold`): the flush sending it."""
    qid = delivery.store.add_question(chat_id=user, lang="ru", text="вопрос", candidates=[], reason="unsure").id
    delivery.store.enqueue("operator_post", OPERATORS, {"text": f"#{qid} вопрос"}, qid)
    sending = asyncio.ensure_future(delivery.flush())
    for _ in range(200):  # until Telegram has it
        if api.calls_of("sendMessage"):
            break
        await asyncio.sleep(0.01)
    assert api.calls_of("sendMessage")
    return sending


def test_a_user_forgotten_while_a_post_about_them_is_on_its_way_leaves_nothing_behind(
    api: FakeBotAPI, db_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """/forget between Telegram taking an operators' post and the outbox recording it:
    the post went, no row linking it to the forgotten question comes back,
    and the post is deleted from the group."""
    user = CHATS[0]
    release = api.hold("sendMessage")

    async def scenario() -> None:
        async with outbox(api, db_path) as delivery:
            sending = await post_taken_by_telegram(api, delivery, user)
            delivery.store.forget_user(user)
            release.set()
            await sending
            await delivery.flush()  # the deletion it queued

    asyncio.run(scenario())
    assert [m["text"] for m in api.sent_messages(OPERATORS)] == ["#1 вопрос"]
    assert api.chat_history(OPERATORS) == []
    db = sqlite_utils.Database(db_path)
    assert db.execute("SELECT count(*) FROM relay").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM questions").fetchone()[0] == 0
    assert db.execute("SELECT kind, status, payload FROM outbox").fetchall() == [("delete", "sent", '{"message_id": 1}')]
    assert not [r for r in caplog.records if r.levelname in {"ERROR", "CRITICAL"}]


def test_a_post_sent_while_the_database_was_full_is_deleted_if_its_user_was_forgotten_meanwhile(api: FakeBotAPI, db_path: Path) -> None:
    """Telegram took the post, the database refused to mark it sent, the
    user was forgotten once it took writes again: when the outbox records
    the send at last, it finds the row gone and deletes the post."""
    user = CHATS[0]
    release = api.hold("sendMessage")

    async def scenario() -> None:
        async with outbox(api, db_path) as delivery:
            sending = await post_taken_by_telegram(api, delivery, user)
            delivery.store.db.execute("PRAGMA query_only = ON")  # the disk is full
            release.set()
            await sending
            delivery.store.db.execute("PRAGMA query_only = OFF")  # space again
            delivery.store.forget_user(user)
            await delivery.flush()  # records the send: the row is gone
            await delivery.flush()  # the deletion it queued

    asyncio.run(scenario())
    assert [m["text"] for m in api.sent_messages(OPERATORS)] == ["#1 вопрос"]
    assert api.chat_history(OPERATORS) == []


@pytest.mark.parametrize(
    ("failure", "tries"),
    [({"status": 400, "migrate_to_chat_id": -1009990002}, 1), ({"status": 500}, delivery_module.MAX_DELETE_ATTEMPTS)],
    ids=["group-upgraded", "server-errors"],
)
def test_a_deletion_telegram_cannot_make_is_given_up(api: FakeBotAPI, db_path: Path, failure: dict[str, int], tries: int) -> None:
    """A deletion in a group since upgraded to a supergroup can never be
    made, and one that keeps failing soon could not be: neither may wait in
    the outbox for ever."""
    user = CHATS[0]
    store = Store(db_path)
    qid = store.add_question(chat_id=user, lang="ru", text="вопрос", candidates=[], reason="unsure").id
    store.link_message(OPERATORS, 42, qid)
    store.forget_user(user)
    store.close()
    api.fail("deleteMessage", times=100, **failure)  # type: ignore[arg-type]

    async def scenario() -> None:
        async with outbox(api, db_path) as delivery:
            for _ in range(tries + 2):
                delivery.store.db.execute("UPDATE outbox SET not_before = 0 WHERE status = 'pending'")  # no backoff to wait out
                await delivery.flush()

    asyncio.run(scenario())
    assert len(api.calls_of("deleteMessage")) == tries
    assert sqlite_utils.Database(db_path).execute("SELECT kind, status FROM outbox").fetchall() == [("delete", "dropped")]


def test_a_keyboard_goes_out_as_the_library_would_send_it_directly_and_from_the_outbox(api: FakeBotAPI, db_path: Path) -> None:
    """`send_message` hands python-telegram-bot the keyboard's JSON, made
    once (`delivery.markup_json`), and the outbox its stored dict: the
    request must be what `Bot.send_message` itself sends, byte for byte."""
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("→ Патент кимге керек?", callback_data="e:patent-who-needs")], [InlineKeyboardButton("👍", callback_data="f:x:up")]]
    )

    async def scenario() -> None:
        async with outbox(api, db_path) as delivery:
            await delivery.bot.send_message(CHATS[0], "library", reply_markup=keyboard)
            await delivery_module.send_message(delivery.bot, CHATS[0], "direct", keyboard)
            await delivery_module.send_message(delivery.bot, CHATS[0], "again", keyboard)  # the cached JSON
            delivery.enqueue("text", CHATS[0], {"text": "outbox", "reply_markup": keyboard.to_dict()})
            delivery.start()
            await drained(delivery.store)

    asyncio.run(scenario())
    sent = {c.params["text"]: c.raw_params.get("reply_markup") for c in api.calls_of("sendMessage")}
    assert set(sent) == {"library", "direct", "again", "outbox"}
    assert sent["library"] is not None and "patent-who-needs" in sent["library"]
    assert sent["direct"] == sent["again"] == sent["outbox"] == sent["library"]
    assert buttons(api.sent_messages(CHATS[0])[-1]) == [("→ Патент кимге керек?", "e:patent-who-needs"), ("👍", "f:x:up")]


def test_a_send_telegram_answers_late_at_shutdown_is_let_finish_and_not_sent_again(api: FakeBotAPI, db_path: Path, engine: Engine) -> None:
    """Stopping while Telegram has a message and has not answered yet:
    the send is let finish within its own timeout (30 s to read the answer)
    and marked sent, not cut short (it was, after 5 s) and sent again at
    the next start.  The bot's own HTTP client and a Delivery as the bot
    makes it; Telegram answers 5.5 s after the stop began."""
    chat = CHATS[0]
    release = api.hold("sendMessage")

    async def scenario() -> None:
        store = Store(db_path)
        app = build_application(bot_settings(api, db_path), engine, store)  # not started: for its Bot and HTTP client
        async with app.bot as bot:
            delivery = Delivery(bot, store, OPERATORS)
            delivery.enqueue("text", chat, {"text": "your answer"})
            delivery.start()
            await api_answered(api, chat)  # Telegram has it; its answer is held
            stopping = asyncio.ensure_future(delivery.stop())
            await asyncio.sleep(5.5)
            release.set()
            await asyncio.wait_for(stopping, 10)

            restarted = Delivery(bot, store, OPERATORS)  # the next start
            await restarted.flush()
            await restarted.stop()
        store.close()

    asyncio.run(scenario())
    assert texts(api, chat) == ["your answer"]
    assert len(api.calls_of("sendMessage")) == 1
    assert statuses(db_path) == {"sent": 1}
