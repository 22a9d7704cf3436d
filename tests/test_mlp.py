"""MLPs as graphs: structure, metadata, forward values, and adjoint gradients vs finite differences."""

from __future__ import annotations

import itertools
import re
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import cgraph as cg
from cgraph.nn import MLP

ACTS = ["sigmoid", "tanh", "relu"]
LOSSES = ["mse", "bce", "cross_entropy"]
NP_ACT = {"sigmoid": lambda a: 1 / (1 + np.exp(-a)), "tanh": np.tanh, "relu": lambda a: np.maximum(a, 0)}


def _data(net, n, rng):
    X = rng.normal(size=(n, net.sizes[0]))
    k = net.sizes[-1]
    if net.loss_kind.name == "cross_entropy":
        Y = np.eye(k)[rng.integers(0, k, n)]
    elif net.loss_kind.name == "bce":
        Y = (rng.random((n, k)) > 0.5).astype(float)
    else:
        Y = rng.normal(size=(n, k))
    return X, Y


def _numpy_forward(net, X):
    h = X
    for k in range(1, net.depth + 1):
        a = h @ net.params[f"W{k}"] + net.params[f"b{k}"]
        h = NP_ACT[net.activation](a) if k < net.depth else a
    return a


def _max_rel_error(exact, approx):
    # relative where gradients are large, absolute where they are below 1
    return max(
        float(np.max(np.abs(exact[k] - approx[k]) / np.maximum(1.0, np.maximum(abs(exact[k]), abs(approx[k])))))
        for k in exact
    )


def _check(graph, feeds, wrt):
    """cg.check_gradients at rtol 1e-6 (atol 1e-9 for tiny entries); the hybrid error and the adjoint's gradient."""
    report = cg.check_gradients(graph, wrt=wrt, rtol=1e-6, atol=1e-9, **feeds)
    assert report.ok, str(report)
    exact = cg.grad(graph, wrt=wrt, **feeds)
    approx = cg.finite_difference(graph, wrt=wrt, **feeds)
    for k in wrt:
        assert exact[k].shape == approx[k].shape == np.shape(graph.attrs(k)["value"]), k
    return _max_rel_error(exact, approx), exact


# ---------------------------------------------------------------- structure and metadata
@pytest.mark.parametrize("loss", LOSSES)
def test_graph_structure_and_layer_metadata(loss):
    net = MLP([3, 5, 4, 2], activation="tanh", loss=loss, seed=0)
    g = net.graph
    assert g.inputs == ["X", "Y"]
    assert g.params == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert g.outputs == ["loss"] and g["loss"].shape == ()
    nodes = g.nx.nodes
    assert nodes["X"]["shape"] == (None, 3) and nodes["Y"]["shape"] == (None, 2)
    layers = {d["layer"]: n for n, d in nodes(data=True) if "layer" in d}
    assert sorted(layers) == [0, 1, 2, 3]
    assert layers[0] == "X" and layers[3] == "yhat"
    assert [nodes[layers[k]]["layer_kind"] for k in range(4)] == ["input", "hidden", "hidden", "output"]
    out_act = {"mse": "identity", "bce": "sigmoid", "cross_entropy": "softmax"}[loss]
    assert [nodes[layers[k]]["activation"] for k in range(4)] == ["identity", "tanh", "tanh", out_act]
    assert [nodes[layers[k]]["shape"][-1] for k in range(4)] == [3, 5, 4, 2]  # unit counts
    for k in (1, 2, 3):
        assert nodes[f"W{k}"]["weights"] == k and nodes[f"b{k}"]["bias"] == k
        assert nodes[f"W{k}"]["shape"] == (net.sizes[k - 1], net.sizes[k])
        assert nodes[f"b{k}"]["shape"] == (net.sizes[k],)
    pre = {d["preactivation"]: n for n, d in nodes(data=True) if "preactivation" in d}
    assert sorted(pre) == [1, 2, 3]
    assert pre[3] == ("yhat" if loss == "mse" else "a3")


def test_metadata_survives_the_adjoint_pass():
    net = MLP([2, 3, 1], seed=0)
    gg = cg.adjoint(net.graph, of="loss", wrt=list(net.params))
    assert gg.nx.nodes["z1"]["layer"] == 1 and gg.nx.nodes["W2"]["weights"] == 2


