"""Evaluation plans: a graph compiled once into a flat schedule of numpy calls.

Operands are resolved to slots and op functions bound ahead of time; a slot is released
after its last use unless its value is asked for, so peak memory stays near the forward
pass's. An elementwise step whose operand dies at that step writes its result into that
operand's buffer (numpy ``out=``) when the shapes and dtype match, so a training loop does
not hand the allocator a fresh megabyte-sized temporary for every op. Plans are cached on
the graph and rebuilt when it changes.
"""

from __future__ import annotations

import math
import numbers
from array import array
from collections.abc import Collection, Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from ..checks import shown
from ..errors import ArgumentError, DomainError, InputError, ShapeError
from ..graph import Graph, foreign
from ..memory import gc_paused
from ..node import Node
from ..ops.registry import OPS, get_op

NONFINITE = ("raise", "propagate")

#: an operand buffer is reused from this many elements on: below it, malloc's own free
#: lists are as fast as the checks (and small arrays never reach mmap)
REUSE_MIN_SIZE = 4096

def op_kind(op: str) -> tuple[Any, np.ufunc | None, int]:
    """(eval, the ufunc that computes ``op`` with ``out=`` or None, how many leading
    operands may donate their buffer)."""
    opdef = OPS[op]
    if opdef.variadic and opdef.ufunc is not None:  # eval = functools.reduce(ufunc, operands)
        return opdef.eval, opdef.ufunc, 2  # later operands: reduce's order kept
    if opdef.elementwise and isinstance(opdef.eval, np.ufunc):
        return opdef.eval, opdef.eval, opdef.eval.nin
    return opdef.eval, None, 0


