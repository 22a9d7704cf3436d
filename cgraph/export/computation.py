"""The computation-graph convention of the lecture.

One rectangle per variable of the algorithm; inside the box the function it computes
(the op's ``label`` from the registry; an input or parameter shows its own symbol, a
named constant its value), outside the box (above its left corner, or left of its
lower corner when the flow runs down) the variable's name; directed edges without labels.
Of a binary non-commutative op (``a/b``, ``a - b``, ``a @ b``) the first operand enters
its box the usual way (from the left), the second from below (from the right when the
flow runs down), and of a non-commutative op of three (``matmul_grad(g, a, b)``) the
third at the corner away from the name (upper right; upper left when the flow runs down).

The name is part of the node, not a Graphviz ``xlabel``: a named box is an HTML-like
table, the box a cell with a border and ``PORT="b"``, the name a cell beside it (see
:func:`_named`), and every edge of it attaches to the box through that port
(``headport="b:w"``). Graphviz places xlabels after the layout, where nothing reserved
room for them, and set some on an edge or on another name; a cell of the node is laid
out with it, so edges go around the name and no two names meet.

An adjoint graph is drawn in two parts: the forward graph quiet and grey, the adjoint
nodes in colour below it, flowing backwards, each ``g_<name>`` in the same column as
``<name>``; where an adjoint rule reads a forward value, the value's name is written
beside the box that reads it rather than drawn as a long edge.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import pydot

from ..checks import flag
from ..errors import ExportError
from ..graph import Graph, handle_name
from ..node import Node
from ..ops.registry import OPS
from ..ops.shapes import is_int
from ..passes.adjoint import adjoint_name
from ..printing.names import ADJOINT_NAME, Symbols
from ..printing.render import is_generated
from . import dot as D
from .recipe import Part

__all__ = ["computation_dot"]

INK = "#1a1a1a"
QUIET = "#9a9a9a"
QUIET_INK = "#5f5f5f"
ADJOINT = "#b03a2e"
REF = "#8a8a8a"
HIGHLIGHT_FILL = "#fdebd0"
HIGHLIGHT = "#d35400"
VALUE = "#1f618d"
RANKDIRS = ("LR", "RL", "TB", "BT")
# the side of a box the flow leaves by and the side it enters by, for each direction: with
# the sides of LR in every direction, RL and BT edges left and entered each box on the side
# facing away from its neighbours and looped around every box
FLOW_SIDES = {"LR": ("e", "w"), "RL": ("w", "e"), "TB": ("s", "n"), "BT": ("n", "s")}
SPACER = '<BR/><FONT POINT-SIZE="4"> </FONT><BR/>'  # a thin empty line: room for a subscript above it
# more operand edges than this into one box and they no longer share one port: Graphviz
# tangles four or more curves converging on a single point
MAX_SHARED_PORT = 3
CONSTANTS = ("inline", "boxes", "hide")
NAME_LIMIT = 24  # characters of a name shown in a drawing (longer ones keep their start and end)


def computation_dot(
    g: Graph,
    *,
    values: Mapping[str, Any] | None = None,
    adjoints: Mapping[str, Any] | None = None,
    rankdir: str = "LR",
    precision: int = 4,
    constants: str = "inline",
    show_generated: bool = False,
    max_chain: int | None = 24,
    notes: Mapping[str, str] | None = None,
    pending: Collection[str] = (),
    highlight: Collection[str] = (),
    highlight_edges: Collection[tuple[str, str]] = (),
    title: str | None = None,
) -> pydot.Dot:
    """``g`` in the lecture's computation-graph convention, as a ``pydot.Dot``.

    Parameters
    ----------
    g : Graph
    values : mapping, optional
        Node values (``cg.evaluate(g, ...)``); each box shows its value under its
        function. Evaluate an adjoint graph to see the adjoint values in its ``g_`` boxes.
    adjoints : mapping, optional
        Adjoint values of forward nodes (``{"a": 404.9}``), written ``g_a = 404.9`` in
        the box of ``a`` (a value of ``None`` writes just ``g_a``): the gradients on the
        forward graph.
    rankdir : {"LR", "RL", "TB", "BT"}
        Direction of the data flow.
    precision : int
        Significant digits of the values shown.
    constants : {"inline", "boxes", "hide"}
        Unnamed constants (``2`` in ``2*x``) written small beside each box that uses
        them (``"inline"``), drawn as one box each (``"boxes"``), or left out.
    show_generated : bool
        Also write generated names (``t12``) outside their boxes. A name of that form
        (``t`` and digits) reads as generated even where it was chosen (``t1 = x*z``):
        such a box is drawn unnamed unless the drawing refers to it (``g_t1``).
    max_chain : int or None
        A chain of more than this many unnamed boxes (each with one operand box and one
        user, as in ``sin(sin(...(x)))``) is drawn as its first and last ``max_chain // 3``
        boxes around one dashed box ``⋯ n more``: a drawing thousands of boxes long is
        unreadable and Graphviz shrinks a PNG over 32,767 pixels. ``None`` draws every
        box. Not applied to a two-part (adjoint) drawing.
    notes : mapping, optional
        An extra line of text inside the box of each named node.
    pending : collection, optional
        Names among ``adjoints`` whose line is reserved but not shown yet, so that
        successive frames keep the same layout.
    highlight, highlight_edges : optional
        Node names (or nodes), and ``(operand, user)`` pairs of them, drawn emphasised.
    title : str, optional
        A caption above the drawing.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph()
    >>> x, z = g.input("x"), g.input("z")
    >>> _ = g.output(cg.sin(x * z), name="y")
    >>> d = cg.to_dot(g)
    >>> d.get_node_defaults()[0]["shape"], len(d.get_nodes()) - 2
    ('box', 4)
    >>> [e.get("style") for e in d.get_edges()]  # x -> z, invisible, keeps x above z
    ['invis', None, None, None]
    """
    if rankdir not in RANKDIRS:
        raise ExportError(f"rankdir must be one of {', '.join(RANKDIRS)}, not {rankdir!r}")
    if constants not in CONSTANTS:
        raise ExportError(f"constants must be one of {', '.join(CONSTANTS)}, not {constants!r}")
    D.check_options(precision, values=values, adjoints=adjoints, notes=notes)
    _check_adjoint_keys(g, adjoints or {})
    show_generated = flag(show_generated, "show_generated", ExportError)
    if max_chain is not None and (not is_int(max_chain) or max_chain < 1):
        raise ExportError(f"max_chain must be None or an int >= 1, not {max_chain!r}")
    g.validate()
    highlight = () if highlight is None else highlight
    highlight_edges = () if highlight_edges is None else highlight_edges
    try:
        hot = {highlight} if isinstance(highlight, (str, Node)) else set(highlight)  # "g_a" is one name, not 3 letters
        highlight_edges = list(highlight_edges)
    except TypeError:  # a number, or unhashable names
        raise ExportError(
            f"highlight= takes a node name or a list of names and highlight_edges= a list of (operand, user) "
            f"pairs, not {highlight!r} and {highlight_edges!r}"
        ) from None
    try:
        pending = {pending} if isinstance(pending, str) else set(pending)  # "g_a" is one name
    except TypeError:
        raise ExportError(f"pending= takes a node name or a list of names, not {pending!r}") from None
    hot = {handle_name(n, g, "highlight") if isinstance(n, Node) else n for n in hot}  # a handle names its node
    highlight_edges = [tuple(handle_name(v, g, "highlight_edges") if isinstance(v, Node) else v for v in e)
                       if isinstance(e, (tuple, list)) else e for e in highlight_edges]
    for n in hot:  # a typo would otherwise highlight nothing, silently
        if n not in g.nx:
            raise ExportError(f"highlight: {n!r} is not a node of graph {g.name!r}")
    for e in highlight_edges:
        if not (isinstance(e, (tuple, list)) and len(e) == 2 and g.nx.has_node(e[0]) and g.nx.has_edge(*e)):
            raise ExportError(f"highlight_edges: {e!r} is not an edge (operand, user) of graph {g.name!r}")
    return _Drawing(g, values=values or {}, adjoints=adjoints or {}, rankdir=rankdir, precision=precision,
                    constants=constants, show_generated=show_generated, max_chain=max_chain, notes=notes or {},
                    pending=pending, hot=hot, hot_edges={tuple(e) for e in highlight_edges}, title=title).build()


def _check_adjoint_keys(g: Graph, adjoints: Mapping) -> None:
    """ExportError for ``adjoints={"g_a": ...}``: keyed by the adjoint graph's name of
    ``a``'s adjoint, it drew nothing, and ``adjoints=cg.evaluate(adjoint_graph)`` drew each
    forward node's own value as its adjoint (the adjoint graph holds both), silently. Other
    names not in ``g`` stay allowed: one mapping may serve several graphs."""
    for key in adjoints:
        m = ADJOINT_NAME.fullmatch(key) if isinstance(key, str) and key not in g.nx else None
        if m and m.group(2) in g.nx:
            raise ExportError(
                f"adjoints: {key!r} is the adjoint graph's name for the adjoint of {m.group(2)!r}; adjoints= is "
                f"keyed by the forward node ({{{m.group(2)!r}: value}}), as cg.grad's result is; or draw the "
                "adjoint graph itself with values=cg.evaluate(adjoint_graph, ...)")


class _Drawing:
    """One computation-graph drawing being assembled."""

    def __init__(self, g: Graph, *, values: Mapping, adjoints: Mapping, rankdir: str, precision: int,
                 constants: str, show_generated: bool, max_chain: int | None, notes: Mapping, pending: set, hot: set,
                 hot_edges: set, title: str | None) -> None:
        self.pending = pending
        self.g, self.values, self.adjoints, self.precision = g, values, adjoints, precision
        self.show_generated, self.notes, self.hot, self.hot_edges = show_generated, notes, hot, hot_edges
        self.across = rankdir in ("LR", "RL")
        self.out_side, self.in_side = FLOW_SIDES[rankdir]
        self.side = "s" if self.across else "e"  # where the second operand of a/b enters
        # and the third of a non-commutative op of three (matmul_grad(g, a, b)): the corner of the
        # box away from its name (above its left corner, or left of its lower corner)
        self.third = "ne" if self.across else "nw"
        self.constants = constants
        # one pass over the nodes: DOT ids n0, n1... for the boxes (D.node_ids), the
        # adjoint nodes, the sources; loose constants are written beside their users
        self.ids: dict[str, str] = {}
        self.adjoint: set[str] = set()
        self.sources: list[str] = []
        nodes, loose = g.nx._node, constants != "boxes"
        for n in D.drawing_order(g):
            data = nodes[n]
            role = data["role"]
            if loose and role == "const" and is_generated(n):
                continue
            self.ids[n] = f"n{len(self.ids)}"
            if data.get("adjoint"):
                self.adjoint.add(n)
            if role in ("input", "param"):
                self.sources.append(n)
        if self.adjoint:
            self.adjoint = _adjoint_part(g, self.ids, self.adjoint)
        self.two_part = bool(self.adjoint)
        # hidden box -> the id of the "⋯ n more" box standing for it; (operand before it, box id, n)
        self.hidden: dict[str, str] = {}
        self.gaps: list[tuple[str, str, int]] = []
        if max_chain is not None and not self.two_part:
            self._elide(max_chain)
        self.op_labels: dict[str, str] = {}
        self.annotated = bool(values or adjoints or notes)
        self.uniform = not self.annotated and not show_generated  # see _box
        self.uniform_boxes: dict[tuple[str, bool], dict[str, str]] = {}
        self.styles: dict[tuple, dict[str, str]] = {}
        self.ref_boxes: dict[str, dict[str, str]] = {}  # label -> a reference's attributes
        self.ref_style = D.sorted_attrs({"shape": "plaintext", "fontsize": 12, "fontcolor": REF, "height": 0.2,
                                         "width": 0.2, "margin": 0.02})
        self.tabled: set[str] = set()  # the boxes drawn with their name (see the module's docstring)
        self.order_style = D.sorted_attrs({"style": "invis", "tailport": "_", "headport": "_"})
        self.mirror = self.two_part and _mirror_ok(g, self.ids, self.adjoint)
        self.refs = 0
        # forward values read by adjoint rules are written by name: those names must be visible,
        self.referenced = set()
        if self.two_part:  # and the forward node of every g_n, so that g_t4 has its t4
            operands = g._operand_table()
            self.referenced = {u for v in self.adjoint for u in operands[v] if not self._adj(u)}
            self.referenced |= {g.nx._node[v].get("adjoint_of") for v in self.adjoint}
        self.spelled = self._clashing_names()
        label = D.html_label(f"<B>{D.html_text(title, 200)}</B>") if title else None
        self.d = D.dot_graph(
            rankdir=rankdir, nodesep=0.4, ranksep=0.42, fontname=D.FONT,
            labelloc="t", fontsize=16, label=label, newrank=True if self.mirror else None,
        )
        D.defaults(self.d, "node", {"shape": "box", "fontname": D.FONT, "fontsize": 14, "margin": "0.1,0.04",
                                    "height": 0.4, "width": 0.45, "color": INK, "fontcolor": INK})
        # edges weigh twice a constant's or name's arrow (weight=1 in _edge_style), so a chain
        # x*2, sin, *2, ... runs straight instead of sinking half a row at each constant
        D.defaults(self.d, "edge", {"arrowsize": 0.7, "color": INK, "tailport": self.out_side,
                                    "headport": self.in_side, "weight": 2})

    def _elide(self, max_chain: int) -> None:
        """Hide the middle of every chain of more than ``max_chain`` unnamed boxes."""
        nodes, operands, succ, ids = self.g.nx._node, self.g._operand_table(), self.g.nx._succ, self.ids
        outputs = set(self.g.outputs)
        link: dict[str, str] = {}  # member -> its operand box
        for n in ids:
            data = nodes[n]
            if data["role"] != "op" or not is_generated(n) or n in self.hot or n in outputs:
                continue
            boxes = [u for u in operands[n] if u in ids]
            if len(boxes) == 1 and len(succ[n]) == 1 and sum(len(k) for k in succ[n].values()) == 1:
                link[n] = boxes[0]
        runs: dict[str, list[str]] = {}  # last member -> its run so far
        for n, u in link.items():  # in drawing order, so a run grows from its first member
            run = runs.pop(u, None) if u in link else None
            (run if run is not None else (run := [])).append(n)
            runs[n] = run
        keep = max(1, max_chain // 3)
        for run in runs.values():
            if len(run) <= max_chain or len(run) <= 2 * keep:
                continue
            gap = f"e{len(self.gaps)}"
            middle = run[keep:-keep]
            self.gaps.append((run[keep - 1], gap, len(middle)))
            for n in middle:
                self.hidden[n] = gap
                del ids[n]

    def _adj(self, n: str) -> bool:
        return n in self.adjoint if n in self.ids else bool(self.g.nx._node[n].get("adjoint"))

    def _loose_const(self, n: str) -> bool:
        return self.g.nx._node[n]["role"] == "const" and is_generated(n)

    def build(self) -> pydot.Dot:
        ids, nodes, operands = self.ids, self.g.nx._node, self.g._operand_table()
        top = self.top = Part()  # recorded, made into pydot objects when someone looks (recipe.py)
        # two bands in a mirrored drawing; dot stacks the first one lowest, so the adjoint comes first
        # a cluster shows the graph's label unless it has its own: a title (title=, or the one a
        # backprop frame sets afterwards) was drawn three times
        band = {"label": '""', "peripheries": 0}
        below, above = (top.cluster("adjoint", band), top.cluster("forward", band)) if self.mirror else (top, top)
        plain = not self.two_part and not self.hot_edges  # no edge needs attributes of its own
        side_ports = {2: (None, self.side), 3: (None, self.side, self.third)}
        # a repeated operand (x*x) enters again from below, then from above: parallel edges
        # through the same ports are drawn on top of each other when they span several ranks
        again = ("s", "n", "_") if self.across else ("e", "w", "_")
        from_side: dict[str, bool] = {}  # op -> _from_side(op)
        self.home: dict[str, Part] = {}  # the cluster of each box in a mirrored drawing
        edges: list[tuple] = []  # (tail id, head id) of a plain edge, else (operand, user, port) for _edge
        for v, vid in ids.items():
            data = nodes[v]
            box = below if v in self.adjoint else above
            box.node(vid, self._box(v, data))
            if box is not top:
                self.home[v] = box
            uses = operands[v]
            if not uses:
                continue
            op = data["op"]
            side = from_side.get(op)
            if side is None:
                side = from_side[op] = _from_side(op)
            ports = side_ports.get(len(uses)) if side else None
            many = len(uses) > MAX_SHARED_PORT
            seen: dict[str, int] = {}
            for pos, u in enumerate(uses):
                port = ports[pos] if ports else None
                if port is None:
                    if many:
                        port = "_"  # any side: Graphviz spreads them around the box
                    elif u in seen:
                        port = again[min(seen[u], len(again) - 1)]
                    seen[u] = seen.get(u, -1) + 1
                if plain and port is None and u in ids and u not in self.tabled and v not in self.tabled:
                    edges.append((ids[u], vid))
                else:
                    edges.append((u, v, port))
        for before, gap, count in self.gaps:
            top.node(gap, D.sorted_attrs({"shape": "box", "style": "dashed", "color": QUIET, "fontcolor": QUIET_INK,
                                          "label": D.html_label(D.html_text(f"⋯ {count} more"))}))
            edges.append((ids[before], gap))
        self._ranks()
        start = 0  # plain edges go in runs: what _edge does for them, without its checks
        for i, edge in enumerate(edges):
            if len(edge) == 3:
                top.edges(edges[start:i])
                self._edge(*edge)
                start = i + 1
        top.edges(edges[start:])
        self.d.record(top)
        return self.d

    def _box(self, n: str, data: Mapping[str, Any]) -> dict[str, Any]:
        role, adj = data["role"], n in self.adjoint
        if role == "op" and not data["attrs"]:
            if self.uniform and is_generated(n) and n not in self.referenced and n not in self.hot:
                # most boxes of a big graph: the op's symbol, no name, no value, the same in every
                # box of that op (one style, shared by the recorded statements: recipe.Part.node)
                key = (data["op"], adj)
                attrs = self.uniform_boxes.get(key)
                if attrs is None:
                    attrs = self.uniform_boxes[key] = self._box_of(n, data, role, adj)
                return attrs
        return self._box_of(n, data, role, adj)

    def _box_of(self, n: str, data: Mapping[str, Any], role: str, adj: bool) -> dict[str, Any]:
        if role == "op" and not data["attrs"]:  # the op's symbol, the same in every box of it
            lines = [self.op_labels.get(data["op"]) or self._op_label(data["op"])]
        elif role in ("input", "param"):
            lines = [self._name(n)]
        elif role == "const":
            lines = [D.html_text(D.format_value(data["attrs"].get("value"), self.precision))]
        else:
            lines = [D.html_text(OPS[data["op"]].label or data["op"]) + _kw(data)]
        if self.annotated:
            self._annotate(n, role, adj, lines)
        body, hot = _stack(lines), n in self.hot
        if role not in ("input", "param") and (self.show_generated or not is_generated(n) or n in self.referenced):
            self.tabled.add(n)
            ink = ADJOINT if adj else (QUIET_INK if self.two_part else INK)
            label = _named(body, self._name(n), ink, hot, self.across)
            return D.with_labels(self._box_style(adj, hot, table=True), {"label": D.html_label(label)})
        style = self._box_style(adj, hot)
        labels = {"label": D.html_label(body)}
        return D.with_labels(style, labels) if style else labels

    def _clashing_names(self) -> set[str]:
        """The names this drawing writes that math would show alike (``x1`` and ``x_1`` both
        as x₁): :meth:`_name` writes those as they are spelled."""
        shown = Symbols(lambda n: D.math_name(n, limit=NAME_LIMIT))
        nodes = self.g.nx._node
        for n in self.ids:
            if nodes[n]["role"] in ("input", "param") or self.show_generated or not is_generated(n) or n in self.referenced:
                shown(n)
        for n in self.adjoints:
            if n in nodes:
                shown(adjoint_name(n, self.g.nx))
        return shown.clashes

    def _name(self, n: str, size: float = 14) -> str:
        """A node's name as math, cut to ``NAME_LIMIT`` characters: the same wherever the
        drawing writes it (inside an input's box, beside a box, beside a box that reads it);
        upright and as spelled where another name would look the same."""
        if n in self.spelled:
            return D.html_text(n, NAME_LIMIT)
        return D.math(D.math_name(n, size=size, limit=NAME_LIMIT))

    def _op_label(self, op: str) -> str:
        label = self.op_labels[op] = D.html_text(OPS[op].label or op)
        return label

    def _annotate(self, n: str, role: str, adj: bool, lines: list[str]) -> None:
        """The value, adjoint and note lines under a box's function."""
        if n in self.values and role != "const":
            colour = ADJOINT if adj else VALUE
            text = D.html_text(D.format_value(self.values[n], self.precision))
            lines.append(f'<FONT POINT-SIZE="10" COLOR="{colour}">{text}</FONT>')
        if n in self.adjoints:
            # named as cg.adjoint names it: g2_x where g_x is taken (a sweep over an adjoint graph)
            text = self._name(adjoint_name(n, self.g.nx), size=11)
            if self.adjoints[n] is not None:
                text += D.spaced("=") + D.html_text(D.format_value(self.adjoints[n], self.precision))
            colour = "transparent" if n in self.pending else ADJOINT
            lines.append(f'<FONT POINT-SIZE="11" COLOR="{colour}">{text}</FONT>')
        note = self.notes.get(n)
        if note is not None and not isinstance(note, str):  # a number or an array: as the values are written
            note = D.format_value(note, self.precision)
        if note:
            lines.append(f'<FONT POINT-SIZE="10">{D.html_text(note, 120)}</FONT>')

    def _box_style(self, adj: bool, hot: bool, table: bool = False) -> dict[str, str]:
        """A box's attributes besides its label, as DOT values (a few kinds per drawing).
        A named box (``table``) is a borderless node whose box cell takes its ``color``
        (the fill and the thicker border of a highlighted one are in :func:`_named`)."""
        key = ("box", adj, hot, table)
        if key not in self.styles:
            attrs: dict[str, Any] = {}
            if self.two_part:
                attrs.update(color=ADJOINT if adj else QUIET, fontcolor=ADJOINT if adj else QUIET_INK)
                if adj:
                    attrs["penwidth"] = 1.3
            if hot:
                attrs.update(style="filled", fillcolor=HIGHLIGHT_FILL, color=HIGHLIGHT, penwidth=2.2)
            if table:
                attrs = {k: v for k, v in attrs.items() if k in ("color", "fontcolor")} | {"shape": "plain"}
            self.styles[key] = D.sorted_attrs(attrs)
        return self.styles[key]

    def _edge_style(self, kind: str, adj: bool, hot: bool, back: bool, port: str | None,
                    ends: tuple[bool, bool] = (False, False)) -> dict[str, str]:
        """The attributes of an edge (``kind`` "edge") or of the edge from a name or value
        written beside a box (``kind`` "ref"), as DOT values (each edge gets a copy).
        ``port`` is the side of the user's box the edge meets (None: the usual side);
        ``ends`` says whether the edge's drawn tail and head are named boxes, whose
        edges attach to their box cell (port ``b``)."""
        key = (kind, adj, hot, back, port, ends)
        if key not in self.styles:
            attrs: dict[str, Any] = {}
            if kind == "ref":
                attrs.update(color="#c0c0c0", arrowsize=0.5, weight=1)
            elif self.two_part:
                attrs.update(color=ADJOINT if adj else QUIET, penwidth=1.2 if adj else None)
            if kind == "edge" and port == self.side:  # W of X @ W hangs off the flow: X, @, +, tanh run straight
                attrs["weight"] = 1
            if hot:
                attrs.update(color=HIGHLIGHT, penwidth=2.6)
            tail, head = (port, None) if back else (None, port)
            if ends[0]:
                tail = "b:" + (tail or self.out_side)
            if ends[1]:
                head = "b:" + (head or self.in_side)
            attrs.update({"dir": "back" if back else None, "tailport": tail, "headport": head})
            self.styles[key] = D.sorted_attrs(attrs)
        return self.styles[key]

    def _edge(self, u: str, v: str, port: str | None) -> None:
        if v not in self.ids or (self.constants == "hide" and self._loose_const(u)):
            return
        hot = (u, v) in self.hot_edges
        if u in self.hidden:  # the last box of an elided chain: the edge leaves its "⋯ n more" box
            ends = (False, v in self.tabled)
            self.top.edge(self.hidden[u], self.ids[v], self._edge_style("edge", False, hot, False, port, ends))
            return
        if u not in self.ids:  # an unnamed constant, written beside its user
            self._ref(D.html_text(D.format_value(self.g.nx._node[u]["attrs"].get("value"), self.precision)), v, port)
            return
        if self.mirror and self._adj(v) and not self._adj(u):
            self._ref(self._name(u), v, port)
            return
        back = self.mirror and self._adj(v)  # adjoints flow backwards: draw the edge reversed
        ends = (v in self.tabled, u in self.tabled) if back else (u in self.tabled, v in self.tabled)
        style = self._edge_style("edge", self._adj(v), hot, back, port, ends)
        if back:
            self.top.edge(self.ids[v], self.ids[u], style)
        else:
            self.top.edge(self.ids[u], self.ids[v], style)

    def _ref(self, label: str, v: str, port: str | None) -> None:
        rid = f"r{self.refs}"
        self.refs += 1
        attrs = self.ref_boxes.get(label)
        if attrs is None:
            attrs = self.ref_boxes[label] = D.with_labels(self.ref_style, {"label": D.html_label(label)})
        self.home.get(v, self.top).node(rid, attrs)
        back = self.mirror and self._adj(v)
        named = v in self.tabled
        style = self._edge_style("ref", False, False, back, port, (named, False) if back else (False, named))
        if back:
            self.top.edge(self.ids[v], rid, style)
        else:
            self.top.edge(rid, self.ids[v], style)

    def _ranks(self) -> None:
        """Inputs in the first rank, outputs in the last; ``g_n`` beside ``n`` in a two-part drawing."""
        # a function of inputs alone (the lecture's x, z) lines them up in the first column; where
        # there are parameters (a network), every source sits next to its first use instead
        sources = self.sources
        lined_up = not any(self.g.nx._node[n]["role"] == "param" for n in sources)
        groups = [("min", sources if lined_up else [])]
        if not self.mirror:
            groups.append(("max", [n for n in self.g.outputs if n in self.ids and self.g.nx.out_degree(n) == 0]))
        else:
            for n in self.ids:
                of = self.g.nx._node[n].get("adjoint_of")
                if of in self.ids and not self._adj(of):
                    groups.append(("same", [of, n]))
        for rank, members in groups:
            if members:
                self.top.rank({"rank": rank}, [self.ids[m] for m in members])
        # inputs in the order they were declared (x above z, as the lecture writes xz): left to
        # right within a rank is what an edge between two nodes of that rank fixes, so chain them
        # with invisible edges (dot's crossing minimisation otherwise picks either order). Within
        # the clusters of a two-part drawing (newrank) drawn LR, Graphviz 2.43 puts a flat edge's
        # head first: the chain runs backwards there (measured on six graphs; mincross may still
        # give way when other constraints pull hard, as in y = sin(u)*v + w*u)
        lined = [self.ids[n] for n in groups[0][1]]
        if self.mirror and self.across:
            lined.reverse()
        for a, b in zip(lined, lined[1:]):
            self.top.edge(a, b, self.order_style)


def _named(body: str, name: str, ink: str, hot: bool, across: bool) -> str:
    """The HTML table of a named box: the box (``body`` in a bordered cell, port ``b``) and
    its ``name`` (in colour ``ink``) above it, set from its left, when the flow runs
    across; left of its lower corner when the flow runs down.

    Each side an edge of the flow meets (``w``/``e`` or ``n``/``s``) and the side the
    second operand of ``a/b`` enters by (``s``, or ``e`` when the flow runs down) is a side
    of the node itself: Graphviz routes edges around a node but not around the cells of
    its own node, so an edge into a side with the name beyond it would cross the name
    (tried: the name at the lower left, where Graphviz puts an xlabel, was crossed by
    edges rising into ``w``). Only a repeated operand's third edge (``add(x, x, x)``)
    enters the side the name is beyond, and may cross it.

    Why above and why the second operand from below (rather than the name below and
    the operand from above, tried first): on the lecture's graph dot then crosses one
    pair of edges instead of three, with x above z (on 14 test graphs, 34 crossings
    against 37)."""
    # a highlighted box's thicker border takes its room from the padding: the frames of a
    # backprop sequence highlight one box each and must keep the same layout
    box = f'BORDER="2" CELLPADDING="3" BGCOLOR="{HIGHLIGHT_FILL}"' if hot else 'BORDER="1" CELLPADDING="4"'
    box = f'<TD PORT="b" {box} WIDTH="32" HEIGHT="29">{body}</TD>'
    shown = f'<FONT COLOR="{ink}">{name}</FONT>'
    rows = (f'<TR><TD ALIGN="LEFT" CELLPADDING="2">{shown}</TD></TR><TR>{box}</TR>' if across else
            f'<TR><TD ALIGN="RIGHT" VALIGN="BOTTOM" CELLPADDING="1">{shown}</TD>{box}</TR>')
    return f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="0">{rows}</TABLE>'


def _adjoint_part(g: Graph, shown: Mapping[str, str], marked: set[str]) -> set[str]:
    """The boxes drawn in the adjoint part: those marked ``adjoint``, every op computed
    from one of them, and every op with a generated name whose users all are in it.

    A pass such as ``simplify`` builds new nodes without the mark (``t29 = g_b/x``,
    ``t26 = -(a/b^2)`` feeding ``g_b``); drawn in the forward part they pulled the two
    parts into each other. ``shown`` is in drawing (topological) order."""
    part, nodes, pred, succ = set(marked), g.nx._node, g.nx._pred, g.nx._succ
    for n in shown:
        if n not in part and nodes[n]["role"] == "op" and any(u in part for u in pred[n]):
            part.add(n)
    for n in reversed(list(shown)):
        if n not in part and nodes[n]["role"] == "op" and is_generated(n):
            users = [v for v in succ[n] if v in shown]
            if users and all(v in part for v in users):
                part.add(n)
    return part


def _mirror_ok(g: Graph, shown: Mapping[str, str], adjoint: Collection[str] | None = None) -> bool:
    """True when drawing the adjoint part (``adjoint``, by default the nodes marked so)
    backwards gives consistent rank constraints."""
    nodes = g.nx._node
    if adjoint is None:
        adjoint = {n for n in shown if nodes[n].get("adjoint")}
    rep = {}  # a node, or the forward node its g_ box is drawn beside
    for n in shown:
        of = nodes[n].get("adjoint_of")
        rep[n] = of if of in shown and of not in adjoint else n
    after: dict[str, set[str]] = {}  # the constraint graph, as plain dicts (a drawing has 10^5 boxes)
    for v, preds in g.nx._pred.items():
        if v not in shown:
            continue
        av = v in adjoint
        for u in preds:
            if u not in shown:
                continue
            au = u in adjoint
            if av and not au:
                continue  # read by name, no edge
            a, b = (rep[v], rep[u]) if av else (rep[u], rep[v])
            if a == b:
                return False
            after.setdefault(a, set()).add(b)
    # acyclic iff Kahn's algorithm removes every node
    waiting: dict[str, int] = {}
    for targets in after.values():
        for b in targets:
            waiting[b] = waiting.get(b, 0) + 1
    ready = [a for a in after if a not in waiting]
    done = 0
    while ready:
        a = ready.pop()
        done += 1
        for b in after.get(a, ()):
            waiting[b] -= 1
            if not waiting[b]:
                ready.append(b)
    return done == len(after.keys() | waiting.keys())


def _stack(lines: list[str]) -> str:
    """The lines of a box, one under the other. Graphviz does not make room for a
    subscript: the line under ``x₁`` or ``w₁,₂⁽¹⁾`` would touch it, so a thin spacer follows."""
    return "".join(line + ("" if k == len(lines) - 1 else SPACER if "<SUB>" in line else "<BR/>")
                   for k, line in enumerate(lines))


def _from_side(op: str) -> bool:
    """Operand order of a binary non-commutative op: the first operand enters the box the
    usual way, the second from the side (from below when the flow is horizontal)."""
    return op in OPS and not OPS[op].commutative


def _kw(data: Mapping) -> str:
    opdef = OPS[data["op"]]
    extra = {k: v for k, v in data["attrs"].items() if k in opdef.attrs and v != opdef.attrs[k]}
    if not extra:
        return ""
    text = ", ".join(f"{k}={_kw_value(v)}" for k, v in sorted(extra.items()))
    return f'<BR/><FONT POINT-SIZE="9">{D.html_text(text)}</FONT>'


def _kw_value(v: Any) -> str:
    # a number's minus is a real minus sign (axis=−1, shape=(−1, 1)), as in the values; True stays True
    if isinstance(v, tuple):
        return "(" + ", ".join(map(_kw_value, v)) + ("," if len(v) == 1 else "") + ")"
    return D.format_value(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)

