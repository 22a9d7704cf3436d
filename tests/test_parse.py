"""cg.parse: the lecture's program, operators, merging, programs, errors, hostile text."""

from __future__ import annotations

import ast
import builtins
import importlib
import re
import sys
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import cgraph as cg
from cgraph.lexer import MAX_LENGTH
from cgraph.parse import MAX_NESTING

LECTURE = "a = x*z\nb = log(x)\nc = sin(b)\nd = exp(a)\ne = a/b\nf = c/a\ny = d + e + f"
FORMULA = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
Y = 412.19145728412116


def ops(g):
    return {n: (g.nx.nodes[n]["op"], g.operands(n)) for n in g.schedule()}


def value(text, **inputs):
    return cg.evaluate(cg.parse(text), **inputs)[cg.parse(text).outputs[0]]


# ---------------------------------------------------------------- the lecture
def test_lecture_program_is_the_lectures_graph():
    g = cg.parse(LECTURE)
    assert list(g.schedule()) == ["x", "z", "a", "b", "c", "d", "e", "f", "y"]
    assert g.nx.number_of_edges() == 12
    assert g.inputs == ["x", "z"] and g.outputs == ["y"]
    assert ops(g) == {
        "x": ("input", ()),
        "z": ("input", ()),
        "a": ("mul", ("x", "z")),
        "b": ("log", ("x",)),
        "c": ("sin", ("b",)),
        "d": ("exp", ("a",)),
        "e": ("div", ("a", "b")),
        "f": ("div", ("c", "a")),
        "y": ("add", ("d", "e", "f")),
    }
    assert cg.evaluate(g, x=2, z=3)["y"] == pytest.approx(Y, rel=1e-15)


def test_lecture_formula_merges_x_times_z():
    g = cg.parse(FORMULA)
    assert len(g) == 9 and g.nx.number_of_edges() == 12
    (xz,) = [n for n in g.nx if g.nx.nodes[n]["op"] == "mul"]
    assert len(g.users(xz)) == 3  # exp(a), a/b, c/a
    assert g.outputs == ["y"] and g.node("y").op == "add" and len(g.operands("y")) == 3
    assert float(cg.evaluate(g, x=2, z=3)["y"]) == pytest.approx(Y, rel=1e-15)


# ---------------------------------------------------------------- operators
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-2^2", -4.0),
        ("-2**2", -4.0),
        ("2^3^2", 512.0),  # right-associative
        ("2**-1", 0.5),
        ("2^-1^2", 0.5),  # 2^(-(1^2))
        ("(-2)^2", 4.0),
        ("2*-3", -6.0),
        ("--3", 3.0),
        ("+3", 3.0),
        ("12/3/2", 2.0),
        ("12/(3/2)", 8.0),
        ("10 - 3 - 2", 5.0),
        ("2 + 3*4^2", 50.0),
        ("1e-3 * 1000", 1.0),
        (".5 + 1.", 1.5),
        ("7", 7.0),
    ],
)
def test_precedence_and_numbers_follow_python(text, expected):
    assert float(value(text)) == expected


def test_unary_minus_binds_looser_than_power():
    g = cg.parse("-x^2")
    assert g.node("y").op == "neg" and g.node("y").operands[0].op == "pow"
    g = cg.parse("-x*z")
    assert g.node("y").op == "mul" and g.node("y").operands[0].op == "neg"


def test_number_literals_keep_their_type():
    g = cg.parse("y = 7*x + 2.5*x + 1e-3 - -3")
    consts = {g.attrs(n)["value"] for n in g.nx if g.nx.nodes[n]["op"] == "const"}
    assert consts == {7, 2.5, 0.001, -3}
    assert {type(v) for v in consts} == {int, float}
    assert not any(isinstance(v, Fraction) for v in consts)


@pytest.mark.parametrize(
    ("text", "op", "n"),
    [("a + b + c", "add", 3), ("a*b*c*d", "mul", 4), ("a - b - c", "sub", 2), ("a + b - c + d", "add", 2)],
)
def test_chains_flatten_into_variadic_nodes(text, op, n):
    g = cg.parse(text)
    assert g.node("y").op == op and len(g.operands("y")) == n


def test_parenthesised_groups_and_calls_do_not_flatten():
    g = cg.parse("(a + b) + c")
    assert [g.node(o).op for o in g.operands("y")] == ["add", "input"]
    g = cg.parse("add(a, b) + c")
    assert len(g.operands("y")) == 2
    g = cg.parse("add(a, b, c)")
    assert g.operands("y") == ("a", "b", "c")


def test_x_times_x_keeps_both_operands():
    g = cg.parse("x*x")
    assert g.operands("y") == ("x", "x") and g.nx.number_of_edges() == 2
    assert float(cg.evaluate(g, x=3.0)["y"]) == 9.0


