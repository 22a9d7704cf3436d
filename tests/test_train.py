"""Training: the lecture's mini-batch loop, termination, early stopping, L2, dropout, restarts."""

from __future__ import annotations

import importlib
import io

import numpy as np
import pytest

import cgraph as cg
from cgraph.nn import MLP, SGD, Adam, Momentum, train

mlp_mod = importlib.import_module("cgraph.nn.mlp")
train_mod = importlib.import_module("cgraph.nn.train")
XOR_X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
XOR_Y = np.array([0, 1, 1, 0], dtype=float)


def _overfit_setup():
    rng = np.random.default_rng(0)
    X = rng.uniform(-3, 3, 12)
    Y = np.sin(X) + rng.normal(scale=0.4, size=12)
    Xv = np.linspace(-3, 3, 40)
    return X, Y, (Xv, np.sin(Xv))


def test_xor_reaches_full_training_accuracy():
    net = MLP([2, 4, 1], activation="tanh", loss="bce", seed=0)
    h = train(net, XOR_X, XOR_Y, optimizer=Adam(lr=0.05), batch_size=4, epochs=300)
    assert ((net.predict(XOR_X).ravel() > 0.5) == XOR_Y).all()
    assert h.reason == "max_epochs" and h.stopped_epoch == 300 and len(h.train_loss) == 300
    assert h.train_loss[-1] < 0.05 and h.val_loss == []


def test_early_stopping_stops_before_epochs_and_restores_the_best_weights():
    X, Y, val = _overfit_setup()
    net = MLP([1, 32, 32, 1], activation="tanh", seed=0)
    h = train(net, X, Y, optimizer=Adam(lr=0.02), batch_size=None, epochs=1500, validation=val, patience=20)
    assert h.reason == "early_stopping" and h.stopped_epoch < 1500
    assert h.stopped_epoch == h.best_epoch + 20
    assert len(h.val_loss) == h.stopped_epoch
    assert h.val_loss[h.best_epoch - 1] == min(h.val_loss)
    assert net.loss(*val) == pytest.approx(min(h.val_loss), rel=1e-12)  # the best weights are in place
    assert h.val_loss[-1] > min(h.val_loss)  # ... and they differ from the last ones


@pytest.mark.parametrize("patience", [3, None])
def test_a_run_that_only_worsens_the_validation_loss_gives_back_its_initial_weights(patience):
    # the initial weights were never scored: the "best" weights were epoch 1's, worse on
    # validation than those the run started from (the validation labels are the opposite)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(40, 2))
    Y = (X[:, 0] > 0).astype(float)
    net = MLP([2, 1], loss="bce", seed=0)
    start = net.snapshot()
    val = (X, 1 - Y)
    h = train(net, X, Y, optimizer=SGD(lr=0.5), batch_size=None, epochs=10, validation=val, patience=patience)
    assert all(b > a for a, b in zip([h.initial_val_loss, *h.val_loss], h.val_loss))  # only worse
    assert h.best_epoch == 0 and h.stopped_epoch == (3 if patience else 10)
    assert h.reason == ("early_stopping" if patience else "max_epochs")
    for k, v in start.items():
        np.testing.assert_array_equal(net.params[k], v)
    assert net.loss(*val) == h.initial_val_loss and h.final_loss == net.loss(X, Y)
    assert f"best epoch 0; final training loss {h.final_loss:.6g}, val loss {h.initial_val_loss:.6g}" in str(h)


def test_restore_best_false_keeps_the_last_weights():
    X, Y, val = _overfit_setup()
    net = MLP([1, 8, 1], activation="tanh", seed=0)
    h = train(net, X, Y, optimizer=Adam(lr=0.02), batch_size=None, epochs=30, validation=val, restore_best=False)
    assert net.loss(*val) == pytest.approx(h.val_loss[-1], rel=1e-12)


def test_termination_by_minimum_improvement_over_a_window():
    net = MLP([2, 4, 1], activation="tanh", loss="bce", seed=0)
    h = train(net, XOR_X, XOR_Y, optimizer=SGD(lr=1e-4), batch_size=4, epochs=500, window=5, min_delta=1e-3)
    assert h.reason == "converged" and h.stopped_epoch == 6  # the first epoch the window is full
    h = train(net, XOR_X, XOR_Y, optimizer=SGD(lr=1e-4), batch_size=4, epochs=8, window=5, min_delta=0.0)
    assert h.reason == "max_epochs" and h.stopped_epoch == 8  # still improving, if slowly


