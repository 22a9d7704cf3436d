"""``cg.compile``: a graph turned into the source of a plain Python function.

The function computes the graph's outputs (and, with ``wrt``, the gradients from the
adjoint graph) as straight-line code, one assignment per node: ``math`` on Python
floats when every value is a scalar, numpy otherwise. Identifiers in the code are ours
(``v0``, ``v1``, ...); a user's node names appear only as string literals (dict keys,
comments), written with ``repr`` of the validated name. Whatever the fast path cannot
vouch for (a missing or unexpected input, a value outside an op's domain, a result
that is not finite) is handed to the evaluation plan, which raises the typed error
``evaluate`` raises, naming the node.
"""

from __future__ import annotations

import builtins
import itertools
import linecache
import math
import re
import threading
import types
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from . import codegen
from .errors import ArgumentError, DomainError, GraphError, no_nonfinite_hint
from .graph import Graph, require_graph
from .memory import gc_paused
from .ops.registry import CODE_NAMES, OPS, OpDef
from .passes.adjoint import derivative_key, fit_to, may_mix, of_name, require_separable
from .passes.grad import gradient_graph, spread_node
from .passes.plan import op_kind, plan, read_only
from .passes.simplify import simplify_keeping_shapes

__all__ = ["compile"]

_counter = itertools.count()


def compile(  # the name API.md gives it; builtins.compile stays reachable
    g: Graph, /, wrt: Sequence[str] | str | None = None, *, of: str | None = None
) -> Callable[..., dict]:
    """A plain Python function computing ``g``'s outputs (and gradients), from generated source.

    Parameters
    ----------
    g : Graph
        Validated; not modified.
    wrt : name or Node, or a list of them, optional
        Also return the gradient of ``of`` with respect to each, under the names of
        the adjoint graph's outputs (``g_<w>``).
    of : str or Node, optional
        The scalar node to differentiate (default: the single output); only with ``wrt``.

    Returns
    -------
    callable
        ``f(**inputs) -> {name: value}``, with these attributes:

        - ``f.positional(*values) -> tuple``: the same function without the dict on
          either side, the fast entry point for hot loops. The values follow
          ``f.inputs``, optionally followed by values for ``f.params`` (a param
          left out takes its value in the graph); the results follow ``f.outputs``.
          It computes the same numbers and raises the same errors as ``f``; a
          value left out is an ``InputError`` naming the input, but one value too
          many is Python's own ``TypeError`` (``positional() takes from 0 to 2
          positional arguments but 3 were given``): the count is checked by the
          call itself, for free, where a check of ours would cost every call.
        - ``f.inputs``, ``f.params``, ``f.outputs``: tuples of names, in the order
          of the graph's creation (inputs, params) and of ``f``'s dict (outputs).
        - ``f.source``: the generated code; ``f.graph``: the graph it came from. A
          function with a ``math`` path writes its numpy path on its first call with
          arrays, and ``f.source`` grows by it then.

        Both forms raise what :func:`~cgraph.evaluate` raises (``InputError``,
        ``DomainError``, ``ShapeError``), naming the input or node. Python-float
        inputs give Python floats (computed with ``math``); arrays give numpy
        values. The function is cached on ``g`` until ``g`` changes.

    Notes
    -----
    The gradients are those of the simplified adjoint (:func:`~cgraph.simplify`): equal to
    :func:`~cgraph.grad`'s up to rounding, and a zero may have the other sign, as
    simplifying rewrites ``g_t2 - g_t1`` (-0.0 - 0.0) into ``z - 2*x`` (0.0 - 0.0); the
    zeros compare equal (``-0.0 == 0.0``):

    >>> import cgraph as cg
    >>> g = cg.parse("y = -x*(x - z)")
    >>> cg.grad(g, wrt=["x"], x=0.0, z=0.0)["x"], cg.compile(g, wrt=["x"])(x=0.0, z=0.0)["g_x"]
    (np.float64(-0.0), 0.0)

    Examples
    --------
    >>> import cgraph as cg
    >>> import numpy as np
    >>> g = cg.parse("y = x*z + sin(x)")
    >>> f = cg.compile(g, wrt=["x", "z"])
    >>> out = f(x=2.0, z=3.0)
    >>> round(out["y"], 6), round(out["g_x"], 6), out["g_z"]
    (6.909297, 2.583853, 2.0)
    >>> f.inputs, f.outputs
    (('x', 'z'), ('y', 'g_x', 'g_z'))
    >>> y, g_x, g_z = f.positional(2.0, 3.0)
    >>> (y, g_x, g_z) == (out["y"], out["g_x"], out["g_z"])
    True
    >>> [line.strip() for line in f.source.splitlines() if "cos(" in line]
    ["v5 = cos(v0)  # 't3' (cos)"]
    >>> _ = f(x=np.array([1.0, 2.0]), z=3.0)  # the numpy path, written now
    >>> [line.strip() for line in f.source.splitlines() if "cos(" in line][1]
    "v5 = np.cos(v0)  # 't3' (cos)"
    """
    require_graph(g, "compile").validate()
    if of is not None and wrt is None:  # without wrt nothing is differentiated: of= would be dropped
        raise ArgumentError(f"compile: of={of if isinstance(of, str) else getattr(of, 'name', of)!r} names what to "
                            "differentiate, and wrt= what with respect to; pass wrt= too "
                            "(wrt=g.inputs + g.params for every input and param)")
    key = ("compiled", *derivative_key(g, wrt, of))
    with gc_paused():  # graphs, source text and code objects: many small objects, no cyclic garbage
        return g._cached(key, lambda: _build(g, wrt, of))


