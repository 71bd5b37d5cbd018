"""How fast `grade batch` grades a course: one job against two, and shards against one run.

Builds a course of mixed submissions for sheet 2 in a temporary folder (by
default 62: correct modules and notebooks, float32 ones, partly wrong and
broken ones, a third that import torch, and two whose `logcosh` hangs until
the per-call limit), then times, in one run and each into a fresh gradebook:

  1. `grade batch --jobs 1`                      submissions per second
  2. `grade batch --jobs 2`                      and the speed-up over 1 (goal >= 1.8x)
  3. `grade batch --shard I/3` for I = 1, 2, 3 one after another (each --jobs 2),
     then `grade merge` of the three: the total against 2 (goal within 10 %),
     and the merged CSV must equal run 2's byte for byte.

With --rounds R the three are run R times, interleaved, and medians printed.

Wall times include everything a TA waits for (process start, the sandbox,
writing the CSV). `--timeout` (default 2 s) bounds the hanging submissions.

    python benchmarks/batch_speed.py
    python benchmarks/batch_speed.py --students 120 --timeout 3 --rounds 3
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.batch import Shard, discover  # noqa: E402

SHEET2 = ROOT / "submissions_example" / "sheet2"
GOAL_SPEEDUP, GOAL_SHARD_OVERHEAD = 1.8, 0.10
HANG = "\n\ndef logcosh(y, t):  # hangs: costs one per-call limit, then its checks time out\n"
HANG += "    while True:\n        pass\n"
# ENV as a TA's shell has it: bytecode caches written once and used after.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def build_course(root: Path, students: int) -> dict[str, int]:
    """``students`` submissions, mixed as in a real course; returns how many of each kind."""
    kinds = ["correct", "torch", "partly_wrong", "torch", "correct_nb", "broken"]
    kinds += ["torch", "float32", "correct", "torch", "correct_nb", "partly_wrong"]
    counts: dict[str, int] = {}
    for i in range(students):
        kind = "hang" if i in (students // 3, 2 * students // 3) else kinds[i % len(kinds)]
        counts[kind] = counts.get(kind, 0) + 1
        name = f"student{i:03d}"
        marker = f"\n# {name}\n"  # every file different, as students' files are
        if kind == "correct_nb":  # a folder per student, holding a notebook
            (root / name).mkdir()
            shutil.copy(SHEET2 / "correct.ipynb", root / name / "sheet2.ipynb")
            continue
        source = {
            "correct": "correct.py",
            "torch": "correct_torch.py",
            "float32": "correct_float32.py",
            "partly_wrong": "partly_wrong.py",
            "broken": "broken.py",
            "hang": "correct.py",
        }[kind]
        text = (SHEET2 / source).read_text(encoding="utf-8") + marker
        if kind == "hang":
            text += HANG
        (root / f"{name}.py").write_text(text, encoding="utf-8")
    return counts


def timed(args: list[str | Path]) -> float:
    cmd = [sys.executable, "-m", "grader", *map(str, args)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=62, help="submissions (default 62)")
    parser.add_argument("--timeout", type=float, default=2.0, help="per-call limit (default 2 s)")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (medians)")
    args = parser.parse_args()
    if args.students < 12 or args.rounds < 1:
        parser.error("--students must be at least 12, --rounds at least 1")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    one: list[float] = []
    two: list[float] = []
    sharded: list[list[float]] = []  # per round: the three shards, then the merge
    with tempfile.TemporaryDirectory(prefix="batch-speed-") as tmp:
        work = Path(tmp)
        course = work / "course"
        course.mkdir()
        counts = build_course(course, args.students)
        shares = [sum(Shard(i, 3).holds(s.id) for s in discover(course, "2")) for i in (1, 2, 3)]
        batch = ["batch", course, "--sheet", "2", "--timeout", args.timeout, "--format", "json"]
        timed(["sheets"])  # warm the bytecode and file caches
        for r in range(args.rounds):  # interleaved, so the machine's noise hits all alike
            run = work / f"round{r}"
            run.mkdir()
            one.append(timed([*batch, "--jobs", 1, "--db", run / "j1.sqlite"]))
            two.append(
                timed([*batch, "--jobs", 2, "--db", run / "j2.sqlite", "--csv", run / "a.csv"])
            )
            books = [run / f"shard{i}.sqlite" for i in (1, 2, 3)]
            times = [
                timed([*batch, "--jobs", 2, "--shard", f"{i}/3", "--db", book])
                for i, book in zip((1, 2, 3), books, strict=True)
            ]
            times.append(timed(["merge", *books, "--db", run / "m.sqlite", "--csv", run / "m.csv"]))
            sharded.append(times)
            if (run / "m.csv").read_bytes() != (run / "a.csv").read_bytes():
                raise SystemExit("the merged CSV differs from the unsharded one")

    n = args.students
    mix = ", ".join(f"{v} {k}" for k, v in sorted(counts.items()))
    t1, t2 = statistics.median(one), statistics.median(two)
    ts = statistics.median(sum(times) for times in sharded)
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    print(f"course: {n} submissions of sheet 2 ({mix}); --timeout {args.timeout:g} s")
    print(
        f"machine: {cores} cores usable"
        + (f", load average now {load[0]:.1f}" if load else "")
        + f"; {args.rounds} round{'s' * (args.rounds != 1)}, medians"
    )
    print(f"--jobs 1            {t1:7.1f} s   {n / t1:5.2f} submissions/s   {_each(one)}")
    print(f"--jobs 2            {t2:7.1f} s   {n / t2:5.2f} submissions/s   {_each(two)}")
    speedup = t1 / t2
    verdict = "ok" if speedup >= GOAL_SPEEDUP else f"below the {GOAL_SPEEDUP:g}x goal"
    print(f"speed-up            {speedup:7.2f}x  ({verdict})")
    print(
        f"3 shards + merge    {ts:7.1f} s   (shares {'/'.join(map(str, shares))}; per round "
        + "; ".join(" + ".join(f"{t:.1f}" for t in times) for times in sharded)
        + " s, the last the merge)"
    )
    overhead = ts / t2 - 1
    goal = GOAL_SHARD_OVERHEAD
    verdict = "ok" if overhead <= goal else f"over the {goal:.0%} goal"
    print(f"against --jobs 2    {overhead:+7.1%}   ({verdict})")
    print("merged CSV equals the unsharded one: yes (every round)")


def _each(times: list[float]) -> str:
    return "(" + ", ".join(f"{t:.1f}" for t in times) + " s)" if len(times) > 1 else ""


if __name__ == "__main__":
    main()
