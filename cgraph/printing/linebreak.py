r"""Long LaTeX equations broken into lines for a slide or a page: the typeset width of
the LaTeX the printer writes, estimated, and a right-hand side split at its top-level
``+`` and ``-`` (those outside every group and ``\left...\right``) where it is wider,
then at products' operators, then inside parentheses (after a call's commas), the lines
inside them indented by how deep they are nested."""

from __future__ import annotations

import functools
import re

#: one lexeme: a command (\frac, \{), a run of spaces, or one character
_TOKEN = re.compile(r"\\(?:[A-Za-z]+|.)|\s+|.", re.S)
_ENV_NAME = re.compile(r"\s*\{([A-Za-z*]+)\}")
#: commands whose width is their name's (upright function names)
_NAMED = {"sin", "cos", "tan", "tanh", "ln", "log", "exp"}
#: commands that typeset their one argument in another font or with an accent on top
_ARGUMENT = {"mathrm", "mathtt", "mathit", "mathbf", "operatorname", "text", "hat", "bar", "tilde", "dot",
             "ddot", "vec", "acute", "grave", "breve", "check", "mathring", "widehat", "widetilde"}
#: (a quad is an em, 1.75 x's wide in Computer Modern and in beamer's sans serif)
_SPACES = {",": 0.2, ";": 0.3, ":": 0.25, "!": -0.2, " ": 0.3, "quad": 1.75, "qquad": 3.5, "enspace": 0.875}
#: a capital letter's width against an x's (in pdflatex's math italic: most 1.3-1.4; the
#: wider ones below, W of the weights and X of the data among them)
_CAPITAL = 1.4
_WIDE_CAPITALS = {"W": 1.9, "M": 1.9, "X": 1.6, "H": 1.6, "K": 1.6, "N": 1.6, "D": 1.5}
#: what a delimiter around a fraction set in display style adds to its width (a
#: parenthesis is 0.7 x's, 1.05 around a/b, 1.4 around 2 (a)/(b)^2 in pdflatex)
_TALL = 0.3
#: the space TeX puts for an invisible delimiter (\left. and \right.: \nulldelimiterspace, 1.2pt)
_NULL = 0.2
#: widths summed piece by piece and measured as one string differ in the last bits
#: (13.8 + 35.3 against 49.10000000000001): a row that wrap filled to fit, fits
_ROUNDING = 1e-9
#: a script's size against the text's
_SCRIPT = 0.7
#: a fraction's size inside another fraction's part (text style) against display style
_TEXT_FRACTION = 0.72
_BINARY = frozenset("+-=<>")
_OPERATORS = frozenset({"odot", "cdot", "times"})
#: a product's operators as the printer writes them (``\odot``, ``\cdot``, ``\times``); and
#: every operator a line is broken before: those, a sum's signs and a solidus
_PRODUCT_OPERATOR = r"\\(?:" + "|".join(sorted(_OPERATORS)) + ")"
_OPERATOR = rf"(?:[+-]|{_PRODUCT_OPERATOR}|/)"
_SIGN = re.compile(r" [+-] ")
#: a product's operators, and the solidus of a fraction too wide for its line (written
#: ``N / D`` by :func:`_solidus`; the printer writes no other `` / `` outside a group)
_PRODUCT = re.compile(rf" (?:{_PRODUCT_OPERATOR}|/) ")
#: a line inside parentheses reopens them, indented half an em (an \enspace, 0.875 x's)
#: more than the line the parentheses opened on: as deep as it is nested
_NEST = 0.875
_REOPEN = r"\left. \enspace "
#: a juxtaposed factor's end is no operator's (``- \frac``: the fraction is the operand)
_AFTER_OPERATOR = re.compile(rf"(?:^|[\s{{])(?:[-+=<>,/]|{_PRODUCT_OPERATOR})$")
#: what a line broken before an operator starts with
_LEADING_OPERATOR = re.compile(rf"(?:[+-]|{_PRODUCT_OPERATOR}) ")
#: what may come before a fraction that is a piece of its own: an operator (``- \frac``), a sign
_BEFORE_FRACTION = re.compile(rf"(?:{_OPERATOR} )?-?")
#: a piece that starts with an operator (a term or a factor after the first)
_OPERATOR_FIRST = re.compile(rf"{_OPERATOR} ")


