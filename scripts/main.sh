#!/usr/bin/env bash
# The main job: set up, render every example diagram (and the optimizers' loss table) into exports/,
# print the lecture's gradients.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
python3 examples/make_exports.py
python3 examples/optimizers.py
python3 examples/lecture.py
