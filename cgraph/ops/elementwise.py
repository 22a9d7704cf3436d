"""Elementwise functions: exp log sin cos tan tanh sigmoid softplus relu sqrt abs square,
the zero-derivative helpers step and sign that their rules use, and replace_zero_if (and
replace_zero before it), which keeps the rule of ``pow`` finite at a zero base."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

from . import shapes
from .registry import OpDef, Prec, float_dtype, keeps_weak, register

__all__ = [
    "abs", "cos", "exp", "log", "relu", "replace_zero", "replace_zero_if", "sigmoid", "sign", "sin", "softplus", "sqrt",
    "square", "step", "tan", "tanh",
]


def _unary(name, fn, vjp, *, latex, label, doc, domain="", latex_prec=None, latex_arg_prec=None, ufunc=None,
           overflows=False, code_math=None, code=None, code_names=None, keeps_nonfinite=(), fresh=False):
    op = OpDef(
        name, 1, fn, shapes.same, vjp, text=name + "({0})", latex=latex, prec=Prec.ATOM,
        arg_prec=(0,), latex_prec=latex_prec, latex_arg_prec=latex_arg_prec, label=label,
        elementwise=True, domain=domain, doc=doc, ufunc=ufunc, overflows=overflows,
        code_math=code_math, code=code, code_names=code_names or {}, keeps_nonfinite=keeps_nonfinite, fresh=fresh,
    )
    return register(op)


def _math(name, keeps_nonfinite="all"):
    """The code of ``math.<name>`` on a float and ``np.<name>`` on arrays (a ``ValueError``
    where ``math`` leaves its domain, which the compiled function turns into the op's
    ``DomainError``); by default a non-finite operand shows in the value or raises."""
    return {"code_math": name + "({0})", "code": f"np.{name}({{0}})", "code_names": {name: getattr(math, name)},
            "keeps_nonfinite": keeps_nonfinite}


def _sigmoid(x):
    # 1/(1 + e^-x) for x >= 0 and e^x/(1 + e^x) below, with e = e^-|x| <= 1: never
    # overflows (sigmoid(-1000) = 0.0, sigmoid(1000) = 1.0) and stays within 2 ulps, as
    # compile's scalar code; exp(-logaddexp(0, -x)) was up to 31 ulps off (x = -33.28)
    e = np.exp(-np.abs(x))
    return (np.where(np.greater_equal(x, 0), 1, e) / (1 + e))[()]


@keeps_weak
def _step(x):
    # heaviside keeps a NaN (as np.sign does), so relu's and its own derivative g*step(x)
    # do not mask an input NaN as 0 (docs/errors.md: NaN is never masked)
    return np.heaviside(x, 0.0).astype(float_dtype(x), copy=False)


@keeps_weak
def _sign(x):
    return np.sign(x).astype(float_dtype(x))


def _sigmoid_float(x: float) -> float:
    """The logistic function on a float, without overflow (as the op computes it)."""
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    e = math.exp(x)
    return e / (1.0 + e)


def _softplus_float(x: float) -> float:
    return x + math.log1p(math.exp(-x)) if x > 0.0 else math.log1p(math.exp(x))


def _sign_float(x: float) -> float:
    return 1.0 if x > 0.0 else -1.0 if x < 0.0 else 0.0


def _replace_zero(x):
    # exact for the Python numbers simplify folds (Fraction(0) -> Fraction(1)); a NaN stays NaN
    if type(x) in (int, float, Fraction):
        return x if x != 0 else type(x)(1)
    x = np.asarray(x)
    return np.where(x == 0, np.ones((), x.dtype), x)[()]


def _lr(name):
    return rf"\{name}\left({{0}}\right)"


EXP = _unary("exp", np.exp, lambda g, out, a: (g * out,), latex="e^{{{0}}}", label="exp",
             latex_prec=Prec.POW, latex_arg_prec=(0,),
             doc="Elementwise exponential.", ufunc=np.exp, overflows=True,
             **_math("exp", keeps_nonfinite=()))  # exp(-inf) = 0.0; OverflowError where numpy overflows
LOG = _unary("log", np.log, lambda g, out, a: (g * (1 / a),), latex=_lr("ln"), label="ln",
             doc="Elementwise natural logarithm.", domain="x > 0", ufunc=np.log, **_math("log"))
SIN = _unary("sin", np.sin, lambda g, out, a: (g * cos(a),), latex=_lr("sin"), label="sin",
             doc="Elementwise sine.", ufunc=np.sin, **_math("sin"))  # sin(inf) raises ValueError
COS = _unary("cos", np.cos, lambda g, out, a: (-(g * sin(a)),), latex=_lr("cos"), label="cos",
             doc="Elementwise cosine.", ufunc=np.cos, **_math("cos"))
TAN = _unary("tan", np.tan, lambda g, out, a: (g * (1 + out**2),), latex=_lr("tan"),
             label="tan", doc="Elementwise tangent.", ufunc=np.tan, **_math("tan"))
TANH = _unary("tanh", np.tanh, lambda g, out, a: (g * (1 - out**2),), latex=_lr("tanh"),
              label="tanh", doc="Elementwise hyperbolic tangent.", ufunc=np.tanh,
              **_math("tanh", keeps_nonfinite=()))  # tanh(inf) = 1.0
SIGMOID = _unary("sigmoid", _sigmoid, lambda g, out, a: (g * (out * (1 - out)),),
                 latex=r"\sigma\left({0}\right)", label="σ",
                 doc="Logistic sigmoid ``1/(1 + exp(-x))``, computed stably.",
                 code_math="_sigmoid({0})", code_names={"_sigmoid": _sigmoid_float}, fresh=True)
SOFTPLUS = _unary("softplus", lambda x: np.logaddexp(0.0, x), lambda g, out, a: (g * sigmoid(a),),
                  latex=r"\operatorname{{softplus}}\left({0}\right)", label="softplus",
                  doc="``log(1 + exp(x))``, computed stably.",
                  code_math="_softplus({0})", code_names={"_softplus": _softplus_float}, fresh=True)
RELU = _unary("relu", lambda x: np.maximum(x, 0.0), lambda g, out, a: (g * step(a),),
              latex=r"\operatorname{{ReLU}}\left({0}\right)", label="ReLU",
              doc="``max(x, 0)``; its derivative at 0 is taken as 0.",
              code_math="({0} if {0} > 0.0 else 0.0)", fresh=True)  # nan > 0.0 is False: the value is checked
SQRT = _unary("sqrt", np.sqrt, lambda g, out, a: (g / (2 * out),), latex=r"\sqrt{{{0}}}",
              label="√", doc="Elementwise square root.", domain="x >= 0", ufunc=np.sqrt, **_math("sqrt"))
ABS = _unary("abs", np.abs, lambda g, out, a: (g * sign(a),), latex=r"\left|{0}\right|",
             label="|·|", doc="Absolute value; its derivative at 0 is taken as 0.", ufunc=np.absolute,
             code_math="abs({0})", code="np.abs({0})", keeps_nonfinite="all")
SQUARE = _unary("square", np.square, lambda g, out, a: (g * (2 * a),), latex="{0}^{{2}}",
                latex_prec=Prec.POW, latex_arg_prec=(Prec.ATOM,), label="x²", doc="Elementwise square.", ufunc=np.square,
                overflows=True, code_math="{0} * {0}", code="np.square({0})", keeps_nonfinite="all")
# derivatives of relu/abs: piecewise constant, so their own derivative is 0 (no node)
STEP = _unary("step", _step, lambda g, out, a: (None,), latex=r"H\left({0}\right)",
              label="step", doc="Heaviside step ``1 if x > 0 else 0`` (0 at 0, NaN at NaN).",
              code_math="(1.0 if {0} > 0.0 else 0.0)", fresh=True)
SIGN = _unary("sign", _sign, lambda g, out, a: (None,), latex=r"\operatorname{{sign}}\left({0}\right)",
              label="sign", doc="Sign ``-1, 0, 1``.", ufunc=np.sign,
              code_math="_sign({0})", code_names={"_sign": _sign_float}, fresh=True)

# The guard of the pow rule's log until replace_zero_if (below) took its place (it is kept:
# graphs saved with it load, and simplify treats both alike): d/dv u^v = u^v*log(u) is 0 at u = 0 (u^v is 0 for all v
# near a v > 0), but log(0)*0 is -inf*0. The rule takes log(replace_zero(u)), 0 there, as
# JAX does (log(_replace_zero(x))*ans); torch's where(base == 0 & exp >= 0, 0, ...) agrees.
# It prints as its operand, so the derivative reads u^v*log(u), as SymPy and the lecture
# write it, and it is differentiated as its operand (g: d/du u is 1): the printed derivative
# is the derivative of what is printed, and log(replace_zero(u)) stays finite at every
# order (its derivatives 1/replace_zero(u), -1/replace_zero(u)^2... are 1, -1... at 0), so
# the Hessian of u^v at u = 0 is finite too. Not an xlogy op (u*log(v), 0 where u = 0):
# in reverse mode the adjoint of its u operand is log(v) = -inf at v = 0 before the 0 of
# d(u^v)/dv multiplies it, so the Hessian of u^v at 0 would still be -inf*0.
REPLACE_ZERO = register(OpDef(
    "replace_zero", 1, _replace_zero, shapes.same, lambda g, out, a: (g,), text="{0}", latex="{0}",
    label="0→1", transparent=True, elementwise=True,
    code_math="({0} if {0} != 0.0 else 1.0)", keeps_nonfinite="all",  # nan != 0.0: nan stays nan, as the op
    doc="The operand, with each 0 replaced by 1 (NaN stays NaN): the guard of the log in the derivative "
    "of a power by its exponent. Printed as its operand, and differentiated as it.",
))



def _replace_zero_if(u, v):
    # exact for the Python numbers simplify folds; a NaN stays NaN
    if type(u) in (int, float, Fraction) and type(v) in (int, float, Fraction):
        return type(u)(1) if u == 0 and v == 0 else u
    u = np.asarray(u)
    return np.where((u == 0) & (np.asarray(v) == 0), np.ones((), u.dtype), u)[()]


# The guards of the pow rule: replace_zero_if(u, v) is u, but 1 where u and v are both 0.
# d/du u^v takes replace_zero_if(u, v)^(v - 1) (v*u^(v - 1) is 0*inf at u = 0, v = 0,
# where it is 0), d/dv u^v takes log(replace_zero_if(u, u^v)) (u^v*log(u) is 0*(-inf) at
# u = 0, v > 0, where it is 0). Each changes the rule at those points only, so the
# derivatives of the rule stay its own elsewhere. Printed as u, and differentiated as u
# (replace_zero, the guard of the log before, replaced every 0 of u).
REPLACE_ZERO_IF = register(OpDef(
    "replace_zero_if", 2, _replace_zero_if, shapes.broadcast, lambda g, out, a, b: (g, None),
    text="{0}", latex="{0}", label="0,0→1", transparent=True, elementwise=True,
    code_math="({0} if {0} != 0.0 or {1} != 0.0 else 1.0)", keeps_nonfinite=(0,),  # nan != 0.0: nan stays
    doc="``x``, with 1 where ``x`` and ``y`` are both 0 (NaN stays NaN): the guard of the derivatives of a power. "
    "Printed as ``x``, and differentiated as it.",
))

(exp, log, sin, cos, tan, tanh, sigmoid, softplus, relu, sqrt, abs, square, step, sign, replace_zero,
 replace_zero_if) = (
    op.function for op in (EXP, LOG, SIN, COS, TAN, TANH, SIGMOID, SOFTPLUS, RELU, SQRT, ABS,
                           SQUARE, STEP, SIGN, REPLACE_ZERO, REPLACE_ZERO_IF)
)
