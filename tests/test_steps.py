"""Backprop frames: one per adjoint node, in the order the adjoint graph computes them."""

from __future__ import annotations

import re
import shutil
import warnings

import numpy as np
import pytest
from graphs import lecture

import cgraph as cg
from cgraph.export.computation import HIGHLIGHT, HIGHLIGHT_FILL
from cgraph.export.render import run_dot

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


def test_one_step_per_adjoint_node_in_computation_order():
    g = lecture()
    steps = cg.backprop_steps(g, x=2.0, z=3.0)
    ga = cg.adjoint(g)
    order = [n for n in ga.schedule() if ga.nx.nodes[n].get("adjoint_of")]
    assert [s.adjoint for s in steps] == order
    assert steps[0].adjoint == "g_y" and {s.adjoint for s in steps[-2:]} == {"g_x", "g_z"}
    assert [s.number for s in steps] == list(range(1, 10))


def test_each_frame_highlights_the_node_and_the_edges_it_reads():
    g = lecture()
    reads = {"g_y": 0, "g_d": 1, "g_e": 1, "g_f": 1, "g_c": 1, "g_b": 2, "g_a": 3, "g_z": 1, "g_x": 2}
    for step in cg.backprop_steps(g, x=2.0, z=3.0):
        text = step.dot.to_string()
        assert text.count(HIGHLIGHT_FILL) == 1
        hot = [line for line in text.splitlines() if "->" in line and HIGHLIGHT in line]
        assert len(hot) == reads[step.adjoint], step.adjoint
        assert all("dir=back" in line for line in hot)


def test_formula_and_value_in_the_title():
    steps = {s.adjoint: s for s in cg.backprop_steps(lecture(), x=2.0, z=3.0)}
    gb = steps["g_b"]
    assert gb.formula.startswith("g_b = ")
    assert gb.value == pytest.approx(-12.36000740, rel=1e-8)
    title = gb.dot.get("label")
    assert "−12.36" in title and "_" not in re.sub(r"<[^>]*>", "", title)


def test_without_inputs_there_are_no_values():
    steps = cg.backprop_steps(lecture())
    assert all(s.value is None for s in steps)
    assert "412.2" not in steps[0].dot.to_string()


@needs_dot
def test_every_frame_has_the_same_layout():
    def positions(step):
        plain = run_dot(step.dot.to_string(), "plain").decode()
        return [line.split()[:4] for line in plain.splitlines() if line.startswith("node")]

    steps = cg.backprop_steps(lecture(), x=2.0, z=3.0)
    first = positions(steps[0])
    assert all(positions(s) == first for s in steps[1:])


@needs_dot
def test_frames_are_written(tmp_path):
    paths = cg.backprop_frames(lecture(), tmp_path / "frames", formats=["svg", "dot"], x=2.0, z=3.0)
    assert [p.name for p in paths[:4]] == ["step_01.svg", "step_01.dot", "step_02.svg", "step_02.dot"]
    assert len(paths) == 18 and all(p.stat().st_size > 0 for p in paths)


def test_frames_an_earlier_longer_sweep_left_in_the_folder_are_warned_of(tmp_path):
    # rerun into the same folder, the lecture's 11 frames then sin(x)'s 2 left step_03 to
    # step_11 beside the new ones, silently part of "the frames" of sin(x)
    cg.backprop_frames(lecture(), tmp_path, formats=["dot"], x=2.0, z=3.0)
    g = cg.parse("sin(x)")
    with pytest.warns(UserWarning) as record:
        paths = cg.backprop_frames(g, tmp_path, formats=["dot"], x=1.0)
    assert [p.name for p in paths] == ["step_01.dot", "step_02.dot"]
    stale = sorted(p.name for p in tmp_path.iterdir())[2:]
    assert stale[0] == "step_03.dot" and len(record) == 1 and record[0].filename == __file__
    assert str(record[0].message) == (f"{str(tmp_path)!r} also holds {len(stale)} frame(s) of an earlier sweep that "
                                      f"this one did not replace (step_03.dot ... {stale[-1]}); delete them before "
                                      "using the folder's frames")
    (tmp_path / "notes.txt").write_text("mine")
    for p in stale:
        (tmp_path / p).unlink()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a folder of this sweep's frames (and other files) alone: no warning
        cg.backprop_frames(g, tmp_path, formats=["dot"], x=1.0)
        cg.backprop_frames(g, tmp_path, formats=["svg"] if shutil.which("dot") else ["dot"], x=1.0)


