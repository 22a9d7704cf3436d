"""The cgraph command, end to end as a subprocess."""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LECTURE = "a = x*z\nb = log(x)\nc = sin(b)\nd = exp(a)\ne = a/b\nf = c/a\ny = d + e + f\n"
FORMULA = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")


def run(*args, cwd=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "cgraph", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def test_version_and_help():
    out = run("--version")
    assert out.returncode == 0 and out.stdout.startswith("cgraph ")
    out = run("--help")
    assert out.returncode == 0
    for name in ("draw", "grad", "hessian", "jacobian", "check", "steps"):
        assert name in out.stdout


def test_no_command_is_a_usage_error():
    out = run()
    assert out.returncode == 2 and "usage" in out.stderr


@needs_dot
def test_draw_formula_and_program_file(tmp_path):
    out = run("draw", FORMULA, "-o", str(tmp_path / "f.svg"), "--at", "x=2", "z=3")
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "f.svg").read_text().lstrip().startswith("<?xml")
    prog = tmp_path / "lecture.txt"
    prog.write_text(LECTURE)
    out = run("draw", str(prog), "-o", str(tmp_path / "a.dot"), "--adjoint")
    assert out.returncode == 0, out.stderr
    assert "cluster_adjoint" in (tmp_path / "a.dot").read_text()


def test_draw_network_from_saved_graph(tmp_path):
    code = "import cgraph as cg; cg.save(cg.nn.MLP([2, 3, 1], seed=0).graph, 'net.json')"
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    out = run("draw", "net.json", "-o", "net.dot", "--style", "network", "--weights", "value", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "layout=neato" in (tmp_path / "net.dot").read_text()


def test_draw_network_with_dropped_units(tmp_path):
    # the lecture's dropout figure from the shell
    code = "import cgraph as cg; cg.save(cg.nn.MLP([2, 3, 1], seed=0).graph, 'net.json')"
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})
    out = run("draw", "net.json", "-o", "net.dot", "--style", "network", "--dropped", "1:1,3", "0:2", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "net.dot").read_text().count("style=dashed") == 3
    out = run("draw", "net.json", "-o", "net.dot", "--style", "network", "--dropped", "2:1", cwd=tmp_path)
    assert out.returncode == 1 and "layer 2 cannot be dropped from" in out.stderr


def test_bad_formula_is_one_line_on_stderr(tmp_path):
    out = run("draw", "exp(x*", "-o", str(tmp_path / "f.svg"))
    assert out.returncode == 1
    assert out.stderr.startswith("cgraph draw: error:") and "Traceback" not in out.stderr
    assert "line 1" in out.stderr or "column" in out.stderr


def test_a_formula_with_a_slash_is_not_a_path():
    out = run("grad", "x/y")
    assert out.returncode == 0 and "g_y" in out.stdout


def test_missing_file(tmp_path):
    out = run("grad", str(tmp_path / "nope.json"))
    assert out.returncode == 1 and "no such file" in out.stderr and "nope.json" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_bindings_and_network_style_on_a_plain_graph(tmp_path):
    out = run("grad", "x*z", "--at", "x=two")
    assert out.returncode == 1 and "--at" in out.stderr and "Traceback" not in out.stderr
    out = run("draw", "x*z", "-o", str(tmp_path / "n.dot"), "--style", "network")
    assert out.returncode == 1 and "not a layered network" in out.stderr
    assert "--style computation" in out.stderr  # the option to write, not only the Python keyword


def test_grad_prints_derivatives_and_values():
    out = run("grad", FORMULA, "--at", "x=2", "z=3")
    assert out.returncode == 0, out.stderr
    assert "1208.38121" in out.stdout and "809.70747" in out.stdout
    assert "exp(6)" in out.stdout  # the exact value at the point, as in the lecture
    out = run("grad", "y = x*z + sin(x)", "--program")
    assert out.returncode == 0 and "g_x" in out.stdout
    out = run("grad", "x*z", "--latex")
    assert out.returncode == 0 and "\\" in out.stdout
    out = run("grad", FORMULA, "--expand", "--at", "x=2", "z=3")
    assert out.returncode == 0 and "g_z = x*exp(x*z) + x/log(x) - sin(log(x))/(x*z^2)" in out.stdout
    assert "dy/dz = 2*exp(6) + 2/log(2) - sin(log(2))/18 = 809.70747" in out.stdout  # the lecture's line
    out = run("grad", "log(x/z)", "--at", "x=2", "z=3")
    assert out.stdout.splitlines()[-1] == "dy/dz = -1/3 = -0.3333333333333333"  # the shortest exact form, not 17 digits


def test_grad_prints_reductions_and_the_logistic_loss_as_a_hand_derivation_does():
    out = run("grad", "sum(x*x)")
    assert out.returncode == 0 and out.stdout == "g_x = 2*x\n"  # no sum_to/expand_to plumbing
    out = run("grad", "mean(x^2)")
    assert out.stdout == "g_x = 2*x/size(x)\n"
    loss = "-y*log(sigmoid(w*x + b)) - (1 - y)*log(1 - sigmoid(w*x + b))"
    out = run("grad", loss, "--wrt", "b")  # s*(1 - y) - y*(1 - s), multiplied out where s*y cancels
    assert out.stdout == "g_b = sigmoid(w*x + b) - y\n"
    out = run("grad", loss, "--wrt", "b", "--expand")
    assert out.stdout == "g_b = sigmoid(w*x + b) - y\n"


def test_a_domain_error_is_reported_without_the_librarys_keyword_hint():
    out = run("grad", "log(x)", "--at", "x=-1")
    assert out.returncode == 1 and "node 'y' (log) is not finite: log(x=-1) = nan (defined for x > 0)" in out.stderr
    assert "nonfinite" not in out.stderr  # a keyword of cg.evaluate, not an option of the command
    assert out.stdout == ""  # no half answer: the derivative is not printed before the error


def test_grad_of_an_array_through_softmax_fails_before_printing():
    out = run("grad", "softmax(x)", "--at", "x=[1,2,3]")
    assert out.returncode == 1 and out.stdout == ""
    assert "cannot differentiate 'y': it is of shape (3,) at these inputs (arrays: 'x' (3,))" in out.stderr
    # the command that does it, not the Python calls (cg.jacobian, cg.vjp_graph) the library's message names
    assert ("; for its Jacobian, cgraph jacobian prints the vector-Jacobian product and, with --at, the Jacobian at "
            "that point; for the gradient") in out.stderr
    assert "cg.jacobian" not in out.stderr and "cg.vjp_graph" not in out.stderr


def test_grad_without_a_point_refuses_an_array_through_softmax_as_grad_does_at_one(capsys):
    # it printed softmax(x)*(sum_to(1, softmax(x)) - ...), the gradient of the sum of the
    # elements (0), where grad --at x=[1,2,3] says the elements have no gradients of their own
    from cgraph.cli import main

    for formula, where in [("softmax(x)", "node 'y' (softmax) mixes the elements of 'x' along an axis"),
                           ("log(softmax(x))*z", "it is computed by elementwise ops only from node 't1' (softmax), "
                                                 "which mixes the elements of 'x' along an axis")]:
        for extra in ([], ["--program"], ["--latex"]):
            assert main(["grad", formula, *extra]) == 1
            captured = capsys.readouterr()
            assert captured.out == "" and captured.err == (
                f"cgraph grad: error: cannot differentiate 'y': {where}, so it is an array whose elements have no "
                "gradients of their own (unless that axis holds one element); for its Jacobian, cgraph jacobian "
                "prints the vector-Jacobian product and, with --at, the Jacobian at that point; for the gradient "
                "of the sum of its elements, differentiate cg.sum(y)\n")
    assert main(["grad", "log(softmax(x))*z", "--wrt", "z"]) == 0  # z's elements do not mix
    assert capsys.readouterr().out == "g_z = log(softmax(x))\n"
    assert main(["grad", "sum(softmax(x))"]) == 0  # a scalar
    assert main(["grad", "-sum(t*log_softmax(z), axis=-1)", "--wrt", "z"]) == 0  # each row's loss its own
    assert main(["grad", "x @ w"]) == 0  # a scalar for vectors: the point decides
    assert main(["jacobian", "softmax(x)"]) == 0  # what the error points to


