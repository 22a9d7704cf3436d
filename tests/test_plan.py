"""Evaluation plans: buffer reuse never changes a result, dtypes are kept, plans are
cached per graph and rebuilt when it changes, ``keep`` subsets."""

from __future__ import annotations

import re
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cgraph as cg
from cgraph.passes.plan import REUSE_MIN_SIZE, Plan, _fits, plan

UNARY = ["exp", "sin", "cos", "tanh", "sigmoid", "relu", "square", "abs", "neg", "softplus"]
BINARY = ["add", "sub", "mul"]
BIG = (3, REUSE_MIN_SIZE)  # large enough for reuse to kick in


def random_graph(seed: int, n_ops: int = 25, shape: tuple = BIG) -> cg.Graph:
    """A random DAG of elementwise ops (fan-out, broadcasting, views) over three inputs."""
    rng = np.random.default_rng(seed)
    g = cg.Graph(f"random{seed}")
    nodes = [g.input("x", shape=shape), g.input("z", shape=shape), g.input("w", shape=shape[1:])]
    for _ in range(n_ops):
        pick = rng.random()
        a = nodes[rng.integers(len(nodes))]
        if pick < 0.45:
            nodes.append(getattr(cg, UNARY[rng.integers(len(UNARY))])(a))
        elif pick < 0.85:
            b = nodes[rng.integers(len(nodes))]
            nodes.append(getattr(cg, BINARY[rng.integers(len(BINARY))])(a, b))
        elif pick < 0.9:
            nodes.append(cg.add(a, nodes[-1], nodes[rng.integers(len(nodes))]))  # variadic
        elif pick < 0.95:
            nodes.append(cg.transpose(cg.transpose(a)))  # views of a buffer
        else:
            nodes.append(a * 0.5)
    g.output(cg.sum(cg.add(*nodes[-3:])), name="y")
    return g


def feeds_for(g: cg.Graph, dtype=np.float64, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {n: rng.uniform(-1, 1, g.nx.nodes[n]["shape"]).astype(dtype) for n in g.inputs}


def naive(g: cg.Graph, feeds: dict) -> dict:
    """Evaluation without a plan: the op table applied in schedule order, nothing freed."""
    env = {}
    for n in g.schedule():
        data = g.nx.nodes[n]
        if data["role"] in ("input", "param"):
            env[n] = feeds[n]
        elif data["role"] == "const":
            v = data["attrs"]["value"]
            env[n] = float(v) if isinstance(v, int) else v
        else:
            env[n] = cg.OPS[data["op"]].eval(*[env[o] for o in g.operands(n)], **data["attrs"])
    return env


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10**6))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_reuse_never_changes_results_of_random_graphs(seed, dtype):
    g = random_graph(seed)
    ga = cg.adjoint(g)
    feeds = feeds_for(g, dtype, seed=seed)
    with np.errstate(all="ignore"):  # the plans propagate nan/inf; so does the reference
        want = naive(ga, feeds)
        got = Plan(ga, ga.outputs).run(feeds, nonfinite="propagate")
        plain = Plan(ga, ga.outputs, reuse=False).run(feeds, nonfinite="propagate")
    for o in ga.outputs:
        np.testing.assert_array_equal(got[o], want[o])  # bitwise: same ufuncs, same order
        np.testing.assert_array_equal(plain[o], want[o])
        assert np.asarray(got[o]).dtype == dtype


def test_reuse_happens_and_inputs_are_untouched():
    g = random_graph(7)
    ga = cg.adjoint(g)
    p = Plan(ga, ga.outputs)
    assert any(step[6] is not None for step in p.steps), "no step writes into a dying buffer"
    feeds = feeds_for(g)
    before = {k: v.copy() for k, v in feeds.items()}
    p.run(feeds, nonfinite="propagate")
    p.run(feeds, nonfinite="propagate")
    for k in feeds:
        np.testing.assert_array_equal(feeds[k], before[k])


