"""W2: MLP 784-256-256-10, tanh, softmax cross-entropy (mean), batch 256, one thread, f64/f32.

Forward, forward+backward and one full Adam step, as paired ratios against a
hand-written numpy forward/backprop. cgraph's MLP is built from the ops directly
(matmul, add, tanh, log_softmax, sum, mean); the Adam step uses cg.nn.
"""

from __future__ import annotations

import numpy as np

import cgraph as cg
from cgraph.passes.plan import plan

from .harness import Report, available, paired

SIZES = (784, 256, 256, 10)
BATCH = 256
PARAMS = ["W1", "b1", "W2", "b2", "W3", "b3"]


def data(dtype, seed: int = 0) -> tuple[dict, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    P = {}
    for k in range(1, len(SIZES)):
        r = np.sqrt(6 / (SIZES[k - 1] + SIZES[k]))
        P[f"W{k}"] = rng.uniform(-r, r, (SIZES[k - 1], SIZES[k])).astype(dtype)
        P[f"b{k}"] = np.zeros(SIZES[k], dtype)
    X = rng.standard_normal((BATCH, SIZES[0])).astype(dtype)
    Y = np.eye(SIZES[-1], dtype=dtype)[rng.integers(0, SIZES[-1], BATCH)]
    return P, X, Y


def numpy_forward(P, X, Y):
    h1 = np.tanh(X @ P["W1"] + P["b1"])
    h2 = np.tanh(h1 @ P["W2"] + P["b2"])
    z = h2 @ P["W3"] + P["b3"]
    z = z - z.max(axis=1, keepdims=True)
    ls = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    return -(Y * ls).sum(axis=1).mean()


def numpy_backprop(P, X, Y):
    """Loss and gradients by hand: the baseline (checked against cgraph below)."""
    h1 = np.tanh(X @ P["W1"] + P["b1"])
    h2 = np.tanh(h1 @ P["W2"] + P["b2"])
    z = h2 @ P["W3"] + P["b3"]
    z = z - z.max(axis=1, keepdims=True)
    ls = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    loss = -(Y * ls).sum(axis=1).mean()
    dz = (np.exp(ls) - Y) / X.shape[0]
    da2 = (dz @ P["W3"].T) * (1 - h2 * h2)
    da1 = (da2 @ P["W2"].T) * (1 - h1 * h1)
    grads = {"W3": h2.T @ dz, "b3": dz.sum(axis=0), "W2": h1.T @ da2, "b2": da2.sum(axis=0),
             "W1": X.T @ da1, "b1": da1.sum(axis=0)}
    return loss, grads


class NumpyAdam:
    """The lecture's Adam, written by hand over numpy arrays."""

    def __init__(self, P, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.P, self.lr, self.b1, self.b2, self.eps, self.t = P, lr, b1, b2, eps, 0
        self.m = {k: np.zeros_like(v) for k, v in P.items()}
        self.s = {k: np.zeros_like(v) for k, v in P.items()}

    def step(self, X, Y):
        _, grads = numpy_backprop(self.P, X, Y)
        self.t += 1
        for k, g in grads.items():
            self.m[k] = self.b1 * self.m[k] + (1 - self.b1) * g
            self.s[k] = self.b2 * self.s[k] + (1 - self.b2) * g * g
            mhat = self.m[k] / (1 - self.b1**self.t)
            shat = self.s[k] / (1 - self.b2**self.t)
            self.P[k] -= self.lr * mhat / (np.sqrt(shat) + self.eps)


def cgraph_mlp(dtype) -> cg.Graph:
    g = cg.Graph("mlp")
    h = g.input("X", shape=(None, SIZES[0]))
    Y = g.input("Y", shape=(None, SIZES[-1]))
    for k in range(1, len(SIZES)):
        W = g.param(f"W{k}", shape=(SIZES[k - 1], SIZES[k]))
        b = g.param(f"b{k}", shape=(SIZES[k],))
        h = h @ W + b
        if k < len(SIZES) - 1:
            h = cg.tanh(h)
    g.output(-cg.mean(cg.sum(Y * cg.log_softmax(h, axis=-1), axis=-1)), name="loss")
    return g


def _cgraph_adam(dtype, X, Y):
    net = cg.nn.MLP(list(SIZES), activation="tanh", loss="cross_entropy", seed=0, dtype=dtype)
    gg = net.gradient_graph()  # as cg.nn.train does: outputs [loss, g_W1, g_b1, ...]
    step = plan(gg, gg.outputs)
    grad_of = {o: gg.nx.nodes[o]["adjoint_of"] for o in gg.outputs[1:]}
    opt = cg.nn.Adam(lr=1e-3)

    def call():
        vals = step.run({"X": X, "Y": Y, **net.params})
        opt.step(net.params, {w: vals[o] for o, w in grad_of.items()})

    return call


def _torch(P, X, Y, dtype):
    import torch

    torch.set_num_threads(1)
    T = {k: torch.tensor(v, requires_grad=True) for k, v in P.items()}
    Xt, Yt = torch.tensor(X), torch.tensor(Y)
    params = [T[k] for k in PARAMS]

    def forward():
        h1 = torch.tanh(Xt @ T["W1"] + T["b1"])
        h2 = torch.tanh(h1 @ T["W2"] + T["b2"])
        z = h2 @ T["W3"] + T["b3"]
        return -(Yt * torch.log_softmax(z, dim=1)).sum(dim=1).mean()

    def fwd():
        with torch.no_grad():
            return forward()

    def fwd_bwd():
        loss = forward()
        return loss, torch.autograd.grad(loss, params)

    opt = torch.optim.Adam(params, lr=1e-3)

    def adam():
        opt.zero_grad(set_to_none=True)
        forward().backward()
        opt.step()

    return fwd, fwd_bwd, adam


def _autograd(P, X, Y):
    import autograd.numpy as anp
    from autograd import value_and_grad

    def loss(P):
        h1 = anp.tanh(anp.dot(X, P["W1"]) + P["b1"])
        h2 = anp.tanh(anp.dot(h1, P["W2"]) + P["b2"])
        z = anp.dot(h2, P["W3"]) + P["b3"]
        z = z - anp.max(z, axis=1, keepdims=True)
        ls = z - anp.log(anp.sum(anp.exp(z), axis=1, keepdims=True))
        return -anp.mean(anp.sum(Y * ls, axis=1))

    vg = value_and_grad(loss)
    return lambda: vg(P)


def run(report: Report, *, quick: bool) -> None:
    W = "W2"
    rounds, budget = (5, 0.05) if quick else (15, 0.15)
    g = cgraph_mlp(np.float64)
    ga = cg.adjoint(g, wrt=PARAMS)
    for dtype in (np.float64, np.float32):
        tag = np.dtype(dtype).name
        P, X, Y = data(dtype)
        feeds = {"X": X, "Y": Y, **P}
        fwd_plan = plan(g, ["loss"])
        step_plan = plan(ga, ["loss", *ga.outputs])
        compiled = cg.compile(g, wrt=PARAMS)
        _check(step_plan.run(feeds), numpy_backprop(P, X, Y), dtype)
        systems = {
            "numpy-hand fwd+bwd": lambda P=P, X=X, Y=Y: numpy_backprop(P, X, Y),
            "numpy-hand fwd": lambda P=P, X=X, Y=Y: numpy_forward(P, X, Y),
            "cgraph fwd (plan)": lambda f=feeds, p=fwd_plan: p.run(f),
            "cgraph fwd+bwd (plan)": lambda f=feeds, p=step_plan: p.run(f),
            "cgraph fwd+bwd (compile)": lambda f=feeds, c=compiled: c(**f),
        }
        peers = []
        if available("torch"):
            t_fwd, t_fb, _ = _torch(P, X, Y, dtype)
            systems["torch fwd"], systems["torch fwd+bwd"] = t_fwd, t_fb
            peers.append("torch fwd+bwd")
        if available("autograd"):
            systems["autograd fwd+bwd"] = _autograd(P, X, Y)
            peers.append("autograd fwd+bwd")
        res = paired(systems, "numpy-hand fwd+bwd", rounds=rounds, budget=budget)
        for name, r in res.items():
            report.add(W, tag, name, time_ms=r["median"] * 1e3, ratio=r["ratio"])
        ours = res["cgraph fwd+bwd (plan)"]["ratio"]
        report.goal(W, f"{tag} fwd+bwd / numpy-hand", ours, 1.05)
        if peers:
            best = min(peers, key=lambda p: res[p]["ratio"])
            report.goal(W, f"{tag} fwd+bwd / fastest peer ({best.split()[0]})", ours / res[best]["ratio"], 1.2)
        report.goal(W, f"{tag} gradient / forward (cgraph)", ours / res["cgraph fwd (plan)"]["ratio"], 2.3)
        _adam(report, dtype, tag, rounds, budget, P, X, Y)


def _adam(report: Report, dtype, tag: str, rounds: int, budget: float, P, X, Y) -> None:
    systems = {
        "numpy-hand Adam step": NumpyAdam({k: v.copy() for k, v in P.items()}).step,
        "cgraph Adam step (cg.nn)": _cgraph_adam(dtype, X, Y),
    }
    systems["numpy-hand Adam step"] = (lambda s=systems["numpy-hand Adam step"]: s(X, Y))
    if available("torch"):
        systems["torch Adam step"] = _torch({k: v.copy() for k, v in P.items()}, X, Y, dtype)[2]
    res = paired(systems, "numpy-hand Adam step", rounds=rounds, budget=budget)
    for name, r in res.items():
        report.add("W2", tag, name, time_ms=r["median"] * 1e3, ratio=r["ratio"])


def _check(vals: dict, want: tuple, dtype) -> None:
    loss, grads = want
    tol = 1e-10 if dtype == np.float64 else 1e-4
    assert np.allclose(vals["loss"], loss, rtol=tol), (vals["loss"], loss)
    for w, gw in grads.items():
        got = vals[f"g_{w}"]
        assert got.dtype == dtype, (w, got.dtype)
        assert np.allclose(got, gw, rtol=tol, atol=tol), w


COLUMNS = [("time_ms", "ms", ".3f"), ("ratio", "/ numpy-hand", ".2f")]
