"""Property-based tests across the whole library, over random graphs of EVERY registered op.

``strategies.op_graphs`` builds DAGs of all ops (arrays, broadcasting, reductions, shape
plumbing, attributes) at a random point inside each op's domain. On them:

- evaluation equals the ops' numpy values;
- the adjoint agrees with central differences (float64, rtol 1e-5, atol 1e-8), and, on
  scalar graphs, with SymPy's derivative;
- ``simplify`` keeps the value (rtol 1e-12), never grows the graph and is idempotent,
  also with ``numeric=True`` and with bound inputs (folding);
- ``parse(to_text(g))`` and ``loads(dumps(g))`` give the same function;
- DOT output with arbitrary unicode names parses back with pydot and renders with
  Graphviz, one node per graph node;
- no pass mutates its input.

Tests already elsewhere are not repeated: scalar-expression simplification
(test_simplify), each op's own rule (test_ops, test_adjoint), text round trips of scalar
expressions (test_text), names through the sin-chain drawing (test_dot).
"""

from __future__ import annotations

import re
import shutil
import warnings
from fractions import Fraction

import numpy as np
import pydot
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from strategies import (
    array_expressions,
    array_points,
    describe,
    examples,
    expressions,
    finite_values,
    op_graphs,
    points,
    rounding_spread,
)

import cgraph as cg
from cgraph.export.render import run_dot
from cgraph.passes.simplify import _signature

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")  # pyparsing, via pydot
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")

