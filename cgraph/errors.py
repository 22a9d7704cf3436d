"""The cgraph error hierarchy.

Every error cgraph raises on purpose derives from :class:`CGraphError` and from the
closest builtin exception, so ``except ValueError`` keeps working for callers that do
not know cgraph. Messages name the node (and its op and operand position), the input,
the file, or the line and column at fault.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ArgumentError",
    "ArityError",
    "CGraphError",
    "CycleError",
    "DomainError",
    "ExportError",
    "GraphError",
    "GraphvizNotFoundError",
    "InputError",
    "LoadError",
    "NodeNotFoundError",
    "NotDifferentiableError",
    "ParseError",
    "RenderError",
    "ShapeError",
    "UnknownOpError",
    "UnsupportedOperationError",
]


class CGraphError(Exception):
    """Base class of every cgraph error; catch this to catch them all."""


class GraphError(CGraphError, ValueError):
    """A malformed graph: duplicate names, bad operands, no outputs, ..."""


class CycleError(GraphError):
    """The graph has a cycle; ``cycle`` holds its edges as ``(source, target)`` pairs."""

    def __init__(self, message: str, cycle: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.cycle = cycle or []


class UnknownOpError(GraphError, KeyError):
    """An op name that is not in the registry."""

    __str__ = Exception.__str__  # KeyError would repr() the message


class ArityError(GraphError):
    """An op applied to the wrong number of operands (or with a gap in its ports)."""


class NodeNotFoundError(CGraphError, KeyError):
    """A node name (an output, a ``wrt`` or ``of`` target) that is not in the graph."""

    __str__ = Exception.__str__


class ShapeError(CGraphError, ValueError):
    """Operand shapes an op cannot combine; names the node and the shapes."""


class ArgumentError(CGraphError, ValueError):
    """A bad argument to a builder, optimizer, training run or pass: an unknown choice
    (activation, loss), a value outside its range (a learning rate <= 0, a zero-width
    layer) or an on/off option that is not True or False (``numeric="no"``)."""


class InputError(CGraphError, ValueError):
    """Missing, unexpected or wrongly shaped inputs to a pass."""


class DomainError(CGraphError, ArithmeticError):
    """A node's value left the finite numbers: ``log(-1)``, ``x/0``, overflow, NaN."""


class NotDifferentiableError(CGraphError, TypeError):
    """An op without a derivative rule lies between ``of`` and ``wrt``."""


class UnsupportedOperationError(CGraphError, TypeError):
    """A numpy operation cgraph does not build on a node: a ufunc without a cgraph op
    (``np.arctan(x)``), a ufunc method (``np.add.reduce``, so ``np.sum(x)``) or keyword
    (``out=``); names the ufunc and the cgraph function to use where there is one."""


class ParseError(CGraphError, ValueError):
    """Text that is not a formula or program cgraph accepts; carries line and column."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        where = f"line {line}, column {column}: " if line is not None else ""
        super().__init__(where + message)
        self.line = line
        self.column = column
        self.reason = message


class LoadError(CGraphError, ValueError):
    """A saved graph that cannot be read back: bad JSON, schema, version or content."""


class ExportError(CGraphError, RuntimeError):
    """A diagram could not be produced: unknown format, unsuitable graph, ..."""


class GraphvizNotFoundError(ExportError, FileNotFoundError):
    """Graphviz's ``dot`` program is not installed or not on ``PATH``."""


class RenderError(ExportError):
    """Graphviz ran but failed; carries its stderr."""


#: how the messages of evaluate and grad suggest ``nonfinite='propagate'`` (the end of the
#: message); a caller that takes no such argument removes it (:func:`without_nonfinite_hint`)
NONFINITE_HINT = "; pass nonfinite="


def without_nonfinite_hint(exc: BaseException) -> BaseException:
    """``exc`` with the suggestion of ``nonfinite='propagate'`` cut from its message, for a
    caller that has no such argument (compiled functions, ``check_gradients``, the command
    line): passed to them, it would be read as an input named ``nonfinite``.

    Examples
    --------
    >>> without_nonfinite_hint(InputError("input 'x' is not finite (nan); pass nonfinite='propagate' to allow NaN/Inf"))
    InputError("input 'x' is not finite (nan)")
    """
    if exc.args and isinstance(exc.args[0], str) and NONFINITE_HINT in exc.args[0]:
        exc.args = (exc.args[0].split(NONFINITE_HINT, 1)[0], *exc.args[1:])
    return exc


class no_nonfinite_hint:  # lower case: used like a function, `with no_nonfinite_hint():`
    """A CGraphError raised inside loses its suggestion of ``nonfinite=``
    (:func:`without_nonfinite_hint`), for a caller that takes no such argument."""

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> bool:
        if isinstance(exc, CGraphError):
            without_nonfinite_hint(exc)
        return False


def check_path(value: Any, what: str, error: type[CGraphError] = ArgumentError, kind: str = "file") -> None:
    """``error`` unless ``value`` is a path (``str`` or ``os.PathLike``): ``cg.render(g, None)``
    raised pathlib's "expected str, bytes or os.PathLike object, not NoneType".

    Examples
    --------
    >>> check_path(None, "cg.save: path")
    Traceback (most recent call last):
    ...
    cgraph.errors.ArgumentError: cg.save: path must be a file path (a str or pathlib.Path), not None
    """
    import os

    if not isinstance(value, (str, os.PathLike)):
        shown = "None" if value is None else type(value).__name__
        raise error(f"{what} must be a {kind} path (a str or pathlib.Path), not {shown}")
    text = os.fspath(value)
    if ("\0" if isinstance(text, str) else b"\0") in text:  # (os and open said "embedded null byte")
        raise error(f"{what} {str(value)!r} holds the NUL character, which no {kind} name can")
