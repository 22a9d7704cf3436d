"""The IR: roles, names, shapes, operand order, validation, rename, copy, scale."""

from __future__ import annotations

import re
import sys
from fractions import Fraction

import numpy as np
import pytest
from graphs import lecture

import cgraph as cg


# ---------------------------------------------------------------- building
def test_roles_and_name_lists_in_creation_order():
    g = cg.Graph()
    z, x = g.input("z"), g.input("x")
    W = g.param("W", shape=(2,))
    g.param("b", value=[1.0, 2.0])
    two = g.const(2)
    y = g.output(x * W + two * z, name="y")
    assert (g.inputs, g.params, g.outputs) == (["z", "x"], ["W", "b"], ["y"])
    assert [g.node(n).role for n in ("z", "W", two.name, y.name)] == ["input", "param", "const", "op"]
    assert g.nx.nodes["y"]["op"] == "add" and "order" in g.nx.nodes["y"]
    assert g.attrs("b")["value"].dtype == np.float64


def test_lecture_graph_has_nine_nodes_and_twelve_edges():
    g = lecture()
    assert list(g.schedule()) == ["x", "z", "a", "b", "c", "d", "e", "f", "y"]
    assert g.nx.number_of_edges() == 12
    assert g.operands("y") == ("d", "e", "f") and sorted(g.users("a")) == ["d", "e", "f"]
    assert float(cg.evaluate(g, x=2, z=3)["y"]) == 412.19145728412116


def test_x_times_x_is_two_edges_keyed_by_position():
    g = cg.Graph()
    x = g.input("x")
    y = x * x
    assert sorted(k for _, _, k in g.nx.in_edges(y.name, keys=True)) == [0, 1]
    assert g.operands(y.name) == ("x", "x") and g.users("x") == [y.name]


def test_operand_order_comes_from_edge_keys_not_insertion_order():
    g = cg.Graph()
    a, b = g.input("a"), g.input("b")
    d = g.apply("sub", a, b, name="d")
    g.nx.remove_edges_from([("a", "d", 0), ("b", "d", 1)])
    g.nx.add_edge("b", "d", key=1)
    g.nx.add_edge("a", "d", key=0)
    g._touch()
    assert g.operands("d") == ("a", "b")
    assert float(cg.evaluate(g, a=5.0, b=2.0)[d.name]) == 3.0


def test_operators_and_number_promotion():
    g = cg.Graph()
    x = g.input("x")
    ops = {
        "add": x + 1,
        "sub": 2 - x,
        "mul": 3 * x,
        "div": x / 4,
        "pow": x**2,
        "neg": -x,
        "matmul": x @ x,
    }
    for op, node in ops.items():
        assert node.op == op
    assert +x is x and x.T.op == "transpose"
    assert [o.role for o in ops["sub"].operands] == ["const", "input"]
    assert (2 * x).operands[0] == (x * 2).operands[1]  # unnamed constants are shared
    assert np.float64(2.0) * x is not None and (np.float64(2.0) * x).op == "mul"
    with pytest.raises(cg.GraphError, match="cannot use True"):
        x + True
    with pytest.raises(cg.GraphError, match="cannot use 'nope'"):
        x + "nope"
    # a list is refused, as JAX and PyTorch refuse it, with the way to write the constant
    with pytest.raises(cg.GraphError, match=r"cannot use \[1, 2\] \(list\) .*; for an array constant use np\.array"):
        x + [1, 2]
    h = cg.Graph("h")
    with pytest.raises(cg.GraphError, match="belongs to graph 'h'"):
        x + h.input("x")


def test_constants_keep_their_exact_type():
    g = cg.Graph()
    values = [g.const(v).attrs["value"] for v in (7, Fraction(1, 3), Fraction(4, 2), 2.5, np.float32(0.5), np.int64(3))]
    assert values == [7, Fraction(1, 3), 2, 2.5, 0.5, 3]
    assert [type(v) for v in values] == [int, Fraction, int, float, float, int]
    arr = g.const([1, 2]).attrs["value"]
    assert arr.dtype == np.float64 and g.const(np.zeros((2, 3))).shape == (2, 3)
    for bad in (True, None, 1j, "2", [1j]):
        with pytest.raises(cg.GraphError, match=r"^a constant: .* is not a real number or array$"):
            g.const(bad)
    with pytest.raises(cg.GraphError, match="^constant 'c': 1j is not"):
        g.const(1j, name="c")


