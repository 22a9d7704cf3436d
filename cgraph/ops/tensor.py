"""Tensor ops: matmul, sum, mean, transpose, reshape, and the shape plumbing the adjoint
pass needs (identity, sum_to, expand_to, reshape_like, size, zeros_like)."""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from . import shapes
from .registry import OpDef, Prec, float_dtype, keeps_weak, register

__all__ = [
    "expand_to", "identity", "matmul", "matmul_grad", "mean", "reshape", "reshape_like", "size", "sum",
    "sum_to", "transpose", "zeros_like",
]

_CALL = {"prec": Prec.ATOM, "arg_prec": (0,)}


def _swap_last(x):
    s = x.shape
    if s is None or len(s) == 2:
        return transpose(x)
    return transpose(x, axes=tuple(range(len(s) - 2)) + (len(s) - 1, len(s) - 2))


def _matmul_vjp(g, out, a, b):
    na = None if a.shape is None else len(a.shape)
    nb = None if b.shape is None else len(b.shape)
    if na is None or nb is None:  # vector or matrix decides the rule: matmul_grad looks at the values
        return (matmul_grad(g, a, b, operand=0), matmul_grad(g, a, b, operand=1))
    if na == 1 and nb == 1:  # dot product
        return (g * b, g * a)
    if na == 1 and nb == 2:  # (k,) @ (k, n)
        return (matmul(b, g), matmul(reshape(a, shape=(-1, 1)), reshape(g, shape=(1, -1))))
    if nb == 1 and na == 2:  # (n, k) @ (k,)
        return (matmul(reshape(g, shape=(-1, 1)), reshape(b, shape=(1, -1))), matmul(_swap_last(a), g))
    if na == 1:  # (k,) @ (..., k, n) -> (..., n): spread g over k, then contract
        spread = expand_to(g, b, axis=-2, keepdims=False)
        return (sum(b * spread, axis=-1), reshape(a, shape=(-1, 1)) * spread)
    if nb == 1:  # (..., n, k) @ (k,) -> (..., n)
        spread = expand_to(g, a, axis=-1, keepdims=False)
        return (spread * b, sum(a * spread, axis=-2))
    return (matmul(g, _swap_last(b)), matmul(_swap_last(a), g))  # batch dims reduce centrally


def _matmul_grad(g, a, b, operand=0):
    """The adjoint of operand 0 (``g @ b^T``) or 1 (``a^T @ g``) of ``a @ b``, for operands
    of any number of dimensions (numpy's 1-D promotions undone), summed to its shape."""
    a, b, g = np.asarray(a), np.asarray(b), np.asarray(g)
    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    g2 = g[..., None] if b.ndim == 1 else g  # b's axis first: a scalar g (two vectors) becomes (1, 1)
    g2 = g2[..., None, :] if a.ndim == 1 else g2
    if operand == 0:
        out = np.matmul(g2, np.swapaxes(b2, -1, -2))
        return _sum_to(out[..., 0, :] if a.ndim == 1 else out, a)
    out = np.matmul(np.swapaxes(a2, -1, -2), g2)
    return _sum_to(out[..., :, 0] if b.ndim == 1 else out, b)


def _matmul_grad_vjp(h, out, g, a, b, operand=0):
    # both adjoints are bilinear: <h, g b^T> = <h b, g> = <h^T g, b>, and alike for a^T g
    if operand == 0:
        return (matmul(h, b), None, matmul_grad(g, h, b, operand=1))
    return (matmul(a, h), matmul_grad(g, a, h, operand=0), None)


def _sum_to(x, like):
    """Sum ``x`` over the axes numpy broadcast ``like`` along, giving ``like``'s shape."""
    x = np.asarray(x, dtype=np.result_type(x, like))  # a Python-float adjoint stays weak: float32 in, float32 out
    target = np.shape(like)
    if x.shape == target:
        return x
    lead = x.ndim - len(target)
    if lead < 0:
        return np.broadcast_to(x, target).copy()
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(target) if d == 1 and x.shape[lead + i] != 1
    )
    out = x.sum(axis=axes, keepdims=True) if axes else x
    return out.reshape(target)


def _expand_to(x, like, axis=None, keepdims=True):
    # numpy reduces a 0-d value over axis 0 or -1 (to itself): nothing to put back then
    if axis is not None and not keepdims and np.ndim(like):
        x = np.expand_dims(x, shapes.normalize_axis(axis, np.ndim(like)))
    return np.broadcast_to(np.asarray(x, dtype=np.result_type(x, like)), np.shape(like))


