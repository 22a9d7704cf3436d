"""Graphs as JSON files: ``save``/``load`` (``dumps``/``loads`` for strings). No pickle.

The format (version 1) is one JSON object, written one node per line::

    {"format": "cgraph", "version": 1, "name": "lecture", "outputs": ["y"],
     "nodes": [
      {"name": "x", "op": "input", "shape": null, "attrs": {"dtype": null}},
      {"name": "t1", "op": "const", "shape": [], "attrs": {"value": {"int": "2"}}},
      {"name": "a", "op": "mul", "operands": ["x", "t1"], "shape": null, "attrs": {}},
      ...]}

Nodes come in creation order; ``operands`` are in operand order. Constant and
parameter values are tagged so that nothing is lost: ``{"int": "7"}`` (exact, any
size), ``{"fraction": "1/3"}``, ``{"float": 2.5}`` or ``{"float": "nan"}`` /
``"inf"`` / ``"-inf"``, ``{"array": {"dtype": "float64", "shape": [2, 2], "data":
[...]}}`` (row-major, non-finite entries as those strings). Op attributes are plain
JSON (tuples as lists). ``meta`` holds any other node attribute (``layer``,
``weights``, ``bias``, ``adjoint``, ``adjoint_of``, ...), as plain JSON.

:func:`load` checks everything and raises :class:`~cgraph.LoadError` naming the file
and the field or node at fault; errors the graph itself finds (a cycle, an unknown op,
a wrong arity, a shape mismatch) are chained as its ``__cause__``.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import stat
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from .checks import shown
from .errors import ArityError, CGraphError, GraphError, LoadError, UnknownOpError, check_path
from .graph import Graph, param_value, require_graph
from .ops.registry import OPS, SOURCE_OPS

__all__ = ["FORMAT", "VERSION", "dumps", "load", "loads", "save"]

FORMAT = "cgraph"
VERSION = 1
_CORE = frozenset({"op", "attrs", "role", "shape", "order"})  # node data that is not metadata
_NONFINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
_MAX_DIGITS = 100_000  # of an exact int constant, in hex
_INT = re.compile(r"-?(?:[0-9]{1,4300}|0x[0-9a-f]+)")


def dumps(g: Graph) -> str:
    """The graph as JSON text (validated first; a broken graph is never written).

    Examples
    --------
    >>> import cgraph as cg
    >>> g = cg.parse("y = x^2 + 1")
    >>> text = cg.dumps(g)
    >>> text.splitlines()[0]
    '{"format": "cgraph", "version": 1, "name": "graph", "outputs": ["y"],'
    >>> h = cg.loads(text)
    >>> list(h.nx) == list(g.nx), float(cg.evaluate(h, x=3.0)["y"])
    (True, 10.0)
    """
    require_graph(g, "dumps").validate()
    if not isinstance(g.name, str):  # (g.name set after Graph(...)): load would refuse the file
        raise GraphError(f"graph name {shown(g.name)} cannot be saved: it must be a string")
    order = sorted(g.nx, key=lambda n: g.nx.nodes[n]["order"])
    head = {"format": FORMAT, "version": VERSION, "name": g.name, "outputs": list(g.outputs)}
    lines = [_json(head)[:-1] + ","]
    nodes = [" " + _json(_encode_node(g, n)) for n in order]
    lines.append(' "nodes": [')
    lines.append(",\n".join(nodes))
    lines.append("]}\n")
    return "\n".join(lines)


def save(g: Graph, path: str | os.PathLike) -> Path:
    """Write ``g`` to ``path`` as JSON (atomically: no half-written file is left).

    Examples
    --------
    >>> import cgraph as cg, tempfile, os
    >>> path = cg.save(cg.parse("sin(x)*z"), os.path.join(tempfile.mkdtemp(), "g.json"))
    >>> cg.load(path).inputs
    ['x', 'z']
    """
    check_path(path, "cg.save: path")
    path = Path(path)
    text = dumps(g)
    if not path.parent.is_dir():  # else the error would name the temporary file
        raise FileNotFoundError(errno.ENOENT, f"cannot save the graph: folder {str(path.parent)!r} does not exist", str(path))
    if path.is_dir():  # likewise: os.replace named the temporary file
        raise IsADirectoryError(errno.EISDIR, "cannot save the graph: it is a folder; give a file name "
                                f"such as {str(path / 'graph.json')!r}", str(path))
    try:
        write_replacing(path, text.encode("utf-8"))
    except OSError as exc:  # a folder one may not write in, a full disk: the error named the temporary file
        raise OSError(exc.errno, f"cannot save the graph: {exc.strerror or exc}", str(path)) from None
    return path


def write_replacing(path: Path, data: bytes, *, hidden: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file in its folder (``.name.*.tmp``
    where ``hidden``) and a rename, so no reader sees half a file. The file gets the
    permissions ``open(path, "w")`` would give it (mkstemp's 0600 would make it private).
    The temporary file is removed on any failure, Ctrl-C included; an OSError is raised
    as it came (it may name the temporary file: the callers name ``path``)."""
    fd, tmp = tempfile.mkstemp(prefix=("." if hidden else "") + path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, _file_mode(path))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _file_mode(path: Path) -> int:
    """The permissions ``open(path, "w")`` would leave: an existing file's own, else
    read-write as the umask allows."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def load(path: str | os.PathLike) -> Graph:
    """Read a graph written by :func:`save`; ``LoadError`` names what is wrong and where."""
    check_path(path, "cg.load: path")
    path = Path(path)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")  # a byte order mark is no part of the text (RFC 8259 lets readers skip it)
    except UnicodeDecodeError as exc:
        raise LoadError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return loads(text, source=str(path))


def loads(text: str, *, source: str = "<string>") -> Graph:
    """A graph from JSON text (see :func:`dumps`); ``source`` names it in errors."""
    doc = _decode_json(text, source)
    r = _Reader(source)
    r.fields(doc, "the document", required={"format", "version", "nodes", "outputs"}, optional={"name"})
    if doc["format"] != FORMAT:
        r.fail(f"not a cgraph file (format {shown(doc['format'])}, expected {FORMAT!r})")
    version = doc["version"]
    if not _is_int(version):
        r.fail(f"version must be an int, not {shown(version)}")
    if version != VERSION:
        newer = " (written by a newer cgraph)" if version > VERSION else ""
        r.fail(f"unsupported format version {shown(version)}{newer}; this cgraph reads version {VERSION}")
    name = doc.get("name", "graph")
    if not isinstance(name, str):
        r.fail(f"name must be a string, not {shown(name)}")
    return _build(r, name, doc["nodes"], doc["outputs"])


# ---------------------------------------------------------------------- writing
def _json(obj: Any) -> str:
    text = json.dumps(obj, allow_nan=False, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate in a name: JSON's \ud800 escape keeps it exactly
        text = json.dumps(obj, allow_nan=False)
    return text


def _encode_node(g: Graph, n: str) -> dict:
    data = g.nx.nodes[n]
    op = data["op"]
    node: dict[str, Any] = {"name": n, "op": op}
    if op not in SOURCE_OPS:
        node["operands"] = list(g.operands(n))
    shape, attrs = data["shape"], data["attrs"]
    if data["role"] == "param" and attrs.get("value") is not None:  # set on the node, perhaps (w.attrs["value"])
        # checked and made a float array; the shape stays the declared one, which the
        # users' shapes were inferred from (unknown, for a param declared without one)
        attrs = {**attrs, "value": param_value(n, attrs["value"], shape)[0]}
    node["shape"] = None if shape is None else list(shape)
    node["attrs"] = {k: _encode_attr(n, k, v) for k, v in attrs.items()}
    meta = {k: _plain(v, f"node {n!r}: metadata {k!r}") for k, v in data.items() if k not in _CORE}
    if meta:
        node["meta"] = meta
    return node


def _encode_attr(n: str, key: str, v: Any) -> Any:
    if key == "value":
        return None if v is None else _encode_value(v)
    if key == "dtype":
        return None if v is None else np.dtype(v).name
    return _plain(v, f"node {n!r}: attribute {key!r}")


def _encode_value(v: Any) -> dict:
    if isinstance(v, np.ndarray):
        flat = [_float_text(x) for x in v.ravel().tolist()]
        return {"array": {"dtype": v.dtype.name, "shape": list(v.shape), "data": flat}}
    if isinstance(v, Fraction):
        return {"fraction": f"{_int_text(v.numerator)}/{_int_text(v.denominator)}"}
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return {"int": _int_text(int(v))}
    return {"float": _float_text(float(v))}


def _int_text(v: int) -> str:
    # decimal, but hex beyond Python's 4300-digit limit on str(int)
    return str(v) if v.bit_length() < 14_000 else ("-" if v < 0 else "") + hex(abs(v))


def _float_text(x: Any) -> Any:
    if isinstance(x, float) and not math.isfinite(x):
        return "nan" if math.isnan(x) else ("inf" if x > 0 else "-inf")
    return x


def _plain(v: Any, where: str) -> Any:
    """``v`` as plain JSON (tuples become lists), or GraphError naming ``where``."""
    if v is None or isinstance(v, (bool, str)):
        return v
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        if not math.isfinite(v):
            raise GraphError(f"{where}: {v} cannot be saved (only finite numbers in attributes and metadata)")
        return float(v)
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, (list, tuple)):
        return [_plain(x, where) for x in v]
    if isinstance(v, dict) and all(isinstance(k, str) for k in v):
        return {k: _plain(x, where) for k, x in v.items()}
    raise GraphError(f"{where}: a {type(v).__name__} cannot be saved as JSON")


# ---------------------------------------------------------------------- reading
def _decode_json(text: str, source: str) -> Any:
    if not isinstance(text, str):
        raise LoadError(f"{source}: expected JSON text (str), not {type(text).__name__}")

    def no_duplicates(pairs: list) -> dict:
        out = {}
        for k, v in pairs:
            if k in out:
                raise LoadError(f"{source}: the key {k!r} appears twice in one object")
            out[k] = v
        return out

    def no_constants(c: str) -> None:
        raise LoadError(f'{source}: {c} is not JSON (a non-finite float is written {{"float": "nan"}})')

    def finite(s: str) -> float:
        x = float(s)
        if not math.isfinite(x):
            raise LoadError(f'{source}: the number {s} is out of range (write {{"float": "inf"}})')
        return x

    try:
        return json.loads(text, object_pairs_hook=no_duplicates, parse_constant=no_constants, parse_float=finite)
    except json.JSONDecodeError as exc:
        cut = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated string")
        end = " (the file ends too early: truncated?)" if cut else ""
        raise LoadError(f"{source}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{end}") from None
    except RecursionError:
        raise LoadError(f"{source}: JSON nested too deeply") from None
    except LoadError:
        raise  # from the hooks above, already naming the source
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        raise LoadError(f"{source}: invalid JSON: {exc}") from None


class _Reader:
    """Checks with messages that name the file and the field."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, message: str, cause: BaseException | None = None) -> None:
        raise LoadError(f"{self.source}: {message}") from cause

    def fields(self, obj: Any, where: str, *, required: set, optional: set = frozenset()) -> None:
        if not isinstance(obj, dict):
            self.fail(f"{where} must be a JSON object, not {type(obj).__name__}")
        missing = sorted(required - set(obj))
        if missing:
            self.fail(f"{where}: missing field(s) {', '.join(map(repr, missing))}")
        unknown = sorted(set(obj) - required - optional)
        if unknown:
            self.fail(f"{where}: unknown field(s) {', '.join(map(repr, unknown))}")


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _build(r: _Reader, name: str, nodes: Any, outputs: Any) -> Graph:
    if not isinstance(nodes, list):
        r.fail(f"'nodes' must be a list, not {type(nodes).__name__}")
    g = Graph(name)
    stored: dict[str, Any] = {}
    edges: list[tuple[str, str, int]] = []
    for i, node in enumerate(nodes):
        n, op, attrs, shape, meta, operands = _read_node(r, i, node)
        if n in g.nx:
            r.fail(f"nodes[{i}]: the name {n!r} is used twice")
        role = op if op in SOURCE_OPS else "op"
        g._add_node(n, op, attrs, role, shape)
        g.nx._node[n].update(meta)
        stored[n] = shape
        edges += [(src, n, k) for k, src in enumerate(operands)]
    for src, n, k in edges:
        if src not in g.nx:
            r.fail(f"node {n!r}: operand {k} {src!r} is not a node")
        g.nx.add_edge(src, n, key=k)
    g._changed()
    if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
        r.fail("'outputs' must be a list of node names")
    for o in outputs:
        if o not in g.nx:
            r.fail(f"output {o!r} is not a node")
    if len(set(outputs)) != len(outputs):
        r.fail(f"'outputs' lists a node twice: {outputs}")
    g.set_outputs(outputs)
    try:
        g.validate()
    except CGraphError as exc:
        r.fail(str(exc), exc)
    for n, shape in stored.items():
        if g.nx.nodes[n]["shape"] != shape:
            r.fail(f"node {n!r}: stored shape {shape} differs from the inferred shape {g.nx.nodes[n]['shape']}")
    return g


