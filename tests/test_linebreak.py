"""Long LaTeX equations broken into lines: widths, top-level terms, and to_latex(line_width=)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from graphs import lecture
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import examples, expressions, op_graphs
from test_latex import NAMES, check_latex

import cgraph as cg
from cgraph.printing.linebreak import latex_width, terms, wrap


def _sides(g, **options) -> list[str]:
    """The right sides of ``cg.to_latex(g)``'s equations."""
    text = cg.to_latex(g, **options)
    lines = [line for line in text.splitlines() if not line.startswith(("\\begin", "\\end"))]
    return [re.split(r" &?= ", line.removesuffix(" \\\\"), maxsplit=1)[-1] for line in lines]


def _joined(rows: list[str]) -> str:
    """``rows`` back on one line: wrap's ``\\right.`` / ``\\left.`` pairs (with the
    ``\\enspace`` that indents a nested line, and the ``{}`` before a leading operator)
    taken out."""
    text = " ".join(rows)
    # a group that starts its content on the next line: \left(\right. \left. a, b\right)
    text = re.sub(r"(\\left(?:\\\{|[^\s\\.]))\\right\.( \\right\.)* (\\left\. (\\enspace )?)+", r"\1", text)
    return re.sub(r"( \\right\.)+ (\\left\. (\\enspace )?)+(\{\})?", " ", text)


@pytest.mark.parametrize("tex, width", [
    ("x z", 2.0),
    ("x + z", 4.0),
    ("-x", 2.0),
    (r"\frac{\sin\left(x\right)}{x^{2}}", 6.2),    # the wider part: sin, ( x )
    (r"e^{x z}", 1 + 0.7 * 2),
    (r"\ln\left(x\right)^{2}", 2 + 3 + 0.7),
    (r"\frac{\frac{a b c}{d}}{e}", (3 + 0.2) * 0.72 + 0.2),   # a fraction in a fraction is smaller
    (r"\operatorname{ReLU}\left(x\right)", 3 * 1.4 + 1 + 3),       # a capital is 1.4 x's
    ("X W", 3.5),                                  # (X, W: 1.6 and 1.9 in pdflatex; most capitals 1.4)
    ("A Y", 2.8),
    # parentheses around a fraction in display style are taller, wider (1.05-1.4 x's)
    (r"\left(\frac{a}{b}\right)", 1.3 + 1.2 + 1.3), (r"\left(x^{\frac{a}{b}}\right)", 1 + 1 + 0.7 * 1.2 + 1),
    (r"\left. \frac{a}{b}\right)", 0.2 + 1.2 + 1.3),
    (r"\quad x", 2.75),                            # a quad is an em, 1.75 x's
    (r"\begin{bmatrix}1 & 2 \\ 3 & 4\end{bmatrix}", 3 + 2),   # the widest row and the brackets
    (r"\mathtt{x\_1}", 3.0),
    (r"a\,b", 2.2),                                # a thin space
    (r"\left. {}+ c\right)", 4.2),                 # {}+ is binary; \left. is an empty 1.2pt
    (r"\left. \left. x \right. \right.", 1.8),      # (\nulldelimiterspace: 0.22 x's in pdflatex)
    (r"\enspace x", 1.875),                        # half an em
])
def test_latex_width(tex, width):
    assert latex_width(tex) == pytest.approx(width)


def test_terms_split_the_outermost_sum_else_the_outermost_product():
    assert terms(r"a + \frac{b + c}{d} - e^{f - g}") == ["a", r"+ \frac{b + c}{d}", r"- e^{f - g}"]
    assert terms(r"-a - \left(b + c\right)") == ["-a", r"- \left(b + c\right)"]
    assert terms(r"A \odot \left(1 - B\right) \cdot c") == ["A", r"\odot \left(1 - B\right)", r"\cdot c"]
    assert terms(r"x \left(a + b\right)") == [r"x \left(a + b\right)"]   # juxtaposed: never broken
    # but beside a fraction, which may be too wide to share a line (not after a sign)
    assert terms(r"\tanh\left(u\right)^{\top} \frac{a}{b} W^{\top}") == [
        r"\tanh\left(u\right)^{\top}", r"\frac{a}{b}", r"W^{\top}"]
    assert terms(r"- \frac{a}{b}") == [r"- \frac{a}{b}"]
    assert terms(r"\begin{bmatrix}1 + 2 & 3\end{bmatrix}") == [r"\begin{bmatrix}1 + 2 & 3\end{bmatrix}"]


