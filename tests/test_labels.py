"""Edge-label placement along straight edges."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cgraph.export.labels import EXHAUSTIVE, Box, drawing_order, exhaustive, place_on_segments


def test_box_overlap_and_crossing():
    a, b = Box(0, 0, 10, 10), Box(5, 5, 10, 10)
    assert a.overlap(b) == 25 and a.overlap(Box(20, 0, 5, 5)) == 0
    assert a.crosses((-10, 0), (10, 0)) and not a.crosses((-10, 20), (10, 20))


def test_labels_on_a_fan_in_do_not_overlap():
    segs = [((0, y), (3, 0)) for y in (-1.5, -0.5, 0.5, 1.5)]
    dist = place_on_segments(segs, [(36, 16)] * 4, margin=30)
    boxes = []
    for ((x0, y0), (x1, y1)), s in zip(segs, dist):
        p, q = (x0 * 72, y0 * 72), (x1 * 72, y1 * 72)
        length = ((p[0] - q[0]) ** 2 + (p[1] - q[1]) ** 2) ** 0.5
        ux, uy = (p[0] - q[0]) / length, (p[1] - q[1]) / length
        boxes.append(Box(q[0] + ux * (30 + s), q[1] + uy * (30 + s), 36, 16))
    assert all(boxes[i].overlap(boxes[j]) == 0 for i in range(4) for j in range(i))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(-3, 3), st.floats(-3, 3)), min_size=1, max_size=6))
def test_spots_stay_on_the_free_part_of_the_edge(tails):
    segs = [((x - 4, y), (0.0, 0.0)) for x, y in tails]
    for ((x, y), _), s in zip(segs, place_on_segments(segs, [(30, 14)] * len(segs), margin=25)):
        length = ((x * 72) ** 2 + (y * 72) ** 2) ** 0.5
        assert 0 <= s <= max(length - 50, 15)


def _crossing_forbidden(self, p, q):
    raise AssertionError("the exhaustive search ran (it counts crossings: labels x edges per candidate)")


def test_many_labels_are_placed_without_the_crossing_search(monkeypatch):
    # a 100 x 100 layer pair with every edge labelled did not finish in 5 minutes: the search
    # counted, for each of 21 spots of each label, every edge crossing it. Past EXHAUSTIVE it does not
    fan = [((0, y), (4, z)) for y in range(30) for z in range(30)]
    sizes = [(40.0, 18.0)] * len(fan)
    assert not exhaustive(fan, sizes)
    monkeypatch.setattr(Box, "crosses", _crossing_forbidden)
    spots = place_on_segments(fan, sizes, margin=31)
    assert len(spots) == len(fan) and all(s > 0 for s in spots)
    order = drawing_order(fan, sizes, spots, margin=31, groups=[y for y in range(30) for _ in range(30)])
    assert order == list(range(len(fan)))  # each tail's edges together, as given
    # labels still avoid each other where the edge leaves room: the 30 into one head do not pile up
    assert len({s for (_, q), s in zip(fan, spots) if q == (4, 0)}) > 10


def test_few_labels_still_get_the_crossing_search():
    segs = [((0, 0), (2, 0)), ((0, 1), (2, 0))]
    assert exhaustive(segs, [(30, 12)] * 2) and len(segs) * 2 <= EXHAUSTIVE
