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
from .adjoint import _resolve_wrt
from .evaluate import scalar_text
from .finite_diff import finite_difference
from .grad import grad
from .plan import merge_feeds

#: how many rows ``str(report)`` shows before it keeps only the worst ones
MAX_ROWS = 40


@dataclass(frozen=True, slots=True)
class GradientRow:
    """One gradient element: the adjoint's value against the central difference."""

    input: str
    index: tuple[int, ...]
    analytic: float
    numeric: float
    abs_error: float
    rel_error: float
    ok: bool


@dataclass(frozen=True)
class GradientReport:
    """The result of :func:`check_gradients`; ``str(report)`` is an aligned table."""

    rows: list[GradientRow]
    rtol: float
    atol: float
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every element passes ``|analytic - numeric| <= atol + rtol*|numeric|``."""
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
        header = ("input", "index", "analytic", "numeric", "abs error", "rel error", "ok")
        cells = [header] + [
            (r.input, _index(r.index), scalar_text(r.analytic), scalar_text(r.numeric), f"{r.abs_error:.2e}",
             f"{r.rel_error:.2e}", "yes" if r.ok else "NO")
            for r in rows
        ]
        widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        if note:
            lines.append(note)
        failed = sum(not r.ok for r in self.rows)
        verdict = "all gradients match" if not failed else f"FAILED: {failed} of {len(self.rows)} elements differ"
        lines.append(
            f"{verdict} (max rel error {self.max_rel_error:.2e}; rtol={self.rtol:g}, atol={self.atol:g})"
        )
        return "\n".join(lines + [f"warning: {w}" for w in self.warnings])

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def check_gradients(
    g: Graph,
    /,
    wrt: Sequence[str] | str | None = None,
    feeds: Mapping[str, Any] | None = None,
    *,
    of: str | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-8,
    eps: float | None = None,
    **inputs: Any,
) -> GradientReport:
    """Compare the adjoint's gradients with central finite differences.

    Parameters
    ----------
    g : Graph
    wrt : name or Node, or a list of them, optional
        Default: every input and param.
    feeds : mapping, optional
        Input values by name or node (an alternative to keywords).
    of : str or Node, optional
        The scalar node to differentiate (default: the single output).
    rtol, atol : float
        An element passes when ``|analytic - numeric| <= atol + rtol * |numeric|``.
        The defaults suit float64; central differences in float32 are too coarse to
        check much (a warning says so).
    eps : float, optional
        The finite-difference step (default ``cbrt(machine eps) * max(1, |x|)``).
    **inputs
        Input values. Avoid kinks (``relu``, ``abs`` at 0): there the adjoint takes
        the subgradient 0 and the central difference averages the two sides.

    Returns
    -------
    GradientReport
        ``.ok``, ``.max_rel_error``, ``.rows`` (one :class:`GradientRow` per input
        element); ``str(report)`` is an aligned table.

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
    """
    require_graph(g, "check_gradients")
    for key, tol in (("rtol", rtol), ("atol", atol)):
        if not finite_number(tol) or tol < 0:
            raise ArgumentError(f"{key} must be a finite number >= 0, not {tol!r}")
    feeds = merge_feeds(feeds, inputs, g)
    notes = _precision_warnings(g, feeds, wrt)
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=2)
    with no_nonfinite_hint():  # check_gradients takes no nonfinite= (it always raises)
        analytic = grad(g, wrt, feeds, of=of)
    numeric = finite_difference(g, wrt, eps, feeds, of=of)
    rows = []
    for name, fd in numeric.items():
        ad = np.broadcast_to(np.asarray(analytic[name], dtype=np.float64), np.shape(fd))
        fd = np.asarray(fd, dtype=np.float64)
        for index in np.ndindex(fd.shape):
            a, n = float(ad[index]), float(fd[index])
            err = abs(a - n)
            scale = max(abs(a), abs(n))
            rows.append(GradientRow(name, tuple(int(i) for i in index), a, n, err, err / scale if scale else 0.0,
                                    bool(err <= atol + rtol * abs(n))))
    return GradientReport(rows, rtol, atol, notes)


def _precision_warnings(g: Graph, feeds: Mapping[str, Any], wrt: Any) -> list[str]:
    names = _resolve_wrt(g, wrt)
    low = [n for n in names if _dtype(feeds.get(n, 0.0)) in (np.float32, np.float16)]
    if not low:
        return []
    return [f"input(s) {', '.join(map(repr, low))} are not float64: finite differences in low precision "
            "cannot check gradients reliably; check in float64"]


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


def _index(index: tuple[int, ...]) -> str:
    return "" if not index else "[" + ", ".join(map(str, index)) + "]"