def test_last_partial_batch_is_used():
    rng = np.random.default_rng(1)
    X, Y = rng.normal(size=(10, 2)), rng.normal(size=10)
    h = train(MLP([2, 1], seed=0), X, Y, optimizer=SGD(lr=0.01), batch_size=4, epochs=3)
    assert h.steps == 9  # batches of 4, 4, 2 per epoch
    h = train(MLP([2, 1], seed=0), X, Y, optimizer=SGD(lr=0.01), batch_size=None, epochs=3)
    assert h.steps == 3


def test_restarts_keep_the_run_with_the_lowest_training_error():
    net = MLP([2, 2, 1], activation="sigmoid", loss="bce", seed=3)
    h = train(net, XOR_X, XOR_Y, optimizer=Adam(lr=0.05), batch_size=4, epochs=60, restarts=4, seed=1)
    finals = [r.final_loss for r in h.runs]
    assert len(h.runs) == 4 and len(set(finals)) == 4  # different initialisations
    assert h.restart == int(np.argmin(finals))
    assert [r.restart for r in h.runs] == [0, 1, 2, 3]
    assert h.final_loss == min(finals) and h.train_loss == h.runs[h.restart].train_loss
    assert net.loss(XOR_X, XOR_Y) == pytest.approx(min(finals), rel=1e-12)


def test_a_first_run_ending_in_nan_does_not_beat_the_later_runs(monkeypatch):
    real_fit = train_mod._Run.fit

    def fit(self, *a, restart, **k):
        h = real_fit(self, *a, restart=restart, **k)
        if restart == 0:
            h.final_loss = float("nan")
        return h

    monkeypatch.setattr(train_mod._Run, "fit", fit)
    net = MLP([2, 2, 1], activation="sigmoid", loss="bce", seed=3)
    h = train(net, XOR_X, XOR_Y, optimizer=Adam(lr=0.05), batch_size=4, epochs=5, restarts=3, seed=1)
    finals = [r.final_loss for r in h.runs]
    assert np.isnan(finals[0]) and h.restart == 1 + int(np.argmin(finals[1:]))


def test_first_restart_starts_from_the_current_weights():
    a, b = MLP([2, 3, 1], seed=5), MLP([2, 3, 1], seed=5)
    ha = train(a, XOR_X, XOR_Y, optimizer=SGD(lr=0.1), epochs=5, restarts=1, seed=2)
    hb = train(b, XOR_X, XOR_Y, optimizer=SGD(lr=0.1), epochs=5, restarts=3, seed=2)
    assert hb.runs[0].train_loss == ha.train_loss


def test_l2_shrinks_the_weight_norm():
    rng = np.random.default_rng(2)
    X, Y = rng.normal(size=(40, 3)), rng.normal(size=40)

    def norm(l2, l2_bias=True):
        net = MLP([3, 8, 1], activation="tanh", seed=0)
        train(net, X, Y, optimizer=Adam(lr=0.01), batch_size=8, epochs=40, l2=l2, l2_bias=l2_bias)
        return net

    plain, reg = norm(0.0), norm(0.05)
    w = lambda net: sum(np.sum(net.params[k] ** 2) for k in net.params if k.startswith("W"))
    assert w(reg) < 0.7 * w(plain)
    assert np.sum(reg.params["b1"] ** 2) < np.sum(norm(0.05, l2_bias=False).params["b1"] ** 2)


def test_same_seed_gives_the_same_trajectory():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(30, 3)), rng.integers(0, 3, 30)

    def run(seed):
        net = MLP([3, 6, 3], activation="relu", loss="cross_entropy", seed=0)
        h = train(
            net,
            X,
            Y,
            optimizer=Momentum(lr=0.05, beta=0.9),
            batch_size=7,
            epochs=15,
            dropout=0.3,
            restarts=2,
            seed=seed,
        )
        return h, net.params

    (h1, p1), (h2, p2), (h3, _) = run(4), run(4), run(5)
    assert h1.train_loss == h2.train_loss and h1.runs[1].train_loss == h2.runs[1].train_loss
    for k in p1:
        np.testing.assert_array_equal(p1[k], p2[k])
    assert h3.train_loss != h1.train_loss


