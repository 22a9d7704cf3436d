"""cg.save / cg.load: exact round trips and every way a file can be wrong."""

from __future__ import annotations

import json
import math
import os
import warnings
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cgraph as cg
from cgraph import io

LECTURE = "a = x*z\nb = log(x)\nc = sin(b)\nd = exp(a)\ne = a/b\nf = c/a\ny = d + e + f"


def same_value(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.dtype == b.dtype
            and a.shape == b.shape
            and np.array_equal(a, b, equal_nan=True)
            and np.array_equal(
                np.signbit(a), np.signbit(b) | (np.signbit(a) & np.isnan(a))
            )  # -0.0 kept; NaN's sign is not
        )
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    return type(a) is type(b) and a == b


def assert_same_graph(g, h):
    assert h.name == g.name and h.outputs == g.outputs
    assert list(h.nx) == sorted(g.nx, key=lambda n: g.nx.nodes[n]["order"])
    for n, d in g.nx.nodes(data=True):
        e = h.nx.nodes[n]
        assert (e["op"], e["role"], e["shape"]) == (d["op"], d["role"], d["shape"]), n
        assert h.operands(n) == g.operands(n), n
        assert set(e["attrs"]) == set(d["attrs"]), n
        for k, v in d["attrs"].items():
            if k == "dtype":
                assert (v is None) == (e["attrs"][k] is None) and (v is None or np.dtype(v) == e["attrs"][k])
            else:
                assert same_value(v, e["attrs"][k]), (n, k, v, e["attrs"][k])
        meta = {k: v for k, v in d.items() if k not in io._CORE}
        assert {k: v for k, v in e.items() if k not in io._CORE} == json.loads(json.dumps(meta)), n


# ---------------------------------------------------------------- round trips
def test_lecture_round_trip_through_a_file(tmp_path):
    g = cg.parse(LECTURE, name="lecture")
    path = cg.save(g, tmp_path / "lecture.json")
    assert path == tmp_path / "lecture.json" and os.listdir(tmp_path) == ["lecture.json"]
    h = cg.load(str(path))
    assert_same_graph(g, h)
    assert float(cg.evaluate(h, x=2, z=3)["y"]) == float(cg.evaluate(g, x=2, z=3)["y"])
    assert cg.dumps(h) == path.read_text(encoding="utf-8")


def test_the_file_is_strict_json_one_node_per_line():
    text = cg.dumps(cg.parse(LECTURE))

    def refuse(c):
        raise AssertionError(c)

    doc = json.loads(text, parse_constant=refuse)
    assert doc["format"] == "cgraph" and doc["version"] == io.VERSION
    assert len(text.splitlines()) == 2 + len(doc["nodes"]) + 1
    assert [n["name"] for n in doc["nodes"]] == ["x", "z", "a", "b", "c", "d", "e", "f", "y"]


def test_exact_constants_nonfinite_floats_arrays_and_metadata_survive():
    g = cg.Graph("consts")
    x = g.input("x", shape=(None, 2), dtype="float32")
    W = g.param("W", value=np.array([[1.5, -0.0], [np.nan, np.inf]], dtype=np.float32))
    g.nx.nodes["W"]["weights"] = 1
    terms = [
        x @ W,
        g.const(Fraction(-1, 3)),
        g.const(10**5000),
        g.const(-(10**5000) + 1),
        g.const(Fraction(2**20000 + 1, 3)),
        g.const(float("nan")),
        g.const(float("-inf")),
        g.const(-0.0),
        g.const(7),
        g.const(np.array([[1e-300, -2.5e300]])),
    ]
    y = cg.sum(cg.add(*terms), axis=(0,), keepdims=True)
    g.output(y, name="y")
    g.nx.nodes["y"].update(layer=2, layer_kind="output", note={"tags": ["a", "β"], "n": None})
    h = cg.loads(cg.dumps(g))
    assert_same_graph(g, h)
    assert h.attrs("y") == {"axis": (0,), "keepdims": True}
    assert type(h.attrs("W")["value"]) is np.ndarray and h.attrs("W")["value"].dtype == np.float32
    assert cg.dumps(h) == cg.dumps(g)


