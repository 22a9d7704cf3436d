"""Constant folding for ``simplify``: an op's own ``eval`` applied to constants, exactly
for Python ints and Fractions (rationals stay rationals; ``exp(6)`` has no exact value
and is not folded), numerically for floats and arrays or when asked to."""

from __future__ import annotations

from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np

from ..ops.registry import OpDef
from .terms import is_exact

#: exact results with more bits than this stay unevaluated (``9^9^9`` never hangs)
MAX_EXACT_BITS = 4096


def _small_power(base: Any, exponent: Any) -> bool:
    if Fraction(exponent).denominator != 1:
        return True  # not exact anyway: the eval gives a float and nothing folds
    bits = max(Fraction(base).numerator.bit_length(), Fraction(base).denominator.bit_length())
    return bits <= 1 or abs(int(exponent)) * bits <= MAX_EXACT_BITS


#: op -> a check that exact folding finishes quickly, made before the op runs
GUARDS: dict[str, Callable[..., bool]] = {
    "pow": _small_power,  # 9^(9^9) has 370 million digits: leave it a power
}

NOT_FOLDED = object()


def fold(opdef: OpDef, values: list, attrs: dict, *, numeric: bool) -> Any:
    """``opdef`` of the constant ``values``, or :data:`NOT_FOLDED`.

    Exact operands (ints, Fractions) give an exact result or nothing, unless
    ``numeric``; anything else is evaluated in floating point, and a result that is not
    finite (``1/0``, ``log(-1)``, overflow) is not folded.
    """
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in attrs.items()} if attrs else {}
    if not numeric and all(is_exact(v) for v in values):
        return _exact(opdef, values, kwargs)
    try:
        with np.errstate(all="raise"):
            result = opdef.eval(*(float(v) if isinstance(v, (int, Fraction)) else v for v in values), **kwargs)
    except (ArithmeticError, ValueError, TypeError, FloatingPointError):
        return NOT_FOLDED
    result = np.asarray(result)
    if result.dtype.kind not in "iuf" or not np.isfinite(result).all():
        return NOT_FOLDED
    return result.item() if result.ndim == 0 else result


def _exact(opdef: OpDef, values: list, kwargs: dict) -> Any:
    guard = GUARDS.get(opdef.name)
    if guard is not None and not guard(*values):
        return NOT_FOLDED
    try:
        result = opdef.eval(*(Fraction(v) for v in values), **kwargs)
    except (ArithmeticError, ValueError, TypeError, AttributeError):
        return NOT_FOLDED
    if isinstance(result, np.ndarray) and result.ndim == 0:
        result = result.item()
    if isinstance(result, (int, np.integer)) and not isinstance(result, bool):
        result = Fraction(int(result))
    if not isinstance(result, Fraction):
        return NOT_FOLDED  # exp(6), log(2): no exact value, keep it symbolic
    if max(result.numerator.bit_length(), result.denominator.bit_length()) > MAX_EXACT_BITS:
        return NOT_FOLDED
    return result
