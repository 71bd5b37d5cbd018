"""The student kit: what it holds, what it never holds, and that it grades like the grader.

A kit is built for every sheet and searched, file by file, for the reference's and the
known mistakes' code, for the spec packages, and for the numbers of the hidden cases.
Installed with pip into a fresh virtual environment (which cannot import the full
grader: proven), it grades every example and some wrong answers with the same status,
score, message and hint per public check as the full grader. Frozen checks are also
judged in-process against the spec on many answers per case, which is fast and covers
the comparators, the float32 allowance and every known mistake's hint.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import itertools
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
from base64 import urlsafe_b64encode
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from conftest import EXAMPLES, ROOT, answer_from, run_grade
from grader import frozen, kit
from grader.contract import CONTRACT
from grader.runner import Raised, judge_answer, truth
from grader.sheets import available, load

SHEETS = available()


def _exe(env: Path, name: str) -> Path:
    """A program a venv installed: bin/NAME, or Scripts\\NAME.exe on Windows."""
    return env / "Scripts" / f"{name}.exe" if os.name == "nt" else env / "bin" / name


@pytest.fixture(scope="module")
def kits(tmp_path_factory) -> dict[str, Path]:
    """One kit per sheet, each built through the CLI: sheet id -> its wheel."""
    out = {}
    for sheet_id in SHEETS:
        folder = tmp_path_factory.mktemp(f"kit{sheet_id}")
        proc = run_grade("kit", "--sheet", sheet_id, "-o", folder)
        assert proc.returncode == 0, proc.stderr
        wheels = sorted(folder.iterdir())
        assert [p.suffix for p in wheels] == [".md", ".whl"], wheels
        out[sheet_id] = wheels[1]
    return out


def _contents(wheel: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(wheel) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _thaw_from_kit(files: dict[str, bytes], sheet_id: str):
    manifest = json.loads(files["gradekit/data/manifest.json"])
    entry = manifest["sheets"][sheet_id]
    return frozen.thaw(
        files[f"gradekit/data/{entry['core']}"],
        files[f"gradekit/data/{entry['derived']}"],
        entry["hidden_digest"],
        entry["spec_hash"],
        manifest["grader_version"],
    )


def _thaw_spec(spec):
    data = frozen.freeze(spec)
    return frozen.thaw(data.core, data.derived, data.hidden_digest, data.spec_hash, "test")


# What a kit holds and never holds ---------------------------------------------------------------


def _code(text: str) -> list[str]:
    """A source's lines, stripped, without blank lines, comments and docstring quotes."""
    lines = (line.strip() for line in text.splitlines())
    return [line for line in lines if line and not line.startswith(("#", '"', "'"))]


def _distinctive_lines(obj: Any) -> set[str]:
    """What would only be in a file if the function's code were: every two consecutive
    lines of its body (one line alone, e.g. `with np.errstate(over="ignore"):`, is often
    written independently), and every single line long enough to be unmistakable."""
    try:
        body = _code(inspect.getsource(obj))[1:]
    except (OSError, TypeError):
        return set()
    found = {f"{a}\n{b}" for a, b in itertools.pairwise(body) if len(a) + len(b) >= 40}
    found |= {line for line in body if len(line) >= 60}
    return found


def _secret_code_lines(sheet_id: str) -> set[str]:
    """Bodies of every reference function, every known mistake and every hidden generator."""
    lines: set[str] = set()
    for module in (f"reference.sheet{sheet_id}", f"exercises.sheet{sheet_id}_mistakes"):
        mod = importlib.import_module(module)
        for _, fn in inspect.getmembers(mod, inspect.isfunction):
            if fn.__module__ == module:
                lines |= _distinctive_lines(fn)
    sheet = load(sheet_id)
    for _, check in sheet.iter_checks():
        if check.generate is not None:
            lines |= _distinctive_lines(check.generate)
    for mistakes in sheet.mistakes.values():
        for m in mistakes:
            lines |= _distinctive_lines(m.impl)
    return lines


def _floats(value: Any) -> list[float]:
    """Every float in a nested value (arrays flattened)."""
    if isinstance(value, dict):
        return [f for v in value.values() for f in _floats(v)]
    if isinstance(value, (list, tuple)):
        return [f for v in value for f in _floats(v)]
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return [float(v) for v in value.ravel()]
    if isinstance(value, (float, np.floating)):
        return [float(value)]
    return []