def test_matmul_and_keyword_attributes():
    g = cg.parse("y = sum(X @ W, axis=1, keepdims=True) + mean(transpose(X, axes=(1, 0)))")
    sums = [n for n in g.nx if g.nx.nodes[n]["op"] == "sum"]
    assert g.attrs(sums[0]) == {"axis": 1, "keepdims": True}
    X, W = np.arange(6.0).reshape(3, 2), np.ones((2, 4))
    expected = np.sum(X @ W, axis=1, keepdims=True) + np.mean(X.T)
    np.testing.assert_allclose(cg.evaluate(g, X=X, W=W)["y"], expected)
    g = cg.parse("reshape(x, shape=(2, -1,))")
    assert g.attrs("y") == {"shape": (2, -1)}


@pytest.mark.parametrize("name", sorted(cg.OPS))
def test_every_op_is_callable_by_name(name):
    op = cg.OPS[name]
    args = ", ".join(["x", "z", "w"][: op.arity or 3])
    extra = ", shape=(-1,)" if name == "reshape" else ""
    g = cg.parse(f"{name}({args}{extra})")
    assert g.node("y").op == name and len(g.operands("y")) == (op.arity or 3)


# ---------------------------------------------------------------- merging
def test_identical_subexpressions_are_one_node():
    g = cg.parse("x*z + z*x + sin(x) * sin(x)")
    assert sum(1 for n in g.nx if g.nx.nodes[n]["op"] == "mul") == 2  # x*z (=z*x) and sin*sin
    assert sum(1 for n in g.nx if g.nx.nodes[n]["op"] == "sin") == 1
    g = cg.parse("x - z + (z - x)")  # sub is not commutative
    assert sum(1 for n in g.nx if g.nx.nodes[n]["op"] == "sub") == 2


def test_merging_respects_attributes_and_constant_types():
    g = cg.parse("sum(X, axis=0) + sum(X, axis=1) + sum(X) + sum(X, axis=None)")
    assert sum(1 for n in g.nx if g.nx.nodes[n]["op"] == "sum") == 3
    g = cg.parse("2*x + 2.0*x + 2*z")
    consts = [g.attrs(n)["value"] for n in g.nx if g.nx.nodes[n]["op"] == "const"]
    assert sorted(map(repr, consts)) == ["2", "2.0"]


def test_a_later_statement_reuses_an_earlier_named_node():
    g = cg.parse("a = x*z\nd = exp(x*z)")
    assert g.operands("d") == ("a",)
    # an unnamed node that a later line names gets that name
    g = cg.parse("d = exp(x*z)\na = z*x")
    assert g.operands("d") == ("a",) and len(g) == 4


# ---------------------------------------------------------------- programs
def test_program_syntax():
    text = "# the lecture, abridged\r\n\r\na = x*z   # product\r\nb = log(\n    x\n)\n\n; y = a +\\\n b"
    with pytest.raises(cg.ParseError, match="'\\\\' is not allowed"):
        cg.parse(text)
    g = cg.parse(text.replace("\\\n", ""))
    assert g.outputs == ["y"] and g.operands("y") == ("a", "b")


def test_inputs_in_order_of_first_appearance_and_last_assignment_is_output():
    g = cg.parse("p = w*v\nq = u + p\nr = q*w")
    assert g.inputs == ["w", "v", "u"] and g.outputs == ["r"]


def test_outputs_are_the_last_assignment_and_the_unused_ones_just_before_it():
    # the printed gradient of a function of x and z is one line per output; parse read
    # back only the last (g_z), so the text of a multi-output graph lost all outputs but one
    assert cg.parse("g_x = z*exp(x*z)\ng_z = x*exp(x*z)").outputs == ["g_x", "g_z"]
    assert cg.parse("a = x*2\ny = x + 1").outputs == ["a", "y"]
    assert cg.parse("a = sin(x)\ncos(x)").outputs == ["a", "y"]
    # a line that a later line uses ends the run: the lecture's forward program has one
    assert cg.parse(LECTURE).outputs == ["y"]
    assert cg.parse("u = x + 1\na = u*2\nb = u*3").outputs == ["a", "b"]
    assert cg.parse("a = x*2\nb = x + 1\nc = a*b\nd = sin(x)").outputs == ["c", "d"]
    # a use is by name: z*x is the node x*z, but b names it without using a
    g = cg.parse("a = x*z\nb = z*x")
    assert g.outputs == ["a", "b"] and g.operands("b") == ("a",)


def test_return_lists_the_outputs():
    g = cg.parse("h = sin(x)\ny = h*2\nreturn h, y")  # h is used by y, and an output all the same
    assert g.outputs == ["h", "y"]
    assert cg.parse("a = sin(x)\nb = cos(x)\nreturn b, a").outputs == ["b", "a"]  # in its order
    g = cg.parse("a = sin(x)\nd = cos(x)\nreturn a")  # d is computed, and no output
    assert g.outputs == ["a"] and "d" in g
    g = cg.parse("a = sin(x); return a, x\n\n# the end\n")  # an input is an output by its own name
    assert g.outputs == ["a", "x"] and g.inputs == ["x"]
    g = cg.parse("`return` = `sin`*2\nreturn `return`, `sin`")
    assert g.outputs == ["return", "sin"] and g.inputs == ["sin"]
    with pytest.warns(UserWarning, match=r"^line 1, column 8: 'x' is returned but neither assigned nor used before, "
                                         r"so it is an input that is also an output$"):
        g = cg.parse("return x")  # the text of the graph whose output is its input
    assert g.inputs == g.outputs == ["x"] and len(g) == 1
    with pytest.warns(UserWarning, match="'g_xx' is returned but neither assigned nor used before, so it is an "
                                         "input that is also an output: a typo of 'g_x'"):
        cg.parse("g_x = 2*x\ng_z = g_x*z\nreturn g_xx, g_z")


