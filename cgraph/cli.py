"""The ``cgraph`` command: draw, differentiate and check formulas from the shell.

Each subcommand is one function registered with :func:`command`; adding one touches
nothing else. A user's mistake (bad formula, missing file, unknown input) prints one
line on stderr and exits with status 1 (2 for bad command-line usage), never a
traceback.

Examples
--------
>>> main(["--version"])  # doctest: +ELLIPSIS
cgraph ...
0
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import math
import os
import re
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from .checks import shown
from .errors import CGraphError, InputError, LoadError, without_nonfinite_hint
from .parse import MAX_ARRAY_DIMS

__all__ = ["COMMANDS", "command", "load_graph", "main", "parse_bindings"]

#: name -> (help, add_arguments, run); ``run(args) -> exit status``
COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]] = {}


def command(name: str, help: str, arguments: Callable[[argparse.ArgumentParser], None]):  # noqa: A002
    """Register ``run(args) -> int`` as subcommand ``name`` with its ``arguments`` adder."""

    def register(run: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
        COMMANDS[name] = (help, arguments, run)
        return run

    return register


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cgraph`` command with ``argv`` (default: ``sys.argv[1:]``); the exit status."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="cgraph",
        description="Differentiation made visible: computation graphs, adjoint graphs, symbolic "
        "derivatives and lecture-style diagrams. FORMULA_OR_FILE is a formula "
        "('exp(x*z) + sin(x)'), a file holding a program in the same syntax (one "
        "'name = expression' per line), or a graph saved as JSON by cg.save.",
    )
    parser.add_argument("--version", action="version", version=f"cgraph {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (text, arguments, _) in COMMANDS.items():
        p = sub.add_parser(name, help=text, description=text)
        arguments(p)
        p.set_defaults(usage_error=p.error)  # a command's own check of its options: status 2
    # a formula that starts with a minus (-x*z) is not an option: argparse would say
    # FORMULA_OR_FILE is missing; a leading space makes it positional. Short options are the
    # command's own, -h alone or -o with or without its value attached (-og.svg): -h*log(h)
    # and, in a command without -o, -omega*x are formulas
    argv = list(sys.argv[1:] if argv is None else argv)
    start = next((i for i, a in enumerate(argv) if a in COMMANDS), len(argv))
    own = sub.choices[argv[start]]._option_string_actions if start < len(argv) else {}

    def option(a: str) -> bool:
        return a[1:2] in ("", "-") or a[:2] in own and (a == a[:2] or own[a[:2]].nargs != 0)

    argv[start:] = [f" {a}" if a[:1] == "-" and not option(a) else a for a in argv[start:]]
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:  # `cgraph grad f --foo`: the command's usage, not the top-level one
            (args.usage_error if args.command else parser.error)(f"unrecognized arguments: {' '.join(extra)}")
    except SystemExit as exc:  # --help, --version and usage errors
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    try:
        with warnings.catch_warnings(), _escaping_stdout():  # (restores showwarning)
            warnings.showwarning = _warning_line(args.command)
            return COMMANDS[args.command][2](args)
    except SystemExit as exc:  # args.usage_error(...)
        return int(exc.code or 0)
    except BrokenPipeError:  # `cgraph grad f.json | head`: the reader has what it wanted
        _quiet_stdout()
        return 141
    except (CGraphError, OSError) as exc:
        print(f"cgraph {args.command}: error: {_message(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


@contextlib.contextmanager
def _escaping_stdout() -> Iterator[None]:
    """stdout writes a character its encoding lacks as an escape (θ as \\u03b8), as Python's
    stderr does: ``cgraph grad 'sin(θ)'`` to an ASCII or cp1252 stdout (a Windows console
    redirected to a file, PYTHONIOENCODING=ascii) ended in a UnicodeEncodeError traceback."""
    stream = sys.stdout
    errors = getattr(stream, "errors", None)
    if errors != "strict" or not callable(getattr(stream, "reconfigure", None)):
        yield
        return
    stream.reconfigure(errors="backslashreplace")
    try:
        yield
    finally:
        with contextlib.suppress(ValueError, OSError):  # (a stdout closed on the way)
            stream.reconfigure(errors=errors)


def _warning_line(command: str) -> Callable[..., None]:
    """A warning as one line, ``cgraph grad: warning: ...``, like an error: Python's own
    format showed the line of cgraph's source that raised it."""
    def show(message: Any, category: Any, filename: str, lineno: int, file: Any = None, line: Any = None) -> None:
        print(f"cgraph {command}: warning: {message}", file=sys.stderr)

    return show


