"""to_text: the expanded and program forms, precedence, numbers, swell, scale."""

from __future__ import annotations

import warnings
from fractions import Fraction

import numpy as np
import pytest
from graphs import lecture, sin_chain
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from strategies import examples, expressions, finite_values, op_graphs, points

import cgraph as cg
from cgraph.printing.render import MAX_LENGTH

LECTURE_ADJOINT = """\
a = x*z
b = log(x)
c = sin(b)
d = exp(a)
e = a/b
f = c/a
y = d + e + f
g_y = 1
g_f = g_y
g_e = g_y
g_d = g_y
g_c = g_f*(1/a)
g_b = g_e*(-a/b^2) + g_c*cos(b)
g_a = g_f*(-c/a^2) + g_e*(1/b) + g_d*d
g_x = g_b*(1/x) + g_a*z
g_z = g_a*x"""


def test_lecture_forward_expanded_and_program():
    g = lecture()
    assert cg.to_text(g) == "y = exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
    assert cg.to_text(g, form="program") == "\n".join(LECTURE_ADJOINT.splitlines()[:7])


def test_lecture_adjoint_program_is_the_lecture_listing():
    assert cg.to_text(cg.adjoint(lecture()), form="program") == LECTURE_ADJOINT


def test_node_forms():
    g = lecture()
    assert cg.to_text(g["e"]) == "x*z/log(x)"
    assert cg.to_text(g["e"], form="program") == "a = x*z\nb = log(x)\ne = a/b"
    assert cg.to_text(g["x"]) == "x"


def _one(build, names=("a", "b", "c")):
    g = cg.Graph()
    args = [g.input(n) for n in names]
    return cg.to_text(build(*args))


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda a, b, c: a - (b - c), "a - (b - c)"),
        (lambda a, b, c: (a - b) - c, "a - b - c"),
        (lambda a, b, c: a - (b + c), "a - (b + c)"),
        (lambda a, b, c: (a + b) - c, "a + b - c"),
        (lambda a, b, c: a / (b * c), "a/(b*c)"),
        (lambda a, b, c: a / b * c, "a/b*c"),
        (lambda a, b, c: a * b / c, "a*b/c"),
        (lambda a, b, c: a / (b / c), "a/(b/c)"),
        (lambda a, b, c: -(a + b), "-(a + b)"),
        (lambda a, b, c: -(-a), "-(-a)"),  # --a read as one sign, or a typo
        (lambda a, b, c: -(-2 * a), "-(-2*a)"),
        (lambda a, b, c: (-a) ** 2, "(-a)^2"),
        (lambda a, b, c: -(a**2), "-a^2"),
        (lambda a, b, c: a ** (b**c), "a^b^c"),
        (lambda a, b, c: (a**b) ** c, "(a^b)^c"),
        (lambda a, b, c: a * (-b), "a*(-b)"),
        (lambda a, b, c: a + (-b), "a - b"),
        (lambda a, b, c: a - (-b), "a + b"),
        (lambda a, b, c: a + (-b) * c, "a - b*c"),
        (lambda a, b, c: a ** (-1), "a^(-1)"),
        (lambda a, b, c: (a + b) * c, "(a + b)*c"),
        (lambda a, b, c: a * (b * c), "a*(b*c)"),
        (lambda a, b, c: cg.mul(a, b, c), "a*b*c"),
        (lambda a, b, c: cg.add(a, b * c, c), "a + b*c + c"),
        (lambda a, b, c: cg.exp(a + b) * c, "exp(a + b)*c"),
        (lambda a, b, c: a @ b, "a @ b"),
        (lambda a, b, c: Fraction(1, 2) * a, "1/2*a"),
        (lambda a, b, c: a * Fraction(1, 2), "a*(1/2)"),
        (lambda a, b, c: a ** Fraction(1, 2), "a^(1/2)"),
        (lambda a, b, c: Fraction(-1, 2) * a, "-1/2*a"),
        (lambda a, b, c: 2.5 * a, "2.5*a"),
        (lambda a, b, c: a * 1e-05, "a*1e-05"),
        (lambda a, b, c: a * -0.5, "a*(-0.5)"),
        (lambda a, b, c: -2 * a, "-2*a"),
        (lambda a, b, c: a - 3, "a - 3"),
        (lambda a, b, c: a + -3, "a - 3"),
        (lambda a, b, c: a - -3, "a + 3"),
        (lambda a, b, c: (a * 0.1) + 1 / 3, "a*0.1 + 0.3333333333333333"),
        (lambda a, b, c: cg.identity(a) * b, "a*b"),
        (lambda a, b, c: cg.sum(a, axis=1), "sum(a, axis=1)"),
        (lambda a, b, c: cg.sum(a), "sum(a)"),
        (lambda a, b, c: cg.mean(a, axis=(0, 1), keepdims=True), "mean(a, axis=(0, 1), keepdims=True)"),
        (lambda a, b, c: cg.softmax(a), "softmax(a)"),
        (lambda a, b, c: cg.logsumexp(a, axis=0), "logsumexp(a, axis=0)"),
    ],
)
def test_fewest_parentheses(build, expected):
    assert _one(build) == expected