def test_grad_without_a_point_refuses_a_reduction_broadcast_back_over_its_input(capsys):
    # cgraph grad 'exp(x)/sum(exp(x))' printed g_x = exp(x)*(sum_to(1, x)/sum(exp(x)) + ...), the
    # gradient of the sum of the elements (0 for the softmax written out), with no error, where
    # --at x=[1,2,3] refuses it and cgraph grad 'softmax(x)' refuses it without a point
    from cgraph.cli import main

    for formula, where in [
        ("exp(x)/sum(exp(x))", "node 'y' (div) broadcasts a reduction of the elements of 'x' back over them"),
        ("x - mean(x)", "node 'y' (sub) broadcasts a reduction of the elements of 'x' back over them"),
        ("x*sum(x)", "node 'y' (mul) broadcasts a reduction of the elements of 'x' back over them"),
        ("exp(x - logsumexp(x))", "it is computed by elementwise ops only from node 't2' (sub), which broadcasts "
                                  "a reduction of the elements of 'x' back over them"),
    ]:
        assert main(["grad", formula, "--wrt", "x"]) == 1
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err == (
            f"cgraph grad: error: cannot differentiate 'y': {where}, so it is an array whose elements have no "
            "gradients of their own (unless the reduced axes hold one element); for its Jacobian, cgraph jacobian "
            "prints the vector-Jacobian product and, with --at, the Jacobian at that point; for the gradient "
            "of the sum of its elements, differentiate cg.sum(y)\n")
        assert run("grad", formula, "--at", "x=[1,2,3]").returncode == 1  # as at a point
    assert main(["grad", "x*sum(x)", "--at", "x=2"]) == 0  # a number: one element
    capsys.readouterr()
    for formula, printed in [("sum(x^2)", "g_x = 2*x\n"), ("x^2", "g_x = 2*x\n"),
                             ("x*sum(z)", "g_x = sum(z)\n"),  # a reduction of another input: shared by all
                             ("x/size(x)", "g_x = 1/size(x)\n")]:  # the number of elements does not mix them
        assert main(["grad", formula, "--wrt", "x"]) == 0
        assert capsys.readouterr().out == printed
    for formula in ["mean((x - mean(x))^2)", "sum(x - mean(x))", "sum(exp(x)/sum(exp(x)))"]:  # scalars
        assert main(["grad", formula]) == 0
    capsys.readouterr()


