"""Jardam: answers Kyrgyz migrant workers' questions from a checked FAQ."""

import os

# Opt in to python-telegram-bot's coming behaviour (durations as timedelta)
# now, so RetryAfter does not raise a deprecation warning on every 429.
os.environ.setdefault("PTB_TIMEDELTA", "1")

__version__ = "0.1.0"
