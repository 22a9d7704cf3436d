"""Arithmetic ops: add, sub, mul, div, neg, pow, maximum, minimum (and the operators on Node),
and sign_diff, the sign of a difference that the rule of maximum and minimum uses."""

from __future__ import annotations

import functools
import math
from fractions import Fraction

import numpy as np

from . import shapes
from .registry import OpDef, Prec, float_dtype, register

__all__ = ["add", "div", "maximum", "minimum", "mul", "neg", "pow", "sign_diff", "sub"]


def _mul_vjp(g, out, *xs):
    # d(x0*x1*...)/dxi = the product of the others: prefix and suffix products keep
    # the rule linear in the number of operands (3n nodes, not n^2 edges)
    if len(xs) == 2:
        return (g * xs[1], g * xs[0])
    n = len(xs)
    prefix = [None, xs[0]]
    for i in range(1, n - 1):
        prefix.append(prefix[-1] * xs[i])
    suffix = [None, xs[-1]]
    for i in range(n - 2, 0, -1):
        suffix.append(xs[i] * suffix[-1])
    suffix.reverse()  # suffix[i] = xs[i+1] * ... * xs[n-1]
    return tuple(mul(g, *(p for p in (prefix[i], suffix[i]) if p is not None)) for i in range(n))


def _pow_vjp(g, out, a, b):
    return _pow_base_vjp(g, a, b), _pow_exponent_vjp(g, out, a, b)  # (in this order: node names)


def _pow_base_vjp(g, a, b):
    # a constant exponent 0: u^0 is 1, so its derivative is 0, not 0*u^-1 (inf*0 at u = 0)
    if b.op == "const" and not np.any(b.attrs["value"]):
        return None
    n = b.attrs["value"] if b.op == "const" else None
    if isinstance(n, (int, Fraction)) and not isinstance(n, bool):
        # a number exponent: the rule reads d/du u^2 = 2*u, not 2*u^(2 - 1), on a slide
        return g * (b if n == 1 else b * (a if n == 2 else a ** (n - 1)))
    if isinstance(n, np.ndarray) and (n == 0).any():
        # u^[0, 1, 2] (polynomial features): d/du u^0 is 0, but 0*u^(0 - 1) is 0*inf at u = 0
        # (torch and JAX give 0); where the exponent is 0 any power does, so it reads 0*u^0 there
        return g * (b * a ** np.where(n == 0, 0, n - 1))
    if b.op == "const" or a.name == b.name:
        # (x^x: the guard would give d/dx 0 at 0, where the slope is -inf; the rule of
        # the exponent says so, log(0), and d/dx x^x still prints x^x + x^x*log(x))
        return g * (b * a ** (b - 1))
    # d/du u^v at v = 0 is 0 (u^0 is 1 for every u; JAX, PyTorch and SymPy's limit agree),
    # but v*u^(v - 1) is 0*inf at u = 0: the power's base reads replace_zero_if(u, v), 1
    # where u and v are both 0 (0*1^-1 = 0 there) and u elsewhere, printed as u, so the
    # rule still reads v*u^(v - 1). Only that point changes, so every derivative of the
    # rule is the rule's own wherever u or v is not 0 (a guard on the exponent instead
    # would give d/dv of it 1 at v = 0, where it is 1/u). At u = 0 and v = 1 it is 0^0 = 1,
    # at v = 2 0, at v = 1/2 still inf (an infinite slope)
    return g * (b * replace_zero_if(a, b) ** (b - 1))


def _pow_exponent_vjp(g, out, a, b):
    # d/db a^b = a^b*log(a), which is 0 at a = 0 (b > 0: a^b is 0 for all b near it), as
    # torch and JAX give it, where out*log(a) is 0*(-inf). The log's operand is guarded by
    # replace_zero_if(a, out) (1 where a and a^b are 0, printed as a, so the rule still
    # reads a^b*log(a)); at a = 0, b = 0, where a^b jumps (0^0 = 1, 0^b = 0 for b > 0), it
    # is log(0): an error, as for x^x at 0 (whose slope is -inf), which the guard of the
    # base alone would make 0. A constant exponent needs no derivative: the adjoint pass
    # drops it, so none is built
    return None if b.op == "const" else g * (out * log(replace_zero_if(a, out)))


def _joined(sep: str):
    return lambda *xs: sep.join(xs)


def _int_literal(expr: str) -> str | None:
    """``"2"`` for an exponent literal like ``2.0``, else None."""
    try:
        value = float(expr.strip("()"))
    except ValueError:
        return None
    if value.is_integer() and abs(value) <= 64:
        return str(int(value)) if value >= 0 else f"({int(value)})"
    return None


