"""Printers: a graph or node as text ``cg.parse`` reads back, or as LaTeX."""

from .latex import to_latex
from .text import to_text

__all__ = ["to_latex", "to_text"]
