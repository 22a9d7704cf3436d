"""``Node``: a thin handle (graph + name) that carries the operators."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import UnsupportedOperationError

if TYPE_CHECKING:
    from .graph import Graph


class Node:
    """A handle on one node of a :class:`~cgraph.Graph`; it holds no state of its own.

    The operators ``+ - * / ** @`` and unary ``-`` build op nodes; Python numbers are
    promoted to constants. numpy's ufuncs that have a cgraph op build it too:
    ``np.sin(x)`` is ``cg.sin(x)``, and ``np.ones(3) * x`` and ``np.float64(2) * x`` are
    products; any other ufunc, a ufunc method (``np.sum(x)`` is ``np.add.reduce``) or
    ``out=`` raises ``UnsupportedOperationError`` naming the ufunc, and so does turning a
    node into an array (``np.array([x, z])``): a node has no value until evaluated.

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.Graph()
    >>> x = g.input("x")
    >>> y = (x * x + 1).named("y")
    >>> y.op, [o.name for o in y.operands]
    ('add', ['t1', 't2'])
    >>> import numpy as np
    >>> np.sin(x).op, (np.float64(2) * x).op
    ('sin', 'mul')
    """

    __slots__ = ("graph", "name")

    def __init__(self, graph: Graph, name: str) -> None:
        self.graph = graph
        self.name = name

    @property
    def _data(self) -> dict:
        try:
            return self.graph.nx._node[self.name]
        except KeyError:
            return self.graph.node(self.name)._data  # NodeNotFoundError: renamed or removed

    @property
    def op(self) -> str:
        """The op's name (``"mul"``; ``"input"``, ``"param"``, ``"const"`` for sources)."""
        return self._data["op"]

    @property
    def role(self) -> str:
        """``"input"``, ``"param"``, ``"const"`` or ``"op"``."""
        return self._data["role"]

    @property
    def shape(self) -> tuple | None:
        """The inferred shape (``None`` entries are unknown dimensions)."""
        return self._data["shape"]

    @property
    def attrs(self) -> dict:
        """The op attributes (``value`` of a constant, ``axis`` of a reduction, ...)."""
        return self._data["attrs"]

    @property
    def operands(self) -> tuple[Node, ...]:
        """The operand nodes, in operand order."""
        return tuple(Node(self.graph, o) for o in self.graph.operands(self.name))

    def named(self, name: str) -> Node:
        """Rename this node to ``name`` and return its handle."""
        return self.graph.rename(self.name, name)

    def _op(self, op: str, *operands: Any, **attrs: Any) -> Node:
        return self.graph.apply(op, *operands, **attrs)

    def __add__(self, other: Any) -> Node:
        return self.graph._binary("add", self, other)

    def __radd__(self, other: Any) -> Node:
        return self.graph._binary("add", other, self)

    def __sub__(self, other: Any) -> Node:
        return self.graph._binary("sub", self, other)

    def __rsub__(self, other: Any) -> Node:
        return self.graph._binary("sub", other, self)

    def __mul__(self, other: Any) -> Node:
        return self.graph._binary("mul", self, other)

    def __rmul__(self, other: Any) -> Node:
        return self.graph._binary("mul", other, self)

    def __truediv__(self, other: Any) -> Node:
        return self.graph._binary("div", self, other)

    def __rtruediv__(self, other: Any) -> Node:
        return self.graph._binary("div", other, self)

    def __pow__(self, other: Any) -> Node:
        return self.graph._binary("pow", self, other)

    def __rpow__(self, other: Any) -> Node:
        return self.graph._binary("pow", other, self)

    def __matmul__(self, other: Any) -> Node:
        return self.graph._binary("matmul", self, other)

    def __rmatmul__(self, other: Any) -> Node:
        return self.graph._binary("matmul", other, self)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        """``np.sin(x)``, ``np.ones(3) * x``: the node of the op whose ``ufunc`` is ``ufunc``
        (see ``cgraph.ops.registry.ufunc_node``); numpy operands become constants."""
        from .ops.registry import ufunc_node

        return ufunc_node(ufunc, method, inputs, kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        """``np.mean(x)``, ``np.dot(x, w)``: refused with the cgraph function to use (see
        ``cgraph.ops.registry.array_function_error``); ``np.shape`` and ``np.ndim`` read the
        declared shape."""
        from .ops.registry import array_function_error

        known = self.shape is not None and None not in self.shape
        if func is np.shape and known:
            return self.shape
        if func is np.ndim and self.shape is not None:
            return len(self.shape)
        raise array_function_error(func)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        """``np.array(x)``, ``np.array([x, z])``: refused. numpy would wrap the node in an
        object array whose arithmetic silently builds nodes entry by entry."""
        raise UnsupportedOperationError(
            f"node {self.name!r} has no value to convert to a numpy array; "
            "cg.evaluate the graph for its value, or build the formula with cgraph's functions"
        )

    __iter__ = None  # indexing is slicing: a Node is not a sequence of its elements

    def __getitem__(self, key: Any) -> Node:
        """``x[1::2]``, ``x[:, :3]``: basic slices build ``slice`` nodes (see ``cg.slice``)."""
        from .ops.index import getitem  # the ops import Node, so this import is late

        return getitem(self, key)

    def __neg__(self) -> Node:
        return self._op("neg", self)

    def __pos__(self) -> Node:
        return self

    def __abs__(self) -> Node:  # abs(x), as on a torch tensor or a JAX array
        return self._op("abs", self)

    @property
    def T(self) -> Node:  # noqa: N802 - numpy's name
        """The transpose (reverses the axes)."""
        return self._op("transpose", self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and other.graph is self.graph and other.name == self.name

    def __hash__(self) -> int:
        return hash((id(self.graph), self.name))

    def __bool__(self) -> bool:
        return True

    def _no_number(self, what: str) -> UnsupportedOperationError:
        return UnsupportedOperationError(
            f"{what} on node {self.name!r}: a node is a formula with no value until the graph is "
            "evaluated; use cgraph's functions on it (cg.exp, not math.exp; cg.relu, cg.step or "
            "cg.abs for a branch or a max), or cg.evaluate the graph for its value"
        )

    # float(x), math.exp(x), x > 0, max(x, 0): Python's TypeError said only "not 'Node'"
    def __float__(self) -> float:
        raise self._no_number("float()")

    def __int__(self) -> int:
        raise self._no_number("int()")

    def __complex__(self) -> complex:
        raise self._no_number("complex()")

    def __round__(self, ndigits: int | None = None) -> Node:
        raise self._no_number("round()")

    def __lt__(self, other: Any) -> bool:
        raise self._no_number("comparison '<'")

    def __le__(self, other: Any) -> bool:
        raise self._no_number("comparison '<='")

    def __gt__(self, other: Any) -> bool:
        raise self._no_number("comparison '>'")

    def __ge__(self, other: Any) -> bool:
        raise self._no_number("comparison '>='")

    # x ^ 2, x // 2, x % 2: Python's TypeError said only "unsupported operand type(s) for ^"
    def _no_operator(self, symbol: str, hint: str) -> UnsupportedOperationError:
        return UnsupportedOperationError(f"operator '{symbol}' on node {self.name!r}: {hint}")

    def __xor__(self, other: Any) -> Node:
        raise self._no_operator("^", "in Python '^' is exclusive or, not a power: write x ** 2 "
                                     "(cg.parse and the printed formulas write it x^2)")

    __rxor__ = __xor__

    def __floordiv__(self, other: Any) -> Node:
        raise self._no_operator("//", "floor division has no cgraph op (it has no derivative); write x / y")

    __rfloordiv__ = __floordiv__

    def __mod__(self, other: Any) -> Node:
        raise self._no_operator("%", "the remainder has no cgraph op")

    __rmod__ = __mod__

    def _repr_latex_(self) -> str | None:
        """A notebook shows a node as its formula (``cg.to_latex``); never raises."""
        from .printing import to_latex

        try:
            return "$\\displaystyle " + to_latex(self) + "$"
        except Exception:  # noqa: BLE001 - display must not fail; repr() remains
            return None

    def __repr__(self) -> str:
        if self.name not in self.graph.nx:
            return f"<Node {self.name!r} (removed)>"
        if self.role == "op":
            args = ", ".join(self.graph.operands(self.name))
            return f"<Node {self.name!r} = {self.op}({args})>"
        return f"<Node {self.name!r}: {self.role}>"