def test_dropout_trains_and_prediction_has_no_mask():
    net = MLP([2, 16, 1], activation="tanh", loss="bce", seed=0)
    train(net, XOR_X, XOR_Y, optimizer=Adam(lr=0.03), batch_size=4, epochs=400, dropout=0.2)
    first = net.predict(XOR_X)
    np.testing.assert_array_equal(first, net.predict(XOR_X))  # deterministic
    assert ((first.ravel() > 0.5) == XOR_Y).all()


@pytest.mark.parametrize(
    "make,l2",
    [
        (lambda: SGD(lr=0.1), 0.1),
        (lambda: Momentum(lr=0.1, beta=0.9), 0.0),
        (lambda: Momentum(lr=0.1, beta=0.9, heavy_ball=True), 0.0),
        (lambda: Adam(lr=0.05), 0.0),
        (lambda: Adam(lr=0.05), 0.01),
    ],
)
def test_dropout_leaves_the_weights_into_and_out_of_dropped_units_unchanged(monkeypatch, make, l2):
    # the lecture: "the weights on edges going into and out of dropped out nodes are not
    # updated", whatever the optimizer's memory or the L2 term would do to them
    masks, steps = [], []
    real_mask = train_mod.dropout_mask
    monkeypatch.setattr(train_mod, "dropout_mask", lambda *a, **k: masks.append(real_mask(*a, **k)) or masks[-1])
    opt = make()
    real_step = opt.step

    def step(params, grads, **kw):
        before = {k: v.copy() for k, v in params.items()}
        real_step(params, grads, **kw)
        steps.append((before, {k: v.copy() for k, v in params.items()}))

    monkeypatch.setattr(opt, "step", step)
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(12, 3)), rng.normal(size=12)
    net = MLP([3, 6, 5, 1], activation="tanh", seed=0)
    train(net, X, Y, optimizer=opt, batch_size=4, epochs=3, dropout=0.5, l2=l2, seed=0)
    assert len(steps) == 9 and len(masks) == 18
    for i, (before, after) in enumerate(steps):
        d1, d2 = masks[2 * i] == 0, masks[2 * i + 1] == 0
        assert d1.any() and d2.any()
        frozen = [("W1", np.s_[:, d1]), ("b1", d1), ("W2", np.s_[d1, :]), ("W2", np.s_[:, d2]), ("b2", d2), ("W3", d2)]
        for name, where in frozen:
            np.testing.assert_array_equal(after[name][where], before[name][where], err_msg=f"step {i} {name}")
        kept = np.ix_(~d1, ~d2)
        assert (after["W2"][kept] != before["W2"][kept]).all()  # the rest of the network learns


def test_nan_loss_stops_and_reports_the_epoch():
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(20, 2)) * 10, rng.normal(size=20) * 1e3
    net = MLP([2, 8, 1], activation="relu", seed=0)
    # it said nothing: a run that diverged returned as quietly as one that trained
    with pytest.warns(RuntimeWarning, match=r"^train: the training diverged in epoch 1: the training loss at the end "
                      r"of the epoch is inf; it stopped there and ends on the initial weights, its best finite ones "
                      r"\(a smaller lr may help\)$"):
        h = train(net, X, Y, optimizer=SGD(lr=10.0), batch_size=5, epochs=50)
    assert h.reason == "nan" and h.stopped_epoch < 50
    assert not np.isfinite(h.train_loss[-1]) and len(h.train_loss) == h.stopped_epoch
    assert all(np.isfinite(p).all() for p in net.params.values())  # fell back to finite weights
    assert "nan" in str(h) and f"epoch {h.stopped_epoch}" in str(h)


def _poisoned_step(monkeypatch, call, name, value):
    """Patch ``Plan.run`` so that the training step's plan (the one giving ``g_W1``) returns
    ``value(vals)`` as ``name`` on its ``call``-th call; the real ``Plan.run`` is returned."""
    from cgraph.passes.plan import Plan

    run, calls = Plan.run, []

    def poisoned(self, feeds, **kw):
        vals = run(self, feeds, **kw)
        if "g_W1" in vals:
            calls.append(1)
            if len(calls) == call:
                vals = {**vals, name: value(vals)}
        return vals

    monkeypatch.setattr(Plan, "run", poisoned)
    return run


