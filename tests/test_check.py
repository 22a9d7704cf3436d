"""check_gradients: the report, and that it catches a wrong derivative rule."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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


SNIPPET = "y = sum(tanh(W @ x)^2)"
SUMMARY32 = ("float32 gradient: rtol=0.0003, atol=0.0003 x max(1, largest |num"
             "eric| of its input); float64 gradient: rtol=1e-05, atol=1e-08")
NUMERIC32 = ("numeric: central differences in float64 on the float32 inputs, upcast exactly; "
             "analytic (float64): the same graph's gradient there")


def _snippet_feeds(dtype, seed=0):
    W = np.random.default_rng(seed).normal(size=(3, 4)).astype(dtype)
    return {"W": W, "x": np.ones(4, dtype)}


def _quiet(*args, **kw):
    """check_gradients with every warning an error: a reliable check warns of nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return cg.check_gradients(*args, **kw)


@pytest.mark.parametrize("seed", range(5))
def test_a_float32_gradient_passes_against_float64_differences(seed):
    # central differences in float32 are good to ~1e-3: 11 of these 16 elements said NO at
    # rtol=1e-5, with a warning "check in float64", though the float32 gradient is right
    report = _quiet(cg.parse(SNIPPET), **_snippet_feeds(np.float32, seed))
    assert report.ok, str(report)
    assert (report.dtype, report.numeric_dtype, report.upcast) == ("float32", "float64", ("float32",))
    assert (report.rtol, report.atol, report.tolerances64) == (3e-4, 3e-4, (1e-5, 1e-8))
    assert set(report.atol_scale) == {"W", "x"} and min(report.atol_scale.values()) >= 1.0
    assert report.max_rel_error < 1e-4 and not report.warnings
    lines = str(report).splitlines()
    assert lines[0].split()[2:8] == ["analytic", "(float32)", "analytic", "(float64)", "numeric", "(float64)"]
    assert lines[-2].startswith("all gradients match (max rel error ")
    assert lines[-2].endswith(f"; {SUMMARY32})")
    assert lines[-1] == NUMERIC32
    # float32 values with float32's digits, the reference with float64's
    row = report.rows[0]
    assert type(row.analytic) is np.float32 and type(row.numeric) is float
    shown = str(row.analytic)
    assert f"]  {shown}  " in lines[2] and np.float32(shown) == row.analytic  # float32's shortest digits
    assert repr(float(row.analytic)) not in lines[2]  # not float64's, which float32 does not have
    assert f"  {row.numeric!r}  " in lines[2] and f"  {row.analytic64!r}  " in lines[2]
    assert row.analytic64 == pytest.approx(row.numeric, rel=1e-8)  # the same graph's gradient in float64


def test_the_briefs_float32_snippet_prints_float32_digits():
    report = _quiet(cg.parse(SNIPPET), **_snippet_feeds(np.float32))
    text = str(report)
    assert "0.7604662 " in text and "0.7604662179946899" not in text
    assert "FAILED" not in text and "check in float64" not in text


@pytest.mark.parametrize(("act", "loss"), [("tanh", "mse"), ("sigmoid", "bce"), ("tanh", "cross_entropy"),
                                           ("relu", "cross_entropy")])
def test_a_float32_mlp_passes_with_its_stored_float32_params(act, loss):
    # the params are the net's float32 arrays, stored in the graph and not fed: the old
    # warning looked at fed values only, so this said FAILED without any warning
    net = cg.nn.MLP([3, 5, 4, 2], activation=act, loss=loss, seed=1, dtype="float32")
    rng = np.random.default_rng(2)
    X = rng.normal(size=(8, 3)).astype(np.float32)
    Y = np.eye(2, dtype=np.float32)[rng.integers(0, 2, 8)] if loss != "mse" else rng.normal(size=(8, 2)).astype(np.float32)
    report = _quiet(net.graph, X=X, Y=Y)
    assert report.ok, str(report)
    assert report.dtype == "float32" and len(report.rows) == 54 + 24 + 16


