"""``python -m grader``: the same as the ``grade`` command.

``python -m`` puts the current directory first on the import path; run from
inside a student's folder, a ``numpy.py`` there would then be imported by the
grader itself, outside the sandbox. Unless this is the grader's own checkout,
the current directory is dropped before anything else is imported.
"""

import os
import sys
from pathlib import Path

import grader

if Path(grader.__file__).resolve().parent.parent != Path.cwd().resolve():
    sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd())]

from grader.cli import run

run()
