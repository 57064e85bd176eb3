"""`jardam run` as a real process: configuration errors, start-up, a
conversation, and a clean stop on SIGTERM and SIGINT."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.fakebotapi import FakeBotAPI

from .conftest import OPERATORS, ROOT, TOKEN


def jardam(*args: str, env: dict[str, str], **kwargs: object) -> subprocess.Popen[str]:
    """`jardam ARGS` as a process; its output, standard error included, in `stdout` unless `kwargs` say otherwise."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        text=True,
        **{"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT} | kwargs,  # type: ignore[call-overload]
    )


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "OPERATOR_", "JARDAM_", "WEBHOOK_"))}
    env["JARDAM_DB"] = str(tmp_path / "bot.db")
    return env


def test_run_without_token_points_to_chat(tmp_path: Path) -> None:
    proc = jardam("run", env=base_env(tmp_path))
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert "TELEGRAM_BOT_TOKEN is not set" in out and "jardam chat" in out


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_answers_and_stops_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    with FakeBotAPI(token=TOKEN) as api:
        env = base_env(tmp_path) | {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": api.base_url,
            "OPERATOR_CHAT_ID": str(OPERATORS),
        }
        proc = jardam("run", env=env)
        try:
            api.wait_for_polling(timeout=30)
            api.push_text(42, "как проверить запрет на въезд", language_code="ru")
            reply = api.wait_for_sent(chat_id=42, timeout=10)[0]
            assert "📚 Источники" in reply["text"]
            started = time.monotonic()
            proc.send_signal(sig)
            out, _ = proc.communicate(timeout=15)
            assert time.monotonic() - started < 8
        finally:
            if proc.poll() is None:
                proc.kill()
        assert proc.returncode == 0, out
        assert re.search(r"Jardam ready: \d+ entries in \d+ topics, languages ky/ru/en, long polling", out), out
        assert "Jardam stopped" in out
        assert TOKEN not in out
        assert TOKEN.split(":")[1] not in out


@pytest.mark.slow
def test_token_never_logged_even_at_debug(tmp_path: Path) -> None:
    with FakeBotAPI(token=TOKEN) as api:
        env = base_env(tmp_path) | {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_URL": api.base_url,
            "JARDAM_LOG_LEVEL": "DEBUG",
        }
        api.fail("sendMessage", status=500, times=1)
        proc = jardam("run", env=env)
        try:
            api.wait_for_polling(timeout=30)
            api.push_text(42, "как проверить запрет на въезд", language_code="ru")
            api.wait_for_sent(chat_id=42, timeout=10)
            proc.send_signal(signal.SIGTERM)
            out, _ = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
        assert "getUpdates" in out  # debug output really was on
        assert "[secret]" in out
        assert TOKEN not in out
        assert TOKEN.split(":")[1] not in out


def test_start_up_asks_telegram_again_with_growing_capped_waits(caplog: pytest.LogCaptureFixture) -> None:
    """`getMe` failing at start (no network, then a 429): asked again after
    the first delay, twice as long each time up to the longest, a 429's
    `retry_after` honoured; one warning line per failure, no traceback."""
    from telegram import Bot

    from bot.httpclient import make_request
    from bot.telegram_app import wait_for_telegram

    caplog.set_level(logging.WARNING, logger="bot.telegram_app")
    with FakeBotAPI(token=TOKEN) as api:
        api.fail("getMe", status=0, times=4)  # the connection dropped: Telegram unreachable
        api.fail("getMe", status=429, retry_after=1)

        async def start() -> None:
            bot = Bot(TOKEN, base_url=api.base_url, request=make_request(1))
            await wait_for_telegram(bot, first_delay=0.05, max_delay=0.2)
            assert bot.username == api.username
            await bot.shutdown()

        asyncio.run(start())
        times = [c.time for c in api.calls_of("getMe")]
    assert len(times) == 6
    warnings = [r.getMessage() for r in caplog.records]
    assert [w.rsplit(" ", 2)[-2] for w in warnings] == ["0.05", "0.1", "0.2", "0.2", "1"]
    assert all(w.startswith("Telegram cannot be reached to start (") for w in warnings)
    assert "RetryAfter" in warnings[-1]
    assert not any(r.exc_info for r in caplog.records)
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert all(gap >= wait - 0.01 for gap, wait in zip(gaps, [0.05, 0.1, 0.2, 0.2, 1.0], strict=True)), gaps



def test_a_bad_request_at_start_is_not_asked_again(caplog: pytest.LogCaptureFixture) -> None:
    """A 400 (an API URL that answers, wrongly) is a `NetworkError` to
    python-telegram-bot, yet asking again changes nothing: it had been
    asked every minute for ever."""
    from telegram import Bot
    from telegram.error import BadRequest

    from bot.httpclient import make_request
    from bot.telegram_app import wait_for_telegram

    with FakeBotAPI(token=TOKEN) as api:
        api.fail("getMe", status=400, times=5)

        async def start() -> None:
            request = make_request(1)
            bot = Bot(TOKEN, base_url=api.base_url, request=request)
            try:
                with pytest.raises(BadRequest):
                    await asyncio.wait_for(wait_for_telegram(bot, first_delay=0.05, max_delay=0.2), 10)
            finally:
                await request.shutdown()  # the bot never got as far as owning it

        asyncio.run(start())
        assert len(api.calls_of("getMe")) == 1