def test_wrap_breaks_between_terms_and_inside_a_too_wide_group():
    assert wrap("a + b + c + d", 6) == ["a + b", "+ c + d"]
    assert wrap("a + b + c + d", 100) == ["a + b + c + d"]
    assert wrap("a + b + c + d", 6, indent=3) == ["a + b", "+ c", "+ d"]   # later lines 3 narrower
    # (a line inside parentheses is indented half an em: \enspace)
    assert wrap(r"z \left(a + b + c\right)", 8) == [r"z \left(a + b \right.", r"\left. \enspace {}+ c\right)"]
    # a term of a sum that is a product of several factors breaks at their operators
    assert wrap(r"x + a b \odot c d \odot e", 6) == ["x", r"+ a b", r"\odot c d", r"\odot e"]
    # a fraction juxtaposed with what precedes it starts the next line: an MLP's
    # d loss/d W_2, tanh(X W_1 + b_1)^T 2 (...)/size(...), broke inside tanh( and the
    # fraction ran 10% past line_width=35 ('tanh(X W_1' / '+ b_1)^T 2 (...)/size(...)')
    assert wrap(r"\tanh\left(a + b\right)^{\top} \frac{a b c d e f g}{d}", 12, indent=1) == [
        r"\tanh\left(a + b\right)^{\top}", r"\frac{a b c d e f g}{d}"]
    # what has nothing to break at keeps its line, however wide
    assert wrap(r"\frac{a b c d e f g}{e}", 3) == [r"\frac{a b c d e f g}{e}"]
    # the group's last line leaves room for what follows the group (\right) p q r s t)
    # (it was one line 18 wide: the group alone fitted the first line)
    assert wrap(r"z \left(a + b + c + d\right) p q r s t", 14, indent=1) == [
        r"z \left(a + b + c \right.", r"\left. \enspace {}+ d\right) p q r s t"]


def test_wrap_breaks_a_too_wide_fraction_with_a_solidus():
    # a fraction wider than the line kept it whole, however wide: the lecture's d2y/dx2
    # ((2z/ln(x)^3 - ...)/x) ran 20pt past line_width=30, an MLP's 1/size(...) 134pt past
    # 30 and 20pt past 50. Written N / D instead, as a printer sets a fraction too wide for
    # its line, it breaks inside the parentheses of N (or of D), and at the solidus
    assert wrap(r"\frac{a + b + c + d}{e}", 8) == [
        r"\left(a + b \right.", r"\left. \enspace {}+ c \right.", r"\left. \enspace {}+ d\right) / e"]
    # a numerator as narrow as 1 stays with its denominator; a sign and a comma stay put
    assert wrap(r"x - \frac{1}{\ln\left(a + b + c + d\right)}", 10) == [
        "x", r"- 1/\ln\left(a \right.", r"\left. \enspace {}+ b + c \right.", r"\left. \enspace {}+ d\right)"]
    assert wrap(r"f\left(\frac{1}{g\left(a + b + c + d\right)}, x\right)", 11) == [
        r"f\left(\right.", r"\left. \enspace 1/g\left(a + b \right. \right.",
        r"\left. \enspace \left. \enspace {}+ c + d\right), \right.", r"\left. \enspace x\right)"]
    # a denominator of several factors or terms is parenthesized, and so is the quotient
    # where it is juxtaposed with other factors (u (N)/D v would not say what D divides)
    assert wrap(r"\frac{1}{x z + a b c d e}", 8) == [r"1/\left(x z \right.", r"\left. {}+ a b c d e\right)"]
    assert wrap(r"u \frac{a + b + c + d}{e} v", 9) == [
        "u", r"\left(\left(a + b \right. \right.", r"\left. \enspace \left. \enspace {}+ c \right. \right.",
        r"\left. \enspace \left. \enspace {}+ d\right) \right.", r"\left. \enspace / e\right) v"]
    # both parts too wide: it breaks at the solidus too
    assert wrap(r"\frac{a + b + c + d}{e + f + g + h}", 8) == [
        r"\left(a + b \right.", r"\left. \enspace {}+ c \right.", r"\left. \enspace {}+ d\right)",
        r"/ \left(e + f \right.", r"\left. \enspace {}+ g \right.", r"\left. \enspace {}+ h\right)"]


