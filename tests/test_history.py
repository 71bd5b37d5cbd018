"""Runs, ``grade diff`` and ``grade override``: regrades with history and a TA's decisions."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from test_stats import CHECKS, report

from conftest import EXAMPLES, run_grade
from grader import ci_formats, cli, merge
from grader.gradebook import (
    Entry,
    Gradebook,
    Key,
    Override,
    csv_text,
    effective_entry,
    effective_report,
    stale_overrides,
)


def key(sub: str, sha: str = "") -> Key:
    return Key("2", sub, sha or f"sha-{sub}", 0, "spec")


def graded(rep: dict) -> Entry:
    return Entry("graded", rep["score"], 20.0, "", rep)


def cli_run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def two_runs(path: Path) -> Path:
    """alice fixed f.b between the runs, bob was regraded under the same key and lost g.a."""
    book = Gradebook(path)
    first = book.start_run("2", 0, {}, "")
    book.put(key("alice.py", "v1"), graded(report({"2.1.f.b": "failed"})), first)
    book.put(key("bob.py"), graded(report({})), first)
    book.put(key("carl.py"), graded(report({})), first)
    second = book.start_run("2", 0, {"regrade": True}, "")
    book.put(key("alice.py", "v2"), graded(report({})), second)
    book.put(key("bob.py"), graded(report({"2.2.g.a": "error"})), second)  # replaces the row
    book.mark_current([key("carl.py")], second)  # reused
    book.close()
    return path


def test_a_run_links_every_graded_and_reused_row(tmp_path):
    book = Gradebook(two_runs(tmp_path / "b.sqlite"))
    runs = book.runs()
    assert len(runs) == 2 and runs[0][1] < runs[1][1]
    assert json.loads(runs[1][4]) == {"regrade": True}
    links = {(r[0], r[2]) for r in book.run_grades("2")}
    assert {sub for run, sub in links if run == runs[1][0]} == {"alice.py", "bob.py", "carl.py"}
    book.close()


def test_diff_names_changed_scores_and_checks_even_after_a_regrade_replaced_the_row(
    tmp_path, capsys
):
    db = two_runs(tmp_path / "b.sqlite")
    code, out, _ = cli_run(capsys, "diff", "--db", str(db), "--format", "json")
    assert code == 0
    result = json.loads(out)
    assert result["compared"] == 3
    changed = {c["submission"]: c for c in result["changed"]}
    assert set(changed) == {"alice.py", "bob.py"}  # carl's reused grade did not change
    assert (changed["alice.py"]["old_score"], changed["alice.py"]["new_score"]) == (14.0, 20.0)
    assert changed["bob.py"]["checks"] == [
        {"id": "2.2.g.a", "old_status": "passed", "old_score": 10.0,
         "new_status": "error", "new_score": 0.0},
    ]  # fmt: skip
    code, out, _ = cli_run(capsys, "diff", "--db", str(db))
    assert "14 → 20" in out and "2.2.g.a: passed 10 → error 0" in out and "carl" not in out


def test_diff_compares_only_the_two_latest_runs(tmp_path, capsys):
    db = two_runs(tmp_path / "b.sqlite")
    book = Gradebook(db)
    third = book.start_run("2", 0, {}, "")
    book.mark_current([key("alice.py", "v2"), key("bob.py"), key("carl.py")], third)
    book.close()
    code, out, _ = cli_run(capsys, "diff", "--db", str(db), "--format", "json")
    assert code == 0 and json.loads(out)["changed"] == []
    _, out, _ = cli_run(capsys, "diff", "--db", str(db))
    assert "No score changed" in out


def test_diff_of_a_single_run_has_nothing_to_compare(tmp_path, capsys):
    book = Gradebook(tmp_path / "b.sqlite")
    book.put(key("a.py"), graded(report({})), book.start_run("2", 0, {}))
    book.close()
    code, out, err = cli_run(capsys, "diff", "--db", str(tmp_path / "b.sqlite"))
    assert code == 0 and "nothing to compare" in err and not out


def test_effective_report_marks_overrides_and_sums_again():
    entry = graded(report({"2.2.g.a": "failed"}))
    o = Override("2", "a.py", "2.2.g.a", 7.5, "the sheet allowed either sign")
    rep = effective_report(entry, [o])
    check = next(c for c in rep["checks"] if c["id"] == "2.2.g.a")
    assert check["score"] == 7.5 and check["status"] == "failed"
    assert check["override"]["points"] == 7.5 and check["override"]["reason"] == o.reason
    assert rep["score"] == 17.5 and entry.report["score"] == 10.0  # the stored one is unchanged
    assert effective_entry(entry, [o]).score == 17.5
    assert effective_report(Entry("refused", 0, 20), [o]) is None
    gone = Override("2", "a.py", "2.9.gone.x", 1, "spec changed")
    assert effective_report(entry, [gone]) == entry.report
    (warning,) = stale_overrides({"a.py": entry}, [o, gone])
    assert "2.9.gone.x" in warning and "no longer applies" in warning
    (warning,) = stale_overrides({"a.py": Entry("refused", 0, 20)}, [o])
    assert "no graded report (status refused)" in warning


def test_overrides_reach_csv_junit_and_jsonl():
    entry = effective_entry(
        graded(report({"2.2.g.a": "failed"})),
        [Override("2", "a.py", "2.2.g.a", 3, "=cmd partial credit")],
    )
    rows = list(csv.DictReader(csv_text([c[0] for c in CHECKS], {"a.py": entry}).splitlines()))
    assert rows[0]["2.2.g.a"] == "3" and rows[0]["score"] == "13"
    assert rows[0]["overrides"] == "2.2.g.a: 3 points (=cmd partial credit)"
    plain = list(csv.DictReader(csv_text(["2.2.g.a"], {"b.py": graded(report({}))}).splitlines()))
    assert "overrides" not in plain[0]  # no override, no column: the CSV as it always was
    row = ci_formats.report_of_row("a.py", "graded", "", entry.report, "2", 20.0)
    suite = ET.fromstring(ci_formats.junit([row])).find("testsuite")
    outs = [e.text for e in suite.iter("system-out")]
    assert any("overridden by a TA to 3 points: =cmd partial credit" in t for t in outs)
    line = json.loads(ci_formats.jsonl([row]))
    assert line["score"] == 13 and line["checks"][2]["override"]["points"] == 3


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "b.sqlite"
    book = Gradebook(path)
    book.put(key("alice.py"), graded(report({"2.2.g.a": "failed"})))
    book.put(key("erin"), Entry("refused", 0.0, 20.0, "a link"))
    book.close()
    return path


def test_override_records_lists_and_removes(db, capsys, monkeypatch):
    monkeypatch.setenv("USER", "ta-anna")
    args = ("override", "--db", str(db))
    code, _, err = cli_run(capsys, *args, "alice.py", "2.2.g.a", "6", "--reason", "sign only")
    assert code == 0 and "score is now 16 of 20" in err
    monkeypatch.delenv("USER")
    assert cli_run(capsys, *args, "alice.py", "2.1.f.a", "0", "--reason", "copied")[0] == 0
    code, out, _ = cli_run(capsys, *args, "--list", "--format", "json")
    listed = {o["check_id"]: o for o in json.loads(out)}
    assert listed["2.2.g.a"]["by"] == "ta-anna" and listed["2.2.g.a"]["graded"] == 0.0
    assert listed["2.1.f.a"]["by"] == "unknown" and listed["2.1.f.a"]["reason"] == "copied"
    _, out, _ = cli_run(capsys, *args, "--list")
    assert "sign only" in out and "ta-anna" in out
    code, out, _ = cli_run(capsys, "stats", "--db", str(db), "--format", "json")
    assert json.loads(out)["score"]["mean"] == pytest.approx((16 - 4 + 0) / 2)
    assert cli_run(capsys, *args, "--remove", "alice.py", "2.1.f.a")[0] == 0
    code, _, err = cli_run(capsys, *args, "--remove", "alice.py", "2.1.f.a")
    assert code == 2 and "no override of 2.1.f.a" in err
    _, out, _ = cli_run(capsys, *args, "--list", "--format", "json")
    assert [o["check_id"] for o in json.loads(out)] == ["2.2.g.a"]


@pytest.mark.parametrize(
    "argv, fragment",
    [
        (("alice.py", "2.2.g.a", "11", "--reason", "x"), "from 0 to the check's 10 points"),
        (("alice.py", "2.2.g.a", "-1", "--reason", "x"), "from 0 to the check's 10 points"),
        (("alice.py", "2.2.g.a", "nan", "--reason", "x"), "finite"),
        (("alice.py", "2.2.g.a", "ten", "--reason", "x"), "not a number"),
        (("alice.py", "2.2.g.b", "1", "--reason", "x"), "did you mean 2.2.g.a"),
        (("alice.pi", "2.2.g.a", "1", "--reason", "x"), "did you mean alice.py"),
        (("erin", "2.2.g.a", "1", "--reason", "x"), "no graded report (status refused)"),
        (("alice.py", "2.2.g.a", "1", "--reason", "  "), "--reason"),
        (("alice.py", "2.2.g.a", "1", "--reason", "x", "--sheet", "9"), "not of sheet 9"),
    ],
)
def test_bad_overrides_exit_2_and_record_nothing(db, capsys, argv, fragment):
    code, _, err = cli_run(capsys, "override", "--db", str(db), *argv)
    assert code == 2 and fragment in err, err
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM overrides").fetchone() == (0,)
    con.close()


def test_override_of_a_missing_gradebook_creates_nothing(tmp_path, capsys):
    path = tmp_path / "none.sqlite"
    code, _, err = cli_run(capsys, "override", "--db", str(path), "a.py", "c", "1", "--reason", "x")
    assert code == 2 and "no such gradebook" in err and not path.exists()


def dump(db: Path) -> dict[str, list[tuple]]:
    tables = ("grades", "current", "runs", "run_grades", "overrides")
    with sqlite3.connect(db) as con:
        out = {t: sorted(con.execute(f"SELECT * FROM {t}")) for t in tables}
    con.close()
    return out


def test_merge_carries_runs_and_overrides_and_twice_changes_nothing(tmp_path, capsys):
    a = two_runs(tmp_path / "a.sqlite")
    b = tmp_path / "b.sqlite"
    book = Gradebook(b)
    book.put(key("dina.py"), graded(report({})), book.start_run("2", 0, {}, "2/2"))
    book.override(Override("2", "dina.py", "2.1.f.a", 1, "late"))
    book.close()
    out = tmp_path / "out.sqlite"
    assert merge.main([str(a), str(b), "--db", str(out)]) == 0
    merged = dump(out)
    assert len(merged["runs"]) == 3 and len(merged["run_grades"]) == 7
    assert [o[:4] for o in merged["overrides"]] == [("2", "dina.py", "2.1.f.a", 1.0)]
    assert merge.main([str(a), str(b), "--db", str(out)]) == 0
    assert merge.main([str(out), "--db", str(out)]) == 0
    assert dump(out) == merged
    _, stdout, _ = cli_run(capsys, "diff", "--db", str(out), "--format", "json")
    assert {c["submission"] for c in json.loads(stdout)["changed"]} == {"alice.py", "bob.py"}


def test_regrade_keeps_overrides_diff_shows_them_and_exports_use_them(tmp_path):
    """End to end through the CLI: grade, override, swap the files, regrade, diff."""
    subs = tmp_path / "subs"
    subs.mkdir()
    for name in ("partly_wrong.py", "correct.py"):
        shutil.copy(EXAMPLES / "sheet2" / name, subs / name)
    db, grades = tmp_path / "b.sqlite", tmp_path / "g.csv"
    assert run_grade("batch", subs, "--sheet", "2", "--db", db).returncode == 0
    proc = run_grade(
        "override", "--db", db, "partly_wrong.py", "2.2.logcosh.large", "2", "--reason", "ok"
    )
    assert proc.returncode == 0, proc.stderr
    with sqlite3.connect(db) as con:  # a check that a later version of the sheet dropped
        con.execute(
            "INSERT INTO overrides VALUES ('2', 'correct.py', '2.9.gone.x', 1, 'old', 't', 'u')"
        )
    con.close()
    shutil.copy(EXAMPLES / "sheet2" / "correct.py", subs / "partly_wrong.py")
    proc = run_grade("batch", subs, "--sheet", "2", "--db", db, "--csv", grades, "--regrade")
    assert proc.returncode == 0, proc.stderr
    assert "2.9.gone.x for correct.py" in proc.stderr and "no longer applies" in proc.stderr
    rows = {r["submission"]: r for r in csv.DictReader(grades.open())}
    assert rows["partly_wrong.py"]["2.2.logcosh.large"] == "2"  # still applied
    assert rows["partly_wrong.py"]["score"] == "99"
    assert rows["partly_wrong.py"]["overrides"] == "2.2.logcosh.large: 2 points (ok)"
    proc = run_grade("diff", "--db", db, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    (changed,) = json.loads(proc.stdout)["changed"]
    assert (changed["old_score"], changed["new_score"], changed["effective_score"]) == (
        54.0,
        100.0,
        99.0,
    )
    large = next(c for c in changed["checks"] if c["id"] == "2.2.logcosh.large")
    assert large["override"] == {"points": 2.0, "reason": "ok"}
    assert "no longer applies" in proc.stderr