def _expand_vjp(g, out, x, like, axis=None, keepdims=True):
    if axis is not None and not keepdims:
        return (sum(g, axis=axis), None)
    return (sum_to(g, x), None)


def _size(x, axis=None):
    dims = np.shape(x)
    if axis is None:
        return float(math.prod(dims))
    return float(math.prod([dims[a] for a in shapes.normalize_axis(axis, len(dims))]))


def _mean(x, axis=None, keepdims=False):
    if axis is None and not keepdims and type(x) is np.ndarray and x.dtype.kind == "f" and x.dtype.itemsize >= 4 \
            and x.size:
        return x.sum() / x.size  # np.mean's own arithmetic for these dtypes, minus its ~2 us of dispatch
    if not np.size(x):  # 0/0 under the caller's errstate (nan, or a DomainError), not np.mean's RuntimeWarning
        return np.true_divide(np.sum(x, axis=axis, keepdims=keepdims), 0.0)
    return np.mean(x, axis=axis, keepdims=keepdims)


def _reduce(fn: str, x: str, axis: Any = None, keepdims: bool = False) -> str:
    axis = axis if axis is None else int(axis) if isinstance(axis, int) else tuple(int(a) for a in axis)
    return f"{fn}({x}, axis={axis!r}{', keepdims=True' if keepdims else ''})"


def _transpose_vjp(g, out, a, axes=None):
    if axes is None:
        return (transpose(g),)
    # the inverse permutation of the axes read as non-negative: argsort((-1, 0, 1)) is not it
    return (transpose(g, axes=tuple(np.argsort([k % len(axes) for k in axes]).tolist())),)


def _reshape_vjp(g, out, a, shape=None):
    known = a.shape is not None and all(d is not None for d in a.shape)
    return (reshape(g, shape=a.shape) if known else reshape_like(g, a),)


def _operand_form(operand: Any) -> None:
    if not shapes.is_int(operand) or operand not in (0, 1):
        raise ValueError(f"operand= must be 0 or 1, not {operand!r}")


