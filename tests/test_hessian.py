"""cg.hessian_graph (the Hessian as a graph of second derivatives) and cg.hessian (it,
evaluated to an (n, n) array): against SymPy, central differences of cg.grad, the
hand-made adjoint of an adjoint, and their errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from graphs import sin_chain
from hypothesis import HealthCheck, assume, example, given, note, settings
from hypothesis import strategies as st
from strategies import array_expressions, array_points, describe, examples, expressions, finite_values, points
from test_properties import to_sympy

import cgraph as cg

LECTURE = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
SETTINGS = settings(max_examples=examples(25), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def lecture_sympy():
    x, z = sp.symbols("x z", positive=True)
    return sp.exp(x * z) + x * z / sp.log(x) + sp.sin(sp.log(x)) / (x * z), (x, z)


def central_hessian(g, point, wrt, eps=1e-5):
    """Column j: the central difference of cg.grad along wrt[j]."""
    n = len(wrt)
    out = np.empty((n, n))
    for j, w in enumerate(wrt):
        up = cg.grad(g, wrt=wrt, **{**point, w: point[w] + eps})
        down = cg.grad(g, wrt=wrt, **{**point, w: point[w] - eps})
        for i, v in enumerate(wrt):
            out[i, j] = (float(up[v]) - float(down[v])) / (2 * eps)
    return out


# ------------------------------------------------------------------------------ values
def test_lecture_hessian_matches_sympy():
    y, (x, z) = lecture_sympy()
    want = np.array(sp.hessian(y, (x, z)).subs({x: 2, z: 3}).evalf(30), dtype=float)
    got = cg.hessian(cg.parse(LECTURE), x=2.0, z=3.0)
    assert got.shape == (2, 2) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)


def test_lecture_hessian_is_symmetric_and_matches_differences_of_grad():
    g = cg.parse(LECTURE)
    h = cg.hessian(g, x=2.0, z=3.0)
    np.testing.assert_allclose(h, h.T, rtol=1e-13)
    np.testing.assert_allclose(h, central_hessian(g, {"x": 2.0, "z": 3.0}, ["x", "z"]), rtol=1e-7)


def test_rows_and_columns_follow_wrt():
    g = cg.parse("y = x^3*z + z^2")  # [[6xz, 3x^2], [3x^2, 2]]
    assert cg.hessian(g, x=2.0, z=5.0).tolist() == [[60.0, 12.0], [12.0, 2.0]]
    assert cg.hessian(g, wrt=["z", "x"], x=2.0, z=5.0).tolist() == [[2.0, 12.0], [12.0, 60.0]]
    assert cg.hessian(g, wrt="x", x=2.0, z=5.0).tolist() == [[60.0]]
    assert cg.hessian(g, wrt=[g.node("z")], feeds={g.node("x"): 2.0, "z": 5.0}).tolist() == [[2.0]]
    assert cg.hessian(g, wrt=[], x=2.0, z=5.0).shape == (0, 0)


def test_an_input_the_output_does_not_use_has_a_zero_row_and_column():
    g = cg.Graph()
    x = g.input("x")
    g.input("u")
    g.output(cg.sin(x), name="y")
    h = cg.hessian(g, x=0.5, u=7.0)
    np.testing.assert_array_equal(h, [[-np.sin(0.5), 0.0], [0.0, 0.0]])
    assert cg.to_text(cg.simplify(cg.hessian_graph(g))).splitlines()[1:] == ["g2_u = 0", "g3_x = 0", "g3_u = 0"]


def test_params_are_differentiated_with_their_own_value():
    g = cg.Graph("p")
    w = g.param("w", value=2.0)
    x = g.input("x")
    g.output(w * w * x + cg.sin(x * w), name="L")
    # d2/dw2 = 2x - x^2 sin(xw); d2/dwdx = 2w + cos(xw) - xw sin(xw); d2/dx2 = -w^2 sin(xw)
    def want(w, x):
        return np.array([[2 * x - x * x * np.sin(x * w), 2 * w + np.cos(x * w) - x * w * np.sin(x * w)],
                         [2 * w + np.cos(x * w) - x * w * np.sin(x * w), -w * w * np.sin(x * w)]])
    np.testing.assert_allclose(cg.hessian(g, x=3.0), want(2.0, 3.0), rtol=1e-13)
    w.attrs["value"] = 0.5  # the cached graph reads the param's value where it is set
    np.testing.assert_allclose(cg.hessian(g, x=3.0), want(0.5, 3.0), rtol=1e-13)
    np.testing.assert_allclose(cg.hessian(g, w=1.5, x=3.0), want(1.5, 3.0), rtol=1e-13)  # or fed


def test_the_dtype_is_that_of_the_inputs():
    g = cg.parse("y = x^2*z")
    assert cg.hessian(g, x=np.float32(3), z=np.float32(5)).dtype == np.float32
    assert cg.hessian(g, x=3, z=5).dtype == np.float64
    assert cg.hessian(g, x=np.float32(3), z=5.0).dtype == np.float64
    assert cg.hessian(g, x=np.array([3.0]), z=5.0).tolist() == [[10.0, 6.0], [6.0, 0.0]]  # one element is a scalar


def test_of_picks_the_output():
    g = cg.parse("a = x*x*z\nb = sin(z)\ny = a + b")
    np.testing.assert_allclose(cg.hessian(g, of="a", x=2.0, z=3.0), [[6.0, 4.0], [4.0, 0.0]])
    np.testing.assert_allclose(cg.hessian(g, of=g.node("b"), x=2.0, z=3.0), [[0.0, 0.0], [0.0, -np.sin(3.0)]])


def test_second_derivatives_of_relu_and_abs_are_zero_away_from_the_kink():
    g = cg.parse("y = relu(x)*z + abs(x)")
    np.testing.assert_array_equal(cg.hessian(g, x=1.5, z=2.0), [[0.0, 1.0], [1.0, 0.0]])
    np.testing.assert_array_equal(cg.hessian(g, x=-1.5, z=2.0), [[0.0, 0.0], [0.0, 0.0]])


@SETTINGS
@given(expressions(max_steps=6), points())
def test_random_expressions_match_sympy(g, point):
    note(describe(g))
    assume(finite_values(cg.hessian_graph(g), point) is not None)
    symbols = {n: sp.Symbol(n, real=True) for n in g.inputs}
    f = to_sympy(g, symbols)
    at = {symbols[k]: sp.Float(repr(v), 30) for k, v in point.items()}
    got = cg.hessian(g, feeds=point)
    for i, wi in enumerate(g.inputs):
        for j, wj in enumerate(g.inputs):
            want = sp.diff(f, symbols[wi], symbols[wj]).subs(at)
            assume(not want.has(sp.DiracDelta))  # a kink at the point (maximum's tie): no second derivative
            want = complex(want.evalf(30))
            assert want.imag == 0
            assert float(got[i, j]) == pytest.approx(want.real, rel=1e-8, abs=1e-8 * max(1.0, abs(want.real))), (wi, wj)


def _tied_maximum():
    g = cg.Graph("random")
    g.output(cg.maximum(g.input("x0"), g.input("x1")) * g.input("x2"), name="y")
    return g


@SETTINGS
@given(expressions(max_steps=6, n_inputs=3), points(n_inputs=3, lo=0.5, hi=1.5))
@example(_tied_maximum(), {"x0": 1.0, "x1": 1.0, "x2": 1.0})  # the differences straddle the tie (fuzz run)
def test_random_hessians_are_symmetric_and_match_differences_of_grad(g, point):
    note(describe(g))
    assume(finite_values(cg.hessian_graph(g), point) is not None)
    h = cg.hessian(g, feeds=point)
    assert h.shape == (3, 3)
    scale = max(1.0, float(np.max(np.abs(h))))
    np.testing.assert_allclose(h, h.T, rtol=1e-9, atol=1e-9 * scale)
    fd = central_hessian(g, point, g.inputs)
    # a kink within a step (maximum's tie, abs at 0) has no second derivative: the differences
    # then grow as 1/eps, so two step sizes disagree
    assume(np.allclose(fd, central_hessian(g, point, g.inputs, eps=2e-5), rtol=1e-4, atol=1e-4 * scale))
    np.testing.assert_allclose(h, fd, rtol=1e-5, atol=1e-5 * scale)


# ------------------------------------------------------------------------------ the graph
def test_the_graph_holds_the_rows_in_row_major_order_and_prints_as_partials():
    g = cg.parse(LECTURE)
    h = cg.hessian_graph(g)
    assert h.outputs == ["g2_x", "g2_z", "g3_x", "g3_z"]
    assert [tuple(h.nx.nodes[o]["partial"][1]) for o in h.outputs] == [("x", "x"), ("z", "x"), ("x", "z"), ("z", "z")]
    assert [h.nx.nodes[o]["adjoint_of"] for o in h.outputs] == ["x", "z", "x", "z"]
    latex = cg.to_latex(cg.simplify(h))
    lhs = [line.split("&=")[0].strip() for line in latex.splitlines() if "&=" in line]
    assert lhs == [r"\frac{\partial^{2} y}{\partial x^{2}}", r"\frac{\partial^{2} y}{\partial z \, \partial x}",
                   r"\frac{\partial^{2} y}{\partial x \, \partial z}", r"\frac{\partial^{2} y}{\partial z^{2}}"]
    values = cg.evaluate(cg.simplify(h), x=2.0, z=3.0)
    np.testing.assert_allclose([float(values[o]) for o in h.outputs],
                               cg.hessian(g, x=2.0, z=3.0).ravel(), rtol=1e-12)


def test_row_zero_is_the_adjoint_of_the_adjoint_by_hand():
    g = cg.parse(LECTURE)
    by_hand = cg.adjoint(cg.adjoint(g), of="g_x")
    h = cg.hessian_graph(g)
    assert h.outputs[:2] == by_hand.outputs
    a, b = cg.evaluate(by_hand, x=2.0, z=3.0), cg.evaluate(h, x=2.0, z=3.0)
    for o in by_hand.outputs:
        assert float(a[o]) == float(b[o])


def test_the_input_graph_is_not_changed():
    g = cg.parse(LECTURE)
    before = cg.dumps(g)
    cg.hessian_graph(g)
    cg.hessian(g, x=2.0, z=3.0)
    assert cg.dumps(g) == before
    assert g.outputs == ["y"]


def test_the_graph_saves_and_loads():
    h = cg.hessian_graph(cg.parse(LECTURE))
    back = cg.loads(cg.dumps(h))
    assert back.outputs == h.outputs
    assert cg.to_latex(back) == cg.to_latex(h)


# ------------------------------------------------------------------------------ arrays
def central_hessian_of_arrays(g, point, wrt, eps=1e-6):
    """Row k: the central difference of cg.grad along element k of the wrt values,
    flattened in C order."""
    sizes = [np.size(point[w]) for w in wrt]
    rows = []
    for w, n in zip(wrt, sizes):
        for k in range(n):
            moved = []
            for step in (eps, -eps):
                value = np.array(point[w], dtype=np.float64)
                value.flat[k] += step
                d = cg.grad(g, wrt=wrt, **{**point, w: value})
                moved.append(np.concatenate([np.ravel(d[u]) for u in wrt]))
            rows.append((moved[0] - moved[1]) / (2 * eps))
    return np.array(rows)


def logistic_regression(declared=True):
    """The loss of logistic regression, sum(log(1 + exp(-t*(X @ w)))), labels t = +-1."""
    if not declared:
        return cg.parse("L = sum(log(1 + exp(-t*(X @ w))))")
    g = cg.Graph("logistic regression")
    w = g.input("w", shape=(3,))
    X = g.input("X", shape=(None, 3))
    t = g.input("t", shape=(None,))
    g.output(cg.sum(cg.log(1 + cg.exp(-t * (X @ w)))), name="L")
    return g


LR_X = np.array([[1.0, 2.0, -1.0], [0.5, -1.0, 2.0], [-1.5, 0.5, 1.0], [2.0, 1.0, 0.5]])
LR_T = np.array([1.0, -1.0, -1.0, 1.0])
LR_W = np.array([0.3, -0.2, 0.1])


def logistic_regression_sympy():
    w = sp.symbols("w0:3", real=True)
    X, t = sp.Matrix(LR_X.tolist()).applyfunc(sp.nsimplify), [sp.nsimplify(v) for v in LR_T]
    L = sum(sp.log(1 + sp.exp(-t[i] * sum(X[i, j] * w[j] for j in range(3)))) for i in range(4))
    return np.array(sp.hessian(L, w).subs(dict(zip(w, map(sp.nsimplify, LR_W)))).evalf(30), dtype=float)


@pytest.mark.parametrize("declared", [True, False], ids=["declared shapes", "parsed, undeclared"])
def test_logistic_regression_matches_sympy(declared):
    g = logistic_regression(declared)
    h = cg.hessian(g, wrt="w", w=LR_W, X=LR_X, t=LR_T)
    assert h.shape == (3, 3) and h.dtype == np.float64
    np.testing.assert_allclose(h, logistic_regression_sympy(), rtol=1e-13, atol=0)
    np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=0)  # not imposed: what the derivatives give
    p = 1 / (1 + np.exp(-LR_T * (LR_X @ LR_W)))  # the textbook form, X^T diag(p(1 - p)) X
    np.testing.assert_allclose(h, LR_X.T @ np.diag(p * (1 - p)) @ LR_X, rtol=1e-13)


def test_newtons_method_on_logistic_regression():
    g = logistic_regression()
    X, t = LR_X, np.array([1.0, 1.0, -1.0, -1.0])  # not separable: a finite minimum, quadratic convergence
    w = np.zeros(3)
    for _ in range(8):
        step = np.linalg.solve(cg.hessian(g, wrt="w", w=w, X=X, t=t), cg.grad(g, wrt=["w"], w=w, X=X, t=t)["w"])
        w = w - step
    assert np.max(np.abs(cg.grad(g, wrt=["w"], w=w, X=X, t=t)["w"])) < 1e-12
    assert np.max(np.abs(step)) < 1e-10


def test_a_quartic_plus_a_squared_projection_matches_sympy():
    g = cg.Graph("quartic")
    w = g.input("w", shape=(3,))
    a = g.input("a", shape=(3,))
    g.output(cg.sum(w**4) + (a @ w) ** 2, name="y")
    ws = sp.symbols("w0:3", real=True)
    av, wv = [1, -2, 3], [0.5, -1.5, 2.0]
    y = sum(v**4 for v in ws) + sum(c * v for c, v in zip(av, ws)) ** 2
    want = np.array(sp.hessian(y, ws).subs(dict(zip(ws, map(sp.nsimplify, wv)))), dtype=float)
    got = cg.hessian(g, wrt=["w"], w=np.array(wv), a=np.array(av, dtype=float))
    np.testing.assert_allclose(got, want, rtol=1e-14)  # 12 w^2 on the diagonal plus 2 a a^T


def test_a_mixed_scalar_and_array_wrt_matches_sympy_block_by_block():
    g = cg.Graph("mixed")
    s = g.input("s")
    w = g.input("w", shape=(2,))
    g.output(cg.sum(w * w * s**3) + s * cg.sum(cg.sin(w)), name="y")
    ss, w0, w1 = sp.symbols("s w0 w1", real=True)
    y = (w0**2 + w1**2) * ss**3 + ss * (sp.sin(w0) + sp.sin(w1))
    at = {ss: sp.Rational(3, 2), w0: sp.Rational(1, 2), w1: sp.Rational(-2)}
    want = np.array(sp.hessian(y, (w0, w1, ss)).subs(at).evalf(30), dtype=float)  # in wrt order: w, then s
    got = cg.hessian(g, wrt=["w", "s"], s=1.5, w=np.array([0.5, -2.0]))
    assert got.shape == (3, 3)
    np.testing.assert_allclose(got, want, rtol=1e-14)
    # the blocks, reshaped as the docstring says: w's (2, 2), (w, s)'s (2,), (s, w)'s, s's ()
    assert got[0:2, 2:3].reshape((2,) + ()).shape == (2,)
    np.testing.assert_allclose(got[2:3, 2:3].reshape(()), float(sp.diff(y, ss, ss).subs(at)), rtol=1e-14)
    wrt_s_first = cg.hessian(g, wrt=["s", "w"], s=1.5, w=np.array([0.5, -2.0]))
    np.testing.assert_allclose(wrt_s_first, want[np.ix_([2, 0, 1], [2, 0, 1])], rtol=1e-14)


def test_a_matrix_wrt_of_an_mlp_loss_matches_differences_of_grad():
    # W1 of shape (2, 3): tanh hidden layer, softmax cross-entropy (cg.nn's own graph)
    net = cg.nn.MLP([2, 3, 2], activation="tanh", loss="cross_entropy", seed=0)
    g = net.graph
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(4, 2)), np.eye(2)[[0, 1, 1, 0]]
    h = cg.hessian(g, wrt=["W1"], X=X, Y=Y)
    assert h.shape == (6, 6)
    fd = central_hessian_of_arrays(g, {"X": X, "Y": Y, "W1": net.params["W1"]}, ["W1"])
    np.testing.assert_allclose(h, fd, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(h, h.T, rtol=1e-12, atol=1e-15)
    # every param: blocks in wrt order, W1's block the same as alone
    wrt = list(net.params)
    full = cg.hessian(g, wrt=wrt, X=X, Y=Y)
    assert full.shape == (17, 17)  # 6 + 3 + 6 + 2
    np.testing.assert_allclose(full[:6, :6], h, rtol=1e-14, atol=1e-16)
    point = {"X": X, "Y": Y, **net.params}
    np.testing.assert_allclose(full, central_hessian_of_arrays(g, point, wrt), rtol=1e-6, atol=1e-8)
    block = full[0:6, 6:9].reshape(net.params["W1"].shape + net.params["b1"].shape)  # d/db1_k (dL/dW1_ij)
    np.testing.assert_allclose(block[1, 2, 0], full[5, 6])


def test_an_mse_loss_with_l2_matches_differences_of_grad():
    net = cg.nn.MLP([3, 2, 1], activation="sigmoid", loss="mse", seed=2)
    g = net.build(l2=0.1)
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))
    wrt = ["W1", "W2"]
    h = cg.hessian(g, wrt=wrt, X=X, Y=Y)
    assert h.shape == (8, 8)
    np.testing.assert_allclose(h, central_hessian_of_arrays(g, {"X": X, "Y": Y, **net.params}, wrt),
                               rtol=1e-6, atol=1e-8)


def test_hvp_graph_is_hessian_times_v():
    g = logistic_regression()
    hv = cg.hvp_graph(g, wrt=["w", "t"])
    assert hv.inputs == ["w", "X", "t", "v_w", "v_t"] and hv.outputs == ["hv_w", "hv_t"]
    v_w, v_t = np.array([1.0, -2.0, 0.5]), np.array([0.3, 0.1, -1.0, 2.0])
    got = cg.evaluate(hv, w=LR_W, X=LR_X, t=LR_T, v_w=v_w, v_t=v_t)
    want = cg.hessian(g, wrt=["w", "t"], w=LR_W, X=LR_X, t=LR_T) @ np.concatenate([v_w, v_t])
    np.testing.assert_allclose(np.concatenate([got["hv_w"], got["hv_t"]]), want, rtol=1e-13, atol=1e-15)
    assert got["hv_w"].shape == (3,) and got["hv_t"].shape == (4,)
    simple = cg.evaluate(cg.simplify(hv), w=LR_W, X=LR_X, t=LR_T, v_w=v_w, v_t=v_t)
    np.testing.assert_allclose(simple["hv_w"], got["hv_w"], rtol=1e-13)


def test_hvp_graph_is_the_adjoint_of_the_adjoint_by_hand():
    g = cg.Graph("cubes")
    x = g.input("x", shape=(3,))
    g.output(cg.sum(x * x * x), name="y")  # H = diag(6x)
    ga = cg.adjoint(g, wrt=["x"])  # the recipe cg.hessian_graph's message gave before
    v = ga.input("v", shape=(3,))
    ga.output(cg.sum(ga.node(ga.outputs[0]) * v), name="gv")
    by_hand = cg.adjoint(ga, wrt=["x"], of="gv")
    point = {"x": np.array([1.0, 2.0, 3.0])}
    direction = np.array([1.0, -1.0, 2.0])
    want = cg.evaluate(by_hand, **point, v=direction)[by_hand.outputs[0]]
    got = cg.evaluate(cg.hvp_graph(g), **point, v_x=direction)["hv_x"]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got, [6.0, -12.0, 36.0])


def test_hvp_graph_of_a_formula_prints_h_v():
    h = cg.hvp_graph(cg.parse("y = x^2*z"))
    assert h.inputs == ["x", "z", "v_x", "v_z"] and h.outputs == ["hv_x", "hv_z"]
    assert cg.to_text(cg.simplify(h)).splitlines() == ["hv_x = 2*z*v_x + 2*x*v_z", "hv_z = 2*x*v_x"]
    assert cg.to_latex(cg.simplify(h)) == (
        "\\begin{aligned}\n"
        r"\left(\nabla^{2} y \, v\right)_{x} &= 2 z v_{x} + 2 x v_{z} \\" "\n"
        r"\left(\nabla^{2} y \, v\right)_{z} &= 2 x v_{x}" "\n"
        "\\end{aligned}")
    assert [h.nx.nodes[o]["hvp"] for o in h.outputs] == [("y", "x", "v_x"), ("y", "z", "v_z")]
    assert [h.nx.nodes[o]["adjoint_of"] for o in h.outputs] == ["x", "z"]
    # H v at a point, from the graph: [[2z, 2x], [2x, 0]] @ v
    got = cg.evaluate(h, x=3.0, z=5.0, v_x=1.0, v_z=-2.0)
    assert (float(got["hv_x"]), float(got["hv_z"])) == (10.0 - 12.0, 6.0)
    back = cg.loads(cg.dumps(h))  # the heading survives a save
    assert cg.to_latex(cg.simplify(back)) == cg.to_latex(cg.simplify(h))


def test_hvp_graph_latex_of_an_array_wrt_names_its_block():
    g = logistic_regression()
    latex = cg.to_latex(cg.simplify(cg.hvp_graph(g, wrt="w")))
    assert latex.startswith(r"\left(\nabla^{2} L \, v\right)_{w} = X^{\top}"), latex
    assert r"X v_{w}" in latex
    net = cg.nn.MLP([2, 3, 2], activation="tanh", loss="cross_entropy", seed=0)
    latex = cg.to_latex(cg.simplify(cg.hvp_graph(net.graph, wrt=["W1", "b2"])))
    heads = [line.split(" &= ")[0] for line in latex.splitlines() if " &= " in line]
    assert heads == [r"\left(\nabla^{2} \mathrm{loss} \, v\right)_{W_{1}}", r"\left(\nabla^{2} \mathrm{loss} \, v\right)_{b_{2}}"]


def test_hvp_names_do_not_clash_with_the_graphs():
    g = cg.Graph("taken")
    g.input("v_x")
    x = g.input("x")
    g.input("hv_x")
    g.output(cg.sum(x * x * x), name="y")
    h = cg.hvp_graph(g, wrt=["x"])
    assert h.inputs == ["v_x", "x", "hv_x", "v2_x"] and h.outputs == ["hv2_x"]
    assert h.nx.nodes["hv2_x"]["hvp"] == ("y", "x", "v2_x")
    got = cg.evaluate(h, x=np.array([1.0, 2.0]), v2_x=np.array([1.0, -1.0]), v_x=5.0, hv_x=7.0)
    np.testing.assert_array_equal(got["hv2_x"], [6.0, -12.0])
    np.testing.assert_array_equal(cg.hessian(g, wrt=["x", "v_x"], x=np.ones(2), v_x=1.0, hv_x=0.0),
                                  [[6.0, 0.0, 0.0], [0.0, 6.0, 0.0], [0.0, 0.0, 0.0]])
    p = cg.parse("y = x^3 + 0*v_x")  # a formula's: pointwise
    hp = cg.hvp_graph(p, wrt=["x"])
    assert hp.inputs == ["x", "v_x", "v2_x"] and cg.to_text(cg.simplify(hp)) == "hv_x = 6*x*v2_x"


def test_hvp_graph_of_scalars_and_no_wrt():
    g = cg.parse("y = x*z + sin(x)")
    assert cg.hvp_graph(g, wrt=[]).outputs == []
    assert cg.hvp_graph(cg.parse("y = 3")).outputs == []
    h = cg.hvp_graph(g, wrt="z")
    assert h.inputs == ["x", "z", "v_z"] and cg.to_text(cg.simplify(h)) == "hv_z = 0"


def test_the_int_inputs_and_float32_dtypes_of_an_array_hessian():
    g = cg.Graph("quartic")
    w = g.input("w", shape=(2,))
    g.output(cg.sum(w**4), name="y")
    ints = cg.hessian(g, w=np.array([1, 2]))
    assert ints.dtype == np.float64 and ints.tolist() == [[12.0, 0.0], [0.0, 48.0]]
    f32 = cg.hessian(g, w=np.array([1.0, 2.0], dtype=np.float32))
    assert f32.dtype == np.float32 and f32.tolist() == [[12.0, 0.0], [0.0, 48.0]]
    net = cg.nn.MLP([2, 3, 2], activation="tanh", loss="cross_entropy", seed=0)
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(4, 2)), np.eye(2)[[0, 1, 1, 0]]
    h64 = cg.hessian(net.graph, wrt=["W1", "b1"], X=X, Y=Y)
    h32 = cg.hessian(net.graph, wrt=["W1", "b1"], X=X.astype(np.float32), Y=Y.astype(np.float32),
                     W1=net.params["W1"].astype(np.float32), b1=net.params["b1"].astype(np.float32))
    assert h32.dtype == np.float32
    np.testing.assert_allclose(h32, h64, rtol=1e-4, atol=1e-6)
    mixed = cg.hessian(net.graph, wrt=["W1", "b1"], X=X, Y=Y, W1=net.params["W1"].astype(np.float32))
    assert mixed.dtype == np.float64  # the widest of the wrt values'


def test_an_array_param_is_differentiated_with_its_own_value():
    g = cg.Graph("p")
    w = g.param("w", value=np.array([1.0, 2.0]))
    x = g.input("x")
    g.output(cg.sum(w * w * w) * x, name="L")  # H_ww = diag(6 w x), H_wx = 3 w^2, H_xx = 0
    np.testing.assert_array_equal(cg.hessian(g, x=2.0), [[12.0, 0.0, 3.0], [0.0, 24.0, 12.0], [3.0, 12.0, 0.0]])
    w.attrs["value"] = np.array([-1.0, 0.5])  # the cached graph reads the param's value where it is set
    np.testing.assert_array_equal(cg.hessian(g, x=2.0), [[-12.0, 0.0, 3.0], [0.0, 6.0, 0.75], [3.0, 0.75, 0.0]])


def test_an_unused_array_input_has_zero_rows_and_columns():
    g = cg.Graph("unused")
    x = g.input("x")
    g.input("u", shape=(2,))
    g.output(cg.sin(x), name="y")
    h = cg.hessian(g, x=0.5, u=np.array([7.0, 8.0]))
    np.testing.assert_array_equal(h, [[-np.sin(0.5), 0, 0], [0, 0, 0], [0, 0, 0]])
    parsed = cg.parse("y = sin(x) + 0*u")  # pointwise: undeclared shapes, elementwise ops
    np.testing.assert_allclose(cg.hessian(parsed, wrt=["x"], x=np.array([0.5]), u=2.0), [[-np.sin(0.5)]])


def test_scalars_still_take_the_hessian_graph():
    def built(g):
        return [k[0] for k in g._cache if isinstance(k, tuple) and k[0] in ("hessian", "hvp")]
    g = cg.parse(LECTURE)
    cg.hessian(g, x=2.0, z=3.0)
    assert built(g) == ["hessian"]
    g = cg.parse("y = sum(x*z^3)")
    assert cg.hessian(g, x=np.array([2.0, 2.5]), z=2.0, wrt=["z"]).tolist() == [[54.0]]  # an array x, wrt z
    assert built(g) == ["hessian"]
    assert cg.hessian(g, x=np.array([2.0, 2.5]), z=2.0).tolist() == [[0, 0, 12], [0, 0, 12], [12, 12, 54]]
    assert built(g) == ["hessian", "hvp"]


def test_the_input_graph_is_not_changed_by_the_hvp():
    g = logistic_regression()
    before = cg.dumps(g)
    cg.hvp_graph(g)
    cg.hessian(g, w=LR_W, X=LR_X, t=LR_T)
    assert cg.dumps(g) == before
    assert g.outputs == ["L"] and g.inputs == ["w", "X", "t"]


@SETTINGS
@given(array_expressions(max_steps=6), st.integers(0, 2**32 - 1))
def test_random_array_hessians_are_symmetric_match_differences_of_grad_and_give_hvp(g, seed):
    note(describe(g))
    point = array_points(g, seed)
    assume(finite_values(cg.hvp_graph(g), {**point, **{f"v_{n}": np.ones_like(v) for n, v in point.items()}}))
    h = cg.hessian(g, feeds=point)
    n = sum(np.size(v) for v in point.values())
    assert h.shape == (n, n)
    scale = max(1.0, float(np.max(np.abs(h))))
    np.testing.assert_allclose(h, h.T, rtol=1e-9, atol=1e-9 * scale)
    fd = central_hessian_of_arrays(g, point, g.inputs, eps=1e-5)
    assume(np.allclose(fd, central_hessian_of_arrays(g, point, g.inputs, eps=2e-5), rtol=1e-4, atol=1e-4 * scale))
    np.testing.assert_allclose(h, fd, rtol=1e-5, atol=1e-5 * scale)
    v = np.random.default_rng(seed).uniform(-1, 1, n)
    splits = np.split(v, np.cumsum([np.size(point[w]) for w in g.inputs])[:-1])
    directions = {f"v_{w}": part.reshape(np.shape(point[w])) for w, part in zip(g.inputs, splits)}
    got = cg.evaluate(cg.hvp_graph(g), **point, **directions)
    hv = np.concatenate([np.ravel(np.broadcast_to(got[f"hv_{w}"], np.shape(point[w]))) for w in g.inputs])
    np.testing.assert_allclose(hv, h @ v, rtol=1e-9, atol=1e-9 * scale * max(1.0, np.abs(v).sum()))


# ------------------------------------------------------------------------------ errors
def test_a_non_scalar_output_is_a_shape_error():
    g = cg.Graph("v")
    x = g.input("x", shape=(3,))
    w = g.input("w", shape=())
    g.output(x * w, name="y")
    with pytest.raises(cg.ShapeError, match=r"cannot differentiate non-scalar node 'y' of shape \(3,\)"):
        cg.hessian_graph(g, wrt=["w"])
    g2 = cg.parse("y = u*w")  # undeclared: an array fed for u makes y an array
    with pytest.raises(cg.ShapeError, match=r"Hessian of 'y': it is of shape \(3,\) at these inputs "
                                            r"\(arrays: 'u' \(3,\)\); reduce it first"):
        cg.hessian(g2, wrt=["w"], u=np.ones(3), w=2.0)


def test_unknown_wrt_is_node_not_found():
    g = cg.parse("y = x*z")
    with pytest.raises(cg.NodeNotFoundError, match=r"wrt 'q' is not a node of graph 'graph' \(its inputs and params: x, z\)"):
        cg.hessian_graph(g, wrt=["x", "q"])
    with pytest.raises(cg.NodeNotFoundError, match="wrt 'X' is not a node of graph 'graph'; did you mean 'x'"):
        cg.hessian(g, wrt="X", x=1.0, z=2.0)


def test_repeated_wrt_is_a_graph_error():
    g = cg.parse("y = x*z")
    with pytest.raises(cg.GraphError, match=r"wrt lists a node twice: \['x', 'z', 'x'\]"):
        cg.hessian_graph(g, wrt=["x", "z", "x"])
    with pytest.raises(cg.GraphError, match="wrt lists a node twice"):
        cg.hessian(g, wrt=["z", g.node("z")], x=1.0, z=2.0)


def test_an_intermediate_wrt_is_a_graph_error():
    g = cg.parse("a = x*z\ny = sin(a)")
    with pytest.raises(cg.GraphError, match="wrt 'a' is a mul node of graph 'graph', not an input or param: "
                                            r"a Hessian is taken with respect to inputs and params \(its inputs "
                                            r"and params: x, z\)"):
        cg.hessian_graph(g, wrt=["x", "a"])


def test_a_declared_vector_wrt_is_a_shape_error_of_hessian_graph_naming_hvp_graph_and_hessian():
    g = cg.Graph("v")
    x = g.input("x", shape=(3,))
    g.output(cg.sum(x * x * x), name="y")
    with pytest.raises(cg.ShapeError) as info:
        cg.hessian_graph(g)
    assert str(info.value) == (
        "wrt 'x' has shape (3,): cg.hessian_graph takes scalar inputs and params only (its outputs are the n*n "
        "second derivatives, one scalar each); for arrays, cg.hvp_graph(g, wrt=['x']) is the Hessian-vector "
        "product as a graph, and cg.hessian(g, x=...) evaluates the Hessian to an (N, N) array")
    p = cg.Graph("p")
    w = p.param("w", value=np.ones(2))
    p.output(cg.sum(w * w), name="L")
    with pytest.raises(cg.ShapeError, match=r"wrt 'w' has shape \(2,\): .* cg.hvp_graph\(g, wrt=\['w'\]\)"):
        cg.hessian_graph(p)
    # what the message names works: the same graph, the same point
    np.testing.assert_array_equal(cg.hessian(g, x=np.array([1.0, 2.0, 3.0])), np.diag([6.0, 12.0, 18.0]))
    np.testing.assert_array_equal(cg.hessian(p), 2 * np.eye(2))
    got = cg.evaluate(cg.hvp_graph(g), x=np.array([1.0, 2.0, 3.0]), v_x=np.array([1.0, -1.0, 2.0]))
    np.testing.assert_array_equal(got["hv_x"], [6.0, -12.0, 36.0])


def test_an_array_making_the_output_an_array_is_a_shape_error():
    g = cg.parse("y = x^2*z")  # undeclared: a vector z makes y a vector
    with pytest.raises(cg.ShapeError, match=r"cannot take the Hessian of 'y': it is of shape \(2,\) at these inputs "
                                            r"\(arrays: 'z' \(2,\)\); reduce it first \(e.g. cg.sum\)$"):
        cg.hessian(g, x=1.0, z=np.ones(2))
    with pytest.raises(cg.ShapeError, match=r"of shape \(2, 2\) at these inputs \(arrays: 'x' \(2, 2\)\)"):
        cg.hessian(g, feeds={"x": np.ones((2, 2))}, z=1.0)
    p = cg.Graph("p")
    w = p.param("w", value=2.0)
    p.output(w * w, name="L")
    with pytest.raises(cg.InputError, match=r"param 'w': expected shape \(\), got \(3,\)"):  # its value's
        cg.hessian(p, w=np.ones(3))
    with pytest.raises(cg.InputError, match="input 'x': cannot convert list to an array"):
        cg.hessian(g, x=[[1.0], [1.0, 2.0]], z=1.0)


def test_an_input_not_in_the_graph():
    g = cg.parse("y = x*z")
    other = cg.parse("y = x*z")
    with pytest.raises(cg.GraphError, match="wrt: node 'x' belongs to another graph, also named 'graph'"):
        cg.hessian_graph(g, wrt=[other.node("x")])
    with pytest.raises(cg.InputError, match="'q'"):
        cg.hessian(g, x=1.0, z=2.0, q=3.0)


def test_values_are_keyword_arguments():
    g = cg.parse("y = x*z")
    with pytest.raises(cg.InputError, match=r"wrt must be a node name or a list of names, not 2.0; .* of grad, hessian,"):
        cg.hessian(g, 2.0)
    with pytest.raises(cg.InputError, match=r"graph 'graph' is missing input\(s\) 'x', 'z'; cg.hessian evaluates "
                                            r"at a point .* cg.hessian_graph\(g\) is the Hessian as a graph"):
        cg.hessian(g)
    with pytest.raises(cg.InputError, match=r"missing input\(s\) 'z'$"):
        cg.hessian(g, x=1.0)


def test_several_outputs_need_of():
    g = cg.parse("a = x*z\ny = sin(a)")
    g.set_outputs(["a", "y"])
    with pytest.raises(cg.GraphError, match=r"has 2 outputs \['a', 'y'\]; say which with of=..."):
        cg.hessian_graph(g)


def test_not_a_graph():
    with pytest.raises(cg.GraphError, match="hessian needs a cg.Graph, not str"):
        cg.hessian("x*z", x=1.0, z=2.0)
    with pytest.raises(cg.GraphError, match="hessian_graph needs a cg.Graph, not str"):
        cg.hessian_graph("x*z")


def test_a_point_outside_the_domain_is_a_domain_error():
    with pytest.raises(cg.DomainError, match="log"):
        cg.hessian(cg.parse(LECTURE), x=-1.0, z=3.0)


@pytest.mark.parametrize("p", [2.0, 3.0, 2.5])
def test_the_hessian_of_a_power_at_a_zero_base_is_its_limit(p):
    # the exponent's derivative x^p*log(x) was 0*(-inf) at x = 0, and so was every second
    # derivative through it; log(replace_zero(x)) is 0 there and its derivative 1/1 finite
    g = cg.parse("y = x^p")
    x, q = sp.symbols("x p", positive=True)
    f = x**q
    want = [[float(sp.limit(sp.diff(f, s, t).subs(q, sp.nsimplify(p)), x, 0, "+")) for t in (x, q)] for s in (x, q)]
    np.testing.assert_array_equal(cg.hessian(g, x=0.0, p=p), want)
    assert cg.to_text(cg.simplify(cg.hessian_graph(g))).splitlines()[-1] == "g3_p = x^p*log(x)^2"
    np.testing.assert_allclose(cg.hessian(g, x=0.7, p=p), central_hessian(g, {"x": 0.7, "p": p}, ["x", "p"]),
                               rtol=1e-6)


@pytest.mark.parametrize("p", [0.0, 1.0, 2.0, 3.0])
def test_the_second_derivative_of_a_power_by_its_base_at_zero_is_its_limit(p):
    # d2/dx2 x^p at x = 0 raised at p = 0 and p = 1 (0*0^-1 in p*(p - 1)*x^(p - 2)); SymPy's
    # limits are 0, 0, 2, 0
    x, q = sp.symbols("x p", positive=True)
    want = float(sp.limit(sp.diff(x**q, x, 2).subs(q, sp.nsimplify(p)), x, 0, "+"))
    assert cg.hessian(cg.parse("y = x^p"), wrt=["x"], x=0.0, p=p).tolist() == [[want]]


@pytest.mark.parametrize("p", [0.0, 1.0, 0.5])
def test_the_mixed_derivative_of_a_power_at_a_zero_base_stays_an_error_where_it_is_infinite(p):
    # d2/dp dx x^p = x^(p - 1)*(1 + p*log(x)): SymPy's limit at x -> 0+ is oo at p = 0 and
    # 1/2, -oo at p = 1; the guards of the rule keep the first derivatives finite only
    x, q = sp.symbols("x p", positive=True)
    assert sp.limit(sp.diff(x**q, x, q).subs(q, sp.nsimplify(p)), x, 0, "+") in (sp.oo, -sp.oo)
    with pytest.raises(cg.DomainError, match="is not finite"):
        cg.hessian(cg.parse("y = x^p"), x=0.0, p=p)


def test_a_power_with_an_exponent_below_2_has_no_second_derivative_at_zero():
    # d2/dx2 x^1.5 = 0.75/sqrt(x): infinite at 0, a genuine singularity, still an error
    with pytest.raises(cg.DomainError, match=r"\(pow\) is not finite"):
        cg.hessian(cg.parse("y = x^p"), x=0.0, p=1.5)


def test_an_error_at_a_second_derivative_names_it_and_the_rules_that_made_it():
    with pytest.raises(cg.DomainError, match=r"\(pow\) is not finite: .*; it is part of d2y/dx2, made by the derivative rule "
                                             r"of node 't7' \(pow\), itself made by the derivative rule of node 'y' \(pow\) "
                                             r"= x\^\(3/2\); pass"):
        cg.hessian(cg.parse("y = x^(3/2)"), x=0.0)


def test_an_error_in_an_array_hessian_names_the_block_of_h_v_not_the_hvps_own_sum():
    # the row sweeps of cg.hessian for arrays differentiate gv_L = sum(g_w*v_w), a node the
    # user never sees: the error said "it is part of dgv_L/dw"
    g = cg.Graph("s")
    w = g.input("w", shape=(2,))
    g.output(cg.sum(cg.abs(w) ** 1.5), name="L")
    with pytest.raises(cg.DomainError, match=r"\(pow\) is not finite at index \(0,\): .*; it is part of \(H v\)_w, H the "
                                             r"Hessian of 'L', made by the derivative rule of node") as err:
        cg.hessian(g, w=np.array([0.0, 1.0]))
    assert "gv_L" not in str(err.value)


@pytest.mark.parametrize(("formula", "point", "want"), [
    ("relu(x)*z", {"x": 0.0, "z": 2.0}, [[0, 0], [0, 0]]),  # d2/dz dx = step(0) = 0, as d/dx relu(0) in grad
    ("abs(x)*z", {"x": 0.0, "z": 2.0}, [[0, 0], [0, 0]]),
    ("maximum(x, z)*w", {"x": 1.0, "z": 1.0, "w": 3.0}, [[0, 0, 0.5], [0, 0, 0.5], [0.5, 0.5, 0]]),
    ("minimum(x, z)^2", {"x": 1.0, "z": 1.0}, [[0.5, 0.5], [0.5, 0.5]]),  # 2*(1/2)*(1/2): grad's halves, squared
    ("relu(x)^2 + abs(z)", {"x": 0.0, "z": 0.0}, [[0, 0], [0, 0]]),
])
def test_second_derivatives_at_a_kink_differentiate_grads_subgradient(formula, point, want):
    # the convention the README and cg.hessian's docstring state: the mixed derivatives are
    # the derivatives of grad's value at the kink, and the pure ones of relu/abs/max are 0
    g = cg.parse(formula)
    np.testing.assert_array_equal(cg.hessian(g, **point), want)
    wrt = g.inputs
    first = cg.grad(g, **point)
    for i, w in enumerate(wrt):  # a mixed derivative d/dw (dy/du) where dy/du is smooth in w: grad's slope
        for j, u in enumerate(wrt):
            if i != j and formula.endswith("*w") and w == "w":
                step = {**point, w: point[w] + 1.0}
                assert cg.hessian(g, **point)[j, i] == cg.grad(g, **step)[u] - first[u]


def test_a_10000_deep_chain_has_a_hessian_hvp_and_jacobian():
    # iterative passes: no RecursionError 10 times past Python's limit (1000), on the graph of
    # the forward chain, its adjoint and the sweep of each (CPU time here: 3.5 s for the
    # Hessian, 1.7 s of it building the graph, and 0.7 s for the Jacobian at two points)
    n = 10_000
    g = sin_chain(n)
    s, d, dd = 0.5, 1.0, 0.0  # s_k+1 = sin(s_k): its first and second derivatives by x, exactly
    for _ in range(n):
        s, d, dd = math.sin(s), math.cos(s) * d, -math.sin(s) * d * d + math.cos(s) * dd
    assert cg.hessian(g, x=0.5)[0, 0] == pytest.approx(dd, rel=1e-9)
    np.testing.assert_allclose(cg.jacobian(g, "x", x=np.array([0.5, 0.0])), [[d, 0], [0, 1]], rtol=1e-9)
    assert g.nx.number_of_nodes() == n + 1  # (not changed)