def _case_numbers(sheet, hidden: bool) -> set[float]:
    """The floats of the public or hidden cases' inputs and truths (hidden at seed 0)."""
    numbers: set[float] = set()
    for exercise, check in sheet.iter_checks():
        if check.hidden != hidden:
            continue
        for case in check.make_cases(check.seed(sheet.check_id(exercise, check), 0)):
            expected = truth(sheet, check, case)
            values = [case.args, case.kwargs]
            if not isinstance(expected, Raised):
                values.append(expected)
            numbers.update(_floats(values))
    return numbers


def _hidden_numbers(sheet_id: str) -> set[float]:
    """Unmistakable floats of the hidden cases: not round (random draws, not 0.5 or 3.0),
    and not also public (a judge's fixed sample grids serve public and hidden cases)."""
    sheet = load(sheet_id)
    public = _case_numbers(sheet, hidden=False)
    return {
        x for x in _case_numbers(sheet, hidden=True) - public if np.isfinite(x) and x != round(x, 5)
    }


def test_a_kit_is_one_wheel_and_a_readme(kits):
    for sheet_id, wheel in kits.items():
        readme = (wheel.parent / "README.md").read_text(encoding="utf-8")
        assert "pip install" in readme and f"--sheet {sheet_id}" in readme
        assert "from gradekit import check" in readme


@pytest.mark.parametrize("sheet_id", SHEETS)
def test_the_kit_holds_no_reference_mistake_generator_or_spec(kits, sheet_id):
    files = _contents(kits[sheet_id])
    tops = {name.split("/")[0] for name in files}
    assert tops <= {"grader", "gradekit", next(t for t in tops if t.endswith(".dist-info"))}
    assert not [n for n in files if n.endswith((".pyc", ".pyo", ".pkl", ".pickle", ".so"))]
    for name, data in files.items():
        if name.endswith(".py"):
            assert not kit.imports_secrets(data.decode()), f"{name} imports the spec"
    secret = set()
    for any_sheet in SHEETS:  # the engine is shared: no sheet's code may be in any kit
        secret |= _secret_code_lines(any_sheet)
    assert len(secret) > 100  # the search has something to find
    for name, data in files.items():
        text = "\n".join(_code(data.decode("utf-8", errors="replace")))
        found = [line for line in secret if line in text]
        assert not found, f"{name} holds code of the reference or the mistakes: {found[:3]}"


def test_the_code_search_finds_code_that_is_there():
    """The search above would see copied code: every reference function is found in its
    own module's source, and the known mistakes in theirs."""
    for module in ("reference.sheet7", "exercises.sheet9_mistakes"):
        mod = importlib.import_module(module)
        text = "\n".join(_code(inspect.getsource(mod)))
        for _, fn in inspect.getmembers(mod, inspect.isfunction):
            if fn.__module__ == module:
                lines = _distinctive_lines(fn)
                assert all(line in text for line in lines), fn.__name__
    assert len(_distinctive_lines(importlib.import_module("reference.sheet7").reverse_mode)) > 3


@pytest.mark.parametrize("sheet_id", SHEETS)
def test_the_kit_holds_no_hidden_number(kits, sheet_id):
    numbers = _hidden_numbers(sheet_id)
    assert len(numbers) > 20
    blob = b"\n".join(_contents(kits[sheet_id]).values())
    for x in numbers:
        assert struct.pack("<d", x) not in blob, f"hidden value {x!r} is in the kit"
        assert repr(x).encode() not in blob, f"hidden value {x!r} is in the kit as text"


def test_the_hidden_number_search_finds_public_numbers(kits):
    """The search above would see a number if it were there: the public ones are."""
    sheet = load("2")
    data = b"".join(_contents(kits["2"]).values())
    public = [
        x
        for _, c in sheet.iter_checks()
        if not c.hidden
        for case in c.make_cases(None)
        for x in _floats(truth(sheet, c, case))
        if x != round(x, 5)
    ]
    assert public and all(struct.pack("<d", x) in data for x in public[:50])


