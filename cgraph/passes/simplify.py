"""``simplify``: constant folding, algebraic identities, CSE and dead-node removal, to a
fixpoint. It turns an adjoint graph into the symbolic derivative (the lecture's
Approach 2 read off Approach 3).

One pass rebuilds the graph in schedule order. Each node is built from its already
simplified operands by :meth:`_Builder.build`: fold it if its operands are constants,
else try the identities of :data:`cgraph.passes.rules.RULES` for its op, else merge it
with an equal node (CSE) or create it. Passes repeat until the graph stops changing, but
most graphs need one: the builder logs what its rules read besides structure, and
:mod:`cgraph.passes.fixpoint` tells from those logs when another pass would change
nothing; when one is needed, it copies every node whose log still holds instead of
simplifying it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..checks import const_value
from ..errors import InputError
from ..graph import _INFER, Graph, require_graph
from ..memory import gc_paused
from ..ops.registry import OPS
from ..printing.render import is_generated
from . import fixpoint
from .fixpoint import GUARD, HIT, MISS, POINTWISE, USE, absorbed, replays
from .fold import NOT_FOLDED, fold
from .plan import check_input
from .rules import RULES, Candidate

#: the fixpoint loop's backstop; real graphs settle in two or three passes
MAX_PASSES = 50
#: how deeply rules may build nodes that are themselves simplified
MAX_DEPTH = 16

_PLAIN = ("op", "attrs", "role", "shape", "order")  # node data that is not metadata
_DATA = len(_PLAIN)


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
    ``u*0 -> 0``, ``u - u -> 0`` and ``u/u -> 1`` hold wherever ``u`` is defined, so
    they can only *remove* NaN/inf points. Shapes are kept: a node is replaced only by
    one of the same shape (``x*0`` becomes ``zeros_like(x)`` for an array ``x``), except
    that nodes of unknown shape (inputs declared without one) are treated pointwise,
    so ``x*0`` is the scalar ``0`` there (equal up to broadcasting) where only
    elementwise ops use it; under a reduction or reshape it becomes ``zeros_like(x)``.

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
    source = _bind(g, bindings)
    current = source
    signature = None
    builder = None  # the one that made `current`, when we did
    with gc_paused():
        for i in range(MAX_PASSES):
            builder = _Builder(current, numeric=numeric, prev=builder)
            rebuilt = builder.run()
            if not builder.changed or builder.settled():  # another pass would change nothing
                current = rebuilt
                break
            if i > 0:  # signatures are compared only from the second change on: most graphs never need one
                if signature is None:
                    signature = _signature(current)
                new_signature = _signature(rebuilt)
                if new_signature == signature:
                    break
                signature = new_signature
            current = rebuilt
        if _op_count(current) > _op_count(g):  # a backstop: rules are designed never to grow
            current = _Builder(source, numeric=numeric, rules=False).run()
    return current


def _bind(g: Graph, bindings: Mapping[str, Any]) -> Graph:
    """``g`` (uncopied when nothing is bound) with the bound inputs turned into constants."""
    require_graph(g, "simplify").validate()
    if not bindings:
        return g
    out = g.copy()
    for name, value in bindings.items():
        if name not in out.nx or out.nx.nodes[name]["role"] not in ("input", "param"):
            role = out.nx.nodes[name]["role"] if name in out.nx else None
            what = "no node" if role is None else f"{'an' if role == 'op' else 'a'} {role} node"
            raise InputError(f"simplify: cannot bind {name!r}: graph {g.name!r} has {what} of that name")
        data = out.nx.nodes[name]
        check_input(name, value, data["shape"])
        value = const_value(value, name)
        data.update(op="const", role="const", attrs={"value": value}, shape=np.shape(value))
    out._touch()
    return out.validate()


class _Builder:
    """One simplification pass over ``old``, building the new graph."""

    def __init__(self, old: Graph, *, numeric: bool, rules: bool = True, prev: _Builder | None = None) -> None:
        self.old = old
        self.prev = prev  # the builder that made `old`, whose logs say which nodes to copy
        self.numeric = numeric
        self.use_rules = rules
        self.g = Graph(old.name)
        # new names must not collide with old ones (a loaded graph may not know its count)
        self.g._generated = max([old._generated] + [int(n[1:]) for n in old.nx if _generated(n, old)])
        self.map: dict[str, str] = {}
        self.cse: dict[Any, str] = {}
        self.keys: dict[str, list[Any]] = {}  # name -> its CSE keys, for renames
        self.mapped: set[str] = set()
        self.refs: dict[str, int] = {}
        self.new_nodes: list[str] = []
        self.depth = 0
        self.building: set[Any] = set()
        self.changed = False
        self.nodes = self.g.nx._node  # networkx's own dicts: the hot path reads them directly
        self.arguments: dict[str, tuple[str, ...]] = {}  # operands of the new graph's nodes
        self.old_nodes, self.old_succ = old.nx._node, old.nx._succ
        self.old_operands = old._operand_table() if prev is None else prev.arguments
        self.outputs = set(old.outputs)
        self.absorbed = absorbed(old)
        self.changed = bool(self.absorbed)
        self.pointwise_memo: dict[str, bool] = {}
        self.building_for: str | None = None  # the old node being rebuilt
        self._pointwise: bool | None = None  # its pointwise-ness, computed when a rule asks
        # what rules read besides structure (use counts, pointwise-ness, existing nodes),
        # logged per created node: a node created with no such read, from operands that
        # did not change, comes out of another pass as itself (see `settled`)
        self.reads: list[tuple[Any, Any]] = []
        self.records: dict[str, tuple[tuple[Any, Any], ...]] = {}
        self.renamed_from: set[str] = set()
        self.same: set[str] = set()  # old nodes rebuilt as themselves (same name, same operands)

    # ---------------------------------------------------------------- the pass
    def run(self) -> Graph:
        old, succ, same, absorbed = self.old, self.old_succ, self.same, self.absorbed
        old_nodes, operands, mapping, mapped, refs = self.old_nodes, self.old_operands, self.map, self.mapped, self.refs
        prev, outputs = self.prev, self.outputs
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
                    args = self._gather(n) if absorbed else [mapping[o] for o in operands[n]]
                    self.reads.clear()
                    new = self.build(data["op"], args, dict(data["attrs"]), hint=n)
                    if GUARD in self.records.get(new, ()):
                        self._recheck(new)
                    if prev is not None and new == n and self.arguments.get(n) == operands[n] \
                            and all(a in same for a in args) and self.nodes[n]["op"] == data["op"] \
                            and _key(data["op"], (), self.nodes[n]["attrs"]) == _key(data["op"], (), data["attrs"]):
                        same.add(n)
            elif role == "op":
                new = mapping[old.operands(n)[0]]  # an output's name tag: put back at the end
            elif role == "const":
                new = self.const(data["attrs"]["value"], hint=n)
                if new == n:
                    same.add(n)
            else:
                self.g._add_node(n, data["op"], dict(data["attrs"]), role, data["shape"])
                self._keep_metadata(n, n)
                new = n
                same.add(n)
            if new in mapped:
                self.changed = True  # merged with an equal node
            mapping[n] = new
            mapped.add(new)
            refs[new] = refs.get(new, 0) + sum(map(len, succ[n].values()))
        self._finish_outputs()
        return self.g

    def _copy(self, n: str, data: dict, args: tuple[str, ...]) -> str | None:
        """``n`` as it is, when building it would give it back; else None.

        Its operands came out of this pass as themselves, so the rules that left it
        alone in the pass that made it leave it alone again, unless what else they read
        (use counts, pointwise-ness, existing nodes) answers differently now.
        """
        record = self.prev.records.get(n)
        if record is not None and not self._replays(record):
            return None
        op, attrs = data["op"], data["attrs"]
        key = _key(op, args, attrs)
        if key in self.cse:
            return None  # an equal node: merge it
        self.g._apply(OPS[op], list(args), dict(attrs), n, data["shape"])
        if len(data) > _DATA:
            self._keep_metadata(n, n)
        self.new_nodes.append(n)
        self.arguments[n] = args
        if record is not None:
            self.records[n] = record
        self.same.add(n)
        self.cse[key] = n
        self.keys[n] = [key]
        return n

    def _replays(self, record: tuple) -> bool:
        """True when each read logged in ``record`` answers the same in this pass."""
        renamed, same, cse, refs = self.prev.renamed_from, self.same, self.cse, self.refs

        def pointwise() -> bool:
            if self._pointwise is None:
                self._pointwise = fixpoint.pointwise(self.old, self.building_for, self.pointwise_memo)
            return self._pointwise

        return replays(
            record,
            uses=lambda n: refs.get(n, 0) if n in same else None,
            pointwise=pointwise,
            hit=lambda key, n: cse.get(key) == n and n in same,
            miss=lambda key: key not in cse and not any(a in renamed for a in key[1]),
        )

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
                if g.nx.nodes[r]["role"] == "op" and _generated(r, old) and r not in names:
                    self._rename(r, o)
                    renamed[r] = o
                elif g.nx.nodes[r]["role"] == "const":
                    g.const(g.nx.nodes[r]["attrs"]["value"], name=o)
                else:
                    g._apply(OPS["identity"], [r], {}, o)
            self._keep_metadata(o, o)
            names.append(o)
        g.set_outputs(names)
        keep = set(old.inputs) | set(old.params)
        stack = list(names) if names else [self.map[n] for n in old.nx if not self.old_succ[n] and n in self.map]
        while stack:
            n = stack.pop()
            if n not in keep:
                keep.add(n)
                stack.extend(g.nx.predecessors(n))
        dead = [n for n in g.nx if n not in keep]
        if dead:
            g.nx.remove_nodes_from(dead)
            self.changed = self.changed or any(n in self.mapped for n in dead)
        g._touch()

    def _keep_metadata(self, old_name: str, new_name: str) -> None:
        data = self.old_nodes[old_name]
        if len(data) > len(_PLAIN):
            self.nodes[new_name].update((k, v) for k, v in data.items() if k not in _PLAIN)

    def _rename(self, old: str, new: str) -> None:
        """Rename a node of the new graph, keeping the builder's tables right."""
        self.g.rename(old, new)
        self.renamed_from.add(old)
        if old in self.records:
            self.records[new] = self.records.pop(old)
        keys = self.keys.pop(old, [])
        for key in keys:
            self.cse[key] = new
        self.keys[new] = keys
        if old in self.arguments:
            self.arguments[new] = self.arguments.pop(old)
        for user in self.g.nx._succ[new]:
            if user in self.arguments:
                self.arguments[user] = tuple(new if a == old else a for a in self.arguments[user])

    def _remember(self, key: Any, name: str) -> str:
        self.cse[key] = name
        self.keys.setdefault(name, []).append(key)
        return name

    # ---------------------------------------------------------------- building
    def build(self, op: str, args: list[str], attrs: dict, *, hint: str | None = None) -> str:
        """The simplified node ``op(*args)``: folded, rewritten, merged or created."""
        reads = self.reads
        mark = len(reads)
        opdef = OPS[op]
        if attrs:
            key = _key(op, args, attrs)
        else:  # the common case, inlined
            key = (op, tuple(sorted(args)) if opdef.commutative else tuple(args), ())
        hit = self.cse.get(key)
        if hit is not None:
            if self.depth:
                reads.append((HIT, (key, hit, tuple(args))))  # a rule found an existing node
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
                shape = opdef.shape(*[nodes[a]["shape"] for a in args], **attrs)
            except (ValueError, TypeError):
                rules = None
        if rules:
            if key in self.building or self.depth >= MAX_DEPTH:
                reads.append(GUARD)  # rules skipped here run in another pass
            else:
                cand = Candidate(op, tuple(args), attrs, shape)
                self.building.add(key)
                self.depth += 1
                try:
                    for rule in rules:
                        start = len(self.new_nodes)
                        result = rule(self, cand)
                        if result is not None and self._affordable(cand, result, start):
                            if self.cse.get(key) != result:  # else the rule rebuilt cand itself
                                self.changed = True
                            return self._remember(key, self._named(result, hint, start))
                finally:
                    self.depth -= 1
                    self.building.discard(key)
        node = self._create(op, args, attrs, hint, key, shape)
        if len(reads) > mark:
            self.records[node] = tuple(reads[mark:])
        return node

    def _recheck(self, node: str) -> None:
        """Run the rules on ``node`` as the next pass would, now.

        A rule's result often rebuilds its own candidate with the operands in another
        order (``u*2 -> 2*u``); that node is created without trying the rules (they are
        running already), so the next pass would try them. When none applies, its log
        becomes what they read instead of the skip.
        """
        data = self.nodes[node]
        op, args, attrs = data["op"], self.arguments[node], data["attrs"]
        cand = self._candidate(op, list(args), attrs)
        if cand is None:
            return
        key = _key(op, args, attrs)
        mark, count = len(self.reads), len(self.new_nodes)
        self.building.add(key)
        self.depth += 1
        try:
            for rule in RULES.get(op, ()):
                result = rule(self, cand)
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

    def _keeps_shape(self, hit: str, op: str, args: list[str], attrs: dict) -> bool:
        # a stand-in merged where pointwise use allowed it (u - u -> 0) is not equal where
        # a reduction or reshape reads the shape
        try:
            shape = OPS[op].shape(*(self.nodes[a]["shape"] for a in args), **attrs)
        except (ValueError, TypeError):
            return True
        return self.nodes[hit]["shape"] == shape

    def make(self, op: str, *args: str, **attrs: Any) -> str:
        """Build a node for a rule (it is simplified too)."""
        return self.build(op, list(args), {**OPS[op].attrs, **attrs})

    def const(self, value: Any, *, hint: str | None = None) -> str:
        """The constant ``value`` (one node per distinct value)."""
        value = const_value(value, None)
        key = ("const", _freeze(value))
        if key not in self.cse:
            name = hint if hint is not None and _generated(hint, self.old) and hint not in self.g.nx else None
            self._remember(key, self.g.const(value, name=name).name)
        return self.cse[key]

    def _create(self, op: str, args: list[str], attrs: dict, hint: str | None, key: Any, shape: Any) -> str:
        g = self.g
        name = hint if hint is not None and hint not in self.nodes else None
        node = g._apply(OPS[op], args, attrs, name, shape).name
        if name is not None:
            if len(self.old_nodes[hint]) > _DATA:
                self._keep_metadata(hint, node)
        else:
            for a in args:  # a rule's new use of a node (old uses come from the old graph)
                self.refs[a] = self.refs.get(a, 0) + 1
                self.reads.append((USE, a))
        self.new_nodes.append(node)
        self.arguments[node] = tuple(args)
        self.cse[key] = node
        self.keys[node] = [key]
        return node

    def _named(self, result: str, hint: str | None, start: int) -> str:
        # a node a rule made for a named one inherits its name: g_b stays g_b
        if (hint is None or _generated(hint, self.old) or hint in self.g.nx or len(self.new_nodes) == start
                or self.nodes[result]["role"] != "op" or not _generated(result, self.old)
                or result in self.mapped):
            return result
        self._rename(result, hint)
        self._keep_metadata(hint, hint)
        return hint

    def _candidate(self, op: str, args: list[str], attrs: dict) -> Candidate | None:
        if not self.use_rules or op not in RULES:
            return None
        try:
            shape = OPS[op].shape(*(self.nodes[a]["shape"] for a in args), **attrs)
        except (ValueError, TypeError):
            return None
        return Candidate(op, tuple(args), attrs, shape)

    def _affordable(self, cand: Candidate, result: str, start: int) -> bool:
        """True when ``result`` has no more new op nodes than replacing ``cand`` frees."""
        new = set(self.new_nodes[start:])
        if len(new) <= 1:
            return True  # it replaces cand itself
        freed = self._closure(cand)
        reach: set[str] = set()
        stack = [result]
        while stack:  # what result still uses, among the new and the freeable nodes
            n = stack.pop()
            if n not in reach and (n in new or n in freed):
                reach.add(n)
                stack.extend(self.g.nx.predecessors(n))
        created = sum(1 for n in new & reach if self.nodes[n]["role"] == "op")
        return created <= 1 + len(freed - reach)

    def _closure(self, cand: Candidate) -> set[str]:
        """The op nodes only ``cand`` uses, through chains of single uses (3 levels)."""
        out: set[str] = set()
        level = list(cand.args)
        for _ in range(3):
            level = [a for a in level if a not in out and self.nodes[a]["role"] == "op" and self.single(a)]
            out.update(level)
            level = [p for a in level for p in self.args(a)]
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
    def op(self, n: str) -> str:
        return self.nodes[n]["op"]

    def args(self, n: str) -> tuple[str, ...]:
        found = self.arguments.get(n)
        return found if found is not None else self.g.operands(n)

    def attrs(self, n: str) -> dict:
        return self.nodes[n]["attrs"]

    def shape(self, n: str) -> Any:
        return self.nodes[n]["shape"]

    def value(self, n: str) -> Any:
        """The value of a scalar constant node, else None."""
        data = self.nodes[n]
        if data["op"] != "const":
            return None
        v = data["attrs"]["value"]
        return None if isinstance(v, np.ndarray) else v

    def array(self, n: str) -> Any:
        """The value of any constant node (scalar or array), else None."""
        data = self.nodes[n]
        return data["attrs"]["value"] if data["op"] == "const" else None

    def single(self, n: str) -> bool:
        """True when ``n`` is used at most once (so a rule absorbing it frees it)."""
        answer = self.refs.get(n, 0) <= 1
        self.reads.append((n, answer))
        return answer

    @property
    def pointwise(self) -> bool:
        """May the node being built be replaced by a broadcastable stand-in? (see `_pointwise`)"""
        answer = self._pointwise
        if answer is None:
            answer = self._pointwise = fixpoint.pointwise(self.old, self.building_for, self.pointwise_memo)
        self.reads.append((POINTWISE, answer))
        return answer

    # ---------------------------------------------------------------- the fixpoint
    def settled(self) -> bool:
        """True when simplifying the new graph again would give it back (see `fixpoint`)."""
        nodes, arguments = self.nodes, self.arguments

        def key_of(n: str) -> Any:
            data = nodes[n]
            return _key(data["op"], arguments[n], data["attrs"]) if n in arguments else None

        return fixpoint.settled(self.g, self.records, self.renamed_from, key_of, self.cse.get)


