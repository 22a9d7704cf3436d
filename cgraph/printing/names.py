"""Names written as the lecture writes its symbols: ``w_{j,i}^{(l)}``, ``x^{(n)}``, ``G_{t-1}``.

One reading of such *scripted* names, shared by the LaTeX printer and the diagrams, so
that a node named ``w_{1,2}^{(1)}`` prints as :math:`w_{1,2}^{(1)}` in both.
"""

from __future__ import annotations

import re

__all__ = ["ADJOINT_NAME", "scripted"]

#: an adjoint's name as the adjoint pass writes it: g_<name>, g2_<name> (sweep, name)
ADJOINT_NAME = re.compile(r"g(\d*)_(.+)")
_BASE = re.compile(r"[A-Za-z]+")
_BODY = r"[A-Za-z0-9,()+\-' ]+"  # what a sub- or superscript may hold: t-1, (l), j,i, t+1
_SCRIPT = re.compile(rf"([_^])(?:\{{({_BODY})\}}|(\({_BODY}\))|([A-Za-z0-9]+))")


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
