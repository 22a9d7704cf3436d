"""The indexing ops (cgraph/ops/index.py): ``slice`` / ``x[1::2]`` and its adjoint
``unslice``: values, shapes, derivatives (finite differences, SymPy, hand), errors naming
the node, printing and parsing back, save/load, diagrams and cg.compile."""

from __future__ import annotations

import re

import numpy as np
import pytest
import sympy as sp

import cgraph as cg


def rosenbrock(D: int = 6, *, declared: bool = True) -> cg.Graph:
    g = cg.Graph("rosenbrock")
    x = g.input("x", shape=(D,) if declared else None)
    a, b = x[::2], x[1::2]
    g.output(cg.sum(100 * (b - a**2) ** 2 + (1 - a) ** 2), name="f")
    return g


def rosenbrock_grad(x: np.ndarray) -> np.ndarray:
    a, b = x[::2], x[1::2]
    out = np.empty_like(x)
    out[::2] = -400 * a * (b - a * a) - 2 * (1 - a)
    out[1::2] = 200 * (b - a * a)
    return out


X0 = np.array([-1.2, 1.0, 0.3, -0.7, 1.5, 2.0])


def test_getitem_builds_slice_nodes_with_numpy_semantics():
    g = cg.Graph()
    x = g.input("x", shape=(4, 6))
    value = np.arange(24.0).reshape(4, 6)
    cases = {
        "x[1::2]": (x[1::2], value[1::2]),
        "x[:, :-1]": (x[:, :-1], value[:, :-1]),
        "x[..., ::3]": (x[..., ::3], value[..., ::3]),
        "x[1:3, ::-2]": (x[1:3, ::-2], value[1:3, ::-2]),
        "x[:]": (x[:], value),
    }
    for text, (node, want) in cases.items():
        assert g.output(node, name=text).shape == want.shape, text
    values = cg.evaluate(g, x=value)
    for text, (_, want) in cases.items():
        np.testing.assert_array_equal(values[text], want, err_msg=text)
    assert x[1::2].op == "slice" and x[1::2].attrs == {"start": 1, "stop": None, "step": 2, "axis": 0}
    assert x[..., ::3].attrs["axis"] == -1
    assert x[1:3, ::-2].operands[0].attrs["start"] == 1  # one node per sliced axis


def test_unknown_lengths_stay_unknown_and_the_value_decides():
    g = cg.Graph()
    x = g.input("X", shape=(None, 4))
    y = x[::2, 1:]
    assert y.shape == (None, 3)
    g.output(y, name="y")
    assert cg.evaluate(g, X=np.ones((5, 4)))["y"].shape == (3, 3)
    g2 = cg.Graph()
    assert g2.input("u")[1:].shape is None


@pytest.mark.parametrize("declared", [True, False])
def test_rosenbrock_gradient_matches_hand_and_finite_differences(declared):
    g = rosenbrock(declared=declared)
    got = cg.grad(g, x=X0)["x"]
    np.testing.assert_allclose(got, rosenbrock_grad(X0), rtol=1e-13)
    np.testing.assert_allclose(got, cg.finite_difference(g, x=X0)["x"], rtol=1e-6, atol=1e-6)
    assert cg.check_gradients(g, x=X0).ok
    f = cg.compile(g, wrt="x")
    np.testing.assert_allclose(f(x=X0)["g_x"], rosenbrock_grad(X0), rtol=1e-13)
    np.testing.assert_allclose(f.positional(X0)[1], got, rtol=1e-13)


def test_rosenbrock_gradient_matches_sympy():
    xs = sp.symbols("x0:6", real=True)
    f = sum(100 * (xs[i + 1] - xs[i] ** 2) ** 2 + (1 - xs[i]) ** 2 for i in range(0, 6, 2))
    want = [float(sp.diff(f, s).subs(dict(zip(xs, X0)))) for s in xs]
    np.testing.assert_allclose(cg.grad(rosenbrock(), x=X0)["x"], want, rtol=1e-13)


def test_second_derivative_through_unslice_matches_finite_differences():
    g = rosenbrock()
    ga = cg.adjoint(g)  # g_x holds unslice nodes; their own rule is slice
    h = ga.copy()
    w = h.input("w", shape=(6,))
    h.output(cg.sum(h["g_x"] * w), name="gw")
    h.set_outputs(["gw"])
    w0 = np.linspace(-1, 1, 6)
    np.testing.assert_allclose(cg.grad(h, wrt=["x"], x=X0, w=w0)["x"],
                               cg.finite_difference(h, wrt=["x"], x=X0, w=w0)["x"], rtol=1e-6, atol=1e-5)


