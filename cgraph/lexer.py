"""The tokenizer behind :func:`cgraph.parse`: text to a flat list of tokens.

It accepts only what a formula needs (names, names in backticks, numbers,
``+ - * / ^ ** @ ( ) , = ; [ ]``, comments, newlines) and names anything else precisely, so hostile Python
(``__import__``, ``x.__class__``, lambdas, comprehensions, strings, subscripts) fails
here, at its own line and column, before any parsing happens.
"""

from __future__ import annotations

import keyword
import math
import re
import unicodedata
from typing import Any, NamedTuple

from .errors import ParseError
from .ops.registry import OPS

__all__ = ["MAX_INT_DIGITS", "MAX_LENGTH", "NUMBER_WORDS", "Token", "keyword_error", "plain_name", "tokenize"]

#: longest text :func:`cgraph.parse` reads, in characters
MAX_LENGTH = 1_000_000
#: most digits of an integer literal (CPython's own limit for str -> int)
MAX_INT_DIGITS = 4300

_LITERALS = {"True": True, "False": False, "None": None}
#: names that are numbers, as to_text prints non-finite constants (-inf is -(inf))
NUMBER_WORDS = {"nan": math.nan, "inf": math.inf}

_TOKEN = re.compile(
    r"(?P<ws>[ \t]+)"
    r"|(?P<nl>\r\n|\r|\n|;)"
    r"|(?P<comment>\#[^\r\n]*)"
    r"|(?P<num>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)"
    r"|(?P<name>[^\W\d]\w*)"
    r"|(?P<qname>`[^`\r\n]*`?)"
    r"|(?P<op>\*\*|==|//|[-+*/^@(),=\[\]])"
)

# characters that are never part of a formula, each with the reason shown to the user
_REFUSED = {
    "'": "string literals are not allowed",
    '"': "string literals are not allowed",
    ".": "attribute access ('.') is not allowed",
    "{": "dicts and sets ('{') are not allowed",
    "}": "dicts and sets ('}') are not allowed",
    ":": "':' is not allowed (no lambdas, slices or annotations); a slice is written slice(x, start=1, stop=3, "
         "step=2, axis=0)",
    "\\": "'\\' is not allowed; a line continues by itself inside parentheses and brackets",
}
_UNSUPPORTED_OPS = set("%&|~<>!")
# typeset operators, as pasted from slides or a PDF: the ASCII one to write instead
_LOOKALIKES = {"−": "-", "–": "-", "—": "-", "×": "*", "·": "*", "⋅": "*", "∗": "*", "÷": "/", "∕": "/"}
_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


class Token(NamedTuple):
    """One token: ``kind`` is ``num name qname lit op nl end``, or ``return`` (the
    keyword starting a statement; ``qname``: a name in backticks, `` `x-1` ``, read as a
    name whatever it holds); line and column are 1-based."""

    kind: str
    value: Any
    line: int
    col: int

    def show(self) -> str:
        """The token as the user wrote it, for messages."""
        if self.kind == "nl":
            return "end of line" if self.value != ";" else "';'"
        if self.kind == "end":
            return "end of text"
        if self.kind == "qname":
            return f"`{self.value}`"
        return repr(self.value if self.kind != "lit" else str(self.value))


