"""``check_gradients``: the lecture's advice, "use finite differences to unit test your
backpropagation", as a report comparing ``grad`` with ``finite_difference``."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checks import finite_number
from ..errors import ArgumentError, no_nonfinite_hint
from ..graph import Graph, require_graph
from .evaluate import scalar_text, unsigned_zero
from .finite_diff import finite_difference, reference_dtype, upcast
from .grad import grad
from .plan import merge_feeds

#: how many rows ``str(report)`` shows before it keeps only the worst ones
MAX_ROWS = 40

#: the default tolerances where every value fed is float64 (or wider)
RTOL, ATOL = 1e-5, 1e-8


@dataclass(frozen=True, slots=True)
class GradientRow:
    """One gradient element: the adjoint's value (a number of the gradient's dtype, so
    a float32 gradient prints with float32's digits) against the central difference;
    for float16 and float32 values also ``analytic64``, the same graph's gradient in
    float64 on the values upcast (``None`` otherwise). The errors are ``analytic``'s."""

    input: str
    index: tuple[int, ...]
    analytic: float | np.floating
    numeric: float
    abs_error: float
    rel_error: float
    ok: bool
    analytic64: float | None = None


@dataclass(frozen=True)
class GradientReport:
    """The result of :func:`check_gradients`; ``str(report)`` is an aligned table.

    ``dtype`` is the least precise float dtype among the values fed, which the analytic
    gradients are rounded in and the default tolerances are chosen for; ``numeric_dtype``
    the one the central differences were taken in (float64 for float16 and float32), on
    the values of the dtypes in ``upcast`` upcast; ``given``, the tolerances the caller
    passed (the others are ``dtype``'s defaults).
    With ``atol_scale`` (``{input: max(1, largest |numeric| of its elements)}``), an
    element of input ``w`` passes when ``|analytic - numeric| <= atol * atol_scale[w] +
    rtol * |numeric|``; without it, ``atol`` is absolute. With ``tolerances64``
    (``(rtol, atol)``, for float16 and float32 values), its ``analytic64`` must also pass
    ``|analytic64 - numeric| <= atol + rtol * |numeric|`` with them: the derivative rules,
    checked at float64's precision.
    """

    rows: list[GradientRow]
    rtol: float
    atol: float
    warnings: list[str] = field(default_factory=list)
    dtype: str = "float64"
    numeric_dtype: str = "float64"
    upcast: tuple[str, ...] = ()
    atol_scale: dict[str, float] | None = None
    given: tuple[str, ...] = ()
    tolerances64: tuple[float, float] | None = None

    @property
    def ok(self) -> bool:
        """True when every element passes ``|analytic - numeric| <= atol + rtol*|numeric|``
        (``atol`` times ``atol_scale`` of its input, where there is one; and its
        ``analytic64`` at ``tolerances64``, where there are)."""
        return all(r.ok for r in self.rows)

    @property
    def max_rel_error(self) -> float:
        """The largest relative error ``|a - n| / max(|a|, |n|)`` over all elements (NaN if
        one of them is: a difference quotient outside the function's domain)."""
        return _largest([r.rel_error for r in self.rows])

    @property
    def max_abs_error(self) -> float:
        """The largest absolute error over all elements (NaN if one of them is)."""
        return _largest([r.abs_error for r in self.rows])

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        rows = self.rows
        note = ""
        if len(rows) > MAX_ROWS:
            # failures first, NaN errors before all others (a NaN in the key would leave
            # sorted() an order that is no order, and could drop them)
            worst = sorted(range(len(rows)), key=lambda i: (
                rows[i].ok, rows[i].rel_error == rows[i].rel_error, -rows[i].rel_error))[:MAX_ROWS]
            note = f"({len(rows) - MAX_ROWS} more rows with smaller errors not shown)"
            rows = [rows[i] for i in sorted(worst)]
        upcast = bool(self.upcast)
        kinds = {np.asarray(r.analytic).dtype.name for r in self.rows}
        header = ("input", "index", f"analytic ({kinds.pop()})" if upcast and len(kinds) == 1 else "analytic",
                  *([f"analytic ({self.numeric_dtype})"] if upcast else []),
                  f"numeric ({self.numeric_dtype})" if upcast else "numeric", "abs error", "rel error", "ok")
        cells = [header] + [
            (r.input, _index(r.index), _unsigned(r.analytic),
             *([_unsigned(r.analytic64) if r.analytic64 is not None else ""] if upcast else []),
             _unsigned(r.numeric), f"{r.abs_error:.2e}", f"{r.rel_error:.2e}", "yes" if r.ok else "NO")
            for r in rows
        ]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        if note:
            lines.append(note)
        failed = sum(not r.ok for r in self.rows)
        verdict = "all gradients match" if not failed else f"FAILED: {failed} of {len(self.rows)} elements differ"
        lines.append(f"{verdict} (max rel error {self.max_rel_error:.2e}; {self._tolerance_text()})")
        if upcast:
            lines.append(f"numeric: central differences in {self.numeric_dtype} on the {' and '.join(self.upcast)} "
                         f"inputs, upcast exactly; analytic ({self.numeric_dtype}): the same graph's gradient there")
        return "\n".join(lines + [f"warning: {w}" for w in self.warnings])

    def _tolerance_text(self) -> str:
        """The tolerances the elements were held to, as the summary line says them."""
        if not self.upcast:  # float64: as it always read
            return f"rtol={self.rtol:g}, atol={self.atol:g}"

        def pair(rtol: float, atol: float, scaled: bool) -> str:
            given = {k: " (given)" if k in self.given else "" for k in ("rtol", "atol")}
            scale = " x max(1, largest |numeric| of its input)" if scaled else ""
            return f"rtol={rtol:g}{given['rtol']}, atol={atol:g}{given['atol']}{scale}"

        text = f"{self.dtype} gradient: {pair(self.rtol, self.atol, self.atol_scale is not None)}"
        if self.tolerances64 is not None:
            text += f"; {self.numeric_dtype} gradient: {pair(*self.tolerances64, False)}"
        return text

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def check_gradients(
    g: Graph,
    /,
    wrt: Sequence[str] | str | None = None,
    feeds: Mapping[str, Any] | None = None,
    *,
    of: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    eps: float | None = None,
    **inputs: Any,
) -> GradientReport:
    """Compare the adjoint's gradients with central finite differences.

    The differences are taken in float64 on the same graph, with float16 and float32
    values upcast (exactly), so they are an accurate reference also for a float32
    model. There each element is checked twice: the float32 gradient at float32's
    tolerances (those of the least precise float value fed, inputs and params, fed or
    stored), and the same graph's gradient evaluated in float64 on the upcast values at
    float64's, which checks the derivative rules also where a float32 gradient is all
    rounding (near a minimum, where its elements are sums that cancel).

    Parameters
    ----------
    g : Graph
    wrt : name or Node, or a list of them, optional
        Default: every input and param.
    feeds : mapping, optional
        Input values by name or node (an alternative to keywords).
    of : str or Node, optional
        The scalar node to differentiate (default: the single output).
    rtol, atol : float, optional
        An element passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
        Given, they are used as they are (for both checks of a float16 or float32
        gradient). By default, for float64 values: ``rtol=1e-5, atol=1e-8``. For
        float32 ``rtol=3e-4`` and for float16 ``rtol=0.03`` (about ``sqrt(eps)`` of the
        dtype), and ``atol`` the same number times ``max(1, largest |numeric|)`` of the
        element's input: rounding in a low-precision forward and backward pass errs by
        a multiple of eps of the terms a gradient element sums, not of the element,
        which may cancel to near 0 (under 1e-6 of a gradient's largest element in
        float32 in the test suite's MLPs; in a net trained to a minimum, up to 1e-2
        of it). The float64 gradient is held to ``rtol=1e-5, atol=1e-8``, so a wrong
        derivative rule fails at any scale.
    eps : float, optional
        The finite-difference step (default ``cbrt(eps64) * max(1, |x|)``, about
        ``6e-6 * max(1, |x|)``).
    **inputs
        Input values. Avoid kinks (``relu``, ``abs`` at 0): there the adjoint takes
        the subgradient 0 and the central difference averages the two sides.

    Returns
    -------
    GradientReport
        ``.ok``, ``.max_rel_error``, ``.rows`` (one :class:`GradientRow` per input
        element); ``str(report)`` is an aligned table, its last lines say the
        tolerances and, for float16 or float32 values, how the numeric and the float64
        side were computed.

    Warns
    -----
    UserWarning
        For float16 values: the float16 gradient itself is checked to a few percent
        only (the derivative rules, in float64, as for float32).

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph()
    >>> x, z = g.input("x"), g.input("z")
    >>> _ = g.output(cg.exp(x * z) + x * z / cg.log(x), name="y")
    >>> report = cg.check_gradients(g, x=2.0, z=3.0)
    >>> report.ok, report.max_rel_error < 1e-8
    (True, True)
    >>> print(str(report).splitlines()[0])
    input  index  analytic            numeric             abs error  rel error  ok

    A float32 model is checked against float64 differences, at float32's tolerances:

    >>> import numpy as np
    >>> W = np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32)
    >>> report = cg.check_gradients(cg.parse("y = sum(tanh(W @ x)^2)"), W=W, x=np.ones(2, np.float32))
    >>> report.ok
    True
    >>> for line in str(report).splitlines()[-2:]:
    ...     print(line)
    all gradients match (max rel error ...; float32 gradient: rtol=0.0003, atol=0.0003 x max(1, largest |numeric| of its input); float64 gradient: rtol=1e-05, atol=1e-08)
    numeric: central differences in float64 on the float32 inputs, upcast exactly; analytic (float64): the same graph's gradient there
    """
    require_graph(g, "check_gradients")
    for key, tol in (("rtol", rtol), ("atol", atol)):
        if tol is not None and (not finite_number(tol) or tol < 0):
            raise ArgumentError(f"{key} must be a finite number >= 0 or None (the default), not {tol!r}")
    feeds = merge_feeds(feeds, inputs, g)
    values = _source_values(g, feeds)
    dtypes = {n: _dtype(v) for n, v in values.items()}
    low = _low_precision(dtypes)
    dtype = low[0] if low else np.dtype(np.float64)
    reference = reference_dtype(dtype)
    given = tuple(key for key, tol in (("rtol", rtol), ("atol", atol)) if tol is not None)
    default = default_tolerance(dtype)
    scaled = atol is None and bool(low)  # a low-precision gradient's rounding scales with its size
    tolerances64 = (RTOL if rtol is None else float(rtol), ATOL if atol is None else float(atol)) if low else None
    rtol = default[0] if rtol is None else float(rtol)
    atol = default[1] if atol is None else float(atol)
    notes = _precision_warnings(dtypes, rtol)
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    with no_nonfinite_hint():  # check_gradients takes no nonfinite= (it always raises)
        analytic = grad(g, wrt, feeds, of=of)
        exact = None
        if low:  # the same graph's gradient in float64, on the float16 and float32 values upcast
            exact = grad(g, wrt, {**feeds, **{n: upcast(values[n]) for n, d in dtypes.items() if _low(d)}}, of=of)
    numeric = finite_difference(g, wrt, eps, feeds, of=of)
    rows = []
    scales = {}
    for name, fd in numeric.items():
        ad = np.broadcast_to(np.asarray(analytic[name]), np.shape(fd))
        fd = np.asarray(fd, dtype=np.float64)
        scales[name] = max(1.0, _largest_finite(fd))
        bound = atol * scales[name] if scaled else atol
        ex = None if exact is None else np.broadcast_to(np.asarray(exact[name], dtype=np.float64), np.shape(fd))
        for index in np.ndindex(fd.shape):
            a, n = float(ad[index]), float(fd[index])
            err = abs(a - n)
            scale = max(abs(a), abs(n))
            ok = err <= bound + rtol * abs(n)
            a64 = None
            if ex is not None:
                a64 = float(ex[index])
                ok = ok and abs(a64 - n) <= tolerances64[1] + tolerances64[0] * abs(n)
            rows.append(GradientRow(name, tuple(int(i) for i in index), ad[index], n, err,
                                    err / scale if scale else 0.0, bool(ok), a64))
    return GradientReport(rows, rtol, atol, notes, dtype=dtype.name, numeric_dtype=reference.name,
                          upcast=tuple(d.name for d in low), atol_scale=scales if scaled else None, given=given,
                          tolerances64=tolerances64)