def test_wrap_writes_a_too_wide_power_of_e_as_exp():
    # an exponent is never broken: a 3-layer MLP's cross-entropy gradient holds
    # - e^{log softmax(tanh(tanh(X W_1 + b_1) W_2 + b_2) W_3 + b_3)}, 36 letters, which ran
    # 21% past line_width=30. Too wide for its line, e^{u} is written exp(u), broken inside
    assert wrap(r"x - e^{a + b + c + d}", 8) == [
        "x", r"- \exp\left(a \right.", r"\left. \enspace {}+ b + c \right.", r"\left. \enspace {}+ d\right)"]
    assert wrap(r"x - e^{a + b + c + d}", 11) == [r"x - e^{a + b + c + d}"]   # where it fits: as it was
    assert wrap(r"e^{a b c d e f g h}", 4) == [r"e^{a b c d e f g h}"]   # nowhere to break: as it was


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("width", [30, 36])
def test_a_deep_mlp_gradient_fits_a_narrow_text(tmp_path, width):
    """A 3-layer cross-entropy MLP's gradient: its e^{log softmax(...)} ran 37pt past a
    text 30 x's wide, 2.4pt past 36 (and d loss/d W_3's tanh(tanh(...) ...)^T (...), 14-24%)."""
    net = cg.nn.MLP([3, 4, 4, 2], activation="tanh", loss="cross_entropy", seed=0)
    text = cg.to_latex(cg.simplify(cg.adjoint(net.build())), line_width=width)
    check_latex(text)
    head = (r"\documentclass[10pt]{article}\newlength\xw\settowidth{\xw}{$x$}"
            rf"\setlength{{\textwidth}}{{{width}\xw}}")
    log = _typeset(tmp_path, head, [r"\[" + text + "\\]\n"])
    assert "Output written on s.pdf" in log and not re.findall(r"^!.*", log, re.M)
    assert re.findall(r"Overfull \\hbox \(([\d.]+)pt", log) == []


def test_wrap_breaks_before_a_group_whose_juxtaposed_factors_are_too_wide():
    # broken inside its widest group, a product kept the factors before that group on the
    # group's first line however wide they were: a 3-layer MLP's d loss/d W_3,
    # tanh(tanh(X W_1 + b_1) W_2 + b_2)^T (...), ran 14-24% past line_width 30-35.
    # Those factors now take lines of their own, broken as they need, and the group
    # starts the next line
    tex = r"\tanh\left(\tanh\left(X W_{1} + b_{1}\right) W_{2} + b_{2}\right)^{\top} \left(Y \odot A + B \odot C + D \odot E + F\right)"
    rows = wrap(tex, 24, 1.75)
    # (the group starts on the factors' last line, + b_2)^T, which took a line of its own
    # and left the line after it one more: the lines a short one between them saves)
    assert rows == [
        r"\tanh\left(\tanh\left(X W_{1} + b_{1}\right) W_{2} \right.",
        r"\left. \enspace {}+ b_{2}\right)^{\top} \left(Y \odot A + B \odot C \right.",
        r"\left. \enspace {}+ D \odot E + F\right)"]
    assert latex_width(rows[0]) <= 24 and all(latex_width(row) <= 24 - 1.75 for row in rows[1:])
    assert _joined(rows) == tex
    # factors that fit keep the group's opening on their line
    assert wrap(r"X^{\top} \left(a + b + c + d\right)", 8)[0] == r"X^{\top} \left(a + b \right."