_token = tuple.__new__  # Token(...) without the Python-level __new__ of a NamedTuple


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; ``ParseError`` at the first character that is not allowed.

    Newlines inside parentheses continue the line (as in Python); ``;`` separates
    statements like a newline.

    Examples
    --------
    >>> [t.value for t in tokenize("y = 2*x^3")]
    ['y', '=', 2, '*', 'x', '^', 3, None]
    """
    if not isinstance(text, str):
        raise ParseError(f"cg.parse needs a str, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        line, col = _position(text, MAX_LENGTH)
        raise ParseError(f"the text is longer than {MAX_LENGTH:,} characters ({len(text):,})", line, col)
    _refuse_invisible(text)
    tokens: list[Token] = []
    pos, line, line_start, depth, n = 0, 1, 0, 0, len(text)
    match = _TOKEN.match
    while pos < n:
        m = match(text, pos)
        col = pos - line_start + 1
        if m is None:
            raise ParseError(_prime(text, pos) or _unexpected(text[pos]), line, col)
        kind, value, end = m.lastgroup, m.group(), m.end()
        if kind == "name":
            end = _extend_name(text, end)
            name = text[pos:end]
            if name == "return" and depth == 0 and (not tokens or tokens[-1].kind == "nl"):
                tokens.append(Token("return", name, line, col))  # `return a, b`: the outputs, last
            else:
                tokens.append(_name_token(name, line, col))
        elif kind == "qname":
            if len(value) < 3 or not value.endswith("`"):
                what = "an empty name ``" if value == "``" else "a '`' that is not closed on its line"
                raise ParseError(f"{what}: a quoted name is `any text` on one line", line, col)
            tokens.append(Token("qname", value[1:-1], line, col))
        elif kind == "num":
            tokens.append(_token(Token, ("num", _number(text, value, end, line, col), line, col)))
        elif kind == "op":
            if value in ("==", "//"):
                what = "comparison ('==')" if value == "==" else "floor division ('//')"
                raise ParseError(f"{what} is not supported", line, col)
            depth += value in "(["
            depth -= value in ")]" and depth > 0
            tokens.append(_token(Token, ("op", value, line, col)))
        elif kind == "nl":
            if depth == 0 or value == ";":
                tokens.append(Token("nl", value, line, col))
            if value != ";":
                line, line_start = line + 1, end
        pos = end
    tokens.append(Token("end", None, line, pos - line_start + 1))
    return tokens


def plain_name(name: str) -> bool:
    """Whether :func:`cgraph.parse` reads ``name``, written bare, as that name: not a
    number (``nan``), a literal, a keyword, a reserved ``__`` name or a function.

    Examples
    --------
    >>> plain_name("x1"), plain_name("x-1"), plain_name("nan"), plain_name("sin")
    (True, False, False, False)
    """
    return (name.isidentifier() and name not in OPS and name not in NUMBER_WORDS and name not in _LITERALS
            and not keyword.iskeyword(name) and not name.startswith("__"))


def _name_token(name: str, line: int, col: int) -> Token:
    if not name.isidentifier():
        raise ParseError(f"{name!r} is not a valid name{_script_hint(name)}", line, col)
    if name in _LITERALS:
        return Token("lit", _LITERALS[name], line, col)
    if keyword.iskeyword(name):
        raise keyword_error(name, line, col)
    if name.startswith("__"):
        raise ParseError(f"the name {name!r} is not allowed: names starting with '__' are reserved", line, col)
    return _token(Token, ("name", name, line, col))


def _script_hint(name: str) -> str:
    """How to write a name ending in superscript or subscript digits, as pasted from a slide:
    ``x²`` is the power ``x^2``, ``x₁`` the name ``x_1``."""
    m = re.fullmatch(r"(.*?)([⁰¹²³⁴-⁹]+|[₀-₉]+)", name)
    if m is None or m[1] and not m[1].isidentifier():
        return ""
    if not m[1]:  # 2²: the base is the token before
        return "; a power is written with ^, as in x^2"
    digits = m[2].translate(_SCRIPT_DIGITS)
    if m[2][0] in "₀₁₂₃₄₅₆₇₈₉":
        return f"; write {m[1]}_{digits} (drawn with its index below), or the name in backticks, `{name}`"
    return f"; a power is written {m[1]}^{digits}"


_SCRIPT_DIGITS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃"
                               "₄₅₆₇₈₉", "01234567890123456789")


def keyword_error(name: str, line: int, col: int) -> ParseError:
    """The error for a Python keyword written as a name."""
    return ParseError(f"the Python keyword {name!r} is not allowed in a formula; as a variable write it "
                      f"in backticks, `{name}`" + (", or as lam (drawn as λ)" if name == "lambda" else ""), line, col)


def _extend_name(text: str, end: int) -> int:
    # `\w` misses combining marks that Python identifiers allow (x̂ is x + U+0302)
    while end < len(text) and ("a" + text[end]).isidentifier():
        end += 1
    return end


def _number(text: str, value: str, end: int, line: int, col: int) -> int | float:
    if end < len(text) and (text[end] == "." or ("a" + text[end]).isidentifier()):
        m = re.match(r"[\w.]*", text[end:])
        shown = value + (m.group() if m else "")
        raise ParseError(f"invalid number {shown!r} ({_number_hint(value, shown)})", line, col)
    if any(c in value for c in ".eE"):
        number = float(value)
        if number in (float("inf"), float("-inf")):
            raise ParseError(f"the number {value} is too large for a float", line, col)
        return number
    if len(value) > MAX_INT_DIGITS:
        raise ParseError(f"an integer of {len(value)} digits is too long (at most {MAX_INT_DIGITS})", line, col)
    return int(value)


def _number_hint(value: str, shown: str) -> str:
    # "write 2*x" only where a name follows a number; 1_000 or 0x1f are not products
    rest = shown[len(value):]
    if "_" in shown and re.fullmatch(r"[\d_.eE+-]+", shown):
        return f"digit separators '_' are not allowed: write {shown.replace('_', '')}"
    if re.fullmatch(r"0[xXoObB]\w*", shown):
        return "numbers are decimal: no 0x, 0o or 0b prefixes"
    if rest.startswith(".") or (value.endswith(".") and rest[:1].isdigit()):
        return "a number has at most one '.'"
    if re.fullmatch(r"[eE][+-]?", rest[:2]) and not rest[1:2].isalnum():
        return "an exponent needs digits: 1e5, 2.5e-3"
    if rest in ("j", "J"):
        return "complex numbers are not supported"
    return f"write {value}*{rest}, not {shown}"


def _refuse_invisible(text: str) -> None:
    # control, format (bidi overrides, zero-width), surrogate and unassigned characters
    # can hide what a formula says; refuse them anywhere, comments included
    for m in re.finditer(r"[^\t\n\r\x20-\x7e]", text):
        c = m.group()
        if unicodedata.category(c) in _BAD_CATEGORIES:
            line, col = _position(text, m.start())
            raise ParseError(_unexpected(c), line, col)


def _prime(text: str, pos: int) -> str | None:
    """The message for ``x'`` (a name with primes, and no string's content after them), else None."""
    if text[pos] != "'":
        return None
    start = end = pos
    while end < len(text) and text[end] == "'":
        end += 1
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "_"):
        start -= 1
    if start == pos or text[start].isdigit() or end < len(text) and (text[end].isalnum() or text[end] in "_{'\"`"):
        return None  # 'a', f'{x}', r'x': a string literal
    alias = f", or as {text[start:pos]}prime" if end - pos == 1 else ""
    return f"a prime is not part of a bare name: write it in backticks, `{text[start:end]}`{alias}"


def _unexpected(c: str) -> str:
    if c in _REFUSED:
        return _REFUSED[c]
    if c in _UNSUPPORTED_OPS:
        return f"the operator {c!r} is not supported (formulas use + - * / ^ ** @)"
    code = f"U+{ord(c):04X}"
    cat = unicodedata.category(c)
    if cat == "Cs":
        return f"lone surrogate {code} is not allowed"
    if c == "\x00":
        return "the NUL character (U+0000) is not allowed"
    if cat in _BAD_CATEGORIES:
        kind = "control" if cat == "Cc" else "invisible" if cat in ("Cf", "Zl", "Zp") else "unassigned"
        return f"{kind} character {code} {unicodedata.name(c, '')}".rstrip() + " is not allowed"
    hint = f"; write {_LOOKALIKES[c]!r}" if c in _LOOKALIKES else ""
    return f"unexpected character {c!r} ({code} {unicodedata.name(c, '?')}){hint}"


def _position(text: str, index: int) -> tuple[int, int]:
    head = text[:index]
    line = head.count("\n") + head.count("\r") - head.count("\r\n") + 1
    return line, index - max(head.rfind("\n"), head.rfind("\r"))
