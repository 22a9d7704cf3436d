"""The derivative rules of every op and the adjoint pass.

Every op of the registry is checked against central finite differences at random
in-domain points (float64, rtol 1e-5, atol 1e-8, away from kinks); elementwise and
arithmetic ops also against SymPy's ``diff``, to first and second order.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from graphs import lecture, sin_chain
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cgraph as cg

RTOL, ATOL = 1e-5, 1e-8


def _uniform(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, shape)


def _away_from_zero(rng, shape):  # kinks of relu/abs/step/sign sit at 0
    return rng.uniform(0.3, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def _like(rng, shape):
    return rng.uniform(-1, 1, shape)


ANY = _uniform(-2, 2)
POSITIVE = _uniform(0.5, 2)

# op -> (operand shapes, attrs, sampler per operand, SymPy function or None)
OP_CASES = {
    "add": ([(2, 3), (3,), (2, 1)], {}, [ANY, ANY, ANY], lambda *xs: sum(xs)),
    "sub": ([(2, 3), (3,)], {}, [ANY, ANY], lambda a, b: a - b),
    "mul": ([(2, 3), (2, 3), (1, 3)], {}, [ANY, ANY, ANY], lambda *xs: math.prod(xs)),
    "div": ([(2, 3), (3,)], {}, [ANY, _away_from_zero], lambda a, b: a / b),
    "neg": ([(2, 3)], {}, [ANY], lambda a: -a),
    "pow": ([(2, 3), (2, 3)], {}, [POSITIVE, ANY], lambda a, b: a**b),
    "maximum": ([(2, 3), (3,)], {}, [ANY, ANY], sp.Max),
    "minimum": ([(3, 1), (1, 4)], {}, [ANY, ANY], sp.Min),
    "sign_diff": ([(2, 3), (3,)], {}, [_away_from_zero, _uniform(-0.1, 0.1)], lambda a, b: sp.sign(a - b)),  # apart
    "exp": ([(2, 3)], {}, [ANY], sp.exp),
    "log": ([(2, 3)], {}, [POSITIVE], sp.log),
    "sin": ([(2, 3)], {}, [ANY], sp.sin),
    "cos": ([(2, 3)], {}, [ANY], sp.cos),
    "tan": ([(2, 3)], {}, [_uniform(-1.2, 1.2)], sp.tan),
    "tanh": ([(2, 3)], {}, [ANY], sp.tanh),
    "sigmoid": ([(2, 3)], {}, [ANY], lambda a: 1 / (1 + sp.exp(-a))),
    "softplus": ([(2, 3)], {}, [ANY], lambda a: sp.log(1 + sp.exp(a))),
    "relu": ([(2, 3)], {}, [_away_from_zero], lambda a: sp.Max(a, 0)),
    "sqrt": ([(2, 3)], {}, [POSITIVE], sp.sqrt),
    "abs": ([(2, 3)], {}, [_away_from_zero], sp.Abs),
    "square": ([(2, 3)], {}, [ANY], lambda a: a**2),
    "step": ([(2, 3)], {}, [_away_from_zero], sp.Heaviside),
    "sign": ([(2, 3)], {}, [_away_from_zero], sp.sign),
    "identity": ([(2, 3)], {}, [ANY], lambda a: a),
    "replace_zero": ([(2, 3)], {}, [_away_from_zero], lambda a: a),  # 1 at 0: a jump, differentiated as a
    "replace_zero_if": ([(2, 3), (3,)], {}, [_away_from_zero, ANY], lambda a, b: a),  # 1 where both are 0
    "matmul": ([(2, 4, 3), (3, 5)], {}, [ANY, ANY], None),
    "matmul_grad": ([(2, 5), (2, 3), (3, 5)], {"operand": 1}, [ANY, ANY, ANY], None),
    "sum": ([(2, 3, 4)], {"axis": (0, 2), "keepdims": True}, [ANY], None),
    "mean": ([(2, 3, 4)], {"axis": 1}, [ANY], None),
    "transpose": ([(2, 3, 4)], {"axes": (1, 2, 0)}, [ANY], None),
    "reshape": ([(2, 3, 4)], {"shape": (4, -1)}, [ANY], None),
    "sum_to": ([(2, 3, 4), (3, 1)], {}, [ANY, _like], None),
    "expand_to": ([(3, 1), (2, 3, 4)], {}, [ANY, _like], None),
    "reshape_like": ([(2, 6), (3, 4)], {}, [ANY, _like], None),
    "slice": ([(3, 7)], {"start": 1, "stop": -1, "step": 2, "axis": 1}, [ANY], None),
    "unslice": ([(2, 3), (2, 7)], {"start": -1, "step": -3, "axis": -1}, [ANY, _like], None),
    "size": ([(2, 3)], {"axis": 1}, [ANY], None),
    "zeros_like": ([(2, 3)], {}, [ANY], None),
    "softmax": ([(2, 3, 4)], {"axis": 1}, [ANY], None),
    "log_softmax": ([(2, 3, 4)], {"axis": -1}, [ANY], None),
    "logsumexp": ([(2, 3, 4)], {"axis": (0, 2)}, [ANY], None),
}


def test_every_registered_op_has_a_case():
    assert set(OP_CASES) == set(cg.OPS), "add a case for each new op (and its derivative rule)"
    for name, op in cg.OPS.items():
        assert op.vjp is not None, f"{name} has no derivative rule"


def weighted_sum(node, rng):
    """``sum(node * W)`` for a fixed random W: a scalar whose gradient is not uniform."""
    shape = node.shape
    if shape is None or shape == ():
        return cg.sum(node * float(rng.uniform(0.5, 1.5)))
    return cg.sum(node * rng.uniform(0.5, 1.5, shape))


def op_graph(name, shapes, attrs, rng):
    g = cg.Graph(name)
    xs = [g.input(f"a{i}", shape=s) for i, s in enumerate(shapes)]
    node = g.apply(name, *xs, **attrs)
    g.output(weighted_sum(node, rng), name="y")
    return g


def assert_grad_matches_fd(g, feeds, wrt=None):
    analytic = cg.grad(g, wrt, feeds)
    numeric = cg.finite_difference(g, wrt, feeds=feeds)
    for w, value in numeric.items():
        assert np.shape(analytic[w]) == np.shape(value), w
        np.testing.assert_allclose(analytic[w], value, rtol=RTOL, atol=ATOL, err_msg=w)


@pytest.mark.parametrize("name", sorted(OP_CASES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_rule_matches_finite_differences(name, seed):
    rng = np.random.default_rng(seed)
    shapes, attrs, samplers, _ = OP_CASES[name]
    g = op_graph(name, shapes, attrs, rng)
    feeds = {f"a{i}": sample(rng, s) for i, (s, sample) in enumerate(zip(shapes, samplers))}
    assert_grad_matches_fd(g, feeds)


SYMPY_OPS = sorted(n for n, case in OP_CASES.items() if case[3] is not None)


def _scalar_case(name, seed):
    rng = np.random.default_rng(seed)
    shapes, attrs, samplers, fn = OP_CASES[name]
    symbols = sp.symbols(f"a0:{len(shapes)}", real=True)
    g = cg.Graph(name)
    xs = [g.input(str(s)) for s in symbols]
    g.output(g.apply(name, *xs, **attrs), name="y")
    point = {str(s): float(sample(rng, ())) for s, sample in zip(symbols, samplers)}
    return g, fn(*symbols), symbols, point


def _at(expr, symbols, point):
    return float(expr.subs({s: point[str(s)] for s in symbols}).evalf(30))


@pytest.mark.parametrize("name", SYMPY_OPS)
@pytest.mark.parametrize("seed", [0, 1])
def test_rule_matches_sympy(name, seed):
    g, f, symbols, point = _scalar_case(name, seed)
    grads = cg.grad(g, **point)
    for s in symbols:
        assert float(grads[str(s)]) == pytest.approx(_at(sp.diff(f, s), symbols, point), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("name", SYMPY_OPS)
def test_second_derivatives_match_sympy(name):
    g, f, symbols, point = _scalar_case(name, 3)
    first = cg.adjoint(g)
    for out, s in zip(first.outputs, symbols):
        second = cg.adjoint(first, of=out, wrt=[str(t) for t in symbols])
        values = cg.evaluate(second, point)
        for name2, t in zip(second.outputs, symbols):
            expected = _at(sp.diff(f, s, t), symbols, point)
            assert float(values[name2]) == pytest.approx(expected, rel=1e-10, abs=1e-12), (out, name2)


def test_maximum_and_minimum_split_a_tie_evenly_as_sympy_and_central_differences_do():
    # SymPy's d/da Max(a, b) is Heaviside(a - b), 1/2 at a tie; torch and JAX split it too
    a, b = sp.symbols("a b", real=True)
    for name, fn in (("maximum", sp.Max), ("minimum", sp.Min)):
        g = cg.parse(f"y = {name}(a, b)")
        tie = cg.grad(g, a=1.5, b=1.5)
        assert tie == {"a": 0.5, "b": 0.5}, name
        assert [float(sp.diff(fn(a, b), s).subs({a: 1.5, b: 1.5})) for s in (a, b)] == [0.5, 0.5]
        numeric = cg.finite_difference(g, a=1.5, b=1.5)
        assert numeric["a"] == pytest.approx(0.5) and numeric["b"] == pytest.approx(0.5)
        assert cg.grad(cg.parse(f"y = {name}(x, x)"), x=-2.0) == {"x": 1.0}, name  # it is x: slope 1
    got = cg.grad(cg.parse("y = maximum(a, b)"), a=np.array([1.0, 3.0, 2.0]), b=2.0)
    assert got["a"].tolist() == [0.0, 1.0, 0.5] and got["b"] == 1.5  # b, broadcast: the sum of its shares


def test_maximum_with_a_nan_operand_has_a_nan_derivative():
    g = cg.parse("y = maximum(a, b)")
    got = cg.grad(g, a=np.array([np.nan, 3.0]), b=1.0, nonfinite="propagate")
    assert np.isnan(got["a"][0]) and got["a"][1] == 1.0 and np.isnan(got["b"])


@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_and_minimum_have_finite_derivatives_wherever_they_are_finite(name):
    # the rule took sign(a - b): at a = 1e308, b = -1e308 the sub overflowed, a DomainError
    # naming node 't1' (sub) of the rule, where the derivative is {a: 1, b: 0}
    g = cg.parse(f"y = {name}(a, b)")
    larger = name == "maximum"
    f = cg.compile(g, wrt=["a", "b"])
    for a, b in [(1e308, -1e308), (-1e308, 1e308), (1.7976931348623157e308, -1.7976931348623157e308)]:
        want = {"a": float((a > b) == larger), "b": float((b > a) == larger)}
        assert cg.grad(g, a=a, b=b) == want, (a, b)
        assert f(a=a, b=b) == {"y": cg.evaluate(g, a=a, b=b)["y"], "g_a": want["a"], "g_b": want["b"]}  # scalar path
        np.testing.assert_array_equal(cg.hessian(g, a=a, b=b), np.zeros((2, 2)))
    a, b = np.array([1e308, -1e308, 2.0]), np.array([-1e308, 1e308, 2.0])  # and arrays, and the array path
    want = [1.0, 0.0, 0.5] if larger else [0.0, 1.0, 0.5]
    assert cg.grad(g, a=a, b=b)["a"].tolist() == want and f(a=a, b=b)["g_a"].tolist() == want
    got = cg.grad(g, a=np.float32(3e38), b=np.float32(-3e38))  # float32 overflows at 3.4e38
    assert got == {"a": float(larger), "b": float(not larger)} and got["a"].dtype == np.float32
    # no tie made where there is none: a/2 - b/2 would round 5e-324/2 to 0
    tiny = 5e-324
    for a, b in [(tiny, 0.0), (0.0, -tiny), (2 * tiny, tiny), (3 * tiny, 2 * tiny)]:
        assert cg.grad(g, a=a, b=b) == {"a": float(larger), "b": float(not larger)}, (a, b)
        assert f(a=a, b=b)["g_a"] == float(larger), (a, b)


def test_the_two_sides_of_maximum_and_minimum_print_alike():
    # one side printed sign(x - z)/2 + 1/2 and the other (1 - sign(x - z))/2
    def printed(formula):
        return cg.to_text(cg.simplify(cg.adjoint(cg.parse(formula))))

    assert printed("y = maximum(x, z)") == "g_x = sign(x - z)/2 + 1/2\ng_z = sign(z - x)/2 + 1/2"
    assert printed("y = minimum(x, z)") == "g_x = sign(z - x)/2 + 1/2\ng_z = sign(x - z)/2 + 1/2"
    assert cg.to_text(cg.adjoint(cg.parse("y = maximum(x, z)"))) == (
        "g_x = 1*((1 + sign(x - z))/2)\ng_z = 1*((1 + sign(z - x))/2)")
    assert printed("y = maximum(x, 0)") == "g_x = sign(x)/2 + 1/2"  # a number: sign(x - 0), simplified
    assert printed("y = minimum(0, x)") == "g_x = 1/2 - sign(x)/2"  # sign(0 - x) is sign(-x), which is -sign(x)
    assert cg.to_latex(cg.simplify(cg.adjoint(cg.parse("y = maximum(x, z)")), ), form="program").count(
        r"\operatorname{sign}\left(") == 2


def test_relu_and_abs_take_subgradient_zero_at_zero():
    for name in ("relu", "abs", "step", "sign"):
        g = cg.Graph()
        x = g.input("x")
        g.output(g.apply(name, x), name="y")
        assert float(cg.grad(g, x=0.0)["x"]) == 0.0, name
        assert float(cg.grad(g, x=np.zeros(3))["x"].sum()) == 0.0


# ------------------------------------------------------------------ shapes (hypothesis)
def _feeds(rng, shapes, sample=ANY):
    return {f"a{i}": sample(rng, s) for i, s in enumerate(shapes)}


@settings(max_examples=40, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, max_side=3), st.sampled_from(["add", "sub", "mul", "div", "pow"]), st.integers(0, 99))
def test_broadcasting_reduces_gradients_to_operand_shapes(bshapes, name, seed):
    rng = np.random.default_rng(seed)
    shapes = list(bshapes.input_shapes)[: (3 if name in ("add", "mul") else 2)]
    g = cg.Graph()
    xs = [g.input(f"a{i}", shape=s) for i, s in enumerate(shapes)]
    g.output(weighted_sum(g.apply(name, *xs), rng), name="y")
    feeds = _feeds(rng, shapes, POSITIVE if name in ("div", "pow") else ANY)
    assert_grad_matches_fd(g, feeds)


@st.composite
def matmul_shapes(draw):
    n, k, m = (draw(st.integers(1, 3)) for _ in range(3))
    batch = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=2)).input_shapes
    a = draw(st.sampled_from([(k,), batch[0] + (n, k)]))
    b = draw(st.sampled_from([(k,), batch[1] + (k, m)]))
    return a, b


@settings(max_examples=50, deadline=None)
@given(matmul_shapes(), st.booleans(), st.integers(0, 99))
def test_matmul_gradients(shapes, known, seed):
    known = known or any(len(s) != 2 for s in shapes)  # unknown shapes are taken as matrices
    rng = np.random.default_rng(seed)
    g = cg.Graph()
    a, b = (g.input(f"a{i}", shape=s if known else None) for i, s in enumerate(shapes))
    node = a @ b
    out_shape = np.matmul(np.zeros(shapes[0]), np.zeros(shapes[1])).shape
    g.output(cg.sum(node * rng.uniform(0.5, 1.5, out_shape)), name="y")
    assert_grad_matches_fd(g, _feeds(rng, shapes))


@st.composite
def reductions(draw):
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, max_side=3))
    name = draw(st.sampled_from(["sum", "mean", "logsumexp", "softmax", "log_softmax", "transpose", "reshape"]))
    ndim = len(shape)
    if name in ("softmax", "log_softmax"):
        return shape, name, {"axis": draw(st.integers(-ndim, ndim - 1))}
    if name == "transpose":
        return shape, name, {"axes": tuple(draw(st.permutations(range(ndim))))}
    if name == "reshape":
        return shape, name, {"shape": (-1,) if draw(st.booleans()) else (1, -1, 1)}
    axis = draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1), st.sets(st.integers(0, ndim - 1), min_size=1).map(tuple)))
    return shape, name, {"axis": axis, "keepdims": draw(st.booleans())}


@settings(max_examples=60, deadline=None)
@given(reductions(), st.integers(0, 99))
def test_reduction_and_shape_op_gradients(case, seed):
    shape, name, attrs = case
    rng = np.random.default_rng(seed)
    g = cg.Graph()
    x = g.input("a0", shape=shape)
    g.output(weighted_sum(g.apply(name, x, **attrs), rng), name="y")
    assert_grad_matches_fd(g, _feeds(rng, [shape]))


@pytest.mark.parametrize("n", [3, 4, 7])
def test_variadic_add_and_mul_with_repeated_operands(n):
    rng = np.random.default_rng(n)
    g = cg.Graph()
    xs = [g.input(f"a{i}") for i in range(3)]
    args = [xs[i % 3] for i in range(n)]
    g.output(cg.mul(*args) + cg.add(*args) * xs[0], name="y")
    feeds = {f"a{i}": float(rng.uniform(0.5, 1.5)) for i in range(3)}
    assert_grad_matches_fd(g, feeds)


def test_pow_with_a_variable_exponent():
    g = cg.Graph()
    x, z = g.input("x"), g.input("z")
    g.output(x**z + z**x, name="y")
    grads = cg.grad(g, x=1.7, z=0.6)
    assert float(grads["x"]) == pytest.approx(0.6 * 1.7**-0.4 + 0.6**1.7 * math.log(0.6), rel=1e-13)
    assert float(grads["z"]) == pytest.approx(1.7**0.6 * math.log(1.7) + 1.7 * 0.6**0.7, rel=1e-13)


# ------------------------------------------------------------------ the lecture


L2 = math.log(2)
DYDX = 3 * math.exp(6) + 3 / L2 - 3 / L2**2 + math.cos(L2) / 12 - math.sin(L2) / 12
DYDZ = 2 * math.exp(6) + 2 / L2 - math.sin(L2) / 18


def test_lecture_gradient_equals_the_symbolic_values():
    grads = cg.grad(lecture(), x=2.0, z=3.0)
    assert float(grads["x"]) == pytest.approx(DYDX, rel=1e-12)
    assert float(grads["z"]) == pytest.approx(DYDZ, rel=1e-12)


def test_lecture_g_a_sums_three_contributions_in_one_add_node():
    ga = cg.adjoint(lecture())
    node = ga["g_a"]
    assert node.op == "add"
    parts = node.operands
    assert len(parts) == 3 and all(p.op == "mul" for p in parts)
    # g_f*(-c/a^2) + g_e*(1/b) + g_d*d, in the lecture's order
    assert [p.operands[0].name for p in parts] == ["g_f", "g_e", "g_d"]
    assert sum(1 for n in ga.nx if ga.nx.nodes[n].get("adjoint_of") == "a") == 1
    assert ga.outputs == ["g_x", "g_z"]
    assert ga.nx.nodes["g_x"]["adjoint_of"] == "x" and ga.nx.nodes["g_x"]["derivative_of"] == "y"
    assert all(ga.nx.nodes[n].get("adjoint") for n in ga.nx if n not in lecture().nx)


def test_lecture_hessian_row_matches_sympy():
    x, z = sp.symbols("x z", positive=True)
    y = sp.exp(x * z) + x * z / sp.log(x) + sp.sin(sp.log(x)) / (x * z)
    first = cg.adjoint(lecture())
    hessian_row = cg.adjoint(first, of="g_x", wrt=["x", "z"])
    assert hessian_row.outputs == ["g2_x", "g2_z"]
    values = cg.evaluate(hessian_row, x=2.0, z=3.0)
    for out, var in zip(hessian_row.outputs, (x, z)):
        expected = float(sp.diff(y, x, var).subs({x: 2, z: 3}).evalf(30))
        assert float(values[out]) == pytest.approx(expected, rel=1e-12)


# ------------------------------------------------------------------ the pass's contract
def test_fan_out_of_a_thousand_consumers_is_one_sum():
    g = cg.Graph()
    x = g.input("x")
    a = cg.sin(x, name="a")
    g.output(cg.add(*[a * k for k in range(1, 1001)]), name="y")
    ga = cg.adjoint(g)
    assert ga["g_a"].op == "add" and len(ga["g_a"].operands) == 1000
    assert float(cg.grad(g, x=0.3)["x"]) == pytest.approx(500500 * math.cos(0.3), rel=1e-12)


def test_x_times_x_gives_2x():
    g = cg.Graph()
    x = g.input("x")
    g.output(x * x, name="y")
    assert float(cg.grad(g, x=1.5)["x"]) == 3.0
    assert cg.to_text(cg.simplify(cg.adjoint(g))) == "g_x = 2*x"


def test_wrt_not_upstream_of_the_output_gets_zeros_of_its_shape():
    g = cg.Graph()
    x = g.input("x")
    g.input("w", shape=(3,))
    g.output(cg.sin(x), name="y")
    ga = cg.adjoint(g)
    assert ga["g_w"].op == "zeros_like"
    grads = cg.grad(g, x=0.5, w=np.ones(3))
    assert grads["w"].shape == (3,) and not grads["w"].any()


def test_nothing_is_computed_for_nodes_that_do_not_lead_to_wrt():
    g = cg.Graph()
    x, z = g.input("x"), g.input("z")
    g.output(cg.exp(cg.sin(z)) * x, name="y")
    ga = cg.adjoint(g, wrt=["x"])
    adjoints = {ga.nx.nodes[n].get("adjoint_of") for n in ga.nx} - {None}
    assert adjoints == {"y", "x"}


def _snapshot(g):
    return (
        sorted((n, repr(sorted((k, repr(v)) for k, v in d.items()))) for n, d in g.nx.nodes(data=True)),
        sorted(g.nx.edges(keys=True)),
        list(g.outputs),
    )


def test_passes_never_mutate_their_input():
    g = lecture()
    before = _snapshot(g)
    ga = cg.adjoint(g)
    cg.grad(g, x=2.0, z=3.0)
    assert _snapshot(g) == before
    before_adjoint = _snapshot(ga)
    cg.adjoint(ga, of="g_x")
    cg.simplify(ga, x=2, z=3)
    cg.to_text(ga, form="program")
    cg.to_latex(ga)
    assert _snapshot(ga) == before_adjoint


def test_errors_name_the_culprit():
    g = lecture()
    with pytest.raises(cg.NodeNotFoundError, match="'w'"):
        cg.adjoint(g, wrt=["w"])
    with pytest.raises(cg.NodeNotFoundError, match="'q'"):
        cg.adjoint(g, of="q")
    h = cg.Graph()
    v = h.input("v", shape=(3,))
    h.output(cg.sin(v), name="y")
    with pytest.raises(cg.ShapeError, match="'y'"):
        cg.adjoint(h)


@pytest.mark.parametrize("fn", [cg.adjoint, cg.grad, cg.finite_difference, cg.check_gradients, cg.compile])
@pytest.mark.parametrize("wrt", [2.0, 3, np.ones(2), [2.0], ["x", None]])
def test_input_values_given_as_wrt_are_an_input_error(fn, wrt):
    # grad(g, 2.0), as jax.grad(f)(2.0) reads: the second positional argument is wrt
    with pytest.raises(cg.InputError, match="wrt .*names"):
        fn(cg.parse("y = 2*x"), wrt)


@pytest.mark.parametrize("wrt", [2.0, {"x": 2.0}])
def test_values_given_as_wrt_are_told_which_functions_take_them(wrt):
    # adjoint said "pass input values as keyword arguments (x=2.0) or as feeds=...": it takes neither
    with pytest.raises(cg.InputError) as info:
        cg.adjoint(cg.parse("y = 2*x"), wrt)
    assert "input values are keyword arguments (x=2.0) or feeds=... of grad" in str(info.value)


DERIVATIVES = [cg.adjoint, cg.grad, cg.finite_difference, cg.check_gradients, cg.compile]


def _derive(fn, g, wrt, of=None):
    point = {} if fn in (cg.adjoint, cg.compile) else {"x": 2.0, "z": 3.0}
    return fn(g, wrt, of=of, **point)


@pytest.mark.parametrize("fn", DERIVATIVES)
def test_wrt_and_of_take_node_handles_as_well_as_names(fn):
    # as pytensor.grad(cost, wrt=[x]) and g.output(y): a handle names its node
    g = cg.parse("y = x*z")
    x, y = g.node("x"), g.node("y")
    by_name = _derive(fn, g, ["z", "x"], of="y")
    by_handle = _derive(fn, g, ["z", x], of=y)
    assert repr(by_handle) == repr(by_name) if fn is not cg.compile else by_handle is by_name  # (compile: cached)
    assert repr(_derive(fn, g, x)) == repr(_derive(fn, g, "x")) or fn is cg.compile
    other = cg.parse("y = x*z")
    with pytest.raises(cg.GraphError, match="wrt: node 'x' belongs to another graph"):
        _derive(fn, g, [other.node("x")])
    with pytest.raises(cg.GraphError, match="of: node 'y' belongs to another graph"):
        _derive(fn, g, ["x"], of=other.node("y"))


@pytest.mark.parametrize("fn", DERIVATIVES)
@pytest.mark.parametrize("of", [["y"], {"y"}, 1.5])
def test_an_of_that_is_no_name_is_a_node_not_found_error(fn, of):
    # grad, check_gradients and compile keyed their caches on it first: TypeError (unhashable)
    with pytest.raises(cg.NodeNotFoundError, match="of .* is not a node of graph"):
        _derive(fn, cg.parse("y = x*z"), ["x"], of=of)


def test_a_wrt_or_of_differing_only_in_case_suggests_the_node():
    g = lecture()
    with pytest.raises(cg.NodeNotFoundError, match="wrt 'X' .*; did you mean 'x'"):
        cg.adjoint(g, wrt=["X"])
    with pytest.raises(cg.NodeNotFoundError, match="of 'Y' .*; did you mean 'y'"):
        cg.grad(g, of="Y", x=2.0, z=3.0)


# ------------------------------------------------------------------ cost
def op_count(g):
    return sum(1 for _, role in g.nx.nodes(data="role") if role == "op")


def adjoint_ratio(g):
    """Op nodes the adjoint pass adds, per op node of the forward graph."""
    return (op_count(cg.adjoint(g)) - op_count(g)) / op_count(g)


def product(n):  # W3's g_n = prod(x + i)
    g = cg.Graph()
    x = g.input("x")
    node = x + 1
    for i in range(2, n + 1):
        node = node * (x + i)
    g.output(node, name="y")
    return g


def swell(n):  # W3's h_{k+1} = x*exp(-h_k) + log(1 + h_k^2)
    g = cg.Graph()
    x = g.input("x")
    h = x
    for _ in range(n):
        h = x * cg.exp(-h) + cg.log(1 + h**2)
    g.output(h, name="y")
    return g


def ladder(n):  # W5's x_{k+1} = (sin x_k + x_{k-1})/2
    g = cg.Graph()
    prev, cur = g.input("x0"), g.input("x1")
    for _ in range(n):
        prev, cur = cur, 0.5 * (cg.sin(cur) + prev)
    g.output(cur, name="y")
    return g


def mlp():
    return cg.nn.MLP([4, 8, 8, 3], activation="tanh", loss="cross_entropy", seed=0).graph


@pytest.mark.parametrize("build", [lecture, lambda: sin_chain(80), lambda: product(80), lambda: swell(80), lambda: ladder(80), mlp])
def test_cheap_gradient_principle(build):
    g = build()
    ratio = adjoint_ratio(g)
    assert ratio <= 4, ratio


def test_product_of_80_factors_gradient():
    g = product(80)
    x = 0.37
    expected = sum(math.prod(x + j for j in range(1, 81) if j != i) for i in range(1, 81))
    assert float(cg.grad(g, x=x)["x"]) == pytest.approx(expected, rel=1e-12)


def test_a_100000_node_chain_has_an_adjoint():
    ga = cg.adjoint(sin_chain(100_000))  # iterative: no RecursionError
    assert op_count(ga) == 3 * 100_000  # sin, cos and a product per link
    assert ga["g_x"].op == "mul" and {o.op for o in ga["g_x"].operands} == {"mul", "cos"}


def test_a_long_chain_gradient_is_the_product_of_the_local_derivatives():
    g = sin_chain(3000)
    x, expected = 0.5, 1.0
    for _ in range(3000):  # d sin^n(x)/dx = product of cos(x_k)
        expected *= math.cos(x)
        x = math.sin(x)
    assert float(cg.grad(g, x=0.5)["x"]) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("sa", "sb"), [((3,), (3,)), ((3,), (3, 4)), ((2, 3), (3,)), ((2, 3), (3, 4)), ((5, 2, 3), (3,)), ((1, 2, 3), (5, 3, 4))]
)
def test_matmul_of_undeclared_shapes_differentiates_vectors_and_batches(sa, sb):
    # cg.parse declares no shapes: the rule cannot tell a vector from a matrix when the
    # adjoint graph is built (it used to assume matrices: a wrong d/dB for a vector a)
    rng = np.random.default_rng(0)
    g = cg.parse("sum((a @ B) * c)")
    feeds = {"a": rng.normal(size=sa), "B": rng.normal(size=sb)}
    feeds["c"] = rng.normal(size=np.shape(feeds["a"] @ feeds["B"]))
    assert_grad_matches_fd(g, feeds)
    ga = cg.adjoint(g, wrt=["a", "B"])  # second order, through matmul_grad's own rule
    u, v = ga.input("u"), ga.input("v")
    ga.set_outputs([])
    ga.output(cg.sum(ga["g_a"] * u) + cg.sum(ga["g_B"] * v), name="s")
    assert_grad_matches_fd(ga, {**feeds, "u": rng.normal(size=sa), "v": rng.normal(size=sb)}, wrt=["a", "B", "c"])


@pytest.mark.parametrize("build", [
    lambda g: g.input("x", shape=(1, 3)) @ g.input("w", shape=(3, 1)),  # one sample's prediction
    lambda g: cg.transpose(g.input("x", shape=(3, 1))) @ g.input("w", shape=(3, 1)),  # v^T w
    lambda g: cg.reshape(g.input("x", shape=(3,)), shape=(1, 3)) @ cg.reshape(g.input("w", shape=(3,)), shape=(3, 1)),
    lambda g: -(g.input("x", shape=(1, 3)) @ g.input("w", shape=(3, 1))),
    lambda g: 2.0 - 3.0 * (g.input("x", shape=(1, 3)) @ g.input("w", shape=(3, 1))) + 1.0,
    lambda g: cg.transpose(g.input("x", shape=(1, 3)) @ g.input("w", shape=(3, 1))) * 2.0,
], ids=["row@column", "transpose", "reshaped", "negated", "affine", "transposed"])
def test_an_output_of_shape_1x1_differentiates(build):
    # the seed g_y = 1 is a scalar, and elementwise rules pass it on as one: matmul's rule
    # g @ w^T refused it (ShapeError from adjoint)
    g = cg.Graph()
    g.output(build(g), name="y")
    rng = np.random.default_rng(3)
    feeds = {n: rng.normal(size=g.nx.nodes[n]["shape"]) for n in g.inputs}
    got = cg.grad(g, **feeds)
    numeric = cg.finite_difference(g, **feeds)
    compiled = cg.compile(g, wrt=g.inputs)(**feeds)
    for n in g.inputs:
        assert got[n].shape == feeds[n].shape
        np.testing.assert_allclose(got[n], numeric[n], rtol=1e-7)
        np.testing.assert_allclose(compiled[f"g_{n}"], got[n], rtol=1e-15)


@pytest.mark.parametrize("text", ["y = x^0", "y = 3*x^0 + 2*x^1 + x^2", "y = sum(x^0.0 * z)"])
def test_a_zero_exponent_has_derivative_zero_at_zero(text):
    # d/dx x^0 was written 0 * x^(0 - 1): inf * 0 at x = 0, a DomainError where the
    # derivative is 0 (torch: 0); compile, which simplifies it away, returned 0
    g = cg.parse(text)
    feeds = {"z": 2.0} if "z" in g.nx else {}
    want = 2.0 if "2*x^1" in text else 0.0
    for x in (0.0, np.array([0.0, 0.0])):
        assert np.all(cg.grad(g, wrt="x", x=x, **feeds)["x"] == want)
        assert np.all(cg.compile(g, wrt="x")(x=x, **feeds)["g_x"] == want)


def test_an_array_exponent_holding_a_zero_has_derivative_zero_there_at_zero():
    # polynomial features x^[0, 1, 2] with x = 0 among the data: d/dx x^0 was written
    # [0, 1, 2]*x^([0, 1, 2] - 1), 0*inf at x = 0, a DomainError (torch and JAX: 0)
    g = cg.Graph("poly")
    x = g.input("x", shape=(None,))
    a = g.param("a", value=np.array([1.0, -2.0, 0.5]))
    g.output(cg.sum(a * cg.reshape(x, shape=(-1, 1)) ** np.array([0, 1, 2])), name="s")
    xs = np.linspace(0.0, 1.0, 5)
    want = -2.0 + 1.0 * xs  # d/dx (1 - 2x + x^2/2)
    np.testing.assert_allclose(cg.grad(g, x=xs)["x"], want, rtol=1e-15)
    np.testing.assert_allclose(cg.compile(g, wrt=["x"])(x=xs)["g_x"], want, rtol=1e-15)
    np.testing.assert_allclose(cg.evaluate(cg.simplify(cg.adjoint(g)), x=xs)["g_x"], want, rtol=1e-15)
    h = cg.parse("y = sum(x^[0, 3])")
    assert list(cg.grad(h, x=np.array([0.0, 2.0]))["x"]) == [0.0, 12.0]


def test_a_neuron_with_scalar_weights_differentiates_pointwise_without_sum_to():
    # g.param("w", value=0.5) has shape (); beside an input of unknown shape every adjoint
    # was wrapped in sum_to (g_x1 = sum_to(w*sum_to(...*sum_to(1, z)...)), not a slide's program
    g = cg.Graph("neuron")
    x1 = g.input("x1")
    w, b = g.param("w", value=0.5), g.param("b", value=0.1)
    g.output(cg.sigmoid(w * x1 + b, name="z"))
    program = cg.to_text(cg.adjoint(g), form="program")
    assert "sum_to" not in program
    assert program.splitlines()[-3:] == ["g_x1 = g_t1*w", "g_w = g_t1*x1", "g_b = g_t2"]
    assert "sum_to" not in cg.to_text(cg.simplify(cg.adjoint(g)))
    for x in (2.0, np.array([1.0, 2.0, 3.0])):  # a scalar, and a batch: the scalars' gradients are sums
        got, want = cg.grad(g, x1=x), cg.finite_difference(g, x1=x)
        for k in want:
            assert np.shape(got[k]) == np.shape(want[k]) and np.allclose(got[k], want[k], rtol=1e-7)
        assert type(got["w"]) is np.float64  # a number, summed or not (a 0-d array when summed)
        f = cg.compile(g, wrt=["x1", "w", "b"])(x1=x)
        assert np.allclose(f["g_w"], want["w"], rtol=1e-7)
    assert cg.check_gradients(g, x1=np.array([1.0, -2.0])).ok


def test_the_default_wrt_is_every_input_and_param_in_creation_order():
    # API.md: "default: every input and param, in creation order"; the inputs came first
    # whatever the order, so a param made before an input came after it
    g = cg.Graph()
    w, x = g.param("w", value=2.0), g.input("x")
    b = g.param("b", value=0.5)
    g.output(w * x + b, name="y")
    assert cg.adjoint(g).outputs == ["g_w", "g_x", "g_b"]
    assert list(cg.grad(g, x=3.0)) == list(cg.finite_difference(g, x=3.0)) == ["w", "x", "b"]
    assert [r.input for r in cg.check_gradients(g, x=3.0).rows] == ["w", "x", "b"]


def test_the_shape_error_of_a_mixing_op_names_only_the_inputs_that_go_through_it():
    # t reaches L by a product and a sum, only z through the log_softmax, and the message
    # said "depends on 't', 'z' through node 't1' (log_softmax)". (Summed over the batch
    # axis; over the class axis, the per-example losses, each row is its own: accepted,
    # tests/test_separable.py.)
    g = cg.parse("L = -sum(t*log_softmax(z), axis=0)")
    feeds = {"z": np.array([[1.0, 2.0, 3.0]] * 2), "t": np.array([[0.0, 1.0, 0.0]] * 2)}
    for call in (lambda: cg.grad(g, **feeds), lambda: cg.finite_difference(g, **feeds)):
        with pytest.raises(cg.ShapeError, match=r"and depends on 'z' through node 't1' \(log_softmax\)"):
            call()


# ------------------------------------------------------------------ edges of a domain
@pytest.mark.parametrize("p", [2.0, 3.0, 2.5, 1.5, 1.0])
def test_pow_at_a_zero_base_gives_the_limits_of_its_derivatives(p):
    # d/dp x^p = x^p*log(x) is 0 at x = 0 (x^p is 0 for every p near a p > 0), as torch and
    # JAX give it, but the rule's out*log(x) was 0*(-inf): a DomainError naming a log node
    # of the adjoint graph. The log's operand is now guarded by replace_zero (1 at 0).
    g = cg.parse("y = x^p")
    x, q = sp.symbols("x p", positive=True)
    got = cg.grad(g, x=0.0, p=p)
    for w, s in (("x", x), ("p", q)):
        want = sp.limit(sp.diff(x**q, s).subs(q, sp.nsimplify(p)), x, 0, "+")
        assert float(got[w]) == float(want), w
    fd = cg.finite_difference(g, wrt="p", x=0.0, p=p)  # x^(p +- eps) = 0: exact
    assert float(got["p"]) == float(fd["p"]) == 0.0
    if p.is_integer():  # (-eps)^p is real: central differences in x too
        assert float(got["x"]) == pytest.approx(float(cg.finite_difference(g, wrt="x", x=0.0, p=p)["x"]), abs=1e-8)


@settings(max_examples=40, deadline=None)
@given(st.floats(0.0, 2.0), st.floats(1.1, 3.0), st.booleans())
def test_the_guarded_pow_rule_agrees_with_central_differences(x, p, array):
    # replace_zero changes nothing away from x = 0; at 0 both derivatives are 0 (p > 1)
    g = cg.parse("y = x^p")
    feeds = {"x": np.array([x, 0.0, 1.3]) if array else x, "p": p}
    got, fd = cg.grad(g, feeds=feeds), cg.finite_difference(g, wrt="p", feeds=feeds)
    np.testing.assert_allclose(got["p"], fd["p"], rtol=1e-5, atol=1e-8)
    if x > 1e-4:
        np.testing.assert_allclose(cg.grad(g, x=x, p=p)["x"], cg.finite_difference(g, x=x, p=p)["x"], rtol=1e-5, atol=1e-8)


def test_pow_at_a_zero_base_prints_as_before_and_compiles_to_the_same_values():
    g = cg.parse("y = x^p")
    ga = cg.adjoint(g)
    assert cg.to_text(cg.simplify(ga)) == "g_x = p*x^(p - 1)\ng_p = x^p*log(x)"
    assert cg.to_text(ga, form="program").splitlines()[-1] == "g_p = g_y*(y*log(x))"
    assert r"x^{p} \ln\left(x\right)" in cg.to_latex(cg.simplify(ga))
    for at in ({"x": 0.0, "p": 2.0}, {"x": 1.5, "p": 2.5}, {"x": np.array([0.0, 2.0]), "p": 3.0}):
        want, grads = cg.evaluate(ga, **at), cg.grad(g, **at)
        for fn in (cg.compile(ga), cg.compile(cg.simplify(ga))):  # the adjoint graph's own values
            got = fn(**at)
            for w in ("g_x", "g_p"):
                np.testing.assert_allclose(got[w], want[w], rtol=1e-15, err_msg=(str(at), w))
        got = cg.compile(g, wrt=["x", "p"])(**at)  # the gradient: g_p summed over x's elements
        for w in ("x", "p"):
            np.testing.assert_allclose(got[f"g_{w}"], grads[w], rtol=1e-15, err_msg=(str(at), w))
    assert "else 1.0" in cg.compile(ga).source  # the scalar path: no numpy call per guard
    assert float(cg.grad(g, x=0.0, p=2.0)["p"]) == cg.compile(g, wrt=["x", "p"])(x=0.0, p=2.0)["g_p"] == 0.0


def test_a_zero_constant_base_differentiates_to_zero_and_a_negative_one_stays_undefined():
    assert float(cg.grad(cg.parse("y = 0^p"), p=2.0)["p"]) == 0.0
    assert cg.to_text(cg.simplify(cg.adjoint(cg.parse("y = 0^p")))) == "g_p = 0"  # log(replace_zero(0)) folds
    # (-2)^p is real at integers only: d/dp has no real value, and x^p at x < 0 neither
    for formula, at in (("y = (-2)^p", {"p": 2.0}), ("y = x^p", {"x": -2.0, "p": 2.0})):
        with pytest.raises(cg.DomainError, match=r"\(log\) is not finite: log\(.*=-2\) = nan"):
            cg.grad(cg.parse(formula), **at)
    # x^p at x = 0 jumps at p = 0 (0^0 = 1, 0^p = 0 for p > 0): no d/dp there (d/dx is 0)
    with pytest.raises(cg.DomainError, match=r"\(log\) is not finite: log\(x=0\) = -inf .*; it is part of dy/dp,"):
        cg.grad(cg.parse("y = x^p"), x=0.0, p=0.0)


def test_a_power_with_a_zero_exponent_has_slope_zero_at_a_zero_base():
    # cg.grad(cg.parse('y = x^p'), wrt='x', x=0.0, p=0.0) raised "DomainError node 't3' (pow)
    # is not finite: pow(x=0, t2=-1) = inf" in the rule p*x^(p - 1), 0*inf; x^0 is 1 for
    # every x, so the slope is 0 (JAX gives 0, SymPy's limit too)
    g = cg.parse("y = x^p")
    x, q = sp.symbols("x p", positive=True)
    f = cg.compile(g, wrt=["x"])
    for p in (0.0, 1.0, 2.0, 3.0):
        want = float(sp.limit(sp.diff(x**q, x).subs(q, sp.nsimplify(p)), x, 0, "+"))
        assert cg.grad(g, wrt="x", x=0.0, p=p) == {"x": want}, p
        assert f(x=0.0, p=p)["g_x"] == want, p  # compile's scalar path
    np.testing.assert_array_equal(f(x=np.zeros(4), p=np.array([0.0, 1.0, 2.0, 3.0]))["g_x"], [0.0, 1.0, 0.0, 0.0])
    with pytest.raises(cg.DomainError, match=r"\(pow\) is not finite: pow\(x=0, .*=-0.5\) = inf"):
        cg.grad(g, wrt="x", x=0.0, p=0.5)  # an infinite slope: still an error
    # the guard changes the rule at x = p = 0 only: elsewhere its derivatives are its own
    # (d/dp of p*x^(p - 1) at p = 0 is 1/x, as SymPy's)
    want = [[float(sp.diff(x**q, s, t).subs({x: 2, q: 0})) for t in (x, q)] for s in (x, q)]
    np.testing.assert_allclose(cg.hessian(g, x=2.0, p=0.0), want, rtol=1e-12)
    # x^x at 0 has slope -inf (its base and exponent are 0 together): still an error
    with pytest.raises(cg.DomainError, match=r"is not finite"):
        cg.grad(cg.parse("y = x^x"), x=0.0)
    # the printed rule is unchanged: the guard prints as its operand, and simplify merges
    # u*u^(p - 1) across it where p multiplies them (0 at u = p = 0 either way)
    assert cg.to_text(cg.simplify(cg.adjoint(g))) == "g_x = p*x^(p - 1)\ng_p = x^p*log(x)"
    for formula, printed in [("y = x^x", "g_x = x^x + x^x*log(x)"), ("y = x^p*x", "g_x = x^p + p*x^p"),
                             ("y = sigmoid(x)^p", "g_x = p*sigmoid(x)^p*(1 - sigmoid(x))")]:
        assert cg.to_text(cg.simplify(cg.adjoint(cg.parse(formula), wrt=["x"]))) == printed
    assert cg.to_text(cg.adjoint(g), form="program").splitlines()[-2:] == [
        "g_x = g_y*(p*x^(p - 1))", "g_p = g_y*(y*log(x))"]


@pytest.mark.parametrize("formula, printed", [
    ("y = x^p*log(x)", "g_p = x^p*log(x)^2"),  # the forward log(x) and the guarded one merge
    ("y = x^p*log(x)^2", "g_p = x^p*log(x)^3"),
    ("y = x^p/log(x)", "g_p = x^p"),  # the guarded log cancels the forward one
    ("y = exp(x)^p", "g_p = x*exp(x)^p"),  # exp(x) > 0: no guard, so log(exp(x)) -> x
    ("y = (1 + x^2)^p", "g_p = (x^2 + 1)^p*log(x^2 + 1)"),
    ("y = 2^x", "g_x = 2^x*log(2)"),
])
def test_the_guard_leaves_the_simplified_derivatives_as_they_were(formula, printed):
    assert cg.to_text(cg.simplify(cg.adjoint(cg.parse(formula)))).splitlines()[-1] == printed


@pytest.mark.parametrize("formula, at", [
    ("y = sigmoid(x)^p", {"x": -1000.0, "p": 2.0}),  # sigmoid(-1000) is 0.0 in floats
    ("y = softplus(x)^p", {"x": -1000.0, "p": 2.0}),
    ("y = (exp(x)*exp(z))^p", {"x": -500.0, "z": -500.0, "p": 2.0}),
    ("y = sum((sigmoid(x)*2)^p)", {"x": np.array([-1000.0, 1.0]), "p": 3.0}),
])
def test_simplify_keeps_the_guard_where_the_base_rounds_to_zero(formula, at):
    # simplify dropped replace_zero(u) wherever u > 0 mathematically, but sigmoid(-1000)
    # is 0.0: cg.grad gave d/dp = 0 there and cg.compile(g, wrt=...) (which simplifies)
    # raised a DomainError at log(0)
    g = cg.parse(formula)
    want = cg.grad(g, **at)
    f = cg.compile(g, wrt=list(g.inputs))
    for got in (f(**at), dict(zip(f.outputs, f.positional(*[at[n] for n in f.inputs])))):
        for w in g.inputs:
            np.testing.assert_array_equal(got[f"g_{w}"], want[w], err_msg=w)
    assert "replace_zero_if" in {d.get("op") for _, d in cg.simplify(cg.adjoint(g)).nx.nodes(data=True)}


# ------------------------------------------------------------------ errors at a point
@pytest.mark.parametrize("formula, at, message", [
    # the node is the pass's own (t4): the message says which derivative and whose rule
    ("y = x^0.5", {"x": 0.0}, r"^node 't4' \(pow\) is not finite: pow\(x=0, t3=-0\.5\) = inf \(defined for base > 0, "
     r"or an integer exponent\); it is part of dy/dx, made by the derivative rule of node 'y' \(pow\) = x\^0\.5; pass"),
    ("y = sqrt(x)", {"x": 0.0}, r"^node 'g_x' \(div\) .*; it is part of dy/dx, made by the derivative rule of node 'y' "
     r"\(sqrt\) = sqrt\(x\); pass nonfinite="),
    # a temporary of the function: its formula; the derivatives through it: every one it is part of
    ("y = sin(sqrt(x))*z", {"x": 0.0, "z": 1.0}, r"it is part of dy/dx, made by the derivative rule of node 't1' "
     r"\(sqrt\) = sqrt\(x\);"),
    ("y = x^p", {"x": -2.0, "p": 2.0}, r"\(log\) is not finite: log\(x=-2\) = nan .*; it is part of dy/dp, made by the "
     r"derivative rule of node 'y' \(pow\) = x\^p;"),
])
def test_an_error_at_a_node_of_a_derivative_names_the_derivative_and_the_rule(formula, at, message):
    # it named only 't6' (log), a node of the adjoint graph the user never sees
    g = cg.parse(formula)
    for _ in range(2):  # the eager first call and the adjoint graph's plan
        with pytest.raises(cg.DomainError, match=message):
            cg.grad(g, **at)
    with pytest.raises(cg.DomainError, match=message):
        cg.evaluate(cg.adjoint(g), **at)


def test_an_error_in_the_function_itself_says_nothing_of_derivatives():
    g = cg.parse("y = log(x)*z")
    with pytest.raises(cg.DomainError, match=r"^node 't1' \(log\) is not finite: log\(x=0\) = -inf \(defined for x > 0\);"
                                             r" pass nonfinite='propagate' to keep numpy's nan/inf$"):
        cg.grad(g, x=0.0, z=1.0)


def test_the_nodes_a_rule_makes_carry_the_node_of_the_rule():
    ga = cg.adjoint(cg.parse("y = sin(x*z)"))
    made = {n: d.get("rule_of") for n, d in ga.nx.nodes(data=True) if d.get("adjoint") and n != "g_y"}
    assert set(made.values()) == {"y", "t1"}
    assert made["g_x"] == made["g_z"] == "t1" and made["g_t1"] == "y"
    assert all("rule_of" not in d for n, d in ga.nx.nodes(data=True) if not d.get("adjoint"))


@pytest.mark.parametrize("graph, printed", [
    # the guarded log of d/dp x^p and the forward log(x) printed alike but did not collect:
    # "g_p = x^p*log(x) + p*x^p*log(x)^2 + x^p*log(x)", and "x^p*log(x) - ... - x^p*log(x)"
    (lambda: cg.expand(cg.adjoint(cg.parse("y = x^p + p*log(x)*x^p"), wrt=["p"])),
     "g_p = 2*x^p*log(x) + p*x^p*log(x)^2"),
    (lambda: cg.expand(cg.adjoint(cg.parse("y = x^p - log(x)*x^p*p"), wrt=["p"])), "g_p = -p*x^p*log(x)^2"),
    # d2/dp dx of x^p*log(x): "x^p*log(x)/x + x^p*log(x)/x + ..." (the forward y = x^p*log(x)
    # is the product they share, whence the parentheses)
    (lambda: cg.hessian_graph(cg.parse("y = x^p*log(x)"), wrt=["x", "p"]),
     "g3_x = 2*(x^p*log(x))/x + p*log(x)^2*x^(p - 1)"),
    # a shared product holding the guarded log, times log(x): "x^p*log(x)*log(x) + ..."
    (lambda: cg.hessian_graph(cg.parse("y = x^p + p*log(x)*x^p")),
     "g3_p = x^p*log(x)^2 + x^p*log(x)*(log(x)*(p*log(x) + 1) + log(x))"),
    # a power of the guarded log: "x^p*log(x)*log(x)^2"
    (lambda: cg.expand(cg.hessian_graph(cg.parse("y = x^p*log(x)"))), "g3_p = x^p*log(x)^3"),
    (lambda: cg.expand(cg.adjoint(cg.adjoint(cg.parse("y = x^p*log(x)"), wrt=["p"]), wrt=["p"])),
     "g2_p = x^p*log(x)^3"),
])
def test_terms_that_the_guard_kept_apart_collect_where_the_sum_takes_log(graph, printed):
    g = graph()
    s = cg.simplify(g)
    assert printed in cg.to_text(s).splitlines()
    at = {"x": 1.7, "p": 2.5}
    for o in g.outputs:  # the same values where they are defined
        assert cg.evaluate(s, **at)[o] == pytest.approx(cg.evaluate(g, **at)[o], rel=1e-12)
