"""The one precedence-aware renderer behind ``to_text`` and ``to_latex``.

Every op prints through its OpDef's ``text``/``latex`` template, precedence and
per-operand precedences; a :class:`Style` supplies what differs between the two
outputs (how names, numbers and parentheses look). Nothing here knows any op by name.
Rendering walks the graph's schedule, never recursing, so 10^5-node chains print.
"""

from __future__ import annotations

import dataclasses
import re
import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from ..graph import Graph
from ..memory import gc_paused
from ..ops.registry import OPS, SOURCE_OPS, OpDef, Prec

#: the longest expression (characters) the expanded form writes before it gives up
MAX_LENGTH = 20_000
#: an unnamed, single-use temporary is written inline in a program up to this length
INLINE_LENGTH = 60

_FORMATTER = string.Formatter()


class Entry(NamedTuple):
    """A rendered expression and the precedence of its outermost operator."""

    text: str
    prec: int


@dataclass(frozen=True, slots=True)
class Style:
    """What differs between text and LaTeX output."""

    latex: bool
    name: Callable[[str], str]  # node name -> printed symbol
    number: Callable[[Any], Entry]  # constant value -> printed number
    name_prec: Callable[[str], int] = lambda symbol: Prec.ATOM  # a printed symbol's precedence
    open: str = "("
    close: str = ")"
    #: symbols a name may print as that are also a function's (``\sigma``, ``H``,
    #: ``\mathrm{ln}``): juxtaposed before a parenthesis or a call (a word: before any
    #: factor) they would read as that function applied, so a product sign (``\cdot``)
    #: follows them there, as the text form's ``*`` does (:func:`reads_as_applied`)
    calls: frozenset[str] = frozenset()


class ExpressionTooLong(Exception):  # noqa: N818 - internal signal, never reaches users
    """Raised inside the renderer when an expression passes its length cap."""

    def __init__(self, node: str, length: int) -> None:
        super().__init__(node, length)
        self.node = node
        self.length = length


def is_generated(name: str) -> bool:
    """True for names the graph made up (``t1``, ``t2``...), which printers may inline."""
    return name[:1] == "t" and name[1:].isdecimal()  # (t\d+ without a regex: simplify calls it per node)


def needed(g: Graph, targets: Iterable[str]) -> set[str]:
    """``targets`` and all their ancestors (iteratively)."""
    seen: set[str] = set()
    stack = list(targets)
    while stack:
        n = stack.pop()
        if n not in seen:
            seen.add(n)
            stack.extend(g.nx.predecessors(n))
    return seen


class _Printers(dict):
    """Each op's printer for one style, compiled from its OpDef on first use: a function
    ``(operand entries, attrs) -> (text, prec)``. A printing pass makes one of these, so
    templates are parsed and precedence tables looked up once per op, not once per node."""

    def __init__(self, style: Style) -> None:
        super().__init__()
        self.style = style

    def __missing__(self, op: str | tuple[str, str]) -> Callable[[list, dict], tuple[str, int]]:
        if isinstance(op, tuple):  # (op, "arrays", lead): its latex_arrays template (see array_form)
            opdef = dataclasses.replace(OPS[op[0]], latex=OPS[op[0]].latex_arrays, latex_prec=Prec.ODOT)
            printer = self[op] = _compile(opdef, self.style, lead=op[2])
        else:
            printer = self[op] = _compile(OPS[op], self.style)
        return printer


def array_ops(style: Style) -> frozenset[str]:
    """The ops printed another way when two or more operands are arrays (OpDef.latex_arrays)."""
    return frozenset(name for name, opdef in OPS.items() if opdef.latex_arrays) if style.latex else frozenset()


def array_form(op: str, operands: Iterable[str], nodes: dict, axes: set[str]) -> str | tuple[str, str, int]:
    """The printer key of an op of :func:`array_ops` over these operands: ``(op, "arrays",
    lead)`` when two or more of them are known to have an axis (``X*Y`` is
    ``X \\odot Y``; ``2*X`` and a product of scalars or of unknown shapes stay
    juxtaposed). ``lead`` counts the leading operands known to be scalars, which stay
    juxtaposed as coefficients: ``2*X*Y`` is ``2 X \\odot Y``. ``axes``: the nodes of
    unknown shape known to have an axis (:func:`note_axes`)."""
    shapes = [nodes[o]["shape"] for o in operands]
    if sum(1 for o, shape in zip(operands, shapes) if shape or o in axes) < 2:
        return op
    lead = 0
    while shapes[lead] == ():
        lead += 1
    return op, "arrays", lead