def test_a_gradient_that_leaves_the_finite_numbers_under_a_finite_loss_stops_as_nan(monkeypatch):
    # Optimizer.step refuses a non-finite gradient; train takes one as the divergence a
    # non-finite loss is (reason "nan", finite weights kept), not as an error or a step
    _poisoned_step(monkeypatch, 3, "g_W1", lambda vals: np.full_like(vals["g_W1"], np.inf))
    rng = np.random.default_rng(0)
    net = MLP([2, 3, 1], activation="tanh", seed=0)
    with pytest.warns(RuntimeWarning, match=r"diverged in epoch 2: the gradient of 'W1' at step 3 is not finite; "
                      r"it stopped there and ends on epoch 1's weights"):
        h = train(net, rng.normal(size=(8, 2)), rng.normal(size=8), optimizer=Adam(lr=0.01), batch_size=4, epochs=5)
    assert h.reason == "nan" and h.stopped_epoch == 2 and h.steps == 2
    assert all(np.isfinite(p).all() for p in net.params.values())


def test_a_loss_that_leaves_the_finite_numbers_is_named_in_a_warning(monkeypatch):
    # a mini-batch's loss, or the validation loss at the end of an epoch; with restarts, the run
    from cgraph.passes.plan import Plan

    run = _poisoned_step(monkeypatch, 4, "loss", lambda vals: np.float64(np.nan))
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(8, 2)), rng.normal(size=8)
    net = MLP([2, 3, 1], activation="tanh", seed=0)
    with pytest.warns(RuntimeWarning, match=r"^train: run 0: the training diverged in epoch 2: the loss of the "
                      r"mini-batch of step 4 is nan; it stopped there and ends on epoch 1's weights"):
        h = train(net, X, Y, optimizer=SGD(lr=0.01), batch_size=4, epochs=5, restarts=2)
    assert h.runs[0].reason == "nan" and h.runs[1].reason == "max_epochs"
    monkeypatch.setattr(Plan, "run", run)
    with pytest.warns(RuntimeWarning, match=r"^train: the training diverged in epoch 1: the validation loss at the end "
                      r"of the epoch is inf; .* ends on the initial weights"):
        h = train(net, X, Y, optimizer=SGD(lr=0.01), epochs=5, validation=(X, Y * 1e200))
    assert h.reason == "nan" and h.stopped_epoch == 1 and h.val_loss == [np.inf]
    # with a validation set, a training loss that leaves the finite numbers stops the run too
    real_loss, losses = train_mod._loss, []
    monkeypatch.setattr(train_mod, "_loss", lambda n, A, B: (losses.append(A is X) or real_loss(n, A, B))
                        * (np.inf if A is X and sum(losses) == 2 else 1))
    with pytest.warns(RuntimeWarning, match=r"diverged in epoch 2: the training loss at the end of the epoch is inf"):
        h = train(net, X, Y, optimizer=SGD(lr=0.01), epochs=5, validation=(X.copy(), Y))
    assert h.reason == "nan" and h.stopped_epoch == 2 and h.train_loss[-1] == np.inf


def test_the_gradient_graph_is_built_once(monkeypatch):
    calls = []
    real = mlp_mod.adjoint
    monkeypatch.setattr(mlp_mod, "adjoint", lambda *a, **k: calls.append(k) or real(*a, **k))
    net = MLP([2, 3, 1], seed=0)
    for _ in range(2):  # restarts, steps and later calls all reuse it
        train(net, XOR_X, XOR_Y, optimizer=SGD(lr=0.1), batch_size=2, epochs=4, restarts=2, l2=0.1, dropout=0.1)
    assert len(calls) == 1 and calls[0]["of"] == "loss_aug"
    train(net, XOR_X, XOR_Y, optimizer=SGD(lr=0.1), batch_size=2, epochs=1)  # another configuration
    assert len(calls) == 2 and calls[1]["of"] == "loss"


