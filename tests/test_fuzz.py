"""Fuzzing the two text entry points, ``cg.parse`` and ``cg.loads``/``cg.load``.

Whatever the input (token soup, hostile Python, deep nesting, huge lengths, control
characters, lone surrogates, mutated or random JSON, random bytes), only a
``ParseError`` / ``LoadError`` (with its position or field) comes out, or a valid graph;
never another exception, a RecursionError, a crash, and never ``eval``/``exec``.

A short run is part of the suite; ``python -m tests.fuzz --minutes 10`` runs these and
the property tests for longer (see docs/errors.md).
"""

from __future__ import annotations

import builtins
import copy
import json
import warnings
from contextlib import contextmanager

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from strategies import examples, op_graphs

import cgraph as cg

FUZZ = settings(max_examples=examples(150), deadline=None, suppress_health_check=list(HealthCheck))

# ------------------------------------------------------------------------------ parse
NAMES = ["x", "z", "y", "a1", "W", "α", "x̂", "t1", "g_x", "_", "sin", "exp", "sum", "log_softmax", "matmul_grad"]
TOKENS = NAMES + [
    "0", "1", "2.5", "1e-3", "1e308", "1e999", ".5", "7.", "0x1", "1_0", "+", "-", "*", "/", "^", "**", "@", "(", ")",
    ",", "=", ";", "\n", " ", "\t", "#c", "axis=", "axis=1", "keepdims=True", "shape=(2,-1)", "None", "True", "==",
    "//", "%", "'", '"', "[", "]", "{", "}", ":", ".", "\\", "lambda", "import", "__import__", "__class__", "if",
    "\x00", "\ud800", "\u202e", "\u200b", "\x1b", "\r", "\r\n", "\x0b", "\u2028", "😀", "∂",
]
HOSTILE = [
    "__import__('os').system('echo pwned')", "().__class__.__bases__[0].__subclasses__()", "eval('1')",
    "exec('import os')", "compile('1', 'f', 'eval')", "open('/etc/passwd').read()", "lambda: 1", "[x for x in y]",
    "x if y else z", "globals()", "x.__dict__", "getattr(x, 'y')", "f'{x}'", "b'x'", "x[0]", "{x: 1}", "*x", "**x",
    "x := 1", "yield x", "await x", "async def f(): pass", "import os", "from os import system", "del x", "assert x",
    "raise SystemExit", "with x: pass", "class C: pass", "def f(): pass", "x and y", "not x", "x is y", "x in y",
    "x < y", "x << 1", "~x", "x | y", "x & y", "x % y", "x // y", "print(x)", "sin.__call__(x)", "exp(x)(z)",
    "sum(x, axis=__import__('os'))", "reshape(x, shape=eval('1'))", "sin(x) # \x00", "y = x\n__builtins__ = 1",
]
formulas = st.one_of(
    st.lists(st.sampled_from(TOKENS), max_size=30).map("".join),
    st.lists(st.sampled_from(TOKENS), max_size=12).map(" ".join),
    st.sampled_from(HOSTILE),
    st.tuples(st.sampled_from(HOSTILE), st.sampled_from(TOKENS), st.sampled_from(["x", "sin(x)", "a = x\n"])).map("".join),
    st.text(max_size=60),
    st.builds(lambda k, body: "(" * k + body + ")" * k, st.integers(0, 30_000), st.sampled_from(["x", "x+", "", "sin(x"])),
    st.builds(lambda k, f: f + "(" * k + "x" + ")" * k, st.integers(0, 20_000), st.sampled_from(["sin", "exp", "-"])),
    st.builds(lambda k, unit: unit * k, st.integers(0, 120_000), st.sampled_from(["1+", "-", "x*", "(", "a=x\n", "\n"])),
)


@contextmanager
def no_evaluation(text):
    """``eval``/``exec``/``compile`` refuse ``text`` while the entry point runs (libraries
    may still compile their own code: networkx builds its decorators lazily)."""
    saved = {n: getattr(builtins, n) for n in ("eval", "exec", "compile")}

    def guard(name):
        def call(source, *args, **kwargs):
            if isinstance(source, (str, bytes)) and (source == text or (len(text) >= 8 and str(text) in str(source))):
                raise AssertionError(f"the text was handed to {name}()")
            return saved[name](source, *args, **kwargs)

        return call

    for n in saved:
        setattr(builtins, n, guard(n))
    try:
        yield
    finally:
        for n, f in saved.items():
            setattr(builtins, n, f)


