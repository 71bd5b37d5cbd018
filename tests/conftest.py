"""Shared helpers: run the real CLI in a subprocess, as TAs and CI do."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "submissions_example"


def run_grade(*args: str | Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "grader", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def grade_json(path: str | Path, sheet: str, *extra: str) -> dict:
    proc = run_grade(path, "--sheet", sheet, "--format", "json", *extra)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def submission(tmp_path):
    """Write a submission from dedented source and return its path."""

    def write(source: str, name: str = "submission.py") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(source), encoding="utf-8")
        return path

    return write


def by_function(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for check in report["checks"]:
        out.setdefault(check["function"], []).append(check)
    return out


def answer_from(impl, case) -> dict:
    """What the worker would send back for ``impl`` on ``case``, made in-process.

    The value goes through the real wire format, so tests see exactly the plain
    data the grader sees; an exception becomes the worker's error record.
    """
    import warnings

    import numpy as np

    from grader import wire

    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            value = impl(*case.args, **case.kwargs)
    except Exception as exc:
        builtin = next(c.__name__ for c in type(exc).__mro__ if c.__module__ == "builtins")
        error = {
            "kind": "exception",
            "type": type(exc).__name__,
            "builtin": builtin,
            "message": str(exc),
            "where": None,
        }
        return {"ok": False, "error": error}
    frame = wire.encode(value)
    (hlen,) = wire.HEADER.unpack(frame[: wire.HEADER.size])
    header = frame[wire.HEADER.size : wire.HEADER.size + hlen]
    return {"ok": True, "value": wire.decode(header, frame[wire.HEADER.size + hlen :])}


def grade_in_process(sheet, function: str, impl, run_seed: int = 0) -> dict:
    """Every check of ``function`` judged with ``impl`` as the student's code, no sandbox.

    Returns {check id: Verdict} using the runner's own judgement (first failing
    case decides; the first matching known mistake gives the hint).
    """
    from grader.runner import Verdict, judge_answer, truth

    verdicts = {}
    for exercise, check in sheet.iter_checks():
        if check.function != function:
            continue
        cid = sheet.check_id(exercise, check)
        verdict = Verdict("passed")
        for case in check.make_cases(check.seed(cid, run_seed)):
            found = judge_answer(check, case, truth(sheet, check, case), answer_from(impl, case))
            if found is not None:
                verdict = found
                break
        verdicts[cid] = verdict
    return verdicts


# ---- known mistakes, judged in process (no sandbox), as the runner would -------------------


def case_outcome(fn, case):
    """What ``fn`` gives on ``case``; a raised ValueError/TypeError/ZeroDivisionError becomes
    the runner's ``Raised``, so it compares with a truth that raises."""
    from grader.runner import Raised

    try:
        return fn(*case.args, **case.kwargs)
    except (ValueError, TypeError, ZeroDivisionError) as exc:
        return Raised(type(exc).__name__)


def check_cases(sheet, exercise, check, run_seeds=(0, 1, 2)) -> list:
    """A check's fixed cases, or its generated cases for each run seed."""
    if check.cases is not None:
        return check.make_cases(None)
    cid = sheet.check_id(exercise, check)
    return [case for seed in run_seeds for case in check.make_cases(check.seed(cid, seed))]


def mistake_verdicts(sheet, function: str, message: str, impl, run_seeds=(0, 1, 2)):
    """(ids of the checks of ``function`` that catch ``impl``, those whose hint is ``message``,
    those where only a truth that raises catches it). The hint follows the runner's rule: the
    first known mistake whose output the comparator accepts as the answer."""
    from grader.runner import Raised, truth

    caught, named, by_raise = set(), set(), set()
    for exercise, check in sheet.iter_checks():
        if check.function != function:
            continue
        cid = sheet.check_id(exercise, check)
        for case in check_cases(sheet, exercise, check, run_seeds):
            expected, wrong = truth(sheet, check, case), case_outcome(impl, case)
            if isinstance(expected, Raised) or isinstance(wrong, Raised):
                if expected == wrong:
                    continue
                caught.add(cid)
                if isinstance(expected, Raised):
                    by_raise.add(cid)
                continue
            if check.compare.judge(expected, wrong, public=False) is None:
                continue
            caught.add(cid)
            for mistake in check.mistakes:
                other = case_outcome(mistake.impl, case)
                if not isinstance(other, Raised) and check.compare.matches(other, wrong):
                    if mistake.message == message:
                        named.add(cid)
                    break
    return caught, named, by_raise