def test_adjoint_and_network_graphs_round_trip():
    ga = cg.adjoint(cg.parse(LECTURE))
    h = cg.loads(cg.dumps(ga))
    assert_same_graph(ga, h)
    assert all(h.nx.nodes[o]["adjoint_of"] for o in h.outputs)
    assert cg.grad(cg.loads(cg.dumps(cg.parse(LECTURE))), x=2.0, z=3.0)["x"] == pytest.approx(1208.3812151266)
    net = cg.nn.MLP([2, 3, 1], activation="tanh", loss="bce", seed=0)
    h = cg.loads(cg.dumps(net.graph))
    assert_same_graph(net.graph, h)
    assert h.nx.nodes["W1"]["weights"] == 1 and h.nx.nodes["b2"]["bias"] == 2


_UNARY = ["sin", "cos", "exp", "tanh", "neg", "square", "abs", "sigmoid"]
_NARY = ["add", "mul", "sub", "div", "pow"]
consts = st.one_of(
    st.integers(-(10**30), 10**30),
    st.fractions(max_denominator=10**6).filter(lambda f: f.denominator != 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.lists(st.floats(width=32), min_size=3, max_size=3).map(lambda v: np.array(v, dtype=np.float64)),
)
meta = st.dictionaries(
    st.sampled_from(["layer", "note", "adjoint", "weights"]),
    st.one_of(st.integers(-5, 5), st.booleans(), st.text(max_size=5), st.lists(st.integers(0, 3), max_size=3)),
    max_size=2,
)


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_random_graphs_round_trip(data):
    g = cg.Graph(data.draw(st.text(min_size=1, max_size=8)))
    names = [g.input(n).name for n in data.draw(st.lists(st.sampled_from("xyzw"), min_size=1, max_size=3, unique=True))]
    for _ in range(data.draw(st.integers(1, 12))):
        kind = data.draw(st.sampled_from(["const", "unary", "nary"]))
        if kind == "const":
            names.append(g.const(data.draw(consts)).name)
        elif kind == "unary":
            names.append(g.apply(data.draw(st.sampled_from(_UNARY)), data.draw(st.sampled_from(names))).name)
        else:
            op = data.draw(st.sampled_from(_NARY))
            k = 2 if cg.OPS[op].arity == 2 else data.draw(st.integers(2, 4))
            names.append(g.apply(op, *data.draw(st.lists(st.sampled_from(names), min_size=k, max_size=k))).name)
        g.nx.nodes[names[-1]].update(data.draw(meta))
    g.set_outputs(data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=2, unique=True)))
    text = cg.dumps(g)
    h = cg.loads(text)
    assert_same_graph(g, h)
    assert cg.dumps(h) == text


# ---------------------------------------------------------------- saving
def test_save_refuses_what_json_cannot_hold_and_leaves_no_file(tmp_path):
    g = cg.parse("y = sin(x)")
    g.nx.nodes["y"]["layer"] = float("nan")
    with pytest.raises(cg.GraphError, match="node 'y': metadata 'layer'"):
        cg.save(g, tmp_path / "g.json")
    g.nx.nodes["y"]["layer"] = {1, 2}
    with pytest.raises(cg.GraphError, match="a set cannot be saved"):
        cg.save(g, tmp_path / "g.json")
    assert os.listdir(tmp_path) == []
    with pytest.raises(OSError):
        cg.save(cg.parse("x"), tmp_path / "missing" / "g.json")


