"""The IR: a function as a ``networkx.MultiDiGraph`` of typed op nodes.

Node id = the node's unique name. Edges run operand -> user and the edge *key* is the
operand position, so ``x * x`` is two parallel edges with keys 0 and 1; operand order
is always read from the keys, never from insertion order.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator
from typing import Any

import networkx as nx
import numpy as np

from .checks import check_node, const_value, normalize_shape
from .errors import ArgumentError, ArityError, CycleError, GraphError, NodeNotFoundError, ShapeError
from .memory import PROMOTE_EVERY, gc_paused, promote_young
from .node import Node
from .ops import registry
from .ops.registry import OPS, SOURCE_OPS, OpDef, check_attrs, get_op

__all__ = ["Graph", "Node", "apply_op"]

_INFER: Any = object()  # _apply's default: infer the shape from the operands
_PROMOTE_MASK = PROMOTE_EVERY - 1  # see _write_op
_VALID = ("valid",)  # the cache key of "this graph passed validation"


class _Shared(dict):
    """A dict that many nodes or edges share instead of paying for one each, hence
    read-only: a write raises GraphError saying why. Copies are the same object."""

    __slots__ = ()
    _why = ""

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        raise GraphError(self._why)

    def update(self, *args: Any, **kwargs: Any) -> None:  # networkx updates edge data with nothing
        if kwargs or any(args):
            self._refuse()

    __setitem__ = __delitem__ = setdefault = pop = popitem = clear = __ior__ = _refuse  # type: ignore[assignment]

    def __copy__(self) -> _Shared:
        return self

    def __deepcopy__(self, memo: Any) -> _Shared:
        return self


class _EdgeData(_Shared):
    """The data dict of every edge: cgraph's edges carry none (the edge key is the
    operand position), so all edges share this one empty dict (about 100 bytes an edge)."""

    __slots__ = ()
    _why = ("cgraph's edges carry no data (the edge key is the operand position); "
            "keep per-edge information in a dict of your own")

    def __reduce__(self) -> tuple:
        return (_edge_data, ())


class _NoAttrs(_Shared):
    """The attrs dict of every op node without attributes (sin, add, ...): one shared
    empty dict rather than one each (64 bytes a node)."""

    __slots__ = ()
    _why = "this node's op takes no attributes"

    def __reduce__(self) -> tuple:
        return (_no_attrs, ())


class _Keys(_Shared):
    """The key dict ``{i: EDGE_DATA}`` of an edge u -> v where u is operand i of v (and
    no other operand of v). Nearly every edge is "operand 0" or "operand 1", so these
    are shared (about 200 bytes an edge); _OpGraph gives an edge a private dict before
    networkx's own methods edit it."""

    __slots__ = ()
    _why = "this edge's key dict is shared: edit edges with g.nx.add_edge/remove_edge"

    def __reduce__(self) -> tuple:
        return (_position_keys, tuple(self))


def _edge_data() -> _EdgeData:
    return EDGE_DATA


def _no_attrs() -> _NoAttrs:
    return NO_ATTRS


EDGE_DATA = _EdgeData()
NO_ATTRS = _NoAttrs()


def _position_keys(i: int) -> _Keys:
    return POSITION_KEYS[i]


POSITION_KEYS = [_Keys({i: EDGE_DATA}) for i in range(64)]  # "operand i", for the first 64 positions


class _OpGraph(nx.MultiDiGraph):
    """networkx's MultiDiGraph, except that an edge's shared key dict (``_Keys``) is
    replaced by a private copy before networkx's add_edge/remove_edge edit it (its
    add_edges_from and remove_edges_from go through these)."""

    def _own_keys(self, u: Any, v: Any) -> None:
        nbrs = self._succ.get(u)
        if nbrs is not None and type(nbrs.get(v)) is _Keys:
            self._succ[u][v] = self._pred[v][u] = dict(nbrs[v])

    def add_edge(self, u_for_edge: Any, v_for_edge: Any, key: Any = None, **attr: Any) -> Any:
        self._own_keys(u_for_edge, v_for_edge)
        return super().add_edge(u_for_edge, v_for_edge, key, **attr)

    def remove_edge(self, u: Any, v: Any, key: Any = None) -> None:
        self._own_keys(u, v)
        super().remove_edge(u, v, key)


