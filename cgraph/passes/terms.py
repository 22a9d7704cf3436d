"""Reading nodes as ``coefficient * base`` and building canonical terms, for the
simplifier's rules (:mod:`cgraph.passes.rules`).

Terms are read as ``coefficient * base`` (``3*u``, ``-u``, ``u/4`` = ``1/4 * u``, and
``c/v`` = ``c * (1/v)`` with a reciprocal base that need not exist as a node), so that
coefficients fold and like terms collect; the canonical forms are ``3*u``, ``-u``,
``u/4``, ``-u/4``, ``3*u/4`` and ``3/v``. ``b`` is the simplifier's builder: it answers
``op``/``args``/``op_args``/``num``/``is_``/``shape``/``single`` and builds with ``make``/``const``.
"""

from __future__ import annotations

import math
import sys
from fractions import Fraction
from typing import Any, NamedTuple

import numpy as np


class Candidate(NamedTuple):
    """The node being built: ``op(*args, **attrs)`` of shape ``shape``."""

    op: str
    args: tuple[str, ...]
    attrs: dict
    shape: Any


EXACT = (int, Fraction)


def is_exact(v: Any) -> bool:
    """``isinstance(v, EXACT)``: a Python int or a Fraction. (Fraction's metaclass is
    ABCMeta, so ``isinstance`` of anything else, ``None`` or a float, runs Python code
    there; the common types are told apart by type first.)"""
    t = type(v)
    if t is int or t is Fraction:
        return True
    if t is float or v is None:
        return False
    return isinstance(v, EXACT)


def fits(b: Any, n: str, c: Candidate) -> bool:
    """``n`` may stand in for ``c``: the same shape (for unknown shapes: the broadcast of
    the same nodes, ``b.extent``), or, where only elementwise ops use ``c``
    (``b.pointwise``), any unknown or scalar shape that broadcasting restores."""
    s = b.shape(n)
    if c.shape is not None:
        return s == c.shape
    if s is None and b.extent(n) == b.extent_of(c.op, c.args):
        return True
    return (s is None or s == ()) and b.pointwise


def filled(b: Any, c: Candidate, k: int) -> str | None:
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


def term(b: Any, n: str) -> tuple[Any, Any]:
    """``n`` as ``(coefficient, base)``; a constant is ``(value, None)``, ``c/v`` is
    ``(c, ("1/", v))``: a reciprocal base that need not exist as a node, and ``c/(k*v)``
    is ``(c/k, ("1/", v))`` for an exact ``k``."""
    op, args = b.op_args(n)
    if op == "const":
        v = b.num(n)
        return (v, None) if v is not None else (1, n)  # an array constant is a base
    if op != "neg" and op != "mul" and op != "div":
        return 1, n  # (the loop below's answer for any other op, without it)
    coef: Any = 1
    for i in range(3):  # -(3*u)/4 is three levels deep at most
        if i:
            op, args = b.op_args(n)
        if op == "neg":
            coef, n = -coef, args[0]
            continue
        if op == "mul" and len(args) == 2:
            k = b.num(args[0])
            if k is not None:
                coef, n = coef * k, args[1]
                continue
        elif op == "div":
            k = b.num(args[1])
            if is_exact(k) and k != 0:
                # Fraction(coef, k) is coef * Fraction(1, 1) / k for ints, in one step
                coef = Fraction(coef, k) if type(coef) is int and type(k) is int else coef * Fraction(1, 1) / k
                n = args[0]
                continue
            top = b.num(args[0])
            if top is not None and b.op(args[1]) != "const":
                v = args[1]
                op, below = b.op_args(v)
                if op == "mul" and len(below) == 2:
                    k = b.num(below[0])
                    if is_exact(k) and k != 0:  # c/(k*w): (c/k) * (1/w)
                        return exact(coef * top / Fraction(k)), ("1/", below[1])
                return exact(coef * top), ("1/", v)
        break
    return exact(coef), n


def in_range(value: Any) -> bool:
    """False for a float that is inf, nan, zero or subnormal, and for a float array holding
    inf or nan: a coefficient that float arithmetic on numbers in range can make by
    overflow (``1e300*1e300``) or underflow (``1e-200*1e-200 == 0.0``), where the product
    it stands for is finite and not zero. (An array's zeros are usually meant; exact ints
    and Fractions are always in range.)"""
    if isinstance(value, float):
        return math.isfinite(value) and abs(value) >= sys.float_info.min
    return not isinstance(value, np.ndarray) or bool(np.isfinite(value).all())


