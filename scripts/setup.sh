#!/usr/bin/env bash
# Installs what cgraph needs on a fresh Debian/Ubuntu machine: Graphviz (for rendering)
# and the package itself with its test extra. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v dot >/dev/null 2>&1; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq --no-install-recommends graphviz fonts-dejavu-core >/dev/null
fi
python3 -m pip install -q --disable-pip-version-check -e '.[test]'
