"""`jardam run` as a real process: configuration errors, start-up, a
conversation, and a clean stop on SIGTERM and SIGINT."""

from __future__ import annotations

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
    return subprocess.Popen(
        [sys.executable, "-m", "bot", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **kwargs,  # type: ignore[call-overload]
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