def test_unicode_names():
    g = cg.parse("θ = 2*α\nŷ = θ + β₀" if "β₀".isidentifier() else "θ = 2*α\nŷ = θ + βx")
    assert g.inputs[0] == "α" and g.outputs == ["ŷ"]


def test_output_names_and_aliases():
    assert cg.parse("x*z").outputs == ["y"]
    assert cg.parse("x*y").outputs == ["out"]  # y is an input
    g = cg.parse("x")
    assert g.node("y").op == "identity" and g.operands("y") == ("x",)
    g = cg.parse("a = x*z\nb = a")
    assert g.outputs == ["b"] and g.node("b").op == "identity"
    g = cg.parse("y = 2")
    assert g.node("y").op == "const" and g.attrs("y")["value"] == 2
    g = cg.parse("a = sin(x)\ncos(a)")
    assert g.outputs == ["y"] and g.node("y").op == "cos"


def test_generated_names_avoid_names_in_the_text():
    g = cg.parse("t1 = exp(x)*sin(x)\nt2 = t1 + cos(x)")
    assert {"t1", "t2"} <= set(g.nx) and g.outputs == ["t2"]
    assert g.operands("t2")[0] == "t1"


def test_graph_name_and_validated():
    g = cg.parse("x + 1", name="tiny")
    assert g.name == "tiny" and g.validate() is g