@FUZZ
@given(formulas)
def test_parse_gives_a_graph_or_a_parse_error(text):
    note(repr(text[:200]))
    try:
        with no_evaluation(text):
            g = cg.parse(text)
    except cg.ParseError as err:
        assert err.line >= 1 and err.column >= 1 and err.reason, err
        assert str(err).startswith(f"line {err.line}, column {err.column}: ")
        return
    assert g.outputs and g.validate() is g
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an expanded form past its cap falls back to the program
        again = cg.parse(cg.to_text(g, form="program"))
    assert again.outputs and len(again) <= len(g) + 1


def test_parse_refuses_non_text():
    for bad in (None, b"x", 3, ["x"]):
        try:
            cg.parse(bad)
        except cg.ParseError as err:
            assert type(bad).__name__ in str(err)
        else:
            raise AssertionError(bad)


# ------------------------------------------------------------------------------ loads
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
FIELDS = ["format", "version", "name", "outputs", "nodes", "op", "operands", "shape", "attrs", "value", "meta",
          "int", "float", "fraction", "array", "dtype", "data", "axis", "keepdims", "layer"]
SPECIAL = [None, True, 0, -1, 2**70, 1e308, "nan", "inf", "", "x", "y", "t1", "mul", "input", "const", "param", "foo",
           "float64", "int8", "1/0", "-3/4", "0x10", "9" * 5000, [], {}, [None], {"float": "nan"}, {"int": "1"},
           {"array": {"dtype": "float64", "shape": [2], "data": [1, 2]}}, "\ud800", "\x00"]


def _paths(doc, path=()):
    yield path
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*path, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*path, i))


def _mutate(data, doc):
    paths = list(_paths(doc))
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        kind = data.draw(st.sampled_from(["replace", "delete", "add", "duplicate"]))
        # a copy: SPECIAL's lists and dicts are shared, and a later mutation of the document
        # must not reach them (it once made {} contain itself, in a later example)
        new = copy.deepcopy(data.draw(st.one_of(st.sampled_from(SPECIAL), json_values)))
        if not path:
            return new
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        key = path[-1]
        if kind == "replace":
            parent[key] = new
        elif kind == "delete":
            del parent[key]
        elif kind == "add" and isinstance(parent, dict):
            parent[data.draw(st.sampled_from(FIELDS))] = new
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[key]))
        paths = list(_paths(doc))
    return doc


def _expect_load_error_or_graph(text):
    try:
        with no_evaluation(text):
            g = cg.loads(text)
    except cg.LoadError as err:
        assert str(err).startswith("<string>: "), err
        return None
    assert g.validate() is g
    assert cg.loads(cg.dumps(g)) is not None
    return g


@FUZZ
@given(op_graphs(max_steps=4), st.data())
def test_loads_of_mutated_documents(case, data):
    g, point, _ = case
    doc = _mutate(data, json.loads(cg.dumps(g)))
    text = json.dumps(doc, allow_nan=False)
    note(text[:2000])
    back = _expect_load_error_or_graph(text)
    if back is not None and set(back.inputs) <= set(point) and back.outputs:
        try:  # a document that loads is a graph like any other: its errors are typed too
            cg.evaluate(back, {k: point[k] for k in back.inputs}, nonfinite="propagate")
        except cg.CGraphError:
            pass


@FUZZ
@given(st.one_of(json_values.map(json.dumps), st.text(max_size=80), st.sampled_from(
    ["[" * 100_000, "{" * 50_000, '{"a": ' * 20_000, "NaN", "-Infinity", '{"a": 1, "a": 2}', "9" * 5000, "\ufeff{}",
     '{"format": "cgraph", "version": 1, "outputs": [], "nodes": [' + '{"name": "x", "op": "input", "shape": null, "attrs": {}},' * 3 + "]}"])))
def test_loads_of_any_text(text):
    note(text[:500])
    _expect_load_error_or_graph(text)


@settings(max_examples=examples(40), deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=200))
def test_load_of_any_bytes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fuzz") / "g.json"
    path.write_bytes(data)
    try:
        cg.load(path)
    except cg.LoadError as err:
        assert str(path) in str(err)


def test_deep_json_is_a_load_error_not_a_recursion_error():
    for text in ("[" * 100_000 + "]" * 100_000, '{"a":' * 100_000 + "1" + "}" * 100_000):
        try:
            cg.loads(text)
        except cg.LoadError as err:
            assert "nested too deeply" in str(err)
        else:
            raise AssertionError("loaded")