def note_axes(n: str, data: dict, operands: Iterable[str], nodes: dict, axes: set[str]) -> None:
    """Add ``n`` to ``axes`` when its shape is unknown but it has an axis all the same: an
    elementwise op of an operand with one (``c*A`` of an undeclared ``c`` and a matrix
    ``A``: broadcasting keeps ``A``'s axes), so that ``c*A*B`` prints ``c A \\odot B``, not
    the matrix product ``c A B``. Called in evaluation order, for every node."""
    if data["shape"] is None and OPS[data["op"]].elementwise and any(
            nodes[o]["shape"] or o in axes for o in operands):
        axes.add(n)


def _compile(opdef: OpDef, style: Style, *, lead: int = 0) -> Callable[[list, dict], tuple[str, int]]:
    """The printer of an op; a variadic op's first ``lead`` operands are juxtaposed
    coefficients (see :func:`array_form`)."""
    if opdef.transparent:
        return lambda args, attrs: args[0]
    latex = style.latex
    table = opdef.latex_arg_prec if latex and opdef.latex_arg_prec is not None else opdef.arg_prec
    last = len(table) - 1
    prec = opdef.printed_prec(latex=latex)
    template = opdef.latex if latex else opdef.text
    open_, close, calls = style.open, style.close, style.calls

    def parts_of(args: list) -> list[str]:
        return [open_ + text + close if p < table[i if i < last else last] else text
                for i, (text, p) in enumerate(args)]

    if opdef.variadic:
        if len(table) > 2:
            return lambda args, attrs: (
                _join(template, parts_of(args), latex, negated=_unit_minus(template, args), calls=calls), prec)
        first, rest = table[0], table[last]
        plus, juxtapose = template.strip() == "+", latex and template.isspace()

        def variadic(args: list, attrs: dict) -> tuple[str, int]:
            # _join(template, parts_of(args), latex), written out: sums and products are most nodes
            text, p = args[0]
            out = open_ + text + close if p < first else text
            minus = not plus and _unit_minus(template, args)
            for i, (text, p) in enumerate(args[1:]):
                if p < rest or juxtapose and p < Prec.POW and text[:1] == "-":  # (x \left(-y z\right), not x \cdot -y z)
                    text = open_ + text + close
                if minus:
                    minus = False
                    if text[:1] not in _NUMERIC:
                        out = "-" + text  # -1*x*y -> -x*y
                        continue
                if plus and text.startswith("-"):
                    out += " - " + text[1:]
                elif not (juxtapose or i < lead):
                    out += template + text
                elif text[:1] in "0123456789.-" or out[-1:].isdigit() and text.startswith("\\frac") or (
                        calls and reads_as_applied(out, text, calls)):
                    out += r" \cdot " + text
                else:
                    out += " " + text
            return out, prec

        return variadic
    if latex and template.startswith("\\frac") and opdef.arity == 2:
        return _fraction(template, parts_of, prec)
    fields = [(literal, field) for literal, field, _, _ in _FORMATTER.parse(template)]
    keywords = any(field in ("kw", "sub") for _, field in fields)
    operand_fields = [(literal, field) for literal, field in fields if field not in (None, "kw", "sub")]
    # an operand after a prefix minus that starts with one is parenthesised: -(-x), not --x
    prefix_minus = any(literal.endswith("-") for literal, field in operand_fields)
    if not any(literal.endswith((" - ", " + ")) for literal, field in fields if field not in (None, "kw")) and (
            not prefix_minus or opdef.arity == 1 and not keywords):
        # no operand follows a binary minus or plus: str.format fills the template at C speed
        if keywords:
            return lambda args, attrs: (
                template.format(*parts_of(args), kw=_keywords(opdef, attrs, latex), sub=_subscript(opdef, attrs)), prec)
        if opdef.arity == 1:
            least = table[0]
            minus = prefix_minus

            def unary(args: list, attrs: dict) -> tuple[str, int]:
                text, p = args[0]
                wrap = p < least or minus and text[:1] == "-"
                return template.format(open_ + text + close if wrap else text), prec

            return unary
        if opdef.arity == 2:
            first, second = table[0], table[min(1, last)]
            juxtaposed = latex and calls and template == "{0} {1}"  # (a matrix product)

            def binary(args: list, attrs: dict) -> tuple[str, int]:
                (a, pa), (b, pb) = args
                a = open_ + a + close if pa < first else a
                b = open_ + b + close if pb < second else b
                if juxtaposed and reads_as_applied(a, b, calls):
                    return a + r" \cdot " + b, prec
                return template.format(a, b), prec

            return binary
        return lambda args, attrs: (template.format(*parts_of(args)), prec)

    def fill(args: list, attrs: dict) -> tuple[str, int]:
        parts = parts_of(args)
        out = []
        for literal, field in fields:
            if field is None:
                out.append(literal)
            elif field == "kw":
                out.append(literal + _keywords(opdef, attrs, latex))
            elif field == "sub":
                out.append(literal + _subscript(opdef, attrs))
            else:
                part = parts[int(field)]
                if part.startswith("-") and literal.endswith("-"):
                    part = open_ + part + close
                elif part.startswith("-") and literal.endswith((" - ", " + ")):
                    # a - -b -> a + b and a + -b -> a - b: unary minus binds tighter than + and -
                    literal = literal[:-3] + (" + " if literal.endswith(" - ") else " - ")
                    part = part[1:]
                out.append(literal + part)
        return "".join(out), prec

    return fill