class _Op:
    """A command waiting for its arguments (\\frac's two, a script's one)."""

    __slots__ = ("kind", "n", "args")

    def __init__(self, kind: str, n: int) -> None:
        self.kind, self.n, self.args = kind, n, []


class _Group:
    """A brace group or an environment being measured: its current row's width, its
    widest finished row (rows end at ``\\``) and the commands waiting for arguments."""

    __slots__ = ("width", "widest", "ops", "env", "text_style")

    def __init__(self, env: str | None = None, text_style: bool = False) -> None:
        self.width, self.widest, self.ops, self.env = 0.0, 0.0, [], env
        self.text_style = text_style  # inside a fraction: fractions are set smaller

    def add(self, w: float) -> None:
        while self.ops:
            op = self.ops[-1]
            op.args.append(w)
            if len(op.args) < op.n:
                return
            self.ops.pop()
            if op.kind == "frac":
                w = (max(op.args) + 0.2) * (_TEXT_FRACTION if self.text_style else 1.0)
            elif op.kind == "script":
                w = _SCRIPT * op.args[0]
            elif op.kind == "sqrt":
                w = op.args[0] + 1.0
            else:  # an accent or a font: the argument's width
                w = op.args[0]
        self.width += w

    def total(self) -> float:
        return max(self.widest, self.width)


@functools.lru_cache(maxsize=1024)  # (wrap measures a row again at each level it tries)
def latex_width(tex: str) -> float:
    r"""The typeset width of LaTeX math ``tex``, in the width of a letter, estimated.

    A letter (an x), digit or symbol counts 1, a capital 1.4 (W and M 1.9, X 1.6), a binary operator 2 (its
    spaces included), a quad 1.75 (an em), a function name its letters, a fraction its
    wider part, a script 0.7 of its content, an array its widest row; ``\left``/``\right`` add their delimiters. Good to a few
    letters on what :func:`cgraph.to_latex` writes, which is what breaking lines needs.

    Examples
    --------
    >>> latex_width(r"x z"), latex_width(r"\frac{\sin\left(x\right)}{x^{2}}")
    (2.0, 6.2)
    """
    stack = [_Group()]
    delimiter = ""  # the lexeme after \left or \right is a delimiter
    lefts: list[list] = []  # the open \left's: [depth, not null, holds a display fraction]
    i, n = 0, len(tex)
    while i < n:
        m = _TOKEN.match(tex, i)
        lexeme, i = m.group(), m.end()
        top = stack[-1]
        if delimiter:
            w = _NULL if lexeme == "." else 1.0
            if delimiter == "left":
                lefts.append([len(stack), w > _NULL, False])
            elif lefts:  # a fraction set in display style inside makes both delimiters taller, wider
                _, opened, tall = lefts.pop()
                w += _TALL * (opened + (w > _NULL)) if tall else 0.0
            delimiter = ""
            top.add(w)
        elif lexeme == "{":
            stack.append(_Group(text_style=top.text_style or bool(top.ops) and top.ops[-1].kind == "frac"))
        elif lexeme == "}":
            if len(stack) > 1:
                stack.pop()
                stack[-1].add(top.total())
        elif lexeme.isspace():
            continue
        elif lexeme in ("^", "_"):
            top.ops.append(_Op("script", 1))
        elif lexeme == "\\\\":  # a row ends
            top.widest, top.width = top.total(), 0.0
        elif lexeme in (r"\begin", r"\end"):
            env = _ENV_NAME.match(tex, i)
            if env:
                i = env.end()
            if lexeme == r"\begin":
                stack.append(_Group(env.group(1) if env else "", top.text_style))
            elif len(stack) > 1:
                stack.pop()
                stack[-1].add(top.total() + (2.0 if (top.env or "").endswith("matrix") else 0.0))
        elif lexeme.startswith("\\"):  # a command, an escaped character or a space (\,)
            name = lexeme[1:]
            if name in ("left", "right"):
                delimiter = name
            elif name == "frac":
                top.ops.append(_Op("frac", 2))
                if not top.text_style:
                    for left in lefts:
                        left[2] = left[2] or left[0] == len(stack)
            elif name == "sqrt":
                top.ops.append(_Op("sqrt", 1))
            elif name in _ARGUMENT:
                top.ops.append(_Op("argument", 1))
            elif name in _SPACES:
                top.add(_SPACES[name])
            elif name in _NAMED:
                top.add(float(len(name)))
            elif name in _OPERATORS:  # binary: spaced as + is
                top.add(2.0)
            else:  # \partial, \cdot, \alpha, \sum, \top, \{...
                top.add(1.0)
        else:
            if lexeme in _BINARY and tex[i:i + 1] == " ":  # a binary one is spaced
                top.add(2.0)
            else:
                top.add(_WIDE_CAPITALS.get(lexeme, _CAPITAL) if "A" <= lexeme <= "Z" else 1.0)
    while len(stack) > 1:  # unbalanced input: measure what there is
        top = stack.pop()
        stack[-1].add(top.total())
    return stack[0].total()