def test_grad_refuses_a_point_its_exact_form_cannot_take_before_printing(capsys):
    # softmax of a number: the exact form at the point (simplify's shape rule refuses it) failed
    # after the derivative and 'at x=2:' were printed, a half answer; evaluate refuses it too now
    from cgraph.cli import main

    assert main(["grad", "softmax(x)", "--at", "x=2"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "axis -1 is out of range for 0 dimension(s)" in captured.err


def test_check_reports_and_sets_the_status():
    out = run("check", FORMULA, "--at", "x=2", "z=3")
    assert out.returncode == 0, out.stderr
    assert "x" in out.stdout and "z" in out.stdout


def test_check_of_a_saved_float32_model_passes_and_says_how(tmp_path):
    # --at values are float64, but a saved net keeps its float32 params: checked against
    # differences in float32, it said FAILED (status 1), without a warning
    import cgraph as cg

    net = cg.nn.MLP([2, 3, 2], activation="tanh", loss="cross_entropy", seed=0, dtype="float32")
    cg.save(net.graph, tmp_path / "net.json")
    out = run("check", str(tmp_path / "net.json"), "--at", "X=[[1, 2], [0.5, -1]]", "Y=[[1, 0], [0, 1]]")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert lines[-2].startswith("all gradients match") and "; float32 gradient: rtol=0.0003, atol=0.0003" in lines[-2]
    assert lines[-1].startswith("numeric: central differences in float64 on the float32 inputs, upcast exactly;")
    assert "warning" not in out.stderr.lower()


def test_grad_program_at_a_point_lists_every_steps_value():
    # the lecture's reverse sweep with its numbers: g_b = ... = -12.36 was only on the frames of steps
    import cgraph as cg

    out = run("grad", "a = x*z\nb = log(x)\nc = sin(b)\nd = exp(a)\ne = a/b\nf = c/a\ny = d + e + f",
              "--program", "--at", "x=2", "z=3")
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["a", "=", "x*z", "#", "6.0"]
    g_b = next(t for t in lines if t.startswith("g_b"))
    assert g_b.split("#") == [g_b.split("#")[0], " -12.360007402472986"]
    assert cg.parse("\n".join(lines[:16])).outputs == ["g_x", "g_z"]  # still a program cg.parse reads


def test_check_takes_the_lectures_step():
    # the lecture's e = 10**-8, and its warning that a too small step runs into floating point
    out = run("check", FORMULA, "--at", "x=2", "z=3", "--eps", "1e-8")
    assert out.returncode == 0, out.stderr
    assert "1208.3812094942914" in out.stdout and "809.7074726265419" in out.stdout
    out = run("check", FORMULA, "--at", "x=2", "z=3", "--eps", "1e-13")
    assert out.returncode == 1 and "FAILED" in out.stdout
    out = run("check", "x*eps", "--at", "x=2", "eps=3", "--eps", "1e-6")  # an input named eps is still an input
    assert out.returncode == 0, out.stderr
    out = run("check", FORMULA, "--at", "x=2", "z=3", "--eps", "-1")  # a usage error naming the option, as --rtol's
    assert out.returncode == 2 and "cgraph check: error: argument --eps: expected a finite number > 0, got '-1'" in out.stderr


def test_check_takes_the_tolerances_check_gradients_takes(capsys):
    from cgraph.cli import main

    # the lecture's step 1e-8 errs by about 6e-9 relative: within the default rtol=1e-5, not within 1e-10
    assert main(["check", FORMULA, "--at", "x=2", "z=3", "--eps", "1e-8"]) == 0
    capsys.readouterr()
    assert main(["check", FORMULA, "--at", "x=2", "z=3", "--eps", "1e-8", "--rtol", "1e-10", "--atol", "0"]) == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and out.rstrip().endswith("rtol=1e-10, atol=0)")
    assert main(["check", FORMULA, "--at", "x=2", "z=3", "--eps", "1e-13", "--rtol", "0.5"]) == 0  # loose enough
    assert capsys.readouterr().out.rstrip().endswith("rtol=0.5, atol=1e-08)")
    for option, value in [("--rtol", "-1"), ("--atol", "-1e-8"), ("--rtol", "abc"), ("--atol", "nan"), ("--rtol", "inf")]:
        assert main(["check", "x*z", "--at", "x=2", "z=3", option, value]) == 2, (option, value)
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.splitlines()[-1] == (
            f"cgraph check: error: argument {option}: expected a finite number >= 0, got {value!r}")


def test_steps_writes_frames(tmp_path):
    out = run("steps", FORMULA, "-o", str(tmp_path / "fr"),
              "--format", "dot", "--at", "x=2", "z=3")
    assert out.returncode == 0, out.stderr
    assert len(list((tmp_path / "fr").glob("step_*.dot"))) == len(out.stdout.split())


def test_steps_refuses_an_array_whose_elements_mix_as_grad_does(tmp_path, capsys):
    # cgraph steps 'softmax(x)' --at x=[1,2] wrote frames ending g_x = [0, 0] (the sweep seeded
    # with 1: the gradient of the sum of the elements) where cgraph grad refuses the same
    from cgraph.cli import main

    for formula in ("softmax(x)", "x - mean(x)"):
        for at in (["--at", "x=[1,2]"], []):
            assert main(["grad", formula, *at]) == 1
            refused = capsys.readouterr().err
            assert main(["steps", formula, "-o", str(tmp_path / "fr"), "--format", "dot", *at]) == 1
            captured = capsys.readouterr()
            assert captured.out == "" and captured.err == refused.replace("cgraph grad:", "cgraph steps:")
            assert not (tmp_path / "fr").exists()
    assert main(["steps", "x^2", "-o", str(tmp_path / "fr"), "--format", "dot", "--at", "x=[1,2]"]) == 0
    assert main(["steps", "sum(softmax(x))", "-o", str(tmp_path / "fr2"), "--format", "dot"]) == 0


def test_draw_adjoint_refuses_an_array_whose_elements_mix_as_grad_does(tmp_path, capsys):
    # cgraph draw 'softmax(x)' --adjoint --at x=[1,2] drew g_x = [0, 0] in x's box (the gradient of
    # the sum of the elements), where cgraph grad and cgraph steps refuse the same
    from cgraph.cli import main

    for formula in ("softmax(x)", "x - mean(x)"):
        for at in (["--at", "x=[1,2]"], []):
            assert main(["grad", formula, *at]) == 1
            refused = capsys.readouterr().err
            assert main(["draw", formula, "--adjoint", "-o", str(tmp_path / "a.dot"), *at]) == 1
            captured = capsys.readouterr()
            assert captured.out == "" and captured.err == refused.replace("cgraph grad:", "cgraph draw:")
            assert not (tmp_path / "a.dot").exists()
    for args in (["softmax(x)", "-o", str(tmp_path / "f.dot"), "--at", "x=[1,2]"],  # the forward graph
                 ["x^2", "--adjoint", "-o", str(tmp_path / "b.dot"), "--at", "x=[1,2]"],
                 ["sum(softmax(x))", "--adjoint", "-o", str(tmp_path / "c.dot")]):
        assert main(["draw", *args]) == 0


def test_a_name_bound_twice_is_an_error():
    for args in (["--at", "x=2", "x=3", "z=1"], ["--at", "x=2", "z=1", "--at", "x=3"]):
        out = run("grad", "x*z", *args)
        assert out.returncode == 1, out.stdout
        assert out.stderr.startswith("cgraph grad: error:") and "'x'" in out.stderr and "twice" in out.stderr
        assert "Traceback" not in out.stderr


def test_at_given_twice_keeps_both_lists():
    out = run("grad", "x*z", "--at", "x=2", "--at", "z=3")
    assert out.returncode == 0, out.stderr
    assert "dy/dx = 3" in out.stdout and "dy/dz = 2" in out.stdout


def test_draw_wrt_needs_adjoint(tmp_path):
    out = run("draw", "x*z", "-o", str(tmp_path / "f.dot"), "--wrt", "x")
    assert out.returncode == 2 and "--wrt needs --adjoint" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "f.dot").exists()
    out = run("draw", "x*z", "--help")
    assert "--wrt" in out.stdout and "needs --adjoint" in out.stdout
    out = run("draw", "x*z", "-o", str(tmp_path / "f.dot"), "--adjoint", "--wrt", "x")
    assert out.returncode == 0, out.stderr


def test_a_directory_is_not_a_formula_file(tmp_path):
    (tmp_path / "w").mkdir()
    for source in (str(tmp_path), str(tmp_path / "w") + "/", "w"):
        out = run("grad", source, cwd=tmp_path)
        if source == "w":  # a bare name is a formula, whatever folders are around
            assert out.returncode == 0 and "g_w = 1" in out.stdout, out.stderr
            continue
        assert out.returncode == 1 and "is a directory" in out.stderr and source in out.stderr
        assert "no such file" not in out.stderr and "Traceback" not in out.stderr


def test_draw_into_a_missing_folder_is_an_error_as_in_render(tmp_path):
    out = run("draw", "x*z", "-o", "newdir/f.dot", cwd=tmp_path)
    assert out.returncode == 1 and "newdir" in out.stderr and "does not exist" in out.stderr
    assert not (tmp_path / "newdir").exists()


def test_wrt_given_twice_adds_up_in_every_command(tmp_path):
    out = run("grad", "x*z*w", "--wrt", "x", "--wrt", "z")
    assert out.returncode == 0, out.stderr
    assert "g_x" in out.stdout and "g_z" in out.stdout and "g_w" not in out.stdout
    out = run("compile", "x*z*w", "--wrt", "x", "--wrt", "z", "--at", "x=2", "z=3", "w=5")
    assert out.returncode == 0, out.stderr
    assert "g_x = 15" in out.stdout and "g_z = 10" in out.stdout and "g_w" not in out.stdout
    out = run("draw", "x*z*w", "-o", str(tmp_path / "a.dot"), "--adjoint", "--wrt", "x", "--wrt", "z")
    assert out.returncode == 0, out.stderr
    dot = (tmp_path / "a.dot").read_text()
    assert _adjoint_label("x") in dot and _adjoint_label("z") in dot and _adjoint_label("w") not in dot
    out = run("steps", "x*z*w", "-o", str(tmp_path / "fr"), "--format", "dot", "--at", "x=2", "z=3", "w=5",
              "--wrt", "x", "--wrt", "z")
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.split()) == 3  # g_y, g_x, g_z: one frame per adjoint node (z alone: 2)


def _adjoint_label(name):  # how a diagram writes g_name
    return f'<I>g</I><SUB><FONT POINT-SIZE="10"><I>{name}</I>'


def test_a_wrt_name_given_twice_is_a_usage_error(tmp_path):
    for command in (["grad", "x*z"], ["compile", "x*z"], ["draw", "x*z", "-o", str(tmp_path / "f.dot"), "--adjoint"],
                    ["steps", "x*z", "-o", str(tmp_path / "fr"), "--at", "x=1", "z=2"]):
        for wrt in (["--wrt", "x", "x"], ["--wrt", "x", "--wrt", "z", "x"]):
            out = run(*command, *wrt)
            assert out.returncode == 2, (command, wrt, out.stdout)
            assert "usage:" in out.stderr and "--wrt gives 'x' twice" in out.stderr, out.stderr
            assert "Traceback" not in out.stderr
    assert not (tmp_path / "f.dot").exists() and not (tmp_path / "fr").exists()


