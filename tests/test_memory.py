"""cgraph/memory.py: keeping the cyclic garbage collector out of the way of big builds."""

from __future__ import annotations

import gc

import pytest

import cgraph as cg
from cgraph.memory import PROMOTE_EVERY, gc_paused


@pytest.fixture
def no_automatic_collections():
    """Thresholds so high that no collection runs by itself: only what cgraph does moves
    objects between generations."""
    enabled, thresholds = gc.isenabled(), gc.get_threshold()
    gc.collect()
    gc.enable()
    gc.set_threshold(10**9, 10**9, 10**9)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        if not enabled:
            gc.disable()


def _in_oldest_generation(obj) -> bool:
    return any(o is obj for o in gc.get_objects(generation=2))


def test_gc_paused_pauses_and_restores_the_collector_state():
    was = gc.isenabled()
    try:
        gc.enable()
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled()
        gc.disable()  # a caller that switched it off keeps it off
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
        gc.enable()
        with pytest.raises(ZeroDivisionError), gc_paused():
            1 / 0
        assert gc.isenabled()
    finally:
        (gc.enable if was else gc.disable)()


def test_a_big_build_moves_its_nodes_to_the_oldest_generation_unscanned(no_automatic_collections):
    # a graph's node dicts are never cyclic garbage: left young they would be rescanned
    # by collection after collection, and promoted the usual way they count towards the
    # next full collection (0.2 s of a 10^5-node build)
    g = cg.Graph()
    x = g.input("x")
    for _ in range(PROMOTE_EVERY // 2):
        x = cg.sin(x)
    young, edges = g.nx._node[x.name], g.nx._succ[x.name]
    assert not _in_oldest_generation(young) and not _in_oldest_generation(edges)  # small: left alone
    for _ in range(PROMOTE_EVERY):
        x = cg.sin(x)
    assert _in_oldest_generation(young) and _in_oldest_generation(edges)
    g.output(x, name="y")
    assert cg.evaluate(g, x=0.5)["y"] == pytest.approx(_sin_n(0.5, PROMOTE_EVERY * 3 // 2), rel=1e-14)


def test_promoted_garbage_is_still_collected():
    import weakref

    class Cycle:
        pass

    enabled = gc.isenabled()
    gc.enable()
    try:
        a = Cycle()
        a.me = a
        ref = weakref.ref(a)
        del a
        g = cg.Graph()
        x = g.input("x")
        for _ in range(PROMOTE_EVERY + 1):  # promotes the cycle with the graph's nodes
            x = cg.sin(x)
        gc.collect()
        assert ref() is None
    finally:
        if not enabled:
            gc.disable()


def _sin_n(v: float, n: int) -> float:
    import math

    for _ in range(n):
        v = math.sin(v)
    return v


def test_objects_the_caller_froze_stay_frozen():
    # gc.freeze() before forking workers keeps pages shared; unfreeze() would undo it
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        for _ in range(3):
            g = cg.Graph()
            x = g.input("x")
            for _ in range(2 * PROMOTE_EVERY):
                x = cg.sin(x)
            assert gc.get_freeze_count() >= frozen
    finally:
        gc.unfreeze()
