"""A drawing recorded as DOT statements, turned into pydot objects only when someone looks.

A big drawing is mostly written out (``to_dot(g).to_string()``, ``render``), rarely
inspected. So the computation-graph exporter records its statements in a :class:`Part`
(what ``graph.add_node(pydot.Node(...))``, ``add_edge``, ``add_subgraph`` would have
done, in the same order) and hangs it on the returned ``pydot.Dot`` (``dot._Dot``):

- every pydot method reads or writes the drawing through ``dot.obj_dict``; the first
  time anything touches it, :func:`materialize` replays the statements into genuine
  pydot objects (through :mod:`.dottext`'s ``add_node``/``add_edges``/``add_subgraph``,
  which build exactly the ``obj_dict`` s pydot builds), and from then on the drawing
  is an ordinary ``pydot.Dot``, written from its live objects;
- until then nothing can have changed it, so ``to_string`` writes the recorded
  statements directly (:func:`pending_text`), with the same formatting code as the
  writer of live objects: the text is the same either way (checked on probe
  drawings before first use, and on every drawing in the tests).
"""

from __future__ import annotations

from typing import Any

import pydot
import pydot.core

from .dottext import _Writer, add_edges, add_node, add_subgraph

__all__ = ["NotPlain", "Part", "materialize", "pending_text", "recipe_ok"]

NODE, EDGE, RUN, SUB, RANK = range(5)


class Part:
    """The statements of a graph, cluster or subgraph being drawn, in order."""

    __slots__ = ("attrs", "items", "kind", "name")

    def __init__(self, kind: str = "graph", name: str = "", attrs: dict[str, Any] | None = None) -> None:
        self.kind, self.name, self.attrs = kind, name, attrs or {}
        self.items: list[tuple] = []

    def node(self, name: str, attrs: dict[str, str]) -> None:
        """``add_node(pydot.Node(name, **attrs))`` (the node gets a copy of ``attrs``).

        Statements may share one ``attrs`` dict (a style), which must not change once
        recorded: the text of a shared dict is formatted once."""
        self.items.append((NODE, name, attrs))

    def edge(self, src: str, dst: str, attrs: dict[str, str]) -> None:
        """``add_edge(pydot.Edge(src, dst, **attrs))`` (the edge gets a copy of ``attrs``)."""
        self.items.append((EDGE, src, dst, attrs))

    def edges(self, pairs: list[tuple[str, str]]) -> None:
        """An edge without attributes from ``src`` to ``dst`` for each pair, in turn."""
        if pairs:
            self.items.append((RUN, pairs))

    def cluster(self, name: str, attrs: dict[str, Any]) -> Part:
        """``add_subgraph(pydot.Cluster(name, **attrs))``; returns it, to record into."""
        part = Part("cluster", name, attrs)
        self.items.append((SUB, part))
        return part

    def rank(self, attrs: dict[str, str], names: list[str]) -> None:
        """A subgraph ``{rank=...; n1; n2;}`` (:func:`.dottext.add_subgraph`)."""
        self.items.append((RANK, attrs, names))


def materialize(graph: pydot.Graph, part: Part) -> None:
    """Add ``part`` 's statements to ``graph`` as pydot objects (clusters nest one deep
    in our drawings; deeper nesting recurses once per level, not per node)."""
    for item in part.items:
        kind = item[0]
        if kind == NODE:
            add_node(graph, item[1], dict(item[2]))
        elif kind == RUN:
            add_edges(graph, item[1])
        elif kind == EDGE:
            add_edges(graph, [(item[1], item[2])], item[3])
        elif kind == RANK:
            add_subgraph(graph, dict(item[1]), item[2])
        else:
            sub = item[1]
            cluster = pydot.Cluster(sub.name, **sub.attrs)
            materialize(cluster, sub)
            graph.add_subgraph(cluster)


class NotPlain(Exception):  # noqa: N818 - internal signal: write from live objects instead
    """A recorded name that pydot would quote: leave it to the writer of live objects."""