def _read_node(r: _Reader, i: int, node: Any) -> tuple:
    where = f"nodes[{i}]"
    r.fields(node, where, required={"name", "op", "shape", "attrs"}, optional={"operands", "meta"})
    n, op = node["name"], node["op"]
    if not isinstance(n, str) or not n:
        r.fail(f"{where}: 'name' must be a non-empty string, not {shown(n)}")
    where = f"node {n!r}"
    if not isinstance(op, str) or (op not in OPS and op not in SOURCE_OPS):
        known = ", ".join(sorted(OPS))
        cause = UnknownOpError(f"{where}: unknown op {shown(op)}; known ops: {known}")
        r.fail(str(cause), cause)
    operands = node.get("operands", [])
    if not isinstance(operands, list) or not all(isinstance(o, str) for o in operands):
        r.fail(f"{where}: 'operands' must be a list of node names")
    if op in SOURCE_OPS and operands:
        r.fail(f"{where}: a {op} node takes no operands")
    if op in OPS and not OPS[op].arity_ok(len(operands)):
        cause = ArityError(f"{op} takes {OPS[op].arity_text()} operand(s), got {len(operands)} (node {n!r})")
        r.fail(f"{where}: {op} takes {OPS[op].arity_text()} operand(s), got {len(operands)}", cause)
    shape = _read_shape(r, where, node["shape"])
    attrs = _read_attrs(r, where, op, node["attrs"])
    value = attrs.get("value")
    if op in ("param", "const") and value is not None and shape != np.shape(value) and not (
            op == "param" and shape is None):  # a param declared without a shape, its value set later
        r.fail(f"{where}: shape {shape} does not match its value's shape {np.shape(value)}")
    meta = node.get("meta", {})
    if not isinstance(meta, dict):
        r.fail(f"{where}: 'meta' must be an object")
    clash = sorted(set(meta) & _CORE)
    if clash:
        r.fail(f"{where}: metadata may not be called {', '.join(map(repr, clash))}")
    return n, op, attrs, shape, meta, operands