class Plan:
    """A compiled forward schedule of ``graph`` that returns the values of ``keep``.

    Parameters
    ----------
    graph : Graph
        Validated on construction.
    keep : collection of str, optional
        The nodes whose values :meth:`run` returns (every node when None); all other
        buffers are released after their last use and may be reused.
    reuse : bool
        Write elementwise results into dead operands' buffers (``out=``). The results
        are bitwise the same either way.

    Examples
    --------
    >>> import cgraph as cg
    >>> from cgraph.passes.plan import Plan
    >>> g = cg.Graph()
    >>> x = g.input("x")
    >>> y = g.output(cg.exp(x) * 2.0, name="y")
    >>> Plan(g, ["y"]).run({"x": 0.0})
    {'y': np.float64(2.0)}
    """

    __slots__ = (
        "graph", "keep", "steps", "sources", "consts", "n_slots", "keep_slots", "feedable", "reuse", "nonfinite_consts",
    )

    def __init__(self, graph: Graph, keep: Collection[str] | None = None, *, reuse: bool = True) -> None:
        graph.validate()
        with gc_paused():  # one tuple per node, no cycles: the collector would only rescan
            self._compile(graph, keep, reuse)

    def _compile(self, graph: Graph, keep: Collection[str] | None, reuse: bool) -> None:
        order = graph.schedule()
        nodes = graph.nx._node
        operands = graph._operand_table()
        self.graph = graph
        self.keep = order if keep is None else tuple(keep)
        for n in self.keep:
            graph.node(n)  # NodeNotFoundError for a bad name
        keep_set = set(self.keep)
        slot = {n: i for i, n in enumerate(order)}
        sources, consts, ops = [], [], []
        # values computed from constants alone stay Python floats, as the constants do,
        # so that they do not turn float32 arrays into float64 (numpy's weak scalars);
        # `known`: those of them whose value is known now: the scalar constants, and what
        # the plan folds from them once (the adjoint's `2 - 1` in u^(2 - 1)), not every run
        weak = set()
        known: dict[str, float] = {}
        for i, n in enumerate(order):
            data = nodes[n]
            role = data["role"]
            if role == "op":
                if data["op"] not in OPS:  # changed through g.nx after validation
                    get_op(data["op"], node=n)
                ops.append(n)
            elif role == "const":
                value = data["attrs"]["value"]
                consts.append((i, _const(value)))
                if not isinstance(value, np.ndarray):
                    weak.add(n)
                    known[n] = consts[-1][1]
            else:
                sources.append((n, i, data))
        if keep is not None:
            ops = _needed(ops, operands, keep_set)
        self.n_slots = len(order)
        self.keep_slots = [(n, slot[n]) for n in self.keep]
        self.sources = sources
        self.feedable = {n for n, _, _ in sources}
        self.consts = consts
        self.nonfinite_consts = _nonfinite_consts(graph, consts, order, ops, operands, keep_set)
        # an int array by slot and a list by step, rather than dicts or a list of int
        # objects: at 10^5 nodes those were a third of the plan's peak memory
        last_use = array("q", [-1]) * len(order)  # by slot: the step that reads it last
        for i, n in enumerate(ops):
            for o in operands[n]:
                last_use[slot[o]] = i
        frees: list[tuple[int, ...]] = [()] * len(ops)  # by step: the slots that die there
        for n, s in slot.items():  # slot's own int objects: the steps hold them anyway
            i = last_use[s]
            if i >= 0 and n not in keep_set:
                frees[i] += (s,)
        op_names = [nodes[n]["op"] for n in ops]
        kinds = {op: op_kind(op) for op in set(op_names)}
        fresh_ops = {op for op, kind in kinds.items() if OPS[op].fresh or kind[1] is not None}
        seen = _seen(ops, op_names, fresh_ops, operands, keep_set) if reuse else set()
        self.reuse = reuse
        steps = []
        append, slot_of = steps.append, slot.__getitem__
        for i, n in enumerate(ops):
            op = op_names[i]
            fn, ufunc, limit = kinds[op]
            args = operands[n]
            attrs = nodes[n]["attrs"]
            kw = _kwargs(attrs) if attrs else None
            fn, args, value = choose(n, op, fn, args, kw, weak, known)
            if fn is None:
                consts.append((slot_of(n), value))
                continue
            if len(args) < len(operands[n]):  # u**2 as np.square(u): one operand, a ufunc
                ufunc, limit = fn, 1
            donors = ()
            if ufunc is not None and reuse:
                later = args[limit:]  # a variadic op still reads these after the first call
                for k, o in enumerate(args[:limit]):
                    # o donates its buffer: o's step made it fresh, nothing else sees it,
                    # and this step is the last to read o
                    if (last_use[slot_of(o)] == i and o not in later and o not in seen
                            and nodes[o]["role"] == "op" and nodes[o]["op"] in fresh_ops):
                        donors += (k,)
            append((
                slot_of(n), fn, tuple(map(slot_of, args)), kw,
                frees[i], n, ufunc if donors else None, donors,
            ))
        self.steps = steps

    def run(self, feeds: Mapping[str, Any], *, nonfinite: str = "raise", source: Graph | None = None) -> dict[str, Any]:
        """Evaluate with ``feeds`` (inputs and params by name) and return the kept values.
        ``source``: the graph that input errors name, when it is not the plan's own (grad
        runs the adjoint graph of the user's graph)."""
        if nonfinite not in NONFINITE:
            raise ArgumentError(f"nonfinite must be one of {NONFINITE}, not {nonfinite!r}")
        env: list[Any] = [None] * self.n_slots
        self._feed(env, feeds, nonfinite, source or self.graph)
        for s, value in self.consts:
            env[s] = value
        if nonfinite == "raise" and self.nonfinite_consts:
            raise DomainError(self.nonfinite_consts[0])
        try:
            if nonfinite == "raise":
                with np.errstate(divide="raise", over="raise", invalid="raise", under="ignore"):
                    _execute(self.steps, env, self.reuse)
            else:
                with np.errstate(all="ignore"):
                    _execute(self.steps, env, self.reuse)
        except (FloatingPointError, ValueError, IndexError, TypeError):
            # a reused buffer may hold a half-written result: re-run without reuse (the
            # same values, bitwise) to report the failing node with its real operands
            self._explain(feeds, nonfinite)
            raise
        return {n: env[s] for n, s in self.keep_slots}

    def _explain(self, feeds: Mapping[str, Any], nonfinite: str) -> None:
        env: list[Any] = [None] * self.n_slots
        self._feed(env, feeds, nonfinite, self.graph)
        for s, value in self.consts:
            env[s] = value
        errstate = {"divide": "raise", "over": "raise", "invalid": "raise", "under": "ignore"}
        with np.errstate(**errstate) if nonfinite == "raise" else np.errstate(all="ignore"):
            for step in self.steps:
                out, fn, args, kw, free = step[:5]
                vals = [env[a] for a in args]
                try:
                    env[out] = fn(*vals) if kw is None else fn(*vals, **kw)
                except FloatingPointError:
                    node = step[5]
                    raise _domain_error(self.graph, node, self._operand_values(env, node), kw or {}) from None
                except (ValueError, IndexError, TypeError) as exc:
                    node = step[5]
                    data = self.graph.nx._node[node]
                    operands = self.graph.operands(node)
                    got = [np.shape(v) for v in self._operand_values(env, node)]
                    shapes = ", ".join(f"{o!r} {s}" for o, s in zip(operands, got))
                    raise ShapeError(f"node {node!r} ({data['op']}) of {shapes}: {_shape_reason(data, got, exc)}") from None
                for f in free:
                    env[f] = None

    def _operand_values(self, env: list, node: str) -> list[Any]:
        """Every operand's value of ``node`` in ``env``, read by name: a step may leave one
        out (``u**2`` runs as ``np.square(u)``)."""
        slot = {n: i for i, n in enumerate(self.graph.schedule())}
        return [env[slot[o]] for o in self.graph.operands(node)]

    def _feed(self, env: list, feeds: Mapping[str, Any], nonfinite: str, source: Graph) -> None:
        extra = [k for k in feeds if k not in self.feedable]
        if extra:
            hint = ""
            if "feeds" in extra and isinstance(feeds["feeds"], Mapping):  # evaluate(g, feeds={...})
                hint = "; a mapping of values goes positionally, after the graph (cg.evaluate(g, {...})), or as keywords"
            raise InputError(_extra_message(source, extra) + hint)
        missing = []
        for name, s, data in self.sources:
            if name in feeds:
                value = feeds[name]
            elif data["role"] == "param" and data["attrs"].get("value") is not None:
                value = data["attrs"]["value"]
            else:
                missing.append(name)
                continue
            env[s] = check_input(name, value, data["shape"], nonfinite=nonfinite, role=data["role"])
        if missing:
            if any(self.graph.nx.nodes[n]["role"] != "param" for n in missing):
                raise InputError(f"graph {source.name!r} is missing input(s) {', '.join(map(repr, missing))}"
                                 + _constant_hint(missing))
            raise InputError(f"param(s) {', '.join(map(repr, missing))} of graph {source.name!r} have no value: "
                             f"give one to g.param(..., value=...) or pass it like an input")


