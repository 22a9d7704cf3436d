"""The fifty fault cases of the research notes (ecosystem-and-reliability.md, section B4).

Each ``test_b4_NN_*`` pins down one case: a typed :class:`cg.CGraphError` whose message
names the culprit (node and op, operand position, input, file, line and column), or a
documented correct result. Never a bare KeyError, AssertionError, RecursionError,
NetworkXUnfeasible, a Graphviz stderr dump, or a silently wrong value. The research's
class names map to ours: MissingInputError -> InputError, NumericalError -> DomainError,
SchemaError -> LoadError; docs/errors.md lists them all.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from graphs import layered, lecture

import cgraph as cg
from cgraph.export import dot as D
from cgraph.export.notebook import mimebundle
from cgraph.export.render import run_dot

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")  # pyparsing, via pydot
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
ROOT = Path(__file__).resolve().parents[1]


def titles(svg: str) -> list[str]:
    return re.findall(r"<title>([^<]*)</title>", svg)


def svg_of(g: cg.Graph, **options) -> str:
    return run_dot(cg.to_dot(g, **options).to_string(), "svg").decode()


@contextmanager
def low_recursion_limit(headroom: int = 150):
    """Nothing may recurse per node: allow only ``headroom`` frames above the caller."""
    limit = sys.getrecursionlimit()
    depth = len(__import__("inspect").stack(0))
    sys.setrecursionlimit(depth + headroom)
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)


def chain(n: int) -> cg.Graph:
    g = cg.Graph("chain")
    h = g.input("x")
    for i in range(n):
        h = cg.sin(h) if i % 2 else h * 1.0001
    g.output(h, name="y")
    return g


# =============================================================================== structure
def test_b4_01_cycle_names_its_edges():
    g = cg.parse("a = exp(x)\nb = sin(a)")
    g.nx.remove_edge("x", "a")
    g.nx.add_edge("b", "a", key=0)  # a -> b -> a
    for run in (g.validate, lambda: cg.evaluate(g, x=1.0), lambda: cg.adjoint(g), lambda: cg.to_text(g), cg.dumps):
        with pytest.raises(cg.CycleError, match=r"has a cycle: (a -> b -> a|b -> a -> b)") as info:
            run(g) if run is cg.dumps else run()
        assert not isinstance(info.value, nx.NetworkXException)
        assert sorted(info.value.cycle) == [("a", "b"), ("b", "a")]


def test_b4_02_self_loop_is_a_cycle():
    g = cg.parse("a = exp(x)")
    g.nx.remove_edge("x", "a")
    g.nx.add_edge("a", "a", key=0)
    with pytest.raises(cg.CycleError, match="a -> a") as info:
        cg.evaluate(g, x=1.0)
    assert info.value.cycle == [("a", "a")]


def test_b4_03_unknown_op_names_node_and_known_ops():
    g = cg.Graph()
    with pytest.raises(cg.UnknownOpError, match=r"unknown op 'foo'; known ops: abs, add, ") as info:
        g.apply("foo", g.input("x"), name="f")
    assert "node 'f'" in str(info.value) and isinstance(info.value, KeyError)
    assert str(info.value).startswith("node 'f'")  # a message, not KeyError's repr of one
    h = cg.parse("y = exp(x)")
    h.nx.nodes["y"]["op"] = "foo"  # an op changed behind the graph's back
    with pytest.raises(cg.UnknownOpError, match="node 'y': unknown op 'foo'"):
        cg.evaluate(h, x=1.0)


def test_b4_04_arity_is_checked_where_the_node_is_made():
    g = cg.Graph()
    x = g.input("x")
    with pytest.raises(cg.ArityError, match=r"mul takes at least 2 operand\(s\), got 1 \(node 'm'\)"):
        g.apply("mul", x, name="m")
    with pytest.raises(cg.ArityError, match=r"sub takes 2 operand\(s\), got 3"):
        g.apply("sub", x, x, x)
    with pytest.raises(cg.ParseError, match=r"column 1: exp\(\) takes 1 argument, got 2"):
        cg.parse("exp(x, x)")
    # add and mul are variadic (the lecture's y = d + e + f): three operands are fine
    g.output(cg.mul(x, x, x), name="y")
    assert float(cg.evaluate(g, x=2.0)["y"]) == 8.0


def test_b4_05_x_times_x_keeps_both_operands():
    g = cg.Graph()
    x = g.input("x")
    g.output(x * x, name="y")
    assert sorted(k for _, _, k in g.nx.in_edges("y", keys=True)) == [0, 1]
    assert float(cg.evaluate(g, x=3.0)["y"]) == 9.0
    assert float(cg.grad(g, x=3.0)["x"]) == 6.0
    assert cg.to_text(cg.simplify(cg.adjoint(g))) == "g_x = 2*x"


@pytest.mark.parametrize(("op", "expected"), [("sub", 2.0 - 5.0), ("div", 2.0 / 5.0), ("pow", 2.0**5.0)])
@pytest.mark.parametrize("order", ["declared", "reversed"])
def test_b4_06_operand_order_is_read_from_ports(op, expected, order):
    g = cg.Graph()
    if order == "declared":
        a, b = g.input("a"), g.input("b")
        g.output(g.apply(op, a, b), name="y")
    else:  # b made first, and the edges written into networkx last port first
        b, a = g.input("b"), g.input("a")
        g._add_node("y", op, {}, "op", None)
        g.nx.add_edge("b", "y", key=1)
        g.nx.add_edge("a", "y", key=0)
        g.set_outputs(["y"])
    assert g.operands("y") == ("a", "b")
    assert float(cg.evaluate(g, a=2.0, b=5.0)["y"]) == pytest.approx(expected, rel=1e-15)
    fd = cg.finite_difference(g, a=2.0, b=5.0)
    ad = cg.grad(g, a=2.0, b=5.0)
    assert ad["a"] == pytest.approx(fd["a"], rel=1e-6) and ad["b"] == pytest.approx(fd["b"], rel=1e-6)


@pytest.mark.parametrize(("keys", "shown"), [((0, 0), r"\[0, 0\]"), ((0, 2), r"\[0, 2\]"), ((1,), r"\[1\]")])
def test_b4_07_ports_must_be_0_to_n(keys, shown):
    g = cg.parse("y = x - z")
    g.nx.remove_edges_from(list(g.nx.in_edges("y", keys=True)))
    for src, k in zip(("x", "z"), keys):
        g.nx.add_edge(src, "y", key=k)
    with pytest.raises(cg.ArityError, match=rf"node 'y' \(sub\): operand ports {shown} are not 0\.\."):
        cg.evaluate(g, x=1.0, z=2.0)


def test_b4_08_every_missing_input_is_listed():
    g = cg.parse("y = x*z + w")
    with pytest.raises(cg.InputError, match=r"missing input\(s\) 'x', 'z', 'w'"):
        cg.evaluate(g)
    with pytest.raises(cg.InputError, match=r"^graph 'graph' is missing input\(s\) 'w'$"):
        cg.grad(g, x=1.0, z=2.0)  # the user's graph, not its adjoint graph, is named
    with pytest.raises(cg.InputError, match=r"'g_x' is not a node of graph 'graph' \(inputs: x, z, w\)"):
        cg.grad(g, x=1.0, z=2.0, w=3.0, g_x=1.0)


def test_b4_09_feeds_for_unknown_names_or_op_nodes():
    g = cg.parse("a = x*z\ny = a + 1")
    with pytest.raises(cg.InputError, match=r"'q' is not a node of graph 'graph' \(inputs: x, z\)"):
        cg.evaluate(g, x=1.0, z=2.0, q=3.0)
    with pytest.raises(cg.InputError, match="'a' is an op node, not an input"):
        cg.evaluate(g, x=1.0, z=2.0, a=3.0)
    with pytest.raises(cg.InputError, match="wrt must be a node name or a list of names, not a mapping"):
        cg.grad(g, {"x": 1.0, "z": 2.0})  # values where wrt names belong


def test_b4_10_unknown_output_wrt_or_of_is_node_not_found():
    g = cg.parse("y = x*z")
    cases = [
        (lambda: g.output("nope"), "graph 'graph' has no node 'nope'"),
        (lambda: cg.adjoint(g, wrt=["x", "nope"]), "wrt 'nope' is not a node of graph 'graph' (its inputs and params: x, z)"),
        (lambda: cg.grad(g, wrt="nope", x=1.0, z=2.0), "wrt 'nope'"),
        (lambda: cg.adjoint(g, of="nope"), "of 'nope' is not a node of graph 'graph' (its outputs: y)"),
        (lambda: g.node("Y"), "has no node 'Y'; did you mean 'y'?"),
    ]
    for run, message in cases:
        with pytest.raises(cg.NodeNotFoundError) as info:
            run()
        assert isinstance(info.value, KeyError) and message in str(info.value)
        assert not str(info.value).startswith('"')  # not KeyError's repr


def test_b4_11_wrt_not_upstream_gets_zeros_of_its_shape():
    g = cg.Graph()
    x = g.input("x")
    g.input("w", shape=(2, 3))
    g.output(x * 2, name="y")
    d = cg.grad(g, x=1.0, w=np.ones((2, 3)))
    assert float(d["x"]) == 2.0
    assert d["w"].shape == (2, 3) and not d["w"].any()
    h = cg.parse("y = 2*x + 0*v")  # undeclared: the zero gradient takes the fed value's shape
    assert cg.grad(h, x=1.0, v=np.ones(4))["v"].shape == (4,)
    assert cg.to_text(cg.adjoint(g, wrt=["w"])) == "g_w = zeros_like(w)"


@needs_dot
def test_b4_12_empty_graph_and_graph_without_outputs():
    empty = cg.Graph("empty")
    with pytest.raises(cg.GraphError, match="graph 'empty' is empty"):
        cg.evaluate(empty)
    with pytest.raises(cg.GraphError, match=r"^graph 'empty' has no outputs: mark the one to differentiate with "
                                             r"g\.output\(node, name=\.\.\.\), or say which node with of=\.\.\.$"):
        cg.grad(empty)  # it said "has 0 outputs []; say which with of=...", not how to mark one
    assert "digraph" in cg.to_dot(empty).to_string() and titles(svg_of(empty)) == ["cgraph"]
    g = cg.Graph("loose")
    cg.exp(g.input("x"))  # no output marked: evaluate gives every node, grad asks which
    assert set(cg.evaluate(g, x=0.0)) == {"x", "t1"}
    with pytest.raises(cg.GraphError, match=r"has no outputs: mark .* g\.output\(node, name=\.\.\.\)"):
        cg.adjoint(g)
    assert float(cg.grad(g, of="t1", x=0.0)["x"]) == 1.0


@needs_dot
@pytest.mark.parametrize("name", ["mul:0", "graph", "Edge", "node", "strict", "subgraph", "a->b", "n0", "1x", " "])
def test_b4_13_awkward_names_evaluate_and_draw(name):
    g = cg.Graph("names")
    x = g.input(name)
    g.output(cg.exp(x) * x, name=name + "!")
    assert float(cg.evaluate(g, {name: 0.0})[name + "!"]) == 0.0
    assert float(cg.grad(g, feeds={name: 0.0})[name]) == 1.0
    svg = svg_of(g, constants="boxes")
    assert svg.count('class="node"') == len(g)
    for key in (1, ("a", 1), ""):  # names are non-empty strings; anything else is named as the culprit
        h = cg.parse("y = exp(x)")
        nx.relabel_nodes(h.nx, {"x": key}, copy=False)
        with pytest.raises(cg.GraphError, match=re.escape(f"node {key!r}")):
            h.validate()


def _canonical(g):
    return (
        sorted((n, repr(sorted((k, repr(v)) for k, v in d.items()))) for n, d in g.nx.nodes(data=True)),
        sorted(g.nx.edges(keys=True)),
        list(g.outputs),
    )


@needs_dot
def test_b4_14_no_pass_mutates_its_input(tmp_path):
    for g, feeds in ((lecture(), {"x": 2.0, "z": 3.0}), (layered([2, 3, 1]), {"X": np.ones((4, 2)), "Y": np.ones((4, 1))})):
        before = _canonical(g)
        ga = cg.adjoint(g)
        cg.evaluate(g, feeds)
        cg.grad(g, feeds=feeds)
        cg.finite_difference(g, feeds=feeds)
        cg.check_gradients(g, **feeds)
        cg.simplify(g)
        cg.simplify(ga)
        cg.compile(g, wrt=g.inputs)(**feeds)
        cg.to_text(ga, form="program")
        cg.to_latex(ga)
        cg.render(ga, tmp_path / "a.svg", values=cg.evaluate(ga, feeds))
        cg.backprop_steps(g, feeds)
        cg.loads(cg.dumps(g))
        assert _canonical(g) == before


# =============================================================================== shapes
def test_b4_15_shapes_that_do_not_broadcast():
    g = cg.Graph()
    a, b = g.input("a", shape=(3,)), g.input("b", shape=(4,))
    with pytest.raises(cg.ShapeError, match=r"node 's' \(add\) of 'a' \(3,\), 'b' \(4,\): shapes \(3,\) and \(4,\) do not broadcast"):
        cg.add(a, b, name="s")
    h = cg.parse("y = sum(a + b)")  # undeclared shapes: found when evaluated, naming the node
    with pytest.raises(cg.ShapeError, match=r"node 't1' \(add\) of 'a' \(3,\), 'b' \(4,\)"):
        cg.evaluate(h, a=np.ones(3), b=np.ones(4))


@pytest.mark.parametrize("declared", [True, False])
def test_b4_16_broadcast_gradients_have_the_input_shapes(declared):
    g = cg.Graph()
    a = g.input("a", shape=(3,) if declared else None)
    b = g.input("b", shape=(3, 1) if declared else None)
    g.output(cg.sum(a * b + cg.log(a * a + 1)) + cg.sum(cg.exp(b)), name="y")
    feeds = {"a": np.array([0.5, -1.0, 2.0]), "b": np.array([[1.0], [2.0], [-0.5]])}
    ad, fd = cg.grad(g, feeds=feeds), cg.finite_difference(g, feeds=feeds)
    for k in feeds:
        assert ad[k].shape == feeds[k].shape
        np.testing.assert_allclose(ad[k], fd[k], rtol=1e-5, atol=1e-8)


def test_b4_17_matmul_inner_dimensions():
    g = cg.Graph()
    a, b = g.input("a", shape=(2, 3)), g.input("b", shape=(4, 2))
    with pytest.raises(cg.ShapeError, match=r"matmul.*'a' \(2, 3\), 'b' \(4, 2\).*\(3 != 4\)"):
        a @ b
    h = cg.parse("y = sum(a @ b)")
    with pytest.raises(cg.ShapeError, match=r"node 't1' \(matmul\) of 'a' \(2, 3\), 'b' \(4, 2\)"):
        cg.evaluate(h, a=np.ones((2, 3)), b=np.ones((4, 2)))


def test_b4_18_non_scalar_output_needs_a_reduction():
    g = cg.Graph()
    g.output(g.input("a", shape=(3,)) * 2, name="y")
    with pytest.raises(cg.ShapeError, match=r"cannot differentiate non-scalar node 'y' of shape \(3,\): reduce it first"):
        cg.adjoint(g)
    h = cg.parse("y = 2*a")  # undeclared: documented as the gradient of the sum of the elements
    np.testing.assert_array_equal(cg.grad(h, a=np.ones(3))["a"], [2.0, 2.0, 2.0])


def test_b4_19_integers_become_float64_and_float32_stays():
    g = cg.parse("y = sum(x^-1)")
    assert float(cg.evaluate(g, x=np.array([1, 2, 4]))["y"]) == 1.75
    assert cg.grad(g, x=np.array([1, 2]))["x"].dtype == np.float64
    x32 = np.array([1.0, 2.0], dtype=np.float32)
    assert cg.grad(g, x=x32)["x"].dtype == np.float32
    with warnings.catch_warnings():  # checked against float64 differences: nothing to warn of
        warnings.simplefilter("error")
        report = cg.check_gradients(g, x=x32)
    assert report.ok and not report.warnings and report.dtype == "float32"
    with pytest.raises(cg.InputError, match="input 'x': expected real numbers, got dtype <U1"):
        cg.evaluate(g, x=np.array(["a"]))


# =============================================================================== numerics
@pytest.mark.parametrize(
    ("formula", "feeds", "node", "shown"),
    [
        ("y = log(x)", {"x": 0.0}, "'y' (log)", "log(x=0) = -inf (defined for x > 0)"),
        ("y = log(x)", {"x": -1.0}, "'y' (log)", "log(x=-1) = nan"),
        ("y = sqrt(x)", {"x": -1.0}, "'y' (sqrt)", "sqrt(x=-1) = nan (defined for x >= 0)"),
        ("y = x/z", {"x": 1.0, "z": 0.0}, "'y' (div)", "div(x=1, z=0) = inf (defined for divisor != 0)"),
        ("y = sum(log(x))", {"x": np.array([1.0, -2.0])}, "'t1' (log)", "not finite at index (1,): log(x=-2) = nan"),
    ],
)
def test_b4_20_domain_errors_name_the_node_and_op(formula, feeds, node, shown):
    g = cg.parse(formula)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no stray RuntimeWarning on the way
        with pytest.raises(cg.DomainError) as info:
            cg.evaluate(g, feeds)
        assert f"node {node}" in str(info.value) and shown in str(info.value)
        assert "nonfinite='propagate'" in str(info.value)
        with pytest.raises(cg.DomainError):
            cg.grad(g, feeds=feeds)  # the function's own value is checked too
        value = cg.evaluate(g, feeds, nonfinite="propagate")["y"]
    assert not np.isfinite(value).all()


def test_b4_21_nan_inputs_are_refused_or_propagated_never_masked():
    g = cg.parse("y = x*x + relu(x)")
    with pytest.raises(cg.InputError, match=r"input 'x' is not finite \(nan at index \(1,\)\)"):
        cg.evaluate(g, x=np.array([1.0, np.nan]))
    vals = cg.evaluate(g, x=np.array([1.0, np.nan]), nonfinite="propagate")
    assert np.isnan(vals["y"][1]) and vals["y"][0] == 2.0
    d = cg.grad(g, x=np.array([1.0, np.nan]), nonfinite="propagate")["x"]
    assert d[0] == 3.0 and np.isnan(d[1])


def test_b4_22_nonfinite_arithmetic_names_the_first_node_that_leaves_the_reals():
    for formula, feeds in (("y = exp(x) - exp(x)", {"x": 1000.0}), ("y = z*exp(x)", {"x": 1000.0, "z": 0.0})):
        g = cg.parse(formula)
        with pytest.raises(cg.DomainError, match=r"node 't1' \(exp\) is not finite: exp\(x=1000\) = inf"):
            cg.evaluate(g, feeds)
        assert np.isnan(cg.evaluate(g, feeds, nonfinite="propagate")["y"])
    h = cg.Graph()
    h.output(h.input("x") * float("nan"), name="y")  # NaN propagates without a floating-point error
    with pytest.raises(cg.DomainError, match=r"node 't1' \(const\) is not finite \(nan\)"):
        cg.evaluate(h, x=1.0)
    with pytest.raises(cg.DomainError, match="'t1' .const."):
        cg.grad(h, x=1.0)


def test_b4_23_stable_functions_at_plus_minus_1000():
    x = np.array([-1000.0, 0.0, 1000.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v = cg.evaluate(cg.parse("s = sigmoid(x)\np = softplus(x)\nl = logsumexp(x)\nm = log_softmax(x)\nq = softmax(x)"), x=x)
        assert list(v["s"]) == [0.0, 0.5, 1.0]
        np.testing.assert_allclose(v["p"], [0.0, math.log(2), 1000.0], rtol=1e-15)
        assert float(v["l"]) == 1000.0
        np.testing.assert_allclose(v["m"], [-2000.0, -1000.0, 0.0], rtol=1e-15)
        np.testing.assert_allclose(v["q"], [0.0, 0.0, 1.0], atol=1e-300)
        g = cg.parse("sum(sigmoid(x)) + sum(softplus(x)) + logsumexp(x) + sum(log_softmax(x)*w)")
        d = cg.grad(g, x=x, w=np.array([1.0, 2.0, 3.0]))
        assert np.isfinite(d["x"]).all() and np.isfinite(d["w"]).all()
        # sigmoid' + softplus' + softmax + (w - sum(w)*softmax) at -1000, 0, 1000
        np.testing.assert_allclose(d["x"], [0 + 0 + 0 + 1, 0.25 + 0.5 + 0 + 2, 0 + 1 + 1 + (3 - 6)], atol=1e-12)


@pytest.mark.parametrize("loss", ["mse", "bce", "cross_entropy"])
def test_b4_23_losses_stable_at_plus_minus_1000(loss):
    net = cg.nn.MLP([1, 2], activation="tanh", loss=loss, seed=0)
    feeds = {"X": np.array([[1000.0], [-1000.0]]), "W1": np.array([[1.0, -1.0]]), "b1": np.zeros(2)}
    feeds["Y"] = np.array([[1.0, 0.0], [0.0, 1.0]]) if loss == "cross_entropy" else np.array([[1.0, 0.0], [0.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = float(cg.evaluate(net.graph, feeds)["loss"])
        grads = cg.grad(net.graph, wrt=["W1", "b1"], feeds=feeds)
    assert math.isfinite(value) and all(np.isfinite(v).all() for v in grads.values())
    if loss != "mse":
        assert value == 0.0  # the right class at logit +-1000: exactly no loss, not log(0)


def test_b4_24_kinks_take_the_documented_subgradient():
    g = cg.parse("y = relu(x) + abs(z)")
    assert cg.grad(g, x=0.0, z=0.0) == {"x": 0.0, "z": 0.0}  # ReLU'(0) = |.|'(0) = 0
    assert cg.check_gradients(g, x=0.5, z=-0.5).ok  # away from the kinks
    report = cg.check_gradients(g, x=0.0, z=1.0)  # documented: central differences see 1/2 at a kink
    assert not report.ok and report.rows[0].numeric == pytest.approx(0.5)


def test_b4_25_folding_is_exact_or_within_1e_12():
    g = cg.parse("y = 0*x")
    assert cg.to_text(cg.simplify(g)) == "y = 0"  # documented: identities assume finite values
    with pytest.raises(cg.InputError, match="input 'x' is not finite"):
        cg.simplify(g, x=float("nan"))
    cases = {
        "exp(1/3) + log(7)": math.exp(1 / 3) + math.log(7),
        "sin(2.5)^2 + cos(2.5)^2": 1.0,
        "sqrt(2)*sqrt(8)": 4.0,
        "tanh(0.3) + sigmoid(-2) + softplus(1.5)": math.tanh(0.3) + 1 / (1 + math.exp(2)) + math.log1p(math.exp(1.5)),
        "(1/3 + 1/6)*6": 3.0,
        "2^0.5 * 2^-0.5": 1.0,
    }
    for formula, value in cases.items():
        folded = cg.simplify(cg.parse(formula), numeric=True)
        assert folded.nx.nodes["y"]["op"] in ("const", "identity"), formula
        got = float(cg.evaluate(folded)["y"])
        assert got == pytest.approx(value, rel=1e-12, abs=1e-300), formula
        assert got == pytest.approx(float(cg.evaluate(cg.parse(formula))["y"]), rel=1e-12), formula
    assert cg.to_text(cg.simplify(cg.parse("(1/3 + 1/6)*6"))) == "y = 3"  # exact by default


def test_b4_26_huge_powers_never_hang():
    assert cg.to_text(cg.simplify(cg.parse("2^10000"))) == "y = 2^10000"  # too big to fold exactly
    assert cg.to_text(cg.simplify(cg.parse("9^9^9"))) == "y = 9^387420489"
    assert cg.to_text(cg.simplify(cg.parse("2^10000 + x"), numeric=True)) == "y = 2^10000 + x"  # inf never folds
    assert cg.to_text(cg.simplify(cg.parse("2.0^10000 + x"))) == "y = 2.0^10000 + x"
    assert cg.to_text(cg.simplify(cg.parse("2^100"))) == "y = 1267650600228229401496703205376"
    with pytest.raises(cg.DomainError, match=r"\(pow\) is not finite: pow\(t1=2, t2=10000\) = inf"):
        cg.evaluate(cg.parse("y = 2^10000 + x"), x=1.0)


def test_b4_27_long_chains_without_recursion():
    n = 20_000  # 100,000-node chains: test_graph (validate, evaluate), test_adjoint, test_text
    g = chain(n)
    with low_recursion_limit(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the expanded form's cap: it falls back to the program
        value = cg.evaluate(g, x=0.5)["y"]
        ga = cg.adjoint(g)
        d = cg.grad(g, x=0.5)["x"]
        simple = cg.simplify(ga)
        program = cg.to_text(g, form="program")
        expanded = cg.to_text(g)
        latex = cg.to_latex(g, form="program")
        dot = cg.to_dot(g, max_chain=None).to_string()  # every box, not the elided chain
        back = cg.loads(cg.dumps(g))
        parsed = cg.parse(program)
    assert len(ga) > 2 * n and d == pytest.approx(float(cg.evaluate(simple, x=0.5)["g_x"]), rel=1e-12)
    assert expanded == program and latex.count("\n") >= n // 5
    assert dot.count("->") == g.nx.number_of_edges()  # a constant is a small label beside each user
    assert float(cg.evaluate(back, x=0.5)["y"]) == value == float(cg.evaluate(parsed, x=0.5)["y"])


def test_b4_27_a_100000_node_chain_simplifies():
    # at this size evaluate and validate: test_graph; adjoint and grad: test_adjoint; the program
    # text: test_text. to_dot takes about 5 s here, so it is tested at 20,000 nodes above
    g = chain(100_000)
    with low_recursion_limit():
        simple = cg.simplify(g)
    assert len(simple) == len(g) and simple.outputs == ["y"]


def test_b4_28_fan_out_of_1000_sums_every_contribution():
    g = cg.Graph("fan")
    u = cg.sin(g.input("x"), name="u")
    g.output(cg.add(*[u * float(k) for k in range(1000)]), name="y")
    expected = math.cos(0.3) * sum(range(1000))
    assert float(cg.grad(g, x=0.3)["x"]) == pytest.approx(expected, rel=1e-12)
    simple = cg.simplify(cg.adjoint(g))
    assert cg.to_text(simple) == "g_x = 499500.0*cos(x)"
    with low_recursion_limit():
        assert cg.to_text(g, form="program").count("u*") == 1000
        assert cg.to_dot(cg.adjoint(g)).to_string().count("->") > 2000


def test_b4_29_expression_swell_is_capped():
    g = cg.Graph("swell")
    x = g.input("x")
    y = x
    for _ in range(12):
        y = y * y + x
    g.output(y, name="y")
    with pytest.warns(UserWarning, match=r"expanded form of .* passes 20000 characters \(expression swell\)"):
        text = cg.to_text(g)
    assert text == cg.to_text(g, form="program") and len(text) < 1000
    with pytest.warns(UserWarning, match="expression swell"):
        cg.to_latex(g)
    labels = re.findall(r'label=(<.*?>|"[^"]*")[,\]]', cg.to_dot(g).to_string())
    assert labels and max(map(len, labels)) < 16384


# =============================================================================== export
NASTY = ["C:\\path\\", 'a "q" b', "\\N", "x\\ly", "two\nlines", "tab\there", "∂y/∂x₁", "😀", "<x>", "a & b", "]"]


@needs_dot
@pytest.mark.parametrize("name", NASTY)
def test_b4_30_labels_render_literally(name):
    g = cg.Graph()
    g.output(cg.exp(g.input("x"), name=name))
    svg = svg_of(g)
    shown = "".join(__import__("html").unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg))
    assert D.clean(name).replace("\n", "").replace("\t", " ") in shown.replace("\xa0", " ")
    assert svg.count('class="node"') == 2


@needs_dot
def test_b4_31_html_special_characters_in_both_conventions():
    g = cg.Graph()
    g.output(cg.exp(g.input("<x>"), name="a & <b>"))
    svg = svg_of(g)
    assert "&lt;x&gt;" in svg and "a &amp; &lt;b&gt;" in svg
    net = layered([2, 3, 1])
    svg = svg_of(net, style="network", title="<net> & weights")
    assert "&lt;net&gt; &amp; weights" in svg and len([t for t in titles(svg) if re.fullmatch(r"u\d+_\d+", t)]) == 6


@needs_dot
def test_b4_32_dot_injection_adds_no_nodes():
    evil = ' ];injected [shape=box, label=PWNED]; n1 [label=\'", tooltip=" ]; //'
    g = cg.Graph("a\\")
    g.output(cg.exp(g.input("a\\"), name=evil))
    svg = svg_of(g, notes={evil: "C:\\"}, title="t\\")
    assert sorted(t for t in titles(svg) if t != "cgraph" and "&gt;" not in t) == ["n0", "n1"]
    assert "PWNED" not in titles(svg)


@needs_dot
@pytest.mark.parametrize("bad", ["a\x00b", "\x07bell", "\ud800lone", "\x1b[31mred", "\u202eevil"])
def test_b4_33_control_characters_and_lone_surrogates(bad):
    g = cg.Graph()
    g.output(cg.exp(g.input(bad), name="y"))
    assert svg_of(g).count('class="node"') == 2
    assert cg.loads(cg.dumps(g)).inputs == [bad]  # saved exactly (JSON escapes)


@needs_dot
def test_b4_34_huge_labels_are_truncated():
    g = cg.Graph()
    g.output(cg.exp(g.input("x" * 20_000), name="y"))
    text = cg.to_dot(g).to_string()
    assert "…" in text and len(text) < 5000
    assert svg_of(g).count('class="node"') == 2


def test_b4_35_graphviz_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(cg.GraphvizNotFoundError, match="apt-get install graphviz") as info:
        cg.render(lecture(), tmp_path / "g.svg")
    assert isinstance(info.value, FileNotFoundError) and not (tmp_path / "g.svg").exists()
    assert cg.to_dot(lecture()).to_string().startswith("digraph")
    bundle = mimebundle(lecture())
    assert list(bundle) == ["text/plain"] and "digraph" in bundle["text/plain"]


@needs_dot
def test_b4_36_graphviz_failure_is_typed_also_under_python_O():
    with pytest.raises(cg.RenderError, match=r"Graphviz failed \(exit code 1\) making svgx: .*Format"):
        run_dot("digraph { a -> b }", "svgx")
    code = (
        "import cgraph as cg\nfrom cgraph.export.render import run_dot\n"
        "try:\n    run_dot('digraph { a -> }', 'svg')\nexcept cg.RenderError as e:\n    print('typed', 'syntax error' in str(e))\n"
    )
    out = subprocess.run([sys.executable, "-O", "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["typed", "True"]


def test_b4_37_unwritable_targets_name_the_path(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for target in (tmp_path / "missing" / "g.dot", blocker / "g.dot"):
        with pytest.raises(cg.ExportError, match=re.escape(str(target))):
            cg.render(lecture(), target)
        with pytest.raises(FileNotFoundError, match=re.escape(str(target.parent))) as info:
            cg.save(lecture(), target)
        assert info.value.filename == str(target)
    with pytest.raises(IsADirectoryError):
        cg.load(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]  # no partial or temporary file


def test_b4_38_dot_is_byte_identical_across_hash_seeds():
    code = "import cgraph as cg\ng = cg.parse('exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)')\nprint(cg.to_dot(cg.adjoint(g)).to_string())"
    outs = {
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("0", "12345")
    }
    assert len(outs) == 1 and next(iter(outs)).startswith("digraph")


@needs_dot
def test_b4_39_wide_networks_are_elided():
    net = cg.nn.MLP([784, 100, 10], loss="cross_entropy", seed=0)
    d = cg.to_dot(net.graph, style="network")
    text = d.to_string()
    assert "⋮" in text and "(+" in text
    svg = run_dot(text, "svg").decode()
    assert svg.count('class="node"') < 60


@needs_dot
def test_b4_40_notebook_display_never_raises(monkeypatch):
    g = lecture()
    assert set(mimebundle(g)) == {"image/svg+xml", "text/plain"}

    def broken(text, fmt):
        raise cg.RenderError("Graphviz failed (exit code 1) making svg: boom")

    monkeypatch.setattr("cgraph.export.render.run_dot", broken)
    bundle = g._repr_mimebundle_()
    assert list(bundle) == ["text/plain"] and "boom" in bundle["text/plain"]
    assert g["y"]._repr_latex_().startswith("$\\displaystyle ")


# =============================================================================== parse and io
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('x')", "column 1: the name '__import__' is not allowed"),
        ("x.__class__", "column 2: attribute access ('.') is not allowed"),
        ("(lambda: 1)()", "column 2: the Python keyword 'lambda' is not allowed"),
        ("[x for x in y]", "column 4: the Python keyword 'for' is not allowed"),
        ("[x, 1]", "column 2: a list holds numbers (or lists of them), not 'x'"),
        ('"a"+"b"', "column 1: string literals are not allowed"),
        ("exec('1')", "column 6: string literals are not allowed"),
        ("x if y else z", "column 3: the Python keyword 'if' is not allowed"),
        ("x; import os", "column 4: the Python keyword 'import' is not allowed"),
        ("y = x % 2", "column 7: the operator '%' is not supported"),
    ],
    ids=["import", "attribute", "lambda", "comprehension", "list-of-names", "strings", "exec", "ternary", "statement",
         "modulo"],
)
def test_b4_41_python_constructs_are_refused(text, message, monkeypatch):
    import builtins

    def forbidden(*args, **kwargs):
        raise AssertionError("cg.parse must never evaluate text")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    with pytest.raises(cg.ParseError) as info:
        cg.parse(text)
    assert message in str(info.value) and info.value.line == 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("(" * 1000 + "x", "this '(' is never closed"),
        ("(" * 20_000 + "x" + ")" * 20_000, "parentheses nest deeper than 10,000 levels"),
        ("sin(" * 20_000 + "x" + ")" * 20_000, "parentheses nest deeper than 10,000 levels"),
        ("x" * 1_000_001, "the text is longer than 1,000,000 characters"),
        ("9" * 5000, "an integer of 5000 digits is too long"),
    ],
    ids=["unclosed", "deep-parens", "deep-calls", "too-long", "huge-int"],
)
def test_b4_42_deep_or_huge_text_is_a_parse_error(text, message):
    with low_recursion_limit():
        with pytest.raises(cg.ParseError, match=re.escape(message)):
            cg.parse(text)


def test_b4_42_long_but_flat_text_parses():
    with low_recursion_limit():
        g = cg.parse("1+" * 100_000 + "x")  # one variadic add
        assert len(g.operands("y")) == 100_001 and cg.parse("-" * 100_000 + "x").outputs == ["y"]


def test_b4_43_unknown_function_lists_the_known_ones():
    with pytest.raises(cg.ParseError, match=r"line 2, column 5: unknown function 'foo'; known functions: abs, add, .*tanh"):
        cg.parse("a = x\ny = foo(a)")
    with pytest.raises(cg.ParseError, match=r"column 8: unknown function 'x'; write x\*\(\.\.\.\) to multiply"):
        cg.parse("y = (x)(z)")


def _document():
    return json.loads(cg.dumps(cg.parse("y = x*z + 1")))


def _mutated(change):
    doc = _document()
    change(doc)
    return json.dumps(doc)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["nodes"][2].update(op="foo"), "<string>: node 't1': unknown op 'foo'; known ops: abs, "),
        (lambda d: d["nodes"][2].pop("attrs"), "<string>: nodes[2]: missing field(s) 'attrs'"),
        (lambda d: d["nodes"][2].pop("operands"), r"node 't1': mul takes at least 2 operand(s), got 0"),
        (lambda d: d.update(version=2), "unsupported format version 2 (written by a newer cgraph)"),
        (lambda d: d.update(format="pickle"), "not a cgraph file (format 'pickle'"),
        (lambda d: d["nodes"][2].update(operands=["x", "nope"]), "node 't1': operand 1 'nope' is not a node"),
        (lambda d: d["nodes"][0].update(op="neg", operands=["y"], attrs={}), "has a cycle: "),
    ],
    ids=["unknown-op", "missing-attrs", "missing-operands", "version", "format", "dangling-operand", "cycle"],
)
def test_b4_44_bad_json_names_the_field_or_node(change, message):
    with pytest.raises(cg.LoadError) as info:
        cg.loads(_mutated(change))
    assert message in str(info.value)
    if "cycle" in message:
        assert isinstance(info.value.__cause__, cg.CycleError)


def test_b4_44_no_pickle_anywhere():
    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "cgraph").rglob("*.py"))
    for module in ("pickle", "marshal", "shelve", "dill", "cloudpickle", "joblib"):
        assert not re.search(rf"^\s*(import|from)\s+{module}\b", source, re.M), module
    config = (ROOT / "pyproject.toml").read_text()
    assert '"S"' in config and '"TID251"' in config and '"pickle".msg' in config


def test_b4_45_nan_constants_round_trip_exactly(tmp_path):
    g = cg.Graph("nan")
    x = g.input("x")
    g.output(x * float("nan") + g.const(np.array([np.inf, -0.0, 1e-310])), name="y")
    text = cg.dumps(g)
    assert '{"float": "nan"}' in text and '"inf"' in text and "NaN" not in text
    back = cg.load(cg.save(g, tmp_path / "g.json"))
    assert cg.dumps(back) == text
    nan, arr = (back.nx.nodes[n]["attrs"]["value"] for n in back.schedule() if back.nx.nodes[n]["op"] == "const")
    assert math.isnan(nan) and np.isinf(arr[0]) and np.signbit(arr[1]) and arr[2] == 1e-310
    g.nx.nodes["y"]["layer"] = float("nan")
    with pytest.raises(cg.GraphError, match="node 'y': metadata 'layer': nan cannot be saved"):
        cg.dumps(g)


# =============================================================================== nn
def test_b4_46_dropout():
    for p in (-0.1, 1.0, 1.5, float("nan")):
        with pytest.raises(cg.ArgumentError, match="dropout must be a rate in"):
            cg.nn.dropout_mask(np.random.default_rng(0), 10, p)
    assert (cg.nn.dropout_mask(np.random.default_rng(0), 10, 0.0) == 1.0).all()
    m = cg.nn.dropout_mask(np.random.default_rng(1), 100_000, 0.3)
    assert set(np.unique(m).round(6)) == {0.0, round(1 / 0.7, 6)}  # inverted dropout
    assert abs(m.mean() - 1.0) < 3 * math.sqrt(0.3 / 0.7 / m.size)  # the mean is kept, within 3 sigma
    net = cg.nn.MLP([2, 3, 1], seed=0)
    before = net.predict(np.ones((2, 2)))
    cg.nn.train(net, np.ones((4, 2)), np.ones(4), dropout=0.5, epochs=1, optimizer=cg.nn.SGD(lr=1e-12), seed=0)
    np.testing.assert_allclose(net.predict(np.ones((2, 2))), before, rtol=1e-9)  # predict: no dropout


def test_b4_47_optimizers():
    bad = [(cg.nn.SGD, {"lr": 0}), (cg.nn.SGD, {"lr": -1}), (cg.nn.Momentum, {"beta": 1.0}), (cg.nn.RMSProp, {"eps": 0}),
           (cg.nn.Adam, {"beta1": 1}), (cg.nn.Adam, {"beta2": -0.1}), (cg.nn.Adam, {"lr": float("nan")})]
    for cls, kw in bad:
        with pytest.raises(cg.ArgumentError, match=next(iter(kw))):
            cls(**kw)
    g = np.array([0.5, -0.25])
    w = {"w": np.array([1.0, -2.0])}
    cg.nn.SGD(lr=0.1).step(w, {"w": g})
    assert list(w["w"]) == [1.0 - 0.1 * 0.5, -2.0 + 0.1 * 0.25]
    w = {"w": np.array([1.0])}
    opt = cg.nn.Momentum(lr=0.1, beta=0.9)
    opt.step(w, {"w": np.array([2.0])})
    opt.step(w, {"w": np.array([2.0])})
    assert w["w"][0] == pytest.approx(1.0 - 0.1 * 2 - 0.1 * (0.9 * 2 + 2), rel=1e-15)
    w = {"w": np.array([1.0, -2.0])}
    cg.nn.Adam(lr=0.01).step(w, {"w": g})
    np.testing.assert_allclose(w["w"] - [1.0, -2.0], -0.01 * np.sign(g), rtol=1e-6)  # bias-corrected first step


def test_b4_48_l2_penalty():
    with pytest.raises(cg.ArgumentError, match="l2 must be a finite number >= 0, not -0.1"):
        cg.nn.MLP([2, 3, 1]).build(l2=-0.1)
    net = cg.nn.MLP([2, 3, 1], activation="tanh", seed=0)
    g = net.build(l2=0.05)
    rng = np.random.default_rng(0)
    feeds = {"X": rng.normal(size=(5, 2)), "Y": rng.normal(size=(5, 1)), **net.params}
    ad, fd = cg.grad(g, wrt=list(net.params), feeds=feeds), cg.finite_difference(g, wrt=list(net.params), feeds=feeds)
    for k in net.params:
        np.testing.assert_allclose(ad[k], fd[k], rtol=1e-5, atol=1e-8, err_msg=k)


def test_b4_49_early_stopping_and_nan_losses():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    Y = np.array([0, 1, 1, 0], dtype=float)
    with pytest.raises(cg.ArgumentError, match="patience must be an int >= 1, not 0"):
        cg.nn.train(cg.nn.MLP([2, 3, 1]), X, Y, validation=(X, Y), patience=0, epochs=1)
    net = cg.nn.MLP([2, 4, 1], seed=0)
    with pytest.warns(RuntimeWarning, match=r"^train: the training diverged in epoch \d+: "):
        h = cg.nn.train(net, X, Y, optimizer=cg.nn.SGD(lr=1e6), epochs=50, batch_size=4)
    assert h.reason == "nan" and h.stopped_epoch < 50 and not math.isfinite(h.train_loss[-1])
    assert all(np.isfinite(v).all() for v in net.params.values())  # the best weights are back
    assert math.isfinite(net.loss(X, Y))


def test_b4_50_same_seed_same_run_and_no_empty_layers():
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    Y = np.array([0, 1, 1, 0], dtype=float)
    runs = [cg.nn.train(cg.nn.MLP([2, 4, 1], seed=3), X, Y, epochs=5, batch_size=2, seed=1).train_loss for _ in range(2)]
    assert runs[0] == runs[1]
    with pytest.raises(cg.ArgumentError, match=r"MLP sizes\[1\] = 0: the hidden layer 1 has zero width"):
        cg.nn.MLP([2, 0, 1])


# =============================================================================== beyond the inventory
def test_passes_given_something_else_than_a_graph_say_so():
    for name, call in [("evaluate", lambda: cg.evaluate("y = 2*x", x=1.0)), ("grad", lambda: cg.grad(None)),
                       ("adjoint", lambda: cg.adjoint([1])), ("simplify", lambda: cg.simplify("x")),
                       ("finite_difference", lambda: cg.finite_difference(3)), ("to_dot", lambda: cg.to_dot("x")),
                       ("dumps", lambda: cg.save("x", "g.json")), ("compile", lambda: cg.compile("x")),
                       ("check_gradients", lambda: cg.check_gradients("x"))]:
        with pytest.raises(cg.GraphError, match=f"{name} needs a cg.Graph, not "):
            call()
    # a node where its graph belongs said only "adjoint needs a cg.Graph, not Node"
    y = cg.parse("y = x*z", name="lecture").node("y")
    with pytest.raises(cg.GraphError, match="^adjoint needs a cg.Graph, not Node 'y': pass the graph it belongs to, "
                                            "node.graph \\(graph 'lecture'\\)$"):
        cg.adjoint(y)


def test_stale_handles_and_bad_options_are_typed():
    g = cg.parse("y = x*z")
    for call in (lambda: g.attrs("nope"), lambda: g.users("nope"), lambda: cg.Node(g, "nope").op):
        with pytest.raises(cg.NodeNotFoundError, match="has no node 'nope'"):
            call()
    for eps in (0, -1e-3, float("nan"), "a", True):
        with pytest.raises(cg.ArgumentError, match="eps must be a finite number > 0"):
            cg.finite_difference(g, eps=eps, x=1.0, z=2.0)
    with pytest.raises(cg.ArgumentError, match="nonfinite must be one of"):
        cg.evaluate(g, x=1.0, z=2.0, nonfinite="ignore")
    with pytest.raises(cg.ArgumentError, match="form must be one of"):
        cg.to_latex(g, form="tree")
    with pytest.raises(cg.InputError, match="cannot bind 'y': graph 'graph' has an op node of that name"):
        cg.simplify(g, y=1)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["grad", "foo(x)"], "line 1, column 1: unknown function 'foo'"),
        (["grad", "x*z", "--at", "x=1"], "missing input(s) 'z'"),
        (["grad", "log(x)", "--at", "x=-1"], "node 'y' (log) is not finite: log(x=-1) = nan"),
        (["grad", "x*z", "--wrt", "q"], "wrt 'q' is not a node"),
        (["grad", "(" * 20_000 + "x"], "parentheses nest deeper than 10,000 levels"),
        (["grad", "x", "--at", "x=abc"], "--at 'x=abc': 'abc' is not a number"),
        (["draw", "x*z", "-o", "missing/y.svg"], "folder 'missing' does not exist"),
        (["draw", "x*z", "-o", "y.jpg"], "unknown file type '.jpg'"),
        (["draw", "x*z", "-o", "y.svg", "--style", "network"], "is not a layered network"),
        (["grad", "missing.json"], "no such file: missing.json"),
    ],
    ids=["function", "input", "domain", "wrt", "nesting", "binding", "folder", "suffix", "style", "file"],
)
def test_the_command_gives_one_line_and_status_1(argv, message, capsys, tmp_path, monkeypatch):
    from cgraph.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith(f"cgraph {argv[0]}: error: ") and message in err, err
    assert "Traceback" not in out + err and list(tmp_path.iterdir()) == []
