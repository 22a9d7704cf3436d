"""cg.finite_difference: the lecture's Approach 1."""

from __future__ import annotations

import numpy as np
import pytest

import cgraph as cg
from cgraph.passes.finite_diff import default_step

FORMULA = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
DYDX = 1208.3812151266095  # 3e^6 + 3/ln2 - 3/ln2^2 + cos(ln2)/12 - sin(ln2)/12
DYDZ = 809.7074792185640  # 2e^6 + 2/ln2 - sin(ln2)/18


def test_lecture_value_and_gradient():
    g = cg.parse(FORMULA)
    assert float(cg.evaluate(g, x=2, z=3)["y"]) == 412.19145728412116
    d = cg.finite_difference(g, x=2, z=3)
    assert set(d) == {"x", "z"}
    assert float(d["x"]) == pytest.approx(DYDX, rel=1e-6)
    assert float(d["z"]) == pytest.approx(DYDZ, rel=1e-6)
    # the lecture's own step, 1e-8, is still within 1e-6 here
    d = cg.finite_difference(g, eps=1e-8, x=2, z=3)
    assert float(d["x"]) == pytest.approx(DYDX, rel=1e-6)


def test_lecture_exact_values_are_the_symbolic_result():
    ln2 = np.log(2)
    assert 3 * np.exp(6) + 3 / ln2 - 3 / ln2**2 + np.cos(ln2) / 12 - np.sin(ln2) / 12 == pytest.approx(DYDX, rel=1e-15)
    assert 2 * np.exp(6) + 2 / ln2 - np.sin(ln2) / 18 == pytest.approx(DYDZ, rel=1e-15)


def test_arrays_are_differentiated_elementwise():
    g = cg.Graph()
    X = g.input("X", shape=(3, 2))
    W = g.param("W", value=np.array([[1.0, -2.0], [0.5, 3.0]]))
    g.output(cg.sum(cg.square(X @ W)), name="loss")
    Xv = np.arange(6.0).reshape(3, 2) / 5
    d = cg.finite_difference(g, X=Xv)
    Wv = W.attrs["value"]
    np.testing.assert_allclose(d["X"], 2 * (Xv @ Wv) @ Wv.T, rtol=1e-7)
    np.testing.assert_allclose(d["W"], 2 * Xv.T @ (Xv @ Wv), rtol=1e-7)
    assert d["X"].shape == (3, 2) and d["W"].shape == (2, 2)


def test_wrt_and_of():
    g = cg.parse("a = x*z\ny = a + sin(z)")
    assert list(cg.finite_difference(g, wrt="z", x=2.0, z=0.0)) == ["z"]
    assert float(cg.finite_difference(g, wrt=["z"], x=2.0, z=0.0)["z"]) == pytest.approx(3.0, rel=1e-9)
    assert float(cg.finite_difference(g, wrt="x", of="a", x=2.0, z=5.0)["x"]) == pytest.approx(5.0, rel=1e-9)


def test_outputs_of_unknown_shape_are_summed_known_non_scalars_refused():
    x = np.array([1.0, -2.0])
    np.testing.assert_allclose(cg.finite_difference(cg.parse("y = x^2"), x=x)["x"], 2 * x, rtol=1e-8)
    g = cg.Graph()
    g.output(cg.square(g.input("X", shape=(2,))), name="y")
    with pytest.raises(cg.ShapeError, match="non-scalar node 'y' of shape \\(2,\\)"):
        cg.finite_difference(g, X=x)


def test_errors():
    g = cg.parse("y = x*z")
    with pytest.raises(cg.InputError, match="missing input\\(s\\) 'z'"):
        cg.finite_difference(g, x=1.0)
    with pytest.raises(cg.NodeNotFoundError, match="wrt 'q'"):
        cg.finite_difference(g, wrt="q", x=1.0, z=1.0)
    with pytest.raises(cg.GraphError, match="'y' is an op node"):
        cg.finite_difference(g, wrt="y", x=1.0, z=1.0)
    two = cg.parse("y = x*z")
    two.set_outputs(["y", "x"])
    with pytest.raises(cg.GraphError, match="has 2 outputs"):
        cg.finite_difference(two, x=1.0, z=1.0)


def test_an_array_output_through_softmax_is_refused_as_grad_refuses_it():
    g = cg.parse("y = softmax(x)")
    with pytest.raises(cg.ShapeError, match=r"cannot differentiate 'y': it is of shape \(3,\) .* \(softmax\), which "
                                            r"mixes the elements .* cg.jacobian"):
        cg.finite_difference(g, x=np.array([1.0, 2.0, 3.0]))
    assert cg.finite_difference(g, x=np.array([2.0]))["x"].tolist() == [0.0]  # one element: softmax is 1
    with pytest.raises(cg.ShapeError, match=r"axis -1 is out of range for 0 dimension"):  # a number: no axis
        cg.finite_difference(g, x=2.0)
    np.testing.assert_allclose(cg.finite_difference(cg.parse("y = x*x"), x=np.ones(3))["x"], 2.0, rtol=1e-8)


def test_default_step_scales_with_magnitude_and_dtype():
    eps64, eps32 = np.finfo(np.float64).eps, np.finfo(np.float32).eps
    np.testing.assert_allclose(default_step(np.array([0.0, 0.5, -1e4])), np.cbrt(eps64) * np.array([1, 1, 1e4]))
    assert default_step(np.array([1.0], dtype=np.float32))[0] == pytest.approx(np.cbrt(eps32))
    assert default_step(np.array([3]))[0] == pytest.approx(3 * np.cbrt(eps64))


