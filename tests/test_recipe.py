"""recipe: a drawing's statements wait until someone looks; the text is the same either way."""

from __future__ import annotations

import copy

import pydot
import pytest
from graphs import lecture
from test_dottext import adjoint_of_ladder, pydot_text

import cgraph as cg
from cgraph.export import recipe as R

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")

DRAWINGS = [
    lambda: cg.to_dot(lecture()),
    lambda: cg.to_dot(cg.adjoint(lecture())),  # two parts: clusters, rank groups, references
    lambda: cg.to_dot(adjoint_of_ladder(40), constants="boxes", rankdir="TB"),
    lambda: cg.to_dot(lecture(), values=cg.evaluate(lecture(), x=2.0, z=3.0), highlight_edges=[("x", "a")]),
]


def pending(d: pydot.Dot) -> bool:
    return d.__dict__.get("_pending") is not None


def test_the_recorded_text_passes_its_self_check():
    assert R.recipe_ok()


@pytest.mark.parametrize("make", DRAWINGS)
def test_writing_does_not_build_the_objects_and_gives_pydots_text(make):
    d = make()
    assert pending(d)
    text = d.to_string()
    assert pending(d)  # written from the recording
    assert pydot_text(d) == text and not pending(d)  # pydot reads obj_dict: now materialized
    assert d.to_string() == text  # and written from the live objects


@pytest.mark.parametrize("look", [
    lambda d: d.get_nodes(), lambda d: d.get_edges(), lambda d: d.get_subgraphs(), lambda d: d.obj_dict,
    lambda d: d.get_node("n0"), lambda d: d.set("bgcolor", "red"), lambda d: d.add_node(pydot.Node("z")),
])
def test_any_look_at_the_drawing_builds_it_whole(look):
    reference = DRAWINGS[1]()
    expected = pydot_text(reference)
    d = DRAWINGS[1]()
    look(d)
    assert not pending(d)
    nodes = sum(len(s.get_nodes()) for s in d.get_subgraphs()) + len(d.get_nodes()) - len(d.get_node("z"))
    assert nodes == sum(len(s.get_nodes()) for s in reference.get_subgraphs()) + len(reference.get_nodes())
    text = d.to_string()
    assert text == pydot_text(d)
    assert text == expected or "bgcolor=red" in text or "\nz;" in text


def test_changes_after_a_look_are_written():
    d = cg.to_dot(lecture())
    d.get_node("n2")[0].set("color", "blue")
    text = d.to_string()
    assert "color=blue" in next(line for line in text.splitlines() if line.startswith("n2 ["))


def test_copies_keep_the_drawing():  # copy goes through pydot's __getstate__, as pickling does
    for make in DRAWINGS[:2]:
        text = make().to_string()
        assert copy.deepcopy(make()).to_string() == text
        assert copy.copy(make()).to_string() == text


def test_a_recorded_name_pydot_would_quote_is_written_by_pydots_rules():
    d = cg.to_dot(lecture())
    d.__dict__["_pending"].node("a b", {"label": "<q>"})  # never recorded by the exporter: ids are n0, r0...
    text = d.to_string()
    assert '"a b" [label=<q>];' in text and text == pydot_text(d)


def test_when_the_self_check_fails_the_drawing_is_built_before_writing(monkeypatch):
    expected = pydot_text(DRAWINGS[1]())
    monkeypatch.setattr(R, "_CHECKED", [False])
    d = DRAWINGS[1]()
    assert d.to_string() == expected and not pending(d)


def test_render_and_write_use_the_recording(tmp_path):
    d = cg.to_dot(lecture())
    path = tmp_path / "g.dot"
    d.write(str(path))
    assert path.read_text() == pydot_text(cg.to_dot(lecture()))


def test_boxes_that_share_a_style_change_one_at_a_time():
    g = cg.Graph()
    node = g.input("x")
    for _ in range(4):
        node = cg.sin(node)  # unnamed sin boxes: one recorded style for all of them
    g.output(cg.exp(node), name="y")
    d = cg.to_dot(g)
    before = d.to_string()
    assert before.count("[label=<sin>];") == 4
    d.get_node("n2")[0].set("color", "red")
    after = d.to_string()
    assert after.count("[label=<sin>];") == 3 and after.count("color=red") == 1 and after == pydot_text(d)
    assert cg.to_dot(g).to_string() == before  # a new drawing starts from the unchanged style