def _generated(name: str, g: Graph) -> bool:
    return is_generated(name)


def _freeze(value: Any) -> Any:
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    if isinstance(value, (list, tuple)):
        return ("seq", tuple(_freeze(v) for v in value))
    if isinstance(value, float):
        return ("float", repr(value))
    return (type(value).__name__, value)


def _key(op: str, args: list[str] | tuple, attrs: dict) -> Any:
    operands = tuple(sorted(args)) if OPS[op].commutative else tuple(args)
    if not attrs:
        return (op, operands, ())
    return (op, operands, tuple(sorted((k, _freeze(v)) for k, v in attrs.items())))


def _signature(g: Graph) -> Any:
    """The graph's structure, blind to generated names (``t12`` vs ``t31``)."""
    nodes, pred = g.nx._node, g.nx._pred
    index = {n: i for i, n in enumerate(g.schedule())}
    rows = []
    for n in index:
        data = nodes[n]
        ports = sorted((k, index[u]) for u, keys in pred[n].items() for k in keys)
        attrs = data["attrs"]
        rows.append((None if _generated(n, g) else n, data["op"], tuple(ports),
                     _freeze(tuple(sorted(attrs.items()))) if attrs else ()))
    return tuple(index[o] for o in g.outputs), tuple(rows)


def _op_count(g: Graph) -> int:
    return sum(1 for _, role in g.nx.nodes(data="role") if role == "op")
