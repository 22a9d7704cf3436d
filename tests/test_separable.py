"""Which input elements reach which elements of an array output (cgraph/passes/separable.py),
and what cg.grad, cg.finite_difference and cg.compile do with an array output by it."""

from __future__ import annotations

import numpy as np
import pytest

import cgraph as cg
from cgraph.passes.adjoint import _between, mixed_by_structure, require_separable_anywhere
from cgraph.passes.separable import mixed_at

RNG = np.random.default_rng(7)
X3 = np.array([0.3, -1.2, 2.0])
Z23 = RNG.normal(size=(2, 3))
T23 = np.array([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])  # soft labels: one-hot rows would hide mixing in zeros
W32 = RNG.normal(size=(3, 2))

# formula, feeds, the wrt inputs whose elements mix on the way to y (none: accepted); a
# reduction of an input spread over y as a whole is a scalar shared by all, summed (SHARED)
CASES = [
    ("y = exp(x)/sum(exp(x))", {"x": X3}, ["x"]),  # a softmax written out
    ("y = x - mean(x)", {"x": X3}, ["x"]),  # centering
    ("y = z/sum(z, axis=1, keepdims=True)", {"z": Z23}, ["z"]),  # rows normalized
    ("y = z - logsumexp(z, axis=-1, keepdims=True)", {"z": Z23}, ["z"]),  # a log-softmax written out
    ("y = softmax(x)", {"x": X3}, ["x"]),
    ("y = -sum(t*log_softmax(z), axis=-1)", {"t": T23, "z": Z23}, []),  # per-example losses
    ("y = -sum(t*log_softmax(z), axis=0)", {"t": T23, "z": Z23}, ["z"]),  # summed across the batch instead
    ("y = logsumexp(z, axis=1) + sum(z^2, axis=-1)", {"z": Z23}, []),
    ("y = x*x + b", {"x": X3, "b": 2.0}, []),  # b broadcast: summed, as for a shared scalar
    ("y = x*sum(w)", {"x": X3, "w": X3 + 1}, []),
    ("y = sum(x) + z", {"x": X3, "z": X3}, []),
    ("y = (sum(x) + z)*x", {"x": X3, "z": X3}, ["x"]),  # spread, and through the product as itself
    ("y = W @ x", {"W": W32.T, "x": X3}, ["x"]),  # a layer: a vector function of x
    ("y = X @ w", {"X": Z23, "w": X3}, ["w"]),  # each row its own X, one w for all rows
    ("y = sum(X @ W, axis=-1)", {"X": Z23, "W": W32}, ["W"]),
    ("y = tanh(transpose(z))*2", {"z": Z23}, []),
    ("y = sin(slice(x, start=1, step=2)) + slice(x, step=2)", {"x": np.arange(4.0)}, []),
    # a column's softmax, then one row of it: each element of z still reaches one element
    ("y = slice(softmax(z, axis=0), stop=1)", {"z": Z23.T}, []),
    ("y = slice(softmax(z, axis=0), stop=2)", {"z": Z23.T}, ["z"]),
]


SHARED = {("y = x*sum(w)", "w"), ("y = sum(x) + z", "x")}


@pytest.mark.parametrize(("formula", "feeds", "mixing"), CASES, ids=[c[0] for c in CASES])
def test_grad_refuses_exactly_the_inputs_whose_elements_mix(formula, feeds, mixing):
    g = cg.parse(formula)
    found = mixed_at(g, g.inputs, "y", _between(g, g.inputs, "y"), feeds)
    assert (found[1] if found else []) == mixing
    if mixing:
        with pytest.raises(cg.ShapeError, match=r"depends on " + ", ".join(map(repr, mixing)) + r" through node") as info:
            cg.grad(g, **feeds)
        assert "cg.jacobian" in str(info.value) and "cg.sum(y)" in str(info.value)
        with pytest.raises(cg.ShapeError):
            cg.finite_difference(g, **feeds)
        with pytest.raises(cg.ShapeError):
            cg.compile(g, wrt=g.inputs)(**feeds)
    else:  # the gradient of the sum of the elements, as cg.sum(y) gives it
        summed = cg.parse(formula.replace("y = ", "s = ", 1) + "\ny = sum(s)")
        got, want = cg.grad(g, **feeds), cg.grad(summed, **feeds)
        for w in g.inputs:
            np.testing.assert_allclose(got[w], want[w], rtol=1e-12, err_msg=w)
        np.testing.assert_allclose(cg.compile(g, wrt=g.inputs)(**feeds)[f"g_{g.inputs[0]}"], want[g.inputs[0]],
                                   rtol=1e-12)


