"""The README's Python examples run, and print what their comments say."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
#: a Python block followed by a text block: what the code prints
PRINTED = re.findall(r"```python\n((?:(?!```).)*)```\s*```text\n((?:(?!```).)*)```", README.read_text(encoding="utf-8"),
                     flags=re.S)
NUMBER = r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?"
#: a value a comment may claim: a number, possibly cut short ("1208.38..."), or True/False as Python shows them
CLAIM = NUMBER + r"(?:\.\.\.)?|\bTrue\b|\bFalse\b"


def _claims(block: str) -> list[tuple[str, str]]:
    """(expression, comment) for each line ``expr  # value`` whose comment holds numbers."""
    out = []
    for line in block.splitlines():
        code, sep, comment = line.partition("  # ")
        if sep and re.search(CLAIM, comment) and not re.match(r"\s*[\w.]+\s*=[^=]", code):
            out.append((code.strip(), comment))
    return out


def _numbers(value) -> list[float]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _numbers(v)]
    return [float(x) for x in np.ravel(value)]


def test_the_readme_has_python_examples():
    assert BLOCKS and any(_claims(b) for b in BLOCKS)
    assert PRINTED  # and one whose output it shows


@pytest.mark.parametrize("block", BLOCKS)
def test_readme_block_runs_and_matches_its_comments(block, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # blocks may write files
    namespace: dict = {}
    exec(compile(block, str(README), "exec"), namespace)  # the README is ours, not user input
    for expr, comment in _claims(block):
        got = _numbers(eval(expr, namespace))
        claimed = [{"True": "1", "False": "0"}.get(c, c) for c in re.findall(CLAIM, comment)]
        assert len(got) == len(claimed), (expr, comment)
        for g, c in zip(got, claimed):
            if c.endswith("..."):  # the digits shown must be the leading digits
                assert f"{g:.17g}".startswith(c[:-3]) or f"{g!r}".startswith(c[:-3]), (expr, g, c)
            else:
                assert g == pytest.approx(float(c), rel=1e-15), (expr, g, c)


@pytest.mark.parametrize(("block", "shown"), PRINTED)
def test_the_output_shown_after_a_block_is_what_it_prints(block, shown, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    exec(compile(block, str(README), "exec"), {})  # the README is ours, not user input
    printed = capsys.readouterr().out.splitlines()
    lines = [line for line in shown.splitlines() if line != "..."]  # "..." stands for lines left out
    runs = [printed[i:i + len(lines)] for i in range(len(printed) - len(lines) + 1)]
    assert lines in runs, "\n".join(printed)
