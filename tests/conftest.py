"""Shared fixtures: the real FAQ and engine, real SQLite files, the fake Bot API
server on 127.0.0.1, and the real bot (python-telegram-bot, unmodified)
running against it in a background thread."""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import pytest
import sqlite_utils

os.environ.setdefault("PTB_TIMEDELTA", "1")

from bot.config import Settings, default_seeds_dir  # noqa: E402
from bot.engine import Engine  # noqa: E402
from bot.fakebotapi import FakeBotAPI  # noqa: E402
from bot.faq import FAQ, load_faq  # noqa: E402
from bot.i18n import Catalogs  # noqa: E402
from bot.store import MIGRATIONS, Store  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


def in_lockstep(target: Callable[..., None], args_per_process: list[tuple[Any, ...]], outcomes: int) -> list[Any]:
    """Run `target(barrier, *args, results)` in one spawned process per args,
    the processes meeting at the barrier before each step (so that they
    collide), and return the `outcomes` items they put on `results`."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(len(args_per_process)), ctx.Queue()
    workers = [ctx.Process(target=target, args=(barrier, *args, results)) for args in args_per_process]
    for w in workers:
        w.start()
    found = [results.get(timeout=120) for _ in range(outcomes)]
    for w in workers:
        w.join(30)
        assert w.exitcode == 0
    return found


def database_before(path: Path, migration: int) -> sqlite_utils.Database:
    """A database file as an older Jardam left it: the migrations before
    number `migration` applied and recorded, the rest not.  Open, for the
    test to add the rows that older version wrote; the test commits and
    closes it."""
    db = sqlite_utils.Database(path)
    db["_migrations"].create({"name": str, "applied_at": str}, pk="name")  # type: ignore[union-attr]
    for name, step in MIGRATIONS[: migration - 1]:
        step(db)
        db["_migrations"].insert({"name": name, "applied_at": "2026-11-01T00:00:00+00:00"})  # type: ignore[union-attr]
    return db

TOKEN = "123456:TEST-token-never-real"
OPERATORS = -100777


@pytest.fixture(scope="session")
def faq() -> FAQ:
    return load_faq(ROOT / "faq", default_seeds_dir())


@pytest.fixture(scope="session")
def catalogs() -> Catalogs:
    return Catalogs(ROOT / "locales")


@pytest.fixture(scope="session")
def engine(faq: FAQ, catalogs: Catalogs) -> Engine:
    return Engine(faq, catalogs)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "jardam.db"


@pytest.fixture
def api() -> Iterator[FakeBotAPI]:
    with FakeBotAPI(token=TOKEN) as server:
        yield server


def bot_settings(api: FakeBotAPI, db_path: Path, **overrides: object) -> Settings:
    base = Settings(
        token=TOKEN,
        api_url=api.base_url,
        operator_chat_id=OPERATORS,
        db_path=db_path,
        faq_dir=ROOT / "faq",
        locales_dir=ROOT / "locales",
        huge_pages=False,  # on in `test_reload`; a collapse of the test process's memory is no use elsewhere
    )
    return replace(base, **overrides)  # type: ignore[arg-type]


class BotRunner:
    """The real Application, polling the fake server from its own thread."""

    def __init__(self, settings: Settings, engine: Engine):
        self.settings = settings
        self.engine = engine
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self.error: BaseException | None = None
        self.store: Store | None = None

    def start(self) -> BotRunner:
        self._thread = threading.Thread(target=self._main, name="bot", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise AssertionError(f"bot did not start: {self.error!r}")
        if self.error:
            raise self.error
        return self

    def _main(self) -> None:
        try:
            asyncio.run(self._run())
        except BaseException as exc:  # surfaced to the test
            self.error = exc
            self._ready.set()

    async def _run(self) -> None:
        from bot.telegram_app import build_application, start_polling_app, stop_polling_app

        self.loop = asyncio.get_running_loop()
        self.store = Store(self.settings.db_path)
        app = build_application(self.settings, self.engine, self.store)
        await start_polling_app(app, timeout=1)
        self.app = app
        self._ready.set()
        while not self._stop.is_set():
            await asyncio.sleep(0.02)
        await stop_polling_app(app)

    def on_loop(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` run on the bot's own thread, between its steps: the
        bot's SQLite connection is not to be used from two threads at once
        (a write from the test while the bot writes fails with "not an
        error")."""

        async def call() -> T:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout=120)

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(15)
            assert not self._thread.is_alive(), "bot did not stop"
        if self.error:
            raise self.error


@pytest.fixture
def run_bot(api: FakeBotAPI, db_path: Path, engine: Engine) -> Iterator[object]:
    """Start a bot (optionally with settings overrides); stopped after the test."""
    runners: list[BotRunner] = []

    def start(**overrides: object) -> BotRunner:
        runner = BotRunner(bot_settings(api, db_path, **overrides), engine).start()
        runners.append(runner)
        return runner

    yield start
    for runner in runners:
        if runner._thread and runner._thread.is_alive():
            runner.stop()
