"""Shards, ``grade merge``, the gradebook's current rows and metadata, and bad gradebooks."""

from __future__ import annotations

import errno
import io
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from conftest import EXAMPLES, ROOT, run_grade
from grader import batch, cli, gradebook, merge
from grader.batch import Shard, ShardError, parse_shard, shard_from_env, shard_of
from grader.gradebook import Entry, Gradebook, Key

SHEET2 = EXAMPLES / "sheet2"
COMMAND = (sys.executable, "-m", "grader", "batch")


def dump(db: Path) -> dict[str, list[tuple]]:
    """Both tables, sorted: what "changes nothing" compares."""
    with sqlite3.connect(db) as con:
        tables = {t: sorted(con.execute(f"SELECT * FROM {t}")) for t in ("grades", "current")}
    con.close()
    return tables


def book_with(
    path: Path, rows: dict[str, float], sheet: str = "2", seed: int = 0, spec: str = "s1"
):
    """A gradebook holding graded rows (no grading): submission -> score."""
    book = Gradebook(path)
    for sub, score in rows.items():
        book.put(Key(sheet, sub, f"sha-{sub}", seed, spec), Entry("graded", score, 100.0))
    book.close()
    return path


# --- shard selection ---------------------------------------------------------------------


def test_shard_specs():
    assert parse_shard("2/3") == Shard(2, 3)
    assert parse_shard(" 1 / 1 ") == Shard(1, 1)
    assert str(parse_shard("3/3")) == "3/3"
    for bad, fragment in [
        ("3/2", "shard 3 of 2 does not exist"),
        ("0/3", "shard 0 of 3 does not exist"),
        ("0/0", "must be at least 1"),
        ("a/b", "expected I/N"),
        ("2", "expected I/N"),
        ("-1/3", "expected I/N"),
        ("1/3/4", "expected I/N"),
        ("", "expected I/N"),
    ]:
        with pytest.raises(ShardError, match=fragment):
            parse_shard(bad)


@pytest.mark.parametrize("spec", ["3/2", "0/0", "a/b"])
def test_a_bad_shard_is_a_usage_error(tmp_path, capsys, spec):
    (tmp_path / "alice.py").write_text("x = 1\n")
    db = tmp_path / "book.sqlite"
    code = cli.main(["batch", str(tmp_path), "--sheet", "2", "--shard", spec, "--db", str(db)])
    assert code == 2
    assert f"--shard {spec}" in capsys.readouterr().err
    assert not db.exists()


