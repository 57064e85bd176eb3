"""SQLite's WAL checkpoints, taken off the bot's event loop.

In WAL mode each commit is appended to the ``-wal`` file, and by default the
commit that finds the file past 1,000 pages also copies it back into the
database (a checkpoint, with its fsyncs) before it returns.  In the bot
that commit runs on the event loop, so under load about one message in a
hundred waited 16–21 ms for a checkpoint, and every reply in flight waited
with it: in `jardam bench` it set the p99 reply latency (17–20 ms with
those checkpoints, 8.5–10.6 ms with this thread; three runs each).

So the long-running bot checkpoints from a thread of its own, on a
connection of its own, every second.  SQLite runs a PASSIVE checkpoint
alongside the writer (it copies what no reader still needs and never waits
for a lock), and Python's sqlite3 lets go of the GIL while SQLite works.
The bot's own connection keeps an automatic checkpoint at a much larger
WAL (`FALLBACK_PAGES`), so the file stays bounded whatever happens here.
It is reached when this thread cannot do its job (a disk error, say), and
under sustained heavy load: SQLite starts the WAL over from its beginning
only once every frame in it has been copied, and when a commit lands
during every background checkpoint, that never happens (in the bench's
throughput run, 3,000 messages at once, the WAL reached the 10,000 pages
within four seconds; from there the bot's own checkpoints, one every
10,000 pages rather than every 1,000, take over).  At the rates a bot like
this sees, commits are seconds apart and the WAL starts over after each
checkpoint.  Making the thread start it over itself (a RESTART checkpoint)
was tried: it holds the bot's writes back, and its waits for locks
stalled the loop more than the checkpoints it saved.  Short-lived
commands keep SQLite's default.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

INTERVAL_S = 1.0
# The bot's connection checkpoints by itself past this many WAL pages
# (4 KiB each): ten times SQLite's default, some three seconds of the
# heaviest load measured.
FALLBACK_PAGES = 10_000
# A checkpoint that cannot open the database waits no longer than this.
_CONNECT_TIMEOUT_S = 1.0
# `stop` waits this long for a checkpoint under way to finish.
_STOP_WAIT_S = 10.0


class Checkpointer:
    """A thread that checkpoints one database's WAL every `interval_s`."""

    def __init__(self, path: Path, interval_s: float = INTERVAL_S):
        self.path = path
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="jardam-wal-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Finish the checkpoint under way, if any, and end the thread."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(_STOP_WAIT_S)

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        failing = False  # log a failure once, not every second
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    if conn is None:
                        conn = sqlite3.connect(str(self.path), timeout=_CONNECT_TIMEOUT_S, isolation_level=None)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error as exc:
                    if not failing:
                        log.warning("WAL checkpoint failed, the bot's own checkpoints take over until it works: %s", exc)
                    failing = True
                    continue
                if failing:
                    log.info("WAL checkpoints work again")
                failing = False
        finally:
            if conn is not None:
                conn.close()
