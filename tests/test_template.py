"""`grade template`: a .py module or a real Jupyter notebook, chosen by the -o suffix."""

from __future__ import annotations

import importlib
import inspect

import nbformat
import pytest

from conftest import grade_json, run_grade
from grader.contract import CONTRACT
from grader.sheets import available, load
from grader.template import skeleton, stub


def write_notebook(tmp_path, sheet_id: str, name: str = "mine.ipynb"):
    path = tmp_path / name
    proc = run_grade("template", "--sheet", sheet_id, "-o", path)
    assert proc.returncode == 0, proc.stderr
    return path


def test_notebook_template_is_a_valid_notebook_with_a_cell_per_exercise_and_function(tmp_path):
    path = write_notebook(tmp_path, "9", "sheet9.ipynb")
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.nbformat == 4
    ids = [c.id for c in nb.cells]
    assert len(ids) == len(set(ids))

    sheet = load("9")
    assert nb.cells[0].cell_type == "markdown" and sheet.title in nb.cells[0].source
    headings = [c.source for c in nb.cells if c.cell_type == "markdown"]
    for exercise in sheet.exercises:
        assert sum(exercise.title.split(" (")[0] in h for h in headings) == 1, exercise.title

    code = [c.source for c in nb.cells if c.cell_type == "code"]
    py = skeleton("9")
    for fn in CONTRACT["9"]:
        (cell,) = [c for c in code if c.startswith(f"def {fn.name}(")]
        assert cell == stub(fn).rstrip("\n") and cell in py

    *_, explained, check = nb.cells
    assert check.cell_type == "code" and check.source == "!grade sheet9.ipynb --sheet 9"
    assert explained.cell_type == "markdown" and "**saved**" in explained.source
    assert "from gradekit import check; check('sheet9.ipynb')" in explained.source


@pytest.mark.parametrize("sheet_id", available())
def test_untouched_notebook_template_scores_zero_with_not_implemented(tmp_path, sheet_id):
    report = grade_json(write_notebook(tmp_path, sheet_id), sheet_id)
    assert report["score"] == 0.0 and report["load_error"] is None
    assert report["notes"] == []  # the self-check's shell line is skipped silently
    for c in report["checks"]:
        assert c["status"] == "error" and "not implemented yet" in c["message"], c


@pytest.mark.parametrize("sheet_id", available())
def test_notebook_template_filled_with_the_reference_scores_full_marks(tmp_path, sheet_id):
    """Every stub cell replaced by the reference's function: the notebook's own cells
    (markdown, the self-check line) cost nothing."""
    path = write_notebook(tmp_path, sheet_id)
    ref = importlib.import_module(f"reference.sheet{sheet_id}")
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.id == "imports":
            cell.source = inspect.getsource(ref)  # the reference's helpers and imports
        elif cell.id.startswith("def-"):
            cell.source = inspect.getsource(getattr(ref, cell.id.removeprefix("def-")))
    nbformat.write(nb, path)
    report = grade_json(path, sheet_id)
    assert report["score"] == report["max_score"], [
        c for c in report["checks"] if c["status"] != "passed"
    ]


def test_check_cell_names_an_odd_file_name_as_one_literal_word(tmp_path):
    nb = nbformat.read(write_notebook(tmp_path, "2", "my $HOME {x}.ipynb"), as_version=4)
    assert nb.cells[-1].source == "!grade 'my $$HOME {{x}}.ipynb' --sheet 2"


def test_template_on_stdout_stays_python():
    proc = run_grade("template", "--sheet", "9")
    assert proc.returncode == 0 and proc.stdout == skeleton("9")
    compile(proc.stdout, "sheet9.py", "exec")


def test_template_refuses_a_file_the_grader_cannot_read(tmp_path):
    path = tmp_path / "sheet9.txt"
    proc = run_grade("template", "--sheet", "9", "-o", path)
    assert proc.returncode == 2 and ".ipynb" in proc.stderr and not path.exists()


def test_notebook_template_refuses_to_overwrite(tmp_path):
    path = tmp_path / "mine.ipynb"
    path.write_text("keep me")
    proc = run_grade("template", "--sheet", "9", "-o", path)
    assert proc.returncode == 2 and path.read_text() == "keep me"