def _top_level(tex: str) -> list[tuple[int, str]]:
    r"""``(position, lexeme)`` of the tokens of ``tex`` outside every group, with the
    ``\left`` and ``\right`` that open and close its outermost groups."""
    depth, found = 0, []
    i, n = 0, len(tex)
    while i < n:
        m = _TOKEN.match(tex, i)
        lexeme = m.group()
        if lexeme in ("{", r"\left", r"\begin"):
            if depth == 0 and lexeme == r"\left":
                found.append((i, lexeme))
            depth += 1
        elif lexeme in ("}", r"\right", r"\end"):
            depth -= 1
            if depth == 0 and lexeme == r"\right":
                found.append((i, lexeme))
        elif depth == 0:
            found.append((i, lexeme))
        i = m.end()
    return found


def terms(tex: str) -> list[str]:
    r"""``tex`` split after each comma that separates arguments at its top level (where
    ``tex`` is what a call's parentheses hold); where it has none, before each ``+`` and
    ``-`` that joins terms at its top level; where it is no sum, before each ``\odot``,
    ``\cdot`` and ``\times`` joining factors; where it has none, before and after each
    fraction juxtaposed with another factor.

    ``" ".join(terms(tex)) == tex``: the pieces after the first start with their operator
    (or, after a comma, with the next argument).

    Examples
    --------
    >>> terms(r"x z + \frac{1}{x + z} - \left(a + b\right) c")
    ['x z', '+ \\frac{1}{x + z}', '- \\left(a + b\\right) c']
    >>> terms(r"A \odot \left(1 - B\right)")
    ['A', '\\odot \\left(1 - B\\right)']
    >>> terms(r"a + b, -c \odot d")
    ['a + b,', '-c \\odot d']
    """
    found = _top_level(tex)
    spaces = [i for i, lexeme in found if lexeme == " " and i > 0]
    commas = {i + 1 for i, lexeme in found if lexeme == ","}
    cuts = ([i for i in spaces if i in commas] or [i for i in spaces if _SIGN.match(tex, i)]
            or [i for i in spaces if _PRODUCT.match(tex, i)]
            or _beside_fractions(tex, found))
    pieces, start = [], 0
    for cut in cuts:
        pieces.append(tex[start:cut])
        start = cut + 1
    pieces.append(tex[start:])
    return pieces


def _beside_fractions(tex: str, found: list[tuple[int, str]]) -> list[int]:
    r"""The spaces of ``tex`` (``found``: its top-level lexemes) that juxtapose a fraction
    with another factor, before it or after it: where :func:`terms` splits a product that
    has no operator (``\tanh\left(u\right)^{\top} \frac{a}{b}``, ``\frac{a}{b} W^{\top}``),
    which a fraction too wide to share its line would otherwise keep whole. Not a space
    after a sign or an operator (``- \frac{a}{b}``: the fraction is its operand)."""
    cuts = []
    for k, (i, lexeme) in enumerate(found):
        if lexeme != " " or i == 0 or k + 1 == len(found) or _AFTER_OPERATOR.search(tex, 0, i):
            continue
        if found[k + 1][1] == r"\frac" or found[k - 1][1] == r"\frac" and tex[i - 1] == "}":
            cuts.append(i)
    return cuts


def continued(line: str) -> str:
    r"""``line``, which continues a broken expression, as it starts its row: ``{}`` before
    a leading operator (``{}+ c``, ``{}\odot d``) keeps it binary, spaced as it was; an
    argument after a comma (``-c``, a unary minus) and a reopened group (``\left.``)
    need none."""
    return "{}" + line if _LEADING_OPERATOR.match(line) else line