def test_shapes_with_a_batch_dimension():
    g = cg.Graph()
    X = g.input("X", shape=(None, 2))
    W = g.param("W", shape=(2, 3))
    b = g.param("b", shape=3)
    h = cg.tanh(X @ W + b)
    assert X.shape == (None, 2) and b.shape == (3,) and h.shape == (None, 3)
    assert cg.sum(h, axis=1).shape == (None,) and cg.mean(h).shape == ()
    assert g.input("u").shape is None and (g.node("u") * h).shape is None
    with pytest.raises(cg.ShapeError, match="node 'bad' \\(matmul\\) of 'W' \\(2, 3\\), 'W' \\(2, 3\\)"):
        g.apply("matmul", W, W, name="bad")
    with pytest.raises(cg.ShapeError, match="do not broadcast"):
        h + g.param("c", shape=(4,))
    for bad in ((2, -1), (2, 1.5), "ab", (True,)):
        with pytest.raises(cg.ShapeError, match="'v'"):
            cg.Graph().input("v", shape=bad)
    with pytest.raises(cg.ShapeError, match="does not match shape"):
        g.param("P", shape=(2,), value=np.ones(3))


def test_names_are_unique_and_lookups_name_the_missing_node():
    g = lecture()
    with pytest.raises(cg.GraphError, match="already has a node named 'x'"):
        g.input("x")
    with pytest.raises(cg.GraphError, match="already has a node named 'a'"):
        g.node("b").named("a")
    with pytest.raises(cg.GraphError, match="non-empty string"):
        g.input("")
    with pytest.raises(cg.NodeNotFoundError, match="has no node 'Y'; did you mean 'y'"):
        g.node("Y")
    assert "y" in g and "Y" not in g and len(g) == 9 and list(g) == list(g.schedule())
    assert "9 nodes" in repr(g) and repr(g.node("a")) == "<Node 'a' = mul(x, z)>"


def test_generated_names_are_short_and_skip_taken_ones():
    g = cg.Graph()
    g.input("t1")
    x = g.input("x")
    assert (x + 1).name == "t3"  # t2 is the constant 1


# ---------------------------------------------------------------- validation
def test_validate_returns_the_graph():
    g = lecture()
    assert g.validate() is g


def test_validate_finds_cycles_and_names_them():
    g = cg.Graph()
    x = g.input("x")
    a = cg.add(x, x, name="a")
    b = cg.sin(a, name="b")
    g.nx.remove_edge("x", "a", key=1)
    g.nx.add_edge(b.name, "a", key=1)
    g._touch()
    with pytest.raises(cg.CycleError, match="has a cycle: (a -> b -> a|b -> a -> b)") as info:
        g.validate()
    assert set(info.value.cycle) == {("a", "b"), ("b", "a")}


def test_validate_finds_unknown_ops():
    g = lecture()
    g.nx.nodes["c"]["op"] = "frob"
    g._touch()
    with pytest.raises(cg.UnknownOpError, match="node 'c': unknown op 'frob'"):
        g.validate()


@pytest.mark.parametrize("call", [
    lambda g: cg.grad(g, x=2.0, z=3.0), lambda g: cg.adjoint(g), lambda g: cg.simplify(g), lambda g: cg.expand(g),
    lambda g: cg.to_text(g), lambda g: cg.to_latex(g), lambda g: cg.compile(g), lambda g: cg.dumps(g),
    lambda g: cg.check_gradients(g, x=2.0, z=3.0), lambda g: cg.to_dot(g), lambda g: cg.evaluate(g, x=2.0, z=3.0),
], ids=["grad", "adjoint", "simplify", "expand", "to_text", "to_latex", "compile", "dumps", "check", "to_dot",
        "evaluate"])
def test_an_op_renamed_through_nx_to_an_unknown_op_is_named_by_every_pass(call):
    # node data is not part of the graph's change stamp, so a graph built through the API
    # stayed marked valid, and every pass but evaluate met the name as a bare KeyError 'frob'
    # (docs/errors.md: an unknown op from "an edited g.nx" is an UnknownOpError)
    g = lecture()
    g.nx.nodes["c"]["op"] = "frob"
    with pytest.raises(cg.UnknownOpError, match="node 'c': unknown op 'frob'"):
        call(g)
    g.nx.nodes["c"]["op"] = ["sin"]  # unhashable
    with pytest.raises(cg.UnknownOpError, match="node 'c': unknown op \\['sin'\\]"):
        call(g)