def test_hidden_checks_are_listed_without_cases(kits):
    sheet = load("9")
    thawed = _thaw_from_kit(_contents(kits["9"]), "9")
    for (exercise, check), (_, kept) in zip(sheet.iter_checks(), thawed.iter_checks(), strict=True):
        assert sheet.check_id(exercise, check) == thawed.check_id(exercise, kept)
        assert (kept.points, kept.description, kept.hidden) == (
            check.points,
            check.description,
            check.hidden,
        )
        if check.hidden:
            assert kept.cases == [] and not kept.graded_here
        assert kept.compare == check.compare


def test_a_kit_is_the_same_bytes_every_time(tmp_path):
    first = kit.build(["9", "2"], tmp_path / "a")
    second = kit.build(["2", "9"], tmp_path / "b")
    assert first.name == second.name
    assert first.read_bytes() == second.read_bytes()


def test_the_wheel_is_well_formed(kits):
    import tomllib

    files = _contents(kits["7"])
    dist_info = next(n.split("/")[0] for n in files if n.endswith(".dist-info/RECORD"))
    record = files[f"{dist_info}/RECORD"].decode().splitlines()
    listed = {}
    for row in record:
        name, digest, size = row.rsplit(",", 2)
        listed[name] = (digest, size)
    assert set(listed) == set(files)
    for name, data in files.items():
        if name.endswith("/RECORD"):
            continue
        want = "sha256=" + urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        assert listed[name] == (want, str(len(data))), name
    assert b"grade = grader.cli:run" in files[f"{dist_info}/entry_points.txt"]
    metadata = files[f"{dist_info}/METADATA"].decode()
    requires = [line.split(": ", 1)[1] for line in metadata.splitlines() if "Requires-Dist" in line]
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert requires == [d for d in project["dependencies"] if not d.startswith("torch")]
    assert f"Version: {project['version']}+" in metadata


# Same verdicts: frozen checks judged in-process against the spec ------------------------------


def _answers(sheet_id: str, check, case) -> list[dict]:
    """Worker answers to judge: right, the known mistakes', perturbed, wrong in kind."""
    from test_mutations import MUTATIONS, perturb

    reference = importlib.import_module(f"reference.sheet{sheet_id}")
    spec = load(sheet_id)
    right = getattr(reference, check.function)
    impls = [right, *(m.impl for m in spec.mistakes_for(check))]
    for leaf in MUTATIONS.values():
        impls.append(lambda *a, leaf=leaf, **k: perturb(right(*a, **k), leaf))
    impls.append(lambda *a, **k: perturb(right(*a, **k), lambda x: np.float32(x) * 1.0000001))
    impls += [lambda *a, **k: None, lambda *a, **k: "text", lambda *a, **k: [1.0, 2.0]]
    answers = [answer_from(impl, case) for impl in impls]
    overflowed = {"category": "RuntimeWarning", "message": "overflow encountered in exp"}
    answers.append({**answers[0], "warnings": [overflowed]})  # right, but not quietly
    answers.append(
        {
            "ok": False,
            "error": {
                "kind": "exception",
                "type": "ValueError",
                "builtin": "ValueError",
                "message": "no",
            },
        }
    )
    return answers


@pytest.mark.parametrize("sheet_id", SHEETS)
def test_frozen_checks_judge_like_the_spec(sheet_id):
    spec = load(sheet_id)
    thawed = _thaw_spec(spec)
    judged = 0
    for (exercise, check), (_, kept) in zip(spec.iter_checks(), thawed.iter_checks(), strict=True):
        if check.hidden:
            continue
        cases = check.make_cases(None)
        assert len(cases) == len(kept.cases)
        for case, frozen_case in zip(cases, kept.cases, strict=True):
            want = truth(spec, check, case)
            have = truth(thawed, kept, frozen_case)
            for answer in _answers(sheet_id, check, case):
                full = judge_answer(
                    check,
                    case,
                    want,
                    answer,
                    spec.mistakes_for(check),
                    noise=lambda k=check, c=case, w=want: spec.noise(k, c, w),
                )
                mine = judge_answer(
                    kept,
                    frozen_case,
                    have,
                    answer,
                    thawed.mistakes_for(kept),
                    noise=lambda k=kept, c=frozen_case, h=have: thawed.noise(k, c, h),
                )
                where = f"{spec.check_id(exercise, check)} {case.label}"
                assert (mine is None) == (full is None), where
                if full is not None:
                    assert (mine.status, mine.message, mine.hint, mine.figure) == (
                        full.status,
                        full.message,
                        full.hint,
                        full.figure,
                    ), where
                judged += 1
    assert judged > 100


