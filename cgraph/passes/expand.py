"""``expand``: a scalar graph as a sum of terms ``c * u^a * v^b ...``, the way a
derivative is written by hand.

Every scalar node is read as a polynomial in *atoms*: a dict ``{monomial: coefficient}``
whose monomial is a product of atoms to integer exponents, shared by the polynomials that
hold it (:mod:`cgraph.passes.persistent`: a product of ``n`` factors built factor by factor
costs ``n log n``, not ``n^2``). Atoms are inputs, params and calls of functions (``exp``,
``log``, ``sin``...) whose arguments are expanded in turn; ``+ - *`` and ``/`` by a single
term multiply out, integer powers of a single term multiply its exponents. Anything else
(a power of a sum, a fractional power, an array op) stays one atom. The result is rebuilt
term by term, then simplified.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

from ..graph import Graph, derived_attrs, require_graph
from ..memory import gc_paused
from .builder import _PLAIN
from .fixpoint import cse_key, freeze, pointwise
from .persistent import ONE as _ONE
from .persistent import Path, Shared, factors
from .simplify import simplify
from .terms import exact

#: most terms one expanded product may have; a product that would have more stays a product
MAX_TERMS = 64
#: the expanded graph may grow to this many times the op nodes of the original (plus
#: GROWTH_SLACK); past that, the remaining nodes are kept as they are
GROWTH = 4
GROWTH_SLACK = 256

Poly = dict  # {monomial: coefficient}; a monomial is a persistent.Mono (or _ONE)


def expand(g: Graph) -> Graph:
    """``g`` with every scalar output multiplied out into a sum of terms.

    Parameters
    ----------
    g : Graph
        The graph to expand (not modified); typically a simplified adjoint graph.

    Returns
    -------
    Graph
        A new graph with the same outputs (names and metadata: ``g_x`` stays the
        derivative of its output) and inputs. Products and quotients are multiplied
        out (``(a + b)*c`` becomes ``a*c + b*c``, ``(x*z/log(x)^2)/x`` becomes
        ``z/log(x)^2``) and like terms collected; a product that would have more than
        ``MAX_TERMS`` terms stays a product. Powers of sums, fractional powers and
        array-valued nodes are kept as they are (their arguments are expanded). The
        result is simplified, so it has no foldable constants; unlike ``simplify``,
        expanding may make a graph larger, because a shared factor is written out
        once per term: up to ``GROWTH`` times its op nodes (plus ``GROWTH_SLACK``),
        past which the remaining nodes are kept as they are.

        The terms of an adjoint graph's outputs (``cg.adjoint(g)``, not yet simplified)
        come in the order a hand derivation writes them: summand by summand of the
        function, and within a product or quotient operand by operand (the chain-rule
        path from the output, compared position by position). Other graphs keep the
        order in which their terms appear.

    Notes
    -----
    As in :func:`simplify`, identities assume every subexpression is finite:
    ``u/u`` becomes 1 and ``u^2/u`` becomes ``u``; and a node of undeclared shape is
    multiplied out only where elementwise ops alone use it (an output, or the operand of
    ``+``, ``*``, ``exp``...), where terms equal up to broadcasting may cancel. Under a
    reduction or reshape it is kept, so ``sum(x1 + x0 - x0)`` keeps ``x0``'s share of
    the shape.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.parse("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    >>> d = cg.expand(cg.adjoint(g))
    >>> print(cg.to_text(d))
    g_x = z*exp(x*z) + z/log(x) - z/log(x)^2 + cos(log(x))/(x^2*z) - sin(log(x))/(x^2*z)
    g_z = x*exp(x*z) + x/log(x) - sin(log(x))/(x*z^2)
    >>> print(cg.to_text(cg.simplify(d, x=2, z=3)))
    g_x = 3*exp(6) + 3/log(2) - 3/log(2)^2 + cos(log(2))/12 - sin(log(2))/12
    g_z = 2*exp(6) + 2/log(2) - sin(log(2))/18
    """
    require_graph(g, "expand").validate()
    with gc_paused():
        return simplify(_Expander(g).run())


class _Expander:
    def __init__(self, g: Graph) -> None:
        self.old = g
        self.new = Graph(g.name)
        self.poly: dict[str, Poly | None] = {}  # old node -> its polynomial (None: not scalar)
        self.built: dict[str, str] = {}  # old node -> its node in the new graph
        self.atoms: dict[Any, str] = {}  # cse_key of (op, new operands, attrs) -> new node
        self.made: dict[Any, str] = {}  # frozen polynomial -> new node
        self.pointwise_memo: dict[str, bool] = {}
        # the chain-rule path of each term of an adjoint: old node -> {monomial: (path, at)}
        self.paths: dict[str, dict[Any, tuple[Path, str]]] = {}
        self.shared = Shared()  # equal monomials and paths are one object

    def run(self) -> Graph:
        old, nodes = self.old, self.old.nx._node
        budget = GROWTH * sum(1 for d in nodes.values() if d["role"] == "op") + GROWTH_SLACK
        for n in old.schedule():
            data = nodes[n]
            role, op = data["role"], data["op"]
            if role in ("input", "param"):
                self.new._add_node(n, op, derived_attrs(data), role, data["shape"], checked=True)
                self.built[n] = n
                self.poly[n] = {self.shared.single(n, 1): 1} if self._expandable(n, data["shape"]) else None
            elif role == "const":
                v = data["attrs"]["value"]
                self.poly[n] = {_ONE: v} if isinstance(v, (int, float, Fraction)) else None
                if self.poly[n] is None:
                    self.built[n] = self.new.const(v).name
                elif data.get("adjoint_of") is not None and data["adjoint_of"] == data.get("derivative_of"):
                    self.paths[n] = {_ONE: (self.shared.root, data["adjoint_of"])}  # the seed, g_y = 1
            else:
                args = old.operands(n)
                expanding = self._expandable(n, data["shape"]) and len(self.new.nx) < budget
                p = self._read_finite(op, args) if expanding else None
                self.poly[n] = p if p is not None and len(p) <= MAX_TERMS else None
                if self.poly[n] is None:
                    self.built[n] = self._atom(op, args, data["attrs"])
                else:
                    try:
                        self._trace(n, op, args, data)
                    except OverflowError:  # a partial product of coefficients: the order of terms only
                        pass
        for o in old.outputs:
            if nodes[o]["role"] in ("input", "param"):  # y = x
                self.new.output(o)
                continue
            node = self.new.apply("identity", self._node(o), name=o)
            self.new.nx._node[node.name].update({k: v for k, v in nodes[o].items() if k not in _PLAIN})
            self.new.output(node)
        return self.new

    # ---------------------------------------------------------------- reading
    def _read_finite(self, op: str, args: tuple[str, ...]) -> Poly | None:
        """:meth:`_read`, or None where multiplying out overflows a coefficient: the
        node stays as it is. ``(1e200*x)*(1e200*z)`` is finite at small ``x, z`` where
        ``inf*x*z`` is not, and ``(1e200*x)^2`` raised a bare OverflowError."""
        try:
            p = self._read(op, args)
        except OverflowError:  # float ** int, or an exact int past the floats times a float
            return None
        if p is not None and not all(_finite(c) for c in p.values()):
            return None
        return p

    def _read(self, op: str, args: tuple[str, ...]) -> Poly | None:
        polys = [self._operand(a) for a in args]
        if None in polys[:1] or (op in ("add", "sub", "mul", "div") and None in polys):
            return None  # an array operand: the node stays as it is
        if op == "identity":
            return polys[0]
        if op == "neg":
            return _scale(polys[0], -1)
        if op in ("add", "sub"):
            out: Poly = {}
            for i, p in enumerate(polys):
                _add_into(out, p, -1 if op == "sub" and i == 1 else 1)
            return out
        if op == "mul":
            out = {_ONE: 1}
            for p in polys:
                out = _times(self.shared, out, p)
                if out is None:
                    return None
            return out
        if op == "div":
            return _times(self.shared, polys[0], self._power(args[1], -1))
        if op in ("pow", "square"):
            k = 2 if op == "square" else _integer(polys[1])
            if k is not None:
                return self._power(args[0], k)
        return None  # a function (exp, log, ...) or another power: run() makes it an atom

    def _trace(self, n: str, op: str, args: tuple[str, ...], data: dict) -> None:
        """The chain-rule path of each term of ``n``, when ``n`` is part of an adjoint:
        the operand positions taken from the output down (``y = d + e + f``: the terms
        through ``d`` start with 0), so that terms can be listed as a hand derivation
        writes them, summand by summand and operand by operand."""
        traced = [self.paths.get(a) for a in args]
        if not any(traced):
            return
        poly, found = self.poly[n], {}
        if op in ("add", "sub", "neg", "identity"):
            for t in traced:
                for m, path in (t or {}).items():
                    if m in poly and (m not in found or path[0] < found[m][0]):
                        found[m] = path
        elif op in ("mul", "div") and sum(map(bool, traced)) == 1 and (op == "mul" or traced[0]):
            # an adjoint times local derivatives: each term keeps its adjoint term's path
            j = next(i for i, t in enumerate(traced) if t)
            factor: Poly | None = {_ONE: 1}
            for i, a in enumerate(args):
                if i != j and factor is not None:
                    factor = _times(self.shared, factor, self._operand(a) if op == "mul" else self._power(a, -1))
            for m1, path in traced[j].items() if factor is not None else ():
                for m2 in factor:
                    m = self.shared.merge(m1, m2)
                    if m in poly and (m not in found or path[0] < found[m][0]):
                        found[m] = path
        of = data.get("adjoint_of")
        if of is not None:  # g_o: each term came down from a user u of o, at o's position in u
            for m, (path, u) in found.items():
                operands = self.old.operands(u) if u in self.old.nx else ()
                if of in operands:
                    found[m] = (self.shared.extend(path, operands.index(of)), of)
        if found:
            self.paths[n] = found

    def _expandable(self, n: str, shape: Any) -> bool:
        """A scalar, or a node of unknown shape that only elementwise ops use: where a
        reduction or reshape reads the shape, cancelling terms could drop a broadcast
        (``sum(x1 + x0 - x0)`` is not ``sum(x1)``), so such a node stays as it is."""
        return shape == () or (shape is None and pointwise(self.old, n, self.pointwise_memo))

    def _operand(self, a: str) -> Poly | None:
        """The polynomial of operand ``a``: its own, or ``a`` as one atom (None for an array)."""
        p = self.poly[a]
        if p is None and _scalar(self.old.nx._node[a]["shape"]):
            return {self.shared.single(self.built[a], 1): 1}
        return p

    def _power(self, a: str, k: int) -> Poly:
        """``a^k``: a single term's exponents times ``k``; a sum stays one atom, ``(u + v)^k``."""
        p = self._operand(a)
        if len(p) == 1:
            ((m, c),) = p.items()
            if c != 0 or k > 0:
                coef = Fraction(c) ** k if isinstance(c, (int, Fraction)) else c**k
                return {self.shared.power(m, k): exact(coef)}
        return {self.shared.single(self._node(a), k): 1}

    # -------------------------------------------------------------- building
    def _atom(self, op: str, args: tuple[str, ...], attrs: dict) -> str:
        operands = tuple(self._node(a) for a in args)
        key = cse_key(op, operands, attrs)
        if key not in self.atoms:
            self.atoms[key] = self.new.apply(op, *operands, **attrs).name
        return self.atoms[key]

    def _node(self, old_name: str) -> str:
        """The new graph's node for ``old_name``: its polynomial, written out."""
        if old_name in self.built:
            return self.built[old_name]
        p = self.poly[old_name]
        paths = self.paths.get(old_name)
        if paths:  # as a hand derivation lists them; untraced terms after, as they come
            last = self.shared.extend(self.shared.root, len(p))  # the path (len(p),)
            p = dict(sorted(p.items(), key=lambda mc: paths[mc[0]][0] if mc[0] in paths else last))
        key = tuple((m, freeze(c)) for m, c in p.items())  # (repr() fails past 4300 digits)
        if key not in self.made:
            self.made[key] = self._write(p)
        self.built[old_name] = self.made[key]
        return self.built[old_name]

    def _write(self, p: Poly) -> str:
        g = self.new
        terms = [self._term(c, m) for m, c in p.items() if c != 0]
        if not terms:
            return g.const(0).name
        return terms[0] if len(terms) == 1 else g.apply("add", *terms).name

    def _term(self, coef: Any, monomial: Any) -> str:
        g = self.new
        nodes = g.nx._node
        # as written by hand: the variables first (z*exp(x*z)), then the functions, in
        # the order they were made
        monomial = sorted(factors(monomial), key=lambda ae: (nodes[ae[0]]["role"] == "op", nodes[ae[0]]["order"]))
        top = [self._factor(a, e) for a, e in monomial if e > 0]
        bottom = [self._factor(a, -e) for a, e in monomial if e < 0]
        if isinstance(coef, Fraction) and coef.denominator != 1:  # 2*x/3, 1/(4*x^2)
            bottom.insert(0, g.const(coef.denominator).name)
            coef = coef.numerator
        negated = coef == -1 and bool(top)  # -x*y, as simplify writes it, not -1*x*y
        operands = ([g.const(coef).name] if coef != 1 and not negated or not top else []) + top
        node = operands[0] if len(operands) == 1 else g.apply("mul", *operands).name
        if bottom:
            node = g.apply("div", node, bottom[0] if len(bottom) == 1 else g.apply("mul", *bottom)).name
        return g.apply("neg", node).name if negated else node

    def _factor(self, atom: str, exponent: int) -> str:
        return atom if exponent == 1 else self.new.apply("pow", atom, self.new.const(exponent)).name


def _finite(c: Any) -> bool:
    return type(c) is not float or math.isfinite(c)  # (ints and Fractions are exact)


def _scalar(shape: Any) -> bool:
    return shape is None or shape == ()


def _integer(p: Poly | None) -> int | None:
    """The exponent of a power, when it is a constant integer (of at most 64)."""
    if p is None or set(p) - {_ONE}:
        return None
    v = p.get(_ONE, 0)
    whole = v.is_integer() if isinstance(v, float) else isinstance(v, int) or v.denominator == 1
    return int(v) if whole and abs(v) <= 64 else None


def _scale(p: Poly, k: Any) -> Poly:
    return {m: c * k for m, c in p.items()}


def _add_into(out: Poly, p: Poly, sign: int) -> None:
    for m, c in p.items():
        total = out.get(m, 0) + sign * c
        if total == 0:
            out.pop(m, None)
        else:
            out[m] = total


def _times(shared: Shared, p: Poly, q: Poly) -> Poly | None:
    if len(p) * len(q) > MAX_TERMS:
        return None
    out: Poly = {}
    for m1, c1 in p.items():
        for m2, c2 in q.items():
            _add_into(out, {shared.merge(m1, m2): c1 * c2}, 1)
    return out
