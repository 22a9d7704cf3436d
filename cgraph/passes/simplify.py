"""``simplify``: constant folding, algebraic identities, CSE and dead-node removal, to a
fixpoint. It turns an adjoint graph into the symbolic derivative (the lecture's
Approach 2 read off Approach 3).

One pass rebuilds the graph in schedule order. Each node is built from its already
simplified operands by :meth:`cgraph.passes.builder.Builder.build`: fold it if its operands are constants,
else try the identities of :data:`cgraph.passes.rules.RULES` for its op, else merge it
with an equal node (CSE) or create it. Passes repeat until the graph stops changing, but
most graphs need one: the builder logs what its rules read besides structure, and
:mod:`cgraph.passes.fixpoint` tells from those logs when another pass would change
nothing; when one is needed, it copies every node whose log still holds instead of
simplifying it again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

import numpy as np

from ..checks import const_value, flag
from ..errors import InputError
from ..graph import Graph, derived_copy, require_graph
from ..memory import gc_paused
from ..printing.render import is_generated
from .builder import Builder
from .fixpoint import freeze
from .plan import check_input

#: the fixpoint loop's backstop; real graphs settle in two or three passes
MAX_PASSES = 50


def simplify(g: Graph, *, numeric: bool = False, **bindings: Any) -> Graph:
    """A simpler graph computing the same function.

    Parameters
    ----------
    g : Graph
        The graph to simplify; it is not modified.
    numeric : bool
        ``False`` (default) keeps exact constants exact: Python ints and Fractions fold
        with exact rational arithmetic (``1/2`` stays ``Fraction(1, 2)``), and
        functions of them with no exact value (``exp(6)``, ``log(2)``,
        ``sin(log(2))``) stay symbolic. ``True`` folds those to floats.
    **bindings
        Values for inputs (or params): each becomes a constant. Bind ints or
        Fractions for exact results; floats fold numerically.

    Returns
    -------
    Graph
        A new graph with the same outputs (by name and metadata: an adjoint output
        ``g_x`` stays ``g_x``) and inputs. It is the fixpoint of: constant folding
        through each op's own ``eval``; the identities of
        :data:`cgraph.passes.rules.RULES` (``u*1 -> u``, ``u + 0 -> u``, ``--u -> u``,
        like terms, ``exp(log(u)) -> u`` for positive ``u``...); flattening of nested
        sums and products used once; merging of equal subexpressions (commutative
        operands sorted); and removal of nodes no output needs (inputs are kept).
        It never has more op nodes than ``g``, and simplifying it again changes
        nothing. Time is about linear in the graph's size.

    Notes
    -----
    Identities assume every subexpression is finite, as computer algebra does:
    ``u*0 -> 0``, ``u - u -> 0``, ``u/u -> 1`` and ``u*v/u -> v`` hold wherever their
    left side is defined, so they can only *remove* NaN/inf points. Shapes are kept: a node is replaced only by
    one of the same shape (``x*0`` becomes ``zeros_like(x)`` for an array ``x``), except
    that nodes of unknown shape (inputs declared without one) are treated pointwise,
    so ``x*0`` is the scalar ``0`` there (equal up to broadcasting) where only
    elementwise ops use it; under a reduction or reshape it becomes ``zeros_like(x)``,
    and a node of unknown shape is replaced only by one broadcast over the same nodes
    (``sum(x1 + x0*0)`` keeps ``x0``'s share of the shape).

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph()
    >>> x, z = g.input("x"), g.input("z")
    >>> y = g.output((x * z) * 1 + 0 * cg.sin(x) + cg.log(cg.exp(x)), name="y")
    >>> print(cg.to_text(cg.simplify(g)))
    y = x*z + x
    >>> print(cg.to_text(cg.simplify(g, x=2, z=3)))
    y = 8
    >>> d = cg.simplify(cg.adjoint(g), x=2, z=3)  # dy/dx = z + 1, dy/dz = x
    >>> print(cg.to_text(d))
    g_x = 4
    g_z = 2
    >>> h = cg.Graph()
    >>> u, v = h.input("u"), h.input("v")
    >>> w = h.output(cg.exp(u * v) + u / cg.log(v), name="w")
    >>> print(cg.to_text(cg.simplify(h, u=2, v=3)))
    w = exp(6) + 2/log(3)
    """
    numeric = flag(numeric, "numeric")
    return _fixpoint(g, _bind(g, bindings), numeric, frozenset())


def simplify_keeping_shapes(g: Graph, outputs: Sequence[str]) -> Graph:
    """``simplify(g)``, but each of ``outputs`` keeps the shape ``evaluate`` gives it,
    where ``simplify`` may give a value of unknown shape that is equal up to broadcasting
    (``y = x*0 + z`` is ``y = z``, a scalar for an array ``x``): for
    :func:`cgraph.compile`, whose outputs are values, not formulas.

    Examples
    --------
    >>> import cgraph as cg
    >>> print(cg.to_text(simplify_keeping_shapes(cg.parse("y = x*0 + z"), ["y"])))
    y = zeros_like(x) + z
    """
    keep = frozenset(o for o in outputs if g.nx._node[o]["shape"] is None)
    return _fixpoint(g, _bind(g, {}), False, keep)


def _fixpoint(g: Graph, source: Graph, numeric: bool, keep: frozenset[str]) -> Graph:
    with gc_paused():
        current = _passes(source, numeric, keep, collect=True)
        if _op_count(current) > _op_count(g):  # a backstop: rules are designed never to grow
            # collecting equal factors and like terms may cost a node each (x*x*z -> x^2*z:
            # two nodes for one); where that grows the whole graph, the rules run again
            # without that allowance, so the identities still apply (x*x*z*1 -> x*x*z, not
            # left as it was), and only if that grew too, not at all
            current = _passes(source, numeric, keep, collect=False)
            if _op_count(current) > _op_count(g):
                current = Builder(source, numeric=numeric, rules=False, keep_shape=keep).run()
    return current


def _passes(source: Graph, numeric: bool, keep: frozenset[str], *, collect: bool) -> Graph:
    """Simplification passes over ``source`` until another would change nothing."""
    current = source
    signature = None  # of `current`, once computed
    builder = None  # the one that made `current`, when we did
    for i in range(MAX_PASSES):
        builder = Builder(current, numeric=numeric, prev=builder, keep_shape=keep, collect=collect)
        rebuilt = builder.run()
        if not builder.changed or builder.settled():  # another pass would change nothing
            return rebuilt
        if i > 0:  # signatures are compared only from the second change on: most graphs never need one
            new_signature = None
            if len(rebuilt.nx) == len(current.nx):  # (a signature has a row per node)
                if signature is None:
                    signature = _signature(current)
                new_signature = _signature(rebuilt)
                if new_signature == signature:
                    break
            signature = new_signature
        current = rebuilt
    return current


def _bind(g: Graph, bindings: Mapping[str, Any]) -> Graph:
    """``g`` (uncopied when nothing is bound) with the bound inputs turned into constants."""
    require_graph(g, "simplify").validate()
    if not bindings:
        return g
    out = derived_copy(g)  # the unbound params read g's values
    for name, value in bindings.items():
        if name not in out.nx or out.nx.nodes[name]["role"] not in ("input", "param"):
            role = out.nx.nodes[name]["role"] if name in out.nx else None
            what = "no node" if role is None else f"{'an' if role == 'op' else 'a'} {role} node"
            raise InputError(f"simplify: cannot bind {name!r}: graph {g.name!r} has {what} of that name")
        data = out.nx.nodes[name]
        checked = check_input(name, value, data["shape"], allow=False, role=data["role"])  # simplify has no nonfinite= to suggest
        if np.asarray(value).dtype == bool:  # True/False: the 1/0 that evaluate reads (exact when scalar)
            value = int(value) if np.ndim(value) == 0 else checked
        value = const_value(value, name)
        data.update(op="const", role="const", attrs={"value": value}, shape=np.shape(value))
    out._touch()
    return out.validate()


def _signature(g: Graph) -> Any:
    """The graph's structure, blind to generated names (``t12`` vs ``t31``)."""
    nodes, pred = g.nx._node, g.nx._pred
    index = {n: i for i, n in enumerate(g.schedule())}
    rows = []
    for n in index:
        data = nodes[n]
        ports = sorted((k, index[u]) for u, keys in pred[n].items() for k in keys)
        attrs = data["attrs"]
        rows.append((None if is_generated(n) else n, data["op"], tuple(ports),
                     freeze(tuple(sorted(attrs.items()))) if attrs else ()))
    return tuple(index[o] for o in g.outputs), tuple(rows)


def _op_count(g: Graph) -> int:
    return list(map(_ROLE, g.nx._node.values())).count("op")


_ROLE = itemgetter("role")