@pytest.mark.parametrize("name", [3, None, ("a",)])
def test_a_graph_name_that_is_no_string_is_refused_before_a_file_load_cannot_read(name, tmp_path):
    # cg.parse("x*2", name=3) and cg.Graph(None) were taken, cg.save wrote them, and cg.load
    # refused the file: "name must be a string, not 3"
    with pytest.raises(cg.ArgumentError, match=r"^Graph: name must be a string, not "):
        cg.parse("y = x*2", name=name)
    g = cg.parse("y = x*2")
    g.name = name
    with pytest.raises(cg.GraphError, match=r"^graph name .* cannot be saved: it must be a string$"):
        cg.save(g, tmp_path / "g.json")
    assert list(tmp_path.iterdir()) == []


def test_save_validates_first():
    g = cg.parse("y = sin(x)")
    g.nx.add_edge("y", "x", key=0)  # a cycle, and an operand on an input
    with pytest.raises(cg.GraphError):
        cg.dumps(g)


def test_no_pickle_anywhere():
    for path in Path(io.__file__).parent.rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "import pickle" not in source and "pickle.load" not in source, path
        assert "allow_pickle=True" not in source, path


# ---------------------------------------------------------------- loading errors
def doc(nodes=None, **top):
    base = {"format": "cgraph", "version": 1, "name": "t", "outputs": ["y"]}
    base["nodes"] = (
        nodes
        if nodes is not None
        else [
            {"name": "x", "op": "input", "shape": None, "attrs": {"dtype": None}},
            {"name": "y", "op": "sin", "operands": ["x"], "shape": None, "attrs": {}},
        ]
    )
    base.update(top)
    return base


def node(name, op, operands=(), shape=None, attrs=None, **extra):
    d = {"name": name, "op": op, "shape": shape, "attrs": attrs if attrs is not None else {}}
    if operands:
        d["operands"] = list(operands)
    d.update(extra)
    return d


X = node("x", "input", attrs={"dtype": None})


def const(value, shape=()):
    return node("c", "const", shape=list(shape), attrs={"value": value})


