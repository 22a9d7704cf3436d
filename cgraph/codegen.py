"""The helpers ``cg.compile``'s generated code calls, and what it needs to know of the
code beyond one op's: an op's own code is in its definition (``OpDef.code_math``,
``OpDef.code``, the names they call in ``OpDef.code_names``)."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import DomainError, InputError, no_nonfinite_hint
from .ops.registry import OPS, float_dtype
from .passes.adjoint import fit_to
from .passes.plan import check_input, plan

if TYPE_CHECKING:
    from .graph import Graph


@functools.cache  # compile asks per operand of every node; the answer is per (op, position)
def keeps_nonfinite(op: str, position: int) -> bool:
    """Whether a non-finite operand at ``position`` of ``op`` shows in its scalar code's
    value (or makes it raise), so that the value need not be checked separately."""
    keeps = OPS[op].keeps_nonfinite
    if keeps == "all":
        return position not in OPS[op].shape_operands  # a shape shows nothing of the values
    return position in keeps


def weak(value: Any) -> Any:
    """A 0-d result of constants as a Python float, as the evaluation plan keeps it.
    Python's own + - * / of floats overflow to inf without an error where the plan's
    numpy raises: a non-finite one raises FloatingPointError (the caller's slow path
    then names the node)."""
    if np.ndim(value) != 0:
        return value
    value = float(value)
    if not math.isfinite(value):
        raise FloatingPointError(f"a value of constants is not finite ({value})")
    return value


def fresh(value: Any, like: Any) -> Any:
    """A gradient of the shape of its input ``like``, as an array of its own in the input's
    dtype, as ``grad`` gives it: a view (of an input, ``transpose(z)``, or a read-only
    broadcast, ``expand_to(1, x)``) is copied, another dtype (float64 for a float16 input)
    goes to ``fit_to``."""
    if type(value) is np.ndarray:
        if value.dtype == like.dtype:
            return value if value.flags.owndata else value.copy()
    elif type(value) is type(like):  # a numpy scalar of the input's type
        return value
    return fit_to(value, np.shape(like), None, like)


def promote(value: Any, *others: Any) -> Any:
    """``value`` in the dtype numpy's promotion gives it together with ``others``: an output
    whose simplified form no longer reads them (``x - x + z``) in the dtype ``evaluate``
    gives it; a Python float becomes a numpy value."""
    dtype = np.result_type(value, *others)
    if type(value) is not float and np.result_type(value) == dtype:
        return value
    out = np.asarray(value, dtype=dtype)
    return out[()] if out.ndim == 0 else out


class _Unset:
    def __repr__(self) -> str:
        return "<the param's value in the graph>"


#: the default of a param argument of ``positional``: take the param's value in the graph
UNSET = _Unset()


def param_value(value: Any, attrs: Mapping) -> Any:
    """A param's fed ``value``, else (``UNSET``) its value in the graph (KeyError if none)."""
    if value is not UNSET:
        return value
    value = attrs.get("value")
    if value is None:
        raise KeyError("value")
    return value


#: ops whose operands' signs fold into their code exactly (IEEE arithmetic is symmetric:
#: a + (-b) == a - b, (-a) * b == -(a * b), (-a) / b == -(a / b), bit for bit)
SIGNED = frozenset({"add", "sub", "mul", "div", "neg"})


def signed(op: str, args: list[str], negated: list[bool], may_negate: bool) -> tuple[str, bool]:
    """The code of ``op`` (in ``SIGNED``) over operands whose values are ``-arg`` where
    ``negated``, and whether the code's value is minus the op's value (only when
    ``may_negate``, except for ``neg`` itself, whose code is then its operand's)."""
    if op == "neg":  # -(-a) is a; -a is left for the user to fold in where it may be
        if negated[0]:
            return args[0], False
        return (args[0], True) if may_negate else ("-" + args[0], False)
    if op in ("mul", "div"):
        negative = sum(negated) % 2 == 1
        code = (" * " if op == "mul" else " / ").join(args)
        if negative and not may_negate:
            return "-" + code, False  # -a * b parses as (-a) * b: the same bits as -(a * b)
        return code, negative
    terms = list(zip(negated, args))
    if op == "sub":
        terms[1] = (not terms[1][0], terms[1][1])
    negative = False
    if terms[0][0]:
        if not terms[1][0]:  # -a + b + c == b - a + c: only the first two swap, so the rounding is the same
            terms[0], terms[1] = terms[1], terms[0]
        elif may_negate:  # -a - b + c == -(a + b - c)
            terms = [(not s, a) for s, a in terms]
            negative = True
    first = ("-" if terms[0][0] else "") + terms[0][1]
    return first + "".join((" - " if s else " + ") + a for s, a in terms[1:]), negative


def unslice_sum(like: Any, cover: bool, *parts: Any) -> np.ndarray:
    """``unslice(g1, like, i1) + unslice(g2, like, i2) + ...`` in one buffer, for
    ``parts = g1, i1, g2, i2, ...`` (numpy basic indices); ``cover``: the indices split
    ``like``, so no element needs a zero first. Equal values, added left to right; only
    the sign of a zero may differ."""
    gs = parts[0::2]
    out = (np.empty if cover else np.zeros)(np.shape(like), float_dtype(like, *gs))
    for g, index in zip(gs, parts[1::2]):
        if cover:
            out[index] = g
        else:
            out[index] += g
    return out