class Graph:
    """A function as a DAG of typed op nodes.

    Parameters
    ----------
    name : str
        A label for the graph (shown in diagrams).

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph("lecture")
    >>> x, z = g.input("x"), g.input("z")
    >>> a = (x * z).named("a")
    >>> y = g.output(cg.exp(a) + a, name="y")
    >>> g.inputs, g.outputs
    (['x', 'z'], ['y'])
    >>> float(cg.evaluate(g, x=2.0, z=3.0)["y"])  # doctest: +ELLIPSIS
    409.42...
    """

    def __init__(self, name: str = "graph") -> None:
        if not isinstance(name, str):  # cg.save wrote it, and cg.load refused the file
            raise ArgumentError(f"Graph: name must be a string, not {name!r}")
        self.name = name
        self.nx = _OpGraph()
        self._outputs: list[str] = []
        self._generated = 0  # last tN handed out
        self._next_order = 0  # creation index, for stable ordering
        self._version = 0
        self._cache: dict[Any, Any] = {}
        self._mark_valid()  # an empty graph is valid, and the building methods keep it so

    # ------------------------------------------------------------------ sources
    def input(self, name: str, *, shape: Any = None, dtype: Any = None) -> Node:
        """Add an input ``name``; ``shape`` may use ``None`` for a batch dimension."""
        return self._add_source("input", name, shape=normalize_shape(shape, name), attrs={"dtype": dtype})

    def param(self, name: str, *, shape: Any = None, value: Any = None) -> Node:
        """Add a trainable parameter; ``value`` (optional) is used when none is fed."""
        value, shape = param_value(name, value, shape)
        return self._add_source("param", name, shape=normalize_shape(shape, name), attrs={"value": value})

    def const(self, value: Any, *, name: str | None = None) -> Node:
        """Add a constant; Python ints and ``Fraction`` stay exact for ``simplify``."""
        value = const_value(value, name)
        shape = () if not isinstance(value, np.ndarray) else value.shape
        return self._add_source("const", name, shape=shape, attrs={"value": value})

    def _add_source(self, op: str, name: str | None, *, shape: Any, attrs: dict) -> Node:
        name = self._claim(name)
        self._add_node(name, op, attrs, op if op != "const" else "const", shape, checked=True)
        return Node(self, name)

    # ------------------------------------------------------------------ ops
    def apply(self, op: str | OpDef, *operands: Any, name: str | None = None, **attrs: Any) -> Node:
        """Add a node computing ``op`` of ``operands`` (Nodes or Python numbers)."""
        opdef = op if isinstance(op, OpDef) else get_op(op, node=name)
        nodes = []
        for v in operands:  # (_operand's common case first: a Node of this graph)
            nodes.append(v.name if type(v) is Node and v.graph is self else self._operand(v))
        if attrs:
            attrs = {**opdef.attrs, **attrs}
        return self._apply(opdef, nodes, attrs or (dict(opdef.attrs) if opdef.attrs else NO_ATTRS), name)

    def _binary(self, op: str, a: Any, b: Any) -> Node:
        """``apply(op, a, b)`` for Node's operators (``a + b``): one of them is a Node of
        this graph, and the op (add, mul, ...) takes no attributes."""
        return self._apply(OPS[op], [a.name if type(a) is Node and a.graph is self else self._operand(a),
                                     b.name if type(b) is Node and b.graph is self else self._operand(b)],
                           NO_ATTRS, None)

    def _apply(self, opdef: OpDef, operands: list[str], attrs: dict, name: str | None, shape: Any = _INFER) -> Node:
        # `shape`: the caller's own result of opdef.shape on these operands (simplify has it)
        arity = opdef.arity
        if (len(operands) != arity) if arity is not None else (len(operands) < opdef.min_arity):  # (arity_ok)
            raise ArityError(
                f"{opdef.name} takes {opdef.arity_text()} operand(s), got {len(operands)}"
                + (f" (node {name!r})" if name else "")
            )
        nodes = self.nx._node
        if shape is _INFER:
            shape = self._infer(opdef, operands, attrs, name)
        if name is None:  # _claim's generated name, inlined: this is the hot path of every build
            while True:
                self._generated += 1
                name = f"t{self._generated}"
                if name not in nodes:
                    break
        else:
            name = self._claim(name)
        self._write_op(name, opdef.name, operands, attrs, shape)
        # checked as it was made and fed by existing nodes (so no cycle): a valid graph stays valid
        self._changed(keep_valid=True)
        return Node(self, name)

    def _write_op(self, name: str, op: str, operands: Any, attrs: dict, shape: Any) -> None:
        """The op node ``name`` and its operand edges, written straight into networkx's
        dicts (as its add_node/add_edge do, minus the checks: the name is new, the
        operands exist). The caller then calls ``_changed``, once for many nodes if it likes."""
        nxg = self.nx
        order = self._next_order
        nxg._node[name] = {"op": op, "attrs": attrs or NO_ATTRS, "role": "op", "shape": shape, "order": order}
        self._next_order = order + 1
        if not order & _PROMOTE_MASK and order:
            promote_young()  # a big graph's nodes: no garbage for the collector to find
        succ = nxg._succ
        succ[name] = {}
        if len(operands) == 1:  # the loop below for one operand, or two different ones
            src = operands[0]
            nxg._pred[name] = {src: POSITION_KEYS[0]}
            succ[src][name] = POSITION_KEYS[0]
            return
        if len(operands) == 2 and operands[0] != operands[1]:
            a, b = operands
            nxg._pred[name] = {a: POSITION_KEYS[0], b: POSITION_KEYS[1]}
            succ[a][name] = POSITION_KEYS[0]
            succ[b][name] = POSITION_KEYS[1]
            return
        pred = nxg._pred[name] = {}
        for i, src in enumerate(operands):
            keys = pred.get(src)
            if keys is None:
                pred[src] = succ[src][name] = POSITION_KEYS[i] if i < 64 else {i: EDGE_DATA}
            else:  # the same operand again (x*x, or 1+1+...+x): a dict of its own
                if type(keys) is _Keys:
                    keys = pred[src] = succ[src][name] = dict(keys)
                keys[i] = EDGE_DATA

    def _infer(self, opdef: OpDef, operands: list[str], attrs: dict, name: str | None) -> Any:
        nodes = self.nx._node
        if not attrs:  # the common case first: no attributes to check, a rule that holds
            try:
                k = len(operands)  # (no list for the usual one or two operands)
                return opdef.shape(nodes[operands[0]]["shape"]) if k == 1 else opdef.shape(
                    nodes[operands[0]]["shape"], nodes[operands[1]]["shape"]) if k == 2 else opdef.shape(
                    *[nodes[o]["shape"] for o in operands])
            except (ValueError, TypeError):
                pass  # the general path below runs the rule again and reports its ShapeError
            except KeyError:
                raise self._gone(operands) from None
        try:
            shapes = [nodes[o]["shape"] for o in operands]
        except KeyError:
            raise self._gone(operands) from None
        try:
            if attrs:
                check_attrs(opdef, attrs)  # the form first: a rule on unknown shapes cannot check it
            return opdef.shape(*shapes, **attrs)
        except (ValueError, TypeError) as exc:
            who = f"node {name!r} ({opdef.name})" if name else f"{opdef.name}"
            args = ", ".join(f"{o!r} {s}" for o, s in zip(operands, shapes))
            raise ShapeError(f"{who} of {args}: {exc}") from None

    def _gone(self, operands: list[str]) -> NodeNotFoundError:
        """The error for an operand that is no longer a node: a Node handle kept from before
        its node was renamed (``a.named("a")`` returns the handle of the new name)."""
        name = next(o for o in operands if o not in self.nx._node)
        return NodeNotFoundError(
            f"operand {name!r} is not a node of graph {self.name!r}: renamed or removed (a Node handle keeps "
            "its name; use the handle .named() returns: a = a.named('a'))"
        )

    def _operand(self, v: Any) -> str:
        t = type(v)
        if t is float or t is int:  # a number: the common case after a Node of this graph
            return self._scalar_const(v)
        if isinstance(v, Node):
            if v.graph is not self:
                raise GraphError(foreign(v, self))
            return v.name
        if isinstance(v, str) and v in self.nx:
            return v
        if isinstance(v, (numbers.Number, np.ndarray, np.generic)) and not isinstance(v, bool):
            return self._scalar_const(v)  # (numbers.Number is an ABC: Python ints and floats first)
        hint = ""
        if isinstance(v, (list, tuple)):  # x + [1, 2]: refused, as JAX and PyTorch do, but say how
            hint = "; for an array constant use np.array(...) or g.const(...)"
        raise GraphError(f"cannot use {v!r} ({type(v).__name__}) as an operand of graph {self.name!r}{hint}")

    def _scalar_const(self, v: Any) -> str:
        # unnamed scalar constants are shared: `2*x + 2*z` uses one node for 2
        t = type(v)
        if t is float or t is int:  # const_value keeps these as they are
            value = v
        else:
            value = const_value(v, None)
            if isinstance(value, np.ndarray):
                return self.const(value).name
            t = type(value)
        # a float is its own key but for 0.0 and -0.0, which compare equal and are different
        # constants (1/-0.0 = -inf), and NaN, which equals nothing: those go by their repr
        key = (t, repr(value) if t is float and (not value or value != value) else value)
        consts = self._cache.get("consts")
        if consts is None:
            consts = self._cache["consts"] = {}
        found = consts.get(key)
        if found is not None:  # the node it names may be gone, or renamed and its name reused
            data = self.nx._node.get(found)
            if data is not None and data["op"] == "const":
                held = data["attrs"]["value"]
                if type(held) is t and (repr(held) == key[1] if type(key[1]) is str else held == value):
                    return found
        name = self.const(value).name
        consts[key] = name
        return name

    def output(self, node: Node | str, *, name: str | None = None) -> Node:
        """Mark ``node`` as an output (renaming it to ``name`` if given) and return it.

        An input or param keeps its name (it is fed by that name): ``name`` then
        goes to a new ``identity`` node of it.
        """
        if isinstance(node, Node):  # another graph's: else a node of g named alike would do
            handle_name(node, self, "output()")
        if not isinstance(node, (Node, str)):
            raise GraphError(f"output() takes a node of graph {self.name!r} or its name, not {_describe(node)}"
                             + _node_hint((node,)) * isinstance(node, Graph))
        node = self.node(node.name if isinstance(node, Node) else node)
        if name is not None and name != node.name:
            if node.role in ("input", "param"):
                node = self.apply("identity", node, name=name)
            else:
                node = node.named(name)
        if node.name not in self._outputs:
            self._outputs.append(node.name)
            self._changed(keep_valid=True)  # outputs checked node by node
        return node

    def set_outputs(self, names: list[str | Node] | str | Node) -> None:
        """Replace the list of outputs (each a node of the graph, by name or handle, as
        :meth:`output` takes it; a string is one name)."""
        if isinstance(names, (str, Node)):  # one name, not its letters
            names = [names]
        for n in names if isinstance(names, (list, tuple)) else ():
            if isinstance(n, Node):  # another graph's: else a node of g named alike would do
                handle_name(n, self, "set_outputs")
        try:
            names = [n.name if isinstance(n, Node) else n for n in names]
        except TypeError:
            raise GraphError(f"set_outputs takes a list of node names, not {names!r}") from None
        for n in names:
            self.node(n)
        self._outputs = list(dict.fromkeys(names))
        self._changed(keep_valid=True)  # outputs checked node by node

    # ------------------------------------------------------------------ queries
    @property
    def inputs(self) -> list[str]:
        """Names of the input nodes, in creation order."""
        return self._by_role("input")

    @property
    def params(self) -> list[str]:
        """Names of the parameter nodes, in creation order."""
        return self._by_role("param")

    @property
    def outputs(self) -> list[str]:
        """Names of the output nodes, in the order they were marked."""
        return [o for o in self._outputs if o in self.nx]

    def _by_role(self, role: str) -> list[str]:
        return list(self._cached("sources", self._sources)[role])  # (the caller's own list)

    def _sources(self) -> dict[str, list[str]]:
        # inputs and params in one walk over networkx's own dict (rather than a NodeDataView:
        # the same nodes in the same order), then by creation index: a renamed node (x.named)
        # moves to the end of networkx's dict, but keeps its place among the inputs
        found: dict[str, list[tuple[Any, str]]] = {"input": [], "param": []}
        for n, d in self.nx._node.items():
            role = d.get("role")
            if role == "input" or role == "param":
                found[role].append((d.get("order"), n))
        return {role: _by_creation(pairs) for role, pairs in found.items()}

    def node(self, name: str) -> Node:
        """The handle of node ``name``; ``NodeNotFoundError`` if there is none."""
        if not isinstance(name, str):
            if isinstance(name, Node) and name.graph is self:  # g[x] for the handle x: x itself
                return self.node(name.name)
            raise NodeNotFoundError(f"graph {self.name!r}: a node is looked up by its name (a str), not {_describe(name)}"
                                    + (f"; node {name.name!r} belongs to graph {name.graph.name!r}"
                                       if isinstance(name, Node) else ""))
        if name not in self.nx:
            raise NodeNotFoundError(f"graph {self.name!r} has no node {name!r}{close_match(self, name)}")
        return Node(self, name)

    __getitem__ = node

    def __contains__(self, name: object) -> bool:
        return name in self.nx

    def __iter__(self) -> Iterator[str]:
        return iter(self.schedule())

    def __len__(self) -> int:
        return self.nx.number_of_nodes()

    def operands(self, name: str) -> tuple[str, ...]:
        """The operand names of node ``name``, in operand order (read from edge keys)."""
        # read from the node's own in-edges: a whole-graph table would be rebuilt after
        # every mutation, making passes that build while they read (adjoint) quadratic
        try:
            preds = self.nx._pred[name]
        except KeyError:
            self.node(name)
            raise
        if len(preds) == 1:
            ((u, keys),) = preds.items()
            return (u,) * len(keys)
        if len(preds) == 2:  # the sort below, for a binary op's two operands
            (u, ku), (v, kv) = preds.items()
            if len(ku) == 1 and len(kv) == 1:
                (i,), (j,) = ku, kv
                if type(i) is int and type(j) is int and i != j:
                    return (u, v) if i < j else (v, u)
        pairs = [(k, u) for u, keys in preds.items() for k in keys]
        pairs.sort(key=_port)
        return tuple(u for _, u in pairs)

    def _operand_table(self) -> dict[str, tuple[str, ...]]:
        """``operands`` of every node at once, cached until the graph changes (for passes)."""
        return self._cached("operands", self._read_operands)

    def _read_operands(self) -> dict[str, tuple[str, ...]]:
        table = {}
        for n, preds in self.nx._pred.items():  # operands(), inlined: this runs over every node
            count = len(preds)
            if count == 1:
                ((u, keys),) = preds.items()
                table[n] = (u,) * len(keys)
                continue
            if count == 2:  # a binary op's two operands, without the sort
                (u, ku), (v, kv) = preds.items()
                if len(ku) == 1 and len(kv) == 1:
                    (i,), (j,) = ku, kv
                    if type(i) is int and type(j) is int and i != j:
                        table[n] = (u, v) if i < j else (v, u)
                        continue
            if preds:
                pairs = [(k, u) for u, keys in preds.items() for k in keys]
                pairs.sort(key=_port)
                table[n] = tuple(u for _, u in pairs)
            else:
                table[n] = ()
        return table

    def users(self, name: str) -> list[str]:
        """The nodes that use ``name`` as an operand (each once)."""
        self.node(name)
        return list(dict.fromkeys(self.nx._succ[name]))

    def attrs(self, name: str) -> dict:
        """The node's op attributes (``value`` of a const, ``axis``, ...)."""
        return self.nx.nodes[self.node(name).name]["attrs"]

    def schedule(self) -> tuple[str, ...]:
        """A topological order of every node (creation order where free), cached."""
        return self._cached("schedule", self._toposort)

    def _toposort(self) -> tuple[str, ...]:
        order = self._creation_order()
        return order if order is not None else self._kahn()

    def _creation_order(self) -> tuple[str, ...] | None:
        """The nodes by creation index when those are distinct and topological (always,
        for graphs built through the API: an operand exists before its users), else None.

        Printed programs and diagrams then follow the order the user wrote
        (``x z a b c d e f y``), not a breadth-first order (``x z b a ...``); it is also
        exactly the lexicographic topological order by ``(order, name)``.
        """
        pred, nodes = self.nx._pred, self.nx._node
        try:
            index = {n: d["order"] for n, d in nodes.items()}
            order = sorted(nodes, key=index.__getitem__)  # timsort: O(n) on sorted runs
        except (KeyError, TypeError):
            return None
        last = None
        for n in order:
            i = index[n]
            if i == last:
                return None  # two nodes share an index
            last = i
            for p in pred[n]:
                if index[p] >= i:
                    return None
        return tuple(order)

    def _kahn(self) -> tuple[str, ...]:
        # Kahn's algorithm over the adjacency dicts: the same order as
        # nx.topological_sort (sources in node order, then breadth first), 5x faster
        pred, succ = self.nx._pred, self.nx._succ
        order = [n for n, ps in pred.items() if not ps]
        waiting = {n: len(ps) for n, ps in pred.items() if ps}
        append = order.append
        for n in order:  # `order` grows while we walk it: a FIFO queue
            for child in succ[n]:
                left = waiting[child] - 1
                if left:
                    waiting[child] = left
                else:
                    del waiting[child]
                    append(child)
        if not waiting:
            return tuple(order)
        # what is left sits on a cycle or after one; the subgraph holds the cycle
        cycle = nx.find_cycle(self.nx.subgraph(waiting))
        edges = [(u, v) for u, v, *_ in cycle]
        path = " -> ".join([str(edges[0][0])] + [str(v) for _, v in edges])
        raise CycleError(f"graph {self.name!r} has a cycle: {path}", edges)

    def _cached(self, key: Any, build: Any) -> Any:
        stamp = self._stamp()
        hit = self._cache.get(key)
        if hit is not None and hit[0] == stamp:
            return hit[1]
        value = build()
        self._cache[key] = (stamp, value)
        return value

    def _stamp(self) -> tuple:
        """Changes whenever the graph does: through our methods or through ``g.nx``'s."""
        nxg = self.nx
        cache = getattr(nxg, "__networkx_cache__", None)
        if cache is None:  # networkx < 3.3: counting edges is O(E), but still right
            return (self._version, id(nxg), nxg.number_of_nodes(), nxg.number_of_edges())
        # networkx clears this dict on every structural mutation (add/remove node or
        # edge), so a token we leave in it survives exactly as long as the structure
        token = cache.get("cgraph")
        if token is None:
            token = cache["cgraph"] = object()
        return (self._version, token)

    # ------------------------------------------------------------------ mutation helpers
    def _claim(self, name: str | None) -> str:
        if name is None:
            while True:
                self._generated += 1
                name = f"t{self._generated}"
                if name not in self.nx._node:
                    return name
        if not isinstance(name, str) or not name:
            raise GraphError(f"a node name must be a non-empty string, not {name!r}")
        if name in self.nx._node:
            raise GraphError(f"graph {self.name!r} already has a node named {name!r}")
        return name

    def _add_node(self, name: str, op: str, attrs: dict, role: str, shape: Any, *, checked: bool = False) -> None:
        # `name` is new (from _claim): networkx's add_node, minus its checks; `checked`:
        # the caller checked the node's data, so a valid graph stays valid
        nxg = self.nx
        nxg._node[name] = {"op": op, "attrs": attrs or NO_ATTRS, "role": role, "shape": shape,
                           "order": self._next_order}
        nxg._succ[name] = {}
        nxg._pred[name] = {}
        self._next_order += 1
        self._changed(keep_valid=checked)

    def _changed(self, keep_valid: bool = False) -> None:
        """After a change made through our own methods (often by writing networkx's dicts
        directly): clear networkx's cache, as its own methods do (but for our own token:
        the version number tells our caches). ``keep_valid``: the change was checked, so a
        graph that was valid stays valid."""
        cache = getattr(self.nx, "__networkx_cache__", None)
        if cache is None:  # networkx < 3.3
            valid = keep_valid and self._is_valid()
            self._version += 1
            if valid:
                self._mark_valid()
            return
        token = cache.get("cgraph")
        version = self._version
        self._version = version + 1
        if keep_valid and token is not None:
            hit = self._cache.get(_VALID)
            if hit is not None and hit[0] == (version, token):
                self._cache[_VALID] = ((version + 1, token), True)
        if token is None or len(cache) > 1:
            cache.clear()
            if token is not None:
                cache["cgraph"] = token

    def _touch(self) -> None:
        """After a change networkx does not see (node data, outputs): caches are stale."""
        self._version += 1

    def rename(self, old: str, new: str) -> Node:
        """Rename node ``old`` to ``new`` keeping its edges (and output slot)."""
        self.node(old)
        if new == old:
            return Node(self, old)
        new = self._claim(new)
        # move the adjacency entries (networkx shares each key dict between _succ and
        # _pred, so moving them keeps the edges); O(degree), not O(graph)
        nxg = self.nx
        nxg._node[new] = nxg._node.pop(old)
        succ, pred = nxg._succ.pop(old), nxg._pred.pop(old)
        nxg._succ[new], nxg._pred[new] = succ, pred
        for v in succ:
            nxg._pred[v][new] = nxg._pred[v].pop(old)
        for u in pred:
            nxg._succ[u][new] = nxg._succ[u].pop(old)
        if old in self._outputs:
            self._outputs = [new if o == old else o for o in self._outputs]
        self._changed(keep_valid=True)
        return Node(self, new)

    def copy(self, name: str | None = None) -> Graph:
        """An independent copy (node attribute dicts copied one level deep)."""
        g = Graph(self.name if name is None else name)
        node, succ, pred = g.nx._node, g.nx._succ, g.nx._pred
        with gc_paused():  # many small dicts, none of them cyclic garbage
            for n, d in self.nx._node.items():
                attrs = d["attrs"]
                node[n] = {**d, "attrs": attrs if attrs is NO_ATTRS else dict(attrs)}
                succ[n] = {}
                pred[n] = {}
            for u, nbrs in self.nx._succ.items():
                su = succ[u]
                for v, keys in nbrs.items():
                    su[v] = pred[v][u] = keys if type(keys) is _Keys else {k: d if d is EDGE_DATA else dict(d)
                                                                           for k, d in keys.items()}
        g._outputs = list(self._outputs)
        g._generated = self._generated
        g._next_order = self._next_order
        g._changed()  # written straight into networkx's dicts: the empty graph's marks are stale
        if self._is_valid():
            g._mark_valid()
        return g

    # ------------------------------------------------------------------ validation
    def validate(self) -> Graph:
        """Check the graph; return it unchanged or raise a typed error naming the node.

        Finds cycles, unknown ops, wrong arity, gaps in operand ports, bad roles,
        operands of source nodes, unknown outputs and shape mismatches.
        """
        if self._is_valid():
            # an op renamed through g.nx.nodes[n]["op"] is node data, which the stamp does
            # not see: a name the registry lacks would reach the passes as a bare KeyError
            # (a set difference: ~70 ns a node, next to a pass's microseconds)
            try:
                unknown = bool({d["op"] for d in self.nx._node.values()}.difference(OPS, SOURCE_OPS))
            except TypeError:  # an unhashable op
                unknown = True
            if unknown:
                for name, data in self.nx._node.items():
                    op = data["op"]
                    if not (isinstance(op, str) and op in SOURCE_OPS):
                        get_op(op, node=name)
            return self
        with gc_paused():
            self._validate()
        return self

    def _validate(self) -> None:
        nodes = self.nx._node
        for name, data in nodes.items():
            check_node(self, name, data)
        order = self.schedule()
        operands = self._operand_table()
        for name in order:
            data = nodes[name]
            if data["op"] in SOURCE_OPS:
                continue
            opdef = OPS[data["op"]]
            data["shape"] = self._infer(opdef, operands[name], data["attrs"], name)
        for o in self._outputs:
            if o not in self.nx:
                raise NodeNotFoundError(f"output {o!r} is not a node of graph {self.name!r}")
        self._mark_valid()

    def _mark_valid(self) -> None:
        """Record that the graph as it is now is valid (until it changes other than
        through the building methods, which check each node as they make it)."""
        self._cache[_VALID] = (self._stamp(), True)

    def _is_valid(self) -> bool:
        hit = self._cache.get(_VALID)
        return hit is not None and hit[0] == self._stamp()

    def __repr__(self) -> str:
        return (
            f"<cgraph.Graph {self.name!r}: {len(self)} nodes, inputs {self.inputs}, "
            f"params {self.params}, outputs {self.outputs}>"
        )

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict:
        from .export.notebook import mimebundle

        return mimebundle(self)

    def _repr_svg_(self) -> str | None:
        """The computation-graph diagram as SVG, or None (never an error) without Graphviz."""
        from .export.notebook import mimebundle

        return mimebundle(self).get("image/svg+xml")


