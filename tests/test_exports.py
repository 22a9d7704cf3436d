"""exports/ holds the rendered example diagrams: regenerate the DOT and compare."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cgraph as cg

ROOT = Path(__file__).resolve().parent.parent


def load_make_exports():
    spec = importlib.util.spec_from_file_location("make_exports", ROOT / "examples" / "make_exports.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_exports_are_fresh(tmp_path):
    make = load_make_exports()
    fresh = make.build(tmp_path, formats=("dot",), slide_pdf=False)
    assert fresh
    stale = []
    for path in fresh:
        committed = ROOT / "exports" / path.relative_to(tmp_path)
        if not committed.exists() or committed.read_text(encoding="utf-8") != path.read_text(encoding="utf-8"):
            stale.append(str(committed.relative_to(ROOT)))
        svg = committed.with_suffix(".svg")
        if not svg.exists():
            stale.append(str(svg.relative_to(ROOT)))
    assert not stale, f"exports/ is stale; run python3 examples/make_exports.py ({', '.join(stale)})"
    made = {path.relative_to(tmp_path) for path in fresh}
    orphans = [str(p.relative_to(ROOT)) for p in (ROOT / "exports").rglob("*.dot") if p.relative_to(ROOT / "exports") not in made]
    assert not orphans, f"exports/ holds diagrams no example makes any more: {', '.join(orphans)}"
    assert (ROOT / "exports" / "lecture_slide.pdf").exists()


def test_trained_diagrams_do_not_depend_on_the_last_bits(monkeypatch):
    # Another CPU rounds a few ulps differently (numpy's SIMD exp, OpenBLAS's kernels);
    # training must not amplify that into other drawn weights, or the freshness test
    # above fails on every machine but the one that rendered exports/.
    make = load_make_exports()
    trained = ("xor_trained", "universal_approximation")
    exact = {stem: cg.to_dot(graph, **options).to_string() for stem, graph, options in make.diagrams() if stem in trained}
    initialize = cg.nn.MLP.initialize

    def nudged(net, seed=None):
        initialize(net, seed)
        for value in net.params.values():
            value *= 1 + 1e-13

    monkeypatch.setattr(cg.nn.MLP, "initialize", nudged)
    nudged_dots = {stem: cg.to_dot(graph, **options).to_string() for stem, graph, options in make.diagrams() if stem in trained}
    assert set(exact) == set(trained)
    for stem in trained:
        assert nudged_dots[stem] == exact[stem], f"{stem}: a 1e-13 change of the initial weights changes the drawn weights"
