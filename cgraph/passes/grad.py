"""``grad``: the adjoint graph, evaluated: eagerly on the first call, then built once per
(graph, wrt, of), cached, and run as a plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..graph import Graph, require_graph
from .adjoint import adjoint, derivative_key, fit_to, of_name, pointwise_of, require_separable
from .eager import eager_grad
from .plan import merge_feeds, plan


def gradient_graph(g: Graph, wrt: Sequence[str] | str | None = None, of: str | None = None) -> Graph:
    """``adjoint(g, wrt, of)``, cached on ``g`` until ``g`` changes."""
    key = ("adjoint", *derivative_key(g, wrt, of))
    return g._cached(key, lambda: adjoint(g, wrt=wrt, of=of))


def spread_node(g: Graph, wrt: Sequence[str] | str | None = None, of: str | None = None) -> str | None:
    """``pointwise_of(g, wrt, of)``, cached on ``g`` until ``g`` changes.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.parse("x*x + z")
    >>> spread_node(g), spread_node(g) is spread_node(g)
    ('y', True)
    """
    key = ("pointwise", *derivative_key(g, wrt, of))
    return g._cached(key, lambda: pointwise_of(g, wrt=wrt, of=of))


def grad(
    g: Graph,
    /,
    wrt: Sequence[str] | str | None = None,
    feeds: Mapping[str, Any] | None = None,
    *,
    of: str | None = None,
    nonfinite: str = "raise",
    **inputs: Any,
) -> dict[str, np.ndarray]:
    """Gradients of the output of ``g`` at a point: the adjoint graph, evaluated.

    Parameters
    ----------
    g : Graph
    wrt : name or Node, or a list of them, optional
        Default: every input and param.
    feeds : mapping, optional
        Input values by name or node (alternative to keywords).
    of : str or Node, optional
        The node to differentiate (default: the single output): a scalar, or of
        undeclared shape, differentiated pointwise (see :func:`~cgraph.adjoint`). An
        ``of`` that evaluates to an array whose elements an input element reaches
        several of, other than by broadcasting the input (through a softmax, a matmul,
        a reduction broadcast back) is a ShapeError: its gradient, that of the sum of
        its elements, is not its elements' derivatives (0 for a softmax);
        :func:`~cgraph.jacobian` gives those, ``cg.sum`` of it the sum's gradient.
    nonfinite : {"raise", "propagate"}
        As in :func:`~cgraph.evaluate`.
    **inputs
        Input values. A gradient has the shape of its input: where an input was
        broadcast against a larger one, its gradient is summed over those dims.

    Returns
    -------
    dict
        ``{wrt name: gradient}``, numpy values in the float dtype of their input
        (float16, float32 or float64; float64 for an int), as in torch and JAX,
        whatever the other inputs' dtypes, a constant gradient too (d(x + z)/dx = 1
        is float16 for a float16 ``x``, d(x*z)/dx = z too for a float64 ``z``); an
        array gradient is a new writeable array, never a view of an input.

    Notes
    -----
    The first call on a graph (for this ``wrt`` and ``of``, the graph unchanged since)
    evaluates each node of the adjoint as the reverse sweep makes it, without storing
    the adjoint graph or compiling its plan (``cgraph/passes/eager.py``): one gradient
    of a big graph costs less than half as much (docs/performance.md, W5). The second
    call builds both and caches them on the graph, so that later calls only run the
    plan; a loop pays one eager sweep more than it used to. Both paths give the same
    bits and the same errors: where the eager sweep meets an error, it leaves the call
    to the graph path, which reports it naming the node.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.parse("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    >>> d = cg.grad(g, x=2.0, z=3.0)
    >>> round(float(d["x"]), 7), round(float(d["z"]), 7)
    (1208.3812151, 809.7074792)
    """
    require_graph(g, "grad")
    feeds = merge_feeds(feeds, inputs, g)
    if _first_call(g, wrt, of):
        found = eager_grad(g, wrt, of, feeds, nonfinite)
        if found is not None:
            if found[1]:
                _separable(g, found[2], of, found[0], feeds)
            return _fitted(*found)
    ga = gradient_graph(g, wrt, of)
    names = [ga.nx.nodes[o]["adjoint_of"] for o in ga.outputs]
    if not names:  # wrt=[] or a graph without inputs: nothing to differentiate, nothing to evaluate
        return {}
    # the function's own value too: a derivative where the function is undefined (d/dx log(x)
    # at x = -1) is a DomainError naming the node, not the formula's value there
    keep = list(dict.fromkeys([*ga.outputs, *(ga.nx.nodes[o]["derivative_of"] for o in ga.outputs[:1]), *names]))
    values = plan(ga, keep).run(feeds, nonfinite=nonfinite, source=g)
    _separable(g, names, of, values, feeds)
    return _fitted(values, ga.outputs, names, spread_node(g, wrt, of))


def _separable(g: Graph, names: list[str], of: str | None, values: dict, feeds: Mapping[str, Any]) -> None:
    """``require_separable`` for the output ``grad`` differentiates, at these values."""
    of = g.outputs[0] if of is None else of_name(g, of)
    require_separable(g, names, of, values[of], feeds)


def _first_call(g: Graph, wrt: Sequence[str] | str | None, of: str | None) -> bool:
    """True on the first ``grad`` of ``g`` as it is now for (wrt, of), unless its gradient
    graph is built already (``cg.compile`` builds it too)."""
    key = derivative_key(g, wrt, of)
    built = g._cache.get(("adjoint", *key))
    if built is not None and built[0] == g._stamp():
        return False
    calls = g._cached(("grad calls", *key), lambda: [0])
    calls[0] += 1
    return calls[0] == 1


def _fitted(values: dict, outputs: list[str], names: list[str], spread: str | None) -> dict[str, np.ndarray]:
    """The gradient of each wrt node ``names[i]`` from the value of its adjoint ``outputs[i]``."""
    # a pointwise derivative is spread over the output's shape, then summed to the node's
    shape = None if spread is None else np.shape(values[spread])
    return {w: fit_to(values[o], np.shape(values[w]), shape, values[w]) for w, o in zip(names, outputs)}
