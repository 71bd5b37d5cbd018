"""``grade kit``: build a student self-check kit, one wheel and a README.

The wheel is written by hand (a zip with ``*.dist-info/METADATA``, ``WHEEL``,
``entry_points.txt`` and a ``RECORD`` of sha256 hashes), so building needs no
build tool and the same spec gives the same bytes. It holds the engine (every
``grader`` module that imports neither ``exercises`` nor ``reference``) and the
``gradekit`` package: the frozen sheets (see ``frozen``) and ``check`` for notebooks.
Installed, ``grade FILE --sheet ID`` grades the public checks like the full grader.
"""

from __future__ import annotations

import argparse
import ast
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from grader import __version__, frozen, sheets

DIST = "dl-grader-kit"
# The grader's own dependencies, without torch: the kit never runs a reference.
REQUIRES = ("numpy>=1.24", "pydantic>=2.5", "rich>=13", "nbformat>=5.9")
REQUIRES_PYTHON = ">=3.10"
SECRET_PACKAGES = ("exercises", "reference")
ENGINE_DIR = Path(__file__).resolve().parent
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

KIT_INIT = '''"""Self-check kit for {names}: the public checks, graded as the course's grader does.

In a notebook, save it, then::

    from gradekit import check
    check("sheet{first}.ipynb")
"""

__all__ = ["check"]


def check(path, sheet=None):
    """Grade the saved notebook or module ``path``; see ``grader.selfcheck.check``."""
    from grader.selfcheck import check as grade_saved_file  # not at import: `grade` is faster

    return grade_saved_file(path, sheet)
'''


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(
        prog="grade kit",
        description="Build a self-check kit for students: one wheel with the public checks "
        "(inputs and expected values frozen as data, no reference and no hidden inputs) "
        "and a README.md. Students install it with `pip install DIR/*.whl`.",
    )
    p.add_argument("--sheet", action="append", required=True, help="sheet id (repeatable)")
    p.add_argument("-o", "--output", type=Path, required=True, help="directory to write")
    args = p.parse_args(argv)
    if sheets.kit_manifest() is not None:
        p.error("this is a student kit; building a kit needs the full grader")
    ids = list(dict.fromkeys(str(s).strip() for s in args.sheet))
    for sheet_id in ids:
        if sheet_id not in sheets.available():
            p.error(str(sheets.UnknownSheet(sheet_id)))
    if args.output.exists() and not args.output.is_dir():
        p.error(f"{args.output} exists and is not a directory")
    stale = [f for f in args.output.glob("*.whl")] if args.output.is_dir() else []
    if stale:
        p.error(f"{args.output} already holds {stale[0].name}; give an empty or new directory")
    wheel = build(ids, args.output)
    print(
        f"wrote {wheel} ({wheel.stat().st_size / 1024:.0f} KiB) and its README.md", file=sys.stderr
    )
    return 0


def build(sheet_ids: list[str], out: Path) -> Path:
    """Write the kit's wheel and README.md into ``out``; returns the wheel's path."""
    files: dict[str, bytes] = {}
    for path in engine_files():
        files[path.relative_to(ENGINE_DIR.parent).as_posix()] = path.read_bytes()
    order = sorted(sheet_ids, key=lambda s: (len(s), s))
    loaded = {sid: sheets.load(sid) for sid in order}
    version = __version__
    manifest: dict = {"format": frozen.FORMAT, "grader_version": version, "sheets": {}}
    for sid, sheet in loaded.items():
        data = frozen.freeze(sheet)
        files[f"gradekit/data/sheet{sid}.core"] = data.core
        files[f"gradekit/data/sheet{sid}.derived"] = data.derived
        manifest["sheets"][sid] = {
            "title": sheet.title,
            "core": f"sheet{sid}.core",
            "derived": f"sheet{sid}.derived",
            "derived_sha256": hashlib.sha256(data.derived).hexdigest(),
            "hidden_digest": data.hidden_digest,
            "spec_hash": data.spec_hash,
        }
    manifest_bytes = json.dumps(manifest, indent=2, sort_keys=True).encode() + b"\n"
    files["gradekit/data/manifest.json"] = manifest_bytes
    names = ", ".join(f"sheet {sid}" for sid in order)
    files["gradekit/__init__.py"] = KIT_INIT.format(names=names, first=order[0]).encode()
    kit_version = f"{version}+{hashlib.sha256(manifest_bytes).hexdigest()[:12]}"
    out.mkdir(parents=True, exist_ok=True)
    wheel = out / f"{DIST.replace('-', '_')}-{kit_version}-py3-none-any.whl"
    write_wheel(wheel, files, kit_version, f"Self-check kit for {names} (public checks only)")
    (out / "README.md").write_text(readme(loaded, wheel.name), encoding="utf-8")
    return wheel


def engine_files() -> list[Path]:
    """Every engine module the kit ships: all of ``grader`` but what needs the spec."""
    shipped = []
    for path in sorted(ENGINE_DIR.rglob("*.py")):
        if path == Path(__file__).resolve() or imports_secrets(path.read_text("utf-8")):
            continue
        shipped.append(path)
    return shipped


