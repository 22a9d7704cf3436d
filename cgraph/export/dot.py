"""Shared DOT helpers: safe text, pretty math names, stable ids and deterministic pydot objects.

Every string a user controls (node names, values) reaches Graphviz only through
:func:`html_text` (inside HTML-like labels) or :func:`quote` (double-quoted strings),
after :func:`clean`. DOT ids are opaque (``n0``, ``n1`` ... in a stable topological order)
so no name can become a port, a keyword or a statement; attribute names come from the
exporters' own code, never from user data.
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Mapping
from fractions import Fraction
from functools import lru_cache
from math import log10
from numbers import Number
from typing import Any

import networkx as nx
import numpy as np
import pydot

from ..errors import ExportError
from ..graph import Graph
from ..memory import gc_paused
from ..ops.shapes import is_int
from ..printing.names import ADJOINT_NAME, index, scripted, spelled
from .dottext import dot_text, writer_ok
from .recipe import NotPlain, Part, materialize, pending_text, recipe_ok

__all__ = [
    "MAX_LABEL",
    "NBSP",
    "clean",
    "drawing_order",
    "dot_graph",
    "edge",
    "format_value",
    "formula",
    "html_label",
    "html_text",
    "math",
    "math_name",
    "node",
    "node_ids",
    "quote",
    "sorted_attrs",
    "with_labels",
    "spaced",
    "sub",
    "sup",
]

#: longest user text (in characters) put into one label; Graphviz rejects strings over 16384
MAX_LABEL = 80
FONT = "DejaVu Sans"
MATH_FONT = "DejaVu Serif"

_GREEK = {
    "alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "eps": "ε",
    "zeta": "ζ", "eta": "η", "theta": "θ", "kappa": "κ", "lambda": "λ", "lam": "λ", "mu": "μ",
    "nu": "ν", "xi": "ξ", "pi": "π", "rho": "ρ", "sigma": "σ", "tau": "τ", "phi": "φ",
    "chi": "χ", "psi": "ψ", "omega": "ω", "Gamma": "Γ", "Delta": "Δ", "Theta": "Θ",
    "Lambda": "Λ", "Sigma": "Σ", "Phi": "Φ", "Psi": "Ψ", "Omega": "Ω", "ell": "ℓ",
    "iota": "ι", "upsilon": "υ", "Xi": "Ξ", "Pi": "Π", "Upsilon": "Υ", "varepsilon": "ε",
    "vartheta": "ϑ", "varphi": "ϕ", "varpi": "ϖ", "varrho": "ϱ", "varsigma": "ς",
}  # fmt: skip
# the accents to_latex sets (a prime is not a combining mark: it follows its letter)
_HATS = {"hat": "\u0302", "bar": "\u0304", "tilde": "\u0303", "dot": "\u0307", "ddot": "\u0308",
         "vec": "\u20d7", "prime": "′"}
_SIMPLE = re.compile(r"([A-Za-z]+?)(?:_?(\d+)|_([A-Za-z0-9]+))?(?:_?(hat|bar|tilde|ddot|dot|vec|prime))?")
_DOUBLE_INDEX = re.compile(r"([A-Za-z]+)(\d+)_([A-Za-z0-9]+)")
_ELL = re.compile(r"(?:^|(?<=_))ℓ(?=[0-9_^{]|$)")  # the lecture's loss, typed as itself: read as ell
_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9_…]*")  # a snake_case name, perhaps cut (…) to its limit


def clean(text: Any, limit: int = MAX_LABEL) -> str:
    """``text`` as a string Graphviz accepts: no control characters or lone surrogates, capped.

    Examples
    --------
    >>> clean("a\\x00b\\tc")
    'ab c'
    >>> clean("x" * 100, limit=10)
    'xxxxxxxxx…'
    """
    s = str(text)
    if not (s.isascii() and s.isprintable()):  # printable ASCII (most text) passes unchanged
        out = []
        for ch in s:
            if ch in "\t\n":
                out.append(" " if ch == "\t" else ch)
            elif 0xD800 <= ord(ch) <= 0xDFFF:
                out.append("\ufffd")  # a lone surrogate cannot be encoded as UTF-8
            elif unicodedata.category(ch) in ("Cc", "Cs"):
                continue  # NUL and other control characters are syntax errors in DOT
            else:
                out.append(ch)
        s = "".join(out)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def quote(text: Any, limit: int = MAX_LABEL) -> str:
    """A double-quoted DOT string showing ``text`` literally (pydot emits it verbatim).

    Examples
    --------
    >>> print(quote('C:\\\\path\\\\ "q"'))
    "C:\\\\path\\\\ \\"q\\""
    """
    s = clean(text, limit).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{s}"'


def html_text(text: Any, limit: int = MAX_LABEL) -> str:
    """``text`` escaped for the inside of an HTML-like label (shown literally).

    Examples
    --------
    >>> html_text("a<b & \\\\N")
    'a&lt;b &amp; \\\\\\\\N'
    """
    return _html_text(str(text), limit)


@lru_cache(maxsize=4096)
def _html_text(text: str, limit: int) -> str:
    # labels recur (op symbols, constants): a drawing of 10^5 boxes escapes a few dozen texts
    s = html.escape(clean(text, limit), quote=True)
    if not s:
        return "&#160;"  # Graphviz rejects empty HTML elements such as <FONT></FONT>
    # Graphviz still expands escapes such as \\N inside HTML labels: double every backslash.
    # Graphviz 2.43's HTML lexer rejects a text run of only ']' (``<I>]</I>``): use &#93;
    return s.replace("\\", "\\\\").replace("]", "&#93;").replace("\n", "<BR/>")


def html_label(fragment: str) -> str:
    """Wrap an already escaped HTML fragment as a DOT HTML-like label (never ``<>``)."""
    return f"<{fragment if fragment.strip() else ' '}>"


def math_name(name: Any, *, size: float = 14, italic: bool = True, limit: int = MAX_LABEL) -> str:
    """An HTML fragment showing a variable name as math: ``x1``, ``x_1`` -> x<SUB>1</SUB>.

    Recognised forms are a letter word with an optional index (``W1``, ``x_12``,
    ``z_out``), Greek letter names (``alpha``, ``beta1_2`` -> β₁,₂), accents (``y_hat`` -> ŷ,
    ``xbar_1`` -> x̄₁) and adjoint
    names ``g_<name>`` (g with the name as subscript; ``g2_<name>`` for a second
    adjoint; ``g_g_x``, an adjoint's adjoint, nests as ``to_latex``'s g_{g_{x}}), two
    indices ``w1_2`` (w₁,₂, as ``to_latex`` writes it) and names in the
    lecture's notation (``w_{j,i}^{(l)}``, ``x^(n)``, ``G_{t-1}``: see
    :func:`cgraph.printing.names.scripted`). Anything else is shown literally, a name longer than ``limit``
    characters as its start, ``…`` and its end (names that differ only at the end,
    ``layer_3_out``/``layer_3_in``, stay apart). ``size`` is the font size in points
    the fragment is set in (indices are set smaller).

    Examples
    --------
    >>> math_name("x_1")
    '<I>x</I><SUB><FONT POINT-SIZE="10">1</FONT></SUB>'
    >>> math_name("y_hat")
    '<I>ŷ</I>'
    >>> math_name("a<b")
    'a&lt;b'
    >>> math_name("activation_of_layer_three_output", limit=16)
    'activati…_output'
    >>> math_name("activation", limit=5)
    'ac…on'
    """
    text = clean(name, 10**6)
    if len(text) > limit:
        tail = min(7, max(limit - 1, 0) // 2)  # (limit - 8 and -7 made a short limit longer)
        text = text[: max(limit - 1 - tail, 0)] + "…" + text[len(text) - tail:]
    written, text = text, _ELL.sub("ell", spelled(text))  # α1 -> alpha1, ŷ -> yhat, ℓ_1 -> ell_1, as to_latex reads them
    bare = text.rstrip("'")
    if bare and bare != text:  # `x'`: x′, as yprime
        m = ADJOINT_NAME.fullmatch(text)
        inner = m.group(2).rstrip("'") if m else ""
        if inner and not (m.group(1) and inner.isdecimal()):  # g_x': g with x′ below, as to_latex's g_{x'}
            order = sup(f"({m.group(1)})", size) if m.group(1) else ""  # (not g_x′ nor g_x^(2)′, primes of g)
            shown = math_name(m.group(2), size=small(size), italic=italic, limit=10**6)
            word = _SIMPLE.fullmatch(inner)
            if not _adjoint_of_adjoint(m) and (  # (g_g_x' is g_{g_{x′}})
                    word and _word_index(word.group(3)) or not word and _WORDS.fullmatch(inner)):
                shown = html_text(inner) + "′" * (len(m.group(2)) - len(inner))  # g_learning_rate': as below
            return f"{_it('g', italic)}{sub(shown, size)}{order}"
        return math_name(bare, size=size, italic=italic, limit=limit) + "′" * (len(text) - len(bare))
    m = ADJOINT_NAME.fullmatch(text)
    if m and _adjoint_of_adjoint(m):  # g_g_x: g with g_x below, as to_latex's g_{g_{x}}
        return _nested_adjoint(text, size, italic)
    if m and (scripted(m.group(2)) or _DOUBLE_INDEX.fullmatch(m.group(2))):  # g_w_{1,2}^{(1)}, g_w1_2
        order = sup(f"({m.group(1)})", size) if m.group(1) else ""
        return f"{_it('g', italic)}{sub(math_name(m.group(2), size=small(size), italic=italic), size)}{order}"
    if parts := scripted(text):
        return _scripted_html(parts, size, italic)
    if m and (inner_m := _SIMPLE.fullmatch(m.group(2))):
        order = sup(f"({m.group(1)})", size) if m.group(1) else ""
        inner = math_name(m.group(2), size=small(size), italic=italic)
        if _word_index(inner_m.group(3)):  # Graphviz sets a SUB in a SUB on one
            inner = html_text(written.split("_", 1)[1])  # level: g_learning_rate would read g_learningrate
        return f"{_it('g', italic)}{sub(inner, size)}{order}"  # g_x^(2), as w_{j,i}^{(l)} and to_latex
    if m and _WORDS.fullmatch(m.group(2)):  # g_input_feature_vector: g with its name below, as g_bias_first
        return f"{_it('g', italic)}{sub(html_text(written.split('_', 1)[1]), size)}" + (sup(f"({m.group(1)})", size) if m.group(1) else "")
    m = _SIMPLE.fullmatch(text)
    if not m and (m2 := _DOUBLE_INDEX.fullmatch(text)):  # w1_2 -> w_{1,2}, beta1_2 -> β_{1,2}, as to_latex writes them
        base, letter = _base(m2.group(1))
        second = _script(reading, italic) if (reading := index(m2.group(3))) else _index_word(m2.group(3), italic)
        return _it(base, italic and letter) + sub(f"{html_text(m2.group(2))},{second}", size)
    if not m:
        return html_text(written)  # as written: the spelled Ω_é would show 'Omega_é'
    base, digits, word, accent = m.groups()
    if not accent:  # xbar_1, thetahat2, yhat_true: x̄₁, θ̂₂, ŷ_true, as to_latex sets them
        base, accent = _letter(base)
    base = _GREEK.get(base, base)
    if word in _HATS and not accent and len(base) == 1:
        word, accent = None, word
    if accent and len(base) > 1:  # robothat is a word, as in to_latex; yhat, thetahat are ŷ, θ̂
        return html_text(written)
    slanted = italic and len(base) == 1  # math style: one-letter names italic, words upright
    if accent:
        base = unicodedata.normalize("NFC", base[0] + _HATS[accent] + base[1:])
    if word and (reading := index(word)):  # S_tm1: S with t−1 below, x_i1 with i1, as to_latex's S_{t-1}, x_{i1}
        return _it(base, slanted) + sub(_script(reading, italic), size)
    if word and _letter_index(word):  # x_t, W_t, alpha_j: one letter, italic as to_latex's x_{t}
        return _it(base, slanted) + sub(_index_word(word, italic), size)
    shown = digits or (_GREEK.get(word, word) if word else "")
    return _it(base, slanted) + (sub(html_text(shown), size) if shown else "")


def _letter_index(word: str) -> bool:
    """Whether a subscript word is one letter (``t``, ``T``; ``theta``: θ), which math sets
    italic (to_latex's x_{t}, x_{\\theta}), not a word such as ``out`` or ``max`` (upright)."""
    letter = _GREEK.get(word, word)
    return len(letter) == 1 and letter.isalpha() and not ("Α" <= letter <= "Ω")


def _index_word(word: str, italic: bool) -> str:
    """A subscript word as HTML: one letter italic (:func:`_letter_index`), a word upright."""
    return _it(_GREEK.get(word, word), italic) if _letter_index(word) else html_text(_GREEK.get(word, word))


def _word_index(word: str | None) -> bool:
    # an index word shown as written under an adjoint's g (g_learning_rate), not an accent
    # (g_y_hat) nor an index read by names.index (g_S_tm1 is g with S_{t−1} below)
    return bool(word) and word not in _HATS and index(word) is None and not _letter_index(word)


def _letter(word: str) -> tuple[str, str | None]:
    """``(letter, accent)`` of a word that is one letter, Latin or a Greek name, followed by
    an accent's name (``xbar``, ``thetahat``: to_latex's \\bar{x}, \\hat{\\theta}); else
    ``(word, None)``.

    Examples
    --------
    >>> _letter("xbar"), _letter("thetahat"), _letter("robothat"), _letter("beta")
    (('x', 'bar'), ('θ', 'hat'), ('robothat', None), ('beta', None))
    """
    for accent in _HATS:
        stem = word[: -len(accent)]
        stem = _GREEK.get(stem, stem)
        if word.endswith(accent) and len(stem) == 1 and stem.isalpha():
            return stem, accent
    return word, None


def _base(word: str) -> tuple[str, bool]:
    """A name's base word as shown before its indices, and whether it is one letter (set
    italic): ``xbar`` -> x̄, ``beta`` -> β, ``W`` -> W, ``robot`` -> robot (a word)."""
    base, accent = _letter(word)
    base = _GREEK.get(base, base)
    if accent:
        return unicodedata.normalize("NFC", base + _HATS[accent]), True
    return base, len(base) == 1


def _adjoint_of_adjoint(m: re.Match) -> bool:
    # (g1_2 is g_{1,2}, as w1_2 and as to_latex reads it, not the adjoint of a name '2')
    inner = ADJOINT_NAME.fullmatch(m.group(2))
    return bool(inner) and not (inner.group(1) and inner.group(2).isdecimal())


def _nested_adjoint(text: str, size: float, italic: bool) -> str:
    """``g_g_x``, ``g2_g_x``, ``g_g2_x``: each adjoint's name the subscript of the next g,
    peeled in a loop (g_g_..._x may be long); the innermost name as :func:`math_name` shows it."""
    orders, sizes = [], [size]
    m = ADJOINT_NAME.fullmatch(text)
    while m and _adjoint_of_adjoint(m):
        orders.append(m.group(1))
        text = m.group(2)
        sizes.append(max(small(sizes[-1]), 5))  # (a g_g_g_g_x stays legible)
        m = ADJOINT_NAME.fullmatch(text)
    fragment = math_name(text, size=sizes[-1], italic=italic, limit=10**6)
    for order, outer in zip(reversed(orders), reversed(sizes[:-1])):
        fragment = f"{_it('g', italic)}{sub(fragment, outer)}" + (sup(f"({order})", outer) if order else "")
    return fragment


def _scripted_html(parts: tuple[str, str, str], size: float, italic: bool) -> str:
    """A scripted name (see :func:`cgraph.printing.names.scripted`) with real sub- and
    superscripts, letters in them italic as in math: w<sub>j,i</sub><sup>(l)</sup>."""
    base, lower, upper = parts
    base, letter = _base(base)  # xhat_{t-1}: x̂, as to_latex's \hat{x}_{t-1}
    return (_it(base, italic and letter) + (sub(_script(lower, italic), size) if lower else "")
            + (sup(_script(upper, italic), size) if upper else ""))


def _script(text: str, italic: bool) -> str:
    """A TeX sub- or superscript's text (``t-1``, ``(l)``) in HTML: letters italic, as in math."""
    pieces = re.split(r"([A-Za-z]+)", text)
    return "".join(_it(p, italic) if i % 2 else html_text(p.replace("-", "−")) for i, p in enumerate(pieces) if p)


_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_][A-Za-z0-9_]*|`[^`]*`)|(?P<num>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)|(?P<op>\S))")
NBSP = "\u00a0"
_JOIN = "\u2060"  # a zero-width word joiner: keeps SVG viewers from stripping the spaces beside it


def spaced(text: str, space: str = NBSP) -> str:
    """``text`` with a space either side that survives at the edge of an SVG text run
    (Graphviz writes each font change as its own run, and viewers strip edge spaces)."""
    return f"{_JOIN}{space}{text}{space}{_JOIN}"


# a product's dot is spaced like "=": with thinner spaces it touches an italic index before it
# (g_f·(1/a)): Graphviz advances by the letter's width and an italic f or d overhangs it
_OPS = {"*": spaced("·"), "-": "−", "/": "/", "+": "+", "@": spaced("@")}


def formula(text: str, *, size: float = 14) -> str:
    """An HTML fragment showing a cgraph formula (``g_e*(-a/b^2)``) as math, set in the
    math typeface (:func:`math`): names with real subscripts, ``·`` for ``*``, ``−``
    for ``-`` and ``^`` as a superscript (of a name, a number or a parenthesised group,
    ``x^(-3)`` -> x⁻³).

    Examples
    --------
    >>> formula("g_c = g_f*(1/a)").replace(spaced("="), " = ").replace(spaced("·"), " · ")
    '<FONT FACE="DejaVu Serif"><I>g</I><SUB><FONT POINT-SIZE="10"><I>c</I></FONT></SUB> = <I>g</I><SUB><FONT POINT-SIZE="10"><I>f</I></FONT></SUB> · (1/<I>a</I>)</FONT>'
    """
    return math(_formula(clean(text, 400), size))


def _formula(text: str, size: float) -> str:
    out, pos, raise_next, operand = [], 0, False, False
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        if raise_next and m["op"] == "(" and (end := _closing(text, pos)) is not None:
            # x^(-3): the group without its parentheses, as a superscript (text needs them, math does not)
            out.append(sup(_formula(text[pos:end], small(size)), size))
            pos, raise_next, operand = end + 1, False, True
            continue
        if m["name"] and m["name"][0] != "`" and text[pos:pos + 1] == "(":
            piece = html_text(m["name"])  # a function (sum_to, log_softmax) is a word, not a name with an index
        elif m["name"]:
            piece = math_name(m["name"].strip("`"), size=size)  # `w_{1,1}^{(1)}` as to_text quotes it
        elif m["num"]:
            piece = html_text(m["num"])
        elif m["op"] == "^":
            raise_next = True
            continue
        elif m["op"] == "=":
            piece = spaced("=")
        elif m["op"] in "+-" and operand:  # binary: spaced; unary: tight
            piece = spaced(_OPS[m["op"]])
        else:
            piece = html_text(_OPS.get(m["op"], m["op"]))
        operand = bool(m["name"] or m["num"]) or m["op"] == ")"
        if raise_next and (m["name"] or m["num"]):
            piece = sup(piece, size)
        elif raise_next:
            piece = "^" + piece
        raise_next = False
        out.append(piece)
    return "".join(out)


def _closing(text: str, start: int) -> int | None:
    """The index of the ``)`` closing the group whose ``(`` is just before ``start``."""
    depth, i = 1, start
    while i < len(text):
        ch = text[i]
        if ch == "`":  # a name in backticks may hold parentheses
            i = text.find("`", i + 1)
            if i < 0:
                return None
        elif ch in "()":
            depth += 1 if ch == "(" else -1
            if depth == 0:
                return i
        i += 1
    return None


def math(fragment: str) -> str:
    """``fragment`` (escaped HTML) set in the math typeface: every variable name on a
    drawing (outside a box, inside an input's box, in a formula, on a unit) goes
    through here, so all of them read alike.

    Examples
    --------
    >>> math(math_name("x_1"))
    '<FONT FACE="DejaVu Serif"><I>x</I><SUB><FONT POINT-SIZE="10">1</FONT></SUB></FONT>'
    """
    return f'<FONT FACE="{MATH_FONT}">{fragment}</FONT>'


def small(size: float) -> float:
    """The font size of an index set beside text of ``size`` points."""
    return round(size * 0.72)


def sub(fragment: str, size: float) -> str:
    """``fragment`` (escaped HTML) as a subscript of text set in ``size`` points."""
    return _shifted("SUB", fragment, size)


def sup(fragment: str, size: float) -> str:
    """``fragment`` (escaped HTML) as a superscript of text set in ``size`` points.

    Examples
    --------
    >>> sup(math_name("z_1"), 14)  # x^z_1: Graphviz has one level of scripts, so the 1 follows, lowered
    '<SUP><FONT POINT-SIZE="10"><I>z</I></FONT></SUP><SUB><FONT POINT-SIZE="10">1</FONT></SUB>'
    """
    return _shifted("SUP", fragment, size)


_SHIFT_TAG = re.compile(r"<(/?)(SUB|SUP|[A-Z]+)\b[^>]*?(/?)>")


def _shifted(tag: str, fragment: str, size: float) -> str:
    # Graphviz sets every script on one level, and its SVG writer gives a <SUB> inside a <SUP>
    # (or the reverse) the attribute baseline-shift twice: XML that no SVG viewer opens. An
    # index of the other kind at the top of the fragment is written after it instead, where
    # Graphviz's PNG and PDF writers put it anyway (g_w^(1): g, then w lowered, (1) raised).
    other, depth, start, pieces = "SUP" if tag == "SUB" else "SUB", 0, 0, []
    for m in _SHIFT_TAG.finditer(fragment):
        if m[3]:  # <BR/>
            continue
        if not m[1] and depth == 0 and m[2] == other:
            pieces.append((False, fragment[start:m.start()]))
            start = m.start()
        depth += -1 if m[1] else 1
        if m[1] and depth == 0 and m[2] == other:
            pieces.append((True, fragment[start:m.end()]))
            start = m.end()
    pieces.append((False, fragment[start:]))
    if len(pieces) == 1:
        return f'<{tag}><FONT POINT-SIZE="{small(size)}">{fragment}</FONT></{tag}>'
    return "".join(text if kept else f'<{tag}><FONT POINT-SIZE="{small(size)}">{text}</FONT></{tag}>'
                   for kept, text in pieces if text)


def _it(text: str, italic: bool) -> str:
    return f"<I>{html_text(text)}</I>" if italic else html_text(text)


def check_options(precision: Any, **mappings: Any) -> None:
    """ExportError unless ``precision`` is an int >= 0 and each of ``mappings`` (``values=``,
    ``adjoints=``) is a mapping or None: the drawing options that hold numbers.

    Examples
    --------
    >>> check_options(4, values=None)
    >>> check_options(-1)
    Traceback (most recent call last):
    cgraph.errors.ExportError: precision must be an int >= 0, not -1
    """
    if not is_int(precision) or precision < 0:
        raise ExportError(f"precision must be an int >= 0, not {precision!r}")
    for key, m in mappings.items():
        if m is not None and not isinstance(m, Mapping):
            raise ExportError(f"{key} must be a mapping from node names to values (cg.evaluate(...)), not "
                              f"{type(m).__name__}")


def format_value(value: Any, precision: int = 4) -> str:
    """A short text for a node's value: a number to ``precision`` significant digits,
    a small array in brackets, or a larger one as its shape.

    Examples
    --------
    >>> format_value(412.19145728)
    '412.2'
    >>> format_value([1.0, 2.5])
    '[1, 2.5]'
    >>> format_value(np.zeros((30, 2)))
    'array 30×2'
    >>> format_value(np.array([[0.5, -0.0]])), format_value(Fraction(-1, 2))
    ('[[0.5, 0]]', '−1/2')
    """
    if isinstance(value, Number) and not isinstance(value, np.ndarray):
        return _number(value, precision)
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # a ragged list: shown as it is, not numpy's "inhomogeneous shape"
        return clean(value)
    if arr.ndim == 0:
        return _number(arr.item(), precision)
    if 0 < arr.size <= 4 and arr.ndim <= 2:  # a batch of one ([[0.47]]) shows its numbers too
        return _nested(arr.tolist(), precision)
    return "array " + "×".join(str(d) for d in arr.shape)


def _nested(v: Any, precision: int) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_nested(x, precision) for x in v) + "]"
    return _number(v, precision)


