"""Differential tests against PyTorch: values, gradients and second derivatives of random
array graphs over every public op, computed by cgraph every way it offers (``evaluate``,
``grad`` first and second call, ``compile``, ``adjoint`` + ``evaluate``, ``simplify`` of
the adjoint, ``grad`` of a gradient graph) and by ``torch.autograd``.

Skipped without torch (not a test dependency; CI does not install it). Each random graph
is built twice from one drawn program: once as a cgraph graph, once as a torch function.
Kinks (relu/abs/sign/step at 0) are kept away from: there both follow a convention
(docs/errors.md). ``CGRAPH_TORCH_EXAMPLES=N`` runs N examples per test (the long local
run); ``CGRAPH_TORCH_REPORT=1`` prints the worst relative error of each comparison.
"""

from __future__ import annotations

import collections
import os
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

import cgraph as cg

torch = pytest.importorskip("torch")
F = torch.nn.functional

N_EXAMPLES = int(os.environ.get("CGRAPH_TORCH_EXAMPLES", "40"))
STEPS = int(os.environ.get("CGRAPH_TORCH_STEPS", "7"))
RTOL64 = 1e-10  # normwise: max|a - b| / max(1, max|b|); the worst seen is printed by the report
RTOL32 = 2e-4
WORST: dict[str, tuple[float, str]] = {}
TORCH_NONFINITE: list[str] = []
RUNS: collections.Counter = collections.Counter()
OPS_SEEN: collections.Counter = collections.Counter()
SETTINGS = settings(max_examples=N_EXAMPLES, deadline=None, derandomize=False,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])

SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1), (3, 2), (2, 2, 3), (4,)]


def _report() -> None:
    if os.environ.get("CGRAPH_TORCH_REPORT"):
        print(f"\nexamples passed: {dict(RUNS)}")
        print(f"ops in them: {dict(OPS_SEEN.most_common())}")
        for key, (err, where) in sorted(WORST.items()):
            print(f"worst {key:<37} {err:.3e}  {where}")
        print(f"torch non-finite where cgraph is finite: {len(TORCH_NONFINITE)}")
        for line in TORCH_NONFINITE[:20]:
            print("   ", line[:300])


@pytest.fixture(scope="module", autouse=True)
def _report_at_the_end():
    yield
    _report()


# ---------------------------------------------------------------------------------------
# one drawn program, two interpreters: a node is (cgraph Node, torch function of the
# operand tensors, operand indices); the forward value in float64 guides the next draw


class Program:
    def __init__(self, draw, declare: bool, scale: float = 2.0, guarded: bool = True) -> None:
        # guarded=False: no domain guards, exact zeros in the inputs, non-finite values kept
        self.draw, self.declare, self.scale, self.guarded = draw, declare, scale, guarded
        self.g = cg.Graph("diff")
        self.cg: list = []  # cgraph Nodes
        self.fn: list = []  # torch function of the operand tensors (None for an input)
        self.args: list = []  # operand indices
        self.val: list = []  # float64 torch values, no grad
        self.feeds: dict[str, np.ndarray] = {}
        self.names: list[str] = []  # inputs, in creation order
        self.index: dict[str, int] = {}
        self.steps: list[str] = []

    # --- building
    def input(self, shape, lo=None, hi=None, away=0.05) -> int:
        name = f"x{len(self.names)}"
        lo, hi = -self.scale if lo is None else lo, self.scale if hi is None else hi
        rng = np.random.default_rng(self.draw(st.integers(0, 2**32 - 1)))
        v = rng.uniform(lo, hi, size=shape)
        if away and self.guarded:  # away from the kinks at 0
            v = np.where(np.abs(v) < away, np.copysign(away, v) + v, v)
        elif not self.guarded and v.size and self.draw(st.booleans()):
            v = np.where(rng.random(np.shape(v)) < 0.4, 0.0, v)
        v = np.asarray(v, dtype=np.float64)
        node = self.g.input(name, shape=shape if self.declare else None)
        self.feeds[name] = v
        self.names.append(name)
        self.index[name] = len(self.cg)
        self.steps.append(f"{name}: input {shape}")
        return self._push(node, None, (), torch.tensor(v))

    def _push(self, node, fn, args, value) -> int:
        self.cg.append(node)
        self.fn.append(fn)
        self.args.append(tuple(args))
        self.val.append(value)
        return len(self.cg) - 1

    def apply(self, text, cg_fn, t_fn, *args) -> int:
        node = cg_fn(*(self.cg[a] for a in args))
        value = t_fn(*(self.val[a] for a in args))
        # overflow (exp, powers of wide inputs) is a DomainError in cgraph: another test's business
        if self.guarded and not bool(torch.isfinite(value).all()):
            reject()
        # past 1e154 the quotient rule's -a/b^2 overflows where torch's (a/b)/b does not
        # (docs/errors.md): grad raises a DomainError there, by design
        if self.guarded and bool((value.abs() > 1e100).any()):
            reject()
        self.steps.append(f"n{len(self.cg)} = {text}{args}")
        return self._push(node, t_fn, args, value)

    def shape(self, i) -> tuple:
        return tuple(self.val[i].shape)

    # --- the torch side
    def run_torch(self, leaves: dict) -> list:
        leaf = {i: k for k, i in enumerate(self.index.values())}
        out: list = []
        for i, (fn, args) in enumerate(zip(self.fn, self.args)):
            out.append(leaves[leaf[i]] if fn is None else fn(*(out[a] for a in args)))
        return out