def test_wrap_of_deeply_nested_parentheses_takes_one_pass_per_level(monkeypatch):
    # (a29 + (... (a0 + x)*b0 ...)*b29: wrapping a group twice (to leave room for its
    # \right) took 2^depth passes, and to_latex(line_width=55) of it never returned
    from cgraph.printing import linebreak

    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        assert len(calls) < 2000, "wrap called exponentially often"
        return wrap(*args, **kwargs)

    monkeypatch.setattr(linebreak, "wrap", counted)
    text = "x"
    for i in range(30):
        text = f"(a{i} + {text})*b{i}"
    broken = cg.to_latex(cg.parse("y = " + text), line_width=55)
    # (each group opens on the line of the a_i before it where it fits: 7 lines, not 31)
    assert broken.count("\n") > 5
    check_latex(broken)


@settings(max_examples=examples(60), deadline=None)
@given(op_graphs(names=NAMES), st.integers(4, 80))
def test_wrap_keeps_the_expression_and_fills_lines_up_to_the_width(drawn, width):
    g = drawn[0]
    for side in _sides(cg.simplify(cg.adjoint(g))) + _sides(g, form="program"):
        assert " ".join(terms(side)) == side
        rows = wrap(side, width, indent=1, solidus=False)
        assert _joined(rows) == side
        for i, row in enumerate(rows):
            room = width if i == 0 else width - 1
            # a row of several terms was filled only up to the width
            assert len(terms(row)) == 1 or latex_width(row) <= room + 1e-9, (row, room)
        # with fractions too wide written N / D: the same symbols in the same order
        assert _symbols(" ".join(wrap(side, width, indent=1))) == _symbols(side)


def _symbols(text: str) -> str:
    """``text`` without fractions, parentheses, solidi, spaces and wrap's markup (exp(u) as e^u)."""
    text = text.replace("\\exp", "e^")
    return re.sub(r"\\frac|\\left[(.]|\\right[).]|\\enspace|[{}/\s]", "", text)


def test_to_latex_breaks_the_lecture_hessian_for_a_slide():
    h = cg.simplify(cg.hessian_graph(lecture()))
    one = cg.to_latex(h)
    broken = cg.to_latex(h, line_width=60)
    assert broken.count("\n") > one.count("\n")
    assert broken.replace(" \\\\\n&\\quad {}", " ") == one   # the same equations, continued lines joined
    rows = broken.splitlines()[1:-1]
    assert rows[1].startswith(r"&\quad {}+ z \left(")
    check_latex(broken)
    # each row is under the width, but the fraction that has no sum at its top level
    lead = latex_width(r"\frac{\partial^{2} y}{\partial z \, \partial x}") + 2
    for row in rows:
        side = re.split(r" &= |&\\quad ", row.removesuffix(" \\\\"), maxsplit=1)[-1]
        assert lead + latex_width(side) <= 60 or len(terms(side.removeprefix("{}"))) == 1


def test_to_latex_breaks_the_lecture_s_second_derivative_at_a_solidus():
    # d2y/dx2 = (2z/ln(x)^3 - ...)/x: a fraction 35 letters wide kept its line at
    # line_width=30 (20pt past the text); now (...) / x, broken inside the parentheses,
    # while the fractions that fit stay fractions
    h = cg.simplify(cg.hessian_graph(lecture()))
    text = cg.to_latex(h, line_width=30)
    rows = text.splitlines()
    assert rows[1].startswith(r"&\frac{\partial^{2} y}{\partial x^{2}} = \left(\frac{2 z}{\ln\left(x\right)^{3}} - ")
    assert rows[2].endswith(r"\right) / x \\")
    assert rows[5] == (r"&\quad {}- \frac{\frac{\cos\left(\ln\left(x\right)\right)}{x z} - "
                       r"\frac{x z}{\ln\left(x\right)^{2}}}{x^{2}} \\")
    for lead, equation in _equations(text):
        for row in equation:
            assert lead + latex_width(row) <= 30, row
    check_latex(text)
    # an MLP's 1/size(...) in a cross-entropy gradient, 49.5 letters, at 50 (it ran 20pt over)
    net = cg.nn.MLP([3, 4, 2], activation="tanh", loss="cross_entropy", seed=3)
    text = cg.to_latex(cg.simplify(cg.adjoint(net.build())), line_width=50)
    assert r"1/\operatorname{size}\left(" in text and r"\frac{1}{\operatorname{size}" not in text
    check_latex(text)


