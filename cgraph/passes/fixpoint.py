"""When is ``simplify`` done? The logs that let it stop after one pass, or copy nodes.

A simplification pass rebuilds every node from its simplified operands with the rules
of :mod:`cgraph.passes.rules`. Rules look at structure (ops, operands, constants,
shapes), which another pass sees again unchanged, and at a few things that may change
between passes: how often a node is used (``single``), whether the node being built is
only used elementwise (``pointwise``), which equal nodes exist already (a CSE hit or
miss inside a rule), and whether a recursion guard skipped them. The builder logs those
reads per node it creates, and the nodes its rules looked at beyond the node's operands.
A node whose logged reads answer the same in the next pass, built from operands that came
out of that pass as themselves (same name, op, operands and shape), comes out as itself:
:func:`replays` decides that, for the next pass (:func:`settled`, so it need not run)
or inside it (the builder then copies the node instead of simplifying it again).

Log entries are pairs: ``(name, answer)`` for ``single(name)``, or a tag below first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..graph import Graph
from ..ops.registry import OPS
from ..printing.render import is_generated
from .rules import RULES
from .terms import Candidate

POINTWISE = object()  # (POINTWISE, answer): the builder's `pointwise`
HIT = object()  # (HIT, (key, node, args)): a rule's make(op, *args) found node
MISS = object()  # (MISS, key): a rule's make found no equal node
USE = object()  # (USE, name): a node a rule made uses name (single() counts it from then on)
USES = object()  # (USES, (name, k, answer)): the builder's used_at_most(name, k)
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
        elif who is USES:
            name, k, answer = what
            n = uses(name)
            if n is None or (n + extra.get(name, 0) <= k) != answer:
                return False
        else:
            return False  # GUARD
    return True


def settled(g: Graph, records: dict[str, tuple], renamed: set[str], key_of: Callable[[str], Any],
            found: Callable[[Any], str | None], spliced: set[str] | None = None) -> bool:
    """True when another pass over ``g`` (just built, with these logs) would give ``g``.

    Another pass keeps a node when its log replays with the uses of ``g`` (nothing
    changes before it, so a rule's hit finds the same node, and its miss stays a miss
    unless the node made then, ``found(key)``, is still there and comes first), flattens
    no sum or product, and puts the outputs back as they are. ``spliced``: ``absorbed(g)``
    when the caller has it.
    """
    nodes, succ, pred = g.nx._node, g.nx._succ, g.nx._pred
    outputs = g.outputs
    if not outputs or (absorbed(g) if spliced is None else spliced):
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


_VARIADIC: list = [-1, frozenset()]  # (len(OPS) when computed, the variadic op names)


def _variadic() -> frozenset:
    if _VARIADIC[0] != len(OPS):  # ops registered since: recompute
        _VARIADIC[:] = [len(OPS), frozenset(name for name, opdef in OPS.items() if opdef.variadic)]
    return _VARIADIC[1]


def absorbed(g: Graph) -> set[str]:
    """The variadic nodes a pass splices into their one user of the same op:
    ``(a + b) + c -> a + b + c``."""
    nodes, succ = g.nx._node, g.nx._succ
    outputs = set(g.outputs)
    variadic = _variadic()
    out = set()
    for n, d in nodes.items():
        if d["op"] in variadic and n not in outputs:
            users = succ[n]
            if len(users) == 1:
                ((user, keys),) = users.items()
                if len(keys) == 1 and nodes[user]["op"] == d["op"]:
                    out.add(n)
    return out


def freeze(value: Any) -> Any:
    """``value`` as a hashable, exact key (``0.0`` and ``-0.0`` differ, arrays by bytes)."""
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(freeze(v) for v in value))
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def cse_key(op: str, args: list[str] | tuple, attrs: dict) -> Any:
    """The CSE key of ``op(*args, **attrs)``: commutative operands sorted."""
    operands = tuple(sorted(args)) if OPS[op].commutative else tuple(args)
    if not attrs:
        return (op, operands, ())
    return (op, operands, tuple(sorted((k, freeze(v)) for k, v in attrs.items())))


class Replaying:
    """The part of :class:`cgraph.passes.builder.Builder` that reads the logs: copying
    the nodes of the previous pass whose logs replay, re-running the rules a guard
    skipped, and telling whether the pass is settled."""

    def _copy(self, n: str, data: dict, args: tuple[str, ...]) -> str | None:
        """``n`` as it is, when building it would give it back; else None.

        Its operands came out of this pass as themselves, so the rules that left it
        alone in the pass that made it leave it alone again, unless what else they read
        (use counts, pointwise-ness, existing nodes) answers differently now.
        """
        record = self.prev.records.get(n)
        if record is not None and not self._replays(record):
            return None
        looked = self.prev.looked.get(n)
        if looked is not None and not all(m in self.same for m in looked):
            return None
        op, attrs = data["op"], data["attrs"]
        key = cse_key(op, args, attrs)
        if key in self.cse:
            return None  # an equal node: merge it
        self._add(n, op, args, dict(attrs), data["shape"])
        self._keep_metadata(n, n)
        self.new_nodes.append(n)
        self.arguments[n] = args
        if record is not None:
            self.records[n] = record
        if looked is not None:
            self.looked[n] = looked
        self.same.add(n)
        self.cse[key] = n
        self.keys[n] = key
        return n

    def _replays(self, record: tuple) -> bool:
        """True when each read logged in ``record`` answers the same in this pass."""
        renamed, same, cse, refs = self.prev.renamed_from, self.same, self.cse, self.refs

        def pointwise_here() -> bool:
            if self._pointwise is None:
                self._pointwise = pointwise(self.old, self.building_for, self.pointwise_memo)
            return self._pointwise

        return replays(
            record,
            uses=lambda n: refs.get(n, 0) if n in same else None,
            pointwise=pointwise_here,
            hit=lambda key, n: cse.get(key) == n and n in same,
            miss=lambda key: key not in cse and not any(a in renamed for a in key[1]),
        )

    def _recheck(self, node: str) -> None:
        """Run the rules on ``node`` as the next pass would, now.

        A rule's result often rebuilds its own candidate with the operands in another
        order (``u*2 -> 2*u``); that node is created without trying the rules (they are
        running already), so the next pass would try them. When none applies, its log
        becomes what they read instead of the skip.
        """
        data = self.nodes[node]
        op, args, attrs = data["op"], self.arguments[node], data["attrs"]
        # the shape build inferred for these operands before the guard skipped the rules
        cand = Candidate(op, args, attrs, data["shape"])
        self.top_args = cand.args if len(cand.args) < 16 else frozenset(cand.args)
        key = cse_key(op, args, attrs)
        mark, seen, count = len(self.reads), len(self.looks), len(self.new_nodes)
        self.building.add(key)
        self.depth += 1
        try:
            for rule in RULES.get(op, ()):
                try:
                    result = rule(self, cand)
                except OverflowError:  # as Builder.build: the rule does not apply
                    continue
                if result == node:
                    break  # it rebuilt itself: the next pass keeps it
                if result is not None:
                    return  # the next pass might rewrite it: leave the skip logged
        finally:
            self.depth -= 1
            self.building.discard(key)
        itself = (HIT, (key, node, args))  # made again as it is: the next pass would too
        if len(self.new_nodes) == count and all(r[0] is not HIT or r == itself for r in self.reads[mark:]):
            self.records[node] = tuple(r for r in self.reads[mark:] if r != itself)
            self.looked[node] = tuple(self.looks[seen:])

    def settled(self) -> bool:
        """True when simplifying the new graph again would give it back (see `fixpoint`)."""
        nodes, arguments = self.nodes, self.arguments

        def key_of(n: str) -> Any:
            data = nodes[n]
            return cse_key(data["op"], arguments[n], data["attrs"]) if n in arguments else None

        self.spliced = absorbed(self.g)  # (the next pass, over this graph, splices these)
        return settled(self.g, self.records, self.renamed_from, key_of, self.cse.get, self.spliced)
