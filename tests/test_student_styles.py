"""Submissions written the way students write them, graded through the real CLI.

tests/student_styles/ holds correct submissions for every sheet in very different
styles, written from the contract alone: plain Python lists and the math module, torch
with autograd (0-d tensors, float64) and torch float32, numpy float32 throughout,
explicit loops, einsum and sliding windows, notebooks with magics, prints and a failing
cell, keyword calls between helpers, classes, namedtuples, defaultdicts, a ``__main__``
demo, thousands of lines printed at import, integer parameters, one-element arrays for
numbers, hidden units permuted and scaled; for sheets 9 and 10 also nn.Conv1d / nn.Linear
/ nn.LSTMCell modules, F.conv_transpose1d, a sparse adjacency, bool and int matrices,
counts as floats, numpy integers and 0-d arrays or tensors, a lattice CNN with permuted or
doubled hidden channels. Every one must get full marks.

tests/student_bugs.py puts one realistic bug into one function of those files (a sign,
a transposed matrix, a missing bias, a mean for a sum, a wrong derivative, an in-place
ReLU on a view, a global set at import, int truncation, two outputs swapped, ...). Each
must lose points on exactly the functions it names, and on no other.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from student_bugs import BUGS, STYLES, Bug

from conftest import grade_json

CORRECT = sorted(p for p in STYLES.glob("sheet*/*") if p.suffix in (".py", ".ipynb"))
BATCH = 4  # CLI runs at a time: two cores, and torch runs take ~1 GB each


def _grade_all(runs: dict) -> dict:
    """BATCH runs at a time, a new one as soon as one ends (a torch run is 5x the others)."""
    with ThreadPoolExecutor(BATCH) as pool:
        done = pool.map(lambda key: (key, grade_json(*runs[key])), runs)  # (path, sheet)
        return dict(done)


@pytest.fixture(scope="module")
def correct_reports() -> dict:
    return _grade_all({p: (p, p.parent.name.removeprefix("sheet")) for p in CORRECT})


@pytest.fixture(scope="module")
def bug_reports(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("bugs")
    runs = {}
    for bug in BUGS:
        path = folder / f"{bug.name}{Path(bug.base).suffix}"
        path.write_text(bug.source(), encoding="utf-8")
        runs[bug.name] = (path, bug.sheet)
    return _grade_all(runs)


def test_every_sheet_has_six_styles_or_more():
    for sheet in ("sheet2", "sheet7", "sheet9", "sheet10"):
        assert len([p for p in CORRECT if p.parent.name == sheet]) >= 6


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_correct_submission_in_any_style_gets_full_marks(correct_reports, path):
    report = correct_reports[path]
    wrong = [(c["id"], c["message"]) for c in report["checks"] if c["status"] != "passed"]
    assert not wrong and report["score"] == report["max_score"], wrong


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.name)
def test_a_bug_costs_points_on_its_function_only(bug_reports, bug: Bug):
    report = bug_reports[bug.name]
    failed = {c["function"] for c in report["checks"] if c["status"] != "passed"}
    assert failed == bug.fails
    assert report["score"] < report["max_score"]


def test_every_function_of_every_sheet_has_a_bug():
    from grader.contract import CONTRACT

    for sheet in CONTRACT:
        hit = set().union(*(b.fails for b in BUGS if b.sheet == sheet))
        assert hit == {f.name for f in CONTRACT[sheet]}


def test_a_failing_cell_is_noted_and_the_notebook_still_gets_full_marks(correct_reports):
    """The sheet-9 notebook loads the course's data file in a cell of its own (its third, after a
    Markdown cell: cells are numbered as Jupyter shows them)."""
    report = correct_reports[STYLES / "sheet9" / "notebook.ipynb"]
    assert any("cell 3 failed" in n and "FileNotFoundError" in n for n in report["notes"])
    assert report["score"] == report["max_score"]


def test_a_notebook_may_call_display_before_its_definitions(tmp_path):
    """Jupyter gives every notebook ``display``; a cell that shows something first keeps
    the functions it defines after."""
    cells = [
        "import numpy as np\ndisplay(np.zeros(3))\n\n"
        "def same_padding(f):\n    if f < 1 or f % 2 == 0:\n        raise ValueError\n"
        "    return (f - 1) // 2\n"
    ]
    nb = {
        "cells": [{"cell_type": "code", "metadata": {}, "source": c} for c in cells],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    path = tmp_path / "display.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    report = grade_json(path, "7")
    checks = [c for c in report["checks"] if c["function"] == "same_padding"]
    assert checks and all(c["status"] == "passed" for c in checks), checks
    assert not report["notes"] or all("failed" not in n for n in report["notes"])


def test_get_ipython_runs_the_python_cell_magics_a_notebook_runs():
    """A notebook saved as .py runs ``%%time`` bodies as its notebook would, no other."""
    from grader import loading, worker

    assert worker.PYTHON_CELL_MAGICS == loading.PYTHON_CELL_MAGICS
    namespace: dict = {"get_ipython": worker.get_ipython}
    exec(
        "get_ipython().run_cell_magic('time', '', 'a = 1\\n')\n"
        "get_ipython().run_cell_magic('bash', '', 'b = 2\\n')\n"
        "get_ipython().run_line_magic('matplotlib', 'inline')\n"
        "files = get_ipython().getoutput('ls')\n",
        namespace,
    )
    assert namespace["a"] == 1 and "b" not in namespace and namespace["files"] is None
