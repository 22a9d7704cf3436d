"""LaTeX printing: the same renderer as the text printer, with the OpDefs' LaTeX
templates, LaTeX names (``x_{1}``, ``\\alpha``) and ``\\frac{\\partial y}{\\partial x}``
on the left of adjoint outputs."""

from __future__ import annotations

import dataclasses
import itertools
import math
import re
import unicodedata
import warnings
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from ..checks import finite_number, int_text
from ..errors import ArgumentError
from ..graph import Graph
from ..node import Node
from ..ops.registry import OPS, Prec
from .linebreak import continued, latex_width, wrap
from .names import ADJOINT_NAME, GREEK_LETTERS, Symbols, index, scripted, spelled
from .render import MAX_LENGTH, Entry, Style, layout

GREEK = frozenset(
    "alpha beta gamma delta epsilon varepsilon zeta eta theta vartheta iota kappa lambda mu nu xi pi "
    "varpi rho varrho sigma varsigma tau upsilon phi varphi chi psi omega "
    "Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split()
)
#: name endings set as accents (longest first: xddot is x with two dots)
_ACCENTS = ("tilde", "prime", "ddot", "hat", "bar", "dot", "vec")
#: short names the diagrams draw as Greek letters too (lambda is a Python keyword)
_GREEK_ALIASES = {"eps": "epsilon", "lam": "lambda"}
_SPECIAL = {"\\": r"\backslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#",
            "%": r"\%", "_": r"\_", "^": r"\hat{}", "~": r"{\sim}",
            # operators and relations as ordinary symbols, without the space math mode puts
            # around them: the name x-1 is x{-}1, not x - 1, which reads as a difference
            **{ch: "{" + ch + "}" for ch in "+-*=<>,;:"}}
_INDEXED = re.compile(r"([^\W\d_]+)([0-9]+)")  # x1, w12, alpha2 (ASCII digits: "²".isdigit() is True)
#: what pdflatex refuses in math mode, as math: a composed letter's accents (é is e with
#: U+0301, \acute{e}), symbols, and super- and subscript digits and signs
_COMBINING = {"\u0300": "grave", "\u0301": "acute", "\u0302": "hat", "\u0303": "tilde", "\u0304": "bar",
              "\u0306": "breve", "\u0307": "dot", "\u0308": "ddot", "\u030a": "mathring", "\u030c": "check",
              "\u20d7": "vec"}