def _wrong_tanh(monkeypatch, factor):
    """tanh's rule times ``factor`` (1 + 1e-2: off by 1%), or d tanh(a) = 1 - out for 0."""
    tanh = cg.OPS["tanh"]
    rule = (lambda g, out, a: (g * (1 - out),)) if factor == 0 else (lambda g, out, a: (g * (1 - out**2) * factor,))
    monkeypatch.setitem(cg.OPS, "tanh", dataclasses.replace(tanh, vjp=rule))


@pytest.mark.parametrize("factor", [0, 1.01])
def test_a_wrong_rule_still_fails_in_float32(monkeypatch, factor):
    feeds = _snippet_feeds(np.float32)
    assert _quiet(cg.parse(SNIPPET), **feeds).ok  # the right rule passes...
    _wrong_tanh(monkeypatch, factor)
    report = cg.check_gradients(cg.parse(SNIPPET), **feeds)  # ...a wrong one, even off by 1%, does not
    assert not report.ok
    assert [r.ok for r in report.rows].count(False) >= 12 and "FAILED: " in str(report)
    net = cg.nn.MLP([3, 4, 2], activation="tanh", loss="mse", seed=0, dtype="float32")
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(6, 3)).astype(np.float32), rng.normal(size=(6, 2)).astype(np.float32)
    report = cg.check_gradients(net.graph, ["W1", "b1"], X=X, Y=Y)  # what reaches them passes through tanh
    assert not report.ok


@pytest.mark.parametrize("factor", [1e-6, 1e4])
def test_a_wrong_rule_fails_at_any_scale_in_float32(monkeypatch, factor):
    # below 1 the float32 atol is absolute (3e-4 would pass anything here): the same
    # graph's float64 gradient, at float64's tolerances, still catches the rule
    g = cg.parse(f"y = {factor:g}*sum(tanh(W @ x)^2)")
    feeds = _snippet_feeds(np.float32)
    report = _quiet(g, **feeds)
    assert report.ok, str(report)
    assert report.atol_scale["W"] == pytest.approx(max(1.0, 0.7604662 * factor), rel=1e-6)
    _wrong_tanh(monkeypatch, 0)
    report = cg.check_gradients(cg.parse(f"y = {factor:g}*sum(tanh(W @ x)^2)"), **feeds)
    assert not report.ok and sum(not r.ok for r in report.rows) >= 12


def test_a_float32_net_trained_to_a_minimum_passes():
    # its gradient is all cancellation (1e-5 of what it sums): float32 rounding is up to
    # 1e-2 of the largest element, which failed a check scaled to that element
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32)
    net = cg.nn.MLP([2, 4, 2], activation="tanh", loss="cross_entropy", seed=0, dtype="float32")
    cg.nn.train(net, X, np.array([0, 1, 1, 0]), optimizer=cg.nn.Adam(lr=0.05), batch_size=4, epochs=2000, seed=0)
    Y = np.eye(2, dtype=np.float32)[[0, 1, 1, 0]]
    report = _quiet(net.graph, list(net.params), X=X, Y=Y)
    assert report.ok, str(report)
    assert max(abs(float(r.analytic)) for r in report.rows) < 1e-3  # at a minimum
    with pytest.MonkeyPatch.context() as mp:  # and a wrong rule still fails there
        _wrong_tanh(mp, 1.01)
        assert not cg.check_gradients(net.build(), list(net.params), X=X, Y=Y).ok


def test_a_saturated_softmax_in_float32_passes():
    # s = softmax(u) near one-hot: d/du of sum(w*s) is s*(w - sum(w*s)), where float32
    # cancels O(1) values to 1e-5
    g = cg.parse("y = sum(w * softmax(u))")
    u = np.array([[9.0, -3.0, 1.0], [0.5, 12.0, -2.0]], dtype=np.float32)
    w = np.array([[0.7, -1.2, 0.4], [1.1, 0.3, -0.8]], dtype=np.float32)
    report = _quiet(g, "u", u=u, w=w)
    assert report.ok, str(report)