def reads_as_applied(text: str, part: str, calls: frozenset[str]) -> bool:
    r"""Whether ``part`` juxtaposed after ``text`` would read as the argument of a
    function: ``text`` ends with a function's symbol (of ``calls``), with scripts and
    primes or not (:func:`last_symbols`: ``\sigma``, ``2 \sigma``, ``-H``,
    ``\sigma^{2}``, ``\sigma_{1}``, ``\sigma'``), and ``part`` starts with a parenthesis
    or a call (``\sigma \sigma\left(x\right)`` reads as the sigmoid of the sigmoid, as
    ``\sin^{2}\left(x\right)`` and ``f_{1}\left(x\right)`` are calls), or the symbol is
    a word (``\mathrm{ln} x`` reads as ``\ln x``). Not a letter before a name
    (``\sigma x`` is a product)."""
    end = text[-1:]
    if end.isalpha():  # (quick: a symbol without scripts, x or \sigma)
        symbols = [text[text.rfind(" ") + 1:].lstrip("-")]
    elif end in "}'":
        symbols = last_symbols(text)
    else:  # a parenthesis, a digit
        return False
    for symbol in symbols:
        if symbol in calls:
            return symbol.startswith(r"\mathrm{") or _APPLIED.match(part) is not None
    return False


#: what starts with a function applied: a parenthesis, or a symbol (with scripts) before
#: one, or before another function's (``\log\sum``): ``\sigma\left(``, ``\sum_{0}\left(``
_GROUP = r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}"  # (a brace group, one level nested inside)
_APPLIED = re.compile(rf"\\left\(|(?:\\operatorname{_GROUP}|\\[A-Za-z]+|[A-Za-z])(?:[_^](?:{_GROUP}|\w))*"
                      r"\\(?:left\(|[A-Za-z])")


