"""Logging that cannot leak secrets.

python-telegram-bot logs request URLs at DEBUG level, and every URL holds
the bot token; exception texts may too.  A filter on the root handlers
replaces each secret with a placeholder in every record, whatever logger
wrote it and at whatever level.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable


class RedactSecrets(logging.Filter):
    def __init__(self, secrets: Iterable[str | None]):
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = message
        for secret in self.secrets:
            redacted = redacted.replace(secret, "[secret]")
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            for secret in self.secrets:
                record.exc_text = record.exc_text.replace(secret, "[secret]")
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def configure_logging(level: str, secrets: Iterable[str | None]) -> None:
    """Root logging for the bot, with secrets redacted everywhere."""
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    redact = RedactSecrets(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(redact)
    # Request lines are noise at INFO, and carry the token (redacted anyway).
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