BAD_DOCS = [
    (doc(format="pickle"), "not a cgraph file (format 'pickle'"),
    (doc(version=2), "unsupported format version 2 (written by a newer cgraph)"),
    (doc(version="1"), "version must be an int"),
    (doc(version=True), "version must be an int"),
    (doc(name=3), "name must be a string"),
    (doc(extra=1), "unknown field(s) 'extra'"),
    ({"format": "cgraph", "version": 1, "nodes": []}, "missing field(s) 'outputs'"),
    (doc(nodes={}), "'nodes' must be a list"),
    (doc(nodes=[X, 5]), "nodes[1] must be a JSON object"),
    (doc(nodes=[X, {"name": "y", "op": "sin", "operands": ["x"], "attrs": {}}]), "nodes[1]: missing field(s) 'shape'"),
    (doc(nodes=[X, node("y", "sin", ["x"], colour="red")]), "nodes[1]: unknown field(s) 'colour'"),
    (doc(nodes=[X, node("", "sin", ["x"])]), "'name' must be a non-empty string"),
    (doc(nodes=[X, node(7, "sin", ["x"])]), "'name' must be a non-empty string"),
    (doc(nodes=[X, node("x", "sin", ["x"])]), "the name 'x' is used twice"),
    (doc(nodes=[X, node("y", "frobnicate", ["x"])]), "node 'y': unknown op 'frobnicate'; known ops: abs"),
    (doc(nodes=[X, node("y", "sin", ["x", "x"])]), "node 'y': sin takes 1 operand(s), got 2"),
    (doc(nodes=[X, node("y", "add", ["x"])]), "add takes at least 2 operand(s), got 1"),
    (doc(nodes=[X, {**node("y", "sin"), "operands": "x"}]), "'operands' must be a list of node names"),
    (doc(nodes=[X, node("y", "sin", [0])]), "'operands' must be a list of node names"),
    (doc(nodes=[node("x", "input", ["q"], attrs={}), node("y", "sin", ["x"])]), "a input node takes no operands"),
    (doc(nodes=[X, node("y", "sin", ["q"])]), "node 'y': operand 0 'q' is not a node"),
    (doc(nodes=[X, node("y", "sin", ["x"], shape=[-1])]), "'shape' must be null or a list of non-negative ints"),
    (doc(nodes=[X, node("y", "sin", ["x"], shape="(2,)")]), "'shape' must be null"),
    (doc(nodes=[X, node("y", "sin", ["x"], shape=[True])]), "'shape' must be null"),
    (
        doc(nodes=[X, node("y", "sin", ["x"], shape=[3])]),
        "node 'y': stored shape (3,) differs from the inferred shape None",
    ),
    (doc(nodes=[X, node("y", "sin", ["x"], attrs=[])]), "'attrs' must be an object"),
    (doc(nodes=[X, node("y", "sum", ["x"], attrs={"axes": 1})]), "node 'y': attrs: unknown field(s) 'axes'"),
    (doc(nodes=[node("x", "input", attrs={"value": 1}), node("y", "sin", ["x"])]), "unknown field(s) 'value'"),
    (doc(nodes=[node("x", "input", attrs={"dtype": "object"}), node("y", "sin", ["x"])]), "unsupported dtype 'object'"),
    (doc(nodes=[node("x", "input", attrs={"dtype": "nonsense"}), node("y", "sin", ["x"])]), "unsupported dtype"),
    (doc(nodes=[X, node("y", "sin", ["x"], meta=[1])]), "'meta' must be an object"),
    (doc(nodes=[X, node("y", "sin", ["x"], meta={"op": "add"})]), "metadata may not be called 'op'"),
    (doc(outputs="y"), "'outputs' must be a list of node names"),
    (doc(outputs=["q"]), "output 'q' is not a node"),
    (doc(outputs=["y", "y"]), "lists a node twice"),
    (doc(nodes=[node("c", "const", shape=[], attrs={}), X]), "node 'c': attrs: missing field(s) 'value'"),
    (doc([const({"int": "12a"}), X]), "bad 'int' value '12a'"),
    (doc([const({"int": "--5"}), X]), "bad 'int' value"),
    (doc([const({"int": "²"}), X]), "bad 'int' value"),
    (doc([const({"int": 5}), X]), "bad 'int' value 5"),
    (doc([const({"fraction": "1/0"}), X]), "bad fraction '1/0'"),
    (doc([const({"fraction": "1/-3"}), X]), "bad fraction"),
    (doc([const({"fraction": "half"}), X]), "bad fraction"),
    (doc([const({"float": True}), X]), "bad 'float' value True"),
    (doc([const({"float": "NaN"}), X]), "bad 'float' value 'NaN'"),
    (doc([const({"complex": [1, 2]}), X]), "bad 'complex' value"),
    (doc([const({"int": "1", "float": 1.0}), X]), "must be one of"),
    (doc([const(2.5), X]), "must be one of"),
    (doc([const({"int": "1"}, shape=[2]), X]), "node 'c': shape (2,) does not match its value's shape ()"),
    (doc([const({"array": {"dtype": "float64", "shape": [2], "data": [1.0]}}, [2]), X]), "must be a list of 2 numbers"),
    (doc([const({"array": {"dtype": "float64", "shape": [-2], "data": []}}, [2]), X]), "non-negative ints"),
    (doc([const({"array": {"dtype": "complex128", "shape": [1], "data": [1]}}, [1]), X]), "unsupported dtype"),
    (doc([const({"array": {"dtype": "float64", "shape": [1], "data": ["x"]}}, [1]), X]), "entry 'x' is not a number"),
    (doc([const({"array": {"dtype": "float64", "shape": [1], "data": [None]}}, [1]), X]), "entry None is not a number"),
    (doc([const({"array": {"dtype": "float64", "shape": [1]}}, [1]), X]), "missing field(s) 'data'"),
    (doc([node("W", "param", shape=[1], attrs={"value": {"float": 3.0}}), X]), "shape (1,) does not match"),
    (doc([node("W", "param", shape=[], attrs={"value": {"int": "3"}}), X]), "a param value must be a float array"),
    (
        doc(
            [
                node("a", "sin", ["b"]),
                node("b", "cos", ["a"]),
                node("y", "exp", ["a"]),
            ]
        ),
        "has a cycle: ",
    ),
    (
        doc(
            [
                node("X", "input", shape=[2, 3], attrs={}),
                node("W", "input", shape=[2, 3], attrs={}),
                node("y", "matmul", ["X", "W"], shape=[2, 3]),
            ]
        ),
        "inner dimensions",
    ),
]


