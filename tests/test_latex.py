"""to_latex: names, numbers, derivative left-hand sides, and a LaTeX-free validity check."""

from __future__ import annotations

import re
import unicodedata
from fractions import Fraction

import numpy as np
import pytest
from graphs import lecture, sin_chain
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import examples, expressions, op_graphs

import cgraph as cg
from cgraph.printing.latex import latex_name

KNOWN_MACROS = {
    "frac", "partial", "left", "right", "ln", "sin", "cos", "tan", "tanh", "sigma", "operatorname",
    "sqrt", "cdot", "begin", "end", "mathrm", "top", "sum", "log", "infty", "hat", "sim", "backslash",
    "times", "bar", "tilde", "dot", "ddot", "vec", "odot", "mathtt", "prime", "acute", "grave", "breve", "check",
    "mathring", "imath", "jmath", "text", "c", "mu", "nabla", "ell", "quad", "enspace", "max", "min", "exp",
} | set(cg.printing.latex.GREEK)
ENVIRONMENTS = {"aligned", "bmatrix", "array"}


def check_latex(text: str) -> None:
    """Fail unless ``text`` would compile: balanced groups, known macros and environments."""
    depth = 0
    for i, ch in enumerate(text):
        if ch in "{}" and i > 0 and text[i - 1] == "\\":
            continue
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0, f"unbalanced }} at {i}: {text}"
    assert depth == 0, f"unbalanced {{ in {text}"
    for macro in re.findall(r"\\([A-Za-z]+)", text):
        assert macro in KNOWN_MACROS, f"unknown macro \\{macro} in {text}"
    assert text.count(r"\left") == text.count(r"\right")
    open_ = []  # environments nest: \begin{aligned} ... \begin{bmatrix} ... \end{bmatrix} ... \end{aligned}
    for begin, name in re.findall(r"\\(begin|end)\{(\w+)\}", text):
        assert name in ENVIRONMENTS, f"unknown environment {name} in {text}"
        if begin == "begin":
            open_.append(name)
        else:
            assert open_ and open_.pop() == name, f"\\end{{{name}}} closes no \\begin{{{name}}} in {text}"
    assert not open_, f"\\begin{{{open_[-1]}}} is never closed in {text}"
    assert not re.search(r"(?<!\\)_\{[^{}]*\}_", text), f"double subscript in {text}"  # (not \_, an underscore)
    assert not re.search(r"\^\{[^{}]*\}[\^']", text), f"double superscript in {text}"
    assert "$" not in text.replace(r"\$", "")
    assert not re.search(r"\n[ \t]*\n", text), f"a blank line (a paragraph break, refused in math mode) in {text!r}"
    for ch in text:  # what pdflatex refuses in math mode: é, α, ², a tab, a zero-width space
        assert ch.isascii() and (ch.isprintable() or ch == "\n") or not (
            "GREEK" in unicodedata.name(ch, "") or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "No")
            or len(unicodedata.normalize("NFKD", ch)) > 1), f"{ch!r} in {text!r}"


def test_check_latex_takes_nested_environments_and_refuses_crossed_ones():
    # a derivative printed as aligned equations holds an array constant as a bmatrix; the
    # check compared the order of the \begin and \end names, which nesting reverses
    # (a scale-25 hypothesis run drew a random graph with a constant [0.5])
    text = cg.to_latex(cg.simplify(cg.adjoint(cg.parse("y = sum(maximum(x0, [0.5, 2]))*x1"))))
    assert text.startswith(r"\begin{aligned}") and r"\end{bmatrix}" in text
    check_latex(text)
    for wrong in (r"\begin{aligned} \begin{bmatrix} 1 \end{aligned} \end{bmatrix}", r"\begin{aligned} x",
                  r"x \end{bmatrix}"):
        with pytest.raises(AssertionError):
            check_latex(wrong)


def test_check_latex_tells_an_escaped_underscore_from_a_subscript():
    # a name '_=₁' prints as \mathrm{\_{=}_{1}}, which pdflatex sets (one subscript, after an
    # underscore character); check_latex took it for a double subscript (found by a scale-25 run)
    g = cg.Graph("names")
    g.output(cg.sum(g.input("_=₁")), name="y")
    text = cg.to_latex(g)
    assert r"\mathrm{\_{=}_{1}}" in text
    check_latex(text)
    with pytest.raises(AssertionError, match="double subscript"):
        check_latex("x_{1}_{2}")


def test_lecture_forward():
    text = cg.to_latex(lecture())
    assert text == r"y = e^{x z} + \frac{x z}{\ln\left(x\right)} + \frac{\sin\left(\ln\left(x\right)\right)}{x z}"
    check_latex(text)


def test_lecture_adjoint_program_is_aligned_with_lecture_names():
    text = cg.to_latex(cg.adjoint(lecture()), form="program")
    assert text.startswith("\\begin{aligned}\na &= x z \\\\\n")
    assert r"g_{c} &= g_{f} \frac{1}{a} \\" in text
    # the lecture's g_e*(-a/b^2): the fraction's sign in front, as in the text form
    assert r"g_{b} &= g_{e} \left(-\frac{a}{b^{2}}\right) + g_{c} \cos\left(b\right) \\" in text
    assert text.endswith("g_{z} &= g_{a} x\n\\end{aligned}")
    check_latex(text)


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("-1/x^2", r"y = -\frac{1}{x^{2}}"),
        ("z - x/w", r"y = z - \frac{x}{w}"),
        ("z + (-x)/w", r"y = z - \frac{x}{w}"),
        ("-3*x/w", r"y = -\frac{3 x}{w}"),
        ("exp(-x^2/2)", r"y = e^{-\frac{x^{2}}{2}}"),
        ("(-x + z)/w", r"y = \frac{-x + z}{w}"),  # a sum keeps its sign inside
        ("x/(-w)", r"y = -\frac{x}{w}"),
        ("(-x)/(-w)", r"y = \frac{x}{w}"),
        ("(1/x)^2", r"y = \left(\frac{1}{x}\right)^{2}"),  # a fraction binds like a power
        ("(-1/x)^2", r"y = \left(-\frac{1}{x}\right)^{2}"),
        ("a*(-1/x)", r"y = a \left(-\frac{1}{x}\right)"),
    ],
)
def test_fractions_carry_their_sign_in_front(formula, expected):
    text = cg.to_latex(cg.parse(formula))
    assert text == expected
    check_latex(text)


