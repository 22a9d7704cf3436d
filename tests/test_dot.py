"""Safe labels: any node name gives DOT that Graphviz parses, with exactly one node per graph node."""

from __future__ import annotations

import html
import re
import shutil
import xml.etree.ElementTree as ET
from fractions import Fraction

import numpy as np
import pydot
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cgraph as cg
from cgraph.export import dot as D
from cgraph.export.render import run_dot

pytestmark = pytest.mark.filterwarnings("ignore:.*deprecated:DeprecationWarning")  # pyparsing, via pydot's parser
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")

NASTY = [
    'C:\\path\\', 'a "q" b', "\\N", "x\\ly", "two\nlines", "tab\there", "∂y/∂x₁", "😀 emoji", "<x>",
    "a & b", "a<b>c", "W:0", "a::b", "mul:0", "{brace}", "[0:]", "graph", "node", "Edge", "EDGE", "subgraph",
    "strict", "digraph", "x[0]", "a;b", "a]b;c{d}", "-->", "//", "/* c */", "#", "'", "\\", '"', "&amp;",
    "]]>", "<!--", "\\\\", "a\\", " ", "  lead", "1.5", "-2", "x_1", "g_a", "W1",
]


def svg_nodes(svg: str) -> int:
    return len(re.findall(r'class="node"', svg))


def svg_text(svg: str) -> str:
    return "".join(html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg))


def two_node_graph(a: str, b: str) -> cg.Graph:
    g = cg.Graph("names")
    g.output(cg.exp(g.input(a), name=b))
    return g


@needs_dot
@pytest.mark.parametrize("name", NASTY)
def test_nasty_names_render_one_node_each(name):
    other = name + "!"
    svg = run_dot(cg.to_dot(two_node_graph(name, other)).to_string(), "svg").decode()
    assert svg_nodes(svg) == 2
    shown = svg_text(svg).replace("\xa0", " ")
    for n in (name, other):
        plain = D.clean(n).replace("\n", "").strip()
        if plain and not re.fullmatch(r"[A-Za-z]+_?\d*|g_[a-z]|W1", plain):  # math names are typeset
            assert plain in shown.replace("\n", ""), (n, shown)


@needs_dot
def test_injection_payload_cannot_add_nodes():
    # research §A1.3: a trailing backslash plus quotes in a later attribute became raw DOT
    evil = ' ];injected [shape=box, label=PWNED]; n1 [label=\'", tooltip=" ]; //'
    g = two_node_graph("a\\", evil)
    svg = run_dot(cg.to_dot(g).to_string(), "svg").decode()
    titles = re.findall(r"<title>([^<]*)</title>", svg)
    assert svg_nodes(svg) == 2
    assert "injected" not in titles and "PWNED" not in titles
    assert sorted(titles[1:3]) == ["n0", "n1"] or "n0" in titles


@needs_dot
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(min_size=1, max_size=30), min_size=2, max_size=4, unique=True))
def test_any_names_render(names):
    g = cg.Graph("fuzz")
    nodes = [g.input(names[0])]
    for n in names[1:]:
        nodes.append(cg.sin(nodes[-1], name=n))
    g.output(nodes[-1])
    text = cg.to_dot(g).to_string()
    svg = run_dot(text, "svg").decode()
    assert svg_nodes(svg) == len(names)
    assert pydot.graph_from_dot_data(text) is not None


@needs_dot
@pytest.mark.parametrize("bad", ["a\x00b", "\x07bell", "\ud800lone", "x" * 20_000, "\x1b[31mred"])
def test_control_characters_surrogates_and_huge_names(bad):
    svg = run_dot(cg.to_dot(two_node_graph(bad, "y")).to_string(), "svg").decode()
    assert svg_nodes(svg) == 2


def test_clean_strips_and_caps():
    assert D.clean("a\x00b\x01c") == "abc"
    assert D.clean("\ud800") == "\ufffd"
    assert len(D.clean("x" * 20_000)) == D.MAX_LABEL
    assert D.clean("x" * 20_000).endswith("…")


