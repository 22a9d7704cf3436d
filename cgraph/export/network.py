"""The neural-network convention of the lecture.

One circle per unit, labelled with its variable (``x₁``, ``z₂⁽¹⁾``, ``ŷ``); every edge
labelled with its weight ``w_{j,i}^{(l)}`` (j the target unit, i the source unit) or its
value; the bias is not a node and its weight appears nowhere; no loss nodes.

Layered-network metadata (what ``cg.nn`` writes, and what any graph needs to be drawn
this way):

- ``layer`` (int) on the node holding the units of a layer: 0 for the input features,
  1..L-1 for the hidden activations, L for the output; with ``layer_kind``
  (``"input"``, ``"hidden"``, ``"output"``) and ``activation`` (``"tanh"``, ...);
- ``weights`` (int l) on the parameter ``W_l`` of shape ``(n_{l-1}, n_l)``, the forward
  computation being ``H_{l-1} @ W_l + b_l``;
- ``bias`` (int l) on ``b_l`` (never drawn).

Unit counts come from the shapes. Layers are columns, left to right, with positions
pinned (Graphviz ``neato``), so units never change order.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pydot

from ..checks import flag, shown
from ..errors import ExportError
from ..graph import Graph
from ..ops.registry import OPS
from ..ops.shapes import is_int
from . import dot as D
from .labels import drawing_order, place_on_segments

__all__ = ["Layer", "layers", "network_dot"]

WEIGHTS = ("symbol", "value", "none")
UNIT = 0.62  # circle diameter, inches
FONT_UNIT = 13
FONT_WEIGHT = 11
CAPTION_EM = 6.6  # points: the mean width of a character of a layer's caption (12 pt DejaVu Sans), with room
POSITIVE, NEGATIVE, EDGE = "#b03a2e", "#1f618d", "#555555"
DROPPED, CROSS = "#9a9a9a", "#444444"  # a dropped unit's dashed circle and its cross


@dataclass(frozen=True)
class Layer:
    """One layer of a layered network: its node, kind, activation and unit count."""

    index: int
    node: str
    kind: str
    activation: str
    units: int
    weights: str | None  # the param W_l feeding this layer (None for the input layer)


def layers(g: Graph) -> list[Layer]:
    """The layers of ``g`` read from its layer metadata, checked; ``ExportError`` says what is missing.

    Examples
    --------
    >>> import cgraph as cg
    >>> from cgraph.export.network import layers
    >>> g = cg.Graph()
    >>> x = g.input("X", shape=(None, 2))
    >>> layers(g)
    Traceback (most recent call last):
    ...
    cgraph.errors.ExportError: graph 'graph' is not a layered network: no node carries 'layer' metadata...
    """
    nodes = g.nx.nodes
    marked: dict[int, str] = {}
    for n, data in g.nx.nodes(data=True):
        if "layer" in data:
            k = data["layer"]
            if not is_int(k):
                raise ExportError(f"node {n!r}: 'layer' must be an int, not {shown(k)}")
            if int(k) in marked:
                raise ExportError(f"nodes {marked[int(k)]!r} and {n!r} both claim layer {k}")
            marked[int(k)] = n
    if not marked:
        raise ExportError(
            f"graph {g.name!r} is not a layered network: no node carries 'layer' metadata, so it has no "
            "units to draw as circles. The network style draws networks built by cg.nn.MLP (or graphs "
            "whose nodes carry layer/weights metadata, see cgraph.export.network); draw it with style='computation' (cgraph draw: --style computation)."
        )
    depth = max(marked)
    # (distinct numbers: 0..L all there iff the least is 0 and there are L + 1; a set of
    # range(L + 1) would not fit in memory for a layer=10**30 read from a file)
    if depth < 1 or min(marked) != 0 or len(marked) != depth + 1:
        found = sorted(marked) if len(marked) <= 20 else f"{len(marked)} layers from {min(marked)} to {shown(depth)}"
        raise ExportError(f"graph {g.name!r}: layers must be numbered 0..L with L >= 1; found {found}")
    weights = {}
    for n, d in g.nx.nodes(data=True):
        if "weights" in d:
            if not is_int(d["weights"]):  # int("s") raised ValueError, int(1.5) read layer 1
                raise ExportError(f"node {n!r}: 'weights' must be an int, not {shown(d['weights'])}")
            weights[int(d["weights"])] = n
    beyond = sorted(k for k in weights if k > depth)
    if beyond:  # the top layer found is not the output: drawing it as one would be a wrong network
        k = beyond[0]
        raise ExportError(
            f"graph {g.name!r}: weight matrix {weights[k]!r} (weights={k}) feeds layer {k}, but no node carries "
            f"layer={k} (the layers found are {sorted(marked)}); cg.simplify drops a prediction node that the "
            "loss does not read: draw the network's own graph"
        )
    out = []
    for k in range(depth + 1):
        n = marked[k]
        w = weights.get(k) if k else None
        if k and w is None:
            raise ExportError(f"graph {g.name!r}: layer {k} (node {n!r}) has no weight matrix (a param with weights={k})")
        kind = nodes[n].get("layer_kind") or ("input" if k == 0 else "output" if k == depth else "hidden")
        if kind not in ("input", "hidden", "output"):  # (a list from a file was unhashable in the caption)
            raise ExportError(f"node {n!r}: 'layer_kind' must be 'input', 'hidden' or 'output', not {shown(kind)}")
        out.append(Layer(k, n, kind, str(nodes[n].get("activation", "")), _units(g, n, k, weights), w))
    return out


def _units(g: Graph, n: str, k: int, weights: Mapping[int, str]) -> int:
    known = []
    shape = g.nx.nodes[n]["shape"]
    if shape and shape[-1] is not None:
        known.append((shape[-1], f"the shape {shape} of {n!r}"))
    for w, axis in ((weights.get(k + 1), 0), (weights.get(k), 1)):
        wshape = g.nx.nodes[w]["shape"] if w else None
        if w and (wshape is None or len(wshape) != 2):
            raise ExportError(f"weight matrix {w!r} must be 2-D (n_(l-1), n_l), has shape {wshape}")
        if w and wshape[axis] is not None:
            known.append((wshape[axis], f"the shape {wshape} of {w!r}"))
    if not known:
        raise ExportError(f"layer {k} (node {n!r}): its number of units is unknown (no shapes)")
    if len({c for c, _ in known}) > 1:
        raise ExportError(f"layer {k} (node {n!r}): unit counts disagree: " + ", ".join(f"{c} from {why}" for c, why in known))
    if known[0][0] < 1:
        raise ExportError(f"layer {k} (node {n!r}) has no units")
    return int(known[0][0])


def network_dot(
    g: Graph,
    *,
    weights: str = "symbol",
    values: Mapping[str, Any] | None = None,
    precision: int = 2,
    max_units: int = 8,
    max_labels: int = 6,
    hidden: str = "z",
    captions: bool = True,
    title: str | None = None,
    dropped: Mapping[int, Any] | None = None,
) -> pydot.Dot:
    """A layered network in the lecture's neural-network convention, as a ``pydot.Dot``.

    Parameters
    ----------
    g : Graph
        A graph carrying layer metadata (every ``cg.nn.MLP`` graph does).
    weights : {"symbol", "value", "none"}
        Edge labels: ``w_{j,i}^{(l)}``, the weight's value (from ``values`` or the
        param's own value; edges coloured by sign, width by magnitude), or none.
    values : mapping, optional
        Parameter values by name (e.g. ``net.params``), overriding the params' values.
    precision : int
        Decimals of the weight values.
    max_units : int
        Wider layers show their first units, a ⋮ and their last unit, with the number
        left out in the caption.
    max_labels : int
        Between two layers joined by more edges than this (a "dense" pair of layers;
        a single unit's fan of edges never is: its edges do not cross), only the two
        outermost edges are labelled: first unit to first unit and last to
        last (``w₁,₁⁽¹⁾`` ... ``w₄,₃⁽¹⁾``, as lecture slides write α₁,₁ ... α_D,M), each
        at a spot where no other edge passes, so it cannot be read as another edge's
        label; the sign colours and widths of ``weights="value"`` still show every
        weight. Labelling all of a dense pair's edges does not read: 12 or 16 edges
        converge on 4 circles, every label sits among crossing edges and most of them
        could belong to either of two edges (tried: labels near the head, near the tail,
        at the freest spot on the edge). Pass a larger ``max_labels`` to label every
        edge anyway (placed as for a small pair; the drawing says which is which only
        for small layers). The default labels every edge between layers of 2 and 3 units, or 1 and any.
        Past :data:`cgraph.export.labels.EXHAUSTIVE` labels x edges (a 15 x 15 pair, all
        labelled), labels avoid each other and the units but not the edges crossing them:
        that search grows with the fourth power of the width (about an hour at 100 x 100).
    hidden : str
        The letter of the hidden units (``"z"`` gives z₁⁽¹⁾; ``"a"``, ``"h"`` ...).
    captions : bool
        Write the layer names (and activations) above the columns.
    title : str, optional
        A caption above the drawing.
    dropped : mapping, optional
        Units removed by dropout, as in Srivastava et al.'s figure "(b) After applying
        dropout": ``{layer l: unit numbers}``, numbered from 1 as the circles are
        (``{1: [2], 2: [1, 3]}`` drops z₂⁽¹⁾, z₁⁽²⁾ and z₃⁽²⁾; layer 0 holds the
        inputs; the output layer cannot be dropped). A dropped unit is a crossed-out
        dashed circle and the edges into and out of it are not drawn; units dropped
        among those left out (behind the ⋮ of ``max_units``) are counted in the caption,
        ``(+92, 3 dropped)``. From a mask of
        :func:`cgraph.nn.dropout_mask`: ``{l: np.flatnonzero(mask == 0) + 1}``.

    Raises
    ------
    ExportError
        The graph has no (or inconsistent) layer metadata, or a weight value is missing.
    """
    if weights not in WEIGHTS:
        raise ExportError(f"weights must be one of {', '.join(WEIGHTS)}, not {weights!r}")
    D.check_options(precision, values=values)
    captions = flag(captions, "captions", ExportError)
    if not is_int(max_units) or max_units < 3:
        raise ExportError(f"max_units must be at least 3, not {max_units!r}")
    if not is_int(max_labels) or max_labels < 0:
        raise ExportError(f"max_labels must be an int >= 0, not {max_labels!r}")
    g.validate()
    stack = layers(g)
    gone = _dropped(stack, dropped)
    mats = {ly.index: _matrix(g, ly, values, stack[ly.index - 1].units) for ly in stack[1:]} if weights == "value" else {}
    shown = [_shown(ly.units, max_units) for ly in stack]
    gap_x = 2.0 + 0.2 * max(len(s) for s in shown) if weights != "none" else 1.6
    gap_y = 0.95
    d = D.dot_graph(layout="neato", splines="line", outputorder="edgesfirst", fontname=D.FONT, labelloc="t",
                    fontsize=16, label=D.html_label(f"<B>{D.html_text(title, 200)}</B>") if title else None)
    D.defaults(d, "node", {"shape": "circle", "fixedsize": True, "width": UNIT, "fontname": D.FONT,
                           "fontsize": FONT_UNIT, "penwidth": 1.2})
    D.defaults(d, "edge", {"arrowsize": 0.6, "color": EDGE, "fontname": D.FONT, "fontsize": FONT_WEIGHT})
    top = max(len(s) for s in shown) / 2 * gap_y
    where: dict[tuple[int, int], tuple[float, float]] = {}
    circles: dict[str, pydot.Node] = {}
    extras = []
    for ly, units in zip(stack, shown):
        x = ly.index * gap_x
        for slot, j in enumerate(units):
            y = ((len(units) - 1) / 2 - slot) * gap_y
            name = f"u{ly.index}_{slot}"
            if j is None:
                extras.append(D.node(name, label=D.html_label("⋮"), shape="plaintext", fontsize=22, pos=_pos(x, y)))
                continue
            where[(ly.index, j)] = (x, y)
            label = D.html_label(_unit(ly, j, len(stack) - 1, hidden))
            if (ly.index, j) in gone:
                # the name stays in the label (for its size and for readers of the DOT) but is not
                # painted: under the cross it would read as a smudge; the position says which unit it is
                circles[name] = D.node(name, label=label, pos=_pos(x, y), style="dashed", color=DROPPED,
                                       fontcolor="transparent")
                # its own size (not the circles' fixed width): dot warned "size too small for label"
                extras.append(D.node(f"x{ly.index}_{slot}", label=D.html_label("✕"), shape="plaintext",
                                     fixedsize=False, fontsize=34, fontcolor=CROSS, pos=_pos(x, y)))
                continue
            circles[name] = D.node(name, label=label, pos=_pos(x, y))
        if captions:
            drawn = {u for u in units if u is not None}
            text = _caption(ly, len(drawn), sum(1 for k, j in gone if k == ly.index and j not in drawn),
                            fit=int((gap_x * 72 - 8) / CAPTION_EM))
            extras.append(D.node(f"c{ly.index}", label=D.html_label(text), shape="plaintext", fixedsize=False,
                                 fontsize=12, fontcolor="#444444", pos=_pos(x, top + 0.45)))
    edges = _edges(stack, shown, where, weights, mats, precision, max_labels, gone)
    # Graphviz paints edges grouped by tail in node order: declaring tails in drawing order keeps labels on top
    for name in list(dict.fromkeys(e.get_source() for e in edges)) + list(circles):
        if name in circles:
            d.add_node(circles.pop(name))
    for item in extras:
        d.add_node(item)
    for e in edges:
        d.add_edge(e)
    return d


def _edges(stack: list[Layer], shown: list[list], where: Mapping, weights: str,
           mats: Mapping[int, np.ndarray], precision: int, max_labels: int,
           gone: frozenset = frozenset()) -> list[pydot.Edge]:
    """The edges with their labels placed, in the order they should be painted (none
    into or out of a dropped unit)."""
    pairs, quiet = [], set()  # (layer k, source unit i, target unit j)
    for ly in stack[1:]:
        src = [i for i in shown[ly.index - 1] if i is not None and (ly.index - 1, i) not in gone]
        dst = [j for j in shown[ly.index] if j is not None and (ly.index, j) not in gone]
        dense = len(src) * len(dst) > max_labels and min(len(src), len(dst)) > 1  # a fan never crosses itself
        for j in dst:
            pairs += [(ly.index, i, j) for i in src]
            if dense:  # only the outermost two edges: nothing lies beyond them, so no label is ambiguous
                quiet.update((ly.index, i, j) for i in src if (i, j) not in ((src[0], dst[0]), (src[-1], dst[-1])))
    texts = [("", "") if p in quiet else _weight_text(*p, weights, mats, precision) for p in pairs]
    segments = [(where[(k - 1, i)], where[(k, j)]) for k, i, j in pairs]
    sizes = [(_width(t), FONT_WEIGHT * 1.7) if t[1] else (0.0, 0.0) for t in texts]
    margin = UNIT / 2 * 72 + 9
    spots = place_on_segments(segments, sizes, margin=margin) if weights != "none" else [0.0] * len(pairs)
    # the widest finite weight sets the scale: one inf or nan (a diverged training run) made every
    # penwidth nan, and Graphviz then drew no edge at all
    biggest = max((float(np.max(np.abs(m[np.isfinite(m)]), initial=0.0)) for m in mats.values()), default=1.0) or 1.0
    slot = {(ly.index, j): n for ly, units in zip(stack, shown) for n, j in enumerate(units)}
    tails = [slot[(k - 1, i)] + 10_000 * k for k, i, _ in pairs]
    out = []
    for n in drawing_order(segments, sizes, spots, margin=margin, groups=tails):
        (k, i, j), (label_html, _), spot = pairs[n], texts[n], spots[n]
        attrs: dict[str, Any] = {}
        if label_html:
            # labeldistance counts from the arrow tip on the circle, 9 points before our margin
            attrs.update(headlabel=D.html_label(_boxed(label_html)), labelangle=0, labeldistance=round((spot + 9) / 10, 2))
        if weights == "value":
            w = float(mats[k][i, j])
            ink = EDGE if w != w else POSITIVE if w >= 0 else NEGATIVE  # nan has no sign: grey
            attrs.update(color=ink, penwidth=round(0.6 + 2.2 * min(abs(w), biggest) / biggest, 2) if w == w else 0.6,
                         fontcolor=ink)
        out.append(D.edge(f"u{k - 1}_{slot[(k - 1, i)]}", f"u{k}_{slot[(k, j)]}", **attrs))
    return out


def _dropped(stack: list[Layer], dropped: Mapping[int, Any] | None) -> frozenset:
    """``dropped`` checked, as ``{(layer, unit index from 0)}``."""
    if dropped is None:
        return frozenset()
    if not isinstance(dropped, Mapping):
        raise ExportError(f"dropped must map a layer to the unit numbers dropped from it ({{1: [2, 3]}}), not {dropped!r}")
    out = set()
    for k, units in dropped.items():
        if not is_int(k) or not 0 <= k < len(stack) - 1:
            raise ExportError(f"dropped: layer {k!r} cannot be dropped from; the layers are 0 (the inputs) "
                              f"to {len(stack) - 2} (the output layer {len(stack) - 1} keeps its units)")
        try:
            numbers = list(units)
        except TypeError:
            raise ExportError(f"dropped[{k}] must be unit numbers such as [1, 3], not {units!r}") from None
        n = stack[int(k)].units
        for j in numbers:
            if not is_int(j) or not 1 <= j <= n:
                raise ExportError(f"dropped[{k}]: {j!r} is not a unit of layer {k}, whose units are numbered 1 to {n}")
            out.add((int(k), int(j) - 1))
    return frozenset(out)


def _weight_text(k: int, i: int, j: int, weights: str, mats: Mapping, precision: int) -> tuple[str, str]:
    """The label of the edge from unit i of layer k-1 to unit j of layer k (HTML, plain)."""
    if weights == "symbol":
        return (D.math(f"<I>w</I>{D.sub(f'{j + 1},{i + 1}', FONT_WEIGHT)}{D.sup(f'({k})', FONT_WEIGHT)}"),
                f"w{j + 1},{i + 1}({k})")
    if weights == "value":
        text = _number(float(mats[k][i, j]), precision)
        return D.html_text(text), text
    return "", ""


def _boxed(fragment: str) -> str:
    # a white backing so the label stays readable where it sits on its own (or another) edge
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLPADDING="1" CELLSPACING="0" BGCOLOR="white"><TR><TD>{fragment}</TD></TR></TABLE>'


def _width(text: tuple[str, str]) -> float:
    return 0.62 * FONT_WEIGHT * max(1, len(text[1])) * (0.8 if "(" in text[1] else 1.0) + 4


def _number(w: float, precision: int) -> str:
    text = f"{w:.{precision}f}"
    return text.replace("-", "−") if not text.strip("-0.") == "" else text.lstrip("-")


def _matrix(g: Graph, ly: Layer, values: Mapping[str, Any] | None, fan_in: int) -> np.ndarray:
    name = ly.weights
    value = (values or {}).get(name)
    if value is None:
        value = g.nx.nodes[name]["attrs"].get("value")
    if value is None:
        raise ExportError(f"weights='value' needs the value of {name!r}: pass values={{'{name}': ...}} (e.g. net.params)")
    try:
        mat = np.asarray(value, dtype=float)
    except (TypeError, ValueError, OverflowError):  # (an int past the floats: 10**400)
        raise ExportError(f"weight matrix {name!r} must hold numbers, not {shown(value)}") from None
    if mat.shape != (fan_in, ly.units):  # a matrix of another network's shape would be read out of bounds
        raise ExportError(f"weight matrix {name!r} must have shape {(fan_in, ly.units)} (units of layer "
                          f"{ly.index - 1} by units of layer {ly.index}), has shape {mat.shape}")
    return mat


def _shown(units: int, max_units: int) -> list[int | None]:
    """Unit indices to draw: all of them, or the first ones, None for ⋮, and the last."""
    if units <= max_units:
        return list(range(units))
    return list(range(max_units - 2)) + [None, units - 1]


def _unit(ly: Layer, j: int, depth: int, hidden: str) -> str:
    sub = str(j + 1) if ly.index < depth or ly.units > 1 else ""
    sup = f"({ly.index})" if 0 < ly.index < depth else ""
    base = "x" if ly.index == 0 else "ŷ" if ly.index == depth else D.clean(hidden, 3)
    # z_256^(1) is wider than its circle at the usual size: set it smaller, to fit inside
    # (indices as cairo sets them, 0.83 of the letter's size; digits 0.64 em, '(' ')' 0.4 em)
    em = 0.6 * len(base) + 0.83 * sum(0.4 if ch in "()" else 0.64 for ch in sub + sup)
    size = min(FONT_UNIT, round(0.8 * UNIT * 72 / em, 1))
    body = f"<I>{D.html_text(base)}</I>" + (D.sub(sub, size) if sub else "") + (D.sup(sup, size) if sup else "")
    return D.math(body if size == FONT_UNIT else f'<FONT POINT-SIZE="{size:g}">{body}</FONT>')


def _caption(ly: Layer, drawn: int, dropped: int = 0, fit: int = 10**6) -> str:
    """A layer's caption, ``hidden 1 (σ)``: on two lines, ``hidden 1`` above ``(gelu)``, where
    it is wider than ``fit`` characters (the room between two columns), so that it does not
    run into the next layer's caption, and an activation's name too long even for a line
    of its own cut to it."""
    act = ly.activation
    symbol = OPS[act].label if act in OPS and act not in ("identity",) else ("linear" if act == "identity" else act)
    text = {"input": "input", "output": "output"}.get(ly.kind, f"hidden {ly.index}")
    # units dropped behind the ⋮ have no crossed circle to show it: the count says so
    more = f"<BR/>(+{ly.units - drawn}{f', {dropped} dropped' if dropped else ''})" if ly.units > drawn else ""
    if not (symbol and ly.index):
        return D.html_text(text) + more
    if len(one := f"{text} ({symbol})") <= fit:
        return D.html_text(one) + more
    return D.html_text(text) + "<BR/>" + D.html_text(f"({D.clean(symbol, max(fit - 2, 1))})") + more


def _pos(x: float, y: float) -> str:
    return f'"{x:.3f},{y:.3f}!"'
