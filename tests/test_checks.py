"""Tests of cgraph/checks.py: the checks of what users hand the library."""

from __future__ import annotations

import numpy as np
import pytest

import cgraph as cg
from cgraph.checks import flag


@pytest.mark.parametrize("value", [True, False, np.True_, np.False_])
def test_flag_takes_python_and_numpy_bools(value):
    assert flag(value, "numeric") is bool(value)


@pytest.mark.parametrize("value", ["no", "False", 0, 1, None, 1.0, [True], np.array([True])])
def test_flag_refuses_everything_else_naming_the_option(value):
    with pytest.raises(cg.ArgumentError, match=r"^numeric= must be True or False, not "):
        flag(value, "numeric")
    with pytest.raises(cg.ExportError, match=r"^captions= must be True or False"):
        flag(value, "captions", cg.ExportError)


def _lecture():
    return cg.parse("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")


def _net():
    return cg.nn.MLP([2, 3, 1], seed=0)


_X, _Y = np.zeros((4, 2)), np.zeros((4, 1))

# every public on/off option: a string such as "no" is truthy, and was taken as True
SITES = {
    "numeric": (cg.ArgumentError, lambda v: cg.simplify(_lecture(), numeric=v)),
    "show_generated": (cg.ExportError, lambda v: cg.to_dot(_lecture(), show_generated=v)),
    "captions": (cg.ExportError, lambda v: cg.to_dot(_net().graph, style="network", captions=v)),
    "heavy_ball": (cg.ArgumentError, lambda v: cg.nn.Momentum(heavy_ball=v)),
    "l2_bias": (cg.ArgumentError, lambda v: _net().build(l2=0.1, l2_bias=v)),
    "dropout": (cg.ArgumentError, lambda v: _net().gradient_graph(dropout=v)),
    "with_loss": (cg.ArgumentError, lambda v: _net().build(with_loss=v)),
    "restore_best": (cg.ArgumentError, lambda v: cg.nn.train(_net(), _X, _Y, epochs=1, restore_best=v)),
    "verbose": (cg.ArgumentError, lambda v: cg.nn.train(_net(), _X, _Y, epochs=1, verbose=v)),
}


@pytest.mark.parametrize("option", sorted(SITES))
def test_every_on_off_option_refuses_a_string(option):
    error, call = SITES[option]
    with pytest.raises(error, match=rf"{option}= must be True or False, not 'no'"):
        call("no")
    call(False)  # and takes a bool
    call(np.True_)
