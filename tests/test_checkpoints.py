"""WAL checkpoints from a thread of their own, on real SQLite files: what
the bot commits reaches the database file without a commit on the event
loop doing the copying."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from bot.checkpoints import FALLBACK_PAGES, Checkpointer
from bot.fakebotapi import FakeBotAPI
from bot.store import Store

from .test_telegram import USER, last_to

THREAD = "jardam-wal-checkpoint"


def _events_in_database_file(path: Path) -> int | None:
    """Rows of `events` in the database file itself, the WAL ignored
    (`immutable`): what checkpoints have copied so far (None: not even the
    table yet, or a page caught mid-copy)."""
    try:
        with sqlite3.connect(f"file:{path}?immutable=1", uri=True) as conn:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    except sqlite3.DatabaseError:
        return None


def _wait_for(condition: Any, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.02)
    return condition()


def _log_events(store: Store, n: int) -> None:
    for i in range(n):
        store.log_event(1000 + i, "ky", "answer", "patent-cost", 90, "text")


def test_commits_reach_the_database_file_through_the_thread(db_path: Path) -> None:
    store = Store(db_path)
    try:
        store.checkpoint_in_background(interval_s=0.05)
        # The bot's own connection only checkpoints past a far larger WAL.
        assert store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == FALLBACK_PAGES
        _log_events(store, 300)
        assert _wait_for(lambda: _events_in_database_file(db_path) == 300), _events_in_database_file(db_path)
    finally:
        store.close()


def test_without_the_thread_the_wal_keeps_them(db_path: Path) -> None:
    """The control: the same commits under the bot's fallback setting alone
    stay in the WAL, so the test above sees the thread's work."""
    store = Store(db_path)
    try:
        store.db.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_PAGES}")
        _log_events(store, 300)
        assert not _events_in_database_file(db_path)
    finally:
        store.close()
    # Closing the last connection checkpoints everything.
    assert _events_in_database_file(db_path) == 300


def test_close_ends_the_thread(db_path: Path) -> None:
    store = Store(db_path)
    store.checkpoint_in_background(interval_s=0.05)
    store.checkpoint_in_background(interval_s=0.05)  # a second call starts nothing more
    assert [t.name for t in threading.enumerate()].count(THREAD) == 1
    _log_events(store, 10)
    store.close()
    assert THREAD not in [t.name for t in threading.enumerate()]
    assert _events_in_database_file(db_path) == 10


def test_the_bot_checkpoints_in_the_background_while_it_runs(api: FakeBotAPI, run_bot: Any, db_path: Path) -> None:
    runner = run_bot()
    assert THREAD in [t.name for t in threading.enumerate()]
    api.push_text(USER, "патент канча турат", language_code="ky")
    last_to(api, USER)
    store = runner.store
    assert runner.on_loop(lambda: store.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]) == FALLBACK_PAGES
    runner.stop()
    assert THREAD not in [t.name for t in threading.enumerate()]


def test_a_failing_checkpoint_is_logged_once_and_retried(tmp_path: Path, caplog: Any) -> None:
    # A directory cannot be opened as a database: every round fails.
    checkpointer = Checkpointer(tmp_path, interval_s=0.01)
    with caplog.at_level(logging.INFO, logger="bot.checkpoints"):
        checkpointer.start()
        time.sleep(0.3)
        assert [t.name for t in threading.enumerate()].count(THREAD) == 1  # still trying
        checkpointer.stop()
    failures = [r for r in caplog.records if "WAL checkpoint failed" in r.getMessage()]
    assert len(failures) == 1 and failures[0].levelno == logging.WARNING
    assert THREAD not in [t.name for t in threading.enumerate()]
