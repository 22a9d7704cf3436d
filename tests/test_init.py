"""The package's namespace (cgraph/__init__.py)."""

import builtins
import sys

import cgraph as cg


def test_star_import_gives_the_public_api_and_hides_no_builtin_or_standard_module():
    # it gave every submodule (io hid the standard library's io), __future__'s
    # `annotations`, and sum, abs, pow, slice and compile in place of Python's own
    ns: dict = {}
    exec("from cgraph import *", ns)  # noqa: S102
    names = set(ns) - {"__builtins__"}
    assert not {n for n in names if hasattr(builtins, n) or n in sys.stdlib_module_names}
    assert {"Graph", "parse", "grad", "adjoint", "simplify", "to_dot", "nn", "CGraphError", "sin", "exp"} <= names
    assert all(getattr(cg, n) is ns[n] for n in names)
    assert all(getattr(cg, n).__module__.startswith("cgraph.") for n in ("sum", "abs", "pow", "slice", "compile"))