def pending_text(dot: pydot.Dot, od: dict, part: Part, indent: Any = "", indent_level: int = 0,
                 inline: bool = False) -> str:
    """The text of ``dot`` (its ``obj_dict`` ``od`` without the recorded statements)
    followed by ``part`` 's statements: what the writer gives once they are materialized.
    Raises :class:`NotPlain` where a recorded name needs pydot's quoting."""
    writer = _Writer(indent)
    strict = od.get("parent_graph") is dot and bool(od.get("strict", False))
    text = writer.graph(od, strict, indent_level, inline)
    closing = pydot.Common.get_indent(indent, indent_level) + "}" + ("" if inline else "\n")
    out = [text[: -len(closing)]]
    # every recorded statement ends up with dot's parent_graph as its own; Edge.get_top_graph_type
    # follows it up to a graph that is its own parent (dot itself, which must not be touched here)
    parent = od.get("parent_graph")
    if parent is dot:
        arrow = "->" if od.get("type", "graph") == "digraph" else "--"
    else:
        arrow = writer.arrow(parent)
    _statements(writer, part.items, indent_level + 1, arrow, out)
    out.append(closing)
    return "".join(out)


def _statements(writer: _Writer, items: list[tuple], level: int, arrow: str, out: list[str]) -> None:
    inner = pydot.Common.get_indent(writer.indent, level)
    append, plain = out.append, writer.plain
    formatted: dict[int, str] = {}  # id(attrs) -> " [...]": styles are shared, and alive while we write

    def attrs(a: dict) -> str:
        text = formatted.get(id(a))
        if text is None:
            text = formatted[id(a)] = writer.attrs(a)
        return text

    for item in items:
        kind = item[0]
        if kind == RUN:
            for src, dst in item[1]:
                if not (plain[src] and plain[dst]):
                    raise NotPlain(src, dst)
                append(f"{inner}{src} {arrow} {dst};\n")
        elif kind == NODE:
            name, a = item[1], item[2]
            if not plain[name]:
                raise NotPlain(name)
            append(f"{inner}{name}{attrs(a) if a else ''};\n")
        elif kind == EDGE:
            src, dst, a = item[1], item[2], item[3]
            if not (plain[src] and plain[dst]):
                raise NotPlain(src, dst)
            append(f"{inner}{src} {arrow} {dst}{attrs(a) if a else ''};\n")
        elif kind == RANK:  # {rank=same; n1; n2;}: one per forward node in a two-part drawing
            deeper = pydot.Common.get_indent(writer.indent, level + 1)
            append(inner + "subgraph {\n")
            out.extend(f"{deeper}{writer.attr(k, v)};\n" for k, v in item[1].items())
            for n in item[2]:
                if not plain[n]:
                    raise NotPlain(n)
                append(f"{deeper}{n};\n")
            append(f"{inner}}}\n")
        else:  # a cluster, written as pydot writes one at this level
            sub = item[1]
            name = pydot.core.quote_id_if_necessary("cluster_" + sub.name)
            deeper = pydot.Common.get_indent(writer.indent, level + 1)
            append(inner + (f"subgraph {pydot.core.quote_id_if_necessary(name)} {{\n" if name else "subgraph {\n"))
            out.extend(f"{deeper}{writer.attr(k, v)};\n" for k, v in sub.attrs.items())
            _statements(writer, sub.items, level + 1, arrow, out)
            append(f"{inner}}}\n")


def _probe() -> tuple[pydot.Dot, Part]:
    """A drawing with every kind of recorded statement, as the exporter records them."""
    d = pydot.Dot("probe", graph_type="digraph", label="<<B>t</B>>", rankdir="LR")
    d.set_node_defaults(shape="box", color='"#1a1a1a"')
    d.set_edge_defaults(arrowsize="0.7")
    top = Part()
    below = top.cluster("adjoint", {"peripheries": 0})
    above = top.cluster("for ward", {"peripheries": 0, "label": "<f>"})
    top.node("n0", {"label": "<x>", "xlabel": "<<I>x</I>>"})
    below.node("n1", {"color": '"#b03a2e"', "label": "<sin>", "penwidth": "1.3"})
    above.node("n2", {})
    top.rank({"rank": "same"}, ["n1", "n2"])
    top.edges([("n0", "n1"), ("n1", "n2")])
    top.edge("n2", "n0", {"dir": "back", "tailport": "e"})
    above.node("r0", {"label": "<0.5>", "shape": "plaintext"})
    top.edge("r0", "n2", {})
    return d, top


_CHECKED: list[bool] = []


def recipe_ok() -> bool:
    """Whether :func:`pending_text` writes the probe recording exactly as pydot writes
    it once materialized (else drawings are always materialized before writing)."""
    if not _CHECKED:
        ok = True
        for args in [("", 0, False), ("  ", 1, True)]:
            d, part = _probe()
            text = pending_text(d, d.obj_dict, part, *args)
            materialize(d, part)
            ok = ok and text == pydot.Graph.to_string(d, *args)
        _CHECKED.append(ok)
    return _CHECKED[0]