def test_a_float32_only_error_fails(monkeypatch):
    # a float32 gradient 1% off while the float64 one is right (as a dtype slip in an op
    # would make it): it is held to float32's tolerances, not excused by the float64 one
    grad = cg.passes.check.grad

    def off_in_float32(*args, **kw):
        out = grad(*args, **kw)
        return {k: v * v.dtype.type(1.01) if v.dtype == np.float32 else v for k, v in out.items()}

    monkeypatch.setattr(cg.passes.check, "grad", off_in_float32)
    report = cg.check_gradients(cg.parse(SNIPPET), **_snippet_feeds(np.float32))
    assert not report.ok
    assert all(r.analytic64 == pytest.approx(r.numeric, rel=1e-7, abs=1e-9) for r in report.rows)


def test_the_callers_tolerances_win_and_say_so():
    g, feeds = cg.parse(SNIPPET), _snippet_feeds(np.float32)
    report = _quiet(g, rtol=1e-5, atol=1e-8, **feeds)  # the float64 reference makes even these pass
    assert report.ok and (report.rtol, report.atol, report.atol_scale) == (1e-5, 1e-8, None)
    assert report.tolerances64 == (1e-5, 1e-8)
    assert str(report).splitlines()[-2].endswith("; float32 gradient: rtol=1e-05 (given), atol=1e-08 (given); "
                                                 "float64 gradient: rtol=1e-05 (given), atol=1e-08 (given))")
    exact = cg.check_gradients(g, rtol=0.0, atol=0.0, **feeds)  # float32 rounding is not 0
    assert not exact.ok
    one = cg.check_gradients(g, rtol=0.5, **feeds)
    assert (one.rtol, one.atol, one.tolerances64) == (0.5, 3e-4, (0.5, 1e-8)) and one.atol_scale is not None
    assert "float32 gradient: rtol=0.5 (given), atol=0.0003 x max(1, largest" in str(one)
    assert "float64 gradient: rtol=0.5 (given), atol=1e-08)" in str(one)


def test_float16_is_checked_coarsely_and_says_so():
    feeds = _snippet_feeds(np.float16)
    with pytest.warns(UserWarning, match=r"'W', 'x' are float16: the float16 gradient is checked to rtol=0.03 only"):
        report = cg.check_gradients(cg.parse(SNIPPET), **feeds)
    assert report.ok, str(report)
    assert (report.dtype, report.rtol, report.atol) == ("float16", 0.03, 0.03)
    assert type(report.rows[0].analytic) is np.float16
    text = str(report)
    assert "float16 gradient: rtol=0.03, atol=0.03 x max(1, largest |numeric| of its input); float64 gradient" in text
    assert "numeric: central differences in float64 on the float16 inputs, upcast exactly" in text
    assert text.splitlines()[-1].startswith("warning: 'W', 'x' are float16")


def test_a_float16_overflow_is_grads_domain_error_after_the_warning():
    # exp(12) is past float16's 65504: the float16 function is undefined there, as in grad
    with pytest.warns(UserWarning, match="float16"), pytest.raises(cg.DomainError, match=r"exp\(x=12\) = inf"):
        cg.check_gradients(cg.parse("y = exp(x)"), x=np.float16(12))


@pytest.mark.parametrize("factor", [0, 1.01])
def test_a_wrong_rule_fails_in_float16(monkeypatch, factor):
    # even off by 1%, under float16's tolerance: the float64 gradient catches it
    _wrong_tanh(monkeypatch, factor)
    with pytest.warns(UserWarning, match="float16"):
        report = cg.check_gradients(cg.parse(SNIPPET), **_snippet_feeds(np.float16))
    assert not report.ok and sum(not r.ok for r in report.rows) >= 12


