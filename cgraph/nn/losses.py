"""Losses and activations of ``cg.nn``, as graph builders.

A loss is built from the output layer's *pre-activation* ``a`` (the logits) and the
targets ``Y``, never from the squashed prediction, so it stays finite where the
prediction saturates: binary cross-entropy is ``softplus(a) - y*a`` (that is,
``-y log sigmoid(a) - (1-y) log(1 - sigmoid(a))`` written with log-sigmoid), and
cross-entropy uses ``log_softmax``. Every loss is the mean over the batch.

The targets ``Y`` have the shape of the logits (one-hot rows for cross-entropy). Where
both shapes are declared, a loss refuses others with a ``ShapeError``: numpy would
broadcast a ``(B, 1)`` column against ``(B,)`` targets into ``B x B`` pairs, a mean
that is no loss of the batch. (``MLP.targets`` shapes the data it is given.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ArgumentError, ShapeError
from ..node import Node
from ..ops import log_softmax, mean, relu, sigmoid, softmax, softplus, square, step, tanh
from ..ops import sum as sum_

__all__ = ["ACTIVATIONS", "LOSSES", "Loss", "activation_fn", "bce", "cross_entropy", "get_loss", "mse"]

#: hidden-layer activations by name (the names the network diagram shows)
#: ("step" makes the hidden units perceptrons, for the lecture's "functions decomposed into
#: perceptrons" set by hand: their gradient is 0, so training moves only the output layer)
ACTIVATIONS: dict[str, Callable[..., Node]] = {"sigmoid": sigmoid, "tanh": tanh, "relu": relu, "step": step}


def mse(a: Node, y: Node, *, name: str | None = "loss") -> Node:
    """Mean squared error ``mean((a - y)^2)`` over the batch and the outputs.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph()
    >>> a, y = g.input("a"), g.input("y")
    >>> loss = cg.nn.mse(a, y)
    >>> float(cg.evaluate(g, a=[[1.0], [3.0]], y=[[0.0], [1.0]])["loss"])
    2.5
    """
    _same_shape("mse", a, y)
    return mean(square(a - y), name=name)


def bce(a: Node, y: Node, *, name: str | None = "loss") -> Node:
    """Binary cross-entropy of logits ``a``: ``mean(softplus(a) - y*a)``.

    This equals ``mean(-y log sigmoid(a) - (1-y) log(1 - sigmoid(a)))`` but never takes
    the log of a saturated sigmoid, so logits of +-1000 give finite losses and gradients.
    The targets ``y`` are probabilities in [0, 1] (labels 0/1, or soft targets); outside
    it the loss has no minimum (``y = 2`` pulls ``a`` to infinity). The graph cannot check
    values it has not seen: ``MLP.targets``, and so ``train`` and ``MLP.loss``, refuse
    such targets with an ``InputError`` naming the entry, as ``torch``'s ``BCELoss`` does.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph()
    >>> a, y = g.input("a"), g.input("y")
    >>> loss = cg.nn.bce(a, y)
    >>> float(cg.evaluate(g, a=[[1000.0], [-1000.0]], y=[[0.0], [1.0]])["loss"])
    1000.0
    """
    _same_shape("bce", a, y)
    return mean(softplus(a) - y * a, name=name)


def cross_entropy(a: Node, y: Node, *, name: str | None = "loss") -> Node:
    """Cross-entropy of logits ``a`` (batch x classes) against one-hot ``y``.

    ``mean over the batch of -sum(y * log_softmax(a), axis=-1)``; ``log_softmax`` is
    computed stably (shifted by the row maximum).

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph()
    >>> a, y = g.input("a"), g.input("y")
    >>> loss = cg.nn.cross_entropy(a, y)
    >>> float(cg.evaluate(g, a=[[0.0, 1000.0]], y=[[1.0, 0.0]])["loss"])
    1000.0
    """
    _same_shape("cross_entropy", a, y)
    return mean(-sum_(y * log_softmax(a, axis=-1), axis=-1), name=name)


def _same_shape(loss: str, a: Any, y: Any) -> None:
    """``ShapeError`` when the declared shapes of the logits ``a`` and the targets ``y``
    differ: numpy would broadcast them, and a ``(B, 1)`` against ``(B,)`` makes ``B x B``
    pairs whose mean is no loss of the batch (torch's ``mse_loss`` warns of it). Unknown
    shapes or dimensions (``None``) are not refused, nor a scalar on either side."""
    sa = a.shape if isinstance(a, Node) else None
    sy = y.shape if isinstance(y, Node) else None
    if sa is None or sy is None or sa == () or sy == ():
        return
    if len(sa) != len(sy) or any(p is not None and q is not None and p != q for p, q in zip(sa, sy)):
        raise ShapeError(
            f"{loss}: the targets {y.name!r} have shape {sy}, the logits {a.name!r} {sa}; they must match"
            " (numpy would broadcast them into pairs of rows that are no loss of the batch)"
        )


@dataclass(frozen=True)
class Loss:
    """A loss and the output layer it implies.

    Attributes
    ----------
    name : the name ``MLP(loss=...)`` accepts.
    activation : the output layer's activation, as the network diagram names it.
    output : builds the prediction from the output pre-activation; ``None`` when the
        pre-activation is itself the prediction (the identity output of ``mse``).
    build : builds the scalar loss from the output pre-activation and the targets.
    title : what error messages call it.
    target_range : the closed interval the target values must lie in (``None``: any);
        ``MLP.targets`` checks it, where the values are known.
    """

    name: str
    activation: str
    output: Callable[..., Node] | None
    build: Callable[..., Node]
    title: str = ""
    target_range: tuple[float, float] | None = None


LOSSES: dict[str, Loss] = {
    "mse": Loss("mse", "identity", None, mse, "mean squared error"),
    # probabilities: outside [0, 1] the loss is unbounded below
    "bce": Loss("bce", "sigmoid", sigmoid, bce, "binary cross-entropy", (0.0, 1.0)),
    "cross_entropy": Loss("cross_entropy", "softmax", lambda a, **kw: softmax(a, axis=-1, **kw), cross_entropy,
                          "cross-entropy", (0.0, 1.0)),
}


def get_loss(name: str) -> Loss:
    """The :class:`Loss` called ``name``; ``ArgumentError`` listing the known ones if none."""
    if not isinstance(name, str) or name not in LOSSES:  # (a list is unhashable)
        raise ArgumentError(f"unknown loss {name!r}; choose one of {', '.join(map(repr, LOSSES))}")
    return LOSSES[name]


def activation_fn(name: str) -> Callable[..., Node]:
    """The op function of hidden activation ``name``; ``ArgumentError`` if unknown."""
    if not isinstance(name, str) or name not in ACTIVATIONS:  # (a list is unhashable)
        raise ArgumentError(f"unknown activation {name!r}; choose one of {', '.join(map(repr, ACTIVATIONS))}")
    return ACTIVATIONS[name]
