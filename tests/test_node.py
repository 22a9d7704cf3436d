"""``Node``: numpy's ufuncs on nodes (``__array_ufunc__``)."""

from __future__ import annotations

import numpy as np
import pytest

import cgraph as cg
from cgraph.ops.registry import UFUNCS

RNG = np.random.default_rng(7)


def _graph():
    g = cg.Graph()
    return g, g.input("x"), g.input("z")


@pytest.mark.parametrize("ufunc", sorted(UFUNCS, key=lambda u: u.__name__), ids=lambda u: u.__name__)
def test_a_ufunc_with_an_op_builds_that_op_and_computes_what_numpy_does(ufunc):
    # np.sin(node) was numpy's "loop of ufunc does not support argument 0 of type Node"
    g, x, z = _graph()
    args = (x, z)[: ufunc.nin]
    node = ufunc(*args)
    assert isinstance(node, cg.Node) and node.op == UFUNCS[ufunc].name
    a, b = RNG.uniform(0.5, 2.0, size=(2, 3, 3))
    g.output(node, name="out")
    np.testing.assert_allclose(cg.evaluate(g, x=a, z=b)["out"], ufunc(*(a, b)[: ufunc.nin]), rtol=1e-15)


def test_numpy_operands_become_constants_in_their_place():
    g, x, z = _graph()
    assert cg.to_text(np.ones(2) * x) == "[1.0, 1.0]*x"
    assert cg.to_text(np.float64(2) * x) == "2.0*x" and cg.to_text(x * np.float64(2)) == "x*2.0"
    assert cg.to_text(np.float32(3) - x) == "3.0 - x"
    assert cg.to_text(np.subtract(1, x)) == "1 - x" and cg.to_text(np.divide(x, z)) == "x/z"
    assert cg.to_text(np.ones((2, 2)) @ x) == "[[1.0, 1.0], [1.0, 1.0]] @ x"
    assert cg.to_text(np.power(np.float64(2), x)) == "2.0^x"
    # the constant the reflected operator made (numpy hands a scalar over as a 0-d array)
    via_ufunc, via_rmul = (np.float32(2) * x).operands[0].attrs["value"], x.__rmul__(np.float32(2)).operands[0].attrs["value"]
    assert type(via_ufunc) is type(via_rmul) and via_ufunc == via_rmul
    assert cg.to_text(np.sin(np.exp(x))) == "sin(exp(x))"
    assert cg.to_text(np.abs(x)) == "abs(x)" and np.abs is np.absolute


def test_equality_with_a_numpy_value_stays_identity():
    g, x, z = _graph()
    assert (np.ones(3) == x) is False and (np.float64(2) == x) is False
    assert (np.ones(3) != x) is True and (x == np.ones(3)) is False
    assert x in [np.float64(1), x] and [np.float64(1)].count(x) == 0


@pytest.mark.parametrize(("call", "message"), [
    (lambda x, z: np.arctan(x), "np.arctan has no cgraph op; on a node, numpy's ufuncs absolute, add, cos"),
    (lambda x, z: np.hypot(x, 0), "np.hypot has no cgraph op"),
    (lambda x, z: np.ones(3) < x, "np.less has no cgraph op"),
    (lambda x, z: np.add.reduce(x), "np.add.reduce (np.sum) cannot be applied to a cgraph node; use cg.sum"),
    (lambda x, z: np.multiply.accumulate(x), "np.multiply.accumulate cannot be applied to a cgraph node; cg.mul(...)"),
    (lambda x, z: np.add.outer(x, z), "np.add.outer cannot be applied to a cgraph node; cg.add(...)"),
    (lambda x, z: np.sin(x, out=np.ones(3)), "np.sin(..., out=...) cannot be applied to a cgraph node: a node is a formula"),
    (lambda x, z: np.sin(np.ones(3), out=(x,)), "np.sin(..., out=...)"),
    (lambda x, z: np.add(x, z, dtype=np.float32), "np.add(..., dtype=...) cannot be applied to a cgraph node; "[:-2]),
])
def test_any_other_ufunc_method_or_keyword_is_a_typed_error_naming_the_ufunc(call, message):
    g, x, z = _graph()
    with pytest.raises(cg.UnsupportedOperationError) as info:
        call(x, z)
    assert str(info.value).startswith(message), str(info.value)
    assert isinstance(info.value, TypeError)  # numpy's own error was a TypeError too
    assert set(g.nx) == {"x", "z"}  # nothing was added to the graph


@pytest.mark.parametrize(("call", "message"), [
    # read as 0-d object arrays these gave wrong formulas: x/1 for the mean of a vector,
    # the elementwise x*z for a dot product
    (lambda x, z: np.mean(x), "np.mean cannot be applied to a cgraph node; use cg.mean"),
    (lambda x, z: np.dot(x, z), "np.dot cannot be applied to a cgraph node; use cg.matmul (or @)"),
    (lambda x, z: np.sum(x, axis=0), "np.sum cannot be applied to a cgraph node; use cg.sum"),
    (lambda x, z: np.transpose(x), "np.transpose cannot be applied to a cgraph node; use cg.transpose"),
    (lambda x, z: np.linalg.norm(x), "np.linalg.norm cannot be applied to a cgraph node; build the formula"),
    (lambda x, z: np.where(x, x, z), "np.where cannot be applied to a cgraph node; build the formula"),
])
def test_numpy_functions_that_are_not_ufuncs_are_a_typed_error_naming_the_cg_function(call, message):
    g, x, z = _graph()
    with pytest.raises(cg.UnsupportedOperationError) as info:
        call(x, z)
    assert str(info.value).startswith(message), str(info.value)
    assert set(g.nx) == {"x", "z"}