def wrap(tex: str, width: float, indent: float = 0.0, reserve: float = 0.0, *, solidus: bool = True,
         join: bool = True) -> list[str]:
    r"""``tex`` in lines no wider than ``width`` (as :func:`latex_width` measures; lines
    after the first ``indent`` less, the last ``reserve`` less: what follows ``tex`` on
    its line). It breaks before the ``+`` and ``-`` of its outermost sum; a line still
    too wide, before the ``\odot``, ``\cdot`` and ``\times`` of its outermost product
    (where it has none, beside a fraction juxtaposed with another factor), else inside
    its widest ``\left(...\right)``, closing and reopening it with ``\right.`` and
    ``\left.``: after the commas between a call's arguments, else as above, at every
    level, each line inside parentheses half an em (``\enspace``) further in than the
    line they open on, so that a line shows how deep it is nested. Each line is filled:
    what follows a piece broken over several lines joins its last line where it fits,
    and a factor broken inside its parentheses starts on the line before it where that
    line is at most half full and it saves a line (not a term or a product broken at its
    operators: ``x + a b`` over ``\odot c`` would read as (x + a b) times c).
    A fraction too wide for its line is written with a solidus, ``\left(N\right) / D``
    (:func:`_solidus`), and broken inside its parentheses and at the ``/``, and a power
    of e too wide, ``e^{u}``, as ``\exp\left(u\right)`` (not with ``solidus=False``). Scripts and other juxtaposed factors are never broken: what
    cannot be broken further keeps a line of its own, however wide (a call's first
    argument, or the fraction that starts it, too wide to follow ``f(`` starts the next line).

    Examples
    --------
    >>> wrap("a + b + c + d", 6)
    ['a + b', '+ c + d']
    >>> wrap(r"z \left(a + b + c\right)", 8)
    ['z \\left(a + b \\right.', '\\left. \\enspace {}+ c\\right)']
    >>> wrap(r"f\left(a + b, c d, e\right)", 8)
    ['f\\left(a + b, \\right.', '\\left. \\enspace c d, e\\right)']
    """
    later = width - indent
    pieces = terms(tex)
    # factors juxtaposed (beside a fraction): a fraction among them written with a
    # solidus is parenthesized, as u (N)/D w would not say which factors D divides
    juxtaposed = len(pieces) > 1 and not (pieces[0].endswith(",") or _OPERATOR_FIRST.match(pieces[1]))
    widths = [latex_width(piece) for piece in pieces]
    rows: list[list[int]] = [[0]]  # the pieces of each row, filled greedily
    used = widths[0]
    for k in range(1, len(pieces)):
        if used + widths[k] > (later if len(rows) > 1 else width):
            rows.append([k])
            used = widths[k]
        else:
            rows[-1].append(k)
            used += widths[k]
    last = rows[-1]  # it carries reserve: its last piece goes on a line of its own where need be
    if len(last) > 1 and sum(widths[k] for k in last) + reserve > (later if len(rows) > 1 else width):
        rows[-1:] = [last[:-1], last[-1:]]
    out: list[str] = []
    broken = False  # out's last line ends a piece broken over several lines: what follows may join it
    for r, ks in enumerate(rows):
        row = " ".join(pieces[k] for k in ks)
        room = later if out else width
        extra = reserve if r == len(rows) - 1 else 0.0
        if broken and latex_width(out[-1]) + latex_width(row) + extra <= later:
            out[-1] += " " + row
            broken = False
        elif latex_width(row) + extra <= room + _ROUNDING:
            out.append(row)
            broken = False
        else:
            quotient = (_solidus(row, juxtaposed) or _exponential(row)) if solidus and len(ks) == 1 else None
            if quotient is not None:  # a fraction too wide for the line: N / D, broken inside N or D (e^{u}: exp(u))
                lines = wrap(quotient, room, room - later, extra, join=join)
                if max(map(latex_width, lines)) >= latex_width(row):  # no narrower: the fraction as it was
                    lines = [row]
            elif (len(ks) > 1 or len(terms(row)) > 1) and row != tex:  # a term of a sum, a product of several factors
                lines = wrap(row, room, room - later, extra, solidus=solidus, join=join)
            else:  # one factor, broken inside its parentheses: where the line before is short, it may start there
                lines = _inside(row, room, later, extra, solidus, join)
                before = later if len(out) > 1 else width
                rest = before - latex_width(out[-1]) if out else 0.0
                if join and out and len(lines) > 1 and rest >= before / 2 > 0:
                    # (where its first line fits there as it is, the same lines; else broken again)
                    after = lines if latex_width(lines[0]) <= rest else _inside(row, rest, later, extra, solidus, False)
                    last = extra if len(after) == 1 else 0.0
                    if after[0] and len(after) <= len(lines) and (
                            latex_width(out[-1]) + latex_width(after[0]) + last <= before + _ROUNDING):
                        out[-1] += " " + after[0]
                        out += after[1:]
                        broken = True
                        continue
            out += lines
            broken = len(lines) > 1
    return out


