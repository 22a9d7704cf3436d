"""Second derivatives: ``hessian_graph`` builds the Hessian of a scalar output as a graph
(the forward graph, its adjoint, and one more reverse sweep per ``wrt`` entry), for
scalar inputs; ``hvp_graph`` builds the Hessian-vector product (one more reverse sweep of
``sum(g_w*v_w)``), for arrays too; ``hessian`` evaluates either at a point to an
``(N, N)`` array, as ``adjoint`` and ``grad`` split the first derivative."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import GraphError, InputError, ShapeError
from ..graph import Graph, require_graph
from ..memory import gc_paused
from ..node import Node
from ..ops import add
from ..ops import sum as sum_
from ..ops.registry import float_dtype
from .adjoint import (
    _adjoint,
    _between,
    _pointwise,
    _prune,
    _resolve_of,
    _resolve_wrt,
    _Sweep,
    ancestors,
    arrays_fed,
    derivative_key,
    fit_to,
    free_name,
)
from .plan import merge_feeds, plan

#: what to do instead for an array (the message of a refused non-scalar wrt)
_HVP = ("cg.hessian_graph takes scalar inputs and params only (its outputs are the n*n second "
        "derivatives, one scalar each); for arrays, cg.hvp_graph(g, wrt=[{w!r}]) is the Hessian-vector "
        "product as a graph, and cg.hessian(g, {w}=...) evaluates the Hessian to an (N, N) array")


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
        points to :func:`hvp_graph` and :func:`hessian`, which take arrays).
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
    of, names = resolved(g, wrt, of, "hessian_graph", "a Hessian")
    _check_scalar(g, names)
    with gc_paused():
        return _hessian(g, names, of)


def resolved(g: Graph, wrt: Sequence[str | Node] | str | Node | None, of: str | Node | None, caller: str,
             what: str, scalar: bool = True) -> tuple[str, list[str]]:
    """``(of name, wrt names)`` of the derivative ``caller`` takes of the validated graph
    ``g`` (``what``: ``"a Hessian"``, ...), ``of`` a scalar unless ``scalar`` is False."""
    require_graph(g, caller).validate()
    of = _resolve_of(g, of, scalar, hint="")  # (a Hessian's of is a scalar: no Jacobian for it)
    names = _resolve_wrt(g, wrt)
    _check_wrt(g, names, what)
    return of, names


def _check_wrt(g: Graph, names: list[str], what: str) -> None:
    """GraphError for a ``wrt`` node that is not an input or param (``what``: of what)."""
    nodes = g.nx._node
    for w in names:
        data = nodes[w]
        if data["role"] not in ("input", "param"):
            kind = data["op"] if data["role"] == "op" else data["role"]
            raise GraphError(
                f"wrt {w!r} is a {kind} node of graph {g.name!r}, not an input or param: {what} "
                f"is taken with respect to inputs and params (its inputs and params: "
                f"{', '.join(g.inputs + g.params) or 'none'})"
            )


def _check_scalar(g: Graph, names: list[str]) -> None:
    """ShapeError for a ``wrt`` node of a declared shape that is not a scalar's."""
    nodes = g.nx._node
    for w in names:
        shape = nodes[w]["shape"]
        if shape is not None and any(d != 1 for d in shape):
            raise ShapeError(f"wrt {w!r} has shape {tuple(shape)}: " + _HVP.format(w=w))


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


