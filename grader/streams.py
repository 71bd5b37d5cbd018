"""Standard output that can take every character a report prints, on every platform.

Reports use ✔ ✘ ⧗ ◌ ⚠ · – …, the contract σ θ →, and rich draws boxes. On Windows,
stdout redirected to a file or a pipe is encoded in the legacy code page (cp1252), which
has none of them: ``grade FILE > report.txt`` or ``grade contract > ref.md`` would die
with a UnicodeEncodeError, and so would ``check(...)`` run with its output captured. A
console takes any character (Python writes to it as UTF-16), and so does a UTF-8 stream.
"""

from __future__ import annotations

import contextlib
import io
import os
from typing import Any

# What the reports, the contract and rich's boxes print beyond ASCII.
SAMPLE = "✔✘⧗◌⚠·–…→σθ━┃"


def can_write(encoding: str) -> bool:
    """Whether ``encoding`` has every character in ``SAMPLE``."""
    try:
        SAMPLE.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def fit(stream: Any) -> None:
    """Let ``stream`` write what the reports print, without a crash.

    A file or pipe becomes UTF-8 (what a reader of a saved report or markdown file
    expects); a terminal that cannot show the characters, or an encoding the user
    chose with ``PYTHONIOENCODING``, keeps its encoding and gets ``\\u2714`` escapes.
    Streams that cannot be reconfigured (a notebook's) are left alone.
    """
    encoding = getattr(stream, "encoding", None)
    reconfigure = getattr(stream, "reconfigure", None)
    if not isinstance(encoding, str) or reconfigure is None or can_write(encoding):
        return
    try:
        terminal = stream.isatty()
    except (ValueError, OSError):
        terminal = False
    with contextlib.suppress(ValueError, OSError, io.UnsupportedOperation):
        if terminal or os.environ.get("PYTHONIOENCODING"):
            reconfigure(errors="backslashreplace")
        else:
            reconfigure(encoding="utf-8")