def default_tolerance(dtype: Any) -> tuple[float, float]:
    """``(rtol, atol)`` for gradients computed in ``dtype``: ``(1e-5, 1e-8)`` for float64
    and wider; for float16 and float32, ``sqrt(eps)`` of the dtype rounded to one
    digit (3e-4 and 0.03) for both, the ``atol`` to be taken times ``max(1, largest
    |numeric|)`` of an input.

    ``sqrt(eps)`` leaves room for rounding errors of hundreds of eps in float32 (the
    test suite's MLPs, softmax cross-entropies and matrix products show under 10 eps of
    a gradient's largest element) while an error of a wrong rule, near 100%, fails.

    Examples
    --------
    >>> default_tolerance(np.float64), default_tolerance(np.float32), default_tolerance(np.float16)
    ((1e-05, 1e-08), (0.0003, 0.0003), (0.03, 0.03))
    """
    dtype = np.dtype(dtype)
    if reference_dtype(dtype) == dtype:
        return RTOL, ATOL
    tol = float(f"{np.sqrt(np.finfo(dtype).eps):.0e}")  # 3.5e-4 and 0.031 to one digit
    return tol, tol


def _source_values(g: Graph, feeds: Mapping[str, Any]) -> dict[str, Any]:
    """``{name: value}`` of ``g``'s inputs and params: fed, or a param's stored value."""
    return {n: feeds[n] if n in feeds else data["attrs"].get("value")
            for n, data in g.nx.nodes(data=True) if data["role"] in ("input", "param")}