def hvp_graph(g: Graph, wrt: Sequence[str | Node] | str | Node | None = None,
              of: str | Node | None = None) -> Graph:
    r"""The Hessian-vector product of ``of`` with respect to ``wrt``, as a graph.

    The forward graph, one adjoint sweep (:func:`~cgraph.adjoint`: ``g_w``, the first
    derivatives) and one more reverse sweep from ``sum(g_w1*v_w1) + sum(g_w2*v_w2) + ...``
    over the ``wrt``, all in one graph: its outputs ``hv_<w>`` are the blocks of
    ``H @ v`` for the direction ``v`` that the new inputs ``v_<w>`` hold (one per ``wrt``
    node, of its shape), without ever forming the Hessian. Inputs and params may be
    scalars or arrays, mixed; :func:`~cgraph.simplify`, :func:`~cgraph.to_text` and
    :func:`~cgraph.to_latex` print ``H v`` symbolically, :func:`~cgraph.evaluate` gives
    its value (feed the ``v_<w>`` with ``g``'s inputs), and :func:`~cgraph.hessian`
    evaluates it once per element to the whole Hessian.

    Parameters
    ----------
    g : Graph
        The forward graph; it is not modified.
    wrt : name or Node, or a list of them, optional
        Inputs and params of ``g``, of any shape; default: every input and param, in
        creation order.
    of : str or Node, optional
        The scalar node to differentiate (default: the single output).

    Returns
    -------
    Graph
        Its inputs are ``g``'s, then the direction ``v_<w>`` for each ``wrt`` node ``w``, in
        ``wrt``'s order, declared with ``w``'s shape (undeclared where ``w``'s is). Its
        outputs are ``hv_<w>``, in ``wrt``'s order: ``hv_<w> = sum_u d/dw (dy/du) * v_<u>``,
        the ``w`` block of ``H v``. Neither name clashes with a node of ``g`` or of its
        adjoint: where ``v_<w>`` (``hv_<w>``) is taken, the name is the first free of
        ``v2_<w>``, ``v3_<w>``, ... (``hv2_<w>``, ...), as :func:`~cgraph.adjoint` names
        ``g2_<w>``; read them from ``inputs`` and ``outputs``, or from the ``hvp = (y, w,
        v_<w>)`` attribute each output carries (also ``adjoint_of = w``).
        :func:`~cgraph.to_latex` heads an output ``\left(\nabla^{2} y \, v\right)_{w}``.
        Over undeclared shapes and elementwise ops only (a formula of :func:`~cgraph.parse`),
        the product is pointwise, as :func:`~cgraph.adjoint`'s derivatives are there:
        ``hv_x = 2*z*v_x + 2*x*v_z`` for ``y = x^2*z``.

    Raises
    ------
    NodeNotFoundError
        ``wrt`` or ``of`` is not a node of ``g``.
    GraphError
        ``wrt`` lists a node twice, names a node that is not an input or param, or holds
        another graph's node; ``g`` has several outputs and no ``of``.
    ShapeError
        ``of`` is not a scalar.
    InputError
        ``wrt`` holds something other than names and nodes (input values).
    NotDifferentiableError
        An op without a derivative rule lies between ``of`` and ``wrt``, in ``g`` or in
        its adjoint.

    Examples
    --------
    >>> import cgraph as cg
    >>> h = cg.hvp_graph(cg.parse("y = x^2*z"))
    >>> h.inputs, h.outputs
    (['x', 'z', 'v_x', 'v_z'], ['hv_x', 'hv_z'])
    >>> print(cg.to_text(cg.simplify(h)))
    hv_x = 2*z*v_x + 2*x*v_z
    hv_z = 2*x*v_x
    >>> g = cg.Graph("cubes")
    >>> x = g.input("x", shape=(3,))
    >>> y = g.output(cg.sum(x * x * x), name="y")
    >>> cg.evaluate(cg.hvp_graph(g), x=[1.0, 2.0, 3.0], v_x=[1.0, -1.0, 2.0])["hv_x"]
    array([  6., -12.,  36.])
    """
    of, names = resolved(g, wrt, of, "hvp_graph", "a Hessian-vector product")
    with gc_paused():
        return _hvp(g, names, of)