RTOL, ATOL = 1e-5, 1e-8  # adjoint vs central differences (research B1)
FOLD_RTOL = 1e-12  # simplification and folding
SETTINGS = settings(
    max_examples=examples(60), deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
FEW = settings(SETTINGS, max_examples=examples(25))


def op_count(g):
    return sum(1 for _, r in g.nx.nodes(data="role") if r == "op")


def canonical(g):
    """Everything a pass could change in place: nodes with all their data, keyed edges, outputs."""

    def freeze(v):
        if isinstance(v, np.ndarray):
            return ("array", v.dtype.str, v.shape, v.tobytes())
        if isinstance(v, dict):
            return tuple(sorted((str(k), freeze(x)) for k, x in v.items()))
        if isinstance(v, (list, tuple)):
            return (type(v).__name__, tuple(freeze(x) for x in v))
        return (type(v).__name__, repr(v))

    return (
        g.name,
        tuple(sorted((n, freeze(d)) for n, d in g.nx.nodes(data=True))),
        tuple(sorted(g.nx.edges(keys=True))),
        tuple(g.outputs),
        freeze(dict(g.nx.graph)),
    )


def assert_values_close(got, want, rtol, names):
    scale = max([1.0] + [float(np.max(np.abs(want[n]))) for n in names if np.size(want[n])])
    for n in names:
        np.testing.assert_allclose(
            np.asarray(got[n], dtype=np.float64), np.asarray(want[n], dtype=np.float64),
            rtol=rtol, atol=rtol * scale, err_msg=n,
        )


# ------------------------------------------------------------------------------ evaluation
@SETTINGS
@given(op_graphs())
def test_evaluate_matches_the_ops_numpy_values(case):
    g, point, values = case
    note(describe(g))
    got = cg.evaluate(g, point)
    assert set(got) == set(g.nx)
    for n, want in values.items():
        np.testing.assert_allclose(got[n], want, rtol=1e-14, atol=1e-300, err_msg=n)
        assert np.shape(got[n]) == np.shape(want), n


# ------------------------------------------------------------------------------ derivatives
@SETTINGS
@given(op_graphs())
def test_adjoint_agrees_with_central_differences(case):
    g, point, _ = case
    note(describe(g))
    ad = cg.grad(g, feeds=point)
    fd = cg.finite_difference(g, feeds=point)
    assert list(ad) == list(fd) == g.inputs
    for w in g.inputs:
        assert np.shape(ad[w]) == np.shape(point[w]), w
        np.testing.assert_allclose(ad[w], fd[w], rtol=RTOL, atol=ATOL, err_msg=w)


# op -> its SymPy function (the elementwise ops the scalar `expressions` graphs use)
SYMPY = {
    "add": lambda *a: sp.Add(*a),
    "sub": lambda a, b: a - b,
    "mul": lambda *a: sp.Mul(*a),
    "div": lambda a, b: a / b,
    "neg": lambda a: -a,
    "pow": lambda a, b: a**b,
    "maximum": sp.Max,
    "minimum": sp.Min,
    "exp": sp.exp,
    "log": sp.log,
    "sin": sp.sin,
    "cos": sp.cos,
    "tan": sp.tan,
    "tanh": sp.tanh,
    "sigmoid": lambda a: 1 / (1 + sp.exp(-a)),
    "softplus": lambda a: sp.log(1 + sp.exp(a)),
    "relu": lambda a: sp.Max(a, 0),
    "sqrt": sp.sqrt,
    "abs": sp.Abs,
    "square": lambda a: a**2,
    "identity": lambda a: a,
}


def to_sympy(g, symbols):
    """The output of a scalar graph as a SymPy expression (iteratively, in schedule order)."""
    expr = {}
    for n in g.schedule():
        data = g.nx.nodes[n]
        if data["role"] == "input":
            expr[n] = symbols[n]
        elif data["role"] == "const":
            v = data["attrs"]["value"]
            expr[n] = sp.Rational(v) if isinstance(v, (int, Fraction)) else sp.Float(repr(v), 30)
        else:
            expr[n] = SYMPY[data["op"]](*(expr[o] for o in g.operands(n)))
    return expr[g.outputs[0]]


@FEW
@given(expressions(max_steps=7), points())
def test_adjoint_agrees_with_sympy(g, point):
    vals = finite_values(cg.adjoint(g), point)
    assume(vals is not None)
    symbols = {n: sp.Symbol(n, real=True) for n in g.inputs}
    f = to_sympy(g, symbols)
    at = {symbols[k]: sp.Float(repr(v), 30) for k, v in point.items()}
    ad = cg.grad(g, feeds=point)
    for w in g.inputs:
        want = complex(sp.diff(f, symbols[w]).subs(at).evalf(30))
        assert want.imag == 0
        np.testing.assert_allclose(float(ad[w]), want.real, rtol=1e-9, atol=1e-9 * max(1.0, abs(want.real)), err_msg=w)


# ------------------------------------------------------------------------------ simplify
@SETTINGS
@given(op_graphs(), st.booleans())
def test_simplify_keeps_the_value_never_grows_and_settles(case, numeric):
    g, point, values = case
    note(describe(g))
    simple = cg.simplify(g, numeric=numeric)
    got = cg.evaluate(simple, {k: v for k, v in point.items() if k in simple.inputs})
    assert_values_close(got, values, FOLD_RTOL, g.outputs)
    assert op_count(simple) <= op_count(g)
    assert _signature(cg.simplify(simple, numeric=numeric)) == _signature(simple)
    _assert_valid_as_marked(simple)


@FEW
@given(op_graphs(max_steps=6))
def test_simplify_of_the_adjoint_keeps_its_value(case):
    g, point, _ = case
    note(describe(g))
    ga = cg.adjoint(g)
    want = cg.evaluate(ga, point)
    simple = cg.simplify(ga)
    got = cg.evaluate(simple, {k: v for k, v in point.items() if k in simple.inputs})
    assert_values_close(got, want, FOLD_RTOL, ga.outputs)
    assert op_count(simple) <= op_count(ga)
    assert _signature(cg.simplify(simple)) == _signature(simple)
    _assert_valid_as_marked(ga)
    _assert_valid_as_marked(simple)


def _assert_valid_as_marked(g: cg.Graph) -> None:
    """A pass's result is marked valid, and a full check (after forgetting it) agrees."""
    assert g._is_valid()
    shapes = {n: d["shape"] for n, d in g.nx.nodes(data=True)}
    g._touch()
    g.validate()
    assert {n: d["shape"] for n, d in g.nx.nodes(data=True)} == shapes


@SETTINGS
@given(op_graphs(), st.booleans())
def test_folding_bound_inputs_changes_no_value_by_more_than_1e_12(case, numeric):
    g, point, values = case
    note(describe(g))
    folded = cg.simplify(g, numeric=numeric, **point)
    assert folded.inputs == []
    assert_values_close(cg.evaluate(folded), values, FOLD_RTOL, g.outputs)


# ------------------------------------------------------------------------------ round trips
@SETTINGS
@given(op_graphs(), st.sampled_from(["expanded", "program"]))
def test_parse_of_to_text_is_the_same_function(case, form):
    g, point, values = case
    note(describe(g))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an expanded form past its cap falls back to the program
        text = cg.to_text(g, form=form)
    back = cg.parse(text)
    got = cg.evaluate(back, {k: v for k, v in point.items() if k in back.inputs})
    np.testing.assert_allclose(got[back.outputs[-1]], values["y"], rtol=1e-12, atol=1e-12, err_msg=text)


@SETTINGS
@given(op_graphs())
def test_load_of_save_is_the_same_graph_and_function(case):
    g, point, _ = case
    note(describe(g))
    text = cg.dumps(g)
    back = cg.loads(text)
    assert cg.dumps(back) == text
    assert canonical(back)[1:] == canonical(g)[1:]
    want, got = cg.evaluate(g, point), cg.evaluate(back, point)
    for n in g.nx:
        np.testing.assert_array_equal(got[n], want[n], err_msg=n)


# ------------------------------------------------------------------------------ diagrams
NAMES = st.text(min_size=1, max_size=12)


@needs_dot
@FEW
@given(op_graphs(max_steps=6, names=NAMES), st.sampled_from(["LR", "TB"]))
def test_dot_of_any_names_parses_back_and_renders_one_node_per_graph_node(case, rankdir):
    g = case[0]
    note(describe(g))
    text = cg.to_dot(g, constants="boxes", rankdir=rankdir).to_string()
    (parsed,) = pydot.graph_from_dot_data(text)
    ids = {n.get_name() for n in parsed.get_nodes()} | {s.get_name() for sub in parsed.get_subgraphs() for s in sub.get_nodes()}
    assert {i for i in ids if re.fullmatch(r"n\d+", i)} == {f"n{i}" for i in range(len(g))}
    svg = run_dot(text, "svg").decode()
    assert svg.count('class="node"') == len(g)
    assert len(re.findall(r'class="edge"', svg)) == g.nx.number_of_edges()


@needs_dot
@FEW
@given(op_graphs(max_steps=4, names=NAMES))
def test_dot_of_adjoint_graphs_with_any_names_renders(case):
    g, point, _ = case
    note(describe(g))
    ga = cg.adjoint(g)
    text = cg.to_dot(ga, values=cg.evaluate(ga, point)).to_string()
    assert pydot.graph_from_dot_data(text)
    svg = run_dot(text, "svg").decode()
    titles = re.findall(r"<title>([^<]*)</title>", svg)
    boxes = [t for t in titles if re.fullmatch(r"n\d+", t)]
    assert len(boxes) == len(set(boxes)) <= len(ga)


# ------------------------------------------------------------------------------ purity
def _every_pass(g, point):
    ga = cg.adjoint(g)
    cg.evaluate(g, point)
    cg.grad(g, feeds=point)
    cg.finite_difference(g, feeds=point)
    cg.check_gradients(g, **point)
    cg.simplify(g)
    cg.simplify(g, numeric=True, **point)
    cg.simplify(ga)
    cg.compile(g, wrt=g.inputs)(**point)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for form in ("expanded", "program"):
            cg.to_text(g, form=form)
            cg.to_latex(ga, form=form)
    cg.to_dot(g).to_string()
    cg.to_dot(ga, values=cg.evaluate(ga, point)).to_string()
    cg.dumps(g)
    return ga


@FEW
@given(op_graphs())
def test_no_pass_mutates_its_input(case):
    g, point, _ = case
    note(describe(g))
    before = canonical(g)
    ga = _every_pass(g, point)
    assert canonical(g) == before
    before_adjoint = canonical(ga)
    if ga.nx.nodes[ga.outputs[0]]["shape"] == ():  # second derivatives
        cg.grad(ga, of=ga.outputs[0], feeds=point)
    cg.simplify(ga, **point)
    cg.to_text(ga, form="program")
    assert canonical(ga) == before_adjoint


@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(array_expressions(), st.integers(0, 1000))
def test_simplify_and_expand_keep_array_values_through_undeclared_shapes(g, seed):
    # the same graph read back from text declares no shapes: broadcasting happens at run
    # time, and a pass may not drop a broadcast that a reduction reads
    undeclared = cg.parse(cg.to_text(g, form="program"))
    point = {k: v for k, v in array_points(g, seed).items() if k in undeclared.inputs}
    for graph in (undeclared, cg.adjoint(undeclared)):
        vals = finite_values(graph, point)
        assume(vals is not None)
        scale = max(1.0, max(float(np.max(np.abs(v))) for v in vals.values()))
        spread = rounding_spread(graph, point, vals)  # regrouping moves an ill-conditioned output as much
        for result in (cg.simplify(graph), cg.expand(graph)):
            got = cg.evaluate(result, {k: v for k, v in point.items() if k in result.inputs}, nonfinite="propagate")
            for out in graph.outputs:  # outputs of undeclared shape: equal up to broadcasting
                np.testing.assert_allclose(np.broadcast_to(got[out], np.shape(vals[out])), vals[out],
                                           rtol=1e-9, atol=1e-9 * scale + 8 * spread[out], err_msg=out)