def _positive(p, i):
    """u itself where all its values are well inside (0, inf), else 1 + u^2."""
    if not p.guarded or p.val[i].numel() and float(p.val[i].min()) > 0.1:
        return i
    return p.apply("1+u^2", lambda u: 1 + cg.square(u), lambda u: 1 + torch.square(u), i)


def _nonzero(p, i):
    if not p.guarded or p.val[i].numel() and float(p.val[i].abs().min()) > 0.1:
        return i
    return p.apply("1+u^2", lambda u: 1 + cg.square(u), lambda u: 1 + torch.square(u), i)


def _moderate(p, i):
    """u itself where |u| <= 50, else tanh(u): sin(1e18) is a valid function of a wrong
    argument; one rounding more or less in u (x*z*x is x^2*z after simplify; a float32
    matmul sums in another order) changes it completely."""
    if not p.guarded or not p.val[i].numel() or float(p.val[i].abs().max()) <= 50:
        return i
    return p.apply("tanh", cg.tanh, torch.tanh, i)


def _broadcastable(a, b) -> bool:
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _torch_slice(x, start, stop, step, axis):
    idx = np.arange(x.shape[axis])[slice(start, stop, step)].copy()
    return torch.index_select(x, axis, torch.as_tensor(idx, dtype=torch.long))


def _softplus(u):
    # F.softplus is linear past 20 (off by e^-20), and the double backward of
    # torch.logaddexp(0, u) is nan at u = -1000; this form is exact to second order
    return torch.relu(u) + torch.log1p(torch.exp(-torch.abs(u)))


UNARY = {
    "neg": (lambda u: -u, lambda u: -u),
    "sin": (cg.sin, torch.sin),
    "cos": (cg.cos, torch.cos),
    "tanh": (cg.tanh, torch.tanh),
    "sigmoid": (cg.sigmoid, torch.sigmoid),
    "softplus": (cg.softplus, _softplus),
    "square": (cg.square, torch.square),
    "relu": (cg.relu, torch.relu),
    "abs": (cg.abs, torch.abs),
    "sign": (cg.sign, torch.sign),
    "step": (cg.step, lambda u: (u > 0).to(u.dtype)),
}
BINARY = {
    "add": (lambda u, v: u + v, lambda u, v: u + v),
    "sub": (lambda u, v: u - v, lambda u, v: u - v),
    "mul": (lambda u, v: u * v, lambda u, v: u * v),
}
KINKED = ("relu", "abs", "sign", "step")


