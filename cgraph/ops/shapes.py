"""Shape rules shared by the op families.

A shape is a tuple whose entries are ints or ``None`` (an unknown dimension, such as a
batch), or ``None`` as a whole (nothing is known). Rules raise ``ValueError`` with a
reason; the graph turns that into a ``ShapeError`` naming the node.
"""

from __future__ import annotations

from typing import Any

import numpy as np

Shape = tuple | None


def _dim(a: int | None, b: int | None) -> int | None:
    if a == 1:
        return b
    if b == 1 or a == b:
        return a
    if a is None or b is None:
        return a if b is None else b  # an unknown dim must match (or be 1): keep the known one
    raise ValueError(f"dimensions {a} and {b} do not broadcast")


def broadcast(*shapes: Shape) -> Shape:
    """numpy broadcasting over possibly unknown shapes."""
    if shapes:  # the common case first: equal shapes (scalars, mostly) broadcast to themselves
        first = shapes[0]
        for s in shapes:
            if s != first:
                break
        else:
            return None if first is None else tuple(first)
    for s in shapes:
        if s is None:
            return None
    ndim = max((len(s) for s in shapes), default=0)
    out: list[int | None] = [1] * ndim
    for s in shapes:
        padded = (1,) * (ndim - len(s)) + tuple(s)
        try:
            out = [_dim(a, b) for a, b in zip(out, padded)]
        except ValueError:
            raise ValueError("shapes " + " and ".join(map(str, shapes)) + " do not broadcast") from None
    return tuple(out)


def same(s: Shape) -> Shape:
    return s


def scalar(*_: Any, **__: Any) -> Shape:
    return ()


#: the most dimensions a numpy array may have (numpy 2; numpy 1 allowed 32)
MAX_DIMS = 64


def axis_tuple(axis: Any) -> tuple[int, ...] | None:
    """``axis`` as a tuple of ints (``None`` stays ``None``); a ``ValueError`` saying what an
    axis may be for anything else (a float, a bool, a string, a list).

    Examples
    --------
    >>> axis_tuple(-1), axis_tuple((0, 2)), axis_tuple(None)
    ((-1,), (0, 2), None)
    """
    if axis is None:
        return None
    if is_int(axis):
        axes: tuple[int, ...] = (int(axis),)
    elif isinstance(axis, tuple) and all(is_int(a) for a in axis):
        axes = tuple(int(a) for a in axis)
    else:
        raise ValueError(f"axis= must be None, an int or a tuple of ints, not {axis!r}")
    for a in axes:
        if not -MAX_DIMS <= a < MAX_DIMS:  # numpy would raise a bare OverflowError past a C long
            raise ValueError(f"axis {a} is out of range: an array has at most {MAX_DIMS} dimensions")
    return axes


def axes_perm(axes: Any) -> tuple[int, ...] | None:
    """``transpose``'s ``axes``: ``None`` (reverse) or a tuple (or list) of distinct ints, as a
    tuple; a ``ValueError`` naming ``axes=`` for anything else. Whether they permute the
    operand's dimensions is the shape rule's business, once the shape is known.

    Examples
    --------
    >>> axes_perm([1, 0]), axes_perm(None)
    ((1, 0), None)
    >>> axes_perm((0, 0))
    Traceback (most recent call last):
    ValueError: axes= repeats axis 0: (0, 0)
    """
    if axes is None:
        return None
    if not isinstance(axes, (tuple, list)) or not all(is_int(a) for a in axes):
        raise ValueError(f"axes= must be None or a tuple of ints, not {axes!r}")
    perm = tuple(int(a) for a in axes)
    for a in perm:
        if perm.count(a) > 1:
            raise ValueError(f"axes= repeats axis {a}: {axes!r}")
    return perm