def test_to_latex_line_width_of_one_equation_and_of_a_node():
    g = cg.parse("y = exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    assert cg.to_latex(g, line_width=1000) == cg.to_latex(g)   # short enough: unchanged
    assert cg.to_latex(g, line_width=20) == (
        "\\begin{aligned}\n"
        r"y &= e^{x z} + \frac{x z}{\ln\left(x\right)} \\" "\n"
        r"&\quad {}+ \frac{\sin\left(\ln\left(x\right)\right)}{x z}" "\n"
        "\\end{aligned}")
    assert cg.to_latex(g.node("y"), line_width=20) == (
        "\\begin{aligned}\n"
        r"&e^{x z} + \frac{x z}{\ln\left(x\right)} \\" "\n"
        r"&\quad {}+ \frac{\sin\left(\ln\left(x\right)\right)}{x z}" "\n"
        "\\end{aligned}")
    assert cg.to_latex(cg.adjoint(cg.parse("y = 3")), line_width=20) == ""   # nothing to print


def test_to_latex_breaks_an_mlp_gradient_inside_its_parentheses():
    net = cg.nn.MLP([2, 3, 1], activation="tanh", loss="mse")
    text = cg.to_latex(cg.simplify(net.gradient_graph()), line_width=60)
    assert "W_{2}^{\\top} \\right. \\\\\n&\\quad \\left. \\enspace {}\\odot \\left(1 - " in text
    check_latex(text)


def test_terms_split_a_call_s_arguments_after_their_commas():
    # the commas first: a sum or a product inside one argument is not joined to the next
    assert terms(r"a + b, -c \odot d, \frac{e, f}{g}") == ["a + b,", r"-c \odot d,", r"\frac{e, f}{g}"]
    assert terms(r"w_{1,2} + x\,y") == ["w_{1,2}", r"+ x\,y"]   # a script's comma, a thin space


def test_wrap_breaks_a_call_after_the_commas_of_its_arguments():
    # (it broke at the sum in the first argument and ran on: 'f(a' / '+ b, c d, e)')
    assert wrap(r"f\left(a + b, c d, e\right)", 8) == [r"f\left(a + b, \right.", r"\left. \enspace c d, e\right)"]
    # nested calls recurse, each level's lines half an em further in; a reopened argument
    # needs no {} (-c stays a unary minus)
    assert wrap(r"f\left(g\left(a, b + c\right), h\left(d, e\right)\right)", 9) == [
        r"f\left(g\left(a, \right. \right.", r"\left. \enspace \left. \enspace b + c\right), \right.",
        r"\left. \enspace h\left(d, e\right)\right)"]
    assert wrap(r"f\left(a, -c\right)", 5) == [r"f\left(a, \right.", r"\left. \enspace -c\right)"]
    # a first argument that cannot be broken and does not fit after f( starts the next line
    assert wrap(r"x + g\left(\frac{a b c d e}{d}, e\right)", 10) == [
        r"x + g\left(\right.", r"\left. \enspace \frac{a b c d e}{d}, e\right)"]
    # so does a first argument that is a product led by such a fraction: the fraction
    # went after g( and ran 4 past the width (sum_to(2 (...)/size(...) W_2^T ⊙ ..., b_1)
    # of an MLP's gradient at line_width=40: 48.5 letters)
    assert wrap(r"x + g\left(\frac{a b c d e f}{d} u \odot v, e\right)", 10) == [
        r"x + g\left(\right.", r"\left. \enspace \frac{a b c d e f}{d} u \right.", r"\left. \enspace {}\odot v, e\right)"]
    # what follows an argument broken over lines joins its last line where it fits
    assert wrap(r"f\left(\left(a + b + c\right) d, e\right)", 11) == [
        r"f\left(\left(a + b \right. \right.", r"\left. \enspace \left. \enspace {}+ c\right) d, e\right)"]


def _equations(text: str) -> list[tuple[float, list[str]]]:
    """The equations of ``cg.to_latex(..., line_width=)``: each one's rows as typeset from
    the left edge, alignment markup taken out (where it is aligned under its =, the
    continued rows start after the widest left side)."""
    rows = text.removeprefix("\\begin{aligned}\n").removesuffix("\n\\end{aligned}").split(" \\\\\n")
    edge = rows[0].startswith("&")
    lead = 0.0 if edge else max(latex_width(row.split(" &= ")[0]) for row in rows if " &= " in row) + 2.0
    equations: list[list[str]] = []
    for row in rows:
        if row.startswith("&\\quad "):
            equations[-1].append(row.removeprefix("&"))
        else:
            left, right = re.split(r" &?= ", row.removeprefix("&"), maxsplit=1)
            equations.append([f"{left} = {right}" if edge else right])
    return [(lead, rows) for rows in equations]


@pytest.mark.parametrize("width", [55, 60])
def test_to_latex_breaks_a_cross_entropy_mlp_gradient_inside_its_calls(width):
    """The gradient of a cross-entropy MLP's loss has calls of several arguments
    (expand(1/size(...), -sum(...)), sum_to(..., b1)) that had nowhere to break: rows of
    83 letters at line_width=55 (200pt past a beamer frame). Each row now fits (as
    estimated), and the rows joined give the equations back."""
    net = cg.nn.MLP([3, 4, 2], activation="tanh", loss="cross_entropy", seed=3)
    g = cg.simplify(cg.adjoint(net.build()))
    broken = cg.to_latex(g, line_width=width)
    check_latex(broken)
    # the fraction 1/size(...) (49.5 letters) does not fit under the = of d loss/d W1 at
    # 60: every equation starts at the left edge; at 55 it does not fit there either, and
    # is written 1/size(...), broken inside size(...)
    if width == 60:
        assert broken.startswith("\\begin{aligned}\n&\\frac{\\partial \\mathrm{loss}}{\\partial X} = ")
    else:
        assert r"1/\operatorname{size}\left(" in broken
    equations = _equations(broken)
    for lead, rows in equations:
        for row in rows:
            assert lead + latex_width(row) <= width, row
    # the same equations: continued rows joined, \right. \left. pairs taken out
    sides = _sides(g)
    assert len(equations) == len(sides)
    for (_, rows), side in zip(equations, sides):
        first, *rest = rows
        joined = _joined([first.split(" = ", 1)[-1], *(row.removeprefix("\\quad ").removeprefix("{}") for row in rest)])
        assert joined == side if width == 60 else _symbols(joined) == _symbols(side)


@pytest.mark.parametrize("bad", [0, -3, float("nan"), float("inf"), "60", True])
def test_to_latex_refuses_a_line_width_that_is_no_positive_number(bad):
    with pytest.raises(cg.ArgumentError, match="line_width"):
        cg.to_latex(lecture(), line_width=bad)


@settings(max_examples=examples(40), deadline=None)
@given(expressions(), st.integers(5, 60))
def test_broken_latex_is_valid_latex(g, width):
    for h in (g, cg.simplify(cg.adjoint(g))):
        for form in ("expanded", "program"):
            check_latex(cg.to_latex(h, form=form, line_width=width))


def _typeset(tmp_path, head: str, bodies: list[str]) -> str:
    """pdflatex's log of a document of ``bodies`` after preamble ``head``."""
    (tmp_path / "s.tex").write_text(head + r"\usepackage{amsmath}\begin{document}" + "\n"
                                    + "".join(bodies) + r"\end{document}" + "\n")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "s.tex"], cwd=tmp_path, capture_output=True, timeout=120)
    return (tmp_path / "s.log").read_text(errors="replace")


