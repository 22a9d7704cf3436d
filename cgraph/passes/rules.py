"""The algebraic identities of ``simplify``: ONE table, :data:`RULES`, keyed by op name.

A rule ``rule(b, c)`` looks at a candidate node ``c`` (op, operand names, attrs, shape)
whose operands are already simplified, and returns the name of an equal node (built
with ``b.make`` / ``b.const``) or ``None``. The builder only accepts a rule's result
when it creates no more nodes than it frees (plus one per term of a sum, or factor of
a product or fraction, that it saves: ``u + u + w -> 2*u + w``), so rules do not grow the graph;
a rule that rebuilds its own candidate just gets the plain node back, so rules cannot
loop. The term algebra they share (``3*u``, ``-u/4``, like terms) is in
:mod:`cgraph.passes.terms`; the rules of the shape ops (``sum_to``, ``size``...) are in
:mod:`cgraph.passes.shape_rules`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from typing import Any

from ..ops.registry import OPS
from .shape_rules import (
    reduce_scalar,
    reshape_noop,
    size_known,
    spread_twice,
    sum_to_twice,
    transpose_twice,
    zero_spread,
    zeros_of_less,
)
from .terms import (
    HALF,
    Candidate,
    as_power,
    collect,
    composite,
    distribute,
    exact,
    factors,
    filled,
    fits,
    is_exact,
    is_negative,
    like,
    positive,
    read_factors,
    scaled,
    sum_,
    term,
)

Rule = Callable[[Any, Candidate], "str | None"]


def _at(point: int, value: Any) -> Rule:
    """``f(point) -> value``."""
    def rule(b: Any, c: Candidate) -> str | None:
        return b.const(value) if b.num(c.args[0]) == point and is_exact(b.num(c.args[0])) else None
    return rule


def _exactly(fn: Callable[[Any], Any]) -> Rule:
    """``f(r) -> fn(r)`` for an exact rational ``r`` (fn returns None when inexact)."""
    def rule(b: Any, c: Candidate) -> str | None:
        v = b.num(c.args[0])
        if not is_exact(v):
            return None
        out = fn(Fraction(v))
        return None if out is None else b.const(exact(out))
    return rule


def _inverse(inner: str, *, only_positive: bool = False) -> Rule:
    """``f(inner(u)) -> u`` (only for provably positive ``u`` when ``only_positive``)."""
    def rule(b: Any, c: Candidate) -> str | None:
        a = c.args[0]
        if b.op(a) != inner:
            return None
        u = b.args(a)[0]
        return u if fits(b, u, c) and (not only_positive or positive(b, u)) else None
    return rule


def _keeps_zero(b: Any, c: Candidate) -> str | None:
    """``f(0) -> 0`` for an elementwise ``f`` with ``f(0) = 0`` (zero arrays too)."""
    u = c.args[0]
    return u if b.is_(u, 0) and fits(b, u, c) else None


def _sqrt_exact(r: Fraction) -> Fraction | None:
    if r < 0:
        return None
    p, q = math.isqrt(r.numerator), math.isqrt(r.denominator)
    return Fraction(p, q) if p * p == r.numerator and q * q == r.denominator else None


# ------------------------------------------------------------------ rules by op
def _add_terms(b: Any, c: Candidate) -> str | None:
    return collect(b, c, _signed(b, c.args, (1,) * len(c.args)))


def _signed(b: Any, args: Any, signs: Any) -> list[tuple[int, str]]:
    """The terms of a sum, with the terms of a difference spliced in: ``(1 - s) - s`` is
    ``1, -s, -s`` (so like terms across it collect: ``1 - 2*s``; a difference used
    elsewhere too stays a node there, so its terms collect here only where that saves a
    term: see ``Builder._terms_merged``)."""
    out = []
    for sign, a in zip(signs, args):
        if b.op(a) == "sub":
            p, q = b.args(a)
            out += [(sign, p), (-sign, q)]
        else:
            out.append((sign, a))
    return out


def _add_cancelling(b: Any, c: Candidate) -> str | None:
    """A short sum of products of small sums, multiplied out where terms cancel: the
    logistic loss's ``s*(1 - y) - y*(1 - s) -> s - y`` (``s*y`` and ``-y*s`` cancel).
    Only where some term cancels outright, so factored forms stay factored otherwise."""
    if len(c.args) > _CANCEL_TERMS or not _may_cancel(b, c):
        return None  # (the common case, cheaply)
    signed = _sum_terms(b, c.op, c.args)
    if len(signed) > _CANCEL_TERMS:
        return None
    monomials: list[tuple[Any, tuple]] = []
    spread = False
    for sign, n in signed:
        coef, product = _monomial(b, sign, n)
        found = [(coef, ())]
        for f in product:
            parts = _small_sum(b, f)
            spread = spread or len(parts) > 1
            found = [(k * pk, fs + pf) for k, fs in found for pk, pf in parts]
            if len(monomials) + len(found) > _CANCEL_MONOMIALS:
                return None
        monomials += found
    if not spread:
        return None
    groups: dict[tuple, Any] = {}
    seen: dict[tuple, int] = {}
    for k, fs in monomials:
        key = tuple(sorted(fs, key=repr))
        groups[key] = groups.get(key, 0) + k
        seen[key] = seen.get(key, 0) + 1
    if not any(groups[key] == 0 and seen[key] > 1 for key in groups):
        return None
    constant = groups.pop((), 0)
    terms = [scaled(b, k, list(fs)) for fs, k in groups.items() if k != 0]
    if constant != 0:
        terms.append(b.const(exact(constant)))
    return sum_(b, c, terms)


def _may_cancel(b: Any, c: Candidate) -> bool:
    """A quick test that multiplying out the sum ``c`` may cancel a term: a term has a sum
    among its factors, there is a sign to cancel with, and a term has two sums or shares
    a factor (a factor of a product, a term of a sum or its factors; ``()`` for a number)
    with another term: two monomials can only cancel where they do."""
    negative = c.op == "sub"
    spread = shared = False
    seen: set = set()
    for i, a in enumerate(c.args):
        mine: set = set()
        sums = 0
        found, sign = _unsigned_factors(b, a)
        negative = negative or sign
        for f in found:
            op, parts = b.op_args(f) if f != () else ("const", ())
            if op != "add" and op != "sub":
                mine.add(f)
                continue
            sums += 1
            negative = negative or op == "sub"
            for t in parts:
                if b.op(t) == "sub":
                    negative = True
                    mine.update(b.args(t))
                else:
                    inner, sign = _unsigned_factors(b, t)
                    negative = negative or sign
                    mine.update(inner)
        spread = spread or sums > 0
        shared = shared or sums > 1 or i > 0 and not seen.isdisjoint(mine)
        seen |= mine
    return spread and shared and negative


def _unsigned_factors(b: Any, n: str) -> tuple[tuple, bool]:
    """The factors of ``n`` without its sign and numbers (``()`` for a number), and
    whether a sign or a number below 0 was among them."""
    negative = False
    op, args = b.op_args(n)
    for _ in range(3):
        if op == "neg":
            negative, n = True, args[0]
        elif op == "div" and b.num(args[1]) is not None:
            negative, n = negative or is_negative(b.num(args[1])), args[0]
        elif op == "mul" and len(args) == 2 and b.num(args[0]) is not None:
            negative, n = negative or is_negative(b.num(args[0])), args[1]
        else:
            break
        op, args = b.op_args(n)
    if op == "const":
        return ((),), negative or is_negative(b.num(n))
    if op != "mul":
        return (n,), negative
    found = []
    for a in args:
        k = b.num(a)
        if k is None:
            found.append(a)
        else:
            negative = negative or is_negative(k)
            found.append(())
    return tuple(found), negative


def _small_sum(b: Any, f: Any) -> list[tuple[Any, tuple]]:
    """A factor as ``[(coefficient, factors), ...]``: the terms of a sum of at most
    :data:`_CANCEL_TERMS` terms (``1 - s`` is ``[(1, ()), (-1, (s,))]``), else itself."""
    if type(f) is str and b.num(f) is not None:
        return [(b.num(f), ())]
    if type(f) is not str or b.op(f) not in ("add", "sub"):
        return [(1, (f,))]
    signed = _sum_terms(b, b.op(f), b.args(f))
    if len(signed) > _CANCEL_TERMS:
        return [(1, (f,))]
    return [_monomial(b, sign, t) for sign, t in signed]


def _sum_terms(b: Any, op: str, args: Any) -> list[tuple[int, str]]:
    """The signed terms of the sum or difference ``op(*args)`` (:func:`_signed`)."""
    return _signed(b, args, (1, -1) if op == "sub" else (1,) * len(args))


def _monomial(b: Any, sign: int, n: str) -> tuple[Any, tuple]:
    """``sign * n`` as ``(coefficient, factors)``: ``-2*x*y`` is ``(-2, (x, y))``, a number ``(k, ())``."""
    k, base = term(b, n)
    if base is None:
        return sign * k, ()
    return sign * k, tuple(b.args(base)) if type(base) is str and b.op(base) == "mul" else (base,)


#: the most terms a sum (and each sum among its products' factors) may have for
#: :func:`_add_cancelling`, and the most terms multiplying out may give
_CANCEL_TERMS, _CANCEL_MONOMIALS = 4, 16


def _add_numbers(b: Any, c: Candidate) -> str | None:
    """The numbers of a sum as one, a 0 dropped: ``u + u + w + 0 -> u + u + w``. Before
    :func:`_add_terms`, whose collected ``2*u + w`` is two nodes where the sum is one:
    where that grows the whole graph, ``simplify`` runs again without collecting's
    allowance, and the 0 must still go."""
    numbers = [a for a in c.args if b.num(a) is not None]
    if not numbers or len(numbers) == 1 and b.num(numbers[0]) != 0:
        return None
    total: Any = 0
    for a in numbers:
        total = total + b.num(a)
    rest = [a for a in c.args if a not in numbers]
    if not rest:
        return None  # all numbers: folding handles it
    terms = rest + ([b.const(exact(total))] if total != 0 else [])
    result = terms[0] if len(terms) == 1 else b.make("add", *terms)
    return result if fits(b, result, c) else None


def _add_order(b: Any, c: Candidate) -> str | None:
    """A sum that starts with a negative term starts with a positive one instead (the
    constant stays last): ``-u/v + w -> w - u/v``."""
    if b.num(c.args[0]) is not None or not is_negative(term(b, c.args[0])[0]):
        return None
    plus, minus, consts = [], [], []
    for a in c.args:
        (consts if b.num(a) is not None else minus if is_negative(term(b, a)[0]) else plus).append(a)
    return b.make("add", *plus, *minus, *consts) if plus else None


def _sub_terms(b: Any, c: Candidate) -> str | None:
    u, v = c.args
    if b.op(u) == "add" and (b.single(u) or b.num(v) is not None and any(b.num(a) is not None for a in b.args(u))):
        # (z + 1) - 1 -> z, (x + w) - x -> w; the numbers also where z + 1 is used elsewhere
        # (d/dx x^(p + 1) is (p + 1)*x^p, not (p + 1)*x^(p + 1 - 1))
        signed = [(1, a) for a in b.args(u)] + [(-1, v)]
        _, base = term(b, v)
        bases = [term(b, a)[1] for a in b.args(u)]
        # (3*u*v + x) - u*v: one product written two ways, for collect's _alike
        if like(b, base) in [like(b, a) for a in bases] or composite(b, base) and any(composite(b, a) for a in bases):
            return collect(b, c, signed)
    if b.is_(v, 0):
        return u if fits(b, u, c) else None
    if b.is_(u, 0):
        return b.make("neg", v) if fits(b, v, c) else None
    if u == v:
        return filled(b, c, 0)
    if b.op(v) == "neg":
        return b.make("add", u, b.args(v)[0])
    signed = _signed(b, (u, v), (1, -1))
    (_, p), (_, q) = term(b, u), term(b, v)
    if len(signed) == 2 and p != q and like(b, p) != like(b, q) and not (composite(b, p) and composite(b, q)):
        return None  # nothing to collect: keep u - v (collect would write u - 3 as u + -3)
    return collect(b, c, signed)


def _mul_zero(b: Any, c: Candidate) -> str | None:
    for a in c.args:
        if b.is_(a, 0):
            return filled(b, c, 0)
    return None


def _mul_spread(b: Any, c: Candidate) -> str | None:
    """``expand_to(k, u) * w -> k * w`` for a scalar ``k`` (``sum_to(k, u)`` too, which
    spreads a scalar as expand_to does: the seed of an output of unknown shape) when the other factors already
    have the product's shape (fully known, or unknown and the broadcast of the same
    nodes: ``x*expand_to(1, x^2) -> x``), so broadcasting ``k`` spreads it the same. For a
    partly known shape (``(None, 3)``), where equal shapes need not be the same, when
    another factor's shape holds the spread's (:func:`_within`)."""
    args = list(c.args)
    for i, a in enumerate(args):
        op = b.op(a)
        if (op == "expand_to" or op == "sum_to") and b.shape(b.args(a)[0]) == ():  # (summed "to" a wider shape, a scalar spreads)
            args[i] = b.args(a)[0]
    if args == list(c.args):
        return None
    if c.shape is not None and None in c.shape:
        kept = [a for a, new in zip(c.args, args) if a == new]
        for a, new in zip(c.args, args):
            if a != new and not any(_within(b, b.args(a)[1], k) for k in kept):
                return None
        return b.make("mul", *args)  # (the kept factors make the product's shape as before)
    if c.shape is None:
        if b.extent_of("mul", args) != b.extent_of("mul", c.args):
            return None
        return b.make("mul", *args)
    try:
        shape = OPS["mul"].shape(*(b.shape(a) for a in args))
    except (ValueError, TypeError):
        return None
    return b.make("mul", *args) if shape == c.shape else None


def _within(b: Any, t: str, a: str) -> bool:
    """The shape of ``t`` broadcasts into that of ``a`` without widening it, read from
    the nodes below ``t`` (equal partly known shapes prove nothing: ``(None, 3)`` of
    ``X`` and of ``Y`` may differ): ``X*W`` is within ``X`` for ``X`` of shape
    ``(None, 3)`` and ``W`` of ``(3,)``, as is ``sin(X) + 1``; ``X + Y`` is not."""
    target = b.shape(a)
    if target is None:
        return False
    stack, seen = [t], 0
    while stack:
        n = stack.pop()
        seen += 1
        if n == a:
            continue
        s = b.shape(n)
        if s is not None and None not in s and len(s) <= len(target) and all(
            d == 1 or d == e for d, e in zip(reversed(s), reversed(target))
        ):
            continue  # a known shape that spreads into a's (a dim 1 of a may widen: not for d == 1)
        op, args = b.op_args(n)
        if seen > 16 or not args or not OPS[op].elementwise:
            return False
        stack.extend(args)
    return True


def _mul_terms(b: Any, c: Candidate) -> str | None:
    coef: Any = 1
    bases: list = []
    changed = False
    for i, a in enumerate(c.args):
        k, base = term(b, a)
        if base is None or k != 1 or not isinstance(base, str):
            coef = coef * k
            changed = changed or base is not None or i > 0 or k in (1, -1) or (type(k) is not int and isinstance(k, Fraction))
        if base is not None:
            bases.append(base)
    if coef == 0 or not bases:
        return None
    if len(bases) > 1:
        coef, bases = _spliced(b, coef, bases)
    bases, merged = _powers(b, bases) if len(bases) > 1 else (bases, False)  # (one base has nothing to merge)
    if not bases:
        return filled(b, c, coef)  # u^2*u^-2 -> 1
    changed = changed or merged
    if len(bases) == 1 and is_exact(coef) and coef != 1 and _summed(b, bases[0]):
        return distribute(b, c, coef, bases[0])
    if not changed:
        return None
    result = scaled(b, coef, bases)
    return result if fits(b, result, c) else None


def _mul_numbers(b: Any, c: Candidate) -> str | None:
    """The numbers of a product as one: ``1/3*2*u -> 2/3*u``. Before :func:`_mul_terms`,
    whose quotient form ``2*u/3`` is two nodes where the product is one, so the builder
    refused it and the numbers stayed apart (the mean's derivative ``1/n*2*u`` met this);
    ``2/3*u`` then stays, and ``1/3*1/2*u`` still ends as ``u/6``."""
    numbers = [a for a in c.args if b.num(a) is not None]
    if not numbers or len(numbers) == 1 and b.num(numbers[0]) != 1:
        return None
    coef: Any = 1
    for a in numbers:
        coef = coef * b.num(a)
    rest = [a for a in c.args if a not in numbers]
    if not rest:
        return None  # all numbers: folding handles it
    if coef == 1:  # u*1*v -> u*v
        result = rest[0] if len(rest) == 1 else b.make("mul", *rest)
    else:
        result = b.make("mul", b.const(exact(coef)), *rest)
    return result if fits(b, result, c) else None


def _spliced(b: Any, coef: Any, bases: list) -> tuple[Any, list]:
    """The factors of a product among ``bases`` read in where one of them equals another
    factor: ``2*(x*z)*z`` is ``2, x, z, z`` (so they merge: ``2*x*z^2``), also when
    ``x*z`` is used elsewhere too (``Builder._terms_merged`` counts its factors)."""
    inner = []
    for base in bases:
        if type(base) is str and b.op(base) == "mul":
            inner.append(base)
    if not inner:
        return coef, bases
    outer = {as_power(b, base)[0] for base in bases if isinstance(base, str) and base not in inner}
    for n in inner:
        if any(as_power(b, a)[0] in outer for a in b.args(n)):
            break
    else:
        return coef, bases
    out = []
    for base in bases:
        if base not in inner:
            out.append(base)
            continue
        for a in b.args(base):
            k, f = term(b, a)
            coef = coef * k
            if f is not None:
                out.append(f)
    return coef, out


def _powers(b: Any, bases: list) -> tuple[list, bool]:
    """Equal factors as one power, in the place of the first: ``u*v*u -> u^2*v``,
    ``u^2*u -> u^3``, ``square(u)*u -> u^3``, ``u^2*v*u^-2 -> v``, ``x*x^(x - 1) -> x^x`` (integer or symbolic
    exponents; a reciprocal base ``1/v`` stays as it is). Factors that cancel are dropped,
    assuming ``u != 0`` as ``u/u -> 1`` does; the list may come back empty."""
    if len(set(bases)) == len(bases):  # distinct bases, none a power: nothing merges (the same reads)
        ops = [b.op(base) for base in bases if isinstance(base, str)]
        if "pow" not in ops and "sqrt" not in ops and "square" not in ops:
            return bases, False
    split = []
    exponents: dict[str, int] = {}
    symbolic: dict[str, list[str]] = {}  # u -> the non-numeric exponents of its powers
    count: dict[str, int] = {}
    for base in bases:
        u, k = as_power(b, base) if isinstance(base, str) else (base, 1)
        if type(k) is not int:
            u, k = base, 1  # sqrt(u) and u^(1/3) stay whole here
        elif u == base and isinstance(base, str):
            op, args = b.op_args(base)
            if op == "pow" and b.num(args[1]) is None:  # u^v: v counts apart
                u, k = args[0], 0
                symbolic.setdefault(u, []).append(args[1])
        split.append((u, k))
        if isinstance(u, str):
            exponents[u] = exponents.get(u, 0) + k
            count[u] = count.get(u, 0) + 1
    merge = {u for u, c in count.items() if c > 1}
    if not merge:
        return bases, False
    out = []
    for (u, k), base in zip(split, bases):
        if u not in merge:
            out.append(base)
        elif u in exponents:  # the first factor of u: the whole power goes here
            e = exponents.pop(u)
            if u in symbolic:  # u^(v + w + e): the numeric part last, left out when 0
                out.append(b.make("pow", u, _sum(b, symbolic[u] + ([b.const(e)] if e else []))))
            elif e != 0:
                out.append(u if e == 1 else base if e == k else b.make("pow", u, b.const(e)))
    return out, True


def _sum(b: Any, terms: list[str]) -> str:
    return terms[0] if len(terms) == 1 else b.make("add", *terms)


def _mul_order(b: Any, c: Candidate) -> str | None:
    """Factors in the order a hand derivation writes them: numbers, then variables and
    their powers, then the rest, each group in the order its nodes were made
    (``z*cos(x*z)``, not ``cos(x*z)*z``); a product used only here is spliced in
    (``x*(s*t) -> x*s*t``), a shared one leads (``s*t*x``: ``x*(s*t)`` would need
    parentheses to read back as the same product)."""
    args: list[str] = []
    for a in c.args:
        args.extend(b.args(a) if b.op(a) == "mul" and b.single(a) else (a,))
    ranked = sorted(args, key=lambda a: _rank(b, a))
    return b.make("mul", *ranked) if ranked != list(c.args) else None


def _mul_repeated(b: Any, c: Candidate) -> str | None:
    """Equal factors as a power of the node they are, where one is a power with a
    symbolic exponent, reading the products among the factors into theirs:
    ``(p*y*x^(p - 1))*p*x^(p - 1) -> p^2*y*(x^(p - 1))^2`` and ``2*(p*x^(p - 1))*p*x^(p - 1)
    -> 2*p^2*(x^(p - 1))^2`` (second derivatives of ``exp(x^p)`` and ``square(x^p)``), where
    :func:`_mul_terms` merges the exponents (``x^(2*p - 2)``), for more nodes than that frees.
    Not where ``simplify`` runs again without collecting's allowance (``Builder.collect``),
    where the nodes _mul_terms made and the builder refused would make this one look free."""
    if not b.collect:
        return None
    coef: Any = 1
    count: dict[Any, int] = {}
    for a in c.args:
        k, base = term(b, a)
        coef = coef * k
        if base is None:
            continue
        if type(base) is not str:  # a reciprocal ("1/", v)
            count[base] = count.get(base, 0) + 1
            continue
        for f in b.args(base) if b.op(base) == "mul" else (base,):
            k, f = term(b, f)
            coef = coef * k
            if f is not None:
                count[f] = count.get(f, 0) + 1
    if coef == 0 or not any(k > 1 and type(f) is str and _symbolic_power(b, f) for f, k in count.items()):
        return None  # (equal factors of other kinds _mul_terms merges as this would)
    bases = []
    for f, k in count.items():
        bases += [f] if k == 1 else [b.make("pow", f, b.const(k))] if type(f) is str else [f] * k
    result = scaled(b, exact(coef), bases)
    return result if fits(b, result, c) else None


def _symbolic_power(b: Any, n: str) -> bool:
    """``n`` is ``u^v`` for a ``v`` that is not a number."""
    op, args = b.op_args(n)
    return op == "pow" and b.num(args[1]) is None


def _rank(b: Any, n: str) -> tuple[int, int]:
    op = b.op(n)
    if op == "const":
        return (0, 0)
    if op == "mul":  # a shared product leads, where it needs no parentheses: s*(1 - s)*x
        return (0, 1)
    if op == "pow" and b.num(b.args(n)[1]) is not None:  # x^3 goes with x
        n = b.args(n)[0]
    role, order = b.made(n)
    return (1, order) if role in ("input", "param") else (2, order)


def _summed(b: Any, n: Any) -> bool:
    return isinstance(n, str) and b.op(n) in ("add", "sub") and b.single(n)


def _div_simple(b: Any, c: Candidate) -> str | None:
    u, v = c.args
    if b.is_(v, 1):
        return u if fits(b, u, c) else None
    if b.is_(u, 0):
        return filled(b, c, 0)
    if u == v:
        return filled(b, c, 1)
    (op, p), (op2, q) = b.op_args(u), b.op_args(v)
    if op2 == "div" and b.is_(q[0], 1):
        return b.make("mul", u, q[1])
    if op == "neg" and op2 == "neg":
        return b.make("div", p[0], q[0])
    if op == "sub" and op2 == "sub" and p[0] == q[1] and p[1] == q[0] or op == "neg" and p[0] == v or (
            op2 == "neg" and q[0] == u):
        return filled(b, c, -1)  # (x - z)/(z - x), (-v)/v, v/(-v)
    if op == "pow" and p[0] == v and b.num(p[1]) is None:  # x^z/x -> x^(z - 1)
        return b.make("pow", v, b.make("sub", p[1], b.const(1)))
    if op == "expand_to" and b.shape(v) == () and b.shape(p[0]) == ():
        # divide before spreading, so a product can drop the spread: 2*x*expand_to(1/n, x) -> 2*x/n
        return b.make("expand_to", b.make("div", p[0], v), p[1], **b.attrs(u))
    return None


def _div_coefficient(b: Any, c: Candidate) -> str | None:
    u, v = c.args
    k = b.num(v)
    if not is_exact(k) or k == 0:
        return None
    coef, base = term(b, u)
    if base is None:
        return None
    coef = Fraction(coef) / k if is_exact(coef) else coef / float(k)
    if _summed(b, base) and isinstance(coef, Fraction):
        return distribute(b, c, coef, base)
    result = scaled(b, coef, [base])
    return result if fits(b, result, c) else None


def _div_factors(b: Any, c: Candidate) -> str | None:
    """Common factors of a quotient cancel, exact coefficients too: ``x/(x*z) -> 1/z``,
    ``u*v/u -> v``, ``-2*x/x^4 -> -2/x^3``, ``2*x/(2*w) -> x/w``, ``sqrt(x)/x ->
    1/sqrt(x)``, ``1/(z*(x/z)) -> 1/x``, ``-2/(2*sqrt(x))^2/(2*sqrt(x)) -> -1/(4*x^(3/2))``
    (a cancelled factor is taken to be non-zero, as ``u/u -> 1`` takes it)."""
    u, v = c.args
    (kt, up), (kb, down) = factors(b, u), factors(b, v)
    if up.keys().isdisjoint(down):  # 2*(x*z)/(x*z): a shared x*z stays a factor of 2*(x*z)
        (base, e), (base2, e2) = as_power(b, v), as_power(b, u)
        if e != 1 and base in up:  # 2*(x*z)*s/(x*z)^4 -> 2*s/(x*z)^3: x*z whole, as the numerator has it
            kb, down = 1, {base: e}
        elif e2 != 1 and base2 in down:  # the same above the bar: (x*z)^4/(2*(x*z)*s)
            kt, up = 1, {base2: e2}
        else:
            (kt2, up2), (kb2, down2) = _products_read(b, kt, up), _products_read(b, kb, down)
            if not up2.keys().isdisjoint(down2):
                (kt, up), (kb, down) = (kt2, up2), (kb2, down2)
    # merged: a base on both sides, one cancelled within a side (z*(x/z): z^0), or a quotient
    # within a side, written out as one fraction (1/(x/z) -> z/x, x/z/w -> x/(z*w))
    merged = not up.keys().isdisjoint(down) or any(e <= 0 for e in up.values()) or any(e <= 0 for e in down.values())
    if not merged and type(kt) is int and type(kb) is int and kb > 0 and math.gcd(kt, kb) == 1:
        return None  # nothing cancels and kt/kb is in lowest terms (the common case, without Fractions)
    total = dict(up)
    for base, e in down.items():
        total[base] = total.get(base, 0) - e
    ratio = Fraction(kt) / Fraction(kb) if is_exact(kt) and is_exact(kb) and kb != 0 else None
    if not merged and (ratio is None or (ratio.numerator, ratio.denominator) == (kt, kb)):
        return None
    if ratio is None:
        if kb != 1:
            return None  # a float denominator coefficient: keep the quotient as it is
        ratio = kt
    return _rebuilt(b, c, ratio, total)


def _products_read(b: Any, k: Any, found: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """``k * prod(base^e)`` with each base that is a product (a shared one, left whole
    inside another product) read into its factors, for integer ``e``, and the products
    among those too (``(x*z*sin(x))*exp(z)``, a product of a shared ``x*z*sin(x)`` and of
    a shared ``x*z``, is ``x, z, sin(x), exp(z)``), at most :data:`_PRODUCT_LEVELS` deep."""
    for _ in range(_PRODUCT_LEVELS):
        out: dict[str, Any] = {}
        read = False
        for base, e in found.items():
            kk, inner = factors(b, base) if b.op(base) == "mul" and type(e) is int else (0, {})
            if kk == 0:  # not a product (or a zero one, never divided by): the base stays whole
                out[base] = out.get(base, 0) + e
                continue
            read = True
            k = k * kk**e if e >= 0 else k / (Fraction(kk) if is_exact(kk) else kk) ** -e
            for f, ef in inner.items():
                out[f] = out.get(f, 0) + ef * e
        found = out
        if not read:
            break
    return k, found


#: how many levels of products within products a quotient's factors are read into
_PRODUCT_LEVELS = 4


def _mul_quotients(b: Any, c: Candidate) -> str | None:
    """A product with a quotient among its factors cancels across it: ``z*(x/z) -> x``,
    ``(x/z)*(z/w) -> x/w``, ``u^2*(v/u) -> u*v`` (a cancelled factor is taken to be
    non-zero, as ``u/u -> 1`` takes it)."""
    for a in c.args:
        op = b.op(a)
        if op == "div" or op == "pow" and _reciprocal(b, a):
            break
    else:
        return None
    coef, total, read = read_factors(b, [(a, 1, 1, False) for a in c.args])
    if len(total) == read and not _numbers_cancel(b, c.args):
        return _one_fraction(b, c)  # nothing cancels or merges
    return _rebuilt(b, c, coef, total)


def _mul_into_sum(b: Any, c: Candidate) -> str | None:
    """A product times a sum whose every term is a quotient by one of the product's
    factors, multiplied in so the quotients cancel: ``s*t*(-y/s - (y - 1)/t) ->
    -y*t - s*(y - 1)`` (the logistic loss's derivative; a cancelled factor is taken to be
    non-zero, as ``u/u -> 1`` takes it)."""
    for total in c.args:
        kind = b.op(total)
        if kind == "add" or kind == "sub":
            break
    else:
        return None
    others = list(c.args)
    others.remove(total)
    if not others:
        return None
    parts = b.args(total)
    cancel = []
    for sign, t in _signed(b, parts, (1, -1) if kind == "sub" else (1,) * len(parts)):
        k, base = term(b, t)
        if base is None:
            return None  # a constant term: nothing cancels in it
        if isinstance(base, tuple):
            top, below = None, base[1]  # k/v
        else:
            op, args = b.op_args(base)
            if op != "div":
                return None
            top, below = args
        if below not in others:
            return None
        cancel.append((sign * k, top, below))
    if not b.single(total):
        return None  # (asked last: a structural miss needs no use count logged)
    plus, minus = [], []
    for k, top, below in cancel:
        rest = list(others)
        rest.remove(below)
        factors = ([top] if top is not None else []) + rest
        if factors and is_negative(k) and (plus or minus):
            minus.append(scaled(b, -k, factors))  # written after a minus: s*(y - 1), not -s*(y - 1)
        else:
            plus.append(scaled(b, k, factors) if factors else b.const(exact(k)))
    result = plus[0] if len(plus) == 1 else b.make("add", *plus)
    if minus:
        result = b.make("sub", result, minus[0] if len(minus) == 1 else b.make("add", *minus))
    return result if fits(b, result, c) else None


def _mul_cancel_into_sum(b: Any, c: Candidate) -> str | None:
    """A factor times a sum used only here, multiplied in where it cancels in a quotient
    of the sum and cancels or merges in every other term: ``x*(2*u/(x^2*z^3) + x*v) ->
    2*u/(x*z^3) + x^2*v``, ``z*(1 - 1/(x*z)^2) -> z - 1/(x^2*z)`` (not ``x*(a + u/x)``:
    ``x*a`` would be a node more; a cancelled factor is taken to be non-zero, as ``u/u
    -> 1`` takes it)."""
    if len(c.args) != 2:
        return None
    f, total = c.args
    kind = b.op(total)
    if kind != "add" and kind != "sub":
        f, total = total, f
        kind = b.op(total)
        if kind != "add" and kind != "sub":
            return None
    if b.num(f) is not None or b.op(f) in ("add", "sub", "div"):
        return None  # numbers: distribute's; a sum or a quotient: not one factor to cancel
    parts = b.args(total)
    for t in parts:  # (a quotient first: most sums have none, and need no factors read)
        _, base = term(b, t)
        if isinstance(base, tuple) or base is not None and b.op(base) == "div":
            break
    else:
        return None
    bases = factors(b, f)[1]
    cancels = False
    for t in parts:
        k, base = term(b, t)
        if base is None:
            if k != 1 and k != -1:
                return None  # f times the number would be a node of its own
            continue
        below = isinstance(base, tuple)
        shared = [e for u, e in factors(b, base[1] if below else base)[1].items() if u in bases]
        if not shared:
            return None  # a term f only multiplies: nothing cancels or merges in it
        cancels = cancels or below or any(e < 0 for e in shared)
    if not cancels or not b.single(total):
        return None
    result = b.make(kind, *(b.make("mul", f, t) for t in parts))
    return result if fits(b, result, c) else None


def _reciprocal(b: Any, a: str) -> bool:
    """``a`` is a power with a negative exact exponent: ``u^(-1/2)``."""
    op, args = b.op_args(a)
    if op != "pow":
        return False
    e = b.num(args[1])
    return is_exact(e) and e < 0


def _one_fraction(b: Any, c: Candidate) -> str | None:
    """A product of quotients as one quotient, as a hand derivation writes it:
    ``2*x*((x - 1)/v) -> 2*x*(x - 1)/v``, ``u*(x^2 + 1)^(-1/2) -> u/sqrt(x^2 + 1)``."""
    top: list[str] = []
    bottom: list[str] = []
    for a in c.args:
        op, args = b.op_args(a)
        if op == "div" and b.num(args[1]) is None:
            if not b.is_(args[0], 1):
                top.append(args[0])
            bottom.append(args[1])
        elif op == "pow" and _reciprocal(b, a):
            bottom.append(_power(b, args[0], -b.num(args[1])))
        else:
            top.append(a)
    if not bottom or not top:
        return None
    if len(top) == 2 and b.num(top[0]) is not None and _summed(b, top[1]):
        return None  # 3*(u + v) on top would be multiplied out: -3*((2*x + 1)/v) stays
    up = top[0] if len(top) == 1 else b.make("mul", *top)
    result = b.make("div", up, bottom[0] if len(bottom) == 1 else b.make("mul", *bottom))
    return result if fits(b, result, c) else None


def _numbers_cancel(b: Any, args: tuple[str, ...]) -> bool:
    """A number among the factors and one in a denominator among them: ``2*(x/(2*s))``."""
    top = bottom = False
    for a in args:
        op, inner = b.op_args(a)
        if op == "const":
            top = True
        elif op == "div":
            top = top or _leading_number(b, inner[0])
            bottom = bottom or _leading_number(b, inner[1])
    return top and bottom


def _leading_number(b: Any, n: str) -> bool:
    op, inner = b.op_args(n)
    return op == "const" or op == "mul" and b.num(inner[0]) is not None


def _rebuilt(b: Any, c: Candidate, coef: Any, total: dict[str, Any]) -> str | None:
    """``coef * prod(base^e)`` (negative exponents below a fraction bar), standing in for ``c``."""
    plain = [_power(b, base, e) for base, e in total.items() if e > 0]
    below = [("1/", _power(b, base, -e)) for base, e in total.items() if e < 0]
    result = scaled(b, coef, plain + below) if plain or below else b.const(exact(coef))
    return result if fits(b, result, c) else None


def _power(b: Any, base: str, e: Any) -> str:
    if e == 1:
        return base
    return b.make("sqrt", base) if e == HALF else b.make("pow", base, b.const(exact(e)))


def _div_neg(b: Any, c: Candidate) -> str | None:
    u, v = c.args
    if b.op(u) == "neg" and b.op(v) not in ("neg", "const") and b.single(u):
        return b.make("neg", b.make("div", b.args(u)[0], v))
    return None


def _neg_neg(b: Any, c: Candidate) -> str | None:
    a = c.args[0]
    if b.op(a) == "neg":
        return b.args(a)[0]
    op, args = b.op_args(a)
    if op == "sub":
        return b.make("sub", args[1], args[0])
    if op == "div" and b.op(args[0]) == "sub":  # -(z - 1)/w -> (1 - z)/w
        p, q = b.args(args[0])
        return b.make("div", b.make("sub", q, p), args[1])
    if op == "mul" and len(args) > 2 and b.num(args[0]) is not None:  # -(-2*u*v) -> 2*u*v
        return scaled(b, -b.num(args[0]), list(args[1:]))
    coef, base = term(b, a)
    return scaled(b, -coef, [base]) if base is not None and coef != 1 else None


def _pow_simple(b: Any, c: Candidate) -> str | None:
    u, e = c.args
    if b.is_(e, 1):
        return u if fits(b, u, c) else None
    if b.is_(e, 0) or b.is_(u, 1):
        return filled(b, c, 1)
    k = b.num(e)
    if b.op(u) == "pow" and isinstance(k, int) and b.num(b.args(u)[1]) is not None:
        inner, a = b.args(u)
        return b.make("pow", inner, b.const(exact(b.num(a) * k)))
    return None


def _abs_abs(b: Any, c: Candidate) -> str | None:
    a = c.args[0]
    if b.op(a) == "abs":
        return a
    return b.make("abs", b.args(a)[0]) if b.op(a) == "neg" else None


def _unguarded(b: Any, c: Candidate) -> str | None:
    """``replace_zero(u) -> u`` (``replace_zero_if(u, v)`` too) where ``u`` is never 0, not even rounded (``1 + v^2``), and
    where ``u`` is ``exp(v)``: the guard of the pow rule's log, whose ``log(exp(v))`` then
    folds to ``v`` (``exp(v)^p`` differentiates to ``v*exp(v)^p``), the exact value even
    where ``exp(v)`` underflows to 0. Not for other ``u`` > 0 that round to 0
    (``sigmoid(-1000)``, ``exp(v)*exp(w)``): ``log(0)`` is where the guarded log gives 0."""
    u = c.args[0]
    if len(c.args) == 2:  # replace_zero_if(u, v): u where u and v are never both 0, v a number too
        k = b.num(c.args[1])
        if fits(b, u, c) and (k is not None and k != 0 or _never_zero(b, c.args[1])):
            return u
    return u if fits(b, u, c) and (b.op(u) == "exp" or _never_zero(b, u)) else None


def _log_guarded_zero(b: Any, c: Candidate) -> str | None:
    """``log(replace_zero_if(0, v)) -> 0``: 0 where v is 0, log(0) elsewhere (``0^p``
    differentiates by p to 0, but for the jump at p = 0)."""
    inner = c.args[0]
    return filled(b, c, 0) if b.op(inner) == "replace_zero_if" and b.is_(b.args(inner)[0], 0) else None


def _never_zero(b: Any, u: str) -> bool:
    """``u`` > 0 provably, with no rounding to 0: a positive number, a sum of one with
    terms >= 0 (``1 + x^2`` >= 1), or the ``sqrt`` or ``|...|`` of such."""
    v = b.num(u)
    if v is not None:
        return v > 0 and (abs(v) >= 1 or float(v) > 0)  # (10**400 has no float; 10**-400 is 0.0)
    op, args = b.op_args(u)
    if op in ("sqrt", "abs"):
        return _never_zero(b, args[0])
    return op == "add" and positive(b, u) and any(_never_zero(b, a) for a in args)


def _mul_guarded_log(b: Any, c: Candidate) -> str | None:
    """``log(u)*log(replace_zero(u)) -> log(u)*log(u)`` (``log(u)^2`` too): where the product
    takes ``log(u)`` it is not finite at ``u = 0`` anyway (and simplify's identities assume
    finite operands), so the guard of the pow rule changes no value (``x^p*log(x)``
    differentiates by ``p`` to ``x^p*log(x)^2``, which _mul_terms merges). A product among
    the factors (a shared one, which _mul_order leaves whole) counts with its factors and
    is read in where it holds the guard: ``(x^p*log(replace_zero(x)))*log(x) ->
    x^p*log(x)*log(x)``."""
    out = _unguarded_parts(b, c.args, _logs_taken(b, _read_in(b, c.args)))
    if out is None:
        return None
    result = b.make("mul", *out)
    return result if fits(b, result, c) else None


def _mul_guarded_base(b: Any, c: Candidate) -> str | None:
    """``v*u*replace_zero_if(u, v)^(v - 1) -> v*u*u^(v - 1)`` (which _mul_terms makes
    ``v*u^v``): the pow rule's guard of the base changes the product only where u and v
    are both 0, where it is 0 either way (``sigmoid(x)^p`` differentiates to
    ``p*sigmoid(x)^p*(1 - sigmoid(x))``)."""
    args = c.args
    out = list(args)
    for i, f in enumerate(args):
        if b.op(f) == "pow":
            base, e = b.args(f)
            if b.op(base) == "replace_zero_if":
                u, v = b.args(base)
                if u in args and v in args and b.op(e) == "sub" and b.args(e)[0] == v and b.is_(b.args(e)[1], 1):
                    out[i] = b.make("pow", u, e)
    return b.make("mul", *out) if out != list(args) else None


def _div_guarded_log(b: Any, c: Candidate) -> str | None:
    """The same in a quotient, either way up: ``u^p*log(replace_zero(u))/log(u) ->
    u^p*log(u)/log(u)`` (``x^p/log(x)`` differentiates by ``p`` to ``x^p``)."""
    top, bottom = c.args
    logs = _logs_taken(b, _read_in(b, [*_factors(b, top), *_factors(b, bottom)]))
    if not logs:
        return None
    new = [_product(b, _unguarded_parts(b, _factors(b, a), logs)) or a for a in (top, bottom)]
    return b.make("div", *new) if new != [top, bottom] else None


def _add_guarded_log(b: Any, c: Candidate) -> str | None:
    """The same in a sum (or difference), over the factors of its terms (of a quotient's
    top and bottom, under a minus): where a term takes ``log(u)`` (above its fraction bar:
    ``1/log(u)`` is ``-0`` at ``u = 0``), the sum is not finite at ``u = 0``, so ``log(replace_zero(u))`` and ``replace_zero(u)`` in the others become
    ``log(u)`` and ``u``, and like terms that print alike collect again (d/dp of
    ``x^p + p*x^p*log(x)`` expands to ``2*x^p*log(x) + p*x^p*log(x)^2``, not
    ``x^p*log(x) + p*x^p*log(x)^2 + x^p*log(x)``)."""
    shapes = [_term_shape(b, t) for t in c.args]
    logs = _logs_taken(b, [f for _, parts in shapes if parts for f in _read_in(b, _factors(b, parts[0]))])
    if not logs:
        return None
    new = []
    for t, (wrap, parts) in zip(c.args, shapes):
        rebuilt = [_product(b, _unguarded_parts(b, _factors(b, part), logs, zeros=True)) or part for part in parts]
        if rebuilt == list(parts):
            new.append(t)
            continue
        inner = b.make("div", *rebuilt) if len(rebuilt) == 2 else rebuilt[0]
        new.append(b.make("neg", inner) if wrap else inner)
    return b.make(c.op, *new) if new != list(c.args) else None


def _term_shape(b: Any, t: Any) -> tuple[bool, tuple[Any, ...]]:
    """(under a minus, the quotient's top and bottom or the term alone) of a sum's term."""
    if not isinstance(t, str):
        return False, ()
    wrap = b.op(t) == "neg"
    inner = b.args(t)[0] if wrap else t
    return wrap, tuple(b.args(inner)) if b.op(inner) == "div" else (inner,)


def _unguarded_parts(b: Any, parts: Any, logs: dict[str, str], *, zeros: bool = False) -> list[str] | None:
    """The factors ``parts`` of a product with each ``log(replace_zero(u))`` for a ``u`` of
    ``logs`` made ``log(u)`` (and, where ``zeros``, each ``replace_zero(u)`` made ``u``); a
    product among them that holds one is read in, its other factors as they are. None if
    nothing changes."""
    if not logs:
        return None
    out, changed = [], False
    for a in parts:
        inner = _factors(b, a) if isinstance(a, str) else (a,)
        new = [_unguarded_factor(b, f, logs, zeros) for f in inner]
        if new != list(inner):
            out.extend(new)
            changed = True
        else:
            out.append(a)
    return out if changed else None


def _unguarded_factor(b: Any, a: Any, logs: dict[str, str], zeros: bool) -> Any:
    """``a`` with the guard taken out: ``log(replace_zero(u))`` (and its power,
    ``log(replace_zero(u))^2``) as ``log(u)``; where ``zeros``, ``replace_zero(u)`` as ``u``."""
    if not isinstance(a, str):
        return a
    op, args = b.op_args(a)
    if zeros and op in _GUARDS and args[0] in logs:
        return args[0]
    if op in ("pow", "square", "sqrt") and _guarded_operand(b, args[0]) in logs:
        return b.make(op, logs[_guarded_operand(b, args[0])], *args[1:])
    return logs.get(_guarded_operand(b, a), a)


def _product(b: Any, parts: list[str] | None) -> str | None:
    """The product of ``parts`` (one alone as it is); None for None."""
    if parts is None:
        return None
    return parts[0] if len(parts) == 1 else b.make("mul", *parts)


def _factors(b: Any, n: str) -> tuple[str, ...]:
    return b.args(n) if b.op(n) == "mul" else (n,)


def _read_in(b: Any, parts: Any) -> list[str]:
    """``parts`` with the factors of each product among them in its place (one level)."""
    return [f for a in parts for f in (_factors(b, a) if isinstance(a, str) else (a,))]


def _logs_taken(b: Any, parts: Any) -> dict[str, str]:
    """``u -> log(u)`` for each factor ``log(u)`` or ``log(u)^k`` (``k`` > 0) among
    ``parts``: one that makes their product not finite at ``u = 0`` (``log(u)^-1`` is
    ``-0`` there)."""
    logs = {}
    for a in parts:
        base, k = as_power(b, a) if isinstance(a, str) else (a, 1)
        if isinstance(base, str) and b.op(base) == "log" and k > 0:
            logs[b.args(base)[0]] = base
    return logs


def _guarded_operand(b: Any, a: str) -> str | None:
    """``u`` when ``a`` is ``log(replace_zero(u))``."""
    if b.op(a) != "log":
        return None
    inner = b.args(a)[0]
    return b.args(inner)[0] if b.op(inner) in _GUARDS else None


_GUARDS = ("replace_zero", "replace_zero_if")  # u, with 1 where it (and v) is 0


def _same_operand(b: Any, c: Candidate) -> str | None:
    """``maximum(u, u) -> u`` (and minimum's): its derivative, a half from each side, is 1."""
    u, v = c.args
    return u if u == v and fits(b, u, c) else None


def _tie(b: Any, c: Candidate) -> str | None:
    """``sign_diff(u, u) -> 0``, as ``u - u -> 0``."""
    u, v = c.args
    return filled(b, c, 0) if u == v else None


def _sign_of_multiple(b: Any, c: Candidate) -> str | None:
    """``sign_diff(u, v) -> sign(k)*sign(w)`` where ``u - v`` simplifies to ``k*w`` for a
    number ``k`` != 0 (``sign_diff(x, 2*x) -> -sign(x)``), and to ``sign(k)`` where it is
    the number ``k`` (``sign_diff(x + 1, x) -> 1``). Only for a ``w`` that ``u`` or ``v``
    is computed from (or is), so ``sign(w)`` overflows nowhere they do not: the overflow
    of ``u - v`` itself (``1e308 - -1e308``), which sign_diff exists to avoid, is never
    taken (``sign_diff(x, z)`` stays)."""
    u, v = c.args
    d = b.make("sub", u, v)
    k, base = term(b, d)
    if isinstance(k, float) and not math.isfinite(k) or not isinstance(k, (int, float, Fraction)):
        return None
    sign = (k > 0) - (k < 0)
    if base is None:
        return filled(b, c, sign)
    if sign == 0 or type(base) is not str or not _computed_from(b, base, (u, v)):
        return None
    result = b.make("sign", base)
    if sign < 0:
        result = b.make("neg", result)
    return result if fits(b, result, c) else None


def _computed_from(b: Any, w: str, roots: tuple[str, ...], budget: int = 32) -> bool:
    """``w`` is one of ``roots`` or a node they are computed from (reading at most
    ``budget`` nodes)."""
    stack, seen = list(roots), set()
    while stack and len(seen) < budget:
        n = stack.pop()
        if n == w:
            return True
        if n not in seen:
            seen.add(n)
            stack.extend(b.args(n))
    return False


def _sign_multiple(b: Any, c: Candidate) -> str | None:
    """``sign(-u) -> -sign(u)`` and ``sign(k*u) -> sign(k)*sign(u)`` for an exact number
    ``k`` (sign is odd, NaN and 0 included), so the sign joins the term's number: d/dx
    ``minimum(0, x)`` is ``1/2 - sign(x)/2``, not ``sign(-x)/2 + 1/2``, and of
    ``minimum(0, 2*x)`` ``1 - sign(x)``, not ``sign(-2*x) + 1``."""
    k, base = term(b, c.args[0])
    if type(base) is not str or base == c.args[0] or not is_exact(k) or k == 0:
        return None
    inner = b.make("sign", base)
    return inner if k > 0 else b.make("neg", inner)


def _exp_log_softmax(b: Any, c: Candidate) -> str | None:
    """``exp(log_softmax(u)) -> softmax(u)`` (along the same axis)."""
    op, args = b.op_args(c.args[0])
    return b.make("softmax", args[0], **b.attrs(c.args[0])) if op == "log_softmax" else None


def _relu(r: Fraction) -> Fraction:
    return max(r, Fraction(0))


#: op -> its identities, tried in order; each one line: what it rewrites
RULES: dict[str, tuple[Rule, ...]] = {
    "add": (
        _add_guarded_log,  # x^p*log(replace_zero(x)) + x^p*log(x) -> x^p*log(x) + x^p*log(x): not finite at x = 0 either way
        _add_numbers,  # u + w + 0 -> u + w, 2 + u + 3 -> u + 5: the numbers first, as one (before collecting, which may grow the graph)
        _add_terms,  # u + 0 -> u, 2 + u + 3 -> u + 5, u + 2*u -> 3*u, u + -u -> 0
        _add_cancelling,  # s*(1 - y) + y*(s - 1) -> s - y: multiplied out where terms cancel
        _add_order,  # -u/v + w -> w - u/v: positive terms first (the constant last)
    ),
    "sub": (
        _add_guarded_log,  # the same in u - v
        _sub_terms,  # u - 0 -> u, 0 - u -> -u, u - u -> 0, u - (-v) -> u + v, 3*u - u -> 2*u
        _add_cancelling,  # s*(1 - y) - y*(1 - s) -> s - y: multiplied out where terms cancel
    ),
    "mul": (
        _mul_zero,  # u*0 -> 0 (zeros_like(u) when u is an array)
        _mul_spread,  # expand_to(k, u)*w -> k*w for a scalar k when w already has the product's shape
        _mul_guarded_log,  # log(u)*log(replace_zero(u)) -> log(u)*log(u): not finite at u = 0 either way
        _mul_guarded_base,  # p*x*replace_zero_if(x, p)^(p - 1) -> p*x*x^(p - 1): 0 at x = p = 0 either way
        _mul_numbers,  # 2*u*3 -> 6*u, 1/3*2*u -> 2/3*u, u*1*v -> u*v: the numbers first, as one (2*u/3 would grow the graph)
        _mul_terms,  # 1*u -> u, 2*u*3 -> 6*u, (-u)*v -> -(u*v), 3*(u/6) -> u/2, u*(2/v) -> 2*u/v,
        #              u*v*u -> u^2*v, x*x^z -> x^(z + 1), 3*(u + v) -> 3*u + 3*v when that does not grow the graph
        _mul_quotients,  # z*(x/z) -> x, (x/z)*(z/w) -> x/w: factors cancel across a quotient
        _mul_into_sum,  # s*t*(-y/s - (y - 1)/t) -> -y*t - s*(y - 1): quotients cancel term by term
        _mul_cancel_into_sum,  # x*(u/x^2 + x*v) -> u/x + x^2*v: a factor multiplied into a sum where it cancels or merges in every term
        _mul_repeated,  # (p*y*x^(p - 1))*p*x^(p - 1) -> p^2*y*(x^(p - 1))^2: equal factors as a power of their node
        _mul_order,  # cos(x*z)*z -> z*cos(x*z): numbers, variables, then the rest
    ),
    "div": (
        _div_guarded_log,  # u^p*log(replace_zero(u))/log(u) -> u^p*log(u)/log(u): not finite at u = 0 either way
        _div_simple,  # u/1 -> u, 0/u -> 0, u/u -> 1, u/(1/v) -> u*v, (-u)/(-v) -> u/v, (x - z)/(z - x) -> -1, x^z/x -> x^(z - 1),
        #               expand_to(k, u)/v -> expand_to(k/v, u) for scalars k, v
        _div_coefficient,  # (6*u)/4 -> 3*u/2, (-u)/2 -> -u/2, (6/v)/4 -> (3/2)/v, (u + v)/2 -> u/2 + v/2
        _div_factors,  # x/(x*z) -> 1/z, u*v/u -> v, -2*x/x^4 -> -2/x^3, 2*x/(2*w) -> x/w
        _div_neg,  # (-u)/v -> -(u/v) (so sums see the sign: u/v + (-u)/v -> 0, w + (-u)/v -> w - u/v)
    ),
    "neg": (
        _keeps_zero,  # -0 -> 0 (a zeros_like too)
        _neg_neg,  # --u -> u, -(u - v) -> v - u, -(3*u) -> -3*u, -(-2*u*v) -> 2*u*v, -(u - v)/w -> (v - u)/w
    ),
    "maximum": (_same_operand,),  # maximum(u, u) -> u
    "minimum": (_same_operand,),  # minimum(u, u) -> u
    "sign_diff": (
        _tie,  # sign_diff(u, u) -> 0 (exact numbers fold: sign_diff(1, 1/2) -> 1)
        _sign_of_multiple,  # sign_diff(x, 2*x) -> -sign(x), sign_diff(x + 1, x) -> 1: u - v is k*w, w below u or v
    ),
    "pow": (
        _pow_simple,  # u^1 -> u, u^0 -> 1, 1^u -> 1, (u^a)^n -> u^(a*n) for integer n
    ),
    "exp": (
        _at(0, 1),  # exp(0) -> 1
        _inverse("log", only_positive=True),  # exp(log(u)) -> u, only where u > 0 provably
        _exp_log_softmax,  # exp(log_softmax(u)) -> softmax(u)
    ),
    "log": (
        _at(1, 0),  # log(1) -> 0
        _log_guarded_zero,  # log(replace_zero_if(0, v)) -> 0: log(0) where v is not 0
        _inverse("exp"),  # log(exp(u)) -> u
    ),
    "sin": (_at(0, 0), _keeps_zero),  # sin(0) -> 0
    "cos": (_at(0, 1),),  # cos(0) -> 1
    "tan": (_at(0, 0), _keeps_zero),  # tan(0) -> 0
    "tanh": (_at(0, 0), _keeps_zero),  # tanh(0) -> 0
    "sigmoid": (_at(0, Fraction(1, 2)),),  # sigmoid(0) -> 1/2
    "sqrt": (_exactly(_sqrt_exact), _keeps_zero),  # sqrt(9/4) -> 3/2 (perfect squares only), sqrt(0) -> 0
    "relu": (_exactly(_relu), _keeps_zero),  # relu(-1/2) -> 0, relu(3) -> 3, relu(0) -> 0
    "square": (_keeps_zero,),  # 0^2 -> 0
    "step": (_exactly(lambda r: int(r > 0)),),  # step(r) -> 1 if r > 0 else 0
    "sign": (_exactly(lambda r: (r > 0) - (r < 0)), _sign_multiple),  # sign(r) -> -1, 0 or 1, sign(-2*u) -> -sign(u)
    "abs": (_keeps_zero, _abs_abs),  # |0| -> 0, ||u|| -> |u|, |-u| -> |u|
    "identity": (lambda b, c: c.args[0],),  # identity(u) -> u
    "replace_zero": (_unguarded,),  # replace_zero(u) -> u where u never rounds to 0 (1 + v^2), and exp(v)
    #                                 (replace_zero(0) folds to 1)
    "replace_zero_if": (_unguarded,),  # the same, and replace_zero_if(u, v) -> u where v is never 0 (2, 1 + w^2)
    "sum_to": (zero_spread, sum_to_twice),  # sum_to(u, like) -> u when shapes are equal, sum_to(0, like) -> zeros,
    #                            sum_to(u, x^2) -> sum_to(u, x) for an unknown shape;
    #                            sum_to(x*sum_to(v, a), w) -> sum_to(x*v, w) where the shapes nest;
    #                            sum_to(u, w) -> sum(u) for a w of shape (), sum_to(sum_to(v, a), w) -> sum(v) where a is in v
    "expand_to": (zero_spread, spread_twice),  # expand_to(u, like) -> u when shapes are equal, expand_to(0, like) -> zeros,
    #                                          expand_to(expand_to(k, a), like) -> expand_to(k, like) for a number k
    "reshape_like": (zero_spread,),  # reshape_like(u, like) -> u when shapes are equal, of 0 -> zeros
    "reshape": (reshape_noop,),  # reshape(u) -> u when u has that shape already
    "transpose": (transpose_twice,),  # transpose(transpose(u)) -> u, transpose of a vector -> itself
    "sum": (reduce_scalar,),  # sum(u) -> u for a scalar u
    "mean": (reduce_scalar,),  # mean(u) -> u for a scalar u
    "size": (size_known,),  # size(u) -> n when u's shape is known, size(x^2) -> size(x) when not
    "zeros_like": (zeros_of_less,),  # zeros_like(u) -> 0 for scalar u, zeros_like(a + b) -> zeros_like(a)
}
