"""Rendering through the real Graphviz binary, and every failure as a typed error."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from graphs import layered, lecture

import cgraph as cg
from cgraph.export import render as R

needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed")
MAGIC = {".svg": b"<?xml", ".pdf": b"%PDF", ".png": b"\x89PNG", ".dot": b"digraph"}


@needs_dot
@pytest.mark.parametrize("suffix", [".dot", ".svg", ".pdf", ".png"])
@pytest.mark.parametrize("style", ["computation", "network"])
def test_every_format(tmp_path, suffix, style):
    g = lecture() if style == "computation" else layered([3, 4, 2])
    out = cg.render(g, tmp_path / f"g{suffix}", style=style)
    assert out.read_bytes().startswith(MAGIC[suffix])
    assert [p.name for p in tmp_path.iterdir()] == [f"g{suffix}"]  # no temporary file left


@needs_dot
def test_adjoint_graph_with_values_renders(tmp_path):
    ga = cg.adjoint(lecture())
    svg = cg.render(ga, tmp_path / "a.svg", values=cg.evaluate(ga, x=2.0, z=3.0)).read_text()
    assert svg.count('class="node"') >= 37


def test_unknown_suffix(tmp_path):
    with pytest.raises(cg.ExportError, match=r"unknown file type '\.jpg'"):
        cg.render(lecture(), tmp_path / "g.jpg")


@pytest.mark.parametrize("name", ["frames", "g.svg"])
def test_a_folder_is_no_file_to_render(tmp_path, name):
    # a folder said "unknown file type ''", and a folder named g.svg was found only after
    # Graphviz had drawn it ("Is a directory")
    (tmp_path / name).mkdir()
    with pytest.raises(cg.ExportError) as info:
        cg.render(lecture(), tmp_path / name)
    assert str(info.value) == (f"cannot render {str(tmp_path / name)!r}: it is a folder; give a file name such as "
                               f"{str(tmp_path / name / 'graph.svg')!r}")


def test_a_path_holding_nul_is_an_export_error():
    # it was a bare ValueError("embedded null byte")
    with pytest.raises(cg.ExportError, match=r"^cg.render: path 'g\\x00.svg' holds the NUL character"):
        cg.render(lecture(), "g\0.svg")
    with pytest.raises(cg.ExportError, match=r"^backprop_frames: out_dir 'f\\x00' holds the NUL character, which no "
                                             "folder name can$"):
        cg.backprop_frames(cg.parse("sin(x)"), "f\0", x=1.0)


def test_missing_folder_names_the_path(tmp_path):
    target = tmp_path / "nope" / "g.dot"
    with pytest.raises(cg.ExportError, match="does not exist") as info:
        cg.render(lecture(), target)
    assert str(target) in str(info.value)


def test_dot_missing_gives_install_hint(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(cg.GraphvizNotFoundError, match="apt-get install graphviz") as info:
        cg.render(lecture(), tmp_path / "g.svg")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, cg.ExportError)
    assert not (tmp_path / "g.svg").exists()
    assert cg.render(lecture(), tmp_path / "g.dot").exists()  # DOT text needs no Graphviz


@needs_dot
def test_graphviz_failure_carries_stderr():
    with pytest.raises(cg.RenderError, match="Graphviz failed.*(svgx|Format)"):
        R.run_dot("digraph { a -> b }", "svgx")
    with pytest.raises(cg.RenderError, match="syntax error"):
        R.run_dot("digraph { a -> }", "svg")


@needs_dot
def test_failure_is_the_same_under_python_O():
    code = (
        "import cgraph.export.render as R, cgraph as cg\n"
        "try:\n    R.run_dot('digraph { a -> }', 'svg')\n"
        "except cg.RenderError as e:\n    print('RenderError', 'syntax error' in str(e))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-O", "-c", code], cwd=root, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "RenderError True"


def test_failed_render_leaves_old_file_untouched(tmp_path, monkeypatch):
    target = tmp_path / "g.svg"
    target.write_text("old")

    def broken(text, fmt):
        raise cg.RenderError("boom")

    monkeypatch.setattr(R, "run_dot", broken)
    with pytest.raises(cg.RenderError):
        cg.render(lecture(), target)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["g.svg"]


def test_an_interrupted_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    # only an OSError removed the temporary file: Ctrl-C during the write left .g.dot.<random>.tmp
    def interrupt(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(R.os, "replace", interrupt)
    with pytest.raises(KeyboardInterrupt):
        cg.render(lecture(), tmp_path / "g.dot")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_a_rendered_file_has_the_permissions_open_would_give(tmp_path):
    # every diagram was made 0644 whatever the umask (0077: private files) and whatever
    # mode the file it replaced had (a group-writable 0664 one, a private 0600 one), where
    # cg.save keeps them
    mask = os.umask(0o077)
    try:
        path = cg.render(lecture(), tmp_path / "g.dot")
        assert path.stat().st_mode & 0o777 == 0o600
        path.chmod(0o664)
        cg.render(lecture(), path)
        assert path.stat().st_mode & 0o777 == 0o664
    finally:
        os.umask(mask)


def test_render_accepts_a_finished_dot(tmp_path):
    d = cg.to_dot(lecture(), rankdir="TB")
    assert "rankdir=TB" in cg.render(d, tmp_path / "g.dot").read_text()


def test_drawing_options_with_a_finished_dot_are_an_export_error(tmp_path):
    # they were ignored without a word: render(dot, path, values=...) drew no values
    d = cg.to_dot(lecture())
    with pytest.raises(cg.ExportError, match=r"finished pydot.Dot takes no drawing options \(values\)"):
        cg.render(d, tmp_path / "g.dot", values={"x": 2.0})
    with pytest.raises(cg.ExportError, match=r"\(style\)"):
        cg.render(d, tmp_path / "g.dot", style="network")


@needs_dot
def test_pdf_bytes_do_not_change_between_runs(tmp_path):
    a = cg.render(lecture(), tmp_path / "a.pdf").read_bytes()
    b = cg.render(lecture(), tmp_path / "b.pdf").read_bytes()
    assert a == b


@pytest.mark.parametrize("path", [None, 3])
def test_a_path_that_is_no_path_is_an_export_error(path):
    # pathlib's TypeError "expected str, bytes or os.PathLike object, not NoneType"
    with pytest.raises(cg.ExportError, match="cg.render: path must be a file path"):
        cg.render(cg.parse("y = x"), path)


@needs_dot
@pytest.mark.parametrize("text", ["123", "256,784"])
def test_a_long_index_in_svg_ends_before_the_text_after_it(text):
    # Graphviz makes room for an index as pango sets it (smaller than the size its SVG writer
    # writes): drawn at that size, x_123 ran over the text after it (g_x123 = 806.9, z_256^(1))
    name = "w" + text.replace(",", "_") if "," in text else "x_" + text  # w256_784 is w with index 256,784
    g = cg.Graph()
    g.output(cg.exp(g.input(name)), name="y")
    svg = R.run_dot(cg.to_dot(g, adjoints={name: 1.5}).to_string(), "svg")  # g_x123 = 1.5 in the box
    texts = re.findall(rb'<text [^>]*?x="([-0-9.]+)" y="([-0-9.]+)"([^>]*)>([^<]*)</text>', svg)
    checked = 0
    for (x, y, attrs, body), (x2, y2, _, _) in zip(texts, texts[1:]):
        if body.decode() == text and b' dy="' in attrs and y2 == y:
            size = float(re.search(rb'font-size="([0-9.]+)"', attrs)[1])
            digits, commas = sum(c.isdigit() for c in text), text.count(",")
            width = size * (0.636 * digits + 0.318 * commas)  # DejaVu Serif's advances
            assert width <= float(x2) - float(x) + 0.5
            checked += 1
    assert checked


@needs_dot
def test_an_index_in_svg_is_moved_by_dy_which_every_viewer_applies():
    # Graphviz writes an index as a <text> on the baseline with baseline-shift="sub"/"super", which SVG
    # applies to a <tspan> only: cairosvg (and browsers) drew g_x as "gx" and w_{1,1}^{(1)} as "w1,1(1)"
    g = cg.Graph()
    g.output(cg.exp(g.input("w_{1,1}^{(1)}")), name="y")
    svg = R.run_dot(cg.to_dot(g, adjoints={"w_{1,1}^{(1)}": 1.5}).to_string(), "svg")
    ET.fromstring(svg)  # noqa: S314 (our own SVG)
    assert b"baseline-shift" not in svg
    shifts = [(body, float(dy)) for dy, body in re.findall(rb'<text [^>]*? dy="(-?[0-9.]+)"[^>]*>([^<]*)</text>', svg)]
    assert [body for body, _ in shifts] == [b"1,1", b"(1)", b"w", b"1,1", b"(1)"]  # in the box, then g's index
    (_, sub), (_, sup), (_, w), (_, inner_sub), (_, inner_sup) = shifts
    assert sub > 0 > sup  # lowered, raised (SVG's y grows downwards)
    assert inner_sub > w > inner_sup > sup  # g_{w_{1,1}^{(1)}}: w's indices around w, not around g
