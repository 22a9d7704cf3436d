"""Jacobians of vector functions: ``vjp_graph`` builds the vector-Jacobian product as a
graph (the adjoint, seeded with a new input ``u_<of>`` instead of 1), ``jacobian``
evaluates it once per element of ``of`` to the whole Jacobian, as ``hvp_graph`` and
``hessian`` do one order higher."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..graph import Graph
from ..memory import gc_paused
from ..node import Node
from ..ops import identity
from ..ops.registry import float_dtype
from .adjoint import _adjoint, _between, _pointwise, adjoint_name, derivative_key, fit_to
from .hessian import resolved, run_at, unit_runs
from .plan import merge_feeds, plan

#: how cg.jacobian is called, for a call without inputs
_AT_A_POINT = ("cg.jacobian evaluates at a point (cg.jacobian(g, x=[1.0, 2.0], ...)), cg.vjp_graph(g) is "
               "the vector-Jacobian product as a graph")


def vjp_graph(g: Graph, wrt: Sequence[str | Node] | str | Node | None = None,
              of: str | Node | None = None) -> Graph:
    r"""The vector-Jacobian product of ``of`` with respect to ``wrt``, as a graph.

    The adjoint of :func:`~cgraph.adjoint`, seeded with a new input ``u_<of>`` (the
    cotangent, of ``of``'s shape) where the adjoint seeds 1: its outputs ``g_<w>`` are
    ``u^T (d of/d w)``, the rows of the Jacobian that ``u`` weighs, without ever forming
    the Jacobian (the unit vectors give its rows: :func:`jacobian`). ``of`` may be an
    array, of a declared shape or not; inputs and params may be scalars or arrays.
    :func:`~cgraph.simplify`, :func:`~cgraph.to_text` and :func:`~cgraph.to_latex` print
    it symbolically; :func:`~cgraph.evaluate` gives its value (feed ``u_<of>`` with
    ``g``'s inputs). For a scalar ``of`` and ``u = 1``, it is the gradient.

    Parameters
    ----------
    g : Graph
        The forward graph; it is not modified.
    wrt : name or Node, or a list of them, optional
        Inputs and params of ``g``, of any shape; default: every input and param, in
        creation order.
    of : str or Node, optional
        The node to differentiate, of any shape (default: the single output).

    Returns
    -------
    Graph
        Its inputs are ``g``'s, then the cotangent ``u_<of>``, declared with ``of``'s shape
        (undeclared where ``of``'s is): ``u2_<of>``, ``u3_<of>``, ... where that name is
        taken. Its outputs are ``g_<w>``, in ``wrt``'s order, named as
        :func:`~cgraph.adjoint` names them (``g2_<w>``, ... where ``g_<w>`` is taken):
        ``g_<w> = sum_i u_i d of_i/d w``, of ``w``'s shape. Read the names from ``inputs``
        and ``outputs``, or from the ``vjp = (of, w, u_<of>)`` attribute each output
        carries (also ``adjoint_of = w``); :func:`~cgraph.to_latex` heads an output
        ``u_{y}^{\top} \frac{\partial y}{\partial w}``. Over undeclared shapes and
        elementwise ops only (a formula of :func:`~cgraph.parse`), the product is
        pointwise, as :func:`~cgraph.adjoint`'s derivatives are there (``g_x =
        2*x*z*u_y`` for ``y = x^2*z``): where a ``w`` was broadcast against ``of``, sum
        ``g_<w>`` over the broadcast dims (:func:`jacobian` does).

    Raises
    ------
    NodeNotFoundError
        ``wrt`` or ``of`` is not a node of ``g``.
    GraphError
        ``wrt`` lists a node twice, names a node that is not an input or param, or holds
        another graph's node; ``g`` has several outputs and no ``of``.
    InputError
        ``wrt`` holds something other than names and nodes (input values).
    NotDifferentiableError
        An op without a derivative rule lies between ``of`` and ``wrt``.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph("softmax")
    >>> x = g.input("x", shape=(3,))
    >>> s = g.output(cg.softmax(x), name="s")
    >>> j = cg.vjp_graph(g)
    >>> j.inputs, j.outputs
    (['x', 'u_s'], ['g_x'])
    >>> print(cg.to_text(cg.simplify(j)))  # u^T (diag(s) - s s^T)
    g_x = softmax(x)*(u_s - sum(u_s*softmax(x), axis=-1, keepdims=True))
    """
    of, names = resolved(g, wrt, of, "vjp_graph", "a vector-Jacobian product", scalar=False)
    with gc_paused():
        return _vjp(g, names, of)


def _vjp(g: Graph, wrt: list[str], of: str) -> Graph:
    out = _adjoint(g, wrt, of, cotangent=True)
    out.name = f"vector-Jacobian product of {g.name}"
    u = out.inputs[-1]
    nodes = out.nx._node
    names = []
    for w, name in zip(wrt, out.outputs):
        if name == u:  # of is the input w itself: d w/d w = I, u^T I is u
            name = identity(Node(out, u), name=adjoint_name(w, nodes)).name
            nodes[name].update(adjoint=True, adjoint_of=w, derivative_of=of)
        nodes[name]["vjp"] = (of, w, u)
        names.append(name)
    out.set_outputs(names)
    out._mark_valid()
    return out


def jacobian(
    g: Graph,
    /,
    wrt: Sequence[str | Node] | str | Node | None = None,
    feeds: Mapping[str, Any] | None = None,
    *,
    of: str | Node | None = None,
    nonfinite: str = "raise",
    **inputs: Any,
) -> np.ndarray | dict[str, np.ndarray]:
    """The Jacobian of the output of ``g`` at a point: :func:`vjp_graph` evaluated once per
    element ``k`` of ``of``, with the cotangent ``u`` the ``k``-th unit vector (row ``k``),
    one plan for all.

    Parameters
    ----------
    g : Graph
    wrt : name or Node, or a list of them, optional
        Inputs and params, scalars or arrays (default: every input and param, in
        creation order).
    feeds : mapping, optional
        Input values by name or node (alternative to keywords).
    of : str or Node, optional
        The node to differentiate, of any shape (default: the single output).
    nonfinite : {"raise", "propagate"}
        As in :func:`~cgraph.evaluate`.
    **inputs
        Input values.

    Returns
    -------
    numpy.ndarray or dict
        For ``wrt`` one name or node: the Jacobian of shape ``of.shape + w.shape`` (the
        shapes of their values at this point), ``J[i..., j...] = d of[i...]/d w[j...]``,
        as JAX's ``jacrev`` and PyTorch's ``jacobian`` give it; ``J.reshape(of.size,
        w.size)`` is the matrix. Otherwise (a list, or the default ``None``), a dict
        ``{w name: Jacobian}`` in ``wrt``'s order, as :func:`~cgraph.grad` returns its
        gradients. For a scalar ``of``, ``J`` has ``w``'s shape and is the gradient
        (``cg.grad``'s values). Each is in the float dtype of its ``w`` value (float64 for
        an int), as ``cg.grad`` gives it; a scalar is a number.

    Raises
    ------
    InputError
        Inputs are missing.
    And the errors of :func:`vjp_graph` and :func:`~cgraph.evaluate`.

    Examples
    --------
    >>> import numpy as np
    >>> import cgraph as cg
    >>> g = cg.Graph("layer")
    >>> W, x = g.input("W", shape=(2, 3)), g.input("x", shape=(3,))
    >>> h = g.output(cg.tanh(W @ x), name="h")
    >>> J = cg.jacobian(g, "x", W=np.eye(2, 3), x=np.zeros(3))  # dh/dx = diag(1 - h^2) W
    >>> J
    array([[1., 0., 0.],
           [0., 1., 0.]])
    >>> cg.jacobian(g, ["W"], W=np.eye(2, 3), x=np.zeros(3))["W"].shape  # dh_i/dW_jk
    (2, 2, 3)
    """
    of_name, names = resolved(g, wrt, of, "jacobian", "a Jacobian", scalar=False)
    feeds = merge_feeds(feeds, inputs, g)
    # the point, checked (missing inputs, the domain), and its shapes
    at = run_at(plan(g, list(dict.fromkeys([of_name, *names]))), feeds, nonfinite, g, _AT_A_POINT)
    shape = np.shape(at[of_name])
    size = int(np.prod(shape))
    blocks = {w: np.empty(shape + np.shape(at[w]), dtype=float_dtype(at[w])) for w in names}
    if names and size:
        j = g._cached(("vjp", *derivative_key(g, wrt, of)), lambda: vjp_graph(g, wrt=wrt, of=of))
        # a pointwise product (undeclared shapes, elementwise ops) is as wide as `of`: fit_to
        # sums it over what a w was broadcast along, as grad does
        spread = shape if _pointwise(g, _between(g, names, of_name)) else None
        rows = {w: b.reshape(size, -1) for w, b in blocks.items()}  # views, row k for of's element k
        units = {j.inputs[-1]: (shape, float_dtype(at[of_name]))}
        for k, values in unit_runs(plan(j, j.outputs), feeds, units, nonfinite, g):
            for w, o in zip(names, j.outputs):
                rows[w][k] = np.ravel(fit_to(values[o], np.shape(at[w]), spread, at[w]))
    blocks = {w: b[()] if b.ndim == 0 else b for w, b in blocks.items()}  # a scalar's is a number
    return blocks[names[0]] if isinstance(wrt, (str, Node)) else blocks
