"""Evaluation plans: a graph compiled once into a flat schedule of numpy calls.

Operands are resolved to slots and op functions bound ahead of time; a slot is released
after its last use unless its value is asked for, so peak memory stays near the forward
pass's. Plans are cached on the graph and rebuilt when it changes.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from fractions import Fraction
from typing import Any

import numpy as np

from ..errors import DomainError, InputError, ShapeError
from ..graph import Graph
from ..ops.registry import OPS

NONFINITE = ("raise", "propagate")


class Plan:
    """A compiled forward schedule of ``graph`` that returns the values of ``keep``."""

    __slots__ = ("graph", "keep", "steps", "sources", "consts", "n_slots", "keep_slots", "feedable")

    def __init__(self, graph: Graph, keep: Collection[str] | None = None) -> None:
        graph.validate()
        order = graph.schedule()
        slot = {n: i for i, n in enumerate(order)}
        nodes = graph.nx.nodes
        self.graph = graph
        self.keep = tuple(order) if keep is None else tuple(keep)
        keep_set = set(self.keep)
        self.n_slots = len(order)
        self.keep_slots = [(n, slot[n]) for n in self.keep]
        self.sources = [(n, slot[n], nodes[n]) for n in order if nodes[n]["role"] in ("input", "param")]
        self.feedable = {n for n, _, _ in self.sources}
        self.consts = [(slot[n], _const(nodes[n]["attrs"]["value"])) for n in order if nodes[n]["op"] == "const"]
        last_use: dict[str, int] = {}
        ops = [n for n in order if nodes[n]["role"] == "op"]
        for i, n in enumerate(ops):
            for o in graph.operands(n):
                last_use[o] = i
        frees: list[list[int]] = [[] for _ in ops]
        for o, i in last_use.items():
            if o not in keep_set:
                frees[i].append(slot[o])
        self.steps = [
            (slot[n], OPS[nodes[n]["op"]].eval, tuple(slot[o] for o in graph.operands(n)),
             _kwargs(nodes[n]), tuple(frees[i]), n)
            for i, n in enumerate(ops)
        ]

    def run(self, feeds: Mapping[str, Any], *, nonfinite: str = "raise") -> dict[str, Any]:
        """Evaluate with ``feeds`` (inputs and params by name) and return the kept values."""
        if nonfinite not in NONFINITE:
            raise ValueError(f"nonfinite must be one of {NONFINITE}, not {nonfinite!r}")
        env: list[Any] = [None] * self.n_slots
        self._feed(env, feeds, nonfinite)
        for s, value in self.consts:
            env[s] = value
        step = None
        try:
            if nonfinite == "raise":
                with np.errstate(divide="raise", over="raise", invalid="raise", under="ignore"):
                    for step in self.steps:
                        out, fn, args, kw, free, _ = step
                        env[out] = fn(*[env[a] for a in args], **kw)
                        for f in free:
                            env[f] = None
            else:
                with np.errstate(all="ignore"):
                    for step in self.steps:
                        out, fn, args, kw, free, _ = step
                        env[out] = fn(*[env[a] for a in args], **kw)
                        for f in free:
                            env[f] = None
        except FloatingPointError:
            raise _domain_error(self.graph, step[5], [env[a] for a in step[2]], step[3]) from None
        except (ValueError, IndexError, TypeError) as exc:
            if step is None:
                raise
            shapes = ", ".join(f"{o!r} {np.shape(env[a])}" for o, a in zip(self.graph.operands(step[5]), step[2]))
            node = step[5]
            raise ShapeError(f"node {node!r} ({self.graph.nx.nodes[node]['op']}) of {shapes}: {exc}") from None
        return {n: env[s] for n, s in self.keep_slots}

    def _feed(self, env: list, feeds: Mapping[str, Any], nonfinite: str) -> None:
        extra = [k for k in feeds if k not in self.feedable]
        if extra:
            raise InputError(_extra_message(self.graph, extra))
        missing = []
        for name, s, data in self.sources:
            if name in feeds:
                value = feeds[name]
            elif data["role"] == "param" and data["attrs"].get("value") is not None:
                value = data["attrs"]["value"]
            else:
                missing.append(name)
                continue
            env[s] = check_input(name, value, data["shape"], nonfinite=nonfinite)
        if missing:
            raise InputError(f"graph {self.graph.name!r} is missing input(s) {', '.join(map(repr, missing))}")


def plan(graph: Graph, keep: Collection[str] | None = None) -> Plan:
    """The cached :class:`Plan` of ``graph`` keeping ``keep`` (all nodes when None)."""
    key = ("plan", None if keep is None else tuple(keep))
    return graph._cached(key, lambda: Plan(graph, keep))


def check_input(name: str, value: Any, shape: Any, *, nonfinite: str = "raise") -> Any:
    """``value`` as a float numpy value, checked against the declared ``shape``."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # noqa: BLE001 - anything numpy refuses is bad input
        raise InputError(f"input {name!r}: cannot convert {type(value).__name__} to an array ({exc})") from None
    if arr.dtype.kind in "biu" or arr.dtype == object and _numeric(arr):
        arr = arr.astype(np.float64)
    elif arr.dtype.kind != "f":
        raise InputError(f"input {name!r}: expected real numbers, got dtype {arr.dtype}")
    if shape is not None:
        ok = arr.ndim == len(shape) and all(d is None or d == a for d, a in zip(shape, arr.shape))
        if not ok:
            raise InputError(f"input {name!r}: expected shape {_fmt(shape)}, got {arr.shape}")
    if nonfinite == "raise" and not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(np.atleast_1d(arr)))[0]
        where = "" if arr.ndim == 0 else f" at index {tuple(int(i) for i in bad)}"
        value = np.atleast_1d(arr)[tuple(bad)]
        raise InputError(
            f"input {name!r} is not finite ({value}{where}); pass nonfinite='propagate' to allow NaN/Inf"
        )
    return arr[()] if arr.ndim == 0 else arr


