"""cg.vjp_graph (the vector-Jacobian product as a graph) and cg.jacobian (it, evaluated
at the unit cotangents to the whole Jacobian): against SymPy, central differences, u @ J,
cg.grad for a scalar output, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from strategies import array_expressions, array_points, describe, examples

import cgraph as cg

SETTINGS = settings(max_examples=examples(25), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def central_jacobian(g, point, w, of=None, eps=1e-6):
    """d of/d w by central differences of cg.evaluate, of shape of.shape + w.shape."""
    of = of or g.outputs[0]
    base = np.array(point[w], dtype=np.float64)
    columns = []
    for k in range(base.size):
        moved = []
        for step in (eps, -eps):
            value = base.copy()
            value.flat[k] += step
            moved.append(np.asarray(cg.evaluate(g, **{**point, w: value})[of], dtype=np.float64))
        columns.append((moved[0] - moved[1]) / (2 * eps))
    shape = np.shape(cg.evaluate(g, **point)[of])
    return np.moveaxis(np.array(columns), 0, -1).reshape(shape + base.shape)


def softmax_graph(declared=True):
    g = cg.Graph("softmax")
    x = g.input("x", shape=(3,)) if declared else g.input("x")
    g.output(cg.softmax(x), name="s")
    return g


X3 = np.array([0.5, -1.0, 2.0])


def softmax_sympy():
    xs = sp.symbols("x0:3", real=True)
    den = sum(sp.exp(v) for v in xs)
    s = sp.Matrix([sp.exp(v) / den for v in xs])
    return np.array(s.jacobian(xs).subs(dict(zip(xs, map(sp.nsimplify, X3)))).evalf(30), dtype=float)


def layer(declared=True):
    """h = tanh(W @ x + b), W (2, 3)."""
    if not declared:
        return cg.parse("h = tanh(W @ x + b)")
    g = cg.Graph("layer")
    W, x, b = g.input("W", shape=(2, 3)), g.input("x", shape=(3,)), g.input("b", shape=(2,))
    g.output(cg.tanh(W @ x + b), name="h")
    return g


LAYER = {"W": np.array([[0.3, -0.2, 0.5], [1.0, 0.4, -0.7]]), "x": np.array([0.5, -1.5, 2.0]),
         "b": np.array([0.1, -0.3])}


def layer_sympy():
    W = sp.Matrix(2, 3, sp.symbols("W0:6", real=True))
    x, b = sp.Matrix(sp.symbols("x0:3", real=True)), sp.Matrix(sp.symbols("b0:2", real=True))
    h = (W @ x + b).applyfunc(sp.tanh)
    at = dict(zip(list(W) + list(x) + list(b), map(sp.nsimplify, [*LAYER["W"].ravel(), *LAYER["x"], *LAYER["b"]])))
    dx = np.array(h.jacobian(x).subs(at).evalf(30), dtype=float)
    dW = np.array(h.jacobian(list(W)).subs(at).evalf(30), dtype=float).reshape(2, 2, 3)  # W row-major
    return dx, dW


# ------------------------------------------------------------------------------ values
@pytest.mark.parametrize("declared", [True, False], ids=["declared shapes", "undeclared"])
def test_softmax_jacobian_matches_sympy_and_the_lecture_formula(declared):
    J = cg.jacobian(softmax_graph(declared), "x", x=X3)
    assert J.shape == (3, 3) and J.dtype == np.float64
    np.testing.assert_allclose(J, softmax_sympy(), rtol=1e-14, atol=1e-16)
    s = np.exp(X3) / np.exp(X3).sum()
    np.testing.assert_allclose(J, np.diag(s) - np.outer(s, s), rtol=1e-14, atol=1e-16)


@pytest.mark.parametrize("declared", [True, False], ids=["declared shapes", "parsed, undeclared"])
def test_a_layer_jacobian_wrt_x_and_W_matches_sympy_and_differences(declared):
    g = layer(declared)
    dx, dW = layer_sympy()
    got = cg.jacobian(g, ["x", "W"], **LAYER)
    assert list(got) == ["x", "W"]
    assert got["x"].shape == (2, 3) and got["W"].shape == (2, 2, 3)
    np.testing.assert_allclose(got["x"], dx, rtol=1e-13)
    np.testing.assert_allclose(got["W"], dW, rtol=1e-13, atol=1e-16)
    np.testing.assert_array_equal(cg.jacobian(g, "x", **LAYER), got["x"])  # one name: the array itself
    for w in ("x", "W", "b"):
        np.testing.assert_allclose(cg.jacobian(g, w, **LAYER), central_jacobian(g, LAYER, w), rtol=1e-7, atol=1e-9)
    assert list(cg.jacobian(g, **LAYER)) == g.inputs  # default: every input, as cg.grad


def test_vjp_graph_is_u_times_the_jacobian():
    g = layer()
    j = cg.vjp_graph(g)
    assert j.inputs == ["W", "x", "b", "u_h"] and j.outputs == ["g_W", "g_x", "g_b"]
    assert [j.nx.nodes[o]["vjp"] for o in j.outputs] == [("h", w, "u_h") for w in ("W", "x", "b")]
    u = np.array([0.7, -1.3])
    got = cg.evaluate(j, **LAYER, u_h=u)
    J = cg.jacobian(g, **LAYER)
    for w in g.inputs:
        assert got[f"g_{w}"].shape == LAYER[w].shape
        np.testing.assert_allclose(got[f"g_{w}"], np.tensordot(u, J[w], axes=1), rtol=1e-14)
    simple = cg.evaluate(cg.simplify(j), **LAYER, u_h=u)
    np.testing.assert_allclose(simple["g_W"], got["g_W"], rtol=1e-14)


def test_a_scalar_output_gives_the_gradient_bit_for_bit():
    g = cg.parse("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    J = cg.jacobian(g, x=2.0, z=3.0)
    assert J == cg.grad(g, x=2.0, z=3.0)
    net = cg.nn.MLP([2, 3, 2], activation="tanh", loss="cross_entropy", seed=0)
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(4, 2)), np.eye(2)[[0, 1, 1, 0]]
    for dtype in (np.float64, np.float32):
        point = {"X": X.astype(dtype), "Y": Y.astype(dtype), **{k: v.astype(dtype) for k, v in net.params.items()}}
        J, want = cg.jacobian(net.graph, feeds=point), cg.grad(net.graph, feeds=point)
        for w in net.params:
            assert J[w].dtype == want[w].dtype == dtype
            np.testing.assert_array_equal(J[w], want[w])


def test_dtypes_follow_the_wrt_values_as_grad():
    g = softmax_graph()
    assert cg.jacobian(g, "x", x=X3.astype(np.float32)).dtype == np.float32
    ints = cg.jacobian(g, "x", x=np.array([0, 1, 2]))
    assert ints.dtype == np.float64
    np.testing.assert_allclose(ints, cg.jacobian(g, "x", x=np.array([0.0, 1.0, 2.0])), rtol=1e-15)
    f32 = cg.jacobian(g, "x", x=X3.astype(np.float32))
    np.testing.assert_allclose(f32, softmax_sympy(), rtol=1e-6, atol=1e-7)
    h = layer()
    mixed = cg.jacobian(h, ["x", "W"], **{**LAYER, "W": LAYER["W"].astype(np.float32)})
    assert mixed["x"].dtype == np.float64 and mixed["W"].dtype == np.float32
    assert cg.jacobian(cg.parse("y = x*x"), "x", x=3) == 6.0  # a scalar's: a number
    assert isinstance(cg.jacobian(cg.parse("y = x*x"), "x", x=3), np.float64)


def test_a_formula_over_undeclared_shapes_is_diagonal_with_broadcasts_summed():
    g = cg.parse("y = x^2*z")
    j = cg.vjp_graph(g)
    assert j.inputs == ["x", "z", "u_y"]
    assert cg.to_text(cg.simplify(j)).splitlines() == ["g_x = 2*x*z*u_y", "g_z = x^2*u_y"]
    x = np.array([1.0, 2.0, 3.0])
    J = cg.jacobian(g, x=x, z=2.0)  # y (3,): dy/dx = diag(2xz), dy/dz = x^2
    np.testing.assert_array_equal(J["x"], np.diag(2 * x * 2.0))
    np.testing.assert_array_equal(J["z"], x**2)
    both = cg.jacobian(g, x=x, z=np.array([[1.0], [2.0]]))  # y (2, 3)
    assert both["x"].shape == (2, 3, 3) and both["z"].shape == (2, 3, 2, 1)
    np.testing.assert_allclose(both["z"], central_jacobian(g, {"x": x, "z": np.array([[1.0], [2.0]])}, "z"),
                               rtol=1e-8)
    np.testing.assert_allclose(both["x"], central_jacobian(g, {"x": x, "z": np.array([[1.0], [2.0]])}, "x"),
                               rtol=1e-8)


def test_of_picks_a_node_and_an_input_not_reaching_it_has_zeros():
    net = cg.nn.MLP([2, 3, 2], activation="tanh", loss="cross_entropy", seed=0)
    g = net.graph
    X = np.array([[0.5, -1.0], [1.5, 0.2]])
    point = {"X": X, "Y": np.eye(2), **net.params}
    got = cg.jacobian(g, ["W1", "W2"], of="z1", **point)  # the hidden layer's dz1/dW1: (2, 3, 2, 3)
    assert got["W1"].shape == (2, 3, 2, 3) and got["W2"].shape == (2, 3, 3, 2)
    np.testing.assert_allclose(got["W1"], central_jacobian(g, point, "W1", of="z1"), rtol=1e-7, atol=1e-10)
    np.testing.assert_array_equal(got["W2"], 0.0)
    params_by_value = cg.jacobian(g, "b1", of="z1", X=X, Y=np.eye(2))  # a param not fed: its own value
    np.testing.assert_array_equal(params_by_value, cg.jacobian(g, "b1", of="z1", **point))
    dyhat = cg.jacobian(g, "X", of=g.node("yhat"), **point)
    np.testing.assert_allclose(dyhat, central_jacobian(g, point, "X", of="yhat"), rtol=1e-7, atol=1e-10)


def test_of_an_input_itself_is_the_identity():
    g = cg.Graph("id")
    x = g.input("x", shape=(2,))
    z = g.input("z", shape=(2,))
    g.output(x * z, name="y")
    j = cg.vjp_graph(g, of="x")
    assert j.outputs == ["g_x", "g_z"]
    got = cg.evaluate(j, x=np.ones(2), z=np.ones(2), u_x=np.array([3.0, 4.0]))
    np.testing.assert_array_equal(got["g_x"], [3.0, 4.0])
    np.testing.assert_array_equal(got["g_z"], [0.0, 0.0])
    np.testing.assert_array_equal(cg.jacobian(g, "x", of="x", x=np.ones(2), z=np.ones(2)), np.eye(2))


@SETTINGS
@given(array_expressions(max_steps=6), st.integers(0, 2**32 - 1))
def test_random_array_jacobians_match_differences_and_give_the_vjp(g, seed):
    note(describe(g))
    of = g.operands(g.outputs[0])[0]  # the node array_expressions sums to its output
    point = array_points(g, seed)
    J = cg.jacobian(g, of=of, feeds=point)
    value = np.asarray(cg.evaluate(g, **point)[of])
    assume(all(np.all(np.isfinite(v)) for v in J.values()) and np.all(np.isfinite(value)))
    u = np.random.default_rng(seed).uniform(-1, 1, value.shape)
    j = cg.vjp_graph(g, of=of)
    got = cg.evaluate(j, **point, **{j.inputs[-1]: u})
    for w in g.inputs:
        assert J[w].shape == value.shape + point[w].shape
        fd = central_jacobian(g, point, w, of=of, eps=1e-5)
        scale = max(1.0, float(np.max(np.abs(J[w]), initial=0)))
        assume(np.allclose(fd, central_jacobian(g, point, w, of=of, eps=2e-5), rtol=1e-4, atol=1e-4 * scale))
        np.testing.assert_allclose(J[w], fd, rtol=1e-5, atol=1e-5 * scale)
        vjp = np.tensordot(u, J[w], axes=value.ndim)
        np.testing.assert_allclose(got[f"g_{w}"], vjp, rtol=1e-9, atol=1e-9 * scale * max(1.0, np.abs(u).sum()))
    full = cg.jacobian(g, feeds=point)  # of the sum: the gradient
    grad = cg.grad(g, feeds=point)
    for w in g.inputs:
        np.testing.assert_allclose(full[w], grad[w], rtol=1e-14, atol=1e-300)


# ------------------------------------------------------------------------------ the graph
def test_the_softmax_vjp_prints_as_the_lecture_derivation():
    j = cg.simplify(cg.vjp_graph(softmax_graph()))
    assert cg.to_text(j) == "g_x = softmax(x)*(u_s - sum(u_s*softmax(x), axis=-1, keepdims=True))"
    assert cg.to_latex(j) == (
        r"u_{s}^{\top} \frac{\partial s}{\partial x} = \operatorname{softmax}\left(x\right) \odot "
        r"\left(u_{s} - \sum_{\mathrm{axis}=-1}\left(u_{s} \odot \operatorname{softmax}\left(x\right)\right)\right)")
    back = cg.loads(cg.dumps(j))  # the heading survives a save
    assert cg.to_latex(back) == cg.to_latex(j)
    program = cg.to_text(cg.vjp_graph(softmax_graph()), form="program").splitlines()
    assert program == ["s = softmax(x)", "g_x = s*(u_s - sum(u_s*s, axis=-1, keepdims=True))"]


def test_a_scalar_output_heads_u_as_a_scalar():
    j = cg.simplify(cg.vjp_graph(cg.parse("y = x*z"), wrt="x"))
    assert cg.to_latex(j) == r"u_{y}^{\top} \frac{\partial y}{\partial x} = z u_{y}"
    assert float(cg.evaluate(j, x=2.0, z=3.0, u_y=1.0)["g_x"]) == 3.0


def test_vjp_names_do_not_clash_with_the_graphs():
    g = cg.Graph("taken")
    g.input("u_y")
    x = g.input("x", shape=(2,))
    g.input("g_x")
    g.output(x * x, name="y")
    j = cg.vjp_graph(g, wrt=["x"])
    assert j.inputs == ["u_y", "x", "g_x", "u2_y"] and j.outputs == ["g2_x"]
    assert j.nx.nodes["g2_x"]["vjp"] == ("y", "x", "u2_y")
    got = cg.evaluate(j, x=np.array([1.0, 2.0]), u2_y=np.array([1.0, -1.0]), u_y=5.0, g_x=7.0)
    np.testing.assert_array_equal(got["g2_x"], [2.0, -4.0])
    assert cg.to_latex(cg.simplify(j)) == r"u_{2,y}^{\top} \frac{\partial y}{\partial x} = 2 x \odot u_{2,y}"


def test_the_input_graph_is_not_changed():
    g = layer()
    before = cg.dumps(g)
    cg.vjp_graph(g)
    cg.jacobian(g, **LAYER)
    assert cg.dumps(g) == before
    assert g.outputs == ["h"] and g.inputs == ["W", "x", "b"]


def test_no_wrt_and_an_empty_output():
    g = softmax_graph()
    assert cg.vjp_graph(g, wrt=[]).outputs == []
    assert cg.jacobian(g, [], x=X3) == {}
    assert cg.jacobian(cg.parse("y = 2*x"), "x", x=np.ones(0)).shape == (0, 0)


# ------------------------------------------------------------------------------ errors
def test_errors_name_what_is_wrong():
    g = softmax_graph()
    with pytest.raises(cg.InputError, match=r"input 'u_s': expected shape \(3,\), got \(2,\)"):
        cg.evaluate(cg.vjp_graph(g), x=X3, u_s=np.ones(2))
    with pytest.raises(cg.GraphError, match="wrt 's' is a softmax node of graph 'softmax', not an input or param: "
                                            "a Jacobian is taken with respect to inputs and params"):
        cg.jacobian(g, "s", x=X3)
    with pytest.raises(cg.GraphError, match="not an input or param: a vector-Jacobian product is taken"):
        cg.vjp_graph(g, wrt=["s"])
    with pytest.raises(cg.NodeNotFoundError, match=r"wrt 'q' is not a node of graph 'softmax' \(its inputs and params: x\)"):
        cg.jacobian(g, "q", x=X3)
    with pytest.raises(cg.NodeNotFoundError, match="of 'S' is not a node of graph 'softmax'; did you mean 's'"):
        cg.vjp_graph(g, of="S")
    with pytest.raises(cg.InputError, match=r"graph 'softmax' is missing input\(s\) 'x'; cg.jacobian evaluates at a "
                                            r"point .* cg.vjp_graph\(g\) is the vector-Jacobian product as a graph"):
        cg.jacobian(g)
    with pytest.raises(cg.InputError, match="'q'"):
        cg.jacobian(g, x=X3, q=1.0)
    with pytest.raises(cg.InputError, match="wrt must be a node name or a list of names, not 2.0"):
        cg.jacobian(g, 2.0)
    with pytest.raises(cg.GraphError, match="jacobian needs a cg.Graph, not str"):
        cg.jacobian("softmax(x)", x=X3)
    two = cg.parse("a = x*z\ny = sin(a)")
    two.set_outputs(["a", "y"])
    with pytest.raises(cg.GraphError, match=r"has 2 outputs \['a', 'y'\]; say which with of=..."):
        cg.vjp_graph(two)


def test_non_finite_values_follow_the_nonfinite_policy():
    g = cg.parse("y = log(x)")
    with pytest.raises(cg.DomainError, match=r"node 'y' \(log\) is not finite at index \(1,\)"):
        cg.jacobian(g, "x", x=np.array([1.0, -1.0]))
    J = cg.jacobian(g, "x", x=np.array([2.0, 0.0]), nonfinite="propagate")
    assert J[0, 0] == 0.5 and J[1, 1] == np.inf


def test_grad_of_a_declared_vector_output_points_to_the_jacobian():
    g = softmax_graph()
    message = (r"cannot differentiate non-scalar node 's' of shape \(3,\): reduce it first \(e.g. cg.sum\) or "
               r"differentiate one element; for its Jacobian, cg.jacobian\(g, ...\) evaluates it at a point and "
               r"cg.vjp_graph\(g\) builds the vector-Jacobian product as a graph$")
    with pytest.raises(cg.ShapeError, match=message):
        cg.grad(g, x=X3)
    with pytest.raises(cg.ShapeError, match=message):
        cg.adjoint(g)
    with pytest.raises(cg.ShapeError, match=r"differentiate one element$"):  # a Hessian needs a scalar
        cg.hessian_graph(g)
    assert cg.jacobian(g, "x", x=X3).shape == (3, 3)  # what the message names works