def reshape_target(shape: Any) -> tuple[int, ...]:
    """``reshape``'s ``shape``: an int or a tuple (or list) of sizes, at most one of them -1
    (the size left over), as a tuple; a ``ValueError`` naming ``shape=`` for anything else.

    Examples
    --------
    >>> reshape_target(6), reshape_target([3, -1])
    ((6,), (3, -1))
    >>> reshape_target((2, -1, -1))
    Traceback (most recent call last):
    ValueError: shape= has more than one -1: (2, -1, -1)
    """
    if shape is None:
        raise ValueError("reshape needs a target shape=(...)")
    if is_int(shape):
        target: tuple = (int(shape),)
    elif isinstance(shape, (tuple, list)) and all(is_int(d) for d in shape):
        target = tuple(int(d) for d in shape)
    else:
        raise ValueError(f"shape= must be an int or a tuple of ints, not {shape!r}")
    if target.count(-1) > 1:
        raise ValueError(f"shape= has more than one -1: {shape!r}")
    if any(d < -1 for d in target):
        raise ValueError(f"shape= has a negative size other than -1: {shape!r}")
    return target


def is_int(v: Any) -> bool:
    """Whether ``v`` is an int (Python or numpy) and not a bool, as an attribute's int must be.

    Examples
    --------
    >>> is_int(2), is_int(np.int64(2)), is_int(True), is_int(2.0)
    (True, True, False, False)
    """
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def normalize_axis(axis: Any, ndim: int) -> tuple[int, ...]:
    """``axis`` (None, int or tuple) as sorted non-negative ints for ``ndim`` dims."""
    axes = axis_tuple(axis)
    if axes is None:
        return tuple(range(ndim))
    out = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ValueError(f"axis {a} is out of range for {ndim} dimension(s)")
        out.append(a % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"repeated axis in {axis}")
    return tuple(sorted(out))


def reduce(s: Shape, axis: Any = None, keepdims: bool = False) -> Shape:
    """The shape after reducing ``axis`` of ``s``."""
    if s is None:
        return None if (axis is not None or keepdims) else ()
    axes = normalize_axis(axis, len(s))
    if keepdims:
        return tuple(1 if i in axes else d for i, d in enumerate(s))
    return tuple(d for i, d in enumerate(s) if i not in axes)


def matmul(a: Shape, b: Shape) -> Shape:
    if a is None or b is None:
        return None
    if len(a) == 0 or len(b) == 0:
        raise ValueError("matmul needs operands of at least one dimension, not scalars")
    a2 = (1,) + tuple(a) if len(a) == 1 else tuple(a)
    b2 = tuple(b) + (1,) if len(b) == 1 else tuple(b)
    k1, k2 = a2[-1], b2[-2]
    if k1 is not None and k2 is not None and k1 != k2:
        raise ValueError(f"inner dimensions {a} @ {b} do not match ({k1} != {k2})")
    batch = broadcast(a2[:-2], b2[:-2])
    out = tuple(batch) + (a2[-2], b2[-1])
    if len(a) == 1:
        out = out[:-2] + out[-1:]
    if len(b) == 1:
        out = out[:-1]
    return out


def transpose(s: Shape, axes: Any = None) -> Shape:
    if s is None:
        return None
    perm = axes_perm(axes)  # checked again here: a caller may use the rule alone
    if perm is None:
        return tuple(reversed(s))
    n = len(s)
    if len(perm) != n or sorted(a % n for a in perm if -n <= a < n) != list(range(n)):
        raise ValueError(f"axes {perm} are not a permutation of the {len(s)} dimensions of {s}")
    return tuple(s[a] for a in perm)


def reshape(s: Shape, shape: Any = None) -> Shape:
    target = reshape_target(shape)
    if s is None or any(d is None for d in s):
        return tuple(None if d == -1 else d for d in target)
    size = 1
    for d in s:
        size *= d
    known = 1
    for d in target:
        if d != -1:
            known *= d
    if -1 in target:
        if known == 0 or size % known:
            raise ValueError(f"cannot reshape {s} into {target}")
        return tuple(size // known if d == -1 else d for d in target)
    if known != size:
        raise ValueError(f"cannot reshape {s} (size {size}) into {target} (size {known})")
    return target
