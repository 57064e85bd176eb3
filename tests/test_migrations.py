"""Migrations when several processes open the same database file at once
(the bot and a cron `jardam purge`, or three purges), on real files."""

from __future__ import annotations

import logging
import shutil
import sqlite3
from pathlib import Path
from typing import Any

from bot import store as store_module
from bot.store import Store

from .conftest import database_before, in_lockstep


def _open_in_lockstep(barrier: Any, paths: list[str], results: Any) -> None:
    """One of several processes: for each file, wait for the others, then open it."""
    for path in paths:
        barrier.wait(timeout=60)
        try:
            Store(path).close()
            results.put((path, "ok"))
        except Exception as exc:  # reported to the test
            results.put((path, repr(exc)))


def older_database(path: Path) -> Path:
    """A database as the bot left it before migration 008: three questions,
    one user waiting for a person (moved by 009)."""
    db = database_before(path, 8)
    for n in (1, 2, 3):
        db.execute("INSERT INTO questions (id, ts, chat_id, lang, text, reason) VALUES (?, '2026-11-01', ?, 'ru', ?, 'engine')", [n, n, f"q{n}"])
    db.execute("INSERT INTO users (chat_id, lang, awaiting_human_since) VALUES (5, 'ru', '2026-11-01T00:00:00+00:00')")
    db.conn.commit()
    db.conn.close()
    return path


def test_processes_opening_a_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    """Each of four processes opens the same file at the same moment, an
    older database or a new one, eight times over: every open succeeds
    (without a transaction around each step, one in two rounds failed with
    "UNIQUE constraint failed: _migrations.name" or "duplicate column
    name", and switching an older file to WAL while another process read
    it, with "database is locked" at once), and the result is the database
    one process alone makes."""
    processes, rounds = 4, 8
    old = older_database(tmp_path / "old.db")
    paths = []
    for n in range(rounds):
        path = tmp_path / f"race{n}.db"
        if n % 2:
            shutil.copy(old, path)
        paths.append(str(path))  # even rounds: no file yet
    outcomes = in_lockstep(_open_in_lockstep, [(paths,)] * processes, processes * rounds)
    failed = sorted({f"{Path(path).name}: {error}" for path, error in outcomes if error != "ok"})
    assert failed == [], "\n".join(failed)

    names = [name for name, _ in store_module.MIGRATIONS]
    for n, path in enumerate(paths):
        conn = sqlite3.connect(path)
        assert [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")] == names
        assert "AUTOINCREMENT" in conn.execute("SELECT sql FROM sqlite_master WHERE name = 'questions'").fetchone()[0]
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        if n % 2:  # the older database kept what it had
            assert conn.execute("SELECT id, text FROM questions ORDER BY id").fetchall() == [(1, "q1"), (2, "q2"), (3, "q3")]
            assert conn.execute("SELECT chat_id, user_id FROM awaiting_human").fetchall() == [(5, 5)]
        conn.close()
        store = Store(path)  # and opens again without migrating
        assert store.add_question(chat_id=9, lang="ru", text="q", candidates=[], reason="engine").id == (4 if n % 2 else 1)
        store.close()


def test_a_questions_relay_rows_are_found_through_an_index(tmp_path: Path) -> None:
    """Purge deletes a question's posts and answers by question, in
    batches that hold the write lock: SQLite must search `relay` by
    question, not read all of it, on a new database and an upgraded one."""
    for path in (tmp_path / "new.db", older_database(tmp_path / "old.db")):
        Store(path).close()
        with sqlite3.connect(path) as conn:
            plan = " ".join(row[-1] for row in conn.execute("EXPLAIN QUERY PLAN DELETE FROM relay WHERE question_id IN (1, 2)"))
        assert "USING INDEX" in plan and "question_id" in plan, (path.name, plan)


def test_a_commit_that_fails_leaves_no_transaction_open(tmp_path: Path) -> None:
    """A COMMIT refused (here a deferred foreign key) had left the
    transaction open: every later write became a savepoint inside it, never
    committed, with the write lock held for good."""
    import pytest

    from bot.store import _transaction

    store = Store(tmp_path / "x.db")
    store.db.execute("PRAGMA foreign_keys = ON")
    store.db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    store.db.execute("CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)")
    with pytest.raises(sqlite3.IntegrityError), _transaction(store.db):
        store.db.execute("INSERT INTO child (parent) VALUES (7)")  # refused only at COMMIT
    assert not store.db.conn.in_transaction
    with _transaction(store.db):
        store.db.execute("INSERT INTO parent (id) VALUES (1)")
    with sqlite3.connect(tmp_path / "x.db") as other:  # committed: another connection sees it
        assert other.execute("SELECT id FROM parent").fetchall() == [(1,)]
    store.close()


def test_a_database_that_cannot_use_wal_still_works_and_says_so(caplog: Any) -> None:
    """SQLite answers PRAGMA journal_mode=WAL with the mode it could set: an
    in-memory database, like a file on a file system without shared memory,
    stays out of WAL.  The store opens and writes all the same, and the log
    says why readers and the bot will wait on each other."""
    with caplog.at_level(logging.WARNING, logger="bot.store"):
        store = Store(":memory:")
    try:
        store.set_user_lang(7, "ky")
        assert store.user_lang(7) == "ky"
    finally:
        store.close()
    warned = [r.getMessage() for r in caplog.records if "could not use WAL" in r.getMessage()]
    assert warned == ["the database :memory: could not use WAL (journal mode memory): readers and the bot will wait on each other"]


def test_a_file_in_wal_mode_logs_nothing(tmp_path: Path, caplog: Any) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.store"):
        Store(tmp_path / "jardam.db").close()
    assert not [r for r in caplog.records if "WAL" in r.getMessage()]
