"""CI formats: JUnit XML, Gradescope, GitHub Classroom; batch files; the autograder zip.

JUnit files are checked against the rules of Jenkins' junit.xsd (the schema
GitLab, Jenkins and the GitHub test-report actions follow) by a structural
validator written here, since lxml is not installed; the validator is itself
tested on documents it must reject.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, SHEET2_PARTLY_WRONG_FAILS, run_grade
from grader import ci_formats, cli
from grader.gradebook import Entry
from grader.text import safe

SHEET2 = EXAMPLES / "sheet2"

# --- a structural validator for Jenkins' junit.xsd ------------------------------

SUREFIRE_TIME = re.compile(r"(([0-9]{0,3},)*[0-9]{3}|[0-9]{0,3})*(\.[0-9]{0,3})?")
SUITES_ATTRS = {"name", "time", "tests", "failures", "disabled", "errors"}
SUITE_ATTRS = {
    *("name", "tests", "failures", "errors", "time", "disabled", "skipped", "skips"),
    *("timestamp", "hostname", "id", "package", "assertions", "file", "skip", "log", "url"),
}
CASE_ATTRS = {
    *("name", "assertions", "time", "timestamp", "classname", "status", "class", "file"),
    *("line", "log", "group", "url"),
}
CASE_CHILDREN = {
    *("skipped", "error", "failure", "rerunFailure", "rerunError", "flakyFailure"),
    *("flakyError", "system-out", "system-err"),
}
OUTCOME_ATTRS = {
    "failure": {"message", "type"},
    "error": {"message", "type"},
    "skipped": {"message"},
}
XML_CHAR = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*")


def validate_junit(text: str) -> ET.Element:
    """The parsed root, or an AssertionError naming the first rule of junit.xsd it breaks."""
    assert XML_CHAR.fullmatch(text), "a character XML 1.0 does not allow"
    root = ET.fromstring(text.encode("utf-8"))  # expat: well-formed or ParseError
    if root.tag == "testsuites":
        _attrs(root, SUITES_ATTRS, set())
        suites = list(root)
        assert all(s.tag == "testsuite" for s in suites), "testsuites holds testsuite only"
        for suite in suites:
            _suite(suite)
        for key in ("tests", "failures", "errors"):
            if key in root.attrib:
                assert int(root.get(key)) == sum(int(s.get(key, 0)) for s in suites), key
    else:
        assert root.tag == "testsuite", f"root {root.tag}"
        _suite(root)
    return root


def _attrs(el: ET.Element, allowed: set[str], required: set[str]) -> None:
    assert set(el.attrib) <= allowed, f"{el.tag}: attributes {set(el.attrib) - allowed}"
    assert required <= set(el.attrib), f"{el.tag}: missing {required - set(el.attrib)}"
    if "time" in el.attrib:
        assert SUREFIRE_TIME.fullmatch(el.get("time")), f"{el.tag}: time {el.get('time')!r}"


def _suite(suite: ET.Element) -> None:
    _attrs(suite, SUITE_ATTRS, {"name", "tests"})
    order = {"testsuite": 0, "properties": 1, "testcase": 2, "system-out": 3, "system-err": 4}
    ranks = [order.get(child.tag, -1) for child in suite]
    assert -1 not in ranks, f"testsuite holds {[c.tag for c in suite]}"
    assert ranks == sorted(ranks), "testsuite: properties, testcase*, system-out, system-err"
    for tag in ("properties", "system-out", "system-err"):
        assert ranks.count(order[tag]) <= 1, f"more than one {tag}"
    cases = suite.findall("testcase")
    for props in suite.findall("properties"):
        assert len(props) >= 1
        for prop in props:
            assert prop.tag == "property"
            _attrs(prop, {"name", "value"}, {"name", "value"})
    for case in cases:
        _attrs(case, CASE_ATTRS, {"name"})
        for child in case:
            assert child.tag in CASE_CHILDREN, f"testcase holds {child.tag}"
            if child.tag in OUTCOME_ATTRS:
                _attrs(child, OUTCOME_ATTRS[child.tag], set())
            assert len(child) == 0, f"{child.tag} holds elements"
    counted = {"tests": len(cases)}
    for key, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        counted[key] = sum(len(case.findall(tag)) for case in cases)
    for key, value in counted.items():
        if key in suite.attrib:
            assert int(suite.get(key)) == value, f"{key}={suite.get(key)}, counted {value}"
    for nested in suite.findall("testsuite"):
        _suite(nested)


@pytest.mark.parametrize(
    "bad",
    [
        '<testsuites><testsuite tests="0"/></testsuites>',  # no name
        '<testsuites><testsuite name="a" tests="1"><testcase name="x"><properties>'
        '<property name="p" value="1"/></properties></testcase></testsuite></testsuites>',
        '<testsuites><testsuite name="a" tests="1" time="1e-3"><testcase name="x"/></testsuite>'
        "</testsuites>",
        '<testsuites><testsuite name="a" tests="2"><testcase name="x"/></testsuite></testsuites>',
        '<testsuites><testsuite name="a" tests="1" failures="0"><testcase name="x">'
        '<failure message="m"/></testcase></testsuite></testsuites>',
        '<testsuites><testsuite name="a" tests="1"><testcase name="x"/>'
        '<properties><property name="p" value="1"/></properties></testsuite></testsuites>',
        '<testsuites skipped="0"><testsuite name="a" tests="0"/></testsuites>',
        '<testsuites><testsuite name="a" tests="1"><testcase name="x">'
        '<skipped message="m" type="t"/></testcase></testsuite></testsuites>',
        '<testsuites><testsuite name="a\x01" tests="0"/></testsuites>',
        '<testsuites><testsuite name="a" tests="0"></testsuites>',
    ],
)
def test_the_validator_rejects_what_junit_xsd_rejects(bad: str) -> None:
    with pytest.raises((AssertionError, ET.ParseError)):
        validate_junit(bad)


# --- hand-made reports ----------------------------------------------------------------

HOSTILE = "\x1b[2J\x00 <b>&amp;</b> ]]> \"quoted\" 'single' \u202eevil \ud800 \ufffe \uffff\x85 end"


def hand_made_report(load_error: str | None = None) -> dict:
    """Every status a check can have, hidden checks of both kinds, and hostile text everywhere."""

    def check(name: str, exercise: str, status: str, score: float, max_score: float, **extra):
        return {
            "id": f"9.{exercise}.{name}",
            "exercise": exercise,
            "function": name.split(".")[0],
            "status": status,
            "score": score,
            "max_score": max_score,
            "message": extra.pop("message", f"{status} message"),
            "description": f"what {name} checks",
            "visibility": extra.pop("visibility", "public"),
            **extra,
        }

    return {
        "sheet": "9",
        "submission": f"sub{HOSTILE}.ipynb",
        "score": 7.5,
        "max_score": 30.0,
        "checks": [
            check("conv.example", "1", "passed", 5, 5),
            check("conv.random", "1", "passed", 2.5, 2.5, visibility="hidden", seed=3),
            check("pool.example", "1", "failed", 0, 4, message=HOSTILE, hint=f"hint {HOSTILE}"),
            check("pool.random", "2", "error", 0, 4, visibility="hidden", seed=4),
            check("rnn.example", "2", "timeout", 0, 6),
            check("rnn.random", "2", "hidden", 0, 8.5, visibility="hidden", message=""),
        ],
        "load_error": load_error,
        "notes": [f"a note {HOSTILE}"],
        "isolation": {"method": "process", "full": False, "note": "no bubblewrap"},
        "seconds": 1.23456,
        "kit_field": "added later",
    }


def raw_controls(text: str) -> list[str]:
    """Characters a terminal or an XML parser would act on: none may survive rendering."""
    return [ch for ch in text if not ch.isprintable() and ch != "\n"]


def test_junit_maps_each_check_and_validates() -> None:
    root = validate_junit(ci_formats.junit([hand_made_report()]))
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == safe(f"sub{HOSTILE}.ipynb", 300)
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("6", "1", "2")
    assert suite.get("skipped") == "1" and suite.get("time") == "1.235"
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert {c.get("classname") for c in cases.values()} == {"sheet9.exercise1", "sheet9.exercise2"}
    assert cases["conv.example"].find("failure") is None
    assert cases["conv.example"].find("error") is None
    failure = cases["pool.example"].find("failure")
    assert failure.get("message") == safe(HOSTILE, lines=True)
    assert f"hint: {safe('hint ' + HOSTILE, lines=True)}" in failure.text
    assert cases["pool.random"].find("error").get("type") == "error"
    assert cases["rnn.example"].find("error").get("type") == "timeout"
    assert cases["rnn.random"].find("skipped").get("message") == "graded after submission"
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["score"] == "7.5" and props["max_score"] == "30"
    assert props["points 9.1.conv.random"] == "2.5/2.5"
    assert sum(float(v.split("/")[0]) for k, v in props.items() if k.startswith("points ")) == 7.5
    for el in root.iter():
        for text in [el.text or "", *el.attrib.values()]:
            assert not raw_controls(text), (el.tag, text)


def test_junit_guards_against_text_that_skipped_safe(monkeypatch) -> None:
    """Even a report whose strings were never made safe cannot break the XML."""
    monkeypatch.setattr(ci_formats, "safe_tree", lambda value: value)
    report = hand_made_report()
    validate_junit(ci_formats.junit([report]))
    text = ci_formats.junit([report])
    assert "\\u0000" in text and "\\ud800" in text and "\\uffff" in text


def test_gradescope_results() -> None:
    report = hand_made_report()
    results = ci_formats.gradescope(report)
    assert results["score"] == report["score"] == sum(t["score"] for t in results["tests"])
    tests = {t["name"]: t for t in results["tests"]}
    assert "9.2.rnn.random" not in tests  # a kit's hidden check: scored 0, not shown
    assert len(tests) == 5
    assert {t["status"] for t in tests.values()} == {"passed", "failed"}
    assert tests["9.1.conv.example"]["status"] == "passed"
    assert tests["9.2.rnn.example"]["status"] == "failed"
    assert tests["9.1.conv.random"]["visibility"] == "after_published"
    assert tests["9.1.conv.example"]["visibility"] == "visible"
    assert tests["9.1.pool.example"]["max_score"] == 4
    assert "hint:" in tests["9.1.pool.example"]["output"]
    assert all(t["output_format"] == "text" for t in tests.values())
    assert "reduced isolation" in results["output"] and "a note" in results["output"]
    assert not raw_controls(json.dumps(results, ensure_ascii=False))
    later = ci_formats.gradescope(report, "after_due_date")
    assert {t["visibility"] for t in later["tests"]} == {"visible", "after_due_date"}
    with pytest.raises(ValueError):
        ci_formats.gradescope(report, "sometimes")


def test_classroom_result() -> None:
    report = hand_made_report()
    result = ci_formats.classroom(report)
    assert result["version"] == 1 and result["status"] == "fail"
    assert result["max_score"] == 30.0
    assert sum(t["score"] for t in result["tests"]) == report["score"]
    tests = {t["name"]: t for t in result["tests"]}
    assert "9.2.rnn.random" not in tests
    assert [tests[n]["status"] for n in sorted(tests)] == ["pass", "pass", "fail", "error", "error"]
    for test in tests.values():
        assert {"name", "status", "score", "message", "test_code", "line_no"} <= set(test)
    assert tests["9.1.pool.example"]["message"].startswith(safe(HOSTILE, lines=True))
    assert not raw_controls(json.dumps(result, ensure_ascii=False))
    passed = {**report, "checks": [c for c in report["checks"] if c["status"] == "passed"]}
    assert ci_formats.classroom(passed)["status"] == "pass"


def test_a_submission_that_did_not_load_says_why_in_each_test() -> None:
    report = hand_made_report(load_error="the submission failed to load: SyntaxError")
    report["checks"] = [
        {**c, "status": "error", "score": 0, "message": "see the load error above", "hint": None}
        for c in report["checks"]
    ]
    report["score"] = 0
    assert ci_formats.classroom(report)["status"] == "error"
    for test in ci_formats.classroom(report)["tests"]:
        assert test["message"] == "the submission failed to load: SyntaxError"
    root = validate_junit(ci_formats.junit([report]))
    assert {e.get("message") for e in root.iter("error")} == {report["load_error"]}
    assert "could not load" in ci_formats.gradescope(report)["output"]


def test_rows_without_a_report_keep_their_place() -> None:
    row = ci_formats.report_of_row("erin", "ambiguous", "two files <a.py>", None, "2", 100.0)
    root = validate_junit(ci_formats.junit([row]))
    (case,) = root.iter("testcase")
    assert case.find("error").get("message") == "ambiguous: two files <a.py>"
    line = json.loads(ci_formats.jsonl([row]))
    assert line["status"] == "ambiguous" and line["message"] == "two files <a.py>"
    assert line["submission_id"] == "erin" and line["score"] == 0
    assert ci_formats.gradescope(row)["score"] == 0


# --- through the command line -----------------------------------------------------------


def test_every_format_adds_up_to_the_json_score() -> None:
    runs = {fmt: ("--format", fmt) for fmt in ("json", "junit", "gradescope", "classroom")}
    runs["classroom-broken"] = ("--format", "classroom")
    procs = {
        key: subprocess.Popen(
            [sys.executable, "-m", "grader", SHEET2 / "partly_wrong.py", "--sheet", "2", *args]
            if key != "classroom-broken"
            else [sys.executable, "-m", "grader", SHEET2 / "broken.py", "--sheet", "2", *args],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for key, args in runs.items()
    }
    out = {}
    for key, proc in procs.items():
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr
        out[key] = stdout
    report = json.loads(out["json"])
    score = report["score"]
    assert score == 54.0

    root = validate_junit(out["junit"])
    props = {p.get("name"): p.get("value") for p in root.iter("property")}
    assert float(props["score"]) == score
    failed = {
        f"2.{c.get('classname').rsplit('exercise', 1)[1]}.{c.get('name')}"
        for c in root.iter("testcase")
        if c.find("failure") is not None
    }
    assert failed == SHEET2_PARTLY_WRONG_FAILS

    gradescope = json.loads(out["gradescope"])
    assert gradescope["score"] == score
    assert sum(t["score"] for t in gradescope["tests"]) == pytest.approx(score, abs=1e-6)
    assert {t["name"] for t in gradescope["tests"] if t["status"] == "failed"} == (
        SHEET2_PARTLY_WRONG_FAILS
    )

    classroom = json.loads(out["classroom"])
    assert sum(t["score"] for t in classroom["tests"]) == pytest.approx(score, abs=1e-6)
    assert classroom["max_score"] == report["max_score"] and classroom["status"] == "fail"
    broken = json.loads(out["classroom-broken"])
    assert broken["status"] == "error" and sum(t["score"] for t in broken["tests"]) == 0


def test_help_documents_the_formats() -> None:
    proc = run_grade("--help")
    for word in ("junit", "gradescope", "classroom", "--hidden-visibility", "grade gradescope"):
        assert word in proc.stdout
    assert cli.GRADESCOPE_VISIBILITY == ci_formats.GRADESCOPE_VISIBILITY
    assert set(cli.FORMATS) == {"rich", "json", "junit", "gradescope", "classroom"}


# --- grade batch --junit --jsonl ----------------------------------------------------------


def test_batch_writes_junit_and_jsonl_with_every_row(tmp_path: Path) -> None:
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("correct.py", "partly_wrong.py", "broken.py"):
        shutil.copy(SHEET2 / name, subs / name)
    (subs / "nobody").mkdir()
    (subs / "nobody" / "notes.txt").write_text("no code")
    junit, jsonl = tmp_path / "grades.xml", tmp_path / "grades.jsonl"
    proc = run_grade(
        *("batch", subs, "--sheet", "2", "--db", tmp_path / "book.sqlite"),
        *("--junit", junit, "--jsonl", jsonl, "--format", "json"),
    )
    assert proc.returncode == 0, proc.stderr
    summary = {row["submission"]: row for row in json.loads(proc.stdout)}
    order = ["broken.py", "correct.py", "nobody", "partly_wrong.py"]
    assert sorted(summary) == order

    lines = [json.loads(line) for line in jsonl.read_text().splitlines()]
    assert [line["submission_id"] for line in lines] == order
    for line in lines:
        assert line["score"] == summary[line["submission_id"]]["score"]
        assert line["status"] == summary[line["submission_id"]]["status"]
    by_id = {line["submission_id"]: line for line in lines}
    assert by_id["nobody"]["status"] == "no_submission" and "no .py" in by_id["nobody"]["message"]
    assert by_id["partly_wrong.py"]["checks"] and by_id["broken.py"]["load_error"]

    root = validate_junit(junit.read_text())
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == order
    nobody = suites[2]
    assert nobody.get("errors") == "1" and nobody.find("testcase/error") is not None
    scores = {
        s.get("name"): float(
            next(p.get("value") for p in s.iter("property") if p.get("name") == "score")
        )
        for s in suites
    }
    assert scores == {s: summary[s]["score"] for s in order}
    classes = {c.get("classname") for c in suites[3].iter("testcase")}
    assert classes == {f"partly_wrong_py.sheet2.exercise{i}" for i in range(1, 5)}
    assert not list(tmp_path.glob(".*.tmp"))


def test_batch_output_in_a_missing_folder_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    proc = run_grade("batch", tmp_path, "--sheet", "2", "--junit", tmp_path / "no" / "x.xml")
    assert proc.returncode == 2 and "--junit" in proc.stderr


def test_batch_rows_are_rendered_from_stored_entries() -> None:
    from grader import batch
    from grader.sheets import load

    sheet = load("2")
    row = batch._row_report("zed", Entry("grader_error", 0.0, 100.0, "boom", path="zed/"), sheet)
    assert row["status"] == "grader_error" and row["submission"] == "zed/"
    validate_junit(ci_formats.junit([row]))


# --- Gradescope's autograder zip ---------------------------------------------------------


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "autograder.zip"
    proc = run_grade("gradescope", "--sheet", "2", "-o", out, "--timeout", "20")
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_zip_holds_the_scripts_and_the_grader(autograder_zip: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(autograder_zip) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        setup = zf.read("setup.sh").decode()
        run = zf.read("run_autograder").decode()
    names = set(infos)
    for name in (
        *("setup.sh", "run_autograder", "dl-grader/pyproject.toml", "dl-grader/README.md"),
        *("dl-grader/grader/cli.py", "dl-grader/grader/ci_formats.py"),
        *("dl-grader/exercises/sheet2.py", "dl-grader/reference/sheet9.py"),
    ):
        assert name in names, name
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "/." in n]
    for name, info in infos.items():
        mode = info.external_attr >> 16
        assert stat.S_ISREG(mode), name
        executable = name in ("setup.sh", "run_autograder")
        assert stat.S_IMODE(mode) == (0o755 if executable else 0o644), name
    pyproject = (ROOT / "pyproject.toml").read_text()
    torch = re.search(r'"(torch[^"]*)"', pyproject).group(1)
    assert f"'{torch}'" in setup and "download.pytorch.org/whl/cpu" in setup
    assert "bubblewrap" in setup and '"$SOURCE/dl-grader"' in setup
    assert "--sheet 2" in run and "--timeout 20" in run and "--submission-timeout 300" in run
    assert "--hidden-visibility after_published" in run
    for script, shell in ((setup, "bash"), (run, "sh")):
        path = tmp_path / "script"
        path.write_text(script)
        check = subprocess.run([shell, "-n", path], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr


def test_hostile_setup_locks_the_references_away_from_a_submission_uid(tmp_path: Path) -> None:
    """Without bubblewrap a submission runs as a uid of its own, which may read what every
    user may: setup.sh must leave the source and the installed references to root."""
    from grader.gradescope import setup_script

    script = setup_script("torch")
    lock = script[script.index("chmod -R go-rwx") :]
    source, venv = tmp_path / "source", tmp_path / "venv"
    packages = [tmp_path / "site" / name for name in ("grader", "exercises", "reference")]
    for folder in (source / "dl-grader" / "reference", *packages):
        folder.mkdir(parents=True)
        (folder / "sheet2.py").write_text("SOLUTION = 1\n")
    (venv / "bin").mkdir(parents=True)
    python = venv / "bin" / "python"  # prints where the packages are, as the real one would
    python.write_text("#!/bin/sh\n" + "".join(f"echo '{p}'\n" for p in packages))
    python.chmod(0o755)
    env = {**os.environ, "SOURCE": str(source), "VENV": str(venv)}
    run = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", lock], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    for folder in (source, source / "dl-grader" / "reference", *packages):
        for path in (folder, *folder.rglob("*")):
            assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


def test_the_zip_is_reproducible_and_never_overwritten_unasked(
    autograder_zip: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again.zip"
    proc = run_grade("gradescope", "--sheet", "2", "-o", again, "--timeout", "20")
    assert proc.returncode == 0, proc.stderr
    assert again.read_bytes() == autograder_zip.read_bytes()
    proc = run_grade("gradescope", "--sheet", "2", "-o", again)
    assert proc.returncode == 2 and "--force" in proc.stderr
    assert run_grade("gradescope", "--sheet", "42", "-o", tmp_path / "x.zip").returncode == 2


def test_the_bundled_source_builds_a_wheel_with_the_grader(
    autograder_zip: Path, tmp_path: Path
) -> None:
    """What setup.sh's pip install does, offline and without dependencies."""
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(tmp_path / "source")
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"),
            *("-w", tmp_path / "wheel", tmp_path / "source" / "dl-grader"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert {"grader/gradescope.py", "exercises/sheet2.py", "reference/sheet2.py"} <= names


def fake_autograder(autograder_zip: Path, root: Path) -> Path:
    """Gradescope's layout: the zip in source/, run_autograder beside it, a venv with `grade`.

    The venv's `grade` runs the grader bundled in the zip, not this checkout.
    """
    with zipfile.ZipFile(autograder_zip) as zf:
        zf.extractall(root / "source")
    run = root / "run_autograder"
    shutil.copy(root / "source" / "run_autograder", run)
    run.chmod(0o755)
    grade = root / "venv" / "bin" / "grade"
    grade.parent.mkdir(parents=True)
    source = root / "source" / "dl-grader"
    grade.write_text(f'#!/bin/sh\ncd "{source}" && exec "{sys.executable}" -m grader "$@"\n')
    grade.chmod(0o755)
    (root / "submission").mkdir()
    return run


def test_run_autograder_grades_the_submission_end_to_end(
    autograder_zip: Path, tmp_path: Path
) -> None:
    root = tmp_path / "autograder"
    run = fake_autograder(autograder_zip, root)
    shutil.copy(SHEET2 / "partly_wrong.py", root / "submission" / "my_solution.py")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root)}
    proc = subprocess.run([run], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 54.0
    assert sum(t["score"] for t in results["tests"]) == pytest.approx(54.0, abs=1e-6)
    assert {t["name"] for t in results["tests"] if t["status"] == "failed"} == (
        SHEET2_PARTLY_WRONG_FAILS
    )
    hidden = {t["visibility"] for t in results["tests"] if t["name"].endswith("random")}
    assert hidden == {"after_published"}
    assert "my_solution.py" in results["output"]


def test_run_picks_the_file_as_batch_does_and_reports_none(
    autograder_zip: Path, tmp_path: Path
) -> None:
    root = tmp_path / "autograder"
    fake_autograder(autograder_zip, root)
    results = root / "results" / "results.json"

    def run() -> dict:
        proc = run_grade("gradescope", "--run", "--root", root, "--sheet", "2")
        assert proc.returncode == 0, proc.stderr
        return json.loads(results.read_text())

    empty = run()
    assert empty["score"] == 0 and empty["tests"] == []
    assert "no .py or .ipynb" in empty["output"]

    (root / "submission" / "helpers.py").write_text("x = 1\n")
    (root / "submission" / "scratch.py").write_text("x = 2\n")
    assert "several files" in run()["output"]

    work = root / "submission" / "work"
    work.mkdir()
    shutil.copy(SHEET2 / "correct.py", work / "Sheet_02.py")
    (root / "submission" / "__pycache__").mkdir()
    (root / "submission" / "__pycache__" / "sheet2.py").write_text("raise SystemExit\n")
    graded = run()
    assert graded["score"] == 100.0 and "work/Sheet_02.py" in graded["output"]
