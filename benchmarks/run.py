"""Run cgraph's benchmark workloads W1-W5 (issue 6) against baselines in the same process.

    python benchmarks/run.py [--quick] [--only W1,W3] [--json PATH] [--no-peers]

Prints one table per workload (medians; ratios from paired interleaved rounds against
the hand-written baseline), then every goal with MET / MISSED, and writes the results
as JSON to benchmarks/results/ (git-ignored). Peers (SymPy, PyTorch, JAX, autograd,
PyTensor) join when installed: ``pip install -e '.[bench]'``. BLAS runs on one thread.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy (or a peer) starts its thread pools

import argparse  # noqa: E402
import datetime  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from benchmarks import harness, w1_lecture, w2_mlp, w3_swell, w4_fd, w5_big  # noqa: E402
from benchmarks.harness import Report  # noqa: E402

WORKLOADS = {"W1": w1_lecture, "W2": w2_mlp, "W3": w3_swell, "W4": w4_fd, "W5": w5_big}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes and fewer rounds (about a minute)")
    ap.add_argument("--only", default=",".join(WORKLOADS), help="comma-separated workloads, e.g. W1,W3")
    ap.add_argument("--json", type=Path, default=None, help="where to write the results (default benchmarks/results/)")
    ap.add_argument("--no-peers", action="store_true", help="skip the optional peers (SymPy, PyTorch, ...)")
    args = ap.parse_args(argv)
    chosen = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    unknown = [w for w in chosen if w not in WORKLOADS]
    if unknown:
        ap.error(f"unknown workload(s) {unknown}; choose from {', '.join(WORKLOADS)}")
    harness.PEERS["enabled"] = not args.no_peers
    report = Report()
    started = time.perf_counter()
    for w in chosen:
        module = WORKLOADS[w]
        t = time.perf_counter()
        print(f"== {module.__doc__.strip().splitlines()[0]}", flush=True)
        module.run(report, quick=args.quick)
        print(report.table(w, module.COLUMNS))
        print(f"   ({time.perf_counter() - t:.1f} s)\n", flush=True)
    print("== Goals (issue 6)")
    for g in report.goals:
        print(g.line())
    missed = [g for g in report.goals if g.met is False]
    met = [g for g in report.goals if g.met]
    print(f"\n{len(met)} of {len(report.goals)} goals met" + (
        "; MISSED: " + "; ".join(f"{g.workload} {g.text}" for g in missed) if missed else ""))
    for note in report.notes:
        print("note:", note)
    out = args.json or ROOT / "benchmarks" / "results" / f"bench-{datetime.datetime.now():%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"quick": args.quick, "only": chosen, "python": sys.version, "platform": platform.platform(),
            "seconds": time.perf_counter() - started, "versions": _versions()}
    out.write_text(json.dumps({"meta": meta, **report.to_json()}, indent=1, default=float))
    print(f"results: {out}")
    return 0


def _versions() -> dict[str, str]:
    import importlib.metadata as md

    out = {}
    for name in ("numpy", "networkx", "sympy", "torch", "jax", "autograd", "pytensor"):
        try:
            out[name] = md.version(name)
        except md.PackageNotFoundError:
            pass
    return out


if __name__ == "__main__":
    sys.exit(main())
