"""examples/lecture.py: both builds agree, and it prints the lecture's numbers."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

PATH = Path(__file__).resolve().parent.parent / "examples" / "lecture.py"


@pytest.fixture(scope="module")
def lecture():
    spec = importlib.util.spec_from_file_location("lecture_example", PATH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_both_builds_are_the_lectures_graph(lecture):
    g, h = lecture.build_with_graph_api(), lecture.build_with_parse()
    assert lecture.structure(g) == lecture.structure(h)
    assert [n for n, _, _ in lecture.structure(g)] == ["x", "z", "a", "b", "c", "d", "e", "f", "y"]
    assert g.nx.number_of_edges() == 12
    lecture.check_agree(g, h)


def test_main_prints_values_and_gradients(lecture, capsys):
    lecture.main()
    out = capsys.readouterr().out
    assert "9 nodes (x z a b c d e f y), 12 edges" in out
    assert "y     412.19145728412116" in out
    assert "1208.38121" in out and "809.70747" in out
    exact = lecture.lecture_gradient()
    assert exact["x"] == pytest.approx(1208.3812151266095, rel=1e-15)
    assert exact["z"] == pytest.approx(809.707479218564, rel=1e-15)


def test_main_prints_the_adjoint_program_derivatives_latex_and_check(lecture, capsys):
    lecture.main()
    out = capsys.readouterr().out
    assert "g_y = 1\ng_f = g_y\ng_e = g_y\ng_d = g_y\ng_c = g_f*(1/a)\n" in out
    assert "g_a = g_f*(-c/a^2) + g_e*(1/b) + g_d*d\ng_x = g_b*(1/x) + g_a*z\ng_z = g_a*x\n" in out
    assert "\\frac{\\partial y}{\\partial x} &= " in out
    assert "g_x = z*exp(x*z) + z/log(x) - z/log(x)^2 + cos(log(x))/(x^2*z) - sin(log(x))/(x^2*z)\n" in out
    assert "g_x = 3*exp(6) + 3/log(2) - 3/log(2)^2 + cos(log(2))/12 - sin(log(2))/12\n" in out  # the lecture's
    assert "g_z = 2*exp(6) + 2/log(2) - sin(log(2))/18\n" in out
    assert "g_x = 1208.3812151266095\n" in out
    assert "all gradients match" in out


def test_symbolic_derivatives_are_the_lectures(lecture):
    import sympy as sp
    from sympy.parsing.sympy_parser import convert_xor, parse_expr, standard_transformations

    x, z = sp.symbols("x z", positive=True)
    ln = sp.log
    expected = {
        "g_x": z * sp.exp(x * z) + z / ln(x) - z / ln(x) ** 2 + sp.cos(ln(x)) / (x**2 * z) - sp.sin(ln(x)) / (x**2 * z),
        "g_z": x * sp.exp(x * z) + x / ln(x) - sp.sin(ln(x)) / (x * z**2),
    }
    folded = {
        "g_x": 3 * sp.exp(6) + 3 / ln(2) - 3 / ln(2) ** 2 + sp.cos(ln(2)) / 12 - sp.sin(ln(2)) / 12,
        "g_z": 2 * sp.exp(6) + 2 / ln(2) - sp.sin(ln(2)) / 18,
    }
    names = {"x": x, "z": z, "log": sp.log, "exp": sp.exp, "sin": sp.sin, "cos": sp.cos}

    def read(text):
        name, expr = text.split(" = ", 1)
        return name, parse_expr(expr, local_dict=names, transformations=standard_transformations + (convert_xor,))

    g = lecture.build_with_parse()
    for line in lecture.cg.to_text(lecture.symbolic_derivatives(g)).splitlines():
        name, expr = read(line)
        assert sp.simplify(expr - expected[name]) == 0
    for line in lecture.cg.to_text(lecture.expanded_derivatives(g)).splitlines():
        name, expr = read(line)
        assert expr == expected[name]  # multiplied out: the lecture's terms, as SymPy reads them
    for h in lecture.exact_values(g):
        name, expr = read(lecture.cg.to_text(h))
        assert sp.simplify(expr - folded[name]) == 0