@pytest.mark.parametrize(("formula", "feeds", "mixing"), CASES, ids=[c[0] for c in CASES])
def test_what_is_refused_is_what_the_jacobian_shows(formula, feeds, mixing):
    # the ground truth: an input element reaches several output elements where its column
    # of the Jacobian has several nonzeros; broadcast inputs (b, a scalar) and reductions
    # shared by all (sum(w)) are the exceptions
    g = cg.parse(formula)
    y = np.asarray(cg.evaluate(g, **feeds)["y"])
    for w in g.inputs:
        if (formula, w) in SHARED:
            continue
        J = np.asarray(cg.jacobian(g, w, **feeds)).reshape(y.size, np.size(feeds[w]))
        several = (np.abs(J) > 1e-12).sum(axis=0) > 1
        if np.size(feeds[w]) == 1:
            continue  # one element shared by all: summed by design
        assert bool(several.any()) == (w in mixing), (w, J)


@pytest.mark.parametrize(("formula", "feeds", "mixing"), CASES, ids=[c[0] for c in CASES])
def test_what_the_graph_alone_refuses_grad_refuses_at_a_point(formula, feeds, mixing):
    # without a point (cgraph grad 'softmax(x)'), an array whose elements mix is refused where
    # the graph shows it (a softmax reaching y by elementwise ops only): never where grad accepts
    g = cg.parse(formula)
    if mixed_by_structure(g, g.inputs, "y") is not None:
        assert mixing
        # the same node as at the point, where the elements first mix
        assert mixed_by_structure(g, g.inputs, "y") == mixed_at(g, g.inputs, "y", _between(g, g.inputs, "y"), feeds)[0]
        with pytest.raises(cg.ShapeError, match="so it is an array whose elements have no gradients of their own"):
            require_separable_anywhere(g, g.inputs, "y")
    else:
        require_separable_anywhere(g, g.inputs, "y")


@pytest.mark.parametrize(("formula", "found"), [
    ("y = softmax(x)", "y"), ("y = log(softmax(x))*z", "t1"), ("y = 2*log_softmax(x, axis=0) + z", "t2"),
    ("y = sum(softmax(x))", None), ("y = -sum(t*log_softmax(z), axis=-1)", None), ("y = x @ w", None),
    ("y = slice(softmax(z, axis=0), stop=1)", None),
    # a reduction of x broadcast back over x itself: the node where they meet, as grad names it at a point
    ("y = exp(x)/sum(exp(x))", "y"), ("y = x - mean(x)", "y"), ("y = x*sum(x)", "y"), ("y = 2*(x/sum(x)) + z", "t3"),
    ("y = exp(x - logsumexp(x))", "t2"), ("y = (sum(x) + z)*x", "y"), ("y = z/sum(z, axis=1, keepdims=True)", "y"),
    ("y = sum(x - mean(x))", None), ("y = mean((x - mean(x))^2)", None),  # reduced after: a scalar
    ("y = x*sum(z)", None), ("y = sum(x) + z", None),  # a reduction shared by all of another input's elements
    ("y = x/size(x)", None), ("y = x^2", None), ("y = sum(x^2)", None),
])
def test_the_graph_alone_shows_elements_mixing_on_the_way_to_the_output_by_elementwise_ops(formula, found):
    g = cg.parse(formula)
    assert mixed_by_structure(g, g.inputs, "y") == found
    h = cg.Graph()  # a declared axis of one element: the softmax is the constant 1
    x = h.input("x", shape=(3, 1))
    h.output(cg.softmax(x) * h.input("z"), name="y")
    assert mixed_by_structure(h, ["x"], "y") is None
    assert mixed_by_structure(cg.parse("y = softmax(x)*z"), ["z"], "y") is None  # z's elements do not mix
    assert mixed_by_structure(cg.parse("y = x - mean(x)*z"), ["z"], "y") is None
    h = cg.Graph()  # a declared axis of one element: the sum is the element itself
    x = h.input("x", shape=(3, 1))
    h.output(x - cg.sum(x, axis=1, keepdims=True) * h.input("z"), name="y")
    assert mixed_by_structure(h, ["x"], "y") is None


def test_the_error_names_where_the_elements_first_mix():
    g = cg.parse("s = sum(exp(x))\ny = exp(x)/s")
    with pytest.raises(cg.ShapeError, match=r"through node 'y' \(div\), where a reduction of its elements is broadcast"):
        cg.grad(g, x=X3)
    with pytest.raises(cg.ShapeError, match=r"through node 't1' \(softmax\), which mixes the elements"):
        cg.grad(cg.parse("y = softmax(x)*2"), x=X3)


def test_a_scalar_or_one_element_output_is_never_refused():
    assert mixed_at(cg.parse("y = x/sum(x)"), ["x"], "y", {"x", "t1", "y"}, {"x": np.ones(1)}) is None
    assert cg.grad(cg.parse("y = exp(x)/sum(exp(x))"), x=np.array([0.5]))["x"].shape == (1,)
