"""cg.grad: the adjoint graph evaluated, each gradient fitted to its input's shape."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import examples, expressions, op_graphs, points

import cgraph as cg
from cgraph.passes.adjoint import wrt_names


@pytest.mark.parametrize("text, feeds, want", [
    # the derivative by z is the constant 1 at every element of y: summed, 3 of them
    ("x*x + z", {"x": np.ones(3), "z": 2.0}, {"x": [2.0, 2.0, 2.0], "z": 3.0}),
    ("exp(z) + x", {"x": np.ones(3), "z": 0.0}, {"x": [1.0, 1.0, 1.0], "z": 3.0}),
    ("exp(z) * w + x", {"x": np.ones((2, 3)), "z": 0.0, "w": np.ones(3)},
     {"x": np.ones((2, 3)), "z": 6.0, "w": [2.0, 2.0, 2.0]}),
])
def test_pointwise_gradients_of_a_non_scalar_output_are_those_of_its_sum(text, feeds, want):
    g = cg.parse(text)
    got = cg.grad(g, **feeds)
    fd = cg.finite_difference(g, **feeds)
    for k, v in want.items():
        np.testing.assert_allclose(got[k], v)
        np.testing.assert_allclose(got[k], fd[k], rtol=1e-6)
    assert cg.check_gradients(g, **feeds).ok


MIXED = r"cannot differentiate 'y': it is of shape \(3,\) at these inputs \(arrays: 'x' \(3,\)\) and depends on 'x' " \
        r"through node 'y' \(softmax\), which mixes the elements of its operand, so its elements have no gradients " \
        r"of their own; for its Jacobian, cg.jacobian\(g, ...\) evaluates it at a point and cg.vjp_graph\(g\) " \
        r"builds the vector-Jacobian product as a graph; for the gradient of the sum of its elements, differentiate " \
        r"cg.sum\(y\)$"


def test_an_array_output_through_an_op_that_mixes_elements_is_a_shape_error():
    # the gradient of the sum of softmax(x) is 0 (1e-17 noise): not the derivative a user asks for
    g = cg.parse("y = softmax(x)")
    x = np.array([1.0, 2.0, 3.0])
    for _ in range(2):  # the first (eager) call and the graph path
        with pytest.raises(cg.ShapeError, match=MIXED):
            cg.grad(g, x=x)
    with pytest.raises(cg.ShapeError, match=MIXED):
        cg.check_gradients(g, x=x)
    with pytest.raises(cg.ShapeError, match=r"through node 't1' \(matmul\)"):
        cg.grad(cg.parse("y = tanh(W @ x)"), W=np.ones((2, 3)), x=x)
    with pytest.raises(cg.ShapeError, match=r"of shape \(2, 3\) .* through node 'y' \(log_softmax\)"):
        cg.grad(cg.parse("y = log_softmax(x)"), x=np.ones((2, 3)))
    # what the message names works: the Jacobian, and the gradient of the sum (the old numbers)
    s = np.exp(x) / np.exp(x).sum()
    np.testing.assert_allclose(cg.jacobian(g, "x", x=x), np.diag(s) - np.outer(s, s), rtol=1e-14, atol=1e-17)
    assert np.max(np.abs(cg.grad(cg.parse("y = sum(softmax(x))"), x=x)["x"])) < 1e-15
    # a one-element value, or wrt not reached through the mixing op, is a gradient as before (a
    # number has no axis -1 to take a softmax along: test_ops)
    assert cg.grad(g, x=np.array([2.0]))["x"].tolist() == [0.0]
    np.testing.assert_allclose(cg.grad(cg.parse("y = softmax(x)*z"), wrt=["z"], x=x, z=2.0)["z"], 1.0, rtol=1e-15)
    # reductions, reshapes, slices: each element of x reaches one element of y, and the sum's
    # gradient is that element's derivative, as before (cgraph grad prints dy/dw of the first)
    for text, feeds, want in [
        ("sum(x*w, axis=0)", {"x": [[1.0, 2.0], [3.0, 4.0]], "w": np.ones((2, 2))}, {"w": [[1.0, 2.0], [3.0, 4.0]]}),
        ("mean(x, axis=-1) + z", {"x": np.ones((2, 4)), "z": np.zeros(2)}, {"x": np.full((2, 4), 0.25), "z": [1, 1]}),
        ("transpose(x)*z", {"x": [[1.0, 2.0, 3.0]], "z": 2.0}, {"x": [[2.0, 2.0, 2.0]], "z": 6.0}),
        ("logsumexp(x, axis=0) + slice(x, stop=1, axis=0)", {"x": np.zeros((2, 3))}, {"x": [[1.5, 1.5, 1.5], [0.5, 0.5, 0.5]]}),
    ]:
        h = cg.parse(text)
        for got in (cg.grad(h, wrt=list(want), **feeds), cg.grad(h, wrt=list(want), **feeds),
                    cg.finite_difference(h, wrt=list(want), **feeds)):
            for k, v in want.items():
                np.testing.assert_allclose(got[k], v, rtol=1e-8)




def test_pointwise_gradient_by_an_intermediate_node_has_its_shape():
    g = cg.parse("t = x*x\ny = t + z")
    got = cg.grad(g, wrt=["t", "z"], x=np.ones(3), z=2.0)
    np.testing.assert_allclose(got["t"], [1.0, 1.0, 1.0])
    np.testing.assert_allclose(got["z"], 3.0)


@pytest.mark.parametrize("shape", [None, (3,)], ids=["unknown", "declared"])
def test_gradients_are_new_writeable_arrays(shape):
    # d sum(x)/dx is expand_to(1, x), a read-only broadcast view: grad handed it back as
    # it was, and scaling the gradient in place raised "output array is read-only"
    g = cg.Graph()
    x = g.input("x", shape=shape)
    g.output(cg.sum(x), name="y")
    d = cg.grad(g, x=np.ones(3))["x"]
    d *= 2.0
    np.testing.assert_array_equal(d, [2.0, 2.0, 2.0])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("text", [
    "y = x + z", "y = 2*x - z", "y = sum(x) + 0*z", "y = x*z", "y = relu(x)*z", "y = abs(x) + z",
    "y = step(x)*z", "y = mean(x)*z", "y = sum(slice(x, step=2)) + sum(slice(x, start=1, step=2))*z", "y = x",
])
def test_a_gradient_takes_the_float_dtype_of_its_input(text, dtype):
    # d(x + z)/dx is the constant 1, a Python float: broadcast to x's shape it became
    # float64 for float32 inputs (grad and compile), and the 0 of 0*z a Python float; for
    # float16 inputs it was float32 (step, zeros_like), while that of x*z stayed float16
    g = cg.parse(text)
    x, z = np.array([1.0, 2.0], dtype), dtype(3.0)
    f = cg.compile(g, wrt=[n for n in ("x", "z") if n in g.inputs])
    feeds = {n: v for n, v in (("x", x), ("z", z)) if n in g.inputs}
    assert np.asarray(cg.evaluate(g, **feeds)["y"]).dtype == dtype  # the forward value too
    for got in (cg.grad(g, **feeds), f(**feeds), dict(zip(f.outputs, f.positional(*feeds.values())))):
        grads = [got[k] for k in ("x", "g_x", "z", "g_z") if k in got]
        assert [np.asarray(v).dtype for v in grads] == [dtype] * len(feeds), text
        assert all(isinstance(v, (np.ndarray, np.generic)) for v in grads)
        assert np.asarray(got.get("y", dtype(0))).dtype == dtype


@pytest.mark.parametrize("text", ["y = x*z", "y = x + z", "y = sum(x*z)", "y = sum(x) + z"])
@pytest.mark.parametrize(("dx", "dz"), [(np.float16, np.float64), (np.float32, np.float64), (np.float64, np.float16)])
def test_a_gradient_keeps_its_input_dtype_whatever_the_others(text, dx, dz):
    # as in torch and JAX: d(x*z)/dx = z came back in z's dtype, float64 for a float16 x
    g = cg.parse(text)
    x, z = np.array([1.5, 2.0], dx), np.array([3.0, 0.5], dz)
    f = cg.compile(g, wrt=["x", "z"])
    for got in (cg.grad(g, x=x, z=z), f(x=x, z=z)):
        gx, gz = got.get("x", got.get("g_x")), got.get("z", got.get("g_z"))
        assert (gx.dtype, gz.dtype) == (dx, dz), text
        np.testing.assert_allclose(gx, cg.grad(g, x=x.astype(float), z=z.astype(float))["x"], rtol=1e-3)


def test_grad_with_respect_to_nothing_is_an_empty_dict():
    g = cg.parse("x*z")
    assert cg.grad(g, [], x=2.0, z=3.0) == {} and cg.grad(g, wrt=(), x=2.0, z=3.0) == {}
    assert cg.grad(cg.parse("3")) == {}  # a constant has no inputs to differentiate by


# ---------------------------------------------------------------------------------------
# The first grad of a graph is evaluated eagerly (cgraph/passes/eager.py), later ones run
# the cached adjoint graph's plan: both must give the same bits, dtypes and errors.

def _call(g, feeds, **kw):
    try:
        return cg.grad(g, feeds=feeds, **kw)
    except cg.CGraphError as exc:
        return exc


def _first_then_cached(g, feeds, *, answered=True, **kw):
    """grad's first (eager) and second (graph) call; ``answered``: assert that the eager
    sweep gave the first answer itself whenever the graph path gives one."""
    from cgraph.passes.grad import eager_grad

    wrt, of, nonfinite = kw.get("wrt"), kw.get("of"), kw.get("nonfinite", "raise")
    eager = eager_grad(g, wrt, of, dict(feeds), nonfinite)
    first = _call(g, feeds, **kw)
    built = ("adjoint", wrt_names(wrt), of) in g._cache
    assert built == (eager is None)  # the first call built an adjoint graph only where eager gave up
    second = _call(g, feeds, **kw)
    if isinstance(second, Exception):
        assert type(first) is type(second) and str(first) == str(second)
        return second
    if answered:
        assert eager is not None, "the eager sweep gave up where the graph path answers"
    assert not isinstance(first, Exception), first
    assert list(first) == list(second)
    for k in first:
        a, b = first[k], second[k]
        assert type(a) is type(b) and np.shape(a) == np.shape(b), k
        assert np.asarray(a).dtype == np.asarray(b).dtype, k
        assert _bits(a) == _bits(b), (k, a, b)  # bitwise, and NaN where NaN
    return second


def _bits(value):
    """The bytes of ``value`` with every NaN as numpy's own: the sign of a NaN is not part of
    its value (IEEE 754 leaves it uninterpreted), and the two paths may add two NaN
    contributions in either order, which x86 answers with the first one's sign (the fuzz run
    found -nan against nan for y = x1/(x2/x0 - x2) at 0, every finite value alike)."""
    arr = np.asarray(value)
    if arr.dtype.kind == "f":
        arr = np.where(np.isnan(arr), np.nan, arr).astype(arr.dtype)
    return arr.tobytes()


def test_eager_and_graph_paths_agree_where_two_nan_contributions_meet():
    # x2's adjoint sums two NaN contributions at 0; the paths' NaNs differ in sign only
    g = cg.parse("y = x1/(x2/x0 - x2)")
    with np.errstate(all="ignore"):
        grads = _first_then_cached(g, {"x0": 0.0, "x1": 0.0, "x2": 0.0}, nonfinite="propagate")
    assert all(np.isnan(v) for v in grads.values())
    assert _bits(np.array([1.0, -0.0, np.nan])) != _bits(np.array([1.0, 0.0, np.nan]))  # -0.0 still counts


def _cast(point, dtype):
    if dtype is float:
        return point
    return {k: (np.asarray(v, dtype) if np.ndim(v) else dtype(v)) for k, v in point.items()}


DTYPES = st.sampled_from([float, np.float64, np.float32, np.float16])


@settings(max_examples=examples(80), deadline=None)
@given(g=expressions(max_steps=12, n_inputs=3), point=points(3, lo=-3.0, hi=3.0), dtype=DTYPES, data=st.data())
def test_eager_first_grad_is_bitwise_the_graph_paths_on_random_expressions(g, point, dtype, data):
    # weak Python-float constants, exact ints and Fractions, u**2 and u**1, shared
    # subexpressions, errors (log/sqrt/div/pow at negative or zero points) included
    wrt = data.draw(st.one_of(st.none(), st.lists(st.sampled_from(["x0", "x1", "x2"]), unique=True)))
    nonfinite = data.draw(st.sampled_from(["raise", "propagate"]))
    with np.errstate(all="ignore"):
        _first_then_cached(g, _cast(point, dtype), wrt=wrt, nonfinite=nonfinite, answered=nonfinite == "propagate")


@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(case=op_graphs(max_steps=8), f32=st.booleans(), data=st.data())
def test_eager_first_grad_is_bitwise_the_graph_paths_on_graphs_of_every_op(case, f32, data):
    # arrays, broadcasting, reductions with axes, matmul (matmul_grad when shapes are
    # undeclared), slices, declared and unknown shapes; a wrt subset and an `of` of
    # unknown or scalar shape
    g, point, _ = case
    point = _cast(point, np.float32) if f32 else point
    names = g.inputs
    wrt = data.draw(st.one_of(st.none(), st.lists(st.sampled_from(names), unique=True, min_size=1)))
    ofs = [n for n in g.schedule() if g.nx.nodes[n]["role"] == "op"
           and (g.nx.nodes[n]["shape"] is None or all(d == 1 for d in g.nx.nodes[n]["shape"]))]
    of = data.draw(st.sampled_from([None, *ofs]))
    _first_then_cached(g, point, wrt=wrt, of=of)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("loss, act", [("mse", "tanh"), ("cross_entropy", "relu"), ("bce", "sigmoid")])
def test_eager_first_grad_of_an_mlp_is_bitwise_the_graph_paths(loss, act, dtype):
    net = cg.nn.MLP([4, 6, 5, 3 if loss == "cross_entropy" else 1], activation=act, loss=loss, dtype=dtype, seed=1)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(7, 4)).astype(dtype)
    Y = rng.integers(0, 3, 7) if loss == "cross_entropy" else rng.integers(0, 2, (7, 1)).astype(dtype)
    g = net.build(l2=0.01)
    feeds = {"X": X, "Y": np.eye(3, dtype=dtype)[Y] if loss == "cross_entropy" else Y}
    got = _first_then_cached(g, feeds, wrt=list(net.params))
    assert {k: v.dtype for k, v in got.items()} == {k: np.dtype(dtype) for k in net.params}


@pytest.mark.parametrize("text, feeds, error", [
    ("log(x)", {"x": -1.0}, cg.DomainError),  # the function itself is undefined there
    ("sqrt(x)", {"x": 0.0}, cg.DomainError),  # its derivative is not (1/(2*0))
    ("exp(exp(x))", {"x": 7.0}, cg.DomainError),  # overflow
    ("x**0 * z", {"x": 0.0, "z": 1.0}, None),  # u^0: no 0*u^-1 at u = 0
    ("x**(2 - 2) * z", {"x": 0.0, "z": 1.0}, None),  # an exponent 0 at run time: the rule's guard, 0 (was 0*0^-1)
    ("x**(2 - 1.5) * z", {"x": 0.0, "z": 1.0}, cg.DomainError),  # an infinite slope: 0.5*0^-0.5
    ("x * 10**400", {"x": 1.0}, cg.DomainError),  # a constant past the floats
    ("x * z", {"x": 1.0}, cg.InputError),  # missing input
    ("x * z", {"x": 1.0, "z": 2.0, "w": 3.0}, cg.InputError),  # not an input
    ("x * z", {"x": float("nan"), "z": 2.0}, cg.InputError),
    ("sum(x) * z", {"x": np.ones((2, 3)), "z": "a"}, cg.InputError),
])
def test_eager_first_grad_fails_as_the_graph_path_does(text, feeds, error):
    got = _first_then_cached(cg.parse(text), feeds)
    assert type(got) is error if error else isinstance(got, dict)


def test_eager_first_grad_propagates_nan_as_the_graph_path_does():
    got = _first_then_cached(cg.parse("log(x) * z"), {"x": -1.0, "z": 2.0}, nonfinite="propagate")
    assert got["x"] == -2.0 and np.isnan(got["z"])  # z/x, and log(-1)


def test_only_the_second_grad_of_an_unchanged_graph_builds_the_adjoint_graph():
    g = cg.parse("x*z + sin(x)")
    key = ("adjoint", None, None)
    cg.grad(g, x=1.0, z=2.0)
    assert key not in g._cache
    cg.grad(g, x=1.0, z=2.0)
    assert key in g._cache
    ga = g._cache[key][1]
    cg.grad(g, x=3.0, z=2.0)
    assert g._cache[key][1] is ga  # built once, then reused
    g.output(cg.cos(g["y"]), name="w")  # a changed graph starts again: eager first
    cg.grad(g, of="w", x=1.0, z=2.0)
    assert ("adjoint", None, "w") not in g._cache


def test_an_input_that_does_not_reach_a_pointwise_output_of_another_shape_has_zero_gradient():
    # undeclared shapes: the output's pointwise derivatives are spread over its shape (2,),
    # with which x0's (3,) does not broadcast; x0 does not reach it: its gradient is zeros
    # (a bare numpy ValueError before, found by the long fuzz run)
    g = cg.Graph()
    g.input("x0")  # an input the output does not use
    x1, z = g.input("x1"), g.input("z")
    g.output(cg.sin(x1[1:]) + z * z, name="y")
    feeds = {"x0": np.float32([1, 2, 3]), "x1": np.zeros(3), "z": np.full(2, 2.0)}
    for _ in range(2):  # the eager first call, then the graph path
        d = cg.grad(g, wrt=["x0", "z"], **feeds)
        assert d["x0"].dtype == np.float32 and d["x0"].tolist() == [0, 0, 0]
        assert d["z"].tolist() == [4, 4]
    assert cg.grad(g, wrt="x0", of="y", **feeds)["x0"].tolist() == [0, 0, 0]


@pytest.mark.parametrize("text", ["y = sum(x*w)", "y = x*w", "y = sum(x)*w", "y = sum(sin(x*w))"])
@pytest.mark.parametrize("w", [3.0, np.float64(3.0), np.array(3.0)], ids=["float", "float64", "0-d"])
def test_the_gradient_of_a_scalar_input_is_a_number(text, w):
    # grad of sum(x*w) at scalar x and w gave 0-d arrays (array(3.)) where x*w gave
    # np.float64: a 0-d value of the adjoint reached the caller as it was
    g = cg.parse(text)
    for _ in range(2):  # the eager first call and the cached plan
        got = cg.grad(g, x=0.5, w=w)
        assert all(type(v) is np.float64 for v in got.values()), got


def test_a_param_value_set_after_a_gradient_is_used_by_every_later_gradient():
    # the cached adjoint graph was a copy of g whose param nodes held attrs dicts of their
    # own: after w.attrs["value"] = 0.5, evaluate and finite_difference used 0.5, grad's
    # second and later calls and compile still 2.0, and check_gradients reported the
    # (right) adjoint as FAILED
    g = cg.Graph()
    x, w = g.input("x"), g.param("w", value=2.0)
    g.output(cg.sin(x * w), name="y")
    for _ in range(2):
        assert cg.check_gradients(g, x=1.0).ok
    f = cg.compile(g, wrt=["x"])
    w.attrs["value"] = 0.5
    want = {"x": 0.5 * np.cos(0.5), "w": np.cos(0.5)}
    for _ in range(2):
        got = cg.grad(g, x=1.0)
        assert got == pytest.approx(want, rel=1e-15)
    assert cg.check_gradients(g, x=1.0).ok
    assert f(x=1.0)["g_x"] == pytest.approx(want["x"], rel=1e-15)
    assert cg.compile(g, wrt=["x"]).positional(1.0)[1] == pytest.approx(want["x"], rel=1e-15)
    assert cg.compile(g, wrt=["x"])(x=np.ones(2))["g_x"] == pytest.approx([want["x"]] * 2, rel=1e-15)
    for derived in (cg.adjoint(g), cg.simplify(cg.adjoint(g)), cg.expand(cg.adjoint(g))):
        w.attrs["value"] = 0.25  # a derived graph reads the param where its user sets it
        assert float(cg.evaluate(derived, x=1.0)["g_x"]) == pytest.approx(0.25 * np.cos(0.25), rel=1e-15)
        w.attrs["value"] = 0.5
    h = g.copy()  # a copy stays a graph of its own
    h.node("w").attrs["value"] = 3.0
    assert g.node("w").attrs["value"] == 0.5