def _by_creation(pairs: list[tuple[Any, str]]) -> list[str]:
    """The names of ``(creation index, name)`` pairs by index (a stable sort: linear on
    the usual, sorted list), or as they come where a node has no int index (added
    through ``g.nx`` without one)."""
    if all(type(i) is int for i, _ in pairs):
        pairs = sorted(pairs, key=lambda p: p[0])
    return [n for _, n in pairs]


def _port(pair: tuple) -> Any:
    return pair[0] if type(pair[0]) is int else -1


def param_value(name: str, value: Any, shape: Any) -> tuple[Any, Any]:
    """A param's ``value`` as a float array and its ``shape`` (the value's, where none is
    declared): ``Graph.param``'s check, and ``cg.dumps``'s of a value set on the node
    later (``w.attrs["value"] = 0.5``), so that nothing is saved that ``load`` refuses."""
    if value is None:
        return None, shape
    try:
        value = np.asarray(value)
    except (TypeError, ValueError):  # a ragged list
        raise GraphError(f"param {name!r}: value {value!r} is not an array of real numbers") from None
    if value.dtype.kind in "biu":  # integers become float64; float32 stays float32
        value = value.astype(np.float64)
    elif value.dtype.kind != "f":
        raise GraphError(f"param {name!r}: value of dtype {value.dtype} is not real numbers")
    if shape is None:
        shape = value.shape
    elif tuple(value.shape) != tuple(shape):
        raise ShapeError(f"param {name!r}: value of shape {value.shape} does not match shape {shape}")
    return value, shape