def _build(g: Graph, wrt: Sequence[str] | str | None, of: str | None) -> Callable[..., dict]:
    target, grads, spread = _target(g, wrt, of)
    writer = _Writer(target, grads, spread, source=g)
    head, namespace = writer.module()
    untouched = g if wrt is None else gradient_graph(g, wrt, of)  # before simplify
    codegen.support(namespace, target, grads, writer.inputs, writer.params, spread,
                    _explainer(g, untouched, list(target.outputs) + ([spread] if spread is not None else [])))
    number = next(_counter)
    written = _run(head, f"<cgraph.compile #{number}>", namespace)
    f = namespace["compiled"]
    if writer.scalar:  # the numpy path is written and compiled on its first call, not here
        namespace["_array_path"] = _deferred(writer, f, f"<cgraph.compile #{number} numpy path>")
    else:
        namespace["positional"] = _renamed(namespace["_array_path"], "positional")
    refused = _nonfinite_const(untouched, list(target.outputs), writer.inputs + writer.params)
    if refused is not None:
        namespace["positional"] = namespace["_array_path"] = refused
    else:
        guarded = _forward_guard(g, target, of, writer.inputs + writer.params, namespace["positional"])
        namespace["positional"] = guarded or namespace["positional"]
        separable = _separable_guard(g, target, grads, of, writer.inputs + writer.params, namespace["positional"])
        namespace["positional"] = separable or namespace["positional"]
    f.positional = namespace["positional"]
    f.inputs, f.params, f.outputs = tuple(writer.inputs), tuple(writer.params), tuple(target.outputs)
    f.source = written
    f.graph = target
    return f


#: in the text a _Writer returns, where a line's comment starts (the comments are kept in
#: ``f.source`` and tracebacks, not handed to the Python compiler, which they slow down)
_MARK = "\x00"
#: at most this many operands in one written chain ``a + b + ...``: Python's compiler
#: recurses once per operator, and a few thousand overflow its stack (RecursionError)
_CHAIN = 200
_COMMENT = re.compile(_MARK + "[^\n]*")  # from the mark to the end of its line


def _run(text: str, filename: str, namespace: dict) -> str:
    """Compile and run ``text`` in ``namespace``; its source with the comments (``f.source``)."""
    source = text.replace(_MARK, "")
    code = builtins.compile(_COMMENT.sub("", text), filename, "exec")
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)  # readable tracebacks
    # exec runs only source that _Writer wrote from a validated graph: every identifier
    # is generated by us; user names enter only as repr() string literals and constants
    # as float literals, so no name or value can inject code
    exec(code, namespace)  # noqa: S102
    return source