def test_params_are_the_live_arrays():
    net = MLP([2, 3, 1], seed=0)
    X = np.ones((2, 2))
    before = cg.evaluate(net.graph, X=X, Y=np.zeros((2, 1)))["yhat"]
    assert net.graph.attrs("W1")["value"] is net.params["W1"]
    net.params["b2"] += 1.0
    after = cg.evaluate(net.graph, X=X, Y=np.zeros((2, 1)))["yhat"]
    np.testing.assert_allclose(after, before + 1.0)
    np.testing.assert_allclose(net.predict(X), after)


# ---------------------------------------------------------------- initialisation
def test_initialisation_is_seeded_small_and_documented():
    a, b, c = MLP([4, 6, 3], seed=7), MLP([4, 6, 3], seed=7), MLP([4, 6, 3], seed=8)
    for k in a.params:
        np.testing.assert_array_equal(a.params[k], b.params[k])
    assert not np.array_equal(a.params["W1"], c.params["W1"])
    assert not a.params["b1"].any() and not a.params["b2"].any()
    assert np.abs(a.params["W1"]).max() <= np.sqrt(6 / (4 + 6))  # Glorot
    r = MLP([4, 6, 3], activation="relu", seed=1)
    assert np.abs(r.params["W1"]).max() <= np.sqrt(6 / 4)  # He for ReLU units
    assert np.abs(r.params["W1"]).max() > np.sqrt(6 / 10)
    assert np.abs(r.params["W2"]).max() <= np.sqrt(6 / (6 + 3))  # the output layer is not ReLU


def test_initialize_redraws_in_place():
    net = MLP([2, 3, 1], seed=0)
    W1 = net.params["W1"]
    old = W1.copy()
    net.initialize(1)
    assert net.params["W1"] is W1 and not np.array_equal(W1, old)


# ---------------------------------------------------------------- forward values
@pytest.mark.parametrize("act,loss", list(itertools.product(ACTS, LOSSES)))
def test_forward_matches_numpy(act, loss):
    rng = np.random.default_rng(3)
    net = MLP([3, 4, 2], activation=act, loss=loss, seed=2)
    X, Y = _data(net, 7, rng)
    a = _numpy_forward(net, X)
    if loss == "mse":
        yhat, want = a, np.mean((a - Y) ** 2)
    elif loss == "bce":
        yhat = 1 / (1 + np.exp(-a))
        want = np.mean(-Y * np.log(yhat) - (1 - Y) * np.log(1 - yhat))
    else:
        yhat = np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)
        want = np.mean(-np.sum(Y * np.log(yhat), axis=1))
    np.testing.assert_allclose(net.predict(X), yhat, rtol=1e-12)
    np.testing.assert_allclose(net.loss(X, Y), want, rtol=1e-12)


def test_loss_is_stable_at_saturated_outputs():
    for loss in ("bce", "cross_entropy"):
        net = MLP([1, 2], activation="relu", loss=loss, seed=0)
        net.params["W1"][...] = [[1000.0, -1000.0]]
        Y = np.array([[0.0, 1.0]])
        assert net.loss([[1.0]], Y) == pytest.approx(1000.0 if loss == "bce" else 2000.0)
        assert np.isfinite(cg.grad(net.graph, wrt=list(net.params), X=[[1.0]], Y=Y)["W1"]).all()


# ---------------------------------------------------------------- gradients
@pytest.mark.parametrize("act,loss", list(itertools.product(ACTS, LOSSES)))
def test_adjoint_gradient_matches_finite_differences(act, loss):
    rng = np.random.default_rng(10 * ACTS.index(act) + LOSSES.index(loss))
    sizes = [int(n) for n in rng.integers(1, 5, size=rng.integers(2, 5))]
    if loss == "cross_entropy":
        sizes[-1] = max(sizes[-1], 2)
    net = MLP(sizes, activation=act, loss=loss, seed=int(rng.integers(1000)))
    for p in net.params.values():  # non-zero biases: exercise every path
        p += rng.normal(scale=0.3, size=p.shape)
    X, Y = _data(net, int(rng.integers(1, 6)), rng)
    err, _ = _check(net.graph, {"X": X, "Y": Y}, list(net.params))
    assert err < 1e-6