def _read_shape(r: _Reader, where: str, shape: Any) -> tuple | None:
    if shape is None:
        return None
    if not isinstance(shape, list) or not all(d is None or (_is_int(d) and d >= 0) for d in shape):
        r.fail(f"{where}: 'shape' must be null or a list of non-negative ints and nulls, not {shown(shape)}")
    return tuple(shape)


def _read_attrs(r: _Reader, where: str, op: str, attrs: Any) -> dict:
    if not isinstance(attrs, dict):
        r.fail(f"{where}: 'attrs' must be an object")
    if op == "input":
        r.fields(attrs, f"{where}: attrs", required=set(), optional={"dtype"})
        return {"dtype": _read_dtype(r, where, attrs.get("dtype"), kinds="fiu")}
    if op in ("param", "const"):
        r.fields(attrs, f"{where}: attrs", required={"value"})
        return {"value": _read_value(r, where, attrs["value"], op)}
    allowed = OPS[op].attrs
    r.fields(attrs, f"{where}: attrs", required=set(), optional=set(allowed))
    return {**allowed, **{k: _tuples(v) for k, v in attrs.items()}}


def _tuples(v: Any) -> Any:
    return tuple(_tuples(x) for x in v) if isinstance(v, list) else v


def _read_dtype(r: _Reader, where: str, name: Any, *, kinds: str) -> np.dtype | None:
    if name is None:
        return None
    try:
        dtype = np.dtype(name) if isinstance(name, str) else None
    except (TypeError, ValueError, SyntaxError):  # numpy's dtype parser raises all three
        dtype = None
    if dtype is None or dtype.kind not in kinds or dtype.name != name:  # only the names dumps writes
        r.fail(f"{where}: unsupported dtype {shown(name)}")
    return dtype