def test_validate_finds_wrong_arity_and_port_gaps():
    g = lecture()
    g.nx.remove_edge("b", "e", key=1)
    g._touch()
    with pytest.raises(cg.ArityError, match="node 'e' \\(div\\) takes 2 operand\\(s\\), got 1"):
        g.validate()
    g = lecture()
    g.nx.remove_edge("e", "y", key=1)
    g.nx.add_edge("e", "y", key=3)
    g._touch()
    with pytest.raises(cg.ArityError, match="node 'y' \\(add\\): operand ports \\[0, 2, 3\\] are not 0..2"):
        g.validate()
    g = lecture()
    g.nx.add_edge("z", "x", key=0)
    g._touch()
    with pytest.raises(cg.ArityError, match="node 'x': a input node takes no operands"):
        g.validate()


def test_validate_finds_bad_roles_and_shape_mismatches():
    g = lecture()
    g.nx.nodes["a"]["role"] = "input"
    g._touch()
    with pytest.raises(cg.GraphError, match="node 'a': an mul node must have role 'op'"):
        g.validate()
    g = cg.Graph()
    X = g.input("X", shape=(None, 2))
    g.output(X @ g.param("W", shape=(2, 3)), name="y")
    g.nx.nodes["W"]["shape"] = (4, 3)
    g._touch()
    with pytest.raises(cg.ShapeError, match="node 'y' \\(matmul\\) of 'X' \\(None, 2\\), 'W' \\(4, 3\\)"):
        g.validate()


def test_duplicate_names_cannot_arise():
    g = cg.Graph()
    g.input("x")
    with pytest.raises(cg.GraphError, match="'x'"):
        g.param("x")
    with pytest.raises(cg.GraphError, match="'x'"):
        g.const(1.0, name="x")


# ---------------------------------------------------------------- rename and copy
def test_rename_keeps_edges_order_and_output():
    g = lecture()
    g.rename("a", "xz")
    g.rename("y", "out")
    assert g.operands("e") == ("xz", "b") and g.outputs == ["out"]
    assert list(g.schedule()) == ["x", "z", "xz", "b", "c", "d", "e", "f", "out"]
    assert float(cg.evaluate(g, x=2, z=3)["out"]) == 412.19145728412116
    assert g.rename("b", "b").name == "b"


def test_copy_is_independent():
    g = lecture()
    h = g.copy(name="copy")
    h.rename("a", "xz")
    h.nx.nodes["x"]["attrs"]["note"] = 1
    h.nx.nodes["c"]["layer"] = 3
    cg.exp(h.node("y"), name="extra")
    h.set_outputs(["extra"])
    assert h.name == "copy" and g.name == "lecture"
    assert "a" in g and "xz" not in g and "extra" not in g and g.outputs == ["y"]
    assert "note" not in g.attrs("x") and "layer" not in g.nx.nodes["c"]
    assert len(g.schedule()) == 9 and len(h.schedule()) == 10
    assert (h.node("y") + 1).name not in g


def test_set_outputs_checks_names():
    g = lecture()
    g.set_outputs(["e", "f", "e"])
    assert g.outputs == ["e", "f"]
    with pytest.raises(cg.NodeNotFoundError):
        g.set_outputs(["nope"])
    # a string is one name (it was read letter by letter: "no node 'c'" for "ce"), and None
    # or a number a GraphError, not Python's "'NoneType' object is not iterable"
    g.set_outputs("f")
    assert g.outputs == ["f"]
    with pytest.raises(cg.NodeNotFoundError, match="no node 'ef'"):
        g.set_outputs("ef")
    for bad in (None, 3):
        with pytest.raises(cg.GraphError, match="set_outputs takes a list of node names"):
            g.set_outputs(bad)
    assert g.outputs == ["f"]
    g.set_outputs([g.node("e"), "f"])  # handles, as g.output takes them
    assert g.outputs == ["e", "f"]
    g.set_outputs(g.node("d"))
    assert g.outputs == ["d"]


def test_a_param_value_that_numpy_cannot_read_is_a_graph_error():
    # a ragged list raised numpy's ValueError (inhomogeneous shape)
    with pytest.raises(cg.GraphError, match="param 'p': value \\[\\[1\\], \\[1, 2\\]\\] is not an array of real numbers"):
        cg.Graph().param("p", value=[[1], [1, 2]])