def _math_pow(base: str, exponent: str) -> str:
    # float ** int is real for any base; math.pow raises ValueError where numpy gives nan
    n = _int_literal(exponent)
    if n == "2":
        return f"{base} * {base}"  # correctly rounded either way, and 3x faster
    return f"{base} ** {n}" if n is not None else f"fpow({base}, {exponent})"


def _numpy_pow(base: str, exponent: str) -> str:
    # np.square gives np.power(x, 2)'s bits (checked on 10^7 floats), 10x faster in float32
    return f"np.square({base})" if _int_literal(exponent) == "2" else f"np.power({base}, {exponent})"


# Python's + - * / overflow to inf without an error, and inf + u is inf or nan, inf * 0.0
# nan: a non-finite operand shows in the value (cg.compile checks the value instead)
ADD = register(OpDef(
    "add", None, lambda *xs: functools.reduce(np.add, xs), shapes.broadcast,
    lambda g, out, *xs: (g,) * len(xs),
    text=" + ", latex=" + ", prec=Prec.ADD, arg_prec=(Prec.ADD,), label="+",
    commutative=True, elementwise=True, doc="Sum of two or more operands.", ufunc=np.add,
    code_math=_joined(" + "), code=_joined(" + "), keeps_nonfinite="all",  # a + b + c: reduce(np.add)'s order
))
SUB = register(OpDef(
    "sub", 2, np.subtract, shapes.broadcast, lambda g, out, a, b: (g, -g),
    text="{0} - {1}", latex="{0} - {1}", prec=Prec.ADD, arg_prec=(Prec.ADD, Prec.MUL),
    latex_arg_prec=(Prec.ADD, Prec.ODOT),  # Z - X \odot Y: only a sum needs parentheses there
    label="−", elementwise=True, doc="Difference ``x - y``.", ufunc=np.subtract,
    code_math="{0} - {1}", code="{0} - {1}", keeps_nonfinite="all",
))
MUL = register(OpDef(
    "mul", None, lambda *xs: functools.reduce(np.multiply, xs), shapes.broadcast, _mul_vjp,
    # a*(b/c), a*(-b): later operands need more than MUL, so the lecture's g_f*(1/a)
    # LaTeX: a product among the later factors is juxtaposed without parentheses, x z e^{z}
    # \ln x, not x z \left(e^{z} \ln x\right) (text keeps them: a*(b*c) reads back as computed)
    text="*", latex=" ", prec=Prec.MUL, arg_prec=(Prec.MUL, Prec.POW), latex_prec=Prec.JUXT,
    latex_arg_prec=(Prec.MUL, Prec.JUXT), latex_arrays=r" \odot ", label="×", commutative=True, elementwise=True,
    doc="Product of two or more operands.", ufunc=np.multiply, overflows=True,  # 1e200*1e200
    code_math=_joined(" * "), code=_joined(" * "), keeps_nonfinite="all",
))
DIV = register(OpDef(
    "div", 2, np.divide, shapes.broadcast,
    lambda g, out, a, b: (g * (1 / b), g * (-a / b**2)),  # the lecture's g_e*(1/b), g_e*(-a/b^2)
    text="{0}/{1}", latex=r"\frac{{{0}}}{{{1}}}", prec=Prec.MUL, arg_prec=(Prec.MUL, Prec.POW),
    # a fraction binds like a power: (a/b)^2 needs its parentheses, a \frac{1}{b} does not
    latex_prec=Prec.POW, latex_arg_prec=(0, 0), label="÷", elementwise=True,
    domain="divisor != 0", doc="Quotient ``x / y``.", ufunc=np.divide,
    # ZeroDivisionError where numpy divides by zero; u / inf is 0.0
    code_math="{0} / {1}", code="{0} / {1}", keeps_nonfinite=(0,),
))
NEG = register(OpDef(
    "neg", 1, np.negative, shapes.same, lambda g, out, a: (-g,),
    # -x*z: (-x)*z and -(x*z) are the same number, so products need no parentheses
    text="-{0}", latex="-{0}", prec=Prec.UNARY, arg_prec=(Prec.MUL,), latex_arg_prec=(Prec.ODOT,), label="−",
    elementwise=True, doc="Negation ``-x``.", ufunc=np.negative,
    code_math="-{0}", code="-{0}", keeps_nonfinite="all",
))
POW = register(OpDef(
    "pow", 2, np.power, shapes.broadcast, _pow_vjp,
    text="{0}^{1}", latex="{0}^{{{1}}}", prec=Prec.POW, arg_prec=(Prec.ATOM, Prec.POW),
    latex_arg_prec=(Prec.ATOM, 0), label="^", elementwise=True,
    domain="base > 0, or an integer exponent", doc="Power ``x ** y``.", ufunc=np.power,
    code_math=_math_pow, code=_numpy_pow, code_names={"fpow": math.pow},  # np.power: never a complex float ** float
))



