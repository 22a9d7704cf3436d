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
from ..ops.registry import OPS, Prec
from .render import MAX_LENGTH, Entry, Style, layout_form, needed


def to_text(obj: Graph | Node, form: str = "expanded", *, max_length: int = MAX_LENGTH) -> str:
    """A graph or node as plain text that :func:`cgraph.parse` reads back.

    Parameters
    ----------
    obj : Graph or Node
        For a graph: one ``name = expression`` line per output. For a node: its
        expression alone (``"expanded"``) or the program that computes it.
        :func:`cgraph.parse` reads a graph's text back with the same outputs in the same
        order: it takes the last line and the unused lines just before it as the
        outputs, so a program lists the output lines last, in ``g.outputs``' order, and
        where that cannot say them (an output that another line uses, an input that is
        an output, a line nothing uses that must come after them) the text ends with
        ``return a, b``, listing them. A program of a function's outputs beside
        derivatives (``loss`` and ``g_W1``, ...) lists the lines of the function first,
        its outputs last among them, then the derivatives', and ends with ``return``.
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
        round-trip repr; ``^`` is the power operator. ``replace_zero_if(u, v)``, the guard
        in a power's derivative (``x^p*log(x)``, ``p*x^(p - 1)``), and ``replace_zero(u)``
        print as ``u``, as SymPy and
        the lecture write that derivative, and so reads back as ``u``: the same function
        except where ``u`` is 0, where the printed ``0*log(0)`` is a DomainError and the
        graph gives the limit 0 (``cg.save`` keeps the guard). ``sign_diff(a, b)``, the
        sign in the derivative of ``maximum`` and ``minimum``, prints as ``sign(a - b)``
        and reads back as that, which overflows where ``a - b`` does (1e308 - -1e308).

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
    >>> w = g.output(2 * y, name="w")  # an output that uses the output y
    >>> print(cg.to_text(g, form="program"))
    a = x*z
    y = exp(a) + a/log(x)
    w = 2*y
    return y, w
    """
    g, written, result = layout_form(obj, form, TEXT, max_length=max_length, caller="to_text")
    if isinstance(result, Entry):
        return result.text
    if isinstance(obj, Node):  # its program: the node's line comes last, and every other line is used
        return "\n".join(f"{text_name(name)} = {entry.text}" for name, entry in result) or text_name(obj.name)
    lines, returned = _read_back(g, result, program=written == "program")
    text = "\n".join(f"{text_name(name)} = {entry.text}" for name, entry in lines)
    if returned:
        text += ("\n" if text else "") + "return " + ", ".join(map(text_name, returned))
    return text


def _read_back(g: Graph, lines: list[tuple[str, Entry]], *, program: bool) -> tuple[list, list[str] | None]:
    """The lines of ``g`` in an order from which :func:`cgraph.parse` reads back its
    outputs, in their order, and the names for a final ``return`` line where it cannot.

    ``parse`` takes the last line's name and those of the lines just before it that no
    later line uses as the outputs. In the expanded form no line uses another (each is
    over the inputs); in a program the output lines go last, in ``g.outputs``' order, which
    any evaluation order allows when no line uses an output. ``return`` lists the outputs
    where that is not enough: an output that another line uses (``y = h*2`` of the output
    ``h``), an input that is an output (it has no line: ``x = x`` does not read), or a
    program whose last line before the outputs nothing uses (it would read as an output).
    """
    outputs = g.outputs
    if not outputs:  # nothing marked: the lines are what nothing else uses, and read back as the outputs
        return lines, None
    nodes, succ = g.nx._node, g.nx._succ
    if any(nodes[o]["role"] in ("input", "param") for o in outputs):
        return [(n, e) for n, e in lines if nodes[n]["role"] not in ("input", "param")], outputs
    if not program:
        return lines, None
    chosen = set(outputs)
    rest = [line for line in lines if line[0] not in chosen]
    if any(succ[o] for o in outputs):
        return lines, outputs
    forward = [o for o in outputs if not nodes[o].get("adjoint")]
    if forward and len(forward) < len(outputs):
        return _forward_first(g, lines, forward), outputs
    readers = _Readers(g, {n for n, _ in lines})
    if rest and not readers.read(rest[-1][0]):  # nothing reads the last line before the outputs: it would read as one
        last = _only_for_outputs(rest, chosen, readers)
        if last is None:
            return lines, outputs
        rest.append(rest.pop(last))
    text = dict(lines)
    return rest + [(o, text[o]) for o in outputs], None


