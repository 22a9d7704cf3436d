"""MLPs as universal approximators (Cybenko 1989, Hornik 1991): one hidden layer of
sigmoid units fits the bounded, continuous function ``sin`` on [-pi, pi], and the
maximum error falls as the layer grows.

Run: ``python examples/universal_approximation.py``. Prints a table of hidden units
against the maximum error on a fine grid; draws the largest fitted network in the
neural-network convention into ``exports/`` (DOT and SVG).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import cgraph as cg

EXPORTS = Path(__file__).resolve().parent.parent / "exports"
UNITS = (1, 2, 3, 4, 8)
X = np.linspace(-np.pi, np.pi, 100)  # training points
GRID = np.linspace(-np.pi, np.pi, 1001)  # where the error is measured


# Adam at a constant rate never settles: it amplifies a difference in the last bit about
# 10^5-fold every few hundred epochs. 800 epochs at lr=0.1 fit well and end before the
# drawn weights depend on which CPU (numpy's SIMD, OpenBLAS's kernels) trained them.
def fit(units: int, epochs: int = 800) -> tuple[cg.nn.MLP, float]:
    """A [1, units, 1] sigmoid network fitted to sin, and its max error on GRID."""
    net = cg.nn.MLP([1, units, 1], activation="sigmoid", loss="mse", seed=0)
    cg.nn.train(net, X, np.sin(X), optimizer=cg.nn.Adam(lr=0.1), batch_size=None, epochs=epochs, seed=0, verbose=False)
    return net, float(np.abs(net.predict(GRID).ravel() - np.sin(GRID)).max())


def main(units: tuple[int, ...] = UNITS, epochs: int = 800, exports: Path = EXPORTS) -> list[float]:
    print("hidden units   max |f(x) - sin(x)| on [-pi, pi]")
    errors = []
    for n in units:
        net, err = fit(n, epochs)
        errors.append(err)
        print(f"{n:>12}   {err:.4f}")
    print()
    exports.mkdir(exist_ok=True)
    for suffix in (".dot", ".svg"):  # the largest network, in the neural-network convention
        path = cg.render(net.graph, exports / f"universal_approximation{suffix}", style="network", weights="value")
        print(f"wrote {exports.name}/{path.name}")
    return errors


if __name__ == "__main__":
    main()
