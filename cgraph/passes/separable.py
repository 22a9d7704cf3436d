"""Which elements of the inputs reach which elements of an array output.

``cg.grad`` of an output that evaluates to an array gives the gradient of the sum of its
elements (what the adjoint seeded with 1 computes). That stands for each element's own
derivative only where each element of an input reaches one element of the output, or
several by broadcasting the input itself (summed, as for a scalar shared by all). This
module follows, axis by axis, where elements of each input come to mix on their way to
the output: along a softmax's axis, along the free axis of a matrix product, or where a
reduction of them is broadcast back (``exp(x)/sum(exp(x))``, ``x - mean(x)``); a later
reduction over that axis undoes it (a per-example loss ``-sum(t*log_softmax(z), axis=-1)``
is each row's own). How an op moves elements is its ``OpDef.reach``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..graph import Graph
from ..ops.registry import OPS
from ..ops.shapes import normalize_axis

#: per input: the axes (negative, counted from the right) along which its elements mix,
#: each with the node where they began to, or the node after which no axis is tracked (a
#: str); the axes along which a reduction of its elements is spread (broadcast back: each
#: of them reaches every element there, as a shared scalar does); whether a reduction
#: gathered its elements
_Reach = tuple[dict[int, str] | str, dict[int, str], bool]


def mixed_at(g: Graph, wrt: Sequence[str], of: str, active: set[str],
             feeds: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    """``(node, inputs)``: the inputs of ``wrt`` some element of which reaches several
    elements of ``of`` at the shapes ``feeds`` give, other than as a whole (broadcast, or
    a reduction of it broadcast: a scalar shared by all), and the node where their
    elements first mixed; None where there are none. ``active``: the nodes on paths from
    ``wrt`` to ``of``. Raises LookupError where a shape cannot be told.

    Examples
    --------
    >>> import numpy as np, cgraph as cg
    >>> from cgraph.passes.adjoint import _between
    >>> g = cg.parse("y = exp(x)/sum(exp(x))")
    >>> mixed_at(g, ["x"], "y", _between(g, ["x"], "y"), {"x": np.ones(3)})
    ('y', ['x'])
    >>> g = cg.parse("y = -sum(t*log_softmax(z), axis=-1)")
    >>> print(mixed_at(g, ["z"], "y", _between(g, ["z"], "y"), {"t": np.ones((2, 3)), "z": np.ones((2, 3))}))
    None
    """
    shapes = _shapes(g, of, feeds)
    if shapes is None:
        raise LookupError("a shape along the way is unknown")
    nodes, state = g.nx._node, {}
    for n in g.schedule():
        if n not in active:
            continue
        data = nodes[n]
        if data["role"] != "op":
            state[n] = {n: ({}, {}, False)} if n in wrt else {}
            continue
        opdef = OPS[data["op"]]
        ops = [o for i, o in enumerate(g.operands(n)) if i not in opdef.shape_operands]
        state[n] = _rule(n, opdef, data["attrs"], [state.get(o, {}) for o in ops], [shapes[o] for o in ops],
                         shapes[g.operands(n)[-1]], shapes[n])
    order = {n: i for i, n in enumerate(g.schedule())}.__getitem__
    shape, bad = shapes[of], {}
    for w, (mixed, _, _) in state.get(of, {}).items():
        if isinstance(mixed, str):
            bad[w] = mixed
        else:
            axes = [a for a in mixed if shape[a] != 1]
            if axes:
                bad[w] = min((mixed[a] for a in axes), key=order)
    if not bad:
        return None
    return min(bad.values(), key=order), [w for w in wrt if w in bad]


def _shapes(g: Graph, of: str, feeds: Mapping[str, Any]) -> dict[str, tuple] | None:
    """The shape of ``of`` and each node it depends on at the inputs ``feeds``, by the
    ops' shape rules; None where one is unknown (an input not fed by name)."""
    from .adjoint import ancestors

    up, nodes, out = ancestors(g, [of]), g.nx._node, {}
    for n in g.schedule():
        if n not in up:
            continue
        data = nodes[n]
        if data["role"] in ("input", "param"):
            value = feeds[n] if n in feeds else data["attrs"].get("value")
            if value is None:
                return None
            out[n] = np.shape(value)
        elif data["role"] == "const":
            out[n] = np.shape(data["attrs"]["value"])
        else:
            try:
                out[n] = OPS[data["op"]].shape(*(out[o] for o in g.operands(n)), **data["attrs"])
            except (ValueError, TypeError):
                return None
            if out[n] is None:
                return None
    return out