def _numeric(arr: np.ndarray) -> bool:
    try:
        arr.astype(np.float64)
    except (TypeError, ValueError):
        return False
    return True


def _fmt(shape: tuple) -> str:
    return "(" + ", ".join("batch" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def _const(value: Any) -> Any:
    # Python floats keep float32 arithmetic float32 (numpy's weak scalars); exact ints and
    # Fractions evaluate as floats
    if isinstance(value, (int, Fraction)):
        return float(value)
    return value


def _kwargs(data: Mapping) -> dict:
    attrs = data["attrs"]
    return {k: (tuple(v) if isinstance(v, list) else v) for k, v in attrs.items()}


def _extra_message(g: Graph, extra: list[str]) -> str:
    parts = []
    for k in extra:
        if k in g.nx:
            parts.append(f"{k!r} is a {g.nx.nodes[k]['role']} node, not an input")
        else:
            parts.append(f"{k!r} is not a node of graph {g.name!r}")
    inputs = ", ".join(g.inputs + g.params) or "none"
    return "unexpected input(s): " + "; ".join(parts) + f" (inputs: {inputs})"


def _domain_error(g: Graph, node: str, args: list, attrs: dict) -> DomainError:
    op = OPS[g.nx.nodes[node]["op"]]
    with np.errstate(all="ignore"):
        out = np.asarray(op.eval(*args, **attrs))
    where, vals = "", args
    bad = np.argwhere(~np.isfinite(out)) if out.ndim else []
    if len(bad):
        idx = tuple(int(i) for i in bad[0])
        where = f" at index {idx}"
        vals = [np.broadcast_to(a, out.shape)[idx] if np.shape(a) != () else a for a in args]
    what = out[tuple(bad[0])] if len(bad) else out
    operands = ", ".join(f"{o}={_short(v)}" for o, v in zip(g.operands(node), vals))
    domain = f" (defined for {op.domain})" if op.domain else ""
    return DomainError(
        f"node {node!r} ({op.name}) is not finite{where}: {op.name}({operands}) = {what}{domain};"
        " pass nonfinite='propagate' to keep numpy's nan/inf"
    )


def _short(v: Any) -> str:
    v = np.asarray(v)
    return f"{v.item():g}" if v.ndim == 0 else f"array{v.shape}"
