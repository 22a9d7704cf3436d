"""The neural-network convention, checked point by point on the DOT read back by pydot."""

from __future__ import annotations

import re

import numpy as np
import pydot
import pytest
from graphs import layered, lecture

import cgraph as cg
from cgraph.export.network import layers

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")  # pyparsing, via pydot


def parsed(d: pydot.Dot) -> pydot.Dot:
    (back,) = pydot.graph_from_dot_data(d.to_string())
    return back


def units(d: pydot.Dot) -> dict[str, pydot.Node]:
    return {n.get_name(): n for n in d.get_nodes() if re.fullmatch(r"u\d+_\d+", n.get_name()) and n.get("shape") != "plaintext"}


def text(label: str | None) -> str:
    label = label or ""
    if label.startswith("<") and label.endswith(">"):
        label = label[1:-1]
    return re.sub(r"<[^>]*>", "", label)


def test_mlp_231_is_six_circles_and_nine_labelled_edges():
    d = parsed(cg.to_dot(layered([2, 3, 1]), style="network"))
    circles = units(d)
    assert len(circles) == 6
    assert d.get_node_defaults()[0]["shape"] == "circle"
    edges = d.get_edges()
    assert len(edges) == 9
    assert all(e.get("headlabel") for e in edges)
    assert d.get("layout") == "neato"
    assert all(n.get("pos").endswith('!"') for n in circles.values())  # pinned


def test_unit_labels_use_real_sub_and_superscripts():
    d = parsed(cg.to_dot(layered([2, 3, 1]), style="network"))
    labels = {k: n.get("label") for k, n in units(d).items()}
    assert text(labels["u0_0"]) == "x1" and "<SUB>" in labels["u0_0"]
    assert text(labels["u1_1"]) == "z2(1)" and "<SUP>" in labels["u1_1"]
    assert text(labels["u2_0"]) == "ŷ"
    assert not any("_" in text(v) for v in labels.values())


def test_a_unit_label_too_wide_for_its_circle_is_set_smaller():
    # z_256^(1) of a 784-256-10 network ran over its circle; x_784 and z_1^(1) fit as they are
    d = parsed(cg.to_dot(layered([784, 256, 10], values=False), style="network"))
    labels = {k: n.get("label") for k, n in units(d).items()}
    assert text(labels["u1_7"]) == "z256(1)"
    size = float(re.match(r'<<FONT FACE="[^"]*"><FONT POINT-SIZE="([0-9.]+)">', labels["u1_7"])[1])
    # the label's width at cairo's index size (0.83 of the letter's), DejaVu Serif's advances in em
    assert size * (0.56 + 0.83 * (3 * 0.636 + 2 * 0.39 + 0.636)) <= 0.8 * 0.62 * 72
    for unit in ("u0_7", "u1_0", "u2_7"):  # x_784, z_1^(1), ŷ_10
        assert 'POINT-SIZE="13"' not in labels[unit] and labels[unit].count("POINT-SIZE") == labels[unit].count("<SU")


def test_names_are_set_in_the_typeface_of_the_computation_graph():
    # x₁ on one slide and x₁ on the next should look the same in both conventions
    from cgraph.export.dot import MATH_FONT

    face = f'<FONT FACE="{MATH_FONT}">'
    d = parsed(cg.to_dot(layered([2, 3, 1]), style="network"))
    assert all(n.get("label").startswith("<" + face) for n in units(d).values())
    assert all(face in e.get("headlabel") for e in d.get_edges() if e.get("headlabel"))
    named = [n.get("label") for n in parsed(cg.to_dot(layered([2, 3, 1]))).get_nodes() if n.get("shape") == "plain"]
    assert named and all(f'FACE="{MATH_FONT}"' in x for x in named)


def test_weight_symbols_are_target_then_source():
    d = parsed(cg.to_dot(layered([2, 3, 1]), style="network"))
    by_pair = {(e.get_source(), e.get_destination()): text(e.get("headlabel")) for e in d.get_edges()}
    assert by_pair[("u0_1", "u1_0")] == "w1,2(1)"  # from x2 to z1: j=1 (target), i=2 (source)
    assert by_pair[("u1_2", "u2_0")] == "w1,3(2)"