def _step(draw, p: Program) -> None:
    n = len(p.cg)
    i = draw(st.integers(0, n - 1))
    s = p.shape(i)
    kind = draw(st.sampled_from([
        "unary", "unary", "exp", "tan", "log", "sqrt", "pow", "binary", "binary", "div", "variadic",
        "const", "matmul", "reduce", "reshape", "transpose", "slice", "softmax", "logsumexp", "loss",
    ]))
    if kind == "unary":
        name = draw(st.sampled_from(sorted(UNARY)))
        if name in KINKED and p.val[i].numel() and float(p.val[i].abs().min()) < 1e-6:
            name = "tanh"
        if name in ("sin", "cos"):
            i = _moderate(p, i)
        p.apply(name, *UNARY[name], i)
    elif kind == "exp":
        if p.val[i].numel() and float(p.val[i].max()) > 20:
            i = p.apply("tanh", cg.tanh, torch.tanh, i)
        p.apply("exp", cg.exp, torch.exp, i)
    elif kind == "tan":
        i = p.apply("sin", cg.sin, torch.sin, _moderate(p, i))  # |sin| <= 1 < pi/2
        p.apply("tan", cg.tan, torch.tan, i)
    elif kind in ("log", "sqrt"):
        i = _positive(p, i)
        p.apply(kind, getattr(cg, kind), getattr(torch, kind), i)
    elif kind == "pow":
        form = draw(st.sampled_from(["int", "negint", "frac", "float", "var", "base", "both"]))
        if form == "int":
            k = draw(st.sampled_from([0, 1, 2, 3, 4]))
            p.apply(f"u**{k}", lambda u: u**k, lambda u: u**k, i)
        elif form == "negint":
            k = draw(st.sampled_from([-1, -2, -3]))
            i = _nonzero(p, i)
            p.apply(f"u**{k}", lambda u: u**k, lambda u: u**k, i)
        elif form in ("frac", "float"):
            k = draw(st.sampled_from([Fraction(1, 2), Fraction(3, 2), Fraction(-1, 2)]
                                     if form == "frac" else [0.5, 2.5, -0.75, 1.0, 2.0]))
            i = _positive(p, i)
            p.apply(f"u**{k}", lambda u: u**k, lambda u: u ** float(k), i)
        elif form == "var":
            j = _pick_broadcast(draw, p, s)
            i = _positive(p, i)
            p.apply("u**v", lambda u, v: u**v, lambda u, v: u**v, i, j)
        elif form == "base":
            c = draw(st.sampled_from([2, 0.5, Fraction(3, 2)]))
            p.apply(f"{c}**u", lambda u: c**u, lambda u: float(c) ** u, i)
        else:
            i = p.apply("sin", cg.sin, torch.sin, _moderate(p, i))
            j = _positive(p, _pick_broadcast(draw, p, s))
            p.apply("u**v", lambda u, v: v**u, lambda u, v: v**u, i, j)
    elif kind == "binary":
        name = draw(st.sampled_from(sorted(BINARY)))
        j = _pick_broadcast(draw, p, s)
        p.apply(name, *BINARY[name], i, j)
    elif kind == "div":
        j = _nonzero(p, _pick_broadcast(draw, p, s))
        if draw(st.booleans()):
            p.apply("u/v", lambda u, v: u / v, lambda u, v: u / v, i, j)
        else:
            p.apply("u/v", lambda u, v: u / v, lambda u, v: u / v, j, i if p.val[i].abs().min() > 0.1 else j)
    elif kind == "variadic":
        j = _pick_broadcast(draw, p, s)
        k = _pick_broadcast(draw, p, np.broadcast_shapes(s, p.shape(j)))
        op = draw(st.sampled_from(["add", "mul"]))
        p.apply(f"{op}3", getattr(cg, op), lambda u, v, w: u + v + w if op == "add" else u * v * w, i, j, k)
    elif kind == "const":
        cshape = draw(st.sampled_from([(), s[-1:], s[-2:], (1,) * len(s)]))
        rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
        c = rng.uniform(-2, 2, size=cshape)
        scalar = draw(st.sampled_from([None, 2, Fraction(-3, 4), 0.5]))
        if scalar is not None:
            p.apply(f"u*{scalar}", lambda u: u * scalar, lambda u: u * float(scalar), i)
        else:
            tc = torch.tensor(c)
            p.apply("u*C", lambda u: u * cg.Graph.const(p.g, c), lambda u: u * tc.to(u.dtype), i)
    elif kind == "matmul":
        _matmul(draw, p, i)
    elif kind == "reduce":
        op = draw(st.sampled_from(["sum", "mean"]))
        axis, keep = _axis_keep(draw, s)
        p.apply(f"{op}(axis={axis}, keepdims={keep})", lambda u: getattr(cg, op)(u, axis=axis, keepdims=keep),
                lambda u: _t_reduce(getattr(torch, op), u, axis, keep), i)
    elif kind == "reshape":
        size = int(np.prod(s))
        options = [(size,), (1, size), (size, 1), (-1,)] + ([(s[0], -1)] if s else [()] if size == 1 else [])
        shape = draw(st.sampled_from(options))
        p.apply(f"reshape{shape}", lambda u: cg.reshape(u, shape=shape), lambda u: torch.reshape(u, shape), i)
    elif kind == "transpose":
        if len(s) < 2:
            return
        axes = draw(st.sampled_from([None] + [tuple(q) for q in
                                              np.random.default_rng(0).permuted(np.tile(np.arange(len(s)), (4, 1)),
                                                                                axis=1).tolist()]))
        p.apply(f"transpose({axes})", lambda u: cg.transpose(u, axes=axes),
                lambda u: u.permute(*(axes if axes is not None else range(len(s) - 1, -1, -1))), i)
    elif kind == "slice":
        if not s:
            return
        axis = draw(st.integers(-len(s), len(s) - 1))
        start = draw(st.sampled_from([None, 0, 1, -1, -2]))
        stop = draw(st.sampled_from([None, 2, -1, 5]))
        step = draw(st.sampled_from([None, 1, 2, -1, -2]))
        if not len(range(*slice(start, stop, step).indices(s[axis]))):
            return
        p.apply(f"slice({start}:{stop}:{step}, axis={axis})",
                lambda u: cg.slice(u, start=start, stop=stop, step=step, axis=axis),
                lambda u: _torch_slice(u, start, stop, step, axis), i)
    elif kind == "softmax":
        if not s:
            return
        axis = draw(st.integers(-len(s), len(s) - 1))
        op = draw(st.sampled_from(["softmax", "log_softmax"]))
        p.apply(f"{op}(axis={axis})", lambda u: getattr(cg, op)(u, axis=axis),
                lambda u: getattr(torch, op)(u, dim=axis), i)
    elif kind == "logsumexp":
        axis, keep = _axis_keep(draw, s)
        p.apply(f"logsumexp(axis={axis}, keepdims={keep})", lambda u: cg.logsumexp(u, axis=axis, keepdims=keep),
                lambda u: _t_reduce(torch.logsumexp, u, axis, keep), i)
    elif kind == "loss":
        _loss(draw, p, i)


def _axis_keep(draw, s):
    axes = [None] + list(range(-len(s), len(s))) + ([(0, len(s) - 1)] if len(s) >= 2 else [])
    return draw(st.sampled_from(axes)), draw(st.booleans())


def _t_reduce(fn, u, axis, keep):
    dims = tuple(range(u.dim())) if axis is None else axis
    if u.dim() == 0:
        return fn(u, dim=(), keepdim=keep) if fn is not torch.logsumexp else u
    return fn(u, dim=dims, keepdim=keep)


def _pick_broadcast(draw, p, s):
    """An earlier node whose shape broadcasts with ``s``, or a new input of a shape that does."""
    fits = [j for j in range(len(p.cg)) if _broadcastable(p.shape(j), s)]
    if fits and draw(st.booleans()):
        return draw(st.sampled_from(fits))
    shape = draw(st.sampled_from([(), s, s[-1:], (1,) + tuple(s), tuple(1 if d % 2 else d for d in s)]))
    return p.input(tuple(shape))


