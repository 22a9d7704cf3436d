"""Backprop for slides: the reverse sweep as a numbered sequence of frames.

The lecture: "then compute partial derivatives, starting from y and working back". Each
frame draws the forward computation graph with the adjoints computed so far written in
their boxes, the node whose adjoint this step computes highlighted together with the
edges its adjoint is read from (those to the nodes that use it), and the step's
formula (``g_b = g_e*(-a/b^2) + g_c*cos(b)``) with its value when inputs are given.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydot

from ..errors import ExportError, check_path, no_nonfinite_hint
from ..graph import Graph
from ..passes.adjoint import differentiated, require_separable
from ..passes.plan import merge_feeds, plan
from . import dot as D
from .computation import HIGHLIGHT, computation_dot

__all__ = ["Step", "backprop_frames", "backprop_steps"]

TITLE_SIZE = 16


@dataclass(frozen=True)
class Step:
    """One step of the reverse sweep: the adjoint ``adjoint`` of forward node ``node``."""

    number: int
    node: str
    adjoint: str
    formula: str
    value: Any
    dot: pydot.Dot


def backprop_steps(
    g: Graph,
    feeds: Mapping[str, Any] | None = None,
    /,
    *,
    wrt: Sequence[str] | str | None = None,
    of: str | None = None,
    precision: int = 4,
    rankdir: str = "LR",
    **inputs: Any,
) -> list[Step]:
    """The reverse sweep of ``g``, one :class:`Step` (with its drawing) per adjoint node,
    in the order the adjoint graph computes them.

    Parameters
    ----------
    g : Graph
        The forward graph.
    feeds : mapping, optional
        Input values by name or node (alternative to keywords); with inputs, every frame shows
        the forward values and the adjoint values computed so far.
    wrt, of : optional
        As in :func:`cgraph.adjoint`.
    precision, rankdir :
        As in :func:`cgraph.to_dot`.
    **inputs
        Input values.

    Raises
    ------
    ShapeError
        With inputs, where ``of`` evaluates to an array whose elements mix (a softmax of
        a vector, ``x - mean(x)``), as :func:`~cgraph.grad` refuses it: the sweep seeded
        with 1 (``g_y = 1``) would show the gradient of the sum of its elements, 0 for a
        softmax, as if it were each element's derivative. The vector-Jacobian product
        with a cotangent of one's choosing is :func:`~cgraph.vjp_graph`.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph()
    >>> x, z = g.input("x"), g.input("z")
    >>> _ = g.output((x * z).named("a") + x, name="y")
    >>> [s.adjoint for s in cg.backprop_steps(g, x=2.0, z=3.0)]
    ['g_y', 'g_a', 'g_x', 'g_z']
    """
    from .. import adjoint

    D.check_options(precision)  # the titles format values before the drawing checks its options
    feeds = merge_feeds(feeds, inputs, g)
    ga = adjoint(g, wrt=wrt, of=of)
    # the nodes this sweep creates: g's own adjoint nodes (g an adjoint graph) are its forward part
    order = [n for n in ga.schedule() if n not in g.nx and ga.nx.nodes[n].get("adjoint_of") in g.nx]
    with no_nonfinite_hint():  # backprop_steps takes no nonfinite=
        values = plan(ga).run(feeds, source=g) if feeds else {}  # a missing input is one of g's, not "adjoint of g"
    swept = differentiated(ga)
    if values and swept:  # an array whose elements mix: refused as cg.grad refuses it at this point
        names, of = swept
        require_separable(g, names, of, values[of], feeds)
    formulas = _formulas(ga, order)
    forward = [ga.nx.nodes[n]["adjoint_of"] for n in order]
    final = {node: (values.get(name) if values else None) for node, name in zip(forward, order)}
    titles = [_title(k, len(order), formulas[n], values.get(n) if values else None, precision)
              for k, n in enumerate(order, 1)]
    # every title gets the width of the longest, so no frame's drawing shifts sideways
    width = max((round(len(plain) * 0.62 * TITLE_SIZE) + 24 for _, plain in titles), default=0)  # no steps: wrt=[]
    steps: list[Step] = []
    for k, (name, node) in enumerate(zip(order, forward), 1):
        later = set(forward[k:])  # their lines are reserved, so every frame has the same layout
        reads = [(node, u) for u in g.users(node) if u in final and u not in later]
        # show_generated: the titles and the boxes' g_t4 speak of t4, so its box is named t4
        d = computation_dot(g, values=values or None, adjoints=final, pending=later, rankdir=rankdir,
                            precision=precision, highlight=[node], highlight_edges=reads, show_generated=True)
        for e in d.get_edges():  # the adjoint flows back along the edges it reads
            if e.get("color") == f'"{HIGHLIGHT}"':
                attrs = {**e.get_attributes(), "dir": "back"}
                e.obj_dict["attributes"] = dict(sorted(attrs.items()))
        cell = f'<TABLE BORDER="0" CELLPADDING="4"><TR><TD WIDTH="{width}">{titles[k - 1][0]}</TD></TR></TABLE>'
        d.set("label", D.html_label(cell))
        d.set("labelloc", "t")
        steps.append(Step(k, node, name, formulas[name], values.get(name) if values else None, d))
    return steps


def backprop_frames(
    g: Graph,
    out_dir: str | os.PathLike,
    feeds: Mapping[str, Any] | None = None,
    /,
    *,
    formats: str | Sequence[str] = ("svg",),
    **options: Any,
) -> list[Path]:
    """Write the reverse sweep of ``g`` as frames ``step_01.svg``, ``step_02.svg``, ... into ``out_dir``.

    Parameters
    ----------
    g : Graph
    out_dir : str or Path
        The folder (created if missing).
    feeds : mapping, optional
        Input values by name or node; as keywords too.
    formats : {"svg", "pdf", "png", "dot"} or a sequence of them
        The files to write per frame.
    **options
        ``wrt``, ``of``, ``precision``, ``rankdir`` and input values, as in
        :func:`backprop_steps`.

    Returns
    -------
    list of Path
        The files written, frame by frame.

    Examples
    --------
    >>> import cgraph as cg, tempfile
    >>> g = cg.Graph()
    >>> _ = g.output(cg.sin(g.input("x")), name="y")
    >>> [p.name for p in cg.backprop_frames(g, tempfile.mkdtemp(), formats=["dot"], x=1.0)]
    ['step_01.dot', 'step_02.dot']
    """
    from .render import FORMATS, render

    if not isinstance(formats, (str, Iterable)):
        raise ExportError(f"formats must be a format or a list of them (svg, pdf, png, dot), not {formats!r}")
    formats = [formats] if isinstance(formats, str) else list(formats)  # "svg" is one format, not 3 letters
    for fmt in formats:
        if not isinstance(fmt, str) or f".{fmt.lower().removeprefix('.')}" not in FORMATS:
            raise ExportError(f"unknown frame format {fmt!r}; use svg, pdf, png or dot")
    # as render reads a suffix: "SVG" and ".svg" are svg; a format named twice is one file a frame
    formats = list(dict.fromkeys(fmt.lower().removeprefix(".") for fmt in formats))
    check_path(out_dir, "backprop_frames: out_dir", ExportError, kind="folder")
    steps = backprop_steps(g, feeds, **options)  # a refused sweep leaves no empty folder behind
    folder = Path(out_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ExportError(f"cannot create folder {str(folder)!r}: {exc.strerror or exc}") from exc
    written = []
    width = max(2, len(str(len(steps))))
    for step in steps:
        for fmt in formats:
            written.append(render(step.dot, folder / f"step_{step.number:0{width}d}.{fmt}"))
    _warn_stale(folder, formats, written)
    return written


def _warn_stale(folder: Path, formats: list[str], written: list[Path]) -> None:
    """A warning for frames of an earlier, longer sweep that this one left in ``folder``:
    rerun into the same folder, step_01 to step_03 were replaced and step_04 to step_09
    stayed, read as part of this sweep by whoever makes slides of the folder."""
    import re
    import warnings

    frame = re.compile(rf"step_[0-9]+\.(?:{'|'.join(map(re.escape, formats))})")
    done = {p.name for p in written}
    stale = sorted(p.name for p in folder.iterdir() if frame.fullmatch(p.name) and p.name not in done)
    if stale:
        shown = stale[0] if len(stale) == 1 else f"{stale[0]} ... {stale[-1]}"
        warnings.warn(f"{str(folder)!r} also holds {len(stale)} frame(s) of an earlier sweep that this one did not "
                      f"replace ({shown}); delete them before using the folder's frames", stacklevel=3)


def _title(k: int, total: int, formula: str, value: Any, precision: int) -> tuple[str, str]:
    """The frame's title as HTML and as plain text: ``step 6 of 9: g_b = ... = -12.36``."""
    rhs = formula.partition(" = ")[2].strip()
    shown, html = formula, D.formula(formula, size=TITLE_SIZE)
    text = None if value is None else D.format_value(value, precision)
    if text is not None and rhs != text.replace("−", "-"):
        shown += f" = {text.replace('−', '-')}"
        # a value is no formula: read as one, "array 2×3" lost its space and 1e−05 its minus sign
        html += D.math(D.spaced("=") + D.html_text(text))
    head = f"step {k} of {total}:"
    return D.html_text(head) + D.spaced("") + html, f"{head}  {shown}"


def _formulas(ga: Graph, order: list[str]) -> dict[str, str]:
    """``{adjoint name: "g_c = g_f*(1/a)"}`` from the adjoint program of the symbolic printer."""
    from .. import to_text
    from ..printing.text import text_name

    lines = {}
    for line in to_text(ga, form="program").splitlines():
        name, sep, _ = line.partition(" = ")
        if sep:
            lines[name.strip()] = line.strip()
    # a name that is not a plain identifier is written in backticks: `g_w_{1,1}^{(1)}` = ...
    return {n: lines.get(text_name(n), n) for n in order}
