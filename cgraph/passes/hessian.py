"""Second derivatives: ``hessian_graph`` builds the Hessian of a scalar output as a graph
(the forward graph, its adjoint, and one more reverse sweep per ``wrt`` entry);
``hessian`` evaluates it at a point to an ``(n, n)`` array, as ``adjoint`` and ``grad``
split the first derivative."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import GraphError, InputError, ShapeError
from ..graph import Graph, require_graph
from ..memory import gc_paused
from ..node import Node
from ..ops.registry import float_dtype
from .adjoint import _adjoint, _between, _prune, _resolve_of, _resolve_wrt, _Sweep, ancestors, derivative_key
from .plan import merge_feeds, plan

#: what to do instead for a vector (the message of a refused non-scalar wrt)
_HVP = ("take the Hessian of scalar inputs and params only; for a vector v, a Hessian-vector "
        "product is the adjoint of sum(g_{w}*v): ga = cg.adjoint(g, wrt=[{w!r}]); "
        "v = ga.input('v', shape=...); ga.output(cg.sum(ga.node(ga.outputs[0])*v), name='gv'); "
        "cg.adjoint(ga, wrt=[{w!r}], of='gv')")


def hessian_graph(g: Graph, wrt: Sequence[str | Node] | str | Node | None = None,
                  of: str | Node | None = None) -> Graph:
    r"""The Hessian of ``of`` with respect to ``wrt``, as a graph of second derivatives.

    The forward graph, one adjoint sweep (:func:`~cgraph.adjoint`: ``g_w``, the first
    derivatives) and one more reverse sweep from each ``g_w``, as ``cg.adjoint(cg.adjoint(g),
    of="g_x")`` gives one row by hand, all in one graph whose outputs are the ``n*n``
    second derivatives; :func:`~cgraph.simplify`, :func:`~cgraph.to_text` and
    :func:`~cgraph.to_latex` print them, and :func:`~cgraph.hessian` evaluates them.

    Parameters
    ----------
    g : Graph
        The forward graph; it is not modified.
    wrt : name or Node, or a list of them, optional
        Inputs and params of ``g``, each a scalar (shape ``()``, all 1s, or undeclared);
        default: every input and param, in creation order.
    of : str or Node, optional
        The scalar node to differentiate (default: the single output).

    Returns
    -------
    Graph
        Its outputs are the second derivatives in row-major order: output ``i*n + j``
        is d/dw_j (dy/dw_i), the derivative by ``wrt[j]`` of the first derivative by
        ``wrt[i]`` (row ``i``, column ``j``), printed by ``cg.to_latex`` as
        ``\frac{\partial^{2} y}{\partial w_j \, \partial w_i}``. Row ``i`` is the adjoint
        sweep of ``g_<w_i>``, so its outputs take that pass's names: ``g2_<w>`` for row 0,
        ``g3_<w>`` for row 1, ... (the next free ``g<k>_<w>``: read them from ``outputs``).
        Each carries ``partial = (y, (w_j, w_i))`` and ``adjoint_of = w_j``; a ``w_j``
        the row does not depend on gets ``zeros_like(w_j)``.

    Raises
    ------
    NodeNotFoundError
        ``wrt`` or ``of`` is not a node of ``g``.
    GraphError
        ``wrt`` lists a node twice, names a node that is not an input or param, or holds
        another graph's node; ``g`` has several outputs and no ``of``.
    ShapeError
        ``of`` is not a scalar, or a ``wrt`` node's declared shape is not (the message
        says how to take a Hessian-vector product instead).
    InputError
        ``wrt`` holds something other than names and nodes (input values).
    NotDifferentiableError
        An op without a derivative rule lies between ``of`` and ``wrt``, in ``g`` or in
        its adjoint.

    Examples
    --------
    >>> import cgraph as cg
    >>> h = cg.hessian_graph(cg.parse("y = x^2*z"))
    >>> h.outputs
    ['g2_x', 'g2_z', 'g3_x', 'g3_z']
    >>> print(cg.to_text(cg.simplify(h)))
    g2_x = 2*z
    g2_z = 2*x
    g3_x = 2*x
    g3_z = 0
    """
    require_graph(g, "hessian_graph").validate()
    of = _resolve_of(g, of)
    names = _resolve_wrt(g, wrt)
    _check_wrt(g, names)
    with gc_paused():
        return _hessian(g, names, of)


def _check_wrt(g: Graph, names: list[str]) -> None:
    nodes = g.nx._node
    for w in names:
        data = nodes[w]
        if data["role"] not in ("input", "param"):
            what = data["op"] if data["role"] == "op" else data["role"]
            raise GraphError(
                f"wrt {w!r} is a {what} node of graph {g.name!r}, not an input or param: a Hessian "
                f"is taken with respect to inputs and params (its inputs and params: "
                f"{', '.join(g.inputs + g.params) or 'none'})"
            )
        shape = data["shape"]
        if shape is not None and any(d != 1 for d in shape):
            raise ShapeError(f"wrt {w!r} has shape {tuple(shape)}: cg.hessian and cg.hessian_graph "
                             + _HVP.format(w=w))


def _hessian(g: Graph, wrt: list[str], of: str) -> Graph:
    out = _adjoint(g, wrt, of)  # a new graph, ours to extend: forward nodes and the g_w
    out.name = f"hessian of {g.name}"
    first = list(out.outputs)
    forward = set(out.nx)  # what the second sweeps differentiate: g's nodes and the first adjoint
    schedule = out.schedule()
    names: list[str] = []
    for gi in first:  # a rule reads only its node, operands and adjoint: never an earlier row's node
        active = _between(out, wrt, gi, ancestors(out, [gi], schedule))  # (not out.schedule(): it grows)
        names.extend(_Sweep(out, forward, active, gi).run(schedule, wrt))
    out.set_outputs(names)
    _prune(out, forward, names)
    out._mark_valid()
    return out


def hessian(
    g: Graph,
    /,
    wrt: Sequence[str | Node] | str | Node | None = None,
    feeds: Mapping[str, Any] | None = None,
    *,
    of: str | Node | None = None,
    nonfinite: str = "raise",
    **inputs: Any,
) -> np.ndarray:
    """The Hessian of the output of ``g`` at a point: :func:`hessian_graph`, evaluated.

    Parameters
    ----------
    g : Graph
    wrt : name or Node, or a list of them, optional
        Scalar inputs and params (default: every input and param, in creation order).
    feeds : mapping, optional
        Input values by name or node (alternative to keywords).
    of : str or Node, optional
        The scalar node to differentiate (default: the single output).
    nonfinite : {"raise", "propagate"}
        As in :func:`~cgraph.evaluate`.
    **inputs
        Input values; those of ``wrt`` must be scalars (one element).

    Returns
    -------
    numpy.ndarray
        Of shape ``(n, n)`` for ``n = len(wrt)``, rows and columns in ``wrt``'s order:
        ``H[i, j]`` is d/dw_j (dy/dw_i). Its dtype is the float dtype of the ``wrt``
        values (float64 for ints; the widest, when they differ), as ``cg.grad`` gives.

    Raises
    ------
    InputError
        A ``wrt`` value is an array of more than one element (the message says how to
        take a Hessian-vector product instead), or inputs are missing.
    ShapeError
        ``of`` is not a scalar at these inputs.
    And the errors of :func:`hessian_graph` and :func:`~cgraph.evaluate`.

    Examples
    --------
    >>> import cgraph as cg
    >>> cg.hessian(cg.parse("y = x^2*z"), x=3.0, z=5.0)
    array([[10.,  6.],
           [ 6.,  0.]])
    """
    require_graph(g, "hessian").validate()
    feeds = merge_feeds(feeds, inputs, g)
    of_name = _resolve_of(g, of)
    names = _resolve_wrt(g, wrt)
    _check_wrt(g, names)
    for w in names:
        shape = _shape(feeds[w]) if w in feeds else ()
        if shape is not None and int(np.prod(shape)) != 1:
            role = g.nx.nodes[w]["role"]
            raise InputError(f"{role} {w!r} is fed an array of shape {shape}: " + _HVP.format(w=w))
    h = g._cached(("hessian", *derivative_key(g, wrt, of)), lambda: hessian_graph(g, wrt=wrt, of=of))
    keep = list(dict.fromkeys([*h.outputs, of_name, *names]))
    try:
        values = plan(h, keep).run(feeds, nonfinite=nonfinite, source=g)
    except InputError as exc:
        if feeds:
            raise
        raise InputError(f"{exc}; cg.hessian evaluates at a point (cg.hessian(g, x=2.0, ...)), "
                         "cg.hessian_graph(g) is the Hessian as a graph") from None
    shape = np.shape(values[of_name])
    if int(np.prod(shape)) != 1:
        arrays = [f"{k!r} {np.shape(v)}" for k, v in feeds.items() if np.size(v) != 1]
        raise ShapeError(
            f"cannot take the Hessian of {of_name!r}: it is of shape {shape} at these inputs"
            + (f" (arrays: {', '.join(arrays)})" if arrays else "")
            + "; reduce it first (e.g. cg.sum) or feed scalars"
        )
    n = len(names)
    dtype = np.result_type(*(float_dtype(values[w]) for w in names)) if names else np.dtype(np.float64)
    out = np.empty((n, n), dtype=dtype)
    for k, o in enumerate(h.outputs):
        out[divmod(k, n)] = np.reshape(values[o], ())
    return out


def _shape(value: Any) -> tuple | None:
    """``np.shape(value)``, or None for what is no array (a ragged list: evaluate says why)."""
    try:
        return np.shape(value)
    except (TypeError, ValueError):
        return None