def test_optimizer_state_is_reset_per_run():
    opt = Adam(lr=0.01)
    train(MLP([2, 1], seed=0), XOR_X, XOR_Y, optimizer=opt, batch_size=4, epochs=3, restarts=2)
    assert opt.t == 3  # the last run's steps only


def test_cross_entropy_with_integer_labels():
    rng = np.random.default_rng(5)
    centers = np.array([[0, 3], [3, 0], [-3, -3]])
    labels = rng.integers(0, 3, 60)
    X = centers[labels] + rng.normal(scale=0.5, size=(60, 2))
    net = MLP([2, 5, 3], activation="relu", loss="cross_entropy", seed=0)
    train(net, X, labels, optimizer=Adam(lr=0.05), batch_size=16, epochs=30)
    assert (net.predict(X).argmax(axis=1) == labels).mean() == 1.0


def test_progress_line_on_a_terminal(monkeypatch):
    class Tty(io.StringIO):
        def isatty(self):
            return True

    tty = Tty()
    monkeypatch.setattr("sys.stderr", tty)
    train(MLP([2, 1], seed=0), XOR_X, XOR_Y, optimizer=SGD(lr=0.1), epochs=3)
    out = tty.getvalue()
    assert out.count("\r") == 3 and out.endswith("\n") and out.count("\n") == 1
    assert "epoch 3/3" in out and "loss" in out
    tty.truncate(0)
    tty.seek(0)
    train(MLP([2, 1], seed=0), XOR_X, XOR_Y, optimizer=SGD(lr=0.1), epochs=3, verbose=False)
    assert tty.getvalue() == ""


def test_silent_when_not_a_terminal_unless_asked(capsys):
    train(MLP([2, 1], seed=0), XOR_X, XOR_Y, optimizer=SGD(lr=0.1), epochs=2)
    assert capsys.readouterr().err == ""
    train(
        MLP([2, 1], seed=0),
        XOR_X,
        XOR_Y,
        optimizer=SGD(lr=0.1),
        epochs=2,
        verbose=True,
        validation=(XOR_X, XOR_Y),
        restarts=2,
    )
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 4 and lines[0].startswith("run 1/2  epoch 1/2  loss") and "val" in lines[0]


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"patience": 0, "validation": (XOR_X, XOR_Y)}, "patience"),
        ({"patience": 3}, "validation set"),
        ({"dropout": 1.0}, "dropout"),
        ({"dropout": -0.1}, "dropout"),
        ({"batch_size": 0}, "batch_size"),
        ({"epochs": 0}, "epochs"),
        ({"restarts": 0}, "restarts"),
        ({"l2": -1.0}, "l2"),
        ({"min_delta": -1.0}, "min_delta"),
        ({"window": 0}, "window"),
        ({"optimizer": "adam"}, "optimizer"),
        ({"validation": (XOR_X,)}, "pair"),
    ],
)
def test_bad_arguments_raise_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        train(MLP([2, 1]), XOR_X, XOR_Y, **kwargs)
    assert isinstance(info.value, cg.CGraphError)


def test_mismatched_data_is_an_input_error():
    with pytest.raises(cg.InputError, match="4 rows.*3"):
        train(MLP([2, 1]), XOR_X, XOR_Y[:3])


def test_dropout_masks_are_inverted_and_seeded():
    from cgraph.nn import dropout_mask

    rng = np.random.default_rng(7)
    masks = np.array([dropout_mask(rng, 50, 0.3) for _ in range(400)])
    assert set(np.unique(masks)) == {0.0, 1 / 0.7}
    n = masks.size  # the mean stays 1 within 3 sigma of a scaled Bernoulli(0.7)
    assert abs(masks.mean() - 1.0) < 3 * np.sqrt(0.3 / 0.7 / n)
    np.testing.assert_array_equal(dropout_mask(rng, 5, 0.0), np.ones(5))
    a, b = dropout_mask(np.random.default_rng(1), 9, 0.5), dropout_mask(np.random.default_rng(1), 9, 0.5)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="dropout"):
        dropout_mask(rng, 3, 1.0)