def test_kept_values_are_never_overwritten():
    g = cg.Graph()
    x = g.input("x", shape=BIG)
    a = cg.exp(x, name="a")
    b = cg.sin(a, name="b")  # a dies here, but is kept below
    c = cg.identity(b, name="c")  # an alias of b
    d = cg.cos(b, name="d")  # b's last use: may not be overwritten, c sees it
    g.output(cg.sum(c + d), name="y")
    feeds = {"x": np.linspace(0, 1, np.prod(BIG)).reshape(BIG)}
    vals = Plan(g, ["a", "c", "y"]).run(feeds)
    np.testing.assert_array_equal(vals["a"], np.exp(feeds["x"]))
    np.testing.assert_array_equal(vals["c"], np.sin(np.exp(feeds["x"])))


def test_keep_subset_returns_only_those_and_prunes():
    g = cg.Graph()
    x = g.input("x")
    a = cg.exp(x, name="a")
    cg.log(x - 10.0, name="dead")  # would raise a DomainError if evaluated
    g.output(a * 2.0, name="y")
    vals = Plan(g, ["y"]).run({"x": 0.0})
    assert list(vals) == ["y"] and float(vals["y"]) == 2.0
    with pytest.raises(cg.DomainError, match="'dead'"):
        cg.evaluate(g, x=0.0)  # evaluate computes every node
    assert set(Plan(g, ["a", "y"]).run({"x": 0.0})) == {"a", "y"}
    with pytest.raises(cg.NodeNotFoundError):
        Plan(g, ["nope"])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float32_stays_float32_through_adjoint(dtype):
    g = cg.Graph()
    X = g.input("X", shape=(None, 4))
    W = g.param("W", value=np.ones((4, 3), dtype))
    b = g.param("b", value=np.zeros(3, dtype))
    h = cg.tanh(X @ W + b)
    g.output(cg.mean(cg.sum(cg.log_softmax(h) * 0.5, axis=-1)) * 2 + 1, name="loss")
    X_val = np.ones((5, 4), dtype)
    grads = cg.grad(g, X=X_val)
    assert {k: v.dtype for k, v in grads.items()} == {"X": dtype, "W": dtype, "b": dtype}
    vals = cg.evaluate(g, X=X_val)
    assert np.asarray(vals["loss"]).dtype == dtype


def test_plan_cached_and_invalidated_on_mutation():
    g = cg.Graph()
    x = g.input("x")
    y = g.output(cg.exp(x), name="y")
    p1 = plan(g, ["y"])
    assert plan(g, ["y"]) is p1
    g.output(y * 3.0, name="z")  # a new node: the graph changed
    p2 = plan(g, ["y"])
    assert p2 is not p1
    assert float(cg.evaluate(g, x=0.0)["z"]) == 3.0
    # a change made through networkx directly is seen too
    g.nx.remove_edge("x", "y", key=0)
    g.nx.add_edge("z", "y", key=0)
    with pytest.raises(cg.CycleError):
        plan(g, ["y"])


def test_compiled_plan_reuses_the_adjoint_of_grad():
    g = cg.parse("y = x*z + sin(x)")
    cg.grad(g, x=1.0, z=2.0)
    from cgraph.passes.grad import gradient_graph

    ga = gradient_graph(g)
    assert gradient_graph(g) is ga
    p = plan(ga, ga.outputs)
    cg.grad(g, x=3.0, z=1.0)
    assert plan(ga, ga.outputs) is p


def test_errors_after_reuse_name_the_node_with_real_operands():
    g = cg.Graph()
    x = g.input("x", shape=BIG)
    a = cg.exp(x, name="a")
    b = cg.neg(a, name="b")  # writes into a's buffer
    g.output(cg.sum(cg.log(b, name="bad")), name="y")
    with pytest.raises(cg.DomainError, match=r"node 'bad' \(log\).*log\(b="):
        cg.evaluate(g, x=np.zeros(BIG))
    with pytest.raises(cg.DomainError, match="node 'bad'"):
        cg.grad(g, x=np.zeros(BIG))