def _slide_graphs() -> list:
    """An MLP's VJP, an MSE and a cross-entropy MLP gradient, the lecture's Hessian and HVP,
    a sigmoid MSE MLP's gradient."""
    net = cg.nn.MLP([3, 4, 2], activation="tanh", loss="cross_entropy", seed=3)
    mse = cg.nn.MLP([2, 3, 1], activation="tanh", loss="mse")
    return [cg.simplify(cg.vjp_graph(net.build(with_loss=False), wrt="W1")), cg.simplify(mse.gradient_graph()),
            cg.simplify(cg.hessian_graph(lecture())), cg.simplify(cg.hvp_graph(lecture())),
            cg.simplify(cg.adjoint(net.build())), _sigmoid_mlp_gradient()]


def _sigmoid_mlp_gradient() -> cg.Graph:
    """A sigmoid MSE MLP's gradient: X^T (sigma(...) (.) (2 (...)/size(...) W_2^T) (.) ...), with
    W and X (1.9 and 1.6 x's wide, estimated 1.4 until 1.4 was kept for most capitals only)
    and parentheses around a fraction (wider than around a letter): a row of it ran 3pt
    past a 10pt article's page at line_width=60, 6pt past a text 57 x's wide."""
    return cg.simplify(cg.nn.MLP([2, 2, 1], activation="sigmoid", loss="mse", seed=0).gradient_graph())


