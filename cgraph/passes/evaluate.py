"""Forward evaluation: numpy values for every node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import GraphError, NodeNotFoundError
from ..graph import Graph, require_graph
from .plan import merge_feeds, plan


def scalar_text(value: Any) -> str:
    """The shortest text that reads back as the same number in its own dtype.

    Examples
    --------
    >>> scalar_text(-1 / 3), scalar_text(np.float32(0.1)), scalar_text(np.int64(3))
    ('-0.3333333333333333', '0.1', '3')
    """
    return str(np.asarray(value)[()])


def unsigned_zero(value: Any) -> np.ndarray:
    """``value`` as an array with every ``-0.0`` made ``0.0``, for printing a derivative:
    the sign of a zero (``0*(-1)``; ``x*z`` at ``x = -0.0`` has ``dy/dz = -0.0``) means
    nothing there and reads as a negative number. Every other value, NaN and inf included,
    stays.

    Examples
    --------
    >>> scalar_text(unsigned_zero(-0.0)), scalar_text(unsigned_zero(np.float32(-2.5)))
    ('0.0', '-2.5')
    """
    v = np.asarray(value)
    return v + v.dtype.type(0) if v.dtype.kind in "fc" else v  # -0.0 + 0.0 is 0.0 (round to nearest)


class Values(dict):
    """A mapping from every node name to its numpy value, printable as a table."""

    def table(self, names: list[str] | None = None) -> str:
        """The values as an aligned two-column table."""
        names = list(self) if names is None else names
        width = max([len("node")] + [len(str(n)) for n in names])
        rows = [f"{'node':<{width}}  value", f"{'-' * width}  {'-' * 20}"]
        for n in names:
            v = np.asarray(self[n])
            text = scalar_text(v) if v.ndim == 0 else np.array2string(v, precision=6, threshold=12)
            # a matrix's later rows under its first, in the value column (not under the names)
            rows.append(f"{n:<{width}}  " + text.replace("\n", "\n" + " " * (width + 2)))
        return "\n".join(rows)

    def __str__(self) -> str:
        return self.table()

    def __missing__(self, key: Any) -> Any:
        """A name without a value is a NodeNotFoundError (a KeyError) that lists the names."""
        names = list(self)
        shown = ", ".join(map(str, names[:12])) + (f", ... ({len(names)} in all)" if len(names) > 12 else "")
        raise NodeNotFoundError(f"no value for {key!r}: not a node of the evaluated graph (nodes: {shown})")


def evaluate(
    g: Graph, feeds: Mapping[str, Any] | None = None, /, *, nonfinite: str = "raise", **inputs: Any
) -> Values:
    """Evaluate every node of ``g``.

    Parameters
    ----------
    g : Graph
    feeds : mapping, optional
        Inputs and params by name or node (``{x: 2.0}``; an alternative to keyword
        arguments).
    nonfinite : {"raise", "propagate"}
        ``"raise"`` (default) raises :class:`~cgraph.DomainError` naming the first node
        whose value leaves the finite numbers (``log(-1)``, ``x/0``, overflow) and
        :class:`~cgraph.InputError` for a NaN/Inf input; ``"propagate"`` keeps numpy's
        nan/inf.
    **inputs
        Input and param values: scalars or arrays; integers become float64, float32
        stays float32; arrays broadcast as in numpy.

    Returns
    -------
    Values
        ``{node name: numpy value}`` for every node. A constant's array, and a node
        whose value is a view of one (a reshape of it), is read-only: the graph's
        constant is shared, not copied. An input's or param's is the array given.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.parse("a = x*z\\nb = log(x)\\ny = a + b")
    >>> vals = cg.evaluate(g, x=2.0, z=3.0)
    >>> round(float(vals["y"]), 6)
    6.693147
    """
    require_graph(g, "evaluate")
    if not len(g):
        raise GraphError(f"graph {g.name!r} is empty: it has no nodes to evaluate")
    feeds = merge_feeds(feeds, inputs, g)
    values = plan(g).run(feeds, nonfinite=nonfinite)
    # the plan keeps what constants alone compute as Python floats (weak in numpy's
    # promotion, so that float32 stays float32); the caller gets numpy values throughout
    return Values({n: np.float64(v) if type(v) is float else v for n, v in values.items()})
