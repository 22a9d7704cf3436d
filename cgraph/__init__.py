"""cgraph: differentiation made visible.

A function is a networkx DAG of typed op nodes; passes evaluate it, derive its
reverse-mode adjoint graph, simplify it into symbolic derivatives, check it against
finite differences, and draw it in the lecture's two diagram conventions.

>>> import cgraph as cg
>>> g = cg.parse("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)")
>>> round(float(cg.evaluate(g, x=2, z=3)["y"]), 8)
412.19145728
"""

from __future__ import annotations

from .errors import *  # noqa: F403
from .graph import Graph
from .node import Node
from .ops import *  # noqa: F403
from .passes.adjoint import adjoint
from .passes.evaluate import Values, evaluate
from .passes.finite_diff import finite_difference
from .passes.grad import grad
from .passes.hessian import hessian, hessian_graph, hvp_graph
from .passes.jacobian import jacobian, vjp_graph

# --- parsing and serialisation (parse.py, io.py)
from .parse import parse
from .io import dumps, load, loads, save

# --- simplification and printing (passes/simplify.py, printing/)
from .passes.simplify import simplify
from .passes.expand import expand
from .printing import to_latex, to_text

# --- gradient checks (passes/check.py)
from .passes.check import GradientReport, GradientRow, check_gradients

# --- diagrams (export/)
from .export import to_dot
from .export.render import render
from .export.steps import backprop_frames, backprop_steps

# --- neural networks (nn/)
from . import nn

# --- compiled callables (compile.py)
from .compile import compile  # cg.compile, as API.md names it (shadows the builtin only here)

__version__ = "0.1.0"

import builtins as _builtins  # noqa: E402

from . import errors, ops  # noqa: E402

# `from cgraph import *` gives the public API, not the submodules (`io` would hide the
# standard library's) nor the names that would hide Python's builtins (sum, abs, pow,
# slice, compile: cg.sum and the others stay reachable as cg.<name>)
__all__ = [name for name in [
    *errors.__all__, *ops.__all__, "Graph", "Node", "Values", "adjoint", "evaluate", "finite_difference", "grad",
    "hessian", "hessian_graph", "hvp_graph", "jacobian", "vjp_graph",
    "parse", "dumps", "load", "loads", "save", "simplify", "expand", "to_latex", "to_text", "GradientReport",
    "GradientRow", "check_gradients", "to_dot", "render", "backprop_frames", "backprop_steps", "nn", "compile",
] if not hasattr(_builtins, name)]
del _builtins