@settings(max_examples=15, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 4), min_size=2, max_size=4),
    act=st.sampled_from(ACTS),
    loss=st.sampled_from(LOSSES),
    seed=st.integers(0, 2**16),
    batch=st.integers(1, 5),
)
def test_gradients_on_random_networks(sizes, act, loss, seed, batch):
    if loss == "cross_entropy":
        sizes[-1] = max(sizes[-1], 2)
    net = MLP(sizes, activation=act, loss=loss, seed=seed)
    rng = np.random.default_rng(seed)
    for p in net.params.values():  # zero biases put dead ReLUs' successors exactly on the kink
        p += rng.normal(scale=0.3, size=p.shape)
    X, Y = _data(net, batch, rng)
    if act == "relu":  # central differences straddling a kink are not a derivative
        pre = cg.evaluate(net.graph, X=X, Y=Y)
        assume(all(np.abs(pre[f"a{k}"]).min() > 1e-3 for k in range(1, net.depth)))
    err, _ = _check(net.graph, {"X": X, "Y": Y}, list(net.params))
    assert err < 1e-6


@pytest.mark.parametrize("l2_bias", [True, False])
def test_l2_augmented_loss_gradient(l2_bias):
    rng = np.random.default_rng(5)
    net = MLP([3, 4, 2], activation="tanh", loss="bce", seed=1)
    for p in net.params.values():
        p += rng.normal(scale=0.3, size=p.shape)
    lam = 0.37
    g = net.build(l2=lam, l2_bias=l2_bias)
    assert g.outputs == ["loss_aug"]
    X, Y = _data(net, 5, rng)
    err, exact = _check(g, {"X": X, "Y": Y}, list(net.params))
    assert err < 1e-6
    plain = cg.grad(net.graph, wrt=list(net.params), X=X, Y=Y)
    for k, w in net.params.items():  # d/dW (lambda * sum W^2) = 2 lambda W
        extra = 2 * lam * w if (l2_bias or k.startswith("W")) else 0.0
        np.testing.assert_allclose(exact[k], plain[k] + extra, rtol=1e-12, atol=1e-14)
    penalty = sum(np.sum(w**2) for k, w in net.params.items() if l2_bias or k.startswith("W"))
    np.testing.assert_allclose(cg.evaluate(g, X=X, Y=Y)["loss_aug"], net.loss(X, Y) + lam * penalty, rtol=1e-13)


def test_dropout_mask_gives_dropped_units_zero_gradient():
    rng = np.random.default_rng(6)
    net = MLP([3, 5, 4, 2], activation="sigmoid", loss="cross_entropy", seed=2)
    g = net.build(dropout=True)
    assert g.inputs == ["X", "Y", "M1", "M2"]
    X, Y = _data(net, 6, rng)
    M1 = np.array([2.0, 0.0, 2.0, 0.0, 2.0])  # p = 0.5, inverted scaling
    M2 = np.array([0.0, 2.0, 2.0, 2.0])
    feeds = {"X": X, "Y": Y, "M1": M1, "M2": M2}
    err, d = _check(g, feeds, list(net.params))
    assert err < 1e-6
    for k, mask in ((1, M1), (2, M2)):
        dropped = mask == 0
        assert not d[f"W{k}"][:, dropped].any()  # incoming weights
        assert not d[f"b{k}"][dropped].any()
        assert not d[f"W{k + 1}"][dropped, :].any()  # outgoing weights
    # and nothing else is zero: W2 is zero exactly on dropped rows (layer 1) and columns (layer 2)
    expected_zero = (M1 == 0)[:, None] | (M2 == 0)[None, :]
    np.testing.assert_array_equal(d["W2"] == 0, expected_zero)
    assert d["W1"][:, M1 != 0].all() and d["W3"][M2 != 0, :].all()
    ones = {"M1": np.ones(5), "M2": np.ones(4)}  # a mask of ones is the plain network
    np.testing.assert_allclose(cg.evaluate(g, X=X, Y=Y, **ones)["loss"], net.loss(X, Y), rtol=1e-14)