def test_adjoint_outputs_are_partial_derivatives():
    text = cg.to_latex(cg.simplify(cg.adjoint(lecture())))
    lines = text.splitlines()
    assert lines[0] == r"\begin{aligned}"
    assert lines[1].startswith(r"\frac{\partial y}{\partial x} &= ")
    assert lines[2].startswith(r"\frac{\partial y}{\partial z} &= ")
    check_latex(text)


def test_second_derivatives_name_both_variables():
    first = cg.adjoint(lecture())
    second = cg.adjoint(first, of="g_x", wrt=["x", "z"])
    text = cg.to_latex(cg.simplify(second))
    assert r"\frac{\partial^{2} y}{\partial x^{2}} &= " in text
    assert r"\frac{\partial^{2} y}{\partial z \, \partial x} &= " in text
    check_latex(text)


def test_an_elementwise_product_of_arrays_is_odot_and_a_matrix_product_juxtaposed():
    # both printed as juxtaposition: g_{z_1} (z_1 (1 - z_1)) read as matrix products; the
    # lecture writes the elementwise product G_t \odot G_t
    net = cg.nn.MLP([2, 2, 1], activation="sigmoid", loss="mse", seed=0)
    text = cg.to_latex(cg.adjoint(net.graph, wrt=["W1"]), form="program")
    assert r"g_{a_{1}} &= g_{z_{1}} \odot \left(z_{1} \odot \left(1 - z_{1}\right)\right)" in text
    assert r"g_{z_{1}} &= g_{t_{3}} W_{2}^{\top}" in text and r"t_{1} &= X W_{1} \\" in text
    assert r"a_{1} &= t_{1} + b_{1}" in text  # g_{t_{1}} below: t_{1} has its line
    check_latex(text)
    g = cg.Graph()
    X, Y, s = g.input("X", shape=(None, 3)), g.input("Y", shape=(3,)), g.input("s")
    assert [cg.to_latex(n) for n in (X * Y, 2 * X, s * X, s * s, cg.mul(g.const(-1), X, Y))] == [
        r"X \odot Y", "2 X", "s X", "s s", r"-X \odot Y"]  # a scalar or an unknown shape: juxtaposed
    assert cg.to_text(X * Y) == "X*Y" and cg.to_latex(lecture()).startswith("y = e^{x z} + ")


def test_a_product_among_a_product_s_factors_is_juxtaposed_without_parentheses():
    # a shared product printed x z \left(e^{z} \ln\left(x\right)\right) \cos\left(x\right) in the
    # derivative of x*z*sin(x)*exp(z)*log(x): juxtaposed factors associate, as a lecturer writes them
    assert [cg.to_latex(cg.parse(f).node("y")) for f in (
        "y = a*(b*c)", "y = a*(b*(c*d))", "y = sin(a)*(b*c)", "y = a*(2*b)",  # (x \cdot 2 b: x 2 b reads as x2 b)
        "y = a*(-(b*c))", "y = a*(-b)", "y = a*((b + c)*d)", "y = a*(b*1.5e-7)", "y = a*(b/c)")] == [
        "a b c", "a b c d", r"\sin\left(a\right) b c", r"a \cdot 2 b",
        r"a \left(-b c\right)", r"a \left(-b\right)", r"a \left(b + c\right) d", r"a b \left(1.5 \cdot 10^{-7}\right)",
        r"a \frac{b}{c}"]
    assert cg.to_text(cg.parse("y = a*(b*c)")) == "y = a*(b*c)"  # text keeps them: it reads back as computed
    g = cg.Graph()
    X, M, s, t = g.input("X", shape=(3, 3)), g.input("M", shape=(3, 3)), g.input("s", shape=()), g.input("t", shape=())
    assert [cg.to_latex(n) for n in (s * (t * X), s * (t * (X @ M)), X * (X @ M), (X @ M) @ (s * X))] == [
        "s t X", r"s t \left(X M\right)", r"X \odot \left(X M\right)", r"X M \left(s X\right)"]
    text = cg.to_latex(cg.simplify(cg.adjoint(cg.parse("x*z*sin(x)*exp(z)*log(x)"))))
    assert r"x z e^{z} \ln\left(x\right) \cos\left(x\right)" in text
    check_latex(text)


def test_a_product_of_unknown_shape_over_an_array_is_still_an_array():
    # c*A of an undeclared c has an unknown shape, but A's axes: c*A*B printed c A B, the
    # matrix product (an undeclared c multiplies elementwise like any operand of unknown shape)
    g = cg.Graph()
    c, u, A, B = g.input("c"), g.input("u"), g.input("A", shape=(2, 2)), g.input("B", shape=(2, 2))
    assert [cg.to_latex(n) for n in (c * A * B, cg.mul(c, A, B), A * c * B, cg.exp(c * A) * B, c * u * A, c * A @ B)] == [
        r"c A \odot B", r"c \odot A \odot B", r"A c \odot B", r"e^{c A} \odot B", "c u A", "c A B"]
    g = cg.Graph()
    c, A, B = g.input("c"), g.input("A", shape=(2, 2)), g.input("B", shape=(2, 2))
    g.output(c * A * B, name="y")
    assert cg.to_latex(g, form="program") == r"y = c A \odot B"