def test_format_given_twice_adds_up(tmp_path):
    out = run("steps", "x*z", "-o", str(tmp_path / "fr"), "--at", "x=1", "z=2", "--format", "dot", "--format", "svg")
    assert out.returncode == 0, out.stderr
    assert list((tmp_path / "fr").glob("step_*.dot")) and list((tmp_path / "fr").glob("step_*.svg"))
    out = run("steps", "x*z", "-o", str(tmp_path / "fr2"), "--at", "x=1", "z=2", "--format", "dot", "dot")
    assert out.returncode == 2 and "--format gives 'dot' twice" in out.stderr


@pytest.mark.parametrize("args, message", [
    (["compile", "x*z", "--no-grad", "--wrt", "x"], "--wrt cannot go with --no-grad"),
    (["grad", "x*z", "--program", "--expand"], "--expand with --program needs --at"),
    (["draw", "x*z", "-o", "f.dot", "--weights", "value"], "--weights needs --style network"),
    (["draw", "x*z", "-o", "f.dot", "--dropped", "1:1"], "--dropped needs --style network"),
    (["draw", "net.json", "-o", "f.dot", "--style", "network", "--dropped", "1"], "--dropped '1': write LAYER:UNITS"),
    (["draw", "net.json", "-o", "f.dot", "--style", "network", "--rankdir", "TB"],
     "--rankdir needs --style computation"),
    (["draw", "net.json", "-o", "f.dot", "--style", "network", "--at", "X=1"], "--at needs --style computation"),
    (["draw", "net.json", "-o", "f.dot", "--style", "network", "--adjoint"], "--adjoint needs --style computation"),
])
def test_an_option_that_would_be_ignored_is_a_usage_error(tmp_path, args, message):
    out = run(*args, cwd=tmp_path)
    assert out.returncode == 2 and "usage:" in out.stderr and message in out.stderr, out.stderr
    assert "Traceback" not in out.stderr and not (tmp_path / "f.dot").exists()


def test_the_options_that_go_together_still_work(tmp_path):
    out = run("compile", "x*z", "--no-grad", "--at", "x=2", "z=3")
    assert out.returncode == 0 and "6" in out.stdout, out.stderr
    out = run("grad", "x*z", "--program", "--expand", "--at", "x=2", "z=3")
    assert out.returncode == 0 and "dy/dx = 3" in out.stdout, out.stderr
    out = run("draw", "x*z", "-o", "f.dot", "--rankdir", "TB", "--at", "x=2", "z=3", cwd=tmp_path)
    assert out.returncode == 0 and "rankdir=TB" in (tmp_path / "f.dot").read_text(), out.stderr


def test_grad_prints_array_values_on_one_line_each():
    out = run("grad", "sum(x*w, axis=0)", "--at", "x=[[1,2],[3,4]]", "w=[[1,1],[2,2]]")
    assert out.returncode == 0, out.stderr
    assert "at x=[[1, 2], [3, 4]], w=[[1, 1], [2, 2]]:" in out.stdout.splitlines()  # as typed, no padding
    assert "dy/dw = [[1, 2], [3, 4]]" in out.stdout.splitlines()
    out = run("grad", "sum(x*x)", "--at", "x=[[[1,2],[3,4]],[[5,6],[7,8]]]")  # (numpy's blank line between blocks)
    assert out.stdout.splitlines()[-2:] == ["at x=[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]:",
                                            "dy/dx = [[[2, 4], [6, 8]], [[10, 12], [14, 16]]]"]
    out = run("compile", "x/3", "--at", "x=[1,-20]")
    assert out.stdout.splitlines()[-2:] == ["y   = [0.3333333333, -6.666666667]", "g_x = [0.3333333333, 0.3333333333]"]


def test_compile_source_with_array_values_shows_the_code_that_ran():
    # --source printed f.source before the call, and a function with a math path writes its
    # numpy path on its first call with arrays: the code shown was not the code that ran
    out = run("compile", "x*z", "--source", "--at", "x=[1,2]", "z=3")
    assert out.returncode == 0, out.stderr
    assert "def _array_path(" in out.stdout and "np.cos" not in out.stdout
    assert out.stdout.splitlines()[-3:-1] == ["y   = [3, 6]", "g_x = [3, 3]"]
    out = run("compile", "log(x)", "--source", "--at", "x=[1,-2]")  # an error: the source, then the message
    assert out.returncode == 1 and "def _array_path(" in out.stdout and "node 'y' (log)" in out.stderr


