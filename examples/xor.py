"""A 2-layer network learns XOR, the function no single perceptron can represent.

Run: ``python examples/xor.py``. Prints the loss every 100 epochs, the network's
outputs and its training accuracy (100%).
"""

from __future__ import annotations

import numpy as np

import cgraph as cg

X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
Y = np.array([0, 1, 1, 0], dtype=float)


def main() -> float:
    net = cg.nn.MLP([2, 4, 1], activation="tanh", loss="bce", seed=0)
    history = cg.nn.train(net, X, Y, optimizer=cg.nn.Adam(lr=0.05), batch_size=4, epochs=300, seed=0)
    for epoch in range(0, history.stopped_epoch, 100):
        print(f"epoch {epoch + 1:>3}  loss {history.train_loss[epoch]:.4f}")
    print(f"epoch {history.stopped_epoch:>3}  loss {history.train_loss[-1]:.4f}")
    out = net.predict(X).ravel()
    print("\n x1 x2  target  output")
    for (x1, x2), y, p in zip(X, Y, out):
        print(f"  {x1:.0f}  {x2:.0f}     {y:.0f}    {p:.3f}")
    accuracy = float(np.mean((out > 0.5) == Y))
    print(f"\ntraining accuracy: {accuracy:.0%}")
    return accuracy


if __name__ == "__main__":
    main()
