"""cg.grad: the adjoint graph evaluated, each gradient fitted to its input's shape."""

from __future__ import annotations

import numpy as np
import pytest

import cgraph as cg


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