def test_quote_and_html_escape():
    assert D.quote('C:\\p\\ "q"') == '"C:\\\\p\\\\ \\"q\\""'
    assert D.html_text("<a & b>") == "&lt;a &amp; b&gt;"
    assert D.html_text("\\N") == "\\\\N"
    assert D.html_label("") == "< >"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("x1", '<I>x</I><SUB><FONT POINT-SIZE="10">1</FONT></SUB>'),
        ("x_1", '<I>x</I><SUB><FONT POINT-SIZE="10">1</FONT></SUB>'),
        ("W12", '<I>W</I><SUB><FONT POINT-SIZE="10">12</FONT></SUB>'),
        ("g_a", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>a</I></FONT></SUB>'),
        ("y_hat", "<I>ŷ</I>"),
        # Graphviz draws a subscript inside a subscript on one level: g_{learning_{rate}} read
        # "g_learningrate", so an adjoint's name with a word index keeps its underscore
        ("g_learning_rate", '<I>g</I><SUB><FONT POINT-SIZE="10">learning_rate</FONT></SUB>'),
        ("g_x1", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>x</I><SUB><FONT POINT-SIZE="7">1</FONT></SUB></FONT></SUB>'),
        # a one-letter index is italic, as to_latex's x_{t} and the lecture's W_t, G_t; a word is upright
        ("x_t", '<I>x</I><SUB><FONT POINT-SIZE="10"><I>t</I></FONT></SUB>'),
        ("W_T", '<I>W</I><SUB><FONT POINT-SIZE="10"><I>T</I></FONT></SUB>'),
        ("x_theta", '<I>x</I><SUB><FONT POINT-SIZE="10"><I>θ</I></FONT></SUB>'),
        ("w1_t", '<I>w</I><SUB><FONT POINT-SIZE="10">1,<I>t</I></FONT></SUB>'),
        ("x_out", '<I>x</I><SUB><FONT POINT-SIZE="10">out</FONT></SUB>'),
        # index letters, as to_latex's x_{ij} (names.index): x_ij was x with the upright word ij
        ("x_ij", '<I>x</I><SUB><FONT POINT-SIZE="10"><I>ij</I></FONT></SUB>'),
        # and the adjoint of x_t is g with x_t below (to_latex's g_{x_{t}}), not with 'x_t' written out
        ("g_x_t", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>x</I><SUB><FONT POINT-SIZE="7"><I>t</I></FONT></SUB></FONT></SUB>'),
        ("alpha", "<I>α</I>"),
        ("loss", "loss"),
        ("a<b", "a&lt;b"),
    ],
)
def test_math_names(name, expected):
    assert D.math_name(name) == expected


def test_formula_uses_real_subscripts_and_minus():
    out = D.formula("g_b = g_e*(-a/b^2)")
    assert "_" not in out and "−" in out and "<SUP>" in out and "·" in out


def test_formula_raises_a_parenthesised_exponent_without_its_parentheses():
    # to_text writes x^(-3) and x^(1/2); the step titles showed a literal ^(−3)
    def shown(t):
        return re.sub(r'<FONT[^>]*>|</FONT>', "", D.formula(t)).replace(D._JOIN, "").replace(D.NBSP, " ")

    assert shown("g_x = g_t6*(-2*x^(-3))").endswith("(−2 · <I>x</I><SUP>−3</SUP>)")
    assert shown("y = x^(1/2)").endswith("<I>x</I><SUP>1/2</SUP>")
    assert shown("y = x^(a*(b + 1))").endswith("<SUP><I>a</I> · (<I>b</I> + 1)</SUP>")
    assert "^" not in shown("y = x^(`a(b`)") and shown("y = x^(-").endswith("^(−")  # no group: as written


def test_formula_writes_function_names_as_words():
    # sum_to(g_yhat, b2) showed as sum with an index "to"; log_softmax as log with "softmax"
    out = D.formula("g_b2 = sum_to(g_yhat, b2) + log_softmax(x) + `f(x)`*cos(x)")
    assert "sum_to(" in out and "log_softmax(" in out and "cos(" in out
    assert "<I>b</I><SUB>" in out and "<I>f</I>" not in out  # names keep their scripts; `f(x)` is a name


def test_formula_is_set_in_the_math_typeface_with_a_spaced_product_dot():
    # the names of a step's title read like the names on the boxes, and the dot after an
    # italic index (g_f·(1/a)) keeps a full space either side, not a hair space
    out = D.formula("g_c = g_f*(1/a)")
    assert out.startswith(f'<FONT FACE="{D.MATH_FONT}">') and out.endswith("</FONT>")
    assert "</FONT></SUB>" + D.spaced("·", D.NBSP) + "(1/" in out


@pytest.mark.parametrize(
    ("value", "text"),
    [(412.19145728, "412.2"), (-0.5, "−0.5"), (3, "3"), (1e-12, "1e−12"), (np.float64(2.0), "2"),
     ([1.0, -2.5], "[1, −2.5]"), (np.zeros((30, 2)), "array 30×2"), (float("nan"), "nan"),
     # 0 times a negative number is −0.0: shown as 0, not "−0"
     (-0.0, "0"), (np.array([0.0, -0.0]), "[0, 0]"), (float("-inf"), "−inf"),
     # exact constants as written; a batch of one shows its numbers, not "array 1×1"
     (Fraction(1, 2), "1/2"), (Fraction(-3, 4), "−3/4"), (Fraction(6, 3), "2"), (Fraction(1, 123456), "8.1e−6"),
     (np.array([[0.4717]]), "[[0.4717]]"), (np.array([[1.0, 2.0], [3.0, -4.0]]), "[[1, 2], [3, −4]]"),
     (np.zeros((1, 1, 1)), "array 1×1×1"),
     ([[1, 2], [3]], "[[1, 2], [3]]")],  # ragged (values= by hand): was numpy's ValueError "inhomogeneous shape"
)
def test_format_value(value, text):
    assert D.format_value(value) == text


def test_ids_are_opaque_and_stable():
    g = two_node_graph("graph", "Edge")
    assert D.node_ids(g) == {"graph": "n0", "Edge": "n1"}


def test_node_ids_follow_the_lexicographic_topological_order_by_creation_index():
    import networkx as nx

    from cgraph.export.dot import node_ids

    def reference(g):
        order = nx.lexicographical_topological_sort(g.nx, key=lambda n: (g.nx.nodes[n].get("order", 0), str(n)))
        return {n: f"n{i}" for i, n in enumerate(order)}

    g = cg.parse("y = x*z + sin(x)\nw = y*y")
    assert node_ids(g) == reference(g)
    names = list(g.nx)
    for n, k in zip(names, reversed(range(len(names)))):  # creation order no longer topological
        g.nx.nodes[n]["order"] = k
    assert node_ids(g) == reference(g)
    for n in names:  # indices that tie: names break the ties
        g.nx.nodes[n]["order"] = 0
    assert node_ids(g) == reference(g)


@pytest.mark.parametrize(
    "name, fragment",
    [
        ("w_{j,i}^{(l)}", "<I>w</I><SUB>…<I>j</I>,<I>i</I>…</SUB><SUP>…(<I>l</I>)…</SUP>"),
        ("x^(n)", "<I>x</I><SUP>…(<I>n</I>)…</SUP>"),
        ("G_{t-1}", "<I>G</I><SUB>…<I>t</I>−1…</SUB>"),
        ("w1_2", "<I>w</I><SUB>…1,2…</SUB>"),  # as to_latex writes it: w_{1,2}
        ("g_w1_2", "<I>g</I><SUB>…<I>w</I><SUB>…1,2…</SUB>…</SUB>"),
        ("g_w_{1,1}^{(2)}", "<I>g</I><SUB>…<I>w</I><SUB>…1,1…</SUB>…</SUB><SUP>…(2)…</SUP>"),  # one level: see below
        ("ell", "<I>ℓ</I>"),
        ("g2_x", "<I>g</I><SUB>…<I>x</I>…</SUB><SUP>…(2)…</SUP>"),  # g_x^(2) as to_latex writes it, not g^(2)_x
    ],
)
def test_math_name_sets_the_lectures_notation_with_real_scripts(name, fragment):
    # these were drawn literally: w_{j,i}^{(l)}, w1_2, ell
    shown = re.sub(r'<FONT POINT-SIZE="\d+">|</FONT>', "…", D.math_name(name)).replace("……", "…")
    assert shown == fragment


@needs_dot
@pytest.mark.parametrize("src, at", [("y = sin(`w_{1,2}^{(1)}`)", {"w_{1,2}^{(1)}": 0.5}), ("y = x^z_1", {"x": 2, "z_1": 3}),
                                     ("y = `x^(n)`*`x_1`", {"x^(n)": 2, "x_1": 3})])
def test_an_index_inside_an_index_of_the_other_kind_gives_valid_svg(src, at, tmp_path):
    # Graphviz's SVG writer gave a <SUB> inside a <SUP> (or the reverse) baseline-shift twice:
    # "duplicate attribute", so no viewer opened the adjoint drawing of w_{1,2}^{(1)} (g_w_{1,2}^{(1)})
    # or the backprop frame of x^z_1 (its title holds x^(z_1 - 1))
    ga = cg.adjoint(cg.parse(src))
    ET.fromstring(run_dot(cg.to_dot(ga, values=cg.evaluate(ga, **at)).to_string(), "svg"))  # noqa: S314 (our own SVG)
    for frame in cg.backprop_frames(cg.parse(src), tmp_path, **at):
        ET.parse(frame)  # noqa: S314


def test_formula_reads_names_in_backticks():
    # to_text writes `w_{1,1}^{(1)}` for a name that is no identifier; the step titles show it as math
    html_fragment = D.formula("`g_w_{1,1}^{(1)}` = g_t1*x_1")
    assert "`" not in html_fragment
    assert html_fragment.startswith(f'<FONT FACE="{D.MATH_FONT}"><I>g</I><SUB>')


@pytest.mark.parametrize("value, text", [(10**400, "1e400"), (-(123456 * 10**400), "−1.235e405"), (99999 * 10**400, "1e405"),
                                         (10**5000, "1e5000"), (Fraction(10**400, 3), "3.333e399"), (Fraction(1, 10**400), "0")],
                         ids=["1e400", "negative", "rounds up", "1e5000", "fraction", "tiny fraction"])
def test_an_exact_constant_past_the_floats_is_shown_in_scientific_notation(value, text):
    # float(10**400) raised OverflowError: drawing such a graph (or `cgraph draw` of a file
    # holding one) crashed
    assert D.format_value(value) == text
    g = cg.Graph()
    x = g.input("x")
    g.output(x * g.const(value), name="y")
    assert text in html.unescape(cg.to_dot(g).to_string())


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # Unicode Greek letters are set as the spelled ones: g_α was drawn "g_α", α_1 "α_1"
        ("α", "<I>α</I>"), ("α_1", '<I>α</I><SUB><FONT POINT-SIZE="10">1</FONT></SUB>'),
        ("g_α", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>α</I></FONT></SUB>'), ("ŷ", "<I>ŷ</I>"),
        ("αβ", "αβ"),
        # the accents and primes to_latex sets: xprime was drawn "xprime", `x'` upright
        ("xprime", "<I>x′</I>"), ("x'", "<I>x</I>′"), ("xdot", "<I>ẋ</I>"), ("vvec", "<I>v⃗</I>"),
        ("robothat", "robothat"), ("robot_hat", 'robot<SUB><FONT POINT-SIZE="10">hat</FONT></SUB>'),
        # every Greek name to_latex knows
        ("varepsilon", "<I>ε</I>"), ("Xi", "<I>Ξ</I>"), ("upsilon", "<I>υ</I>"),
        # the adjoint of a snake_case name is g with the name below, as g_bias_first (was g_input_feature_vector)
        ("input_feature_vector", "input_feature_vector"),
        ("g_input_feature_vector", '<I>g</I><SUB><FONT POINT-SIZE="10">input_feature_vector</FONT></SUB>'),
    ],
)
def test_math_names_read_unicode_primes_and_accents_as_to_latex_does(name, expected):
    assert D.math_name(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # an accented letter before an index: xbar_1 was drawn upright "xbar" with 1 below, ŷ_true "yhat" with
        # true below, where to_latex sets \bar{x}_{1}, \hat{y}_{\mathrm{true}}
        ("xbar_1", '<I>x̄</I><SUB><FONT POINT-SIZE="10">1</FONT></SUB>'),
        ("x̄_1", '<I>x̄</I><SUB><FONT POINT-SIZE="10">1</FONT></SUB>'),
        ("xhat1", '<I>x̂</I><SUB><FONT POINT-SIZE="10">1</FONT></SUB>'),
        ("thetabar_2", '<I>θ̄</I><SUB><FONT POINT-SIZE="10">2</FONT></SUB>'),
        ("ŷ_true", '<I>ŷ</I><SUB><FONT POINT-SIZE="10">true</FONT></SUB>'),
        ("g_xbar_1", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>x̄</I><SUB><FONT POINT-SIZE="7">1</FONT></SUB></FONT></SUB>'),
        # a Greek letter with two indices: beta1_2 was drawn "beta" (to_latex: \beta_{1,2})
        ("beta1_2", '<I>β</I><SUB><FONT POINT-SIZE="10">1,2</FONT></SUB>'),
        ("β1_2", '<I>β</I><SUB><FONT POINT-SIZE="10">1,2</FONT></SUB>'),
        # a name shown literally is shown as written: Ω_é was drawn "Omega_é", g_α_max_value "g" with alpha_max_value
        ("Ω_é", "Ω_é"), ("g_Ω_é", "g_Ω_é"),
        ("g_α_max_value", '<I>g</I><SUB><FONT POINT-SIZE="10">α_max_value</FONT></SUB>'),
        ("g_ŷ_true", '<I>g</I><SUB><FONT POINT-SIZE="10">ŷ_true</FONT></SUB>'),
        # and in the lecture's notation: xhat_{t-1} was drawn as the upright word "xhat" (to_latex: \hat{x}_{t-1})
        ("xhat_{t-1}", '<I>x̂</I><SUB><FONT POINT-SIZE="10"><I>t</I>−1</FONT></SUB>'),
        ("thetabar^(l)", '<I>θ̄</I><SUP><FONT POINT-SIZE="10">(<I>l</I>)</FONT></SUP>'),
        ("robothat_{t}", 'robothat<SUB><FONT POINT-SIZE="10"><I>t</I></FONT></SUB>'),
        # words stay words
        ("robothat_1", 'robothat<SUB><FONT POINT-SIZE="10">1</FONT></SUB>'), ("bar_1", 'bar<SUB><FONT POINT-SIZE="10">1</FONT></SUB>'),
    ],
)
def test_math_names_set_accented_and_greek_letters_before_an_index_as_to_latex_does(name, expected):
    assert D.math_name(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # the adjoint of an adjoint nests, as to_latex's g_{g_{x}}: it showed g with 'g_x' written below
        ("g_g_x", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>g</I><SUB><FONT POINT-SIZE="7"><I>x</I></FONT></SUB></FONT></SUB>'),
        ("g2_g_x", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>g</I><SUB><FONT POINT-SIZE="7"><I>x</I></FONT></SUB></FONT></SUB>'
                   '<SUP><FONT POINT-SIZE="10">(2)</FONT></SUP>'),
        ("g_g_w1", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>g</I><SUB><FONT POINT-SIZE="7"><I>w</I>'
                   '<SUB><FONT POINT-SIZE="5">1</FONT></SUB></FONT></SUB></FONT></SUB>'),
        ("g_g1_2", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>g</I><SUB><FONT POINT-SIZE="7">1,2</FONT></SUB></FONT></SUB>'),
    ],
)
def test_math_name_nests_the_adjoint_of_an_adjoint(name, expected):
    assert D.math_name(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # the adjoint of a primed name (`x'`) has the prime in its subscript, as to_latex's g_{x'}: it was drawn
        # g_x′, which reads as the derivative of g_x, and g2_x' as g_x^(2)′
        ("g_x'", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>x</I>′</FONT></SUB>'),
        ("g2_x'", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>x</I>′</FONT></SUB><SUP><FONT POINT-SIZE="10">(2)</FONT></SUP>'),
        ("g_g_x'", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>g</I><SUB><FONT POINT-SIZE="7"><I>x</I>′</FONT></SUB></FONT></SUB>'),
        ("g_learning_rate'", '<I>g</I><SUB><FONT POINT-SIZE="10">learning_rate′</FONT></SUB>'),  # a word, as g_learning_rate
        ("x'", "<I>x</I>′"), ("g1_2'", '<I>g</I><SUB><FONT POINT-SIZE="10">1,2</FONT></SUB>′'),  # (no adjoints)
    ],
)
def test_math_name_puts_a_primed_names_prime_inside_its_adjoints_subscript(name, expected):
    assert D.math_name(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # ℓ typed as itself is drawn as ell is: ℓ_1 was drawn "ℓ_1" (its underscore showing) and its adjoint
        # g_ℓ as "g_ℓ", where to_latex sets \ell_{1} and g_{\ell}
        ("ℓ", "<I>ℓ</I>"), ("ℓ_1", '<I>ℓ</I><SUB><FONT POINT-SIZE="10">1</FONT></SUB>'),
        ("g_ℓ", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>ℓ</I></FONT></SUB>'),
        ("ℓ^(b)", '<I>ℓ</I><SUP><FONT POINT-SIZE="10">(<I>b</I>)</FONT></SUP>'),
        ("ℓx", "ℓx"),  # (a word)
    ],
)
def test_math_name_reads_the_letter_ell_as_ell(name, expected):
    assert D.math_name(name) == expected


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        # an index read by names.index, as to_latex reads it: S_tm1 is S_{t-1} (it was drawn S with the word
        # tm1 below, to_latex set S_{tm_{1}}), x_i1 is x_{i1} with i italic, and the adjoint g_S_tm1 was
        # drawn g with 'S_tm1' written below
        ("S_tm1", '<I>S</I><SUB><FONT POINT-SIZE="10"><I>t</I>−1</FONT></SUB>'),
        ("x_tp1", '<I>x</I><SUB><FONT POINT-SIZE="10"><I>t</I>+1</FONT></SUB>'),
        ("x_i1", '<I>x</I><SUB><FONT POINT-SIZE="10"><I>i</I>1</FONT></SUB>'),
        ("w1_tm1", '<I>w</I><SUB><FONT POINT-SIZE="10">1,<I>t</I>−1</FONT></SUB>'),
        ("g_S_tm1", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>S</I><SUB><FONT POINT-SIZE="7"><I>t</I>−1</FONT></SUB></FONT></SUB>'),
        ("g_S_tm1'", '<I>g</I><SUB><FONT POINT-SIZE="10"><I>S</I><SUB><FONT POINT-SIZE="7"><I>t</I>−1</FONT></SUB>′</FONT></SUB>'),
        ("x_out1", '<I>x</I><SUB><FONT POINT-SIZE="10">out1</FONT></SUB>'),  # (a word stays a word)
    ],
)
def test_math_name_reads_an_index_as_to_latex_does(name, expected):
    assert D.math_name(name) == expected


@needs_dot
def test_an_adjoint_of_an_adjoints_box_gives_valid_svg():
    g = cg.Graph()
    x = g.input("x")
    gx = g.apply("sin", x, name="g_x")
    g.output(g.apply("mul", gx, gx, name="g_g_x"), name="g2_g_g_x")
    svg = run_dot(cg.to_dot(g).to_string(), "svg").decode()
    texts = "".join(t.text or "" for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text"))  # noqa: S314 (our own SVG)
    assert "g_x" not in texts and "g_g" not in texts
