"""The optimizers against the lecture's formulas, computed independently here."""

from __future__ import annotations

import re

import numpy as np
import pytest

import cgraph as cg
from cgraph.nn import SGD, Adam, Momentum, RMSProp

SHAPES = {"W1": (3, 4), "b1": (4,), "W2": (4, 1)}
STEPS = 25


def _params(rng):
    return {k: rng.normal(size=s) for k, s in SHAPES.items()}


def _grads(rng):
    return [{k: rng.normal(size=s) for k, s in SHAPES.items()} for _ in range(STEPS)]


def _run(opt, rng):
    params, grads = _params(rng), _grads(rng)
    start = {k: v.copy() for k, v in params.items()}
    ids = {k: id(v) for k, v in params.items()}
    trajectory = []
    for g in grads:
        opt.step(params, g)
        trajectory.append({k: v.copy() for k, v in params.items()})
    assert {k: id(v) for k, v in params.items()} == ids  # updated in place
    return start, grads, trajectory


def _compare(trajectory, expected, exact=False):
    for got, want in zip(trajectory, expected, strict=True):
        for k in SHAPES:
            if exact:  # the same formula, evaluated in the same order: the same bits
                np.testing.assert_array_equal(got[k], want[k])
            else:
                np.testing.assert_allclose(got[k], want[k], rtol=1e-10, atol=0)


def test_sgd_matches_formula():
    start, grads, traj = _run(SGD(lr=0.05), np.random.default_rng(1))
    w, expected = {k: v.copy() for k, v in start.items()}, []
    for g in grads:
        w = {k: w[k] - 0.05 * g[k] for k in w}  # W_{t+1} = W_t - eta G
        expected.append(w)
    _compare(traj, expected, exact=True)


def test_momentum_matches_the_lectures_formula():
    # the lecture: G_t is the batch gradient and W_{t+1} = W_t - eta (beta G_{t-1} + G_t), G_{-1} = 0
    lr, beta = 0.03, 0.8
    start, grads, traj = _run(Momentum(lr=lr, beta=beta), np.random.default_rng(2))
    w = {k: v.copy() for k, v in start.items()}
    g_prev = {k: np.zeros(s) for k, s in SHAPES.items()}
    expected = []
    for g in grads:
        w = {k: w[k] - lr * (beta * g_prev[k] + g[k]) for k in w}
        g_prev = g
        expected.append(w)
    _compare(traj, expected, exact=True)


def test_momentum_heavy_ball_option_accumulates_a_velocity():
    lr, beta = 0.03, 0.8
    start, grads, traj = _run(Momentum(lr=lr, beta=beta, heavy_ball=True), np.random.default_rng(2))
    w = {k: v.copy() for k, v in start.items()}
    v = {k: np.zeros(s) for k, s in SHAPES.items()}
    expected = []
    for g in grads:
        v = {k: beta * v[k] + g[k] for k in w}  # V_t = beta V_{t-1} + G_t (PyTorch's SGD momentum)
        w = {k: w[k] - lr * v[k] for k in w}
        expected.append(w)
    _compare(traj, expected, exact=True)


def test_momentum_forms_differ_from_the_third_step():
    g = [np.array([1.0]), np.array([1.0]), np.array([1.0])]
    lecture, heavy = np.zeros(1), np.zeros(1)
    a, b = Momentum(lr=1.0, beta=0.5), Momentum(lr=1.0, beta=0.5, heavy_ball=True)
    for gt in g:
        a.step({"w": lecture}, {"w": gt})
        b.step({"w": heavy}, {"w": gt})
    assert lecture.tolist() == [-(1 + 1.5 + 1.5)]  # beta G_{t-1} + G_t looks one step back
    assert heavy.tolist() == [-(1 + 1.5 + 1.75)]  # V_t sums every past gradient, decayed


def test_rmsprop_matches_formula():
    lr, beta, eps = 0.01, 0.9, 1e-8
    start, grads, traj = _run(RMSProp(lr=lr, beta=beta, eps=eps), np.random.default_rng(3))
    w = {k: v.copy() for k, v in start.items()}
    s = {k: np.zeros(sh) for k, sh in SHAPES.items()}
    expected = []
    for g in grads:
        s = {k: beta * s[k] + (1 - beta) * (g[k] * g[k]) for k in w}
        w = {k: w[k] - (lr / (np.sqrt(s[k]) + eps)) * g[k] for k in w}  # gamma / sqrt(S_t) (.) G_t
        expected.append(w)
    _compare(traj, expected, exact=True)