def _read_value(r: _Reader, where: str, v: Any, op: str) -> Any:
    where = f"{where}: value"
    if v is None and op == "param":
        return None
    if not isinstance(v, dict) or len(v) != 1:
        r.fail(f"{where} must be one of {{'int'|'fraction'|'float'|'array': ...}}, not {shown(v)}")
    ((tag, x),) = v.items()
    if tag == "int" and isinstance(x, str) and _INT.fullmatch(x) and len(x) <= _MAX_DIGITS:
        value: Any = _parse_int(x)
    elif tag == "fraction" and isinstance(x, str):
        value = _fraction(r, where, x)
    elif tag == "float" and isinstance(x, str) and x in _NONFINITE:
        value = _NONFINITE[x]
    elif tag == "float" and isinstance(x, (int, float)) and not isinstance(x, bool) and _finite(x):
        value = float(x)
    elif tag == "array":
        value = _array(r, where, x)
    else:
        r.fail(f"{where}: bad {shown(tag)} value {shown(x)}")
    if op == "param":
        value = np.asarray(value)
        if value.dtype.kind != "f":
            r.fail(f"{where}: a param value must be a float array")
    return value


def _parse_int(text: str) -> int:
    sign = -1 if text.startswith("-") else 1
    digits = text.lstrip("-")
    return sign * (int(digits, 16) if digits.startswith("0x") else int(digits))