@pytest.mark.parametrize(("document", "message"), BAD_DOCS)
def test_every_malformed_document_is_a_load_error_naming_the_culprit(document, message):
    with pytest.raises(cg.LoadError) as info:
        cg.loads(json.dumps(document), source="g.json")
    assert str(info.value).startswith("g.json: ")
    assert message in str(info.value)


def test_graph_errors_are_chained():
    cyc = doc([node("a", "sin", ["b"]), node("b", "cos", ["a"]), node("y", "exp", ["a"])])
    with pytest.raises(cg.LoadError) as info:
        cg.loads(json.dumps(cyc))
    assert isinstance(info.value.__cause__, cg.CycleError)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "invalid JSON at line 1, column 1"),
        ("{\n  'format': 1}", "invalid JSON at line 2, column 3"),
        ('{"format": NaN}', "NaN is not JSON"),
        ('{"format": 1e400}', "the number 1e400 is out of range"),
        ('{"format": 1, "format": 2}', "the key 'format' appears twice"),
        ("[]", "the document must be a JSON object, not list"),
        ('{"format": "cgraph"} trailing', "Extra data"),
    ],
)
def test_bad_json(text, message):
    with pytest.raises(cg.LoadError, match="^<string>: ") as info:
        cg.loads(text)
    assert message in str(info.value)


def test_deeply_nested_json_is_a_load_error():
    with pytest.raises(cg.LoadError, match="nested too deeply|invalid JSON"):
        cg.loads("[" * 100_000 + "]" * 100_000)


def test_truncated_file(tmp_path):
    text = cg.dumps(cg.parse(LECTURE))
    for cut in (len(text) // 3, len(text) - 3):
        path = tmp_path / "cut.json"
        path.write_text(text[:cut], encoding="utf-8")
        with pytest.raises(cg.LoadError, match=f"^{path}: invalid JSON .*truncated"):
            cg.load(path)


def test_not_utf8_and_missing_files(tmp_path):
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"name": "\xe9"}')
    with pytest.raises(cg.LoadError, match="not UTF-8 text \\(byte 10\\)"):
        cg.load(path)
    with pytest.raises(FileNotFoundError):
        cg.load(tmp_path / "nope.json")
    with pytest.raises(cg.LoadError, match="expected JSON text"):
        cg.loads(b"{}")


def test_saving_into_a_folder_names_the_folder_not_a_temporary_file(tmp_path):
    # it was "[Errno 21] Is a directory: '<folder>.jk0e04w3.tmp' -> '<folder>'"
    with pytest.raises(IsADirectoryError) as info:
        cg.save(cg.parse("y = x*z"), tmp_path)
    assert info.value.filename == str(tmp_path) and ".tmp" not in str(info.value)
    assert "give a file name such as" in str(info.value) and list(tmp_path.parent.glob("*.tmp")) == []


