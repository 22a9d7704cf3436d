"""The benchmark command runs (a smoke test: no timing is checked, ever)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_quick_w1_runs_and_writes_json(tmp_path):
    out = tmp_path / "w1.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--only", "W1", "--no-peers", "--json", str(out)],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    assert "== Goals (issue 6)" in proc.stdout and "cgraph compile" in proc.stdout
    data = json.loads(out.read_text())
    assert {r["system"] for r in data["rows"]} >= {"python-hand (math)", "cgraph compile, positional", "cgraph compile, dict API"}
    assert all(g["workload"] == "W1" for g in data["goals"])


def test_workload_baselines_compute_what_cgraph_computes():
    sys.path.insert(0, str(ROOT))
    try:
        from benchmarks import w1_lecture, w3_swell, w4_fd, w5_big
    finally:
        sys.path.remove(str(ROOT))
    import numpy as np

    import cgraph as cg

    assert np.allclose(w1_lecture.hand(2.0, 3.0), w1_lecture.REFERENCE, rtol=1e-13)
    for fn in w4_fd.FUNCTIONS:
        x = np.linspace(-1, 1, 10)
        assert np.allclose(cg.grad(w4_fd.build(fn, 10), x=x)["x"], w4_fd.hand_grad(fn)(x))
    y, gx = w5_big.hand_ladder(301, 0.3)
    assert np.isclose(cg.grad(w5_big.ladder(301), x=0.3)["x"], gx)
    g = w5_big.ladder(301)
    assert w5_big.store_floor(g, cg.adjoint(g)) > 0
    assert w3_swell.op_count(w3_swell.build("chain", 3)) == 21