# ---------------------------------------------------------------- scale
def test_a_100000_node_chain_without_recursion():
    limit = sys.getrecursionlimit()
    g = cg.Graph("chain")
    h = g.input("x")
    for _ in range(100_000):
        h = cg.sin(h)
    g.output(h)
    sys.setrecursionlimit(300)  # nothing may recurse per node
    try:
        g.validate()
        value = cg.evaluate(g, x=1.0)[h.name]
        order = g.schedule()
        copy = g.copy()
    finally:
        sys.setrecursionlimit(limit)
    assert len(order) == 100_001 and order[0] == "x" and order[-1] == h.name and len(copy) == 100_001
    assert 0 < value < 0.01  # sin iterated shrinks slowly towards 0


def test_output_names_an_op_node_but_never_renames_an_input():
    g = cg.Graph()
    x = g.input("x")
    y = g.output(x, name="y")
    assert g.inputs == ["x"] and y.op == "identity" and g.outputs == ["y"]
    t = g.output(cg.sin(x), name="s")
    assert t.name == "s" and t.op == "sin" and g.outputs == ["y", "s"]


def test_shared_constants_keep_the_sign_of_zero():
    g = cg.Graph()
    x = g.input("x")
    g.output(1 / (x * 0.0) + 1 / (x * -0.0), name="y")
    assert np.isnan(cg.evaluate(g, x=1.0, nonfinite="propagate")["y"])  # inf + -inf, not inf + inf
    assert (x * 2.0).operands[1] == (x * 2.0).operands[1]


@pytest.mark.parametrize("zero", [np.float64, float])
def test_numpy_float_zeros_keep_their_sign_as_shared_constants(zero):
    # np.float64 is a float subclass: it was stored as itself and keyed by value, so
    # x*np.float64(0.0) reused the constant -0.0 of x*np.float64(-0.0) (1/(x*0.0) = -inf)
    g = cg.Graph()
    x = g.input("x")
    neg, pos = x * zero(-0.0), x * np.float64(0.0)
    assert neg.operands[1].name != pos.operands[1].name
    g.output(1 / pos, name="y")
    assert cg.evaluate(g, x=1.0, nonfinite="propagate")["y"] == np.inf
    assert type(pos.operands[1].attrs["value"]) is float  # a Python float, as the IR has it


def test_a_graph_built_through_the_api_is_valid_without_a_second_check(monkeypatch):
    import cgraph.graph as graph_module

    g = lecture()
    h = g.copy()
    h.rename("a", "a2")
    h.output(h["a2"])

    def refuse(*args):
        raise AssertionError("validate re-checked a node that was checked as it was built")

    monkeypatch.setattr(graph_module, "check_node", refuse)
    assert g.validate() is g and h.validate() is h
    # a change behind the API's back is checked again
    h.nx.add_edge("y", "x", key=0)
    with pytest.raises(AssertionError, match="re-checked"):
        h.validate()


def test_a_copy_of_an_unchecked_graph_is_checked():
    g = lecture()
    g.nx.nodes["c"]["op"] = "frob"
    g._touch()
    with pytest.raises(cg.UnknownOpError, match="node 'c'"):
        g.copy().validate()


def test_edges_share_one_read_only_data_dict():
    g = lecture()
    datas = [d for _, _, d in g.nx.edges(data=True)]
    assert len(datas) == 12 and all(d is datas[0] and d == {} for d in datas)
    with pytest.raises(cg.GraphError, match="edges carry no data"):
        g.nx.edges["x", "a", 0]["color"] = "red"
    assert g.copy().nx.edges["x", "a", 0] is datas[0]
    h = cg.Graph()  # an edge added through networkx keeps its own data
    u = h.input("u")
    v = cg.exp(u)
    h.nx.add_edge("u", v.name, key=1, note=1)
    assert h.copy().nx.edges["u", v.name, 1] == {"note": 1}


def test_edges_of_one_position_share_their_key_dict_until_networkx_edits_one():
    import copy

    g = lecture()
    keys = g.nx._succ["x"]["a"]  # x is operand 0 of a = x*z, as x is of b = log(x)
    assert keys == {0: {}} and g.nx._succ["x"]["b"] is keys and g.copy().nx._succ["x"]["a"] is keys
    rebuild, args = keys.__reduce__()  # what pickling a graph (multiprocessing) would do
    assert copy.deepcopy(g).nx._succ["x"]["a"] is keys and rebuild(*args) is keys
    with pytest.raises(cg.GraphError, match="shared"):
        keys[1] = {}
    g.nx.add_edge("x", "a", key=1)  # networkx's own methods: the edge gets a dict of its own first
    g.nx.remove_edge("x", "b", 0)
    assert sorted(g.nx._succ["x"]["a"]) == [0, 1] and "b" not in g.nx._succ["x"] and keys == {0: {}}
    assert g.nx._succ["z"]["a"] == {1: {}} and g.nx._succ["x"]["a"] is not keys
    h = cg.Graph()  # the same operand twice: one dict of its own with both positions
    u = h.input("u")
    assert h.nx._succ["u"][(u * u).name] == {0: {}, 1: {}}


