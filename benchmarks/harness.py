"""Timing, paired ratios, goals and the report: what every workload of ``run.py`` shares.

Times are medians of repeats. Ratios against a baseline come from *paired interleaved
rounds*: each round times every system once, in turn, and the ratio is taken within
the round; the reported ratio is the median over rounds. The box is shared and its
speed moves between phases; pairing cancels that.
"""

from __future__ import annotations

import gc
import importlib.util
import statistics
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

#: set by ``run.py --no-peers``: baselines only, no optional peer is imported
PEERS = {"enabled": True}


def available(module: str) -> bool:
    """Whether an optional peer is installed (without importing it) and peers are on."""
    return PEERS["enabled"] and importlib.util.find_spec(module) is not None


def per_call(fn: Callable[[], Any], *, budget: float = 0.02, min_calls: int = 1) -> float:
    """Seconds per call of ``fn``, calling it enough times to fill about ``budget`` seconds."""
    t = time.perf_counter()
    fn()
    once = time.perf_counter() - t
    n = max(min_calls, int(budget / max(once, 1e-7)))
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


def median_time(fn: Callable[[], Any], *, repeats: int = 5, budget: float = 0.02) -> float:
    return statistics.median(per_call(fn, budget=budget) for _ in range(repeats))


def once(fn: Callable[[], Any], *, repeats: int = 3) -> float:
    """Median wall time of single calls (for one-shot costs: derive, build, compile)."""
    times = []
    for _ in range(repeats):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def paired(systems: dict[str, Callable[[], Any]], baseline: str, *, rounds: int, budget: float) -> dict[str, dict]:
    """Interleaved rounds: ``{system: {"median": s, "ratio": median per-round ratio}}``."""
    samples: dict[str, list[float]] = {k: [] for k in systems}
    for fn in systems.values():
        fn()  # warm up: first-call costs are not per-call costs
    for _ in range(rounds):
        for name, fn in systems.items():
            samples[name].append(per_call(fn, budget=budget))
    base = samples[baseline]
    out = {}
    for name, times in samples.items():
        ratios = [t / b for t, b in zip(times, base)]
        out[name] = {"median": statistics.median(times), "ratio": statistics.median(ratios), "samples": times}
    return out


def peak_memory(fn: Callable[[], Any]) -> tuple[Any, int]:
    """``fn()``'s result and the peak bytes Python allocated while it ran (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak


@dataclass
class Goal:
    """One goal of issue 6: a measured value against its target."""

    workload: str
    text: str
    measured: float | None
    target: float
    unit: str = "x"
    smaller_is_better: bool = True
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.measured is None:
            return None
        return self.measured <= self.target if self.smaller_is_better else self.measured >= self.target

    def line(self) -> str:
        verdict = {True: "MET   ", False: "MISSED", None: "n/a   "}[self.met]
        value = "not measured" if self.measured is None else f"{self.measured:.3g}{self.unit}"
        cmp = "<=" if self.smaller_is_better else ">="
        note = f"  ({self.note})" if self.note else ""
        return f"  [{verdict}] {self.workload}: {self.text}: {value} (goal {cmp} {self.target:g}{self.unit}){note}"


@dataclass
class Report:
    """Rows of measurements, goals, and notes, printed as tables and saved as JSON."""

    rows: list[dict] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, workload: str, case: str, system: str, **values: Any) -> None:
        self.rows.append({"workload": workload, "case": case, "system": system, **values})

    def goal(self, *args: Any, **kw: Any) -> Goal:
        g = Goal(*args, **kw)
        self.goals.append(g)
        return g

    def table(self, workload: str, columns: list[tuple[str, str, str]]) -> str:
        """The rows of ``workload`` as an aligned table; columns are (key, header, format)."""
        rows = [r for r in self.rows if r["workload"] == workload]
        head = ["case", "system"] + [h for _, h, _ in columns]
        body = [[r["case"], r["system"]] + [_fmt(r.get(k), f) for k, _, f in columns] for r in rows]
        widths = [max(len(str(x)) for x in col) for col in zip(head, *body)]
        lines = ["  ".join(str(x).ljust(w) for x, w in zip(head, widths)).rstrip()]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip() for row in body]
        return "\n".join(lines)

    def to_json(self) -> dict:
        return {
            "rows": [{k: v for k, v in r.items() if k != "samples"} for r in self.rows],
            "goals": [{**asdict(g), "met": g.met} for g in self.goals],
            "notes": self.notes,
        }


def _fmt(value: Any, spec: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    return format(value, spec)
