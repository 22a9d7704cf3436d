"""Neural networks as graphs: MLPs, stable losses, the lecture's optimizers, training.

A network is a :class:`~cgraph.Graph`; its gradient is :func:`cgraph.adjoint` of its
loss, simplified with :func:`cgraph.simplify`, built once and evaluated per mini-batch. There is no second, hand-written
backprop.

>>> import numpy as np, cgraph as cg
>>> net = cg.nn.MLP([2, 4, 1], activation="tanh", loss="bce", seed=0)
>>> X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
>>> h = cg.nn.train(net, X, [0, 1, 1, 0], optimizer=cg.nn.Adam(lr=0.05), batch_size=4, epochs=300)
>>> (net.predict(X).ravel() > 0.5).astype(int)
array([0, 1, 1, 0])
"""

from __future__ import annotations

from .losses import ACTIVATIONS, LOSSES, Loss, bce, cross_entropy, mse
from .mlp import MLP, gradient_graph
from .optim import SGD, Adam, Momentum, Optimizer, RMSProp
from .train import History, dropout_mask, train

__all__ = [
    "ACTIVATIONS",
    "LOSSES",
    "MLP",
    "SGD",
    "Adam",
    "History",
    "Loss",
    "Momentum",
    "Optimizer",
    "RMSProp",
    "bce",
    "cross_entropy",
    "dropout_mask",
    "gradient_graph",
    "mse",
    "train",
]