def _rule(n: str, opdef: Any, attrs: dict, states: list[dict], shapes: list[tuple], like: tuple,
          result: tuple) -> dict[str, _Reach]:
    """The reach of each input at node ``n`` from its value operands' ``states`` and
    ``shapes`` (``like``: the last operand's shape, a broadcast's target)."""
    kind = "elementwise" if opdef.elementwise else opdef.reach
    arrived: dict[str, list] = {}
    for i, (st, s) in enumerate(zip(states, shapes)):
        for w, (mixed, spread, reduced) in st.items():
            if isinstance(mixed, str):
                got = (mixed, {}, reduced)
            elif kind in ("elementwise", "broadcast_to"):
                got = _broadcast(n, mixed, spread, reduced, s, result if kind == "elementwise" else like, attrs)
            elif kind == "reduce":
                keep = _reduced(normalize_axis(attrs.get("axis"), len(s)), len(s), attrs.get("keepdims", False))
                got = (keep(mixed), keep(spread), True)
            elif kind == "reduce_to":
                gone = {a for a in range(-len(s), 0) if -a > len(result) or (result[a] == 1 and s[a] != 1)}
                keep = _reduced(tuple(a + len(s) for a in gone), len(s), True)
                got = (keep(mixed), keep(spread), reduced or bool(gone))
            elif kind == "along_axis":
                a = normalize_axis(attrs.get("axis", -1), len(s))[0] - len(s)
                got = ({**({a: n} if s[a] != 1 else {}), **mixed}, spread, reduced)
            elif kind == "permute":
                r = len(s)
                perm = [p % r for p in (attrs.get("axes") or range(r - 1, -1, -1))]

                def move(d: dict, perm: list = perm, r: int = r) -> dict:
                    return {j - r: d[p - r] for j, p in enumerate(perm) if p - r in d}

                got = (move(mixed), move(spread), reduced)
            elif kind == "reshape":  # one to one, but the axes are not kept
                every = dict.fromkeys(range(-len(result), 0), n)
                got = (next(iter(mixed.values())) if mixed else {}, every if spread else {}, reduced)
            elif kind == "same_axes":
                got = (mixed, spread, reduced)
            elif kind == "contract":
                got = _contract(n, i, mixed, spread, shapes)
            else:
                got = (n, {}, reduced)  # how this op moves elements is not known: any may mix
            arrived.setdefault(w, []).append(got)
    return {w: _meet(n, got) for w, got in arrived.items()}


def _meet(n: str, arrivals: list) -> _Reach:
    """One input's reach where it arrives through several operands: spread along an axis
    through one and along it as itself through another, its elements mix there
    (``x - mean(x)``)."""
    untracked = [m for m, _, _ in arrivals if isinstance(m, str)]
    reduced = any(r for _, _, r in arrivals)
    if untracked:
        return untracked[0], {}, reduced
    mixed: dict[int, str] = {}
    for m, _, _ in arrivals:
        mixed = {**m, **mixed}
    spread = {a: o for _, s, _ in arrivals for a, o in s.items()}
    for a in spread:
        if any(a not in s for _, s, _ in arrivals):
            mixed.setdefault(a, n)
    return mixed, spread, reduced


def _broadcast(n: str, mixed: dict, spread: dict, reduced: bool, s: tuple, target: tuple, attrs: dict) -> _Reach:
    """An operand of shape ``s`` broadcast to ``target`` (``expand_to``: with ``axis``
    re-inserted where it was reduced without keepdims): gathered elements (``reduced``)
    spread along the axes it is broadcast along; an input's own elements do not."""
    axis = attrs.get("axis")
    if axis is not None and not attrs.get("keepdims", True):  # expand_to of a reduction without keepdims
        back = set(normalize_axis(axis, len(target)))
        kept = [i - len(target) for i in range(len(target)) if i not in back]
        if len(kept) != len(s):
            return n, {}, reduced
        place = {a: kept[a + len(s)] for a in range(-len(s), 0)}
        mixed, spread = {place[a]: o for a, o in mixed.items()}, {place[a]: o for a, o in spread.items()}
        s = tuple(1 if i in back else s[kept.index(i - len(target))] for i in range(len(target)))
    spread = dict(spread)
    if reduced:
        for a in range(-len(target), 0):
            if target[a] != 1 and (-a > len(s) or s[a] == 1):
                spread.setdefault(a, n)
    return mixed, spread, reduced


def _reduced(axes: tuple[int, ...], rank: int, keepdims: bool) -> Any:
    """The map of a reduction over ``axes`` of a rank-``rank`` operand on an axis dict."""
    gone = {a - rank for a in axes}
    if keepdims:
        return lambda d: {a: o for a, o in d.items() if a not in gone}
    return lambda d: {a + sum(b > a for b in gone): o for a, o in d.items() if a not in gone}


def _contract(n: str, i: int, mixed: dict, spread: dict, shapes: list[tuple]) -> _Reach:
    """``a @ b``, operand ``i``: its contracted axis is gone, and its elements reach the
    whole of the other operand's free axis, where they mix (a layer ``W @ x`` is a vector
    function); a 1-D operand is read as a row (a) or a column (b), whose axis is dropped."""
    a, b = (tuple(s) for s in shapes)
    a2 = (1,) + a if len(a) == 1 else a
    b2 = b + (1,) if len(b) == 1 else b
    result = tuple(np.broadcast_shapes(a2[:-2], b2[:-2])) + (a2[-2], b2[-1])
    if i == 1 and len(b) == 1:  # b's only axis is the column's -2
        mixed, spread = {ax - 1: o for ax, o in mixed.items()}, {ax - 1: o for ax, o in spread.items()}
    contracted = -1 if i == 0 else -2
    free = -1 if i == 0 else -2  # the other operand's free axis
    mixed = {ax: o for ax, o in mixed.items() if ax != contracted}
    spread = {ax: o for ax, o in spread.items() if ax != contracted}
    if result[free] != 1:
        mixed.setdefault(free, n)
    drop = ([-2] if len(a) == 1 else []) + ([-1] if len(b) == 1 else [])
    keep = [ax for ax in range(-len(result), 0) if ax not in drop]
    final = {ax: j - len(keep) for j, ax in enumerate(keep)}
    return ({final[ax]: o for ax, o in mixed.items() if ax in final},
            {final[ax]: o for ax, o in spread.items() if ax in final}, True)
