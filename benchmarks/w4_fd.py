"""W4: the full gradient of f: R^D -> R, reverse mode against central finite differences.

Two functions: the extended (pairwise) Rosenbrock function
sum(100 (x_2i - x_2i-1^2)^2 + (1 - x_2i-1)^2) (built with the slices x[::2], x[1::2]) and
sum(x^2 + sin x), for D = 10 ... 10^4. Reverse mode (cg.grad, cg.compile, the peers) as
paired ratios against a hand-written numpy gradient; the compiled value+gradient also
against a hand-written function returning both; finite differences (cg.finite_difference)
by time and error.
"""

from __future__ import annotations

import time

import numpy as np

import cgraph as cg

from .harness import Report, available, paired

FUNCTIONS = ("rosenbrock", "sumsq+sin")


def build(fn: str, D: int) -> cg.Graph:
    g = cg.Graph(f"{fn}{D}")
    x = g.input("x", shape=(D,))
    if fn == "rosenbrock":
        a, b = x[::2], x[1::2]  # x_1, x_3, ... and x_2, x_4, ...
        y = cg.sum(100 * (b - a**2) ** 2 + (1 - a) ** 2)
    else:
        y = cg.sum(x**2 + cg.sin(x))
    g.output(y, name="f")
    return g


def hand_grad(fn: str):
    if fn == "rosenbrock":
        def grad(x):
            p = x.reshape(-1, 2)
            a, b = p[:, 0], p[:, 1]
            t = b - a * a
            out = np.empty_like(p)
            out[:, 0] = -400.0 * a * t - 2.0 * (1.0 - a)
            out[:, 1] = 200.0 * t
            return out.reshape(-1)
    else:
        def grad(x):
            return 2.0 * x + np.cos(x)
    return grad


def hand_value_and_grad(fn: str):
    """The value and the gradient, sharing their intermediates (what cg.compile(g, wrt=) returns)."""
    if fn == "rosenbrock":
        def f(x):
            a, b = x[::2], x[1::2]
            t = b - a * a
            u = 1.0 - a
            out = np.empty_like(x)
            out[::2] = -400.0 * a * t - 2.0 * u
            out[1::2] = 200.0 * t
            return np.sum(100.0 * t * t + u * u), out
    else:
        def f(x):
            return np.sum(x * x + np.sin(x)), 2.0 * x + np.cos(x)
    return f


def hand_forward(fn: str):
    if fn == "rosenbrock":
        def f(x):
            p = x.reshape(-1, 2)
            return np.sum(100.0 * (p[:, 1] - p[:, 0] ** 2) ** 2 + (1.0 - p[:, 0]) ** 2)
    else:
        def f(x):
            return np.sum(x * x + np.sin(x))
    return f


def _torch(fn: str, x0: np.ndarray):
    import torch

    torch.set_num_threads(1)

    def call():
        x = torch.tensor(x0, requires_grad=True)
        if fn == "rosenbrock":
            p = x.reshape(-1, 2)
            y = (100 * (p[:, 1] - p[:, 0] ** 2) ** 2 + (1 - p[:, 0]) ** 2).sum()
        else:
            y = (x * x + torch.sin(x)).sum()
        return torch.autograd.grad(y, x)[0]

    return call


def _autograd(fn: str, x0: np.ndarray):
    import autograd.numpy as anp
    from autograd import grad

    if fn == "rosenbrock":
        def f(x):
            p = anp.reshape(x, (-1, 2))
            return anp.sum(100 * (p[:, 1] - p[:, 0] ** 2) ** 2 + (1 - p[:, 0]) ** 2)
    else:
        def f(x):
            return anp.sum(x * x + anp.sin(x))
    gf = grad(f)
    return lambda: gf(x0)


def run(report: Report, *, quick: bool) -> None:
    W = "W4"
    dims = (10, 100, 1000, 10_000)
    fd_max = 1000 if quick else 10_000
    rounds, budget = (5, 0.01) if quick else (11, 0.03)
    compiled_small, big = [], {}
    for fn in FUNCTIONS:
        for D in dims:
            x0 = np.random.default_rng(D).uniform(-1.5, 1.5, D)
            g = build(fn, D)
            f = cg.compile(g, wrt="x")
            f_grad = cg.compile(cg.adjoint(g))  # the gradient alone, as the hand-written baseline computes
            want = hand_grad(fn)(x0)
            for got in (f(x=x0)["g_x"], f_grad.positional(x0)[0], hand_value_and_grad(fn)(x0)[1]):
                err = np.max(np.abs(got - want)) / max(1.0, np.max(np.abs(want)))
                assert err < 1e-12, (fn, D, err)
            systems = {
                "numpy-hand gradient": lambda fn=fn, x0=x0: hand_grad(fn)(x0),
                "numpy forward": lambda fn=fn, x0=x0: hand_forward(fn)(x0),
                "numpy-hand value+gradient": lambda fn=fn, x0=x0: hand_value_and_grad(fn)(x0),
                "cgraph compile, gradient only": lambda f=f_grad.positional, x0=x0: f(x0),
                "cgraph compile, value+gradient": lambda f=f.positional, x0=x0: f(x0),
                "cgraph compile, value+gradient, dict API": lambda f=f, x0=x0: f(x=x0),
                "cgraph grad": lambda g=g, x0=x0: cg.grad(g, x=x0),
            }
            if available("torch"):
                systems["torch grad"] = _torch(fn, x0)
            if available("autograd"):
                systems["autograd grad"] = _autograd(fn, x0)
            res = paired(systems, "numpy-hand gradient", rounds=rounds, budget=budget)
            for name, r in res.items():
                report.add(W, f"{fn} D={D}", name, time_ms=r["median"] * 1e3, ratio=r["ratio"])
            if D <= fd_max:
                t = time.perf_counter()
                fd = cg.finite_difference(g, x=x0)["x"]
                t_fd = time.perf_counter() - t
                report.add(W, f"{fn} D={D}", "cg.finite_difference", time_ms=t_fd * 1e3,
                           ratio=t_fd / res["numpy-hand gradient"]["median"], max_abs_error=float(np.max(np.abs(fd - want))))
            if D == dims[0]:
                compiled_small.append(res["cgraph compile, value+gradient, dict API"]["median"])
            if D == dims[-1]:
                big[fn] = {k: r["ratio"] for k, r in res.items()}
    for fn, r in big.items():
        # like with like: the gradient alone against the hand-written gradient alone, and the
        # value with the gradient (what cg.compile(g, wrt=) returns) against the hand-written
        # function that returns both, sharing intermediates
        both = r["cgraph compile, value+gradient"] / r["numpy-hand value+gradient"]
        report.goal(W, f"{fn} D=10^4 compiled gradient / numpy-hand gradient", r["cgraph compile, gradient only"], 1.5,
                    note=f"value+gradient / numpy-hand value+gradient: {both:.2f}x; cg.grad (interpreter) / "
                    f"numpy-hand gradient: {r['cgraph grad']:.2f}x")
    report.goal(W, "compiled value+gradient call at D=10, dict API (worst function)", max(compiled_small) * 1e6, 20,
                unit=" us")


COLUMNS = [("time_ms", "ms", ".4f"), ("ratio", "/ numpy-hand grad", ".2f"), ("max_abs_error", "FD max abs err", ".1e")]