def last_symbols(text: str) -> list[str]:
    r"""The symbol that ``text`` ends with (after its last space, without a sign), with
    its scripts and primes and without them, one by one: ``\sigma_{1}^{x + 1}``,
    ``\sigma_{1}``, ``\sigma`` of ``2 \sigma_{1}^{x + 1}``; ``\mathrm{sum}_{\mathrm{to}}``,
    ``\mathrm{sum}``; ``\right)`` alone of a parenthesis.

    >>> last_symbols(r"2 \sigma_{1}^{x + 1}"), last_symbols("-H'")
    (['\\sigma_{1}^{x + 1}', '\\sigma_{1}', '\\sigma'], ["H'", 'H'])
    """
    ends = [len(text)]
    end = ends[0]
    while end:
        if text[end - 1] == "'":
            end -= 1
            ends.append(end)
            continue
        if text[end - 1] != "}" or end > 1 and text[end - 2] == "\\":
            break
        i = text.rfind("{", 0, end - 1)  # back to the { that opens the group that ends text
        if i < 0 or "}" in text[i + 1:end - 1] or text[i - 1:i] == "\\":  # (not at once, as in x_{1}: nested)
            i = _group_start(text, end)
        if i < 1 or text[i - 1] not in "_^":  # (\mathrm{...}, \hat{...}: the symbol itself)
            break
        end = i - 1
        ends.append(end)
    start = text.rfind(" ", 0, end) + 1
    if text[start:start + 1] == "-":
        start += 1
    return [text[start:e] for e in ends if e > start]


def _group_start(text: str, end: int) -> int:
    """The position of the ``{`` that opens the brace group ending at ``text[end - 1]`` (-1 where none does)."""
    depth, i = 0, end - 1
    while i >= 0:
        if text[i] in "{}" and i and text[i - 1] == "\\":  # (an escaped brace is a character)
            i -= 2
            continue
        depth += 1 if text[i] == "}" else -1 if text[i] == "{" else 0
        if depth == 0:
            return i
        i -= 1
    return -1


def _fraction(template: str, parts_of: Callable[[list], list[str]], prec: int) -> Callable[[list, dict], tuple[str, int]]:
    """A LaTeX fraction with the signs of its parts in front: ``-\\frac{1}{x^{2}}``, not
    ``\\frac{-1}{x^{2}}``. A part at product level or tighter that starts with a minus
    is negated as a whole (``-3 x``, ``-x^{2}``, ``-1``); a sum (``-x + y``) keeps it."""

    def fraction(args: list, attrs: dict) -> tuple[str, int]:
        parts = parts_of(args)
        negative = False
        for i, (text, p) in enumerate(args):
            if p >= Prec.MUL and text.startswith("-"):
                parts[i] = parts[i][1:]
                negative = not negative
        text = template.format(*parts)
        return ("-" + text, Prec.UNARY) if negative else (text, prec)

    return fraction


def _walk(g: Graph) -> Iterable[tuple[tuple[str, dict], tuple[str, ...]]]:
    """``((name, node data), operand names)`` for every node in schedule order."""
    order, data, table = g.schedule(), g.nx._node, g._operand_table()
    if len(order) == len(data) == len(table) and order == tuple(data) == tuple(table):
        # the usual case (nodes stored in creation order): walk the dicts directly; on a
        # 10^5-node graph each lookup by name is a cache miss, and they were half the time
        return zip(data.items(), table.values())
    return (((n, data[n]), table[n]) for n in order)


def _out_degree_is_not_one(users: dict) -> bool:
    """Whether a node with these users (networkx's ``succ[n]``: user -> edge keys) is not
    used exactly once: no user, several users, or one user that uses it twice."""
    if len(users) != 1:
        return True
    for keys in users.values():
        return len(keys) != 1
    return True


def expand(g: Graph, targets: Iterable[str], style: Style, *, max_length: int = MAX_LENGTH) -> dict[str, Entry]:
    """Every target as one expression over the sources; ``ExpressionTooLong`` past the cap."""
    targets = list(targets)
    keep = needed(g, targets)
    entries: dict[str, tuple[str, int]] = {}
    printers, number, name, name_prec = _Printers(style), style.number, style.name, style.name_prec
    arrays, nodes, axes = array_ops(style), g.nx._node, set()
    for (n, data), operands in _walk(g):
        if n not in keep:
            continue
        if arrays and data["role"] == "op":
            note_axes(n, data, operands, nodes, axes)
        op = data["op"]
        if op == "const":
            entry = number(data["attrs"]["value"])
        elif op in SOURCE_OPS:
            symbol = name(n)
            entry = (symbol, name_prec(symbol))
        else:
            key = array_form(op, operands, nodes, axes) if op in arrays else op
            entry = printers[key](list(map(entries.__getitem__, operands)), data["attrs"])
        if len(entry[0]) > max_length:
            raise ExpressionTooLong(n, len(entry[0]))
        entries[n] = entry
    return {t: Entry(*entries[t]) for t in targets}


