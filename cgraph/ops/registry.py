"""The op registry: one :class:`OpDef` per op, holding everything cgraph knows about it.

An op is defined once, in one family module (``arithmetic``, ``elementwise``,
``tensor``, ``nn``), by a single :func:`register` call. Passes, printers and exporters
read these tables; none of them has an ``if op == ...`` chain.
"""

from __future__ import annotations

import builtins
import inspect
import keyword
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import ArityError, GraphError, UnknownOpError, UnsupportedOperationError
from . import shapes

if TYPE_CHECKING:
    from ..graph import Node

Shape = tuple | None  # a tuple of ints / None (unknown dim), or None (unknown shape)
VJP = Callable[..., tuple]


class Prec:
    """Printing precedences: a higher number binds tighter."""

    ADD = 1  # a + b, a - b
    ODOT = 1.5  # A \odot B in LaTeX: looser than a juxtaposed product, (A \odot B) W
    MUL = 2  # a*b, a/b
    JUXT = 2.5  # a b in LaTeX: a product written by juxtaposition, whose factors associate (x z e^{z} \ln x)
    UNARY = 3  # -a
    POW = 4  # a^b
    ATOM = 10  # names, numbers, calls f(a)


@dataclass(frozen=True, slots=True)
class OpDef:
    """Everything cgraph knows about one op. Nothing about an op is defined anywhere else.

    Attributes
    ----------
    name : the key, and the function name ``cg.parse`` accepts.
    arity : number of operands, or ``None`` for variadic (at least ``min_arity``).
    eval : numpy evaluation ``eval(*operands, **attrs)``.
    shape : shape rule ``shape(*operand_shapes, **attrs) -> shape``; raises ValueError
        with a reason when the shapes do not combine.
    vjp : vector-Jacobian rule ``vjp(g, out, *operands, **attrs)`` over graph Nodes,
        returning one Node (or ``None`` for a zero contribution) per operand; ``None``
        marks an op that is not differentiable.
    text, latex : templates ``"{0} - {1}"``; for variadic ops the separator placed
        between operands (``" + "``).
    prec : the precedence of the op's printed form.
    arg_prec : for each operand position, the least precedence it may have without
        parentheses in text (the last entry repeats for variadic ops).
    latex_arg_prec : the same for LaTeX (``\\frac`` needs no parentheses).
    latex_prec : the precedence of the LaTeX form when it differs from ``prec``.
    latex_arrays : the LaTeX template (separator, for a variadic op) of a node with two
        or more array operands (a known shape with an axis): the product's ``\\odot``, the
        lecture's elementwise product, which juxtaposition would show as a matrix product.
    label : what the computation-graph box shows (``×``, ``ln``, ``σ``).
    attrs : the op's keyword attributes and their defaults (``axis``...).
    attr_forms : attribute -> a check of the form of its value (``check(value)`` raises a
        ValueError naming the attribute), for what the shape rule cannot check while the
        operand shapes are unknown; :func:`check_attrs` runs it whatever the shapes.
    commutative : operands may be reordered (CSE sorts them).
    elementwise : output element i depends only on operand elements i (broadcast).
    reach : how the elements of a (value) operand reach those of the result, for ``cg.grad``
        of an array output (whose gradient is that of the sum of its elements, each
        element's own derivative only where each input element reaches one output
        element, or several by broadcasting the input itself); an elementwise op needs
        none. ``"reduce"``: a result element gathers the operand's along ``axis``
        (``keepdims``); ``"along_axis"``: every element along ``axis`` reaches every
        other (``softmax``); ``"permute"``: the axes reordered by ``axes``;
        ``"reshape"``: one to one, the axes not kept; ``"same_axes"``: the first operand's
        axes are the result's (a slice); ``"broadcast_to"`` / ``"reduce_to"``: the first
        operand broadcast to / summed down to the last operand's shape; ``"contract"``:
        a matrix product. ``""`` (the default, and a new op's): unknown, so ``cg.grad``
        refuses an array output reached through it (pointing to ``cg.jacobian``) rather
        than return the gradient of the sum of its elements (0 for a softmax).
    min_arity : the least number of operands of a variadic op.
    transparent : printers show the operand itself (``identity``).
    domain : where the op is finite, in words (for error messages).
    doc : one line, used for the free function's docstring.
    ufunc : the numpy ufunc computing the same function (``np.sin``), so that
        ``np.sin(node)`` builds this op (``Node.__array_ufunc__``, :func:`ufunc_node`).
    shape_operands : the operand positions of which only the shape (and float dtype) is
        read, never the values (``expand_to``'s ``like``).
    overflows : moderate finite operands can give an infinite value (``exp(800)``,
        ``1e200*1e200``). With ``domain``, what marks an op whose node ``cg.compile``
        still evaluates where ``simplify`` removed it (``exp(x) - exp(x) -> 0``), to raise
        where ``evaluate`` does.
    code_math : what ``cg.compile`` writes for the op on Python floats: a format template
        over the operands' expressions (each a variable or a literal, so no parentheses
        are needed), or a function of those expressions and the attributes; None: a graph
        holding the op gets no scalar path.
    code : the same on numpy values; None: the generated code calls ``eval``.
    code_names : the functions ``code_math`` calls, by the bare names it writes
        (``{"exp": math.exp}``); :func:`register` gathers them into :data:`CODE_NAMES`,
        and refuses a name the generated code uses itself (:func:`generated_name`: ``np``,
        ``v0``, ``_check``, a builtin...).
    keeps_nonfinite : the operand positions (``"all"``: every one but ``shape_operands``)
        through which a non-finite value always makes ``code_math``'s value non-finite or
        raise (``exp(-inf)`` is 0.0, so not ``exp``'s); ``cg.compile`` checks the others.
    fresh : ``eval`` always returns a new array, never a view or an operand, so the
        evaluation plan may overwrite it once it is dead.
    weak_result : ``eval`` gives a Python float whatever its operands (``size``), weak in
        numpy's promotion as constants are.
    """

    name: str
    arity: int | None
    eval: Callable[..., Any]
    shape: Callable[..., Shape]
    vjp: VJP | None
    text: str
    latex: str
    prec: int = Prec.ATOM
    arg_prec: tuple[int, ...] = (0,)
    latex_arg_prec: tuple[int, ...] | None = None
    latex_prec: int | None = None
    latex_arrays: str | None = None
    label: str = ""
    attrs: Mapping[str, Any] = field(default_factory=dict)
    attr_forms: Mapping[str, Callable[[Any], Any]] = field(default_factory=dict)
    commutative: bool = False
    elementwise: bool = False
    reach: str = ""
    min_arity: int = 2
    transparent: bool = False
    domain: str = ""
    doc: str = ""
    ufunc: np.ufunc | None = None
    shape_operands: tuple[int, ...] = ()
    overflows: bool = False
    code_math: str | Callable[..., str] | None = None
    code: str | Callable[..., str] | None = None
    code_names: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    keeps_nonfinite: tuple[int, ...] | str = ()
    fresh: bool = False
    weak_result: bool = False

    @property
    def separable(self) -> bool:
        """Each element of an operand reaches at most one element of the result, apart
        from broadcasting (a reduction, reshape, transpose, slice), or it reads no values."""
        value_free = self.arity is not None and len(self.shape_operands) == self.arity  # size, zeros_like
        return value_free or self.reach not in ("", "along_axis", "contract")

    @property
    def variadic(self) -> bool:
        return self.arity is None

    def arity_ok(self, n: int) -> bool:
        return n >= self.min_arity if self.arity is None else n == self.arity

    def arity_text(self) -> str:
        return f"at least {self.min_arity}" if self.arity is None else str(self.arity)

    def printed_prec(self, *, latex: bool = False) -> int:
        return self.latex_prec if latex and self.latex_prec is not None else self.prec

    def operand_prec(self, i: int, *, latex: bool = False) -> int:
        table = self.latex_arg_prec if latex and self.latex_arg_prec is not None else self.arg_prec
        return table[min(i, len(table) - 1)]

    @property
    def function(self) -> Callable[..., Node]:
        """The free builder function ``cg.<name>(*operands, name=None, **attrs)``."""
        return _FUNCTIONS[self.name]