def test_adam_matches_formula_with_both_bias_corrections():
    lr, b1, b2, eps = 0.002, 0.85, 0.99, 1e-7
    opt = Adam(lr=lr, beta1=b1, beta2=b2, eps=eps)
    start, grads, traj = _run(opt, np.random.default_rng(4))
    w = {k: v.copy() for k, v in start.items()}
    m = {k: np.zeros(sh) for k, sh in SHAPES.items()}
    s = {k: np.zeros(sh) for k, sh in SHAPES.items()}
    expected = []
    for t, g in enumerate(grads):  # the lecture's t = 0, 1, ...; its corrections need t + 1
        m = {k: b1 * m[k] + (1 - b1) * g[k] for k in w}
        s = {k: b2 * s[k] + (1 - b2) * (g[k] * g[k]) for k in w}
        w = {k: w[k] - (lr / (np.sqrt(s[k] / (1 - b2 ** (t + 1))) + eps)) * (m[k] / (1 - b1 ** (t + 1))) for k in w}
        expected.append(w)
    _compare(traj, expected, exact=True)
    assert opt.t == STEPS


def test_first_adam_step_is_about_lr_times_sign():
    rng = np.random.default_rng(5)
    w0 = rng.normal(size=(5, 3))
    g = rng.normal(size=(5, 3)) * 10.0 ** rng.integers(-3, 4, size=(5, 3))
    w = w0.copy()
    Adam(lr=0.01).step({"w": w}, {"w": g})
    np.testing.assert_allclose(w0 - w, 0.01 * np.sign(g), rtol=1e-4)


def test_sgd_step_is_exact_and_momentum_two_steps_closed_form():
    w = np.array([1.0, -2.0])
    SGD(lr=0.5).step({"w": w}, {"w": np.array([0.25, 1.0])})
    assert w.tolist() == [0.875, -2.5]
    w, opt = np.array([0.0]), Momentum(lr=0.1, beta=0.5)
    g1, g2 = np.array([2.0]), np.array([-1.0])
    opt.step({"w": w}, {"w": g1})
    opt.step({"w": w}, {"w": g2})
    np.testing.assert_allclose(w, -0.1 * g1 - 0.1 * (0.5 * g1 + g2), rtol=1e-15)


@pytest.mark.parametrize(
    "make",
    [lambda: SGD(lr=0.1), lambda: Momentum(lr=0.1), lambda: Momentum(lr=0.1, heavy_ball=True), RMSProp, Adam],
)
def test_frozen_entries_keep_their_weights_and_state(make):
    # dropout's "weights on edges into and out of dropped nodes are not updated": frozen
    # entries sit the step out; the others move exactly as without freezing
    rng = np.random.default_rng(6)
    grads = [rng.normal(size=(3, 4)) for _ in range(4)]
    frozen = [rng.random((3, 4)) < 0.5 for _ in range(4)]
    free, part = make(), make()
    w_free, w_part = np.ones((3, 4)), np.ones((3, 4))
    for g, f in zip(grads, frozen, strict=True):
        before = w_part.copy()
        state = {k: v.copy() for k, v in part.state.get("w", {}).items()}
        part.step({"w": w_part}, {"w": g}, frozen={"w": f})
        np.testing.assert_array_equal(w_part[f], before[f])
        for k, v in part.state.get("w", {}).items():
            np.testing.assert_array_equal(v[f], state.get(k, np.zeros_like(v))[f], err_msg=k)
    # with nothing frozen, step(frozen=...) is step()
    for g in grads:
        free.step({"w": w_free}, {"w": g}, frozen={"w": np.zeros((3, 4), bool)})
    ref, w_ref = make(), np.ones((3, 4))
    for g in grads:
        ref.step({"w": w_ref}, {"w": g})
    np.testing.assert_array_equal(w_free, w_ref)