def test_big_chain_is_linear_enough():
    # 30k nodes: would take minutes if any pass were quadratic
    g = cg.Graph()
    h = x = g.input("x")
    for i in range(10_000):
        h = cg.sin(h) * 0.5 + x if i % 2 else cg.sin(h)
    g.output(h, name="y")
    d = cg.grad(g, x=0.3)
    assert np.isfinite(d["x"])


def test_constant_subexpressions_are_folded_once_and_keep_float32():
    g = cg.Graph()
    x = g.input("x")
    one = g.const(2) - g.const(1)  # the adjoint's u^(2 - 1)
    g.output(x ** one * (g.const(3.0) / 2), name="y")
    p = Plan(g, ["y"])
    power = g.operands("y")[0]
    assert [step[5] for step in p.steps] == [power, "y"]  # no step for 2 - 1 or 3.0/2
    assert p.steps[0][1] is np.positive  # u**1 is u itself: a copy, not a pow
    x32 = np.array([1.5, -0.0, np.inf, np.nan], dtype=np.float32)
    y = p.run({"x": x32}, nonfinite="propagate")["y"]
    assert y.dtype == np.float32
    np.testing.assert_array_equal(y, x32 ** np.float32(1) * np.float32(1.5))
    assert np.signbit(y[1])


def test_a_constant_subexpression_that_fails_is_reported_at_run_time():
    g = cg.Graph()
    x = g.input("x")
    bad = cg.log(g.const(-1.0), name="bad")
    g.output(x + bad, name="y")
    p = Plan(g, ["y"])  # compiling does not raise
    with pytest.raises(cg.DomainError, match="node 'bad' \\(log\\)"):
        p.run({"x": 1.0})
    assert np.isnan(p.run({"x": 1.0}, nonfinite="propagate")["y"])


def test_a_constant_array_made_from_a_scalar_is_not_folded_but_still_evaluated():
    g = cg.Graph()
    x = g.input("x")
    two = cg.reshape(g.const(2), shape=(-1,))  # an array: left to the run
    g.output(cg.sum(two) * x, name="y")
    assert float(cg.evaluate(g, x=1.5)["y"]) == 3.0


@given(st.lists(st.integers(1, 3), min_size=0, max_size=3), st.lists(st.tuples(st.integers(0, 3), st.booleans()), max_size=3))
def test_fits_agrees_with_numpy_broadcasting(shape, others):
    # the donor check's fast path: which operand shapes broadcast to the donor's shape
    shape = tuple(shape)
    vals = [np.zeros(shape)]
    for keep, ones in others:  # a trailing part of the shape, some dims set to 1, or a longer shape
        s = shape[len(shape) - min(keep, len(shape)):]
        vals.append(np.zeros(tuple(1 if ones else d for d in s) if keep % 2 else (2, *s)))
    vals.append(1.5)
    try:
        expected = np.broadcast_shapes(*[np.shape(v) for v in vals]) == shape
    except ValueError:
        return  # not broadcastable at all: a valid graph never asks
    assert _fits(vals, shape) == expected


@pytest.mark.parametrize("value, message", [
    (None, "input 'x': expected real numbers, got None"),
    ([1.0, None], "input 'x': expected real numbers, got None"),
    (10**400, "input 'x': 10000000000"),
    ([1, 10**400], "too large for a float"),
    # these said "got dtype <U1" (numpy read the graph, or the text, as strings)
    (cg.parse("y = z"), "input 'x': expected real numbers, got a Graph (a graph is no value: cg.evaluate it"),
    ("abc", "input 'x': expected real numbers, got the text 'abc'"),
    ({"x": 1.0}, "input 'x': expected real numbers, got a dict"),
    (object(), "input 'x': expected real numbers, got an object"),
])
def test_inputs_that_are_no_floats_name_the_input(value, message):
    with pytest.raises(cg.InputError, match=re.escape(message)):
        cg.evaluate(cg.parse("y = 2*x"), x=value)


