"""``check(FILE)``: grade a saved notebook or module from inside a notebook.

Grading goes the same way as ``grade FILE --sheet ID``: a fresh sandboxed worker
loads the file as saved on disk, never the notebook's live state, so the report
names the file and its modification time: a student who forgot to save sees it.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

from grader import report, sheets, streams
from grader.runner import Outcome, grade_file
from grader.session import Options


def check(path: str | Path, sheet: str | int | None = None) -> None:
    """Grade the saved ``path`` against ``sheet`` (guessed when the kit has one sheet,
    or from a number in the file's name) and show the report in the cell's output."""
    from rich.console import Console

    path = Path(path)
    outcome, saved = grade_saved(path, sheet)
    streams.fit(sys.stdout)
    console = Console()
    # Unwrapped: a long path folded over two lines can neither be read nor copied.
    console.print(f"graded {path.resolve()} as saved at {saved}", style="bold", soft_wrap=True)
    report.render(outcome, console)


def grade_saved(path: Path, sheet: str | int | None = None) -> tuple[Outcome, str]:
    """The outcome of grading ``path`` and when that file was last saved (local time)."""
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path} (save the notebook, or check the name)")
    if path.suffix.lower() not in (".py", ".ipynb"):
        raise ValueError(f"{path} is not a .py module or .ipynb notebook")
    sheet_id = which_sheet(path, sheet)
    mtime = path.stat().st_mtime
    ago = max(0, int(time.time() - mtime))
    saved = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(mtime)) + f" ({_ago(ago)})"
    outcome = grade_file(path, lambda: sheets.load(sheet_id), Options())
    return outcome, saved


def which_sheet(path: Path, sheet: str | int | None) -> str:
    known = sheets.available()
    if sheet is not None:
        if str(sheet).strip() not in known:
            raise ValueError(str(sheets.UnknownSheet(str(sheet).strip())))
        return str(sheet).strip()
    if len(known) == 1:
        return known[0]
    named = [n for n in re.findall(r"\d+", path.stem) if n.lstrip("0") in known]
    if len(named) == 1:
        return named[0].lstrip("0")
    raise ValueError(f"say which sheet, e.g. check({str(path)!r}, sheet={known[-1]})")


def _ago(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} s ago"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    return f"{seconds // 3600} h ago"
