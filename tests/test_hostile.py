"""Hostile and broken input: any Unicode text, markup aimed at operators,
buttons the bot never issued, webhook requests without the secret, a token
Telegram rejects, and a database that is corrupt, locked, read-only or full.

Property-based tests (hypothesis) for the text pipeline; everything else
through the real bot against the fake Bot API server, or `jardam` itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import store as store_module
from bot.cli import cli
from bot.engine import Engine
from bot.fakebotapi import FakeBotAPI
from bot.faq import LANGS
from bot.keyboards import Callback, parse_callback
from bot.normalize import fold, skeleton
from bot.store import Store

from .conftest import OPERATORS, ROOT, TOKEN

USER = 6001
MARKUP = "<b>x</b> [link](http://evil.example) *bold*"

# --- any Unicode text --------------------------------------------------------

CONTROL = [chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))]
INVISIBLE = ["\u00ad", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"]  # soft hyphen, zero-width, BOM
DIRECTION = ["\u200e", "\u200f", "\u061c", *map(chr, range(0x202A, 0x202F)), *map(chr, range(0x2066, 0x206A))]
COMBINING = [chr(c) for c in (*range(0x0300, 0x0370), *range(0x0483, 0x048A), 0x20DD, 0x1AB0)]
ODD = ["\ud800", "\udfff", "\U0010ffff", "\ufffd", "ﷺ", "𝕡𝕒𝕥𝕖𝕟𝕥", "İ", "ß", "ﬁ", "Ⅻ", "١٢٣", "🇰🇬", "👨‍👩‍👧"]
WORDS = [
    "патент", "керекпи", "запрет", "на", "въезд", "как", "проверить", "Амина", "amina", "zapret", "patent",
    "kerekpi", "Сахарово", "ban", "entry", "check", "how", "do", "I", "өлкө", "үчүн", "ңы", "регистрация",
]
SPECIALS = CONTROL + INVISIBLE + DIRECTION + COMBINING + ODD
SPECIAL_CHARS = [c for c in SPECIALS if len(c) == 1]

hostile_text = st.one_of(
    st.text(max_size=400),
    st.text(alphabet=st.one_of(st.characters(), st.sampled_from(SPECIAL_CHARS)), max_size=400),
    # Real words with hostile characters between and inside them: reaches all three outcomes.
    st.lists(st.one_of(st.sampled_from(WORDS), st.sampled_from(SPECIALS), st.just(" ")), max_size=60).map("".join),
)
any_lang = st.one_of(st.none(), st.sampled_from([*LANGS, "de", ""]))
PROPERTY = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(hostile_text)
def test_normalisation_never_fails_and_is_stable(text: str) -> None:
    folded = fold(text)
    assert folded == fold(text)
    assert folded == folded.strip() and "  " not in folded
    assert all(ch == " " or ch.isalpha() or ch.isnumeric() or ch.isdigit() for ch in folded)
    assert skeleton(text) == skeleton(text)
    assert isinstance(skeleton(text), str)


@PROPERTY
@given(hostile_text, any_lang)
def test_language_detection_never_fails_and_is_stable(engine: Engine, text: str, user_lang: str | None) -> None:
    detected = engine.detector.detect(text)
    assert detected is None or detected in LANGS
    assert engine.detector.detect(text) == detected
    assert engine.reply_language(text, user_lang) in LANGS


@PROPERTY
@given(hostile_text, any_lang)
def test_every_text_gets_one_of_three_outcomes_the_same_way_every_time(engine: Engine, text: str, user_lang: str | None) -> None:
    reply = engine.reply(text, user_lang)
    assert reply.outcome in ("answer", "clarify", "handoff")
    assert reply.lang in LANGS and reply.text.strip()
    assert 0 <= reply.confidence <= 100
    if reply.outcome == "answer":
        assert reply.entry_id in engine.faq.entries
    assert engine.reply(text, user_lang) == reply


def test_invisible_marks_do_not_change_the_answer(engine: Engine) -> None:
    """Zero-width and direction marks pasted into a question are not letters."""
    for text in ("как проверить запрет на въезд", "patent kerekpi", "how do I check if I have an entry ban"):
        for mark in INVISIBLE + DIRECTION:
            marked = mark + text[:3] + mark + text[3:] + mark  # inside the first word, and around
            assert skeleton(marked) == skeleton(text), (text, mark)
            assert engine.reply(marked, "ru").entry_id == engine.reply(text, "ru").entry_id


def test_a_100000_character_message(engine: Engine) -> None:
    rng_text = "".join(SPECIALS[i * 7919 % len(SPECIALS)] + WORDS[i % len(WORDS)] for i in range(20_000))[:100_000]
    for text in (rng_text, "запрет " * 15_000, "\u200b" * 100_000, "а\u0301" * 50_000):
        assert len(text) >= 100_000
        started = time.monotonic()
        reply = engine.reply(text, "ru")
        assert time.monotonic() - started < 2.0
        assert reply.outcome in ("answer", "clarify", "handoff")
        assert engine.reply(text, "ru") == reply
        assert fold(text) == fold(text) and skeleton(text) == skeleton(text)


@PROPERTY
@given(st.one_of(st.text(max_size=100), st.from_regex(r"[a-zA-Z]{1,2}:[a-z0-9:./-]{0,70}", fullmatch=True)))
def test_any_callback_data_parses_or_is_refused(engine: Engine, data: str) -> None:
    parsed = parse_callback(data, engine.faq)
    assert parsed is None or isinstance(parsed, Callback)
    if parsed is not None and parsed.kind in ("entry", "feedback"):
        assert parsed.arg in engine.faq.entries


# --- through the real bot --------------------------------------------------------


def last_to(api: FakeBotAPI, chat_id: int, since: int = 0, timeout: float = 5.0, **kwargs: Any) -> dict[str, Any]:
    return api.wait_for_sent(chat_id=chat_id, since=since, timeout=timeout, **kwargs)[-1]


def test_user_markup_reaches_operators_as_literal_text(api: FakeBotAPI, run_bot: Any) -> None:
    run_bot()
    api.push_text(USER, "/human", language_code="en")
    last_to(api, USER)
    mark = api.checkpoint()
    api.push_text(USER, MARKUP, language_code="en")
    post = last_to(api, OPERATORS, since=mark)
    assert MARKUP in post["text"]
    assert "entities" not in post
    (call,) = [c for c in api.calls_of("sendMessage") if c.index >= mark and c.params.get("chat_id") == OPERATORS]
    assert "parse_mode" not in call.params

    # The user's follow-up to the operator's answer is echoed the same way.
    api.push_text(OPERATORS, "Answer", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    copied = api.wait_for_sent(chat_id=USER, predicate=lambda m: m.get("text") == "Answer")[0]
    api.wait_for_sent(chat_id=OPERATORS, predicate=lambda m: m["text"].startswith("✅ #1"))  # linked by now
    mark = api.checkpoint()
    api.push_text(USER, "_also_ `this` <i>one</i>", language_code="en", reply_to_message_id=copied["message_id"])
    follow = last_to(api, OPERATORS, since=mark, predicate=lambda m: m["text"].startswith("💬"))
    assert "_also_ `this` <i>one</i>" in follow["text"] and "entities" not in follow


def test_stale_button_on_an_inaccessible_message(api: FakeBotAPI, run_bot: Any) -> None:
    """A button pressed on a message Telegram no longer shows (date 0)."""
    run_bot()
    for data in ("e:ban-check", "f:no-such-entry:up", "l:xx", "\u202e:e"):
        api.push_update(
            {
                "callback_query": {
                    "id": f"stale-{data}",
                    "from": {"id": USER, "is_bot": False, "first_name": "U", "language_code": "en"},
                    "message": {"message_id": 1, "chat": {"id": USER, "type": "private"}, "date": 0},
                    "chat_instance": "1",
                    "data": data,
                }
            }
        )
    answer = last_to(api, USER)
    assert "📚 Sources:" in answer["text"]
    api.wait_for_call("answerCallbackQuery", count=4)
    api.push_text(USER, "how do I check if I have an entry ban", language_code="en")
    assert len(api.wait_for_sent(chat_id=USER, count=2)) == 2  # still answering


def test_button_still_answered_when_its_spinner_cannot_be_stopped(api: FakeBotAPI, run_bot: Any, engine: Engine) -> None:
    """answerCallbackQuery failing (5xx, 429, too old after a restart) must not cost the reply."""
    run_bot()
    api.push_text(USER, "Амина?", language_code="ru")
    question = last_to(api, USER)
    choice = next(b["callback_data"] for row in question["reply_markup"]["inline_keyboard"] for b in row if b["callback_data"].startswith("e:"))
    api.fail("answerCallbackQuery", status=500, times=1)
    mark = api.checkpoint()
    api.push_callback(USER, question["message_id"], choice)
    answer = last_to(api, USER, since=mark)
    assert answer["text"].startswith(engine.faq.entries[choice[2:]].answer["ru"][:40])


def test_updates_queued_at_a_crash_are_handled_after_restart(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    """python-telegram-bot confirms updates when queued: the inbox keeps them until handled."""
    runner = run_bot()
    api.push_text(USER, "/help", language_code="en")
    last_to(api, USER)
    runner.stop()
    # As if the process had died with an update fetched (so confirmed) but not handled:
    store = Store(db_path)
    update = {
        "update_id": 99_999,
        "message": {
            "message_id": 50, "date": int(time.time()), "text": "how do I check if I have an entry ban",
            "chat": {"id": USER, "type": "private"}, "from": {"id": USER, "is_bot": False, "first_name": "U", "language_code": "en"},
        },
    }
    assert store.inbox_add(99_999, json.dumps(update))
    store.close()
    mark = api.checkpoint()
    run_bot()
    assert "📚 Sources:" in last_to(api, USER, since=mark)["text"]
    time.sleep(0.3)
    assert len(api.sent_messages(USER, since=mark)) == 1
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM inbox").fetchone()[0] == 0


# --- database trouble while running ------------------------------------------------


def test_read_only_database_while_running(api: FakeBotAPI, run_bot: Any, caplog: pytest.LogCaptureFixture) -> None:
    runner = run_bot()
    api.push_text(USER, "/help", language_code="ru")
    last_to(api, USER)
    assert runner.store is not None
    runner.on_loop(runner.store.db.execute, "PRAGMA query_only = ON")  # every write now fails: "attempt to write a readonly database"
    caplog.set_level(logging.ERROR)
    mark = api.checkpoint()
    api.push_text(USER, "как проверить запрет на въезд", language_code="ru")
    assert "📚 Источники" in last_to(api, USER, since=mark)["text"]
    mark = api.checkpoint()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    told = last_to(api, USER, since=mark)
    assert told["text"].startswith("У меня нет проверенного ответа")
    post = last_to(api, OPERATORS, since=mark)
    assert "NOT STORED" in post["text"] and "какой курс доллара сегодня" in post["text"]
    mark = api.checkpoint()
    api.push_text(USER, "/lang", language_code="ru")
    choose = last_to(api, USER, since=mark)
    mark = api.checkpoint()
    api.push_callback(USER, choose["message_id"], "l:en")  # the choice cannot be kept, and is still answered
    assert last_to(api, USER, since=mark)["text"].startswith("I will reply in English")
    mark = api.checkpoint()
    api.push_text(USER, "/forget", language_code="ru")
    confirm = last_to(api, USER, since=mark)
    mark = api.checkpoint()
    api.push_callback(USER, confirm["message_id"], "fg:yes")  # nothing can be deleted: the user is told
    assert last_to(api, USER, since=mark)["text"].startswith("Сейчас ничего удалить не получилось")
    logged = caplog.text
    assert "could not store a handed-off question" in logged and "readonly" in logged
    assert "database write failed" in logged and "could not forget a user" in logged

    runner.on_loop(runner.store.db.execute, "PRAGMA query_only = OFF")  # space again: back to normal, without a restart
    mark = api.checkpoint()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    assert "#1" in last_to(api, USER, since=mark)["text"]
    assert last_to(api, OPERATORS, since=mark)["text"].startswith("❓ #1 · ru")


def test_a_follow_up_reaches_the_operators_while_the_database_is_read_only(
    api: FakeBotAPI, run_bot: Any, caplog: pytest.LogCaptureFixture
) -> None:
    runner = run_bot()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    post = last_to(api, OPERATORS)
    mark = api.checkpoint()
    api.push_text(OPERATORS, "Через банк.", chat_type="supergroup", user_id=77, reply_to_message_id=post["message_id"])
    answer = last_to(api, USER, since=mark)
    last_to(api, OPERATORS, since=mark)  # "✅ #1: sent to the user.": the answer is linked by then
    assert runner.store is not None
    runner.on_loop(runner.store.db.execute, "PRAGMA query_only = ON")
    caplog.set_level(logging.ERROR)
    mark = api.checkpoint()
    api.push_text(USER, "а какой банк?", language_code="ru", reply_to_message_id=answer["message_id"])
    assert last_to(api, OPERATORS, since=mark)["text"].startswith("💬 #1 · ru · follow-up\n\nа какой банк?")
    assert last_to(api, USER, since=mark)["text"] == "Отправлено человеку, который вам ответил. Номер обращения: #1"
    assert "could not store a follow-up" in caplog.text


def fill_to_the_brim(db: Any) -> None:
    """Cap the file at its size and pack every table and index: SQLITE_FULL, as on a full disk.

    Filler rows hold integers where the bot keeps text (status, ts), so no
    query of the bot ever matches them.
    """
    db.execute("PRAGMA max_page_count = " + str(db.execute("PRAGMA page_count").fetchone()[0]))
    counter = iter(range(-1, -10**9, -1))
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
    for table in tables:
        # Own row numbers ("id") number themselves; any other key gets negative values no real one has.
        columns = [r[1] for r in db.execute(f"PRAGMA table_info({table})") if r[1] != "id"]
        marks = ", ".join(["?"] * (len(columns) - 1) + ["zeroblob(?)"])
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        for size in (2000, 300, 40, 0):
            try:
                for _ in range(100_000):
                    db.execute(sql, [next(counter) for _ in columns[:-1]] + [size])
            except sqlite3.OperationalError as exc:
                assert "full" in str(exc)


def test_full_disk_while_running(api: FakeBotAPI, run_bot: Any, caplog: pytest.LogCaptureFixture) -> None:
    runner = run_bot()
    api.push_text(USER, "/help", language_code="ru")
    last_to(api, USER)
    assert runner.store is not None
    runner.on_loop(fill_to_the_brim, runner.store.db)
    caplog.set_level(logging.ERROR)
    mark = api.checkpoint()
    for i in range(3):
        api.push_text(USER, "как проверить запрет на въезд" + " ?" * i, language_code="ru")
    assert all("📚 Источники" in m["text"] for m in api.wait_for_sent(chat_id=USER, count=3, since=mark))
    mark = api.checkpoint()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    assert last_to(api, USER, since=mark)["text"].startswith("У меня нет проверенного ответа")
    assert "NOT STORED" in last_to(api, OPERATORS, since=mark)["text"]
    assert "could not store a handed-off question: database or disk is full" in caplog.text

    runner.on_loop(runner.store.db.execute, "PRAGMA max_page_count = 1000000")  # space again: back to normal, without a restart
    mark = api.checkpoint()
    api.push_text(USER, "какой курс доллара сегодня", language_code="ru")
    ref = re.search(r"#(\d+)", last_to(api, USER, since=mark)["text"])
    assert ref is not None
    assert last_to(api, OPERATORS, since=mark)["text"].startswith(f"❓ #{ref.group(1)} · ru")


# --- start-up: corrupt and locked files ----------------------------------------------


def jardam_env(tmp_path: Path, db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "OPERATOR_", "JARDAM_", "WEBHOOK_"))}
    return env | {"JARDAM_DB": str(db)} | extra


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_corrupt_database_at_start_is_refused_and_left_alone(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(os.urandom(64 * 1024))
    damaged = tmp_path / "damaged.db"
    store = Store(damaged)
    store.close()
    with sqlite3.connect(damaged) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
    data = bytearray(damaged.read_bytes())
    data[4096 : len(data)] = os.urandom(len(data) - 4096)  # every page but the header's
    damaged.write_bytes(bytes(data))

    for db in (garbage, damaged):
        before = digest(db)
        result = CliRunner().invoke(cli, ["chat"], env={"JARDAM_DB": str(db), "TELEGRAM_BOT_TOKEN": ""}, input="/quit\n")
        assert result.exit_code == 1
        (line,) = result.output.strip().splitlines()
        assert line.startswith("Error: ") and str(db) in line
        assert digest(db) == before

    # `jardam run`, as a process: the same one line, and nothing of the token.
    before = digest(garbage)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=jardam_env(tmp_path, garbage, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL="http://127.0.0.1:9/bot"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1
    (line,) = (proc.stdout + proc.stderr).strip().splitlines()
    assert line == f"Error: cannot use the database {garbage}: file is not a database"
    assert digest(garbage) == before


def test_locked_database_at_start_is_a_clear_error_not_a_hang(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("INSERT INTO t VALUES (1)")
    try:
        started = time.monotonic()
        result = CliRunner().invoke(cli, ["chat"], env={"JARDAM_DB": str(db), "TELEGRAM_BOT_TOKEN": ""}, input="/quit\n")
        assert time.monotonic() - started < 15
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.exit_code == 1
    (line,) = result.output.strip().splitlines()
    assert str(db) in line and "locked" in line


def test_write_commands_on_a_locked_database_say_so_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process holds the write lock (a `sqlite3` shell in a
    transaction, the bot in a long write): purge, resolve and ignore wait,
    then fail with one line, not a traceback, and change nothing."""
    db = tmp_path / "busy.db"
    faq_dir = Path(shutil.copytree(ROOT / "faq", tmp_path / "faq"))
    store = Store(db)
    store.add_question(chat_id=7, lang="ru", text="кто тебя создал бот", candidates=[], reason="engine")
    store.log_event(7, "ru", "answer", "ban-check", 90, "text")
    store.db.execute("UPDATE events SET ts = '2020-01-01T00:00:00+00:00'")  # something to purge
    store.close()
    monkeypatch.setattr(store_module, "BUSY_TIMEOUT_S", 0.2, raising=False)  # 5 s in use
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        for command in (["purge"], ["review", "resolve", "1"], ["review", "ignore", "1"]):
            result = CliRunner().invoke(cli, command, env={"JARDAM_DB": str(db)})
            assert result.exit_code == 1, command
            assert result.output.splitlines() == [f"Error: cannot use the database {db}: database is locked (another process is writing; try again)"]
        # promote writes the FAQ first, then marks the question: it says where the phrasing went.
        result = CliRunner().invoke(cli, ["review", "promote", "1", "about-bot"], env={"JARDAM_DB": str(db), "JARDAM_FAQ_DIR": str(faq_dir)})
        assert result.exit_code == 1
        assert result.output.splitlines() == [
            f"Error: cannot use the database {db}: database is locked (another process is writing; try again); "
            f"the phrasing is in {faq_dir / 'about.yaml'}: mark the question resolved with `jardam review resolve 1`"
        ]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    check = sqlite3.connect(db)
    assert check.execute("SELECT count(*), max(review) FROM questions").fetchone() == (1, None)
    assert check.execute("SELECT count(*) FROM events").fetchone() == (1,)
    check.close()