def derived_attrs(data: dict) -> dict:
    """The attrs of an input or param node in a graph a pass derives from this one
    (adjoint, simplify, expand): a param's dict is shared, so that the derived graph reads
    the param's value where its user sets it (``w.attrs["value"] = 0.5``), as ``evaluate``
    of the graph itself does; an input's is copied. (``Graph.copy`` copies both: a copy is
    a graph of its own.)"""
    return data["attrs"] if data["role"] == "param" else dict(data["attrs"])


def derived_copy(g: Graph, name: str | None = None) -> Graph:
    """``g.copy(name)`` for a pass to build on, its params sharing ``g``'s attrs
    (:func:`derived_attrs`): a derived graph, not a graph of its own."""
    out = g.copy(name)
    nodes, theirs = out.nx._node, g.nx._node
    for p in g.params:
        nodes[p]["attrs"] = derived_attrs(theirs[p])
    return out


def inputs_and_params(g: Graph) -> list[str]:
    """Every input and param of ``g`` in creation order: what ``wrt=None`` differentiates
    with respect to (API.md), a param made before an input before it.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph()
    >>> w, x = g.param("w", value=2.0), g.input("x")
    >>> inputs_and_params(g), g.inputs + g.params
    (['w', 'x'], ['x', 'w'])
    """
    nodes = g.nx._node
    return _by_creation([(nodes[n].get("order"), n) for n in g.inputs + g.params])


