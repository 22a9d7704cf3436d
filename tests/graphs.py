"""Graphs the tests share: the lecture's function, a chain of sines and hand-built layered networks."""

from __future__ import annotations

import numpy as np

import cgraph as cg


def lecture() -> cg.Graph:
    """The lecture's y = exp(xz) + xz/ln(x) + sin(ln(x))/(xz), one node per variable."""
    g = cg.Graph("lecture")
    x, z = g.input("x"), g.input("z")
    a = (x * z).named("a")
    b = cg.log(x, name="b")
    c = cg.sin(b, name="c")
    d = cg.exp(a, name="d")
    e = (a / b).named("e")
    f = (c / a).named("f")
    g.output(cg.add(d, e, f, name="y"))
    return g


def sin_chain(n: int) -> cg.Graph:
    """y = sin(sin(...sin(x))), ``n`` deep: one node per level, no two alike."""
    g = cg.Graph()
    node = g.input("x")
    for _ in range(n):
        node = cg.sin(node)
    g.output(node, name="y")
    return g


def layered(sizes, *, act="tanh", out="sigmoid", seed=0, values=True) -> cg.Graph:
    """A network carrying the layered-network metadata of TEAM.md, built by hand."""
    rng = np.random.default_rng(seed)
    g = cg.Graph("net")
    h = g.input("X", shape=(None, sizes[0]))
    g.nx.nodes["X"].update(layer=0, layer_kind="input", activation="identity")
    depth = len(sizes) - 1
    for k in range(1, depth + 1):
        shape = (sizes[k - 1], sizes[k])
        w = g.param(f"W{k}", shape=shape, value=rng.normal(size=shape) if values else None)
        b = g.param(f"b{k}", shape=(sizes[k],), value=np.zeros(sizes[k]) if values else None)
        g.nx.nodes[w.name]["weights"] = k
        g.nx.nodes[b.name]["bias"] = k
        pre = (h @ w + b).named(f"a{k}")
        g.nx.nodes[pre.name]["preactivation"] = k
        fn = act if k < depth else out
        h = getattr(cg, fn)(pre, name=f"z{k}" if k < depth else "y_hat")
        g.nx.nodes[h.name].update(layer=k, layer_kind="hidden" if k < depth else "output", activation=fn)
    y = g.input("Y", shape=(None, sizes[-1]))
    g.output(cg.mean((h - y) ** 2, name="loss"))
    return g