def _renamed(fn: Callable, name: str) -> Callable:
    """``fn`` under the name ``name``: Python's own TypeError for a wrong call names the
    code object, and the user called ``f.positional``, not ``_array_path``."""
    code = fn.__code__
    code = code.replace(co_name=name, **({"co_qualname": name} if hasattr(code, "co_qualname") else {}))
    out = types.FunctionType(code, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    out.__kwdefaults__ = fn.__kwdefaults__
    return out


def _deferred(writer: _Writer, f: Callable, filename: str) -> Callable[..., tuple]:
    """A stand-in for ``_array_path`` that writes and compiles the real one on its first call
    (one thread writes it: the others wait, then call it)."""
    lock = threading.Lock()

    def array_path(*args: Any) -> tuple:
        with lock:
            if writer.namespace["_array_path"] is array_path:
                text = writer.array()
                # defines _array_path in the namespace, replacing us
                f.source += _run(text, filename, writer.namespace)  # type: ignore[attr-defined]
        return writer.namespace["_array_path"](*args)

    return array_path


def _nonfinite_const(g: Graph, keep: list[str], names: list[str]) -> Callable[..., tuple] | None:
    """For a graph whose outputs need a NaN/Inf constant (which simplify may fold away:
    ``exp(-inf) -> 0``, ``nan*0 -> 0``), the stand-in for ``positional`` that runs the
    interpreter on ``g`` itself: it checks the inputs (``names``, in ``positional``'s
    order), then raises the DomainError evaluate raises, naming the constant. None for
    every other graph."""
    if all(_finite(d["attrs"]["value"]) for d in g.nx._node.values() if d["role"] == "const"):
        return None
    run = plan(g, keep)
    if not run.nonfinite_consts:
        return None

    def refuse(*args: Any) -> tuple:
        with no_nonfinite_hint():  # a compiled function takes no nonfinite=
            run.run({n: a for n, a in zip(names, args) if a is not codegen.UNSET})
        raise DomainError(run.nonfinite_consts[0])  # pragma: no cover - run raises it after the input checks

    return refuse


def _explainer(g: Graph, untouched: Graph, keep: list[str]) -> Callable[[dict], None]:
    """Runs ``untouched`` (the graph before simplify) on a call's feeds, params read
    from ``g``: where it fails, it raises the error ``evaluate`` and ``grad`` raise."""
    keep = [n for n in dict.fromkeys(keep) if n in untouched.nx]

    def explain(feeds: dict) -> None:
        with no_nonfinite_hint():
            plan(untouched, keep).run(feeds, source=g)

    return explain


def _forward_guard(
    g: Graph, target: Graph, of: str | None, names: list[str], fast: Callable[..., tuple]
) -> Callable[..., tuple] | None:
    """For a graph whose function ``simplify`` computes without some of its op nodes
    (``log(x)*0 -> 0``, ``exp(x) - exp(x) -> 0``, ``x/x -> 1``: identities that hold where
    the node is finite), ``fast`` behind a run of the interpreter on those nodes, so that
    the function raises the DomainError ``evaluate`` and ``grad`` raise where one of them
    is undefined (``log(-1)``) or overflows, naming it, rather than answer there.
    None for every other graph (those the simplifier keeps whole: the usual case)."""
    keep = list(dict.fromkeys([*g.outputs, *([of] if of is not None else [])]))
    missing = _uncomputed(g, target, keep)
    if not missing:
        return None
    run = plan(g, missing)

    def guarded(*args: Any) -> tuple:
        with no_nonfinite_hint():  # a compiled function takes no nonfinite=
            run.run({n: a for n, a in zip(names, args) if a is not codegen.UNSET})
        return fast(*args)

    return guarded


def _separable_guard(g: Graph, target: Graph, grads: dict[str, str], of: str | None, names: list[str],
                     fast: Callable[..., tuple]) -> Callable[..., tuple] | None:
    """For gradients of an output of undeclared shape that depends on ``wrt`` through an op
    that is not elementwise (a softmax, a matmul, a reduction), ``fast`` followed by ``grad``'s check of the
    output's value (:func:`~cgraph.passes.adjoint.require_separable`): an array there is
    the ShapeError ``grad`` raises, not the gradient of the sum of its elements. None for
    every other function (a scalar loss, an elementwise formula: the usual case)."""
    if not grads:
        return None
    y = g.outputs[0] if of is None else of_name(g, of)
    wrt = list(grads.values())
    if g.nx._node[y]["shape"] is not None or may_mix(g, wrt, y) is None:
        return None
    outputs = list(target.outputs)
    at = outputs.index(y) if y in outputs else None
    run = plan(g, [y]) if at is None else None  # an intermediate of=: the interpreter computes it

    def checked(*args: Any) -> tuple:
        out = fast(*args)
        feeds = {n: a for n, a in zip(names, args) if a is not codegen.UNSET}
        value = out[at] if run is None else run.run(feeds)[y]
        require_separable(g, wrt, y, value, feeds)
        return out

    return checked


def _uncomputed(g: Graph, target: Graph, keep: list[str]) -> list[str]:
    """The op nodes of ``g``'s function that may fail (:func:`_may_fail`), whose values
    ``keep`` reads and that no node of ``target`` computes (the same op and attributes,
    of operands computed the same way, whatever the names). Not counted: the adjoint
    nodes of an adjoint graph (a gradient is the simplified derivative, see
    docs/errors.md) and nodes read only for their shape (the seed's ``expand_to(1, y)``
    does not compute ``y``)."""
    nodes = g.nx._node
    read = set(keep)
    for n in reversed(g.schedule()):  # users come after their operands: one backward pass
        if n in read and nodes[n]["role"] == "op":
            skip = OPS[nodes[n]["op"]].shape_operands
            if skip:
                read.update(a for i, a in enumerate(g.operands(n)) if i not in skip)
            else:
                read.update(g.operands(n))
    fail = [n for n in g.schedule() if n in read and nodes[n]["role"] == "op" and not nodes[n].get("adjoint")
            and _may_fail(OPS[nodes[n]["op"]])]
    if not fail:
        return []
    kept = _kept(g, target)
    if all(n in kept for n in fail):  # the usual case, without the computations of both graphs
        return []
    ids: dict[tuple, int] = {}
    mine, theirs = _computations(g, ids), set(_computations(target, ids).values())
    return [n for n in fail if mine[n] not in theirs]


def _kept(g: Graph, target: Graph) -> set[str]:
    """The nodes of ``g`` that ``target`` has under the same name, computed the same way
    (the same op and attributes, of operands it keeps so): each one's computation
    (:func:`_computations`) is one of ``target``'s."""
    nodes, theirs = g.nx._node, target.nx._node
    table = target._operand_table()
    kept: set[str] = set()
    for n in g.schedule():
        data, other = nodes[n], theirs.get(n)
        if other is None or other["op"] != data["op"] or other["role"] != data["role"]:
            continue
        role = data["role"]
        if role == "op":
            args = g.operands(n)
            if args != table[n] or not all(a in kept for a in args) or (
                    (data["attrs"] or other["attrs"]) and _attrs_key(data["attrs"]) != _attrs_key(other["attrs"])):
                continue
        elif role == "const" and _const_key(data["attrs"]["value"]) != _const_key(other["attrs"]["value"]):
            continue
        kept.add(n)
    return kept


def _attrs_key(attrs: dict) -> str:
    return repr(sorted(attrs.items()))


def _const_key(v: Any) -> tuple:
    return ("const", v.dtype.str, v.shape, v.tobytes()) if isinstance(v, np.ndarray) else ("const", type(v), repr(v))


def _may_fail(op: OpDef) -> bool:
    """Undefined (``log(-1)``, ``x/0``) or infinite (``exp(800)``, ``1e200*1e200``) at
    moderate finite operands; other ops (``1 - x``) only past the floats' range, where
    their operands already are not moderate."""
    return bool(op.domain) or op.overflows


def _computations(g: Graph, ids: dict[tuple, int]) -> dict[str, int]:
    """Each node's computation as an int, equal for nodes computed alike (in ``ids``,
    shared between graphs): an input or param by name, a constant by value, an op node by
    op, attributes and its operands' ints (sorted for a commutative op). Flat keys: a
    100,000-deep chain hashes no deeper than one node."""
    nodes, out = g.nx._node, {}
    for n in g.schedule():
        data = nodes[n]
        if data["role"] == "op":
            args = [out[a] for a in g.operands(n)]
            if OPS[data["op"]].commutative:
                args.sort()
            key: tuple = (data["op"], _attrs_key(data["attrs"]), *args)
        elif data["role"] == "const":
            key = _const_key(data["attrs"]["value"])
        else:
            key = (data["role"], n)
        out[n] = ids.setdefault(key, len(ids))
    return out


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind != "f" or bool(np.isfinite(value).all())
    try:  # ints and Fractions: finite unless past the floats (10**400)
        float(value)
    except OverflowError:
        return False
    return True


def _target(g: Graph, wrt: Sequence[str] | str | None, of: str | None) -> tuple[Graph, dict[str, str], str | None]:
    """The graph to write code for, ``{gradient output: its wrt node}`` and the node whose
    shape pointwise gradients are spread over (``grad``'s ``spread_node``), if any."""
    if wrt is None:
        if not g.outputs:
            raise GraphError(f"graph {g.name!r} has no outputs to compile")
        return simplify_keeping_shapes(g, g.outputs), {}, None  # values of evaluate's shapes
    ga = gradient_graph(g, wrt, of)
    grads = {o: ga.nx._node[o]["adjoint_of"] for o in ga.outputs}
    spread = spread_node(g, wrt, of) if ga.outputs else None
    outputs = list(dict.fromkeys(g.outputs + ga.outputs))
    ga.validate()  # cached; the same nodes under other outputs are valid too
    kept = outputs + ([spread] if spread is not None and spread not in outputs else [])
    # keeps the spread node, computed but not returned; the forward outputs keep evaluate's shapes
    target = simplify_keeping_shapes(_retargeted(ga, g.name, kept), g.outputs)
    operands, order = target._operand_table(), target.schedule()  # (simplify hands them over)
    target.set_outputs(outputs)
    target._cached("operands", lambda: operands)  # the outputs changed, not the nodes or edges
    target._cached("schedule", lambda: order)
    return target, grads, spread


def _retargeted(g: Graph, name: str, outputs: list[str]) -> Graph:
    """``g`` under another name and outputs, sharing its nodes rather than copying them:
    only for a pass that reads its input (simplify), never for one that changes it."""
    view = Graph(name)
    view.nx = g.nx
    view._generated, view._next_order = g._generated, g._next_order
    view.set_outputs(outputs)
    view._mark_valid()
    return view


class _Writer:
    """Writes the module: ``positional`` (the scalar fast path when the graph allows one),
    ``compiled`` (the dict form around it) and ``_array_path`` (numpy)."""

    def __init__(self, g: Graph, grads: dict[str, str], spread: str | None = None, *, source: Graph | None = None) -> None:
        self.g = g
        self.source = g if source is None else source  # the graph evaluate runs (before simplify)
        self.grads = grads
        self.spread = spread
        self.nodes = g.nx._node
        self.operands = g._operand_table()
        needed = _ancestors(self.operands, g.outputs + ([spread] if spread is not None else []))
        self.order = [n for n in g.schedule() if n in needed]
        self.var = {n: f"v{i}" for i, n in enumerate(self.order)}
        self.inputs = list(g.inputs)
        self.params = list(g.params)
        for n in self.inputs + self.params:
            self.var.setdefault(n, f"v{len(self.var)}")
        self.args = [self.var[n] for n in self.inputs + self.params]
        self.namespace: dict[str, Any] = {
            "np": np, "_fit": fit_to, **CODE_NAMES, **codegen.HELPERS,
        }
        # a node whose only use is an operand of add/sub/mul/div/neg may be left negated:
        # its user folds the sign in exactly (a + -b is a - b in IEEE arithmetic)
        uses: dict[str, list[str]] = {}
        for n in self.order:
            for o in self.operands.get(n, ()):
                uses.setdefault(o, []).append(n)
        outputs = set(g.outputs)
        self.signable = {
            n for n, users in uses.items()
            if len(users) == 1 and n not in outputs and self.nodes[users[0]]["op"] in codegen.SIGNED
        }
        self.fused = codegen.fusions(self.order, self.nodes, self.operands, uses, outputs)
        self.skip = {o for parts in self.fused.values() for o in parts}
        self.bound = 0
        self.scalar = False
        self.weak: set[str] = set()  # the nodes whose value is a Python float (set by _steps)

    def module(self) -> tuple[str, dict]:
        """The entry points (and the numpy path when there is no math path) and the namespace."""
        head = [
            f"# generated by cgraph.compile from graph {_lit(str(self.g.name))}: {len(self.order)} nodes",
            f"# inputs, in the order of positional(): {', '.join(f'{_lit(n)} ({self.var[n]})' for n in self.inputs)}",
            f"# params, optional after them: {', '.join(f'{_lit(n)} ({self.var[n]})' for n in self.params)}",
            f"# outputs, in the order of positional()'s result: {', '.join(map(_lit, self.g.outputs))}",
            "",
        ]
        if not self.params:
            del head[2]
        self.scalar = self._scalar_ok()
        entry = self._scalar() + [""] if self.scalar else []
        text = "\n".join(head + entry + self._dict()) + "\n\n"
        return (text if self.scalar else text + self.array()), self.namespace

    def array(self) -> str:
        """The numpy path ``_array_path``."""
        return "\n".join(self._array()) + "\n"

    def _scalar_ok(self) -> bool:
        if self.params:
            return False  # a param's default value is an array read at call time
        for n in self.order:
            data = self.nodes[n]
            if data["role"] == "op" and OPS[data["op"]].code_math is None:
                return False
            if data["role"] == "const" and isinstance(data["attrs"]["value"], np.ndarray):
                return False
            if data["shape"] not in (None, ()):
                return False
        return True

    # ------------------------------------------------------------------ the entry points
    def _dict(self) -> list[str]:
        """``compiled(**inputs)``: the dict form, around ``positional``."""
        v = self.var
        lines = ["def compiled(**inputs):"]
        if self.inputs:
            lines += ["    try:", *(f"        {v[n]} = inputs[{_lit(n)}]" for n in self.inputs)]
            lines += ["    except KeyError:", "        return _fallback(inputs)  # names the missing input"]
        lines += [f"    if len(inputs) != {len(self.inputs)}:", "        return _extra(inputs)"]
        results = [f"o{i}" for i in range(len(self.g.outputs))]
        call = f"positional({', '.join(v[n] for n in self.inputs)})"
        lines.append(f"    {_tuple(results)} = {call}")
        items = ", ".join(f"{_lit(o)}: {r}" for o, r in zip(self.g.outputs, results))
        return lines + [f"    return {{{items}}}"]

    def _scalar(self) -> list[str]:
        args = ", ".join(self.args)
        lines = [f"def positional({', '.join(f'{a}=_unset' for a in self.args)}):"]  # missing: InputError
        if self.args:
            plain = " or ".join(f"type({a}) is not float" for a in self.args)
            lines += [f"    if {plain}:", f"        return _other({args})"]
        body, expr = self._steps(math_mode=True, indent="        ")
        lines += ["    try:", *body, "    except (ArithmeticError, ValueError):", f"        return _slow({args})"]
        # x * 0.0 is 0.0 for a finite float and nan (true) for inf and nan, and so is a
        # sum holding one: a non-finite input (InputError) or output (an overflow in
        # + - * raises nothing in Python) goes to the interpreter, which names it; a sum
        # that overflows from finite terms only costs the slow path
        # so is an intermediate value that an op could turn from inf or nan into a finite
        # number (exp(-x*x) = 0.0 at x = 1e200, where evaluate names the overflow)
        watched = list(dict.fromkeys(self.inputs + self.params + list(self.g.outputs) + self._absorbed()))
        shown = self._shown_in_others(watched)
        finite = [v for v in dict.fromkeys(expr.get(n, self.var[n]) for n in watched if n not in shown)
                  if v.startswith("v")]
        if finite:
            sums = " or ".join(f"({' + '.join(finite[k:k + _CHAIN])}) * 0.0" for k in range(0, len(finite), _CHAIN))
            lines += [f"    if {sums}:", f"        return _slow({args})"]
        return lines + [f"    return {_tuple([expr[o] for o in self.g.outputs])}"]

    def _shown_in_others(self, watched: list[str]) -> set[str]:
        """The watched nodes whose non-finite value would make another watched node's value
        non-finite (or the code raise), through users that keep it (``x*z`` shows an inf
        x): checking the other one is enough, one term less in the check (W1's call)."""
        nodes, operands, watch, keeps = self.nodes, self.operands, set(watched), codegen.keeps_nonfinite
        shows: set[str] = set()  # the nodes whose non-finite value shows in some watched node after them
        for u in reversed(self.order):  # a user before its operands: whether u shows is known
            if u in watch or u in shows:
                op = nodes[u]["op"]
                for i, o in enumerate(operands.get(u, ())):
                    if o not in shows and keeps(op, i):
                        shows.add(o)
        return {n for n in watched if n in shows}

    def _absorbed(self) -> list[str]:
        """The op nodes whose value some user's scalar code may turn from non-finite into
        finite (see ``OpDef.keeps_nonfinite``), and the spread node, not an output."""
        nodes, found, keeps = self.nodes, {}, codegen.keeps_nonfinite
        for n in self.order:
            data = nodes[n]
            if data["role"] != "op":
                continue
            op = data["op"]
            for i, o in enumerate(self.operands[n]):
                if nodes[o]["role"] == "op" and not keeps(op, i):
                    found[o] = None
        if self.spread is not None and nodes[self.spread]["role"] == "op":
            found[self.spread] = None
        return list(found)

    def _array(self) -> list[str]:
        v = self.var
        params = [f"{v[n]}=_unset" for n in self.params]
        args = ", ".join(self.args)
        checks = []
        for n in self.inputs + self.params:
            shape = self._bind(self.nodes[n]["shape"], "shape")
            value = v[n]
            role = ""
            if self.nodes[n]["role"] == "param":  # the fed value, else the param's value in the graph at call time
                value = f"_param({v[n]}, {self._bind(self.nodes[n]['attrs'], 'attrs')})"
                role = ", 'param'"  # (its errors say param 'W')
            checks.append(f"{v[n]} = _check({_lit(n)}, {value}, {shape}{role})")
        lines = [
            f"def _array_path({', '.join([f'{v[n]}=_unset' for n in self.inputs] + params)}):",
            "    with np.errstate(divide='raise', over='raise', invalid='raise', under='ignore'):",
        ]
        if self.params:  # a param without a value: the interpreter names it
            lines += ["        try:", *(f"            {c}" for c in checks), "        except KeyError:",
                      f"            return _slow({args})"]
        else:
            lines += [f"        {c}" for c in checks]
        body, expr = self._steps(math_mode=False, indent="            ")
        lines += [
            "        try:", *body,
            "        except (ArithmeticError, ValueError, TypeError, IndexError):",
            f"            return _slow({args})",
        ]
        return lines + [f"    return {_tuple(self._returned(expr))}"]

    def _steps(self, *, math_mode: bool, indent: str) -> tuple[list[str], dict[str, str]]:
        """One assignment per op node; ``{node: the expression holding its value}``."""
        expr: dict[str, str] = {}
        negated: set[str] = set()  # nodes whose value is minus their expression
        weak: set[str] = set()
        lines = []
        for n in self.order:
            data = self.nodes[n]
            role = data["role"]
            if role in ("input", "param"):
                expr[n] = self.var[n]
                continue
            if role == "const":
                value = data["attrs"]["value"]
                expr[n] = self._const(value)
                if not isinstance(value, np.ndarray):
                    weak.add(n)
                continue
            operands = self.operands[n]
            op = data["op"]
            if n in self.skip:  # written by the sum it is fused into
                continue
            if n in self.fused:
                lines += [f"{indent}{self.var[n]} = {code}{_MARK}  # {_lit(n)} (add of unslice)"
                          for code in self._unslice_sum(n, expr)]
                expr[n] = self.var[n]
                continue
            args = [expr[o] for o in operands]
            if op == "identity":  # the lecture's g_d = g_y: the same value, no code
                expr[n] = args[0]
                if operands[0] in weak:
                    weak.add(n)
                continue
            all_weak = not math_mode and all(o in weak for o in operands)
            if not math_mode and not all_weak and op in ("add", "mul") and operands[1] in weak and operands[0] in weak:
                # leading constants (1e300*1e300*x): their Python-float part goes through _weak,
                # which raises where it overflows, as reduce(np.multiply) does in evaluate
                lead = next(i for i, o in enumerate(operands) if o not in weak)
                args = [f"_weak({(' + ' if op == 'add' else ' * ').join(args[:lead])})"] + args[lead:]
                operands = operands[:1] + operands[lead:]  # (a constant is never negated)
            if op in ("add", "mul") and not all_weak:
                while len(args) > _CHAIN:  # in parts, left to right: the same rounding, no deep expression
                    part, _ = codegen.signed(op, args[:_CHAIN], [o in negated for o in operands[:_CHAIN]], False)
                    lines.append(f"{indent}{self.var[n]} = {part}{_MARK}  # {_lit(n)} ({op}, in part)")
                    args, operands = [self.var[n], *args[_CHAIN:]], [None, *operands[_CHAIN:]]
            if op in codegen.SIGNED and not all_weak:
                may_negate = n in self.signable
                code, negative = codegen.signed(op, args, [o in negated for o in operands], may_negate)
                if negative and may_negate:
                    negated.add(n)
                if op == "neg" and code == args[0]:
                    expr[n] = code  # no code: a sign its user folds in, or the operand itself
                    continue
            else:
                code = self._expr(op, args, data["attrs"], math_mode)
                if all_weak:
                    weak.add(n)
                    code = f"_weak({code})"  # constants stay Python floats, as in evaluate
            if OPS[op].weak_result:  # size(u): a Python float, as in the evaluation plan
                weak.add(n)
            label = op if op.isidentifier() else _lit(op)
            lines.append(f"{indent}{self.var[n]} = {code}{_MARK}  # {_lit(n)} ({label})")
            expr[n] = self.var[n]
        self.weak = weak  # the Python-float values: a gradient among them takes its input's dtype (_fitted)
        return lines or [f"{indent}pass"], expr

    # ------------------------------------------------------------------ pieces
    def _expr(self, op: str, args: list[str], attrs: dict, math_mode: bool) -> str:
        template = OPS[op].code_math if math_mode else OPS[op].code
        if template is not None:
            return template(*args, **attrs) if callable(template) else template.format(*args)
        fn = self._bind(OPS[op].eval, f"op_{op}" if op.isidentifier() else "op")
        kw = "".join(f", {k}={self._attr(a)}" for k, a in attrs.items())
        return f"{fn}({', '.join(args)}{kw})"

    def _unslice_sum(self, n: str, expr: dict[str, str]) -> list[str]:
        """The code of a fused add of unslices, as the values ``n``'s variable takes in turn."""
        parts = self.fused[n]
        like = self.operands[parts[0]][1]
        attrs = [self.nodes[p]["attrs"] for p in parts]
        axis = int(attrs[0]["axis"])
        cuts = [slice(*(None if a[k] is None else int(a[k]) for k in ("start", "stop", "step"))) for a in attrs]
        shape = self.nodes[like]["shape"]
        if axis < 0:
            if shape is None:  # which axis is not known before the call: a sum, in parts (see _CHAIN)
                terms = [self._expr("unslice", [expr[o] for o in self.operands[p]], self.nodes[p]["attrs"], False)
                         for p in parts]
                return [" + ".join(terms[:_CHAIN])] + [
                    " + ".join([self.var[n], *terms[k:k + _CHAIN]]) for k in range(_CHAIN, len(terms), _CHAIN)]
            axis %= len(shape)
        cover = shape is not None and None not in shape and codegen.covers(shape[axis], cuts)
        pieces = "".join(
            f", {expr[self.operands[p][0]]}, {self._bind((slice(None),) * axis + (cut,), 'index')}"
            for p, cut in zip(parts, cuts)
        )
        return [f"_unslice_sum({expr[like]}, {cover}{pieces})"]

    def _returned(self, expr: dict[str, str]) -> list[str]:
        """The numpy path's result, output by output (:meth:`_fitted`): a copy where the value
        would be the buffer of an input, a param or an earlier output that ``evaluate`` (or
        ``grad``, for a gradient) gives apart. Simplify makes ``x*1`` the input ``x`` itself,
        ``1*(x*z)`` the node ``x*z`` another output returns, ``d exp(x)/dx`` the output
        ``exp(x)``: a write into one result would change the caller's input, the param's
        value in the graph or another result."""
        sources = {self.var[n] for n in self.inputs + self.params}
        src = self.source
        src_nodes, src_operands = src.nx._node, src._operand_table()
        taken: set[str] = set()  # the buffers (variables) earlier outputs return
        taken_src: set[str] = set()  # ... and, for forward outputs, the nodes of the graph evaluate runs
        kept = _kept(src, self.g) if src is not self.g else set(self.g.outputs)
        out = []
        for o in self.g.outputs:
            mine = {expr[r] for r in _roots(self.nodes, self.operands, o)
                    if r not in self.weak and self.nodes[r]["role"] != "const"}
            if o in self.grads:  # grad gives every gradient as an array of its own
                shared = bool(mine & (taken | sources))
            else:  # evaluate hands out the input itself for identity(x), a view of it for transpose(x)
                theirs = _roots(src_nodes, src_operands, o)
                own_sources = sources - {self.var[n] for n in theirs if n in self.var}
                shared = bool(mine & own_sources) or bool(mine & taken) and not theirs & taken_src
                taken_src |= theirs
            taken |= mine
            value = self._fitted(o, expr, shared)
            if o not in self.grads and o not in kept:
                value = self._promoted(value, _dtype_sources(src, o) - _dtype_sources(self.g, o))
            if o not in self.grads and o in self.weak and not value.startswith("_promote("):
                value = f"np.float64({value})"  # a value of constants (size(x), 2*3): numpy's, as evaluate's
            out.append(value)
        return out

    def _promoted(self, value: str, lost: set) -> str:
        """``value`` in the dtype ``evaluate`` gives it, where simplify dropped what carried it:
        ``x - x + z`` reads no ``x`` (a float64 ``x`` made a float32 ``z`` float64), ``x/x``
        and ``sum(x)*0 + 1`` fold to a Python float (a float32 ``x`` kept them float32)."""
        others = [self.var[n] if isinstance(n, str) else self._bind(np.zeros((), n[1]), "const")
                  for n in sorted(lost, key=str) if not isinstance(n, str) or n in self.var]
        return f"_promote({value}, {', '.join(others)})" if others else value

    def _fitted(self, out: str, expr: dict[str, str], shared: bool = False) -> str:
        w = self.grads.get(out)
        value = expr[out]
        if shared:
            value = f"{value}.copy()"
        if w is None:
            return value
        shape_w, shape_o = self.nodes[w]["shape"], self.nodes[out]["shape"]
        weak = out in self.weak  # a constant gradient: it takes the input's float dtype, as in grad()
        if shape_w is not None and shape_w == shape_o and None not in shape_w and not weak:
            return f"_fresh({value}, {self.var[w]})"
        # as grad(): spread over the output (a pointwise gradient), summed to the input's shape
        spread = "None" if self.spread is None else f"np.shape({expr[self.spread]})"
        return f"_fit({value}, np.shape({self.var[w]}), {spread}, {self.var[w]})"

    def _const(self, value: Any) -> str:
        if isinstance(value, (int, Fraction)):
            try:
                value = float(value)  # as the evaluation plan does
            except OverflowError:
                return self._bind(value, "const")
        if isinstance(value, float) and math.isfinite(value):
            text = repr(value)
            return f"({text})" if text.startswith("-") else text
        return self._bind(read_only(value) if isinstance(value, np.ndarray) else value, "const")

    def _attr(self, value: Any) -> str:
        if value is None or isinstance(value, (bool, int)):
            return repr(value)
        if isinstance(value, (tuple, list)) and all(type(a) is int for a in value):
            return repr(tuple(value))
        return self._bind(value, "attr")

    def _bind(self, value: Any, stem: str) -> str:
        """A generated name for ``value`` in the module namespace (never spelled out)."""
        self.bound += 1
        name = f"_{stem}{self.bound}"
        self.namespace[name] = value
        return name


def _roots(nodes: Any, operands: Any, n: str) -> set[str]:
    """The nodes whose buffer the value of ``n`` may be: ``n`` itself, or, through ops that
    may return an operand or a view of one (identity, transpose, reshape, slice...; not
    through the operands read for their shape), those operands' roots."""
    roots, seen, stack = set(), {n}, [n]
    while stack:
        m = stack.pop()
        data = nodes[m]
        if data["role"] == "op" and _may_view(data["op"]):
            skip = OPS[data["op"]].shape_operands
            for i, o in enumerate(operands[m]):
                if i not in skip and o not in seen:
                    seen.add(o)
                    stack.append(o)
        else:
            roots.add(m)
    return roots


def _dtype_sources(g: Graph, n: str) -> set:
    """What numpy's promotion carries into the dtype of ``n``'s value: the inputs and params
    it reads (by name) and the array constants (``("const", dtype)``); not through the
    operands an op reads for their shape alone, a guard's condition (``replace_zero_if``)
    or an op whose value is a Python float (``size``)."""
    nodes, operands = g.nx._node, g._operand_table()
    found: set = set()
    seen, stack = {n}, [n]
    while stack:
        m = stack.pop()
        data = nodes[m]
        role = data["role"]
        if role in ("input", "param"):
            found.add(m)
        elif role == "const":
            if isinstance(data["attrs"]["value"], np.ndarray):
                found.add(("const", data["attrs"]["value"].dtype))
        elif not OPS[data["op"]].weak_result:
            op = OPS[data["op"]]
            args = operands[m][:1] if op.transparent else operands[m]
            for i, o in enumerate(args):
                if i not in op.shape_operands and o not in seen:
                    seen.add(o)
                    stack.append(o)
    return found


def _may_view(op: str) -> bool:
    """Whether ``op``'s value may be an operand or a view of one (as the plan reads it: not a
    ufunc's, nor one its definition calls ``fresh``)."""
    return not OPS[op].fresh and op_kind(op)[1] is None


def _ancestors(operands: dict, outputs: list[str]) -> set[str]:
    seen = set(outputs)
    stack = list(outputs)
    while stack:
        for o in operands[stack.pop()]:
            if o not in seen:
                seen.add(o)
                stack.append(o)
    return seen


def _tuple(items: list[str]) -> str:
    return f"{items[0]}," if len(items) == 1 else ", ".join(items)


def _lit(name: str) -> str:
    """``name`` as a Python string literal: the only way a user's name enters the code."""
    if type(name) is not str:
        raise GraphError(f"node name {name!r} is not a string")
    text = repr(name)  # one line: repr escapes line breaks and other unprintables
    if "\n" in text or "\r" in text:  # pragma: no cover - repr guarantees it
        raise GraphError(f"node name {text} cannot be written as a literal")
    return text
