"""A careless student's submissions get a message that tells them what to fix.

Each test is a slip a real student makes (a file saved the wrong way, a
function that exits or waits for the keyboard, a name in the wrong case) and
proves the report names the slip instead of misleading them.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from conftest import ROOT, grade_json, grade_json_parallel, judge_first_case, run_grade
from grader.loading import LoadError, parse_submission
from grader.sheets import load

_CARELESS_EXAMPLE = ROOT / "submissions_example" / "sheet2" / "correct.py"


def _careless_judge(check_id: str, impl):
    sheet = load("2")
    check = next(c for e, c in sheet.iter_checks() if sheet.check_id(e, c) == check_id)
    return judge_first_case(sheet, check, impl)


def test_careless_far_off_float64_answer_is_not_told_to_use_float64():
    """`return y` lands on float32-exact numbers but is no rounding problem."""
    verdict = _careless_judge("2.2.logcosh.large", lambda y, t: np.asarray(y, dtype=np.float64))
    assert verdict.status == "failed"
    assert "float32" not in verdict.message and "float64" not in verdict.message


def test_careless_far_off_float64_answer_is_not_said_judged_as_float32():
    verdict = _careless_judge("2.2.logcosh.values", lambda y, t: np.asarray(y) - np.asarray(t))
    assert verdict.status == "failed" and "float32" not in verdict.message


# Files saved the wrong way: graded as what they hold, or told how to save them.

_CARELESS_CODE = "import numpy as np\n\n\ndef logcosh_grad(y, t):\n    return np.tanh(y - t)\n"


def _careless_notebook(cells: list[tuple[str, str]], counts: tuple = ()) -> bytes:
    """A notebook of these cells; ``counts`` are the code cells' execution counts."""
    ran = iter(counts)
    return json.dumps(
        {
            "cells": [
                {"cell_type": kind, "metadata": {}, "source": src}
                | ({"execution_count": next(ran, None), "outputs": []} if kind == "code" else {})
                for kind, src in cells
            ],
            "metadata": {},
            "nbformat": 4,
            "nbformat_minor": 4,
        }
    ).encode()


def test_careless_notebook_saved_as_py_is_graded_as_a_notebook():
    for bom in (b"", b"\xef\xbb\xbf"):
        source = parse_submission(bom + _careless_notebook([("code", _CARELESS_CODE)]), "s.py")
        assert source.notebook and "def logcosh_grad" in source.cells[0]
        assert any(".ipynb" in note for note in source.notes)


def test_careless_python_saved_as_ipynb_is_graded_as_python():
    source = parse_submission(_CARELESS_CODE.encode(), "sheet2.ipynb")
    assert not source.notebook and source.cells == [_CARELESS_CODE]
    assert any("name it .py" in note for note in source.notes)


def test_careless_html_export_saved_as_ipynb_says_what_to_hand_in():
    with pytest.raises(LoadError, match="HTML"):
        parse_submission(b"<!DOCTYPE html><html>...</html>", "sheet2.ipynb")


def test_careless_utf16_file_is_read_with_a_note():
    source = parse_submission(("# Lösung\n" + _CARELESS_CODE).encode("utf-16"), "sheet2.py")
    assert source.cells == ["# Lösung\n" + _CARELESS_CODE]
    assert any("UTF-16" in note and "UTF-8" in note for note in source.notes)


def test_careless_declared_latin1_is_read_as_python_reads_it():
    data = ("# -*- coding: latin-1 -*-\n# Jürgen\n" + _CARELESS_CODE).encode("latin-1")
    assert "Jürgen" in parse_submission(data, "sheet2.py").cells[0]
    with pytest.raises(LoadError, match="not valid UTF-8"):
        parse_submission("# Jürgen\n".encode("latin-1") + data, "sheet2.py")
    for codec in ("rot13", "zlib_codec", "punycode"):  # not text, or slow to decode
        with pytest.raises(LoadError, match="save it as UTF-8 and drop the coding line"):
            parse_submission(f"# coding: {codec}\n{_CARELESS_CODE}".encode(), "sheet2.py")


def test_careless_unsaved_notebook_is_told_to_save():
    with pytest.raises(LoadError, match="saved"):
        parse_submission(_careless_notebook([]), "sheet2.ipynb")
    with pytest.raises(LoadError, match="code cells are empty: was it saved"):
        parse_submission(_careless_notebook([("markdown", "# 2"), ("code", "")]), "s.ipynb")


def test_careless_code_in_a_markdown_cell_is_named():
    with pytest.raises(
        LoadError, match="cell 1 is a Markdown cell holding Python \\(`def logcosh_grad`\\)"
    ):
        parse_submission(_careless_notebook([("markdown", _CARELESS_CODE)]), "s.ipynb")
    source = parse_submission(
        _careless_notebook(
            [("markdown", _CARELESS_CODE), ("code", "def relu(z):\n    return z\n")]
        ),
        "s.ipynb",
    )
    assert any("cell 1 is a Markdown cell" in note for note in source.notes)
    explained = parse_submission(
        _careless_notebook(
            [("markdown", "```\n" + _CARELESS_CODE + "```"), ("code", _CARELESS_CODE)]
        ),
        "s.ipynb",
    )
    assert not any("Markdown" in note for note in explained.notes)


