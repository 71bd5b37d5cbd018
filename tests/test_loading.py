"""Reading submissions: notebooks, magics, and unreadable files become LoadErrors."""

from __future__ import annotations

import json
import os

import nbformat
import pytest

from grader import loading
from grader.loading import LoadError, NotAFile, Refused, read_submission, strip_ipython


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


@pytest.mark.parametrize(
    "cell, expected",
    [
        ("y = (a\n     != b)", "y = (a\n     != b)"),
        ("z = (a\n % b)", "z = (a\n % b)"),
        ("w = [a,\n     !b]", "w = [a,\n     !b]"),
        ("v = a \\\n  != b", "v = a \\\n  != b"),
        (
            's = """\n%not a magic\n!nor this\n"""\n%who',
            's = """\n%not a magic\n!nor this\n"""\npass',
        ),
        ("t = 'a\\\n%b'\n!ls", "t = 'a\\\n%b'\npass"),
        ("u = f(1,  # ( in a comment\n  2)\n%who", "u = f(1,  # ( in a comment\n  2)\npass"),
        ("x = %timeit -o f()\nprint(x.best)", "x = None\nprint(x.best)"),
        ("files = !ls\nn = len(files)", "files = None\nn = len(files)"),
        ("a, b = !ls\nself.x = %who_ls", "a, b = None, None\nself.x = None"),
        ("%time f(1, \\\n  2)\nx = 1", "pass\n\nx = 1"),
        ("obj?\n??obj\n# what?", "pass\npass\n# what?"),
        ("ok = x == 1", "ok = x == 1"),
    ],
)
def test_ipython_syntax_follows_ipythons_rules(cell, expected):
    assert strip_ipython(cell) == (expected, None)


def test_a_continuation_line_starting_like_a_magic_is_graded_as_python(tmp_path):
    cell = "def differs(a, b):\n    return (a\n  != b)\n\n\ndef rest(a, b):\n    return (a\n % b)"
    namespace: dict = {}
    exec(read_submission(notebook(tmp_path, cell)).cells[0], namespace)
    assert namespace["differs"](1, 2) is True and namespace["rest"](7, 4) == 3


def test_a_notebook_of_too_many_cells_is_refused_quickly(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1") for _ in range(loading.MAX_CELLS + 1)]
    path = tmp_path / "many.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(LoadError, match="10,001 cells; the limit is 10,000"):
        read_submission(path)


def test_a_notebook_of_millions_of_tiny_values_is_refused_before_parsing(tmp_path, monkeypatch):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=["ab\n"] * 5000)]
    nb.cells = [cell]
    path = tmp_path / "chatty.ipynb"
    nbformat.write(nb, path)
    monkeypatch.setattr(loading, "MAX_JSON_ITEMS", 4000)
    monkeypatch.setattr(loading.json, "loads", None)  # refused before parsing
    with pytest.raises(LoadError, match="clear its outputs"):
        read_submission(path)


def test_an_old_v3_notebook_is_converted(tmp_path):
    nb = nbformat.v3.new_notebook()
    nb.worksheets = [nbformat.v3.new_worksheet(cells=[nbformat.v3.new_code_cell("x = 1")])]
    path = tmp_path / "old.ipynb"
    path.write_text(nbformat.writes(nb, version=3))
    assert read_submission(path).cells == ["x = 1"]


@pytest.mark.parametrize("content", [b'{"cells": [{"cell_type": "code", "source": [1, 2]}]}'])
def test_a_cell_source_of_the_wrong_type_is_not_a_traceback(tmp_path, content):
    path = tmp_path / "odd.ipynb"
    path.write_bytes(content)
    with pytest.raises(LoadError, match="no code cells"):
        read_submission(path)


def test_a_symlink_is_refused_unless_followed(tmp_path):
    real = tmp_path / "real.py"
    real.write_text("x = 1\n")
    (tmp_path / "link.py").symlink_to(real)
    with pytest.raises(NotAFile, match=r"link\.py is a symbolic link"):
        read_submission(tmp_path / "link.py")
    assert read_submission(tmp_path / "link.py", follow_symlinks=True).cells == ["x = 1\n"]


def test_a_folder_on_the_way_may_not_be_a_symlink(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "s.py").write_text("x = 1\n")
    (tmp_path / "bob").symlink_to(tmp_path / "real")
    with pytest.raises(NotAFile, match="bob is a symbolic link"):
        read_submission(tmp_path / "bob" / "s.py")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    os.mkfifo(tmp_path / "pipe.py")
    with pytest.raises(NotAFile, match=r"pipe\.py is a FIFO"):
        read_submission(tmp_path / "pipe.py")
    with pytest.raises(NotAFile, match="FIFO"):
        read_submission(tmp_path / "pipe.py", follow_symlinks=True)


