"""Multi-layer perceptrons as graphs: ``cg.nn.MLP``.

A network is a :class:`~cgraph.Graph` like any other: it evaluates, differentiates,
prints and draws with the same passes. Its nodes carry the layered-network metadata
(``layer``, ``layer_kind``, ``activation``, ``weights``, ``bias``, ``preactivation``)
that the network diagram reads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..checks import finite_number, flag
from ..errors import ArgumentError, InputError, no_nonfinite_hint
from ..graph import Graph, Node
from ..ops import add, square
from ..ops import sum as sum_
from ..ops.shapes import is_int
from ..passes.adjoint import adjoint
from ..passes.plan import check_input, plan
from ..passes.simplify import simplify
from .losses import activation_fn, get_loss

__all__ = ["MLP", "gradient_graph"]


class MLP:
    """A fully connected feed-forward network whose loss is a graph node.

    Layer ``l`` computes ``z_l = act(z_{l-1} @ W_l + b_l)`` with ``W_l`` of shape
    ``(n_{l-1}, n_l)``, so ``W_l[i, j]`` is the weight from unit ``i`` of layer ``l-1``
    to unit ``j`` of layer ``l`` (the lecture's ``w_{j,i}^{(l)}``).

    Parameters
    ----------
    sizes : sequence of int
        ``[d, n_1, ..., n_L]``: the input width, then the width of every layer; at
        least two entries, each at least 1.
    activation : {"sigmoid", "tanh", "relu", "step"}
        The hidden layers' activation. ``"step"`` (``1 if a > 0 else 0``) makes them
        perceptrons, for networks whose weights are set by hand (the lecture's
        functions "decomposed into perceptrons"); its gradient is 0, so gradient
        descent trains only the output layer of such a network.
    loss : {"mse", "bce", "cross_entropy"}
        The loss; it fixes the output layer: identity for ``mse``, sigmoid for
        ``bce``, softmax for ``cross_entropy`` (one-hot targets, or integer class
        labels, which are one-hot encoded). The loss is computed from the output
        pre-activation, stably (see :mod:`cgraph.nn.losses`), as a mean over the batch.
    seed : int or numpy Generator, optional
        Seeds the initialisation (``np.random.default_rng(seed)``).
    dtype : float64 or float32
        The dtype of the parameters (and of the data fed to the network).
    name : str
        The graph's name.

    Attributes
    ----------
    graph : Graph
        Inputs ``X`` (batch x d) and ``Y`` (batch x n_L), params ``W1 b1 W2 b2 ...``;
        pre-activations ``a1 a2 ...``, hidden activations ``z1 z2 ...``, the prediction
        ``yhat`` and the output ``loss``. The params' ``value`` attributes are the live
        arrays of ``params``, so ``cg.evaluate(net.graph, X=..., Y=...)`` sees the
        current weights.
    params : dict
        ``{name: numpy array}``: the live parameter arrays, updated in place by training.

    Notes
    -----
    Initialisation ("small random numbers", as the lecture asks): weights of a layer of
    ReLU units are drawn He-uniform, ``U(-r, r)`` with ``r = sqrt(6 / n_in)``; all
    other weights Glorot/Xavier-uniform, ``r = sqrt(6 / (n_in + n_out))``, the scale
    that keeps activations and gradients from shrinking or growing layer by layer.
    Biases start at 0, a deliberate departure from the lecture, whose "all weights"
    include the bias ``w_{j,0}``: the random ``W`` already breaks the symmetry between
    units, and zero biases are the usual choice (Glorot & Bengio, 2010).

    Examples
    --------
    >>> import numpy as np, cgraph as cg
    >>> net = cg.nn.MLP([2, 3, 1], activation="tanh", loss="bce", seed=0)
    >>> net.graph.inputs, net.graph.params, net.graph.outputs
    (['X', 'Y'], ['W1', 'b1', 'W2', 'b2'], ['loss'])
    >>> net.predict(np.zeros((4, 2))).ravel()
    array([0.5, 0.5, 0.5, 0.5])
    >>> round(net.loss(np.zeros((4, 2)), [0, 1, 1, 0]), 6)  # log 2
    0.693147
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str = "sigmoid",
        loss: str = "mse",
        *,
        seed: int | np.random.Generator | None = 0,
        dtype: Any = np.float64,
        name: str = "mlp",
    ) -> None:
        self.sizes = _check_sizes(sizes)
        activation_fn(activation)
        self.activation = activation
        self.loss_kind = get_loss(loss)
        if self.loss_kind.name == "cross_entropy" and self.sizes[-1] < 2:
            # a softmax over one unit is 1 whatever the input: loss and gradient are 0
            raise ArgumentError(
                f"MLP sizes {list(self.sizes)}: loss='cross_entropy' needs at least 2 output units (a softmax over one"
                " unit is always 1); for two classes with one output use loss='bce'"
            )
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:  # a name numpy does not know ("foo")
            raise ArgumentError(f"MLP dtype must be float64 or float32, not {dtype!r}") from None
        if self.dtype not in (np.float32, np.float64):
            raise ArgumentError(f"MLP dtype must be float64 or float32, not {self.dtype}")
        self.name = name
        self.params: dict[str, np.ndarray] = {}
        for k in range(1, self.depth + 1):
            self.params[f"W{k}"] = np.zeros((self.sizes[k - 1], self.sizes[k]), self.dtype)
            self.params[f"b{k}"] = np.zeros(self.sizes[k], self.dtype)
        self.initialize(seed)
        self.graph = self.build()
        self._forward = self.build(with_loss=False)
        self._gradients: dict[tuple, Graph] = {}

    @property
    def depth(self) -> int:
        """``L``, the number of layers of weights (hidden layers + the output layer)."""
        return len(self.sizes) - 1

    def initialize(self, seed: int | np.random.Generator | None = None) -> None:
        """Draw fresh initial weights in place (the scheme of the class Notes)."""
        rng = rng_of(seed)
        for k in range(1, self.depth + 1):
            n_in, n_out = self.sizes[k - 1], self.sizes[k]
            relu = self.activation == "relu" and k < self.depth
            r = np.sqrt(6.0 / n_in) if relu else np.sqrt(6.0 / (n_in + n_out))
            self.params[f"W{k}"][...] = rng.uniform(-r, r, size=(n_in, n_out))
            self.params[f"b{k}"][...] = 0.0

    # ------------------------------------------------------------------ graphs
    def build(self, *, l2: float = 0.0, l2_bias: bool = True, dropout: bool = False, with_loss: bool = True) -> Graph:
        """A new graph of this network, sharing the live parameter arrays.

        Parameters
        ----------
        l2 : float
            With ``l2 > 0`` the output is the lecture's augmented loss
            ``loss_aug = loss + l2 * l2_penalty`` where ``l2_penalty`` is the sum of the
            squared weights (the lecture's sum runs from ``i = 0``, so it includes the
            biases unless ``l2_bias=False``).
        l2_bias : bool
            Whether the penalty includes the biases.
        dropout : bool
            Multiply every hidden activation ``z_l`` by a fed mask input ``M_l`` (shape
            ``(n_l,)``, one mask per step) giving ``d_l``, which the next layer uses.
        with_loss : bool
            ``False`` builds the prediction alone (no ``Y``, no loss).

        Examples
        --------
        >>> import cgraph as cg
        >>> net = cg.nn.MLP([2, 3, 1], seed=0)
        >>> g = net.build(l2=0.1, dropout=True)
        >>> g.inputs, g.outputs
        (['X', 'Y', 'M1'], ['loss_aug'])
        """
        l2_bias, dropout, with_loss = flag(l2_bias, "l2_bias"), flag(dropout, "dropout"), flag(with_loss, "with_loss")
        g = Graph(self.name)
        X = g.input("X", shape=(None, self.sizes[0]), dtype=self.dtype.name)
        _meta(X, layer=0, layer_kind="input", activation="identity")
        Y = g.input("Y", shape=(None, self.sizes[-1]), dtype=self.dtype.name) if with_loss else None
        act = activation_fn(self.activation)
        h = X
        for k in range(1, self.depth + 1):
            W, b = self._param(g, f"W{k}", weights=k), self._param(g, f"b{k}", bias=k)
            last = k == self.depth
            identity_out = last and self.loss_kind.output is None
            pre = (h @ W + b).named("yhat" if identity_out else f"a{k}")
            _meta(pre, preactivation=k)
            if not last:
                h = act(pre, name=f"z{k}")
                _meta(h, layer=k, layer_kind="hidden", activation=self.activation)
                if dropout:
                    h = (h * g.input(f"M{k}", shape=(self.sizes[k],), dtype=self.dtype.name)).named(f"d{k}")
        out = pre if identity_out else self.loss_kind.output(pre, name="yhat")
        _meta(out, layer=self.depth, layer_kind="output", activation=self.loss_kind.activation)
        if not with_loss:
            g.output(out)
            return g
        loss = self.loss_kind.build(pre, Y, name="loss")
        _check_l2(l2)
        if l2 > 0:
            names = [p for p in self.params if l2_bias or p.startswith("W")]
            terms = [sum_(square(g.node(p))) for p in names]
            penalty = (terms[0] if len(terms) == 1 else add(*terms)).named("l2_penalty")
            loss = (loss + float(l2) * penalty).named("loss_aug")
        g.output(loss)
        return g

    def gradient_graph(self, *, l2: float = 0.0, l2_bias: bool = True, dropout: bool = False) -> Graph:
        """The gradient of the training loss as a graph, built once per configuration.

        :func:`gradient_graph` of ``build(l2=..., l2_bias=..., dropout=...)``, cached on
        the network: every training run and every step reuses it.

        Examples
        --------
        >>> import cgraph as cg
        >>> net = cg.nn.MLP([2, 3, 1], seed=0)
        >>> net.gradient_graph(l2=0.1).outputs
        ['loss_aug', 'g_W1', 'g_b1', 'g_W2', 'g_b2']
        >>> net.gradient_graph(l2=0.1) is net.gradient_graph(l2=0.1)
        True
        """
        key = (float(_check_l2(l2)), flag(l2_bias, "l2_bias"), flag(dropout, "dropout"))  # (float('x') raised ValueError)
        if key not in self._gradients:
            g = self.build(l2=l2, l2_bias=l2_bias, dropout=dropout)
            self._gradients[key] = gradient_graph(g, list(self.params), g.outputs[0])
        return self._gradients[key]

    def _param(self, g: Graph, name: str, **meta: Any) -> Node:
        node = g.param(name, shape=self.params[name].shape)
        node.attrs["value"] = self.params[name]  # the live array, even in float32
        _meta(node, **meta)
        return node

    # ------------------------------------------------------------------ evaluation
    def predict(self, X: Any) -> np.ndarray:
        """The network's output ``yhat`` for inputs ``X`` (batch x d); no dropout."""
        return _run(self._forward, "yhat", {"X": self.features(X), **self.params})

    def loss(self, X: Any, Y: Any) -> float:
        """The mean loss over ``(X, Y)`` with the current weights (no L2, no dropout)."""
        X, Y = self.features(X), self.targets(Y)
        if len(X) != len(Y):
            raise InputError(f"X has {len(X)} rows but Y has {len(Y)}")
        if len(X) == 0:  # the mean of no losses
            raise InputError("X has no rows")
        return float(_run(self.graph, "loss", {"X": X, "Y": Y, **self.params}))

    def features(self, X: Any, *, name: str = "X") -> np.ndarray:
        """``X`` as a (batch x d) array of the network's dtype (a 1-D X when d = 1);
        non-numbers, NaN and infinities are an ``InputError`` naming the entry."""
        X = self._cast(name, check_input(name, X, None, allow=False))
        if X.ndim == 1 and self.sizes[0] == 1:
            X = X[:, None]
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise InputError(f"input {name!r}: expected shape (batch, {self.sizes[0]}), got {X.shape}")
        return X

    def targets(self, Y: Any, *, name: str = "Y") -> np.ndarray:
        """``Y`` as a (batch x n_L) array: 1-D targets of a one-output network become a
        column; integer class labels for ``cross_entropy`` become one-hot rows. Targets
        outside the loss's range (``bce`` and ``cross_entropy``: probabilities in [0, 1])
        are an ``InputError`` naming the loss and the first such entry.

        Examples
        --------
        >>> import cgraph as cg
        >>> cg.nn.MLP([2, 1], loss="bce", seed=0).targets([0, 1, 2])
        Traceback (most recent call last):
        cgraph.errors.InputError: input 'Y': binary cross-entropy (loss='bce') needs targets in [0, 1], got Y[2, 0] = 2 (1 of 3 outside)
        """
        Y = np.asarray(check_input(name, Y, None, allow=False))
        n = self.sizes[-1]
        if Y.ndim == 1 and self.loss_kind.name == "cross_entropy" and n > 1:
            # range first: casting a label such as 1e30 to int64 overflows (numpy warns)
            bad = (Y < 0) | (Y > n - 1) | (np.round(Y) != Y)
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise InputError(
                    f"input {name!r}: class labels must be integers in 0..{n - 1} (or give one-hot rows of {n}), "
                    f"got {name}[{i}] = {Y[i]:g} ({int(bad.sum())} of {Y.size} not)"
                )
            Y = np.eye(n, dtype=self.dtype)[Y.astype(np.int64)]
        elif Y.ndim == 1 and n == 1:
            Y = Y[:, None]
        if Y.ndim != 2 or Y.shape[1] != n:
            labels = self.loss_kind.name == "cross_entropy" and Y.ndim == 2 and Y.shape[1] == 1
            raise InputError(f"input {name!r}: expected shape (batch, {n}), got {Y.shape}"
                             + (f" (class labels go as a 1-D array of {len(Y)}: {name}.ravel())" if labels else ""))
        bounds = self.loss_kind.target_range
        if bounds is not None:
            outside = (Y < bounds[0]) | (Y > bounds[1])
            if outside.any():
                at = tuple(int(i) for i in np.argwhere(outside)[0])
                raise InputError(
                    f"input {name!r}: {self.loss_kind.title} (loss={self.loss_kind.name!r}) needs targets in"
                    f" [{bounds[0]:g}, {bounds[1]:g}], got {name}[{at[0]}, {at[1]}] = {Y[at]:g}"
                    f" ({int(outside.sum())} of {Y.size} outside)"
                )
        return self._cast(name, Y)

    def _cast(self, name: str, A: np.ndarray) -> np.ndarray:
        """``A`` (finite) in the network's dtype; a value past float32's range is an
        ``InputError`` naming it (the cast would silently make it an infinity)."""
        with np.errstate(over="ignore"):
            B = np.asarray(A).astype(self.dtype, copy=False)
        if B is not A and not np.isfinite(B).all():
            at = tuple(int(i) for i in np.argwhere(~np.isfinite(np.atleast_1d(B)))[0])
            raise InputError(
                f"input {name!r}: {np.atleast_1d(A)[at]:g} at index {at} is beyond the range of the network's"
                f" dtype {self.dtype}"
            )
        return B

    # ------------------------------------------------------------------ weights
    def snapshot(self) -> dict[str, np.ndarray]:
        """Copies of the current parameter arrays."""
        return {k: v.copy() for k, v in self.params.items()}

    def restore(self, snapshot: Mapping[str, np.ndarray]) -> None:
        """Copy ``snapshot`` back into the live parameter arrays (in place).

        A name the network lacks or an array of another shape is an ``InputError``
        naming the param, before any array is written.

        Examples
        --------
        >>> import numpy as np, cgraph as cg
        >>> cg.nn.MLP([2, 3, 1], seed=0).restore({"W1": np.zeros((3, 2))})
        Traceback (most recent call last):
        cgraph.errors.InputError: restore: param 'W1' has shape (2, 3), the snapshot gives (3, 2)
        """
        for k, v in snapshot.items():
            if k not in self.params:
                raise InputError(f"restore: the network has no param {k!r} (its params: {', '.join(self.params)})")
            if np.shape(v) != self.params[k].shape:
                raise InputError(
                    f"restore: param {k!r} has shape {self.params[k].shape}, the snapshot gives {np.shape(v)}"
                )
        for k, v in snapshot.items():
            self.params[k][...] = v

    def __repr__(self) -> str:
        return f"MLP({list(self.sizes)}, activation={self.activation!r}, loss={self.loss_kind.name!r})"