def test_shard_auto_reads_the_ci():
    gitlab = {"CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "4"}
    assert shard_from_env(gitlab) == Shard(2, 4)
    assert shard_from_env({"CI_NODE_TOTAL": "1"}) == Shard(1, 1)  # GitLab without parallel:
    k8s = {"JOB_COMPLETION_INDEX": "0", "GRADE_SHARD_TOTAL": "3"}
    assert shard_from_env(k8s) == Shard(1, 3)  # Kubernetes counts from 0
    assert shard_from_env({"JOB_COMPLETION_INDEX": "2", "JOB_COMPLETIONS": "3"}) == Shard(3, 3)
    assert parse_shard("auto", gitlab) == Shard(2, 4)
    for env, fragment in [
        ({}, "CI_NODE_INDEX and CI_NODE_TOTAL"),
        ({"PATH": "/bin"}, "JOB_COMPLETION_INDEX with GRADE_SHARD_TOTAL"),
        ({"CI_NODE_INDEX": "1"}, "not CI_NODE_TOTAL"),
        ({"CI_NODE_INDEX": "x", "CI_NODE_TOTAL": "2"}, "not a whole number"),
        ({"CI_NODE_INDEX": "0", "CI_NODE_TOTAL": "2"}, "CI_NODE_INDEX=0"),
        ({"JOB_COMPLETION_INDEX": "3", "GRADE_SHARD_TOTAL": "3"}, "counted from 0"),
        ({"JOB_COMPLETION_INDEX": "1"}, "set GRADE_SHARD_TOTAL"),
    ]:
        with pytest.raises(ShardError, match=fragment):
            shard_from_env(env)


def test_auto_without_variables_names_what_it_looked_for(tmp_path):
    (tmp_path / "alice.py").write_text("x = 1\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CI_NODE", "JOB_COMPL"))}
    env.pop("GRADE_SHARD_TOTAL", None)
    proc = subprocess.run(
        [*COMMAND, tmp_path, "--sheet", "2", "--shard", "auto", "--db", tmp_path / "b.sqlite"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    for name in ("CI_NODE_INDEX", "JOB_COMPLETION_INDEX", "GRADE_SHARD_TOTAL", "matrix.shard"):
        assert name in proc.stderr
    assert not (tmp_path / "b.sqlite").exists()


def test_shards_partition_by_id_alone():
    ids = [f"student{i:03d}" for i in range(300)] + ["ünï cödé.ipynb", "a b/"]
    for n in (1, 2, 3, 7):
        shards = [Shard(i, n) for i in range(1, n + 1)]
        for sid in ids:
            assert [s.holds(sid) for s in shards].count(True) == 1
        sizes = [sum(s.holds(sid) for sid in ids) for s in shards]
        assert min(sizes) > len(ids) / n / 2  # a spread, not a pile
    # Pinned: every machine, every Python, every run must agree (no hash()).
    assert [shard_of(s, 3) for s in ("alice.py", "bob", "carl.ipynb")] == [
        shard_of("alice.py", 3),
        shard_of("bob", 3),
        shard_of("carl.ipynb", 3),
    ]
    code = "from grader.batch import shard_of; print([shard_of(f's{i}', 5) for i in range(20)])"
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            cwd=ROOT,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert outs == {str([shard_of(f"s{i}", 5) for i in range(20)]) + "\n"}


# --- three shards merged = one run ---------------------------------------------------------


def make_course(root: Path) -> Path:
    """Graded files, a folder per student, rows without a file: every shard gets some."""
    subs = root / "subs"
    subs.mkdir()
    correct = (SHEET2 / "correct.py").read_text()
    for name in ("correct.py", "partly_wrong.py", "broken.py"):
        shutil.copy(SHEET2 / name, subs / name)
    (subs / "dora").mkdir()
    (subs / "dora" / "sheet2.py").write_text(correct)
    for empty in ("erin", "gil", "hana"):
        (subs / empty).mkdir()
    (subs / "finn").mkdir()
    (subs / "finn" / "a.py").write_text("x = 1\n")
    (subs / "finn" / "b.py").write_text("x = 2\n")
    ids = [s.id for s in batch.discover(subs, "2")]
    for i in (1, 2, 3):
        assert any(Shard(i, 3).holds(s) for s in ids), f"shard {i}/3 would be empty"
    return subs


def test_three_shards_merged_are_one_run(tmp_path):
    subs = make_course(tmp_path)
    one, one_csv = tmp_path / "one.sqlite", tmp_path / "one.csv"
    proc = run_grade("batch", subs, "--sheet", "2", "--db", one, "--csv", one_csv, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    shards = []
    for i in (1, 2, 3):
        shards.append(tmp_path / f"shard{i}.sqlite")
        proc = run_grade("batch", subs, "--sheet", "2", "--shard", f"{i}/3", "--db", shards[-1])
        assert proc.returncode == 0, proc.stderr
        assert f"shard {i}/3: " in proc.stderr
    out, out_csv = tmp_path / "merged.sqlite", tmp_path / "merged.csv"
    jsonl = tmp_path / "merged.jsonl"
    proc = run_grade("merge", *shards, "--db", out, "--csv", out_csv, "--jsonl", jsonl)
    assert proc.returncode == 0, proc.stderr
    assert "8 submissions of sheet 2" in proc.stderr
    assert out_csv.read_bytes() == one_csv.read_bytes()
    assert len(jsonl.read_text().splitlines()) == 8

    def rows(db: Path) -> list[tuple]:  # all but when and how fast it was graded
        with sqlite3.connect(db) as con:
            found = sorted(
                con.execute(
                    "SELECT sheet, submission, sha256, seed, spec, path, status, score, "
                    "max_score, message, grader FROM grades"
                )
            )
        con.close()
        return found

    assert rows(out) == rows(one)
    assert [r[:5] for r in dump(out)["current"]] == [r[:5] for r in dump(one)["current"]]

    merged = dump(out)
    again = tmp_path / "again.csv"
    for inputs in (shards, [out], [*shards, out, shards[0]]):
        proc = run_grade("merge", *inputs, "--db", out, "--csv", again)
        assert proc.returncode == 0, proc.stderr
        assert "(0 new rows)" in proc.stderr
        assert dump(out) == merged
        assert again.read_bytes() == one_csv.read_bytes()


def test_merge_keeps_the_current_version_not_the_newest(tmp_path):
    """A student reverts: the older row is current, in the book and through a merge."""
    path = tmp_path / "a.sqlite"
    book = Gradebook(path)
    v1, v2 = (Key("2", "alice.py", sha, 0, "s1") for sha in ("v1", "v2"))
    book.put(v1, Entry("graded", 40.0, 100.0))
    book.put(v2, Entry("graded", 90.0, 100.0))
    assert book.current_rows("2")["alice.py"].score == 90
    book.mark_current([v1])  # the next run found v1 again and reused its grade
    assert book.current_rows("2")["alice.py"].score == 40
    book.close()
    assert merge.main([str(path), "--db", str(tmp_path / "m.sqlite")]) == 0
    merged = Gradebook(tmp_path / "m.sqlite")
    assert merged.current_rows("2")["alice.py"].score == 40
    assert len(merged.all_rows()) == 2  # the history came along
    merged.close()

    later = book_with(tmp_path / "later.sqlite", {"alice.py": 70.0})  # a later run elsewhere
    assert merge.main([str(later), str(path), "--db", str(tmp_path / "m.sqlite")]) == 0
    merged = Gradebook(tmp_path / "m.sqlite")
    assert merged.current_rows("2")["alice.py"].score == 70
    merged.close()


def test_a_submission_gone_from_the_folder_leaves_the_exports(tmp_path, capsys):
    subs = tmp_path / "subs"
    for name in ("erin", "gil", "hana"):
        (subs / name).mkdir(parents=True)
    db, csv_ = tmp_path / "b.sqlite", tmp_path / "g.csv"
    args = [str(subs), "--sheet", "2", "--db", str(db), "--csv", str(csv_)]
    assert batch.main(args) == 0
    (subs / "gil").rmdir()
    assert batch.main(args) == 0
    assert (
        merge.main([str(db), "--db", str(tmp_path / "m.sqlite"), "--csv", str(tmp_path / "m.csv")])
        == 0
    )
    assert (tmp_path / "m.csv").read_bytes() == csv_.read_bytes()
    assert "gil" not in csv_.read_text()
    assert len(dump(db)["grades"]) == 3  # still in the history


# --- merges that are refused --------------------------------------------------------------


@pytest.mark.parametrize(
    "facet, other, fragment",
    [
        ("sheet", {"sheet": "9"}, "different sheets: "),
        ("spec", {"spec": "s2"}, "different versions of the sheet's checks"),
        ("seed", {"seed": 7}, "different seeds"),
    ],
)
def test_merging_different_courses_is_refused(tmp_path, capsys, facet, other, fragment):
    a = book_with(tmp_path / "a.sqlite", {"alice.py": 10.0})
    b = book_with(tmp_path / "b.sqlite", {"bob.py": 20.0}, **other)
    out = tmp_path / "out.sqlite"
    assert (
        cli.main(["merge", str(a), str(b), "--db", str(out), "--csv", str(tmp_path / "c.csv")]) == 2
    )
    err = capsys.readouterr().err
    assert fragment in err and str(a) in err and str(b) in err
    assert not out.exists() and not (tmp_path / "c.csv").exists()


def test_merging_different_grader_versions_is_refused(tmp_path, monkeypatch, capsys):
    a = book_with(tmp_path / "a.sqlite", {"alice.py": 10.0})
    monkeypatch.setattr(gradebook, "grader_version", lambda: "9.9.9")
    b = book_with(tmp_path / "b.sqlite", {"bob.py": 20.0})
    assert merge.main([str(a), str(b), "--db", str(tmp_path / "out.sqlite")]) == 2
    err = capsys.readouterr().err
    assert (
        "different grader versions" in err and "9.9.9" in err and gradebook.grader_version() in err
    )


def test_merge_exports_need_the_graded_spec(tmp_path, capsys):
    a = book_with(tmp_path / "a.sqlite", {"alice.py": 10.0}, spec="not-this-graders")
    assert (
        merge.main([str(a), "--db", str(tmp_path / "o.sqlite"), "--csv", str(tmp_path / "c.csv")])
        == 2
    )
    assert "different version of sheet 2's checks" in capsys.readouterr().err
    assert merge.main([str(a), "--db", str(tmp_path / "o.sqlite")]) == 0  # no export: fine


# --- bad gradebooks and full disks ----------------------------------------------------------


def test_a_corrupt_gradebook_is_a_clear_usage_error(tmp_path, capsys):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(os.urandom(8192))
    subs = tmp_path / "subs"
    (subs / "erin").mkdir(parents=True)
    assert cli.main(["batch", str(subs), "--sheet", "2", "--db", str(junk)]) == 2
    assert "not a gradebook this grader can use" in capsys.readouterr().err
    good = book_with(tmp_path / "good.sqlite", {"alice.py": 1.0})
    out = tmp_path / "out.sqlite"
    assert cli.main(["merge", str(good), str(junk), "--db", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{junk} is not a gradebook" in err and "Traceback" not in err
    assert not out.exists()
    assert cli.main(["merge", str(good), "--db", str(junk)]) == 2  # nor as the output
    assert "not a gradebook" in capsys.readouterr().err


def test_someone_elses_database_is_left_alone(tmp_path, capsys):
    other = tmp_path / "places.sqlite"
    with sqlite3.connect(other) as con:
        con.execute("CREATE TABLE bookmarks (url TEXT)")
    con.close()
    before = other.read_bytes()
    subs = tmp_path / "subs"
    (subs / "erin").mkdir(parents=True)
    assert cli.main(["batch", str(subs), "--sheet", "2", "--db", str(other)]) == 2
    assert "it has no table `grades`" in capsys.readouterr().err
    assert other.read_bytes() == before


@pytest.fixture
def locked(tmp_path, monkeypatch):
    """A gradebook another process holds an exclusive lock on, and a short wait for it."""
    path = book_with(tmp_path / "locked.sqlite", {"alice.py": 1.0})
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"con = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
            "con.execute('PRAGMA locking_mode=EXCLUSIVE')\n"
            "con.execute('BEGIN EXCLUSIVE')\n"
            "con.execute('UPDATE grades SET score = score')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout.readline() == "locked\n"
    monkeypatch.setattr(gradebook, "LOCK_TIMEOUT", 0.3)
    yield path
    holder.stdin.close()
    holder.wait(timeout=10)


def test_a_locked_gradebook_is_a_clear_usage_error(tmp_path, locked, capsys):
    subs = tmp_path / "subs"
    (subs / "erin").mkdir(parents=True)
    started = time.monotonic()
    assert cli.main(["batch", str(subs), "--sheet", "2", "--db", str(locked)]) == 2
    assert f"the gradebook {locked} is locked by another process" in capsys.readouterr().err
    assert cli.main(["merge", str(locked), "--db", str(tmp_path / "out.sqlite")]) == 2
    assert "is locked by another process" in capsys.readouterr().err
    other = book_with(tmp_path / "other.sqlite", {"bob.py": 1.0})
    assert cli.main(["merge", str(other), "--db", str(locked)]) == 2
    assert "is locked by another process" in capsys.readouterr().err
    assert time.monotonic() - started < 20


def no_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_a_failed_export_leaves_no_partial_file(tmp_path, monkeypatch, capsys):
    """ENOSPC in the middle of writing: exit 2, the old file intact, no temporary file."""
    book = book_with(tmp_path / "b.sqlite", {"alice.py": 1.0}, spec=_spec())
    exports = tmp_path / "exports"
    exports.mkdir()
    old = exports / "grades.csv"
    old.write_text("the previous export\n")

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(gradebook.os, "fsync", full)
    for flag, path in (
        ("--csv", old),
        ("--junit", exports / "g.xml"),
        ("--jsonl", exports / "g.jsonl"),
    ):
        assert merge.main([str(book), "--db", str(tmp_path / "m.sqlite"), flag, str(path)]) == 2
        err = capsys.readouterr().err
        assert f"cannot write {path}: No space left on device" in err
        assert "holds the merge: run the same command again" in err
        assert no_leftovers(exports) == []
    assert old.read_text() == "the previous export\n"
    assert sorted(p.name for p in exports.iterdir()) == ["grades.csv"]

    subs = tmp_path / "subs"
    (subs / "erin").mkdir(parents=True)
    db = tmp_path / "batch.sqlite"
    assert batch.main([str(subs), "--sheet", "2", "--db", str(db), "--csv", str(old)]) == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and f"the grades are stored in {db}" in err
    assert no_leftovers(exports) == [] and old.read_text() == "the previous export\n"
    assert [r[1] for r in dump(db)["current"]] == ["erin"]


def _spec() -> str:
    from grader import sheets

    return gradebook.spec_fingerprint(sheets.load("2"))


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (root only): a real full disk."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    where = tmp_path / "tiny"
    where.mkdir()
    proc = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], capture_output=True
    )
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.decode().strip()}")
    yield where
    subprocess.run(["umount", str(where)], check=True)


def test_a_full_disk_while_exporting(tmp_path, tiny_disk):
    subs = tmp_path / "subs"
    for i in range(400):  # each row carries a report in JSON lines: far more than 64 KiB
        (subs / f"student{i:03d}").mkdir(parents=True)
    db = tmp_path / "b.sqlite"
    jsonl, csv_ = tiny_disk / "grades.jsonl", tiny_disk / "grades.csv"
    proc = run_grade("batch", subs, "--sheet", "2", "--db", db, "--csv", csv_, "--jsonl", jsonl)
    assert proc.returncode == 2, proc.stderr
    assert f"cannot write {jsonl}: No space left on device" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["grades.csv"]  # written before
    proc = run_grade("merge", db, "--db", tmp_path / "m.sqlite", "--junit", tiny_disk / "g.xml")
    assert proc.returncode == 2 and "No space left on device" in proc.stderr
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["grades.csv"]


# --- migration ----------------------------------------------------------------------------

OLD_SCHEMA = """
CREATE TABLE grades (
    sheet TEXT NOT NULL, submission TEXT NOT NULL, sha256 TEXT NOT NULL,
    seed INTEGER NOT NULL, spec TEXT NOT NULL, path TEXT NOT NULL, status TEXT NOT NULL,
    score REAL NOT NULL, max_score REAL NOT NULL, message TEXT NOT NULL, report TEXT,
    seconds REAL NOT NULL, graded_at TEXT NOT NULL,
    PRIMARY KEY (sheet, submission, sha256, seed, spec)
)
"""


def old_book(path: Path) -> Path:
    """A gradebook as the grader wrote them before ``current``, ``meta`` and versions."""
    with sqlite3.connect(path) as con:
        con.execute(OLD_SCHEMA)
        con.executemany(
            "INSERT INTO grades VALUES ('2', ?, ?, 0, ?, '', 'graded', ?, 100, '', NULL, 1, ?)",
            [
                ("alice.py", "v1", _spec(), 30.0, "2026-01-01T10:00:00+00:00"),
                ("alice.py", "v2", _spec(), 80.0, "2026-01-02T10:00:00+00:00"),
                ("bob.py", "v1", _spec(), 50.0, "2026-01-01T11:00:00+00:00"),
            ],
        )
    con.close()
    return path


def test_an_older_gradebook_is_read_as_is_and_migrated_on_write(tmp_path, capsys):
    old = old_book(tmp_path / "old.sqlite")
    before = old.read_bytes()
    out = tmp_path / "m.sqlite"
    assert merge.main([str(old), "--db", str(out), "--csv", str(tmp_path / "m.csv")]) == 0
    assert old.read_bytes() == before  # an input is only read
    merged = Gradebook(out)
    assert {s: e.score for s, e in merged.current_rows("2").items()} == {
        "alice.py": 80.0,  # its newest row: the best guess an old book allows
        "bob.py": 50.0,
    }
    merged.close()
    book = Gradebook(old)  # opened for writing: migrated in place
    assert {s: e.score for s, e in book.current_rows("2").items()} == {"alice.py": 80, "bob.py": 50}
    assert dict(book.db.execute("SELECT key, value FROM meta")) == {"schema": "3"}
    assert {r[-1] for r in book.all_rows()} == {""}  # version unknown, and said so
    book.close()
    new = book_with(tmp_path / "new.sqlite", {"carl.py": 1.0}, spec=_spec())
    assert merge.main([str(old), str(new), "--db", str(tmp_path / "x.sqlite")]) == 2
    assert "unknown (graded before versions were recorded)" in capsys.readouterr().err


# --- progress -----------------------------------------------------------------------------


def test_progress_at_a_terminal_shows_rate_eta_and_tally():
    stream = io.StringIO()
    console = Console(file=stream, force_terminal=True, width=160, color_system=None)
    progress = batch._Progress(4, console=console)
    results = [
        Entry("graded", 100.0, 100.0),
        Entry("graded", 54.0, 100.0),
        Entry("graded", 0.0, 100.0),
        Entry("not_loaded", 0.0, 100.0, "SyntaxError"),
    ]
    for i, entry in enumerate(results):
        progress.graded(f"s{i}.py", entry)
    progress.close()
    shown = stream.getvalue()
    assert "graded 4/4 s3.py 0 (not_loaded)" in shown  # the lines print above the bar
    final = shown.rsplit("\r", 1)[-1]
    assert "4/4" in final and "/s" in final and "ETA 0:00:00" in final
    assert "1 full marks · 1 partial · 1 zero · 1 not loaded" in final


def test_progress_without_a_terminal_is_plain_lines(capsys):
    progress = batch._Progress(2)
    progress.graded("a.py", Entry("graded", 100.0, 100.0))
    progress.graded("\x1b[2Jb.py", Entry("ambiguous", 0.0, 100.0))
    progress.close()
    assert capsys.readouterr().err == (
        "graded 1/2 a.py 100\ngraded 2/2 \\x1b[2Jb.py 0 (ambiguous)\n"
    )


@pytest.mark.skipif(shutil.which("script") is None, reason="needs util-linux script for a pty")
def test_batch_under_a_pseudo_terminal_draws_the_bar(tmp_path):
    subs = tmp_path / "subs"
    (subs / "erin").mkdir(parents=True)
    shutil.copy(SHEET2 / "correct.py", subs / "correct.py")
    command = f"{sys.executable} -m grader batch {subs} --sheet 2 --db {tmp_path / 'b.sqlite'}"
    proc = subprocess.run(
        ["script", "-qefc", command, "/dev/null"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "160"},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", proc.stdout)
    assert "1 full marks · 0 partial · 0 zero · 0 not loaded" in shown
    assert "ETA 0:00:00" in shown and "1/1" in shown


def test_merge_picks_one_sheet_of_a_course_book(tmp_path, capsys):
    course = book_with(tmp_path / "course.sqlite", {"alice.py": 10.0}, spec=_spec())
    book_with(course, {"alice.py": 70.0}, sheet="9")  # the same book, another sheet
    shard = book_with(tmp_path / "shard.sqlite", {"bob.py": 20.0}, spec=_spec())
    out = tmp_path / "out.sqlite"
    assert merge.main([str(course), str(shard), "--db", str(out)]) == 2
    assert "pick one with --sheet" in capsys.readouterr().err
    csv_ = tmp_path / "g.csv"
    assert (
        merge.main([str(course), str(shard), "--db", str(out), "--sheet", "2", "--csv", str(csv_)])
        == 0
    )
    assert [line.split(",")[:2] for line in csv_.read_text().splitlines()[1:]] == [
        ["alice.py", "10"],
        ["bob.py", "20"],
    ]
    assert {r[0] for r in dump(out)["grades"]} == {"2"}
    assert merge.main([str(shard), "--db", str(out), "--sheet", "7"]) == 2
    assert "holds a grade of sheet 7" in capsys.readouterr().err


def test_merge_warns_about_a_missing_shard(tmp_path, capsys):
    subs = tmp_path / "subs"
    for name in ("erin", "gil", "hana", "ivo", "jan"):
        (subs / name).mkdir(parents=True)
    books = []
    for i in (1, 2, 3):
        books.append(str(tmp_path / f"s{i}.sqlite"))
        assert batch.main([str(subs), "--sheet", "2", "--shard", f"{i}/3", "--db", books[-1]]) == 0
    capsys.readouterr()
    assert merge.main([books[0], books[2], "--db", str(tmp_path / "m.sqlite")]) == 0
    assert "warning: no shard 2/3 among these gradebooks" in capsys.readouterr().err
    assert merge.main([*books, "--db", str(tmp_path / "m.sqlite")]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_merge_is_stored_whole_or_not_at_all(tmp_path, monkeypatch, capsys):
    small = book_with(tmp_path / "small.sqlite", {"alice.py": 1.0})
    large = Gradebook(tmp_path / "large.sqlite")
    for i in range(40):
        entry = Entry("graded", 1.0, 2.0, report={"checks": [], "pad": "x" * 19_000})
        large.put(Key("2", f"s{i:02d}.py", "h", 0, "s1"), entry)
    large.close()
    original = Gradebook._create_or_migrate

    def capped(self):
        original(self)
        pages = self.db.execute("PRAGMA page_count").fetchone()[0]
        self.db.execute(f"PRAGMA max_page_count = {pages + 30}")

    monkeypatch.setattr(Gradebook, "_create_or_migrate", capped)
    out = tmp_path / "out.sqlite"
    assert merge.main([str(small), str(tmp_path / "large.sqlite"), "--db", str(out)]) == 2
    assert "the disk is full" in capsys.readouterr().err
    assert dump(out) == {"grades": [], "current": []}


def test_an_empty_file_as_the_output_is_a_new_gradebook(tmp_path):
    out = tmp_path / "out.sqlite"
    out.touch()
    assert merge.main([str(book_with(tmp_path / "a.sqlite", {"a.py": 1.0})), "--db", str(out)]) == 0
    assert [r[1] for r in dump(out)["current"]] == ["a.py"]


def test_the_help_shows_githubs_expression_as_written():
    """The epilog is an f-string: GitHub's ${{ }} must come out with its braces."""
    assert "--shard ${{ matrix.shard }}/N from a matrix" in batch.EPILOG
    assert "${{ matrix.shard }}" in (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