def test_ops_without_attributes_share_one_read_only_attrs_dict():
    g = lecture()
    assert g.attrs("a") is g.attrs("b") is g.copy().attrs("c") and g.attrs("a") == {}
    with pytest.raises(cg.GraphError, match="takes no attributes"):
        g.attrs("a")["axis"] = 0
    assert g.attrs("x") is not g.copy().attrs("x")  # attributes of their own are copied
    rebuild, args = g.attrs("a").__reduce__()
    assert rebuild(*args) is g.attrs("a")


def test_networkx_edge_methods_work_on_shared_edge_data():
    import copy

    g = lecture()
    g.nx.add_edge("x", "a", key=0)  # an existing edge, no data: networkx updates it with nothing
    g.nx.add_edges_from([("x", "a", 0)])
    h = copy.deepcopy(g)
    assert h.nx.edges["x", "a", 0] is g.nx.edges["x", "a", 0]
    h.nx.add_edge("x", "b", key=7, note=1)  # a new edge gets a dict of its own
    assert h.nx.edges["x", "b", 7] == {"note": 1} and g.nx.edges["x", "a", 0] == {}


def test_a_shared_constant_is_not_taken_from_a_node_that_now_holds_another_value():
    # the table of shared constants maps 2.0 to the name of the node it made: after a
    # rename, a constant 3.0 given that name was used for x*2.0
    g = cg.Graph()
    x = g.input("x")
    c = (x * 2.0).operands[1].name
    g.rename(c, "two")
    g.const(3.0, name=c)
    assert (x * 2.0).operands[1].attrs["value"] == 2.0
    g.nx.nodes["two"]["attrs"]["value"] = 5.0  # (networkx's dicts are the user's too)
    assert (x * 2.0).operands[1].attrs["value"] == 2.0


def test_the_lists_of_names_a_graph_returns_are_the_callers_own():
    # g.inputs and g.params handed out the graph's cached list: a caller's edit changed them
    g = cg.parse("y = x*z")
    g.inputs.remove("z")
    g.params.append("w")
    g.outputs.append("x")
    assert g.inputs == ["x", "z"] and g.params == [] and g.outputs == ["y"]


def test_a_handle_of_a_renamed_node_is_named_when_used():
    # a.named("a") returns the handle of the new name; the old handle `a` kept "t2", and
    # building on it (a + 1, cg.sin(a)) raised a bare KeyError 't2', printing it networkx's
    # NetworkXError
    g = cg.Graph()
    a = g.input("x") * 2
    a.named("a")
    for use in (lambda: a + 1, lambda: cg.sin(a), lambda: cg.sum(a, axis=0), lambda: cg.add(a, a, 1), lambda: -a):
        with pytest.raises(cg.NodeNotFoundError, match="operand 't2' is not a node of graph 'graph': renamed or removed"):
            use()
    for show in (cg.to_text, cg.to_latex):
        with pytest.raises(cg.NodeNotFoundError, match="no node 't2'"):
            show(a)
    assert g.node("a").op == "mul" and [n for n in g if g.node(n).role == "op"] == ["a"]  # no op was added


@pytest.mark.parametrize(("operand", "said"), [
    ("graph", "got graph 'lecture'; pass a node of the graph, e.g. g['y']"),
    ("x", "got 'x' (str); a name is not a node: pass g['x']"),
    (2.0, "got 2.0 (float); build on a node, e.g. x = g.input('x')"),
    (None, "got None (NoneType)"),
])
def test_an_op_of_no_node_says_what_it_got_and_what_to_pass(operand, said):
    # it said only "sin(): at least one operand must be a graph Node"
    g = cg.parse("y = sin(x)")
    g.name = "lecture"
    with pytest.raises(cg.GraphError) as info:
        cg.sin(g if operand == "graph" else operand)
    assert str(info.value).startswith("sin(): at least one operand must be a graph Node, ")
    assert said in str(info.value)