def _matmul(draw, p, i):
    s = p.shape(i)
    if not s:
        return
    k = s[-1]
    side = draw(st.sampled_from(["vec", "mat", "left", "node", "batch"]))
    if side == "vec":  # (..., k) @ (k,)
        j = p.input((k,))
        p.apply("u@v", lambda u, v: u @ v, torch.matmul, i, j)
    elif side == "mat":  # (..., k) @ (k, m)
        j = p.input((k, draw(st.integers(1, 3))))
        p.apply("u@W", lambda u, v: u @ v, torch.matmul, i, j)
    elif side == "left":  # (m, r) @ (..., r, c) or (r,) @ ...
        r = s[0] if len(s) == 1 else s[-2]
        j = p.input(draw(st.sampled_from([(r,), (2, r)])))
        p.apply("W@u", lambda u, v: v @ u, lambda u, v: v @ u, i, j)
    elif side == "batch":  # (..., n, k) @ (b, k, m): batch dims broadcast, and reduce in the adjoint
        if len(s) >= 2:
            j = p.input((draw(st.sampled_from([1, s[-3] if len(s) >= 3 else 2])), k, draw(st.integers(1, 3))))
            p.apply("u@B", lambda u, v: u @ v, torch.matmul, i, j)
    else:
        fits = [j for j in range(len(p.cg)) if p.shape(j) and len(p.shape(j)) <= 2
                and (p.shape(j)[0] if len(p.shape(j)) == 1 else p.shape(j)[-2]) == k and len(s) <= 2]
        if fits:
            p.apply("u@v", lambda u, v: u @ v, torch.matmul, i, draw(st.sampled_from(fits)))


def _loss(draw, p, i):
    s = p.shape(i)
    name = draw(st.sampled_from(["mse", "bce", "cross_entropy"]))
    if name == "mse":
        j = p.input(s)
        p.apply("mse", lambda a, y: cg.nn.mse(a, y, name=None), lambda a, y: F.mse_loss(a, y), i, j)
    elif name == "bce":
        j = p.input(s, lo=0.0, hi=1.0, away=0)
        p.apply("bce", lambda a, y: cg.nn.bce(a, y, name=None),
                lambda a, y: F.binary_cross_entropy_with_logits(a, y), i, j)
    elif 1 <= len(s) <= 2:
        j = p.input(s, lo=0.0, hi=1.0, away=0)
        p.apply("cross_entropy", lambda a, y: cg.nn.cross_entropy(a, y, name=None),
                lambda a, y: F.cross_entropy(a, y), i, j)


@st.composite
def programs(draw, max_steps: int = STEPS, shapes=tuple(SHAPES), guarded: bool = True):
    # wide inputs (+-1000) for the stable ops: sigmoid, softplus, softmax, logsumexp, losses
    p = Program(draw, declare=draw(st.sampled_from([True, True, False])),
                scale=draw(st.sampled_from([2.0, 2.0, 2.0, 30.0, 1000.0])), guarded=guarded)
    for _ in range(draw(st.integers(1, 2))):
        p.input(draw(st.sampled_from(shapes)))
    for _ in range(draw(st.integers(1, max_steps))):
        _step(draw, p)
    # the scalar output: a weighted sum of the last few nodes (weights break symmetries)
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    terms = []
    for i in range(max(0, len(p.cg) - draw(st.integers(1, 3))), len(p.cg)):
        w = rng.uniform(0.5, 1.5, size=p.shape(i))
        tw = torch.tensor(w)
        terms.append(p.apply("sum(u*W)", lambda u: cg.sum(u * p.g.const(w)),
                             lambda u, tw=tw: torch.sum(u * tw.to(u.dtype)), i))
    y = p.apply("add", cg.add, lambda *ts: sum(ts[1:], ts[0]), *terms) if len(terms) > 1 else terms[-1]
    p.g.output(p.cg[y], name="y")
    p.out = y
    return p


# ---------------------------------------------------------------------------------------
# comparisons


def _close(key, a, b, rtol, p, scale=1.0):
    """Assert ``max|a - b| <= rtol * max(scale, max|b|)``; ``scale``: the largest adjoint of
    any node (rounding noise in a gradient grows with the terms that cancel in it: the
    gradient of ``x/x`` is ``g/x - g*x/x^2``, rounding noise of the size of ``g/x``)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b.detach().numpy(force=True) if torch.is_tensor(b) else b, dtype=np.float64)
    where = " | ".join(p.steps)
    assert a.shape == b.shape, f"{key}: shape {a.shape} != torch {b.shape}\n{where}"
    assert np.isfinite(a).all(), f"{key}: cgraph gave {a} (torch {b}) without an error\n{where}"
    if not np.isfinite(b).all():  # torch's double backward of logaddexp at -1000 is nan
        TORCH_NONFINITE.append(f"{key}: cgraph {a} torch {b} | {where}")
        keep = np.isfinite(b)
        a, b = a[keep], b[keep]
    diff = float(np.max(np.abs(a - b), initial=0.0))
    top = float(np.max(np.abs(b), initial=0.0))
    for name, err in ((key + " (strict)", diff / max(1.0, top)), (key, diff / max(scale, 1.0, top))):
        if err > WORST.get(name, (-1.0, ""))[0]:
            WORST[name] = (err, where)
    err = diff / max(scale, 1.0, top)
    assert err <= rtol, f"{key}: relative error {err:.3e}\ncgraph {a}\ntorch  {b}\n{where}"


def _torch_grads(p, dtype, second=None):
    """torch's value (or ``s``) and gradients, and the largest adjoint of any node."""
    leaves = [torch.tensor(p.feeds[n], dtype=dtype, requires_grad=True) for n in p.names]
    out = p.run_torch(leaves)
    y = out[p.out]
    zeros = [torch.zeros_like(leaf) for leaf in leaves]
    if not y.requires_grad:  # a step in every path: no grad_fn
        return (y if second is None else torch.zeros((), dtype=dtype)), zeros, 1.0
    nodes = [o for o in out if o.requires_grad and all(o is not leaf for leaf in leaves)]
    grads = torch.autograd.grad(y, leaves + nodes, allow_unused=True, create_graph=second is not None)
    scale = max([1.0] + [float(gr.detach().abs().max()) for gr in grads if gr is not None and gr.numel()])
    grads = [z if gr is None else gr for z, gr in zip(zeros, grads[:len(leaves)])]
    if second is None:
        return y, grads, scale
    w, v = second
    s = torch.sum(grads[w] * torch.tensor(v, dtype=dtype))
    if not s.requires_grad:
        return s, zeros, scale
    hv = torch.autograd.grad(s, leaves + nodes, allow_unused=True)
    scale = max([scale] + [float(gr.abs().max()) for gr in hv if gr is not None and gr.numel()])
    return s, [z if gr is None else gr for z, gr in zip(zeros, hv[:len(leaves)])], scale