MATMUL = register(OpDef(
    "matmul", 2, np.matmul, shapes.matmul, _matmul_vjp, text="{0} @ {1}", latex=r"{0} {1}",
    prec=Prec.MUL, arg_prec=(Prec.MUL, Prec.POW), label="@", doc="Matrix product ``x @ y``.",
    ufunc=np.matmul, overflows=True, reach="contract", code="{0} @ {1}", fresh=True,  # np.matmul allocates its result
))
MATMUL_GRAD = register(OpDef(
    "matmul_grad", 3, _matmul_grad, lambda sg, sa, sb, operand=0: sa if operand == 0 else sb,
    _matmul_grad_vjp, text="matmul_grad({0}, {1}, {2}{kw})",
    latex=r"\operatorname{{matmul\_grad}}\left({0}, {1}, {2}{kw}\right)", label="∂@", attrs={"operand": 0},
    attr_forms={"operand": _operand_form},
    doc="The adjoint of operand ``operand`` (0 or 1) of ``a @ b`` from ``g``: the matmul rule "
    "where the operands' number of dimensions is unknown when the adjoint graph is built.", overflows=True, **_CALL,
))
SUM = register(OpDef(
    "sum", 1, lambda x, axis=None, keepdims=False: np.sum(x, axis=axis, keepdims=keepdims),
    shapes.reduce, lambda g, out, a, axis=None, keepdims=False: (expand_to(g, a, axis=axis, keepdims=keepdims),),
    text="sum({0}{kw})", latex=r"\sum{sub}\left({0}\right)", label="Σ",
    latex_prec=Prec.POW,  # a big operator: (\sum(X))^{2}, as \sum(X)^{2} reads as the sum of the squares
    attrs={"axis": None, "keepdims": False}, reach="reduce", doc="Sum over ``axis`` (all axes by default).",
    code_math="{0}", code=functools.partial(_reduce, "np.add.reduce"), keeps_nonfinite="all",  # np.sum's own kernel
    fresh=True, **_CALL,
))
MEAN = register(OpDef(
    "mean", 1, _mean,
    shapes.reduce,
    lambda g, out, a, axis=None, keepdims=False: (
        expand_to(g, a, axis=axis, keepdims=keepdims) / size(a, axis=axis),),
    text="mean({0}{kw})", latex=r"\operatorname{{mean}}{sub}\left({0}\right)", label="mean",
    attrs={"axis": None, "keepdims": False}, reach="reduce", doc="Mean over ``axis`` (all axes by default).",
    code_math="{0}", keeps_nonfinite="all", fresh=True, **_CALL,
))
TRANSPOSE = register(OpDef(
    "transpose", 1, lambda x, axes=None: np.transpose(x, axes), shapes.transpose, _transpose_vjp,
    text="transpose({0}{kw})", latex="{0}^{{\\top{kw}}}", latex_prec=Prec.POW,
    latex_arg_prec=(Prec.ATOM,), label="(·)ᵀ", attrs={"axes": None}, attr_forms={"axes": shapes.axes_perm}, reach="permute",
    doc="Permute the axes (reverse them by default).", **_CALL,
))
RESHAPE = register(OpDef(
    "reshape", 1, lambda x, shape=None: np.reshape(x, shape), shapes.reshape, _reshape_vjp,
    text="reshape({0}{kw})", latex=r"\operatorname{{reshape}}\left({0}{kw}\right)", label="reshape",
    attrs={"shape": None}, attr_forms={"shape": shapes.reshape_target}, reach="reshape", doc="Give the operand a new ``shape`` (one entry may be -1).", **_CALL,
))
IDENTITY = register(OpDef(
    "identity", 1, lambda x: x, shapes.same, lambda g, out, a: (g,), text="{0}", latex="{0}",
    label="=", transparent=True, elementwise=True,
    doc="The operand itself (names an adjoint that equals another node).",
    code_math="{0}", code="{0}", keeps_nonfinite="all", **_CALL,
))
SUM_TO = register(OpDef(
    "sum_to", 2, _sum_to, lambda s, like: like, lambda g, out, x, like: (expand_to(g, x), None),
    text="sum_to({0}, {1})", latex=r"\operatorname{{sum\_to}}\left({0}, {1}\right)", label="Σ→",
    doc="Sum the first operand down to the shape of the second (undoes broadcasting).", shape_operands=(1,),
    reach="reduce_to", code_math="{0}", keeps_nonfinite="all", **_CALL,  # scalars: nothing was broadcast
))
EXPAND_TO = register(OpDef(
    "expand_to", 2, _expand_to, lambda s, like, axis=None, keepdims=True: like, _expand_vjp,
    text="expand_to({0}, {1}{kw})", latex=r"\operatorname{{expand}}{sub}\left({0}, {1}\right)",
    label="expand", attrs={"axis": None, "keepdims": True}, reach="broadcast_to",
    doc="Broadcast the first operand to the shape of the second, re-inserting reduced ``axis``.",
    shape_operands=(1,), code_math="{0}", keeps_nonfinite="all", **_CALL,
))
RESHAPE_LIKE = register(OpDef(
    "reshape_like", 2, lambda x, like: np.reshape(x, np.shape(like)), lambda s, like: like,
    lambda g, out, x, like: (reshape_like(g, x), None), text="reshape_like({0}, {1})",
    latex=r"\operatorname{{reshape}}\left({0}, {1}\right)", label="reshape",
    doc="Reshape the first operand to the shape of the second.", shape_operands=(1,), reach="reshape",
    code_math="{0}", keeps_nonfinite="all", **_CALL,
))
SIZE = register(OpDef(
    "size", 1, _size, shapes.scalar, lambda g, out, a, axis=None: (None,), text="size({0}{kw})",
    latex=r"\operatorname{{size}}{sub}\left({0}\right)", label="size", attrs={"axis": None},
    doc="The number of elements along ``axis`` (all by default), as a float.", shape_operands=(0,),
    code_math="1.0", weak_result=True, **_CALL,  # of a scalar
))
ZEROS_LIKE = register(OpDef(
    "zeros_like", 1, keeps_weak(lambda x: np.zeros(np.shape(x), float_dtype(x))), shapes.same,
    lambda g, out, a: (None,), text="zeros_like({0})", latex="0", label="0",
    doc="Zeros of the operand's shape.", shape_operands=(0,), code_math="0.0", fresh=True, **_CALL,
))

(matmul, sum, mean, transpose, reshape, identity, sum_to, expand_to, reshape_like, size,
 zeros_like, matmul_grad) = (op.function for op in (MATMUL, SUM, MEAN, TRANSPOSE, RESHAPE, IDENTITY, SUM_TO,
                                                    EXPAND_TO, RESHAPE_LIKE, SIZE, ZEROS_LIKE, MATMUL_GRAD))
