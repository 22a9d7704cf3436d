"""W1: the lecture's function y = exp(xz) + xz/ln x + sin(ln x)/(xz) and its gradient at (2, 3).

Derive time (cgraph: parse + adjoint + simplify + compile, cold) and per-call time of
value + both partials, as ratios against hand-written Python ``math`` code.
"""

from __future__ import annotations

import math

import cgraph as cg

from .harness import Report, available, once, paired

FORMULA = "exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"
X, Z = 2.0, 3.0
REFERENCE = (412.19145728412116, 1208.3812151266095, 809.707479218564)


def hand(x: float, z: float) -> tuple[float, float, float]:
    """The lecture's forward and backward pass, written out by hand."""
    a = x * z
    b = math.log(x)
    c = math.sin(b)
    d = math.exp(a)
    y = d + a / b + c / a
    g_a = d + 1.0 / b - c / (a * a)
    g_b = math.cos(b) / a - a / (b * b)
    return y, g_a * z + g_b / x, g_a * x


def hand_api(**inputs: float) -> dict[str, float]:
    """The same, called as cg.compile's functions are: keywords in, a dict out."""
    y, gx, gz = hand(inputs["x"], inputs["z"])
    return {"y": y, "g_x": gx, "g_z": gz}


def derive_cgraph():
    return cg.compile(cg.parse(FORMULA), wrt=["x", "z"])


def _sympy():
    import sympy as sp
    from sympy.core.cache import clear_cache

    def derive():
        clear_cache()  # else a repeated diff is a cache hit, not a derivation
        x, z = sp.symbols("x z", positive=True)
        y = sp.exp(x * z) + x * z / sp.log(x) + sp.sin(sp.log(x)) / (x * z)
        return sp.lambdify((x, z), [y, sp.diff(y, x), sp.diff(y, z)], modules="math")

    return derive


def _torch():
    import torch

    torch.set_num_threads(1)

    def call():
        x = torch.tensor(X, dtype=torch.float64, requires_grad=True)
        z = torch.tensor(Z, dtype=torch.float64, requires_grad=True)
        a = x * z
        b = torch.log(x)
        y = torch.exp(a) + a / b + torch.sin(b) / a
        gx, gz = torch.autograd.grad(y, (x, z))
        return y.item(), gx.item(), gz.item()

    return call


def _autograd():
    import autograd.numpy as anp
    from autograd import grad

    def f(x, z):
        return anp.exp(x * z) + x * z / anp.log(x) + anp.sin(anp.log(x)) / (x * z)

    gx, gz = grad(f, 0), grad(f, 1)
    return lambda: (f(X, Z), gx(X, Z), gz(X, Z))


def _jax():
    import jax

    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp

    def f(x, z):
        return jnp.exp(x * z) + x * z / jnp.log(x) + jnp.sin(jnp.log(x)) / (x * z)

    def derive():
        fn = jax.jit(jax.value_and_grad(f, argnums=(0, 1)))
        jax.block_until_ready(fn(X, Z))
        return fn

    return derive


def run(report: Report, *, quick: bool) -> None:
    W = "W1"
    rounds, budget = (7, 0.01) if quick else (25, 0.03)
    f = derive_cgraph()
    got = f(x=X, z=Z)
    assert all(math.isclose(a, b, rel_tol=1e-12) for a, b in zip((got["y"], got["g_x"], got["g_z"]), REFERENCE))
    fp = f.positional  # f.positional(x, z) -> (y, g_x, g_z): the form hand() has
    assert fp(X, Z) == REFERENCE
    g = cg.parse(FORMULA)
    derive = {"cgraph (parse+adjoint+simplify+compile)": derive_cgraph}
    calls = {
        "python-hand (math)": lambda: hand(X, Z),
        "python-hand, dict API": lambda: hand_api(x=X, z=Z),
        "cgraph compile, positional": lambda: fp(X, Z),
        "cgraph compile, dict API": lambda: f(x=X, z=Z),
        "cgraph grad (interpreter)": lambda: cg.grad(g, x=X, z=Z),
    }
    if available("sympy"):
        derive["sympy diff+lambdify"] = _sympy()
        fs = derive["sympy diff+lambdify"]()
        calls["sympy lambdify(math)"] = lambda: fs(X, Z)
    if available("torch"):
        calls["torch eager"] = _torch()
    if available("autograd"):
        calls["autograd"] = _autograd()
    if available("jax"):
        derive["jax first jit call"] = _jax()
        fj = derive["jax first jit call"]()
        calls["jax jit(value_and_grad)"] = lambda: fj(X, Z)
    times = {name: once(fn, repeats=5 if quick else 15) for name, fn in derive.items()}
    base = times["cgraph (parse+adjoint+simplify+compile)"]
    for name, t in times.items():
        report.add(W, "derive", name, time_ms=t * 1e3, vs_cgraph=t / base)
    res = paired(calls, "python-hand (math)", rounds=rounds, budget=budget)
    for name, r in res.items():
        report.add(W, "per call", name, time_us=r["median"] * 1e6, ratio=r["ratio"])
    report.goal(W, "derive time (adjoint + simplify + compile)", base * 1e3, 1.0, unit=" ms")
    pos, kw = res["cgraph compile, positional"]["ratio"], res["cgraph compile, dict API"]["ratio"]
    report.goal(W, "compiled gradient call (f.positional) / hand-written Python", pos, 1.5,
                note=f"the dict API f(x=, z=) -> dict: {kw:.2f}x, against the hand code behind the same "
                f"dict API: {kw / res['python-hand, dict API']['ratio']:.2f}x")
    if "sympy diff+lambdify" in times:
        report.goal(W, "SymPy derive / cgraph derive", times["sympy diff+lambdify"] / base, 25, smaller_is_better=False)


COLUMNS = [("time_ms", "derive ms", ".3f"), ("vs_cgraph", "/ cgraph", ".1f"),
           ("time_us", "call us", ".2f"), ("ratio", "/ python-hand", ".2f")]
