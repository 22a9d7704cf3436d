"""``cg.nn.train``: the lecture's mini-batch gradient descent, driven by the adjoint graph.

The gradient of the (augmented) loss is built once per network and configuration, with
:func:`cgraph.adjoint` and :func:`cgraph.simplify` (:meth:`MLP.gradient_graph`), and
evaluated per mini-batch through a compiled plan that keeps only the loss and the
gradients. There is no second, hand-written backprop.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from ..checks import all_finite, finite_number, flag
from ..errors import ArgumentError, InputError
from ..ops.shapes import is_int
from ..passes.plan import Plan, check_input, plan
from .mlp import MLP, seed_sequence
from .optim import Adam, Optimizer

__all__ = ["History", "dropout_mask", "train"]

REASONS = ("max_epochs", "converged", "early_stopping", "nan")


@dataclass
class History:
    """What happened in :func:`train`: per-epoch losses of the run that was kept.

    Attributes
    ----------
    train_loss : list of float
        The mean training loss (no L2 term, no dropout) after each epoch.
    val_loss : list of float
        The mean validation loss after each epoch (empty without validation).
    stopped_epoch : int
        The last epoch that ran.
    best_epoch : int
        The epoch of the lowest validation loss (of the lowest training loss without
        validation); 0 means the initial weights: with validation they are scored too,
        so a run that only makes the validation loss worse ends where it began. With
        ``min_delta > 0`` it is the last epoch that improved on the best so far by more
        than ``min_delta`` (as Keras's ``EarlyStopping`` counts it): a smaller gain after
        it neither resets the patience nor becomes the best weights.
    restart : int
        The index of the run kept (the one with the lowest training error).
    reason : str
        Why the run stopped: ``"max_epochs"``, ``"converged"`` (improvement over the
        last ``window`` epochs at most ``min_delta``), ``"early_stopping"`` (no
        validation improvement for ``patience`` epochs) or ``"nan"`` (in epoch
        ``stopped_epoch`` a mini-batch's loss or gradient, or the epoch's training or
        validation loss, left the finite numbers: NaN or an infinity; ``train`` warns
        with a ``RuntimeWarning`` saying which, and the run ends on its best finite
        weights).
    final_loss : float
        The training loss of the weights the run ended with (the restart criterion).
    steps : int
        The number of optimizer steps taken.
    runs : list of History
        One History per restart (the kept one included).
    initial_val_loss : float
        The validation loss of the weights the run started from (NaN without validation).
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    stopped_epoch: int = 0
    best_epoch: int = 0
    restart: int = 0
    reason: str = "max_epochs"
    final_loss: float = float("nan")
    steps: int = 0
    runs: list[History] = field(default_factory=list, repr=False)
    initial_val_loss: float = float("nan")

    def __str__(self) -> str:
        val = ""
        if self.val_loss:  # (without validation best_epoch counts training epochs)
            best_val = self.val_loss[self.best_epoch - 1] if self.best_epoch else self.initial_val_loss
            val = f", val loss {best_val:.6g}"
        return (
            f"History: run {self.restart} stopped after epoch {self.stopped_epoch} ({self.reason}); "
            f"best epoch {self.best_epoch}; final training loss {self.final_loss:.6g}{val}"
        )


def train(
    net: MLP,
    X: Any,
    Y: Any,
    *,
    optimizer: Optimizer | None = None,
    batch_size: int | None = 32,
    epochs: int = 100,
    l2: float = 0.0,
    l2_bias: bool = True,
    dropout: float = 0.0,
    validation: tuple[Any, Any] | None = None,
    patience: int | None = None,
    min_delta: float = 0.0,
    window: int | None = None,
    restarts: int = 1,
    restore_best: bool = True,
    seed: int | None = 0,
    verbose: bool | None = None,
) -> History:
    """Train ``net`` by mini-batch gradient descent; its params end holding the kept weights.

    One *step* is the lecture's iteration: the batch gradient
    ``G = 1/B sum_b grad loss_b`` (every loss is a batch mean) and one optimizer update
    (``t += 1``). Where the lecture samples ``B`` points at random for every step, an
    *epoch* here is one pass over a fresh random permutation of the data, cut into
    batches of ``batch_size`` rows (the last holds the remainder), so every point is
    used once per epoch; that is the same algorithm with sampling without replacement,
    and it makes ``epochs`` and the per-epoch history meaningful. Losses, validation,
    early stopping and termination are checked once per epoch. The gradient comes from
    the simplified adjoint graph of the training graph ``net.build(l2=..., dropout=...)``
    (:meth:`MLP.gradient_graph`), built once and evaluated per batch.

    Parameters
    ----------
    net : MLP
        Its params (``net.params``, which may be replaced) must be writable float arrays
        of their shapes, finite: an ``InputError`` names one that is not, before any step.
    X, Y : array_like
        Training inputs (N x d) and targets (see :meth:`MLP.targets`).
    optimizer : Optimizer, optional
        Default ``Adam()``. Its state is reset at the start of every run.
    batch_size : int or None
        ``B``; ``None`` means full batches.
    epochs : int
        The most epochs a run may take.
    l2 : float
        ``lambda`` of the lecture's augmented loss ``loss + lambda * sum of squared
        weights``, built into the training graph, so its gradient comes from the adjoint.
    l2_bias : bool
        Include the biases in the penalty (the lecture's sum runs from ``i = 0``).
    dropout : float
        ``p`` in [0, 1) (0 for a network without hidden layers, which has no unit to
        drop): each step drops every hidden unit with probability ``p``
        (one mask per step, shared by the batch: the lecture's "in each iteration ...
        randomly remove some of the nodes"; input units are never dropped). As the
        lecture says, the weights on edges into and out of a dropped unit (its bias
        included) are not updated that step: they keep their values and their
        optimizer state (see ``Optimizer.step(frozen=...)``), whatever L2 or momentum
        would do. Kept units are scaled by ``1/(1-p)`` (inverted dropout), which in
        expectation is Srivastava et al.'s scaling of the weights by ``1-p`` at test
        time, so prediction uses the plain network, no mask.
    validation : (Xv, Yv), optional
        Evaluated on the initial weights and after every epoch. With ``restore_best``
        the network ends holding the weights of the lowest validation loss, the initial
        ones included (``best_epoch`` 0): a run that only makes the validation loss
        worse gives its starting weights back. (Keras's ``EarlyStopping`` and sklearn
        score weights only after an epoch, so they keep epoch 1's there; scoring the
        start costs one validation pass and makes "restore the best" hold for every
        run, e.g. one that starts from trained weights.)
    patience : int, optional
        Early stopping: stop after ``patience`` consecutive epochs without a validation
        improvement of more than ``min_delta`` over the best so far, the initial weights
        included (needs ``validation``). ``patience=1`` is the lecture's rule, "if the validation error
        starts to increase, just stop"; larger values tolerate noisy validation curves.
    min_delta : float
        The least improvement that counts (early stopping and ``window``).
    window : int, optional
        Termination by convergence: stop once more than ``window`` epochs have run and
        the training loss improved by at most ``min_delta`` over the last ``window``.
    restarts : int
        ``k`` runs: the first from the current weights, the others from fresh random
        initialisations (:meth:`MLP.initialize`); the run with the lowest training error
        at termination is kept, as in the lecture. The error is the mean training loss
        (no L2 term, no dropout) of the weights each run ends with (its best validation
        weights, with ``validation`` and ``restore_best``); a run whose loss is NaN
        never wins.
    restore_best : bool
        With validation, end with the best validation weights (else the last ones). A
        run whose loss turns NaN always falls back to its best finite weights.
    seed : int, optional
        Seeds the shuffling, the dropout masks and the restarts' initialisations, each
        from a stream of its own: the mini-batches of a seed are the same whatever the
        dropout rate and the layer widths, so runs that differ in those alone see the
        same batches.
    verbose : bool, optional
        Show one updating progress line per epoch; by default only when stderr is a
        terminal.

    Returns
    -------
    History

    Examples
    --------
    >>> import numpy as np, cgraph as cg
    >>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    >>> Y = np.array([0, 1, 1, 1], dtype=float)
    >>> net = cg.nn.MLP([2, 1], loss="bce", seed=0)
    >>> h = cg.nn.train(net, X, Y, optimizer=cg.nn.SGD(lr=1.0), batch_size=4, epochs=200)
    >>> h.stopped_epoch, h.train_loss[-1] < h.train_loss[0]
    (200, True)
    >>> (net.predict(X).ravel() > 0.5).astype(int)
    array([0, 1, 1, 1])
    """
    if not isinstance(net, MLP):
        raise ArgumentError(f"train needs a cg.nn.MLP, not {type(net).__name__}")
    cfg = _Config.check(batch_size, epochs, dropout, patience, min_delta, window, restarts, l2, validation)
    if cfg.dropout > 0 and net.depth < 2:  # nothing to drop: the rate would be ignored
        raise ArgumentError(
            f"dropout={dropout!r} drops hidden units and {net!r} has no hidden layer (input units are never"
            " dropped): give the network a hidden layer, or train with dropout=0"
        )
    l2_bias, restore_best = flag(l2_bias, "l2_bias"), flag(restore_best, "restore_best")
    verbose = None if verbose is None else flag(verbose, "verbose")
    seeds = seed_sequence(seed)
    optimizer = Adam() if optimizer is None else optimizer
    if not isinstance(optimizer, Optimizer):
        raise ArgumentError(f"optimizer must be a cg.nn optimizer (SGD, Momentum, RMSProp, Adam), not {optimizer!r}")
    data = _data(net, X, Y, "X", "Y")
    val = None if validation is None else _data(net, *validation, "validation X", "validation Y")
    _check_params(net)
    gg = net.gradient_graph(l2=l2, l2_bias=l2_bias, dropout=cfg.dropout > 0)
    of, grads = gg.outputs[0], gg.outputs[1:]
    step = plan(gg, gg.outputs)
    grad_of = {o: gg.nx.nodes[o]["adjoint_of"] for o in grads}
    show = _Progress(sys.stderr, verbose, cfg.epochs, restarts)
    runs: list[History] = []
    kept, kept_loss = net.snapshot(), np.inf
    for r, child in enumerate(seeds.spawn(restarts)):
        init_seq, data_seq = child.spawn(2)
        if r > 0:
            net.initialize(np.random.default_rng(init_seq))
        optimizer.reset()
        # the masks have a stream of their own: the batches a seed gives do not depend on the
        # dropout rate or the layer widths (and are those of dropout=0)
        rngs = np.random.default_rng(data_seq), np.random.default_rng(data_seq.spawn(1)[0])
        run = _Run(net, optimizer, step, of, grad_of, cfg, rngs, show)
        h = run.fit(data, val, restart=r, restore_best=restore_best)
        runs.append(h)
        if r == 0 or h.final_loss < kept_loss or (np.isnan(kept_loss) and not np.isnan(h.final_loss)):
            kept, kept_loss, best = net.snapshot(), h.final_loss, r
    show.close()
    net.restore(kept)
    h = runs[best]
    return History(h.train_loss, h.val_loss, h.stopped_epoch, h.best_epoch, best, h.reason, h.final_loss, h.steps, runs,
                   h.initial_val_loss)


def _data(net: MLP, X: Any, Y: Any, xname: str, yname: str) -> tuple[np.ndarray, np.ndarray]:
    Xa, Ya = net.features(X, name=xname), net.targets(Y, name=yname)
    if len(Xa) != len(Ya):
        raise InputError(f"{xname} has {len(Xa)} rows but {yname} has {len(Ya)}")
    if len(Xa) == 0:
        raise InputError(f"{xname} has no rows")
    return Xa, Ya


def _check_params(net: MLP) -> None:
    """The live params as training will step them: each of its declared shape, finite
    (``predict`` and ``loss`` refuse the same weights) and a writable float array
    (updated in place); else an ``InputError`` naming it, before any step. A NaN weight
    made the first epoch's loss NaN (reason ``"nan"``, the NaN weights kept), and an
    infinite one could train "successfully" into a network ``predict`` refuses."""
    for name in net.graph.params:
        if name not in net.params:
            raise InputError(f"param {name!r} is missing from net.params (its params: {', '.join(net.params)})")
        w = net.params[name]
        check_input(name, w, net.graph.nx.nodes[name]["shape"], allow=False, role="param")
        if not isinstance(w, np.ndarray) or w.dtype.kind != "f" or not w.flags.writeable:
            what = (f"{'' if w.flags.writeable else 'read-only '}{w.dtype} array" if isinstance(w, np.ndarray)
                    else type(w).__name__)
            raise InputError(f"param {name!r} must be a writable float numpy array (training updates it in place), "
                             f"not {'an' if what[0] in 'aeiou' else 'a'} {what}")


@dataclass(frozen=True)
class _Config:
    batch_size: int | None
    epochs: int
    dropout: float
    patience: int | None
    min_delta: float
    window: int | None
    restarts: int

    @classmethod
    def check(cls, batch_size, epochs, dropout, patience, min_delta, window, restarts, l2, validation) -> _Config:
        if batch_size is not None:
            _int_at_least("batch_size", batch_size, 1)
        _int_at_least("epochs", epochs, 1)
        _int_at_least("restarts", restarts, 1)
        if patience is not None:
            _int_at_least("patience", patience, 1)
            if validation is None:
                raise ArgumentError("patience (early stopping) needs a validation set: validation=(Xv, Yv)")
        if window is not None:
            _int_at_least("window", window, 1)
        if not finite_number(dropout) or not 0 <= dropout < 1:
            raise ArgumentError(f"dropout must be a rate in [0, 1), not {dropout!r}")
        if not finite_number(min_delta) or min_delta < 0:
            raise ArgumentError(f"min_delta must be a finite number >= 0, not {min_delta!r}")
        if not finite_number(l2) or l2 < 0:
            raise ArgumentError(f"l2 must be a finite number >= 0, not {l2!r}")
        if validation is not None and (not isinstance(validation, (tuple, list)) or len(validation) != 2):
            raise ArgumentError("validation must be a pair (Xv, Yv)")
        return cls(batch_size, epochs, float(dropout), patience, float(min_delta), window, restarts)


def _int_at_least(name: str, v: Any, least: int) -> None:
    if not is_int(v) or v < least:
        raise ArgumentError(f"{name} must be an int >= {least}, not {v!r}")


class _Run:
    """One training run from the network's current weights."""

    def __init__(
        self,
        net: MLP,
        opt: Optimizer,
        step: Plan,
        of: str,
        grad_of: dict[str, str],
        cfg: _Config,
        rngs: tuple[np.random.Generator, np.random.Generator],
        show: _Progress,
    ) -> None:
        self.net, self.opt, self.step, self.of, self.grad_of = net, opt, step, of, grad_of
        self.cfg, (self.rng, self.mask_rng), self.show = cfg, rngs, show
        self.hidden = [(f"M{k}", net.sizes[k]) for k in range(1, net.depth)] if cfg.dropout > 0 else []
        self.steps = 0

    def fit(self, data: tuple, val: tuple | None, *, restart: int, restore_best: bool) -> History:
        h, cfg = History(restart=restart), self.cfg
        best, best_loss, wait = self.net.snapshot(), np.inf, 0
        if val is not None:  # the starting weights are a candidate too (restore-best semantics)
            h.initial_val_loss = _loss(self.net, *val)
            if np.isfinite(h.initial_val_loss):
                best_loss = h.initial_val_loss
        for epoch in range(1, cfg.epochs + 1):
            bad = self._epoch(*data)
            h.stopped_epoch = epoch
            h.train_loss.append(_loss(self.net, *data) if bad is None else float("nan"))
            if val is not None:
                h.val_loss.append(_loss(self.net, *val) if bad is None else float("nan"))
            if bad is None:
                for what, losses in (("training", h.train_loss), ("validation", h.val_loss)):
                    if losses and not np.isfinite(losses[-1]):
                        bad = f"the {what} loss at the end of the epoch is {losses[-1]}"
                        break
            if bad is not None:
                h.reason = "nan"
                kept = f"epoch {h.best_epoch}'s" if h.best_epoch else "the initial"
                run = f"run {restart}: " if self.show.restarts > 1 else ""
                warnings.warn(
                    f"train: {run}the training diverged in epoch {epoch}: {bad}; it stopped there and ends on {kept}"
                    " weights, its best finite ones (a smaller lr may help)", RuntimeWarning, stacklevel=3)
                break
            monitor = h.val_loss[-1] if val is not None else h.train_loss[-1]
            if monitor < best_loss - cfg.min_delta:
                best, best_loss, h.best_epoch, wait = self.net.snapshot(), monitor, epoch, 0
            else:
                wait += 1
            self.show.epoch(epoch, h)
            if cfg.patience is not None and wait >= cfg.patience:
                h.reason = "early_stopping"
                break
            if cfg.window is not None and len(h.train_loss) > cfg.window:
                gain = h.train_loss[-cfg.window - 1] - min(h.train_loss[-cfg.window :])
                if gain <= cfg.min_delta:
                    h.reason = "converged"
                    break
        if h.reason == "nan" or (val is not None and restore_best):
            self.net.restore(best)
        h.final_loss = _loss(self.net, *data)
        h.steps = self.steps
        return h

    def _epoch(self, X: np.ndarray, Y: np.ndarray) -> str | None:
        """One pass over shuffled mini-batches; what left the finite numbers if the loss or
        its gradient did (the pass stops there), else None."""
        n = len(X)
        size = n if self.cfg.batch_size is None else self.cfg.batch_size
        order = self.rng.permutation(n)
        params = self.net.params
        for start in range(0, n, size):
            idx = order[start : start + size]
            feeds = {"X": X[idx], "Y": Y[idx], **params}
            for name, width in self.hidden:
                feeds[name] = dropout_mask(self.mask_rng, width, self.cfg.dropout, self.net.dtype)
            vals = self.step.run(feeds, nonfinite="propagate")
            if not np.isfinite(vals[self.of]):
                return f"the loss of the mini-batch of step {self.steps + 1} is {float(vals[self.of])}"
            grads = {self.grad_of[o]: vals[o] for o in self.grad_of}
            for name, g in grads.items():  # a finite loss whose gradient overflowed: diverged as well
                if not all_finite(np.asarray(g)):
                    return f"the gradient of {name!r} at step {self.steps + 1} is not finite"
            self.opt.step(params, grads, frozen=self._frozen(feeds) if self.hidden else None)
            self.steps += 1
        return None

    def _frozen(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The entries a dropout step must leave alone: for a dropped unit ``j`` of hidden
        layer ``k``, its incoming weights ``W_k[:, j]``, its bias ``b_k[j]`` (the lecture's
        ``w_{j,0}``) and its outgoing weights ``W_{k+1}[j, :]``. Without this, the L2
        term's gradient and the optimizers' memory (momentum, Adam's moments) would
        still move them although their loss gradient is zero."""
        params = self.net.params
        frozen = {k: np.zeros(v.shape, bool) for k, v in params.items()}
        for k in range(1, self.net.depth):
            dropped = feeds[f"M{k}"] == 0
            frozen[f"W{k}"][:, dropped] = True
            frozen[f"b{k}"][dropped] = True
            frozen[f"W{k + 1}"][dropped, :] = True
        return frozen


def dropout_mask(rng: np.random.Generator, width: int, p: float, dtype: Any = np.float64) -> np.ndarray:
    """An inverted-dropout mask: each unit kept with probability ``1 - p`` and scaled by
    ``1 / (1 - p)``, so the expected activation is unchanged; ``p = 0`` gives ones.

    Examples
    --------
    >>> import numpy as np, cgraph as cg
    >>> cg.nn.dropout_mask(np.random.default_rng(0), 6, 0.5)
    array([2., 0., 0., 0., 2., 2.])
    """
    if not isinstance(rng, np.random.Generator):
        raise ArgumentError(f"dropout_mask needs a numpy Generator (np.random.default_rng(seed)), not {rng!r}")
    _int_at_least("width", width, 0)
    if not finite_number(p) or not 0 <= p < 1:
        raise ArgumentError(f"dropout must be a rate in [0, 1), not {p!r}")
    try:
        kind = np.dtype(dtype).kind
    except TypeError:
        kind = None
    if kind != "f":  # an int mask would truncate the scale 1/(1-p)
        raise ArgumentError(f"dropout_mask dtype must be a float dtype, not {dtype!r}")
    return (rng.random(width) >= p).astype(dtype) / (1 - p)


def _loss(net: MLP, X: np.ndarray, Y: np.ndarray) -> float:
    feeds = {"X": X, "Y": Y, **net.params}
    return float(plan(net.graph, ["loss"]).run(feeds, nonfinite="propagate")["loss"])


class _Progress:
    """One updating line per epoch on a terminal; silent otherwise (or when told)."""

    def __init__(self, stream: IO[str], verbose: bool | None, epochs: int, restarts: int) -> None:
        tty = bool(getattr(stream, "isatty", lambda: False)())
        self.on = tty if verbose is None else verbose
        self.tty, self.stream, self.epochs, self.restarts = tty, stream, epochs, restarts
        self.width = 0

    def epoch(self, epoch: int, h: History) -> None:
        if not self.on:
            return
        run = f"run {h.restart + 1}/{self.restarts}  " if self.restarts > 1 else ""
        val = f"  val {h.val_loss[-1]:.6g}" if h.val_loss else ""
        line = f"{run}epoch {epoch:>{len(str(self.epochs))}}/{self.epochs}  loss {h.train_loss[-1]:.6g}{val}"
        if self.tty:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = max(self.width, len(line))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def close(self) -> None:
        if self.on and self.tty and self.width:
            self.stream.write("\n")
            self.stream.flush()
