#!/usr/bin/env bash
# The test job: set up, lint (ruff, with the security rules), run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# the rendering tests skip without Graphviz on a developer's machine; here they must run
command -v dot >/dev/null || { echo "scripts/test.sh: Graphviz's dot is missing after set-up" >&2; exit 1; }
python3 -m ruff check cgraph tests examples benchmarks
python3 -m pytest -q
