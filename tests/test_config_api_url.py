"""A wrong TELEGRAM_API_URL is one line at start, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings

from .conftest import ROOT, TOKEN


@pytest.mark.parametrize("url", ["http://127.0.0.1:8081", "http://127.0.0.1:8081/", "http://127.0.0.1:8081/bot/", "127.0.0.1:8081/bot"])
def test_a_wrong_api_url_is_refused_with_one_line(tmp_path: Path, url: str) -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_API_URL must be"):
        Settings.from_env({"TELEGRAM_API_URL": url})
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "OPERATOR_", "JARDAM_", "WEBHOOK_"))}
    env |= {"JARDAM_DB": str(tmp_path / "bot.db"), "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": url}
    proc = subprocess.run([sys.executable, "-m", "bot", "run"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    (line,) = (proc.stdout + proc.stderr).strip().splitlines()
    assert line.startswith("Error: TELEGRAM_API_URL must be")


@pytest.mark.parametrize("url", ["http://127.0.0.1:8081/bot", "https://api.example.org/telegram/bot"])
def test_a_right_api_url_is_taken(url: str) -> None:
    assert Settings.from_env({"TELEGRAM_API_URL": url}).api_url == url