def _count(test, p):
    RUNS[test] += 1
    OPS_SEEN.update(d["op"] for _, d in p.g.nx.nodes(data=True) if d["role"] == "op")


def _fit(value, shape):
    """An adjoint's value over undeclared shapes is pointwise: sum it to its input's shape."""
    value = np.asarray(value)
    if value.shape == tuple(shape):
        return value
    lead = max(0, value.ndim - len(shape))
    axes = tuple(range(lead)) + tuple(lead + k for k, d in enumerate(shape[len(shape) - value.ndim + lead:])
                                      if d == 1 and value.shape[lead + k] != 1)
    value = value.sum(axis=axes) if axes else value
    return np.broadcast_to(value.reshape(value.shape[-len(shape):] if shape else ()), shape)


@SETTINGS
@given(programs())
def test_values_and_gradients_float64_match_torch(p):
    y, tg, scale = _torch_grads(p, torch.float64)
    feeds = p.feeds
    _close("evaluate", cg.evaluate(p.g, **feeds)["y"], y, RTOL64, p)
    first = cg.grad(p.g, **feeds)
    second = cg.grad(p.g, **feeds)
    f = cg.compile(p.g, wrt=p.names)
    compiled = f(**feeds)
    _close("compile value", compiled["y"], y, RTOL64, p)
    ga = cg.adjoint(p.g)
    adj = cg.evaluate(ga, **feeds)
    simple = cg.simplify(ga)
    simp = cg.evaluate(simple, **{n: v for n, v in feeds.items() if n in simple.inputs})
    for n, t in zip(p.names, tg):
        _close("grad first call", first[n], t, RTOL64, p, scale)
        _close("grad second call", second[n], t, RTOL64, p, scale)
        assert np.array_equal(first[n], second[n]), f"grad: first and second call differ for {n}"
        _close("compile grad", compiled[f"g_{n}"], t, RTOL64, p, scale)
        out = ga.outputs[p.names.index(n)]
        _close("adjoint+evaluate", _fit(adj[out], p.feeds[n].shape), t, RTOL64, p, scale)
        sout = simple.outputs[p.names.index(n)]
        _close("simplify(adjoint)", _fit(simp[sout], p.feeds[n].shape), t, RTOL64, p, scale)
    # a subset of the inputs (each call of its own: the first is eager, the next cached)
    for n, t in list(zip(p.names, tg))[::-1][:2]:
        for call in ("first", "second"):
            _close(f"grad wrt=[one] {call} call", cg.grad(p.g, wrt=[n], **feeds)[n], t, RTOL64, p, scale)
        _close("compile wrt=[one]", cg.compile(p.g, wrt=[n])(**feeds)[f"g_{n}"], t, RTOL64, p, scale)
    # the same function read back from text and JSON, and the adjoint multiplied out
    text = cg.parse(cg.to_text(p.g))  # (an input the output does not use is not in the text)
    _close("parse(to_text(g))", cg.evaluate(text, **{n: feeds[n] for n in text.inputs})["y"], y, RTOL64, p)
    back = cg.loads(cg.dumps(ga))
    expanded = cg.expand(ga)
    expd = cg.evaluate(expanded, **{n: v for n, v in feeds.items() if n in expanded.inputs})
    # (a multiplied-out derivative cancels its terms: 1 - tanh(u)^2 times a term of 1e13
    # is two terms of 1e13, whose difference keeps 3 digits; so only on moderate inputs)
    for n, t in zip(p.names, tg):
        _close("loads(dumps(adjoint))", _fit(cg.evaluate(back, **feeds)[back.outputs[p.names.index(n)]],
                                             p.feeds[n].shape), t, RTOL64, p, scale)
        if p.scale <= 2:
            _close("expand(adjoint)", _fit(expd[expanded.outputs[p.names.index(n)]], p.feeds[n].shape), t, 1e-9,
                   p, scale)
    _count("float64", p)


