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


@pytest.mark.parametrize(("loss", "sizes", "Y", "where"), [
    ("bce", [2, 1], [0.0, 1.0, 2.0, 0.5], "got Y[2, 0] = 2 (1 of 4 outside)"),
    ("bce", [2, 1], [-0.5, 1.0, 1.0, -1.0], "got Y[0, 0] = -0.5 (2 of 4 outside)"),
    ("cross_entropy", [2, 3], [[1, 0, 0], [0, 1.5, -0.5], [0, 0, 1], [1, 0, 0]], "got Y[1, 1] = 1.5 (2 of 12 outside)"),
])
def test_targets_outside_a_probability_loss_range_name_the_loss_and_the_entry(loss, sizes, Y, where):
    # bce of a target 2 pulled the logit to infinity: the loss has no minimum, and training
    # ran silently (torch's BCELoss refuses it: "all elements of target should be between 0 and 1")
    net = cg.nn.MLP(sizes, loss=loss, seed=0)
    X = np.zeros((4, 2))
    title = get_loss(loss).title
    want = f"input 'Y': {title} (loss={loss!r}) needs targets in [0, 1], {where}"
    for call in (lambda: net.targets(Y), lambda: net.loss(X, Y), lambda: cg.nn.train(net, X, Y, epochs=1)):
        with pytest.raises(cg.InputError) as info:
            call()
        assert str(info.value) == want
    with pytest.raises(cg.InputError, match=r"^input 'validation Y': .* got validation Y\["):
        cg.nn.train(net, X, np.full_like(np.asarray(Y, float), 0.5), validation=(X, Y), epochs=1)


def test_targets_inside_the_range_and_any_mse_targets_are_accepted():
    soft = [0.0, 0.1, 0.9, 1.0]  # soft labels (label smoothing) are probabilities too
    assert cg.nn.MLP([2, 1], loss="bce", seed=0).targets(soft).shape == (4, 1)
    assert cg.nn.MLP([2, 1], loss="mse", seed=0).targets([-3.0, 7.0]).shape == (2, 1)
    np.testing.assert_array_equal(cg.nn.MLP([2, 3], loss="cross_entropy").targets([2, 0]), [[0, 0, 1], [1, 0, 0]])


@pytest.mark.parametrize("loss", [cg.nn.mse, cg.nn.bce, cg.nn.cross_entropy])
@pytest.mark.parametrize(("sa", "sy"), [((None, 1), (None,)), ((None,), (None, 1)), ((4, 3), (4, 1)), ((2, 3), (3, 3))])
def test_declared_target_shapes_that_differ_from_the_logits_are_a_shape_error(loss, sa, sy):
    # a (B, 1) column of logits against (B,) targets broadcast to B x B pairs: mse of a
    # perfect fit a = [[1], [2], [3]], y = [1, 2, 3] evaluated to 1.33, not 0 (torch warns,
    # optax refuses); where both shapes are declared, the builder refuses it
    g = cg.Graph()
    a, y = g.input("a", shape=sa), g.input("t", shape=sy)
    with pytest.raises(cg.ShapeError, match=rf"^{loss.__name__}: the targets 't' have shape .*, the logits 'a' "):
        loss(a, y)


@pytest.mark.parametrize("loss", [cg.nn.mse, cg.nn.bce, cg.nn.cross_entropy])
def test_equal_unknown_or_scalar_target_shapes_are_accepted(loss):
    for sa, sy in [((None, 3), (None, 3)), ((None, 3), None), (None, (None, 3)), ((None, 3), (None, None)), ((2, 2), ())]:
        g = cg.Graph()
        g.output(loss(g.input("a", shape=sa), g.input("t", shape=sy)))
    a = np.array([[1.0, 2.0], [3.0, 1.0]])
    assert cg.evaluate(g, a=a, t=0.5)["loss"] == cg.evaluate(_graph(loss), a=a, y=np.full((2, 2), 0.5))["loss"]
