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
from hypothesis.extra import numpy as hnp

import cgraph as cg

UNARY = ["neg", "sin", "cos", "tanh", "sigmoid", "exp", "square", "abs", "softplus", "identity"]
GUARDED = ["log", "sqrt"]  # applied to 1 + u^2
BINARY = ["add", "sub", "mul", "div", "pow", "maximum", "minimum"]
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


def rounding_spread(g, point, vals):
    """How far each output of ``g`` moves when one input moves by a few ulps: the
    conditioning of the function at ``point``. Where it amplifies rounding (sin of a value
    of 2e7 whose last bits depend on x*x*x against x^3), any regrouping of the arithmetic
    changes the output by about as much, and that is not a simplifier error. A move that
    overflows (or gives NaN) is left out: it would make any difference pass."""
    spread = dict.fromkeys(g.outputs, 0.0)
    with np.errstate(all="ignore"):
        for name, v in point.items():
            for factor in (1 + 2.0**-50, 1 - 2.0**-50):
                moved = cg.evaluate(g, {**point, name: v * factor}, nonfinite="propagate")
                for out in g.outputs:
                    change = np.abs(np.subtract(moved[out], vals[out]))
                    if np.all(np.isfinite(change)):
                        spread[out] = max(spread[out], float(np.max(change)))
    return spread


# ---------------------------------------------------------------------------------------
# Random graphs over EVERY registered op, with arrays, broadcasting and attributes.
#
# ``op_graphs()`` draws the input values first and builds the graph step by step at that
# point: each candidate node is evaluated with its op's own ``eval`` before it is added,
# and kept only when it is finite, moderate (|v| <= BOUND) and inside its op's domain
# with a margin (MARGINS: away from log(0), x/0, the kinks of relu/abs/step/sign, the
# jump of replace_zero, the poles of tan), where central differences are accurate. An operand that misses the
# margin is guarded first (``1 + u^2``, ``sin(u)``, ...), so every op still occurs.

SHAPES = [(), (3,), (2, 3), (2, 1)]
BOUND = 50.0
SCALARS = [2, -1, 3, Fraction(1, 2), 0.5, -1.5]


def _min_abs(v):
    return float(np.min(np.abs(v))) if np.size(v) else 1.0


# op -> (predicate on the operand values, a guard per operand to apply when it fails)
MARGINS = {
    "log": (lambda a: np.min(a) > 0.2, ("positive",)),
    "sqrt": (lambda a: np.min(a) > 0.2, ("positive",)),
    "div": (lambda a, b: _min_abs(b) > 0.2, (None, "positive")),
    "pow": (lambda a, b: np.min(a) > 0.2 and np.max(np.abs(b)) <= 3, ("positive", "bounded")),
    "relu": (lambda a: _min_abs(a) > 0.05, ("signed",)),
    "abs": (lambda a: _min_abs(a) > 0.05, ("signed",)),
    "step": (lambda a: _min_abs(a) > 0.05, ("signed",)),
    "sign": (lambda a: _min_abs(a) > 0.05, ("signed",)),
    "tan": (lambda a: np.max(np.abs(a)) < 1.2, ("bounded",)),
    # 1 at 0, a jump; the text form prints it as its operand, which reads back as the operand
    "replace_zero": (lambda a: _min_abs(a) > 0.05, ("signed",)),
    "replace_zero_if": (lambda a, b: _min_abs(a) > 0.05, ("signed", None)),  # 1 where a and b are both 0
    # a tie is fine (each side's half is what central differences see), a near tie is a kink
    "maximum": (lambda a, b: _apart_or_tied(a, b), (None, None)),
    "minimum": (lambda a, b: _apart_or_tied(a, b), (None, None)),
    "sign_diff": (lambda a, b: bool(np.all(np.abs(a - b) > 0.05)), (None, None)),  # a tie is its jump
}


def _apart_or_tied(a, b):
    return bool(np.all((a == b) | (np.abs(a - b) > 0.05)))


class _Item:
    """A node of the graph being built and its value at the sample point."""

    __slots__ = ("node", "value")

    def __init__(self, node, value):
        self.node, self.value = node, value


