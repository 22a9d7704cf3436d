"""The algebraic identities of ``simplify``: ONE table, :data:`RULES`, keyed by op name.

A rule ``rule(b, c)`` looks at a candidate node ``c`` (op, operand names, attrs, shape)
whose operands are already simplified, and returns the name of an equal node (built
with ``b.make`` / ``b.const``) or ``None``. The builder only accepts a rule's result
when it creates no more nodes than it frees, so no rule grows the graph; a rule that
rebuilds its own candidate just gets the plain node back, so rules cannot loop.

Terms are read as ``coefficient * base`` (``3*u``, ``-u``, ``u/4`` = ``1/4 * u``) so that
coefficients fold and like terms collect; the canonical forms are ``3*u``, ``-u``,
``u/4``, ``-u/4``, ``3*u/4``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np


class Candidate(NamedTuple):
    """The node being built: ``op(*args, **attrs)`` of shape ``shape``."""

    op: str
    args: tuple[str, ...]
    attrs: dict
    shape: Any


Rule = Callable[[Any, Candidate], "str | None"]
_EXACT = (int, Fraction)


# ------------------------------------------------------------------ helpers
def _num(b: Any, n: str) -> Any:
    """The number a scalar constant holds (None for anything else)."""
    v = b.value(n)
    return v if isinstance(v, (int, float, Fraction)) else None


def _is(b: Any, n: str, k: int) -> bool:
    """True when ``n`` is the constant ``k`` (scalar, or an array of k's)."""
    v = b.array(n)
    if v is None:
        return k == 0 and b.op(n) == "zeros_like"
    return bool(np.all(np.asarray(v) == k)) if isinstance(v, np.ndarray) else v == k


def _fits(b: Any, n: str, c: Candidate) -> bool:
    """``n`` may stand in for ``c``: same shape, or a scalar for a node of unknown shape
    that only elementwise ops use (``b.pointwise``), where broadcasting restores it."""
    s = b.shape(n)
    return s == c.shape or (c.shape is None and s == () and b.pointwise)


def _filled(b: Any, c: Candidate, k: int) -> str | None:
    """The constant ``k`` in ``c``'s shape (None when that needs an array we avoid)."""
    if c.shape == () or (c.shape is None and b.pointwise):
        return b.const(k)
    if k == 0:
        for a in c.args:
            # an operand of c's shape; of unknown shape only if the others cannot widen it
            same = b.shape(a) == c.shape and (c.shape is not None or all(o == a or b.shape(o) == () for o in c.args))
            if same and b.op(a) != "const":
                return b.make("zeros_like", a)
    return None


def _term(b: Any, n: str) -> tuple[Any, Any]:
    """``n`` as ``(coefficient, base)``; a constant is ``(value, None)`` and ``c/v`` is
    ``(c, ("1/", v))``: a reciprocal base that need not exist as a node."""
    v = _num(b, n)
    if v is not None:
        return v, None
    coef: Any = 1
    for _ in range(3):  # -(3*u)/4 is three levels deep at most
        op, args = b.op(n), b.args(n)
        if op == "neg":
            coef, n = -coef, args[0]
        elif op == "mul" and len(args) == 2 and _num(b, args[0]) is not None:
            coef, n = coef * _num(b, args[0]), args[1]
        elif op == "div" and isinstance(_num(b, args[1]), _EXACT) and _num(b, args[1]) != 0:
            coef, n = coef * Fraction(1, 1) / _num(b, args[1]), args[0]
        elif op == "div" and _num(b, args[0]) is not None and b.op(args[1]) != "const":
            return _exact(coef * _num(b, args[0])), ("1/", args[1])
        else:
            break
    return _exact(coef), n


def _exact(v: Any) -> Any:
    return int(v) if isinstance(v, Fraction) and v.denominator == 1 else v


def _scaled(b: Any, coef: Any, bases: list) -> str:
    """``coef`` times the product of ``bases``, in canonical form (``bases`` non-empty)."""
    coef = _exact(coef)
    plain = [x for x in bases if isinstance(x, str)]
    below = [x[1] for x in bases if not isinstance(x, str)]
    num, den = (coef.numerator, coef.denominator) if isinstance(coef, Fraction) else (coef, 1)
    if below or den != 1:
        top = _scaled(b, num, plain) if plain else b.const(num)
        bottom = ([b.const(den)] if den != 1 else []) + below
        return b.make("div", top, bottom[0] if len(bottom) == 1 else b.make("mul", *bottom))
    if coef == -1:
        return b.make("neg", _scaled(b, 1, plain))
    if coef == 1:
        return plain[0] if len(plain) == 1 else b.make("mul", *plain)
    return b.make("mul", b.const(coef), *plain)


def _distribute(b: Any, c: Candidate, coef: Any, s: str) -> str | None:
    """``coef * (t1 + t2)`` as ``coef*t1 + coef*t2`` (kept only if the graph does not grow)."""
    terms = []
    signs = (1, -1) if b.op(s) == "sub" else (1,) * len(b.args(s))
    for sign, t in zip(signs, b.args(s)):
        k, base = _term(b, t)
        k = sign * coef * k
        terms.append(b.const(_exact(k)) if base is None else _scaled(b, k, [base]))
    result = b.make("add", *terms)
    return result if _fits(b, result, c) else None


def _sum(b: Any, c: Candidate, terms: list[str]) -> str | None:
    """``terms`` added up, standing in for ``c`` (None when shapes would change)."""
    if not terms:
        return _filled(b, c, 0)
    result = terms[0] if len(terms) == 1 else b.make("add", *terms)
    return result if _fits(b, result, c) else None


def _collect(b: Any, c: Candidate, signed: list[tuple[int, str]]) -> str | None:
    """Collect like terms and constants of ``sum(sign * node)``; None when nothing merges."""
    groups: dict[str | None, Any] = {}
    order: list[str | None] = []
    merged = False
    for sign, n in signed:
        if b.value(n) is None and _is(b, n, 0):
            merged = True  # + zeros_like(u), + [0, 0]
            continue
        coef, base = _term(b, n)
        if base in groups:
            merged = True
            groups[base] = groups[base] + sign * coef
        else:
            order.append(base)
            groups[base] = sign * coef
    constant = groups.pop(None, 0)
    if None in order:
        order.remove(None)
        consts = [i for i, (_, n) in enumerate(signed) if _num(b, n) is not None]
        # canonical: one non-zero constant, added last
        merged = merged or len(consts) > 1 or constant == 0 or consts[-1] != len(signed) - 1 or signed[-1][0] < 0
    if not merged:
        return None
    terms = [_scaled(b, groups[base], [base]) for base in order if groups[base] != 0]
    if constant != 0:
        terms.append(b.const(_exact(constant)))
    return _sum(b, c, terms)


def _positive(b: Any, n: str) -> bool:
    """True when ``n`` is provably > 0 wherever it is defined (a few levels deep)."""
    stack, seen = [n], 0
    while stack:
        n = stack.pop()
        seen += 1
        v = _num(b, n)
        op = b.op(n)
        if v is not None and v > 0 or op in ("exp", "sigmoid", "softplus"):
            continue
        if seen > 16 or op not in ("mul", "div", "add", "sqrt", "pow", "softmax"):
            return False
        stack.extend(b.args(n)[:1] if op == "pow" else b.args(n))
    return True


def _at(point: int, value: Any) -> Rule:
    """``f(point) -> value``."""
    def rule(b: Any, c: Candidate) -> str | None:
        return b.const(value) if _num(b, c.args[0]) == point and isinstance(_num(b, c.args[0]), _EXACT) else None
    return rule


def _exactly(fn: Callable[[Any], Any]) -> Rule:
    """``f(r) -> fn(r)`` for an exact rational ``r`` (fn returns None when inexact)."""
    def rule(b: Any, c: Candidate) -> str | None:
        v = _num(b, c.args[0])
        if not isinstance(v, _EXACT):
            return None
        out = fn(Fraction(v))
        return None if out is None else b.const(_exact(out))
    return rule


def _inverse(inner: str, *, positive: bool = False) -> Rule:
    """``f(inner(u)) -> u`` (only for provably positive ``u`` when ``positive``)."""
    def rule(b: Any, c: Candidate) -> str | None:
        a = c.args[0]
        if b.op(a) != inner:
            return None
        u = b.args(a)[0]
        return u if _fits(b, u, c) and (not positive or _positive(b, u)) else None
    return rule


def _noop_when_shaped(b: Any, c: Candidate) -> str | None:
    """``sum_to(u, like) -> u`` (expand_to, reshape_like) when the shapes are provably equal."""
    u = c.args[0]
    s = b.shape(u)
    if s is not None and None not in s and s == c.shape:
        return u
    return u if c.shape is None and s == () and b.op(u) == "const" and b.pointwise else None


def _sqrt_exact(r: Fraction) -> Fraction | None:
    if r < 0:
        return None
    p, q = math.isqrt(r.numerator), math.isqrt(r.denominator)
    return Fraction(p, q) if p * p == r.numerator and q * q == r.denominator else None


# ------------------------------------------------------------------ rules by op
def _add_terms(b: Any, c: Candidate) -> str | None:
    return _collect(b, c, [(1, a) for a in c.args])


def _sub_terms(b: Any, c: Candidate) -> str | None:
    u, v = c.args
    if _is(b, v, 0):
        return u if _fits(b, u, c) else None
    if _is(b, u, 0):
        return b.make("neg", v) if _fits(b, v, c) else None
    if u == v:
        return _filled(b, c, 0)
    if b.op(v) == "neg":
        return b.make("add", u, b.args(v)[0])
    if _term(b, u)[1] != _term(b, v)[1]:
        return None
    return _collect(b, c, [(1, u), (-1, v)])


def _mul_zero(b: Any, c: Candidate) -> str | None:
    return _filled(b, c, 0) if any(_is(b, a, 0) for a in c.args) else None


def _mul_terms(b: Any, c: Candidate) -> str | None:
    coef: Any = 1
    bases: list = []
    changed = False
    for i, a in enumerate(c.args):
        k, base = _term(b, a)
        if base is None or k != 1 or not isinstance(base, str):
            coef = coef * k
            changed = changed or base is not None or i > 0 or k in (1, -1) or isinstance(k, Fraction)
        if base is not None:
            bases.append(base)
    if coef == 0 or not bases:
        return None
    if len(bases) == 1 and isinstance(coef, _EXACT) and coef != 1 and _summed(b, bases[0]):
        return _distribute(b, c, coef, bases[0])
    if not changed:
        return None
    result = _scaled(b, coef, bases)
    return result if _fits(b, result, c) else None


def _summed(b: Any, n: Any) -> bool:
    return isinstance(n, str) and b.op(n) in ("add", "sub") and b.single(n)


def _div_simple(b: Any, c: Candidate) -> str | None:
    u, v = c.args
    if _is(b, v, 1):
        return u if _fits(b, u, c) else None
    if _is(b, u, 0):
        return _filled(b, c, 0)
    if u == v:
        return _filled(b, c, 1)
    if b.op(v) == "div" and _is(b, b.args(v)[0], 1):
        return b.make("mul", u, b.args(v)[1])
    if b.op(u) == "neg" and b.op(v) == "neg":
        return b.make("div", b.args(u)[0], b.args(v)[0])
    return None


def _div_coefficient(b: Any, c: Candidate) -> str | None:
    u, v = c.args
    k = _num(b, v)
    if not isinstance(k, _EXACT) or k == 0:
        return None
    coef, base = _term(b, u)
    if base is None:
        return None
    coef = Fraction(coef) / k if isinstance(coef, _EXACT) else coef / float(k)
    if _summed(b, base) and isinstance(coef, Fraction):
        return _distribute(b, c, coef, base)
    result = _scaled(b, coef, [base])
    return result if _fits(b, result, c) else None


def _neg_neg(b: Any, c: Candidate) -> str | None:
    a = c.args[0]
    if b.op(a) == "neg":
        return b.args(a)[0]
    if b.op(a) == "sub":
        return b.make("sub", b.args(a)[1], b.args(a)[0])
    coef, base = _term(b, a)
    return _scaled(b, -coef, [base]) if base is not None and coef != 1 else None


def _pow_simple(b: Any, c: Candidate) -> str | None:
    u, e = c.args
    if _is(b, e, 1):
        return u if _fits(b, u, c) else None
    if _is(b, e, 0) or _is(b, u, 1):
        return _filled(b, c, 1)
    k = _num(b, e)
    if b.op(u) == "pow" and isinstance(k, int) and _num(b, b.args(u)[1]) is not None:
        inner, a = b.args(u)
        return b.make("pow", inner, b.const(_exact(_num(b, a) * k)))
    return None


def _reshape_noop(b: Any, c: Candidate) -> str | None:
    u = c.args[0]
    s = b.shape(u)
    return u if s is not None and None not in s and s == c.shape else None


def _transpose_twice(b: Any, c: Candidate) -> str | None:
    a = c.args[0]
    if b.op(a) == "transpose" and c.attrs.get("axes") is None and b.attrs(a).get("axes") is None:
        return b.args(a)[0]
    return _reshape_noop(b, c) if b.shape(a) is not None and len(b.shape(a)) < 2 else None


def _reduce_scalar(b: Any, c: Candidate) -> str | None:
    u = c.args[0]
    return u if b.shape(u) == () and c.shape == () else None


def _size_known(b: Any, c: Candidate) -> str | None:
    s = b.shape(c.args[0])
    if s is None or None in s:
        return None
    axes = c.attrs.get("axis")
    axes = range(len(s)) if axes is None else [axes] if isinstance(axes, int) else axes
    if not all(-len(s) <= a < len(s) for a in axes):
        return None  # evaluation reports the bad axis, naming the node
    return b.const(math.prod(s[a] for a in axes))


def _zeros_scalar(b: Any, c: Candidate) -> str | None:
    return b.const(0) if c.shape == () or (c.shape is None and b.pointwise) else None


def _abs_abs(b: Any, c: Candidate) -> str | None:
    a = c.args[0]
    if b.op(a) == "abs":
        return a
    return b.make("abs", b.args(a)[0]) if b.op(a) == "neg" else None


def _relu(r: Fraction) -> Fraction:
    return max(r, Fraction(0))


#: op -> its identities, tried in order; each one line: what it rewrites
RULES: dict[str, tuple[Rule, ...]] = {
    "add": (
        _add_terms,  # u + 0 -> u, 2 + u + 3 -> u + 5, u + 2*u -> 3*u, u + -u -> 0
    ),
    "sub": (
        _sub_terms,  # u - 0 -> u, 0 - u -> -u, u - u -> 0, u - (-v) -> u + v, 3*u - u -> 2*u
    ),
    "mul": (
        _mul_zero,  # u*0 -> 0 (zeros_like(u) when u is an array)
        _mul_terms,  # 1*u -> u, 2*u*3 -> 6*u, (-u)*v -> -(u*v), 3*(u/6) -> u/2, u*(2/v) -> 2*u/v,
        #              3*(u + v) -> 3*u + 3*v when that does not grow the graph
    ),
    "div": (
        _div_simple,  # u/1 -> u, 0/u -> 0, u/u -> 1, u/(1/v) -> u*v, (-u)/(-v) -> u/v
        _div_coefficient,  # (6*u)/4 -> 3*u/2, (-u)/2 -> -u/2, (6/v)/4 -> (3/2)/v, (u + v)/2 -> u/2 + v/2
    ),
    "neg": (
        _neg_neg,  # --u -> u, -(u - v) -> v - u, -(3*u) -> -3*u
    ),
    "pow": (
        _pow_simple,  # u^1 -> u, u^0 -> 1, 1^u -> 1, (u^a)^n -> u^(a*n) for integer n
    ),
    "exp": (
        _at(0, 1),  # exp(0) -> 1
        _inverse("log", positive=True),  # exp(log(u)) -> u, only where u > 0 provably
    ),
    "log": (
        _at(1, 0),  # log(1) -> 0
        _inverse("exp"),  # log(exp(u)) -> u
    ),
    "sin": (_at(0, 0),),  # sin(0) -> 0
    "cos": (_at(0, 1),),  # cos(0) -> 1
    "tan": (_at(0, 0),),  # tan(0) -> 0
    "tanh": (_at(0, 0),),  # tanh(0) -> 0
    "sigmoid": (_at(0, Fraction(1, 2)),),  # sigmoid(0) -> 1/2
    "sqrt": (_exactly(_sqrt_exact),),  # sqrt(9/4) -> 3/2 (perfect squares only)
    "relu": (_exactly(_relu),),  # relu(-1/2) -> 0, relu(3) -> 3
    "step": (_exactly(lambda r: int(r > 0)),),  # step(r) -> 1 if r > 0 else 0
    "sign": (_exactly(lambda r: (r > 0) - (r < 0)),),  # sign(r) -> -1, 0 or 1
    "abs": (_abs_abs,),  # ||u|| -> |u|, |-u| -> |u|
    "identity": (lambda b, c: c.args[0],),  # identity(u) -> u
    "sum_to": (_noop_when_shaped,),  # sum_to(u, like) -> u when shapes are equal
    "expand_to": (_noop_when_shaped,),  # expand_to(u, like) -> u when shapes are equal
    "reshape_like": (_noop_when_shaped,),  # reshape_like(u, like) -> u when shapes are equal
    "reshape": (_reshape_noop,),  # reshape(u) -> u when u has that shape already
    "transpose": (_transpose_twice,),  # transpose(transpose(u)) -> u, transpose of a vector -> itself
    "sum": (_reduce_scalar,),  # sum(u) -> u for a scalar u
    "mean": (_reduce_scalar,),  # mean(u) -> u for a scalar u
    "size": (_size_known,),  # size(u) -> n when u's shape is known
    "zeros_like": (_zeros_scalar,),  # zeros_like(u) -> 0 for a scalar (or pointwise) u
}