# ---------------------------------------------------------------- data and arguments
def test_targets_accept_labels_and_columns():
    net = MLP([2, 3], loss="cross_entropy", seed=0)
    np.testing.assert_array_equal(net.targets([2, 0]), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(cg.InputError, match="0..2"):
        net.targets([3])
    one = MLP([1, 1], seed=0)
    assert one.targets([1, 2]).shape == (2, 1) and one.features([1, 2]).shape == (2, 1)
    with pytest.raises(cg.InputError, match="'X'"):
        net.predict(np.ones((2, 3)))
    with pytest.raises(cg.InputError, match="'Y'"):
        net.loss(np.ones((2, 2)), np.ones((2, 2)))


@pytest.mark.parametrize(
    ("X", "Y", "match"),
    [
        ([[1.0, np.nan]], [1.0], r"input 'X' is not finite \(nan at index \(0, 1\)\)$"),
        ([[1.0, 2.0]], [np.inf], r"input 'Y' is not finite \(inf at index \(0,\)\)$"),
        ([["a", "b"]], [1.0], "input 'X': expected real numbers"),
        ([[1.0, None]], [1.0], "input 'X': expected real numbers, got None"),
        ([[1.0, 2.0]], [[1.0, 10**400]], "input 'Y': 1000+[.]{3} is too large for a float"),
    ],
)
def test_data_that_is_not_finite_real_numbers_is_an_input_error(X, Y, match):
    net = MLP([2, 3, 1], seed=0)
    with pytest.raises(cg.InputError, match=match):
        cg.nn.train(net, X, Y, epochs=1)
    if "'X'" in match:
        with pytest.raises(cg.InputError, match=match):
            net.predict(X)


def test_float32_network():
    net = MLP([2, 3, 1], activation="relu", seed=0, dtype=np.float32)
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert net.graph.attrs("W1")["value"] is net.params["W1"]
    assert net.predict(np.ones((2, 2))).dtype == np.float32


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"sizes": [2, 0, 1]}, "hidden layer 1 has zero width"),
        ({"sizes": [0, 1]}, "input has zero width"),
        ({"sizes": [2, 3, 0]}, "output has zero width"),
        ({"sizes": [2]}, "at least two"),
        ({"sizes": [2, 1.5]}, "not an int"),
        ({"sizes": 3}, "sequence"),
        ({"sizes": [2, 1], "activation": "gelu"}, "unknown activation 'gelu'"),
        ({"sizes": [2, 1], "loss": "hinge"}, "unknown loss 'hinge'"),
        ({"sizes": [2, 1], "dtype": np.int32}, "float64 or float32"),
        # a dtype numpy does not know, and names that are not strings, raised numpy's and
        # Python's TypeError (unhashable type: 'list')
        ({"sizes": [2, 1], "dtype": "foo"}, "float64 or float32, not 'foo'"),
        ({"sizes": [2, 1], "activation": ["relu"]}, r"unknown activation \['relu'\]"),
        ({"sizes": [2, 1], "loss": ["mse"]}, r"unknown loss \['mse'\]"),
    ],
)
def test_bad_arguments_raise_value_errors(kwargs, match):
    with pytest.raises(ValueError, match=match) as info:
        MLP(**kwargs)
    assert isinstance(info.value, cg.ArgumentError)


@pytest.mark.parametrize("l2", [-0.1, float("nan"), float("inf"), "a", None, True])
def test_an_l2_that_is_not_a_finite_number_above_0_is_rejected(l2):
    with pytest.raises(cg.ArgumentError, match=r"l2 must be a finite number >= 0"):
        MLP([2, 1]).build(l2=l2)


def test_repr_and_snapshot():
    net = MLP([2, 3, 1], activation="relu", loss="bce")
    assert repr(net) == "MLP([2, 3, 1], activation='relu', loss='bce')"
    snap = net.snapshot()
    net.params["W1"] += 1
    net.restore(snap)
    np.testing.assert_array_equal(net.params["W1"], snap["W1"])