def test_weight_values_come_from_the_params():
    g = layered([2, 3, 1], seed=3)
    w1 = g.nx.nodes["W1"]["attrs"]["value"]
    d = parsed(cg.to_dot(g, style="network", weights="value", precision=3))
    by_pair = {(e.get_source(), e.get_destination()): e for e in d.get_edges()}
    shown = text(by_pair[("u0_1", "u1_2")].get("headlabel")).replace("−", "-")
    assert float(shown) == pytest.approx(w1[1, 2], abs=1e-3)
    other = {"W1": np.full((2, 3), 0.5), "W2": np.full((3, 1), -2.0)}
    d = parsed(cg.to_dot(g, style="network", weights="value", values=other))
    assert {text(e.get("headlabel")) for e in d.get_edges()} == {"0.50", "−2.00"}


def test_a_nan_or_infinite_weight_keeps_every_edge_drawn():
    # one nan or inf (a diverged training run) made every penwidth nan: Graphviz drew no edge at all
    w1 = np.array([[np.nan, 0.5, -np.inf], [-1.0, np.inf, 2.0]])
    d = parsed(cg.to_dot(layered([2, 3, 1]), style="network", weights="value", values={"W1": w1, "W2": np.ones((3, 1))}))
    by_pair = {(e.get_source(), e.get_destination()): e for e in d.get_edges()}
    widths = {pair: float(e.get("penwidth")) for pair, e in by_pair.items()}
    assert all(0.6 <= w <= 2.8 for w in widths.values()), widths
    assert widths[("u0_1", "u1_2")] == 2.8 and widths[("u0_1", "u1_1")] == 2.8  # 2.0 the largest finite, inf as wide
    assert widths[("u1_0", "u2_0")] == pytest.approx(0.6 + 2.2 / 2)
    assert by_pair[("u0_0", "u1_0")].get("color") == '"#555555"'  # nan has no sign


def test_no_weight_labels():
    d = parsed(cg.to_dot(layered([2, 3, 1]), style="network", weights="none"))
    assert not any(e.get("headlabel") for e in d.get_edges())


def test_no_bias_or_loss_nodes():
    d = parsed(cg.to_dot(layered([3, 4, 4, 2]), style="network"))
    everything = " ".join(text(n.get("label")) for n in d.get_nodes())
    assert "b1" not in everything and "loss" not in everything and "Y" not in everything
    assert len(units(d)) == 3 + 4 + 4 + 2
    assert len(d.get_edges()) == 3 * 4 + 4 * 4 + 4 * 2


def test_units_of_a_layer_are_aligned_and_ordered():
    d = parsed(cg.to_dot(layered([3, 4, 2]), style="network"))
    pos = {k: tuple(float(v) for v in n.get("pos").strip('"!').split(",")) for k, n in units(d).items()}
    for layer in range(3):
        col = sorted((k for k in pos if k.startswith(f"u{layer}_")), key=lambda k: int(k.split("_")[1]))
        assert len({pos[k][0] for k in col}) == 1
        ys = [pos[k][1] for k in col]
        assert ys == sorted(ys, reverse=True)  # unit 1 on top


def test_wide_layers_are_elided():
    g = layered([784, 100, 10], values=False)
    d = parsed(cg.to_dot(g, style="network"))
    circles = units(d)
    assert len([k for k in circles if k.startswith("u0_")]) == 7
    dots = [n for n in d.get_nodes() if text(n.get("label")) == "⋮"]
    assert len(dots) == 3
    captions = [text(n.get("label")) for n in d.get_nodes() if n.get_name().startswith("c")]
    assert any("(+777)" in c for c in captions) and any("(+93)" in c for c in captions)
    labels = {text(n.get("label")) for n in circles.values()}
    assert "x784" in labels and "z100(1)" in labels and "ŷ10" in labels