def _finite(x: int | float) -> bool:
    try:
        return math.isfinite(float(x))
    except OverflowError:
        return False


def _fraction(r: _Reader, where: str, text: str) -> Fraction | int:
    p, _, q = text.partition("/")
    if not (_INT.fullmatch(p) and _INT.fullmatch(q) and len(text) <= _MAX_DIGITS) or _parse_int(q) <= 0:
        r.fail(f"{where}: bad fraction {shown(text)} (expected 'p/q' with q > 0)")
    f = Fraction(_parse_int(p), _parse_int(q))
    return f if f.denominator != 1 else int(f)


def _array(r: _Reader, where: str, spec: Any) -> np.ndarray:
    r.fields(spec, f"{where} array", required={"dtype", "shape", "data"})
    dtype = _read_dtype(r, where, spec["dtype"], kinds="f")
    shape = spec["shape"]
    if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
        r.fail(f"{where}: array shape must be a list of non-negative ints, not {shown(shape)}")
    data = spec["data"]
    if not isinstance(data, list) or len(data) != math.prod(shape):
        r.fail(f"{where}: array data must be a list of {math.prod(shape)} numbers for shape {shape}")
    numbers = []
    for x in data:
        if isinstance(x, str) and x in _NONFINITE:
            x = _NONFINITE[x]
        elif isinstance(x, bool) or not isinstance(x, (int, float)):
            r.fail(f"{where}: array entry {shown(x)} is not a number")
        elif not _finite(x):  # an int past float64 (numpy raised OverflowError)
            r.fail(f"{where}: array entry {shown(x)} is beyond the range of {dtype.name}")
        numbers.append(x)
    with np.errstate(over="ignore"):
        arr = np.array(numbers, dtype=dtype)
    past = np.isinf(arr) & np.isfinite(np.array(numbers, dtype=np.float64))
    if past.any():  # 1e300 as float32 would silently become inf
        r.fail(f"{where}: array entry {shown(numbers[int(np.argmax(past))])} is beyond the range of {dtype.name}")
    try:
        return arr.reshape(shape)
    except ValueError as exc:  # more than 64 dimensions, a dimension past numpy's index range
        r.fail(f"{where}: numpy cannot make an array of shape {shown(shape)} ({exc})")
