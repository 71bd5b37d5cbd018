"""``grade stats``: per check, per exercise and per mistake, from the gradebook; CSV, JSON, SVG."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from grader import cli, stats
from grader.gradebook import Entry, Gradebook, Key, Override

CHECKS = [  # (id, exercise, function, max_score)
    ("2.1.f.a", "1", "f", 4.0),
    ("2.1.f.b", "1", "f", 6.0),
    ("2.2.g.a", "2", "g", 10.0),
]
HINT = "E is the mean over the N points: divide the summed gradient by N."


def report(statuses: dict[str, str], hints: dict[str, str] | None = None) -> dict:
    """A report like the grader's: a check passed scores its points, any other status 0."""
    hints = hints or {}
    checks = []
    for cid, exercise, function, top in CHECKS:
        status = statuses.get(cid, "passed")
        check = {
            "id": cid,
            "exercise": exercise,
            "function": function,
            "status": status,
            "score": top if status == "passed" else 0.0,
            "max_score": top,
            "message": "",
        }
        if cid in hints:
            check["hint"] = hints[cid]
        checks.append(check)
    score = sum(c["score"] for c in checks)
    return {"sheet": "2", "submission": "x", "score": score, "max_score": 20.0, "checks": checks}


def put(book: Gradebook, sub: str, rep: dict | None, status: str = "graded", run=None) -> None:
    score = rep["score"] if rep else 0.0
    book.put(Key("2", sub, f"sha-{sub}", 0, "spec"), Entry(status, score, 20.0, "", rep), run)


