"""cgraph/passes/eager.py: the first grad, evaluated during the sweep (the bitwise
comparisons with the graph path are in test_grad.py)."""

from __future__ import annotations

import numpy as np

import cgraph as cg
from cgraph.passes.adjoint import _between
from cgraph.passes.eager import eager_grad


def test_the_sweep_keeps_no_array_alive_that_nothing_reads_any_more():
    # as the plan frees a buffer after its last use: what is left at the end are the
    # sources, the constants, the nodes that do not lead to wrt, and what grad reads
    net = cg.nn.MLP([4, 8, 8, 3], activation="tanh", loss="cross_entropy", seed=0)
    g = net.build(l2=0.01)
    rng = np.random.default_rng(0)
    feeds = {"X": rng.normal(size=(16, 4)), "Y": np.eye(3)[rng.integers(0, 3, 16)]}
    wrt = list(net.params)
    values, outputs, names, _ = eager_grad(g, wrt, None, feeds, "raise")
    active = _between(g, wrt, "loss")
    left = {n for n, v in values.items() if isinstance(v, np.ndarray)}
    forward = {n for n in left if n in g.nx and g.nx.nodes[n]["role"] == "op"}
    assert forward & active <= {"loss"}  # the forward values of the sweep's nodes are gone
    assert left - set(g.nx) == set(outputs)  # of the adjoint nodes, only the gradients
    assert names == wrt


def test_a_value_that_no_gradient_needs_may_fail():
    # the rule of u**2 computes log(u) for the exponent 2, a constant: the graph path
    # prunes it, so at u < 0 the eager sweep must not give up on it
    g = cg.parse("x**2 + z")
    found = eager_grad(g, None, None, {"x": -3.0, "z": 1.0}, "raise")
    assert found is not None and float(found[0][found[1][0]]) == -6.0


def test_the_forward_walk_finds_the_active_nodes_and_pointwise_as_adjoint_does():
    # _Values.forward finds adjoint's _between and _pointwise on its way (no walks of
    # their own): the same sets and flags for wrt subsets, op nodes as wrt, another `of`,
    # declared shapes and reductions
    from cgraph.passes.adjoint import _pointwise, ancestors
    from cgraph.passes.eager import _Values

    g = cg.Graph("mixed")
    x, z, u = g.input("x", shape=(3,)), g.input("z"), g.input("u")
    a = (z * u).named("a")
    b = cg.sin(a, name="b")
    s = cg.sum(x * b, name="s")
    g.output(s + cg.tanh(b) * u, name="y")
    feeds = {"x": np.ones(3), "z": 0.5, "u": 2.0}
    cases = [(["x"], "y"), (["z"], "y"), (["u", "z"], "y"), (["a"], "y"), (["b", "x"], "s"),
             (["z"], "b"), (["x"], "b"), (["a", "u"], "a")]
    for wrt, of in cases:
        up = ancestors(g, [of])
        needed = up if up.issuperset(wrt) else ancestors(g, [of, *wrt])
        active, pointwise = _Values(g, "raise").forward(feeds, needed, up, wrt)
        assert active == _between(g, wrt, of, up), (wrt, of)
        assert pointwise == _pointwise(g, active), (wrt, of)


def test_numpy_scalar_operators_give_the_ufuncs_bits_type_and_traps():
    # the eager sweep computes a binary add/sub/mul/div of np.float64 scalars (or one and a
    # Python float) with numpy's scalar operator instead of the ufunc the plan calls
    from cgraph.passes.eager import _SCALAR_OPS, _TRAPS

    rng = np.random.default_rng(0)
    values = [0.0, -0.0, 1.0, -1.5, 1e308, -1e308, 5e-324, 1e-310, np.inf, -np.inf, np.nan, -np.nan, 1 / 3]
    values += list(rng.standard_normal(12) * 10.0 ** rng.integers(-300, 300, 12))

    def outcome(fn, x, y, traps):
        try:
            with np.errstate(**traps):
                out = fn(x, y)
        except FloatingPointError:
            return "trap"
        if np.isnan(x) and np.isnan(y):
            # of two NaNs, which sign the result keeps is unspecified (IEEE 754) and differs:
            # the ufunc keeps the first operand's, numpy's scalar + and * the second's
            return type(out), bool(np.isnan(out))
        return type(out), np.float64(out).tobytes()

    for traps in (_TRAPS, {"all": "ignore"}):
        for ufunc, op in _SCALAR_OPS.items():
            for a in values:
                for b in values:
                    for x, y in ((np.float64(a), np.float64(b)), (a, np.float64(b)), (np.float64(a), b)):
                        assert outcome(op, x, y, traps) == outcome(ufunc, x, y, traps), (ufunc, x, y)
