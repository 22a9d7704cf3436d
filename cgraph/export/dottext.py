"""DOT text for big drawings: pydot's own serializer, made linear and cheap.

A drawing is a genuine ``pydot.Dot``; pydot keeps every node, edge and subgraph as a
plain ``obj_dict``. Its ``to_string`` wraps each one in a new object and re-derives
the quoting of every attribute value character by character, which costs tens of
microseconds per node on a 10^5-node drawing. :func:`dot_text` writes the same text
from the same ``obj_dict`` s, statement by statement as pydot does, with three
shortcuts that give pydot's answer by construction:

- an attribute ``key=value`` is formatted once per distinct pair (pydot's
  ``quote_attr_if_necessary`` on a miss; HTML-like ``<...>`` and already quoted
  ``"..."`` values pass through, as pydot's rules leave them);
- a node or edge end that is a plain identifier (``n12``; not a DOT keyword) is
  written as is, as pydot's ``quote_id_if_necessary`` leaves it;
- anything else (ports, quoted or odd names, suppressed or simplified graphs) is
  handed to pydot's own code for that statement.

Because the text is always written from the live ``obj_dict`` s, a drawing the user
changed afterwards (``get_node("n1")[0].set("color", "red")``, ``add_edge``...) prints
with the change. On first use the writer checks itself against pydot on a small probe
drawing that exercises every shortcut; should an installed pydot write anything
differently, the writer steps aside and pydot writes every drawing.

:func:`add_node`, :func:`add_edges` and :func:`add_subgraph` insert into a graph exactly
the ``obj_dict`` s ``graph.add_node(pydot.Node(...))``, ``graph.add_edge(pydot.Edge(...))``
and ``graph.add_subgraph(...)`` would, without building and discarding wrapper objects
(a recorded drawing is made into pydot objects through them: :mod:`.recipe`).
"""

from __future__ import annotations

import re
from operator import itemgetter
from typing import Any

import pydot
import pydot.core

__all__ = ["add_edge", "add_edges", "add_node", "add_subgraph", "dot_text", "writer_ok"]

# an identifier that is not a DOT keyword (pydot compares keywords case-insensitively)
_KEYWORDS = "|".join(pydot.core.dot_keywords)
_PLAIN = re.compile(rf"(?!(?i:{_KEYWORDS})$)[A-Za-z_][A-Za-z0-9_]*").fullmatch
_sequence = itemgetter("sequence")


class _PlainMemo(dict):
    """name -> whether pydot writes it as it is (an identifier, not a keyword); one per
    writing, since a DOT id recurs in every edge at it."""

    def __missing__(self, name: str) -> bool:
        plain = self[name] = _PLAIN(name) is not None
        return plain


def add_node(parent: pydot.Graph, name: str, attrs: dict[str, Any]) -> None:
    """``parent.add_node(pydot.Node(name, **attrs))``, without the ``Node`` wrapper
    (the node keeps ``attrs`` itself: pass a dict of its own)."""
    if type(name) is not str or ":" in name:  # pydot.Node splits off a port
        parent.add_node(pydot.Node(name, **attrs))
        return
    od = parent.obj_dict
    seq = od.get("current_child_sequence", 1)  # Graph.get_next_sequence_number, inlined
    od["current_child_sequence"] = seq + 1
    obj = {"attributes": attrs, "type": "node", "parent_graph": od.get("parent_graph"), "sequence": seq,
           "name": name, "port": None}
    same = od["nodes"].get(name)
    if same is None:
        od["nodes"][name] = [obj]
    else:
        same.append(obj)


def add_edge(parent: pydot.Graph, src: str, dst: str, attrs: dict[str, Any]) -> None:
    """``parent.add_edge(pydot.Edge(src, dst, **attrs))``, without the ``Edge`` wrapper
    (the edge keeps ``attrs`` itself: pass a dict of its own)."""
    add_edges(parent, [(src, dst)], attrs)


def add_edges(parent: pydot.Graph, pairs: list[tuple[str, str]], attrs: dict[str, Any] | None = None) -> None:
    """:func:`add_edge` for each ``(src, dst)`` in turn, each edge with its own copy of
    ``attrs`` (none by default)."""
    od = parent.obj_dict
    edges, top = od["edges"], od.get("parent_graph")
    seq = od.get("current_child_sequence", 1)  # Graph.get_next_sequence_number, inlined
    for points in pairs:
        src, dst = points
        if type(src) is not str or type(dst) is not str:
            od["current_child_sequence"] = seq
            parent.add_edge(pydot.Edge(src, dst, **(attrs or {})))
            seq = od["current_child_sequence"]
            continue
        obj = {"points": points, "attributes": {} if attrs is None else dict(attrs), "type": "edge",
               "parent_graph": top, "sequence": seq}
        seq += 1
        same = edges.get(points)
        if same is None:
            edges[points] = [obj]
        else:
            same.append(obj)
    od["current_child_sequence"] = seq