def test_an_elementwise_product_binds_looser_than_a_matrix_product_and_keeps_scalar_coefficients():
    # (A \odot B) W, not A \odot B W (read as A \odot (B W)); a leading scalar is a coefficient
    g = cg.Graph()
    X, Y, M, s = g.input("X", shape=(3, 3)), g.input("Y", shape=(3,)), g.input("M", shape=(3, 3)), g.input("s", shape=())
    assert [cg.to_latex(n) for n in ((X * Y) @ M, M @ (X * Y), X * (Y @ M), (X * Y) ** 2, 2 * X * Y, s * X * Y)] == [
        r"\left(X \odot Y\right) M", r"M \left(X \odot Y\right)", r"X \odot \left(Y M\right)",
        r"\left(X \odot Y\right)^{2}", r"2 X \odot Y", r"s X \odot Y"]
    # but tighter than a sum: a difference or a minus sign takes it as it is, as a product
    assert [cg.to_latex(n) for n in (M - X * Y, -(X * Y), M - (X + Y), M - X @ M, X * Y - M)] == [
        r"M - X \odot Y", r"-X \odot Y", r"M - \left(X + Y\right)", "M - X M", r"X \odot Y - M"]
    h = cg.Graph("h")
    X, W = h.input("X", shape=(4, 3)), h.param("W", shape=(3, 2))
    z = cg.sigmoid(X @ W)
    h.output(cg.sum(z * z), name="L")
    text = cg.to_latex(cg.simplify(cg.adjoint(h)))
    assert r"&= \left(2 \sigma\left(X W\right)^{2} \odot \left(1 - \sigma\left(X W\right)\right)\right) W^{\top}" in text
    check_latex(text)


@pytest.mark.parametrize(
    "name, expected",
    [
        ("x", "x"), ("x1", "x_{1}"), ("x_1", "x_{1}"), ("w_12", "w_{12}"), ("W1", "W_{1}"),
        ("alpha", r"\alpha"), ("alpha2", r"\alpha_{2}"), ("Sigma", r"\Sigma"), ("α", r"\alpha"),
        ("g_x", "g_{x}"), ("g_W1", "g_{W_{1}}"), ("g_loss", r"g_{\mathrm{loss}}"),
        # an adjoint's subscript is its node's name as printed, nested (g_{\mathrm{g\_x}} showed
        # the underscore); a second sweep's g2_x is g_x^(2), as in the diagrams, not an index 2,x
        ("g_g_x", "g_{g_{x}}"), ("g_g_t1", "g_{g_{t_{1}}}"), ("g2_x", "g_{x}^{(2)}"),
        ("w1_2", "w_{1,2}"), ("g1_2", "g_{1,2}"), ("loss", r"\mathrm{loss}"), ("t12", "t_{12}"), ("a&b", r"\mathrm{a\&b}"),
        ("x_", r"\mathrm{x\_}"), ("é", r"\mathrm{\acute{e}}"),
        # accents, as SymPy sets them: cg.nn's output yhat is the diagrams' ŷ
        ("yhat", r"\hat{y}"), ("g_yhat", r"g_{\hat{y}}"), ("xbar1", r"\bar{x}_{1}"), ("thetahat", r"\hat{\theta}"),
        ("Xtilde", r"\tilde{X}"), ("xdot", r"\dot{x}"), ("xddot", r"\ddot{x}"), ("vvec", r"\vec{v}"),
        ("xprime", "x'"), ("hat", r"\mathrm{hat}"), ("that_1", r"\hat{t}_{1}"),
    ],
)
def test_names(name, expected):
    assert latex_name(name) == expected
    check_latex(expected)


@pytest.mark.parametrize(
    ("formula", "expected", "call"),
    [
        # a variable named as a function's symbol, juxtaposed before a parenthesis, read as
        # that function applied: sigma*(x+1) printed \sigma \left(x + 1\right), which is
        # how sigmoid(x + 1) prints; the text form writes the product sign, sigma*(x + 1)
        ("sigma*(x + 1)", r"y = \sigma \cdot \left(x + 1\right)", ("sigmoid(x + 1)", r"y = \sigma\left(x + 1\right)")),
        ("H*(x + 1)", r"y = H \cdot \left(x + 1\right)", ("step(x + 1)", r"y = H\left(x + 1\right)")),
        ("ln*(x + 1)", r"y = \mathrm{ln} \cdot \left(x + 1\right)", ("log(x + 1)", r"y = \ln\left(x + 1\right)")),
        ("`softmax`*(x + 1)", r"y = \mathrm{softmax} \cdot \left(x + 1\right)",
         ("softmax(x + 1)", r"y = \operatorname{softmax}\left(x + 1\right)")),
        ("2*sigma^2*(x + 1)", r"y = 2 \sigma^{2} \cdot \left(x + 1\right)", ("sigmoid(x + 1)^2", r"y = \sigma\left(x + 1\right)^{2}")),
        # a variable named e: e^x printed e^{x}, which is how exp(x) prints; e x read as Euler's e times x
        ("e^x", r"y = \mathtt{e}^{x}", ("exp(x)", "y = e^{x}")),
        ("e*x + exp(e)", r"y = \mathtt{e} x + e^{\mathtt{e}}", ("exp(1)*x", r"y = e^{1} x")),
    ],
)
def test_a_variable_named_as_a_function_s_symbol_prints_apart_from_the_function(formula, expected, call):
    assert cg.to_latex(cg.parse(formula)) == expected
    assert cg.to_latex(cg.parse(call[0])) == call[1] != expected
    assert cg.to_text(cg.parse(formula)) != cg.to_text(cg.parse(call[0]))  # (as the text form keeps them apart)
    check_latex(expected)
    # other names, and other factors, stay juxtaposed
    assert cg.to_latex(cg.parse("alpha*(x + 1) + sigma*x + (x + 1)*sigma")) == (
        r"y = \alpha \left(x + 1\right) + \sigma x + \left(x + 1\right) \sigma")


