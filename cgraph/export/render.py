"""Rendering DOT through Graphviz's ``dot`` program, and writing files atomically.

``dot`` runs in a subprocess we control (never pydot's ``create()``, which reports
failures with ``assert`` and so returns nothing under ``python -O``): a missing program
is a :class:`~cgraph.GraphvizNotFoundError` with an install hint, a failure a
:class:`~cgraph.RenderError` carrying Graphviz's message, and a file is replaced only
once its whole content exists, so a failure never leaves a partial file.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess  # nosec B404: runs only the dot binary found on PATH, with fixed arguments
from pathlib import Path
from typing import Any

import pydot

from ..errors import ExportError, GraphvizNotFoundError, RenderError, check_path
from ..graph import Graph
from ..io import write_replacing

__all__ = ["FORMATS", "render", "run_dot", "write_atomic"]

FORMATS = {".dot": "dot", ".gv": "dot", ".svg": "svg", ".pdf": "pdf", ".png": "png"}
INSTALL_HINT = (
    "install Graphviz (Debian/Ubuntu: sudo apt-get install graphviz; macOS: brew install graphviz; "
    "conda: conda install graphviz; Windows: https://graphviz.org/download/) so that `dot` is on PATH, "
    "or write a .dot file instead"
)
CAIRO = ("pdf", "png")  # formats Graphviz draws with cairo, which shrinks sub/superscripts itself
_SIZED_INDEX = re.compile(r'<(SUB|SUP)><FONT POINT-SIZE="[0-9.]+">')
_PDF_DATE = re.compile(rb"(/CreationDate \(D:)\d{14}Z\)")
_TEXT = re.compile(rb'<text text-anchor="start" [^>]*?x="(-?[0-9.]+)" y="(-?[0-9.]+)"[^>]*>([^<]*)</text>')
_SCRIPT = re.compile(rb'( dy="-?[0-9.]+"[^>]*? font-size=")([0-9.]+)(")')
_TEXT_TAG = re.compile(rb'<text [^>]*>')
_Y_ATTR = re.compile(rb' y="(-?[0-9.]+)"')
_SHIFT_ATTR = re.compile(rb' baseline-shift="(sub|super)"')
_SIZE_ATTR = re.compile(rb' font-size="([0-9.]+)"')
#: how far an index is lowered (sub) or raised (super), in ems of its own size: about what
#: Graphviz's cairo renderer (PNG, PDF) draws, 0.25 and 0.4 of the text it follows
SHIFT = {b"sub": 0.35, b"super": -0.55}
_NARROW, _WIDE = set("()[]{},.;:'!|ilfjt \u00a0\u2009"), set("mwMW−@")
TIMEOUT = 300  # seconds; a layout that takes longer is not a diagram anyone can read
PNG_DPI = 144


def render(g: Graph | pydot.Dot, path: str | os.PathLike, *, style: str = "computation", **options: Any) -> Path:
    """Draw ``g`` into ``path``: ``.dot`` (DOT text), ``.svg``, ``.pdf`` or ``.png`` by suffix.

    Parameters
    ----------
    g : Graph or pydot.Dot
        The graph (drawn with :func:`cgraph.to_dot`), or a finished ``pydot.Dot``.
    path : str or Path
        The file to write; its suffix picks the format. Written atomically.
    style : {"computation", "network"}
        The drawing convention.
    **options
        Options of the style (``values=``, ``rankdir=``, ``weights=`` ...).

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ExportError
        An unknown suffix, or a file that cannot be written.
    GraphvizNotFoundError
        ``dot`` is not installed (only for .svg/.pdf/.png).
    RenderError
        Graphviz failed; the message holds its stderr.

    Examples
    --------
    >>> import cgraph as cg, tempfile, pathlib
    >>> g = cg.Graph()
    >>> _ = g.output(cg.exp(g.input("x")), name="y")
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "y.dot"
    >>> cg.render(g, out).read_text().startswith("digraph")
    True
    """
    check_path(path, "cg.render: path", ExportError)
    path = Path(path)
    fmt = FORMATS.get(path.suffix.lower())
    if path.is_dir():  # (its "unknown file type ''", or a folder named g.svg replaced at the end)
        raise ExportError(f"cannot render {str(path)!r}: it is a folder; give a file name such as "
                          f"{str(path / 'graph.svg')!r}")
    if fmt is None:
        known = ", ".join(sorted(set(FORMATS)))
        raise ExportError(f"cannot render {str(path)!r}: unknown file type {path.suffix!r}; use one of {known}")
    if isinstance(g, pydot.Dot):
        if options or style != "computation":  # a finished drawing has its options: these would do nothing
            given = ", ".join([*(["style"] if style != "computation" else []), *options])
            raise ExportError(f"cg.render of a finished pydot.Dot takes no drawing options ({given}); "
                              "pass them to cg.to_dot, or render the Graph")
        text = g.to_string()
    else:
        from . import to_dot

        text = to_dot(g, style=style, **options).to_string()
    data = text.encode("utf-8") if fmt == "dot" else run_dot(text, fmt)
    write_atomic(path, data)
    return path


def run_dot(text: str, fmt: str) -> bytes:
    """Run Graphviz's ``dot -T<fmt>`` on DOT ``text``; the rendered bytes.

    Examples
    --------
    >>> run_dot("digraph { a -> b }", "svg")[:5]  # doctest: +SKIP
    b'<?xml'
    """
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizNotFoundError(f"Graphviz's `dot` program was not found on PATH: {INSTALL_HINT}")
    args = [exe, f"-T{fmt}"] + ([f"-Gdpi={PNG_DPI}"] if fmt == "png" else [])
    if fmt in CAIRO:
        text = _cairo_indices(text)
    try:
        done = subprocess.run(  # noqa: S603  (fixed argument list, no shell)
            args, input=text.encode("utf-8"), capture_output=True, timeout=TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        raise RenderError(f"Graphviz did not finish within {TIMEOUT} s; the graph is too large to draw") from None
    except OSError as exc:
        raise RenderError(f"could not run Graphviz ({exe}): {exc}") from None
    stderr = done.stderr.decode("utf-8", "replace").strip()
    if done.returncode != 0 or not done.stdout:
        raise RenderError(f"Graphviz failed (exit code {done.returncode}) making {fmt}: {stderr or 'no output'}")
    if fmt == "pdf":  # cairo stamps the time; a fixed stamp of the same length keeps the byte offsets valid
        return _PDF_DATE.sub(rb"\g<1>20000101000000Z)", done.stdout, count=1)
    if fmt == "svg":
        return _fit_scripts(_lower_scripts(done.stdout))
    return done.stdout


def _lower_scripts(svg: bytes) -> bytes:
    """Graphviz writes an index as a ``<text>`` of its own on the line's baseline with
    ``baseline-shift="sub"`` (or ``"super"``), which SVG applies only to a ``<tspan>``:
    cairosvg, browsers and the slide tools that follow the standard drew g_x as "gx" and
    w_{1,1}^{(1)} as "w1,1(1)", every index on the line. It is moved by a ``dy`` instead,
    which every viewer applies (its size and x stay as Graphviz laid them out). Graphviz
    sets an index inside an index on one level; one set smaller than the first index of
    its run is moved from where that one is (g_{x_1}: the 1 below the x)."""
    pieces, done = [], 0
    line, outer = None, None  # the y of the current run of text, and (size, dy) of its first index
    for m in _TEXT_TAG.finditer(svg):
        tag = m[0]
        y = _Y_ATTR.search(tag)
        if y is None or y[1] != line:
            line, outer = y and y[1], None
        kind, size = _SHIFT_ATTR.search(tag), _SIZE_ATTR.search(tag)
        if kind is None or size is None:  # (Graphviz always writes the size)
            outer = None
            continue
        points = float(size[1])
        dy = SHIFT[kind[1]] * points
        if outer is not None and points < outer[0]:
            dy += outer[1]
        else:
            outer = (points, dy)
        pieces += [svg[done:m.start()], _SHIFT_ATTR.sub(b' dy="%.2f"' % dy, tag, count=1)]
        done = m.end()
    return b"".join(pieces) + svg[done:]


def _fit_scripts(svg: bytes) -> bytes:
    """Graphviz lays an index out through pango's <sub>/<sup>, which sets it smaller than
    the FONT POINT-SIZE its SVG writer then writes (0.79 to 0.90 as wide), so a longer
    index ran over the text after it (z_256^(1), g_learning_rate = 1210). An index with
    text after it on its line is set just small enough to end where that text starts."""
    texts = list(_TEXT.finditer(svg))
    edits = []
    for m, nxt in zip(texts, texts[1:]):
        script = _SCRIPT.search(m[0])
        if not script or nxt[2] != m[2] or float(nxt[1]) <= float(m[1]) or b"</g>" in svg[m.end():nxt.start()]:
            continue
        size, room = float(script[2]), float(nxt[1]) - float(m[1])
        text = html.unescape(m[3].decode("utf-8", "replace")).replace("\u2060", "")
        # the advance of DejaVu's glyphs, roughly, in em: digits 0.64, (),.ilt 0.3 to 0.4, mw 0.9
        width = size * sum(0.64 if ch.isdigit() else 0.35 if ch in _NARROW else 0.85 if ch in _WIDE else 0.6
                           for ch in text)
        if width > room + 1.0:  # (within a point: the next letter's own margin)
            start = m.start() + script.start(2)
            edits.append((start, start + len(script[2]), f"{size * room / width:.2f}".encode()))
    pieces, done = [], 0  # joined once: an adjoint drawing of 10^4 boxes has 10^4 such indices
    for start, end, new in edits:
        pieces += [svg[done:start], new]
        done = end
    return b"".join(pieces) + svg[done:]


def _cairo_indices(text: str) -> str:
    """Drop the explicit font size of indices: Graphviz's SVG writer keeps the size it is
    given (so the exporters make indices smaller), its cairo renderers shrink them again."""
    text = _SIZED_INDEX.sub(r"<\1>", text)
    return text.replace("</FONT></SUB>", "</SUB>").replace("</FONT></SUP>", "</SUP>")


def write_atomic(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        raise ExportError(f"cannot write {str(path)!r}: folder {str(folder)!r} does not exist")
    try:
        write_replacing(path, data, hidden=True)
    except OSError as exc:
        raise ExportError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from exc