def _number(v: Any, precision: int) -> str:
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        if abs(int(v)) < 10**precision * 1000:
            return str(int(v)).replace("-", "−")
    if isinstance(v, Fraction) and max(abs(v.numerator), v.denominator) < 10**precision:
        return str(v).replace("-", "−")  # an exact constant as written: 1/2, not 0.5
    try:
        f = float(v)
    except (TypeError, ValueError):
        return clean(v)
    except OverflowError:  # an exact int or Fraction past the floats (10**400): its own digits
        return _big(round(v), precision).replace("-", "−")
    if f != f or f in (float("inf"), float("-inf")):
        return str(f).replace("-", "−")
    text = f"{f:.{precision}g}"
    if text == "-0":  # −0.0 (0 times a negative number) is just 0 on a slide
        return "0"
    text = text.replace("e+0", "e").replace("e-0", "e-").replace("e+", "e")
    return text.replace("-", "−")  # a real minus sign


def _big(n: int, precision: int) -> str:
    """``n`` (past the floats) to ``precision`` significant digits, as ``1.235e400``."""
    e = int(abs(n).bit_length() * log10(2))  # the exponent, or one less
    if abs(n) >= 10 ** (e + 1):
        e += 1
    scale = 10 ** (e - precision + 1)
    q = (abs(n) + scale // 2) // scale  # the leading digits, rounded
    if q >= 10**precision:
        q, e = q // 10, e + 1
    digits = str(q).rstrip("0") or "0"
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{'-' if n < 0 else ''}{mantissa}e{e}"


def node_ids(g: Graph, names: list[str] | None = None) -> dict[str, str]:
    """Opaque DOT ids ``n0, n1, ...`` in a stable topological order (creation order where free)."""
    keep = None if names is None else set(names)
    return {n: f"n{i}" for i, n in enumerate(n for n in drawing_order(g) if keep is None or n in keep)}


def drawing_order(g: Graph) -> tuple[str, ...] | list[str]:
    """Every node in creation order when that is topological, else in the lexicographic
    topological order by ``(creation index, name)``: an order that depends on the graph
    alone, so the same graph always gives the same DOT ids."""
    order, nodes = g.schedule(), g.nx._node
    # the schedule is the creation order whenever that is topological (with distinct
    # indices); it is cached, so checking that it is sorted is cheaper than re-deriving it
    try:
        index = [nodes[n]["order"] for n in order]
        if index == sorted(index) and len(set(index)) == len(index):
            return order
    except (KeyError, TypeError):
        pass
    return list(nx.lexicographical_topological_sort(g.nx, key=lambda n: (g.nx.nodes[n].get("order", 0), str(n))))


class _Dot(pydot.Dot):
    """The ``pydot.Dot`` of a drawing, which may hold its statements as a recorded
    :class:`cgraph.export.recipe.Part` until anything touches ``obj_dict`` (see that
    module): pydot keeps all of a graph's state there, so the recorded text is valid
    exactly as long as it was never touched. Text is written in linear time
    (:mod:`cgraph.export.dottext`) with the cyclic GC paused."""

    @property  # type: ignore[override]
    def obj_dict(self) -> dict:
        state = self.__dict__
        if state.get("_pending") is not None:
            part = state.pop("_pending")
            with gc_paused():
                materialize(self, part)
        return state["_obj_dict"]

    @obj_dict.setter
    def obj_dict(self, value: dict) -> None:
        self.__dict__["_obj_dict"] = value

    def record(self, part: Part) -> None:
        """Hold ``part`` 's statements, to be added when ``obj_dict`` is first read."""
        if self.__dict__.get("_pending") is not None:
            self.obj_dict  # noqa: B018 - materialize the earlier recording first
        self.__dict__["_pending"] = part

    def to_string(self, indent: Any = "", indent_level: int = 0, inline: bool = False) -> str:
        with gc_paused():
            if not writer_ok():
                return super().to_string(indent, indent_level, inline)
            part = self.__dict__.get("_pending")
            if part is not None and recipe_ok():
                try:
                    return pending_text(self, self.__dict__["_obj_dict"], part, indent, indent_level, inline)
                except NotPlain:
                    pass  # a name pydot would quote: let pydot's rules (via the writer) decide
            return dot_text(self, indent, indent_level, inline)


def dot_graph(name: str = "cgraph", **attrs: Any) -> pydot.Dot:
    """An empty directed ``pydot.Dot`` with sorted graph attributes."""
    d = _Dot(name, graph_type="digraph", strict=False)
    for k in sorted(attrs):
        if attrs[k] is not None:
            d.set(k, _attr(attrs[k]))
    return d


def node(dot_id: str, **attrs: Any) -> pydot.Node:
    """A ``pydot.Node`` with its attributes in sorted order (deterministic DOT)."""
    return pydot.Node(dot_id, **sorted_attrs(attrs))


def edge(src: str, dst: str, **attrs: Any) -> pydot.Edge:
    """A ``pydot.Edge`` with its attributes in sorted order."""
    return pydot.Edge(src, dst, **sorted_attrs(attrs))


def with_labels(style: Mapping[str, str], labels: Mapping[str, str]) -> dict[str, str]:
    """``style`` (DOT values, from :func:`sorted_attrs`) and HTML-like ``labels``
    (from :func:`html_label`, which are DOT values as they are), in sorted order."""
    if not style:
        return dict(sorted(labels.items())) if len(labels) > 1 else dict(labels)
    merged = {**style, **labels}
    return {k: merged[k] for k in sorted(merged)}


def sorted_attrs(attrs: Mapping[str, Any]) -> dict[str, str]:
    """``attrs`` in sorted order as DOT values, leaving out those that are ``None``."""
    return {k: _attr(attrs[k]) for k in sorted(attrs) if attrs[k] is not None}


def _attr(v: Any) -> str:
    # our own attribute values: numbers, keywords, or labels already quoted / HTML-wrapped
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v)
    if s.startswith(("<", '"')):
        return s
    return _word(s)


@lru_cache(maxsize=1024)
def _word(s: str) -> str:
    # the few plain values a drawing uses (colours, ports, shapes) recur on every node
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*|-?[0-9.]+", s):
        return s
    return quote(s, limit=10_000)


def defaults(d: pydot.Dot, kind: str, attrs: Mapping[str, Any]) -> None:
    """Set the ``node [...]`` or ``edge [...]`` defaults with sorted attributes."""
    setter = d.set_node_defaults if kind == "node" else d.set_edge_defaults
    setter(**{k: _attr(attrs[k]) for k in sorted(attrs)})