def test_a_product_led_by_minus_one_prints_a_minus_sign():
    g = cg.Graph()
    x, z = g.input("x"), g.input("z")
    m = cg.mul(g.const(-1), x, z)
    g.output(cg.add(g.input("a") * m, m - cg.mul(g.const(-1), g.const(2), x), cg.mul(g.const(-1), -x)), name="y")
    text = cg.to_text(g)
    assert text == "y = a*(-x*z) - x*z + 1*2*x - (-x)"  # -1*2 stays a number
    assert cg.to_latex(g).endswith(r"= a \left(-x z\right) - x z + 1 \cdot 2 x - \left(-x\right)")
    back = cg.parse(text.split(" = ", 1)[1])
    feeds = {"a": 1.5, "x": 0.3, "z": -2.0}
    assert cg.evaluate(back, **feeds)["y"] == pytest.approx(cg.evaluate(g, **feeds)["y"], rel=1e-15)


def test_program_inlines_short_unnamed_single_use_temporaries_only():
    g = cg.Graph()
    x = g.input("x")
    t = cg.sin(x)  # used twice: its own line
    u = cg.cos(x)  # used once: inline
    g.output(t * t + u, name="y")
    assert cg.to_text(g, form="program") == f"{t.name} = sin(x)\ny = {t.name}*{t.name} + cos(x)"


def test_program_gives_long_single_use_temporaries_a_line():
    g = sin_chain(40)
    lines = cg.to_text(g, form="program").splitlines()
    assert len(lines) > 1 and all(len(line) < 100 for line in lines)
    assert lines[-1].startswith("y = ")


def test_output_that_is_a_named_constant_and_non_ascii_names():
    g = cg.Graph()
    alpha = g.input("α")
    g.output(cg.exp(alpha) * 2, name="β")
    assert cg.to_text(g) == "β = exp(α)*2"


def test_arrays_print_as_nested_lists():
    g = cg.Graph()
    x = g.input("x", shape=(2,))
    g.output(x * np.array([1.0, 2.0]), name="y")
    assert cg.to_text(g) == "y = x*[1.0, 2.0]"


def test_expression_swell_falls_back_to_the_program_form():
    g = cg.Graph()
    x = g.input("x")
    y = x
    for _ in range(16):  # the lecture notes' swell example: y = y*y + x
        y = y * y + x
    g.output(y, name="y")
    with pytest.warns(UserWarning, match="expression swell"):
        text = cg.to_text(g)
    assert text == cg.to_text(g, form="program")
    assert len(text) < 1000
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(cg.to_text(g, max_length=10**7)) > MAX_LENGTH