# ---------------------------------------------------------------- errors
ERRORS = [
    ("", 1, 1, "empty"),
    ("  # only a comment\n\n", 1, 1, "empty"),
    ("foo(x)", 1, 1, "unknown function 'foo'; known functions: abs, add"),
    ("y = x + bar(2)", 1, 9, "unknown function 'bar'"),
    ("ln(x)", 1, 1, "unknown function 'ln'; did you mean 'log'? known functions: abs"),  # another library's name
    ("sigmiod(x)", 1, 1, "unknown function 'sigmiod'; did you mean 'sigmoid'?"),  # a typo
    ("max(0, 1 - t*y)", 1, 1, "unknown function 'max'; did you mean 'maximum'?"),  # NumPy's reduction's name
    ("cosh(x)", 1, 1, "unknown function 'cosh'; known functions"),  # another function: no cos suggested
    ("x[1:3]", 1, 4, "a slice is written slice(x, start=1, stop=3, step=2, axis=0)"),  # README: x[1::2] in Python
    ("x[0]", 1, 2, "subscripts ('[' after a value) are not allowed; a slice is written slice(x, start=1"),
    ("exp(x, z)", 1, 1, "exp() takes 1 argument, got 2"),
    ("add(x)", 1, 1, "add() takes at least 2 arguments, got 1"),
    ("sin()", 1, 1, "sin() takes 1 argument, got 0"),
    ("sum(x, 1)", 1, 1, "attributes go by keyword: axis=..., keepdims=..."),
    ("sum(x, foo=1)", 1, 8, "no keyword 'foo'"),
    ("sum(x, axis=1, axis=2)", 1, 16, "given twice"),
    ("sum(axis=1, x)", 1, 13, "follows a keyword argument"),
    ("sum(x, axis=z)", 1, 13, "literal int"),
    ("sum(x, axis=1.5)", 1, 13, "literal int"),
    ("a = x\na = 2", 2, 1, "'a' is assigned twice (first on line 1)"),
    ("y = a + 1\na = x", 1, 5, "'a' is used before its assignment on line 2"),
    ("x = x + 1", 1, 5, "'x' is used before its assignment"),
    ("exp = x + 1", 1, 1, "cannot assign to 'exp'"),
    ("y = sin + 1", 1, 5, "'sin' is a function"),
    ("x + 1\ny = 2", 1, 3, "not assigned"),
    ("(x + 1", 1, 1, "never closed"),
    ("y = exp (x", 1, 9, "never closed"),
    ("x + 1)", 1, 6, "unbalanced ')'"),
    ("x\n)", 2, 1, "unbalanced ')'"),
    ("()", 1, 2, "empty parentheses"),
    ("x + 1 2", 1, 7, "expected an operator, ')' or the end of the line but found 2; to multiply, write 1*2"),
    ("x y", 1, 3, "expected an operator, ')' or the end of the line but found 'y'; to multiply, write x*y"),
    ("exp(x z)", 1, 7, "found 'z'; to multiply, write x*z"),  # the lecture's xz, as written on a slide
    ("2 x", 1, 3, "found 'x'; to multiply, write 2*x"),
    ("x `a b`", 1, 3, "found `a b`; to multiply, write x*`a b`"),
    ("sin(x) z", 1, 8, "found 'z'; to multiply, write '*' between the two"),
    ("ln x", 1, 4, "found 'x'; 'ln' is not a function: write log(...), as in log(x)"),
    ("Sin(x)", 1, 1, "unknown function 'Sin'; did you mean 'sin'?"),  # the case of a name in print
    ("Ln(x)", 1, 1, "unknown function 'Ln'; did you mean 'log'?"),
    ("sine(x)", 1, 1, "unknown function 'sine'; did you mean 'sin'?"),  # not size, as long
    # a letter typed twice, or dropped or added in a long name, got no suggestion (sinn got 'sign');
    # merely similar names of other functions got a wrong one (sinh: 'sign', atan: 'tanh')
    ("sinn(x)", 1, 1, "unknown function 'sinn'; did you mean 'sin'?"),
    ("expp(x)", 1, 1, "unknown function 'expp'; did you mean 'exp'?"),
    ("sigmod(x)", 1, 1, "unknown function 'sigmod'; did you mean 'sigmoid'?"),
    ("softmx(x)", 1, 1, "unknown function 'softmx'; did you mean 'softmax'?"),
    ("transpos(x)", 1, 1, "unknown function 'transpos'; did you mean 'transpose'?"),
    ("sgn(x)", 1, 1, "unknown function 'sgn'; did you mean 'sign'?"),
    ("sinh(x)", 1, 1, "unknown function 'sinh'; known functions"),
    ("atan(x)", 1, 1, "unknown function 'atan'; known functions"),
    ("exp2(x)", 1, 1, "unknown function 'exp2'; known functions"),
    ("cot(x)", 1, 1, "unknown function 'cot'; known functions"),
    # 'x²' (pasted from a slide) said only "'x²' is not a valid name"
    ("y = x² + 1", 1, 5, "'x²' is not a valid name; a power is written x^2"),
    ("2²", 1, 2, "'²' is not a valid name; a power is written with ^, as in x^2"),
    ("w₁*x", 1, 1, "'w₁' is not a valid name; write w_1 (drawn with its index below), or the name in backticks, `w₁`"),
    ("x +", 1, 4, "incomplete"),
    ("y =", 1, 4, "incomplete"),
    ("2x", 1, 1, "invalid number '2x'"),
    ("1.2.3", 1, 1, "invalid number"),
    ("0x1f", 1, 1, "invalid number"),
    ("1j", 1, 1, "invalid number"),
    ("1e999", 1, 1, "too large"),
    ("9" * 5000, 1, 1, "too long"),
    ("a = b = c", 1, 7, "unexpected '='"),
    ("x == z", 1, 3, "comparison"),
    ("x // 2", 1, 3, "floor division"),
    ("x % 2", 1, 3, "'%' is not supported"),
    ("x < 2", 1, 3, "'<' is not supported"),
    ("(x, z)", 1, 3, "tuples are not allowed"),
    ("x(2)", 1, 1, "unknown function 'x'; to multiply, write x*(...); known functions"),  # a product written as on paper
    ("w_1(x + b)", 1, 1, "unknown function 'w_1'; to multiply, write w_1*(...)"),
    ("2(3)", 1, 2, "cannot be called"),
    ("True", 1, 1, "keyword argument"),
    ("x\x00", 1, 2, "NUL"),
    ("x +\n\x07", 2, 1, "control character U+0007"),
    ("x\u202e+1", 1, 2, "invisible character U+202E"),
    ("\ufeffx", 1, 1, "U+FEFF"),
    ("x + \ud800", 1, 5, "lone surrogate U+D800"),
    ("x\u00a0+ 1", 1, 2, "NO-BREAK SPACE"),
    ("x $ 1", 1, 3, "unexpected character '$'"),
    ("a = 1\nb = a\n  c = sin(", 3, 10, "never closed"),
    ("x\r\ny +\r\n", 2, 4, "incomplete"),
    ("reshape(x)", 1, 1, "reshape needs a target shape"),
    ("exp(2 @ 3)", 1, 7, "matmul"),
    # array constants
    ("x*[1, [2]]", 1, 3, "equal lengths"),
    ("x*[[1, 2], [3]]", 1, 3, "equal lengths"),
    ("x*[1,,2]", 1, 6, "a list holds numbers"),
    ("x*[1 2]", 1, 6, "expected ',' or ']'"),
    ("x*[a]", 1, 4, "a list holds numbers (or lists of them), not 'a'"),
    ("x*[1", 1, 5, "expected ',' or ']' in a list but found end of text"),
    ("x*[--1]", 1, 5, "not '-'"),
    ("x*[" + "9" * 400 + "]", 1, 4, "an integer of 400 digits is too large"),
    ("x*" + "[" * 33 + "]" * 33, 1, 35, "lists nest deeper than 32 levels"),
    ("x]", 1, 2, "expected an operator"),
    ("[1][0]", 1, 4, "subscripts"),
    # return: the outputs by name, last
    ("a = x\nreturn", 2, 7, "expected the output names after return: return a, b"),
    ("a = x\nreturn a,", 2, 10, "expected an output name after ','"),
    ("a = x\nreturn a, a", 2, 11, "'a' is returned twice (first at column 8)"),
    ("a = x\nreturn a + 1", 2, 10, "return lists output names separated by ',', not '+' (to return an expression, "
                                   "assign it first: y = ...)"),
    ("a = x\nreturn a b", 2, 10, "not 'b'"),
    ("a = x\nreturn 2", 2, 8, "not 2"),
    ("a = x\nreturn sin", 2, 8, "'sin' is a function, not an output name (a name written so is `sin`)"),
    ("a = x\nreturn nan", 2, 8, "'nan' is a number, not an output name"),
    ("a = x\nreturn a\nb = a", 3, 1, "nothing may follow the return on line 2: it lists the outputs, last"),
    ("a = x\n\nreturn a\n\n2*a", 5, 1, "nothing may follow the return on line 3"),
    ("a = x\n2*a\nreturn a", 2, 2, "not assigned"),
    ("y = sin(return)", 1, 9, "keyword 'return' is not allowed"),
    ("y = x\n(return)", 2, 2, "keyword 'return' is not allowed"),
    ("return = x", 1, 1, "keyword 'return' is not allowed in a formula; as a variable write it in backticks"),
]


