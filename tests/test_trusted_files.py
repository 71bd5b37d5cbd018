"""What the grader opens: only regular files reached without a symlink, in grade and batch.

Every hostile folder is built here in tmp_path: links to the reference, to a
classmate and to a secret, FIFOs, devices, a sparse 1.5 GiB notebook, a folder
nested 1,100 deep and one of 10,000 files. The batch must grade everyone else,
give each of these a short row of its own, and never hang (subprocess timeout).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest

from conftest import EXAMPLES, ROOT, run_grade
from grader import batch

SHEET2 = EXAMPLES / "sheet2"
REFERENCE = ROOT / "reference" / "sheet2.py"
SECRET = "TOKEN-7f3a9c-do-not-print"
MAX_MESSAGE = 400  # a row's message stays short, whatever the folder holds


def rows_of(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return {row["submission"]: row for row in csv.DictReader(f)}


def messages(db: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(db) as con:
        found = con.execute("SELECT submission, status, message FROM grades").fetchall()
    con.close()
    return {s: (status, message) for s, status, message in found}


def nest(top: Path, depth: int) -> None:
    """``top/d/d/.../d/sheet2.py``, ``depth`` folders deep, built by descriptor (no long paths)."""
    top.mkdir()
    fd = os.open(top, os.O_RDONLY | os.O_DIRECTORY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        child = os.open("d", os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        os.close(fd)
        fd = child
    os.close(os.open("sheet2.py", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd))
    os.close(fd)


def unnest(top: Path) -> None:
    """Remove what ``nest`` built by lifting the chain a level at a time.

    ``shutil.rmtree`` recurses once per level before Python 3.12, so it cannot.
    """
    while (top / "d").is_dir():
        for name in os.listdir(top / "d"):
            os.rename(top / "d" / name, top / f"up-{name}")
        os.rmdir(top / "d")
        if (top / "up-d").is_dir():
            os.rename(top / "up-d", top / "d")
    shutil.rmtree(top)


@pytest.fixture
def hostile_class(tmp_path):
    """Two honest students and one of each hostile entry."""
    subs = tmp_path / "subs"
    subs.mkdir()
    shutil.copy(SHEET2 / "correct.py", subs / "honest.py")
    (subs / "alice").mkdir()
    shutil.copy(SHEET2 / "correct.py", subs / "alice" / "sheet2.py")
    (subs / "ref.py").symlink_to(REFERENCE)
    (subs / "bob").symlink_to(REFERENCE.parent, target_is_directory=True)
    (subs / "mallory").mkdir()
    (subs / "mallory" / "sheet2.py").symlink_to(Path("..") / "alice" / "sheet2.py")
    (tmp_path / ".token").write_text(f"{SECRET}\n")
    (subs / "eve").mkdir()
    (subs / "eve" / "sheet2.py").symlink_to(tmp_path / ".token")
    (subs / "fifo").mkdir()
    os.mkfifo(subs / "fifo" / "sheet2.py")
    os.mkfifo(subs / "pipe.py")
    (subs / "zero").mkdir()
    (subs / "zero" / "sheet2.ipynb").symlink_to("/dev/zero")
    (subs / "sparse").mkdir()
    with (subs / "sparse" / "sheet2.ipynb").open("wb") as f:
        f.truncate(3 << 29)  # 1.5 GiB of holes: nothing on disk, everything to read
    (subs / "broken").mkdir()
    (subs / "broken" / "sheet2.py").symlink_to(tmp_path / "nowhere.py")
    (subs / "linked").mkdir()
    (subs / "linked" / "work").symlink_to(REFERENCE.parent, target_is_directory=True)
    nest(subs / "deep", 1100)
    (subs / "many").mkdir()
    for i in range(10_000):
        (subs / "many" / f"f{i:05d}.py").write_text("x = 1\n")
    yield subs
    unnest(subs / "deep")


def test_a_hostile_class_is_graded_with_a_short_row_for_each_entry(tmp_path, hostile_class):
    db, out = tmp_path / "book.sqlite", tmp_path / "grades.csv"
    args = ("batch", hostile_class, "--sheet", "2", "--db", db, "--csv", out, "--jobs", "2")
    proc = run_grade(*args, timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = rows_of(out)
    statuses = {s: r["status"] for s, r in rows.items()}
    assert statuses == {
        "honest.py": "graded",
        "alice": "graded",
        "ref.py": "refused",
        "bob": "refused",
        "mallory": "refused",
        "eve": "refused",
        "fifo": "refused",
        "pipe.py": "refused",
        "zero": "refused",
        "sparse": "refused",
        "broken": "refused",
        "linked": "refused",
        "deep": "refused",
        "many": "ambiguous",
    }
    assert rows["honest.py"]["score"] == rows["alice"]["score"] == "100"
    assert all(r["score"] == "0" for s, r in rows.items() if r["status"] != "graded")

    why = messages(db)
    assert all(len(message) <= MAX_MESSAGE for _, message in why.values()), why
    expected = {
        "ref.py": "ref.py is a symbolic link",
        "bob": "bob is a symbolic link",
        "mallory": "mallory/sheet2.py is a symbolic link",
        "eve": "eve/sheet2.py is a symbolic link",
        "fifo": "fifo/sheet2.py is a FIFO",
        "pipe.py": "pipe.py is a FIFO",
        "zero": "zero/sheet2.ipynb is a symbolic link",
        "sparse": "sparse/sheet2.ipynb is 1536 MiB; the limit is 200 MiB",
        "broken": "broken/sheet2.py is a symbolic link",
        "linked": "not looked into: work (a symbolic link)",
        "deep": f"more than {batch.MAX_DEPTH} levels deep",
        "many": "and 9,995 more",
    }
    for submission, fragment in expected.items():
        assert fragment in why[submission][1], (submission, why[submission])
    everything = proc.stdout + proc.stderr + out.read_text() + db.read_bytes().decode("latin-1")
    assert SECRET not in everything

    again = run_grade(*args, timeout=240)  # nothing changed: every row is reused
    assert again.returncode == 0, again.stderr[-3000:]
    assert "graded 0, reused 14" in again.stderr
    assert rows_of(out) == rows


def test_a_device_node_is_never_opened(tmp_path):
    subs = tmp_path / "subs"
    (subs / "dev").mkdir(parents=True)
    shutil.copy(SHEET2 / "correct.py", subs / "honest.py")
    try:
        os.mknod(subs / "dev" / "sheet2.py", stat.S_IFCHR | 0o644, os.makedev(1, 5))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here ({exc.strerror}): needs root and mknod")
    found = {s.id: s for s in batch.discover(subs, "2")}
    assert found["dev"].status == "refused"
    assert "dev/sheet2.py is a character device" in found["dev"].message
    out = tmp_path / "g.csv"
    proc = run_grade("batch", subs, "--sheet", "2", "--db", tmp_path / "b.sqlite", "--csv", out)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert {s: r["status"] for s, r in rows_of(out).items()} == {
        "honest.py": "graded",
        "dev": "refused",
    }


def test_a_file_swapped_during_the_batch_is_keyed_by_what_was_graded(tmp_path, monkeypatch):
    """Swapping in a classmate's file while the batch runs must not leave its grade on yours."""
    subs = tmp_path / "subs"
    subs.mkdir()
    mine = subs / "mallory.py"
    shutil.copy(SHEET2 / "partly_wrong.py", mine)
    theirs = (SHEET2 / "correct.py").read_bytes()
    db = tmp_path / "b.sqlite"
    args = [str(subs), "--sheet", "2", "--db", str(db), "--jobs", "1", "--format", "json"]
    real = batch.verified_isolation

    def swap_after_the_hashing_pass():  # called between the hashing pass and the grading
        mine.write_bytes(theirs)
        return real()

    monkeypatch.setattr(batch, "verified_isolation", swap_after_the_hashing_pass)
    assert batch.main(args) == 0
    with sqlite3.connect(db) as con:
        stored = con.execute("SELECT sha256, score FROM grades").fetchall()
    con.close()
    assert stored == [(hashlib.sha256(theirs).hexdigest(), 100.0)]

    monkeypatch.undo()
    shutil.copy(SHEET2 / "partly_wrong.py", mine)  # swapped back: graded for what it is
    assert batch.main(args) == 0
    with sqlite3.connect(db) as con:
        score = con.execute(
            "SELECT score FROM grades WHERE sha256 = ?",
            (hashlib.sha256(mine.read_bytes()).hexdigest(),),
        ).fetchone()
    con.close()
    assert score == (54.0,)


