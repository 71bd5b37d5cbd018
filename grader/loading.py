"""Reading a submission file into source cells, without running any of it.

A ``.py`` file is one cell; a notebook is its code cells in order, with IPython
line magics and shell lines blanked (they are not Python) and cells under a
non-Python cell magic skipped. Anything unreadable becomes a ``LoadError`` with
a message a student can act on; it never becomes a grader traceback.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

MAX_CODE_BYTES = 5 << 20  # the code itself, in a module or all of a notebook's code cells
MAX_NOTEBOOK_BYTES = 200 << 20  # a notebook may carry plots and other outputs
PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "debug"}


class LoadError(Exception):
    """The submission cannot be read; the message says why."""

    path: Path | None = None


@dataclass(frozen=True)
class Source:
    filename: str
    cells: list[str]
    notebook: bool
    notes: list[str] = field(default_factory=list)


def read_submission(path: Path) -> Source:
    notebook = path.suffix.lower() == ".ipynb"
    limit = MAX_NOTEBOOK_BYTES if notebook else MAX_CODE_BYTES
    size = path.stat().st_size
    if size > limit:
        raise LoadError(f"the file is {size >> 20} MiB; the limit is {limit >> 20} MiB")
    data = path.read_bytes()
    source = _read_notebook(data) if notebook else Source("submission.py", [_decode(data)], False)
    code = sum(len(c.encode("utf-8", "surrogatepass")) for c in source.cells)
    if code > MAX_CODE_BYTES:
        raise LoadError(f"the code is {code >> 20} MiB; the limit is {MAX_CODE_BYTES >> 20} MiB")
    return source


def _decode(data: bytes) -> str:
    if b"\x00" in data:
        raise LoadError("this is a binary file, not Python source")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise LoadError(
            f"the file is not valid UTF-8 (byte {exc.start}, line {line}); save it as UTF-8"
        ) from None
    if not text.strip():
        raise LoadError("the file is empty")
    return text


def _read_notebook(data: bytes) -> Source:
    """The code cells of a notebook; a notebook that bends the format is still graded.

    Only JSON that is not a notebook at all is refused: a file saved by another
    tool with, say, a missing cell id or odd metadata still has its code read,
    with a note, rather than costing the student every point.
    """
    import nbformat

    text = _decode(data)
    notes = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # nbformat warns on stderr about missing ids etc.
        try:
            nb = nbformat.reads(text, as_version=4)
        except json.JSONDecodeError as exc:
            raise LoadError(f"this is not a valid Jupyter notebook: {exc}") from None
        except Exception as exc:  # nbformat raises assorted errors for odd JSON
            raise LoadError(
                f"this is not a valid Jupyter notebook ({type(exc).__name__})"
            ) from None
        try:
            nbformat.validate(nb)
        except Exception as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            notes.append(f"the notebook bends the notebook format ({first[:120]}); graded anyway")
    raw_cells = nb.get("cells") if isinstance(nb, dict) else None
    if not isinstance(raw_cells, list):
        raise LoadError("this is not a valid Jupyter notebook: it has no list of cells")
    cells = []
    for index, cell in enumerate(raw_cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        raw = cell.get("source", "")
        raw = "".join(raw) if isinstance(raw, list) else raw
        if not isinstance(raw, str):
            continue
        source, note = strip_ipython(raw)
        if note:
            notes.append(f"cell {index + 1}: {note}")
        cells.append(source)
    if not any(c.strip() for c in cells):
        raise LoadError("the notebook has no code cells")
    return Source("submission.ipynb", cells, notebook=True, notes=notes)


def strip_ipython(source: str) -> tuple[str, str | None]:
    """Blank IPython-only lines, keeping line numbers; skip cells of non-Python magics."""
    lines = source.splitlines()
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        magic = first[2:].split()[0] if first[2:].split() else ""
        if magic not in PYTHON_CELL_MAGICS:
            return "", f"skipped (%%{magic} cell magic)"
        lines[0] = ""
    out = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or (stripped.endswith("?") and " " not in stripped):
            out.append(line[: len(line) - len(stripped)] + "pass")
        else:
            out.append(line)
    return "\n".join(out), None