@pytest.mark.parametrize(("text", "names", "codes"), [
    ("𝑥^2 + x", ("x", "𝑥"), "U+1D465 MATHEMATICAL ITALIC SMALL X"),  # pasted from a PDF
    ("y = \u212a*T + K", ("K", "\u212a"), "U+212A KELVIN SIGN"),
    ("a = ｘ\ny = a*x", ("x", "ｘ"), "U+FF58 FULLWIDTH LATIN SMALL LETTER X"),
    ("e\u0301 + \u00e9", ("\u00e9", "e\u0301"), "U+0301 COMBINING ACUTE ACCENT, U+00E9"),
])
def test_two_names_that_look_alike_are_warned_of(text, names, codes):
    # 𝑥^2 + x parsed silently as two inputs 𝑥 and x, so its derivative by x was 1; Python
    # reads both as x (identifiers are compared in NFKC form)
    with pytest.warns(UserWarning, match="are two different names that look alike") as record:
        g = cg.parse(text)
    assert len(g.inputs) == len(set(g.inputs))  # still parsed as written
    message = str(record[0].message)
    assert f"{names[0]!r} and {names[1]!r}" in message and codes in message
    assert record[0].filename == __file__  # the caller's line


@pytest.mark.parametrize("text", ["θ + x", "ℓ*ℓ + x", "`𝑥` + x", "x̂ + x", "µ*2"])
def test_names_that_differ_or_are_quoted_are_not_warned_of(text):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cg.parse(text)


@pytest.mark.parametrize(("text", "line", "col", "message"), ERRORS)
def test_errors_name_line_column_and_culprit(text, line, col, message):
    with pytest.raises(cg.ParseError) as info:
        cg.parse(text)
    err = info.value
    assert (err.line, err.column) == (line, col), str(err)
    assert message in str(err)
    assert str(err).startswith(f"line {line}, column {col}: ")
    assert isinstance(err, ValueError) and isinstance(err, cg.CGraphError)


HOSTILE = [
    ("__import__('os').system('x')", 1, 1, "'__import__' is not allowed"),
    ("x.__class__", 1, 2, "attribute access"),
    ("(lambda: 1)()", 1, 2, "keyword 'lambda'"),
    ("[x for x in y]", 1, 4, "keyword 'for'"),
    ("[sin(x)]", 1, 2, "a list holds numbers"),
    ('"a"+"b"', 1, 1, "string literals"),
    ("x[0]", 1, 2, "subscripts"),
    ("{1: 2}", 1, 1, "dicts and sets"),
    ("y = __builtins__", 1, 5, "reserved"),
    ("import os", 1, 1, "keyword 'import'"),
    ("exec('1')", 1, 6, "string literals"),
    ("eval(x)", 1, 1, "unknown function 'eval'"),
    ("getattr(x, y)", 1, 1, "unknown function 'getattr'"),
    ("x if z else w", 1, 3, "keyword 'if'"),
    ("f'{x}'", 1, 2, "string literals"),
    ("x := 1", 1, 3, "':'"),
    ("@x", 1, 1, "expected a name"),
]


@pytest.mark.parametrize(("text", "line", "col", "message"), HOSTILE)
def test_hostile_python_is_refused_with_the_construct_named(text, line, col, message):
    with pytest.raises(cg.ParseError) as info:
        cg.parse(text)
    assert (info.value.line, info.value.column) == (line, col)
    assert message in str(info.value)


def test_parse_never_evaluates_or_compiles(monkeypatch):
    def forbidden(*args, **kwargs):
        raise AssertionError("parse must not eval/exec/compile")

    for name in ("eval", "exec", "compile"):
        monkeypatch.setattr(builtins, name, forbidden)
    monkeypatch.setattr(ast, "parse", forbidden)
    assert float(cg.evaluate(cg.parse(FORMULA), x=2, z=3)["y"]) == pytest.approx(Y)
    with pytest.raises(cg.ParseError):
        cg.parse("__import__('os').system('echo hacked')")