def add_subgraph(parent: pydot.Graph, attrs: dict[str, Any], names: list[str]) -> None:
    """``parent.add_subgraph(sub)`` of a new ``sub = pydot.Subgraph(**attrs)`` holding a
    ``pydot.Node(name)`` per name (``{rank=same; n1; n2;}``), without the wrappers."""
    if not all(type(n) is str and ":" not in n for n in names):
        sub = pydot.Subgraph(**attrs)
        for n in names:
            sub.add_node(pydot.Node(n))
        parent.add_subgraph(sub)
        return
    top = parent.obj_dict.get("parent_graph")
    nodes = {}
    for seq, n in enumerate(names, start=1):
        obj = {"attributes": {}, "type": "node", "parent_graph": top, "sequence": seq, "name": n, "port": None}
        nodes.setdefault(n, []).append(obj)
    od = parent.obj_dict
    seq = od.get("current_child_sequence", 1)
    od["current_child_sequence"] = seq + 1
    sub = {"attributes": attrs, "name": "", "type": "subgraph", "strict": False, "suppress_disconnected": False,
           "simplify": False, "current_child_sequence": len(names) + 1, "nodes": nodes, "edges": {},
           "subgraphs": {}, "parent_graph": top, "sequence": seq}
    od["subgraphs"].setdefault("", []).append(sub)


class _Writer:
    """One ``to_string`` call: the attribute and graph-type memos live as long as it does."""

    def __init__(self, indent: Any) -> None:
        self.indent = indent
        self.formatted: dict[tuple[str, str], str] = {}
        self.arrows: dict[int, str] = {}
        self.plain = _PlainMemo()

    def attr(self, key: str, value: Any) -> str:
        if type(value) is not str or type(key) is not str:
            return pydot.Common._format_attr(key, value)
        pair = (key, value)
        text = self.formatted.get(pair)
        if text is None:
            if len(value) >= 2 and (value[0] == "<" and value[-1] == ">" or value[0] == '"' and value[-1] == '"'):
                text = f"{key}={value}"
            else:
                text = pydot.Common._format_attr(key, value)
            self.formatted[pair] = text
        return text

    def attrs(self, attributes: dict) -> str:
        """`` [key=value, ...]`` of a statement with attributes."""
        attr = self.attr
        if len(attributes) == 1:
            ((k, v),) = attributes.items()
            return " [" + attr(k, v) + "]"
        return " [" + ", ".join([attr(k, v) for k, v in attributes.items()]) + "]"

    def arrow(self, parent: pydot.Graph | None) -> str:
        """``->`` or ``--`` for an edge whose ``parent_graph`` is ``parent``
        (``Edge.get_top_graph_type``: follow the links up to the top graph)."""
        key = id(parent)
        arrow = self.arrows.get(key)
        if arrow is None:
            top = parent
            while top is not None:
                above = top.get_parent_graph()
                if above == top:
                    break
                top = above
            kind = "graph" if top is None else top.obj_dict.get("type", "graph")
            arrow = self.arrows[key] = "->" if kind == "digraph" else "--"
        return arrow

    def graph(self, od: dict, strict: bool, level: int, inline: bool) -> str:
        """``Graph.to_string`` of the graph whose ``obj_dict`` is ``od``."""
        if od.get("suppress_disconnected") or od.get("simplify"):
            return pydot.Graph.to_string(pydot.Graph(obj_dict=od), self.indent, level, inline)
        indent = pydot.Common.get_indent(self.indent, level)
        inner = pydot.Common.get_indent(self.indent, level + 1)
        first = ["strict"] if strict else []
        if od["type"] != "subgraph" or od.get("show_keyword", True):
            first.append(od["type"])
            if od.get("name"):
                first.append(pydot.core.quote_id_if_necessary(od["name"]))
        first.append("{\n")
        out = [] if inline else [indent]
        out.append(" ".join(first))
        out.extend(f"{inner}{self.attr(k, v)};\n" for k, v in od["attributes"].items())
        objs = [obj for group in od["edges"].values() for obj in group]
        objs += [obj for group in od["nodes"].values() for obj in group]
        objs += [obj for group in od["subgraphs"].values() for obj in group]
        objs.sort(key=_sequence)  # stable: ties stay edges, nodes, subgraphs, as in pydot
        attrs, append, plain = self.attrs, out.append, self.plain
        parent, arrow = self, ""  # the last edge's parent_graph and arrow: all edges share one
        for obj in objs:  # the statements pydot would write, in its order: this loop is hot
            kind = obj["type"]
            if kind == "edge":
                src, dst = obj["points"]
                if type(src) is str and type(dst) is str and plain[src] and plain[dst]:
                    if obj.get("parent_graph") is not parent:
                        parent = obj.get("parent_graph")
                        arrow = self.arrow(parent)
                    a = obj["attributes"]
                    append(f"{inner}{src} {arrow} {dst}{attrs(a) if a else ''};\n")
                else:
                    append(pydot.Edge(obj_dict=obj).to_string(self.indent, level + 1) + "\n")
            elif kind == "node":
                name = obj["name"]
                if type(name) is str and plain[name]:
                    a = obj["attributes"]
                    append(f"{inner}{name}{attrs(a) if a else ''};\n")
                else:
                    append(pydot.Node(obj_dict=obj).to_string(self.indent, level + 1) + "\n")
            else:  # a subgraph: pydot wraps it in a new object, so it never counts as strict
                append(self.graph(obj, False, level + 1, False))
        out.append(f"{indent}}}")
        if not inline:
            out.append("\n")
        return "".join(out)


