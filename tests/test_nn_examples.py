"""The cg.nn examples run, and show what they claim (with smaller budgets where they are slow)."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_xor_example_reaches_full_accuracy(capsys):
    assert _load("xor").main() == 1.0
    assert "training accuracy: 100%" in capsys.readouterr().out


def test_universal_approximation_error_falls_with_units(tmp_path, capsys):
    errors = _load("universal_approximation").main(units=(1, 2, 4), exports=tmp_path)
    assert errors == sorted(errors, reverse=True) and errors[-1] < 0.1
    assert "hidden units" in capsys.readouterr().out
    dot = (tmp_path / "universal_approximation.dot").read_text()
    assert len(re.findall(r"^u\d+_\d+ \[", dot, re.M)) == 1 + 4 + 1  # the last network fitted: [1, 4, 1]
    edges = re.findall(r"^u\d+_\d+ -> u\d+_\d+ \[.*$", dot, re.M)
    assert len(edges) == 8 and all("label=" in e for e in edges)  # every weight shown
    assert (tmp_path / "universal_approximation.svg").exists()


def test_optimizers_example_writes_the_loss_table(tmp_path):
    curves = _load("optimizers").main(epochs=4, exports=tmp_path)
    rows = (tmp_path / "optimizers.csv").read_text().splitlines()
    assert rows[0] == "epoch,sgd,momentum,rmsprop,adam" and len(rows) == 5
    assert all(len(c) == 4 and np.isfinite(c).all() for c in curves.values())


def test_committed_optimizer_table_is_fresh(tmp_path):
    committed = EXAMPLES.parent / "exports" / "optimizers.csv"
    _load("optimizers").main(exports=tmp_path)
    fresh = np.loadtxt(tmp_path / "optimizers.csv", delimiter=",", skiprows=1)
    # a tolerance, not bytes: another BLAS may round the last digits differently
    np.testing.assert_allclose(fresh, np.loadtxt(committed, delimiter=",", skiprows=1), atol=1e-5)