def run_env(tmp_path: Path, api: FakeBotAPI, **more: str) -> dict[str, str]:
    return base_env(tmp_path) | {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": api.base_url, "OPERATOR_CHAT_ID": str(OPERATORS)} | more


def answers_then_stops(api: FakeBotAPI, tmp_path: Path) -> str:
    """`jardam run` against `api` (its faults set by the caller): it comes to
    poll, answers a question, and stops with status 0 on SIGTERM; its log."""
    proc = jardam("run", env=run_env(tmp_path, api), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        api.wait_for_polling(timeout=30)
        api.push_text(42, "как проверить запрет на въезд", language_code="ru")
        assert "📚 Источники" in api.wait_for_sent(chat_id=42, timeout=10)[0]["text"]
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    return str(err)


@pytest.mark.slow
def test_run_waits_for_telegram_at_start_then_answers(tmp_path: Path) -> None:
    """Telegram unreachable at start: one warning line per try, no
    traceback, and the bot starts once Telegram answers."""
    with FakeBotAPI(token=TOKEN) as api:
        api.fail("getMe", status=0, times=2)
        err = answers_then_stops(api, tmp_path)
    tries = [line for line in err.splitlines() if "Telegram cannot be reached to start" in line]
    assert len(tries) == 2, err
    assert " WARNING " in tries[0] and tries[0].endswith("trying again in 1 s") and tries[1].endswith("trying again in 2 s")
    assert "Traceback" not in err and " ERROR " not in err, err
    assert "Jardam ready" in err


def test_telegram_failing_just_after_getme_does_not_stop_the_start(tmp_path: Path) -> None:
    """getMe answered, then the command menu and the webhook deletion
    failed once each (a Telegram half up): the start had ended with a
    traceback.  The menu is left for the next start, deleteWebhook asked
    again, and the bot answers."""
    with FakeBotAPI(token=TOKEN) as api:
        api.fail("setMyCommands", status=502, times=1)
        api.fail("deleteWebhook", status=502, times=1)
        err = answers_then_stops(api, tmp_path)
    assert "could not set the command menu" in err and "Traceback" not in err, err


@pytest.mark.slow
def test_sigterm_stops_a_bot_waiting_for_telegram_at_once(tmp_path: Path) -> None:
    with FakeBotAPI(token=TOKEN) as api:
        api.fail("getMe", status=0, times=1000)
        proc = jardam("run", env=run_env(tmp_path, api), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            api.wait_for_call("getMe", count=2, timeout=30)  # waiting 2 s now
            started = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=15)
            assert time.monotonic() - started < 1
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    assert "Traceback" not in err, err
    assert err.splitlines()[-1].endswith("Jardam stopped before Telegram could be reached")


@pytest.mark.slow
def test_a_refused_token_stops_the_start_at_once_with_one_line(tmp_path: Path) -> None:
    with FakeBotAPI(token=TOKEN) as api:  # another token than the bot's: 401
        env = run_env(tmp_path, api, TELEGRAM_BOT_TOKEN="654321:WRONG-token-never-real")
        proc = jardam("run", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, err = proc.communicate(timeout=30)
        assert len(api.calls_of("getMe")) == 1
    assert proc.returncode == 1
    [line] = err.splitlines()
    assert " ERROR " in line and "Telegram refused the bot token (TELEGRAM_BOT_TOKEN)" in line
    assert "WRONG-token" not in line


@pytest.mark.slow
def test_a_second_run_on_the_same_database_stops_at_once(tmp_path: Path) -> None:
    """Two bots on one database would both poll Telegram and answer some
    messages twice: the second `jardam run` exits at once with one line
    naming the first; the commands that only read or tidy the database
    still work beside the bot; the lock goes with the process, killed too."""
    with FakeBotAPI(token=TOKEN) as api:
        env = run_env(tmp_path, api)
        first = jardam("run", env=env)
        second: subprocess.Popen[str] | None = None
        try:
            api.wait_for_polling(timeout=30)
            started = time.monotonic()
            second = jardam("run", env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            out, err = second.communicate(timeout=15)
            assert time.monotonic() - started < 3  # before the FAQ is even read
            assert second.returncode == 1
            assert (out, err) == ("", f"Error: another jardam run is using {env['JARDAM_DB']} (pid {first.pid})\n")
            for command in (["stats"], ["purge"], ["review"]):
                other = jardam(*command, env=env)
                assert other.communicate(timeout=30)[0] and other.returncode == 0, command
            api.push_text(42, "как проверить запрет на въезд", language_code="ru")
            api.wait_for_sent(chat_id=42, timeout=10)
            first.kill()  # no clean stop: the lock file stays, with the dead one's pid
            first.communicate(timeout=15)
            mark = api.checkpoint()
            second = jardam("run", env=env)
            api.wait_for_call("getUpdates", since=mark, timeout=30)
            assert second.poll() is None
            second.send_signal(signal.SIGTERM)
            out, _ = second.communicate(timeout=15)
            assert second.returncode == 0, out
        finally:
            for proc in (first, second):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.communicate()


@pytest.mark.slow
def test_another_bot_polling_with_the_token_is_logged_once_a_minute(tmp_path: Path) -> None:
    """Telegram's `Conflict` (another bot polls with the same token,
    elsewhere): python-telegram-bot asks again every few seconds; the
    log says so once a minute, not at every try."""
    with FakeBotAPI(token=TOKEN) as api:
        conflict = "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"
        api.fail("getUpdates", status=409, times=3, description=conflict)
        proc = jardam("run", env=run_env(tmp_path, api), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            api.wait_for_call("getUpdates", count=3, timeout=30)  # refused 3 times, 1 + 1.5 s apart, then a poll
            api.wait_for_polling(timeout=10)
            api.push_text(42, "как проверить запрет на въезд", language_code="ru")
            api.wait_for_sent(chat_id=42, timeout=10)
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=15)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
    assert proc.returncode == 0, err
    conflicts = [line for line in err.splitlines() if "Conflict" in line]
    assert len(conflicts) == 1, err
    assert " ERROR " in conflicts[0] and "another bot is polling Telegram with this bot's token" in conflicts[0]