def _forward_first(g: Graph, lines: list[tuple[str, Entry]], forward: list[str]) -> list[tuple[str, Entry]]:
    """The lines of a program whose outputs are a function's (``loss``) and derivatives
    (``g_W1``...): the lines the function's outputs need first, each output last among
    them, then the others, derivatives last, each part in evaluation order (the rebuild
    order of ``simplify`` put ``loss = mean(...)`` among the backward lines, or after
    them with the outputs). A ``return`` line then lists the outputs."""
    need = needed(g, forward)
    outputs = set(g.outputs)
    first = [line for line in lines if line[0] in need]
    later = [line for line in lines if line[0] not in need and line[0] not in outputs]
    text = dict(lines)
    return first + later + [(o, text[o]) for o in g.outputs if o not in need]


class _Readers:
    """Who reads a node in the program's text: its users that print it, a temporary
    written inline standing for its user's line. A use the text does not show is not
    one: ``replace_zero_if(u, v)`` prints as ``u``, so a line used only as its ``v``
    (``t = abs(x)`` of ``y = replace_zero_if(x, t + t)``, printed ``y = x``) is unused
    where :func:`cgraph.parse` reads it back, and would read as an output."""

    def __init__(self, g: Graph, lines: set[str]) -> None:
        self.succ, self.nodes, self.lines = g.nx._succ, g.nx._node, lines
        self.hidden = _hidden_ports()  # (read per program: cg.register may add an op)

    def users(self, n: str) -> list[str]:
        """The users of ``n`` whose text shows it."""
        nodes, hidden = self.nodes, self.hidden
        return [u for u, ports in self.succ[n].items()
                if not (hidden.get(nodes[u]["op"]) and all(k in hidden[nodes[u]["op"]] for k in ports))]

    def read(self, n: str) -> bool:
        """True when a line's text shows ``n`` (through temporaries written inline)."""
        users, seen = self.users(n), set()
        while users:
            u = users.pop()
            if u in self.lines:
                return True
            if u not in seen:
                seen.add(u)
                users.extend(self.users(u))
        return False


def _hidden_ports() -> dict[str, frozenset[int]]:
    """op -> the operands its text does not show (``replace_zero_if``'s second)."""
    out = {}
    for name, op in OPS.items():
        if isinstance(op.text, str) and op.arity:
            hidden = frozenset(k for k in range(op.arity) if f"{{{k}}}" not in op.text)
            if hidden:
                out[name] = hidden
    return out


def _only_for_outputs(rest: list[tuple[str, Entry]], outputs: set[str], readers: _Readers) -> int | None:
    """The index of the last line in ``rest`` that is used, by output lines only: it can
    move behind the others (no line of ``rest`` uses it), and then ends the run of unused
    lines before the outputs. A use through a temporary written inline counts as its line's;
    a use the text does not show (:class:`_Readers`) does not count."""
    names = {n for n, _ in rest}
    for i in range(len(rest) - 1, -1, -1):
        users = readers.users(rest[i][0])
        by_outputs = False
        while users:
            u = users.pop()
            if u in names:
                break
            if u in outputs:
                by_outputs = True
            else:
                users.extend(readers.users(u))  # a temporary written inline: its one user's line uses it
        else:
            if by_outputs:
                return i
    return None


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
