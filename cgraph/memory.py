"""Keeping Python's cyclic garbage collector out of the way of big graph builds."""

from __future__ import annotations

import gc
from typing import Any


class gc_paused:  # lower case: used like the function it replaces, `with gc_paused():`
    """Pause Python's cyclic GC while a pass builds many objects and no cycles.

    Building a 10^5-node graph allocates about 10^6 dicts; with the collector on, it
    rescans them over and over (about 2x the build time) and finds nothing to free.
    After a big build the new objects go straight to the oldest generation (freeze then
    unfreeze), so the collector does not scan them all at once on resuming either; they
    are scanned with the rest at the next full collection. (A class rather than a
    generator-based context manager: every pass enters one, small graphs too.)
    """

    __slots__ = ("enabled",)

    def __enter__(self) -> None:
        self.enabled = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            if gc.get_count()[0] > _BIG_BUILD:
                promote_young()
            gc.enable()


def promote_young() -> None:
    """Move every object the collector holds as young to its oldest generation, unscanned.

    A graph under construction (the user's own loop of ``cg.sin(x)``, ``a * b``...) is
    many small dicts that are never cyclic garbage. Left young, they are scanned by
    collection after collection, and once promoted the usual way they count towards the
    next full collection, which rescans the whole heap: three of them took 0.2 s of a
    10^5-node build (0.46 s). ``freeze()`` + ``unfreeze()`` moves them in O(1) and
    outside that count; the next full collection scans them with everything else. The
    price: cyclic garbage the caller made meanwhile waits for that full collection
    instead of a young one. Where the caller froze objects itself (``gc.freeze()``
    before forking workers, say), ``unfreeze()`` would release them too: then nothing
    is promoted, and the frozen count (a walk over the frozen objects) is looked at
    again only after ``_RECHECK`` more calls.
    """
    global _skip
    if _skip:
        _skip -= 1
    elif gc.get_freeze_count():
        _skip = _RECHECK
    else:
        gc.freeze()
        gc.unfreeze()


#: objects allocated in a paused pass beyond which they are promoted without a scan
_BIG_BUILD = 100_000
#: a graph being built promotes the young objects every this many nodes (a power of 2)
PROMOTE_EVERY = 1024
#: calls of promote_young that skip the frozen count after it found frozen objects
_RECHECK = 63
_skip = 0