def test_mixed_and_integer_inputs_take_the_least_precise_dtypes_tolerances():
    # W float32 and x integer (made float64): the gradient carries float32's rounding
    g = cg.parse(SNIPPET)
    feeds = _snippet_feeds(np.float32)
    report = _quiet(g, W=feeds["W"], x=np.array([1, 2, 0, -1]))
    assert report.ok, str(report)
    assert report.dtype == "float32" and report.upcast == ("float32",)
    assert type(report.rows[0].analytic) is np.float32 and type(report.rows[-1].analytic) is np.float64
    assert str(report).splitlines()[0].split()[2:5] == ["analytic", "analytic", "(float64)"]  # no one dtype
    with pytest.warns(UserWarning, match="'x' is float16"):
        both = cg.check_gradients(g, W=feeds["W"], x=np.ones(4, np.float16))
    assert both.dtype == "float16" and both.upcast == ("float16", "float32")
    assert "on the float16 and float32 inputs, upcast exactly" in str(both)
    ints = _quiet(g, W=np.arange(12).reshape(3, 4) % 3 - 1, x=np.array([1, 0, 0, 1]))  # exact in float64
    assert ints.ok and (ints.dtype, ints.upcast, ints.rtol, ints.atol) == ("float64", (), 1e-5, 1e-8)
    assert str(ints).splitlines()[-1].endswith("; rtol=1e-05, atol=1e-08)")


def test_kinks_are_where_the_subgradient_and_the_difference_disagree():
    g = cg.Graph()
    x = g.input("x")
    g.output(cg.relu(x), name="y")
    assert cg.check_gradients(g, x=1.0).ok
    report = cg.check_gradients(g, x=0.0)
    assert not report.ok and report.rows[0].analytic == 0.0 and report.rows[0].numeric == pytest.approx(0.5)


@pytest.mark.parametrize("option", [{"rtol": -1.0}, {"atol": -1e-8}, {"rtol": "a"}, {"atol": float("nan")},
                                    {"rtol": True}])
def test_bad_tolerances_are_an_argument_error(option):
    (key, value), = option.items()
    with pytest.raises(cg.ArgumentError, match=f"{key} must be a finite number >= 0 or None"):
        cg.check_gradients(cg.parse("y = 2*x"), x=1.0, **option)


def test_a_tolerance_of_none_is_the_default():
    report = cg.check_gradients(cg.parse("y = 2*x"), x=1.0, rtol=None, atol=None)
    assert (report.rtol, report.atol) == (1e-5, 1e-8)


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


@settings(max_examples=15, deadline=None)
@given(hidden=st.lists(st.integers(1, 6), min_size=1, max_size=3), batch=st.integers(1, 8),
       act=st.sampled_from(["tanh", "sigmoid"]), loss=st.sampled_from(["mse", "bce", "cross_entropy"]),
       seed=st.integers(0, 2**16))
def test_float32_mlps_pass_and_a_wrong_rule_fails(hidden, batch, act, loss, seed):
    # any float32 net of these: its right gradient passes, one through a rule 1% off fails
    sizes = [3, *hidden, 2]
    net = cg.nn.MLP(sizes, activation=act, loss=loss, seed=seed, dtype="float32")
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(batch, 3)).astype(np.float32)
    Y = (np.eye(2, dtype=np.float32)[rng.integers(0, 2, batch)] if loss != "mse"
         else rng.normal(size=(batch, 2)).astype(np.float32))
    wrt = list(net.params)
    report = _quiet(net.graph, wrt, X=X, Y=Y)
    assert report.ok, str(report)
    op = cg.OPS[act]
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(cg.OPS, act, dataclasses.replace(op, vjp=lambda g, out, a: tuple(v * 1.01 for v in op.vjp(g, out, a))))
        assert not cg.check_gradients(net.build(), wrt, X=X, Y=Y).ok


def test_the_report_writes_a_derivatives_zero_without_its_sign():
    # dy/dz of x*z at x = -0.0 is -0.0: the table showed "-0.0" beside the numeric "0.0"
    report = cg.check_gradients(cg.parse("y = x*z"), feeds={"x": -0.0, "z": -1.0})
    row = [line.split() for line in str(report).splitlines() if line.startswith("z ")][0]
    assert row[1:3] == ["0.0", "0.0"]
    assert np.signbit(report.rows[1].analytic)  # the value itself is numpy's