def test_not_a_string():
    with pytest.raises(cg.ParseError, match="needs a str, not bytes"):
        cg.parse(b"x + 1")


# ---------------------------------------------------------------- limits
def test_deep_nesting_raises_parse_error_not_recursion_error():
    with pytest.raises(cg.ParseError, match=f"deeper than {MAX_NESTING:,}") as info:
        cg.parse("(" * 100_000 + "x" + ")" * 100_000)
    assert (info.value.line, info.value.column) == (1, MAX_NESTING + 1)
    with pytest.raises(cg.ParseError, match="incomplete"):
        cg.parse("1+" * 100_000)


def test_deep_but_allowed_nesting_parses_without_recursion():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(250)  # anything recursive per level would fail here
    try:
        g = cg.parse("(" * MAX_NESTING + "x" + ")" * MAX_NESTING)
        chain = cg.parse("sin(" * 3000 + "x" + ")" * 3000)
        negs = cg.parse("-" * 20_001 + "x")
        powers = cg.parse("x^" * 3000 + "1")
    finally:
        sys.setrecursionlimit(limit)
    assert len(g) == 2 and len(chain) == 3001 and len(powers) == 3002
    assert negs.node("y").op == "neg" and len(negs) == 20_002


def test_length_cap():
    with pytest.raises(cg.ParseError, match="longer than 1,000,000 characters") as info:
        cg.parse("x+" * (MAX_LENGTH // 2) + "x")
    assert (info.value.line, info.value.column) == (1, MAX_LENGTH + 1)


# ---------------------------------------------------------------- random trees
_UNARY = {
    "sin": np.sin,
    "cos": np.cos,
    "tanh": np.tanh,
    "exp": np.exp,
    "abs": np.abs,
    "square": np.square,
    "sigmoid": lambda v: 1 / (1 + np.exp(-v)),
    "neg": np.negative,
}
_BIN = {"+": (np.add, 1), "-": (np.subtract, 1), "*": (np.multiply, 2), "/": (np.divide, 2), "^": (np.power, 4)}

leaves = st.one_of(
    st.sampled_from(["x", "z", "w"]),
    st.integers(1, 9),  # no 0: the parser folds -0 to the int 0, numpy negates 0.0 to -0.0
    st.floats(0.05, 20, allow_nan=False).map(lambda f: round(f, 3)),
)
trees = st.recursive(
    leaves,
    lambda kids: st.one_of(
        st.tuples(st.sampled_from(sorted(_UNARY)), kids),
        st.tuples(st.sampled_from(sorted(_BIN)), kids, kids),
    ),
    max_leaves=16,
)


def _write(tree):
    """(text, precedence) of a tree; parentheses keep the tree's exact shape."""
    if not isinstance(tree, tuple):
        return (str(tree), 10)
    if len(tree) == 2:
        op, a = tree
        text, p = _write(a)
        if op == "neg":
            return ("-" + (text if p >= 4 else f"({text})"), 3)
        return (f"{op}({text})", 10)
    op, a, b = tree
    prec = _BIN[op][1]
    (ta, pa), (tb, pb) = _write(a), _write(b)
    left_ok = pa > prec if op == "^" else pa >= prec
    right_ok = pb >= prec if op == "^" else pb > prec
    return (f"{ta if left_ok else f'({ta})'} {op} {tb if right_ok else f'({tb})'}", prec)


def _numpy(tree, env, sizes=None):
    """The tree's value; ``sizes`` collects the largest finite |value| of every subtree."""
    if isinstance(tree, str):
        out = env[tree]
    elif not isinstance(tree, tuple):
        out = np.float64(tree)
    elif len(tree) == 2:
        out = _UNARY[tree[0]](_numpy(tree[1], env, sizes))
    else:
        out = _BIN[tree[0]][0](_numpy(tree[1], env, sizes), _numpy(tree[2], env, sizes))
    if sizes is not None:
        magnitudes = np.abs(np.atleast_1d(out))
        sizes.append(float(magnitudes[np.isfinite(magnitudes)].max(initial=0.0)))
    return out


@settings(max_examples=80, deadline=None)
@given(trees)
def test_random_expression_trees_round_trip_through_text(tree):
    text, _ = _write(tree)
    env = {"x": np.array([-1.5, 0.3, 2.0]), "z": np.float64(0.7), "w": np.array([[1.1], [-0.4]])}
    sizes = []
    with np.errstate(all="ignore"):
        expected = np.broadcast_to(_numpy(tree, env, sizes), np.broadcast_shapes(*(np.shape(v) for v in env.values())))
    g = cg.parse(text)
    feeds = {k: v for k, v in env.items() if k in g.inputs}
    got = cg.evaluate(g, nonfinite="propagate", **feeds)[g.outputs[0]]
    got = np.broadcast_to(got, expected.shape) if np.ndim(got) <= expected.ndim else got
    # a rounding difference in a large intermediate (sigmoid(z)*exp(8x) ~ 1e7) stays an
    # absolute one after cos/sin: allow a few ulps of the largest intermediate
    atol = 1e-12 + 64 * np.finfo(np.float64).eps * max(sizes)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=atol, equal_nan=True)


FORMULA_CHARS = "xyzab0123456789.eE+-*/^@(),=;# \t\n_" + "sinexplogsumaxTrue" + "'\"[]{}:.\\%<>!&|~$?αβ\u00a0\x00\ud800"


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(alphabet=FORMULA_CHARS, max_size=40), st.text(max_size=20)))
def test_any_text_parses_or_raises_a_parse_error(text):
    try:
        g = cg.parse(text)
    except cg.ParseError as err:
        assert err.line >= 1 and err.column >= 1, err
    else:
        assert g.outputs and g.validate() is g


