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