# names a formula takes for a mathematical constant, which are inputs like any other name
_CONSTANTS = {"e": "Euler's number is exp(1); write e^x as exp(x)", "pi": "for π write 3.141592653589793"}


def _constant_hint(missing: list[str]) -> str:
    """``"; 'e' is a variable here (Euler's number ...)"`` for a missing input named as a
    constant (``e^(x*z)`` from a slide makes ``e`` an input)."""
    return "".join(f"; {n!r} is a variable here ({_CONSTANTS[n]})" for n in missing if n in _CONSTANTS)


def _execute(steps: list, env: list, reuse: bool) -> None:
    """The interpreter loop: every step, then the slots that die there."""
    for out, fn, args, kw, free, _, ufunc, donors in steps:
        vals = [env[a] for a in args]
        res = _into_donor(ufunc, vals, donors) if ufunc is not None else None
        if res is None:
            res = fn(*vals) if kw is None else fn(*vals, **kw)
        env[out] = res
        for f in free:
            env[f] = None


def _into_donor(ufunc: np.ufunc, vals: list, donors: tuple[int, ...]) -> Any:
    """``ufunc`` of ``vals`` written into a dying operand whose shape and dtype it has."""
    for k in donors:
        d = vals[k]
        if type(d) is not np.ndarray or d.size < REUSE_MIN_SIZE:
            continue
        if np.result_type(*vals) != d.dtype or not _fits(vals, d.shape):
            continue
        if len(vals) <= 2 or ufunc.nin == 1:
            return ufunc(*vals, out=d)
        ufunc(vals[0], vals[1], out=d)  # variadic: the same left-to-right order as reduce
        for v in vals[2:]:
            ufunc(d, v, out=d)
        return d
    return None