def exact(v: Any) -> Any:
    t = type(v)
    if t is int or t is float:  # (without the ABC check below)
        return v
    return int(v) if isinstance(v, Fraction) and v.denominator == 1 else v


def scaled(b: Any, coef: Any, bases: list) -> str:
    """``coef`` times the product of ``bases``, in canonical form (``bases`` non-empty)."""
    plain, below = [], []
    for x in bases:
        if not isinstance(x, str):
            if x[0] == "*":  # ("*", k*u*v): u*v, its number k already in coef (_float_alike)
                plain += b.args(x[1])[1:]
            else:  # the reciprocal ("1/", v)
                below.append(x[1])
            continue
        op, args = b.op_args(x)
        k = b.num(args[0]) if op == "mul" and len(args) > 2 else None
        if k is not None:  # 5/3 times 3*u*v (like terms merged by _alike) is 5*u*v
            coef = coef * k
            plain += args[1:]
            continue
        if op == "div" and b.op(args[0]) == "mul":  # ... and 3/2 times 2*u/v is 3*u/v
            top = b.args(args[0])
            k = b.num(top[0])
            if k is not None:
                coef = coef * k
                x = b.make("div", top[1] if len(top) == 2 else b.make("mul", *top[1:]), args[1])
        plain.append(x)
    coef = exact(coef)
    num, den = (coef.numerator, coef.denominator) if type(coef) is not int and isinstance(coef, Fraction) else (coef, 1)
    if below or den != 1:
        top = scaled(b, num, plain) if plain else b.const(num)
        bottom = ([b.const(den)] if den != 1 else []) + below
        return b.make("div", top, bottom[0] if len(bottom) == 1 else b.make("mul", *bottom))
    if coef == -1:
        return b.make("neg", scaled(b, 1, plain))
    if coef == 1:
        return plain[0] if len(plain) == 1 else b.make("mul", *plain)
    return b.make("mul", b.const(coef), *plain)


def distribute(b: Any, c: Candidate, coef: Any, s: str) -> str | None:
    """``coef * (t1 + t2)`` as ``coef*t1 + coef*t2`` (kept only if the graph does not grow)."""
    terms = []
    signs = (1, -1) if b.op(s) == "sub" else (1,) * len(b.args(s))
    for sign, t in zip(signs, b.args(s)):
        k, base = term(b, t)
        k = sign * coef * k
        terms.append(b.const(exact(k)) if base is None else scaled(b, k, [base]))
    result = b.make("add", *terms)
    return result if fits(b, result, c) else None


def sum_(b: Any, c: Candidate, terms: list[str]) -> str | None:
    """``terms`` added up, standing in for ``c`` (None when shapes would change)."""
    if not terms:
        return filled(b, c, 0)
    result = terms[0] if len(terms) == 1 else b.make("add", *terms)
    return result if fits(b, result, c) else None


def collect(b: Any, c: Candidate, signed: list[tuple[int, str]]) -> str | None:
    """Collect like terms and constants of ``sum(sign * node)``; None when nothing merges."""
    groups: dict[str | None, Any] = {}
    order: list[str | None] = []
    merged = False
    squares: dict[str, str] = {}  # u -> the base of the term square(u) or u^2 seen first
    signs: dict[tuple[str, str], str] = {}  # (a, b) -> the base sign_diff(a, b) seen first
    for sign, n in signed:
        if b.num(n) is None and b.is_(n, 0):
            merged = True  # + zeros_like(u), + [0, 0]
            continue
        coef, base = term(b, n)
        if type(base) is str:
            op = b.op(base)
            if op == "square" or op == "pow":
                base = _square(b, base, squares, groups, order)
            elif op == "sign_diff":  # sign_diff(b, a) is -sign_diff(a, b): one term written two ways
                p, q = b.args(base)
                mirror = signs.get((q, p))
                if mirror is None:
                    signs.setdefault((p, q), base)
                elif mirror != base:
                    base, coef = mirror, -coef
        if base in groups:
            merged = True
            groups[base] = groups[base] + sign * coef
        else:
            order.append(base)
            groups[base] = sign * coef
    merged = _alike(b, groups, order) or merged
    constant = groups.pop(None, 0)
    # canonical: one non-zero constant, added last, or first when every other term is
    # negative (1 - u, not -u + 1)
    first = _positive(constant) and all(is_negative(groups[base]) for base in order if base is not None)
    if None in order:
        order.remove(None)
        consts = [i for i, (_, n) in enumerate(signed) if b.num(n) is not None]
        at = 0 if first else len(signed) - 1
        merged = merged or len(consts) > 1 or constant == 0 or consts[-1] != at or signed[at][0] < 0
    if not merged:
        return None
    terms = [scaled(b, groups[base], [base]) for base in order if groups[base] != 0]
    if first and len(terms) == 1:
        base = next(base for base in order if groups[base] != 0)
        result = b.make("sub", b.const(exact(constant)), scaled(b, -groups[base], [base]))
        return result if fits(b, result, c) else None
    if constant != 0:
        terms.insert(0 if first and terms else len(terms), b.const(exact(constant)))
    return sum_(b, c, terms)