def test_a_sparse_huge_file_is_refused_by_its_size_without_reading(tmp_path):
    path = tmp_path / "huge.ipynb"
    with path.open("wb") as f:
        f.truncate(3 << 29)
    with pytest.raises(Refused, match=r"huge\.ipynb is 1536 MiB; the limit is 200 MiB"):
        read_submission(path)


def test_read_beneath_counts_what_it_reads(tmp_path, monkeypatch):
    path = tmp_path / "s.py"
    path.write_bytes(b"x = 1\n" * 10)
    monkeypatch.setattr(loading, "MAX_CODE_BYTES", 30)
    with pytest.raises(Refused, match=r"s\.py is 60 bytes; the limit is 30 bytes"):
        loading.read_beneath(tmp_path, ["s.py"])
    monkeypatch.setattr(loading, "MAX_CODE_BYTES", 60)
    assert loading.read_beneath(tmp_path, ["s.py"]) == b"x = 1\n" * 10


as_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or not loading.WALK_BY_FD,
    reason="making links owned by root, or by another uid, needs root",
)


@pytest.fixture
def fake_root(tmp_path):
    """A filesystem root laid out like macOS: /tmp -> private/tmp, holding x/s.py."""
    root = tmp_path / "root"
    (root / "private" / "tmp" / "x").mkdir(parents=True)
    (root / "private" / "tmp" / "x" / "s.py").write_text("x = 1\n")
    root.chmod(0o755)
    (root / "tmp").symlink_to("private/tmp")
    return root


@as_root
def test_a_root_owned_link_in_the_root_is_followed(fake_root):
    parts = ["tmp", "x", "s.py"]
    assert loading.read_beneath(fake_root, parts, system_root=True) == b"x = 1\n"
    (fake_root / "tmp").unlink()
    (fake_root / "tmp").symlink_to("/private/./tmp")  # absolute: from the same root
    assert loading.read_beneath(fake_root, parts, system_root=True) == b"x = 1\n"
    (fake_root / "a").symlink_to("tmp")  # a chain of root links, each checked
    assert loading.read_beneath(fake_root, ["a", "x", "s.py"], system_root=True) == b"x = 1\n"


@as_root
def test_batch_and_relative_walks_follow_no_root_link(fake_root):
    with pytest.raises(NotAFile, match=r"^tmp is a symbolic link"):
        loading.read_beneath(fake_root, ["tmp", "x", "s.py"])


@as_root
@pytest.mark.parametrize(
    "spoil",
    [
        lambda root: os.lchown(root / "tmp", 65534, -1),  # the link is not root's
        lambda root: root.chmod(0o775),  # the group may add links to the root
        lambda root: root.chmod(0o757),  # so may anyone
        lambda root: os.chown(root, 65534, -1),  # the root is not root's
    ],
)
def test_a_root_link_anyone_but_root_could_make_is_refused(fake_root, spoil):
    spoil(fake_root)
    with pytest.raises(NotAFile, match=r"^tmp is a symbolic link") as refused:
        loading.read_beneath(fake_root, ["tmp", "x", "s.py"], system_root=True)
    assert refused.value.link


@as_root
@pytest.mark.parametrize(
    "make, parts, refused",
    [  # below the root, the file itself, climbing out, a loop: all refused
        (lambda r: (r / "private/tmp/bob").symlink_to("x"), "tmp/bob/s.py", "private/tmp/bob"),
        (lambda r: (r / "t.py").symlink_to("private/tmp/x/s.py"), "t.py", "t.py"),
        (lambda r: (r / "up").symlink_to("../root/private"), "up/tmp/x/s.py", "up"),
        (lambda r: [(r / "a").symlink_to("b"), (r / "b").symlink_to("a")], "a/s.py", "a"),
    ],
)
def test_only_a_root_link_in_the_root_is_followed(fake_root, make, parts, refused):
    make(fake_root)
    with pytest.raises(NotAFile, match=f"^{refused} is a symbolic link"):
        loading.read_beneath(fake_root, parts.split("/"), system_root=True)


@pytest.mark.skipif(
    not (os.path.islink("/lib") and os.path.isfile("/usr/lib/os-release"))
    or not loading.WALK_BY_FD,
    reason="needs a merged-/usr system: /lib -> usr/lib",
)
def test_grade_file_follows_the_systems_own_root_links():
    assert loading.read_file(loading.Path("/lib/os-release")) == loading.read_file(
        loading.Path("/usr/lib/os-release")
    )


@as_root
def test_no_root_link_is_followed_where_links_cannot_be_read_in_the_opened_root(
    fake_root, monkeypatch
):
    monkeypatch.setattr(loading, "_ROOT_LINKS", False)
    with pytest.raises(NotAFile, match=r"^tmp is a symbolic link"):
        loading.read_beneath(fake_root, ["tmp", "x", "s.py"], system_root=True)