def close_match(g: Graph, name: Any) -> str:
    """``"; did you mean 'y'?"`` when ``g`` has a node whose name differs from ``name``
    only in case, else ``""``: the hint of a NodeNotFoundError.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.parse("y = x*z")
    >>> close_match(g, "Y"), close_match(g, "w")
    ("; did you mean 'y'?", '')
    """
    close = sorted(n for n in g.nx if str(n).lower() == str(name).lower())
    return f"; did you mean {close[0]!r}?" if close else ""


def handle_name(node: Node, g: Graph | None, what: str) -> str:
    """The name of ``node``, a handle given where a name may go (``wrt=``, ``of=``,
    ``highlight=``); a GraphError naming ``what`` when it is a node of another graph than
    ``g`` (not checked when ``g`` is None).

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.parse("y = x*z")
    >>> handle_name(g.node("x"), g, "wrt")
    'x'
    """
    if g is not None and node.graph is not g:
        raise GraphError(foreign(node, g, what))
    return node.name


def foreign(node: Node, g: Graph, what: str | None = None) -> str:
    """The message for ``node`` of another graph given to ``g`` (at ``what``, e.g. ``wrt``).

    Examples
    --------
    >>> import cgraph as cg
    >>> g, h = cg.Graph("g"), cg.Graph("h")
    >>> foreign(h.input("x"), g, "wrt")
    "wrt: node 'x' belongs to graph 'h', not 'g'"
    >>> foreign(cg.Graph("g").input("x"), g)
    "node 'x' belongs to another graph, also named 'g'"
    """
    other = node.graph.name
    whose = f"graph {other!r}, not {g.name!r}" if other != g.name else f"another graph, also named {g.name!r}"
    return (f"{what}: " if what else "") + f"node {node.name!r} belongs to {whose}"


