"""cg.hessian_graph (the Hessian as a graph of second derivatives) and cg.hessian (it,
evaluated to an (n, n) array): against SymPy, central differences of cg.grad, the
hand-made adjoint of an adjoint, and their errors."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, note, settings
from strategies import describe, examples, expressions, finite_values, points
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
            want = complex(sp.diff(f, symbols[wi], symbols[wj]).subs(at).evalf(30))
            assert want.imag == 0
            assert float(got[i, j]) == pytest.approx(want.real, rel=1e-8, abs=1e-8 * max(1.0, abs(want.real))), (wi, wj)


@SETTINGS
@given(expressions(max_steps=6, n_inputs=3), points(n_inputs=3, lo=0.5, hi=1.5))
def test_random_hessians_are_symmetric_and_match_differences_of_grad(g, point):
    note(describe(g))
    assume(finite_values(cg.hessian_graph(g), point) is not None)
    h = cg.hessian(g, feeds=point)
    assert h.shape == (3, 3)
    scale = max(1.0, float(np.max(np.abs(h))))
    np.testing.assert_allclose(h, h.T, rtol=1e-9, atol=1e-9 * scale)
    fd = central_hessian(g, point, g.inputs)
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


def test_a_declared_vector_wrt_is_a_shape_error_naming_the_hessian_vector_product():
    g = cg.Graph("v")
    x = g.input("x", shape=(3,))
    g.output(cg.sum(x * x * x), name="y")
    with pytest.raises(cg.ShapeError, match=r"wrt 'x' has shape \(3,\): .* scalar inputs and params only; "
                                            r"for a vector v, a Hessian-vector product is the adjoint of sum\(g_x\*v\)"):
        cg.hessian_graph(g)
    with pytest.raises(cg.ShapeError, match=r"wrt 'x' has shape \(3,\)"):
        cg.hessian(g, x=np.ones(3))
    p = cg.Graph("p")
    w = p.param("w", value=np.ones(2))
    p.output(cg.sum(w * w), name="L")
    with pytest.raises(cg.ShapeError, match=r"wrt 'w' has shape \(2,\)"):
        cg.hessian(p)


def test_the_hessian_vector_product_the_message_gives_works():
    g = cg.Graph("v")
    x = g.input("x", shape=(3,))
    g.output(cg.sum(x * x * x), name="y")  # H = diag(6x)
    with pytest.raises(cg.ShapeError) as info:
        cg.hessian_graph(g)
    assert str(info.value).endswith(
        "the adjoint of sum(g_x*v): ga = cg.adjoint(g, wrt=['x']); v = ga.input('v', shape=...); "
        "ga.output(cg.sum(ga.node(ga.outputs[0])*v), name='gv'); cg.adjoint(ga, wrt=['x'], of='gv')")
    ga = cg.adjoint(g, wrt=["x"])  # the same steps
    v = ga.input("v", shape=(3,))
    ga.output(cg.sum(ga.node(ga.outputs[0]) * v), name="gv")
    hv = cg.adjoint(ga, wrt=["x"], of="gv")
    got = cg.evaluate(hv, x=np.array([1.0, 2.0, 3.0]), v=np.array([1.0, -1.0, 2.0]))
    np.testing.assert_allclose(got[hv.outputs[0]], [6.0, -12.0, 36.0])


def test_an_array_fed_for_wrt_is_an_input_error():
    g = cg.parse("y = x^2*z")
    with pytest.raises(cg.InputError, match=r"input 'z' is fed an array of shape \(2,\): take the Hessian of scalar "
                                            r"inputs and params only; .* adjoint of sum\(g_z\*v\)"):
        cg.hessian(g, x=1.0, z=np.ones(2))
    with pytest.raises(cg.InputError, match=r"input 'x' is fed an array of shape \(2, 2\)"):
        cg.hessian(g, feeds={"x": np.ones((2, 2))}, z=1.0)
    p = cg.Graph("p")
    w = p.param("w", value=2.0)
    p.output(w * w, name="L")
    with pytest.raises(cg.InputError, match=r"param 'w' is fed an array of shape \(3,\): .* sum\(g_w\*v\)"):
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