def _fits(vals: list, shape: tuple) -> bool:
    """Whether ``vals`` broadcast to ``shape``: same shapes, scalars and trailing parts
    decided at once; np.broadcast_shapes (a few us) only for the rest."""
    for v in vals:
        s = np.shape(v)
        if s != shape and s != shape[len(shape) - len(s):]:
            return np.broadcast_shapes(*[np.shape(v) for v in vals]) == shape
    return True


def choose(n: str, op: str, fn: Any, args: tuple, kw: dict | None, weak: set, known: dict) -> tuple:
    """How the plan computes op node ``n`` = ``op(*args)`` with ``fn`` (its eval) and
    ``kw``: ``(fn, args, None)``, the function and operands to call, or ``(None, args,
    value)`` when ``n`` folds from constants to a known float. ``weak``: the nodes
    computed from constants alone (Python floats, weak in numpy's promotion), ``known``:
    their values known now; both are updated for ``n``. Operands come first: call it in
    a topological order. ``grad``'s eager sweep computes its values by it too."""
    if weak and weak.issuperset(args):
        weak.add(n)
        values = [known.get(a) for a in args]
        value = None if None in values else _fold(fn, values, kw or {})
        if value is not None:
            known[n] = value
            return None, args, value
        return _weakly(fn), args, None  # a step that would fail: it fails at run time, naming the node
    if OPS[op].weak_result:
        weak.add(n)
    elif op == "pow" and known.get(args[1]) in _POWERS:  # the same bits, faster
        return _POWERS[known[args[1]]], args[:1], None
    elif len(args) == 2 and OPS[op].variadic and OPS[op].ufunc is not None:  # reduce(np.add, (a, b)) is np.add(a, b)
        return OPS[op].ufunc, args, None
    return fn, args, None


def _weakly(fn: Any) -> Any:
    """``fn`` whose 0-d results come back as Python floats (weak in numpy's promotion)."""

    def weak(*args: Any, **kw: Any) -> Any:
        out = fn(*args, **kw)
        return float(out) if np.ndim(out) == 0 else out

    return weak


#: u**k computed by a cheaper ufunc with the same bits: x*x is what pow(x, 2) rounds to,
#: and pow(x, 1) is x itself (NaN, -0.0 and inf included)
_POWERS = {2.0: np.square, 1.0: np.positive}


def _fold(fn: Any, values: list, kw: dict) -> float | None:
    """``fn`` of scalar constants, once: a finite float, or None when it fails (the run
    then reports it, naming the node) or is not a finite scalar."""
    try:
        with np.errstate(all="raise"):
            out = fn(*values, **kw)
    except (ArithmeticError, ValueError, TypeError):
        return None
    if np.ndim(out) != 0 or not np.isfinite(out):
        return None
    return float(out)


def _needed(ops: list[str], operands: Mapping, keep: set[str]) -> list[str]:
    """The op nodes (in schedule order) whose values ``keep`` depends on."""
    needed = set(keep)
    for n in reversed(ops):  # users come after their operands: one backward sweep
        if n in needed:
            needed.update(operands[n])
    return [n for n in ops if n in needed]


def _seen(ops: list[str], op_names: list[str], fresh_ops: set[str], operands: Mapping, keep: set[str]) -> set[str]:
    """Nodes whose buffer something besides their users' steps can see: the kept ones and
    the operands of ops that may return a view of them (identity, reshape, transpose...)."""
    seen = set(keep)
    for n, op in zip(ops, op_names):
        if op not in fresh_ops:
            seen.update(operands[n])
    return seen


