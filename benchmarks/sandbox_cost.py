"""What the sandbox adds to grading one submission, against a bare worker.

One round per method: start a worker, load sheet 2's correct example, make one
call, close (kill, remove cgroups and scratch). That is the sandbox's whole
per-submission life; the checks in between cost the same in every method.
Methods run interleaved in a shuffled order each round, so machine noise hits
all alike; medians, the added cost and the ratio are printed. The bare worker
is ``GRADER_ISOLATION=process`` (a plain process, rlimits and, as root, cgroups);
"process, no cgroups" is the barest there is.

    python benchmarks/sandbox_cost.py              # 15 rounds
    python benchmarks/sandbox_cost.py --rounds 41
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.isolation import Isolation, verified_isolation  # noqa: E402
from grader.loading import read_submission  # noqa: E402
from grader.sandbox import Worker  # noqa: E402

GOAL_MS = 150.0
EXAMPLE = ROOT / "submissions_example" / "sheet2" / "correct.py"
METHODS = {
    "bubblewrap": (Isolation("bubblewrap", True), "on"),
    "unshare": (Isolation("unshare", False), "on"),
    "process": (Isolation("process", False), "on"),
    "process, no cgroups": (Isolation("process", False), "off"),
}


def one_submission(method: Isolation, cgroups: str) -> dict[str, float]:
    """Seconds for each phase of one worker's life."""
    source = read_submission(EXAMPLE)
    load = {"op": "load", "filename": source.filename, "notebook": False, "cells": source.cells}
    call = {"op": "call", "function": "logcosh", "args": [0.5, 2.0], "kwargs": {}}
    os.environ["GRADER_CGROUPS"] = cgroups
    t0 = time.perf_counter()
    worker = Worker(method=method)
    worker.start()
    t1 = time.perf_counter()
    loaded = worker.request(load, 60)
    t2 = time.perf_counter()
    answered = worker.request(call, 60)
    t3 = time.perf_counter()
    worker.close()
    t4 = time.perf_counter()
    if loaded.status != "ok" or answered.status != "ok" or not answered.value.get("ok"):
        raise SystemExit(f"{method.method}: the worker failed: {loaded} {answered}")
    return {"start": t1 - t0, "load": t2 - t1, "call": t3 - t2, "close": t4 - t3, "total": t4 - t0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    available = verified_isolation()
    methods = METHODS
    if available.method != "bubblewrap":
        print(f"bubblewrap is not available here ({available.note}); nothing to measure")
        return
    times: dict[str, list[dict[str, float]]] = {name: [] for name in methods}
    for method, cgroups in methods.values():  # warm the page cache once
        one_submission(method, cgroups)
    for _ in range(args.rounds):
        order = list(methods)
        random.shuffle(order)
        for name in order:
            times[name].append(one_submission(*methods[name]))

    def median(name: str, phase: str) -> float:
        return statistics.median(t[phase] for t in times[name]) * 1000

    phases = ("start", "load", "call", "close", "total")
    print(f"one submission's worker life, median of {args.rounds} rounds (ms):")
    print(f"  {'method':22}" + "".join(f"{p:>9}" for p in phases))
    for name in methods:
        print(f"  {name:22}" + "".join(f"{median(name, p):9.1f}" for p in phases))
    bare, sandboxed = median("process", "total"), median("bubblewrap", "total")
    added = sandboxed - bare
    print(
        f"sandbox cost per submission: {added:+.1f} ms over a bare worker "
        f"({sandboxed:.1f} vs {bare:.1f} ms, ratio {sandboxed / bare:.2f}); "
        f"goal < {GOAL_MS:g} ms: {'met' if added < GOAL_MS else 'NOT met'}"
    )
    barest = median("process, no cgroups", "total")
    print(f"against the barest worker (no cgroups either): {sandboxed - barest:+.1f} ms")


if __name__ == "__main__":
    main()
