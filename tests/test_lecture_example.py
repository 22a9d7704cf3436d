"""examples/lecture.py: both builds agree, and it prints the lecture's numbers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parent.parent / "examples" / "lecture.py"


@pytest.fixture(scope="module")
def lecture():
    spec = importlib.util.spec_from_file_location("lecture_example", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_both_builds_are_the_lectures_graph(lecture):
    g, h = lecture.build_with_graph_api(), lecture.build_with_parse()
    assert lecture.structure(g) == lecture.structure(h)
    assert [n for n, _, _ in lecture.structure(g)] == ["x", "z", "a", "b", "c", "d", "e", "f", "y"]
    assert g.nx.number_of_edges() == 12
    lecture.check_agree(g, h)


def test_main_prints_values_and_gradients(lecture, capsys):
    lecture.main()
    out = capsys.readouterr().out
    assert "9 nodes (x z a b c d e f y), 12 edges" in out
    assert "y     412.19145728412116" in out
    assert "1208.38121" in out and "809.70747" in out
    exact = lecture.lecture_gradient()
    assert exact["x"] == pytest.approx(1208.3812151266095, rel=1e-15)
    assert exact["z"] == pytest.approx(809.707479218564, rel=1e-15)