def merge_feeds(feeds: Mapping[str | Node, Any] | None, inputs: Mapping[str, Any], g: Graph | None = None) -> dict[str, Any]:
    """``feeds`` and the keyword ``inputs`` as one dict (a keyword wins); InputError when
    ``feeds`` is no mapping (``evaluate(g, 2.0)``: values go by name). A key of ``feeds``
    may be a node handle (``{x: 2.0}``, as a TensorFlow feed_dict): its name, if it is a
    node of ``g``.

    Examples
    --------
    >>> merge_feeds({"x": 1.0, "z": 2.0}, {"z": 3.0})
    {'x': 1.0, 'z': 3.0}
    """
    if feeds is None:
        return dict(inputs)
    if not isinstance(feeds, Mapping):
        raise InputError(
            f"feeds must be a mapping from input names to values, not {shown(feeds)}; "
            "or pass the values as keyword arguments (x=2.0)"
        )
    if any(type(k) is Node for k in feeds):
        feeds = _by_name(feeds, g)
    return {**feeds, **inputs}


def _by_name(feeds: Mapping[Any, Any], g: Graph | None) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    for k, v in feeds.items():
        if type(k) is Node:
            if g is not None and k.graph is not g:
                raise InputError(foreign(k, g, "feeds"))
            k = k.name
        if k in out:
            raise InputError(f"feeds give {k!r} twice (by name and by node)")
        out[k] = v
    return out


def plan(graph: Graph, keep: Collection[str] | None = None) -> Plan:
    """The cached :class:`Plan` of ``graph`` keeping ``keep`` (all nodes when None)."""
    key = ("plan", None if keep is None else tuple(keep))
    return graph._cached(key, lambda: Plan(graph, keep))