def test_long_chain_prints_without_recursion():
    g = sin_chain(100_000)
    text = cg.to_text(g, form="program")
    assert text.count("\n") >= 100_000 // 20  # a line every few inlined sin()
    with pytest.warns(UserWarning):
        cg.to_text(g)


def test_bad_arguments():
    g = lecture()
    with pytest.raises(ValueError, match="form"):
        cg.to_text(g, form="tree")
    with pytest.raises(cg.CGraphError):
        cg.to_text("y = x")


@pytest.mark.skipif(not hasattr(cg, "parse"), reason="cg.parse has not landed")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(expressions(), points())
def test_parse_reads_the_text_back_to_the_same_function(g, point):
    vals = finite_values(g, point)
    assume(vals is not None)
    for form in ("expanded", "program"):
        back = cg.parse(cg.to_text(g, form=form))
        feeds = {k: v for k, v in point.items() if k in back.inputs}  # unused inputs do not print
        got = cg.evaluate(back, feeds, nonfinite="propagate")[back.outputs[-1]]
        np.testing.assert_allclose(got, vals["y"], rtol=1e-12, atol=1e-300)


@pytest.mark.skipif(not hasattr(cg, "parse"), reason="cg.parse has not landed")
def test_parse_reads_the_lecture_adjoint_program():
    back = cg.parse(LECTURE_ADJOINT)
    assert back.outputs == ["g_x", "g_z"]  # was ['g_z']: g_x, printed, was lost on reading
    vals = cg.evaluate(back, x=2.0, z=3.0)
    expected = cg.grad(lecture(), x=2.0, z=3.0)
    assert vals["g_x"] == pytest.approx(expected["x"], rel=1e-14)
    assert vals["g_z"] == pytest.approx(expected["z"], rel=1e-14)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(op_graphs(max_steps=6))
def test_text_of_any_graph_reads_back_to_the_same_function(case):
    # every op, arrays, attributes, array constants: API.md's promise for to_text
    g, point, _ = case
    g = g.copy()
    x = max(g.inputs, key=lambda n: np.size(point[n]))  # and an array constant, in x's shape
    shape = np.shape(point[x])
    weights = np.arange(np.prod(shape), dtype=float).reshape(shape) - 0.5 if shape else -0.5
    g.output(g.node(x) * g.const(weights), name="weighted")
    for form in ("program", "expanded"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # an expanded form past its cap falls back to the program
            back = cg.parse(cg.to_text(g, form=form))
        assert back.outputs == g.outputs  # was ['weighted']: y was lost
        before = cg.evaluate(g, point, nonfinite="propagate")
        after = cg.evaluate(back, {k: v for k, v in point.items() if k in back.inputs}, nonfinite="propagate")
        for o in g.outputs:
            assert np.shape(after[o]) == np.shape(before[o])
            np.testing.assert_allclose(after[o], before[o], rtol=1e-12, atol=1e-12)


#: names parse would read as something else: numbers, functions, literals, keywords, operators
HOSTILE = ["1", "2.5", "x-1", "a b", "sin", "exp", "nan", "inf", "True", "None", "if", "lambda",
           "__import__", "W₁", "x*z", "(", "#", ";", "y = 2", "[0]", "λ", "g_x", "return"]
NAMES = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(st.characters(blacklist_categories=("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"),
                          blacklist_characters="`\r\n"), min_size=1, max_size=5),
)


