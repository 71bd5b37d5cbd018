"""``grade batch``: discovery, the gradebook, resuming after an interruption, the CSV."""

from __future__ import annotations

import csv
import json
import re
import shutil
import sqlite3
from pathlib import Path

import nbformat
import pytest

from conftest import EXAMPLES, SHEET2_PARTLY_WRONG_FAILS, run_grade
from grader import batch

SHEET2 = EXAMPLES / "sheet2"
# The example's known mistakes (see test_cli.py), which the CSV must show as zeros.
PARTLY_WRONG_FAILS = SHEET2_PARTLY_WRONG_FAILS
PROGRESS = re.compile(r"^graded \d+/\d+ (\S+) ", re.MULTILINE)


def touch(path: Path, text: str = "x = 1\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def notebook_of(source: str) -> str:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Sheet 2"), nbformat.v4.new_code_cell(source)]
    return nbformat.writes(nb)


def make_class(root: Path) -> Path:
    """Files, a folder per student (nested, notebook named like the sheet), junk to skip."""
    subs = root / "subs"
    subs.mkdir()
    for name in ("correct.py", "partly_wrong.py", "broken.py"):
        shutil.copy(SHEET2 / name, subs / name)
    correct = (SHEET2 / "correct.py").read_text()
    touch(subs / "dora" / "work" / "solution.py", correct)
    touch(subs / "dora" / "__pycache__" / "solution.py")
    touch(subs / "finn" / "Sheet_02.ipynb", notebook_of(correct))
    touch(subs / "finn" / "scratch.py", "raise SystemExit('not this one')\n")
    touch(subs / "finn" / ".ipynb_checkpoints" / "Sheet_02-checkpoint.ipynb", "{}")
    touch(subs / "erin" / "a.py")
    touch(subs / "erin" / "b.py")
    touch(subs / ".hidden.py")
    touch(subs / "README.md", "not a submission")
    return subs


def read_csv(path: Path) -> tuple[list[str], dict[str, dict[str, str]]]:
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    return header, {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}


def graded_now(stderr: str) -> list[str]:
    return sorted(PROGRESS.findall(stderr))


def test_discovery_rules(tmp_path):
    touch(tmp_path / "alice.py")
    touch(tmp_path / "bob.ipynb")
    touch(tmp_path / ".secret.py")
    touch(tmp_path / "notes.txt")
    touch(tmp_path / "__pycache__" / "alice.py")
    touch(tmp_path / "carl" / "deep" / "er" / "mine.py")
    touch(tmp_path / "dina" / "Blatt-02.ipynb")
    touch(tmp_path / "dina" / "sheet12.ipynb")
    touch(tmp_path / "dina" / "index2.py")
    touch(tmp_path / "emil" / "top.py")
    touch(tmp_path / "emil" / "old" / "draft.py")
    touch(tmp_path / "fay" / "sheet2.py")
    touch(tmp_path / "fay" / "sheet2.ipynb")
    touch(tmp_path / "gus" / "a.py")
    touch(tmp_path / "gus" / "b.ipynb")
    (tmp_path / "hal" / ".git").mkdir(parents=True)
    touch(tmp_path / "hal" / ".git" / "hook.py")

    found = {s.id: s for s in batch.discover(tmp_path, "2")}
    assert list(found) == sorted(found)
    assert set(found) == {"alice.py", "bob.ipynb", "carl", "dina", "emil", "fay", "gus", "hal"}
    assert found["carl"].shown == "carl/deep/er/mine.py"
    assert found["dina"].path == tmp_path / "dina" / "Blatt-02.ipynb"
    assert found["emil"].path == tmp_path / "emil" / "top.py"
    assert found["fay"].path == tmp_path / "fay" / "sheet2.ipynb"
    assert found["gus"].path is None and found["gus"].status == "ambiguous"
    assert "a.py" in found["gus"].message and "b.ipynb" in found["gus"].message
    assert found["hal"].path is None and found["hal"].status == "no_submission"