@SETTINGS
@given(programs(max_steps=max(1, STEPS - 2)), st.integers(0, 2**32 - 1))
def test_second_derivatives_float64_match_torch(p, seed):
    w = seed % len(p.names)
    v = np.random.default_rng(seed).uniform(0.5, 1.5, size=p.feeds[p.names[w]].shape)
    s, th, scale = _torch_grads(p, torch.float64, second=(w, v))
    ga = cg.adjoint(p.g, wrt=[p.names[w]])
    gw = ga.node(ga.outputs[0])
    ga.output(cg.sum(gw * ga.const(v)), name="s")
    got = cg.grad(ga, of="s", wrt=p.names, **p.feeds)
    again = cg.grad(ga, of="s", wrt=p.names, **p.feeds)
    compiled = cg.compile(ga, wrt=p.names, of="s")(**p.feeds)
    ga2 = cg.adjoint(ga, wrt=p.names, of="s")
    simple = cg.simplify(ga2)
    simp = cg.evaluate(simple, **{n: v for n, v in p.feeds.items() if n in simple.inputs})
    _close("hvp value", cg.evaluate(ga, **p.feeds)["s"], s, RTOL64, p, scale)
    for k, (n, t) in enumerate(zip(p.names, th)):
        _close("hvp grad first call", got[n], t, 1e-9, p, scale)
        _close("hvp grad second call", again[n], t, 1e-9, p, scale)
        _close("hvp compile", compiled[ga2.outputs[k]], t, 1e-9, p, scale)
        _close("hvp simplify(adjoint(adjoint))", _fit(simp[simple.outputs[k]], p.feeds[n].shape), t, 1e-9, p, scale)
    _count("second order", p)


@SETTINGS
@given(programs(max_steps=max(1, STEPS - 1)))
def test_float32_matches_torch(p):
    feeds = {n: v.astype(np.float32) for n, v in p.feeds.items()}
    y, tg, scale = _torch_grads(p, torch.float32)
    steps = p.run_torch([torch.tensor(v, dtype=torch.float32) for v in p.feeds.values()])
    if not all(bool(torch.isfinite(t).all()) for t in (*steps, *tg)):
        reject()  # float32 overflow where float64 is finite: a DomainError in cgraph, tested elsewhere
    val = cg.evaluate(p.g, **feeds)["y"]
    assert np.asarray(val).dtype == np.float32 or np.ndim(val) == 0
    _close("float32 evaluate", val, y, RTOL32, p)
    got = cg.grad(p.g, **feeds)
    compiled = cg.compile(p.g, wrt=p.names)(**feeds)
    for n, t in zip(p.names, tg):
        assert got[n].dtype == np.float32, f"grad of float32 {n} is {got[n].dtype}"
        _close("float32 grad", got[n], t, RTOL32, p, scale)
        _close("float32 compile grad", compiled[f"g_{n}"], t, RTOL32, p, scale)
    _count("float32", p)


@SETTINGS
@given(programs(shapes=((),)))
def test_python_float_scalars_match_torch(p):
    """Python floats take compile's ``math`` path (and grad's scalar path)."""
    feeds = {n: float(v) if v.ndim == 0 else v for n, v in p.feeds.items()}
    y, tg, scale = _torch_grads(p, torch.float64)
    f = cg.compile(p.g, wrt=p.names)
    compiled = f(**feeds)
    positional = f.positional(*(feeds[n] for n in f.inputs))
    _close("float compile value", compiled["y"], y, RTOL64, p)
    _close("float evaluate", cg.evaluate(p.g, **feeds)["y"], y, RTOL64, p)
    first, second = cg.grad(p.g, **feeds), cg.grad(p.g, **feeds)
    for n, t in zip(p.names, tg):
        _close("float compile grad", compiled[f"g_{n}"], t, RTOL64, p, scale)
        _close("float positional grad", positional[f.outputs.index(f"g_{n}")], t, RTOL64, p, scale)
        _close("float grad first call", first[n], t, RTOL64, p, scale)
        _close("float grad second call", second[n], t, RTOL64, p, scale)
    _count("python floats", p)


# ---------------------------------------------------------------------------------------
# errors: where torch's value or gradient leaves the finite numbers, every cgraph path
# raises a typed error naming the node; with nonfinite="propagate" it gives torch's IEEE
# values (but for the conventions docs/errors.md lists)

_NAN = float("nan")
DOMAIN = [  # (formula, torch function, inputs, the node named, its op)
    ("y = sum(log(x))", lambda x: torch.log(x).sum(), {"x": [1.0, -1.0]}, "t1", "log"),
    ("y = sum(log(x))", lambda x: torch.log(x).sum(), {"x": [1.0, 0.0]}, "t1", "log"),
    ("y = sum(sqrt(x))", lambda x: torch.sqrt(x).sum(), {"x": [1.0, -1.0]}, "t1", "sqrt"),
    ("y = sum(sqrt(x))", lambda x: torch.sqrt(x).sum(), {"x": [1.0, 0.0]}, "g_x", "div"),  # sqrt'(0) = inf
    ("y = sum(x^-1)", lambda x: (x**-1).sum(), {"x": [1.0, 0.0]}, "t2", "pow"),
    ("y = sum(x^0.5)", lambda x: (x**0.5).sum(), {"x": [1.0, -8.0]}, "t2", "pow"),
    ("y = sum(x/z)", lambda x, z: (x / z).sum(), {"x": [1.0, 1.0], "z": [2.0, 0.0]}, "t1", "div"),
    ("y = sum(exp(x))", lambda x: torch.exp(x).sum(), {"x": [1.0, 1000.0]}, "t1", "exp"),
    ("y = sum(x*x)", lambda x: (x * x).sum(), {"x": [1.0, 1e200]}, "t1", "mul"),
    ("y = sum(exp(x) - exp(x))", lambda x: (torch.exp(x) - torch.exp(x)).sum(), {"x": [800.0]}, "t1", "exp"),
    ("y = mean(x)", lambda x: x.mean(), {"x": np.ones(0)}, "y", "mean"),
    ("y = sum(log(x)*0)", lambda x: (torch.log(x) * 0).sum(), {"x": [-1.0]}, "t1", "log"),
]