def _quiet_stdout() -> None:
    """Point stdout at the null device, so that the interpreter's last flush of the output
    nobody reads does not fail again at exit (as Python's docs on SIGPIPE advise)."""
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file behind stdout (captured)
        pass


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror or exc}: {exc.filename}"
    from .passes.adjoint import JACOBIAN_HINT

    # the library's hints name a keyword the command line has no option for, and Python calls
    return str(without_nonfinite_hint(exc)).replace(JACOBIAN_HINT, _JACOBIAN_COMMAND)


#: what the command line says instead of JACOBIAN_HINT (cg.jacobian and cg.vjp_graph)
_JACOBIAN_COMMAND = ("; for its Jacobian, cgraph jacobian prints the vector-Jacobian product and, with --at, the "
                     "Jacobian at that point")


# ---------------------------------------------------------------------------- shared arguments
def load_graph(source: str) -> Any:
    """A Graph from a formula, a program file, or a saved JSON graph."""
    import cgraph as cg

    path = Path(source)
    try:
        is_file, is_dir = path.is_file(), path.is_dir()
    except OSError:  # a formula too long to be a file name
        is_file = is_dir = False
    if not source:  # Path("") is ".", a folder: cg.parse says the formula is empty
        is_file = is_dir = False
    # "sub/" or "/data" names a folder; a bare "x" is a formula even if a folder x exists
    if is_dir and (any(sep in source for sep in ("/", os.sep)) or not _parses(source)):
        raise IsADirectoryError(21, "is a directory, not a formula or a file", source)
    if is_file:
        if path.suffix.lower() == ".json":
            return cg.load(path)
        try:
            text = path.read_text(encoding="utf-8-sig")  # a byte order mark (Windows editors) is no part of it
        except UnicodeDecodeError:
            raise LoadError(f"{source}: not a text file (a program or a JSON graph)") from None
        if text.lstrip().startswith("{"):  # a graph cg.save wrote under another suffix: no program starts so
            return cg.loads(text, source=source)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                g = cg.parse(text)
        except cg.ParseError as exc:  # "line 2, column 5" of which file: the command may read several
            raise cg.ParseError(f"{source}, {exc}") from None
        for w in caught:  # its warnings name the file as its errors do ("line 6: 'f' is assigned ...")
            warnings.warn(f"{source}, {w.message}", w.category, stacklevel=2)
        return g
    try:
        return cg.parse(source)
    except cg.ParseError:
        # "x/y" is a formula; "net.json" or "examples/f.txt" that does not parse is a missing file
        if path.suffix.lower() in (".json", ".txt", ".cg", ".prog") or ("/" in source and " " not in source):
            raise FileNotFoundError(2, "no such file", source) from None
        raise


def _parses(text: str) -> bool:
    import cgraph as cg

    try:
        cg.parse(text)
    except cg.CGraphError:
        return False
    return True


def parse_bindings(items: Sequence[str] | None) -> dict[str, Any]:
    """``["x=2", "z=[1, 2]"]`` -> ``{"x": 2.0, "z": array([1., 2.])}``. A value is JSON,
    and ``nan``, ``inf``, ``-inf`` are written as in a formula (any case) or as JSON's
    ``NaN``, ``Infinity``.

    Examples
    --------
    >>> parse_bindings(["x=2", "z=-0.5"])
    {'x': 2, 'z': -0.5}
    >>> parse_bindings(["x=nan", "z=[1, -inf]"])
    {'x': nan, 'z': array([  1., -inf])}
    >>> parse_bindings(["x=2", "x=3"])
    Traceback (most recent call last):
    cgraph.errors.InputError: --at gives 'x' twice: x=2 and x=3
    """
    import numpy as np

    out: dict[str, Any] = {}
    given: dict[str, str] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        if not sep or not name.strip():
            raise InputError(f"--at expects name=value pairs such as x=2, not {item!r}")
        key = name.strip()
        if key in given:
            raise InputError(f"--at gives {key!r} twice: {given[key]} and {item}")
        given[key] = item
        hint = ""
        pairs = item.split(",")
        if len(pairs) > 1 and all("=" in pair for pair in pairs):  # x=2,z=3, as other tools write it
            hint = f"; separate the pairs with spaces: --at {' '.join(pair.strip() for pair in pairs)}"
        bad = InputError(f"--at {shown(item)}: {shown(text)} is not a number or a [list] of numbers{hint}")
        too_large = InputError(f"--at {shown(item)}: a number in it is too large for a float")
        too_deep = InputError(f"--at {shown(item)}: its lists nest deeper than {MAX_ARRAY_DIMS} levels")
        try:
            value = json.loads(_NONFINITE.sub(_json_nonfinite, text), parse_float=_finite_float)
        except json.JSONDecodeError:
            raise bad from None
        except ValueError:  # an int past Python's 4300 digits, or 1e400 (which float() makes inf)
            raise too_large from None
        except RecursionError:  # [[[...]]] some thousands deep
            raise too_deep from None
        exact = isinstance(value, (int, float)) and not isinstance(value, bool)
        if exact:  # 2 stays the integer 2: exact in simplify (and 10**400 is named there)
            out[key] = value
            continue
        try:
            array = np.asarray(value, dtype=object)
        except ValueError:  # a ragged list
            raise bad from None
        if array.ndim > MAX_ARRAY_DIMS:  # as a formula's list (numpy's iterators stop at 32 dimensions)
            raise too_deep
        # true, "1" and null are no numbers (numpy's float64 made them 1.0, 1.0 and nan)
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in array.flat):
            raise bad
        try:
            out[key] = array.astype(np.float64)
        except OverflowError:
            raise too_large from None
    return out