@pytest.mark.skipif(shutil.which("kpsewhich") is None or not subprocess.run(
    ["kpsewhich", "beamer.cls"], capture_output=True, text=True).stdout.strip(), reason="beamer is not installed")
def test_line_width_55_fits_a_beamer_slide_in_small(tmp_path):
    """What the README promises: no line past a beamer frame's text (55.6 x's in \\small).
    An MLP's u^T dyhat/dW1 (capitals X, W; continued lines indented by a quad) ran 4.6pt
    past it while a capital and a \\quad counted as one x; a cross-entropy MLP's gradient,
    200pt, while a call's arguments had nowhere to break."""
    frames = [r"\begin{frame}\small\[" + cg.to_latex(g, line_width=55) + "\\]\\end{frame}\n" for g in _slide_graphs()]
    log = _typeset(tmp_path, r"\documentclass{beamer}", frames)
    assert "Output written on s.pdf (6 pages" in log
    assert re.findall(r"Overfull \\hbox \(([\d.]+)pt", log) == []


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_line_width_60_fits_a_page_of_a_10pt_article(tmp_path):
    """No line past a 10pt article's text (60.4 x's): a cross-entropy MLP's gradient ran
    174pt past it."""
    pages = [r"\[" + cg.to_latex(g, line_width=60) + "\\]\\clearpage\n" for g in _slide_graphs()]
    log = _typeset(tmp_path, r"\documentclass[10pt]{article}", pages)
    assert "Output written on s.pdf" in log
    assert re.findall(r"Overfull \\hbox \(([\d.]+)pt", log) == []


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
@pytest.mark.parametrize("width", [30, 33, 35, 40, 45, 50, 53, 57])
def test_narrow_line_widths_fit_a_text_that_wide(tmp_path, width):
    """No line past a text ``width`` x's wide (a 10pt article's \\textwidth set so): the
    lecture's gradient, Hessian and HVP, an MLP's VJP, an MSE and a cross-entropy MLP's
    gradient. At 40 the MLP's d loss/d b_1 ran 48.5 letters wide (42pt over): the
    fraction that starts sum_to's first argument (2 (...)/size(...) W_2^T) stayed after
    'sum_to('. At 35 its d loss/d W_2 ran 20pt over: tanh(X W_1 + b_1)^T juxtaposed with
    that fraction broke inside tanh( and kept the fraction after it. Fractions wider
    than the text were never broken: the lecture's d2y/dx2 ran 20pt over at 30, its
    HVP 10pt at 40, the MSE gradient's 2 (...)/size(...) 60pt at 30, the cross-entropy
    gradient's 1/size(...) 134pt at 30 and 20pt at 50; they are written N / D, broken
    inside the parentheses. A sigmoid MLP's gradient ran 1.5pt over at 35 and 6pt at 57
    (its capitals W and X and its parentheses around a fraction estimated too narrow)."""
    net = cg.nn.MLP([3, 4, 2], activation="tanh", loss="cross_entropy", seed=3)
    mse = cg.nn.MLP([2, 3, 1], activation="tanh", loss="mse")
    graphs = [cg.simplify(cg.adjoint(lecture())), cg.simplify(cg.vjp_graph(net.build(with_loss=False), wrt="W1")),
              cg.simplify(cg.hessian_graph(lecture())), cg.simplify(cg.hvp_graph(lecture())),
              cg.simplify(mse.gradient_graph()), cg.simplify(cg.adjoint(net.build())), _sigmoid_mlp_gradient()]
    pages = [r"\[" + cg.to_latex(g, line_width=width) + "\\]\\clearpage\n" for g in graphs]
    head = (r"\documentclass[10pt]{article}\newlength\xw\settowidth{\xw}{$x$}"
            rf"\setlength{{\textwidth}}{{{width}\xw}}")
    log = _typeset(tmp_path, head, pages)
    # (the cross-entropy gradient at 30 is taller than a page: it runs over several)
    assert "Output written on s.pdf" in log and not re.findall(r"^!.*", log, re.M)
    assert re.findall(r"Overfull \\hbox \(([\d.]+)pt", log) == []


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex is not installed")
def test_typeset_rows_fit_the_width(tmp_path):
    """pdflatex's own widths of wrap's rows, in widths of an x: within 20% of the estimate."""
    h = cg.simplify(cg.hessian_graph(lecture()))
    net = cg.nn.MLP([2, 3, 1], activation="tanh", loss="mse")
    rows = [row for g in (h, cg.simplify(net.gradient_graph())) for side in _sides(g) for row in wrap(side, 30)]
    body = "".join(r"\settowidth{\w}{$\displaystyle " + row + r"$}\typeout{W \the\w}" + "\n" for row in rows)
    (tmp_path / "w.tex").write_text(
        r"\documentclass{article}\usepackage{amsmath}\newlength\w\begin{document}"
        r"\settowidth{\w}{$x$}\typeout{W \the\w}" + "\n" + body + r"\end{document}")
    subprocess.run(["pdflatex", "-interaction=nonstopmode", "w.tex"], cwd=tmp_path, capture_output=True, timeout=120)
    x, *widths = [float(w) for w in re.findall(r"^W ([\d.]+)pt", (tmp_path / "w.log").read_text(), re.M)]
    assert len(widths) == len(rows)
    for row, w in zip(rows, widths):
        assert 0.8 <= w / x / latex_width(row) <= 1.25, row


def test_wrap_ends_where_the_pieces_fit_by_their_sum_but_not_measured_together():
    # 13.8 + 35.3 <= 49.1 filled one row, measured as one string 49.10000000000001 > 49.1:
    # wrap called itself on that row forever (a RecursionError from cg.to_latex at
    # line_width=54 of a random expression's derivative, found by the fuzz run)
    tex = (r"x_{1} \left(x_{1} + x_{0} x_{1} + 1\right) + x_{1} \left(x_{1} \left(x_{1} + x_{0} x_{1} + 1\right) "
           r"+ x_{1} \left(x_{0} x_{1} + x_{0} + 1\right)\right)")
    assert wrap(tex, 49.1, 1.75, solidus=False) == [tex]
    g = cg.parse("t39 = x0*x1\nt41 = x1 + t39 + 1\nt42 = t39 + x0 + 1\ng_t13 = x1*t41\ng_t12 = x1*t42\n"
                 "g_t11 = g_t13 + g_t12\ng_x0 = g_t13 + x1*g_t11\ng_x1 = t41*t42 + g_t12 + x0*g_t11")
    check_latex(cg.to_latex(g, form="expanded", line_width=54))