def test_exact_numbers_are_inputs():

    assert cg.evaluate(cg.parse("y = 2*x"), x=[Fraction(1, 2), 3])["y"].tolist() == [1.0, 6.0]
    assert cg.evaluate(cg.parse("y = 2*x"), x=10**300)["y"] == 2e300


def test_a_reduction_leaving_the_finite_numbers_names_its_node():
    # the operand does not broadcast to the reduced value: it is shown whole
    g = cg.parse("y = sum(x, axis=0)")
    with pytest.raises(cg.DomainError, match=re.escape("node 'y' (sum) is not finite at index (0,): sum(x=array(2, 1)) = inf")):
        cg.evaluate(g, x=np.array([[1e308], [1e308]]))


@pytest.mark.parametrize("text", ["y = x^2", "y = x^1 * 1e300 * 1e300", "y = x^(3 - 1)"])
def test_an_overflow_in_a_power_computed_by_its_shortcut_names_the_node(text):
    # pow(u, 2) runs as np.square(u) with the exponent left out of the step; the error
    # report re-ran the op's own eval on that one operand: a bare TypeError from np.power
    g = cg.parse(text)
    for x in (1e200, np.array([1.0, 1e200])):
        with pytest.raises(cg.DomainError, match=r"node '(y|t\d+)' \((pow|mul)\) is not finite"):
            cg.evaluate(g, x=x)
    with pytest.raises(cg.DomainError, match=re.escape("pow(x=1e+200, t1=2) = inf")):
        cg.evaluate(cg.parse("y = x^2"), x=1e200)


@pytest.mark.parametrize("value", [10**400, -(10**400), Fraction(10**400, 3)], ids=["int", "negative", "fraction"])
def test_an_exact_constant_past_the_floats_is_a_domain_error_naming_it(value):
    # float(10**400) raised a bare OverflowError from every route that evaluates
    g = cg.Graph()
    x = g.input("x")
    g.output(x * g.const(value, name="big") + 1.0, name="y")
    for run in (lambda: cg.evaluate(g, x=1.0), lambda: cg.grad(g, x=1.0), lambda: cg.compile(g)(x=1.0),
                lambda: cg.compile(g, wrt="x")(x=np.array([1.0]))):
        with pytest.raises(cg.DomainError, match=r"node 'big' \(const\) is not finite \(-?\d{12,13}\.\.\. is too large"):
            run()
    assert np.isinf(cg.evaluate(g, x=1.0, nonfinite="propagate")["y"])


def test_a_size_in_a_second_derivative_keeps_float32():
    # the adjoint of mean(u) divides by size(u), a Python float; its own adjoint computes
    # 1/size(u), and np.divide of two Python floats is a (strong) np.float64, which turned
    # the float32 second derivative of logsumexp(x) * mean(tanh(x)) into float64
    g = cg.parse("y = logsumexp(x) * mean(tanh(x))")
    ga = cg.adjoint(g)
    h = ga.copy()
    h.output(cg.sum(h[ga.outputs[0]] * h.input("v")), name="hv")
    h.set_outputs(["hv"])
    x, v = np.float32([0.3, -1.2, 2.0]), np.float32([1.0, 0.5, -2.0])
    assert cg.grad(h, wrt="x", x=x, v=v)["x"].dtype == np.float32
    values = cg.evaluate(cg.adjoint(h, wrt="x"), x=x, v=v)
    assert {np.asarray(values[n]).dtype for n in values if not isinstance(values[n], float)} == {np.dtype(np.float32)}


