"""A Graph shows itself in a notebook; the display never raises."""

from __future__ import annotations

import shutil

import pytest
from graphs import lecture

import cgraph as cg
from cgraph.export import notebook


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
def test_svg_when_graphviz_is_there():
    bundle = lecture()._repr_mimebundle_()
    assert bundle["image/svg+xml"].lstrip().startswith("<?xml")
    assert bundle["text/plain"].startswith("<cgraph.Graph 'lecture'")
    assert lecture()._repr_svg_().lstrip().startswith("<?xml")


def test_text_with_dot_and_hint_without_graphviz(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    bundle = lecture()._repr_mimebundle_()
    assert set(bundle) == {"text/plain"}
    assert "digraph" in bundle["text/plain"] and "install Graphviz" in bundle["text/plain"]
    assert lecture()._repr_svg_() is None


def test_render_errors_and_broken_graphs_do_not_raise(monkeypatch):
    def broken(text, fmt):
        raise RuntimeError("boom")

    monkeypatch.setattr("cgraph.export.render.run_dot", broken)
    assert "boom" in lecture()._repr_mimebundle_()["text/plain"]
    g = lecture()
    g.nx.add_edge("y", "x", key=0)  # a cycle: cannot be drawn, still displayed
    assert "cannot draw" in notebook.mimebundle(g)["text/plain"]


def test_large_graphs_are_summarised():
    g = cg.Graph()
    h = g.input("x")
    for _ in range(notebook.MAX_NODES + 1):
        h = cg.sin(h)
    assert "too large" in notebook.mimebundle(g)["text/plain"]