@pytest.mark.parametrize(
    "make",
    [lambda: SGD(lr=0.1), lambda: Momentum(lr=0.1), lambda: Momentum(lr=0.1, heavy_ball=True), RMSProp,
     lambda: Adam(lr=0.01), lambda: Adam(lr=0.01, beta1=0.5, beta2=0.8)],
)
def test_a_frozen_step_is_a_step_that_did_not_happen_for_the_entry(make):
    # each entry of a param stepped with frozen masks moves as the same optimizer moves it
    # over the steps it took part in alone. Adam's bias correction divided by 1 - beta^t
    # of the global t: an entry that sat out step 1 moved 0.74 lr on its first step, not
    # lr, and one kept half the time about 1.4x as far as Adam over its own steps
    rng = np.random.default_rng(9)
    grads = [rng.normal(size=(3, 4)) for _ in range(12)]
    frozen = [rng.random((3, 4)) < 0.5 for _ in range(12)]
    frozen[0][0, 0], frozen[1][0, 0] = True, False  # (0, 0) sits out the first step only
    frozen[3][:] = False  # a step where no entry of the param is frozen
    opt, w = make(), np.ones((3, 4))
    for g, f in zip(grads, frozen, strict=True):
        opt.step({"w": w}, {"w": g}, frozen={"w": f})
    for i, j in np.ndindex(3, 4):
        alone, v = make(), np.ones(1)
        for g, f in zip(grads, frozen, strict=True):
            if not f[i, j]:
                alone.step({"w": v}, {"w": g[i, j : j + 1]})
        np.testing.assert_array_equal(w[i, j], v[0], err_msg=f"entry {(i, j)}")


@pytest.mark.parametrize(
    "make",
    [lambda: SGD(lr=0.1), lambda: Momentum(lr=0.1), lambda: Momentum(lr=0.1, heavy_ball=True), RMSProp, Adam],
)
def test_gradients_that_are_the_param_arrays_themselves_are_read_before_the_step(make):
    # cg.adjoint's gradient of sum(w*v) + 0.5*sum(u^2) is g_w = v, g_v = w, g_u = u, and
    # evaluating it hands back the fed param arrays: updating w in place must not change
    # the gradient v is then stepped with (nor what Momentum keeps as the last gradient)
    g = cg.Graph()
    w, v, u = (g.param(n, shape=(2,)) for n in "wvu")
    g.output((cg.ops.sum(w * v) + 0.5 * cg.ops.sum(cg.ops.square(u))).named("loss"))
    gg = cg.nn.gradient_graph(g, ["w", "v", "u"], "loss")
    assert cg.to_text(gg, form="program").splitlines()[1:4] == ["g_w = v", "g_v = w", "g_u = u"]
    aliased, copied = make(), make()
    pa = {"w": np.array([1.0, 2.0]), "v": np.array([3.0, -4.0]), "u": np.array([0.5, -1.5])}
    pc = {k: a.copy() for k, a in pa.items()}
    for _ in range(3):
        grads = cg.evaluate(gg, **pa)
        assert grads["g_v"] is pa["w"]  # (what makes the aliasing)
        aliased.step(pa, {k: grads[f"g_{k}"] for k in pa})
        fresh = cg.evaluate(gg, **pc)
        copied.step(pc, {k: np.array(fresh[f"g_{k}"]) for k in pc})  # copies: no aliasing
    for k in pa:
        np.testing.assert_array_equal(pa[k], pc[k], err_msg=k)


def test_a_frozen_mask_of_the_wrong_shape_is_named():
    with pytest.raises(cg.ShapeError, match="'w'"):
        SGD(lr=0.1).step({"w": np.zeros(3)}, {"w": np.zeros(3)}, frozen={"w": np.zeros(2, bool)})


def test_state_is_per_param_and_reset_forgets():
    opt = Adam(lr=0.1)
    a, b = np.zeros(2), np.zeros(3)
    opt.step({"a": a, "b": b}, {"a": np.ones(2), "b": -np.ones(3)})
    assert opt.t == 1 and set(opt.state) == {"a", "b"}
    opt.reset()
    assert opt.t == 0 and opt.state == {}


