"""``grade gradescope``: the autograder zip Gradescope runs, and what its ``run_autograder`` does.

Gradescope builds an image from the zip once (``setup.sh``, as root) and then,
for every submission, runs ``run_autograder``, which must leave
``/autograder/results/results.json``. The zip therefore carries the grader
itself: a copy of this checkout's source (``grader/``, ``exercises/``,
``reference/``, ``pyproject.toml``). References in it are fine: the
autograder is visible to course staff only, and inside the sandbox a
submission sees none of the grader's files. ``setup.sh`` installs that copy
with pip into ``/autograder/venv``, torch first from PyTorch's CPU index under
the bound pyproject.toml sets (Gradescope has no GPU, and PyPI's default torch
pulls gigabytes of CUDA), plus bubblewrap from apt when it can. Where
bubblewrap cannot run (a container without user namespaces) the root grader
runs each submission as a uid of its own, so ``setup.sh`` leaves the bundled
source and the installed packages readable by root only.
``run_autograder`` calls ``grade gradescope --run``, which picks the
submission the way ``grade batch`` picks a student's file and writes the
results atomically, even when the grader fails, so Gradescope always has
something to show.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import traceback
import zipfile
from pathlib import Path
from typing import Any

from grader.ci_formats import GRADESCOPE_VISIBILITY, gradescope, report_of_row
from grader.session import Options, add_grading_arguments, grading_options
from grader.text import safe

EXIT_GRADED, EXIT_INTERNAL = 0, 1
DEFAULT_ROOT = Path("/autograder")
ROOT_ENV = "AUTOGRADER_ROOT"  # run_autograder's root; tests point it at a fake one
PACKAGED = ("grader", "exercises", "reference")
PROJECT_FILES = ("pyproject.toml", "README.md")
SOURCE_DIR = "dl-grader"  # the grader's source, inside the zip
TORCH_INDEX = "https://download.pytorch.org/whl/cpu"
_EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed times: the same source makes the same zip

EPILOG = f"""\
the zip (upload it as the assignment's autograder; base image Ubuntu 22.04 or later):
  setup.sh        installs bubblewrap (apt), a venv in /autograder/venv, torch
                  (CPU build, within pyproject.toml's bound) and the grader
                  from the bundled source
  run_autograder  grades the .py/.ipynb in /autograder/submission (a folder
                  with several is read as `grade batch` reads a student's
                  folder) into /autograder/results/results.json
  {SOURCE_DIR}/      the grader's source, references included (only staff see it)

Checks on hidden random inputs are shown to students with --hidden-visibility
(default after_published: once grades are published); public checks at once.
The options given here (--seed and the time limits) are fixed in the zip.
"""


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    from grader import sheets

    sheet_id = str(args.sheet).strip()
    if sheet_id not in sheets.available():
        parser.error(str(sheets.UnknownSheet(args.sheet)))
    options = grading_options(parser, args)
    if args.run:
        return autograde(args.root, sheet_id, args, options)
    if args.output is None:
        parser.error("-o FILE is required: where to write the autograder zip")
    if args.output.is_dir() or not args.output.resolve().parent.is_dir():
        parser.error(f"-o {args.output}: not a file in an existing folder")
    if args.output.exists() and not args.force:
        parser.error(f"{args.output} exists; pass --force to overwrite it")
    try:
        source = source_root()
    except FileNotFoundError as exc:
        parser.error(str(exc))
    names = build_zip(args.output, source, sheet_id, _grading_args(args))
    print(
        f"wrote {args.output} ({len(names)} files): upload it as the autograder of a "
        f"Gradescope programming assignment for sheet {sheet_id}",
        file=sys.stderr,
    )
    return EXIT_GRADED


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="grade gradescope",
        description="Write the autograder zip for a Gradescope programming assignment.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--sheet", required=True, help="sheet id: 2, 7, 9 or 10 (see `grade sheets`)")
    p.add_argument("-o", "--output", type=Path, metavar="FILE", help="the zip to write")
    p.add_argument("--force", action="store_true", help="overwrite an existing zip")
    p.add_argument(
        "--hidden-visibility",
        choices=GRADESCOPE_VISIBILITY,
        default="after_published",
        help="when students see checks on hidden inputs (default after_published)",
    )
    add_grading_arguments(p)
    p.add_argument(
        "--run",
        action="store_true",
        help="grade ROOT/submission into ROOT/results/results.json (what run_autograder does)",
    )
    p.add_argument(
        "--root",
        type=Path,
        default=DEFAULT_ROOT,
        metavar="ROOT",
        help=f"Gradescope's autograder folder, for --run (default {DEFAULT_ROOT})",
    )
    return p


def _grading_args(args: argparse.Namespace) -> list[str]:
    """The options run_autograder passes on, so the zip grades as this command was told to."""
    out = ["--hidden-visibility", args.hidden_visibility, "--seed", str(args.seed)]
    if args.timeout is not None:
        out += ["--timeout", f"{args.timeout:g}"]
    out += ["--load-timeout", f"{args.load_timeout:g}"]
    return [*out, "--submission-timeout", f"{args.submission_timeout:g}"]


# --- the zip ---------------------------------------------------------------------


def source_root() -> Path:
    """This grader's checkout: the folder with pyproject.toml above the ``grader`` package."""
    import grader

    root = Path(grader.__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        raise FileNotFoundError(
            f"no pyproject.toml beside the grader's source in {root}: `grade gradescope` packs "
            "the source, so run it from a checkout (e.g. installed with `pip install -e .`)"
        )
    return root


def build_zip(out: Path, source: Path, sheet_id: str, grading_args: list[str]) -> list[str]:
    """Write the zip (atomically, reproducibly) and return the names in it."""
    files: dict[str, tuple[bytes, bool]] = {
        "setup.sh": (setup_script(torch_requirement(source)).encode(), True),
        "run_autograder": (run_script(sheet_id, grading_args).encode(), True),
    }
    for name in PROJECT_FILES:
        if (source / name).is_file():
            files[f"{SOURCE_DIR}/{name}"] = ((source / name).read_bytes(), False)
    for package in PACKAGED:
        for path in sorted((source / package).rglob("*")):
            parts = path.relative_to(source).parts
            if _packed(path, parts):
                files[f"{SOURCE_DIR}/{'/'.join(parts)}"] = (path.read_bytes(), False)
    tmp = out.with_name(f".{out.name}.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            data, executable = files[name]
            info = zipfile.ZipInfo(name, _EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            info.create_system = 3  # Unix, so unzip honours the modes above
            zf.writestr(info, data)
    os.replace(tmp, out)
    return sorted(files)


def _packed(path: Path, parts: tuple[str, ...]) -> bool:
    """Source files only: no caches, compiled files or hidden files (editor swap files...)."""
    hidden = any(p.startswith(".") or p == "__pycache__" for p in parts)
    return path.is_file() and not hidden and path.suffix not in (".pyc", ".pyo")


def torch_requirement(source: Path) -> str:
    """The torch requirement of pyproject.toml, e.g. ``torch>=2.2,<2.14``."""
    text = (source / "pyproject.toml").read_text(encoding="utf-8")
    found = re.search(r"""["'](torch\s*[<>=!~][^"']*)["']""", text)
    return found.group(1).replace(" ", "") if found else "torch"


def setup_script(torch: str) -> str:
    return f"""\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# Installs the sandbox (bubblewrap), then the grader bundled in {SOURCE_DIR}/ into a venv.
set -euo pipefail
SOURCE="$(cd "$(dirname "$0")" && pwd)"
VENV=/autograder/venv
export DEBIAN_FRONTEND=noninteractive

python3 -c 'import sys; sys.exit(sys.version_info < (3, 10))' \\
  || {{ echo "setup: the grader needs Python 3.10+: pick Ubuntu 22.04 or later" >&2; exit 1; }}
apt-get update -qq
apt-get install -y -qq python3-venv python3-pip >/dev/null
apt-get install -y -qq bubblewrap >/dev/null \\
  || echo "setup: WARNING: no bubblewrap; submissions will run with reduced isolation" >&2

python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --upgrade pip
# Torch's CPU build, within the grader's bound: PyPI's default build carries CUDA (gigabytes).
"$VENV/bin/python" -m pip install --quiet --index-url {TORCH_INDEX} {shlex.quote(torch)}
"$VENV/bin/python" -m pip install --quiet "$SOURCE/{SOURCE_DIR}"
"$VENV/bin/grade" sheets >/dev/null  # fail the build here, not on the first submission
# Where bubblewrap cannot run, each submission runs as a uid of its own: lock the
# grader's source and references to root, who runs the grader.
chmod -R go-rwx "$SOURCE"
"$VENV/bin/python" -c 'import os, grader, exercises, reference
for m in (grader, exercises, reference): print(os.path.dirname(m.__file__))' \\
  | while IFS= read -r package; do chmod -R go-rwx "$package"; done
"""


def run_script(sheet_id: str, grading_args: list[str]) -> str:
    command = shlex.join(["--sheet", sheet_id, *grading_args])
    return f"""\
#!/bin/sh
# Gradescope runs this for every submission: it grades the .py/.ipynb in
# /autograder/submission into /autograder/results/results.json.
# {ROOT_ENV} moves that root (the grader's tests use a fake one).
ROOT="${{{ROOT_ENV}:-{DEFAULT_ROOT}}}"
exec "$ROOT/venv/bin/grade" gradescope --run --root "$ROOT" {command}
"""


# --- run_autograder ----------------------------------------------------------------


def autograde(root: Path, sheet_id: str, args: argparse.Namespace, options: Options) -> int:
    """Grade ROOT/submission into ROOT/results/results.json; always leave a results file.

    The upload is read as ``grade batch`` reads a student's folder (``student_folder``):
    within its budgets of entries and depth, so no upload can stop the run before a
    results file is written.
    """
    from grader import sheets
    from grader.batch import student_folder
    from grader.report import to_json
    from grader.runner import grade_file

    sheet = sheets.load(sheet_id)
    folder = root / "submission"
    results = root / "results" / "results.json"
    found = student_folder(folder, sheet.id) if folder.is_dir() else None
    if found is None or found.path is None:
        status, why = (
            (found.status, found.message)
            if found is not None
            else ("no_submission", "no .py or .ipynb file was submitted")
        )
        row = report_of_row("submission", status, why, None, sheet.id, sheet.points)
        _write(results, gradescope(row, args.hidden_visibility))
        print(f"grade: {safe(why, lines=True)}", file=sys.stderr)
        return EXIT_GRADED
    chosen = found.path
    shown = found.shown.split("/", 1)[-1]  # below the upload folder, as the student named it
    try:
        outcome = grade_file(chosen, lambda: sheet, options, display_name=shown)
        report = to_json(outcome)
    except Exception as exc:
        why = (
            f"the grader failed on this submission ({type(exc).__name__}): "
            "please tell the course staff"
        )
        row = report_of_row("submission", "grader_error", why, None, sheet.id, sheet.points, shown)
        _write(results, gradescope(row, args.hidden_visibility))
        print(safe(traceback.format_exc(), 20_000, lines=True), file=sys.stderr)
        return EXIT_INTERNAL
    if not outcome.isolation.full:
        print(f"grade: warning: reduced isolation: {outcome.isolation.note}", file=sys.stderr)
    _write(results, gradescope(report, args.hidden_visibility))
    return EXIT_GRADED


def _write(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(results, indent=2, allow_nan=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