def test_a_param_without_a_value_is_not_called_a_missing_input():
    g = cg.Graph("p")
    g.output(g.param("W", shape=(2,)) * g.input("x"), name="y")
    with pytest.raises(cg.InputError, match="graph 'p' is missing input.s. 'W', 'x'$"):
        cg.evaluate(g)
    with pytest.raises(cg.InputError, match=r"param\(s\) 'W' of graph 'p' have no value: give one to g.param"):
        cg.evaluate(g, x=1.0)
    assert list(cg.evaluate(g, x=1.0, W=[1.0, 2.0])["y"]) == [1.0, 2.0]


def test_a_nan_constant_raises_a_new_error_each_run():
    # the plan raised one stored DomainError object on every run: its traceback grew by a
    # few frames each time (3, 6, 9, ...), keeping every frame and its arrays alive
    g = cg.parse("y = x * nan")
    seen = []
    for _ in range(3):
        with pytest.raises(cg.DomainError, match=r"node 't1' \(const\) is not finite") as info:
            cg.evaluate(g, x=np.ones(3))
        seen.append(info.value)
        tb, depth = info.value.__traceback__, 0
        while tb is not None:
            depth, tb = depth + 1, tb.tb_next
        assert depth < 10
    assert len({id(e) for e in seen}) == 3


def test_a_bad_param_value_is_named_as_a_param():
    g = cg.Graph()
    x, w = g.input("x", shape=(2,)), g.param("W", shape=(2,))
    g.output(cg.sum(x * w), name="y")
    for bad, what in (([1.0, 2.0, 3.0], "expected shape"), ("a", "expected real numbers"), ([1.0, np.inf], "not finite")):
        for call in (cg.evaluate, cg.grad, cg.finite_difference, lambda g, **kw: cg.compile(g)(**kw)):
            with pytest.raises(cg.InputError, match=f"^param 'W'.*{what}"):
                call(g, x=[1.0, 2.0], W=bad)
    with pytest.raises(cg.InputError, match="^input 'x': expected shape"):
        cg.evaluate(g, x=[1.0], W=[1.0, 2.0])


def test_an_integer_past_python_s_printing_limit_is_named_not_a_crash():
    # str() of an int past 4300 digits raises ValueError: a const or an input of 10**5000
    # (which cg.load reads back exactly) crashed evaluate with it instead of its error
    g = cg.Graph()
    x = g.input("x")
    g.output(x * g.const(10**5000), name="y")
    with pytest.raises(cg.DomainError, match=r"node 't1' \(const\) is not finite \(<an integer of about 5001 digits> is too"):
        cg.evaluate(g, x=1.0)
    with pytest.raises(cg.InputError, match=r"input 'x': <an integer of about 5001 digits> is too large for a float"):
        cg.evaluate(cg.parse("y = 2*x"), x=[1, 10**5000])


def _const_graph():
    g = cg.Graph()
    x = g.input("x", shape=(2,))
    c = g.const(np.array([10.0, 20.0]), name="c")
    g.output(cg.sum(x * c) + cg.sum(cg.reshape(c, shape=(2, 1), name="r")), name="y")
    return g


@pytest.mark.parametrize("node", ["c", "r"])
def test_a_constant_handed_out_by_evaluate_cannot_be_written_through(node):
    # vals["c"] was the graph's own array: writing into it changed every later run
    g = _const_graph()
    for _ in range(2):  # the plan's first run and a cached one
        with pytest.raises(ValueError, match="read-only"):
            cg.evaluate(g, x=np.ones(2))[node][0] = 1000.0
    assert float(cg.evaluate(g, x=np.ones(2))["y"]) == 60.0
    assert g.node("c").attrs["value"].flags.writeable  # the graph's own array is untouched