def like(b: Any, base: Any) -> Any:
    """A term's base as :func:`collect` groups it: ``("^2", u)`` for ``square(u)`` and
    ``u^2`` alike, ``("sign_diff", {a, b})`` for ``sign_diff(a, b)`` and ``sign_diff(b, a)``
    (one is minus the other), else the base itself."""
    if type(base) is str:
        op = b.op(base)
        if op == "square" or op == "pow":
            u, e = as_power(b, base)
            if e == 2 and u != base:
                return ("^2", u)
        elif op == "sign_diff":
            return ("sign_diff", frozenset(b.args(base)))
    return base


def _square(b: Any, base: str, squares: dict, groups: dict, order: list) -> str:
    """The group of :func:`collect` for ``square(u)`` or ``u^2``: one term written two
    ways (``square(x) + 2*x^2 -> 3*x^2``; ``u^2`` is kept, as the product rules write it)."""
    u, e = as_power(b, base)
    if e != 2 or u == base:
        return base
    seen = squares.setdefault(u, base)
    if seen == base or b.op(base) != "pow" or b.op(seen) == "pow":
        return seen
    groups[base] = groups.pop(seen)  # square(u) seen first: the group goes on as u^2
    order[order.index(seen)] = base
    squares[u] = base
    return base


def _positive(k: Any) -> bool:
    return isinstance(k, (int, float, Fraction)) and k > 0


def is_negative(k: Any) -> bool:
    """True for a number below 0 (a coefficient; False for None or a symbolic one)."""
    return isinstance(k, (int, float, Fraction)) and k < 0


def factors(b: Any, n: str) -> tuple[Any, dict[str, Any]]:
    """``n`` as ``coefficient * prod(base^k)`` with exact ``k``, reading a product, a
    quotient of products and powers, and a quotient among the factors of those, one level
    deeper: ``sqrt(u)`` is ``u^(1/2)``, ``(2*s)^2`` is ``4*s^2``, ``sqrt(u)^3`` is
    ``u^(3/2)``, ``z*(x/z)`` is ``x*z^0`` (a base whose exponent sums to 0 stays listed)."""
    op, args = b.op_args(n)
    if op == "const":
        k = b.num(n)
        if k is not None:
            return k, {}
    if op == "neg":
        k, found, _ = read_factors(b, [(args[0], 1, 2, True)])
        return -k, found
    k, found, _ = read_factors(b, [(n, 1, 2, True)])
    return k, found


def read_factors(b: Any, parts: list[tuple[str, int, int, bool]]) -> tuple[Any, dict[str, Any], int]:
    """``(coefficient, {base: exponent}, how many factors were read)`` of the product of
    ``parts``: ``(node, +1 or -1 for a denominator, quotients still to read into, whether a
    product is read into its factors)``."""
    coef: Any = 1
    found: dict[str, Any] = {}
    read = 0
    stack = parts[::-1]
    while stack:
        n, sign, levels, flat = stack.pop()
        op, args = b.op_args(n)
        if op == "mul" and flat:
            stack += [(a, sign, levels, False) for a in reversed(args)]
            continue
        if op == "div" and levels:
            k = b.num(args[1])
            if k is None or is_exact(k) and k != 0:
                stack += [(args[1], -sign, levels - 1, True), (args[0], sign, levels - 1, True)]
                continue
        k, powers = as_powers(b, n)
        if type(k) is not int or k != 1:  # (a factor 1 leaves the coefficient's value as it is)
            coef = coef * k if sign > 0 else coef / Fraction(k) if is_exact(k) else coef / k
        for base, e in powers:
            found[base] = found.get(base, 0) + sign * e
            read += 1
    return coef, found, read