def test_dense_layers_are_thinned():
    d = parsed(cg.to_dot(layered([8, 8, 3]), style="network"))
    labelled = [e for e in d.get_edges() if e.get("headlabel")]
    assert len(d.get_edges()) == 64 + 24
    assert len(labelled) == 2 + 2  # only the outermost two edges of each dense layer pair


def test_a_dense_pair_labels_its_two_outermost_edges_only():
    # mlp_network's 4x4 pair had 16 labels among crossing edges, most of them ambiguous
    d = parsed(cg.to_dot(layered([3, 4, 4, 2]), style="network"))
    by_pair = {(e.get_source(), e.get_destination()): text(e.get("headlabel")) for e in d.get_edges()
               if e.get("headlabel")}
    assert by_pair == {("u0_0", "u1_0"): "w1,1(1)", ("u0_2", "u1_3"): "w4,3(1)",
                       ("u1_0", "u2_0"): "w1,1(2)", ("u1_3", "u2_3"): "w4,4(2)",
                       ("u2_0", "u3_0"): "w1,1(3)", ("u2_3", "u3_1"): "w2,4(3)"}
    # a small pair (2x3), and a single unit's fan (3x1, 1x8: its edges never cross), label every edge
    d = parsed(cg.to_dot(layered([2, 3, 1]), style="network"))
    assert all(e.get("headlabel") for e in d.get_edges())
    d = parsed(cg.to_dot(layered([1, 8, 1]), style="network"))
    assert all(e.get("headlabel") for e in d.get_edges())
    # and a larger max_labels labels every edge
    d = parsed(cg.to_dot(layered([3, 4, 4, 2]), style="network", max_labels=16))
    assert all(e.get("headlabel") for e in d.get_edges())


@pytest.mark.parametrize(
    ("graph", "message"),
    [
        (lecture, "not a layered network: no node carries 'layer'"),
        (lambda: _without(layered([2, 3, 1]), "W2", "weights"), "layer 2 .* has no weight matrix"),
        (lambda: _without(layered([2, 3, 1]), "z1", "layer"), "numbered 0..L"),
        # simplify drops the prediction of a bce or cross-entropy network (its loss reads the
        # logits): the drawing made the last hidden layer the output (ŷ₁ ŷ₂ ŷ₃) and left W3 out
        (lambda: cg.simplify(cg.nn.MLP([2, 3, 3, 1], loss="bce").graph),
         "weight matrix 'W3' \\(weights=3\\) feeds layer 3, but no node carries layer=3"),
        (lambda: cg.simplify(cg.nn.MLP([2, 3, 2], loss="cross_entropy").graph), "'W2' .* feeds layer 2"),
    ],
)
def test_graphs_without_metadata_say_why(graph, message):
    with pytest.raises(cg.ExportError, match=message):
        cg.to_dot(graph(), style="network")


def test_value_mode_needs_values():
    with pytest.raises(cg.ExportError, match="needs the value of 'W1'"):
        cg.to_dot(layered([2, 3, 1], values=False), style="network", weights="value")


@pytest.mark.parametrize("value, message", [(np.ones((2, 2)), r"'W1' must have shape \(2, 3\).*has shape \(2, 2\)"),
                                            (np.ones((3, 2)), r"'W1' must have shape \(2, 3\)"),
                                            (np.ones((2, 4)), r"'W1' must have shape \(2, 3\)"),
                                            ("abc", "'W1' must hold numbers, not 'abc'"),
                                            ([[10**400] * 3] * 2, "'W1' must hold numbers")])  # OverflowError
def test_weight_values_of_another_shape_or_no_numbers_are_an_export_error(value, message):
    # values={"W1": ...} of another network: an IndexError (too small), a drawing of the
    # wrong weights without a word (too large), or numpy's ValueError
    with pytest.raises(cg.ExportError, match=message):
        cg.to_dot(layered([2, 3, 1]), style="network", weights="value", values={"W1": value})