def test_operands_of_two_graphs_are_named_with_their_graphs():
    a, b = cg.Graph("first"), cg.Graph("second")
    with pytest.raises(cg.GraphError, match="add\\(\\): operands come from different graphs: 'x' from graph 'first', "
                                            "'z' from graph 'second'"):
        cg.add(a.input("x"), b.input("z"))


def test_output_of_a_node_of_another_graph_or_of_a_graph_is_refused():
    g, h = cg.Graph("g"), cg.Graph("h")
    g.input("x")
    hx = h.input("x")
    # it marked g's own x, which has the same name
    with pytest.raises(cg.GraphError, match="output\\(\\): node 'x' belongs to graph 'h', not 'g'"):
        g.output(hx)
    with pytest.raises(cg.GraphError, match="output\\(\\) takes a node of graph 'g' or its name, not graph 'h'; pass a node"):
        g.output(h)
    with pytest.raises(cg.GraphError, match="not 2.0 \\(float\\)"):
        g.output(2.0)
    with pytest.raises(cg.GraphError, match="set_outputs: node 'x' belongs to graph 'h', not 'g'"):
        g.set_outputs([hx])
    assert g.outputs == []


def test_a_node_of_another_graph_is_named_alike_wherever_it_is_given():
    # one message: the other graph by name, or 'also named' when the two share it (it said
    # "belongs to graph 'g', not 'g'"), for operands, outputs, wrt=/of=, highlight= and feeds
    g, h, twin = cg.parse("y = x*z", name="g"), cg.parse("y = x*z", name="h"), cg.parse("y = x*z", name="g")
    for other, whose in [(h, "graph 'h', not 'g'"), (twin, "another graph, also named 'g'")]:
        x = other.node("x")
        calls = {"": lambda: g.node("z") * x, "output\\(\\): ": lambda: g.output(x),
                 "set_outputs: ": lambda: g.set_outputs([x]), "wrt: ": lambda: cg.adjoint(g, wrt=[x]),
                 "highlight: ": lambda: cg.to_dot(g, highlight=[x])}
        for what, call in calls.items():
            with pytest.raises(cg.GraphError, match=f"^{what}node 'x' belongs to {whose}$"):
                call()
        with pytest.raises(cg.InputError, match=f"^feeds: node 'x' belongs to {whose}$"):
            cg.evaluate(g, {x: 2.0, "z": 3.0})


def test_a_renamed_input_or_param_keeps_its_place_in_creation_order():
    # API.md: g.inputs and g.params are "in creation order"; a rename moved the node to the
    # end of networkx's dict, and with it the adjoint's outputs and f.positional's arguments
    g = cg.Graph()
    a, W = g.input("a"), g.param("W", value=1.0)
    g.input("b")
    g.param("V", value=2.0)
    g.output(cg.mul(a, g.node("b"), W, g.node("V")), name="y")
    a.named("c")
    W.named("U")
    assert g.inputs == ["c", "b"] and g.params == ["U", "V"]
    assert cg.adjoint(g).outputs == ["g_c", "g_U", "g_b", "g_V"]  # inputs and params in creation order
    assert cg.compile(g).inputs == ("c", "b")
    assert list(cg.grad(g, c=2.0, b=3.0)) == ["c", "U", "b", "V"]


def test_a_node_is_looked_up_by_its_name_or_its_own_handle():
    g, h = cg.parse("y = x*z", name="g"), cg.parse("y = x", name="h")
    assert g[g["x"]] == g["x"]  # the handle itself (it said "graph 'g' has no node <Node 'x': input>")
    for key, said in [(g, "not graph 'g'"), (3, "not 3 (int)"), ([1], "not list"),
                      (h["x"], "not Node; node 'x' belongs to graph 'h'")]:
        with pytest.raises(cg.NodeNotFoundError, match=re.escape(f"graph 'g': a node is looked up by its name (a str), {said}")):
            g[key]


def test_a_constant_does_not_change_when_the_array_it_was_made_of_does():
    # g.const(C) kept the caller's array: writing into C changed the graph's constant
    g = cg.Graph()
    z = g.input("z", shape=(2,))
    C = np.array([1.0, 2.0], dtype=np.float32)
    c = g.const(C)
    g.output(cg.sum(z * c), name="y")
    C[0] = 100.0
    assert float(cg.evaluate(g, z=np.ones(2))["y"]) == 3.0 and c.attrs["value"].dtype == np.float32