_UNICODE_SYMBOLS = {"µ": r"\mu", "∂": r"\partial", "∞": r"\infty", "∇": r"\nabla", "ℓ": r"\ell", "⁄": "/"}
_SCRIPTS = {**{ch: ("^", str(d)) for d, ch in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")}, "⁺": ("^", "+"), "⁻": ("^", "-"),
            **{ch: ("_", str(d)) for d, ch in enumerate("₀₁₂₃₄₅₆₇₈₉")}, "₊": ("_", "+"), "₋": ("_", "-")}


#: the deepest nesting of groups (braces, \left...\right) the expanded form writes: TeX
#: stops at 255 grouping levels, and the document around the formula takes some of them
MAX_NESTING = 200
_GROUPS = re.compile(r"\\[{}]|\\left\b|\\right\b|[{}]")


def nesting(text: str) -> int:
    r"""The deepest nesting of groups in LaTeX ``text``: braces and ``\left``...``\right``
    (escaped braces ``\{`` are characters).

    >>> nesting(r"\frac{1}{\left(x^{2}\right)}"), nesting(r"\mathrm{a\{b}")
    (3, 1)
    """
    depth = deepest = 0
    for m in _GROUPS.finditer(text):
        token = m.group()
        if token in ("{", r"\left"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("}", r"\right"):
            depth -= 1
    return deepest


def to_latex(obj: Graph | Node, form: str = "expanded", *, max_length: int = MAX_LENGTH,
             line_width: float | None = None) -> str:
    r"""A graph or node as LaTeX (math mode, without the surrounding ``$``).

    Parameters
    ----------
    obj : Graph or Node
        For a graph: one line per output (several lines in an ``aligned``
        environment); an adjoint output ``g_x`` of ``y`` is written
        ``\frac{\partial y}{\partial x} = ...``. For a node: its expression alone
        (``"expanded"``) or the program that computes it.
    form : {"expanded", "program"}
        As in :func:`cgraph.to_text`.
    max_length : int
        As in :func:`cgraph.to_text`. The expanded form also falls back to the
        program form (with a warning) where it would nest groups deeper than
        ``MAX_NESTING`` (200), which TeX cannot typeset (255 grouping levels).
    line_width : float, optional
        Break each equation so that no line is wider than about ``line_width`` letters
        (the left side included), continued in an ``aligned`` environment under its
        ``=`` (``&\quad {}+ ...``): before the ``+`` and ``-`` of its outermost sum, then
        at the ``\odot``, ``\cdot`` and ``\times`` of a product, then inside the widest
        parentheses, after the commas of a call's arguments, a line inside them half an
        em (``\enspace``) further in per level (:func:`cgraph.printing.linebreak.wrap`);
        what has nowhere to break (a fraction) keeps a line of its own, and where that
        is too wide to follow the ``=``, the equations start at the left edge
        (``&y = ...``), continued a quad in; where it is too wide for the line even so,
        the fraction is written with a solidus, ``\left(N\right) / D`` (``1/D``), and
        broken inside the parentheses of its numerator or denominator and at the ``/``
        (likewise a power of e, ``e^{u}``, as ``\exp\left(u\right)``).
        A letter is the width of an x: 55 fills a beamer slide in ``\small``, 60 a page
        of a 10pt article. Default: one line per equation.

    Returns
    -------
    str
        ``\frac`` for quotients, ``\ln``, ``\sin``, ``e^{x z}``, products by
        juxtaposition (``\cdot`` before a digit), indexed names as subscripts
        (``x1`` -> ``x_{1}``) and Greek names as letters (``alpha`` -> ``\alpha``).
        It needs amsmath (``aligned``, ``bmatrix``, ``\operatorname``) and no other package.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph()
    >>> x, z = g.input("x"), g.input("z")
    >>> y = g.output(cg.exp(x * z) + cg.sin(cg.log(x)) / (x * z), name="y")
    >>> print(cg.to_latex(g))
    y = e^{x z} + \frac{\sin\left(\ln\left(x\right)\right)}{x z}
    >>> print(cg.to_latex(cg.simplify(cg.adjoint(g, wrt=["z"]))))
    \frac{\partial y}{\partial z} = x e^{x z} - \frac{\sin\left(\ln\left(x\right)\right)}{x z^{2}}
    """
    if line_width is None:
        line_width = math.inf
    elif not finite_number(line_width) or line_width <= 0:
        raise ArgumentError(f"line_width must be a positive number of letters, not {line_width!r}")
    style = dataclasses.replace(LATEX, calls=call_symbols())
    symbols = Symbols(latex_name)
    g, result = layout(obj, form, dataclasses.replace(style, name=symbols), max_length=max_length, caller="to_latex")
    lines = _lines(g, result, form, symbols)
    if symbols.clashes:  # x1 and x_1 both print as x_{1}: print those names as they are spelled
        symbols = Symbols(latex_name, as_written=spelled_latex, literal=symbols.clashes)
        with warnings.catch_warnings():  # (the first layout has warned of expression swell)
            warnings.simplefilter("ignore")
            g, result = layout(obj, form, dataclasses.replace(style, name=symbols), max_length=max_length, caller="to_latex")
        lines = _lines(g, result, form, symbols)
    depth = max(map(nesting, [lines] if isinstance(lines, str) else [text for line in lines for text in line]), default=0)
    if form == "expanded" and depth > MAX_NESTING:
        warnings.warn(
            f"to_latex: the expanded form nests {depth} groups, past the {MAX_NESTING} a LaTeX document "
            "takes (TeX stops at 255 grouping levels); writing the program form instead", stacklevel=2)
        return to_latex(obj, "program", max_length=max_length,
                        line_width=None if line_width == math.inf else line_width)
    return _aligned(lines, line_width)


def _aligned(lines: str | list[tuple[str, str]], line_width: float) -> str:
    """:func:`to_latex`'s lines, each right side broken to ``line_width``; in an
    ``aligned`` environment, under their ``=``, where there are several lines. Where a
    piece that cannot be broken (a wide fraction) does not fit under the ``=`` but would
    from the left edge, every equation is set from the left edge instead (``&y = ...``),
    its lines continued a quad in from there. A fraction is written with a solidus
    (``\\left(N\\right) / D``, broken inside its parentheses) only where neither keeps
    every line within ``line_width``."""
    if line_width == math.inf:  # one line per equation: nothing to measure
        return lines if isinstance(lines, str) else _environment([f"{left} &= {right}" for left, right in lines])

    def rows(right: str, room: float, indent: float = _INDENT, solidus: bool = True) -> list[str]:
        first, *rest = wrap(right, room, indent, solidus=solidus)
        return [first, *(r"&\quad " + continued(row) for row in rest)]

    if isinstance(lines, str):  # a node's expression: aligned on its left edge
        out = rows(lines, line_width, solidus=False)
        if max(map(latex_width, out)) > line_width:
            broken = rows(lines, line_width)
            if max(map(latex_width, broken)) < max(map(latex_width, out)):
                out = broken
        if len(out) == 1:
            return out[0]
        out[0] = "&" + out[0]
    else:
        lead = max((latex_width(left) for left, _ in lines), default=0.0) + 2.0  # " = "

        def under(solidus: bool) -> tuple[list[str], float]:  # under the =, and how far past line_width
            out, excess = [], 0.0
            for left, right in lines:
                first, *rest = rows(right, line_width - lead, solidus=solidus)
                out += [f"{left} &= {first}", *rest]
                excess = max(excess, lead + latex_width(first) - line_width,
                             *(lead + latex_width(row[1:]) - line_width for row in rest))
            return out, excess

        def from_edge(solidus: bool) -> tuple[list[str], float]:  # from the left edge: room for what is too wide
            edge, over = [], 0.0
            for left, right in lines:
                own = latex_width(left) + 2.0
                first, *rest = rows(right, line_width - own, _INDENT - own, solidus)
                edge += [f"&{left} = {first}", *rest]
                over = max(over, *(latex_width(row[1:]) - line_width for row in edge[-len(rest) - 1:]))
            return edge, over

        out, excess = under(False)
        for layout in (lambda: from_edge(False), lambda: under(True), lambda: from_edge(True)):
            if excess <= 0:
                break
            other, over = layout()
            if over < excess and (len(other) > 1 or not other[0].startswith("&")):  # (&y = ... alone: no)
                out, excess = other, over
    return _environment(out)


def _environment(out: list[str]) -> str:
    """The lines ``out`` of :func:`_aligned` in an ``aligned`` environment; one equation
    alone as it is (``y = ...``), none as nothing (the adjoint of a constant)."""
    if len(out) <= 1:
        return out[0].replace(" &= ", " = ", 1) if out else ""
    return "\\begin{aligned}\n" + " \\\\\n".join(out) + "\n\\end{aligned}"


#: a continued line's indent after the ``=`` (``\quad``, an em), in letters
_INDENT = 1.75


def _lines(g: Graph, result: Any, form: str, symbols: Symbols) -> str | list[tuple[str, str]]:
    """:func:`to_latex`'s ``(left side, right side)`` lines of a layout (a node's: its expression)."""
    if isinstance(result, Entry):
        return result.text
    expanded = form == "expanded" and not _is_program(result, g)
    return [(lhs(g, name, symbols) if expanded else symbols(name), entry.text) for name, entry in result]


def spelled_latex(name: str) -> str:
    r"""A name as it is spelled, in typewriter type: ``x_1`` -> ``\mathtt{x\_1}``."""
    return r"\mathtt{" + _escaped(name) + "}"


def _is_program(lines: list, g: Graph) -> bool:
    # layout() fell back to the program form: its lines are not just the outputs
    return [n for n, _ in lines] != (g.outputs or [n for n, _ in lines])


def lhs(g: Graph, name: str, symbol: Callable[[str], str]) -> str:
    r"""The left-hand side of output ``name``: ``\frac{\partial y}{\partial x}`` for an
    adjoint, ``\left(\nabla^{2} y \, v\right)_{x}`` for a block of a Hessian-vector product,
    ``u_{y}^{\top} \frac{\partial y}{\partial x}`` for a vector-Jacobian product
    (``symbol``: how a name prints)."""
    data = g.nx.nodes[name]
    hvp = data.get("hvp")
    if hvp:  # cg.hvp_graph's hv_<x>: (y, x, v_<x>)
        return rf"\left(\nabla^{{2}} {symbol(hvp[0])} \, v\right)_{{{symbol(hvp[1])}}}"
    vjp = data.get("vjp")
    if vjp:  # cg.vjp_graph's g_<x>: (y, x, u_<y>)
        u = _power_of(symbol(vjp[2]), r"\top")
        return rf"{u} \frac{{\partial {symbol(vjp[0])}}}{{\partial {symbol(vjp[1])}}}"
    partial = data.get("partial")
    if not partial:
        return symbol(name)
    base, wrt = partial[0], list(partial[1])
    top = r"\partial " + symbol(base) if len(wrt) == 1 else rf"\partial^{{{len(wrt)}}} {symbol(base)}"
    groups = [(w, len(list(run))) for w, run in itertools.groupby(wrt)]  # d2y/dx2: x twice in a row
    bottom = r" \, ".join(
        r"\partial " + _power_of(symbol(w), k) for w, k in groups
    )
    return rf"\frac{{{top}}}{{{bottom}}}"


def _power_of(symbol: str, k: int | str) -> str:
    if k == 1:
        return symbol
    return rf"\left({symbol}\right)^{{{k}}}" if superscripted(symbol) else f"{symbol}^{{{k}}}"


def superscripted(symbol: str) -> bool:
    r"""True when a LaTeX symbol carries a superscript of its own (``w_{1,2}^{(1)}``,
    ``\beta^{t}``, ``g_{x}^{(2)}``; not ``g_{W^{(2)}}``, where it is inside a subscript):
    a power of it needs parentheses, as ``w^{(1)}^{2}`` is a double superscript."""
    depth = 0
    for ch in symbol:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "^" and depth == 0:
            return True
    return False


def _name_prec(symbol: str) -> int:
    # \mathrm{x^{2}} (a name x²) compiles raised to a power, but reads as x^{22}
    return Prec.POW if superscripted(symbol) or symbol.startswith(r"\mathrm{") and "^{" in symbol else Prec.ATOM


def latex_name(name: str) -> str:
    r"""A node name as a LaTeX symbol: ``x1``/``x_1`` -> ``x_{1}``, ``alpha`` -> ``\alpha``,
    ``g_x`` -> ``g_{x}``, ``w1_2`` -> ``w_{1,2}``, ``yhat`` -> ``\hat{y}``, ``xbar1`` ->
    ``\bar{x}_{1}``, ``loss`` -> ``\mathrm{loss}``; a name written as TeX keeps its
    scripts (``w_{1,2}^{(1)}``, ``x^(n)`` -> ``x^{(n)}``, ``g_W^{(2)}`` -> ``g_{W^{(2)}}``).
    An adjoint ``g_<name>`` is g with ``<name>`` as printed here as its subscript, so the
    adjoint of an adjoint is ``g_{g_{x}}``; ``g2_<name>``, the adjoint of a second sweep,
    is ``g_{x}^{(2)}``, as the diagrams write it. A name ``e`` is ``\\mathtt{e}`` (as a
    name that clashes is spelled out): ``e`` is Euler's number, ``e^{x}`` the exponential.

    Examples
    --------
    >>> latex_name("w_{j,i}^{(l)}"), latex_name("g_W^{(2)}"), latex_name("beta^t")
    ('w_{j,i}^{(l)}', 'g_{W^{(2)}}', '\\beta^{t}')
    >>> latex_name("g_g_x"), latex_name("g2_x")
    ('g_{g_{x}}', 'g_{x}^{(2)}')
    """
    name = spelled(name)  # α1 -> alpha1, ŷ -> yhat
    orders = []  # g_<name>, g2_<name>: peeled in a loop, not a recursion (g_g_..._x may be long)
    while True:
        head, sep, tail = name.partition("_")
        # the adjoint of a scripted name (not of an adjoint's: g_x^(n) in g_g_x^(n) is g of x^(n))
        parts = scripted(tail) if head == "g" and not ADJOINT_NAME.fullmatch(tail) else None
        if parts:
            text = f"g_{{{_scripted_latex(*parts)}}}"
            break
        m = ADJOINT_NAME.fullmatch(name)
        if m and not scripted(name) and not (m.group(1) and m.group(2).isdecimal()):  # g1_2 is g_{1,2}, as w1_2
            orders.append(f"^{{({m.group(1)})}}" if m.group(1) else "")
            name = m.group(2)
            continue
        bare = name.rstrip("'") or name  # `x'`, `W1'`: the primes follow the name's scripts
        text, primes = _plain_name(bare, *bare.partition("_")), len(name) - len(bare)
        if primes and superscripted(text):  # x^{(1)}' is a double superscript: x^{(1)\prime}
            text = text[:-1] + r"\prime" * primes + "}"
        else:
            text += "'" * primes
        if not orders and (text == "e" or text.startswith("e^{")):
            text = r"\mathtt{e}" + text[1:]  # a variable e: e^{x} is exp(x) (in a subscript, g_{e}, it reads as a name)
        break
    for order in reversed(orders):
        text = f"g_{{{text}}}{order}"
    return text


def _plain_name(name: str, head: str, sep: str, tail: str) -> str:
    """:func:`latex_name` of a name that is not an adjoint's (``head, sep, tail``: its
    partition at the first underscore)."""
    parts = scripted(name)
    if parts:
        return _scripted_latex(*parts)
    if not sep or not head or not tail:
        m = _INDEXED.fullmatch(name)
        return f"{_symbol(m.group(1))}_{{{m.group(2)}}}" if m else _symbol(name)
    if tail in _ACCENTS and _accentable(head):  # y_hat -> \\hat{y}, as the diagrams draw it
        return _symbol(head + tail)
    if "_" in tail:  # input_feature_vector: a word, as the diagrams write it, not input_{feature\\_vector}
        return _symbol(name)
    m = _INDEXED.fullmatch(head)
    if m:
        return f"{_symbol(m.group(1))}_{{{m.group(2)},{_sub(tail)}}}"
    return f"{_symbol(head)}_{{{_sub(tail)}}}"


def _scripted_latex(base: str, sub: str, sup: str) -> str:
    return _symbol(base) + (f"_{{{sub}}}" if sub else "") + (f"^{{{sup}}}" if sup else "")


def _sub(text: str) -> str:
    parts = scripted(text)
    if parts:
        return _scripted_latex(*parts)
    if text.isascii() and text.isdigit():
        return text
    reading = index(text)  # S_tm1 is S_{t-1}, x_i1 x_{i1}, as the diagrams draw them
    if reading:
        return reading
    m = _INDEXED.fullmatch(text)
    if m:
        return f"{_symbol(m.group(1))}_{{{m.group(2)}}}"
    return _symbol(text)


def _accentable(base: str) -> bool:
    # (eps, lam and ell too: eps_hat is \hat{\epsilon}, as the diagrams draw it, not \epsilon_{\mathrm{hat}})
    return len(base) == 1 and base.isascii() and base.isalpha() or _GREEK_ALIASES.get(base, base) in GREEK or base == "ell"


def _symbol(text: str) -> str:
    bare = text.rstrip("'")
    if bare and bare != text:  # a primed subscript, w_{1'}
        return _symbol(bare) + "'" * (len(text) - len(bare))
    for mark in _ACCENTS:  # yhat -> \hat{y}, thetabar -> \bar{\theta}, as SymPy names them
        base = text[: -len(mark)]
        if text.endswith(mark) and _accentable(base):
            return f"{_symbol(base)}'" if mark == "prime" else f"\\{mark}{{{_symbol(base)}}}"
    text = _GREEK_ALIASES.get(text, text)
    if text in GREEK or text == "ell":  # the lecture's loss is \ell
        return "\\" + text
    if len(text) == 1 and text in GREEK_LETTERS:
        return "\\" + GREEK_LETTERS[text]
    escaped = _escaped(text)
    if len(text) == 1 and (text.isascii() and text.isalpha()):
        return escaped
    if text.isascii() and text.isdigit():
        return text
    return r"\mathrm{" + escaped + "}"


def _escaped(text: str) -> str:
    r"""``text`` with its characters as pdflatex takes them inside ``\mathrm{…}``: TeX's
    special characters escaped (``\%``, ``\{``); Greek letters and a few symbols as
    macros (``αβ`` -> ``{\alpha}{\beta}``); composed letters as accents (``é`` ->
    ``\acute{e}``; with a mark no math accent has, as text: ``\text{ç}``); super- and
    subscript digits as scripts (``x²`` -> ``x^{2}``); spaces kept (``\ ``) and
    invisible characters dropped (a line break or tab would end the math). Others
    (``中``) stay as they are, for XeLaTeX or LuaLaTeX."""
    if text.isascii() and text.isprintable() and " " not in text:
        return "".join(_SPECIAL.get(ch, ch) for ch in text)
    out: list[str] = []
    scripts = ""  # the scripts written since the last character: x₁² is x_{1}^{2}, x²₁² x^{2}_{1}{}^{2}
    for ch in unicodedata.normalize("NFC", text):
        kind, digit = _SCRIPTS.get(ch, ("", ""))
        if kind:
            if scripts[-1:] == kind:
                out[-1] = out[-1][:-1] + digit + "}"
            else:
                out.append(("{}" if kind in scripts or not out else "") + f"{kind}{{{digit}}}")
                scripts = "" if kind in scripts else scripts
                scripts += kind
            continue
        if ch == "'" and "^" in scripts:  # x²' is x^{2\prime}: x^{2}' is a double superscript
            if scripts[-1] == "^":
                out[-1] = out[-1][:-1] + r"\prime}"
            else:  # x²₁' -> x^{2}_{1}{}^{\prime}
                out.append(r"{}^{\prime}")
                scripts = "^"
            continue
        if unicodedata.category(ch) in ("Cc", "Cf") and not ch.isspace():  # a control character, a zero-width
            continue  # space: dropped, and the scripts around it are one (x₁<ZWSP>₂ is x_{12}, not x_{1}_{2})
        scripts = ""
        base, *marks = unicodedata.normalize("NFD", ch)
        if ch.isspace():
            out.append("\\ ")
        elif unicodedata.combining(ch):  # a mark NFC could not compose with the letter before it
            if ch in _COMBINING and out:
                out[-1] = f"\\{_COMBINING[ch]}{{{out[-1]}}}"
        elif ch.isascii():
            out.append(_SPECIAL.get(ch, ch))
        elif ch in GREEK_LETTERS:
            out.append(f"{{\\{GREEK_LETTERS[ch]}}}")
        elif ch in _UNICODE_SYMBOLS:
            out.append(f"{{{_UNICODE_SYMBOLS[ch]}}}")
        elif marks and (base.isascii() and base.isalpha() or base in GREEK_LETTERS):  # é, ά (alpha, acute)
            if base in GREEK_LETTERS:
                base = "{\\" + GREEK_LETTERS[base] + "}"  # (braced: ἀx with the mark dropped is {\alpha}x)
            elif base in "ij" and marks[0] in _COMBINING:
                base = "\\" + base + "math"  # ï: the dots replace i's dot
            for m in marks:  # a mark no math accent has: a cedilla as text (ç), others dropped
                base = f"\\{_COMBINING[m]}{{{base}}}" if m in _COMBINING else (
                    f"\\text{{\\c{{{base}}}}}" if m == "\u0327" and base.isalpha() else base)
            out.append(base)
        elif unicodedata.normalize("NFKC", ch) != ch:  # ǅ is Dž, ﬁ fi, ½ 1⁄2
            out.append(_escaped(unicodedata.normalize("NFKC", ch)))
        else:
            out.append(ch)
    return "".join(out)


#: the most columns amsmath's bmatrix takes (its MaxMatrixCols)
_MATRIX_COLUMNS = 10


def number_latex(value: Any) -> Entry:
    r"""A constant as LaTeX: ``3``, ``\frac{1}{2}``, ``2.5 \cdot 10^{-5}``."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return number_latex(value.item())
        rows = np.atleast_2d(value)
        if value.ndim > 2:
            # its shape as one subscript: array_{2}{\times}2 set all but the first size on
            # the line, read as a product array_2 \times 2
            return Entry(r"\mathrm{array}_{" + r" \times ".join(map(str, value.shape)) + "}", Prec.ATOM)
        body = r" \\ ".join(" & ".join(number_latex(v).text for v in row) for row in rows.tolist())
        if rows.shape[1] > _MATRIX_COLUMNS:  # bmatrix stops there: Extra alignment tab has been changed to \cr
            columns = "@{}" + "c" * rows.shape[1] + "@{}"  # (@{}: no padding at the edges, as bmatrix)
            return Entry(rf"\left[\begin{{array}}{{{columns}}} " + body + r" \end{array}\right]", Prec.ATOM)
        return Entry(r"\begin{bmatrix} " + body + r" \end{bmatrix}", Prec.ATOM)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return number_latex(int(value))
        sign = "-" if value < 0 else ""
        # a \frac binds as a quotient does: (1/3)^x needs its parentheses, as (x/z)^2 does
        return Entry(rf"{sign}\frac{{{int_text(abs(value.numerator))}}}{{{int_text(value.denominator)}}}",
                     Prec.UNARY if sign else Prec.POW)
    if isinstance(value, float):
        if math.isnan(value):
            return Entry(r"\mathrm{NaN}", Prec.ATOM)
        if math.isinf(value):
            return Entry(r"-\infty" if value < 0 else r"\infty", Prec.UNARY if value < 0 else Prec.ATOM)
        text = repr(value)
        if "e" in text:
            mantissa, exponent = text.split("e")
            text = rf"{mantissa} \cdot 10^{{{int(exponent)}}}"
            return Entry(text, Prec.UNARY if value < 0 else Prec.MUL)
    text = int_text(value) if isinstance(value, int) and not isinstance(value, bool) else str(value)
    return Entry(text, Prec.UNARY if text.startswith("-") else Prec.ATOM)


#: the functions printed as a word (\ln, \max), which a variable of that name looks like (\mathrm{ln});
#: not \sum, a large sign
_WORD_MACROS = frozenset("ln log exp sin cos tan tanh max min".split())
_CALL = re.compile(r"(?:\\operatorname\{\{([^{}]+)\}\}|\\([A-Za-z]+)|([A-Za-z]))(?:\{sub\})?\\left\(")


#: the registry's ops and their call symbols, as last read (:func:`call_symbols`)
_calls_read: tuple[tuple[Any, ...], frozenset[str]] = ((), frozenset())


def call_symbols() -> frozenset[str]:
    r"""The symbols a variable may print as that are also a function's, as the OpDefs'
    templates write them: ``\sigma`` (sigmoid), ``H`` (step), ``\mathrm{ln}`` (as ``\ln``),
    ``\mathrm{softmax}`` (as ``\operatorname{softmax}``), and as the text form names them
    (``\mathrm{sigmoid}``, ``\mathrm{exp}``). A variable ``sigma`` times ``(x + 1)``
    printed ``\sigma \left(x + 1\right)``, the sigmoid of x + 1; it is
    ``\sigma \cdot \left(x + 1\right)``, as the text form writes ``sigma*(x + 1)``
    (:func:`cgraph.printing.render.reads_as_applied`).

    >>> sorted(call_symbols())[:3]
    ['H', '\\mathrm{ReLU}', '\\mathrm{abs}']
    """
    global _calls_read
    ops = tuple(OPS.values())  # (read per call: cg.register may add an op)
    if ops == _calls_read[0]:
        return _calls_read[1]
    symbols = set()
    for opdef in ops:
        if (opdef.text or "").startswith(opdef.name + "("):  # sigmoid(x), sum_to(x, y)
            symbols.add(latex_name(opdef.name))
        m = _CALL.match(opdef.latex or "")
        if not m:
            continue
        word, macro, letter = m.groups()
        if word:
            symbols.add(latex_name(word.replace("\\_", "_")))
        elif macro in GREEK:
            symbols.add("\\" + macro)
        elif macro in _WORD_MACROS:
            symbols.add(latex_name(macro))
        elif letter:
            symbols.add(letter)
    _calls_read = ops, frozenset(symbols)
    return _calls_read[1]


LATEX = Style(latex=True, name=latex_name, number=number_latex, open=r"\left(", close=r"\right)", name_prec=_name_prec)