def test_layers_reads_the_metadata():
    stack = layers(layered([3, 4, 2]))
    assert [(ly.index, ly.units, ly.kind, ly.activation) for ly in stack] == [
        (0, 3, "input", "identity"), (1, 4, "hidden", "tanh"), (2, 2, "output", "sigmoid")]


def test_network_dot_is_deterministic():
    g = layered([3, 4, 4, 2])
    assert cg.to_dot(g, style="network").to_string() == cg.to_dot(g, style="network").to_string()


def _without(g, node, key):
    del g.nx.nodes[node][key]
    return g


@pytest.mark.skipif(__import__("shutil").which("dot") is None, reason="Graphviz is not installed")
def test_wide_network_renders(tmp_path):
    svg = cg.render(layered([784, 100, 10], values=False), tmp_path / "wide.svg", style="network").read_text()
    assert svg.count('class="node"') == 7 + 7 + 7 + 3 + 3  # units, ⋮ and captions


@pytest.mark.parametrize("precision", [-1, "2", 1.5, None])
def test_a_bad_precision_is_an_export_error(precision):
    net = cg.nn.MLP([2, 3, 1], seed=0)
    with pytest.raises(cg.ExportError, match="precision must be an int >= 0"):
        cg.to_dot(net.graph, style="network", weights="value", precision=precision).to_string()


@pytest.mark.parametrize("max_labels", [-1, "6", 2.5, None])
def test_a_bad_max_labels_is_an_export_error(max_labels):
    with pytest.raises(cg.ExportError, match="max_labels must be an int >= 0"):
        cg.to_dot(layered([2, 3, 1]), style="network", max_labels=max_labels)


def test_dropped_units_are_crossed_out_and_lose_their_edges():
    # the lecture's dropout figure, "(b) After applying dropout": no option drew it
    d = parsed(cg.to_dot(layered([3, 4, 2]), style="network", dropped={0: [2], 1: [1, 3]}))
    circles = units(d)
    assert len(circles) == 9  # every unit is still there, in its place
    crossed = {n.get_name() for n in circles.values() if n.get("style") == "dashed"}
    assert crossed == {"u0_1", "u1_0", "u1_2"}
    crosses = [n for n in d.get_nodes() if text(n.get("label")) == "✕"]
    assert sorted(n.get("pos") for n in crosses) == sorted(circles[c].get("pos") for c in crossed)
    ends = {(e.get_source(), e.get_destination()) for e in d.get_edges()}
    assert len(ends) == 2 * 2 + 2 * 2  # x1, x3 -> z2, z4 -> y1, y2
    assert not any(a in crossed or b in crossed for a, b in ends)


@pytest.mark.skipif(__import__("shutil").which("dot") is None, reason="Graphviz is not installed")
def test_the_dropout_figure_renders_without_graphviz_warnings(tmp_path):
    # the cross (fontsize 34) inherited the circles' fixedsize width: `dot -Tpng` of the
    # exported .dot printed "Warning: node 'x1_0', graph 'cgraph' size too small for label"
    # once per dropped unit (cg.render hid them); the picture is the same without it
    import subprocess

    path = cg.render(layered([3, 4, 2]), tmp_path / "dropout.dot", style="network", dropped={0: [2], 1: [1, 3]})
    done = subprocess.run(["dot", "-Tsvg", str(path)], capture_output=True, text=True, check=True)
    assert done.stderr == "" and done.stdout.count(">✕<") == 3

def test_a_wide_pair_with_every_edge_labelled_is_drawn():
    # max_units and max_labels raised together: the label search was cubic in the width (hours at 100)
    d = parsed(cg.to_dot(layered([30, 30, 2], values=False), style="network", max_units=30, max_labels=900))
    assert len(d.get_edges()) == 900 + 60
    assert all(e.get("headlabel") and float(e.get("labeldistance")) > 0 for e in d.get_edges())