# Slips in the code: each costs its own function's checks, and the message says why.

_CARELESS_SLIPS = """
def logcosh(y):
    return np.log(np.cosh(y))


def logcosh_grad(y, t):
    exit()


def dataset_grad(w, X, t):
    return X.T @ np.tanh(X @ w - t) / X.shape[0]


def backprop(self, x, t, w):
    return {}


def grads_w13_w24(x1, x2, t, w13, w24):
    return float(input("w13? ")), 0.0


def network_params():
    import torch

    return {"W1": torch.eye(3, 2).cuda()}


if __name__ == "__main__":
    def grad_v(x1, x2, t, v):
        return 0.0
"""


def test_careless_slips_in_code_are_each_named(submission, tmp_path):
    correct = (ROOT / "submissions_example" / "sheet2" / "correct.py").read_text()
    slips = submission(correct.replace("def grad_v(", "def _spare(") + _CARELESS_SLIPS)
    reports = grade_json_parallel(
        {
            "slips": (slips, "--sheet", "2"),
            "exit": (
                submission(_CARELESS_CODE + "import sys\nsys.exit(0)\n", "x.py"),
                "--sheet",
                "2",
            ),
        }
    )
    checks = {c["function"]: c for c in reports["slips"]["checks"]}
    assert checks["predict_class"]["status"] == "passed"  # each slip costs its own checks
    assert "there is no GPU where submissions run" in checks["network_params"]["message"]
    assert "the grader passes 2 arguments" in checks["logcosh"]["hint"]
    assert "called exit()" in checks["logcosh_grad"]["message"]
    assert "nothing may exit" in checks["logcosh_grad"]["message"]
    assert "in the contract's order" in checks["dataset_grad"]["hint"]
    assert "remove `self`" in checks["backprop"]["hint"]
    assert "input() gets no keyboard" in checks["grads_w13_w24"]["message"]
    assert "move it to the top level" in checks["grad_v"]["hint"]
    load_error = reports["exit"]["load_error"]
    assert "called exit(0)" in load_error and '`if __name__ == "__main__":`' in load_error


# A tired TA's options: a typo is a usage error or is explained, never a silent exit status.


def test_careless_fail_under_nan_is_a_usage_error():
    proc = run_grade(_CARELESS_EXAMPLE, "--sheet", "2", "--fail-under", "nan")
    assert proc.returncode == 2 and "--fail-under" in proc.stderr


def test_careless_fail_under_says_why_it_exits_3(tmp_path):
    proc = run_grade(_CARELESS_EXAMPLE, "--sheet", "2", "--fail-under", "120", "--format", "json")
    assert proc.returncode == 3
    assert json.loads(proc.stdout)["score"] == 100
    assert "below --fail-under 120" in proc.stderr
    assert "maximum is 100" in proc.stderr


def test_careless_txt_file_is_told_to_rename(tmp_path):
    saved = tmp_path / "sheet2.py.txt"
    saved.write_text(_CARELESS_CODE)
    proc = run_grade(saved, "--sheet", "2")
    assert proc.returncode == 2 and "rename it" in proc.stderr
    archive = tmp_path / "sheet2.zip"
    archive.write_bytes(b"PK\x05\x06" + bytes(18))
    proc = run_grade(archive, "--sheet", "2")
    assert proc.returncode == 2 and "unpack it" in proc.stderr and "rename" not in proc.stderr


def test_careless_colab_download_with_pip_line_says_which_line_to_delete(submission):
    """Colab's "Download .py" keeps `!pip install` lines, which are no Python."""
    path = submission(
        '"""Automatically generated by Colab."""\n\n!pip install torch\n' + _CARELESS_CODE
    )
    load_error = grade_json(path, "2")["load_error"]
    assert "line 3 is a notebook's shell command or magic" in load_error
    assert "delete such lines" in load_error
    mounted = submission("from google.colab import drive\ndrive.mount('/content')\n", "d.py")
    assert "google.colab exists only on Colab" in grade_json(mounted, "2")["load_error"]


def test_careless_top_level_self_test_and_tabs_say_what_to_do(submission):
    reports = grade_json_parallel(
        {
            "assert": (
                submission(_CARELESS_CODE + "assert logcosh_grad(0.0, 1.0) == 0\n", "a.py"),
                "--sheet",
                "2",
            ),
            "tabs": (submission(_CARELESS_CODE + "\tprint(1)\n", "t.py"), "--sheet", "2"),
        }
    )
    assert (
        'put tests and demos under `if __name__ == "__main__":`' in reports["assert"]["load_error"]
    )
    assert "indent with spaces only" in reports["tabs"]["load_error"]