def test_a_folder_one_may_not_write_in_names_the_file_not_a_temporary_one(tmp_path, monkeypatch):
    # a read-only folder (or a full disk) gave "[Errno 13] Permission denied: '<path>.82vocd19.tmp'", a
    # file that never existed (the folder is faked read-only: the tests may run as root)
    path = tmp_path / "g.json"

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(tmp_path / "g.json.82vocd19.tmp"))

    monkeypatch.setattr(io.tempfile, "mkstemp", refuse)
    with pytest.raises(PermissionError) as info:
        cg.save(cg.parse("y = x*z"), path)
    assert info.value.filename == str(path) and ".tmp" not in str(info.value)
    assert str(info.value) == f"[Errno 13] cannot save the graph: Permission denied: '{path}'"
    monkeypatch.undo()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(io.os, "replace", full)
    with pytest.raises(OSError) as info:
        cg.save(cg.parse("y = x*z"), path)
    assert info.value.errno == 28 and info.value.filename == str(path)
    assert os.listdir(tmp_path) == []  # and no temporary file left


def test_a_file_with_a_utf8_byte_order_mark_loads(tmp_path):
    # Windows editors save UTF-8 with a BOM; JSON readers may ignore it (RFC 8259), and
    # Python's own source files may start with one. It was "invalid JSON at line 1, column
    # 1: Unexpected UTF-8 BOM"
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + cg.dumps(cg.parse("y = x*z")).encode("utf-8"))
    assert cg.load(path).outputs == ["y"]


@pytest.mark.parametrize(("value", "shape"), [(0.5, []), (np.float32(0.5), []), ([0.5, 1.0], [2]), (2, []),
                                              (np.array([0.5], np.float16), [1])])
def test_a_param_value_set_on_the_node_saves_what_load_reads(value, shape):
    # a value set on a param declared without one (w.attrs["value"] = 0.5) was written as
    # it was: load refused it ("shape None does not match its value's shape ()", "a param
    # value must be a float array"), and a list stopped dumps with Python's TypeError
    g = cg.Graph()
    x, w = g.input("x"), g.param("w")
    g.output(cg.sum(x * w), name="y")
    w.attrs["value"] = value
    h = cg.loads(cg.dumps(g))
    assert h.node("w").shape is None  # as declared: its users' shapes were inferred from an unknown one
    assert np.shape(h.node("w").attrs["value"]) == tuple(shape) and h.node("w").attrs["value"].dtype.kind == "f"
    assert cg.evaluate(h, x=1.0)["y"] == pytest.approx(float(np.sum(value)))


def test_a_param_of_unknown_shape_with_a_value_set_later_round_trips():
    # dumps wrote the value's shape (2,) as the param's while its users kept the shapes
    # inferred from an unknown one: loads refused its own output ("node 't1': stored shape
    # None differs from the inferred shape (3,)")
    g = cg.Graph()
    x, w = g.input("x", shape=(3, 2)), g.param("w")
    g.output(cg.sum(cg.matmul(x, w)), name="y")
    w.attrs["value"] = np.ones(2)
    h = cg.loads(cg.dumps(g))
    assert {n: h.node(n).shape for n in h} == {n: g.node(n).shape for n in g}  # w's shape stays unknown
    assert cg.evaluate(h, x=np.ones((3, 2)))["y"] == 6.0
    assert cg.dumps(h) == cg.dumps(g)


def test_a_param_value_that_does_not_fit_is_refused_when_saving():
    g = cg.Graph()
    w = g.param("w", shape=(3,))
    g.output(cg.sum(w), name="y")
    w.attrs["value"] = np.ones(2)
    with pytest.raises(cg.ShapeError, match=r"param 'w': value of shape \(2,\) does not match shape \(3,\)"):
        cg.dumps(g)
    w.attrs["value"] = "a"
    with pytest.raises(cg.GraphError, match="param 'w': value of dtype <U1 is not real numbers"):
        cg.dumps(g)


def _array_const(dtype, shape, data):
    return doc([const({"array": {"dtype": dtype, "shape": shape, "data": data}}, shape), X])


