"""Caches of an object's methods that do not keep the object alive.

`lru_cache(self.method)` holds a bound method, which holds the object: the
two keep each other alive, and only the cyclic garbage collector can free
them.  The bot puts everything it has at start-up out of that collector's
sight (`gc.freeze`, see `telegram_app.post_init`), so an engine replaced by
a FAQ reload would then stay in memory for good: its whole index, some
15 MB for the shipped FAQ and 750 MB for one a hundred times its size.

These caches call the method on a weak proxy of the object instead.  When
the last real reference goes (the bot's, or that of a handler still
answering from the old FAQ), reference counting frees the object and its
caches at once, frozen or not, with no collection to wait for.
"""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from functools import lru_cache, partial
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from functools import _lru_cache_wrapper  # the type lru_cache returns, named for checkers only

R = TypeVar("R")


def instance_cache(owner: object, function: Callable[..., R], maxsize: int) -> _lru_cache_wrapper[R]:
    """`function` (a method, taken from the class) bound to `owner` and
    cached, without a strong reference to `owner`."""
    return lru_cache(maxsize=maxsize)(partial(function, weakref.proxy(owner)))


def freeze_long_lived() -> None:
    """Put every object alive now out of the cyclic garbage collector's
    sight: the FAQ index and the libraries' objects, which live as long as
    the process (or until a reload replaces the index, which reference
    counting then frees, as above).  Otherwise each full collection walks
    them all: pauses of 25–70 ms for the shipped FAQ, which every reply in
    flight waited out.  Called once the engine is built, at start-up and
    after each reload, and by the benchmark, which measures what the bot
    does; what is collected first is the garbage of building it."""
    gc.collect()
    gc.freeze()
