"""dottext: the linear DOT writer gives pydot's own text, also after the user changes the drawing."""

from __future__ import annotations

import warnings

import pydot
import pytest
from graphs import lecture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_dot import NASTY

import cgraph as cg
from cgraph.export import dottext as T

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")


def pydot_text(d: pydot.Graph, *args) -> str:
    """What pydot itself writes (its Graph.to_string, bypassing our override)."""
    return pydot.Graph.to_string(d, *args)


def adjoint_of_ladder(n: int) -> cg.Graph:
    g = cg.Graph("ladder")
    prev = g.input("x")
    cur = cg.sin(prev)
    for _ in range(n):
        prev, cur = cur, 0.5 * (cg.sin(cur) + prev)
    g.output(cur, name="y")
    return cg.adjoint(g)


def test_the_writer_passes_its_self_check_against_the_installed_pydot():
    assert T.writer_ok()
    for probe in T._probes():  # every shortcut and every fallback, at two indents
        assert T.dot_text(probe) == pydot_text(probe)
        assert T.dot_text(probe, "  ", 1, True) == pydot_text(probe, "  ", 1, True)


@pytest.mark.parametrize("options", [{}, {"constants": "boxes", "rankdir": "TB"}, {"constants": "hide", "title": "T"},
                                     {"show_generated": True}, {"highlight": ["a", "g_a"], "notes": {"a": "<n>"}}])
def test_drawings_write_as_pydot_writes_them(options):
    for g in (lecture(), cg.adjoint(lecture()), adjoint_of_ladder(30)):
        hot = [n for n in options.get("highlight", ()) if n in g.nx]  # a name not in g is an error
        d = cg.to_dot(g, **{**options, "highlight": hot})
        assert d.to_string() == pydot_text(d)


def test_a_changed_drawing_writes_with_the_change():
    d = cg.to_dot(lecture())
    before = d.to_string()
    d.get_node("n3")[0].set("color", "red")  # pydot hands out wrappers of the same obj_dict
    d.get_edges()[0].set("label", "a b")
    d.add_node(pydot.Node("extra", label="<<B>e</B>>"))
    d.add_edge(pydot.Edge("extra", "n3"))
    d.del_node("n4")
    d.set("bgcolor", "#eeeeee")
    d.get_subgraphs()[0].add_node(pydot.Node("inner", shape="circle"))
    after = d.to_string()
    assert after != before and after == pydot_text(d)
    assert "color=red" in next(line for line in after.splitlines() if line.startswith("n3 ["))
    assert "extra -> n3;" in after and 'label="a b"' in after and "\nn4 [" not in after
    assert "inner [shape=circle];" in after


def test_a_changed_two_part_drawing_writes_with_the_change():
    d = cg.to_dot(cg.adjoint(lecture()))
    adjoint, forward = d.get_subgraph("cluster_adjoint")[0], d.get_subgraph("cluster_forward")[0]
    first = adjoint.get_nodes()[0]
    first.set("label", "<changed>")
    forward.del_node(forward.get_nodes()[0].get_name())
    text = d.to_string()
    assert f"{first.get_name()} [" in text and "label=<changed>" in text and text == pydot_text(d)


def test_backprop_frames_change_edges_after_drawing_and_the_text_follows():
    from cgraph.export.steps import backprop_steps

    steps = list(backprop_steps(lecture(), x=2.0, z=3.0))
    assert len(steps) > 3
    for step in steps:
        assert step.dot.to_string() == pydot_text(step.dot)


def test_cheap_insertion_builds_the_obj_dicts_pydot_builds():
    ours, theirs = pydot.Dot("a"), pydot.Dot("a")
    T.add_node(ours, "n0", {"label": "<x>"})
    theirs.add_node(pydot.Node("n0", label="<x>"))
    T.add_node(ours, "n0", {})  # the same name twice
    theirs.add_node(pydot.Node("n0"))
    T.add_edge(ours, "n0", "n1", {"color": "red"})
    theirs.add_edge(pydot.Edge("n0", "n1", color="red"))
    T.add_edges(ours, [("n1", "n2"), ("n1", "n2")])
    theirs.add_edge(pydot.Edge("n1", "n2"))
    theirs.add_edge(pydot.Edge("n1", "n2"))
    T.add_subgraph(ours, {"rank": "same"}, ["n0", "n1"])
    sub = pydot.Subgraph(rank="same")
    sub.add_node(pydot.Node("n0"))
    sub.add_node(pydot.Node("n1"))
    theirs.add_subgraph(sub)
    T.add_node(ours, "p:s", {})  # a port: pydot's own Node splits it off
    theirs.add_node(pydot.Node("p:s"))

    def plain(od):  # parent links as "top" (identity differs between the two drawings)
        if isinstance(od, dict):
            return {k: ("top" if k == "parent_graph" else plain(v)) for k, v in od.items()}
        if isinstance(od, list):
            return [plain(v) for v in od]
        return od

    assert plain(ours.obj_dict) == plain(theirs.obj_dict)
    assert all(o["parent_graph"] is ours for group in ours.obj_dict["nodes"].values() for o in group)
    assert T.dot_text(ours) == pydot_text(theirs)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists((st.sampled_from(NASTY) | st.text(min_size=1, max_size=6)).filter(lambda n: n != "y"),  # the output
                min_size=1, max_size=4, unique=True))
def test_hostile_names_and_attribute_values_write_as_pydot_writes_them(names):
    g = cg.Graph("names")
    xs = [g.input(n) for n in names]
    y = xs[0]
    for x in xs[1:]:
        y = y * x
    g.output(cg.exp(y), name="y")
    d = cg.to_dot(cg.adjoint(g), title=names[0], notes={names[0]: names[-1]})
    for n in names:  # user-set values of any kind, and nodes and edges by hostile names
        d.add_node(pydot.Node(n, label=n, tooltip=n))
        d.add_edge(pydot.Edge(n, "n0", label=n))
    d.set("comment", names[-1])
    assert d.to_string() == pydot_text(d)


def test_a_large_drawing_writes_as_pydot_writes_it():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g = adjoint_of_ladder(400)  # ~3,000 nodes, two parts, rank groups, references
    for d in (cg.to_dot(g), cg.to_dot(g, constants="boxes")):
        assert d.to_string() == pydot_text(d)


def test_when_the_self_check_fails_pydot_writes(monkeypatch):
    g = lecture()
    expected = pydot_text(cg.to_dot(g))
    monkeypatch.setattr(T, "_CHECKED", [False])
    monkeypatch.setattr(T, "dot_text", lambda *a, **k: pytest.fail("the fast writer ran"))
    from cgraph.export import dot as D

    monkeypatch.setattr(D, "dot_text", lambda *a, **k: pytest.fail("the fast writer ran"))
    assert cg.to_dot(g).to_string() == expected
