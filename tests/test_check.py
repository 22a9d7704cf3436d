"""check_gradients: the report, and that it catches a wrong derivative rule."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_adjoint import lecture

import cgraph as cg


def test_lecture_gradients_pass():
    report = cg.check_gradients(lecture(), x=2.0, z=3.0)
    assert report.ok and bool(report)
    assert [r.input for r in report.rows] == ["x", "z"]
    assert report.rows[0].index == ()
    assert report.max_rel_error < 1e-8
    text = str(report)
    lines = text.splitlines()
    assert lines[0].split() == ["input", "index", "analytic", "numeric", "abs", "error", "rel", "error", "ok"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].startswith("x ") and lines[2].endswith("yes")
    assert lines[-1].startswith("all gradients match (max rel error")
    column = lines[0].index("numeric")  # aligned columns
    assert all(line[column - 2:column] == "  " and line[column] != " " for line in lines[2:4])
    # each value in its shortest exact form: it reads back as the same float
    assert lines[3].split()[1] == repr(float(report.rows[1].analytic)) == "809.707479218564"


def test_a_wrong_rule_is_caught(monkeypatch):
    log = cg.OPS["log"]
    wrong = dataclasses.replace(log, vjp=lambda g, out, a: (g * a,))  # d log(a) = a?
    monkeypatch.setitem(cg.OPS, "log", wrong)
    report = cg.check_gradients(lecture(), x=2.0, z=3.0)
    assert not report.ok
    assert [r.ok for r in report.rows] == [False, True]  # only dy/dx goes through log
    assert "FAILED: 1 of 2 elements differ" in str(report)
    assert " NO" in str(report)


def test_arrays_get_one_row_per_element_and_a_subset_of_wrt():
    net = cg.nn.MLP([2, 3, 1], activation="tanh", loss="mse", seed=0)
    rng = np.random.default_rng(0)
    feeds = {"X": rng.normal(size=(5, 2)), "Y": rng.normal(size=(5, 1)), **net.params}
    report = cg.check_gradients(net.graph, feeds=feeds)
    assert report.ok, str(report)
    sizes = {n: np.size(v) for n, v in feeds.items()}
    assert len(report.rows) == sum(sizes.values())
    assert report.rows[0].index == (0, 0)
    only = cg.check_gradients(net.graph, ["W1"], feeds)
    assert {r.input for r in only.rows} == {"W1"} and len(only.rows) == 6


def test_long_reports_show_the_worst_rows():
    g = cg.Graph()
    v = g.input("v", shape=(100,))
    g.output(cg.sum(cg.sin(v)), name="y")
    report = cg.check_gradients(g, v=np.linspace(0, 1, 100))
    text = str(report)
    assert "60 more rows with smaller errors not shown" in text
    assert len(text.splitlines()) == 2 + 40 + 2


def test_a_long_report_keeps_its_nan_rows():
    # a NaN error is the worst there is: it must not be among the rows left out
    rows = [cg.passes.check.GradientRow("v", (i,), 1.0, 1.0 + 1e-3 * (i + 1), 1e-3 * (i + 1), 1e-3 * (i + 1), False)
            for i in range(60)]
    for i in (3, 30, 59):
        rows[i] = dataclasses.replace(rows[i], numeric=float("nan"), abs_error=float("nan"), rel_error=float("nan"))
    text = str(cg.passes.check.GradientReport(rows, rtol=1e-5, atol=1e-8))
    shown = [line.split()[1] for line in text.splitlines()[2:42]]
    assert {"[3]", "[30]", "[59]"} <= set(shown) and "[0]" not in shown
    assert "20 more rows with smaller errors not shown" in text


def test_float32_inputs_warn():
    g = cg.Graph()
    x = g.input("x", shape=(2,))
    g.output(cg.sum(x * x), name="y")
    with pytest.warns(UserWarning, match="float64"):
        report = cg.check_gradients(g, x=np.array([1.0, 2.0], dtype=np.float32), rtol=1e-2)
    assert report.warnings and "warning:" in str(report)


def test_kinks_are_where_the_subgradient_and_the_difference_disagree():
    g = cg.Graph()
    x = g.input("x")
    g.output(cg.relu(x), name="y")
    assert cg.check_gradients(g, x=1.0).ok
    report = cg.check_gradients(g, x=0.0)
    assert not report.ok and report.rows[0].analytic == 0.0 and report.rows[0].numeric == pytest.approx(0.5)


@pytest.mark.parametrize("option", [{"rtol": -1.0}, {"atol": -1e-8}, {"rtol": "a"}, {"atol": float("nan")},
                                    {"rtol": None}, {"rtol": True}])
def test_bad_tolerances_are_an_argument_error(option):
    (key, value), = option.items()
    with pytest.raises(cg.ArgumentError, match=f"{key} must be a finite number >= 0"):
        cg.check_gradients(cg.parse("y = 2*x"), x=1.0, **option)


def test_an_input_numpy_refuses_is_an_input_error_as_in_grad():
    # a ragged list: the float32 warning check read its dtype first and raised numpy's bare
    # ValueError, where grad, evaluate and finite_difference raise an InputError naming x
    g = cg.parse("y = sum(x)")
    with pytest.raises(cg.InputError, match="input 'x': cannot convert list"):
        cg.check_gradients(g, x=[[1.0], [1.0, 2.0]])


def test_errors_of_check_gradients_do_not_suggest_an_argument_it_lacks():
    # grad's errors end "; pass nonfinite='propagate' ...": check_gradients always raises
    # and takes no nonfinite= (passed, it was an unexpected input 'nonfinite')
    with pytest.raises(cg.DomainError, match=r"\(defined for x > 0\)$"):
        cg.check_gradients(cg.parse("y = log(x)"), x=-1.0)
    with pytest.raises(cg.InputError, match=r"input 'x' is not finite \(nan\)$"):
        cg.check_gradients(cg.parse("y = log(x)"), x=float("nan"))


@pytest.mark.parametrize("x", [[1e-7, 1.0], [1.0, 1e-7]])
def test_a_nan_element_makes_the_largest_errors_nan_in_any_order(x):
    # Python's max() skips a NaN that is not first: with the NaN difference quotient (the
    # step x - eps leaves log's domain) second, max_rel_error said 2.4e-11 and the summary
    # "FAILED ... (max rel error 2.36e-11)"
    report = cg.check_gradients(cg.parse("y = sum(log(x))"), x=np.array(x))
    assert not report.ok
    assert np.isnan(report.max_rel_error) and np.isnan(report.max_abs_error)
    assert "max rel error nan" in str(report)
