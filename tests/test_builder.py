"""One simplification pass (cgraph/passes/builder.py): what its rules read is logged per
node, rules skipped by the recursion guard are run again at once, nodes that came out
as themselves are known, and a pass over a settled graph changes nothing."""

from __future__ import annotations

import cgraph as cg
from cgraph.passes.builder import Builder
from cgraph.passes.fixpoint import GUARD


def _pass(g: cg.Graph, prev: Builder | None = None) -> tuple[Builder, cg.Graph]:
    builder = Builder(g, numeric=False, prev=prev)
    return builder, builder.run()


def test_a_reordered_product_is_checked_at_once_not_left_to_another_pass():
    g = cg.Graph()
    u = g.input("u")
    g.output(cg.sin(u) * 2, name="y")  # u*2 -> 2*u rebuilds its own key: the guard skips its rules
    builder, once = _pass(g)
    assert cg.to_text(once) == "y = 2*sin(u)"
    assert all(GUARD not in record for record in builder.records.values())
    assert builder.settled()


def test_rules_that_read_use_counts_are_logged_and_replayed():
    g = cg.Graph()
    u, v = g.input("u"), g.input("v")
    s = u + v
    g.output(3 * s, name="y")  # distributing 3*(u + v) asks whether u + v is used once
    builder, once = _pass(g)
    reads = [who for record in builder.records.values() for who, _ in record]
    assert any(who == s.name for who in reads)
    assert builder.settled()
    again, twice = _pass(once, prev=builder)
    assert not again.changed and again.same >= set(once.nx)


def test_a_pass_over_a_settled_graph_copies_every_node():
    g = cg.Graph()
    x = g.input("x")
    h = x
    for _ in range(20):
        h = cg.sin(h) * 0.5 + h
    g.output(h, name="y")
    first, once = _pass(cg.adjoint(g))
    assert first.settled()
    second, twice = _pass(once, prev=first)
    assert not second.changed
    assert second.same == {n for n in once.nx if n not in once.outputs or once.nx.nodes[n]["op"] != "identity"}
    assert cg.to_text(twice, form="program") == cg.to_text(once, form="program")
