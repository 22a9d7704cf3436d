"""The lecture's four optimizers on the same problem, side by side.

Every run starts from the same initial weights and sees the same mini-batches (same
seeds), so only the update rule differs: SGD, SGD with momentum, RMSProp and Adam.

Run: ``python examples/optimizers.py``. Prints the training loss every 10 epochs,
writes the loss of every epoch to ``exports/optimizers.csv`` and, if matplotlib is
installed, a plot to ``exports/optimizers.png``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

import cgraph as cg

EXPORTS = Path(__file__).resolve().parent.parent / "exports"
OPTIMIZERS = {
    "sgd": lambda: cg.nn.SGD(lr=0.1),
    "momentum": lambda: cg.nn.Momentum(lr=0.1, beta=0.9),
    "rmsprop": lambda: cg.nn.RMSProp(lr=0.01, beta=0.9),
    "adam": lambda: cg.nn.Adam(lr=0.01, beta1=0.9, beta2=0.999),
}


def dataset(n: int = 200, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Two noisy classes: points inside the unit circle against points outside it."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 2))
    Y = (np.hypot(X[:, 0], X[:, 1]) + rng.normal(scale=0.1, size=n) < 1.2).astype(float)
    return X, Y


def compare(epochs: int = 60) -> dict[str, list[float]]:
    """The training loss per epoch of each optimizer, from one initialisation."""
    X, Y = dataset()
    curves = {}
    for name, make in OPTIMIZERS.items():
        net = cg.nn.MLP([2, 8, 1], activation="tanh", loss="bce", seed=0)
        h = cg.nn.train(net, X, Y, optimizer=make(), batch_size=16, epochs=epochs, seed=0, verbose=False)
        curves[name] = h.train_loss
    return curves


def write_csv(curves: dict[str, list[float]], path: Path) -> None:
    with open(path, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["epoch", *curves])
        for i, row in enumerate(zip(*curves.values()), start=1):
            out.writerow([i, *(f"{v:.6f}" for v in row)])


def plot(curves: dict[str, list[float]], path: Path) -> bool:
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, losses in curves.items():
        ax.plot(range(1, len(losses) + 1), losses, label=name)
    ax.set(xlabel="epoch", ylabel="training loss (binary cross-entropy)", yscale="log")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=150)
    plt.close(fig)
    return True


def main(epochs: int = 60, exports: Path = EXPORTS) -> dict[str, list[float]]:
    curves = compare(epochs)
    print("epoch " + "".join(f"{name:>10}" for name in curves))
    for i in [0, *range(9, epochs, 10)]:
        print(f"{i + 1:>5} " + "".join(f"{c[i]:>10.4f}" for c in curves.values()))
    exports.mkdir(exist_ok=True)
    write_csv(curves, exports / "optimizers.csv")
    print(f"\nwrote {exports.name}/optimizers.csv")
    if plot(curves, exports / "optimizers.png"):
        print(f"wrote {exports.name}/optimizers.png")
    return curves


if __name__ == "__main__":
    main()