@pytest.fixture
def book_path(tmp_path: Path) -> Path:
    path = tmp_path / "book.sqlite"
    book = Gradebook(path)
    put(book, "alice.py", report({}))
    put(book, "bob.py", report({"2.2.g.a": "failed"}, {"2.2.g.a": HINT}))
    # one mistake in two checks counts once for the submission
    put(book, "carl.py", report({"2.2.g.a": "failed", "2.1.f.b": "failed"},
                                {"2.2.g.a": HINT, "2.1.f.b": HINT}))  # fmt: skip
    put(book, "dina.py", report({"2.1.f.a": "timeout", "2.1.f.b": "error"}))
    put(book, "erin", None, status="refused")
    book.close()
    return path


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = cli.main(["stats", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_json_counts_checks_exercises_and_mistakes(book_path, capsys):
    code, out, _ = run(capsys, "--db", str(book_path), "--sheet", "2", "--format", "json")
    assert code == 0
    data = json.loads(out)
    checks = {c["id"]: c for c in data["checks"]}
    expected = {
        "passed": 2, "failed": 2, "error": 0, "timeout": 0, "pass_rate": 0.5,
        "points_lost": 20.0, "not_graded": 1,
    }  # fmt: skip
    assert {k: checks["2.2.g.a"][k] for k in expected} == expected
    assert checks["2.1.f.a"]["timeout"] == 1 and checks["2.1.f.a"]["pass_rate"] == 0.75
    assert checks["2.1.f.b"]["error"] == 1 and checks["2.1.f.b"]["failed"] == 1
    # the check that cost the class most comes first
    assert [c["id"] for c in data["checks"]] == ["2.2.g.a", "2.1.f.b", "2.1.f.a"]
    exercises = {e["id"]: e for e in data["exercises"]}
    # exercise 1 scores: alice 10, bob 10, carl 4, dina 0, erin (not graded) 0
    assert exercises["1"]["max_score"] == 10.0
    assert exercises["1"]["mean"] == pytest.approx(24 / 5)
    assert exercises["1"]["median"] == 4.0
    assert sum(b["count"] for b in exercises["1"]["histogram"]) == 5
    assert exercises["1"]["histogram"][-1]["count"] == 2  # full marks land in the last bar
    assert data["mistakes"] == [
        {"function": "g", "hint": HINT, "count": 2, "checks": ["2.2.g.a"]},
        {"function": "f", "hint": HINT, "count": 1, "checks": ["2.1.f.b"]},
    ]
    assert data["submissions"] == 5 and data["statuses"] == {"graded": 4, "refused": 1}
    assert data["score"]["max_score"] == 20.0


def test_overrides_count_in_the_stats(book_path, capsys):
    book = Gradebook(book_path)
    book.override(Override("2", "bob.py", "2.2.g.a", 10, "the sheet's text was ambiguous"))
    book.close()
    _, out, _ = run(capsys, "--db", str(book_path), "--format", "json")
    g = next(c for c in json.loads(out)["checks"] if c["id"] == "2.2.g.a")
    assert g["points_lost"] == 10.0 and g["overridden"] == 1


def test_csv_holds_the_same_data_and_no_formula(tmp_path, capsys):
    path = tmp_path / "book.sqlite"
    book = Gradebook(path)
    put(book, "a.py", report({"2.1.f.a": "failed"}, {"2.1.f.a": '=HYPERLINK("http://x")'}))
    book.close()
    code, out, _ = run(capsys, "--db", str(path), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    sections = {r["section"] for r in rows}
    assert sections == {"check", "exercise", "sheet", "histogram", "mistake"}
    mistake = next(r for r in rows if r["section"] == "mistake")
    assert mistake["hint"].startswith("'=") and mistake["count"] == "1"
    check = next(r for r in rows if r["id"] == "2.1.f.a")
    assert (check["failed"], check["pass_rate"], check["points_lost"]) == ("1", "0", "4")


def test_plot_is_valid_svg_with_escaped_text(tmp_path, capsys):
    path = tmp_path / "book.sqlite"
    book = Gradebook(path)
    rep = report({})
    for c in rep["checks"]:
        c["exercise"] = '<b>&"\x1b[2J'  # an exercise id from a (hand-made) report
    put(book, "a.py", rep)
    book.close()
    svg = tmp_path / "plot.svg"
    code, _, err = run(capsys, "--db", str(path), "--plot", str(svg), "--format", "json")
    assert code == 0 and f"wrote {svg}" in err
    text = svg.read_text()
    root = ET.fromstring(text.encode())  # well-formed XML
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert "\x1b" not in text and "<b>" not in text
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert '<b>&"\\x1b[2J' in "".join(labels)  # escaped visibly, read back as text
    assert sum(1 for _ in root.iter("{http://www.w3.org/2000/svg}rect")) == 1 + 2 * stats.BINS


def test_rich_output_shows_tables_histograms_and_escapes(book_path, capsys):
    book = Gradebook(book_path)
    put(book, "evil.py", report({"2.1.f.a": "failed"}, {"2.1.f.a": "\x1b]52;c;cHdu\x07 copy"}))
    book.close()
    code, out, _ = run(capsys, "--db", str(book_path))
    assert code == 0
    assert "\x1b]52" not in out and "\\x1b]52" in out
    assert "Checks, the hardest first" in out and "█" in out and "Known mistakes" in out
    assert out.index("2.2.g.a") < out.index("2.1.f.a")


def test_histogram_lines_scale_in_eighths():
    bars = [{"from": 0.0, "to": 5.0, "count": 1}, {"from": 5.0, "to": 10.0, "count": 16}]
    lines = stats.histogram_lines(bars, width=4)
    assert lines == [" 0–5 │▎ 1", "5–10 │████ 16"]
    assert stats.histogram_lines([{"from": 0.0, "to": 1.0, "count": 0}]) == ["0–1 │ 0"]


@pytest.mark.parametrize("case", ["missing", "other_sheet", "empty", "corrupt", "foreign"])
def test_bad_gradebooks_exit_2(tmp_path, capsys, book_path, case):
    path = tmp_path / "x.sqlite"
    sheet = "2"
    if case == "other_sheet":
        path, sheet = book_path, "9"
    elif case == "empty":
        Gradebook(path).close()
    elif case == "corrupt":
        path.write_bytes(b"SQLite format 3\x00" + b"\xff" * 2000)
    elif case == "foreign":
        with sqlite3.connect(path) as con:
            con.execute("CREATE TABLE songs (title TEXT)")
        con.close()
    before = path.read_bytes() if path.exists() else None
    code, out, err = run(capsys, "--db", str(path), "--sheet", sheet)
    assert code == 2 and not out
    expected = {
        "missing": "no such gradebook",
        "other_sheet": "holds grades of sheet 2, not of sheet 9",
        "empty": "holds no grades yet",
        "corrupt": "not a gradebook",
        "foreign": "not a gradebook",
    }[case]
    assert expected in err and "Traceback" not in err
    assert (path.read_bytes() if path.exists() else None) == before  # read only, never made


def test_speed_of_a_large_course(tmp_path, capsys):
    """A course of 1,000 graded submissions is summarised well within a second."""
    import time

    path = tmp_path / "big.sqlite"
    book = Gradebook(path)
    with book.db:
        for i in range(1000):
            statuses = {"2.2.g.a": "failed"} if i % 3 else {}
            rep = report(statuses, {"2.2.g.a": HINT} if i % 3 else {})
            book.db.execute(
                "INSERT INTO grades VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                ("2", f"s{i}", "h", 0, "spec", "", "graded", rep["score"], 20.0, "",
                 json.dumps(rep), 0.0, "t", ""),
            )  # fmt: skip
            book.db.execute(
                "INSERT INTO current VALUES (?,?,?,?,?,?)", ("2", f"s{i}", "h", 0, "spec", "t")
            )
    book.close()
    started = time.perf_counter()
    code, out, _ = run(capsys, "--db", str(path), "--format", "json")
    assert code == 0 and json.loads(out)["submissions"] == 1000
    assert time.perf_counter() - started < 1.0


def test_brief_rows_leave_out_what_stats_never_show(tmp_path):
    """Making a figure or message safe is most of reading a book: stats read them brief."""
    path = tmp_path / "book.sqlite"
    book = Gradebook(path)
    rep = report({"2.1.f.a": "failed"}, {"2.1.f.a": HINT})
    rep["checks"][0] |= {"figure": "✗✗✗✗✗✗\n" * 50, "description": "d"}
    rep["notes"] = ["a cell failed"]
    put(book, "a.py", rep)
    full, brief = book.current_rows("2")["a.py"], book.current_rows("2", brief=True)["a.py"]
    book.close()
    assert "figure" in full.report["checks"][0] and "notes" in full.report
    check = brief.report["checks"][0]
    assert not {"figure", "message", "description"} & set(check) and "notes" not in brief.report
    assert (check["id"], check["status"], check["hint"], check["score"]) == (
        "2.1.f.a", "failed", HINT, 0.0,
    )  # fmt: skip
    assert brief.score == full.score
