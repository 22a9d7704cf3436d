"""The first ``grad`` of a graph, evaluated during the reverse sweep instead of stored.

``grad`` is the adjoint graph, evaluated. Storing that graph (a networkx node and its
edges per adjoint node) and compiling its plan costs far more than evaluating it once
(W5 in docs/performance.md), so :func:`eager_grad` runs adjoint's own sweep (``_Sweep``:
the same derivative rules, in the same order, with the same shape decisions) over a
:class:`_Values` graph: a Graph whose new nodes keep their op, attributes and inferred
shape, but no edges, and get their value the moment they are made, computed as the
adjoint graph's plan computes it (``plan.choose``: the same eval functions, constants
folded the same weak way). The values are therefore bitwise those of the graph path.
Where values are arrays, each is dropped once nothing pending reads it, as the plan
frees a buffer after its last use.

Anything unusual (an error, a floating-point trap, a non-finite value under
``nonfinite="raise"``) in a value the gradient needs makes it give up: ``grad`` then
takes the graph path, which raises the typed error naming the node. A node whose value
fails is only marked as failed: the graph path prunes what no gradient needs (such as
the u^2 rule's ``log(u)`` for the constant 2, at u < 0) and never evaluates it.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..graph import _INFER, NO_ATTRS, Graph
from ..memory import gc_paused
from ..node import Node
from ..ops.registry import OPS, OpDef
from .adjoint import _resolve_of, _resolve_wrt, _Sweep, ancestors
from .plan import NONFINITE, _const, _kwargs, check_input, choose

_F64 = np.float64
#: a binary ufunc and numpy's scalar operator that gives the same np.float64 (the same
#: IEEE operation, the same errstate traps) when an operand is an np.float64 and the other
#: one too or a Python float, 20x faster than the ufunc's call on scalars
_SCALAR_OPS = {np.add: operator.add, np.subtract: operator.sub, np.multiply: operator.mul,
               np.divide: operator.truediv}
_TRAPS = {"divide": "raise", "over": "raise", "invalid": "raise", "under": "ignore"}  # as Plan.run's


class _GiveUp(Exception):
    """The eager sweep cannot answer as the graph path would: let the graph path answer."""


class _Nodes:
    """What the sweep and the rules read of ``Graph.nx``: the node data, no edges."""

    __slots__ = ("_node",)

    def __init__(self, nodes: dict) -> None:
        self._node = nodes

    def __contains__(self, name: object) -> bool:
        return name in self._node


class _Values(Graph):
    """A Graph that evaluates every node as it is made and stores no edges. Its forward
    nodes are those of ``source`` (their data dicts shared, never written)."""

    def __init__(self, source: Graph, nonfinite: str) -> None:  # (no Graph.__init__: no networkx graph)
        self.name, self.source = source.name, source
        self.nx = _Nodes(dict(source.nx._node))  # type: ignore[assignment]
        self._outputs: list[str] = []
        self._generated, self._next_order, self._version = source._generated, source._next_order, 0
        self._cache: dict = {}
        self.finite = nonfinite == "raise"
        self.values: dict[str, Any] = {}
        self.weak: set[str] = set()  # plan.choose's bookkeeping of constants' arithmetic
        self.known: dict[str, float] = {}
        self.args: dict[str, tuple[str, ...]] = {}  # the forward nodes' operands
        self.pending: dict[str, int] = {}  # node -> the contribution lists waiting to sum it
        self.failed: set[str] = set()  # the op nodes whose value failed, or an operand's
        self.fresh: list[str] = []  # the op nodes made in the sweep's current step
        self.arrays = False  # whether any forward value is an array

    def forward(self, feeds: Mapping[str, Any], needed: set[str], up: set[str], wrt: list[str]) -> tuple[set, bool]:
        """Feed every source as the plan feeds them, then evaluate the nodes in ``needed``
        (a superset of ``up``, the ancestors of ``of``). On the way, it finds what adjoint's
        ``_between(g, wrt, of, up)`` and ``_pointwise`` would, without walks of their own:
        the nodes of ``up`` that are or depend on a wrt node, and whether they are all
        pointwise (undeclared or scalar shapes, elementwise ops)."""
        src = self.source
        nodes = src.nx._node
        sources = src.inputs + src.params
        if not set(feeds) <= set(sources):
            raise _GiveUp
        for n in sources:
            data = nodes[n]
            value = feeds[n] if n in feeds else data["attrs"].get("value") if data["role"] == "param" else None
            if value is None:
                raise _GiveUp
            self.values[n] = check_input(n, value, data["shape"], nonfinite="raise" if self.finite else "propagate",
                                         role=data["role"])
        values, compute, args = self.values, self._compute, self.args
        hit = src._cache.get("operands")  # the operand table, if a plan of `src` has built it
        table = hit[1] if hit is not None and hit[0] == src._stamp() else {}
        operands = src.operands
        start = {w for w in wrt if w in up}
        down: set[str] = set()  # _between's nodes
        pointwise, everywhere = True, needed is up
        for n in src.schedule():
            if n in needed:
                data = nodes[n]
                role = data["role"]
                if role == "op":
                    ops = args[n] = table[n] if table else operands(n)
                    op = data["op"]
                    opdef = OPS[op]
                    values[n] = compute(n, op, opdef.eval, ops, data["attrs"])
                    if everywhere or n in up:
                        reached = n in start
                        for o in ops:
                            if reached:
                                break
                            reached = o in down
                        if reached:
                            down.add(n)
                            if pointwise and (data["shape"] not in (None, ()) or not opdef.elementwise):
                                pointwise = False
                    continue
                if role == "const":
                    self._const(n, data["attrs"]["value"])
                if n in start:  # a source of up (an op node of wrt has operands: above)
                    down.add(n)
                    if data["shape"] not in (None, ()):
                        pointwise = False
        self.arrays = any(type(v) is np.ndarray for v in values.values())
        self.operands = args.__getitem__  # type: ignore[method-assign]  # what the sweep asks of forward nodes
        return down, pointwise

    def _compute(self, n: str, op: str, fn: Any, args: Sequence[str], attrs: Mapping) -> Any:
        kw = _kwargs(attrs) if attrs else None
        fn, args, value = choose(n, op, fn, args, kw, self.weak, self.known)
        if fn is None:
            return value
        values = self.values
        if kw is not None:
            return fn(*[values[a] for a in args], **kw)
        if len(args) == 1:  # (no list for the usual one or two operands)
            return fn(values[args[0]])
        if len(args) != 2:
            return fn(*[values[a] for a in args])
        x, y = values[args[0]], values[args[1]]
        tx, ty = type(x), type(y)
        if (tx is _F64 and (ty is _F64 or ty is float) or ty is _F64 and tx is float) and fn in _SCALAR_OPS:
            return _SCALAR_OPS[fn](x, y)
        return fn(x, y)

    def needs(self, names: Sequence[str]) -> None:
        """Give up unless the values of ``names`` are there."""
        if self.failed and not self.failed.isdisjoint(names):
            raise _GiveUp

    def _const(self, n: str, value: Any) -> None:
        value = _const(value)
        if self.finite and not np.isfinite(value).all():
            raise _GiveUp  # the plan refuses a non-finite constant before it runs
        if not isinstance(value, np.ndarray):
            self.weak.add(n)
            self.known[n] = value
        self.values[n] = value

    # -- the hooks of Graph's building methods (apply, const, rename) that the sweep calls
    def _apply(self, opdef: OpDef, operands: list[str], attrs: dict, name: str | None, shape: Any = _INFER) -> Node:
        """Graph._apply (the same checks, shape and name) with Graph._write_op's part done
        here: the node's data and value, no edges, nothing to invalidate."""
        arity = opdef.arity
        if (len(operands) != arity) if arity is not None else (len(operands) < opdef.min_arity):
            raise _GiveUp  # (Graph._apply's ArityError, reported by the graph path)
        nodes = self.nx._node
        if shape is _INFER:
            shape = self._infer(opdef, operands, attrs, name)
        name = self._claim(name)
        op = opdef.name
        failed = self.failed
        if failed and not failed.isdisjoint(operands):
            failed.add(name)
        else:
            try:
                self.values[name] = self._compute(name, op, opdef.eval, operands, attrs)
            except Exception:  # noqa: BLE001 - an error only if a gradient needs this value (needs())
                failed.add(name)
        nodes[name] = {"op": op, "attrs": attrs or NO_ATTRS, "role": "op", "shape": shape, "order": self._next_order}
        self._next_order += 1
        if self.arrays:
            self.fresh.append(name)
        return Node(self, name)

    def _write_op(self, name: str, op: str, operands: Any, attrs: dict, shape: Any) -> None:
        raise _GiveUp  # _apply writes this graph's op nodes itself

    def _add_node(self, name: str, op: str, attrs: dict, role: str, shape: Any, *, checked: bool = False) -> None:
        if role != "const":
            raise _GiveUp
        self._const(name, attrs["value"])
        self.nx._node[name] = {"op": op, "attrs": attrs, "role": role, "shape": shape, "order": self._next_order}
        self._next_order += 1

    def _changed(self, keep_valid: bool = False) -> None:
        pass  # nothing cached to invalidate

    def _touch(self) -> None:
        pass

    def rename(self, old: str, new: str) -> Node:
        new = self._claim(new)
        nodes = self.nx._node
        nodes[new] = nodes.pop(old)
        for table in (self.values, self.pending):
            if old in table:
                table[new] = table.pop(old)
        if old in self.failed:
            self.failed.discard(old)
            self.failed.add(new)
        if old in self.weak:
            self.weak.discard(old)
            self.weak.add(new)
            if old in self.known:
                self.known[new] = self.known.pop(old)
        return Node(self, new)


