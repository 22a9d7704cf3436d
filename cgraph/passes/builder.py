"""One pass of ``simplify``: :class:`Builder` rebuilds a graph node by node, in
schedule order, each node from its already simplified operands: folded when they are
constants, rewritten by the identities of :data:`cgraph.passes.rules.RULES`, merged with
an equal node (CSE), or created; then dead nodes are dropped. What the rules read
besides structure is logged for :mod:`cgraph.passes.fixpoint`.
"""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from itertools import chain
from typing import Any

import numpy as np

from ..checks import const_value
from ..graph import _INFER, Graph, derived_attrs
from ..ops.registry import OPS
from ..printing.render import is_generated
from . import fixpoint
from .fixpoint import GUARD, HIT, MISS, POINTWISE, USE, USES, Replaying, absorbed, cse_key, freeze
from .fold import NOT_FOLDED, fold
from .rules import RULES, Candidate
from .terms import in_range

#: how deeply rules may build nodes that are themselves simplified
MAX_DEPTH = 16

_PLAIN = frozenset(("op", "attrs", "role", "shape", "order"))  # node data that is not metadata
_DATA = len(_PLAIN)
_SOURCES = ("const", "input", "param")
_SCALAR: frozenset = frozenset()  # the extent of a scalar
_LIKE_OPS = ("expand_to", "sum_to", "reshape_like")  # (u, like): the shape of `like`


_candidate = tuple.__new__  # Candidate(...) without the Python-level __new__ of a NamedTuple


def _union(parts: list[frozenset]) -> frozenset:
    first = parts[0]
    for p in parts:
        if p != first:
            return first.union(*parts[1:])
    return first  # the common case: no new set


def _extent_operands(op: str, args: Any) -> Any:
    """The operands whose extents make up the extent of ``op(*args)`` (None: a shape of its own)."""
    opdef = OPS.get(op)
    if opdef is None or opdef.arity == 0 or not args:
        return None
    if op == "zeros_like":
        return args[:1]
    if op in _LIKE_OPS:
        return args[1:2]
    return args if opdef.elementwise else None