OPS: dict[str, OpDef] = {}
_FUNCTIONS: dict[str, Callable[..., Node]] = {}
#: numpy ufunc -> the op it builds on a node (each op's ``ufunc`` field, filled by register)
UFUNCS: dict[np.ufunc, OpDef] = {}
#: the functions the ops' ``code_math`` calls, by name (each op's ``code_names``, filled by register)
CODE_NAMES: dict[str, Callable[..., Any]] = {}
#: ops that are graph sources rather than computations
SOURCE_OPS = frozenset({"input", "param", "const"})
#: the names ``cg.compile``'s generated code defines or calls itself, besides Python's builtins
#: (cgraph/compile.py's ``_Writer``, cgraph/codegen.py's ``HELPERS`` and ``support``): an op's
#: ``code_names`` taking one would replace it in the module the code runs in
GENERATED_NAMES = frozenset({
    "np", "inputs", "compiled", "positional", "_array_path", "_fit",  # _Writer
    "_promote", "_fresh", "_unslice_sum", "_check", "_weak", "_param", "_unset",  # codegen.HELPERS
    "_fallback", "_slow", "_other", "_extra",  # codegen.support
})
#: the numbered names it makes: the values v0, v1, ..., the results o0, ..., and what
#: ``_Writer._bind`` binds (``_shape1``, ``_attrs2``, ``_op_softmax3``, ``_const4``, ``_attr5``, ``_index6``)
_NUMBERED = re.compile(r"[vo][0-9]+|_(?:op(?:_\w*)?|shape|attrs?|const|index)[0-9]+")