def test_careless_missing_default_is_named(submission):
    """maxpool2d(x, k) without k=2: the grader calls maxpool2d(x) on the sheet's case."""
    correct = (ROOT / "submissions_example" / "sheet7" / "correct.py").read_text()
    path = submission(
        correct + "\n\n_pool = maxpool2d\n\n\ndef maxpool2d(x, k):\n    return _pool(x, k)\n"
    )
    checks = {c["id"]: c for c in grade_json(path, "7")["checks"] if c["function"] == "maxpool2d"}
    assert checks.pop("7.3.maxpool2d.k3")["status"] == "passed"  # it passes k itself
    assert checks and all(c["status"] == "error" for c in checks.values())
    assert all("define it as `def maxpool2d(x, k=2):`" in c["hint"] for c in checks.values())


def test_careless_training_run_at_top_level_is_told_where_to_put_it(submission):
    path = submission(_CARELESS_CODE + "import time\n\ntime.sleep(30)  # train for a while\n")
    report = grade_json(path, "2", "--load-timeout", "1")
    assert report["checks"][0]["status"] == "timeout"
    assert '`if __name__ == "__main__":`' in report["load_error"]


# A TA's folder of submissions: a file that is code under another name is not silently lost.


def test_careless_batch_names_code_saved_under_another_extension(tmp_path):
    from grader import batch

    (tmp_path / "zed.py.txt").write_text(_CARELESS_CODE)
    (tmp_path / "roster.csv").write_text("name\n")
    (tmp_path / "ben").mkdir()
    (tmp_path / "ben" / "solution.py.txt").write_text(_CARELESS_CODE)
    found = {s.id: s for s in batch.discover(tmp_path, "2")}
    assert "roster.csv" not in found
    assert found["zed.py.txt"].status == batch.NO_SUBMISSION
    assert "rename it to end in .py" in found["zed.py.txt"].message
    assert "solution.py.txt" in found["ben"].message


# A notebook's cells are named as Jupyter numbers them, Markdown cells included.


def test_careless_failed_cell_is_named_by_its_place_in_the_notebook(tmp_path):
    notebook = tmp_path / "nb.ipynb"
    notebook.write_bytes(
        _careless_notebook(
            [
                ("markdown", "# Sheet 2"),
                ("markdown", "My solution"),
                ("code", "import numpy as np\nSCALE = scale()\n\n" + _CARELESS_CODE),
                ("code", "def scale():\n    return 1.0\n"),
            ],
            counts=(2, 1),
        )
    )
    report = grade_json(notebook, "2")
    assert any(n.startswith("cell 3 failed") and "[cell 3]" in n for n in report["notes"])
    grad = next(c for c in report["checks"] if c["function"] == "logcosh_grad")
    assert "defined in cell 3, which failed" in grad["hint"]
    assert any("ran out of order" in n and "Restart & Run All" in n for n in report["notes"])


def test_careless_batch_with_the_wrong_sheet_warns_the_ta(tmp_path):
    """A folder of sheet-2 files graded as sheet 7 by a tired TA: near zeros, and a warning.

    Sheet 2's files define `relu`, one of sheet 7's functions: that must not hide it."""
    folder = tmp_path / "subs"
    folder.mkdir()
    for name in ("a.py", "b.py"):
        shutil.copy(_CARELESS_EXAMPLE, folder / name)
    proc = run_grade("batch", folder, "--sheet", "7", "--db", tmp_path / "g.sqlite")
    assert proc.returncode == 0, proc.stderr
    assert "2 of 2 graded submissions" in proc.stderr and "--sheet 2" in proc.stderr


def test_careless_writefile_cell_says_nothing_can_import_it():
    cells = [("code", "%%writefile sol.py\n" + _CARELESS_CODE), ("code", "from sol import *\n")]
    source = parse_submission(_careless_notebook(cells), "s.ipynb")
    assert any(
        n.startswith("cell 1: skipped (%%writefile") and "drop the import" in n
        for n in source.notes
    )


def test_careless_second_download_is_not_told_to_name_it_like_the_sheet(tmp_path):
    from grader import batch

    (tmp_path / "amy").mkdir()
    for name in ("sheet2.py", "sheet2 (1).py"):
        (tmp_path / "amy" / name).write_text(_CARELESS_CODE)
    amy = batch.discover(tmp_path, "2")[0]
    assert amy.status == batch.AMBIGUOUS
    assert "2 are named like the sheet" in amy.message and "or name it" not in amy.message


def test_careless_python_saved_as_ipynb_keeps_its_note_beside_a_syntax_error(tmp_path):
    path = tmp_path / "sheet2.ipynb"
    path.write_text(_CARELESS_CODE + "def broken(:\n")
    report = grade_json(path, "2")
    assert "syntax error" in report["load_error"]
    assert any("name it .py" in note for note in report["notes"])
