"""Flood control on its own, with a clock the test moves (the bot's side,
one notice then silence, is in tests/test_hostile.py)."""

from __future__ import annotations

from bot.ratelimit import RateLimiter, Verdict


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_over_the_limit_one_notice_then_drops_until_the_window_has_room() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=3, window_s=60, clock=clock)
    verdicts = []
    for _ in range(6):
        verdicts.append(limiter.check(1))
        clock.now += 1
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.NOTIFY, Verdict.DROP, Verdict.DROP]
    assert limiter.check(2) is Verdict.ALLOW  # another user is not held back
    clock.now = 1000.0 + 60.5  # the first message has left the window
    assert limiter.check(1) is Verdict.ALLOW
    assert limiter.check(1) is Verdict.NOTIFY  # full again: told again, once


def test_users_who_went_quiet_are_forgotten_so_memory_follows_the_active_ones() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=20, window_s=60, clock=clock)
    # A day of 20,000 users, one message each, 4 seconds apart.
    for user in range(20_000):
        assert limiter.check(user) is Verdict.ALLOW
        clock.now += 4
    assert len(limiter) <= 16  # the last minute's
    # A flooder who keeps sending stays remembered (and silenced) while others come and go.
    for _ in range(25):
        limiter.check(-1)
    for user in range(100_000, 100_040):
        clock.now += 2
        limiter.check(user)
        assert limiter.check(-1) in (Verdict.DROP, Verdict.ALLOW)
    assert -1 in limiter._hits
    assert len(limiter) <= 32


def test_a_forgotten_user_starts_afresh() -> None:
    clock = Clock()
    limiter = RateLimiter(limit=2, window_s=10, clock=clock)
    assert [limiter.check(7) for _ in range(3)] == [Verdict.ALLOW, Verdict.ALLOW, Verdict.NOTIFY]
    clock.now += 11
    limiter.check(8)  # someone else's message sweeps user 7 away
    assert 7 not in limiter._hits
    assert [limiter.check(7) for _ in range(3)] == [Verdict.ALLOW, Verdict.ALLOW, Verdict.NOTIFY]


def test_a_notice_not_given_is_given_at_the_next_message_over_the_limit() -> None:
    limiter = RateLimiter(limit=1, window_s=60, clock=Clock())
    assert [limiter.check(7) for _ in range(2)] == [Verdict.ALLOW, Verdict.NOTIFY]
    limiter.not_told(7)  # over the limit in a group: no notice sent there
    assert [limiter.check(7) for _ in range(2)] == [Verdict.NOTIFY, Verdict.DROP]