class _EagerSweep(_Sweep):
    """adjoint's sweep over a :class:`_Values` graph. After each step, it gives up if a
    value the gradient needs failed, and (arrays) drops every value nothing will read any
    more: the contributions the step summed, what its rule made besides the new
    contributions, and the forward node's own value."""

    def __init__(self, out: _Values, active: set[str], of: str, keep: set[str], exact: bool) -> None:
        super().__init__(out, out.source.nx._node, active, of, exact)
        self.keep = keep

    def backprop(self, n: str) -> list[str]:
        g = self.g
        if g.arrays:
            g.fresh = []
        added = super().backprop(n)
        if g.failed or n in self.keep:
            g.needs([*added, self.adjoint[n]] if n in self.keep and n in self.adjoint else added)
        if g.arrays and self.nodes[n]["role"] == "op":
            self._drop(n, added)
        return added

    def _mark(self, name: str, n: str) -> None:
        pass  # the attributes that name adjoint nodes in a graph: nobody reads them here

    def finish(self, w: str) -> str:
        summing = w not in self.adjoint and w in self.contribs
        name = super().finish(w)
        self.g.needs([name])
        if self.g.arrays and summing:
            self._release(w, (), name)
        return name

    def _drop(self, n: str, added: list[str]) -> None:
        g = self.g
        pending = g.pending
        for p in added:
            pending[p] = pending.get(p, 0) + 1
        gn = self.adjoint[n]
        self._release(n, [*g.fresh, gn], gn if n in self.keep else None)
        if not pending.get(n) and n not in self.keep:
            g.values.pop(n, None)

    def _release(self, n: str, made: Sequence[str], hold: str | None) -> None:
        """Drop the contributions summed into ``n``'s adjoint and the values ``made``
        but ``hold`` that nothing pending reads."""
        g = self.g
        pending, values, forward, known = g.pending, g.values, self.forward, g.known
        summed = [self.renamed.get(p, p) for p in self.contribs[n]]
        for p in summed:
            pending[p] -= 1
        for m in (*made, *summed):
            if m != hold and not pending.get(m) and m not in forward and m not in known:
                values.pop(m, None)