def test_a_matrix_named_h_times_a_parenthesis_is_no_step_function():
    g = cg.Graph()
    H, A, B = (g.input(n, shape=(2, 2)) for n in "HAB")
    assert cg.to_latex(H @ (A + B)) == r"H \cdot \left(A + B\right)"
    assert cg.to_latex(A @ (A + B)) == r"A \left(A + B\right)"
    assert cg.to_latex(cg.step(A + B)) == r"H\left(A + B\right)"


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        # sigma*sigmoid(x) printed \sigma \sigma\left(x\right): the sigmoid of the sigmoid of x
        ("sigma*sigmoid(x)", r"y = \sigma \cdot \sigma\left(x\right)"),
        ("sigma*sigmoid(x)^2", r"y = \sigma \cdot \sigma\left(x\right)^{2}"),
        ("H*sin(x) + sigma*sum(x)", r"y = H \cdot \sin\left(x\right) + \sigma \cdot \sum\left(x\right)"),
        # a subscript, a prime or a power of its own keeps it a function's symbol: sigma_1*(x + 1)
        # printed \sigma_{1} \left(x + 1\right), which reads as a function sigma_1 applied
        ("sigma_1*(x + 1)", r"y = \sigma_{1} \cdot \left(x + 1\right)"),
        ("2*sigma1^2*(x + 1)", r"y = 2 \sigma_{1}^{2} \cdot \left(x + 1\right)"),
        ("`sigma'`*(x + 1)", r"y = \sigma' \cdot \left(x + 1\right)"),
        ("sigma^(x + 1)*(x + 1)", r"y = \sigma^{x + 1} \cdot \left(x + 1\right)"),  # (a space in the power)
        # a word reads as the function before any factor: ln x is the log of x
        ("ln*x + ln*exp(x)", r"y = \mathrm{ln} \cdot x + \mathrm{ln} \cdot e^{x}"),
        # and so do the functions' names as the text form writes them
        ("`exp`*(x + 1) + `sum_to`*x", r"y = \mathrm{exp} \cdot \left(x + 1\right) + \mathrm{sum}_{\mathrm{to}} \cdot x"),
    ],
)
def test_a_function_s_symbol_before_what_would_read_as_its_argument_takes_a_product_sign(formula, expected):
    assert cg.to_latex(cg.parse(formula)) == expected
    check_latex(expected)


def test_an_op_registered_later_has_its_symbol_read_as_a_function_s(scratch_registry):
    cg.register(cg.OpDef("phase", 1, np.sin, cg.ops.registry.shapes.same, None, text="phase({0})",
                         latex=r"\phi\left({0}\right)", elementwise=True))
    assert cg.to_latex(cg.parse("phi*phase(x) + phi*(x + 1)")) == (
        r"y = \phi \cdot \phi\left(x\right) + \phi \cdot \left(x + 1\right)")
    del scratch_registry.OPS["phase"]  # (as a test that ran before it leaves the registry)
    assert cg.to_latex(cg.parse("phi*(x + 1)")) == r"y = \phi \left(x + 1\right)"


def test_a_function_s_symbol_before_a_name_and_other_factors_stay_juxtaposed():
    assert cg.to_latex(cg.parse("alpha*sigmoid(x) + sigma*x + sigma*exp(x) + loss*x + zeros*x + x*sigmoid(x)")) == (
        r"y = \alpha \sigma\left(x\right) + \sigma x + \sigma e^{x} + \mathrm{loss} x + \mathrm{zeros} x"
        r" + x \sigma\left(x\right)")
    g = cg.Graph()
    H, A = (g.input(n, shape=(2, 2)) for n in "HA")
    assert cg.to_latex(H @ cg.sigmoid(A)) == r"H \cdot \sigma\left(A\right)"  # (a matrix product)
    assert cg.to_latex(A @ cg.sigmoid(A)) == r"A \sigma\left(A\right)"


def test_the_lecture_s_variable_e_is_not_euler_s_number():
    # its program printed d = e^{a} and y = d + e + f: e read as Euler's number
    text = cg.to_latex(cg.adjoint(lecture()), form="program")
    assert "d &= e^{a} \\\\\n\\mathtt{e} &= \\frac{a}{b} \\\\" in text and r"y &= d + \mathtt{e} + f \\" in text
    assert r"g_{e} &= g_{y} \\" in text  # in a subscript it reads as a name
    assert latex_name("e") == r"\mathtt{e}" and latex_name("e^t") == r"\mathtt{e}^{t}" and latex_name("e_1") == "e_{1}"


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("sum(X, axis=1)", r"y = \sum_{\mathrm{axis}=1}\left(X\right)"),  # the axis is not lost
        ("sum(X)", r"y = \sum\left(X\right)"),
        ("sum(X)^2", r"y = \left(\sum\left(X\right)\right)^{2}"),  # was \sum\left(X\right)^{2}: the sum of the squares
        ("sum(X^2)", r"y = \sum\left(X^{2}\right)"),
        ("mean(X, axis=(0, 1), keepdims=True)", r"y = \operatorname{mean}_{\mathrm{axis}=(0, 1)}\left(X\right)"),
        ("size(X)", r"y = \operatorname{size}\left(X\right)"),  # not |X|, which is abs
        ("logsumexp(X, axis=0)", r"y = \log\sum_{\mathrm{axis}=0} e^{X}"),
        # was e^{X}^{2}, a double superscript (no compile), and a sum reaching over the w in ... w
        ("logsumexp(X)^2", r"y = \left(\log\sum e^{X}\right)^{2}"),
        ("logsumexp(X)*w", r"y = \left(\log\sum e^{X}\right) w"),
        ("w - logsumexp(X)", r"y = w - \log\sum e^{X}"),
        ("softmax(X)", r"y = \operatorname{softmax}\left(X\right)"),  # the default axis, -1
        ("log_softmax(X, axis=0)", r"y = \log\operatorname{softmax}_{\mathrm{axis}=0}\left(X\right)"),
        # keywords upright: in math mode "start" is the product s t a r t
        ("slice(X, start=1, step=2)", r"y = \operatorname{slice}\left(X, \mathrm{start}=1, \mathrm{step}=2\right)"),
    ],
)
def test_reductions_show_their_axis(formula, expected):
    text = cg.to_latex(cg.parse(formula))
    assert text == expected
    check_latex(text)