def _paths(g, feeds, nonfinite="raise"):
    yield "evaluate", lambda: cg.evaluate(g, feeds, nonfinite=nonfinite)["y"]
    yield "grad first call", lambda: cg.grad(g, feeds=feeds, nonfinite=nonfinite)
    yield "grad second call", lambda: cg.grad(g, feeds=feeds, nonfinite=nonfinite)
    if nonfinite == "raise":
        yield "compile", lambda: cg.compile(g, wrt=g.inputs)(**feeds)
        yield "compile positional", lambda: cg.compile(g, wrt=g.inputs).positional(*feeds.values())
        yield "check_gradients", lambda: cg.check_gradients(g, feeds=feeds)
    ga = cg.adjoint(g)
    yield "adjoint+evaluate", lambda: cg.evaluate(ga, feeds, nonfinite=nonfinite)


@pytest.mark.parametrize("formula, fn, inputs, node, op", DOMAIN, ids=[f"{d[0]} at {d[2]}" for d in DOMAIN])
def test_nonfinite_values_are_domain_errors_naming_the_node(formula, fn, inputs, node, op):
    feeds = {k: np.asarray(v, dtype=np.float64) for k, v in inputs.items()}
    leaves = {k: torch.tensor(v, requires_grad=True) for k, v in feeds.items()}
    y = fn(*leaves.values())
    grads = torch.autograd.grad(y, list(leaves.values()), allow_unused=True)
    assert not all(bool(torch.isfinite(t).all()) for t in (y, *grads) if t is not None)  # torch leaves the reals
    g = cg.parse(formula)
    for path, call in _paths(g, feeds):
        if path == "evaluate" and node.startswith("g_"):  # only the derivative is undefined
            continue
        with pytest.raises(cg.DomainError) as info:
            call()
        message = str(info.value)
        # (compile names a node of the simplified graph: exp(x) is also g_x, d/dx sum(exp(x)))
        assert f"'{node}' ({op})" in message or path in ("compile", "compile positional"), f"{path}: {message}"
        assert "is not finite" in message, f"{path}: {message}"
    # propagate: torch's IEEE values, NaN where torch has NaN
    value = cg.evaluate(g, feeds, nonfinite="propagate")["y"]
    np.testing.assert_array_equal(value, y.detach().numpy())
    for path, call in _paths(g, feeds, nonfinite="propagate"):
        if path.startswith("grad"):
            got = call()
            for k, t in zip(leaves, grads):
                want = np.zeros_like(feeds[k]) if t is None else t.numpy()
                np.testing.assert_allclose(got[k], want, rtol=1e-15, err_msg=f"{path} {k}")


BAD_INPUTS = [  # (formula, inputs, error class, what the message says)
    ("y = sum(sin(x))", {"x": [1.0, _NAN]}, cg.InputError, "input 'x' is not finite (nan at index (1,))"),
    ("y = sum(sin(x))", {"x": [1.0, float("inf")]}, cg.InputError, "input 'x' is not finite (inf at index (1,))"),
    ("y = sum(x + z)", {"x": np.ones((2, 3)), "z": np.ones(4)}, cg.ShapeError, "node 't1' (add)"),
    ("y = sum(x @ z)", {"x": np.ones((2, 3)), "z": np.ones((4, 2))}, cg.ShapeError, "node 't1' (matmul)"),
    ("y = sum(x @ z)", {"x": 2.0, "z": np.ones(2)}, cg.ShapeError, "node 't1' (matmul)"),
    ("y = sum(softmax(x, axis=2))", {"x": np.ones((2, 3))}, cg.ShapeError, "node 't1' (softmax)"),
    ("y = sum(reshape(x, shape=(4,)))", {"x": np.ones((2, 3))}, cg.ShapeError, "node 't1' (reshape)"),
    ("y = logsumexp(x)", {"x": np.ones(0)}, cg.ShapeError, "node 'y' (logsumexp)"),
    ("y = sum(x)", {"x": [[1.0], [1.0, 2.0]]}, cg.InputError, "input 'x': cannot convert list"),
    ("y = sum(x)", {"x": np.array([1 + 1j])}, cg.InputError, "input 'x': expected real numbers"),
]


@pytest.mark.parametrize("formula, inputs, error, text", BAD_INPUTS, ids=[f"{b[0]} at {b[3]}" for b in BAD_INPUTS])
def test_bad_inputs_are_typed_errors_on_every_path(formula, inputs, error, text):
    g = cg.parse(formula)
    for path, call in _paths(g, inputs):
        with pytest.raises(error) as info:
            call()
        assert text in str(info.value), f"{path}: {info.value}"


# ---------------------------------------------------------------------------------------
# cg.nn: the training gradient (simplified adjoint, L2 in the graph, dropout mask fed)
# against the same network written in torch


@SETTINGS
@given(st.sampled_from(["sigmoid", "tanh", "relu"]), st.sampled_from(["mse", "bce", "cross_entropy"]),
       st.lists(st.integers(1, 4), min_size=1, max_size=3), st.sampled_from([0.0, 0.1]), st.booleans(),
       st.integers(0, 2**32 - 1))
