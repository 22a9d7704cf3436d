"""Indexing ops: ``slice`` (a basic slice ``start:stop:step`` along one axis, what
``x[1::2]`` builds) and ``unslice``, its adjoint (zeros with the slice filled in)."""

from __future__ import annotations

import builtins
import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ArgumentError, ShapeError
from . import shapes
from .registry import OpDef, Prec, float_dtype, register

if TYPE_CHECKING:
    from ..node import Node

__all__ = ["slice", "unslice"]

_ATTRS = {"start": None, "stop": None, "step": None, "axis": 0}


def _bound(key: str, value: Any) -> int | None:
    if value is None:
        return None
    if not shapes.is_int(value):
        raise ValueError(f"slice {key}= must be an int or None, not {value!r}")
    return int(value)


def _axis(axis: Any, ndim: int | None) -> int:
    """``axis`` as a non-negative int for ``ndim`` dims (``None``: unknown, the type alone is checked)."""
    if not shapes.is_int(axis):
        raise ValueError(f"slice axis= must be one int, not {axis!r}")
    (axis,) = shapes.axis_tuple(axis)  # (its range checked)
    return axis if ndim is None else shapes.normalize_axis(axis, ndim)[0]


def _step(step: Any) -> int | None:
    step = _bound("step", step)
    if step == 0:
        raise ValueError("slice step cannot be zero")
    return step


#: the form of each attribute, checked whatever the operand's shape (registry.check_attrs)
_FORMS = {"start": lambda v: _bound("start", v), "stop": lambda v: _bound("stop", v), "step": _step,
          "axis": lambda v: _axis(v, None)}


def _index(ndim: int, start: Any, stop: Any, step: Any, axis: Any) -> tuple:
    """The numpy index of the slice: ``(:, :, start:stop:step)`` up to ``axis``."""
    if ndim == 0:
        raise ValueError("a scalar cannot be sliced")
    cut = builtins.slice(_bound("start", start), _bound("stop", stop), _step(step))
    return (builtins.slice(None),) * _axis(axis, ndim) + (cut,)


def _slice(x, start=None, stop=None, step=None, axis=0):
    x = np.asarray(x)
    return x[_index(x.ndim, start, stop, step, axis)]


def _unslice(g, like, start=None, stop=None, step=None, axis=0):
    shape = np.shape(like)
    out = np.zeros(shape, dtype=float_dtype(g, like))  # a Python-float g stays weak
    out[_index(len(shape), start, stop, step, axis)] = g
    return out


def _slice_shape(s, start=None, stop=None, step=None, axis=0):
    if s is None:  # the attrs' form is checked by _FORMS
        return None
    index = _index(len(s), start, stop, step, axis)
    ax, d = len(index) - 1, s[len(index) - 1]
    n = None if d is None else len(range(*index[-1].indices(d)))
    return tuple(s[:ax]) + (n,) + tuple(s[ax + 1:])


def _unslice_shape(sg, like, start=None, stop=None, step=None, axis=0):
    cut = _slice_shape(like, start, stop, step, axis)
    if sg is not None and cut is not None:
        try:
            both = shapes.broadcast(sg, cut)
            # an unknown (batch) dim of the slice takes any length, as its value will decide
            if len(both) != len(cut) or any(b != c for b, c in zip(both, cut) if b is not None and c is not None):
                raise ValueError
        except ValueError:
            raise ValueError(f"the values of shape {sg} do not fit the slice of shape {cut} of {like}") from None
    return like


def index_text(start=None, stop=None, step=None, axis=0) -> str:
    """The slice as Python writes it: ``x[1::2]`` along axis 0, ``[:, ::2]`` along 1."""
    start, stop, step = (None if v is None else int(v) for v in (start, stop, step))
    cut = ("" if start is None else str(start)) + ":" + ("" if stop is None else str(stop))
    if step is not None:
        cut += f":{step}"
    axis = int(axis)
    if axis < 0:
        return "[..., " + ", ".join([cut] + [":"] * (-axis - 1)) + "]"
    return "[" + ", ".join([":"] * axis + [cut]) + "]"


def getitem(x: Node, key: Any) -> Node:
    """``x[key]`` for basic slices: ``x[::2]``, ``x[1:-1]``, ``x[:, 1::2]``, ``x[..., :3]``.

    One ``slice`` node per sliced axis. Integer, array and ``None`` indices are not
    graph ops (yet): they raise ``ArgumentError``.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph()
    >>> x = g.input("x", shape=(6,))
    >>> odd = x[1::2]
    >>> odd.op, odd.attrs["start"], odd.attrs["step"], odd.shape
    ('slice', 1, 2, (3,))
    """
    items = key if isinstance(key, tuple) else (key,)
    lead = 0
    if items and items[0] is Ellipsis:
        lead, items = 1, items[1:]
    for item in items:
        if not isinstance(item, builtins.slice):
            raise ArgumentError(
                f"node {x.name!r}: index {item!r} is not supported; graph indexing takes basic slices "
                "(x[1::2], x[:, :3], x[..., ::2]): use cg.slice(x, start=, stop=, step=, axis=)"
            )
    if x.shape is not None and len(items) > len(x.shape):  # numpy: "too many indices"
        raise ShapeError(f"node {x.name!r} {x.shape}: {len(items)} indices for {len(x.shape)} dimension(s)")
    out = x
    for i, item in enumerate(items):
        if item == builtins.slice(None):
            continue
        axis = i - len(items) if lead else i
        out = slice(out, start=_as_int(item.start), stop=_as_int(item.stop), step=_as_int(item.step), axis=axis)
    return out


def _as_int(bound: Any) -> Any:
    """A slice bound as an int where Python would take it as one; anything else is left to
    ``slice``, whose check names the bound (``start= must be an int or None, not 1.5``)."""
    if bound is None or isinstance(bound, bool):
        return bound
    try:
        return operator.index(bound)
    except TypeError:
        return bound


SLICE = register(OpDef(
    "slice", 1, _slice, _slice_shape, lambda g, out, a, **attrs: (unslice(g, a, **attrs),),
    text="slice({0}{kw})", latex=r"\operatorname{{slice}}\left({0}{kw}\right)", label="[:]",
    prec=Prec.ATOM, arg_prec=(0,), attrs=dict(_ATTRS), attr_forms=_FORMS, reach="same_axes",
    code=lambda x, **attrs: f"{x}{index_text(**attrs)}",  # x[1::2]: a view, as the op's eval
    doc="The basic slice ``start:stop:step`` of ``axis`` (``x[1::2]`` builds one).",
))
UNSLICE = register(OpDef(
    "unslice", 2, _unslice, _unslice_shape, lambda h, out, g, like, **attrs: (slice(h, **attrs), None),
    text="unslice({0}, {1}{kw})", latex=r"\operatorname{{unslice}}\left({0}, {1}{kw}\right)", label="[:]ᵀ",
    prec=Prec.ATOM, arg_prec=(0,), attrs=dict(_ATTRS), attr_forms=_FORMS,
    doc="Zeros of the second operand's shape with the first placed at the slice ``start:stop:step`` of "
    "``axis``: the adjoint of ``slice``.", shape_operands=(1,), reach="same_axes",
    fresh=True,  # zeros with the slice written in
))

slice, unslice = SLICE.function, UNSLICE.function  # noqa: A001 - cg.slice, as cg.sum shadows sum
