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
                gc.freeze()
                gc.unfreeze()
            gc.enable()


#: objects allocated in a paused pass beyond which they are promoted without a scan
_BIG_BUILD = 100_000