def test_hessian_prints_second_derivatives_and_their_values(capsys):
    from cgraph.cli import main

    assert main(["hessian", "x^2*z + sin(z)", "--at", "x=1", "z=2"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "d2y/dx2 = 2*z", "d2y/dz dx = 2*x", "d2y/dx dz = 2*x", "d2y/dz2 = -sin(z)",  # d/dz (dy/dx), ...
        "at x=1, z=2:", "d2y/dx2   = 4.0", "d2y/dz dx = 2.0", "d2y/dx dz = 2.0", "d2y/dz2   = -0.9092974268256817",
    ]
    assert main(["hessian", FORMULA, "--wrt", "z", "x", "--at", "x=2", "z=3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.partition(" = ")[0] for line in lines[:4]] == ["d2y/dz2", "d2y/dx dz", "d2y/dz dx", "d2y/dx2"]
    values = dict(line.split(" = ") for line in lines[5:])
    assert float(values["d2y/dz2  "]) == pytest.approx(1613.7388392033965, rel=1e-14)  # sympy's, as test_hessian
    assert values["d2y/dx dz"] == values["d2y/dz dx"]
    assert main(["hessian", "x^2*z", "--latex"]) == 0
    assert r"\frac{\partial^{2} y}{\partial z \, \partial x} &= 2 x" in capsys.readouterr().out
    assert main(["hessian", "3"]) == 1
    assert "no inputs or params" in capsys.readouterr().err
    assert main(["hessian", "sum(x*x)", "--at", "x=[1, 2]"]) == 1  # one line d2y/dx2 would print H[0, 0] alone
    captured = capsys.readouterr()
    assert captured.out == ""  # refused before the symbolic lines, as a malformed --at
    assert captured.err == ("cgraph hessian: error: input 'x' is given an array of shape (2,) by --at: cgraph hessian "
                            "prints the second derivatives of scalars, one line each; for arrays, cg.hessian(g, ...) "
                            "in Python gives the (N, N) Hessian and cg.hvp_graph(g) the Hessian-vector product as a "
                            "graph\n")
    assert main(["hessian", "log(x)", "--at", "x=-1"]) == 1  # an error at the point prints no half answer
    captured = capsys.readouterr()
    assert captured.out == "" and "log" in captured.err
    assert main(["hessian", "x^2*z", "--at", "x=2,z=3"]) == 1  # a malformed --at prints nothing, as in grad
    captured = capsys.readouterr()
    assert captured.out == "" and "--at x=2 z=3" in captured.err
    assert main(["hessian", "sum(x*z)", "--wrt", "z", "--at", "x=[1, 2]", "z=3"]) == 0  # an array not in --wrt
    assert capsys.readouterr().out.splitlines()[-2:] == ["at x=[1, 2], z=3:", "d2y/dz2 = 0.0"]


def test_hessian_prints_a_mixed_derivative_and_its_mirror_alike(capsys):
    # each entry is its own reverse sweep and simplified to its own form: d2y/dx dp of x^p
    # printed x^p/x + p*x^(p - 1)*log(x) under d2y/dp dx = x^(p - 1) + p*x^(p - 1)*log(x),
    # and the lecture's two mixed derivatives were two different sums
    from cgraph.cli import main

    assert main(["hessian", "x^p"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "d2y/dx2 = p*(p - 1)*x^(p - 2)", "d2y/dp dx = x^(p - 1) + p*x^(p - 1)*log(x)",
        "d2y/dx dp = x^(p - 1) + p*x^(p - 1)*log(x)", "d2y/dp2 = x^p*log(x)^2",
    ]
    assert main(["hessian", "x^p", "--latex"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].partition("&=")[2] == lines[3].partition("&=")[2] == r" x^{p - 1} + p x^{p - 1} \ln\left(x\right) \\"
    assert main(["hessian", "x*y*z + exp(x*y)", "--at", "x=1", "y=2", "z=3"]) == 0  # 3 inputs, the output 'out'
    entries = dict(line.split(" = ", 1) for line in capsys.readouterr().out.splitlines()[:9])
    for a, b in (("y", "x"), ("z", "x"), ("z", "y")):
        assert entries[f"d2out/d{a} d{b}"] == entries[f"d2out/d{b} d{a}"], (a, b)
    assert main(["hessian", FORMULA, "--at", "x=2", "z=3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].partition(" = ")[2] == lines[2].partition(" = ")[2]
    assert lines[-3:-1] == ["d2y/dz dx = 2823.359261686111", "d2y/dx dz = 2823.359261686111"]
    # whatever the program's names: the mirrored entry's own node took the name <entry>_own
    assert main(["hessian", "g3_x_own = x^p\ny = g3_x_own*p"]) == 0
    assert capsys.readouterr().out.splitlines()[1:3] == [
        "d2y/dp dx = 2*p*x^(p - 1) + p^2*x^(p - 1)*log(x)", "d2y/dx dp = 2*p*x^(p - 1) + p^2*x^(p - 1)*log(x)"]


def test_hessian_refuses_what_grad_refuses_without_a_point(capsys):
    # cgraph grad 'softmax(x)' is a ShapeError (an array whose elements mix has no gradient),
    # but cgraph hessian 'softmax(x)' printed a d2y/dx2 of sum_to(1, ...) and expand_to(...),
    # 600 characters of the second derivative of the sum of the elements (and 'x - mean(x)' 0)
    from cgraph.cli import main

    for formula in ("softmax(x)", "x - mean(x)", "x*sum(x)"):
        assert main(["grad", formula]) == 1
        grad = capsys.readouterr()
        assert main(["hessian", formula]) == 1
        captured = capsys.readouterr()
        assert captured.out == "" and captured.err == grad.err.replace("cgraph grad:", "cgraph hessian:"), formula
    assert main(["hessian", "softmax(x)", "--at", "x=[2]"]) == 0  # one element: as grad, a point says it is one
    assert capsys.readouterr().out.splitlines()[-1] == "d2y/dx2 = 0.0"
    assert main(["hessian", "sum(x - mean(x))^2 + logsumexp(x)"]) == 0  # reduced after the mixing: differentiated


def test_hessian_of_a_graph_with_array_inputs_names_the_scalars_for_wrt(tmp_path, capsys):
    # by default every input is differentiated, the data X too, and the error was
    # cg.hessian_graph's: "wrt 'w' has shape (3,): cg.hessian_graph takes scalar inputs and
    # params only ...", a Python call the command line never made, and not which inputs it takes
    import cgraph as cg
    from cgraph.cli import main

    g = cg.Graph("logistic regression")
    w, X, b = g.input("w", shape=(3,)), g.input("X", shape=(None, 3)), g.input("b", shape=())
    g.output(cg.sum(cg.log(1 + cg.exp(-(X @ w + b)))), name="L")
    cg.save(g, tmp_path / "lr.json")
    assert main(["hessian", str(tmp_path / "lr.json")]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == (
        "cgraph hessian: error: input 'w' has shape (3,), input 'X' has shape (None, 3): cgraph hessian prints the "
        "second derivatives of scalars, one line each (its scalar inputs and params, for --wrt: b); for arrays, "
        "cg.hessian(g, ...) in Python gives the (N, N) Hessian and cg.hvp_graph(g) the Hessian-vector product as a "
        "graph\n")
    assert main(["hessian", str(tmp_path / "lr.json"), "--wrt", "w", "b"]) == 1  # named: no list of the scalars
    assert capsys.readouterr().err.startswith("cgraph hessian: error: input 'w' has shape (3,): cgraph hessian prints "
                                              "the second derivatives of scalars, one line each; for arrays")
    assert main(["hessian", str(tmp_path / "lr.json"), "--wrt", "b"]) == 0
    assert capsys.readouterr().out.startswith("d2L/db2 = sum(")


def test_hessian_labels_a_square_of_a_numbered_input_unambiguously(capsys):
    # d2/dx1^2 was labelled d2y/dx12, which is also how d2/dx12 dx... begins: with inputs x1
    # and x12 the lines d2y/dx12 (of x1) and d2y/dx12 dx1 (of x12 and x1) were side by side
    from cgraph.cli import main

    assert main(["hessian", "x1^2*x2 + x12*x1", "--at", "x1=1", "x2=2", "x12=3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.partition(" = ")[0].rstrip() for line in lines[:9]] == [
        "d2y/dx1^2", "d2y/dx2 dx1", "d2y/dx12 dx1", "d2y/dx1 dx2", "d2y/dx2^2", "d2y/dx12 dx2", "d2y/dx1 dx12",
        "d2y/dx2 dx12", "d2y/dx12^2"]
    assert lines[10] == "d2y/dx1^2    = 4.0"
    assert main(["hessian", "x^2*z"]) == 0  # a name without a final digit keeps d2y/dx2
    assert capsys.readouterr().out.splitlines()[0] == "d2y/dx2 = 2*z"


def test_grad_of_a_constant_says_there_is_nothing_to_differentiate():
    out = run("grad", "3")
    assert out.returncode == 1 and "no inputs or params" in out.stderr and "Traceback" not in out.stderr


def test_an_error_in_a_program_file_names_the_file(tmp_path):
    (tmp_path / "f.txt").write_text("a = x*z\nb = lg(x)\ny = a + b\n", encoding="utf-8")
    out = run("grad", "f.txt", cwd=tmp_path)
    assert out.returncode == 1 and "f.txt, line 2, column 5: unknown function 'lg'" in out.stderr, out.stderr


def test_an_unknown_option_shows_the_commands_usage():
    out = run("grad", "x*z", "--foo")
    assert out.returncode == 2 and "usage: cgraph grad" in out.stderr, out.stderr
    assert "cgraph grad: error: unrecognized arguments: --foo" in out.stderr
    out = run("--foo")
    assert out.returncode == 2 and "cgraph: error: unrecognized arguments: --foo" in out.stderr, out.stderr


def test_a_formula_that_starts_with_a_minus_is_not_an_option():
    out = run("grad", "-x*z", "--at", "x=2", "z=-3")
    assert out.returncode == 0 and "g_x = -z" in out.stdout and "dy/dx = 3" in out.stdout, out.stderr


def test_a_formula_that_starts_like_a_short_option_is_a_formula(tmp_path, capsys):
    # -h*log(h) (an input h) said "argument -h/--help: ignored explicit argument '*log(h)'" and
    # -omega*x "the following arguments are required: FORMULA_OR_FILE" (status 2): every
    # formula starting -h or -o was taken for an option
    from cgraph.cli import main

    assert main(["grad", "-h*log(h)"]) == 0
    assert capsys.readouterr().out == "g_h = -log(h) - 1\n"
    assert main(["grad", "-omega*x", "--at", "omega=2", "x=3"]) == 0  # grad has no -o
    assert "dy/domega = -3.0" in capsys.readouterr().out
    assert main(["draw", "-h*x", "-o", str(tmp_path / "a.dot")]) == 0
    assert main(["draw", "x", f"-o{tmp_path / 'b.dot'}"]) == 0  # -o's value attached is still -o
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.dot", "b.dot"]
    capsys.readouterr()
    assert main(["grad", "-h"]) == 0  # -h alone is still the help
    assert capsys.readouterr().out.startswith("usage: cgraph grad")


@pytest.mark.parametrize("command", ["grad", "draw"])
def test_an_empty_formula_is_said_to_be_empty(command, tmp_path, capsys):
    # "" is Path("."), a folder: the message was "[Errno 21] is a directory, not a formula
    # or a file: ''"
    from cgraph.cli import main

    extra = ["-o", str(tmp_path / "f.dot")] if command == "draw" else []
    assert main([command, "", *extra]) == 1
    err = capsys.readouterr().err
    assert "empty formula" in err and "directory" not in err


def test_a_program_file_with_a_utf8_byte_order_mark_is_read(tmp_path, capsys):
    # a program saved by a Windows editor starts with a BOM: "line 1, column 1: invisible
    # character U+FEFF ZERO WIDTH NO-BREAK SPACE is not allowed", which the user cannot see
    from cgraph.cli import main

    path = tmp_path / "f.txt"
    path.write_bytes(b"\xef\xbb\xbfa = x*z\r\ny = sin(a)\r\n")
    assert main(["grad", str(path)]) == 0
    assert "g_x = z*cos(x*z)" in capsys.readouterr().out


def test_the_warnings_of_a_program_file_name_it_as_its_errors_do(tmp_path, capsys):
    # an error said "f.txt, line 2, column 5: ..." but a warning only "line 2: ..."
    from cgraph.cli import main

    path = tmp_path / "f.txt"
    path.write_text("f = sin(x)\ny = x + ff\n")
    assert main(["grad", str(path), "--of", "y"]) == 0
    assert capsys.readouterr().err == (f"cgraph grad: warning: {path}, line 1: 'f' is assigned but never used (so it "
                                       "is an output), and the input 'ff' first appears after it (line 2, column 9): "
                                       "a typo of 'f'?\n")


def test_at_pairs_joined_by_commas_get_a_hint(capsys):
    # --at x=2,z=3 (as JAX/SymPy users write a point) said only "'2,z=3' is not a number"
    from cgraph.cli import main

    assert main(["grad", "x*z", "--at", "x=2, z=3"]) == 1
    err = capsys.readouterr().err
    assert "is not a number or a [list] of numbers; separate the pairs with spaces: --at x=2 z=3" in err
    assert main(["grad", "x*z", "--at", "x=2,3", "z=1"]) == 1  # no pair after the comma: no hint
    assert "separate" not in capsys.readouterr().err


@pytest.mark.parametrize("value", ["true", '"1"', "null", "[1, true]", "[1, null]", "[[1], 2]"])
def test_at_refuses_what_is_not_a_number(value, capsys):
    # numpy's float64 read true and "1" as 1.0 and null as nan: `--at x=true` printed a
    # derivative as if x were 1, `x=null` said "input 'x' is not finite (nan)"
    from cgraph.cli import main

    assert main(["grad", "x*z", "--at", f"x={value}", "z=1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"cgraph grad: error: --at 'x={value}': ") and "is not a number or a [list] of numbers" in err
    assert err.count("\n") == 1


@pytest.mark.parametrize(("value", "shown"), [("nan", "nan"), ("NaN", "nan"), ("-inf", "-inf"), ("[1, INF]", "inf at index (1,)")])
def test_at_reads_nan_and_inf_as_a_formula_writes_them(value, shown, capsys):
    # `--at x=nan` was "'nan' is not a number", though a formula writes nan and inf so
    # (only JSON's NaN and Infinity passed)
    from cgraph.cli import main

    assert main(["grad", "x*z", "--at", f"x={value}", "z=1"]) == 1
    err = capsys.readouterr().err
    assert "is not finite" in err and shown in err and "is not a number" not in err
    assert main(["grad", "x*z", "--at", "x=information", "z=1"]) == 1  # a word that starts like one is not
    assert "is not a number or a [list] of numbers" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["9" * 5000, f"[{'9' * 400}]", "1e400", "[1, -1e999]"],
                         ids=["5000 digits", "list", "1e400", "list of 1e999"])
def test_at_names_a_number_too_large_for_a_float(value, capsys):
    # json's ValueError (past 4300 digits) and numpy's OverflowError escaped as tracebacks;
    # 1e400 became inf: "input 'x' is not finite (inf)", a value no one typed
    from cgraph.cli import main

    assert main(["grad", "x*z", "--at", f"x={value}", "z=1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cgraph grad: error: --at 'x=") and err.endswith("a number in it is too large for a float\n")
    assert main(["grad", "x*z", "--at", f"x={'9' * 400}", "z=1"]) == 1  # an exact int: named where it is used
    assert "input 'x': 999999999999... is too large for a float" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["grad"], ["hessian"], ["jacobian"], ["check", "--at", "x=1"], ["compile"],
                                     ["steps", "-o", "frames", "--at", "x=1"], ["draw", "-o", "g.dot", "--adjoint"]])
def test_a_saved_graph_without_outputs_asks_for_of(command, tmp_path, capsys, monkeypatch):
    # it said the library's "mark the one to differentiate with g.output(node, name=...), or
    # say which node with of=...": a keyword the command has not
    import cgraph as cg
    from cgraph.cli import main

    monkeypatch.chdir(tmp_path)
    g = cg.Graph()
    g.apply("sin", g.input("x"), name="s")
    cg.save(g, "g.json")
    assert main([command[0], "g.json", *command[1:]]) == 1
    assert capsys.readouterr().err == (f"cgraph {command[0]}: error: 'g.json' has no outputs; say which node to "
                                       "differentiate with --of NAME\n")
    assert main([command[0], "g.json", *command[1:], "--of", "s"]) == 0


@pytest.mark.parametrize("encoding", ["ascii", "cp1252"])
def test_a_name_stdout_cannot_encode_is_escaped_not_a_traceback(encoding):
    # `cgraph grad 'sin(θ)'` to an ASCII or cp1252 stdout (a Windows console redirected to a
    # file) ended in a UnicodeEncodeError traceback after printing nothing
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONIOENCODING": encoding}
    out = subprocess.run([sys.executable, "-m", "cgraph", "grad", "sin(θ)*𝑧", "--at", "θ=0", "𝑧=2"], env=env,
                         capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.decode(encoding).splitlines() == [
        "g_\\u03b8 = \\U0001d467*cos(\\u03b8)", "g_\\U0001d467 = sin(\\u03b8)", "at \\u03b8=0, \\U0001d467=2:",
        "dy/d\\u03b8 = 2.0", "dy/d\\U0001d467 = 0.0"]
    assert out.stderr == b""


@pytest.mark.parametrize("depth", [33, 70, 100_000])
def test_at_names_lists_nested_too_deeply(depth, capsys):
    # --at x=[[...[1]...]] 33 deep escaped as numpy's RuntimeError ("only supports up to 32
    # dimensions"), 100,000 deep as json's RecursionError: tracebacks, not one line
    from cgraph.cli import main

    assert main(["grad", "sum(x)", "--at", "x=" + "[" * depth + "1" + "]" * depth]) == 1
    err = capsys.readouterr().err
    assert err.startswith("cgraph grad: error: --at 'x=[[[") and err.endswith(": its lists nest deeper than 32 levels\n")
    assert main(["grad", "sum(x)", "--at", "x=" + "[" * 32 + "1" + "]" * 32]) == 0  # as deep as a formula's list


@pytest.mark.parametrize("command", ["draw", "steps"])
@pytest.mark.parametrize("name", ["", "f\0.svg"])
def test_an_output_name_that_is_empty_or_holds_nul_is_a_usage_error(command, name, tmp_path, capsys, monkeypatch):
    # "f\0.svg" escaped as Python's "ValueError: embedded null byte"; `steps -o ''` wrote its
    # frames into the current folder and `draw -o ''` said "cannot render '.'"
    from cgraph.cli import main

    monkeypatch.chdir(tmp_path)
    assert main([command, "x*z", "-o", name, "--at", "x=1", "z=2"]) == 2
    err = capsys.readouterr().err
    assert f"cgraph {command}: error: argument -o/--output: " in err
    assert ("empty" if not name else "NUL character") in err
    assert list(tmp_path.iterdir()) == []


def test_a_reader_that_stops_early_gets_no_error_message(tmp_path):
    # `cgraph grad big | head`: "cgraph grad: error: [Errno 32] Broken pipe" was printed,
    # status 1; a command whose reader has gone stops quietly, as the shell's own tools do
    formula = " + ".join(f"sin(x{i})" for i in range(6000))  # ~100 kB of derivatives: more than a pipe holds
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "cgraph", "grad", formula], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout.read(10) == b"g_x0 = cos"
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141 and err == ""


def test_a_saved_graph_is_read_whatever_its_suffix(tmp_path, capsys):
    # cg.save takes any path; `cgraph grad lecture.cg` read the JSON as a program: "line 1,
    # column 1: dicts and sets ('{') are not allowed"
    import cgraph as cg
    from cgraph.cli import main

    path = cg.save(cg.parse("y = x*z"), tmp_path / "lecture.cg")
    assert main(["grad", str(path)]) == 0
    assert capsys.readouterr().out == "g_x = z\ng_z = x\n"
    path.write_text('{"format": "cgraph"}', encoding="utf-8")
    assert main(["grad", str(path)]) == 1
    assert "lecture.cg: the document: missing field(s) 'nodes', 'outputs', 'version'" in capsys.readouterr().err


def test_a_warning_is_one_line_without_cgraphs_source(tmp_path):
    # it printed ".../cgraph/cli.py:128: UserWarning: ..." and the line "return cg.parse(text)"
    prog = tmp_path / "typo.txt"
    prog.write_text(LECTURE.replace("d + e + f", "d + e + ff"))
    out = run("grad", str(prog))
    # f, unused, is an output beside y: differentiating needs one output, so it stops there
    assert out.returncode == 1 and out.stdout == ""
    assert out.stderr == (f"cgraph grad: warning: {prog}, line 6: 'f' is assigned but never used (so it is an output), "
                          "and the input 'ff' first appears after it (line 7, column 13): a typo of 'f'?\n"
                          f"cgraph grad: error: '{prog}' has 2 outputs ['f', 'y']; say which to differentiate "
                          "with --of NAME\n")


def test_latex_line_width_breaks_equations_and_needs_latex():
    out = run("hessian", FORMULA, "--latex", "--line-width", "60")
    assert out.returncode == 0, out.stderr
    assert "\\\\\n&\\quad {}+ z \\left(" in out.stdout
    one = run("hessian", FORMULA, "--latex").stdout
    assert out.stdout.replace(" \\\\\n&\\quad {}", " ") == one
    out = run("grad", FORMULA, "--line-width", "60")
    assert out.returncode == 2 and "--line-width needs --latex" in out.stderr
    # a usage error naming the option, as --eps: it was the library's "line_width must be a
    # positive number of letters, not 0.0", with status 1
    for value in ("0", "-5", "nan", "inf", "abc"):
        out = run("grad", FORMULA, "--latex", "--line-width", value)
        assert out.returncode == 2, value
        assert out.stderr.splitlines()[-1] == (f"cgraph grad: error: argument --line-width: expected a finite number "
                                               f"> 0, got '{value}'")


@pytest.mark.parametrize("command, extra", [
    ("grad", []), ("hessian", []), ("jacobian", []), ("check", []), ("compile", []), ("steps", ["-o", "frames"]),
    ("draw", ["-o", "d.dot", "--adjoint"]),
])
def test_of_names_the_output_of_a_graph_of_several(command, extra, tmp_path):
    """A printed gradient (two outputs) read back: the commands take --of, and without it
    say so (the passes' message asked for of=..., which no command took)."""
    (tmp_path / "frames").mkdir()
    (tmp_path / "two.txt").write_text("g_x = cos(x) + z*exp(x*z)\ng_z = x*exp(x*z)\n", encoding="utf-8")
    out = run(command, "two.txt", "--at", "x=1", "z=2", *extra, cwd=tmp_path)
    assert out.returncode == 1
    assert out.stderr == (f"cgraph {command}: error: 'two.txt' has 2 outputs ['g_x', 'g_z']; "
                          "say which to differentiate with --of NAME\n")
    out = run(command, "two.txt", "--of", "g_z", "--at", "x=1", "z=2", *extra, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    if command == "grad":
        assert out.stdout.splitlines()[-2:] == ["dg_z/dx = 3*exp(2) = 22.16716829679195",
                                                "dg_z/dz = exp(2) = 7.38905609893065"]
    out = run(command, "two.txt", "--of", "g", "--at", "x=1", "z=2", *extra, cwd=tmp_path)
    assert out.returncode == 1 and "'g'" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("command, extra", [
    ("grad", []), ("hessian", []), ("jacobian", []), ("check", []), ("compile", []), ("steps", ["-o", "frames"]),
    ("draw", ["-o", "d.dot", "--adjoint"]),
])
def test_of_naming_an_input_itself_is_refused_by_every_command(command, extra, tmp_path, capsys, monkeypatch):
    """--of x for --wrt x: jacobian printed the identity u_x^T dx/dx = u_x (and grad
    dx/dx = 1, hessian 0), an answer to a question no one asks a command."""
    from cgraph.cli import main

    monkeypatch.chdir(tmp_path)
    assert main([command, "y = x*z", "--of", "x", "--at", "x=[1, 2]", "z=3", *extra]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == (
        f"cgraph {command}: error: --of 'x' is an input of 'y = x*z', not a node computed from its inputs: --of says "
        "what to differentiate, --wrt with respect to what (--wrt x); for the derivative of x itself (the identity), "
        "differentiate the formula 'y = x'\n")
    (tmp_path / "two.txt").write_text("g_x = cos(x) + z*exp(x*z)\ng_z = x*exp(x*z)\n", encoding="utf-8")
    assert main([command, "two.txt", "--of", "z", "--at", "x=1", "z=2", *extra]) == 1
    assert "with respect to what (e.g. --of g_x --wrt z)" in capsys.readouterr().err
    assert main([command, "a = x*z\ny = a + 1", "--of", "a", "--at", "x=1", "z=2", *extra]) == 0  # a node computed


def test_the_identity_is_differentiated_as_a_formula(capsys):
    from cgraph.cli import main

    assert main(["jacobian", "y = x", "--at", "x=[1, 2]"]) == 0
    assert capsys.readouterr().out.splitlines() == ["u_y^T dy/dx = u_y", "at x=[1, 2]:", "dy/dx (2, 2) = [[1, 0], [0, 1]]"]


def test_of_that_would_be_ignored_is_a_usage_error():
    out = run("draw", "x*z", "-o", "d.svg", "--of", "y")
    assert out.returncode == 2 and "--of needs --adjoint" in out.stderr
    out = run("compile", "x*z", "--no-grad", "--of", "y")
    assert out.returncode == 2 and "--of cannot go with --no-grad" in out.stderr


def test_jacobian_of_a_softmax_prints_its_vjp_and_at_a_point_the_matrix(capsys):
    import numpy as np

    from cgraph.cli import main

    assert main(["jacobian", "s = softmax(x)"]) == 0
    assert capsys.readouterr().out == "u_s^T ds/dx = softmax(x)*(u_s - sum(u_s*softmax(x), axis=-1, keepdims=True))\n"
    assert main(["jacobian", "s = softmax(x)", "--at", "x=[1,2,3]"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "at x=[1, 2, 3]:"
    label, _, matrix = lines[2].partition(" = ")
    assert label == "ds/dx (3, 3)"
    s = np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum()
    np.testing.assert_allclose(np.array(json.loads(matrix)), np.diag(s) - np.outer(s, s), rtol=1e-9)  # one line, 10 digits
    assert main(["jacobian", "s = softmax(x)", "--latex"]) == 0
    assert capsys.readouterr().out.startswith(r"u_{s}^{\top} \frac{\partial s}{\partial x} = ")


def test_jacobian_of_a_scalar_output_is_its_gradient_as_jacrev_gives_it(capsys):
    """JAX's jacrev of a scalar function of x of shape (2,) has shape (2,): () + x.shape."""
    from cgraph.cli import main

    assert main(["jacobian", "sum(x*x)", "--at", "x=[1,2]"]) == 0
    assert capsys.readouterr().out.splitlines() == ["u_y^T dy/dx = 2*x*u_y", "at x=[1, 2]:", "dy/dx (2,) = [2, 4]"]
    assert main(["jacobian", "x*z", "--wrt", "z", "x", "--at", "x=2", "z=3"]) == 0  # in --wrt's order
    assert capsys.readouterr().out.splitlines() == [
        "u_y^T dy/dz = x*u_y", "u_y^T dy/dx = z*u_y", "at x=2, z=3:", "dy/dz = 2.0", "dy/dx = 3.0"]
    assert main(["jacobian", "x*W", "--wrt", "W", "--at", "x=[1,2]", "W=[[1,2],[3,4]]"]) == 0  # y.shape + W.shape
    assert capsys.readouterr().out.splitlines()[-1] == (
        "dy/dW (2, 2, 2, 2) = [[[[1, 0], [0, 0]], [[0, 2], [0, 0]]], [[[0, 0], [1, 0]], [[0, 0], [0, 2]]]]")


def test_jacobian_refuses_a_bad_point_before_printing(capsys):
    from cgraph.cli import main

    assert main(["jacobian", "softmax(x)", "--at", "x=[1,2"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == (
        "cgraph jacobian: error: --at 'x=[1,2': '[1,2' is not a number or a [list] of numbers\n")
    assert main(["jacobian", "softmax(log(x))", "--at", "x=[1,-2]"]) == 1  # a domain error: no half answer
    captured = capsys.readouterr()
    assert captured.out == "" and "(log) is not finite" in captured.err and "nonfinite" not in captured.err
    assert main(["jacobian", "x*z", "--at", "x=2"]) == 1
    assert "missing input(s) 'z'" in capsys.readouterr().err
    assert main(["jacobian", "3"]) == 1
    assert "nothing to differentiate" in capsys.readouterr().err
    assert main(["jacobian", "x*z", "--line-width", "50"]) == 2
    assert "--line-width needs --latex" in capsys.readouterr().err


def test_derivative_values_print_a_zero_without_its_sign(capsys):
    # d2/dx2 of x^p at x = p = 0 is p*(p - 1)*... = 0*(-1)*... = -0.0, which printed as
    # "d2y/dx2 = -0.0": a negative number to the reader; the values themselves are numpy's
    import cgraph as cg
    from cgraph.cli import main

    assert cg.hessian(cg.parse("y = x^p"), wrt=["x"], x=0.0, p=0.0)[0, 0] == 0.0  # (-0.0)
    assert main(["hessian", "x^p", "--wrt", "x", "--at", "x=0", "p=0"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "d2y/dx2 = 0.0"
    assert main(["grad", "x*z", "--at", "x=-0.0", "z=-1"]) == 0
    assert capsys.readouterr().out.splitlines()[-3:] == ["at x=-0.0, z=-1:", "dy/dx = -1.0", "dy/dz = 0.0"]
    assert main(["jacobian", "x*z", "--at", "x=[2, 3]", "z=[-1, 1]"]) == 0
    assert capsys.readouterr().out.splitlines()[-2] == "dy/dx (2, 2) = [[-1, 0], [0, 1]]"  # -1*0 is -0.0 too


def test_the_valued_program_writes_a_derivatives_zero_without_its_sign(capsys):
    from cgraph.cli import main

    assert main(["grad", "x*z", "--program", "--at", "x=-0.0", "z=-1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[3] == "g_z = g_y*x  # 0.0"  # was -0.0, beside dy/dz = 0.0 below it
    assert main(["grad", "-x", "--program", "--at", "x=0"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "y = -x      # -0.0"  # a value of the function: as numpy gives it


def test_grad_expand_warns_of_expression_swell_once(tmp_path, capsys):
    # --expand printed "to_text: the expanded form of 'g_x' passes 20000 characters" twice (with
    # --latex a to_text warning beside to_latex's): choosing the shorter of two expansions
    # printed both, and the printing of the one chosen warned again
    from cgraph.cli import main

    path = tmp_path / "chain.txt"
    path.write_text("sin(" * 300 + "x" + ")" * 300)
    for latex, printer in ((), "to_text"), (("--latex",), "to_latex"):
        assert main(["grad", "--expand", *latex, str(path)]) == 0
        err = capsys.readouterr().err.splitlines()
        assert err == [f"cgraph grad: warning: {printer}: the expanded form of 'g_x' passes 20000 characters "
                       "(expression swell); writing the program form instead (raise max_length= to force it)"]


def test_grad_at_leaves_out_an_exact_form_that_swells(tmp_path, capsys):
    # with --at x=2 (sin(2) is kept exact), d/dx of a 300-deep chain swells: the exact form's
    # to_text fell back to the program form, whose last line, over the temporaries t1..t298,
    # was printed as "dy/dx = cos(sin(t298))*cos(t298)*... = value", with a second warning
    from cgraph.cli import main

    path = tmp_path / "chain.txt"
    path.write_text("sin(" * 300 + "x" + ")" * 300 + " + sin(z)")
    assert main(["grad", str(path), "--at", "x=2", "z=2"]) == 0
    out, err = capsys.readouterr()
    assert len(err.splitlines()) == 1 and "expression swell" in err
    lines = out.splitlines()
    dx, dz = lines[-2:]
    assert re.fullmatch(r"dy/dx = -?\d\.\d+(e-?\d+)?", dx), dx  # the value alone
    assert dz == f"dy/dz = cos(2) = {math.cos(2)!r}"  # an output that does not swell keeps its exact form
