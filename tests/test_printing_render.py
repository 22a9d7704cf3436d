"""printing.render: the compiled op printers and the linear walks agree with the plain rules.

The renderer compiles one printer per op (str.format where no operand follows a binary
minus, hand-written loops for sums and products) and walks the node dicts in place. The
reference here is the plain rule, written once and slowly: parenthesise an operand whose
precedence is below the op's operand precedence, fill the template field by field (``a -
-b`` -> ``a + b``, ``-(-b)``), join variadic operands; and the program form node by node over the
schedule with ``Graph.operands`` and out-degrees from networkx.
"""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cgraph as cg
from cgraph.ops.registry import OPS, SOURCE_OPS, Prec
from cgraph.printing import render as R
from cgraph.printing.latex import LATEX
from cgraph.printing.text import TEXT

STYLES = {"text": TEXT, "latex": LATEX}
TEXTS = ["x", "-1", "-y", "2", "-0.5", "\\frac{1}{2}", "a + b", "3.5", "x_{1}", "-\\frac{a}{b}", "7", ".5"]
PRECS = [Prec.ADD, Prec.MUL, Prec.UNARY, Prec.POW, Prec.ATOM]


def reference_printer(op: str, args: list[tuple[str, int]], attrs: dict, style: R.Style) -> tuple[str, int]:
    opdef, latex = OPS[op], style.latex
    if opdef.transparent:
        return args[0]
    template = opdef.latex if latex else opdef.text
    juxtaposed = latex and opdef.variadic and template.isspace()  # a later factor with a sign: x \left(-y z\right)
    parts = [style.open + t + style.close
             if p < opdef.operand_prec(i, latex=latex) or juxtaposed and i and p < Prec.POW and t.startswith("-") else t
             for i, (t, p) in enumerate(args)]
    if latex and template.startswith("\\frac"):  # signs of the parts go in front of the fraction
        signs = [t.startswith("-") and p >= Prec.MUL for t, p in args]
        parts = [part[1:] if sign else part for part, sign in zip(parts, signs)]
        text = template.format(*parts)
        return ("-" + text, Prec.UNARY) if sum(signs) % 2 else (text, opdef.printed_prec(latex=latex))
    if opdef.variadic:
        return R._join(template, parts, latex, negated=R._unit_minus(template, args)), opdef.printed_prec(latex=latex)
    out = []
    for literal, field, _, _ in string.Formatter().parse(template):
        if field is None:
            out.append(literal)
        elif field == "kw":
            out.append(literal + R._keywords(opdef, attrs, latex))
        elif field == "sub":
            out.append(literal + R._subscript(opdef, attrs))
        else:
            part = parts[int(field)]
            if part.startswith("-") and literal.endswith("-"):  # -(-x), not --x
                part = style.open + part + style.close
            elif part.startswith("-") and literal.endswith((" - ", " + ")):
                literal = literal[:-3] + (" + " if literal.endswith(" - ") else " - ")
                part = part[1:]
            out.append(literal + part)
    return "".join(out), opdef.printed_prec(latex=latex)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(OPS)), st.sampled_from(sorted(STYLES)),
       st.lists(st.tuples(st.sampled_from(TEXTS), st.sampled_from(PRECS)), min_size=4, max_size=4),
       st.integers(2, 4), st.booleans())
def test_every_compiled_printer_follows_the_plain_rule(op, style, pool, count, with_attrs):
    opdef = OPS[op]
    n = opdef.arity if opdef.arity is not None else count
    args = pool[:n]
    attrs = {k: (1 if v is None else None) for k, v in opdef.attrs.items()} if with_attrs else {}
    printer = R._Printers(STYLES[style])[op]
    assert tuple(printer(args, attrs)) == tuple(reference_printer(op, args, attrs, STYLES[style]))


def reference_program(g: cg.Graph, style: R.Style) -> list[tuple[str, str]]:
    """The program form node by node (the pre-compiled renderer, written plainly)."""
    atoms: dict[str, tuple[str, int]] = {}
    lines = []
    for n in g.schedule():
        data = g.nx.nodes[n]
        if data["role"] in ("input", "param"):
            atoms[n] = (style.name(n), Prec.ATOM)
            continue
        if data["op"] == "const":
            entry = tuple(style.number(data["attrs"]["value"]))
        else:
            assert data["op"] not in SOURCE_OPS
            entry = reference_printer(data["op"], [atoms[o] for o in g.operands(n)], data["attrs"], style)
        own_line = n in g.outputs or not R.is_generated(n)
        if data["role"] == "op" and not own_line:
            own_line = g.nx.out_degree(n) != 1 or len(entry[0]) > R.INLINE_LENGTH
        if own_line:
            lines.append((n, entry[0]))
            atoms[n] = (style.name(n), Prec.ATOM)
        else:
            atoms[n] = entry
    return lines


def _random_dag(n: int, seed: int) -> cg.Graph:
    import numpy as np

    rng = np.random.default_rng(seed)
    g = cg.Graph("random")
    nodes = [g.input("x"), g.input("z"), g.param("w", value=0.5)]
    while len(nodes) < n:
        a, b = (nodes[max(0, len(nodes) - int(k))] for k in rng.integers(1, 30, 2))
        k = int(rng.integers(0, 7))
        nodes.append([cg.sin(a), a * b, (a + b) * 0.5, a - b, a / (b * b + 1), -a, a ** 2][k])
    g.output(cg.add(*nodes[-3:]), name="y")
    return g


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("style", sorted(STYLES))
def test_the_program_form_of_a_medium_graph_matches_the_plain_walk(seed, style):
    g = _random_dag(600, seed)
    for h in (g, cg.adjoint(g), cg.simplify(cg.adjoint(g))):
        lines = [(n, e.text) for n, e in R.program(h, None, STYLES[style])]
        assert lines == reference_program(h, STYLES[style])


def test_the_walk_follows_the_schedule_when_the_node_dicts_are_in_another_order():
    g = _random_dag(200, 2)
    expected = R.program(g, None, TEXT)
    h = g.copy()
    first = next(iter(h.nx.nodes))
    data = dict(h.nx.nodes[first])
    h.nx._node[first] = h.nx._node.pop(first)  # the first node now sits last in networkx's dicts
    h.nx._node[first].update(data)
    assert list(h.nx._node)[-1] == first and h.schedule()[0] != list(h.nx._node)[0]
    assert R.program(h, None, TEXT) == expected


@pytest.mark.parametrize("fn", [cg.to_text, cg.to_latex])
@pytest.mark.parametrize("max_length", [0, -1, "a", 2.5, None, True])
def test_a_bad_max_length_is_an_argument_error(fn, max_length):
    with pytest.raises(cg.ArgumentError, match="max_length must be an int >= 1"):
        fn(cg.parse("y = 2*x"), max_length=max_length)


@pytest.mark.parametrize("fn", [cg.to_text, cg.to_latex])
def test_the_adjoint_program_of_a_formula_defines_every_node_it_has_an_adjoint_of(fn):
    # one expression: t4 = t1/t3 is single-use, but the listing speaks of g_t4
    ga = cg.adjoint(cg.parse("exp(x*z) + x*z/log(x) + sin(log(x))/(x*z)"))
    text = fn(ga, form="program")
    defined = {line.split("=")[0].strip(" &") for line in text.splitlines()}
    for n in ga:
        forward = ga.nx.nodes[n].get("adjoint_of")
        if forward and ga.nx.nodes[forward]["role"] == "op":
            latex = f"t_{{{forward[1:]}}}" if forward.startswith("t") else forward
            assert (forward if fn is cg.to_text else latex) in defined, (forward, text)