def check(name: str, value: Any, shape: tuple | None, role: str = "input") -> Any:
    """``check_input`` with a fast path for a float64/float32 array of the declared shape:
    one dot product tells it is finite (an inf or nan makes ``v . v`` inf or nan; a
    finite ``v . v`` that overflows only costs the full check). Called under
    ``np.errstate(over="raise")``."""
    if type(value) is np.ndarray and value.dtype in _FAST and value.ndim and (
        shape is None or value.ndim == len(shape) and all(d is None or d == a for d, a in zip(shape, value.shape))
    ):
        flat = value.ravel()
        try:
            if math.isfinite(np.dot(flat, flat)):
                return value
        except FloatingPointError:  # the generated code runs under np.errstate(over="raise")
            pass
    if value is UNSET:  # an input left out of positional()
        raise InputError(f"input {name!r} is missing: positional() takes the inputs in order")
    return check_input(name, value, shape, allow=False, role=role)  # a compiled function takes no nonfinite=


_FAST = (np.dtype(np.float64), np.dtype(np.float32))


def fusions(order: list[str], nodes: Mapping, operands: Mapping, uses: Mapping, outputs: set[str]) -> dict:
    """``{add node: its operands}`` for sums of ``unslice`` nodes of one array along one
    axis (the adjoint of ``x[::2]`` and ``x[1::2]``), to be written as one buffer filled in
    (:func:`unslice_sum`); each of those ``unslice`` nodes is used by that sum alone."""
    fused = {}
    for n in order:
        ops = operands.get(n, ())
        if nodes[n]["op"] != "add" or any(
            nodes[o]["op"] != "unslice" or len(uses[o]) != 1 or o in outputs for o in ops
        ):
            continue
        if len({operands[o][1] for o in ops}) == 1 and len({nodes[o]["attrs"]["axis"] for o in ops}) == 1:
            fused[n] = list(ops)  # (an unslice used twice by the sum has two uses: never fused)
    return fused


def covers(d: int, cuts: list[slice]) -> bool:
    """Whether ``cuts`` split ``range(d)``: every index in exactly one of them."""
    ranges = [range(*cut.indices(d)) for cut in cuts]
    k = ranges[0].step
    if all(r.step == k for r in ranges) and sorted(r.start for r in ranges) == list(range(k)):
        return all(len(r) == len(range(r.start, d, k)) for r in ranges)  # x[0::k], x[1::k], ...
    return sum(map(len, ranges)) == d <= 4096 and len(set().union(*ranges)) == d


HELPERS = {"_promote": promote, "_fresh": fresh, "_unslice_sum": unslice_sum, "_check": check, "_weak": weak, "_param": param_value, "_unset": UNSET}


def _float_like(value: Any) -> Any:
    """An input's value as ``fit_to``'s ``like``: its float dtype, float64 for anything else
    (ints, Fractions), as ``check_input`` reads them."""
    value = np.asarray(value)
    return value if value.dtype.kind == "f" else np.float64(0.0)


def support(
    ns: dict, g: Graph, grads: dict[str, str], inputs: list[str], params: list[str], spread: str | None = None,
    explain: Callable[[dict], None] | None = None,
) -> None:
    """Add to ``ns`` the slow paths the generated code calls (closures: nothing to compile
    per graph): ``_fallback`` (the interpreter, for the dict form), ``_slow`` (the same for
    ``positional``), ``_other`` (ints and non-float scalars) and ``_extra`` (params fed by
    keyword, or an unexpected input). ``explain(feeds)``, where given, runs the graph as it
    was before ``simplify`` and raises its DomainError, naming its nodes."""
    names = tuple(inputs + params)
    outputs = tuple(g.outputs)
    known = frozenset(names)

    def fallback(feeds: dict) -> dict:
        # the interpreter: raises the typed error evaluate raises, naming the node
        try:
            with no_nonfinite_hint():  # a compiled function takes no nonfinite=
                values = plan(g, g.outputs + ([spread] if spread is not None else [])).run(feeds)
        except DomainError:
            # simplify renames a node kept as an output (log(x) as g_z, for y = log(x)*z):
            # the error names the node evaluate and grad name, where they fail too
            if explain is not None:
                explain(feeds)
            raise
        shape = None if spread is None else np.shape(values[spread])
        return {o: fit_to(values[o], np.shape(feeds[grads[o]]), shape, _float_like(feeds[grads[o]]))
                if grads.get(o) in feeds else values[o]
                for o in g.outputs}

    def slow(*args: Any) -> tuple:
        values = fallback({n: a for n, a in zip(names, args) if a is not UNSET})
        return tuple(values[o] for o in outputs)

    def other(*args: Any) -> tuple:
        # ints and bools become floats (as evaluate does); anything else takes numpy
        if all(type(a) in (float, int, bool) for a in args):
            try:
                floats = [float(a) for a in args]
            except OverflowError:  # an int past the floats: the array path's check names it
                return ns["_array_path"](*args)
            return ns["positional"](*floats)
        return ns["_array_path"](*args)

    def extra(feeds: dict) -> dict:
        if not known.issuperset(feeds):
            return fallback(feeds)  # raises the InputError that names the unexpected input
        return dict(zip(outputs, ns["positional"](*(feeds.get(n, UNSET) for n in names))))

    ns.update(_fallback=fallback, _slow=slow, _other=other, _extra=extra)
