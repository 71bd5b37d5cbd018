"""The report in the formats CI systems and course platforms read: JUnit XML, Gradescope, Classroom.

Each renderer takes the dict of ``report.to_json`` (or one read back from the
gradebook), never an ``Outcome``: fields added to the report later (a kit's
hidden checks, spec hashes) then reach every format without touching this
module, and ``grade batch`` renders stored reports without regrading. The
renderers agree on one rule: a check's points appear once, so the scores a
platform adds up equal the report's ``score``.

Student text was made ``safe`` where the report was built; it is made safe
once more here (``safe`` leaves safe text as it is), because a dict may come
from an older gradebook or from a hand-made report, and in XML a single
control character would make the whole file unreadable to the CI.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

from grader.gradebook import points as _pts
from grader.text import NAME_LIMIT, safe, safe_tree

# A check that a student kit lists but cannot run: graded after submission.
KIT_HIDDEN = "hidden"
GRADESCOPE_VISIBILITY = ("visible", "hidden", "after_due_date", "after_published")
# What XML 1.0 allows in a document (its production "Char"); everything else is escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _prepared(report: dict[str, Any]) -> dict[str, Any]:
    """The report made safe, each check of a submission that did not load saying why.

    Such checks read "see the load error above" in the report; a CI shows each
    test on its own, where there is no "above".
    """
    report = safe_tree(report)
    if report.get("load_error"):
        checks = [
            c if c.get("status") == "passed" else {**c, "message": report["load_error"]}
            for c in report.get("checks", [])
        ]
        report = {**report, "checks": checks}
    return report


def report_of_row(
    submission_id: str,
    status: str,
    message: str,
    report: dict[str, Any] | None,
    sheet: str,
    max_score: float,
    path: str = "",
) -> dict[str, Any]:
    """One batch row as a report: its stored report, or a report without checks saying why.

    Rows that were never graded (no submission, ambiguous, refused, grader
    error) keep their place in every batch-wide file, with score 0.
    """
    if report is not None:
        return {"submission_id": submission_id, "status": status, **report}
    return {
        "submission_id": submission_id,
        "status": status,
        "sheet": sheet,
        "submission": path or submission_id,
        "score": 0.0,
        "max_score": max_score,
        "message": message,
        "checks": [],
    }


def document(fmt: str, report: dict[str, Any], hidden_visibility: str = "after_published") -> str:
    """The text ``grade --format FMT`` prints for one report: junit, gradescope or classroom."""
    if fmt == "junit":
        return junit([report])
    if fmt == "gradescope":
        rendered = gradescope(report, hidden_visibility)
    elif fmt == "classroom":
        rendered = classroom(report)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return json.dumps(rendered, indent=2, allow_nan=False) + "\n"


# --- JUnit -----------------------------------------------------------------


def junit(reports: Iterable[dict[str, Any]], name: str = "dl-grader") -> str:
    """A JUnit XML document: one ``testsuite`` per report under one ``testsuites``.

    The shape is the one Jenkins' junit.xsd describes and GitLab, Jenkins and
    the GitHub test-report actions read: ``failure`` for a wrong answer,
    ``error`` for an error or timeout, ``skipped`` for a check graded after
    submission; points as the suite's ``properties`` and each case's
    ``system-out`` (a testcase may not carry properties in that schema).
    Per-check times are not measured: a case's ``time`` is 0, its suite's the
    whole grading.
    """
    suites = [_suite(_prepared(r)) for r in reports]
    root = ET.Element("testsuites", name=_xml(safe(name, NAME_LIMIT)))
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(int(s.get(key, "0")) for s in suites)))
    root.set("time", _seconds(sum(float(s.get("time", "0")) for s in suites)))
    root.extend(suites)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _suite(report: dict[str, Any]) -> ET.Element:
    sheet = str(report.get("sheet", ""))
    name = str(report.get("submission_id") or report.get("submission", ""))
    suite = ET.Element("testsuite", name=_xml(name))
    props = ET.SubElement(suite, "properties")
    listed = {
        "sheet": sheet,
        "submission": report.get("submission", ""),
        "score": _pts(report.get("score", 0)),
        "max_score": _pts(report.get("max_score", 0)),
    }
    if "status" in report:
        listed["status"] = report["status"]
    if isinstance(report.get("isolation"), dict):
        listed["isolation"] = report["isolation"].get("method", "")
    for check in report.get("checks", []):
        listed[f"points {check['id']}"] = _points(check)
    for key, value in listed.items():
        ET.SubElement(props, "property", name=_xml(key), value=_xml(str(value)))

    # In a batch file the classname leads with the submission, so that Jenkins,
    # which groups cases by class across suites, keeps students apart.
    prefix = f"{name.replace('.', '_')}." if "submission_id" in report else ""
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for check in report.get("checks", []):
        suite.append(_case(check, sheet, prefix, counts))
    if not report.get("checks"):  # a row that was never graded: say why
        case = ET.SubElement(
            suite, "testcase", classname=_xml(f"{prefix}sheet{sheet}"), name="submission", time="0"
        )
        why = f"{report.get('status', 'error')}: {report.get('message', '')}".rstrip(": ")
        ET.SubElement(case, "error", message=_xml(why), type=_xml(str(report.get("status", ""))))
        counts["tests"] += 1
        counts["errors"] += 1
    for key, value in counts.items():
        suite.set(key, str(value))
    suite.set("time", _seconds(report.get("seconds", 0)))
    return suite


def _case(check: dict[str, Any], sheet: str, prefix: str, counts: dict[str, int]) -> ET.Element:
    exercise = str(check.get("exercise", ""))
    head = f"{sheet}.{exercise}."
    cid = str(check["id"])
    case = ET.Element(
        "testcase",
        classname=_xml(f"{prefix}sheet{sheet}.exercise{exercise}"),
        name=_xml(cid[len(head) :] if cid.startswith(head) else cid),
        time="0",
    )
    counts["tests"] += 1
    status = check.get("status")
    message = str(check.get("message", ""))
    if status == KIT_HIDDEN:
        ET.SubElement(case, "skipped", message="graded after submission")
        counts["skipped"] += 1
    elif status == "failed":
        _outcome(case, "failure", "wrong answer", message, _details(check))
        counts["failures"] += 1
    elif status != "passed":  # error, timeout, and whatever a later grader may add
        _outcome(case, "error", str(status), message, _details(check))
        counts["errors"] += 1
    out = ET.SubElement(case, "system-out")
    out.text = _xml(f"{_points(check)} points: {check.get('description', '')}")
    override = check.get("override")
    if isinstance(override, dict):  # a TA's decision (gradebook.effective_report)
        out.text += _xml(f"\noverridden by a TA to {_pts(override.get('points', 0))} points: "
                         f"{safe(override.get('reason', ''))}")  # fmt: skip
    return case


def _outcome(case: ET.Element, tag: str, kind: str, message: str, details: str) -> None:
    element = ET.SubElement(case, tag, message=_xml(message), type=_xml(kind))
    element.text = _xml(details)


def _details(check: dict[str, Any]) -> str:
    """The message with its hint and, for predict_class, the drawing of where it differs."""
    parts = [str(check.get("message", ""))]
    if check.get("hint"):
        parts.append(f"hint: {check['hint']}")
    if check.get("figure"):
        parts.append(str(check["figure"]))
    return "\n\n".join(parts)


def _xml(text: str) -> str:
    """``text`` without a character XML 1.0 forbids (``safe`` escaped them already: a guard)."""
    return _NOT_XML.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _seconds(value: Any) -> str:
    """Seconds as junit.xsd's SUREFIRE_TIME allows: digits, at most three decimals, no exponent."""
    return f"{max(float(value), 0.0):.3f}"


