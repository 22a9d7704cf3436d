"""cg.evaluate: values of every node, batching, dtypes, input and domain errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

import cgraph as cg

LECTURE = "a = x*z\nb = log(x)\nc = sin(b)\nd = exp(a)\ne = a/b\nf = c/a\ny = d + e + f"


def test_values_of_every_node_of_the_lecture():
    vals = cg.evaluate(cg.parse(LECTURE), x=2, z=3)
    assert isinstance(vals, cg.Values) and set(vals) == set("xzabcdefy")
    assert vals["a"] == 6.0 and vals["b"] == pytest.approx(np.log(2))
    assert float(vals["y"]) == 412.19145728412116
    table = vals.table(["a", "y"])
    assert table.splitlines()[0].split() == ["node", "value"] and "412.19145728412116" in table


def test_a_matrix_value_stays_in_the_value_column():
    # the second row of X printed at column 0, under the names: [[0. 0.]\n [0. 1.]]
    g = cg.parse("y = sum(X)")
    table = cg.evaluate(g, X=np.array([[0.0, 0.0], [0.0, 1.0]])).table()
    lines = table.splitlines()
    assert lines[2] == "X     [[0. 0.]"
    assert lines[3] == "       [0. 1.]]"
    assert lines[4] == "y     1.0"


def test_feeds_as_a_mapping_or_keywords():
    g = cg.parse("y = x - z")
    assert cg.evaluate(g, {"x": 5.0}, z=2.0)["y"] == 3.0
    assert cg.evaluate(g, {"x": 5.0, "z": 1.0})["y"] == 4.0


def test_batched_inputs_broadcast_like_numpy():
    g = cg.Graph()
    X = g.input("X", shape=(None, 3))
    W = g.param("W", value=np.arange(6.0).reshape(3, 2))
    b = g.param("b", value=np.array([1.0, -1.0]))
    s = g.input("s", shape=(None, 1))
    y = g.output(cg.tanh(X @ W + b) * s, name="y")
    assert y.shape == (None, 2)
    Xv = np.linspace(-1, 1, 15).reshape(5, 3)
    sv = np.array([[1.0], [2.0], [3.0], [4.0], [5.0]])
    got = cg.evaluate(g, X=Xv, s=sv)["y"]
    np.testing.assert_allclose(got, np.tanh(Xv @ W.attrs["value"] + b.attrs["value"]) * sv)
    # a fed param overrides its stored value
    np.testing.assert_allclose(cg.evaluate(g, X=Xv, s=sv, b=np.zeros(2))["y"], np.tanh(Xv @ W.attrs["value"]) * sv)


def test_scalar_inputs_against_array_inputs():
    g = cg.parse("y = x*z + sin(x)")
    x = np.array([0.0, 1.0, 2.0])
    np.testing.assert_allclose(cg.evaluate(g, x=x, z=3)["y"], x * 3 + np.sin(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_dtypes_are_kept(dtype):
    g = cg.parse("y = 2.5*x^2 + sin(x)/3 - exp(-x) + sum(x)")
    x = np.array([0.5, 1.5], dtype=dtype)
    vals = cg.evaluate(g, x=x)
    assert vals["y"].dtype == dtype
    assert all(np.asarray(v).dtype == dtype for n, v in vals.items() if g.node(n).role != "const")


def test_integers_become_float64():
    g = cg.parse("y = x/z")
    vals = cg.evaluate(g, x=1, z=np.array([2, 4]))
    assert vals["y"].dtype == np.float64 and vals["x"].dtype == np.float64
    np.testing.assert_array_equal(vals["y"], [0.5, 0.25])
    assert cg.evaluate(cg.parse("y = x*2"), x=True)["y"] == 2.0  # bools are numbers to numpy



def test_a_missing_input_named_as_a_constant_says_what_to_write():
    # e^(x*z), copied from a slide, makes e an input; the error said only that it is missing
    with pytest.raises(cg.InputError, match=re.escape(
            "graph 'graph' is missing input(s) 'e'; 'e' is a variable here (Euler's number is exp(1); "
            "write e^x as exp(x))") + "$"):
        cg.grad(cg.parse("e^(x*z)"), x=2, z=3)
    with pytest.raises(cg.InputError, match=re.escape("missing input(s) 'pi', 'x'; 'pi' is a variable here (for π "
                                                      "write 3.141592653589793)") + "$"):
        cg.evaluate(cg.parse("sin(pi*x)"))
    with pytest.raises(cg.InputError, match=r"missing input\(s\) 'z'$"):  # the lecture's e = a/b is assigned
        cg.evaluate(cg.parse(LECTURE), x=2)

def test_missing_unexpected_and_misshaped_inputs_name_themselves():
    g = cg.Graph("net")
    X = g.input("X", shape=(None, 2))
    g.param("W", shape=(2, 1))
    g.output(X @ g.node("W"), name="y")
    with pytest.raises(cg.InputError, match="graph 'net' is missing input\\(s\\) 'X', 'W'"):
        cg.evaluate(g)
    with pytest.raises(cg.InputError, match="'Q' is not a node of graph 'net'"):
        cg.evaluate(g, X=np.ones((3, 2)), W=np.ones((2, 1)), Q=1.0)
    with pytest.raises(cg.InputError, match="'y' is an op node, not an input"):
        cg.evaluate(g, X=np.ones((3, 2)), W=np.ones((2, 1)), y=1.0)
    with pytest.raises(cg.InputError, match="input 'X': expected shape \\(batch, 2\\), got \\(3, 3\\)"):
        cg.evaluate(g, X=np.ones((3, 3)), W=np.ones((2, 1)))
    with pytest.raises(cg.InputError, match="param 'W': expected shape \\(2, 1\\), got \\(2,\\)"):
        cg.evaluate(g, X=np.ones((3, 2)), W=np.ones(2))
    with pytest.raises(cg.InputError, match="input 'X': expected real numbers"):
        cg.evaluate(g, X=np.array([["a", "b"]]), W=np.ones((2, 1)))
    with pytest.raises(cg.InputError, match="input 'X'"):
        cg.evaluate(g, X=np.ones((3, 2)) + 1j, W=np.ones((2, 1)))
    assert isinstance(cg.InputError("x"), ValueError)


@pytest.mark.parametrize("fn", [cg.evaluate, cg.backprop_steps])
@pytest.mark.parametrize("feeds", [2.0, [2.0], np.ones(2), "x=2"])
def test_feeds_that_are_no_mapping_are_an_input_error(fn, feeds):
    with pytest.raises(cg.InputError, match="feeds must be a mapping"):
        fn(cg.parse("y = 2*x"), feeds)


@pytest.mark.parametrize(
    ("text", "inputs", "node", "op", "value"),
    [
        ("y = log(x)", {"x": -1.0}, "y", "log", "log(x=-1) = nan"),
        ("y = log(x)", {"x": 0.0}, "y", "log", "log(x=0) = -inf"),
        ("y = x/z", {"x": 1.0, "z": 0.0}, "y", "div", "div(x=1, z=0) = inf"),
        ("y = sqrt(x)", {"x": -1.0}, "y", "sqrt", "sqrt(x=-1) = nan"),
        ("a = exp(x)\ny = a + 1", {"x": 1000.0}, "a", "exp", "exp(x=1000) = inf"),
        ("y = log(x)", {"x": np.array([1.0, 2.0, -3.0])}, "y", "log", "at index (2,): log(x=-3) = nan"),
    ],
)
def test_domain_errors_name_the_node_and_the_value(text, inputs, node, op, value):
    g = cg.parse(text)
    with pytest.raises(cg.DomainError) as info:
        cg.evaluate(g, **inputs)
    message = str(info.value)
    assert message.startswith(f"node {node!r} ({op}) is not finite") and value in message
    assert "nonfinite='propagate'" in message
    assert isinstance(info.value, ArithmeticError)


def test_nonfinite_propagate_keeps_numpy_values():
    g = cg.parse("y = log(x) + 1/z")
    vals = cg.evaluate(g, x=np.array([-1.0, 0.0, 1.0]), z=0.0, nonfinite="propagate")
    assert np.isnan(vals["y"][0]) and np.isinf(vals["y"][2])


def test_nan_inputs():
    g = cg.parse("y = x + 1")
    with pytest.raises(cg.InputError, match="input 'x' is not finite \\(nan at index \\(1,\\)\\)"):
        cg.evaluate(g, x=np.array([0.0, np.nan]))
    with pytest.raises(cg.InputError, match="input 'x' is not finite \\(inf\\)"):
        cg.evaluate(g, x=np.inf)
    got = cg.evaluate(g, x=np.array([0.0, np.nan]), nonfinite="propagate")["y"]
    assert got[0] == 1.0 and np.isnan(got[1])


def test_runtime_shape_errors_name_the_node():
    g = cg.parse("y = X @ W")
    with pytest.raises(cg.ShapeError, match="node 'y' \\(matmul\\) of 'X' \\(2, 3\\), 'W' \\(2, 3\\)"):
        cg.evaluate(g, X=np.ones((2, 3)), W=np.ones((2, 3)))



def test_runtime_shape_errors_say_why_as_building_with_those_shapes_does():
    # numpy's gufunc text ("mismatch in its core dimension 0, with gufunc signature
    # (n?,k),(k,m?)->(n?,m?)") was the reason; the op's shape rule says it plainly
    X, W = np.ones((2, 3)), np.ones((2, 3))
    why = re.escape("node 'y' (matmul) of 'X' (2, 3), 'W' (2, 3): inner dimensions (2, 3) @ (2, 3) do not match (3 != 2)")
    for run in (lambda: cg.evaluate(cg.parse("y = X @ W"), X=X, W=W),
                lambda: cg.grad(cg.parse("y = sum(X @ W)"), wrt="W", X=X, W=W),
                lambda: cg.compile(cg.parse("y = X @ W"))(X=X, W=W)):
        with pytest.raises(cg.ShapeError, match="^" + why.replace("'y'", "'(y|t1)'") + "$"):
            run()
    g = cg.Graph()
    with pytest.raises(cg.ShapeError, match=re.escape("inner dimensions (2, 3) @ (2, 3) do not match (3 != 2)")):
        g.input("X", shape=(2, 3)) @ g.input("W", shape=(2, 3))
    with pytest.raises(cg.ShapeError, match=re.escape("node 'y' (mul) of 'x' (3,), 'z' (4,): shapes (3,) and (4,) "
                                                      "do not broadcast") + "$"):
        cg.evaluate(cg.parse("y = x*z"), x=np.ones(3), z=np.ones(4))

def test_evaluate_does_not_change_the_graph():
    g = cg.parse(LECTURE)
    before = cg.dumps(g)
    cg.evaluate(g, x=2.0, z=3.0)
    assert cg.dumps(g) == before


def test_a_name_without_a_value_is_a_node_not_found_error_listing_the_nodes():
    v = cg.evaluate(cg.parse("x*z"), x=2.0, z=3.0)
    with pytest.raises(cg.NodeNotFoundError, match=r"no value for 'q': not a node of the evaluated graph \(nodes: x, z, y\)"):
        v["q"]
    assert v.get("q") is None and "q" not in v  # still a mapping


@pytest.mark.parametrize("x", [1.0, np.float32(1.0), np.ones(2, np.float16)])
def test_every_value_is_a_numpy_value_constants_too(x):
    # API.md: "a mapping from every node name to its numpy value"; a constant, and what
    # constants alone compute (a = 2*3, exp(1), an adjoint's g_x = g_y*2), came back as
    # Python floats, without .dtype or .shape
    for g in (cg.parse("a = 2*3\ny = x + a + exp(1)"), cg.adjoint(cg.parse("y = 2*x")), cg.parse("y = 2")):
        vals = cg.evaluate(g, x=x) if g.inputs else cg.evaluate(g)
        assert all(isinstance(v, (np.ndarray, np.generic)) for v in vals.values()), vals
    assert cg.evaluate(cg.parse("a = 2*3\ny = x + a"), x=x)["y"].dtype == np.asarray(x).dtype  # weak: x's dtype
