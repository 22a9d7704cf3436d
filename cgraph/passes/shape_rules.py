"""The identities of ``simplify`` for the shape ops: ``sum_to``, ``expand_to``,
``reshape_like``, ``reshape``, ``transpose``, ``sum``, ``mean``, ``size``, ``zeros_like``.

They are rules as in :mod:`cgraph.passes.rules` (``rule(b, c)``: an equal node or
``None``), listed in its one table ``RULES``; they live here because they reason about
shapes (provably equal, nested or known extents), not about terms and factors.
"""

from __future__ import annotations

import math
from typing import Any

from ..ops.registry import OPS
from .terms import Candidate, filled

__all__ = [
    "noop_when_shaped", "plain_like", "reduce_scalar", "reshape_noop", "size_known", "spread_twice",
    "sum_to_twice", "transpose_twice", "zero_spread", "zeros_of_less",
]


def noop_when_shaped(b: Any, c: Candidate) -> str | None:
    """``sum_to(u, like) -> u`` (expand_to, reshape_like) when the shapes are provably
    equal: known and equal, or both unknown and the broadcast of the same nodes
    (``sum_to(2*x, x)``); else ``sum_to(u, x^2) -> sum_to(u, x)``: the ``like`` operand
    as the one node of unknown shape it is broadcast over."""
    u, like = c.args
    s = b.shape(u)
    if s is not None and None not in s and s == c.shape:
        return u
    if c.shape is None and s == () and b.op(u) == "const" and b.pointwise:
        return u
    if c.attrs.get("axis") is not None:
        return None  # (an axis re-inserted by expand_to: u is narrower than like)
    if c.attrs.get("keepdims") is False:  # without an axis it means nothing: expand_to(1, x)
        return b.make(c.op, u, like)
    if c.shape is not None:
        return None
    if s is None and b.extent(u) == b.extent(like):
        return u
    plain = plain_like(b, like)
    return None if plain is None else b.make(c.op, u, plain, **c.attrs)


def sum_to_twice(b: Any, c: Candidate) -> str | None:
    """``sum_to(sum_to(v, a), w) -> sum_to(v, w)`` and ``sum_to(x*sum_to(v, a), w) ->
    sum_to(x*v, w)`` for unknown shapes, when ``w`` broadcasts into ``a`` and ``a`` into
    ``v`` (their extents nest), and ``x`` into ``a`` (so it is constant along the axes
    the inner sum_to sums)."""
    u, like = c.args
    if c.shape == ():
        return _sum_to_scalar(b, u)
    if c.shape is not None or b.shape(u) is not None:
        return None
    op, args = b.op_args(u)
    if op == "sum_to":
        inner, others = u, ()
    elif op == "mul":
        found = [a for a in args if b.op(a) == "sum_to"]
        if len(found) != 1:
            return None
        inner = found[0]
        others = [a for a in args if a != inner]
    else:
        return None
    v, a = b.args(inner)
    if b.shape(v) is not None or b.shape(a) is not None:
        return None
    around = b.extent(a)
    if not (b.extent(like) <= around <= b.extent(v)) or not all(b.extent(f) <= around for f in others):
        return None
    return b.make("sum_to", b.make("mul", *others, v) if others else v, like)


def _sum_to_scalar(b: Any, u: str) -> str | None:
    """``sum_to(u, like) -> sum(u)`` for a ``like`` of shape ``()`` (``sum_to`` sums all
    the axes then), and ``sum_to(sum_to(v, a), like) -> sum(v)`` where ``a`` is no wider
    than ``v`` (its extent is in ``v``'s, so the inner ``sum_to`` only sums): a number's
    derivative through a sum of unknown shape, ``x*sum(2*(sum(w*x) + b - y))``, not
    ``x*sum_to(sum_to(2*(sum(w*x) + b - y), b), sum(w*x))``."""
    s = b.shape(u)
    if s == ():
        return None  # (noop_when_shaped's: sum_to(u, like) -> u)
    op, args = b.op_args(u)
    if op == "sum_to":
        v, a = args
        if b.shape(a) is None and b.shape(v) is None and b.extent(a) <= b.extent(v):
            u = v
    return b.make("sum", u)


