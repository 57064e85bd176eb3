"""Per-user flood control: a sliding window, with one notice per flood.

A user (or a script) sending dozens of messages a minute must neither take
the bot's capacity from others nor get dozens of "slow down" replies; the
first message over the limit gets a notice, the rest are dropped quietly
until the window has room again.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    NOTIFY = "notify"  # over the limit: tell the user once
    DROP = "drop"  # over the limit, already told


class RateLimiter:
    def __init__(self, limit: int = 20, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._hits: dict[int, deque[float]] = {}
        self._notified: set[int] = set()

    def check(self, key: int) -> Verdict:
        now = self.clock()
        hits = self._hits.setdefault(key, deque())
        while hits and now - hits[0] > self.window_s:
            hits.popleft()
        if len(hits) < self.limit:
            hits.append(now)
            self._notified.discard(key)
            return Verdict.ALLOW
        if key in self._notified:
            return Verdict.DROP
        self._notified.add(key)
        return Verdict.NOTIFY

    def forget_idle(self) -> None:
        """Drop users with no recent messages, so memory stays flat."""
        now = self.clock()
        for key in [k for k, h in self._hits.items() if not h or now - h[-1] > self.window_s]:
            del self._hits[key]
            self._notified.discard(key)