def gradient_graph(graph: Graph, wrt: Sequence[str], of: str) -> Graph:
    """``of`` and its gradient with respect to ``wrt``, as one simplified graph.

    :func:`cgraph.adjoint` of ``graph``, then :func:`cgraph.simplify` (common
    subexpressions merged, identities applied: e.g. the ``sigmoid`` that the ``bce``
    derivative needs becomes the prediction node). Its outputs are ``of`` followed by
    the gradients ``g_<w>``, in ``wrt``'s order.

    Examples
    --------
    >>> import cgraph as cg
    >>> net = cg.nn.MLP([2, 3, 1], seed=0)
    >>> cg.nn.gradient_graph(net.graph, list(net.params), "loss").outputs
    ['loss', 'g_W1', 'g_b1', 'g_W2', 'g_b2']
    """
    ga = adjoint(graph, wrt=[wrt] if isinstance(wrt, str) else list(wrt), of=of)  # list("W1") is ['W', '1']
    ga.set_outputs([of, *ga.outputs])  # keep the loss through dead-node removal
    return simplify(ga)


def _run(g: Graph, node: str, feeds: dict[str, Any]) -> Any:
    """The value of ``node``; errors without the hint at ``nonfinite=``, which
    ``predict`` and ``loss`` do not take."""
    with no_nonfinite_hint():
        return plan(g, [node]).run(feeds)[node]