def test_names_that_print_alike_are_spelled_out():
    # x1 and x_1 (and alpha and α) both printed as x_{1} (\\alpha): y = x_{1} x_{1}, two
    # variables as one; where names clash they print as written, the others as before
    g = cg.Graph()
    x1, x_1, z = g.input("x1"), g.input("x_1"), g.input("z")
    g.output(x1 * x_1 + z * cg.sin(x1), name="y")
    assert cg.to_latex(g) == r"y = \mathtt{x1} \mathtt{x\_1} + z \sin\left(\mathtt{x1}\right)"
    assert cg.to_latex(cg.simplify(cg.adjoint(g))).splitlines()[1:3] == [
        r"\frac{\partial y}{\partial \mathtt{x1}} &= z \cos\left(\mathtt{x1}\right) + \mathtt{x\_1} \\",
        r"\frac{\partial y}{\partial \mathtt{x\_1}} &= \mathtt{x1} \\",
    ]
    # (α as \alpha: pdflatex refuses \mathtt{α})
    assert cg.to_latex(cg.parse("y = alpha/α + x_2")) == r"y = \frac{\mathtt{alpha}}{\mathtt{{\alpha}}} + x_{2}"
    assert cg.to_latex(cg.parse("y = x1*x2 + alpha")) == r"y = x_{1} x_{2} + \alpha"  # no clash
    # a clash only with a name the formula does not print changes nothing
    assert cg.to_latex(cg.parse("x_1 = x1*z\ny = sin(x_1)")) == r"y = \sin\left(x_{1} z\right)"
    check_latex(cg.to_latex(g))


def _one(build):
    g = cg.Graph()
    a, b = g.input("a"), g.input("b")
    return cg.to_latex(build(a, b))


@pytest.mark.parametrize(
    "build, expected",
    [
        (lambda a, b: a * 2, r"a \cdot 2"),
        (lambda a, b: 2 * a, "2 a"),
        (lambda a, b: cg.mul(2, 1 / a), r"2 \cdot \frac{1}{a}"),
        (lambda a, b: Fraction(1, 2) * a, r"\frac{1}{2} a"),
        (lambda a, b: a * Fraction(-1, 2), r"a \left(-\frac{1}{2}\right)"),
        (lambda a, b: a.graph.const(Fraction(1, 3)) ** a, r"\left(\frac{1}{3}\right)^{a}"),
        (lambda a, b: cg.square(a.graph.const(Fraction(1, 3))), r"\left(\frac{1}{3}\right)^{2}"),
        (lambda a, b: a ** Fraction(1, 3), r"a^{\frac{1}{3}}"),
        (lambda a, b: a * 2.5e-05, r"a \left(2.5 \cdot 10^{-5}\right)"),
        (lambda a, b: 2.5e-05 * a, r"2.5 \cdot 10^{-5} a"),
        (lambda a, b: cg.exp(a * b), "e^{a b}"),
        (lambda a, b: cg.exp(a) ** 2, r"\left(e^{a}\right)^{2}"),
        (lambda a, b: a ** (b + 1), "a^{b + 1}"),
        (lambda a, b: -(a * b), "-a b"),
        (lambda a, b: -(a + b), r"-\left(a + b\right)"),
        (lambda a, b: -(-a), r"-\left(-a\right)"),
        (lambda a, b: -(-a / b), r"-\left(-\frac{a}{b}\right)"),
        (lambda a, b: a - (-b), "a + b"),
        (lambda a, b: (a + b) / (a - b), r"\frac{a + b}{a - b}"),
        (lambda a, b: cg.sqrt(a), r"\sqrt{a}"),
        (lambda a, b: cg.sigmoid(a), r"\sigma\left(a\right)"),
        (lambda a, b: cg.abs(a), r"\left|a\right|"),
        (lambda a, b: cg.square(a + b), r"\left(a + b\right)^{2}"),
    ],
)
def test_operators(build, expected):
    text = _one(build)
    assert text == expected
    check_latex(text)


@settings(max_examples=60, deadline=None)
@given(expressions())
def test_random_graphs_give_valid_latex(g):
    for form in ("expanded", "program"):
        check_latex(cg.to_latex(g, form=form))
    check_latex(cg.to_latex(cg.simplify(cg.adjoint(g))))


#: node names as users write them, and hostile ones: TeX's special characters, operators,
#: Unicode letters with accents, Greek, super- and subscripts, spaces and invisible ones
NAMES = st.sampled_from(["alpha", "W_1", "w_{1,2}^{(1)}", "x^(n)", "yhat", "g_x", "g_g_x", "g2_x", "loss", "z_1_2",
                         "beta^t", "theta_bar", "x'", "x_{2}^{(1)}'", "G_{t-1}", "t", "ell", "S_tm1", "x_i1", "eps_hat"]) | st.text(
    "xyzWαβθéŷx̄²₁µ∂_^{}()[]'-+=,~%#&$\\ \t\n\u200b0123", min_size=1, max_size=8)


@settings(max_examples=examples(60), deadline=None)
@given(op_graphs(names=NAMES))
def test_random_graphs_over_every_op_with_any_names_give_valid_latex(drawn):
    g = drawn[0]
    for form in ("expanded", "program"):
        check_latex(cg.to_latex(g, form=form))
    adjoint = cg.adjoint(g)
    check_latex(cg.to_latex(adjoint, form="program"))
    check_latex(cg.to_latex(cg.simplify(adjoint)))


def test_every_op_template_is_valid_latex():
    for op in cg.OPS.values():
        g = cg.Graph()
        x = g.input("x", shape=(2, 2))
        args = [x] * (op.arity or 3)
        node = g.apply(op.name, *args, **({"shape": (4,)} if op.name == "reshape" else {}))
        check_latex(cg.to_latex(node))