def dot_text(dot: pydot.Graph, indent: Any = "", indent_level: int = 0, inline: bool = False) -> str:
    """``dot.to_string(indent, indent_level, inline)`` as pydot writes it, in linear time."""
    if dot.get_suppress_disconnected() or dot.get_simplify():
        return pydot.Graph.to_string(dot, indent, indent_level, inline)
    strict = dot == dot.get_parent_graph() and dot.get_strict()
    return _Writer(indent).graph(dot.obj_dict, strict, indent_level, inline)


def _probes() -> list[pydot.Graph]:
    """Small drawings touching every shortcut and every fallback of the writer."""
    d = pydot.Dot("probe graph", graph_type="digraph", label="<<B>t</B>>", fontname="DejaVu Sans")
    d.set_node_defaults(shape="box", color="#1a1a1a", width="0.45")
    d.set_edge_defaults(arrowsize="0.7", tailport="e")
    add_node(d, "n0", {"label": "<x>", "xlabel": '"a \\"b\\""', "tooltip": "", "margin": "0.1,0.04"})
    add_node(d, "n1", {"label": "<sin>", "fontsize": 12, "penwidth": 1.3, "fixedsize": False, "note": "é"})
    add_node(d, "n0", {"color": "red", "shape": "graph", "width": "0.5", "height": ".5", "group": "_a1"})
    d.add_node(pydot.Node("node"))
    d.add_node(pydot.Node("a:b", label="p"))
    d.add_node(pydot.Node("Graph", label=""))
    add_edge(d, "n0", "n1", {"color": "#9a9a9a", "dir": "back", "label": "<>"})
    add_edge(d, "n0", "n1", {})
    d.add_edge(pydot.Edge("n1:s", "n0", label="1.5"))
    d.add_edge(pydot.Edge("é", "x y", weight=2))
    c = pydot.Cluster("part", peripheries=0)
    add_node(c, "n2", {"label": "<+>"})
    add_edge(c, "n2", "n1", {"style": "dashed"})
    d.add_subgraph(c)
    s = pydot.Subgraph(rank="same")
    s.add_node(pydot.Node("n1"))
    s.add_node(pydot.Node("n2"))
    d.add_subgraph(s)
    add_subgraph(d, {"rank": "same"}, ["n0", "n2", "n0"])
    add_subgraph(d, {"rank": "min"}, ["a:b"])
    q = pydot.Subgraph("quiet", suppress_disconnected=True, simplify=True)
    add_node(q, "n3", {})
    add_edge(q, "n0", "n1", {})
    add_edge(q, "n0", "n1", {})
    d.add_subgraph(q)
    u = pydot.Graph("u", graph_type="graph", strict=True)
    add_edge(u, "a", "b", {"w": "1"})
    add_node(u, "edge", {"color": "blue"})
    h = pydot.Subgraph("", obj_dict=None)
    h.obj_dict["show_keyword"] = False
    add_node(h, "a", {"label": "<a>"})
    u.add_subgraph(h)
    return [d, u]


_CHECKED: list[bool] = []


def writer_ok() -> bool:
    """Whether :func:`dot_text` writes the probe drawings exactly as the installed pydot does."""
    if not _CHECKED:
        _CHECKED.append(all(
            dot_text(p, *args) == pydot.Graph.to_string(p, *args) for p in _probes() for args in [("", 0), ("  ", 1, True)]
        ))
    return _CHECKED[0]