def test_a_format_named_twice_is_one_file_a_frame(tmp_path):
    # each frame was written twice and listed twice among "the files written"
    paths = cg.backprop_frames(cg.parse("x*z"), tmp_path, formats=["dot", "dot"], x=2.0, z=3.0)
    assert [p.name for p in paths] == ["step_01.dot", "step_02.dot", "step_03.dot"]
    # a format is read as render reads a suffix: "DOT" and ".dot" were refused, though render takes x.DOT
    paths = cg.backprop_frames(cg.parse("x*z"), tmp_path / "upper", formats=["DOT", ".dot", "dot"], x=2.0, z=3.0)
    assert [p.name for p in paths] == ["step_01.dot", "step_02.dot", "step_03.dot"]


def test_bad_frame_format(tmp_path):
    with pytest.raises(cg.ExportError, match="gif"):
        cg.backprop_frames(lecture(), tmp_path, formats=["gif"])


def test_frames_take_one_format_as_a_string_and_name_the_users_graph(tmp_path):
    g = cg.parse("x*z", name="mine")
    assert [p.name for p in cg.backprop_frames(g, tmp_path, formats="dot", x=2.0, z=3.0)][:1] == ["step_01.dot"]
    with pytest.raises(cg.InputError, match="graph 'mine' is missing input"):
        cg.backprop_steps(g, x=2.0)


def test_a_step_of_a_name_in_backticks_has_its_formula():
    # to_text writes `g_w_{1,1}^{(1)}` = ...; the step showed the bare name, no formula
    g = cg.parse("`z^{(1)}` = sigmoid(`w_{1,1}^{(1)}`*x)")
    steps = {s.adjoint: s for s in cg.backprop_steps(g, x=1.0, **{"w_{1,1}^{(1)}": 0.5})}
    assert steps["g_w_{1,1}^{(1)}"].formula == "`g_w_{1,1}^{(1)}` = g_t1*x"
    assert steps["g_z^{(1)}"].formula == "`g_z^{(1)}` = 1"


def test_errors_of_the_steps_do_not_suggest_an_argument_they_lack():
    # backprop_steps' errors ended "; pass nonfinite='propagate' ...", which it does not
    # take: passed, it was read as an unexpected input 'nonfinite'
    g = cg.parse("y = log(x)")
    for feeds, error in (({"x": -1.0}, cg.DomainError), ({"x": float("nan")}, cg.InputError)):
        with pytest.raises(error, match="not finite") as info:
            cg.backprop_steps(g, **feeds)
        assert "nonfinite" not in str(info.value)


@pytest.mark.parametrize("precision", [-1, "4", 2.5])
def test_a_bad_precision_is_an_export_error(tmp_path, precision):
    # the frame titles format values before the drawing checks its options: -1 was a
    # ValueError from Python's format()
    g = cg.parse("y = sin(x)")
    with pytest.raises(cg.ExportError, match="precision"):
        cg.backprop_steps(g, x=1.0, precision=precision)
    with pytest.raises(cg.ExportError, match="precision"):
        cg.backprop_frames(g, tmp_path, formats="dot", x=1.0, precision=precision)


@pytest.mark.parametrize("formats", [None, 3, ["svg", None]])
def test_formats_of_the_wrong_type_are_an_export_error(tmp_path, formats):
    # None was a TypeError ("'NoneType' object is not iterable")
    with pytest.raises(cg.ExportError, match="format"):
        cg.backprop_frames(cg.parse("y = sin(x)"), tmp_path, formats=formats, x=1.0)


def test_frames_of_a_formula_name_the_boxes_their_titles_and_adjoints_speak_of():
    # the title says g_t3 = g_t5*cos(t3) + ...: every t_k it names must be a name in the drawing
    steps = cg.backprop_steps(cg.parse("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"), x=2.0, z=3.0)
    for step in steps:
        text = step.dot.to_string()
        named = set(re.findall(r'ALIGN="LEFT"[^>]*><FONT COLOR="[^"]*"><FONT FACE="[^"]*"><I>t</I><SUB>'
                               r'<FONT POINT-SIZE="[\d.]+">(\d+)<', text))
        assert set(re.findall(r"(?<![A-Za-z0-9])t(\d+)\b", step.formula)) <= named, step.formula


def test_frames_into_no_folder_path_is_an_export_error():
    with pytest.raises(cg.ExportError, match="backprop_frames: out_dir must be a folder path .*, not None"):
        cg.backprop_frames(cg.parse("y = sin(x)"), None, x=1.0)


def test_a_sweep_with_nothing_to_differentiate_has_no_steps(tmp_path):
    # a formula without inputs (cgraph steps "3") or wrt=[] raised "max() arg is an empty
    # sequence"; cg.grad of the same gives {}
    assert cg.backprop_steps(cg.parse("3")) == []
    assert cg.backprop_steps(cg.parse("exp(x)"), wrt=[], x=1.0) == []
    assert cg.backprop_frames(cg.parse("3"), tmp_path) == []


