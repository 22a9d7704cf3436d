"""The lecture's running example, y = exp(xz) + xz/ln(x) + sin(ln(x))/(xz) at x=2, z=3.

Run: ``python3 examples/lecture.py``. Builds the function twice (through the Graph API
and with ``cg.parse`` from the lecture's program), checks that both give the lecture's
graph of 9 nodes and 12 edges, prints the forward values of the intermediates
a ... f and y, and the gradient by central finite differences (the lecture's
Approach 1) next to the lecture's symbolic result. Then Approach 3 and Approach 2 from
the graph: the adjoint program (g_y ... g_x, g_z, the lecture's reverse sweep), the
symbolic derivatives it simplifies to (as text and LaTeX), their exact values at x=2,
z=3 in terms of exp(6) and log(2), and the gradient check of the adjoint against
finite differences.
"""

from __future__ import annotations

import math

import cgraph as cg

POINT = {"x": 2.0, "z": 3.0}
PROGRAM = """\
a = x*z
b = log(x)
c = sin(b)
d = exp(a)
e = a/b
f = c/a
y = d + e + f
"""
INTERMEDIATES = ["a", "b", "c", "d", "e", "f", "y"]


def build_with_graph_api() -> cg.Graph:
    """The lecture's graph, node by node; ``cg.add(d, e, f)`` is one node, as drawn."""
    g = cg.Graph("lecture")
    x, z = g.input("x"), g.input("z")
    a = (x * z).named("a")
    b = cg.log(x, name="b")
    c = cg.sin(b, name="c")
    d = cg.exp(a, name="d")
    e = (a / b).named("e")
    f = (c / a).named("f")
    g.output(cg.add(d, e, f, name="y"))
    return g


def build_with_parse() -> cg.Graph:
    """The same graph from the lecture's program."""
    return cg.parse(PROGRAM, name="lecture")


def structure(g: cg.Graph) -> list[tuple[str, str, tuple[str, ...]]]:
    """(name, op, operands) of every node, in schedule order."""
    return [(n, g.node(n).op, g.operands(n)) for n in g.schedule()]


def check_agree(g: cg.Graph, h: cg.Graph) -> None:
    """Both builds must be the same graph with the same values."""
    if structure(g) != structure(h):
        raise SystemExit(f"the two builds differ:\n{structure(g)}\n{structure(h)}")
    if cg.evaluate(g, **POINT)["y"] != cg.evaluate(h, **POINT)["y"]:
        raise SystemExit("the two builds evaluate differently")


def forward_table(g: cg.Graph) -> str:
    """The forward values of a ... f and y at the lecture's point."""
    return cg.evaluate(g, **POINT).table(INTERMEDIATES)


def lecture_gradient() -> dict[str, float]:
    """The lecture's symbolic result, evaluated at x=2, z=3."""
    ln2 = math.log(2)
    return {
        "x": 3 * math.exp(6) + 3 / ln2 - 3 / ln2**2 + math.cos(ln2) / 12 - math.sin(ln2) / 12,
        "z": 2 * math.exp(6) + 2 / ln2 - math.sin(ln2) / 18,
    }


def finite_difference_table(g: cg.Graph) -> str:
    """Central differences with the default step and with the lecture's e = 10^-8."""
    exact = lecture_gradient()
    default = cg.finite_difference(g, **POINT)
    lecture_step = cg.finite_difference(g, eps=1e-8, **POINT)
    rows = [f"{'':4}{'default step':>22}{'eps = 1e-8':>22}{'lecture (symbolic)':>22}  rel. error (default)"]
    for w in ("x", "z"):
        d, s, e = float(default[w]), float(lecture_step[w]), exact[w]
        rows.append(f"dy/d{w}{d:>21.13f}{s:>22.13f}{e:>22.13f}  {abs(d - e) / abs(e):.1e}")
    return "\n".join(rows)


def adjoint_program(g: cg.Graph) -> str:
    """The lecture's reverse sweep, g_y = 1 ... g_x, g_z, as the adjoint graph prints."""
    return cg.to_text(cg.adjoint(g), form="program")


def symbolic_derivatives(g: cg.Graph) -> cg.Graph:
    """dy/dx and dy/dz as expressions in x and z: the adjoint graph, simplified."""
    return cg.simplify(cg.adjoint(g))


def expanded_derivatives(g: cg.Graph) -> cg.Graph:
    """The adjoint multiplied out into sums of terms, in the order of a hand derivation:
    the lecture's dy/dx and dy/dz, term for term."""
    return cg.expand(cg.adjoint(g))


def exact_values(g: cg.Graph) -> list[cg.Graph]:
    """Each derivative folded exactly at x=2, z=3 (ints bind exactly: exp(6), log(2) stay)."""
    return [cg.simplify(cg.expand(cg.adjoint(g, wrt=[w])), x=2, z=3) for w in ("x", "z")]


def main() -> None:
    g, h = build_with_graph_api(), build_with_parse()
    check_agree(g, h)
    print(f"y = f(x, z) = exp(xz) + xz/ln(x) + sin(ln(x))/(xz)   at x = {POINT['x']:g}, z = {POINT['z']:g}")
    print(f"graph: {len(g)} nodes ({' '.join(g.schedule())}), {g.nx.number_of_edges()} edges;")
    print("the Graph API and cg.parse of the lecture's program build the same graph\n")
    print("forward values")
    print(forward_table(g))
    print("\ngradient by central finite differences")
    print(finite_difference_table(g))
    print("\nreverse mode: the adjoint program (the lecture's g_y ... g_x, g_z)")
    print(adjoint_program(g))
    derivatives = symbolic_derivatives(g)
    print("\nsymbolic derivatives (the adjoint graph, simplified)")
    print(cg.to_text(derivatives))
    expanded = expanded_derivatives(g)
    print("\nmultiplied out (cg.expand): the lecture's sums of terms")
    print(cg.to_text(expanded))
    print("\nthe same in LaTeX")
    print(cg.to_latex(expanded))
    print("\nexact values at x = 2, z = 3")
    folded = exact_values(g)
    for h in folded:
        print(cg.to_text(h))
    print("\nnumerically")
    for h in folded:
        (name,) = h.outputs
        print(f"{name} = {float(cg.evaluate(h)[name])!r}")
    print("\ngradient check: the adjoint against central finite differences")
    print(cg.check_gradients(g, **POINT))


if __name__ == "__main__":
    main()