def require_graph(obj: Any, caller: str) -> Graph:
    """``obj`` if it is a Graph, else a GraphError saying what ``caller`` needs."""
    if not isinstance(obj, Graph):
        hint = " (turn text into a graph with cg.parse)" if isinstance(obj, str) else ""
        if isinstance(obj, Node):  # cg.adjoint(y): the node's graph was meant
            hint = f" {obj.name!r}: pass the graph it belongs to, node.graph (graph {obj.graph.name!r})"
        raise GraphError(f"{caller} needs a cg.Graph, not {type(obj).__name__}{hint}")
    return obj


def _describe(v: Any) -> str:
    if isinstance(v, Graph):
        return f"graph {v.name!r}"
    if v is None or isinstance(v, (str, int, float)):
        return f"{repr(v)[:40]} ({type(v).__name__})"
    return type(v).__name__


def _node_hint(operands: tuple) -> str:
    """What to pass instead of a graph or a name where a Node belongs."""
    for v in operands:
        if isinstance(v, Graph):
            return f"; pass a node of the graph, e.g. g[{(v.outputs or list(v.nx) or ['x'])[-1]!r}]"
        if isinstance(v, str):
            return f"; a name is not a node: pass g[{v!r}] (or the handle g.input returned)"
    return "; build on a node, e.g. x = g.input('x')"