def _inside(row: str, room: float, later: float, reserve: float = 0.0, solidus: bool = True,
            join: bool = True) -> list[str]:
    r"""``row`` broken inside its widest outermost ``\left...\right`` (as it is, where it
    has none or that has nothing to break at); its last line ``reserve`` narrower. Where
    what the group holds starts with what cannot be broken (a fraction as a first
    argument, or as the first factor of one) and is too wide to follow the opening on
    the first line, it starts on the next; where the factors before the group are too
    wide themselves, the group starts the next line."""
    pairs, left, opened = [], 0, None
    for i, lexeme in _top_level(row):
        if lexeme == r"\left":
            left, opened = i, _TOKEN.match(row, i + len(r"\left")).end()  # (after the delimiter)
        elif lexeme == r"\right" and opened is not None:
            pairs.append((left, opened, i))
            opened = None
    if not pairs:
        return [row]
    left, start, stop = max(pairs, key=lambda pair: latex_width(row[pair[1]:pair[2]]))
    head, inner, tail = row[:start], row[start:stop], row[stop:]
    if latex_width(head) + _NULL > room and row[left - 1:left] == " " and not _AFTER_OPERATOR.search(row, 0, left - 1):
        # the factors juxtaposed before the group are too wide themselves (tanh(...)^T of
        # tanh(...)^T (...)): they take the first lines, broken as they need, and the
        # group starts the next, or the last of them where that is short and it saves a
        # line (+ b_2)^T took a line of its own)
        factors = wrap(row[:left - 1], room, room - later, solidus=solidus, join=join)
        group = wrap(row[left:], later, 0.0, reserve, solidus=solidus, join=join)
        before = later if len(factors) > 1 else room
        rest = before - latex_width(factors[-1])
        if join and len(group) > 1 and rest >= before / 2 > 0:  # a short last line of the factors: the group may follow it
            after = group if latex_width(group[0]) <= rest else wrap(
                row[left:], rest, rest - later, reserve, solidus=solidus, join=False)
            last = reserve if len(after) == 1 else 0.0
            if after[0] and len(after) <= len(group) and (
                    latex_width(factors[-1]) + latex_width(after[0]) + last <= before + _ROUNDING):
                return [*factors[:-1], factors[-1] + " " + after[0], *after[1:]]
        return [*factors, *group]
    first = room - latex_width(head) - _NULL  # (the first line ends with \right.)
    # lines after the first start at the indent, between \left. and \right.; the last
    # carries the tail (\right) and what follows) instead of a \right.
    end, middle = latex_width(tail) + reserve - _NULL, later - 2 * _NULL - _NEST
    opening = _leading(inner)  # where it cannot be broken and is too wide here: from the next line on
    if first < middle and latex_width(opening) > first and _unbreakable(opening):
        lines = ["", *wrap(inner, middle, 0.0, end, solidus=solidus, join=join)]
    else:
        lines = wrap(inner, first, first - middle, end, solidus=solidus, join=join)
    if len(lines) == 1:
        return [row]
    return [head + lines[0] + (r" \right." if lines[0] else r"\right."),
            *(_reopened(line, middle) + r" \right." for line in lines[1:-1]),
            _reopened(lines[-1], middle - end) + tail]