def imports_secrets(source: str) -> bool:
    """Whether a module imports ``exercises`` or ``reference`` anywhere (lazily too)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        if any(n.split(".")[0] in SECRET_PACKAGES for n in names):
            return True
    return False


def write_wheel(path: Path, files: dict[str, bytes], version: str, summary: str) -> None:
    """A wheel from ``files`` (path in the wheel -> bytes), the same bytes for the same input."""
    dist_info = f"{DIST.replace('-', '_')}-{version}.dist-info"
    metadata = "\n".join(
        [
            "Metadata-Version: 2.1",
            f"Name: {DIST}",
            f"Version: {version}",
            f"Summary: {summary}",
            f"Requires-Python: {REQUIRES_PYTHON}",
            *(f"Requires-Dist: {r}" for r in REQUIRES),
            "",
        ]
    )
    wheel_meta = (
        "Wheel-Version: 1.0\nGenerator: dl-grader kit\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    meta_files = {
        f"{dist_info}/METADATA": metadata.encode(),
        f"{dist_info}/WHEEL": wheel_meta.encode(),
        f"{dist_info}/entry_points.txt": b"[console_scripts]\ngrade = grader.cli:run\n",
        f"{dist_info}/top_level.txt": b"grader\ngradekit\n",
    }
    entries = {**dict(sorted(files.items())), **meta_files}
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in entries.items()]
    record.append(f"{dist_info}/RECORD,,")
    entries[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def readme(loaded: dict, wheel_name: str) -> str:
    """The students' README: install, use, what the kit can and cannot tell."""
    rows = []
    for sid, sheet in loaded.items():
        public = sum(c.points for _, c in sheet.iter_checks() if not c.hidden)
        rows.append(
            f"| {sid} | {sheet.title} | {public:g} | {sheet.points - public:g} | "
            f"`{frozen.spec_hash(sheet)[:12]}` |"
        )
    first = next(iter(loaded))
    return README.format(wheel=wheel_name, table="\n".join(rows), sheet=first)


README = """\
# Self-check kit

This kit grades your solution with the course's grader, on the **public checks**
only: the examples from the sheet, with the same comparison, messages and hints
as the real grading. The hidden checks (random inputs) are listed with their
points and graded after you submit. The kit holds no solutions.

| sheet | title | public points | graded after submission | spec |
| --- | --- | --- | --- | --- |
{table}

## Install (once)

Use a fresh virtual environment, with Python 3.10 or newer (the kit's `grade`
replaces any other `grade` command in that environment):

```bash
python -m venv kit-env
source kit-env/bin/activate
pip install {wheel}
```

pip fetches numpy, pydantic, rich and nbformat; torch is not needed (your code
may still use it if it is installed). A kit for another sheet is installed the
same way and replaces this one, so ask for a kit with all the sheets you need.

## Check your solution

```bash
grade sheet{sheet}.ipynb --sheet {sheet}             # a notebook or a .py module
grade sheet{sheet}.py --sheet {sheet} --format json  # one JSON document for scripts
```

From a notebook (save it first: the kit grades the saved file, and says which
file and which modification time it graded):

```python
from gradekit import check
check("sheet{sheet}.ipynb")
```

The report has a row per check: `passed`, `failed` (the message names the case,
the expected and the returned values), `error` (it raised, is missing, or
returned something unusable), `timeout`, or `hidden` (graded after submission).
The total reads "public checks: 38 / 42; 18 more points are graded after
submission": passing every public check does not promise the hidden ones.

Exit status: 0 graded (any score), 2 usage error (a sheet this kit lacks, a
missing file, a damaged kit), 1 the kit itself failed.

## Safety, and where it is weaker

Your code runs in a separate process that gets and returns plain data only.
The score is the same on every platform; the protection is not, and the report
(and `grade doctor`) says which you have:

- **Linux** with `bubblewrap` installed (`apt install bubblewrap`): isolated as
  in the course's grading (no network, no access to your files, limits on
  memory, CPU time and processes). Without it: a plain process with limits.
- **macOS**: a plain process with your rights (it can read and write your files
  and reach the network), with limits on CPU time, file size and processes;
  macOS does not enforce the memory limit, and a process your code starts in
  a session of its own is not stopped with it.
- **Windows**: a plain process with your rights (it can read and write your
  files and reach the network), held in a Windows job object: limits on memory
  and on the number of processes, and every process your code starts is
  stopped with it when a check times out; no limit on CPU time. In PowerShell,
  activate the environment with `kit-env\\Scripts\\Activate.ps1` instead of
  `source ...`; a report redirected to a file (`grade ... > report.txt`) is
  written as UTF-8. WSL (Ubuntu) runs the kit as on Linux.

Windows and macOS were not run in the course's automated tests; if the kit
fails there, tell your TA what it printed.

## Version

Each report shows the sheet's `spec` hash and the grader's version. The course's
grading report shows the same spec hash when it grades against the same checks;
if they differ, your kit is older than the sheet: get the new one.
"""


def install_offline(wheel: Path, env: Path, extra: tuple[str, ...] = ()) -> Path:
    """Install a kit with pip into a fresh venv ``env`` without a network; returns its Python.

    The dependencies (and ``extra`` distributions) are hard-linked from this
    environment's installation, file by file as their RECORDs list them, which stands
    in for pip fetching them; the kit itself is installed by pip. For tests, benchmarks
    and TAs trying a kit; ``env`` sees nothing of this grader, spec or reference.
    """
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(
        subprocess.run(
            [python, "-c", where], check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    for dist in _requirement_closure([*REQUIRES, *extra]):
        for rel in dist.files or []:
            src, dst = Path(dist.locate_file(rel)), site / rel
            if ".." in rel.parts or not src.is_file():
                continue  # console scripts live outside site-packages
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copy2(src, dst)
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index"]
    pip += ["--no-deps", "--disable-pip-version-check", "-q", str(wheel)]
    subprocess.run(pip, check=True, capture_output=True)
    return python


def _requirement_closure(names: list[str]) -> list:
    """The installed distributions that ``names`` need, with their own requirements."""
    from importlib.metadata import distribution

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    seen: dict = {}
    todo = list(names)
    while todo:
        req = Requirement(todo.pop())
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        key = canonicalize_name(req.name)
        if key not in seen:
            seen[key] = distribution(req.name)
            todo += seen[key].requires or []
    return list(seen.values())
