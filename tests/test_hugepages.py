"""The index moved onto huge pages: which memory is asked for, and that
asking leaves the process's data as it was."""

from __future__ import annotations

import logging
import sys

import pytest

from bot import hugepages
from bot.config import ConfigError, Settings
from bot.hugepages import HUGE_PAGE, _anonymous_regions, collapse_heap, collapse_heap_in_background, huge_pages_kb

MAPS = """\
55d0c0000000-55d0c0001000 r--p 00000000 08:01 1234 /usr/bin/python3.11
55d0c0200000-55d0c0a00000 rw-p 00000000 00:00 0 [heap]
7f0000100000-7f0000700000 rw-p 00000000 00:00 0
7f0000800000-7f0000900000 rw-p 00000000 00:00 0
7f0000a00000-7f0000e00000 rw-s 00000000 00:05 77 /dev/shm/x
7f0001000000-7f0001400000 rw-p 00000000 08:01 99 /tmp/mapped.db
7f0002000000-7f0002400000 r--p 00000000 00:00 0
7ffc00000000-7ffc00400000 rw-p 00000000 00:00 0 [stack]
"""


def test_only_private_writable_anonymous_memory_is_asked_for_in_whole_huge_pages() -> None:
    regions = list(_anonymous_regions(MAPS))
    assert regions == [
        (0x55D0C0200000, 0x55D0C0A00000),  # the C heap: 8 MB, aligned
        (0x7F0000200000, 0x7F0000600000),  # 6 MB from 1 MB: the two whole 2 MB pages inside
    ]
    # 1 MB (too small), shared memory, a mapped file, read-only memory and
    # the main thread's stack are left out.
    assert all((end - start) % HUGE_PAGE == 0 and start % HUGE_PAGE == 0 for start, end in regions)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="huge pages are asked for on Linux only")
def test_collapsing_keeps_every_object_as_it_was() -> None:
    texts = [f"патент {i} " * 4 for i in range(200_000)]  # ~60 MB of small objects, as an index is
    numbers = list(range(1_000_000))
    kb = collapse_heap()
    assert kb == huge_pages_kb() >= 0
    assert texts[123_456] == "патент 123456 " * 4 and len(texts) == 200_000
    assert sum(numbers) == 499_999_500_000


def test_elsewhere_nothing_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hugepages.sys, "platform", "darwin")
    assert collapse_heap() == 0
    assert collapse_heap_in_background() is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="huge pages are asked for on Linux only")
def test_the_bot_collapses_in_a_thread_and_logs_what_it_got(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="bot.hugepages"):
        thread = collapse_heap_in_background()
        assert thread is not None and thread.daemon
        thread.join(timeout=30)
    assert not thread.is_alive()
    [record] = [r for r in caplog.records if r.name == "bot.hugepages"]
    assert record.getMessage().startswith("index on huge pages: ") and record.getMessage().endswith(" MB")


@pytest.mark.parametrize(("value", "on"), [(None, True), ("on", True), ("1", True), ("OFF", False), ("0", False), ("no", False)])
def test_jardam_huge_pages_turns_it_on_or_off(value: str | None, on: bool) -> None:
    env = {} if value is None else {"JARDAM_HUGE_PAGES": value}
    assert Settings.from_env(env).huge_pages is on


def test_a_mistyped_switch_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="JARDAM_HUGE_PAGES must be on or off, got 'of'"):
        Settings.from_env({"JARDAM_HUGE_PAGES": "of"})