@pytest.mark.parametrize("act,loss", list(itertools.product(ACTS, LOSSES)))
def test_simplified_gradient_graph_matches_the_adjoint_and_finite_differences(act, loss):
    rng = np.random.default_rng(20 + 3 * ACTS.index(act) + LOSSES.index(loss))
    net = MLP([3, 4, 3, 2], activation=act, loss=loss, seed=1)
    for p in net.params.values():
        p += rng.normal(scale=0.3, size=p.shape)
    X, Y = _data(net, 5, rng)
    feeds = {"X": X, "Y": Y, "M1": np.array([0.0, 2.0, 2.0, 2.0]), "M2": np.array([2.0, 0.0, 2.0])}
    g = net.build(l2=0.05, dropout=True)
    sg = net.gradient_graph(l2=0.05, dropout=True)
    assert sg.outputs == ["loss_aug", "g_W1", "g_b1", "g_W2", "g_b2", "g_W3", "g_b3"]
    ops = lambda h: sum(1 for _, r in h.nx.nodes(data="role") if r == "op")
    assert ops(sg) < ops(cg.adjoint(g, wrt=list(net.params), of="loss_aug"))
    values = cg.evaluate(sg, feeds)
    exact = cg.grad(g, wrt=list(net.params), **feeds)
    approx = cg.finite_difference(g, wrt=list(net.params), **feeds)
    np.testing.assert_allclose(values["loss_aug"], cg.evaluate(g, feeds)["loss_aug"], rtol=1e-14)
    for k in net.params:
        np.testing.assert_allclose(values[f"g_{k}"], exact[k], rtol=1e-12, atol=1e-15)
    assert _max_rel_error({k: values[f"g_{k}"] for k in net.params}, approx) < 1e-6


@pytest.mark.parametrize("seed", ["a", -1, 1.5])
def test_a_bad_seed_is_an_argument_error(seed):
    with pytest.raises(cg.ArgumentError, match="seed must be an int >= 0"):
        cg.nn.MLP([2, 3, 1], seed=seed)


def test_sizes_given_as_text_are_refused_as_a_whole():
    with pytest.raises(cg.ArgumentError, match=r"MLP sizes must be a sequence of layer widths such as \[2, 4, 1\], not '2,4,1'"):
        cg.nn.MLP("2,4,1")


def test_perceptron_units_compute_xor_with_weights_set_by_hand():
    # the lecture: "any function that can be decomposed into perceptrons can be modelled
    # exactly using a 3-layer MLP"; no activation made the hidden units perceptrons
    net = cg.nn.MLP([2, 2, 1], activation="step", loss="mse")
    net.params["W1"][...] = [[1.0, 1.0], [1.0, 1.0]]
    net.params["b1"][...] = [-0.5, -1.5]  # OR and AND
    net.params["W2"][...] = [[1.0], [-1.0]]  # OR and not AND
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    assert net.predict(X).ravel().tolist() == [0.0, 1.0, 1.0, 0.0]
    assert net.loss(X, [0, 1, 1, 0]) == 0.0
    g = cg.grad(net.graph, X=X, Y=np.array([[1.0], [0.0], [0.0], [1.0]]), **net.params)
    assert not g["W1"].any() and g["W2"].any()  # a step passes no gradient back
    assert "hidden 1 (step)" in cg.to_dot(net.graph, style="network").to_string()


def test_the_loss_of_no_rows_is_an_input_error():
    # net.loss of empty data raised a DomainError, the mean of nothing, ending "pass
    # nonfinite='propagate'", an argument MLP.loss does not take; train says "X has no rows"
    net = MLP([2, 3], seed=0)
    with pytest.raises(cg.InputError, match="^X has no rows$"):
        net.loss(np.ones((0, 2)), np.ones((0, 3)))
    assert net.predict(np.ones((0, 2))).shape == (0, 3)  # a prediction of no rows is no rows


def test_errors_of_the_loss_do_not_suggest_an_argument_it_lacks():
    net = MLP([1, 1], seed=0)
    net.params["W1"][...] = 1e200
    with pytest.raises(cg.DomainError, match=r"is not finite.*[^)]$") as info:
        net.loss([[1e200]], [[0.0]])
    assert "nonfinite" not in str(info.value)
    net.params["W1"][...] = 1e300
    with pytest.raises(cg.DomainError, match="matmul") as info:
        net.predict([[1e300]])
    assert "nonfinite" not in str(info.value)


def test_cross_entropy_over_one_output_unit_is_refused():
    # a softmax over one unit is 1 whatever the weights: the loss and its gradient were
    # 0, so training silently did nothing
    with pytest.raises(cg.ArgumentError, match=r"cross_entropy' needs at least 2 output units.*loss='bce'"):
        MLP([2, 3, 1], loss="cross_entropy")
    assert MLP([2, 2], loss="cross_entropy").sizes == (2, 2)