@pytest.mark.parametrize("dtype", [np.float32, np.float16])
def test_low_precision_inputs_give_a_float64_reference_on_their_exact_values(dtype):
    # differences taken in float32 were good to ~1e-3 (float16: ~1e-1), too coarse to
    # check a float32 gradient; float64 on the same values holds them exactly
    g = cg.parse("y = x^3")
    x = np.array([1.1, -0.3], dtype=dtype)
    d = cg.finite_difference(g, x=x)["x"]
    assert d.dtype == np.float64 and x.dtype == dtype
    np.testing.assert_allclose(d, 3 * x.astype(np.float64) ** 2, rtol=1e-9)
    scalar = cg.finite_difference(g, x=dtype(1.1))["x"]
    assert type(scalar) is np.float64 and scalar == pytest.approx(3 * float(dtype(1.1)) ** 2, rel=1e-9)


def test_inputs_outside_wrt_are_upcast_too():
    # the whole graph runs in float64: sin(a) for a float32 a not differentiated
    g = cg.parse("y = sum(sin(a) * x)")
    a = np.array([0.7, 2.9, -1.3], dtype=np.float32)
    d = cg.finite_difference(g, "x", a=a, x=np.ones(3, np.float32))["x"]
    np.testing.assert_allclose(d, np.sin(a.astype(np.float64)), rtol=1e-9)


def test_float64_and_integer_inputs_keep_giving_float64():
    g = cg.parse("y = x^3")
    assert cg.finite_difference(g, x=np.array([2]))["x"].dtype == np.float64
    assert cg.finite_difference(g, x=np.array([2.0]))["x"].dtype == np.float64


def test_finite_difference_does_not_change_the_graph_or_the_inputs():
    g = cg.parse(FORMULA)
    x = np.array([2.0, 3.0])
    before = cg.dumps(g)
    cg.finite_difference(g, x=x, z=3.0)
    assert cg.dumps(g) == before and x.tolist() == [2.0, 3.0]


def test_a_step_outside_the_domain_is_nan_for_that_element_only():
    out = cg.finite_difference(cg.parse("sqrt(x)"), x=np.array([0.0, 1.0]))["x"]
    assert np.isnan(out[0]) and out[1] == pytest.approx(0.5, rel=1e-8)


@pytest.mark.parametrize("call", [
    lambda g: cg.finite_difference(g, x=1.0, eps=10**400),
    lambda g: cg.check_gradients(g, x=1.0, rtol=10**400),
    lambda g: cg.nn.SGD(lr=10**400),
], ids=["eps", "rtol", "lr"])
def test_an_int_past_the_floats_as_a_number_option_is_an_argument_error(call):
    # checks.finite_number ran np.isfinite on it: a bare TypeError
    with pytest.raises(cg.ArgumentError, match="finite number"):
        call(cg.parse("y = x*x"))


def test_the_lectures_snippet_same_bits_and_a_number_per_scalar_input():
    # the lecture: e = 10**-8; dydx = (y(x+e,z)-y(x-e,z))/(2*e); print(dydx, dydz)
    import math

    def y(x, z):
        return math.exp(x * z) + (x * z) / math.log(x) + math.sin(math.log(x)) / (x * z)

    e = 10**-8
    g = cg.parse("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    fd = cg.finite_difference(g, eps=e, x=2, z=3)
    assert fd["x"] == (y(2 + e, 3) - y(2 - e, 3)) / (2 * e)
    assert fd["z"] == (y(2, 3 + e) - y(2, 3 - e)) / (2 * e)
    # a number like grad's (it was a 0-d array, printed as array(1208.38120949): 8 digits)
    assert type(fd["x"]) is type(cg.grad(g, x=2, z=3)["x"]) is np.float64
    assert str(fd["x"]) == "1208.3812094942914"



def test_a_nan_input_is_an_error_without_a_hint_at_an_argument_it_does_not_take():
    # the InputError said "pass nonfinite='propagate' to allow NaN/Inf": finite_difference
    # has no such argument (passed, it was read as an unexpected input 'nonfinite')
    g = cg.parse("y = sum(x*z)")
    with pytest.raises(cg.InputError, match=r"input 'x' is not finite \(nan at index \(1,\)\)$"):
        cg.finite_difference(g, x=np.array([1.0, np.nan]), z=2.0)



def test_an_unexpected_input_or_a_none_value_is_refused_as_evaluate_and_grad_refuse_it():
    # a misspelt name (z2 for z, where z is a param with a value) was dropped without a word,
    # and x=None read as a missing input
    g = cg.Graph("fd")
    x = g.input("x")
    z = g.param("z", value=2.0)
    g.output(x * z, name="y")
    for call in (cg.evaluate, cg.grad, cg.finite_difference):
        with pytest.raises(cg.InputError, match=r"unexpected input\(s\): 'z2' is not a node of graph 'fd'"):
            call(g, x=1.0, z2=3.0)
        with pytest.raises(cg.InputError, match=r"'y' is an op node, not an input"):
            call(g, x=1.0, y=3.0)
        with pytest.raises(cg.InputError, match=r"input 'x': expected real numbers, got None"):
            call(g, x=None)
