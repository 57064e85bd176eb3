"""Configuration, read from the environment in one place.

Secrets (the bot token, the webhook secret) come only from the environment
and are kept out of `repr`, so a logged or printed `Settings` cannot leak
them.  `.env.example` lists every variable.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent


def _first_dir(*candidates: Path) -> Path:
    for path in candidates:
        if path.is_dir():
            return path
    return candidates[0]


def default_faq_dir() -> Path:
    """The FAQ when JARDAM_FAQ_DIR is not set: ./faq if there is one (the
    checkout an editor works in, which need not be the one Jardam was
    installed from), else the one beside the package."""
    return _first_dir(Path.cwd() / "faq", PACKAGE_ROOT / "faq")


def default_locales_dir() -> Path:
    return _first_dir(PACKAGE_ROOT / "locales", Path.cwd() / "locales")


def default_seeds_dir() -> Path | None:
    """The source documents beside the checkout (../shared/seeds), if present:
    first beside the one whose FAQ is used (`default_faq_dir`), so that a
    second checkout's FAQ is checked against its own seeds."""
    beside_faq = default_faq_dir().resolve().parent.parent / "shared" / "seeds"
    for path in (beside_faq, PACKAGE_ROOT.parent / "shared" / "seeds", Path.cwd().parent / "shared" / "seeds"):
        if path.is_dir():
            return path
    return None


class ConfigError(ValueError):
    """A configuration value is missing or malformed; the message says which."""



LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]+")
SWITCHES = {"on": True, "1": True, "true": True, "yes": True, "off": False, "0": False, "false": False, "no": False}
SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
API_URL_RE = re.compile(r"https?://[^/\s]+(/[^\s]*)?/bot")


@dataclass(frozen=True)
class Settings:
    token: str | None = field(default=None, repr=False)
    api_url: str | None = None
    operator_chat_id: int | None = None
    db_path: Path = Path("data/jardam.db")
    faq_dir: Path = field(default_factory=default_faq_dir)
    locales_dir: Path = field(default_factory=default_locales_dir)
    seeds_dir: Path | None = field(default_factory=default_seeds_dir)
    default_lang: str = "ru"
    webhook_url: str | None = None
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    webhook_secret: str | None = field(default=None, repr=False)
    log_level: str = "INFO"
    huge_pages: bool = True  # the index moved onto huge pages once built (`hugepages`)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        def get_int(name: str) -> int | None:
            value = get(name)
            if value is None:
                return None
            try:
                return int(value)
            except ValueError:
                raise ConfigError(f"{name} must be a whole number, got {value!r}") from None

        log_level = (get("JARDAM_LOG_LEVEL") or "INFO").upper()
        if log_level not in LOG_LEVELS:
            raise ConfigError(f"JARDAM_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {log_level!r}")
        token = get("TELEGRAM_BOT_TOKEN")
        if token is not None and not TOKEN_RE.fullmatch(token):
            # Not echoed: a token with a stray character is still mostly the secret.
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then letters, digits, _ or -): "
                "check it for spaces or invisible characters copied with it"
            )
        webhook_url = get("WEBHOOK_URL")
        # Telegram sends the secret back with every update, and the bot refuses
        # requests without it: with none set, one is made for this run (the
        # webhook is registered again at each start).
        webhook_secret = get("WEBHOOK_SECRET") or (secrets.token_urlsafe(32) if webhook_url else None)
        if webhook_secret is not None and not SECRET_RE.fullmatch(webhook_secret):
            raise ConfigError("WEBHOOK_SECRET must be 1 to 256 letters, digits, _ or - (what Telegram accepts)")
        huge_pages = (get("JARDAM_HUGE_PAGES") or "on").lower()
        if huge_pages not in SWITCHES:
            raise ConfigError(f"JARDAM_HUGE_PAGES must be on or off, got {huge_pages!r}")
        seeds = get("JARDAM_SEEDS_DIR")
        api_url = get("TELEGRAM_API_URL")
        # python-telegram-bot appends the token to it (…/bot123:ABC/getMe), and
        # the file URL is made by replacing "/bot": anything else fails later
        # with a traceback, or sends the token where it was not meant to go.
        if api_url and not (API_URL_RE.fullmatch(api_url)):
            raise ConfigError(
                f"TELEGRAM_API_URL must be http(s)://HOST[:PORT][/PATH]/bot with no trailing slash, "
                f"e.g. http://127.0.0.1:8081/bot; got {api_url!r}"
            )
        return cls(
            token=token,
            api_url=api_url,
            operator_chat_id=get_int("OPERATOR_CHAT_ID"),
            db_path=Path(get("JARDAM_DB") or "data/jardam.db"),
            faq_dir=Path(get("JARDAM_FAQ_DIR") or default_faq_dir()),
            locales_dir=Path(get("JARDAM_LOCALES_DIR") or default_locales_dir()),
            seeds_dir=Path(seeds) if seeds else default_seeds_dir(),
            default_lang=get("JARDAM_DEFAULT_LANG") or "ru",
            webhook_url=webhook_url,
            webhook_listen=get("WEBHOOK_LISTEN") or "0.0.0.0",
            webhook_port=get_int("WEBHOOK_PORT") or 8443,
            webhook_secret=webhook_secret,
            log_level=log_level,
            huge_pages=SWITCHES[huge_pages],
        )