#: nan, inf and -inf as a formula writes them (any case), for JSON's NaN and Infinity
_NONFINITE = re.compile(r"(?<![\w.])(-?)(infinity|inf|nan)(?![\w.])", re.IGNORECASE)


def _finite_float(text: str) -> float:
    """A JSON number as a float; ValueError for one past the floats (1e400), which float()
    made inf: --at x=1e400 said "input 'x' is not finite (inf)", a value no one typed."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(text)
    return value


def _json_nonfinite(m: re.Match) -> str:
    return "NaN" if m.group(2).lower() == "nan" else m.group(1) + "Infinity"


def _path(text: str) -> str:
    """An ``-o`` file or folder name; an empty one, or one holding NUL (``open`` raises
    ValueError), is a usage error."""
    if not text:  # Path("") is the current folder
        raise argparse.ArgumentTypeError("expected a file name, got an empty one")
    if "\0" in text:
        raise argparse.ArgumentTypeError(f"{text!r}: a file name cannot hold the NUL character")
    return text


def _number_above(bound: float, relation: str) -> Callable[[str], float]:
    """An option's value as a float, a finite number ``> bound`` or ``>= bound``
    (``relation``); anything else is a usage error that argparse prefixes with the option
    (``argument --rtol: expected a finite number >= 0, got '-1'``)."""
    def number(text: str) -> float:
        text = text.strip()  # (main puts a space before a value that starts with a minus)
        try:
            value = float(text)
        except ValueError:
            value = None
        if value is None or not math.isfinite(value) or value < bound or (relation == ">" and value == bound):
            raise argparse.ArgumentTypeError(f"expected a finite number {relation} {bound:g}, got {text!r}")
        return value

    return number


def _source(p: argparse.ArgumentParser) -> None:
    p.add_argument("source", metavar="FORMULA_OR_FILE", help="a formula, a program file, or a saved JSON graph")


class _EachOnce(argparse.Action):
    """A list option whose repeats add up (``--wrt x --wrt z`` is ``--wrt x z``); an item given
    twice is a usage error naming it (status 2), not a silent duplicate."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        items = list(getattr(namespace, self.dest, None) or [])  # a copy: never the default itself
        for value in values:
            if value in items:
                parser.error(f"{option_string} gives {value!r} twice")
            items.append(value)
        setattr(namespace, self.dest, items)


def _wrt(p: argparse.ArgumentParser, note: str = "") -> None:
    p.add_argument("--wrt", nargs="+", action=_EachOnce, metavar="NAME",
                   help=f"differentiate with respect to these ({note}each name once)")


def _of(p: argparse.ArgumentParser, note: str = "") -> None:
    p.add_argument("--of", metavar="NAME",
                   help=f"the output (or intermediate) to differentiate, for a graph of several outputs; a node computed "
                        f"from the inputs, not an input ({note}default: the only one)")


def _output(args: argparse.Namespace, g: Any) -> str | None:
    """``--of``, or an InputError saying to give it where ``g`` has several outputs: the
    passes' own message would ask for their ``of=`` keyword, which the command has not.

    An ``--of`` naming an input (or param, or constant) itself is an InputError too, in
    every command: its derivative is the identity (``cg.grad(g, of="x")`` gives it, as
    JAX's ``jacrev`` of the identity), which no one asks a command for; ``--of x`` for
    ``--wrt x`` is the likely mistake. ``y = x`` differentiates ``x`` itself."""
    if args.of is None and not g.outputs:  # a saved graph; the library's message asks for its g.output and of=
        raise InputError(f"{args.source!r} has no outputs; say which node to differentiate with --of NAME")
    if args.of is None and len(g.outputs) > 1:
        raise InputError(f"{args.source!r} has {len(g.outputs)} outputs {g.outputs}; say which to differentiate "
                         f"with --of NAME")
    data = g.nx.nodes[args.of] if isinstance(args.of, str) and args.of in g.nx else None
    if data is not None and data["role"] != "op":
        role = {"input": "an input", "param": "a param"}.get(data["role"], "a constant")
        example = f" (e.g. --of {g.outputs[0]} --wrt {args.of})" if len(g.outputs) > 1 else f" (--wrt {args.of})"
        raise InputError(
            f"--of {args.of!r} is {role} of {args.source!r}, not a node computed from its inputs: --of says what to "
            f"differentiate, --wrt with respect to what{example}; for the derivative of {args.of} itself (the "
            f"identity), differentiate the formula 'y = {args.of}'")
    return args.of


