"""How fast `grade feedback` writes the pages of a course: 300 submissions in under 10 s.

Grades a few real submissions once (sheet 2's correct, partly wrong with its
plane drawing and hints, and broken examples) for realistic reports, then
fills a fresh gradebook with 300 current rows cycling through them under
different submission ids (every tenth row a folder with no submission, every
twentieth a refused link), and times `grade feedback --db
... -o ...` end to end, process start included, into a new folder and again
into the folder it wrote (the rewrite a TA does after a regrade).

    python benchmarks/feedback_speed.py
    python benchmarks/feedback_speed.py --students 600 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.gradebook import Entry, Gradebook, Key  # noqa: E402

GOAL_SECONDS = 10.0
EXAMPLES = ROOT / "submissions_example"
GRADED = [("2", "sheet2/correct.py"), ("2", "sheet2/partly_wrong.py"), ("2", "sheet2/broken.py")]


def grade(sheet: str, path: str) -> dict:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            str(EXAMPLES / path),
            "--sheet",
            sheet,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return json.loads(proc.stdout)


def build_book(db: Path, students: int) -> None:
    reports = [grade(sheet, path) for sheet, path in GRADED]
    book = Gradebook(db)
    for i in range(students):
        sid = f"student{i:03d}"
        key = Key("2", sid, f"{i:064x}", 0, "bench")
        if i % 10 == 9:
            entry = Entry(
                "no_submission", 0.0, 100.0, f"{sid}/ holds no .py or .ipynb file", path=sid
            )
        elif i % 20 == 4:
            entry = Entry("refused", 0.0, 100.0, f"{sid}.py is a symbolic link", path=f"{sid}.py")
        else:
            report = {**reports[i % len(reports)], "submission": f"{sid}.py"}
            status = "not_loaded" if report["load_error"] else "graded"
            entry = Entry(
                status, report["score"], 100.0, report["load_error"] or "", report, f"{sid}.py"
            )
        book.put(key, entry)
    book.close()


def timed(db: Path, out: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "grader", "feedback", "--db", str(db), "-o", str(out)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="feedback-bench-") as tmp:
        db = Path(tmp) / "course.sqlite"
        build_book(db, args.students)
        fresh, again = [], []
        for r in range(args.rounds):
            out = Path(tmp) / f"pages{r}"
            fresh.append(timed(db, out))
            again.append(timed(db, out))
            size = sum(p.stat().st_size for p in out.iterdir())
            shutil.rmtree(out)
    new, rewrite = statistics.median(fresh), statistics.median(again)
    print(f"{args.students} submissions, {args.rounds} rounds (median), pages {size / 1e6:.1f} MB")
    print(f"  grade feedback into a new folder:      {new:6.2f} s")
    print(f"  grade feedback over its own pages:     {rewrite:6.2f} s")
    worst = max(new, rewrite)
    verdict = "meets" if worst < GOAL_SECONDS else "MISSES"
    print(f"  {verdict} the goal of under {GOAL_SECONDS:g} s")
    return 0 if worst < GOAL_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
