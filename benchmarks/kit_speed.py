"""How long a student's self-check takes with the kit, and how large each kit is.

For every sheet, builds that sheet's kit, installs it into a fresh virtual
environment (pip, offline: the dependencies are linked from this environment,
see ``grader.kit.install_offline``), and times the kit's
`grade correct.py --sheet ID --format json` (process start to report, sandbox
included) against a bare `python -c "import numpy"` of the same environment,
measured in the same run. Runs are interleaved so that noise from other work on
the machine hits both alike; medians and ratios are printed, with the wheel's size.

    python benchmarks/kit_speed.py            # 9 rounds
    python benchmarks/kit_speed.py --rounds 21 --sheet 9
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "submissions_example"
GOAL_RATIO = 3.0


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.decode()[-2000:]}")
    return elapsed


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from grader import kit, sheets

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--sheet", action="append", help="only these sheets (repeatable)")
    args = parser.parse_args()
    ids = args.sheet or sheets.available()
    with tempfile.TemporaryDirectory(prefix="kit-speed-") as tmp:
        work = Path(tmp)
        pythons, sizes = {}, {}
        for s in ids:
            wheel = kit.build([s], work / f"kit{s}")
            sizes[s] = wheel.stat().st_size
            pythons[s] = kit.install_offline(wheel, work / f"env{s}")
        baseline_cmd = [str(pythons[ids[0]]), "-c", "import numpy"]
        commands = {
            s: [
                str(pythons[s].with_name("grade")),
                str(EXAMPLES / f"sheet{s}" / "correct.py"),
                *("--sheet", s, "--format", "json"),
            ]
            for s in ids
        }
        for cmd in [baseline_cmd, *commands.values()]:
            timed(cmd, work)  # warm the file and bytecode caches once
        baseline: list[float] = []
        runs: dict[str, list[float]] = {s: [] for s in ids}
        for _ in range(args.rounds):
            baseline.append(timed(baseline_cmd, work))
            for s, cmd in commands.items():
                runs[s].append(timed(cmd, work))
    base = statistics.median(baseline)
    print(f"rounds: {args.rounds}  (medians; interleaved runs)  kit installed in a fresh venv")
    print(f"baseline  python -c 'import numpy'       {base * 1000:7.0f} ms")
    for s in ids:
        med = statistics.median(runs[s])
        ratio = med / base
        verdict = "ok" if ratio <= GOAL_RATIO else f"over the {GOAL_RATIO:g}x goal"
        print(
            f"sheet {s:<3} kit: grade correct.py       {med * 1000:7.0f} ms  "
            f"{ratio:4.1f}x baseline  ({verdict})  wheel {sizes[s] / 1024:5.0f} KiB"
        )


if __name__ == "__main__":
    main()