def check_input(name: str, value: Any, shape: Any, *, nonfinite: str = "raise", allow: bool = True,
                role: str = "input") -> Any:
    """``value`` as a float numpy value, checked against the declared ``shape``;
    ``allow``: whether the caller takes ``nonfinite='propagate'`` (the error says so);
    ``role``: what the error calls the source (``param 'W'``)."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - anything numpy refuses is bad input
        raise InputError(f"{role} {name!r}: cannot convert {type(value).__name__} to an array ({exc})") from None
    if arr.dtype == object:
        arr = _numeric(name, arr, role)
    if arr.dtype.kind in "biu":
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise InputError(f"{role} {name!r}: expected real numbers, got {_what(value, arr)}")
    if shape is not None:
        if not _of_shape(shape, arr.shape):
            raise InputError(f"{role} {name!r}: expected shape {_fmt(shape)}, got {arr.shape}" + _column_hint(shape, arr))
    if nonfinite == "raise" and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(np.atleast_1d(arr)))[0]
        where = "" if arr.ndim == 0 else f" at index {tuple(int(i) for i in bad)}"
        value = np.atleast_1d(arr)[tuple(bad)]
        hint = "; pass nonfinite='propagate' to allow NaN/Inf" if allow else ""
        raise InputError(f"{role} {name!r} is not finite ({value}{where}){hint}")
    return arr[()] if arr.ndim == 0 else arr


def _what(value: Any, arr: np.ndarray) -> str:
    """What a value that holds no real numbers is: ``dtype <U3`` said nothing of a Graph or a str."""
    if isinstance(value, (np.ndarray, np.generic, list, tuple)):
        return f"dtype {arr.dtype}"
    if isinstance(value, str):
        return f"the text {value[:20]!r}{'...' if len(value) > 20 else ''}"
    kind = type(value).__name__
    return f"{'an' if kind[:1] in 'aeiou' else 'a'} {kind}" + (
        " (a graph is no value: cg.evaluate it for its values)" if kind == "Graph" else "")


def _numeric(name: str, arr: np.ndarray, role: str) -> np.ndarray:
    """An object array (Python ints past int64, Fractions, None...) as float64 when it
    holds real numbers only; else unchanged, and the caller names its dtype."""
    for v in arr.flat:
        if v is None:
            raise InputError(f"{role} {name!r}: expected real numbers, got None")
        if not isinstance(v, numbers.Real):
            return arr
    try:
        return arr.astype(np.float64)
    except OverflowError:
        big = next(v for v in arr.flat if not _fits_float(v))
        try:
            text = str(big) if len(str(big)) <= 20 else str(big)[:12] + "..."
        except ValueError:  # str() of an int past 4300 digits
            text = shown(big)
        raise InputError(f"{role} {name!r}: {text} is too large for a float") from None


def _fits_float(v: Any) -> bool:
    try:
        float(v)
    except OverflowError:
        return False
    return True


def _of_shape(shape: tuple, got: tuple) -> bool:
    """``got`` is of the declared ``shape`` (a ``None`` entry: any length, the batch)."""
    return len(got) == len(shape) and all(d is None or d == a for d, a in zip(shape, got))


def _column_hint(shape: tuple, arr: np.ndarray) -> str:
    """How to turn a vector into the column a shape such as (batch, 1) asks for (the
    targets Y of a one-output network, given as cg.nn.train takes them), or back."""
    if shape and shape[-1] == 1 and _of_shape(shape[:-1], arr.shape):
        return " (a column: reshape it with .reshape(-1, 1))" if arr.ndim == 1 else " (add the last axis of 1)"
    if arr.ndim and arr.shape[-1] == 1 and _of_shape(shape, arr.shape[:-1]):
        return " (drop the last axis of 1: .reshape(-1))" if arr.ndim == 2 else " (drop the last axis of 1)"
    return ""


def _fmt(shape: tuple) -> str:
    return "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _const(value: Any) -> Any:
    # Python floats keep float32 arithmetic float32 (numpy's weak scalars); exact ints and
    # Fractions evaluate as floats, and those past the floats (10**400) as inf, which the
    # NaN/Inf policy then reports (not a bare OverflowError)
    if isinstance(value, (int, Fraction)):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    return read_only(value) if isinstance(value, np.ndarray) else value


def read_only(a: np.ndarray) -> np.ndarray:
    """A read-only view of a constant's array: its value (``vals["c"]``), or a view of
    it (a reshape, a slice), handed to the caller must not let a write change the
    graph's constant, which every later evaluation, gradient and compiled call reads.

    Examples
    --------
    >>> a = np.zeros(2)
    >>> v = read_only(a)
    >>> v.flags.writeable, a.flags.writeable, np.shares_memory(v, a)
    (False, True, True)
    """
    view = a.view()
    view.flags.writeable = False
    return view


def _kwargs(attrs: Mapping) -> dict:
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in attrs.items()}


def _extra_message(g: Graph, extra: list[str]) -> str:
    parts = []
    for k in extra:
        if k in g.nx:
            role = g.nx.nodes[k]["role"]
            parts.append(f"{k!r} is {'an' if role[0] in 'aeiou' else 'a'} {role} node, not an input")
        else:
            parts.append(f"{k!r} is not a node of graph {g.name!r}")
    inputs = ", ".join(g.inputs + g.params) or "none"
    return "unexpected input(s): " + "; ".join(parts) + f" (inputs: {inputs})" + _run_together(g, extra)


def _run_together(g: Graph, extra: list[str]) -> str:
    """``"; 'xz' is one name: ..."`` for an input whose name is given names run together:
    exp(xz), the lecture's e^{xz} typed as on paper, has one input 'xz', not x and z."""
    names = {k for k in extra if isinstance(k, str) and k} | set(g.inputs)
    hints = []
    for n in g.inputs:
        if len(n) > 24:
            continue
        split: dict[int, list[str]] = {0: []}  # prefix length -> the names it splits into
        for i in range(len(n)):
            if i in split:
                for k in names:
                    if k != n and n.startswith(k, i) and i + len(k) not in split:
                        split[i + len(k)] = [*split[i], k]
        parts = split.get(len(n))
        if parts and any(k in extra for k in parts):
            hints.append(f"; {n!r} is one name: to multiply, write {'*'.join(parts)}")
    return "".join(hints)