# --- the token and the webhook secret ------------------------------------------------


def test_rejected_token_is_not_printed(tmp_path: Path) -> None:
    """Telegram answering 401: python-telegram-bot puts the token in the exception."""
    with FakeBotAPI(token="1:another-token") as api:
        proc = subprocess.run(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=jardam_env(tmp_path, tmp_path / "bot.db", TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_URL=api.base_url),
            capture_output=True,
            text=True,
            timeout=60,
        )
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "rejected" in out
    assert TOKEN not in out and TOKEN.split(":")[1] not in out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(port: int, body: dict[str, Any], secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(f"http://127.0.0.1:{port}/telegram", data=json.dumps(body).encode(), headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.slow
@pytest.mark.parametrize("configured", ["s3cret-webhook-token_123", None], ids=["WEBHOOK_SECRET", "no-WEBHOOK_SECRET"])
def test_webhook_rejects_requests_without_the_secret(tmp_path: Path, configured: str | None) -> None:
    """With WEBHOOK_SECRET, or without (one is made for the run): a request
    without the secret Telegram was given is refused."""
    port = free_port()
    with FakeBotAPI(token=TOKEN) as api:
        env = jardam_env(
            tmp_path,
            tmp_path / "bot.db",
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=api.base_url,
            WEBHOOK_URL="https://jardam.example",
            WEBHOOK_LISTEN="127.0.0.1",
            WEBHOOK_PORT=str(port),
            **({"WEBHOOK_SECRET": configured} if configured else {}),
        )
        proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        try:
            (hook,) = api.wait_for_call("setWebhook", timeout=30)
            secret = str(hook.params.get("secret_token") or "")
            assert hook.params["url"] == "https://jardam.example/telegram"
            assert secret == configured if configured else len(secret) >= 40  # made for the run: 32 random bytes
            deadline = time.monotonic() + 10
            while True:  # the server is listening once it accepts a connection
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, "webhook server did not listen"
                    time.sleep(0.05)

            def update(update_id: int, text: str) -> dict[str, Any]:
                sender = {"id": USER, "is_bot": False, "first_name": "U", "language_code": "ru"}
                message = {"message_id": update_id, "date": int(time.time()), "chat": {"id": USER, "type": "private"}, "from": sender, "text": text}
                return {"update_id": update_id, "message": message}

            assert post(port, update(1, "как проверить запрет на въезд"), None) == 403
            assert post(port, update(2, "как проверить запрет на въезд"), "wrong") == 403
            assert post(port, update(3, "как проверить запрет на въезд"), secret + "x") == 403
            assert post(port, update(4, "как проверить запрет на въезд"), secret) == 200
            reply = api.wait_for_sent(chat_id=USER, timeout=10)[0]
            assert "📚 Источники" in reply["text"]
            time.sleep(0.5)
            assert len(api.sent_messages(USER)) == 1  # the rejected ones had no effect
        finally:
            proc.terminate()
            out, _ = proc.communicate(timeout=15)
    assert "webhook" in out
    assert secret not in out and TOKEN not in out and TOKEN.split(":")[1] not in out
