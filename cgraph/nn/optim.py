"""The lecture's optimizers: SGD, momentum, RMSProp and Adam.

Each optimizer updates the parameter arrays *in place* from gradients (both
``{name: array}``) and keeps its own state per parameter name: the step count ``t``
(Adam: per entry too, once entries are frozen) and, by kind, the previous gradient ``G`` (or the velocity ``V``), the scaling factor
``S``, the first moment ``M``. The formulas are the lecture's, evaluated in the
lecture's order (a hand implementation of the slide's formula gives the same bits),
with ``eps`` added where a division needs it. Where a convention differs from
PyTorch's, the class says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..checks import all_finite, finite_number, flag, shown
from ..errors import ArgumentError, InputError, ShapeError

__all__ = ["SGD", "Adam", "Momentum", "Optimizer", "RMSProp"]


class Optimizer:
    """Base class: ``step(params, grads)`` updates ``params`` in place; ``reset()`` forgets.

    Subclasses implement ``_update(name, w, g)`` for one parameter array.
    """

    #: keep a per-entry step count ``state[name]["t"]`` once entries of ``name`` are frozen
    _counts_steps = False

    def __init__(self, lr: float) -> None:
        self.lr = _positive("lr", lr)
        self.t = 0
        self.state: dict[str, dict[str, np.ndarray]] = {}

    def step(
        self,
        params: Mapping[str, np.ndarray],
        grads: Mapping[str, Any],
        *,
        frozen: Mapping[str, Any] | None = None,
    ) -> None:
        """Update every array of ``params`` in place from ``grads`` (one step, ``t += 1``).

        ``frozen`` maps a param name to a boolean array of its shape: the entries marked
        ``True`` sit this step out, keeping their weight *and* their optimizer state
        (training with dropout freezes the weights into and out of the dropped units,
        as the lecture asks): for each entry, the step did not happen. For ``Adam``
        that includes the step count of its bias correction, which from an entry's first
        frozen step on is counted per entry. The other entries move exactly as without
        ``frozen``.

        Every update reads the gradients as given, before any param moves, even when a
        gradient is a param array itself (``g_v = w``, as ``cg.adjoint`` gives for
        ``sum(w*v)``).
        """
        for what, given in (("params", params), ("grads", grads), ("frozen", {} if frozen is None else frozen)):
            if not isinstance(given, Mapping):
                raise InputError(
                    f"{type(self).__name__}.step: {what} must be a mapping from param names to arrays "
                    f"({{'W1': ...}}), not {type(given).__name__}"
                )
        missing = [k for k in params if k not in grads]
        if missing:
            raise InputError(f"{type(self).__name__}.step: no gradient for param(s) {', '.join(map(repr, missing))}")
        checked = {}
        for name, w in params.items():
            try:
                g = np.asarray(grads[name])
            except (TypeError, ValueError):  # a ragged list
                g = None
            if g is None or g.dtype.kind not in "biuf":
                raise InputError(
                    f"{type(self).__name__}.step: gradient of {name!r} must be real numbers, not {shown(grads[name])}"
                )
            if g.shape != np.shape(w):
                raise ShapeError(
                    f"{type(self).__name__}.step: gradient of {name!r} has shape {g.shape}, param {np.shape(w)}"
                )
            if not isinstance(w, np.ndarray) or w.dtype.kind != "f" or not w.flags.writeable:
                raise InputError(f"{type(self).__name__}.step: param {name!r} must be a writable float numpy array")
            if not all_finite(g):  # it would turn the weights (and the state) into nan/inf for good
                bad = g.flat[np.flatnonzero(~np.isfinite(g))[0]]
                raise InputError(f"{type(self).__name__}.step: gradient of {name!r} is not finite ({bad}); "
                                 "no param was changed")
            for slot in self.state.get(name, {}).values():
                if slot.shape != w.shape:  # the state of another network's param of that name
                    raise ShapeError(
                        f"{type(self).__name__}.step: the state for param {name!r} has shape {slot.shape}, the param "
                        f"{w.shape}: call reset() before stepping another network"
                    )
            checked[name] = g
        # A gradient may be a param array itself: cg.adjoint's gradient of sum(w*v) is
        # g_w = v, g_v = w (and of 0.5*sum(w^2), g_w = w), and evaluating it returns the fed
        # arrays. Updating w in place would then change v's gradient (and what Momentum
        # remembers as G_{t-1}) before it is used: every update must read the gradients
        # of the weights before the step, so such gradients are copied first.
        arrays = list(params.values())
        for name, g in checked.items():
            if any(np.may_share_memory(g, w) for w in arrays):
                checked[name] = g.copy()
        masks = {}
        for name, f in (frozen or {}).items():
            if name not in params:
                raise InputError(f"{type(self).__name__}.step: frozen names no param {name!r}")
            f = np.asarray(f, dtype=bool)
            if f.shape != np.shape(params[name]):
                raise ShapeError(
                    f"{type(self).__name__}.step: frozen mask of {name!r} has shape {f.shape}, param {np.shape(params[name])}"
                )
            if f.any():
                masks[name] = f
        self.t += 1
        for name, w in params.items():
            f = masks.get(name)
            if f is not None and self._counts_steps and "t" not in self.state.get(name, {}):
                # from now on the entries of this param may have taken different numbers of steps
                self.state.setdefault(name, {})["t"] = np.full(w.shape, self.t - 1, np.int64)
            counts = self.state.get(name, {}).get("t")
            if f is None:
                if counts is not None:
                    counts += 1
                self._update(name, w, checked[name])
                continue
            w_before = w[f]
            state_before = {k: v[f] for k, v in self.state.get(name, {}).items()}
            if counts is not None:
                counts += 1  # (the frozen entries get their count back below)
            self._update(name, w, checked[name])
            w[f] = w_before
            for k, v in self.state.get(name, {}).items():
                v[f] = state_before.get(k, 0.0)  # a slot born this step started at 0

    def reset(self) -> None:
        """Forget the state (``t = 0``, no velocities or scaling factors)."""
        self.t = 0
        self.state = {}

    def _slot(self, name: str, key: str, like: np.ndarray) -> np.ndarray:
        # the lecture's G_{-1} = 0 (.) W, S_{-1} = 0 (.) W
        return self.state.setdefault(name, {}).setdefault(key, np.zeros(np.shape(like), np.result_type(like, 0.0)))

    def _update(self, name: str, w: np.ndarray, g: np.ndarray) -> None:
        raise NotImplementedError

    def _hyper(self) -> dict[str, Any]:
        return {"lr": self.lr}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._hyper().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """Mini-batch stochastic gradient descent.

    ``W <- W - lr * G``: the lecture's ``W_{t+1} = W_t - eta * G``.

    Examples
    --------
    >>> import numpy as np, cgraph as cg
    >>> w = np.array([1.0, 2.0])
    >>> cg.nn.SGD(lr=0.1).step({"w": w}, {"w": np.array([1.0, -1.0])})
    >>> w
    array([0.9, 2.1])
    """

    def __init__(self, lr: float = 0.1) -> None:
        super().__init__(lr)

    def _update(self, name: str, w: np.ndarray, g: np.ndarray) -> None:
        w -= self.lr * g


class Momentum(Optimizer):
    """Mini-batch SGD with momentum, as the lecture writes it.

    ``W_{t+1} = W_t - lr * (beta * G_{t-1} + G_t)`` with ``G_{-1} = 0``, where ``G_t`` is
    the gradient of step ``t`` (the lecture's step b): each step adds ``beta`` times the
    *previous gradient*, a one-step look-back.

    ``heavy_ball=True`` gives the textbook (Polyak) form instead, which PyTorch's
    ``SGD(momentum=beta)`` implements: ``V_t = beta * V_{t-1} + G_t``,
    ``W_{t+1} = W_t - lr * V_t``, ``V_{-1} = 0``; ``V`` sums every past gradient,
    decayed. The two agree on the first two steps and differ from the third: for a
    constant gradient ``G`` the lecture's step tends to ``lr (1 + beta) G``, the heavy
    ball's to ``lr G / (1 - beta)``.

    Examples
    --------
    >>> import numpy as np, cgraph as cg
    >>> w, opt = np.array([0.0]), cg.nn.Momentum(lr=1.0, beta=0.5)
    >>> for _ in range(3):
    ...     opt.step({"w": w}, {"w": np.array([1.0])})
    >>> w  # -(1) - (0.5*1 + 1) - (0.5*1 + 1)
    array([-4.])
    >>> w, opt = np.array([0.0]), cg.nn.Momentum(lr=1.0, beta=0.5, heavy_ball=True)
    >>> for _ in range(3):
    ...     opt.step({"w": w}, {"w": np.array([1.0])})
    >>> w  # -(1) - (0.5*1 + 1) - (0.5*1.5 + 1)
    array([-4.25])
    """

    def __init__(self, lr: float = 0.01, beta: float = 0.9, *, heavy_ball: bool = False) -> None:
        super().__init__(lr)
        self.beta = _decay("beta", beta)
        self.heavy_ball = flag(heavy_ball, "heavy_ball")

    def _update(self, name: str, w: np.ndarray, g: np.ndarray) -> None:
        if self.heavy_ball:
            v = self._slot(name, "V", w)
            v *= self.beta
            v += g
            w -= self.lr * v
        else:
            g_prev = self._slot(name, "G", w)
            w -= self.lr * (self.beta * g_prev + g)
            g_prev[...] = g

    def _hyper(self) -> dict[str, Any]:
        return {"lr": self.lr, "beta": self.beta, **({"heavy_ball": True} if self.heavy_ball else {})}


class RMSProp(Optimizer):
    """Root-mean-square propagation.

    ``S_t = beta * S_{t-1} + (1 - beta) * G_t (.) G_t``,
    ``W_{t+1} = W_t - lr / (sqrt(S_t) + eps) (.) G_t``: the lecture's
    ``W_{t+1} = W_t - gamma / sqrt(S_t) (.) G_t`` (``gamma`` is ``lr``) with ``eps``
    outside the square root guarding the division, ``S_{-1} = 0``, and no bias
    correction (so the first step is ``lr / sqrt(1 - beta)`` times ``sign(G)``). This is
    also PyTorch's ``RMSprop(alpha=beta)``.

    Examples
    --------
    >>> import numpy as np, cgraph as cg
    >>> w = np.array([0.0])
    >>> cg.nn.RMSProp(lr=0.1, beta=0.75, eps=1e-12).step({"w": w}, {"w": np.array([3.0])})
    >>> np.round(w, 6)  # -0.1 * 3 / sqrt(0.25 * 9)
    array([-0.2])
    """

    def __init__(self, lr: float = 0.001, beta: float = 0.9, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta = _decay("beta", beta)
        self.eps = _positive("eps", eps)

    def _update(self, name: str, w: np.ndarray, g: np.ndarray) -> None:
        s = self._slot(name, "S", w)
        s *= self.beta
        s += (1 - self.beta) * (g * g)
        w -= (self.lr / (np.sqrt(s) + self.eps)) * g

    def _hyper(self) -> dict[str, float]:
        return {"lr": self.lr, "beta": self.beta, "eps": self.eps}


class Adam(Optimizer):
    """Adaptive moment estimation: SGD + momentum + RMSProp, with bias correction.

    ``M_t = beta1 M_{t-1} + (1 - beta1) G_t``, ``S_t = beta2 S_{t-1} + (1 - beta2) G_t (.) G_t``,
    ``W_{t+1} = W_t - lr / (sqrt(S_t / (1 - beta2^k)) + eps) (.) (M_t / (1 - beta1^k))``:
    the lecture's ``W_{t+1} = W_t - eta / sqrt(S_t / (1 - beta2^t)) (.) (M_t / (1 - beta1^t))``
    with ``eps`` outside the square root (as PyTorch and Kingma & Ba place it).

    The exponent ``k`` is the number of steps taken *including this one* (``self.t``
    after the step: 1 on the first). The slide's ``t`` starts at 0, and read literally
    its first step would divide by ``1 - beta^0 = 0``; its ``t`` in the correction is the
    step count of Kingma & Ba's Adam (and PyTorch's), which is what ``k`` is. On the
    first step the corrected moments are ``G`` and ``G (.) G``, so it moves about
    ``lr * sign(G)``.

    With ``step(frozen=...)`` (training with dropout) ``k`` counts the steps *of each
    entry*: a weight that sat out some steps has ``M`` and ``S`` averaged over fewer
    gradients, and the correction divides them by ``1 - beta^k`` for the steps it took,
    so its updates are Adam's over its own steps. (PyTorch's ``SparseAdam`` and
    TensorFlow's ``LazyAdam`` correct with the global count instead: with the default
    betas a weight that sat out step 1 moves ``0.74 lr`` on its first step, and one kept
    with probability ``1 - p`` steps up to ``1/sqrt(1 - p)`` times as far as Adam over
    its own steps would, 1.4x at ``p = 0.5`` around step 100, 1.27x at step 1000.)

    Examples
    --------
    >>> import numpy as np, cgraph as cg
    >>> w = np.array([0.0, 0.0])
    >>> cg.nn.Adam(lr=0.01).step({"w": w}, {"w": np.array([5.0, -0.001])})
    >>> np.round(w, 6)
    array([-0.01,  0.01])
    """

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8) -> None:
        super().__init__(lr)
        self.beta1 = _decay("beta1", beta1)
        self.beta2 = _decay("beta2", beta2)
        self.eps = _positive("eps", eps)

    _counts_steps = True

    def _update(self, name: str, w: np.ndarray, g: np.ndarray) -> None:
        m, s = self._slot(name, "M", w), self._slot(name, "S", w)
        m *= self.beta1
        m += (1 - self.beta1) * g
        s *= self.beta2
        s += (1 - self.beta2) * (g * g)
        k = self.state[name].get("t")  # each entry's count, once some sat out a step
        if k is None:
            m_hat = m / (1 - self.beta1**self.t)
            s_hat = s / (1 - self.beta2**self.t)
        else:  # (in m's dtype, as a Python float divisor is taken)
            m_hat = m / (1 - self.beta1**k).astype(m.dtype, copy=False)
            s_hat = s / (1 - self.beta2**k).astype(s.dtype, copy=False)
        w -= (self.lr / (np.sqrt(s_hat) + self.eps)) * m_hat

    def _hyper(self) -> dict[str, float]:
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}


def _number(name: str, value: Any) -> float:
    if not finite_number(value):
        raise ArgumentError(f"{name} must be a finite number, not {value!r}")
    return float(value)


def _positive(name: str, value: Any) -> float:
    value = _number(name, value)
    if value <= 0:
        raise ArgumentError(f"{name} must be > 0, not {value}")
    return value


def _decay(name: str, value: Any) -> float:
    value = _number(name, value)
    if not 0 <= value < 1:
        raise ArgumentError(f"{name} must be in [0, 1), not {value}")
    return value