def _solidus(row: str, factor: bool = False) -> str | None:
    r"""``row``, where it is one fraction (after an operator or a sign, before an
    argument's comma), with a solidus: ``\frac{N}{D}`` as ``\left(N\right) / D``, a part
    of several factors or terms in parentheses, so that :func:`wrap` can break it inside
    them or at the ``/`` (not after a numerator as narrow as ``1``: ``1/D``), as a
    printer sets a fraction too wide for its line; ``factor``: it is juxtaposed with
    other factors, and the quotient is parenthesized as a whole. None where ``row`` is
    no fraction.

    Examples
    --------
    >>> _solidus(r"- \frac{a + b}{x}"), _solidus(r"\frac{1}{\ln\left(x\right)},")
    ('- \\left(a + b\\right) / x', '1/\\ln\\left(x\\right),')
    >>> _solidus(r"\frac{a}{x z}", factor=True), _solidus(r"\frac{a}{b} c") is None
    ('\\left(a/\\left(x z\\right)\\right)', True)
    """
    start = _BEFORE_FRACTION.match(row).end()
    if not row.startswith(r"\frac{", start):
        return None
    middle = _group_end(row, start + len(r"\frac"))
    end = _group_end(row, middle) if row[middle:middle + 1] == "{" else -1
    if end < 0 or row[end:] not in ("", ","):
        return None
    numerator = _operand(row[start + 6:middle - 1])
    # a narrow numerator (1/D) stays with the D that follows it: no break at the solidus
    solidus = "/" if latex_width(numerator) <= _NARROW else " / "
    quotient = f"{numerator}{solidus}{_operand(row[middle + 1:end - 1])}"
    return row[:start] + (rf"\left({quotient}\right)" if factor else quotient) + row[end:]


def _exponential(row: str) -> str | None:
    r"""``row``, where it is one power of e (after an operator or a sign, before an
    argument's comma), as ``\exp\left(u\right)``, which :func:`wrap` can break inside
    its parentheses, as a printer sets an exponent too wide for its line (an exponent is
    never broken). None where ``row`` is no power of e.

    >>> _exponential(r"- e^{a + b}"), _exponential(r"e^{a} b") is None
    ('- \\exp\\left(a + b\\right)', True)
    """
    start = _BEFORE_FRACTION.match(row).end()
    if not row.startswith("e^{", start):
        return None
    end = _group_end(row, start + 2)
    if end < 0 or row[end:] not in ("", ","):
        return None
    return row[:start] + r"\exp\left(" + row[start + 3:end - 1] + r"\right)" + row[end:]


#: the widest numerator that :func:`_solidus` keeps on the line of its denominator
_NARROW = 4.0


def _group_end(tex: str, i: int) -> int:
    """The position after the brace group that opens at ``tex[i]`` (-1 where it does not close)."""
    depth = 0
    while i < len(tex):
        m = _TOKEN.match(tex, i)
        i = m.end()
        if m.group() == "{":
            depth += 1
        elif m.group() == "}":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _operand(tex: str) -> str:
    r"""``tex`` as a part of a quotient written with a solidus: in parentheses where it has
    several factors or terms (a space at its top level: ``x z``, ``a + b``)."""
    if any(lexeme.isspace() for _, lexeme in _top_level(tex)):
        return rf"\left({tex}\right)"
    return tex


def _reopened(line: str, room: float) -> str:
    r"""``line``, inside parentheses opened on an earlier line, reopening them: half an em
    (an ``\enspace``) in from where they opened, one more per level (which is why lines
    inside them are ``_NEST`` narrower), where it fits ``room``; else at that level's
    indent (a fraction that cannot be broken keeps what room there is)."""
    line = continued(line)
    return (_REOPEN if latex_width(line) <= room + 1e-9 else r"\left. ") + line


def _leading(tex: str) -> str:
    r"""What :func:`wrap` puts first on the first line of ``tex``: its first argument's,
    term's or factor's first piece, at every level (``\frac{a}{b} c`` of
    ``\frac{a}{b} c \odot d, e``)."""
    while True:
        first = terms(tex)[0]
        if first == tex:
            return tex
        tex = first


def _unbreakable(tex: str) -> bool:
    r"""Whether :func:`wrap` has nowhere to break ``tex``: no sum, product or argument list
    and no ``\left...\right`` at its top level (a fraction, a name, a power)."""
    return len(terms(tex)) == 1 and all(lexeme != r"\left" for _, lexeme in _top_level(tex))
