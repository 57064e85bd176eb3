"""Back the long-lived FAQ index with huge pages (Linux).

A message reads a little of much of the index: a byte per entry for each
of its words, each shortlisted entry's gram profile, phrasings and word
sets.  At 100 times the shipped FAQ that is ~770 MB spread over ~190,000
pages of 4 KB, far more than the processor's address-translation cache
holds, so most of those reads first walk the page tables, which in a
virtual machine costs two walks.  Collapsed into pages of 2 MB, the same
index takes a few hundred translations.

Python's allocator maps its memory without asking for huge pages, and
where the kernel gives them only on request (`madvise`, the usual
setting) it gives none.  `MADV_COLLAPSE` (Linux 6.1+) turns memory already
filled into huge pages on the spot, whatever that setting: it is asked for
once the index is built, over the process's anonymous memory.  The call
releases the GIL, so the bot makes it in a thread while it answers.  It is
best effort: an older kernel, another system, or no free 2 MB page leaves
the memory as it was, which only costs speed.
"""

from __future__ import annotations

import ctypes
import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

MADV_COLLAPSE = 25  # <linux/mman.h>, Linux 6.1
HUGE_PAGE = 2 << 20  # x86-64 and arm64 with 4 KB base pages
_MAPS = Path("/proc/self/maps")
_ROLLUP = Path("/proc/self/smaps_rollup")


def _anonymous_regions(maps: str) -> Iterator[tuple[int, int]]:
    """The 2 MB-aligned parts of the private, writable mappings backed by no
    file (Python's objects live there: its arenas, and the C heap for the
    big ones), from the text of /proc/self/maps."""
    for line in maps.splitlines():
        fields = line.split()
        if len(fields) < 5 or not fields[1].startswith("rw") or fields[1][3] != "p":
            continue
        name = fields[5] if len(fields) > 5 else ""
        if name not in ("", "[heap]"):
            continue
        low, high = (int(bound, 16) for bound in fields[0].split("-"))
        start = -(-low // HUGE_PAGE) * HUGE_PAGE
        end = high // HUGE_PAGE * HUGE_PAGE
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


def collapse_heap() -> int:
    """Ask the kernel to move the process's anonymous memory onto huge pages
    now; the KB on huge pages afterwards (0 where not supported)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        maps = _MAPS.read_text()
        libc = ctypes.CDLL(None, use_errno=True)
        madvise = libc.madvise
    except (OSError, AttributeError):
        return 0
    madvise.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    madvise.restype = ctypes.c_int
    for start, end in _anonymous_regions(maps):
        # Failures are per region and leave it as it was: EINVAL where huge
        # pages are not allowed (threads' stacks, since Linux 6.7; every
        # region before 6.1), EAGAIN or ENOMEM where no 2 MB page was free.
        madvise(start, end - start, MADV_COLLAPSE)
    return huge_pages_kb()


def collapse_heap_in_background() -> threading.Thread | None:
    """`collapse_heap` in a daemon thread, so that start-up and replies go
    on meanwhile (None: not on this system)."""
    if not sys.platform.startswith("linux"):
        return None

    def run() -> None:
        kb = collapse_heap()
        log.info("index on huge pages: %d MB", kb // 1024)

    thread = threading.Thread(target=run, name="huge-pages", daemon=True)
    thread.start()
    return thread