def _evaluate(op, values, attrs):
    """``op``'s value at the operand values, or None when it fails or is not moderate."""
    try:
        with np.errstate(all="raise"):
            out = np.asarray(cg.OPS[op].eval(*values, **attrs), dtype=np.float64)
    except (ArithmeticError, ValueError, TypeError, IndexError, FloatingPointError):
        return None
    if not np.isfinite(out).all() or (out.size and np.max(np.abs(out)) > BOUND):
        return None
    return out


def _step(g, op, *args, **attrs):
    """Add ``op(*args)`` (items or Python numbers) with its value, or None if it is not moderate."""
    values = [a.value if isinstance(a, _Item) else np.asarray(float(a)) for a in args]
    value = _evaluate(op, values, attrs)
    if value is None:
        return None
    return _Item(g.apply(op, *[a.node if isinstance(a, _Item) else a for a in args], **attrs), value)


def _positive_guard(draw, g, u):  # 1 + u^2 >= 1
    sq = _step(g, "square", u)
    return sq and _step(g, "add", 1, sq)


def _signed_guard(draw, g, u):  # +-(1 + u^2): away from the kink at 0, on a drawn side
    p = _positive_guard(draw, g, u)
    return p and (_step(g, "neg", p) if draw(st.booleans()) else p)


def _bounded_guard(draw, g, u):  # sin(u) in [-1, 1]
    return _step(g, "sin", u)


GUARDS = {"positive": _positive_guard, "signed": _signed_guard, "bounded": _bounded_guard}


def _broadcasts(*shapes):
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        return False
    return True


def _operands(draw, op, items):
    """(operand items, attrs) for ``op``, or None when no fitting operands exist."""
    u = draw(st.sampled_from(items))
    su = np.shape(u.value)
    nd = len(su)

    def other(pred):
        fits = [it for it in items if pred(np.shape(it.value))]
        return draw(st.sampled_from(fits)) if fits else None

    if op in ("sum", "mean", "logsumexp"):
        axis = draw(st.one_of(st.none(), st.integers(-nd, nd - 1))) if nd else None
        return [u], {"axis": axis, "keepdims": draw(st.booleans())}
    if op in ("softmax", "log_softmax"):
        return ([u], {"axis": draw(st.integers(-nd, nd - 1))}) if nd else None
    if op == "size":
        return [u], {"axis": draw(st.one_of(st.none(), st.integers(0, nd - 1))) if nd else None}
    if op == "transpose":
        axes = draw(st.one_of(st.none(), st.permutations(range(nd)).map(tuple))) if nd else None
        return [u], {"axes": axes}
    if op == "reshape":
        size = int(np.prod(su))
        shape = draw(st.sampled_from([(-1,), (size,), (1, -1), tuple(reversed(su)), (size, 1)]))
        return [u], {"shape": shape}
    if op == "matmul":
        if nd == 0:
            return None
        v = other(lambda s: len(s) >= 1 and (s[0] if len(s) == 1 else s[-2]) == su[-1])
        return ([u, v], {}) if v is not None else None
    if op == "matmul_grad":  # (g, a, b) with g of a @ b's shape
        if nd == 0:
            return None
        b = other(lambda s: len(s) >= 1 and (s[0] if len(s) == 1 else s[-2]) == su[-1])
        if b is None:
            return None
        out = np.shape(np.matmul(u.value, b.value))
        g = other(lambda s: s == out)
        return [g, u, b], {"operand": draw(st.sampled_from([0, 1]))}
    if op == "sum_to":  # u summed down to a shape that broadcasts up to u's
        return [u, other(lambda s: _broadcasts(s, su) and np.broadcast_shapes(s, su) == su)], {}
    if op == "expand_to":  # u broadcast up to like's shape
        return [u, other(lambda s: _broadcasts(s, su) and np.broadcast_shapes(s, su) == s)], {}
    if op == "reshape_like":
        return [u, other(lambda s: int(np.prod(s)) == int(np.prod(su)))], {}
    if op in ("slice", "unslice"):  # a basic slice of an axis; unslice places u at a slice of like
        if nd == 0:
            return None
        axis = draw(st.integers(-nd, nd - 1))
        bounds = st.one_of(st.none(), st.integers(-4, 4))
        attrs = {"start": draw(bounds), "stop": draw(bounds), "step": draw(st.sampled_from([None, 1, 2, -1, -2, 3])),
                 "axis": axis}
        cut = np.shape(u.value[(slice(None),) * (axis % nd) + (slice(attrs["start"], attrs["stop"], attrs["step"]),)])
        if op == "slice":
            return ([u], attrs) if 0 not in cut else None
        g = other(lambda s: s == cut)
        return ([g, u], attrs) if g is not None and 0 not in cut else None
    opdef = cg.OPS[op]
    n = opdef.arity if opdef.arity is not None else draw(st.integers(2, 3))
    args = [u]
    for _ in range(n - 1):
        args.append(other(lambda s: _broadcasts(s, *[np.shape(a.value) for a in args])))
    return args, {}


