"""Test-suite settings: a reproducible hypothesis run on CI.

On CI (``CI`` set in the environment) every property test draws the same examples on
every run, so a red build is reproducible and never a roll of the dice; on a developer's
machine hypothesis explores new examples each run, and ``python -m tests.fuzz`` runs the
property and fuzz tests at length.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture
def scratch_registry():
    """The registry as it was, after the test (a test may register ops of its own)."""
    from cgraph.ops import registry

    tables = (registry.OPS, registry._FUNCTIONS, registry.UFUNCS, registry.CODE_NAMES)
    saved = [dict(t) for t in tables]
    yield registry
    for table, before in zip(tables, saved):
        table.clear()
        table.update(before)