def test_mlp_training_gradient_matches_torch(activation, loss, hidden, l2, dropout, seed):
    rng = np.random.default_rng(seed)
    sizes = [3, *hidden, 2 if loss == "cross_entropy" else 1]
    net = cg.nn.MLP(sizes, activation=activation, loss=loss, seed=seed)
    n = 5
    X = rng.normal(size=(n, sizes[0]))
    if loss == "cross_entropy":
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], n)]
    else:
        Y = rng.uniform(0, 1, size=(n, 1)) if loss == "bce" else rng.normal(size=(n, 1))
    masks = {f"M{k}": rng.integers(0, 2, size=sizes[k]).astype(float) / 0.5 for k in range(1, len(sizes) - 1)}
    feeds = {"X": X, "Y": Y, **(masks if dropout else {})}
    gg = net.gradient_graph(l2=l2, dropout=dropout)
    got = cg.evaluate(gg, **feeds)
    params = {k: torch.tensor(v, requires_grad=True) for k, v in net.params.items()}
    h = torch.tensor(X)
    for k in range(1, len(sizes)):
        a = h @ params[f"W{k}"] + params[f"b{k}"]
        if k < len(sizes) - 1:
            h = getattr(torch, activation)(a)
            if dropout:
                h = h * torch.tensor(masks[f"M{k}"])
    t = torch.tensor(Y)
    value = {"mse": lambda: F.mse_loss(a, t), "bce": lambda: F.binary_cross_entropy_with_logits(a, t),
             "cross_entropy": lambda: F.cross_entropy(a, t)}[loss]()
    if l2:
        value = value + l2 * sum(torch.sum(p**2) for p in params.values())
    grads = torch.autograd.grad(value, list(params.values()))

    class P:  # what _close prints
        steps = [f"MLP{sizes} {activation} {loss} l2={l2} dropout={dropout}"]

    _close("mlp loss", got[gg.outputs[0]], value, RTOL64, P)
    for (name, _), t_grad in zip(params.items(), grads):
        _close("mlp gradient", got[f"g_{name}"], t_grad, RTOL64, P)


@pytest.mark.parametrize("ours, theirs", [
    (lambda: cg.nn.SGD(lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    (lambda: cg.nn.Momentum(lr=0.1, beta=0.9, heavy_ball=True), lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    (lambda: cg.nn.RMSProp(lr=0.01, beta=0.9, eps=1e-8), lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8)),
    (lambda: cg.nn.Adam(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8), lambda p: torch.optim.Adam(p, lr=0.01)),
], ids=["SGD", "Momentum(heavy_ball)", "RMSProp", "Adam"])
def test_optimizer_steps_match_torch_optim(ours, theirs):
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(3, 2))
    params, opt = {"w": w0.copy()}, ours()
    t = torch.tensor(w0.copy(), requires_grad=True)
    topt = theirs([t])
    for _ in range(8):
        g = rng.normal(size=(3, 2))
        opt.step(params, {"w": g})
        t.grad = torch.tensor(g)
        topt.step()
    np.testing.assert_allclose(params["w"], t.detach().numpy(), rtol=1e-14, atol=1e-15)


def _outcome(call):
    try:
        return "ok", call()
    except cg.CGraphError as exc:
        return type(exc).__name__, str(exc)


@SETTINGS
@given(programs(guarded=False))
def test_every_path_raises_where_the_function_is_undefined(p):
    """Unguarded domains (log and sqrt of anything, exact zeros, overflow): where evaluate
    raises, so do grad (both calls), compile (with and without wrt) and the adjoint graph;
    where evaluate answers, the gradient paths agree with each other (compile may answer
    where grad's unsimplified adjoint meets 0*inf: docs/errors.md)."""
    from cgraph.passes.adjoint import ancestors

    up = ancestors(p.g, ["y"])
    if any(d["role"] == "op" and n not in up for n, d in p.g.nx.nodes(data=True)):
        reject()  # evaluate computes every node, grad only what the output needs
    if any(bool(((v.abs() > 1e100) & torch.isfinite(v)).any()) for v in p.val):
        # past 1e154, simplify's c*u^-2 -> c/u^2 overflows where u^-2 underflowed to a
        # finite value, so compile raises where evaluate answers (known, left to simplify)
        reject()
    feeds, where = p.feeds, " | ".join(p.steps)
    paths = {
        "evaluate": lambda: cg.evaluate(p.g, **feeds)["y"],
        "grad first call": lambda: cg.grad(p.g, **feeds),
        "grad second call": lambda: cg.grad(p.g, **feeds),
        "compile": lambda: cg.compile(p.g, wrt=p.names)(**feeds),
        "compile without wrt": lambda: cg.compile(p.g)(**feeds)["y"],
        "adjoint+evaluate": lambda: cg.evaluate(cg.adjoint(p.g), **feeds),
    }
    got = {k: _outcome(call) for k, call in paths.items()}
    if got["evaluate"][0] != "ok":
        for k, (kind, message) in got.items():
            assert kind != "ok", f"{k} answered where evaluate raised {got['evaluate'][1]}\n{where}"
        return
    assert got["compile without wrt"][0] == "ok", f"{got['compile without wrt']}\n{where}"
    grads = {got[k][0] for k in ("grad first call", "grad second call", "adjoint+evaluate")}
    assert len(grads) == 1, f"{ {k: v[0] for k, v in got.items()} }\n{where}"
    if grads == {"ok"}:
        assert got["compile"][0] == "ok", f"compile raised {got['compile'][1]} where grad answered\n{where}"
        for n in p.names:
            first, second = got["grad first call"][1][n], got["grad second call"][1][n]
            assert np.array_equal(first, second), f"{n}: grad's first and second call differ\n{where}"
