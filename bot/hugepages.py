"""Back the long-lived FAQ index with huge pages (Linux).

A message reads a little of much of the index: a byte per entry for each
of its words, each shortlisted entry's gram profile, phrasings and word
sets.  At 100 times the shipped FAQ that is ~770 MB spread over ~190,000
pages of 4 KB, far more than the processor's address-translation cache
holds, so most of those reads first walk the page tables, which in a
virtual machine costs two walks.  On pages of 2 MB the same index takes a
few hundred translations.

Python's allocator maps its memory without asking for huge pages, and
where the kernel gives them only on request (`madvise`, the usual
setting) it gives none.  `MADV_COLLAPSE` (Linux 6.1+) moves memory already
filled onto huge pages on the spot: it is asked for once the index is
built, over the process's anonymous memory, one huge page at a time.

- Only huge pages at least half in use are asked for: the kernel would
  fill a huge page with only a few pages in use (a thread's stack, a
  sparse array) up to its whole size.
- Nothing is asked where the administrator set huge pages to `never`.
- One page at a time, with a pause between, because each collapse holds
  the memory map's lock, which a thread touching new memory waits on: the
  bot answers meanwhile, from its event loop (one call over a whole
  mapping held replies up to 100 ms at 100 times the shipped FAQ).
- It is best effort: an older kernel, another system, or no free huge
  page leaves the memory as it was, which only costs speed.
"""

from __future__ import annotations

import errno
import logging
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

MADV_COLLAPSE = 25  # <linux/mman.h>, Linux 6.1
_THP = Path("/sys/kernel/mm/transparent_hugepage")
_MAPS = Path("/proc/self/maps")
_ROLLUP = Path("/proc/self/smaps_rollup")
# A huge page is collapsed when at least this share of its small pages is in use.
MIN_IN_USE = 0.5
# Between two huge pages, in the bot's thread: replies go first.
PAUSE_S = 0.001
# One collapse at a time: reloads in a row queue theirs behind it.
_running = threading.Lock()


def huge_page_size() -> int:
    """The size of a huge page here (2 MB on x86-64; more on some arm64 kernels)."""
    try:
        return int((_THP / "hpage_pmd_size").read_text())
    except (OSError, ValueError):
        return 2 << 20


def allowed() -> bool:
    """Whether this system may use huge pages at all (not Linux, or `never`: no)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        return "[never]" not in (_THP / "enabled").read_text()
    except OSError:
        return False


def _anonymous_regions(maps: str, huge: int) -> Iterator[tuple[int, int]]:
    """The `huge`-aligned parts of the private, writable mappings backed by
    no file (Python's objects live there: its arenas, and the C heap for the
    big ones), from the text of /proc/self/maps."""
    for line in maps.splitlines():
        fields = line.split()
        if len(fields) < 5 or not fields[1].startswith("rw") or fields[1][3] != "p":
            continue
        name = fields[5] if len(fields) > 5 else ""
        if name not in ("", "[heap]"):
            continue
        low, high = (int(bound, 16) for bound in fields[0].split("-"))
        start = -(-low // huge) * huge
        end = high // huge * huge
        if end > start:
            yield start, end


def huge_pages_kb() -> int:
    """The process's anonymous memory on huge pages, in KB (0 where unknown)."""
    try:
        for line in _ROLLUP.read_text().splitlines():
            if line.startswith("AnonHugePages:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class _Libc:
    """`madvise` and `mincore` through ctypes, imported only when used (a
    Python built without ctypes simply does without huge pages)."""

    def __init__(self, huge: int) -> None:
        import ctypes
        import mmap

        self._ctypes: Any = ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        self.madvise = libc.madvise
        self.madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
        self.madvise.restype = ctypes.c_int
        self.mincore = libc.mincore
        self.mincore.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p)
        self.mincore.restype = ctypes.c_int
        self.pages = huge // mmap.PAGESIZE
        self._vector = (ctypes.c_ubyte * self.pages)()

    def in_use(self, start: int, size: int) -> int:
        """How many of the small pages of [start, start + size) are in memory (0: unmapped since)."""
        if self.mincore(start, size, self._vector) != 0:
            return 0
        return bytes(self._vector).translate(_RESIDENT).count(1)

    def errno(self) -> int:
        return int(self._ctypes.get_errno())


# mincore's byte per page: bit 0 says resident, the others are reserved.
_RESIDENT = bytes(i & 1 for i in range(256))


def collapse_heap(pause_s: float = 0.0) -> int:
    """Move the process's anonymous memory onto huge pages now, where at
    least half in use; the KB on huge pages afterwards (0 where not
    supported).  `pause_s`: a sleep between two huge pages."""
    if not allowed():
        return 0
    huge = huge_page_size()
    try:
        maps = _MAPS.read_text()
        libc = _Libc(huge)
    except (OSError, AttributeError, ImportError) as exc:
        log.debug("huge pages not available: %s", exc)
        return 0
    first_error = 0
    for start, end in _anonymous_regions(maps, huge):
        for page in range(start, end, huge):
            if libc.in_use(page, huge) < MIN_IN_USE * libc.pages:
                continue
            # Refusals leave the memory as it was: EINVAL where huge pages
            # are not allowed (a thread's stack since Linux 6.7; anything
            # before 6.1), EAGAIN or ENOMEM where no huge page was free.
            if libc.madvise(page, huge, MADV_COLLAPSE) != 0 and not first_error:
                first_error = libc.errno()
            if pause_s:
                time.sleep(pause_s)
    if first_error:
        log.debug("some memory stays on small pages: %s", errno.errorcode.get(first_error, first_error))
    return huge_pages_kb()


def collapse_heap_in_background() -> threading.Thread | None:
    """`collapse_heap` in a daemon thread, pausing between huge pages, so
    that start-up and replies go on meanwhile (None: not on this system)."""
    if not allowed():
        return None

    def run() -> None:
        with _running:
            kb = collapse_heap(PAUSE_S)
        log.info("index on huge pages: %d MB", kb // 1024)

    thread = threading.Thread(target=run, name="huge-pages", daemon=True)
    thread.start()
    return thread
