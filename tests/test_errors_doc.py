"""docs/errors.md is true: every error class has a section, every example raises the
documented class with the documented message, the counts of tests are the real ones,
and ``python -O`` gives the same errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import cgraph as cg
from cgraph import errors
from cgraph.ops import registry

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "errors.md").read_text(encoding="utf-8")
EXAMPLES = re.findall(r"```python\n(.*?)```\n```text\n(.*?)\n```", DOC, re.S)


def test_every_error_class_has_a_section_and_an_example():
    documented = {m.split(":")[0] for _, m in EXAMPLES}
    for name in errors.__all__:
        assert f"### `{name}`" in DOC, name
        assert name in documented or name == "CGraphError", name
    assert len(EXAMPLES) >= len(errors.__all__)


@pytest.mark.parametrize(("code", "shown"), EXAMPLES, ids=[m.split(":")[0] + f"-{i}" for i, (_, m) in enumerate(EXAMPLES)])
def test_documented_example_raises_the_documented_error(code, shown, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(os, "environ", dict(os.environ))  # an example may empty PATH
    ops, functions = dict(registry.OPS), dict(registry._FUNCTIONS)
    try:
        with pytest.raises(cg.CGraphError) as info:
            exec(code, {"cg": cg, "np": np, "os": os})  # the doc's own examples, nothing else
    finally:
        registry.OPS.clear(), registry.OPS.update(ops)
        registry._FUNCTIONS.clear(), registry._FUNCTIONS.update(functions)
    got = f"{type(info.value).__name__}: {info.value}"
    expected = shown.rstrip("…").rstrip() if shown.endswith("…") else shown
    assert got.startswith(expected) if shown.endswith("…") else got == expected, got
    assert list(tmp_path.iterdir()) == []


def _number(label: str) -> int:
    m = re.search(rf"\*\*([\d,]+)\*\* {label}", DOC)
    assert m, label
    return int(m.group(1).replace(",", ""))


def _hypothesis_tests(module) -> list:
    return [f for n, f in vars(module).items() if n.startswith("test_") and hasattr(f, "hypothesis")]


@pytest.mark.skipif(os.environ.get("CGRAPH_EXAMPLES_SCALE", "1") != "1", reason="counts are for the normal run")
def test_the_documented_counts_are_the_real_ones():
    import test_faults
    import test_fuzz
    import test_properties

    cases = {int(m) for m in re.findall(r"def test_b4_(\d\d)_", Path(test_faults.__file__).read_text())}
    assert cases == set(range(1, 51)) and _number("cases of the research inventory") == 50
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", "tests/test_faults.py"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout
    assert f"**{out.count('::test_b4_')}** test items" in DOC
    for module, label in ((test_properties, "hypothesis tests in `tests/test_properties.py`"),
                          (test_fuzz, "hypothesis fuzzers in `tests/test_fuzz.py`")):
        tests = _hypothesis_tests(module)
        assert _number(label) == len(tests)
        total = sum(f._hypothesis_internal_use_settings.max_examples for f in tests)
        assert re.search(rf"{re.escape(label)}, \*\*{total}\*\*", DOC.replace("\n  ", " ")), (label, total)


def test_errors_are_the_same_under_python_O():
    code = r'''
import numpy as np, cgraph as cg
from cgraph.export.render import run_dot
cases = [
    lambda: cg.parse("y = x +"),
    lambda: cg.parse("y = __import__('os')"),
    lambda: cg.evaluate(cg.parse("y = log(x)"), x=-1.0),
    lambda: cg.evaluate(cg.parse("y = x*z"), x=1.0),
    lambda: cg.loads("[1, 2]"),
    lambda: cg.adjoint(cg.parse("y = x"), wrt="w"),
    lambda: run_dot("digraph { a -> }", "svg"),
    lambda: cg.Graph().apply("mul", 1),
]
for case in cases:
    try:
        case()
    except cg.CGraphError as e:
        print(type(e).__name__, str(e).splitlines()[0])
'''
    runs = [
        subprocess.run([sys.executable, *flags, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
        for flags in ([], ["-O"])
    ]
    assert runs[0] == runs[1] and runs[0].count("\n") == 8, runs


#: the wrong calls the doc may list under Python's own TypeError, each with a call making it
WRONG_CALLS = {
    "keyword to an op function": lambda: cg.sum(cg.Graph().input("x"), axes=1),
    "option of `cg.to_dot`": lambda: cg.to_dot(cg.parse("y = x*z"), rankdr="TB"),
    "`f.positional`": lambda: cg.compile(cg.parse("y = x*z")).positional(1.0, 2.0, 3.0),
}


def test_the_wrong_calls_listed_under_python_type_error_raise_it():
    # the list named a misspelled option of cg.to_dot, which is an ExportError
    bullet = DOC.split("## Python's own exceptions", 1)[1].split("\n- ", 2)[1].replace("\n  ", " ")
    assert bullet.startswith("`TypeError`")
    listed = [phrase for phrase in WRONG_CALLS if phrase in bullet]
    assert listed
    for phrase in listed:
        with pytest.raises(TypeError) as info:
            WRONG_CALLS[phrase]()
        assert not isinstance(info.value, cg.CGraphError), phrase
