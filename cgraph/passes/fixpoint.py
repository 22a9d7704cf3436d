"""When is ``simplify`` done? The logs that let it stop after one pass, or copy nodes.

A simplification pass rebuilds every node from its simplified operands with the rules
of :mod:`cgraph.passes.rules`. Rules look at structure (ops, operands, constants,
shapes), which another pass sees again unchanged, and at a few things that may change
between passes: how often a node is used (``single``), whether the node being built is
only used elementwise (``pointwise``), which equal nodes exist already (a CSE hit or
miss inside a rule), and whether a recursion guard skipped them. The builder logs those
reads per node it creates. A node whose logged reads answer the same in the next pass,
built from operands that came out of that pass as themselves, comes out as itself too:
:func:`replays` decides that, for the next pass (:func:`settled`, so it need not run)
or inside it (the builder then copies the node instead of simplifying it again).

Log entries are pairs: ``(name, answer)`` for ``single(name)``, or a tag below first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..graph import Graph
from ..ops.registry import OPS
from ..printing.render import is_generated

POINTWISE = object()  # (POINTWISE, answer): the builder's `pointwise`
HIT = object()  # (HIT, (key, node, args)): a rule's make(op, *args) found node
MISS = object()  # (MISS, key): a rule's make found no equal node
USE = object()  # (USE, name): a node a rule made uses name (single() counts it from then on)
GUARD = (object(), None)  # the rules of a node were skipped (recursion guard or depth)


def replays(record: tuple, *, uses: Callable[[str], int | None], pointwise: Callable[[], bool],
            hit: Callable[[Any, str], bool], miss: Callable[[Any], bool]) -> bool:
    """True when every read logged in ``record`` answers as it did.

    ``uses(name)`` is how often ``name`` is used when the node is built again (None:
    unknown); uses made by the rules while building it are counted from the log.
    """
    extra: dict[str, int] = {}
    for who, what in record:
        if who is USE:
            extra[what] = extra.get(what, 0) + 1
        elif who is POINTWISE:
            if pointwise() != what:
                return False
        elif who is HIT:
            if not hit(what[0], what[1]):
                return False
        elif who is MISS:
            if not miss(what):
                return False
        elif type(who) is str:
            n = uses(who)
            if n is None or (n + extra.get(who, 0) <= 1) != what:
                return False
        else:
            return False  # GUARD
    return True


def settled(g: Graph, records: dict[str, tuple], renamed: set[str], key_of: Callable[[str], Any],
            found: Callable[[Any], str | None]) -> bool:
    """True when another pass over ``g`` (just built, with these logs) would give ``g``.

    Another pass keeps a node when its log replays with the uses of ``g`` (nothing
    changes before it, so a rule's hit finds the same node, and its miss stays a miss
    unless the node made then, ``found(key)``, is still there and comes first), flattens
    no sum or product, and puts the outputs back as they are.
    """
    nodes, succ, pred = g.nx._node, g.nx._succ, g.nx._pred
    outputs = g.outputs
    if not outputs or absorbed(g):
        return False
    for o in outputs:
        if nodes[o]["op"] == "identity":
            (r,) = pred[o]
            if nodes[r]["role"] == "op" and is_generated(r):
                return False  # another pass would name r after o

    def uses(n: str) -> int | None:
        if n in renamed or n not in nodes or any(nodes[u]["op"] == "identity" and succ[u] for u in succ[n]):
            return None  # (an output's identity passes its uses on to its operand)
        return sum(map(len, succ[n].values()))

    def hit(key: Any, n: str) -> bool:
        return n in nodes and n not in renamed and key_of(n) == key

    def miss(key: Any, before: int) -> bool:
        n = found(key)
        return n is None or n not in nodes or nodes[n]["order"] >= before

    memo: dict[str, bool] = {}
    for node, record in records.items():
        if node in nodes:
            order = nodes[node]["order"]
            if not replays(record, uses=uses, pointwise=lambda n=node: pointwise(g, n, memo), hit=hit,
                           miss=lambda key, before=order: miss(key, before)):
                return False
    return True


def pointwise(g: Graph, n: str, memo: dict[str, bool]) -> bool:
    """True when every use of ``n``, down to the outputs, is elementwise.

    Only there may a node of unknown shape be replaced by a broadcastable stand-in (the
    scalar ``0`` for ``u - u``): a reduction or reshape further down reads its shape, so
    ``sum(x/x)`` must not become ``sum(1)``. ``memo`` keeps the answers for ``g``.
    """
    nodes, succ = g.nx._node, g.nx._succ
    stack = [n]
    while stack:  # depth first over the users, without recursion
        m = stack[-1]
        if m in memo:
            stack.pop()
            continue
        users = succ[m]
        if not all(OPS[nodes[u]["op"]].elementwise for u in users):
            memo[m] = False
            stack.pop()
            continue
        todo = [u for u in users if u not in memo]
        if todo:
            stack.extend(todo)
            continue
        memo[m] = all(memo[u] for u in users)
        stack.pop()
    return memo[n]


def absorbed(g: Graph) -> set[str]:
    """The variadic nodes a pass splices into their one user of the same op:
    ``(a + b) + c -> a + b + c``."""
    nodes, succ = g.nx._node, g.nx._succ
    outputs = set(g.outputs)
    out = set()
    for n, d in nodes.items():
        if d["role"] == "op" and OPS[d["op"]].variadic and n not in outputs:
            users = succ[n]
            if len(users) == 1:
                ((user, keys),) = users.items()
                if len(keys) == 1 and nodes[user]["op"] == d["op"]:
                    out.add(n)
    return out
