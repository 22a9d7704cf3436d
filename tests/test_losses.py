"""The losses: values against numpy references, stability at huge logits, gradients."""

from __future__ import annotations

import numpy as np
import pytest

import cgraph as cg
from cgraph.nn.losses import LOSSES, activation_fn, get_loss


def _graph(loss):
    g = cg.Graph()
    a, y = g.input("a"), g.input("y")
    g.output(loss(a, y))
    return g


def _sigmoid(a):
    return 1 / (1 + np.exp(-a))


def test_mse_bce_cross_entropy_match_numpy():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 3))
    y01 = (rng.random((6, 3)) > 0.5).astype(float)
    onehot = np.eye(3)[rng.integers(0, 3, 6)]
    mse = cg.evaluate(_graph(cg.nn.mse), a=a, y=y01)["loss"]
    np.testing.assert_allclose(mse, np.mean((a - y01) ** 2), rtol=1e-14)
    bce = cg.evaluate(_graph(cg.nn.bce), a=a, y=y01)["loss"]
    p = _sigmoid(a)
    np.testing.assert_allclose(bce, np.mean(-y01 * np.log(p) - (1 - y01) * np.log(1 - p)), rtol=1e-12)
    ce = cg.evaluate(_graph(cg.nn.cross_entropy), a=a, y=onehot)["loss"]
    softmax = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(ce, np.mean(-np.sum(onehot * np.log(softmax), axis=1)), rtol=1e-12)


@pytest.mark.parametrize("name", ["bce", "cross_entropy"])
def test_losses_stable_at_huge_logits(name):
    a = np.array([[1000.0, -1000.0], [-1000.0, 1000.0], [0.0, 1000.0]])
    y = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    g = _graph(LOSSES[name].build)
    loss = float(cg.evaluate(g, a=a, y=y)["loss"])  # raises DomainError on overflow
    d = cg.grad(g, wrt="a", a=a, y=y)["a"]
    assert np.isfinite(loss) and np.isfinite(d).all()
    if name == "bce":  # softplus(a) - y*a per element
        want = np.mean([0, 0, 1000, 1000, np.log(2), 0])
        np.testing.assert_allclose(loss, want)
        np.testing.assert_allclose(d, (_sigmoid(np.clip(a, -50, 50)) - y) / a.size, atol=1e-15)
    else:  # rows: right with margin 2000, wrong by 2000, right by 1000
        np.testing.assert_allclose(loss, 2000 / 3)
        np.testing.assert_allclose(d, np.array([[0, 0], [-1, 1], [0, 0]]) / 3, atol=1e-15)


@pytest.mark.parametrize("name", list(LOSSES))
def test_loss_gradients_match_finite_differences(name):
    rng = np.random.default_rng(1)
    a = rng.normal(size=(5, 3))
    y = np.eye(3)[rng.integers(0, 3, 5)] if name == "cross_entropy" else rng.random((5, 3))
    g = _graph(LOSSES[name].build)
    exact = cg.grad(g, wrt="a", a=a, y=y)["a"]
    approx = cg.finite_difference(g, wrt="a", a=a, y=y)["a"]
    np.testing.assert_allclose(exact, approx, rtol=1e-6, atol=1e-9)


def test_output_activations_follow_the_loss():
    assert {k: v.activation for k, v in LOSSES.items()} == {
        "mse": "identity",
        "bce": "sigmoid",
        "cross_entropy": "softmax",
    }


def test_unknown_names_raise_argument_errors():
    with pytest.raises(cg.ArgumentError, match="unknown loss 'hinge'.*'mse'"):
        get_loss("hinge")
    with pytest.raises(ValueError, match="unknown activation 'gelu'.*'relu'"):
        activation_fn("gelu")
