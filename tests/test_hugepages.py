"""The index moved onto huge pages: which memory is asked for, that memory
in use is moved and sparse memory is not, and that the process's data
stays as it was."""

from __future__ import annotations

import ctypes
import logging
import mmap
import re
import sys
from pathlib import Path

import pytest

from bot import hugepages
from bot.config import ConfigError, Settings
from bot.hugepages import _anonymous_regions, _Libc, allowed, collapse_heap, collapse_heap_in_background, huge_page_size

MB2 = 2 << 20
MAPS = """\
55d0c0000000-55d0c0001000 r--p 00000000 08:01 1234 /usr/bin/python3.11
55d0c0200000-55d0c0a00000 rw-p 00000000 00:00 0 [heap]
7f0000100000-7f0000700000 rw-p 00000000 00:00 0
7f0000800000-7f0000900000 rw-p 00000000 00:00 0
7f0000a00000-7f0000e00000 rw-s 00000000 00:05 77 /dev/shm/x
7f0001000000-7f0001400000 rw-p 00000000 08:01 99 /tmp/my data (deleted)
7f0002000000-7f0002400000 r--p 00000000 00:00 0
7ffc00000000-7ffc00400000 rw-p 00000000 00:00 0 [stack]
"""

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux") or not allowed(), reason="huge pages: Linux, not set to never")


def test_only_private_writable_anonymous_memory_is_asked_for_in_whole_huge_pages() -> None:
    assert list(_anonymous_regions(MAPS, MB2)) == [
        (0x55D0C0200000, 0x55D0C0A00000),  # the C heap: 8 MB, aligned
        (0x7F0000200000, 0x7F0000600000),  # 6 MB from 1 MB: the two whole 2 MB pages inside
    ]
    # 1 MB (too small), shared memory, a mapped file, read-only memory and
    # the main thread's stack are left out; with bigger huge pages, less is whole.
    assert list(_anonymous_regions(MAPS, 2 * MB2)) == [(0x55D0C0400000, 0x55D0C0800000)]


def _mapping(pages_touched_per_huge_page: int | None) -> tuple[mmap.mmap, int]:
    """12 MB of private anonymous memory (so at least four whole 2 MB pages
    lie inside), filled, or with a few pages touched in each 2 MB."""
    region = mmap.mmap(-1, 12 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    if pages_touched_per_huge_page is None:
        region.write(b"\x5a" * len(region))
    else:
        for at in range(0, len(region), MB2):
            for page in range(pages_touched_per_huge_page):
                region[at + page * mmap.PAGESIZE] = 1
    address = ctypes.addressof(ctypes.c_char.from_buffer(region))
    return region, -(-address // MB2) * MB2  # the first whole 2 MB page inside


def _huge_kb_of_mapping(address: int) -> int:
    """AnonHugePages of the mapping holding `address` (/proc/self/smaps)."""
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = re.match(r"([0-9a-f]+)-([0-9a-f]+) ", line)
        if head:
            inside = int(head[1], 16) <= address < int(head[2], 16)
        elif inside and line.startswith("AnonHugePages:"):
            return int(line.split()[1])
    raise AssertionError("mapping not found")


@linux_only
@pytest.mark.skipif(huge_page_size() != MB2, reason="the mappings below assume 2 MB huge pages")
def test_memory_in_use_is_moved_and_sparse_memory_is_not() -> None:
    full, full_page = _mapping(None)
    sparse, sparse_page = _mapping(3)
    libc = _Libc(MB2)
    assert libc.in_use(full_page, MB2) == 512
    assert libc.in_use(sparse_page, MB2) == 3
    collapse_heap()
    # A collapsed huge page is wholly in memory: the sparse one would read 512.
    assert libc.in_use(sparse_page, MB2) == 3
    if _huge_kb_of_mapping(full_page) == 0:
        # Either the kernel refuses (too old; no free huge page) or collapse_heap skipped it.
        refused = libc.madvise(full_page, MB2, hugepages.MADV_COLLAPSE)
        if refused:
            pytest.skip(f"this kernel refused MADV_COLLAPSE (errno {libc.errno()})")
        pytest.fail("collapse_heap left a filled 2 MB page that the kernel collapses when asked")
    assert full[:16] == b"\x5a" * 16 and full[-16:] == b"\x5a" * 16  # the data is as it was
    assert sparse[: mmap.PAGESIZE][:1] == b"\x01" and sparse[1:16] == bytes(15)
    full.close()
    sparse.close()


@linux_only
def test_collapsing_keeps_every_object_as_it_was() -> None:
    texts = [f"патент {i} " * 4 for i in range(200_000)]  # ~60 MB of small objects, as an index is
    numbers = list(range(1_000_000))
    assert collapse_heap() >= 0
    assert texts[123_456] == "патент 123456 " * 4 and len(texts) == 200_000
    assert sum(numbers) == 499_999_500_000


def test_nothing_is_asked_where_huge_pages_are_set_to_never(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "enabled").write_text("always madvise [never]\n")
    (tmp_path / "hpage_pmd_size").write_text("33554432\n")
    monkeypatch.setattr(hugepages, "_THP", tmp_path)
    assert huge_page_size() == 32 << 20
    assert not allowed()
    assert collapse_heap() == 0
    assert collapse_heap_in_background() is None
    (tmp_path / "enabled").write_text("always [madvise] never\n")
    assert allowed() == sys.platform.startswith("linux")


def test_elsewhere_nothing_is_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hugepages.sys, "platform", "darwin")
    assert not allowed()
    assert collapse_heap() == 0
    assert collapse_heap_in_background() is None


@linux_only
def test_the_bot_collapses_in_a_thread_and_logs_what_it_got(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="bot.hugepages"):
        thread = collapse_heap_in_background()
        assert thread is not None and thread.daemon
        thread.join(timeout=60)
    assert not thread.is_alive()
    said = [r.getMessage() for r in caplog.records if r.name == "bot.hugepages" and r.levelno == logging.INFO]
    assert said and all(re.fullmatch(r"index on huge pages: \d+ MB", text) for text in said)


@pytest.mark.parametrize(("value", "on"), [(None, True), ("on", True), ("1", True), ("OFF", False), ("0", False), ("no", False)])
def test_jardam_huge_pages_turns_it_on_or_off(value: str | None, on: bool) -> None:
    env = {} if value is None else {"JARDAM_HUGE_PAGES": value}
    assert Settings.from_env(env).huge_pages is on


def test_a_mistyped_switch_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="JARDAM_HUGE_PAGES must be on or off, got 'of'"):
        Settings.from_env({"JARDAM_HUGE_PAGES": "of"})