def test_a_scalar_value_in_the_title_is_written_as_a_value_not_read_as_a_formula():
    # read as a number of the formula, 1e−5 lost its minus sign (1e-5, a hyphen), as arrays lost their spaces
    steps = {s.adjoint: s for s in cg.backprop_steps(cg.parse("y = w*x"), w=2.0, x=1e-5)}
    title = re.sub(r"<[^>]*>", "", steps["g_w"].dot.get("label")).replace("\xa0", " ").replace("\u2060", "")
    assert title.endswith("= 1e−5>")


def test_an_array_value_in_the_title_keeps_its_spaces():
    # the value went through the formula typesetter, which drops spaces: "= array4×3", "[1,2]"
    net = cg.nn.MLP([2, 3, 1], activation="tanh", loss="bce", seed=0)
    X = np.arange(8.0).reshape(4, 2) / 8
    steps = {s.adjoint: s for s in cg.backprop_steps(net.graph, X=X, Y=np.array([[0], [1], [1], [0]]))}

    def plain_title(step):
        return re.sub(r"<[^>]*>", "", step.dot.get("label")).replace("\u2060", "").replace("\u00a0", " ")

    assert plain_title(steps["g_a1"]).endswith("= array 4×3>")  # (the label's closing >)
    plain = plain_title(steps["g_W2"]).replace("&#93;", "]")
    assert re.search(r"= \[\[\S+\], \[\S+\], \[\S+\]\]>$", plain), plain  # g_W2 of shape (3, 1)


@needs_dot
def test_a_frame_of_a_second_sweep_shows_its_title_once():
    # the frames of a sweep over an adjoint graph are two-part drawings (clusters), and a cluster
    # without a label of its own showed the frame's title again: three times in all
    ga = cg.adjoint(cg.parse("y = x*x*z"))
    steps = cg.backprop_steps(ga, of="g_x", x=2.0, z=3.0)
    svg = run_dot(steps[-1].dot.to_string(), "svg").decode()
    assert svg.count(f"step {len(steps)} of {len(steps)}") == 1


def test_the_steps_of_a_second_sweep_are_the_nodes_it_creates():
    # the first sweep's g_y, g_x, g_z (forward nodes of the adjoint graph) were steps 1 to 3 of
    # the second, each frame highlighting x, y or z with a first-order formula
    ga = cg.adjoint(cg.parse("y = x*x*z"))
    steps = cg.backprop_steps(ga, of="g_x", x=2.0, z=3.0)
    assert [s.adjoint for s in steps] == ["g_g_x", "g_t4", "g_t3", "g_t2", "g2_x", "g2_z"]
    assert steps[-2].value == pytest.approx(6.0)  # d(g_x)/dx = d(2xz)/dx = 2z


def test_a_second_sweep_writes_its_adjoints_under_their_own_names():
    # the frames wrote g2_x = 6 into x's box as "g_x = 6", beside the box of g_x (= 12)
    from cgraph.export.dot import math, math_name, spaced

    ga = cg.adjoint(cg.parse("y = x*x*z"))
    step = cg.backprop_steps(ga, of="g_x", x=2.0, z=3.0)[-2]
    assert step.adjoint == "g2_x"
    dot = step.dot.to_string()
    assert math(math_name("g2_x", size=11)) + spaced("=") + "6" in dot
    assert math(math_name("g_x", size=11)) + spaced("=") + "6" not in dot


def test_the_sweep_of_an_array_whose_elements_mix_is_refused_as_grad_refuses_it(tmp_path):
    # cg.backprop_steps(softmax, x=[1, 2]) drew g_y = 1 and g_x = [0, 0], the gradient of the sum
    # of the softmax's elements, where cg.grad says its elements have no gradients of their own
    import numpy as np

    x = np.array([1.0, 2.0])
    for formula in ("y = softmax(x)", "y = x - mean(x)"):
        g = cg.parse(formula)
        with pytest.raises(cg.ShapeError) as grad_error:
            cg.grad(g, x=x)
        with pytest.raises(cg.ShapeError) as steps_error:
            cg.backprop_steps(g, x=x)
        assert str(steps_error.value) == str(grad_error.value)
        with pytest.raises(cg.ShapeError):
            cg.backprop_frames(g, tmp_path / "frames", formats="dot", x=x)
        assert not (tmp_path / "frames").exists()  # nothing written, not even the folder
    # elementwise, reduced, or one element: each element's own derivative, as grad gives it
    for formula in ("y = x^2", "y = sum(softmax(x))", "y = -sum(t*log_softmax(x), axis=-1)"):
        g = cg.parse(formula)
        feeds = {"x": x, "t": np.array([0.3, 0.7])} if "t" in g.inputs else {"x": x}
        steps = cg.backprop_steps(g, **feeds)
        np.testing.assert_allclose(next(s.value for s in steps if s.adjoint == "g_x"), cg.grad(g, **feeds)["x"])
    assert cg.backprop_steps(cg.parse("y = x - mean(x)"), x=np.array([2.0]))[-1].value is not None
