"""Reading submissions: notebooks, magics, and unreadable files become LoadErrors."""

from __future__ import annotations

import json

import nbformat
import pytest

from grader.loading import LoadError, read_submission, strip_ipython


def notebook(tmp_path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(c[3:])
        if c.startswith("md:")
        else nbformat.v4.new_code_cell(c)
        for c in cells
    ]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    return path


def test_notebook_code_cells_in_order(tmp_path):
    src = read_submission(notebook(tmp_path, "a = 1", "md:# title", "b = a + 1"))
    assert src.notebook and src.cells == ["a = 1", "b = a + 1"]


def test_magics_and_shell_lines_do_not_run():
    out, note = strip_ipython("%matplotlib inline\nx = 1\n!pip install foo\n  %time y = 2")
    assert out.splitlines() == ["pass", "x = 1", "pass", "  pass"]
    assert note is None


def test_python_cell_magic_keeps_its_body():
    out, _ = strip_ipython("%%time\nx = 1")
    assert out.splitlines() == ["", "x = 1"]


def test_other_cell_magics_are_skipped():
    out, note = strip_ipython("%%bash\necho hi")
    assert out == "" and "bash" in note


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "empty"),
        (b"   \n\n", "empty"),
        (b"x = '\xff\xfe'", "UTF-8"),
        (b"\x7fELF\x00\x01\x02", "binary"),
    ],
)
def test_unreadable_py_files(tmp_path, content, fragment):
    path = tmp_path / "s.py"
    path.write_bytes(content)
    with pytest.raises(LoadError, match=fragment):
        read_submission(path)


@pytest.mark.parametrize("content", [b"{not json", b'{"cells": 3}', b"[]"])
def test_invalid_notebooks(tmp_path, content):
    path = tmp_path / "s.ipynb"
    path.write_bytes(content)
    with pytest.raises(LoadError, match="notebook"):
        read_submission(path)


def test_utf8_bom_is_accepted(tmp_path):
    path = tmp_path / "s.py"
    path.write_bytes(b"\xef\xbb\xbfx = 1\n")
    assert read_submission(path).cells == ["x = 1\n"]


def test_a_notebook_with_large_outputs_is_read(tmp_path):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": "A" * (8 << 20)})]
    nb.cells = [cell]
    path = tmp_path / "plots.ipynb"
    nbformat.write(nb, path)
    assert path.stat().st_size > 8 << 20
    assert read_submission(path).cells == ["x = 1"]


def test_too_much_code_is_refused(tmp_path):
    path = tmp_path / "huge.py"
    path.write_text("x = 1\n" * (1 << 20))
    with pytest.raises(LoadError, match="limit"):
        read_submission(path)


def test_a_notebook_bending_the_format_is_graded_with_a_note(tmp_path):
    nb = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {},
        "cells": [
            {
                "cell_type": "code",
                "source": ["x = 1\n", "y = 2"],
                "metadata": {},
                "outputs": [],
                "execution_count": None,
                "unexpected": True,
            }
        ],
    }
    path = tmp_path / "odd.ipynb"
    path.write_text(json.dumps(nb))
    src = read_submission(path)
    assert src.cells == ["x = 1\ny = 2"]
    assert any("graded anyway" in n for n in src.notes)
