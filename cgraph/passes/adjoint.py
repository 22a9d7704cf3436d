"""Reverse-mode differentiation as a graph-to-graph pass (the lecture's Approach 3).

``adjoint(g)`` returns a new graph holding the forward nodes plus one adjoint node
``g_<name>`` for every node between ``of`` and ``wrt``; a node used by several
consumers gets one ``add`` node summing their contributions, exactly as the lecture's
``g_a = g_f*(-c/a^2) + g_e*(1/b) + g_d*exp(a)``.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Container, Mapping, Sequence
from typing import Any

import numpy as np

from ..checks import shown
from ..errors import CGraphError, GraphError, InputError, NodeNotFoundError, NotDifferentiableError, ShapeError
from ..graph import Graph, close_match, derived_copy, handle_name, inputs_and_params, require_graph
from ..memory import gc_paused
from ..node import Node
from ..ops import add, expand_to, identity, sum_to, zeros_like
from ..ops.registry import OPS, float_dtype


def adjoint(g: Graph, wrt: Sequence[str] | str | None = None, of: str | None = None) -> Graph:
    """The reverse-mode adjoint graph of ``g``.

    Parameters
    ----------
    g : Graph
        The forward graph; it is not modified.
    wrt : name or Node, or a list of them, optional
        The nodes to differentiate with respect to (default: every input and param,
        in creation order).
    of : str or Node, optional
        The node to differentiate (default: the single output). It must be a scalar
        or of unknown shape; an unknown shape is differentiated pointwise (the
        gradient of the sum of its elements). A graph of elementwise ops over
        undeclared shapes and scalars (``g.param("w", value=0.5)`` has shape ``()``)
        gets pointwise adjoints, as the lecture writes them (``g_w = g_t1*x1``);
        :func:`~cgraph.grad` and :func:`~cgraph.compile` sum each over the elements a
        scalar was broadcast to. The gradient of the sum is each element's own
        derivative where every element of an input reaches one element of ``of``
        (elementwise ops, reductions, reshapes, slices) or several by broadcasting
        (summed, as for a shared scalar); where elements mix, through a softmax, a matmul
        or a reduction broadcast back over the same input (``exp(x)/sum(exp(x))``), it is
        not (that of ``softmax(x)`` is 0), and :func:`~cgraph.grad` and
        :func:`~cgraph.compile` refuse such an ``of`` where it evaluates to an array (a
        ShapeError pointing to :func:`~cgraph.jacobian`; cgraph/passes/separable.py), and
        the ``cgraph grad`` command without ``--at`` where the graph alone shows it
        (:func:`mixed_by_structure`).

    Returns
    -------
    Graph
        The forward nodes plus one adjoint node per node on a path from ``wrt`` to
        ``of``, named ``g_<name>`` (``g2_<name>``, ... where that name is taken); its
        outputs are the adjoints of ``wrt``, in order. Adjoint nodes carry the node
        attributes ``adjoint_of`` (the forward node ``n`` of ``g_n``),
        ``derivative_of`` (``of``: ``g_n`` holds d(of)/dn) and ``partial``
        (``(f, (n, x1, ...))`` when ``of`` is itself a derivative d f/dx1...: the
        derivative's full name, for printing), and every node the pass adds has
        ``adjoint=True``; a node a derivative rule made has ``rule_of`` (the node whose
        rule made it), so that an error at a point names the derivative it belongs to.

    Raises
    ------
    NodeNotFoundError
        ``wrt`` or ``of`` is not a node of ``g``.
    GraphError
        ``wrt`` lists a node twice or holds another graph's node; ``g`` has several
        outputs and no ``of``.
    ShapeError
        ``of`` is not a scalar.
    InputError
        ``wrt`` holds something other than names and nodes (input values).
    NotDifferentiableError
        An op without a derivative rule lies between ``of`` and ``wrt``.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.parse("y = x*z + sin(x)")
    >>> ga = cg.adjoint(g)
    >>> ga.outputs
    ['g_x', 'g_z']
    >>> print(cg.to_text(ga, form="program").splitlines()[-1])
    g_z = g_t1*x
    """
    require_graph(g, "adjoint").validate()
    of = _resolve_of(g, of)
    wrt = _resolve_wrt(g, wrt)
    with gc_paused():  # about 2 new nodes per forward op, and no cyclic garbage among them
        return _adjoint(g, wrt, of)


def _adjoint(g: Graph, wrt: list[str], of: str, cotangent: bool = False) -> Graph:
    """The adjoint graph, seeded with 1, or (``cotangent``) with a new input ``u_<of>`` of
    ``of``'s shape, :func:`~cgraph.vjp_graph`'s cotangent (its name: ``out.inputs[-1]``)."""
    active = _between(g, wrt, of)
    out = derived_copy(g, f"adjoint of {g.name}")
    out.set_outputs([])
    nodes = out.nx._node
    seed = out.input(free_name("u", of, nodes), shape=nodes[of]["shape"]).name if cotangent else None
    before = set(out.nx)
    names = _Sweep(out, before, active, of, seed=seed).run(g.schedule(), wrt)
    out.set_outputs(names)
    _prune(out, before, names)
    out._mark_valid()  # built by g.apply from a validated graph: checked node by node already
    return out


#: what to do instead to differentiate an array (the end of a refused non-scalar of's message)
JACOBIAN_HINT = ("; for its Jacobian, cg.jacobian(g, ...) evaluates it at a point and cg.vjp_graph(g) builds the "
                 "vector-Jacobian product as a graph")


def _resolve_of(g: Graph, of: str | None, scalar: bool = True, hint: str = JACOBIAN_HINT) -> str:
    """The name of ``of`` (default: the single output); a ShapeError for a declared
    non-scalar shape (its message ending in ``hint``), unless ``scalar`` is False (a
    Jacobian's ``of``)."""
    if of is None:
        if not g.outputs:  # built node by node, with no g.output(...) at the end
            raise GraphError(f"graph {g.name!r} has no outputs: mark the one to differentiate with "
                             f"g.output(node, name=...), or say which node with of=...")
        if len(g.outputs) != 1:
            raise GraphError(
                f"graph {g.name!r} has {len(g.outputs)} outputs {g.outputs}; say which with of=..."
            )
        of = g.outputs[0]
    of = of_name(g, of)
    shape = g.nx.nodes[of]["shape"]
    if scalar and shape is not None and any(d != 1 for d in shape):
        raise ShapeError(
            f"cannot differentiate non-scalar node {of!r} of shape {shape}: reduce it first "
            f"(e.g. cg.sum) or differentiate one element{hint}"
        )
    return of


#: where input values go instead (adjoint and compile take none: their graph or function does)
_VALUES = ("input values are keyword arguments (x=2.0) or feeds=... of grad, hessian, finite_difference and "
           "check_gradients, and keyword arguments of evaluate and of a compiled function")


def adjoint_name(n: str, taken: Container[str]) -> str:
    """The name ``cg.adjoint`` gives ``n``'s adjoint: ``g_<n>``, or the first of
    ``g2_<n>``, ``g3_<n>``, ... not in ``taken`` (the adjoint of an adjoint graph).

    Examples
    --------
    >>> adjoint_name("x", {"x"}), adjoint_name("x", {"x", "g_x"})
    ('g_x', 'g2_x')
    """
    return free_name("g", n, taken)


def free_name(prefix: str, n: str, taken: Container[str]) -> str:
    """``<prefix>_<n>``, or the first of ``<prefix>2_<n>``, ``<prefix>3_<n>``, ... not in
    ``taken``: how the derivative passes name what they add for ``n`` (``g_x``, the
    direction ``v_x`` and product ``hv_x`` of :func:`~cgraph.hvp_graph`, the cotangent
    ``u_y`` of :func:`~cgraph.vjp_graph`).

    Examples
    --------
    >>> free_name("v", "x", {"x", "v_x"})
    'v2_x'
    """
    k = 1
    while True:
        name = f"{prefix}_{n}" if k == 1 else f"{prefix}{k}_{n}"
        if name not in taken:
            return name
        k += 1


def wrt_names(wrt: Sequence[str | Node] | str | Node | None, g: Graph | None = None) -> tuple[str, ...] | None:
    """``wrt`` as a tuple of names (None stays None); its entries may be names or node
    handles (of ``g``, when given: another graph's node is a GraphError); InputError when
    it holds anything else, such as the input values ``grad(g, 2.0)`` passes where
    ``wrt`` goes.

    Examples
    --------
    >>> wrt_names("x"), wrt_names(["x", "z"]), wrt_names(None)
    (('x',), ('x', 'z'), None)
    >>> import cgraph as cg
    >>> g = cg.Graph()
    >>> wrt_names([g.input("x"), "z"], g)
    ('x', 'z')
    >>> wrt_names(2.0)
    Traceback (most recent call last):
    cgraph.errors.InputError: wrt must be a node name or a list of names, not 2.0; ...
    """
    if wrt is None:
        return None
    if isinstance(wrt, (str, Node)):
        wrt = (wrt,)
    if isinstance(wrt, Mapping):
        raise InputError(
            f"wrt must be a node name or a list of names, not a mapping {_keys(wrt)}; {_VALUES}"
        )
    try:
        names = tuple(wrt)
    except TypeError:
        names = None
    if names is None or isinstance(wrt, np.ndarray) or not all(isinstance(w, (str, Node)) for w in names):
        raise InputError(
            f"wrt must be a node name or a list of names, not {shown(wrt)}; {_VALUES}"
        )
    return tuple(w if isinstance(w, str) else handle_name(w, g, "wrt") for w in names)


def of_name(g: Graph, of: str | Node) -> str:
    """The name of the node ``of`` names or handles; NodeNotFoundError when it is none
    of ``g``'s (a GraphError for another graph's node).

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.parse("y = x*z")
    >>> of_name(g, "y"), of_name(g, g.node("y"))
    ('y', 'y')
    """
    if isinstance(of, Node):
        return handle_name(of, g, "of")
    if not isinstance(of, str) or of not in g.nx:
        hint = close_match(g, of) or _listed("outputs", g.outputs)
        raise NodeNotFoundError(f"of {of!r} is not a node of graph {g.name!r}{hint}")
    return of


def derivative_key(g: Graph, wrt: Sequence[str | Node] | str | Node | None, of: str | Node | None) -> tuple:
    """``(wrt names, of name)``: the cache key of a derivative of ``g`` (grad's adjoint
    graph, compile's function), the same whether a node is named or handed over."""
    return wrt_names(wrt, g), None if of is None else of_name(g, of)


def _resolve_wrt(g: Graph, wrt: Sequence[str | Node] | str | Node | None) -> list[str]:
    names = wrt_names(wrt, g)
    if names is None:
        return inputs_and_params(g)
    names = list(names)
    for w in names:
        if w not in g.nx:
            hint = close_match(g, w) or _listed("inputs and params", inputs_and_params(g))
            raise NodeNotFoundError(f"wrt {w!r} is not a node of graph {g.name!r}{hint}")
    if len(set(names)) != len(names):
        raise GraphError(f"wrt lists a node twice: {names}")
    return names


def _listed(what: str, names: list[str]) -> str:
    """`` (its inputs and params: x, z)``: the names a misspelled wrt= or of= may have meant."""
    return f" (its {what}: {', '.join(names[:12])}{', ...' if len(names) > 12 else ''})" if names else ""


def _keys(m: Mapping) -> str:
    return "{" + ", ".join(repr(k) for k in list(m)[:4]) + (", ..." if len(m) > 4 else "") + "}"


def ancestors(g: Graph, names: Sequence[str], schedule: Sequence[str] | None = None) -> set[str]:
    """``names`` and every node they depend on; ``schedule``: a schedule of a part of ``g``
    holding them and their ancestors, if known (the hessian's sweeps, as ``g`` grows)."""
    up, pred = set(names), g.nx._pred
    for n in reversed(g.schedule() if schedule is None else schedule):  # users come after their operands
        if n in up:
            up.update(pred[n])
    return up


def _between(g: Graph, wrt: list[str], of: str, up: set[str] | None = None) -> set[str]:
    """Nodes on some path from a wrt node to ``of`` (both ends included); ``up``: the
    ancestors of ``of`` (and maybe more), if known."""
    succ = g.nx._succ
    up = ancestors(g, [of]) if up is None else up
    down = {w for w in wrt if w in up}
    stack = list(down)
    while stack:  # descendants of wrt among them
        for s in succ[stack.pop()]:
            if s in up and s not in down:
                down.add(s)
                stack.append(s)
    return down


class _Sweep:
    """State of one reverse sweep: contributions per forward node, and adjoint names."""

    def __init__(self, out: Graph, forward: set[str], active: set[str], of: str, exact: bool | None = None,
                 seed: str | None = None) -> None:
        self.g = out
        self.nodes = out.nx._node  # networkx's own dict: the sweep reads it per node
        self.forward = forward
        self.active = active
        self.of = of
        self.contribs: dict[str, list[str]] = {}
        self.adjoint: dict[str, str] = {}
        self.claimed: set[str] = set()
        self.renamed: dict[str, str] = {}
        self.chain = _partial_chain(out, of)
        # over undeclared shapes and elementwise ops only, adjoints may stay as wide as the
        # broadcast (pointwise derivatives, summed by grad at the end); as soon as a declared
        # shape or a reduction is involved, every adjoint is kept to its node's exact shape
        self.exact = not _pointwise(out, active) if exact is None else exact  # (the caller may know it)
        # the adjoint of `of`: a node of `out` of its shape (vjp_graph's cotangent u_<of>),
        # or None for the constant 1 (spread over every element of `of` where it is an array)
        self.seed_node = seed

    def run(self, schedule: Sequence[str], wrt: list[str]) -> list[str]:
        """The whole sweep over the forward ``schedule``: the adjoint names of ``wrt``."""
        self.seed(self.of)
        active, contribs = self.active, self.contribs
        for n in reversed(schedule):
            if n in active and n in contribs:
                self.backprop(n)
        return [self.finish(w) for w in wrt]

    def name_for(self, n: str) -> str:
        return adjoint_name(n, self.nodes)

    def seed(self, of: str) -> None:
        if self.seed_node is None:
            name = self.g.const(1, name=self.name_for(of)).name
            self._mark(name, of)
        else:
            name = self.seed_node
        self.adjoint[of] = name
        self.claimed.add(name)
        self.contribs[of] = []

    def accumulate(self, n: str) -> Node:
        if n in self.adjoint:
            return Node(self.g, self.adjoint[n])
        renamed = self.renamed
        parts = self.contribs[n]
        parts = [renamed.get(parts[0], parts[0])] if len(parts) == 1 else [renamed.get(p, p) for p in parts]
        name = f"g_{n}"  # name_for's first choice, inlined
        if name in self.nodes:
            name = self.name_for(n)
        first = parts[0]
        if len(parts) == 1 and first not in self.forward and first not in self.claimed:
            node = self.g.rename(first, name)  # the contribution itself becomes g_n
            renamed[first] = name
            # re-stamp its creation index so programs list g_n where it is completed
            self.nodes[name]["order"] = self.g._next_order
            self.g._next_order += 1
        elif len(parts) == 1:
            node = identity(Node(self.g, first), name=name)  # the lecture's g_d = g_y
        else:
            node = add(*(Node(self.g, p) for p in parts), name=name)
        name = node.name
        self.claimed.add(name)
        self._mark(name, n)
        self.adjoint[n] = name
        return node

    def backprop(self, n: str) -> list[str]:
        """Sum the contributions to ``n`` and pass them on by its rule: the names of the
        new contributions to its operands (parts of their adjoints)."""
        nodes = self.nodes
        data = nodes[n]
        if data["role"] != "op":
            return []  # inputs are accumulated by finish(), in wrt order
        gn = self.accumulate(n)
        opdef = OPS[data["op"]]
        g = self.g
        operands = g.operands(n)
        if opdef.vjp is None:
            raise NotDifferentiableError(f"node {n!r} ({opdef.name}) has no derivative rule")
        exact, elementwise = self.exact, opdef.elementwise
        if not elementwise and _needs_reduce(gn.shape, data["shape"]):
            gn = sum_to(gn, Node(self.g, n))
        elif not elementwise and _needs_expand(gn.shape, data["shape"]):
            # the seed 1 of an output of shape (1, 1), passed down by elementwise rules
            # (-(x @ w)): a rule such as matmul's needs the adjoint in its node's shape
            gn = expand_to(gn, Node(self.g, n))
        elif exact and n == self.of and data["shape"] is None and self.seed_node is None:
            gn = sum_to(gn, Node(self.g, n))  # the seed 1, spread over every element of `of`
        k = len(operands)
        made = len(nodes)  # the nodes the rule adds come last in networkx's dict: stamped below
        if k == 1:  # (no list of handles for the usual one or two operands)
            parts = opdef.vjp(gn, Node(g, n), Node(g, operands[0]), **data["attrs"])
        elif k == 2:
            parts = opdef.vjp(gn, Node(g, n), Node(g, operands[0]), Node(g, operands[1]), **data["attrs"])
        else:
            parts = opdef.vjp(gn, Node(g, n), *[Node(g, o) for o in operands], **data["attrs"])
        if len(parts) != k:
            raise NotDifferentiableError(
                f"node {n!r} ({opdef.name}): its rule gave {len(parts)} adjoints for {k} operands"
            )
        active, contribs = self.active, self.contribs
        added = []
        for o, part in zip(operands, parts):
            if part is None or o not in active:
                continue  # constants and nodes that do not lead to wrt get nothing
            target = nodes[o]["shape"]
            p = part.name
            shape = nodes[p]["shape"]
            # an operand of undeclared shape may have been broadcast: sum at run time; a
            # scalar's pointwise derivative (not exact, target ()) is left to grad's sum
            if (exact and target is None and elementwise and k > 1) or (
                    shape != target and (exact or target != ()) and _needs_reduce(shape, target)):
                p = sum_to(part, Node(g, o)).name
            found = contribs.get(o)
            if found is None:
                contribs[o] = [p]
            else:
                found.append(p)
            added.append(p)
        made = len(nodes) - made
        if made:  # which rule made them, for an error at a point where one is not finite
            for name in itertools.islice(reversed(nodes), made):
                nodes[name]["rule_of"] = n
        return added

    def finish(self, w: str) -> str:
        if w in self.adjoint:
            return self.adjoint[w]
        if w in self.contribs:
            return self.accumulate(w).name
        node = zeros_like(Node(self.g, w), name=self.name_for(w))  # w does not reach `of`
        self._mark(node.name, w)
        return node.name

    def _mark(self, name: str, n: str) -> None:
        data = self.nodes[name]
        data["adjoint_of"] = n
        data["derivative_of"] = self.of
        data["partial"] = (self.chain[0], (n, *self.chain[1]))


def derivative_part(g: Graph, n: str) -> str:
    """Where the adjoint node ``n`` belongs, for an error at it (empty for a node of the
    function itself): the derivatives the user asked for that it is part of, and the node
    whose derivative rule made it; ``n`` is named by the pass (``t6``), in a graph the
    user may never see.

    Examples
    --------
    >>> import cgraph as cg
    >>> ga = cg.adjoint(cg.parse("y = sqrt(x)"))
    >>> derivative_part(ga, "g_x")
    "; it is part of dy/dx, made by the derivative rule of node 'y' (sqrt) = sqrt(x)"
    """
    nodes = g.nx._node
    data = nodes.get(n, {})
    if not data.get("adjoint"):
        return ""
    outputs, succ = set(g.outputs), g.nx._succ
    found, seen, stack = [], {n}, [n]
    while stack:  # the outputs it reaches: the derivatives asked for (through g_t1... of temporaries)
        m = stack.pop()
        if m in outputs:
            found.append(m)
            continue
        for s in succ[m]:
            if s not in seen:
                seen.add(s)
                stack.append(s)
    found.sort(key=g.outputs.index)
    names = [derivative_text(nodes[o]) for o in found]
    text = f"; it is part of {' and '.join(dict.fromkeys(t for t in names if t))}" if any(names) else "; it is part of a derivative"
    hvp = next((nodes[o]["hvp"] for o in found if nodes[o].get("hvp")), None)
    if hvp:  # (H v)_x: say what H is
        text += f", H the Hessian of {hvp[0]!r}"
    rule, by = data.get("rule_of"), "made"
    for _ in range(8):  # a second derivative's rule node is part of the first: whose rule made it, too
        if rule not in nodes:
            break
        text += f", {by} by the derivative rule of node {rule!r} ({nodes[rule]['op']}){_formula(g, rule)}"
        rule, by = nodes[rule].get("rule_of"), "itself made"
    return text


def derivative_text(data: Mapping[str, Any]) -> str:
    """``dy/dx``, ``d2y/dx2``, ``d2y/dz dx`` (d/dz of dy/dx), from an adjoint's ``partial``
    (``data``: its node attributes), ``(H v)_x`` for a block of a Hessian-vector product;
    "" for a node without one. How errors and the ``cgraph hessian`` command name a
    derivative.

    Examples
    --------
    >>> derivative_text({"partial": ("y", ("z", "x"))}), derivative_text({"partial": ("y", ("x", "x"))})
    ('d2y/dz dx', 'd2y/dx2')
    >>> derivative_text({"partial": ("y", ("x1", "x1"))})  # not d2y/dx12, which reads as x12
    'd2y/dx1^2'
    """
    hvp = data.get("hvp")
    if hvp:  # cg.hvp_graph's hv_<x>: (y, x, v_<x>), the x block of H v (its partial is d(gv_y)/dx: sum(g_w*v_w))
        return f"(H v)_{hvp[1]}"
    partial = data.get("partial")
    if not partial:
        return ""
    f, wrt = partial[0], list(partial[1])
    if len(wrt) == 1:
        return f"d{f}/d{wrt[0]}"
    groups = [(w, len(list(run))) for w, run in itertools.groupby(wrt)]  # d2y/dx2: x twice in a row
    # (d2y/dx1^2 for x1: d2y/dx12 would read as x12)
    return f"d{len(wrt)}{f}/" + " ".join(f"d{w}{_power_text(w, k)}" for w, k in groups)


def _power_text(name: str, k: int) -> str:
    """The power of ``d<name>`` in a derivative's text: ``2`` (dx2), ``^2`` after a name
    ending in a digit (dx1^2), nothing for 1."""
    return "" if k == 1 else f"^{k}" if name[-1:].isdigit() else str(k)


def _formula(g: Graph, n: str) -> str:
    """`` = x^p``: node ``n`` of the function as a formula, when it is one short line."""
    from ..printing.text import to_text  # (printing imports the passes)

    if g.nx._node[n].get("adjoint"):
        return ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # past the cap: the program form, not used below
            text = to_text(Node(g, n), max_length=60)
    except CGraphError:  # a message's decoration never replaces the error itself
        return ""
    return f" = {text}" if len(text) <= 60 and "\n" not in text else ""


def _partial_chain(g: Graph, of: str) -> tuple[str, tuple[str, ...]]:
    """``(f, (x1, ...))`` when ``of`` is itself d f/dx1..., else ``(of, ())``."""
    partial = g.nx._node[of].get("partial")
    return (partial[0], tuple(partial[1])) if partial else (of, ())


def _pointwise(g: Graph, active: set[str]) -> bool:
    """True when every active node has an undeclared shape (or is a scalar, shape ``()``,
    which broadcasts like any value) and every active op is elementwise."""
    nodes = g.nx._node
    for n in active:
        data = nodes[n]
        if data["shape"] not in (None, ()) or (data["role"] == "op" and not OPS[data["op"]].elementwise):
            return False
    return True


def _needs_reduce(part: Any, target: Any) -> bool:
    """True when ``part`` may carry dims that ``target`` only broadcast along."""
    if part == target or target is None or (part is not None and tuple(part) == tuple(target)):
        return False  # an unknown target is differentiated pointwise (grad fits it at the end)
    if part is None:
        return True  # an adjoint of unknown shape reaching a node of known shape: x + logsumexp(x)
    if len(part) < len(target):
        return False  # a smaller adjoint broadcasts up by itself
    lead = len(part) - len(target)
    return lead > 0 or any(t == 1 and p != 1 for p, t in zip(part[lead:], target))


def _needs_expand(part: Any, target: Any) -> bool:
    """True when ``part`` is known to be narrower than the fully known ``target`` (fewer
    dims, or a 1 where ``target`` has more): it only broadcasts up to it."""
    if part is None or target is None or None in target or tuple(part) == tuple(target):
        return False
    lead = len(target) - len(part)
    return lead > 0 or any(p == 1 and t != 1 for p, t in zip(part, target[lead:]))


def _prune(g: Graph, forward: set[str], outputs: list[str]) -> None:
    """Drop the nodes the pass added that no output needs; mark the rest adjoint."""
    keep: set[str] = set()
    stack = list(outputs)
    pred = g.nx._pred  # the adjacency dict itself: no view object per node
    while stack:
        n = stack.pop()
        if n in keep:
            continue
        keep.add(n)
        for p in pred[n]:
            if p not in keep and p not in forward:
                stack.append(p)
    nodes = g.nx._node
    dead = [n for n in nodes if n not in keep and n not in forward]
    g.nx.remove_nodes_from(dead)
    for n in keep:
        if n not in forward:
            nodes[n]["adjoint"] = True
    g._touch()


def pointwise_of(g: Graph, wrt: Sequence[str] | str | None = None, of: str | None = None) -> str | None:
    """``of`` when ``adjoint(g, wrt, of)`` holds pointwise derivatives (undeclared shapes and
    elementwise ops only), else None.

    A pointwise derivative d(of)/dw may be narrower than ``of`` (the derivative of
    ``x*x + z`` by ``z`` is the constant 1): the gradient of the sum of ``of``'s elements
    spreads it over ``of``'s shape before summing it down to ``w``'s (``fit_to(...,
    spread=)``).

    Examples
    --------
    >>> import cgraph as cg
    >>> pointwise_of(cg.parse("x*x + z")), pointwise_of(cg.parse("sum(x) + z"))
    ('y', None)
    """
    of = _resolve_of(g, of)
    return of if _pointwise(g, _between(g, _resolve_wrt(g, wrt), of)) else None


def mixing(g: Graph, wrt: Sequence[str], of: str) -> str | None:
    """The first op node (in schedule order) on a path from ``wrt`` to ``of`` that mixes
    the elements of its operands, neither elementwise nor separable (an ``OpDef``'s
    flags: a softmax, a matmul; not a reduction or a reshape), or None; cached on ``g``.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.parse("y = softmax(x)*sum(z, axis=0)")
    >>> mixing(g, ["x", "z"], "y"), mixing(g, ["z"], "y")
    ('t1', None)
    """
    return _first_op(g, wrt, of, "mixing", lambda op: not (op.elementwise or op.separable))


def may_mix(g: Graph, wrt: Sequence[str], of: str) -> str | None:
    """The first op node (in schedule order) on a path from ``wrt`` to ``of`` that is not
    elementwise (a reduction, a softmax, a matmul...), or None: where every op on the way
    is elementwise, each output element depends on the input elements of its own position
    only, whatever the shapes; cached on ``g``.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.parse("y = exp(x)/sum(exp(x)) + z")
    >>> may_mix(g, ["x", "z"], "y"), may_mix(g, ["z"], "y")
    ('t2', None)
    """
    return _first_op(g, wrt, of, "may_mix", lambda op: not op.elementwise)


def _first_op(g: Graph, wrt: Sequence[str], of: str, key: str, found: Any) -> str | None:
    """The first op node (in schedule order) on a path from ``wrt`` to ``of`` whose OpDef
    is ``found``, or None; cached on ``g`` under ``key``."""
    def first() -> str | None:
        active, nodes = _between(g, list(wrt), of), g.nx._node
        for n in g.schedule():
            if n in active and nodes[n]["role"] == "op" and found(OPS[nodes[n]["op"]]):
                return n
        return None
    return g._cached((key, tuple(wrt), of), first)


def require_separable(g: Graph, wrt: Sequence[str], of: str, value: Any, feeds: Mapping[str, Any]) -> None:
    """ShapeError when ``of`` (of undeclared shape) evaluates to an array, ``value``, and
    an element of an input of ``wrt`` reaches several of its elements other than by
    broadcasting the input (:func:`~cgraph.passes.separable.mixed_at`: through a softmax,
    a matmul, or a reduction broadcast back): the gradient of an array output is that of
    the sum of its elements (what the adjoint seeded with 1 computes), which stands for
    each element's own derivative only where each input element reaches one output
    element, or several by broadcasting (summed, as for a scalar shared by all); through
    a softmax it is 0. ``feeds``: the inputs' values (their shapes decide)."""
    if np.size(value) == 1 or may_mix(g, wrt, of) is None:  # a compiled function's guard asks per call
        return
    shape = np.shape(value)
    shapes = tuple(sorted((k, np.shape(v)) for k, v in feeds.items() if isinstance(k, str)))
    found = g._cached(("mixed_at", tuple(wrt), of, shapes), lambda: _mixed_at(g, wrt, of, feeds))
    if found is None:
        return
    n, wrt = found
    op = g.nx._node[n]["op"]
    how = ("where a reduction of its elements is broadcast back over them" if OPS[op].elementwise
           else "which mixes the elements of its operand")
    raise ShapeError(
        f"cannot differentiate {of!r}: it is of shape {shape} at these inputs{arrays_fed(feeds)}"
        + f" and depends on {', '.join(map(repr, wrt))} through node {n!r} ({op}), {how}, so its elements have "
        "no gradients of their own" + JACOBIAN_HINT
        + f"; for the gradient of the sum of its elements, differentiate cg.sum({of})"
    )


def mixed_by_structure(g: Graph, wrt: Sequence[str], of: str) -> str | None:
    """The first node (in schedule order) on a path from ``wrt`` to ``of``, of undeclared
    shape, where the elements of an input of ``wrt`` mix, and which reaches ``of`` through
    elementwise ops only; or None. Elements mix at a node that mixes them along an axis
    (``OpDef.reach`` ``"along_axis"``: a softmax) where that axis may hold several
    elements, and at an elementwise node that broadcasts a reduction of an input's
    elements back over those elements themselves (``exp(x)/sum(exp(x))``, ``x -
    mean(x)``, ``x*sum(x)``: the input reaching one operand by elementwise ops and
    broadcasts only, a sum, mean or logsumexp of it the other), where the reduced axes
    may hold several elements. Whatever the inputs' shapes, ``of`` is then an array whose
    elements mix, unless that axis holds one element (where a softmax is the constant 1,
    and a reduction is the element itself): the graph alone tells what
    :func:`require_separable` finds at a point. A reduction after the mixing node
    (``sum(softmax(x))``, a per-example loss ``-sum(t*log_softmax(z), axis=-1)``,
    ``mean((x - mean(x))^2)``) makes ``of`` each row's own, or a scalar: not found; nor a
    reduction of one input broadcast over another (``x*sum(z)``: a scalar shared by all),
    nor a matrix product, whose mixing depends on the operands' shapes (``x @ w`` is a
    scalar for vectors).

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.parse("y = 2*softmax(x) + z")
    >>> mixed_by_structure(g, ["x", "z"], "y"), mixed_by_structure(g, ["z"], "y")
    ('t2', None)
    >>> print(mixed_by_structure(cg.parse("y = -sum(t*log_softmax(z), axis=-1)"), ["z"], "y"))  # each row's own
    None
    >>> mixed_by_structure(cg.parse("y = exp(x - mean(x))"), ["x"], "y")  # centred, then elementwise
    't2'
    >>> print(mixed_by_structure(cg.parse("y = x*sum(z)"), ["x", "z"], "y"))
    None
    """
    found = _mixed_by_structure(g, wrt, of)
    return None if found is None else found[0]


def _mixed_by_structure(g: Graph, wrt: Sequence[str], of: str) -> tuple[str, list[str]] | None:
    """:func:`mixed_by_structure`'s node and the inputs of ``wrt`` whose elements mix there."""
    from ..ops.shapes import normalize_axis

    nodes = g.nx._node
    if nodes[of]["shape"] is not None:  # a declared shape: an array is refused by adjoint itself
        return None
    active = _between(g, list(wrt), of)
    order = [n for n in g.schedule() if n in active]
    kinds = {n: (None if nodes[n]["role"] != "op" else
                 "elementwise" if OPS[nodes[n]["op"]].elementwise else OPS[nodes[n]["op"]].reach) for n in order}
    # the nodes that reach of through elementwise ops only (of itself too): where mixing shows in of
    tail = set()
    for n in reversed(order):
        if n == of or all(kinds[u] == "elementwise" and u in tail for u in g.users(n) if u in active):
            tail.add(n)
    reduces = any(kinds[n] in ("reduce", "reduce_to") for n in order)
    if not reduces and not any(kinds[n] == "along_axis" for n in tail):
        return None
    meets = reduces and any(kinds[n] == "elementwise" for n in tail)
    # per node (where it may meet): the inputs whose own elements reach it by elementwise
    # ops and broadcasts only, and those a reduction of whose elements reaches it (by those
    # and reductions); shared between nodes, never changed in place
    own: dict[str, frozenset] = {}
    gathered: dict[str, frozenset] = {}
    none: frozenset = frozenset()
    inputs = set(wrt)
    for n in order:
        data, kind = nodes[n], kinds[n]
        own[n] = gathered[n] = none
        if kind is None:
            if n in inputs:
                own[n] = frozenset([n])
        elif kind == "along_axis":
            if n in tail:
                shape = data["shape"]
                one = bool(shape) and shape[normalize_axis(data["attrs"].get("axis", -1), len(shape))[0]] == 1
                if not one:  # over one element: the constant 1
                    return n, [w for w in wrt if w in ancestors(g, [n])]
        elif not meets:
            continue
        operands = [o for i, o in enumerate(g.operands(n)) if i not in OPS[data["op"]].shape_operands and o in active]
        if kind in ("elementwise", "broadcast_to"):
            own[n] = _union(own[o] for o in operands)
            gathered[n] = _union(gathered[o] for o in operands)
            if kind == "elementwise" and n in tail and gathered[n]:
                # an input as itself through one operand, a reduction of it through another
                mixed = set().union(*(gathered[b] & _union(own[a] for j, a in enumerate(operands) if j != i)
                                      for i, b in enumerate(operands) if gathered[b] and b not in operands[:i]))
                if mixed:
                    return n, [w for w in wrt if w in mixed]
        elif kind in ("reduce", "reduce_to") and operands:
            o, one = operands[0], False
            shape = nodes[o]["shape"]
            if kind == "reduce" and shape is not None:  # over one element: the element itself
                one = all(shape[a] == 1 for a in normalize_axis(data["attrs"].get("axis"), len(shape)))
            if not one:  # sum_to may leave its operand as it is: only what was gathered before stays so
                gathered[n] = gathered[o] | own[o] if kind == "reduce" else gathered[o]
    return None


def _union(sets: Any) -> frozenset:
    """The union of frozensets, the one that holds the others itself where there is one (no copy)."""
    sets = [s for s in sets if s]
    if not sets:
        return frozenset()
    big = max(sets, key=len)
    return big if all(s <= big for s in sets) else big.union(*sets)


def differentiated(ga: Graph) -> tuple[list[str], str] | None:
    """The inputs and the output that ``ga``, an adjoint graph, differentiates, as its
    outputs' marks name them; None where it has no outputs (nothing to differentiate).

    Examples
    --------
    >>> import cgraph as cg
    >>> differentiated(cg.adjoint(cg.parse("y = x*z"), wrt=["z"]))
    (['z'], 'y')
    """
    if not ga.outputs:
        return None
    nodes = ga.nx._node
    return [nodes[o]["adjoint_of"] for o in ga.outputs], nodes[ga.outputs[0]]["derivative_of"]


def require_separable_anywhere(g: Graph, wrt: Sequence[str], of: str) -> None:
    """ShapeError when the graph alone shows that ``of`` is an array whose elements mix
    (:func:`mixed_by_structure`): what :func:`require_separable` raises at any point where
    it is an array, for a derivative given without one (``cgraph grad 'softmax(x)'``,
    ``cgraph grad 'x - mean(x)'``)."""
    found = _mixed_by_structure(g, wrt, of)
    if found is None:
        return
    n, mixed = found
    names = ", ".join(map(repr, mixed))
    op = g.nx._node[n]["op"]
    if OPS[op].elementwise:
        how, unless = f"broadcasts a reduction of the elements of {names} back over them", "the reduced axes hold"
    else:
        how, unless = f"mixes the elements of {names} along an axis", "that axis holds"
    where = (f"node {n!r} ({op}) {how}" if n == of else
             f"it is computed by elementwise ops only from node {n!r} ({op}), which {how}")
    raise ShapeError(
        f"cannot differentiate {of!r}: {where}, so it is an array whose elements have no gradients of their own "
        f"(unless {unless} one element){JACOBIAN_HINT}; for the gradient of the sum of its elements, "
        f"differentiate cg.sum({of})"
    )


def _mixed_at(g: Graph, wrt: Sequence[str], of: str, feeds: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    from .separable import mixed_at

    try:
        return mixed_at(g, wrt, of, _between(g, list(wrt), of), feeds)
    except LookupError:  # a shape along the way cannot be told: the ops alone decide
        n = mixing(g, wrt, of)
        return None if n is None else (n, [w for w in wrt if w in ancestors(g, [n])])


def arrays_fed(feeds: Mapping[str, Any]) -> str:
    """`` (arrays: 'x' (3,))``: the inputs fed arrays, for a message about an output that
    came out an array at these inputs ("" where none is)."""
    arrays = [f"{k!r} {np.shape(v)}" for k, v in feeds.items() if isinstance(k, str) and np.size(v) != 1]
    return f" (arrays: {', '.join(arrays)})" if arrays else ""


def fit_to(value: Any, shape: tuple, spread: tuple | None = None, like: Any = None) -> np.ndarray:
    """``value`` summed over the dims it was broadcast along, then broadcast to ``shape``.

    Used by ``grad`` where shapes were unknown when the adjoint graph was built.
    ``spread``: the shape of the differentiated node when ``value`` is a pointwise
    derivative (see :func:`pointwise_of`); ``value`` is broadcast to it first.
    ``like``: the input's value; the gradient takes its float dtype (float64 for an int),
    as in torch and JAX: a constant gradient (a Python number, d(x + z)/dx = 1) as well
    as one computed in a wider dtype (d(x*z)/dx = z, a float64 ``z`` and a float16 ``x``).

    Examples
    --------
    >>> fit_to(1.0, (2,), like=np.float32([3, 4])).dtype
    dtype('float32')
    >>> fit_to(np.float64(0.5), (), like=np.float16(2))
    np.float16(0.5)
    """
    if like is not None:
        dtype = float_dtype(like)
        if type(value) in (float, int):
            value = np.asarray(value, dtype=dtype)[()]
        elif np.result_type(value) != dtype:
            value = np.asarray(value).astype(dtype)  # an array of its own
            value = value[()] if value.ndim == 0 else value
    if spread is not None:
        try:
            return _fit_shape(value, shape, spread)
        except ValueError:
            # a pointwise derivative broadcasts with the node it differentiates; the zero
            # gradient of an input that does not reach that node (grad(g, wrt=["u"]) for a
            # u the output does not use) need not: it is zeros in the input's shape
            if np.any(value):
                raise
            out = np.zeros(shape, dtype=np.result_type(value))
            return out[()] if out.ndim == 0 else out
    return _fit_shape(value, shape, None)


def _fit_shape(value: Any, shape: tuple, spread: tuple | None) -> Any:
    v = np.asarray(value)
    if spread is not None and v.shape != tuple(spread):
        v = np.broadcast_to(v, np.broadcast_shapes(v.shape, tuple(spread)))
        value = None  # a read-only view: copied below
    if v.shape == tuple(shape):
        # an array of its own, as the sums below give: not a read-only broadcast view
        # (d sum(x)/dx is expand_to(1, x)), which a caller scaling it in place cannot use,
        # nor a view of an input (transpose(z)); a scalar's gradient is a number, not a
        # 0-d array (what d sum(x*w)/dx evaluates to)
        if v.ndim == 0:
            return v[()]
        return v.copy() if value is None or not v.flags.owndata else value
    lead = v.ndim - len(shape)
    if lead > 0:
        v = v.sum(axis=tuple(range(lead)))
    v = v.reshape((1,) * (len(shape) - v.ndim) + v.shape)
    axes = tuple(i for i, (d, t) in enumerate(zip(v.shape, shape)) if t == 1 and d != 1)
    if axes:
        v = v.sum(axis=axes, keepdims=True)
    out = np.broadcast_to(v, shape).copy()
    return out[()] if out.ndim == 0 else out  # a scalar's gradient is a number, summed or not