def _low(dtype: Any) -> bool:
    """A float dtype less precise than float64 (``None``, what numpy refuses, is not)."""
    return dtype is not None and dtype.kind == "f" and reference_dtype(dtype) != dtype


def _low_precision(dtypes: dict[str, Any]) -> list[np.dtype]:
    """The float dtypes less precise than float64 among ``dtypes``, least precise first:
    the analytic gradients carry its rounding. Integers count as float64, as evaluate
    makes them."""
    return sorted({d for d in dtypes.values() if _low(d)}, key=lambda d: -np.finfo(d).eps)


def _largest_finite(values: np.ndarray) -> float:
    """The largest ``|v|`` of the finite ``values`` (0.0 if there is none)."""
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size else 0.0


def _precision_warnings(dtypes: dict[str, Any], rtol: float) -> list[str]:
    """Where a check stays coarse: float16 values, whose gradients carry rounding errors
    of up to about 1% of their largest element (the float64 gradient still checks the
    rules)."""
    low = [n for n, d in dtypes.items() if d == np.float16]
    if not low:
        return []
    return [f"{', '.join(map(repr, low))} {'is' if len(low) == 1 else 'are'} float16: the float16 gradient is checked "
            f"to rtol={rtol:g} only, as its rounding reaches 1% of its largest element (the derivative rules are "
            "checked in float64 all the same); check in float32 for a finer check of the gradient itself"]


def _dtype(value: Any) -> Any:
    """The dtype numpy gives ``value``; ``None`` for what numpy refuses (a ragged list), which
    ``grad`` then reports as an ``InputError`` naming the input."""
    try:
        return np.asarray(value).dtype
    except (TypeError, ValueError):
        return None


def _largest(errors: list[float]) -> float:
    """The largest error, NaN if any is NaN (Python's max skips a NaN that is not first)."""
    return float(np.max(errors)) if errors else 0.0


def _unsigned(value: Any) -> str:
    """A derivative's value as text, a zero without its sign."""
    return scalar_text(unsigned_zero(value))


def _index(index: tuple[int, ...]) -> str:
    return "" if not index else "[" + ", ".join(map(str, index)) + "]"