def eager_grad(g: Graph, wrt: Sequence[str] | str | None, of: str | None, feeds: Mapping[str, Any],
               nonfinite: str) -> tuple | None:
    """``grad``'s values without building the adjoint graph: ``(values, adjoint names,
    wrt names, spread node)``, bitwise what the graph path computes, or None when the
    graph path must answer (an error to report, a non-finite value to refuse).

    Examples
    --------
    >>> import cgraph as cg
    >>> values, outs, names, spread = eager_grad(cg.parse("x*z + sin(x)"), None, None, {"x": 0.0, "z": 3.0}, "raise")
    >>> names, [float(values[o]) for o in outs], spread
    (['x', 'z'], [4.0, 0.0], 'y')
    """
    try:
        g.validate()
        of = _resolve_of(g, of)
        wrt = _resolve_wrt(g, wrt)
        if not wrt:
            return {}, [], [], None  # nothing to differentiate by: nothing to evaluate
        if nonfinite not in NONFINITE:
            return None
        with gc_paused(), np.errstate(**_TRAPS) if nonfinite == "raise" else np.errstate(all="ignore"):
            return _sweep(g, wrt, of, feeds, nonfinite)
    except Exception:  # noqa: BLE001 - whatever it is, the graph path reports it as a typed error
        return None


def _sweep(g: Graph, wrt: list[str], of: str, feeds: Mapping[str, Any], nonfinite: str) -> tuple | None:
    keep = {of, *wrt}
    up = ancestors(g, [of])
    needed = up if up.issuperset(wrt) else ancestors(g, list(keep))  # what the plan evaluates
    vg = _Values(g, nonfinite)
    active, pointwise = vg.forward(feeds, needed, up, wrt)
    sweep = _EagerSweep(vg, active, of, keep, not pointwise)
    outputs = sweep.run(g.schedule(), wrt)
    values = vg.values
    if nonfinite == "raise" and not all(np.isfinite(values[o]).all() for o in outputs):
        return None
    return values, outputs, wrt, None if sweep.exact else of