def spread_twice(b: Any, c: Candidate) -> str | None:
    """``expand_to(expand_to(k, a), like) -> expand_to(k, like)`` for a number ``k``: a
    number spread twice is spread once, whatever axes the outer spread re-inserts (the
    derivative of a mean over a batch of per-row sums: ``-y*expand_to(1/4, ...)``, which a
    product then drops, ``-y/4``); ``expand_to(-expand_to(k, a), like) -> expand_to(-k, like)``."""
    u, like = c.args
    negated = b.op(u) == "neg"
    if negated:
        u = b.args(u)[0]
    if b.op(u) != "expand_to" or b.shape(k := b.args(u)[0]) != ():
        return None
    return b.make("expand_to", b.make("neg", k) if negated else k, like)


def plain_like(b: Any, like: str) -> str | None:
    """The simplest node of the same (unknown) shape as ``like``, when that is not
    ``like``: down through elementwise ops while one operand alone carries the shape
    (``x`` for ``x^2`` or ``sin(x)*x``, ``w*x + b - y`` for ``(w*x + b - y)^2``)."""
    n = like
    for _ in range(64):
        op, args = b.op_args(n)
        opdef = OPS.get(op)
        if opdef is None or not opdef.elementwise:
            break
        extent = b.extent(n)
        same = {a for a in args if b.shape(a) is None and b.extent(a) == extent}
        if len(same) != 1:
            break
        (n,) = same
    return None if n == like else n


def zero_spread(b: Any, c: Candidate) -> str | None:
    """``expand_to(0, like) -> zeros_like(like)`` (sum_to, reshape_like alike)."""
    return filled(b, c, 0) if b.is_(c.args[0], 0) else noop_when_shaped(b, c)


def zeros_of_less(b: Any, c: Candidate) -> str | None:
    """``zeros_like(u) -> 0`` for scalar u; ``zeros_like(a + b) -> zeros_like(a)`` when a has its shape."""
    if c.shape == () or (c.shape is None and b.pointwise):
        return b.const(0)
    u = c.args[0]
    if b.op(u) in ("const", "input", "param"):
        return None
    if b.op(u) == "zeros_like":
        return u
    for a in b.args(u):
        if b.op(a) != "const" and b.shape(a) == c.shape and (c.shape is not None or b.extent(a) == b.extent(u)):
            return b.make("zeros_like", a)  # (an unknown shape: a broadcast over the same nodes as u)
    return None


def reshape_noop(b: Any, c: Candidate) -> str | None:
    u = c.args[0]
    s = b.shape(u)
    return u if s is not None and None not in s and s == c.shape else None


def transpose_twice(b: Any, c: Candidate) -> str | None:
    a = c.args[0]
    if b.op(a) == "transpose" and c.attrs.get("axes") is None and b.attrs(a).get("axes") is None:
        return b.args(a)[0]
    return reshape_noop(b, c) if b.shape(a) is not None and len(b.shape(a)) < 2 else None


def reduce_scalar(b: Any, c: Candidate) -> str | None:
    u = c.args[0]
    return u if b.shape(u) == () and c.shape == () else None


def size_known(b: Any, c: Candidate) -> str | None:
    s = b.shape(c.args[0])
    if s is None:
        plain = plain_like(b, c.args[0])  # size(x^2) -> size(x)
        return None if plain is None else b.make("size", plain, **c.attrs)
    if None in s:
        return None
    axes = c.attrs.get("axis")
    axes = range(len(s)) if axes is None else [axes] if isinstance(axes, int) else axes
    if not all(-len(s) <= a < len(s) for a in axes):
        return None  # evaluation reports the bad axis, naming the node
    return b.const(math.prod(s[a] for a in axes))