def test_nan_and_inf_are_numbers_and_non_finite_constants_round_trip_through_text():
    g = cg.Graph("nonfinite")
    x = g.input("x")
    g.output(x * g.const(float("inf")) + g.const(float("nan")) - g.const(float("-inf")), name="y")
    text = cg.to_text(g, form="program")
    back = cg.parse(text)
    assert back.inputs == ["x"]  # not inputs called nan and inf
    assert cg.to_text(back, form="program") == text
    for v in (-2.0, 0.5):
        ours = cg.evaluate(back, x=v, nonfinite="propagate")["y"]
        ref = cg.evaluate(g, x=v, nonfinite="propagate")["y"]
        assert np.array_equal(ours, ref, equal_nan=True)
    with pytest.raises(cg.DomainError, match="not finite"):  # as for the graph it came from
        cg.evaluate(back, x=1.0)
    assert float(cg.evaluate(cg.parse("y = exp(-inf) + x"), x=1.0, nonfinite="propagate")["y"]) == 1.0


@pytest.mark.parametrize("text", ["nan = x", "y = x\ninf = y"])
def test_nan_and_inf_cannot_be_assigned(text):
    with pytest.raises(cg.ParseError, match="cannot assign to '(nan|inf)': it is a number"):
        cg.parse(text)


def test_array_constants_are_lists_of_numbers():
    g = cg.parse("y = x @ [[1, 0],\n [0, -2.5]] + [-inf, nan,] + [[1, 0], [0, -2.5]]")
    consts = [n for n in g.schedule() if g.node(n).op == "const"]
    assert len(consts) == 2  # the same array twice is one node
    values = [g.attrs(n)["value"] for n in consts]
    np.testing.assert_array_equal(values[0], [[1.0, 0.0], [0.0, -2.5]])
    np.testing.assert_array_equal(values[1], [-np.inf, np.nan])
    assert all(v.dtype == np.float64 for v in values)
    assert cg.parse("y = x*[]").attrs("t1")["value"].shape == (0,)
    flat, nested = cg.parse("a = x*[1, 2]\ny = a*[[1, 2]]").schedule()[1::2][:2]
    assert flat != nested  # the same numbers in another shape are another constant


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=3)), st.booleans())
def test_array_constants_round_trip_through_text(value, program):
    g = cg.Graph("arrays")
    x = g.input("x")
    g.output(x * g.const(value) + g.const(value[..., :1]), name="y")
    form = "program" if program else "expanded"
    back = cg.parse(cg.to_text(g, form=form))
    if value.size or value.ndim == 1:  # else it reads back as reshape([], shape=...): a node of its own
        assert cg.to_text(back, form=form) == cg.to_text(g, form=form)
    ours, ref = (cg.evaluate(h, x=1.5, nonfinite="propagate")["y"] for h in (back, g))
    assert ours.shape == ref.shape and ours.dtype == ref.dtype
    np.testing.assert_array_equal(ours, ref)  # nan where nan
    real = ~np.isnan(ref)  # a nan's sign bit means nothing (and prints as nan)
    assert np.array_equal(np.signbit(ours[real]), np.signbit(ref[real]))  # -0.0 where -0.0


def test_a_name_in_backticks_is_a_name_whatever_it_holds():
    g = cg.parse("`sin` = sin(`x-1`) * `2`\n`nan` = `sin` + `if`")
    assert g.inputs == ["x-1", "2", "if"] and g.outputs == ["nan"]
    assert cg.evaluate(g, {"x-1": 0.0, "2": 1.0, "if": 4.0})["nan"] == 4.0


@pytest.mark.parametrize(
    ("text", "message", "col"),
    [
        ("x + ``", "an empty name ``", 5),
        ("x + `y", "a '`' that is not closed on its line", 5),
        ("`a\nb` + 1", "a '`' that is not closed on its line", 1),
        ("sin = x", "cannot assign to 'sin': it is the name of a function; write `sin`", 1),
        ("nan = x", "cannot assign to 'nan': it is a number; write `nan`", 1),
        ("`f`(x)", "unknown function 'f'", 4),
    ],
)
def test_bad_quoted_names(text, message, col):
    with pytest.raises(cg.ParseError, match=re.escape(message)) as info:
        cg.parse(text)
    assert info.value.column == col


