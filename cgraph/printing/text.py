"""Plain-text printing: formulas and programs that ``cg.parse`` reads back."""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from ..checks import int_text
from ..graph import Graph
from ..lexer import plain_name
from ..node import Node
from ..ops.registry import Prec
from .render import MAX_LENGTH, Entry, Style, layout


def to_text(obj: Graph | Node, form: str = "expanded", *, max_length: int = MAX_LENGTH) -> str:
    """A graph or node as plain text that :func:`cgraph.parse` reads back.

    Parameters
    ----------
    obj : Graph or Node
        For a graph: one ``name = expression`` line per output. For a node: its
        expression alone (``"expanded"``) or the program that computes it.
    form : {"expanded", "program"}
        ``"expanded"`` writes each output as one expression over the inputs, with the
        fewest parentheses precedence allows. ``"program"`` is the lecture's listing:
        one assignment a line in evaluation order; constants and unnamed single-use
        temporaries are written inline (``g_c = g_f*(1/a)``), named nodes get a line.
        It is linear in the graph's size.
    max_length : int
        The expanded form's cap on one expression's length (characters). Shared
        subexpressions are repeated in the expanded form, so it can grow exponentially
        (expression swell); past the cap a warning is issued and the program form is
        returned instead.

    Returns
    -------
    str
        Integers print as integers, fractions as ``1/2``, floats as their shortest
        round-trip repr; ``^`` is the power operator.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph()
    >>> x, z = g.input("x"), g.input("z")
    >>> a = (x * z).named("a")
    >>> y = g.output(cg.exp(a) + a / cg.log(x), name="y")
    >>> print(cg.to_text(g))
    y = exp(x*z) + x*z/log(x)
    >>> print(cg.to_text(g, form="program"))
    a = x*z
    y = exp(a) + a/log(x)
    >>> cg.to_text(a)
    'x*z'
    """
    g, result = layout(obj, form, TEXT, max_length=max_length, caller="to_text")
    if isinstance(result, Entry):
        return result.text
    return "\n".join(f"{text_name(name)} = {entry.text}" for name, entry in result)


def text_name(name: str) -> str:
    """A node's name as :func:`cgraph.parse` reads it back: itself when it is a plain
    name, else in backticks (`` `x-1` ``, `` `sin` ``, `` `nan` ``), so that no name
    reads back as a number, an operator or a function. A name holding a backtick or a
    line break has no quoted form: it does not read back.

    Examples
    --------
    >>> text_name("x1"), text_name("x-1"), text_name("sin"), text_name("2")
    ('x1', '`x-1`', '`sin`', '`2`')
    """
    return name if plain_name(name) else f"`{name}`"


def number_text(value: Any) -> Entry:
    """A constant as text: ``3``, ``1/2``, ``0.1``, ``-2`` (with its precedence)."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return number_text(value.item())
        if value.size == 0 and value.ndim > 1:  # nested lists cannot show the dims after a 0
            return Entry(f"reshape([], shape={value.shape!r})", Prec.ATOM)
        return Entry(repr(value.tolist()), Prec.ATOM)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return number_text(int(value))
        text = f"{int_text(value.numerator)}/{int_text(value.denominator)}"
        return Entry(text, Prec.UNARY if value < 0 else Prec.MUL)
    if isinstance(value, float) and not math.isfinite(value):
        text = "nan" if math.isnan(value) else ("-inf" if value < 0 else "inf")
        return Entry(text, Prec.UNARY if value < 0 else Prec.ATOM)
    text = int_text(value) if isinstance(value, int) and not isinstance(value, bool) else repr(value)
    return Entry(text, Prec.UNARY if text.startswith("-") else Prec.ATOM)


TEXT = Style(latex=False, name=text_name, number=number_text)