def test_dropped_units_behind_the_ellipsis_are_counted_in_the_caption():
    # unit 5 of 12 is left out (max_units=8 draws 1-6 and 12): it was dropped without a trace
    g = layered([12, 12, 2], values=False)
    d = parsed(cg.to_dot(g, style="network", dropped={0: [2, 8, 9], 1: [12]}))
    captions = {n.get_name(): text(n.get("label")) for n in d.get_nodes() if re.fullmatch(r"c\d+", n.get_name())}
    assert "(+5, 2 dropped)" in captions["c0"]  # x8, x9; x2 is a crossed circle
    assert "(+5)" in captions["c1"] and "dropped" not in captions["c1"]  # z12 is drawn, crossed
    crossed = {n.get_name() for n in units(d).values() if n.get("style") == "dashed"}
    assert crossed == {"u0_1", "u1_7"}


@pytest.mark.parametrize("dropped, message", [
    ({2: [1]}, "layer 2 cannot be dropped from"),  # the output layer
    ({1: [0]}, "0 is not a unit of layer 1, whose units are numbered 1 to 4"),
    ({1: [5]}, "5 is not a unit of layer 1"),
    ({1: 2}, "dropped[1] must be unit numbers such as [1, 3], not 2"),
    ([1, 2], "dropped must map a layer to the unit numbers"),
])
def test_dropped_that_names_no_unit_is_an_export_error(dropped, message):
    with pytest.raises(cg.ExportError, match=re.escape(message)):
        cg.to_dot(layered([3, 4, 2]), style="network", dropped=dropped)


@pytest.mark.parametrize(
    ("node", "key", "value", "message"),
    [
        # set(range(10**30 + 1)) exhausted the memory (a file read by cg.load carries any metadata)
        ("yhat", "layer", 10**30, r"layers must be numbered 0..L with L >= 1; found \[0, 1, 1000000000000000000000000000000\]"),
        ("X", "layer", -1, r"numbered 0..L .*found \[-1, 1, 2\]"),
        ("W1", "weights", "s", r"node 'W1': 'weights' must be an int, not 's'"),  # int('s'): ValueError
        ("W1", "weights", 1.5, r"node 'W1': 'weights' must be an int, not 1.5"),  # read as layer 1
        ("z1", "layer_kind", ["x"], r"node 'z1': 'layer_kind' must be 'input', 'hidden' or 'output', not \['x'\]"),
    ],
)
def test_layer_metadata_that_is_no_layer_number_is_an_export_error(node, key, value, message):
    g = cg.nn.MLP([2, 3, 1], loss="bce").graph
    g.nx.nodes[node][key] = value
    with pytest.raises(cg.ExportError, match=message):
        cg.to_dot(g, style="network")


def test_a_caption_too_wide_for_its_column_goes_onto_two_lines():
    # a hand-made network's activation with a long name ran its caption into the next
    # layer's: "hidden 1 (leaky_relu_with_slope_0.01)" was one line over "input" and "hidden 2 (...)"
    g = layered([2, 3, 3, 1], values=False)
    for data in g.nx._node.values():
        if data.get("layer") in (1, 2):
            data["activation"] = "leaky_relu_with_slope_0.01" if data["layer"] == 1 else "softplus"
    for weights, fit in (("none", 16), ("symbol", 27)):  # the room between columns, in characters
        d = parsed(cg.to_dot(g, style="network", weights=weights))
        labels = {n.get_name(): n.get("label")[1:-1] for n in d.get_nodes() if re.fullmatch(r"c\d+", n.get_name())}
        lines = {c: [text(line) for line in label.split("<BR/>")] for c, label in labels.items()}
        assert lines["c1"][0] == "hidden 1" and lines["c1"][1].startswith("(leaky_relu") and lines["c1"][1].endswith("…)")
        assert all(len(line) <= fit for shown in lines.values() for line in shown), lines
        assert len(lines["c0"]) == 1 and len(lines["c3"]) == 1  # a caption that fits stays on one line
    assert lines["c2"] == ["hidden 2 (softplus)"]
    d = parsed(cg.to_dot(layered([2, 3, 3, 1]), style="network", weights="none"))  # as before: one line each
    assert all("<BR/>" not in n.get("label") for n in d.get_nodes() if re.fullmatch(r"c\d+", n.get_name()))