class Builder(Replaying):
    """One simplification pass over ``old``, building the new graph."""

    def __init__(self, old: Graph, *, numeric: bool, rules: bool = True, prev: Builder | None = None,
                 keep_shape: frozenset[str] = frozenset(), collect: bool = True) -> None:
        self.old = old
        self.prev = prev  # the builder that made `old`, whose logs say which nodes to copy
        self.numeric = numeric
        self.use_rules = rules
        self.collect = collect  # allow a node per term or factor a rule collects (see _terms_merged)
        self.g = Graph(old.name)
        # new names must not collide with old ones (a loaded graph may not know its count;
        # one we built does)
        self.g._generated = old._generated if prev is not None else max(
            [old._generated] + [int(n[1:]) for n in old.nx._node if is_generated(n)])
        self.map: dict[str, str] = {}
        self.cse: dict[Any, str] = {}
        self.keys: dict[str, Any] = {}  # name -> its CSE key, or a list of its keys: for renames
        self.mapped: set[str] = set()
        self.refs: dict[str, int] = {}
        self.new_nodes: list[str] = []
        self.depth = 0
        self.building: set[Any] = set()
        self.nodes = self.g.nx._node  # networkx's own dicts: the hot path reads them directly
        self.arguments: dict[str, tuple[str, ...]] = {}  # operands of the new graph's nodes
        self.old_nodes, self.old_succ = old.nx._node, old.nx._succ
        self.old_operands = old._operand_table()  # (a graph we built has it cached: _prime)
        self.outputs = set(old.outputs)
        self.absorbed = prev.spliced if prev is not None and prev.spliced is not None and prev.g is old else absorbed(old)
        self.spliced: set[str] | None = None  # absorbed(self.g), once settled() has it
        self.changed = bool(self.absorbed)
        # keep_shape: outputs whose shape the caller sees (compile's values): never pointwise
        self.pointwise_memo: dict[str, bool] = dict.fromkeys(keep_shape, False)
        self.extents: dict[str, frozenset] = {}  # new node -> see `extent`
        self.building_for: str | None = None  # the old node being rebuilt
        self._pointwise: bool | None = None  # its pointwise-ness, computed when a rule asks
        # what rules read besides structure (use counts, pointwise-ness, existing nodes),
        # logged per created node: a node created with no such read, from operands that
        # did not change, comes out of another pass as itself (see `settled`)
        self.reads: list[tuple[Any, Any]] = []
        self.records: dict[str, tuple[tuple[Any, Any], ...]] = {}
        self.looks: list[str] = []  # ... and the nodes they looked at beyond the operands
        self.looked: dict[str, tuple[str, ...]] = {}
        self.renamed_from: set[str] = set()
        self.same: set[str] = set()  # old nodes rebuilt as themselves (name, op, operands, shape)
        self.top_args: tuple[str, ...] | frozenset[str] = ()  # the operands of the old node being rebuilt

    # ---------------------------------------------------------------- the pass
    def run(self) -> Graph:
        old, same, absorbed = self.old, self.same, self.absorbed
        old_nodes, operands, mapping, mapped, refs = self.old_nodes, self.old_operands, self.map, self.mapped, self.refs
        prev, outputs = self.prev, self.outputs
        uses = Counter(chain.from_iterable(operands.values()))  # how often the old graph uses each node
        for n in old.schedule():
            if n in absorbed:
                continue  # its operands are spliced into its user: (a + b) + c -> a + b + c
            data = old_nodes[n]
            role = data["role"]
            if role == "op" and not (data["op"] == "identity" and n in outputs):
                self.building_for, self._pointwise = n, None
                new = None
                if prev is not None:
                    args = operands[n]
                    if all(a in same for a in args):
                        new = self._copy(n, data, args)
                if new is None:
                    args = operands[n]
                    if absorbed and not absorbed.isdisjoint(args):
                        args = self._gather(n)
                    else:
                        args = list(map(mapping.__getitem__, args))
                    self.reads.clear()
                    self.looks.clear()
                    attrs = data["attrs"]
                    new = self.build(data["op"], args, dict(attrs) if attrs else {}, hint=n)
                    if GUARD in self.records.get(new, ()):
                        self._recheck(new)
                    if new == n and self.arguments.get(n) == operands[n]:
                        made = self.nodes[n]
                        if made["op"] == data["op"] and made["shape"] == data["shape"] and (
                                not (made["attrs"] or data["attrs"])
                                or cse_key(data["op"], (), made["attrs"]) == cse_key(data["op"], (), data["attrs"])):
                            same.add(n)
            elif role == "op":
                new = mapping[old.operands(n)[0]]  # an output's name tag: put back at the end
            elif role == "const":
                new = self.const(data["attrs"]["value"], hint=n)
                if new == n:
                    same.add(n)
            else:
                self.g._add_node(n, data["op"], derived_attrs(data), role, data["shape"])
                self._keep_metadata(n, n)
                new = n
                same.add(n)
            if new in mapped:
                self.changed = True  # merged with an equal node
            mapping[n] = new
            mapped.add(new)
            refs[new] = refs.get(new, 0) + uses[n]
        self._finish_outputs()
        return self.g

    def _gather(self, n: str) -> list[str]:
        out = []
        stack = list(reversed(self.old_operands[n]))
        while stack:
            o = stack.pop()
            if o in self.absorbed:
                stack.extend(reversed(self.old_operands[o]))
            else:
                out.append(self.map[o])
        return out

    def _finish_outputs(self) -> None:
        old, g = self.old, self.g
        names: list[str] = []
        renamed: dict[str, str] = {}
        for o in old.outputs:
            r = self.map[o]
            r = renamed.get(r, r)  # two outputs of one value: the second refers to the first
            if r != o:
                if g.nx.nodes[r]["role"] == "op" and is_generated(r) and r not in names:
                    self._rename(r, o)
                    renamed[r] = o
                elif g.nx.nodes[r]["role"] == "const":
                    g.const(g.nx.nodes[r]["attrs"]["value"], name=o)
                else:
                    g._apply(OPS["identity"], [r], {}, o)
            self._keep_metadata(o, o)
            names.append(o)
        g._changed()  # (after `_add`)
        g.set_outputs(names)
        keep = set(old.inputs) | set(old.params)
        stack = list(names) if names else [self.map[n] for n in old.nx if not self.old_succ[n] and n in self.map]
        pred = g.nx._pred
        while stack:
            n = stack.pop()
            if n not in keep:
                keep.add(n)
                stack.extend(pred[n])
        dead = [n for n in g.nx if n not in keep]
        if dead:
            g.nx.remove_nodes_from(dead)
            self.changed = self.changed or any(n in self.mapped for n in dead)
        if not self.changed:  # nothing rewritten or merged: did every node come out as it was?
            # (a rule's node that a later node merged into, or nodes in another order, would not)
            nodes, same, outputs = self.old_nodes, self.same, self.outputs
            self.changed = len(g.nx) != len(nodes) or not all(
                n in same or (n in outputs and nodes[n]["op"] in ("identity", "const")) for n in nodes)
        g._touch()
        g._mark_valid()  # every node made from a valid graph by checked rules: no second check
        self._prime(dead, names)

    def _prime(self, dead: list[str], outputs: list[str]) -> None:
        """Give the new graph its operand table and schedule, known here for less than
        reading them back from networkx costs: the next pass, the printers and the code
        writer read them (about half the time of printing a 10^5-node program)."""
        g, arguments = self.g, self.arguments
        nodes = g.nx._node
        for n in dead:
            arguments.pop(n, None)
        table = dict.fromkeys(g.nx._pred, ())  # (sources have no operands)
        table.update(arguments)
        for o in outputs:  # an output's identity or constant, made after the rules
            if o not in arguments:
                table[o] = g.operands(o)
        if len(table) != len(nodes):  # (a node we did not make: read them back)
            table = g._read_operands()
        g._cached("operands", lambda: table)
        # every node was written after its operands, so creation order is topological:
        # Graph._creation_order's answer without its check
        index = {n: d["order"] for n, d in nodes.items()}
        order = tuple(sorted(nodes, key=index.__getitem__))
        g._cached("schedule", lambda: order)

    def _keep_metadata(self, old_name: str, new_name: str) -> None:
        data = self.old_nodes[old_name]
        if len(data) > _DATA:
            self.nodes[new_name].update({k: data[k] for k in data if k not in _PLAIN})

    def _rename(self, old: str, new: str) -> None:
        """Rename a node of the new graph, keeping the builder's tables right."""
        self.g.rename(old, new)
        self.renamed_from.add(old)
        if old in self.records:
            self.records[new] = self.records.pop(old)
        if old in self.looked:
            self.looked[new] = self.looked.pop(old)
        keys = self.keys.pop(old, [])
        for key in keys if type(keys) is list else (keys,):
            self.cse[key] = new
        self.keys[new] = keys
        if old in self.arguments:
            self.arguments[new] = self.arguments.pop(old)
        for user in self.g.nx._succ[new]:
            if user in self.arguments:
                self.arguments[user] = tuple(new if a == old else a for a in self.arguments[user])

    def _remember(self, key: Any, name: str) -> str:
        self.cse[key] = name
        found = self.keys.get(name)
        if found is None:
            self.keys[name] = key
        elif type(found) is list:
            found.append(key)
        else:
            self.keys[name] = [found, key]
        return name

    # ---------------------------------------------------------------- building
    def build(self, op: str, args: list[str], attrs: dict, *, hint: str | None = None) -> str:
        """The simplified node ``op(*args)``: folded, rewritten, merged or created."""
        reads, looks = self.reads, self.looks
        mark, seen = len(reads), len(looks)
        opdef = OPS[op]
        operands = tuple(args)  # (one tuple for the key, the candidate and the node's operands)
        if attrs:
            key = cse_key(op, operands, attrs)
        else:  # the common case, inlined
            key = (op, tuple(sorted(operands)) if opdef.commutative else operands, ())
        if self.depth:  # a rule's make: what it finds depends on its operands
            looks.extend(args)
        hit = self.cse.get(key)
        if hit is not None:
            if self.depth:
                reads.append((HIT, (key, hit, operands)))  # a rule found an existing node
            if self.pointwise or self._keeps_shape(hit, op, args, attrs):
                return hit
        elif self.depth:
            reads.append((MISS, key))
        nodes = self.nodes
        for a in args:
            if nodes[a]["op"] != "const":
                break
        else:
            folded = self.fold(op, args, attrs)
            if folded is not None:
                self.changed = True
                return folded
        rules = RULES.get(op) if self.use_rules else None
        shape: Any = _INFER
        if rules:
            try:
                if attrs or len(args) > 2:
                    shape = opdef.shape(*[nodes[a]["shape"] for a in args], **attrs)
                elif len(args) == 2:  # (the common cases without a list)
                    shape = opdef.shape(nodes[args[0]]["shape"], nodes[args[1]]["shape"])
                elif args:
                    shape = opdef.shape(nodes[args[0]]["shape"])
                else:
                    shape = opdef.shape()
            except (ValueError, TypeError):
                rules = None
        if rules:
            if key in self.building or self.depth >= MAX_DEPTH:
                reads.append(GUARD)  # rules skipped here run in another pass
            else:
                cand = _candidate(Candidate, (op, operands, attrs, shape))
                if not self.depth:  # (a set for a long sum: every query of the rules tests it)
                    self.top_args = cand.args if len(cand.args) < 16 else frozenset(cand.args)
                self.building.add(key)
                self.depth += 1
                new_nodes = self.new_nodes
                try:
                    for rule in rules:
                        start = len(new_nodes)
                        try:
                            result = rule(self, cand)
                        except OverflowError:  # exact ints past the floats met a float: leave it unfolded
                            continue
                        if result is not None and self._affordable(cand, result, start):
                            if self.cse.get(key) != result:  # else the rule rebuilt cand itself
                                self.changed = True
                            return self._remember(key, self._named(result, hint, start))
                finally:
                    self.depth -= 1
                    self.building.discard(key)
        node = self._create(op, operands, attrs, hint, key, shape)
        if len(reads) > mark:
            self.records[node] = tuple(reads[mark:])
        if len(looks) > seen:
            self.looked[node] = tuple(looks[seen:])
        return node

    def _keeps_shape(self, hit: str, op: str, args: list[str], attrs: dict) -> bool:
        # a stand-in merged where pointwise use allowed it (u - u -> 0) is not equal where
        # a reduction or reshape reads the shape
        try:
            shape = OPS[op].shape(*(self.nodes[a]["shape"] for a in args), **attrs)
        except (ValueError, TypeError):
            return True
        if shape is None:
            return self.nodes[hit]["shape"] is None and self.extent(hit) == self.extent_of(op, args)
        return self.nodes[hit]["shape"] == shape

    def extent(self, n: str) -> frozenset:
        """What the shape of ``n`` is the broadcast of: its nodes of unknown shape (and
        declared shapes, standing for themselves). Two nodes of unknown shape have the same
        shape when their extents are equal: ``x*1`` and ``x`` do, ``x1 + zeros_like(x0)``
        and ``x1`` need not. Depends only on the nodes below ``n``, so it is not logged."""
        memo = self.extents
        found = memo.get(n)
        if found is not None:
            return found
        nodes, arguments = self.nodes, self.arguments
        data = nodes[n]
        if data["shape"] is None:  # the common case: operands known already, without the stack
            deps = _extent_operands(data["op"], arguments.get(n) or self.g.operands(n))
            if deps is not None and all(a in memo for a in deps):
                found = memo[n] = _union([memo[a] for a in deps])
                return found
        stack = [n]
        while stack:  # depth first over the operands, without recursion
            m = stack[-1]
            if m in memo:
                stack.pop()
                continue
            data = nodes[m]
            shape = data["shape"]
            if shape is not None:
                memo[m] = _SCALAR if shape == () else frozenset((shape,))
                stack.pop()
                continue
            deps = _extent_operands(data["op"], arguments.get(m) or self.g.operands(m))
            if deps is None:
                memo[m] = frozenset((m,))  # an input, or an op that makes a shape of its own
                stack.pop()
                continue
            waiting = False
            for a in deps:
                if a not in memo:
                    stack.append(a)
                    waiting = True
            if not waiting:
                memo[m] = _union([memo[a] for a in deps])
                stack.pop()
        return memo[n]

    def extent_of(self, op: str, args: Any) -> frozenset | None:
        """The extent ``op(*args)`` would have (None: a shape of its own)."""
        deps = _extent_operands(op, args)
        if deps is None:
            return None
        memo = self.extents
        return _union([memo[a] if a in memo else self.extent(a) for a in deps])

    def make(self, op: str, *args: str, **attrs: Any) -> str:
        """Build a node for a rule (it is simplified too)."""
        return self.build(op, list(args), {**OPS[op].attrs, **attrs})

    def const(self, value: Any, *, hint: str | None = None) -> str:
        """The constant ``value`` (one node per distinct value)."""
        value = const_value(value, None)
        key = ("const", freeze(value))
        if key not in self.cse:
            if self.depth and not in_range(value):
                # a rule's float arithmetic overflowed (1e300*x*1e300 -> inf*x) where evaluate
                # names the op that does, or underflowed (1e-200*x*1e-200 -> 0*x -> 0, a wrong
                # derivative): the rule does not apply (build skips it)
                raise OverflowError(f"a rule made the constant {value!r}")
            name = hint if hint is not None and is_generated(hint) and hint not in self.nodes else None
            self._remember(key, self.g.const(value, name=name).name)
        return self.cse[key]

    def _create(self, op: str, args: tuple[str, ...], attrs: dict, hint: str | None, key: Any, shape: Any) -> str:
        g, nodes = self.g, self.nodes
        name = hint if hint is not None and hint not in nodes else None
        if shape is _INFER:
            node = g._apply(OPS[op], args, attrs, name, shape).name
        elif name is not None:
            g._write_op(name, op, args, attrs, shape)  # (_add, inlined)
            node = name
        else:  # Graph._apply without its Node and _changed (the graph hears of it at the end)
            opdef = OPS[op]
            if (len(args) != opdef.arity) if opdef.arity is not None else (len(args) < opdef.min_arity):
                g._apply(opdef, args, attrs, None, shape)  # (it raises ArityError)
            node = g._claim(None)
            g._write_op(node, op, args, attrs, shape)
        if name is not None:
            data = self.old_nodes[hint]
            if len(data) > _DATA:  # (_keep_metadata, inlined)
                nodes[node].update({k: data[k] for k in data if k not in _PLAIN})
        else:
            refs, reads = self.refs, self.reads
            for a in args:  # a rule's new use of a node (old uses come from the old graph)
                refs[a] = refs.get(a, 0) + 1
                reads.append((USE, a))
        self.new_nodes.append(node)
        self.arguments[node] = args
        self.cse[key] = node
        self.keys[node] = key
        return node

    def _add(self, name: str, op: str, args: Any, attrs: dict, shape: Any) -> str:
        """``Graph._apply`` for the nodes a pass names itself (most of them): their op,
        arity and shape are known good and the name is new; the graph is told it changed
        once, at the end of the pass."""
        self.g._write_op(name, op, args, attrs, shape)
        return name

    def _named(self, result: str, hint: str | None, start: int) -> str:
        # a node a rule made for a named one inherits its name: g_b stays g_b
        nodes = self.nodes
        if (hint is None or len(self.new_nodes) == start or hint in nodes or is_generated(hint)
                or nodes[result]["role"] != "op" or not is_generated(result)
                or result in self.mapped):
            return result
        self._rename(result, hint)
        self._keep_metadata(hint, hint)
        return hint

    def _affordable(self, cand: Candidate, result: str, start: int) -> bool:
        """True when ``result`` has no more new op nodes than replacing ``cand`` frees."""
        if len(self.new_nodes) - start <= 1:
            return True  # it replaces cand itself (the common case, without a set)
        new = set(self.new_nodes[start:])
        if len(new) <= 1:
            return True
        freed = self._closure(cand)
        reach: set[str] = set()
        stack = [result]
        pred = self.g.nx._pred
        while stack:  # what result still uses, among the new and the freeable nodes
            n = stack.pop()
            if n not in reach and (n in new or n in freed):
                reach.add(n)
                stack.extend(pred[n])
        created = sum(1 for n in new & reach if self.nodes[n]["role"] == "op")
        return created <= 1 + len(freed - reach) + (self._terms_merged(cand, result) if self.collect else 0)

    def _terms_merged(self, cand: Candidate, result: str) -> int:
        """How many terms of a sum or factors of a product ``result`` saves, when it is
        still a sum or a product: ``u + u + w -> 2*u + w`` and ``3*u*u -> 3*u^2`` save
        one, as does a product that becomes one fraction, counting the factors above and
        below the bar (``2*x^2*z*(u/(x*z)^4) -> 2*u/(x^2*z^3)``, ``x*z`` shared). Each
        may cost a node, so like terms and equal factors collect as a hand derivation
        collects them (``simplify`` still never returns more op nodes than it was given)."""
        cost = 0
        op = self.nodes[result]["op"]
        if cand.op in ("add", "sub") and op in ("add", "sub"):  # (1 - s) - s -> 1 - 2*s saves one
            terms = sum(2 if self.nodes[a]["op"] == "sub" else 1 for a in cand.args)
            return max(0, terms - len(self.arguments.get(result, cand.args)))
        if cand.op == "mul" and op in ("add", "sub"):  # s*t*(-y/s - (y - 1)/t) -> -y*t - s*(y - 1)
            return self._quotients_cancelled(cand)
        if cand.op == "mul" and op == "neg":  # 1*u*(-1)*v -> -(u*v)
            result, cost = self.arguments[result][0], 1
        if cand.op == "mul" and self.nodes[result]["op"] == "div":
            # factors that cancel across a fraction bar: x^2*z*(u/(x*z)^4) -> u/(x^2*z^3) saves one
            return max(0, self._factors_of(cand.args) - self._factors_of(self.arguments[result]) - cost)
        if cand.op not in ("add", "mul") or self.nodes[result]["op"] != cand.op:
            return 0
        factors = len(cand.args)
        if cand.op == "mul":  # 2*(x*z)*z -> 2*x*z^2 saves one: the factors of x*z count
            factors += sum(len(self.arguments.get(a, ())) - 1 for a in cand.args if self.nodes[a]["op"] == "mul")
        return max(0, factors - len(self.arguments.get(result, cand.args)) - cost)

    def _factors_of(self, args: tuple[str, ...]) -> int:
        """How many factors other than numbers the product of ``args`` is written with,
        reading a product into its operands and a quotient into those of its numerator
        and denominator: ``2*x^2*z*(u/(x*z)^4)`` has 4 (``x*z`` is one: its own node)."""
        nodes, arguments = self.nodes, self.arguments
        count = 0
        for a in args:
            for part in arguments.get(a, ()) if nodes[a]["op"] == "div" else (a,):
                if nodes[part]["op"] == "mul":
                    count += sum(nodes[f]["op"] != "const" for f in arguments.get(part, ()))
                else:
                    count += nodes[part]["op"] != "const"
        return count

    def _quotients_cancelled(self, cand: Candidate) -> int:
        """The quotient terms (``u/v``, ``-u/v``) of the sum among ``cand``'s factors:
        multiplied into the sum, each one's division goes."""
        nodes, arguments = self.nodes, self.arguments
        for a in cand.args:
            if nodes[a]["op"] in ("add", "sub"):
                count = 0
                for t in arguments.get(a, ()):
                    if nodes[t]["op"] == "neg":
                        t = arguments.get(t, (t,))[0]
                    count += nodes[t]["op"] == "div"
                return count
        return 0

    def _closure(self, cand: Candidate) -> set[str]:
        """The op nodes only ``cand`` uses, through chains of single uses (3 levels); an
        operand ``cand`` lists twice is only its when it has no other use (``u + u + w``)."""
        times = Counter(cand.args)
        level = [a for a in times if self.op(a) not in _SOURCES and self.used_at_most(a, times[a])]
        out = set(level)
        for _ in range(2):
            level = [p for a in level for p in self.args(a)]
            level = [a for a in level if a not in out and self.op(a) not in _SOURCES and self.single(a)]
            out.update(level)
        return out

    # ---------------------------------------------------------------- folding
    def fold(self, op: str, args: list[str], attrs: dict) -> str | None:
        """The constant ``op(*args)`` when every operand is a constant and it folds."""
        nodes = self.nodes
        if not args or any(nodes[a]["op"] != "const" for a in args):
            return None  # (build checks this first)
        result = fold(OPS[op], [nodes[a]["attrs"]["value"] for a in args], attrs, numeric=self.numeric)
        return None if result is NOT_FOLDED else self.const(result)

    # ---------------------------------------------------------------- queries for rules
    # A rule's look at a node beyond the operands of the node being rebuilt is logged
    # (`looks`): another pass may copy the node only if those nodes came out as they were.
    def _look(self, n: str) -> dict:
        if self.depth > 1 or n not in self.top_args:
            self.looks.append(n)
        return self.nodes[n]

    def op(self, n: str) -> str:
        if self.depth > 1 or n not in self.top_args:  # (_look, inlined: the most frequent query)
            self.looks.append(n)
        return self.nodes[n]["op"]

    def args(self, n: str) -> tuple[str, ...]:
        data = self._look(n)
        found = self.arguments.get(n)
        if found is None:  # an input, param or constant (no operands), or a node made otherwise
            found = () if data["role"] != "op" else self.g.operands(n)
        return found

    def attrs(self, n: str) -> dict:
        return self._look(n)["attrs"]

    def made(self, n: str) -> tuple[str, int]:
        """``n``'s role (``input``, ``param``, ``const``, ``op``) and creation index."""
        data = self._look(n)
        return data["role"], data["order"]

    def shape(self, n: str) -> Any:
        return self._look(n)["shape"]

    def op_args(self, n: str) -> tuple[str, tuple[str, ...]]:
        """``op(n)`` and ``args(n)`` in one query."""
        if self.depth > 1 or n not in self.top_args:  # (_look, inlined)
            self.looks.append(n)
        data = self.nodes[n]
        found = self.arguments.get(n)
        if found is None:  # an input, param or constant (no operands), or a node made otherwise
            found = () if data["role"] != "op" else self.g.operands(n)
        return data["op"], found

    def num(self, n: str) -> Any:
        """The number a scalar constant holds (an int, Fraction or float), else None."""
        if self.depth > 1 or n not in self.top_args:  # (_look, inlined)
            self.looks.append(n)
        data = self.nodes[n]
        if data["op"] != "const":
            return None
        v = data["attrs"]["value"]
        t = type(v)
        if t is int or t is float or t is Fraction:  # the common cases, without an ABC check
            return v
        return v if isinstance(v, (int, float, Fraction)) else None

    def is_(self, n: str, k: int) -> bool:
        """True when ``n`` is the constant ``k`` (scalar, or an array of k's; ``zeros_like`` is 0)."""
        if self.depth > 1 or n not in self.top_args:  # (_look, inlined)
            self.looks.append(n)
        data = self.nodes[n]
        if data["op"] != "const":
            return k == 0 and data["op"] == "zeros_like"
        v = data["attrs"]["value"]
        return bool(np.all(np.asarray(v) == k)) if isinstance(v, np.ndarray) else v == k

    def single(self, n: str) -> bool:
        """True when ``n`` is used at most once (so a rule absorbing it frees it)."""
        answer = self.refs.get(n, 0) <= 1
        self.reads.append((n, answer))
        return answer

    def used_at_most(self, n: str, k: int) -> bool:
        """True when ``n`` is used at most ``k`` times (:meth:`single` is ``k = 1``)."""
        answer = self.refs.get(n, 0) <= k
        self.reads.append((USES, (n, k, answer)))
        return answer

    @property
    def pointwise(self) -> bool:
        """May the node being built be replaced by a broadcastable stand-in? (see `_pointwise`)"""
        answer = self._pointwise
        if answer is None:
            answer = self._pointwise = fixpoint.pointwise(self.old, self.building_for, self.pointwise_memo)
        self.reads.append((POINTWISE, answer))
        return answer
