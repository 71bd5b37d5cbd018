"""Making text a submission controls safe to show: on a terminal, in JSON, in a CSV.

A submission chooses far more of the report than its functions' answers: its
exception types and messages, its function names (quoted in near-miss hints),
its notebook cells and magics, its file and folder names, and, since student
code can write its own reply frames to the grader, any string in a worker
answer. Printed raw, such text can clear the screen and draw "Total: 100 / 100"
for a submission that scored 0, write the TA's clipboard (OSC 52), or reorder
what is shown with bidi overrides. ``safe`` is the one function that makes such
text harmless; the runner applies it where results are built (``CheckResult``,
``Outcome``) and the gradebook where rows are built (``Entry``), so every
format made from them is clean. ``csv_cell`` adds what spreadsheets need on top.
Rich markup is never escaped here (that would corrupt JSON and CSV): report
code hands student text to rich only as ``Text``, which does not interpret it.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from typing import Any, TextIO

TEXT_LIMIT = 1000  # a message, hint or note
NAME_LIMIT = 300  # a file, folder or function name
MAX_COMBINING = 4  # marks stacked on one character; more only smear over other lines

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# Rich's own styling in the grader-drawn figure: Select Graphic Rendition only.
_SGR = re.compile(r"\x1b\[[0-9;]*m")
_NON_ASCII_RUN = re.compile(f"[^\\x00-\\x7f]{{{MAX_COMBINING + 1}}}")
# Spreadsheets read a cell starting with one of these as a formula (OWASP's list,
# plus the fullwidth forms some applications normalise).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe(text: Any, limit: int = TEXT_LIMIT, lines: bool = False) -> str:
    """``text`` with everything a terminal could act on escaped visibly, at most ``limit`` long.

    Escaped as ``\\x1b``, ``\\u202e``, ``\\n``: every character that is not
    printable (C0 and C1 controls, DEL, bidi overrides, isolates and marks,
    zero-width and other format characters, line and paragraph separators,
    surrogates, private-use and unassigned code points, spaces other than
    ' ') and combining marks stacked beyond ``MAX_COMBINING``. Escape
    sequences are thus inert, since their ESC or CSI byte is. A newline is
    kept only with ``lines=True``, for text shown inside a table cell or panel;
    a name or one-line note could otherwise forge a line of its own. The result
    of ``safe`` is left unchanged by ``safe`` with the same arguments.
    """
    text = text if isinstance(text, str) else str(text)
    if (
        len(text) <= limit
        and (text.replace("\n", "") if lines else text).isprintable()
        and not _NON_ASCII_RUN.search(text)  # combining marks are never ASCII
    ):
        return text  # the common case, at C speed: nothing to escape
    out: list[str] = []
    size = 0
    stacked = 0  # combining marks in a row
    for ch in text:
        if ch == "\n" and lines:
            piece, stacked = ch, 0
        elif ch.isprintable():
            stacked = stacked + 1 if unicodedata.combining(ch) else 0
            piece = ch
            if stacked > MAX_COMBINING:
                piece, stacked = _escaped(ch), 0
        else:
            piece, stacked = _escaped(ch), 0
        if size + len(piece) > limit:
            return _cut(out, size, limit)
        out.append(piece)
        size += len(piece)
    return "".join(out)


def _escaped(ch: str) -> str:
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _cut(pieces: list[str], size: int, limit: int) -> str:
    """Whole pieces (never half an escape) up to ``limit`` - 1, then an ellipsis."""
    while pieces and size + 1 > limit:
        size -= len(pieces.pop())
    return "".join(pieces) + "…" if limit > 0 else ""


def safe_figure(figure: str | None, limit: int = 20 * TEXT_LIMIT) -> str | None:
    """A grader-drawn ANSI figure with only its colour codes (SGR) left as escapes.

    The figure is drawn from numbers alone, but whatever reaches it, no cursor
    move, screen clear or OSC survives: only ``ESC [ ... m`` is kept as is.
    """
    if figure is None:
        return None
    parts = _SGR.split(figure)
    codes = _SGR.findall(figure)
    out = [safe(parts[0], limit, lines=True)]
    for code, part in zip(codes, parts[1:], strict=True):
        out += [code, safe(part, limit, lines=True)]
    shown = "".join(out)
    return shown if len(plain_figure(shown)) <= limit else None


def plain_figure(figure: str) -> str:
    """The figure without its colours, for formats that are not a terminal (JSON)."""
    return _SGR.sub("", figure)


def safe_tree(value: Any, limit: int = 20 * TEXT_LIMIT) -> Any:
    """Every string in a JSON-like value made ``safe`` (newlines kept); for stored reports."""
    if isinstance(value, str):
        return safe(value, limit, lines=True)
    if isinstance(value, dict):
        return {k: safe_tree(v, limit) for k, v in value.items()}
    if isinstance(value, list):
        return [safe_tree(v, limit) for v in value]
    return value


def csv_cell(value: Any, limit: int = TEXT_LIMIT) -> str:
    """A CSV cell a spreadsheet shows as text, never evaluates (OWASP: prefix a quote).

    Numbers pass through the same rule: a negative one would otherwise start
    with ``-``, and a quoted number is still a number to a reader of the file.
    """
    text = safe(value, limit)
    return "'" + text if text.startswith(_FORMULA_START) else text


class CsvWriter:
    """``csv.writer`` whose every cell goes through ``csv_cell``: use it for any CSV we write."""

    def __init__(self, stream: TextIO) -> None:
        self._out = csv.writer(stream, lineterminator="\n")

    def writerow(self, row: Iterable[Any]) -> None:
        self._out.writerow([csv_cell(v) for v in row])
