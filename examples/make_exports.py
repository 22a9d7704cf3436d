"""Render every example diagram into ``exports/`` (DOT and SVG, plus one slide-sized PDF).

Run: ``python3 examples/make_exports.py``. The lecture's function
``y = exp(xz) + xz/ln(x) + sin(ln(x))/(xz)``: its forward graph, the same graph with the
values and gradients at x=2, z=3 (also as a slide-sized PDF), its adjoint graph, and the
reverse sweep as one frame per adjoint node; a small MLP [3, 4, 4, 2] in both conventions
(and with some units dropped out, the lecture's dropout figure);
a [2, 3, 1] network trained on XOR and the [1, 8, 1] sigmoid network fitted to sin
by ``universal_approximation.py``, drawn with their weights. ``tests/test_exports.py`` regenerates the DOT
files and fails if ``exports/`` is stale.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

import cgraph as cg

EXPORTS = Path(__file__).resolve().parent.parent / "exports"
AT = {"x": 2.0, "z": 3.0}
LECTURE = """\
a = x*z
b = log(x)
c = sin(b)
d = exp(a)
e = a/b
f = c/a
y = d + e + f
"""
SLIDE = "13.333,7.5"  # inches: a 16:9 slide


def diagrams() -> Iterable[tuple[str, cg.Graph | object, dict]]:
    """(file stem, graph or finished pydot.Dot, options) for every example diagram."""
    g = cg.parse(LECTURE)
    values = cg.evaluate(g, **AT)
    ga = cg.adjoint(g)
    adjoint_values = cg.evaluate(ga, **AT)
    gradients = {ga.nx.nodes[n]["adjoint_of"]: adjoint_values[n] for n in ga if ga.nx.nodes[n].get("adjoint_of")}
    yield "lecture_forward", g, {}
    yield "lecture_values", g, {"values": values}
    yield "lecture_gradients", g, {"values": values, "adjoints": gradients}
    yield "lecture_adjoint", ga, {"values": adjoint_values}
    for step in cg.backprop_steps(g, **AT):
        yield f"lecture_backprop/step_{step.number:02d}", step.dot, {}
    mlp = cg.nn.MLP([3, 4, 4, 2], activation="tanh", loss="cross_entropy", seed=0)
    yield "mlp_computation", mlp.graph, {}
    yield "mlp_network", mlp.graph, {"style": "network"}
    yield "mlp_network_values", mlp.graph, {"style": "network", "weights": "value"}
    # the lecture's dropout figure, "(b) After applying dropout" (Srivastava et al., 2014)
    yield "mlp_dropout", mlp.graph, {"style": "network", "dropped": {0: [2], 1: [1, 3], 2: [2]}}
    yield "xor_trained", xor_network().graph, {"style": "network", "weights": "value"}
    yield "universal_approximation", _example("universal_approximation").fit(8)[0].graph, \
        {"style": "network", "weights": "value"}


def _example(name: str) -> Any:
    """Another script of examples/ as a module (examples/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, Path(__file__).resolve().parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def xor_network() -> cg.nn.MLP:
    """A [2, 3, 1] tanh network trained on XOR (seeded: the same weights every run)."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    Y = np.array([[0.0], [1.0], [1.0], [0.0]])
    net = cg.nn.MLP([2, 3, 1], activation="tanh", loss="bce", seed=0)
    cg.nn.train(net, X, Y, optimizer=cg.nn.Adam(lr=0.05), batch_size=None, epochs=300, seed=0, verbose=False)
    return net


def build(out: Path = EXPORTS, formats: Iterable[str] = ("dot", "svg"), *, slide_pdf: bool = True) -> list[Path]:
    """Write every diagram into ``out`` in ``formats`` (and the slide-sized PDF); the files written."""
    written = []
    for stem, graph, options in diagrams():
        path = out / stem
        path.parent.mkdir(parents=True, exist_ok=True)
        for fmt in formats:
            written.append(cg.render(graph, path.with_suffix(f".{fmt}"), **options))
    if slide_pdf:  # the gradients on the lecture's graph, scaled to fill a 16:9 slide
        dot = next(cg.to_dot(g, **options) for stem, g, options in diagrams() if stem == "lecture_gradients")
        dot.set("size", f'"{SLIDE}!"')
        written.append(cg.render(dot, out / "lecture_slide.pdf"))
    return written


def main(argv: list[str] | None = None) -> int:
    files = build()
    root = EXPORTS.parent
    for f in files:
        print(f.relative_to(root))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