def test_batch_grades_resumes_and_regrades_only_what_changed(tmp_path):
    subs = make_class(tmp_path)
    db, first = tmp_path / "book.sqlite", tmp_path / "first.csv"
    proc = run_grade("batch", subs, "--sheet", "2", "--db", db, "--csv", first, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    gradable = ["broken.py", "correct.py", "dora", "finn", "partly_wrong.py"]
    assert graded_now(proc.stderr) == gradable
    assert "partly_wrong.py" in proc.stdout and "ambiguous" in proc.stdout

    header, rows = read_csv(first)
    assert header[:6] == [
        "submission",
        "score",
        "max_score",
        "status",
        "checks_passed",
        "checks_total",
    ]
    assert list(rows) == sorted([*gradable, "erin"])
    scores = {s: (r["score"], r["status"]) for s, r in rows.items()}
    assert scores == {
        "broken.py": ("0", "not_loaded"),
        "correct.py": ("100", "graded"),
        "dora": ("100", "graded"),
        "finn": ("100", "graded"),
        "partly_wrong.py": ("54", "graded"),
        "erin": ("0", "ambiguous"),
    }
    checks = header[6:]
    assert set(checks) > PARTLY_WRONG_FAILS
    assert {c for c in checks if rows["partly_wrong.py"][c] == "0"} == PARTLY_WRONG_FAILS
    assert rows["partly_wrong.py"]["checks_passed"] == str(len(checks) - len(PARTLY_WRONG_FAILS))
    for row in rows.values():
        assert row["max_score"] == "100" and row["checks_total"] == str(len(checks))
        cells = [float(row[c]) for c in checks if row[c]]
        assert sum(cells) == pytest.approx(float(row["score"]))

    with sqlite3.connect(db) as con:  # an interruption: two grades never got stored
        con.execute("DELETE FROM grades WHERE submission IN ('dora', 'partly_wrong.py')")
        stored = con.execute(
            "SELECT COUNT(*), COUNT(report), MIN(graded_at) FROM grades"
        ).fetchone()
    con.close()
    assert stored[:2] == (4, 3) and stored[2]
    second = tmp_path / "second.csv"
    proc = run_grade("batch", subs, "--sheet", "2", "--db", db, "--csv", second, "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    assert graded_now(proc.stderr) == ["dora", "partly_wrong.py"]
    assert "skipped 4 already graded" in proc.stderr
    assert second.read_bytes() == first.read_bytes()

    with (subs / "correct.py").open("a") as f:
        f.write("\n# resubmitted\n")
    proc = run_grade("batch", subs, "--sheet", "2", "--db", db, "--csv", second, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert graded_now(proc.stderr) == ["correct.py"]
    listing = json.loads(proc.stdout)
    assert [e["submission"] for e in listing] == sorted(rows)
    assert {e["submission"] for e in listing if not e["reused"]} == {"correct.py"}
    assert {e["submission"]: e["score"] for e in listing}["partly_wrong.py"] == 54.0
    assert second.read_bytes() == first.read_bytes()

    fresh = tmp_path / "jobs1.csv"
    proc = run_grade(
        "batch", subs, "--sheet", "2", "--db", tmp_path / "b1.sqlite", "--csv", fresh, "--jobs", "1"
    )
    assert proc.returncode == 0, proc.stderr
    assert fresh.read_bytes() == first.read_bytes()


def test_a_grader_failure_is_a_row_exit_1_and_retried(tmp_path, monkeypatch, capsys):
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SHEET2 / "correct.py", subs / "alice.py")
    args = [str(subs), "--sheet", "2", "--db", str(tmp_path / "b.sqlite"), "--jobs", "1"]
    out = tmp_path / "g.csv"

    def explode(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(batch, "grade_file", explode)
    assert batch.main([*args, "--csv", str(out)]) == 1
    assert "RuntimeError: boom" in capsys.readouterr().err
    assert read_csv(out)[1]["alice.py"]["status"] == "grader_error"

    monkeypatch.undo()
    assert batch.main([*args, "--csv", str(out)]) == 0
    assert graded_now(capsys.readouterr().err) == ["alice.py"]
    assert read_csv(out)[1]["alice.py"]["score"] == "100"


@pytest.mark.parametrize(
    "case, fragment",
    [
        ("missing", "no such folder"),
        ("file", "not a folder"),
        ("empty", "holds no submissions"),
        ("sheet", "unknown sheet"),
        ("jobs", "--jobs"),
        ("csv", "--csv"),
        ("db", "not a gradebook"),
    ],
)
def test_usage_errors_exit_2(tmp_path, case, fragment):
    subs = tmp_path / "subs"
    touch(subs / ".hidden.py")
    touch(subs / "README.md")
    if case != "empty":
        touch(subs / "alice.py")
    target = {"missing": tmp_path / "nope", "file": subs / "alice.py"}.get(case, subs)
    extra = {
        "sheet": ["--sheet", "99"],
        "jobs": ["--jobs", "0"],
        "csv": ["--csv", tmp_path / "no" / "such" / "dir.csv"],
        "db": ["--db", touch(tmp_path / "junk.sqlite", "this is not sqlite " * 100)],
    }.get(case, [])
    proc = run_grade("batch", target, "--sheet", "2", "--db", tmp_path / "b.sqlite", *extra)
    assert proc.returncode == 2, proc.stderr
    assert fragment in proc.stderr
    assert not proc.stdout


def test_a_gradebook_that_fills_up_mid_batch_stops_with_exit_2(tmp_path, monkeypatch, capsys):
    """SQLite's "database or disk is full" (a page cap stands in for the disk): what was
    stored stays, the message says so, no traceback; the next run grades the rest."""
    from grader import gradebook

    subs = tmp_path / "subs"
    for i in range(12):
        touch(subs / f"s{i:02d}.py")
    big = "x" * 60_000  # each result's report takes several pages

    def fake_grade(root, sub, sheet, options):
        entry = batch.Entry("graded", 1.0, 2.0, report={"checks": [], "pad": big}, path=sub.shown)
        return entry, None, batch._sha256((root / sub.shown).read_bytes())

    monkeypatch.setattr(batch, "grade_one", fake_grade)
    original = gradebook.Gradebook._create_or_migrate

    def capped(self):
        original(self)
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages + 40}")

    monkeypatch.setattr(gradebook.Gradebook, "_create_or_migrate", capped)
    db = tmp_path / "b.sqlite"
    args = [str(subs), "--sheet", "2", "--db", str(db), "--jobs", "1"]
    assert batch.main(args) == 2
    err = capsys.readouterr().err
    assert f"cannot write the gradebook {db}: the disk is full" in err
    assert "stopped after" in err and "Traceback" not in err
    with sqlite3.connect(db) as con:
        stored = con.execute("SELECT COUNT(*) FROM grades").fetchone()[0]
    con.close()
    assert 0 < stored < 12

    monkeypatch.setattr(gradebook.Gradebook, "_create_or_migrate", original)
    assert batch.main(args) == 0
    assert len(graded_now(capsys.readouterr().err)) == 12 - stored