def _at(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    p.add_argument("--at", nargs="+", action="extend", metavar="NAME=VALUE", required=required,
                   help="input values, e.g. --at x=2 z=3 (a value may be a [list]; each name once)")


# ---------------------------------------------------------------------------- draw
def _draw_args(p: argparse.ArgumentParser) -> None:
    _source(p)
    p.add_argument("-o", "--output", required=True, type=_path, metavar="FILE", help="the file to write: .svg .pdf .png or .dot")
    p.add_argument("--style", choices=("computation", "network"), default="computation",
                   help="the drawing convention (default: computation)")
    p.add_argument("--adjoint", action="store_true", help="draw the adjoint (reverse-mode) graph")
    _wrt(p, "needs --adjoint; ")
    _of(p, "needs --adjoint; ")
    # no argparse defaults: an option the chosen style would ignore must be told from one not given
    p.add_argument("--rankdir", choices=("LR", "RL", "TB", "BT"),
                   help="computation style: flow direction (default: LR)")
    p.add_argument("--weights", choices=("symbol", "value", "none"),
                   help="network style: edge labels (default: symbol)")
    p.add_argument("--dropped", nargs="+", action="extend", metavar="LAYER:UNITS",
                   help="network style: units removed by dropout, crossed out, e.g. --dropped 1:1,3 2:2 "
                        "(unit numbers as drawn, from 1; layer 0 is the inputs)")
    _at(p)
    p.epilog = ("--adjoint, --at and --rankdir need --style computation; --weights and --dropped need "
                "--style network.")


@command("draw", "draw a graph as a diagram (SVG, PDF, PNG or DOT)", _draw_args)
def _draw(args: argparse.Namespace) -> int:
    import cgraph as cg

    if args.wrt and not args.adjoint:  # it would be ignored: the forward graph has no wrt
        args.usage_error("--wrt needs --adjoint (draw the adjoint graph with respect to these inputs)")
    if args.of and not args.adjoint:
        args.usage_error("--of needs --adjoint (draw the adjoint graph of this output)")
    network = args.style == "network"
    if network and args.rankdir:
        args.usage_error("--rankdir needs --style computation (the network style lays out by layer)")
    if network and args.at:
        args.usage_error("--at needs --style computation (the network style draws no values)")
    if network and args.adjoint:
        args.usage_error("--adjoint needs --style computation (the network style draws the forward network)")
    if args.weights and not network:
        args.usage_error("--weights needs --style network (edge labels of a layered network)")
    if args.dropped and not network:
        args.usage_error("--dropped needs --style network (units of a layered network)")
    dropped = _dropped(args)
    g = load_graph(args.source)
    at = parse_bindings(args.at)
    forward = g
    if args.adjoint:
        g = cg.adjoint(g, wrt=args.wrt, of=_output(args, g))
        if not at:  # as cgraph grad and steps: the adjoint of an array whose elements mix is no derivative of it
            _refuse_mixing_anywhere(forward, g)
    if network:
        options: dict[str, Any] = {"weights": args.weights or "symbol"}
        if dropped:
            options["dropped"] = dropped
    else:
        options = {"rankdir": args.rankdir or "LR"}
        if at:
            options["values"] = cg.evaluate(g, at)
            from .passes.adjoint import differentiated, require_separable

            swept = differentiated(g) if args.adjoint else None
            if swept:  # at this point, as cg.grad refuses it
                names, of = swept
                require_separable(forward, names, of, options["values"][of], at)
    path = cg.render(g, args.output, style=args.style, **options)
    print(path)
    return 0


def _dropped(args: argparse.Namespace) -> dict[int, list[int]]:
    """``--dropped 1:1,3 2:2`` as ``{1: [1, 3], 2: [2]}``; a malformed pair is a usage error."""
    out: dict[int, list[int]] = {}
    for item in args.dropped or []:
        layer, sep, units = item.partition(":")
        try:
            if not sep:
                raise ValueError
            numbers = [int(u) for u in units.split(",")]
            out.setdefault(int(layer), []).extend(numbers)
        except ValueError:
            args.usage_error(f"--dropped {item!r}: write LAYER:UNITS, e.g. 1:1,3 (units 1 and 3 of layer 1)")
    return out


# ---------------------------------------------------------------------------- steps
def _steps_args(p: argparse.ArgumentParser) -> None:
    _source(p)
    p.add_argument("-o", "--output", required=True, type=_path, metavar="DIR", help="the folder for the frames")
    p.add_argument("--format", nargs="+", action=_EachOnce, choices=("svg", "pdf", "png", "dot"),
                   help="file types to write per frame (default: svg; each once)")
    _wrt(p)
    _of(p)
    _at(p)


@command("steps", "write the reverse sweep (backprop) as one frame per adjoint node", _steps_args)
def _steps(args: argparse.Namespace) -> int:
    import cgraph as cg

    g = load_graph(args.source)
    at, of = parse_bindings(args.at), _output(args, g)
    if not at:  # as cgraph grad: the sweep of an array whose elements mix, seeded with 1, is no derivative of it
        _refuse_mixing_anywhere(g, cg.adjoint(g, wrt=args.wrt, of=of))
    paths = cg.backprop_frames(g, args.output, at, formats=args.format or ["svg"], wrt=args.wrt, of=of)
    for p in paths:
        print(p)
    return 0


# ---------------------------------------------------------------------------- grad
def _grad_args(p: argparse.ArgumentParser) -> None:
    _source(p)
    _wrt(p, "default: every input; ")
    _of(p)
    _latex(p)
    p.add_argument("--program", action="store_true",
                   help="print the adjoint program, one step a line (with --at: each with its value)")
    p.add_argument("--expand", action="store_true",
                   help="multiply the derivatives out into sums of terms (with --program: needs --at)")
    _at(p)


@command("grad", "print symbolic derivatives (and their values with --at)", _grad_args)
def _grad(args: argparse.Namespace) -> int:
    import numpy as np

    import cgraph as cg

    if args.expand and args.program and not args.at:  # the program is printed unexpanded
        args.usage_error("--expand with --program needs --at (it expands the values' exact forms only)")
    g = load_graph(args.source)
    at = parse_bindings(args.at)
    of = _output(args, g)
    ga = cg.adjoint(g, wrt=args.wrt, of=of)
    _something_to_differentiate(ga, args.source)
    if not at:
        _refuse_mixing_anywhere(g, ga)
    show = _latex_printer(args) or cg.to_text
    # the values first: an error at the point (log(-1), an array through a softmax) leaves
    # no half answer on stdout
    values = cg.grad(g, wrt=args.wrt, of=of, **at) if at else {}
    derivatives = _expanded(ga) if args.expand else cg.simplify(ga)
    exact = {}
    if at and not args.latex and all(np.ndim(v) == 0 for v in at.values()):
        # the lecture's "3e^6 + 3/ln(2) - ...": the derivative with the point bound, kept exact
        # (before printing too: simplify's shape rules may refuse what evaluate took, softmax of a number)
        exact = _exact_forms(cg.simplify(derivatives if args.expand else ga, **at))
    if args.program and at and not args.latex:
        print(_valued_program(ga, cg.evaluate(ga, **at)))
    else:
        print(show(ga, form="program") if args.program else show(derivatives))
    if at:
        print(_point(at))
        for out, (name, value) in zip(ga.outputs, values.items()):
            rhs = exact.get(out, "")
            shown = f"{rhs} = " if rhs and not _is_number(rhs) else ""
            print(f"d{of or g.outputs[0]}/d{name} = {shown}{_derivative(value)}")
    return 0


def _exact_forms(bound: Any) -> dict[str, str]:
    """Each output of ``bound`` (the derivatives with the point bound) as one expression, where
    it is one: an output whose expression swells past to_text's cap has none (its text is the
    program form, over temporaries t1, t2, ... that the line ``dy/dx = ...`` would not define).
    The derivatives printed above have already warned of the swell."""
    import cgraph as cg

    exact = {}
    for out in bound.outputs:
        with warnings.catch_warnings(record=True) as swelled:
            warnings.simplefilter("always")
            text = cg.to_text(bound.node(out))
        if not swelled:
            exact[out] = text
    return exact


def _refuse_mixing_anywhere(g: Any, ga: Any) -> None:
    """Where the graph alone shows what cg.grad refuses at any point, an array whose elements
    mix (``softmax(x)``, ``x - mean(x)``), the ShapeError it raises there; ``ga``: the
    adjoint of ``g`` the command differentiates."""
    from .passes.adjoint import differentiated, require_separable_anywhere

    swept = differentiated(ga)
    if swept:
        require_separable_anywhere(g, *swept)


def _latex(p: argparse.ArgumentParser) -> None:
    p.add_argument("--latex", action="store_true", help="print LaTeX")
    p.add_argument("--line-width", type=_number_above(0, ">"), metavar="N",
                   help="with --latex: break each equation into lines of about N letters (55 fills a beamer slide in \\small)")


def _latex_printer(args: argparse.Namespace) -> Callable[..., str] | None:
    """cg.to_latex with --line-width for --latex, else None (--line-width without --latex,
    where it would do nothing, is a usage error)."""
    import cgraph as cg

    if args.line_width is not None and not args.latex:
        args.usage_error("--line-width needs --latex (it breaks LaTeX equations into lines)")
    return functools.partial(cg.to_latex, line_width=args.line_width) if args.latex else None


def _something_to_differentiate(derivatives: Any, source: str) -> None:
    """InputError for a formula without inputs ("3"): printing nothing and exiting 0 would
    look like a crash."""
    if not derivatives.outputs:
        raise InputError(f"{source!r} has no inputs or params: there is nothing to differentiate")


def _point(at: dict[str, Any]) -> str:
    """The line before the values: ``at x=2, z=3:``."""
    return "at " + ", ".join(f"{k}={_number(v)}" for k, v in at.items()) + ":"


def _valued_program(ga: Any, values: Any) -> str:
    """The adjoint program with each step's value as a comment (``g_b = ...  # -12.36...``),
    the numbers of the lecture's reverse sweep; ``cg.parse`` still reads it."""
    import numpy as np

    from . import to_text

    lines = to_text(ga, form="program").splitlines()
    width = max(map(len, lines))
    out = []
    for line in lines:
        name = line.partition(" = ")[0].strip()
        name = name[1:-1] if name[:1] == "`" else name
        value = values[name] if name in values else None
        shown = _derivative if name in ga.nx and ga.nx.nodes[name].get("adjoint") else _number  # (-0.0 as 0.0)
        out.append(line if value is None or np.ndim(value) else f"{line.ljust(width)}  # {shown(value)}")
    return "\n".join(out)


def _expanded(ga: Any) -> Any:
    """``cg.expand(ga)`` (terms in the order of the hand derivation), or the expansion of
    the simplified ``ga`` where that is shorter: terms that cancel only once quotients
    are multiplied in (the logistic loss's ``sigmoid(w*x + b) - y``)."""
    import cgraph as cg

    derivatives = cg.expand(ga)
    shorter = cg.expand(cg.simplify(ga))
    with warnings.catch_warnings():  # (of expression swell: the printing of the one chosen warns)
        warnings.simplefilter("ignore")
        return shorter if len(cg.to_text(shorter)) < len(cg.to_text(derivatives)) else derivatives


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _derivative(value: Any) -> str:
    """A derivative's value as :func:`_number` writes it, a zero without its sign
    (``unsigned_zero``: d2/dx2 of ``x^p`` at ``x = p = 0`` is ``-0.0`` in numpy)."""
    from .passes.evaluate import unsigned_zero

    return _number(unsigned_zero(value))


def _number(value: Any) -> str:
    import numpy as np

    from .passes.evaluate import scalar_text

    v = np.asarray(value)
    # one line, as typed after --at (x=[[1, 2], [3, 4]]), not numpy's multi-line matrix
    if v.ndim == 0:
        return scalar_text(v)
    text = np.array2string(v, separator=", ", max_line_width=10**9, formatter={"float_kind": lambda f: f"{f:.10g}"})
    # (numpy breaks the line after each row, and leaves a blank line and an indent between blocks of 3-d arrays)
    return re.sub(r"\n\s*", " ", text)


# ---------------------------------------------------------------------------- hessian
def _hessian_args(p: argparse.ArgumentParser) -> None:
    _source(p)
    _wrt(p, "scalar inputs; default: every input; ")
    _of(p)
    _latex(p)
    _at(p)
    p.epilog = ("A mixed derivative below the diagonal (d2y/dx dz, d/dx of dy/dz) prints the expression of its "
                "mirror above it (d2y/dz dx): the two are equal wherever y is twice continuously differentiable, "
                "but their reverse sweeps simplify to different forms. The values with --at are each entry's own.")


@command("hessian", "print symbolic second derivatives (and the Hessian's values with --at)", _hessian_args)
def _hessian(args: argparse.Namespace) -> int:
    import cgraph as cg

    from .passes.adjoint import derivative_text

    show = _latex_printer(args)
    g = load_graph(args.source)
    at = parse_bindings(args.at)
    of = _output(args, g)
    _scalars_declared(g, args.wrt)
    h = cg.hessian_graph(g, wrt=args.wrt, of=of)
    _something_to_differentiate(h, args.source)
    if not at:  # what grad refuses, the derivative of its derivative is not (d2y/dx2 of softmax(x))
        _refuse_mixing_anywhere(g, cg.adjoint(g, wrt=args.wrt, of=of))
    if at:  # the values first, as grad: an error at the point (log(-1)) leaves no half answer
        _scalars_at(g, h, at)
        matrix = cg.hessian(g, wrt=args.wrt, of=of, **at)
    labels = [derivative_text(h.nx.nodes[name]) for name in h.outputs]  # d2y/dx2, d2y/dz dx (d/dz of dy/dx)
    simplified = _mirrored(cg.simplify(h))
    if show:
        print(show(simplified))
    else:
        lines = cg.to_text(simplified).splitlines()
        if len(lines) == len(labels):  # one line per output (not the program form of a long one)
            lines = [f"{label} = {line.partition(' = ')[2]}" for label, line in zip(labels, lines)]
        print("\n".join(lines))
    if at:
        print(_point(at))
        width = max(map(len, labels))
        for label, value in zip(labels, matrix.flat):
            print(f"{label:<{width}} = {_derivative(value)}")
    return 0


def _mirrored(h: Any) -> Any:
    """The simplified Hessian graph ``h`` with each entry below the diagonal (row i, column
    j < i: d/dw_j of dy/dw_i) reading the expression of its mirror above it, so that the
    symmetric entries print alike. The two are equal wherever y is twice continuously
    differentiable, but each is its own reverse sweep and simplifies to its own form: for
    ``x^p``, d2y/dp dx is ``x^(p - 1) + p*x^(p - 1)*log(x)`` and d2y/dx dp was ``x^p/x +
    p*x^(p - 1)*log(x)`` (the ``1/x`` of the rule of ``log``, its ``x`` the guard that keeps
    the first derivative finite at 0). The row above differentiates a derivative by an
    input after it, the order a textbook writes. An entry another output uses keeps its
    own form (it has a name in what is printed)."""
    from .ops import identity

    n = math.isqrt(len(h.outputs))
    names = list(h.outputs)
    out = h.copy()
    nodes = out.nx.nodes
    for i in range(n):
        for j in range(i):
            name, mirror = names[i * n + j], names[j * n + i]
            if out.users(name):
                continue
            kept = {k: v for k, v in nodes[name].items() if k in ("partial", "adjoint", "adjoint_of", "derivative_of")}
            out.nx.remove_node(name)  # (what only it used goes below)
            identity(out.node(mirror), name=name)
            nodes[name].update(kept)
    out.set_outputs(names)
    # drop what only the replaced entries computed (the program form would print it)
    needed, stack, pred = set(out.inputs + out.params), list(names), out.nx._pred
    while stack:  # (one walk for all outputs: nx.ancestors of each would walk the shared part n*n times)
        v = stack.pop()
        if v not in needed:
            needed.add(v)
            stack.extend(pred[v])
    out.nx.remove_nodes_from([v for v in list(out.nx) if v not in needed])
    out._touch()
    return out


#: why cgraph hessian refuses an array input, and what to use instead
_HESSIAN_OF_SCALARS = ("cgraph hessian prints the second derivatives of scalars, one line each{}; for arrays, "
                       "cg.hessian(g, ...) in Python gives the (N, N) Hessian and cg.hvp_graph(g) the Hessian-vector "
                       "product as a graph")


def _scalars_at(g: Any, h: Any, at: dict[str, Any]) -> None:
    """InputError for an array given to a ``wrt`` input: the command prints one line per
    pair of scalars (cg.hessian would give an (N, N) array that these lines do not label)."""
    import numpy as np

    for w in dict.fromkeys(h.nx.nodes[o]["adjoint_of"] for o in h.outputs):
        if w in at and np.size(at[w]) != 1:
            raise InputError(f"{g.nx.nodes[w]['role']} {w!r} is given an array of shape {np.shape(at[w])} by --at: "
                             + _HESSIAN_OF_SCALARS.format(""))


def _scalars_declared(g: Any, wrt: list[str] | None) -> None:
    """ShapeError for a ``wrt`` input (by default, every input) declared an array, in the
    command's words: cg.hessian_graph's names the Python calls, and by default the data
    (a matrix X) is differentiated too, so it names the scalars --wrt can list."""
    from .errors import ShapeError

    nodes = g.nx.nodes

    def scalar(w: str) -> bool:
        shape = nodes[w]["shape"]
        return shape is None or all(d == 1 for d in shape)

    sources = g.inputs + g.params
    arrays = [w for w in (wrt or sources) if w in sources and not scalar(w)]
    if arrays:
        scalars = [w for w in sources if scalar(w)]
        hint = f" (its scalar inputs and params, for --wrt: {' '.join(scalars)})" if scalars and not wrt else ""
        shapes = ", ".join(f"{nodes[w]['role']} {w!r} has shape {tuple(nodes[w]['shape'])}" for w in arrays)
        raise ShapeError(f"{shapes}: " + _HESSIAN_OF_SCALARS.format(hint))


# ---------------------------------------------------------------------------- jacobian
def _jacobian_args(p: argparse.ArgumentParser) -> None:
    _source(p)
    _wrt(p, "inputs of any shape; default: every input; ")
    _of(p, "of any shape; ")
    _latex(p)
    _at(p)
    p.epilog = ("Prints the vector-Jacobian product u_y^T dy/dw (the adjoint seeded with a cotangent u_y of "
                "y's shape), simplified; with --at, also the Jacobian dy/dw at that point for each w, of shape "
                "y.shape + w.shape (for a scalar y, the gradient, as JAX's jacrev gives it).")


@command("jacobian", "print the vector-Jacobian product of an array output (and its Jacobian with --at)",
         _jacobian_args)
def _jacobian(args: argparse.Namespace) -> int:
    import numpy as np

    import cgraph as cg

    show = _latex_printer(args)
    g = load_graph(args.source)
    at = parse_bindings(args.at)
    of = _output(args, g)
    j = cg.vjp_graph(g, wrt=args.wrt, of=of)
    _something_to_differentiate(j, args.source)
    of = j.nx.nodes[j.outputs[0]]["vjp"][0]
    # the values first, as grad: an error at the point (log(-1)) leaves no half answer
    matrices = cg.jacobian(g, wrt=list(args.wrt or []) or None, of=of, **at) if at else {}
    simplified = cg.simplify(j)
    if show:
        print(show(simplified))
    else:
        lines = cg.to_text(simplified).splitlines()
        labels = [f"{u}^T d{y}/d{w}" for y, w, u in (j.nx.nodes[o]["vjp"] for o in j.outputs)]
        if len(lines) == len(labels):  # one line per output (not the program form of a long one)
            lines = [f"{label} = {line.partition(' = ')[2]}" for label, line in zip(labels, lines)]
        print("\n".join(lines))
    if at:
        print(_point(at))
        for name, value in matrices.items():
            shape = f" {np.shape(value)}" if np.ndim(value) else ""
            print(f"d{of}/d{name}{shape} = {_derivative(value)}")
    return 0


# ---------------------------------------------------------------------------- check
def _check_args(p: argparse.ArgumentParser) -> None:
    _source(p)
    _of(p)
    _at(p, required=True)
    p.add_argument("--eps", type=_number_above(0, ">"), metavar="STEP",
                   help="the finite-difference step, a number > 0, e.g. --eps 1e-8 as in the lecture "
                        "(default: cbrt(machine eps) * max(1, |x|) per element)")
    p.add_argument("--rtol", type=_number_above(0, ">="), metavar="R",
                   help="relative tolerance, a number >= 0: an element passes when |analytic - numeric| <= "
                        "atol + rtol*|numeric| (default: 1e-5 for float64 values; 3e-4 for float32, 0.03 for float16)")
    p.add_argument("--atol", type=_number_above(0, ">="), metavar="A",
                   help="absolute tolerance, a number >= 0 (default: 1e-8 for float64 values; for float32 and "
                        "float16, rtol's default times max(1, largest |numeric|) of the element's input)")


@command("check", "compare the adjoint gradient with finite differences", _check_args)
def _check(args: argparse.Namespace) -> int:
    import cgraph as cg

    g = load_graph(args.source)
    report = cg.check_gradients(g, eps=args.eps, rtol=args.rtol, atol=args.atol, feeds=parse_bindings(args.at),
                                of=_output(args, g))
    print(report)
    return 0 if report.ok else 1


# ---------------------------------------------------------------------------- compile
def _compile_args(p: argparse.ArgumentParser) -> None:
    _source(p)
    _wrt(p, "default: every input; not with --no-grad; ")
    _of(p, "not with --no-grad; ")
    p.add_argument("--no-grad", action="store_true", help="compile the forward function alone")
    p.add_argument("--source", dest="show_source", action="store_true",
                   help="print the generated Python code (the default without --at)")
    _at(p)


@command("compile", "generate a plain Python function for a formula and its gradient", _compile_args)
def _compile(args: argparse.Namespace) -> int:
    import cgraph as cg
    from cgraph.graph import inputs_and_params

    if args.no_grad and (args.wrt or args.of):  # ignored: the forward function has no gradients
        args.usage_error(f"{'--wrt' if args.wrt else '--of'} cannot go with --no-grad "
                         "(the forward function alone has no gradients)")
    g = load_graph(args.source)
    wrt = None if args.no_grad else (args.wrt or inputs_and_params(g))
    f = cg.compile(g, wrt=wrt, of=None if args.no_grad else _output(args, g))
    at = parse_bindings(args.at)
    if not at:
        print(f.source, end="")
        return 0
    try:
        values = f(**at)
    finally:  # after the call, which writes the numpy path for array values into f.source
        if args.show_source:
            print(f.source, end="")
    width = max(len(str(n)) for n in values)
    for name, value in values.items():
        print(f"{name:<{width}} = {_number(value)}")
    return 0
