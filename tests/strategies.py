"""Hypothesis strategies shared by the tests: random scalar expression graphs.

Graphs are built step by step: each step applies an op (or a pattern the simplifier
should see through, such as ``u - u`` or ``log(exp(u))``) to earlier nodes, so the
result is a DAG with shared subexpressions, repeated operands and exact constants.
``log``/``sqrt`` and some divisions get operands kept away from their domain edges.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import strategies as st

import cgraph as cg

UNARY = ["neg", "sin", "cos", "tanh", "sigmoid", "exp", "square", "abs", "softplus", "identity"]
GUARDED = ["log", "sqrt"]  # applied to 1 + u^2
BINARY = ["add", "sub", "mul", "div", "pow"]
CONSTANTS = [0, 1, 2, 3, -1, -2, Fraction(1, 2), Fraction(-3, 4), 0.5, 2.5, -1.25]


def _positive(u):
    return 1 + cg.square(u)


PATTERNS = [
    lambda u, v: u - u,
    lambda u, v: u * 1,
    lambda u, v: 1 * u,
    lambda u, v: u + 0,
    lambda u, v: 0 + u,
    lambda u, v: u * 0 + v,
    lambda u, v: -(-u),
    lambda u, v: u / 1,
    lambda u, v: u**1,
    lambda u, v: u**0 * v,
    lambda u, v: cg.exp(cg.log(_positive(u))),
    lambda u, v: cg.log(cg.exp(u)),
    lambda u, v: u + u,
    lambda u, v: 2 * u + 3 * u - v,
    lambda u, v: u * (1 / _positive(v)),
    lambda u, v: _positive(u) / _positive(u),
    lambda u, v: 3 * (u + v),
    lambda u, v: (u + v) / 2,
    lambda u, v: -(u - v),
    lambda u, v: u - (-v),
    lambda u, v: (2 * u) * (3 * v),
    lambda u, v: -(3 * u) / 4,
    lambda u, v: u * v * u,
    lambda u, v: cg.add(u, v, u, 1, 2),
    lambda u, v: cg.mul(u, 2, v, Fraction(1, 2)),
    lambda u, v: (u * v) * (u * v),
]


@st.composite
def expressions(draw, *, max_steps: int = 10, n_inputs: int = 2, patterns: bool = True):
    """A random graph over inputs ``x0, x1, ...`` with one output ``y``."""
    g = cg.Graph("random")
    nodes = [g.input(f"x{i}") for i in range(n_inputs)]
    kinds = ["unary", "guarded", "binary", "variadic", "const"] + (["pattern"] * 2 if patterns else [])
    for _ in range(draw(st.integers(1, max_steps))):
        kind = draw(st.sampled_from(kinds))
        u, v = (draw(st.sampled_from(nodes)) for _ in range(2))
        if kind == "unary":
            node = getattr(cg, draw(st.sampled_from(UNARY)))(u)
        elif kind == "guarded":
            node = getattr(cg, draw(st.sampled_from(GUARDED)))(_positive(u))
        elif kind == "binary":
            op = draw(st.sampled_from(BINARY))
            if op == "div" and draw(st.booleans()):
                v = _positive(v)
            if op == "pow":
                form = draw(st.sampled_from(["variable", "integer", "root"]))
                if form == "variable":
                    node = _positive(u) ** v
                elif form == "integer":
                    node = u ** draw(st.sampled_from([2, 3, -1]))
                else:
                    node = _positive(u) ** Fraction(1, 2)
            else:
                node = getattr(cg, op)(u, v)
        elif kind == "variadic":
            op = draw(st.sampled_from(["add", "mul"]))
            node = getattr(cg, op)(u, v, draw(st.sampled_from(nodes)))
        elif kind == "const":
            node = draw(st.sampled_from(CONSTANTS)) * u
        else:
            node = draw(st.sampled_from(PATTERNS))(u, v)
        nodes.append(node)
    g.output(nodes[-1], name="y")
    return g


def points(n_inputs: int = 2, lo: float = 0.3, hi: float = 2.0):
    """Input values for ``expressions``: floats in ``[lo, hi]``."""
    return st.tuples(*[st.floats(lo, hi) for _ in range(n_inputs)]).map(
        lambda xs: {f"x{i}": float(v) for i, v in enumerate(xs)}
    )


def finite_values(g, point):
    """All node values of ``g`` at ``point``, or None when one is not finite."""
    with np.errstate(all="ignore"):
        vals = cg.evaluate(g, point, nonfinite="propagate")
    if not all(np.isfinite(np.asarray(v)).all() for v in vals.values()):
        return None
    return vals


@st.composite
def array_expressions(draw, *, max_steps: int = 8):
    """Like ``expressions`` over inputs of declared, broadcastable array shapes, with
    reductions; steps whose shapes do not combine are skipped."""
    shapes = draw(st.sampled_from([[(3,), (2, 3)], [(2, 1), (3,)], [(2, 3), (2, 3)], [(), (3,)]]))
    g = cg.Graph("random arrays")
    nodes = [g.input(f"x{i}", shape=s) for i, s in enumerate(shapes)]
    kinds = ["unary", "binary", "pattern", "pattern", "reduce"]
    for _ in range(draw(st.integers(1, max_steps))):
        kind = draw(st.sampled_from(kinds))
        u, v = (draw(st.sampled_from(nodes)) for _ in range(2))
        try:
            if kind == "unary":
                node = getattr(cg, draw(st.sampled_from(UNARY)))(u)
            elif kind == "binary":
                node = getattr(cg, draw(st.sampled_from(["add", "sub", "mul"])))(u, v)
            elif kind == "reduce":
                axis = draw(st.sampled_from([None, 0, -1]))
                node = getattr(cg, draw(st.sampled_from(["sum", "mean"])))(u, axis=axis, keepdims=draw(st.booleans()))
            else:
                node = draw(st.sampled_from(PATTERNS))(u, v)
        except cg.ShapeError:
            continue
        nodes.append(node)
    g.output(cg.sum(nodes[-1]), name="y")
    return g


def array_points(g, seed: int):
    rng = np.random.default_rng(seed)
    return {n: rng.uniform(0.3, 2.0, g.nx.nodes[n]["shape"]) for n in g.inputs}