@pytest.mark.parametrize("sheet_id", SHEETS)
def test_every_known_mistake_hint_survives_freezing(sheet_id):
    """Each mistake's answer on a public case gets the same hint from the kit as from the
    grader, and most mistakes show on the sheet's own examples."""
    spec = load(sheet_id)
    thawed = _thaw_spec(spec)
    hinted: dict[str, set] = {"full": set(), "kit": set()}
    for (_, check), (_, kept) in zip(spec.iter_checks(), thawed.iter_checks(), strict=True):
        if check.hidden:
            continue
        for case, frozen_case in zip(check.make_cases(None), kept.cases, strict=True):
            for mistake in spec.mistakes_for(check):
                answer = answer_from(mistake.impl, case)
                for side, (c, k, sheet) in {
                    "full": (check, case, spec),
                    "kit": (kept, frozen_case, thawed),
                }.items():
                    verdict = judge_answer(c, k, truth(sheet, c, k), answer, sheet.mistakes_for(c))
                    if verdict is not None and verdict.hint and mistake.message in verdict.hint:
                        hinted[side].add((check.function, mistake.name))
    assert hinted["kit"] == hinted["full"]
    named = {(f, m.name) for f, ms in spec.mistakes.items() for m in ms}
    assert len(hinted["kit"]) >= len(named) // 2, sorted(named - hinted["kit"])


# spec_hash ---------------------------------------------------------------------------------------


def _with_exercise(spec, index: int, exercise):
    exercises = list(spec.exercises)
    exercises[index] = exercise
    return spec.model_copy(update={"exercises": exercises})


def test_spec_hash_changes_with_the_spec_and_only_with_it():
    spec = load("2")
    data = frozen.freeze(spec)
    assert frozen.spec_hash(spec) == data.spec_hash == frozen.hash_of(data.core, data.hidden_digest)
    assert frozen.freeze(spec) == data  # recomputed, the same bytes
    assert frozen.freeze(spec, derived=False).spec_hash == data.spec_hash
    exercise = spec.exercises[1]
    retitled = _with_exercise(spec, 1, exercise.model_copy(update={"title": "other"}))
    assert frozen.freeze(retitled).spec_hash != data.spec_hash
    hidden_check = next(c for c in exercise.checks if c.hidden)
    other_inputs = [
        c.model_copy(update={"generate": lambda rng, g=c.generate: g(np.random.default_rng(99))})
        if c is hidden_check
        else c
        for c in exercise.checks
    ]
    changed = frozen.freeze(
        _with_exercise(spec, 1, exercise.model_copy(update={"checks": other_inputs}))
    )
    assert changed.core == data.core, "a change to hidden inputs shows in the kit's data"
    assert changed.hidden_digest != data.hidden_digest
    assert changed.spec_hash != data.spec_hash


def test_a_comparator_that_is_not_engine_code_cannot_be_frozen():
    from grader.comparison import Custom

    spec = load("9")
    exercise = spec.exercises[0]
    odd = exercise.checks[0].model_copy(
        update={"compare": Custom(name="inline", fn=lambda e, g, p: None)}
    )
    changed = _with_exercise(
        spec, 0, exercise.model_copy(update={"checks": [odd, *exercise.checks[1:]]})
    )
    with pytest.raises(frozen.NotFreezable, match="engine"):
        frozen.freeze(changed)