def _hvp(g: Graph, wrt: list[str], of: str) -> Graph:
    out = _adjoint(g, wrt, of)  # a new graph, ours to extend: forward nodes and the g_w
    out.name = f"hessian-vector product of {g.name}"
    if not wrt:
        return out
    nodes = out.nx._node
    # over undeclared shapes and elementwise ops, the adjoint is pointwise (no sums), and
    # so is the product, so that a formula's H v prints as one (2*z*v_x + 2*x*v_z); else
    # each block is summed to a scalar (a scalar's own, shape (), needs no sum), as is the
    # zero block of a w that does not reach `of` (zeros_like(u)*v_u would broadcast the rest)
    active = _between(g, wrt, of)
    pointwise = _pointwise(g, active)
    terms, directions = [], []
    for w, gw in zip(wrt, out.outputs):
        v = out.input(free_name("v", w, nodes), shape=nodes[w]["shape"])
        directions.append(v.name)
        term = Node(out, gw) * v
        terms.append(term if nodes[w]["shape"] == () or (pointwise and w in active) else sum_(term))
    product = (terms[0] if len(terms) == 1 else add(*terms)).named(free_name("gv", of, nodes))
    forward = set(out.nx)  # what the second sweep differentiates: g's nodes, the adjoint and the product
    swept = _Sweep(out, forward, _between(out, wrt, product.name), product.name).run(out.schedule(), wrt)
    names = []
    for w, n, v in zip(wrt, swept, directions):
        name = out.rename(n, free_name("hv", w, nodes)).name  # a node of the sweep's own: g2_<w>, ...
        nodes[name]["hvp"] = (of, w, v)
        names.append(name)
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
    """The Hessian of the output of ``g`` at a point, for scalar and array inputs.

    For scalar ``wrt`` values, :func:`hessian_graph` evaluated; where one is an array,
    :func:`hvp_graph` evaluated once per element ``k`` of the ``wrt`` values, with the
    direction ``v`` the ``k``-th unit vector (row ``k`` of the Hessian), one plan for all.

    Parameters
    ----------
    g : Graph
    wrt : name or Node, or a list of them, optional
        Inputs and params, scalars or arrays (default: every input and param, in
        creation order).
    feeds : mapping, optional
        Input values by name or node (alternative to keywords).
    of : str or Node, optional
        The scalar node to differentiate (default: the single output).
    nonfinite : {"raise", "propagate"}
        As in :func:`~cgraph.evaluate`.
    **inputs
        Input values.

    Returns
    -------
    numpy.ndarray
        Of shape ``(N, N)``, ``N`` the total number of elements of the ``wrt`` values
        (``N = n = len(wrt)`` for scalars): ``H[i, j]`` is d/dw_j (dy/dw_i) for the
        elements of the ``wrt`` values, in ``wrt``'s order, each flattened in C order
        (``np.ravel``). The block of ``w_i`` and ``w_j`` spans
        ``H[i0:i1, j0:j1]``, its offsets the running sums of the sizes, and
        ``H[i0:i1, j0:j1].reshape(w_i.shape + w_j.shape)`` is indexed by an element of
        each. Symmetry is not imposed: it is what the derivatives give (to rounding, for
        twice continuously differentiable functions). At a kink (``relu`` and ``abs`` at 0,
        ``maximum`` and ``minimum`` at a tie) the first derivative's subgradient is
        differentiated, its step taken as flat: d2/dx2 is 0, and d2/dz dx of
        ``relu(x)*z`` is 0 at x = 0 (d/dx ``relu`` is 0 there, as :func:`~cgraph.grad`
        gives), of ``maximum(x, z)*w`` at a tie 1/2. Its dtype is the float dtype of the
        ``wrt`` values (float64 for ints; the widest, when they differ), as ``cg.grad``
        gives.

    Raises
    ------
    InputError
        Inputs are missing.
    ShapeError
        ``of`` is not a scalar at these inputs.
    And the errors of :func:`hessian_graph`, :func:`hvp_graph` and :func:`~cgraph.evaluate`.

    Examples
    --------
    >>> import numpy as np
    >>> import cgraph as cg
    >>> cg.hessian(cg.parse("y = x^2*z"), x=3.0, z=5.0)
    array([[10.,  6.],
           [ 6.,  0.]])
    >>> g = cg.Graph("quartic")
    >>> w = g.input("w", shape=(2,))
    >>> y = g.output(cg.sum(w ** 4), name="y")
    >>> cg.hessian(g, w=np.array([1.0, 2.0]))  # diag(12 w^2)
    array([[12.,  0.],
           [ 0., 48.]])
    >>> cg.hessian(cg.parse("y = maximum(x, z)*w"), x=1.0, z=1.0, w=3.0)  # a tie: grad's 1/2 each
    array([[0. , 0. , 0.5],
           [0. , 0. , 0.5],
           [0.5, 0.5, 0. ]])
    """
    of_name, names = resolved(g, wrt, of, "hessian", "a Hessian")
    feeds = merge_feeds(feeds, inputs, g)
    if all(_one_element(g, w, feeds) for w in names):
        return _scalar_hessian(g, wrt, of, names, of_name, feeds, nonfinite)
    return _hvp_hessian(g, wrt, of, names, of_name, feeds, nonfinite)


def _one_element(g: Graph, w: str, feeds: Mapping[str, Any]) -> bool:
    """True when ``w`` is a scalar (one element) by its declared shape and by its value,
    if fed (a value that is no array, a ragged list, counts: evaluate says why)."""
    declared = g.nx._node[w]["shape"]
    if declared is not None and any(d != 1 for d in declared):
        return False
    shape = _shape(feeds[w]) if w in feeds else ()
    return shape is None or int(np.prod(shape)) == 1


