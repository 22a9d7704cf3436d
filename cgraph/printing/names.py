"""Names written as the lecture writes its symbols: ``w_{j,i}^{(l)}``, ``x^{(n)}``, ``G_{t-1}``.

One reading of such *scripted* names, shared by the LaTeX printer and the diagrams, so
that a node named ``w_{1,2}^{(1)}`` prints as :math:`w_{1,2}^{(1)}` in both.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

__all__ = ["ADJOINT_NAME", "GREEK_LETTERS", "Symbols", "index", "scripted", "spelled"]

#: an adjoint's name as the adjoint pass writes it: g_<name>, g2_<name> (sweep, name)
ADJOINT_NAME = re.compile(r"g(\d*)_(.+)")
_BASE = re.compile(r"[A-Za-z]+")
_BODY = r"[A-Za-z0-9,()+\-' ]+"  # what a sub- or superscript may hold: t-1, (l), j,i, t+1
_SCRIPT = re.compile(rf"([_^])(?:\{{({_BODY})\}}|(\({_BODY}\))|([A-Za-z0-9]+))")
#: the Greek letters a name may hold as themselves, and their spelled names (α is alpha)
GREEK_LETTERS = dict(zip(
    "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΥΦΨΩ",
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau "
    "upsilon phi chi psi omega Gamma Delta Theta Lambda Xi Pi Sigma Upsilon Phi Psi Omega".split(),
))
#: combining accents and the name endings the printers set as them (ŷ is yhat)
_MARKS = {"\u0302": "hat", "\u0304": "bar", "\u0303": "tilde", "\u0307": "dot", "\u0308": "ddot", "\u20d7": "vec"}
_LETTER = f"[A-Za-z{''.join(GREEK_LETTERS)}]"
_PART = re.compile(f"({_LETTER})(?:([{''.join(_MARKS)}])|([0-9]*))")
_INDEX = re.compile(r"([A-Za-z])(?:([mp])([0-9]+)|([0-9]+))")
_LETTERS = re.compile(r"(?!.*(.).*\1)[ijk]{2,3}")  # ij, ji, ijk: two or three of the index letters, each once


def scripted(name: str) -> tuple[str, str, str] | None:
    """``(base, subscript, superscript)`` of a TeX-style name, else None.

    A scripted name is a letter word followed by a subscript ``_…``, a superscript
    ``^…`` or both (in either order), each a braced group (``_{1,2}``, ``^{(l)}``), a
    parenthesized group (``^(1)``) or a letter/digit word (``_t``, ``^2``), and it holds
    a ``^`` or a brace: plain ``x_1`` and ``W1`` keep their older, simpler readings.
    A missing script is ``""``; a parenthesized superscript keeps its parentheses.

    Examples
    --------
    >>> scripted("w_{1,2}^{(1)}")
    ('w', '1,2', '(1)')
    >>> scripted("x^(n)"), scripted("G_{t-1}")
    (('x', '', '(n)'), ('G', 't-1', ''))
    >>> scripted("x_1") is None, scripted("a^b^c") is None
    (True, True)
    """
    if "^" not in name and "{" not in name:
        return None
    m = _BASE.match(name)
    if not m:
        return None
    scripts, pos = {}, m.end()
    while pos < len(name):
        s = _SCRIPT.match(name, pos)
        if not s or s.group(1) in scripts:
            return None
        scripts[s.group(1)] = s.group(2) or s.group(3) or s.group(4)
        pos = s.end()
    if not scripts:
        return None
    return m.group(), scripts.get("_", ""), scripts.get("^", "")


def index(word: str) -> str | None:
    """The index a name's subscript word ``word`` stands for, written as a TeX subscript
    (as :func:`scripted` reads them: letters italic), else None. A letter and a step is
    code's spelling of a time step, ``tm1`` is ``t-1`` (t minus 1: ``h_tm1`` is
    :math:`h_{t-1}`) and ``tp1`` is ``t+1``; a letter and digits is one index, ``i1`` as in
    :math:`x_{i1}`, the lecture's first feature of example i (not :math:`x_{i_1}`); two or
    three of the index letters i, j, k, each once, are indices, ``x_ij`` is :math:`x_{ij}`
    (a matrix entry, letters italic as in the lecture's :math:`w_{j,i}`), not the word ij.
    The LaTeX printer and the diagrams both read a name's index with it.

    Examples
    --------
    >>> index("tm1"), index("tp2"), index("i1"), index("out1"), index("t")
    ('t-1', 't+2', 'i1', None, None)
    >>> index("ij"), index("kji"), index("ii"), index("in"), index("kl")
    ('ij', 'kji', None, None, None)
    """
    if _LETTERS.fullmatch(word):
        return word
    m = _INDEX.fullmatch(word)
    if not m:
        return None
    letter, step, by, digits = m.groups()
    return f"{letter}{'-' if step == 'm' else '+'}{by}" if step else letter + digits


def spelled(name: str) -> str:
    """``name`` with its Unicode symbols spelled the way the printers read names, so that
    ``α1`` prints as ``alpha1`` does (:math:`\\alpha_1`, α₁) and ``ŷ`` as ``yhat``: each
    ``_``-separated part that is one letter (Latin or Greek) with an accent or with
    digits is spelled out; any other part is kept.

    Examples
    --------
    >>> spelled("α_1"), spelled("g_ŷ"), spelled("x̄"), spelled("β2")
    ('alpha_1', 'g_yhat', 'xbar', 'beta2')
    >>> spelled("αβ"), spelled("x_12")
    ('αβ', 'x_12')
    """
    if name.isascii():
        return name
    parts = name.split("_")
    for k, part in enumerate(parts):
        m = _PART.fullmatch(unicodedata.normalize("NFD", part))
        if m:
            letter, mark, digits = m.groups()
            parts[k] = GREEK_LETTERS.get(letter, letter) + (_MARKS[mark] if mark else digits)
    return "_".join(parts)


class Symbols:
    """Names as a printer shows them (``pretty``), remembering in :attr:`clashes` the names
    shown alike: ``x1`` and ``x_1`` are both x₁, ``alpha`` and ``α`` both α. The names in
    ``literal`` are shown by ``as_written`` instead, as they are spelled, so that each symbol
    of a formula or a drawing stands for one node.

    Examples
    --------
    >>> show = Symbols(lambda n: n.replace("_", ""))
    >>> show("x1"), show("x_1"), show("z"), sorted(show.clashes)
    ('x1', 'x1', 'z', ['x1', 'x_1'])
    >>> show = Symbols(lambda n: n.replace("_", ""), as_written=repr, literal=show.clashes)
    >>> show("x1"), show("x_1"), show("z")
    ("'x1'", "'x_1'", 'z')
    """

    def __init__(self, pretty: Callable[[str], str], *, as_written: Callable[[str], str] = str,
                 literal: frozenset[str] | set[str] = frozenset()) -> None:
        self.pretty, self.as_written, self.literal = pretty, as_written, literal
        self.clashes: set[str] = set()
        self._memo: dict[str, str] = {}
        self._owner: dict[str, str] = {}  # symbol -> the first name shown as it

    def __call__(self, name: str) -> str:
        symbol = self._memo.get(name)
        if symbol is None:
            symbol = self._memo[name] = self.as_written(name) if name in self.literal else self.pretty(name)
            owner = self._owner.setdefault(symbol, name)
            if owner != name:
                self.clashes.update((owner, name))
        return symbol
