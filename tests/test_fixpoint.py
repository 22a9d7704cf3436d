"""simplify's fixpoint logs (cgraph/passes/fixpoint.py): a pass that says it is settled
really is (a full pass over its result changes nothing), and a pass that copies the
nodes its logs allow gives the same graph as a pass that simplifies every node."""

from __future__ import annotations

import numpy as np
from graphs import sin_chain
from hypothesis import HealthCheck, given, note, settings
from strategies import array_expressions, describe, examples, expressions, op_graphs
from test_adjoint import ladder, lecture, mlp, op_count, product, swell

import cgraph as cg
from cgraph.passes import fixpoint
from cgraph.passes.builder import Builder as _Builder
from cgraph.passes.simplify import _signature

SETTINGS = settings(max_examples=examples(60), deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def _random_dag(n: int, seed: int = 0) -> cg.Graph:
    """Scalar ops over random recent operands (the W5 benchmark's random DAG)."""
    rng = np.random.default_rng(seed)
    g = cg.Graph("random")
    nodes = [g.input("x"), g.input("z")]
    while len(nodes) < n:
        a, b = (nodes[max(0, len(nodes) - k)] for k in rng.integers(1, 20, 2))
        k = rng.integers(0, 4)
        nodes.append(cg.sin(a) if k == 0 else cg.tanh(a) if k == 1 else a * b if k == 2 else (a + b) * 0.5)
    g.output(cg.add(*nodes[-4:]), name="y")
    return g


def _full_pass(g: cg.Graph) -> tuple[_Builder, cg.Graph]:
    builder = _Builder(g, numeric=False)
    return builder, builder.run()


def _check_passes(g: cg.Graph) -> None:
    """Pass after pass: a settled pass is a fixpoint; a copying pass equals a full one."""
    prev, current = None, g
    for _ in range(6):
        builder = _Builder(current, numeric=False, prev=prev)
        rebuilt = builder.run()
        if prev is not None:  # the same pass without the logs simplifies every node again
            # (equal but for generated names: a copied node skips the nodes its rules made and dropped)
            assert _signature(_full_pass(current)[1]) == _signature(rebuilt)
        if not builder.changed or builder.settled():
            again, after = _full_pass(rebuilt)
            assert not again.changed or _signature(after) == _signature(rebuilt)
            return
        prev, current = builder, rebuilt


def test_benchmark_graphs_settle_in_one_pass_and_are_fixpoints():
    for build in (lecture, lambda: product(40), lambda: ladder(40), mlp, lambda: sin_chain(30)):
        ga = cg.adjoint(build())
        builder, once = _full_pass(ga)
        assert builder.settled()
        again, twice = _full_pass(once)
        assert _signature(twice) == _signature(once)
        assert _signature(cg.simplify(ga)) == _signature(once)


def test_graphs_that_need_more_passes_copy_what_did_not_change():
    for g in (cg.adjoint(swell(10)), cg.adjoint(_random_dag(400)), cg.adjoint(_random_dag(300, seed=3))):
        _check_passes(g)
        simple = cg.simplify(g)
        assert op_count(simple) <= op_count(g)
        assert _signature(cg.simplify(simple)) == _signature(simple)
        point = {k: v for k, v in {"x": 0.7, "z": 1.3}.items() if k in g.inputs}
        want, got = cg.evaluate(g, point), cg.evaluate(simple, point)
        for out in g.outputs:
            np.testing.assert_allclose(got[out], want[out], rtol=1e-12, atol=1e-12)


@SETTINGS
@given(expressions(max_steps=10))
def test_random_expressions_and_their_adjoints(g):
    _check_passes(g)
    _check_passes(cg.adjoint(g))


@SETTINGS
@given(op_graphs(max_steps=6))
def test_random_graphs_of_every_op(case):
    g, _, _ = case
    note(describe(g))
    _check_passes(g)
    _check_passes(cg.adjoint(g))


@settings(SETTINGS, max_examples=examples(30))
@given(array_expressions())
def test_random_array_graphs(g):
    _check_passes(g)
    _check_passes(cg.adjoint(g))


def test_a_long_chain_settles_in_one_pass_without_recursion():
    # (test_faults simplifies a 100,000-node chain; here: one pass is enough, and the
    # pointwise walk over every use is iterative too)
    g = cg.Graph()
    u = g.input("x")
    for i in range(30_000):
        u = cg.sin(u) * 1 if i % 10 == 0 else cg.sin(u)  # the rules rewrite every tenth node
    g.output(u, name="y")
    builder, simple = _full_pass(g)
    assert builder.settled() and op_count(simple) == 30_000
    memo: dict = {}
    assert fixpoint.pointwise(simple, "x", memo) and len(memo) == len(simple)
