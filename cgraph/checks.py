"""Checks of what users hand the IR: stored node data, declared shapes, constants."""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from fractions import Fraction
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import ArgumentError, ArityError, CGraphError, GraphError, ShapeError
from .ops.registry import SOURCE_OPS, get_op
from .ops.shapes import is_int

if TYPE_CHECKING:
    from .graph import Graph

ROLES = ("input", "param", "const", "op")


def finite_number(v: Any) -> bool:
    """Whether ``v`` is a finite real number (a bool is not one).

    Examples
    --------
    >>> finite_number(0.5), finite_number(float("nan")), finite_number("a"), finite_number(True)
    (True, False, False, False)
    >>> finite_number(10**400)  # an int past the floats: no float option can take it
    False
    """
    if not isinstance(v, (int, float, np.integer, np.floating)) or isinstance(v, bool):
        return False
    try:
        return math.isfinite(v)
    except OverflowError:
        return False


def flag(value: Any, name: str, error: type[CGraphError] = ArgumentError) -> bool:
    """``value``, an on/off option, as a bool: True or False (numpy's too), as the ops'
    ``keepdims=`` takes. Anything else raises ``error`` naming the option ``name``: a
    string such as ``"no"`` is truthy, so taking it would silently turn the option on.

    Examples
    --------
    >>> flag(np.True_, "numeric")
    True
    >>> flag("no", "numeric")
    Traceback (most recent call last):
    cgraph.errors.ArgumentError: numeric= must be True or False, not 'no'
    """
    if not isinstance(value, (bool, np.bool_)):
        raise error(f"{name}= must be True or False, not {shown(value)}")
    return bool(value)


def all_finite(a: np.ndarray) -> bool:
    """Whether every entry of the real array ``a`` is finite: one dot product answers for
    most arrays (an inf or nan makes ``a . a`` inf or nan), the elementwise test only when
    that overflows or fails.

    Examples
    --------
    >>> all_finite(np.array([1.0, -2.0])), all_finite(np.array([1e200, 1e200])), all_finite(np.array([1.0, np.nan]))
    (True, True, False)
    """
    if a.dtype.kind != "f":
        return True  # bools and ints are finite
    flat = a.ravel()
    with np.errstate(over="ignore", invalid="ignore"):  # the overflow is the answer, not a warning
        square = np.dot(flat, flat)
    return math.isfinite(square) or bool(np.isfinite(flat).all())


def check_node(g: Graph, name: str, data: Mapping) -> None:
    """Raise a GraphError subclass naming ``name`` if its stored data is malformed."""
    if not isinstance(name, str) or not name:
        raise GraphError(f"node {name!r}: node names must be non-empty strings")
    op, role = data.get("op"), data.get("role")
    if role not in ROLES:
        raise GraphError(f"node {name!r}: unknown role {role!r} (one of {', '.join(ROLES)})")
    if not isinstance(data.get("attrs"), dict):
        raise GraphError(f"node {name!r}: attrs must be a dict")
    keys = [k for ks in g.nx._pred[name].values() for k in ks]
    if op in SOURCE_OPS:
        if role != (op if op != "const" else "const"):
            raise GraphError(f"node {name!r}: op {op!r} must have role {op!r}, not {role!r}")
        if keys:
            raise ArityError(f"node {name!r}: a {op} node takes no operands, has {len(keys)}")
        return
    opdef = get_op(op, node=name)
    if role != "op":
        raise GraphError(f"node {name!r}: an {op} node must have role 'op', not {role!r}")
    if not all(type(k) is int for k in keys) or sorted(keys) != list(range(len(keys))):
        raise ArityError(f"node {name!r} ({op}): operand ports {sorted(keys, key=str)} are not 0..{len(keys) - 1}")
    if not opdef.arity_ok(len(keys)):
        raise ArityError(f"node {name!r} ({op}) takes {opdef.arity_text()} operand(s), got {len(keys)}")


def normalize_shape(shape: Any, name: str) -> tuple | None:
    """A declared shape as a tuple of ints / None (a batch dim), or None; ShapeError if bad."""
    if shape is None:
        return None
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise ShapeError(f"{name!r}: shape must be a tuple of ints or None, not {shape!r}") from None
    for d in dims:
        if d is not None and (not is_int(d) or d < 0):
            raise ShapeError(f"{name!r}: bad dimension {d!r} in shape {shape!r}")
    return tuple(None if d is None else int(d) for d in dims)


def const_value(value: Any, name: str | None) -> Any:
    """A constant as cgraph stores it: exact int/Fraction, float, or a float array."""
    t = type(value)
    if t is int or t is float:  # the common cases first (Fraction's isinstance is an ABC check)
        return value
    if isinstance(value, bool) or value is None:
        _bad_const(value, name)
    if isinstance(value, (int, Fraction)):
        return Fraction(value) if isinstance(value, Fraction) and value.denominator != 1 else int(value)
    if isinstance(value, float):  # np.float64 (a float subclass) too: stored as the IR has it
        # (shared constants key a float by its type and repr: np.float64(-0.0) == 0.0)
        return float(value)
    if isinstance(value, np.generic) and value.ndim == 0:
        return value.item() if value.dtype.kind in "iuf" else _bad_const(value, name)
    if isinstance(value, numbers.Number):
        return _bad_const(value, name)
    arr = np.asarray(value)
    if arr.dtype.kind not in "iuf":
        _bad_const(value, name)
    if arr.ndim == 0 and arr.dtype.kind in "iu":  # an int as a 0-d array: exact, as np.int64(2) is
        return int(arr)
    # a copy: a constant must not change when the caller later writes into the array it
    # gave (g.const(C), simplify(g, x=X)), which evaluate would see and folded values not
    return arr.astype(np.float64) if arr.dtype.kind in "iu" else arr.copy()


def _bad_const(value: Any, name: str | None) -> Any:
    what = "a constant" if name is None else f"constant {name!r}"
    raise GraphError(f"{what}: {value!r} is not a real number or array")


def int_text(n: int) -> str:
    """The decimal digits of ``n``, also past Python's 4300-digit limit on ``str(int)``.

    Examples
    --------
    >>> int_text(-120), len(int_text(10**5000))
    ('-120', 5001)
    """
    n = int(n)
    if n.bit_length() < 14_000:  # (fewer than 4300 digits)
        return str(n)
    chunk = 10**4000
    parts, rest = [], abs(n)
    while rest >= chunk:  # (quadratic, but only for such integers)
        rest, low = divmod(rest, chunk)
        parts.append(f"{low:04000d}")
    return ("-" if n < 0 else "") + str(rest) + "".join(reversed(parts))


def shown(value: Any, width: int = 60) -> str:
    """``repr(value)`` cut to ``width`` characters for an error message.

    Examples
    --------
    >>> shown(2.0), shown(list(range(30)), width=12)
    ('2.0', '[0, 1, 2,...')
    >>> shown(-10**5000)
    '<an integer of about 5001 digits>'
    """
    try:
        text = repr(value)
    except ValueError:  # Python refuses str() of an int past 4300 digits
        if not isinstance(value, numbers.Integral):
            return f"<a {type(value).__name__} holding an integer too long to print>"
        digits = int(abs(int(value)).bit_length() * math.log10(2)) + 1  # (give or take one)
        return f"<an integer of about {digits} digits>"
    return text if len(text) <= width else text[: width - 3] + "..."
