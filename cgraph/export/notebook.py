"""Jupyter display: a Graph shows itself as an SVG diagram, or as DOT text without Graphviz.

``mimebundle`` never raises: a notebook must always show *something*.
"""

from __future__ import annotations

from typing import Any

from ..errors import CGraphError
from ..graph import Graph

__all__ = ["mimebundle", "svg"]

#: larger graphs are summarised instead of laid out (Graphviz would take minutes)
MAX_NODES = 600


def mimebundle(g: Graph, **options: Any) -> dict[str, str]:
    """``{"image/svg+xml": ..., "text/plain": ...}`` for ``g``; only ``text/plain`` when
    Graphviz is missing (then with the DOT source and a hint), the graph is too large
    or cannot be drawn.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph("tiny")
    >>> _ = g.output(cg.exp(g.input("x")), name="y")
    >>> sorted(mimebundle(g))  # doctest: +SKIP
    ['image/svg+xml', 'text/plain']
    """
    try:
        summary = repr(g)
    except Exception as exc:  # noqa: BLE001  (display must never fail)
        return {"text/plain": f"<cgraph.Graph: cannot describe it: {exc}>"}
    if len(g) > MAX_NODES:
        return {"text/plain": f"{summary}\n(too large to draw inline: {len(g)} nodes > {MAX_NODES}; use cg.render)"}
    try:
        from . import to_dot

        text = to_dot(g, **options).to_string()
    except Exception as exc:  # noqa: BLE001
        return {"text/plain": f"{summary}\n(cannot draw it: {exc})"}
    try:
        return {"image/svg+xml": svg(text), "text/plain": summary}
    except CGraphError as exc:
        return {"text/plain": f"{summary}\n{text}\n({exc})"}
    except Exception as exc:  # noqa: BLE001
        return {"text/plain": f"{summary}\n{text}\n(rendering failed: {exc})"}


def svg(text: str) -> str:
    """DOT ``text`` rendered to SVG by Graphviz."""
    from .render import run_dot

    return run_dot(text, "svg").decode("utf-8")