@pytest.mark.parametrize("fn", [cg.evaluate, cg.grad, cg.finite_difference, cg.check_gradients])
def test_feeds_may_be_keyed_by_node_handles(fn):
    # as a TensorFlow feed_dict; before, the key was "<Node 'x': input> is not a node of graph"
    g = cg.Graph()
    x, z = g.input("x"), g.input("z")
    g.output(x * z, name="y")

    def call(feeds):  # (evaluate's feeds is positional only; grad's second argument is wrt)
        return fn(g, feeds) if fn is cg.evaluate else fn(g, feeds=feeds)

    assert repr(call({x: 2.0, z: 3.0})) == repr(call({"x": 2.0, "z": 3.0}))
    with pytest.raises(cg.InputError, match="feeds: node 'x' belongs to another graph"):
        call({cg.parse("y = x*z").node("x"): 2.0, z: 3.0})
    with pytest.raises(cg.InputError, match="feeds give 'x' twice"):
        call({x: 2.0, "x": 2.0, z: 3.0})


@pytest.mark.parametrize("fn", [cg.evaluate, cg.backprop_steps])
def test_feeds_given_by_keyword_where_they_are_positional_says_how_to_pass_them(fn):
    # grad takes feeds=...; evaluate's mapping is positional (an input may be named feeds),
    # and feeds={...} was only "unexpected input(s): 'feeds' is not a node"
    with pytest.raises(cg.InputError, match=r"'feeds' is not a node .*; a mapping of values goes positionally"):
        fn(cg.parse("y = x*z"), feeds={"x": 2.0, "z": 3.0})


def test_a_vector_for_a_column_says_how_to_reshape_it():
    # cg.nn.train takes a one-output network's targets as a vector, but its graph's Y is
    # (batch, 1): check_gradients(net.graph, X=X, Y=Y), the lecture's unit test of
    # backprop, said only "expected shape (batch, 1), got (4,)"
    net = cg.nn.MLP([2, 3, 1], seed=0)
    X, Y = np.ones((4, 2)), np.ones(4)
    with pytest.raises(cg.InputError, match=re.escape(
            "input 'Y': expected shape (batch, 1), got (4,) (a column: reshape it with .reshape(-1, 1))") + "$"):
        cg.check_gradients(net.graph, X=X, Y=Y)
    assert cg.check_gradients(net.graph, X=X, Y=Y.reshape(-1, 1)).ok
    g = cg.Graph()
    g.output(cg.sum(g.input("v", shape=(None,))), name="s")
    with pytest.raises(cg.InputError, match=re.escape("got (3, 1) (drop the last axis of 1: .reshape(-1))") + "$"):
        cg.evaluate(g, v=np.ones((3, 1)))
    with pytest.raises(cg.InputError, match=re.escape("input 'Y': expected shape (batch, 1), got (4, 2)") + "$"):
        cg.evaluate(net.graph, X=X, Y=np.ones((4, 2)))  # no reshape makes it fit: no hint


def test_names_run_together_are_named_as_a_product_to_write():
    # exp(xz), the lecture's e^{xz} typed as on paper, has one input 'xz': evaluating it at
    # x=2, z=3 said only that x and z are not nodes
    with pytest.raises(cg.InputError, match=re.escape(
            "unexpected input(s): 'x' is not a node of graph 'graph'; 'z' is not a node of graph 'graph' "
            "(inputs: xz); 'xz' is one name: to multiply, write x*z") + "$"):
        cg.grad(cg.parse("exp(xz)"), x=2, z=3)
    with pytest.raises(cg.InputError, match=re.escape("(inputs: xz, x); 'xz' is one name: to multiply, write x*z")):
        cg.evaluate(cg.parse("exp(xz) + xz/log(x)"), x=2, z=3)
    with pytest.raises(cg.InputError, match=re.escape("'w1x1' is one name: to multiply, write w1*x1") + "$"):
        cg.finite_difference(cg.parse("w1x1 + b"), w1=1.0, x1=2.0, b=0.0)
    with pytest.raises(cg.InputError, match=re.escape("(inputs: x, z)") + "$"):
        cg.evaluate(cg.parse("x*z"), x=2, z=3, w=1)  # nothing run together: no hint
