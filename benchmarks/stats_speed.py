"""How fast `grade stats` summarises a course: 1,000 graded submissions, goal under a second.

Grades one real submission (submissions_example/sheet2/partly_wrong.py, whose
report has failed checks, hints and a predict_class figure) with `grade
--format json`, then writes a gradebook of N rows (default 1,000) whose
reports are that report varied: each check passes, fails, errors or times
out with a chance that differs per check, scores follow the status, a failed
check keeps its hint only sometimes, and about one row in forty is a refused
entry without a report. A few TA overrides are recorded too. Then it times

  1. in-process: `grader.stats.main(["--db", ..., "--format", F])`, stdout discarded
  2. the CLI:    `python -m grader stats --db ... --format F` (process start included)

for each format (rich, json, csv) and prints the median of R rounds.

    python benchmarks/stats_speed.py
    python benchmarks/stats_speed.py --students 5000 --rounds 7
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import io
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader import stats  # noqa: E402
from grader.gradebook import Entry, Gradebook, Key, Override  # noqa: E402

EXAMPLE = ROOT / "submissions_example" / "sheet2" / "partly_wrong.py"
GOAL = 1.0  # seconds
FORMATS = ("rich", "json", "csv")


def real_report() -> dict:
    """The JSON report of a real, partly wrong submission, graded now."""
    proc = subprocess.run(
        [sys.executable, "-m", "grader", str(EXAMPLE), "--sheet", "2", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    return json.loads(proc.stdout)


def varied(template: dict, rng: random.Random, hints: dict[str, str]) -> dict:
    """The template with each check's status drawn (a harder check fails more often)."""
    report = copy.deepcopy(template)
    for i, check in enumerate(report["checks"]):
        hard = (i % 7) / 10  # 0 .. 0.6: how often this check goes wrong
        roll = rng.random()
        status = "passed"
        if roll < hard:
            status = "failed"
        elif roll < hard + 0.03:
            status = "error"
        elif roll < hard + 0.04:
            status = "timeout"
        check["status"] = status
        check["score"] = check["max_score"] if status == "passed" else 0.0
        check.pop("hint", None)
        if status != "passed":
            check.pop("figure", None) if rng.random() < 0.5 else None
            if check["function"] in hints and rng.random() < 0.6:
                check["hint"] = hints[check["function"]]
    report["score"] = sum(c["score"] for c in report["checks"])
    return report


def build(path: Path, students: int, seed: int = 1) -> None:
    template = real_report()
    hints = {c["function"]: c["hint"] for c in template["checks"] if c.get("hint")}
    rng = random.Random(seed)
    book = Gradebook(path)
    run = book.start_run("2", 0, {"benchmark": True})
    for i in range(students):
        sub = f"student{i:04d}.py"
        key = Key("2", sub, f"{i:064x}", 0, "benchmark")
        if rng.random() < 0.025:
            entry = Entry("refused", 0.0, template["max_score"], f"{sub} is a symbolic link")
        else:
            report = varied(template, rng, hints)
            report["submission"] = sub
            entry = Entry("graded", report["score"], report["max_score"], "", report, sub, 1.0)
        book.put(key, entry, run)
    check = template["checks"][5]["id"]
    for i in range(0, students, 97):
        book.override(Override("2", f"student{i:04d}.py", check, 1.0, "benchmark override"))
    book.close()


def in_process(db: Path, fmt: str) -> float:
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = stats.main(["--db", str(db), "--format", fmt])
    assert code == 0
    return time.perf_counter() - started


def via_cli(db: Path, fmt: str) -> float:
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "grader", "stats", "--db", str(db), "--format", fmt],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--students", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "course.sqlite"
        started = time.perf_counter()
        build(db, args.students)
        print(
            f"gradebook of {args.students} submissions: {db.stat().st_size / 1e6:.1f} MB, "
            f"built in {time.perf_counter() - started:.1f} s"
        )
        worst = 0.0
        for fmt in FORMATS:
            inside = statistics.median(in_process(db, fmt) for _ in range(args.rounds))
            cli = statistics.median(via_cli(db, fmt) for _ in range(args.rounds))
            worst = max(worst, cli)
            print(
                f"grade stats --format {fmt:<4}  in-process {inside * 1000:6.0f} ms   "
                f"CLI {cli * 1000:6.0f} ms   (median of {args.rounds})"
            )
    verdict = "met" if worst < GOAL else "MISSED"
    print(f"goal: under {GOAL:g} s through the CLI: {verdict} (slowest {worst:.2f} s)")
    return 0 if worst < GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
