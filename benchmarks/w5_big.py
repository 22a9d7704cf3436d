"""W5: big graphs: the scalar ladder x_{k+1} = 0.5 (sin x_k + x_{k-1}) and random scalar DAGs.

For N = 10^3, 10^4, 10^5 ops: build, validate, evaluate, adjoint, grad, simplify, the
program form and DOT text, and the peak memory per node, next to the floor (a bare
networkx DiGraph of the same size), a hand-written Python forward + adjoint sweep and
PyTorch eager.
"""

from __future__ import annotations

import gc
import math
import statistics
import time

import networkx as nx
import numpy as np

import cgraph as cg

from .harness import Report, available, peak_memory


def ladder(N: int) -> cg.Graph:
    g = cg.Graph("ladder")
    prev = g.input("x")
    cur = cg.sin(prev)
    for _ in range((N - 1) // 3):
        prev, cur = cur, 0.5 * (cg.sin(cur) + prev)
    g.output(cur, name="y")
    return g


def random_dag(N: int, seed: int = 0) -> cg.Graph:
    """Scalar ops over random recent operands; values stay bounded (sin, tanh, averages)."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, 4, N)
    back = rng.integers(1, 50, (N, 2))
    g = cg.Graph("random")
    nodes = [g.input("x"), g.input("z")]
    while len(nodes) < N:
        i = len(nodes)
        a, b = nodes[max(0, i - back[i % N, 0])], nodes[max(0, i - back[i % N, 1])]
        k = picks[i % N]
        nodes.append(cg.sin(a) if k == 0 else cg.tanh(a) if k == 1 else a * b if k == 2 else (a + b) * 0.5)
    g.output(cg.add(*nodes[-4:]), name="y")
    return g


def hand_ladder(N: int, x: float) -> tuple[float, float]:
    """Forward and adjoint sweep of the ladder, by hand (the floor of any graph system)."""
    steps = (N - 1) // 3
    xs = [x, math.sin(x)]
    for _ in range(steps):
        xs.append(0.5 * (math.sin(xs[-1]) + xs[-2]))
    g = [0.0] * len(xs)
    g[-1] = 1.0
    for k in range(len(xs) - 1, 1, -1):
        g[k - 1] += 0.5 * math.cos(xs[k - 1]) * g[k]
        g[k - 2] += 0.5 * g[k]
    g[0] += math.cos(x) * g[1]
    return xs[-1], g[0]


def nx_floor(N: int) -> nx.DiGraph:
    G = nx.DiGraph()
    G.add_node(0, op="input", attrs={}, shape=())
    G.add_node(1, op="sin", attrs={}, shape=())
    for i in range(2, N):
        G.add_node(i, op="op", attrs={}, shape=())
        G.add_edge(i - 1, i)
        G.add_edge(i - 2, i)
    return G


def store_floor(g: cg.Graph, ga: cg.Graph) -> float:
    """Seconds networkx alone takes to hold ``ga``, the adjoint graph of ``g``: a copy of
    the forward graph plus ``add_node``/``add_edge`` for every adjoint node and its operand
    edges (their real names and attributes), the collector paused as cgraph's passes pause
    it. No derivative rule runs: this is the cost of storing the result, a floor under
    ``cg.grad`` for any adjoint that is a networkx graph."""
    fwd = g.nx._node
    new = [n for n in ga.nx if n not in fwd]
    data = {n: dict(ga.nx._node[n]) for n in new}
    edges = [(u, v, k) for v in new for u, keys in ga.nx._pred[v].items() for k in keys]
    was = gc.isenabled()
    gc.disable()
    try:
        t = time.perf_counter()
        H = g.nx.copy()
        for n in new:
            H.add_node(n, **data[n])
        for u, v, k in edges:
            H.add_edge(u, v, key=k)
        return time.perf_counter() - t
    finally:
        if was:
            gc.enable()


def torch_ladder(N: int, x: float) -> float:
    import torch

    x0 = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    prev, cur = x0, torch.sin(x0)
    for _ in range((N - 1) // 3):
        prev, cur = cur, 0.5 * (torch.sin(cur) + prev)
    cur.backward()
    return float(x0.grad)


def _t(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def _build_and_grad(build, N: int, feeds: dict, repeats: int) -> tuple[float, float, float]:
    """Medians over ``repeats`` fresh graphs: the build, the first ``cg.grad`` (adjoint +
    run), and their sum (the goals' number: one slow round moves it less than a single
    run would)."""
    rounds = []
    for _ in range(repeats):
        g, t_build = _t(lambda: build(N))
        _, t_grad = _t(lambda g=g: cg.grad(g, **feeds))
        del g  # else the next build's full collections scan this graph too
        rounds.append((t_build, t_grad, t_build + t_grad))
    return tuple(statistics.median(r[i] for r in rounds) for i in range(3))


def _passes(kind: str, N: int, *, heavy: bool) -> dict:
    build = ladder if kind == "ladder" else random_dag
    feeds = {"x": 0.3} if kind == "ladder" else {"x": 0.3, "z": 0.7}
    t_build, t_grad, t_total = _build_and_grad(build, N, feeds, repeats=3 if N >= 10**5 else 5)
    g = build(N)
    _, t_valid = _t(g.validate)
    _, t_eval = _t(lambda: cg.evaluate(g, **feeds))
    ga, t_adj = _t(lambda: cg.adjoint(g))
    t_simp = t_text = t_dot = None
    if heavy:
        gs, t_simp = _t(lambda: cg.simplify(ga))
        _, t_text = _t(lambda: cg.to_text(gs, form="program"))
        _, t_dot = _t(lambda: cg.to_dot(g).to_string())
    return {"nodes": len(ga), "build": t_build, "validate": t_valid, "evaluate": t_eval, "grad": t_grad,
            "adjoint": t_adj, "simplify": t_simp, "program": t_text, "dot": t_dot,
            "build+grad": t_total,
            "all": t_build + t_valid + t_eval + t_grad + t_simp + t_text + t_dot if heavy else None}


def _memory(kind: str, N: int) -> float:
    build = ladder if kind == "ladder" else random_dag
    feeds = {"x": 0.3} if kind == "ladder" else {"x": 0.3, "z": 0.7}

    def work():
        g = build(N)
        cg.grad(g, **feeds)
        return g

    g, peak = peak_memory(work)
    from cgraph.passes.grad import gradient_graph

    return peak / len(gradient_graph(g))


def run(report: Report, *, quick: bool) -> None:
    W = "W5"
    sizes = (10**3, 10**4) if quick else (10**3, 10**4, 10**5)
    totals: dict[str, dict[int, dict]] = {"ladder": {}, "random": {}}
    stores: dict[int, float] = {}  # networkx alone storing the ladder's adjoint graph
    for N in sizes:
        _, t_nx = _t(lambda N=N: nx_floor(N))
        G = nx_floor(N)
        _, t_topo = _t(lambda G=G: list(nx.topological_sort(G)))
        del G  # left alive, its 3N dicts would be scanned by every full collection in the cgraph rows below
        _, nx_peak = peak_memory(lambda N=N: nx_floor(N))
        g = ladder(N)
        t_store = store_floor(g, cg.adjoint(g))
        del g
        stores[N] = t_store
        report.add(W, f"N={N}", "networkx floor", build_s=t_nx, adjoint_s=t_store, grad_s=t_topo,
                   kb_per_node=nx_peak / N / 1024,
                   note="DiGraph build / storing the ladder's adjoint graph / topological sort")
        _, t_hand = _t(lambda N=N: hand_ladder(N, 0.3))
        report.add(W, f"N={N}", "python-hand ladder fwd+adjoint", total_s=t_hand)
        if available("torch"):
            _, t_torch = _t(lambda N=N: torch_ladder(N, 0.3))
            report.add(W, f"N={N}", "torch eager ladder build+fwd+bwd", total_s=t_torch)
        for kind in ("ladder", "random"):
            r = _passes(kind, N, heavy=not quick or N <= 10**3)
            totals[kind][N] = r
            mem_at = 10**3 if quick else sizes[-1]  # tracemalloc slows a run about 3x
            kb = _memory(kind, N) / 1024 if N == mem_at else None
            report.add(W, f"N={N}", f"cgraph {kind}", nodes=r["nodes"], build_s=r["build"], grad_s=r["grad"],
                       adjoint_s=r["adjoint"], evaluate_s=r["evaluate"], simplify_s=r["simplify"],
                       program_s=r["program"], dot_s=r["dot"], total_s=r["build+grad"], all_s=r["all"], kb_per_node=kb)
            if kb is not None:
                report.goal(W, f"{kind} N={N}: peak memory per node (build + grad)", kb, 1.5, unit=" KB")
    top = 10**5
    lad = totals["ladder"].get(top)
    floor = f"networkx alone takes {stores[top]:.2f} s to store the adjoint graph" if lad else ""
    report.goal(W, "ladder 10^5: build + adjoint + evaluate (cg.grad)", lad and lad["build+grad"], 2.0, unit=" s",
                note=floor)
    report.goal(W, "ladder 10^5: all passes incl. simplify, program text, DOT", lad and lad["all"], 4.0, unit=" s")
    for kind in ("ladder", "random"):
        t = totals[kind]
        ratio = t[top]["build+grad"] / t[10**4]["build+grad"] if top in t else None
        report.goal(W, f"{kind}: time(10^5) / time(10^4), build + grad", ratio, 12)


COLUMNS = [("nodes", "nodes", "d"), ("build_s", "build s", ".3f"), ("evaluate_s", "evaluate s", ".3f"),
           ("adjoint_s", "adjoint s", ".3f"), ("grad_s", "grad s", ".3f"), ("simplify_s", "simplify s", ".3f"),
           ("program_s", "program s", ".3f"), ("dot_s", "dot s", ".3f"), ("total_s", "build+grad s", ".3f"),
           ("all_s", "all s", ".3f"), ("kb_per_node", "KB/node", ".2f")]
