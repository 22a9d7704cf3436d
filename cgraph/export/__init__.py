"""Diagrams: DOT in the lecture's two conventions, rendering through Graphviz, notebooks, backprop frames."""

from __future__ import annotations

import inspect
from typing import Any

import pydot

from ..errors import ExportError
from ..graph import Graph, require_graph
from ..memory import gc_paused

__all__ = ["STYLES", "to_dot"]

STYLES = ("computation", "network")


def to_dot(g: Graph, style: str = "computation", **options: Any) -> pydot.Dot:
    """``g`` as a ``pydot.Dot`` in one of the lecture's two drawing conventions.

    Parameters
    ----------
    g : Graph
    style : {"computation", "network"}
        ``"computation"``: one box per variable, its function inside and its name
        outside (see :func:`cgraph.export.computation.computation_dot` for the options).
        ``"network"``: one circle per unit, edges labelled with their weights; only for
        layered networks (see :func:`cgraph.export.network.network_dot`).
    **options
        Options of the chosen style.

    Returns
    -------
    pydot.Dot
        Deterministic: the same graph gives byte-identical ``to_string()``. A drawing
        in the computation style holds its statements until anything reads its pydot
        objects (``get_nodes()``, ``set(...)``...), which are then built whole; writing
        it (``to_string()``, ``write``, :func:`cgraph.render`) needs no objects at all,
        so a 10^5-node drawing writes in well under a second.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph()
    >>> x = g.input("x")
    >>> _ = g.output(cg.exp(x), name="y")
    >>> print(cg.to_dot(g).to_string())  # doctest: +ELLIPSIS
    digraph cgraph {
    ...
    n1 [label=<<TABLE ...<I>y</I>...exp...</TABLE>>, shape=plain];
    ...
    n0 -> n1 [headport="b:w"];
    }
    """
    require_graph(g, "to_dot")
    if style == "computation":
        from .computation import computation_dot as draw
    elif style == "network":
        from .network import network_dot as draw
    else:
        raise ExportError(f"unknown diagram style {style!r}; use one of {', '.join(STYLES)}")
    known = [p for p in inspect.signature(draw).parameters if p != "g"]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ExportError(f"the {style} style has no option {', '.join(map(repr, unknown))}; its options: {', '.join(known)}")
    with gc_paused():  # a drawing is about 10 small objects per node, none of them cyclic garbage
        return draw(g, **options)