def _check_l2(l2: Any) -> Any:
    if not finite_number(l2) or l2 < 0:
        raise ArgumentError(f"l2 must be a finite number >= 0, not {l2!r}")
    return l2


def _meta(node: Node, **meta: Any) -> None:
    node.graph.nx.nodes[node.name].update(meta)


def _check_sizes(sizes: Any) -> tuple[int, ...]:
    try:
        if isinstance(sizes, (str, bytes)):  # "2,4,1" would be read letter by letter
            raise TypeError
        sizes = tuple(sizes)
    except TypeError:
        raise ArgumentError(f"MLP sizes must be a sequence of layer widths such as [2, 4, 1], not {sizes!r}") from None
    if len(sizes) < 2:
        raise ArgumentError(f"MLP sizes {list(sizes)} need at least two entries: the input width and the output width")
    for i, n in enumerate(sizes):
        if not is_int(n):
            raise ArgumentError(f"MLP sizes[{i}] = {n!r} is not an int")
        if n < 1:
            what = "input" if i == 0 else "output" if i == len(sizes) - 1 else f"hidden layer {i}"
            raise ArgumentError(f"MLP sizes[{i}] = {n}: the {what} has zero width; every layer needs at least one unit")
    return tuple(int(n) for n in sizes)


def rng_of(seed: Any) -> np.random.Generator:
    """``np.random.default_rng(seed)``; ArgumentError for a seed numpy refuses.

    Examples
    --------
    >>> rng_of(0).integers(10) == np.random.default_rng(0).integers(10)
    np.True_
    """
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"seed must be an int >= 0, a numpy Generator or None, not {seed!r} ({exc})") from None


def seed_sequence(seed: Any) -> np.random.SeedSequence:
    """``np.random.SeedSequence(seed)``; ArgumentError for a seed numpy refuses.

    Examples
    --------
    >>> seed_sequence(-1)
    Traceback (most recent call last):
    cgraph.errors.ArgumentError: seed must be an int >= 0 or None, not -1 (expected non-negative integer)
    """
    try:
        return np.random.SeedSequence(seed)
    except (TypeError, ValueError) as exc:
        raise ArgumentError(f"seed must be an int >= 0 or None, not {seed!r} ({exc})") from None