def test_training_uses_net_params_even_if_replaced():
    net = MLP([2, 1], loss="bce", seed=0)
    net.params["W1"] = net.params["W1"].copy()  # breaks the graph's link to the array
    h = train(net, XOR_X, XOR_Y, optimizer=SGD(lr=0.5), batch_size=4, epochs=5)
    assert h.final_loss == pytest.approx(net.loss(XOR_X, XOR_Y), rel=1e-12)


def test_float32_network_trains_in_float32():
    net = MLP([2, 4, 1], activation="tanh", loss="bce", seed=0, dtype=np.float32)
    train(net, XOR_X, XOR_Y, optimizer=Adam(lr=0.05), batch_size=4, epochs=300)
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert ((net.predict(XOR_X).ravel() > 0.5) == XOR_Y).all()


def test_train_needs_an_mlp():
    with pytest.raises(cg.ArgumentError, match="MLP"):
        train(cg.Graph(), XOR_X, XOR_Y)


@pytest.mark.parametrize("seed", ["a", -1, 1.5])
def test_a_bad_training_seed_is_an_argument_error(seed):
    net = cg.nn.MLP([2, 3, 1], loss="bce", seed=0)
    with pytest.raises(cg.ArgumentError, match="seed must be an int >= 0"):
        cg.nn.train(net, np.ones((4, 2)), np.ones(4), epochs=1, seed=seed)


def test_a_history_without_validation_prints():
    # str(h) read val_loss[best_epoch - 1] although val_loss is empty without a validation
    # set: print(history) after the README's XOR run raised IndexError
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    h = train(MLP([2, 1], loss="bce", seed=0), X, [0, 1, 1, 1], optimizer=SGD(lr=0.5), batch_size=None, epochs=5)
    assert h.best_epoch == 5 and not h.val_loss
    assert str(h) == (f"History: run 0 stopped after epoch 5 (max_epochs); best epoch 5; "
                      f"final training loss {h.final_loss:.6g}")


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.random.default_rng(0), -1, 0.5), r"width must be an int >= 0, not -1"),  # numpy: negative dimensions
        ((np.random.default_rng(0), 2.5, 0.5), r"width must be an int >= 0, not 2.5"),  # numpy's TypeError
        ((0, 3, 0.5), r"needs a numpy Generator"),  # AttributeError: 'int' object has no attribute 'random'
        ((np.random.default_rng(0), 3, "a"), r"dropout must be a rate in \[0, 1\), not 'a'"),  # TypeError
        ((np.random.default_rng(0), 3, 0.3, "int64"), r"dtype must be a float dtype"),  # the scale 1/0.7 became 1
    ],
)
def test_dropout_mask_names_a_bad_argument(args, match):
    from cgraph.nn import dropout_mask

    with pytest.raises(cg.ArgumentError, match=match):
        dropout_mask(*args)


@pytest.mark.parametrize(("bad", "match"), [
    (np.array([[np.nan, 0.0, 0.0], [0.0, 0.0, 0.0]]), r"^param 'W1' is not finite \(nan at index \(0, 0\)\)$"),
    # an infinite weight saturates tanh: the loss stays finite, and training ran to
    # max_epochs into a network that predict then refused
    (np.array([[0.0, 0.0, 0.0], [0.0, -np.inf, 0.0]]), r"^param 'W1' is not finite \(-inf at index \(1, 1\)\)$"),
    (np.zeros((3, 3)), r"^param 'W1': expected shape \(2, 3\), got \(3, 3\)$"),
    ([[0.0, 0.0, 0.0], [0.0, 0.0, 0.0]], r"^param 'W1' must be a writable float numpy array .*, not a list$"),
    (np.zeros((2, 3), int), r"^param 'W1' must be a writable float numpy array .*, not an int64 array$"),
    ("x", r"^param 'W1': expected real numbers, got the text 'x'$"),
])
def test_weights_training_cannot_step_are_named_before_any_step(bad, match):
    # a NaN weight made the first epoch's loss NaN and train returned (reason "nan") with
    # the NaN weights kept; a list crashed with an AttributeError: predict and loss refuse
    # such weights with an InputError naming the param, and so does train, up front
    net = MLP([2, 3, 1], activation="tanh", loss="bce", seed=0)
    net.params["W1"] = bad
    before = {k: np.array(v) for k, v in net.params.items()}  # (copies)
    with pytest.raises(cg.InputError, match=match):
        train(net, XOR_X, XOR_Y, optimizer=Adam(lr=0.1), epochs=3, restarts=2)
    for k, v in before.items():
        np.testing.assert_array_equal(np.asarray(net.params[k]), v)


