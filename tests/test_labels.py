"""Edge-label placement along straight edges."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from cgraph.export.labels import Box, place_on_segments


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
