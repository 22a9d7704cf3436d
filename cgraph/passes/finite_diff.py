"""Central finite differences: the lecture's Approach 1, used to check the others."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..checks import finite_number
from ..errors import ArgumentError, GraphError, InputError
from ..graph import Graph, require_graph
from .adjoint import _resolve_of, _resolve_wrt, may_mix, require_separable
from .plan import _extra_message, check_input, merge_feeds, plan


def reference_dtype(dtype: Any) -> np.dtype:
    """The dtype finite differences compute in for an input of ``dtype``: float64 for
    float16 and float32 (whose values float64 holds exactly), the input's own dtype for
    float64 and wider.

    Central differences in float32 are good to about 1e-3 at best (rounding over a step of
    ``cbrt(eps)``), too coarse to check a float32 gradient, whose own rounding is near
    1e-6; in float64 on the same values they are good to about 1e-10.

    Examples
    --------
    >>> reference_dtype(np.float32), reference_dtype(np.float16), reference_dtype(np.float64)
    (dtype('float64'), dtype('float64'), dtype('float64'))
    """
    return np.result_type(dtype, np.float64)


def default_step(x: np.ndarray) -> np.ndarray:
    """The step per element: ``cbrt(eps) * max(1, |x|)`` for the dtype's machine eps.

    ``cbrt(eps)`` balances the truncation error of central differences (O(h^2))
    against rounding (O(eps/h)): about 6e-6 in float64, 5e-3 in float32.
    """
    eps = np.finfo(x.dtype if x.dtype.kind == "f" else np.float64).eps
    return np.cbrt(eps) * np.maximum(1.0, np.abs(x))


def finite_difference(
    g: Graph,
    /,
    wrt: Sequence[str] | str | None = None,
    eps: float | None = None,
    feeds: Mapping[str, Any] | None = None,
    *,
    of: str | None = None,
    **inputs: Any,
) -> dict[str, np.ndarray]:
    """Gradients by central differences ``(f(x + eps d_i) - f(x - eps d_i)) / 2 eps``.

    The differences are taken in float64: float16 and float32 values (of every input
    and param, not only ``wrt``) are upcast first, which is exact, so the result is an
    accurate reference for the gradient of the same graph at the same point, to
    check a float32 gradient against (as :func:`~cgraph.check_gradients` does).

    Every element of every ``wrt`` input is perturbed on its own, so the cost is two
    evaluations per element: fine for checking, expensive for large inputs (the
    lecture's point).

    Parameters
    ----------
    g : Graph
    wrt : name or Node, or a list of them, optional
        Default: every input and param.
    eps : float, optional
        The step; by default ``cbrt(machine eps) * max(1, |x_i|)`` per element, with
        the machine eps of the dtype the differences are taken in (float64's: about
        6e-6 * max(1, |x_i|)).
    feeds : mapping, optional
        Input values by name or node.
    of : str or Node, optional
        The scalar node to differentiate (default: the single output); an array is
        summed, and refused where :func:`~cgraph.grad` refuses it (where its elements
        mix: through a softmax, a matmul, a reduction broadcast back).
    **inputs
        Input values.

    Returns
    -------
    dict
        ``{wrt name: gradient}``, each of its input's shape (a numpy scalar for a
        scalar input, as :func:`~cgraph.grad` gives it), in the dtype the differences
        were taken in: float64 for float16, float32 and integer inputs (a reference
        more accurate than the float16 or float32 gradient of :func:`~cgraph.grad`),
        the input's own dtype for float64 and wider. An element whose step
        ``x_i +- eps`` leaves the function's domain (``sqrt`` at 0, ``log`` at 0) is NaN,
        as the difference quotient is undefined there; no error is raised, so a
        gradient check can report that element and go on with the others.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.parse("x^2 + 3*x")
    >>> round(float(cg.finite_difference(g, x=1.0)["x"]), 8)
    5.0

    The lecture's example with its step ``e = 10**-8`` gives the same bits as its
    hand-written Python:

    >>> g = cg.parse("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
    >>> print(*cg.finite_difference(g, eps=10**-8, x=2, z=3).values())
    1208.3812094942914 809.7074726265419

    A float32 input gives a float64 gradient, computed on its values upcast:

    >>> import numpy as np
    >>> d = cg.finite_difference(cg.parse("x^3"), x=np.float32(1.1))["x"]
    >>> d.dtype, round(float(d), 8) == round(3 * float(np.float32(1.1))**2, 8)
    (dtype('float64'), True)
    """
    require_graph(g, "finite_difference")
    if eps is not None and (not finite_number(eps) or eps <= 0):
        raise ArgumentError(f"eps must be a finite number > 0, not {eps!r}")
    feeds = merge_feeds(feeds, inputs, g)
    of = _resolve_of(g, of)
    names = _resolve_wrt(g, wrt)
    run = plan(g, [of]).run
    nodes = g.nx.nodes
    extra = [k for k in feeds if k not in nodes or nodes[k]["role"] not in ("input", "param")]
    if extra:  # as evaluate and grad refuse them: a misspelt name must not go unnoticed
        raise InputError(_extra_message(g, extra))
    base = {}
    for n, data in g.nx.nodes(data=True):
        if data["role"] in ("input", "param"):
            value = feeds[n] if n in feeds else data["attrs"].get("value")
            if value is not None or n in feeds:  # a fed None is a bad value, not a missing input
                base[n] = upcast(check_input(n, value, data["shape"], allow=False, role=data["role"]))
    out = {}
    for w in names:
        if w not in base:
            role = g.nx.nodes[w]["role"]
            if role not in ("input", "param"):
                raise GraphError(f"finite differences need wrt to be inputs or params; {w!r} is {'an op' if role == 'op' else f'a {role}'} node")
            raise InputError(f"graph {g.name!r} is missing input {w!r}")
        if not out and may_mix(g, names, of) is not None:  # differences of the sum: refused where grad refuses it
            require_separable(g, names, of, run(dict(base), nonfinite="propagate")[of], feeds)
        out[w] = _central(run, base, w, of, eps)
    return out


def upcast(value: Any) -> np.ndarray:
    """A checked input value as a new array in its :func:`reference_dtype` (a copy: the
    caller's array is never changed)."""
    value = np.asarray(value)
    return value.astype(reference_dtype(value.dtype))


def _central(run: Any, base: dict, w: str, of: str, eps: float | None) -> np.ndarray:
    x = np.atleast_1d(base[w]).copy()
    steps = default_step(x) if eps is None else np.full(x.shape, float(eps))
    grad = np.empty(x.shape, dtype=np.float64)
    flat_x, flat_grad, flat_h = x.reshape(-1), grad.reshape(-1), steps.reshape(-1)
    feeds = dict(base)
    for i in range(flat_x.size):
        orig = flat_x[i]
        flat_x[i] = orig + flat_h[i]
        hi = _scalar(run, feeds, w, x, base, of)
        flat_x[i] = orig - flat_h[i]
        lo = _scalar(run, feeds, w, x, base, of)
        flat_x[i] = orig
        flat_grad[i] = (hi - lo) / (2 * flat_h[i])
    out = grad.reshape(np.shape(base[w])).astype(x.dtype)
    return out[()] if out.ndim == 0 else out  # a scalar input's gradient is a number, as grad gives it


def _scalar(run: Any, feeds: dict, w: str, x: np.ndarray, base: dict, of: str) -> float:
    feeds[w] = x.reshape(np.shape(base[w]))
    value = np.asarray(run(feeds, nonfinite="propagate")[of], dtype=np.float64)
    return float(value.sum())