def test_grade_file_refuses_a_symlink_unless_told_to_follow(tmp_path):
    link = tmp_path / "sheet2.py"
    link.symlink_to(REFERENCE)
    proc = run_grade(link, "--sheet", "2", "--format", "json", timeout=120)
    assert proc.returncode == 2 and not proc.stdout
    assert "is a symbolic link" in proc.stderr and "--follow-symlinks" in proc.stderr

    proc = run_grade(link, "--sheet", "2", "--format", "json", "--follow-symlinks", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"score": 100.0' in proc.stdout


def test_grade_file_refuses_a_path_through_a_linked_folder(tmp_path):
    (tmp_path / "bob").symlink_to(REFERENCE.parent, target_is_directory=True)
    proc = run_grade(tmp_path / "bob" / "sheet2.py", "--sheet", "2", timeout=120)
    assert proc.returncode == 2
    assert "bob is a symbolic link" in proc.stderr


@pytest.mark.parametrize("follow", [[], ["--follow-symlinks"]])
def test_grade_file_refuses_a_fifo_without_hanging(tmp_path, follow):
    os.mkfifo(tmp_path / "pipe.py")
    proc = run_grade(tmp_path / "pipe.py", "--sheet", "2", *follow, timeout=60)
    assert proc.returncode == 2
    assert "FIFO" in proc.stderr


def test_grade_file_never_shows_a_linked_secret(tmp_path):
    (tmp_path / ".token").write_text(f"{SECRET}\n")
    (tmp_path / "sheet2.py").symlink_to(tmp_path / ".token")
    proc = run_grade(tmp_path / "sheet2.py", "--sheet", "2", "--format", "json", timeout=120)
    assert proc.returncode == 2
    assert SECRET not in proc.stdout + proc.stderr


def test_the_flag_is_documented():
    proc = run_grade("--help", timeout=60)
    assert "--follow-symlinks" in proc.stdout
    assert "a folder directly in / that is a link owned by root" in " ".join(proc.stdout.split())
    proc = run_grade("batch", "--help", timeout=60)
    assert "refused" in proc.stdout and "symbolic link" in proc.stdout


def test_a_folder_over_the_entry_budget_is_refused_unread(tmp_path, monkeypatch):
    monkeypatch.setattr(batch, "MAX_ENTRIES", 50)
    (tmp_path / "wide" / "data").mkdir(parents=True)
    (tmp_path / "wide" / "sheet2.py").write_text("x = 1\n")
    for i in range(60):
        (tmp_path / "wide" / "data" / f"{i}.png").write_bytes(b"")
    (tmp_path / "fine").mkdir()
    (tmp_path / "fine" / "sheet2.py").write_text("x = 1\n")
    found = {s.id: s for s in batch.discover(tmp_path, "2")}
    assert found["wide"].status == "refused" and "more than 50 entries" in found["wide"].message
    assert found["fine"].status == "graded"


def test_a_link_named_like_the_sheet_is_refused_beside_a_regular_draft(tmp_path):
    (tmp_path / "alice").mkdir()
    (tmp_path / "alice" / "sheet2.py").write_text("x = 1\n")
    (tmp_path / "mallory").mkdir()
    (tmp_path / "mallory" / "draft.py").write_text("x = 1\n")
    (tmp_path / "mallory" / "sheet2.py").symlink_to(tmp_path / "alice" / "sheet2.py")
    found = {s.id: s for s in batch.discover(tmp_path, "2")}
    assert found["mallory"].status == "refused" and found["mallory"].path is None
    assert (
        found["mallory"].message == "mallory/sheet2.py is a symbolic link: links are not followed"
    )


def test_depth_limits_where_the_walk_looks_not_what_it_grades(tmp_path):
    nest(tmp_path / "shallow", batch.MAX_DEPTH)
    nest(tmp_path / "top", batch.MAX_DEPTH + 5)
    (tmp_path / "top" / "sheet2.py").write_text("x = 1\n")
    try:
        found = {s.id: s for s in batch.discover(tmp_path, "2")}
    finally:
        unnest(tmp_path / "shallow")
        unnest(tmp_path / "top")
    assert found["shallow"].status == "graded"
    assert found["shallow"].parts == ("shallow", *["d"] * batch.MAX_DEPTH, "sheet2.py")
    assert found["top"].status == "graded" and found["top"].shown == "top/sheet2.py"


def test_batch_opens_dir_through_a_linked_path_but_follows_no_link_inside(tmp_path):
    """DIR is the TA's own path, opened as given (macOS's /tmp/subs works); nothing in it is
    followed, not even a root-owned link in a root-owned folder, which ``grade FILE`` would
    follow directly in the filesystem root."""
    real = tmp_path / "private" / "subs"
    real.mkdir(parents=True)
    real.chmod(0o755)
    (tmp_path / "tmp").symlink_to("private", target_is_directory=True)
    shutil.copy(SHEET2 / "correct.py", real / "honest.py")
    (real / "alice").mkdir()
    shutil.copy(SHEET2 / "correct.py", real / "alice" / "sheet2.py")
    (real / "linked").symlink_to("alice", target_is_directory=True)
    root = tmp_path / "tmp" / "subs"
    found = {s.id: s for s in batch.discover(root, "2")}
    assert {s: f.status for s, f in found.items() if f.path is None} == {"linked": "refused"}
    expected = hashlib.sha256((SHEET2 / "correct.py").read_bytes()).hexdigest()
    assert batch._fingerprint(root, found["honest.py"])[1] == expected
    assert batch._fingerprint(root, found["alice"])[1] == expected


@pytest.mark.skipif(
    not os.path.islink("/lib") or os.readlink("/lib") != "usr/lib" or os.name != "posix",
    reason="needs a merged-/usr system: /lib -> usr/lib",
)
def test_grade_file_follows_a_root_link_in_the_real_root(tmp_path):
    """/lib/../.. is / through the system's own root link, as /tmp is on macOS."""
    shutil.copy(SHEET2 / "correct.py", tmp_path / "sheet2.py")
    through = Path("/lib/../..", *tmp_path.parts[1:], "sheet2.py")
    proc = run_grade(through, "--sheet", "2", "--format", "json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"score": 100.0' in proc.stdout
    (tmp_path / "bob").symlink_to(tmp_path, target_is_directory=True)
    proc = run_grade(through.parent / "bob" / "sheet2.py", "--sheet", "2", timeout=120)
    assert proc.returncode == 2 and "bob is a symbolic link" in proc.stderr


def test_hostile_names_that_are_not_utf8_are_graded_like_any_other(tmp_path):
    """A zip made on another system gives names in Latin-1 or CP437, undecodable as UTF-8.

    Python hands them over with lone surrogates, which SQLite, JSON and the
    terminal refuse: the whole batch used to stop with an internal error. Each
    is graded under its name with the odd bytes written as ``\\xNN``.
    """
    subs = tmp_path / "subs"
    subs.mkdir()
    raw = os.fsencode(subs)
    shutil.copy(SHEET2 / "correct.py", raw + b"/Jos\xe9.py")
    os.mkdir(raw + b"/M\xfcller")
    shutil.copy(SHEET2 / "correct.py", raw + b"/M\xfcller/sheet2.py")
    os.mkdir(raw + b"/n\xf6rd")
    shutil.copy(SHEET2 / "correct.py", raw + b"/n\xf6rd/\xdcbung2.py")
    os.mkdir(raw + b"/linker")
    os.symlink(REFERENCE, raw + b"/linker/\xe9t\xe9.py")
    shutil.copy(SHEET2 / "correct.py", subs / "honest.py")
    db, out, jsonl = tmp_path / "book.sqlite", tmp_path / "grades.csv", tmp_path / "all.jsonl"
    args = ("batch", subs, "--sheet", "2", "--db", db, "--csv", out, "--jsonl", jsonl)
    proc = run_grade(*args, "--format", "json", timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = rows_of(out)
    assert set(rows) == {"Jos\\xe9.py", "M\\xfcller", "n\\xf6rd", "linker", "honest.py"}
    status, message = messages(db)[rows.pop("linker")["submission"]]
    assert status == "refused" and "\\xe9t\\xe9.py" in message, message
    assert {r["score"] for r in rows.values()} == {"100"}, rows
    reports = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert {r["submission_id"]: r["submission"] for r in reports}["n\\xf6rd"] == (
        "n\\xf6rd/\\xdcbung2.py"
    )
    again = run_grade(*args, timeout=240)  # reused from the gradebook by the same ids
    assert again.returncode == 0, again.stderr[-3000:]
    assert "reused 5" in again.stderr


def test_hostile_gradescope_reads_an_upload_as_batch_reads_a_folder(tmp_path):
    """run_autograder walked the upload without a budget: a folder nested 1,100 deep stopped
    it with a RecursionError (Python < 3.12) and left Gradescope no results.json."""
    root = tmp_path / "autograder"
    root.mkdir()
    nest(root / "submission", 1100)
    shutil.copy(SHEET2 / "correct.py", root / "submission" / "sheet2.py")
    (tmp_path / "deep").mkdir()
    nest(tmp_path / "deep" / "submission", 1100)  # nothing within reach but the deep file
    try:
        graded = run_grade("gradescope", "--run", "--root", root, "--sheet", "2", timeout=240)
        deep = run_grade("gradescope", "--run", "--root", tmp_path / "deep", "--sheet", "2")
    finally:
        unnest(root / "submission")
        unnest(tmp_path / "deep" / "submission")
    assert graded.returncode == 0, graded.stderr[-3000:]
    assert json.loads((root / "results" / "results.json").read_text())["score"] == 100.0
    assert deep.returncode == 0, deep.stderr[-3000:]
    results = json.loads((tmp_path / "deep" / "results" / "results.json").read_text())
    assert results["score"] == 0.0 and "levels deep not looked into" in results["output"]


def test_hostile_a_name_that_is_not_utf8_never_takes_another_entrys_id(tmp_path):
    """Latin-1 ``café.py`` is shown as ``caf\\xe9.py``, which is also a name one can give a
    file: under one id the two rows overwrote each other, and one grade was lost."""
    shutil.copy(SHEET2 / "correct.py", tmp_path / "caf\\xe9.py")
    shutil.copy(SHEET2 / "broken.py", os.fsencode(tmp_path) + b"/caf\xe9.py")
    os.mkdir(os.fsencode(tmp_path) + b"/M\xfcller")  # and a folder that collides with nothing
    found = {s.id: s for s in batch.discover(tmp_path, "2")}
    assert len(found) == 3, sorted(found)
    assert found["caf\\xe9.py"].path == tmp_path / "caf\\xe9.py"  # the name as it is on disk
    assert "M\\xfcller" in found