@settings(max_examples=examples(60), deadline=None, suppress_health_check=list(HealthCheck))
@given(op_graphs(max_steps=5), st.lists(NAMES, min_size=4, max_size=4, unique=True))
def test_any_names_read_back_as_the_same_names(case, names):
    # a name that would read as a number, a function or an operator is printed in
    # backticks; before, an input named "x-1" printed as x-1 and read back as x minus 1
    g, point, _ = case
    g = g.copy()
    renamed = dict(zip(list(g.inputs) + g.outputs[-1:], names))
    assume(not any(n in g.nx for n in names))
    for old, new in renamed.items():
        g.rename(old, new)
    feeds = {renamed.get(k, k): v for k, v in point.items()}
    before = cg.evaluate(g, feeds, nonfinite="propagate")
    for form in ("program", "expanded"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            back = cg.parse(cg.to_text(g, form=form))
        assert set(back.inputs) <= set(g.inputs) and back.outputs == g.outputs
        after = cg.evaluate(back, {k: v for k, v in feeds.items() if k in back.inputs}, nonfinite="propagate")
        for o in back.outputs:
            np.testing.assert_allclose(after[o], before[o], rtol=1e-12, atol=1e-12)


def test_names_that_are_not_plain_print_in_backticks():
    g = cg.Graph()
    x, one = g.input("x-1"), g.input("1")
    s = cg.sin(x).named("sin")
    g.output(s * one + 2, name="nan")
    assert cg.to_text(g, form="program") == "`sin` = sin(`x-1`)\n`nan` = `sin`*`1` + 2"
    back = cg.parse(cg.to_text(g))
    assert back.inputs == ["x-1", "1"] and back.outputs == ["nan"]
    assert cg.evaluate(back, {"x-1": 0.5, "1": 3.0})["nan"] == cg.evaluate(g, {"x-1": 0.5, "1": 3.0})["nan"]


@pytest.mark.parametrize("value, digits", [(10**5000, "1" + "0" * 5000), (Fraction(10**5000 + 1, 3), f"(1{'0' * 4999}1/3)")],
                         ids=["int", "fraction"])
def test_an_exact_constant_past_4300_digits_prints_its_digits(value, digits):
    # repr() of such an int raises ValueError: to_text (and `cgraph grad` of a file holding
    # one) crashed; now it prints it exactly, and cg.parse says it is too long to read back
    g = cg.Graph()
    x = g.input("x")
    g.output(x * g.const(value), name="y")
    assert cg.to_text(g) == f"y = x*{digits}"
    with pytest.raises(cg.ParseError, match="an integer of 5001 digits is too long"):
        cg.parse(cg.to_text(g))


# ------------------------------------------------------------- several outputs read back
def _read_back(h, form):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # expression swell; a name that reads as a typo
        text = cg.to_text(h, form=form)
        return text, cg.parse(text)


@pytest.mark.parametrize("form", ["expanded", "program"])
def test_a_printed_gradient_reads_back_with_all_its_outputs(form):
    # parse read "g_x = ...\ng_z = ..." as the graph of g_z alone: the CLI's and the
    # README's gradients, saved and read again, had lost dy/dx
    g = cg.parse("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    expected = cg.grad(g, x=2.0, z=3.0)
    for h in (cg.simplify(cg.adjoint(g, wrt=["x", "z"])), cg.adjoint(lecture()), cg.adjoint(g, wrt=["z", "x"])):
        text, back = _read_back(h, form)
        assert back.outputs == h.outputs, text
        vals = cg.evaluate(back, x=2.0, z=3.0)
        assert [vals[o] for o in h.outputs] == pytest.approx([expected[o[2:]] for o in h.outputs], rel=1e-13)


def test_outputs_go_last_in_their_order_in_a_program():
    # the raw Hessian computes its first row before the second sweep: it read back as row 2
    h = cg.hessian_graph(cg.parse("(1 - x)^2 + 100*(z - x^2)^2"))
    lines = cg.to_text(h, form="program").splitlines()
    assert [line.split(" = ")[0] for line in lines[-4:]] == ["g2_x", "g2_z", "g3_x", "g3_z"] == h.outputs
    assert not lines[-1].startswith("return") and cg.parse("\n".join(lines)).outputs == h.outputs
    g = cg.Graph()
    x = g.input("x")
    a, b = cg.sin(x).named("a"), cg.cos(x).named("b")
    g.set_outputs([b, a])
    assert cg.to_text(g, form="program") == cg.to_text(g) == "b = cos(x)\na = sin(x)"


def test_return_lists_the_outputs_where_the_lines_alone_cannot_say_them():
    g = cg.Graph()
    x = g.input("x")
    h = g.output(cg.sin(x), name="h")
    g.output(h * 2, name="y")  # y uses the output h: h is no longer unused
    assert cg.to_text(g) == "h = sin(x)\ny = sin(x)*2"
    assert cg.to_text(g, form="program") == "h = sin(x)\ny = h*2\nreturn h, y"
    g = cg.Graph()
    x = g.input("x")
    g.output(cg.sin(x), name="a")
    cg.cos(x).named("d")  # computed after a, used by nothing: it would read as the output
    assert cg.to_text(g) == "a = sin(x)"
    assert cg.to_text(g, form="program") == "a = sin(x)\nd = cos(x)\nreturn a"
    g.set_outputs(["a", "x"])  # an input as an output: x = x does not read
    assert cg.to_text(g) == "a = sin(x)\nreturn a, x"
    assert cg.to_text(g, form="program") == "a = sin(x)\nd = cos(x)\nreturn a, x"
    g.set_outputs(["x"])
    assert cg.to_text(g) == "return x" and cg.to_text(g, form="program") == "a = sin(x)\nd = cos(x)\nreturn x"
    for form in ("expanded", "program"):
        for outputs in (["a", "x"], ["x"], ["d", "a"], ["a"]):
            g.set_outputs(outputs)
            assert _read_back(g, form)[1].outputs == outputs


def test_an_expanded_form_that_falls_back_to_the_program_reads_back_with_its_outputs():
    g = cg.Graph()
    x = g.input("x")
    h = g.output(cg.sin(x) * cg.cos(x), name="h")
    g.output(h * h + h, name="y")
    with pytest.warns(UserWarning, match="expression swell"):
        text = cg.to_text(g, max_length=10)  # the program: y's line uses h, so it says return h, y
    assert text == "h = sin(x)*cos(x)\ny = h*h + h\nreturn h, y" and cg.parse(text).outputs == ["h", "y"]


def test_a_line_only_outputs_use_moves_behind_the_unused_ones():
    g = cg.Graph()
    x = g.input("x")
    u = cg.exp(x).named("u")
    cg.cos(x).named("d")  # unused, after u
    g.output(u + 1, name="y")
    assert cg.to_text(g, form="program") == "d = cos(x)\nu = exp(x)\ny = u + 1"
    assert cg.parse(cg.to_text(g, form="program")).outputs == ["y"]


def test_a_node_program_ends_with_the_node():
    g = cg.Graph()
    x = g.input("x")
    s = cg.sin(x)  # a generated name, t1
    g.output(cg.cos(x), name="y")
    assert cg.to_text(s, form="program") == "t1 = sin(x)" and cg.parse("t1 = sin(x)").outputs == ["t1"]
    assert cg.to_text(x, form="program") == cg.to_text(x) == "x"  # it was "", which parse refuses
    g.set_outputs([s])
    assert cg.to_text(g) == "t1 = sin(x)" and _read_back(g, "program")[1].outputs == ["t1"]


@st.composite
def several_outputs(draw):
    """A graph of ``expressions`` as drawn, or its (simplified) adjoint or Hessian; with
    outputs of its own or any of its nodes (used by one another, inputs, constants) in any order."""
    g = draw(expressions(max_steps=7))
    kind = draw(st.sampled_from(["adjoint", "simplified adjoint", "hessian", "simplified hessian", "forward"]))
    h = {"adjoint": cg.adjoint, "simplified adjoint": lambda g: cg.simplify(cg.adjoint(g)),
         "hessian": cg.hessian_graph, "simplified hessian": lambda g: cg.simplify(cg.hessian_graph(g)),
         "forward": lambda g: g}[kind](g)
    if kind == "forward" or draw(st.booleans()):
        h = h.copy()
        h.set_outputs(draw(st.lists(st.sampled_from(list(h.nx)), min_size=1, max_size=5, unique=True)))
    for old, new in zip(list(h.outputs), draw(st.lists(NAMES, max_size=3, unique=True))):
        if new not in h.nx and h.nx.nodes[old]["role"] != "input":  # (the inputs keep the names points() feeds)
            h = h.copy() if h is g else h
            h.rename(old, new)
    return h


@settings(max_examples=examples(80), deadline=None, suppress_health_check=list(HealthCheck))
@given(several_outputs(), points())
def test_text_of_several_outputs_reads_back_as_those_outputs(h, point):
    with np.errstate(all="ignore"):
        before = cg.evaluate(h, point, nonfinite="propagate")
    for form in ("expanded", "program"):
        text, back = _read_back(h, form)
        assert back.outputs == h.outputs, text
        with np.errstate(all="ignore"):
            after = cg.evaluate(back, {k: point[k] for k in back.inputs}, nonfinite="propagate")
        for o in h.outputs:
            np.testing.assert_allclose(after[o], before[o], rtol=1e-12, atol=1e-12, err_msg=f"{o}\n{text}")


def test_a_program_of_a_function_and_its_gradient_lists_the_forward_lines_first():
    # the program put loss = mean(t6) among the backward lines, after g_a1, with the outputs
    net = cg.nn.MLP([2, 3, 1], seed=0)
    g = net.gradient_graph()
    text = cg.to_text(g, form="program")
    assert text.splitlines() == [
        "a1 = X @ W1 + b1", "z1 = sigmoid(a1)", "yhat = z1 @ W2 + b2", "t5 = yhat - Y", "t6 = square(t5)",
        "loss = mean(t6)",
        "g_t5 = 2*t5/size(t6)", "g_z1 = g_t5 @ transpose(W2)", "g_a1 = z1*g_z1*(1 - z1)",
        "g_W1 = transpose(X) @ g_a1", "g_b1 = sum_to(g_a1, b1)", "g_W2 = transpose(z1) @ g_t5", "g_b2 = sum_to(g_t5, b2)",
        "return loss, g_W1, g_b1, g_W2, g_b2",
    ]
    back = cg.parse(text)
    assert back.outputs == g.outputs
    feeds = {"X": np.array([[0.5, -1.0], [2.0, 0.25]]), "Y": np.array([[1.0], [0.0]])}
    want, got = cg.evaluate(g, **feeds), cg.evaluate(back, **feeds, **net.params)
    for o in g.outputs:
        np.testing.assert_allclose(got[o], want[o], rtol=1e-14)
    # a program of derivatives alone keeps its outputs last, with no return line
    assert cg.to_text(cg.simplify(cg.adjoint(lecture())), form="program").splitlines()[-1].startswith("g_z = ")


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # replace_zero_if(u, v) prints as u: a line used only as its v is unused in the
        # text, and read back as an output (parse gave ['t', 'y'])
        ("t = abs(x)\ny = replace_zero_if(x, t + t)", "t = abs(x)\ny = x\nreturn y"),
        ("t = abs(x)\nu = t + t\ny = replace_zero_if(x, u)\nreturn y", "t = abs(x)\nu = t + t\ny = x\nreturn y"),
        ("t = abs(x)\ny = replace_zero_if(x, t) + t", "t = abs(x)\ny = x + t"),  # shown once: no return
    ],
)
def test_a_line_used_only_where_the_text_does_not_show_it_does_not_read_back_as_an_output(source, expected):
    g = cg.parse(source)
    text = cg.to_text(g, form="program")
    assert text == expected
    back = cg.parse(text)
    assert back.outputs == g.outputs == ["y"]
    assert cg.evaluate(back, x=-1.5)["y"] == cg.evaluate(g, x=-1.5)["y"]