def test_dropout_on_a_network_without_hidden_units_is_an_argument_error():
    # input units are never dropped, so dropout=0.5 on MLP([2, 1]) trained exactly as
    # dropout=0, without a word: the regularisation asked for silently did not happen
    net = MLP([2, 1], loss="bce", seed=0)
    with pytest.raises(cg.ArgumentError, match=r"^dropout=0\.5 drops hidden units and MLP\(\[2, 1\], .* has no hidden"):
        train(net, XOR_X, XOR_Y, dropout=0.5, epochs=2)
    assert train(net, XOR_X, XOR_Y, dropout=0.0, epochs=2).stopped_epoch == 2
    assert train(MLP([2, 2, 1], loss="bce", seed=0), XOR_X, XOR_Y, dropout=0.5, epochs=2).stopped_epoch == 2


def _numpy_step_gradient(P, act, loss, X, Y, masks, l2):
    """The batch loss's gradient by hand-written numpy backprop (the lecture's L2:
    l2 * sum of every squared weight, biases included, so 2 * l2 * w)."""
    f, df = {"tanh": (np.tanh, lambda a: 1 - np.tanh(a) ** 2),
             "sigmoid": (lambda a: 1 / (1 + np.exp(-a)), lambda a: np.exp(-a) / (1 + np.exp(-a)) ** 2)}[act]
    L = len(P) // 2
    hs, pre = [X], []
    for k in range(1, L + 1):
        pre.append(hs[-1] @ P[f"W{k}"] + P[f"b{k}"])
        if k < L:
            hs.append(f(pre[-1]) * masks[k - 1])
    a = pre[-1]
    if loss == "mse":
        g = 2 * (a - Y) / a.size
    elif loss == "bce":
        g = (1 / (1 + np.exp(-a)) - Y) / a.size
    else:
        p = np.exp(a - a.max(1, keepdims=True))
        g = (p / p.sum(1, keepdims=True) * Y.sum(1, keepdims=True) - Y) / len(a)
    G = {}
    for k in range(L, 0, -1):
        G[f"W{k}"], G[f"b{k}"] = hs[k - 1].T @ g, g.sum(0)
        if k > 1:
            g = (g @ P[f"W{k}"].T) * masks[k - 2] * df(pre[k - 2])
    return {n: G[n] + 2 * l2 * P[n] for n in P}


def _numpy_optimizer(kind):
    """The lecture's update of one entry-wise state; frozen entries keep weight and state,
    their step count included."""
    lr, b, b1, b2, eps = 0.05, 0.8, 0.9, 0.999, 1e-8

    def step(w, g, s):
        s["k"] = s["k"] + 1
        if kind == "sgd":
            return w - lr * g
        if kind == "momentum":  # W - lr (beta G_{t-1} + G_t)
            w, s["G"] = w - lr * (b * s["G"] + g), g
            return w
        if kind == "heavy_ball":
            s["V"] = b * s["V"] + g
            return w - lr * s["V"]
        if kind == "rmsprop":
            s["S"] = b * s["S"] + (1 - b) * g * g
            return w - lr / (np.sqrt(s["S"]) + eps) * g
        s["M"], s["S"] = b1 * s["M"] + (1 - b1) * g, b2 * s["S"] + (1 - b2) * g * g
        return w - lr / (np.sqrt(s["S"] / (1 - b2 ** s["k"])) + eps) * (s["M"] / (1 - b1 ** s["k"]))

    def update(P, G, state, frozen):
        for n in P:
            s = state.setdefault(n, {k: np.zeros_like(P[n]) for k in ("k", "G", "V", "S", "M")})
            old = {k: v.copy() for k, v in s.items()}
            new = step(P[n], G[n], s)
            P[n] = np.where(frozen[n], P[n], new)
            for k in s:
                s[k] = np.where(frozen[n], old[k], s[k])

    return update