def generated_name(name: str) -> bool:
    """Whether ``cg.compile``'s generated code uses ``name`` itself (or it is a Python
    builtin or keyword, which that code may call), so that no op's ``code_names`` may
    take it.

    Examples
    --------
    >>> [generated_name(n) for n in ("np", "v0", "_check", "float", "_const3", "_cube", "fpow")]
    [True, True, True, True, True, False, False]
    """
    return (name in GENERATED_NAMES or _NUMBERED.fullmatch(name) is not None or hasattr(builtins, name)
            or keyword.iskeyword(name))


def float_dtype(*values: Any) -> np.dtype:
    """The dtype numpy arithmetic gives ``values`` when it is a float (float16 stays float16,
    as in torch and JAX), else float64 (ints, bools): the dtype of what an op makes from
    nothing but its operands' shapes (``step``, ``zeros_like``, a constant gradient).

    Examples
    --------
    >>> float_dtype(np.float16(1)), float_dtype(np.ones(2, np.float32), 1.0), float_dtype(np.int8(1))
    (dtype('float16'), dtype('float32'), dtype('float64'))
    """
    dtype = np.result_type(*values)
    return dtype if dtype.kind == "f" else _FLOAT64


_FLOAT64 = np.dtype(np.float64)


def keeps_weak(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The eval ``fn`` of an op that picks its result dtype with :func:`float_dtype` (float32
    stays float32), made to give a Python float for a Python number, as a ufunc would: a
    float64 result would not be weak in numpy's promotion, so ``step(size(x))*x`` would
    turn a float32 ``x`` into float64 (and ``np.result_type(x, np.float32)``, as these ops
    had, computed ``cos(step(size(x)))`` in float32)."""

    def op(x: Any, *args: Any, **kw: Any) -> Any:
        if type(x) in (float, int, bool):
            return float(fn(np.float64(x), *args, **kw))
        return fn(x, *args, **kw)

    return op


def register(op: OpDef) -> OpDef:
    """Add ``op`` to the registry and build its free function; a name is taken once."""
    if op.name in OPS or op.name in SOURCE_OPS:
        raise GraphError(f"op {op.name!r} is already registered")
    if op.ufunc is not None and op.ufunc in UFUNCS:
        raise GraphError(f"ufunc {op.ufunc.__name__!r} already builds op {UFUNCS[op.ufunc].name!r}")
    for name, fn in op.code_names.items():
        if not isinstance(name, str) or not name.isidentifier() or generated_name(name):
            raise GraphError(
                f"op {op.name!r}: its code_names cannot take {name!r}: "
                + ("not a Python identifier" if not isinstance(name, str) or not name.isidentifier() else
                   "cg.compile's generated code uses that name itself (np, inputs, the values v0, v1, ..., helpers "
                   "such as _check, Python's builtins)")
                + f"; call the function something else, such as '_{op.name}'"
            )
        if CODE_NAMES.get(name, fn) is not fn:
            raise GraphError(f"op {op.name!r}: the name {name!r} its code calls is another function already")
    OPS[op.name] = op
    _FUNCTIONS[op.name] = _make_function(op)
    if op.ufunc is not None:
        UFUNCS[op.ufunc] = op
    CODE_NAMES.update(op.code_names)
    return op


def check_attrs(op: OpDef, attrs: Mapping[str, Any]) -> None:
    """Check the form of the attribute values, whatever the operand shapes: by the op's own
    ``attr_forms`` (``transpose``'s ``axes=``, ``reshape``'s ``shape=``, ``slice``'s bounds),
    else by what every op family shares: a flag (an attribute whose default is a bool, such
    as ``keepdims``) is True or False, an ``axis`` is None, an int or a tuple of ints. Raises
    ``ValueError`` naming the attribute; the graph turns it into a ``ShapeError`` naming the
    node and op, as for shape rules, which then check only how the values fit the shapes.

    Examples
    --------
    >>> check_attrs(OPS["sum"], {"axis": 1, "keepdims": "yes"})
    Traceback (most recent call last):
    ValueError: keepdims= must be True or False, not 'yes'
    >>> check_attrs(OPS["reshape"], {"shape": "a"})
    Traceback (most recent call last):
    ValueError: shape= must be an int or a tuple of ints, not 'a'
    """
    defaults, forms = op.attrs, op.attr_forms
    for key, value in attrs.items():
        if key in forms:
            forms[key](value)
        elif type(defaults.get(key)) is bool:
            if not isinstance(value, (bool, np.bool_)):
                raise ValueError(f"{key}= must be True or False, not {value!r}")
        elif key == "axis":
            shapes.axis_tuple(value)


def get_op(name: str, *, node: str | None = None) -> OpDef:
    """The OpDef called ``name``; ``UnknownOpError`` (naming ``node``) if there is none."""
    try:
        return OPS[name]
    except (KeyError, TypeError):
        where = f"node {node!r}: " if node is not None else ""
        known = ", ".join(sorted(OPS))
        raise UnknownOpError(f"{where}unknown op {name!r}; known ops: {known}") from None


#: (ufunc, method) -> (the numpy function calling it, the cgraph op doing it)
_METHOD_HINTS = {(np.add, "reduce"): ("np.sum", "sum")}


def ufunc_node(ufunc: np.ufunc, method: str, inputs: tuple, kwargs: Mapping[str, Any]) -> Any:
    """``Node.__array_ufunc__``: the node of the op whose ``ufunc`` field is ``ufunc``
    (``np.sin(x)`` is ``cg.sin(x)``, ``np.ones(3) * x`` is ``cg.mul(np.ones(3), x)``);
    ``UnsupportedOperationError`` naming the ufunc for anything else: a ufunc without an
    op, a method other than a call (``reduce``, ``accumulate``, ``outer``...), a keyword
    (``out=``, ``dtype=``, ``where=``). ``np.equal`` and ``np.not_equal`` (``==`` with a
    numpy value on the left) compare as ``Node.__eq__`` does: by identity.

    Examples
    --------
    >>> import cgraph as cg
    >>> x = cg.Graph().input("x")
    >>> cg.to_text(np.exp(np.negative(x)) + np.ones(2))
    'exp(-x) + [1.0, 1.0]'
    >>> np.arctan(x)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    cgraph.errors.UnsupportedOperationError: np.arctan has no cgraph op; on a node, numpy's ufuncs absolute, add, ... build cgraph ops
    >>> np.add.reduce(x)
    Traceback (most recent call last):
    cgraph.errors.UnsupportedOperationError: np.add.reduce (np.sum) cannot be applied to a cgraph node; use cg.sum
    """
    op = UFUNCS.get(ufunc)
    if ufunc in (np.equal, np.not_equal) and method == "__call__" and not kwargs and len(inputs) == 2:
        a, b = inputs
        same = a.__eq__(b) if hasattr(a, "graph") else b.__eq__(a)  # a node's identity
        return same if ufunc is np.equal else not same
    where = f"np.{ufunc.__name__}"
    if method != "__call__":
        caller, use = _METHOD_HINTS.get((ufunc, method), ("", ""))
        hint = f"; use cg.{use}" if use else f"; cg.{op.name}(...) builds the elementwise node" if op else ""
        called = f" ({caller})" if caller else ""
        raise UnsupportedOperationError(f"{where}.{method}{called} cannot be applied to a cgraph node{hint}")
    if op is None:
        known = sorted(u.__name__ for u in UFUNCS)
        raise UnsupportedOperationError(
            f"{where} has no cgraph op; on a node, numpy's ufuncs {', '.join(known)} build cgraph ops"
        )
    if kwargs:
        key = sorted(kwargs)[0]
        raise UnsupportedOperationError(
            f"{where}(..., {key}=...) cannot be applied to a cgraph node: a node is a formula, not an"
            f" array; cg.{op.name}(...) builds it (and cg.evaluate computes its value)"
        )
    # numpy hands a numpy scalar on the left over as a 0-d array: keep it the scalar it was
    return op.function(*(v[()] if type(v) is np.ndarray and v.ndim == 0 else v for v in inputs))


def array_function_error(func: Any) -> UnsupportedOperationError:
    """``Node.__array_function__``: numpy functions that are not ufuncs (``np.mean``,
    ``np.dot``, ``np.transpose``...) would read a node as a 0-d object array and give a
    wrong formula (``np.mean(x)`` was ``x/1``, ``np.dot(x, x)`` was ``x*x``), so they are
    refused, naming the cgraph function of the same name where there is one.

    Examples
    --------
    >>> import cgraph as cg
    >>> np.mean(cg.Graph().input("x"))
    Traceback (most recent call last):
    cgraph.errors.UnsupportedOperationError: np.mean cannot be applied to a cgraph node; use cg.mean
    """
    name = getattr(func, "__name__", repr(func))
    module = str(getattr(func, "__module__", None) or "numpy").removeprefix("numpy")  # "", ".linalg", "._core.x"
    where = f"np{module if module.count('.') == 1 and not module.startswith('._') else ''}.{name}"
    use = "cg.matmul (or @)" if name in ("dot", "matmul") else f"cg.{name}" if name in OPS else ""
    if name in ("shape", "ndim"):
        hint = "; the node's shape is not declared (node.shape is None or holds None)"
    else:
        hint = f"; use {use}" if use else "; build the formula with cgraph's functions and cg.evaluate it"
    return UnsupportedOperationError(f"{where} cannot be applied to a cgraph node{hint}")


#: ``cgraph.graph.apply_op``, which the op functions call; graph imports the registry, so
#: it sets this when it is imported (an import inside the functions costs every call)
apply_op: Callable[..., Node] = None  # type: ignore[assignment]


def _attribute_as_operand(op: OpDef, operands: tuple) -> ArityError:
    """``cg.sum(x, 1)``, ``cg.reshape(x, (2, 3))``, ``cg.softmax(z, -1)``: numpy's and
    PyTorch's positional axis or shape, which an op takes by keyword.

    Examples
    --------
    >>> import cgraph as cg
    >>> cg.sum(cg.Graph().input("x"), 1)
    Traceback (most recent call last):
    cgraph.errors.ArityError: sum takes 1 operand(s), got 2; its attributes go by keyword: cg.sum(x, axis=1)
    """
    from ..graph import Node  # (graph imports this module)

    extra = operands[op.arity:]
    text = f"{op.name} takes {op.arity_text()} operand(s), got {len(operands)}"
    if any(isinstance(v, Node) for v in extra):
        return ArityError(text)
    keys = list(op.attrs)[: len(extra)]
    given = ", ".join(f"{k}={v!r}" for k, v in zip(keys, extra))
    return ArityError(f"{text}; its attributes go by keyword: cg.{op.name}({', '.join('xyz'[: op.arity])}, {given})")


def _make_function(op: OpDef) -> Callable[..., Node]:
    defaults = MappingProxyType(dict(op.attrs))

    def function(*operands: Any, name: str | None = None, **attrs: Any) -> Node:
        if op.arity is not None and len(operands) > op.arity and defaults:
            raise _attribute_as_operand(op, operands)
        if not attrs:  # the common call: no attributes to check or merge
            return apply_op(op, operands, defaults, name=name)
        unknown = set(attrs) - set(defaults)
        if unknown:  # a TypeError, as Python's own for a wrong call (docs/errors.md)
            takes = ", ".join(f"{k}=" for k in [*defaults, "name"])
            raise TypeError(f"{op.name}() got unexpected keyword argument(s) {sorted(unknown)}; it takes {takes}")
        return apply_op(op, operands, {**defaults, **attrs}, name=name)

    params = [inspect.Parameter("operands", inspect.Parameter.VAR_POSITIONAL)]
    if op.arity is not None:
        params = [
            inspect.Parameter(n, inspect.Parameter.POSITIONAL_ONLY)
            for n in ("x", "y", "z")[: op.arity]
        ]
    params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY, default=v) for k, v in defaults.items()]
    params.append(inspect.Parameter("name", inspect.Parameter.KEYWORD_ONLY, default=None))
    function.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    function.__name__ = function.__qualname__ = op.name
    function.__doc__ = (
        f"{op.doc}\n\nBuilds a ``{op.name}`` node in the graph of the operands. Python numbers"
        " are promoted to constants; ``name=`` names the node.\n\n"
        f"Examples\n--------\n>>> import cgraph as cg\n>>> g = cg.Graph()\n"
        f">>> x = g.input('x')\n>>> y = cg.{op.name}({', '.join(['x'] * (op.arity or 2))})\n"
        f">>> y.op\n'{op.name}'\n"
    )
    return function