def as_powers(b: Any, a: str) -> tuple[Any, list[tuple[str, Any]]]:
    """``a`` as ``coefficient * prod(base^e)``: ``u^3 -> 1, [(u, 3)]``, ``sqrt(u) -> 1,
    [(u, 1/2)]``, ``square(u) -> 1, [(u, 2)]``, ``(2*s)^2 -> 4, [(s, 2)]``, ``sqrt(u)^2 -> 1, [(u, 1)]``, ``5 -> 5, []``."""
    op, args = b.op_args(a)
    if op == "const":
        k = b.num(a)
        return (k, []) if k is not None else (1, [(a, 1)])
    if op == "sqrt":
        inner, e = args[0], HALF
    elif op == "square":
        inner, e = args[0], 2
    elif op == "pow":
        inner, e = args[0], b.num(args[1])
        if not is_exact(e):
            return 1, [(a, 1)]
    else:
        return 1, [(a, 1)]
    if e == 1 or inner == a:
        return 1, [(a, 1)]
    op, args = b.op_args(inner)
    if op == "sqrt":
        return 1, [(args[0], e * HALF)]
    if op == "mul" and type(e) is int:
        coef: Any = 1
        out = []
        for f in args:
            k = b.num(f)
            if k is not None and is_exact(k) and (k != 0 or e > 0):
                coef *= Fraction(k) ** e
            elif k is not None:
                return 1, [(inner, e)]  # a float or a zero in the base: keep the power whole
            else:
                base, e2 = as_power(b, f)
                out.append((base, e2 * e))
        return exact(coef), out
    return 1, [(inner, e)]


HALF = Fraction(1, 2)


def as_power(b: Any, a: str) -> tuple[str, Any]:
    """``a`` as ``(base, exact exponent)``: ``u^3 -> (u, 3)``, ``sqrt(u) -> (u, 1/2)``,
    ``square(u) -> (u, 2)``."""
    op, args = b.op_args(a)
    if op == "sqrt":
        return args[0], HALF
    if op == "square":
        return args[0], 2
    if op == "pow":
        e = b.num(args[1])
        if is_exact(e):
            return args[0], e
    return a, 1


def composite(b: Any, base: Any) -> bool:
    """A term's base that is a product or a quotient (the reciprocal ``("1/", v)`` too):
    it may be another such base written differently."""
    return isinstance(base, tuple) or isinstance(base, str) and b.op(base) in ("mul", "div")


def _irregular(b: Any, n: str) -> bool:
    """A product or quotient with a quotient, or a number times something, among its
    operands (``w*(x/z)``, ``x/z/w``, ``2*x/w``), or a number times two or more factors
    (``3*u*v``): one that may equal another node, or be a multiple of one."""
    op, args = b.op_args(n)
    if op not in ("mul", "div"):
        return False
    if op == "mul" and len(args) > 2 and b.num(args[0]) is not None:
        return True  # 3*u*v: term() reads the number of a product of two only, so 2*u*v is another base
    for a in args:
        op, inner = b.op_args(a)
        if op == "div" or op == "mul" and b.num(inner[0]) is not None:
            return True
    return False


def _alike(b: Any, groups: dict, order: list) -> bool:
    """Merge the groups of :func:`collect` whose bases are the same product of powers
    written differently (``w*(x/z)`` and ``w*x/z``, ``x/z/w`` and ``x/(z*w)``); True if any."""
    bases = [base for base in order if composite(b, base)]
    if len(bases) < 2 or not any(_irregular(b, base[1] if isinstance(base, tuple) else base) for base in bases):
        return False  # products and quotients written canonically are equal only as one node (CSE)
    first: dict[frozenset, tuple[Any, Any]] = {}
    floats: dict[frozenset, list] = {}  # key -> its bases, when a float is among the numbers
    merged = False
    for base in bases:
        if isinstance(base, str):
            k, powers = factors(b, base)
        else:  # the reciprocal ("1/", v)
            k, powers = factors(b, base[1])
            k, powers = (Fraction(1) / k if is_exact(k) and k != 0 else None), {u: -e for u, e in powers.items()}
        if not (is_exact(k) or type(k) is float and in_range(k)) or k == 0 or not powers:
            continue
        key = frozenset((u, e) for u, e in powers.items() if e != 0)
        if key not in first:
            first[key] = (base, k)
            continue
        kept, k0 = first[key]  # base = k * prod = (k / k0) * kept
        if key in floats or not (is_exact(k) and is_exact(k0) and is_exact(groups[base]) and is_exact(groups[kept])):
            floats.setdefault(key, [(kept, k0)]).append((base, k))
            continue
        groups[kept] = groups[kept] + groups.pop(base) * exact(Fraction(k) / Fraction(k0))
        order.remove(base)
        merged = True
    for alike in floats.values():
        merged = _float_alike(b, groups, order, alike) or merged
    return merged


