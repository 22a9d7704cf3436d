"""Test-suite settings: a reproducible hypothesis run on CI.

On CI (``CI`` set in the environment) every property test draws the same examples on
every run, so a red build is reproducible and never a roll of the dice; on a developer's
machine hypothesis explores new examples each run, and ``python -m tests.fuzz`` runs the
property and fuzz tests at length.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