def test_nodes_show_as_formulas_in_notebooks():
    g = lecture()
    assert g["e"]._repr_latex_() == r"$\displaystyle \frac{x z}{\ln\left(x\right)}$"
    h = cg.Graph()
    a = h.input("a")
    node = cg.sin(a)
    h.nx.remove_node("a")  # a broken graph still does not break the display
    assert node._repr_latex_() is None


@pytest.mark.parametrize(
    "name, tex",
    [
        ("w_{j,i}^{(l)}", "w_{j,i}^{(l)}"),
        ("x^(n)", "x^{(n)}"),
        ("G_{t-1}^{(l)}", "G_{t-1}^{(l)}"),
        ("beta^t", r"\beta^{t}"),
        ("g_W^{(2)}", "g_{W^{(2)}}"),  # the adjoint of W^{(2)}, as adjoint() names it
        # the adjoint of g_W^{(2)} in a second sweep: was g_{g_{W}^{(2)}}, as if of g2_W
        ("g_g_W^{(2)}", "g_{g_{W^{(2)}}}"),
        ("g_g_beta^t", r"g_{g_{\beta^{t}}}"),  # was g_{g_{beta}^{t}}
        ("ell", r"\ell"),
        ("ell^{(b)}", r"\ell^{(b)}"),
    ],
)
def test_latex_names_in_the_lectures_notation(name, tex):
    # these printed as w_{\mathrm{\{j,i\}\hat{}\{(l)\}}} and \mathrm{ell}
    assert latex_name(name) == tex


def test_latex_of_a_neuron_named_as_in_the_lecture():
    g = cg.Graph("neuron")
    x = g.input("x_1")
    w = g.input("w_{1,1}^{(1)}")
    b = g.input("b_1^{(1)}")
    g.output(cg.sigmoid(w * x + b, name="z_1^{(1)}"))
    assert cg.to_latex(g) == r"z_{1}^{(1)} = \sigma\left(w_{1,1}^{(1)} x_{1} + b_{1}^{(1)}\right)"
    grad = cg.to_latex(cg.simplify(cg.adjoint(g, wrt=["w_{1,1}^{(1)}"])))
    assert grad.startswith(r"\frac{\partial z_{1}^{(1)}}{\partial w_{1,1}^{(1)}} = ")
    check_latex(grad)


def test_a_power_of_a_name_with_a_superscript_is_parenthesized():
    # w_{1,1}^{(1)}^{2}: a double superscript, which LaTeX refuses (in the derivative's
    # \partial w^{2} too)
    g = cg.Graph("neuron")
    w = g.input("w_{1,1}^{(1)}")
    W = g.input("W^{(2)}", shape=(2, 2))
    g.output(w**3 + cg.sum(cg.transpose(W)), name="y")
    assert cg.to_latex(g) == r"y = \left(w_{1,1}^{(1)}\right)^{3} + \sum\left(\left(W^{(2)}\right)^{\top}\right)"
    first = cg.adjoint(g, wrt=["w_{1,1}^{(1)}"])
    second = cg.simplify(cg.adjoint(first, of=first.outputs[0], wrt=["w_{1,1}^{(1)}"]))
    text = cg.to_latex(second)
    assert text == r"\frac{\partial^{2} y}{\partial \left(w_{1,1}^{(1)}\right)^{2}} = 6 w_{1,1}^{(1)}"
    check_latex(text)
    check_latex(cg.to_latex(first, form="program"))
    assert cg.to_latex(cg.mul(2, w)) == r"2 w_{1,1}^{(1)}"  # a factor needs no parentheses


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("sum(x*x)", r"\frac{\partial y}{\partial x} = 2 x"),  # no \operatorname{sum\_to} or expand
        ("mean(x^2)", r"\frac{\partial y}{\partial x} = \frac{2 x}{\operatorname{size}\left(x\right)}"),
        ("log(sum(exp(x)))", r"\frac{\partial y}{\partial x} = \frac{e^{x}}{\sum\left(e^{x}\right)}"),
        ("(x^2 + 1)^(1/2)", r"\frac{\partial y}{\partial x} = \frac{x}{\sqrt{x^{2} + 1}}"),
    ],
)
def test_derivatives_over_undeclared_shapes_print_as_math(formula, expected):
    assert cg.to_latex(cg.simplify(cg.adjoint(cg.parse(formula)))) == expected


def test_a_long_chain_of_adjoint_prefixes_is_named_without_recursion():
    # latex_name recursed once per g_ prefix: a 4001-character name g_g_..._x raised
    # RecursionError from cg.to_latex
    name = "g_" * 2000 + "x"
    assert latex_name(name) == "g_{" * 2000 + "x" + "}" * 2000
    assert latex_name("g2_" + "g_" * 2000 + "x").endswith("}^{(2)}")