def program(g: Graph, nodes: Iterable[str] | None, style: Style, *, always: Iterable[str] = ()) -> list[tuple[str, Entry]]:
    """The lecture's listing: ``(name, expression)`` per line, in evaluation order.

    Named nodes, outputs, ``always`` and multi-use nodes get their own line; constants
    and unnamed single-use temporaries are written inline where they stay short, so
    the listing is linear in the graph's size. ``nodes=None`` lists the whole graph.
    """
    wanted = None if nodes is None else set(nodes)
    lines_for = set(g.outputs) | set(always)
    atoms: dict[str, tuple[str, int]] = {}
    lines: list[tuple[str, Entry]] = []
    succ, printers, name, number, name_prec = g.nx._succ, _Printers(style), style.name, style.number, style.name_prec
    arrays, node_data, axes = array_ops(style), g.nx._node, set()  # (not `nodes`: that is the parameter)
    make_entry = tuple.__new__  # Entry(text, prec) without NamedTuple's Python-level __new__
    atom, append = atoms.__getitem__, lines.append
    for (n, data), operands in _walk(g):
        role = data["role"]
        if arrays and role == "op":  # (LaTeX only; every node: a listed one's operands may not be listed)
            note_axes(n, data, operands, node_data, axes)
        if wanted is not None and n not in wanted:
            continue
        if role == "op":
            op = data["op"]
            key = array_form(op, operands, node_data, axes) if op in arrays else op
            entry = printers[key](list(map(atom, operands)), data["attrs"])
            # a generated name is t<digits> (is_generated, written out: this loop is hot)
            own_line = n in lines_for or not (n[:1] == "t" and n[1:].isdecimal()) or (
                len(entry[0]) > INLINE_LENGTH or _out_degree_is_not_one(succ[n]))
        elif role == "const":
            entry = number(data["attrs"]["value"])
            own_line = n in lines_for or not (n[:1] == "t" and n[1:].isdecimal())
        else:  # input, param: always by name
            symbol = name(n)
            atoms[n] = (symbol, name_prec(symbol))
            continue
        if own_line:
            append((n, make_entry(Entry, entry)))
            symbol = name(n)
            atoms[n] = (symbol, name_prec(symbol))
        else:
            atoms[n] = entry
    return lines


_NUMERIC = "0123456789.-+"  # a factor after which -1 stays a number: -1*2, -1*-x


def _unit_minus(separator: str, args: list) -> bool:
    """Whether a product starts with the constant -1 (a name "-1" would be an atom)."""
    return separator.strip() != "+" and len(args) > 1 and tuple(args[0]) == ("-1", Prec.UNARY)


def _join(separator: str, parts: list[str], latex: bool, *, negated: bool = False,
          calls: frozenset[str] = frozenset()) -> str:
    """``parts`` joined by ``separator`` (a sum's or product's); ``negated``: the first
    part is the constant -1 of a product, written as a minus sign before a factor that
    does not start with a digit or a sign; ``calls``: as :attr:`Style.calls`."""
    out = parts[0]
    plus = separator.strip() == "+"
    juxtapose = latex and separator.isspace()
    if negated and len(parts) > 1 and parts[1][:1] not in _NUMERIC:
        out, parts = "-" + parts[1], parts[1:]
    for part in parts[1:]:
        if plus and part.startswith("-"):
            out += " - " + part[1:]  # a + -b  ->  a - b
        elif juxtapose and (part[:1] in "0123456789.-" or out[-1:].isdigit() and part.startswith("\\frac") or (
                calls and reads_as_applied(out, part, calls))):
            out += r" \cdot " + part  # x 2 would read as x2, 2 \frac{1}{x} as a mixed number, \sigma (x) as a call
        else:
            out += separator + part
    return out


