#!/usr/bin/env bash
# The test job: set up, lint (ruff, with the security rules), run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 -m ruff check cgraph tests examples benchmarks
python3 -m pytest -q
