"""An engine is freed by reference counting alone, as soon as nothing uses
it: its caches reach their objects through weak proxies (`bot.caching`).

The bot freezes its start-up objects out of the cyclic collector's sight,
so an engine kept alive only by its own reference cycles would never be
freed after a FAQ reload (see also tests/test_reload.py)."""

from __future__ import annotations

import gc
import weakref

from bot.caching import instance_cache
from bot.engine import Engine
from bot.faq import FAQ
from bot.i18n import Catalogs


def test_an_engine_used_and_dropped_is_freed_without_the_cyclic_collector(faq: FAQ, catalogs: Catalogs) -> None:
    gc.collect()
    gc.disable()
    try:
        engine = Engine(faq, catalogs)
        for text in ("патент канча турат", "kak proverit zapret na vezd", "Do I need a patent?"):
            assert engine.reply(text).text  # every cache has something in it
        parts = [weakref.ref(engine.matcher), weakref.ref(engine.matcher._letters), weakref.ref(engine.detector._latin)]
        del engine
        assert [part() for part in parts] == [None, None, None]
    finally:
        gc.enable()


def test_an_instance_cache_calls_the_method_on_its_object_and_caches() -> None:
    class Counter:
        def __init__(self) -> None:
            self.calls = 0
            self.double = instance_cache(self, Counter._double, 8)

        def _double(self, n: int) -> int:
            self.calls += 1
            return 2 * n

    counter = Counter()
    assert [counter.double(3), counter.double(3), counter.double(4)] == [6, 6, 8]
    assert counter.calls == 2
    alive = weakref.ref(counter)
    gc.disable()
    try:
        del counter
        assert alive() is None
    finally:
        gc.enable()
