"""W3: derivative swell: nested sin, a product of n factors, and a chain reusing h_k twice.

For n = 5 ... 80: op nodes of the forward graph, of the adjoint graph and of the
simplified adjoint graph (forward nodes included), the time to derive, to simplify and
to print the program form; SymPy's derivative size and time beside them when installed.
"""

from __future__ import annotations

import math
import time

import cgraph as cg

from .harness import Report, available

FAMILIES = ("sin-nest", "product", "chain")


def build(family: str, n: int) -> cg.Graph:
    g = cg.Graph(f"{family}{n}")
    x = g.input("x")
    if family == "sin-nest":  # f_n = sin(sin(... sin(x)))
        y = x
        for _ in range(n):
            y = cg.sin(y)
    elif family == "product":  # g_n = (x+1)(x+2)...(x+n), built as binary products
        y = x + 1
        for i in range(2, n + 1):
            y = y * (x + i)
    else:  # h_{k+1} = x*exp(-h_k) + log(1 + h_k^2), each h_k used twice
        y = x
        for _ in range(n):
            y = x * cg.exp(-y) + cg.log(1 + y**2)
    g.output(y, name="y")
    return g


def op_count(g: cg.Graph) -> int:
    return sum(1 for _, r in g.nx.nodes(data="role") if r == "op")


def _timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _sympy(family: str, n: int):
    import sympy as sp

    x = sp.Symbol("x")
    if family == "sin-nest":
        y = x
        for _ in range(n):
            y = sp.sin(y)
    elif family == "product":
        y = sp.Integer(1)
        for i in range(1, n + 1):
            y = y * (x + i)
    else:
        y = x
        for _ in range(n):
            y = x * sp.exp(-y) + sp.log(1 + y**2)
    d, t = _timed(lambda: sp.diff(y, x))
    return sp.count_ops(d), t


def run(report: Report, *, quick: bool) -> None:
    W = "W3"
    ns = (5, 10, 20, 40) if quick else (5, 10, 20, 40, 80)
    sympy_max = {"sin-nest": 20, "product": 20, "chain": 5} if quick else {"sin-nest": 80, "product": 80, "chain": 10}
    worst_ratio = 0.0
    slopes: dict[str, dict[str, float]] = {}
    for family in FAMILIES:
        series = {}
        for n in ns:
            g = build(family, n)
            fwd = op_count(g)
            ga, t_adj = _timed(lambda g=g: cg.adjoint(g))
            gs, t_simp = _timed(lambda ga=ga: cg.simplify(ga))
            text, t_text = _timed(lambda gs=gs: cg.to_text(gs, form="program"))
            ratio = op_count(gs) / fwd
            worst_ratio = max(worst_ratio, ratio)
            series[n] = (t_simp, t_text, len(text))
            report.add(W, f"{family} n={n}", "cgraph", fwd=fwd, adjoint=op_count(ga), simplified=op_count(gs),
                       ratio=ratio, adjoint_ms=t_adj * 1e3, simplify_ms=t_simp * 1e3, text_ms=t_text * 1e3)
            if available("sympy") and n <= sympy_max[family]:
                ops, t = _sympy(family, n)
                report.add(W, f"{family} n={n}", "sympy diff", simplified=int(ops), ratio=int(ops) / fwd,
                           adjoint_ms=t * 1e3)
        lo, hi = ns[-2], ns[-1]
        slopes[family] = {
            "simplify": _slope(series[lo][0], series[hi][0], lo, hi),
            "text": _slope(series[lo][2], series[hi][2], lo, hi),
        }
        if family == "product":
            report.goal(W, f"simplify time of the product family at n={hi}", series[hi][0] * 1e3, 50, unit=" ms")
    report.goal(W, "simplified adjoint / forward op nodes, worst family and n", worst_ratio, 3.0)
    span = f"n={ns[-2]}->{ns[-1]}"
    report.goal(W, f"simplify time growth, log-log slope {span} (worst family)",
                max(s["simplify"] for s in slopes.values()), 1.3, unit="",
                note=", ".join(f"{f} {s['simplify']:.2f}" for f, s in slopes.items()))
    report.goal(W, f"program-form text size growth, log-log slope {span} (worst family)",
                max(s["text"] for s in slopes.values()), 1.3, unit="",
                note=", ".join(f"{f} {s['text']:.2f}" for f, s in slopes.items()))


def _slope(a: float, b: float, n_a: int, n_b: int) -> float:
    return math.log(max(b, 1e-12) / max(a, 1e-12)) / math.log(n_b / n_a)


COLUMNS = [("fwd", "fwd ops", "d"), ("adjoint", "adjoint ops", "d"), ("simplified", "simplified ops", "d"),
           ("ratio", "/ fwd", ".2f"), ("adjoint_ms", "derive ms", ".2f"), ("simplify_ms", "simplify ms", ".2f"),
           ("text_ms", "program text ms", ".2f")]