def test_np_shape_and_ndim_read_a_declared_shape_and_refuse_an_unknown_one():
    g = cg.Graph()
    w, u = g.input("w", shape=(2, 3)), g.input("u", shape=(None, 3))
    assert np.shape(w) == (2, 3) and np.ndim(w) == 2 and np.ndim(u) == 2
    v = g.input("v")
    for node in (u, v):
        with pytest.raises(cg.UnsupportedOperationError, match="np.shape cannot .* shape is not declared"):
            np.shape(node)
    with pytest.raises(cg.UnsupportedOperationError, match="np.ndim"):
        np.ndim(v)


@pytest.mark.parametrize("convert", [np.array, np.asarray, lambda x: np.array([x, 1.0]), lambda x: np.float64(x)])
def test_a_node_does_not_become_a_numpy_object_array(convert):
    # np.array([x, z]) was a silent object array whose arithmetic built nodes entry by entry
    g = cg.Graph()
    x = g.input("x", shape=(3,))
    with pytest.raises(cg.UnsupportedOperationError, match="node 'x' has no value to convert .* cg.evaluate"):
        convert(x)
    assert set(g.nx) == {"x"}


def test_python_abs_builds_the_abs_op():
    # abs(x) raised "bad operand type for abs(): 'Node'" where np.abs(x), torch and JAX build |x|
    g = cg.Graph()
    x = g.input("x")
    y = g.output(abs(x - 1), name="y")
    assert y.op == "abs" and cg.to_text(g) == "y = abs(x - 1)"
    assert float(cg.evaluate(g, x=-2.0)["y"]) == 3.0


def test_python_operators_without_an_op_are_typed_errors_with_a_hint():
    # x ^ 2 (the power as cg.parse writes it) said "unsupported operand type(s) for ^: 'Node' and 'int'"
    x = cg.Graph().input("x")
    with pytest.raises(cg.UnsupportedOperationError, match=r"^operator '\^' on node 'x': .*write x \*\* 2"):
        x ^ 2
    with pytest.raises(cg.UnsupportedOperationError, match=r"^operator '\^' on node 'x'"):
        2 ^ x
    with pytest.raises(cg.UnsupportedOperationError, match=r"^operator '//' on node 'x': .*write x / y"):
        x // 2
    with pytest.raises(cg.UnsupportedOperationError, match=r"^operator '%' on node 'x'"):
        3 % x


@pytest.mark.parametrize(("call", "what"), [
    (float, "float()"), (int, "int()"), (complex, "complex()"), (round, "round()"),
    (lambda x: __import__("math").exp(x), "float()"),
    (lambda x: x > 0, "comparison '>'"), (lambda x: 0 < x, "comparison '>'"), (lambda x: x <= 1, "comparison '<='"),
    (lambda x: x >= 1, "comparison '>='"), (lambda x: max(x, 0), "comparison"), (lambda x: sorted([x, x * 2]), "comparison '<'"),
])
def test_a_node_used_as_a_number_is_a_typed_error_saying_what_to_do(call, what):
    # Python's TypeError said only "must be real number, not 'Node'" / "'>' not supported"
    g = cg.Graph()
    x = g.input("x")
    with pytest.raises(cg.UnsupportedOperationError, match="node '[^']+': a node is a formula .*cg.exp, not math.exp") as info:
        call(x)
    assert what in str(info.value)


def test_the_array_methods_build_the_same_nodes_as_the_functions():
    # x.sum() was an AttributeError: numpy, JAX and PyTorch users write the method
    g = cg.Graph()
    X = g.input("X", shape=(2, 3, 4))
    pairs = [
        (X.sum(), cg.sum(X)), (X.sum(1), cg.sum(X, axis=1)), (X.sum((0, 2), True), cg.sum(X, axis=(0, 2), keepdims=True)),
        (X.mean(axis=-1), cg.mean(X, axis=-1)), (X.mean(0, keepdims=True), cg.mean(X, axis=0, keepdims=True)),
        (X.reshape(4, 6), cg.reshape(X, shape=(4, 6))), (X.reshape((4, 6)), cg.reshape(X, shape=(4, 6))),
        (X.reshape(-1), cg.reshape(X, shape=-1)), (X.transpose(), cg.transpose(X)),
        (X.transpose(1, 0, 2), cg.transpose(X, axes=(1, 0, 2))), (X.transpose((2, 0, 1)), cg.transpose(X, axes=(2, 0, 1))),
    ]
    for method, function in pairs:
        assert (method.op, method.attrs, method.shape, method.operands) == (
            function.op, function.attrs, function.shape, function.operands)
    assert X.sum(name="total").name == "total" and X.transpose().shape == X.T.shape == (4, 3, 2)
    with pytest.raises(cg.ShapeError, match="transpose of 'X'"):
        X.transpose(0, 1)
    x = np.arange(24.0).reshape(2, 3, 4)
    g.output((X.transpose(1, 0, 2).reshape(6, 4) ** 2).mean(0).sum(), name="y")
    assert np.allclose(cg.grad(g, X=x)["X"], 2 * x / 6)