def _float_alike(b: Any, groups: dict, order: list, alike: list) -> bool:
    """Merge the groups of ``alike`` (``[(base, its number)]``, the same product) where a
    float is among the numbers, as ``1.5*u + u -> 2.5*u`` does: the sum of each group's
    coefficient times its base's number, left to right, on the product without a number
    (``1.5*u*v + u*v -> 2.5*u*v``, not ``(1 + 1/1.5)*1.5*u*v``). The product is written
    as the first base whose number is 1, or as ``k*u*v`` without its ``k`` (``("*", k*u*v)``
    for :func:`scaled`; the sum is then scaled by ``k`` over the base's number, which also
    holds numbers read inside ``u`` or ``v``); other forms keep their groups apart."""
    kept = next((base for base, k in alike if k == 1), None)
    scale: Any = 1
    if kept is None:
        for base, k in alike:
            lead = b.num(b.args(base)[0]) if type(base) is str and b.op(base) == "mul" and len(b.args(base)) > 2 else None
            if lead is not None:
                # base = k*prod = lead*rest, and the group is written on rest, so the sum
                # on prod is scaled by lead/k: k also holds numbers read deeper than lead
                # (3.0*x*(u/(2*v)) has k = 1.5, lead 3.0), which rest still holds
                kept = ("*", base)
            elif type(base) is str and b.op(base) == "div" and b.op(b.args(base)[0]) == "mul":
                # a quotient lead*rest/v, the same way: the group is written on rest/v
                # (1.5*x/v + 0.75*x/v, the first's 1.5*x shared: 2.25*x/v)
                top, v = b.args(base)
                inner = b.args(top)
                lead = b.num(inner[0])
                if lead is None:
                    continue
                kept = b.make("div", inner[1] if len(inner) == 2 else b.make("mul", *inner[1:]), v)
            else:
                continue
            scale = exact(Fraction(lead) / Fraction(k)) if is_exact(lead) and is_exact(k) else lead / k
            break
        else:
            return False
    total: Any = 0
    for base, k in alike:
        total = total + groups.pop(base) * k
    first = alike[0][0]
    order[order.index(first)] = kept
    for base, _ in alike[1:]:
        order.remove(base)
    groups[kept] = exact(total if type(scale) is int and scale == 1 else total * scale)
    return True


def positive(b: Any, n: str) -> bool:
    """True when ``n`` is provably > 0 wherever it is defined (a few levels deep):
    ``exp(u)``, ``x^2 + 1``, ``sqrt(u)*exp(v)``, ``sigmoid(u)/(1 + |w|)``."""
    return _sign_bound(b, n, [16]) == _POSITIVE


_UNKNOWN, _NONNEGATIVE, _POSITIVE = 0, 1, 2


def _sign_bound(b: Any, n: str, budget: list[int]) -> int:
    """What ``n`` provably is wherever it is defined: :data:`_POSITIVE`, :data:`_NONNEGATIVE`
    or :data:`_UNKNOWN`, reading at most ``budget[0]`` nodes (so the depth is bounded too)."""
    budget[0] -= 1
    if budget[0] < 0:
        return _UNKNOWN
    v = b.num(n)
    if v is not None:
        return _POSITIVE if v > 0 else _NONNEGATIVE if v == 0 else _UNKNOWN
    op, args = b.op_args(n)
    if op in ("exp", "sigmoid", "softplus", "softmax"):
        return _POSITIVE
    if op == "relu":
        return _NONNEGATIVE
    if op in ("square", "abs", "sqrt"):  # >= 0, and > 0 where the operand is
        return max(_NONNEGATIVE, _sign_bound(b, args[0], budget))
    if op == "pow":
        base = _sign_bound(b, args[0], budget)
        k = b.num(args[1])
        even = k is not None and k == int(k) and int(k) % 2 == 0
        return base if base == _POSITIVE or not even else _NONNEGATIVE  # u^2 >= 0; u^k > 0 for u > 0
    if op in ("mul", "div"):  # a denominator is not 0 where the quotient is defined
        return min(_sign_bound(b, a, budget) for a in args)
    if op == "add":
        bounds = [_sign_bound(b, a, budget) for a in args]
        return _UNKNOWN if _UNKNOWN in bounds else max(bounds)
    return _UNKNOWN