# The kit installed in a fresh virtual environment ----------------------------------------------


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> Path:
    """A fresh venv with a kit of every sheet pip-installed and its dependencies (and torch,
    which the torch examples use) in place; no grader, spec or reference in it."""
    root = tmp_path_factory.mktemp("venv")
    wheel_dir = root / "kit"
    proc = run_grade("kit", *(a for s in SHEETS for a in ("--sheet", s)), "-o", wheel_dir)
    assert proc.returncode == 0, proc.stderr
    env = root / "env"
    kit.install_offline(next(wheel_dir.glob("*.whl")), env, extra=("torch",))
    check = [sys.executable, "-m", "pip", "--python", _exe(env, "python"), "check"]
    proc = subprocess.run(check, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr  # the kit's requirements are met
    return env


def _kit_run(env: Path, *args: str | Path, cwd: Path | None = None, **kw) -> subprocess.Popen:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return subprocess.Popen(
        [_exe(env, "grade"), *map(str, args)],
        cwd=cwd or env,
        env=clean,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",  # what grade writes to a pipe, whatever the locale (grader.streams)
        errors="replace",
        **kw,
    )


def test_the_fresh_venv_cannot_import_the_full_grader(venv):
    code = (
        "import importlib.util as u, grader, gradekit; "
        "print(u.find_spec('exercises'), u.find_spec('reference'), grader.__file__)"
    )
    out = subprocess.run(
        [_exe(venv, "python"), "-c", code], cwd=venv, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[:2] == ["None", "None"]
    assert out[2].startswith(str(venv))


def _wrong_answers(folder: Path) -> dict[str, tuple[Path, str]]:
    """Wrong files besides the examples: a known network mistake, a wrong graph node,
    a file for another sheet, an untouched template."""
    folder.mkdir(exist_ok=True)
    files = {}
    text = (EXAMPLES / "sheet2" / "correct.py").read_text(encoding="utf-8")
    path = folder / "net_without_bias.py"
    path.write_text(text.replace('"b2": 1.0', '"b2": 0.0'), encoding="utf-8")
    files["net_without_bias"] = (path, "2")
    text = (EXAMPLES / "sheet7" / "correct.py").read_text(encoding="utf-8")
    f1, f4, f6 = (f'("{n}", ' for n in ("f1", "f4", "f6"))
    edits = {
        "graph_f1_sum": text.replace(f1 + '"mul"', f1 + '"add"'),
        "graph_unordered": text.replace(f4 + '"square", ("x2",)),', "").replace(
            f6 + '"add", ("f3", "f5")),', f6 + '"add", ("f3", "f5")), ' + f4 + '"square", ("x2",)),'
        ),
    }
    for name, edited in edits.items():
        assert edited != text
        (folder / f"{name}.py").write_text(edited, encoding="utf-8")
        files[name] = (folder / f"{name}.py", "7")
    files["other_sheet"] = (EXAMPLES / "sheet9" / "correct.py", "10")
    for sheet_id in SHEETS:
        path = folder / f"template{sheet_id}.py"
        assert run_grade("template", "--sheet", sheet_id, "-o", path).returncode == 0
        files[f"template{sheet_id}"] = (path, sheet_id)
    return files


def test_the_installed_kit_grades_public_checks_like_the_full_grader(venv, tmp_path):
    runs = {
        f"{p.parent.name}/{p.name}": (p, p.parent.name.removeprefix("sheet"))
        for p in sorted(EXAMPLES.glob("sheet*/*"))
        if p.suffix in (".py", ".ipynb")
    }
    runs.update(_wrong_answers(tmp_path))
    assert len(runs) > 20
    reports: dict[str, dict] = {}
    items = list(runs.items())
    for start in range(0, len(items), 4):  # a few at a time: the machine is shared
        procs = {}
        for key, (path, sheet_id) in items[start : start + 4]:
            args = (path, "--sheet", sheet_id, "--format", "json")
            procs[("kit", key)] = _kit_run(venv, *args)
            procs[("full", key)] = subprocess.Popen(
                [sys.executable, "-m", "grader", *map(str, args)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                encoding="utf-8",
                errors="replace",
            )
        for name, proc in procs.items():
            out, err = proc.communicate(timeout=300)
            assert proc.returncode == 0, (name, err)
            reports[name] = json.loads(out)
    for key in runs:
        full, mine = reports[("full", key)], reports[("kit", key)]
        assert mine["spec_hash"] == full["spec_hash"], key
        assert (mine["max_score"], mine["public_max_score"]) == (
            full["max_score"],
            full["public_max_score"],
        )
        assert mine["notes"] == full["notes"] and mine["load_error"] == full["load_error"], key
        assert len(mine["checks"]) == len(full["checks"])
        public_score = 0.0
        for f, m in zip(full["checks"], mine["checks"], strict=True):
            assert (m["id"], m["max_score"], m["description"]) == (
                f["id"],
                f["max_score"],
                f["description"],
            )
            if f["visibility"] == "hidden":
                assert (m["status"], m["score"]) == ("hidden", 0.0), (key, m)
                assert "seed" not in m
                continue
            public_score += f["score"]
            for field in ("status", "score", "message", "hint", "figure"):
                assert m.get(field) == f.get(field), (key, f["id"], field, m.get(field))
        assert mine["score"] == pytest.approx(public_score, abs=1e-9), key
    hints = {  # hints the kit must show, from mistakes whose answers it holds as values
        "graph_f1_sum": "the product θ·x1",
        "graph_unordered": "topological order",
        "net_without_bias": "needs the constant 1",
    }
    for key, hint in hints.items():
        shown = [c.get("hint") or "" for c in reports[("kit", key)]["checks"]]
        assert any(hint in h for h in shown), (key, shown)


def test_the_kit_reports_public_points_and_later_points(venv):
    proc = _kit_run(venv, EXAMPLES / "sheet2" / "partly_wrong.py", "--sheet", "2")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    report = load("2")
    public = sum(c.points for _, c in report.iter_checks() if not c.hidden)
    later = report.points - public
    assert f"/ {public:g}; {later:g} more points are graded after submission" in out
    assert "hidden" in out and "self-check kit" in out
    full = run_grade(EXAMPLES / "sheet2" / "partly_wrong.py", "--sheet", "2")
    assert f"spec {frozen.spec_hash(report)[:12]}" in full.stdout
    assert f"spec {frozen.spec_hash(report)[:12]}" in out


def test_gradekit_check_grades_the_saved_notebook(venv, tmp_path):
    notebook = tmp_path / "sheet2.ipynb"
    shutil.copy(EXAMPLES / "sheet2" / "correct.ipynb", notebook)
    code = "from gradekit import check; check('sheet2.ipynb')"
    proc = subprocess.run(
        [_exe(venv, "python"), "-c", code],
        cwd=tmp_path,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    out = " ".join(proc.stdout.split())
    assert f"graded {notebook.resolve()} as saved at" in out
    assert "more points are graded after submission" in out and "✘" not in out
    code = "from gradekit import check; check('missing.ipynb', sheet=2)"
    proc = subprocess.run(
        [_exe(venv, "python"), "-c", code],
        cwd=tmp_path,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
    )
    assert proc.returncode != 0 and "no such file" in proc.stderr


# Bad input and damaged kits ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def unpacked(kits, tmp_path_factory) -> Path:
    """The sheet-9 kit unpacked: run with the venv's Python on PYTHONPATH, ahead of its kit."""
    folder = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(kits["9"]) as zf:
        zf.extractall(folder)
    return folder


def _run_unpacked(venv: Path, folder: Path, *args) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPATH"] = str(folder)
    return subprocess.run(
        [_exe(venv, "python"), "-m", "grader", *map(str, args)],
        cwd=venv,
        env=env,
        capture_output=True,
        encoding="utf-8",
        errors="replace",
        timeout=120,
    )


def test_a_sheet_the_kit_lacks_is_a_usage_error(venv, unpacked):
    proc = _run_unpacked(venv, unpacked, EXAMPLES / "sheet2" / "correct.py", "--sheet", "2")
    assert proc.returncode == 2 and "unknown sheet '2'; known sheets: 9" in proc.stderr
    proc = _run_unpacked(
        venv, unpacked, EXAMPLES / "sheet2" / "correct.py", "--sheet", "9", "--format", "json"
    )
    assert proc.returncode == 0, proc.stderr
    notes = json.loads(proc.stdout)["notes"]
    assert any("did you mean --sheet 2? (this kit checks sheet 9 only)" in n for n in notes)


def test_missing_or_wrong_kind_of_file_is_a_usage_error(venv, unpacked, tmp_path):
    proc = _run_unpacked(venv, unpacked, tmp_path / "nope.py", "--sheet", "9")
    assert proc.returncode == 2 and "no such file" in proc.stderr
    (tmp_path / "notes.txt").write_text("x")
    proc = _run_unpacked(venv, unpacked, tmp_path / "notes.txt", "--sheet", "9")
    assert proc.returncode == 2 and "not a .py module or .ipynb notebook" in proc.stderr


def _damage(folder: Path, how: str) -> None:
    data = folder / "gradekit" / "data"
    core, derived = data / "sheet9.core", data / "sheet9.derived"
    if how == "truncated":
        core.write_bytes(core.read_bytes()[:-100])
    elif how == "altered":
        raw = bytearray(derived.read_bytes())
        raw[-3] ^= 1
        derived.write_bytes(bytes(raw))
    elif how == "missing":
        derived.unlink()
    elif how == "manifest":
        (data / "manifest.json").write_text("{not json")
    elif how == "digest":
        manifest = json.loads((data / "manifest.json").read_text())
        manifest["sheets"]["9"]["hidden_digest"] = "0" * 64
        (data / "manifest.json").write_text(json.dumps(manifest))


@pytest.mark.parametrize("how", ["truncated", "altered", "missing", "manifest", "digest"])
def test_a_damaged_kit_says_so_in_one_line_and_stops(venv, unpacked, tmp_path, how):
    folder = tmp_path / "kit"
    shutil.copytree(unpacked, folder)
    _damage(folder, how)
    proc = _run_unpacked(
        venv, folder, EXAMPLES / "sheet9" / "correct.py", "--sheet", "9", "--format", "json"
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "kit is damaged" in lines[0], proc.stderr


def test_building_a_kit_from_a_kit_is_refused(venv, unpacked, tmp_path):
    proc = _run_unpacked(venv, unpacked, "kit", "--sheet", "9", "-o", tmp_path / "k")
    assert proc.returncode == 2 and "full grader" in proc.stderr


def test_every_contract_function_of_the_kit_sheet_is_checked_publicly(kits):
    """A student can self-check every function: each has at least one public check."""
    thawed = _thaw_from_kit(_contents(kits["10"]), "10")
    public = {c.function for _, c in thawed.iter_checks() if not c.hidden}
    assert public == {f.name for f in CONTRACT["10"]}


def test_the_kit_ships_the_engine_but_not_its_builder():
    shipped = {p.relative_to(kit.ENGINE_DIR).as_posix() for p in kit.engine_files()}
    assert "kit.py" not in shipped
    core = {
        "cli.py",
        "runner.py",
        "report.py",
        "sheets.py",
        "frozen.py",
        "session.py",
        "sandbox.py",
        "worker.py",
        "wire.py",
        "standins.py",
        "loading.py",
        "comparison.py",
        "spec.py",
        "rounding.py",
        "selfcheck.py",
        "contract.py",
        "isolation.py",
        "limits.py",
    }
    assert core <= shipped
    assert {f"judges/sheet{s}.py" for s in ("2", "7", "9", "10")} <= shipped
    assert kit.imports_secrets("def f():\n    from reference import sheet2\n")
    assert kit.imports_secrets("import exercises.sheet9 as s\n")
    assert not kit.imports_secrets("from grader import sheets  # exercises\n")


def test_the_kit_prints_the_same_student_reference(venv):
    """`grade contract` reads the frozen sheet: hidden checks are listed as in the docs."""
    for sheet_id in ("7", "9"):
        proc = _kit_run(venv, "contract", "--sheet", sheet_id)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        full = run_grade("contract", "--sheet", sheet_id)
        assert out == full.stdout and "| hidden |" in out


def test_finding_the_kit_imports_nothing_heavy(venv):
    """`grade` starts the worker before it imports numpy and pydantic: finding the kit's
    sheets must not import them (through gradekit's `check`)."""
    code = (
        "import sys; from grader import sheets; print(sheets.available()); "
        "print(sorted(m for m in ('gradekit', 'numpy', 'pydantic', 'grader.runner') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [_exe(venv, "python"), "-c", code], cwd=venv, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out == [repr(SHEETS), "[]"]


def test_grading_with_the_kit_imports_no_pydantic(venv):
    """A kit grades from frozen data: importing pydantic and building the spec models
    would add a quarter to every self-check (about 55 ms of some 220)."""
    example = EXAMPLES / f"sheet{SHEETS[0]}" / "correct.py"
    code = (
        "import contextlib, io, sys; from grader import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n"
        f"    code = cli.main([{str(example)!r}, '--sheet', {SHEETS[0]!r}, '--format', 'json'])\n"
        "print(code, '\"score\"' in out.getvalue(), 'pydantic' in sys.modules)"
    )
    out = subprocess.run(
        [_exe(venv, "python"), "-c", code], cwd=venv, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert out[-1] == "0 True False"