def test_float32_params_are_updated_in_place():
    w = np.ones(3, dtype=np.float32)
    Momentum(lr=0.1, beta=0.9).step({"w": w}, {"w": np.ones(3)})
    assert w.dtype == np.float32
    np.testing.assert_allclose(w, 0.9)


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(lr=0),
        lambda: SGD(lr=-1),
        lambda: SGD(lr=float("nan")),
        lambda: SGD(lr="0.1"),
        lambda: Momentum(lr=0.1, beta=1.0),
        lambda: Momentum(lr=0.1, beta=-0.1),
        lambda: RMSProp(lr=0.1, beta=1.5),
        lambda: RMSProp(lr=0.1, eps=0.0),
        lambda: Adam(beta1=1.0),
        lambda: Adam(beta2=-0.5),
        lambda: Adam(eps=-1e-8),
        lambda: Adam(lr=float("inf")),
    ],
)
def test_invalid_hyperparameters_raise_value_error(make):
    with pytest.raises(ValueError) as info:
        make()
    assert isinstance(info.value, cg.CGraphError)


def test_bad_gradients_are_named():
    opt = SGD(lr=0.1)
    with pytest.raises(cg.InputError, match="'b'"):
        opt.step({"a": np.zeros(2), "b": np.zeros(2)}, {"a": np.zeros(2)})
    with pytest.raises(cg.ShapeError, match="'a'"):
        opt.step({"a": np.zeros(2)}, {"a": np.zeros(3)})
    assert opt.t == 0  # nothing was applied


@pytest.mark.parametrize("bad", [np.array(["x", "y"]), np.array([1j, 2j]), np.array([None, 1.0]), [[1.0], [1.0, 2.0]]],
                         ids=["str", "complex", "object", "ragged"])
def test_a_gradient_that_is_not_real_numbers_is_named(bad):
    # numpy's UFuncTypeError (str, complex), TypeError (None) or ValueError (ragged) came
    # out of the update, after the step count had moved
    opt = Adam(lr=0.1)
    w = np.zeros(2)
    with pytest.raises(cg.InputError, match="gradient of 'a'"):
        opt.step({"a": w}, {"a": bad})
    assert opt.t == 0 and not w.any()


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_a_gradient_that_is_not_finite_is_named_before_any_update(bad):
    # it turned the weights and the optimizer's state into nan/inf for good, silently
    opt = Adam(lr=0.1)
    a, b = np.zeros(2), np.zeros(3)
    with pytest.raises(cg.InputError, match=rf"Adam.step: gradient of 'b' is not finite \({bad}\)"):
        opt.step({"a": a, "b": b}, {"a": np.ones(2), "b": np.array([1.0, bad, 2.0])})
    assert opt.t == 0 and not a.any() and not b.any() and not opt.state


def test_repr_shows_hyperparameters():
    assert repr(Adam(lr=0.01)) == "Adam(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-08)"


@pytest.mark.parametrize("make", [Adam, RMSProp, Momentum, lambda: Momentum(heavy_ball=True)])
@pytest.mark.parametrize("shape", [(2, 3), (1,), (4,)])
def test_state_of_another_shape_is_named_before_any_update(make, shape):
    # an optimizer used for one network, then (without reset) for another whose W1 has
    # another shape, raised numpy's broadcast ValueError in the middle of the update, its
    # step count moved and part of its state scaled
    opt = make()
    opt.step({"w": np.zeros(3)}, {"w": np.ones(3)})
    state = {k: v.copy() for k, v in opt.state["w"].items()}
    w = np.zeros(shape)
    with pytest.raises(cg.ShapeError, match=r"state for param 'w' has shape \(3,\), the param " + re.escape(str(shape))):
        opt.step({"w": w}, {"w": np.ones(shape)})
    assert opt.t == 1 and not w.any() and all(np.array_equal(v, state[k]) for k, v in opt.state["w"].items())
    opt.reset()
    opt.step({"w": w}, {"w": np.ones(shape)})  # after reset() it starts over
    assert w.shape == shape and (w < 0).all()


@pytest.mark.parametrize(("params", "grads", "frozen"), [
    ([np.zeros(2)], [np.ones(2)], None), ({"w": np.zeros(2)}, [np.ones(2)], None), (np.zeros(2), np.ones(2), None),
    ({"w": np.zeros(2)}, None, None), ({"w": np.zeros(2)}, {"w": np.ones(2)}, [True, False]),
])
def test_params_grads_and_frozen_that_are_not_mappings_are_named(params, grads, frozen):
    # lists raised numpy's "truth value of an array is ambiguous", None a TypeError, a list
    # for frozen an AttributeError; an array for params listed its elements as names
    with pytest.raises(cg.InputError, match=r"SGD.step: (params|grads|frozen) must be a mapping from param names"):
        SGD(lr=0.1).step(params, grads, frozen=frozen)