def _extremum_vjp(larger: int):
    # where a and b tie, each gets half (torch, JAX and SymPy's Heaviside(0) = 1/2 agree,
    # and so does a central difference): maximum(x, x) = x keeps its derivative 1, where
    # step(a - b) would give both 0. A NaN operand gives a NaN derivative (sign(nan)).
    # Each side reads (1 + sign(its own - the other's))/2, so the two print alike
    # (sign(x - z)/2 + 1/2 and sign(z - x)/2 + 1/2); sign_diff is sign(a - b) without
    # the overflow of a - b (1e308 - -1e308), where a/2 - b/2 would tie 5e-324 and 0
    def vjp(g, out, a, b):
        a_wins, b_wins = (_sign_of_difference(a, b), _sign_of_difference(b, a)) if larger else (
            _sign_of_difference(b, a), _sign_of_difference(a, b))
        return g * ((1 + a_wins) / 2), g * ((1 + b_wins) / 2)

    return vjp


def _sign_of_difference(a, b):
    # a - b with a moderate number cannot overflow (u - 1 rounds to at most the largest
    # float), so the hinge maximum(0, u) keeps sign(u - 0), which simplify makes sign(u)
    for n in (a, b):
        if n.op == "const" and np.ndim(n.attrs["value"]) == 0 and abs(n.attrs["value"]) <= 2.0**900:
            return sign(a - b)
    return sign_diff(a, b)


def _sign_diff(a, b):
    # exact for the Python numbers simplify folds; otherwise the sign of the rounded a - b,
    # which is exact in sign: an overflow is an infinity of the right sign, and a
    # difference of subnormals is exact (5e-324 - 0 is 5e-324, not a tie)
    if type(a) in (int, Fraction) and type(b) in (int, Fraction):
        return (a > b) - (a < b)
    with np.errstate(over="ignore"):
        d = np.subtract(a, b)
    return np.sign(d).astype(float_dtype(d), copy=False)[()]


def _sign_diff_float(a: float, b: float) -> float:
    return 1.0 if a > b else -1.0 if a < b else 0.0 if a == b else math.nan


# The sign of a difference, for the rule of maximum and minimum: sign(a - b), but finite
# wherever a and b are (sign(sub) raised a DomainError at the sub of 1e308 and -1e308).
# Printed as sign(a - b) (its text reads back as that, which overflows there)
SIGN_DIFF = register(OpDef(
    "sign_diff", 2, _sign_diff, shapes.broadcast, lambda g, out, a, b: (None, None),
    text="sign({0} - {1})", latex=r"\operatorname{{sign}}\left({0} - {1}\right)", prec=Prec.ATOM,
    arg_prec=(Prec.ADD, Prec.MUL), latex_arg_prec=(Prec.ADD, Prec.ODOT), label="sign(−)", elementwise=True,
    doc="The sign ``-1, 0, 1`` of ``x - y``, without its overflow (``sign_diff(1e308, -1e308)`` is 1).",
    code_math="_sign_diff({0}, {1})", code_names={"_sign_diff": _sign_diff_float}, fresh=True,
))


MAXIMUM = register(OpDef(
    "maximum", 2, np.maximum, shapes.broadcast, _extremum_vjp(True),
    text="maximum({0}, {1})", latex=r"\max\left({0}, {1}\right)", prec=Prec.ATOM, arg_prec=(0,),
    label="max", elementwise=True, ufunc=np.maximum,  # not commutative: at a tie of 0.0 and -0.0 the order picks the sign
    doc="The larger of ``x`` and ``y``, elementwise (NaN if either is); at a tie each gets half the derivative.",
    # np.maximum's choice, b where they tie (the sign of a zero); a NaN operand is checked
    code_math="({0} if {0} > {1} else {1})", code="np.maximum({0}, {1})",
))
MINIMUM = register(OpDef(
    "minimum", 2, np.minimum, shapes.broadcast, _extremum_vjp(False),
    text="minimum({0}, {1})", latex=r"\min\left({0}, {1}\right)", prec=Prec.ATOM, arg_prec=(0,),
    label="min", elementwise=True, ufunc=np.minimum,
    doc="The smaller of ``x`` and ``y``, elementwise (NaN if either is); at a tie each gets half the derivative.",
    code_math="({0} if {0} < {1} else {1})", code="np.minimum({0}, {1})",
))

add, sub, mul, div, neg, pow, maximum, minimum, sign_diff = (
    op.function for op in (ADD, SUB, MUL, DIV, NEG, POW, MAXIMUM, MINIMUM, SIGN_DIFF)
)

from .elementwise import log, replace_zero_if, sign  # noqa: E402  (the rules need them; elementwise needs mul)