def test_shape_errors_name_the_node():
    g = cg.Graph()
    s = g.input("s", shape=())
    v = g.input("v", shape=(5,))
    with pytest.raises(cg.ShapeError, match="cannot be sliced") as info:
        cg.slice(s, step=2, name="cut")
    assert "'cut'" in str(info.value)
    with pytest.raises(cg.ShapeError, match="step cannot be zero"):
        cg.slice(v, step=0, name="zero")
    with pytest.raises(cg.ShapeError, match="axis 1 is out of range"):
        cg.slice(v, axis=1, name="far")
    with pytest.raises(cg.ShapeError, match="must be an int"):
        cg.slice(v, start=1.5, name="half")
    with pytest.raises(cg.ShapeError, match="do not fit the slice") as info:
        cg.unslice(g.input("w", shape=(2,)), v, step=2, name="place")
    assert "'place'" in str(info.value)
    with pytest.raises(cg.ArgumentError, match="node 'v': index 0 is not supported"):
        v[0]
    with pytest.raises(cg.ShapeError, match="start= must be an int or None, not 1.5"):
        v[1.5:]  # as cg.slice(v, start=1.5) says, not a bare TypeError
    with pytest.raises(cg.ShapeError, match="step= must be an int or None, not 'a'"):
        v[::"a"]
    assert v[np.int64(1):].attrs["start"] == 1
    with pytest.raises(cg.ArgumentError, match="not supported"):
        v[None, :]
    with pytest.raises(TypeError, match="not iterable"):  # indexing is slicing, not a sequence protocol
        list(v)
    # more indices than dimensions: numpy's IndexError "too many indices"; full slices build
    # no node, so v[:, :] and m[:, :, :] handed back the node itself, silently
    m = g.input("m", shape=(2, 3))
    for key in [(slice(None),) * 2, (slice(None), slice(1, None))]:
        with pytest.raises(cg.ShapeError, match=r"node 'v' \(5,\): 2 indices for 1 dimension"):
            v[key]
    with pytest.raises(cg.ShapeError, match=r"node 'm' \(2, 3\): 3 indices for 2 dimension"):
        m[..., :, :, :]
    assert m[:, :] is not None and m[..., :, :].name == "m"


def test_evaluation_errors_name_the_node():
    g = cg.Graph()
    u = g.input("u")  # unknown shape: the value decides
    g.output(cg.slice(u, step=2, name="cut"), name="out")
    for run in (lambda: cg.evaluate(g, u=3.0), lambda: cg.compile(g)(u=3.0), lambda: cg.compile(g).positional(3.0)):
        with pytest.raises(cg.ShapeError, match=r"node 'out' \(slice\).*scalar cannot be sliced"):
            run()


def test_text_and_latex_print_and_parse_back():
    g = rosenbrock()
    text = cg.to_text(g)
    assert "slice(x, start=1, step=2)" in text and "slice(x, step=2)" in text
    back = cg.parse(text)
    assert float(cg.evaluate(back, x=X0)["f"]) == pytest.approx(float(cg.evaluate(g, x=X0)["f"]), rel=1e-14)
    ga = cg.adjoint(g)
    program = cg.to_text(ga, form="program")
    assert "unslice(" in program
    again = cg.parse(program)
    np.testing.assert_allclose(cg.evaluate(again, x=X0)[ga.outputs[0]], rosenbrock_grad(X0), rtol=1e-13)
    assert r"\operatorname{slice}" in cg.to_latex(g)
    assert cg.parse("y = slice(x, stop=-1, axis=-1)").nx.nodes["y"]["attrs"]["axis"] == -1


def test_save_load_round_trip(tmp_path):
    ga = cg.adjoint(rosenbrock())
    cg.save(ga, tmp_path / "g.json")
    back = cg.load(tmp_path / "g.json")
    assert cg.to_text(back, form="program") == cg.to_text(ga, form="program")
    np.testing.assert_array_equal(cg.evaluate(back, x=X0)["g_x"], cg.evaluate(ga, x=X0)["g_x"])


def test_diagram_labels():
    dot = cg.to_dot(cg.adjoint(rosenbrock())).to_string()
    # the box (of a named node: its cell with port b): [:] and its attributes
    assert re.search(r"(label=<|PORT=\"b\"[^>]*>)\[:&#93;<BR/>", dot) and re.search(r"(label=<|PORT=\"b\"[^>]*>)\[:&#93;ᵀ<BR/>", dot)
    assert ">start=1, step=2<" in dot


@pytest.mark.parametrize(
    "cuts",
    [
        [(None, None, 2), (1, None, 2)],  # the split of Rosenbrock: one buffer, no zeros
        [(0, None, 3), (1, None, 3), (2, None, 3)],
        [(1, 4, None), (None, None, 2)],  # overlapping, and some elements left zero
        [(-1, None, -2), (None, 3, None)],
    ],
)
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("declared", [True, False])
def test_compiled_sums_of_slices_match_grad(cuts, axis, declared):
    g = cg.Graph()
    x = g.input("x", shape=(7, 7) if declared else None)
    terms = [cg.sin(cg.slice(x, start=a, stop=b, step=c, axis=axis)) * (k + 1.5) for k, (a, b, c) in enumerate(cuts)]
    g.output(cg.add(*[cg.sum(t) for t in terms]), name="y")
    f = cg.compile(g, wrt="x")
    assert declared is False and axis == -1 or "_unslice_sum(" in f.source
    x0 = np.random.default_rng(0).normal(size=(7, 7))
    want = cg.grad(g, x=x0)["x"]
    np.testing.assert_allclose(f(x=x0)["g_x"], want, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(f.positional(x0.astype(np.float32))[1], want, rtol=1e-5, atol=1e-6)
    assert f.positional(x0.astype(np.float32))[1].dtype == np.float32


@pytest.mark.parametrize("key", [np.s_[1::2], np.s_[:, 1:], np.s_[::-1]], ids=["rows", "columns", "reversed"])
def test_slices_of_a_batch_input_differentiate_against_known_shapes(key):
    # X (None, 3) sliced, then weighted by a constant of known shape: the adjoint's unslice
    # node compared the known values' shape with the slice's (None, 3) and refused them
    g = cg.Graph()
    x = g.input("X", shape=(None, 3))
    value = np.arange(15.0).reshape(5, 3) / 7
    weights = np.linspace(-1.0, 2.0, value[key].size).reshape(value[key].shape)
    g.output(cg.sum(x[key] * g.const(weights)), name="f")
    want = np.zeros_like(value)
    want[key] = weights
    np.testing.assert_array_equal(cg.grad(g, X=value)["X"], want)
    np.testing.assert_array_equal(cg.compile(g, wrt="X")(X=value)["g_X"], want)