@pytest.mark.parametrize(
    ("document", "message"),
    [
        # numpy's OverflowError: int too large to convert to float
        (_array_const("float64", [1], [10**400]), "array entry 1000000000000000000000000000000000"),
        # silently read as inf (with a RuntimeWarning: overflow encountered in cast)
        (_array_const("float32", [2], [1.0, 1e300]), "array entry 1e+300 is beyond the range of float32"),
        # numpy's ValueError: Maximum allowed dimension exceeded / at most 64 dimensions
        (_array_const("float64", [0, 10**30], []), "numpy cannot make an array of shape [0, 1000000000"),
        (_array_const("float64", [1] * 70, [1.0]), "numpy cannot make an array of shape [1, 1, 1"),
    ],
)
def test_an_array_numpy_cannot_hold_is_a_load_error(document, message):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(cg.LoadError, match="^g.json: node 'c': value: ") as info:
            cg.loads(json.dumps(document), source="g.json")
    assert message in str(info.value)


@pytest.mark.parametrize("top", [{"version": 10**1000}, {"format": "x" * 10**5}, {"name": [0] * 10**5}])
def test_a_huge_value_in_a_load_error_is_cut_short(top):
    # the message quoted the whole value: a 1000-digit version, a 100,000-character format
    with pytest.raises(cg.LoadError) as info:
        cg.loads(json.dumps(doc(**top)))
    assert len(str(info.value)) < 300


def test_a_huge_constant_in_a_load_error_is_cut_short():
    with pytest.raises(cg.LoadError, match=r"bad 'int' value '1111.*\.\.\.$"):
        cg.loads(json.dumps(doc([const({"int": "1" * 5000}), X])))


@pytest.mark.parametrize("path", [None, 3, ["g.json"]])
def test_a_path_that_is_no_path_is_an_argument_error(path):
    # pathlib's TypeError "expected str, bytes or os.PathLike object, not NoneType"
    with pytest.raises(cg.ArgumentError, match="cg.save: path must be a file path .*, not "):
        cg.save(cg.parse("y = x"), path)
    with pytest.raises(cg.ArgumentError, match="cg.load: path must be a file path"):
        cg.load(path)


@pytest.mark.parametrize("path", ["g\0.json", Path("g\0.json")])
def test_a_path_holding_nul_is_an_argument_error(path):
    # it was a bare ValueError("embedded null byte"), naming neither the call nor the path
    with pytest.raises(cg.ArgumentError, match=r"^cg.save: path 'g\\x00.json' holds the NUL character, which no "
                                               "file name can$"):
        cg.save(cg.parse("y = x"), path)
    with pytest.raises(cg.ArgumentError, match=r"^cg.load: path 'g\\x00.json' holds the NUL character"):
        cg.load(path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_saved_file_has_the_permissions_open_would_give(tmp_path):
    # the temporary file of the atomic write kept mkstemp's 0600: every saved graph was
    # private to its owner, and saving over a shared file made it private
    mask = os.umask(0o022)
    try:
        path = cg.save(cg.parse("y = x*z"), tmp_path / "g.json")
        assert path.stat().st_mode & 0o777 == 0o644
        path.chmod(0o664)
        cg.save(cg.parse("y = x*z"), path)
        assert path.stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(mask)


@pytest.mark.parametrize(("edit", "cause"), [
    (lambda t: t.replace('"op": "sin"', '"op": "sinn"'), cg.UnknownOpError),
    (lambda t: t.replace('"operands": ["b", "x"]', '"operands": ["b"]'), cg.ArityError),
    (lambda t: t.replace('"operands": ["x"]', '"operands": ["b"]'), cg.CycleError),
])
def test_the_graph_errors_of_a_file_are_chained_as_the_cause(edit, cause):
    # docs/errors.md and this module's docstring: a cycle, an unknown op, a wrong arity or
    # a shape mismatch is chained as __cause__; an unknown op and an arity had none
    text = cg.dumps(cg.parse("a = exp(x)\nb = sin(a)\ny = b - x"))
    with pytest.raises(cg.LoadError) as info:
        cg.loads(edit(text))
    assert isinstance(info.value.__cause__, cause)
