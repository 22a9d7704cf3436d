"""``cg.parse``: a formula or a small program as a Graph, without ``eval``.

A hand-written tokenizer (:mod:`cgraph.lexer`) and an iterative shunting-yard parser
(explicit stacks, no recursion) turn the text into expression trees; a builder walks
them, also iteratively, into graph nodes, merging identical subexpressions. Nothing in
the text is ever executed: no ``eval``, ``exec``, ``compile`` or ``ast``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .errors import CGraphError, ParseError
from .graph import NO_ATTRS, Graph
from .lexer import MAX_LENGTH, NUMBER_WORDS, Token, keyword_error, tokenize
from .memory import gc_paused
from .ops.registry import OPS
from .passes.fixpoint import freeze

__all__ = ["MAX_LENGTH", "MAX_NESTING", "parse"]

#: deepest nesting of parentheses and calls :func:`parse` accepts
MAX_NESTING = 10_000
#: most dimensions of an array literal (numpy's own limit is 64)
MAX_ARRAY_DIMS = 32

# symbol: (op, precedence, right-associative); as in Python, unary minus binds between
# * and ** (-x^2 is -(x^2), 2^-x is 2^(-x))
_BINARY = {
    "+": ("add", 1, False),
    "-": ("sub", 1, False),
    "*": ("mul", 2, False),
    "/": ("div", 2, False),
    "@": ("matmul", 2, False),
    "^": ("pow", 4, True),
    "**": ("pow", 4, True),
}
_UNARY = 3
_OUTPUT_NAMES = ("y", "out")


@dataclass(slots=True, eq=False)
class _Expr:
    """A parsed expression: a number, a name, or an op applied to argument trees."""

    kind: str  # "num" | "name" | "op"
    value: Any  # the number, the name, or the op's name
    tok: Token
    args: list[_Expr] = field(default_factory=list)
    attrs: dict = field(default_factory=dict)
    grouped: bool = False  # parenthesised or a call: an infix chain does not extend it


@dataclass(slots=True, eq=False)
class _Call:
    """An open call ``f(`` on the operator stack."""

    tok: Token
    paren: Token
    height: int  # the output stack's size at the '('
    kwargs: dict = field(default_factory=dict)
    after_comma: bool = False


def parse(text: str, *, name: str = "graph") -> Graph:
    """Build a Graph from a formula or a small program.

    Parameters
    ----------
    text : str
        One expression (its output is named ``y``; ``out`` if ``y`` is one of its
        names), or a program of ``name = expression`` lines. Names never assigned are
        inputs, in order of first appearance. The outputs are the last assigned name
        and the names assigned on the lines just before it that no later line uses, in
        line order: ``g_x = ...`` and ``g_z = ...`` are two outputs (as :func:`to_text`
        prints a gradient), the lecture's program has one. A last line
        ``return a, b`` lists the outputs instead, in their order (names only: assigned
        ones, or inputs; a name that is neither is read as an input, with a warning):
        :func:`to_text` ends with one where the lines alone cannot say them (an output
        that another line uses, an input that is an output).
        Operators: ``+ - * / @``, unary ``-``, power ``^`` or ``**`` (right-assoc.,
        binding tighter than unary minus: ``-x^2`` is ``-(x^2)``); every op's function
        by its name (``exp(x)``, ``sum(X, axis=1)``: keyword attributes take literal
        ints, tuples of ints, ``True``, ``False``, ``None``). Numbers: ``7`` (an exact
        int), ``2.5``, ``1e-3``, ``nan``, ``inf``; array constants are lists of them,
        ``[1, 2.5]`` or ``[[1, 0], [0, 1]]`` (as :func:`to_text` prints constants).
        A name in backticks is a name whatever it holds (`` `x-1` ``, `` `sin` ``), as
        :func:`to_text` prints names that would read as something else.
        ``#`` starts a comment; ``;`` separates statements; newlines inside
        parentheses or brackets continue the line.
    name : str
        The graph's name.

    Returns
    -------
    Graph
        Identical subexpressions are one node (``x*z`` and ``z*x`` too); a chain
        ``d + e + f`` (or ``*``) in one expression is one variadic node.

    Raises
    ------
    ParseError
        With ``line`` and ``column`` (1-based) for anything else: unknown functions,
        wrong arity, a name assigned twice or used before its assignment, names of
        functions used as variables, a ``return`` that is not last or lists anything
        but names, or a name twice, Python constructs (attributes, strings,
        subscripts, lambdas, ...), unbalanced parentheses, control characters, text
        longer than ``MAX_LENGTH`` or nested deeper than ``MAX_NESTING``.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.parse("a = x*z\\nb = log(x)\\nc = sin(b)\\nd = exp(a)\\ne = a/b\\nf = c/a\\ny = d + e + f")
    >>> list(g.nx), g.nx.number_of_edges()
    (['x', 'z', 'a', 'b', 'c', 'd', 'e', 'f', 'y'], 12)
    >>> g.inputs, g.outputs
    (['x', 'z'], ['y'])
    >>> round(float(cg.evaluate(g, x=2, z=3)["y"]), 6)
    412.191457
    >>> cg.parse("g_x = z*exp(x*z)\\ng_z = x*exp(x*z)").outputs
    ['g_x', 'g_z']
    >>> cg.parse("h = sin(x)\\ny = 2*h\\nreturn h, y").outputs
    ['h', 'y']
    >>> g = cg.parse("-x^2 + 1e-3")
    >>> [(n, g.node(n).op) for n in g.schedule()]
    [('x', 'input'), ('t1', 'const'), ('t2', 'pow'), ('t3', 'neg'), ('t4', 'const'), ('y', 'add')]
    """
    with gc_paused():  # tokens, trees and nodes: many small objects, no cyclic garbage
        tokens = tokenize(text)
        if not text.isascii():
            _warn_lookalikes(tokens)
        parser = _Parser(tokens)
        statements = parser.statements()
        if not statements and parser.returned is None:
            raise ParseError("empty formula: no expression or assignment", 1, 1)
        return _Builder(tokens, name).build(statements, parser.returned)


class _Parser:
    """Tokens to ``(target token or None, expression tree)`` per statement."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.returned: list[Token] | None = None  # the names of a final `return a, b`

    def _return(self) -> list[Token]:
        """``return a, b``: output names (plain or in backticks), and nothing after it."""
        tok = self.next()
        if self.peek().kind == "op" and self.peek().value == "=":  # `return = ...`
            raise keyword_error(tok.value, tok.line, tok.col)
        names: list[Token] = []
        while True:
            tok = self.next()
            if tok.kind == "name" and (tok.value in OPS or tok.value in NUMBER_WORDS):
                what = "a function" if tok.value in OPS else "a number"
                raise ParseError(f"{tok.value!r} is {what}, not an output name (a name written so is `{tok.value}`)",
                                 tok.line, tok.col)
            if tok.kind not in ("name", "qname"):
                if tok.kind in ("nl", "end"):
                    what = "an output name after ','" if names else "the output names after return: return a, b"
                    raise ParseError(f"expected {what}", tok.line, tok.col)
                raise _not_a_name(tok)
            for earlier in names:
                if earlier.value == tok.value:
                    raise ParseError(f"{tok.show()} is returned twice (first at column {earlier.col})", tok.line, tok.col)
            names.append(tok)
            sep = self.next()
            if sep.kind in ("nl", "end"):
                break
            if sep.kind != "op" or sep.value != ",":
                raise _not_a_name(sep)
        while self.peek().kind == "nl":
            self.next()
        if self.peek().kind != "end":
            after = self.peek()
            raise ParseError(f"nothing may follow the return on line {names[0].line}: it lists the outputs, last",
                             after.line, after.col)
        return names

    def next(self) -> Token:
        tok = self.tokens[self.pos]
        self.pos += tok.kind != "end"
        return tok

    def peek(self, k: int = 0) -> Token:
        return self.tokens[min(self.pos + k, len(self.tokens) - 1)]

    def statements(self) -> list[tuple[Token | None, _Expr]]:
        out = []
        while True:
            while self.peek().kind == "nl":
                self.next()
            if self.peek().kind == "end":
                return out
            if self.peek().kind == "return":
                self.returned = self._return()
                return out
            target = None
            if self.peek().kind in ("name", "qname") and self.peek(1).value == "=" and self.peek(1).kind == "op":
                target = self.next()
                self.next()
            out.append((target, self.expression()))

    def expression(self) -> _Expr:
        """One expression up to the end of its statement (shunting-yard, no recursion)."""
        out: list[_Expr] = []
        ops: list[Any] = []  # ("bin", symbol, tok) | ("neg"/"pos", tok) | ("group", tok) | _Call
        depth = 0
        expect = True  # an operand comes next
        while True:
            tok = self.next()
            top = ops[-1] if ops else None
            if expect:
                if isinstance(top, _Call) and tok.kind == "name" and self.peek().value == "=":
                    self._keyword(top, tok)
                    if self._after_keyword(top):
                        depth -= 1
                        self._close_call(ops.pop(), out)
                        expect = False
                    continue
                if isinstance(top, _Call) and top.kwargs and tok.value != ")":
                    raise ParseError(f"positional argument {tok.show()} follows a keyword argument", tok.line, tok.col)
                if tok.kind == "num":
                    out.append(_Expr("num", tok.value, tok))
                    expect = False
                elif tok.kind == "qname":  # `x-1`, `sin`, `nan`: a name, whatever it says
                    out.append(_Expr("name", tok.value, tok))
                    expect = False
                elif tok.kind == "name" and self.peek().value == "(" and self.peek().kind == "op":
                    _check_function(tok)
                    paren = self.next()
                    depth = _deeper(depth, paren)
                    ops.append(_Call(tok, paren, len(out)))
                elif tok.kind == "name" and tok.value in NUMBER_WORDS:
                    out.append(_Expr("num", NUMBER_WORDS[tok.value], tok))
                    expect = False
                elif tok.kind == "name":
                    if tok.value in OPS:
                        raise ParseError(f"{tok.value!r} is a function; call it as {tok.value}(...)", tok.line, tok.col)
                    out.append(_Expr("name", tok.value, tok))
                    expect = False
                elif tok.value == "(" and tok.kind == "op":
                    depth = _deeper(depth, tok)
                    ops.append(("group", tok))
                elif tok.value in ("-", "+") and tok.kind == "op":
                    ops.append(("neg" if tok.value == "-" else "pos", tok))
                elif tok.value == "[" and tok.kind == "op":
                    out.append(_Expr("num", self._array(tok), tok))
                    expect = False
                elif tok.value == ")" and isinstance(top, _Call) and (top.after_comma or len(out) == top.height):
                    depth -= 1
                    self._close_call(ops.pop(), out)
                    expect = False
                else:
                    if tok.kind in ("nl", "end"):
                        _check_closed(ops)
                    raise ParseError(_expected_operand(tok, top), tok.line, tok.col)
            elif tok.kind == "op" and tok.value in _BINARY:
                _, prec, right = _BINARY[tok.value]
                while ops and _binds(ops[-1]) is not None:
                    p = _binds(ops[-1])
                    if p < prec or (p == prec and right):
                        break
                    _reduce(ops.pop(), out)
                ops.append(("bin", tok.value, tok))
                expect = True
            elif tok.value == ")" and tok.kind == "op":
                frame = self._unwind(ops, out, tok)
                depth -= 1
                if isinstance(frame, _Call):
                    self._close_call(frame, out)
                else:
                    out[-1].grouped = True
            elif tok.value == "," and tok.kind == "op":
                frame = self._unwind(ops, out, tok, comma=True)
                frame.after_comma = True
                ops.append(frame)
                expect = True
            elif tok.kind in ("nl", "end"):
                _check_closed(ops)
                while ops:
                    _reduce(ops.pop(), out)
                assert len(out) == 1, out
                return out[0]
            else:
                raise ParseError(_expected_operator(tok, out[-1]), tok.line, tok.col)

    def _array(self, open_tok: Token) -> np.ndarray:
        """The list literal that ``open_tok`` ('[') opens, as a float64 array: numbers
        (``nan``, ``inf`` and a sign included) and lists of them, as ``to_text`` prints
        array constants. Read with an explicit stack, like everything here."""
        root: list = []
        stack = [root]
        item = True  # an element or ']' comes next (else ',' or ']')
        while stack:
            tok = self.next()
            if tok.kind == "op" and tok.value == "]":  # also right after '[' or a trailing ',
                stack.pop()
                item = False
            elif not item and tok.kind == "op" and tok.value == ",":
                item = True
            elif item and tok.kind == "op" and tok.value == "[":
                if len(stack) >= MAX_ARRAY_DIMS:
                    raise ParseError(f"lists nest deeper than {MAX_ARRAY_DIMS} levels", tok.line, tok.col)
                stack[-1].append([])
                stack.append(stack[-1][-1])
            elif item:
                stack[-1].append(self._array_number(tok))
                item = False
            else:
                raise ParseError(f"expected ',' or ']' in a list but found {tok.show()}", tok.line, tok.col)
        try:
            return np.array(root, dtype=np.float64)
        except ValueError:
            raise ParseError("the lists of an array must have equal lengths (no ragged lists)",
                             open_tok.line, open_tok.col) from None

    def _array_number(self, tok: Token) -> float:
        sign = 1.0
        if tok.kind == "op" and tok.value in ("-", "+"):
            sign = -1.0 if tok.value == "-" else 1.0
            tok = self.next()
        if tok.kind == "name" and tok.value in NUMBER_WORDS:
            return sign * NUMBER_WORDS[tok.value]
        if tok.kind == "num":
            try:
                return sign * float(tok.value)
            except OverflowError:
                raise ParseError(f"an integer of {len(str(tok.value))} digits is too large for a float",
                                 tok.line, tok.col) from None
        raise ParseError(f"a list holds numbers (or lists of them), not {tok.show()}", tok.line, tok.col)

    def _unwind(self, ops: list, out: list, tok: Token, *, comma: bool = False) -> Any:
        """Reduce down to the innermost open '(' or call and pop it."""
        while ops:
            frame = ops.pop()
            if isinstance(frame, _Call) or frame[0] == "group":
                if comma and not isinstance(frame, _Call):
                    raise ParseError("',' outside a function call (tuples are not allowed)", tok.line, tok.col)
                return frame
            _reduce(frame, out)
        what = "',' outside a function call" if comma else "unbalanced ')': no '(' is open"
        raise ParseError(what, tok.line, tok.col)

    def _keyword(self, call: _Call, tok: Token) -> None:
        op = OPS[call.tok.value]
        self.next()  # '='
        if tok.value not in op.attrs:
            allowed = ", ".join(op.attrs) or "none"
            raise ParseError(
                f"{call.tok.value}() has no keyword {tok.value!r} (keywords: {allowed})", tok.line, tok.col
            )
        if tok.value in call.kwargs:
            raise ParseError(f"keyword {tok.value!r} given twice", tok.line, tok.col)
        call.kwargs[tok.value] = self._literal(tok.value)

    def _literal(self, key: str) -> Any:
        """An int, ``-int``, True, False, None or a tuple of ints, as a keyword's value."""
        tok = self.next()
        if tok.kind == "lit":
            return tok.value
        if tok.kind == "op" and tok.value == "(":
            items = []
            while self.peek().value != ")" or self.peek().kind != "op":
                items.append(self._int(key))
                sep = self.next()
                if sep.value == ")" and sep.kind == "op":
                    return tuple(items)
                if sep.value != "," or sep.kind != "op":
                    raise ParseError(
                        f"expected ',' or ')' in the tuple for {key}=, found {sep.show()}", sep.line, sep.col
                    )
            self.next()
            return tuple(items)
        self.pos -= tok.kind != "end"
        return self._int(key)

    def _int(self, key: str) -> int:
        tok = self.next()
        sign = 1
        if tok.kind == "op" and tok.value == "-":
            sign, tok = -1, self.next()
        if tok.kind != "num" or not isinstance(tok.value, int):
            raise ParseError(
                f"{key}= takes a literal int, a tuple of ints, True, False or None, not {tok.show()}", tok.line, tok.col
            )
        return sign * tok.value

    def _after_keyword(self, call: _Call) -> bool:
        """Consume the ',' or ')' after a keyword argument; True at ')'."""
        tok = self.next()
        if tok.kind == "op" and tok.value == ",":
            call.after_comma = True
            return False
        if tok.kind == "op" and tok.value == ")":
            return True
        raise ParseError(f"expected ',' or ')' after a keyword argument, found {tok.show()}", tok.line, tok.col)

    def _close_call(self, call: _Call, out: list) -> None:
        args = out[call.height :]
        del out[call.height :]
        op = OPS[call.tok.value]
        if not op.arity_ok(len(args)):
            t = call.tok
            n = op.arity if op.arity is not None else op.min_arity
            raise ParseError(
                f"{op.name}() takes {op.arity_text()} argument{'s' * (n != 1)}, got {len(args)}"
                + (f" (attributes go by keyword: {', '.join(k + '=...' for k in op.attrs)})" if op.attrs else ""),
                t.line,
                t.col,
            )
        out.append(_Expr("op", op.name, call.tok, args, dict(call.kwargs), grouped=True))


def _binds(frame: Any) -> int | None:
    """The precedence of an operator frame; None for '(' and calls."""
    if isinstance(frame, _Call) or frame[0] == "group":
        return None
    return _UNARY if frame[0] in ("neg", "pos") else _BINARY[frame[1]][1]


def _reduce(frame: tuple, out: list[_Expr]) -> None:
    kind, tok = frame[0], frame[-1]
    if kind == "pos":
        return
    if kind == "neg":
        a = out.pop()
        # -3 is the constant -3; -2^2 is still -(2^2) because ^ reduced first
        out.append(_Expr("num", -a.value, tok) if a.kind == "num" else _Expr("op", "neg", tok, [a]))
        return
    op = _BINARY[frame[1]][0]
    b, a = out.pop(), out.pop()
    if OPS[op].variadic and a.kind == "op" and a.value == op and not a.grouped:
        a.args.append(b)  # d + e + f is one add node, as in the lecture
        out.append(a)
    else:
        out.append(_Expr("op", op, tok, [a, b]))


def _check_closed(ops: list) -> None:
    for frame in reversed(ops):
        if _binds(frame) is None:
            t = frame.paren if isinstance(frame, _Call) else frame[1]
            raise ParseError("this '(' is never closed", t.line, t.col)


def _deeper(depth: int, tok: Token) -> int:
    if depth >= MAX_NESTING:
        raise ParseError(f"parentheses nest deeper than {MAX_NESTING:,} levels", tok.line, tok.col)
    return depth + 1


# names other libraries (NumPy, SymPy, PyTorch) give an op, for "did you mean"
_OTHER_NAMES = {
    "ln": "log", "power": "pow", "dot": "matmul", "logistic": "sigmoid", "expit": "sigmoid",
    "max": "maximum", "min": "minimum",  # NumPy's max is a reduction: the elementwise op takes its maximum name
    "sine": "sin", "cosine": "cos", "tangent": "tan",  # (sine is as long as size and sign)
    "sgn": "sign",
}
SLICE_HINT = "a slice is written slice(x, start=1, stop=3, step=2, axis=0)"
_VARIABLE = re.compile(r"[A-Za-z](\d+|_\w+)?")  # a name that reads as a variable: x, x1, w_1, x_i


def _check_function(tok: Token) -> None:
    if tok.value not in OPS:
        known = ", ".join(sorted(OPS))
        lower = tok.value.lower()  # Sin, EXP, Ln
        near = _OTHER_NAMES.get(lower) or (lower if lower in OPS else None) or _typo_of(lower)
        if near:
            hint = f"did you mean {near!r}? "
        elif _VARIABLE.fullmatch(tok.value):  # x(1+x), w_1(x+b): a product written as in print
            hint = f"to multiply, write {tok.value}*(...); "
        else:
            hint = ""
        raise ParseError(f"unknown function {tok.value!r}; {hint}known functions: {known}", tok.line, tok.col)


def _typo_of(name: str) -> str | None:
    """The op ``name`` is a typo of: a letter typed twice (expp, sigmoidd), one changed or two
    swapped (sigmiod), or, in a name of five letters or more, one dropped or added (sigmod,
    softmx, transpos). Not one a letter shorter or longer in a short name: cosh, exp2 or log2
    are other functions, not cos, exp, log; nor a merely similar one (sinh is not sign)."""
    for i in range(1, len(name)):
        if name[i] == name[i - 1] and name[:i] + name[i:][1:] in OPS:
            return name[:i] + name[i + 1:]
    same = [op for op in OPS if _one_edit(name, op) and (len(op) == len(name) or min(len(op), len(name)) >= 5)]
    return next(iter(difflib.get_close_matches(name, same, 1, 0.7)), None)  # (cot is no cos, sgn no sin)


def _expected_operand(tok: Token, top: Any) -> str:
    if tok.kind in ("nl", "end"):
        return f"the expression is incomplete at {tok.show()}"
    if tok.kind == "lit":
        return f"{tok.value} is only allowed as the value of a keyword argument"
    if tok.value == ")" and isinstance(top, tuple) and top[0] == "group":
        return "empty parentheses '()'"
    if tok.value == ")" and top is None:
        return "unbalanced ')': no '(' is open"
    return f"expected a name, number or '(' but found {tok.show()}"


def _expected_operator(tok: Token, last: _Expr) -> str:
    if tok.value == "[" and tok.kind == "op":
        return f"subscripts ('[' after a value) are not allowed; {SLICE_HINT}"
    if tok.value == "(" and tok.kind == "op":
        if last.kind == "name":
            return f"unknown function {last.value!r}; write {last.value}*(...) to multiply"
        return "an expression cannot be called; write *(...) to multiply"
    if tok.value == "=":
        return "unexpected '=': only 'name = expression' at the start of a line assigns"
    found = f"expected an operator, ')' or the end of the line but found {tok.show()}"
    if tok.kind in ("name", "qname", "num"):  # two operands in a row: a product as written on paper
        if last.kind == "name" and last.value.lower() in _OTHER_NAMES and not last.grouped:  # ln x
            near = _OTHER_NAMES[last.value.lower()]
            return f"{found}; {last.value!r} is not a function: write {near}(...), as in {near}({_written(tok)})"
        if last.kind in ("name", "num") and not last.grouped:  # x z (the lecture's xz), 2 x
            return f"{found}; to multiply, write {_written(last.tok)}*{_written(tok)}"
        return f"{found}; to multiply, write '*' between the two"
    return found


def _written(tok: Token) -> str:
    """A name or number token as a formula writes it (a quoted name in backticks)."""
    if tok.kind == "qname":
        return f"`{tok.value}`"
    return str(tok.value) if tok.kind == "name" else tok.show().strip("'")


class _Builder:
    """Expression trees to graph nodes, merging identical subexpressions (hash-consing)."""

    def __init__(self, tokens: list[Token], name: str) -> None:
        self.g = Graph(name)
        self.reserved = {t.value for t in tokens if t.kind in ("name", "qname")}
        self.counter = 0
        self.names: list[str] = []  # node id -> current name (anonymous nodes get renamed)
        self.keys: dict[tuple, int] = {}  # (op, operand ids, attrs) -> node id
        self.ids: dict[str, int] = {}  # user name -> node id
        self.anonymous: set[int] = set()
        self.assigned: dict[str, Token] = {}
        self.used: dict[str, Token] = {}  # input name -> first use
        self.referenced: set[str] = set()  # assigned names a later line uses by name
        self.pending: Token | None = None  # the name being assigned

    def build(self, statements: list[tuple[Token | None, _Expr]], returned: list[Token] | None = None) -> Graph:
        names = []
        for i, (target, tree) in enumerate(statements):
            if target is None and (i < len(statements) - 1 or returned is not None):
                raise ParseError(
                    "this expression is not assigned to anything (write name = ...)", tree.tok.line, tree.tok.col
                )
            if target is not None:
                self._check_target(target)
            name = target.value if target is not None else self._output_name()
            self._statement(tree, name, target)
            names.append(name)
        if returned is not None:
            outputs = []
            for tok in returned:  # (a loop, not a comprehension: the warnings' stacklevel)
                outputs.append(self._returned(tok))
        else:  # the last assigned name and those just before it that no later line uses
            k = len(names) - 1
            while k > 0 and names[k - 1] not in self.referenced:
                k -= 1
            outputs = names[k:]
        self.g.set_outputs(outputs)  # (one g.output each took the square of their number: a list's `in`)
        self._warn_unused(outputs if returned is not None else names[-1:], outputs)
        return self.g.validate()

    def _returned(self, tok: Token) -> str:
        """The name of ``return``: an assigned name or an input; a name not seen before is
        an input too (as everywhere: the graph whose output is an input nothing uses is
        written ``return x``), with a warning, since it is more often a typo."""
        if tok.value not in self.ids:
            import warnings

            near = next((n for n in self.assigned if _one_edit(n, tok.value)), None)
            warnings.warn(f"line {tok.line}, column {tok.col}: {tok.value!r} is returned but neither assigned nor "
                          f"used before, so it is an input that is also an output"
                          + (f": a typo of {near!r}?" if near else ""), stacklevel=4)
        self._name(tok)
        return tok.value

    def _warn_unused(self, exempt: list[str], outputs: list[str]) -> None:
        """A warning for an assigned name nothing uses when an input one typo away from it
        first appears on a later line: ``y = d + e + ff`` for ``f`` made ``ff`` an input and left ``f``
        dead (and an output: the lines before the last that nothing uses are outputs), which
        evaluate only reported as the missing input ``ff``. (Unused assignments alone are no
        mistake: the program of a graph with several outputs has them.) ``exempt``: the
        last line's name, or those a ``return`` lists."""
        import warnings

        from .printing.render import is_generated

        exempt, outputs_ = set(exempt), set(outputs)
        # the inputs one edit from a name share a key with it (the name, or it less one letter): a
        # pass over every input for every name took 16 s for a program of 4000 lines
        keyed: dict[str, list[str]] = {}
        for typo in self.used:
            for key in _one_deleted(typo):
                keyed.setdefault(key, []).append(typo)
        order = {typo: i for i, typo in enumerate(self.used)}
        for name, t in self.assigned.items():
            if name in exempt or name in self.referenced or is_generated(name):  # t3: a printed program's, not typed
                continue
            near = {typo for key in _one_deleted(name) for typo in keyed.get(key, ())}
            for typo in sorted(near, key=order.__getitem__):  # the first to appear, as before
                use = self.used[typo]
                if use.line > t.line and _one_edit(name, typo):
                    role = " (so it is an output)" if name in outputs_ else ""
                    warnings.warn(f"line {t.line}: {name!r} is assigned but never used{role}, and the input {typo!r} "
                                  f"first appears after it (line {use.line}, column {use.col}): a typo of {name!r}?",
                                  stacklevel=4)
                    break

    def _check_target(self, t: Token) -> None:
        if t.kind == "name" and t.value in OPS:  # (`sin` in backticks is a name)
            raise ParseError(f"cannot assign to {t.value!r}: it is the name of a function; write `{t.value}`",
                             t.line, t.col)
        if t.kind == "name" and t.value in NUMBER_WORDS:
            raise ParseError(f"cannot assign to {t.value!r}: it is a number; write `{t.value}`", t.line, t.col)
        if t.value in self.assigned:
            first = self.assigned[t.value]
            raise ParseError(f"{t.value!r} is assigned twice (first on line {first.line})", t.line, t.col)

    def _output_name(self) -> str:
        for n in _OUTPUT_NAMES:
            if n not in self.ids and n not in self.reserved:
                return n
        k = 2
        while f"out{k}" in self.reserved:
            k += 1
        return f"out{k}"

    def _statement(self, tree: _Expr, name: str, target: Token | None) -> None:
        if target is not None and name in self.used:
            _used_before(self.used[name], target)
        self.pending = target
        root = self._node(tree, name)
        self.pending = None
        if self.names[root] == name:
            pass  # the root was created under its name
        elif root in self.anonymous:
            self.g.rename(self.names[root], name)
            self.names[root] = name
            self.anonymous.discard(root)
        else:  # `b = a`: a node of its own, like the lecture's g_d = g_y
            root = self._new(tree.tok, "identity", [root], {}, name, key=None)
        self.ids[name] = root
        if target is not None:
            self.assigned[name] = target

    def _node(self, tree: _Expr, root_name: str) -> int:
        """The node id of ``tree``, built bottom-up with an explicit stack."""
        done: dict[int, int] = {}  # id(expr) -> node id
        stack = [(tree, False)]
        while stack:
            e, ready = stack.pop()
            if e.kind == "op" and not ready:
                stack.append((e, True))
                stack.extend((a, False) for a in reversed(e.args))
                continue
            name = root_name if e is tree else None
            if e.kind == "num":
                done[id(e)] = self._intern(e.tok, "const", [], {"value": e.value}, name)
            elif e.kind == "name":
                done[id(e)] = self._name(e.tok)
            else:
                args = [done[id(a)] for a in e.args]
                done[id(e)] = self._intern(e.tok, e.value, args, {**OPS[e.value].attrs, **e.attrs}, name)
        return done[id(tree)]

    def _name(self, tok: Token) -> int:
        if self.pending is not None and tok.value == self.pending.value:
            _used_before(tok, self.pending)
        if tok.value in self.assigned:
            self.referenced.add(tok.value)
        if tok.value not in self.ids:
            self.used[tok.value] = tok
            self.ids[tok.value] = self._new(tok, "input", [], {}, tok.value, key=None)
        return self.ids[tok.value]

    def _intern(self, tok: Token, op: str, args: list[int], attrs: dict, name: str | None) -> int:
        ops = sorted(args) if op != "const" and OPS[op].commutative else args
        # freeze tells 0.0 from -0.0 (which compare equal), and arrays by their bytes
        key = (
            op,
            tuple(ops),
            tuple((k, freeze(v)) for k, v in attrs.items()),
        )
        if key not in self.keys:
            self.keys[key] = self._new(tok, op, args, attrs, name, key=key)
        return self.keys[key]

    def _new(self, tok: Token, op: str, args: list[int], attrs: dict, name: str | None, key: Any) -> int:
        anonymous = name is None
        if anonymous:
            name = self._fresh()
        try:
            if op == "input":
                self.g.input(name)
            elif op == "const":
                self.g.const(attrs["value"], name=name)
            else:  # Graph.apply, without its operand conversion: the operands are nodes of g,
                # and attrs holds the op's defaults already (_node)
                self.g._apply(OPS[op], [self.names[a] for a in args], attrs or NO_ATTRS, name)
        except CGraphError as exc:
            raise ParseError(str(exc), tok.line, tok.col) from None
        self.names.append(name)
        if anonymous:
            self.anonymous.add(len(self.names) - 1)
        return len(self.names) - 1

    def _fresh(self) -> str:
        while True:
            self.counter += 1
            name = f"t{self.counter}"
            if name not in self.reserved and name not in self.g.nx:
                return name


def _not_a_name(tok: Token) -> ParseError:
    """The error for what a ``return`` line holds besides names and commas."""
    return ParseError(f"return lists output names separated by ',', not {tok.show()} "
                      "(to return an expression, assign it first: y = ...)", tok.line, tok.col)


def _one_deleted(name: str) -> set[str]:
    """``name`` and ``name`` less any one letter: two names one edit apart (:func:`_one_edit`)
    share one of these. None for a name longer than 64 letters, which no one retypes with a typo
    (its keys would take the square of its length)."""
    if len(name) > 64:
        return set()
    return {name, *(name[:i] + name[i + 1:] for i in range(len(name)))}


def _one_edit(a: str, b: str) -> bool:
    """Whether ``b`` is ``a`` with one letter added, dropped, changed, or two swapped.
    Two one-letter names are not: any two are one change apart (``c = 2`` and an input
    ``x`` after it are the two outputs of a printed graph, no typo)."""
    if a == b or abs(len(a) - len(b)) > 1 or len(a) == len(b) == 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return (a[i + 1:] == b[i + 1:] or a[i:] == b[i + 1:] or a[i + 1:] == b[i:]
            or a[i:i + 2] == b[i:i + 2][::-1] and a[i + 2:] == b[i + 2:])


def _warn_lookalikes(tokens: list[Token]) -> None:
    """A warning for two different names that read alike, as pasted from a PDF or a slide:
    ``𝑥^2 + x`` (a mathematical italic x) has two inputs, and its derivative by ``x`` is 1.
    Alike: equal in Unicode's compatibility form (NFKC), as Python reads identifiers. A name
    in backticks is taken as written."""
    import unicodedata
    import warnings

    first: dict[str, Token] = {}
    for tok in tokens:
        if tok.kind != "name":
            continue
        key = tok.value if tok.value.isascii() else unicodedata.normalize("NFKC", tok.value)
        seen = first.setdefault(key, tok)
        if seen.value != tok.value:
            odd = [c for c in seen.value + tok.value if not c.isascii()]
            codes = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, '?')}" for c in dict.fromkeys(odd))
            warnings.warn(f"line {tok.line}, column {tok.col}: {tok.value!r} and {seen.value!r} (line {seen.line}, "
                          f"column {seen.col}) are two different names that look alike ({codes}); Python would "
                          f"read both as {key!r}: write them the same for one name", stacklevel=3)
            return


def _used_before(use: Token, target: Token) -> None:
    raise ParseError(f"{use.value!r} is used before its assignment on line {target.line}", use.line, use.col)
