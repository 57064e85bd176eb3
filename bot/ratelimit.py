"""Per-user flood control: a sliding window, with one notice per flood.

A user (or a script) sending dozens of messages a minute must neither take
the bot's capacity from others nor get dozens of "slow down" replies; the
first message over the limit gets a notice, the rest are dropped quietly
until the window has room again.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable
from enum import Enum


class Verdict(Enum):
    ALLOW = "allow"
    NOTIFY = "notify"  # over the limit: tell the user once
    DROP = "drop"  # over the limit, already told


class RateLimiter:
    """Up to `limit` messages per user in any `window_s` seconds.

    Users are kept least recently seen first, and those whose last counted
    message has left the window are forgotten as others come in, from the
    front: each user once, a dictionary deletion, so memory follows the
    users active in the last window, not every user the bot has ever had.
    """

    def __init__(self, limit: int = 20, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._hits: OrderedDict[int, deque[float]] = OrderedDict()
        self._notified: set[int] = set()

    def check(self, key: int) -> Verdict:
        now = self.clock()
        self._forget_idle(now)
        hits = self._hits.get(key)
        if hits is None:
            hits = self._hits[key] = deque()
        else:
            self._hits.move_to_end(key)
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

    def not_told(self, key: int) -> None:
        """The notice of a `Verdict.NOTIFY` could not be given (a group
        message, where none is sent): the user's next message over the
        limit is `NOTIFY` again, not dropped unsaid."""
        self._notified.discard(key)

    def __len__(self) -> int:
        """Users remembered."""
        return len(self._hits)

    def _forget_idle(self, now: float) -> None:
        """Forget the least recently seen users while their last counted
        message is out of the window: coming back, they start afresh, as
        they would have anyway."""
        while self._hits:
            key, hits = next(iter(self._hits.items()))
            if hits and now - hits[-1] <= self.window_s:
                return
            del self._hits[key]
            self._notified.discard(key)
