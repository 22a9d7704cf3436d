"""Placing edge labels along straight edges so that they do not overlap.

The network drawing pins every unit, so each edge is a known straight segment. Each
label goes somewhere on its own edge, as near the head as it can without covering
another label or a unit, and preferably where few other edges cross it. Graphviz is
then told the spot as a ``headlabel`` distance along the edge (``labelangle=0``).

The search counts, for each of a label's candidate spots, the edges crossing it: its
work grows as labels x edges, the fourth power of the width of a fully labelled layer
pair (a 20 x 20 pair took 5 s, a 30 x 30 one 27 s, a 100 x 100 one about an hour). Past
``EXHAUSTIVE`` (labels x edges), labels are placed avoiding only each other and the
units (found through a grid, near-linear), not the edges crossing them, and
:func:`drawing_order` keeps each tail's edges in their given order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import networkx as nx

__all__ = ["EXHAUSTIVE", "Box", "drawing_order", "exhaustive", "place_on_segments"]

Point = tuple[float, float]
STEPS = 20
EXHAUSTIVE = 60_000  # labels x edges: about 1.5 s of exhaustive search (a 14 x 14 pair, all labelled)
CELL = 72.0  # grid cell of the fast placement, points


@dataclass(frozen=True)
class Box:
    """An axis-aligned rectangle by its centre and size (points)."""

    cx: float
    cy: float
    w: float
    h: float

    def overlap(self, other: Box) -> float:
        dx = min(self.cx + self.w / 2, other.cx + other.w / 2) - max(self.cx - self.w / 2, other.cx - other.w / 2)
        dy = min(self.cy + self.h / 2, other.cy + other.h / 2) - max(self.cy - self.h / 2, other.cy - other.h / 2)
        return dx * dy if dx > 0 and dy > 0 else 0.0

    def crosses(self, p: Point, q: Point) -> bool:
        """True when segment ``p``-``q`` passes through the box (Liang-Barsky clipping)."""
        t0, t1 = 0.0, 1.0
        dx, dy = q[0] - p[0], q[1] - p[1]
        for edge_p, edge_q in ((-dx, p[0] - (self.cx - self.w / 2)), (dx, (self.cx + self.w / 2) - p[0]),
                               (-dy, p[1] - (self.cy - self.h / 2)), (dy, (self.cy + self.h / 2) - p[1])):
            if edge_p == 0:
                if edge_q < 0:
                    return False
                continue
            t = edge_q / edge_p
            if edge_p < 0:
                t0 = max(t0, t)
            else:
                t1 = min(t1, t)
            if t0 > t1:
                return False
        return True


def place_on_segments(segments: list[tuple[Point, Point]], sizes: list[tuple[float, float]], *,
                      margin: float, scale: float = 72.0) -> list[float]:
    """For each segment (tail, head) in inches, the distance in points from the head's
    boundary (``margin`` points from the head's centre) at which to centre its label.

    Greedy: labels are placed in order, each at the candidate spot with the least
    cost (overlap with placed labels and units, then crossing edges, then distance
    from the head). Past :data:`EXHAUSTIVE` (see :func:`exhaustive`), crossing edges
    are not counted.

    Examples
    --------
    >>> place_on_segments([((0, 0), (2, 0)), ((0, 1), (2, 0))], [(30, 12), (30, 12)], margin=20)
    [15.0, 20.5]
    """
    pts = [((p[0] * scale, p[1] * scale), (q[0] * scale, q[1] * scale)) for p, q in segments]
    centres = {pt for seg in pts for pt in seg}
    units = [Box(x, y, 2 * (margin - 2), 2 * (margin - 2)) for x, y in centres]
    if not exhaustive(segments, sizes):
        return _place_fast(pts, sizes, units, margin)
    placed: list[Box] = []
    out = []
    for k, ((p, q), (w, h)) in enumerate(zip(pts, sizes)):
        if w <= 0:
            out.append(0.0)
            continue
        length = math.dist(p, q)
        ux, uy = (p[0] - q[0]) / length, (p[1] - q[1]) / length  # from head towards tail
        reach = abs(ux) * w / 2 + abs(uy) * h / 2  # half the label's extent along the edge
        free = max(0.0, length - 2 * margin - 2 * reach)
        best, best_cost = reach, math.inf
        for step in range(STEPS + 1):
            s = reach + free * step / STEPS
            box = Box(q[0] + ux * (margin + s), q[1] + uy * (margin + s), w, h)
            cost = sum(box.overlap(b) for b in placed) * 10 + sum(box.overlap(u) for u in units) * 10
            cost += sum(3.0 for j, (a, b) in enumerate(pts) if j != k and box.crosses(a, b))
            cost += step / STEPS
            if cost < best_cost - 1e-9:
                best, best_cost = s, cost
        placed.append(Box(q[0] + ux * (margin + best), q[1] + uy * (margin + best), w, h))
        out.append(round(best, 1))
    return out


def drawing_order(segments: list[tuple[Point, Point]], sizes: list[tuple[float, float]], spots: list[float], *,
                  margin: float, groups: list[int] | None = None, scale: float = 72.0) -> list[int]:
    """An order to draw the edges in so that an edge crossing a label is drawn before it.

    Graphviz paints each edge together with its label, so a later edge paints over an
    earlier label. It paints edges grouped by their tail node (in the order the nodes
    are declared), so with ``groups`` (the tail of each segment) the order keeps each
    group together: declare the tails in the order their groups first appear. Where
    crossings form a cycle, one of them loses.

    Examples
    --------
    >>> drawing_order([((0, 0), (2, 0)), ((1.2, -1), (1.2, 1))], [(30, 12), (0, 0)], [30.0, 0.0], margin=20)
    [1, 0]
    """
    groups = list(range(len(segments))) if groups is None else groups
    if not exhaustive(segments, sizes):  # (the crossings cost labels x edges to find)
        first = {grp: n for n, grp in reversed(list(enumerate(groups)))}
        return sorted(range(len(segments)), key=lambda k: (first[groups[k]], k))
    pts = [((p[0] * scale, p[1] * scale), (q[0] * scale, q[1] * scale)) for p, q in segments]
    between, within = nx.DiGraph(), nx.DiGraph()
    between.add_nodes_from(groups)
    within.add_nodes_from(range(len(pts)))
    for k, ((p, q), (w, h), s) in enumerate(zip(pts, sizes, spots)):
        if w <= 0:
            continue
        length = math.dist(p, q)
        ux, uy = (p[0] - q[0]) / length, (p[1] - q[1]) / length
        box = Box(q[0] + ux * (margin + s), q[1] + uy * (margin + s), w, h)
        for j, (a, b) in enumerate(pts):
            if j != k and box.crosses(a, b):
                (within if groups[j] == groups[k] else between).add_edge(*((j, k) if groups[j] == groups[k] else (groups[j], groups[k])))
    rank = {grp: n for n, grp in enumerate(_toposort(between))}
    inner = {seg: n for n, seg in enumerate(_toposort(within))}
    return sorted(range(len(pts)), key=lambda k: (rank[groups[k]], inner[k]))


def exhaustive(segments: list, sizes: list[tuple[float, float]]) -> bool:
    """Whether labels are placed by the full search: labels x edges at most :data:`EXHAUSTIVE`.

    Examples
    --------
    >>> exhaustive([((0, 0), (1, 0))] * 300, [(30, 12)] * 300)
    False
    """
    return sum(1 for w, _ in sizes if w > 0) * len(segments) <= EXHAUSTIVE


def _place_fast(pts: list[tuple[Point, Point]], sizes: list[tuple[float, float]], units: list[Box],
                margin: float) -> list[float]:
    """:func:`place_on_segments` without counting crossing edges; boxes found through a grid."""
    grid: dict[tuple[int, int], list[Box]] = {}

    def cells(box: Box):
        x0, x1 = math.floor((box.cx - box.w / 2) / CELL), math.floor((box.cx + box.w / 2) / CELL)
        y0, y1 = math.floor((box.cy - box.h / 2) / CELL), math.floor((box.cy + box.h / 2) / CELL)
        return [(i, j) for i in range(x0, x1 + 1) for j in range(y0, y1 + 1)]

    def add(box: Box) -> None:
        for c in cells(box):
            grid.setdefault(c, []).append(box)

    for u in units:
        add(u)
    out = []
    for (p, q), (w, h) in zip(pts, sizes):
        if w <= 0:
            out.append(0.0)
            continue
        length = math.dist(p, q)
        ux, uy = (p[0] - q[0]) / length, (p[1] - q[1]) / length
        reach = abs(ux) * w / 2 + abs(uy) * h / 2
        free = max(0.0, length - 2 * margin - 2 * reach)
        best, best_cost = reach, math.inf
        for step in range(STEPS + 1):
            s = reach + free * step / STEPS
            box = Box(q[0] + ux * (margin + s), q[1] + uy * (margin + s), w, h)
            near = {id(b): b for c in cells(box) for b in grid.get(c, ())}
            cost = sum(box.overlap(b) for b in near.values()) * 10 + step / STEPS
            if cost < best_cost - 1e-9:
                best, best_cost = s, cost
        add(Box(q[0] + ux * (margin + best), q[1] + uy * (margin + best), w, h))
        out.append(round(best, 1))
    return out


def _toposort(g: nx.DiGraph) -> list:
    """A topological order after dropping an edge of each cycle (deterministic)."""
    g = g.copy()
    while not nx.is_directed_acyclic_graph(g):
        u, v = nx.find_cycle(g)[0][:2]
        g.remove_edge(u, v)
    return list(nx.lexicographical_topological_sort(g))
