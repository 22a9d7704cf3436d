"""The computation-graph convention, checked point by point on the DOT read back by pydot."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import numpy as np
import pydot
import pytest
from graphs import layered, lecture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cgraph as cg
from cgraph.export.computation import ADJOINT, HIGHLIGHT, HIGHLIGHT_FILL
from cgraph.export.render import run_dot

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")  # pyparsing, via pydot


def parsed(d: pydot.Dot) -> pydot.Dot:
    (back,) = pydot.graph_from_dot_data(d.to_string())
    return back


def boxes(d: pydot.Dot) -> dict[str, pydot.Node]:
    found = {n.get_name(): n for n in d.get_nodes() if re.fullmatch(r"n\d+", n.get_name())}
    for sub in d.get_subgraphs():
        found.update({k: v for k, v in boxes(sub).items() if v.get("label") is not None})
    return found


def all_edges(d: pydot.Dot) -> list[pydot.Edge]:
    return d.get_edges() + [e for s in d.get_subgraphs() for e in all_edges(s)]


def drawn(d: pydot.Dot) -> list[pydot.Edge]:
    """The visible edges at the top level (not the invisible ones that order the inputs)."""
    return [e for e in d.get_edges() if e.get("style") != "invis"]


def text(label: str | None) -> str:
    """The visible text of an HTML-like label."""
    label = label or ""
    if label.startswith("<") and label.endswith(">"):
        label = label[1:-1]
    return re.sub(r"<[^>]*>", "", label).replace("&#160;", " ").replace("\u2060", "").replace("\xa0", " ")


def inside(n: pydot.Node) -> str:
    """The visible text inside a box (the cell with port b of a named box)."""
    label = n.get("label") or ""
    m = re.search(r'<TD PORT="b"[^>]*>(.*?)</TD></TR>', label)
    return text(f"<{m.group(1)}>") if m else text(label)


def outside(n: pydot.Node) -> str | None:
    """The name written outside a box (the lower left cell of a named box), or None."""
    label = n.get("label") or ""
    m = re.search(r'<TR><TD ALIGN="LEFT" CELLPADDING="2">(.*?)</TD></TR><TR><TD PORT="b"', label) or re.search(
        r'<TR><TD ALIGN="RIGHT"[^>]*>(.*?)</TD><TD PORT="b"', label)
    return text(f"<{m.group(1)}>") if m else None


def test_lecture_graph_is_nine_boxes_and_twelve_unlabelled_edges():
    d = parsed(cg.to_dot(lecture()))
    nodes = boxes(d)
    assert len(nodes) == 9
    assert len(drawn(d)) == 12
    for e in drawn(d):
        assert e.get("label") is None and e.get("xlabel") is None and e.get("headlabel") is None
    assert d.get("rankdir") == "LR"
    shapes = {d.get_node_defaults()[0]["shape"]} | {n.get("shape") for n in nodes.values() if n.get("shape")}
    assert shapes == {"box", "plain"}  # a named box is a table around a bordered cell
    assert all('BORDER="1"' in n.get("label") for n in nodes.values() if n.get("shape") == "plain")


def test_function_inside_name_outside():
    d = parsed(cg.to_dot(lecture()))
    assert sorted(map(inside, boxes(d).values())) == sorted(["x", "z", "×", "ln", "sin", "exp", "÷", "÷", "+"])
    names = sorted(outside(n) for n in boxes(d).values() if outside(n))
    assert names == list("abcdefy")  # inputs show their own symbol inside and nothing outside


def test_names_are_part_of_their_node_and_edges_meet_the_box():
    # Graphviz places an xlabel after the layout, where nothing reserved room for it: it set
    # names on edges and on each other. A name in a cell of the node is laid out with it.
    for g, options in [(lecture(), {}), (lecture(), {"rankdir": "TB"}), (cg.adjoint(lecture()), {}),
                       (cg.parse("y = x*x"), {}), (cg.parse("y = add(a, b, c, d, e)"), {})]:
        d = parsed(cg.to_dot(g, **options))
        assert not any(n.get("xlabel") for n in boxes(d).values())
        named = {k for k, n in boxes(d).items() if outside(n)}
        assert named
        for e in all_edges(d):
            if e.get("style") == "invis":
                continue
            for end, port in ((e.get_source(), e.get("tailport")), (e.get_destination(), e.get("headport"))):
                assert (end in named) == (port or "").strip('"').startswith("b:"), (end, port)


def test_a_power_box_shows_no_letters_that_read_as_variables():
    g = cg.Graph()
    x, y = g.input("x"), g.input("y")
    g.output(cg.pow(x, y) + x**2, name="p")  # a box labelled "xʸ" would name the inputs x and y
    shown = sorted(map(inside, boxes(parsed(cg.to_dot(g))).values()))
    assert shown == sorted(["x", "y", "^", "^", "+"])


def test_sources_first_and_output_last():
    d = parsed(cg.to_dot(lecture()))
    ranks = {s.get("rank"): [n.get_name() for n in s.get_nodes()] for s in d.get_subgraphs()}
    assert ranks == {"min": ["n0", "n1"], "max": ["n8"]}


@pytest.mark.parametrize("rankdir", ["LR", "TB", "RL", "BT"])
def test_inputs_keep_their_order(rankdir):
    # x above z (left of z top to bottom), as the lecture writes xz: dot alone puts z first here
    d = cg.to_dot(lecture(), rankdir=rankdir)
    order = [(e.get_source(), e.get_destination()) for e in d.get_edges() if e.get("style") == "invis"]
    assert order == [("n0", "n1")]
    if shutil.which("dot"):
        plain = run_dot(d.to_string(), "plain").decode().splitlines()
        at = {p[1]: (float(p[2]), float(p[3])) for p in map(str.split, plain) if p[0] == "node"}
        assert at["n0"][1] > at["n1"][1] if rankdir in ("LR", "RL") else at["n0"][0] < at["n1"][0]


@pytest.mark.parametrize("rankdir, out, into", [("LR", "e", "w"), ("RL", "w", "e"), ("TB", "s", "n"), ("BT", "n", "s")])
def test_edges_leave_and_enter_boxes_on_the_sides_facing_the_flow(rankdir, out, into):
    # with LR's sides in every direction, an RL or BT edge left its box on the side facing away
    # from its user and entered the user on the side facing away from it: loops round every box
    for g in (lecture(), cg.adjoint(lecture())):
        d = parsed(cg.to_dot(g, rankdir=rankdir))
        defaults = d.get_edge_defaults()[0]
        assert (defaults["tailport"], defaults["headport"]) == (out, into)
        for e in all_edges(d):
            if e.get("style") != "invis":
                tail = (e.get("tailport") or out).strip('"').removeprefix("b:")
                head = (e.get("headport") or into).strip('"').removeprefix("b:")
                assert tail != into and head != out, (rankdir, e.to_string())


def test_a_long_name_is_cut_the_same_way_wherever_it_is_written():
    # inputs' boxes and the names written beside the boxes that read them were written whole:
    # a 60-character input made a box 5 inches wide, and a name read two ways in one drawing
    from cgraph.export.computation import NAME_LIMIT
    from cgraph.export.dot import math_name

    g = cg.Graph()
    long_input, long_named = "x" * 60, "intermediate_" * 5
    x = g.input(long_input)
    g.output(cg.sin(x).named(long_named) * x, name="y")
    for graph in (g, cg.adjoint(g)):
        src = cg.to_dot(graph).to_string()
        assert long_input not in src and long_named not in src
        cut = math_name(long_input, limit=NAME_LIMIT)
        assert len(text(f"<{cut}>")) == NAME_LIMIT and src.count(cut) >= (1 if graph is g else 3)
    assert math_name(long_named, limit=NAME_LIMIT) in src


def test_names_that_would_look_alike_are_written_as_spelled():
    # x1 and x_1 were both drawn x₁ (and their adjoints both g with x₁ below): two
    # boxes that read as one variable; now each is written as it is spelled
    from cgraph.export.dot import math, math_name

    g = cg.Graph()
    x1, x_1, z = g.input("x1"), g.input("x_1"), g.input("z")
    g.output((x1 * x_1).named("a") + z * cg.sin(x1), name="y")
    at = {"x1": 1.0, "x_1": 2.0, "z": 3.0}
    for src in (cg.to_dot(g, values=cg.evaluate(g, **at), adjoints=cg.grad(g, **at)).to_string(),
                cg.to_dot(cg.adjoint(g)).to_string()):
        assert math(math_name("x1")) not in src and math(math_name("g_x1", size=11)) not in src
        assert re.search(r"\bx1\b", src) and re.search(r"\bx_1\b", src) and "g_x1" in src and "g_x_1" in src
        assert math(math_name("z")) in src  # the others as before
    assert math(math_name("x1")) in cg.to_dot(cg.parse("y = x1*x_2")).to_string()  # no clash


def test_operand_order_of_non_commutative_ops_is_visible():
    g = cg.Graph()
    a, b = g.input("a"), g.input("b")
    g.output((b - a).named("d"))
    d = parsed(cg.to_dot(g))
    ports = {(e.get_source(), e.get_destination()): e.get("headport") for e in drawn(d)}
    # b (first) enters the usual way, a from below (into the box of the named node: port b)
    assert ports == {("n1", "n2"): '"b:w"', ("n0", "n2"): '"b:s"'}


def test_a_weight_matrix_hangs_off_the_flow():
    # W of X @ W enters from below with less weight than the flow, so X, @, +, tanh, @ ...
    # run straight instead of sinking a row at each layer
    d = parsed(cg.to_dot(layered([2, 3, 1])))
    side = [e for e in d.get_edges() if e.get("headport") in ("s", '"b:s"')]
    assert len(side) >= 2 and all(e.get("weight") == "1" for e in side)
    assert d.get_edge_defaults()[0]["weight"] == "2"


def test_repeated_operand_gives_parallel_edges():
    g = cg.Graph()
    x = g.input("x")
    g.output((x * x).named("y"))
    d = parsed(cg.to_dot(g))
    assert [(e.get_source(), e.get_destination()) for e in d.get_edges()] == [("n0", "n1"), ("n0", "n1")]
    assert "strict" not in d.to_string().split("{")[0]
    # through the same ports Graphviz draws two edges spanning several ranks as one line
    # (x + x + exp(sin(x))): the repeated operand enters again from below, then from above
    assert [e.get("headport") for e in d.get_edges()] == ['"b:w"', '"b:s"']
    g = cg.parse("y = add(x, x, exp(sin(x)))")
    assert [e.get("headport") for e in parsed(cg.to_dot(g)).get_edges()][-3:] == ['"b:w"', '"b:s"', '"b:w"']
    g = cg.parse("y = add(x, x, x)")
    assert [e.get("headport") for e in parsed(cg.to_dot(g)).get_edges()] == ['"b:w"', '"b:s"', '"b:n"']
    assert [e.get("headport") for e in parsed(cg.to_dot(g, rankdir="TB")).get_edges()] == ['"b:n"', '"b:e"', '"b:w"']
    ga = cg.adjoint(cg.parse("y = x*x"))  # the same in the forward part of an adjoint graph
    ports = [e.get("headport") for e in all_edges(parsed(cg.to_dot(ga))) if e.get("color") == '"#9a9a9a"']
    assert ports == ['"b:w"', '"b:s"']


def test_many_operands_do_not_share_one_port():
    # four or more curves converging on one point tangle; "_" lets Graphviz spread them
    g = cg.Graph()
    xs = [g.input(f"x{i}") for i in range(1, 7)]
    g.output(cg.add(*xs).named("s"))
    d = parsed(cg.to_dot(g))
    assert [e.get("headport") for e in drawn(d)] == ['"b:_"'] * 6
    d = parsed(cg.to_dot(lecture()))  # the lecture's d + e + f keeps the usual port
    assert all(e.get("headport") in ('"b:w"', '"b:s"') for e in drawn(d))


def test_a_chain_with_constants_runs_straight():
    # a constant's arrow weighs less than an edge of the chain, so x*2, sin, *2, ... is not
    # drawn as a staircase sinking half a row at each constant
    g = cg.Graph()
    t = g.input("x")
    for i in range(8):
        t = cg.sin(t) if i % 2 else t * 1.01
    g.output(t.named("y"))
    d = parsed(cg.to_dot(g))
    assert d.get_edge_defaults()[0]["weight"] == "2"
    refs = [e for e in d.get_edges() if e.get_source().startswith("r")]
    assert len(refs) == 4 and all(e.get("weight") == "1" for e in refs)
    if shutil.which("dot"):
        plain = run_dot(d.to_string(), "plain").decode()
        heights = {line.split()[3] for line in plain.splitlines() if re.match(r"node n\d+ .* box ", line)}
        assert len(heights) == 1  # (the named y at the end is a table: its box sits off its centre)


def test_an_attribute_shows_a_real_minus_sign():
    d = cg.to_dot(cg.parse("y = sum(x, axis=-1)")).to_string()
    assert "axis=−1" in d and "axis=-1" not in d
    # and so does a number in a tuple: reshape's shape=(-1, 1) beside sum's axis=−1
    d = cg.to_dot(cg.parse("y = reshape(x, shape=(-1, 1))\nz = slice(y, start=-2, axis=-1)")).to_string()
    assert "shape=(−1, 1)" in d and "start=−2" in d and "-1" not in d


def test_values_are_shown_in_the_boxes():
    g = lecture()
    d = cg.to_dot(g, values=cg.evaluate(g, x=2.0, z=3.0))
    labels = {outside(n): inside(n) for n in boxes(parsed(d)).values()}
    assert labels["y"] == "+412.2" and labels["a"] == "×6" and labels["b"] == "ln0.6931"


def test_weights_features_labels_and_bias_are_nodes():
    g = layered([2, 3, 1])
    d = parsed(cg.to_dot(g))
    shown = [inside(n) for n in boxes(d).values()]
    for name in ("X", "Y", "W1", "b1", "W2", "b2"):
        assert any(t.startswith(name[0]) and t.endswith(name[1:]) for t in shown), name
    assert "loss" in [outside(n) for n in boxes(d).values()]


def test_adjoint_graph_two_parts_mirrored():
    g = lecture()
    ga = cg.adjoint(g)
    d = parsed(cg.to_dot(ga, values=cg.evaluate(ga, x=2.0, z=3.0)))
    assert d.get("newrank") == "true"
    clusters = {s.get_name(): s for s in d.get_subgraphs() if s.get_name().startswith("cluster")}
    assert set(clusters) == {"cluster_adjoint", "cluster_forward"}
    names = {outside(n): n for n in boxes(d).values() if outside(n)}
    assert {"ga", "gb", "gx", "gz", "gy"} <= set(names)  # g_a written with a real subscript
    assert names["ga"].get("color") == f'"{ADJOINT}"' and names["a"].get("color") != f'"{ADJOINT}"'
    assert "404.9" in inside(names["ga"])
    same = [sorted(n.get_name() for n in s.get_nodes()) for s in d.get_subgraphs() if s.get("rank") == "same"]
    assert len(same) == 9  # every g_n shares the column of n
    backwards = [e for e in all_edges(d) if e.get("dir") == "back"]
    assert backwards and all(e.get("color") in (f'"{ADJOINT}"', '"#c0c0c0"') for e in backwards)


def test_a_simplified_gradient_keeps_its_two_parts_apart():
    # simplify builds new nodes without the adjoint mark (t29 = g_b/x, t26 = -(a/b^2) feeding
    # g_b); they were drawn among the forward boxes and pulled the two parts into each other
    ga = cg.simplify(cg.adjoint(lecture()))
    d = parsed(cg.to_dot(ga))
    clusters = {s.get_name(): s for s in d.get_subgraphs() if s.get_name().startswith("cluster")}
    forward = {outside(n) or inside(n) for n in boxes(clusters["cluster_forward"]).values()}
    assert forward == set("xzabcd")
    grey = [e for e in all_edges(d) if e.get("color") == '"#9a9a9a"']
    assert len(grey) == 5  # x -> a, z -> a, x -> b, b -> c, a -> d: no forward edge into the adjoint part


def test_second_adjoint_falls_back_to_a_plain_layout():
    g = cg.Graph()
    x = g.input("x")
    g.output(cg.sin(x * x, name="y"))
    gg = cg.adjoint(cg.adjoint(g), of="g_x")
    text_ = cg.to_dot(gg).to_string()
    assert "digraph" in text_  # whatever the layout, it is drawable (checked through dot below)


@pytest.mark.parametrize("mode", ["inline", "boxes", "hide"])
def test_constants(mode):
    g = cg.Graph()
    x = g.input("x")
    g.output((2 * x + 2).named("y"))
    d = parsed(cg.to_dot(g, constants=mode))
    n_boxes = len(boxes(d))
    plain = [n for n in d.get_nodes() if n.get("shape") == "plaintext"]
    assert (n_boxes, len(plain)) == {"inline": (3, 2), "boxes": (4, 0), "hide": (3, 0)}[mode]


def test_highlight_and_adjoint_annotations():
    g = lecture()
    d = parsed(cg.to_dot(g, adjoints={"a": 404.9, "b": None}, highlight=["a"], highlight_edges=[("a", "d")]))
    by_name = {outside(n): n for n in boxes(d).values()}
    assert "ga = 404.9" in inside(by_name["a"])
    assert inside(by_name["b"]).endswith("gb")
    assert f'BGCOLOR="{HIGHLIGHT_FILL}"' in by_name["a"].get("label")
    hot = [e for e in d.get_edges() if e.get("color") == f'"{HIGHLIGHT}"']
    assert len(hot) == 1


def test_highlight_takes_one_name_as_a_string_and_rejects_names_not_in_the_graph():
    g = cg.adjoint(lecture(), wrt=["x"])
    d = parsed(cg.to_dot(g, highlight="g_a"))  # one name, not the letters g, _ and a
    hot = [n for n in boxes(d).values() if f'BGCOLOR="{HIGHLIGHT_FILL}"' in (n.get("label") or "")]
    assert [outside(n) for n in hot] == ["ga"]
    with pytest.raises(cg.ExportError, match="highlight: 'q' is not a node"):
        cg.to_dot(g, highlight=["q"])
    with pytest.raises(cg.ExportError, match=r"highlight_edges: \('x', 'y'\) is not an edge"):
        cg.to_dot(g, highlight_edges=[("x", "y")])
    # None is nothing highlighted, as for the other options; a number is an ExportError (both
    # were Python's TypeError: 'NoneType' object is not iterable)
    assert cg.to_dot(g, highlight=None, highlight_edges=None).to_string() == cg.to_dot(g).to_string()
    for bad in ({"highlight": 1}, {"highlight_edges": 1}, {"highlight": [["a"]]}):
        with pytest.raises(cg.ExportError, match="highlight= takes a node name or a list of names"):
            cg.to_dot(g, **bad)


def test_bad_options_raise_export_error():
    with pytest.raises(cg.ExportError, match="rankdir"):
        cg.to_dot(lecture(), rankdir="XY")
    with pytest.raises(cg.ExportError, match="constants"):
        cg.to_dot(lecture(), constants="some")
    with pytest.raises(cg.ExportError, match="style"):
        cg.to_dot(lecture(), style="fancy")
    with pytest.raises(cg.ExportError, match="no option 'weights'"):
        cg.to_dot(lecture(), weights="value")


@pytest.mark.parametrize("options, message", [
    ({"precision": -3}, "precision must be an int >= 0, not -3"),
    ({"precision": "a"}, "precision must be an int >= 0, not 'a'"),
    ({"precision": 2.5}, "precision must be an int >= 0, not 2.5"),
    ({"values": 5}, "values must be a mapping from node names to values"),
    ({"adjoints": [1.0]}, "adjoints must be a mapping from node names to values"),
    ({"notes": ["a"]}, "notes must be a mapping from node names to values"),  # was an AttributeError
    ({"max_chain": "24"}, "max_chain must be None or an int >= 1, not '24'"),
    ({"max_chain": 0}, "max_chain must be None or an int >= 1, not 0"),
    ({"pending": 3}, "pending= takes a node name or a list of names, not 3"),  # was a TypeError
])
def test_bad_value_options_raise_export_error(options, message):
    with pytest.raises(cg.ExportError, match=re.escape(message)):
        cg.to_dot(lecture(), **options).to_string()


def test_a_note_that_is_a_number_or_an_array_is_written_as_a_value():
    # notes={"a": np.array(...)} raised numpy's "truth value of an array is ambiguous" and a note of 0 was left out
    g = lecture()
    dot = cg.to_dot(g, notes={"a": np.array([0.5, np.nan]), "b": 0, "c": "", "d": np.zeros((30, 2))}).to_string()
    assert "[0.5, nan&#93;" in dot and "array 30×2" in dot
    assert re.search(r'<FONT POINT-SIZE="10">0</FONT>', dot)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@pytest.mark.parametrize("rankdir", ["LR", "TB"])
def test_the_title_of_an_adjoint_drawing_is_drawn_once(rankdir):
    # the two parts are clusters, and a cluster without a label of its own shows the graph's:
    # the title was drawn three times
    ga = cg.adjoint(lecture())
    svg = run_dot(cg.to_dot(ga, title="Backprop on the lecture", rankdir=rankdir).to_string(), "svg").decode()
    assert svg.count("Backprop on the lecture") == 1


def test_same_graph_same_bytes_across_processes():
    code = (
        "import sys; sys.path[:0] = ['.', 'tests']\n"
        "import cgraph as cg; from graphs import lecture\n"
        "g = lecture(); ga = cg.adjoint(g)\n"
        "print(cg.to_dot(ga, values=cg.evaluate(ga, x=2.0, z=3.0)).to_string())\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    outs = {
        subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True,
                       env={**os.environ, "PYTHONHASHSEED": seed}).stdout
        for seed in ("0", "1", "12345")
    }
    assert len(outs) == 1


def test_attributes_are_sorted():
    for line in cg.to_dot(lecture()).to_string().splitlines():
        m = re.search(r"\[(.*)\];$", line)
        if m and "<" not in m.group(1):
            keys = [kv.split("=")[0].strip() for kv in m.group(1).split(", ")]
            assert keys == sorted(keys), line


def test_long_chain_is_fast_and_iterative():
    g = cg.Graph()
    h = g.input("x")
    for _ in range(10_000):
        h = cg.sin(h)
    g.output(h)
    d = cg.to_dot(g, max_chain=None)
    assert len(boxes(d)) == 10_001
    assert len(d.get_edges()) == 10_000


def test_a_long_chain_shows_its_ends_around_one_box_for_the_rest():
    # 3000 boxes in a row drew a PNG Graphviz had to shrink past 32,767 pixels
    g = cg.Graph()
    h = g.input("x")
    for i in range(3000):
        h = cg.sin(h) if i % 2 else h * 1.01
    g.output(h, name="y")
    d = parsed(cg.to_dot(g))
    (gap,) = [n for n in d.get_nodes() if n.get_name() == "e0"]
    assert text(gap.get("label")) == "⋯ 2983 more" and gap.get("style") == "dashed"
    assert len(boxes(d)) == 1 + 8 + 8 + 1  # x, the first and last 8 of the 2999 unnamed boxes, y
    into, out = ([e for e in d.get_edges() if e.get_destination() == "e0"],
                 [e for e in d.get_edges() if e.get_source() == "e0"])
    assert len(into) == len(out) == 1 and out[0].get_destination() in boxes(d)
    assert sum(bool(re.fullmatch(r"n\d+", n.get_name())) for n in cg.to_dot(g, max_chain=5000).get_nodes()) == 3001
    # named boxes, a highlighted one or a second operand end a chain: nothing the reader named is hidden
    g = cg.Graph()
    h = g.input("x")
    for i in range(60):
        h = cg.sin(h, name=f"s{i}") if i == 30 else cg.sin(h)
    g.output(h, name="y")
    names = [outside(n) for n in boxes(parsed(cg.to_dot(g, max_chain=24))).values()]
    assert "s30" in names
    assert len(boxes(parsed(cg.to_dot(g, max_chain=24, highlight=["t5"])))) > len(names)


OPS_2 = ["add", "mul", "sub", "div"]
OPS_1 = ["sin", "exp", "neg", "tanh", "square"]


@st.composite
def random_graphs(draw):
    """A random DAG: node k only uses earlier nodes (duplicates allowed, as in x*x)."""
    g = cg.Graph("random")
    nodes = [g.input(f"x{i}") for i in range(draw(st.integers(1, 3)))]
    for _ in range(draw(st.integers(1, 12))):
        if draw(st.booleans()):
            op, args = draw(st.sampled_from(OPS_2)), draw(st.lists(st.sampled_from(nodes), min_size=2, max_size=2))
        else:
            op, args = draw(st.sampled_from(OPS_1)), [draw(st.sampled_from(nodes))]
        if draw(st.booleans()):
            args = [*args[:-1], 2] if op in OPS_2 else args
        nodes.append(g.apply(op, *args, name=draw(st.sampled_from([None, None, f"v{len(nodes)}"]))))
    g.output(nodes[-1])
    return g


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_graphs(), st.booleans(), st.sampled_from(["LR", "TB"]))
def test_random_graphs_and_their_adjoints_always_render(g, second, rankdir):
    ga = cg.adjoint(g)
    if second:
        ga = cg.adjoint(ga, of=ga.outputs[0])
    for graph in (g, ga):
        d = cg.to_dot(graph, rankdir=rankdir)
        svg = run_dot(d.to_string(), "svg").decode()
        drawn = len(re.findall(r'class="node"', svg))
        assert drawn == len(boxes(parsed(d))) + sum(1 for n in d.get_nodes() if n.get("shape") == "plaintext") + sum(
            1 for s in d.get_subgraphs() for n in s.get_nodes() if n.get("shape") == "plaintext")


def test_the_mirror_check_agrees_with_networkx():
    import networkx as nx

    from cgraph.export.computation import _mirror_ok

    def reference(g, shown):
        h = nx.DiGraph()
        same = {n: g.nx.nodes[n].get("adjoint_of") for n in shown}
        rep = {n: (of if of in shown and not g.nx.nodes[of].get("adjoint") else n) for n, of in same.items()}
        for u, v in g.nx.edges():
            if u not in shown or v not in shown:
                continue
            au, av = g.nx.nodes[u].get("adjoint"), g.nx.nodes[v].get("adjoint")
            if av and not au:
                continue
            a, b = (rep[v], rep[u]) if av else (rep[u], rep[v])
            if a == b:
                return False
            h.add_edge(a, b)
        return nx.is_directed_acyclic_graph(h)

    g = lecture()
    seen = set()
    for h in (g, cg.adjoint(g), cg.adjoint(cg.adjoint(g, wrt=["x"])), cg.simplify(cg.adjoint(g)),
              cg.adjoint(cg.parse("y = x*x*sin(x) + exp(-x)")), cg.adjoint(cg.adjoint(cg.parse("y = x*x")))):
        for shown in (list(h.nx), [n for n in h.nx if h.nx.nodes[n]["role"] != "const"]):
            shown = {n: n for n in shown}
            expected = reference(h, shown)
            assert _mirror_ok(h, shown) == expected
            seen.add(expected)
    assert seen == {True, False}


def test_a_value_under_a_subscripted_name_does_not_touch_its_subscript():
    # Graphviz makes no room for a <SUB>: the value line sat on the 1 of x₁ (and on w₁,₂⁽¹⁾'s indices)
    from cgraph.export.computation import SPACER

    g = cg.parse("y = x_1*z")
    d = cg.to_dot(g, values=cg.evaluate(g, x_1=2.0, z=3.0))
    labels = [n.get("label") for n in boxes(d).values()]
    (x1,) = [t for t in labels if "<I>x</I><SUB>" in t]
    (z,) = [t for t in labels if "<I>z</I>" in t]
    assert "</SUB></FONT>" + SPACER in x1
    assert SPACER not in z  # a name without a subscript keeps its plain line break


def test_a_name_of_t_and_a_superscript_is_the_users_own():
    # a generated name is t and decimal digits, as the printers and simplify tell it; the
    # diagram took str.isdigit, which also holds for "²", and hid the user's name t²
    g = cg.Graph()
    x = g.input("x")
    g.output(cg.sin(x, name="t²") * 2.0, name="y")
    names = sorted(outside(n) for n in boxes(parsed(cg.to_dot(g))).values() if outside(n))
    assert len(names) == 2 and "y" in names


def test_highlight_takes_node_handles_as_well_as_names():
    # it said "highlight: <Node 'x': input> is not a node of graph 'graph'"
    g = cg.parse("y = x*z")
    x, y = g.node("x"), g.node("y")
    by_name = cg.to_dot(g, highlight=["x"], highlight_edges=[("x", "y")]).to_string()
    assert cg.to_dot(g, highlight=[x], highlight_edges=[(x, y)]).to_string() == by_name
    assert cg.to_dot(g, highlight=x, highlight_edges=[(x, "y")]).to_string() == by_name
    with pytest.raises(cg.GraphError, match="highlight: node 'x' belongs to another graph"):
        cg.to_dot(g, highlight=[cg.parse("y = x*z").node("x")])


def test_adjoints_keyed_by_the_adjoint_graphs_names_are_an_export_error():
    # adjoints={"g_a": ...} drew nothing, and adjoints=cg.evaluate(ga) drew each forward
    # value as its own adjoint ('g_a = 6' in the box of a = 6), silently
    g = lecture()
    vals = cg.evaluate(cg.adjoint(g), x=2.0, z=3.0)
    for adjoints in ({"g_a": 404.9}, dict(vals), {"g2_x": 1.0}):
        with pytest.raises(cg.ExportError, match=r"^adjoints: 'g2?_[a-z]' is the adjoint graph's name for the adjoint "
                                                 r"of '[a-z]'; adjoints= is keyed by the forward node \(\{'[a-z]': value\}\)"):
            cg.to_dot(g, adjoints=adjoints)
    # names of no node otherwise stay allowed (one mapping, several graphs), and so do g_ names
    # where the graph has them (an adjoint graph drawn with the adjoints of its own adjoints)
    assert "404.9" in cg.to_dot(g, adjoints={"a": 404.9, "q": 1.0, "g_q": 2.0}).to_string()
    ga = cg.adjoint(g)
    assert cg.to_dot(ga, adjoints={"g_a": 1.25}).to_string().count("1.25") == 1


def test_operand_order_of_a_three_operand_op_is_visible():
    # matmul_grad(g, a, b) of an adjoint graph: g enters the usual way, a from below, b at the
    # corner away from the name; all three came in from the left, a and b indistinguishable
    g = cg.parse("y = matmul_grad(u, a, b)")
    assert g.nx.nodes["y"]["op"] == "matmul_grad"
    heads = {e.get_source(): e.get("headport") for e in drawn(parsed(cg.to_dot(g)))}
    assert heads == {"n0": '"b:w"', "n1": '"b:s"', "n2": '"b:ne"'}
    heads = {e.get_source(): e.get("headport") for e in drawn(parsed(cg.to_dot(g, rankdir="TB")))}
    assert heads == {"n0": '"b:n"', "n1": '"b:e"', "n2": '"b:nw"'}
    ga = cg.adjoint(cg.parse("y = sum(tanh(x @ W))"))  # in the adjoint part: ports at the adjoint's box
    d = cg.to_dot(ga).to_string()
    assert d.count('tailport="b:ne"') == 2 and d.count('tailport="b:s"') >= 2
