"""The embedded store: one SQLite file, through sqlite-utils.

Everything a user or an operator must not lose is written here *before* the
bot replies or sends: handed-off questions, the operator relay, and an
outbox of messages still to deliver.  A crash or a failing Bot API then
costs a retry, never a question.

Schema changes are registered migration steps (`MIGRATIONS`), applied in
order once and recorded in `_migrations`, never ad-hoc ALTERs.

Personal data: users' chat ids and chosen language (to reply in it), the
text of questions handed to people (masked by the caller where needed), for
a week the text each reply of the bot answered (masked; for its buttons;
kept with the reply in the outbox while the reply waits to be sent), the
text of questions the bot answered with "did you mean" (masked; kept with
that reply in the outbox too while it waits), and
per-message outcomes without text (for statistics).  Incoming updates are
kept whole in `inbox` only from their arrival until they are handled.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import sqlite_utils
from sqlite_utils.db import NotFoundError, Table

from .checkpoints import FALLBACK_PAGES, Checkpointer
from .checkpoints import INTERVAL_S as CHECKPOINT_INTERVAL_S
from .privacy import mask_personal_data

log = logging.getLogger(__name__)


class StoreError(RuntimeError):
    """The database file cannot be used; the message names it and why."""


# How long a write waits for another process's write lock before it fails
# with "database is locked".
BUSY_TIMEOUT_S = 5.0


def _is_busy(exc: sqlite3.Error) -> bool:
    """Another connection holds the lock that was needed ("database is locked")."""
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def database_error(path: Path, exc: sqlite3.Error) -> str:
    """What a command says, in one line, when the database fails it."""
    message = f"cannot use the database {path}: {exc}"
    if _is_busy(exc):
        message += " (another process is writing; try again)"
    return message


def _table(db: sqlite_utils.Database, name: str) -> Table:
    """A table (sqlite-utils types `db[name]` as table-or-view)."""
    return cast(Table, db[name])


# Telegram lets a bot delete its own messages for 48 hours: `/forget` asks
# it to delete the user's posts in the operators' group younger than this
# (an hour to spare for the outbox's retries), the newest this many at most.
DELETABLE_FOR = dt.timedelta(hours=47)
MAX_POSTS_DELETED = 50
# What users asked, kept by the bot's reply for its buttons (👎, "Ask a
# person"), is purged after this many days (or the retention period, if
# shorter): those buttons are pressed soon after the reply, and the texts
# of questions the bot answered are not to be kept for long.
REPLY_TEXTS_DAYS = 7
# `jardam purge` deletes at most this many rows of a table per transaction,
# so that the running bot waits for one batch, not for the whole purge
# (see "purging in batches" in `Store`).
PURGE_BATCH = 2000


def utcnow() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _days_ago(days: int) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).isoformat(timespec="seconds")


@contextmanager
def _transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """One atomic write; the connection is in autocommit mode otherwise.

    Inside, use plain SQL (`db.execute`): sqlite-utils' table methods commit
    on their own and would end the transaction early.  Within a transaction
    already (a migration step, run in the migration's own), a savepoint.
    """
    if db.conn.in_transaction:
        db.execute("SAVEPOINT nested")
        try:
            yield
        except BaseException:
            if db.conn.in_transaction:
                db.execute("ROLLBACK TO nested")
                db.execute("RELEASE nested")
            raise
        else:
            db.execute("RELEASE nested")
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
        # Inside the `try`: a COMMIT that fails (a deferred constraint, a busy
        # journal) leaves the transaction open, and every later one would
        # become a savepoint in it, never committed, holding the write lock.
        db.execute("COMMIT")
    except BaseException:
        if db.conn.in_transaction:  # SQLite rolls back by itself on some errors (disk full)
            db.execute("ROLLBACK")
        raise


class _InTransaction:
    """The store's connection, as handed to migration steps, which run in a
    transaction of `_migrate`: sqlite-utils wraps each change it makes in
    `with conn:`, whose exit commits, and would end that transaction after
    the step's first statement.  Here entering and leaving do nothing, and
    an error rolls the whole step back through `_transaction`."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)

    def __enter__(self) -> _InTransaction:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def commit(self) -> None:
        """Committed with the step, by `_migrate`."""


def _m001_initial(db: sqlite_utils.Database) -> None:
    _table(db, "users").create(
        {"chat_id": int, "lang": str, "blocked": int, "created_at": str, "updated_at": str},
        pk="chat_id",
        defaults={"blocked": 0},
        if_not_exists=True,
    )
    _table(db, "events").create(
        {
            "id": int,
            "ts": str,
            "chat_id": int,
            "lang": str,
            "outcome": str,
            "entry_id": str,
            "confidence": int,
            "via": str,
        },
        pk="id",
        if_not_exists=True,
    )
    _table(db, "events").create_index(["ts"], if_not_exists=True)
    _table(db, "questions").create(
        {
            "id": int,
            "ts": str,
            "chat_id": int,
            "user_message_id": int,
            "lang": str,
            "text": str,
            "candidates": str,
            "reason": str,
            "status": str,
            "answer": str,
            "answered_at": str,
            "closed_at": str,
        },
        pk="id",
        defaults={"status": "open"},
        if_not_exists=True,
    )
    _table(db, "questions").create_index(["status", "ts"], if_not_exists=True)
    _table(db, "questions").create_index(["chat_id", "status"], if_not_exists=True)
    _table(db, "outbox").create(
        {
            "id": int,
            "created_at": str,
            "kind": str,
            "chat_id": int,
            "payload": str,
            "question_id": int,
            "status": str,
            "attempts": int,
            "not_before": float,
            "sent_message_id": int,
            "last_error": str,
        },
        pk="id",
        defaults={"status": "pending", "attempts": 0, "not_before": 0.0},
        if_not_exists=True,
    )
    _table(db, "outbox").create_index(["status", "id"], if_not_exists=True)
    _table(db, "relay").create(
        {"chat_id": int, "message_id": int, "question_id": int, "created_at": str},
        pk=("chat_id", "message_id"),
        if_not_exists=True,
    )


def _m002_clarifications(db: sqlite_utils.Database) -> None:
    # Questions the engine was unsure about, and which entry the user then
    # chose: the best evidence for a new phrasing of that entry.
    _table(db, "clarifications").create(
        {
            "id": int,
            "ts": str,
            "chat_id": int,
            "message_id": int,
            "lang": str,
            "text": str,
            "candidates": str,
            "chosen": str,
            "chosen_at": str,
        },
        pk="id",
        if_not_exists=True,
    )
    _table(db, "clarifications").create_index(["chat_id", "message_id"], if_not_exists=True)
    _table(db, "clarifications").create_index(["ts"], if_not_exists=True)
    # Review decisions on questions: resolved / ignored (status), by whom is not kept.
    _table(db, "questions").create_index(["ts"], if_not_exists=True)


def _m003_processed_updates(db: sqlite_utils.Database) -> None:
    # Telegram re-delivers updates that were fetched but not confirmed when
    # the process died; remembering the handled ones keeps replies single.
    _table(db, "processed_updates").create({"update_id": int, "ts": str}, pk="update_id", if_not_exists=True)


def _m004_review_state(db: sqlite_utils.Database) -> None:
    # The review of gaps in the FAQ (resolved / ignored) is separate from the
    # operators' work on a question (open / answered / closed): marking a
    # question reviewed must not take it from an operator's /open list.
    for name in ("questions", "clarifications"):
        table = _table(db, name)
        if "review" not in table.columns_dict:
            table.add_column("review", str)


def _m005_replay_after_crash(db: sqlite_utils.Database) -> None:
    # Updates as received, kept until handled: python-telegram-bot confirms
    # an update to Telegram as soon as it is queued, so after a crash only
    # this table still knows about the ones queued but not yet handled.
    _table(db, "inbox").create({"update_id": int, "ts": str, "payload": str}, pk="update_id", if_not_exists=True)
    # The update a question came from: an update handled again after a
    # crash finds its question instead of handing it to operators twice.
    questions = _table(db, "questions")
    if "update_id" not in questions.columns_dict:
        questions.add_column("update_id", int)
    questions.create_index(["update_id"], if_not_exists=True)


def _m006_outbox_lanes(db: sqlite_utils.Database) -> None:
    # The outbox sends each lane's oldest pending item next (see
    # `Store.due_outbox`); these find it, and the next retry time, without
    # reading every pending row on each pass.  Partial indexes: pending
    # rows only, a few among the many sent ones kept until the purge.
    db.execute("CREATE INDEX IF NOT EXISTS outbox_pending_chat ON outbox (chat_id, id) WHERE status = 'pending'")
    db.execute("CREATE INDEX IF NOT EXISTS outbox_pending_question ON outbox (question_id, id) WHERE status = 'pending'")
    db.execute("CREATE INDEX IF NOT EXISTS outbox_pending_due ON outbox (not_before) WHERE status = 'pending'")


def _m007_awaiting_human(db: sqlite_utils.Database) -> None:
    # When a user asked for a person (/human, or the button) and the bot
    # waits for their question: kept here so that a restart in between
    # does not send the question to the engine instead.
    users = _table(db, "users")
    if "awaiting_human_since" not in users.columns_dict:
        users.add_column("awaiting_human_since", str)


def _m008_question_refs_never_reused(db: sqlite_utils.Database) -> None:
    # A question's id is its reference in the operators' group (❓ #12).
    # Without AUTOINCREMENT, SQLite hands the highest id out again once its
    # row is deleted (/forget): a reply to the forgotten user's old post
    # would then reach whoever asked next.  SQLite cannot add AUTOINCREMENT
    # to a table, so the table is rebuilt, in one transaction, from its own
    # definition; the ids kept seed the sequence.
    (definition,) = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'questions'").fetchone()
    if "AUTOINCREMENT" in definition:
        return
    indexes = [sql for (sql,) in db.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'questions' AND sql IS NOT NULL")]
    rebuilt = definition.replace("CREATE TABLE [questions]", "CREATE TABLE [questions_rebuilt]", 1).replace(
        "[id] INTEGER PRIMARY KEY", "[id] INTEGER PRIMARY KEY AUTOINCREMENT", 1
    )
    if "[questions_rebuilt]" not in rebuilt or "AUTOINCREMENT" not in rebuilt:
        raise sqlite3.DatabaseError(f"unexpected definition of the questions table: {definition}")
    with _transaction(db):
        db.execute(rebuilt)
        db.execute("INSERT INTO questions_rebuilt SELECT * FROM questions")
        db.execute("DROP TABLE questions")
        db.execute("ALTER TABLE questions_rebuilt RENAME TO questions")
        for sql in indexes:
            db.execute(sql)


def _m009_awaiting_human_per_user(db: sqlite_utils.Database) -> None:
    # In a group, /human is one member's request: the bot waits for that
    # member's question, not for the group's next message from anyone.  So
    # the state is kept per (chat, user), in a table of its own.
    _table(db, "awaiting_human").create(
        {"chat_id": int, "user_id": int, "since": str}, pk=("chat_id", "user_id"), if_not_exists=True
    )
    _table(db, "awaiting_human").create_index(["since"], if_not_exists=True)
    users = _table(db, "users")
    if "awaiting_human_since" not in users.columns_dict:
        return
    with _transaction(db):
        # In a private chat the user is the chat; a group's request did not
        # say whose it was, and lapses within a day: not carried over.
        db.execute(
            "INSERT OR IGNORE INTO awaiting_human (chat_id, user_id, since) "
            "SELECT chat_id, chat_id, awaiting_human_since FROM users WHERE awaiting_human_since IS NOT NULL AND chat_id > 0"
        )
        if sqlite3.sqlite_version_info >= (3, 35, 0):
            db.execute("ALTER TABLE users DROP COLUMN awaiting_human_since")
        else:  # SQLite cannot drop a column before 3.35: left there, empty and unused
            db.execute("UPDATE users SET awaiting_human_since = NULL")


def _m010_reply_texts(db: sqlite_utils.Database) -> None:
    # What the user asked, by the bot's reply to it (chat, message): a 👎 or
    # "Ask a person" pressed on the reply, even after a restart, passes the
    # question on; and the question such a press made, so that a second
    # press (twice, or on another device) does not make another.
    _table(db, "reply_texts").create(
        {"chat_id": int, "message_id": int, "text": str, "created_at": str, "question_id": int},
        pk=("chat_id", "message_id"),
        if_not_exists=True,
    )
    _table(db, "reply_texts").create_index(["created_at"], if_not_exists=True)


def _m011_outbox_asked(db: sqlite_utils.Database) -> None:
    # A reply the outbox sends later (its first attempt failed) keeps what
    # the user asked with it, masked, until it is sent: it then goes to
    # `reply_texts` under the sent message's id, in the transaction that
    # marks the row sent (`Store.outbox_sent`), so that the reply's buttons
    # pass the question on even when it was sent after a restart.
    outbox = _table(db, "outbox")
    if "asked" not in outbox.columns_dict:
        outbox.add_column("asked", str)


def _m012_outbox_clarification(db: sqlite_utils.Database) -> None:
    # A "did you mean" the outbox sends later (its first attempt failed)
    # keeps its `clarifications` record with it (language, the question
    # masked, the entries offered; JSON) until it is sent: the record is
    # then written under the sent message's id, in the transaction that
    # marks the row sent (`Store.outbox_sent`), after a restart too, so
    # that the review sees it and the user's choice is recorded.
    outbox = _table(db, "outbox")
    if "clarification" not in outbox.columns_dict:
        outbox.add_column("clarification", str)


def _m013_relay_by_question(db: sqlite_utils.Database) -> None:
    # A question's posts and copied answers, found by the question: `jardam
    # purge` deletes them by question in batches, and `/forget` finds a
    # user's; without it each such batch read the whole table (its slowest
    # batches held the write lock some 60 ms, the bot waiting).
    _table(db, "relay").create_index(["question_id"], if_not_exists=True)


def _m014_question_asker(db: sqlite_utils.Database) -> None:
    # Who asked a question (their Telegram user id): in a group the chat is
    # the group's, and `/forget` must find a member's questions there too.
    # Questions stored before this step keep NULL (their asker is not known).
    questions = _table(db, "questions")
    if "user_id" not in questions.columns_dict:
        questions.add_column("user_id", int)
    db.execute("CREATE INDEX IF NOT EXISTS questions_user_id ON questions (user_id) WHERE user_id IS NOT NULL")


def _m015_question_album(db: sqlite_utils.Database) -> None:
    # The album (Telegram's media_group_id) a question was written under:
    # its other photos arrive as messages of their own, and are copied to
    # the operators under that question, after a restart too.
    questions = _table(db, "questions")
    if "media_group_id" not in questions.columns_dict:
        questions.add_column("media_group_id", str)
    db.execute("CREATE INDEX IF NOT EXISTS questions_album ON questions (chat_id, media_group_id) WHERE media_group_id IS NOT NULL")


MIGRATIONS: list[tuple[str, Callable[[sqlite_utils.Database], None]]] = [
    ("001_initial", _m001_initial),
    ("002_clarifications", _m002_clarifications),
    ("003_processed_updates", _m003_processed_updates),
    ("004_review_state", _m004_review_state),
    ("005_replay_after_crash", _m005_replay_after_crash),
    ("006_outbox_lanes", _m006_outbox_lanes),
    ("007_awaiting_human", _m007_awaiting_human),
    ("008_question_refs_never_reused", _m008_question_refs_never_reused),
    ("009_awaiting_human_per_user", _m009_awaiting_human_per_user),
    ("010_reply_texts", _m010_reply_texts),
    ("011_outbox_asked", _m011_outbox_asked),
    ("012_outbox_clarification", _m012_outbox_clarification),
    ("013_relay_by_question", _m013_relay_by_question),
    ("014_question_asker", _m014_question_asker),
    ("015_question_album", _m015_question_album),
]


@dataclass(frozen=True)
class Question:
    id: int
    ts: str
    chat_id: int
    lang: str
    text: str
    candidates: list[dict[str, Any]]
    reason: str
    status: str
    user_message_id: int | None = None
    answer: str | None = None
    user_id: int | None = None  # who asked (None: stored before it was kept)

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Question:
        return cls(
            id=row["id"],
            ts=row["ts"],
            chat_id=row["chat_id"],
            lang=row["lang"],
            text=row["text"] or "",
            candidates=json.loads(row["candidates"] or "[]"),
            reason=row["reason"] or "",
            status=row["status"],
            user_message_id=row.get("user_message_id"),
            answer=row.get("answer"),
            user_id=row.get("user_id"),
        )


@dataclass(frozen=True)
class Clarification:
    """A "did you mean" to record once its message is out
    (`Store.add_clarification`): the reply's language, what the user asked
    (masked by the store) and the entries offered (id, score)."""

    lang: str
    text: str
    candidates: list[dict[str, Any]]


@dataclass(frozen=True)
class OutboxItem:
    id: int
    kind: str
    chat_id: int
    payload: dict[str, Any]
    question_id: int | None
    attempts: int


class Store:
    """All reads and writes of the bot's data; one per process."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._checkpointer: Checkpointer | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False)
            self.db = sqlite_utils.Database(conn)
            self._check_integrity()  # first: a damaged file is left exactly as it was
            self._use_wal()
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(database_error(self.path, exc)) from exc
        except OSError as exc:
            raise StoreError(f"cannot open the database {self.path}: {exc}") from exc

    def _check_integrity(self) -> None:
        row = self.db.execute("PRAGMA quick_check").fetchone()
        if row is None or row[0] != "ok":
            raise StoreError(f"the database {self.path} is damaged ({row[0] if row else 'no answer'}); restore it from a backup")

    def _use_wal(self) -> None:
        """PRAGMA journal_mode=WAL.  Switching a new or older file to WAL
        needs it to itself, and SQLite says "database is locked" at once,
        without waiting, while another process reads it (several opening
        the file at the same moment): tried again for BUSY_TIMEOUT_S, as
        any other lock is waited for.

        SQLite answers with the mode it is in, which is not WAL where the
        file cannot have one (a file system without shared memory, as some
        network ones): the store still works, only readers (`jardam
        review`, a cron purge) and the bot's writes wait on each other, so
        that is said in the log rather than left unnoticed."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                mode = self.db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    log.warning("the database %s could not use WAL (journal mode %s): readers and the bot will wait on each other", self.path, mode)
                return
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() > deadline:
                    raise
            time.sleep(0.01)

    def _migrate(self) -> None:
        """Apply the migrations this file lacks, each step with its row in
        `_migrations` in one transaction (BEGIN IMMEDIATE), the row looked
        for again inside it: processes that open the file at once (the bot
        and a cron purge) take turns, and one skips a step another has just
        applied, rather than applying it twice ("duplicate column name",
        "UNIQUE constraint failed: _migrations.name")."""
        tables = set(self.db.table_names())
        done = {r[0] for r in self.db.execute("SELECT name FROM _migrations")} if "_migrations" in tables else set()
        to_apply = [(name, step) for name, step in MIGRATIONS if name not in done]
        if not to_apply:
            return  # up to date: no write lock taken
        steps_db = sqlite_utils.Database(cast(sqlite3.Connection, _InTransaction(self.db.conn)))
        for name, step in to_apply:
            with self.transaction():
                self.db.execute("CREATE TABLE IF NOT EXISTS [_migrations] ([name] TEXT PRIMARY KEY, [applied_at] TEXT)")
                if self.db.execute("SELECT 1 FROM _migrations WHERE name = ?", [name]).fetchone() is None:
                    step(steps_db)
                    self.db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", [name, utcnow()])

    def transaction(self) -> AbstractContextManager[None]:
        """One atomic write (see `_transaction`)."""
        return _transaction(self.db)

    def checkpoint_in_background(self, interval_s: float = CHECKPOINT_INTERVAL_S) -> None:
        """For the long-running bot: WAL checkpoints from a thread of their
        own rather than inside whichever commit fills the WAL (on the event
        loop; see `checkpoints`)."""
        if self._checkpointer is not None:
            return
        self.db.execute(f"PRAGMA wal_autocheckpoint={FALLBACK_PAGES}")
        self._checkpointer = Checkpointer(self.path, interval_s)
        self._checkpointer.start()

    def close(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None
        self.db.conn.close()

    # --- users ------------------------------------------------------------

    def user_lang(self, chat_id: int) -> str | None:
        row = self.db.execute("SELECT lang FROM users WHERE chat_id = ?", [chat_id]).fetchone()
        return row[0] if row else None

    def set_user_lang(self, chat_id: int, lang: str) -> None:
        now = utcnow()
        self.db.execute(
            "INSERT INTO users (chat_id, lang, blocked, created_at, updated_at) VALUES (?, ?, 0, ?, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET lang = excluded.lang, updated_at = excluded.updated_at",
            [chat_id, lang, now, now],
        )

    def mark_blocked(self, chat_id: int) -> None:
        now = utcnow()
        self.db.execute(
            "INSERT INTO users (chat_id, lang, blocked, created_at, updated_at) VALUES (?, NULL, 1, ?, ?) "
            "ON CONFLICT(chat_id) DO UPDATE SET blocked = 1, updated_at = excluded.updated_at",
            [chat_id, now, now],
        )

    def mark_unblocked(self, chat_id: int) -> None:
        # Being back is news of the user (kept from the purge as such).
        self.db.execute("UPDATE users SET blocked = 0, updated_at = ? WHERE chat_id = ? AND blocked != 0", [utcnow(), chat_id])

    def is_blocked(self, chat_id: int) -> bool:
        row = self.db.execute("SELECT blocked FROM users WHERE chat_id = ?", [chat_id]).fetchone()
        return bool(row and row[0])

    def set_awaiting_human(self, chat_id: int, user_id: int, since: dt.datetime | None) -> None:
        """Record that the user asked for a person in the chat at `since`,
        and their next message there is the question (None: no longer)."""
        if since is None:
            self.db.execute("DELETE FROM awaiting_human WHERE chat_id = ? AND user_id = ?", [chat_id, user_id])
            return
        self.db.execute(
            "INSERT OR REPLACE INTO awaiting_human (chat_id, user_id, since) VALUES (?, ?, ?)",
            [chat_id, user_id, since.isoformat(timespec="seconds")],
        )

    def awaiting_human(self, after: dt.datetime) -> dict[tuple[int, int], dt.datetime]:
        """The (chat, user) pairs waiting to ask a person since after `after`, and since when."""
        rows = self.db.execute("SELECT chat_id, user_id, since FROM awaiting_human WHERE since > ?", [after.isoformat(timespec="seconds")])
        return {(chat_id, user_id): dt.datetime.fromisoformat(since) for chat_id, user_id, since in rows.fetchall()}

    # --- events (statistics, no text) -------------------------------------

    def log_event(self, chat_id: int, lang: str, outcome: str, entry_id: str | None, confidence: int, via: str) -> None:
        # Plain SQL: once per message, and sqlite-utils' insert inspects the
        # table each time (a third of the store's time per message).
        self.db.execute(
            "INSERT INTO events (ts, chat_id, lang, outcome, entry_id, confidence, via) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [utcnow(), chat_id, lang, outcome, entry_id, confidence, via],
        )

    # --- questions handed to people --------------------------------------

    def add_question(
        self,
        *,
        chat_id: int,
        lang: str,
        text: str,
        candidates: list[dict[str, Any]],
        reason: str,
        user_message_id: int | None = None,
        operator_post: Callable[[int], dict[str, Any]] | None = None,
        operator_chat_id: int | None = None,
        update_id: int | None = None,
        reply: tuple[int, int] | None = None,
        media: dict[str, Any] | None = None,
        user_id: int | None = None,
        media_group_id: str | None = None,
    ) -> Question:
        """Record a question and, atomically, its post to the operators
        (and, after it, the copy of the photo or document the question was
        written under: `media`, a copy's payload).

        `operator_post` builds the post from the new question's id, so the
        reference operators see is the one stored.  With `update_id`, an
        update handled again (after a crash) gets the question it already
        made, and no second post.  `reply` (chat id, message id) is the
        bot's message a button pressed on it made the question from
        (`question_for_reply`).  `user_id`: who asked (in a group, not the
        chat), for `forget_user`.  `media_group_id`: the album the question
        was written under (`question_for_album`).  The text is masked here (`privacy`),
        whoever stores it: the bot, the terminal chat.
        """
        text = mask_personal_data(text)
        with self.transaction():
            if update_id is not None:
                row = self.db.execute("SELECT id FROM questions WHERE update_id = ?", [update_id]).fetchone()
                if row is not None:
                    return self.question(int(row[0]))
            cursor = self.db.execute(
                "INSERT INTO questions (ts, chat_id, user_message_id, lang, text, candidates, reason, status, update_id, user_id, media_group_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, ?)",
                [utcnow(), chat_id, user_message_id, lang, text, json.dumps(candidates, ensure_ascii=False), reason, update_id, user_id, media_group_id],
            )
            qid = int(cursor.lastrowid or 0)
            if reply is not None:
                self.db.execute(
                    "INSERT INTO reply_texts (chat_id, message_id, created_at, question_id) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(chat_id, message_id) DO UPDATE SET question_id = excluded.question_id",
                    [*reply, utcnow(), qid],
                )
            if operator_post is not None and operator_chat_id is not None:
                self._enqueue("operator_post", operator_chat_id, operator_post(qid), qid)
                if media is not None:
                    self._enqueue("copy", operator_chat_id, media, qid)
        return self.question(qid)

    def question(self, qid: int) -> Question:
        # Plain SQL here and in the other calls made for each handed-off
        # question: sqlite-utils' `get`, `update` and `insert` read the
        # table's schema again on every call (0.2–0.3 ms each).
        for row in self.db.query("SELECT * FROM questions WHERE id = ?", [qid]):
            return Question.from_row(row)
        raise NotFoundError(f"no question {qid}")

    def find_question(self, qid: int) -> Question | None:
        if not -(2**63) <= qid < 2**63:  # no row has it, and SQLite cannot even be asked (OverflowError)
            return None
        try:
            return self.question(qid)
        except NotFoundError:
            return None

    def question_for_update(self, update_id: int) -> Question | None:
        """The question an update made, if it was handled before (a crash)."""
        row = self.db.execute("SELECT id FROM questions WHERE update_id = ?", [update_id]).fetchone()
        return self.find_question(int(row[0])) if row else None

    def question_for_album(self, chat_id: int, media_group_id: str) -> Question | None:
        """The question written under an album of the chat, if one was."""
        row = self.db.execute(
            "SELECT id FROM questions WHERE chat_id = ? AND media_group_id = ? ORDER BY id LIMIT 1", [chat_id, media_group_id]
        ).fetchone()
        return self.find_question(int(row[0])) if row else None

    def open_questions(self) -> list[Question]:
        rows = self.db.query("SELECT * FROM questions WHERE status = 'open' ORDER BY ts, id")
        return [Question.from_row(r) for r in rows]

    def latest_open_question(self, chat_id: int) -> Question | None:
        rows = list(
            self.db.query(
                "SELECT * FROM questions WHERE chat_id = ? AND status IN ('open', 'answered') ORDER BY id DESC LIMIT 1",
                [chat_id],
            )
        )
        return Question.from_row(rows[0]) if rows else None

    def set_question_status(self, qid: int, status: str, *, answer: str | None = None) -> None:
        """Set a question's status; `answered_at` is the first answer's time
        (the wait `jardam stats` reports), `answer` the latest answer."""
        now = utcnow()
        if status == "answered":
            self.db.execute(
                "UPDATE questions SET status = ?, answered_at = COALESCE(answered_at, ?), answer = COALESCE(?, answer) WHERE id = ?",
                [status, now, answer, qid],
            )
        elif status == "closed":
            self.db.execute("UPDATE questions SET status = ?, closed_at = ? WHERE id = ?", [status, now, qid])
        else:
            self.db.execute("UPDATE questions SET status = ? WHERE id = ?", [status, qid])

    # --- relay: sent messages ↔ questions ------------------------------------
    # Posts in the operators' group (operators reply to them) and answers
    # copied to users (users reply to them), keyed by numeric chat and
    # message ids: never by forward_from, which users may hide.

    def link_message(self, chat_id: int, message_id: int, qid: int) -> None:
        self._link_message(chat_id, message_id, qid)

    def _link_message(self, chat_id: int, message_id: int, qid: int) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO relay (chat_id, message_id, question_id, created_at) VALUES (?, ?, ?, ?)",
            [chat_id, message_id, qid, utcnow()],
        )

    def question_for_message(self, chat_id: int, message_id: int) -> Question | None:
        row = self.db.execute(
            "SELECT question_id FROM relay WHERE chat_id = ? AND message_id = ?",
            [chat_id, message_id],
        ).fetchone()
        return self.find_question(row[0]) if row else None

    def answer_copied(self, chat_id: int, message_id: int) -> bool:
        """Whether an operator's message (chat id, message id) went, or is
        queued to go, to a user as an answer: a copy of it in the outbox,
        not given up.  A reply refused as an answer (a command alone) has none."""
        row = self.db.execute(
            "SELECT 1 FROM outbox WHERE kind = 'copy' AND status != 'dropped' "
            "AND json_extract(payload, '$.from_chat_id') = ? AND json_extract(payload, '$.message_id') = ? LIMIT 1",
            [chat_id, message_id],
        ).fetchone()
        return row is not None

    # --- outbox: reliable delivery ---------------------------------------

    def _enqueue(
        self,
        kind: str,
        chat_id: int,
        payload: dict[str, Any],
        qid: int | None,
        asked: str | None = None,
        clarification: Clarification | None = None,
    ) -> int:
        clarified = None
        if clarification is not None:
            masked = {"lang": clarification.lang, "text": mask_personal_data(clarification.text), "candidates": clarification.candidates}
            clarified = json.dumps(masked, ensure_ascii=False)
        cursor = self.db.execute(
            "INSERT INTO outbox (created_at, kind, chat_id, payload, question_id, status, attempts, not_before, asked, clarification) "
            "VALUES (?, ?, ?, ?, ?, 'pending', 0, 0.0, ?, ?)",
            [
                utcnow(),
                kind,
                chat_id,
                json.dumps(payload, ensure_ascii=False),
                qid,
                None if asked is None else mask_personal_data(asked),
                clarified,
            ],
        )
        return int(cursor.lastrowid or 0)

    def enqueue(
        self,
        kind: str,
        chat_id: int,
        payload: dict[str, Any],
        qid: int | None = None,
        *,
        asked: str | None = None,
        clarification: Clarification | None = None,
    ) -> int:
        """Queue a message.  `asked`: for a reply of the bot, what the user
        asked that it answers (masked here), kept with it until it is sent
        and then remembered for its buttons (`outbox_sent`, `reply_text`).
        `clarification`: for a "did you mean", its record (the text masked
        here), kept with it until it is sent and then written to
        `clarifications` under the sent message (`outbox_sent`)."""
        with self.transaction():
            return self._enqueue(kind, chat_id, payload, qid, asked, clarification)

    def enqueue_for_update(self, update_id: int, items: Sequence[tuple[str, int, dict[str, Any], int | None]]) -> None:
        """Queue messages (kind, chat id, payload, question id) and mark the
        update that asked for them handled, in one transaction: after a
        crash that update is either replayed with nothing queued, or done,
        never queued twice (an operator's answer copied to the user twice)."""
        with self.transaction():
            for kind, chat_id, payload, qid in items:
                self._enqueue(kind, chat_id, payload, qid)
            self._mark_update_handled(update_id)

    # The next item of each lane.  A lane is a chat, so that a user gets
    # messages in the order they were queued; in the operators' group it is
    # a question (its post, then follow-ups and acknowledgements), since
    # posts about different questions need no order and one being retried
    # must not hold up the rest.  A lane's oldest pending item goes first:
    # no earlier pending item in its chat (users) or its question
    # (operators; an item without a question is a lane of its own).
    _USER_HEAD = (
        "NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.status = 'pending' AND e.chat_id = o.chat_id AND e.id < o.id)"
    )
    _OPERATOR_HEAD = (
        "NOT EXISTS (SELECT 1 FROM outbox AS e WHERE e.status = 'pending' AND e.question_id = o.question_id "
        "AND e.chat_id = o.chat_id AND e.id < o.id)"
    )

    def due_outbox(
        self, now: float, limit: int = 50, *, operator_chat_id: int | None = None, skip_chats: Collection[int] = ()
    ) -> list[OutboxItem]:
        """The items to send next: each lane's oldest pending item, if it is due.

        A lane's later items wait behind its oldest one, even while that one
        waits for a retry; an item dropped or sent lets the next one through.
        Items for the operators' group come after every other chat's, then
        oldest first, so users are never kept waiting behind a backlog of
        posts to operators.  `skip_chats` are chats not to send to now.
        """
        skip = [c for c in skip_chats if c != operator_chat_id]
        users = self._due_heads(
            f"o.chat_id IS NOT ? AND o.chat_id NOT IN ({', '.join('?' * len(skip))}) AND {self._USER_HEAD}",
            [operator_chat_id, *skip],
            now,
            limit,
        )
        if operator_chat_id is None or operator_chat_id in skip_chats or len(users) >= limit:
            return users
        operators = self._due_heads(f"o.chat_id = ? AND {self._OPERATOR_HEAD}", [operator_chat_id], now, limit - len(users))
        return users + operators

    def _due_heads(self, where: str, params: list[Any], now: float, limit: int) -> list[OutboxItem]:
        # INDEXED BY: without statistics SQLite would take the (status, id)
        # index and read every pending row, the operators' backlog included,
        # on each pass; this one filters chats within the index.
        rows = self.db.query(
            "SELECT * FROM outbox AS o INDEXED BY outbox_pending_chat "
            f"WHERE o.status = 'pending' AND o.not_before <= ? AND {where} ORDER BY o.id LIMIT ?",
            [now, *params, limit],
        )
        return [
            OutboxItem(r["id"], r["kind"], r["chat_id"], json.loads(r["payload"]), r["question_id"], r["attempts"])
            for r in rows
        ]

    def outbox_next_due(self, now: float) -> float | None:
        """When the next pending item falls due (after `now`), if any.

        Any item, not only lanes' oldest: waking early for an item still
        behind another costs one look, and keeps this an index lookup.
        """
        row = self.db.execute(
            "SELECT min(not_before) FROM outbox INDEXED BY outbox_pending_due WHERE status = 'pending' AND not_before > ?", [now]
        ).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def outbox_sent(
        self,
        item_id: int,
        message_id: int | None,
        *,
        link: tuple[int, int, int] | None = None,
        then: tuple[str, int, dict[str, Any], int | None] | None = None,
        answered: tuple[int, str] | None = None,
    ) -> bool:
        """Mark an item sent; False if it is gone (its user forgotten while it
        was being sent).  With it, in one transaction, what the send leads to:
        `link` (chat id, message id, question id) the sent message to its
        question, so that a reply to it is routed; queue `then` (the
        operators' acknowledgement); mark the question (id, answer)
        `answered`, now that the user has the answer (a closed question
        stays closed).  A crash cannot leave a sent answer that a user's
        reply would not find its way back from.  What the user asked, if
        the item is a reply that keeps it (`enqueue`), goes to
        `reply_texts` under the sent message, for its buttons; a "did you
        mean" that keeps its record goes to `clarifications`, for the
        review and the user's choice (`clarification_chosen`)."""
        with self.transaction():
            if message_id is not None:
                self.db.execute(
                    "INSERT OR IGNORE INTO reply_texts (chat_id, message_id, text, created_at) "
                    "SELECT chat_id, ?, asked, ? FROM outbox WHERE id = ? AND asked IS NOT NULL",
                    [message_id, utcnow(), item_id],
                )
                row = self.db.execute("SELECT chat_id, clarification FROM outbox WHERE id = ? AND clarification IS NOT NULL", [item_id]).fetchone()
                if row is not None:
                    kept = json.loads(row[1])
                    self._insert_clarification(row[0], message_id, kept["lang"], kept["text"], kept["candidates"])
            cursor = self.db.execute(
                "UPDATE outbox SET status = 'sent', sent_message_id = ?, asked = NULL, clarification = NULL WHERE id = ?", [message_id, item_id]
            )
            if cursor.rowcount != 1:
                return False
            if link is not None:
                self._link_message(*link)
            if then is not None:
                self._enqueue(*then)
            if answered is not None:
                qid, answer = answered
                # Not over a follow-up the user sent after this answer was
                # queued (its post is a later outbox row): that reopened
                # the question, and a late copy must not hide it from /open.
                self.db.execute(
                    "UPDATE questions SET status = CASE WHEN status = 'closed' THEN status "
                    "WHEN EXISTS (SELECT 1 FROM outbox AS later WHERE later.question_id = questions.id "
                    "AND later.kind = 'operator_post' AND later.id > ?) THEN status ELSE 'answered' END, "
                    "answered_at = COALESCE(answered_at, ?), answer = ? WHERE id = ?",
                    [item_id, utcnow(), answer, qid],
                )
            return True

    def outbox_retry(self, item_id: int, not_before: float, error: str) -> None:
        self.db.execute(
            "UPDATE outbox SET attempts = attempts + 1, not_before = ?, last_error = ? WHERE id = ?",
            [not_before, error[:500], item_id],
        )

    def outbox_replace(self, item_id: int, payload: dict[str, Any], error: str) -> None:
        """Send another payload in an item's place (a short post for one
        Telegram refused), due now."""
        self.db.execute(
            "UPDATE outbox SET payload = ?, attempts = attempts + 1, not_before = 0.0, last_error = ? WHERE id = ?",
            [json.dumps(payload, ensure_ascii=False), error[:500], item_id],
        )

    def outbox_due_now(self, chat_id: int) -> int:
        """Make what is pending for a chat due now (the bot can post there
        again); how many messages that is."""
        cursor = self.db.execute("UPDATE outbox SET not_before = 0.0 WHERE chat_id = ? AND status = 'pending'", [chat_id])
        return int(cursor.rowcount)

    def outbox_move_chat(self, old: int, new: int) -> int:
        """Send what is pending for a chat to its new id instead (a group
        upgraded to a supergroup); how many messages moved."""
        # Messages to send, not deletions: the old group's message ids mean
        # other messages in the new one, so replies lose their target.
        cursor = self.db.execute(
            "UPDATE outbox SET chat_id = ?, payload = json_remove(payload, '$.reply_to') "
            "WHERE chat_id = ? AND status = 'pending' AND kind IN ('text', 'operator_post', 'copy')",
            [new, old],
        )
        return int(cursor.rowcount)

    def outbox_drop(self, item_id: int, error: str, *, then: tuple[str, int, dict[str, Any], int | None] | None = None) -> None:
        """Give an item up; with it, in one transaction, queue `then` (the
        operators told that their answer did not reach the user)."""
        with self.transaction():
            self.db.execute(
                "UPDATE outbox SET status = 'dropped', last_error = ?, asked = NULL, clarification = NULL WHERE id = ?", [error[:500], item_id]
            )
            if then is not None:
                self._enqueue(*then)

    # --- updates already handled (re-delivery after a crash) -----------------

    def update_handled(self, update_id: int) -> bool:
        return self.db.execute("SELECT 1 FROM processed_updates WHERE update_id = ?", [update_id]).fetchone() is not None

    def mark_update_handled(self, update_id: int) -> None:
        with self.transaction():
            self._mark_update_handled(update_id)

    def _mark_update_handled(self, update_id: int) -> None:
        self.db.execute("INSERT OR IGNORE INTO processed_updates (update_id, ts) VALUES (?, ?)", [update_id, utcnow()])
        self.db.execute("DELETE FROM inbox WHERE update_id = ?", [update_id])

    # --- inbox: updates received, not yet handled (replayed after a crash) ---

    def inbox_add(self, update_id: int, payload: str) -> bool:
        """Keep an update until it is handled; False if already kept or handled."""
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO inbox (update_id, ts, payload) SELECT ?, ?, ? "
            "WHERE NOT EXISTS (SELECT 1 FROM processed_updates WHERE update_id = ?)",
            [update_id, utcnow(), payload, update_id],
        )
        return cursor.rowcount == 1

    def inbox_pending(self, max_age_hours: int = 24) -> list[str]:
        """Updates received and never handled, oldest first (as JSON).

        Older ones are left alone: Telegram itself keeps updates for 24 hours,
        and one that crashed the bot day after day must not do so forever.
        """
        cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=max_age_hours)).isoformat(timespec="seconds")
        rows = self.db.execute(
            "SELECT payload FROM inbox WHERE ts >= ? AND update_id NOT IN (SELECT update_id FROM processed_updates) "
            "ORDER BY update_id",
            [cutoff],
        ).fetchall()
        return [r[0] for r in rows]

    # --- what a reply of the bot answered (for its buttons) -------------------

    def remember_reply(self, chat_id: int, message_id: int, text: str) -> None:
        """The user's text the bot's message (chat, message id) answered; masked."""
        self.db.execute(
            "INSERT OR IGNORE INTO reply_texts (chat_id, message_id, text, created_at) VALUES (?, ?, ?, ?)",
            [chat_id, message_id, mask_personal_data(text), utcnow()],
        )

    def reply_text(self, chat_id: int, message_id: int) -> str:
        """What the user asked that the bot's message answered ("" if not known)."""
        row = self.db.execute("SELECT text FROM reply_texts WHERE chat_id = ? AND message_id = ?", [chat_id, message_id]).fetchone()
        return (row[0] or "") if row else ""

    def question_for_reply(self, chat_id: int, message_id: int) -> Question | None:
        """The question a button pressed on the bot's message made, if still stored."""
        for row in self.db.query(
            "SELECT q.* FROM reply_texts AS r JOIN questions AS q ON q.id = r.question_id WHERE r.chat_id = ? AND r.message_id = ?",
            [chat_id, message_id],
        ):
            return Question.from_row(row)
        return None

    # --- clarifications ----------------------------------------------------

    def add_clarification(self, *, chat_id: int, message_id: int, lang: str, text: str, candidates: list[dict[str, Any]]) -> None:
        """A "did you mean" the bot sent (message_id is the bot's message); the text masked."""
        self._insert_clarification(chat_id, message_id, lang, mask_personal_data(text), candidates)

    def _insert_clarification(self, chat_id: int, message_id: int, lang: str, masked: str, candidates: list[dict[str, Any]]) -> None:
        # Plain SQL: also written inside `outbox_sent`'s transaction, which
        # sqlite-utils' `insert` (it commits) would end early.
        self.db.execute(
            "INSERT INTO clarifications (ts, chat_id, message_id, lang, text, candidates) VALUES (?, ?, ?, ?, ?, ?)",
            [utcnow(), chat_id, message_id, lang, masked, json.dumps(candidates, ensure_ascii=False)],
        )

    def clarification_chosen(self, chat_id: int, message_id: int, entry_id: str) -> None:
        self.db.execute(
            "UPDATE clarifications SET chosen = ?, chosen_at = ? WHERE chat_id = ? AND message_id = ? AND chosen IS NULL",
            [entry_id, utcnow(), chat_id, message_id],
        )

    # --- privacy: forgetting and retention -----------------------------------

    def forget_user(self, chat_id: int) -> dict[str, int]:
        """Delete everything stored about one user, by their private chat's
        id (which is their user id); return rows deleted per table.

        Their questions are those of their chat and those they asked in
        groups (by `user_id`; a group question stored before that was kept
        has none, and is not found).  The bot's posts of these questions in
        other chats (the operators' group; not the bot's messages in the
        group a question was asked in) are queued for deletion in the same
        transaction, and sent through the outbox (`delivery.Delivery`), so
        that a throttled or failed deletion is tried again, and one a crash
        interrupts is not lost: those Telegram can still delete, that is
        the posts of the last 48 hours (the newest `MAX_POSTS_DELETED`)."""
        deleted: dict[str, int] = {}
        with self.transaction():
            qids = [
                r[0] for r in self.db.execute("SELECT id FROM questions WHERE chat_id = ? OR user_id = ?", [chat_id, chat_id]).fetchall()
            ]
            marks = ",".join("?" * len(qids))
            if qids:
                since = (dt.datetime.now(dt.UTC) - DELETABLE_FOR).isoformat(timespec="seconds")
                posts = self.db.execute(
                    f"SELECT r.chat_id, r.message_id FROM relay AS r JOIN questions AS q ON q.id = r.question_id "
                    f"WHERE r.question_id IN ({marks}) AND r.chat_id != q.chat_id AND r.created_at >= ? "
                    "ORDER BY r.created_at DESC, r.message_id DESC LIMIT ?",
                    [*qids, since, MAX_POSTS_DELETED],
                ).fetchall()
                for post_chat, message_id in posts:
                    self._enqueue("delete", post_chat, {"message_id": message_id}, None)
                for table, column in (("relay", "question_id"), ("outbox", "question_id"), ("reply_texts", "question_id"), ("questions", "id")):
                    cur = self.db.execute(f"DELETE FROM {table} WHERE {column} IN ({marks})", qids)
                    deleted[table] = cur.rowcount
            for table in ("outbox", "relay", "questions", "clarifications", "events", "reply_texts", "users"):
                cur = self.db.execute(f"DELETE FROM {table} WHERE chat_id = ?", [chat_id])
                deleted[table] = deleted.get(table, 0) + cur.rowcount
            # Their chat's, and (a private chat's id being the user's) their own requests in groups.
            cur = self.db.execute("DELETE FROM awaiting_human WHERE chat_id = ? OR user_id = ?", [chat_id, chat_id])
            deleted["awaiting_human"] = cur.rowcount
        return deleted

    def purge(self, older_than_days: int, open_older_than_days: int | None = None) -> dict[str, int]:
        """Delete records older than the retention period; return rows deleted per table.

        Kept whatever their age: pending deliveries.  A question's age is
        counted from its last sign of life (the question, a post, a
        follow-up, an answer, its closing): answered and closed questions go
        with their text once untouched for the retention period, so that a
        question answered today, however long ago it was asked, still
        routes the user's reply to the answer.  Open questions are kept
        until `open_older_than_days` (never less than the retention period;
        None: for ever): an operator may still answer one, but one nobody
        touched for that long is closed and deleted with its text, unless a
        delivery of it is still pending.  A user (chat id, language,
        "blocked the bot") goes once nothing of theirs is left: not updated
        within the retention period, no events, clarifications or pending
        deliveries younger than it, and no question still stored.
        Rows go in batches, a transaction each (see "purging in batches").
        """
        cutoff = _days_ago(older_than_days)
        before = {"cutoff": cutoff}
        deleted: dict[str, int] = {}
        relay = 0
        if open_older_than_days is not None:
            since = _days_ago(max(open_older_than_days, older_than_days))
            deleted["open questions"], relay = self._purge_questions("status = 'open'", since)
        questions, answered_relay = self._purge_questions("status != 'open'", cutoff)
        deleted["relay"], deleted["questions"] = relay + answered_relay, questions
        deleted["outbox"] = self._purge_rows("outbox", "created_at < :cutoff AND status != 'pending'", before)
        deleted["events"] = self._purge_rows("events", "ts < :cutoff", before)
        deleted["clarifications"] = self._purge_rows("clarifications", "ts < :cutoff", before)
        deleted["processed_updates"] = self._purge_rows("processed_updates", "ts < :cutoff", before)
        deleted["inbox"] = self._purge_rows("inbox", "ts < :cutoff", before)
        deleted["awaiting_human"] = self._purge_rows("awaiting_human", "since < :cutoff", before)
        texts_cutoff = max(cutoff, _days_ago(REPLY_TEXTS_DAYS))
        deleted["reply_texts"] = self._purge_rows("reply_texts", "created_at < :cutoff", {"cutoff": texts_cutoff})
        deleted["users"] = self._purge_users(cutoff)
        return deleted

    # --- purging in batches ---------------------------------------------------
    # The purge deletes PURGE_BATCH rows per transaction: each holds the
    # write lock, which the running bot waits for to store anything, for a
    # few milliseconds (one purge in a single transaction held it for 15 s,
    # and the bot failed to store updates meanwhile).  The rows are found by
    # reading outside any transaction (in WAL mode a read blocks no writer),
    # and each batch is deleted with its condition checked again.

    @contextmanager
    def _purge_batch(self) -> Iterator[None]:
        """One batch's transaction, then a pause as long as it held the lock,
        so that the bot's writes (retried by SQLite's busy handler) find the
        lock free at least half the time rather than losing every race to
        the next batch."""
        with self.transaction():
            started = time.monotonic()
            yield
            held = time.monotonic() - started
        time.sleep(held)

    def _batches(self, table: str, where: str, params: dict[str, Any]) -> Iterator[str]:
        """The rowids of `table`'s rows matching `where`, PURGE_BATCH at a
        time in rowid order, each batch as a JSON array (for json_each)."""
        after = -(2**63)
        while True:
            rows = self.db.execute(
                f"SELECT rowid FROM {table} WHERE rowid > :after AND ({where}) ORDER BY rowid LIMIT {PURGE_BATCH}", {**params, "after": after}
            ).fetchall()
            if not rows:
                return
            yield json.dumps([r[0] for r in rows])
            after = rows[-1][0]

    def _purge_rows(self, table: str, where: str, params: dict[str, Any]) -> int:
        deleted = 0
        for rowids in self._batches(table, where, params):
            with self._purge_batch():
                cursor = self.db.execute(
                    f"DELETE FROM {table} WHERE rowid IN (SELECT value FROM json_each(:rowids)) AND ({where})", {**params, "rowids": rowids}
                )
                deleted += cursor.rowcount
        return deleted

    # A question untouched since :since: not asked, first answered or closed
    # since, and no message about it since (its post, a follow-up, an answer
    # copied, an acknowledgement: in relay and the outbox), nor one still
    # pending.  NOT IN reads each table once.
    _UNTOUCHED_SINCE = (
        "ts < :since AND COALESCE(answered_at, '') < :since AND COALESCE(closed_at, '') < :since "
        "AND id NOT IN (SELECT question_id FROM relay WHERE created_at >= :since AND question_id IS NOT NULL) "
        "AND id NOT IN (SELECT question_id FROM outbox WHERE (status = 'pending' OR created_at >= :since) AND question_id IS NOT NULL)"
    )

    def _purge_questions(self, status: str, since: str) -> tuple[int, int]:
        """Delete the questions matching `status` (SQL) untouched since
        `since`, with their links to posts; (questions, relay rows) deleted."""
        where, params = f"{status} AND {self._UNTOUCHED_SINCE}", {"since": since}
        questions = relay = 0
        for rowids in self._batches("questions", where, params):
            with self._purge_batch():
                found = self.db.execute(
                    f"SELECT id FROM questions WHERE id IN (SELECT value FROM json_each(:rowids)) AND {where}", {**params, "rowids": rowids}
                ).fetchall()
                qids = json.dumps([r[0] for r in found])
                relay += self.db.execute("DELETE FROM relay WHERE question_id IN (SELECT value FROM json_each(?))", [qids]).rowcount
                questions += self.db.execute("DELETE FROM questions WHERE id IN (SELECT value FROM json_each(?))", [qids]).rowcount
        return questions, relay

    # A user nothing of whom is left: not updated since :cutoff, no event or
    # clarification since :since, no question stored, nothing pending.
    _USER_GONE = (
        "COALESCE(updated_at, '') < :cutoff "
        "AND chat_id NOT IN (SELECT chat_id FROM events WHERE ts >= :since AND chat_id IS NOT NULL) "
        "AND chat_id NOT IN (SELECT chat_id FROM clarifications WHERE ts >= :since AND chat_id IS NOT NULL) "
        "AND NOT EXISTS (SELECT 1 FROM questions AS q WHERE q.chat_id = users.chat_id) "
        "AND NOT EXISTS (SELECT 1 FROM outbox AS o WHERE o.status = 'pending' AND o.chat_id = users.chat_id)"
    )

    def _purge_users(self, cutoff: str) -> int:
        """After the rest, whatever is left of events and clarifications is
        younger than the cutoff.  Who has none is read once (events have no
        index by chat: reading all of them takes a while); each batch is
        deleted checking again only what came in since that read began (an
        hour to spare), through the indexes on `ts`."""
        recent = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat(timespec="seconds")
        found = self.db.execute(f"SELECT chat_id FROM users WHERE {self._USER_GONE}", {"cutoff": cutoff, "since": cutoff}).fetchall()
        chat_ids = [r[0] for r in found]
        deleted = 0
        for i in range(0, len(chat_ids), PURGE_BATCH):
            with self._purge_batch():
                cursor = self.db.execute(
                    f"DELETE FROM users WHERE chat_id IN (SELECT value FROM json_each(:chat_ids)) AND {self._USER_GONE}",
                    {"chat_ids": json.dumps(chat_ids[i : i + PURGE_BATCH]), "cutoff": cutoff, "since": recent},
                )
                deleted += cursor.rowcount
        return deleted

    def pending_count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0])