def _guarded(draw, g, op, args):
    """``args`` with the guards of MARGINS applied where the margin fails; None if hopeless."""
    if op not in MARGINS:
        return args
    ok, guards = MARGINS[op]
    if ok(*[a.value for a in args]):
        return args
    out = [a if guard is None else GUARDS[guard](draw, g, a) for a, guard in zip(args, guards)]
    return out if all(a is not None for a in out) and ok(*[a.value for a in out]) else None


@st.composite
def op_graphs(draw, *, ops=None, max_steps: int = 8, n_inputs: int = 3, names=None, declare=None):
    """``(graph, point, values)``: a random graph over ``ops`` (default: every registered
    op) whose inputs ``x0, x1, ...`` have random shapes (declared or unknown), the input
    values it was built at, and the numpy value of every node there.

    The output ``y`` is ``sum`` of the last node (a scalar, so it can be differentiated).
    ``names`` (a strategy of strings) names the op nodes, for exporter tests.
    """
    ops = sorted(cg.OPS) if ops is None else list(ops)
    g = cg.Graph("random")
    declared = draw(st.booleans()) if declare is None else declare
    items, point = [], {}
    for i in range(n_inputs):
        shape = draw(st.sampled_from(SHAPES))
        value = draw(hnp.arrays(np.float64, shape, elements=st.floats(-2, 2, width=64)))
        node = g.input(f"x{i}", shape=shape if declared else None)
        point[node.name] = value if shape else float(value)
        items.append(_Item(node, np.asarray(value, dtype=np.float64)))
    for _ in range(draw(st.integers(1, max_steps))):
        if draw(st.integers(0, 9)) == 0:  # now and then a constant operand
            c = draw(st.sampled_from(SCALARS))
            items.append(_Item(g.const(c), np.asarray(float(c))))
            continue
        op = draw(st.sampled_from(ops))
        picked = _operands(draw, op, items)
        if picked is None or any(a is None for a in picked[0]):
            continue
        args, attrs = picked
        args = _guarded(draw, g, op, args)
        if args is None:
            continue
        value = _evaluate(op, [a.value for a in args], attrs)
        if value is None:
            continue
        name = None
        if names is not None:
            name = draw(names)
            if name in g.nx or name == "y":
                name = None
        try:
            node = g.apply(op, *[a.node for a in args], name=name, **attrs)
        except cg.ShapeError:  # a declared shape the rule rejects although numpy accepts it
            continue
        items.append(_Item(node, value))
    last = items[-1]
    y = g.output(cg.sum(last.node), name="y")
    items.append(_Item(y, np.asarray(np.sum(last.value))))
    return g, point, {it.node.name: it.value for it in items}


def examples(n: int) -> int:
    """``n`` hypothesis examples, times ``CGRAPH_EXAMPLES_SCALE`` (the long fuzz run sets it)."""
    import os

    return max(1, int(n * float(os.environ.get("CGRAPH_EXAMPLES_SCALE", "1"))))


def describe(g) -> str:
    """One line per node (``name = op(operands) attrs : shape``), for failure reports."""
    lines = []
    for n in g.schedule():
        d = g.nx.nodes[n]
        attrs = {k: v for k, v in d["attrs"].items() if v is not None and k != "dtype"}
        lines.append(f"{n} = {d['op']}({', '.join(g.operands(n))}) {attrs or ''} : {d['shape']}")
    return "\n".join(lines)


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