def apply_op(opdef: OpDef, operands: tuple, attrs: dict, *, name: str | None = None) -> Node:
    """Build ``opdef`` of ``operands`` in the graph the Node operands belong to."""
    if len(operands) == 1 and type(operands[0]) is Node:  # the common call: cg.sin(x)
        v = operands[0]
        return v.graph._apply(opdef, [v.name], dict(attrs) if attrs else NO_ATTRS, name)
    g = first = None
    for v in operands:
        if isinstance(v, Node):
            if g is None:
                g, first = v.graph, v
            elif v.graph is not g:
                raise GraphError(f"{opdef.name}(): operands come from different graphs: {first.name!r} from graph "
                                 f"{g.name!r}, {v.name!r} from graph {v.graph.name!r}; build a formula in one graph")
    if g is None:
        raise GraphError(f"{opdef.name}(): at least one operand must be a graph Node, got "
                         f"{', '.join(_describe(v) for v in operands) or 'none'}{_node_hint(operands)}")
    names = []
    for v in operands:  # (_operand's common case first: a Node, of g as checked above)
        names.append(v.name if type(v) is Node else g._operand(v))
    return g._apply(opdef, names, dict(attrs) if attrs else NO_ATTRS, name)


registry.apply_op = apply_op  # the op functions (cg.exp, ...) call it