def test_a_huge_class_label_is_an_input_error_without_a_numpy_warning():
    net = MLP([2, 3], loss="cross_entropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # casting 1e30 to int64 warned "invalid value encountered in cast"
        with pytest.raises(cg.InputError, match=r"class labels must be integers in 0\.\.2"):
            net.targets([0, 1e30])



def test_a_wrong_class_label_is_named_as_a_wrong_target_is():
    # the message said only "class labels must be integers in 0..2", not which label of
    # the batch was wrong, where bce names it (Y[2, 0] = 2)
    net = MLP([2, 3], loss="cross_entropy")
    for Y, at in (([0, 1, 2, 3], "Y[3] = 3 (1 of 4 not)"), ([0, -1, 2, -2], "Y[1] = -1 (2 of 4 not)"),
                  ([0, 1.5, 2], "Y[1] = 1.5 (1 of 3 not)")):
        with pytest.raises(cg.InputError, match=re.escape(
                f"input 'Y': class labels must be integers in 0..2 (or give one-hot rows of 3), got {at}")):
            net.targets(Y)
    with pytest.raises(cg.InputError, match=re.escape("got Yv[0] = 7")):
        net.targets([7], name="Yv")


def test_class_labels_given_as_a_column_are_told_to_go_as_a_1d_array():
    # Y.reshape(-1, 1), sklearn's habit, said only "expected shape (batch, 3), got (4, 1)"
    net = MLP([2, 3], loss="cross_entropy")
    with pytest.raises(cg.InputError, match=re.escape(
            "input 'Yv': expected shape (batch, 3), got (4, 1) (class labels go as a 1-D array of 4: Yv.ravel())")):
        net.targets(np.array([[0], [1], [2], [0]]), name="Yv")
    for loss, sizes in (("cross_entropy", [2, 3]), ("mse", [2, 2])):  # rows of another width: no such hint
        with pytest.raises(cg.InputError, match=r"got \(4, 2\)$" if loss == "cross_entropy" else r"got \(4, 1\)$"):
            MLP(sizes, loss=loss).targets(np.zeros((4, 2 if loss == "cross_entropy" else 1)))

def test_data_beyond_float32_is_an_input_error_naming_it():
    # the cast to float32 made 1e39 an infinity: a RuntimeWarning, then an error that
    # called the user's finite 1e39 "not finite (inf ...)", or a mse target turned inf
    net = MLP([2, 1], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(cg.InputError, match=r"input 'X': 1e\+39 at index \(0, 1\) is beyond .* float32"):
            net.predict([[0.0, 1e39]])
        with pytest.raises(cg.InputError, match=r"input 'Y': -1e\+300 at index \(1, 0\) is beyond .* float32"):
            cg.nn.train(net, [[0.0, 1.0], [1.0, 0.0]], [1.0, -1e300], epochs=1)
    assert net.predict([[0.0, 1e30]]).dtype == np.float32


def test_restore_names_a_param_the_network_lacks_or_a_wrong_shape_and_writes_nothing():
    # these were numpy's ValueError (could not broadcast) and a bare KeyError
    net = MLP([2, 3, 1])
    before = net.snapshot()
    with pytest.raises(cg.InputError, match=r"param 'W2' has shape \(3, 1\), the snapshot gives \(1, 3\)"):
        net.restore({"W1": np.zeros((2, 3)), "W2": np.zeros((1, 3))})
    with pytest.raises(cg.InputError, match=r"no param 'W3'"):
        net.restore({"W3": np.zeros((2, 3))})
    for k, v in before.items():
        np.testing.assert_array_equal(net.params[k], v)


@pytest.mark.parametrize("l2", ["x", [1], None])
def test_gradient_graph_names_an_l2_that_is_no_number(l2):
    # its cache key took float(l2) first: Python's ValueError / TypeError
    with pytest.raises(cg.ArgumentError, match=r"l2 must be a finite number >= 0"):
        MLP([2, 3, 1]).gradient_graph(l2=l2)


def test_gradient_graph_takes_one_name_as_wrt():
    # list("W1") is ['W', '1']: "wrt 'W' is not a node"
    net = MLP([2, 3, 1])
    assert cg.nn.gradient_graph(net.graph, "W1", "loss").outputs == ["loss", "g_W1"]