def _scalar_hessian(g: Graph, wrt: Any, of: Any, names: list[str], of_name: str,
                    feeds: dict[str, Any], nonfinite: str) -> np.ndarray:
    """The Hessian of scalars: :func:`hessian_graph`'s n*n outputs, evaluated once."""
    h = g._cached(("hessian", *derivative_key(g, wrt, of)), lambda: hessian_graph(g, wrt=wrt, of=of))
    keep = list(dict.fromkeys([*h.outputs, of_name, *names]))
    values = run_at(plan(h, keep), feeds, nonfinite, g, _AT_A_POINT)
    _require_scalar(of_name, values[of_name], feeds)
    n = len(names)
    dtype = np.result_type(*(float_dtype(values[w]) for w in names)) if names else np.dtype(np.float64)
    out = np.empty((n, n), dtype=dtype)
    for k, o in enumerate(h.outputs):
        out[divmod(k, n)] = np.reshape(values[o], ())
    return out


def _hvp_hessian(g: Graph, wrt: Any, of: Any, names: list[str], of_name: str,
                 feeds: dict[str, Any], nonfinite: str) -> np.ndarray:
    """The Hessian where a ``wrt`` value is an array: row by row, :func:`hvp_graph`
    evaluated at the unit vectors (:func:`unit_runs`)."""
    # the point, checked (missing inputs, the domain, the output a scalar), and its shapes
    at = run_at(plan(g, list(dict.fromkeys([of_name, *names]))), feeds, nonfinite, g, _AT_A_POINT)
    _require_scalar(of_name, at[of_name], feeds)
    h = g._cached(("hvp", *derivative_key(g, wrt, of)), lambda: hvp_graph(g, wrt=wrt, of=of))
    directions = [h.nx._node[o]["hvp"][2] for o in h.outputs]
    shapes = [np.shape(at[w]) for w in names]
    dtypes = [float_dtype(at[w]) for w in names]
    ends = np.cumsum([int(np.prod(s)) for s in shapes]).tolist()
    starts = [0, *ends[:-1]]
    out = np.empty((ends[-1], ends[-1]), dtype=np.result_type(*dtypes))
    units = unit_runs(plan(h, h.outputs), feeds, dict(zip(directions, zip(shapes, dtypes))), nonfinite, g)
    for row, values in units:
        for w, o, shape, i, j in zip(names, h.outputs, shapes, starts, ends):
            out[row, i:j] = np.ravel(fit_to(values[o], shape, like=at[w]))
    return out


def unit_runs(p: Any, feeds: dict[str, Any], directions: Mapping[str, tuple[tuple, Any]], nonfinite: str,
              g: Graph) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(k, values)``: the plan ``p`` run at ``feeds`` once per element of the
    ``directions`` (new inputs: ``{name: (shape, dtype)}``), the ``k``-th run with
    the ``k``-th unit vector (counting through them in order, each in C order) and
    the other directions zero: the rows of a Hessian from an HVP, of a Jacobian from
    a VJP. (A numpy plan cannot batch the directions: broadcasting a stack of them
    through ``g``'s ops would not keep them apart.)"""
    zeros = {v: np.zeros(shape, dtype) for v, (shape, dtype) in directions.items()}
    k = 0
    for v, zero in zeros.items():
        e = np.zeros_like(zero)
        step = {**feeds, **zeros, v: e}
        for i in range(e.size):
            e.flat[i] = 1
            yield k, p.run(step, nonfinite=nonfinite, source=g)
            e.flat[i] = 0
            k += 1


#: how cg.hessian is called, for a call without inputs
_AT_A_POINT = "cg.hessian evaluates at a point (cg.hessian(g, x=2.0, ...)), cg.hessian_graph(g) is the Hessian as a graph"


def run_at(p: Any, feeds: dict[str, Any], nonfinite: str, g: Graph, hint: str) -> dict[str, Any]:
    """``p.run(feeds)``, a call without inputs told how to give them (``hint``)."""
    try:
        return p.run(feeds, nonfinite=nonfinite, source=g)
    except InputError as exc:
        if feeds:
            raise
        raise InputError(f"{exc}; {hint}") from None


def _require_scalar(of: str, value: Any, feeds: Mapping[str, Any]) -> None:
    shape = np.shape(value)
    if int(np.prod(shape)) != 1:
        raise ShapeError(f"cannot take the Hessian of {of!r}: it is of shape {shape} at these inputs"
                         f"{arrays_fed(feeds)}; reduce it first (e.g. cg.sum)")


def _shape(value: Any) -> tuple | None:
    """``np.shape(value)``, or None for what is no array (a ragged list: evaluate says why)."""
    try:
        return np.shape(value)
    except (TypeError, ValueError):
        return None