# --- Gradescope --------------------------------------------------------------


def gradescope(
    report: dict[str, Any], hidden_visibility: str = "after_published"
) -> dict[str, Any]:
    """Gradescope's results.json: a test per check, the report's score as the total.

    Checks on hidden random inputs are shown with ``hidden_visibility``
    (default: once grades are published), public ones at once. A check a
    student kit cannot run is left out; it scores 0 there. All text is plain
    (``output_format`` "text"), so nothing a student wrote is read as HTML or
    Markdown.
    """
    if hidden_visibility not in GRADESCOPE_VISIBILITY:
        raise ValueError(f"unknown Gradescope visibility {hidden_visibility!r}")
    report = _prepared(report)
    tests = []
    for check in report.get("checks", []):
        if check.get("status") == KIT_HIDDEN:
            continue
        passed = check.get("status") == "passed"
        output = str(check.get("description", "")) if passed else _details(check)
        tests.append(
            {
                "name": str(check["id"]),
                "score": check.get("score", 0),
                "max_score": check.get("max_score", 0),
                "status": "passed" if passed else "failed",
                "output": output,
                "output_format": "text",
                "tags": [f"exercise {check.get('exercise', '')}", str(check.get("function", ""))],
                "visibility": (
                    hidden_visibility if check.get("visibility") == "hidden" else "visible"
                ),
            }
        )
    return {
        "score": report.get("score", 0),
        "execution_time": round(float(report.get("seconds", 0))),
        "output": _summary(report),
        "output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def _summary(report: dict[str, Any]) -> str:
    """What concerns the whole submission: score, why it did not load, notes, isolation."""
    lines = [
        f"Sheet {report.get('sheet', '')}: {_pts(report.get('score', 0))} / "
        f"{_pts(report.get('max_score', 0))} points for {report.get('submission', '')}"
    ]
    if report.get("load_error"):
        lines.append(f"could not load the submission: {report['load_error']}")
    if report.get("message"):
        lines.append(str(report["message"]))
    lines += [f"note: {note}" for note in report.get("notes", [])]
    isolation = report.get("isolation")
    if isinstance(isolation, dict) and not isolation.get("full", True):
        lines.append(f"reduced isolation: {isolation.get('note', '')}")
    return "\n".join(lines)


# --- GitHub Classroom --------------------------------------------------------


def classroom(report: dict[str, Any]) -> dict[str, Any]:
    """The result GitHub Classroom's autograding-grading-reporter reads (``version`` 1).

    The reporter sums the tests' ``score`` against ``max_score`` and fails the
    workflow on a ``status`` of "fail" or "error": "error" when the submission
    did not load, "fail" when any check is not passed. ``filename``,
    ``line_no``, ``test_code`` and ``duration`` are the fields Classroom's own
    graders send; a check has no line, so ``line_no`` is 0. Checks a student
    kit cannot run are left out.
    """
    report = _prepared(report)
    tests = []
    for check in report.get("checks", []):
        status = check.get("status")
        if status == KIT_HIDDEN:
            continue
        message = str(check.get("message", ""))
        if check.get("hint"):
            message += f"\nhint: {check['hint']}"
        tests.append(
            {
                "name": str(check["id"]),
                "status": {"passed": "pass", "failed": "fail"}.get(str(status), "error"),
                "score": check.get("score", 0),
                "max_score": check.get("max_score", 0),
                "message": message,
                "test_code": f"{check.get('function', '')}: {check.get('description', '')}",
                "filename": str(report.get("submission", "")),
                "line_no": 0,
                "duration": 0,
            }
        )
    if report.get("load_error") or report.get("message"):
        status = "error"
    else:
        status = "pass" if all(t["status"] == "pass" for t in tests) else "fail"
    return {
        "version": 1,
        "status": status,
        "max_score": report.get("max_score", 0),
        "score": report.get("score", 0),
        "message": _summary(report),
        "tests": tests,
    }


# --- JSON lines ---------------------------------------------------------------


def jsonl(reports: Iterable[dict[str, Any]]) -> str:
    """One report per line, in the order given."""
    return "".join(json.dumps(r, allow_nan=False) + "\n" for r in reports)


def _points(check: dict[str, Any]) -> str:
    return f"{_pts(check.get('score', 0))}/{_pts(check.get('max_score', 0))}"