def test_an_exact_constant_past_4300_digits_prints_its_digits():
    # str() of such an int raises ValueError: to_latex crashed
    g = cg.Graph()
    x = g.input("x")
    g.output(x * g.const(10**5000) + g.const(Fraction(-1, 10**5000)), name="y")
    assert cg.to_latex(g) == f"y = x \\cdot 1{'0' * 5000} - \\frac{{1}}{{1{'0' * 5000}}}"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # Unicode letters as the spelled ones: \mathrm{ŷ} and \mathrm{x̄} do not compile
        # with pdflatex, and g_α was the only adjoint without its Greek letter in the diagrams
        ("α1", r"\alpha_{1}"), ("α_1", r"\alpha_{1}"), ("g_α", r"g_{\alpha}"), ("ŷ", r"\hat{y}"),
        ("x̄", r"\bar{x}"), ("g_ŷ", r"g_{\hat{y}}"), ("θ̂", r"\hat{\theta}"), ("αβ", r"\mathrm{{\alpha}{\beta}}"),
        # a name in backticks with primes: x' (italic x), not \mathrm{x'}
        ("x'", "x'"), ("x''", "x''"), ("α'", r"\alpha'"), ("W1'", "W_{1}'"),
        # the primes of a name with a superscript join it: x_{2}^{(1)}' is a double superscript
        ("x_{2}^{(1)}'", r"x_{2}^{(1)\prime}"), ("beta^t''", r"\beta^{t\prime\prime}"), ("g_x^(n)'", r"g_{x^{(n)\prime}}"),
        # y_hat is ŷ in the diagrams: \hat{y} here too, not y_{\mathrm{hat}}
        ("y_hat", r"\hat{y}"), ("theta_bar", r"\bar{\theta}"), ("x_dot", r"\dot{x}"), ("robot_hat", r"\mathrm{robot}_{\mathrm{hat}}"),
        # the diagrams' short Greek names
        ("eps", r"\epsilon"), ("lam", r"\lambda"),
        # and under an accent, as y_hat: eps_hat was \epsilon_{\mathrm{hat}} and epshat \mathrm{epshat}
        # where the diagrams draw ε̂ (the accent rule knew only the full Greek names)
        ("eps_hat", r"\hat{\epsilon}"), ("epshat", r"\hat{\epsilon}"), ("lam_bar", r"\bar{\lambda}"),
        ("epsbar_1", r"\bar{\epsilon}_{1}"), ("ellhat", r"\hat{\ell}"), ("g_eps_hat", r"g_{\hat{\epsilon}}"),
        # a snake_case name of several words is one word, as the diagrams write it: it was
        # input_{feature\_vector}, a subscript holding underscores
        ("input_feature_vector", r"\mathrm{input\_feature\_vector}"),
        ("g_input_feature_vector", r"g_{\mathrm{input\_feature\_vector}}"), ("z_1_2", r"\mathrm{z\_1\_2}"),
        # an index that is a letter with a step or digits reads as the diagrams draw it (names.index):
        # S_tm1 was S_{\mathrm{tm}_{1}} and x_i1 x_{i_{1}}, where the diagrams draw S with tm1 below, x with i1
        ("S_tm1", "S_{t-1}"), ("x_tp1", "x_{t+1}"), ("x_i1", "x_{i1}"), ("g_h_tm1", "g_{h_{t-1}}"),
        ("x_ij", "x_{ij}"), ("W_jk", "W_{jk}"), ("g_x_ij", "g_{x_{ij}}"), ("x_in", r"x_{\mathrm{in}}"),  # (was x_{\mathrm{ij}})
        ("w1_tm1", "w_{1,t-1}"), ("eps_tm1", r"\epsilon_{t-1}"), ("g_t1", "g_{t_{1}}"),  # (g_t1: the adjoint of t1)
    ],
)
def test_unicode_primed_and_accented_names_print_as_the_diagrams_draw_them(name, expected):
    assert latex_name(name) == expected
    check_latex(expected)


def test_a_graph_with_nothing_to_print_is_empty_not_an_empty_aligned():
    # the adjoint of a constant has no gradient to print: to_latex gave
    # \begin{aligned}, a blank line, \end{aligned}, and the blank line is a paragraph break
    # inside math mode, which LaTeX refuses (Missing $ inserted); to_text gives ""
    for graph in (cg.adjoint(cg.parse("2")), cg.simplify(cg.adjoint(cg.parse("-12.5")))):
        assert cg.to_text(graph) == ""
        assert cg.to_latex(graph) == ""
        check_latex(cg.to_latex(graph, form="program"))  # the listing of its one constant node


def test_without_a_line_width_nothing_is_measured(monkeypatch):
    # to_latex measured every line (latex_width) to find none wider than an infinite width:
    # 40% of the CPU time of a 20000-node program's listing
    graphs = [cg.adjoint(lecture()), cg.parse("y = x + 1"), cg.parse("2"), cg.simplify(cg.adjoint(cg.parse("2")))]
    expected = [cg.to_latex(g, form=form) for g in graphs for form in ("expanded", "program")]
    node = cg.to_latex(lecture().node("y"))

    def measured(tex):
        raise AssertionError(f"measured {tex}")

    monkeypatch.setattr(cg.printing.latex, "latex_width", measured)
    assert [cg.to_latex(g, form=form) for g in graphs for form in ("expanded", "program")] == expected
    assert cg.to_latex(lecture().node("y")) == node
    assert expected[0].startswith("\\begin{aligned}\n") and expected[2] == "y = x + 1" and expected[6] == ""


