"""How long grading one submission takes, end to end, against a baseline.

Times `grade EXAMPLE --sheet ID --format json` (process start to report, the
sandbox included) for each sheet's correct example, and in the same run a bare
`python -c "import numpy"` as the baseline. Runs are interleaved so that noise
from other work on the machine hits both alike; medians and ratios are printed.

    python benchmarks/grading_speed.py            # 9 rounds
    python benchmarks/grading_speed.py --rounds 21 --sheet 2
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "submissions_example"
GOAL_RATIO = 3.0


# As on a user's machine: bytecode caches are written once and used after (a shell
# with PYTHONDONTWRITEBYTECODE set would recompile every changed module each run).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, env=ENV)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--sheet", action="append", help="only these sheets (repeatable)")
    args = parser.parse_args()
    sheets = args.sheet or [
        d.name.removeprefix("sheet")
        for d in sorted(EXAMPLES.glob("sheet*"), key=lambda p: int(p.name[5:]))
        if (d / "correct.py").exists()
    ]
    baseline_cmd = [sys.executable, "-c", "import numpy"]
    script = Path(sys.executable).with_name("grade")  # what a TA runs, when installed
    grade = [str(script)] if script.exists() else [sys.executable, "-m", "grader"]
    commands = {
        s: [*grade, str(EXAMPLES / f"sheet{s}" / "correct.py"), "--sheet", s, "--format", "json"]
        for s in sheets
    }
    for cmd in [baseline_cmd, *commands.values()]:
        timed(cmd)  # warm the file and bytecode caches once
    baseline: list[float] = []
    runs: dict[str, list[float]] = {s: [] for s in sheets}
    for _ in range(args.rounds):
        baseline.append(timed(baseline_cmd))
        for s, cmd in commands.items():
            runs[s].append(timed(cmd))
    base = statistics.median(baseline)
    print(f"rounds: {args.rounds}  (medians; interleaved runs)  grading with: {' '.join(grade)}")
    print(f"baseline  python -c 'import numpy'   {base * 1000:7.0f} ms")
    for s in sheets:
        med = statistics.median(runs[s])
        ratio = med / base
        verdict = "ok" if ratio <= GOAL_RATIO else f"over the {GOAL_RATIO:g}x goal"
        print(
            f"sheet {s:<3} grade correct.py           {med * 1000:7.0f} ms  "
            f"{ratio:4.1f}x baseline  ({verdict})"
        )


if __name__ == "__main__":
    main()
