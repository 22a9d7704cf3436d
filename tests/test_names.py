"""Scripted names: the lecture's w_{j,i}^{(l)}, x^{(n)}, G_{t-1} read as base, subscript, superscript."""

from __future__ import annotations

import pytest

from cgraph.printing.names import index, scripted


@pytest.mark.parametrize(
    "name, parts",
    [
        ("w_{j,i}^{(l)}", ("w", "j,i", "(l)")),
        ("w^{(l)}_{j,i}", ("w", "j,i", "(l)")),  # either order
        ("z_1^(1)", ("z", "1", "(1)")),
        ("x^{(n)}", ("x", "", "(n)")),
        ("G_{t-1}", ("G", "t-1", "")),
        ("W_{t+1}^{(l)}", ("W", "t+1", "(l)")),
        ("beta^t", ("beta", "", "t")),
    ],
)
def test_scripted_names_split_into_base_and_scripts(name, parts):
    assert scripted(name) == parts


@pytest.mark.parametrize("name", ["x", "x_1", "W1", "g_x", "loss_aug", "a^b^c", "x_{1}_{2}", "^2", "x^{", "x^{a{b}}", "1x^2"])
def test_plain_or_malformed_names_are_not_scripted(name):
    assert scripted(name) is None


@pytest.mark.parametrize(
    "word, reading",
    [
        ("tm1", "t-1"), ("tp1", "t+1"), ("km12", "k-12"),  # code's time steps: h_tm1 is h_{t-1}
        ("i1", "i1"), ("t10", "t10"),  # one index, x_{i1}: not x_{i_{1}}
        ("t", None), ("1", None), ("out1", None), ("tm", None), ("tx1", None), ("1t", None),
        # two or three index letters, each once: x_ij is x_{ij} (it was the upright word ij)
        ("ij", "ij"), ("ji", "ji"), ("ijk", "ijk"), ("ii", None), ("in", None), ("kl", None), ("ijkk", None),
    ],
)
def test_index_reads_a_letter_with_a_step_or_digits(word, reading):
    assert index(word) == reading