def test_an_array_constant_of_three_axes_has_its_whole_shape_as_subscript():
    # it printed \mathrm{array}_{2}{\times}2{\times}2: only the first size in the
    # subscript, the rest on the line, read as the product array_2 x 2 x 2
    text = cg.to_latex(cg.parse("x*[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]"))
    assert text == r"y = x \mathrm{array}_{2 \times 2 \times 2}"
    check_latex(text)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # pdflatex refuses these in math mode (Unicode character not set up, Please use
        # \mathaccent, Missing character): they printed as \mathrm{é}, \mathrm{αβ}, ...
        ("é", r"\mathrm{\acute{e}}"), ("naïve", r"\mathrm{na\ddot{\imath}ve}"), ("ŷ10", r"\mathrm{\hat{y}}_{10}"),
        ("Å", r"\mathrm{\mathring{A}}"), ("ç", r"\mathrm{\text{\c{c}}}"), ("x_é", r"x_{\mathrm{\acute{e}}}"),
        ("αβ", r"\mathrm{{\alpha}{\beta}}"), ("βx", r"\mathrm{{\beta}x}"), ("Δx", r"\mathrm{{\Delta}x}"),
        ("µ", r"\mathrm{{\mu}}"), ("∂", r"\mathrm{{\partial}}"), ("∞", r"\mathrm{{\infty}}"),
        ("x²", r"\mathrm{x^{2}}"), ("x₁₂", r"\mathrm{x_{12}}"), ("x²₁²", r"\mathrm{x^{2}_{1}{}^{2}}"), ("x⁻¹", r"\mathrm{x^{-1}}"),
        # ^{2}' is a double superscript; a subscript 1² is not digits, though "1²".isdigit()
        ("y²'~", r"\mathrm{y^{2\prime}{\sim}}"), ("x²''₁", r"\mathrm{x^{2\prime\prime}_{1}}"), ("x_1²", r"x_{\mathrm{1^{2}}}"),
        ("²₁'θ", r"\mathrm{{}^{2}_{1}{}^{\prime}{\theta}}"),
        ("ǅ", r"\mathrm{D\check{z}}"), ("ﬁ", r"\mathrm{fi}"),
        ("xᾱ", r"\mathrm{x\bar{{\alpha}}}"), ("xά", r"\mathrm{x\acute{{\alpha}}}"), ("ἀx", r"\mathrm{{\alpha}x}"),  # composed Greek letters: ᾱ is α and a macron
        # a space is kept (math mode drops it: a b read as ab); a line break or tab would
        # end the math (two make a paragraph break); a zero-width space is invisible
        ("a b", r"\mathrm{a\ b}"), ("a\n\nb", r"\mathrm{a\ \ b}"), ("a\u200bb", r"\mathrm{ab}"), ("a\x00b", r"\mathrm{ab}"),
        # nor does it part the scripts around it: x_{1}_{2} is a double subscript pdflatex refuses
        ("x₁\u200b₂", r"\mathrm{x_{12}}"), ("₁\u200b₁", r"\mathrm{{}_{11}}"), ("x²\x00₁", r"\mathrm{x^{2}_{1}}"),
    ],
)
def test_unicode_names_print_as_pdflatex_takes_them(name, expected):
    assert latex_name(name) == expected
    check_latex(expected)


def test_a_name_with_a_unicode_superscript_is_parenthesized_in_a_power():
    # \mathrm{x^{2}}^{2} compiles but reads as x^{22}
    g = cg.Graph()
    x = g.input("x²")
    assert cg.to_latex(x**3) == r"\left(\mathrm{x^{2}}\right)^{3}"
    assert cg.to_latex(2 * x) == r"2 \mathrm{x^{2}}"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # math mode spaces operators and relations: \mathrm{x-1} read as x - 1, a
        # difference, and \mathrm{a~b} as the relation a ~ b; in a name they are ordinary
        ("x-1", r"\mathrm{x{-}1}"), ("a+b", r"\mathrm{a{+}b}"), ("a=b", r"\mathrm{a{=}b}"), ("a,b", r"\mathrm{a{,}b}"),
        ("a~b", r"\mathrm{a{\sim}b}"), ("a<b", r"\mathrm{a{<}b}"), ("a*b", r"\mathrm{a{*}b}"), ("g_x-1", r"g_{\mathrm{x{-}1}}"),
        ("G_{t-1}", "G_{t-1}"),  # a script written as TeX stays math
    ],
)
def test_operators_in_a_name_are_ordinary_symbols(name, expected):
    assert latex_name(name) == expected
    check_latex(expected)
    assert cg.to_latex(cg.parse(f"`{name}` - 1")) == f"y = {expected} - 1"


def test_an_expression_nested_past_what_tex_takes_prints_as_a_program():
    # sin(sin(...(x))) 300 deep printed as one expression of 300 nested \left( groups, and
    # pdflatex stops at 255: "TeX capacity exceeded, sorry [grouping levels=255]"
    from cgraph.printing.latex import MAX_NESTING, nesting

    g = sin_chain(300)
    with pytest.warns(UserWarning, match="nests 300 groups"):
        text = cg.to_latex(g)
    assert text == cg.to_latex(g, form="program")
    assert text.startswith("\\begin{aligned}\n") and nesting(text) <= MAX_NESTING
    check_latex(text)
    with pytest.warns(UserWarning, match="nests 300 groups"):
        assert cg.to_latex(g["y"]) == cg.to_latex(g["y"], form="program")
    shallow = cg.Graph()
    node = shallow.input("x")
    for _ in range(MAX_NESTING):
        node = cg.sin(node)
    assert nesting(cg.to_latex(node)) == MAX_NESTING  # as deep as it goes, still one expression


def test_an_expression_nested_past_what_tex_takes_keeps_its_line_width_as_a_program():
    # the program form written instead of a too deeply nested expression dropped
    # line_width: y = t_300 + a_0 + ... + a_29 came out as one line 100 letters wide
    from cgraph.printing.linebreak import latex_width

    g = cg.Graph()
    node = g.input("x")
    for _ in range(300):
        node = cg.sin(node)
    g.output(cg.add(node, *(g.input(f"a{i}") for i in range(30))), name="y")
    with pytest.warns(UserWarning, match="nests 300 groups"):
        text = cg.to_latex(g, line_width=40)
    assert text == cg.to_latex(g, form="program", line_width=40)
    assert max(map(latex_width, text.splitlines())) <= 40
    check_latex(text)
    with pytest.raises(cg.ArgumentError, match="line_width"):
        cg.to_latex(g, line_width=0)


def test_an_array_constant_of_more_than_ten_columns_is_an_array_environment():
    # amsmath's bmatrix takes at most 10 columns (MaxMatrixCols): x*[0, ..., 10] printed a
    # bmatrix of 11, and pdflatex stopped with "Extra alignment tab has been changed to \cr"
    text = cg.to_latex(cg.parse("x*[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"))
    assert text == (r"y = x \left[\begin{array}{@{}ccccccccccc@{}} 0.0 & 1.0 & 2.0 & 3.0 & 4.0 & 5.0 & 6.0 & 7.0 "
                    r"& 8.0 & 9.0 & 10.0 \end{array}\right]")
    check_latex(text)
    assert cg.to_latex(cg.parse("x*[[1, 2], [3, 4]]")) == r"y = x \begin{bmatrix} 1.0 & 2.0 \\ 3.0 & 4.0 \end{bmatrix}"
    assert r"\begin{bmatrix}" in cg.to_latex(cg.parse("x*[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"))  # 10 columns: as before