def _keywords(opdef: OpDef, attrs: dict, latex: bool = False) -> str:
    r"""The non-default attributes as ``, axis=1``; in LaTeX the words upright,
    ``, \mathrm{start}=1`` (math mode sets ``start`` as the product s t a r t)."""
    out = []
    for key, default in opdef.attrs.items():
        value = attrs.get(key, default)
        if _differs(value, default):
            text = format_attr(value)
            if latex:
                key = r"\mathrm{" + key.replace("_", r"\_") + "}"
                text = r"\mathrm{" + text + "}" if text[:1].isalpha() else text  # True, None
            out.append(f", {key}={text}")
    return "".join(out)


def _subscript(opdef: OpDef, attrs: dict) -> str:
    r"""A reduction's axis, when it is not the op's default, as a LaTeX subscript:
    ``_{\mathrm{axis}=1}`` (a template's ``{sub}``)."""
    default = opdef.attrs.get("axis")
    value = attrs.get("axis", default)
    return rf"_{{\mathrm{{axis}}={format_attr(value)}}}" if _differs(value, default) else ""


def _differs(value: Any, default: Any) -> bool:
    if isinstance(value, (list, tuple)) or isinstance(default, (list, tuple)):
        return not isinstance(value, (list, tuple)) or not isinstance(default, (list, tuple)) or (
            tuple(value) != tuple(default)
        )
    return value != default


def format_attr(value: Any) -> str:
    """An attribute value in Python syntax (tuples for sequences)."""
    if isinstance(value, (list, tuple)):
        items = [format_attr(v) for v in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, np.generic):
        value = value.item()
    return repr(value)


FORMS = ("expanded", "program")


def layout(obj: Any, form: str, style: Style, *, max_length: int, caller: str) -> tuple[Graph, list[tuple[str, Entry]] | Entry]:
    """The lines ``[(name, expression)]`` of a graph, or the one expression of a node.

    The expanded form falls back to the program form (with a warning) when an
    expression would pass ``max_length`` characters: expression swell.
    """
    g, _, result = layout_form(obj, form, style, max_length=max_length, caller=caller)
    return g, result


def layout_form(obj: Any, form: str, style: Style, *, max_length: int,
                caller: str) -> tuple[Graph, str, list[tuple[str, Entry]] | Entry]:
    """:func:`layout`, with the form it wrote (``"program"`` where the expanded form fell back)."""
    from ..errors import ArgumentError, GraphError
    from ..node import Node

    if form not in FORMS:
        raise ArgumentError(f"{caller}: form must be one of {FORMS}, not {form!r}")
    if isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 1:
        raise ArgumentError(f"{caller}: max_length must be an int >= 1, not {max_length!r}")
    if isinstance(obj, Node):
        g, target = obj.graph, obj.graph.node(obj.name).name  # a handle of a renamed node: NodeNotFoundError
    elif isinstance(obj, Graph):
        g, target = obj, None
    else:
        raise GraphError(f"{caller} prints a Graph or a Node, not {type(obj).__name__}")
    g.validate()
    with gc_paused():
        return g, *_layout(g, target, form, style, max_length=max_length, caller=caller)


def _layout(g: Graph, target: str | None, form: str, style: Style, *, max_length: int, caller: str) -> tuple[str, Any]:
    if form == "expanded":
        targets = [target] if target is not None else _targets(g)
        try:
            entries = expand(g, targets, style, max_length=max_length)
        except ExpressionTooLong as exc:
            import warnings

            warnings.warn(
                f"{caller}: the expanded form of {exc.node!r} passes {max_length} characters "
                "(expression swell); writing the program form instead (raise max_length= to force it)",
                stacklevel=4,
            )
        else:
            return form, entries[target] if target is not None else [(t, entries[t]) for t in targets]
    # a forward node with an adjoint gets its line: the listing says g_t4 = ..., so t4 = ... too
    shown = {data["adjoint_of"] for data in g.nx._node.values() if data.get("adjoint_of")}
    if target is None:
        return "program", program(g, None, style, always=shown)
    return "program", program(g, needed(g, [target]), style, always=[target, *shown])


def _targets(g: Graph) -> list[str]:
    if g.outputs:
        return g.outputs
    # no outputs marked: print what nothing else uses
    return [n for n in g.schedule() if g.nx.nodes[n]["role"] == "op" and g.nx.out_degree(n) == 0]