OPTIMIZERS = {
    "sgd": lambda: SGD(lr=0.05),
    "momentum": lambda: Momentum(lr=0.05, beta=0.8),
    "heavy_ball": lambda: Momentum(lr=0.05, beta=0.8, heavy_ball=True),
    "rmsprop": lambda: cg.nn.RMSProp(lr=0.05, beta=0.8),
    "adam": lambda: Adam(lr=0.05),
}


@pytest.mark.parametrize("kind", list(OPTIMIZERS))
@pytest.mark.parametrize("loss,act,l2,dropout", [("mse", "tanh", 0.0, 0.0), ("bce", "sigmoid", 0.03, 0.0),
                                                  ("cross_entropy", "tanh", 0.02, 0.5), ("mse", "sigmoid", 0.0, 0.4)])
def test_training_steps_match_numpy_backprop_and_the_lectures_updates(monkeypatch, kind, loss, act, l2, dropout):
    # every step of train: the batch gradient of the augmented loss by hand-written numpy
    # backprop through the same batch and dropout masks, and the optimizer's update
    # written out (dropped units' weights sitting the step out), from the same start
    from cgraph.passes.plan import Plan

    batches, real_run = [], Plan.run

    def run(self, feeds, **kw):
        out = real_run(self, feeds, **kw)
        if "g_W1" in out:
            batches.append({k: np.array(feeds[k]) for k in ("X", "Y", "M1", "M2") if k in feeds})
        return out

    monkeypatch.setattr(Plan, "run", run)
    rng = np.random.default_rng(11)
    X = rng.normal(size=(10, 3))
    Y = {"mse": rng.normal(size=(10, 2)), "bce": (rng.random((10, 2)) > 0.5) * 1.0,
         "cross_entropy": rng.integers(0, 2, 10)}[loss]
    net = MLP([3, 5, 4, 2], activation=act, loss=loss, seed=2)
    P = net.snapshot()
    h = train(net, X, Y, optimizer=OPTIMIZERS[kind](), batch_size=4, epochs=3, l2=l2, dropout=dropout, seed=5)
    assert h.steps == len(batches) == 9 and sum(len(b["X"]) for b in batches) == 30
    update, state = _numpy_optimizer(kind), {}
    for b in batches:
        masks = [b.get("M1", np.ones(5)), b.get("M2", np.ones(4))]
        if dropout:
            assert {v for m in masks for v in m} <= {0.0, 1 / (1 - dropout)}  # inverted dropout
        G = _numpy_step_gradient(P, act, loss, b["X"], b["Y"], masks, l2)
        d1, d2 = masks[0] == 0, masks[1] == 0
        frozen = {"W1": np.broadcast_to(d1, (3, 5)), "b1": d1, "W2": d1[:, None] | d2, "b2": d2,
                  "W3": np.broadcast_to(d2[:, None], (4, 2)), "b3": np.zeros(2, bool)}
        update(P, G, state, frozen)
    for n in P:
        np.testing.assert_allclose(net.params[n], P[n], rtol=1e-12, atol=1e-14, err_msg=n)


def test_the_batches_of_a_seed_do_not_depend_on_dropout_or_the_widths(monkeypatch):
    # the masks were drawn from the shuffling's generator: from epoch 2 on, a run with
    # dropout (or with other hidden widths) saw other mini-batches than the same seed
    # without, so a comparison of the two mixed the regulariser with the batch order
    from cgraph.passes.plan import Plan

    seen, real_run = [], Plan.run

    def run(self, feeds, **kw):
        out = real_run(self, feeds, **kw)
        if "g_W1" in out:
            seen[-1].append(feeds["X"][:, 0].copy())
        return out

    monkeypatch.setattr(Plan, "run", run)
    X, Y = np.arange(10.0)[:, None], np.zeros(10)
    for sizes, dropout in [([1, 3, 1], 0.0), ([1, 3, 1], 0.5), ([1, 8, 4, 1], 0.3)]:
        seen.append([])
        train(MLP(sizes, seed=0), X, Y, optimizer=SGD(lr=0.01), batch_size=4, epochs=4, dropout=dropout, seed=7)
    assert len(seen[0]) == 12 and all(sorted(np.concatenate(seen[0][i:i + 3])) == list(range(10)) for i in (0, 3, 6, 9))
    for other in seen[1:]:
        np.testing.assert_array_equal(np.concatenate(other), np.concatenate(seen[0]))
