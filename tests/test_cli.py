"""The CLI as TAs and CI use it: exit codes, JSON on stdout only, the examples' scores."""

from __future__ import annotations

import json

import pytest

from conftest import EXAMPLES, SHEET2_PARTLY_WRONG_FAILS, by_function, grade_json, run_grade

SHEET2 = EXAMPLES / "sheet2"


def test_correct_example_gets_full_marks():
    report = grade_json(SHEET2 / "correct.py", "2")
    assert report["score"] == report["max_score"] == 100.0
    assert all(c["status"] == "passed" for c in report["checks"])


def test_correct_notebook_gets_full_marks():
    report = grade_json(SHEET2 / "correct.ipynb", "2")
    assert report["score"] == 100.0 and report["notes"] == []


def test_correct_torch_style_gets_full_marks():
    report = grade_json(SHEET2 / "correct_torch.py", "2")
    assert report["score"] == 100.0, [c for c in report["checks"] if c["status"] != "passed"]


def test_json_report_fields_follow_the_interface():
    report = grade_json(SHEET2 / "partly_wrong.py", "2")
    assert report["sheet"] == "2"
    assert report["submission"].endswith("partly_wrong.py")
    assert abs(report["score"] - sum(c["score"] for c in report["checks"])) < 1e-9
    for check in report["checks"]:
        assert set(check) >= {
            "id",
            "exercise",
            "function",
            "status",
            "score",
            "max_score",
            "message",
        }
        assert check["status"] in {"passed", "failed", "error", "timeout"}
        assert check["id"].startswith(f"2.{check['exercise']}.{check['function']}.")


def test_partly_wrong_loses_exactly_its_mistakes():
    report = grade_json(SHEET2 / "partly_wrong.py", "2")
    failed = {c["id"] for c in report["checks"] if c["status"] != "passed"}
    assert failed == SHEET2_PARTLY_WRONG_FAILS
    assert report["score"] == 54.0
    checks = {c["id"]: c for c in report["checks"]}
    assert "ρ(x1 + x2)" in checks["2.1.predict_class.grid"]["hint"]
    assert "stable" in checks["2.2.logcosh.large"]["hint"]
    assert "divide" in checks["2.2.dataset_grad.example"]["hint"]
    assert "σ(−v)" in checks["2.4.grad_v.example"]["hint"]
    assert "figure" in checks["2.1.predict_class.grid"]


def test_broken_example_is_graded_zero_with_the_syntax_error():
    proc = run_grade(SHEET2 / "broken.py", "--sheet", "2", "--format", "json")
    assert proc.returncode == 0
    report = json.loads(proc.stdout)
    assert report["score"] == 0.0
    assert all(c["status"] == "error" for c in report["checks"])
    assert "syntax error" in report["load_error"] and "line 6" in report["load_error"]
    assert "broken.py" in report["load_error"]


def test_rich_report_mentions_total_and_hint():
    proc = run_grade(SHEET2 / "partly_wrong.py", "--sheet", "2")
    assert proc.returncode == 0
    assert "Total: 54 / 100" in proc.stdout
    assert "hint:" in proc.stdout


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["missing.py", "--sheet", "2"], "no such file"),
        ([str(SHEET2), "--sheet", "2"], "directory"),
        ([str(SHEET2 / "correct.py"), "--sheet", "99"], "unknown sheet"),
        ([str(SHEET2 / "correct.py")], "--sheet"),
        ([str(SHEET2 / "correct.py"), "--sheet", "2", "--format", "xml"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2_with_one_line(args, fragment):
    proc = run_grade(*args)
    assert proc.returncode == 2
    assert fragment in proc.stderr
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr


def test_fail_under():
    assert (
        run_grade(
            SHEET2 / "partly_wrong.py", "--sheet", "2", "--fail-under", "60", "--format", "json"
        ).returncode
        == 3
    )
    assert (
        run_grade(
            SHEET2 / "partly_wrong.py", "--sheet", "2", "--fail-under", "50", "--format", "json"
        ).returncode
        == 0
    )


def test_seed_changes_hidden_inputs_and_is_reported():
    a = grade_json(SHEET2 / "correct.py", "2")
    b = grade_json(SHEET2 / "correct.py", "2", "--seed", "7")
    seeds_a = {c["id"]: c.get("seed") for c in a["checks"]}
    seeds_b = {c["id"]: c.get("seed") for c in b["checks"]}
    hidden = [c["id"] for c in a["checks"] if c["visibility"] == "hidden"]
    assert hidden and all(seeds_a[i] is not None and seeds_a[i] != seeds_b[i] for i in hidden)
    assert b["score"] == 100.0


def test_sheets_lists_points():
    proc = run_grade("sheets")
    assert proc.returncode == 0 and "Backpropagation" in proc.stdout and "100" in proc.stdout


def test_help_teaches():
    proc = run_grade("--help")
    assert proc.returncode == 0
    for fragment in ("--sheet", "--format", "exit status", "grade batch", "template"):
        assert fragment in proc.stdout


def test_untouched_template_scores_zero_without_crashing(tmp_path):
    path = tmp_path / "mine.py"
    assert run_grade("template", "--sheet", "2", "-o", path).returncode == 0
    report = grade_json(path, "2")
    assert report["score"] == 0.0
    assert all("not implemented yet" in c["message"] for c in report["checks"])


def test_missing_function_costs_only_its_checks(submission):
    source = (SHEET2 / "correct.py").read_text().replace("def logcosh_grad", "def _gone")
    report = grade_json(submission(source), "2")
    funcs = by_function(report)
    assert all(c["status"] == "error" and "missing" in c["message"] for c in funcs["logcosh_grad"])
    assert report["score"] == 90.0


def test_a_near_miss_name_is_pointed_out(submission):
    source = (SHEET2 / "correct.py").read_text().replace("def logcosh(", "def log_cosh(")
    funcs = by_function(grade_json(submission(source), "2"))
    assert all("`log_cosh`" in c["hint"] for c in funcs["logcosh"])


def test_a_file_for_another_sheet_is_pointed_out():
    report = grade_json(EXAMPLES / "sheet9" / "correct.py", "2")
    assert report["score"] == 0.0
    assert any("did you mean --sheet 9" in n for n in report["notes"])