def _nonfinite_consts(g: Graph, consts: list, order: tuple, ops: list, operands: Mapping, keep: set) -> list:
    """The message of a DomainError per NaN/Inf constant the plan uses: numpy propagates NaN
    without a floating-point error, so the run's errstate would not see it. (Messages, not
    errors: an exception object raised on every run would grow its traceback run by run,
    keeping every frame and its arrays alive.)"""
    bad = [(order[i], v) for i, v in consts if not np.isfinite(np.asarray(v, dtype=np.float64)).all()]
    if not bad:
        return []
    used = keep | {o for n in ops for o in operands[n]}
    errors = []
    for n, v in bad:
        if n in used:
            exact = g.nx._node[n]["attrs"]["value"]
            if isinstance(exact, (int, Fraction)):  # past the floats: its digits, shortened
                try:
                    text = f"{str(exact)[:13]}..."
                except ValueError:  # str() of an int past 4300 digits
                    text = shown(exact)
                what = f"{text} is too large for a float"
            else:
                value = np.asarray(v, dtype=np.float64)
                what = value if value.ndim == 0 else value[~np.isfinite(value)][0]
            errors.append(
                f"node {n!r} (const) is not finite ({what}); pass nonfinite='propagate' to keep numpy's nan/inf"
            )
    return errors


def _shape_reason(data: Mapping[str, Any], shapes: list, exc: Exception) -> str:
    """Why a node's operands of these shapes failed: its op's shape rule's reason (the
    message building the graph with these shapes gives, ``inner dimensions (2, 3) @ (2, 3)
    do not match (3 != 2)``), or numpy's where the rule accepts them."""
    try:
        OPS[data["op"]].shape(*shapes, **data["attrs"])
    except (ValueError, TypeError) as rule:
        return str(rule)
    return str(exc).strip()


def _domain_error(g: Graph, node: str, args: list, attrs: dict) -> DomainError:
    op = OPS[g.nx.nodes[node]["op"]]
    with np.errstate(all="ignore"):
        out = np.asarray(op.eval(*args, **attrs))
    where, vals = "", args
    bad = np.argwhere(~np.isfinite(out)) if out.ndim else []
    if len(bad):
        idx = tuple(int(i) for i in bad[0])
        where = f" at index {idx}"
        vals = [_element(a, out.shape, idx) for a in args]
    what = out[tuple(bad[0])] if len(bad) else out
    operands = ", ".join(f"{_shown_name(g, o)}={_short(v)}" for o, v in zip(g.operands(node), vals))
    domain = f" (defined for {op.domain})" if op.domain else ""
    from .adjoint import derivative_part  # (an error's path only)

    part = derivative_part(g, node)  # a node of a derivative: which one, from which node's rule
    if not len(bad) and np.isfinite(out).all():  # a step inside the op overflowed, not its value
        return DomainError(
            f"node {node!r} ({op.name}): a floating-point overflow inside {op.name}({operands}) (its value is"
            f" finite){part}; pass nonfinite='propagate' to accept it"
        )
    return DomainError(
        f"node {node!r} ({op.name}) is not finite{where}: {op.name}({operands}) = {what}{domain}{part};"
        " pass nonfinite='propagate' to keep numpy's nan/inf"
    )


def _shown_name(g: Graph, n: str) -> str:
    """The name an operand prints as: a guard of the pow rule (``replace_zero_if``, printed
    as its operand) by its operand's, so the error reads ``log(x=0)`` as the rule prints."""
    nodes = g.nx.nodes
    while nodes[n].get("op") in OPS and OPS[nodes[n]["op"]].transparent:
        n = g.operands(n)[0]
    return n


def _element(a: Any, shape: tuple, idx: tuple) -> Any:
    """The element of operand ``a`` behind element ``idx`` of an elementwise op's value;
    the whole operand for an op whose value does not broadcast from it (a reduction)."""
    if np.shape(a) == ():
        return a
    try:
        return np.broadcast_to(a, shape)[idx]
    except ValueError:
        return a


def _short(v: Any) -> str:
    v = np.asarray(v)
    return f"{v.item():g}" if v.ndim == 0 else f"array{v.shape}"
