"""expand: the lecture's derivatives term by term, and for random graphs the same value,
outputs and metadata; products past MAX_TERMS and non-scalar nodes kept as they are."""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, assume, given, settings
from strategies import examples, expressions, finite_values, points
from test_adjoint import lecture, mlp
from test_simplify import LECTURE_DYDX, LECTURE_DYDZ, expressions_of, to_sympy

import cgraph as cg
from cgraph.passes.expand import GROWTH, GROWTH_SLACK, MAX_TERMS


def terms(text: str) -> list[str]:
    """The top-level terms of a sum, as printed (signs dropped)."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if depth == 0 and text[i : i + 3] in (" + ", " - "):
            out.append(text[start:i])
            start = i + 3
    return [*out, text[start:]]


def test_the_lecture_derivatives_are_the_lectures_sums_of_terms_in_its_order():
    expanded = cg.expand(cg.adjoint(lecture()))
    exprs = expressions_of(expanded)
    assert exprs == {  # z e^{xz} + z/ln(x) - z/ln(x)^2 + cos(ln(x))/(x^2 z) - sin(ln(x))/(x^2 z)
        "g_x": "z*exp(x*z) + z/log(x) - z/log(x)^2 + cos(log(x))/(x^2*z) - sin(log(x))/(x^2*z)",
        "g_z": "x*exp(x*z) + x/log(x) - sin(log(x))/(x*z^2)",
    }
    assert expressions_of(cg.simplify(expanded, x=2, z=3)) == {  # 3e^6 + 3/ln(2) - 3/ln(2)^2 + ...
        "g_x": "3*exp(6) + 3/log(2) - 3/log(2)^2 + cos(log(2))/12 - sin(log(2))/12",
        "g_z": "2*exp(6) + 2/log(2) - sin(log(2))/18",
    }
    # a simplified adjoint has lost the derivation's order, not its terms
    again = expressions_of(cg.expand(cg.simplify(cg.adjoint(lecture()))))
    assert {n: sorted(terms(t)) for n, t in again.items()} == {n: sorted(terms(t)) for n, t in exprs.items()}
    # the lecture's five terms of dy/dx and three of dy/dz, each of them exactly
    for name, lecture_sum in (("g_x", LECTURE_DYDX), ("g_z", LECTURE_DYDZ)):
        ours = {to_sympy(t) for t in terms(exprs[name])}
        assert ours == {-t if t.could_extract_minus_sign() else t for t in lecture_sum.args}
        assert sp.simplify(to_sympy(exprs[name]) - lecture_sum) == 0
    latex = cg.to_latex(expanded)
    assert r"\frac{\partial y}{\partial x} &= z e^{x z} + \frac{z}{\ln\left(x\right)} - " in latex


@pytest.mark.parametrize(
    ("formula", "derivative"),
    [  # the product and quotient rules, operand by operand, as written by hand
        ("2*sin(x)*x + x/(1 + x)", "2*x*cos(x) + 2*sin(x) + 1/(x + 1) - x/(x + 1)^2"),
        ("exp(x)*log(x)*sin(x)", "exp(x)*log(x)*sin(x) + exp(x)*sin(x)/x + exp(x)*log(x)*cos(x)"),
        ("3*x + x^2 + sin(x)", "2*x + cos(x) + 3"),  # a constant term goes last, as simplify writes sums
    ],
)
def test_terms_of_an_adjoint_come_in_the_order_of_a_hand_derivation(formula, derivative):
    assert expressions_of(cg.expand(cg.adjoint(cg.parse(formula))))["g_x"] == derivative


def test_a_second_derivative_collects_its_like_terms():
    # d2/dx2 of x*sin(x): simplify keeps cos(x) + cos(x) (collecting them would add a
    # node), expand writes it the way SymPy does
    g = cg.adjoint(cg.adjoint(cg.parse("x*sin(x)")), of="g_x")
    e = cg.expand(g)
    assert cg.to_text(e) == "g2_x = 2*cos(x) - x*sin(x)"
    assert cg.to_latex(e).endswith(r"= 2 \cos\left(x\right) - x \sin\left(x\right)")
    for x in (0.3, -2.0, 5.0):
        assert cg.evaluate(e, x=x)["g2_x"] == pytest.approx(2 * math.cos(x) - x * math.sin(x), rel=1e-15)


def test_outputs_keep_their_names_metadata_and_inputs():
    d = cg.simplify(cg.adjoint(lecture()))
    e = cg.expand(d)
    assert e.outputs == d.outputs and e.inputs == d.inputs
    for o in e.outputs:
        assert e.nx.nodes[o]["adjoint_of"] == d.nx.nodes[o]["adjoint_of"]
    assert cg.to_text(cg.expand(e)) == cg.to_text(e)  # expanding again changes nothing
    g = cg.parse("y = x")
    assert cg.to_text(cg.expand(g)) == "y = x"


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("(x + 1)*(x - 1)", "x^2 - 1"),
        ("(x*z/log(x)^2)/x", "z/log(x)^2"),
        ("x/(x + 1)", "x/(x + 1)"),  # a quotient by a sum stays a quotient
        ("(x + z)^2", "(x + z)^2"),  # and a power of a sum a power
        ("sqrt(x^2)", "sqrt(x^2)"),  # |x|, not x: no fractional powers of products
        ("exp((x + 1)*z) - exp(x*z + z)", "0"),  # arguments of functions are expanded too
        ("2*(x/3 - z/2)", "2*x/3 - z"),
        ("(2*x)^(-2)", "1/(4*x^2)"),
        ("x^2.0*x/x^4", "1/x"),
        ("a - x*sin(x) - x*sin(x)/2", "a - 3*x*sin(x)/2"),
        ("a - 1*x*sin(x)", "a - x*sin(x)"),  # a coefficient -1 is a minus sign, not -1*
        ("a - x*z/w", "a - x*z/w"),
    ],
)
def test_what_is_multiplied_out_and_what_is_kept(formula, expected):
    assert expressions_of(cg.expand(cg.parse(formula)))["y"] == expected


def test_a_product_past_max_terms_stays_a_product():
    names = [f"a{i}" for i in range(14)]
    formula = "*".join(f"({u} + {v})" for u, v in zip(names[::2], names[1::2]))  # 2^7 = 128 terms
    g = cg.parse(formula)
    text = expressions_of(cg.expand(g))["y"]
    assert len(terms(text)) <= MAX_TERMS
    point = {n: 0.1 * (i + 1) for i, n in enumerate(names)}
    assert float(cg.evaluate(cg.expand(g), point)["y"]) == pytest.approx(float(cg.evaluate(g, point)["y"]), rel=1e-12)


@pytest.mark.parametrize("formula", ["sum(x1 + x0*0)", "sum(x1 + x0 - x0)", "mean((x1 + x0)*x1 - x0*x1)"])
def test_terms_that_cancel_under_a_reduction_keep_their_broadcast(formula):
    # x0 (3,) and x1 (2, 1) are declared nowhere: the sum runs over (2, 3), not x1's (2, 1)
    g = cg.parse(f"y = {formula}")
    expanded = cg.expand(g)
    point = {"x0": np.arange(3.0), "x1": np.ones((2, 1))}
    want = float(cg.evaluate(g, point)["y"])
    assert float(cg.evaluate(expanded, {k: v for k, v in point.items() if k in expanded.inputs})["y"]) == want


def test_a_deep_chain_expands_without_recursion_and_within_its_growth_budget():
    import sys

    g = cg.Graph("chain")
    x = g.input("x")
    h = x
    for i in range(3000):  # each sin(h) would repeat h's whole sum: the budget stops that
        h = cg.sin(h) * 0.5 + h if i % 2 else (h + 1) * x
    g.output(h, name="y")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)
    try:
        e = cg.expand(g)
    finally:
        sys.setrecursionlimit(limit)
    ops = sum(1 for n in g.nx if g.nx.nodes[n]["role"] == "op")
    assert sum(1 for n in e.nx if e.nx.nodes[n]["role"] == "op") <= GROWTH * ops + GROWTH_SLACK
    before, after = (float(cg.evaluate(h, x=0.1)["y"]) for h in (g, e))
    assert after == pytest.approx(before, rel=1e-12)


def test_array_graphs_keep_their_values():
    g = mlp()
    ga = cg.simplify(cg.adjoint(g))
    rng = np.random.default_rng(0)
    feeds = {n: rng.normal(size=[d or 4 for d in ga.nx.nodes[n]["shape"]]) for n in ga.inputs + ga.params}
    before, after = cg.evaluate(ga, feeds), cg.evaluate(cg.expand(ga), feeds)
    for o in ga.outputs:
        np.testing.assert_allclose(after[o], before[o], rtol=1e-12, atol=1e-12)


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(expressions(max_steps=8), points())
def test_random_graphs_and_their_derivatives_keep_their_value(g, point):
    for h in (g, cg.adjoint(g), cg.simplify(cg.adjoint(g))):
        vals = finite_values(h, point)
        assume(vals is not None)
        expanded = cg.expand(h)
        assert expanded.outputs == h.outputs
        got = cg.evaluate(expanded, {k: v for k, v in point.items() if k in expanded.inputs}, nonfinite="propagate")
        # rounding: a sum of terms is exact to about eps times its largest term
        scale = max(1.0, *(float(np.max(np.abs(v))) for v in [*vals.values(), *got.values()]))
        for o in h.outputs:
            np.testing.assert_allclose(got[o], vals[o], rtol=1e-9, atol=1e-9 * scale, err_msg=o)


def test_bad_input_is_a_typed_error_naming_expand_or_the_cycle():
    with pytest.raises(cg.GraphError, match="expand needs a cg.Graph, not str"):
        cg.expand("y = x")
    g = cg.parse("a = x*z\ny = a + 1")
    g.nx.add_edge("y", "a", key=2)
    with pytest.raises(cg.CycleError, match="has a cycle: (y -> a -> y|a -> y -> a)"):  # where it starts varies
        cg.expand(g)


def test_an_exact_constant_past_4300_digits_expands():
    # the coefficient's repr() was part of a cache key: ValueError (Exceeds the limit)
    g = cg.Graph()
    x = g.input("x")
    g.output(x * g.const(10**5000), name="y")
    assert cg.to_text(cg.expand(g)) == f"y = 1{'0' * 5000}*x"


@pytest.mark.parametrize(
    "formula",
    [
        "(1e200*x)*(1e200*z)",  # was inf*x*z: inf where this is finite (x = z = 1e-300)
        "(1e200*x)^2 + z",  # float ** int: a bare OverflowError
        "(1e-200*x)^-2",
        f"({'9' * 400}*x)*(0.5*z)",  # an exact int past the floats times a float
    ],
)
def test_coefficients_that_overflow_when_multiplied_out_stay_unexpanded(formula):
    g = cg.parse(formula)
    text = cg.to_text(cg.expand(g))
    assert "inf" not in text
    assert text == cg.to_text(cg.simplify(g))


def test_a_chain_of_n_functions_expands_in_work_linear_in_n():
    # the derivative of sin(sin(...sin(x))), n deep, is a product of n cosines: each factor
    # multiplied in sorted the whole product again (Python-level work in n^2; grad --expand took
    # 5 s of CPU at n = 2000, over 300 s at n = 10^4). Counted: Python function calls and
    # generator steps, which grew 3x from n = 300 to 600 and now 2x
    import sys

    def calls(n: int) -> int:
        ga = cg.adjoint(cg.parse("sin(" * n + "x" + ")" * n))
        count = 0

        def profile(frame, event, arg):
            nonlocal count
            count += event == "call"

        sys.setprofile(profile)
        try:
            cg.expand(ga)
        finally:
            sys.setprofile(None)
        return count

    assert calls(600) < 2.2 * calls(300)


def test_a_chain_of_n_functions_expands_in_memory_linear_in_n():
    # the derivative of sin(sin(...sin(x))), n deep, is a product of n cosines, each term
    # reached down a chain-rule path n steps long: as tuples, every factor multiplied in copied
    # the product and its path (C-level work, which the count of calls above does not see,
    # and whose hashing made grad --expand take 27 s and 1.5 GB at n = 10^4). Counted: the
    # bytes expand holds at its peak, which grew 3.4x from n = 500 to 1000 and now 2.1x
    import tracemalloc

    def peak(n: int) -> int:
        ga = cg.adjoint(cg.parse("sin(" * n + "x" + ")" * n))
        tracemalloc.start()
        try:
            cg.expand(ga)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert peak(1000) < 2.6 * peak(500)
