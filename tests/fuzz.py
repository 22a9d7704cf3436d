"""The long fuzz run: the fuzz and property tests, round after round, with many more examples.

    python -m tests.fuzz --minutes 10            # from the repository root
    python -m tests.fuzz --minutes 60 --scale 100

Each round runs every test module whose hypothesis tests scale (``tests/test_fuzz.py``,
``test_properties.py``, and the property tests of grad's eager sweep, simplify, compile,
expand, text...), each in a fresh process, with ``CGRAPH_EXAMPLES_SCALE`` times the
suite's number of hypothesis examples and fresh random seeds. It stops at the first
failure (hypothesis prints the falsifying example and keeps it in ``.hypothesis/`` so
the normal suite replays it) or when the time is up, looked at between modules (the
first round always runs whole). The exit status is 0 when every round passed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: every test module whose hypothesis tests scale with CGRAPH_EXAMPLES_SCALE (strategies.examples)
TESTS = sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "tests").glob("test_*.py") if "examples(" in p.read_text(encoding="utf-8")
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="how long to fuzz (default 10)")
    parser.add_argument("--scale", type=float, default=20.0, help="examples per round, times the suite's (default 20)")
    args = parser.parse_args(argv)
    deadline = time.monotonic() + 60 * args.minutes
    env = {**os.environ, "CGRAPH_EXAMPLES_SCALE": str(args.scale)}
    rounds = 0
    while time.monotonic() < deadline:
        rounds += 1
        print(f"fuzz round {rounds} (scale {args.scale:g}, {max(0.0, deadline - time.monotonic()) / 60:.1f} min left)", flush=True)
        for module in TESTS:  # one process per module: the time is looked at between modules
            if time.monotonic() >= deadline and rounds > 1:
                break
            print(f"  {module}", flush=True)
            done = subprocess.run(  # noqa: S603 - our own interpreter and test files
                [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", module], cwd=ROOT, env=env,
                check=False,
            )
            if done.returncode != 0:
                print(f"fuzz: round {rounds} failed in {module} (see above)", flush=True)
                return 1
    print(f"fuzz: {rounds} round(s) passed", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