@pytest.mark.parametrize("text, hint", [
    ("y = 1_000*x", "digit separators '_' are not allowed: write 1000"),
    ("y = 0x1f", "no 0x, 0o or 0b"),
    ("y = 1.2.3", "at most one '.'"),
    ("y = 1e*x", "an exponent needs digits"),
    ("y = 1j", "complex numbers"),
    ("y = 2x", "write 2*x, not 2x"),
])
def test_an_invalid_number_gets_the_hint_that_fits(text, hint):
    # every invalid number said "(write 2*x, not 2x)", which is no help for 1_000 or 0x1f
    with pytest.raises(cg.ParseError) as info:
        cg.parse(text)
    assert hint in str(info.value)
    if "2x" not in text:
        assert "2*x" not in str(info.value)


@pytest.mark.parametrize(("text", "col", "message"), [
    ("y = x' * 2", 6, "a prime is not part of a bare name: write it in backticks, `x'`, or as xprime"),
    ("y = sin(x'')", 10, "write it in backticks, `x''`"),
    ("y = w_1' + 1", 8, "`w_1'`"),
    ("y = lambda*x", 5, "keyword 'lambda' is not allowed in a formula; as a variable write it in backticks, `lambda`, "
                        "or as lam"),
    ("y = x + in", 9, "write it in backticks, `in`"),
])
def test_a_prime_or_a_keyword_as_a_name_says_how_to_write_it(text, col, message):
    # x' said "string literals are not allowed", lambda only that it is not allowed
    with pytest.raises(cg.ParseError) as info:
        cg.parse(text)
    assert (info.value.line, info.value.column) == (1, col)
    assert message in str(info.value)
    fixed = text.replace("lambda", "`lambda`").replace(" in", " `in`")
    fixed = fixed.replace("x''", "`x''`").replace("w_1'", "`w_1'`").replace("x' ", "`x'` ")
    cg.parse(fixed)  # the advice works


@pytest.mark.parametrize(("text", "col", "ascii_op"), [
    ("y = x − z", 7, "-"), ("y = x × z", 7, "*"), ("y = x ⋅ z", 7, "*"), ("y = x ÷ z", 7, "/"), ("y = x – 1", 7, "-"),
])
def test_a_typeset_operator_pasted_from_slides_says_which_to_write(text, col, ascii_op):
    with pytest.raises(cg.ParseError) as info:
        cg.parse(text)
    assert (info.value.line, info.value.column) == (1, col)
    assert str(info.value).endswith(f"; write {ascii_op!r}")


def test_a_long_program_is_parsed_in_time_linear_in_its_lines(monkeypatch):
    # the typo check compared every unused assignment with every input (4000 lines: 16 s), and
    # each output was marked by g.output, whose check of the outputs so far is a list's `in`
    P = importlib.import_module("cgraph.parse")  # (cgraph.parse is also the function)

    calls = []
    one_edit = P._one_edit
    monkeypatch.setattr(P, "_one_edit", lambda a, b: calls.append(1) or one_edit(a, b))
    monkeypatch.setattr(cg.Graph, "output", lambda *a, **k: pytest.fail("one g.output per output"))
    n = 2000
    g = cg.parse("\n".join(f"a{i} = sin(x{i})" for i in range(n)))
    assert len(g.outputs) == n and len(calls) < 10 * n  # (n * n before)
    with pytest.warns(UserWarning, match="'f' is assigned but never used"):  # still found
        cg.parse("\n".join([*(f"a{i} = sin(x{i})" for i in range(n)), "f = x0*2", "y = ff + a1"]))


def test_an_assignment_nothing_uses_warns_naming_the_input_it_may_be_a_typo_of():
    # y = d + e + ff (for f) made ff an input and left f dead: evaluate then said only
    # "missing input 'ff'"
    program = "a = x*z\nb = log(x)\nc = sin(b)\nd = exp(a)\ne = a/b\nf = c/a\ny = d + e + ff"
    with pytest.warns(UserWarning, match=r"^line 6: 'f' is assigned but never used \(so it is an output\), and "
                                         r"the input 'ff' first appears after it \(line 7, column 13\): a typo of 'f'\?$"):
        g = cg.parse(program)
    assert g.inputs == ["x", "z", "ff"] and g.outputs == ["f", "y"]  # f, unused, is read as an output
    with pytest.warns(UserWarning, match=r"^line 6: 'f' is assigned but never used, and the input 'ff'"):
        assert cg.parse(program + "\nreturn y").outputs == ["y"]
    with pytest.warns(UserWarning, match="'loss' is assigned but never used .so it is an output., and the input 'lsos'"):
        cg.parse("loss = (x - t)^2\ny = 2*lsos")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every name used, or no input a typo away after it: no warning
        cg.parse(program.replace("ff", "f"))
        cg.parse("exp(x*z) + x*z/log(x)")
        cg.parse(cg.to_text(cg.adjoint(cg.parse(program.replace("ff", "f"))), form="program"))  # g_x unused
        cg.parse("b = x + 1\na = x*2\ny = a")  # b is unused, but x is no typo of it: it came first
        cg.parse("c = 2\ns = sin(x)")  # two outputs: two one-letter names are one change apart, no typo
        cg.parse("a = 2*x\nb = z + 1\nreturn a, b")
        cg.parse(program + "\nreturn y, f")  # f is returned: no typo
